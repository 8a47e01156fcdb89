"""Random search without repetition."""

from __future__ import annotations

from predictbench.search.base import Searcher
from predictbench.types import Arch


class RandomSearch(Searcher):
    """Uniformly random architectures, never the same one twice.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> rs = RandomSearch(get_space("nb201"), seed=0)
    >>> len({a.key for a in rs.ask(10)})
    10
    """

    def ask(self, n: int = 1) -> list[Arch]:
        return self._random_unseen(n)
