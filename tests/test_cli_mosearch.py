"""`predictbench mosearch` and the [multiobjective] study of `predictbench run`, on real converted stores."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks.store import MetricRef
from predictbench.cli import main
from predictbench.multiobjective.objectives import space_values

PNG = b"\x89PNG\r\n\x1a\n"


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the real entry point in-process; returns (exit code, stdout, stderr with boxes and wrapping removed)."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    err = " ".join(re.sub(r"[│╭╮╰╯─]", " ", out.err).split())
    return int(info.value.code or 0), out.out, err


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.shared_data
def test_mosearch_on_nb201_records_the_fronts_resumes_and_reports(
    nb201_tables_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, report = tmp_path / "mo.jsonl", tmp_path / "report"
    args = ["mosearch", "-b", "nb201/cifar10", "-o", "valid_acc@12", "-o", "edgegpu_latency", "-s", "random"]
    args += ["-s", "nsga2:population_size=6", "--budget", "12", "--root", str(nb201_tables_root)]
    args += ["--results", str(results), "--report", str(report)]
    code, out, err = _main(capsys, *args, "--seeds", "2")
    assert code == 0, err
    text = " ".join(out.split())
    # directions come from the store's declared metrics, the search metric is reported as the report metric
    assert "objectives: valid_acc@12 (max), edgegpu_latency@200 (min); reported as test_acc@200 (max)" in text
    records = _records(results)
    assert sorted((r["searcher"], r["seed"]) for r in records) == [
        ("nsga2:population_size=6", 0), ("nsga2:population_size=6", 1), ("random", 0), ("random", 1),
    ]  # fmt: skip
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    refs = [MetricRef("test_acc", 200), MetricRef("edgegpu_latency", 200)]
    for rec in records:
        assert rec["objectives"] == ["valid_acc@12", "edgegpu_latency@200"]
        assert rec["report_objectives"] == ["test_acc@200", "edgegpu_latency@200"]
        assert rec["budget"] == 12 and len(rec["hv_normalised"]) == 12 and len(set(rec["history_keys"])) == 12
        assert 0.0 < rec["final_hv_normalised"] <= 1.0
        assert np.allclose(space_values(bench, refs)[bench.codes(rec["front_keys"])], rec["front_report"])
    assert "hypervolume at budget 12 (% of the true front's)" in text
    assert "on test_acc@200 vs edgegpu_latency@200" in text
    readme = (report / "README.md").read_text()
    for header in ("Normalised hypervolume at fixed budgets", "True Pareto front", "Front of one run"):
        assert f"## {header}" in readme
    assert "| nsga2:population_size=6 |" in readme and "test_acc@200, edgegpu_latency@200" in readme
    for figure in ("hypervolume.png", "front.png"):
        assert (report / figure).read_bytes()[:8] == PNG
    page = (report / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 2  # self-contained
    # a rerun adds nothing; more seeds run only the new ones
    before = results.read_text()
    code, out, err = _main(capsys, *args, "--seeds", "2")
    assert code == 0, err
    assert results.read_text() == before and "4 runs in" in " ".join(out.split())
    code, _, err = _main(capsys, *args, "--seeds", "3")
    assert code == 0, err
    assert results.read_text().startswith(before)
    assert sorted(r["seed"] for r in _records(results)[4:]) == [2, 2]


def test_mosearch_on_the_embedded_default_with_parego(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "mo.jsonl"
    args = ["mosearch", "-s", "parego:n_initial=5,batch_size=5", "-s", "random", "--budget", "15", "--seeds", "1"]
    code, out, err = _main(capsys, *args, "--root", str(analog_root), "--results", str(results))
    assert code == 0, err
    assert "hypervolume at budget 15" in " ".join(out.split())
    records = _records(results)
    assert [r["searcher"] for r in records] == ["parego:n_initial=5,batch_size=5", "random"]
    for rec in records:  # the store's default pair: digital accuracy and analog accuracy after a day of drift
        assert rec["objectives"] == rec["report_objectives"] == ["baseline_accuracy@200", "analog_drift_86400@200"]
        assert rec["report_higher_is_better"] == [True, True]
    assert records[0]["options"] == {"n_initial": 5, "batch_size": 5}
    # `predictbench report` recognises multi-objective records
    code, _, err = _main(capsys, "report", str(results), "--out", str(tmp_path / "rebuilt"))
    assert code == 0, err
    assert "| parego:n_initial=5,batch_size=5 |" in (tmp_path / "rebuilt" / "README.md").read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["-o", "baseline_accuracy", "-o", "latency"],
            "Invalid value for '--objective': unknown metric of nb201-analog/cifar10 'latency'. Known: ",
        ),
        (["-o", "baseline_accuracy"], "needs at least 2 objectives"),
        (["-o", "baseline_accuracy", "-o", "baseline_accuracy@200"], "objectives must be distinct"),
        (["-o", "baseline_accuracy@12", "-o", "analog_accuracy"], "has no values at fidelity 12"),
        (["-s", "nsga3"], "unknown multi-objective searcher 'nsga3'. Did you mean 'nsga2'?"),
        (["-s", "nsga2:populaton_size=4"], "has no option 'populaton_size'. Did you mean 'population_size'"),
        (["-s", "nsga2:population_size=1"], "--searcher nsga2:population_size=1: population_size must be an int >= 2"),
        (["-s", "parego:predictor=lgbmm"], "--searcher parego:predictor=lgbmm: unknown predictor 'lgbmm'"),
        (["-s", "random", "-s", "random"], "each searcher once, got ['random', 'random']"),
        (["-s", "random:seed=3"], "'seed' is not an option here"),
    ],
)
def test_mosearch_user_errors_exit_2_before_any_run(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    results = tmp_path / "mo.jsonl"
    code, _, err = _main(capsys, "mosearch", *args, "--root", str(analog_root), "--results", str(results))
    assert code == 2 and expected in err, err
    assert not results.exists()


def test_mosearch_bad_paths_exit_2(analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    base = ["mosearch", "-s", "random", "--budget", "5", "--seeds", "1", "--root", str(analog_root)]
    code, _, err = _main(capsys, *base, "--results", str(tmp_path))
    assert code == 2 and f"Invalid value for '--results': {tmp_path} is a folder; expected a file" in err
    code, _, err = _main(capsys, *base, "--results", str(a_file / "mo.jsonl"))
    assert code == 2 and f"{a_file} is a file, not a folder" in err
    code, _, err = _main(capsys, *base, "--results", str(tmp_path / "mo.jsonl"), "--report", str(a_file))
    assert code == 2 and f"Invalid value for '--report': {a_file} is a file; expected a folder" in err
    code, _, err = _main(capsys, *base[:-2], "--root", str(tmp_path / "empty"), "--results", str(tmp_path / "m.jsonl"))
    assert code == 2 and "predictbench data convert analog-nasbench" in err
    assert not (tmp_path / "mo.jsonl").exists() and not (tmp_path / "m.jsonl").exists()


def test_mosearch_ctrl_c_keeps_finished_runs_exits_130_and_resumes(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from predictbench.multiobjective import study

    run_one, calls = study.run_one, []

    def interrupted_on_third_run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return run_one(*args, **kwargs)

    monkeypatch.setattr(study, "run_one", interrupted_on_third_run)
    results = tmp_path / "mo.jsonl"
    args = ["mosearch", "-s", "random", "-s", "nsga2", "--budget", "8", "--seeds", "2", "--root", str(analog_root)]
    code, _, err = _main(capsys, *args, "--results", str(results))
    assert code == 130
    assert f"finished results are kept in {results} (2 records)" in err
    assert f"rerun `predictbench {' '.join(args)} --results {results}` to resume" in err
    code, _, err = _main(capsys, *args, "--results", str(results))
    assert code == 0, err
    assert len(_records(results)) == 4 and len(calls) == 5  # the two finished runs did not run again


TINY = """
name = "tiny-pareto"
description = "a tiny multi-objective experiment"
benchmarks = ["nb201-analog/cifar10"]
results = "{results}"
report = "{report}"

