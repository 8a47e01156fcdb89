"""Predictor-guided (BANANAS-style) and comparator-guided (CTNAS-style) search."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks.tabular import ProxyTable
from predictbench.oracle import Oracle
from predictbench.predictors.base import Predictor
from predictbench.predictors.gbdt import LGBMPredictor
from predictbench.search import make_searcher, run_search
from predictbench.search.comparator import ComparatorGuidedSearch, win_probability
from predictbench.search.guided import (
    CachedBatch,
    Ensemble,
    PredictorGuidedSearch,
    acquire,
    resolve_predictor,
)
from predictbench.spaces import get_space

NB201 = get_space("nb201")
FAST = {"name": "lgbm", "n_estimators": 20, "num_leaves": 7, "min_child_samples": 2}


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def _run(name: str, bench: pb.benchmarks.TabularBenchmark, seed: int, budget: int, **options: Any) -> Oracle:
    return run_search(make_searcher(name, bench.space, seed=seed, **options), Oracle(bench, budget=budget, seed=seed))


class PairwiseLGBM(LGBMPredictor):
    """A stand-in comparator: P(a beats b) from LightGBM score differences; counts its pairwise calls."""

    calls: ClassVar[list[int]] = []

    def predict_proba_pairs(self, X_a: Any, X_b: Any) -> np.ndarray:
        assert len(X_a) == len(X_b)
        PairwiseLGBM.calls.append(len(X_a))
        return np.asarray(1.0 / (1.0 + np.exp(-(self.predict(X_a) - self.predict(X_b)))))


class MemberEnsemble(Predictor):
    """A predictor with its own ``predict_ensemble`` (members = shifted copies of a ridge-like fit)."""

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: Any, y: np.ndarray) -> MemberEnsemble:
        features = np.asarray(X.features("onehot"))
        self.coef_ = np.linalg.lstsq(features, y, rcond=None)[0]
        return self

    def predict_ensemble(self, X: Any) -> np.ndarray:
        base = np.asarray(X.features("onehot")) @ self.coef_
        return np.stack([base + shift for shift in (-1.0, 0.0, 1.0)])

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.predict_ensemble(X).mean(axis=0))


@pytest.mark.parametrize(
    "options",
    [
        {"acquisition": "its"},
        {"acquisition": "ucb", "batch_size": 4, "local_k": 1},
        {"acquisition": "greedy", "ensemble_size": 1, "n_candidates": 30},
    ],
)
def test_guided_search_queries_distinct_cells_deterministically(
    options: dict[str, Any], bench: pb.benchmarks.TabularBenchmark
) -> None:
    options = {"predictor": FAST, "ensemble_size": 3, **options}
    first = [q.arch.key for q in _run("guided", bench, 1, 30, **options).history]
    assert len(first) == len(set(first)) == 30
    assert [q.arch.key for q in _run("guided", bench, 1, 30, **options).history] == first
    assert [q.arch.key for q in _run("guided", bench, 2, 30, **options).history] != first


def test_bootstrap_ensembles_of_trees_are_not_identical_fits(bench: pb.benchmarks.TabularBenchmark) -> None:
    archs = NB201.sample(np.random.default_rng(0), 40)
    table = ProxyTable(NB201)
    X = CachedBatch(table.batch(np.array([a.key for a in archs], dtype=object)))
    y = bench.scores(archs, "baseline_accuracy")
    members = Ensemble(LGBMPredictor(n_estimators=20), size=4, rng=np.random.default_rng(0)).fit(X, y)
    predictions = members.predict_members(table.batch([a.key for a in NB201.sample(np.random.default_rng(1), 50)]))
    assert predictions.shape == (4, 50)
    assert predictions.std(axis=0).min() > 0  # Thompson sampling has a spread everywhere
    assert len({m.seed for m in members.members_}) == 4  # type: ignore[attr-defined]
    native = Ensemble(MemberEnsemble(), size=7, rng=np.random.default_rng(0)).fit(X, y)
    assert native.native and native.predict_members(X).shape == (3, 40)


def test_acquisitions() -> None:
    members = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 2.0]])
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(acquire(members, "greedy", rng), [0.0, 2.0, 2.0])
    np.testing.assert_allclose(acquire(members, "ucb", rng, beta=2.0), [0.0, 4.0, 2.0])
    draws = np.stack([acquire(members, "its", rng) for _ in range(200)])
    assert np.all(draws[:, [0, 2]] == [0.0, 2.0])  # no spread: the mean
    assert draws[:, 1].std() > 0.5
    with pytest.raises(ValueError, match="acquisition"):
        acquire(members, "ei", rng)


def test_guided_search_uses_a_native_ensemble(bench: pb.benchmarks.TabularBenchmark) -> None:
    search = PredictorGuidedSearch(NB201, seed=0, predictor=MemberEnsemble(), n_initial=8, n_candidates=20)
    run_search(search, Oracle(bench, budget=15))
    assert len(search.scores) == 15


def test_resolve_predictor_specs() -> None:
    assert isinstance(resolve_predictor(None), LGBMPredictor)
    assert resolve_predictor("ridge").__class__.__name__ == "RidgePredictor"
    assert resolve_predictor({"name": "lgbm", "n_estimators": 7}).get_params()["n_estimators"] == 7
    prototype = LGBMPredictor(n_estimators=3)
    clone = resolve_predictor(prototype)
    assert clone is not prototype and clone.get_params() == prototype.get_params()
    with pytest.raises(ValueError, match="'name'"):
        resolve_predictor({"n_estimators": 3})
    with pytest.raises(TypeError):
        resolve_predictor(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="acquisition"):
        PredictorGuidedSearch(NB201, acquisition="ei")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_candidates"):
        PredictorGuidedSearch(NB201, n_candidates=0)


def test_guided_search_beats_random_on_average(bench: pb.benchmarks.TabularBenchmark) -> None:
    options = {"predictor": FAST, "ensemble_size": 3, "batch_size": 5, "local_k": 1}
    seeds = range(6)
    guided = np.mean([_run("guided", bench, s, 60, **options).best().value for s in seeds])
    random = np.mean([_run("random", bench, s, 60).best().value for s in seeds])
    assert guided > random


def test_comparator_search_uses_pairwise_probabilities_against_the_incumbent(
    bench: pb.benchmarks.TabularBenchmark,
) -> None:
    PairwiseLGBM.calls.clear()
    search = ComparatorGuidedSearch(
        NB201, seed=0, predictor=PairwiseLGBM(n_estimators=20), n_initial=10, n_candidates=50, batch_size=5
    )
    oracle = run_search(search, Oracle(bench, budget=30))
    keys = [q.arch.key for q in oracle.history]
    assert len(keys) == len(set(keys)) == 30
    assert PairwiseLGBM.calls and set(PairwiseLGBM.calls) == {50}
    assert search.baseline is not None and search.scores[search.baseline.key] >= max(
        q.score for q in oracle.history[:25]
    )


def test_comparator_search_falls_back_to_score_differences(bench: pb.benchmarks.TabularBenchmark) -> None:
    first = [q.arch.key for q in _run("comparator", bench, 3, 25, predictor=FAST, batch_size=5).history]
    again = [q.arch.key for q in _run("comparator", bench, 3, 25, predictor=FAST, batch_size=5).history]
    assert first == again and len(set(first)) == 25
    model = LGBMPredictor(n_estimators=10).fit(
        NB201.encode("onehot", NB201.sample(np.random.default_rng(0), 30)), np.arange(30.0)
    )
    candidates = NB201.encode("onehot", NB201.sample(np.random.default_rng(1), 5))
    p = win_probability(model, candidates, candidates[:1], scale=1.0)
    assert p.shape == (5,) and np.all((p > 0) & (p < 1)) and p[0] == pytest.approx(0.5)


def test_model_searchers_beat_random_at_a_small_budget(bench: pb.benchmarks.TabularBenchmark) -> None:
    seeds = range(6)
    random = np.mean([_run("random", bench, s, 60).best().value for s in seeds])
    comparator = np.mean(
        [_run("comparator", bench, s, 60, predictor=FAST, batch_size=5, local_k=1).best().value for s in seeds]
    )
    assert comparator > random


def test_comparator_search_with_the_registered_comparator(bench: pb.benchmarks.TabularBenchmark) -> None:
    pytest.importorskip("torch")
    predictor = {"name": "comparator", "epochs": 5, "hidden": 16, "mlp_hidden": 16}
    search = ComparatorGuidedSearch(NB201, seed=0, predictor=predictor, n_initial=10, n_candidates=40)
    oracle = run_search(search, Oracle(bench, budget=20))
    assert len({q.arch.key for q in oracle.history}) == 20
    assert callable(getattr(search.predictor, "predict_proba_pairs", None))
    assert search.baseline is not None


def test_comparator_escape_scores_the_whole_space_when_nothing_nearby_wins(
    bench: pb.benchmarks.TabularBenchmark,
) -> None:
    PairwiseLGBM.calls.clear()
    search = ComparatorGuidedSearch(
        NB201, seed=0, predictor=PairwiseLGBM(n_estimators=20), n_initial=10, n_candidates=50, escape=1.0
    )
    oracle = run_search(search, Oracle(bench, budget=20))
    assert len({q.arch.key for q in oracle.history}) == 20
    # escape=1.0: no pool candidate reaches P(win) 1, so every step ranks all unproposed cells of the space
    assert search.escapes == 2
    assert max(PairwiseLGBM.calls) >= len(NB201) - 20
    with pytest.raises(ValueError, match="escape must be None or in"):
        ComparatorGuidedSearch(NB201, escape=1.5)
