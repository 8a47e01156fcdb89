"""omni beyond NB201: own-space inputs only, a graph member weighted by cross-validation on training cells only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.tabular import ProxyTable
from predictbench.predictors.omni import _GRAPH_WEIGHTS, OmniEnsemblePredictor
from predictbench.testing import check_predictor, toy_benchmark

pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("one_torch_thread")]

FAST = {"n_estimators": 30}
GRAPH = {"n_estimators": 30, "graph_member": "gcn"}  # the graph member is opt-in
SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks_data"
N_TRAIN, N_TEST = 60, 60


def _nbgraph(root: Path) -> TabularBenchmark:
    pytest.importorskip("nas_bench_graph", reason="the nbgraph store converts from the nas-bench-graph package")
    from predictbench.benchmarks.convert.nbgraph import convert

    convert(root=root, datasets=["cora"])
    return pb.load("nbgraph/cora", root=root)


def _nb101(root: Path) -> TabularBenchmark:
    """The shared real NB101 sample (300 cells) as a store, as benchmarks/bench_every_store.py makes it."""
    import pandas as pd

    from predictbench.benchmarks.convert.table import convert as convert_table
    from predictbench.spaces import get_space

    source = SHARED / "nb101" / "nb101_sample300.parquet"
    table = pd.read_parquet(source)
    get_space("nb101").from_specs(table["matrix"], table["ops"])  # known cells without the full cell table
    convert_table(
        source, root=root, name="nb101/sample300", space="nb101", key_column="hash", key_kind="hash",
        metrics={"valid_acc": {"higher_is_better": True, "column": "val_acc_108", "fidelity": 108}},
        report=("valid_acc", 108),
    )  # fmt: skip
    return pb.load("nb101/sample300", root=root)


def _toy(root: Path) -> TabularBenchmark:
    return toy_benchmark(root)


STORES: list[Any] = [
    pytest.param(_nbgraph, id="nbgraph-cora"),
    pytest.param(_nb101, id="nb101-sample300", marks=pytest.mark.shared_data),
]


@pytest.fixture
def foreign_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root that also holds an NB201 store with proxies: omni must not reach for it on other spaces."""
    toy_benchmark(tmp_path)
    monkeypatch.setenv("PREDICTBENCH_DATA", str(tmp_path))
    monkeypatch.setattr("predictbench.predictors.omni._WARNED_NO_PROXIES", set())
    return tmp_path


def _split(bench: TabularBenchmark) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    target = bench.report_metric
    assert target is not None
    keys = np.random.default_rng(3).permutation(bench.keys())[: N_TRAIN + N_TEST]
    y = bench.scores(keys, target.metric)
    return bench.batch(keys[:N_TRAIN]), bench.batch(keys[N_TRAIN:]), y[:N_TRAIN], y[N_TRAIN:]


