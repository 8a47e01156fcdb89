"""Differentiable architecture search on the NB201 supernet: the shared bilevel loop and its result.

Architecture parameters ``alpha`` (6 edges x 5 operations) weight every edge's operations by ``softmax(alpha)``
(DARTS' mixed operation, :meth:`NB201Supernet.forward` with ``weights``). Each step alternates, as DARTS does:

1. an **architecture step** on a validation mini-batch (what differs between methods: the first-order gradient
   in :mod:`~predictbench.supernet.darts`, a sampled zero-order estimate in :mod:`~predictbench.supernet.zero_order`),
   applied by one Adam optimiser so that only the direction estimate differs;
2. a **weight step** (SGD, cosine schedule, gradient clipping) on a training mini-batch with ``softmax(alpha)``
   held fixed.

The derived cell takes the strongest operation of every edge, ``none`` included (as NB201's own DARTS baseline
does), so the well-known collapse shows as ``skip_connect``/``none`` edges. ``data`` is any
:class:`~predictbench.supernet.data.ImageData` (digits, the real CIFAR-10 subset, a user's datasets); a training
split that augments (:class:`~predictbench.supernet.data.Augmented`) serves each epoch's crops and flips, announced
by :func:`~predictbench.supernet.data.augmentation_epoch` as the single-path trainer does; ``alpha`` is fitted on
the clean validation images. Everything random (initial weights,
``alpha``, batch order, sampled directions) is derived from the seed, and the same seed gives every method the
same initial supernet, ``alpha`` and batches (paired comparisons).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from predictbench.predictors.gcn import cosine_lr, torch_threads
from predictbench.rng import spawn
from predictbench.spaces.nb201 import NUM_EDGES, NUM_OPS, OPS, NB201Space
from predictbench.supernet.data import ImageData, augmentation_epoch, batches, dataset_size
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.trainer import TrainConfig, weight_step
from predictbench.types import Arch

log = logging.getLogger(__name__)

__all__ = ["ArchStep", "DifferentiableResult", "SearchConfig", "bilevel_search", "derive_ops"]

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class SearchConfig:
    """Supernet size and the two optimisers of a differentiable search (DARTS' NB201 defaults, smaller network)."""

    channels: int = 8
    cells_per_stage: int = 1
    batch_size: int = 64
    lr: float = 0.025
    momentum: float = 0.9
    weight_decay: float = 3e-4
    grad_clip: float | None = 5.0
    arch_lr: float = 3e-4
    arch_weight_decay: float = 1e-3
    threads: int = 1
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("channels", "cells_per_stage", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(self.arch_lr, bool) or not isinstance(self.arch_lr, (int, float)) or not self.arch_lr > 0:
            raise ValueError(f"arch_lr must be a positive number, got {self.arch_lr!r}")
        decay = self.arch_weight_decay
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not decay >= 0:
            raise ValueError(f"arch_weight_decay must be a non-negative number, got {decay!r}")
        self.train_config()  # validates the weight optimiser's settings

    def train_config(self) -> TrainConfig:
        return TrainConfig.of(self)


class ArchStep(Protocol):
    """One update of ``alpha`` from a validation batch (and, for inner updates, a training batch).

    Optional hooks: ``start_epoch(epoch)``, called before every epoch, and ``weight_mix(alpha, rng)``, the
    operation weights of the weight step (default ``softmax(alpha)``); FBNet's Gumbel-softmax step uses both.
    """

    name: str

    def __call__(
        self,
        model: NB201Supernet,
        alpha: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        valid_batch: Batch,
        train_batch: Batch,
        rng: torch.Generator,
        weight_lr: float,
    ) -> float: ...


@dataclass(frozen=True)
class DifferentiableResult:
    """What a differentiable search found: the derived cell, the final ``softmax(alpha)``, per-epoch cells."""

    method: str
    seed: int
    arch: Arch
    ops: tuple[str, ...]
    weights: np.ndarray
    epoch_archs: list[Arch] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    valid_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def mixed_loss(model: NB201Supernet, alpha: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Cross-entropy of the mixed network under ``softmax(alpha)`` on one batch."""
    images, labels = batch
    return nn.functional.cross_entropy(model(images, weights=torch.softmax(alpha, dim=-1)), labels)


def _weight_mix(step: ArchStep, alpha: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """The weight step's operation weights: the step's own ``weight_mix`` (FBNet: a Gumbel sample) or softmax."""
    mix = getattr(step, "weight_mix", None)
    return torch.softmax(alpha, dim=-1) if mix is None else mix(alpha, rng)


def derive_ops(alpha: torch.Tensor | np.ndarray) -> tuple[int, ...]:
    """The cell of the strongest operation per edge (``none`` included; ties to the lower op id)."""
    values = alpha.detach().cpu().numpy() if isinstance(alpha, torch.Tensor) else np.asarray(alpha)
    return tuple(int(v) for v in np.argmax(values, axis=1))


def _cycle(data: Any, batch_size: int, seed: int, label: str) -> Any:
    """Endless mini-batches, a fresh seeded permutation per pass."""
    n = len(data)
    epoch = 0
    while True:
        yield from batches(data, batch_size, spawn(seed, "differentiable", label, epoch).permutation(n))
        epoch += 1


def bilevel_search(
    data: ImageData,
    step: ArchStep,
    *,
    epochs: int,
    seed: int,
    config: SearchConfig | None = None,
) -> DifferentiableResult:
    """Search ``epochs`` passes over ``data.train`` (weights) interleaved with ``data.valid`` batches (``alpha``)."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if not isinstance(data, ImageData):
        raise TypeError(
            f"data must be an ImageData (predictbench.supernet.data.cifar10(), digits() or image_data(train, valid, "
            f"num_classes=...)), got {type(data).__name__}"
        )
    config = config or SearchConfig()
    train_config = config.train_config()
    space = NB201Space()
    started = time.perf_counter()
    with torch_threads(int(config.threads)), torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(spawn(seed, "differentiable", "init").integers(2**31)))
        model = NB201Supernet(
            channels=config.channels,
            cells_per_stage=config.cells_per_stage,
            num_classes=data.num_classes,
            in_channels=data.image_shape[0],
        ).to(config.device)
        alpha = (1e-3 * torch.randn(NUM_EDGES, NUM_OPS)).to(config.device).requires_grad_(True)
        directions = torch.Generator(device=config.device)
        directions.manual_seed(int(spawn(seed, "differentiable", "directions", step.name).integers(2**31)))
        weight_optimizer = train_config.optimizer(model.parameters())
        arch_optimizer = torch.optim.Adam(
            [alpha], lr=config.arch_lr, betas=(0.5, 0.999), weight_decay=config.arch_weight_decay
        )
        n_train = dataset_size(data.train)
        steps_per_epoch = -(-n_train // config.batch_size)
        total = epochs * steps_per_epoch
        valid_batches = _cycle(data.valid, config.batch_size, seed, "valid")
        epoch_archs: list[Arch] = []
        train_losses: list[float] = []
        valid_losses: list[float] = []
        for epoch in range(epochs):
            if (start_epoch := getattr(step, "start_epoch", None)) is not None:
                start_epoch(epoch)
            order = spawn(seed, "differentiable", "train", epoch).permutation(n_train)
            epoch_train, epoch_valid = [], []
            with augmentation_epoch(data.train, epoch):
                for index, (images, labels) in enumerate(batches(data.train, config.batch_size, order)):
                    lr = cosine_lr(config.lr, epoch * steps_per_epoch + index, total)
                    for group in weight_optimizer.param_groups:
                        group["lr"] = lr
                    train_batch = (images.to(config.device), labels.to(config.device))
                    valid_images, valid_labels = next(valid_batches)
                    valid_batch = (valid_images.to(config.device), valid_labels.to(config.device))
                    model.train()
                    epoch_valid.append(step(model, alpha, arch_optimizer, valid_batch, train_batch, directions, lr))
                    weights = _weight_mix(step, alpha.detach(), directions)
                    epoch_train.append(
                        weight_step(model, weight_optimizer, *train_batch, grad_clip=config.grad_clip, weights=weights)
                    )
            train_losses.append(float(np.mean(epoch_train)))
            valid_losses.append(float(np.mean(epoch_valid)))
            epoch_archs.append(space.from_ops_array(np.array([derive_ops(alpha)]))[0])
            log.debug("%s seed %d epoch %d: %s", step.name, seed, epoch + 1, epoch_archs[-1].key)
    ops = derive_ops(alpha)
    return DifferentiableResult(
        method=step.name,
        seed=int(seed),
        arch=epoch_archs[-1],
        ops=tuple(OPS[o] for o in ops),
        weights=torch.softmax(alpha.detach(), dim=-1).cpu().numpy(),
        epoch_archs=epoch_archs,
        train_losses=train_losses,
        valid_losses=valid_losses,
        seconds=time.perf_counter() - started,
    )
