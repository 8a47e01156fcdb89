"""Tables and figures of a supernet rank check (:func:`predictbench.supernet.study.rank_check`'s result).

Examples
--------
>>> result = rank_check(bench, digits(seed=0), n_cells=50, epochs=2)  # doctest: +SKIP
>>> rank_check_table(result)  # doctest: +SKIP
>>> plot_rank_check(result, bench, "figures/rank_check.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_rank_check", "rank_check_table", "rank_check_truth"]


def rank_check_table(result: dict[str, Any]) -> pd.DataFrame:
    """One row per estimator: Kendall tau, Spearman rho, tau against each table seed, fit and scoring seconds."""
    rows = {}
    for name, row in result["methods"].items():
        per_seed = {f"kendall_tau_seed_{s}": tau for s, tau in row["kendall_tau_per_table_seed"].items()}
        rows[name] = {
            "kendall_tau": row["kendall_tau"],
            "spearman": row["spearman"],
            **per_seed,
            "fit_seconds": row["fit_seconds"],
            "score_seconds": row["score_seconds"],
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "method"
    return table


def rank_check_truth(result: dict[str, Any], bench: Any) -> np.ndarray:
    """The ground truth of the checked cells (``result["truth"]``'s metric and fidelity, mean over table seeds)."""
    if result["benchmark"] != bench.name:
        raise ValueError(f"the rank check ranked cells of {result['benchmark']}, not of {bench.name}")
    truth = result["truth"]
    cells = bench.space.from_index(np.asarray(result["cells"], dtype=np.int64))
    return np.asarray(bench.lookup(cells, truth["metric"], fidelity=truth["fidelity"]), dtype=float)


def plot_rank_check(result: dict[str, Any], bench: Any, path: str | Path, *, title: str = "") -> Path:
    """One scatter per estimator: its one-shot score of every checked cell against the benchmark's truth.

    Each panel's title carries the estimator's Kendall tau and Spearman rho (from ``result``, not recomputed).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from predictbench.report.figures import save_png

    truth = rank_check_truth(result, bench)
    names = list(result["scores"])
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.0 * columns, 3.3 * rows), dpi=110, squeeze=False)
    label = f"{result['truth']['metric']} @ {result['truth']['fidelity']}"
    for ax, name in zip(axes.flat, names, strict=False):
        method = result["methods"][name]
        ax.scatter(truth, result["scores"][name], s=9, alpha=0.6)
        ax.set_title(f"{name}\nτ {method['kendall_tau']:+.3f}, ρ {method['spearman']:+.3f}", fontsize=9)
        ax.set_xlabel(f"{bench.name} {label}", fontsize=8)
        ax.set_ylabel("one-shot score", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_png(fig, path)
