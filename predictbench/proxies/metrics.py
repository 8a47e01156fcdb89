"""Zero-cost proxies of a torch network at initialisation, following NAS-Bench-Suite-Zero / NASLib.

Every proxy is a function ``proxy(net, inputs, targets, *, seed=0) -> float`` registered in
:data:`predictbench.proxies.PROXIES`, with its direction declared in
:data:`predictbench.proxies.PROXY_METRICS` (higher = predicted better for every proxy here). A proxy never
changes ``net``: those that modify weights or modules work on a deep copy. ``net`` is used in its
current mode (networks are built in training mode, so BatchNorm uses batch statistics, as in NASLib).
"Layers" below are the ``Conv2d`` and ``Linear`` modules; the loss is cross-entropy.

=========== =================================================================================
grad_norm   sum over layers of ``||dL/dW||_2``
snip        ``sum |W * dL/dW|`` (SNIP's connection sensitivity at an all-ones mask)
grasp       ``sum -W * (H g)``, ``g = dL/dW``, ``H`` the Hessian (GraSP, sign as in NASLib)
fisher      per output channel ``0.5 mean_n (sum_xy a * dL/da)^2`` of each layer's output ``a``,
            times the weights per channel, summed (NASLib's broadcast of channel saliencies)
synflow     ``log sum |W * dR/dW|`` for the network with ``|W|``, BatchNorm removed, float64, input of
            ones (one image), ``R`` = sum of outputs; the log is what NASLib's ZeroCost reports
            (0 when the sum is 0)
jacob_cov   ``-sum(log(l + k) + 1/(l + k))``, ``l`` eigenvalues of the correlation matrix of the
            per-image input gradients of the summed logits, ``k = 1e-5`` (NASWOT v1 / NASLib ``jacov``)
nwot        ``log |det K|``, ``K = sum over ReLU modules of c c^T + (1 - c)(1 - c)^T``, ``c`` the
            binary code (input > 0) of each image (NASWOT v2)
zen         Zen-NAS: weights re-drawn Gaussian (conv/linear N(0, 1), BN weight 1, bias 0), Gaussian
            inputs ``x`` and ``e``: ``log mean_n sum |f(x) - f(x + 0.01 e)| + sum_BN log sqrt(mean
            running_var)`` with ``f`` the features before global pooling (``net.forward_features``)
epe_nas     EPE-NAS on the input Jacobians grouped by label: per class ``s_c = sum log(|corr| + 1e-5)``;
            ``sum_c |s_c|`` for <= 100 classes, else ``sum_{c, c'} |s_c - s_c'| / #classes`` with
            ``s_c`` divided by the class size (NASLib)
l2_norm     sum over layers of ``||W||_2``
plain       ``sum W * dL/dW``
params      parameters in millions (all parameter tensors)
flops       MFLOPs of one image, Suite-Zero's counting convention (:mod:`predictbench.proxies.analytic`)
=========== =================================================================================

Undefined values (e.g. ``jacob_cov`` of a network whose output does not depend on its input, where the
correlation matrix is NaN) are returned as NaN, not as NASLib's ``-1e8`` sentinel.

Batches
-------
:func:`make_batch` takes a user tensor pair, a dataset, or nothing: the default is a **synthetic**
batch, Gaussian N(0, 1) images ``3 x resolution x resolution`` with uniformly random labels, drawn from
a local ``torch.Generator``. Synthetic data make the data-dependent proxies (grad_norm, snip, grasp,
fisher, jacob_cov, nwot, epe_nas, plain) differ from values computed on real images; the data-free ones
(synflow, zen, l2_norm, params, flops) read only the batch shape.

Examples
--------
>>> from predictbench.spaces import get_space
>>> result = compute_proxies(get_space("nb201").arch_at(6111), ["params", "synflow"], seed=0)  # doctest: +SKIP
>>> result.values["params"]  # doctest: +SKIP
1.073466
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from predictbench.proxies import DEFAULT_PROXIES, NEEDS_LABELS, PROXY_METRICS, REAL_IMAGES, resolve_proxy_name
from predictbench.types import Arch, Metric

log = logging.getLogger(__name__)

__all__ = [
    "ProxyFunction",
    "ProxyResult",
    "compute_proxies",
    "count_flops",
    "epe_nas",
    "fisher",
    "flops",
    "grad_norm",
    "grasp",
    "jacob_cov",
    "l2_norm",
    "make_batch",
    "nwot",
    "params",
    "plain",
    "snip",
    "synflow",
    "synthetic_batch",
    "zen",
]

ProxyFunction = Callable[..., float]
_K = 1e-5
_MIXUP_GAMMA = 1e-2


def _register(name: str) -> Callable[[ProxyFunction], ProxyFunction]:
    """Attach the declared Metric to a proxy function (``fn.metric``)."""
    metric: Metric = PROXY_METRICS[name]

    def wrap(fn: ProxyFunction) -> ProxyFunction:
        fn.metric = metric  # type: ignore[attr-defined]
        return fn

    return wrap


# --------------------------------------------------------------------------------------------------
# batches and seeds
# --------------------------------------------------------------------------------------------------


def _derived_seed(seed: int, label: str) -> int:
    """An int seed for one purpose (batch, weights, zen), independent of the others."""
    from predictbench.rng import spawn

    return int(spawn(int(seed), "proxies", label).integers(0, 2**62))


def _generator(seed: int, label: str) -> torch.Generator:
    return torch.Generator().manual_seed(_derived_seed(seed, label))


def synthetic_batch(
    batch_size: int = 64, *, num_classes: int = 10, resolution: int = 32, channels: int = 3, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded synthetic batch: Gaussian N(0, 1) images and uniformly random labels (float32, int64)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(f"batch_size must be an int >= 2, got {batch_size!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    g = _generator(seed, "batch")
    inputs = torch.randn((batch_size, channels, resolution, resolution), generator=g)
    targets = torch.randint(0, num_classes, (batch_size,), generator=g)
    return inputs, targets


def make_batch(
    data: Any = None,
    *,
    batch_size: int = 64,
    num_classes: int = 10,
    resolution: int = 32,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (inputs, targets) batch the proxies read.

    Parameters
    ----------
    data
        ``None``: :func:`synthetic_batch` (documented synthetic data, not real images).
        ``"cifar10"``: real CIFAR-10 images and labels chosen from ``seed``
        (:func:`predictbench.proxies.images.cifar10_batch`; resized for ``resolution`` 16).
        A pair ``(inputs, targets)`` of tensors or arrays: its first ``batch_size`` rows.
        A map-style dataset (``len`` and ``dataset[i] -> (image, label)``, e.g. a torchvision dataset):
        ``batch_size`` items drawn without replacement by a generator seeded from ``seed``.
    """
    if data is None:
        return synthetic_batch(batch_size, num_classes=num_classes, resolution=resolution, seed=seed)
    if isinstance(data, str):
        if data != "cifar10":
            raise ValueError(f"the only named batch is 'cifar10' (the shared real images), got {data!r}")
        from predictbench.proxies.images import cifar10_batch

        return cifar10_batch(batch_size, seed=seed, resolution=resolution)
    if isinstance(data, (tuple, list)) and len(data) == 2 and not _looks_like_item(data):
        inputs = torch.as_tensor(np.asarray(data[0]) if not isinstance(data[0], torch.Tensor) else data[0])
        targets = torch.as_tensor(np.asarray(data[1]) if not isinstance(data[1], torch.Tensor) else data[1])
        if inputs.ndim != 4 or targets.ndim != 1 or len(inputs) != len(targets):
            raise ValueError(
                f"a batch must be inputs (n, c, h, w) and targets (n,), got {tuple(inputs.shape)} and "
                f"{tuple(targets.shape)}"
            )
        if len(inputs) < 2:
            raise ValueError(f"a batch needs at least 2 images, got {len(inputs)}")
        return inputs[:batch_size].float(), targets[:batch_size].long()
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        n = len(data)
        if n < 2:
            raise ValueError(f"the dataset needs at least 2 items, has {n}")
        rows = torch.randperm(n, generator=_generator(seed, "dataset"))[: min(batch_size, n)].tolist()
        items = [data[i] for i in rows]
        inputs = torch.stack([x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x)) for x, _ in items])
        targets = torch.as_tensor([int(y) for _, y in items], dtype=torch.long)
        return inputs.float(), targets
    raise TypeError(
        f"data must be None (synthetic batch), an (inputs, targets) pair or a map-style dataset, "
        f"got {type(data).__name__}"
    )


