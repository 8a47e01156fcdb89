from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks.convert.analog import convert, find_data_file
from predictbench.spaces import get_space
from predictbench.types import DataFormatError

NAME = "nb201-analog/cifar10"


def test_embedded_default_has_every_cell_and_its_optimum(analog_root: Path) -> None:
    bench = pb.load(NAME, root=analog_root)
    assert len(bench) == 15_625
    assert bench.meta.space == "nb201"
    space = get_space("nb201")
    key, value = bench.best("baseline_accuracy")
    # analog-nasbench's best cell is NB201 index 13714, which ties index 6111 as NB201's CIFAR-10 optimum (94.3733)
    assert int(space.index_of([key])[0]) == 13714
    assert value == pytest.approx(94.0664)
    assert bench.lookup([space.from_index([6111])[0]], "baseline_accuracy")[0] == pytest.approx(93.8624)
    assert {"ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy"} <= set(bench.metrics)
    assert {f"analog_drift_{t}" for t in (60, 3600, 86400, 2592000)} <= set(bench.metrics)
    assert bench.metrics["baseline_drift_60_std"].kind == "info"
    assert np.isfinite(bench.column("analog_drift_2592000")).all()
    assert bench.search_metric is not None and bench.search_metric.metric == "baseline_accuracy"


def test_provenance_records_input_hash(analog_root: Path) -> None:
    prov = pb.load(NAME, root=analog_root).meta.provenance
    assert prov["converter"] == "analog-nasbench"
    assert len(prov["inputs"]) == 1 and len(prov["inputs"][0]["sha256"]) == 64


def test_convert_is_idempotent(analog_root: Path) -> None:
    meta = analog_root / NAME / "meta.json"
    before = meta.stat().st_mtime_ns
    convert(root=analog_root)
    assert meta.stat().st_mtime_ns == before


def test_corrupt_or_foreign_pickles_are_refused(tmp_path: Path) -> None:
    truncated = tmp_path / "data.anb"
    truncated.write_bytes(find_data_file().read_bytes()[:5000])
    with pytest.raises(DataFormatError, match="data.anb"):
        convert(truncated, root=tmp_path / "out")
    evil = tmp_path / "evil.anb"
    evil.write_bytes(pickle.dumps({(0,) * 6: Path("/")}))
    with pytest.raises(DataFormatError, match="unexpected object"):
        convert(evil, root=tmp_path / "out")
    assert not (tmp_path / "out" / NAME).exists()


def test_missing_source_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.anb"):
        convert(tmp_path / "nope.anb", root=tmp_path)
