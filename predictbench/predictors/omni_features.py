"""Architecture and proxy features for the omni predictor, vectorised over whole benchmarks (numpy only).

Three ingredients, each defined cell by cell (a cell's features never depend on the rest of its batch):

- **canonical cells** (NB201 / NATS-tss): every cell is replaced by the dead-op-free form of the representative
  of its functional class (:meth:`~predictbench.spaces.nb201.NB201Space.canonical_index`), so the 15,625 cells
  collapse onto their 4,930 distinct functions and functionally identical cells share every structural feature;
- **graph features** (:func:`nb201_graph_features`; on other spaces GRAF features of the space's own cell graphs,
  :func:`structure_features`): counts and lengths of the input-to-output paths that use
  only a given set of operations, the degrees of the input and output nodes in that set, the number of
  convolutions on the shallowest and deepest live path, and operation counts. They follow the idea of neural
  graph features (GRAF; Kadlecová et al., ICML 2024): simple path and degree statistics that a tree or kernel
  model reads far more easily than a one-hot encoding;
- **class-averaged proxy ranks** (:class:`ProxyRanks`): each proxy turned into its mid-rank among all cells of
  the benchmark (training-free; oriented by its declared direction), then averaged over the cell's functional
  class. A proxy is one noisy measurement at initialisation; the members of a class compute the same function,
  so their mean is a less noisy value of the same quantity.

Examples
--------
>>> import numpy as np
>>> ops = np.array([[3, 3, 3, 1, 3, 2]])  # the best NB201 cell (official edge order, OPS ids)
>>> nb201_graph_features(ops).shape == (1, len(NB201_GRAPH_FEATURE_NAMES))
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from predictbench.encodings import encoding_names

__all__ = [
    "GRAPH_DESCRIPTORS",
    "NB201_GRAPH_FEATURE_NAMES",
    "ProxyRanks",
    "canonical_ops",
    "nb201_graph_features",
    "structure_features",
]

#: Graph encoding that gives the descriptors on spaces without a canonical form (see :mod:`predictbench.graf`).
GRAPH_DESCRIPTORS = "graf"
# NB201 op ids (predictbench.spaces.nb201.OPS order)
_NONE, _SKIP, _CONV1, _CONV3, _POOL = range(5)
# input->output paths as official edge positions: 0->3; 0->1->3; 0->2->3; 0->1->2->3
_PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
_PATH_LENGTHS = np.array([len(p) for p in _PATHS])
_FROM_INPUT = [0, 1, 3]  # edges 1<-0, 2<-0, 3<-0
_INTO_OUTPUT = [3, 4, 5]  # edges 3<-0, 3<-1, 3<-2
_OP_SETS: dict[str, tuple[int, ...]] = {
    "conv3": (_CONV3,),
    "conv1": (_CONV1,),
    "conv": (_CONV1, _CONV3),
    "conv_skip": (_SKIP, _CONV1, _CONV3),
    "conv_pool": (_CONV1, _CONV3, _POOL),
    "skip": (_SKIP,),
    "pool": (_POOL,),
    "any": (_SKIP, _CONV1, _CONV3, _POOL),
}
_OP_NAMES = ("none", "skip", "conv1", "conv3", "pool")


def _graph_feature_names() -> list[str]:
    names = []
    for label in _OP_SETS:
        names += [
            f"{label}:paths",
            f"{label}:min_len",
            f"{label}:max_len",
            f"{label}:in_deg_out",
            f"{label}:out_deg_in",
        ]
    for label in ("conv3", "conv1", "conv"):
        names += [f"live_paths:max_{label}", f"live_paths:min_{label}"]
    names.append("live_paths")
    names += [f"count:{op}" for op in _OP_NAMES]
    return names


#: Column names of :func:`nb201_graph_features`.
NB201_GRAPH_FEATURE_NAMES: tuple[str, ...] = tuple(_graph_feature_names())


def nb201_graph_features(ops: np.ndarray) -> np.ndarray:
    """Path and degree statistics of NB201 cells, float64 (n, 52).

    ``ops`` is an (n, 6) array of op ids in the official edge order (``NB201Space.ops_array``); pass dead-op-
    free cells (:func:`canonical_ops`) so that dead operations do not count. For each op set (e.g. ``conv`` =
    1x1 and 3x3 convolutions): how many of the 4 input->output paths use only ops of the set, the shortest and
    longest such path (0 when none), how many edges of the set enter the output and leave the input. Then, over
    the live paths (no ``none`` edge), the most and fewest 3x3 / 1x1 / any convolutions, the number of live
    paths, and the count of each op. Names: :data:`NB201_GRAPH_FEATURE_NAMES`.
    """
    ops = np.asarray(ops)
    if ops.ndim != 2 or ops.shape[1] != 6:
        raise ValueError(f"nb201_graph_features needs an (n, 6) op-id array, got shape {ops.shape}")
    columns: list[np.ndarray] = []
    for members in _OP_SETS.values():
        inside = np.isin(ops, members)
        whole = np.stack([inside[:, list(path)].all(axis=1) for path in _PATHS], axis=1)
        count = whole.sum(axis=1)
        shortest = np.where(whole, _PATH_LENGTHS, 9).min(axis=1)
        columns += [
            count,
            np.where(count > 0, shortest, 0),
            np.where(whole, _PATH_LENGTHS, 0).max(axis=1),
            inside[:, _INTO_OUTPUT].sum(axis=1),
            inside[:, _FROM_INPUT].sum(axis=1),
        ]
    live = np.stack([(ops[:, list(path)] != _NONE).all(axis=1) for path in _PATHS], axis=1)
    any_live = live.any(axis=1)
    for members in ((_CONV3,), (_CONV1,), (_CONV1, _CONV3)):
        on_path = np.stack([np.isin(ops[:, list(path)], members).sum(axis=1) for path in _PATHS], axis=1)
        columns += [np.where(live, on_path, 0).max(axis=1), np.where(live, on_path, 9).min(axis=1) * any_live]
    columns.append(live.sum(axis=1))
    columns += [(ops == op).sum(axis=1) for op in range(len(_OP_NAMES))]
    return np.stack(columns, axis=1).astype(np.float64)


def canonical_ops(space: Any, keys: Sequence[str] | np.ndarray) -> np.ndarray:
    """(n, 6) op ids of the dead-op-free representative of each cell's functional class (NB201 spaces).

    Functionally identical cells (same :meth:`canonical_index`) get identical rows.
    """
    representatives = space.canonical_index()[space.index_of(keys)]
    ops = space.ops_array(space.from_index(representatives))
    return np.where(space.dead_op_mask(ops), _NONE, ops)


def _has_canonical_forms(space: Any) -> bool:
    return all(hasattr(space, name) for name in ("canonical_index", "index_of", "dead_op_mask", "encode_ops"))


@functools.cache
def _canonical_tables(space: Any) -> tuple[np.ndarray, np.ndarray]:
    """(one-hot, graph features) of the canonical form of every cell, rows in official index order."""
    ops = canonical_ops(space, [arch.key for arch in space.from_index(np.arange(len(space)))])
    encoded, graph = space.encode_ops("onehot", ops).astype(np.float64), nb201_graph_features(ops)
    encoded.setflags(write=False)
    graph.setflags(write=False)
    return encoded, graph


def structure_features(X: Any, encoding: str = "onehot") -> tuple[np.ndarray, np.ndarray]:
    """Architecture features of a batch as ``(encoding, descriptors)``, float64.

    On a space with canonical forms (NB201 / NATS-tss): the one-hot encoding of each cell's canonical
    dead-op-free form, and :func:`nb201_graph_features` of it (both tabulated once per space). On any other
    space: the batch's ``encoding`` features, and as descriptors the GRAF features of the space's own cell
    graphs (:data:`GRAPH_DESCRIPTORS`; path and degree statistics over operation subsets, the generalisation of
    the NB201 graph features) where the space offers them, else the ``encoding`` features again.
    """
    space = X.benchmark.space
    if not _has_canonical_forms(space):
        features = np.asarray(X.features(encoding), dtype=np.float64)
        if encoding != GRAPH_DESCRIPTORS and GRAPH_DESCRIPTORS in encoding_names(space):
            return features, np.asarray(X.features(GRAPH_DESCRIPTORS), dtype=np.float64)
        return features, features
    encoded, graph = _canonical_tables(space)
    rows = space.index_of(X.keys)
    return encoded[rows], graph[rows]


class ProxyRanks:
    """Training-free proxy ranks over a benchmark's cells, averaged over functional classes where known.

    ``fit`` ranks every proxy among all cells of ``pool`` (an ArchBatch's benchmark: its ``keys()`` and
    ``proxies(...)``), oriented by ``signs`` (+1 higher-is-better), as mid-ranks in (0, 1); a missing value
    ranks 0 (the worst). On spaces with canonical forms the ranks are then averaged over each functional class.
    ``transform`` looks the values up by key, so a cell's features never depend on the rest of its batch; keys
    outside the pool are ranked against it directly (without class averaging). ``log_ensemble`` names proxies
    whose mean log-rank (the ``zero-shot`` predictor's score; AZ-NAS's aggregation) joins as one more column,
    ranked among the pool's cells like the others.
    """

    def __init__(self, names: Sequence[str], signs: np.ndarray, *, log_ensemble: Sequence[str] = ()) -> None:
        self.names = list(names)
        self.signs = np.asarray(signs, dtype=float)
        missing = [name for name in log_ensemble if name not in self.names]
        if missing:
            raise ValueError(f"log_ensemble names proxies not among {self.names}: {missing}")
        self.log_ensemble = [self.names.index(name) for name in log_ensemble]
        self.sorted_: list[np.ndarray] = []
        self.ensemble_sorted_ = np.zeros(0)
        self.table_: dict[str, int] = {}
        self.values_ = np.zeros((0, self.width))

    @property
    def width(self) -> int:
        """Columns of :meth:`transform`: one rank per proxy, plus the log-rank ensemble's when there is one."""
        return len(self.names) + (1 if self.log_ensemble else 0)

    def _ensemble(self, ranks: np.ndarray) -> np.ndarray:
        """Mean log-rank over the ``log_ensemble`` members that have a value (a missing value ranks 0); NaN
        where none has."""
        members = ranks[:, self.log_ensemble]
        logs = np.log(np.where(members > 0, members, np.nan))
        counts = np.isfinite(logs).sum(axis=1)
        total = np.nansum(logs, axis=1)
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)

    @staticmethod
    def _mid_rank(ref: np.ndarray, column: np.ndarray) -> np.ndarray:
        out = np.zeros(column.shape)
        finite = np.isfinite(column)
        if ref.size:
            below = np.searchsorted(ref, column[finite], side="left")
            upto = np.searchsorted(ref, column[finite], side="right")
            out[finite] = (below + upto) / (2.0 * ref.size)
        return out

    def _rank(self, raw: np.ndarray) -> np.ndarray:
        out = np.zeros(raw.shape)
        for j, ref in enumerate(self.sorted_):
            out[:, j] = self._mid_rank(ref, raw[:, j] * self.signs[j])
        return out

    def _with_ensemble(self, ranks: np.ndarray) -> np.ndarray:
        if not self.log_ensemble:
            return ranks
        return np.hstack([ranks, self._mid_rank(self.ensemble_sorted_, self._ensemble(ranks))[:, None]])

    def fit(self, pool: Any) -> ProxyRanks:
        keys = np.asarray(pool.keys(), dtype=object)
        raw = np.asarray(pool.proxies(keys, self.names), dtype=float)
        oriented = raw * self.signs
        self.sorted_ = [np.sort(oriented[:, j][np.isfinite(oriented[:, j])]) for j in range(raw.shape[1])]
        ranks = self._rank(raw)
        space = pool.space
        if _has_canonical_forms(space):
            classes = np.unique(space.canonical_index()[space.index_of(keys)], return_inverse=True)[1].reshape(-1)
            sums = np.zeros((classes.max() + 1, ranks.shape[1]))
            np.add.at(sums, classes, ranks)
            ranks = (sums / np.bincount(classes)[:, None])[classes]
        if self.log_ensemble:
            ensemble = self._ensemble(ranks)
            self.ensemble_sorted_ = np.sort(ensemble[np.isfinite(ensemble)])
            ranks = self._with_ensemble(ranks)
        self.table_ = {str(k): i for i, k in enumerate(keys)}
        self.values_ = ranks
        return self

    def transform(self, keys: np.ndarray, read_raw: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """(n, k) ranks of ``keys``; ``read_raw(keys)`` gives raw proxy values of keys outside the pool."""
        keys = np.asarray(keys, dtype=object)
        rows = np.fromiter((self.table_.get(str(k), -1) for k in keys), dtype=np.int64, count=len(keys))
        out = self.values_[np.maximum(rows, 0)]
        unknown = rows < 0
        if unknown.any():
            out[unknown] = self._with_ensemble(self._rank(np.asarray(read_raw(keys[unknown]), dtype=float)))
        return out
