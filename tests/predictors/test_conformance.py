"""Every registered predictor passes the shipped conformance suite (predictbench.testing.check_predictor).

Data: the toy benchmark (real NB201 cells, synthetic learnable target, three proxies) as ArchBatches for every
predictor, and as plain feature matrices for predictors that read features only. Small settings keep the file
fast; a predictor whose module is not written yet is skipped as "not implemented yet", one whose optional
dependency is missing is skipped with that reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from predictbench.benchmarks import ArchBatch, TabularBenchmark
from predictbench.predictors import PREDICTORS, make_predictor
from predictbench.predictors.base import Predictor
from predictbench.predictors.baselines import RidgePredictor
from predictbench.testing import TOY_PROXIES, check_predictor, toy_benchmark, toy_signal
from predictbench.types import NotFittedError

#: small settings per registered name (only parameters the predictor accepts are passed)
FAST: dict[str, dict[str, Any]] = {
    "lgbm": {"n_estimators": 20},
    "xgb": {"n_estimators": 20},
    "rf": {"n_estimators": 20},
    "mlp": {"epochs": 10},
    "bananas": {"epochs": 10, "n_models": 3},
    "omni-lgbm": {"n_estimators": 20},
    "gcn": {"epochs": 3, "hidden": 16, "mlp_hidden": 16, "n_layers": 2},
    "flowerformer": {"epochs": 2, "min_steps": 0, "hidden": 8, "n_heads": 2, "n_layers": 1},
    "gates": {"epochs": 3, "hidden": 8, "mlp_hidden": (8,)},
    "ta-gates": {"epochs": 3, "hidden": 8, "mlp_hidden": (8,)},
    "nao": {"epochs": 3},
    "tuned": {"n_trials": 3, "cv": 2, "base_params": {"n_estimators": 20}},
    "robot": {"n_trials": 20},
    "zero-shot": {"proxies": ["synflow", "nwot", "jacov"]},  # the toy store has none of the 2023-25 proxies
}
#: small settings tried for every other predictor, again only where it has such a parameter
FAST_COMMON: dict[str, Any] = {"n_estimators": 20, "epochs": 10, "n_models": 3, "num_epochs": 10}
N_TRAIN, N_TEST = 120, 60


def _lookup(name: str) -> Any:
    try:
        return PREDICTORS.get(name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] != "predictbench":
            pytest.skip(f"{name}: optional dependency missing ({err})")
        pytest.skip(f"{name}: not implemented yet ({err})")
    except (ImportError, AttributeError) as err:
        pytest.skip(f"{name}: not implemented yet ({err})")


def _fast_params(name: str, target: Any) -> dict[str, Any]:
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return {}
    wanted = FAST.get(name, FAST_COMMON)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):  # a factory passing **params on
        return dict(wanted) if name in FAST else {}
    accepted = {p.name for p in parameters}
    return {k: v for k, v in wanted.items() if k in accepted}


def _factory(name: str) -> Callable[[], Predictor]:
    params = _fast_params(name, _lookup(name))
    return lambda: make_predictor(name, **params)


def _run(factory: Callable[[], Predictor], *args: Any, **kwargs: Any) -> None:
    try:
        check_predictor(factory, *args, **kwargs)
    except ModuleNotFoundError as err:  # lazily imported optional dependency
        if err.name and err.name.split(".")[0] != "predictbench":
            pytest.skip(f"optional dependency missing ({err})")
        raise


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("toy"), n=N_TRAIN + N_TEST)


@pytest.fixture(scope="module")
def data(bench: TabularBenchmark) -> tuple[ArchBatch, np.ndarray, ArchBatch]:
    keys = bench.keys()
    train, test = keys[:N_TRAIN], keys[N_TRAIN:]
    return bench.batch(train), bench.lookup(train, "test_acc"), bench.batch(test)


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_predictor_conforms_on_arch_batches(name: str, data: tuple[ArchBatch, np.ndarray, ArchBatch]) -> None:
    X, y, X_test = data
    _run(_factory(name), X, y, X_test=X_test)


@pytest.mark.parametrize("name", PREDICTORS.names())
def test_feature_predictor_conforms_on_arrays(name: str, data: tuple[ArchBatch, np.ndarray, ArchBatch]) -> None:
    factory = _factory(name)
    if set(factory().needs) != {"features"}:
        pytest.skip(f"{name} does not read features only")
    X, y, X_test = data
    _run(factory, X.features("onehot"), y, X_test=X_test.features("onehot"))


@pytest.mark.parametrize("name", ["lgbm", "xgb"])
def test_omni_gbdt_conforms(name: str, data: tuple[ArchBatch, np.ndarray, ArchBatch]) -> None:
    X, y, X_test = data
    _run(lambda: make_predictor(name, proxies="all", n_estimators=20), X, y, X_test=X_test)


# ---- the toy benchmark ------------------------------------------------------------------------------------


def test_toy_benchmark_is_a_real_store(tmp_path: Path) -> None:
    from scipy.stats import spearmanr

    bench = toy_benchmark(tmp_path, n=200, seed=3)
    again = toy_benchmark(tmp_path / "again", n=200, seed=3)
    keys = bench.keys()
    assert len(bench) == 200 and len(set(keys)) == 200
    assert bench.proxy_names == list(TOY_PROXIES)
    assert np.array_equal(keys, again.keys())
    assert np.array_equal(bench.lookup(keys, "test_acc"), again.lookup(keys, "test_acc"))
    assert bench.search_metric is not None and bench.search_metric.fidelity == 12
    signal = toy_signal(bench.space.ops_array(keys))  # type: ignore[attr-defined]
    target = bench.lookup(keys, "test_acc")
    assert spearmanr(signal, target).statistic > 0.8
    proxies = bench.proxies(keys)
    strengths = [spearmanr(proxies[:, j], target).statistic for j in range(3)]
    assert strengths[0] > strengths[2] > 0.1, strengths
    assert bench.batch(keys[:5]).features("path").shape == (5, 155)


def test_toy_benchmark_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n must be"):
        toy_benchmark(tmp_path, n=1)
    with pytest.raises(ValueError, match="at most 3"):
        toy_benchmark(tmp_path, proxies=("a", "b", "c", "d"))


# ---- the suite catches broken predictors ------------------------------------------------------------------


class _Mutating(RidgePredictor):
    def fit(self, X: Any, y: np.ndarray) -> _Mutating:
        super().fit(X, y)
        np.asarray(y)[0] += 1.0  # writes into the caller's target
        return self


class _Noisy(RidgePredictor):
    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        noise = np.random.default_rng().normal(size=len(self.coef_))  # unseeded: not deterministic
        return np.asarray(super().predict(X) + np.asarray(X, dtype=float) @ noise * 1e-3)


class _BatchDependent(RidgePredictor):
    def predict(self, X: Any) -> np.ndarray:
        scores = super().predict(X)
        return scores - scores.mean()  # a cell's score depends on the rest of the batch


class _ValidatesInInit(RidgePredictor):
    def __init__(self, *, encoding: str = "onehot", alpha: float = 1.0) -> None:
        super().__init__(encoding=encoding, alpha=float(alpha))
        self.gram_ = None


class _WrongError(RidgePredictor):
    def predict(self, X: Any) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise AttributeError("coef_")
        return super().predict(X)


class _Leaky(RidgePredictor):
    def fit(self, X: Any, y: np.ndarray) -> _Leaky:
        if hasattr(self, "coef_"):  # warm start: keeps the first fit's state
            return self
        return super().fit(X, y)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (_Mutating, "mutated the target"),
        (_Noisy, "not deterministic|not repeatable"),
        (_BatchDependent, "depends on the batch"),
        (_ValidatesInInit, "only store its arguments"),
        (_WrongError, "must raise predictbench.NotFittedError"),
        (_Leaky, "does not reset learned state"),
    ],
)
def test_suite_catches_violations(cls: type, message: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((40, 5))
    y = X @ np.arange(5.0) + 0.01 * rng.standard_normal(40)
    with pytest.raises(AssertionError, match=message):
        check_predictor(cls, X, y)


def test_suite_accepts_instances_factories_and_default_data() -> None:
    check_predictor(RidgePredictor(alpha=0.5))
    check_predictor(lambda: RidgePredictor(alpha=0.5))
    with pytest.raises(ValueError, match="unfitted"):
        check_predictor(RidgePredictor().fit(np.eye(3), [1.0, 2.0, 3.0]), np.eye(3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="both X and y"):
        check_predictor(RidgePredictor, np.eye(3))
    with pytest.raises(NotFittedError):
        RidgePredictor().predict(np.eye(3))
