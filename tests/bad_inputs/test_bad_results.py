"""Bad inputs around results files: concurrent writers, duplicate and unfinished records, changed settings on
resume, pooled reports, strict JSON, orphaned workers, and one-line errors of `predictbench report` and --results.

Every case runs the real thing: studies on the embedded default store (`analog_root`), stores written by the
project's converters, the real CLI entry point, and real processes for locks and worker clean-up.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from predictbench.predictors import make_predictor
from predictbench.studies import PredictorStudy, ResultsFile, read_results
from predictbench.studies.results import SettingsMismatchError
from predictbench.studies.search_study import SearchStudy

BENCH = "nb201-analog/cifar10"
WAIT_SECONDS = 60  # an upper bound on waiting for another process, never a timing assertion


def _search(root: Path, results: Path, *, seeds: int = 2, budget: int = 10, name: str = "s", **kw: Any) -> pd.DataFrame:
    searchers = kw.pop("searchers", {"random": {}, "local": {}})
    study = SearchStudy(BENCH, searchers, results=results, budget=budget, seeds=seeds, root=root, name=name, **kw)
    return study.run()


def _predict(root: Path, results: Path, alpha: float = 1.0, seeds: int = 2) -> pd.DataFrame:
    import predictbench as pb

    bench = pb.load(BENCH, root=root)
    predictors = {"ridge": make_predictor("ridge", alpha=alpha)}
    return PredictorStudy(bench, predictors, results=results, train_sizes=(20,), seeds=seeds, test_size=50).run()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def search_file(analog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real search-study results file: random and local x 2 seeds (4 records)."""
    path = tmp_path_factory.mktemp("search") / "search.jsonl"
    _search(analog_root, path)
    return path


