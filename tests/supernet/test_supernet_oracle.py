"""SupernetOracle: adapter scores as a search signal, its cost model, and a SearchStudy with its report."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.studies.search_study import SearchStudy
from predictbench.supernet.oracle import SupernetOracle
from predictbench.supernet.weight_sharing import NB201WeightSharing
from predictbench.types import Arch, BudgetExhausted


class ConvCount:
    """A cheap deterministic adapter: more convolutions score higher (ties broken by the official index)."""

    name = "conv-count"
    epochs_ = 3

    def fit(self, space: Any, data: Any, *, epochs: int = 0, seed: int = 0) -> ConvCount:
        self.space_ = space
        return self

    def score(self, archs: Any) -> np.ndarray:
        self.calls = getattr(self, "calls", 0) + 1
        ops = self.space_.ops_array(archs)
        return (ops >= 2).sum(axis=1) + self.space_.index_of(archs) / 1e5


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def test_search_runs_on_adapter_scores_within_budget(bench: pb.benchmarks.TabularBenchmark) -> None:
    adapter = ConvCount().fit(bench.space, None)
    oracle = SupernetOracle(bench, adapter, budget=25)
    assert isinstance(oracle, Oracle) and oracle.metric.metric == "supernet:conv-count" and oracle.metric.fidelity == 3
    run_search(make_searcher("evolution", bench.space, seed=0), oracle)
    keys = [q.arch.key for q in oracle.history]
    assert oracle.queries == 25 == len(set(keys)) and oracle.remaining == 0
    archs = [q.arch for q in oracle.history]
    assert np.array_equal([q.value for q in oracle.history], adapter.score(archs))
    best = oracle.best()
    assert best.score == max(q.score for q in oracle.history)
    calls = adapter.calls
    assert np.array_equal(oracle.evaluate(archs[:3]), adapter.score(archs[:3]))  # answered from the record
    assert adapter.calls == calls + 1 and oracle.queries == 25
    with pytest.raises(BudgetExhausted, match="25 distinct"):
        oracle.evaluate(bench.space.sample(np.random.default_rng(1), 1) + archs[:1])


def test_cost_model_and_time_budget(bench: pb.benchmarks.TabularBenchmark) -> None:
    adapter = ConvCount().fit(bench.space, None)
    archs = [bench.space.arch_at(i) for i in (10, 20, 30, 40)]

    def per_conv(arch: Arch) -> float:
        return 1.0 + float((bench.space.ops_array([arch])[0] >= 2).sum())  # type: ignore[attr-defined]

    oracle = SupernetOracle(bench, adapter, cost_seconds=per_conv, setup_seconds=100.0)
    oracle.evaluate(archs[:2])
    expected = 100.0 + per_conv(archs[0]) + per_conv(archs[1])
    assert oracle.elapsed_seconds == pytest.approx(expected)
    assert [q.cost_seconds for q in oracle.history] == [per_conv(archs[0]), per_conv(archs[1])]
    assert oracle.history[0].elapsed_seconds == pytest.approx(100.0 + per_conv(archs[0]))
    limited = SupernetOracle(bench, adapter, cost_seconds=5.0, setup_seconds=8.0, time_budget=15.0)
    with pytest.raises(BudgetExhausted, match="time budget"):
        limited.evaluate(archs)  # 8 + 5 = 13 < 15 allows a second query (18), then the budget is spent
    assert limited.queries == 2 and limited.elapsed_seconds == pytest.approx(18.0)
    with pytest.raises(ValueError, match="cost_seconds"):
        SupernetOracle(bench, adapter, cost_seconds=-1.0)
    with pytest.raises(TypeError, match="score"):
        SupernetOracle(bench, object())  # type: ignore[arg-type]


def test_search_study_with_a_supernet_oracle_writes_the_usual_report(
    bench: pb.benchmarks.TabularBenchmark, tmp_path: Path
) -> None:
    adapter = ConvCount().fit(bench.space, None)
    factory = functools.partial(SupernetOracle, adapter=adapter, cost_seconds=2.0)
    study = SearchStudy(
        bench,
        {"random": {}, "evolution": {"population_size": 8, "sample_size": 3}},
        results=tmp_path / "runs.jsonl",
        budget=20,
        seeds=2,
        name="supernet-oracle",
        oracle_factory=factory,
    )
    frame = study.run()
    assert len(frame) == 4
    assert set(frame["search_metric"]) == {"supernet:conv-count@3"}
    assert frame["queries_to_optimum"].isna().all()  # the supernet's optimum over the space is unknown
    report = bench.report_metric
    assert report is not None
    for row in frame.itertuples():
        assert row.final_report == pytest.approx(bench.lookup([row.final_arch], report.metric)[0])
        assert row.elapsed[-1] == pytest.approx(2.0 * 20)
    # the table oracle's records are unchanged: its search metric and optimum
    plain = SearchStudy(bench, {"random": {}}, results=tmp_path / "plain.jsonl", budget=5, seeds=1).run()
    search = bench.search_metric
    assert search is not None and plain["search_metric"].iloc[0] == f"{search.metric}@{search.fidelity}"

    from predictbench.report import search_report

    out = search_report(frame, tmp_path / "report", title="Search on supernet scores")
    text = (out / "README.md").read_text()
    assert "supernet:conv-count@3" in text and "evolution" in text and "random" in text


def test_reference_supernet_as_oracle(bench: pb.benchmarks.TabularBenchmark, fitted: NB201WeightSharing) -> None:
    oracle = SupernetOracle(bench, fitted, budget=4, setup_seconds=12.5)
    run_search(make_searcher("random", bench.space, seed=0), oracle)
    archs = [q.arch for q in oracle.history]
    assert np.array_equal([q.value for q in oracle.history], fitted.score(archs))
    assert oracle.metric.metric == "supernet:weight-sharing" and oracle.metric.fidelity == 1
    assert oracle.elapsed_seconds == pytest.approx(12.5)
