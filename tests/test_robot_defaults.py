"""RoBoT's reproduction defaults (issue 15): the BO phase runs until ``n_bo_queries`` distinct cells were queried
(repeated top cells are free and count neither against T nor against the phase), over the cells that have their
own proxy values; then greedy down the best weights' ranking. Bad values of the options: one clear line.

Runs on the toy benchmark (300 real NB201 cells, synthetic target and proxies, the project's store format).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from predictbench.benchmarks import ProxyTable, TabularBenchmark
from predictbench.benchmarks.store import read_store, write_proxies
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.search.robot import RoBoTSearch
from predictbench.testing import TOY_NAME, toy_benchmark

FAST = {"sampler": "tpe", "n_startup_trials": 3}


@pytest.fixture(scope="module")
def toy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("robot-defaults")
    toy_benchmark(root)
    return root


@pytest.fixture(scope="module")
def toy(toy_root: Path) -> TabularBenchmark:
    return TabularBenchmark.from_path(toy_root / TOY_NAME)


def _run(bench: TabularBenchmark, budget: int, **options: object) -> tuple[RoBoTSearch, Oracle]:
    search = make_searcher("robot", bench.space, seed=0, inputs=ProxyTable.of(bench), **{**FAST, **options})
    assert isinstance(search, RoBoTSearch)
    return search, run_search(search, Oracle(bench, budget=budget, seed=0))


def test_defaults_are_the_reproduction_setting(toy: TabularBenchmark) -> None:
    search = RoBoTSearch(toy.space, inputs=ProxyTable.of(toy))
    setting = (search.n_bo_queries, search.n_bo_trials, search.n_startup_trials, search.candidates, search.normalise)
    assert setting == (10, 200, 10, "measured", "minmax")
    assert search.sampler == "auto" and search.proxy_names == ["synflow", "jacov"]  # RoBoT's six, those it has


SPLITS = [
    pytest.param({"n_bo_queries": 10}, 20, id="default-split-T20"),
    pytest.param({"n_bo_queries": 5}, 20, id="5-bo-queries-T20"),
    pytest.param({"n_bo_queries": 10}, 10, id="bo-takes-all-of-T10"),
    pytest.param({"n_bo_queries": 10, "n_bo_trials": 4}, 12, id="trial-cap-ends-bo-first"),
    pytest.param({"n_bo_queries": None, "n_bo_trials": 19}, 20, id="previous-19-trials"),
]


@pytest.mark.parametrize(("options", "budget"), SPLITS)
def test_bo_phase_then_greedy_with_free_repeats(toy: TabularBenchmark, options: dict[str, object], budget: int) -> None:
    search, oracle = _run(toy, budget, **options)
    keys = [q.arch.key for q in oracle.history]
    assert len(keys) == budget == len(set(keys)) == oracle.queries
    charged = [t for t in search.trials if t.charged]
    assert search.t0 == len(charged) == len({t.arch.key for t in search.trials})  # a repeat is never charged
    assert keys[: search.t0] == [t.arch.key for t in charged]  # BO queries first, in trial order
    queries, cap = options["n_bo_queries"], options.get("n_bo_trials", 200)
    if queries is not None and len(search.trials) < cap:
        assert search.t0 == min(queries, budget)  # the phase ends on distinct queries, not on trials
    else:
        assert len(search.trials) == cap
    bo_keys = {t.arch.key for t in search.trials}
    ranking = [search.pool[int(i)] for i in np.argsort(-search.pool_scores(), kind="stable")]
    assert keys[search.t0 :] == [a.key for a in ranking if a.key not in bo_keys][: budget - search.t0]


def test_repeated_top_cells_do_not_shorten_the_bo_phase(toy: TabularBenchmark) -> None:
    # the reproduction-relevant rule: with 19 trials (repeats counted) the phase stops early; by queries it does not
    by_trials, _ = _run(toy, 20, n_bo_queries=None, n_bo_trials=19)
    by_queries, _ = _run(toy, 20, n_bo_queries=10)
    assert by_trials.t0 < 10 < len(by_trials.trials)  # repeats used up trials: fewer than 10 distinct BO queries
    assert by_queries.t0 == 10 and len(by_queries.trials) > 10  # the free repeats did not count
    assert [t.weights for t in by_queries.trials[:19]] == [t.weights for t in by_trials.trials]  # same proposals


def test_pool_excludes_cells_without_their_own_proxy_values(tmp_path: Path) -> None:
    bench = toy_benchmark(tmp_path, n=60)
    proxies = read_store(bench.path).proxies
    assert proxies is not None
    proxies = proxies.copy()
    missing = proxies["key"].iloc[::3].tolist()
    proxies.loc[proxies["key"].isin(missing), ["synflow", "jacov"]] = np.nan
    bench = TabularBenchmark.from_path(write_proxies(bench.path, bench.meta, proxies))
    search, oracle = _run(bench, 30)
    assert {a.key for a in search.pool} == set(bench.keys()) - set(missing)
    assert not {q.arch.key for q in oracle.history} & set(missing)


PRIORS = [
    pytest.param(("synflow", "nwot", "jacov"), ["jacov", "nwot", "synflow"], id="suite-zero-three"),
    pytest.param(("zen", "jacov", "plain"), ["jacov", "zen"], id="with-zen"),
]


@pytest.mark.parametrize(("columns", "expected"), PRIORS)
def test_robot_plus_prior_is_the_ensemble_plus_zen_that_the_store_has(
    tmp_path: Path, columns: tuple[str, ...], expected: list[str]
) -> None:
    bench = toy_benchmark(tmp_path, n=20, name="toy/prior", proxies=columns)
    assert make_searcher("robot-plus", bench.space, inputs=ProxyTable.of(bench)).proxy_names == expected


def test_robot_plus_prior_without_any_of_its_proxies_is_refused(tmp_path: Path) -> None:
    bench = toy_benchmark(tmp_path, n=20, name="toy/plain", proxies=("plain",))
    message = "'toy/plain' has none of the prior's proxies ['jacov', 'nwot', 'synflow', 'zen'] (it has ['plain'])"
    with pytest.raises(ValueError, match=re.escape(message)):
        make_searcher("robot-plus", bench.space, inputs=ProxyTable.of(bench))


BAD = [
    pytest.param("robot", {"n_bo_queries": 0}, "n_bo_queries must be an int >= 1 or None, got 0", id="queries-0"),
    pytest.param("robot", {"n_bo_queries": -3}, "n_bo_queries must be an int >= 1 or None, got -3", id="queries-neg"),
    pytest.param("robot", {"n_bo_queries": 2.5}, "n_bo_queries must be an int >= 1 or None, got 2.5", id="float"),
    pytest.param("robot", {"n_bo_queries": True}, "n_bo_queries must be an int >= 1 or None, got True", id="bool"),
    pytest.param("robot", {"n_bo_queries": "10"}, "n_bo_queries must be an int >= 1 or None, got '10'", id="str"),
    pytest.param("robot", {"n_bo_trials": -1}, "n_bo_trials must be an int >= 0, got -1", id="trials-neg"),
    pytest.param("robot", {"n_startup_trials": 1.5}, "n_startup_trials must be an int >= 0, got 1.5", id="startup"),
    pytest.param("robot-plus", {"n_bo_queries": 0}, "n_bo_queries must be an int >= 1 or None, got 0", id="plus-0"),
]


@pytest.mark.parametrize(("name", "options", "message"), BAD)
def test_bad_options_raise_one_clear_line(
    toy: TabularBenchmark, name: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        make_searcher(name, toy.space, inputs=ProxyTable.of(toy), **options)
    assert "\n" not in str(info.value)


BAD_CLI = [
    pytest.param("robot:n_bo_queries=0", "n_bo_queries must be an int >= 1 or None, got 0", id="queries-0"),
    pytest.param("robot:n_bo_queries=many", "'n_bo_queries' must be an int or None <= 100000, got 'many'", id="word"),
    pytest.param("robot:n_bo_queries=1000000", "'n_bo_queries' must be <= 100000, got 1000000", id="huge"),
    pytest.param("robot-plus:n_bo_queries=-1", "n_bo_queries must be an int >= 1 or None, got -1", id="plus"),
]


@pytest.mark.parametrize(("spec", "message"), BAD_CLI)
def test_cli_refuses_bad_values_before_writing(
    toy_root: Path, tmp_path: Path, run_cli, spec: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    results = tmp_path / "runs.jsonl"
    spec = f"{spec},inputs={TOY_NAME}"
    code, err = run_cli(
        "search", "--root", str(toy_root), "-b", TOY_NAME, "-s", spec, "--budget", "5", "--seeds", "1",
        "--results", str(results),
    )  # fmt: skip
    assert code == 2 and message in err
    assert not results.exists()