@pytest.fixture(scope="module")
def predictor_file(analog_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real predictor-study results file: ridge at n=20 x 2 seeds (2 records)."""
    path = tmp_path_factory.mktemp("predict") / "predict.jsonl"
    _predict(analog_root, path)
    return path


# 1. a second writer of one results file is refused while the first holds it ------------------------------------

HOLD = "from predictbench.studies import ResultsFile; import sys, time\nwith ResultsFile(sys.argv[1]).locked():\n"
HOLD += "    print('locked', flush=True); time.sleep(120)\n"

SECOND_WRITERS = [
    pytest.param(["search", "-s", "random", "--seeds", "3", "--budget", "10"], id="search"),
    pytest.param(["predict", "-p", "ridge", "--sizes", "20", "--seeds", "3", "--test-size", "50"], id="predict"),
]


@pytest.mark.parametrize("args", SECOND_WRITERS)
def test_second_writer_is_refused_naming_the_file_and_pid(
    args: list[str], analog_root: Path, search_file: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    results = tmp_path / "shared.jsonl"
    shutil.copy(search_file, results)
    before = results.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(results)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, err = run_cli(*args, "--root", str(analog_root), "--results", str(results))
    finally:
        holder.kill()
        holder.wait()
    assert code == 2
    assert f"{results} is being written by another study (PID {holder.pid})" in err
    assert results.read_bytes() == before  # nothing appended, nothing cut
    code, _ = run_cli(*args, "--root", str(analog_root), "--results", str(results))  # the holder died
    assert code == 0 and len(_lines(results)) > len(before.splitlines())


# 2. duplicate records of one grid cell count once (report and resume) -------------------------------------------


def test_duplicate_records_count_once_in_report_and_resume(
    analog_root: Path, search_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    results = tmp_path / "dup.jsonl"
    results.write_text(search_file.read_text() * 3)  # what two concurrent writers used to leave
    with caplog.at_level(logging.WARNING):
        frame = read_results(results)
    assert len(frame) == 4 and frame.groupby("searcher").size().to_dict() == {"local": 2, "random": 2}
    warnings = [r.getMessage() for r in caplog.records if "duplicate" in r.getMessage()]
    assert warnings == [f"{results}: ignoring 8 duplicate record(s) of grid cells recorded before (first kept)"]
    assert len(_search(analog_root, results)) == 4  # resume: nothing reruns, the study returns each run once
    assert len(_lines(results)) == 12


# 3. reader and writer agree on the last line -----------------------------------------------------------------

LAST_LINES: list[tuple[str, Callable[[str], str], int]] = [
    ("complete-record-without-newline", lambda text: text.rstrip("\n"), 4),
    ("torn-record", lambda text: text + '{"study": "s", "benchmark": "nb', 4),
    ("complete-record-and-blank-tail", lambda text: text.rstrip("\n") + "\n\n", 4),
]


@pytest.mark.parametrize(("change", "recorded"), [(c, n) for _, c, n in LAST_LINES], ids=[i for i, _, _ in LAST_LINES])
def test_last_line_is_read_and_appended_alike(
    change: Callable[[str], str], recorded: int, analog_root: Path, search_file: Path, tmp_path: Path
) -> None:
    results = tmp_path / "last.jsonl"
    results.write_text(change(search_file.read_text()))
    assert len(ResultsFile(results).records()) == recorded
    frame = _search(analog_root, results, seeds=3)  # resumes: only seed 2 runs
    assert len(frame) == 6
    records = [json.loads(line) for line in _lines(results) if line.strip()]  # every line a finished record
    assert len(records) == 6 and sorted((r["searcher"], r["seed"]) for r in records)[:2] == [("local", 0), ("local", 1)]


# 4. a training size beyond the cells with a finite target fails before anything runs -------------------------


@pytest.fixture(scope="module")
def nan_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store (table converter) of 400 NB201 cells whose `latency` is missing for every fourth (300 finite)."""
    from predictbench.benchmarks.convert.table import convert

    folder = tmp_path_factory.mktemp("nan-store")
    rng = np.random.default_rng(0)
    latency = rng.uniform(1, 10, 400)
    latency[::4] = np.nan
    table = folder / "table.csv"
    pd.DataFrame({"index": np.arange(400), "acc": rng.uniform(80, 95, 400), "lat": latency}).to_csv(table, index=False)
    metrics = {
        "acc": {"higher_is_better": True, "unit": "%", "column": "acc"},
        "latency": {"higher_is_better": False, "unit": "ms", "column": "lat", "kind": "cost"},
    }
    convert(table, root=folder / "data", name="tiny/nan", space="nb201", key_column="index", key_kind="index",
            metrics=metrics, fidelity=200, search=("acc", 200), report=("acc", 200))  # fmt: skip
    return folder / "data"


@pytest.mark.parametrize(("sizes", "fails"), [("50,100", False), ("100,150", True), ("101", True)])
def test_train_size_beyond_the_finite_target_cells(
    sizes: str, fails: bool, nan_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    results = tmp_path / "p.jsonl"
    args = ["predict", "-b", "tiny/nan", "--root", str(nan_root), "--target", "latency", "-p", "ridge"]
    code, err = run_cli(*args, "--sizes", sizes, "--seeds", "1", "--test-size", "200", "--results", str(results))
    if not fails:
        assert code == 0 and {r["train_size"] for r in map(json.loads, _lines(results))} == {50, 100}
        return
    assert code == 2 and not results.exists()
    size = max(int(s) for s in sizes.split(","))
    assert (
        f"train size {size} exceeds the 100 cells left for training: 300 of 400 cells of tiny/nan have a finite "
        "latency@200, minus test_size=200" in err
    )


# 5. resume refuses records of other settings; reports never pool them ---------------------------------------


def _other_options(root: Path, results: Path) -> None:
    _search(root, results, searchers={"evo": ("evolution", {"population_size": 10})})


def _table_store(results: Path, scale: float) -> Path:
    """A whole-NB201 store written by the table converter, its accuracies times ``scale``; returns its data root."""
    from predictbench.benchmarks.convert.table import convert

    root, table = results.parent / "data-table", results.parent / f"table-{scale}.csv"
    accuracy = np.random.default_rng(0).uniform(80, 95, 15625) * scale
    pd.DataFrame({"index": np.arange(15625), "acc": accuracy}).to_csv(table, index=False)
    metrics = {"acc": {"higher_is_better": True, "unit": "%", "column": "acc"}}
    convert(table, root=root, name="tiny/full", space="nb201", key_column="index", key_kind="index", metrics=metrics,
            fidelity=200, search=("acc", 200), report=("acc", 200), force=True)  # fmt: skip
    return root


def _on_table_store(results: Path, scale: float) -> None:
    root = _table_store(results, scale)
    SearchStudy("tiny/full", {"evo": ("evolution", {})}, results=results, budget=10, seeds=2, root=root, name="s").run()


def _other_store(root: Path, results: Path) -> None:
    _on_table_store(results, 10.0)  # the store converted again from other values (93 -> 930)


def _other_params(root: Path, results: Path) -> None:
    _predict(root, results, alpha=10.0)


RESUMES = [
    ("search-options", lambda root, r: _search(root, r, searchers={"evo": ("evolution", {"population_size": 20})}),
     _other_options, "searcher 'evo'", "options.population_size 20 vs 10"),
    ("search-store", lambda root, r: _on_table_store(r, 1.0), _other_store, "searcher 'evo'", "store digest"),
    ("predictor-params", _predict, _other_params, "predictor 'ridge'", "params.alpha 1.0 vs 10.0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "label", "difference"), [c[1:] for c in RESUMES], ids=[c[0] for c in RESUMES]
)
def test_resume_with_other_settings_is_refused_and_reports_do_not_pool(
    first: Callable[[Path, Path], Any],
    second: Callable[[Path, Path], Any],
    label: str,
    difference: str,
    analog_root: Path,
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str]],
) -> None:
    results = tmp_path / "r.jsonl"
    first(analog_root, results)
    before = results.read_bytes()
    with pytest.raises(SettingsMismatchError) as info:
        second(analog_root, results)
    message = str(info.value)
    assert message.startswith(f"{results} holds {label}") and difference in message
    assert message.endswith("use another results file (or --name) for these settings")
    assert results.read_bytes() == before
    # a file that mixes them anyway (older versions wrote it) is refused by the report, nothing written
    other = tmp_path / "other.jsonl"
    second(analog_root, other)
    mixed = tmp_path / "mixed.jsonl"  # seed 0 of the first setting, seed 1 of the second
    lines = [line for line in _lines(results) if json.loads(line)["seed"] == 0]
    lines += [line for line in _lines(other) if json.loads(line)["seed"] == 1]
    mixed.write_text("".join(line + "\n" for line in lines))
    code, err = run_cli("report", str(mixed), "--out", str(tmp_path / "rep"))
    assert code == 2 and f"{mixed}: {label}" in err and "has records of different settings" in err
    assert not (tmp_path / "rep").exists()


# 6. one report per benchmark, budget and study; never pooled ----------------------------------------------


def test_report_splits_budgets_and_studies_into_sections(
    analog_root: Path, search_file: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    results = tmp_path / "many.jsonl"
    shutil.copy(search_file, results)
    _search(analog_root, results, budget=15)  # another budget
    _search(analog_root, results, name="other")  # another study
    out = tmp_path / "rep"
    code, _ = run_cli("report", str(results), "--out", str(out))
    assert code == 0
    index = (out / "README.md").read_text()
    rows = [line for line in index.splitlines() if line.startswith("| ") and "README.md" in line]
    assert len(rows) == 3
    for folder in ("s_nb201-analog-cifar10_T10", "s_nb201-analog-cifar10_T15", "other_nb201-analog-cifar10_T10"):
        text = (out / folder / "README.md").read_text()
        assert "| random | " in text
        assert re.search(r"\| random \| \d \| 2 \|", text), folder  # 2 runs each, never the pooled 6


@pytest.mark.shared_data
def test_report_splits_benchmarks(
    nb201_tables_root: Path, analog_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    results = tmp_path / "two.jsonl"
    for bench, root in (("nb201/cifar10", nb201_tables_root), (BENCH, analog_root)):
        SearchStudy(bench, {"random": {}}, results=results, budget=10, seeds=2, root=root, name="s").run()
    out = tmp_path / "rep"
    code, _ = run_cli("report", str(results), "--out", str(out))
    assert code == 0
    for folder in ("s_nb201-cifar10_T10", "s_nb201-analog-cifar10_T10"):
        assert re.search(r"\| random \| \d \| 2 \|", (out / folder / "README.md").read_text()), folder


# 7. strict JSON: NaN is written as null and read back as NaN ------------------------------------------------


def _no_constants(name: str) -> None:
    raise ValueError(f"non-standard JSON token {name}")


def test_nan_is_written_as_null_and_read_as_nan(tmp_path: Path) -> None:
    results = tmp_path / "nan.jsonl"
    record = {"study": "s", "benchmark": "b", "searcher": "x", "budget": 2, "seed": 0, "final": float("nan"),
              "curve": [0.5, float("nan")], "front": [[1.0, np.float32("nan")]], "inf": np.inf}  # fmt: skip
    ResultsFile(results).append(record)
    stored = json.loads(_lines(results)[0], parse_constant=_no_constants)
    assert stored["final"] is None and stored["curve"] == [0.5, None] and stored["inf"] is None
    frame = read_results(results)
    assert math.isnan(frame["final"][0]) and frame["final"].dtype == float
    assert frame["curve"][0][0] == 0.5 and math.isnan(frame["curve"][0][1]) and math.isnan(frame["front"][0][0][1])


@pytest.mark.shared_data
def test_multiobjective_records_are_strict_json(nb201_tables_root: Path, tmp_path: Path) -> None:
    from predictbench.multiobjective.study import MultiObjectiveStudy

    results = tmp_path / "mo.jsonl"
    study = MultiObjectiveStudy("nb201/cifar10", {"random": {}}, results=results, budget=30, seeds=2,
                                objectives=["valid_acc@12", "edgetpu_latency"], root=nb201_tables_root)  # fmt: skip
    study.run()
    records = [json.loads(line, parse_constant=_no_constants) for line in _lines(results)]
    assert any(None in (v for row in r["history_report"] for v in row) for r in records)  # cells without latency
    history = study.records()["history_report"]
    assert any(np.isnan(np.asarray(h, dtype=float)).any() for h in history)


# 8. one-line errors of `report` and of --results; nothing written ----------------------------------------------

REPORT_INPUTS: list[tuple[str, Callable[[Path, Path, Path], list[Path]], str]] = [
    ("two-kinds", lambda d, s, p: [p, s], "the results hold records of different kinds: predictor study ({0}), "
     "search study ({1}); report each kind on its own"),
    ("no-study-fields", lambda d, s, p: [_write(d / "a.jsonl", '{"a": 1}\n')],
     "{0}: record 1 is not a study record"),
    ("array-line", lambda d, s, p: [_write(d / "a.jsonl", s.read_text() + "[1, 2]\n" + s.read_text())],
     "{0}:5: expected a JSON object per line, got a list"),
    ("empty-file", lambda d, s, p: [_write(d / "a.jsonl", "")], "no records in {0}"),
    ("folder", lambda d, s, p: [d], "{0} is a folder; expected a JSON-lines file"),
    ("missing", lambda d, s, p: [d / "missing.jsonl"], "results file not found: {0}"),
]  # fmt: skip


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in REPORT_INPUTS], ids=[c[0] for c in REPORT_INPUTS])
def test_report_of_bad_results_is_one_line(
    make: Callable[[Path, Path, Path], list[Path]],
    expected: str,
    search_file: Path,
    predictor_file: Path,
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str]],
) -> None:
    inputs = make(tmp_path, search_file, predictor_file)
    out = tmp_path / "rep"
    code, err = run_cli("report", *map(str, inputs), "--out", str(out))
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
    assert expected.format(*inputs) in err
    assert not out.exists()


