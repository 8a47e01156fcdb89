"""Gradient-boosted decision trees (LightGBM) on any tabular encoding, as in GBDT-NAS."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, features_of, seed_int

#: GBDT-NAS (Luo et al.) published LightGBM settings.
GBDT_NAS_PRESET: dict[str, Any] = {
    "num_leaves": 31,
    "learning_rate": 0.05,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 5,
    "n_estimators": 100,
    "standardize_target": True,
    "min_child_samples": 20,
}


class LGBMPredictor(Predictor):
    """LightGBM regressor on an architecture encoding.

    Parameters default to GBDT-NAS's published settings, except ``min_child_samples=None`` which adapts the
    leaf size to tiny training sets (``min(20, max(2, n // 5))``): with LightGBM's fixed 20 a model fitted on
    fewer than 40 samples cannot split and predicts a constant. ``LGBMPredictor.gbdt_nas()`` gives the exact
    published configuration.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((50, 4)); y = X[:, 0]
    >>> LGBMPredictor(n_estimators=20).fit(X, y).predict(X).shape
    (50,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(
        self,
        *,
        encoding: str = "onehot",
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        feature_fraction: float = 0.9,
        bagging_fraction: float = 0.8,
        bagging_freq: int = 5,
        min_child_samples: int | None = None,
        standardize_target: bool = True,
        objective: str = "regression",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.encoding = encoding
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.bagging_freq = bagging_freq
        self.min_child_samples = min_child_samples
        self.standardize_target = standardize_target
        self.objective = objective
        self.seed = seed
        self.n_jobs = n_jobs

    @classmethod
    def gbdt_nas(cls, **overrides: Any) -> LGBMPredictor:
        """The GBDT-NAS paper's configuration."""
        return cls(**{**GBDT_NAS_PRESET, **overrides})

    def _lgb_params(self, n: int) -> dict[str, Any]:
        if self.objective not in ("regression", "lambdarank"):
            raise ValueError(f"objective must be 'regression' or 'lambdarank', got {self.objective!r}")
        min_leaf = self.min_child_samples if self.min_child_samples is not None else min(20, max(2, n // 5))
        return {
            "objective": self.objective,
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "min_data_in_leaf": min_leaf,
            "min_data_in_bin": 1,
            "seed": seed_int(self.seed),
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs,
            "verbosity": -1,
        }

    def fit(self, X: Any, y: np.ndarray) -> LGBMPredictor:
        import lightgbm as lgb

        features = features_of(X, self.encoding)
        target = check_target(y, len(features))
        dataset_kwargs: dict[str, Any] = {"params": {"min_data_in_bin": 1, "verbosity": -1}}
        if self.objective == "lambdarank":
            # one query group; relevance labels = rank buckets of the target (LightGBM needs small ints)
            order = np.argsort(np.argsort(target, kind="stable"), kind="stable")
            label = np.floor(order * 31 / max(len(target) - 1, 1)).astype(int)
            data = lgb.Dataset(features, label=label, group=[len(target)], **dataset_kwargs)
            self.target_mean_, self.target_scale_ = 0.0, 1.0
        else:
            mean, scale = (target.mean(), target.std()) if self.standardize_target else (0.0, 1.0)
            scale = scale if scale > 0 else 1.0
            self.target_mean_, self.target_scale_ = float(mean), float(scale)
            data = lgb.Dataset(features, label=(target - mean) / scale, **dataset_kwargs)
        params = self._lgb_params(len(target))
        if self.objective == "lambdarank":
            params["label_gain"] = list(range(32))
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        self.n_features_in_ = features.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        features = features_of(X, self.encoding)
        if features.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {features.shape[1]}")
        raw = np.asarray(self.booster_.predict(features), dtype=float)
        return raw * self.target_scale_ + self.target_mean_

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "booster_" in state:
            state["booster_"] = state["booster_"].model_to_string()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("booster_"), str):
            import lightgbm as lgb

            state["booster_"] = lgb.Booster(model_str=state["booster_"])
        self.__dict__.update(state)
