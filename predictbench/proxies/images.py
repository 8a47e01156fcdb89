"""Real CIFAR-10 images for the proxies that need them: the shared ``cifar10_subset.npz`` (4,660 + 846 images).

The file is not part of the repository: it lives in ``shared/benchmarks_data/images/`` beside the checkout
(read its README), or wherever ``$PREDICTBENCH_IMAGES`` points. Only the proxies that need real images
(ZiCo, SWAP) read it; every other proxy works without it, and a missing file raises one FileNotFoundError
naming the path looked at.

Images are normalised with NAS-Bench-201's CIFAR-10 mean/std (``xautodl``'s ``[125.3, 123.0, 113.9] / 255``
and ``[63.0, 62.1, 66.7] / 255``). For ImageNet16-120 networks (16x16 inputs) the CIFAR-10 images are
resized to 16x16 by 2x2 averaging (``resolution=16``): a stand-in, not ImageNet16-120 images.

Examples
--------
>>> x, y = cifar10_batch(64, seed=0)  # doctest: +SKIP
>>> tuple(x.shape), int(y.max()) <= 9  # doctest: +SKIP
((64, 3, 32, 32), True)
"""

from __future__ import annotations

import functools
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "IMAGES_ENV",
    "cifar10_batch",
    "default_images_path",
    "load_cifar10_subset",
    "normalise_cifar10",
    "to_unit_tensor",
]

CIFAR10_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
"""Per-channel mean NAS-Bench-201 normalises CIFAR-10 with."""
CIFAR10_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
"""Per-channel standard deviation NAS-Bench-201 normalises CIFAR-10 with."""
IMAGES_ENV = "PREDICTBENCH_IMAGES"
"""Environment variable naming the ``cifar10_subset.npz`` file to read instead of the shared one."""
_SPLITS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}


def default_images_path() -> Path:
    """``$PREDICTBENCH_IMAGES``, else ``shared/benchmarks_data/images/cifar10_subset.npz`` beside the checkout."""
    override = os.environ.get(IMAGES_ENV)
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[2]
    return checkout.parent / "shared" / "benchmarks_data" / "images" / "cifar10_subset.npz"


@functools.lru_cache(maxsize=2)
def _load(path: str) -> dict[str, np.ndarray]:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"real CIFAR-10 images not found at {file} (needed by zico and swap; the other proxies work "
            f"without it): give the shared benchmarks_data/images/cifar10_subset.npz, or set ${IMAGES_ENV}"
        )
    try:
        npz_file = np.load(file, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{file} is not a readable .npz of CIFAR-10 images ({exc})") from exc
    if not isinstance(npz_file, np.lib.npyio.NpzFile):
        raise ValueError(f"{file} is a single .npy array, expected an .npz with x_train, y_train, x_test, y_test")
    with npz_file as npz:
        missing = [k for pair in _SPLITS.values() for k in pair if k not in npz.files]
        if missing:
            raise ValueError(f"{file} lacks the arrays {missing}; expected x_train, y_train, x_test, y_test")
        return {k: np.asarray(npz[k]) for pair in _SPLITS.values() for k in pair}


def load_cifar10_subset(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """The arrays of the subset file (uint8 HWC images, uint8 labels), read once per path."""
    return _load(str(path if path is not None else default_images_path()))


def to_unit_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 HWC images ``(n, H, W, 3)`` as a float ``(n, 3, H, W)`` tensor in [0, 1]."""
    import torch

    return torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()


def normalise_cifar10(x: torch.Tensor) -> torch.Tensor:
    """``(n, 3, H, W)`` images in [0, 1] normalised with NAS-Bench-201's CIFAR-10 mean/std."""
    import torch

    mean = torch.tensor(CIFAR10_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def cifar10_batch(
    batch_size: int,
    *,
    seed: int = 0,
    resolution: int = 32,
    split: str = "train",
    path: str | Path | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A normalised batch of real CIFAR-10 images and labels, chosen without replacement from ``seed``.

    Parameters
    ----------
    batch_size
        Images (at most the split's size: 4,660 train, 846 test).
    seed
        Selects the images (``predictbench.rng.spawn(seed, "proxies", "images", split)``).
    resolution
        32 (CIFAR) or a divisor of 32, e.g. 16 for ImageNet16-120 networks (2x2 averaging).
    split, path
        ``"train"`` or ``"test"``; the ``.npz`` file (default :func:`default_images_path`).
    """
    import torch
    import torch.nn.functional as F

    from predictbench.rng import spawn

    if split not in _SPLITS:
        raise ValueError(f"split must be one of {sorted(_SPLITS)}, got {split!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1 or 32 % resolution:
        raise ValueError(f"resolution must be a divisor of 32 (32 CIFAR, 16 ImageNet16-120), got {resolution!r}")
    arrays = load_cifar10_subset(path)
    images, labels = arrays[_SPLITS[split][0]], arrays[_SPLITS[split][1]]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= len(images):
        raise ValueError(f"batch_size must be an int in [1, {len(images)}] for the {split} split, got {batch_size!r}")
    rows = np.sort(spawn(int(seed), "proxies", "images", split).choice(len(images), size=batch_size, replace=False))
    x = normalise_cifar10(to_unit_tensor(images[rows]))
    if resolution != x.shape[-1]:
        x = F.avg_pool2d(x, kernel_size=x.shape[-1] // resolution)
    return x.contiguous(), torch.from_numpy(labels[rows].astype(np.int64))
