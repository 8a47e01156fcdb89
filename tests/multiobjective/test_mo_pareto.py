from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from predictbench.multiobjective import pareto
from predictbench.multiobjective.pareto import (
    crowding_distance,
    dominates,
    missing_as_worst,
    non_dominated,
    non_dominated_sort,
)


def score_sets(max_objectives: int = 4, max_points: int = 30) -> st.SearchStrategy[np.ndarray]:
    """Small integer-valued score matrices: many ties and duplicates, the hard cases of dominance."""
    return st.tuples(st.integers(1, max_objectives), st.integers(1, max_points)).flatmap(
        lambda shape: arrays(np.float64, (shape[1], shape[0]), elements=st.integers(0, 4).map(float))
    )


def brute_force_ranks(points: np.ndarray) -> np.ndarray:
    """Fronts by the definition: peel the points no remaining point dominates, one pair at a time."""
    ranks = np.full(len(points), -1)
    front = 0
    while (ranks < 0).any():
        left = [i for i in range(len(points)) if ranks[i] < 0]
        first = [i for i in left if not any(dominates(points[j], points[i]) for j in left)]
        ranks[first] = front
        front += 1
    return ranks


@settings(max_examples=100, deadline=None)
@given(score_sets())
def test_non_dominated_sort_matches_the_definition(points: np.ndarray) -> None:
    expected = brute_force_ranks(points)
    assert non_dominated_sort(points).tolist() == expected.tolist()
    assert non_dominated(points).tolist() == (expected == 0).tolist()


@settings(max_examples=100, deadline=None)
@given(score_sets())
def test_both_sorting_paths_agree_and_fronts_are_consistent(points: np.ndarray) -> None:
    ranks = non_dominated_sort(points)
    matrix_max = pareto.MATRIX_SORT_MAX
    try:
        pareto.MATRIX_SORT_MAX = 0  # the front-peeling path used for large sets
        assert non_dominated_sort(points).tolist() == ranks.tolist()
    finally:
        pareto.MATRIX_SORT_MAX = matrix_max
    # a point of front k+1 is dominated by some point of front k; no point dominates one of its own front
    for k in range(int(ranks.max()) + 1):
        members = points[ranks == k]
        assert not dominates(members[:, None, :], members[None, :, :]).any()
        if k:
            assert dominates(points[ranks == k - 1][:, None, :], members[None, :, :]).any(axis=0).all()
    # order does not matter, and duplicates share their front
    perm = np.random.default_rng(0).permutation(len(points))
    assert non_dominated_sort(points[perm]).tolist() == ranks[perm].tolist()
    doubled = non_dominated_sort(np.vstack([points, points]))
    assert doubled.tolist() == [*ranks.tolist(), *ranks.tolist()]


def test_non_dominated_on_a_large_two_objective_set() -> None:
    points = np.random.default_rng(1).random((15625, 2))
    mask = non_dominated(points)
    order = np.argsort(-points[:, 0])
    best_second = np.maximum.accumulate(points[order, 1])
    expected = np.zeros(len(points), dtype=bool)
    expected[order] = points[order, 1] >= best_second  # no point with a larger first objective is higher
    assert mask.tolist() == expected.tolist()


def test_crowding_distance_by_hand() -> None:
    assert crowding_distance([[0, 2], [1, 1], [2, 0]]).tolist() == [np.inf, 2.0, np.inf]
    # objective ranges 4 and 8; the middle points' neighbours span (2-0)/4 + (8-4)/8 and (4-1)/4 + (4-0)/8
    distance = crowding_distance([[0, 8], [1, 4], [2, 4], [4, 0]])
    assert distance[[0, 3]].tolist() == [np.inf, np.inf]
    assert distance[1] == pytest.approx(2 / 4 + 4 / 8)
    assert distance[2] == pytest.approx(3 / 4 + 4 / 8)
    assert crowding_distance([[1, 1], [1, 1], [1, 1]]).tolist() == [0.0, 0.0, 0.0]
    assert crowding_distance([[1, 1], [0, 3]]).tolist() == [np.inf, np.inf]


def test_missing_values_count_as_worst_and_nan_is_refused() -> None:
    scores = missing_as_worst([[1.0, np.nan], [0.0, 0.0], [0.5, 1.0]])
    assert scores[0, 1] == -np.inf
    assert non_dominated(scores).tolist() == [True, False, True]
    with pytest.raises(ValueError, match="NaN"):
        non_dominated([[1.0, np.nan]])
    with pytest.raises(ValueError, match=r"shape \(n, objectives\)"):
        non_dominated([1.0, 2.0])
