"""Multi-objective search: a budgeted oracle over several objectives, Pareto utilities, exact hypervolume,
ask/tell Pareto searchers (registered by name, imported lazily) and a study with hypervolume curves.

Examples
--------
>>> from predictbench.multiobjective import MO_SEARCHERS
>>> MO_SEARCHERS.names()
['nsga2', 'parego', 'random', 'reinforce']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from predictbench.registry import Registry
from predictbench.spaces import SearchSpace

if TYPE_CHECKING:
    from predictbench.multiobjective.base import MultiObjectiveSearcher

MO_SEARCHERS = Registry("multi-objective searcher")
MO_SEARCHERS.register("random", "predictbench.multiobjective.random:MultiObjectiveRandomSearch")
MO_SEARCHERS.register("nsga2", "predictbench.multiobjective.nsga2:NSGA2Search")
MO_SEARCHERS.register("parego", "predictbench.multiobjective.parego:ParEGOSearch")
MO_SEARCHERS.register("reinforce", "predictbench.search.reinforce:HardwareAwareReinforce")


def make_mo_searcher(name: str, space: SearchSpace, *, seed: int = 0, **options: Any) -> MultiObjectiveSearcher:
    """An instance of the multi-objective searcher registered as ``name``."""
    searcher: MultiObjectiveSearcher = MO_SEARCHERS.get(name)(space, seed=seed, **options)
    return searcher


__all__ = ["MO_SEARCHERS", "make_mo_searcher"]
