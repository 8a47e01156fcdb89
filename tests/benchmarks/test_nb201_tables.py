"""The shared NB201 tables converted into nb201/{cifar10, cifar100, imagenet16-120} (needs ../shared)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from predictbench.benchmarks import TabularBenchmark, load
from predictbench.benchmarks.convert import CONVERTERS, nb201_tables
from predictbench.benchmarks.store import MetricRef
from predictbench.proxies.shipped import read_shipped, shipped_files
from predictbench.spaces import get_space

pytestmark = pytest.mark.shared_data

BEST = {"cifar10": (94.3733, 6111), "cifar100": (73.5133, 9930), "imagenet16-120": (47.3111, 857)}
SUITEZERO = [
    "epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain", "snip",
    "synflow",
]  # fmt: skip


@pytest.fixture(scope="module")
def nb201_root(shared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nb201-stores")
    written = nb201_tables.convert(shared_data_dir, root=root)
    assert written == [root / "nb201" / ds for ds in nb201_tables.DATASETS]
    return root


@pytest.fixture(scope="module")
def benches(nb201_root: Path) -> dict[str, TabularBenchmark]:
    return {ds: load(f"nb201/{ds}", root=nb201_root) for ds in nb201_tables.DATASETS}


@pytest.mark.parametrize("dataset", nb201_tables.DATASETS)
def test_best_report_accuracy(benches: dict[str, TabularBenchmark], dataset: str) -> None:
    bench = benches[dataset]
    assert len(bench) == 15625
    assert bench.archs_table["index"].tolist() == list(range(15625))
    assert bench.report_metric == MetricRef("test_acc", 200)
    assert bench.search_metric == MetricRef("valid_acc", 12)
    assert bench.fidelities == (12, 200) and bench.meta.default_fidelity == 200
    key, value = bench.best("test_acc")
    expected_value, expected_index = BEST[dataset]
    assert round(value, 4) == expected_value
    assert get_space("nb201").index(key) == expected_index  # type: ignore[attr-defined]
    assert np.isfinite(bench.column("test_acc")).all() and np.isfinite(bench.column("valid_acc", fidelity=12)).all()


def test_values_match_the_source_table(benches: dict[str, TabularBenchmark], shared_data_dir: Path) -> None:
    acc = pd.read_parquet(shared_data_dir / nb201_tables.ACCURACY_FILE)
    keys = acc["arch_str"].tolist()
    c10 = benches["cifar10"]
    np.testing.assert_array_equal(c10.lookup(keys, "valid_acc", fidelity=12), acc["c10valid_valid_acc_12"])
    np.testing.assert_array_equal(c10.lookup(keys, "test_acc", fidelity=12), acc["cifar10_test_acc_12"])
    np.testing.assert_array_equal(c10.lookup(keys, "train_time", fidelity=12), acc["c10valid_train_time_12_s"])
    np.testing.assert_array_equal(c10.lookup(keys, "train_time", fidelity=200), acc["c10valid_train_time_total_s"])
    np.testing.assert_array_equal(c10.lookup(keys, "num_params"), acc["params_cifar10_M"])
    np.testing.assert_array_equal(c10.lookup(keys, "test_acc_natsapi"), acc["cifar10_test_acc_200_natsapi"])
    im = benches["imagenet16-120"]
    np.testing.assert_array_equal(im.lookup(keys, "valid_acc", fidelity=12), acc["imagenet16_valid_acc_12"])
    np.testing.assert_array_equal(im.lookup(keys, "test_acc"), acc["imagenet16_test_acc_200"])


def test_metric_directions_and_kinds(benches: dict[str, TabularBenchmark]) -> None:
    for bench in benches.values():
        latency = bench.metric("edgegpu_latency")
        assert not latency.higher_is_better and latency.kind == "cost" and latency.unit == "ms"
        assert bench.metric("fpga_energy").unit == "mJ"
        key, value = bench.best("edgegpu_latency")
        assert key in bench.keys()
        assert value == pytest.approx(np.nanmin(bench.column("edgegpu_latency")))
        assert bench.metric("test_acc").higher_is_better
        assert bench.fidelities_of("edgegpu_latency") == (200,)
        for name in bench.proxy_names:
            assert bench.metric(name).kind == "proxy" and bench.metric(name).higher_is_better
    c10 = benches["cifar10"]
    assert c10.metric("train_time").kind == "cost" and c10.fidelities_of("train_time") == (12, 200)
    assert "negatively" in c10.metric("plain").description.lower()
    assert (c10.column("edgetpu_latency") >= 0).sum() == 15625 - 4699  # -1 in the source -> NaN
    # parameter counts are only declared where they were measured (CIFAR-10 head)
    assert "num_params" in c10.metrics
    assert "num_params" not in benches["cifar100"].metrics and "train_time" not in benches["cifar100"].metrics
    assert any(name.startswith("robust_pgd_") for name in c10.metrics)
    assert not any(name.startswith("robust_") for name in benches["imagenet16-120"].metrics)


def test_proxies(benches: dict[str, TabularBenchmark]) -> None:
    c10 = benches["cifar10"]
    live = _live("cifar10")  # the package's proxy table, filled in as <proxy>_live columns
    assert set(c10.proxy_names) == {*SUITEZERO, "zen", "naswot_v1", *live}
    values = c10.proxies(c10.keys(), fill=False)
    present = ~np.isnan(values)
    names = c10.proxy_names
    for name in SUITEZERO:
        assert present[:, names.index(name)].sum() == 9445
    assert present[:, names.index("zen")].all()
    assert present[:, names.index("naswot_v1")].sum() == 15625 - 341
    # Suite-Zero covers exactly the dead-op-free cells
    cells = present[:, names.index("synflow")]
    space: Any = get_space("nb201")
    np.testing.assert_array_equal(cells, space.dead_op_free_mask()[c10.archs_table["index"].to_numpy()])
    # proxies are also reachable through lookup at the default fidelity
    np.testing.assert_array_equal(c10.lookup(c10.keys(), "synflow"), values[:, names.index("synflow")])
    # fill=True (the default) gives a cell with dead operations the values of its pruned, identical form
    filled = c10.proxies(c10.keys(), ["synflow", "jacov"])
    assert not np.isnan(filled).any()
    dead = np.flatnonzero(~cells)[:50]
    pruned = [a.key for a in space.prune_dead_many(c10.keys()[dead])]
    np.testing.assert_array_equal(filled[dead], c10.proxies(pruned, ["synflow", "jacov"], fill=False))
    assert set(benches["cifar100"].proxy_names) == {"zen", *_live("cifar100")}
    assert set(benches["imagenet16-120"].proxy_names) == {*SUITEZERO, "zen", *_live("imagenet16-120")}


def _live(task: str) -> set[str]:
    """The ``<proxy>_live`` columns the package's shipped table of ``task`` fills in (none without a table)."""
    shipped = read_shipped("nb201", task)
    return set() if shipped is None else {f"{name}_live" for name in shipped.proxies}


