"""A predictor-study report folder: leaderboard, per-size detail, significance, provenance and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.report.document import Block, Document, Figure, Heading, Paragraph, Table
from predictbench.report.figures import quality_vs_cost, tau_vs_train_size
from predictbench.report.leaderboard import predictor_leaderboard, tau_by_size
from predictbench.report.output import report_folder, write_report
from predictbench.report.provenance import listed, provenance_blocks
from predictbench.report.significance import TIES_NOTE, compare_predictors, leader_vs_runner_up

TAU_FIGURE = "tau_vs_train_size.png"
COST_FIGURE = "quality_vs_cost.png"


def _detail(records: pd.DataFrame) -> pd.DataFrame:
    """Per (predictor, size): τ with its 95% CI, mean Spearman and precision@10 when recorded, seed count."""
    detail = tau_by_size(records)
    detail["tau (95% CI)"] = [f"{m:.3f} ± {c:.3f}" for m, c in zip(detail["mean"], detail["ci95"], strict=True)]
    index = pd.MultiIndex.from_frame(detail[["predictor", "train_size"]])
    extra = [m for m in ("spearman", "precision_at_10") if m in records]
    for metric in extra:
        means = tau_by_size(records, metric).set_index(["predictor", "train_size"])["mean"]
        detail[metric] = means.reindex(index).to_numpy()
    return detail[["predictor", "train_size", "tau (95% CI)", *extra, "seeds"]].set_index("predictor")


def significance_blocks(records: pd.DataFrame, board: pd.DataFrame) -> list[Block]:
    """The leader against the runner-up: a paired Wilcoxon test per training size and on the per-seed AUC."""
    return leader_vs_runner_up(
        board.index,
        lambda first, second: compare_predictors(records, first, second),
        pairing="both trained and tested on the same cells per seed",
        difference=f"Kendall τ; AUC is computed per seed. {TIES_NOTE}",
        too_few="Only one predictor: nothing to compare.",
    )


def predictor_report(records: pd.DataFrame, out_dir: str | Path, *, title: str = "Predictor leaderboard") -> Path:
    """Write ``README.md``, a self-contained ``index.html`` and PNG figures into ``out_dir`` from study records.

    Parameters
    ----------
    records
        Predictor-study records (:func:`predictbench.studies.read_results`).
    out_dir
        Report folder (created if needed).
    title
        Report title.

    Returns
    -------
    Path
        The report folder.
    """
    out = report_folder(out_dir)
    board = predictor_leaderboard(records)
    benchmarks = sorted(records["benchmark"].unique())
    tau_vs_train_size(records, out / TAU_FIGURE, title=", ".join(benchmarks))
    blocks: list[Block] = [
        Paragraph(
            f"Benchmark(s): {', '.join(benchmarks)}. Metric: Kendall τ between predicted scores and the target on "
            "a held-out test set (higher is better; correlations keep their sign). AUC = mean τ over log training "
            "size. Rank 1 = best AUC."
        ),
        Heading("Leaderboard (mean Kendall τ over seeds)"),
        Table(board),
        Figure(TAU_FIGURE, "Kendall τ vs training-set size"),
        Heading("Leader vs runner-up (paired significance)"),
        *significance_blocks(records, board),
        Heading("Per training size"),
        Table(_detail(records)),
    ]
    if "fit_seconds" in records and np.isfinite(records["fit_seconds"].to_numpy(dtype=float)).all():
        quality_vs_cost(records, out / COST_FIGURE, title=", ".join(benchmarks))
        blocks += [
            Heading("Quality vs training cost"),
            Paragraph(
                "AUC against mean fit time at the largest training size (wall-clock seconds on the machine that "
                "ran the study, so compare within one report only). Highlighted predictors are Pareto-optimal: "
                "no other is both better and cheaper."
            ),
            Figure(COST_FIGURE, "AUC vs fit time, Pareto front highlighted"),
        ]
    study = {"targets": listed(records, "target"), "test sizes": listed(records, "test_size"),
             "training sizes": listed(records, "train_size")}  # fmt: skip
    blocks += provenance_blocks(records, study, entry="predictor", params="params", heading="Predictor parameters")
    return write_report(Document(title, tuple(blocks)), out)
