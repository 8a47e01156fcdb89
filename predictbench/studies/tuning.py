"""Hyper-parameter tuning inside the training set: a Predictor that runs Optuna with k-fold CV on what it is fit on.

:class:`TunedPredictor` wraps any registered predictor. Its ``fit(X, y)`` splits ONLY the cells it is given
into ``cv`` folds, lets Optuna's seeded TPE sampler propose ``n_trials`` parameter sets, scores each by the
mean held-out-fold ``metric``, and refits the best set on all of ``X``. Nothing outside ``X`` is ever seen,
so a study's test cells stay untouched; the spy test in ``tests/studies/test_tuning.py`` checks it.

A search space maps parameter names to one of::

    ("float", low, high)            ("float", low, high, "log")
    ("int", low, high)              ("int", low, high, "log")
    ("categorical", (choice, ...))

:data:`DEFAULT_SPACES` holds one per registered predictor that has tunable parameters.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from predictbench.predictors.base import Predictor, check_target, seed_int

log = logging.getLogger(__name__)

ParamSpec = tuple[Any, ...]
ParamSpace = Mapping[str, ParamSpec]

#: Default search spaces per registered predictor name.
DEFAULT_SPACES: dict[str, dict[str, ParamSpec]] = {
    "lgbm": {
        "n_estimators": ("int", 50, 800, "log"),
        "learning_rate": ("float", 0.01, 0.3, "log"),
        "num_leaves": ("int", 4, 64, "log"),
        "feature_fraction": ("float", 0.3, 1.0),
        "bagging_fraction": ("float", 0.5, 1.0),
        "min_child_samples": ("int", 1, 30, "log"),
    },
    "xgb": {
        "n_estimators": ("int", 50, 800, "log"),
        "learning_rate": ("float", 0.01, 0.3, "log"),
        "max_depth": ("int", 2, 10),
        "subsample": ("float", 0.5, 1.0),
        "colsample_bytree": ("float", 0.3, 1.0),
        "min_child_weight": ("float", 0.1, 10.0, "log"),
    },
    "rf": {
        "n_estimators": ("int", 50, 500, "log"),
        "max_features": ("float", 0.1, 1.0),
        "min_samples_leaf": ("int", 1, 10),
    },
    "ridge": {"alpha": ("float", 1e-3, 1e3, "log")},
    "mlp": {
        "lr": ("float", 1e-4, 1e-2, "log"),
        "weight_decay": ("float", 1e-6, 1e-2, "log"),
        "epochs": ("int", 50, 300, "log"),
    },
    "omni-lgbm": {
        "n_estimators": ("int", 100, 1000, "log"),
        "learning_rate": ("float", 0.005, 0.1, "log"),
        "num_leaves": ("int", 4, 64, "log"),
        "feature_fraction": ("float", 0.3, 1.0),
        "min_child_samples": ("int", 1, 30, "log"),
        "prior_alpha": ("float", 1e-3, 1.0, "log"),
    },
    "proxy-learned-ensemble": {"alpha": ("float", 1e-4, 1.0, "log")},
}

_ALL_INPUTS = frozenset({"features", "graphs", "proxies"})


def _metric_function(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    from predictbench.studies.metrics import kendall_tau, pearson_r, spearman_rho

    functions = {"kendall_tau": kendall_tau, "spearman": spearman_rho, "pearson": pearson_r}
    if name not in functions:
        raise ValueError(f"metric must be one of {sorted(functions)} (higher is better), got {name!r}")
    return functions[name]


def _valid_range(spec: tuple[Any, ...]) -> bool:
    if len(spec) not in (3, 4) or (len(spec) == 4 and spec[3] != "log"):
        return False
    low, high = spec[1], spec[2]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        return False
    return bool(low < high and (len(spec) == 3 or low > 0))


def _check_spec(name: str, spec: Any) -> None:
    ok = False
    if isinstance(spec, tuple) and len(spec) >= 2:
        if spec[0] in ("float", "int"):
            ok = _valid_range(spec)
        elif spec[0] == "categorical":
            ok = len(spec) == 2 and isinstance(spec[1], Sequence) and len(spec[1]) > 0
    if not ok:
        raise ValueError(
            f"search space entry {name!r}: expected ('float'|'int', low, high[, 'log']) with low < high "
            f"(low > 0 for 'log') or ('categorical', (choices, ...)), got {spec!r}"
        )


def _suggest(trial: Any, name: str, spec: ParamSpec) -> Any:
    kind = spec[0]
    if kind == "categorical":
        return trial.suggest_categorical(name, list(spec[1]))
    log_scale = len(spec) == 4
    if kind == "int":
        return trial.suggest_int(name, int(spec[1]), int(spec[2]), log=log_scale)
    return trial.suggest_float(name, float(spec[1]), float(spec[2]), log=log_scale)


def _take(X: Any, rows: np.ndarray) -> Any:
    """Rows of an ArchBatch or of a feature matrix."""
    if hasattr(X, "subset"):
        return X.subset(rows)
    return np.asarray(X)[rows]


class _Needs:
    """Class: every input a wrapped predictor may read. Instance: what the configured base predictor reads."""

    def __get__(self, obj: Any, owner: type | None = None) -> frozenset[str]:
        if obj is None:
            return _ALL_INPUTS
        return frozenset(obj._build({}).needs)


class TunedPredictor(Predictor):
    """A predictor whose hyper-parameters are tuned by Optuna with k-fold CV on its own training set.

    ``fit(X, y)`` runs ``n_trials`` trials of a seeded TPE sampler over ``space`` (default:
    ``DEFAULT_SPACES[base]``); each trial fits ``base`` (a registered name or a Predictor to clone, built with
    ``base_params`` and the trial's parameters) on ``cv - 1`` folds of ``X`` and scores ``metric``
    (kendall_tau, spearman or pearson) on the held-out fold; the best parameters are refitted on all of ``X``.
    With fewer than ``2 * cv`` training cells tuning is skipped (logged) and ``base`` is fitted with
    ``base_params`` as given. ``seed`` seeds the folds, the sampler and the base predictor (when it has a
    ``seed`` parameter). Learned: ``best_params_``, ``cv_score_`` (NaN when not tuned), ``tuned_``,
    ``trials_`` (number, params and CV score of each trial) and ``model_``. In a PredictorStudy pass ``base``
    as a registered name: results records store parameters as JSON, which a Predictor instance is not.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((60, 4)); y = X[:, 0] + X[:, 1]
    >>> model = TunedPredictor(base="ridge", n_trials=5).fit(X, y)  # doctest: +SKIP
    >>> sorted(model.best_params_)  # doctest: +SKIP
    ['alpha']
    """

    needs = _Needs()

    def __init__(
        self,
        *,
        base: str | Predictor = "lgbm",
        space: ParamSpace | None = None,
        n_trials: int = 20,
        cv: int = 3,
        metric: str = "kendall_tau",
        seed: int = 0,
        base_params: dict[str, Any] | None = None,
    ) -> None:
        self.base = base
        self.space = space
        self.n_trials = n_trials
        self.cv = cv
        self.metric = metric
        self.seed = seed
        self.base_params = base_params

    # -- building the base predictor --

    def _accepted(self) -> set[str] | None:
        """Parameter names the base accepts (None: any, e.g. a factory taking ``**params``)."""
        if isinstance(self.base, Predictor):
            return set(self.base._param_names())
        from predictbench.predictors import PREDICTORS

        target = PREDICTORS.get(self.base)
        signature = inspect.signature(target)
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
            return None
        return {p.name for p in signature.parameters.values() if p.name != "self"}

    def _build(self, params: Mapping[str, Any]) -> Predictor:
        from predictbench.predictors import make_predictor

        merged = {**(self.base_params or {}), **params}
        if "seed" in merged:
            raise ValueError(f"{self!r}: the base seed comes from TunedPredictor(seed=...); remove it from params")
        if isinstance(self.base, Predictor):
            model = self.base.clone().set_params(**merged)
        elif isinstance(self.base, str):
            model = make_predictor(self.base, **merged)
        else:
            raise ValueError(f"base must be a registered predictor name or a Predictor, got {self.base!r}")
        if "seed" in model.get_params():
            model.set_params(seed=seed_int(self.seed))
        return model

    def _space(self) -> dict[str, ParamSpec]:
        if self.space is not None:
            space = dict(self.space)
        elif isinstance(self.base, str) and self.base in DEFAULT_SPACES:
            space = dict(DEFAULT_SPACES[self.base])
        else:
            raise ValueError(
                f"{self!r}: no default search space for base {self.base!r}; pass space=... "
                f"(defaults exist for {sorted(DEFAULT_SPACES)})"
            )
        if not space:
            raise ValueError(f"{self!r}: the search space is empty")
        accepted = self._accepted()
        for name, spec in space.items():
            _check_spec(name, spec)
            if accepted is not None and name not in accepted:
                raise ValueError(f"{self!r}: {self.base!r} has no parameter {name!r}; parameters: {sorted(accepted)}")
        return space

    # -- the Predictor contract --

    def fit(self, X: Any, y: np.ndarray) -> TunedPredictor:
        from predictbench.validation import check_int

        check_int("n_trials", self.n_trials, 1)
        check_int("cv", self.cv, 2)
        score = _metric_function(self.metric)
        space = self._space()
        n = len(X)
        target = check_target(y, n)
        if n < 2 * self.cv:
            log.info("%r: %d training cells < 2 * cv = %d: not tuning, fitting base defaults", self, n, 2 * self.cv)
            self.tuned_ = False
            self.trials_: list[dict[str, Any]] = []
            self.best_params_: dict[str, Any] = {}
            self.cv_score_ = float("nan")
            self.model_ = self._build({}).fit(X, target)
            return self

        import optuna

        order = np.random.default_rng(seed_int(self.seed)).permutation(n)
        folds = np.array_split(order, self.cv)

        def objective(trial: Any) -> float:
            params = {name: _suggest(trial, name, spec) for name, spec in space.items()}
            values = []
            for k, held_out in enumerate(folds):
                train = np.concatenate([f for j, f in enumerate(folds) if j != k])
                model = self._build(params).fit(_take(X, train), target[train])
                predicted = np.asarray(model.predict(_take(X, held_out)), dtype=float)
                values.append(score(target[held_out], predicted) if np.isfinite(predicted).all() else -1.0)
            return float(np.mean(values))

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            sampler = optuna.samplers.TPESampler(seed=seed_int(self.seed))
            study = optuna.create_study(direction="maximize", sampler=sampler)
            study.optimize(objective, n_trials=int(self.n_trials))
        finally:
            optuna.logging.set_verbosity(verbosity)
        self.trials_ = [{"number": t.number, "params": dict(t.params), "value": t.value} for t in study.trials]
        self.tuned_ = True
        self.best_params_ = dict(study.best_params)
        self.cv_score_ = float(study.best_value)
        log.info("%r: best %s CV %s = %.3f with %s", self, self.cv, self.metric, self.cv_score_, self.best_params_)
        self.model_ = self._build(self.best_params_).fit(X, target)
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.model_.predict(X), dtype=float)


__all__ = ["DEFAULT_SPACES", "ParamSpace", "TunedPredictor"]
