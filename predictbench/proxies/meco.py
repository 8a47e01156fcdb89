"""MeCo: the minimum eigenvalue of the Pearson correlation matrix of every feature map, summed over layers.

Jiang, Wang & Bie, "Zero-shot Neural Architecture Search via the Minimum Eigenvalue of Pearson
Correlation" (MeCo), NeurIPS 2023 (HamsterMimi/MeCo, ``foresight/pruners/measures/meco.py``), written
here from its definition:

* **one** input image (the first image of the batch; the paper uses a single random Gaussian sample),
  the network in its current mode and weights (its initialisation);
* for every module whose output is a feature map ``(n, C, H, W)`` (containers included, as MeCo hooks
  every module), the ``C x C`` Pearson correlation matrix of the image's channels over the ``H W``
  positions, NaN/inf entries set to 0 (constant channels), and its smallest eigenvalue;
* the score is the sum of those eigenvalues over modules (NaN ones dropped);
* ``channels=k`` is MeCo_opt: each feature map contributes ``k`` channels drawn without replacement
  from ``seed`` (all when it has at most ``k``).

The score is invariant to a positive rescaling of the input when the first layer is a bias-free
convolution followed by BatchNorm in training mode (NB201, NB101): Pearson correlations do not see the
scale and BatchNorm removes it.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

from predictbench.proxies import declare

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["meco"]


def meco(
    net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0, channels: int | None = None
) -> float:
    """MeCo of ``net`` on the first image of ``inputs`` (MeCo_opt with ``channels``); see the module docstring."""
    import torch

    from predictbench.proxies.metrics import _generator

    if channels is not None and (isinstance(channels, bool) or not isinstance(channels, int) or channels < 2):
        raise ValueError(f"channels must be None (all) or an int >= 2, got {channels!r}")
    generator = _generator(seed, "meco:channels")
    total = [0.0]

    def hook(_module: nn.Module, _inp: tuple[torch.Tensor, ...], out: object) -> None:
        if not isinstance(out, torch.Tensor) or out.ndim != 4 or out.shape[2] * out.shape[3] < 2:
            return  # a 1x1 map has no correlation (MeCo's zeroed NaNs add 0)
        feature = out[0].detach().reshape(out.shape[1], -1).double()
        if channels is not None and feature.shape[0] > channels:
            feature = feature[torch.randperm(feature.shape[0], generator=generator)[:channels]]
        corr = torch.nan_to_num(torch.corrcoef(feature), nan=0.0, posinf=0.0, neginf=0.0)
        value = float(torch.linalg.eigvalsh(corr)[0])
        if not math.isnan(value):
            total[0] += value

    work = copy.deepcopy(net)
    handles = [m.register_forward_hook(hook) for m in work.modules()]
    try:
        with torch.no_grad():
            work(inputs[:1])
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


declare(meco)
