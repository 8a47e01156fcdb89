"""A multi-objective study's report folder: hypervolume table and curves, one run's front over the whole space.

Reads only study records (and, for the front figure, the reported objectives of every architecture of the space,
which the study passes in): ``README.md`` and ``index.html`` with the normalised hypervolume per searcher at fixed
budgets (mean ± std [95% bootstrap CI], as % of the true Pareto front's hypervolume), the true front's hypervolume
and reference points, a paired test of the two best searchers, and the figures ``hypervolume.png`` and
``front.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.multiobjective.pareto import non_dominated
from predictbench.report.curves import bootstrap_band, curve_table, report_budgets, trajectories
from predictbench.report.document import Block, Document, Figure, Heading, Paragraph, Table
from predictbench.report.figures import new_figure, save_png
from predictbench.report.output import report_folder, write_report
from predictbench.report.provenance import listed, provenance_blocks
from predictbench.report.significance import compare_searchers, leader_vs_runner_up

HV_FIGURE = "hypervolume.png"
FRONT_FIGURE = "front.png"
PERCENT = "hv_percent"
ZOOM_BELOW = 0.2  # the front figure zooms in when the hypervolume box is this small a part of the cloud's range


def with_percent(records: pd.DataFrame) -> pd.DataFrame:
    """``records`` plus a column ``hv_percent``: the normalised hypervolume trajectory in % of the true front's."""
    percent = [list(100.0 * np.asarray(t, dtype=float)) for t in records["hv_normalised"]]
    return records.assign(**{PERCENT: percent})


