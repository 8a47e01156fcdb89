from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.multiobjective.objectives import default_objectives, parse_objective, report_objectives
from predictbench.multiobjective.oracle import MultiObjectiveOracle
from predictbench.spaces import get_space
from predictbench.types import BudgetExhausted, Metric, UnknownNameError

DRIFT = "analog_drift_86400"


@pytest.fixture
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def _toy_store(root: Path) -> pb.benchmarks.TabularBenchmark:
    """Six NB201 cells with two repeats: accuracy, a loss of the same repeat, a latency and a hidden test metric."""
    keys = [a.key for a in get_space("nb201").from_index(range(6))]  # type: ignore[attr-defined]
    meta = StoreMeta(
        name="toy/mo",
        space="nb201",
        task="cifar10",
        metrics={
            "acc": Metric("acc", True, "%", "objective", 0, 100),
            "loss": Metric("loss", False, "", "objective", 0),
            "test_acc": Metric("test_acc", True, "%", "objective", 0, 100),
            "train_time": Metric("train_time", False, "s", "cost", 0),
            "latency": Metric("latency", False, "ms", "cost", 0),
        },
        fidelities=(12,),
        default_fidelity=12,
        seeds=(0, 1),
        search=MetricRef("acc", 12),
        report=MetricRef("test_acc", 12),
    )
    rows = [
        {
            "key": k,
            "seed": s,
            "fidelity": 12,
            "acc": 10.0 * i + s,
            "loss": 100.0 * s + i,  # the repeat is readable from either objective
            "test_acc": 50.0 + i,
            "train_time": 100.0,
            "latency": 1.0 + i / 2,  # the more accurate, the slower
        }
        for i, k in enumerate(keys)
        for s in (0, 1)
    ]
    write_store(root, meta, pd.DataFrame({"key": keys}), pd.DataFrame(rows))
    return pb.load("toy/mo", root=root)


def test_budget_counts_distinct_architectures_once_for_all_objectives(bench: pb.benchmarks.TabularBenchmark) -> None:
    oracle = MultiObjectiveOracle(bench, objectives=["baseline_accuracy", DRIFT], budget=3, seed=0)
    archs = bench.space.from_index([0, 1, 2, 3])  # type: ignore[attr-defined]
    first = oracle.evaluate(archs[:2])
    again = oracle.evaluate(archs[1::-1])
    assert first.shape == (2, 2) and np.array_equal(again, first[::-1]) and oracle.queries == 2
    expected = np.column_stack([bench.lookup(archs[:2], "baseline_accuracy"), bench.lookup(archs[:2], DRIFT)])
    assert np.allclose(first, expected)
    oracle.evaluate([archs[2]])
    with pytest.raises(BudgetExhausted, match="budget of 3"):
        oracle.evaluate([archs[0], archs[3]])  # the known cell is answered, the new one refused
    assert [q.queries for q in oracle.history] == [1, 2, 3] and oracle.remaining == 0
    assert [q.arch for q in oracle.history] == archs[:3]
    assert oracle.score_matrix().shape == (3, 2)


def test_directions_are_applied_and_test_metrics_stay_hidden(tmp_path: Path) -> None:
    bench = _toy_store(tmp_path)
    oracle = MultiObjectiveOracle(bench, objectives=["acc", "latency"], budget=6, seed=0, sample_repeats=False)
    assert oracle.objectives == (MetricRef("acc", 12), MetricRef("latency", 12))
    scores = oracle.evaluate(bench.archs())
    assert np.allclose(scores[:, 0], 10.0 * np.arange(6) + 0.5)
    assert np.allclose(scores[:, 1], -(1.0 + np.arange(6) / 2))  # lower latency = higher score
    assert np.allclose([q.values[1] for q in oracle.history], 1.0 + np.arange(6) / 2)
    # nothing but the objectives comes out: no benchmark handle, no reported metric anywhere on the object
    assert not any(name in vars(oracle) for name in ("benchmark", "bench", "_benchmark"))
    assert all(len(q.values) == 2 for q in oracle.history)
    # the cells trade accuracy against latency: each one is on the front
    assert len(oracle.front()) == 6


