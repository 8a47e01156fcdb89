"""Supernet (weight-sharing) experiments through a thin torch adapter.

Importing this package does not import torch: the contract lives in :mod:`~predictbench.supernet.adapter`;
every module below imports torch when it is imported itself. User guide: ``docs/supernet.md``.

Modules
-------
:mod:`~predictbench.supernet.adapter`
    the :class:`SupernetAdapter` protocol (``fit(space, data, *, epochs, seed)``, ``score(archs)``).
:mod:`~predictbench.supernet.data`
    the shared real CIFAR-10 subset (augmented), scikit-learn's ``digits``; any user ``torch.utils.data.Dataset``.
:mod:`~predictbench.supernet.model`
    the NB201 weight-sharing supernet (configurable width and depth; one path or mixed operations).
:mod:`~predictbench.supernet.trainer`
    single-path training with checkpoint and exact resume.
:mod:`~predictbench.supernet.scoring`
    per-architecture BatchNorm recalibration, accuracy and loss.
:mod:`~predictbench.supernet.weight_sharing`
    the reference adapter :class:`NB201WeightSharing` (uniform single-path one-shot).
:mod:`~predictbench.supernet.fewshot`
    :class:`FewShotNB201`: sub-supernets split on one edge's operation.
:mod:`~predictbench.supernet.random_label`
    :class:`RandomLabelNB201`: random-label training, angle metric (RLNAS).
:mod:`~predictbench.supernet.surrogate`
    :class:`GCNSurrogate`: a GCN fitted to supernet scores of sampled cells, ranking the whole space.
:mod:`~predictbench.supernet.study`
    :func:`rank_check`: every estimator above against a benchmark's ground truth (NB201's CIFAR-10 accuracy).
:mod:`~predictbench.supernet.oracle`
    :class:`SupernetOracle`: adapter scores as a search loop's Oracle, with its own cost model.
:mod:`~predictbench.supernet.differentiable`, :mod:`~predictbench.supernet.darts`,
:mod:`~predictbench.supernet.zero_order`
    first-order DARTS and a zero-order (ZARTS-style) architecture step on the same supernet.
:mod:`~predictbench.supernet.enas`
    ENAS: an autoregressive controller trained by REINFORCE, alternating with shared-weight training.
:mod:`~predictbench.supernet.latency_table`, :mod:`~predictbench.supernet.fbnet`
    a device's additive per-operation latency table (fitted to HW-NAS-Bench) and FBNet's latency-aware
    Gumbel-softmax search.
:mod:`~predictbench.supernet.standalone`
    stand-alone training of single cells (the ground truth of the honest check).

:class:`~predictbench.predictors.oneshot.OneShotPredictor` turns any adapter into a Predictor.
"""

from __future__ import annotations

from predictbench.supernet.adapter import CheckpointableAdapter, SupernetAdapter

__all__ = ["CheckpointableAdapter", "SupernetAdapter"]
