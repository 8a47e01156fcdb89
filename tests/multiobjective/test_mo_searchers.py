from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.multiobjective import MO_SEARCHERS, make_mo_searcher
from predictbench.multiobjective.base import run_multiobjective
from predictbench.multiobjective.hypervolume import hypervolume
from predictbench.multiobjective.nsga2 import NSGA2Search
from predictbench.multiobjective.objectives import space_scores
from predictbench.multiobjective.oracle import MultiObjectiveOracle
from predictbench.multiobjective.parego import ParEGOSearch, normalise, tchebycheff
from predictbench.multiobjective.pareto import non_dominated
from predictbench.spaces import get_space
from predictbench.types import UnknownNameError

#: small model settings so ParEGO runs fast in tests (its defaults are for real searches)
FAST: dict[str, dict[str, Any]] = {"parego": {"ensemble_size": 2, "n_candidates": 50, "n_initial": 8}}


@pytest.fixture
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def run(bench: pb.benchmarks.TabularBenchmark, name: str, seed: int, budget: int) -> MultiObjectiveOracle:
    searcher = make_mo_searcher(name, bench.space, seed=seed, **FAST.get(name, {}))
    return run_multiobjective(searcher, MultiObjectiveOracle(bench, budget=budget, seed=seed))


def test_registry() -> None:
    assert MO_SEARCHERS.names() == ["nsga2", "parego", "random", "reinforce"]
    with pytest.raises(UnknownNameError, match="Did you mean 'nsga2'"):
        make_mo_searcher("nsga", get_space("nb201"))


@pytest.mark.parametrize("name", MO_SEARCHERS.names())
def test_searchers_spend_the_budget_on_distinct_cells_deterministically(
    name: str, bench: pb.benchmarks.TabularBenchmark
) -> None:
    if name == "reinforce":
        pytest.skip("MnasNet's reward needs a latency or energy objective, which this store lacks "
                    "(tests/search/test_reinforce.py covers it on HW-NAS-Bench latency)")  # fmt: skip
    keys = [[q.arch.key for q in run(bench, name, seed=3, budget=20).history] for _ in range(2)]
    assert len(keys[0]) == 20 == len(set(keys[0]))
    assert keys[0] == keys[1]
    assert [q.arch.key for q in run(bench, name, seed=4, budget=20).history] != keys[0]


def test_searcher_front_and_scalar_view_follow_the_told_scores() -> None:
    space = get_space("nb201")
    search = make_mo_searcher("random", space, seed=0)
    archs = search.ask(5)
    scores = np.array([[1.0, 5.0], [2.0, 4.0], [0.0, 0.0], [3.0, 1.0], [1.0, 1.0]])
    search.tell(archs, scores)
    assert search.front() == [archs[i] for i in np.flatnonzero(non_dominated(scores))]
    assert [search.scores[a.key] for a in archs] == [0.0, 0.0, -2.0, 0.0, -1.0]  # minus the front index
    assert search.best()[0] in search.front()
    with pytest.raises(ValueError, match=r"shape \(2, objectives\)"):
        search.tell(archs[:2], [1.0, 2.0])
    with pytest.raises(ValueError, match="3 objectives, earlier calls had 2"):
        search.tell(archs[:1], [[1.0, 2.0, 3.0]])


def test_nsga2_replaces_the_most_crowded_member_of_the_last_front() -> None:
    space = get_space("nb201")
    nsga = NSGA2Search(space, seed=0, population_size=4)
    archs = nsga.ask(6)
    nsga.tell(archs[:4], [[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    assert nsga.population == [a.key for a in archs[:4]]
    nsga.tell([archs[4]], [[0.5, 0.5]])  # dominated: alone in the last front, it leaves at once
    assert nsga.population == [a.key for a in archs[:4]]
    nsga.tell([archs[5]], [[2.0, 2.0]])  # joins the front; the most crowded of it leaves, never an extreme
    assert len(nsga.population) == 4 and archs[5].key in nsga.population
    assert archs[0].key in nsga.population and archs[3].key in nsga.population
    children = nsga.ask(3)
    assert len({c.key for c in children}) == 3 and not {c.key for c in children} & {a.key for a in archs}
    with pytest.raises(ValueError, match="population_size must be an int >= 2"):
        NSGA2Search(space, population_size=1)
    with pytest.raises(ValueError, match="tournament_size 5 exceeds population_size 4"):
        NSGA2Search(space, population_size=4, tournament_size=5)


def test_parego_scalarisation() -> None:
    matrix = np.array([[0.0, 10.0], [5.0, 5.0], [10.0, 0.0]])
    assert normalise(matrix).tolist() == [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]
    weights = np.array([0.5, 0.5])
    # distances to the ideal (1, 1): (1, 0), (0.5, 0.5), (0, 1); max of weighted plus 0.1 x their sum
    assert tchebycheff(normalise(matrix), weights, 0.1).tolist() == pytest.approx([-0.55, -0.3, -0.55])
    assert tchebycheff(normalise(matrix), np.array([1.0, 0.0]), 0.0).tolist() == [-1.0, -0.5, 0.0]
    space = get_space("nb201")
    parego = ParEGOSearch(space, seed=0, n_initial=3, ensemble_size=2, n_candidates=20)
    archs = parego.ask(3)
    parego.tell(archs, matrix)
    drawn = []
    for _ in range(3):
        child = parego.ask(1)
        parego.tell(child, [[float(len(drawn)), 1.0]])
        assert parego.weights is not None and parego.weights.sum() == pytest.approx(1.0)
        drawn.append(tuple(parego.weights))
    assert len(set(drawn)) == 3  # a fresh weight vector per refit
    with pytest.raises(ValueError, match="rho must be"):
        ParEGOSearch(space, rho=-1.0)


def test_predictor_guided_beats_random_on_average(bench: pb.benchmarks.TabularBenchmark) -> None:
    # baseline accuracy vs analog accuracy after one day of drift, 25 queries; hypervolume w.r.t. the space's worst
    # point (a loose reference, so that every run's front counts from the first query)
    scores = space_scores(bench, MultiObjectiveOracle(bench).objectives)
    worst = scores.min(axis=0)

    def final(name: str, seed: int) -> float:
        return hypervolume(run(bench, name, seed, budget=25).score_matrix(), worst)

    seeds = range(4)
    assert np.mean([final("parego", s) for s in seeds]) > np.mean([final("random", s) for s in seeds])
