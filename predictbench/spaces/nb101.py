"""NAS-Bench-101 cell space: 423,624 cells, keyed by the official module hash.

A cell (a *spec*) is a DAG on at most 7 vertices given by a strictly upper-triangular 0/1 adjacency
matrix and one operation per vertex: vertex 0 is ``input``, the last vertex ``output``, and every
vertex in between one of ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``. A spec is first
**pruned** (vertices not on an input -> output path are removed, as the official ``ModelSpec``
does); it belongs to the space when the input still reaches the output and the pruned spec has at
most 7 vertices and at most 9 edges.

Keys
----
The key of a cell is the **official module hash** of its pruned spec (nasbench
``graph_util.hash_module`` with the labels of ``ModelSpec.hash_spec``: input -1, output -2 and
``conv3x3-bn-relu`` 0, ``conv1x1-bn-relu`` 1, ``maxpool3x3`` 2). The hash is a Weisfeiler-Lehman
style refinement with MD5: each vertex starts from ``md5(str((out_degree, in_degree, label)))``;
then, as many times as the spec has vertices, each vertex becomes the MD5 of its in-neighbours'
hashes sorted and concatenated, ``|``, its out-neighbours' hashes likewise, ``|``, its own hash; the
cell's hash is the MD5 of ``str(sorted(vertex hashes))``. It is invariant under relabelling of the
vertices, and on this space it separates every pair of non-isomorphic cells, so keys join with
every published NB101 table (nasbench's ``hash_iterator``, NASLib, ...). :func:`module_hash` is the
raw algorithm on a spec as given (without pruning).

Canonical specs and the cell table
----------------------------------
The official enumeration (nasbench ``scripts/generate_graphs.py``) walks the vertex counts 2..7,
for each count every adjacency bitmask in increasing order (bit ``x + y * (y - 1) / 2`` is the edge
``x -> y``) and for each mask every labelling in product order (``conv3x3`` < ``conv1x1`` <
``maxpool3x3``, last vertex fastest) and keeps the first spec met for each hash.
:meth:`NB101Space.spec_of` returns exactly that spec (the smallest ``(bits, labelling)`` over the
isomorphic upper-triangular relabellings); it equals the spec the official dataset stores
(``module_adjacency`` / ``module_operations``) for all 300 cells of the shared NB101 sample.

:func:`enumerate_cells` generates the whole space: every full DAG with at most ``max_edges`` edges
and every labelling (1,293,208 labelled graphs with at most 7 vertices and 9 edges), de-duplicated by a
vectorised 64-bit Weisfeiler-Lehman fingerprint that mirrors the official refinement, then the
official MD5 hash of one representative per class, in parallel processes. It yields exactly
423,624 hashes; the counts per vertex count are in :data:`CELLS_BY_VERTICES`. :func:`cell_table`
caches the result as ``<data root>/spaces/nb101_cells.parquet`` (columns ``hash``,
``num_vertices``, ``num_edges``, ``bits`` = the official bitmask of the canonical spec,
``labels`` = its labelling as a base-3 number over the intermediate vertices, first vertex most
significant), so later loads take a fraction of a second.

Which hashes are known
----------------------
A hash is in the space when it is the hash of a valid spec. Specs that went through
:meth:`NB101Space.from_spec`, :meth:`~NB101Space.sample`, :meth:`~NB101Space.mutate` or
:meth:`~NB101Space.neighbors` in this process are remembered, so those keys validate, encode and
mutate without the cell table. Any other key is looked up in the cell table, which is read from
the cache or, the first time on a machine, built (about a minute on 2 cores; logged).

Padded arrays
-------------
Batches of cells are 7-vertex arrays padded at the end (the layout of GBDT-NAS and of the graph
predictors): a cell with V vertices occupies rows/columns 0..V-1 of the (7, 7) adjacency, its
output is vertex V-1, and node labels (indices into :data:`OPS`) are -1 for the padding.

Examples
--------
>>> space = NB101Space()
>>> matrix = [[0, 1, 1, 1, 0, 1, 0],
...           [0, 0, 0, 0, 0, 0, 1],
...           [0, 0, 0, 0, 0, 0, 1],
...           [0, 0, 0, 0, 1, 0, 0],
...           [0, 0, 0, 0, 0, 0, 1],
...           [0, 0, 0, 0, 0, 0, 1],
...           [0, 0, 0, 0, 0, 0, 0]]
>>> ops = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
...        "maxpool3x3", "output"]
>>> arch = space.from_spec(matrix, ops)
>>> len(arch.key), space.is_valid(arch)
(32, True)
>>> space.encode("gbdt", [arch]).shape
(1, 45)
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from predictbench.registry import unknown_name
from predictbench.spaces.base import CellGraph
from predictbench.types import Arch, DataFormatError, OutOfSpaceError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CELLS_BY_VERTICES",
    "CELL_OPS",
    "ENCODINGS",
    "MAX_EDGES",
    "MAX_VERTICES",
    "NUM_CELLS",
    "OPS",
    "CellTable",
    "NB101Space",
    "cell_table",
    "cell_table_path",
    "enumerate_cells",
    "module_hash",
    "prune",
]

log = logging.getLogger(__name__)

NAME = "nb101"
INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT = "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"
OPS: tuple[str, ...] = (INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT)
"""Node labels of padded arrays and graphs: a node label indexes this tuple (-1 = padding)."""
CELL_OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
"""nasbench's ``available_ops`` order: the hash label of an intermediate op is its index here."""
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_CELLS = 423_624
CELLS_BY_VERTICES: dict[int, int] = {2: 1, 3: 6, 4: 84, 5: 2_441, 6: 62_010, 7: 359_082}
"""Distinct cells (hashes) with exactly V vertices, for at most 9 edges; they sum to 423,624."""
ENCODINGS: tuple[str, ...] = ("onehot", "gbdt", "adjops", "path", "opcount")

ArchLike: TypeAlias = "Arch | str"
SampleMethod = Literal["spec", "uniform"]

