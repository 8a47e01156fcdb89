"""What a search loop can see: test metrics refused as signals, no benchmark behind an oracle, budgets that fit
the table, and cells without a value (NaN) that are charged but never the incumbent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks import ProxyTable, TabularBenchmark
from predictbench.benchmarks.store import MetricRef, Store, StoreMeta, write_store
from predictbench.cli import main
from predictbench.multiobjective.oracle import MultiObjectiveOracle
from predictbench.oracle import Oracle, hidden_metrics
from predictbench.spaces import get_space
from predictbench.testing import TOY_NAME, toy_benchmark
from predictbench.types import Metric

NAN_STORE = "toy/nan"
N_CELLS = 8


@pytest.fixture(scope="module")
def toy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the toy store (``test_acc`` declared ``split="test"``) and a store with NaN cells."""
    root = tmp_path_factory.mktemp("toy")
    toy_benchmark(root, n=60)
    _nan_store(root)
    return root


def _nan_store(root: Path) -> None:
    """Eight NB201 cells: ``acc`` (search), ``latency`` missing for cells 0, 1 and 7 (cell 7 has the best
    accuracy), ``power`` missing everywhere but cell 2, and ``final_acc``: the report metric, no split declared."""
    keys = [a.key for a in get_space("nb201").from_index(range(N_CELLS))]  # type: ignore[attr-defined]
    latency = [np.nan, np.nan, 1.0, 1.5, 2.0, 2.5, 3.0, np.nan]  # lower is better: trades off against acc
    meta = StoreMeta(
        name=NAN_STORE,
        space="nb201",
        task="cifar10",
        metrics={
            "acc": Metric("acc", True, "%", "objective", 0, 100),
            "latency": Metric("latency", False, "ms", "cost", 0),
            "power": Metric("power", False, "W", "cost", 0),
            "final_acc": Metric("final_acc", True, "%", "objective", 0, 100),
        },
        fidelities=(12,),
        default_fidelity=12,
        seeds=(0,),
        search=MetricRef("acc", 12),
        report=MetricRef("final_acc", 12),
    )
    rows = pd.DataFrame(
        {
            "key": keys,
            "seed": 0,
            "fidelity": 12,
            "acc": 10.0 * np.arange(N_CELLS),
            "latency": latency,
            "power": [np.nan, np.nan, 5.0, *[np.nan] * 5],
            "final_acc": 50.0 + np.arange(N_CELLS),
        }
    )
    write_store(root, meta, pd.DataFrame({"key": keys}), rows)


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0), " ".join(capsys.readouterr().err.split())


# -- 1. a test metric is never a search signal ------------------------------------------------------------------

REFUSED_SIGNALS = [
    # (store, how the oracle is asked, message fragment)
    pytest.param(TOY_NAME, {"metric": "test_acc"}, "'test_acc' is a test metric", id="declared-split-test"),
    pytest.param(TOY_NAME, {"metric": MetricRef("test_acc", 200)}, "use one of ['valid_acc']", id="metricref"),
    pytest.param(NAN_STORE, {"metric": "final_acc"}, "'final_acc' is a test metric", id="report-metric-no-split"),
    pytest.param(NAN_STORE, {"cost_metric": "final_acc"}, "cost metric 'final_acc'", id="as-cost"),
]


@pytest.mark.parametrize(("store", "kwargs", "fragment"), REFUSED_SIGNALS)
def test_oracle_refuses_a_test_metric_as_signal(
    toy_root: Path, store: str, kwargs: dict[str, Any], fragment: str
) -> None:
    bench = pb.load(store, root=toy_root)
    with pytest.raises(ValueError, match="hidden from search") as info:
        Oracle(bench, **kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_hidden_metrics_rule_and_the_upper_bound_opt_in(toy_root: Path, analog_root: Path) -> None:
    toy, nan = pb.load(TOY_NAME, root=toy_root), pb.load(NAN_STORE, root=toy_root)
    analog = pb.load("nb201-analog/cifar10", root=analog_root)
    assert hidden_metrics(toy) == ["test_acc"] and hidden_metrics(nan) == ["final_acc"]
    assert hidden_metrics(analog) == []  # its only accuracy is both its search signal and its reported metric
    assert Oracle(analog).metric == analog.search_metric == analog.report_metric
    upper = Oracle(toy, metric="test_acc", allow_test_metric=True, budget=3, sample_repeats=False)
    arch = toy.archs()[0]
    assert upper.evaluate([arch])[0] == pytest.approx(toy.lookup([arch], "test_acc")[0])


def _experiment(tmp_path: Path, benchmark: str, search: str = "", budget: int = 5) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f'name = "leak"\ndescription = "x"\nbenchmarks = ["{benchmark}"]\nresults = "{tmp_path / "results"}"\n'
        f'report = "{tmp_path / "report"}"\n[search]\nsearchers = ["random"]\nbudget = {budget}\nseeds = 1\n'
        f"{search}\n",
        encoding="utf-8",
    )
    return path


