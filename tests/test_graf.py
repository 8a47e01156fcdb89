"""GRAF neural graph features (predictbench.graf) and their ``"graf"`` encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench import encodings as enc
from predictbench import graf
from predictbench.spaces import get_space
from predictbench.types import Arch, UnknownNameError

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
GROUPS = ("op_count", "min_path_len", "max_op_on_path", "node_degree")
NB101_CHAIN = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
NB101_DOC = (  # the example cell of predictbench.spaces.nb101
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


def _arch(space: str, cell: object) -> Arch:
    if space == "nb101":
        matrix, ops = cell  # type: ignore[misc]
        return get_space("nb101").from_spec(matrix, ops)  # type: ignore[attr-defined]
    if space == "nbgraph":
        links, ops = cell  # type: ignore[misc]
        return get_space("nbgraph").from_spec(links, ops)  # type: ignore[attr-defined]
    return Arch(space, str(cell))


# (space, cell, {feature name without the graf__ prefix: value worked out by hand}); every other op count is 0
HAND_CASES = [
    pytest.param(
        "nb201",
        BEST,
        {
            "op_count_0": 1,  # skip 3<-0
            "op_count_1": 0,
            "op_count_2": 4,  # conv3x3 on 1<-0, 2<-0, 2<-1, 3<-1
            "op_count_3": 1,  # conv1x1 on 3<-2
            "op_count_4": 0,
            "min_path_len_banned_[]": 1,  # 0->3 directly
            "min_path_len_banned_[0]": 2,  # 0->1->3 once skip is banned
            "min_path_len_banned_[0, 2]": 5,  # no path without skip and conv3x3: 3 + 2
            "max_op_on_path_allowed_[2]": 2,  # 0->1->3
            "max_op_on_path_allowed_[2, 3]": 3,  # 0->1->2->3
            "max_op_on_path_allowed_[4]": -1,
            "node_degree_allowed_[2]_in_degree": 2,  # conv3x3 edges leaving the input: 1<-0, 2<-0
            "node_degree_allowed_[2]_out_degree": 1,  # into the output: 3<-1
            "node_degree_allowed_[2]_avg_in": 1.0,  # 4 edges / 4 nodes
            "node_degree_allowed_[2]_avg_out": 1.0,
            "node_degree_allowed_[0, 3]_out_degree": 2,
            "node_degree_allowed_[0, 3]_avg_in": 0.5,
        },
        id="nb201-best",
    ),
    pytest.param(
        "nb201",
        ALL_NONE,
        {
            "op_count_1": 6,
            "min_path_len_banned_[]": 1,  # none edges are edges: GRAF bans them only when asked
            "min_path_len_banned_[1]": 5,
            "max_op_on_path_allowed_[1]": 3,
            "max_op_on_path_allowed_[0]": -1,
            "node_degree_allowed_[1]_in_degree": 3,
            "node_degree_allowed_[1]_out_degree": 3,
            "node_degree_allowed_[1]_avg_in": 1.5,
            "node_degree_allowed_[0, 2]_avg_out": 0.0,
        },
        id="nb201-all-none",
    ),
    pytest.param(
        "nb101",
        NB101_CHAIN,
        {
            "op_count_4": 1,
            "min_path_len_banned_[]": 1,
            "min_path_len_banned_[4]": 7,  # no path: 5 ops at most on an NB101 path, + 2
            "min_path_len_banned_[2, 3]": 1,
            "max_op_on_path_allowed_[4]": 1,
            "max_op_on_path_allowed_[2]": -1,
            "node_degree_allowed_[4]_in_degree": 1,
            "node_degree_allowed_[4]_out_degree": 1,
            "node_degree_allowed_[4]_avg_in": 1 / 3,  # one edge leaves a conv3x3 node, 3 nodes
            "node_degree_allowed_[4]_avg_out": 1 / 3,
        },
        id="nb101-chain",
    ),
    pytest.param(
        "nb101",
        NB101_DOC,
        {
            "op_count_2": 1,
            "op_count_3": 1,
            "op_count_4": 3,
            "min_path_len_banned_[3, 4]": 1,  # input -> maxpool -> output
            "max_op_on_path_allowed_[4]": 2,  # input -> conv3x3 -> conv3x3 -> output
            "max_op_on_path_allowed_[2, 3]": 1,
            "node_degree_allowed_[4]_in_degree": 2,
            "node_degree_allowed_[4]_out_degree": 2,
            "node_degree_allowed_[4]_avg_in": 3 / 7,  # edges from a conv3x3 node
            "node_degree_allowed_[4]_avg_out": 3 / 7,  # edges into a conv3x3 node
            "node_degree_allowed_[2, 3]_avg_in": 2 / 7,
        },
        id="nb101-doc-cell",
    ),
    pytest.param(
        "nbgraph",
        ([0, 1, 1, 2], ["gcn", "gin", "cheb", "fc"]),  # input->gcn->{gin->fc, cheb}; fc, cheb -> output
        {
            "op_count_1": 1,
            "op_count_2": 1,
            "op_count_3": 1,
            "op_count_7": 1,
            "min_path_len_banned_[]": 2,
            "min_path_len_banned_[3]": 3,
            "min_path_len_banned_[1]": 6,  # no path: 4 ops at most, + 2
            "max_op_on_path_allowed_[1, 2, 7]": 3,
            "max_op_on_path_allowed_[1, 3]": 2,
            "max_op_on_path_allowed_[1]": -1,
            "node_degree_allowed_[1]_in_degree": 1,
            "node_degree_allowed_[1]_out_degree": 0,
            "node_degree_allowed_[1]_avg_in": 2 / 6,
            "node_degree_allowed_[1]_avg_out": 1 / 6,
            "node_degree_allowed_[3, 7]_out_degree": 2,
        },
        id="nbgraph-tree",
    ),
]


@pytest.mark.parametrize(("space", "cell", "expected"), HAND_CASES)
def test_hand_computed_features(space: str, cell: object, expected: dict[str, float]) -> None:
    names = enc.feature_names(space, "graf")
    x = enc.encode(space, [_arch(space, cell)], "graf")[0]
    values = dict(zip(names, x.tolist(), strict=True))
    got = {name: values[graf.PREFIX + name] for name in expected}
    assert got == pytest.approx(expected)
    counts = {n: v for n, v in values.items() if "op_count" in n and n[len(graf.PREFIX) :] not in expected}
    assert set(counts.values()) <= {0.0}


@pytest.mark.parametrize(
    ("space", "n_ops", "first_id"),
    [("nb201", 5, 0), ("nb101", 3, 2), ("nbgraph", 9, 0), ("nbgraph-proteins", 5, 0)],
)
def test_names_and_ids(space: str, n_ops: int, first_id: int) -> None:
    names = graf.feature_names(space)
    sets = 2**n_ops - 1
    assert len(names) == len(set(names)) == n_ops + sets + sets + 4 * sets
    assert enc.feature_names(space, "graf") == names
    assert "graf" in enc.encoding_names(space)
    assert sorted(graf.op_ids(space)) == list(range(first_id, first_id + n_ops))
    assert names[0] == f"graf__op_count_{first_id}"


def test_nb201_op_ids_are_naslibs() -> None:
    assert graf.op_ids("nb201") == {
        0: "skip_connect",
        1: "none",
        2: "nor_conv_3x3",
        3: "nor_conv_1x1",
        4: "avg_pool_3x3",
    }


@pytest.mark.parametrize("space", ["nb201", "nb101", "nbgraph"])
def test_cell_by_cell_and_chunking(space: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell's features do not depend on its batch, nor on how the batch is cut into chunks."""
    archs = get_space(space).sample(np.random.default_rng(7), 40)
    whole = graf.graf_features(space, archs)
    monkeypatch.setattr(graf, "_CHUNK_ELEMENTS", 1)  # one cell per chunk
    np.testing.assert_array_equal(graf.graf_features(space, archs), whole)
    np.testing.assert_array_equal(graf.graf_features(space, archs[5:6])[0], whole[5])


