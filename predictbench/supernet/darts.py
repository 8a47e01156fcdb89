"""DARTS, first order (Liu et al., ICLR 2019), on the NB201 supernet.

The architecture step takes the gradient of the validation loss with respect to ``alpha`` at the current weights
(the first-order approximation: the weights' dependence on ``alpha`` is ignored) and applies it with Adam. On
NB201 this is known to collapse toward parameter-free cells: NB201 reports DARTS-V1 deriving the all-
``skip_connect`` cell, 54.30% test accuracy on CIFAR-10 with the full supernet.

Examples
--------
>>> result = darts_search(digits(), epochs=10, seed=0)  # doctest: +SKIP
>>> result.ops  # doctest: +SKIP
('skip_connect', 'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect', 'skip_connect')
"""

from __future__ import annotations

import torch

from predictbench.supernet.data import ImageData
from predictbench.supernet.differentiable import (
    Batch,
    DifferentiableResult,
    SearchConfig,
    bilevel_search,
    mixed_loss,
)
from predictbench.supernet.model import NB201Supernet

__all__ = ["FirstOrderStep", "darts_search"]


class FirstOrderStep:
    """DARTS' first-order architecture step: Adam on d L_valid / d alpha at the current weights."""

    name = "darts"

    def __call__(
        self,
        model: NB201Supernet,
        alpha: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        valid_batch: Batch,
        train_batch: Batch,
        rng: torch.Generator,
        weight_lr: float,
    ) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = mixed_loss(model, alpha, valid_batch)
        (grad,) = torch.autograd.grad(loss, [alpha])
        alpha.grad = grad
        optimizer.step()
        return float(loss.detach())


def darts_search(
    data: ImageData, *, epochs: int = 10, seed: int = 0, config: SearchConfig | None = None
) -> DifferentiableResult:
    """First-order DARTS on ``data`` (weights on ``data.train``, ``alpha`` on ``data.valid``)."""
    return bilevel_search(data, FirstOrderStep(), epochs=epochs, seed=seed, config=config)
