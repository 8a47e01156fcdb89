"""NB101 cell space: official module hash, pruning, canonical specs, enumeration, search moves, encodings."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictbench.encodings import encode, feature_names
from predictbench.spaces import SearchSpace, get_space
from predictbench.spaces import nb101 as nb
from predictbench.spaces.nb101 import (
    CELL_OPS,
    CELLS_BY_VERTICES,
    NUM_CELLS,
    OPS,
    CellTable,
    NB101Space,
    enumerate_cells,
    module_hash,
    prune,
)
from predictbench.types import Arch, DataFormatError, OutOfSpaceError, UnknownNameError

SPACE = NB101Space()
LABEL = {"input": -1, "output": -2, "conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2}
# the Inception-like module of nasbench's api.py docstring (no dangling vertex)
INCEPTION = (
    [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"],
)
seeds = st.integers(0, 2**32 - 1)


# ---- independent reference implementations (written from the published descriptions) -------------


def reference_hash(matrix: np.ndarray, labels: list[int]) -> str:
    """nasbench graph_util.hash_module, written out plainly."""
    v = len(labels)
    ins, outs = matrix.sum(axis=0).tolist(), matrix.sum(axis=1).tolist()
    hashes = [hashlib.md5(str(t).encode()).hexdigest() for t in zip(outs, ins, labels, strict=True)]
    for _ in range(v):
        hashes = [
            hashlib.md5(
                (
                    "".join(sorted(hashes[w] for w in range(v) if matrix[w, u]))
                    + "|"
                    + "".join(sorted(hashes[w] for w in range(v) if matrix[u, w]))
                    + "|"
                    + hashes[u]
                ).encode()
            ).hexdigest()
            for u in range(v)
        ]
    return hashlib.md5(str(sorted(hashes)).encode()).hexdigest()


def reference_gbdt(matrix: np.ndarray, ops: list[str]) -> list[int]:
    """GBDT-NAS convert_arch_to_seq: per vertex 1..6 incoming bits, then one-hot (1x1, 3x3, pool, output)."""
    one_hot = {"conv1x1-bn-relu": 0, "conv3x3-bn-relu": 1, "maxpool3x3": 2, "output": 3}
    seq: list[int] = []
    n = len(matrix)
    for col in range(1, 7):
        if col >= n:
            seq += [0] * (col + 4)
            continue
        seq += [int(matrix[row][col]) for row in range(col)]
        code = [0, 0, 0, 0]
        code[one_hot[ops[col]]] = 1
        seq += code
    return seq


def reference_paths(matrix: np.ndarray, ops: list[str]) -> set[int]:
    """BANANAS path indices: op sequences on input->output paths, index sum_i 3**i * (op_i + 1)."""
    digit = {"conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2}
    n = len(matrix)
    paths: list[list[list[str]]] = [[[]] if matrix[0][j] else [] for j in range(n)]
    for i in range(1, n - 1):
        for j in range(1, n):
            if matrix[i][j]:
                paths[j] += [[*p, ops[i]] for p in paths[i]]
    return {sum(3**i * (digit[op] + 1) for i, op in enumerate(p)) for p in paths[-1]}


def random_spec(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """A random valid pruned spec (the NB101 paper's sampler, via the space)."""
    arch = SPACE.sample(rng, 1)[0]
    matrix, ops = SPACE.spec_of(arch)
    return matrix, ops


def topological_relabel(matrix: np.ndarray, ops: list[str], rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """The same cell with its vertices renumbered in another topological order (still upper triangular)."""
    v = len(ops)
    remaining = set(range(v))
    order: list[int] = []
    while remaining:
        ready = sorted(u for u in remaining if not any(matrix[w, u] for w in remaining if w != u))
        pick = ready[int(rng.integers(len(ready)))] if ready[0] != 0 else 0
        order.append(pick)
        remaining.remove(pick)
    perm = np.array(order)
    return matrix[np.ix_(perm, perm)], [ops[i] for i in order]


@pytest.fixture
def small_table() -> Iterator[CellTable]:
    """Pretend the cell table is loaded, with only the cells of <= 5 vertices (no enumeration of 423,624)."""
    table = enumerate_cells(max_vertices=5, workers=1)
    saved = dict(nb._TABLE)
    nb._TABLE["all"] = table
    try:
        yield table
    finally:
        nb._TABLE.clear()
        nb._TABLE.update(saved)


# ---- basics and hashes ------------------------------------------------------------------------------


def test_size_and_protocol() -> None:
    assert len(SPACE) == NUM_CELLS == 423_624 == sum(CELLS_BY_VERTICES.values())
    assert SPACE.name == "nb101"
    assert isinstance(SPACE, SearchSpace)
    assert get_space("nb101") == SPACE
    assert OPS[1:4] == ("conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3")
    assert set(CELL_OPS) == set(OPS[1:4])


def test_hash_matches_reference_on_inception_module() -> None:
    matrix, ops = INCEPTION
    arch = SPACE.from_spec(matrix, ops)
    assert arch.key == module_hash(matrix, ops) == reference_hash(np.array(matrix), [LABEL[o] for o in ops])
    assert SPACE.is_valid(arch)
    assert SPACE.from_spec("".join(str(x) for row in matrix for x in row), ",".join(ops)) == arch


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_hash_equals_reference_and_is_invariant_under_vertex_permutations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix, ops = random_spec(rng)
    labels = [LABEL[o] for o in ops]
    key = SPACE.from_spec(matrix, ops).key
    assert key == reference_hash(matrix, labels)
    # any renumbering of the vertices (input/output included): the hash is a graph invariant
    perm = rng.permutation(len(ops))
    assert nb._hash_matrix(matrix[np.ix_(perm, perm)], [labels[i] for i in perm]) == key
    # a renumbering that keeps the matrix upper triangular is a valid spec of the same cell
    relabelled, relabelled_ops = topological_relabel(matrix, ops, rng)
    assert not np.tril(relabelled).any()
    assert SPACE.from_spec(relabelled, relabelled_ops).key == key
    canonical, canonical_ops = SPACE.spec_of(Arch("nb101", key))
    np.testing.assert_array_equal(canonical, matrix)
    assert canonical_ops == ops


@settings(max_examples=60, deadline=None)
@given(seeds)
def test_pruning_is_idempotent_and_keeps_the_key(seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = np.triu(rng.integers(0, 2, size=(7, 7)), 1)
    ops = ["input", *(CELL_OPS[i] for i in rng.integers(0, 3, size=5)), "output"]
    try:
        pruned, pruned_ops = prune(matrix, ops)
    except OutOfSpaceError as err:
        assert "\n" not in str(err)
        assert ("disconnected" in str(err)) or ("edges after pruning" in str(err))
        return
    again, again_ops = prune(pruned, pruned_ops)
    np.testing.assert_array_equal(again, pruned)
    assert again_ops == pruned_ops
    assert nb._keep_mask(pruned.astype(np.uint8)).all()
    assert SPACE.from_spec(matrix, ops) == SPACE.from_spec(pruned, pruned_ops)
    assert pruned.sum() <= 9 and len(pruned_ops) <= 7


@pytest.mark.parametrize(
    ("matrix", "ops", "message"),
    [
        ([[0, 0], [0, 0]], ["input", "output"], "disconnected"),
        ([[0, 1], [0, 0]], ["input", "conv5x5", "output"], "1 ops|2x2 matrix but 3 ops"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown nb101 op 'conv5x5' at vertex 1"),
        ([[0, 1], [1, 0]], ["input", "output"], "strictly upper triangular"),
        ([[0, 1, 1]], ["input", "output"], "square"),
        ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
        ([[0, 1], [0, 0]], ["output", "input"], "start with 'input' and end with 'output'"),
        ("0101", ["input", "output", "x"], "2x2 matrix but 3 ops"),
        ("01x0", ["input", "output"], "0/1"),
        (np.triu(np.ones((7, 7), dtype=int), 1), ["input", *["maxpool3x3"] * 5, "output"], "21 edges"),
        (np.triu(np.ones((8, 8), dtype=int), 1), ["input", *["maxpool3x3"] * 6, "output"], "8 vertices"),
    ],
)
def test_invalid_specs_raise_one_line_errors(matrix: object, ops: list[str], message: str) -> None:
    with pytest.raises(OutOfSpaceError, match=message) as info:
        SPACE.from_spec(matrix, ops)
    assert "\n" not in str(info.value)


def test_dangling_vertices_are_pruned() -> None:
    # vertex 2 has no out-edge, vertex 3 no in-edge: both are removed
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"]
    m, o = prune(matrix, ops)
    assert m.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert o == ["input", "conv3x3-bn-relu", "output"]
    assert SPACE.from_spec(matrix, ops) == SPACE.from_spec(m, o)
    assert module_hash(matrix, ops) != SPACE.from_spec(matrix, ops).key  # the raw hash sees the dangling parts


# ---- keys and validation ------------------------------------------------------------------------------


def test_validate_parse_and_is_valid() -> None:
    arch = SPACE.from_spec(*INCEPTION)
    assert SPACE.validate(arch) is arch
    assert SPACE.validate(arch.key) == arch
    assert SPACE.parse(f"  nb101:{arch.key} ") == arch
    assert SPACE.canonical(arch) == arch
    assert not SPACE.is_valid(Arch("nb201", arch.key))
    assert not SPACE.is_valid(Arch("nb101", "not-a-hash"))
    assert not SPACE.is_valid(arch.key)  # a plain string is not an Arch
    with pytest.raises(OutOfSpaceError, match="belongs to search space 'nb201'"):
        SPACE.validate(Arch("nb201", arch.key))
    with pytest.raises(OutOfSpaceError, match="32-character lowercase hex"):
        SPACE.validate("XYZ")
    with pytest.raises(OutOfSpaceError, match="item 1: .*32-character"):
        SPACE.encode("gbdt", [arch, "nope"])
    with pytest.raises(OutOfSpaceError, match="module hash string, got int"):
        SPACE.validate(3)  # type: ignore[arg-type]


def test_unknown_well_formed_hash_is_looked_up_in_the_table(small_table: CellTable) -> None:
    with pytest.raises(OutOfSpaceError, match="is not the module hash of any nb101 cell"):
        SPACE.validate("f" * 32)
    assert not SPACE.is_valid(Arch("nb101", "f" * 32))
    assert SPACE.keys_valid([small_table.hashes[0], "f" * 32, 7]).tolist() == [True, False, False]
    resolved = SPACE.resolve_keys([f" NB101:{small_table.hashes[3].upper()}", "0" * 31, None])
    assert resolved.tolist() == [small_table.hashes[3], None, None]


# ---- canonical specs and enumeration --------------------------------------------------------------------


def brute_force_hashes(max_vertices: int) -> dict[str, tuple[int, int, int]]:
    """nasbench generate_graphs: first (V, bits, labelling) of every hash, with the reference hash."""
    first: dict[str, tuple[int, int, int]] = {}
    for v in range(2, max_vertices + 1):
        edges = [(x, y) for y in range(v) for x in range(y)]
        for bits in range(2 ** len(edges)):
            matrix = np.zeros((v, v), dtype=np.int8)
            for x, y in edges:
                matrix[x, y] = (bits >> (x + y * (y - 1) // 2)) & 1
            full = all(matrix[i].any() for i in range(v - 1)) and all(matrix[:, j].any() for j in range(1, v))
            if not full or matrix.sum() > 9:
                continue
            for code, labelling in enumerate(itertools.product(range(3), repeat=v - 2)):
                key = reference_hash(matrix, [-1, *labelling, -2])
                first.setdefault(key, (v, bits, code))
    return first


def test_enumeration_up_to_five_vertices_matches_the_official_procedure() -> None:
    table = enumerate_cells(max_vertices=5, workers=1)
    assert len(table) == 1 + 6 + 84 + 2441 == 2532
    assert np.bincount(table.num_vertices)[2:].tolist() == [CELLS_BY_VERTICES[v] for v in range(2, 6)]
    expected = brute_force_hashes(5)
    got = {
        h: (int(v), int(b), int(c))
        for h, v, b, c in zip(table.hashes, table.num_vertices, table.bits, table.labels, strict=True)
    }
    assert got == expected
    assert table.num_edges.max() == 9  # the 10-edge complete 5-vertex DAG is excluded
    # table order is the official enumeration order (vertices, bitmask, labelling)
    order = np.lexsort((table.labels, table.bits, table.num_vertices))
    np.testing.assert_array_equal(order, np.arange(len(table)))


def test_enumeration_in_worker_processes_gives_the_same_table() -> None:
    serial = enumerate_cells(max_vertices=5, workers=1)
    parallel = enumerate_cells(max_vertices=5, workers=2)
    assert parallel.hashes.tolist() == serial.hashes.tolist()
    np.testing.assert_array_equal(parallel.bits, serial.bits)


def test_canonical_specs_from_specs_equal_the_table(small_table: CellTable) -> None:
    adjacency, nodes = small_table.arrays()
    rng = np.random.default_rng(0)
    rows = rng.choice(len(small_table), size=150, replace=False)
    for row in rows.tolist():
        v = int(small_table.num_vertices[row])
        matrix, ops = adjacency[row, :v, :v], [OPS[k] for k in nodes[row, :v]]
        relabelled, relabelled_ops = topological_relabel(matrix, ops, rng)
        key = SPACE.from_spec(relabelled, relabelled_ops).key
        assert key == small_table.hashes[row]
        assert nb._canonical_code(relabelled.astype(np.uint8), np.array([OPS.index(o) for o in relabelled_ops])) == (
            v,
            int(small_table.bits[row]),
            int(small_table.labels[row]),
        )
    # table path and spec path give the same arrays
    keys = small_table.hashes[rows]
    via_table = SPACE.spec_arrays(keys)
    saved = nb._TABLE.pop("all")
    try:
        via_specs = SPACE.spec_arrays(keys)
    finally:
        nb._TABLE["all"] = saved
    for a, b in zip(via_table, via_specs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_cell_table_frame_round_trip_and_cache_checks(tmp_path: Path) -> None:
    table = enumerate_cells(max_vertices=4, workers=1)
    back = CellTable.from_frame(table.to_frame())
    assert back.hashes.tolist() == table.hashes.tolist()
    np.testing.assert_array_equal(back.labels, table.labels)
    path = tmp_path / "cells.parquet"
    nb._write_cached(table, path)
    with pytest.raises(DataFormatError, match="has 91 rows, expected 423624"):
        nb._read_cached(path)
    table.to_frame().to_parquet(path)
    with pytest.raises(DataFormatError, match="not an nb101 cell table"):
        nb._read_cached(path)
    with pytest.MonkeyPatch.context() as patch:  # pretend the small table is complete: the spot check reads it
        patch.setattr(nb, "NUM_CELLS", len(table))
        nb._write_cached(table, path)
        assert nb._read_cached(path).hashes.tolist() == table.hashes.tolist()
        tampered = CellTable(table.hashes, table.num_vertices, table.bits, table.labels[::-1].copy())
        nb._write_cached(tampered, path)
        with pytest.raises(DataFormatError, match="does not hash to its key"):
            nb._read_cached(path)
    with pytest.raises(DataFormatError, match="lacks columns"):
        CellTable.from_frame(pd.DataFrame({"hash": ["a"]}))


def test_cell_table_path_is_in_the_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDICTBENCH_DATA", str(tmp_path))
    assert nb.cell_table_path() == tmp_path / "spaces" / "nb101_cells.parquet"


# ---- search moves ---------------------------------------------------------------------------------------


def test_sample_is_deterministic_and_valid() -> None:
    a = SPACE.sample(np.random.default_rng(3), 50)
    b = SPACE.sample(np.random.default_rng(3), 50)
    assert a == b and len(a) == 50
    assert all(SPACE.is_valid(x) for x in a)
    assert SPACE.sample(np.random.default_rng(0), 0) == []
    with pytest.raises(TypeError, match="numpy Generator"):
        SPACE.sample(np.random.RandomState(0), 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        SPACE.sample(np.random.default_rng(0), -1)
    with pytest.raises(UnknownNameError, match="sampling method"):
        SPACE.sample(np.random.default_rng(0), 1, method="nope")  # type: ignore[arg-type]


def test_uniform_sampling_and_enumerate_use_the_table(small_table: CellTable) -> None:
    drawn = SPACE.sample(np.random.default_rng(1), 20, method="uniform")
    assert set(a.key for a in drawn) <= set(small_table.hashes.tolist())
    assert [a.key for a in SPACE.enumerate()] == small_table.hashes.tolist()


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_mutate_gives_a_valid_different_cell(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parent = SPACE.sample(rng, 1)[0]
    child = SPACE.mutate(parent, np.random.default_rng(seed))
    assert child != parent
    assert SPACE.is_valid(child)
    assert SPACE.mutate(parent, np.random.default_rng(seed)) == child  # a function of (cell, rng state)


def test_mutate_grows_small_cells_and_checks_arguments() -> None:
    smallest = SPACE.from_spec([[0, 1], [0, 0]], ["input", "output"])
    rng = np.random.default_rng(0)
    sizes = {len(SPACE.spec_of(SPACE.mutate(smallest, rng))[1]) for _ in range(30)}
    assert max(sizes) > 2
    with pytest.raises(ValueError, match="mutation_rate"):
        SPACE.mutate(smallest, rng, mutation_rate=0)


@settings(max_examples=25, deadline=None)
@given(seeds)
def test_neighbours_are_valid_distinct_one_edit_cells(seed: int) -> None:
    arch = SPACE.sample(np.random.default_rng(seed), 1)[0]
    neighbours = SPACE.neighbors(arch)
    assert len(neighbours) == len(set(neighbours))
    assert arch not in neighbours
    assert all(SPACE.is_valid(n) for n in neighbours)
    matrix, ops = SPACE.spec_of(arch)
    v = len(ops)
    assert len(neighbours) <= v * (v - 1) // 2 + 2 * (v - 2)
    # from another spec of the same cell, the neighbourhood is the same
    other, other_ops = topological_relabel(matrix, ops, np.random.default_rng(seed))
    assert SPACE.neighbors(SPACE.from_spec(other, other_ops)) == neighbours


def test_neighbours_of_the_smallest_cells() -> None:
    assert SPACE.neighbors(SPACE.from_spec([[0, 1], [0, 0]], ["input", "output"])) == []
    chain = SPACE.from_spec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    found = SPACE.neighbors(chain)
    assert len(found) == 3  # two op changes and the input -> output edge
    assert SPACE.from_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"]) in found


# ---- graphs and encodings ----------------------------------------------------------------------------------


def test_to_graph_and_padded_graph_arrays() -> None:
    small = SPACE.from_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    big = SPACE.from_spec(*INCEPTION)
    graph = SPACE.to_graph(small)
    assert graph.op_names == OPS
    assert graph.ops.tolist() == [0, 3, 4]
    assert graph.adjacency.tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    labels, adjacency = SPACE.graph_arrays([small, big])
    assert labels.shape == (2, 7) and adjacency.shape == (2, 7, 7)
    assert labels[0].tolist() == [0, 3, 4, -1, -1, -1, -1]
    assert adjacency[0, 3:].sum() == adjacency[0, :, 3:].sum() == 0
    np.testing.assert_array_equal(SPACE.graph_mask([small, big]), labels >= 0)
    assert SPACE.to_graph(big).ops.tolist() == [OPS.index(o) for o in SPACE.spec_of(big)[1]]


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_encodings_match_reference_implementations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    archs = SPACE.sample(rng, 5)
    gbdt = SPACE.encode("gbdt", archs)
    paths = SPACE.encode("path", archs)
    counts = SPACE.encode("opcount", archs)
    adjops = SPACE.encode("adjops", archs)
    for k, arch in enumerate(archs):
        matrix, ops = SPACE.spec_of(arch)
        assert gbdt[k].tolist() == reference_gbdt(matrix, ops)
        assert set(np.flatnonzero(paths[k]).tolist()) == reference_paths(matrix, ops)
        assert counts[k].tolist() == [ops.count(op) for op in OPS[1:4]]
        v = len(ops)
        padded = np.zeros((7, 7))
        padded[:v, :v] = matrix
        rows, cols = np.triu_indices(7, 1)
        assert adjops[k, :21].tolist() == padded[rows, cols].tolist()
        assert adjops[k, 21:].reshape(7, 5).argmax(axis=1)[:v].tolist() == [OPS.index(o) for o in ops]
        assert adjops[k, 21:].reshape(7, 5)[v:].sum() == 0


def test_encoding_shapes_names_and_dispatch() -> None:
    archs = [SPACE.from_spec(*INCEPTION), SPACE.from_spec([[0, 1], [0, 0]], ["input", "output"])]
    widths = {"onehot": 45, "gbdt": 45, "adjops": 56, "path": 364, "opcount": 3}
    assert set(SPACE.encoding_names()) == set(widths)
    for name, width in widths.items():
        x = encode("nb101", archs, name)
        assert x.shape == (2, width) and x.dtype == np.float32
        names = feature_names("nb101", name)
        assert len(names) == width and len(set(names)) == width
    np.testing.assert_array_equal(encode("nb101", archs, "onehot"), encode("nb101", archs, "gbdt"))
    assert feature_names("nb101", "path")[0] == "path=input>output"
    assert feature_names("nb101", "gbdt")[:5] == [
        "edge_0_1",
        "node_1=conv1x1-bn-relu",
        "node_1=conv3x3-bn-relu",
        "node_1=maxpool3x3",
        "node_1=output",
    ]
    assert encode("nb101", archs[1:], "path")[0, 0] == 1  # the direct input -> output path
    with pytest.raises(UnknownNameError):
        SPACE.encode("nope", archs)
    with pytest.raises(OutOfSpaceError, match="arrays must be"):
        SPACE.encode_arrays("gbdt", np.zeros((1, 6, 6)), np.zeros((1, 6)))


def test_encoding_a_batch_is_vectorised(small_table: CellTable) -> None:
    started = time.perf_counter()
    x = SPACE.encode("gbdt", small_table.hashes)
    assert x.shape == (len(small_table), 45)
    assert time.perf_counter() - started < 5  # a few ms in practice; a loop per cell would be far slower


# ---- the shared data ----------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_shared_sample_hashes_and_specs_are_reproduced(shared_data_dir: Path) -> None:
    table = pd.read_parquet(shared_data_dir / "nb101" / "nb101_sample300.parquet")
    archs = SPACE.from_specs(table["matrix"], table["ops"])
    assert [a.key for a in archs] == table["hash"].tolist()  # 300 / 300
    for arch, matrix, ops in zip(archs, table["matrix"], table["ops"], strict=True):
        canonical, canonical_ops = SPACE.spec_of(arch)
        assert "".join(map(str, canonical.reshape(-1).tolist())) == matrix
        assert ",".join(canonical_ops) == ops


@pytest.mark.shared_data
def test_naslib_subset500_hash_column_is_the_unpruned_hash(shared_data_dir: Path) -> None:
    """Finding: that table's ``hash`` is hash_module of the *unpruned* NASLib spec, an official key for 1 row."""
    table = pd.read_parquet(shared_data_dir / "zc" / "nb101_zc_naslib_subset500.parquet")
    raw = [module_hash(m, o) for m, o in zip(table["matrix"], table["ops"], strict=True)]
    assert raw == table["hash"].tolist()
    official = [a.key for a in SPACE.from_specs(table["matrix"], table["ops"])]  # every spec is valid once pruned
    assert sum(o == h for o, h in zip(official, table["hash"], strict=True)) == 1
    assert len(set(official)) == 292


# ---- the whole space (slow: about a minute on 2 cores) ----------------------------------------------------------


def shared_nb101_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root shared by the slow NB101 tests of one session (the cell table is built once)."""
    root = tmp_path_factory.getbasetemp() / "nb101-data-root"
    root.mkdir(exist_ok=True)
    return root


@pytest.mark.slow
def test_full_enumeration_has_423624_cells_and_is_cached(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREDICTBENCH_DATA", str(shared_nb101_data_root(tmp_path_factory)))
    saved = dict(nb._TABLE)
    nb._TABLE.clear()
    try:
        table = nb.cell_table()
        assert len(table) == NUM_CELLS == len(set(table.hashes.tolist()))
        counts = np.bincount(table.num_vertices)
        assert {v: int(counts[v]) for v in range(2, 8)} == CELLS_BY_VERTICES
        assert table.num_edges.max() == 9
        assert nb.cell_table_path().is_file()
        nb._TABLE.clear()
        cached = nb.cell_table()  # from the cache file
        assert cached.hashes.tolist() == table.hashes.tolist()
        np.testing.assert_array_equal(cached.labels, table.labels)
        assert len(SPACE.enumerate()) == NUM_CELLS
        x = SPACE.encode("gbdt", table.hashes)
        assert x.shape == (NUM_CELLS, 45)
        # every cell's canonical spec hashes back to its key (a sample of rows)
        rows = np.random.default_rng(0).choice(NUM_CELLS, size=300, replace=False)
        adjacency, nodes = table.arrays(rows)
        for row, adj, node in zip(rows.tolist(), adjacency, nodes, strict=True):
            v = int(table.num_vertices[row])
            assert reference_hash(adj[:v, :v], [LABEL[OPS[k]] for k in node[:v]]) == table.hashes[row]
    finally:
        nb._TABLE.clear()
        nb._TABLE.update(saved)
