"""Zero-cost proxy predictors: a tiny real-format store with a proxies table, and the shared NB201 tables."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, rankdata

import predictbench as pb
from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.predictors import make_predictor
from predictbench.predictors.zerocost import (
    OMNI_LGBM_DEFAULTS,
    LearnedEnsemblePredictor,
    OmniPredictor,
    ProxyPredictor,
    ProxyScaler,
    RankEnsemblePredictor,
    omni_lgbm,
)
from predictbench.spaces.nb201 import NB201Space
from predictbench.types import Metric, NotFittedError, UnknownNameError

N_CELLS = 240
N_TRAIN = 150
#: proxy -> declared higher_is_better
PROXIES = {"good": True, "cost": False, "flipped": True, "holey": True, "noise": True, "tied": True}


def _tiny_store(root: Path) -> TabularBenchmark:
    """N_CELLS dead-op-free NB201 cells (so proxy filling never applies) with a known target and proxies.

    good: the signal plus noise; cost: declared lower-is-better, minus the signal; flipped: declared
    higher-is-better but anti-correlated (like Suite-Zero's ``plain``); holey: the signal with NaN holes;
    noise: unrelated; tied: the signal rounded to 4 levels (many ties).
    """
    rng = np.random.default_rng(7)
    space = NB201Space()
    indices = np.sort(rng.choice(np.flatnonzero(space.dead_op_free_mask()), N_CELLS, replace=False))
    keys = np.array([a.key for a in space.from_index(indices)], dtype=object)
    signal = rng.standard_normal(N_CELLS)
    target = 80 + 5 * signal + 0.5 * rng.standard_normal(N_CELLS)
    holey = signal + 0.3 * rng.standard_normal(N_CELLS)
    holey[:40] = np.nan
    values = {
        "good": 100 + 10 * signal + 3 * rng.standard_normal(N_CELLS),
        "cost": -3 * signal + rng.standard_normal(N_CELLS),
        "flipped": -signal + 0.5 * rng.standard_normal(N_CELLS),
        "holey": holey,
        "noise": rng.standard_normal(N_CELLS),
        "tied": np.digitize(signal, [-0.5, 0.0, 0.5]).astype(float),
    }
    metrics = {"test_acc": Metric("test_acc", True, "%", "objective", 0.0, 100.0)}
    metrics.update({name: Metric(name, hib, "", "proxy") for name, hib in PROXIES.items()})
    meta = StoreMeta(
        name="tiny-zc/cifar10",
        space="nb201",
        task="cifar10",
        metrics=metrics,
        fidelities=(200,),
        default_fidelity=200,
        report=MetricRef("test_acc", 200),
    )
    results = pd.DataFrame({"key": keys, "seed": -1, "fidelity": 200, "test_acc": target})
    archs = pd.DataFrame({"key": keys, "index": indices.astype(np.int64)})
    proxies = pd.DataFrame({"key": keys, **values})
    return TabularBenchmark.from_path(write_store(root, meta, archs, results, proxies))


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return _tiny_store(tmp_path_factory.mktemp("zc"))


@pytest.fixture(scope="module")
def split(bench: TabularBenchmark) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    keys = bench.keys()
    train, test = bench.batch(keys[:N_TRAIN]), bench.batch(keys[N_TRAIN:])
    return train, bench.lookup(train.keys, "test_acc"), test, bench.lookup(test.keys, "test_acc")


def _tau(scores: np.ndarray, target: np.ndarray) -> float:
    return float(kendalltau(scores, target).statistic)


def _column(batch: Any, name: str) -> np.ndarray:
    return np.asarray(batch.proxies([name]))[:, 0]


# ---- ProxyPredictor ---------------------------------------------------------------------------------------


def test_proxy_predictor_ranks_by_the_proxy(split: Any) -> None:
    X, y, X_test, y_test = split
    model = ProxyPredictor(proxy="good")
    with pytest.raises(NotFittedError):
        model.predict(X_test)
    assert model.fit(X, y) is model
    assert np.array_equal(model.predict(X_test), _column(X_test, "good"))
    assert _tau(model.predict(X_test), y_test) > 0.6
    assert model.sign_ == 1.0 and model.train_spearman_ is None


def test_proxy_predictor_respects_the_declared_direction(split: Any) -> None:
    X, y, X_test, y_test = split
    cost = ProxyPredictor(proxy="cost").fit(X, y)
    assert cost.sign_ == -1.0
    assert np.array_equal(cost.predict(X_test), -_column(X_test, "cost"))
    assert _tau(cost.predict(X_test), y_test) > 0.5
    # the sign is never learned unless asked: a wrongly declared proxy ranks backwards
    assert _tau(ProxyPredictor(proxy="flipped").fit(X, y).predict(X_test), y_test) < -0.4


def test_proxy_predictor_sign_override_and_learned_sign(split: Any) -> None:
    X, y, X_test, y_test = split
    assert np.array_equal(ProxyPredictor(proxy="cost", sign=1).fit(X, y).predict(X_test), _column(X_test, "cost"))
    assert np.array_equal(ProxyPredictor(proxy="good", sign=-1).fit(X, y).predict(X_test), -_column(X_test, "good"))
    learned = ProxyPredictor(proxy="flipped", sign="learn").fit(X, y)
    assert learned.sign_ == -1.0 and learned.declared_sign_ == 1.0
    assert learned.train_spearman_ is not None and learned.train_spearman_ < -0.5
    assert _tau(learned.predict(X_test), y_test) > 0.4
    assert ProxyPredictor(proxy="good", sign="learn").fit(X, y).sign_ == 1.0
    # a constant target gives no Spearman sign: the declared one is kept
    assert ProxyPredictor(proxy="cost", sign="learn").fit(X, np.ones(len(X))).sign_ == -1.0


def test_proxy_predictor_missing_values_rank_last(split: Any) -> None:
    X, y, _, _ = split
    model = ProxyPredictor(proxy="holey").fit(X, y)
    scores = model.predict(X)
    missing = np.isnan(_column(X, "holey"))
    assert missing.sum() == 40 and np.isfinite(scores).all()
    assert scores[missing].max() < scores[~missing].min()


def test_proxy_predictor_rejects_bad_input(split: Any) -> None:
    X, y, _, _ = split
    with pytest.raises(UnknownNameError, match="Did you mean 'good'"):
        ProxyPredictor(proxy="goood").fit(X, y)
    with pytest.raises(ValueError, match="sign must be"):
        ProxyPredictor(proxy="good", sign=2).fit(X, y)
    with pytest.raises(ValueError, match="sign must be"):
        ProxyPredictor(proxy="good", sign="auto").fit(X, y)
    with pytest.raises(TypeError, match="ArchBatch"):
        ProxyPredictor(proxy="good").fit(np.zeros((5, 3)), np.arange(5.0))
    with pytest.raises(ValueError, match="proxy must be one proxy name"):
        ProxyPredictor(proxy=("good", "cost")).fit(X, y)  # type: ignore[arg-type]


# ---- RankEnsemblePredictor --------------------------------------------------------------------------------


def test_rank_ensemble_is_the_mean_of_mid_ranks(split: Any) -> None:
    X, y, _, _ = split
    names = ("good", "cost", "tied")
    model = RankEnsemblePredictor(proxies=names, reference="train").fit(X, y)
    values = np.asarray(X.proxies(list(names))) * np.array([1.0, -1.0, 1.0])
    expected = np.mean([(rankdata(values[:, j]) - 0.5) / len(X) for j in range(3)], axis=0)
    assert np.allclose(model.predict(X), expected)
    # one proxy with full weight is that proxy's ranking
    only_good = RankEnsemblePredictor(proxies=names, weights=(1.0, 0.0, 0.0), reference="train").fit(X, y)
    assert np.allclose(only_good.predict(X), (rankdata(values[:, 0]) - 0.5) / len(X))


def test_rank_ensemble_handles_missing_values(split: Any) -> None:
    X, y, X_test, y_test = split
    model = RankEnsemblePredictor(proxies=("holey", "good"), reference="train").fit(X, y)
    scores = model.predict(X)
    holey = _column(X, "holey")
    missing = np.isnan(holey)
    good_rank = (rankdata(_column(X, "good")) - 0.5) / len(X)
    assert np.isfinite(scores).all()
    assert np.allclose(scores[missing], good_rank[missing])  # the mean over the proxies a cell has
    only_holey = RankEnsemblePredictor(proxies=("holey",)).fit(X, y).predict(X)
    assert np.all(only_holey[missing] == 0.0) and only_holey[~missing].min() > 0.0  # no value at all: worst
    assert _tau(model.predict(X_test), y_test) > 0.5


def test_rank_ensemble_scores_do_not_depend_on_the_batch(split: Any) -> None:
    X, y, X_test, _ = split
    model = RankEnsemblePredictor(proxies=("good", "cost", "holey")).fit(X, y)
    scores = model.predict(X_test)
    assert np.allclose(model.predict(X_test.subset([3])), scores[3:4])
    assert np.allclose(model.predict(X_test.subset(np.arange(len(X_test))[::-1])), scores[::-1])


def test_rank_ensemble_validates(split: Any) -> None:
    X, y, _, _ = split
    with pytest.raises(ValueError, match="weights must be 2"):
        RankEnsemblePredictor(proxies=("good", "cost"), weights=(1.0,)).fit(X, y)
    with pytest.raises(ValueError, match="not all be zero"):
        RankEnsemblePredictor(proxies=("good", "cost"), weights=(0.0, 0.0)).fit(X, y)
    with pytest.raises(UnknownNameError):
        RankEnsemblePredictor().fit(X, y)  # the default ensemble names proxies this store lacks
    with pytest.raises(ValueError, match="reference"):
        RankEnsemblePredictor(proxies="good", reference="test").fit(X, y)
    with pytest.raises(ValueError, match="duplicate"):
        RankEnsemblePredictor(proxies=("good", "good")).fit(X, y)


# ---- LearnedEnsemblePredictor -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params", [{}, {"transform": "standard"}, {"model": "lgbm", "model_params": {"n_estimators": 50}}]
)
def test_learned_ensemble_beats_the_worst_single_proxy(split: Any, params: dict[str, Any]) -> None:
    X, y, X_test, y_test = split
    singles = {p: _tau(ProxyPredictor(proxy=p).fit(X, y).predict(X_test), y_test) for p in PROXIES}
    model = LearnedEnsemblePredictor(**params).fit(X, y)
    assert model.proxy_names_ == list(PROXIES)
    learned = _tau(model.predict(X_test), y_test)
    assert learned > min(singles.values()) + 0.5
    assert learned > 0.6, (learned, singles)


def test_learned_ensemble_validates(split: Any) -> None:
    X, y, _, _ = split
    with pytest.raises(ValueError, match="transform"):
        LearnedEnsemblePredictor(transform="none").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        LearnedEnsemblePredictor(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="features only"):
        LearnedEnsemblePredictor(model="proxy-rank-ensemble").fit(X, y)


# ---- OmniPredictor / omni_lgbm ----------------------------------------------------------------------------


def test_omni_feature_count_and_quality(split: Any) -> None:
    X, y, X_test, y_test = split
    model = make_predictor("omni-lgbm", n_estimators=100)
    assert isinstance(model, OmniPredictor) and model.needs == frozenset({"features", "proxies"})
    model.fit(X, y)
    assert model.n_features_in_ == 30 + len(PROXIES)  # NB201 one-hot (6 edges x 5 ops) + every proxy
    assert _tau(model.predict(X_test), y_test) > 0.6
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(X_test), model.predict(X_test))
    only = OmniPredictor(encoding=None, proxies=("good", "cost"), base_params={"n_estimators": 20}).fit(X, y)
    assert only.n_features_in_ == 2
    path = OmniPredictor(encoding="path", proxies="good", prior_alpha=None, base="ridge").fit(X, y)
    assert path.n_features_in_ == 155 + 1 and path.prior_ is None


def test_omni_lgbm_routes_parameters() -> None:
    model = omni_lgbm(n_estimators=50, prior_alpha=None, seed=3)
    assert model.base == "lgbm" and model.prior_alpha is None and model.seed == 3
    assert model.base_params == {**OMNI_LGBM_DEFAULTS, "n_estimators": 50}
    assert model.clone().get_params() == model.get_params()
    assert omni_lgbm(base_params={"num_leaves": 7}).base_params == {**OMNI_LGBM_DEFAULTS, "num_leaves": 7}


def test_omni_validates(split: Any) -> None:
    X, y, _, _ = split
    with pytest.raises(ValueError, match="seed"):
        OmniPredictor(base_params={"seed": 1}).fit(X, y)
    with pytest.raises(ValueError, match="target"):
        OmniPredictor(target="log").fit(X, y)
    with pytest.raises(TypeError, match="ArchBatch"):
        OmniPredictor().fit(np.zeros((4, 30)), np.arange(4.0))


def test_proxy_scaler() -> None:
    scaler = ProxyScaler("rank").fit(np.array([[1.0, 5.0], [2.0, 5.0], [2.0, np.nan], [4.0, 5.0]]))
    out = scaler.transform(np.array([[2.0, 5.0], [9.0, 1.0], [np.nan, 6.0]]))
    assert np.allclose(out[0], [0.5, 0.5]) and np.allclose(out[1], [1.0, 0.0])
    assert np.isnan(out[2, 0]) and out[2, 1] == 1.0
    assert scaler.filled(np.array([[np.nan, np.nan]])).tolist() == [[0.0, 0.0]]
    with pytest.raises(ValueError, match="transform must be"):
        ProxyScaler("quantile")


# ---- the shared NB201 tables (real Suite-Zero proxies) ----------------------------------------------------


@pytest.fixture(scope="module")
def nb201(shared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    from predictbench.benchmarks.convert.nb201_tables import convert

    root = tmp_path_factory.mktemp("nb201")
    convert(shared_data_dir, root=root, datasets=("cifar10",))
    return pb.load("nb201/cifar10", root=root)


@pytest.mark.shared_data
def test_real_proxies_rank_nb201(nb201: TabularBenchmark) -> None:
    rng = np.random.default_rng(0)
    rows = rng.permutation(len(nb201))
    keys = nb201.keys()
    train, test = nb201.batch(keys[rows[:300]]), nb201.batch(keys[rows[300:1300]])
    y, y_test = nb201.lookup(train.keys, "test_acc"), nb201.lookup(test.keys, "test_acc")
    assert len([name for name in nb201.proxy_names if not name.endswith("_live")]) == 14  # + the shipped table's
    synflow = _tau(ProxyPredictor(proxy="synflow").fit(train, y).predict(test), y_test)
    plain = ProxyPredictor(proxy="plain").fit(train, y)
    plain_learned = ProxyPredictor(proxy="plain", sign="learn").fit(train, y)
    assert synflow > 0.5
    assert _tau(plain.predict(test), y_test) < 0 < _tau(plain_learned.predict(test), y_test)
    ensemble = _tau(RankEnsemblePredictor().fit(train, y).predict(test), y_test)
    assert ensemble > 0.65
    omni = OmniPredictor(base_params={"n_estimators": 200, "learning_rate": 0.05}).fit(train, y)
    assert omni.n_features_in_ == 30 + 14
    assert _tau(omni.predict(test), y_test) > ensemble


@pytest.mark.shared_data
def test_proxy_source_reads_another_stores_proxies(nb201_tables_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDICTBENCH_DATA", str(nb201_tables_root))
    cifar100, cifar10 = pb.load("nb201/cifar100"), pb.load("nb201/cifar10")
    # no Suite-Zero table for cifar100 (only zen, and the shipped table's <proxy>_live columns)
    assert [name for name in cifar100.proxy_names if not name.endswith("_live")] == ["zen"]
    keys = cifar100.keys()[:150]
    y = cifar100.lookup(keys, "test_acc")
    with pytest.raises(UnknownNameError, match="jacov"):
        RankEnsemblePredictor().fit(cifar100.batch(keys), y)
    for model in (
        ProxyPredictor(proxy="synflow"),
        RankEnsemblePredictor(),
        LearnedEnsemblePredictor(),
        omni_lgbm(n_estimators=20),
    ):
        sourced = model.clone().set_params(proxy_source="nb201/cifar10").fit(cifar100.batch(keys), y)
        own = model.clone().fit(cifar10.batch(keys), y)
        assert np.array_equal(sourced.predict(cifar100.batch(keys[:40])), own.predict(cifar10.batch(keys[:40])))
    with pytest.raises(ValueError, match="proxy_source must be the name of a converted store"):
        RankEnsemblePredictor(proxy_source=3).fit(cifar100.batch(keys), y)  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError, match="Did you mean 'nb201/cifar10'"):
        RankEnsemblePredictor(proxy_source="nb201/cifar1O").fit(cifar100.batch(keys), y)
