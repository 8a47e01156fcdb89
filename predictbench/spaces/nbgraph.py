"""NAS-Bench-Graph macro space: 26,206 graph neural networks of 4 computing nodes (2,021 for ogbn-proteins).

An architecture (a *spec*) has 4 computing nodes, numbered 1..4. Node k takes its input from exactly one
earlier node ``links[k - 1]`` in ``0..k-1`` (0 is the raw input) and applies one operation from :data:`OPS`
(``gat``, ``gcn``, ``gin``, ``cheb``, ``sage``, ``arma``, ``graph`` (k-GNN), ``fc``, ``skip``); every *leaf*
(a node no other node reads) feeds the output. So a spec is a rooted tree on the input and the 4 nodes, and
there are 24 link patterns x 9**4 operation choices = 157,464 raw specs. NAS-Bench-Graph trained one network
per equivalence class of specs and keys its records by an integer hash of a class representative
(``nas_bench_graph.Arch(links, ops).valid_hash()``).

Equivalence (the benchmark's notion, which the keys follow)
-----------------------------------------------------------
Two specs are the same architecture when, after the *skip rules*, they are the same labelled rooted tree
(children unordered, so node numbering does not matter). The skip rules, applied until nothing changes:

1. a ``skip`` node with children hands them to its own input and is re-attached to the raw input;
2. a ``skip`` leaf that is the only child of a computing node is re-attached to the raw input.

So in a normalised spec every ``skip`` is a leaf, hanging from the raw input (a residual from the input to the
output) or beside a sibling. Rule 2 is not a functional identity (``gcn -> skip`` computes ``gcn(x)``, the
re-attached form ``gcn(x) + x``), and the record the benchmark stores for a class is sometimes written with a
skip that has children (e.g. ``skip -> {gat, gat, gat}``); the classes are nonetheless exactly those of the
benchmark: the test suite checks, for all 157,440 raw specs that are not all ``skip``, that two specs share a
key here exactly when they share ``valid_hash()`` in the installed ``nas-bench-graph`` package, and that the
keys are its 26,206 records (2,021 with the ogbn-proteins operations). All-``skip`` specs are not in the space.

Keys
----
The key of a class is its **canonical spec** written ``"L1L2L3L4:op1,op2,op3,op4"``, e.g.
``"0112:gcn,gin,cheb,fc"``: the normalised tree numbered so that ``(links, ops)`` is smallest
(lexicographically, ops compared by their position in :data:`OPS`) among the numberings where each node comes
after its input. The link patterns of canonical specs are the benchmark's 9 (:data:`LINK_PATTERNS`). The key
is a member of the benchmark's class, not necessarily the spec its file lists; :meth:`NBGraphSpace.from_bench_hash`
maps benchmark hashes to keys, and converted stores keep each record's hash in the ``bench_hash`` column of
their architecture table. :meth:`NBGraphSpace.parse` and :meth:`~NBGraphSpace.from_spec` accept any spec.

The ogbn-proteins data covers only the operations ``gcn``, ``sage``, ``arma``, ``fc``, ``skip``: that
subspace is the separate space ``nbgraph-proteins`` (:class:`NBGraphProteinsSpace`, 2,021 architectures, same
keys), so that search on it only proposes architectures the benchmark has.

Encodings: ``onehot`` (the inputs of nodes 2..4 and the op of each node, one group per decision), ``adjops``
(the 6-node graph: input, 4 computing nodes, output) and ``opcount``.

Examples
--------
>>> space = NBGraphSpace()
>>> len(space)
26206
>>> space.from_spec([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]).key
'0112:gcn,gin,cheb,fc'
>>> space.from_bench_hash([31201])[0] == space.from_spec([0, 0, 1, 2], ["gcn", "gin", "gat", "gcn"])
True
>>> space.encode("onehot", ["0112:gcn,gin,cheb,fc"]).shape
(1, 45)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

import numpy as np

from predictbench.encodings import adjops_features, one_hot
from predictbench.registry import unknown_name
from predictbench.spaces.base import CellGraph
from predictbench.types import Arch, OutOfSpaceError

__all__ = [
    "ENCODINGS",
    "LINK_PATTERNS",
    "NUM_ARCHS",
    "NUM_PROTEINS_ARCHS",
    "OPS",
    "PROTEINS_OPS",
    "NBGraphProteinsSpace",
    "NBGraphSpace",
]

OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
"""The benchmark's operations in its own order (an op's digit in the benchmark hash is its index here)."""
PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
"""The operations of the ogbn-proteins data (space ``nbgraph-proteins``)."""
LINK_PATTERNS: tuple[tuple[int, ...], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
"""The 9 rooted-tree shapes; a benchmark hash's leading digit is the index of its pattern here."""
NUM_NODES = 4
NUM_ARCHS = 26_206
NUM_PROTEINS_ARCHS = 2_021
ENCODINGS: tuple[str, ...] = ("onehot", "adjops", "opcount")

