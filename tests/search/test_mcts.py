from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.search.mcts import MCTSSearch
from predictbench.search.pruning import ConstrainedSpace
from predictbench.spaces import get_space

NB201 = get_space("nb201")


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def _keys(name: str, bench: pb.benchmarks.TabularBenchmark, seed: int, budget: int, **options: object) -> list[str]:
    oracle = run_search(make_searcher(name, bench.space, seed=seed, **options), Oracle(bench, budget=budget, seed=0))
    return [q.arch.key for q in oracle.history]


@pytest.mark.parametrize("value", ["mean", "max"])
def test_mcts_queries_distinct_cells_deterministically(value: str, bench: pb.benchmarks.TabularBenchmark) -> None:
    first = _keys("mcts", bench, 3, 120, value=value)
    assert len(first) == len(set(first)) == 120
    assert _keys("mcts", bench, 3, 120, value=value) == first
    assert _keys("mcts", bench, 4, 120, value=value) != first


def test_mcts_tree_statistics_follow_the_tells(bench: pb.benchmarks.TabularBenchmark) -> None:
    mcts = MCTSSearch(NB201, seed=0)
    oracle = run_search(mcts, Oracle(bench, budget=50))
    assert mcts.root.visits == 50
    assert sum(child.visits for child in mcts.root.children.values()) == 50
    assert mcts.root.best == max(q.score for q in oracle.history)
    # every told cell is closed for rollouts
    assert not mcts._open[mcts.decisions.rows([q.arch for q in oracle.history])].any()


def test_mcts_exhausts_a_small_space_then_stops() -> None:
    small = ConstrainedSpace(NB201, {0: [3], 1: [3], 2: [3], 3: [0, 1], 4: [2, 3]})  # 2 * 2 * 5 = 20 cells
    mcts = MCTSSearch(small, seed=0)
    seen: list[str] = []
    rng = np.random.default_rng(0)
    while batch := mcts.ask(3):
        mcts.tell(batch, rng.random(len(batch)))
        seen.extend(a.key for a in batch)
    assert sorted(seen) == sorted(a.key for a in small.enumerate())
    assert mcts.ask(1) == []


def test_mcts_beats_random_search_on_average(bench: pb.benchmarks.TabularBenchmark) -> None:
    def final(name: str, seed: int) -> float:
        oracle = run_search(make_searcher(name, bench.space, seed=seed), Oracle(bench, budget=150, seed=seed))
        return oracle.best().value

    seeds = range(10)
    assert np.mean([final("mcts", s) for s in seeds]) > np.mean([final("random", s) for s in seeds])


def test_mcts_rejects_bad_options_and_spaces() -> None:
    with pytest.raises(ValueError, match="value"):
        MCTSSearch(NB201, value="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exploration"):
        MCTSSearch(NB201, exploration=-1.0)
    with pytest.raises(TypeError, match="onehot"):
        MCTSSearch(_NoOneHot())  # type: ignore[arg-type]


def test_mcts_runs_on_another_decision_space() -> None:
    space = get_space("nats-sss")
    mcts = MCTSSearch(space, seed=0)
    assert mcts.decisions.n_positions == 5 and all(len(c) == 8 for c in mcts.decisions.choices)
    keys: list[str] = []
    for _ in range(10):
        batch = mcts.ask(4)
        mcts.tell(batch, [float(sum(space.channels(a)[0])) for a in batch])
        keys.extend(a.key for a in batch)
    assert len(set(keys)) == 40 and all(space.is_valid(k) for k in keys)


class _NoOneHot:
    """A space without per-decision one-hot features."""

    name = "no-onehot"

    def __hash__(self) -> int:
        return 0

    def encoding_names(self) -> tuple[str, ...]:
        return ("counts",)

    def feature_names(self, name: str) -> list[str]:
        raise KeyError(name)

    def encode(self, name: str, archs: object) -> np.ndarray:
        raise KeyError(name)

    def graph_arrays(self, archs: object) -> tuple[np.ndarray, np.ndarray]:
        raise KeyError("graphs")
