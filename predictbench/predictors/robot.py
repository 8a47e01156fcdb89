"""RoBoT's weighted ensemble of training-free proxies, as a predictor, plus the pieces its searcher shares.

RoBoT (He, Shu, Dai and Low, "Robustifying and Boosting Training-Free Neural Architecture Search", ICLR 2024)
scores a cell by ``sum_i w_i * z_i``: ``z_i`` is proxy ``i`` min-max normalised to [0, 1] over the cells
being ranked, ``w`` lies in [-1, 1]^k and is found by Bayesian optimisation. The searcher
(:mod:`predictbench.search.robot`) optimises ``w`` against the search metric of the top-scoring cell; the
predictor here optimises it against the ranking of its training targets.

Shared rules (one place):

- proxies are oriented by their declared direction (``Metric.higher_is_better``) before normalising, so a
  positive weight always means "more of what the store calls better";
- NASLib stores ``-1e8`` (:data:`FAILURE_SENTINEL`) where a proxy computation failed; such values and NaN
  count as missing, and a missing value adds nothing to the score (RoBoT's rule), i.e. it is normalised to 0,
  the worst value;
- ``normalise="minmax"`` is RoBoT's; ``"rank"`` maps a value to its mid-rank in the reference pool, which heavy
  tails cannot squash (on NB201 grasp, fisher, snip and grad_norm have outliers hundreds of times their 99th
  percentile, so min-max puts almost every cell near 0 for them).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, seed_int
from predictbench.predictors.zerocost import with_proxy_source

log = logging.getLogger(__name__)

#: RoBoT's default training-free metrics on NAS-Bench-201 (its ``--training_free_metrics``), with NASLib /
#: Suite-Zero names (RoBoT's ``jacob_cov`` is ``jacov``).
ROBOT_PROXIES: tuple[str, ...] = ("grad_norm", "snip", "grasp", "fisher", "synflow", "jacov")
#: NASLib's value for a failed proxy computation.
FAILURE_SENTINEL = -1e8
NORMALISATIONS: tuple[str, ...] = ("minmax", "rank")
SAMPLERS: tuple[str, ...] = ("auto", "gp", "tpe", "random")
OBJECTIVES: tuple[str, ...] = ("spearman", "kendall_tau")

ProxySpec = str | Sequence[str]


def resolve_robot_proxies(available: Sequence[str], spec: ProxySpec, source: str, who: str) -> list[str]:
    """Proxy names that ``spec`` stands for among the ``available`` proxies of ``source``.

    ``"robot"``: those of :data:`ROBOT_PROXIES` the source has (at least one); ``"all"``: every available
    proxy; a name or a sequence of names: exactly those. Errors name the source and what it has.
    """
    from predictbench.predictors.zerocost import select_proxies

    available = list(available)
    if not available:
        raise ValueError(f"{who} needs zero-cost proxies, but {source!r} has none")
    if spec == "robot":
        names = [p for p in ROBOT_PROXIES if p in available]
        if not names:
            raise ValueError(
                f"{who}: {source!r} has none of RoBoT's proxies {list(ROBOT_PROXIES)} (it has {available}); "
                "pass proxies=[...] naming some of its proxies, or proxies from another store of the same space"
            )
        missing = [p for p in ROBOT_PROXIES if p not in available]
        if missing:
            log.info("%s: %r lacks RoBoT's proxies %s; using %s", who, source, missing, names)
        return names
    return select_proxies(available, spec, source, who, "'robot', 'all', a proxy name or a non-empty sequence")


def oriented(values: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Proxy values times their declared direction, with failures (:data:`FAILURE_SENTINEL`) as NaN."""
    values = np.asarray(values, dtype=float)
    return np.where(values <= FAILURE_SENTINEL, np.nan, values) * signs


