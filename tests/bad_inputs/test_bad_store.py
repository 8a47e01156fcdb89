"""Bad stores and store names: integrity checks on load, safe names, stale temporaries, convert over a broken store.

Every corruption starts from the real embedded default store (``analog_root``), copied into a temporary data
root; a case is one line of a table. "Consistent" corruptions also rewrite the sha256 and row count recorded in
``meta.json``, as a careless tool would, so that the value checks, not only the hashes, are exercised.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.store import read_store, write_store
from predictbench.cli import main
from predictbench.paths import atomic_write_text, clean_stale_temporaries
from predictbench.types import DataFormatError

NAME = "nb201-analog/cifar10"


@pytest.fixture
def store(analog_root: Path, tmp_path: Path) -> Path:
    """A private copy of the real analog store under ``tmp_path/root``."""
    dest = tmp_path / "root" / NAME
    shutil.copytree(analog_root / NAME, dest)
    return dest


def _meta(store: Path) -> dict:
    return json.loads((store / "meta.json").read_text())


def _set_meta(store: Path, **changes: object) -> None:
    (store / "meta.json").write_text(json.dumps({**_meta(store), **changes}))


def _rewrite(store: Path, file: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Edit a table and record its new sha256 and row count in meta.json (a consistent-looking corruption)."""
    table = edit(pd.read_parquet(store / file))
    table.to_parquet(store / file, index=False)
    meta = _meta(store)
    meta["tables"][file] = {"sha256": hashlib.sha256((store / file).read_bytes()).hexdigest(), "rows": len(table)}
    (store / "meta.json").write_text(json.dumps(meta))