[multiobjective]
objectives = ["baseline_accuracy", "analog_drift_86400"]
budget = 10
seeds = 2

[multiobjective.searchers]
random = {{}}
"nsga2-small" = {{ name = "nsga2", population_size = 4 }}
"""


def test_run_experiment_with_a_multiobjective_study_and_resume(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(results=tmp_path / "results", report=tmp_path / "report"), encoding="utf-8")
    code, out, _ = _main(capsys, "run", str(path), "--dry-run")
    assert code == 0
    assert "multiobjective: random, nsga2-small x 2 seeds at budget 10, objectives baseline_accuracy, " in " ".join(
        out.split()
    )
    code, out, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 0, err
    results = tmp_path / "results" / "multiobjective.jsonl"
    records = _records(results)
    assert sorted((r["study"], r["searcher"], r["seed"]) for r in records) == [
        ("tiny-pareto", "nsga2-small", 0), ("tiny-pareto", "nsga2-small", 1),
        ("tiny-pareto", "random", 0), ("tiny-pareto", "random", 1),
    ]  # fmt: skip
    assert records[0]["objectives"] == ["baseline_accuracy@200", "analog_drift_86400@200"]
    report = tmp_path / "report"
    readme = (report / "multiobjective" / "README.md").read_text()
    assert "tiny-pareto: multi-objective search on nb201-analog/cifar10" in readme and "| nsga2-small |" in readme
    assert (report / "multiobjective" / "front.png").read_bytes()[:8] == PNG
    assert "(multiobjective/README.md)" in (report / "README.md").read_text()
    before = results.read_text()
    code, _, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 0 and results.read_text() == before, err  # resumed: nothing ran again


def test_run_experiment_rejects_an_objective_the_store_lacks(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.toml"
    text = TINY.format(results=tmp_path / "results", report=tmp_path / "report")
    path.write_text(text.replace('"analog_drift_86400"', '"edgegpu_latency"'), encoding="utf-8")
    code, _, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 2
    assert f"{path}: key 'multiobjective.objectives' on nb201-analog/cifar10: unknown metric" in err
    assert "'edgegpu_latency'" in err and not (tmp_path / "results").exists()


def test_shipped_hw_pareto_is_listed_and_described(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "run", "--list")
    assert code == 0 and "nb201-hw-pareto" in out
    code, out, _ = _main(capsys, "run", "nb201-hw-pareto", "--dry-run", "--seeds", "3")
    text = " ".join(out.split())
    assert code == 0 and "benchmarks: nb201/cifar10" in text
    assert (
        "multiobjective: random, nsga2, parego x 3 seeds at budget 100, objectives valid_acc@12, edgegpu_latency"
        in (text)
    )


@pytest.mark.slow
@pytest.mark.shared_data
def test_shipped_hw_pareto_runs_with_one_seed(
    nb201_tables_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--root", str(nb201_tables_root), "--results", str(tmp_path / "res"), "--report", str(tmp_path / "rep")]
    code, _, err = _main(capsys, "run", "nb201-hw-pareto", "--seeds", "1", "--jobs", "1", *args)
    assert code == 0, err
    records = _records(tmp_path / "res" / "multiobjective.jsonl")
    assert sorted(r["searcher"] for r in records) == ["nsga2", "parego", "random"]
    assert {len(r["history_keys"]) for r in records} == {100}
    assert all(r["report_objectives"] == ["test_acc@200", "edgegpu_latency@200"] for r in records)
    assert (tmp_path / "rep" / "multiobjective" / "index.html").is_file()
