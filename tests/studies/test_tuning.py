"""TunedPredictor: Optuna with k-fold CV inside the training set only."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from predictbench.benchmarks import TabularBenchmark
from predictbench.predictors import make_predictor
from predictbench.predictors.baselines import RidgePredictor
from predictbench.studies import PredictorStudy
from predictbench.studies.predictor_study import make_split
from predictbench.studies.tuning import DEFAULT_SPACES, TunedPredictor
from predictbench.testing import toy_benchmark

pytest.importorskip("optuna")

RIDGE_SPACE = {"alpha": ("float", 1e-3, 100.0, "log")}


class SpyRidge(RidgePredictor):
    """Ridge that logs the keys of every batch it is fitted on (class-level, survives clone and pickling)."""

    fits: list[tuple[str, ...]] = []  # noqa: RUF012

    def fit(self, X: Any, y: np.ndarray) -> SpyRidge:
        SpyRidge.fits.append(tuple(X.keys))
        super().fit(X, y)
        return self


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("toy"), n=200)


def _data(n: int = 90, d: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.integers(0, 2, size=(n, d)).astype(float)
    return X, X @ np.linspace(1, 2, d) + 0.3 * rng.standard_normal(n)


def test_tuning_never_sees_test_cells(bench: TabularBenchmark, tmp_path: Path) -> None:
    """The study's protocol (its paired split and its per-cell fit/predict) with a spying base predictor."""
    SpyRidge.fits.clear()
    tuned = TunedPredictor(base=SpyRidge(), space=RIDGE_SPACE, n_trials=3, cv=3)
    study = PredictorStudy(bench, {"tuned": tuned}, results=tmp_path / "r.jsonl", test_size=40)
    target = study.target_ref()
    scores = bench.metric(target.metric).to_score(bench.column(target.metric, fidelity=target.fidelity))
    keys = bench.keys()
    sizes = []
    for seed in (0, 1):
        split = make_split(bench, target, seed, 40)
        test = set(keys[split.test])
        for n in (12, 60):
            SpyRidge.fits.clear()
            record = study._run_cell("tuned", split.train(n), split.test, scores, seed)
            assert np.isfinite(record["kendall_tau"])
            train = set(keys[split.train(n)])
            assert len(SpyRidge.fits) == 3 * 3 + 1  # 3 trials x 3 folds, then the refit
            assert not any(test & set(f) for f in SpyRidge.fits), "a test cell reached the tuned predictor's fit"
            assert all(set(f) <= train for f in SpyRidge.fits)
            assert set(SpyRidge.fits[-1]) == train  # the refit sees the whole training set
            sizes += [len(f) for f in SpyRidge.fits]
    # every CV fit sees 2 of the 3 folds (8 of 12, 40 of 60 cells)
    assert sorted(sizes) == sorted([8] * 18 + [12] * 2 + [40] * 18 + [60] * 2)


def test_tuning_is_deterministic_and_records_the_search() -> None:
    X, y = _data()
    a = TunedPredictor(base="ridge", space=RIDGE_SPACE, n_trials=6, cv=3, seed=5).fit(X, y)
    b = TunedPredictor(base="ridge", space=RIDGE_SPACE, n_trials=6, cv=3, seed=5).fit(X, y)
    assert a.tuned_ and a.best_params_ == b.best_params_ and a.cv_score_ == b.cv_score_
    assert np.array_equal(a.predict(X), b.predict(X))
    assert len(a.trials_) == 6 and set(a.best_params_) == {"alpha"}
    assert 1e-3 <= a.best_params_["alpha"] <= 100.0
    assert a.cv_score_ == max(t["value"] for t in a.trials_) and a.cv_score_ > 0.5
    assert a.model_.get_params()["alpha"] == a.best_params_["alpha"]


def test_default_space_with_a_registered_gbdt() -> None:
    X, y = _data(60)
    model = make_predictor("tuned", base="lgbm", n_trials=3, cv=2, base_params={"n_jobs": 1})
    assert isinstance(model, TunedPredictor) and model.needs == frozenset({"features"})
    model.fit(X, y)
    assert set(model.best_params_) == set(DEFAULT_SPACES["lgbm"])
    assert model.model_.get_params()["seed"] == 0
    assert np.isfinite(model.predict(X)).all()


def test_small_training_sets_skip_tuning(caplog: pytest.LogCaptureFixture) -> None:
    X, y = _data(5)
    with caplog.at_level(logging.INFO, logger="predictbench.studies.tuning"):
        model = TunedPredictor(base="ridge", space=RIDGE_SPACE, cv=3).fit(X, y)
    assert not model.tuned_ and model.best_params_ == {} and np.isnan(model.cv_score_)
    assert "not tuning" in caplog.text
    assert model.predict(X).shape == (5,)


def test_bad_configurations_raise() -> None:
    X, y = _data(30)
    with pytest.raises(ValueError, match="no default search space"):
        TunedPredictor(base="random").fit(X, y)
    with pytest.raises(ValueError, match="no parameter 'depth'"):
        TunedPredictor(base="ridge", space={"depth": ("int", 1, 5)}).fit(X, y)
    with pytest.raises(ValueError, match="search space entry 'alpha'"):
        TunedPredictor(base="ridge", space={"alpha": ("float", 0.0, 1.0, "log")}).fit(X, y)
    with pytest.raises(ValueError, match="metric must be"):
        TunedPredictor(base="ridge", metric="mae").fit(X, y)
    with pytest.raises(ValueError, match="seed"):
        TunedPredictor(base="ridge", base_params={"seed": 1}, n_trials=1).fit(X, y)
    with pytest.raises(ValueError, match="cv"):
        TunedPredictor(base="ridge", cv=1).fit(X, y)
