"""RoBoTPredictor (weights over normalised proxies fitted to the training ranking) and the shared normaliser."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks import TabularBenchmark
from predictbench.predictors import PREDICTORS
from predictbench.predictors.robot import FAILURE_SENTINEL, ProxyNormaliser, RoBoTPredictor, oriented
from predictbench.registry import UnknownNameError
from predictbench.studies.metrics import spearman_rho
from predictbench.testing import check_predictor, toy_benchmark
from predictbench.types import NotFittedError

if TYPE_CHECKING:
    from tests.predictors.conftest import ProxySourceCase


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("robot-predictor-toy"))


def test_registered_and_passes_the_conformance_suite() -> None:
    assert PREDICTORS.get("robot") is RoBoTPredictor
    check_predictor(lambda: RoBoTPredictor(n_trials=20))


def test_conformance_with_rank_normalisation_and_kendall(toy: TabularBenchmark) -> None:
    keys = toy.keys()
    check_predictor(
        lambda: RoBoTPredictor(proxies="all", n_trials=15, normalise="rank", objective="kendall_tau", seed=3),
        toy.batch(keys[:100]),
        toy.lookup(keys[:100], "test_acc"),
        X_test=toy.batch(keys[100:]),
    )


def test_default_proxies_are_robots_that_the_store_has(toy: TabularBenchmark) -> None:
    keys = toy.keys()
    model = RoBoTPredictor(n_trials=5).fit(toy.batch(keys[:50]), toy.lookup(keys[:50], "test_acc"))
    assert model.proxy_names_ == ["synflow", "jacov"]  # the toy has synflow, nwot, jacov
    assert model.weights_.shape == (2,) and (np.abs(model.weights_) <= 1).all()


def test_fit_finds_the_direction_the_target_needs(toy: TabularBenchmark) -> None:
    keys = toy.keys()
    train = toy.batch(keys[:120])
    target = -toy.proxies(train.keys, ["jacov"])[:, 0]  # a target ranked backwards by jacov
    model = RoBoTPredictor(proxies=["synflow", "jacov"], n_trials=60).fit(train, target)
    equal = spearman_rho(target, model.normaliser_.transform(oriented(train.proxies(["synflow", "jacov"]), 1.0)).sum(1))
    assert model.weights_[1] < 0 and model.train_score_ > max(0.9, equal)
    held_out = toy.batch(keys[120:])
    assert spearman_rho(-toy.proxies(held_out.keys, ["jacov"])[:, 0], model.predict(held_out)) > 0.9


def test_tiny_or_constant_targets_keep_equal_weights(toy: TabularBenchmark) -> None:
    keys = toy.keys()
    model = RoBoTPredictor(n_trials=5).fit(toy.batch(keys[:10]), np.full(10, 70.0))
    assert model.weights_.tolist() == [1.0, 1.0]
    assert RoBoTPredictor().fit(toy.batch(keys[:2]), np.array([1.0, 2.0])).weights_.tolist() == [1.0, 1.0]


def test_clear_errors(toy: TabularBenchmark, tmp_path: Path) -> None:
    keys = toy.keys()
    X, y = toy.batch(keys[:20]), toy.lookup(keys[:20], "test_acc")
    with pytest.raises(NotFittedError):
        RoBoTPredictor().predict(X)
    with pytest.raises(TypeError, match="reads zero-cost proxies from an ArchBatch"):
        RoBoTPredictor().fit(np.zeros((20, 3)), y)
    with pytest.raises(UnknownNameError, match="Did you mean 'jacov'"):
        RoBoTPredictor(proxies="jacob").fit(X, y)
    with pytest.raises(ValueError, match="objective must be one of"):
        RoBoTPredictor(objective="r2").fit(X, y)
    with pytest.raises(ValueError, match="n_trials must be an int >= 1"):
        RoBoTPredictor(n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="normalise must be one of"):
        RoBoTPredictor(normalise="zscore").fit(X, y)
    other = toy_benchmark(tmp_path, n=20, name="toy/no-robot", proxies=("nwot",))
    with pytest.raises(ValueError, match="has none of RoBoT's proxies"):
        RoBoTPredictor().fit(other.batch(other.keys()), other.lookup(other.keys(), "test_acc"))


def test_normaliser_minmax_rank_and_failures() -> None:
    values = oriented(np.array([[0.0, 5.0], [2.0, 5.0], [4.0, FAILURE_SENTINEL], [np.nan, 5.0]]), np.ones(2))
    minmax = ProxyNormaliser("minmax").fit(values).transform(values)
    assert minmax[:, 0].tolist() == [0.0, 0.5, 1.0, 0.0]  # missing -> 0, the worst
    assert minmax[:, 1].tolist() == [0.0, 0.0, 0.0, 0.0]  # constant proxy: no ranking; failure -> 0
    rank = ProxyNormaliser("rank").fit(values).transform(np.array([[3.0, 5.0]]))
    assert rank.tolist() == [[2 / 3, 0.5]]
    flipped = oriented(np.array([[1.0], [3.0]]), np.array([-1.0]))
    assert ProxyNormaliser().fit(flipped).transform(flipped)[:, 0].tolist() == [1.0, 0.0]


@pytest.mark.shared_data
def test_on_nb201_it_ranks_held_out_cells_better_than_its_single_proxies(nb201_tables_root: Path) -> None:
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    keys = bench.keys()[np.random.default_rng(0).permutation(len(bench))]
    train, test = bench.batch(keys[:100]), bench.batch(keys[100:2100])
    target = bench.lookup(test.keys, "test_acc")
    model = RoBoTPredictor(n_trials=60).fit(train, bench.lookup(train.keys, "test_acc"))
    ensemble = spearman_rho(target, model.predict(test))
    singles = {n: spearman_rho(target, np.nan_to_num(test.proxies([n])[:, 0], nan=-1e9)) for n in model.proxy_names_}
    assert ensemble > max(singles.values()), (ensemble, singles)


@pytest.mark.shared_data
def test_proxy_source_reads_another_stores_proxies(proxy_source_case: ProxySourceCase) -> None:
    own = RoBoTPredictor(n_trials=10).fit(proxy_source_case.cifar10.batch(proxy_source_case.keys), proxy_source_case.y)
    for sourced in proxy_source_case.fits_match_source(lambda **kw: RoBoTPredictor(n_trials=10, **kw)):
        assert sourced.proxy_names_ == own.proxy_names_  # RoBoT's proxies, which the stores themselves lack