RESULTS_OPTIONS = [
    pytest.param(["predict", "-p", "ridge", "--sizes", "20", "--seeds", "1", "--test-size", "50"], id="predict"),
    pytest.param(["search", "--seeds", "1", "--budget", "5"], id="search"),
    pytest.param(
        ["mosearch", "--seeds", "1", "--budget", "5", "-o", "baseline_accuracy", "-o", "ptq_accuracy"], id="mosearch"
    ),
]


@pytest.mark.parametrize("args", RESULTS_OPTIONS)
def test_results_option_naming_a_folder_is_one_line(
    args: list[str], analog_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    code, err = run_cli(*args, "--root", str(analog_root), "--results", str(folder))
    assert code == 2 and "Traceback" not in err and "IsADirectoryError" not in err
    assert f"{folder} is a folder" in err
    assert list(folder.iterdir()) == []


def test_run_results_under_a_file_is_one_line(
    analog_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    blocker = _write(tmp_path / "results", "not a folder\n")
    code, err = run_cli("run", "quickstart", "--root", str(analog_root), "--results", str(blocker),
                      "--report", str(tmp_path / "rep"), "--seeds", "1")  # fmt: skip
    assert code == 2 and f"{blocker} is a file, not a folder" in err
    assert blocker.read_text() == "not a folder\n" and not (tmp_path / "rep").exists()


# 9. workers end when the study process is killed -------------------------------------------------------------

STUDY = """
import sys
from predictbench.studies.search_study import SearchStudy
SearchStudy("nb201-analog/cifar10", {"random": {}}, results=sys.argv[2], budget=500, seeds=400, jobs=2,
            root=sys.argv[1]).run()
"""


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from Linux's /proc")
def test_workers_exit_when_the_study_process_is_killed(analog_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "runs.jsonl"
    study = subprocess.Popen([sys.executable, "-c", STUDY, str(analog_root), str(results)])
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not (results.exists() and results.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.2)  # workers are running once the first run is recorded
        workers = _descendants(study.pid)
        assert results.stat().st_size and len(workers) >= 2
    finally:
        study.send_signal(signal.SIGKILL)
        study.wait()
    deadline = time.monotonic() + WAIT_SECONDS
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # leave no orphan behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
