"""RoBoTSearch: distinct-query accounting, the greedy phase, determinism, clear errors, cross-dataset signal.

Most tests run on the toy benchmark (300 real NB201 cells, synthetic target and proxies, real store format);
the tests marked ``shared_data`` run on the NB201 stores converted from the shared tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks import ProxyTable, TabularBenchmark
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.oracle import Oracle
from predictbench.registry import UnknownNameError
from predictbench.search import SEARCHERS, make_searcher, run_search
from predictbench.search.robot import RoBoTSearch
from predictbench.search.robot_plus import RoBoTPlusSearch
from predictbench.spaces import get_space
from predictbench.studies.search_study import SearchStudy
from predictbench.testing import toy_benchmark
from predictbench.types import Metric

FAST = {"sampler": "tpe", "n_startup_trials": 3, "n_bo_queries": None}  # BO phase = n_bo_trials trials


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("robot-toy"))


def _run(bench: TabularBenchmark, budget: int, seed: int = 0, **options: object) -> tuple[RoBoTSearch, Oracle]:
    search = RoBoTSearch(bench.space, seed=seed, inputs=ProxyTable.of(bench), **{**FAST, **options})  # type: ignore[arg-type]
    return search, run_search(search, Oracle(bench, budget=budget, seed=seed))


def test_registered_and_declares_that_it_needs_proxies() -> None:
    assert SEARCHERS.get("robot") is RoBoTSearch
    assert RoBoTSearch.needs == frozenset({"proxies"})


def test_only_distinct_queries_count_and_repeated_tops_are_free(toy: TabularBenchmark) -> None:
    search, oracle = _run(toy, budget=20, n_bo_trials=15)
    keys = [q.arch.key for q in oracle.history]
    assert len(keys) == 20 == len(set(keys)) == oracle.queries
    assert len(search.trials) == 15  # every BO trial ran ...
    free = [t for t in search.trials if not t.charged]
    assert free and search.t0 == 15 - len(free) < 15  # ... but repeated top cells were not charged
    bo_keys = [t.arch.key for t in search.trials if t.charged]
    assert keys[: search.t0] == bo_keys  # the BO phase's distinct queries come first, in trial order
    values = {q.arch.key: q.score for q in oracle.history}
    assert all(t.score == values[t.arch.key] for t in search.trials)  # a free trial reuses the known value


def test_each_trial_queries_the_top_scoring_cell_of_its_weights(toy: TabularBenchmark) -> None:
    search, _ = _run(toy, budget=12, n_bo_trials=8)
    for trial in search.trials:
        scores = search.pool_scores(trial.weights)
        assert trial.arch == search.pool[int(np.argmax(scores))]
        assert all(-1.0 <= w <= 1.0 for w in trial.weights)


def test_greedy_phase_follows_the_latest_best_weights(toy: TabularBenchmark) -> None:
    search, oracle = _run(toy, budget=25, n_bo_trials=10)
    best = max(t.score for t in search.trials)
    latest_best = [t for t in search.trials if t.score == best][-1]
    assert search.weights == dict(zip(search.proxy_names, latest_best.weights, strict=True))
    bo_keys = {t.arch.key for t in search.trials}
    ranking = [search.pool[int(i)] for i in np.argsort(-search.pool_scores(), kind="stable")]
    expected = [a.key for a in ranking if a.key not in bo_keys][: 25 - search.t0]
    assert [q.arch.key for q in oracle.history[search.t0 :]] == expected


def test_without_bo_trials_it_queries_the_top_of_the_equal_weight_sum(toy: TabularBenchmark) -> None:
    search, oracle = _run(toy, budget=7, n_bo_trials=0)
    z = search.pool_scores(np.ones(len(search.proxy_names)))
    assert [q.arch for q in oracle.history] == [search.pool[int(i)] for i in np.argsort(-z, kind="stable")[:7]]
    assert search.trials == [] and search.t0 == 0


def test_warm_start_is_the_first_trial(toy: TabularBenchmark) -> None:
    search, _ = _run(toy, budget=5, n_bo_trials=3, warm_start={"synflow": 1.0, "jacov": -0.5})
    assert search.trials[0].weights == (1.0, -0.5)  # proxy order: RoBoT's (synflow before jacov)


def test_deterministic_per_seed_and_different_across_seeds(toy: TabularBenchmark) -> None:
    runs = [[q.arch.key for q in _run(toy, budget=15, seed=3)[1].history] for _ in range(2)]
    assert runs[0] == runs[1]
    weights = [_run(toy, budget=15, seed=s)[0].trials[0].weights for s in (3, 4)]
    assert weights[0] != weights[1]


def test_spends_any_budget_on_distinct_cells_deterministically(toy: TabularBenchmark) -> None:
    # the contract tests/search/test_searchers.py checks for proxy-free searchers, here with proxies
    histories = []
    for seed in (5, 5, 6):
        search = make_searcher("robot", toy.space, seed=seed, inputs=ProxyTable.of(toy), **FAST)
        oracle = run_search(search, Oracle(toy, budget=60, seed=1))
        keys = [q.arch.key for q in oracle.history]
        assert len(keys) == 60 == len(set(keys))
        histories.append(keys)
    assert histories[0] == histories[1] != histories[2]


def test_the_whole_pool_can_be_spent(toy: TabularBenchmark) -> None:
    _, oracle = _run(toy, budget=300, n_bo_trials=2)
    assert oracle.queries == 300 == len(toy)  # every toy cell, each once


def test_inputs_by_store_folder_give_the_same_run(toy: TabularBenchmark) -> None:
    by_table = _run(toy, budget=10)[1]
    search = RoBoTSearch(toy.space, seed=0, inputs=str(toy.path), **FAST)  # type: ignore[arg-type]
    by_path = run_search(search, Oracle(toy, budget=10, seed=0))
    assert [q.arch for q in by_path.history] == [q.arch for q in by_table.history]


def test_search_study_runs_it_with_json_options(toy: TabularBenchmark, tmp_path: Path) -> None:
    options = {"inputs": str(toy.path), "n_bo_trials": 5, **FAST}
    frame = SearchStudy(toy, {"robot": options}, results=tmp_path / "r.jsonl", budget=10, seeds=2).run()
    assert len(frame) == 2 and (frame["queries"] == 10).all()


@pytest.mark.torch  # optuna's GPSampler is written in torch
def test_gp_sampler_runs(toy: TabularBenchmark) -> None:
    search, oracle = _run(toy, budget=5, n_bo_trials=3, sampler="gp", n_startup_trials=2)
    assert len(search.trials) == 3 and oracle.queries == 5


def _no_robot_proxies(root: Path) -> TabularBenchmark:
    return toy_benchmark(root, n=20, name="toy/other-proxies", proxies=("nwot", "zen"))


def test_clear_errors(toy: TabularBenchmark, tmp_path: Path) -> None:
    space = toy.space
    table = ProxyTable.of(toy)
    with pytest.raises(ValueError, match="needs zero-cost proxies: pass inputs="):
        RoBoTSearch(space)
    with pytest.raises(ValueError, match="has none"):
        RoBoTSearch(space, inputs=ProxyTable(space))
    with pytest.raises(ValueError, match="none of RoBoT's proxies .*it has \\['nwot', 'zen'\\]"):
        RoBoTSearch(space, inputs=ProxyTable.of(_no_robot_proxies(tmp_path)))
    with pytest.raises(UnknownNameError, match="Did you mean 'synflow'"):
        RoBoTSearch(space, inputs=table, proxies=["synflwo"])
    with pytest.raises(ValueError, match="sampler must be one of"):
        RoBoTSearch(space, inputs=table, sampler="cma")
    with pytest.raises(ValueError, match="n_bo_trials must be an int >= 0"):
        RoBoTSearch(space, inputs=table, n_bo_trials=-1)
    with pytest.raises(ValueError, match="candidates must be one of"):
        RoBoTSearch(space, inputs=table, candidates="some")
    with pytest.raises(ValueError, match="warm_start weights must lie in \\[-1, 1\\]"):
        RoBoTSearch(space, inputs=table, warm_start=[2.0, 0.0])
    with pytest.raises(ValueError, match="warm_start needs 2 weights"):
        RoBoTSearch(space, inputs=table, warm_start=[1.0])
    with pytest.raises(ValueError, match="not among the proxies"):
        RoBoTSearch(space, inputs=table, warm_start={"nwot": 1.0})
    with pytest.raises(TypeError, match="inputs must be a ProxyTable"):
        RoBoTSearch(space, inputs=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not the searched space 'nats-sss'"):
        RoBoTSearch(get_space("nats-sss"), inputs=table)


def _nats_sss_store(root: Path) -> TabularBenchmark:
    keys = [a.key for a in get_space("nats-sss").sample(np.random.default_rng(0), 4)]
    meta = StoreMeta(
        name="toy/sss",
        space="nats-sss",
        task="cifar10",
        metrics={"acc": Metric("acc", True, "%", "objective", 0, 100)},
        fidelities=(12,),
        default_fidelity=12,
        seeds=(-1,),
        search=MetricRef("acc", 12),
        report=MetricRef("acc", 12),
    )
    results = pd.DataFrame({"key": keys, "seed": -1, "fidelity": 12, "acc": [1.0, 2.0, 3.0, 4.0]})
    return TabularBenchmark.from_path(write_store(root, meta, pd.DataFrame({"key": keys}), results))


def test_oracle_signal_from_another_store_must_share_the_space(toy: TabularBenchmark, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="signal store 'toy/sss' is of space 'nats-sss'"):
        Oracle(toy, signal=_nats_sss_store(tmp_path))


# ---- RoBoT-plus ---------------------------------------------------------------------------------------------


def test_robot_plus_queries_the_prior_top_then_the_surrogate_argmax(toy: TabularBenchmark) -> None:
    assert SEARCHERS.get("robot-plus") is RoBoTPlusSearch
    search = RoBoTPlusSearch(toy.space, inputs=ProxyTable.of(toy), n_prior=3)
    assert search.proxy_names == ["jacov", "nwot", "synflow"] and search.n_bo_trials == 0
    oracle = Oracle(toy, budget=8, seed=0)
    prior = [search.pool[int(i)] for i in np.argsort(-search.pool_scores(), kind="stable")[:3]]
    first = search.ask(3)
    assert first == prior
    search.tell(first, oracle.evaluate(first))
    for _ in range(5):
        rows = np.array([i for i, a in enumerate(search.pool) if a.key in search.scores])
        y = np.array([search.scores[search.pool[i].key] for i in rows])
        design = search._design - search._design[rows].mean(axis=0)
        X = design[rows]
        w = np.linalg.solve(X.T @ X + np.eye(X.shape[1]), X.T @ ((y - y.mean()) / y.std()))
        prior_score = search.pool_scores()
        expected = design @ w + (prior_score - prior_score[rows].mean()) / prior_score[rows].std()
        assert np.allclose(search.surrogate_scores(), expected)
        expected[rows] = -np.inf
        arch = search.ask(1)
        assert arch == [search.pool[int(np.argmax(expected))]]
        search.tell(arch, oracle.evaluate(arch))


def test_robot_plus_without_bo_is_deterministic_and_spends_the_budget(toy: TabularBenchmark) -> None:
    runs = []
    for seed in (0, 1):
        search = make_searcher("robot-plus", toy.space, seed=seed, inputs=ProxyTable.of(toy))
        oracle = run_search(search, Oracle(toy, budget=30, seed=0))
        runs.append([q.arch.key for q in oracle.history])
    assert runs[0] == runs[1] and len(set(runs[0])) == 30
    with_bo = RoBoTPlusSearch(toy.space, inputs=ProxyTable.of(toy), n_bo_trials=4, **FAST)  # type: ignore[arg-type]
    assert run_search(with_bo, Oracle(toy, budget=12)).queries == 12 and len(with_bo.trials) == 4


def test_robot_plus_clear_errors(toy: TabularBenchmark) -> None:
    table = ProxyTable.of(toy)
    with pytest.raises(ValueError, match="n_prior must be an int >= 1"):
        RoBoTPlusSearch(toy.space, inputs=table, n_prior=0)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        RoBoTPlusSearch(toy.space, inputs=table, alpha=0.0)
    with pytest.raises(ValueError, match="prior_weight must be a finite number >= 0"):
        RoBoTPlusSearch(toy.space, inputs=table, prior_weight=-1.0)
    with pytest.raises(ValueError, match="needs zero-cost proxies"):
        RoBoTPlusSearch(toy.space)


# ---- real NB201 tables --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nb201(nb201_tables_root: Path) -> dict[str, TabularBenchmark]:
    return {ds: pb.load(f"nb201/{ds}", root=nb201_tables_root) for ds in ("cifar10", "cifar100")}


@pytest.mark.shared_data
def test_candidate_pools_on_nb201(nb201: dict[str, TabularBenchmark]) -> None:
    c10 = nb201["cifar10"]
    measured = RoBoTSearch(c10.space, inputs=ProxyTable.of(c10), **FAST)  # type: ignore[arg-type]
    every = RoBoTSearch(c10.space, inputs=ProxyTable.of(c10), candidates="all", **FAST)  # type: ignore[arg-type]
    assert measured.proxy_names == ["grad_norm", "snip", "grasp", "fisher", "synflow", "jacov"]
    assert len(measured.pool) == 9445 and len(every.pool) == 15625  # Suite-Zero's dead-op-free cells / all
    for column in np.eye(6):  # min-max per proxy over the pool
        z = measured.pool_scores(column)
        assert z.min() == 0.0 and z.max() == 1.0


@pytest.mark.shared_data
def test_cifar10_signal_on_cifar100_queries_what_cifar10_search_queries(nb201: dict[str, TabularBenchmark]) -> None:
    c10, c100 = nb201["cifar10"], nb201["cifar100"]
    table = ProxyTable.of(c10)  # cifar100 has no Suite-Zero proxies: RoBoT's proxy set of cifar10
    runs = {}
    for name, oracle in (
        ("c10", Oracle(c10, budget=20, seed=0)),
        ("c100-with-c10-signal", Oracle(c100, signal=c10, budget=20, seed=0)),
        ("c100-own-signal", Oracle(c100, budget=20, seed=0)),
    ):
        runs[name] = run_search(RoBoTSearch(c10.space, seed=0, inputs=table, **FAST), oracle)  # type: ignore[arg-type]
    same, own = runs["c100-with-c10-signal"], runs["c100-own-signal"]
    assert [q.arch for q in same.history] == [q.arch for q in runs["c10"].history]
    c10_valid = c10.lookup([q.arch for q in same.history], "valid_acc", fidelity=12)
    assert np.allclose([q.value for q in same.history], c10_valid)
    assert same.cost_metric == "train_time" and same.elapsed_seconds > 0  # cifar10's 12-epoch cost is charged
    assert own.cost_metric is None  # cifar100 has no training time
    c100_valid = c100.lookup([q.arch for q in own.history], "valid_acc", fidelity=12)
    assert np.allclose([q.value for q in own.history], c100_valid)
    assert not np.allclose(c100_valid, c10_valid)  # same cells or not, the signal is cifar100's own
