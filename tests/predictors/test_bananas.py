"""BananasPredictor: an ensemble of MLPs with per-member predictions for acquisition functions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import kendalltau

from predictbench.benchmarks import TabularBenchmark
from predictbench.predictors import make_predictor
from predictbench.predictors.bananas import BananasPredictor
from predictbench.testing import toy_benchmark
from predictbench.types import NotFittedError

# every BANANAS member is a torch MLP
pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("toy"), n=360)


@pytest.fixture(scope="module")
def split(bench: TabularBenchmark) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    keys = bench.keys()
    y = bench.lookup(keys, "test_acc")
    return bench.batch(keys[:200]), y[:200], bench.batch(keys[200:]), y[200:]


@pytest.mark.parametrize("encoding", ["path", "onehot"])
def test_bananas_ranks_nb201_cells(split: tuple[Any, np.ndarray, Any, np.ndarray], encoding: str) -> None:
    X, y, X_test, y_test = split
    model = make_predictor("bananas", encoding=encoding, epochs=30).fit(X, y)
    assert kendalltau(model.predict(X_test), y_test).statistic > 0.6


def test_bananas_ranks_a_learnable_target() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(400, 12)).astype(np.float32)
    y = X @ np.linspace(1, 2, 12) + 0.1 * rng.standard_normal(400)
    model = BananasPredictor(epochs=30).fit(X[:300], y[:300])
    assert kendalltau(model.predict(X[300:]), y[300:]).statistic > 0.6


def test_ensemble_members_differ_and_average_to_the_prediction(
    split: tuple[Any, np.ndarray, Any, np.ndarray],
) -> None:
    X, y, X_test, _ = split
    model = BananasPredictor(n_models=4, epochs=10).fit(X, y)
    members = model.predict_ensemble(X_test)
    assert members.shape == (4, len(X_test)) and np.isfinite(members).all()
    assert np.allclose(members.mean(axis=0), model.predict(X_test))
    assert members.std(axis=0).mean() > 0  # different seeds: a spread to use for UCB / Thompson sampling
    assert abs(members.mean() - y.mean()) < 3 * y.std()  # target units


def test_members_are_seeded_by_index(split: tuple[Any, np.ndarray, Any, np.ndarray]) -> None:
    X, y, X_test, _ = split
    two = BananasPredictor(n_models=2, epochs=5, seed=7).fit(X, y).predict_ensemble(X_test)
    three = BananasPredictor(n_models=3, epochs=5, seed=7).fit(X, y).predict_ensemble(X_test)
    assert np.allclose(two, three[:2], rtol=1e-5, atol=1e-6)  # members train independently of each other
    other = BananasPredictor(n_models=2, epochs=5, seed=8).fit(X, y).predict_ensemble(X_test)
    assert not np.allclose(two, other)


def test_predict_ensemble_needs_fit(split: tuple[Any, np.ndarray, Any, np.ndarray]) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        BananasPredictor().predict_ensemble(split[2])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_models": 0}, "n_models must be an int >= 1"),
        ({"hidden": ()}, None),
        ({"hidden": (32, -1)}, "hidden must be a sequence of layer widths"),
        ({"epochs": 1.5}, "epochs must be an int >= 1"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"loss": "l1"}, "loss must be one of"),
        ({"n_jobs": 0}, "n_jobs must be an int >= 1"),
    ],
)
def test_bananas_validates_parameters(
    split: tuple[Any, np.ndarray, Any, np.ndarray], params: dict[str, Any], message: str | None
) -> None:
    X, y, _, _ = split
    model = (
        BananasPredictor(epochs=1, **{k: v for k, v in params.items() if k != "epochs"})
        if "epochs" not in params
        else BananasPredictor(**params)
    )
    if message is None:  # no hidden layer: a linear model is allowed
        assert model.fit(X, y).predict(X).shape == (len(X),)
        return
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
