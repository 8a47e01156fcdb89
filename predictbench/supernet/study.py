"""Rank check of one-shot estimators against a tabular benchmark's ground truth (NB201's CIFAR-10 accuracy).

:func:`rank_check` trains the reference supernet (uniform single-path), its few-shot split, the random-label
supernet and a GCN fitted to the supernet's scores on one image task (e.g. :func:`~predictbench.supernet.data.cifar10`),
scores ``n_cells`` NB201 cells drawn uniformly (distinct, ``spawn(seed, "rank-check-cells")``), and returns the
Kendall tau-b and Spearman rho of every estimator against the benchmark's report metric (e.g. CIFAR-10 test
accuracy at 200 epochs): against the mean over the table's seeds and against each of its seeds, with the wall
seconds of every fit and scoring. No stand-alone training is needed: the table is the ground truth.

Examples
--------
>>> result = rank_check(pb.load("nb201/cifar10"), cifar10(seed=0), n_cells=200, epochs=10, seed=0)  # doctest: +SKIP
>>> result["methods"]["supernet"]["kendall_tau"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from predictbench.rng import spawn
from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.data import ImageData
from predictbench.supernet.fewshot import FewShotNB201
from predictbench.supernet.random_label import RandomLabelNB201
from predictbench.supernet.surrogate import GCNSurrogate
from predictbench.supernet.weight_sharing import NB201WeightSharing

log = logging.getLogger(__name__)

__all__ = ["METHODS", "rank_check", "rank_correlations"]

METHODS = ("supernet", "supernet, minus loss", "GCN on supernet scores", "few-shot", "random-label angle")
"""The estimators :func:`rank_check` reports, in order."""
T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def rank_correlations(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Kendall tau-b and Spearman rho of ``scores`` against ``truth`` (NaN where either is constant)."""
    from scipy.stats import kendalltau, spearmanr

    return float(kendalltau(scores, truth).statistic), float(spearmanr(scores, truth).statistic)


def rank_check(
    bench: Any,
    data: ImageData,
    *,
    n_cells: int = 200,
    epochs: int = 10,
    sub_epochs: int = 2,
    gcn_samples: int = 100,
    seed: int = 0,
    channels: int = 8,
    cells_per_stage: int = 1,
    calibration_images: int = 128,
    score_images: int | None = 256,
    device: str = "cpu",
) -> dict[str, Any]:
    """Rank correlations of the one-shot estimators trained on ``data`` against ``bench``'s report metric.

    Parameters
    ----------
    bench
        A NB201 benchmark (``nb201/cifar10`` or ``nb201-analog/cifar10``) with a declared report metric.
    data
        The image task the supernets train on and score with.
    n_cells
        NB201 cells drawn uniformly without replacement and scored by every estimator.
    epochs, sub_epochs
        Supernet training epochs (reference and random-label) and few-shot fine-tuning epochs per sub-supernet.
    gcn_samples
        Cells (drawn by :class:`GCNSurrogate` from the seed) whose supernet scores train the GCN.
    seed
        Seeds the cells, the supernets and the GCN.
    channels, cells_per_stage, calibration_images, score_images, device
        Supernet width, depth, BatchNorm calibration images, validation images a cell is scored on, torch device.

    Returns
    -------
    dict
        ``settings``, ``cells`` (official indices), ``truth`` (its metric, fidelity and table seeds), and per method
        ``kendall_tau``, ``spearman``, ``kendall_tau_per_table_seed``, ``fit_seconds``, ``score_seconds``; also
        ``scores`` per method (for notebooks).
    """
    space = bench.space
    if not isinstance(space, NB201Space):
        raise ValueError(f"rank_check needs an NB201 benchmark, got {bench.name!r} (space {space.name!r})")
    if isinstance(n_cells, bool) or not isinstance(n_cells, int) or not 2 <= n_cells <= len(space):
        raise ValueError(f"n_cells must be an int in 2..{len(space)}, got {n_cells!r}")
    report = bench.report_metric
    if report is None:
        raise ValueError(f"{bench.name} declares no report metric to rank against")
    cells = space.from_index(spawn(seed, "rank-check-cells").choice(len(space), size=n_cells, replace=False))
    truth = bench.lookup(cells, report.metric, fidelity=report.fidelity)
    per_seed = {s: bench.lookup(cells, report.metric, fidelity=report.fidelity, seed=s) for s in bench.seeds}
    common: dict[str, Any] = {"channels": channels, "cells_per_stage": cells_per_stage, "device": device}
    scoring: dict[str, Any] = {**common, "calibration_images": calibration_images, "score_images": score_images}

    ws, t_ws = _timed(lambda: NB201WeightSharing(**scoring).fit(space, data, epochs=epochs, seed=seed))
    detail, t_a = _timed(lambda: ws.path_score(cells))
    gcn, t_gcn = _timed(lambda: GCNSurrogate(ws, n_samples=gcn_samples, refit=False).fit(space, data, seed=seed))
    gcn_scores, t_b = _timed(lambda: gcn.score(cells))
    few, t_few = _timed(
        lambda: FewShotNB201(**scoring, split_edge=0, sub_epochs=sub_epochs).fit(
            space, data, epochs=epochs, seed=seed, init_from=ws
        )
    )
    few_scores, t_c = _timed(lambda: few.score(cells))
    rl, t_rl = _timed(lambda: RandomLabelNB201(**common).fit(space, data, epochs=epochs, seed=seed))
    angles, t_d = _timed(lambda: rl.score(cells))
    rows: dict[str, tuple[np.ndarray, float, float]] = {
        "supernet": (np.array([d.accuracy for d in detail]), t_ws, t_a),
        "supernet, minus loss": (-np.array([d.loss for d in detail]), t_ws, t_a),
        "GCN on supernet scores": (gcn_scores, t_gcn, t_b),
        "few-shot": (few_scores, t_few, t_c),
        "random-label angle": (angles, t_rl, t_d),
    }
    methods: dict[str, Any] = {}
    for name, (scores, t_fit, t_score) in rows.items():
        tau, rho = rank_correlations(scores, truth)
        methods[name] = {
            "kendall_tau": tau,
            "spearman": rho,
            "kendall_tau_per_table_seed": {str(s): rank_correlations(scores, v)[0] for s, v in per_seed.items()},
            "fit_seconds": t_fit,
            "score_seconds": t_score,
        }
        log.info("rank check seed %d: %s tau %+.3f rho %+.3f", seed, name, tau, rho)
    return {
        "seed": int(seed),
        "benchmark": bench.name,
        "data": repr(data),
        "settings": {
            "n_cells": n_cells,
            "epochs": epochs,
            "sub_epochs": sub_epochs,
            "gcn_samples": gcn_samples,
            "channels": channels,
            "cells_per_stage": cells_per_stage,
            "calibration_images": calibration_images,
            "score_images": score_images,
            "device": device,
        },
        "cells": [int(i) for i in space.index_of(cells)],
        "truth": {
            "metric": report.metric,
            "fidelity": report.fidelity,
            "table_seeds": list(bench.seeds),
            "mean": float(np.mean(truth)),
            "min": float(np.min(truth)),
            "max": float(np.max(truth)),
        },
        "supernet_train_loss": list(ws.train_log_.losses),
        "methods": methods,
        "scores": {name: values[0].tolist() for name, values in rows.items()},
    }