def hypervolume_curves(records: pd.DataFrame, path: str | Path, *, title: str = "") -> Path:
    """Mean normalised hypervolume vs queries with a 95% bootstrap band, one line per searcher."""
    fig, ax = new_figure()
    for name, values in trajectories(with_percent(records), PERCENT).items():
        x = np.arange(1, values.shape[1] + 1)
        low, high = bootstrap_band(values)
        ax.plot(x, values.mean(axis=0), label=name)
        ax.fill_between(x, low, high, alpha=0.2)
    ax.set_xlabel("queries (distinct architectures)")
    ax.set_ylabel("hypervolume (% of the true front's)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(fig, path)


def showcase_run(records: pd.DataFrame) -> pd.Series:
    """The run drawn in the front figure: the lowest seed of the searcher with the best mean final hypervolume."""
    best = records.groupby("searcher")["final_hv_normalised"].mean().idxmax()
    runs = records[records["searcher"] == best]
    return runs.loc[runs["seed"].idxmin()]


def front_figure(records: pd.DataFrame, path: str | Path, cloud: np.ndarray | None = None) -> Path:
    """One run's returned front (reported objectives) over the whole space's cloud and its true front.

    The run's front is the set of its queried architectures non-dominated by the SEARCH signal, drawn at their
    reported values; its other queries are the small grey crosses. Two objectives only.
    """
    from predictbench.report.pareto import plot_pareto

    run = showcase_run(records)
    names = [str(n) for n in run["report_objectives"]]
    if len(names) != 2:
        raise ValueError(f"the front figure draws two objectives, the study has {len(names)}: {names}")
    directions = [bool(d) for d in run["report_higher_is_better"]]
    fig, ax = new_figure()
    if cloud is not None:
        space = np.asarray(cloud, dtype=float)
        space = space[np.isfinite(space).all(axis=1)]
        plot_pareto(ax, space, directions, names=names, label=f"whole space ({len(space)} cells)")
    queried = np.asarray(run["history_report"], dtype=float).reshape(-1, 2)
    ax.scatter(queried[:, 0], queried[:, 1], s=10, marker="x", color="0.4", linewidths=0.6, label="queried", zorder=2)
    front = np.asarray(run["front_report"], dtype=float).reshape(-1, 2)
    label = f"{run['searcher']} seed {int(run['seed'])}, {len(queried)} queries"
    plot_pareto(ax, front, directions, names=names, label=label, title=str(run["benchmark"]))
    if cloud is not None:
        _zoom_on_hypervolume_box(ax, run, space, front)
    return save_png(fig, path)


def _zoom_on_hypervolume_box(ax: Any, run: pd.Series, space: np.ndarray, front: np.ndarray) -> None:
    """An inset on the box the hypervolume measures (reference point to ideal) when it is small in the cloud."""
    signs = np.where(np.asarray(run["report_higher_is_better"], dtype=bool), 1.0, -1.0)
    reference = np.asarray(run["reference_report"], dtype=float) * signs  # back to values
    scores = space * signs
    ideal = scores.max(axis=0) * signs
    low, high = np.minimum(reference, ideal), np.maximum(reference, ideal)
    spread = space.max(axis=0) - space.min(axis=0)
    if np.any(high - low >= ZOOM_BELOW * spread):
        return
    pad = 0.05 * (high - low)
    low, high = low - pad, high + pad
    inset = ax.inset_axes((0.1, 0.12, 0.42, 0.42))
    inside = np.all((space >= low) & (space <= high), axis=1)
    inset.scatter(space[inside, 0], space[inside, 1], s=8, color="C0", alpha=0.35, linewidths=0)
    on_front = non_dominated(scores)
    inset.scatter(space[on_front, 0], space[on_front, 1], s=22, color="C0", edgecolors="black", linewidths=0.5)
    inset.scatter(front[:, 0], front[:, 1], s=22, color="C1", edgecolors="black", linewidths=0.5, zorder=3)
    inset.set_xlim(low[0], high[0])
    inset.set_ylim(low[1], high[1])
    inset.tick_params(labelsize=6)
    inset.set_title("hypervolume box (reference to ideal)", fontsize=7)
    ax.indicate_inset_zoom(inset, edgecolor="0.3")


def significance_blocks(records: pd.DataFrame, board: pd.DataFrame, budgets: list[int]) -> list[Block]:
    """The two best searchers compared by a paired Wilcoxon test of the normalised hypervolume."""
    return leader_vs_runner_up(
        board["rank"].dropna().index,
        lambda first, second: compare_searchers(records, first, second, budgets, column=PERCENT),
        difference="the normalised hypervolume (%) after T queries; wins/ties/losses count seeds.",
        too_few="Fewer than two searchers ran the full budget: nothing to compare.",
    )


def true_front_table(records: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark: the objectives, their reference points and the true Pareto front's hypervolume."""
    rows = []
    for bench, group in records.groupby("benchmark"):
        first = group.iloc[0]
        rows.append(
            {
                "benchmark": bench,
                "search objectives": ", ".join(first["objectives"]),
                "search reference": _point(first["reference_search"]),
                "true front HV (search)": float(first["true_hv_search"]),
                "reported objectives": ", ".join(first["report_objectives"]),
                "reported reference": _point(first["reference_report"]),
                "true front HV (reported)": float(first["true_hv_report"]),
                "true front size (reported)": int(first["true_front_size"]),
            }
        )
    return pd.DataFrame(rows).set_index("benchmark")


def _point(values: object) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in np.asarray(values, dtype=float)) + ")"


def multiobjective_report(
    records: pd.DataFrame,
    out_dir: str | Path,
    *,
    cloud: np.ndarray | None = None,
    title: str = "Multi-objective search",
) -> Path:
    """Write ``README.md``, ``index.html``, ``hypervolume.png`` and ``front.png`` into ``out_dir``.

    Parameters
    ----------
    records
        Multi-objective study records (:meth:`MultiObjectiveStudy.records` or
        :func:`predictbench.studies.read_results`).
    out_dir
        Report folder (created if needed).
    cloud
        Reported objective VALUES of every architecture of the space, shape (n, 2), drawn behind the run's front
        (:func:`~predictbench.multiobjective.objectives.space_values`); without it only the run is drawn.
    title
        Report title.
    """
    if records.empty:
        raise ValueError("no multi-objective records to report")
    out = report_folder(out_dir)
    records = with_percent(records)
    budgets = report_budgets(records)
    budget = budgets[-1]
    benchmarks = ", ".join(sorted(records["benchmark"].unique()))
    hypervolume_curves(records, out / HV_FIGURE, title=benchmarks)
    board = curve_table(records, budgets, column=PERCENT)
    margins = " / ".join(f"{100 * m:g}%" for m in sorted(records["reference_margin"].unique()))
    blocks: list[Block] = [
        Paragraph(
            "Hypervolume of each run's front (its queried architectures non-dominated by the search objectives), "
            "measured on the reported objectives and given in % of the hypervolume of the TRUE Pareto front of the "
            "whole space (100 = the run returned the whole true front). Reference point: the nadir of the true "
            f"front moved away from it by {margins} of the front's range in each objective, fixed per benchmark. "
            "Budgets count distinct "
            f"architectures. Cells: mean ± std [95% bootstrap CI of the mean]. Rank 1 = best mean at T={budget}."
        ),
        Heading("Normalised hypervolume at fixed budgets"),
        Table(board),
        Heading("True Pareto front"),
        Table(true_front_table(records), floatfmt=".4g"),
        Figure(HV_FIGURE, "Normalised hypervolume vs queries (95% bootstrap bands)"),
        Heading("Best against runner-up (paired significance)"),
        *significance_blocks(records, board, budgets),
    ]
    if all(len(r) == 2 for r in records["report_objectives"]):
        run = showcase_run(records)
        front_figure(records, out / FRONT_FIGURE, cloud)
        blocks += [
            Heading("Front of one run"),
            Paragraph(
                f"{run['searcher']}, seed {int(run['seed'])}: the architectures its search signal put on the front, "
                "at their reported values, over every architecture of the space (faint) and the true front "
                "(staircase); grey crosses are its other queries."
            ),
            Figure(FRONT_FIGURE, "One run's front over the whole space"),
        ]
    blocks += provenance_blocks(
        records,
        {
            "search objectives": listed(records.assign(o=records["objectives"].map(", ".join)), "o"),
            "reported objectives": listed(records.assign(o=records["report_objectives"].map(", ".join)), "o"),
            "budgets": listed(records, "budget"),
        },
        entry="searcher",
        params="options",
        heading="Searcher options",
    )
    return write_report(Document(title, tuple(blocks)), out)
