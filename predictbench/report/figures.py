"""Figures for reports (matplotlib, imported lazily, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.paths import atomic_path
from predictbench.report.leaderboard import PRIMARY, tau_by_size


def tau_vs_train_size(records: pd.DataFrame, path: str | Path, title: str = "", metric: str = PRIMARY) -> Path:
    """Mean ``metric`` (with 95% CI band) against training-set size, one line per predictor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = tau_by_size(records, metric)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
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
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def best_so_far(records: pd.DataFrame, path: str | Path, *, title: str = "", ylabel: str = "") -> Path:
    """Mean incumbent reported value vs queries, with a 95% bootstrap band, one line per searcher."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from predictbench.report.curves import bootstrap_band, trajectories

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
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
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
