"""A per-operation latency table for NB201 cells, fitted from a device's measured per-cell latencies.

FBNet (Wu et al., CVPR 2019) needs the latency of a relaxed architecture as a differentiable function of the
operation choices; it sums a lookup table of per-operation latencies. HW-NAS-Bench measured whole networks, so the
table is fitted: by least squares over every cell with a measurement,

    latency(cell) ~ base + sum over edges e of table[e, op_e],

with ``table[e, "none"] = 0`` (so ``base`` is the latency of the empty cell, the stem, reductions and classifier,
and ``table[e, op]`` the extra time of ``op`` on edge ``e``; the one-hot design is otherwise rank-deficient).
The fit is judged against the measured latencies by R^2 and Kendall's tau-b (ties within float noise, 1e-9 of
the latency range, count as ties), on all cells (table fitted on all of
them) and on a held-out split (table fitted on the rest, ``spawn(seed, "latency-table-split")``). The device's
latencies are the store's ``<device>_latency`` metric (``nb201/*`` stores converted from the shared tables hold
HW-NAS-Bench's six devices: edgegpu, raspi4, edgetpu, pixel3, eyeriss, fpga).

Examples
--------
>>> table = fit_latency_table(pb.load("nb201/cifar10"), "edgegpu")  # doctest: +SKIP
>>> round(table.r2, 3), table.predict([arch])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictbench.rng import spawn
from predictbench.spaces.nb201 import NUM_EDGES, NUM_OPS, OPS, NB201Space
from predictbench.studies.metrics import kendall_tau

__all__ = ["LatencyTable", "fit_additive", "fit_latency_table", "latency_devices"]

_NONE = OPS.index("none")
_SUFFIX = "_latency"


@dataclass(frozen=True)
class LatencyTable:
    """An additive latency model of NB201 cells: ``base + sum_e table[e, op_e]`` in ``unit``.

    ``r2``/``tau`` compare the table fitted on all ``cells`` with their measured latencies; ``heldout_r2`` and
    ``heldout_tau`` compare a table fitted on the other cells with the ``heldout_cells`` held-out ones.
    ``fastest`` is the lowest measured latency (a floor: an additive fit can go below it, even below zero).
    """

    device: str
    metric: str
    unit: str
    base: float
    table: np.ndarray
    r2: float
    tau: float
    heldout_r2: float
    heldout_tau: float
    cells: int
    heldout_cells: int
    fastest: float

    def predict(self, archs_or_ops: Iterable[Any] | np.ndarray) -> np.ndarray:
        """Latency of cells given as Archs/keys or as an ``(n, 6)`` array of op ids."""
        ops = _ops(archs_or_ops)
        return self.base + self.table[np.arange(NUM_EDGES), ops].sum(axis=1)

    def expected(self, probabilities: np.ndarray) -> float:
        """Expected latency when edge ``e`` takes op ``k`` with probability ``probabilities[e, k]``."""
        return float(self.base + (np.asarray(probabilities, dtype=float) * self.table).sum())

    def lowest(self) -> float:
        """The smallest latency the table gives any cell (cheapest op on every edge)."""
        return float(self.base + self.table.min(axis=1).sum())


def _ops(archs_or_ops: Iterable[Any] | np.ndarray) -> np.ndarray:
    if isinstance(archs_or_ops, np.ndarray) and archs_or_ops.dtype.kind in "iu":
        ops = archs_or_ops.reshape(-1, NUM_EDGES)
        if ops.size and (ops.min() < 0 or ops.max() >= NUM_OPS):
            raise ValueError(f"op ids must be in 0..{NUM_OPS - 1}, got {int(ops.min())}..{int(ops.max())}")
        return ops.astype(np.intp)
    return NB201Space().ops_array(archs_or_ops).astype(np.intp)


def _design(ops: np.ndarray) -> np.ndarray:
    """Intercept plus one indicator per (edge, op other than none): ``1 + 6 * 4`` columns."""
    onehot = np.zeros((len(ops), NUM_EDGES, NUM_OPS))
    onehot[np.arange(len(ops))[:, None], np.arange(NUM_EDGES), ops] = 1.0
    keep = [k for k in range(NUM_OPS) if k != _NONE]
    return np.column_stack([np.ones(len(ops)), onehot[:, :, keep].reshape(len(ops), -1)])


def fit_additive(ops: np.ndarray, latency: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares ``(base, table)`` of ``latency ~ base + sum_e table[e, ops[:, e]]`` (``table[:, none] = 0``)."""
    ops = _ops(np.asarray(ops))
    latency = np.asarray(latency, dtype=float)
    if len(ops) != len(latency):
        raise ValueError(f"ops and latency differ in length: {len(ops)} vs {len(latency)}")
    coef = np.linalg.lstsq(_design(ops), latency, rcond=None)[0]
    table = np.zeros((NUM_EDGES, NUM_OPS))
    table[:, [k for k in range(NUM_OPS) if k != _NONE]] = coef[1:].reshape(NUM_EDGES, NUM_OPS - 1)
    return float(coef[0]), table


