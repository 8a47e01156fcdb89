"""Reports: leaderboard tables, figures and Markdown rendering, all from study records."""

from __future__ import annotations

from predictbench.report.leaderboard import predictor_leaderboard, tau_by_size, to_markdown
from predictbench.report.markdown import predictor_report, search_report

__all__ = ["predictor_leaderboard", "predictor_report", "search_report", "tau_by_size", "to_markdown"]
