"""The multi-objective Searcher contract and the loop that runs one against a :class:`MultiObjectiveOracle`.

A multi-objective searcher is an ask/tell :class:`~predictbench.search.base.Searcher` (same constructor, own RNG,
never proposes an architecture twice) whose ``tell(archs, scores)`` takes a score MATRIX of shape
(len(archs), objectives), higher is better in every column. It keeps the vectors in ``objective_scores`` and a
scalar view of them in ``scores`` (what the single-objective helpers it inherits, e.g. ``top`` or ``best``, rank
by): by default the negated non-domination rank, so ``best()`` is an architecture of the current front.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from predictbench.multiobjective.oracle import MultiObjectiveOracle
from predictbench.multiobjective.pareto import missing_as_worst, non_dominated, non_dominated_sort
from predictbench.oracle import Oracle
from predictbench.search.base import Searcher, run_search
from predictbench.spaces import SearchSpace
from predictbench.types import Arch, Metric

log = logging.getLogger(__name__)


class MultiObjectiveSearcher(Searcher):
    """Base class: vector bookkeeping over :class:`~predictbench.search.base.Searcher`.

    Subclasses implement ``ask``; they may override :meth:`scalar_view`. Extra keyword options are passed on
    to the next class in the method resolution order, so a multi-objective searcher can also reuse a
    single-objective one (e.g. ``class ParEGO(MultiObjectiveSearcher, PredictorGuidedSearch)``).
    """

    def __init__(self, space: SearchSpace, *, seed: int = 0, **options: Any) -> None:
        super().__init__(space, seed=seed, **options)
        self.objective_scores: dict[str, np.ndarray] = {}

    def check_objectives(self, metrics: Sequence[Metric]) -> None:
        """Refuse objectives this searcher cannot use, before any is evaluated (default: accept all).

        :func:`run_multiobjective` calls it with the oracle's objective metrics (in objective order).
        """

    def tell(self, archs: Sequence[Arch], scores: Sequence[Any] | np.ndarray) -> None:
        """Record the objective scores (n, objectives) of ``archs``; NaN counts as the worst score."""
        matrix = np.asarray(scores, dtype=float)
        if matrix.ndim != 2 or len(matrix) != len(archs):
            raise ValueError(
                f"tell needs a score matrix of shape ({len(archs)}, objectives) for {len(archs)} architectures, "
                f"got shape {matrix.shape}"
            )
        known = self.n_objectives
        if known is not None and matrix.shape[1] != known:
            raise ValueError(f"tell got {matrix.shape[1]} objectives, earlier calls had {known}")
        matrix = missing_as_worst(matrix)
        for arch, row in zip(archs, matrix, strict=True):
            self.objective_scores[arch.key] = row
            self.archs[arch.key] = arch
            self._observe_vector(arch, row)
        keys = list(self.objective_scores)
        view = self.scalar_view(self.score_matrix(keys))
        self.scores = dict(zip(keys, (float(v) for v in view), strict=True))

    @property
    def n_objectives(self) -> int | None:
        """Number of objectives, known after the first ``tell``."""
        first = next(iter(self.objective_scores.values()), None)
        return None if first is None else len(first)

    def score_matrix(self, keys: Sequence[str] | None = None) -> np.ndarray:
        """Objective scores of ``keys`` (default: every scored architecture, in order of scoring)."""
        keys = list(self.objective_scores) if keys is None else keys
        if not keys:
            return np.empty((0, self.n_objectives or 0))
        return np.stack([self.objective_scores[k] for k in keys])

    def scalar_view(self, matrix: np.ndarray) -> np.ndarray:
        """One number per scored architecture, higher = better; default: minus its non-domination rank."""
        return -non_dominated_sort(matrix).astype(float)

    def _observe_vector(self, arch: Arch, scores: np.ndarray) -> None:
        """Hook for subclasses: one newly scored architecture."""

    def front(self) -> list[Arch]:
        """The scored architectures no other scored one dominates, in order of scoring."""
        keys = list(self.objective_scores)
        if not keys:
            return []
        mask = non_dominated(self.score_matrix(keys))
        return [self.archs[k] for k, keep in zip(keys, mask, strict=True) if keep]


def run_multiobjective(
    searcher: MultiObjectiveSearcher, oracle: MultiObjectiveOracle, *, batch_size: int = 1, max_idle_asks: int = 1000
) -> MultiObjectiveOracle:
    """Ask/evaluate/tell until the oracle's budget is spent; returns the oracle (its history is the run).

    The loop is :func:`~predictbench.search.base.run_search`, which needs only ``remaining``, ``queries`` and
    ``evaluate`` of its oracle: a MultiObjectiveOracle provides them, with a score matrix for ``evaluate``.
    """
    searcher.check_objectives(oracle.metrics)
    run_search(searcher, cast(Oracle, oracle), batch_size=batch_size, max_idle_asks=max_idle_asks)
    return oracle
