"""NB201 / NATS-tss cell space: codings, protocol, canonical forms and the shipped index order."""

from __future__ import annotations

import bz2
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictbench.spaces import SearchSpace, get_space
from predictbench.spaces.nb201 import (
    EDGES,
    GRAPH_OP_NAMES,
    NASLIB_OPS,
    NUM_CELLS,
    OPS,
    NB201Space,
    product_codes,
)
from predictbench.types import Arch, OutOfSpaceError, UnknownNameError

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"

SPACE = NB201Space()
op_ids = st.tuples(*[st.integers(0, 4)] * 6)
indices = st.integers(0, NUM_CELLS - 1)
seeds = st.integers(0, 2**32 - 1)


def hamming(a: Arch, b: Arch) -> int:
    return int((SPACE.ops_array(a) != SPACE.ops_array(b)).sum())


# ---- basics ------------------------------------------------------------------------------------


def test_size_and_protocol() -> None:
    assert len(SPACE) == NUM_CELLS == 15625
    assert SPACE.name == "nb201"
    assert isinstance(SPACE, SearchSpace)
    assert get_space("nb201") == SPACE


def test_enumerate_is_official_order_and_complete() -> None:
    archs = SPACE.enumerate()
    assert len(archs) == NUM_CELLS
    assert len(set(archs)) == NUM_CELLS
    assert archs == SPACE.from_index(np.arange(NUM_CELLS))
    np.testing.assert_array_equal(SPACE.index_of(archs), np.arange(NUM_CELLS))
    assert all(a.space == "nb201" for a in archs[:10])


def test_best_cifar10_cell_is_index_6111() -> None:
    assert SPACE.arch_at(6111) == Arch("nb201", BEST)
    assert SPACE.index(BEST) == 6111
    assert SPACE.ops_of(BEST) == (
        "nor_conv_3x3",
        "nor_conv_3x3",
        "nor_conv_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "nor_conv_1x1",
    )
    assert SPACE.naslib_tuple(BEST) == (2, 2, 0, 2, 2, 3)


def test_index_0_and_naslib_example() -> None:
    first = SPACE.arch_at(0)
    assert first.key == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert SPACE.naslib_tuple(first) == (4, 3, 3, 0, 0, 0)
    assert SPACE.from_naslib_tuple("(4, 3, 3, 0, 0, 0)") == first


def test_index_is_not_product_order() -> None:
    codes = product_codes(SPACE.enumerate())
    assert not np.array_equal(codes, np.arange(NUM_CELLS))
    np.testing.assert_array_equal(np.sort(codes), np.arange(NUM_CELLS))


def test_shipped_index_order_file() -> None:
    from importlib import resources

    raw = resources.files("predictbench.spaces").joinpath("data", "nb201_index_order.npy").read_bytes()
    order = np.load(io.BytesIO(raw), allow_pickle=False)
    assert order.dtype == np.uint16
    assert order.shape == (NUM_CELLS,)
    np.testing.assert_array_equal(order.astype(np.int64), product_codes(SPACE.enumerate()))


# ---- round trips -------------------------------------------------------------------------------


@given(op_ids)
def test_ops_string_index_naslib_round_trips(ops: tuple[int, ...]) -> None:
    names = tuple(OPS[i] for i in ops)
    arch = SPACE.from_ops(names)
    assert SPACE.from_ops(ops) == arch
    assert SPACE.ops_of(arch) == names
    assert SPACE.parse(arch.key) == arch
    assert SPACE.validate(arch.key) == arch
    assert SPACE.is_valid(arch)
    # string format
    groups = arch.key.split("+")
    assert [g.count("~") for g in groups] == [1, 2, 3]
    for (target, source), name in zip(EDGES, names, strict=True):
        assert f"{name}~{source}|" in groups[target - 1]
    # index
    idx = SPACE.index(arch)
    assert 0 <= idx < NUM_CELLS
    assert SPACE.arch_at(idx) == arch
    # NASLib
    nl = SPACE.naslib_tuple(arch)
    assert SPACE.from_naslib_tuple(nl) == arch
    assert SPACE.from_naslib_tuple(str(nl)) == arch
    # NASLib edge (u, v) in 1-based nodes is official edge (v-1) <- (u-1)
    for (u, v), code in zip(((1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)), nl, strict=True):
        assert NASLIB_OPS[code] == names[EDGES.index((v - 1, u - 1))]
    np.testing.assert_array_equal(SPACE.ops_array([arch])[0], ops)


