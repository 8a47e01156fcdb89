"""Tables and figures of pruning-study records: space left per round, optimum survival, which choices go.

Every function reads records of :class:`~predictbench.studies.pruning_study.PruningStudy` (as returned by
:func:`predictbench.studies.read_results`); nothing is recomputed from the benchmark.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROUND_FIELDS = (
    "round",
    "queries",
    "size",
    "fraction_pruned",
    "pruned",
    "forbidden",
    "search_optimum_survives",
    "report_optimum_survives",
)


def pruning_rounds(records: pd.DataFrame) -> pd.DataFrame:
    """One row per (config, seed, pruning round) with the round's fields (``pruned``: newly pruned choices)."""
    missing = sorted({"config", "seed", "rounds"} - set(records.columns))
    if missing:
        raise ValueError(f"not pruning-study records: columns {missing} missing (have {sorted(records.columns)})")
    rows = [
        {"config": config, "seed": seed, **{f: entry[f] for f in ROUND_FIELDS}}
        for config, seed, rounds in zip(records["config"], records["seed"], records["rounds"], strict=True)
        for entry in rounds
    ]
    return pd.DataFrame(rows, columns=["config", "seed", *ROUND_FIELDS])


def pruning_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per (config, round): runs, mean queries, share of the space left (mean, min, max), optimum survival rates.

    ``search optimum kept`` / ``report optimum kept`` are the fractions of runs whose constrained space still
    holds the best cell by the search signal / by the reported metric after that round.
    """
    rounds = pruning_rounds(records)
    rounds["left"] = 1.0 - rounds["fraction_pruned"]
    table = rounds.groupby(["config", "round"]).agg(
        runs=("seed", "count"),
        queries=("queries", "mean"),
        left_mean=("left", "mean"),
        left_min=("left", "min"),
        left_max=("left", "max"),
        search_optimum_kept=("search_optimum_survives", "mean"),
        report_optimum_kept=("report_optimum_survives", "mean"),
    )
    table.columns = [c.replace("_", " ") for c in table.columns]
    return table


def final_by_config(records: pd.DataFrame) -> pd.DataFrame:
    """Per config: runs, reported value of the final incumbent (mean, std) and the share of runs that ended on the
    best cell by the reported metric, best mean first."""
    found = records["final_arch"] == records["report_optimum"]
    table = (
        records.assign(found=found.astype(float))
        .groupby("config")
        .agg(
            runs=("seed", "count"),
            final_report_mean=("final_report", "mean"),
            final_report_std=("final_report", "std"),
            found_report_optimum=("found", "mean"),
        )
    )
    table.columns = [c.replace("_", " ") for c in table.columns]
    return table.sort_values("final report mean", ascending=False)


def pruned_choices(records: pd.DataFrame) -> pd.DataFrame:
    """Per (config, choice): fraction of runs that pruned the choice (in any round) and the mean round it went.

    Sorted by config, then most often pruned first.
    """
    rounds = pruning_rounds(records).explode("pruned").dropna(subset=["pruned"])
    runs = records.groupby("config")["seed"].nunique()
    table = rounds.groupby(["config", "pruned"]).agg(runs_pruned=("seed", "nunique"), mean_round=("round", "mean"))
    table["fraction of runs"] = table["runs_pruned"] / runs.reindex(table.index.get_level_values("config")).to_numpy()
    table = table.rename(columns={"runs_pruned": "runs pruned", "mean_round": "mean round"})
    table.index = table.index.set_names(["config", "choice"])
    return table.sort_values(["config", "fraction of runs"], ascending=[True, False])


def choice_grid(records: pd.DataFrame, config: str) -> pd.DataFrame:
    """Fraction of ``config``'s runs that pruned each choice, as a (position x choice) table.

    Only positions and choices pruned at least once appear (0 where a listed choice never was); empty when
    ``config`` pruned nothing.
    """
    table = pruned_choices(records)
    if config not in table.index.get_level_values("config"):
        configs = sorted(records["config"].unique())
        if config not in configs:
            raise ValueError(f"config {config!r} not in records: {configs}")
        return pd.DataFrame()
    fractions = table.loc[config, "fraction of runs"]
    split = [str(label).rpartition("=") for label in fractions.index]
    frame = pd.DataFrame({"position": [s[0] for s in split], "choice": [s[2] for s in split], "f": fractions.values})
    return frame.pivot(index="position", columns="choice", values="f").fillna(0.0).sort_index()


def plot_space_left(records: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Share of the space left against queries, per config: the mean over runs and each run faintly.

    Curves run to the records' largest ``budget`` (the space keeps its last size until the search ends).
    """
    from predictbench.report.figures import new_figure, save_png

    rounds = pruning_rounds(records)
    end = [float(records["budget"].max())] if "budget" in records else []
    fig, ax = new_figure()
    for index, (config, group) in enumerate(rounds.groupby("config")):
        colour = f"C{index}"
        for _, run in group.groupby("seed"):
            ordered = run.sort_values("round")
            x = np.concatenate([[0], ordered["queries"].to_numpy(), end])
            y = np.concatenate([[1.0], 1.0 - ordered["fraction_pruned"].to_numpy()])
            y = np.concatenate([y, y[-1:]]) if end else y
            ax.step(x, y, where="post", color=colour, alpha=0.15, lw=0.8)
        mean = group.groupby("round").agg(queries=("queries", "mean"), pruned=("fraction_pruned", "mean"))
        x = np.concatenate([[0], mean["queries"].to_numpy(), end])
        y = np.concatenate([[1.0], 1.0 - mean["pruned"].to_numpy()])
        y = np.concatenate([y, y[-1:]]) if end else y
        ax.step(x, y, where="post", color=colour, lw=2, label=str(config))
    ax.set_xlabel("queries (pruning rounds at the steps)")
    ax.set_ylabel("share of the search space left")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def plot_choice_grid(records: pd.DataFrame, config: str, path: str | Path, *, title: str = "") -> Path:
    """Heatmap of :func:`choice_grid`: how often each (position, choice) was pruned in ``config``'s runs."""
    from predictbench.report.figures import new_figure, save_png

    grid = choice_grid(records, config)
    fig, ax = new_figure()
    if grid.empty:
        ax.text(0.5, 0.5, "no choice was pruned", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        image = ax.imshow(grid.to_numpy(dtype=float), cmap="Reds", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns], rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(grid.index)), [str(i) for i in grid.index], fontsize=8)
        fig.colorbar(image, ax=ax, label="fraction of runs that pruned it")
    ax.set_title(title or f"pruned choices: {config}")
    return save_png(fig, path)
