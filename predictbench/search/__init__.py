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


def make_searcher(name: str, space: SearchSpace, *, seed: int = 0, **options: Any) -> Searcher:
    """An instance of the searcher registered as ``name``."""
    searcher: Searcher = SEARCHERS.get(name)(space, seed=seed, **options)
    return searcher


__all__ = ["SEARCHERS", "Searcher", "make_searcher", "run_search"]
