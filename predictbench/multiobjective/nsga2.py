"""NSGA-II-style evolution (Deb et al., IEEE TEC 2002) with steady-state replacement, for ask/tell loops.

Parents are chosen by tournaments on the crowded-comparison order (lower non-domination rank first, then larger
crowding distance); a child is a mutation of its parent (the space contract offers mutation, not crossover). Each
scored child joins the population at once and the worst member leaves: from the last front, the one with the
smallest crowding distance (the oldest on ties). This (mu + 1) scheme is NSGA-II's steady-state variant (Durillo et
al., 2009), which spends a small query budget better than whole generations do.
"""

from __future__ import annotations

import numpy as np

from predictbench.multiobjective.base import MultiObjectiveSearcher
from predictbench.multiobjective.pareto import crowding_distance, non_dominated_sort
from predictbench.spaces import SearchSpace
from predictbench.types import Arch


def crowded_order(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-domination rank (lower is better) and crowding distance within its front (higher is better)."""
    ranks = non_dominated_sort(matrix)
    crowding = np.zeros(len(matrix))
    for front in np.unique(ranks):
        members = np.flatnonzero(ranks == front)
        crowding[members] = crowding_distance(matrix[members])
    return ranks, crowding


class NSGA2Search(MultiObjectiveSearcher):
    """Steady-state NSGA-II: tournament on (rank, crowding), mutation, replace the most crowded of the last front.

    Parameters
    ----------
    space : the search space.
    seed : seeds the searcher's RNG.
    population_size : members kept; the first ``population_size`` architectures are uniformly random.
    tournament_size : members drawn per parent tournament (2: binary tournament, as in NSGA-II).
    max_edits : a child is 1..``max_edits`` mutations away from its parent.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> nsga = NSGA2Search(get_space("nb201"), seed=0, population_size=10)
    >>> len(nsga.ask(4))
    4
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        population_size: int = 10,
        tournament_size: int = 2,
        max_edits: int = 1,
    ) -> None:
        super().__init__(space, seed=seed)
        for name, value, low in (("population_size", population_size, 2), ("tournament_size", tournament_size, 1),
                                 ("max_edits", max_edits, 1)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if tournament_size > population_size:
            raise ValueError(f"tournament_size {tournament_size} exceeds population_size {population_size}")
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.max_edits = max_edits
        self.population: list[str] = []

    def _observe_vector(self, arch: Arch, scores: np.ndarray) -> None:
        self.population.append(arch.key)
        if len(self.population) > self.population_size:
            ranks, crowding = crowded_order(self.score_matrix(self.population))
            last = np.flatnonzero(ranks == ranks.max())
            del self.population[int(last[np.argmin(crowding[last])])]

    def _parent(self, ranks: np.ndarray, crowding: np.ndarray) -> Arch:
        picks = self.rng.choice(len(self.population), size=self.tournament_size, replace=False)
        winner = min(picks, key=lambda i: (ranks[i], -crowding[i]))
        return self.archs[self.population[int(winner)]]

    def _child(self, parent: Arch, max_tries: int = 100) -> Arch | None:
        for _ in range(max_tries):
            child = parent
            for _ in range(int(self.rng.integers(1, self.max_edits + 1))):
                child = self.space.mutate(child, self.rng)
            if self._claim(child):
                return child
        return None

    def ask(self, n: int = 1) -> list[Arch]:
        if len(self.population) < self.population_size:
            return self._random_unseen(n)
        ranks, crowding = crowded_order(self.score_matrix(self.population))
        children = [self._child(self._parent(ranks, crowding)) for _ in range(n)]
        found = [c for c in children if c is not None]
        return found + self._random_unseen(n - len(found)) if len(found) < n else found