def test_every_objective_of_a_cell_comes_from_the_same_repeat(tmp_path: Path) -> None:
    bench = _toy_store(tmp_path)
    for seed in range(6):
        oracle = MultiObjectiveOracle(bench, objectives=["acc", "loss"], seed=seed)
        scores = oracle.evaluate(bench.archs())
        repeat_by_acc = scores[:, 0] - 10.0 * np.arange(6)
        repeat_by_loss = (-scores[:, 1] - np.arange(6)) / 100.0
        assert np.array_equal(repeat_by_acc, repeat_by_loss)
        assert [q.seed for q in oracle.history] == repeat_by_acc.astype(int).tolist()
    runs = {tuple(MultiObjectiveOracle(bench, objectives=["acc", "loss"], seed=s).evaluate(bench.archs())[:, 0])
            for s in range(6)}  # fmt: skip
    assert len(runs) > 1  # the repeat is drawn, not fixed


def test_time_budget_and_cost_are_charged_once_per_cell(tmp_path: Path) -> None:
    bench = _toy_store(tmp_path)
    oracle = MultiObjectiveOracle(bench, objectives=["acc", "latency"], time_budget=250.0)
    oracle.evaluate(bench.archs()[:3])
    assert oracle.elapsed_seconds == 300.0 and [q.cost_seconds for q in oracle.history] == [100.0] * 3
    with pytest.raises(BudgetExhausted, match="simulated time"):
        oracle.evaluate(bench.archs()[3:4])


def test_objectives_are_checked_with_clear_errors(bench: pb.benchmarks.TabularBenchmark) -> None:
    with pytest.raises(UnknownNameError, match="analog_drift_86400"):
        MultiObjectiveOracle(bench, objectives=["baseline_accuracy", "analog_drift_86401"])
    with pytest.raises(ValueError, match="at least 2 objectives"):
        MultiObjectiveOracle(bench, objectives=["baseline_accuracy"])
    with pytest.raises(ValueError, match="distinct"):
        MultiObjectiveOracle(bench, objectives=["baseline_accuracy", "baseline_accuracy@200"])
    with pytest.raises(ValueError, match="fidelity after '@' must be an integer"):
        MultiObjectiveOracle(bench, objectives=["baseline_accuracy@x", DRIFT])
    with pytest.raises(ValueError, match="no values at fidelity 12"):
        MultiObjectiveOracle(bench, objectives=["baseline_accuracy@12", DRIFT])
    with pytest.raises(TypeError, match="sequence of objectives"):
        MultiObjectiveOracle(bench, objectives="baseline_accuracy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="budget must be a positive int"):
        MultiObjectiveOracle(bench, budget=0)


def test_default_objectives_of_the_embedded_store(bench: pb.benchmarks.TabularBenchmark) -> None:
    objectives = default_objectives(bench)
    assert objectives == (MetricRef("baseline_accuracy", 200), MetricRef(DRIFT, 200))
    assert report_objectives(bench, objectives) == objectives  # this store reports what it searches
    assert MultiObjectiveOracle(bench).objectives == objectives
    assert parse_objective(bench, MetricRef(DRIFT, 200)) == MetricRef(DRIFT, 200)


@pytest.mark.shared_data
def test_default_objectives_of_the_nb201_tables(nb201_tables_root: Path) -> None:
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    objectives = default_objectives(bench)
    assert objectives == (MetricRef("valid_acc", 12), MetricRef("edgegpu_latency", 200))
    assert report_objectives(bench, objectives) == (MetricRef("test_acc", 200), MetricRef("edgegpu_latency", 200))
    oracle = MultiObjectiveOracle(bench, budget=5, seed=0)
    archs = bench.space.from_index([0, 6111])  # type: ignore[attr-defined]
    scores = oracle.evaluate(archs)
    assert np.allclose(scores[:, 0], bench.lookup(archs, "valid_acc", fidelity=12))
    assert np.allclose(scores[:, 1], -bench.lookup(archs, "edgegpu_latency"))
