"""FBNet-style hardware-aware differentiable search (Wu et al., CVPR 2019) on the NB201 supernet.

FBNet's DNAS, on the NB201 cell (the operation of each of the 6 edges is the searched choice, where FBNet picks a
block per layer):

* every edge's operation is sampled by **Gumbel-softmax**: ``m = softmax((theta + g) / T)``, ``g`` Gumbel(0, 1)
  noise, ``theta`` the ``(6, 5)`` architecture parameters (``P(op) = softmax(theta)``), in the architecture step
  and in the weight step alike; the temperature starts at ``T0 = 5.0`` and is annealed by ``exp(-0.045)`` every
  epoch (FBNet's schedule, written for 90 epochs: pass ``anneal=0.045 * 90 / epochs`` to compress it);
* the architecture loss is ``CE(m) * alpha * log(LAT(m)) ** beta`` (FBNet's ``alpha = 0.2``, ``beta = 0.6``),
  ``LAT(m) = base + sum_e sum_k m[e, k] * table[e, k]`` the table's latency of the relaxed cell (FBNet's eq. 7;
  its expectation over the Gumbel noise is the latency under the sampling distribution), from the additive
  per-operation table fitted to a device's measured per-cell latencies
  (:func:`~predictbench.supernet.latency_table.fit_latency_table`); ``theta`` is updated by Adam (FBNet: learning
  rate 0.01, weight decay 5e-4, the default :class:`FBNetConfig`);
* the weights are trained on the training split by the shared loop of
  :func:`~predictbench.supernet.differentiable.bilevel_search` (cross-entropy of the Gumbel-sampled network: the
  latency factor does not depend on the weights, so it would only rescale their learning rate), alternating with
  architecture steps on validation batches as DARTS does; FBNet's weight-only warm-up epochs are not modelled.

``log(LAT) ** beta`` needs ``LAT > 1``: LAT is the table's latency times ``latency_scale`` (default: the table's
unit, or the smallest decimal sub-unit, x10, x100, ..., that puts the device's fastest measured cell above ``e``,
so ``log LAT >= 1`` and the latency factor's slope ``beta / log LAT`` stays below ``beta``), and the table's value
is floored at the fastest measured cell (an additive fit can fall below it, even below zero, for almost empty
cells). ``beta = 0`` is plain Gumbel-softmax DARTS. The derived cell is the argmax of ``theta`` per edge.

Examples
--------
>>> table = fit_latency_table(pb.load("nb201/cifar10"), "edgegpu")  # doctest: +SKIP
>>> result = fbnet_search(cifar10(), table, epochs=4, seed=0)  # doctest: +SKIP
>>> result.arch, table.predict([result.arch])  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn

from predictbench.supernet.data import ImageData
from predictbench.supernet.differentiable import Batch, DifferentiableResult, SearchConfig, bilevel_search
from predictbench.supernet.latency_table import LatencyTable
from predictbench.supernet.model import NB201Supernet

__all__ = ["FBNET_CONFIG", "GumbelLatencyStep", "fbnet_search", "latency_scale_for"]

#: FBNet's architecture optimiser (Adam, lr 0.01, weight decay 5e-4) on the shared search settings
FBNET_CONFIG = replace(SearchConfig(), arch_lr=0.01, arch_weight_decay=5e-4)


def _number(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (positive and not value > 0) or (not positive and value < 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'non-negative'}, got {value!r}")
    return float(value)


def latency_scale_for(table: LatencyTable) -> float:
    """The default unit change: 1, or the smallest power of ten putting the fastest measured cell above ``e``."""
    scale = 1.0
    while table.fastest * scale <= math.e:
        scale *= 10.0
    return scale


class GumbelLatencyStep:
    """FBNet's architecture step: Adam on ``CE(m) * alpha * log(LAT(m)) ** beta`` with a Gumbel-softmax ``m``.

    Also the weight step's mixing (``weight_mix``: a fresh Gumbel-softmax sample) and the temperature schedule
    (``start_epoch``: ``T0 * exp(-anneal * epoch)``), hooks of :func:`bilevel_search`.
    """

    name = "fbnet"

    def __init__(
        self,
        table: LatencyTable,
        *,
        alpha: float = 0.2,
        beta: float = 0.6,
        temperature: float = 5.0,
        anneal: float = 0.045,
        latency_scale: float | None = None,
    ) -> None:
        if not isinstance(table, LatencyTable):
            raise ValueError(f"table must be a LatencyTable (fit_latency_table), got {type(table).__name__}")
        self.alpha = _number("alpha", alpha, positive=True)
        self.beta = _number("beta", beta, positive=False)
        self.initial_temperature = _number("temperature", temperature, positive=True)
        self.anneal = _number("anneal", anneal, positive=False)
        scale = (
            latency_scale_for(table)
            if latency_scale is None
            else _number("latency_scale", latency_scale, positive=True)
        )
        if table.fastest * scale <= 1.0:
            raise ValueError(
                f"latency_scale={latency_scale!r}: the fastest {table.device} cell, {table.fastest:.4g} {table.unit} "
                f"x {scale:g}, is not above 1, where log(LAT) ** beta is undefined; pass latency_scale above "
                f"{1.0 / table.fastest:.4g} (or None)"
            )
        self.table = table
        self.latency_scale = scale
        self.temperature = self.initial_temperature
        self._costs = torch.tensor(table.table, dtype=torch.float32)

    def start_epoch(self, epoch: int) -> None:
        self.temperature = self.initial_temperature * math.exp(-self.anneal * epoch)

    def weight_mix(self, alpha: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """One Gumbel-softmax sample ``softmax((alpha + g) / T)`` per edge."""
        uniform = torch.rand(alpha.shape, generator=rng, device=rng.device).to(alpha.device)
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
        return torch.softmax((alpha + gumbel) / self.temperature, dim=-1)

    def latency(self, mask: torch.Tensor) -> torch.Tensor:
        """``LAT(m)``: the table's latency of the relaxed cell, floored at the fastest measured cell, scaled."""
        value = self.table.base + (mask * self._costs.to(mask.device)).sum()
        return self.latency_scale * value.clamp(min=self.table.fastest)

    def __call__(
        self,
        model: NB201Supernet,
        alpha: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        valid_batch: Batch,
        train_batch: Batch,
        rng: torch.Generator,
        weight_lr: float,
    ) -> float:
        optimizer.zero_grad(set_to_none=True)
        mask = self.weight_mix(alpha, rng)
        images, labels = valid_batch
        cross_entropy = nn.functional.cross_entropy(model(images, weights=mask), labels)
        loss = cross_entropy * self.alpha * torch.log(self.latency(mask)) ** self.beta
        (grad,) = torch.autograd.grad(loss, [alpha])
        alpha.grad = grad
        optimizer.step()
        return float(cross_entropy.detach())


