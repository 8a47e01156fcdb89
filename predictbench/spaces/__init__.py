"""Search spaces, one file each, looked up by name through a lazy registry."""

from __future__ import annotations

from functools import cache

from predictbench.registry import Registry
from predictbench.spaces.base import CellGraph, SearchSpace

SPACES = Registry("search space")
SPACES.register("nb201", "predictbench.spaces.nb201:NB201Space")
SPACES.register("nats-sss", "predictbench.spaces.nats_sss:NATSSizeSpace")
SPACES.register("nb101", "predictbench.spaces.nb101:NB101Space")
SPACES.register("nbgraph", "predictbench.spaces.nbgraph:NBGraphSpace")
SPACES.register("nbgraph-proteins", "predictbench.spaces.nbgraph:NBGraphProteinsSpace")


@cache
def get_space(name: str) -> SearchSpace:
    """The (shared, stateless) search space registered under ``name``."""
    space: SearchSpace = SPACES.get(name)()
    return space


__all__ = ["SPACES", "CellGraph", "SearchSpace", "get_space"]
