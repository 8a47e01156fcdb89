"""BANANAS' predictor: an ensemble of small MLPs on the path encoding (White et al., 2021; NASLib style).

Each member is a ReLU MLP trained from its own seed (spawned from the predictor's ``seed``); the prediction is
the ensemble mean and :meth:`BananasPredictor.predict_ensemble` gives every member's prediction, the input of
acquisition functions (independent Thompson sampling, UCB, expected improvement) in predictor-guided search.
The members are trained side by side as one batched torch model (see
:func:`predictbench.predictors.baselines.fit_mlp_ensemble`); torch is imported only in ``fit``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, features_of, seed_int
from predictbench.predictors.baselines import (
    check_int,
    check_mlp_params,
    fit_mlp_ensemble,
    mlp_forward,
    standardize_columns,
)


class BananasPredictor(Predictor):
    """Ensemble of ``n_models`` MLPs on an architecture encoding (path encoding by default).

    Defaults follow BANANAS (mean absolute error on the standardised target, Adam, batch 32) with a smaller
    network and schedule — 3 hidden layers of 32 units, 50 epochs at learning rate 0.01 — so that fitting
    1,000 cells takes seconds on a CPU. :meth:`predict` and :meth:`predict_ensemble` return target units.
    Member ``i`` is seeded by ``spawn(seed, "bananas", i)``, so adding members leaves the first ones unchanged.
    Deterministic for a fixed ``seed`` (and ``n_jobs``, the torch threads used while fitting).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).integers(0, 2, (60, 8)).astype(float); y = X @ np.arange(8.0)
    >>> model = BananasPredictor(n_models=3, epochs=5).fit(X, y)
    >>> model.predict(X).shape, model.predict_ensemble(X).shape
    ((60,), (3, 60))
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(
        self,
        *,
        encoding: str = "path",
        n_models: int = 5,
        hidden: tuple[int, ...] = (32, 32, 32),
        epochs: int = 50,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        batch_size: int = 32,
        loss: str = "mae",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.encoding = encoding
        self.n_models = n_models
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.loss = loss
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: np.ndarray) -> BananasPredictor:
        from predictbench.rng import spawn

        hidden = check_mlp_params(
            hidden=self.hidden,
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            loss=self.loss,
            n_models=self.n_models,
        )
        check_int("n_jobs", self.n_jobs, 1)
        root = seed_int(self.seed)
        features = features_of(X, self.encoding)
        target = check_target(y, len(features))
        x_mean, x_scale = standardize_columns(features)
        mean, scale = float(target.mean()), float(target.std())
        scale = scale if scale > 0 else 1.0
        seeds = [int(spawn(root, "bananas", i).integers(2**62)) for i in range(int(self.n_models))]
        self.layers_ = fit_mlp_ensemble(
            ((features - x_mean) / x_scale).astype(np.float32),
            (target - mean) / scale,
            seeds=seeds,
            hidden=hidden,
            epochs=int(self.epochs),
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            batch_size=int(self.batch_size),
            loss=self.loss,
            n_jobs=int(self.n_jobs),
        )
        self.x_mean_, self.x_scale_ = x_mean, x_scale
        self.target_mean_, self.target_scale_ = mean, scale
        self.n_features_in_ = features.shape[1]
        return self

    def predict_ensemble(self, X: Any) -> np.ndarray:
        """Every member's prediction, shape (n_models, n), in target units."""
        self._check_fitted()
        features = features_of(X, self.encoding)
        if features.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {features.shape[1]}")
        raw = mlp_forward(self.layers_, (features - self.x_mean_) / self.x_scale_)
        return np.asarray(raw * self.target_scale_ + self.target_mean_, dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """The ensemble mean, shape (n,)."""
        return np.asarray(self.predict_ensemble(X).mean(axis=0), dtype=float)
