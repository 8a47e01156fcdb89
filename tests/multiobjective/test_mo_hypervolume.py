from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from predictbench.multiobjective.hypervolume import hypervolume, reference_point
from predictbench.multiobjective.pareto import non_dominated


def test_two_objectives_by_hand() -> None:
    # staircase of three unit-wide steps: 1x3 + 1x2 + 1x1
    assert hypervolume([[1, 3], [2, 2], [3, 1]], [0, 0]) == 6.0
    # a dominated point, a duplicate and a point beyond the reference change nothing
    assert hypervolume([[1, 3], [2, 2], [3, 1], [1, 1], [2, 2], [5, -1]], [0, 0]) == 6.0
    # minimisation turned into scores: latency 2 ms and 4 ms (scores -2, -4), accuracy 90 and 94; reference
    # (acc 80, latency 10 ms): 10 x 8 + 4 x 6
    assert hypervolume([[90, -2], [94, -4]], [80, -10]) == pytest.approx(10 * 8 + 4 * 6)
    assert hypervolume(np.empty((0, 2)), [0, 0]) == 0.0
    assert hypervolume([[-1, 5]], [0, 0]) == 0.0


def test_three_objectives_by_hand() -> None:
    assert hypervolume([[1, 1, 1]], [0, 0, 0]) == 1.0
    # two boxes 2x1x1 and 1x2x1 overlap in a unit cube; a third 1x1x2 overlaps both in the same cube
    assert hypervolume([[2, 1, 1], [1, 2, 1]], [0, 0, 0]) == 3.0
    assert hypervolume([[2, 1, 1], [1, 2, 1], [1, 1, 2]], [0, 0, 0]) == 4.0
    assert hypervolume([[3, 2, 1], [1, 2, 3]], [0, 0, 0]) == 6 + 6 - 2
    assert hypervolume([[2, 2, 2, 2]], [1, 1, 1, 1]) == 1.0


def grid_volume(points: np.ndarray) -> int:
    """Unit cells [c, c+1] of the integer grid that some point dominates (reference at the origin)."""
    m = points.shape[1]
    high = int(points.max()) if len(points) else 0
    count = 0
    for corner in itertools.product(range(high), repeat=m):
        if any(np.all(p >= np.array(corner) + 1) for p in points):
            count += 1
    return count


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 4).flatmap(
        lambda m: arrays(np.float64, st.tuples(st.integers(0, 12), st.just(m)), elements=st.integers(-1, 4).map(float))
    )
)
def test_exact_on_integer_points_against_counting_grid_cells(points: np.ndarray) -> None:
    kept = points[np.all(points > 0, axis=1)]
    assert hypervolume(points, np.zeros(points.shape[1])) == grid_volume(kept)


@pytest.mark.parametrize("m", [3, 4])
def test_matches_monte_carlo_in_higher_dimensions(m: int) -> None:
    rng = np.random.default_rng(m)
    # points near the simplex: most are mutually non-dominated, so slabs overlap in many ways
    points = 0.2 + rng.dirichlet(np.ones(m), size=30) * 0.8
    exact = hypervolume(points, np.zeros(m))
    samples = rng.random((200_000, m))
    front = points[non_dominated(points)]
    covered = np.zeros(len(samples), dtype=bool)
    for p in front:
        covered |= np.all(samples <= p, axis=1)
    estimate = covered.mean()
    stderr = np.sqrt(estimate * (1 - estimate) / len(samples))
    assert abs(exact - estimate) < 5 * stderr


def test_invariant_to_order_and_monotone_in_points() -> None:
    rng = np.random.default_rng(3)
    points = rng.random((40, 3))
    ref = np.zeros(3)
    value = hypervolume(points, ref)
    assert hypervolume(points[rng.permutation(40)], ref) == pytest.approx(value)
    assert hypervolume(points[:20], ref) <= value
    assert hypervolume(np.vstack([points, points * 0.5]), ref) == pytest.approx(value)


def test_reference_point_rule() -> None:
    # all three points are non-dominated: nadir (0, 0), range 10 per objective, margin 10%
    assert reference_point([[0, 10], [10, 0], [1, 1]]).tolist() == [-1.0, -1.0]
    # a dominated point does not move the nadir of the front
    assert reference_point([[0, 10], [10, 0], [-5, -5]], margin=0.5).tolist() == [-5.0, -5.0]
    # a single front point: the range of the whole space stands in for the front's
    assert reference_point([[4, 4], [0, 2], [2, 0]]).tolist() == [3.6, 3.6]
    with pytest.raises(ValueError, match="margin"):
        reference_point([[0, 1]], margin=-0.1)


def test_bad_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="reference point must be 2 finite values"):
        hypervolume([[1, 2]], [0, 0, 0])
    with pytest.raises(ValueError, match="reference point must be 2 finite values"):
        hypervolume([[1, 2]], [0, np.nan])
