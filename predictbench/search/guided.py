"""BANANAS-style predictor-guided search: an ensemble predictor, a candidate pool, an acquisition function.

Each step fits an ensemble on every architecture scored so far, builds a pool of unseen candidates (mutations of
the best architectures seen, plus a few uniformly random ones), and queries the candidates that maximise an
acquisition over the ensemble's predictions:

- ``"its"`` (independent Thompson sampling, BANANAS' default): per candidate one draw from N(mean, std) of the
  ensemble's predictions, highest draws first;
- ``"ucb"``: mean + ``beta`` * std;
- ``"greedy"``: the ensemble mean.

The ensemble is the predictor's own when it offers ``predict_ensemble`` (e.g. the BANANAS MLP ensemble);
otherwise ``ensemble_size`` clones of the predictor, each fitted on its own bootstrap resample of the data and
with its own ``seed`` parameter. Bootstrap resampling matters for trees: NASLib's GBDT "ensembles" are identical
fits of the same data, so their spread is zero and Thompson sampling silently degenerates to greedy search.

The helpers here (:func:`resolve_predictor`, :class:`Ensemble`, :class:`CachedBatch`) are shared by the other
model-based searchers (:mod:`~predictbench.search.gbdtnas`, :mod:`~predictbench.search.comparator`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from predictbench.benchmarks.tabular import ArchBatch, ProxyTable
from predictbench.predictors.base import Predictor
from predictbench.search.base import Searcher
from predictbench.spaces import SearchSpace
from predictbench.types import Arch
from predictbench.validation import check_int

log = logging.getLogger(__name__)

Acquisition = Literal["its", "ucb", "greedy"]
PredictorSpec = Predictor | str | Mapping[str, Any] | None
ACQUISITIONS: tuple[str, ...] = ("its", "ucb", "greedy")

#: LightGBM settings of the default surrogate of the guided searchers: small data (10 to a few hundred cells),
#: so shallow trees, a larger step and small leaves; bagging gives ensemble members decorrelated fits.
GUIDED_LGBM: dict[str, Any] = {
    "n_estimators": 50,
    "learning_rate": 0.15,
    "num_leaves": 7,
    "min_child_samples": 2,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
}


def resolve_predictor(spec: PredictorSpec, default: Mapping[str, Any] | None = None) -> Predictor:
    """A fresh predictor from an instance (cloned), a registered name, ``{"name": ..., **params}`` or None.

    None gives ``LGBMPredictor(**default)`` (``default`` = :data:`GUIDED_LGBM` when not given).
    """
    from predictbench.predictors import make_predictor

    if spec is None:
        return make_predictor("lgbm", **dict(GUIDED_LGBM if default is None else default))
    if isinstance(spec, Predictor):
        return spec.clone()
    if isinstance(spec, str):
        return make_predictor(spec)
    if isinstance(spec, Mapping):
        params = dict(spec)
        if "name" not in params:
            raise ValueError(f"a predictor given as a mapping needs a 'name' key, got {sorted(params)}")
        return make_predictor(str(params.pop("name")), **params)
    raise TypeError(f"predictor must be a Predictor, a registered name, a mapping or None, got {type(spec).__name__}")


def _with_seed(predictor: Predictor, seed: int) -> Predictor:
    member = predictor.clone()
    if "seed" in member._param_names():
        member.set_params(seed=seed)
    return member


class CachedBatch:
    """An :class:`ArchBatch` that computes each encoding, the graphs and the proxies once.

    Model-based searchers predict on the same large candidate set (e.g. the whole space) again and again;
    this wrapper makes every later ``features(...)`` a memory read. It answers every call an ArchBatch does.
    """

    def __init__(self, batch: ArchBatch) -> None:
        self._batch = batch
        self.benchmark = batch.benchmark
        self.keys = batch.keys
        self._features: dict[str, np.ndarray] = {}
        self._graphs: tuple[np.ndarray, np.ndarray] | None = None
        self._proxies: dict[tuple[tuple[str, ...] | None, bool], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def features(self, encoding: str = "onehot") -> np.ndarray:
        if encoding not in self._features:
            self._features[encoding] = self._batch.features(encoding)
        return self._features[encoding]

    def graphs(self) -> tuple[np.ndarray, np.ndarray]:
        if self._graphs is None:
            self._graphs = self._batch.graphs()
        return self._graphs

    def proxies(self, names: Sequence[str] | None = None, *, fill: bool = True) -> np.ndarray:
        cache_key = (None if names is None else tuple(names), fill)
        if cache_key not in self._proxies:
            self._proxies[cache_key] = self._batch.proxies(names, fill=fill)
        return self._proxies[cache_key]

    def subset(self, rows: np.ndarray | Sequence[int]) -> SubsetBatch:
        return SubsetBatch(self, np.asarray(rows, dtype=np.intp))


class SubsetBatch:
    """Rows of a :class:`CachedBatch`, read from its cache (no re-encoding)."""

    def __init__(self, parent: CachedBatch, rows: np.ndarray) -> None:
        self._parent = parent
        self._rows = rows
        self.benchmark = parent.benchmark
        self.keys = parent.keys[rows]

    def __len__(self) -> int:
        return len(self._rows)

    def features(self, encoding: str = "onehot") -> np.ndarray:
        return self._parent.features(encoding)[self._rows]

    def graphs(self) -> tuple[np.ndarray, np.ndarray]:
        ops, adjacency = self._parent.graphs()
        return ops[self._rows], adjacency[self._rows]

    def proxies(self, names: Sequence[str] | None = None, *, fill: bool = True) -> np.ndarray:
        return self._parent.proxies(names, fill=fill)[self._rows]

    def subset(self, rows: np.ndarray | Sequence[int]) -> SubsetBatch:
        return SubsetBatch(self._parent, self._rows[np.asarray(rows, dtype=np.intp)])


class Ensemble:
    """An ensemble view of any predictor: ``predict_ensemble`` when it has one, else bootstrap members.

    Parameters
    ----------
    predictor : the (unfitted) prototype; it is cloned, never fitted in place.
    size : members when the predictor has no ``predict_ensemble`` of its own (1: a single fit, no bootstrap).
    rng : draws the bootstrap resamples and the members' seeds.

    Examples
    --------
    >>> import numpy as np
    >>> from predictbench.predictors.gbdt import LGBMPredictor
    >>> X = np.random.default_rng(0).random((40, 3)); y = X[:, 0]
    >>> ens = Ensemble(LGBMPredictor(n_estimators=20), size=3, rng=np.random.default_rng(0)).fit(X, y)
    >>> ens.predict_members(X).shape
    (3, 40)
    """

    def __init__(self, predictor: Predictor, *, size: int = 5, rng: np.random.Generator) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"ensemble size must be a positive int, got {size!r}")
        self.prototype = predictor
        self.size = size
        self.rng = rng
        self.native = callable(getattr(predictor, "predict_ensemble", None))
        self.members_: list[Predictor] = []

    def fit(self, X: Any, y: np.ndarray) -> Ensemble:
        y = np.asarray(y, dtype=float)
        n = len(y)
        if self.native:
            member = _with_seed(self.prototype, int(self.rng.integers(2**31)))
            self.members_ = [member.fit(X, y)]
            return self
        members = []
        for _ in range(self.size):
            member = _with_seed(self.prototype, int(self.rng.integers(2**31)))
            if self.size == 1:
                members.append(member.fit(X, y))
                continue
            rows = self.rng.integers(0, n, size=n)
            members.append(member.fit(_rows_of(X, rows), y[rows]))
        self.members_ = members
        return self

    def predict_members(self, X: Any) -> np.ndarray:
        """Every member's prediction, shape (members, n)."""
        if not self.members_:
            raise ValueError("Ensemble.predict_members before fit")
        if self.native:
            return np.asarray(self.members_[0].predict_ensemble(X), dtype=float)  # type: ignore[attr-defined]
        return np.stack([np.asarray(m.predict(X), dtype=float) for m in self.members_])


