"""AZ-NAS: expressivity, progressivity, trainability, complexity and their non-linear rank aggregation.

Lee & Ham, "AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search", CVPR 2024
(cvlab-yonsei/AZ-NAS, ``NB201/ZeroShotProxy/compute_az_nas_score.py`` and ``tss_general.ipynb``), written
here from its definitions:

* the network is re-initialised (conv/linear Kaiming normal, fan-in, ReLU gain, biases 0; BatchNorm
  weight 1, bias 0) and run in training mode (batch statistics) on a batch of Gaussian N(0, 1) inputs
  (the paper's NB201 setting: 64 random inputs; pass any batch);
* the features ``f_0..f_L`` are the stem output and the output of every cell and reduction block
  (``net.stem`` and ``net.cells`` of :class:`~predictbench.proxies.networks.NB201Network`);
* **expressivity** ``sum_l H(f_l)``: ``H`` the entropy of the normalised eigenvalues of the channel
  covariance of ``f_l`` (channels x positions of every image), ``-sum p log(p + 1e-8)``;
* **progressivity** ``min_l H(f_l) - H(f_{l-1})``;
* **trainability** the mean over consecutive pairs of ``-s - 1/(s + 1e-6) + 2``, ``s`` the largest
  singular value of ``E[g_in g_out^T]``, ``g_out`` a Rademacher (+-1) gradient on ``f_l``, ``g_in`` its
  backpropagation to ``f_{l-1}`` (pixel-unshuffled across a stride); a block whose backpropagation is the
  identity scores ``-inf`` (the paper's choice), so the mean is ``-inf``;
* **complexity** FLOPs (the paper reads them from the benchmark; here counted like ``flops``);
* the score of a population of cells is ``sum_k log(rank_k / n)`` over the four components
  (:func:`az_nas_score`), a function of the whole table, not of one cell.

Undefined entropies (a feature that is all zero) give NaN, which AZ-NAS scores as ``-inf``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictbench.proxies import declare

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "AZ_COMPONENTS",
    "az_complexity",
    "az_components",
    "az_expressivity",
    "az_nas_score",
    "az_progressivity",
    "az_trainability",
    "kaiming_reinit",
    "last_result",
    "log_rank",
]

AZ_COMPONENTS = ("az_expressivity", "az_progressivity", "az_trainability", "az_complexity")
"""The registered proxy names of AZ-NAS's four components, in the paper's order."""
_EPS_LOG = 1e-8
_EPS_SV = 1e-6


def kaiming_reinit(net: nn.Module, generator: torch.Generator) -> None:
    """AZ-NAS's / VKDNW's initialisation: conv/linear Kaiming normal (fan-in, ReLU), BN weight 1, biases 0."""
    import torch
    from torch import nn

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu", generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


def _cell_features(net: nn.Module, inputs: torch.Tensor) -> list[torch.Tensor]:
    stem, cells = getattr(net, "stem", None), getattr(net, "cells", None)
    if stem is None or cells is None:
        raise TypeError(
            f"AZ-NAS needs the stem and cell outputs: {type(net).__name__} has no `stem` and `cells` "
            "(an NB201Network or NB101Network has)"
        )
    features = [stem(inputs)]
    for cell in cells:
        features.append(cell(features[-1]))
    return features


def _entropy(feature: torch.Tensor) -> float:
    import torch

    b, c, h, w = feature.shape
    flat = feature.detach().permute(0, 2, 3, 1).reshape(b * h * w, c).double()
    flat = flat - flat.mean(dim=0, keepdim=True)
    eig = torch.linalg.eigvalsh(flat.T @ flat / flat.shape[0])
    p = eig / eig.sum()
    return float(-(p * torch.log(p + _EPS_LOG)).sum())


def _trainability(features: list[torch.Tensor], generator: torch.Generator) -> float:
    import torch
    import torch.nn.functional as F

    scores: list[float] = []
    for i in reversed(range(1, len(features))):
        f_out, f_in = features[i], features[i - 1]
        g_out = torch.randint(0, 2, f_out.shape, generator=generator).to(f_out.dtype).mul_(2).sub_(1)
        (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out)
        if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
            scores.append(-math.inf)
            continue
        if g_in.shape[-1] != g_out.shape[-1]:
            g_in = F.pixel_unshuffle(g_in, g_in.shape[-1] // g_out.shape[-1])
        n = g_out.shape[0] * g_out.shape[2] * g_out.shape[3]
        a = g_in.permute(0, 2, 3, 1).reshape(n, -1).double()
        b = g_out.permute(0, 2, 3, 1).reshape(n, -1).double()
        s = float(torch.linalg.svdvals(a.T @ b / n).max())
        scores.append(-s - 1.0 / (s + _EPS_SV) + 2.0)
    return float(np.mean(scores))


_LAST: dict[str, tuple[Any, ...]] = {}  # per purpose, the last (key, net, inputs, result): see last_result


def last_result(
    purpose: str, net: nn.Module, inputs: torch.Tensor, options: tuple[Any, ...], compute: Callable[[], Any]
) -> Any:
    """``compute()``, or its kept result when the same network, batch and options came last for ``purpose``.

    Several registered proxies share one computation (AZ-NAS's three components, swap and swap_reg); the
    key holds the objects' ids and their in-place-modification counters, and the entry keeps the objects
    alive, so an id cannot be reused while it is kept.
    """
    versions = tuple(t._version for t in (*net.parameters(), *net.buffers()))
    key = (id(net), id(inputs), inputs._version, versions, options)
    entry = _LAST.get(purpose)
    if entry is not None and entry[0] == key:
        return entry[3]
    result = compute()
    _LAST[purpose] = (key, net, inputs, result)
    return result


def az_components(net: nn.Module, inputs: torch.Tensor, *, seed: int = 0) -> dict[str, float]:
    """AZ-NAS's expressivity, progressivity and trainability of one network (module docstring).

    ``net`` is not changed (a re-initialised copy is scored); ``seed`` draws the weights and the
    Rademacher gradients. The last result is kept, so the three proxies of one network cost one pass.
    """
    return dict(last_result("az_nas", net, inputs, (seed,), lambda: _compute_components(net, inputs, seed)))


def _compute_components(net: nn.Module, inputs: torch.Tensor, seed: int) -> dict[str, float]:
    from predictbench.proxies.metrics import _generator

    work = copy.deepcopy(net).train()
    kaiming_reinit(work, _generator(seed, "az_nas:weights"))
    features = _cell_features(work, inputs)
    entropies = np.array([_entropy(f) for f in features])
    trainability = _trainability(features, _generator(seed, "az_nas:gradients"))
    return {
        "az_expressivity": _nan_to_minus_inf(float(np.sum(entropies))),
        "az_progressivity": _nan_to_minus_inf(float(np.min(np.diff(entropies)))),
        "az_trainability": _nan_to_minus_inf(trainability),
    }


def _nan_to_minus_inf(value: float) -> float:
    return -math.inf if math.isnan(value) else value


def az_expressivity(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """AZ-NAS expressivity: sum over features of the entropy of the channel-covariance spectrum."""
    return az_components(net, inputs, seed=seed)["az_expressivity"]


def az_progressivity(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """AZ-NAS progressivity: the smallest increase of that entropy from one feature to the next."""
    return az_components(net, inputs, seed=seed)["az_progressivity"]


def az_trainability(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """AZ-NAS trainability: mean of ``-s - 1/s + 2`` over blocks, ``s`` the top singular value of the Jacobian."""
    return az_components(net, inputs, seed=seed)["az_trainability"]


def az_complexity(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """AZ-NAS complexity: MFLOPs of one image (the ``flops`` proxy's count)."""
    from predictbench.proxies.metrics import flops

    return flops(net, inputs, targets, seed=seed)


def log_rank(values: Any) -> np.ndarray:
    """``log(rank / n)`` with average ranks of ties (scipy's ``rankdata``); NaN ranks lowest."""
    from scipy.stats import rankdata

    column = np.asarray(values, dtype=float)
    filled = np.where(np.isnan(column), -np.inf, column)
    return np.asarray(np.log(rankdata(filled) / len(filled)), dtype=float)


def az_nas_score(table: Mapping[str, Any], *, columns: Sequence[str] = AZ_COMPONENTS) -> np.ndarray:
    """AZ-NAS's aggregate of a population of cells: ``sum_k log(rank_k / n)`` over the component columns.

    Parameters
    ----------
    table
        A DataFrame or mapping with one row per cell.
    columns
        Its expressivity, progressivity, trainability and complexity columns (e.g. with a store's
        ``_live`` suffix); every column is "higher is better".

    Returns
    -------
    numpy.ndarray
        One score per row (higher = predicted better; only the order is meaningful, and it changes
        with the population).
    """
    missing = [c for c in columns if c not in table]
    if missing:
        raise KeyError(f"the AZ-NAS aggregate needs the columns {list(columns)}; missing {missing}")
    if not columns:
        raise ValueError("the AZ-NAS aggregate needs at least one column")
    return np.sum([log_rank(table[c]) for c in columns], axis=0)


declare(az_expressivity, az_progressivity, az_trainability, az_complexity)
