"""Gradient-boosted decision trees (LightGBM, XGBoost) on any tabular encoding, as in GBDT-NAS.

Both predictors take an optional ``proxies`` parameter: the named zero-cost proxies of an
:class:`~predictbench.benchmarks.ArchBatch` are appended to the encoding as extra features ("omni"
predictors, as in NAS-Bench-Suite-Zero). GBDTs split on missing values natively, so cells without a proxy
value (NaN) need no imputation. ``proxy_source`` reads those proxies from another converted store of the same
search space (see :func:`~predictbench.predictors.zerocost.with_proxy_source`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import (
    Predictor,
    check_n_features,
    check_target,
    features_of,
    seed_int,
    target_scaling,
)
from predictbench.predictors.zerocost import check_proxy_source, with_proxy_source
from predictbench.validation import check_int, naming

ProxySpec = tuple[str, ...] | list[str] | str | None

#: Lower bounds of the tree-ensemble counts (LightGBM, XGBoost and the omni predictor's LightGBM member).
_TREE_COUNTS = {"n_estimators": 1, "num_leaves": 2, "max_depth": 1, "bagging_freq": 0, "min_child_samples": 1,
                "n_jobs": 1}  # fmt: skip
#: Tree-ensemble settings that are finite numbers: name -> (test, the accepted range in words).
_TREE_NUMBERS: dict[str, tuple[Callable[[float], bool], str]] = {
    "learning_rate": (lambda v: v > 0, "> 0"),
    "min_child_weight": (lambda v: v >= 0, ">= 0"),
    **{
        name: (lambda v: 0 < v <= 1, "in (0, 1]")
        for name in ("feature_fraction", "bagging_fraction", "subsample", "colsample_bytree")
    },
}

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

_FEATURES = frozenset({"features"})
_FEATURES_AND_PROXIES = frozenset({"features", "proxies"})


class _Needs:
    """``needs`` of a predictor with an optional ``proxies`` parameter.

    Read on the class it is everything the predictor may read (``{"features", "proxies"}``); read on an
    instance it is what that configuration reads (``{"features"}`` when ``proxies is None``).
    """

    def __get__(self, obj: Any, owner: type | None = None) -> frozenset[str]:
        if obj is None or getattr(obj, "proxies", None) is not None:
            return _FEATURES_AND_PROXIES
        return _FEATURES


def _proxy_names(X: Any, proxies: ProxySpec) -> list[str]:
    """The proxy columns ``proxies`` names for batch ``X`` ("all" = every proxy of its benchmark)."""
    if isinstance(proxies, str):
        if proxies == "all":
            names = list(X.benchmark.proxy_names)
            if not names:
                raise ValueError(f"proxies='all' but benchmark {X.benchmark.name!r} has no proxies table")
            return names
        return [proxies]
    if not isinstance(proxies, Sequence) or not proxies or not all(isinstance(p, str) for p in proxies):
        raise ValueError(f"proxies must be None, 'all', a proxy name or a non-empty tuple of names, got {proxies!r}")
    return list(proxies)


def check_tree_params(owner: Any) -> None:
    """ValueError naming the first bad tree-ensemble setting among those ``owner`` has (counts, rates, fractions).

    Call it inside :func:`~predictbench.validation.naming` so that the message also names the class.
    """
    settings = vars(owner)
    for name, low in _TREE_COUNTS.items():
        if settings.get(name) is not None:
            check_int(name, settings[name], low)
    for name, (accepts, words) in _TREE_NUMBERS.items():
        value = settings.get(name, 1)
        number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        if not (number and np.isfinite(value) and accepts(value)):
            raise ValueError(f"{name} must be {words}, got {value!r}")


class _ProxyFeatures:
    """Encoding features, optionally followed by zero-cost proxy columns (the ``proxies`` parameter)."""

    encoding: str
    proxies: ProxySpec
    proxy_source: str | None
    needs = _Needs()

    def _proxy_columns(self, X: Any) -> list[str] | None:
        """The proxy names to append when fitting on ``X`` (None without proxies)."""
        who = type(self).__name__
        check_proxy_source(self.proxies, self.proxy_source, who)
        if self.proxies is None:
            return None
        if not hasattr(X, "proxies"):
            raise ValueError(
                f"{who}(proxies={self.proxies!r}) reads proxies from an ArchBatch "
                f"(benchmark.batch(keys)); got a plain {type(X).__name__}"
            )
        return _proxy_names(with_proxy_source(X, self.proxy_source, who), self.proxies)

    def _features(self, X: Any, proxy_names: list[str] | None) -> np.ndarray:
        features = features_of(X, self.encoding)
        if proxy_names is None:
            return features
        if not hasattr(X, "proxies"):
            raise ValueError(
                f"{type(self).__name__} was fitted with proxies {proxy_names}: predict needs an ArchBatch, "
                f"got a plain {type(X).__name__}"
            )
        source = with_proxy_source(X, self.proxy_source, type(self).__name__)
        return np.hstack([features, np.asarray(source.proxies(proxy_names), dtype=np.float32)])

    def _training_data(self, X: Any, y: np.ndarray) -> tuple[list[str] | None, np.ndarray, np.ndarray]:
        """The proxy columns, the features and the checked target of a fit."""
        proxy_names = self._proxy_columns(X)
        features = self._features(X, proxy_names)
        return proxy_names, features, check_target(y, len(features))


class LGBMPredictor(_ProxyFeatures, Predictor):
    """LightGBM regressor on an architecture encoding.

    Parameters default to GBDT-NAS's published settings, except ``min_child_samples=None`` which adapts the
    leaf size to the training-set size (``min(5, max(2, n // 100))``): with LightGBM's fixed 20 a model fitted
    on fewer than 40 samples cannot split and predicts a constant, and on NB201 cifar10 (5 seeds) leaves of 2-5
    cells raise Kendall tau from .31/.52/.65 to .42/.61/.72 at n = 121/347/1000. ``LGBMPredictor.gbdt_nas()``
    gives the exact published configuration.

    ``proxies`` (None, a proxy name, a tuple of names or ``"all"``) appends those zero-cost proxies of the
    ArchBatch to the encoding ("omni" predictor); ``needs`` then includes ``"proxies"``. ``proxy_source`` names
    another converted store of the same search space to read them from (e.g. ``"nb201/cifar10"`` for
    ``nb201-analog/cifar10``, which has no proxies, or ``nb201/cifar100``, which holds zen only; ``"all"`` then
    means that store's proxies); it needs ``proxies`` (a ValueError otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((50, 4)); y = X[:, 0]
    >>> LGBMPredictor(n_estimators=20).fit(X, y).predict(X).shape
    (50,)
    >>> sorted(LGBMPredictor(proxies="all").needs), sorted(LGBMPredictor().needs)
    (['features', 'proxies'], ['features'])
    """

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
        proxies: ProxySpec = None,
        proxy_source: str | None = None,
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
        self.proxies = proxies
        self.proxy_source = proxy_source

    @classmethod
    def gbdt_nas(cls, **overrides: Any) -> LGBMPredictor:
        """The GBDT-NAS paper's configuration."""
        return cls(**{**GBDT_NAS_PRESET, **overrides})

    def _check_params(self) -> None:
        with naming(self):
            if self.objective not in ("regression", "lambdarank"):
                raise ValueError(f"objective must be 'regression' or 'lambdarank', got {self.objective!r}")
            check_tree_params(self)
            seed_int(self.seed)

    def _lgb_params(self, n: int) -> dict[str, Any]:
        min_leaf = self.min_child_samples if self.min_child_samples is not None else min(5, max(2, n // 100))
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

        self._check_params()
        proxy_names, features, target = self._training_data(X, y)
        dataset_kwargs: dict[str, Any] = {"params": {"min_data_in_bin": 1, "verbosity": -1}}
        if self.objective == "lambdarank":
            # one query group; relevance labels = rank buckets of the target (LightGBM needs small ints)
            order = np.argsort(np.argsort(target, kind="stable"), kind="stable")
            label = np.floor(order * 31 / max(len(target) - 1, 1)).astype(int)
            data = lgb.Dataset(features, label=label, group=[len(target)], **dataset_kwargs)
            self.target_mean_, self.target_scale_ = 0.0, 1.0
        else:
            mean, scale = target_scaling(target, self.standardize_target)
            self.target_mean_, self.target_scale_ = mean, scale
            data = lgb.Dataset(features, label=(target - mean) / scale, **dataset_kwargs)
        params = self._lgb_params(len(target))
        if self.objective == "lambdarank":
            params["label_gain"] = list(range(32))
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        self.n_features_in_ = features.shape[1]
        self.proxy_names_ = proxy_names
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        features = check_n_features(self._features(X, self.proxy_names_), self.n_features_in_)
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


class XGBPredictor(_ProxyFeatures, Predictor):
    """XGBoost regressor (or pairwise ranker) on an architecture encoding.

    Histogram trees, single-threaded by default and deterministic for a fixed ``seed``. ``objective`` is
    ``"regression"`` (squared error on the standardised target) or ``"rank:pairwise"`` (one query group holding
    every training cell; scores are then only an order). ``proxies`` appends zero-cost proxies of an ArchBatch
    as extra features, read from the store ``proxy_source`` when given, as for :class:`LGBMPredictor`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((50, 4)); y = X[:, 0]
    >>> XGBPredictor(n_estimators=20).fit(X, y).predict(X).shape
    (50,)
    """

    OBJECTIVES: ClassVar[dict[str, str]] = {"regression": "reg:squarederror", "rank:pairwise": "rank:pairwise"}

    def __init__(
        self,
        *,
        encoding: str = "onehot",
        n_estimators: int = 100,
        learning_rate: float = 0.1,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample_bytree: float = 0.9,
        min_child_weight: float = 1.0,
        standardize_target: bool = True,
        objective: str = "regression",
        seed: int = 0,
        n_jobs: int = 1,
        proxies: ProxySpec = None,
        proxy_source: str | None = None,
    ) -> None:
        self.encoding = encoding
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.standardize_target = standardize_target
        self.objective = objective
        self.seed = seed
        self.n_jobs = n_jobs
        self.proxies = proxies
        self.proxy_source = proxy_source

    def _xgb_params(self) -> dict[str, Any]:
        with naming(self):
            if self.objective not in self.OBJECTIVES:
                raise ValueError(f"objective must be one of {sorted(self.OBJECTIVES)}, got {self.objective!r}")
            check_tree_params(self)
            seed_int(self.seed)
        params: dict[str, Any] = {
            "objective": self.OBJECTIVES[self.objective],
            "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "min_child_weight": float(self.min_child_weight),
            "tree_method": "hist",
            "seed": seed_int(self.seed),
            "nthread": int(self.n_jobs),
            "verbosity": 0,
        }
        if self.objective == "rank:pairwise":
            # XGBoost >= 2 samples pairs; "mean" draws them uniformly over the whole (single) query group
            params.update(lambdarank_pair_method="mean", lambdarank_num_pair_per_sample=8)
        return params

    def fit(self, X: Any, y: np.ndarray) -> XGBPredictor:
        import xgboost as xgb

        params = self._xgb_params()
        proxy_names, features, target = self._training_data(X, y)
        mean, scale = target_scaling(target, self.standardize_target)
        data = xgb.DMatrix(features, label=(target - mean) / scale, missing=np.nan, nthread=int(self.n_jobs))
        if self.objective == "rank:pairwise":
            data.set_group([len(target)])
            mean, scale = 0.0, 1.0  # ranking scores carry no target units
        booster = xgb.train(params, data, num_boost_round=int(self.n_estimators))
        self.booster_ = booster
        self.target_mean_, self.target_scale_ = mean, scale
        self.n_features_in_ = features.shape[1]
        self.proxy_names_ = proxy_names
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        features = check_n_features(self._features(X, self.proxy_names_), self.n_features_in_)
        raw = np.asarray(self.booster_.inplace_predict(features), dtype=float).reshape(len(features))
        return raw * self.target_scale_ + self.target_mean_

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "booster_" in state:
            state["booster_"] = bytes(state["booster_"].save_raw("ubj"))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("booster_"), bytes):
            import xgboost as xgb

            booster = xgb.Booster()
            booster.load_model(bytearray(state["booster_"]))
            booster.set_param({"nthread": int(state.get("n_jobs", 1))})
            state["booster_"] = booster
        self.__dict__.update(state)
