"""BANANAS' predictor: an ensemble of small MLPs on the path encoding (White et al., 2021; NASLib style).

Each member is a ReLU MLP trained from its own seed (spawned from the predictor's ``seed``); the prediction is
the ensemble mean and :meth:`BananasPredictor.predict_ensemble` gives every member's prediction, the input of
acquisition functions (independent Thompson sampling, UCB, expected improvement) in predictor-guided search.
The members are trained side by side as one batched torch model (see
:func:`predictbench.predictors.baselines.fit_mlp_ensemble`); torch is imported only in ``fit``.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import features_of
from predictbench.predictors.baselines import StackedMLPPredictor

log = logging.getLogger(__name__)
_WARNED_NO_PATH: set[str] = set()


class BananasPredictor(StackedMLPPredictor):
    """Ensemble of ``n_models`` MLPs on an architecture encoding (path encoding by default).

    On a space without the path encoding (NAS-Bench-Graph, NATS-sss) the default ``encoding="path"`` falls back
    to ``"onehot"``, with a warning once per space and process; ``encoding_`` holds the encoding a fit used.

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

    def _member_seeds(self, root: int) -> list[int]:
        from predictbench.rng import spawn

        return [int(spawn(root, "bananas", i).integers(2**62)) for i in range(int(self.n_models))]

    def _encoding_for(self, X: Any) -> str:
        """``encoding``, or ``"onehot"`` in place of ``"path"`` for a batch of a space that has no path encoding."""
        benchmark = getattr(X, "benchmark", None)
        if self.encoding != "path" or benchmark is None:
            return self.encoding
        from predictbench.encodings import encoding_names

        offered = encoding_names(benchmark.space)
        if "path" in offered:
            return "path"
        if benchmark.space.name not in _WARNED_NO_PATH:  # once per space and process, not once per fit
            _WARNED_NO_PATH.add(benchmark.space.name)
            log.warning(
                "BananasPredictor: space %r has no 'path' encoding (BANANAS' default), so encoding='onehot' is used; "
                "pass encoding=... to choose one of %s",
                benchmark.space.name,
                ", ".join(offered),
            )
        return "onehot"

    def fit(self, X: Any, y: np.ndarray) -> BananasPredictor:
        encoding = self._encoding_for(X)
        self._fit_members(features_of(X, encoding), y, n_models=self.n_models)
        self.encoding_ = encoding
        self.params_used_ = {"encoding": encoding}
        return self

    def predict_ensemble(self, X: Any) -> np.ndarray:
        """Every member's prediction, shape (n_models, n), in target units."""
        self._check_fitted()
        return self._predict_members(features_of(X, getattr(self, "encoding_", self.encoding)))

    def predict(self, X: Any) -> np.ndarray:
        """The ensemble mean, shape (n,)."""
        return np.asarray(self.predict_ensemble(X).mean(axis=0), dtype=float)
