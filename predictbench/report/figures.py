"""Figures for reports (matplotlib, imported lazily, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from predictbench.paths import atomic_path
from predictbench.report.leaderboard import PRIMARY, tau_by_size

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure() -> tuple[Figure, Any]:
    """A report-sized figure and its axes (Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6.4, 4.2), dpi=120)


def save_png(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG atomically (without the software tag, so no URL hides in it) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)
    return path


def tau_vs_train_size(records: pd.DataFrame, path: str | Path, title: str = "", metric: str = PRIMARY) -> Path:
    """Mean ``metric`` (with 95% CI band) against training-set size, one line per predictor."""
    table = tau_by_size(records, metric)
    fig, ax = new_figure()
    for name, unsorted in table.groupby("predictor"):
        group = unsorted.sort_values("train_size")
        ax.plot(group["train_size"], group["mean"], marker="o", ms=3, label=str(name))
        ax.fill_between(group["train_size"], group["mean"] - group["ci95"], group["mean"] + group["ci95"], alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training-set size")
    ax.set_ylabel("Kendall τ" if metric == PRIMARY else metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def best_so_far(records: pd.DataFrame, path: str | Path, *, title: str = "", ylabel: str = "") -> Path:
    """Mean incumbent reported value vs queries, with a 95% bootstrap band, one line per searcher."""
    from predictbench.report.curves import bootstrap_band, trajectories

    fig, ax = new_figure()
    for name, values in trajectories(records).items():
        x = np.arange(1, values.shape[1] + 1)
        low, high = bootstrap_band(values)
        ax.plot(x, values.mean(axis=0), label=name)
        ax.fill_between(x, low, high, alpha=0.2)
    ax.set_xlabel("queries (distinct architectures)")
    ax.set_ylabel(ylabel or "reported value of the incumbent")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def queries_to_optimum_cdf(records: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Fraction of runs that reached the optimum of the search signal within q queries, one step line per searcher.

    Runs that never reached it keep the curve below 1 at the budget (the distribution is censored there).
    """
    fig, ax = new_figure()
    for name, group in records.groupby("searcher"):
        budget = int(group["budget"].max())
        hits = group["queries_to_optimum"].to_numpy(dtype=float)
        queries = np.arange(1, budget + 1)
        reached = (hits[None, :] <= queries[:, None]).mean(axis=1)  # NaN (never reached) compares False
        ax.step(queries, reached, where="post", label=f"{name} ({np.isfinite(hits).sum()}/{len(hits)} runs)")
    ax.set_xlabel("queries (distinct architectures)")
    ax.set_ylabel("fraction of runs that reached the optimum")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def quality_vs_cost(records: pd.DataFrame, path: str | Path, *, title: str = "", metric: str = PRIMARY) -> Path:
    """Each predictor's AUC against its mean fit time at the largest training size; the Pareto front highlighted.

    Predictors not run at the largest size are left out.
    """
    from predictbench.report.leaderboard import predictor_leaderboard
    from predictbench.report.pareto import plot_pareto

    board = predictor_leaderboard(records, metric)
    largest = records[records["train_size"] == records["train_size"].max()]
    seconds = largest.groupby("predictor")["fit_seconds"].mean().reindex(board.index).dropna()
    fig, ax = new_figure()
    plot_pareto(ax, np.column_stack([seconds.to_numpy(), board.loc[seconds.index, "AUC"].to_numpy()]),
                ("min", "max"), names=(f"mean fit seconds at n={int(largest['train_size'].iloc[0])}", "AUC"),
                point_labels=seconds.index.astype(str).tolist(), title=title)  # fmt: skip
    ax.set_xscale("log")
    return save_png(fig, path)
