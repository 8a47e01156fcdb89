"""Image data for supernet experiments: real CIFAR-10 images, scikit-learn's ``digits``, or any user torch Dataset.

:func:`cifar10` reads the shared subset of real CIFAR-10 images (``cifar10_subset.npz``: 4,660 training and 846
test images, read by :func:`predictbench.proxies.images.load_cifar10_subset`; a missing file raises one
FileNotFoundError naming the path). The training images are split into train and valid by a seeded permutation
(``spawn(seed, "cifar10-split")``); the test images are kept apart in ``ImageData.test`` and never used by the
adapters. Images are normalised with NAS-Bench-201's CIFAR-10 mean/std; the training split carries the standard
augmentation (random 32x32 crop of the image padded by 4 black pixels, horizontal flip with probability 1/2).

:func:`digits` needs no download: scikit-learn ships the 1,797 8x8 grey-scale images (10 classes). They are
resized (bilinear) to ``size`` x ``size``, standardised with the training split's mean and standard deviation, and
repeated over 3 channels so the NB201 networks (whose stem reads 3 channels, as in the benchmark) take them
unchanged. The train/valid split is a seeded permutation (``spawn(seed, "digits-split")``).

:func:`image_data` wraps a user's own ``torch.utils.data.Dataset`` pair (items ``(image, label)`` with a
``(C, H, W)`` float tensor and an integer label) after checking the first item of each.

Augmentation (:class:`Augmented`) is drawn per ``(seed, epoch, image)`` once a training loop announces the epoch
(:func:`augmentation_epoch`, which :func:`~predictbench.supernet.trainer.train_supernet` does): a resumed training
sees the same crops as an uninterrupted one, and outside a training epoch (BatchNorm calibration, scoring) the
images are served unaugmented, so scores do not depend on what ran before.

This module imports torch at import time; :mod:`predictbench.supernet` imports it lazily.

Examples
--------
>>> data = digits(size=16, seed=0)  # doctest: +SKIP
>>> len(data.train), len(data.valid), data.image_shape, data.num_classes  # doctest: +SKIP
(1348, 449, (3, 16, 16), 10)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from predictbench.rng import spawn

__all__ = [
    "Augmented",
    "ImageData",
    "augmentation_epoch",
    "batches",
    "cifar10",
    "dataset_size",
    "digits",
    "image_data",
    "with_random_labels",
]

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class ImageData:
    """A classification task: training and validation datasets, the number of classes and the image shape.

    ``train`` trains the supernet (and stand-alone networks); ``valid`` scores architectures; ``test`` (optional)
    is kept apart for a final check and read by nothing here.
    """

    train: Dataset[Any]
    valid: Dataset[Any]
    num_classes: int
    image_shape: tuple[int, int, int]
    name: str = "data"
    test: Dataset[Any] | None = None

    def __repr__(self) -> str:
        test = "" if self.test is None else f", test={dataset_size(self.test)}"
        return (
            f"ImageData({self.name!r}, train={dataset_size(self.train)}, valid={dataset_size(self.valid)}{test}, "
            f"classes={self.num_classes}, shape={self.image_shape})"
        )


def dataset_size(dataset: Dataset[Any]) -> int:
    """The number of items of a map-style ``dataset`` (torch's ``Dataset`` type declares no ``__len__``)."""
    return len(cast(Sized, dataset))


def _check_positive(label: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{label} must be a positive int, got {value!r}")
    return int(value)


def _split(n: int, valid_fraction: float, seed: int, label: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Train and valid rows of ``n`` images: a seeded permutation (its first ``limit``), ``valid_fraction`` held out."""
    if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, (float, int)):
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction!r}")
    if not 0.0 < float(valid_fraction) < 1.0:
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction!r}")
    order = spawn(seed, label).permutation(n)
    if limit is not None:
        limit = _check_positive("limit", limit)
        if limit < 4:
            raise ValueError(f"limit must be at least 4 images (2 to train, 2 to score), got {limit}")
        order = order[:limit]
    n_valid = min(max(1, round(len(order) * float(valid_fraction))), len(order) - 1)
    return order[n_valid:], order[:n_valid]


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
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    train_rows, valid_rows = _split(len(images), valid_fraction, seed, "digits-split", limit)
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


class Augmented(Dataset[Any]):
    """Training images with the standard CIFAR augmentation: random crop of the zero-padded image, horizontal flip.

    The crop offsets and flips of an epoch are drawn at once from ``spawn(seed, "augment", epoch)``, one per image,
    when a training loop calls :meth:`set_epoch` (see :func:`augmentation_epoch`); with no epoch set the images
    are served unaugmented. ``transform`` (e.g. mean/std normalisation) runs after the crop and flip, so padding
    with 0 pads a ``[0, 1]`` image with black, as torchvision's ``RandomCrop(32, padding=4)`` does.

    Parameters
    ----------
    images, labels
        ``(n, C, H, W)`` float images and ``(n,)`` integer labels.
    seed
        Seeds the crops and flips.
    padding
        Pixels of zero padding on each side before the crop (0: no crop).
    flip
        Flip horizontally with probability 1/2.
    transform
        Applied to every batch after augmentation (None: nothing).
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        seed: int = 0,
        padding: int = 4,
        flip: bool = True,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if images.ndim != 4 or not images.is_floating_point():
            raise TypeError(f"images must be a float tensor of shape (n, C, H, W), got {tuple(images.shape)}")
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},), got {tuple(labels.shape)}")
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding must be a non-negative int, got {padding!r}")
        self.images = images
        self.labels = labels.to(torch.int64)
        self.seed = int(seed)
        self.padding = padding
        self.flip = bool(flip)
        self.transform = transform
        self.epoch: int | None = None
        self._offsets = np.zeros((0, 2), dtype=np.int64)
        self._flips = np.zeros(0, dtype=bool)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Batch:
        images, labels = self.batch(np.array([index]))
        return images[0], labels[0]

    def with_labels(self, labels: torch.Tensor) -> Augmented:
        """The same images and augmentation with other labels (random-label training)."""
        return Augmented(
            self.images, labels, seed=self.seed, padding=self.padding, flip=self.flip, transform=self.transform
        )

    def set_epoch(self, epoch: int | None) -> None:
        """Draw the crops and flips of ``epoch`` (None: serve the images unaugmented)."""
        self.epoch = epoch
        if epoch is None:
            return
        rng = spawn(self.seed, "augment", epoch)
        n = len(self.labels)
        self._offsets = rng.integers(0, 2 * self.padding + 1, size=(n, 2))
        self._flips = rng.random(n) < 0.5 if self.flip else np.zeros(n, dtype=bool)

    def batch(self, rows: np.ndarray) -> Batch:
        """Images and labels of ``rows``, augmented for the current epoch, then transformed."""
        index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
        images = self.images[index]
        if self.epoch is not None:
            images = self._augment(images, np.asarray(rows, dtype=np.int64))
        if self.transform is not None:
            images = self.transform(images)
        return images, self.labels[index]

    def _augment(self, images: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        n, c, h, w = images.shape
        if self.padding:
            p = self.padding
            padded = torch.nn.functional.pad(images, (p, p, p, p))
            offsets = torch.from_numpy(self._offsets[rows])
            ys = (offsets[:, 0, None] + torch.arange(h))[:, None, :, None]
            xs = (offsets[:, 1, None] + torch.arange(w))[:, None, None, :]
            images = padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], ys, xs]
        flips = torch.from_numpy(self._flips[rows])[:, None, None, None]
        return torch.where(flips, images.flip(-1), images)


