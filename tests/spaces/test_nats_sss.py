"""NATS-Bench size space: official index order, SearchSpace protocol, errors and encodings."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictbench.encodings import encode, feature_names, graphs
from predictbench.spaces import SPACES, SearchSpace, get_space
from predictbench.spaces.nats_sss import CHANNELS, GRAPH_OP_NAMES, N_ARCHS, NATSSizeSpace
from predictbench.types import Arch, OutOfSpaceError, UnknownNameError

SPACE = NATSSizeSpace()
indices = st.integers(0, N_ARCHS - 1)
seeds = st.integers(0, 2**32 - 1)


def stage_changes(a: Arch, b: Arch) -> int:
    return int((SPACE.channels(a) != SPACE.channels(b)).sum())


def test_size_registry_and_protocol() -> None:
    assert len(SPACE) == N_ARCHS == 32_768
    assert SPACE.name == "nats-sss"
    assert "nats-sss" in SPACES
    assert isinstance(SPACE, SearchSpace)
    assert get_space("nats-sss") == SPACE
    assert hash(get_space("nats-sss")) == hash(NATSSizeSpace())


def test_enumerate_is_the_product_order() -> None:
    archs = SPACE.enumerate()
    expected = [":".join(map(str, p)) for p in itertools.product(CHANNELS, repeat=5)]
    assert [a.key for a in archs] == expected
    assert len(set(archs)) == N_ARCHS
    np.testing.assert_array_equal(SPACE.index_of(archs), np.arange(N_ARCHS))
    assert SPACE.from_index(11)[0] == Arch("nats-sss", "8:8:8:16:32")
    assert SPACE.from_index([0, N_ARCHS - 1]) == [Arch("nats-sss", "8:8:8:8:8"), Arch("nats-sss", "64:64:64:64:64")]


@pytest.mark.shared_data
def test_index_order_matches_official_table_and_meta_file(shared_data_dir: Path) -> None:
    table = pd.read_parquet(shared_data_dir / "nats_sss" / "nats_sss_archs.parquet")
    np.testing.assert_array_equal(SPACE.index_of(list(table["arch_str"])), table["index"].to_numpy())
    np.testing.assert_array_equal(SPACE.channels(list(table["arch_str"])), table[["c0", "c1", "c2", "c3", "c4"]])
    from predictbench.benchmarks.convert.nats import load_pbz2

    meta = load_pbz2(shared_data_dir / "nats_sss" / "official_nats_sss_samples" / "meta.pickle.pbz2")
    assert meta["meta_archs"] == [a.key for a in SPACE.enumerate()]


@given(indices)
def test_index_round_trip(index: int) -> None:
    arch = SPACE.from_index([index])[0]
    assert SPACE.is_valid(arch)
    assert int(SPACE.index_of(arch)[0]) == index
    assert SPACE.validate(arch.key) == arch
    assert SPACE.canonical(arch) == arch
    assert SPACE.from_channels(SPACE.channels(arch)) == [arch]


@settings(max_examples=50)
@given(indices, seeds)
def test_mutate_changes_exactly_one_stage_and_is_a_neighbor(index: int, seed: int) -> None:
    arch = SPACE.from_index([index])[0]
    neighbors = SPACE.neighbors(arch)
    assert len(neighbors) == 35 == len(set(neighbors))
    assert all(stage_changes(arch, n) == 1 for n in neighbors)
    child = SPACE.mutate(arch, np.random.default_rng(seed))
    assert SPACE.is_valid(child) and stage_changes(arch, child) == 1
    assert child in neighbors


def test_mutate_reaches_every_neighbor() -> None:
    arch = SPACE.validate("8:64:32:16:40")
    rng = np.random.default_rng(0)
    seen = {SPACE.mutate(arch, rng) for _ in range(2000)}
    assert seen == set(SPACE.neighbors(arch))


def test_sample_is_reproducible_and_valid() -> None:
    a = SPACE.sample(np.random.default_rng(7), 50)
    b = SPACE.sample(np.random.default_rng(7), 50)
    assert a == b and len(a) == 50 and all(SPACE.is_valid(x) for x in a)
    assert SPACE.sample(np.random.default_rng(0), 0) == []
    with pytest.raises(ValueError, match="non-negative"):
        SPACE.sample(np.random.default_rng(0), -1)
    with pytest.raises(TypeError, match="Generator"):
        SPACE.sample(0, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("8:8:8:8", "expected 5 channel counts"),
        ("8:8:8:8:8:8", "expected 5 channel counts"),
        ("8:8:8:8:12", "stage 4 has 12 channels"),
        ("8:8:x:8:8", "stage 2: 'x' is not a channel count"),
        ("08:8:8:8:8", "official form '8:8:8:8:8'"),
        ("", "expected 5 channel counts"),
        (Arch("nb201", "8:8:8:8:8"), "belongs to space 'nb201'"),
        (42, "expected an Arch or a key string"),
    ],
)
def test_invalid_architectures_raise_with_reason(bad: object, reason: str) -> None:
    with pytest.raises(OutOfSpaceError, match=reason):
        SPACE.validate(bad)  # type: ignore[arg-type]
    assert not SPACE.is_valid(bad)


def test_index_and_channel_errors() -> None:
    with pytest.raises(OutOfSpaceError, match="index 32768 is out of range"):
        SPACE.from_index([32768])
    with pytest.raises(OutOfSpaceError, match="index -1"):
        SPACE.from_index(-1)
    with pytest.raises(OutOfSpaceError, match="integers"):
        SPACE.from_index(np.array([1.5]))
    with pytest.raises(OutOfSpaceError, match="shape"):
        SPACE.from_channels([8, 8, 8, 8, 8])
    with pytest.raises(OutOfSpaceError, match=r"\[8, 8, 8, 8, 9\]"):
        SPACE.from_channels([[8, 8, 8, 8, 9]])
    with pytest.raises(OutOfSpaceError, match="'8:8:8:8:7'"):
        SPACE.index_of(["8:8:8:8:8", "8:8:8:8:7"])


def test_to_graph_is_a_chain_labelled_by_channels() -> None:
    graph = SPACE.to_graph(SPACE.validate("8:16:64:24:8"))
    assert graph.op_names == GRAPH_OP_NAMES == ("c8", "c16", "c24", "c32", "c40", "c48", "c56", "c64")
    assert [graph.op_names[i] for i in graph.ops] == ["c8", "c16", "c64", "c24", "c8"]
    np.testing.assert_array_equal(graph.adjacency, np.eye(5, k=1))
    ops, adjacency = graphs("nats-sss", ["8:8:8:8:8", "64:64:64:64:64"])
    assert ops.shape == (2, 5) and adjacency.shape == (2, 5, 5)
    np.testing.assert_array_equal(ops[1], 7)


def test_encodings() -> None:
    keys = ["8:8:8:16:32", "64:56:48:40:32"]
    onehot = encode("nats-sss", keys, "onehot")
    assert onehot.shape == (2, 40) and onehot.dtype == np.float32
    np.testing.assert_array_equal(onehot.sum(axis=1), 5)
    np.testing.assert_array_equal(encode("nats-sss", keys, "channels"), [[8, 8, 8, 16, 32], [64, 56, 48, 40, 32]])
    adjops = encode("nats-sss", keys, "adjops")
    assert adjops.shape == (2, 50)
    for name in SPACE.encoding_names():
        assert len(feature_names("nats-sss", name)) == encode("nats-sss", keys, name).shape[1]
    with pytest.raises(UnknownNameError):
        encode("nats-sss", keys, "path")
