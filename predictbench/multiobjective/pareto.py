"""Pareto dominance on score matrices: non-dominated filtering, non-dominated sorting, crowding distance.

Every function takes an ``(n, m)`` matrix of SCORES where higher is better in every column (a metric's direction
is applied once, by :meth:`predictbench.types.Metric.to_score`). Point ``a`` dominates ``b`` when ``a >= b`` in
every objective and ``a > b`` in at least one; equal points do not dominate each other, so duplicates share a
front. Scores may be infinite (``-inf``: the worst possible, see :func:`missing_as_worst`) but never NaN.
"""

from __future__ import annotations

import numpy as np

#: Up to this many points :func:`non_dominated_sort` builds the full (n, n) dominance matrix; beyond, it peels
#: fronts with :func:`non_dominated` (memory linear in n).
MATRIX_SORT_MAX = 1024


def as_points(points: object, *, name: str = "points") -> np.ndarray:
    """``points`` as a float matrix of shape (n, m), m >= 1, without NaN; raises ValueError naming what is wrong."""
    array = np.asarray(points, dtype=float)
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a matrix of shape (n, objectives), got shape {array.shape}")
    if np.isnan(array).any():
        row = int(np.flatnonzero(np.isnan(array).any(axis=1))[0])
        raise ValueError(f"{name} must not hold NaN (use missing_as_worst), row {row} is {array[row].tolist()}")
    return array


def missing_as_worst(scores: object) -> np.ndarray:
    """``scores`` with NaN (a metric the table lacks for a cell) replaced by ``-inf``, the worst score."""
    array = np.asarray(scores, dtype=float)
    return np.where(np.isnan(array), -np.inf, array)


def dominates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether ``a`` dominates ``b`` (broadcast over leading axes; the last axis holds the objectives)."""
    return np.asarray(np.all(a >= b, axis=-1) & np.any(a > b, axis=-1))


def non_dominated(points: object) -> np.ndarray:
    """Boolean mask of the points no other point dominates (the first front).

    Sweeps candidates from the best first objective down; each candidate removes every remaining point it weakly
    dominates (except its duplicates), so the work is about (front size) x n comparisons, vectorised per sweep.
    Fast enough for a whole benchmark (15,625 cells).

    Examples
    --------
    >>> non_dominated([[1, 1], [2, 0], [0, 0], [1, 1]]).tolist()
    [True, True, False, True]
    """
    pts = as_points(points)
    order = np.lexsort(tuple(-pts[:, j] for j in reversed(range(pts.shape[1]))))
    alive = order
    position = 0
    while position < len(alive):
        current = pts[alive[position]]
        candidates = pts[alive]
        keep = np.any(candidates > current, axis=1) | np.all(candidates == current, axis=1)
        alive = alive[keep]
        position = int(np.count_nonzero(keep[:position])) + 1
    mask = np.zeros(len(pts), dtype=bool)
    mask[alive] = True
    return mask


def non_dominated_sort(points: object) -> np.ndarray:
    """Front index of every point: 0 for the non-dominated points, 1 for those non-dominated once 0 is removed...

    Examples
    --------
    >>> non_dominated_sort([[3, 1], [1, 3], [2, 0], [0, 0]]).tolist()
    [0, 0, 1, 2]
    """
    pts = as_points(points)
    ranks = np.full(len(pts), -1, dtype=np.int64)
    if len(pts) <= MATRIX_SORT_MAX:
        # the whole dominance matrix at once, then peel fronts by domination counts (Deb et al., 2002)
        beats = dominates(pts[:, None, :], pts[None, :, :])
        count = beats.sum(axis=0)
        front = 0
        while (ranks < 0).any():
            members = (count == 0) & (ranks < 0)
            ranks[members] = front
            count = count - beats[members].sum(axis=0)
            front += 1
        return ranks
    remaining = np.arange(len(pts))
    front = 0
    while len(remaining):
        first = non_dominated(pts[remaining])
        ranks[remaining[first]] = front
        remaining = remaining[~first]
        front += 1
    return ranks


def crowding_distance(points: object) -> np.ndarray:
    """NSGA-II crowding distance of each point within its set (usually one front).

    Per objective the points are sorted; the two extremes get infinity, every other point the gap between its
    neighbours divided by the objective's range; distances add over objectives. Objectives with zero range add
    nothing.

    Examples
    --------
    >>> crowding_distance([[0, 2], [1, 1], [2, 0]]).tolist()
    [inf, 2.0, inf]
    """
    pts = as_points(points)
    n, m = pts.shape
    if n <= 2:
        return np.full(n, np.inf)
    order = np.argsort(pts, axis=0, kind="stable")
    ordered = np.take_along_axis(pts, order, axis=0)
    span = ordered[-1] - ordered[0]
    gaps = np.zeros((n, m))
    with np.errstate(invalid="ignore"):  # infinite scores: a gap next to an infinite value counts as infinite
        inner = (ordered[2:] - ordered[:-2]) / np.where(span > 0, span, 1.0)
    gaps[1:-1] = np.where(np.isnan(inner), np.inf, inner)
    gaps[0] = gaps[-1] = np.where(span > 0, np.inf, 0.0)
    distance = np.zeros((n, m))
    np.put_along_axis(distance, order, gaps, axis=0)
    return np.asarray(distance.sum(axis=1))
