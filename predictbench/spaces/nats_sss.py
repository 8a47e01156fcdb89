"""The NATS-Bench size search space (``sss``): 32,768 channel configurations of one network.

Every architecture shares the same cell topology and depth; what is searched is the number of output
channels of each of its five stages, each in ``{8, 16, ..., 64}``. The key is the official string
``'c0:c1:c2:c3:c4'`` (e.g. ``'8:8:8:16:32'``).

The official index order (``meta_archs`` of ``NATS-sss-v1_0-50262-simple/meta.pickle.pbz2``) is the Cartesian
product order with the last stage varying fastest, so ``index = sum_i (c_i / 8 - 1) * 8 ** (4 - i)``; it is
computed, no data file is needed (the tests check it against the official meta file and the shared table).

Graphs are 5-node chains (stage i -> stage i + 1) whose node labels are the channel choices (``'c8'`` ...
``'c64'``); encodings: ``onehot`` (40), ``channels`` (5), ``adjops`` (50)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
import pandas as pd

from predictbench.registry import unknown_name
from predictbench.spaces.base import CellGraph
from predictbench.types import Arch, OutOfSpaceError

CHANNELS: tuple[int, ...] = (8, 16, 24, 32, 40, 48, 56, 64)
N_STAGES = 5
N_CHOICES = len(CHANNELS)
N_ARCHS = N_CHOICES**N_STAGES
_PLACE = N_CHOICES ** np.arange(N_STAGES - 1, -1, -1, dtype=np.int64)  # 8**4, ..., 8**0
_CHANNEL_ARRAY = np.asarray(CHANNELS, dtype=np.int64)
_CHAIN = np.eye(N_STAGES, k=1, dtype=np.uint8)
GRAPH_OP_NAMES: tuple[str, ...] = tuple(f"c{c}" for c in CHANNELS)
ENCODINGS: tuple[str, ...] = ("onehot", "channels", "adjops")


def _key(channels: Sequence[int]) -> str:
    return ":".join(str(int(c)) for c in channels)


@cache
def _all_keys() -> pd.Index:
    """Every key in official index order (the Cartesian product, last stage fastest)."""
    grid = np.stack(np.meshgrid(*([_CHANNEL_ARRAY] * N_STAGES), indexing="ij"), axis=-1).reshape(-1, N_STAGES)
    keys = pd.Series(grid[:, 0].astype(str))
    for stage in range(1, N_STAGES):
        keys = keys + ":" + grid[:, stage].astype(str)
    return pd.Index(keys.to_numpy(dtype=object))


class NATSSizeSpace:
    """NATS-Bench size search space: 5 stages, each with 8, 16, ..., 64 channels (32,768 networks).

    Architectures are :class:`~predictbench.types.Arch` values with ``space == "nats-sss"`` and the official
    key ``'c0:c1:c2:c3:c4'``. Indices are the official NATS-sss indices (0 ... 32,767).

    Examples
    --------
    >>> import numpy as np
    >>> space = NATSSizeSpace()
    >>> len(space)
    32768
    >>> space.from_index([11])[0].key
    '8:8:8:16:32'
    >>> int(space.index_of(["8:8:8:16:32"])[0])
    11
    >>> arch = space.mutate(space.validate("64:64:64:64:64"), np.random.default_rng(0))
    >>> sum(a != b for a, b in zip(arch.key.split(":"), "64:64:64:64:64".split(":")))
    1
    """

    name = "nats-sss"
    channels_choices: tuple[int, ...] = CHANNELS
    n_stages: int = N_STAGES

    def __len__(self) -> int:
        return N_ARCHS

    def __repr__(self) -> str:
        return "NATSSizeSpace()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NATSSizeSpace)

    def __hash__(self) -> int:
        return hash(NATSSizeSpace)

    # -- keys, indices and channel arrays -------------------------------------------------------------------

    def _diagnose(self, key: str) -> str:
        """Why ``key`` is not a key of this space (called only for keys known to be invalid)."""
        parts = key.split(":")
        if len(parts) != N_STAGES:
            return f"expected {N_STAGES} channel counts joined by ':' (e.g. '8:16:24:32:64'), got {len(parts)}"
        for stage, part in enumerate(parts):
            if not (part.isascii() and part.isdigit()):
                return f"stage {stage}: {part!r} is not a channel count"
            if int(part) not in CHANNELS:
                return f"stage {stage} has {int(part)} channels, allowed: {list(CHANNELS)}"
        official = ":".join(str(int(p)) for p in parts)
        return f"channel counts must be written without leading zeros or signs (official form {official!r})"

    def _codes(self, archs: Sequence[Arch | str]) -> np.ndarray:
        """Official indices of ``archs``; OutOfSpaceError naming the first invalid one and why."""
        strings: list[str] = []
        for item in archs:
            if isinstance(item, Arch):
                if item.space != self.name:
                    raise OutOfSpaceError(f"architecture {item} belongs to space {item.space!r}, not {self.name!r}")
                strings.append(item.key)
            elif isinstance(item, str):
                strings.append(item)
            else:
                raise OutOfSpaceError(
                    f"{item!r} is not a {self.name} architecture: expected an Arch or a key string like '8:16:24:32:64'"
                )
        codes = _all_keys().get_indexer(strings).astype(np.int64)
        if (codes < 0).any():
            key = strings[int(np.flatnonzero(codes < 0)[0])]
            raise OutOfSpaceError(f"{key!r} is not a {self.name} architecture: {self._diagnose(key)}")
        return codes

    def channels(self, archs: Sequence[Arch | str] | Arch | str) -> np.ndarray:
        """Channel counts, shape (n, 5), of architectures or key strings (validated)."""
        digits = (self.index_of(archs)[:, None] // _PLACE[None, :]) % N_CHOICES
        result: np.ndarray = _CHANNEL_ARRAY[digits]
        return result

    def from_channels(self, channels: np.ndarray | Sequence[Sequence[int]]) -> list[Arch]:
        """Architectures from an (n, 5) array of channel counts."""
        array = np.asarray(channels)
        if array.ndim != 2 or array.shape[1] != N_STAGES:
            raise OutOfSpaceError(f"channel array must have shape (n, {N_STAGES}), got {array.shape}")
        allowed = np.isin(array, _CHANNEL_ARRAY).all(axis=1)
        if not allowed.all():
            row = int(np.flatnonzero(~allowed)[0])
            raise OutOfSpaceError(
                f"channels {array[row].tolist()} are not in {self.name}: each must be one of {list(CHANNELS)}"
            )
        digits = array.astype(np.int64) // 8 - 1
        return self.from_index(digits @ _PLACE)

    def index_of(self, archs: Sequence[Arch | str] | Arch | str) -> np.ndarray:
        """Official NATS-sss indices (int64 array) of architectures or key strings."""
        if isinstance(archs, (Arch, str)):
            archs = [archs]
        return self._codes(list(archs))

    def from_index(self, indices: Iterable[int] | np.ndarray | int) -> list[Arch]:
        """Architectures with the given official indices (0 ... 32,767)."""
        array = np.atleast_1d(np.asarray(indices))
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise OutOfSpaceError(f"indices must be integers, got dtype {array.dtype}")
        array = array.astype(np.int64)
        out_of_range = (array < 0) | (array >= N_ARCHS)
        if out_of_range.any():
            bad = int(array[np.flatnonzero(out_of_range)[0]])
            raise OutOfSpaceError(f"index {bad} is out of range for {self.name} (0 ... {N_ARCHS - 1})")
        name = self.name
        return [Arch(name, key) for key in _all_keys()[array]]

    # -- the SearchSpace protocol ---------------------------------------------------------------------------

    def validate(self, arch: Arch | str) -> Arch:
        """The architecture as an Arch of this space; OutOfSpaceError with the reason when it is not one."""
        self._codes([arch])
        return arch if isinstance(arch, Arch) else Arch(self.name, arch)

    def is_valid(self, arch: object) -> bool:
        """Whether ``arch`` is an Arch (or key string) of this space (never raises)."""
        if isinstance(arch, Arch):
            arch = arch.key if arch.space == self.name else None
        return isinstance(arch, str) and _all_keys().get_indexer([arch])[0] >= 0

    def canonical(self, arch: Arch | str) -> Arch:
        """Identity: every channel configuration is a distinct network."""
        return self.validate(arch)

    def sample(self, rng: np.random.Generator, n: int) -> list[Arch]:
        """``n`` configurations drawn i.i.d. uniformly (with replacement), as in the NB201 space."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        return self.from_index(rng.integers(0, N_ARCHS, size=int(n)))

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """Change the channel count of one uniformly chosen stage to a different allowed value."""
        channels = self.channels(arch)[0]
        stage = int(rng.integers(N_STAGES))
        current = CHANNELS.index(int(channels[stage]))
        choice = int(rng.integers(N_CHOICES - 1))
        channels[stage] = CHANNELS[choice + (choice >= current)]
        return Arch(self.name, _key(channels))

    def neighbors(self, arch: Arch) -> list[Arch]:
        """The 35 architectures that differ in exactly one stage (stage-major, channel order)."""
        channels = self.channels(arch)[0]
        candidates = np.repeat(channels[None, :], N_STAGES * N_CHOICES, axis=0)
        stages = np.repeat(np.arange(N_STAGES), N_CHOICES)
        candidates[np.arange(len(candidates)), stages] = np.tile(_CHANNEL_ARRAY, N_STAGES)
        changed = candidates[np.arange(len(candidates)), stages] != channels[stages]
        return self.from_channels(candidates[changed])

    def enumerate(self) -> list[Arch]:
        """All 32,768 architectures in official index order."""
        return self.from_index(np.arange(N_ARCHS))

    def to_graph(self, arch: Arch) -> CellGraph:
        """A 5-node chain: node i is stage i, labelled by its channel count (``'c8'`` ... ``'c64'``)."""
        ops, adjacency = self.graph_arrays([arch])
        return CellGraph(ops=ops[0], adjacency=adjacency[0], op_names=GRAPH_OP_NAMES)

    def graph_arrays(self, archs_or_keys: Sequence[Arch | str] | Arch | str) -> tuple[np.ndarray, np.ndarray]:
        """Batch of chain graphs: node labels (n, 5) int64 (channel choice 0..7) and adjacency (n, 5, 5) uint8."""
        labels = self.channels(archs_or_keys) // 8 - 1
        adjacency = np.broadcast_to(_CHAIN, (len(labels), N_STAGES, N_STAGES)).copy()
        return labels, adjacency

    # -- encodings (dispatched to by predictbench.encodings) ------------------------------------------------

    def encoding_names(self) -> tuple[str, ...]:
        """Feature encodings this space offers: ``onehot`` (40), ``channels`` (5), ``adjops`` (50)."""
        return ENCODINGS

    def feature_names(self, name: str) -> list[str]:
        """Column names of encoding ``name``."""
        if name == "onehot":
            return [f"stage{i}={c}" for i in range(N_STAGES) for c in CHANNELS]
        if name == "channels":
            return [f"stage{i}_channels" for i in range(N_STAGES)]
        if name == "adjops":
            rows, cols = np.triu_indices(N_STAGES, k=1)
            adj = [f"adj_{i}_{j}" for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]
            return adj + [f"node_{i}={op}" for i in range(N_STAGES) for op in GRAPH_OP_NAMES]
        raise unknown_name(f"encoding of space {self.name!r}", name, list(ENCODINGS))

    def encode(self, name: str, archs_or_keys: Sequence[Arch | str] | Arch | str) -> np.ndarray:
        """Encoding ``name`` of a batch as float32 (n, d).

        * ``onehot`` (40): channel-choice one-hot per stage.
        * ``channels`` (5): the channel counts themselves.
        * ``adjops`` (50): strict upper triangle of the chain adjacency (10), then the label one-hot of
          each of the 5 nodes.
        """
        from predictbench.encodings import adjops_features, one_hot

        if name not in ENCODINGS:
            raise unknown_name(f"encoding of space {self.name!r}", name, list(ENCODINGS))
        if name == "channels":
            return self.channels(archs_or_keys).astype(np.float32)
        labels = self.channels(archs_or_keys) // 8 - 1
        if name == "onehot":
            return one_hot(labels, N_CHOICES).reshape(len(labels), N_STAGES * N_CHOICES)
        return adjops_features(labels, _CHAIN, N_CHOICES)


__all__ = ["CHANNELS", "ENCODINGS", "GRAPH_OP_NAMES", "N_ARCHS", "NATSSizeSpace"]
