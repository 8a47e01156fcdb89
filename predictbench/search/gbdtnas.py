"""GBDT-NAS (Luo et al., 2020): fit a GBDT on random architectures, predict the rest of the space, query the top.

The loop: ``n_initial`` uniformly random architectures; then in each round a GBDT is fitted on everything scored
so far, it predicts every never-proposed architecture of the candidate pool (the whole space, enumerated once,
or a fresh uniform pool of ``pool`` cells per round), and the ``top_k`` best predictions are queried. After
``rounds`` rounds (None: no limit) the last ranking is followed down without refitting.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np

from predictbench.benchmarks.tabular import ProxyTable
from predictbench.predictors.gbdt import GBDT_NAS_PRESET
from predictbench.search.guided import ModelSearcher, PredictorSpec, resolve_predictor
from predictbench.spaces import SearchSpace
from predictbench.types import Arch
from predictbench.validation import check_int

log = logging.getLogger(__name__)

#: The default surrogate: GBDT-NAS's published LightGBM settings, except leaves adapted to small data
#: (``min_child_samples=None``: LightGBM's fixed 20 cannot split a 20-cell training set).
GBDT_NAS_LGBM: dict[str, Any] = {**GBDT_NAS_PRESET, "min_child_samples": None}


class GBDTNASSearch(ModelSearcher):
    """GBDT-NAS: random start, then rounds of fit-predict-query-top-k.

    Parameters
    ----------
    space : the search space (any; ``pool="all"`` enumerates it once).
    seed : seeds the random start, the pools and the GBDT seeds.
    predictor : any Predictor (instance, registered name, ``{"name": ..., **params}``); default LightGBM with
        :data:`GBDT_NAS_LGBM`.
    inputs : predictor inputs (default ``ProxyTable(space)``).
    n_initial : uniformly random architectures before the first fit.
    top_k : architectures queried per round (the best predicted).
    rounds : model fits; None refits every ``top_k`` queries until the budget ends.
    pool : ``"all"`` (every cell of the space) or the size of a fresh uniform pool per round.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> search = GBDTNASSearch(get_space("nb201"), seed=0, n_initial=20)
    >>> len(search.ask(20))
    20
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        predictor: PredictorSpec = None,
        inputs: ProxyTable | None = None,
        n_initial: int = 30,
        top_k: int = 2,
        rounds: int | None = None,
        pool: Literal["all"] | int = "all",
    ) -> None:
        super().__init__(space, seed=seed, inputs=inputs, n_initial=n_initial)
        for name, value, low in (("n_initial", n_initial, 2), ("top_k", top_k, 1)):
            check_int(name, value, low)
        if rounds is not None:
            check_int("rounds", rounds, 1)
        if pool != "all" and (isinstance(pool, bool) or not isinstance(pool, int) or pool < 1):
            raise ValueError(f"pool must be 'all' or a positive int, got {pool!r}")
        self.predictor = resolve_predictor(predictor, GBDT_NAS_LGBM)
        self.top_k = top_k
        self.rounds = rounds
        self.pool = pool
        self.rounds_done = 0
        self._ranking: list[Arch] = []
        self._taken = 0

    def _candidates(self) -> tuple[list[Arch], Any]:
        if self.pool == "all":
            return self.unproposed()
        pool: dict[str, Arch] = {}
        for arch in self.space.sample(self.rng, 2 * int(self.pool)):
            if arch.key not in self._proposed:
                pool.setdefault(arch.key, arch)
        archs = list(pool.values())[: int(self.pool)]
        return archs, self.batch(archs)

    def _refit(self) -> None:
        X, y = self.training_data()
        model = self.fit_predictor(X, y)
        archs, batch = self._candidates()
        self.rounds_done += 1
        self._taken = 0
        if not archs:
            self._ranking = []
            return
        predictions = np.asarray(model.predict(batch), dtype=float)
        order = np.argsort(-predictions, kind="stable")
        self._ranking = [archs[int(i)] for i in order[::-1]]  # best last: popped first
        log.debug("GBDT-NAS round %d: %d scored, %d candidates", self.rounds_done, len(y), len(archs))

    def _next(self) -> Arch | None:
        may_refit = self.rounds is None or self.rounds_done < self.rounds
        if may_refit and (not self._ranking or self._taken >= self.top_k):
            self._refit()
        while self._ranking:
            arch = self._ranking.pop()
            if self._claim(arch):
                self._taken += 1
                return arch
        return None