def fbnet_search(
    data: ImageData,
    table: LatencyTable,
    *,
    epochs: int = 10,
    seed: int = 0,
    alpha: float = 0.2,
    beta: float = 0.6,
    temperature: float = 5.0,
    anneal: float = 0.045,
    latency_scale: float | None = None,
    config: SearchConfig | None = None,
) -> DifferentiableResult:
    """FBNet search on ``data`` against the latency ``table`` of a device.

    Parameters
    ----------
    data
        Weights train on ``data.train``, the architecture on ``data.valid``.
    table
        The device's additive latency table (:func:`~predictbench.supernet.latency_table.fit_latency_table`).
    epochs, seed
        Passes over ``data.train``; the seed of everything random (the same as DARTS' for the same seed).
    alpha, beta
        FBNet's latency loss ``CE * alpha * log(LAT) ** beta`` (``alpha`` > 0, ``beta`` >= 0; 0: no latency term).
    temperature, anneal
        Gumbel-softmax temperature ``temperature * exp(-anneal * epoch)``.
    latency_scale
        LAT's unit as a multiple of the table's (None: see the module notes).
    config
        Supernet and optimiser settings (default :data:`FBNET_CONFIG`, FBNet's Adam for ``theta``).

    Returns
    -------
    DifferentiableResult
        ``method="fbnet"``, the derived cell (argmax per edge) and the final ``softmax(theta)`` in ``weights``.
    """
    step = GumbelLatencyStep(
        table, alpha=alpha, beta=beta, temperature=temperature, anneal=anneal, latency_scale=latency_scale
    )
    return bilevel_search(data, step, epochs=epochs, seed=seed, config=config or FBNET_CONFIG)
