"""The SupernetAdapter contract: how any weight-sharing supernet plugs into predictbench.

An adapter trains a supernet over a search space on some data and then scores architectures of that space by the
weights they inherit. Two methods are required::

    fit(space, data, *, epochs, seed) -> self      # train (or load) the supernet
    score(archs) -> np.ndarray                     # one float per Arch, higher = better; only the ORDER matters

``score`` must be deterministic for a fitted adapter (same archs, same scores, whatever was scored before) and
row-wise (an architecture's score does not depend on the rest of the batch), so that
:class:`~predictbench.predictors.oneshot.OneShotPredictor` satisfies the Predictor contract and
:class:`~predictbench.supernet.oracle.SupernetOracle` can cache answers.

Optional, for long trainings and reuse: ``fit(..., checkpoint=path)`` resumes from ``path`` after an
interruption; ``state_dict()`` returns everything needed to score again and ``load_state_dict(state, data=...)``
restores it into a fresh adapter (:class:`CheckpointableAdapter`).

This module imports neither torch nor numpy-heavy code; adapters live in their own modules.

Examples
--------
>>> class ParamCount:                       # a (poor) adapter: bigger cells score higher
...     def fit(self, space, data, *, epochs=0, seed=0):
...         self.space_ = space
...         return self
...     def score(self, archs):
...         import numpy as np
...         ops = np.array([self.space_.ops_array(a)[0] for a in archs])
...         return (ops >= 2).sum(axis=1).astype(float)
>>> isinstance(ParamCount(), SupernetAdapter)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from predictbench.spaces import SearchSpace
from predictbench.types import Arch, NotFittedError, OutOfSpaceError

__all__ = ["CheckpointableAdapter", "SupernetAdapter", "check_archs", "check_scores"]


@runtime_checkable
class SupernetAdapter(Protocol):
    """A trainable supernet that scores architectures of a search space (higher is better)."""

    def fit(self, space: SearchSpace, data: Any, *, epochs: int, seed: int) -> SupernetAdapter: ...

    def score(self, archs: Sequence[Arch]) -> np.ndarray: ...


@runtime_checkable
class CheckpointableAdapter(SupernetAdapter, Protocol):
    """An adapter whose trained state can be saved and restored."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any], *, data: Any) -> None: ...


def check_archs(space: SearchSpace, archs: Sequence[Arch], who: str) -> list[Arch]:
    """``archs`` as a list after checking each is a valid member of ``space`` (``OutOfSpaceError`` naming ``who``)."""
    if isinstance(archs, (Arch, str)):
        raise TypeError(f"{who}: score takes a sequence of Arch values, got a single {type(archs).__name__}")
    out = list(archs)
    for arch in out:
        if not isinstance(arch, Arch):
            raise TypeError(f"{who}: score takes Arch values, got {type(arch).__name__} {arch!r:.80}")
        if arch.space != space.name or not space.is_valid(arch):
            raise OutOfSpaceError(f"{who}: {arch} is not an architecture of the {space.name!r} space it was fit on")
    return out


def check_scores(scores: Any, n: int, who: str) -> np.ndarray:
    """An adapter's scores as a finite float array of shape (n,), or a clear error naming the adapter."""
    if scores is None:
        raise NotFittedError(f"{who} returned no scores; is it fitted?")
    values = np.asarray(scores, dtype=float)
    if values.shape != (n,):
        raise ValueError(f"{who}: score must return one value per architecture, shape ({n},); got {values.shape}")
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValueError(f"{who}: score returned a non-finite value {values[bad]} (architecture {bad})")
    return values
