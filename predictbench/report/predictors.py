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
from predictbench.studies.splits import DEFAULT_PROTOCOL, UNIFORM, protocol_label
from predictbench.types import DataFormatError

TAU_FIGURE = "tau_vs_train_size.png"
COST_FIGURE = "quality_vs_cost.png"


def _detail(records: pd.DataFrame) -> pd.DataFrame:
    """Per (predictor, size): τ with its 95% CI, mean Spearman and precision@10 when recorded, seed count."""
    detail = tau_by_size(records)
    detail["tau (95% CI)"] = [f"{m:.3f} ± {c:.3f}" for m, c in zip(detail["mean"], detail["ci95"], strict=True)]
    index = pd.MultiIndex.from_frame(detail[["predictor", "train_size"]])
    extra = [m for m in ("spearman", "precision_at_10", "test_twins") if m in records]
    for metric in extra:
        means = tau_by_size(records, metric).set_index(["predictor", "train_size"])["mean"]
        detail[metric] = means.reindex(index).to_numpy()
    detail = detail.rename(columns={"test_twins": "test cells with a twin in training (mean)"})
    extra = ["test cells with a twin in training (mean)" if m == "test_twins" else m for m in extra]
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


def test_protocol(records: pd.DataFrame) -> tuple[str, bool]:
    """The one (protocol, twin-free) of ``records`` (records older than protocols: the uniform sample).

    Raises DataFormatError for records of several protocols or splits: their τ are not comparable.
    """
    protocols = records["protocol"].fillna(DEFAULT_PROTOCOL) if "protocol" in records else pd.Series([DEFAULT_PROTOCOL])
    splits = records["split"].fillna(UNIFORM) if "split" in records else pd.Series([UNIFORM])
    found = sorted(set(zip(protocols, splits, strict=True)))
    if len(found) > 1:
        listing = ", ".join(f"{p} ({s})" for p, s in found)
        raise DataFormatError(
            f"the records hold several test protocols: {listing}; their τ are not comparable, report each on its own"
        )
    protocol, split = found[0]
    return str(protocol), split != UNIFORM


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
    protocol, twin_free = test_protocol(records)
    if (protocol, twin_free) != (DEFAULT_PROTOCOL, False) and f"protocol {protocol}" not in title:
        title = f"{title} (test protocol: {protocol}{', twin-free' if twin_free else ''})"
    out = report_folder(out_dir)
    board = predictor_leaderboard(records)
    benchmarks = sorted(records["benchmark"].unique())
    tau_vs_train_size(records, out / TAU_FIGURE, title=", ".join(benchmarks))
    tested = "every cell, the training cells included" if protocol == "all-including-train" else "held-out cells"
    blocks: list[Block] = [
        Paragraph(
            f"Benchmark(s): {', '.join(benchmarks)}. Metric: Kendall τ between predicted scores and the target on "
            f"{tested} (higher is better; correlations keep their sign). AUC = mean τ over log training size. "
            "Rank 1 = best AUC."
        ),
        Paragraph(f"Test protocol: {protocol_label(protocol, twin_free)}."),
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
    study = {"test protocol": protocol_label(protocol, twin_free), "targets": listed(records, "target"),
             "test sizes": _test_sizes(records, protocol),
             "training sizes": _sizes_given(records)}  # fmt: skip
    blocks += provenance_blocks(records, study, entry="predictor", params="params", heading="Predictor parameters")
    return write_report(Document(title, tuple(blocks)), out)


def _sizes_given(records: pd.DataFrame) -> str:
    """The training sizes, with the percentage each was given as (e.g. ``78 (0.5%)``)."""
    if "train_size_given" not in records:
        return listed(records, "train_size")
    given = records.drop_duplicates("train_size").sort_values("train_size")
    return ", ".join(
        f"{int(n)} ({text})" if isinstance(text, str) and text.endswith("%") else str(int(n))
        for n, text in zip(given["train_size"], given["train_size_given"], strict=True)
    )


def _test_sizes(records: pd.DataFrame, protocol: str) -> str:
    """The test sizes; under protocol "rest" (one per training size and seed) their range."""
    if protocol != "rest" or "test_cells" not in records:
        return listed(records, "test_size")
    cells = records["test_cells"].to_numpy(dtype=float)
    return f"{int(cells.min()):,}..{int(cells.max()):,} (every cell not used for training)"
