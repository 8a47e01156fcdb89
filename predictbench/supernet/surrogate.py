"""A GCN fitted to a supernet's scores: smooth the noisy one-shot estimates and rank the whole space.

Following the line of work that fits a graph predictor to one-shot scores of sampled sub-networks, this adapter
wraps another (fitted) adapter: it draws ``n_samples`` distinct cells (``spawn(seed, "gcn-samples")``), scores
them with the supernet, fits a :class:`~predictbench.predictors.gcn.GCNPredictor` on their op-on-node graphs
(:meth:`SearchSpace.graph_arrays`) with those scores as the target, and from then on scores any cell by the GCN.
:meth:`GCNSurrogate.rank_space` scores every cell of the space in one vectorised pass.

It is itself a :class:`~predictbench.supernet.adapter.SupernetAdapter`, so it feeds
:class:`~predictbench.predictors.oneshot.OneShotPredictor` and :class:`~predictbench.supernet.oracle.SupernetOracle`
like the supernet it wraps.

Examples
--------
>>> surrogate = GCNSurrogate(NB201WeightSharing(), n_samples=100)  # doctest: +SKIP
>>> surrogate.fit(get_space("nb201"), digits(), epochs=10, seed=0)  # doctest: +SKIP
>>> all_scores = surrogate.rank_space()  # 15,625 scores, official index order  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from predictbench.rng import spawn
from predictbench.spaces import SearchSpace
from predictbench.supernet.adapter import SupernetAdapter, check_archs, check_scores
from predictbench.types import Arch, NotFittedError

__all__ = ["GCNSurrogate"]


class GCNSurrogate:
    """GCN predictor fitted to ``adapter``'s scores of ``n_samples`` sampled cells.

    Parameters
    ----------
    adapter
        The supernet adapter whose scores are the GCN's training target (copied: the argument is not changed).
    n_samples
        Distinct cells sampled and scored by the supernet.
    gcn_params
        Parameters of :class:`~predictbench.predictors.gcn.GCNPredictor` (default: its defaults, with ``seed``
        set from the fit's seed).
    refit
        Fit the wrapped adapter in :meth:`fit` (True), or use it as already fitted (False).
    """

    def __init__(
        self,
        adapter: SupernetAdapter,
        *,
        n_samples: int = 100,
        gcn_params: Mapping[str, Any] | None = None,
        refit: bool = True,
    ) -> None:
        self.adapter = adapter
        self.n_samples = n_samples
        self.gcn_params = gcn_params
        self.refit = refit

    def __repr__(self) -> str:
        return f"GCNSurrogate({self.adapter!r}, n_samples={self.n_samples}, refit={self.refit})"

    def fit(self, space: SearchSpace, data: Any = None, *, epochs: int = 1, seed: int = 0) -> GCNSurrogate:
        """Fit (or copy) the supernet, score ``n_samples`` sampled cells with it, fit the GCN on those scores."""
        from predictbench.predictors.gcn import GCNPredictor

        n = self.n_samples
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= len(space):
            raise ValueError(f"GCNSurrogate: n_samples must be an int in 2..{len(space)}, got {n!r}")
        started = time.perf_counter()
        adapter = copy.deepcopy(self.adapter)
        if self.refit:
            adapter.fit(space, data, epochs=epochs, seed=seed)
        rng = spawn(seed, "gcn-samples")
        if hasattr(space, "from_index"):
            archs = list(space.from_index(rng.choice(len(space), size=n, replace=False)))
        else:
            archs = list(dict.fromkeys(space.sample(rng, 4 * n)))[:n]
        supernet_started = time.perf_counter()
        scores = check_scores(adapter.score(archs), len(archs), repr(adapter))
        self.scoring_seconds_ = time.perf_counter() - supernet_started
        params = {"seed": int(seed), **dict(self.gcn_params or {})}
        gcn = GCNPredictor(**params).fit(self._graphs(space, archs), scores)
        self.space_ = space
        self.adapter_ = adapter
        self.samples_: list[Arch] = archs
        self.sample_scores_ = scores
        self.gcn_ = gcn
        self.fit_seconds_ = time.perf_counter() - started
        return self

    @staticmethod
    def _graphs(space: SearchSpace, archs: Sequence[Arch]) -> tuple[np.ndarray, np.ndarray]:
        if hasattr(space, "graph_arrays"):
            ops, adjacency = space.graph_arrays(archs)
            return np.asarray(ops), np.asarray(adjacency)
        graphs = [space.to_graph(a) for a in archs]
        return np.stack([g.ops for g in graphs]), np.stack([g.adjacency for g in graphs])

    def _check_fitted(self) -> None:
        if not hasattr(self, "gcn_"):
            raise NotFittedError("GCNSurrogate is not fitted yet; call fit(space, data, epochs=..., seed=...)")

    def score(self, archs: Sequence[Arch]) -> np.ndarray:
        """The GCN's scores of ``archs`` (higher is better)."""
        self._check_fitted()
        archs = check_archs(self.space_, archs, "GCNSurrogate")
        if not archs:
            return np.empty(0)
        return np.asarray(self.gcn_.predict(self._graphs(self.space_, archs)), dtype=float)

    def rank_space(self) -> np.ndarray:
        """Scores of every cell of the space, in :meth:`SearchSpace.enumerate` order."""
        self._check_fitted()
        return np.asarray(self.gcn_.predict(self._graphs(self.space_, self.space_.enumerate())), dtype=float)