def _rows_of(X: Any, rows: np.ndarray) -> Any:
    if hasattr(X, "subset"):
        return X.subset(rows)
    return np.asarray(X)[rows]


def acquire(members: np.ndarray, acquisition: str, rng: np.random.Generator, *, beta: float = 1.0) -> np.ndarray:
    """Acquisition values (higher = query first) from member predictions of shape (members, n)."""
    mean = members.mean(axis=0)
    if acquisition == "greedy":
        return np.asarray(mean)
    std = members.std(axis=0)
    if acquisition == "ucb":
        return np.asarray(mean + beta * std)
    if acquisition == "its":
        return np.asarray(rng.normal(mean, std))
    raise ValueError(f"acquisition must be one of {ACQUISITIONS}, got {acquisition!r}")


class ModelSearcher(Searcher):
    """Shared machinery of model-based searchers: predictor inputs for keys, the scored data, a random start.

    :meth:`ask` proposes ``n_initial`` uniformly random architectures (more while fewer than two are scored),
    then the architectures :meth:`_next` chooses, one at a time; when it has none, random unproposed ones.
    Subclasses set ``predictor`` (the prototype :meth:`fit_predictor` clones) and implement :meth:`_next`.
    """

    predictor: Predictor

    def __init__(self, space: SearchSpace, *, seed: int = 0, inputs: ProxyTable | None = None, n_initial: int) -> None:
        super().__init__(space, seed=seed)
        self.inputs = inputs if inputs is not None else ProxyTable(space)
        self.n_initial = n_initial
        self._space_batch: tuple[list[Arch], CachedBatch] | None = None

    def _next(self) -> Arch | None:
        """The next architecture to query (already claimed), or None when the model has none to offer."""
        raise NotImplementedError

    def ask(self, n: int = 1) -> list[Arch]:
        out: list[Arch] = []
        while len(out) < n:
            if len(self.scores) + len(out) < self.n_initial or len(self.scores) < 2:
                fresh = self._random_unseen(min(n - len(out), max(self.n_initial - len(self.scores) - len(out), 1)))
                if not fresh:
                    break
                out.extend(fresh)
                continue
            arch = self._next()
            if arch is None:
                out.extend(self._random_unseen(n - len(out)))
                break
            out.append(arch)
        return out

    def fit_predictor(self, X: Any, y: np.ndarray) -> Predictor:
        """A fresh clone of ``predictor`` fitted on ``X, y``; its ``seed``, if it has one, drawn from the RNG."""
        model = self.predictor.clone()
        if "seed" in model._param_names():
            model.set_params(seed=int(self.rng.integers(2**31)))
        model.fit(X, y)
        return model

    def batch(self, archs: Sequence[Arch] | np.ndarray) -> ArchBatch:
        keys = archs if isinstance(archs, np.ndarray) else np.array([a.key for a in archs], dtype=object)
        return self.inputs.batch(keys)

    def training_data(self) -> tuple[CachedBatch, np.ndarray]:
        """Every scored architecture as predictor input, with its score."""
        keys = np.array(list(self.scores), dtype=object)
        return CachedBatch(self.batch(keys)), np.array([self.scores[k] for k in keys], dtype=float)

    def space_batch(self) -> tuple[list[Arch], CachedBatch]:
        """Every architecture of the space (enumerated once) with its cached predictor inputs."""
        if self._space_batch is None:
            archs = self.space.enumerate()
            self._space_batch = (archs, CachedBatch(self.batch(archs)))
        return self._space_batch

    def unproposed(self) -> tuple[list[Arch], SubsetBatch]:
        """The never-proposed architectures of the whole space and their predictor inputs."""
        archs, batch = self.space_batch()
        rows = np.array([i for i, a in enumerate(archs) if a.key not in self._proposed], dtype=np.intp)
        return [archs[int(i)] for i in rows], batch.subset(rows)

    def top(self, k: int) -> list[Arch]:
        """The ``k`` best scored architectures, best first."""
        order = sorted(self.scores, key=self.scores.__getitem__, reverse=True)[:k]
        return [self.archs[key] for key in order]

    def mutation_pool(
        self, n: int, *, top_k: int, random_fraction: float, max_edits: int = 1, local_k: int = 0
    ) -> list[Arch]:
        """Up to ``n`` distinct, never-proposed candidates around the best architectures seen, plus random cells.

        The pool holds every unproposed neighbour of the ``local_k`` best architectures, then mutations of parents
        drawn uniformly from the ``top_k`` best (``1..max_edits`` edits, uniform), then ``random_fraction`` of
        ``n`` uniformly random cells.
        """
        parents = self.top(max(top_k, local_k))
        n_random = round(n * random_fraction) if parents else n
        seen: dict[str, Arch] = {}
        for parent in parents[:local_k]:
            for arch in self.space.neighbors(parent):
                if arch.key not in self._proposed and len(seen) < n - n_random:
                    seen.setdefault(arch.key, arch)
        parents = parents[:top_k]
        tries = 0
        while len(seen) < n - n_random and tries < 20 * n and parents:
            tries += 1
            child = parents[int(self.rng.integers(len(parents)))]
            for _ in range(int(self.rng.integers(1, max_edits + 1))):
                child = self.space.mutate(child, self.rng)
            if child.key not in self._proposed:
                seen.setdefault(child.key, child)
        for arch in self.space.sample(self.rng, 2 * max(n - len(seen), 1)):
            if len(seen) >= n:
                break
            if arch.key not in self._proposed:
                seen.setdefault(arch.key, arch)
        return list(seen.values())


