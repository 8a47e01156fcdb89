"""NAS-Bench-Graph space: the benchmark's equivalence, canonical keys, SearchSpace protocol, errors, encodings."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictbench.encodings import encode, feature_names, graphs
from predictbench.search.pruning import ConstrainedSpace, decisions_of
from predictbench.spaces import SPACES, SearchSpace, get_space
from predictbench.spaces.nbgraph import (
    LINK_PATTERNS,
    NUM_ARCHS,
    NUM_PROTEINS_ARCHS,
    OPS,
    PROTEINS_OPS,
    NBGraphProteinsSpace,
    NBGraphSpace,
    _canonical_codes,
)
from predictbench.types import Arch, OutOfSpaceError, UnknownNameError

SPACE = NBGraphSpace()
PROTEINS = NBGraphProteinsSpace()
HAS_PACKAGE = importlib.util.find_spec("nas_bench_graph") is not None
needs_package = pytest.mark.skipif(
    not HAS_PACKAGE, reason="nas-bench-graph is not installed (pip install 'predictbench[graph]')"
)

indices = st.integers(0, NUM_ARCHS - 1)
seeds = st.integers(0, 2**32 - 1)
raw_links = st.tuples(st.just(0), st.integers(0, 1), st.integers(0, 2), st.integers(0, 3))
raw_ops = st.lists(st.sampled_from(OPS), min_size=4, max_size=4).filter(lambda ops: set(ops) != {"skip"})


def all_raw_specs() -> tuple[np.ndarray, np.ndarray]:
    """All 24 x 9**4 raw specs that are not all skip: links (n, 4) and op ids (n, 4)."""
    links = np.array(list(itertools.product(range(1), range(2), range(3), range(4))))
    ops = np.array(list(itertools.product(range(len(OPS)), repeat=4)))
    ops = ops[~(ops == OPS.index("skip")).all(axis=1)]
    return np.repeat(links, len(ops), axis=0), np.tile(ops, (len(links), 1))


def renumbered(links: tuple[int, ...], ops: tuple[str, ...], order: tuple[int, ...]) -> tuple[list[int], list[str]]:
    """The same tree with node ``order[k]`` (0-based) as new node k + 1."""
    new_id = {0: 0, **{old + 1: new + 1 for new, old in enumerate(order)}}
    return [new_id[links[old]] for old in order], [ops[old] for old in order]


# -- registry, counts, keys ---------------------------------------------------------------------------------


def test_registered_protocol_and_counts() -> None:
    assert len(SPACE) == NUM_ARCHS == 26_206
    assert len(PROTEINS) == NUM_PROTEINS_ARCHS == 2_021
    for space in (SPACE, PROTEINS):
        assert space.name in SPACES
        assert isinstance(space, SearchSpace)
        assert get_space(space.name) == space
        assert hash(get_space(space.name)) == hash(type(space)())
    assert SPACE != PROTEINS


def test_enumeration_keys_are_canonical_and_use_the_nine_link_patterns() -> None:
    archs = SPACE.enumerate()
    assert len(set(archs)) == NUM_ARCHS
    assert {tuple(row) for row in SPACE.links_array(archs).tolist()} == set(LINK_PATTERNS)
    for arch in archs[::97]:
        links, ops = SPACE.spec(arch)
        assert arch.key == "".join(map(str, links)) + ":" + ",".join(ops)
        assert SPACE.parse(arch.key) == arch == SPACE.from_spec(links, ops)
    np.testing.assert_array_equal(SPACE.index_of(archs), np.arange(NUM_ARCHS))


def test_every_raw_spec_maps_to_one_of_the_keys() -> None:
    links, ops = all_raw_specs()
    codes = _canonical_codes(links, ops)
    assert len(codes) == 157_440
    assert set(SPACE._from_codes(np.unique(codes))) == set(SPACE.enumerate())


def test_proteins_space_is_the_five_op_part_with_the_same_keys() -> None:
    full = {a.key for a in SPACE.enumerate() if set(a.key.split(":")[1].split(",")) <= set(PROTEINS_OPS)}
    assert {a.key for a in PROTEINS.enumerate()} == full
    assert all(a.space == "nbgraph-proteins" for a in PROTEINS.enumerate())


def test_skip_rules_and_known_keys() -> None:
    # a node reading a skip reads the skip's input; the skip becomes a residual from the raw input
    assert SPACE.parse("0123:skip,gcn,gcn,gcn").key == "0013:gcn,skip,gcn,gcn"
    # an only-child skip leaf moves to the raw input
    assert SPACE.parse("0123:gcn,gcn,gat,skip").key == "0013:gcn,skip,gcn,gat"
    # a skip leaf beside a sibling stays where it is
    assert SPACE.parse("0111:gcn,skip,gat,gin").key == "0111:gcn,gat,gin,skip"
    # node order is free; the NAS-Bench-Graph README's second numbering of its example says [0, 1, 1, 2],
    # which is another tree (its valid_hash differs too): [0, 1, 1, 3] is the renumbering
    assert SPACE.from_spec([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]) == SPACE.from_spec(
        [0, 1, 1, 3], ["gcn", "cheb", "gin", "fc"]
    )
    assert SPACE.from_bench_hash([0, 58000, 88887]) == [
        Arch("nbgraph", "0000:gat,gat,gat,gat"),
        Arch("nbgraph", "0000:gat,gat,gat,skip"),  # the benchmark lists it as skip -> {gat, gat, gat}
        Arch("nbgraph", "0000:fc,skip,skip,skip"),
    ]
    assert SPACE.parse("nbgraph: 0000:gat,gat,gat,gat ") == SPACE.enumerate()[0]


@settings(max_examples=100)
@given(raw_links, raw_ops, st.permutations(range(4)))
def test_key_ignores_node_numbering(links: tuple[int, ...], ops: list[str], order: list[int]) -> None:
    new_links, new_ops = renumbered(links, tuple(ops), tuple(order))
    if all(new_links[k] <= k for k in range(4)):  # a numbering where every node follows its input
        assert SPACE.from_spec(new_links, new_ops) == SPACE.from_spec(list(links), ops)


@needs_package
@settings(max_examples=150, deadline=None)
@given(raw_links, raw_ops, raw_links, raw_ops)
def test_same_key_exactly_when_the_benchmark_hash_agrees(
    links_a: tuple[int, ...], ops_a: list[str], links_b: tuple[int, ...], ops_b: list[str]
) -> None:
    from nas_bench_graph.architecture import Arch as BenchArch

    hash_a = BenchArch(list(links_a), list(ops_a)).valid_hash()
    hash_b = BenchArch(list(links_b), list(ops_b)).valid_hash()
    key_a, key_b = SPACE.from_spec(links_a, ops_a), SPACE.from_spec(links_b, ops_b)
    assert SPACE.from_bench_hash([hash_a]) == [key_a]
    assert (key_a == key_b) == (hash_a == hash_b)


@needs_package
def test_same_classes_as_the_benchmark_on_every_spec_with_three_ops() -> None:
    """All 1,920 specs over gat, gcn, skip: many equal pairs, every skip rule exercised."""
    from nas_bench_graph.architecture import Arch as BenchArch

    few = [OPS.index(op) for op in ("gat", "gcn", "skip")]
    links, ops = all_raw_specs()
    keep = np.isin(ops, few).all(axis=1)
    links, ops = links[keep], ops[keep]
    hashes = [
        BenchArch(lk, [OPS[i] for i in o]).valid_hash() for lk, o in zip(links.tolist(), ops.tolist(), strict=True)
    ]
    codes = _canonical_codes(links, ops).tolist()
    assert len(hashes) == 1_920
    assert len(set(zip(hashes, codes, strict=True))) == len(set(hashes)) == len(set(codes)) < 1_920 / 4


@needs_package
@pytest.mark.slow
def test_exhaustive_agreement_with_the_benchmark_hash() -> None:
    from nas_bench_graph.architecture import Arch as BenchArch
    from nas_bench_graph.architecture import all_archs

    links, ops = all_raw_specs()
    hashes = [
        BenchArch(lk, [OPS[i] for i in combo]).valid_hash()
        for lk, combo in zip(links.tolist(), ops.tolist(), strict=True)
    ]
    keys = [a.key for a in SPACE.from_bench_hash(np.array(hashes))]
    own = [a.key for a in SPACE._from_codes(_canonical_codes(links, ops))]
    assert keys == own  # the key of a spec is the key of its benchmark record
    assert len(set(zip(hashes, own, strict=True))) == len(set(hashes)) == len(set(own)) == NUM_ARCHS
    with contextlib.redirect_stdout(io.StringIO()):  # all_archs prints its count
        records = {a.hash_arch() for a in all_archs()}
    assert records == set(hashes)


# -- SearchSpace protocol -----------------------------------------------------------------------------------


@given(seeds)
def test_sample_key_arch_round_trip(seed: int) -> None:
    for arch in SPACE.sample(np.random.default_rng(seed), 5):
        assert SPACE.is_valid(arch)
        assert SPACE.validate(arch.key) == arch == SPACE.canonical(arch)
        assert SPACE.from_index(SPACE.index_of(arch)) == [arch]
        assert SPACE.parse(str(arch)) == arch


@settings(max_examples=60)
@given(indices, seeds)
def test_mutate_stays_valid_changes_the_key_and_is_a_neighbor(index: int, seed: int) -> None:
    arch = SPACE.from_index(index)[0]
    neighbors = SPACE.neighbors(arch)
    assert neighbors and len(neighbors) == len(set(neighbors))
    assert arch not in neighbors and all(SPACE.is_valid(n) for n in neighbors)
    child = SPACE.mutate(arch, np.random.default_rng(seed))
    assert SPACE.is_valid(child) and child != arch and child in neighbors


@settings(max_examples=30)
@given(st.integers(0, NUM_PROTEINS_ARCHS - 1), seeds)
def test_proteins_moves_stay_in_the_subspace(index: int, seed: int) -> None:
    arch = PROTEINS.from_index(index)[0]
    assert all(PROTEINS.is_valid(n) for n in PROTEINS.neighbors(arch))
    assert PROTEINS.is_valid(PROTEINS.mutate(arch, np.random.default_rng(seed)))
    assert all(PROTEINS.is_valid(a) for a in PROTEINS.sample(np.random.default_rng(seed), 20))


def test_neighbors_are_single_edits_and_reachable_by_mutation() -> None:
    arch = SPACE.parse("0123:gcn,gat,gin,sage")  # a chain without skips: every edit is a distinct network
    neighbors = SPACE.neighbors(arch)
    assert len(neighbors) == 4 * 8 + 6
    rng = np.random.default_rng(0)
    assert {SPACE.mutate(arch, rng) for _ in range(500)} == set(neighbors)
    three_skips = SPACE.parse("0000:gcn,skip,skip,skip")
    assert Arch("nbgraph", "0000:skip,skip,skip,skip") not in [a for a in SPACE.neighbors(three_skips)]


# -- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "match"),
    [
        ("0123:gcn,gcn,gat,skip", "not a canonical key.*'0013:gcn,skip,gcn,gat'"),
        ("0124:gcn,gcn,gat,gin", "node 4 takes its input from 4"),
        ("1000:gcn,gcn,gat,gin", r"node 1 takes its input from 1; it must be 0 \(the raw input\)"),
        ("0000:gcn,gcm,gat,gin", "unknown op 'gcm' at node 2"),
        ("0000:gcn,gat,gin", "needs 4 node operations"),
        ("0000:skip,skip,skip,skip", "all four nodes are 'skip'"),
        ("gcn,gat,gin,fc", "looks like '0112:gcn,gin,cheb,fc'"),
        (Arch("nb201", "0000:gat,gat,gat,gat"), "belongs to search space 'nb201'"),
        (42, "got int"),
    ],
)
def test_invalid_keys_name_the_problem(item: object, match: str) -> None:
    with pytest.raises(OutOfSpaceError, match=match):
        SPACE.validate(item)  # type: ignore[arg-type]
    assert not SPACE.is_valid(item)


def test_proteins_space_rejects_other_ops() -> None:
    with pytest.raises(OutOfSpaceError, match=r"op 'gat' \(node 1\) is not in the nbgraph-proteins space"):
        PROTEINS.parse("0000:gat,gcn,gcn,gcn")
    with pytest.raises(OutOfSpaceError, match="not a NAS-Bench-Graph hash of the nbgraph-proteins space"):
        PROTEINS.from_bench_hash([1])  # gat, gat, gat, gcn


def test_other_errors() -> None:
    with pytest.raises(OutOfSpaceError, match="node 3 takes its input from 5"):
        SPACE.from_spec([0, 1, 5, 0], ["gcn"] * 4)
    with pytest.raises(OutOfSpaceError, match="needs 4 node inputs"):
        SPACE.from_spec([0, 1], ["gcn"] * 4)
    with pytest.raises(OutOfSpaceError, match="99999 is not a NAS-Bench-Graph hash"):
        SPACE.from_bench_hash([0, 99999])
    with pytest.raises(OutOfSpaceError, match="1-d sequence of integers"):
        SPACE.from_bench_hash(np.array([1.5]))
    with pytest.raises(OutOfSpaceError, match="index 26206 out of range"):
        SPACE.from_index(NUM_ARCHS)
    with pytest.raises(OutOfSpaceError, match="item 1: "):
        SPACE.encode("onehot", ["0000:gat,gat,gat,gat", "nope"])
    with pytest.raises(UnknownNameError, match="path"):
        SPACE.encode("path", ["0000:gat,gat,gat,gat"])
    with pytest.raises(TypeError, match="numpy Generator"):
        SPACE.sample(0, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative int"):
        SPACE.sample(np.random.default_rng(0), -1)


# -- encodings and graphs -----------------------------------------------------------------------------------


def test_encodings_shapes_and_names() -> None:
    keys = [a.key for a in SPACE.enumerate()]
    for space, m in ((SPACE, 9), (PROTEINS, 5)):
        some = space.enumerate()[:50]
        assert encode(space, some, "onehot").shape == (50, 9 + 4 * m)
        assert encode(space, some, "adjops").shape == (50, 15 + 6 * (m + 2))
        assert encode(space, some, "opcount").shape == (50, m)
        for name in space.encoding_names():
            assert len(feature_names(space, name)) == encode(space, some[:1], name).shape[1]
    onehot = encode("nbgraph", keys, "onehot")
    assert len(np.unique(onehot, axis=0)) == NUM_ARCHS  # the encoding tells every architecture apart
    np.testing.assert_array_equal(encode("nbgraph", keys, "opcount").sum(axis=1), 4)


def test_onehot_is_one_group_per_decision_so_pruning_runs() -> None:
    decisions = decisions_of(SPACE)
    assert decisions.positions == (
        "node2_input",
        "node3_input",
        "node4_input",
        "node1_op",
        "node2_op",
        "node3_op",
        "node4_op",
    )
    small = ConstrainedSpace(SPACE, {"node1_op": ["gcn"], "node2_op": ["gcn", "gat"]})
    arch = small.sample(np.random.default_rng(0), 1)[0]
    assert small.is_valid(arch) and SPACE.spec(arch)[1][0] == "gcn"


def test_graph_is_input_nodes_and_output() -> None:
    arch = SPACE.parse("0112:gcn,gin,cheb,fc")
    graph = SPACE.to_graph(arch)
    names = [graph.op_names[i] for i in graph.ops.tolist()]
    assert names == ["input", "gcn", "gin", "cheb", "fc", "output"]
    edges = {tuple(e) for e in np.argwhere(graph.adjacency).tolist()}
    assert edges == {(0, 1), (1, 2), (1, 3), (2, 4), (3, 5), (4, 5)}  # leaves cheb and fc feed the output
    labels, adjacency = graphs("nbgraph", SPACE.enumerate())
    assert labels.shape == (NUM_ARCHS, 6) and adjacency.shape == (NUM_ARCHS, 6, 6)
    np.testing.assert_array_equal(adjacency[:, :, 1:5].sum(axis=1), 1)  # one input per computing node
    assert (adjacency[:, 1:5, 5].sum(axis=1) >= 1).all()
    p_labels, _ = graphs(PROTEINS, PROTEINS.enumerate())
    assert p_labels.max() == len(PROTEINS.graph_op_names) - 1 == 6
