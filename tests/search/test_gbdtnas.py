from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.search.gbdtnas import GBDTNASSearch
from predictbench.spaces import get_space

NB201 = get_space("nb201")
FAST = {"name": "lgbm", "n_estimators": 30, "num_leaves": 7, "min_child_samples": 2}


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def _keys(bench: pb.benchmarks.TabularBenchmark, seed: int, budget: int, **options: Any) -> list[str]:
    oracle = run_search(GBDTNASSearch(NB201, seed=seed, **options), Oracle(bench, budget=budget, seed=0))
    return [q.arch.key for q in oracle.history]


@pytest.mark.parametrize("options", [{}, {"pool": 500, "top_k": 3}, {"rounds": 2, "top_k": 4}])
def test_gbdtnas_queries_distinct_cells_deterministically(
    options: dict[str, Any], bench: pb.benchmarks.TabularBenchmark
) -> None:
    options = {"predictor": FAST, "n_initial": 10, **options}
    first = _keys(bench, 0, 40, **options)
    assert len(first) == len(set(first)) == 40
    assert _keys(bench, 0, 40, **options) == first
    assert _keys(bench, 1, 40, **options) != first


def test_rounds_limit_the_fits_and_the_ranking_is_followed_afterwards(bench: pb.benchmarks.TabularBenchmark) -> None:
    search = GBDTNASSearch(NB201, seed=0, predictor=FAST, n_initial=10, top_k=5, rounds=2)
    run_search(search, Oracle(bench, budget=40))
    assert search.rounds_done == 2 and len(search.scores) == 40
    unlimited = GBDTNASSearch(NB201, seed=0, predictor=FAST, n_initial=10, top_k=5)
    run_search(unlimited, Oracle(bench, budget=40))
    assert unlimited.rounds_done == 6


def test_the_first_round_queries_the_best_predicted_cells(bench: pb.benchmarks.TabularBenchmark) -> None:
    search = GBDTNASSearch(NB201, seed=0, predictor=FAST, n_initial=30, top_k=10)
    run_search(search, Oracle(bench, budget=40))
    random_part = list(search.scores)[:30]
    chosen = list(search.scores)[30:]
    values = bench.lookup(random_part, "baseline_accuracy")
    picked = bench.lookup(chosen, "baseline_accuracy")
    assert np.median(picked) > np.median(values)


def test_gbdtnas_beats_random_on_average(bench: pb.benchmarks.TabularBenchmark) -> None:
    def final(name: str, seed: int, **options: Any) -> float:
        searcher = make_searcher(name, bench.space, seed=seed, **options)
        return run_search(searcher, Oracle(bench, budget=60, seed=seed)).best().value

    seeds = range(6)
    gbdt = np.mean([final("gbdtnas", s, predictor=FAST, top_k=10) for s in seeds])
    assert gbdt > np.mean([final("random", s) for s in seeds])


def test_gbdtnas_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="top_k"):
        GBDTNASSearch(NB201, top_k=0)
    with pytest.raises(ValueError, match="pool"):
        GBDTNASSearch(NB201, pool="some")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rounds"):
        GBDTNASSearch(NB201, rounds=0)
