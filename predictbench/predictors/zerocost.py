"""Zero-cost (training-free) proxies as predictors: one proxy, rank ensembles, learned ensembles, omni models.

Every predictor here reads the proxies of an :class:`~predictbench.benchmarks.ArchBatch`
(``X.proxies(names)``, with cells lacking values filled from their dead-op-free form) and keeps the Predictor
contract of :mod:`predictbench.predictors.base`: scores where higher is better, only their order matters, and
the score of a cell never depends on the rest of the batch.

Proxy directions come from the store's metric declarations (``X.benchmark.metrics[name].higher_is_better``);
nothing here takes ``abs()`` of a correlation. Only :class:`ProxyPredictor` with ``sign="learn"`` picks a
direction from the training target, and only when asked to.

Rank normalisation (``transform="rank"``) maps a proxy value to its mid-rank in a *reference* distribution
fixed at fit time, so a score is defined cell by cell:

- ``reference="benchmark"`` (default): the proxy values of every cell of the batch's benchmark. Proxies are
  training-free, so this uses no target value of any cell; it is the unlabelled candidate pool a zero-cost
  study scores anyway, and it gives a fine-grained scale even for 5 training cells;
- ``reference="train"``: the training cells only (the strictly inductive choice).

Every predictor here takes ``proxy_source``: the name of another converted store of the same search space to read
the proxies from (:func:`with_proxy_source`), for stores without (all) proxies such as ``nb201-analog/cifar10``
or ``nb201/cifar100``; report such results as "with <source> proxies".

Missing proxy values (NaN after filling) rank as the worst value (rank 0): on NB201 they mark cells whose
proxy computation failed, as NASLib's -1e8 failure sentinels do.

Measured with PredictorStudy on nb201/cifar10 (test_acc@200, 200 test cells, mean Kendall tau over seeds
0-4; settings were chosen on seeds 100-104) at n = 14 / 42 / 121 / 347 / 1000 training cells: rank ensemble
0.697 at every n; learned ridge ensemble .685/.720/.739/.745/.748; omni_lgbm .694/.727/.792/.842/.874, against
.395/.698/.793/.833/.864 for LGBMPredictor(proxies="all") and NASLib's best zero-cost-feature predictor
.66/.73/.78/.81/.84. The rank target and the zero-cost prior are what make omni_lgbm strong at n <= 42.
The registered ``omni`` predictor (:mod:`predictbench.predictors.omni`) builds on them with canonical structure
features, class-averaged proxy ranks and a Gaussian-process member.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, features_of, seed_int

log = logging.getLogger(__name__)

ProxySpec = str | Sequence[str]

#: The default rank ensemble: the three proxies NAS-Bench-Suite-Zero and NASLib report as the most reliable
#: single proxies on NB201 (Jacobian covariance, NASWOT and SynFlow; Abdelfattah et al. 2021 vote over
#: SynFlow, Jacobian covariance and SNIP).
DEFAULT_ENSEMBLE: tuple[str, ...] = ("jacov", "nwot", "synflow")

#: LightGBM settings of :func:`omni_lgbm` (others are LGBMPredictor's defaults). Chosen on nb201/cifar10 with
#: splits of seeds 100-104, disjoint from the seeds 0-4 the measurement reports.
OMNI_LGBM_DEFAULTS: dict[str, Any] = {
    "n_estimators": 500,
    "learning_rate": 0.02,
    "feature_fraction": 0.6,
    "min_child_samples": 2,
}

_TRANSFORMS = ("rank", "standard", "none")
_TARGETS = ("rank", "raw")
_REFERENCES = ("benchmark", "train")
_AGGREGATES = ("mean", "log")
MIN_ALL_COVERAGE = 0.5
"""``proxies="all"`` takes the proxy columns with values for at least this share of the benchmark's cells."""


# ---- helpers --------------------------------------------------------------------------------------------


def _require_batch(X: Any, who: str) -> Any:
    """``X`` if it is an ArchBatch with proxies; otherwise a TypeError saying what to pass."""
    if not (hasattr(X, "proxies") and hasattr(X, "benchmark") and hasattr(X, "keys")):
        raise TypeError(
            f"{who} reads zero-cost proxies from an ArchBatch (benchmark.batch(keys)); got a plain {type(X).__name__}"
        )
    return X


