"""Training-free (zero-cost) proxies computed live: torch networks for cells, proxy functions, store tables.

Importing this package does not import torch: the registry maps names to ``"module:function"`` targets,
and every proxy's direction is declared here as a :class:`~predictbench.types.Metric` of kind ``proxy``.

Modules
-------
:mod:`~predictbench.proxies.networks`
    the NB201 / NATS-tss and NB101 networks of a cell (torch).
:mod:`~predictbench.proxies.metrics`
    the proxy functions (torch) and :func:`~predictbench.proxies.metrics.compute_proxies`.
:mod:`~predictbench.proxies.aznas`, :mod:`~predictbench.proxies.vkdnw`, :mod:`~predictbench.proxies.meco`,
:mod:`~predictbench.proxies.zico`, :mod:`~predictbench.proxies.swap`
    the 2023-25 proxies (torch), one module each; AZ-NAS's and VKDNW's rank aggregates over a table.
:mod:`~predictbench.proxies.images`
    the shared real CIFAR-10 images (ZiCo, SWAP).
:mod:`~predictbench.proxies.analytic`
    parameters and FLOPs of NB201 networks in closed form (numpy, no torch).
:mod:`~predictbench.proxies.compute`
    a resumable, parallel table of proxies written into a store.
:mod:`~predictbench.proxies.cli`
    the ``predictbench proxies list|compute`` commands.

Examples
--------
>>> from predictbench.proxies import PROXIES, proxy_metric
>>> "synflow" in PROXIES, proxy_metric("synflow").higher_is_better
(True, True)
"""

from __future__ import annotations

from typing import Any

from predictbench.registry import Registry, unknown_name
from predictbench.types import Metric

__all__ = [
    "ALIASES",
    "DATA_FREE",
    "DEFAULT_PROXIES",
    "NEEDS_LABELS",
    "PROXIES",
    "PROXY_METRICS",
    "REAL_IMAGES",
    "declare",
    "get_proxy",
    "proxy_metric",
    "proxy_names",
    "resolve_proxy_name",
]

_CONVENTION = (
    " Declared higher_is_better=True by the zero-cost convention (a higher score predicts a better "
    "network); its actual correlation with accuracy may differ."
)
_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    # name: (unit, description)
    "grad_norm": ("", "sum over conv/linear layers of the L2 norm of the loss gradient of the weights"),
    "snip": ("", "SNIP: sum of |w * dL/dw| over conv/linear weights"),
    "grasp": ("", "GraSP: sum of -w * (H g) over conv/linear weights (Hessian-gradient product)"),
    "fisher": ("", "Fisher: per output channel 0.5 * mean_n (sum_xy act * dL/dact)^2, summed over weights"),
    "synflow": ("", "SynFlow: natural log of sum |w * dR/dw|, R = sum of outputs of the |w| network (no BN) on ones"),
    "jacob_cov": (
        "",
        "Jacobian covariance (NASWOT v1): -sum(log(l + k) + 1/(l + k)) over eigenvalues l of the "
        "correlation matrix of input Jacobians, k = 1e-5",
    ),
    "nwot": ("", "NASWOT: log|det K| of the binary ReLU-code kernel K = sum over ReLUs of c c^T + (1-c)(1-c)^T"),
    "zen": (
        "",
        "Zen-NAS score: log E|f(x) - f(x + 0.01 e)| of pre-pooling features + sum log sqrt(BN var), "
        "Gaussian weights and inputs",
    ),
    "epe_nas": ("", "EPE-NAS: per-class sums of log(|corr| + 1e-5) of input Jacobians, combined over classes"),
    "l2_norm": ("", "sum over conv/linear layers of the L2 norm of the weights at initialisation"),
    "plain": (
        "",
        "plain: sum of w * dL/dw over conv/linear weights. NOTE: correlates NEGATIVELY with accuracy "
        "on NB201 (Suite-Zero Spearman about -0.37 on cifar10)",
    ),
    "params": ("M", "number of parameters in millions"),
    "flops": ("MFLOPs", "FLOPs of one image in millions (Suite-Zero / tensorwatch counting convention)"),
}

