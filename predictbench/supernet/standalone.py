"""Stand-alone training of single cells: the ground truth the honest check compares one-shot scores with.

Each cell is built as its own NB201 network (:func:`~predictbench.proxies.networks.build_nb201`, the benchmark's
network at a chosen width and depth), trained from scratch on ``data.train`` for a few epochs (SGD, cosine
schedule; image order from ``spawn(seed, "standalone", key, epoch)``; an augmenting training split, such as
:func:`~predictbench.supernet.data.cifar10`'s, serves each epoch's crops and flips), and measured on
``data.valid`` in eval mode. Its stem reads 3 channels, as the benchmark's does
(:func:`~predictbench.supernet.data.digits` repeats the grey channel).

Examples
--------
>>> result = train_standalone(archs, digits(), epochs=5, seed=0, channels=8, cells_per_stage=1)  # doctest: +SKIP
>>> result.accuracy  # doctest: +SKIP
array([0.93, 0.10, 0.95])
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from predictbench.predictors.gcn import cosine_lr, torch_threads
from predictbench.proxies.networks import build_nb201
from predictbench.rng import spawn
from predictbench.supernet.data import ImageData, augmentation_epoch, batches, dataset_size
from predictbench.supernet.trainer import TrainConfig
from predictbench.types import Arch

__all__ = ["StandaloneResult", "train_standalone"]


@dataclass(frozen=True)
class StandaloneResult:
    """Validation accuracy and loss of each cell after stand-alone training, and the seconds each took."""

    archs: list[Arch]
    accuracy: np.ndarray
    loss: np.ndarray
    seconds: np.ndarray


def _train_one(
    arch: Arch, data: ImageData, *, epochs: int, seed: int, channels: int, cells_per_stage: int, config: TrainConfig,
    device: str,
) -> tuple[float, float]:  # fmt: skip
    net = build_nb201(
        arch,
        channels=channels,
        cells_per_stage=cells_per_stage,
        num_classes=data.num_classes,
        seed=int(spawn(seed, "standalone", arch.key, "init").integers(2**31)),
    ).to(device)
    optimizer = config.optimizer(net.parameters())
    n = dataset_size(data.train)
    steps_per_epoch = -(-n // config.batch_size)
    net.train()
    for epoch in range(epochs):
        order = spawn(seed, "standalone", arch.key, epoch).permutation(n)
        with augmentation_epoch(data.train, epoch):
            for step, (images, labels) in enumerate(batches(data.train, config.batch_size, order)):
                for group in optimizer.param_groups:
                    group["lr"] = cosine_lr(config.lr, epoch * steps_per_epoch + step, epochs * steps_per_epoch)
                loss = torch.nn.functional.cross_entropy(net(images.to(device)), labels.to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
                optimizer.step()
    net.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for images, labels in batches(data.valid, 256):
            logits = net(images.to(device))
            target = labels.to(device)
            loss_sum += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
            correct += int((logits.argmax(dim=1) == target).sum())
            total += len(target)
    return correct / total, loss_sum / total


def train_standalone(
    archs: Sequence[Arch],
    data: ImageData,
    *,
    epochs: int = 5,
    seed: int = 0,
    channels: int = 8,
    cells_per_stage: int = 1,
    config: TrainConfig | None = None,
    threads: int = 1,
    device: str = "cpu",
) -> StandaloneResult:
    """Train every cell of ``archs`` from scratch for ``epochs`` epochs; validation accuracy and loss of each."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if data.image_shape[0] != 3:
        raise ValueError(
            f"stand-alone NB201 networks read 3-channel images (as the benchmark's stem does); "
            f"{data.name} has {data.image_shape[0]} channels"
        )
    config = config or TrainConfig()
    accuracy, loss, seconds = [], [], []
    with torch_threads(int(threads)):
        for arch in archs:
            started = time.perf_counter()
            acc, value = _train_one(
                arch,
                data,
                epochs=epochs,
                seed=seed,
                channels=channels,
                cells_per_stage=cells_per_stage,
                config=config,
                device=device,
            )
            accuracy.append(acc)
            loss.append(value)
            seconds.append(time.perf_counter() - started)
    return StandaloneResult(list(archs), np.array(accuracy), np.array(loss), np.array(seconds))
