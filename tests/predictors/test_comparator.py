"""ComparatorPredictor (CTNAS's Neural Architecture Comparator) on the real-format store nb201-analog/cifar10."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="ComparatorPredictor needs torch (pip install 'predictbench[gcn]')")
pytest.importorskip("torch_geometric", reason="ComparatorPredictor needs torch-geometric (extra gcn)")

import predictbench as pb  # noqa: E402
from predictbench.predictors import make_predictor  # noqa: E402
from predictbench.predictors.comparator import ComparatorPredictor  # noqa: E402
from predictbench.types import NotFittedError  # noqa: E402

METRIC = "baseline_accuracy"
FAST = {"epochs": 25}  # 200 cells, 4 mini-batches of 64 cells (all their pairs) an epoch


@pytest.fixture(scope="module")
def data(analog_root: Path) -> dict[str, Any]:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    keys = np.random.default_rng(11).permutation(bench.keys())[:400]
    y = bench.scores(keys, METRIC)
    return {
        "train": bench.batch(keys[:200]),
        "test": bench.batch(keys[200:]),
        "y_train": y[:200],
        "y_test": y[200:],
    }


@pytest.fixture(scope="module")
def fitted(data: dict[str, Any]) -> ComparatorPredictor:
    return ComparatorPredictor(**FAST, seed=5).fit(data["train"], data["y_train"])


def test_ranks_held_out_cells(fitted: ComparatorPredictor, data: dict[str, Any]) -> None:
    from scipy.stats import kendalltau

    pred = fitted.predict(data["test"])
    assert pred.shape == (200,) and np.isfinite(pred).all()
    assert ((pred >= 0) & (pred <= 1)).all()  # win rates
    # measured: tau 0.63-0.68 over model seeds 0-4 and two splits with these settings
    assert kendalltau(pred, data["y_test"]).statistic > 0.55


def test_pairwise_accuracy(fitted: ComparatorPredictor, data: dict[str, Any]) -> None:
    X, y = data["test"], data["y_test"]
    everything = fitted.pairwise_accuracy(X, y)
    # measured: 0.81-0.84 over model seeds 0-4 and two splits
    assert everything > 0.7
    sampled = fitted.pairwise_accuracy(X, y, 2000, seed=1)
    assert abs(sampled - everything) < 0.05
    pairs = np.array([[0, 1], [2, 3], [4, 5], [1, 0]])
    explicit = fitted.pairwise_accuracy(X, y, pairs)
    assert 0.0 <= explicit <= 1.0
    with pytest.raises(ValueError, match="pairs"):
        fitted.pairwise_accuracy(X, y, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="pairs"):
        fitted.pairwise_accuracy(X, y, np.array([[0, 500]]))
    with pytest.raises(ValueError, match="untied"):
        fitted.pairwise_accuracy(X, np.zeros(len(y)))


def test_pair_probabilities_are_consistent(fitted: ComparatorPredictor, data: dict[str, Any]) -> None:
    a, b = data["test"].subset(np.arange(0, 50)), data["test"].subset(np.arange(50, 100))
    p_ab = fitted.predict_proba_pairs(a, b)
    p_ba = fitted.predict_proba_pairs(b, a)
    assert p_ab.shape == (50,) and ((p_ab >= 0) & (p_ab <= 1)).all()
    assert np.allclose(p_ab + p_ba, 1.0, atol=1e-6)
    assert np.allclose(fitted.predict_proba_pairs(a, a), 0.5, atol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        fitted.predict_proba_pairs(a, data["test"].subset(np.arange(10)))


def test_reference_set(data: dict[str, Any]) -> None:
    small = ComparatorPredictor(epochs=3, n_reference=20).fit(data["train"], data["y_train"])
    assert small.reference_embedding_.shape == (20, small.hidden)
    every = ComparatorPredictor(epochs=3, n_reference=None).fit(data["train"], data["y_train"])
    assert every.reference_embedding_.shape == (200, every.hidden)
    loose = ComparatorPredictor(epochs=3, antisymmetric=False).fit(data["train"], data["y_train"])
    assert np.isfinite(loose.predict(data["test"])).all()


def test_deterministic_and_leaves_global_torch_state(fitted: ComparatorPredictor, data: dict[str, Any]) -> None:
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    again = ComparatorPredictor(**FAST, seed=5).fit(data["train"], data["y_train"])
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    assert np.array_equal(again.predict(data["test"]), fitted.predict(data["test"]))


def test_not_fitted_pickle_and_registry(fitted: ComparatorPredictor, data: dict[str, Any]) -> None:
    fresh = ComparatorPredictor()
    with pytest.raises(NotFittedError, match="not fitted"):
        fresh.predict(data["test"])
    with pytest.raises(NotFittedError):
        fresh.pairwise_accuracy(data["test"], data["y_test"])
    assert isinstance(make_predictor("comparator"), ComparatorPredictor)
    assert ComparatorPredictor.needs == frozenset({"graphs"})
    state = fitted.__getstate__()
    assert all(isinstance(v, np.ndarray) for v in state["model_"].values())
    again = pickle.loads(pickle.dumps(fitted))
    assert np.allclose(again.predict(data["test"]), fitted.predict(data["test"]))
    assert again.clone().get_params() == fitted.get_params()


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("hidden", -3),
        ("mlp_hidden", 0),
        ("conv", "gat"),
        ("epochs", 0),
        ("batch_size", 1),
        ("lr", -1e-3),
        ("n_reference", 0),
        ("antisymmetric", "yes"),
        ("dropout", -0.1),
        ("seed", "a"),
    ],
)
def test_bad_params_name_the_parameter(param: str, value: Any, data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=param):
        ComparatorPredictor(**{param: value}).fit(data["train"], data["y_train"])


def test_needs_two_cells(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        ComparatorPredictor().fit(data["train"].subset([0]), data["y_train"][:1])
