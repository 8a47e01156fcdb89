"""Leaderboard tables computed from study records (never from raw benchmark values)."""

from __future__ import annotations

import numpy as np
import pandas as pd

PRIMARY = "kendall_tau"


def tau_by_size(records: pd.DataFrame, metric: str = PRIMARY) -> pd.DataFrame:
    """Mean, std, 95% CI half-width and seed count of ``metric`` per (predictor, train size)."""
    grouped = records.groupby(["predictor", "train_size"])[metric]
    table = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    table["ci95"] = 1.96 * table["std"].fillna(0.0) / np.sqrt(table["seeds"])
    return table


def area_under_curve(sizes: np.ndarray, values: np.ndarray) -> float:
    """Mean of ``values`` over log(train size) (trapezoid rule), i.e. a size-weighted average tau."""
    order = np.argsort(sizes)
    x, y = np.log(np.asarray(sizes, dtype=float)[order]), np.asarray(values, dtype=float)[order]
    if len(x) == 1:
        return float(y[0])
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def predictor_leaderboard(records: pd.DataFrame, metric: str = PRIMARY) -> pd.DataFrame:
    """One row per predictor: mean ``metric`` per training size, area under the curve, rank (1 = best)."""
    if records.empty:
        raise ValueError("no records to rank")
    table = tau_by_size(records, metric)
    wide = table.pivot(index="predictor", columns="train_size", values="mean")
    wide.columns = [f"n={int(c)}" for c in wide.columns]
    sizes = np.array(sorted(table["train_size"].unique()))
    auc = {
        name: area_under_curve(group["train_size"].to_numpy(), group["mean"].to_numpy())
        for name, group in table.groupby("predictor")
    }
    wide.insert(0, "AUC", pd.Series(auc))
    wide.insert(0, "rank", wide["AUC"].rank(ascending=False, method="min").astype(int))
    wide.attrs["sizes"] = sizes.tolist()
    return wide.sort_values("rank")
