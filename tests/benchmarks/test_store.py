from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks import BenchmarkNotConverted, TabularBenchmark
from predictbench.benchmarks.store import SEED_MEAN, MetricRef, StoreMeta, read_store, validate_store, write_store
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric, OutOfSpaceError, UnknownNameError


def _meta(name: str = "toy/cifar10") -> StoreMeta:
    return StoreMeta(
        name=name,
        space="nb201",
        task="cifar10",
        metrics={
            "valid_acc": Metric("valid_acc", True, "%", "objective", 0.0, 100.0),
            "latency": Metric("latency", False, "ms", "cost", 0.0),
        },
        fidelities=(12, 200),
        default_fidelity=200,
        seeds=(0, 1),
        search=MetricRef("valid_acc", 12),
        report=MetricRef("valid_acc", 200),
    )


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    keys = [a.key for a in get_space("nb201").from_index([0, 1, 2])]
    archs = pd.DataFrame({"key": keys, "index": [0, 1, 2]})
    rows = []
    for i, key in enumerate(keys):
        for seed in (0, 1):
            rows.append({"key": key, "seed": seed, "fidelity": 12, "valid_acc": 50.0 + i + seed, "latency": np.nan})
            rows.append({"key": key, "seed": seed, "fidelity": 200, "valid_acc": 80.0 + i + 2 * seed})
    rows += [{"key": k, "seed": SEED_MEAN, "fidelity": 200, "latency": 3.0 - i} for i, k in enumerate(keys)]
    results = pd.DataFrame(rows)
    # the 200-epoch mean rows exist for latency only: the writer must not duplicate them
    return archs, results


def test_write_read_and_lookup(tmp_path: Path) -> None:
    archs, results = _tables()
    write_store(tmp_path, _meta(), archs, results)
    bench = pb.load("toy/cifar10", root=tmp_path)
    keys = bench.keys()
    assert bench.lookup(keys, "valid_acc", fidelity=12).tolist() == [50.5, 51.5, 52.5]
    assert bench.lookup(keys, "valid_acc").tolist() == [81.0, 82.0, 83.0]
    assert bench.lookup(keys, "valid_acc", seed=1).tolist() == [82.0, 83.0, 84.0]
    assert bench.lookup(keys[::-1], "latency").tolist() == [1.0, 2.0, 3.0]
    assert bench.scores(keys, "latency").tolist() == [-3.0, -2.0, -1.0]
    assert bench.best("latency") == (keys[2], 1.0)
    assert bench.fidelities_of("valid_acc") == (12, 200)


def test_lookup_errors_are_clear(tmp_path: Path) -> None:
    archs, results = _tables()
    write_store(tmp_path, _meta(), archs, results)
    bench = TabularBenchmark.from_path(tmp_path / "toy/cifar10")
    other = get_space("nb201").from_index([5])[0]
    with pytest.raises(OutOfSpaceError, match="not in benchmark 'toy/cifar10'"):
        bench.lookup([other], "valid_acc")
    with pytest.raises(UnknownNameError, match="Did you mean 'valid_acc'"):
        bench.lookup(bench.keys(), "valid_ac")
    with pytest.raises(ValueError, match="no values at fidelity 12"):
        bench.lookup(bench.keys(), "latency", fidelity=12)


def test_writer_validates_declarations(tmp_path: Path) -> None:
    archs, results = _tables()
    with pytest.raises(DataFormatError, match="'energy' is not a declared metric"):
        write_store(tmp_path, _meta(), archs, results.assign(energy=1.0))
    with pytest.raises(DataFormatError, match="undeclared fidelities"):
        write_store(tmp_path, _meta(), archs, results.assign(fidelity=36))
    with pytest.raises(DataFormatError, match="duplicate architecture key"):
        write_store(tmp_path, _meta(), pd.concat([archs, archs]), results)
    with pytest.raises(DataFormatError, match="above declared upper bound"):
        write_store(tmp_path, _meta(), archs, results.assign(valid_acc=120.0))
    assert not (tmp_path / "toy").exists()


