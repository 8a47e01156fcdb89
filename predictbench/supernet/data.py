"""Image data for supernet experiments: scikit-learn's bundled ``digits`` resized, or any user torch Dataset.

:func:`digits` needs no download: scikit-learn ships the 1,797 8x8 grey-scale images (10 classes). They are
resized (bilinear) to ``size`` x ``size``, standardised with the training split's mean and standard deviation, and
repeated over 3 channels so the NB201 networks (whose stem reads 3 channels, as in the benchmark) take them
unchanged. The train/valid split is a seeded permutation (``spawn(seed, "digits-split")``).

:func:`image_data` wraps a user's own ``torch.utils.data.Dataset`` pair (items ``(image, label)`` with a
``(C, H, W)`` float tensor and an integer label) after checking the first item of each.

This module imports torch at import time; :mod:`predictbench.supernet` imports it lazily.

Examples
--------
>>> data = digits(size=16, seed=0)  # doctest: +SKIP
>>> len(data.train), len(data.valid), data.image_shape, data.num_classes  # doctest: +SKIP
(1348, 449, (3, 16, 16), 10)
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from predictbench.rng import spawn

__all__ = ["ImageData", "batches", "dataset_size", "digits", "image_data", "with_random_labels"]

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class ImageData:
    """A classification task: training and validation datasets, the number of classes and the image shape.

    ``train`` trains the supernet (and stand-alone networks); ``valid`` scores architectures.
    """

    train: Dataset[Any]
    valid: Dataset[Any]
    num_classes: int
    image_shape: tuple[int, int, int]
    name: str = "data"

    def __repr__(self) -> str:
        return (
            f"ImageData({self.name!r}, train={dataset_size(self.train)}, valid={dataset_size(self.valid)}, "
            f"classes={self.num_classes}, shape={self.image_shape})"
        )


def dataset_size(dataset: Dataset[Any]) -> int:
    """The number of items of a map-style ``dataset`` (torch's ``Dataset`` type declares no ``__len__``)."""
    return len(cast(Sized, dataset))


def _check_positive(label: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{label} must be a positive int, got {value!r}")
    return int(value)


def digits(size: int = 16, *, valid_fraction: float = 0.25, seed: int = 0, limit: int | None = None) -> ImageData:
    """scikit-learn's bundled handwritten digits as a 3-channel ``size`` x ``size`` image task.

    Parameters
    ----------
    size
        Side of the resized images (8 keeps the originals).
    valid_fraction
        Share of the images held out for scoring, in (0, 1).
    seed
        Seeds the split.
    limit
        Use only the first ``limit`` images of the seeded permutation (small tests); None for all 1,797.
    """
    try:
        from sklearn.datasets import load_digits
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"the digits data set ships with scikit-learn: pip install 'predictbench[sklearn]' ({err})", name=err.name
        ) from err
    size = _check_positive("size", size)
    if not isinstance(valid_fraction, (float, int)) or not 0.0 < float(valid_fraction) < 1.0:
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction!r}")
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    order = spawn(seed, "digits-split").permutation(len(images))
    if limit is not None:
        limit = _check_positive("limit", limit)
        if limit < 4:
            raise ValueError(f"limit must be at least 4 images (2 to train, 2 to score), got {limit}")
        order = order[:limit]
    n_valid = min(max(1, round(len(order) * float(valid_fraction))), len(order) - 1)
    valid_rows, train_rows = order[:n_valid], order[n_valid:]
    pixels = torch.from_numpy(images[:, None])
    if size != pixels.shape[-1]:
        pixels = torch.nn.functional.interpolate(pixels, size=(size, size), mode="bilinear", align_corners=False)
    train_pixels = pixels[torch.from_numpy(train_rows)]
    mean, std = train_pixels.mean(), train_pixels.std().clamp_min(1e-6)
    pixels = ((pixels - mean) / std).repeat(1, 3, 1, 1).contiguous()

    def split(rows: np.ndarray) -> TensorDataset:
        index = torch.from_numpy(rows)
        return TensorDataset(pixels[index].clone(), torch.from_numpy(labels[rows]))

    return ImageData(split(train_rows), split(valid_rows), 10, (3, size, size), name=f"digits{size}")


def _first_item(dataset: Any, label: str) -> tuple[torch.Tensor, int]:
    try:
        n = len(dataset)
    except TypeError:
        raise TypeError(
            f"{label} must be a map-style torch Dataset with a length, got {type(dataset).__name__}"
        ) from None
    if n < 1:
        raise ValueError(f"{label} is empty")
    item = dataset[0]
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise TypeError(f"{label}[0] must be a pair (image, label), got {type(item).__name__}")
    image, target = item
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or not image.is_floating_point():
        got = f"{type(image).__name__} {tuple(getattr(image, 'shape', ()))}"
        raise TypeError(f"{label}[0] image must be a float tensor of shape (C, H, W), got {got}")
    try:
        target_int = int(target)
    except (TypeError, ValueError):
        raise TypeError(f"{label}[0] label must be an integer class, got {target!r:.80}") from None
    return image, target_int


def image_data(train: Dataset[Any], valid: Dataset[Any], *, num_classes: int, name: str = "data") -> ImageData:
    """A user's own datasets as :class:`ImageData` (items ``(image (C, H, W) float tensor, int label)``)."""
    num_classes = _check_positive("num_classes", num_classes)
    image, _ = _first_item(train, "train")
    other, _ = _first_item(valid, "valid")
    if image.shape != other.shape:
        raise ValueError(f"train and valid images differ in shape: {tuple(image.shape)} vs {tuple(other.shape)}")
    c, h, w = (int(v) for v in image.shape)
    return ImageData(train, valid, num_classes, (c, h, w), name=name)


def with_random_labels(data: ImageData, seed: int) -> ImageData:
    """The same images with labels drawn uniformly at random (fixed per image by ``seed``), as RLNAS trains."""
    rng = spawn(seed, "random-labels")
    n = dataset_size(data.train)
    labels = torch.from_numpy(rng.integers(0, data.num_classes, size=n).astype(np.int64))
    if isinstance(data.train, TensorDataset):
        train: Dataset[Any] = TensorDataset(data.train.tensors[0], labels)
    else:
        train = _Relabelled(data.train, labels)
    return ImageData(train, data.valid, data.num_classes, data.image_shape, name=f"{data.name}-random-labels")


class _Relabelled(Dataset[Any]):
    def __init__(self, dataset: Dataset[Any], labels: torch.Tensor) -> None:
        self.dataset = dataset
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Batch:
        return self.dataset[index][0], self.labels[index]


def batches(dataset: Dataset[Any], batch_size: int, order: np.ndarray | None = None) -> Iterator[Batch]:
    """Mini-batches ``(images, labels)`` in ``order`` (default: dataset order); TensorDatasets are sliced directly."""
    n = dataset_size(dataset)
    rows = np.arange(n) if order is None else np.asarray(order)
    if isinstance(dataset, TensorDataset):
        images, labels = dataset.tensors[0], dataset.tensors[1]
        for start in range(0, len(rows), batch_size):
            index = torch.from_numpy(rows[start : start + batch_size])
            yield images[index], labels[index]
        return
    loader = DataLoader(dataset, batch_size=batch_size, sampler=rows.tolist(), num_workers=0)
    for images, labels in loader:
        yield images, torch.as_tensor(labels, dtype=torch.int64)
