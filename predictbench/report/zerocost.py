"""Zero-cost proxy analysis over a whole benchmark: rank correlation with a target, top-k overlap, agreement.

Proxies are training-free columns of a store (``proxies.parquet``), so the analysis reads every cell at once
instead of study records. Scores are "higher is better": each proxy's declared direction is applied once, by its
:class:`~predictbench.types.Metric` (:func:`proxy_scores`); nothing here takes ``abs()`` of a correlation, so a
proxy that ranks backwards shows a negative τ. The metrics themselves are those of
:mod:`predictbench.studies.metrics`.

Examples
--------
>>> import predictbench as pb
>>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
>>> scores = proxy_scores(bench)  # doctest: +SKIP
>>> table = score_correlations(scores, bench.scores(bench.keys(), "test_acc", fidelity=200))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictbench.studies.metrics import kendall_tau, precision_at_k, spearman_rho

if TYPE_CHECKING:
    from predictbench.benchmarks import TabularBenchmark

DEFAULT_TOP_K: tuple[int, ...] = (10, 100)


def proxy_scores(bench: TabularBenchmark, proxies: Sequence[str] | None = None, *, fill: bool = True) -> pd.DataFrame:
    """Every cell's zero-cost proxy values as higher-is-better scores, one column per proxy.

    Parameters
    ----------
    bench
        A benchmark whose store has a proxies table.
    proxies
        Proxy names (default: all of the store's proxies).
    fill
        Give a cell without values those of its dead-op-free form (see ``TabularBenchmark.proxies``).

    Returns
    -------
    pandas.DataFrame
        Index: the benchmark's keys in store order; NaN where a cell has no value.
    """
    if not bench.proxy_names:
        raise ValueError(
            f"benchmark {bench.name!r} has no proxies table; zero-cost proxies ship with the NB201 tables "
            "(predictbench data convert nb201-tables ../shared/benchmarks_data -> nb201/cifar10)"
        )
    names = list(proxies) if proxies is not None else bench.proxy_names
    keys = bench.keys()
    values = bench.proxies(keys, names, fill=fill)
    signs = np.array([bench.metric(name).sign for name in names], dtype=float)
    return pd.DataFrame(values * signs, index=pd.Index(keys, name="key"), columns=names)


def score_correlations(
    scores: pd.DataFrame, target: np.ndarray, *, top_k: Sequence[int] = DEFAULT_TOP_K
) -> pd.DataFrame:
    """How well each score column ranks the cells by ``target``: Kendall τ, Spearman ρ and top-k overlap.

    Each column is judged on the cells where it and the target are finite (``cells``). ``top{k}_overlap`` is the
    fraction of the column's top-k cells that are in the target's top-k (precision@k).

    Parameters
    ----------
    scores
        One column per scorer (higher = better), rows aligned with ``target``.
    target
        Higher-is-better target scores (e.g. ``bench.scores(keys, "test_acc", fidelity=200)``).
    top_k
        The k of the overlap columns.

    Returns
    -------
    pandas.DataFrame
        One row per column of ``scores``, sorted by Kendall τ (best first), with its ``rank``.
    """
    target = np.asarray(target, dtype=float)
    if target.shape != (len(scores),):
        raise ValueError(f"target must have one value per row of scores ({len(scores)}), got shape {target.shape}")
    rows = []
    for name in scores.columns:
        column = scores[name].to_numpy(dtype=float)
        both = np.isfinite(column) & np.isfinite(target)
        y_true, y_score = target[both], column[both]
        row: dict[str, object] = {
            "scorer": str(name),
            "cells": int(both.sum()),
            "kendall_tau": kendall_tau(y_true, y_score) if both.sum() >= 2 else np.nan,
            "spearman": spearman_rho(y_true, y_score) if both.sum() >= 2 else np.nan,
        }
        for k in top_k:
            row[f"top{k}_overlap"] = precision_at_k(y_true, y_score, k) if 1 <= k <= len(y_true) else np.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("scorer").sort_values("kendall_tau", ascending=False)
    table.insert(0, "rank", table["kendall_tau"].rank(ascending=False, method="min").astype("Int64"))
    return table


def score_correlation_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Spearman ρ between every two score columns, each pair over the cells where both are finite."""
    return scores.corr(method="spearman")


def plot_correlation_matrix(matrix: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """A heatmap of a square correlation matrix (diverging colours fixed to [-1, 1], values printed)."""
    from predictbench.report.figures import new_figure, save_png

    fig, ax = new_figure()
    fig.set_size_inches(max(6.4, 0.45 * len(matrix) + 2), max(4.2, 0.45 * len(matrix) + 1.5))
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(matrix.columns)), [str(c) for c in matrix.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(matrix.index)), [str(i) for i in matrix.index], fontsize=8)
    for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(image, ax=ax, label="Spearman ρ")
    ax.set_title(title)
    return save_png(fig, path)


def plot_score_correlations(table: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Horizontal bars of each scorer's Kendall τ and Spearman ρ (a :func:`score_correlations` table)."""
    from predictbench.report.figures import new_figure, save_png

    fig, ax = new_figure()
    fig.set_size_inches(6.4, max(3.0, 0.3 * len(table) + 1.2))
    order = table.sort_values("kendall_tau")
    y = np.arange(len(order))
    ax.barh(y - 0.2, order["kendall_tau"], height=0.4, label="Kendall τ")
    ax.barh(y + 0.2, order["spearman"], height=0.4, label="Spearman ρ")
    ax.set_yticks(y, [str(i) for i in order.index], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("rank correlation with the target (sign kept)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8)
    return save_png(fig, path)
