from __future__ import annotations

import pickle

import numpy as np
import pytest

from predictbench.predictors import make_predictor
from predictbench.predictors.gbdt import LGBMPredictor
from predictbench.types import NotFittedError


def _data(n: int = 120, d: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(n, d)).astype(np.float32)
    y = X @ np.linspace(1, 2, d) + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("name", ["lgbm", "xgb", "ridge", "rf"])
def test_contract_on_plain_feature_matrices(name: str) -> None:
    X, y = _data()
    predictor = make_predictor(name)
    with pytest.raises(NotFittedError, match="not fitted"):
        predictor.predict(X)
    X_copy, y_copy = X.copy(), y.copy()
    assert predictor.fit(X, y) is predictor
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)
    pred = predictor.predict(X)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()
    clone = predictor.clone()
    assert clone.get_params() == predictor.get_params()
    with pytest.raises(NotFittedError):
        clone.predict(X)
    again = pickle.loads(pickle.dumps(predictor))
    assert np.allclose(again.predict(X), pred)
    assert np.allclose(make_predictor(name).fit(X, y).predict(X), pred)


@pytest.mark.parametrize("name", ["lgbm", "ridge"])
def test_learners_rank_a_learnable_target(name: str) -> None:
    from scipy.stats import kendalltau

    X, y = _data(400)
    predictor = make_predictor(name).fit(X[:300], y[:300])
    assert kendalltau(predictor.predict(X[300:]), y[300:]).statistic > 0.6


def test_lgbm_small_training_sets_still_split() -> None:
    X, y = _data(10)
    pred = LGBMPredictor().fit(X, y).predict(X)
    assert np.ptp(pred) > 0


def test_lgbm_gbdt_nas_preset_and_bad_params() -> None:
    preset = LGBMPredictor.gbdt_nas()
    assert preset.min_child_samples == 20 and preset.learning_rate == 0.05 and preset.n_estimators == 100
    X, y = _data()
    with pytest.raises(ValueError, match="objective"):
        LGBMPredictor(objective="huber").fit(X, y)
    with pytest.raises(ValueError, match="no parameter 'depth'"):
        LGBMPredictor().set_params(depth=3)
    with pytest.raises(ValueError, match="NaN"):
        LGBMPredictor().fit(X, np.full(len(X), np.nan))


def test_lgbm_lambdarank_objective_ranks() -> None:
    from scipy.stats import kendalltau

    X, y = _data(400)
    model = LGBMPredictor(objective="lambdarank").fit(X[:300], y[:300])
    assert kendalltau(model.predict(X[300:]), y[300:]).statistic > 0.5