def test_batch_features_and_lgbm_on_graf(analog_root: Path) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    keys = bench.keys()[:60]
    batch = bench.batch(keys)
    x = batch.features("graf")
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, graf.graf_features("nb201", keys).astype(np.float32))
    from predictbench.predictors.gbdt import LGBMPredictor

    y = np.asarray(bench.lookup(keys, "baseline_accuracy"), dtype=float)
    model = LGBMPredictor(encoding="graf", n_estimators=20).fit(batch.subset(range(40)), y[:40])
    scores = model.predict(batch.subset(range(40, 60)))
    assert scores.shape == (20,) and np.isfinite(scores).all()


BAD_INPUTS = [
    pytest.param(lambda: enc.encode("nats-sss", ["x"], "graf"), UnknownNameError, "'graf'", id="space-without-cells"),
    pytest.param(lambda: graf.feature_names("nats-sss"), UnknownNameError, "nats-sss", id="names-unknown-space"),
    pytest.param(
        lambda: graf.graf_from_graphs(np.zeros((2, 4)), np.zeros((2, 4, 3)), graf.layout_of("nb201")),
        ValueError,
        "adjacency (n, V, V)",
        id="shapes",
    ),
    pytest.param(
        lambda: graf.graf_from_graphs(np.zeros((1, 3)), np.eye(3, k=-1)[None], graf.layout_of("nb201")),
        ValueError,
        "graph 0 has the edge 1 -> 0",
        id="edge-backwards",
    ),
    pytest.param(
        lambda: graf.graf_from_graphs(np.full((1, 3), -2), np.zeros((1, 3, 3)), graf.layout_of("nb201")),
        ValueError,
        "got -2",
        id="label-below-padding",
    ),
    pytest.param(lambda: graf.GrafLayout((1, 1), ("a", "b")), ValueError, "distinct", id="layout-duplicate-labels"),
]


@pytest.mark.parametrize(("call", "error", "text"), BAD_INPUTS)
def test_bad_inputs(call: object, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as info:
        call()  # type: ignore[operator]
    assert text in str(info.value)


@pytest.mark.shared_data
@pytest.mark.parametrize("group", GROUPS)
def test_reference_values_for_all_nb201_cells(group: str, nb201_tables_root: Path, shared_data_dir: Path) -> None:
    """Every column of the GRAF reference table is reproduced exactly, for all 15,625 cells."""
    reference = pd.read_parquet(shared_data_dir / "zc" / "nb201_graf_features_reference.parquet")
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    x = bench.batch(reference["arch_str"].tolist()).features("graf")
    names = enc.feature_names("nb201", "graf")
    assert names == [c for c in reference.columns if c.startswith(graf.PREFIX)]
    columns = [i for i, name in enumerate(names) if name.startswith(graf.PREFIX + group)]
    assert len(columns) == {"op_count": 5, "min_path_len": 31, "max_op_on_path": 31, "node_degree": 124}[group]
    expected = reference[[names[i] for i in columns]].to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(x[:, columns], expected)