@pytest.mark.parametrize("make_store", STORES)
def test_other_spaces_use_no_foreign_proxies_nor_foreign_advice(
    make_store: Callable[[Path], TabularBenchmark], foreign_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bench = make_store(foreign_root)
    train, test, y, _ = _split(bench)
    with caplog.at_level(logging.WARNING):
        model = OmniEnsemblePredictor(**FAST).fit(train, y)
        model.predict(test)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    # at most the advice to compute the space's own proxies (NB101 has a torch network; nbgraph has none)
    expected = [] if bench.meta.space == "nbgraph" else [f"predictbench proxies compute {bench.name}"]
    assert len(warnings) == len(expected) and all(e in w for e, w in zip(expected, warnings, strict=True)), warnings
    assert not any("nb201" in w or "proxy_source" in w for w in warnings), warnings
    assert model.proxy_names_ == [] and model.ranks_ is None
    assert model.params_used_["proxies"] == f"none ({bench.name} has no proxies)"
    assert "nb201" not in str(model.params_used_)


def test_conformance_with_the_graph_member() -> None:
    check_predictor(lambda: OmniEnsemblePredictor(**GRAPH))


# ---- the graph member's weight comes from the training cells only -------------------------------------------


def _poison(bench: TabularBenchmark, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every stored metric of ``bench`` becomes unreadable: a fit that looked at any cell's target would fail."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("omni read a stored metric of the benchmark")

    for method in ("lookup", "column", "scores"):
        monkeypatch.setattr(bench, method, refuse)


@pytest.mark.parametrize(
    ("make_store", "params"),
    [
        pytest.param(_toy, {"graph_member": "gcn"}, id="toy-nb201-gcn"),
        pytest.param(_toy, {"graph_member": "comparator", "cv_folds": 2}, id="toy-nb201-comparator"),
        pytest.param(_nbgraph, {"graph_member": "gcn"}, id="nbgraph-gcn"),
    ],
)
def test_weights_are_chosen_without_test_cells(
    make_store: Callable[[Path], TabularBenchmark],
    params: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench = make_store(tmp_path)
    train, test, y, _ = _split(bench)
    clean = OmniEnsemblePredictor(**FAST, **params).fit(train, y)
    expected = clean.predict(test)
    assert set(clean.cv_taus_) == set(_GRAPH_WEIGHTS)
    # the smallest weight among those within one standard error of the best cross-validated tau
    close = [w for w, tau in clean.cv_taus_.items() if tau >= max(clean.cv_taus_.values()) - clean.cv_error_ - 1e-12]
    assert clean.graph_weight_ == min(close)
    # poisoned test targets (and every other stored value) change nothing: only (train, y) reach the fit
    _poison(bench, monkeypatch)
    poisoned = OmniEnsemblePredictor(**FAST, **params).fit(train, y)
    np.testing.assert_array_equal(poisoned.predict(test), expected)
    assert poisoned.graph_weight_ == clean.graph_weight_
    # a search loop's inputs (no measured metric reachable at all) give the same model
    table = ProxyTable.of(bench)
    inside_search = OmniEnsemblePredictor(**FAST, **params).fit(table.batch(train.keys), y)
    np.testing.assert_array_equal(inside_search.predict(table.batch(test.keys)), expected)


def test_without_the_graph_member_the_core_is_unchanged(tmp_path: Path) -> None:
    bench = toy_benchmark(tmp_path)
    train, test, y, _ = _split(bench)
    core = OmniEnsemblePredictor(**FAST).fit(train, y)  # the default: the core alone
    assert core.graph_models_ == [] and core.params_used_["graph_member"] == "none"
    combined = OmniEnsemblePredictor(**GRAPH).fit(train, y)
    if combined.graph_weight_ == 0.0:  # then the score is the core's, standardised: the same order
        assert np.argsort(combined.predict(test)).tolist() == np.argsort(core.predict(test)).tolist()
    else:
        assert combined.params_used_["graph_member"].startswith(f"gcn (weight {combined.graph_weight_:g}")
    tiny = OmniEnsemblePredictor(**GRAPH).fit(train.subset(np.arange(5)), y[:5])  # 5 cells: nothing to choose with
    assert tiny.graph_models_ == [] and "too few training cells" in tiny.params_used_["graph_member"]


# ---- bad options: one ValueError naming the option ------------------------------------------------------------

BAD_OPTIONS = [
    ({"graph_member": "gat"}, r"OmniEnsemblePredictor: graph_member must be None or one of \('gcn', 'comparator'\)"),
    ({"graph_member": ""}, r"graph_member must be None or one of"),
    ({"cv_folds": 1}, r"OmniEnsemblePredictor: cv_folds must be an int >= 2, got 1"),
    ({"cv_folds": True}, r"cv_folds must be an int >= 2, got True"),
    ({"cv_folds": 2.5}, r"cv_folds must be an int >= 2, got 2.5"),
    ({"members": ("lgbm", "gcn")}, r"members must be distinct names among"),
]


@pytest.mark.parametrize(("params", "message"), BAD_OPTIONS, ids=[str(p) for p, _ in BAD_OPTIONS])
def test_bad_options_raise_naming_the_option(params: dict[str, Any], message: str, tmp_path: Path) -> None:
    bench = toy_benchmark(tmp_path, n=40)
    keys = bench.keys()
    with pytest.raises(ValueError, match=message):
        OmniEnsemblePredictor(**params).fit(bench.batch(keys), bench.scores(keys, "test_acc"))


CLI_BAD = [
    (
        "omni:graph_member=gat",
        "error: OmniEnsemblePredictor: graph_member must be None or one of ('gcn', 'comparator'), got 'gat'",
    ),
    ("omni:cv_folds=1", "error: OmniEnsemblePredictor: cv_folds must be an int >= 2, got 1"),
]


@pytest.mark.parametrize(("spec", "message"), CLI_BAD, ids=[spec for spec, _ in CLI_BAD])
def test_cli_rejects_a_bad_option_before_writing(
    spec: str, message: str, analog_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from predictbench.cli import main

    monkeypatch.setenv("PREDICTBENCH_DATA", str(analog_root))
    results = tmp_path / "results.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "predict",
                "-b",
                "nb201-analog/cifar10",
                "-p",
                spec,
                "--sizes",
                "20",
                "--seeds",
                "1",
                "--results",
                str(results),
            ]
        )
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == message
    assert not results.exists()


# ---- the prior on wide descriptors (GRAF on nbgraph: 3,075 columns) -----------------------------------------


@pytest.mark.parametrize(("n", "d", "alpha"), [(14, 66, 1.0), (40, 300, 0.3), (30, 31, 5.0)], ids=str)
def test_wide_ridge_prior_solves_the_same_problem(n: int, d: int, alpha: float) -> None:
    """The prior's ridge takes an n x n system when features outnumber cells: the primal solution, far faster."""
    from predictbench.predictors.zerocost import _Ridge

    rng = np.random.default_rng(n)
    Z, t = rng.normal(size=(n, d)), rng.normal(size=n)
    direction = np.zeros(d)
    direction[:3] = 1 / 3
    fitted = _Ridge(alpha).fit(Z, t, direction)
    centred, residual = Z - Z.mean(axis=0), t - t.mean()
    combined = centred @ direction
    mean = max(combined @ residual / (combined @ combined), 0.0) * direction
    primal = np.linalg.lstsq(centred.T @ centred / n + alpha * np.eye(d), centred.T @ residual / n + alpha * mean)[0]
    np.testing.assert_allclose(fitted.coef_, primal, atol=1e-10)
