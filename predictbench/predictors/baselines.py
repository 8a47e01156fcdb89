"""Simple baselines: ridge regression on an encoding, and a random scorer as the floor."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, features_of, seed_int


class RidgePredictor(Predictor):
    """Ridge regression (closed form) on an architecture encoding.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3); RidgePredictor(alpha=1e-6).fit(X, [1.0, 2.0, 3.0]).predict(X).round(3).tolist()
    [1.0, 2.0, 3.0]
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(self, *, encoding: str = "onehot", alpha: float = 1.0) -> None:
        self.encoding = encoding
        self.alpha = alpha

    def fit(self, X: Any, y: np.ndarray) -> RidgePredictor:
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        features = features_of(X, self.encoding).astype(float)
        target = check_target(y, len(features))
        self.x_mean_ = features.mean(axis=0)
        self.y_mean_ = float(target.mean())
        centred = features - self.x_mean_
        gram = centred.T @ centred + self.alpha * np.eye(centred.shape[1])
        self.coef_ = np.linalg.lstsq(gram, centred.T @ (target - self.y_mean_), rcond=None)[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        features = features_of(X, self.encoding).astype(float)
        if features.shape[1] != len(self.coef_):
            raise ValueError(f"expected {len(self.coef_)} features, got {features.shape[1]}")
        return np.asarray((features - self.x_mean_) @ self.coef_ + self.y_mean_, dtype=float)


class RandomPredictor(Predictor):
    """Scores drawn at random: the floor every predictor must beat (expected Kendall tau 0)."""

    needs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: Any, y: np.ndarray) -> RandomPredictor:
        self.fitted_ = True
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        n = len(X)
        keys = getattr(X, "keys", None)
        if keys is not None:  # score depends on the architecture only, so order of X does not matter
            import hashlib

            digests = [hashlib.blake2b(f"{self.seed}:{k}".encode(), digest_size=8).digest() for k in keys]
            return np.array([int.from_bytes(d, "little") / 2**64 for d in digests])
        return np.random.default_rng(seed_int(self.seed)).random(n)
