"""Torch networks for cells: the NAS-Bench-201 / NATS-Bench topology (``tss``) and NAS-Bench-101 networks.

This module imports torch at import time; callers import it lazily (``import predictbench`` never does).

The network follows NAS-Bench-201 (Dong & Yang, ICLR 2020; ``TinyNetwork`` + ``InferCell`` of
D-X-Y/AutoDL-Projects), re-implemented here:

* stem: ``Conv2d(3, C, 3, padding=1, bias=False)`` + ``BatchNorm2d(C)``;
* three stages of ``N`` cells with ``C``, ``2C`` and ``4C`` channels; between stages a residual
  reduction block (NB201's ``ResNetBasicblock`` with stride 2): ``conv_a`` = ReLU-Conv3x3(stride 2)-BN,
  ``conv_b`` = ReLU-Conv3x3-BN, shortcut = ``AvgPool2d(2, 2)`` + ``Conv2d`` 1x1 (no bias, no BN),
  output ``shortcut + conv_b(conv_a(x))``;
* ``lastact`` = BN + ReLU, global average pooling, ``Linear(4C, num_classes)``.

A cell is a DAG on 4 nodes; node j is the sum of its incoming edges ``op(node_i)``, node 3 is the
output. Every one of the 6 edges (official order ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``) holds a module:
``nor_conv_3x3`` / ``nor_conv_1x1`` = ReLU-Conv(bias=False)-BN(affine); ``avg_pool_3x3`` =
``AvgPool2d(3, 1, 1, count_include_pad=False)``; ``skip_connect`` = identity; ``none`` = zero
(``x * 0``, so gradients flow as in NB201). BatchNorm layers are affine and track running statistics.

With ``C=16, N=5, num_classes=10`` the parameter count equals NB201's published count (e.g. 1,073,466
for the best cell, index 6111; ``params_cifar10_M`` = 1.073466 in the shared table) and NATS-Bench's /
Suite-Zero's for every cell. (The NB201 v1.0 ``params`` of 204 cells, e.g. index 296, are averages over
seed records where one record holds a different cell's count; those cells differ from ours and from
Suite-Zero by whole conv edges divided by the number of seeds.)

:class:`NB101Network` re-implements nasbench's ``model_builder`` (stem 128 channels, 3 stacks of 3
cells, max-pool downsampling, vertex channels split over the output's inputs); its parameter count
equals NB101's ``trainable_parameters`` (all 300 cells of the shared sample).

Examples
--------
>>> from predictbench.spaces import get_space
>>> net = build_nb201(get_space("nb201").arch_at(6111), seed=0)  # doctest: +SKIP
>>> count_parameters(net)  # doctest: +SKIP
1073466
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from predictbench.types import Arch, OutOfSpaceError

__all__ = [
    "SPACES",
    "ConvBNReLU",
    "NB101Cell",
    "NB101Network",
    "NB201Cell",
    "NB201Network",
    "ReLUConvBN",
    "ResidualReduction",
    "Zero",
    "build_nb101",
    "build_nb201",
    "build_network",
    "check_sizes",
    "count_parameters",
    "make_nb201_op",
    "nb101_vertex_channels",
    "nb201_ops",
    "nb201_stages",
]

NB201_SPACES = ("nb201",)
"""Space names whose Arch keys are NB201 arch strings."""
SPACES = (*NB201_SPACES, "nb101")
"""Spaces with a torch network here."""


def check_sizes(**sizes: object) -> None:
    """ValueError naming the first of ``sizes`` (width, depth, classes of a network) that is not a positive int."""
    for label, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive int, got {value!r}")


class ReLUConvBN(nn.Module):
    """ReLU, then a bias-free convolution, then an affine BatchNorm (NB201's ``nor_conv_*``)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.op(x)
        return out


class Zero(nn.Module):
    """The ``none`` operation: zeros shaped like the input (``x * 0``, as NB201 computes it)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ResidualReduction(nn.Module):
    """NB201's residual reduction block (``ResNetBasicblock`` with stride 2) from ``c_in`` to ``c_out``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.downsample(x) + self.conv_b(self.conv_a(x))
        return out


def nb201_stages(
    channels: int, cells_per_stage: int, make_cell: Callable[[int], nn.Module]
) -> tuple[list[nn.Module], int]:
    """NB201's three stages (cells of ``C``, ``2C``, ``4C`` channels, a residual reduction between two stages).

    Returns the layers in order and the channels of the last stage; shared with the supernet.
    """
    layers: list[nn.Module] = []
    c = channels
    for stage in range(3):
        if stage > 0:
            layers.append(ResidualReduction(c, 2 * c))
            c *= 2
        layers.extend(make_cell(c) for _ in range(cells_per_stage))
    return layers, c


def make_nb201_op(name: str, channels: int) -> nn.Module:
    """The module of one NB201 operation on ``channels`` channels (stride 1); shared with the supernet."""
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    if name == "skip_connect":
        return nn.Identity()
    if name == "none":
        return Zero()
    raise OutOfSpaceError(f"unknown NB201 operation {name!r}")


class NB201Cell(nn.Module):
    """One NB201 cell: 4 nodes, 6 edges in official order, ``channels`` in and out, stride 1."""

    EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        if len(ops) != len(self.EDGES):
            raise OutOfSpaceError(f"an NB201 cell needs {len(self.EDGES)} operations, got {len(ops)}: {ops!r}")
        self.ops_names = tuple(ops)
        self.edges = nn.ModuleList(make_nb201_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total: torch.Tensor | None = None
            for edge, (t, source) in enumerate(self.EDGES):
                if t != target:
                    continue
                value = self.edges[edge](nodes[source])
                total = value if total is None else total + value
            assert total is not None  # every node has incoming edges
            nodes.append(total)
        return nodes[3]


class NB201Network(nn.Module):
    """The NB201 / NATS-tss macro network for one cell (the same cell in every position).

    Parameters
    ----------
    ops
        The 6 operation names in official edge order (see :meth:`NB201Space.ops_of`).
    channels
        ``C``, channels of the first stage (16 in the benchmark).
    cells_per_stage
        ``N``, cells per stage (5 in the benchmark).
    num_classes
        Classifier outputs (10 CIFAR-10, 100 CIFAR-100, 120 ImageNet16-120).
    """

    def __init__(self, ops: Sequence[str], channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10) -> None:
        super().__init__()
        check_sizes(channels=channels, cells_per_stage=cells_per_stage, num_classes=num_classes)
        self.ops_names = tuple(ops)
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.num_classes = num_classes
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        layers, c = nb201_stages(channels, cells_per_stage, lambda width: NB201Cell(ops, width))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature maps before global average pooling (after ``lastact``), as Zen-NAS uses them."""
        out: torch.Tensor = self.lastact(self.cells(self.stem(x)))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.global_pooling(self.forward_features(x)).flatten(1)
        logits: torch.Tensor = self.classifier(features)
        return logits

    def extra_repr(self) -> str:
        return (
            f"ops={'|'.join(self.ops_names)}, C={self.channels}, N={self.cells_per_stage}, "
            f"num_classes={self.num_classes}"
        )


def nb201_ops(arch: Arch | str | Sequence[str]) -> tuple[str, ...]:
    """The 6 NB201 operation names of an Arch, an arch string or an op-name sequence."""
    if isinstance(arch, (Arch, str)):
        from predictbench.spaces import get_space
        from predictbench.spaces.nb201 import NB201Space

        if isinstance(arch, Arch) and arch.space not in NB201_SPACES:
            raise OutOfSpaceError(f"not an NB201 architecture: {arch} (space {arch.space!r})")
        return cast(NB201Space, get_space("nb201")).ops_of(arch)
    return tuple(arch)


def build_nb201(
    arch: Arch | str | Sequence[str],
    *,
    channels: int = 16,
    cells_per_stage: int = 5,
    num_classes: int = 10,
    seed: int | None = 0,
) -> NB201Network:
    """The NB201 network of a cell, its weights initialised (PyTorch defaults) from ``seed``.

    The global torch RNG is forked around the initialisation, so building a network neither depends on
    nor changes the caller's random state. ``seed=None`` initialises from the current global state.
    """
    ops = nb201_ops(arch)
    if seed is None:
        return NB201Network(ops, channels, cells_per_stage, num_classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return NB201Network(ops, channels, cells_per_stage, num_classes)


# --------------------------------------------------------------------------------------------------
# NAS-Bench-101
# --------------------------------------------------------------------------------------------------


class ConvBNReLU(nn.Module):
    """Bias-free convolution, BatchNorm, ReLU (NB101's ``conv_bn_relu``; TF batch-norm momentum 0.997)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel_size, stride=1, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.003),
            nn.ReLU(inplace=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.op(x)
        return out


def nb101_vertex_channels(c_in: int, c_out: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of an NB101 cell (nasbench ``compute_vertex_channels``).

    The output's channels are split evenly (remainder to the first vertices) over the interior vertices
    feeding the output; every other interior vertex takes the largest channel count of its successors.
    """
    v = len(matrix)
    channels = [0] * v
    channels[0] = c_in
    channels[v - 1] = c_out
    if v == 2:
        return channels
    in_degree = matrix[1:].sum(axis=0)
    interior, correction = divmod(c_out, int(in_degree[v - 1]))
    for t in range(1, v - 1):
        if matrix[t, v - 1]:
            channels[t] = interior + (1 if correction > 0 else 0)
            correction = max(correction - 1, 0)
    for t in range(v - 3, 0, -1):
        if not matrix[t, v - 1]:
            for dst in range(t + 1, v - 1):
                if matrix[t, dst]:
                    channels[t] = max(channels[t], channels[dst])
        if channels[t] <= 0:
            raise OutOfSpaceError(f"NB101 vertex {t} gets no channels; is the spec pruned? matrix {matrix.tolist()}")
    return channels


def _nb101_op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return ConvBNReLU(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return ConvBNReLU(channels, channels, 1)
    if name == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise OutOfSpaceError(f"unknown NB101 operation {name!r}")


class NB101Cell(nn.Module):
    """One NB101 module (cell) from a pruned spec, ``c_in`` channels in and ``c_out`` out.

    Interior vertex ``t`` sums its inputs: earlier interior vertices truncated to its channel count
    (their first channels) and, with an edge from the cell input, a 1x1 ConvBNReLU projection of the
    input; then applies its op. The output concatenates the interior vertices that feed it and adds a
    projection of the input when the input feeds the output directly (the projection alone when no
    interior vertex feeds the output).
    """

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], c_in: int, c_out: int) -> None:
        super().__init__()
        matrix = np.asarray(matrix, dtype=np.int64)
        v = len(matrix)
        if v < 2 or matrix.shape != (v, v) or len(ops) != v:
            raise OutOfSpaceError(
                f"an NB101 spec needs a square matrix and one op per vertex, got {matrix.shape}, {ops}"
            )
        self.matrix = matrix
        self.vertex_channels = nb101_vertex_channels(c_in, c_out, matrix)
        self.ops_names = tuple(ops)
        self.vertex_ops = nn.ModuleList(_nb101_op(ops[t], self.vertex_channels[t]) for t in range(1, v - 1))
        self.projections = nn.ModuleDict(
            {str(t): ConvBNReLU(c_in, self.vertex_channels[t], 1) for t in range(1, v) if matrix[0, t]}
        )
        self.feeds_output = [t for t in range(1, v - 1) if matrix[t, v - 1]]
        if not self.feeds_output and str(v - 1) not in self.projections:
            self.projections[str(v - 1)] = ConvBNReLU(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = len(self.matrix)
        tensors = [x]
        for t in range(1, v - 1):
            width = self.vertex_channels[t]
            inputs = [tensors[src][:, :width] for src in range(1, t) if self.matrix[src, t]]
            if self.matrix[0, t]:
                inputs.append(self.projections[str(t)](x))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            tensors.append(self.vertex_ops[t - 1](total))
        if not self.feeds_output:
            only: torch.Tensor = self.projections[str(v - 1)](x)
            return only
        parts = [tensors[t] for t in self.feeds_output]
        out = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        if self.matrix[0, v - 1]:
            out = out + self.projections[str(v - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 network (Ying et al., 2019; nasbench ``model_builder``), re-implemented in torch.

    Stem ConvBNReLU 3x3 to ``stem_channels`` (128), then ``num_stacks`` (3) stacks of
    ``cells_per_stack`` (3) cells; before every stack but the first a 2x2 max-pool halves the
    resolution and the channels double; global average pooling and a linear classifier. With the
    defaults the parameter count equals the benchmark's ``trainable_parameters``.
    """

    def __init__(
        self,
        matrix: np.ndarray,
        ops: Sequence[str],
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        check_sizes(
            stem_channels=stem_channels, num_stacks=num_stacks, cells_per_stack=cells_per_stack, num_classes=num_classes
        )
        self.stem = ConvBNReLU(3, stem_channels, 3)
        layers: list[nn.Module] = []
        c_in = channels = stem_channels
        for stack in range(num_stacks):
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                channels *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(matrix, ops, c_in, channels))
                c_in = channels
        self.cells = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Feature maps before global average pooling."""
        out: torch.Tensor = self.cells(self.stem(x))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.forward_features(x).mean(dim=(2, 3)))
        return logits


def build_nb101(
    arch: Arch,
    *,
    stem_channels: int = 128,
    num_stacks: int = 3,
    cells_per_stack: int = 3,
    num_classes: int = 10,
    seed: int | None = 0,
) -> NB101Network:
    """The NB101 network of a cell (its canonical pruned spec), weights initialised from ``seed``."""
    from predictbench.spaces import get_space

    if arch.space != "nb101":
        raise OutOfSpaceError(f"not an NB101 architecture: {arch} (space {arch.space!r})")
    matrix, ops = get_space("nb101").spec_of(arch)  # type: ignore[attr-defined]

    def make() -> NB101Network:
        return NB101Network(
            matrix,
            ops,
            stem_channels=stem_channels,
            num_stacks=num_stacks,
            cells_per_stack=cells_per_stack,
            num_classes=num_classes,
        )

    if seed is None:
        return make()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return make()


def build_network(
    arch: Arch,
    *,
    channels: int | None = None,
    cells_per_stage: int | None = None,
    num_classes: int = 10,
    seed: int | None = 0,
) -> nn.Module:
    """The torch network of an Arch of a supported space (:data:`SPACES`), with seeded initialisation.

    ``nb201``: :func:`build_nb201` (``channels`` = C, default 16; ``cells_per_stage`` = N, default 5).
    ``nb101``: :func:`build_nb101` (``channels`` = stem channels, default 128; ``cells_per_stage`` =
    cells per stack, default 3).
    """
    if arch.space in NB201_SPACES:
        return build_nb201(
            arch,
            channels=16 if channels is None else channels,
            cells_per_stage=5 if cells_per_stage is None else cells_per_stage,
            num_classes=num_classes,
            seed=seed,
        )
    if arch.space == "nb101":
        return build_nb101(
            arch,
            stem_channels=128 if channels is None else channels,
            cells_per_stack=3 if cells_per_stage is None else cells_per_stage,
            num_classes=num_classes,
            seed=seed,
        )
    raise OutOfSpaceError(f"no torch network for space {arch.space!r} (supported: {', '.join(SPACES)}); arch {arch}")


def count_parameters(net: nn.Module) -> int:
    """Number of parameters (every parameter tensor, BatchNorm affine weights included)."""
    return int(sum(p.numel() for p in net.parameters()))
