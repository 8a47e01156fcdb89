"""Monte-Carlo tree search (UCT) over the decisions of a cell.

The tree fixes one decision per level in position order (NB201: 6 edges, 5 operations each; any space whose
``onehot`` encoding is one group per decision works, see :func:`~predictbench.search.pruning.decisions_of`,
including a pruned :class:`~predictbench.search.pruning.ConstrainedSpace`). Each ``ask`` descends from the root:

1. **selection**: while every child of the node has been visited, move to the child maximising
   ``value + c * sqrt(ln N_parent / N_child)`` (UCB1), where ``value`` is the child's mean score (or its best,
   ``value="max"``), min-max normalised over all scores seen so that ``c`` does not depend on the metric's unit;
2. **expansion**: at the first node with an unvisited child, add one unvisited child chosen at random;
3. **rollout**: complete the remaining decisions uniformly at random among the architectures not yet proposed
   below that node (so every query is a new cell and exhausted subtrees are skipped);
4. **backpropagation** (on ``tell``): the score updates every tree node on the architecture's path.

Architectures scored without passing through the tree (e.g. told by another component) update the nodes on
their path too. The design is plain UCT (as in AlphaX/the GBDT-NAS comparisons), not LaNAS's learned
partitions: it needs no model and is exact on small spaces.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from predictbench.search.base import Searcher
from predictbench.search.pruning import decisions_of, valid_rows
from predictbench.spaces import SearchSpace
from predictbench.types import Arch

log = logging.getLogger(__name__)


@dataclass
class _Node:
    depth: int
    rows: np.ndarray  # enumeration rows of the valid architectures below this node
    visits: int = 0
    total: float = 0.0
    best: float = -math.inf
    children: dict[int, _Node] = field(default_factory=dict)


class MCTSSearch(Searcher):
    """UCT over per-position decisions with uniform rollouts (see the module docstring).

    Parameters
    ----------
    space : an enumerable space with a per-decision ``onehot`` encoding (NB201, NATS size space, or a
        constrained version of one).
    seed : seeds the searcher's RNG.
    exploration : the UCB1 constant ``c`` (on min-max normalised values).
    value : node value: ``"mean"`` score below it, or ``"max"`` (best score below it).

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> mcts = MCTSSearch(get_space("nb201"), seed=0)
    >>> len(mcts.ask(3))
    3
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        exploration: float = 0.2,
        value: Literal["mean", "max"] = "mean",
    ) -> None:
        super().__init__(space, seed=seed)
        if value not in ("mean", "max"):
            raise ValueError(f"value must be 'mean' or 'max', got {value!r}")
        if not exploration >= 0:
            raise ValueError(f"exploration must be >= 0, got {exploration!r}")
        self.exploration = float(exploration)
        self.value = value
        self.decisions = decisions_of(space)
        self._open = valid_rows(space).copy()  # valid and never proposed
        self.root = _Node(0, np.flatnonzero(self._open))
        self._low = math.inf
        self._high = -math.inf

    def _node_value(self, node: _Node) -> float:
        raw = node.best if self.value == "max" else node.total / node.visits
        span = self._high - self._low
        return (raw - self._low) / span if span > 0 else 0.5

    def _open_rows(self, node: _Node) -> np.ndarray:
        return node.rows[self._open[node.rows]]

    def _child(self, node: _Node, choice: int) -> _Node:
        if choice not in node.children:
            rows = node.rows[self.decisions.codes[node.rows, node.depth] == choice]
            node.children[choice] = _Node(node.depth + 1, rows)
        return node.children[choice]

    def _select(self) -> int | None:
        """Enumeration row of the next architecture, or None when the space is exhausted."""
        node = self.root
        while True:
            open_rows = self._open_rows(node)
            if not len(open_rows):
                return None
            if node.depth == self.decisions.n_positions:
                return int(open_rows[0])
            choices = np.unique(self.decisions.codes[open_rows, node.depth])
            fresh = [int(c) for c in choices if int(c) not in node.children or node.children[int(c)].visits == 0]
            if fresh:
                child = self._child(node, fresh[int(self.rng.integers(len(fresh)))])
                rows = self._open_rows(child)
                return int(rows[int(self.rng.integers(len(rows)))])
            log_n = math.log(max(node.visits, 1))
            best_choice, best_ucb = -1, -math.inf
            for c in self.rng.permutation(choices).tolist():
                child = node.children[int(c)]
                ucb = self._node_value(child) + self.exploration * math.sqrt(log_n / child.visits)
                if ucb > best_ucb:
                    best_choice, best_ucb = int(c), ucb
            node = node.children[best_choice]

    def ask(self, n: int = 1) -> list[Arch]:
        out: list[Arch] = []
        archs = self.decisions.archs
        while len(out) < n:
            row = self._select()
            if row is None:
                break
            self._open[row] = False
            arch = archs[row]
            if self._claim(arch):
                out.append(arch)
        return out

    def _observe(self, arch: Arch, score: float) -> None:
        rows = self.decisions._index
        row = rows.get(arch.key)
        if row is None:
            return
        self._open[row] = False
        self._low, self._high = min(self._low, score), max(self._high, score)
        codes = self.decisions.codes[row]
        node: _Node | None = self.root
        while node is not None:
            node.visits += 1
            node.total += score
            node.best = max(node.best, score)
            node = node.children.get(int(codes[node.depth])) if node.depth < len(codes) else None
