from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.report.zerocost import (
    plot_correlation_matrix,
    plot_score_correlations,
    proxy_scores,
    score_correlation_matrix,
    score_correlations,
)
from predictbench.types import Metric


class _ProxyStore:
    """The fields proxy_scores reads, for a store with one higher- and one lower-is-better proxy."""

    name = "toy/proxies"
    proxy_names = ["good", "cost"]  # noqa: RUF012
    metrics = {  # noqa: RUF012
        "good": Metric("good", higher_is_better=True, kind="proxy"),
        "cost": Metric("cost", higher_is_better=False, kind="proxy"),
    }

    def keys(self) -> np.ndarray:
        return np.array(["a", "b", "c"], dtype=object)

    def metric(self, name: str) -> Metric:
        return self.metrics[name]

    def proxies(self, keys: np.ndarray, names: list[str], *, fill: bool = True) -> np.ndarray:
        table = {"good": [1.0, 2.0, np.nan], "cost": [10.0, 20.0, 30.0]}
        return np.column_stack([table[n] for n in names])


def test_proxy_scores_apply_each_declared_direction_once() -> None:
    scores = proxy_scores(_ProxyStore())  # type: ignore[arg-type]
    assert list(scores.index) == ["a", "b", "c"] and list(scores.columns) == ["good", "cost"]
    assert scores["cost"].tolist() == [-10.0, -20.0, -30.0]  # lower is better -> negated, never abs()
    assert scores["good"].iloc[:2].tolist() == [1.0, 2.0] and np.isnan(scores["good"].iloc[2])
    assert proxy_scores(_ProxyStore(), ["cost"]).columns.tolist() == ["cost"]  # type: ignore[arg-type]


def test_score_correlations_keep_the_sign_and_judge_finite_cells() -> None:
    target = np.arange(200, dtype=float)
    noisy = target + np.random.default_rng(0).normal(scale=40.0, size=200)
    partial = target.copy()
    partial[:50] = np.nan
    scores = pd.DataFrame({"perfect": target, "reversed": -target, "noisy": noisy, "partial": partial})
    table = score_correlations(scores, target, top_k=(10, 100))
    assert table.index.tolist()[-1] == "reversed" and table.loc["reversed", "rank"] == 4
    assert table.loc["perfect", "kendall_tau"] == pytest.approx(1.0)
    assert table.loc["reversed", "kendall_tau"] == pytest.approx(-1.0)
    assert table.loc["reversed", "spearman"] == pytest.approx(-1.0)
    assert 0.3 < table.loc["noisy", "kendall_tau"] < 0.95
    assert table.loc["partial", "cells"] == 150 and table.loc["perfect", "cells"] == 200
    assert table.loc["perfect", "top10_overlap"] == 1.0 and table.loc["reversed", "top100_overlap"] == 0.0
    too_big = score_correlations(scores[["partial"]], target, top_k=(151,))
    assert np.isnan(too_big.loc["partial", "top151_overlap"])
    with pytest.raises(ValueError, match="one value per row of scores"):
        score_correlations(scores, target[:10])


def test_correlation_matrix_and_figures(tmp_path: Path) -> None:
    x = np.arange(50, dtype=float)
    scores = pd.DataFrame({"a": x, "b": -x, "c": x**2})
    matrix = score_correlation_matrix(scores)
    assert matrix.loc["a", "b"] == pytest.approx(-1.0) and matrix.loc["a", "c"] == pytest.approx(1.0)
    assert np.allclose(np.diag(matrix), 1.0) and np.allclose(matrix, matrix.T)
    heatmap = plot_correlation_matrix(matrix, tmp_path / "m.png", title="toy")
    bars = plot_score_correlations(score_correlations(scores, x), tmp_path / "c.png")
    assert heatmap.read_bytes()[:4] == b"\x89PNG" and bars.read_bytes()[:4] == b"\x89PNG"


def test_a_store_without_proxies_names_the_store_to_convert(analog_root: Path) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    with pytest.raises(ValueError, match=r"'nb201-analog/cifar10' has no proxies table.*convert nb201-tables"):
        proxy_scores(bench)


@pytest.mark.shared_data
def test_nb201_proxies_over_every_cell(nb201_tables_root: Path) -> None:
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    scores = proxy_scores(bench)
    assert scores.shape == (15625, len(bench.proxy_names))
    assert np.array_equal(scores.to_numpy(), bench.proxies(bench.keys()), equal_nan=True)  # all higher-is-better
    target = bench.scores(bench.keys(), "test_acc", fidelity=200)
    table = score_correlations(scores[["synflow", "nwot", "plain"]], target)
    # NAS-Bench-Suite-Zero's NB201 CIFAR-10 finding: synflow and nwot rank well, "plain" ranks backwards
    assert table.loc["synflow", "spearman"] > 0.7 and table.loc["nwot", "spearman"] > 0.7
    assert table.loc["plain", "kendall_tau"] < 0
