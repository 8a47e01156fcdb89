"""The Searcher contract (ask/tell) and the loop that runs a searcher against an Oracle.

``Searcher(space, *, seed, **options)``: every option has a working default; ``ask(n)`` proposes architectures,
``tell(archs, scores)`` reports their scores (higher is better). A searcher owns its RNG and never sees a
benchmark: only scores the Oracle returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from predictbench.oracle import Oracle
from predictbench.rng import spawn
from predictbench.spaces import SearchSpace
from predictbench.types import Arch, BudgetExhausted

log = logging.getLogger(__name__)


class Searcher:
    """Base class: history bookkeeping and sampling helpers."""

    def __init__(self, space: SearchSpace, *, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self.rng: np.random.Generator = spawn(seed, "searcher", type(self).__name__)
        self.scores: dict[str, float] = {}
        self.archs: dict[str, Arch] = {}
        self._proposed: set[str] = set()

    def ask(self, n: int = 1) -> list[Arch]:
        raise NotImplementedError

    def tell(self, archs: Sequence[Arch], scores: Sequence[float] | np.ndarray) -> None:
        if len(archs) != len(scores):
            raise ValueError(f"tell got {len(archs)} architectures but {len(scores)} scores")
        for arch, score in zip(archs, scores, strict=True):
            self.scores[arch.key] = float(score)
            self.archs[arch.key] = arch
            self._observe(arch, float(score))

    def _observe(self, arch: Arch, score: float) -> None:
        """Hook for subclasses: one newly scored architecture."""

    def best(self) -> tuple[Arch, float]:
        if not self.scores:
            raise ValueError(f"{type(self).__name__} has no scored architecture yet")
        key = max(self.scores, key=self.scores.__getitem__)
        return self.archs[key], self.scores[key]

    def _claim(self, arch: Arch) -> bool:
        """Mark ``arch`` as proposed; False when it was proposed before."""
        if arch.key in self._proposed:
            return False
        self._proposed.add(arch.key)
        return True

    def _random_unseen(self, n: int, max_tries: int = 100) -> list[Arch]:
        """Up to ``n`` uniformly drawn architectures never proposed before."""
        out: list[Arch] = []
        for _ in range(max_tries):
            for arch in self.space.sample(self.rng, max(n - len(out), 1) * 2):
                if len(out) < n and self._claim(arch):
                    out.append(arch)
            if len(out) == n:
                break
        return out


class RoundSearcher(Searcher):
    """A searcher that generates new cells in rounds into a queue (best first) and proposes them in order.

    Subclasses implement :meth:`_refill`, which extends :attr:`queued` with cells not :meth:`_taken` yet; when a
    round yields nothing, :meth:`ask` falls back to uniformly drawn unseen cells. Cells told by another component
    leave the queue.
    """

    def __init__(self, space: SearchSpace, *, seed: int = 0) -> None:
        super().__init__(space, seed=seed)
        self.queued: list[Arch] = []  # generated and not yet asked, best predicted first

    def _refill(self, n: int) -> None:
        """Queue at least ``n`` new cells where possible (one round)."""
        raise NotImplementedError

    def _taken(self) -> set[str]:
        """Keys of cells proposed, scored or queued: a round must not generate them again."""
        return self._proposed | set(self.scores) | {a.key for a in self.queued}

    def _random(self, n: int, taken: set[str] | None = None) -> list[Arch]:
        """Up to ``n`` new random cells (not claimed here)."""
        taken = self._taken() if taken is None else taken
        out: dict[str, Arch] = {}
        for arch in self.space.sample(self.rng, 4 * n) if n > 0 else []:
            if len(out) < n and arch.key not in taken:
                out.setdefault(arch.key, arch)
        return list(out.values())

    def ask(self, n: int = 1) -> list[Arch]:
        out: list[Arch] = []
        for _ in range(100):
            if len(out) >= n:
                break
            if not self.queued:
                self._refill(max(n - len(out), 1))
                if not self.queued:
                    continue
            arch = self.queued.pop(0)
            if self._claim(arch):
                out.append(arch)
        if len(out) < n:
            out += self._random_unseen(n - len(out))
        return out

    def _observe(self, arch: Arch, score: float) -> None:
        self._proposed.add(arch.key)
        self.queued = [a for a in self.queued if a.key != arch.key]


def run_search(searcher: Searcher, oracle: Oracle, *, batch_size: int = 1, max_idle_asks: int = 1000) -> Oracle:
    """Ask/evaluate/tell until the oracle's budget is spent; returns the oracle (its history is the run)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    idle = 0
    while oracle.remaining > 0:
        archs = searcher.ask(int(min(batch_size, oracle.remaining)))
        before = oracle.queries
        try:
            scores = oracle.evaluate(archs)
        except BudgetExhausted:
            break
        searcher.tell(archs, scores)
        idle = idle + 1 if oracle.queries == before else 0
        if idle >= max_idle_asks:
            raise RuntimeError(
                f"{type(searcher).__name__} proposed no new architecture in {max_idle_asks} asks "
                f"({oracle.queries} evaluated)"
            )
    return oracle