def _flip_bytes(path: Path, n: int = 400) -> None:
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.choice(np.arange(len(data) // 4, len(data) * 3 // 4), size=n, replace=False):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _shuffle(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def _set(column: str, value: float, rows: slice = slice(0, 5)) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[frame.index[rows], column] = value
        return frame

    return edit


def _metrics(edit: Callable[[list[dict]], list[dict]]) -> Callable[[Path], None]:
    return lambda s: _set_meta(s, metrics=edit(_meta(s)["metrics"]))


CORRUPTIONS: list[tuple[str, Callable[[Path], None], str]] = [
    # (id, corruption, the message must match this after "<file>: ")
    ("flipped-bytes", lambda s: _flip_bytes(s / "results.parquet"), r"results\.parquet: (content differs|unreadable)"),
    (
        "shuffled-archs",
        lambda s: pd.read_parquet(s / "archs.parquet").pipe(_shuffle).to_parquet(s / "archs.parquet"),
        r"archs\.parquet: content differs from the sha256",
    ),
    (
        "zeroed-sha256",
        lambda s: _set_meta(
            s,
            tables={
                **_meta(s)["tables"],
                "results.parquet": {**_meta(s)["tables"]["results.parquet"], "sha256": "0" * 64},
            },
        ),
        r"results\.parquet: content differs from the sha256",
    ),
    (
        "accuracy-x10",
        lambda s: _rewrite(s, "results.parquet", lambda f: f.assign(ptq_accuracy=f.ptq_accuracy * 10)),
        r"results\.parquet: .*'ptq_accuracy'.* above declared upper bound 100",
    ),
    (
        "nan-search-signal",
        lambda s: _rewrite(s, "results.parquet", _set("baseline_accuracy", np.nan)),
        r"results\.parquet: search metric 'baseline_accuracy' at fidelity 200 is NaN for 5 architecture",
    ),
    (
        "inf",
        lambda s: _rewrite(s, "results.parquet", _set("analog_drift_60_std", np.inf)),
        r"results\.parquet: .*'analog_drift_60_std' holds an infinite value",
    ),
    (
        "duplicate-rows",
        lambda s: _rewrite(s, "results.parquet", lambda f: pd.concat([f, f.iloc[:3]])),
        r"results\.parquet: results have 3 duplicate \(arch, seed, fidelity\) rows",
    ),
    (
        "wrong-fidelity",
        lambda s: _rewrite(s, "results.parquet", _set("fidelity", 12)),
        r"results\.parquet: results use undeclared fidelities \[12\]",
    ),
    (
        "undeclared-seed",
        lambda s: _rewrite(s, "results.parquet", _set("seed", 7)),
        r"results\.parquet: results use undeclared seeds \[7\]",
    ),
    (
        "arch-row-out-of-range",
        lambda s: _rewrite(s, "results.parquet", _set("arch_row", 99999)),
        r"results\.parquet: arch_row outside the 15625 rows",
    ),
    (
        "dropped-results-column",
        lambda s: _rewrite(s, "results.parquet", lambda f: f.drop(columns="qat_accuracy")),
        r"meta\.json: declared metrics \['qat_accuracy'\] have no column",
    ),
    (
        "duplicate-keys",
        lambda s: _rewrite(s, "archs.parquet", lambda f: f.assign(key=f.key.iloc[0])),
        r"archs\.parquet: duplicate key",
    ),
    ("empty-archs", lambda s: _rewrite(s, "archs.parquet", lambda f: f.iloc[:0]), r"archs\.parquet: no architectures"),
    (
        "empty-results",
        lambda s: _rewrite(s, "results.parquet", lambda f: f.iloc[:0]),
        r"results\.parquet: results table has no rows",
    ),
    (
        "row-count",
        lambda s: _set_meta(
            s, tables={**_meta(s)["tables"], "archs.parquet": {**_meta(s)["tables"]["archs.parquet"], "rows": 3}}
        ),
        r"archs\.parquet: 15625 rows, meta\.json records 3",
    ),
    (
        "unrecorded-table",
        lambda s: pd.DataFrame({"key": ["x"]}).to_parquet(s / "proxies.parquet"),
        r"proxies\.parquet: not recorded in meta\.json",
    ),
    ("missing-table", lambda s: (s / "results.parquet").unlink(), r"results\.parquet: missing"),
    (
        "old-format-no-hashes",
        lambda s: _set_meta(s, format_version=2),
        r"meta\.json: store format version 2 is not supported .*older stores record no table hashes",
    ),
    ("no-tables-entry", lambda s: _set_meta(s, tables=None), r"meta\.json: 'tables' must map each table file"),
    (
        "format-version-string",
        lambda s: _set_meta(s, format_version="2"),
        r"meta\.json: format_version must be an integer, got '2'",
    ),
    (
        "metric-without-name",
        _metrics(lambda ms: [{k: v for k, v in ms[0].items() if k != "name"}, *ms[1:]]),
        r"meta\.json: a metric declaration has no 'name'",
    ),
    (
        "fidelity-string",
        lambda s: _set_meta(s, search={"metric": "baseline_accuracy", "fidelity": "200"}),
        r"meta\.json: search fidelity must be an integer, got '200'",
    ),
    (
        "fidelities-string",
        lambda s: _set_meta(s, fidelities=["200"]),
        r"meta\.json: every entry of fidelities must be an integer, got '200'",
    ),
    (
        "name-not-folder",
        lambda s: _set_meta(s, name="nb201/cifar10"),
        r"meta\.json: names store 'nb201/cifar10', but lies in folder 'nb201-analog/cifar10'",
    ),
    ("name-is-a-path", lambda s: _set_meta(s, name="/tmp/x"), r"meta\.json: invalid store name '/tmp/x'"),
]


@pytest.mark.parametrize(("corrupt", "expected"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS])
def test_corrupted_store_is_refused_on_load(store: Path, corrupt: Callable[[Path], None], expected: str) -> None:
    pb.load(NAME, root=store.parents[1])  # intact before
    corrupt(store)
    with pytest.raises(DataFormatError, match=expected) as info:
        pb.load(NAME, root=store.parents[1])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(store)), message  # names the file
    assert "predictbench data convert analog-nasbench --force" in message


def test_cli_load_of_a_corrupt_store_exits_2_naming_force(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _flip_bytes(store / "results.parquet")
    with pytest.raises(SystemExit) as info:
        main(["data", "info", NAME, "--root", str(store.parents[1])])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "results.parquet" in err and "--force" in err


def test_verify_false_skips_hashes_but_not_structure(store: Path) -> None:
    _set_meta(
        store,
        tables={
            **_meta(store)["tables"],
            "results.parquet": {**_meta(store)["tables"]["results.parquet"], "sha256": "0" * 64},
        },
    )
    assert len(pb.load(NAME, root=store.parents[1], verify=False)) == 15625
    (store / "archs.parquet").unlink()
    with pytest.raises(DataFormatError, match="archs.parquet: missing"):
        pb.load(NAME, root=store.parents[1], verify=False)


def test_content_hashes_are_stable_across_conversions(analog_root: Path, tmp_path: Path) -> None:
    from predictbench.benchmarks.convert.analog import convert

    again = convert(root=tmp_path, force=True)[0]
    first, second = read_store(analog_root / NAME).meta, read_store(again).meta
    assert first.tables == second.tables and set(first.tables) == {"archs.parquet", "results.parquet"}
    assert first.content_sha256 == second.content_sha256


# ------------------------------------------------------------------------------------------------
# store names: never a path outside the data root
# ------------------------------------------------------------------------------------------------

BAD_NAMES = ["/{victim}", "../../x", "nb201/../../x", "nb201", "a/b/c", ".hidden/x", "a/.b", "a\\b/c", "", "a/ b"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n) for n in BAD_NAMES])
def test_writer_refuses_store_names_that_are_paths(store: Path, tmp_path: Path, name: str) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    original = read_store(store)
    root = tmp_path / "data" / "root"
    meta = pb.benchmarks.store.StoreMeta(**{**original.meta.__dict__, "name": name.format(victim=victim)})
    with pytest.raises((ValueError, DataFormatError), match="invalid store name"):
        write_store(root, meta, original.archs, original.results)
    assert (victim / "keep.txt").read_text() == "mine" and sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert not (tmp_path / "x").exists() and not (tmp_path / "data" / "x").exists()
    assert not root.exists() or not any(root.rglob("*.parquet"))


