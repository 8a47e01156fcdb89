"""RandomForestPredictor and MLPPredictor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.stats import kendalltau

from predictbench.benchmarks import TabularBenchmark
from predictbench.predictors import make_predictor
from predictbench.predictors.baselines import MLPPredictor, RandomForestPredictor
from predictbench.testing import toy_benchmark


def _data(n: int = 400, d: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(n, d)).astype(np.float32)
    y = X @ np.linspace(1, 2, d) + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("toy"), n=360)


def _tau(model: Any, X: Any, y: np.ndarray) -> float:
    return float(kendalltau(model.predict(X), y).statistic)


@pytest.mark.parametrize(("name", "params"), [("rf", {}), pytest.param("mlp", {"epochs": 30}, marks=pytest.mark.torch)])
def test_learner_ranks_a_learnable_target(name: str, params: dict[str, Any]) -> None:
    X, y = _data()
    model = make_predictor(name, **params).fit(X[:300], y[:300])
    assert _tau(model, X[300:], y[300:]) > 0.6


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("rf", {}),
        pytest.param("mlp", {"epochs": 30}, marks=pytest.mark.torch),
        pytest.param("mlp", {"encoding": "path", "epochs": 30}, marks=pytest.mark.torch),
    ],
)
def test_learner_ranks_nb201_cells(bench: TabularBenchmark, name: str, params: dict[str, Any]) -> None:
    keys = bench.keys()
    y = bench.lookup(keys, "test_acc")
    model = make_predictor(name, **params).fit(bench.batch(keys[:200]), y[:200])
    assert _tau(model, bench.batch(keys[200:]), y[200:]) > 0.6


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_estimators": 0}, "n_estimators must be an int >= 1"),
        ({"min_samples_leaf": 0}, "min_samples_leaf must be an int >= 1"),
        ({"max_depth": 0}, "max_depth must be an int >= 1"),
        ({"max_features": 1.5}, "max_features must be"),
        ({"max_features": "half"}, "max_features must be"),
        ({"n_jobs": 0}, "n_jobs must be an int >= 1"),
        ({"seed": -2}, "seed must be a non-negative int"),
    ],
)
def test_random_forest_rejects_bad_parameters(params: dict[str, Any], message: str) -> None:
    X, y = _data(30)
    with pytest.raises(ValueError, match=message):
        RandomForestPredictor(**params).fit(X, y)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden": 64}, "hidden must be a sequence of layer widths"),
        ({"hidden": (64, 0)}, "hidden must be a sequence of layer widths"),
        ({"epochs": 0}, "epochs must be an int >= 1"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"weight_decay": -1e-4}, "weight_decay must be >= 0"),
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"loss": "huber"}, "loss must be one of"),
        ({"n_jobs": 0}, "n_jobs must be an int >= 1"),
        ({"seed": 1.5}, "seed must be a non-negative int"),
    ],
)
def test_mlp_rejects_bad_parameters(params: dict[str, Any], message: str) -> None:
    X, y = _data(30)
    with pytest.raises(ValueError, match=message):
        MLPPredictor(**params).fit(X, y)


@pytest.mark.torch
def test_mlp_is_deterministic_and_seeded() -> None:
    X, y = _data(100)
    a = MLPPredictor(epochs=5, seed=1).fit(X, y).predict(X)
    assert np.array_equal(a, MLPPredictor(epochs=5, seed=1).fit(X, y).predict(X))
    assert not np.array_equal(a, MLPPredictor(epochs=5, seed=2).fit(X, y).predict(X))


@pytest.mark.torch
def test_mlp_leaves_global_random_and_thread_state_alone() -> None:
    import torch

    X, y = _data(60)
    torch_state, numpy_state = torch.random.get_rng_state(), np.random.get_state()  # noqa: NPY002
    threads = torch.get_num_threads()
    MLPPredictor(epochs=3, n_jobs=1).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()  # noqa: NPY002
    assert torch.get_num_threads() == threads


@pytest.mark.torch
@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_mlp_standardises_the_target(loss: str) -> None:
    X, y = _data(120)
    small = MLPPredictor(epochs=10, loss=loss).fit(X, y).predict(X)
    large = MLPPredictor(epochs=10, loss=loss).fit(X, 1e6 * y + 1e9).predict(X)
    assert np.allclose(large, 1e6 * small + 1e9, rtol=1e-5)


@pytest.mark.torch
def test_mlp_rejects_wrong_feature_count() -> None:
    X, y = _data(40)
    model = MLPPredictor(epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="expected 12 features, got 3"):
        model.predict(X[:, :3])


def test_random_forest_keeps_sklearn_model() -> None:
    X, y = _data(60)
    model = RandomForestPredictor(n_estimators=7, seed=5).fit(X, y)
    assert len(model.model_.estimators_) == 7 and model.n_features_in_ == 12
