"""Regularized evolution (Real et al., 2019): tournament selection, mutation, age-based removal."""

from __future__ import annotations

from collections import deque

from predictbench.search.base import Searcher
from predictbench.spaces import SearchSpace
from predictbench.types import Arch


class RegularizedEvolution(Searcher):
    """Aging evolution.

    The first ``population_size`` architectures are random; afterwards each child mutates the best of
    ``sample_size`` population members drawn at random, and the oldest member dies.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> rea = RegularizedEvolution(get_space("nb201"), seed=0, population_size=10, sample_size=3)
    >>> len(rea.ask(4))
    4
    """

    def __init__(self, space: SearchSpace, *, seed: int = 0, population_size: int = 10, sample_size: int = 3) -> None:
        super().__init__(space, seed=seed)
        if population_size < 2 or not 1 <= sample_size <= population_size:
            raise ValueError(
                f"need population_size >= 2 and 1 <= sample_size <= population_size, "
                f"got {population_size} and {sample_size}"
            )
        self.population_size = population_size
        self.sample_size = sample_size
        self.population: deque[tuple[Arch, float]] = deque()

    def _observe(self, arch: Arch, score: float) -> None:
        self.population.append((arch, score))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def _child(self, max_tries: int = 100) -> Arch | None:
        members = list(self.population)
        picks = self.rng.choice(len(members), size=min(self.sample_size, len(members)), replace=False)
        parent = max((members[int(i)] for i in picks), key=lambda m: m[1])[0]
        for _ in range(max_tries):
            child = self.space.mutate(parent, self.rng)
            if self._claim(child):
                return child
        return None

    def ask(self, n: int = 1) -> list[Arch]:
        if len(self.scores) < self.population_size or not self.population:
            return self._random_unseen(n)
        children = [self._child() for _ in range(n)]
        found = [c for c in children if c is not None]
        return found + self._random_unseen(n - len(found)) if len(found) < n else found
