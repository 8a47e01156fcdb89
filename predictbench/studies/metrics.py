"""Ranking and regression metrics for predictor evaluation.

Scores are "higher is better" everywhere; correlations keep their sign (never ``abs()``): a predictor that
ranks backwards gets a negative Kendall tau.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-d of equal length, got {y_true.shape} and {y_pred.shape}")
    if not (np.isfinite(y_true).all() and np.isfinite(y_pred).all()):
        raise ValueError("y_true and y_pred must be finite")
    return y_true, y_pred


def _is_constant(values: np.ndarray) -> bool:
    return bool(np.ptp(values) == 0)


def kendall_tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kendall tau-b; 0.0 when either side is constant (no ordering information)."""
    y_true, y_pred = _check(y_true, y_pred)
    if _is_constant(y_true) or _is_constant(y_pred):
        return 0.0
    return float(stats.kendalltau(y_true, y_pred).statistic)


def spearman_rho(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman rank correlation; 0.0 when either side is constant."""
    y_true, y_pred = _check(y_true, y_pred)
    if _is_constant(y_true) or _is_constant(y_pred):
        return 0.0
    return float(stats.spearmanr(y_true, y_pred).statistic)


def pearson_r(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation; 0.0 when either side is constant."""
    y_true, y_pred = _check(y_true, y_pred)
    if _is_constant(y_true) or _is_constant(y_pred):
        return 0.0
    with np.errstate(all="ignore"):  # spreads near the float limits: no usable linear correlation
        r = float(np.corrcoef(y_true, y_pred)[0, 1])
    return r if np.isfinite(r) else 0.0


def precision_at_k(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Fraction of the predicted top-k that are in the true top-k (ties broken by position)."""
    y_true, y_pred = _check(y_true, y_pred)
    if not 1 <= k <= len(y_true):
        raise ValueError(f"k must be in [1, {len(y_true)}], got {k}")
    true_top = set(np.argsort(-y_true, kind="stable")[:k].tolist())
    pred_top = np.argsort(-y_pred, kind="stable")[:k]
    return float(np.mean([i in true_top for i in pred_top]))


def top_k_regret(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> float:
    """Best true value overall minus best true value among the predicted top-k (>= 0)."""
    y_true, y_pred = _check(y_true, y_pred)
    pred_top = np.argsort(-y_pred, kind="stable")[:k]
    return float(y_true.max() - y_true[pred_top].max())


def all_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Every ranking metric at once (y_pred is a score; only its order matters except for MAE/RMSE)."""
    y_true, y_pred = _check(y_true, y_pred)
    n = len(y_true)
    error = y_pred - y_true
    out = {
        "kendall_tau": kendall_tau(y_true, y_pred),
        "spearman": spearman_rho(y_true, y_pred),
        "pearson": pearson_r(y_true, y_pred),
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "constant_prediction": float(_is_constant(y_pred)),
    }
    for k in (10, 20):
        if k <= n:
            out[f"precision_at_{k}"] = precision_at_k(y_true, y_pred, k)
            out[f"top{k}_regret"] = top_k_regret(y_true, y_pred, k)
    return out
