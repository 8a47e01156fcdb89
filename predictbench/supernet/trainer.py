"""Training a supernet: one sampled path per mini-batch, SGD with a cosine schedule, checkpoint and resume.

Every random choice is derived from ``(seed, label, epoch)`` (``predictbench.rng.spawn``): the order of the
training images and the paths sampled in an epoch do not depend on what ran before, so a training resumed from a
checkpoint written after epoch ``k`` continues exactly as the uninterrupted run would have (bit for bit on CPU).
The checkpoint (model, optimizer, finished epochs, losses, and a fingerprint of the settings) is written
atomically after every epoch; resuming with different settings is refused with a message naming the difference.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from predictbench.paths import atomic_path
from predictbench.predictors.gcn import cosine_lr
from predictbench.rng import spawn
from predictbench.supernet.data import augmentation_epoch, batches, dataset_size
from predictbench.types import DataFormatError

log = logging.getLogger(__name__)

__all__ = ["TrainConfig", "TrainLog", "train_supernet", "weight_step"]

CHECKPOINT_FORMAT = "predictbench-supernet-checkpoint/1"
PathSampler = Callable[[np.random.Generator], Sequence[int]]


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings for supernet weights (SGD with Nesterov momentum, cosine decay to zero)."""

    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    grad_clip: float | None = 5.0

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")
        for name in ("lr", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if not isinstance(self.momentum, (int, float)) or not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {self.momentum!r}")
        if self.grad_clip is not None and (not isinstance(self.grad_clip, (int, float)) or self.grad_clip <= 0):
            raise ValueError(f"grad_clip must be None or a positive number, got {self.grad_clip!r}")

    @classmethod
    def of(cls, settings: Any) -> TrainConfig:
        """The optimiser settings held by ``settings`` (an adapter, a search config) in attributes of these names."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def optimizer(self, parameters: Any) -> torch.optim.SGD:
        return torch.optim.SGD(
            parameters,
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            nesterov=self.momentum > 0,
        )


@dataclass
class TrainLog:
    """What a training did: epochs finished, where it resumed, mean training loss per epoch, seconds spent here."""

    epochs: int = 0
    resumed_from: int = 0
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def weight_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    grad_clip: float | None,
    ops: Sequence[int] | None = None,
    weights: torch.Tensor | None = None,
) -> float:
    """One SGD step on the cross-entropy of path ``ops`` (or of the mixed network under ``weights``)."""
    loss = nn.functional.cross_entropy(model(images, ops=ops, weights=weights), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return float(loss.detach())


def _fingerprint(label: str, tag: str, seed: int, epochs: int, config: TrainConfig, n_train: int) -> dict[str, Any]:
    return {
        "label": label,
        "tag": tag,
        "seed": int(seed),
        "epochs": int(epochs),
        "n_train": int(n_train),
        **asdict(config),
    }


def _load_checkpoint(path: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several kinds on a corrupt or foreign file
        raise DataFormatError(f"checkpoint {path}: not a readable supernet checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise DataFormatError(f"checkpoint {path}: expected format {CHECKPOINT_FORMAT!r}")
    written = state["fingerprint"]
    if written != fingerprint:
        diff = {k: (written.get(k), fingerprint.get(k)) for k in set(written) | set(fingerprint)}
        diff = {k: v for k, v in diff.items() if v[0] != v[1]}
        raise ValueError(
            f"checkpoint {path} was written with other settings (written, now): {diff}; "
            "pass the same settings to resume, or delete the checkpoint to start over"
        )
    return state


def train_supernet(
    model: nn.Module,
    train: Dataset[Any],
    *,
    epochs: int,
    seed: int,
    sample_path: PathSampler,
    config: TrainConfig | None = None,
    checkpoint: str | Path | None = None,
    label: str = "supernet",
    tag: str = "",
    after_epoch: Callable[[int], None] | None = None,
) -> TrainLog:
    """Train ``model`` for ``epochs`` epochs, one path ``sample_path(rng)`` per mini-batch; resume from ``checkpoint``.

    Parameters
    ----------
    model
        A supernet whose ``forward(x, ops=...)`` runs one path.
    train
        Training images.
    epochs, seed
        Length of the training and the seed of its image order and path draws.
    sample_path
        Draws the 6 op ids of the path for the next mini-batch from the generator it is given.
    config
        Optimiser settings (default :class:`TrainConfig`).
    checkpoint
        File written after every epoch; when it exists, training resumes after its last finished epoch.
    label
        Names the random streams (two trainings with different labels draw independently).
    tag
        What is trained (e.g. the adapter's name); a checkpoint written under another tag is refused.
    after_epoch
        Called with the epoch's index after its weight steps, before the checkpoint is written (ENAS trains its
        controller there; what it changes is not saved in the checkpoint).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    config = config or TrainConfig()
    n = dataset_size(train)
    if n < 1:
        raise ValueError("the training set is empty")
    device = next(model.parameters()).device
    optimizer = config.optimizer(model.parameters())
    steps_per_epoch = -(-n // config.batch_size)
    total_steps = max(epochs * steps_per_epoch, 1)
    path = Path(checkpoint) if checkpoint is not None else None
    fingerprint = _fingerprint(label, tag, seed, epochs, config, n)
    trace = TrainLog()
    state = _load_checkpoint(path, fingerprint) if path is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        trace.resumed_from = trace.epochs = int(state["epoch"])
        trace.losses = [float(v) for v in state["losses"]]
        log.info("%s: resuming after epoch %d from %s", label, trace.epochs, path)
    started = time.perf_counter()
    model.train()
    for epoch in range(trace.epochs, epochs):
        order = spawn(seed, label, "order", epoch).permutation(n)
        paths = spawn(seed, label, "paths", epoch)
        losses = []
        with augmentation_epoch(train, epoch):
            for step, (images, labels) in enumerate(batches(train, config.batch_size, order)):
                for group in optimizer.param_groups:
                    group["lr"] = cosine_lr(config.lr, epoch * steps_per_epoch + step, total_steps)
                ops = tuple(int(v) for v in sample_path(paths))
                losses.append(
                    weight_step(
                        model,
                        optimizer,
                        images.to(device),
                        labels.to(device),
                        grad_clip=config.grad_clip,
                        ops=ops,
                    )
                )
        trace.losses.append(float(np.mean(losses)))
        trace.epochs = epoch + 1
        if after_epoch is not None:
            after_epoch(epoch)
        log.debug("%s: epoch %d/%d loss %.4f", label, epoch + 1, epochs, trace.losses[-1])
        if path is not None:
            payload = {
                "format": CHECKPOINT_FORMAT,
                "fingerprint": fingerprint,
                "epoch": trace.epochs,
                "losses": trace.losses,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
            }
            with atomic_path(path) as tmp:
                torch.save(payload, tmp)
    trace.seconds = time.perf_counter() - started
    return trace
