"""A search-study report folder: values at fixed budgets, significance, queries to the optimum, provenance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from predictbench.report.curves import curve_table, efficiency_ratios, queries_to_optimum, report_budgets
from predictbench.report.document import Block, Document, Figure, Heading, Paragraph, Table
from predictbench.report.figures import best_so_far, queries_to_optimum_cdf
from predictbench.report.output import report_folder, write_report
from predictbench.report.provenance import listed, provenance_blocks
from predictbench.report.significance import TIES_NOTE, compare_searchers, leader_vs_runner_up

CURVE_FIGURE = "best_so_far.png"
OPTIMUM_FIGURE = "queries_to_optimum.png"


def significance_blocks(records: pd.DataFrame, board: pd.DataFrame, budgets: list[int]) -> list[Block]:
    """The leader against the runner-up at each budget: a paired Wilcoxon test of the incumbent's value."""
    return leader_vs_runner_up(
        board["rank"].dropna().index,
        lambda first, second: compare_searchers(records, first, second, budgets),
        pairing="a seed fixes both runs' random streams",
        difference=f"the reported value of the incumbent after T queries. {TIES_NOTE}",
        too_few="Fewer than two searchers ran the full budget: nothing to compare.",
    )


def search_report(records: pd.DataFrame, out_dir: str | Path, *, title: str = "Search leaderboard") -> Path:
    """Write ``README.md``, a self-contained ``index.html`` and PNG figures into ``out_dir`` from search records.

    Parameters
    ----------
    records
        Search-study records (:func:`predictbench.studies.read_results`).
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
    budgets = report_budgets(records)
    budget = budgets[-1]
    report_metric = str(records["report_metric"].iloc[0])
    benchmarks = ", ".join(sorted(records["benchmark"].unique()))
    best_so_far(records, out / CURVE_FIGURE, title=benchmarks, ylabel=report_metric)
    queries_to_optimum_cdf(records, out / OPTIMUM_FIGURE, title=benchmarks)
    board = curve_table(records, budgets)
    reference = "random" if "random" in set(records["searcher"]) else str(records["searcher"].iloc[0])
    optimum = queries_to_optimum(records)
    optimum[f"x vs {reference}"] = efficiency_ratios(records, reference)
    blocks: list[Block] = [
        Paragraph(
            f"Search signal: {records['search_metric'].iloc[0]}; reported: {report_metric} of the incumbent (the "
            "best architecture by the search signal). Budgets count distinct architectures. Cells: mean ± std "
            f"[95% bootstrap CI of the mean]. Rank 1 = best mean at T={budget}."
        ),
        Heading("Reported value of the incumbent at fixed budgets"),
        Table(board),
        Figure(CURVE_FIGURE, "Reported value of the incumbent vs queries (95% bootstrap bands)"),
        Heading("Leader vs runner-up (paired significance)"),
        *significance_blocks(records, board, budgets),
        Heading("Queries to reach the optimum of the search signal"),
        Paragraph(
            "found = fraction of runs that queried the optimum; median_queries = median over all runs, a run that "
            "missed counting as more than its budget (inf: half the runs or more missed); *_found = over the runs "
            f"that found it only; x vs {reference} = how many times fewer queries (median) than the reference, "
            "counting a run that missed as its budget (conservative for a searcher that misses)."
        ),
        Table(optimum),
        Figure(OPTIMUM_FIGURE, "Fraction of runs that reached the optimum within q queries"),
        *provenance_blocks(
            records,
            {
                "search signal": listed(records, "search_metric"),
                "reported metric": listed(records, "report_metric"),
                "budgets": listed(records, "budget"),
            },
            entry="searcher",
            params="options",
            heading="Searcher options",
        ),
    ]
    return write_report(Document(title, tuple(blocks)), out)