class ProxyNormaliser:
    """Per-proxy map to [0, 1] fitted on a reference pool: min-max (RoBoT) or mid-rank; missing values -> 0.

    Examples
    --------
    >>> import numpy as np
    >>> norm = ProxyNormaliser("minmax").fit(np.array([[0.0], [2.0], [4.0]]))
    >>> norm.transform(np.array([[1.0], [np.nan]]))[:, 0].tolist()
    [0.25, 0.0]
    """

    def __init__(self, kind: str = "minmax") -> None:
        if kind not in NORMALISATIONS:
            raise ValueError(f"normalise must be one of {NORMALISATIONS}, got {kind!r}")
        self.kind = kind
        self.low_ = np.zeros(0)
        self.span_ = np.ones(0)
        self.sorted_: list[np.ndarray] = []

    def fit(self, values: np.ndarray) -> ProxyNormaliser:
        values = np.asarray(values, dtype=float)
        finite = np.isfinite(values)
        has_any = finite.any(axis=0)
        low = np.min(np.where(finite, values, np.inf), axis=0)
        high = np.max(np.where(finite, values, -np.inf), axis=0)
        self.low_ = np.where(has_any, low, 0.0)
        span = np.where(has_any, high - low, 1.0)
        self.span_ = np.where(span > 0, span, 1.0)  # a constant proxy normalises to 0 and cannot rank
        self.sorted_ = [np.sort(values[finite[:, j], j]) for j in range(values.shape[1])]
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(self.low_):
            raise ValueError(f"expected an (n, {len(self.low_)}) proxy matrix, got shape {values.shape}")
        if self.kind == "minmax":
            out = (values - self.low_) / self.span_
        else:
            out = np.full(values.shape, np.nan)
            for j, reference in enumerate(self.sorted_):
                column = values[:, j]
                finite = np.isfinite(column)
                if reference.size:
                    below = np.searchsorted(reference, column[finite], side="left")
                    upto = np.searchsorted(reference, column[finite], side="right")
                    out[finite, j] = (below + upto) / (2.0 * reference.size)
        return np.where(np.isfinite(out), out, 0.0)


def make_sampler(kind: str, seed: int, n_startup_trials: int) -> Any:
    """An Optuna sampler for the weights: ``"gp"``, ``"tpe"``, ``"random"`` or ``"auto"`` (GP when the
    installed Optuna has ``GPSampler``, else TPE), seeded with ``seed``."""
    import optuna

    if kind not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {kind!r}")
    has_gp = hasattr(optuna.samplers, "GPSampler")
    if kind == "gp" and not has_gp:
        raise ValueError(f"sampler='gp' needs optuna >= 3.6 (GPSampler); installed: {optuna.__version__}")
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "tpe" or not has_gp:
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deterministic_objective is flagged experimental
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials, deterministic_objective=True)


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's own INFO/WARNING logging (one line per trial, GP optimiser notes) off, then restored."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def weight_names(k: int) -> list[str]:
    """Optuna parameter names of the weights (by position: proxy names may not be valid identifiers)."""
    return [f"w{i}" for i in range(k)]


