"""Reports: leaderboard tables, significance tests, figures, and Markdown + self-contained HTML rendering.

Every report folder holds ``README.md`` and ``index.html`` (the same tables, figures embedded) plus the PNG figures.
"""

from __future__ import annotations

from predictbench.report.leaderboard import predictor_leaderboard, tau_by_size
from predictbench.report.markdown import to_markdown
from predictbench.report.pareto import non_dominated, plot_pareto
from predictbench.report.predictors import predictor_report
from predictbench.report.searchers import search_report
from predictbench.report.significance import paired_wilcoxon

__all__ = [
    "non_dominated",
    "paired_wilcoxon",
    "plot_pareto",
    "predictor_leaderboard",
    "predictor_report",
    "search_report",
    "tau_by_size",
    "to_markdown",
]
