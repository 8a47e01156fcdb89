"""Feature encodings and graph batches (NB201)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictbench import encodings as enc
from predictbench.spaces.nb201 import GRAPH_OP_NAMES, NUM_CELLS, OPS, NB201Space
from predictbench.types import Arch, OutOfSpaceError, UnknownNameError

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
SPACE = NB201Space()
DIMS = {"onehot": 30, "adjops": 28 + 8 * 7, "path": 5 + 25 + 125, "opcount": 5}
idx_lists = st.lists(st.integers(0, NUM_CELLS - 1), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def all_archs() -> list[Arch]:
    return SPACE.enumerate()


def test_encoding_names() -> None:
    assert enc.encoding_names("nb201") == ("onehot", "adjops", "path", "opcount", "graf")  # graf: a graph encoding
    assert enc.encoding_names(SPACE) == enc.encoding_names("nb201")
    assert isinstance(SPACE, enc.EncodableSpace)


@pytest.mark.parametrize("name", list(DIMS))
def test_shapes_dtypes_and_feature_names(name: str, all_archs: list[Arch]) -> None:
    x = enc.encode("nb201", all_archs, name)
    assert x.shape == (NUM_CELLS, DIMS[name])
    assert x.dtype == np.float32
    assert set(np.unique(x)) <= set(range(7))
    names = enc.feature_names(SPACE, name)
    assert len(names) == DIMS[name]
    assert len(set(names)) == len(names)
    # string keys, Arch values and the space instance give the same features
    np.testing.assert_array_equal(enc.encode(SPACE, [a.key for a in all_archs[:50]], name), x[:50])


def test_default_is_onehot_and_single_item() -> None:
    one = enc.encode("nb201", BEST)
    assert one.shape == (1, 30)
    np.testing.assert_array_equal(one, enc.encode("nb201", [Arch("nb201", BEST)], "onehot"))


def test_onehot_decodes_to_ops(all_archs: list[Arch]) -> None:
    x = enc.encode(SPACE, all_archs, "onehot").reshape(NUM_CELLS, 6, 5)
    np.testing.assert_array_equal(x.sum(axis=2), 1)
    np.testing.assert_array_equal(x.argmax(axis=2), SPACE.ops_array(all_archs))
    assert len(np.unique(x.reshape(NUM_CELLS, -1), axis=0)) == NUM_CELLS
    assert enc.feature_names(SPACE, "onehot")[:2] == ["op_1_0=none", "op_1_0=skip_connect"]


def test_opcount(all_archs: list[Arch]) -> None:
    x = enc.encode(SPACE, all_archs, "opcount")
    np.testing.assert_array_equal(x.sum(axis=1), 6)
    ops = SPACE.ops_array(all_archs)
    np.testing.assert_array_equal(x, np.stack([(ops == k).sum(axis=1) for k in range(5)], axis=1))


def test_path_encoding_of_best_cell() -> None:
    x = enc.encode(SPACE, [BEST], "path")[0]
    names = enc.feature_names(SPACE, "path")
    on = {names[i] for i in np.flatnonzero(x)}
    assert on == {
        "path=skip_connect",  # 0->3
        "path=nor_conv_3x3>nor_conv_3x3",  # 0->1->3
        "path=nor_conv_3x3>nor_conv_1x1",  # 0->2->3
        "path=nor_conv_3x3>nor_conv_3x3>nor_conv_1x1",  # 0->1->2->3
    }
    assert names[:5] == [f"path={op}" for op in OPS]
    assert names[5] == "path=none>none"
    assert names[-1] == "path=avg_pool_3x3>avg_pool_3x3>avg_pool_3x3"


def test_path_encoding_counts(all_archs: list[Arch]) -> None:
    x = enc.encode(SPACE, all_archs, "path")
    ops = SPACE.ops_array(all_archs)
    same_len2 = (ops[:, 0] == ops[:, 1]) & (ops[:, 4] == ops[:, 5])
    np.testing.assert_array_equal(x.sum(axis=1), np.where(same_len2, 3, 4))
    np.testing.assert_array_equal(x[:, :5].sum(axis=1), 1)
    np.testing.assert_array_equal(x[:, 30:].sum(axis=1), 1)


def test_adjops_agrees_with_graphs(all_archs: list[Arch]) -> None:
    x = enc.encode(SPACE, all_archs, "adjops")
    labels, adjacency = enc.graphs(SPACE, all_archs)
    rows, cols = np.triu_indices(8, k=1)
    np.testing.assert_array_equal(x[:, :28], adjacency[:, rows, cols])
    nodes = x[:, 28:].reshape(NUM_CELLS, 8, len(GRAPH_OP_NAMES))
    np.testing.assert_array_equal(nodes.argmax(axis=2), labels)
    np.testing.assert_array_equal(nodes.sum(axis=2), 1)


@given(idx_lists)
def test_graphs_match_to_graph(idx: list[int]) -> None:
    archs = SPACE.from_index(idx)
    labels, adjacency = enc.graphs("nb201", archs)
    assert labels.dtype == np.int64
    assert adjacency.dtype == np.uint8
    assert labels.shape == (len(idx), 8)
    assert adjacency.shape == (len(idx), 8, 8)
    for k, arch in enumerate(archs):
        g = SPACE.to_graph(arch)
        np.testing.assert_array_equal(labels[k], g.ops)
        np.testing.assert_array_equal(adjacency[k], g.adjacency)


@given(idx_lists, st.sampled_from(sorted(DIMS)))
def test_encode_is_rowwise(idx: list[int], name: str) -> None:
    archs = SPACE.from_index(idx)
    batch = enc.encode(SPACE, archs, name)
    np.testing.assert_array_equal(batch[-1:], enc.encode(SPACE, archs[-1], name))
    np.testing.assert_array_equal(batch[::-1], enc.encode(SPACE, archs[::-1], name))


def test_unknown_encoding_name() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'onehot'"):
        enc.encode("nb201", [BEST], "one_hot")
    with pytest.raises(UnknownNameError, match="paths"):
        enc.feature_names("nb201", "paths")
    with pytest.raises(UnknownNameError):
        SPACE.encode("bogus", [BEST])


def test_invalid_archs_and_spaces() -> None:
    with pytest.raises(OutOfSpaceError, match="unknown op"):
        enc.encode("nb201", [BEST.replace("skip_connect", "skip")])
    with pytest.raises(UnknownNameError):
        enc.encode("no-such-space", [BEST])
    with pytest.raises(TypeError, match="offers no encodings"):
        enc.encode(object(), [BEST])  # type: ignore[arg-type]


def test_one_hot_helper() -> None:
    np.testing.assert_array_equal(enc.one_hot(np.array([[0, 2]]), 3), [[[1, 0, 0], [0, 0, 1]]])
    with pytest.raises(ValueError, match=r"0\.\.2"):
        enc.one_hot(np.array([3]), 3)


def test_to_pyg_without_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    labels, adjacency = enc.graphs(SPACE, [BEST])
    with pytest.raises(ImportError, match=r"pip install 'predictbench\[gcn\]'"):
        enc.to_pyg(labels, adjacency)


def test_to_pyg_with_torch() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("torch_geometric")
    labels, adjacency = enc.graphs(SPACE, [BEST, BEST])
    data = enc.to_pyg(labels, adjacency, y=np.array([1.0, 2.0]), num_node_types=len(GRAPH_OP_NAMES))
    assert len(data) == 2
    assert tuple(data[0].x.shape) == (8, len(GRAPH_OP_NAMES))
    assert int(data[0].edge_index.shape[1]) == int(adjacency[0].sum())
    assert float(data[1].y[0]) == 2.0