def _check_int(who: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{who}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _require_proxy_batch(X: Any, who: str) -> None:
    if not (hasattr(X, "proxies") and hasattr(X, "benchmark") and hasattr(X, "keys")):
        raise TypeError(
            f"{who} reads zero-cost proxies from an ArchBatch (benchmark.batch(keys)); got a plain {type(X).__name__}"
        )


class RoBoTPredictor(Predictor):
    """RoBoT's weighted proxy score as a predictor: weights in [-1, 1]^k fitted to the training ranking.

    ``fit`` normalises each proxy over the whole benchmark of the batch (training-free values, no target of any
    cell; ``normalise``: RoBoT's "minmax" or "rank"), then lets an Optuna sampler (``sampler``: "tpe" by
    default; "gp", "random", "auto") propose ``n_trials`` weight vectors, the first being all ones (the plain
    sum of the oriented proxies), and keeps the one whose score has the highest ``objective`` ("spearman" or
    "kendall_tau") with the training targets. ``predict`` is ``Z @ weights_``: row-wise, higher is better.
    With fewer than 3 training cells or a constant target the weights stay all ones. Learned:
    ``proxy_names_``, ``weights_`` (one per proxy), ``train_score_`` (the objective reached), ``normaliser_``.

    Parameters
    ----------
    proxies : "robot" (RoBoT's six proxies, those the benchmark has), "all", a name or a sequence of names.
    proxy_source : name of another converted store of the same search space whose proxies (and their pool and
        declared directions) are read instead of the batch's benchmark, e.g. "nb201/cifar10" for
        "nb201-analog/cifar10" (no proxies) or "nb201/cifar100" (zen only); None: the batch's own.
    n_trials : weight vectors tried.
    sampler : Optuna sampler ("tpe", "gp", "random", or "auto": GP when available).
    objective : rank correlation maximised on the training cells.
    normalise : "minmax" (RoBoT) or "rank".
    seed : seeds the sampler.

    Examples
    --------
    >>> import predictbench as pb
    >>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()  # doctest: +SKIP
    >>> model = RoBoTPredictor().fit(bench.batch(keys[:50]), bench.lookup(keys[:50], "test_acc"))  # doctest: +SKIP
    >>> dict(zip(model.proxy_names_, model.weights_.round(2)))  # doctest: +SKIP
    """

    needs: ClassVar[frozenset[str]] = frozenset({"proxies"})

    def __init__(
        self,
        *,
        proxies: ProxySpec = "robot",
        proxy_source: str | None = None,
        n_trials: int = 100,
        sampler: str = "tpe",
        objective: str = "spearman",
        normalise: str = "minmax",
        seed: int = 0,
    ) -> None:
        self.proxies = proxies
        self.proxy_source = proxy_source
        self.n_trials = n_trials
        self.sampler = sampler
        self.objective = objective
        self.normalise = normalise
        self.seed = seed

    def _signs(self, X: Any, names: list[str]) -> np.ndarray:
        metrics = X.benchmark.metrics
        return np.array([metrics[n].sign if n in metrics else 1.0 for n in names], dtype=float)

    def fit(self, X: Any, y: np.ndarray) -> RoBoTPredictor:
        from predictbench.studies.metrics import kendall_tau, spearman_rho

        who = repr(self)
        _require_proxy_batch(X, who)
        n_trials = _check_int(who, "n_trials", self.n_trials, 1)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"{who}: objective must be one of {OBJECTIVES}, got {self.objective!r}")
        target = check_target(y, len(X))
        X = with_proxy_source(X, self.proxy_source, who)
        bench = X.benchmark
        names = resolve_robot_proxies(bench.proxy_names, self.proxies, bench.name, who)
        signs = self._signs(X, names)
        normaliser = ProxyNormaliser(self.normalise).fit(oriented(bench.proxies(bench.keys(), names), signs))
        Z = normaliser.transform(oriented(X.proxies(names), signs))
        correlation = spearman_rho if self.objective == "spearman" else kendall_tau
        weights = np.ones(len(names))
        score = correlation(target, Z @ weights) if len(target) >= 2 else 0.0
        if len(target) >= 3 and np.ptp(target) > 0:
            weights, score = self._optimise(Z, target, correlation, n_trials)
        else:
            log.info("%s: %d training cells or a constant target: keeping equal weights", who, len(target))
        self.proxy_names_ = names
        self.signs_ = signs
        self.normaliser_ = normaliser
        self.weights_ = weights
        self.train_score_ = float(score)
        return self

    def _optimise(self, Z: np.ndarray, target: np.ndarray, correlation: Any, n_trials: int) -> tuple[np.ndarray, float]:
        import optuna

        params = weight_names(Z.shape[1])
        with quiet_optuna():
            study = optuna.create_study(
                direction="maximize", sampler=make_sampler(self.sampler, seed_int(self.seed), min(10, n_trials))
            )
            study.enqueue_trial(dict.fromkeys(params, 1.0))

            def objective(trial: Any) -> float:
                w = np.array([trial.suggest_float(p, -1.0, 1.0) for p in params])
                return float(correlation(target, Z @ w))

            study.optimize(objective, n_trials=n_trials)
        best = study.best_trial
        return np.array([best.params[p] for p in params]), float(study.best_value)

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        _require_proxy_batch(X, repr(self))
        X = with_proxy_source(X, self.proxy_source, repr(self))
        Z = self.normaliser_.transform(oriented(X.proxies(self.proxy_names_), self.signs_))
        return np.asarray(Z @ self.weights_, dtype=float)


__all__ = [
    "FAILURE_SENTINEL",
    "ROBOT_PROXIES",
    "ProxyNormaliser",
    "RoBoTPredictor",
    "make_sampler",
    "oriented",
    "quiet_optuna",
    "resolve_robot_proxies",
]