def _table_spec(folder: Path, name: str) -> Path:
    table = folder / "table.csv"
    pd.DataFrame({"index": [0, 1, 2], "acc": [70.0, 80.0, 90.0]}).to_csv(table, index=False)
    spec = folder / "spec.toml"
    spec.write_text(
        f'name = "{name}"\nspace = "nb201"\nsource = "{table}"\nkey_column = "index"\nkey_kind = "index"\n'
        'fidelity = 200\n\n[metrics.acc]\nhigher_is_better = true\nunit = "%"\nlower = 0\nupper = 100\n'
    )
    return spec


@pytest.mark.parametrize(
    "name", ["{victim}", "../../x", "nb201/../x", "single"], ids=["absolute", "up", "inner", "one"]
)
def test_table_spec_name_cannot_replace_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    spec = _table_spec(tmp_path, name.format(victim=victim))
    root = tmp_path / "a" / "b" / "root"
    with pytest.raises(SystemExit) as info:
        main(["data", "convert", "table", str(spec), "--root", str(root)])
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "invalid store name" in err and "data convert table" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert not root.exists() and not (tmp_path / "x").exists() and not (tmp_path / "a" / "x").exists()


def test_table_spec_with_a_good_name_converts(tmp_path: Path) -> None:
    root = tmp_path / "root"
    with pytest.raises(SystemExit) as info:
        main(["data", "convert", "table", str(_table_spec(tmp_path, "mine/c10")), "--root", str(root)])
    assert info.value.code == 0
    assert pb.load("mine/c10", root=root).best("acc") == (pb.load("mine/c10", root=root).keys()[2], 90.0)


def test_load_refuses_path_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid store name '/etc/x'"):
        pb.load("/etc/x", root=tmp_path)


# ------------------------------------------------------------------------------------------------
# temporaries of killed writers
# ------------------------------------------------------------------------------------------------


def _dead_pid() -> int:
    code = "import os; print(os.getpid())"
    child = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(child.stdout)


