"""GCNPredictor on the real-format embedded default store (nb201-analog/cifar10)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="GCNPredictor needs torch (pip install 'predictbench[gcn]')")
pytest.importorskip("torch_geometric", reason="GCNPredictor needs torch-geometric (pip install 'predictbench[gcn]')")

import predictbench as pb  # noqa: E402
from predictbench.predictors import make_predictor  # noqa: E402
from predictbench.predictors.gcn import GCNPredictor  # noqa: E402
from predictbench.types import NotFittedError  # noqa: E402

if TYPE_CHECKING:
    from tests.predictors.conftest import ProxySourceCase

METRIC = "baseline_accuracy"
FAST = {"epochs": 25}  # 200 cells, 4 mini-batches an epoch: ~100 steps


@pytest.fixture(scope="module")
def data(analog_root: Path) -> dict[str, Any]:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    keys = np.random.default_rng(7).permutation(bench.keys())[:400]
    y = bench.scores(keys, METRIC)
    return {
        "bench": bench,
        "train": bench.batch(keys[:200]),
        "test": bench.batch(keys[200:]),
        "y_train": y[:200],
        "y_test": y[200:],
    }


@pytest.fixture(scope="module")
def fitted(data: dict[str, Any]) -> GCNPredictor:
    return GCNPredictor(**FAST, seed=3).fit(data["train"], data["y_train"])


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


def test_ranks_held_out_cells(fitted: GCNPredictor, data: dict[str, Any]) -> None:
    pred = fitted.predict(data["test"])
    assert pred.shape == (200,) and np.isfinite(pred).all()
    # measured: tau 0.62-0.67 over model seeds 0-4 and two splits with these settings
    assert _tau(pred, data["y_test"]) > 0.55


def test_mse_loss_also_ranks(data: dict[str, Any]) -> None:
    model = GCNPredictor(**FAST, loss="mse").fit(data["train"], data["y_train"])
    # measured: tau 0.45-0.56 over model seeds 0-4 and two splits (the ranking loss is better)
    assert _tau(model.predict(data["test"]), data["y_test"]) > 0.38


def test_deterministic_and_leaves_global_torch_state(fitted: GCNPredictor, data: dict[str, Any]) -> None:
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    again = GCNPredictor(**FAST, seed=3).fit(data["train"], data["y_train"])
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads
    assert np.array_equal(again.predict(data["test"]), fitted.predict(data["test"]))
    other = GCNPredictor(**FAST, seed=4).fit(data["train"], data["y_train"])
    assert not np.allclose(other.predict(data["test"]), fitted.predict(data["test"]))


def test_not_fitted_and_clone(fitted: GCNPredictor, data: dict[str, Any]) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        GCNPredictor().predict(data["test"])
    clone = fitted.clone()
    assert clone.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        clone.predict(data["test"])
    assert isinstance(make_predictor("gcn"), GCNPredictor)


def test_pickle_round_trip_is_state_dict_based(fitted: GCNPredictor, data: dict[str, Any]) -> None:
    state = fitted.__getstate__()
    assert isinstance(state["model_"], dict)
    assert all(isinstance(v, np.ndarray) for v in state["model_"].values())
    again = pickle.loads(pickle.dumps(fitted))
    assert np.allclose(again.predict(data["test"]), fitted.predict(data["test"]))


def test_tuple_input_and_padded_graphs(fitted: GCNPredictor, data: dict[str, Any]) -> None:
    ops, adjacency = data["test"].graphs()
    reference = fitted.predict(data["test"])
    assert np.allclose(fitted.predict((ops, adjacency)), reference)
    # variable-size graphs: a padding node (label -1, no edges) changes nothing
    n, v = ops.shape
    padded_ops = np.concatenate([ops, np.full((n, 1), -1)], axis=1)
    padded_adj = np.zeros((n, v + 1, v + 1), dtype=adjacency.dtype)
    padded_adj[:, :v, :v] = adjacency
    assert np.allclose(fitted.predict((padded_ops, padded_adj)), reference, atol=1e-5)
    with pytest.raises(TypeError, match="ArchBatch"):
        fitted.predict(np.zeros((3, 30)))
    with pytest.raises(ValueError, match="node label"):
        fitted.predict((np.full((2, v), 99), adjacency[:2]))


def test_embed_shape(fitted: GCNPredictor, data: dict[str, Any]) -> None:
    assert fitted.embed(data["test"]).shape == (200, fitted.hidden)


class _WithProxies:
    """An ArchBatch stand-in that adds a proxies table (the analog store has none)."""

    def __init__(self, batch: Any, values: np.ndarray) -> None:
        self.batch, self.values = batch, values
        self.keys = batch.keys
        self.benchmark = type("B", (), {"space": batch.benchmark.space, "proxy_names": ["good", "noise"]})()

    def __len__(self) -> int:
        return len(self.keys)

    def graphs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.batch.graphs()

    def proxies(self, names: list[str]) -> np.ndarray:
        return self.values[:, [["good", "noise"].index(name) for name in names]]


def test_proxies_are_appended_to_the_embedding(data: dict[str, Any]) -> None:
    rng = np.random.default_rng(0)

    def wrap(batch: Any, y: np.ndarray) -> _WithProxies:
        good = np.exp(y / 10) + rng.normal(0, 0.01, len(y))  # a monotone, strongly informative proxy
        good[:5] = np.nan  # missing values are filled with the median quantile
        return _WithProxies(batch, np.stack([good, rng.normal(size=len(y))], axis=1))

    train, test = wrap(data["train"], data["y_train"]), wrap(data["test"], data["y_test"])
    model = GCNPredictor(**FAST, proxies="all")
    assert model.needs == frozenset({"graphs", "proxies"})
    assert GCNPredictor.needs == frozenset({"graphs"}) == GCNPredictor().needs
    pred = model.fit(train, data["y_train"]).predict(test)
    # measured: 0.83 (0.62-0.67 without the proxies)
    assert _tau(pred, data["y_test"]) > 0.75
    again = pickle.loads(pickle.dumps(model))
    assert np.allclose(again.predict(test), pred)
    with pytest.raises(TypeError, match="proxies"):
        GCNPredictor(**FAST, proxies=("good",)).fit((*data["train"].graphs(),), data["y_train"])


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("hidden", 0),
        ("n_layers", 1.5),
        ("conv", "sage"),
        ("pooling", "max"),
        ("dropout", 1.0),
        ("loss", "huber"),
        ("epochs", 0),
        ("batch_size", 1),
        ("lr", 0.0),
        ("weight_decay", -1.0),
        ("seed", -1),
        ("n_jobs", 0),
        ("proxies", 3),
    ],
)
def test_bad_params_name_the_parameter(param: str, value: Any, data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=param):
        GCNPredictor(**{param: value}).fit(data["train"], data["y_train"])


TINY = {"epochs": 3, "hidden": 8, "mlp_hidden": 8, "n_layers": 1}


@pytest.mark.shared_data
def test_proxy_source_reads_another_stores_proxies(proxy_source_case: ProxySourceCase, one_torch_thread: None) -> None:
    for sourced in proxy_source_case.fits_match_source(lambda **kw: GCNPredictor(**TINY, proxies="all", **kw)):
        assert sourced.proxy_scaler_ is not None
        assert sourced.proxy_scaler_.names == tuple(proxy_source_case.cifar10.proxy_names)  # the source's "all"


def test_proxy_source_needs_proxies_and_an_arch_batch(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="proxy_source='nb201/cifar10' reads proxies, but proxies=None"):
        GCNPredictor(**FAST, proxy_source="nb201/cifar10").fit(data["train"], data["y_train"])
    sourced = GCNPredictor(**FAST, proxies="synflow", proxy_source="nb201/cifar10")
    with pytest.raises(TypeError, match="need an ArchBatch"):
        sourced.fit(data["train"].graphs(), data["y_train"])


def test_bad_target(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="shape"):
        GCNPredictor(**FAST).fit(data["train"], data["y_train"][:10])


def test_module_imports_without_torch() -> None:
    code = "import sys, predictbench.predictors.gcn, predictbench.predictors.comparator; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
