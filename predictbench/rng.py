"""Explicit random number generators.

No global random state anywhere: every component gets a ``numpy.random.Generator``.
``spawn(seed, *labels)`` derives an independent, order-independent stream from a root seed and
a tuple of labels, so the train/test split of (benchmark, size, seed) is the same whichever
predictors run and in whatever order.
"""

from __future__ import annotations

import hashlib

import numpy as np

SeedLike = int | np.random.Generator | None


def _label_words(labels: tuple[object, ...]) -> list[int]:
    text = "\x1f".join(repr(label) for label in labels).encode()
    digest = hashlib.sha256(text).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def spawn(seed: int, *labels: object) -> np.random.Generator:
    """A generator determined by ``seed`` and ``labels`` only.

    Examples
    --------
    >>> a = spawn(0, "split", "nb201/cifar10", 24).integers(1000)
    >>> b = spawn(0, "split", "nb201/cifar10", 24).integers(1000)
    >>> bool(a == b)
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    entropy = [int(seed), *_label_words(labels)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def as_generator(seed: SeedLike) -> np.random.Generator:
    """A Generator from an int seed or an existing Generator (None -> fresh OS entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or numpy Generator, got {type(seed).__name__}")
    return np.random.default_rng(int(seed))
