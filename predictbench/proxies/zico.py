"""ZiCo: per layer, log of the sum over weights of mean |gradient| / standard deviation over batches.

Li, Yang, Wang, Yang & Marculescu, "ZiCo: Zero-shot NAS via Inverse Coefficient of Variation on
Gradients", ICLR 2023 (SLDGroup/ZiCo, ``ZeroShotProxy/compute_zico.py``; AZ-NAS's NB201 port), written
here from its definition:

* the batch is split into ``n_batches`` (>= 2) equal consecutive parts (the paper: 2 batches of 64
  real training images with their labels); for each part the cross-entropy gradient of every conv and
  linear weight is taken (gradients reset between parts), the network in training mode;
* for every layer: ``sum_theta mean_b |g_b(theta)| / std_b g_b(theta)`` over the weights with a
  non-zero standard deviation (population std), and its natural log when the sum is positive;
* the score is the sum of those logs over layers.

It needs labels of the network's task: compute it on the real CIFAR-10 images
(:func:`predictbench.proxies.images.cifar10_batch`), which :func:`~predictbench.proxies.metrics.compute_proxies`
does by default.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

import numpy as np

from predictbench.proxies import declare

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["zico"]


def zico(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0, n_batches: int = 2) -> float:
    """ZiCo of ``net`` on ``inputs`` split into ``n_batches`` parts (module docstring)."""
    import torch.nn.functional as F

    from predictbench.proxies.metrics import _layers

    if isinstance(n_batches, bool) or not isinstance(n_batches, int) or n_batches < 2:
        raise ValueError(f"n_batches must be an int >= 2 (ZiCo needs a spread over batches), got {n_batches!r}")
    size = len(inputs) // n_batches
    if size < 1:
        raise ValueError(f"zico needs at least {n_batches} images ({n_batches} batches), got {len(inputs)}")
    work = copy.deepcopy(net)
    layers = _layers(work)
    grads: list[list[np.ndarray]] = [[] for _ in layers]
    for b in range(n_batches):
        work.zero_grad(set_to_none=True)
        part = slice(b * size, (b + 1) * size)
        F.cross_entropy(work(inputs[part]), targets[part]).backward()
        for i, layer in enumerate(layers):
            if layer.weight.grad is not None:
                grads[i].append(layer.weight.grad.detach().reshape(-1).double().numpy().copy())
    total = 0.0
    for per_batch in grads:
        if len(per_batch) < n_batches:
            continue
        stacked = np.stack(per_batch)
        std = stacked.std(axis=0)
        keep = std > 0
        ratio = float(np.sum(np.abs(stacked[:, keep]).mean(axis=0) / std[keep]))
        if ratio > 0:
            total += math.log(ratio)
    return total


declare(zico)
