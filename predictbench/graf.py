"""GRAF neural graph features: data-free architecture features from each space's cell graph (numpy only).

GRAF (Kadlecová et al., "Surprisingly strong performance prediction with neural graph features", ICML 2024)
describes a cell by simple statistics of its graph, one per *operation set* (every non-empty subset of the
space's operations, e.g. 31 for NB201's 5 operations):

- ``op_count_<id>``: how many times each operation occurs;
- ``min_path_len_banned_<set>``: the fewest operations on an input->output path that uses none of the banned
  operations (every proper subset is a banned set, the empty one included); ``longest + 2`` when no such path
  exists, where ``longest`` is the most operations any input->output path of the space can hold (5 for NB201,
  as in the reference values);
- ``max_op_on_path_allowed_<set>``: the most operations on an input->output path made only of the allowed
  operations; -1 when there is none;
- ``node_degree_allowed_<set>_{in_degree,out_degree,avg_in,avg_out}``: how many allowed operations the input
  node feeds (``in_degree``) and how many feed the output node (``out_degree``), named as in the GRAF reference
  code; then the mean over the cell's nodes of the allowed operations leaving (``avg_in``) and entering
  (``avg_out``) a node. In an edge-labelled cell (NB201) both means are the number of allowed edges over the
  number of cell nodes.

Columns are named as in ``../shared/benchmarks_data/zc/nb201_graf_features_reference.parquet`` (``graf__``
prefix, sets written as lists of operation ids), and reproduce it exactly for all 15,625 NB201 cells (see
``tests/test_graf.py``). Operation ids follow the GRAF code: NB201 / NATS-tss use NASLib's coding (0
``skip_connect``, 1 ``none``, 2 ``nor_conv_3x3``, 3 ``nor_conv_1x1``, 4 ``avg_pool_3x3``); NB101 uses 2
``maxpool3x3``, 3 ``conv1x1-bn-relu``, 4 ``conv3x3-bn-relu``; NAS-Bench-Graph numbers its operations in the
space's order from 0 (:func:`op_ids`). ``max_op_on_path`` follows the GRAF code as of August 2024 (only paths
made entirely of allowed operations count); the paper-time code counted allowed operations on any path.

Everything is computed from the op-on-node graphs of ``space.graph_arrays`` (input node 0, output the last
real node, edges only from lower to higher nodes), vectorised over the batch and all operation sets at once.
Through :mod:`predictbench.encodings` the features are the encoding ``"graf"`` of every space listed in
:data:`SPACES`, so ``benchmark.batch(keys).features("graf")`` and every feature predictor's
``encoding="graf"`` work.

Examples
--------
>>> best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
>>> x = graf_features("nb201", [best])
>>> x.shape
(1, 191)
>>> names = feature_names("nb201")
>>> int(x[0, names.index("graf__max_op_on_path_allowed_[2, 3]")])  # conv3x3, conv3x3, conv1x1 in a row
3
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictbench.registry import unknown_name

__all__ = [
    "GRAF",
    "SPACES",
    "GrafLayout",
    "feature_names",
    "graf_features",
    "graf_from_graphs",
    "layout_of",
    "op_ids",
]

PREFIX = "graf__"
_NO_PATH = np.int16(-1)
_FAR = np.int16(np.iinfo(np.int16).max)
_CHUNK_ELEMENTS = 1 << 23  # rows x nodes x sets per chunk: bounds the working memory (~100 MB)


@dataclass(frozen=True)
class GrafLayout:
    """How GRAF reads a space's op-on-node graphs.

    Attributes
    ----------
    op_labels
        The graph labels that are operations, in GRAF id order; every other label (input, output, padding -1)
        is structure.
    op_names
        The names of those operations (same order).
    first_id
        The GRAF id of ``op_labels[0]`` (ids are consecutive from it); it only names columns.
    cell_nodes
        For edge-labelled cells shown as op-on-node graphs (NB201): the number of nodes of the cell, over which
        the degree means are taken. None for node-labelled cells (means over the graph's real nodes).

    Examples
    --------
    >>> layout_of("nb101").op_names
    ('maxpool3x3', 'conv1x1-bn-relu', 'conv3x3-bn-relu')
    """

    op_labels: tuple[int, ...]
    op_names: tuple[str, ...]
    first_id: int = 0
    cell_nodes: int | None = None

    def __post_init__(self) -> None:
        if not self.op_labels or len(set(self.op_labels)) != len(self.op_labels) or min(self.op_labels) < 0:
            raise ValueError(f"GrafLayout.op_labels must be distinct non-negative labels, got {self.op_labels}")
        if len(self.op_names) != len(self.op_labels):
            raise ValueError(f"GrafLayout: {len(self.op_labels)} op_labels but {len(self.op_names)} op_names")


def _nb201_layout(space: Any) -> GrafLayout:
    from predictbench.spaces.nb201 import GRAPH_OP_NAMES, NASLIB_OPS

    return GrafLayout(tuple(GRAPH_OP_NAMES.index(op) for op in NASLIB_OPS), NASLIB_OPS, cell_nodes=4)


def _nb101_layout(space: Any) -> GrafLayout:
    from predictbench.spaces.nb101 import CONV1X1, CONV3X3, MAXPOOL3X3, OPS

    ops = (MAXPOOL3X3, CONV1X1, CONV3X3)
    return GrafLayout(tuple(OPS.index(op) for op in ops), ops, first_id=2)


def _nbgraph_layout(space: Any) -> GrafLayout:
    return GrafLayout(tuple(range(1, len(space.ops) + 1)), tuple(space.ops))  # labels ("input", *ops, "output")


#: The spaces with a GRAF layout (the cell-graph spaces; ``nats-sss`` is a chain of channel counts, not a cell).
SPACES: dict[str, Callable[[Any], GrafLayout]] = {
    "nb201": _nb201_layout,
    "nb101": _nb101_layout,
    "nbgraph": _nbgraph_layout,
    "nbgraph-proteins": _nbgraph_layout,
}


def _space(space: Any) -> Any:
    if isinstance(space, str):
        from predictbench.spaces import get_space

        return get_space(space)
    return space


def layout_of(space: Any) -> GrafLayout:
    """The :class:`GrafLayout` of ``space`` (an instance or a registered name); unknown spaces raise."""
    space = _space(space)
    name = getattr(space, "name", space)
    if name not in SPACES or not hasattr(space, "graph_arrays"):
        raise unknown_name("space with GRAF features", str(name), sorted(SPACES))
    return SPACES[name](space)


def _subsets(k: int, sizes: Iterable[int]) -> list[tuple[int, ...]]:
    """Subsets of range(k) by size, each size in ``itertools.combinations`` order (the reference's order)."""
    return [subset for size in sizes for subset in itertools.combinations(range(k), size)]


def _set_name(subset: tuple[int, ...], first_id: int) -> str:
    return str([first_id + i for i in subset])


def _names(layout: GrafLayout) -> list[str]:
    k, first = len(layout.op_labels), layout.first_id
    names = [f"{PREFIX}op_count_{first + i}" for i in range(k)]
    names += [f"{PREFIX}min_path_len_banned_{_set_name(s, first)}" for s in _subsets(k, range(k))]
    allowed = _subsets(k, range(1, k + 1))
    names += [f"{PREFIX}max_op_on_path_allowed_{_set_name(s, first)}" for s in allowed]
    stats = ("in_degree", "out_degree", "avg_in", "avg_out")
    names += [f"{PREFIX}node_degree_allowed_{_set_name(s, first)}_{stat}" for s in allowed for stat in stats]
    return names


def feature_names(space: Any) -> list[str]:
    """Column names of :func:`graf_features` for ``space``: ``k + 2**k - 1 + 5 * (2**k - 1)`` for k operations."""
    return _names(layout_of(space))


def op_ids(space: Any) -> dict[int, str]:
    """GRAF operation id -> operation name of ``space`` (the ids in the column names)."""
    layout = layout_of(space)
    return {layout.first_id + i: name for i, name in enumerate(layout.op_names)}


def graf_features(space: Any, archs_or_keys: Any) -> np.ndarray:
    """GRAF features (float64, shape (n, len(feature_names(space)))) of a batch of architectures or keys."""
    space = _space(space)
    layout = layout_of(space)
    labels, adjacency = space.graph_arrays(archs_or_keys)
    return graf_from_graphs(labels, adjacency, layout)


def graf_from_graphs(labels: np.ndarray, adjacency: np.ndarray, layout: GrafLayout) -> np.ndarray:
    """GRAF features of op-on-node graphs: labels (n, V), adjacency (n, V, V) -> float64 (n, d).

    Node 0 is the input, the last node whose label is not -1 the output; edges must go from lower to higher
    nodes (every space's graphs are in topological order). Columns: :func:`feature_names`.
    """
    labels = np.asarray(labels)
    adjacency = np.asarray(adjacency)
    if labels.ndim != 2 or adjacency.shape != (*labels.shape, labels.shape[1]):
        raise ValueError(
            f"GRAF needs labels (n, V) and adjacency (n, V, V), got shapes {labels.shape} and {adjacency.shape}"
        )
    if labels.size and labels.min() < -1:
        raise ValueError(f"GRAF node labels must be >= -1 (-1 = padding), got {int(labels.min())}")
    backwards = np.argwhere(np.tril(adjacency.astype(bool)))
    if len(backwards):
        graph, source, target = backwards[0].tolist()
        raise ValueError(
            f"GRAF needs graphs in topological order (edges only from lower to higher nodes), "
            f"graph {graph} has the edge {source} -> {target}"
        )
    k = len(layout.op_labels)
    n_sets = 2**k - 1
    step = max(1, _CHUNK_ELEMENTS // (labels.shape[1] * n_sets))
    parts = [_chunk(labels[i : i + step], adjacency[i : i + step], layout) for i in range(0, len(labels), step)]
    if not parts:
        return np.zeros((0, len(_names(layout))), dtype=np.float64)
    return np.concatenate(parts)


def _chunk(labels: np.ndarray, adjacency: np.ndarray, layout: GrafLayout) -> np.ndarray:
    n, v = labels.shape
    k = len(layout.op_labels)
    allowed = _subsets(k, range(1, k + 1))
    member = np.zeros((len(allowed), k), dtype=np.int16)  # (S, k): set s contains op i
    for s, subset in enumerate(allowed):
        member[s, list(subset)] = 1
    lookup = np.full(max(*layout.op_labels, int(labels.max(initial=0))) + 2, -1, dtype=np.int64)
    lookup[np.asarray(layout.op_labels) + 1] = np.arange(k)
    op = lookup[labels.astype(np.int64) + 1]  # (n, V) GRAF op position, -1 for input / output / padding
    is_op = op >= 0
    onehot = (op[:, :, None] == np.arange(k)).astype(np.int16)  # (n, V, k)
    in_set = (onehot @ member.T).astype(bool)  # (n, V, S): node's op belongs to set s
    passable = in_set | ~is_op[:, :, None]
    adj = adjacency.astype(bool)
    rows = np.arange(n)
    output = v - 1 - np.argmax(labels[:, ::-1] >= 0, axis=1)  # last real node

    # Longest / shortest input->output paths through passable nodes, counted in operations, one DP in
    # topological order for all sets at once.
    longest = np.full((n, v, len(allowed)), _NO_PATH, dtype=np.int16)
    shortest = np.full((n, v, len(allowed)), _FAR, dtype=np.int16)
    longest[:, 0], shortest[:, 0] = 0, 0
    weight = is_op.astype(np.int16)
    for node in range(1, v):
        into = adj[:, :node, node, None]  # (n, node, 1)
        best = np.where(into, longest[:, :node], _NO_PATH).max(axis=1)
        near = np.where(into, shortest[:, :node], _FAR).min(axis=1)
        ok = passable[:, node]
        longest[:, node] = np.where(ok & (best >= 0), best + weight[:, node, None], _NO_PATH)
        shortest[:, node] = np.where(ok & (near < _FAR), near + weight[:, node, None], _FAR)
    most = longest[rows, output]  # (n, S)
    fewest = shortest[rows, output]
    longest_possible = layout.cell_nodes - 1 if layout.cell_nodes is not None else v - 2
    fewest = np.where(fewest == _FAR, longest_possible + 2, fewest)
    # banned set b <-> allowed set = its complement (the full set, banned, is never asked for)
    position = {subset: s for s, subset in enumerate(allowed)}
    complement = [position[tuple(i for i in range(k) if i not in banned)] for banned in _subsets(k, range(k))]

    counts = onehot.sum(axis=1, dtype=np.int64)  # (n, k)
    in_set_f = in_set.astype(np.float64)
    from_input = np.einsum("nv,nvs->ns", adj[:, 0].astype(np.float64), in_set_f)
    into_output = np.einsum("nv,nvs->ns", adj[rows, :, output].astype(np.float64), in_set_f)
    if layout.cell_nodes is not None:
        avg_in = avg_out = (counts @ member.T.astype(np.int64)) / layout.cell_nodes
    else:
        real = (labels >= 0).sum(axis=1, keepdims=True).astype(np.float64)
        avg_in = np.einsum("nv,nvs->ns", adj.sum(axis=2, dtype=np.float64), in_set_f) / real
        avg_out = np.einsum("nv,nvs->ns", adj.sum(axis=1, dtype=np.float64), in_set_f) / real
    degrees = np.stack([from_input, into_output, avg_in, avg_out], axis=2).reshape(n, 4 * len(allowed))
    return np.concatenate([counts, fewest[:, complement], most, degrees], axis=1, dtype=np.float64)


class _GrafEncoding:
    """The ``"graf"`` encoding as :mod:`predictbench.encodings` dispatches to it."""

    def supports(self, space: Any) -> bool:
        return getattr(space, "name", None) in SPACES and hasattr(space, "graph_arrays")

    def feature_names(self, space: Any) -> list[str]:
        return feature_names(space)

    def encode(self, space: Any, archs_or_keys: Any) -> np.ndarray:
        return graf_features(space, archs_or_keys)


#: The registered encoding object (``predictbench.encodings.GRAPH_ENCODINGS["graf"]``).
GRAF = _GrafEncoding()