def test_meta_citation_and_provenance(benches: dict[str, TabularBenchmark]) -> None:
    c10 = benches["cifar10"]
    for text in ("NAS-Bench-201", "HW-NAS-Bench", "NAS-Bench-Suite-Zero"):
        assert text in c10.meta.citation
    inputs = {entry["name"] for entry in c10.meta.provenance["inputs"]}
    assert inputs == {
        nb201_tables.ACCURACY_FILE, nb201_tables.HW_FILE, nb201_tables.ROBUSTNESS_FILE,
        nb201_tables.SUITEZERO_FILE, nb201_tables.ZEN_FILE, nb201_tables.NASWOT_FILE,
        *(f"predictbench/proxies/tables/{path.name}" for path in shipped_files("nb201", "cifar10") if path.is_file()),
    }  # fmt: skip
    assert c10.meta.provenance["converter"] == "nb201-tables"
    assert len({entry["sha256"] for entry in c10.meta.provenance["inputs"]}) == len(inputs)
    assert nb201_tables.SUITEZERO_FILE not in {e["name"] for e in benches["cifar100"].meta.provenance["inputs"]}


def test_second_run_skips(nb201_root: Path, shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a current store was rewritten")

    monkeypatch.setattr(nb201_tables, "write_store", fail)
    converter = CONVERTERS.get("nb201-tables")
    assert converter(shared_data_dir, root=nb201_root, force=False) == [
        nb201_root / "nb201" / ds for ds in nb201_tables.DATASETS
    ]


def test_missing_source_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        nb201_tables.convert(tmp_path / "nowhere", root=tmp_path)
