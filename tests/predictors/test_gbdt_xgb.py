"""XGBPredictor, and the "omni" proxies option of both GBDT predictors."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from scipy.stats import kendalltau

from predictbench.benchmarks import TabularBenchmark
from predictbench.predictors import make_predictor
from predictbench.predictors.gbdt import LGBMPredictor, XGBPredictor
from predictbench.testing import TOY_PROXIES, toy_benchmark
from predictbench.types import UnknownNameError

if TYPE_CHECKING:
    from tests.predictors.conftest import ProxySourceCase


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


@pytest.mark.parametrize("objective", ["regression", "rank:pairwise"])
def test_xgb_ranks_a_learnable_target(objective: str) -> None:
    X, y = _data()
    model = XGBPredictor(objective=objective).fit(X[:300], y[:300])
    assert _tau(model, X[300:], y[300:]) > 0.6


def test_xgb_ranks_nb201_cells(bench: TabularBenchmark) -> None:
    keys = bench.keys()
    y = bench.lookup(keys, "test_acc")
    model = make_predictor("xgb").fit(bench.batch(keys[:200]), y[:200])
    assert _tau(model, bench.batch(keys[200:]), y[200:]) > 0.6


def test_xgb_regression_predicts_in_target_units() -> None:
    X, y = _data()
    pred = XGBPredictor(n_estimators=200).fit(X, y + 1000.0).predict(X)
    assert abs(pred.mean() - (y.mean() + 1000.0)) < 0.5


def test_xgb_is_deterministic_and_pickles() -> None:
    X, y = _data(200)
    a = XGBPredictor(seed=3).fit(X, y)
    b = XGBPredictor(seed=3).fit(X, y)
    assert np.array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict(X), XGBPredictor(seed=4).fit(X, y).predict(X))  # subsampling is seeded
    copy = pickle.loads(pickle.dumps(a))
    assert np.array_equal(copy.predict(X), a.predict(X))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": "huber"}, "objective must be one of"),
        ({"n_estimators": 0}, "n_estimators must be an int >= 1"),
        ({"max_depth": 0}, "max_depth must be an int >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"subsample": 1.5}, r"subsample must be in \(0, 1\]"),
        ({"colsample_bytree": 0.0}, r"colsample_bytree must be in \(0, 1\]"),
        ({"min_child_weight": -1.0}, "min_child_weight must be >= 0"),
        ({"n_jobs": 0}, "n_jobs must be an int >= 1"),
        ({"seed": -1}, "seed must be a non-negative int"),
    ],
)
def test_xgb_rejects_bad_parameters(params: dict[str, Any], message: str) -> None:
    X, y = _data(50)
    model = XGBPredictor(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_xgb_rejects_wrong_feature_count() -> None:
    X, y = _data(50)
    model = XGBPredictor(n_estimators=5).fit(X, y)
    with pytest.raises(ValueError, match="expected 12 features, got 11"):
        model.predict(X[:, :11])


# ---- omni: proxies as extra features ----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LGBMPredictor, XGBPredictor])
@pytest.mark.parametrize(
    ("proxies", "extra"), [(None, 0), ("synflow", 1), (("synflow", "jacov"), 2), ("all", len(TOY_PROXIES))]
)
def test_omni_features_add_one_column_per_proxy(bench: TabularBenchmark, cls: type, proxies: Any, extra: int) -> None:
    keys = bench.keys()[:80]
    y = bench.lookup(keys, "test_acc")
    model = cls(proxies=proxies, n_estimators=5).fit(bench.batch(keys), y)
    assert model.n_features_in_ == 30 + extra
    if proxies is None:
        assert model.proxy_names_ is None
    else:
        expected = list(TOY_PROXIES) if proxies == "all" else [proxies] if isinstance(proxies, str) else list(proxies)
        assert model.proxy_names_ == expected
    assert model.needs == (frozenset({"features"}) if proxies is None else frozenset({"features", "proxies"}))
    assert cls.needs == frozenset({"features", "proxies"})  # the class declares everything it may read


@pytest.mark.parametrize("cls", [LGBMPredictor, XGBPredictor])
def test_omni_features_help_at_small_training_sizes(bench: TabularBenchmark, cls: type) -> None:
    keys = bench.keys()
    y = bench.lookup(keys, "test_acc")
    train, test = bench.batch(keys[:60]), bench.batch(keys[160:])
    plain = _tau(cls().fit(train, y[:60]), test, y[160:])
    omni = _tau(cls(proxies="all").fit(train, y[:60]), test, y[160:])
    assert omni > plain + 0.1 and omni > 0.7, (plain, omni)


def test_lgbm_without_proxies_is_unchanged_on_batches_and_arrays(bench: TabularBenchmark) -> None:
    keys = bench.keys()[:100]
    y = bench.lookup(keys, "test_acc")
    batch = bench.batch(keys)
    on_batch = LGBMPredictor(n_estimators=20).fit(batch, y).predict(batch)
    features = batch.features("onehot")
    on_array = LGBMPredictor(n_estimators=20).fit(features, y).predict(features)
    assert np.array_equal(on_batch, on_array)


@pytest.mark.parametrize("cls", [LGBMPredictor, XGBPredictor])
def test_omni_errors_are_clear(bench: TabularBenchmark, cls: type, tmp_path: Path) -> None:
    keys = bench.keys()[:40]
    y = bench.lookup(keys, "test_acc")
    with pytest.raises(ValueError, match="reads proxies from an ArchBatch"):
        cls(proxies="all").fit(bench.batch(keys).features("onehot"), y)
    with pytest.raises(ValueError, match="proxies must be None, 'all'"):
        cls(proxies=()).fit(bench.batch(keys), y)
    with pytest.raises(UnknownNameError, match="synflw"):
        cls(proxies="synflw").fit(bench.batch(keys), y)
    no_proxies = toy_benchmark(tmp_path, n=40, proxies=())
    with pytest.raises(ValueError, match="has no proxies table"):
        cls(proxies="all").fit(no_proxies.batch(), y)
    fitted = cls(proxies="synflow", n_estimators=5).fit(bench.batch(keys), y)
    with pytest.raises(ValueError, match="predict needs an ArchBatch"):
        fitted.predict(bench.batch(keys).features("onehot"))


# ---- proxy_source: the proxies of another store of the same space ---------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("cls", [LGBMPredictor, XGBPredictor])
def test_proxy_source_reads_another_stores_proxies(cls: type, proxy_source_case: ProxySourceCase) -> None:
    for sourced in proxy_source_case.fits_match_source(lambda **kw: cls(proxies="all", n_estimators=20, **kw)):
        assert sourced.proxy_names_ == list(proxy_source_case.cifar10.proxy_names)  # the source's "all"


@pytest.mark.parametrize("cls", [LGBMPredictor, XGBPredictor])
def test_proxy_source_without_proxies_is_an_error(bench: TabularBenchmark, cls: type) -> None:
    keys = bench.keys()[:40]
    with pytest.raises(ValueError, match="proxy_source='nb201/cifar10' reads proxies, but proxies=None"):
        cls(proxy_source="nb201/cifar10").fit(bench.batch(keys), bench.lookup(keys, "test_acc"))
