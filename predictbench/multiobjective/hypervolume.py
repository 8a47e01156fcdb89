"""Exact hypervolume of a set of score vectors, and the reference-point rule that makes curves comparable.

Scores are higher-is-better in every objective. The hypervolume of a set S with respect to a reference point r is
the volume of the union of the boxes [r, p] over the points p of S; points not strictly better than r in every
objective add nothing.

- 2 objectives: one sort and a running maximum (O(n log n)).
- 3 or more: hypervolume by slicing objectives (HSO; While et al., IEEE TEC 2006): sort by the last objective,
  cut the dominated region into slabs between consecutive values, each slab's volume being its thickness times
  the (m-1)-objective hypervolume of the points above it; exact, O(n^(m-1) log n), ample for fronts of a few
  hundred points in 3-4 objectives.

Reference point rule (:func:`reference_point`): the nadir of the true Pareto front of the WHOLE space (the worst
score of each objective over the non-dominated architectures), moved away from the front by ``margin`` (default
10%) of the front's range in that objective. It depends only on the benchmark and the objectives, never on a run,
so hypervolume curves of every searcher and seed are comparable, and dividing by the true front's hypervolume gives
a normalised value in [0, 1].
"""

from __future__ import annotations

import numpy as np

from predictbench.multiobjective.pareto import as_points, non_dominated

DEFAULT_MARGIN = 0.1


def hypervolume(points: object, reference: object) -> float:
    """Exact hypervolume dominated by ``points`` (n, m) with respect to ``reference`` (m,); higher is better.

    Examples
    --------
    >>> hypervolume([[1, 3], [2, 2], [3, 1]], [0, 0])
    6.0
    >>> hypervolume([[1, 1, 1]], [0, 0, 0])
    1.0
    """
    ref = np.asarray(reference, dtype=float)
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return 0.0
    pts = as_points(pts)
    if ref.shape != (pts.shape[1],) or not np.isfinite(ref).all():
        raise ValueError(
            f"reference point must be {pts.shape[1]} finite values (one per objective), got {ref.tolist()}"
        )
    shifted = pts[np.all(pts > ref, axis=1)] - ref
    if not len(shifted):
        return 0.0
    return float(_volume(shifted[non_dominated(shifted)]))


def _volume(points: np.ndarray) -> float:
    """Volume of the union of the boxes [0, p] (points strictly positive)."""
    m = points.shape[1]
    if m == 1:
        return float(points.max())
    if m == 2:
        return _area(points)
    order = np.argsort(-points[:, -1], kind="stable")
    ordered = points[order]
    depth = ordered[:, -1] - np.append(ordered[1:, -1], 0.0)
    total = 0.0
    for i in np.flatnonzero(depth > 0):
        above = ordered[: i + 1, :-1]
        if above.shape[1] > 2:  # the 2-objective sweep is exact on dominated points too; deeper levels prune
            above = above[non_dominated(above)]
        total += depth[i] * _volume(above)
    return total


def _area(points: np.ndarray) -> float:
    """Area of the union of the rectangles [0, x] x [0, y]: sweep x from the right, strips between running maxima."""
    order = np.lexsort((-points[:, 1], -points[:, 0]))
    x, y = points[order, 0], points[order, 1]
    top = np.maximum.accumulate(y)
    rise = np.diff(top, prepend=0.0)
    return float(np.sum(x * rise))


def reference_point(space_scores: object, *, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """The fixed reference point of a benchmark's objectives: nadir of the true front minus ``margin`` x its range.

    ``space_scores`` are the scores of every architecture of the space, shape (n, m). An objective whose range on
    the front is zero (a front of one point in that objective) takes the range of the whole space instead, or 1.

    Examples
    --------
    >>> reference_point([[0, 10], [10, 0], [1, 1]]).tolist()
    [-1.0, -1.0]
    """
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    scores = as_points(space_scores, name="space_scores")
    if not len(scores):
        raise ValueError("space_scores is empty: a reference point needs the scores of the space's architectures")
    front = scores[non_dominated(scores)]
    nadir, ideal = front.min(axis=0), front.max(axis=0)
    span = ideal - nadir
    whole = scores.max(axis=0) - scores.min(axis=0)
    span = np.where(span > 0, span, np.where(whole > 0, whole, 1.0))
    return np.asarray(nadir - margin * span)
