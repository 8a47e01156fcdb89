"""Architecture batches -> features and graphs, vectorised over whole benchmarks (numpy only).

Each search space owns its encodings: it offers ``encoding_names()``, ``feature_names(name)``,
``encode(name, archs_or_keys)`` and ``graph_arrays(archs_or_keys)`` (see :class:`EncodableSpace`),
and this module dispatches to it, so a new space plugs in by implementing those four methods. Encodings
computed from any space's graphs by a module of their own are registered in :data:`GRAPH_ENCODINGS`
(``"graf"``: GRAF neural graph features, :mod:`predictbench.graf`) and offered for every space they
support. The generic numpy helpers (:func:`one_hot`, :func:`adjops_features`) are shared by the spaces.
Torch and torch-geometric are imported only inside :func:`to_pyg`, at the GCN boundary.

Examples
--------
>>> best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
>>> x = encode("nb201", [best])
>>> x.shape, x.dtype.name
((1, 30), 'float32')
>>> len(feature_names("nb201", "path"))
155
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

import numpy as np

from predictbench.registry import Registry, unknown_name
from predictbench.types import Arch

if TYPE_CHECKING:
    from predictbench.spaces.base import SearchSpace

__all__ = [
    "GRAPH_ENCODINGS",
    "EncodableSpace",
    "adjops_features",
    "encode",
    "encoding_names",
    "feature_names",
    "graphs",
    "one_hot",
    "to_pyg",
]

ArchLike: TypeAlias = "Arch | str"

#: Encodings computed from a space's graphs outside the space: name -> object with ``supports(space)``,
#: ``feature_names(space)`` and ``encode(space, archs_or_keys)``.
GRAPH_ENCODINGS = Registry("graph encoding")
GRAPH_ENCODINGS.register("graf", "predictbench.graf:GRAF")


@runtime_checkable
class EncodableSpace(Protocol):
    """What a search space implements to get features and graphs from this module."""

    name: str

    def encoding_names(self) -> tuple[str, ...]: ...

    def feature_names(self, name: str) -> list[str]: ...

    def encode(self, name: str, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray: ...

    def graph_arrays(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> tuple[np.ndarray, np.ndarray]: ...


def _resolve(space: SearchSpace | EncodableSpace | str) -> EncodableSpace:
    if isinstance(space, str):
        from predictbench.spaces import get_space

        space = get_space(space)
    if not isinstance(space, EncodableSpace):
        raise TypeError(
            f"search space {getattr(space, 'name', space)!r} offers no encodings "
            "(it needs encoding_names, feature_names, encode and graph_arrays)"
        )
    return space


def _names(space: EncodableSpace) -> list[str]:
    own = list(space.encoding_names())
    return own + [name for name in GRAPH_ENCODINGS if name not in own and GRAPH_ENCODINGS.get(name).supports(space)]


def _check_name(space: EncodableSpace, name: str) -> None:
    names = _names(space)
    if name not in names:
        raise unknown_name(f"encoding of space {space.name!r}", name, names)


def _graph_encoding(space: EncodableSpace, name: str) -> Any | None:
    """The registered graph encoding ``name`` when the space does not define that name itself."""
    return GRAPH_ENCODINGS.get(name) if name in GRAPH_ENCODINGS and name not in space.encoding_names() else None


def encoding_names(space: SearchSpace | EncodableSpace | str) -> tuple[str, ...]:
    """The encodings ``space`` (an instance or a registered name) offers, its own then graph encodings."""
    return tuple(_names(_resolve(space)))


def feature_names(space: SearchSpace | EncodableSpace | str, name: str) -> list[str]:
    """Column names of encoding ``name`` (length = feature dimension)."""
    resolved = _resolve(space)
    _check_name(resolved, name)
    graph_encoding = _graph_encoding(resolved, name)
    if graph_encoding is not None:
        return list(graph_encoding.feature_names(resolved))
    return resolved.feature_names(name)


def encode(
    space: SearchSpace | EncodableSpace | str,
    archs_or_keys: Iterable[ArchLike] | ArchLike,
    name: str = "onehot",
) -> np.ndarray:
    """Features (float32, shape (n, d)) of a batch of architectures.

    Parameters
    ----------
    space
        A search space instance or its registered name (e.g. ``"nb201"``).
    archs_or_keys
        Arch values and/or benchmark keys; a single one counts as a batch of one.
    name
        Encoding name, one of :func:`encoding_names` (``"onehot"``, ``"adjops"``, ``"path"``,
        ``"opcount"``, ``"graf"`` for NB201). Unknown names raise ``UnknownNameError``.
    """
    resolved = _resolve(space)
    _check_name(resolved, name)
    graph_encoding = _graph_encoding(resolved, name)
    if graph_encoding is not None:
        features = graph_encoding.encode(resolved, archs_or_keys)
    else:
        features = resolved.encode(name, archs_or_keys)
    return np.asarray(features, dtype=np.float32)


def graphs(
    space: SearchSpace | EncodableSpace | str, archs_or_keys: Iterable[ArchLike] | ArchLike
) -> tuple[np.ndarray, np.ndarray]:
    """Op-on-node graphs of a batch: node labels (n, V) int64 and adjacency (n, V, V) uint8.

    Labels index the space's ``to_graph(...).op_names``; ``adjacency[k, i, j] = 1`` for edge i -> j.
    """
    ops, adjacency = _resolve(space).graph_arrays(archs_or_keys)
    return np.asarray(ops, dtype=np.int64), np.asarray(adjacency, dtype=np.uint8)


def one_hot(ids: np.ndarray, depth: int) -> np.ndarray:
    """float32 one-hot of an integer array: shape ``ids.shape + (depth,)``.

    Raises ``ValueError`` when an id is outside ``0..depth-1``.
    """
    arr = np.asarray(ids)
    if arr.size and (arr.min() < 0 or arr.max() >= depth):
        raise ValueError(f"one_hot: ids must lie in 0..{depth - 1}, got range {arr.min()}..{arr.max()}")
    return np.eye(depth, dtype=np.float32)[arr]


def adjops_features(ops: np.ndarray, adjacency: np.ndarray, n_types: int) -> np.ndarray:
    """Strict upper triangle of the adjacency, then the label one-hot of every node, as float32.

    ``ops`` is (n, V) node labels; ``adjacency`` is (n, V, V) or one (V, V) matrix shared by all.
    Output width: ``V * (V - 1) / 2 + V * n_types``.
    """
    ops = np.asarray(ops)
    n, v = ops.shape
    rows, cols = np.triu_indices(v, k=1)
    adj = np.asarray(adjacency)
    if adj.ndim == 2:
        upper = np.broadcast_to(adj[rows, cols].astype(np.float32), (n, len(rows)))
    else:
        upper = adj[:, rows, cols].astype(np.float32)
    out = np.empty((n, len(rows) + v * n_types), dtype=np.float32)
    out[:, : len(rows)] = upper
    out[:, len(rows) :] = one_hot(ops, n_types).reshape(n, v * n_types)
    return out


def to_pyg(
    ops: np.ndarray,
    adjacency: np.ndarray,
    y: np.ndarray | None = None,
    *,
    num_node_types: int | None = None,
) -> list[Any]:
    """torch-geometric ``Data`` objects of a graph batch (from :func:`graphs`).

    Each graph gets ``x`` = float one-hot node labels (``num_node_types`` wide, default
    ``ops.max() + 1``), ``edge_index`` from the adjacency, ``node_type`` = the labels and, when
    ``y`` is given, ``y`` as a float tensor of shape (1,). Needs the ``gcn`` extra.
    """
    try:
        import torch
        from torch_geometric.data import Data
    except ImportError as err:
        raise ImportError(
            f"to_pyg needs torch and torch-geometric ({err}); install them with: pip install 'predictbench[gcn]'"
        ) from err
    ops = np.asarray(ops, dtype=np.int64)
    adj = np.asarray(adjacency)
    if ops.ndim != 2:
        raise ValueError(f"ops must have shape (n, V), got {ops.shape}")
    n, v = ops.shape
    if adj.shape != (n, v, v):
        raise ValueError(f"adjacency must have shape {(n, v, v)}, got {adj.shape}")
    if y is not None and len(y) != n:
        raise ValueError(f"y has {len(y)} values for {n} graphs")
    depth = int(ops.max()) + 1 if num_node_types is None else int(num_node_types)
    x_all = one_hot(ops, depth)
    out = []
    for k in range(n):
        src, dst = np.nonzero(adj[k])
        data = Data(
            x=torch.from_numpy(x_all[k]),
            edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
            node_type=torch.from_numpy(ops[k].copy()),
        )
        if y is not None:
            data.y = torch.tensor([float(y[k])], dtype=torch.float32)
        out.append(data)
    return out