def test_failed_rewrite_keeps_previous_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archs, results = _tables()
    dest = write_store(tmp_path, _meta(), archs, results)
    before = (dest / "results.parquet").read_bytes()

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OSError, match="disk full"):
        write_store(tmp_path, _meta(), archs, results)
    monkeypatch.undo()
    assert (dest / "results.parquet").read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("toy/*")) == ["cifar10"]
    assert len(read_store(dest).archs) == 3


def test_malformed_stores_give_one_line_errors(tmp_path: Path) -> None:
    archs, results = _tables()
    dest = write_store(tmp_path, _meta(), archs, results)
    (dest / "results.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(DataFormatError, match="results.parquet: unreadable parquet") as info:
        pb.load("toy/cifar10", root=tmp_path)
    assert "\n" not in str(info.value)
    (dest / "meta.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="meta.json: invalid JSON"):
        pb.load("toy/cifar10", root=tmp_path)
    (dest / "meta.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(DataFormatError, match="missing fields"):
        pb.load("toy/cifar10", root=tmp_path)


def test_unknown_and_unconverted_names(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown benchmark 'nb201/cifar1'. Did you mean") as info:
        pb.load("nb201/cifar1", root=tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(BenchmarkNotConverted, match="predictbench data convert nb201-tables"):
        pb.load("nb201/cifar10", root=tmp_path)


def test_list_benchmarks_marks_converted(tmp_path: Path) -> None:
    archs, results = _tables()
    write_store(tmp_path, _meta(), archs, results)
    frame = pb.list_benchmarks(root=tmp_path)
    converted = frame.set_index("name")["converted"]
    assert converted["toy/cifar10"] and not converted["nb201-analog/cifar10"]
    assert "nats-tss/cifar10" in converted.index


def test_proxy_table_exposes_no_measured_metrics(tmp_path: Path) -> None:
    from predictbench.benchmarks import ProxyTable

    archs, results = _tables()
    write_store(tmp_path, _meta(), archs, results)
    bench = pb.load("toy/cifar10", root=tmp_path)
    table = ProxyTable.of(bench)
    assert table.metrics == {} and not hasattr(table, "lookup")
    batch = table.batch(bench.keys())
    assert batch.features("onehot").shape == (3, 30)
    with pytest.raises(ValueError, match="no proxies table"):
        batch.proxies()
    with pytest.raises(ValueError, match="space only"):
        ProxyTable(bench.space).proxies(bench.keys())


def test_results_are_stored_by_arch_row_and_read_back_with_keys(tmp_path: Path) -> None:
    archs, results = _tables()
    dest = write_store(tmp_path, _meta(), archs, results)
    raw = pd.read_parquet(dest / "results.parquet")
    assert "key" not in raw.columns and raw["arch_row"].dtype == np.int32
    store = read_store(dest)
    assert store.archs["key"].to_numpy()[raw["arch_row"]].tolist() == store.results["key"].tolist()
    index = ["key", "seed", "fidelity"]
    written = validate_store(_meta(), archs, results)  # the rows the writer stores, seed means filled in
    expected = written.astype({"seed": "int64", "fidelity": "int64"}).set_index(index).sort_index()
    got = store.results.astype({"seed": "int64", "fidelity": "int64"}).set_index(index).loc[expected.index]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_old_or_inconsistent_result_tables_are_rejected(tmp_path: Path) -> None:
    archs, results = _tables()
    dest = write_store(tmp_path, _meta(), archs, results)
    meta = json.loads((dest / "meta.json").read_text())
    (dest / "meta.json").write_text(json.dumps({**meta, "format_version": 1}))
    with pytest.raises(DataFormatError, match="store format version 1 is not supported .* convert the benchmark again"):
        read_store(dest)
    (dest / "meta.json").write_text(json.dumps(meta))
    raw = pd.read_parquet(dest / "results.parquet")
    raw.assign(arch_row=np.int32(len(archs))).to_parquet(dest / "results.parquet", index=False)
    with pytest.raises(DataFormatError, match="results.parquet: content differs from the sha256"):
        read_store(dest)
    with pytest.raises(DataFormatError, match="arch_row outside the 3 rows of archs.parquet"):
        read_store(dest, verify=False)  # the structure is checked even without hashes
