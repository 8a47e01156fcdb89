"""The Predictor contract (scikit-learn conventions) and helpers every predictor uses.

- keyword-only ``__init__`` that only stores its arguments, each with a working default;
- ``fit(X, y) -> self`` and ``predict(X) -> ndarray`` of scores where higher is better and only the ORDER is
  the contract;
- learned state in attributes ending in ``_``; ``predict`` before ``fit`` raises :class:`NotFittedError`;
- ``get_params`` / ``set_params`` / ``clone``;
- ``needs``: which inputs the predictor reads from an :class:`~predictbench.benchmarks.ArchBatch`
  ("features", "graphs", "proxies"). ``X`` is an ArchBatch, or a plain feature matrix for feature predictors.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from predictbench.types import NotFittedError


class Predictor:
    """Base class of every predictor."""

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Predictor:
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; parameters: {sorted(valid)}")
            setattr(self, name, value)
        return self

    def clone(self) -> Predictor:
        """A new, unfitted predictor with the same parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def _check_fitted(self) -> None:
        if not any(name.endswith("_") and not name.startswith("_") for name in vars(self)):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(X, y) first")

    def fit(self, X: Any, y: np.ndarray) -> Predictor:
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:
        raise NotImplementedError


def features_of(X: Any, encoding: str) -> np.ndarray:
    """The feature matrix of ``X``: an ArchBatch encoded with ``encoding``, or X itself as float array."""
    if hasattr(X, "features"):
        return np.asarray(X.features(encoding), dtype=np.float32)
    array = np.asarray(X, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"feature matrix must be 2-d (n_samples, n_features), got shape {array.shape}")
    return array


def check_target(y: Any, n: int) -> np.ndarray:
    target = np.asarray(y, dtype=float)
    if target.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {target.shape}")
    if not np.isfinite(target).all():
        raise ValueError("y contains NaN or infinite values")
    return target


def check_n_features(features: np.ndarray, expected: int) -> np.ndarray:
    """``features`` itself, after checking that it has the ``expected`` number of columns (those seen by ``fit``)."""
    if features.shape[1] != expected:
        raise ValueError(f"expected {expected} features, got {features.shape[1]}")
    return features


def target_scaling(target: np.ndarray, standardize: bool = True) -> tuple[float, float]:
    """Mean and scale that standardise ``target`` (std, 1 for a constant target); ``(0, 1)`` when not ``standardize``.

    Examples
    --------
    >>> target_scaling(np.array([1.0, 3.0])), target_scaling(np.array([2.0, 2.0])), target_scaling(np.ones(2), False)
    ((2.0, 1.0), (2.0, 1.0), (0.0, 1.0))
    """
    mean, scale = (float(target.mean()), float(target.std())) if standardize else (0.0, 1.0)
    return mean, scale if scale > 0 else 1.0


def seed_int(seed: int | None) -> int:
    if seed is None:
        return 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)
