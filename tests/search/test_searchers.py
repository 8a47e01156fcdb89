from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.search import SEARCHERS, make_searcher, run_search
from predictbench.search.evolution import RegularizedEvolution
from predictbench.studies.search_study import SearchStudy

TORCH_SEARCHERS = frozenset({"comparator", "nao", "diffusion"})  # they train torch networks


def _needs_torch(name: str) -> object:
    """Searchers that train torch networks run where torch is installed."""
    return pytest.param(name, marks=pytest.mark.torch) if name in TORCH_SEARCHERS else name


@pytest.fixture
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


@pytest.mark.parametrize("name", [_needs_torch(name) for name in SEARCHERS.names()])
def test_searchers_spend_the_budget_on_distinct_cells_deterministically(
    name: str, bench: pb.benchmarks.TabularBenchmark
) -> None:
    if "proxies" in getattr(SEARCHERS.get(name), "needs", ()):
        pytest.skip(f"{name} needs zero-cost proxies; {bench.name} has none (tests/search/test_robot.py covers it)")
    runs = []
    for _ in range(2):
        oracle = run_search(make_searcher(name, bench.space, seed=5), Oracle(bench, budget=60, seed=1))
        keys = [q.arch.key for q in oracle.history]
        assert len(keys) == 60 == len(set(keys))
        runs.append(keys)
    assert runs[0] == runs[1]
    other = run_search(make_searcher(name, bench.space, seed=6), Oracle(bench, budget=60, seed=1))
    assert [q.arch.key for q in other.history] != runs[0]


@pytest.mark.parametrize("name", ["evolution", "local"])
def test_model_free_searchers_beat_random_on_average(name: str, bench: pb.benchmarks.TabularBenchmark) -> None:
    def final(searcher: str, seed: int) -> float:
        oracle = run_search(make_searcher(searcher, bench.space, seed=seed), Oracle(bench, budget=150, seed=seed))
        return oracle.best().value

    seeds = range(12)
    assert np.mean([final(name, s) for s in seeds]) > np.mean([final("random", s) for s in seeds])


def test_evolution_population_is_bounded(bench: pb.benchmarks.TabularBenchmark) -> None:
    rea = RegularizedEvolution(bench.space, seed=0, population_size=8, sample_size=3)
    run_search(rea, Oracle(bench, budget=40))
    assert len(rea.population) == 8
    with pytest.raises(ValueError, match="sample_size"):
        RegularizedEvolution(bench.space, population_size=4, sample_size=5)


def test_search_study_records_resumes_and_runs_in_processes(analog_root: Path, tmp_path: Path) -> None:
    searchers = {"random": {}, "rea": ("evolution", {"population_size": 10})}
    kwargs = {"budget": 30, "seeds": 3, "root": analog_root}
    serial = SearchStudy("nb201-analog/cifar10", searchers, results=tmp_path / "a.jsonl", **kwargs).run()
    assert len(serial) == 6
    components = dict(zip(serial["searcher"], serial["component"], strict=True))
    assert components == {"random": "random", "rea": "evolution"}  # the registered name behind each label
    assert all(len(t) == 30 for t in serial["incumbent_report"])
    assert all(np.all(np.diff(t) >= 0) for t in serial["incumbent_search"])
    again = SearchStudy("nb201-analog/cifar10", searchers, results=tmp_path / "a.jsonl", **kwargs).run()
    assert len(again) == 6
    parallel = SearchStudy("nb201-analog/cifar10", searchers, results=tmp_path / "b.jsonl", jobs=2, **kwargs).run()
    key = ["searcher", "seed"]
    left = serial.sort_values(key)[["searcher", "seed", "final_arch", "final_report"]].reset_index(drop=True)
    right = parallel.sort_values(key)[["searcher", "seed", "final_arch", "final_report"]].reset_index(drop=True)
    assert left.equals(right)
