"""index.html of real reports (small studies on the embedded analog store): structure, escaping, and rendering in
headless Chromium (skipped when /usr/bin/chromium is absent; CI installs Debian's ``chromium`` package)."""

from __future__ import annotations

import base64
import json
import re
import struct
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import predictbench as pb
from predictbench.predictors.baselines import RandomPredictor, RidgePredictor
from predictbench.report import predictor_report, search_report
from predictbench.studies import PredictorStudy, read_results
from predictbench.studies.results import store_digest, store_provenance
from predictbench.studies.search_study import SearchStudy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
ODD_NAME = 'ridge <b>"10"</b> & co'  # a predictor label that must come out escaped


class Page(HTMLParser):
    """What a browser would show of a page: tables (rows of cell texts), images, tags, text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.images: list[dict[str, str]] = []
        self.tags: list[str] = []
        self.meta: list[dict[str, str]] = []
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in {"td", "th"}:
            self._cell = []
        elif tag == "img":
            self.images.append(values)
        elif tag == "meta":
            self.meta.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def markdown_tables(text: str) -> list[list[list[str]]]:
    """The GitHub tables of a Markdown text as rows of cell texts (without the alignment rule)."""
    tables = []
    for chunk in text.split("\n\n"):
        lines = chunk.strip().splitlines()
        if lines and all(line.startswith("|") for line in lines):
            rows = [line for i, line in enumerate(lines) if i != 1]
            tables.append([[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows])
    return tables


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> Any:
    return pb.load("nb201-analog/cifar10", root=analog_root)


@pytest.fixture(scope="module")
def predictor_dir(bench: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("predictor-report")
    predictors = {"ridge": RidgePredictor(), "random": RandomPredictor(), ODD_NAME: RidgePredictor(alpha=10.0)}
    study = PredictorStudy(bench, predictors, results=tmp / "r.jsonl", train_sizes=(10, 40), seeds=6, test_size=100)
    records = study.run().assign(**store_provenance(bench))  # the field studies record (see results.py)
    return predictor_report(records, tmp / "report", title="Predictors <on> analog")


@pytest.fixture(scope="module")
def search_dir(analog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("search-report")
    searchers = {"random": {}, "rea": ("evolution", {"population_size": 10, "sample_size": 3})}
    study = SearchStudy("nb201-analog/cifar10", searchers, results=tmp / "s.jsonl", budget=25, seeds=6,
                        root=analog_root)  # fmt: skip
    return search_report(study.run(), tmp / "report", title="Searchers on analog")


@pytest.fixture(params=["predictor", "search"])
def report_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(f"{request.param}_dir")


def test_html_shows_the_same_tables_as_the_markdown(report_dir: Path) -> None:
    page = Page((report_dir / "index.html").read_text(encoding="utf-8"))
    tables = markdown_tables((report_dir / "README.md").read_text(encoding="utf-8"))
    assert len(tables) >= 4
    assert page.tables == tables


def test_html_is_self_contained(report_dir: Path) -> None:
    text = (report_dir / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    markdown = (report_dir / "README.md").read_text(encoding="utf-8")
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown)
    assert len(page.images) == len(figures) >= 2
    for image, figure in zip(page.images, figures, strict=True):
        prefix = "data:image/png;base64,"
        assert image["src"].startswith(prefix)
        png = base64.b64decode(image["src"][len(prefix) :], validate=True)
        assert png == (report_dir / figure).read_bytes()
        assert (int(image["width"]), int(image["height"])) == struct.unpack(">II", png[16:24])
    outside_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"https?:|//[a-z]|url\(|@import", outside_images, flags=re.IGNORECASE)
    assert not {"script", "link", "iframe", "object"} & set(page.tags)
    policy = [m["content"] for m in page.meta if m.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; img-src data:; style-src 'unsafe-inline'"]


def test_names_are_escaped(predictor_dir: Path) -> None:
    text = (predictor_dir / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert "b" not in page.tags  # the <b> in the label is text, not markup
    assert "<title>Predictors &lt;on&gt; analog</title>" in text
    labels = [row[0] for table in page.tables for row in table]
    assert ODD_NAME in labels
    assert "ridge &lt;b&gt;&quot;10&quot;&lt;/b&gt; &amp; co" in text


def test_significance_and_provenance_in_both_formats(predictor_dir: Path, bench: Any) -> None:
    markdown = (predictor_dir / "README.md").read_text(encoding="utf-8")
    page = Page((predictor_dir / "index.html").read_text(encoding="utf-8"))
    shown = " ".join(page.text)
    tables = markdown_tables(markdown)
    test = next(t for t in tables if t[0][:2] == ["on", "pairs"])
    assert test[0] == ["on", "pairs", "wins/ties/losses", "median difference", "W", "p-value"]
    assert [row[0] for row in test[1:]] == ["AUC", "n=10", "n=40"]
    assert all(row[1] == "6" for row in test[1:])
    board = markdown_tables(markdown)[0]
    first, second = board[1][0], board[2][0]
    assert {first, second} == {"ridge", ODD_NAME}  # both ridges beat a random ranking
    records = read_results(predictor_dir.parent / "r.jsonl")
    tau = records.pivot_table(index="seed", columns=["predictor", "train_size"], values="kendall_tau")
    auc = {name: (tau[name, 10] + tau[name, 40]) / 2 for name in (first, second)}  # trapezoid over 2 log-sizes
    expected = stats.wilcoxon(auc[first] - auc[second])
    assert test[1][4] == f"{expected.statistic:.1f}" and test[1][5] == f"{expected.pvalue:.3g}"
    digest = store_digest(bench)
    assert f"- store sha256 (nb201-analog/cifar10): `{digest}`" in markdown and digest in shown
    assert "- seeds: 0..5 (6 seeds)" in markdown and "0..5 (6 seeds)" in shown
    assert re.search(r"^- command: `.*pytest.*`$", markdown, flags=re.MULTILINE)
    configs = next(t for t in tables if t[0] == ["predictor", "component", "parameters", "varies per cell"])
    assert ["random", "RandomPredictor", "{}", "seed"] in configs
    assert [ODD_NAME, "RidgePredictor", json.dumps({"alpha": 10.0, "encoding": "onehot"}), ""] in configs


def test_search_report_ranks_and_compares(search_dir: Path) -> None:
    markdown = (search_dir / "README.md").read_text(encoding="utf-8")
    board = markdown_tables(markdown)[0]
    assert board[0][:3] == ["searcher", "rank", "runs"] and board[0][-1] == "T=25"
    assert sorted(row[1] for row in board[1:]) == ["1", "2"]
    test = next(t for t in markdown_tables(markdown) if t[0][:2] == ["on", "pairs"])
    assert [row[0] for row in test[1:]] == ["T=10", "T=20", "T=25"]
    p_values = [float(row[5]) for row in test[1:]]
    assert all(0.0 < p <= 1.0 for p in p_values)
    assert "![Fraction of runs that reached the optimum within q queries](queries_to_optimum.png)" in markdown


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


PROBE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body><pre id="result">not loaded</pre>
<iframe id="report" src="{url}" width="1280" height="2000"></iframe>
<script>
document.getElementById("report").addEventListener("load", () => {{
  const doc = document.getElementById("report").contentDocument;
  const tables = Array.from(doc.querySelectorAll("table")).map(
    t => Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.textContent)));
  const images = Array.from(doc.images).map(
    i => ({{complete: i.complete, width: i.naturalWidth, height: i.naturalHeight, shown: i.clientWidth}}));
  document.getElementById("result").textContent = JSON.stringify({{tables: tables, images: images}});
}});
</script></body></html>
"""


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found (Debian: apt-get install -y chromium)")
def test_chromium_renders_tables_and_images(report_dir: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.format(url=(report_dir / "index.html").as_uri()), encoding="utf-8")
    dumped = run_chromium(
        tmp_path / "profile", "--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom",
        probe.as_uri(),
    )  # fmt: skip
    found = re.search(r'<pre id="result">(.*?)</pre>', dumped.stdout, flags=re.DOTALL)
    assert found, f"chromium printed no DOM (rc={dumped.returncode}): {dumped.stderr[-2000:]}"
    seen = json.loads(unescape(found.group(1)))
    markdown = (report_dir / "README.md").read_text(encoding="utf-8")
    assert [[[c.strip() for c in row] for row in table] for table in seen["tables"]] == markdown_tables(markdown)
    pngs = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown)
    sizes = [struct.unpack(">II", (report_dir / name).read_bytes()[16:24]) for name in pngs]
    assert [(i["width"], i["height"]) for i in seen["images"]] == sizes  # every image decoded at its size
    assert all(i["complete"] and i["shown"] > 0 for i in seen["images"])

    screenshot = tmp_path / "shot.png"
    shot = run_chromium(
        tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000", "--hide-scrollbars",
        (report_dir / "index.html").as_uri(),
    )  # fmt: skip
    assert screenshot.is_file(), f"no screenshot (rc={shot.returncode}): {shot.stderr[-2000:]}"
    import matplotlib.image

    pixels = np.asarray(matplotlib.image.imread(screenshot))[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels.std() > 0.05 and (pixels.min(axis=2) < 0.9).mean() > 0.01  # text, rules and plots, not blank
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 0.3  # plot lines and bands; tables are grey
    assert coloured.sum() > 1000


def test_empty_records_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no records"):
        predictor_report(pd.DataFrame(columns=["predictor", "train_size", "kendall_tau"]), tmp_path)