def _looks_like_item(pair: Sequence[Any]) -> bool:
    """A dataset of exactly two items would also be a length-2 sequence; tell (inputs, targets) apart."""
    first = pair[0]
    return isinstance(first, (tuple, list))


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _layers(net: nn.Module) -> list[nn.Conv2d | nn.Linear]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _weights(net: nn.Module) -> list[torch.Tensor]:
    return [cast(torch.Tensor, m.weight) for m in _layers(net)]


def _loss_grads(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[nn.Module, list[torch.Tensor]]:
    """A copy of ``net`` after one cross-entropy backward pass; its layer weights' gradients."""
    work = copy.deepcopy(net)
    work.zero_grad(set_to_none=True)
    loss = F.cross_entropy(work(inputs), targets)
    loss.backward()
    grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in _weights(work)]
    return work, grads


def _input_jacobian(net: nn.Module, inputs: torch.Tensor) -> tuple[np.ndarray, int]:
    """(n, d) float64 gradients of the summed outputs with respect to each input image; output width."""
    work = copy.deepcopy(net)
    x = inputs.clone().requires_grad_(True)
    out = work(x)
    out.backward(torch.ones_like(out))
    assert x.grad is not None
    return x.grad.detach().reshape(len(x), -1).double().numpy(), int(out.shape[-1])