@contextmanager
def augmentation_epoch(dataset: Dataset[Any], epoch: int) -> Iterator[None]:
    """Within the block ``dataset`` serves epoch ``epoch``'s augmentation (if it has one); unaugmented after."""
    set_epoch = getattr(dataset, "set_epoch", None)
    if set_epoch is None:
        yield
        return
    set_epoch(epoch)
    try:
        yield
    finally:
        set_epoch(None)


def cifar10(
    *,
    valid_fraction: float = 0.25,
    seed: int = 0,
    limit: int | None = None,
    augment: bool = True,
    path: str | Path | None = None,
) -> ImageData:
    """The shared real CIFAR-10 subset as an image task: seeded train/valid split of the 4,660 training images.

    Parameters
    ----------
    valid_fraction
        Share of the training images held out to score architectures, in (0, 1).
    seed
        Seeds the split (``spawn(seed, "cifar10-split")``) and the augmentation.
    limit
        Use only the first ``limit`` training images of the seeded permutation (small tests); None for all.
    augment
        Random crop (4-pixel zero padding) and horizontal flip on the training split.
    path
        The ``cifar10_subset.npz`` file (default: ``$PREDICTBENCH_IMAGES``, else the shared
        ``benchmarks_data/images/cifar10_subset.npz`` beside the checkout).

    The 846 test images, normalised, are kept apart in ``ImageData.test``.
    """
    from predictbench.proxies.images import (
        IMAGES_ENV,
        default_images_path,
        load_cifar10_subset,
        normalise_cifar10,
        to_unit_tensor,
    )

    file = Path(path) if path is not None else default_images_path()
    if not file.is_file():
        raise FileNotFoundError(
            f"real CIFAR-10 images not found at {file}: give the shared benchmarks_data/images/cifar10_subset.npz "
            f"(path=, --images) or set ${IMAGES_ENV}; digits() needs no file"
        )
    arrays = load_cifar10_subset(file)
    images, labels = arrays["x_train"], np.asarray(arrays["y_train"], dtype=np.int64)
    train_rows, valid_rows = _split(len(images), valid_fraction, seed, "cifar10-split", limit)
    raw = to_unit_tensor(images[train_rows])
    train = Augmented(
        raw, torch.from_numpy(labels[train_rows]), seed=seed, padding=4 if augment else 0, flip=augment,
        transform=normalise_cifar10,
    )  # fmt: skip

    def clean(x: np.ndarray, y: np.ndarray) -> TensorDataset:
        return TensorDataset(normalise_cifar10(to_unit_tensor(x)), torch.from_numpy(np.asarray(y, dtype=np.int64)))

    valid = clean(images[valid_rows], labels[valid_rows])
    test = clean(arrays["x_test"], arrays["y_test"])
    return ImageData(train, valid, 10, (3, int(raw.shape[-2]), int(raw.shape[-1])), name="cifar10", test=test)


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