class QueueSearcher(ModelSearcher):
    """A model-based searcher whose :meth:`_refill` (one model fit) queues the ``batch_size`` best candidates of
    a mutation pool (:meth:`candidate_pool`); the queue is served before the next fit.

    The pool options (``n_candidates``, ``top_k``, ``max_edits``, ``local_k``, ``random_fraction``) are those of
    :meth:`~ModelSearcher.mutation_pool`; they are validated here, with ``n_initial`` and ``batch_size``.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        inputs: ProxyTable | None = None,
        n_initial: int,
        n_candidates: int,
        top_k: int,
        max_edits: int,
        local_k: int,
        random_fraction: float,
        batch_size: int,
    ) -> None:
        super().__init__(space, seed=seed, inputs=inputs, n_initial=n_initial)
        for name, value, low in (
            ("n_initial", n_initial, 1),
            ("n_candidates", n_candidates, 1),
            ("top_k", top_k, 1),
            ("max_edits", max_edits, 1),
            ("local_k", local_k, 0),
            ("batch_size", batch_size, 1),
        ):
            check_int(name, value, low)
        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError(f"random_fraction must be in [0, 1], got {random_fraction!r}")
        self.n_candidates = n_candidates
        self.top_k = top_k
        self.max_edits = max_edits
        self.local_k = local_k
        self.random_fraction = random_fraction
        self.batch_size = batch_size
        self._queue: list[Arch] = []

    def _refill(self) -> None:
        raise NotImplementedError

    def candidate_pool(self) -> list[Arch]:
        """A fresh mutation pool (:meth:`~ModelSearcher.mutation_pool`) with this searcher's pool options."""
        return self.mutation_pool(
            self.n_candidates,
            top_k=self.top_k,
            random_fraction=self.random_fraction,
            max_edits=self.max_edits,
            local_k=self.local_k,
        )

    def enqueue_best(self, pool: list[Arch], values: np.ndarray) -> np.ndarray:
        """Queue the ``batch_size`` candidates of ``pool`` with the highest ``values``; returns their rows."""
        order = np.argsort(-values, kind="stable")[: self.batch_size]
        self._queue = [pool[int(i)] for i in order]
        return order

    def _next(self) -> Arch | None:
        self._queue = [a for a in self._queue if a.key not in self._proposed]
        if not self._queue:
            self._refill()
            if not self._queue:
                return None
        arch = self._queue.pop(0)
        self._claim(arch)
        return arch


