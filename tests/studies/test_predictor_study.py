from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.predictors.baselines import RandomPredictor, RidgePredictor
from predictbench.predictors.gbdt import LGBMPredictor
from predictbench.studies import PredictorStudy, ResultsFile, read_results
from predictbench.studies.predictor_study import make_split


class SpyPredictor(RidgePredictor):
    """Ridge that remembers which cells it was trained on (class-level log)."""

    seen: list[tuple[str, ...]] = []  # noqa: RUF012

    def fit(self, X: Any, y: np.ndarray) -> SpyPredictor:
        SpyPredictor.seen.append(tuple(X.keys))
        super().fit(X, y)
        return self


@pytest.fixture
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def test_study_records_paired_and_resumable(bench: Any, tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    predictors = {"lgbm": LGBMPredictor(n_estimators=50), "random": RandomPredictor(), "spy": SpyPredictor()}
    study = PredictorStudy(bench, predictors, results=results, train_sizes=(24, 121), seeds=2, test_size=100)
    frame = study.run()
    assert len(frame) == 3 * 2 * 2
    assert set(frame["predictor"]) == {"lgbm", "random", "spy"}
    for column in ("kendall_tau", "spearman", "precision_at_10", "top20_regret", "fit_seconds", "version"):
        assert frame[column].notna().all()
    means = frame.groupby("predictor")["kendall_tau"].mean()
    assert means["lgbm"] > 0.2 and abs(means["random"]) < 0.15
    n_seen = len(SpyPredictor.seen)
    calls: list[str] = []
    rerun = PredictorStudy(bench, predictors, results=results, train_sizes=(24, 121), seeds=2, test_size=100)
    again = rerun.run(progress=lambda i, n, status: calls.append(status))
    assert len(again) == len(frame) and len(SpyPredictor.seen) == n_seen
    assert all("recorded" in c for c in calls)


def test_splits_depend_only_on_benchmark_and_seed(bench: Any) -> None:
    target = bench.report_metric
    a = make_split(bench, target, 3, 200)
    b = make_split(bench, target, 3, 200)
    c = make_split(bench, target, 4, 200)
    assert np.array_equal(a.train(50), b.train(50)) and np.array_equal(a.test, b.test)
    assert not np.array_equal(a.test, c.test)
    assert not set(a.test) & set(a.train_pool)
    assert np.array_equal(a.train(24), a.train(121)[:24])


def test_same_cells_for_every_predictor(bench: Any, tmp_path: Path) -> None:
    SpyPredictor.seen.clear()
    predictors = {"spy1": SpyPredictor(), "spy2": SpyPredictor(alpha=3.0)}
    PredictorStudy(bench, predictors, results=tmp_path / "r.jsonl", train_sizes=(8,), seeds=1).run()
    assert len(SpyPredictor.seen) == 2 and SpyPredictor.seen[0] == SpyPredictor.seen[1]


def test_bad_configuration(bench: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exceeds"):
        PredictorStudy(bench, {"r": RidgePredictor()}, results=tmp_path / "r.jsonl", train_sizes=(20_000,)).run()
    with pytest.raises(ValueError, match="at least one predictor"):
        PredictorStudy(bench, {}, results=tmp_path / "r.jsonl").run()


def test_results_file_survives_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rf = ResultsFile(path)
    rf.append({"a": 1})
    with open(path, "a") as handle:
        handle.write('{"a": 2, "b"')  # interrupted mid-write
    assert [r["a"] for r in rf.records()] == [1]
    rf.append({"a": 3})
    assert read_results(path)["a"].tolist() == [1, 3]
    assert isinstance(read_results(path), pd.DataFrame)
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        read_results(tmp_path / "missing.jsonl")
