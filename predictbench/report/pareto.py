"""Pareto fronts: which points are non-dominated, and a figure that highlights them.

Directions are given per objective as ``"max"`` / ``"min"`` or as a bool meaning "higher is better" (the
vocabulary of :class:`predictbench.Metric`), e.g. ``("max", "min")`` for accuracy against latency.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Direction = str | bool
CHUNK = 512  # rows compared at once when there are more than two objectives (bounds memory to CHUNK x n x d)


def maximise_signs(directions: Sequence[Direction], n_objectives: int) -> np.ndarray:
    """+1 for each objective to maximise, -1 for each to minimise."""
    if len(directions) != n_objectives:
        raise ValueError(f"need one direction per objective ({n_objectives}), got {list(directions)}")
    signs = []
    for direction in directions:
        if isinstance(direction, bool | np.bool_):
            signs.append(1.0 if direction else -1.0)
        elif direction in ("max", "min"):
            signs.append(1.0 if direction == "max" else -1.0)
        else:
            raise ValueError(f"direction must be 'max', 'min' or a bool (higher is better), got {direction!r}")
    return np.array(signs)


def _as_points(points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    array = np.asarray(points, dtype=float)
    if array.ndim != 2 or array.shape[1] < 2:
        raise ValueError(f"points must be an (n, d) array with d >= 2 objectives, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("points must be finite (drop or impute NaN/inf objective values first)")
    return array


def non_dominated(points: np.ndarray | Sequence[Sequence[float]], directions: Sequence[Direction]) -> np.ndarray:
    """Boolean mask of the points no other point dominates (at least as good everywhere, better somewhere).

    Duplicated points do not dominate each other, so all copies of a front point are on the front. Two
    objectives take an O(n log n) sweep; more compare blocks of points against all of them.

    Examples
    --------
    >>> non_dominated([[0.9, 10.0], [0.8, 5.0], [0.7, 7.0]], ("max", "min")).tolist()
    [True, True, False]
    """
    array = _as_points(points)
    scores = array * maximise_signs(directions, array.shape[1])  # now every objective is maximised
    if len(scores) == 0:
        return np.zeros(0, dtype=bool)
    unique, inverse = np.unique(scores, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if unique.shape[1] == 2:
        order = np.lexsort((-unique[:, 1], -unique[:, 0]))  # first objective descending, then second
        second = unique[order, 1]
        best_before = np.concatenate([[-np.inf], np.maximum.accumulate(second)[:-1]])
        front_sorted = best_before < second  # an earlier point is >= on the first and not identical
        front = np.empty(len(unique), dtype=bool)
        front[order] = front_sorted
        return front[inverse]
    front = np.ones(len(unique), dtype=bool)
    for start in range(0, len(unique), CHUNK):
        block = unique[start : start + CHUNK, None, :]
        at_least = np.all(unique[None, :, :] >= block, axis=2)
        better = np.any(unique[None, :, :] > block, axis=2)
        front[start : start + CHUNK] = ~np.any(at_least & better, axis=1)
    return front[inverse]


def _axis_label(name: str, sign: float) -> str:
    return f"{name} ({'higher' if sign > 0 else 'lower'} is better)"


def plot_pareto(
    target: Axes | str | Path,
    points: np.ndarray | Sequence[Sequence[float]],
    directions: Sequence[Direction],
    *,
    names: Sequence[str] | None = None,
    label: str | None = None,
    point_labels: Sequence[str] | None = None,
    title: str = "",
) -> Any:
    """Scatter two objectives and highlight the non-dominated front as markers joined by its staircase.

    Parameters
    ----------
    target
        A matplotlib ``Axes`` to draw on (returned, so several point sets can share one plot: each call takes
        the next colour and ``label`` names it in the legend), or a path: a PNG is written there and its
        ``Path`` returned.
    points
        ``(n, 2)`` objective values.
    directions
        Per objective, ``"max"`` / ``"min"`` or a bool meaning higher is better.
    names
        Axis names; the direction is added to each ("latency (lower is better)"). Without names, an existing
        ``Axes`` keeps its axis labels and a new figure says "objective 1" and "objective 2".
    label
        Legend name of this point set.
    point_labels
        Optional text shown next to each point (e.g. predictor names).
    title
        Axes title (kept when empty and drawing on an existing ``Axes``).

    Examples
    --------
    >>> plot_pareto("front.png", [[0.9, 10.0], [0.8, 5.0], [0.7, 7.0]], ("max", "min"),
    ...             names=("accuracy", "latency ms"))  # doctest: +SKIP
    """
    array = _as_points(points)
    if array.shape[1] != 2:
        raise ValueError(f"plot_pareto draws two objectives, got {array.shape[1]}")
    if names is not None and len(names) != 2:
        raise ValueError(f"names must name the two objectives, got {list(names)}")
    if point_labels is not None and len(point_labels) != len(array):
        raise ValueError(f"point_labels has {len(point_labels)} entries for {len(array)} points")
    signs = maximise_signs(directions, 2)
    front = non_dominated(array, directions)
    if isinstance(target, str | Path):
        from predictbench.report.figures import new_figure, save_png

        fig, ax = new_figure()
        _draw(ax, array, front, signs, names, label, point_labels, title)
        return save_png(fig, target)
    if not hasattr(target, "scatter"):
        raise TypeError(f"target must be a matplotlib Axes or a file path, got {type(target).__name__}")
    _draw(target, array, front, signs, names, label, point_labels, title)
    return target


def _draw(
    ax: Axes,
    array: np.ndarray,
    front: np.ndarray,
    signs: np.ndarray,
    names: Sequence[str] | None,
    label: str | None,
    point_labels: Sequence[str] | None,
    title: str,
) -> None:
    best = array[front][np.argsort(array[front, 0], kind="stable")]
    # the front's attainment staircase: between two front points the better of them on the second objective
    (line,) = ax.step(best[:, 0], best[:, 1], where="pre" if signs[0] > 0 else "post", lw=1.2, alpha=0.8)
    colour = line.get_color()
    ax.scatter(array[~front, 0], array[~front, 1], s=12, color=colour, alpha=0.25, linewidths=0)
    ax.scatter(best[:, 0], best[:, 1], s=36, color=colour, edgecolors="black", linewidths=0.6, zorder=3,
               label=f"{label} (front)" if label else "non-dominated")  # fmt: skip
    if point_labels is not None:
        for (x, y), text in zip(array, point_labels, strict=True):
            ax.annotate(str(text), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    if names is not None or not (ax.get_xlabel() or ax.get_ylabel()):
        x_name, y_name = names if names is not None else ("objective 1", "objective 2")
        ax.set_xlabel(_axis_label(x_name, signs[0]))
        ax.set_ylabel(_axis_label(y_name, signs[1]))
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