@given(st.lists(indices, max_size=30))
def test_batch_conversions(idx: list[int]) -> None:
    archs = SPACE.from_index(idx)
    keys = [a.key for a in archs]
    np.testing.assert_array_equal(SPACE.index_of(archs), idx)
    np.testing.assert_array_equal(SPACE.index_of(keys), idx)
    ops = SPACE.ops_array(keys)
    assert ops.shape == (len(idx), 6)
    assert ops.dtype == np.int8
    assert SPACE.from_ops_array(ops) == archs
    assert SPACE.from_naslib_array(SPACE.naslib_array(archs)) == archs
    mixed = [a if i % 2 else a.key for i, a in enumerate(archs)]
    np.testing.assert_array_equal(SPACE.ops_array(mixed), ops)


def test_single_item_is_a_batch_of_one() -> None:
    assert SPACE.index_of(BEST).tolist() == [6111]
    assert SPACE.ops_array(Arch("nb201", BEST)).shape == (1, 6)
    assert SPACE.from_index(6111) == [Arch("nb201", BEST)]


def test_ops_array_all_cells_matches_product_decoding() -> None:
    archs = SPACE.enumerate()
    ops = SPACE.ops_array(archs)
    codes = (ops.astype(np.int64) * 5 ** np.arange(5, -1, -1)).sum(axis=1)
    np.testing.assert_array_equal(codes, product_codes(archs))


# ---- protocol: sample, mutate, neighbours, graph ------------------------------------------------


@given(indices, seeds)
def test_mutate_changes_exactly_one_edge(idx: int, seed: int) -> None:
    arch = SPACE.arch_at(idx)
    child = SPACE.mutate(arch, np.random.default_rng(seed))
    assert SPACE.is_valid(child)
    assert child != arch
    assert hamming(arch, child) == 1
    assert child in SPACE.neighbors(arch)


@given(indices)
def test_neighbors_are_24_distinct_valid_cells_at_distance_1(idx: int) -> None:
    arch = SPACE.arch_at(idx)
    nbrs = SPACE.neighbors(arch)
    assert len(nbrs) == 24
    assert len(set(nbrs)) == 24
    assert arch not in nbrs
    assert all(SPACE.is_valid(n) and hamming(arch, n) == 1 for n in nbrs)


def test_mutate_is_uniform_over_neighbours() -> None:
    rng = np.random.default_rng(0)
    counts: dict[Arch, int] = {}
    arch = Arch("nb201", BEST)
    for _ in range(4800):
        child = SPACE.mutate(arch, rng)
        counts[child] = counts.get(child, 0) + 1
    assert set(counts) == set(SPACE.neighbors(arch))
    assert min(counts.values()) > 120  # expected 200 each