def test_stale_temporaries_are_cleaned_live_ones_kept(store: Path) -> None:
    dead, live = _dead_pid(), os.getppid()
    parent = store.parent
    stale = [parent / f".cifar10.{dead}.abc123.tmp", parent / f".cifar10.old-{dead}"]
    alive = [parent / f".cifar10.{live}.xyz789.tmp", parent / f".cifar10.old-{live}"]
    other = parent / f".cifar100.{dead}.abc123.tmp"  # another store's temporary
    for folder in [*stale, *alive, other]:
        folder.mkdir()
        (folder / "meta.json").write_text("{}")
    original = read_store(store)
    write_store(store.parents[1], original.meta, original.archs, original.results)
    left = sorted(p.name for p in parent.iterdir())
    assert left == sorted(["cifar10", *(p.name for p in alive), other.name])
    assert len(pb.load(NAME, root=store.parents[1])) == 15625


def test_crash_between_renames_restores_the_previous_store(store: Path) -> None:
    """Killed after moving the store aside and before renaming the new one in: the next write restores it."""
    dead = _dead_pid()
    aside = store.with_name(f".cifar10.old-{dead}")
    store.rename(aside)
    (store.parent / f".cifar10.{dead}.abc.tmp").mkdir()
    clean_stale_temporaries(store)
    assert [p.name for p in store.parent.iterdir()] == ["cifar10"]
    assert len(pb.load(NAME, root=store.parents[1])) == 15625


def test_file_temporaries_carry_the_pid(tmp_path: Path) -> None:
    dead = _dead_pid()
    (tmp_path / f".r.jsonl.{dead}.q1.tmp").write_text("partial")
    atomic_write_text(tmp_path / "r.jsonl", "x\n")
    assert [p.name for p in tmp_path.iterdir()] == ["r.jsonl"]


# ------------------------------------------------------------------------------------------------
# convert over a broken store; converter errors; help; --root; best()
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "corrupt",
    [lambda s: _flip_bytes(s / "results.parquet"), lambda s: _set_meta(s, format_version=2)],
    ids=["flipped-bytes", "old-format"],
)
def test_convert_without_force_rewrites_a_broken_store(
    store: Path, caplog: pytest.LogCaptureFixture, corrupt: Callable[[Path], None]
) -> None:
    corrupt(store)
    with pytest.raises(SystemExit) as info:
        main(["data", "convert", "analog-nasbench", "--root", str(store.parents[1])])
    assert info.value.code == 0
    assert "converting again" in caplog.text
    assert len(pb.load(NAME, root=store.parents[1])) == 15625


def test_convert_of_wrong_files_names_the_converter_and_expected_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "junk.txt").write_text("junk")
    with pytest.raises(SystemExit) as info:
        main(["data", "convert", "nb201-tables", str(tmp_path / "src"), "--root", str(tmp_path / "root")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Errno" not in err
    assert "data convert nb201-tables: expected the input file nb201/" in err and str(tmp_path / "src") in err
    assert not (tmp_path / "root").exists()


def test_convert_help_lists_every_converter() -> None:
    from typer.testing import CliRunner

    from predictbench.benchmarks.convert import CONVERTERS
    from predictbench.cli import app

    text = " ".join(CliRunner(env={"COLUMNS": "300"}).invoke(app, ["data", "convert", "--help"]).output.split())
    missing = [name for name in CONVERTERS.names() if name not in text]
    assert not missing


def test_root_option_is_the_data_folder_of_the_nb101_cell_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from predictbench.benchmarks.convert import analog
    from predictbench.spaces import nb101

    seen: list[Path] = []
    monkeypatch.setattr(analog, "convert", lambda *a, **k: seen.append(nb101.cell_table_path()) or [])
    monkeypatch.delenv("PREDICTBENCH_DATA", raising=False)
    with pytest.raises(SystemExit):
        main(["data", "convert", "analog-nasbench", "--root", str(tmp_path / "elsewhere")])
    assert seen == [tmp_path / "elsewhere" / "spaces" / "nb101_cells.parquet"]


def test_best_is_a_named_tuple(analog_root: Path) -> None:
    bench = pb.load(NAME, root=analog_root)
    best = bench.best("baseline_accuracy")
    key, value = best
    assert (best.key, best.value) == (key, value) and value == np.nanmax(bench.column("baseline_accuracy"))