ArchLike: TypeAlias = "Arch | str"

_SKIP = OPS.index("skip")
_BASE = len(OPS)  # canonical codes: link index (0..23) * 9**4 + op digits in base 9
_OP_RADIX = _BASE ** np.arange(NUM_NODES - 1, -1, -1, dtype=np.int64)
_LINK_RADIX = np.array([0, 12, 4, 1], dtype=np.int64)  # lexicographic index of (l1=0, l2<2, l3<3, l4<4)
_NUMBERINGS = np.array(list(itertools.permutations(range(NUM_NODES))), dtype=np.intp)  # new position -> old node
_HASH_RADIX = 10  # benchmark hashes: pattern digit then one decimal digit per op
_NUM_GRAPH_NODES = NUM_NODES + 2  # input, 4 computing nodes, output
_EXAMPLE_KEY = "0112:gcn,gin,cheb,fc"


# --------------------------------------------------------------------------------------------------
# vectorised normalisation and canonical codes
# --------------------------------------------------------------------------------------------------


def _normalise_skips(links: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Inputs (n, 4) after the skip rules of the module docstring (node ids 1..4, 0 = raw input)."""
    parents = links.astype(np.int64, copy=True)
    skip = ops == _SKIP
    for _ in range(2 * NUM_NODES):
        changed = False
        for s in range(NUM_NODES):
            children = parents == s + 1
            adopt = skip[:, s] & children.any(axis=1)
            if adopt.any():  # rule 1: the children move to the skip's input, the skip to the raw input
                parents[adopt] = np.where(children[adopt], parents[adopt, s][:, None], parents[adopt])
                parents[adopt, s] = 0
                changed = True
            siblings = parents == parents[:, s : s + 1]
            siblings[:, s] = False
            lone = skip[:, s] & (parents[:, s] != 0) & ~siblings.any(axis=1) & ~(parents == s + 1).any(axis=1)
            if lone.any():  # rule 2: an only-child skip leaf moves to the raw input
                parents[lone, s] = 0
                changed = True
        if not changed:
            return parents
    raise RuntimeError("nbgraph skip rules did not converge")  # pragma: no cover - at most 4 moves are possible


def _canonical_codes(links: np.ndarray, ops: np.ndarray) -> np.ndarray:
    """Canonical codes (n,) of raw specs: links (n, 4) with ``links[:, k] < k + 1``, global op ids (n, 4).

    The code of a numbering is ``link_index * 9**4 + op digits``, which orders specs lexicographically by
    (links, ops); the canonical code is the smallest over the numberings where each node follows its input.
    """
    parents = _normalise_skips(links, ops)
    ops = ops.astype(np.int64)
    best = np.full(len(parents), np.iinfo(np.int64).max, dtype=np.int64)
    position = np.arange(1, NUM_NODES + 1)
    for old in _NUMBERINGS:
        new_id = np.zeros(NUM_NODES + 1, dtype=np.int64)
        new_id[old + 1] = position
        new_parents = new_id[parents[:, old]]
        ordered = (new_parents < position).all(axis=1)
        code = (new_parents @ _LINK_RADIX) * _BASE**NUM_NODES + ops[:, old] @ _OP_RADIX
        best = np.where(ordered, np.minimum(best, code), best)
    return best


def _decode(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(links, global op ids), both (n, 4) int8, of canonical codes."""
    link_index, op_code = np.divmod(codes.astype(np.int64), _BASE**NUM_NODES)
    links = np.stack([np.zeros_like(link_index), link_index // 12, (link_index % 12) // 4, link_index % 4], axis=1)
    ops = (op_code[:, None] // _OP_RADIX) % _BASE
    return links.astype(np.int8), ops.astype(np.int8)


@functools.cache
def _key_parts() -> tuple[np.ndarray, np.ndarray]:
    """Key prefixes by link index (``"0012:"``) and key suffixes by op code (``"gcn,gin,fc,cheb"``)."""
    links = ["".join(map(str, lk)) + ":" for lk in itertools.product(range(1), range(2), range(3), range(4))]
    ops = [",".join(combo) for combo in itertools.product(OPS, repeat=NUM_NODES)]
    return np.array(links, dtype=object), np.array(ops, dtype=object)


def _format_keys(codes: np.ndarray) -> list[str]:
    """Keys of canonical codes."""
    prefixes, suffixes = _key_parts()
    link_index, op_code = np.divmod(codes.astype(np.int64), _BASE**NUM_NODES)
    return list(prefixes[link_index] + suffixes[op_code])


@dataclass(frozen=True)
class _Tables:
    """Every architecture of a space in canonical-code order."""

    codes: np.ndarray  # (N,) int64, sorted
    links: np.ndarray  # (N, 4) int8
    ops: np.ndarray  # (N, 4) int8, global op ids
    archs: tuple[Arch, ...]
    row_of: dict[str, int]


@functools.cache
def _tables(name: str, op_names: tuple[str, ...]) -> _Tables:
    allowed = np.array([OPS.index(op) for op in op_names], dtype=np.int64)
    choice = np.stack(np.meshgrid(*([allowed] * NUM_NODES), indexing="ij"), axis=-1).reshape(-1, NUM_NODES)
    choice = choice[~(choice == _SKIP).all(axis=1)]
    patterns = np.array(LINK_PATTERNS, dtype=np.int64)
    links = np.repeat(patterns, len(choice), axis=0)
    ops = np.tile(choice, (len(patterns), 1))
    codes = np.unique(_canonical_codes(links, ops))
    canon_links, canon_ops = _decode(codes)
    for array in (codes, canon_links, canon_ops):
        array.setflags(write=False)
    archs = tuple(Arch(name, key) for key in _format_keys(codes))
    return _Tables(codes, canon_links, canon_ops, archs, {a.key: i for i, a in enumerate(archs)})


# --------------------------------------------------------------------------------------------------
# the space
# --------------------------------------------------------------------------------------------------


class NBGraphSpace:
    """The NAS-Bench-Graph macro space (26,206 architectures); stateless.

    Keys are canonical specs ``"L1L2L3L4:op1,op2,op3,op4"`` (see the module docstring for the equivalence the
    benchmark uses and how keys relate to its hashes).

    Examples
    --------
    >>> import numpy as np
    >>> space = NBGraphSpace()
    >>> arch = space.parse("0123:gcn,gcn,gat,skip")  # a chain: its only-child skip leaf moves to the input
    >>> arch.key, space.spec(arch)
    ('0013:gcn,skip,gcn,gat', ((0, 0, 1, 3), ('gcn', 'skip', 'gcn', 'gat')))
    >>> space.is_valid(space.mutate(arch, np.random.default_rng(0)))
    True
    """

    name: ClassVar[str] = "nbgraph"
    ops: ClassVar[tuple[str, ...]] = OPS

    # ---- basics --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tables().archs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def _tables(self) -> _Tables:
        return _tables(self.name, self.ops)

    @functools.cached_property
    def _local_op(self) -> np.ndarray:
        """Global op id -> index in ``self.ops`` (-1 for ops outside this space)."""
        local = np.full(len(OPS), -1, dtype=np.int64)
        local[[OPS.index(op) for op in self.ops]] = np.arange(len(self.ops))
        return local

    # ---- parsing and validation ----------------------------------------------------------------

    def _spec_problem(self, links: Sequence[object], ops: Sequence[object]) -> str | None:  # noqa: PLR0911
        """Why (links, ops) is not a spec of this space, or None."""
        if isinstance(links, str) or len(links) != NUM_NODES:
            return f"a {self.name} spec needs {NUM_NODES} node inputs, got {links!r:.80}"
        if isinstance(ops, str) or len(ops) != NUM_NODES:
            return f"a {self.name} spec needs {NUM_NODES} node operations, got {ops!r:.120}"
        for k, link in enumerate(links, start=1):
            if isinstance(link, bool) or not isinstance(link, (int, np.integer)) or not 0 <= link < k:
                earlier = "0 (the raw input)" if k == 1 else f"0 (the raw input) or an earlier node 1..{k - 1}"
                return f"node {k} takes its input from {link!r}; it must be {earlier}"
        for k, op in enumerate(ops, start=1):
            if op not in self.ops:
                if op in OPS:
                    return f"op {op!r} (node {k}) is not in the {self.name} space, whose ops are {', '.join(self.ops)}"
                return f"unknown op {op!r} at node {k}; allowed: {', '.join(self.ops)}"
        if all(op == "skip" for op in ops):
            return "all four nodes are 'skip': NAS-Bench-Graph has no architecture without a computing operation"
        return None

    def _split_key(self, text: str) -> tuple[list[int | str], list[str]] | str:
        """(links, ops) of text shaped like a key, or the reason it is not shaped like one."""
        links_text, sep, ops_text = text.partition(":")
        if not sep:
            return f"a {self.name} key looks like {_EXAMPLE_KEY!r} (node inputs, ':', node ops), got {text!r:.120}"
        links: list[int | str] = [int(c) if c.isdigit() else c for c in links_text.strip()]
        return links, [op.strip() for op in ops_text.split(",")]

    def _diagnose(self, item: object) -> str:
        """One-line reason why ``item`` is not a key of this space."""
        if isinstance(item, Arch):
            if item.space != self.name:
                return f"arch {item.key!r:.120} belongs to search space {item.space!r}, not {self.name!r}"
            item = item.key
        if not isinstance(item, str):
            return f"{self.name} arch must be an Arch or a key like {_EXAMPLE_KEY!r}, got {type(item).__name__}"
        split = self._split_key(item)
        if isinstance(split, str):
            return split
        problem = self._spec_problem(*split)
        if problem is not None:
            return f"{item!r}: {problem}"
        canonical = self._arch_of(*split)
        return (
            f"{item!r} is a valid {self.name} spec but not a canonical key: the benchmark keys it as "
            f"{canonical.key!r} (parse() canonicalises any spec)"
        )

    def validate(self, arch: ArchLike) -> Arch:
        """``arch`` (an Arch or a canonical key) as an Arch of this space; ``OutOfSpaceError`` with the reason."""
        tables = self._tables()
        if isinstance(arch, Arch):
            if arch.space == self.name and arch.key in tables.row_of:
                return arch
        elif isinstance(arch, str) and arch in tables.row_of:
            return tables.archs[tables.row_of[arch]]
        raise OutOfSpaceError(self._diagnose(arch))

    def is_valid(self, arch: object) -> bool:
        """Whether ``arch`` is an Arch of this space with a canonical key (never raises)."""
        return isinstance(arch, Arch) and arch.space == self.name and arch.key in self._tables().row_of

    def parse(self, text: str) -> Arch:
        """The Arch of any spec written like a key (``"0121:gcn,gin,fc,cheb"``), canonicalised.

        Surrounding whitespace and a ``"<space name>:"`` prefix are allowed.
        """
        if not isinstance(text, str):
            raise OutOfSpaceError(self._diagnose(text))
        text = text.strip()
        if text.startswith(f"{self.name}:"):
            text = text[len(self.name) + 1 :]
        split = self._split_key(text)
        if isinstance(split, str):
            raise OutOfSpaceError(split)
        problem = self._spec_problem(*split)
        if problem is not None:
            raise OutOfSpaceError(f"{text!r}: {problem}")
        return self._arch_of(*split)

    def from_spec(self, links: Sequence[int], ops: Sequence[str]) -> Arch:
        """The Arch of one spec: ``links[k - 1]`` is node k's input (0 = raw input), ``ops`` its operations.

        The node order is free (the benchmark's ``Arch(links, ops)`` convention); the result is canonical.
        """
        problem = self._spec_problem(links, ops)
        if problem is not None:
            raise OutOfSpaceError(problem)
        return self._arch_of(links, ops)

    def _arch_of(self, links: Sequence[Any], ops: Sequence[Any]) -> Arch:
        """The Arch of a spec :meth:`_spec_problem` accepted."""
        link_array = np.array([links], dtype=np.int64)
        op_array = np.array([[OPS.index(op) for op in ops]], dtype=np.int64)
        return self._from_codes(_canonical_codes(link_array, op_array))[0]

    def from_bench_hash(self, hashes: Iterable[int] | np.ndarray) -> list[Arch]:
        """Architectures of NAS-Bench-Graph hashes (the integer keys of its ``.bench`` files), vectorised.

        A hash is a link-pattern digit (index into :data:`LINK_PATTERNS`) followed by one decimal digit per
        node, the op's index in :data:`OPS`; it is decoded and canonicalised, so any spec code in that layout
        is accepted.
        """
        values = np.asarray(hashes if isinstance(hashes, np.ndarray) else list(hashes))
        if values.ndim != 1 or (values.size and not np.issubdtype(values.dtype, np.integer)):
            raise OutOfSpaceError(
                f"benchmark hashes must be a 1-d sequence of integers, got {values.dtype} {values.shape}"
            )
        values = values.astype(np.int64)
        digits = (values[:, None] // _HASH_RADIX ** np.arange(NUM_NODES, -1, -1)) % _HASH_RADIX
        pattern, op_ids = digits[:, 0], digits[:, 1:]
        bad = (values < 0) | (values >= len(LINK_PATTERNS) * _HASH_RADIX**NUM_NODES) | (op_ids >= len(OPS)).any(axis=1)
        if not bad.any():
            outside = (self._local_op[op_ids] < 0).any(axis=1) | (op_ids == _SKIP).all(axis=1)
            bad |= outside
        if bad.any():
            value = int(values[np.flatnonzero(bad)[0]])
            raise OutOfSpaceError(
                f"{value} is not a NAS-Bench-Graph hash of the {self.name} space: expected a pattern digit 0..8 "
                f"and 4 op digits (0..8, ops {', '.join(self.ops)}), not all skip"
            )
        links = np.array(LINK_PATTERNS, dtype=np.int64)[pattern]
        return self._from_codes(_canonical_codes(links, op_ids))

    def _from_codes(self, codes: np.ndarray) -> list[Arch]:
        tables = self._tables()
        rows = np.searchsorted(tables.codes, codes)
        archs = tables.archs
        return [archs[r] for r in rows.tolist()]

    def _rows(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """Enumeration rows of a batch (a single Arch or str counts as a batch of one)."""
        items: Sequence[object]
        if isinstance(archs_or_keys, (Arch, str)):
            items = [archs_or_keys]
        elif isinstance(archs_or_keys, (Sequence, np.ndarray)):
            items = archs_or_keys  # type: ignore[assignment]
        else:
            items = list(archs_or_keys)
        row_of = self._tables().row_of
        name = self.name
        rows = np.fromiter(
            (
                row_of.get(x.key if isinstance(x, Arch) and x.space == name else x, -1)  # type: ignore[arg-type]
                if isinstance(x, (Arch, str))
                else -1
                for x in items
            ),
            dtype=np.int64,
            count=len(items),
        )
        if (rows < 0).any():
            pos = int(np.flatnonzero(rows < 0)[0])
            prefix = f"item {pos}: " if len(items) > 1 else ""
            raise OutOfSpaceError(prefix + self._diagnose(items[pos]))
        return rows

    # ---- codings -------------------------------------------------------------------------------

    def links_array(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """(n, 4) int8 node inputs of the canonical specs (0 = raw input)."""
        return self._tables().links[self._rows(archs_or_keys)]

    def ops_array(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """(n, 4) int8 op ids (indices into :data:`OPS`) of the canonical specs."""
        return self._tables().ops[self._rows(archs_or_keys)]

    def spec(self, arch: ArchLike) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The canonical spec (node inputs, op names) of one architecture."""
        row = int(self._rows(arch)[0])
        tables = self._tables()
        return tuple(tables.links[row].tolist()), tuple(OPS[i] for i in tables.ops[row].tolist())

    def index_of(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """Positions (int64) in :meth:`enumerate` of a batch."""
        return self._rows(archs_or_keys)

    def from_index(self, indices: int | Iterable[int] | np.ndarray) -> list[Arch]:
        """Architectures at positions of :meth:`enumerate` (an int gives a list of one)."""
        arr = np.atleast_1d(
            np.asarray(indices if isinstance(indices, (int, np.integer, np.ndarray)) else list(indices))
        )
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise OutOfSpaceError(f"{self.name} indices must be integers, got dtype {arr.dtype}")
        out_of_range = (arr < 0) | (arr >= len(self))
        if out_of_range.any():
            raise OutOfSpaceError(f"{self.name} index {int(arr[out_of_range][0])} out of range 0..{len(self) - 1}")
        archs = self._tables().archs
        return [archs[i] for i in arr.astype(np.int64).tolist()]

    # ---- search-space protocol -----------------------------------------------------------------

    def sample(self, rng: np.random.Generator, n: int) -> list[Arch]:
        """``n`` architectures drawn i.i.d. uniformly over the space's classes (with replacement)."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        return self.from_index(rng.integers(0, len(self), size=int(n)))

    def neighbors(self, arch: Arch) -> list[Arch]:
        """Distinct architectures one edit of the canonical spec away, never ``arch`` itself.

        An edit changes one node's operation (nodes 1..4, ops in :data:`OPS` order) or one node's input
        (nodes 2..4, to another earlier node or the raw input); each result is canonicalised, all-skip results
        are dropped, and the first occurrence of each architecture is kept.
        """
        row = int(self._rows(arch)[0])
        tables = self._tables()
        links, ops = tables.links[row].astype(np.int64), tables.ops[row].astype(np.int64)
        own = np.array([OPS.index(op) for op in self.ops], dtype=np.int64)
        edits_links: list[np.ndarray] = []
        edits_ops: list[np.ndarray] = []
        for k in range(NUM_NODES):
            for op in own[own != ops[k]].tolist():
                changed = ops.copy()
                changed[k] = op
                edits_links.append(links)
                edits_ops.append(changed)
        for k in range(1, NUM_NODES):
            for source in range(k + 1):
                if source != links[k]:
                    moved = links.copy()
                    moved[k] = source
                    edits_links.append(moved)
                    edits_ops.append(ops)
        op_array = np.stack(edits_ops)
        keep = ~(op_array == _SKIP).all(axis=1)
        codes = _canonical_codes(np.stack(edits_links)[keep], op_array[keep])
        codes = codes[codes != tables.codes[row]]
        _, first = np.unique(codes, return_index=True)
        return self._from_codes(codes[np.sort(first)])

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """A uniformly chosen neighbour (:meth:`neighbors`): one op or one node input changed."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        options = self.neighbors(arch)
        return options[int(rng.integers(len(options)))]

    def enumerate(self) -> list[Arch]:
        """All architectures in canonical-code order (links, then ops, lexicographically)."""
        return list(self._tables().archs)

    def canonical(self, arch: ArchLike) -> Arch:
        """Identity on keys: every key already names one benchmark class."""
        return self.validate(arch)

    def to_graph(self, arch: Arch) -> CellGraph:
        """The network as a DAG: node 0 input, nodes 1..4 the computing nodes, node 5 the output.

        Node labels index ``("input", *ops, "output")``; each node has an edge from its input, every leaf an edge
        to the output.
        """
        labels, adjacency = self.graph_arrays([arch])
        return CellGraph(ops=labels[0], adjacency=adjacency[0], op_names=self.graph_op_names)

    @property
    def graph_op_names(self) -> tuple[str, ...]:
        """Node labels of :meth:`to_graph` and :meth:`graph_arrays`."""
        return ("input", *self.ops, "output")

    def graph_arrays(self, archs_or_keys: Iterable[ArchLike] | ArchLike) -> tuple[np.ndarray, np.ndarray]:
        """Batch of graphs: node labels (n, 6) int64 and adjacency (n, 6, 6) uint8 (see :meth:`to_graph`)."""
        rows = self._rows(archs_or_keys)
        tables = self._tables()
        return self._graph_arrays(tables.links[rows], self._local_op[tables.ops[rows]])

    def _graph_arrays(self, links: np.ndarray, local_ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(links)
        labels = np.empty((n, _NUM_GRAPH_NODES), dtype=np.int64)
        labels[:, 0] = 0
        labels[:, 1:-1] = local_ops + 1
        labels[:, -1] = len(self.ops) + 1
        adjacency = np.zeros((n, _NUM_GRAPH_NODES, _NUM_GRAPH_NODES), dtype=np.uint8)
        rows = np.arange(n)
        for k in range(NUM_NODES):
            adjacency[rows, links[:, k].astype(np.intp), k + 1] = 1
        is_leaf = ~(links[:, :, None] == np.arange(1, NUM_NODES + 1)).any(axis=1)  # (n, 4): nobody reads node k
        adjacency[:, 1:-1, -1] = is_leaf
        return labels, adjacency

    # ---- encodings (dispatched to by predictbench.encodings) ------------------------------------

    def encoding_names(self) -> tuple[str, ...]:
        """Feature encodings this space offers."""
        return ENCODINGS

    def feature_names(self, name: str) -> list[str]:
        """Column names of encoding ``name``."""
        if name == "onehot":
            inputs = [f"node{k}_input={j}" for k in range(2, NUM_NODES + 1) for j in range(k)]
            return inputs + [f"node{k}_op={op}" for k in range(1, NUM_NODES + 1) for op in self.ops]
        if name == "opcount":
            return [f"count={op}" for op in self.ops]
        if name == "adjops":
            node_names = ["input", *(f"node{k}" for k in range(1, NUM_NODES + 1)), "output"]
            rows, cols = np.triu_indices(_NUM_GRAPH_NODES, 1)
            adj = [f"adj_{node_names[i]}_{node_names[j]}" for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]
            return adj + [f"{node}={label}" for node in node_names for label in self.graph_op_names]
        raise unknown_name(f"encoding of space {self.name!r}", name, list(ENCODINGS))

    def encode(self, name: str, archs_or_keys: Iterable[ArchLike] | ArchLike) -> np.ndarray:
        """Encoding ``name`` of a batch as float32 (n, d).

        * ``onehot`` (9 + 4 x ops: 45, or 29 for proteins): the input of nodes 2, 3, 4 one-hot over their
          possible sources (2, 3, 4 columns; node 1 always reads the raw input), then each node's op one-hot.
          One group per decision, so GBDT pruning and MCTS see the space as decisions.
        * ``adjops`` (15 + 6 x (ops + 2)): strict upper triangle of the 6-node adjacency of :meth:`to_graph`,
          then the label one-hot of each node.
        * ``opcount`` (ops): how many nodes carry each op.
        """
        if name not in ENCODINGS:
            raise unknown_name(f"encoding of space {self.name!r}", name, list(ENCODINGS))
        rows = self._rows(archs_or_keys)
        tables = self._tables()
        links = tables.links[rows].astype(np.int64)
        local_ops = self._local_op[tables.ops[rows]]
        n, m = len(rows), len(self.ops)
        if name == "opcount":
            return one_hot(local_ops, m).sum(axis=1, dtype=np.float32).reshape(n, m)
        if name == "adjops":
            labels, adjacency = self._graph_arrays(links, local_ops)
            return adjops_features(labels, adjacency, m + 2)
        out = np.zeros((n, 9 + NUM_NODES * m), dtype=np.float32)
        at = np.arange(n)
        for k, offset in ((1, 0), (2, 2), (3, 5)):  # node k + 1 reads one of k + 1 sources
            out[at, offset + links[:, k]] = 1.0
        out[:, 9:] = one_hot(local_ops, m).reshape(n, NUM_NODES * m)
        return out


class NBGraphProteinsSpace(NBGraphSpace):
    """The ogbn-proteins subspace of NAS-Bench-Graph: ops ``gcn, sage, arma, fc, skip`` (2,021 architectures).

    Keys are those of :class:`NBGraphSpace` (the same architecture has the same key in both spaces); encodings
    and graph labels use the 5 ops only.

    Examples
    --------
    >>> space = NBGraphProteinsSpace()
    >>> len(space), space.parse("0000:gcn,sage,arma,fc").key
    (2021, '0000:gcn,sage,arma,fc')
    """

    name: ClassVar[str] = "nbgraph-proteins"
    ops: ClassVar[tuple[str, ...]] = PROTEINS_OPS