def test_sample_is_seeded_valid_and_uniform() -> None:
    a = SPACE.sample(np.random.default_rng(7), 20000)
    b = SPACE.sample(np.random.default_rng(7), 20000)
    assert a == b
    assert SPACE.sample(np.random.default_rng(0), 0) == []
    ops = SPACE.ops_array(a)
    freq = np.stack([(ops == k).mean(axis=0) for k in range(5)])
    assert np.all(np.abs(freq - 0.2) < 0.02)
    with pytest.raises(TypeError):
        SPACE.sample(0, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SPACE.sample(np.random.default_rng(0), -1)


def test_to_graph_op_on_node_form() -> None:
    g = SPACE.to_graph(Arch("nb201", BEST))
    assert g.op_names == GRAPH_OP_NAMES == ("input", *OPS, "output")
    assert g.ops.tolist() == [0, 4, 4, 4, 2, 4, 3, 6]
    assert g.adjacency.shape == (8, 8)
    assert g.adjacency.dtype == np.uint8
    assert np.all(np.tril(g.adjacency) == 0)  # topologically ordered DAG
    edges = set(zip(*np.nonzero(g.adjacency), strict=True))
    expected = {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}
    assert {(int(i), int(j)) for i, j in edges} == expected


# ---- validation --------------------------------------------------------------------------------

BAD = [
    ("", "3 node groups"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "3 node groups"),
    (BEST.replace("nor_conv_1x1~2", "conv_3x3~2"), "unknown op 'conv_3x3' on edge 3<-2"),
    (BEST.replace("skip_connect~0", "skip_connect~1"), "expected input node 0"),
    (BEST.replace("|+|skip", "|nor_conv_3x3~2|+|skip"), "node 2 must have 2 input edge(s)"),
    (BEST.replace("|nor_conv_1x1~2|", "|"), "node 3 must have 3 input edge(s)"),
    (BEST.replace("nor_conv_3x3~0|+", "nor_conv_3x3-0|+", 1), "must look like 'op~input'"),
    (BEST[1:], "must be wrapped in '|'"),
    (BEST.replace("~0", "~x", 1), "expected input node 0"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_invalid_strings_raise_one_clear_line(text: str, fragment: str) -> None:
    with pytest.raises(OutOfSpaceError) as err:
        SPACE.validate(text)
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message
    assert not SPACE.is_valid(Arch("nb201", text))
    with pytest.raises(OutOfSpaceError, match="item 1: "):
        SPACE.index_of([BEST, text])


def test_unknown_op_lists_allowed_ops() -> None:
    with pytest.raises(OutOfSpaceError, match="allowed ops: none, skip_connect, nor_conv_1x1"):
        SPACE.validate(BEST.replace("skip_connect", "identity"))
    with pytest.raises(OutOfSpaceError, match="unknown op 'identity' on edge 3<-0"):
        SPACE.from_ops(["nor_conv_3x3"] * 3 + ["identity"] + ["none"] * 2)


def test_other_space_and_other_types() -> None:
    with pytest.raises(OutOfSpaceError, match="belongs to search space 'nb101'"):
        SPACE.validate(Arch("nb101", BEST))
    with pytest.raises(OutOfSpaceError, match="belongs to search space 'nb101'"):
        SPACE.ops_array([Arch("nb101", BEST)])
    assert not SPACE.is_valid(Arch("nb101", BEST))
    assert not SPACE.is_valid(BEST)  # a key is not an Arch
    with pytest.raises(OutOfSpaceError, match="got int"):
        SPACE.validate(42)  # type: ignore[arg-type]
    with pytest.raises(OutOfSpaceError, match="out of range"):
        SPACE.from_index([0, NUM_CELLS])
    with pytest.raises(OutOfSpaceError, match="out of range"):
        SPACE.from_index(-1)
    with pytest.raises(OutOfSpaceError):
        SPACE.from_naslib_tuple((0, 1, 2))
    with pytest.raises(OutOfSpaceError, match="out of range"):
        SPACE.from_naslib_tuple((0, 1, 2, 3, 4, 5))
    with pytest.raises(OutOfSpaceError):
        SPACE.from_ops_array(np.zeros((2, 5), dtype=int))


def test_parse_accepts_prefix_and_whitespace() -> None:
    assert SPACE.parse(f"  nb201:{BEST}\n") == Arch("nb201", BEST)
    assert SPACE.parse(str(Arch("nb201", BEST))) == Arch("nb201", BEST)
    with pytest.raises(OutOfSpaceError):
        SPACE.validate(f" {BEST}")  # validate is strict


# ---- dead ops and canonical forms ----------------------------------------------------------------


def test_dead_op_free_count_is_9445() -> None:
    mask = SPACE.dead_op_free_mask()
    assert mask.shape == (NUM_CELLS,)
    assert int(mask.sum()) == 9445
    assert int((~mask).sum()) == 6180


def test_dead_op_example() -> None:
    # 1<-0 is none, so node 1 is unreachable: the ops on 2<-1 and 3<-1 are dead;
    # 3<-2 is none, so node 2 cannot reach the output: 2<-0 (and 2<-1) are dead too.
    arch = SPACE.from_ops(["none", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_1x1", "none"])
    assert SPACE.dead_op_mask([arch])[0].tolist() == [False, True, True, False, True, False]
    live = SPACE.from_ops(["none", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_1x1", "skip_connect"])
    assert SPACE.dead_op_mask([live])[0].tolist() == [False, False, True, False, True, False]
    pruned = SPACE.prune_dead(arch)
    assert SPACE.ops_of(pruned) == ("none", "none", "none", "skip_connect", "none", "none")


@given(indices)
def test_prune_dead(idx: int) -> None:
    arch = SPACE.arch_at(idx)
    pruned = SPACE.prune_dead(arch)
    free = bool(SPACE.dead_op_free_mask()[idx])
    assert (pruned == arch) == free
    assert not SPACE.dead_op_mask([pruned]).any()
    assert SPACE.prune_dead(pruned) == pruned
    assert SPACE.function_form(pruned) == SPACE.function_form(arch)


def test_dead_op_mask_vectorised_matches_per_cell() -> None:
    all_mask = SPACE.dead_op_mask()
    archs = SPACE.enumerate()
    np.testing.assert_array_equal(all_mask, SPACE.dead_op_mask(archs))
    np.testing.assert_array_equal(all_mask, SPACE.dead_op_mask(SPACE.ops_array(archs)))


def test_canonical_class_counts() -> None:
    assert len(np.unique(SPACE.canonical_index("nb201"))) == 6466  # NB201 paper
    assert len(np.unique(SPACE.canonical_index())) == 4930
    assert len(set(SPACE.canonical_forms("nb201"))) == 6466
    assert len(set(SPACE.canonical_forms("function"))) == 4930


@pytest.mark.parametrize("method", ["function", "nb201"])
def test_canonical_index_is_smallest_member(method: Any) -> None:
    canon = SPACE.canonical_index(method)
    forms = np.array(SPACE.canonical_forms(method), dtype=object)
    assert np.all(canon <= np.arange(NUM_CELLS))
    np.testing.assert_array_equal(canon[canon], canon)  # representatives represent themselves
    assert np.all(forms[canon] == forms)
    # classes are exactly the form classes: distinct representatives have distinct forms
    reps = np.unique(canon)
    assert len(set(forms[reps].tolist())) == len(reps)


@settings(max_examples=60)
@given(indices, st.sampled_from(["function", "nb201"]))
def test_canonical_idempotent_and_constant_on_class(idx: int, method: Any) -> None:
    arch = SPACE.arch_at(idx)
    rep = SPACE.canonical(arch, method)
    assert SPACE.canonical(rep, method) == rep
    canon = SPACE.canonical_index(method)
    members = np.flatnonzero(canon == canon[idx])
    assert {SPACE.canonical(m, method) for m in SPACE.from_index(members[:20])} == {rep}
    assert SPACE.index(rep) == members.min()


@given(op_ids)
def test_nb201_classes_refine_into_function_classes(ops: tuple[int, ...]) -> None:
    # cells NB201 calls equal compute the same function: every 6,466-class lies in one 4,930-class
    arch = SPACE.from_ops(ops)
    same_nb201 = SPACE.canonical(arch, "nb201")
    assert SPACE.function_form(same_nb201) == SPACE.function_form(arch)


@given(op_ids)
def test_function_form_invariances(ops: tuple[int, ...]) -> None:
    a, b, _, c, d, e = ops
    arch = SPACE.from_ops(ops)
    # swapping intermediate nodes 1 and 2 is legal when there is no 2<-1 edge
    swapped = SPACE.from_ops((b, a, 0, c, e, d))
    if ops[2] == 0:
        assert SPACE.canonical(arch) == SPACE.canonical(swapped)
    # with 1<-0 a skip_connect, node 1 is the input: the ops on 3<-0 and 3<-1 commute
    assert SPACE.canonical(SPACE.from_ops((1, b, 0, c, d, e))) == SPACE.canonical(SPACE.from_ops((1, b, 0, d, c, e)))


def test_function_form_examples() -> None:
    assert SPACE.function_form(SPACE.from_ops(["none"] * 6)) == "0"
    # a skip_connect 1<-0 makes node 1 the input: 3<-0 and 3<-1 skips give two copies of x
    assert SPACE.function_form(SPACE.from_ops((1, 0, 0, 1, 1, 0))) == "x+x"
    # skip_connect is the identity: conv on 3<-0 equals skip 1<-0 then the same conv on 3<-1
    assert SPACE.canonical(SPACE.from_ops((0, 0, 0, 3, 0, 0))) == SPACE.canonical(SPACE.from_ops((1, 0, 0, 0, 3, 0)))
    assert SPACE.function_form(BEST) == (
        "nor_conv_1x1(nor_conv_3x3(nor_conv_3x3(x))+nor_conv_3x3(x))+nor_conv_3x3(nor_conv_3x3(x))+x"
    )
    assert SPACE.unique_str(BEST) == (
        "(((0)@nor_conv_3x3)@nor_conv_3x3+(0)@nor_conv_3x3)@nor_conv_1x1+((0)@nor_conv_3x3)@nor_conv_3x3+0"
    )
    # NB201's string keeps zero terms, so these two node-swapped cells differ there but not here
    x = SPACE.from_ops(["nor_conv_3x3", "avg_pool_3x3", "none", "none", "skip_connect", "skip_connect"])
    y = SPACE.from_ops(["avg_pool_3x3", "nor_conv_3x3", "none", "none", "skip_connect", "skip_connect"])
    assert SPACE.unique_str(x) != SPACE.unique_str(y)
    assert SPACE.function_form(x) == SPACE.function_form(y)


def test_unknown_canonical_method() -> None:
    with pytest.raises(UnknownNameError, match="nb201"):
        SPACE.canonical_index("nb2O1")  # type: ignore[arg-type]


# ---- shared data -------------------------------------------------------------------------------


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"global {module}.{name} not allowed")


@pytest.mark.shared_data
def test_index_order_matches_official_meta_file(shared_data_dir: Path) -> None:
    path = shared_data_dir / "nb201" / "official_nats_tss_samples" / "meta.pickle.pbz2"
    with bz2.open(path, "rb") as fh:
        meta = _NoGlobals(io.BytesIO(fh.read())).load()
    assert [a.key for a in SPACE.enumerate()] == meta["meta_archs"]


@pytest.fixture(scope="module")
def nb201_table(shared_data_dir: Path) -> Any:
    pd = pytest.importorskip("pandas")
    cols = ["index", "arch_str", "naslib_tuple", *[f"op_{t}_{s}" for t, s in EDGES]]
    return pd.read_parquet(shared_data_dir / "nb201" / "nb201_tss_accuracy.parquet", columns=cols)


@pytest.mark.shared_data
def test_index_order_matches_shared_table(nb201_table: Any) -> None:
    table = nb201_table.sort_values("index")
    np.testing.assert_array_equal(table["index"].to_numpy(), np.arange(NUM_CELLS))
    assert table["arch_str"].tolist() == [a.key for a in SPACE.enumerate()]
    np.testing.assert_array_equal(SPACE.index_of(nb201_table["arch_str"].tolist()), nb201_table["index"])
    ops = SPACE.ops_array(table["arch_str"].tolist())
    for e, (t, s) in enumerate(EDGES):
        assert [OPS[i] for i in ops[:, e]] == table[f"op_{t}_{s}"].astype(str).tolist()


@pytest.mark.shared_data
def test_naslib_tuples_match_shared_table(nb201_table: Any) -> None:
    keys = nb201_table["arch_str"].tolist()
    mine = [str(tuple(row)) for row in SPACE.naslib_array(keys).tolist()]
    assert mine == nb201_table["naslib_tuple"].tolist()
    back = SPACE.from_naslib_array(
        np.array([[int(v) for v in s.strip("()").split(",")] for s in nb201_table["naslib_tuple"]])
    )
    assert [a.key for a in back] == keys


def test_prune_dead_many_matches_prune_dead() -> None:
    space = NB201Space()
    archs = space.sample(np.random.default_rng(7), 300)
    assert [a.key for a in space.prune_dead_many(archs)] == [space.prune_dead(a).key for a in archs]