def _r2(measured: np.ndarray, predicted: np.ndarray) -> float:
    residual = float(((measured - predicted) ** 2).sum())
    total = float(((measured - measured.mean()) ** 2).sum())
    return 1.0 - residual / total if total > 0 else float(residual == 0)


def _tau(measured: np.ndarray, predicted: np.ndarray) -> float:
    """Kendall tau-b with both sides on a grid of 1e-9 of the measured range: float noise (in the stored sums
    and in the fit) must not break ties, or an exactly additive latency would score tau < 1."""
    step = 1e-9 * float(np.ptp(measured)) or 1.0
    return kendall_tau(np.round(measured / step), np.round(predicted / step))


def latency_devices(benchmark: Any) -> tuple[str, ...]:
    """The devices whose ``<device>_latency`` metric ``benchmark`` holds."""
    return tuple(sorted(m[: -len(_SUFFIX)] for m in benchmark.metrics if m.endswith(_SUFFIX)))


def fit_latency_table(
    benchmark: Any, device: str = "edgegpu", *, heldout_fraction: float = 0.2, seed: int = 0
) -> LatencyTable:
    """Fit the additive latency table of ``device`` from ``benchmark``'s measured per-cell latencies.

    Parameters
    ----------
    benchmark
        A loaded NB201 store holding the metric ``<device>_latency`` (e.g. ``nb201/cifar10``).
    device
        HW-NAS-Bench device name (see :func:`latency_devices`).
    heldout_fraction
        Share of the measured cells held out for ``heldout_r2`` / ``heldout_tau``, in (0, 1).
    seed
        Seeds the held-out split.

    Raises
    ------
    ValueError
        The store is not NB201, has no latency for ``device``, or ``heldout_fraction`` is out of range.
    """
    if getattr(getattr(benchmark, "meta", None), "space", None) != "nb201":
        name = getattr(benchmark, "name", benchmark)
        raise ValueError(f"benchmark: a latency table needs an nb201 store, got {name!r}")
    if not isinstance(heldout_fraction, (int, float)) or not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    metric = f"{device}{_SUFFIX}"
    if metric not in benchmark.metrics:
        devices = latency_devices(benchmark)
        known = (
            f"its latency devices: {', '.join(devices)}"
            if devices
            else "it holds no <device>_latency metric (the nb201 stores converted by "
            "`predictbench data convert nb201-tables` hold HW-NAS-Bench's)"
        )
        raise ValueError(f"device {device!r}: {benchmark.name} has no metric {metric!r}; {known}")
    latency = benchmark.column(metric)
    measured = np.flatnonzero(np.isfinite(latency))
    if len(measured) < 10 * (1 + NUM_EDGES * (NUM_OPS - 1)):
        raise ValueError(f"device {device!r}: only {len(measured)} cells of {benchmark.name} have {metric!r}")
    ops = NB201Space().ops_array(benchmark.keys()).astype(np.intp)[measured]
    values = np.asarray(latency, dtype=float)[measured]
    base, table = fit_additive(ops, values)
    fitted = base + table[np.arange(NUM_EDGES), ops].sum(axis=1)
    order = spawn(seed, "latency-table-split").permutation(len(values))
    cut = round(heldout_fraction * len(values))
    held, rest = order[:cut], order[cut:]
    held_base, held_table = fit_additive(ops[rest], values[rest])
    held_fit = held_base + held_table[np.arange(NUM_EDGES), ops[held]].sum(axis=1)
    return LatencyTable(
        device=device,
        metric=metric,
        unit=benchmark.metrics[metric].unit,
        base=base,
        table=table,
        r2=_r2(values, fitted),
        tau=_tau(values, fitted),
        heldout_r2=_r2(values[held], held_fit),
        heldout_tau=_tau(values[held], held_fit),
        cells=len(values),
        heldout_cells=len(held),
        fastest=float(values.min()),
    )
