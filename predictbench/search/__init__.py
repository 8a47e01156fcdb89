"""Searchers (ask/tell), registered by name and imported lazily."""

from __future__ import annotations

from typing import Any

from predictbench.registry import Registry
from predictbench.search.base import Searcher, run_search
from predictbench.spaces import SearchSpace

SEARCHERS = Registry("searcher")
SEARCHERS.register("random", "predictbench.search.random:RandomSearch")
SEARCHERS.register("evolution", "predictbench.search.evolution:RegularizedEvolution")
SEARCHERS.register("local", "predictbench.search.local:LocalSearch")
SEARCHERS.register("guided", "predictbench.search.guided:PredictorGuidedSearch")
SEARCHERS.register("gbdtnas", "predictbench.search.gbdtnas:GBDTNASSearch")
SEARCHERS.register("comparator", "predictbench.search.comparator:ComparatorGuidedSearch")
SEARCHERS.register("mcts", "predictbench.search.mcts:MCTSSearch")
SEARCHERS.register("pruned", "predictbench.search.pruning:PrunedSearch")
SEARCHERS.register("robot", "predictbench.search.robot:RoBoTSearch")
SEARCHERS.register("robot-plus", "predictbench.search.robot_plus:RoBoTPlusSearch")
SEARCHERS.register("reinforce", "predictbench.search.reinforce:ReinforceSearch")
SEARCHERS.register("nao", "predictbench.search.nao:NAOSearch")
SEARCHERS.register("diffusion", "predictbench.search.diffusion:DiffusionSearch")


def make_searcher(name: str, space: SearchSpace, *, seed: int = 0, **options: Any) -> Searcher:
    """An instance of the searcher registered as ``name``."""
    searcher: Searcher = SEARCHERS.get(name)(space, seed=seed, **options)
    return searcher


__all__ = ["SEARCHERS", "Searcher", "make_searcher", "run_search"]
