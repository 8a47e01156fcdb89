"""The label-free ``zero-shot`` ensemble, the log-rank aggregation and omni's use of them (its ``zero_shot`` column
and prior), on a tiny real-format store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.predictors import make_predictor
from predictbench.predictors.zerocost import RankEnsemblePredictor
from predictbench.predictors.zeroshot import ZeroShotPredictor
from predictbench.proxies import PROXY_METRICS
from predictbench.spaces.nb201 import NB201Space
from predictbench.testing import check_predictor
from predictbench.types import Metric

N = 200
COLUMNS = {  # column -> how it relates to the signal
    "az_expressivity_live": "signal",
    "az_trainability_live": "signal",
    "meco": "signal",  # a converter's column: used when no meco_live exists
    "meco_live": "noisy",  # ... but the _live column wins
    "zico_live": "noise",
}


def _store(root: Path, columns: dict[str, str] = COLUMNS, name: str = "zs/cifar10") -> TabularBenchmark:
    rng = np.random.default_rng(3)
    space = NB201Space()
    indices = np.sort(rng.choice(len(space), N, replace=False))
    keys = np.array([a.key for a in space.from_index(indices)], dtype=object)
    signal = rng.standard_normal(N)
    kinds = {
        "signal": lambda: signal + 0.3 * rng.standard_normal(N),
        "noisy": lambda: signal + 2.0 * rng.standard_normal(N),
        "noise": lambda: rng.standard_normal(N),
    }
    values = {column: kinds[kind]() for column, kind in columns.items()}
    metrics = {"test_acc": Metric("test_acc", True, "%", "objective", 0.0, 100.0)}
    for column in columns:
        base = PROXY_METRICS[column.removesuffix("_live")]
        metrics[column] = Metric(column, base.higher_is_better, base.unit, "proxy")
    meta = StoreMeta(
        name=name,
        space="nb201",
        task="cifar10",
        metrics=metrics,
        fidelities=(200,),
        default_fidelity=200,
        report=MetricRef("test_acc", 200),
    )
    results = pd.DataFrame({"key": keys, "seed": -1, "fidelity": 200, "test_acc": 80 + 5 * signal})
    archs = pd.DataFrame({"key": keys, "index": indices.astype(np.int64)})
    proxies = pd.DataFrame({"key": keys, **values}) if values else None
    return TabularBenchmark.from_path(write_store(root, meta, archs, results, proxies))


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return _store(tmp_path_factory.mktemp("zs"))


def test_frontier_names_resolve_to_live_columns_first(bench: TabularBenchmark) -> None:
    batch = bench.batch(bench.keys())
    model = make_predictor("zero-shot").fit(batch, np.zeros(len(batch)))
    assert model.proxy_names_ == ["az_expressivity_live", "az_trainability_live", "meco_live", "zico_live"]
    truth = bench.lookup(bench.keys(), "test_acc")
    assert kendalltau(model.predict(batch), truth).statistic > 0.5


def test_no_target_value_is_read(bench: TabularBenchmark) -> None:
    keys = bench.keys()
    train, test = bench.batch(keys[:50]), bench.batch(keys[50:])
    truth = np.asarray(bench.lookup(keys[:50], "test_acc"))
    first = ZeroShotPredictor().fit(train, truth).predict(test)
    poisoned = ZeroShotPredictor().fit(train, -truth[::-1] * 1e6).predict(test)
    np.testing.assert_array_equal(first, poisoned)


def test_log_aggregate_on_known_ranks(bench: TabularBenchmark) -> None:
    batch = bench.batch(bench.keys())
    names = ["az_expressivity_live", "zico_live"]
    mean = RankEnsemblePredictor(proxies=names).fit(batch, np.zeros(N))
    log = RankEnsemblePredictor(proxies=names, aggregate="log").fit(batch, np.zeros(N))
    ranks = mean.scaler_.transform(mean.signs_ * np.asarray(batch.proxies(names)))
    np.testing.assert_allclose(mean.predict(batch), ranks.mean(axis=1))
    np.testing.assert_allclose(log.predict(batch), np.log(ranks).mean(axis=1))
    # one poor rank costs more than one good rank gains: (0.9, 0.1) ranks below (0.5, 0.5) with "log" only
    assert np.log([0.9, 0.1]).mean() < np.log([0.5, 0.5]).mean()


def test_conformance(bench: TabularBenchmark) -> None:
    keys = bench.keys()
    train, test = bench.batch(keys[:120]), bench.batch(keys[120:])
    check_predictor(make_predictor("zero-shot"), train, np.asarray(bench.lookup(keys[:120], "test_acc")), X_test=test)


BAD = [
    ("aggregate", {"aggregate": "max"}, "aggregate must be one of \\('mean', 'log'\\)"),
    ("unknown-proxy", {"proxies": ["nope_live"]}, "nope_live"),
    ("bad-spec", {"proxies": 3}, "proxies must be 'frontier' or proxy names"),
]


@pytest.mark.parametrize(("options", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_options_name_the_option(bench: TabularBenchmark, options: dict, message: str) -> None:
    batch = bench.batch(bench.keys()[:10])
    with pytest.raises(Exception, match=message):
        ZeroShotPredictor(**options).fit(batch, np.zeros(10))


def test_a_store_without_the_new_proxies_says_how_to_compute_them(tmp_path: Path) -> None:
    other = _store(tmp_path, {"synflow": "signal"}, name="old/cifar10")
    batch = other.batch(other.keys()[:10])
    with pytest.raises(ValueError, match="has none of the 2023-25 proxies .*proxies compute"):
        ZeroShotPredictor().fit(batch, np.zeros(10))


def test_all_leaves_out_proxy_columns_that_cover_few_cells(tmp_path: Path) -> None:
    from predictbench.predictors.zerocost import RankEnsemblePredictor

    rng = np.random.default_rng(0)
    bench = _store(tmp_path, {"synflow": "signal", "meco_live": "signal"}, name="partial/cifar10")
    table = bench._store.proxies.copy()
    table.loc[rng.random(len(table)) < 0.9, "meco_live"] = np.nan  # a table still being computed: 10% covered
    bench = _store_with(tmp_path / "p", bench, table)
    assert bench.proxy_coverage()["synflow"] == 1.0 and bench.proxy_coverage()["meco_live"] < 0.5
    batch = bench.batch(bench.keys())
    assert RankEnsemblePredictor(proxies="all").fit(batch, np.zeros(N)).proxy_names_ == ["synflow"]
    named = RankEnsemblePredictor(proxies=["synflow", "meco_live"]).fit(batch, np.zeros(N))
    assert named.proxy_names_ == ["synflow", "meco_live"]  # named explicitly: used


def test_all_takes_computed_columns_only_once_their_computation_reached_every_cell(tmp_path: Path) -> None:
    """Columns `proxies compute` (or a shipped table) wrote for a sample of the classes are left out of "all"
    even above 50 % coverage: the cells not reached are not missing at random. A cell is reached when any column
    of the same computation has a value: a proxy undefined for some cells does not hold its column back."""
    from dataclasses import replace

    from predictbench.proxies.compute import PROVENANCE_KEY

    columns = {"synflow": "signal", "meco_live": "signal", "swap_live": "signal"}
    bench = _store(tmp_path, columns, name="sample/cifar10")
    recorded = {PROVENANCE_KEY: {"columns": {"meco_live": "run-a", "swap_live": "run-a"}}}
    meta = replace(bench._store.meta, provenance={**bench._store.meta.provenance, **recorded})
    every = ["synflow", "meco_live", "swap_live"]

    def chosen(name: str, table: pd.DataFrame, store_meta: StoreMeta | None = meta) -> list[str]:
        store = _store_with(tmp_path / name, bench, table, store_meta)
        return RankEnsemblePredictor(proxies="all").fit(store.batch(store.keys()), np.zeros(N)).proxy_names_

    sample = bench._store.proxies.copy()
    sample.loc[np.arange(N) % 4 == 0, ["meco_live", "swap_live"]] = np.nan  # the run reached 75 % of the cells
    assert chosen("sample", sample) == ["synflow"]
    assert chosen("plain", sample, None) == every  # the same values from a converter: used above 50 %
    undefined = bench._store.proxies.copy()
    undefined.loc[np.arange(N) % 4 == 0, "meco_live"] = np.nan  # meco undefined there; swap reached every cell
    assert chosen("undefined", undefined) == every
    assert chosen("complete", bench._store.proxies) == every


def _store_with(
    root: Path, bench: TabularBenchmark, proxies: pd.DataFrame, meta: StoreMeta | None = None
) -> TabularBenchmark:
    store = bench._store
    return TabularBenchmark.from_path(write_store(root, meta or store.meta, store.archs, store.results, proxies))


def test_omni_builds_the_zero_shot_column_and_shrinks_its_prior_toward_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from predictbench.predictors.omni import OmniEnsemblePredictor

    # without class averaging (which omni adds on NB201) the column ranks cells exactly as zero-shot scores them
    monkeypatch.setattr("predictbench.predictors.omni_features._has_canonical_forms", lambda space: False)
    bench = _store(tmp_path)
    keys = bench.keys()
    batch, y = bench.batch(keys[:60]), np.asarray(bench.lookup(keys[:60], "test_acc"))
    fast = {"n_estimators": 20, "members": ("lgbm",)}
    omni = OmniEnsemblePredictor(**fast).fit(batch, y)
    members = ["az_expressivity_live", "az_trainability_live", "meco_live", "zico_live"]  # "frontier" present
    assert omni.zero_shot_names_ == members and omni.prior_names_ == ["zero_shot"]
    column = omni.ranks_.transform(keys, lambda k: bench.proxies(k, omni.proxy_names_))[:, -1]
    assert omni.ranks_.width == len(omni.proxy_names_) + 1
    zero_shot = ZeroShotPredictor().fit(batch, y).predict(bench.batch(keys))
    assert kendalltau(column, zero_shot)[0] > 0.999
    plain = OmniEnsemblePredictor(zero_shot=None, **fast).fit(batch, y)
    assert plain.zero_shot_names_ == [] and plain.prior_names_ == [] and plain.ranks_.width == len(plain.proxy_names_)
    assert not np.allclose(plain.predict(batch), omni.predict(batch))
    with pytest.raises(ValueError, match="zero_shot names proxies that are not among those used"):
        OmniEnsemblePredictor(zero_shot=["nope_live"], **fast).fit(batch, y)


def test_omni_prior_is_the_same_whatever_the_number_of_descriptors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wide descriptor sets (GRAF on nbgraph: 3,075 columns) are scaled so the ridge prior regularises them as
    strongly as NB201's 52: repeating every descriptor 10 times leaves the prior's predictions unchanged."""
    from predictbench.predictors import omni as omni_module

    bench = _store(tmp_path)
    keys = bench.keys()
    batch, y = bench.batch(keys[:40]), np.asarray(bench.lookup(keys[:40], "test_acc"))
    test = bench.batch(keys[40:])

    def prior_scores() -> np.ndarray:
        model = omni_module.OmniEnsemblePredictor(members=("lgbm",), n_estimators=5).fit(batch, y)
        return np.asarray(model.prior_.predict(model._inputs(test)[0]))

    narrow = prior_scores()
    original = omni_module.structure_features

    def repeated(X: object, encoding: str) -> tuple[np.ndarray, np.ndarray]:
        encoded, descriptors = original(X, encoding)
        return encoded, np.repeat(descriptors, 10, axis=1)

    monkeypatch.setattr(omni_module, "structure_features", repeated)
    wide = prior_scores()
    assert np.ptp(narrow) > 0  # the prior scores cells differently
    np.testing.assert_allclose(wide, narrow, rtol=1e-6, atol=1e-9)
