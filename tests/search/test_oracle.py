from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.oracle import Oracle
from predictbench.spaces import get_space
from predictbench.types import BudgetExhausted, Metric


@pytest.fixture
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def test_budget_counts_distinct_architectures(bench: pb.benchmarks.TabularBenchmark) -> None:
    oracle = Oracle(bench, budget=3, seed=0)
    archs = bench.space.from_index([0, 1, 2, 3])  # type: ignore[attr-defined]
    first = oracle.evaluate(archs[:2])
    again = oracle.evaluate(archs[:2])
    assert np.array_equal(first, again) and oracle.queries == 2
    assert np.allclose(first, bench.lookup(archs[:2], "baseline_accuracy"))
    oracle.evaluate([archs[2]])
    with pytest.raises(BudgetExhausted, match="budget of 3"):
        oracle.evaluate([archs[3]])
    assert [q.queries for q in oracle.history] == [1, 2, 3]
    assert oracle.best().score == max(q.score for q in oracle.history)


def test_oracle_exposes_only_the_search_signal(bench: pb.benchmarks.TabularBenchmark) -> None:
    oracle = Oracle(bench, metric="analog_accuracy", budget=5)
    assert oracle.metric == MetricRef("analog_accuracy", 200)
    assert not any(name in vars(oracle) for name in ("benchmark", "bench"))
    arch = bench.space.from_index([10])[0]  # type: ignore[attr-defined]
    assert oracle.evaluate([arch])[0] == pytest.approx(bench.lookup([arch], "analog_accuracy")[0])


def _per_seed_store(root: Path) -> pb.benchmarks.TabularBenchmark:
    keys = [a.key for a in get_space("nb201").from_index(range(6))]  # type: ignore[attr-defined]
    meta = StoreMeta(
        name="toy/seeds",
        space="nb201",
        task="cifar10",
        metrics={
            "acc": Metric("acc", True, "%", "objective", 0, 100),
            "train_time": Metric("train_time", False, "s", "cost", 0),
            "latency": Metric("latency", False, "ms", "cost", 0),
        },
        fidelities=(12,),
        default_fidelity=12,
        seeds=(0, 1),
        search=MetricRef("acc", 12),
    )
    rows = [
        {"key": k, "seed": s, "fidelity": 12, "acc": 10.0 * i + s, "train_time": 100.0, "latency": 5.0 - i / 2}
        for i, k in enumerate(keys)
        for s in (0, 1)
    ]
    write_store(root, meta, pd.DataFrame({"key": keys}), pd.DataFrame(rows))
    return pb.load("toy/seeds", root=root)


def test_repeats_sampled_with_own_rng_and_time_charged(tmp_path: Path) -> None:
    bench = _per_seed_store(tmp_path)
    archs = bench.archs()
    values = [Oracle(bench, seed=s).evaluate(archs) for s in range(8)]
    for v in values:
        assert set(np.round(v - 10.0 * np.arange(6), 6)) <= {0.0, 1.0}
    assert len({tuple(v) for v in values}) > 1
    assert np.array_equal(Oracle(bench, seed=3).evaluate(archs), Oracle(bench, seed=3).evaluate(archs))
    assert np.allclose(Oracle(bench, sample_repeats=False).evaluate(archs), 10.0 * np.arange(6) + 0.5)
    timed = Oracle(bench, time_budget=250.0)
    timed.evaluate(archs[:3])
    assert timed.elapsed_seconds == 300.0
    with pytest.raises(BudgetExhausted, match="simulated time"):
        timed.evaluate(archs[3:4])


def test_lower_is_better_signal_becomes_a_score(tmp_path: Path) -> None:
    bench = _per_seed_store(tmp_path)
    oracle = Oracle(bench, metric="latency", cost_metric=None)
    scores = oracle.evaluate(bench.archs())
    assert np.argmax(scores) == 5 and oracle.best().value == pytest.approx(2.5)