@functools.lru_cache(maxsize=4)
def _load_source(name: str, root: str) -> Any:
    from predictbench.benchmarks import load

    return load(name, root=root)


def with_proxy_source(X: Any, source: str | None, who: str) -> Any:
    """``X`` itself, or the same cells as a batch of the converted store ``source`` (read for its proxies).

    Zero-cost proxies are computed at initialisation, without training, so another store of the same search
    space can supply them (e.g. ``"nb201/cifar10"`` for ``nb201-analog/cifar10``, whose store has none). The
    store is loaded once per process and data root. Raises ValueError for a store of another space and
    OutOfSpaceError for a cell the store lacks.
    """
    if source is None:
        return X
    if not isinstance(source, str):
        raise ValueError(f"{who}: proxy_source must be the name of a converted store (e.g. 'nb201/cifar10') or None")
    from predictbench.paths import data_root

    bench = _load_source(source, str(data_root()))
    if bench.space.name != X.benchmark.space.name:
        raise ValueError(
            f"{who}: proxy_source {source!r} is a {bench.space.name!r} store, but the cells are "
            f"{X.benchmark.space.name!r} cells of {X.benchmark.name!r}"
        )
    return bench.batch(X.keys)


def check_proxy_source(proxies: object, source: str | None, who: str) -> None:
    """A ValueError when ``source`` is set for a predictor configured without proxies (``proxies=None``)."""
    if proxies is None and source is not None:
        raise ValueError(
            f"{who}: proxy_source={source!r} reads proxies, but proxies=None; "
            "pass proxies='all' (or proxy names), or leave proxy_source unset"
        )


def proxy_hint(bench: Any) -> str:
    """Where proxies for the cells of ``bench`` (a store without them) can come from, as advice to show.

    Names the converted store of the same search space with the most proxies in the data root (where
    ``proxy_source`` looks; only ``meta.json`` files are read), preferring one of the same task; else the
    command that computes proxies for ``bench``; else says that none can be computed for its space.
    """
    from predictbench.benchmarks.catalog import converted_stores
    from predictbench.benchmarks.store import read_meta
    from predictbench.paths import data_root
    from predictbench.proxies.compute import SUPPORTED_SPACES
    from predictbench.types import DataFormatError

    space, root, own = bench.meta.space, data_root(), Path(bench.path).resolve()
    candidates = []
    for name, folder in converted_stores(root).items():
        try:
            meta = read_meta(folder)
        except DataFormatError:  # a broken store is reported where it is loaded, not here
            continue
        if folder.resolve() != own and meta.space == space and "proxies.parquet" in meta.tables:
            n_proxies = sum(metric.kind == "proxy" for metric in meta.metrics.values())
            candidates.append((meta.task == bench.meta.task, n_proxies, name))
    if candidates:
        name = max(candidates)[2]
        return f"pass proxy_source={name!r} to read the proxies of that converted {space} store"
    if space in SUPPORTED_SPACES:
        bench_root = own.parent.parent
        where = "" if bench_root == Path(root).resolve() else f" --root {bench_root}"
        return f"compute them with `predictbench proxies compute {bench.name}{where}` (resumable)"
    return (
        f"no zero-cost proxies exist for {space} cells (`predictbench proxies compute` supports "
        f"{', '.join(SUPPORTED_SPACES)})"
    )


def resolve_proxies(X: Any, spec: ProxySpec, who: str) -> list[str]:
    """Proxy names ``spec`` stands for in the benchmark of batch ``X`` ("all", a name or a sequence of names).

    Raises ValueError for a malformed spec or a benchmark without proxies, and UnknownNameError (with close
    matches) for a name the benchmark lacks.
    """
    bench = X.benchmark
    available = list(bench.proxy_names)
    if not available:
        raise ValueError(f"{who}: benchmark {bench.name!r} has no proxies table; {proxy_hint(bench)}")
    if isinstance(spec, str) and spec == "all":
        available = _covering(bench, available, who)
    return select_proxies(available, spec, bench.name, who, "'all', a proxy name or a non-empty sequence of names")


