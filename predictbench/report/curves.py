"""Sample-efficiency analysis of search records: best-so-far curves, queries to the optimum, ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predictbench.rng import spawn

STANDARD_BUDGETS = (10, 20, 50, 100, 150, 200, 500)


def report_budgets(records: pd.DataFrame) -> list[int]:
    """The budgets a search report tabulates: the standard ones below the largest budget run, and that budget."""
    budget = int(records["budget"].max())
    return sorted({b for b in (*STANDARD_BUDGETS, budget) if b <= budget})


def trajectories(records: pd.DataFrame, column: str = "incumbent_report") -> dict[str, np.ndarray]:
    """Per searcher, an (n_runs, budget) array of the incumbent's value after each query."""
    out: dict[str, np.ndarray] = {}
    for name, group in records.groupby("searcher"):
        rows = group[column].tolist()
        length = min(len(r) for r in rows)
        out[str(name)] = np.array([r[:length] for r in rows], dtype=float)
    return out


def bootstrap_band(values: np.ndarray, *, n_boot: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """95% bootstrap confidence band of the mean over runs (axis 0), per query."""
    if len(values) < 2:
        return values[0].copy(), values[0].copy()
    rng = spawn(seed, "bootstrap-band")
    picks = rng.integers(0, len(values), size=(n_boot, len(values)))
    means = values[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5], axis=0)
    return low, high


def curve_table(records: pd.DataFrame, budgets: list[int], column: str = "incumbent_report") -> pd.DataFrame:
    """Mean ± std and 95% CI of the incumbent's value at fixed budgets, one row per searcher.

    ``rank`` orders searchers by the mean at the largest budget (1 = best; empty for searchers whose runs are
    shorter than that budget); rows are sorted by it.
    """
    rows = []
    final = max(budgets)
    for name, values in trajectories(records, column).items():
        low, high = bootstrap_band(values)
        row: dict[str, object] = {"searcher": name, "runs": len(values)}
        row["mean at final"] = values[:, final - 1].mean() if final <= values.shape[1] else np.nan
        for budget in budgets:
            if budget <= values.shape[1]:
                at = values[:, budget - 1]
                row[f"T={budget}"] = f"{at.mean():.2f} ± {at.std():.2f} [{low[budget - 1]:.2f}, {high[budget - 1]:.2f}]"
        rows.append(row)
    table = pd.DataFrame(rows).set_index("searcher")
    rank = table.pop("mean at final").rank(ascending=False, method="min").astype("Int64")
    table.insert(0, "rank", rank)
    return table.sort_values("rank", na_position="last")


def queries_to_optimum(records: pd.DataFrame) -> pd.DataFrame:
    """Per searcher: runs, fraction that found the optimum (by the search metric), and queries to it.

    ``median_queries`` is the median over ALL runs, a run that missed counting as "more than its budget": it is
    ``inf`` when half the runs or more missed (the median is then beyond the budget, not known).
    ``median_queries_found`` and ``mean_queries_found`` describe the runs that found it only (biased low).
    """
    rows = []
    for name, group in records.groupby("searcher"):
        queries = group["queries_to_optimum"].astype(float)
        hits = queries.dropna()
        rows.append(
            {
                "searcher": name,
                "runs": len(group),
                "found": len(hits) / len(group),
                "median_queries": float(np.median(queries.fillna(np.inf))),
                "median_queries_found": float(np.median(hits)) if len(hits) else float("nan"),
                "mean_queries_found": float(hits.mean()) if len(hits) else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("searcher")


def efficiency_ratios(records: pd.DataFrame, reference: str) -> pd.Series:
    """'N x more sample-efficient than X': median queries to the optimum of each searcher vs ``reference``.

    Runs that never found the optimum count as their budget (a lower bound of their true cost), so ratios are
    conservative for the searcher that missed.
    """
    medians = {}
    for name, group in records.groupby("searcher"):
        q = group["queries_to_optimum"].astype(float).fillna(group["budget"].astype(float))
        medians[str(name)] = float(np.median(q))
    if reference not in medians:
        raise ValueError(f"reference searcher {reference!r} not in records: {sorted(medians)}")
    return pd.Series({name: medians[reference] / m for name, m in medians.items()}, name=f"x vs {reference}")
