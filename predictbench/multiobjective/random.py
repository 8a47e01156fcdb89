"""Multi-objective random search: the baseline every Pareto searcher must beat."""

from __future__ import annotations

from predictbench.multiobjective.base import MultiObjectiveSearcher
from predictbench.types import Arch


class MultiObjectiveRandomSearch(MultiObjectiveSearcher):
    """Uniformly random architectures, never the same one twice; the scores only build its front.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> rs = MultiObjectiveRandomSearch(get_space("nb201"), seed=0)
    >>> len({a.key for a in rs.ask(10)})
    10
    """

    def ask(self, n: int = 1) -> list[Arch]:
        return self._random_unseen(n)