def _covering(bench: Any, names: list[str], who: str) -> list[str]:
    """The columns ``"all"`` stands for: those with values for at least :data:`MIN_ALL_COVERAGE` of the cells,
    and of the columns ``proxies compute`` wrote (or a shipped table filled), only those it finished for every cell.

    A proxy table still being computed, or computed for a sample (e.g. a shipped table that covers the classes
    of a 2,000-cell sample), would otherwise enter every predictor as a feature missing for the cells it has
    not reached, which are not missing at random (the classes of a cell sample are mostly the large ones); name
    such columns explicitly to use them anyway.
    """
    coverage = bench.proxy_coverage() if hasattr(bench, "proxy_coverage") else {}
    unfinished = _unfinished_columns(bench, names)
    sparse = [name for name in names if name in unfinished or coverage.get(name, 1.0) < MIN_ALL_COVERAGE]
    if sparse and len(sparse) < len(names):
        log.info(
            "%s: proxies='all' leaves out %s (values for < %.0f%% of the cells, or a computation not finished for "
            "every cell)",
            who,
            sparse,
            100 * MIN_ALL_COVERAGE,
        )
        return [name for name in names if name not in sparse]
    return names


def _computed_columns(bench: Any) -> dict[str, str]:
    """Proxy columns the store records as written by ``predictbench proxies compute`` (or a shipped table), each
    with the id of the settings it was computed with."""
    from predictbench.proxies.compute import PROVENANCE_KEY

    meta = getattr(bench, "meta", None)
    section = getattr(meta, "provenance", {}).get(PROVENANCE_KEY, {}) if meta is not None else {}
    columns = section.get("columns", {}) if isinstance(section, dict) else {}
    return {str(name): str(run) for name, run in columns.items()} if isinstance(columns, dict) else {}


def _unfinished_columns(bench: Any, names: Sequence[str]) -> set[str]:
    """Computed columns among ``names`` whose computation has not reached every cell: a cell is reached when any
    column computed with the same settings holds a value for it (a proxy can be undefined for some cells, e.g.
    jacob_cov of a cell whose output does not depend on its input)."""
    runs: dict[str, list[str]] = {}
    for name, run in _computed_columns(bench).items():
        if name in names:
            runs.setdefault(run, []).append(name)
    unfinished: set[str] = set()
    for columns in runs.values():
        values = np.asarray(bench.proxies(bench.keys(), columns, fill=False), dtype=float)
        if not (~np.isnan(values)).any(axis=1).all():
            unfinished.update(columns)
    return unfinished


def select_proxies(available: Sequence[str], spec: ProxySpec, source: str, who: str, expected: str) -> list[str]:
    """The names ``spec`` ("all", a name or a sequence of names) picks among the ``available`` proxies of ``source``.

    ``expected`` describes the accepted specs in the error for a malformed one.
    """
    from predictbench.registry import unknown_name

    if isinstance(spec, str):
        names = list(available) if spec == "all" else [spec]
    elif isinstance(spec, Sequence) and spec and all(isinstance(p, str) for p in spec):
        names = list(spec)
    else:
        raise ValueError(f"{who}: proxies must be {expected}, got {spec!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{who}: duplicate proxy names in {names}")
    for name in names:
        if name not in available:
            raise unknown_name(f"proxy of {source}", name, list(available))
    return names


def declared_signs(X: Any, names: Sequence[str]) -> np.ndarray:
    """+1 / -1 per proxy from the store's declaration (``higher_is_better``); +1 for an undeclared column."""
    metrics = X.benchmark.metrics
    return np.array([metrics[n].sign if n in metrics else 1.0 for n in names], dtype=float)


def prior_proxies(owner: Any, prior_mean: ProxySpec | None, names: Sequence[str]) -> list[str]:
    """The proxies of ``prior_mean`` among ``names``, in ``prior_mean``'s order.

    Empty when ``prior_mean`` is None or names none of them; the latter is logged, since a prior that was asked
    to shrink toward a rank ensemble then shrinks toward zero.
    """
    if prior_mean is None:
        return []
    wanted = [prior_mean] if isinstance(prior_mean, str) else list(prior_mean)
    chosen = [name for name in wanted if name in names]
    if not chosen:
        log.info("%r: none of prior_mean %s among the proxies; shrinking toward zero", owner, wanted)
    return chosen


