"""A zero-order architecture step in the spirit of ZARTS (Wang et al., NeurIPS 2022), on the NB201 supernet.

DARTS' architecture gradient is an approximation (first order: the weights' response to ``alpha`` is ignored).
ZARTS drops the gradient altogether and estimates the descent direction of the bilevel objective from sampled
loss differences. Here, at every architecture step:

1. draw ``directions`` Gaussian directions ``u_i`` (30 numbers each; seeded per search);
2. for ``alpha`` and every ``alpha + mu * u_i``: from the current weights, take ``inner_steps`` plain SGD steps on
   the training batch under that architecture (so the loss reflects how the weights respond to it, the part the
   first-order gradient ignores), then measure the validation loss ``L`` on the validation batch; the same batches
   serve every candidate (common random numbers), and the weights are restored afterwards;
3. estimate ``g = mean_i (L(alpha + mu u_i) - L(alpha)) / mu * u_i`` and hand it to the same Adam optimiser DARTS
   uses, so the two methods differ only in the direction estimate.

This is a simplified variant (ZARTS also proposes other update rules and many more inner steps); it is labelled
"zero-order" in results, not "ZARTS".

Examples
--------
>>> result = zero_order_search(digits(), epochs=10, seed=0, directions=4, inner_steps=1)  # doctest: +SKIP
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

__all__ = ["ZeroOrderStep", "zero_order_search"]


@torch.no_grad()
def _restore(live: list[torch.Tensor], saved: list[torch.Tensor]) -> None:
    for tensor, value in zip(live, saved, strict=True):
        tensor.copy_(value)


class ZeroOrderStep:
    """Zero-order architecture step: Gaussian-smoothing estimate from ``directions`` loss differences."""

    name = "zero-order"

    def __init__(self, *, directions: int = 4, mu: float = 0.05, inner_steps: int = 1) -> None:
        if isinstance(directions, bool) or not isinstance(directions, int) or directions < 1:
            raise ValueError(f"directions must be a positive int, got {directions!r}")
        if not isinstance(mu, (int, float)) or not mu > 0:
            raise ValueError(f"mu must be a positive number, got {mu!r}")
        if isinstance(inner_steps, bool) or not isinstance(inner_steps, int) or inner_steps < 0:
            raise ValueError(f"inner_steps must be a non-negative int, got {inner_steps!r}")
        self.directions = directions
        self.mu = float(mu)
        self.inner_steps = inner_steps

    def _loss_after_inner_steps(
        self, model: NB201Supernet, alpha: torch.Tensor, valid_batch: Batch, train_batch: Batch, weight_lr: float
    ) -> float:
        if self.inner_steps:
            optimizer = torch.optim.SGD(model.parameters(), lr=weight_lr)
            for _ in range(self.inner_steps):
                loss = mixed_loss(model, alpha, train_batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            return float(mixed_loss(model, alpha, valid_batch))

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
        base_alpha = alpha.detach().clone()
        live = list(model.state_dict().values())  # aliases of every parameter and buffer
        saved = [t.detach().clone() for t in live] if self.inner_steps else None
        estimate = torch.zeros_like(base_alpha)
        try:
            base = self._loss_after_inner_steps(model, base_alpha, valid_batch, train_batch, weight_lr)
            for _ in range(self.directions):
                if saved is not None:
                    _restore(live, saved)
                u = torch.randn(base_alpha.shape, generator=rng, device=rng.device).to(base_alpha.device)
                moved = self._loss_after_inner_steps(
                    model, base_alpha + self.mu * u, valid_batch, train_batch, weight_lr
                )
                estimate += (moved - base) / self.mu * u
        finally:
            if saved is not None:
                _restore(live, saved)
            model.zero_grad(set_to_none=True)
        optimizer.zero_grad(set_to_none=True)
        alpha.grad = estimate / self.directions
        optimizer.step()
        return base


def zero_order_search(
    data: ImageData,
    *,
    epochs: int = 10,
    seed: int = 0,
    directions: int = 4,
    mu: float = 0.05,
    inner_steps: int = 1,
    config: SearchConfig | None = None,
) -> DifferentiableResult:
    """Zero-order differentiable search on ``data`` (weights on ``data.train``, ``alpha`` on ``data.valid``)."""
    step = ZeroOrderStep(directions=directions, mu=mu, inner_steps=inner_steps)
    return bilevel_search(data, step, epochs=epochs, seed=seed, config=config)