def image_data(
    train: Dataset[Any],
    valid: Dataset[Any],
    *,
    num_classes: int,
    name: str = "data",
    augment: bool = False,
    seed: int = 0,
) -> ImageData:
    """A user's own datasets as :class:`ImageData` (items ``(image (C, H, W) float tensor, int label)``).

    ``augment=True`` reads the training images into memory once and serves them through :class:`Augmented`
    (random crop with 4-pixel zero padding, horizontal flip; drawn from ``seed``). The images are padded as given,
    so with normalised images the padding is the mean colour rather than black.
    """
    num_classes = _check_positive("num_classes", num_classes)
    image, _ = _first_item(train, "train")
    other, _ = _first_item(valid, "valid")
    if image.shape != other.shape:
        raise ValueError(f"train and valid images differ in shape: {tuple(image.shape)} vs {tuple(other.shape)}")
    c, h, w = (int(v) for v in image.shape)
    if augment:
        pairs = list(batches(train, 256))
        images = torch.cat([x for x, _ in pairs]).float()
        train = Augmented(images, torch.cat([y for _, y in pairs]), seed=seed)
    return ImageData(train, valid, num_classes, (c, h, w), name=name)


def with_random_labels(data: ImageData, seed: int) -> ImageData:
    """The same images with labels drawn uniformly at random (fixed per image by ``seed``), as RLNAS trains."""
    rng = spawn(seed, "random-labels")
    n = dataset_size(data.train)
    labels = torch.from_numpy(rng.integers(0, data.num_classes, size=n).astype(np.int64))
    if isinstance(data.train, TensorDataset):
        train: Dataset[Any] = TensorDataset(data.train.tensors[0], labels)
    elif isinstance(data.train, Augmented):
        train = data.train.with_labels(labels)
    else:
        train = _Relabelled(data.train, labels)
    return replace(data, train=train, name=f"{data.name}-random-labels")


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
    if isinstance(dataset, Augmented):
        for start in range(0, len(rows), batch_size):
            yield dataset.batch(rows[start : start + batch_size])
        return
    loader = DataLoader(dataset, batch_size=batch_size, sampler=rows.tolist(), num_workers=0)
    for images, labels in loader:
        yield images, torch.as_tensor(labels, dtype=torch.int64)
