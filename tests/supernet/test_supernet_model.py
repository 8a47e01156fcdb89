"""The NB201 supernet: one path equals the stand-alone network's structure, mixed one-hot weights equal one path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from predictbench.proxies.networks import NB201Network, count_parameters
from predictbench.spaces.nb201 import OPS, NB201Space
from predictbench.supernet.model import NB201Supernet
from predictbench.types import OutOfSpaceError


def _net(seed: int = 0, **kwargs: int) -> NB201Supernet:
    torch.manual_seed(seed)
    return NB201Supernet(**{"channels": 4, "cells_per_stage": 2, "num_classes": 10, **kwargs}).eval()


def test_one_path_runs_and_holds_every_op_on_every_edge() -> None:
    net = _net()
    x = torch.randn(3, 3, 8, 8)
    assert net(x, ops=(3, 3, 1, 0, 2, 4)).shape == (3, 10)
    cells = [layer for layer in net.layers if hasattr(layer, "edges")]
    assert len(cells) == 6  # 3 stages x 2 cell positions
    assert all(len(edge) == len(OPS) for cell in cells for edge in cell.edges)
    # a dead cell (all none) still gives logits: the classifier sees only BN(0) features
    assert torch.isfinite(net(x, ops=(0,) * 6)).all()


def test_mixed_one_hot_weights_equal_the_single_path() -> None:
    net = _net()
    x = torch.randn(4, 3, 8, 8)
    ops = (3, 1, 2, 4, 0, 3)
    one_hot = torch.zeros(6, 5)
    one_hot[torch.arange(6), torch.tensor(ops)] = 1.0
    with torch.no_grad():
        assert torch.allclose(net(x, weights=one_hot), net(x, ops=ops), atol=1e-6)
        uniform = net(x, weights=torch.full((6, 5), 0.2))
    assert not torch.allclose(uniform, net(x, ops=ops), atol=1e-3)


def test_path_parameters_count_the_conv_weights_a_cell_uses(space: NB201Space) -> None:
    net = _net(num_classes=10)
    best = space.arch_at(6111)  # five 3x3/1x1 convolutions, one skip
    ops = tuple(space.ops_array([best])[0].tolist())
    used = sum(p.numel() for p in net.path_parameters(ops))
    # the stand-alone network of the cell has the same conv and classifier weights (plus BN and biases)
    standalone = NB201Network([OPS[o] for o in ops], channels=4, cells_per_stage=2, num_classes=10)
    conv_and_fc = sum(
        m.weight.numel() for m in standalone.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    )
    assert used == conv_and_fc
    assert count_parameters(standalone) > used
    # dead ops contribute nothing: a conv on edge 1<-0 whose node 1 reaches the output through nothing
    dead_cell = (3, 0, 0, 1, 0, 0)  # node 1 has no way out: its conv is dead
    live_only = (0, 0, 0, 1, 0, 0)
    assert [p.shape for p in net.path_parameters(dead_cell)] == [p.shape for p in net.path_parameters(live_only)]


def test_bad_choices_are_refused() -> None:
    net = _net()
    x = torch.randn(1, 3, 8, 8)
    with pytest.raises(OutOfSpaceError, match="6 op ids"):
        net(x, ops=(0, 1, 2))
    with pytest.raises(OutOfSpaceError, match="6 op ids"):
        net(x, ops=(0, 1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="exactly one"):
        net(x)
    with pytest.raises(ValueError, match="shape"):
        net(x, weights=torch.ones(5, 6))
    with pytest.raises(ValueError, match="channels"):
        NB201Supernet(channels=0)
    assert np.isfinite(net(x, ops=np.array([1, 1, 1, 1, 1, 1])).detach().numpy()).all()
