"""RoBoT-plus: RoBoT warm-started from an a-priori proxy ensemble, with a surrogate of the search metric.

Measured on NB201 (``benchmarks/bench_robot.py``), RoBoT's BO phase spends most of a small budget on the
extreme cells of the proxy cloud (the top cell of any weight vector is a vertex of its convex hull, often a
degenerate network), and min-max normalisation squashes the heavy-tailed proxies. This variant changes three
things and keeps the rest of :class:`~predictbench.search.robot.RoBoTSearch`:

1. **Prior weights instead of a cold BO start**: rank-normalised proxies and, by default, the project's
   a-priori ensemble (:data:`~predictbench.predictors.zerocost.DEFAULT_ENSEMBLE`: jacov, nwot, synflow, the
   proxies NAS-Bench-Suite-Zero reports as most reliable on NB201) plus zen (:data:`ROBOT_PLUS_PRIOR`) with
   equal weights; ``n_bo_trials`` defaults to 0 (a BO phase can still be asked for).
2. The ``n_prior`` best cells under those weights are queried first (RoBoT's greedy phase).
3. **Proxies + predictor**: every later query is the unqueried cell maximising a ridge regression of the
   standardised search metric on the cell encoding (e.g. one-hot ops) and the normalised proxies, fitted on
   every queried cell, plus ``prior_weight`` times the prior score standardised over the queried cells. The
   encoding lets the search signal correct what proxies miss (on NB201 the best cells by 12-epoch validation
   accuracy have a skip connection from the input to the output node; few of the ensemble's top cells do).

Without a BO phase the search is deterministic (the seed changes nothing); the final choice stays the queried
cell with the best search metric.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from predictbench.predictors.robot import ProxySpec
from predictbench.predictors.zerocost import DEFAULT_ENSEMBLE
from predictbench.search.robot import InputsSpec, RoBoTSearch, proxy_source
from predictbench.spaces import SearchSpace
from predictbench.types import Arch

log = logging.getLogger(__name__)

#: The default prior: the a-priori ensemble plus zen, the one Suite-Zero proxy measured for every NB201 cell on
#: every dataset (nb201/cifar10, T = 3..10: the best-valid@12 cell reaches 94.34 test at T = 4 instead of 8).
ROBOT_PLUS_PRIOR: tuple[str, ...] = (*DEFAULT_ENSEMBLE, "zen")


class RoBoTPlusSearch(RoBoTSearch):
    """RoBoT from prior weights (rank-normalised a-priori ensemble), then a ridge surrogate of the search metric.

    Parameters
    ----------
    space, seed, inputs, n_bo_queries, sampler, n_startup_trials, candidates : as :class:`RoBoTSearch`.
    proxies : "prior" (default: those of :data:`ROBOT_PLUS_PRIOR`, jacov, nwot, synflow and zen, the inputs
        have), or as :class:`RoBoTSearch` ("robot", "all", a name or a sequence of names).
    n_bo_trials : RoBoT's BO phase before the prior ranking (default 0: none).
    normalise : default "rank".
    warm_start : the prior weights (default all ones).
    n_prior : cells queried down the prior ranking before the surrogate takes over.
    encoding : cell encoding of the surrogate (any of :mod:`predictbench.encodings`).
    alpha : ridge penalty of the surrogate.
    prior_weight : weight of the standardised prior score in the acquisition.

    Examples
    --------
    >>> import predictbench as pb
    >>> from predictbench.benchmarks import ProxyTable
    >>> bench = pb.load("nb201/cifar10")  # doctest: +SKIP
    >>> search = RoBoTPlusSearch(bench.space, inputs=ProxyTable.of(bench))  # doctest: +SKIP
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        inputs: InputsSpec = None,
        proxies: ProxySpec = "prior",
        n_bo_trials: int = 0,
        n_bo_queries: int | None = None,
        sampler: str = "auto",
        n_startup_trials: int = 3,
        normalise: str = "rank",
        candidates: str = "measured",
        warm_start: Mapping[str, float] | Sequence[float] | None = None,
        n_prior: int = 3,
        encoding: str = "onehot",
        alpha: float = 1.0,
        prior_weight: float = 1.0,
    ) -> None:
        who = type(self).__name__
        if isinstance(n_prior, bool) or not isinstance(n_prior, int) or n_prior < 1:
            raise ValueError(f"{who}: n_prior must be an int >= 1, got {n_prior!r}")
        for name, value, low in (("alpha", alpha, 0.0), ("prior_weight", prior_weight, 0.0)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
            if not ok or value < low or (name == "alpha" and value == 0):
                bound = "> 0" if name == "alpha" else ">= 0"
                raise ValueError(f"{who}: {name} must be a finite number {bound}, got {value!r}")
        if proxies == "prior":
            inputs = proxy_source(inputs, who)
            proxies = [p for p in ROBOT_PLUS_PRIOR if p in inputs.proxy_names]
            if not proxies:
                raise ValueError(
                    f"{who}: {inputs.name!r} has none of the prior's proxies {list(ROBOT_PLUS_PRIOR)} (it has "
                    f"{inputs.proxy_names}); pass proxies=[...] naming some of its proxies"
                )
        super().__init__(
            space,
            seed=seed,
            inputs=inputs,
            proxies=proxies,
            n_bo_trials=n_bo_trials,
            n_bo_queries=n_bo_queries,
            sampler=sampler,
            n_startup_trials=n_startup_trials,
            normalise=normalise,
            candidates=candidates,
            warm_start=warm_start,
        )
        self.n_prior = n_prior
        self.encoding = encoding
        self.alpha = float(alpha)
        self.prior_weight = float(prior_weight)
        keys = np.array([a.key for a in self.pool], dtype=object)
        self._design = np.hstack([self.inputs.batch(keys).features(encoding).astype(float), self._Z])
        self._row = {a.key: i for i, a in enumerate(self.pool)}
        self._prior_taken = 0

    def surrogate_scores(self) -> np.ndarray:
        """Acquisition values of :attr:`pool`: ridge prediction plus ``prior_weight`` times the prior score,
        both in units of the queried cells' spread."""
        rows = np.array([self._row[k] for k in self.scores if k in self._row], dtype=np.intp)
        prior = self.pool_scores()
        if len(rows) == 0:
            return prior
        y = np.array([self.scores[self.pool[r].key] for r in rows])
        y_spread, prior_spread = y.std(), prior[rows].std()
        target = (y - y.mean()) / y_spread if y_spread > 0 else np.zeros(len(y))
        centre = self._design[rows].mean(axis=0)
        X = self._design[rows] - centre
        weights = np.linalg.solve(X.T @ X + self.alpha * np.eye(X.shape[1]), X.T @ target)
        standard_prior = (prior - prior[rows].mean()) / prior_spread if prior_spread > 0 else np.zeros(len(prior))
        return np.asarray((self._design - centre) @ weights + self.prior_weight * standard_prior, dtype=float)

    def _next_greedy(self) -> Arch | None:
        if self._prior_taken < self.n_prior or len(self.scores) < 2:
            arch = super()._next_greedy()
            self._prior_taken += arch is not None
            return arch
        values = self.surrogate_scores()
        proposed = np.fromiter((a.key in self._proposed for a in self.pool), dtype=bool, count=len(self.pool))
        if proposed.all():
            return None
        values[proposed] = -np.inf
        arch = self.pool[int(np.argmax(values))]
        self._claim(arch)
        return arch


__all__ = ["ROBOT_PLUS_PRIOR", "RoBoTPlusSearch"]
