"""ParEGO (Knowles, IEEE TEC 2006) with a registered predictor: a random Tchebycheff scalarisation per step.

Before every refit a weight vector is drawn uniformly from the simplex; every architecture scored so far gets the
augmented Tchebycheff value of its objectives (normalised to [0, 1] over what has been observed); the rest is the
BANANAS-style predictor-guided search of :class:`~predictbench.search.guided.PredictorGuidedSearch` on that scalar
(an ensemble of the predictor fitted to it, a pool of mutations of the architectures best under these weights,
the acquisition's best candidate queried). Each step therefore aims at a different part of the front.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from predictbench.multiobjective.base import MultiObjectiveSearcher
from predictbench.search.guided import PredictorGuidedSearch
from predictbench.spaces import SearchSpace


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Each column scaled to [0, 1] by its observed minimum and maximum (a constant column becomes 1)."""
    finite = np.where(np.isfinite(matrix), matrix, np.nan)
    low, high = np.nanmin(finite, axis=0), np.nanmax(finite, axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = np.where(high > low, (matrix - low) / span, 1.0)
    return np.asarray(np.clip(scaled, 0.0, 1.0))


def tchebycheff(normalised: np.ndarray, weights: np.ndarray, rho: float) -> np.ndarray:
    """Augmented Tchebycheff score (higher is better) of normalised scores: ``-(max_j w_j d_j + rho sum_j w_j d_j)``
    where ``d_j = 1 - score_j`` is the distance to the ideal point.

    Examples
    --------
    >>> tchebycheff(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([0.5, 0.5]), 0.0).tolist()
    [-0.5, -0.25]
    """
    distance = 1.0 - normalised
    weighted = distance * weights
    return np.asarray(-(weighted.max(axis=1) + rho * weighted.sum(axis=1)))


class ParEGOSearch(MultiObjectiveSearcher, PredictorGuidedSearch):
    """ParEGO: predictor-guided search on a fresh random Tchebycheff scalarisation of the objectives per step.

    Parameters
    ----------
    space : the search space.
    seed : seeds the searcher's RNG (weights, pool, bootstrap, acquisition).
    rho : weight of the augmentation term (0.05 in ParEGO), which breaks ties toward Pareto-optimal points.
    **options : those of :class:`~predictbench.search.guided.PredictorGuidedSearch` (``predictor``, ``n_initial``,
        ``n_candidates``, ``acquisition``, ``ensemble_size``, ...), with the same defaults; ``batch_size`` > 1
        queries several architectures per draw of weights.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> parego = ParEGOSearch(get_space("nb201"), seed=0, n_initial=5)
    >>> len(parego.ask(5))
    5
    """

    def __init__(self, space: SearchSpace, *, seed: int = 0, rho: float = 0.05, **options: Any) -> None:
        super().__init__(space, seed=seed, **options)
        if not np.isfinite(rho) or rho < 0:
            raise ValueError(f"rho must be a finite number >= 0, got {rho!r}")
        self.rho = rho
        self.weights: np.ndarray | None = None

    def scalar_view(self, matrix: np.ndarray) -> np.ndarray:
        if self.weights is None or len(self.weights) != matrix.shape[1]:
            self.weights = np.full(matrix.shape[1], 1.0 / matrix.shape[1])
        return tchebycheff(normalise(matrix), self.weights, self.rho)

    def _refill(self) -> None:
        keys = list(self.objective_scores)
        matrix = self.score_matrix(keys)
        self.weights = self.rng.dirichlet(np.ones(matrix.shape[1]))
        self.scores = dict(zip(keys, (float(v) for v in self.scalar_view(matrix)), strict=True))
        super()._refill()
