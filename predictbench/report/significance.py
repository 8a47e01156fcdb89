"""Paired significance tests between the top entries of a leaderboard (Wilcoxon signed-rank over seeds).

Studies are paired by construction: every predictor sees the same split for a (benchmark, seed) and every searcher
gets its RNG streams from the seed alone, so the per-seed difference between two entries is the honest unit of
comparison. Seeds where the two tie are dropped (Wilcoxon's convention); ``pairs`` counts every common seed and
``untied`` the ones the test uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from predictbench.report.document import Block, Paragraph, Table
from predictbench.report.leaderboard import PRIMARY, area_under_curve

PAIR_KEYS = ["benchmark", "seed"]
TEST_FORMATS = {"W": ".1f", "p-value": ".3g"}  # cell formats of the comparison tables in reports
TIES_NOTE = (
    "wins/ties/losses count seeds; tied seeds are left out of the test. With n untied pairs the smallest possible "
    "p-value is 2/2^n."
)


@dataclass(frozen=True)
class PairedTest:
    """The outcome of a two-sided Wilcoxon signed-rank test of ``first - second`` over paired seeds."""

    pairs: int
    untied: int
    first_better: int
    second_better: int
    median_difference: float
    statistic: float
    p_value: float

    def as_row(self) -> dict[str, object]:
        return {
            "pairs": self.pairs,
            "wins/ties/losses": f"{self.first_better}/{self.pairs - self.untied}/{self.second_better}",
            "median difference": self.median_difference,
            "W": self.statistic,
            "p-value": self.p_value,
        }


def paired_wilcoxon(first: np.ndarray, second: np.ndarray) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test of paired values (exact for small samples without ties).

    Parameters
    ----------
    first, second
        Values of the two entries, aligned so that position i of both comes from the same seed.

    Returns
    -------
    PairedTest
        ``p_value`` is 1.0 when every pair ties (no evidence either way) and NaN when there are no pairs.

    Examples
    --------
    >>> paired_wilcoxon(np.array([0.7, 0.8, 0.75, 0.9, 0.85, 0.8]), np.full(6, 0.5)).p_value
    0.03125
    """
    from scipy import stats

    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired values must be 1-d of equal length, got shapes {a.shape} and {b.shape}")
    difference = a - b
    nonzero = difference[difference != 0]
    if len(difference) == 0:
        return PairedTest(0, 0, 0, 0, float("nan"), float("nan"), float("nan"))
    if len(nonzero) == 0:
        statistic, p_value = 0.0, 1.0
    else:
        result = stats.wilcoxon(nonzero, alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return PairedTest(
        pairs=len(difference),
        untied=len(nonzero),
        first_better=int((nonzero > 0).sum()),
        second_better=int((nonzero < 0).sum()),
        median_difference=float(np.median(difference)),
        statistic=statistic,
        p_value=p_value,
    )


def _paired(values: pd.DataFrame, first: str, second: str, entry: str, value: str) -> PairedTest:
    """Test ``value`` of two entries over the (benchmark, seed) pairs both have."""
    wide = values.pivot_table(index=PAIR_KEYS, columns=entry, values=value, aggfunc="mean")
    both = wide[[first, second]].dropna()
    return paired_wilcoxon(both[first].to_numpy(), both[second].to_numpy())


def auc_per_seed(records: pd.DataFrame, metric: str = PRIMARY) -> pd.DataFrame:
    """Area under the ``metric``-vs-log(train size) curve of each (benchmark, predictor, seed)."""
    rows = [
        {"benchmark": bench, "predictor": name, "seed": seed, "AUC": area_under_curve(g["train_size"], g[metric])}
        for (bench, name, seed), g in records.groupby(["benchmark", "predictor", "seed"])
    ]
    return pd.DataFrame(rows)


def compare_predictors(records: pd.DataFrame, first: str, second: str, metric: str = PRIMARY) -> pd.DataFrame:
    """``first`` vs ``second`` on the per-seed AUC and at every training size both have: one test per row.

    Differences are ``first - second`` in ``metric`` (Kendall τ by default).
    """
    missing = sorted({first, second} - set(records["predictor"]))
    if missing:
        raise ValueError(f"predictors {missing} not in records: {sorted(records['predictor'].unique())}")
    rows = {"AUC": _paired(auc_per_seed(records, metric), first, second, "predictor", "AUC").as_row()}
    for size, group in records.groupby("train_size"):
        if {first, second} <= set(group["predictor"]):
            rows[f"n={int(size)}"] = _paired(group, first, second, "predictor", metric).as_row()
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "on"
    return table


def final_values(records: pd.DataFrame, budget: int, column: str = "incumbent_report") -> pd.DataFrame:
    """The incumbent's ``column`` value after ``budget`` queries, per (benchmark, searcher, seed) run."""
    value = [float(t[budget - 1]) if len(t) >= budget else float("nan") for t in records[column]]
    return records[["benchmark", "searcher", "seed"]].assign(value=value)


def compare_searchers(
    records: pd.DataFrame, first: str, second: str, budgets: list[int], column: str = "incumbent_report"
) -> pd.DataFrame:
    """``first`` vs ``second`` on the incumbent's reported value at each budget: one test per row."""
    missing = sorted({first, second} - set(records["searcher"]))
    if missing:
        raise ValueError(f"searchers {missing} not in records: {sorted(records['searcher'].unique())}")
    rows = {
        f"T={budget}": _paired(final_values(records, budget, column), first, second, "searcher", "value").as_row()
        for budget in budgets
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "on"
    return table


def leader_vs_runner_up(
    ranked: Sequence[object],
    compare: Callable[[str, str], pd.DataFrame],
    *,
    difference: str,
    pairing: str = "",
    too_few: str,
) -> list[Block]:
    """Report blocks testing the leader against the runner-up: what is compared, then ``compare(first, second)``.

    Parameters
    ----------
    ranked
        Entries, best first.
    compare
        The comparison table of two entries (e.g. :func:`compare_searchers` on some records and budgets).
    difference
        What the differences are in, and how to read the table (after "Differences are A minus B in ").
    pairing
        Why seeds pair the two entries (shown in parentheses), if worth saying.
    too_few
        The text shown instead when fewer than two entries are ranked.
    """
    if len(ranked) < 2:
        return [Paragraph(too_few)]
    first, second = str(ranked[0]), str(ranked[1])
    paired = f" ({pairing})" if pairing else ""
    return [
        Paragraph(
            f"{first} (rank 1) against {second} (rank 2): two-sided Wilcoxon signed-rank test over paired "
            f"seeds{paired}. Differences are {first} minus {second} in {difference}"
        ),
        Table(compare(first, second), formats=TEST_FORMATS),
    ]
