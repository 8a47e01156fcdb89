from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import predictbench as pb
from predictbench.studies import read_results
from predictbench.studies.pruning_study import PruningStudy

CONFIGS = {
    "capped": {"rounds": 2, "queries_per_round": 10},
    "literal": {"rounds": 1, "queries_per_round": 10, "max_prune": None, "protect_best": False},
}


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def test_records_trace_every_round_and_resume(bench: pb.benchmarks.TabularBenchmark, tmp_path: Path) -> None:
    results = tmp_path / "pruning.jsonl"
    study = PruningStudy(bench, CONFIGS, results=results, budget=24, seeds=2)
    frame = study.run()
    assert sorted(zip(frame["config"], frame["seed"], strict=True)) == [
        ("capped", 0), ("capped", 1), ("literal", 0), ("literal", 1)
    ]  # fmt: skip
    best = bench.best("baseline_accuracy")[0]
    for record in frame.to_dict("records"):
        rounds = record["rounds"]
        assert [r["round"] for r in rounds] == list(range(1, CONFIGS[record["config"]]["rounds"] + 1))
        assert [r["queries"] for r in rounds] == [10 * r["round"] for r in rounds]
        pruned = [r["fraction_pruned"] for r in rounds]
        assert all(0 < p < 1 for p in pruned) and pruned == sorted(pruned)
        for r in rounds:
            assert r["size"] == round(len(bench.space) * (1 - r["fraction_pruned"]))
            assert r["search_optimum_survives"] == r["report_optimum_survives"]  # one metric on this store
        if record["config"] == "capped":
            assert all(1 <= len(r["pruned"]) <= 3 for r in rounds)
        assert record["report_optimum"] == record["search_optimum"] == best
        assert record["queries"] == 24 and record["space_size"] == 15625
        assert record["final_report"] == pytest.approx(bench.lookup([record["final_arch"]], "baseline_accuracy")[0])
    lines = results.read_text().splitlines()
    calls: list[tuple[int, int]] = []
    again = study.run(progress=lambda done, total, status: calls.append((done, total)))  # nothing runs or is appended
    assert calls[-1] == (4, 4)  # the progress bar still reaches the end
    assert results.read_text().splitlines() == lines and len(again) == 4
    assert len(read_results(results)) == 4


def test_same_seed_same_run(bench: pb.benchmarks.TabularBenchmark, tmp_path: Path) -> None:
    one = PruningStudy(bench, {"c": CONFIGS["capped"]}, results=tmp_path / "a.jsonl", budget=15, seeds=[3]).run()
    two = PruningStudy(bench, {"c": CONFIGS["capped"]}, results=tmp_path / "b.jsonl", budget=15, seeds=[3]).run()
    assert one["rounds"][0] == two["rounds"][0] and one["final_arch"][0] == two["final_arch"][0]
    assert np.isfinite(one["final_report"][0])


def test_bad_arguments_name_the_argument(bench: pb.benchmarks.TabularBenchmark, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="budget must be an int >= 1, got 0"):
        PruningStudy(bench, CONFIGS, results=tmp_path / "r.jsonl", budget=0).run()
    with pytest.raises(ValueError, match="at least one configuration"):
        PruningStudy(bench, {}, results=tmp_path / "r.jsonl").run()
    assert not (tmp_path / "r.jsonl").exists()
