"""Parameters and FLOPs of NB201 networks in closed form (numpy only, no torch), vectorised over cells.

Inside an NB201 cell every edge maps ``C`` channels to ``C`` channels at stride 1, so a cell's cost
depends only on how many edges carry each operation. Per edge at ``C`` channels and ``H x W`` pixels:

============== ================= =================================================
operation      parameters        FLOPs (batch 1)
============== ================= =================================================
nor_conv_3x3   ``9 C^2 + 2 C``   ``C H W`` (ReLU) + ``9 C^2 H W`` (conv) + ``2 C H W`` (BN)
nor_conv_1x1   ``C^2 + 2 C``     ``C H W + C^2 H W + 2 C H W``
avg_pool_3x3   0                 ``9 C H W``
skip_connect   0                 0
none           0                 0
============== ================= =================================================

plus the fixed parts of the network (stem, two residual reduction blocks, ``lastact``, global pooling,
classifier; see :mod:`predictbench.proxies.networks`).

Parameters are counted exactly as ``sum(p.numel() for p in net.parameters())`` (BatchNorm affine
weights included); with ``C=16, N=5`` they equal NB201's published counts.

FLOPs follow the counting convention of NAS-Bench-Suite-Zero's ``flops`` column (NASLib measured it
with tensorwatch's ``ModelStats``, batch 1): a convolution counts ``k_h k_w C_in C_out H_out W_out``
(multiply-accumulates, no bias here); an affine BatchNorm ``2 x`` its input size; a ReLU its input size;
an average pool ``k_h k_w C H_out W_out``; the global (adaptive) average pool ``C (H + 1) (W + 1)``; the
classifier ``in x out`` (its bias is not counted); additions of node sums are not counted. With that
convention the values equal Suite-Zero's ``flops`` (MFLOPs) for NB201; the conv + linear part alone is
NB201's own FLOPs figure (e.g. 153.27 MFLOPs for index 6111 on CIFAR-10, Suite-Zero 155.58).

Examples
--------
>>> from predictbench.spaces import get_space
>>> best = get_space("nb201").arch_at(6111)
>>> int(nb201_params([best])[0]), round(float(nb201_flops([best])[0]) / 1e6, 6)
(1073466, 155.584192)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import numpy as np

from predictbench.types import Arch

__all__ = ["cell_op_counts", "nb201_flops", "nb201_params"]

# official op ids (predictbench.spaces.nb201.OPS): none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3
_CONV1, _CONV3, _POOL = 2, 3, 4


def cell_op_counts(archs: Iterable[Arch | str] | np.ndarray) -> np.ndarray:
    """(n, 5) int64: how many of the 6 edges carry each op (columns in official op order).

    ``archs`` are Archs or arch strings of the ``nb201`` space, or an (n, 6) integer op-id array.
    """
    if isinstance(archs, np.ndarray) and np.issubdtype(archs.dtype, np.integer):
        ops = archs
        if ops.ndim != 2 or ops.shape[1] != 6:
            raise ValueError(f"NB201 op array must have shape (n, 6), got {ops.shape}")
        if ops.size and (ops.min() < 0 or ops.max() > 4):
            raise ValueError(f"NB201 op ids must lie in 0..4, got values {int(ops.min())}..{int(ops.max())}")
    else:
        from predictbench.spaces import get_space
        from predictbench.spaces.nb201 import NB201Space

        ops = cast(NB201Space, get_space("nb201")).ops_array(list(cast(Iterable[Arch | str], archs)))
    ops = ops.astype(np.int64)
    return np.stack([(ops == k).sum(axis=1) for k in range(5)], axis=1).astype(np.int64)


def _check(channels: int, cells_per_stage: int, num_classes: int, resolution: int | None = None) -> None:
    for label, value in (("channels", channels), ("cells_per_stage", cells_per_stage), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    if resolution is not None and (
        isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 4
    ):
        raise ValueError(f"resolution must be an int >= 4, got {resolution!r}")
    if resolution is not None and resolution % 4:
        raise ValueError(f"resolution must be divisible by 4 (two stride-2 reductions), got {resolution}")


def nb201_params(
    archs: Iterable[Arch | str] | np.ndarray,
    *,
    channels: int = 16,
    cells_per_stage: int = 5,
    num_classes: int = 10,
) -> np.ndarray:
    """Parameter counts (int64, not millions) of the NB201 networks of ``archs``.

    Equals :func:`predictbench.proxies.networks.count_parameters` of the torch network exactly.
    """
    _check(channels, cells_per_stage, num_classes)
    counts = cell_op_counts(archs)
    c = int(channels)
    fixed = 27 * c + 2 * c  # stem conv + BN
    cells = np.zeros(len(counts), dtype=np.int64)
    for stage in range(3):
        cs = c * 2**stage
        if stage > 0:
            cin = cs // 2
            fixed += 9 * cin * cs + 2 * cs  # conv_a
            fixed += 9 * cs * cs + 2 * cs  # conv_b
            fixed += cin * cs  # shortcut 1x1
        per_cell = counts[:, _CONV3] * (9 * cs * cs + 2 * cs) + counts[:, _CONV1] * (cs * cs + 2 * cs)
        cells += int(cells_per_stage) * per_cell
    c_last = 4 * c
    fixed += 2 * c_last  # lastact BN
    fixed += c_last * int(num_classes) + int(num_classes)  # classifier
    return cells + fixed


def nb201_flops(
    archs: Iterable[Arch | str] | np.ndarray,
    *,
    channels: int = 16,
    cells_per_stage: int = 5,
    num_classes: int = 10,
    resolution: int = 32,
) -> np.ndarray:
    """FLOPs (float64, not millions) of one forward pass of a single ``resolution``-pixel image.

    Counting convention of NAS-Bench-Suite-Zero (module docstring); divide by 1e6 for its ``flops``
    column. ``resolution`` is 32 for CIFAR and 16 for ImageNet16-120.
    """
    _check(channels, cells_per_stage, num_classes, resolution)
    counts = cell_op_counts(archs).astype(np.float64)
    c = float(channels)
    r = float(resolution)
    fixed = 27 * c * r * r + 2 * c * r * r  # stem conv + BN
    cells = np.zeros(len(counts))
    for stage in range(3):
        cs = c * 2**stage
        hw = (r / 2**stage) ** 2
        if stage > 0:
            cin = cs / 2
            hw_in = hw * 4
            fixed += cin * hw_in + 9 * cin * cs * hw + 2 * cs * hw  # conv_a: ReLU, conv (stride 2), BN
            fixed += cs * hw + 9 * cs * cs * hw + 2 * cs * hw  # conv_b
            fixed += 4 * cin * hw + cin * cs * hw  # shortcut: 2x2 average pool, 1x1 conv
        per_cell = (
            counts[:, _CONV3] * (3 * cs * hw + 9 * cs * cs * hw)
            + counts[:, _CONV1] * (3 * cs * hw + cs * cs * hw)
            + counts[:, _POOL] * (9 * cs * hw)
        )
        cells += int(cells_per_stage) * per_cell
    c_last = 4 * c
    side = r / 4
    fixed += 3 * c_last * side * side  # lastact: BN (2x) + ReLU
    fixed += c_last * (side + 1) ** 2  # adaptive average pool to 1x1, tensorwatch's count
    fixed += c_last * int(num_classes)  # classifier
    return cells + fixed
