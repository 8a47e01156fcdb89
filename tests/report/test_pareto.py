from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from predictbench.report.pareto import non_dominated, plot_pareto


def brute_force(points: np.ndarray, signs: np.ndarray) -> np.ndarray:
    scores = points * signs
    return np.array([not any((other >= p).all() and (other > p).any() for other in scores) for p in scores], dtype=bool)


small_ints = st.integers(min_value=0, max_value=4).map(float)  # few distinct values: many ties and duplicates


@settings(max_examples=150, deadline=None)
@given(
    points=st.integers(1, 3).flatmap(
        lambda d: arrays(np.float64, st.tuples(st.integers(1, 25), st.just(d + 1)), elements=small_ints)
    ),
    flips=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_non_dominated_matches_brute_force(points: np.ndarray, flips: list[bool]) -> None:
    directions = ["max" if f else "min" for f in flips[: points.shape[1]]]
    signs = np.array([1.0 if f else -1.0 for f in flips[: points.shape[1]]])
    assert np.array_equal(non_dominated(points, directions), brute_force(points, signs))


def test_directions_and_duplicates() -> None:
    points = [[0.9, 10.0], [0.8, 5.0], [0.7, 7.0], [0.8, 5.0]]
    assert non_dominated(points, ("max", "min")).tolist() == [True, True, False, True]
    assert non_dominated(points, (True, False)).tolist() == [True, True, False, True]
    assert non_dominated(points, ("min", "max")).tolist() == [True, False, True, False]


def test_bad_input_messages() -> None:
    with pytest.raises(ValueError, match="one direction per objective"):
        non_dominated([[1.0, 2.0]], ("max",))
    with pytest.raises(ValueError, match="'max', 'min' or a bool"):
        non_dominated([[1.0, 2.0]], ("max", "up"))
    with pytest.raises(ValueError, match="finite"):
        non_dominated([[1.0, np.nan]], ("max", "max"))
    with pytest.raises(ValueError, match=r"\(n, d\) array"):
        non_dominated([1.0, 2.0], ("max", "max"))
    with pytest.raises(ValueError, match="two objectives"):
        plot_pareto("x.png", [[1.0, 2.0, 3.0]], ("max", "max", "max"))
    with pytest.raises(TypeError, match="matplotlib Axes or a file path"):
        plot_pareto(42, [[1.0, 2.0]], ("max", "max"))  # type: ignore[arg-type]


def test_plot_pareto_to_file_and_onto_axes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(60, 2))
    path = plot_pareto(tmp_path / "front.png", points, ("max", "min"), names=("accuracy", "latency"), title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert plot_pareto(ax, points, ("max", "min"), names=("accuracy", "latency"), label="run 1") is ax
    plot_pareto(ax, points + 1.0, ("max", "min"), label="run 2", point_labels=[str(i) for i in range(60)])
    front = non_dominated(points, ("max", "min"))
    lines = ax.get_lines()
    assert len(lines) == 2 and lines[0].get_color() != lines[1].get_color()  # each set takes the next colour
    assert len(lines[0].get_xdata()) == front.sum()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["run 1 (front)", "run 2 (front)"]
    assert ax.get_xlabel() == "accuracy (higher is better)" and ax.get_ylabel() == "latency (lower is better)"
    assert len(ax.texts) == 60
    plt.close(fig)
