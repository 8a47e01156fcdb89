"""Local search with random restarts (best-improvement hill climbing over ``space.neighbors``)."""

from __future__ import annotations

from predictbench.search.base import Searcher
from predictbench.spaces import SearchSpace
from predictbench.types import Arch


class LocalSearch(Searcher):
    """Evaluate every neighbour of the current cell, move to the best if it improves, else restart at random.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> ls = LocalSearch(get_space("nb201"), seed=0)
    >>> len(ls.ask(1))
    1
    """

    def __init__(self, space: SearchSpace, *, seed: int = 0) -> None:
        super().__init__(space, seed=seed)
        self.current: Arch | None = None
        self._queue: list[Arch] = []
        self._awaiting: set[str] = set()
        self._restart: Arch | None = None

    def _neighbours_to_try(self, arch: Arch) -> list[Arch]:
        neighbours = self.space.neighbors(arch)
        return [neighbours[int(i)] for i in self.rng.permutation(len(neighbours))]

    def _move(self) -> None:
        """All neighbours of the current cell are scored: climb to the best, or restart at a local optimum."""
        assert self.current is not None
        scored = [a for a in self.space.neighbors(self.current) if a.key in self.scores]
        best = max(scored, key=lambda a: self.scores[a.key], default=None)
        if best is not None and self.scores[best.key] > self.scores[self.current.key]:
            self.current = best
            self._queue = self._neighbours_to_try(best)
        else:
            self.current = None

    def ask(self, n: int = 1) -> list[Arch]:
        out: list[Arch] = []
        while len(out) < n:
            if self.current is None:
                if self._restart is None:
                    fresh = self._random_unseen(1)
                    if not fresh:
                        break
                    self._restart = fresh[0]
                    self._awaiting.add(fresh[0].key)
                    out.append(fresh[0])
                break  # the restart cell must be scored before its neighbours are known
            while self._queue and self._queue[0].key in self._proposed:
                self._queue.pop(0)
            if self._queue:
                arch = self._queue.pop(0)
                self._claim(arch)
                self._awaiting.add(arch.key)
                out.append(arch)
            elif self._awaiting:
                break
            else:
                self._move()
        return out

    def _observe(self, arch: Arch, score: float) -> None:
        self._awaiting.discard(arch.key)
        if self._restart is not None and arch.key == self._restart.key:
            self._restart = None
            self.current = arch
            self._queue = self._neighbours_to_try(arch)
