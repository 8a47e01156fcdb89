"""The SearchSpace contract and the numpy cell-graph value every space produces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from predictbench.types import Arch


@dataclass(frozen=True)
class CellGraph:
    """A cell as a DAG in numpy: ``ops[v]`` indexes ``op_names``; ``adjacency[i, j] = 1`` for edge i -> j.

    Converting to torch-geometric happens at the GCN boundary (``predictbench.encodings.to_pyg``).
    """

    ops: np.ndarray
    adjacency: np.ndarray
    op_names: tuple[str, ...]


@runtime_checkable
class SearchSpace(Protocol):
    """What every search space offers. Invalid input raises ``OutOfSpaceError`` with the reason."""

    name: str

    def sample(self, rng: np.random.Generator, n: int) -> list[Arch]: ...

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch: ...

    def neighbors(self, arch: Arch) -> list[Arch]: ...

    def enumerate(self) -> list[Arch]: ...

    def is_valid(self, arch: Arch) -> bool: ...

    def validate(self, arch: Arch | str) -> Arch: ...

    def to_graph(self, arch: Arch) -> CellGraph: ...

    def canonical(self, arch: Arch) -> Arch: ...

    def __len__(self) -> int: ...


def keys_of(archs: Sequence[Arch | str]) -> list[str]:
    """Keys of a mixed sequence of Arch values and key strings."""
    return [a.key if isinstance(a, Arch) else str(a) for a in archs]