def rank_target(y: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``y`` scaled to (-0.5, 0.5) (ties averaged): a target whose squared loss weighs every
    pair of cells alike, instead of letting a long tail of poor cells dominate."""
    from scipy.stats import rankdata

    return np.asarray((rankdata(y) - 0.5) / len(y) - 0.5, dtype=float)


class ProxyScaler:
    """Per-proxy normalisation fitted on a reference sample: mid-rank ("rank"), z-score ("standard") or none.

    ``transform`` keeps NaN where a value is missing; :meth:`filled` replaces them (rank: 0, the worst;
    standard: 0, the reference mean).

    Examples
    --------
    >>> import numpy as np
    >>> scaler = ProxyScaler("rank").fit(np.array([[1.0], [2.0], [3.0], [4.0]]))
    >>> scaler.transform(np.array([[2.0], [0.0], [np.nan]]))[:, 0].tolist()
    [0.375, 0.0, nan]
    """

    def __init__(self, kind: str = "rank") -> None:
        if kind not in _TRANSFORMS:
            raise ValueError(f"transform must be one of {_TRANSFORMS}, got {kind!r}")
        self.kind = kind
        self.sorted_: list[np.ndarray] = []
        self.mean_ = np.zeros(0)
        self.scale_ = np.ones(0)

    def fit(self, values: np.ndarray) -> ProxyScaler:
        values = np.asarray(values, dtype=float)
        columns = [values[:, j][np.isfinite(values[:, j])] for j in range(values.shape[1])]
        self.sorted_ = [np.sort(c) for c in columns]
        self.mean_ = np.array([c.mean() if c.size else 0.0 for c in columns])
        scale = np.array([c.std() if c.size else 1.0 for c in columns])
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if values.shape[1] != len(self.sorted_):
            raise ValueError(f"expected {len(self.sorted_)} proxy columns, got {values.shape[1]}")
        if self.kind == "none":
            return values.copy()
        if self.kind == "standard":
            return (values - self.mean_) / self.scale_
        out = np.full(values.shape, np.nan)
        for j, ref in enumerate(self.sorted_):
            column = values[:, j]
            finite = np.isfinite(column)
            if ref.size == 0:
                continue
            below = np.searchsorted(ref, column[finite], side="left")
            upto = np.searchsorted(ref, column[finite], side="right")
            out[finite, j] = (below + upto) / (2.0 * ref.size)
        return out

    def filled(self, values: np.ndarray) -> np.ndarray:
        out = self.transform(values)
        return np.where(np.isnan(out), 0.0, out)


def _reference_values(X: Any, names: list[str], reference: str, who: str) -> np.ndarray:
    if reference not in _REFERENCES:
        raise ValueError(f"{who}: reference must be one of {_REFERENCES}, got {reference!r}")
    if reference == "train":
        return np.asarray(X.proxies(names), dtype=float)
    bench = X.benchmark
    return np.asarray(bench.proxies(bench.keys(), names), dtype=float)


def _check_choice(who: str, name: str, value: Any, choices: tuple[Any, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{who}: {name} must be one of {choices}, got {value!r}")


def _check_alpha(who: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{who}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


class _Ridge:
    """Closed-form ridge regression with the penalty ``alpha * |w - w0|^2`` on the MEAN squared error.

    The penalty per sample keeps one ``alpha`` meaningful from 5 to 5,000 training cells. Without
    ``direction`` the weights shrink toward ``w0 = 0``; with it toward ``w0 = c * direction``, where ``c >= 0``
    is the least-squares scale of that fixed combination (e.g. a zero-cost rank ensemble), so a small training
    set reproduces the ensemble and a large one learns its own weights.
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.x_mean_ = np.zeros(0)
        self.coef_ = np.zeros(0)
        self.intercept_ = 0.0

    def fit(self, Z: np.ndarray, t: np.ndarray, direction: np.ndarray | None = None) -> _Ridge:
        n = len(t)
        self.x_mean_ = Z.mean(axis=0)
        centred = Z - self.x_mean_
        self.intercept_ = float(t.mean())
        residual = t - self.intercept_
        mean = np.zeros(Z.shape[1])
        if direction is not None:
            combined = centred @ direction
            norm = float(combined @ combined)
            mean = max(float(combined @ residual) / norm, 0.0) * direction if norm > 0 else mean
        if self.alpha > 0 and Z.shape[1] > n:  # wide inputs (e.g. GRAF): the same solution from an n x n system
            kernel = centred @ centred.T + n * self.alpha * np.eye(n)
            self.coef_ = mean + centred.T @ np.linalg.solve(kernel, residual - centred @ mean)
            return self
        gram = centred.T @ centred / n + self.alpha * np.eye(Z.shape[1])
        self.coef_ = np.linalg.lstsq(gram, centred.T @ residual / n + self.alpha * mean, rcond=None)[0]
        return self

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray((Z - self.x_mean_) @ self.coef_ + self.intercept_, dtype=float)


def _make_base(who: str, base: str | Predictor, params: dict[str, Any] | None, seed: int) -> Predictor:
    """An unfitted feature predictor from a registered name (or a Predictor to clone) with ``params``.

    ``seed`` is passed when the predictor has a ``seed`` parameter, so the owner's seed (set per cell by
    studies) reaches it.
    """
    from predictbench.predictors import make_predictor

    params = dict(params or {})
    if "seed" in params:
        raise ValueError(f"{who}: pass the seed as the predictor's own seed parameter, not in its parameter dict")
    model = base.clone().set_params(**params) if isinstance(base, Predictor) else make_predictor(base, **params)
    if "seed" in model.get_params():
        model.set_params(seed=seed)
    if set(model.needs) - {"features"}:
        raise ValueError(f"{who}: base {base!r} must read features only, it needs {sorted(model.needs)}")
    return model


# ---- predictors -----------------------------------------------------------------------------------------


class ProxyPredictor(Predictor):
    """One zero-cost proxy as a (stateless) predictor.

    ``predict`` returns the proxy value times its direction: the store's declaration by default, or
    ``sign=+1`` / ``sign=-1`` to override it. ``sign="learn"`` (explicit opt-in) picks the sign of the
    Spearman correlation between the proxy and the target on the TRAINING cells (ties or too few finite
    values keep the declared direction); learning the sign this way uses labels, so report it as a one-
    parameter learned model, not as a training-free proxy.

    ``fit`` learns nothing else: it checks that the proxy exists and records the sign and a floor score for
    cells without a value (they rank below every cell of the benchmark).

    Examples
    --------
    >>> import predictbench as pb
    >>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()  # doctest: +SKIP
    >>> train = bench.batch(keys[:10])  # doctest: +SKIP
    >>> model = ProxyPredictor(proxy="synflow").fit(train, bench.lookup(train.keys, "test_acc"))  # doctest: +SKIP
    >>> model.predict(bench.batch(keys[10:20])).shape  # doctest: +SKIP
    (10,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"proxies"})

    def __init__(
        self, *, proxy: str = "jacov", sign: float | int | str | None = None, proxy_source: str | None = None
    ) -> None:
        self.proxy = proxy
        self.sign = sign
        self.proxy_source = proxy_source

    def fit(self, X: Any, y: np.ndarray) -> ProxyPredictor:
        who = repr(self)
        X = with_proxy_source(_require_batch(X, who), self.proxy_source, who)
        if not isinstance(self.proxy, str):
            raise ValueError(f"{who}: proxy must be one proxy name, got {self.proxy!r}")
        names = resolve_proxies(X, self.proxy, who)
        target = check_target(y, len(X))
        declared = float(declared_signs(X, names)[0])
        spearman: float | None = None
        if self.sign is None:
            sign = declared
        elif self.sign == "learn":
            from scipy.stats import spearmanr

            values = np.asarray(X.proxies(names), dtype=float)[:, 0]
            finite = np.isfinite(values)
            sign = declared
            if finite.sum() >= 2 and np.ptp(values[finite]) > 0 and np.ptp(target[finite]) > 0:
                spearman = float(spearmanr(values[finite], target[finite]).statistic)
                if spearman != 0:
                    sign = 1.0 if spearman > 0 else -1.0
            if spearman is None or spearman == 0:
                log.info("%s: no Spearman sign on %d training cells; keeping the declared sign", who, len(target))
        elif not isinstance(self.sign, (bool, str)) and self.sign in (1, -1):
            sign = float(self.sign)
        else:
            raise ValueError(f"{who}: sign must be None, +1, -1 or 'learn', got {self.sign!r}")
        bench = X.benchmark
        pool = sign * np.asarray(bench.proxies(bench.keys(), names), dtype=float)[:, 0]
        finite = pool[np.isfinite(pool)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        self.sign_ = sign
        self.declared_sign_ = declared
        self.train_spearman_ = spearman
        self.floor_ = lo - (hi - lo) - 1.0
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = with_proxy_source(_require_batch(X, repr(self)), self.proxy_source, repr(self))
        values = self.sign_ * np.asarray(X.proxies([self.proxy]), dtype=float)[:, 0]
        return np.where(np.isfinite(values), values, self.floor_)


class RankEnsemblePredictor(Predictor):
    """Average (optionally weighted) of per-proxy ranks: a training-free ensemble of zero-cost proxies.

    Each proxy is turned into its mid-rank in (0, 1] within the reference distribution (ties averaged;
    ``reference="benchmark"``: all cells of the benchmark, ``"train"``: the training cells), oriented by its
    declared direction; the score is the weighted mean over the proxies a cell has values for (NaN-robust):
    of the ranks (``aggregate="mean"``), or of their logarithms (``aggregate="log"``, AZ-NAS's non-linear
    aggregation: one poor rank pulls a cell down more than a good one lifts it; ranks are floored at half a
    reference step). A cell with no value for any proxy scores below every other cell. No target value is used.

    Examples
    --------
    >>> import predictbench as pb
    >>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
    >>> batch = bench.batch(bench.keys()[:100])  # doctest: +SKIP
    >>> model = RankEnsemblePredictor().fit(batch, bench.lookup(batch.keys, "test_acc"))  # doctest: +SKIP
    >>> model.predict(batch).shape  # doctest: +SKIP
    (100,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"proxies"})

    def __init__(
        self,
        *,
        proxies: ProxySpec = DEFAULT_ENSEMBLE,
        weights: Sequence[float] | None = None,
        reference: str = "benchmark",
        proxy_source: str | None = None,
        aggregate: str = "mean",
    ) -> None:
        self.proxies = proxies
        self.weights = weights
        self.reference = reference
        self.proxy_source = proxy_source
        self.aggregate = aggregate

    def _proxy_names(self, X: Any, who: str) -> list[str]:
        return resolve_proxies(X, self.proxies, who)

    def fit(self, X: Any, y: np.ndarray) -> RankEnsemblePredictor:
        who = repr(self)
        _check_choice(who, "aggregate", self.aggregate, _AGGREGATES)
        X = with_proxy_source(_require_batch(X, who), self.proxy_source, who)
        check_target(y, len(X))
        names = self._proxy_names(X, who)
        if self.weights is None:
            weights = np.ones(len(names))
        else:
            weights = np.asarray(self.weights, dtype=float)
            if weights.shape != (len(names),) or not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError(f"{who}: weights must be {len(names)} finite numbers >= 0, got {self.weights!r}")
            if weights.sum() <= 0:
                raise ValueError(f"{who}: weights must not all be zero")
        self.proxy_names_ = names
        self.signs_ = declared_signs(X, names)
        self.weights_ = weights
        self.scaler_ = ProxyScaler("rank").fit(self.signs_ * _reference_values(X, names, self.reference, who))
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = with_proxy_source(_require_batch(X, repr(self)), self.proxy_source, repr(self))
        ranks = self.scaler_.transform(self.signs_ * np.asarray(X.proxies(self.proxy_names_), dtype=float))
        present = np.isfinite(ranks)
        floor = 0.0
        if self.aggregate == "log":
            step = 0.5 / max(1, *(len(ref) for ref in self.scaler_.sorted_))
            ranks = np.log(np.maximum(ranks, step))
            floor = float(np.log(step)) - 1.0
        total = (np.where(present, ranks, 0.0) * self.weights_).sum(axis=1)
        weight = (present * self.weights_).sum(axis=1)
        return np.divide(total, weight, out=np.full(len(ranks), floor), where=weight > 0)


