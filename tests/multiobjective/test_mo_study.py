from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.multiobjective.hypervolume import hypervolume
from predictbench.multiobjective.objectives import space_scores, space_values
from predictbench.multiobjective.pareto import non_dominated
from predictbench.multiobjective.report import multiobjective_report
from predictbench.multiobjective.study import HypervolumeScale, MultiObjectiveStudy

SEARCHERS = {"random": {}, "evo": ("nsga2", {"population_size": 8})}


def test_study_records_hypervolume_trajectories_and_resumes(analog_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "mo.jsonl"
    kwargs = {"budget": 25, "seeds": 2, "root": analog_root}
    frame = MultiObjectiveStudy("nb201-analog/cifar10", SEARCHERS, results=results, **kwargs).run()
    assert len(frame) == 4 and sorted(set(frame["searcher"])) == ["evo", "random"]
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    scores = space_scores(bench, [pb.benchmarks.store.MetricRef(m, 200) for m in ("baseline_accuracy",
                                                                                  "analog_drift_86400")])  # fmt: skip
    for _, rec in frame.iterrows():
        assert rec["objectives"] == rec["report_objectives"] == ["baseline_accuracy@200", "analog_drift_86400@200"]
        hv = np.asarray(rec["hv_search"])
        assert len(hv) == 25 and np.all(np.diff(hv) >= 0)  # a front's hypervolume never shrinks
        assert np.allclose(rec["hv_report"], hv)  # this store reports what it searches
        assert np.allclose(np.asarray(rec["hv_normalised"]) * rec["true_hv_report"], rec["hv_report"])
        assert 0.0 <= rec["final_hv_normalised"] <= 1.0
        # the record's final hypervolume is that of its front, recomputed from the table
        codes = bench.codes(rec["front_keys"])
        assert hypervolume(scores[codes], rec["reference_report"]) == pytest.approx(rec["hv_report"][-1])
        assert rec["hv_report"][-1] == pytest.approx(hypervolume(scores[bench.codes(rec["history_keys"])],
                                                                 rec["reference_report"]))  # fmt: skip
        assert non_dominated(np.asarray(rec["front_search"])).all()
    truth = hypervolume(scores, frame["reference_report"].iloc[0])
    assert frame["true_hv_report"].iloc[0] == pytest.approx(truth)
    # a rerun skips what is recorded; more seeds run only the new ones
    again = MultiObjectiveStudy("nb201-analog/cifar10", SEARCHERS, results=results, **kwargs).run()
    assert len(again) == 4 and len(results.read_text().splitlines()) == 4
    more = MultiObjectiveStudy("nb201-analog/cifar10", SEARCHERS, results=results, **{**kwargs, "seeds": 3})
    assert len(more.run()) == 6


def test_study_in_processes_matches_serial_runs(analog_root: Path, tmp_path: Path) -> None:
    kwargs = {"budget": 15, "seeds": [5], "root": analog_root}
    serial = MultiObjectiveStudy("nb201-analog/cifar10", SEARCHERS, results=tmp_path / "a.jsonl", **kwargs).run()
    parallel = MultiObjectiveStudy(
        "nb201-analog/cifar10", SEARCHERS, results=tmp_path / "b.jsonl", jobs=2, **kwargs
    ).run()
    key = ["searcher", "seed"]
    left, right = serial.sort_values(key).reset_index(drop=True), parallel.sort_values(key).reset_index(drop=True)
    assert left["history_keys"].tolist() == right["history_keys"].tolist()
    assert np.allclose(np.stack(left["hv_normalised"]), np.stack(right["hv_normalised"]))


def test_report_has_the_table_the_true_front_and_figures(analog_root: Path, tmp_path: Path) -> None:
    study = MultiObjectiveStudy(
        "nb201-analog/cifar10", SEARCHERS, results=tmp_path / "mo.jsonl", budget=20, seeds=3, root=analog_root
    )
    frame = study.run()
    out = study.report(tmp_path / "report")
    text = (out / "README.md").read_text()
    for header in ("Normalised hypervolume at fixed budgets", "True Pareto front", "Front of one run", "Provenance"):
        assert f"## {header}" in text
    finals = frame.groupby("searcher")["final_hv_normalised"].mean()
    for name, value in finals.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert re.search(rf"\| {100 * value:.2f} ± ", row), row  # T=20, the last column, in %
    true_hv = f"{frame['true_hv_report'].iloc[0]:.4g}"
    assert true_hv in text
    for figure in ("hypervolume.png", "front.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"]({figure})" in text
    assert (out / "index.html").exists()
    # without the cloud the report still draws the run
    multiobjective_report(frame, tmp_path / "bare")
    assert (tmp_path / "bare" / "front.png").exists()
    with pytest.raises(ValueError, match="no multi-objective records"):
        multiobjective_report(pd.DataFrame(), tmp_path / "empty")


def test_study_checks_its_objectives(analog_root: Path, tmp_path: Path) -> None:
    study = MultiObjectiveStudy(
        "nb201-analog/cifar10",
        SEARCHERS,
        results=tmp_path / "mo.jsonl",
        root=analog_root,
        objectives=["baseline_accuracy", "analog_accuracy"],
        report_objectives=["baseline_accuracy"],
    )
    with pytest.raises(ValueError, match="at least 2 objectives"):
        study.run()
    study.report_objectives = ["baseline_accuracy", "analog_accuracy", "qat_accuracy"]
    with pytest.raises(ValueError, match="match the 2 objectives one to one"):
        study.run()


@pytest.mark.shared_data
def test_nb201_reports_test_accuracy_of_the_validation_front(nb201_tables_root: Path, tmp_path: Path) -> None:
    study = MultiObjectiveStudy(
        "nb201/cifar10", {"random": {}}, results=tmp_path / "mo.jsonl", budget=30, seeds=2, root=nb201_tables_root
    )
    frame = study.run()
    bench = study.bench
    search, report = study.resolved_objectives()
    scale = HypervolumeScale.of(bench, search, report)
    assert scale.true_front_size == int(non_dominated(space_scores(bench, report)).sum())
    for _, rec in frame.iterrows():
        assert rec["objectives"] == ["valid_acc@12", "edgegpu_latency@200"]
        assert rec["report_objectives"] == ["test_acc@200", "edgegpu_latency@200"]
        values = space_values(bench, report)[bench.codes(rec["front_keys"])]
        assert np.allclose(values, rec["front_report"])
        assert rec["hv_report"][-1] == pytest.approx(hypervolume(values * [1, -1], scale.reference_report))
        assert rec["hv_normalised"][-1] <= 1.0
