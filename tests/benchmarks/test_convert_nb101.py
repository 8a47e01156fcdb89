"""Official NB101 TFRecord files without TensorFlow: framing, checksums, protobuf, store; NB101 tables by hash."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import predictbench as pb
from predictbench.benchmarks.convert import CONVERTERS
from predictbench.benchmarks.convert import nb101_tfrecord as tf
from predictbench.benchmarks.convert.nb101_tfrecord import (
    Evaluation,
    Record,
    convert,
    crc32c_batch,
    iter_tfrecord,
    masked_crc32c,
    read_records,
    write_tfrecord,
)
from predictbench.benchmarks.convert.table import InvalidKeyError
from predictbench.benchmarks.convert.table import convert as convert_table
from predictbench.benchmarks.store import SEED_MEAN, read_store
from predictbench.spaces.nb101 import NB101Space
from predictbench.types import DataFormatError

SPACE = NB101Space()
FIDELITIES = (4, 12, 36, 108)


def crc32c_bitwise(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def make_records(n_cells: int, fidelities: tuple[int, ...] = FIDELITIES, seed: int = 0) -> list[Record]:
    """3 runs per cell and budget with random values, in shuffled file order."""
    rng = np.random.default_rng(seed)
    records = []
    cells = list(dict.fromkeys(SPACE.sample(rng, 20 * n_cells)))[:n_cells]  # distinct cells
    assert len(cells) == n_cells
    for arch in cells:
        matrix, ops = SPACE.spec_of(arch)
        adjacency = "".join(str(x) for x in matrix.reshape(-1).tolist())
        params = int(rng.integers(100_000, 10_000_000))
        for epochs in fidelities:
            for _ in range(3):
                end = float(rng.uniform(100, 5000))
                evaluations = [
                    Evaluation(0.0, 0.0, *rng.uniform(0.05, 0.15, 3)),
                    Evaluation(epochs / 2, end / 2, *rng.uniform(0.3, 0.9, 3)),
                    Evaluation(float(epochs), end, *rng.uniform(0.5, 1.0, 3), checkpoint_path="/m/model.ckpt-1"),
                ]
                records.append(Record(arch.key, epochs, adjacency, ",".join(ops), evaluations, params, end * 1.1))
    order = rng.permutation(len(records))
    # keep the cells distinct but shuffle which run comes first
    return [records[i] for i in order]


def record_offsets(records: list[Record]) -> list[int]:
    sizes = [12 + len(r.to_bytes()) + 4 for r in records]
    return np.concatenate([[0], np.cumsum(sizes)]).tolist()


def expected_results(records: list[Record]) -> pd.DataFrame:
    rows = []
    for r in records:
        halfway, final = r.evaluations[1], r.evaluations[-1]
        rows.append(
            {
                "key": r.hash,
                "fidelity": r.epochs,
                "train_acc": final.train_accuracy * 100,
                "valid_acc": final.validation_accuracy * 100,
                "test_acc": final.test_accuracy * 100,
                "train_time": final.training_time,
                "halfway_train_acc": halfway.train_accuracy * 100,
                "halfway_valid_acc": halfway.validation_accuracy * 100,
                "halfway_test_acc": halfway.test_accuracy * 100,
                "halfway_train_time": halfway.training_time,
                "params": float(r.trainable_parameters),
                "total_time": r.total_time,
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(1, "seed", frame.groupby(["key", "fidelity"]).cumcount())
    return frame


# ---- CRC-32C -------------------------------------------------------------------------------------------


def test_crc32c_known_values() -> None:
    def crc(data: bytes) -> int:
        return int(crc32c_batch(np.frombuffer(data, np.uint8), np.array([0]), np.array([len(data)]))[0])

    assert crc(b"123456789") == 0xE3069283
    assert crc(b"") == 0
    assert crc(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4 test vectors
    assert crc(b"\xff" * 32) == 0x62A8AB43
    assert crc(bytes(range(32))) == 0x46DD794E
    assert masked_crc32c(b"") == 0xA282EAD8


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=12))
def test_crc32c_batch_equals_bitwise_reference(chunks: list[bytes]) -> None:
    buffer = np.frombuffer(b"".join(chunks) or b"\x00", np.uint8)
    lengths = np.array([len(c) for c in chunks])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    got = crc32c_batch(buffer, starts, lengths)
    assert got.tolist() == [crc32c_bitwise(c) for c in chunks]


# ---- records, framing and round trips ------------------------------------------------------------------


def test_record_protobuf_round_trip_and_vectorised_decoder() -> None:
    records = make_records(3, fidelities=(12,))
    for r in records:
        assert Record.from_bytes(r.to_bytes()) == r
        # other JSON spellings (compact separators, escaped slashes) go through the json module
        metrics = base64.b64encode(r.metrics_bytes()).decode()
        compact = json.dumps([r.hash, r.epochs, r.adjacency, r.ops, metrics], separators=(",", ":")).encode()
        assert Record.from_bytes(compact) == r
        assert Record.from_bytes(r.to_bytes().replace(b"/", b"\\/")) == r
    blobs = [r.metrics_bytes() for r in records]
    lengths = np.array([len(b) for b in blobs])
    ends = np.cumsum(lengths)
    decoded = tf.decode_model_metrics(
        np.frombuffer(b"".join(blobs), np.uint8), ends - lengths, ends, [str(i) for i in range(len(blobs))]
    )
    assert decoded["n_evaluations"].tolist() == [3] * len(records)
    assert decoded["params"].tolist() == [r.trainable_parameters for r in records]
    assert decoded["final_test_accuracy"].tolist() == [r.evaluations[-1].test_accuracy for r in records]
    assert decoded["halfway_current_epoch"].tolist() == [6.0] * len(records)
    # unknown fields are skipped; a big varint and a 32-bit field decode
    extra = Record("a" * 32, 4, "0100", "input,output", records[0].evaluations, 2**40, 1.5).metrics_bytes()
    extra += bytes([7 << 3 | 5]) + b"\x00\x00\x80\x3f" + bytes([8 << 3 | 0]) + b"\x96\x01"
    decoded = tf.decode_model_metrics(np.frombuffer(extra, np.uint8), np.array([0]), np.array([len(extra)]), ["x"])
    assert decoded["params"].tolist() == [2.0**40]
    assert decoded["total_time"].tolist() == [1.5]


def test_tfrecord_round_trip_every_run_and_fidelity(tmp_path: Path) -> None:
    records = make_records(6)
    path = write_tfrecord(tmp_path / "nasbench_full.tfrecord", records)
    assert list(read_records(path)) == records
    assert [Record.from_bytes(d) for d in iter_tfrecord(path)] == records

    [store_path] = convert(path, root=tmp_path / "data", verify="spec")
    assert store_path == tmp_path / "data" / "nb101" / "cifar10"
    store = read_store(store_path)
    assert store.meta.space == "nb101" and store.meta.fidelities == FIDELITIES
    assert store.meta.seeds == (0, 1, 2) and store.meta.default_fidelity == 108
    assert store.meta.provenance["converter"] == "nb101-tfrecord"
    assert store.meta.provenance["inputs"][0]["name"] == "nasbench_full.tfrecord"

    expected = expected_results(records)
    got = store.results[store.results["seed"] != SEED_MEAN]
    merged = expected.merge(got, on=["key", "seed", "fidelity"], suffixes=("", "_got"), validate="1:1")
    assert len(merged) == len(records) == 6 * 4 * 3
    for column in expected.columns[3:]:
        np.testing.assert_array_equal(merged[column].to_numpy(), merged[f"{column}_got"].to_numpy(), err_msg=column)

    means = expected.groupby(["key", "fidelity"]).mean().drop(columns="seed")
    got_means = store.results[store.results["seed"] == SEED_MEAN].set_index(["key", "fidelity"]).drop(columns="seed")
    got_means = got_means.loc[list(means.index), list(means.columns)]
    np.testing.assert_allclose(got_means.to_numpy(), means.to_numpy(), rtol=1e-12)

    bench = pb.load("nb101/cifar10", root=tmp_path / "data")
    key = records[0].hash
    runs = expected[(expected["key"] == key) & (expected["fidelity"] == 108)].sort_values("seed")
    assert bench.lookup([key], "valid_acc")[0] == pytest.approx(runs["valid_acc"].mean(), rel=1e-12)
    assert bench.lookup([key], "test_acc", fidelity=108, seed=2)[0] == runs["test_acc"].iloc[2]
    assert bench.search_metric.metric == "valid_acc" and bench.report_metric.metric == "test_acc"
    assert bench.batch(bench.keys()).features("gbdt").shape == (6, 45)
    archs = store.archs.set_index("key")
    matrix, ops = SPACE.spec_of(key)
    assert archs.loc[key, "num_vertices"] == len(ops) and archs.loc[key, "num_edges"] == matrix.sum()


def test_only108_file_and_idempotence(tmp_path: Path) -> None:
    records = make_records(4, fidelities=(108,), seed=1)
    folder = tmp_path / "raw"
    write_tfrecord(folder / "nasbench_only108.tfrecord", records)
    root = tmp_path / "data"
    [path] = CONVERTERS.get("nb101-tfrecord")(folder, root=root)
    store = read_store(path)
    assert store.meta.fidelities == (108,)
    assert set(store.results["fidelity"]) == {108}
    stamp = (path / "meta.json").stat().st_mtime_ns
    assert convert(folder, root=root) == [path]
    assert (path / "meta.json").stat().st_mtime_ns == stamp  # current: not rewritten
    os.utime(path / "meta.json", ns=(0, 0))
    convert(folder, root=root, force=True)
    assert (path / "meta.json").stat().st_mtime_ns != 0
    write_tfrecord(folder / "nasbench_full.tfrecord", records)
    assert tf.resolve_source(folder).name == "nasbench_full.tfrecord"  # preferred when both are present
    with pytest.raises(FileNotFoundError, match="no NB101 file"):
        convert(tmp_path, root=root)
    with pytest.raises(FileNotFoundError, match="give the NB101 file"):
        convert(None, root=root)


# ---- damaged files ---------------------------------------------------------------------------------------


def corrupt(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.fixture
def five_records(tmp_path: Path) -> tuple[Path, list[int]]:
    records = make_records(5, fidelities=(4,), seed=2)[:5]
    path = write_tfrecord(tmp_path / "nasbench_only108.tfrecord", records)
    return path, record_offsets(records)


def one_line_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataFormatError) as info:
        convert(path, root=path.parent / "data", **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert not (path.parent / "data" / "nb101").exists()  # nothing half-written
    return message


def test_data_checksum_mismatch(five_records: tuple[Path, list[int]]) -> None:
    path, offsets = five_records
    corrupt(path, offsets[2] + 12 + 7)
    assert "record 2: data checksum mismatch" in one_line_error(path)
    with pytest.raises(DataFormatError, match="record 2: data checksum mismatch"):
        list(iter_tfrecord(path))
    assert len(list(iter_tfrecord(path, check_crc=False))) == 5  # data checksums can be skipped


def test_length_checksum_mismatch(five_records: tuple[Path, list[int]]) -> None:
    path, offsets = five_records
    corrupt(path, offsets[3] + 9)
    assert "record 3: length checksum mismatch" in one_line_error(path, check_crc=False)


def test_truncated_files(five_records: tuple[Path, list[int]]) -> None:
    path, offsets = five_records
    data = path.read_bytes()
    path.write_bytes(data[: offsets[4] + 40])
    message = one_line_error(path)
    assert "record 4 is truncated" in message and "declares" in message
    path.write_bytes(data[: offsets[1] + 5])
    assert "record 1 is truncated: 5 bytes left of its 12-byte header" in one_line_error(path)
    path.write_bytes(b"")
    assert "no records" in one_line_error(path)


def test_malformed_records(tmp_path: Path) -> None:
    arch = SPACE.from_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    template = make_records(1, fidelities=(4,), seed=3)[0]
    good = Record(arch.key, 4, "011001000", "input,conv3x3-bn-relu,output", template.evaluations, 10, 1.0)
    path = tmp_path / "bad.tfrecord"
    write_tfrecord(path, [good.to_bytes(), b"not json at all"])
    assert "record 1: not an NB101 record" in one_line_error(path)
    truncated = base64.b64encode(good.metrics_bytes()[:-3]).decode()
    write_tfrecord(path, [json.dumps([good.hash, 4, good.adjacency, good.ops, truncated]).encode()])
    assert "record 0: truncated" in one_line_error(path)
    single = Record(good.hash, 4, good.adjacency, good.ops, good.evaluations[:1], 10, 1.0)
    write_tfrecord(path, [single])
    assert "record 0: ModelMetrics has 1 evaluation(s)" in one_line_error(path)
    wrong = Record(good.hash, 4, "0100", "input,output", good.evaluations, 10, 1.0)
    write_tfrecord(path, [good, wrong])
    assert f"record 1: cell {good.hash} has spec" in one_line_error(path)
    other = SPACE.from_spec([[0, 1], [0, 0]], ["input", "output"])
    write_tfrecord(path, [Record(other.key, 4, good.adjacency, good.ops, good.evaluations, 10, 1.0)])
    assert f"the spec of cell {other.key} hashes to {good.hash}" in one_line_error(path, verify="spec")
    write_tfrecord(path, [Record("zz", 4, good.adjacency, good.ops, good.evaluations, 10, 1.0)])
    assert "'zz' is not the hash of an nb101 cell" in one_line_error(path)


# ---- NB101 tables keyed by hash through the generic importer ----------------------------------------------


def test_generic_importer_with_hash_keys(tmp_path: Path) -> None:
    archs = SPACE.sample(np.random.default_rng(5), 40)
    keys = list(dict.fromkeys(a.key for a in archs))
    table = pd.DataFrame({"cell": [k.upper() for k in keys], "acc": np.linspace(80, 95, len(keys))})
    table.to_csv(tmp_path / "runs.csv", index=False)
    convert_table(
        tmp_path / "runs.csv",
        root=tmp_path / "data",
        name="nb101/mine",
        space="nb101",
        key_column="cell",
        key_kind="hash",
        fidelity=108,
        metrics={"acc": {"higher_is_better": True, "unit": "%"}},
    )
    bench = pb.load("nb101/mine", root=tmp_path / "data")
    np.testing.assert_allclose(bench.lookup(keys, "acc"), table["acc"].to_numpy())
    table.loc[3, "cell"] = "not-a-hash"
    table.to_csv(tmp_path / "runs.csv", index=False)
    with pytest.raises(InvalidKeyError, match=r"row 3, column 'cell' \(hash\).*32-character lowercase hex"):
        convert_table(
            tmp_path / "runs.csv",
            root=tmp_path / "data",
            name="nb101/mine",
            space="nb101",
            key_column="cell",
            key_kind="hash",
            fidelity=108,
            metrics={"acc": {"higher_is_better": True}},
        )


@pytest.mark.shared_data
def test_shared_sample300_imports_by_hash(shared_data_dir: Path, tmp_path: Path) -> None:
    source = shared_data_dir / "nb101" / "nb101_sample300.parquet"
    table = pd.read_parquet(source)
    SPACE.from_specs(table["matrix"], table["ops"])  # the cells are then known without the cell table
    [path] = convert_table(
        source,
        root=tmp_path,
        name="nb101/sample300",
        space="nb101",
        key_column="hash",
        key_kind="hash",
        metrics={
            "valid_acc": {
                "higher_is_better": True,
                "unit": "%",
                "lower": 0,
                "upper": 100,
                "columns": {"val_acc_4": 4, "val_acc_12": 12, "val_acc_36": 36, "val_acc_108": 108},
            },
            "train_time": {
                "higher_is_better": False,
                "unit": "s",
                "kind": "cost",
                "column": "train_time_108_s",
                "fidelity": 108,
            },
            "params": {"higher_is_better": False, "kind": "cost", "column": "params", "fidelity": 108},
        },
        search=("valid_acc", 12),
        report=("valid_acc", 108),
    )
    bench = pb.load("nb101/sample300", root=tmp_path)
    assert len(bench) == 300 and bench.fidelities == FIDELITIES
    np.testing.assert_array_equal(bench.lookup(table["hash"], "valid_acc", fidelity=36), table["val_acc_36"])
    np.testing.assert_array_equal(bench.lookup(table["hash"], "params"), table["params"].astype(float))
    assert bench.batch(table["hash"].to_numpy(dtype=object)).features("path").shape == (300, 364)
    assert path.name == "sample300"


@pytest.mark.shared_data
def test_naslib_subset500_imports_by_official_hash(shared_data_dir: Path, tmp_path: Path) -> None:
    """Its ``hash`` column hashes the unpruned specs; re-keyed by the official hash it holds 292 cells."""
    table = pd.read_parquet(shared_data_dir / "zc" / "nb101_zc_naslib_subset500.parquet")
    table["official"] = [a.key for a in SPACE.from_specs(table["matrix"], table["ops"])]
    proxies = [
        "flops",
        "params",
        "snip",
        "jacov",
        "grad_norm",
        "plain",
        "epe_nas",
        "fisher",
        "grasp",
        "l2_norm",
        "synflow",
    ]
    per_cell = table.groupby("official", sort=False)[[*proxies, "naslib_val_acc_108"]].mean().reset_index()
    per_cell.to_parquet(tmp_path / "subset.parquet")
    convert_table(
        tmp_path / "subset.parquet",
        root=tmp_path / "data",
        name="nb101/naslib-zc",
        space="nb101",
        key_column="official",
        key_kind="hash",
        fidelity=108,
        metrics={"val_acc": {"higher_is_better": True, "unit": "%", "column": "naslib_val_acc_108"}},
        proxies=proxies,
    )
    bench = pb.load("nb101/naslib-zc", root=tmp_path / "data")
    assert len(bench) == 292
    assert set(bench.proxy_names) == set(proxies)
    np.testing.assert_allclose(bench.lookup(per_cell["official"], "val_acc"), per_cell["naslib_val_acc_108"])


@pytest.mark.slow
@pytest.mark.shared_data
def test_naslib_subset500_raw_hash_column_is_rejected(
    shared_data_dir: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from predictbench.spaces import nb101 as nb

    root = tmp_path_factory.getbasetemp() / "nb101-data-root"  # shared with the slow space test
    root.mkdir(exist_ok=True)
    monkeypatch.setenv("PREDICTBENCH_DATA", str(root))
    saved = dict(nb._TABLE)
    nb._TABLE.clear()
    try:
        table = pd.read_parquet(shared_data_dir / "zc" / "nb101_zc_naslib_subset500.parquet")
        assert int(SPACE.keys_valid(table["hash"]).sum()) == 1
        with pytest.raises(InvalidKeyError, match=r"row 0, .*499 invalid row\(s\).*not the module hash"):
            convert_table(
                shared_data_dir / "zc" / "nb101_zc_naslib_subset500.parquet",
                root=tmp_path,
                name="nb101/raw",
                space="nb101",
                key_column="hash",
                key_kind="hash",
                fidelity=108,
                metrics={"acc": {"higher_is_better": True, "column": "naslib_val_acc_108"}},
            )
    finally:
        nb._TABLE.clear()
        nb._TABLE.update(saved)
