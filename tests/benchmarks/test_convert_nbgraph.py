"""NAS-Bench-Graph converter: counts, values read back, idempotence, errors, and components run unchanged."""

from __future__ import annotations

import importlib.util
import logging
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks.catalog import CATALOG, NBGRAPH_DATASETS
from predictbench.benchmarks.convert import CONVERTERS
from predictbench.benchmarks.convert.nbgraph import convert, package_light_dir
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, UnknownNameError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nas_bench_graph") is None,
    reason="nas-bench-graph is not installed (pip install 'predictbench[graph]')",
)


def raw(dataset: str) -> dict[int, dict[str, Any]]:
    """A light file read independently of the converter (the package's own files are trusted here)."""
    with open(package_light_dir() / f"{dataset}.bench", "rb") as handle:
        data: dict[int, dict[str, Any]] = pickle.load(handle)
    return data


@pytest.fixture(scope="module")
def nbgraph_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with nbgraph/cora and nbgraph/proteins converted from the installed package."""
    root = tmp_path_factory.mktemp("nbgraph")
    convert(root=root, datasets=["cora", "proteins"])
    return root


def write_bench(path: Path, data: object) -> Path:
    path.write_bytes(pickle.dumps(data, protocol=3))  # the light files are protocol-3 pickles
    return path


def subset(dataset: str, hashes: list[int]) -> dict[int, dict[str, Any]]:
    full = raw(dataset)
    return {h: dict(full[h]) for h in hashes}


def test_registry_and_catalog() -> None:
    assert CONVERTERS.get("nas-bench-graph") is convert
    for dataset in NBGRAPH_DATASETS:
        entry = CATALOG[f"nbgraph/{dataset}"]
        assert entry.convert_command == "predictbench data convert nas-bench-graph"
    assert len(NBGRAPH_DATASETS) == 9


def test_counts_spaces_and_declarations(nbgraph_root: Path) -> None:
    cora = pb.load("nbgraph/cora", root=nbgraph_root)
    proteins = pb.load("nbgraph/proteins", root=nbgraph_root)
    assert len(cora) == 26_206 and cora.meta.space == "nbgraph"
    assert len(proteins) == 2_021 and proteins.meta.space == "nbgraph-proteins"
    assert set(cora.keys()) == {a.key for a in get_space("nbgraph").enumerate()}
    assert set(proteins.keys()) == {a.key for a in get_space("nbgraph-proteins").enumerate()}
    for bench in (cora, proteins):
        assert bench.search_metric is not None and bench.search_metric.metric == "valid_perf"
        assert bench.report_metric is not None and bench.report_metric.metric == "test_perf"
        assert bench.metrics["latency"].kind == "cost" and not bench.metrics["latency"].higher_is_better
        assert bench.metrics["params"].kind == "cost"
        assert bench.fidelities == (1,) and bench.meta.fidelity_unit == "run"
        prov = bench.meta.provenance
        assert prov["converter"] == "nas-bench-graph" and prov["source_package"].startswith("nas-bench-graph ")
        assert len(prov["inputs"]) == 1 and len(prov["inputs"][0]["sha256"]) == 64
    assert "ROC-AUC" in proteins.metrics["test_perf"].description
    assert "accuracy" in cora.metrics["test_perf"].description


@pytest.mark.parametrize("dataset", ["cora", "proteins"])
def test_values_read_back_equal_the_raw_file(nbgraph_root: Path, dataset: str) -> None:
    bench = pb.load(f"nbgraph/{dataset}", root=nbgraph_root)
    space = bench.space
    records = raw(dataset)
    hashes = sorted(records)
    chosen = [hashes[0], hashes[len(hashes) // 2], hashes[-1], *hashes[1::997]]
    keys = space.from_bench_hash(chosen)  # type: ignore[attr-defined]
    for metric, field in (("valid_perf", "valid_perf"), ("test_perf", "perf"), ("latency", "latency")):
        np.testing.assert_array_equal(bench.lookup(keys, metric), [records[h][field] for h in chosen])
    np.testing.assert_array_equal(bench.lookup(keys, "params"), [float(records[h]["para"]) for h in chosen])
    table = bench.archs_table.set_index("key")
    assert table.loc[[k.key for k in keys], "bench_hash"].tolist() == chosen
    # every record once, and the best architectures are the raw file's
    assert sorted(bench.archs_table["bench_hash"]) == hashes
    best_hash = max(records, key=lambda h: records[h]["valid_perf"])
    assert bench.best("valid_perf") == (space.from_bench_hash([best_hash])[0].key, records[best_hash]["valid_perf"])  # type: ignore[attr-defined]


def test_a_spec_finds_the_benchmark_record_the_package_finds(nbgraph_root: Path) -> None:
    from nas_bench_graph.architecture import Arch as BenchArch

    bench = pb.load("nbgraph/cora", root=nbgraph_root)
    records = raw("cora")
    space: Any = bench.space
    for links, ops in (([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]), ([0, 1, 2, 3], ["skip", "gat", "skip", "gin"])):
        expected = records[BenchArch(links, ops).valid_hash()]["perf"]
        assert bench.lookup([space.from_spec(links, ops)], "test_perf")[0] == expected


def test_rerun_is_a_no_op_and_force_rewrites(nbgraph_root: Path) -> None:
    meta = nbgraph_root / "nbgraph" / "cora" / "meta.json"
    before = meta.stat().st_mtime_ns
    assert convert(root=nbgraph_root, datasets="cora") == [nbgraph_root / "nbgraph" / "cora"]
    assert meta.stat().st_mtime_ns == before
    convert(root=nbgraph_root, datasets=["cora"], force=True)
    assert meta.stat().st_mtime_ns != before


def test_folder_and_file_sources_and_partial_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "light"
    folder.mkdir()
    write_bench(folder / "citeseer.bench", subset("citeseer", [0, 10000, 88887]))
    shutil.copy(package_light_dir() / "proteins.bench", folder / "proteins.bench")
    with caplog.at_level(logging.WARNING):
        paths = convert(tmp_path, root=tmp_path / "out")  # the parent of light/ works too
    assert [p.name for p in paths] == ["citeseer", "proteins"]
    assert "3 of the 26206 nbgraph architectures" in caplog.text and "lacks cora.bench" in caplog.text
    assert len(pb.load("nbgraph/citeseer", root=tmp_path / "out")) == 3
    [path] = convert(folder / "proteins.bench", root=tmp_path / "out2")
    assert len(pb.load("nbgraph/proteins", root=tmp_path / "out2")) == 2_021
    assert path == tmp_path / "out2" / "nbgraph" / "proteins"


def test_missing_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        convert(tmp_path / "nope", root=tmp_path / "out")
    with pytest.raises(FileNotFoundError, match=r"no NAS-Bench-Graph light files \(cora.bench"):
        convert(tmp_path, root=tmp_path / "out")
    write_bench(tmp_path / "cora.bench", subset("cora", [0]))
    with pytest.raises(FileNotFoundError, match="lacks pubmed.bench"):
        convert(tmp_path, root=tmp_path / "out", datasets=["cora", "pubmed"])
    with pytest.raises(UnknownNameError, match="'coraa'.*Did you mean 'cora'"):
        convert(tmp_path, root=tmp_path / "out", datasets=["coraa"])
    per_seed = write_bench(tmp_path / "cora0.bench", subset("cora", [0]))
    with pytest.raises(DataFormatError, match="per-seed files such as cora0.bench are not supported"):
        convert(per_seed, root=tmp_path / "out")


def test_package_not_installed_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from predictbench.benchmarks.convert import nbgraph

    monkeypatch.setattr(nbgraph.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"pip install 'predictbench\[graph\]'"):
        convert(root=tmp_path)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1, 2], "expected a non-empty dict of architecture records, got list"),
        ({}, "non-empty dict"),
        ({"0": {}}, "architecture hash '0' is not an integer"),
        ({0: [0.5]}, "record 0 must be a dict"),
        ({0: {"valid_perf": 0.5, "perf": 0.5, "latency": 0.1}}, "record 0 lacks the field 'para'"),
        ({0: {"valid_perf": "high", "perf": 0.5, "latency": 0.1, "para": 1.0}}, "'valid_perf' of record 0 is 'high'"),
        ({0: {"valid_perf": float("nan"), "perf": 0.5, "latency": 0.1, "para": 1.0}}, "not a finite number"),
        ({99999: {"valid_perf": 0.5, "perf": 0.5, "latency": 0.1, "para": 1.0}}, "99999 is not a NAS-Bench-Graph"),
        ({0: {"valid_perf": 1.5, "perf": 0.5, "latency": 0.1, "para": 1.0}}, "valid_perf"),
    ],
)
def test_malformed_records_are_refused(tmp_path: Path, data: object, match: str) -> None:
    path = write_bench(tmp_path / "cora.bench", data)
    with pytest.raises(DataFormatError, match=match):
        convert(path, root=tmp_path / "out")
    assert not (tmp_path / "out" / "nbgraph" / "cora").exists()


def test_equivalent_records_are_refused(tmp_path: Path) -> None:
    record = {"valid_perf": 0.5, "perf": 0.5, "latency": 0.1, "para": 1.0}
    path = write_bench(tmp_path / "cora.bench", {1: record, 10: record})  # gat,gat,gat,gcn in two orders
    with pytest.raises(DataFormatError, match=r"records \[1, 10\] are the same nbgraph architecture"):
        convert(path, root=tmp_path / "out")


def test_truncated_and_foreign_pickles_are_refused(tmp_path: Path) -> None:
    truncated = tmp_path / "cora.bench"
    truncated.write_bytes((package_light_dir() / "cora.bench").read_bytes()[:5000])
    with pytest.raises(DataFormatError, match=r"cora.bench: not a readable NAS-Bench-Graph .bench pickle"):
        convert(truncated, root=tmp_path / "out")
    evil = write_bench(tmp_path / "pubmed.bench", {0: {"valid_perf": Path("/"), "perf": 1, "latency": 1, "para": 1}})
    with pytest.raises(DataFormatError, match=r"refusing to unpickle pathlib\.\w*Path"):
        convert(evil, root=tmp_path / "out")
    assert not (tmp_path / "out" / "nbgraph").exists()


@pytest.mark.slow
def test_all_nine_datasets_convert_with_their_counts(tmp_path: Path) -> None:
    paths = convert(root=tmp_path)
    assert [p.name for p in paths] == list(NBGRAPH_DATASETS)
    for dataset in NBGRAPH_DATASETS:
        bench = pb.load(f"nbgraph/{dataset}", root=tmp_path)
        assert len(bench) == (2_021 if dataset == "proteins" else 26_206) == len(raw(dataset))
        assert np.isfinite(bench.column("test_perf")).all()


@pytest.mark.torch  # the GCN predictor
def test_predictors_and_searchers_run_unchanged(nbgraph_root: Path) -> None:
    from scipy.stats import kendalltau

    from predictbench.oracle import Oracle
    from predictbench.predictors.gbdt import LGBMPredictor
    from predictbench.predictors.gcn import GCNPredictor
    from predictbench.search import make_searcher, run_search

    bench = pb.load("nbgraph/cora", root=nbgraph_root)
    keys = bench.keys()[np.random.default_rng(0).permutation(len(bench))[:600]]
    y = bench.scores(keys, "valid_perf")
    train, test = keys[:100], keys[100:]
    lgbm = LGBMPredictor().fit(bench.batch(train).features("onehot"), y[:100])
    tau = kendalltau(lgbm.predict(bench.batch(test).features("onehot")), y[100:])[0]
    assert tau > 0.2  # measured 0.33 for this split
    gcn = GCNPredictor(epochs=5, hidden=32, mlp_hidden=32).fit(bench.batch(train), y[:100])
    assert np.isfinite(gcn.predict(bench.batch(test))).all()
    for name in ("random", "evolution"):
        oracle = run_search(make_searcher(name, bench.space, seed=0), Oracle(bench, budget=30, seed=0))
        assert oracle.queries == 30
        best = oracle.best()
        assert bench.lookup([best.arch], "valid_perf")[0] == best.value
