"""VKDNW: entropy of the Fisher information spectrum, and its rank aggregates over a population of cells.

Týbl & Neumann, "Training-free Neural Architecture Search through Variance of Knowledge of Deep Network
Weights", CVPR 2025 (ondratybl/VKDNW, ``NB201/ZeroShotProxy/compute_vkdnw_score.py``, ``tss_utils.py``),
written here from its definitions:

* the network is re-initialised as in AZ-NAS (:func:`~predictbench.proxies.aznas.kaiming_reinit`) and
  evaluated in **eval mode** with fresh BatchNorm running statistics (mean 0, variance 1), on a batch of
  Gaussian N(0, 1) inputs (the paper's default; its NB201 runs use 32 images; pass any batch);
* the parameters are **one scalar per parameter tensor**, its first element (conv, BatchNorm and
  classifier weights and biases alike), so the Fisher matrix is ``p x p`` with ``p`` the number of
  parameter tensors (``vkdnw_dim``);
* ``F = mean_n J_n^T (diag(q_n) - q_n q_n^T) J_n``, ``J_n`` the Jacobian of the logits of image ``n``
  with respect to those scalars, ``q_n = 0.95 softmax(logits_n) + 0.05 / K`` (the paper's smoothed
  probabilities, whose covariance it factors by Cholesky); its eigenvalues ``lambda``;
* ``vkdnw_entropy = -sum_k t_k log(t_k + 1e-10)``, ``t = d / (sum d + 1e-10)``, ``d`` the nine deciles
  (10 %, ..., 90 %, linear interpolation) of ``lambda``;
* over a population of cells: ``VKDNW_single`` = the dense rank of ``(vkdnw_dim, vkdnw_entropy)``
  (lexicographic: more parameter tensors first) and ``VKDNW_agg = log VKDNW_single`` plus ``log rank`` of
  jacob_cov, AZ-NAS expressivity, trainability and FLOPs (:func:`vkdnw_single`, :func:`vkdnw_aggregate`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from predictbench.proxies import declare
from predictbench.proxies.aznas import kaiming_reinit, log_rank

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "VKDNW_AGG_COLUMNS",
    "VKDNW_SINGLE_COLUMNS",
    "fisher_eigenvalues",
    "vkdnw_aggregate",
    "vkdnw_dim",
    "vkdnw_entropy",
    "vkdnw_single",
]

VKDNW_SINGLE_COLUMNS = ("vkdnw_dim", "vkdnw_entropy")
"""Columns of VKDNW_single, in lexicographic order."""
VKDNW_AGG_COLUMNS = ("jacob_cov", "az_expressivity", "az_trainability", "flops")
"""The other proxies VKDNW_agg adds as ``log rank`` (the paper's ``jacov``, AZ-NAS E and T, FLOPs)."""
_ALPHA = 0.05
_EPS = 1e-10


def fisher_eigenvalues(net: nn.Module, inputs: torch.Tensor, *, seed: int = 0) -> np.ndarray:
    """Eigenvalues (ascending, float64) of VKDNW's Fisher matrix of a re-initialised copy of ``net``."""
    import torch
    from torch import nn

    from predictbench.proxies.metrics import _generator

    work = copy.deepcopy(net)
    kaiming_reinit(work, _generator(seed, "vkdnw:weights"))
    for m in work.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            m.reset_running_stats()
    work.eval()
    if not list(work.parameters()):
        raise ValueError(f"vkdnw needs parameters: {type(net).__name__} has none")
    jac, out = _first_element_jacobian(work, inputs)
    q = torch.softmax(out.double(), dim=1) * (1 - _ALPHA) + _ALPHA / out.shape[1]
    cov = torch.diag_embed(q) - q.unsqueeze(2) * q.unsqueeze(1)
    fisher = torch.einsum("nkp,nkl,nlq->pq", jac, cov, jac) / len(inputs)
    eig = torch.linalg.eigvalsh((fisher + fisher.T) / 2)
    return np.asarray(eig.clamp_min(0.0).numpy(), dtype=float)


def _first_element_jacobian(work: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(n, K, p)`` Jacobian of each image's logits by the first element of every parameter tensor; logits.

    In eval mode the images do not interact, so one backward pass per class gives every image's
    gradient at each layer's output, from which the first elements' gradients follow in closed form for
    Conv2d, BatchNorm2d and Linear; other parameterised modules fall back to ``torch.func`` (slower).
    """
    import torch
    from torch import nn

    owners = [m for m in work.modules() if list(m.parameters(recurse=False))]
    if not all(isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)) for m in owners):
        return _jacobian_func(work, inputs)
    seen: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}
    twice: list[nn.Module] = []

    def hook(module: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if module in seen:
            twice.append(module)
        seen[module] = (inp[0].detach(), out)

    handles = [m.register_forward_hook(hook) for m in owners]
    try:
        logits = work(inputs)
    finally:
        for handle in handles:
            handle.remove()
    if twice or len(seen) != len(owners):
        return _jacobian_func(work, inputs)
    outputs = [seen[m][1] for m in owners]
    columns: list[list[torch.Tensor]] = []
    for k in range(logits.shape[1]):
        grads = torch.autograd.grad(logits[:, k].sum(), outputs, retain_graph=True, allow_unused=True)
        per_param: list[torch.Tensor] = []
        for m, g in zip(owners, grads, strict=True):
            x = seen[m][0]
            g0 = torch.zeros(len(x)) if g is None else g[:, 0]
            per_param.extend(_first_grads(m, x, g0))
        columns.append(per_param)
    order = {id(p): i for i, p in enumerate(q for m in owners for q in m.parameters(recurse=False))}
    ranks = [order[id(p)] for p in work.parameters()]
    jac = torch.stack([torch.stack([col[r] for r in ranks], dim=1) for col in columns], dim=1)
    return jac.double(), logits.detach()


def _first_grads(module: nn.Module, x: torch.Tensor, g0: torch.Tensor) -> list[torch.Tensor]:
    """Per-image gradients of the first element of each of ``module``'s parameters (its registration order)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    spatial = tuple(range(1, g0.ndim))
    grads: dict[str, torch.Tensor] = {}
    if isinstance(module, nn.Conv2d):
        pad_h, pad_w = _pair(module.padding)
        s_h, s_w = _pair(module.stride)
        xp = F.pad(x[:, 0], (pad_w, pad_w, pad_h, pad_h))
        h, w = g0.shape[1], g0.shape[2]
        window = xp[:, : s_h * (h - 1) + 1 : s_h, : s_w * (w - 1) + 1 : s_w]
        grads["weight"] = (g0 * window).sum(dim=spatial)
        grads["bias"] = g0.sum(dim=spatial)
    elif isinstance(module, nn.BatchNorm2d):
        mean = module.running_mean[0] if module.running_mean is not None else x[:, 0].mean()
        var = module.running_var[0] if module.running_var is not None else x[:, 0].var(unbiased=False)
        xhat = (x[:, 0] - mean) / torch.sqrt(var + module.eps)
        grads["weight"] = (g0 * xhat).sum(dim=spatial)
        grads["bias"] = g0.sum(dim=spatial)
    else:  # Linear
        grads["weight"] = g0 * x[:, 0]
        grads["bias"] = g0
    return [grads[name] for name, _ in module.named_parameters(recurse=False)]


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _jacobian_func(work: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The same Jacobian by ``torch.func`` (any module; about 10x slower on NB201)."""
    import torch
    from torch.func import functional_call, jacrev, vmap

    params = {k: v.detach() for k, v in work.named_parameters()}
    buffers = {k: v.detach() for k, v in work.named_buffers()}
    names = list(params)
    theta = torch.stack([params[k].reshape(-1)[0] for k in names])
    masks = {k: torch.zeros(params[k].numel()).index_fill_(0, torch.tensor([0]), 1.0).view_as(params[k]) for k in names}

    def logits(scalars: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        swapped = {k: params[k] + (scalars[i] - theta[i]) * masks[k] for i, k in enumerate(names)}
        out: torch.Tensor = functional_call(work, (swapped, buffers), (image.unsqueeze(0),))
        return out.squeeze(0)

    jac = vmap(jacrev(logits), in_dims=(None, 0))(theta, inputs)
    with torch.no_grad():
        out = work(inputs)
    return jac.double(), out


def _decile_entropy(eigenvalues: np.ndarray) -> float:
    deciles = np.quantile(eigenvalues, np.arange(1, 10) / 10)
    t = deciles / (np.abs(deciles).sum() + _EPS)
    return float(-(t * np.log(t + _EPS)).sum())


def vkdnw_entropy(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """VKDNW: entropy of the normalised deciles of the Fisher spectrum (higher = more uniform)."""
    value = _decile_entropy(fisher_eigenvalues(net, inputs, seed=seed))
    return value if math.isfinite(value) else math.nan


def vkdnw_dim(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """VKDNW's dimension: the number of parameter tensors (the size of its Fisher matrix)."""
    return float(len(list(net.parameters())))


def _columns(table: Mapping[str, Any], columns: Sequence[str], who: str) -> list[np.ndarray]:
    missing = [c for c in columns if c not in table]
    if missing:
        raise KeyError(f"{who} needs the columns {list(columns)}; missing {missing}")
    return [np.asarray(table[c], dtype=float) for c in columns]


def vkdnw_single(table: Mapping[str, Any], *, columns: Sequence[str] = VKDNW_SINGLE_COLUMNS) -> np.ndarray:
    """VKDNW_single: dense rank (1 = worst) of ``(dim, entropy)`` compared lexicographically, per row."""
    dim, entropy = _columns(table, columns, "VKDNW_single")
    entropy = np.where(np.isnan(entropy), -np.inf, entropy)
    keys = np.rec.fromarrays([dim, entropy])
    _, inverse = np.unique(keys, return_inverse=True)
    return np.asarray(inverse, dtype=float).reshape(-1) + 1.0


def vkdnw_aggregate(
    table: Mapping[str, Any],
    *,
    single_columns: Sequence[str] = VKDNW_SINGLE_COLUMNS,
    other_columns: Sequence[str] = VKDNW_AGG_COLUMNS,
) -> np.ndarray:
    """VKDNW_agg: ``log VKDNW_single + sum log rank`` of the other columns (higher = predicted better)."""
    others = _columns(table, other_columns, "VKDNW_agg")
    score = np.log(vkdnw_single(table, columns=single_columns))
    for column in others:
        score = score + log_rank(column)
    return np.asarray(score, dtype=float)


declare(vkdnw_entropy, vkdnw_dim)