_BY_DEFINITION = " Higher is better by its paper's definition."
_FRONTIER: dict[str, tuple[str, str, str]] = {
    # name: (module, unit, description); the 2023-25 proxies, each in its own module
    "az_expressivity": (
        "aznas",
        "nats",
        "AZ-NAS expressivity (Lee & Ham, CVPR 2024): sum over stem/cell outputs of the entropy of the "
        "channel-covariance spectrum; Kaiming re-init, Gaussian inputs",
    ),
    "az_progressivity": ("aznas", "nats", "AZ-NAS progressivity: smallest increase of that entropy between blocks"),
    "az_trainability": (
        "aznas",
        "",
        "AZ-NAS trainability: mean over blocks of -s - 1/s + 2, s the top singular value of the block "
        "Jacobian's Rademacher estimate (-inf for an identity block)",
    ),
    "az_complexity": ("aznas", "MFLOPs", "AZ-NAS complexity: FLOPs of one image (the flops count)"),
    "vkdnw_entropy": (
        "vkdnw",
        "nats",
        "VKDNW (Tybl & Neumann, CVPR 2025): entropy of the deciles of the Fisher information spectrum "
        "(one scalar per parameter tensor, eval mode, Gaussian inputs)",
    ),
    "vkdnw_dim": ("vkdnw", "", "VKDNW dimension: number of parameter tensors (ranked before vkdnw_entropy)"),
    "meco": (
        "meco",
        "",
        "MeCo (NeurIPS 2023): sum over feature maps of the smallest eigenvalue of the channels' Pearson "
        "correlation matrix, one input image",
    ),
    "zico": (
        "zico",
        "",
        "ZiCo (ICLR 2023): sum over layers of log sum mean|grad| / std(grad) over 2 batches; real "
        "CIFAR-10 images and labels",
    ),
    "swap": (
        "swap",
        "",
        "SWAP (ICLR 2024): distinct sample-wise ReLU activation patterns of 16 real images, mean over "
        "32 Gaussian weight draws",
    ),
    "swap_reg": (
        "swap",
        "",
        "regularised SWAP-Score: swap x exp(-(params_k - mu)^2 / sigma), mu 1500, sigma 2e6 (this package's choice)",
    ),
}

PROXY_METRICS: dict[str, Metric] = {
    **{
        name: Metric(name, higher_is_better=True, unit=unit, kind="proxy", description=text + "." + _CONVENTION)
        for name, (unit, text) in _DESCRIPTIONS.items()
    },
    **{
        name: Metric(name, higher_is_better=True, unit=unit, kind="proxy", description=text + "." + _BY_DEFINITION)
        for name, (_, unit, text) in _FRONTIER.items()
    },
}
"""Every proxy's declaration (direction, unit, meaning); the one place their sign is decided."""

DEFAULT_PROXIES = tuple(_DESCRIPTIONS)
"""What ``compute_proxies`` and ``proxies compute`` compute when no names are given (the Suite-Zero 13)."""

DATA_FREE = frozenset({"synflow", "zen", "l2_norm", "params", "flops", "az_complexity", "vkdnw_dim"})
"""Proxies that do not read the batch's images or labels (only its shape)."""

REAL_IMAGES = frozenset({"zico", "swap", "swap_reg"})
"""Proxies computed on the shared real CIFAR-10 images unless a batch is given (:mod:`.images`)."""

NEEDS_LABELS = frozenset({"grad_norm", "snip", "grasp", "fisher", "epe_nas", "plain", "zico"})
"""Proxies that read the batch's labels (the others are label-free)."""

ALIASES: dict[str, str] = {"jacov": "jacob_cov", "naswot": "nwot", "epe-nas": "epe_nas"}
"""Other names in use for the same proxies (NASLib calls jacob_cov ``jacov``)."""

PROXIES = Registry("proxy")
for _name in _DESCRIPTIONS:
    PROXIES.register(_name, f"predictbench.proxies.metrics:{_name}")
for _name, (_module, _, _) in _FRONTIER.items():
    PROXIES.register(_name, f"predictbench.proxies.{_module}:{_name}")


def declare(*functions: Any) -> None:
    """Attach each proxy function's declared Metric as ``fn.metric`` (its name is its proxy name)."""
    for fn in functions:
        fn.metric = PROXY_METRICS[fn.__name__]


def proxy_names() -> list[str]:
    """Registered proxy names, in declaration order."""
    return list(PROXY_METRICS)


def resolve_proxy_name(name: str) -> str:
    """The registered name of ``name`` (aliases such as ``jacov`` resolved); unknown names raise."""
    name = ALIASES.get(name, name)
    if name not in PROXY_METRICS:
        raise unknown_name("proxy", name, [*PROXY_METRICS, *ALIASES])
    return name


def proxy_metric(name: str) -> Metric:
    """The declared :class:`Metric` (kind ``proxy``) of a proxy."""
    return PROXY_METRICS[resolve_proxy_name(name)]


def get_proxy(name: str) -> Any:
    """The proxy function registered as ``name`` (imports torch)."""
    return PROXIES.get(resolve_proxy_name(name))
