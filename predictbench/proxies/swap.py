"""SWAP: the number of distinct sample-wise activation patterns, with the paper's parameter regulariser.

Peng, Song, Fayek, Ciesielski & Chang, "SWAP-NAS: Sample-Wise Activation Patterns for Ultra-fast NAS",
ICLR 2024 (pym1024/SWAP, ``src/metrics/swap.py``, ``correlation.py``), written here from its definition:

* the first ``n_images`` images of the batch (the paper: 16 real training images, no labels), the
  network in its current mode;
* conv and linear weights re-drawn N(0, 1) (biases 0, BatchNorm weight 1, bias 0), ``repeats`` times
  from ``seed`` (the paper: 32), and the score averaged over the repeats;
* the outputs of every ``nn.ReLU`` applied to a feature map, flattened and concatenated per image, give
  each neuron a binary pattern over the images (active or not); SWAP is the number of **distinct**
  patterns, so it is at most ``min(neurons, 2 ** n_images)``;
* the regularised SWAP-Score multiplies it by ``exp(-(P - mu)^2 / sigma)``, ``P`` the parameters in
  thousands. The paper leaves ``mu`` and ``sigma`` to the user (they set the model size it favours);
  ``swap_reg``'s defaults (``mu`` = 1500, ``sigma`` = 2e6) are this package's choice: a soft preference
  for the larger NB201 networks (1.53 M parameters at most), not the paper's values.
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

__all__ = ["SWAP_MU", "SWAP_SIGMA", "count_patterns", "swap", "swap_reg", "swap_regulariser"]

SWAP_MU = 1500.0
"""Default ``mu`` of :func:`swap_reg` (thousands of parameters; this package's choice)."""
SWAP_SIGMA = 2e6
"""Default ``sigma`` of :func:`swap_reg` (this package's choice)."""
_WORD = 62


def count_patterns(codes: torch.Tensor) -> int:
    """Distinct columns of a ``(samples, neurons)`` 0/1 matrix: each neuron's pattern over the samples."""
    import torch

    bits = (codes > 0).to(torch.int64).T  # (neurons, samples)
    words = []
    for start in range(0, bits.shape[1], _WORD):
        chunk = bits[:, start : start + _WORD]
        weights = torch.pow(2, torch.arange(chunk.shape[1], dtype=torch.int64))
        words.append((chunk * weights).sum(dim=1))
    packed = torch.stack(words, dim=1).numpy()
    return len(np.unique(packed[:, 0] if packed.shape[1] == 1 else packed, axis=None if packed.shape[1] == 1 else 0))


def swap_regulariser(net: nn.Module, *, mu: float = SWAP_MU, sigma: float = SWAP_SIGMA) -> float:
    """``exp(-(P - mu)^2 / sigma)``, ``P`` the parameters of ``net`` in thousands."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    thousands = sum(p.numel() for p in net.parameters()) / 1e3
    return math.exp(-((thousands - mu) ** 2) / sigma)


def swap(
    net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0, n_images: int = 16, repeats: int = 32
) -> float:
    """SWAP-Score (no regulariser): distinct ReLU activation patterns, averaged over Gaussian re-draws."""
    from predictbench.proxies.aznas import last_result

    for label, value in (("n_images", n_images), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    options = (seed, n_images, repeats)
    return float(
        last_result("swap", net, inputs, options, lambda: _mean_patterns(net, inputs[:n_images], seed, repeats))
    )


def _mean_patterns(net: nn.Module, batch: torch.Tensor, seed: int, repeats: int) -> float:
    import torch
    from torch import nn

    from predictbench.proxies.metrics import _generator, gaussian_reinit

    work = copy.deepcopy(net)
    generator = _generator(seed, "swap:weights")
    features: list[torch.Tensor] = []

    def hook(_module: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if inp[0].ndim == 4:
            features.append(out.detach().reshape(len(batch), -1))

    handles = [m.register_forward_hook(hook) for m in work.modules() if isinstance(m, nn.ReLU)]
    counts = []
    try:
        with torch.no_grad():
            for _ in range(repeats):
                gaussian_reinit(work, generator)
                features.clear()
                work(batch)
                counts.append(count_patterns(torch.cat(features, dim=1)) if features else 0)
    finally:
        for handle in handles:
            handle.remove()
    return float(np.mean(counts))


def swap_reg(
    net: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    seed: int = 0,
    n_images: int = 16,
    repeats: int = 32,
    mu: float = SWAP_MU,
    sigma: float = SWAP_SIGMA,
) -> float:
    """Regularised SWAP-Score: :func:`swap` times :func:`swap_regulariser`."""
    return swap(net, inputs, targets, seed=seed, n_images=n_images, repeats=repeats) * swap_regulariser(
        net, mu=mu, sigma=sigma
    )


declare(swap, swap_reg)
