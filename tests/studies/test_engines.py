"""Study engines: local processes, a Dask LocalCluster, and a caller-owned executor give the same records."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from predictbench.studies.engines import open_executor
from predictbench.studies.search_study import SearchStudy
from predictbench.types import UnknownNameError

SEARCHERS = {"random": {}, "rea": ("evolution", {"population_size": 10})}
COLUMNS = ["searcher", "seed", "final_arch", "final_report"]


def _study(root: Path, results: Path, **kwargs: object) -> pd.DataFrame:
    frame = SearchStudy("nb201-analog/cifar10", SEARCHERS, results=results, budget=25, seeds=2, root=root, **kwargs)
    return frame.run().sort_values(["searcher", "seed"])[COLUMNS].reset_index(drop=True)


def test_dask_local_cluster_gives_the_serial_records(analog_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="engine='dask' needs dask.distributed (pip install 'predictbench[dask]')")
    serial = _study(analog_root, tmp_path / "serial.jsonl")
    on_dask = _study(analog_root, tmp_path / "dask.jsonl", jobs=2, engine="dask")
    assert len(serial) == 4
    assert serial.equals(on_dask)


def test_a_caller_owned_executor_is_used_and_left_open(analog_root: Path, tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        frame = _study(analog_root, tmp_path / "threads.jsonl", engine=pool)
        assert len(frame) == 4
        assert pool.submit(int, "7").result() == 7  # still open: the study did not shut it down
    assert frame.equals(_study(analog_root, tmp_path / "serial.jsonl"))


def test_engine_errors_name_the_problem() -> None:
    with pytest.raises(UnknownNameError, match="unknown study engine 'dsak'. Did you mean 'dask'"):
        with open_executor("dsak", 2):
            pass
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        with open_executor("local", 0):
            pass
    with pytest.raises(ValueError, match="address is for engine='dask'"):
        with open_executor("local", 2, address="tcp://127.0.0.1:8786"):
            pass
