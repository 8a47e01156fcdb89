"""Comparator-guided search (CTNAS-style): candidates are judged against a baseline architecture.

CTNAS (Chen et al., 2021) trains a Neural Architecture Comparator that estimates P(a better than b) and searches
for architectures that beat a *baseline* which is replaced by the best architecture found so far. Here each step
fits the comparator on every scored architecture, builds a pool of never-proposed candidates (mutations of the
best architectures seen, plus some random cells), scores each candidate by P(candidate better than baseline),
and queries the most probable winners. The baseline is the best architecture scored so far.

Any predictor works: one offering ``predict_proba_pairs(X_a, X_b)`` (the comparator of
:mod:`predictbench.predictors.comparator`: ArchBatches of equal length in, P(row of a beats row of b) out) is used
as such; for any other predictor P is ``sigmoid((f(a) - f(b)) / s)`` with ``s`` the spread of its training
predictions, which ranks candidates exactly as the predictor's scores do.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from predictbench.benchmarks.tabular import ProxyTable
from predictbench.predictors.base import Predictor
from predictbench.search.guided import GUIDED_LGBM, PredictorSpec, QueueSearcher, resolve_predictor
from predictbench.spaces import SearchSpace
from predictbench.types import Arch

log = logging.getLogger(__name__)


def default_comparator() -> Predictor:
    """The registered ``comparator`` predictor; LightGBM when that module is not installed."""
    from predictbench.predictors import make_predictor

    try:
        return make_predictor("comparator")
    except ImportError as err:
        log.warning("comparator predictor unavailable (%s); falling back to LightGBM score differences", err)
        return make_predictor("lgbm", **GUIDED_LGBM)


def win_probability(model: Predictor, candidates: Any, baseline: Any, *, scale: float = 1.0) -> np.ndarray:
    """P(candidate beats baseline) per candidate; ``baseline`` is a batch of one, repeated for every candidate."""
    n = len(candidates)
    rows = np.zeros(n, dtype=np.intp)
    pairs = getattr(model, "predict_proba_pairs", None)
    if callable(pairs):
        repeated = baseline.subset(rows) if hasattr(baseline, "subset") else np.asarray(baseline)[rows]
        return np.asarray(pairs(candidates, repeated), dtype=float).reshape(n)
    diff = np.asarray(model.predict(candidates), dtype=float) - float(np.asarray(model.predict(baseline))[0])
    return np.asarray(1.0 / (1.0 + np.exp(-diff / max(scale, 1e-12))))


class ComparatorGuidedSearch(QueueSearcher):
    """CTNAS-style search: query the candidates most likely to beat the best architecture found so far.

    Parameters
    ----------
    space : the search space.
    seed : seeds the searcher's RNG.
    predictor : a comparator (anything with ``predict_proba_pairs``) or any Predictor; instance, registered name
        or ``{"name": ..., **params}``. Default: the registered ``comparator``.
    inputs : predictor inputs (default ``ProxyTable(space)``).
    n_initial : uniformly random architectures before the first fit.
    n_candidates : candidate pool size per step.
    top_k : pool parents: the ``top_k`` best architectures seen (the baseline is the first).
    max_edits : a candidate is 1..``max_edits`` mutations from its parent.
    local_k : every neighbour of the ``local_k`` best architectures is in the pool.
    random_fraction : share of uniformly random candidates.
    batch_size : candidates queried per fit.
    escape : when no pool candidate beats the baseline with probability >= ``escape``, the comparator scores every
        unproposed architecture of the space instead (enumerable spaces; None: never).

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> search = ComparatorGuidedSearch(get_space("nb201"), seed=0, predictor="lgbm", n_initial=5)
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
        random_fraction: float = 0.1,
        batch_size: int = 5,
        escape: float | None = None,
    ) -> None:
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
        self.predictor = default_comparator() if predictor is None else resolve_predictor(predictor)
        if escape is not None and not 0.0 < escape <= 1.0:
            raise ValueError(f"escape must be None or in (0, 1], got {escape!r}")
        self.escape = escape
        self.escapes = 0
        self.baseline: Arch | None = None

    def _refill(self) -> None:
        X, y = self.training_data()
        model = self.fit_predictor(X, y)
        self.baseline = self.best()[0]
        pool = self.candidate_pool()
        if not pool:
            return
        scale = 1.0
        if not callable(getattr(model, "predict_proba_pairs", None)):
            scale = float(np.std(np.asarray(model.predict(X), dtype=float))) or 1.0
        baseline = self.batch([self.baseline])
        p_win = win_probability(model, self.batch(pool), baseline, scale=scale)
        if self.escape is not None and float(p_win.max()) < self.escape:
            # nothing near the incumbent is expected to beat it: let the comparator search the whole space
            archs, batch = self.unproposed()
            if archs:
                pool, p_win = archs, win_probability(model, batch, baseline, scale=scale)
                self.escapes += 1
        order = self.enqueue_best(pool, p_win)
        log.debug("comparator step: baseline %s, best P(win) %.3f", self.baseline.key, float(p_win[order[0]]))