class LearnedEnsemblePredictor(Predictor):
    """A combination of zero-cost proxies learned on the training cells.

    Proxies are normalised (``transform``: "rank" = mid-rank in the reference distribution, "standard" =
    z-score in it; missing values filled with the worst rank / the mean), the target is rank-transformed
    (``target="rank"``) or used as is (``"raw"``), and ``model`` is fitted on them: ``"ridge"`` (closed form,
    penalty ``alpha`` per sample) or any registered feature predictor (e.g. ``"lgbm"``), built with
    ``model_params``.

    Examples
    --------
    >>> import predictbench as pb
    >>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()  # doctest: +SKIP
    >>> train = bench.batch(keys[:50])  # doctest: +SKIP
    >>> model = LearnedEnsemblePredictor().fit(train, bench.lookup(train.keys, "test_acc"))  # doctest: +SKIP
    >>> model.predict(bench.batch(keys[50:60])).shape  # doctest: +SKIP
    (10,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"proxies"})

    def __init__(
        self,
        *,
        proxies: ProxySpec = "all",
        model: str = "ridge",
        transform: str = "rank",
        target: str = "rank",
        alpha: float = 0.01,
        model_params: dict[str, Any] | None = None,
        reference: str = "benchmark",
        seed: int = 0,
        proxy_source: str | None = None,
    ) -> None:
        self.proxies = proxies
        self.model = model
        self.transform = transform
        self.target = target
        self.alpha = alpha
        self.model_params = model_params
        self.reference = reference
        self.seed = seed
        self.proxy_source = proxy_source

    def fit(self, X: Any, y: np.ndarray) -> LearnedEnsemblePredictor:
        who = repr(self)
        X = with_proxy_source(_require_batch(X, who), self.proxy_source, who)
        _check_choice(who, "transform", self.transform, ("rank", "standard"))
        _check_choice(who, "target", self.target, _TARGETS)
        target = check_target(y, len(X))
        names = resolve_proxies(X, self.proxies, who)
        scaler = ProxyScaler(self.transform).fit(_reference_values(X, names, self.reference, who))
        Z = scaler.filled(np.asarray(X.proxies(names), dtype=float))
        t = rank_target(target) if self.target == "rank" else target
        if self.model == "ridge":
            if self.model_params:
                raise ValueError(f"{who}: model='ridge' takes alpha, not model_params={self.model_params!r}")
            fitted: Any = _Ridge(_check_alpha(who, "alpha", self.alpha)).fit(Z, t)
        else:
            fitted = _make_base(who, self.model, self.model_params, seed_int(self.seed)).fit(Z, t)
        self.proxy_names_ = names
        self.scaler_ = scaler
        self.model_ = fitted
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = with_proxy_source(_require_batch(X, repr(self)), self.proxy_source, repr(self))
        Z = self.scaler_.filled(np.asarray(X.proxies(self.proxy_names_), dtype=float))
        return np.asarray(self.model_.predict(Z), dtype=float)


class OmniPredictor(Predictor):
    """An architecture encoding plus zero-cost proxies, fed to a feature predictor ("omni" predictor).

    Features are ``encoding`` (e.g. one-hot; None for proxies only) followed by the proxies normalised with
    ``transform`` ("rank", "standard" or "none"). The target is rank-transformed (``target="rank"``) or used
    as is. With ``prior_alpha`` set, a ridge regression on the normalised proxies (penalty ``prior_alpha``
    per sample) is fitted first and ``base`` learns its residuals; the score is their sum. The ridge weights
    shrink toward the rank ensemble of ``prior_mean`` (those of its proxies the benchmark has, each with its
    declared direction; toward zero when it has none of them, or with ``prior_mean=None``). At small
    training sizes this zero-cost prior carries the ranking and the trees add the interactions the encoding
    holds as data grows (for squared loss this is boosting from the prior's scores). ``base`` is a registered
    feature predictor (built with ``base_params``; ``seed`` is passed to it) or a Predictor to clone.

    Examples
    --------
    >>> import predictbench as pb
    >>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()  # doctest: +SKIP
    >>> model = OmniPredictor(base_params={"n_estimators": 50})
    >>> model.fit(bench.batch(keys[:100]), bench.lookup(keys[:100], "test_acc"))  # doctest: +SKIP
    >>> model.predict(bench.batch(keys[100:110])).shape  # doctest: +SKIP
    (10,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features", "proxies"})

    def __init__(
        self,
        *,
        base: str | Predictor = "lgbm",
        encoding: str | None = "onehot",
        proxies: ProxySpec = "all",
        transform: str = "rank",
        target: str = "rank",
        prior_alpha: float | None = 0.1,
        prior_mean: ProxySpec | None = DEFAULT_ENSEMBLE,
        base_params: dict[str, Any] | None = None,
        reference: str = "benchmark",
        seed: int = 0,
        proxy_source: str | None = None,
    ) -> None:
        self.base = base
        self.encoding = encoding
        self.proxies = proxies
        self.transform = transform
        self.target = target
        self.prior_alpha = prior_alpha
        self.prior_mean = prior_mean
        self.base_params = base_params
        self.reference = reference
        self.seed = seed
        self.proxy_source = proxy_source

    def _prior_direction(self, X: Any, names: list[str]) -> np.ndarray | None:
        chosen = prior_proxies(self, self.prior_mean, names)
        if not chosen:
            return None
        direction = np.zeros(len(names))
        for name, sign in zip(chosen, declared_signs(X, chosen), strict=True):
            direction[names.index(name)] = sign / len(chosen)
        return direction

    def _normalised(self, scaler: ProxyScaler, raw: np.ndarray) -> np.ndarray:
        # "none" keeps raw values and NaN (the base must handle missing values, as LightGBM does)
        return scaler.transform(raw) if self.transform == "none" else scaler.filled(raw)

    def _features(self, X: Any, Z: np.ndarray) -> np.ndarray:
        if self.encoding is None:
            return Z
        return np.hstack([features_of(X, self.encoding).astype(float), Z])

    def fit(self, X: Any, y: np.ndarray) -> OmniPredictor:
        who = repr(self)
        X = with_proxy_source(_require_batch(X, who), self.proxy_source, who)
        _check_choice(who, "transform", self.transform, _TRANSFORMS)
        _check_choice(who, "target", self.target, _TARGETS)
        target = check_target(y, len(X))
        names = resolve_proxies(X, self.proxies, who)
        reference = _reference_values(X, names, self.reference, who)
        raw = np.asarray(X.proxies(names), dtype=float)
        scaler = ProxyScaler(self.transform).fit(reference)
        t = rank_target(target) if self.target == "rank" else target
        prior: _Ridge | None = None
        prior_scaler: ProxyScaler | None = None
        if self.prior_alpha is not None:
            alpha = _check_alpha(who, "prior_alpha", self.prior_alpha)
            prior_scaler = scaler if self.transform != "none" else ProxyScaler("rank").fit(reference)
            Z = prior_scaler.filled(raw)
            prior = _Ridge(alpha).fit(Z, t, self._prior_direction(X, names))
            t = t - prior.predict(Z)
        model = _make_base(who, self.base, self.base_params, seed_int(self.seed))
        features = self._features(X, self._normalised(scaler, raw))
        self.base_ = model.fit(features, t)
        self.proxy_names_ = names
        self.scaler_ = scaler
        self.prior_ = prior
        self.prior_scaler_ = prior_scaler
        self.n_features_in_ = features.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = with_proxy_source(_require_batch(X, repr(self)), self.proxy_source, repr(self))
        raw = np.asarray(X.proxies(self.proxy_names_), dtype=float)
        Z = self._normalised(self.scaler_, raw)
        scores = np.asarray(self.base_.predict(self._features(X, Z)), dtype=float)
        if self.prior_ is not None and self.prior_scaler_ is not None:
            shared = self.prior_scaler_ is self.scaler_ and self.transform != "none"
            scores = scores + self.prior_.predict(Z if shared else self.prior_scaler_.filled(raw))
        return scores


_OMNI_PARAMS = frozenset(OmniPredictor._param_names())


def omni_lgbm(**params: Any) -> OmniPredictor:
    """LightGBM on one-hot features plus every zero-cost proxy, with the settings measured best here.

    An :class:`OmniPredictor` around :class:`~predictbench.predictors.gbdt.LGBMPredictor`: rank-normalised
    proxies, rank target, ridge zero-cost prior, and :data:`OMNI_LGBM_DEFAULTS` for LightGBM. Keyword
    arguments naming OmniPredictor parameters set those; any other keyword is a LightGBM parameter and goes
    into ``base_params`` (e.g. ``omni_lgbm(n_estimators=100, prior_alpha=None)``).

    Examples
    --------
    >>> omni_lgbm(n_estimators=50).base_params["n_estimators"]
    50
    """
    own = {k: v for k, v in params.items() if k in _OMNI_PARAMS}
    lgbm = {k: v for k, v in params.items() if k not in _OMNI_PARAMS}
    own["base_params"] = {**OMNI_LGBM_DEFAULTS, **(own.get("base_params") or {}), **lgbm}
    own.setdefault("base", "lgbm")
    return OmniPredictor(**own)


__all__ = [
    "DEFAULT_ENSEMBLE",
    "OMNI_LGBM_DEFAULTS",
    "LearnedEnsemblePredictor",
    "OmniPredictor",
    "ProxyPredictor",
    "ProxyScaler",
    "RankEnsemblePredictor",
    "check_proxy_source",
    "omni_lgbm",
    "rank_target",
    "resolve_proxies",
    "with_proxy_source",
]