_V = MAX_VERTICES
_HEX = frozenset("0123456789abcdef")
# node label id -> official hash label, and official digit (0 conv3x3, 1 conv1x1, 2 maxpool) -> node id
_NODE_TO_HASH = np.array([-1, 1, 0, 2, -2], dtype=np.int64)
_DIGIT_TO_NODE = np.array([2, 1, 3], dtype=np.int8)
_OP_TO_NODE = {op: i for i, op in enumerate(OPS)}
# edges (x, y), x < y, in the official bit order: bit x + y * (y - 1) / 2
_EDGES: tuple[tuple[int, int], ...] = tuple((x, y) for y in range(_V) for x in range(y))
_EDGE_X = np.array([x for x, _ in _EDGES], dtype=np.intp)
_EDGE_Y = np.array([y for _, y in _EDGES], dtype=np.intp)
_EDGE_BIT = np.array([x + y * (y - 1) // 2 for x, y in _EDGES], dtype=np.int64)
# BANANAS path encoding: node id -> (index in nasbench's op order) + 1; 0 for input/output/padding
_PATH_DIGIT = np.array([0, 0, 2, 1, 3, 0], dtype=np.int64)  # indexed by node id + 1 (so -1 -> 0)
_NUM_PATHS = sum(3**k for k in range(_V - 1))  # 364: paths of 0..5 intermediate ops

_md5 = hashlib.md5


# --------------------------------------------------------------------------------------------------
# the official hash
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _initial_hex(out_degree: int, in_degree: int, label: int) -> str:
    return _md5(str((out_degree, in_degree, label)).encode("utf-8")).hexdigest()


def _hash_lists(ins: Sequence[Sequence[int]], outs: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """nasbench ``hash_module`` from in/out-neighbour lists and hash labels."""
    r = range(len(labels))
    h = [_initial_hex(len(outs[v]), len(ins[v]), int(labels[v])) for v in r]
    for _ in r:
        h = [
            _md5(
                (
                    "".join(sorted([h[w] for w in ins[v]]))
                    + "|"
                    + "".join(sorted([h[w] for w in outs[v]]))
                    + "|"
                    + h[v]
                ).encode("utf-8")
            ).hexdigest()
            for v in r
        ]
    h.sort()
    return _md5(str(h).encode("utf-8")).hexdigest()


def _hash_matrix(adjacency: np.ndarray, labels: Sequence[int]) -> str:
    """hash_module of a (V, V) 0/1 matrix and its hash labels."""
    n = len(labels)
    ins = [np.flatnonzero(adjacency[:, v]).tolist() for v in range(n)]
    outs = [np.flatnonzero(adjacency[v]).tolist() for v in range(n)]
    return _hash_lists(ins, outs, labels)


def module_hash(matrix: Any, ops: Sequence[str] | str) -> str:
    """nasbench's ``hash_module`` of a spec exactly as given, *without* pruning.

    The key of a cell is the hash of its *pruned* spec (:meth:`NB101Space.from_spec`); the two agree
    when the spec has no dangling vertex.

    Examples
    --------
    >>> module_hash([[0, 1], [0, 0]], ["input", "output"]) == NB101Space().from_spec([[0, 1], [0, 0]],
    ...     ["input", "output"]).key
    True
    """
    adjacency, nodes = _parse_spec(matrix, ops)
    return _hash_matrix(adjacency, _NODE_TO_HASH[nodes].tolist())


# --------------------------------------------------------------------------------------------------
# parsing, pruning, canonical specs
# --------------------------------------------------------------------------------------------------


def _parse_matrix(matrix: Any) -> np.ndarray:
    if isinstance(matrix, str):
        text = matrix.strip()
        side = round(len(text) ** 0.5)
        if side * side != len(text) or set(text) - {"0", "1"}:
            raise OutOfSpaceError(
                f"nb101 matrix string must hold V*V characters 0/1 (row-major), got {len(text)} chars {text!r:.80}"
            )
        return (np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")).reshape(side, side)
    try:
        arr = np.asarray(matrix)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise OutOfSpaceError(f"nb101 matrix must be a square 0/1 array, got {matrix!r:.120} ({exc})") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise OutOfSpaceError(f"nb101 matrix must be square, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.number) or (arr.size and not np.isin(arr, (0, 1)).all()):
        raise OutOfSpaceError(f"nb101 matrix entries must be 0 or 1, got {np.unique(arr)[:6].tolist()!r:.120}")
    return arr.astype(np.uint8)


def _parse_spec(matrix: Any, ops: Sequence[str] | str) -> tuple[np.ndarray, np.ndarray]:
    """(V, V) uint8 adjacency and (V,) int8 node label ids of a spec as given; one-line errors."""
    adjacency = _parse_matrix(matrix)
    v = adjacency.shape[0]
    names = [s.strip() for s in ops.split(",")] if isinstance(ops, str) else list(ops)
    if len(names) != v:
        raise OutOfSpaceError(f"nb101 spec has a {v}x{v} matrix but {len(names)} ops; give one op per vertex")
    if v < 2:
        raise OutOfSpaceError(f"nb101 spec needs at least 2 vertices (input and output), got {v}")
    if np.tril(adjacency).any():
        i, j = (int(k) for k in np.argwhere(np.tril(adjacency))[0])
        raise OutOfSpaceError(
            f"nb101 matrix must be strictly upper triangular (a DAG in vertex order); entry [{i}, {j}] is 1"
        )
    if names[0] != INPUT or names[-1] != OUTPUT:
        raise OutOfSpaceError(
            f"nb101 ops must start with 'input' and end with 'output', got {names[0]!r} ... {names[-1]!r}"
        )
    for k, op in enumerate(names[1:-1], start=1):
        if op not in CELL_OPS:
            raise OutOfSpaceError(f"unknown nb101 op {op!r} at vertex {k}; allowed: {', '.join(CELL_OPS)}")
    nodes = np.array([_OP_TO_NODE[op] for op in names], dtype=np.int8)
    return adjacency, nodes


def _keep_mask(adjacency: np.ndarray) -> np.ndarray:
    """Vertices on an input -> output path of a (V, V) DAG in vertex order."""
    v = adjacency.shape[0]
    fwd = np.zeros(v, dtype=bool)
    bwd = np.zeros(v, dtype=bool)
    fwd[0] = True
    bwd[v - 1] = True
    a = adjacency.astype(bool)
    for j in range(1, v):
        fwd[j] = bool((fwd[:j] & a[:j, j]).any())
    for i in range(v - 2, -1, -1):
        bwd[i] = bool((bwd[i + 1 :] & a[i, i + 1 :]).any())
    return fwd & bwd


def _prune_checked(adjacency: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = _keep_mask(adjacency)
    if not keep[0]:
        raise OutOfSpaceError("nb101 spec is disconnected: no path from the input to the output")
    idx = np.flatnonzero(keep)
    pruned = adjacency[np.ix_(idx, idx)]
    v, e = len(idx), int(pruned.sum())
    if v > MAX_VERTICES:
        raise OutOfSpaceError(f"nb101 spec has {v} vertices after pruning (max {MAX_VERTICES})")
    if e > MAX_EDGES:
        raise OutOfSpaceError(f"nb101 spec has {e} edges after pruning (max {MAX_EDGES})")
    return np.ascontiguousarray(pruned), nodes[idx]


def prune(matrix: Any, ops: Sequence[str] | str) -> tuple[np.ndarray, list[str]]:
    """The pruned spec: vertices not on an input -> output path removed (official ``ModelSpec``).

    Raises ``OutOfSpaceError`` when the spec is malformed, the input does not reach the output, or
    the pruned spec has more than 7 vertices or 9 edges.

    Examples
    --------
    >>> m, ops = prune([[0, 1, 1], [0, 0, 0], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> m.tolist(), ops
    ([[0, 1], [0, 0]], ['input', 'output'])
    """
    adjacency, nodes = _parse_spec(matrix, ops)
    pruned, kept = _prune_checked(adjacency, nodes)
    return pruned.astype(np.int8), [OPS[i] for i in kept.tolist()]


@functools.cache
def _perms(v: int) -> np.ndarray:
    """All vertex orders of a V-vertex cell that keep the input first and the output last."""
    inner = list(itertools.permutations(range(1, v - 1)))
    return np.array([(0, *p, v - 1) for p in inner], dtype=np.intp).reshape(len(inner), v)


def _bits_of(adjacency: np.ndarray) -> int:
    """Official bitmask (bit x + y(y-1)/2 = edge x -> y) of a (V, V) matrix."""
    ys, xs = np.nonzero(adjacency.T)
    return int(np.sum(np.left_shift(1, xs + ys * (ys - 1) // 2)))


def _canonical_code(adjacency: np.ndarray, nodes: np.ndarray) -> tuple[int, int, int]:
    """(V, bits, labels) of the official enumeration's first spec isomorphic to a pruned spec."""
    v = adjacency.shape[0]
    if v == 2:
        return 2, _bits_of(adjacency), 0
    perms = _perms(v)
    permuted = adjacency[perms[:, :, None], perms[:, None, :]]  # new[i, j] = old[p[i], p[j]]
    upper = ~np.tril(permuted).any(axis=(1, 2))
    xs, ys = np.triu_indices(v, 1)
    bits = (permuted[:, xs, ys].astype(np.int64) << (xs + ys * (ys - 1) // 2)).sum(axis=1)
    digits = _NODE_TO_HASH[nodes][perms[:, 1:-1]]
    codes = digits @ (3 ** np.arange(v - 3, -1, -1, dtype=np.int64))
    order = np.lexsort((codes, bits))
    best = order[upper[order]][0]
    return v, int(bits[best]), int(codes[best])


def _decode(num_vertices: np.ndarray, bits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padded (n, 7, 7) uint8 adjacency and (n, 7) int8 node labels of (V, bits, labels) codes."""
    v = np.asarray(num_vertices, dtype=np.int64)
    code = np.asarray(labels, dtype=np.int64)
    n = len(v)
    words = np.ascontiguousarray(np.asarray(bits, dtype=np.int64).astype("<u4"))
    flags = np.unpackbits(words.view(np.uint8).reshape(n, 4), axis=1, bitorder="little")[:, : len(_EDGES)]
    adjacency = np.zeros((n, _V, _V), dtype=np.uint8)
    adjacency[:, _EDGE_X, _EDGE_Y] = flags  # the official bit order is _EDGES order
    nodes = np.full((n, _V), -1, dtype=np.int8)
    nodes[:, 0] = 0
    for k in range(1, _V):
        exponent = v - 2 - k
        digit = (code // 3 ** np.maximum(exponent, 0)) % 3
        nodes[:, k] = np.where(exponent >= 0, _DIGIT_TO_NODE[digit], np.where(v - 1 == k, 4, -1))
    return adjacency, nodes


# --------------------------------------------------------------------------------------------------
# batches of 7-vertex specs (sampling, mutation, neighbours)
# --------------------------------------------------------------------------------------------------


def _keep_batch(adjacency: np.ndarray) -> np.ndarray:
    """(n, 7) vertices on an input -> output path of (n, 7, 7) DAGs whose output is vertex 6."""
    a = adjacency.astype(bool)
    n = len(a)
    fwd = np.zeros((n, _V), dtype=bool)
    bwd = np.zeros((n, _V), dtype=bool)
    fwd[:, 0] = True
    bwd[:, -1] = True
    for j in range(1, _V):
        fwd[:, j] = (fwd[:, :j] & a[:, :j, j]).any(axis=1)
    for i in range(_V - 2, -1, -1):
        bwd[:, i] = (bwd[:, i + 1 :] & a[:, i, i + 1 :]).any(axis=1)
    return fwd & bwd


def _valid_batch(adjacency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keep mask, valid) of (n, 7, 7) full-size specs (output = vertex 6)."""
    keep = _keep_batch(adjacency)
    kept_edges = (adjacency.astype(bool) & keep[:, :, None] & keep[:, None, :]).sum(axis=(1, 2))
    return keep, keep[:, 0] & (kept_edges <= MAX_EDGES)


# --------------------------------------------------------------------------------------------------
# enumeration
# --------------------------------------------------------------------------------------------------

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _full_dag_masks(v: int, max_edges: int) -> np.ndarray:
    """Official bitmasks (ascending) of V-vertex full DAGs with at most ``max_edges`` edges."""
    edges = [(x, y) for y in range(v) for x in range(y)]
    masks = np.arange(2 ** len(edges), dtype=np.int64)
    count = np.zeros(len(masks), dtype=np.int8)
    has_out = np.zeros((len(masks), v), dtype=bool)
    has_in = np.zeros((len(masks), v), dtype=bool)
    for x, y in edges:
        bit = ((masks >> (x + y * (y - 1) // 2)) & 1).astype(bool)
        count += bit
        has_out[:, x] |= bit
        has_in[:, y] |= bit
    ok = (count <= max_edges) & has_out[:, : v - 1].all(axis=1) & has_in[:, 1:].all(axis=1)
    return masks[ok]


def _fingerprints(v: int, masks: np.ndarray) -> np.ndarray:
    """64-bit WL fingerprints of every labelling of every mask: shape (len(masks) * 3**(v-2),).

    Mirrors the official refinement (initial (out-degree, in-degree, label); v rounds of
    (in-neighbour multiset, out-neighbour multiset, own value)); multisets are sums of mixed values.
    """
    n_labels = 3 ** (v - 2)
    digits = np.array(list(itertools.product(range(3), repeat=v - 2)), dtype=np.int64).reshape(n_labels, v - 2)
    labels = np.concatenate([np.full((n_labels, 1), -1), digits, np.full((n_labels, 1), -2)], axis=1)
    edges = [(x, y) for y in range(v) for x in range(y)]
    present = {e: ((masks >> (e[0] + e[1] * (e[1] - 1) // 2)) & 1).astype(np.uint64)[:, None] for e in edges}
    in_deg = np.zeros((v, len(masks), 1), dtype=np.uint64)
    out_deg = np.zeros((v, len(masks), 1), dtype=np.uint64)
    for (x, y), bit in present.items():
        out_deg[x] += bit
        in_deg[y] += bit
    label_term = (labels.T[:, None, :] + 3).astype(np.uint64) * _K3  # (v, 1, L)
    h = _mix(out_deg * _K1 + in_deg * _K2 + label_term + np.uint64(v))  # (v, masks, L)
    for _ in range(v):
        s_in = np.zeros_like(h)
        s_out = np.zeros_like(h)
        for (x, y), bit in present.items():
            s_in[y] += h[x] * bit
            s_out[x] += h[y] * bit
        rotated = (s_out << np.uint64(29)) | (s_out >> np.uint64(35))
        h = _mix(s_in + rotated * _K1 + h * _K2 + np.uint64(0x2545F4914F6CDD1D))
    return np.asarray(_mix(h.sum(axis=0) + np.uint64(v * 1_000_003)).reshape(-1))


def _hash_codes(task: tuple[int, np.ndarray, np.ndarray]) -> list[str]:
    """Official hashes of V-vertex (bits, labels) codes (a process-pool task)."""
    v, bits, labels = task
    edges = [(x, y) for y in range(v) for x in range(y)]
    powers = [3 ** (v - 3 - k) for k in range(v - 2)]
    out: list[str] = []
    last = -1
    ins: list[list[int]] = []
    outs: list[list[int]] = []
    for mask, code in zip(bits.tolist(), labels.tolist(), strict=True):
        if mask != last:
            ins = [[] for _ in range(v)]
            outs = [[] for _ in range(v)]
            for x, y in edges:
                if (mask >> (x + y * (y - 1) // 2)) & 1:
                    outs[x].append(y)
                    ins[y].append(x)
            last = mask
        hash_labels = [-1, *((code // p) % 3 for p in powers), -2]
        out.append(_hash_lists(ins, outs, hash_labels))
    return out


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def enumerate_cells(
    max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, *, workers: int | None = None
) -> CellTable:
    """Generate every cell with at most ``max_vertices`` vertices and ``max_edges`` edges.

    Follows the official enumeration order (see the module docstring) and keeps the first spec of
    each hash, so the table's specs are the official ones. The labelled graphs are de-duplicated with
    a vectorised fingerprint; the official MD5 hash of one representative per class is computed in
    ``workers`` processes (default: the CPUs available). With the defaults the result has exactly
    423,624 rows (checked); about a minute on 2 cores (see ``benchmarks/bench_nb101.py``).

    Examples
    --------
    >>> len(enumerate_cells(max_vertices=5, workers=1))
    2532
    """
    if not 2 <= max_vertices <= MAX_VERTICES:
        raise ValueError(f"max_vertices must be in 2..{MAX_VERTICES}, got {max_vertices}")
    if max_edges < 1:
        raise ValueError(f"max_edges must be positive, got {max_edges}")
    started = time.perf_counter()
    tasks: list[tuple[int, np.ndarray, np.ndarray]] = []
    parts_v, parts_bits, parts_labels = [], [], []
    for v in range(2, max_vertices + 1):
        masks = _full_dag_masks(v, max_edges)
        if not len(masks):
            continue
        n_labels = 3 ** (v - 2)
        chunk = max(1, 400_000 // n_labels)
        firsts: list[np.ndarray] = []
        seen: np.ndarray = np.empty(0, dtype=np.uint64)
        for start in range(0, len(masks), chunk):
            fp = _fingerprints(v, masks[start : start + chunk])
            uniq, first = np.unique(fp, return_index=True)
            fresh = ~np.isin(uniq, seen)
            firsts.append(first[fresh] + start * n_labels)
            seen = np.union1d(seen, uniq[fresh])
        rep = np.sort(np.concatenate(firsts))
        bits = masks[rep // n_labels].astype(np.int32)
        labels = (rep % n_labels).astype(np.int16)
        parts_v.append(np.full(len(rep), v, dtype=np.int8))
        parts_bits.append(bits)
        parts_labels.append(labels)
        step = 20_000
        tasks += [(v, bits[i : i + step], labels[i : i + step]) for i in range(0, len(rep), step)]
        log.debug("nb101 enumeration: %d vertices, %d masks, %d cells", v, len(masks), len(rep))
    fingerprint_s = time.perf_counter() - started
    workers = _default_workers() if workers is None else max(1, int(workers))
    hashes: list[str] = []
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for part in pool.map(_hash_codes, tasks):
                hashes.extend(part)
    else:
        for task in tasks:
            hashes.extend(_hash_codes(task))
    table = CellTable(
        hashes=np.array(hashes, dtype=object),
        num_vertices=np.concatenate(parts_v),
        bits=np.concatenate(parts_bits),
        labels=np.concatenate(parts_labels),
    )
    if len(set(hashes)) != len(hashes):
        raise RuntimeError("nb101 enumeration produced a repeated hash; the fingerprint classes are wrong")
    if max_edges == MAX_EDGES:
        expected = sum(CELLS_BY_VERTICES[v] for v in range(2, max_vertices + 1))
        if len(table) != expected:
            raise RuntimeError(f"nb101 enumeration found {len(table)} cells, expected {expected}")
    log.info(
        "enumerated %d nb101 cells (<= %d vertices, <= %d edges) in %.1f s (fingerprints %.1f s, %d workers)",
        len(table),
        max_vertices,
        max_edges,
        time.perf_counter() - started,
        fingerprint_s,
        workers,
    )
    return table


# --------------------------------------------------------------------------------------------------
# the cell table and its cache
# --------------------------------------------------------------------------------------------------

_TABLE_COLUMNS = ("hash", "num_vertices", "num_edges", "bits", "labels")
_TABLE_VERSION = "1"


@dataclass(frozen=True, eq=False)
class CellTable:
    """Cells with their canonical (official) specs: hash, vertex count, bitmask, labelling code.

    Examples
    --------
    >>> table = enumerate_cells(max_vertices=3, workers=1)
    >>> len(table), table.num_edges.tolist()
    (7, [1, 2, 2, 2, 3, 3, 3])
    >>> adjacency, nodes = table.arrays()
    >>> adjacency.shape, nodes[0].tolist()
    ((7, 7, 7), [0, 4, -1, -1, -1, -1, -1])
    """

    hashes: np.ndarray
    num_vertices: np.ndarray
    bits: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    @functools.cached_property
    def num_edges(self) -> np.ndarray:
        """(n,) int8 edge counts."""
        b = self.bits.astype(np.int64)
        return ((b[:, None] >> _EDGE_BIT) & 1).sum(axis=1).astype(np.int8)

    @functools.cached_property
    def _index(self) -> pd.Index:
        import pandas as pd

        return pd.Index(self.hashes)

    def rows_of(self, keys: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row of each hash (int64), -1 where the hash is not in the table."""
        return np.asarray(self._index.get_indexer(np.asarray(keys, dtype=object)), dtype=np.int64)

    @functools.cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return _decode(self.num_vertices, self.bits, self.labels)

    def arrays(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Padded (n, 7, 7) uint8 adjacency and (n, 7) int8 node labels of ``rows`` (default: all).

        The whole table is decoded once (about 25 MB) and kept.
        """
        adjacency, nodes = self._arrays
        if rows is None:
            return adjacency.copy(), nodes.copy()
        return adjacency[rows], nodes[rows]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "hash": pd.array(self.hashes, dtype="string"),
                "num_vertices": self.num_vertices,
                "num_edges": self.num_edges,
                "bits": self.bits,
                "labels": self.labels,
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "table") -> CellTable:
        missing = [c for c in _TABLE_COLUMNS if c not in frame.columns]
        if missing:
            raise DataFormatError(f"{source}: nb101 cell table lacks columns {missing}")
        return cls(
            hashes=frame["hash"].to_numpy(dtype=object),
            num_vertices=frame["num_vertices"].to_numpy(dtype=np.int8),
            bits=frame["bits"].to_numpy(dtype=np.int32),
            labels=frame["labels"].to_numpy(dtype=np.int16),
        )


_TABLE_LOCK = threading.Lock()
_TABLE: dict[str, CellTable] = {}  # "all" -> the full table, once loaded


def cell_table_path() -> Path:
    """Where the full cell table is cached: ``<data root>/spaces/nb101_cells.parquet``."""
    from predictbench.paths import data_root

    return data_root() / "spaces" / "nb101_cells.parquet"


def _read_cached(path: Path) -> CellTable:
    import pyarrow.parquet as pq

    try:
        parquet = pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{path}: unreadable nb101 cell table ({exc})") from exc
    meta = parquet.schema.metadata or {}
    if meta.get(b"predictbench.nb101_cells") != _TABLE_VERSION.encode():
        raise DataFormatError(f"{path}: not an nb101 cell table of format version {_TABLE_VERSION}")
    table = CellTable.from_frame(parquet.to_pandas(), source=str(path))
    if len(table) != NUM_CELLS:
        raise DataFormatError(f"{path}: nb101 cell table has {len(table)} rows, expected {NUM_CELLS}")
    rows = np.linspace(0, len(table) - 1, 17).astype(np.int64)  # spot check: specs hash to their keys
    adjacency, nodes = _decode(table.num_vertices[rows], table.bits[rows], table.labels[rows])
    for row, adj, node in zip(rows.tolist(), adjacency, nodes, strict=True):
        v = int(table.num_vertices[row])
        if _hash_matrix(adj[:v, :v], _NODE_TO_HASH[node[:v]].tolist()) != table.hashes[row]:
            raise DataFormatError(f"{path}: row {row} of the nb101 cell table does not hash to its key")
    return table


def _write_cached(table: CellTable, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from predictbench.paths import atomic_path

    arrow = pa.Table.from_pandas(table.to_frame(), preserve_index=False)
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), b"predictbench.nb101_cells": _TABLE_VERSION.encode()}
    )
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp)


def cell_table(*, rebuild: bool = False, workers: int | None = None) -> CellTable:
    """The table of all 423,624 cells: from memory, from the cache file, or enumerated (then cached).

    The cache is :func:`cell_table_path` (written atomically); an unreadable or outdated cache is
    rebuilt. Building takes about a minute on 2 cores and is logged; a data root that cannot be
    written only costs the cache.
    """
    with _TABLE_LOCK:
        if "all" in _TABLE and not rebuild:
            return _TABLE["all"]
        path = cell_table_path()
        table: CellTable | None = None
        if path.is_file() and not rebuild:
            try:
                table = _read_cached(path)
            except DataFormatError as exc:
                log.warning("%s; rebuilding it", exc)
        if table is None:
            log.warning("building the nb101 cell table (all %d cells, about a minute on 2 cores)", NUM_CELLS)
            table = enumerate_cells(workers=workers)
            try:
                _write_cached(table, path)
                log.info("cached the nb101 cell table at %s", path)
            except OSError as exc:
                log.warning("could not cache the nb101 cell table at %s (%s)", path, exc)
        _TABLE["all"] = table
        return table


def _loaded_table() -> CellTable | None:
    return _TABLE.get("all")


# --------------------------------------------------------------------------------------------------
# specs seen in this process
# --------------------------------------------------------------------------------------------------

# hash -> pruned spec (adjacency, node ids) of every valid spec hashed in this process
_KNOWN: dict[str, tuple[np.ndarray, np.ndarray]] = {}
# hash -> canonical code (V, bits, labels)
_CANON: dict[str, tuple[int, int, int]] = {}
# bytes of a pruned spec (adjacency + node labels) -> its hash (samplers meet the same specs often)
_SPEC_HASH: dict[bytes, str] = {}


def _remember(adjacency: np.ndarray, nodes: np.ndarray) -> str:
    """Hash of a pruned, valid spec; remembered as a known cell."""
    adjacency = np.ascontiguousarray(adjacency, dtype=np.uint8)
    nodes = np.ascontiguousarray(nodes, dtype=np.int8)
    spec = adjacency.tobytes() + nodes.tobytes()
    key = _SPEC_HASH.get(spec)
    if key is None:
        key = _SPEC_HASH[spec] = _hash_matrix(adjacency, _NODE_TO_HASH[nodes].tolist())
    if key not in _KNOWN:
        _KNOWN[key] = (adjacency, nodes)
    return key


def _canonical_of(key: str) -> tuple[int, int, int]:
    code = _CANON.get(key)
    if code is None:
        adjacency, nodes = _KNOWN[key]
        code = _CANON[key] = _canonical_code(adjacency, nodes)
    return code


def _explain_key(key: object) -> str:
    if isinstance(key, Arch):
        if key.space != NAME:
            return f"arch {key.key!r:.120} belongs to search space {key.space!r}, not {NAME!r}"
        key = key.key
    if not isinstance(key, str):
        return f"nb101 arch must be an Arch or a module hash string, got {type(key).__name__} {key!r:.120}"
    if len(key) != 32 or set(key) - _HEX:
        return f"nb101 key must be a 32-character lowercase hex module hash, got {key!r:.120}"
    return f"{key!r} is not the module hash of any nb101 cell"


def _well_formed(key: str) -> bool:
    return len(key) == 32 and not set(key) - _HEX


def _as_list(items: Iterable[Any]) -> list[Any]:
    if isinstance(items, np.ndarray):
        return items.tolist()
    return items if isinstance(items, list) else list(items)


# --------------------------------------------------------------------------------------------------
# the space
# --------------------------------------------------------------------------------------------------


class NB101Space:
    """The NAS-Bench-101 cell space (423,624 cells) keyed by the official module hash.

    Stateless apart from process-wide caches (the specs met so far and the cell table). See the
    module docstring for specs, pruning, hashes, canonical specs and padded arrays.

    Examples
    --------
    >>> import numpy as np
    >>> space = NB101Space()
    >>> arch = space.from_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    >>> matrix, ops = space.spec_of(arch)
    >>> matrix.tolist(), ops
    ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ['input', 'conv3x3-bn-relu', 'output'])
    >>> space.is_valid(space.mutate(arch, np.random.default_rng(0)))
    True
    >>> len(space), space.encode("path", [arch]).shape
    (423624, (1, 364))
    """

    name: str = NAME

    def __len__(self) -> int:
        return NUM_CELLS

    def __repr__(self) -> str:
        return "NB101Space()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NB101Space)

    def __hash__(self) -> int:
        return hash(NB101Space)

    # ---- specs and keys ------------------------------------------------------------------------

    def from_spec(self, matrix: Any, ops: Sequence[str] | str) -> Arch:
        """The cell of a spec (pruned first, as nasbench does).

        ``matrix`` is a square 0/1 array (nested lists work) or a row-major 0/1 string of V*V
        characters; ``ops`` a list of op names or one comma-separated string. Raises
        ``OutOfSpaceError`` with a one-line reason when the spec is not in the space.
        """
        adjacency, nodes = _parse_spec(matrix, ops)
        pruned, kept = _prune_checked(adjacency, nodes)
        return Arch(NAME, _remember(pruned, kept))

    def from_specs(self, matrices: Iterable[Any], ops: Iterable[Sequence[str] | str]) -> list[Arch]:
        """:meth:`from_spec` over paired sequences (e.g. the ``matrix`` and ``ops`` columns of a table)."""
        out: list[Arch] = []
        for row, (matrix, op) in enumerate(zip(matrices, ops, strict=True)):
            try:
                out.append(self.from_spec(matrix, op))
            except OutOfSpaceError as err:
                raise OutOfSpaceError(f"spec {row}: {err}") from None
        return out

    def spec_of(self, arch: ArchLike) -> tuple[np.ndarray, list[str]]:
        """The canonical spec of a cell: the official dataset's (``module_adjacency``, ``module_operations``)."""
        num_vertices, adjacency, nodes = self.spec_arrays([arch])
        v = int(num_vertices[0])
        return adjacency[0, :v, :v].astype(np.int8), [OPS[i] for i in nodes[0, :v].tolist()]

    def parse(self, text: str) -> Arch:
        """The Arch of a hash string; surrounding whitespace and an ``nb101:`` prefix are allowed."""
        if not isinstance(text, str):
            raise OutOfSpaceError(_explain_key(text))
        text = text.strip()
        if text.startswith(f"{NAME}:"):
            text = text[len(NAME) + 1 :]
        return self.validate(text)

    def validate(self, arch: ArchLike) -> Arch:
        """``arch`` as an Arch of this space; raises ``OutOfSpaceError`` with a one-line reason.

        A hash not met in this process is looked up in the cell table (built on first use).
        """
        key = arch.key if isinstance(arch, Arch) and arch.space == NAME else arch
        if isinstance(key, str) and _well_formed(key) and self._lookup([key])[0] != -1:
            return arch if isinstance(arch, Arch) else Arch(NAME, key)
        raise OutOfSpaceError(_explain_key(arch))

    def is_valid(self, arch: object) -> bool:
        """Whether ``arch`` is an Arch of this space (never raises; may load the cell table)."""
        if not (isinstance(arch, Arch) and arch.space == NAME and isinstance(arch.key, str)):
            return False
        return _well_formed(arch.key) and bool(self._lookup([arch.key])[0] != -1)

    def canonical(self, arch: ArchLike) -> Arch:
        """The cell itself: module hashes are already isomorphism-invariant."""
        return self.validate(arch)

    def keys_valid(self, keys: Iterable[object]) -> np.ndarray:
        """(n,) bool: which values are hashes of cells (vectorised; may load the cell table)."""
        return self._lookup([k if isinstance(k, str) else "" for k in _as_list(keys)]) != -1

    def resolve_keys(self, values: Iterable[object]) -> np.ndarray:
        """Keys of a column of hash strings (object array, None where a value is not a cell).

        Surrounding whitespace, upper case and an ``nb101:`` prefix are accepted. Used by the
        generic table importer (key kind ``"hash"``).
        """
        text = [v.strip().lower().removeprefix(f"{NAME}:") if isinstance(v, str) else "" for v in _as_list(values)]
        out = np.full(len(text), None, dtype=object)
        valid = self.keys_valid(text)
        out[valid] = np.asarray(text, dtype=object)[valid]
        return out

    @staticmethod
    def _lookup(keys: list[str]) -> np.ndarray:
        """Cell-table rows of string keys: -1 for non-cells, -2 for cells known from specs.

        Without a loaded cell table, keys known from specs met in this process get -2 and keys that
        are not even well-formed get -1, without the table; any other key loads (or builds) it, and
        then every key gets its row.
        """
        if _loaded_table() is None:
            rows = np.full(len(keys), -2, dtype=np.int64)
            for i, key in enumerate(keys):
                if key not in _KNOWN:
                    if _well_formed(key):
                        break
                    rows[i] = -1
            else:
                return rows
        return cell_table().rows_of(keys)

    def _keys(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> tuple[list[str], list[object]]:
        """(keys, items) of a batch; items that are not strings or Archs of this space give ``""``."""
        items = [archs_or_keys] if isinstance(archs_or_keys, (Arch, str)) else _as_list(archs_or_keys)
        keys = [
            x
            if isinstance(x, str)
            else (x.key if isinstance(x, Arch) and x.space == NAME and isinstance(x.key, str) else "")
            for x in items
        ]
        return keys, items

    def spec_arrays(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Canonical specs of a batch: (n,) int8 vertex counts, padded (n, 7, 7) uint8 adjacency and
        (n, 7) int8 node labels (indices into :data:`OPS`, -1 = padding).
        """
        keys, items = self._keys(archs_or_keys)
        rows = self._lookup(keys)
        if (rows == -1).any():
            pos = int(np.flatnonzero(rows == -1)[0])
            prefix = f"item {pos}: " if len(items) > 1 else ""
            raise OutOfSpaceError(prefix + _explain_key(items[pos]))
        if len(rows) and rows[0] == -2:  # all known from specs, no table loaded
            codes = np.array([_canonical_of(k) for k in keys], dtype=np.int64).reshape(len(keys), 3)
            adjacency, nodes = _decode(codes[:, 0], codes[:, 1], codes[:, 2])
            return codes[:, 0].astype(np.int8), adjacency, nodes
        table = cell_table()
        adjacency, nodes = table.arrays(rows)
        return table.num_vertices[rows], adjacency, nodes

    # ---- search-space protocol -----------------------------------------------------------------

    def sample(self, rng: np.random.Generator, n: int, *, method: SampleMethod = "spec") -> list[Arch]:
        """``n`` cells drawn i.i.d. (with replacement).

        ``method="spec"`` (default) is the NB101 paper's sampler: a random 7x7 upper-triangular
        matrix (each edge with probability 1/2) and a uniform op per intermediate vertex, redrawn
        until the pruned spec is in the space (so cells are not equally likely: small and
        symmetric cells are rarer). ``method="uniform"`` draws uniformly over the 423,624 cells
        (needs the cell table).
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        n = int(n)
        if method == "uniform":
            table = cell_table()
            return [Arch(NAME, table.hashes[i]) for i in rng.integers(0, len(table), size=n).tolist()]
        if method != "spec":
            raise unknown_name("nb101 sampling method", method, ["spec", "uniform"])
        out: list[Arch] = []
        while len(out) < n:
            batch = max(32, 4 * (n - len(out)))
            adjacency = np.zeros((batch, _V, _V), dtype=np.uint8)
            adjacency[:, _EDGE_X, _EDGE_Y] = rng.integers(0, 2, size=(batch, len(_EDGES)), dtype=np.uint8)
            nodes = np.empty((batch, _V), dtype=np.int8)
            nodes[:, 0], nodes[:, -1] = 0, 4
            nodes[:, 1:-1] = _DIGIT_TO_NODE[rng.integers(0, 3, size=(batch, _V - 2))]
            out += self._hash_batch(adjacency, nodes, limit=n - len(out))
        return out

    @staticmethod
    def _hash_batch(
        adjacency: np.ndarray, nodes: np.ndarray, *, limit: int | None = None, valid_only: bool = True
    ) -> list[Arch]:
        """Archs of the valid specs of a (n, 7, 7) batch (output = vertex 6), in order, at most ``limit``."""
        keep, valid = _valid_batch(adjacency)
        out: list[Arch] = []
        for i in np.flatnonzero(valid).tolist():
            if limit is not None and len(out) >= limit:
                break
            idx = np.flatnonzero(keep[i])
            out.append(Arch(NAME, _remember(np.ascontiguousarray(adjacency[i][np.ix_(idx, idx)]), nodes[i, idx])))
        return out

    def _padded7(self, arch: ArchLike, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
        """The canonical spec as 7 vertices, output last; missing vertices isolated (random ops)."""
        num_vertices, adjacency, nodes = self.spec_arrays([arch])
        v = int(num_vertices[0])
        adj7 = np.zeros((_V, _V), dtype=np.uint8)
        nodes7 = np.empty(_V, dtype=np.int8)
        inner = list(range(v - 1))  # input and intermediate vertices keep their positions
        adj7[np.ix_(inner, inner)] = adjacency[0][np.ix_(inner, inner)]
        adj7[inner, _V - 1] = adjacency[0][inner, v - 1]
        nodes7[: v - 1] = nodes[0, : v - 1]
        nodes7[-1] = 4
        fill = _V - v
        if fill:
            draws = rng.integers(0, 3, size=fill) if rng is not None else np.zeros(fill, dtype=np.int64)
            nodes7[v - 1 : _V - 1] = _DIGIT_TO_NODE[draws]
        return adj7, nodes7

    def mutate(self, arch: Arch, rng: np.random.Generator, *, mutation_rate: float = 1.0) -> Arch:
        """A mutation as in the NB101 paper's regularized evolution, different from ``arch``.

        The canonical spec is taken as 7 vertices (a cell with fewer vertices gets isolated vertices
        with random ops before its output); each of the 21 edges flips with probability
        ``mutation_rate / 7`` and each of the 5 intermediate ops changes, with probability
        ``mutation_rate / 5``, to one of the two other ops; this is redrawn until the pruned result is
        a valid cell other than ``arch``.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        if not 0 < mutation_rate <= _V:
            raise ValueError(f"mutation_rate must be in (0, {_V}], got {mutation_rate}")
        parent = self.validate(arch)
        adj7, nodes7 = self._padded7(parent, rng)
        batch = 16
        for _ in range(10_000):
            flips = rng.random((batch, len(_EDGES))) < mutation_rate / _V
            adjacency = np.broadcast_to(adj7, (batch, _V, _V)).copy()
            adjacency[:, _EDGE_X, _EDGE_Y] ^= flips.astype(np.uint8)
            change = rng.random((batch, _V - 2)) < mutation_rate / (_V - 2)
            step = rng.integers(1, 3, size=(batch, _V - 2))
            digits = _NODE_TO_HASH[nodes7[1:-1]]
            new_digits = np.where(change, (digits + step) % 3, digits)
            nodes = np.broadcast_to(nodes7, (batch, _V)).copy()
            nodes[:, 1:-1] = _DIGIT_TO_NODE[new_digits]
            for child in self._hash_batch(adjacency, nodes):
                if child != parent:
                    return child
        raise RuntimeError(f"no valid mutation of {parent} found")  # pragma: no cover - probability ~0

    def neighbors(self, arch: Arch) -> list[Arch]:
        """Distinct valid cells one edit away from the canonical spec (NASLib / BANANAS local search).

        An edit flips one edge of the spec (upper triangle, edges in row-major order) or changes one
        intermediate op to one of the two others; results are pruned, invalid ones dropped, and the
        list keeps the first occurrence of each cell (never ``arch`` itself). The neighbourhood
        does not depend on which isomorphic spec of the cell one starts from.
        """
        parent = self.validate(arch)
        adj7, nodes7 = self._padded7(parent, None)
        v = self.spec_arrays([parent])[0][0]
        real = [*range(int(v) - 1), _V - 1]
        candidates_adj: list[np.ndarray] = []
        candidates_nodes: list[np.ndarray] = []
        for a, x in enumerate(real):
            for y in real[a + 1 :]:
                flipped = adj7.copy()
                flipped[x, y] ^= 1
                candidates_adj.append(flipped)
                candidates_nodes.append(nodes7)
        for k in real[1:-1]:
            for node in (1, 2, 3):
                if node != nodes7[k]:
                    changed = nodes7.copy()
                    changed[k] = node
                    candidates_adj.append(adj7)
                    candidates_nodes.append(changed)
        if not candidates_adj:
            return []
        found = self._hash_batch(np.stack(candidates_adj), np.stack(candidates_nodes))
        return [a for a in dict.fromkeys(found) if a != parent]

    def enumerate(self) -> list[Arch]:
        """All 423,624 cells in the official enumeration order (needs the cell table)."""
        return [Arch(NAME, key) for key in cell_table().hashes.tolist()]

    def cell_table(self) -> CellTable:
        """The table of all cells (see :func:`cell_table`)."""
        return cell_table()

    def to_graph(self, arch: Arch) -> CellGraph:
        """The canonical spec as a DAG: V nodes labelled by :data:`OPS` (input 0, output V-1)."""
        num_vertices, adjacency, nodes = self.spec_arrays([arch])
        v = int(num_vertices[0])
        return CellGraph(ops=nodes[0, :v].astype(np.int64), adjacency=adjacency[0, :v, :v].copy(), op_names=OPS)

    # ---- encodings (dispatched to by predictbench.encodings) ------------------------------------

    def graph_arrays(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> tuple[np.ndarray, np.ndarray]:
        """Padded graphs: node labels (n, 7) int64 (-1 = padding) and adjacency (n, 7, 7) uint8."""
        _, adjacency, nodes = self.spec_arrays(archs_or_keys)
        return nodes.astype(np.int64), adjacency

    def graph_mask(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """(n, 7) bool: which nodes of :meth:`graph_arrays` are real (not padding)."""
        return self.spec_arrays(archs_or_keys)[2] >= 0

    def encoding_names(self) -> tuple[str, ...]:
        """Feature encodings this space offers."""
        return ENCODINGS

    def feature_names(self, name: str) -> list[str]:
        """Column names of encoding ``name``."""
        if name in ("onehot", "gbdt"):
            names: list[str] = []
            for col in range(1, _V):
                names += [f"edge_{row}_{col}" for row in range(col)]
                names += [f"node_{col}={op}" for op in OPS[1:]]
            return names
        if name == "adjops":
            rows, cols = np.triu_indices(_V, 1)
            return [f"adj_{i}_{j}" for i, j in zip(rows.tolist(), cols.tolist(), strict=True)] + [
                f"node_{v}={op}" for v in range(_V) for op in OPS
            ]
        if name == "opcount":
            return [f"count={op}" for op in OPS[1:4]]
        if name == "path":
            names = [""] * _NUM_PATHS
            for length in range(_V - 1):
                for seq in itertools.product(range(3), repeat=length):
                    index = sum(3**i * (d + 1) for i, d in enumerate(seq))
                    names[index] = "path=" + ">".join([INPUT, *(CELL_OPS[d] for d in seq), OUTPUT])
            return names
        raise unknown_name("encoding", name, list(ENCODINGS))

    def encode(self, name: str, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """Encoding ``name`` of a batch of cells as float32 (n, d)."""
        if name not in ENCODINGS:
            raise unknown_name("encoding", name, list(ENCODINGS))
        _, adjacency, nodes = self.spec_arrays(archs_or_keys)
        return self.encode_arrays(name, adjacency, nodes)

    def encode_arrays(self, name: str, adjacency: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Encoding ``name`` of padded arrays ((n, 7, 7) adjacency, (n, 7) node labels) as float32 (n, d).

        * ``gbdt`` (45), also the default ``onehot``: GBDT-NAS's sequence (Luo et al. 2020,
          ``convert_arch_to_seq``): for vertices 1..6 (0-based) in order, the incoming edge bits from
          every earlier vertex, then the vertex's op one-hot over (conv1x1, conv3x3, maxpool3x3,
          output); zero for padding.
        * ``adjops`` (56): the strict upper triangle (21, row-major) of the adjacency, then the label
          one-hot of each of the 7 nodes over :data:`OPS` (padding all zero).
        * ``path`` (364): BANANAS path encoding: one feature per op sequence of 0..5 ops on an
          input -> output path, index ``sum_i 3**i * (op_i + 1)`` with ops numbered as in nasbench
          (conv3x3 0, conv1x1 1, maxpool3x3 2); 1 when the cell has such a path.
        * ``opcount`` (3): how many vertices carry conv1x1, conv3x3, maxpool3x3.
        """
        if name not in ENCODINGS:
            raise unknown_name("encoding", name, list(ENCODINGS))
        adjacency = np.asarray(adjacency)
        nodes = np.asarray(nodes)
        if adjacency.ndim != 3 or adjacency.shape[1:] != (_V, _V) or nodes.shape != adjacency.shape[:2]:
            raise OutOfSpaceError(
                f"nb101 arrays must be (n, {_V}, {_V}) adjacency and (n, {_V}) labels, got {adjacency.shape}, "
                f"{nodes.shape}"
            )
        n = len(nodes)
        if name in ("onehot", "gbdt"):
            flat = np.empty((n, _V * _V + _V * (len(OPS) - 1)), dtype=np.uint8)
            flat[:, : _V * _V] = adjacency.reshape(n, _V * _V)
            flat[:, _V * _V :] = (nodes[:, :, None] == np.arange(1, len(OPS))).reshape(n, -1)
            return np.take(flat, _gbdt_layout(), axis=1).astype(np.float32)
        if name == "adjops":
            rows, cols = np.triu_indices(_V, 1)
            out = np.zeros((n, len(rows) + _V * len(OPS)), dtype=np.float32)
            out[:, : len(rows)] = adjacency[:, rows, cols]
            out[:, len(rows) :] = (nodes[:, :, None] == np.arange(len(OPS))).reshape(n, _V * len(OPS))
            return out
        if name == "opcount":
            return (nodes[:, :, None] == np.arange(1, 4)).sum(axis=1, dtype=np.float32)
        return _path_encoding(adjacency, nodes)


@functools.cache
def _gbdt_layout() -> np.ndarray:
    """Columns of GBDT-NAS's 45 features in [flattened (7, 7) adjacency | (7, 4) op one-hot]."""
    columns: list[int] = []
    for col in range(1, _V):
        columns += [row * _V + col for row in range(col)]
        columns += [_V * _V + col * (len(OPS) - 1) + k for k in range(len(OPS) - 1)]
    return np.array(columns, dtype=np.intp)


def _path_encoding(adjacency: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """BANANAS path encoding of padded arrays (see :meth:`NB101Space.encode_arrays`).

    Walks the input -> ... prefixes of vertex paths depth first (each prefix extended once), and
    marks the op sequence of every prefix whose last vertex feeds the output.
    """
    n = len(nodes)
    a = adjacency.astype(bool)
    into_output = a[np.arange(n), :, (nodes >= 0).sum(axis=1) - 1]  # (n, 7): edge v -> output
    digit = _PATH_DIGIT[nodes.astype(np.int64) + 1].astype(np.int16)  # (n, 7)
    out = np.zeros((n, _NUM_PATHS), dtype=np.float32)
    hit = np.flatnonzero(into_output[:, 0])
    out[hit, 0] = 1.0  # the direct input -> output path
    stack: list[tuple[int, int, np.ndarray, np.ndarray]] = [(0, 0, np.ones(n, dtype=bool), np.zeros(n, np.int16))]
    while stack:
        last, length, exists, index = stack.pop()
        for nxt in range(last + 1, _V - 1):
            reach = exists & a[:, last, nxt]
            if not reach.any():
                continue
            extended = index + digit[:, nxt] * np.int16(3**length)
            hit = np.flatnonzero(reach & into_output[:, nxt])
            out[hit, extended[hit]] = 1.0
            stack.append((nxt, length + 1, reach, extended))
    return out
