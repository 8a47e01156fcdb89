"""Scoring one path of a trained supernet: BatchNorm recalibration, then accuracy and loss on held-out images.

Running BatchNorm statistics accumulated while training a supernet mix every sampled path, so a path scored with
them is scored with the wrong normalisation. Before each architecture is scored, every BatchNorm layer's running
statistics are reset and re-estimated as a plain average over the same fixed calibration batches (training
images, no gradient), as single-path one-shot NAS does. Scores therefore depend only on the trained weights, the
architecture and the fixed batches: scoring is deterministic and independent of what was scored before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["PathScore", "evaluate_path", "recalibrate_bn"]

Batches = Sequence[tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class PathScore:
    """Accuracy (fraction correct) and mean cross-entropy of one path on the scoring images."""

    accuracy: float
    loss: float


def _batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def recalibrate_bn(model: nn.Module, ops: Sequence[int], calibration: Batches) -> None:
    """Reset every BatchNorm's running statistics and re-estimate them for path ``ops`` (cumulative average)."""
    norms = _batch_norms(model)
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average: every calibration batch weighs the same
    was_training = model.training
    model.train()
    try:
        for images, _ in calibration:
            model(images, ops=ops)
    finally:
        for bn, momentum in zip(norms, momenta, strict=True):
            bn.momentum = momentum
        model.train(was_training)


@torch.no_grad()
def evaluate_path(model: nn.Module, ops: Sequence[int], calibration: Batches, scoring: Batches) -> PathScore:
    """Recalibrate BatchNorm for ``ops`` on ``calibration``, then measure it on ``scoring`` in eval mode."""
    if calibration:
        recalibrate_bn(model, ops, calibration)
    was_training = model.training
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    try:
        for images, labels in scoring:
            logits = model(images, ops=ops)
            loss_sum += float(nn.functional.cross_entropy(logits, labels, reduction="sum"))
            correct += int((logits.argmax(dim=1) == labels).sum())
            total += len(labels)
    finally:
        model.train(was_training)
    if total == 0:
        raise ValueError("no scoring images: the validation set is empty")
    loss = loss_sum / total
    return PathScore(accuracy=correct / total, loss=loss if np.isfinite(loss) else float(np.finfo(float).max))
