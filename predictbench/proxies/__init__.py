"""Training-free (zero-cost) proxies computed live: torch networks for cells, proxy functions, store tables.

Importing this package does not import torch: the registry maps names to ``"module:function"`` targets,
and every proxy's direction is declared here as a :class:`~predictbench.types.Metric` of kind ``proxy``.

Modules
-------
:mod:`~predictbench.proxies.networks`
    the NB201 / NATS-tss and NB101 networks of a cell (torch).
:mod:`~predictbench.proxies.metrics`
    the proxy functions (torch) and :func:`~predictbench.proxies.metrics.compute_proxies`.
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
    "PROXIES",
    "PROXY_METRICS",
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

PROXY_METRICS: dict[str, Metric] = {
    name: Metric(name, higher_is_better=True, unit=unit, kind="proxy", description=text + "." + _CONVENTION)
    for name, (unit, text) in _DESCRIPTIONS.items()
}
"""Every proxy's declaration (direction, unit, meaning); the one place their sign is decided."""

DATA_FREE = frozenset({"synflow", "zen", "l2_norm", "params", "flops"})
"""Proxies that do not read the batch's images or labels (only its shape)."""

ALIASES: dict[str, str] = {"jacov": "jacob_cov", "naswot": "nwot", "epe-nas": "epe_nas"}
"""Other names in use for the same proxies (NASLib calls jacob_cov ``jacov``)."""

PROXIES = Registry("proxy")
for _name in PROXY_METRICS:
    PROXIES.register(_name, f"predictbench.proxies.metrics:{_name}")


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
