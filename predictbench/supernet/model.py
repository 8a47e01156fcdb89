"""The NB201 weight-sharing supernet (torch): every edge of the cell holds all five operations.

The macro skeleton is NB201's (:mod:`predictbench.proxies.networks`: stem, three stages of ``cells_per_stage``
cells with ``C``, ``2C``, ``4C`` channels, residual reductions, BN-ReLU, global pooling, linear classifier); the
operation modules are the same ones (:func:`~predictbench.proxies.networks.make_nb201_op`). Each cell position
has its own weights; the architecture (one cell, repeated in every position as in the benchmark) is chosen at
forward time:

* ``forward(x, ops=...)``: one path, the 6 operation ids (:data:`~predictbench.spaces.nb201.OPS` order) of a
  cell. ``none`` edges are skipped (a node without live inputs is zero).
* ``forward(x, weights=...)``: every operation of an edge weighted by a ``(6, 5)`` tensor (DARTS' mixed op).

Width (``channels``) and depth (``cells_per_stage``) are configurable; BatchNorm layers track running statistics,
which :func:`~predictbench.supernet.scoring.recalibrate_bn` re-estimates per architecture before scoring.

Examples
--------
>>> net = NB201Supernet(channels=8, cells_per_stage=1, num_classes=10)  # doctest: +SKIP
>>> net(torch.zeros(2, 3, 16, 16), ops=(3, 3, 1, 0, 2, 4)).shape  # doctest: +SKIP
torch.Size([2, 10])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from predictbench.proxies.networks import check_sizes, make_nb201_op, nb201_stages
from predictbench.spaces.nb201 import EDGES, NUM_EDGES, NUM_OPS, OPS
from predictbench.types import OutOfSpaceError

__all__ = ["NB201Supernet", "SupernetCell", "check_ops"]

_NONE = OPS.index("none")


def check_ops(ops: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    """The 6 op ids of a cell as a tuple of ints; ``OutOfSpaceError`` when that is not what they are."""
    values = tuple(int(v) for v in np.asarray(ops).reshape(-1).tolist())
    if len(values) != NUM_EDGES or any(not 0 <= v < NUM_OPS for v in values):
        raise OutOfSpaceError(f"a cell needs {NUM_EDGES} op ids in 0..{NUM_OPS - 1} ({', '.join(OPS)}), got {ops!r}")
    return values


class SupernetCell(nn.Module):
    """One cell position of the supernet: 6 edges x 5 operations on ``channels`` channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            nn.ModuleList(make_nb201_op(name, channels) for name in OPS) for _ in range(NUM_EDGES)
        )

    def forward(
        self, x: torch.Tensor, ops: Sequence[int] | None = None, weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total: torch.Tensor | None = None
            for edge, (t, source) in enumerate(EDGES):
                if t != target:
                    continue
                candidates = cast(nn.ModuleList, self.edges[edge])
                if weights is not None:
                    value = sum(weights[edge, k] * candidates[k](nodes[source]) for k in range(NUM_OPS))
                    assert isinstance(value, torch.Tensor)
                elif ops is not None:
                    if ops[edge] == _NONE:
                        continue
                    value = candidates[ops[edge]](nodes[source])
                else:
                    raise ValueError("pass ops (one path) or weights (mixed operations)")
                total = value if total is None else total + value
            nodes.append(x.mul(0.0) if total is None else total)
        return nodes[3]


class NB201Supernet(nn.Module):
    """NB201 weight-sharing supernet of width ``channels`` and depth ``cells_per_stage``.

    Parameters
    ----------
    channels
        ``C``, channels of the first stage (16 in the benchmark).
    cells_per_stage
        ``N``, cell positions per stage (5 in the benchmark).
    num_classes
        Classifier outputs.
    in_channels
        Image channels the stem reads.
    """

    def __init__(self, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        check_sizes(
            channels=channels, cells_per_stage=cells_per_stage, num_classes=num_classes, in_channels=in_channels
        )
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.num_classes = num_classes
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers, c = nb201_stages(channels, cells_per_stage, SupernetCell)
        self.layers = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.classifier = nn.Linear(c, num_classes)

    def forward(
        self, x: torch.Tensor, ops: Sequence[int] | None = None, weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        if (ops is None) == (weights is None):
            raise ValueError("pass exactly one of ops (one path) or weights (mixed operations)")
        if weights is not None and tuple(weights.shape) != (NUM_EDGES, NUM_OPS):
            raise ValueError(f"weights must have shape ({NUM_EDGES}, {NUM_OPS}), got {tuple(weights.shape)}")
        path = None if ops is None else check_ops(ops)
        out = self.stem(x)
        for layer in self.layers:
            out = layer(out, path, weights) if isinstance(layer, SupernetCell) else layer(out)
        logits: torch.Tensor = self.classifier(self.lastact(out).mean(dim=(2, 3)))
        return logits

    def path_parameters(self, ops: Sequence[int], *, shared: bool = True) -> list[torch.Tensor]:
        """The weight tensors (convolutions and the classifier) one path uses, in a fixed order.

        Shared layers (stem, reductions, classifier; left out with ``shared=False``) and, in every cell position,
        the convolutions of the path's operations on live edges (an op whose output cannot reach the cell output,
        or whose input is always zero, computes nothing: see :meth:`NB201Space.dead_op_mask`). BatchNorm affine
        parameters are left out.
        """
        from predictbench.spaces.nb201 import NB201Space

        path = check_ops(ops)
        dead = NB201Space().dead_op_mask(np.array([path], dtype=np.int64))[0]
        params: list[torch.Tensor] = [cast(nn.Conv2d, self.stem[0]).weight] if shared else []
        for layer in self.layers:
            if isinstance(layer, SupernetCell):
                for edge, op in enumerate(path):
                    if op != _NONE and not dead[edge]:
                        params.extend(_conv_weights(cast(nn.ModuleList, layer.edges[edge])[op]))
            elif shared:
                params.extend(_conv_weights(layer))
        if shared:
            params.append(self.classifier.weight)
        return params

    def extra_repr(self) -> str:
        return f"C={self.channels}, N={self.cells_per_stage}, num_classes={self.num_classes}"


def _conv_weights(module: nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in module.modules() if isinstance(m, nn.Conv2d)]