class PredictorGuidedSearch(QueueSearcher):
    """BANANAS-style search: ensemble predictor + mutation candidate pool + Thompson sampling / UCB.

    Parameters
    ----------
    space : the search space (any, including a pruned :class:`~predictbench.search.pruning.ConstrainedSpace`).
    seed : seeds the searcher's RNG (pool, bootstrap, Thompson draws).
    predictor : a Predictor instance (cloned per fit), a registered name, ``{"name": ..., **params}``, or None
        for LightGBM with :data:`GUIDED_LGBM` settings.
    inputs : where predictor inputs come from (a :class:`ProxyTable`; default ``ProxyTable(space)``, encodings
        and graphs only; ``ProxyTable.of(bench)`` lets proxy-reading predictors see zero-cost proxies).
    n_initial : uniformly random architectures before the first fit.
    n_candidates : size of the candidate pool per step.
    top_k : parents of the pool: the ``top_k`` best architectures seen.
    max_edits : a candidate is 1..``max_edits`` mutations away from its parent.
    local_k : every neighbour of the ``local_k`` best architectures is in the pool.
    global_k : the ``global_k`` best unseen architectures of the whole space by the ensemble mean join the pool
        (the space is enumerated once; for small, enumerable spaces such as NB201).
    random_fraction : share of the pool drawn uniformly at random (exploration).
    acquisition : ``"its"`` (independent Thompson sampling), ``"ucb"`` or ``"greedy"``.
    ensemble_size : bootstrap members for predictors without ``predict_ensemble``.
    batch_size : architectures chosen per fit (1 = refit after every query).
    beta : UCB exploration weight.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> search = PredictorGuidedSearch(get_space("nb201"), seed=0, n_initial=5)
    >>> len(search.ask(5))
    5
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        predictor: PredictorSpec = None,
        inputs: ProxyTable | None = None,
        n_initial: int = 10,
        n_candidates: int = 200,
        top_k: int = 10,
        max_edits: int = 2,
        local_k: int = 3,
        global_k: int = 0,
        random_fraction: float = 0.1,
        acquisition: Acquisition = "ucb",
        ensemble_size: int = 5,
        batch_size: int = 1,
        beta: float = 1.0,
    ) -> None:
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition must be one of {ACQUISITIONS}, got {acquisition!r}")
        super().__init__(
            space,
            seed=seed,
            inputs=inputs,
            n_initial=n_initial,
            n_candidates=n_candidates,
            top_k=top_k,
            max_edits=max_edits,
            local_k=local_k,
            random_fraction=random_fraction,
            batch_size=batch_size,
        )
        check_int("global_k", global_k, 0)
        check_int("ensemble_size", ensemble_size, 1)
        self.predictor = resolve_predictor(predictor)
        self.global_k = global_k
        self.acquisition = acquisition
        self.ensemble_size = ensemble_size
        self.beta = beta

    def _refill(self) -> None:
        X, y = self.training_data()
        ensemble = Ensemble(self.predictor, size=self.ensemble_size, rng=self.rng).fit(X, y)
        pool = self.candidate_pool()
        if self.global_k:
            archs, batch = self.unproposed()
            if archs:
                mean = ensemble.predict_members(batch).mean(axis=0)
                keys = {a.key for a in pool}
                for i in np.argsort(-mean, kind="stable")[: self.global_k]:
                    if archs[int(i)].key not in keys:
                        pool.append(archs[int(i)])
        if not pool:
            return
        values = acquire(ensemble.predict_members(self.batch(pool)), self.acquisition, self.rng, beta=self.beta)
        self.enqueue_best(pool, values)
