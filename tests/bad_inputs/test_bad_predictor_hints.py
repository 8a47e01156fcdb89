"""Predictor hints that fit the store, warnings once per run, what a fit used, and parameter errors naming the class.

Real stores only: the embedded default (``analog_root``), NAS-Bench-Graph's Cora converted from the installed
package, and the NB201 tables of the shared data (marked ``shared_data``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.cli import main
from predictbench.predictors import bananas as bananas_module
from predictbench.predictors import omni as omni_module
from predictbench.predictors.bananas import BananasPredictor
from predictbench.predictors.baselines import MLPPredictor, RandomForestPredictor, RidgePredictor
from predictbench.predictors.gbdt import LGBMPredictor, XGBPredictor
from predictbench.predictors.omni import OmniEnsemblePredictor

needs_nbgraph = pytest.mark.skipif(
    importlib.util.find_spec("nas_bench_graph") is None,
    reason="nas-bench-graph is not installed (pip install 'predictbench[graph]')",
)
FAST = {"n_estimators": 10}
NO_PROXIES_WARNING = "has no proxies table, so structure features only"


@pytest.fixture(scope="module")
def nbgraph_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding nbgraph/cora, converted from the installed nas-bench-graph package."""
    from predictbench.benchmarks.convert.nbgraph import convert

    root = tmp_path_factory.mktemp("nbgraph")
    convert(root=root, datasets=["cora"])
    return root


def _batch(root: Path, name: str, n: int = 30) -> tuple[Any, np.ndarray]:
    bench = pb.load(name, root=root)
    keys = bench.keys()[:n]
    target = bench.search_metric or bench.report_metric
    assert target is not None
    return bench.batch(keys), np.asarray(bench.lookup(keys, target.metric, fidelity=target.fidelity), dtype=float)


# ---- 1. omni's advice on a store without proxies names a store of the SAME space, or how to get proxies ------

# (id, store, its root fixture, data root fixture (where proxy_source looks), text the advice holds, text it lacks)
HINT_CASES = [
    pytest.param(
        "nbgraph-no-proxies-anywhere", "nbgraph/cora", "nbgraph_root", "nbgraph_root",
        "no zero-cost proxies exist for nbgraph cells", "proxy_source=",
        marks=needs_nbgraph, id="nbgraph-alone",
    ),
    pytest.param(
        "nbgraph-beside-nb201", "nbgraph/cora", "nbgraph_root", "nb201_tables_root",
        "no zero-cost proxies exist for nbgraph cells", "proxy_source=",
        marks=[needs_nbgraph, pytest.mark.shared_data], id="nbgraph-beside-nb201-stores-with-proxies",
    ),
    pytest.param(
        "analog-alone", "nb201-analog/cifar10", "analog_root", "analog_root",
        "compute them with `predictbench proxies compute nb201-analog/cifar10` (resumable)", "proxy_source=",
        id="nb201-analog-alone",
    ),
    pytest.param(
        "analog-beside-nb201", "nb201-analog/cifar10", "analog_root", "nb201_tables_root",
        "pass proxy_source='nb201/cifar10' to read the proxies of that converted nb201 store", "cifar100",
        marks=pytest.mark.shared_data, id="nb201-analog-beside-nb201-stores",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "store", "store_root", "data_root", "advice", "absent"), HINT_CASES)
