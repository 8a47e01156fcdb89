"""DARTS (first order) and the zero-order architecture step on the supernet."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.darts import darts_search
from predictbench.supernet.data import ImageData
from predictbench.supernet.differentiable import SearchConfig, derive_ops, mixed_loss
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.zero_order import ZeroOrderStep, zero_order_search

CONFIG = SearchConfig(channels=4, batch_size=12)


def test_darts_and_zero_order_search_derive_cells_deterministically(tiny_data: ImageData, space: NB201Space) -> None:
    darts = darts_search(tiny_data, epochs=2, seed=0, config=CONFIG)
    assert darts.method == "darts" and len(darts.epoch_archs) == 2 and space.is_valid(darts.arch)
    assert darts.weights.shape == (6, 5) and np.allclose(darts.weights.sum(axis=1), 1.0)
    assert tuple(space.ops_of(darts.arch)) == darts.ops
    assert darts_search(tiny_data, epochs=2, seed=0, config=CONFIG).weights.tolist() == darts.weights.tolist()
    zo = zero_order_search(tiny_data, epochs=1, seed=0, directions=2, inner_steps=1, config=CONFIG)
    assert zo.method == "zero-order" and space.is_valid(zo.arch) and np.allclose(zo.weights.sum(axis=1), 1.0)
    assert not np.allclose(zo.weights, 0.2)  # alpha moved
    with pytest.raises(ValueError, match="epochs"):
        darts_search(tiny_data, epochs=0)
    with pytest.raises(ValueError, match="directions"):
        ZeroOrderStep(directions=0)


def test_derive_takes_the_strongest_op_per_edge() -> None:
    alpha = np.zeros((6, 5))
    alpha[np.arange(6), [1, 1, 0, 3, 2, 4]] = 1.0
    assert derive_ops(alpha) == (1, 1, 0, 3, 2, 4)
    assert derive_ops(torch.tensor(alpha)) == (1, 1, 0, 3, 2, 4)


def test_zero_order_estimate_points_along_the_gradient(tiny_data: ImageData) -> None:
    torch.manual_seed(0)
    model = NB201Supernet(channels=4, cells_per_stage=1, num_classes=10).eval()  # eval: a deterministic loss
    batch = tiny_data.valid.tensors  # type: ignore[attr-defined]
    alpha = torch.randn(6, 5).requires_grad_(True)
    (gradient,) = torch.autograd.grad(mixed_loss(model, alpha, batch), [alpha])
    step = ZeroOrderStep(directions=150, mu=1e-2, inner_steps=0)
    optimizer = torch.optim.SGD([alpha], lr=0.0)  # lr 0: read the estimate without moving alpha
    generator = torch.Generator().manual_seed(0)
    step(model, alpha, optimizer, batch, batch, generator, 0.0)
    assert alpha.grad is not None
    cosine = torch.nn.functional.cosine_similarity(alpha.grad.reshape(-1), gradient.reshape(-1), dim=0)
    assert float(cosine) > 0.6  # 150 directions in 30 dimensions: about 0.9 expected