def _features(net: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    forward_features = getattr(net, "forward_features", None)
    if not callable(forward_features):
        raise TypeError(
            f"zen needs the features before global pooling: give {type(net).__name__} a forward_features(x) method"
        )
    return cast(Callable[[torch.Tensor], torch.Tensor], forward_features)


def _finite_or_nan(value: float) -> float:
    return float(value) if math.isfinite(value) else math.nan


# --------------------------------------------------------------------------------------------------
# proxies
# --------------------------------------------------------------------------------------------------


@_register("grad_norm")
def grad_norm(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Sum over conv/linear layers of the L2 norm of the loss gradient of the weights."""
    _, grads = _loss_grads(net, inputs, targets)
    return float(sum(float(g.norm()) for g in grads))


@_register("snip")
def snip(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """SNIP: ``sum |W * dL/dW|`` (the gradient of an all-ones weight mask)."""
    work, grads = _loss_grads(net, inputs, targets)
    with torch.no_grad():
        return float(sum(float((w * g).abs().sum()) for w, g in zip(_weights(work), grads, strict=True)))


@_register("plain")
def plain(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Plain: ``sum W * dL/dW`` (signed)."""
    work, grads = _loss_grads(net, inputs, targets)
    with torch.no_grad():
        return float(sum(float((w * g).sum()) for w, g in zip(_weights(work), grads, strict=True)))


@_register("grasp")
def grasp(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """GraSP: ``sum -W * (H g)`` with ``g = dL/dW`` and ``H`` the Hessian of the loss (NASLib's sign)."""
    work = copy.deepcopy(net)
    weights = _weights(work)
    loss = F.cross_entropy(work(inputs), targets)
    grad_w = torch.autograd.grad(loss, weights, allow_unused=True)
    loss = F.cross_entropy(work(inputs), targets)
    grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum(
        ((gw.detach() * gf).sum() for gw, gf in zip(grad_w, grad_f, strict=True) if gw is not None and gf is not None),
        start=torch.zeros(()),
    )
    if not z.requires_grad:
        return 0.0
    hg = torch.autograd.grad(z, weights, allow_unused=True)
    with torch.no_grad():
        return float(sum(float((-w * h).sum()) for w, h in zip(weights, hg, strict=True) if h is not None))


@_register("fisher")
def fisher(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Fisher: channel saliency ``0.5 mean_n (sum_xy a * dL/da)^2`` of each layer output, summed over weights."""
    work = copy.deepcopy(net)
    saliency: dict[nn.Module, torch.Tensor] = {}
    handles = []

    def forward_hook(module: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        if not out.requires_grad:
            return
        act = out.detach()

        def grad_hook(grad: torch.Tensor) -> None:
            g = grad.detach()
            g_nk = (act * g).sum(dim=tuple(range(2, act.ndim))) if act.ndim > 2 else act * g
            del_k = g_nk.pow(2).mean(0).mul(0.5)
            saliency[module] = saliency[module] + del_k if module in saliency else del_k

        out.register_hook(grad_hook)

    for layer in _layers(work):
        handles.append(layer.register_forward_hook(forward_hook))
    try:
        loss = F.cross_entropy(work(inputs), targets)
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    total = 0.0
    for layer in _layers(work):
        if layer in saliency:
            per_channel = int(np.prod(tuple(cast(torch.Tensor, layer.weight).shape[1:])))
            total += float(saliency[layer].abs().sum()) * per_channel
    return total


@_register("synflow")
def synflow(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """SynFlow, as the natural log NASLib reports: ``log sum |W * dR/dW|`` (module docstring)."""
    work = copy.deepcopy(net).double()
    _remove_batchnorm(work)
    with torch.no_grad():
        for tensor in work.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    work.zero_grad(set_to_none=True)
    ones = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64)
    torch.sum(work(ones)).backward()
    with torch.no_grad():
        total = 0.0
        for weight in _weights(work):
            if weight.grad is not None:
                total += float((weight * weight.grad).abs().sum())
    if total == 0.0:
        return 0.0
    return math.log(total) if total > 0 else -math.log(-total)


def gaussian_reinit(net: nn.Module, generator: torch.Generator) -> None:
    """Standard-normal conv/linear weights and zero biases, unit normalisation scales (Zen-NAS, SWAP)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.normal_(generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


def _remove_batchnorm(net: nn.Module) -> None:
    for module in list(net.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
                setattr(module, name, nn.Identity())


@_register("jacob_cov")
def jacob_cov(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Jacobian covariance (NASWOT v1, NASLib ``jacov``); NaN when the Jacobians have no spread."""
    jac, _ = _input_jacobian(net, inputs)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(jac)
    if not np.isfinite(corr).all():
        return math.nan
    eig = np.linalg.eigvalsh(corr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite_or_nan(-float(np.sum(np.log(eig + _K) + 1.0 / (eig + _K))))


@_register("nwot")
def nwot(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """NASWOT: ``log |det K|`` of the binary ReLU-code kernel over every ``nn.ReLU`` module's input."""
    n = len(inputs)
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def hook(_module: nn.Module, inp: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
        code = (inp[0].detach().reshape(n, -1) > 0).double()
        kernel.add_(code @ code.T).add_((1.0 - code) @ (1.0 - code).T)

    work = copy.deepcopy(net)
    handles = [m.register_forward_hook(hook) for m in work.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            work(inputs)
    finally:
        for handle in handles:
            handle.remove()
    _, logabsdet = torch.linalg.slogdet(kernel)
    return _finite_or_nan(float(logabsdet))


@_register("zen")
def zen(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Zen-NAS score with Gaussian weights and inputs drawn from ``seed`` (needs ``net.forward_features``)."""
    work = copy.deepcopy(net)
    features = _features(work)
    g = _generator(seed, "zen")
    gaussian_reinit(work, g)
    with torch.no_grad():
        for m in work.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
        work.train()
        x = torch.randn(inputs.shape, generator=g)
        e = torch.randn(inputs.shape, generator=g)
        out = features(x)
        mixed = features(x + _MIXUP_GAMMA * e)
        score = torch.sum(torch.abs(out - mixed), dim=tuple(range(1, out.ndim))).mean()
        log_bn = 0.0
        for m in work.modules():
            if isinstance(m, nn.BatchNorm2d) and m.running_var is not None:
                log_bn += float(torch.log(torch.sqrt(torch.mean(m.running_var))))
    with np.errstate(divide="ignore"):
        return _finite_or_nan(float(np.log(float(score))) + log_bn)


@_register("epe_nas")
def epe_nas(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """EPE-NAS on the input Jacobians grouped by label (module docstring); NaN when undefined."""
    jac, n_classes = _input_jacobian(net, inputs)
    labels = targets.detach().cpu().numpy()
    per_class: dict[int, float] = {}
    for label in np.unique(labels):
        rows = jac[labels == label]
        if len(rows) < 2:
            if n_classes <= 100:  # NASLib: corrcoef of one row is 1.0
                per_class[int(label)] = math.log(1.0 + _K)
            continue  # NASLib: len() of a 0-d correlation fails and the class is skipped
        with np.errstate(divide="ignore", invalid="ignore"):
            # EPE-NAS scores the magnitude of each entry of the Jacobian correlation matrix (its definition);
            # this is not a rank correlation whose sign we would be hiding
            jacobian_corr = np.corrcoef(rows)
            s = float(np.sum(np.log(np.absolute(jacobian_corr) + _K)))
        if n_classes > 100:
            s /= len(rows)
        per_class[int(label)] = s
    values = np.array(list(per_class.values()))
    if n_classes <= 100:
        score = float(np.sum(np.abs(values)))
    else:
        score = float(np.abs(values[:, None] - values[None, :]).sum() / max(len(values), 1))
    return _finite_or_nan(score)


@_register("l2_norm")
def l2_norm(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Sum over conv/linear layers of the L2 norm of the weights."""
    with torch.no_grad():
        return float(sum(float(w.norm()) for w in _weights(net)))


@_register("params")
def params(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """Parameters in millions (every parameter tensor)."""
    return sum(p.numel() for p in net.parameters()) / 1e6


@_register("flops")
def flops(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, seed: int = 0) -> float:
    """MFLOPs of one image of the batch's shape (Suite-Zero's counting convention)."""
    return count_flops(net, tuple(inputs.shape[1:])) / 1e6


def count_flops(net: nn.Module, image_shape: tuple[int, ...]) -> float:
    """FLOPs of one forward pass of one image, counted by module hooks (tensorwatch's convention).

    Conv2d ``k_h k_w C_in/groups C_out H_out W_out`` (+ ``C_out H_out W_out`` with a bias); affine
    BatchNorm2d 2x, plain BatchNorm2d 1x and ReLU 1x their input size; AvgPool2d / MaxPool2d
    ``k_h k_w C H_out W_out``; adaptive pools tensorwatch's window count; Linear ``in x out``. Other
    modules (identity, zero, sums) count nothing.
    """
    work = copy.deepcopy(net).eval()
    total = [0.0]

    def hook(module: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        total[0] += _module_flops(module, inp[0], out)

    handles = [m.register_forward_hook(hook) for m in work.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            work(torch.zeros((1, *image_shape)))
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _module_flops(module: nn.Module, x: torch.Tensor, out: torch.Tensor) -> float:  # noqa: PLR0911
    if isinstance(module, nn.Conv2d):
        k_h, k_w = _pair(module.kernel_size)
        c_out, h_out, w_out = out.shape[1:]
        conv = k_h * k_w * (x.shape[1] // module.groups) * c_out * h_out * w_out
        bias = c_out * h_out * w_out if module.bias is not None else 0
        return float(conv + bias)
    if isinstance(module, nn.BatchNorm2d):
        return float(x.numel() * (2 if module.affine else 1))
    if isinstance(module, nn.ReLU):
        return float(x.numel())
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        k_h, k_w = _pair(module.kernel_size)
        return float(out.shape[0] * out.shape[1] * out.shape[2] * out.shape[3] * k_h * k_w)
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        h_in, w_in = x.shape[2], x.shape[3]
        h_out, w_out = out.shape[2], out.shape[3]
        windows = 0
        for i in range(h_out):
            y0, y1 = math.floor(i * h_in / h_out), math.ceil((i + 1) * h_in / h_out)
            for j in range(w_out):
                x0, x1 = math.floor(j * w_in / w_out), math.ceil((j + 1) * w_in / w_out)
                windows += (y1 - y0 + 1) * (x1 - x0 + 1)
        return float(x.shape[0] * x.shape[1] * windows)
    if isinstance(module, nn.Linear):
        return float(x.shape[0] * module.in_features * module.out_features)
    return 0.0


# --------------------------------------------------------------------------------------------------
# several proxies of one architecture
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyResult:
    """Proxy values of one network and the seconds each took (network construction in ``build_s``)."""

    values: dict[str, float]
    seconds: dict[str, float]
    build_s: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)


def compute_proxies(
    arch_or_net: Arch | nn.Module,
    proxies: Iterable[str] | None = None,
    *,
    data: Any = None,
    batch_size: int = 64,
    num_classes: int = 10,
    resolution: int = 32,
    channels: int | None = None,
    cells_per_stage: int | None = None,
    seed: int = 0,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> ProxyResult:
    """Compute proxies of an architecture (its network built and initialised from ``seed``) or a network.

    Parameters
    ----------
    arch_or_net
        An :class:`Arch` of a space with a torch network (``nb201``, ``nb101``), or a torch module.
    proxies
        Proxy names (aliases such as ``jacov`` allowed); default :data:`~predictbench.proxies.DEFAULT_PROXIES`.
    data
        See :func:`make_batch`; ``None`` draws the seeded synthetic batch, and for the proxies in
        :data:`~predictbench.proxies.REAL_IMAGES` (zico, swap) a seeded batch of the shared real CIFAR-10
        images (ZiCo's labels are CIFAR-10's, so it refuses ``num_classes`` other than 10).
    batch_size, num_classes, resolution
        Batch size; classifier outputs (and synthetic label range); image side (32 CIFAR, 16 ImageNet16).
    channels, cells_per_stage
        Network size (ignored for a module): NB201 ``C`` (default 16) and ``N`` (default 5); NB101 stem
        channels (default 128) and cells per stack (default 3).
    seed
        Seeds the weight initialisation, the synthetic batch and zen's draws (independent streams).
    options
        Extra keyword arguments of single proxies, e.g. ``{"swap": {"repeats": 8}}`` (fewer SWAP weight
        draws than the paper's 32).
    """
    from predictbench.proxies.networks import build_network

    names = [resolve_proxy_name(p) for p in (proxies if proxies is not None else DEFAULT_PROXIES)]
    extra = {resolve_proxy_name(name): dict(kwargs) for name, kwargs in (options or {}).items()}
    unused = sorted(set(extra) - set(names))
    if unused:
        raise ValueError(f"options given for proxies that are not computed: {', '.join(unused)}")
    started = time.perf_counter()
    if isinstance(arch_or_net, Arch):
        net: nn.Module = build_network(
            arch_or_net,
            channels=channels,
            cells_per_stage=cells_per_stage,
            num_classes=num_classes,
            seed=_derived_seed(seed, "weights"),
        )
    elif isinstance(arch_or_net, nn.Module):
        net = arch_or_net
    else:
        raise TypeError(f"expected an Arch or a torch module, got {type(arch_or_net).__name__}")
    inputs, targets = make_batch(data, batch_size=batch_size, num_classes=num_classes, resolution=resolution, seed=seed)
    real = None
    if data is None and REAL_IMAGES.intersection(names):
        labelled = sorted(NEEDS_LABELS.intersection(REAL_IMAGES, names))
        if labelled and num_classes != 10:
            raise ValueError(
                f"{', '.join(labelled)} need labels of the network's task, but the shared real images are "
                f"CIFAR-10 (10 classes) and num_classes={num_classes}; give a labelled batch (data=...)"
            )
        real = make_batch("cifar10", batch_size=batch_size, resolution=resolution, seed=seed)
    build_s = time.perf_counter() - started
    values: dict[str, float] = {}
    seconds: dict[str, float] = {}
    from predictbench.proxies import get_proxy

    for name in names:
        fn = get_proxy(name)
        t0 = time.perf_counter()
        x, y = real if real is not None and name in REAL_IMAGES else (inputs, targets)
        values[name] = float(fn(net, x, y, seed=seed, **extra.get(name, {})))
        seconds[name] = time.perf_counter() - t0
    settings: dict[str, Any] = {
        "batch_size": len(inputs),
        "num_classes": num_classes,
        "resolution": int(inputs.shape[-1]),
        "channels": channels,
        "cells_per_stage": cells_per_stage,
        "seed": seed,
        "data": "synthetic" if data is None else "user",
    }
    if extra:
        settings["options"] = extra
    if real is not None:
        settings["real_images"] = {"file": "cifar10_subset.npz", "split": "train", "proxies": sorted(REAL_IMAGES)}
    return ProxyResult(values=values, seconds=seconds, build_s=build_s, settings=settings)