CLI_REFUSALS = [
    # (arguments after the root is known, message fragments, the store they run on)
    pytest.param(
        lambda tmp, root: ["run", str(_experiment(tmp, TOY_NAME, 'search_metric = "test_acc@200"')), "--root", root],
        ["exp.toml: [search]: toy-nb201/cifar10: search metric 'test_acc' is a test metric"],
        id="experiment-search_metric",
    ),
    pytest.param(
        lambda tmp, root: ["mosearch", "-b", TOY_NAME, "-o", "valid_acc@12", "-o", "test_acc@200", "--root", root],
        ["objective 'test_acc' is a test metric"],
        id="mosearch-objective",
    ),
    pytest.param(
        lambda tmp, root: ["search", "-b", TOY_NAME, "--budget", "61", "--root", root],
        ["budget 61 is larger than the 60 architectures of toy-nb201/cifar10"],
        id="search-budget",
    ),
    pytest.param(
        lambda tmp, root: ["mosearch", "-b", NAN_STORE, "-o", "acc", "-o", "latency", "--budget", "9", "--root", root],
        ["budget 9 is larger than the 8 architectures of toy/nan"],
        id="mosearch-budget",
    ),
    pytest.param(
        lambda tmp, root: ["run", str(_experiment(tmp, NAN_STORE, budget=9)), "--root", root],
        ["budget 9 is larger than the 8 architectures"],
        id="experiment-budget",
    ),
]


@pytest.mark.parametrize(("args", "fragments"), CLI_REFUSALS)
def test_cli_refuses_with_one_line_and_writes_nothing(
    toy_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: Any, fragments: list[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    results = work / "out.jsonl"
    argv = args(work, str(toy_root))
    if argv[0] in ("search", "mosearch"):
        argv += ["--results", str(results)]
    code, err = _main(capsys, *argv)
    assert code == 2, err
    for fragment in fragments:
        assert fragment in err
    assert sorted(p.name for p in work.iterdir()) == (["exp.toml"] if argv[0] == "run" else [])


def test_budget_beyond_the_embedded_default_is_refused_at_construction(analog_root: Path) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    with pytest.raises(ValueError, match="budget 20000 is larger than the 15625 architectures"):
        Oracle(bench, budget=20000)
    with pytest.raises(ValueError, match="budget 15626 is larger than the 15625"):
        MultiObjectiveOracle(bench, budget=15626)
    assert Oracle(bench, budget=15625).budget == 15625


# -- 2. an oracle holds only what search may see ------------------------------------------------------------


def _reachable(obj: object, depth: int = 3) -> list[object]:
    """``obj`` and what its attributes (and containers' items) hold, ``depth`` levels down."""
    found, frontier = [obj], [obj]
    for _ in range(depth):
        nxt: list[object] = []
        for item in frontier:
            if isinstance(item, dict):
                nxt += [*item.keys(), *item.values()]
            elif isinstance(item, (list, tuple, set)):
                nxt += list(item)
            elif hasattr(item, "__dict__") and not isinstance(item, type):
                nxt += list(vars(item).values())
        found += nxt
        frontier = nxt
    return found


HOLDERS = [
    pytest.param(lambda b: Oracle(b, budget=20, seed=1), id="oracle"),
    pytest.param(
        lambda b: Oracle(b, metric=MetricRef("valid_acc", 200), sample_repeats=False), id="oracle-other-fidelity"
    ),
    pytest.param(lambda b: MultiObjectiveOracle(b, objectives=["valid_acc@200", "valid_acc@12"]), id="mo-oracle"),
    pytest.param(ProxyTable.of, id="proxy-table"),
]


@pytest.mark.parametrize("make", HOLDERS)
def test_no_benchmark_or_test_value_is_reachable(toy_root: Path, make: Any) -> None:
    bench = pb.load(TOY_NAME, root=toy_root)
    holder = make(bench)
    if hasattr(holder, "evaluate"):
        holder.evaluate(bench.archs()[:5])  # history filled in
    test_columns = [bench.column("test_acc", fidelity=200, seed=s) for s in (None, 0, 1)]
    for value in _reachable(holder):
        assert not isinstance(value, (TabularBenchmark, Store)), f"{type(holder).__name__} holds {value!r}"
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert not any(np.array_equal(value, c, equal_nan=True) for c in test_columns)
        if isinstance(value, pd.DataFrame):
            assert "test_acc" not in value.columns and "valid_acc" not in value.columns


# -- 4. cells without a value ----------------------------------------------------------------------------------


def test_nan_cells_are_charged_told_worst_and_never_the_incumbent(toy_root: Path) -> None:
    bench = pb.load(NAN_STORE, root=toy_root)
    archs = bench.archs()
    oracle = Oracle(bench, metric="latency", budget=N_CELLS)
    told = oracle.evaluate(archs)
    assert oracle.queries == N_CELLS and oracle.missing_score == -3.0  # the slowest measured cell
    assert np.array_equal(told, [-3.0, -3.0, -1.0, -1.5, -2.0, -2.5, -3.0, -3.0])
    assert [np.isnan(q.value) for q in oracle.history] == [True, True, *[False] * 5, True]
    assert oracle.best().arch == archs[2]
    only_missing = Oracle(bench, metric="latency")
    only_missing.evaluate([archs[0], archs[7]])
    with pytest.raises(ValueError, match="none of the 2 evaluated architectures has a value of the search metric"):
        only_missing.best()
    # a signal measured for one cell only: every other cell is told that cell's score, it stays the incumbent
    sparse = Oracle(bench, metric="power")
    assert np.array_equal(sparse.evaluate(archs[::-1]), [-5.0] * N_CELLS)
    assert sparse.best().arch == archs[2] and sum(np.isnan(q.value) for q in sparse.history) == N_CELLS - 1


def test_a_cell_missing_an_objective_never_enters_the_front(toy_root: Path) -> None:
    bench = pb.load(NAN_STORE, root=toy_root)
    oracle = MultiObjectiveOracle(bench, objectives=["acc", "latency"], budget=N_CELLS)
    scores = oracle.evaluate(bench.archs())
    assert np.isnan(scores[[0, 1, 7], 1]).all()  # MO searchers read NaN as the worst score
    # cell 7 has the best accuracy but no latency: it is not on the front; the measured cells 2..6 trade off
    assert [q.arch for q in oracle.front()] == bench.archs()[2:7]
