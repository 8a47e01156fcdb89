"""FBNet-style search: the additive latency table fitted from a store, the Gumbel-softmax latency-aware search."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.data import ImageData
from predictbench.supernet.fbnet import FBNET_CONFIG, GumbelLatencyStep, fbnet_search
from predictbench.supernet.latency_table import LatencyTable, fit_latency_table, latency_devices
from predictbench.types import Metric

pytestmark = [pytest.mark.torch]

CONFIG = replace(FBNET_CONFIG, channels=4, batch_size=12)
#: an exactly additive latency: convolutions cost most, none nothing, edge 5 the most
BASE = 1.5
TABLE = np.array([[0.0, 0.1, 0.6, 1.8, 0.4]] * 6) * np.linspace(1.0, 2.0, 6)[:, None]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real store (the project's writer) of 2,233 NB201 cells whose edgegpu latency is exactly additive."""
    space = NB201Space()
    archs = space.from_index(range(0, 15625, 7))
    ops = space.ops_array(archs)
    latency = BASE + TABLE[np.arange(6), ops].sum(axis=1)
    meta = StoreMeta(
        name="toy/latency",
        space="nb201",
        task="cifar10",
        metrics={
            "test_acc": Metric("test_acc", True, "%", "objective", 0, 100),
            "edgegpu_latency": Metric("edgegpu_latency", False, "ms", "cost", 0),
        },
        fidelities=(200,),
        default_fidelity=200,
        seeds=(0,),
        search=MetricRef("test_acc", 200),
        report=MetricRef("test_acc", 200),
    )
    keys = [a.key for a in archs]
    rows = pd.DataFrame(
        {"key": keys, "seed": 0, "fidelity": 200, "test_acc": 90.0 - latency, "edgegpu_latency": latency}
    )
    root = tmp_path_factory.mktemp("latency-store")
    write_store(root, meta, pd.DataFrame({"key": keys}), rows)
    return pb.load("toy/latency", root=root)


@pytest.fixture(scope="module")
def table(synthetic: Any) -> LatencyTable:
    return fit_latency_table(synthetic, "edgegpu")


def test_table_fit_recovers_an_exactly_additive_latency(synthetic: Any, table: LatencyTable) -> None:
    assert latency_devices(synthetic) == ("edgegpu",)
    assert table.metric == "edgegpu_latency" and table.unit == "ms" and table.cells == 2233
    assert abs(table.r2 - 1.0) < 1e-9 and abs(table.heldout_r2 - 1.0) < 1e-9
    # ties of the measured latencies stay ties despite the float noise of the fit (was 0.9985 without the grid)
    assert (
        table.tau == pytest.approx(1.0, abs=1e-12)
        and table.heldout_tau == pytest.approx(1.0, abs=1e-12)
        and table.heldout_cells == round(0.2 * 2233)
    )
    assert np.allclose(table.table, TABLE) and math.isclose(table.base, BASE)
    measured = synthetic.column("edgegpu_latency")
    assert np.allclose(table.predict(synthetic.keys()), measured) and table.fastest == measured.min()
    assert math.isclose(table.expected(np.full((6, 5), 0.2)), BASE + TABLE.sum() / 5)
    assert math.isclose(table.lowest(), BASE)


BAD_TABLES = [
    pytest.param("analog", {"device": "edgegpu"}, "device 'edgegpu': nb201-analog/cifar10 has no metric", id="no-lat"),
    pytest.param("synthetic", {"device": "tpu9"}, "device 'tpu9'.*latency devices: edgegpu", id="unknown-device"),
    pytest.param("synthetic", {"heldout_fraction": 1.0}, "heldout_fraction must be in", id="heldout"),
]


@pytest.mark.parametrize(("store", "options", "message"), BAD_TABLES)
def test_table_refuses_stores_and_devices_without_latency(
    store: str, options: dict[str, Any], message: str, synthetic: Any, analog_root: Path
) -> None:
    bench = synthetic if store == "synthetic" else pb.load("nb201-analog/cifar10", root=analog_root)
    with pytest.raises(ValueError, match=message):
        fit_latency_table(bench, **options)


def test_fbnet_is_reproducible_by_seed_and_derives_valid_cells(
    tiny_data: ImageData, table: LatencyTable, space: NB201Space
) -> None:
    first = fbnet_search(tiny_data, table, epochs=2, seed=3, config=CONFIG)
    again = fbnet_search(tiny_data, table, epochs=2, seed=3, config=CONFIG)
    other = fbnet_search(tiny_data, table, epochs=2, seed=4, config=CONFIG)
    assert first.method == "fbnet" and space.is_valid(first.arch) and len(first.epoch_archs) == 2
    assert tuple(space.ops_of(first.arch)) == first.ops and np.allclose(first.weights.sum(axis=1), 1.0)
    assert first.weights.tolist() == again.weights.tolist() and first.ops == again.ops
    assert first.weights.tolist() != other.weights.tolist()


def test_gumbel_samples_and_temperature_follow_fbnets_schedule(table: LatencyTable) -> None:
    import torch

    step = GumbelLatencyStep(table)
    assert table.fastest == 1.8 and step.latency_scale == 10.0  # 1.8 ms <= e: LAT in 0.1 ms (18 > e)
    step.start_epoch(10)
    assert math.isclose(step.temperature, 5.0 * math.exp(-0.45))
    rng = torch.Generator().manual_seed(0)
    mask = step.weight_mix(torch.zeros(6, 5), rng)
    assert torch.allclose(mask.sum(dim=1), torch.ones(6)) and not torch.allclose(mask, torch.full((6, 5), 0.2))
    uniform = torch.full((6, 5), 0.2)
    assert math.isclose(float(step.latency(uniform)), 10 * table.expected(uniform.numpy()), rel_tol=1e-6)
    assert math.isclose(float(step.latency(torch.eye(5)[[0] * 6])), 10 * table.fastest)  # floored: 1.5 < 1.8


def test_a_larger_beta_lowers_the_expected_latency(tiny_data: ImageData, table: LatencyTable) -> None:
    expected = [
        table.expected(fbnet_search(tiny_data, table, epochs=3, seed=0, beta=beta, config=CONFIG).weights)
        for beta in (0.0, 0.6, 3.0)
    ]
    assert expected[0] > expected[1] > expected[2]


BAD_OPTIONS = [
    pytest.param({"alpha": 0.0}, "alpha must be positive", id="alpha-0"),
    pytest.param({"alpha": -0.2}, "alpha must be positive", id="alpha-negative"),
    pytest.param({"beta": -0.6}, "beta must be non-negative", id="beta-negative"),
    pytest.param({"temperature": 0}, "temperature must be positive", id="temperature-0"),
    pytest.param({"anneal": float("nan")}, "anneal must be a finite number", id="anneal-nan"),
    pytest.param({"latency_scale": 0.5}, r"latency_scale=0.5: .* not above 1", id="scale-too-small"),
    pytest.param({"alpha": True}, "alpha must be a finite number", id="alpha-bool"),
    pytest.param({"table": "edgegpu"}, "table must be a LatencyTable", id="table-a-name"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS)
def test_bad_fbnet_options_raise_naming_the_option(
    options: dict[str, Any], message: str, tiny_data: ImageData, table: LatencyTable
) -> None:
    options = dict(options)
    latency = options.pop("table", table)
    with pytest.raises(ValueError, match=message):
        fbnet_search(tiny_data, latency, epochs=1, config=CONFIG, **options)