def test_omni_advice_on_a_store_without_proxies_fits_its_space(
    case: str,
    store: str,
    store_root: str,
    data_root: str,
    advice: str,
    absent: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PREDICTBENCH_DATA", str(request.getfixturevalue(data_root)))
    monkeypatch.setattr(omni_module, "_WARNED_NO_PROXIES", set())
    X, y = _batch(request.getfixturevalue(store_root), store)
    with caplog.at_level(logging.INFO, logger="predictbench.predictors.omni"):
        model = OmniEnsemblePredictor(**FAST).fit(X, y)  # default proxies="all": structure features, said once
    (warning,) = [r.getMessage() for r in caplog.records if NO_PROXIES_WARNING in r.getMessage()]
    assert advice in warning and absent not in warning, warning
    (level,) = [r.levelno for r in caplog.records if NO_PROXIES_WARNING in r.getMessage()]
    assert level == (logging.INFO if case.startswith("nbgraph") else logging.WARNING)  # no proxies exist: info
    assert model.ranks_ is None
    with pytest.raises(ValueError, match="has no proxies table") as raised:  # proxies asked for by name
        OmniEnsemblePredictor(proxies="synflow", **FAST).fit(X, y)
    message = str(raised.value)
    assert message.startswith(f"OmniEnsemblePredictor: benchmark '{store}'") and "proxies=None" in message
    assert advice in message and absent not in message and "\n" not in message, message


# ---- 1b, 2. the main job's parallel workers: the warning once per run; records and report show what was used --

TINY_RUN = """
name = "omni-hints"
description = "omni on the embedded default, in 2 worker processes"
benchmarks = ["nb201-analog/cifar10"]
results = "{tmp}/results"
report = "{tmp}/report"

[predictors]
sizes = [5, 8]
seeds = 2
test_size = 20
jobs = 2

[predictors.models]
omni = {{ n_estimators = 10 }}
"""


def test_parallel_run_warns_once_and_records_what_omni_used(
    analog_root: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "omni-hints.toml"
    path.write_text(TINY_RUN.format(tmp=tmp_path.as_posix()))
    with caplog.at_level(logging.WARNING), pytest.raises(SystemExit) as done:
        main(["run", str(path), "--root", str(analog_root)])
    assert done.value.code == 0
    parent = [r for r in caplog.records if NO_PROXIES_WARNING in r.getMessage()]
    workers = capfd.readouterr().err.count(NO_PROXIES_WARNING)  # what workers print on their own stderr
    assert len(parent) == 1 and parent[0].name == "predictbench.predictors.omni" and workers == 0
    records = [json.loads(line) for line in (tmp_path / "results" / "predictors.jsonl").read_text().splitlines()]
    none = "none (nb201-analog/cifar10 has no proxies)"
    assert len(records) == 4
    used = {"proxies": none, "prior_mean": none, "graph_member": "none", "zero_shot": "none"}
    assert all(r["params_used"] == used for r in records)
    assert all(r["params"]["prior_mean"] == "auto" for r in records)  # the setting as given
    table = next(
        line for line in (tmp_path / "report" / "predictors" / "README.md").read_text().splitlines()
        if line.startswith("| omni | OmniEnsemblePredictor |")
    )  # fmt: skip  # the row of the report's parameter table
    assert f'"prior_mean": "{none}"' in table and f'"proxies": "{none}"' in table and "jacov" not in table


# ---- 3. bananas on a space without the path encoding -----------------------------------------------------------

# (encoding asked for, encoding used, whether a warning names the fallback)
BANANAS_CASES = [
    pytest.param("path", "onehot", True, id="default-path-falls-back-to-onehot"),
    pytest.param("adjops", "adjops", False, id="explicit-encoding-kept"),
]


@needs_nbgraph
@pytest.mark.parametrize(("encoding", "used", "warned"), BANANAS_CASES)
def test_bananas_on_nbgraph_uses_an_encoding_the_space_has(
    encoding: str,
    used: str,
    warned: bool,
    nbgraph_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(bananas_module, "_WARNED_NO_PATH", set())
    X, y = _batch(nbgraph_root, "nbgraph/cora", 40)
    with caplog.at_level(logging.WARNING, logger="predictbench.predictors.bananas"):
        model = BananasPredictor(encoding=encoding, n_models=2, epochs=2).fit(X, y)
    assert model.encoding_ == used and model.params_used_ == {"encoding": used}
    assert model.n_features_in_ == pb.encodings.encode("nbgraph", X.keys[:1], used).shape[1]
    assert np.isfinite(model.predict(X)).all()
    messages = [r.getMessage() for r in caplog.records]
    expected = "space 'nbgraph' has no 'path' encoding (BANANAS' default), so encoding='onehot' is used"
    assert any(expected in m for m in messages) == warned, messages


# ---- 4. every predictor's parameter errors name the class and the parameter -----------------------------------

# (class, bad parameters, the start of the message: "<class>: <parameter> must ...")
PARAMETER_CASES = [
    (LGBMPredictor, {"objective": "huber"}, "LGBMPredictor: objective must be"),
    (LGBMPredictor, {"n_estimators": 0}, "LGBMPredictor: n_estimators must be an int >= 1"),
    (LGBMPredictor, {"learning_rate": -1.0}, "LGBMPredictor: learning_rate must be > 0"),
    (LGBMPredictor, {"num_leaves": 1}, "LGBMPredictor: num_leaves must be an int >= 2"),
    (LGBMPredictor, {"feature_fraction": 2.0}, "LGBMPredictor: feature_fraction must be in (0, 1]"),
    (LGBMPredictor, {"bagging_fraction": 0.0}, "LGBMPredictor: bagging_fraction must be in (0, 1]"),
    (LGBMPredictor, {"min_child_samples": 0}, "LGBMPredictor: min_child_samples must be an int >= 1"),
    (LGBMPredictor, {"n_jobs": 0}, "LGBMPredictor: n_jobs must be an int >= 1"),
    (LGBMPredictor, {"seed": -1}, "LGBMPredictor: seed must be a non-negative int"),
    (XGBPredictor, {"subsample": 0}, "XGBPredictor: subsample must be in (0, 1]"),
    (XGBPredictor, {"learning_rate": "fast"}, "XGBPredictor: learning_rate must be > 0"),
    (XGBPredictor, {"max_depth": 0}, "XGBPredictor: max_depth must be an int >= 1"),
    (RidgePredictor, {"alpha": -1}, "RidgePredictor: alpha must be a finite number >= 0"),
    (RidgePredictor, {"alpha": "x"}, "RidgePredictor: alpha must be a finite number >= 0"),
    (RandomForestPredictor, {"n_estimators": 0}, "RandomForestPredictor: n_estimators must be an int >= 1"),
    (RandomForestPredictor, {"max_features": 2.0}, "RandomForestPredictor: max_features must be"),
    (RandomForestPredictor, {"seed": -2}, "RandomForestPredictor: seed must be a non-negative int"),
    (MLPPredictor, {"hidden": (0,)}, "MLPPredictor: hidden must be a sequence of layer widths"),
    (MLPPredictor, {"lr": 0}, "MLPPredictor: lr must be > 0"),
    (MLPPredictor, {"n_jobs": 0}, "MLPPredictor: n_jobs must be an int >= 1"),
    (BananasPredictor, {"n_models": 0}, "BananasPredictor: n_models must be an int >= 1"),
    (BananasPredictor, {"loss": "huber"}, "BananasPredictor: loss must be one of"),
    (BananasPredictor, {"seed": -1}, "BananasPredictor: seed must be a non-negative int"),
    (OmniEnsemblePredictor, {"members": ("knn",)}, "OmniEnsemblePredictor: members must be distinct names"),
    (OmniEnsemblePredictor, {"n_estimators": 0}, "OmniEnsemblePredictor: n_estimators must be an int >= 1"),
    (OmniEnsemblePredictor, {"feature_fraction": 0.0}, "OmniEnsemblePredictor: feature_fraction must be in"),
    (OmniEnsemblePredictor, {"prior_alpha": -1.0}, "OmniEnsemblePredictor: prior_alpha must be a finite number"),
    (OmniEnsemblePredictor, {"seed": -1}, "OmniEnsemblePredictor: seed must be a non-negative int"),
]


@pytest.mark.parametrize(
    ("cls", "params", "start"), PARAMETER_CASES, ids=[f"{c.__name__}-{next(iter(p))}" for c, p, _ in PARAMETER_CASES]
)
def test_parameter_errors_name_the_class_and_the_parameter(
    cls: type, params: dict[str, Any], start: str, analog_root: Path
) -> None:
    X, y = _batch(analog_root, "nb201-analog/cifar10")
    model = cls(**params)  # __init__ only stores
    with pytest.raises(ValueError) as raised:
        model.fit(X, y)
    message = str(raised.value)
    assert message.startswith(start), message
    assert message.count(cls.__name__) == 1 and "\n" not in message, message  # named once, on one line
