"""Zero-cost proxies: registry and directions, determinism, batches, consistency with closed forms.

(Named test_proxy_metrics.py, not test_metrics.py: tests/ has no __init__.py files, so test module
basenames must be unique and tests/studies/test_metrics.py exists.)
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the proxies need torch (pip install torch==2.13.0, CPU build)")

from predictbench.proxies import (  # noqa: E402
    ALIASES,
    DATA_FREE,
    DEFAULT_PROXIES,
    PROXIES,
    PROXY_METRICS,
    get_proxy,
    proxy_metric,
    resolve_proxy_name,
)
from predictbench.proxies.analytic import nb201_flops, nb201_params  # noqa: E402
from predictbench.proxies.metrics import compute_proxies, make_batch, synthetic_batch  # noqa: E402
from predictbench.proxies.networks import build_nb201  # noqa: E402
from predictbench.spaces import get_space  # noqa: E402
from predictbench.types import UnknownNameError  # noqa: E402

SPACE = get_space("nb201")
BEST = SPACE.arch_at(6111)
TINY = {"channels": 4, "cells_per_stage": 1, "batch_size": 12}
ISSUE_PROXIES = {
    "grad_norm", "snip", "grasp", "fisher", "synflow", "jacob_cov", "nwot", "zen", "epe_nas", "l2_norm", "plain",
    "params", "flops",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (the shared fixture in tests/conftest.py)."""


@pytest.fixture(scope="module")
def best_values() -> dict[str, float]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return compute_proxies(BEST, seed=0, **TINY).values
    finally:
        torch.set_num_threads(threads)


def test_every_issue_proxy_is_registered_with_a_declared_direction() -> None:
    assert set(DEFAULT_PROXIES) == ISSUE_PROXIES  # the 2023-25 proxies are registered too, opt-in
    assert ISSUE_PROXIES <= set(PROXY_METRICS) == set(PROXIES.names())
    for name, metric in PROXY_METRICS.items():
        assert metric.kind == "proxy" and metric.name == name
        assert isinstance(metric.higher_is_better, bool)
        fn = get_proxy(name)
        assert fn.metric is metric  # the function carries its declaration
        assert proxy_metric(name) is metric
    assert DATA_FREE <= set(PROXY_METRICS)
    assert "NEGATIVELY" in PROXY_METRICS["plain"].description


def test_aliases_and_unknown_names() -> None:
    assert resolve_proxy_name("jacov") == "jacob_cov"
    assert all(target in PROXY_METRICS for target in ALIASES.values())
    with pytest.raises(UnknownNameError, match="synflow"):
        resolve_proxy_name("synflw")


def test_importing_the_registry_does_not_import_torch() -> None:
    code = "import sys, predictbench.proxies as p; p.proxy_metric('zen'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_proxy_is_finite_and_deterministic(best_values: dict[str, float]) -> None:
    assert set(best_values) == ISSUE_PROXIES
    assert all(math.isfinite(v) for v in best_values.values()), best_values
    again = compute_proxies(BEST, seed=0, **TINY).values
    assert again == best_values


def test_another_seed_changes_the_random_proxies(best_values: dict[str, float]) -> None:
    other = compute_proxies(BEST, ["synflow", "zen", "grad_norm", "params"], seed=1, **TINY).values
    assert other["params"] == best_values["params"]
    for name in ("synflow", "zen", "grad_norm"):
        assert other[name] != best_values[name], name


def test_proxies_neither_change_the_network_nor_the_global_rng() -> None:
    net = build_nb201(BEST, channels=4, cells_per_stage=1, seed=5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    inputs, targets = synthetic_batch(8, seed=0)
    state = torch.random.get_rng_state()
    for name in PROXY_METRICS:
        get_proxy(name)(net, inputs, targets, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in net.parameters())


def test_params_and_flops_equal_the_closed_forms(best_values: dict[str, float]) -> None:
    assert best_values["params"] == pytest.approx(nb201_params([BEST], channels=4, cells_per_stage=1)[0] / 1e6)
    assert best_values["flops"] == pytest.approx(nb201_flops([BEST], channels=4, cells_per_stage=1)[0] / 1e6)
    full = compute_proxies(BEST, ["params", "flops"], num_classes=120, resolution=16, batch_size=2).values
    assert full["params"] == pytest.approx(1.080616, abs=1e-9)  # Suite-Zero's ImageNet16-120 values
    assert full["flops"] == pytest.approx(38.903872, abs=1e-9)


def test_synthetic_batch_is_seeded_gaussian_with_valid_labels() -> None:
    x, y = synthetic_batch(16, num_classes=5, resolution=8, seed=3)
    assert x.shape == (16, 3, 8, 8) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and int(y.min()) >= 0 and int(y.max()) < 5
    x2, y2 = synthetic_batch(16, num_classes=5, resolution=8, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, synthetic_batch(16, num_classes=5, resolution=8, seed=4)[0])
    with pytest.raises(ValueError, match="batch_size"):
        synthetic_batch(1)


def test_user_batches_and_datasets() -> None:
    g = torch.Generator().manual_seed(0)
    images, labels = torch.randn(20, 3, 32, 32, generator=g), torch.arange(20) % 10
    x, y = make_batch((images, labels), batch_size=8)
    assert torch.equal(x, images[:8]) and torch.equal(y, labels[:8])
    x_np, _ = make_batch((images.numpy(), labels.numpy()), batch_size=8)
    assert torch.equal(x_np, x)
    dataset = [(images[i], int(labels[i])) for i in range(20)]
    xa, ya = make_batch(dataset, batch_size=6, seed=1)
    xb, yb = make_batch(dataset, batch_size=6, seed=1)
    assert xa.shape == (6, 3, 32, 32) and torch.equal(xa, xb) and torch.equal(ya, yb)
    with pytest.raises(ValueError, match="inputs"):
        make_batch((images[0], labels))
    with pytest.raises(TypeError, match="map-style"):
        make_batch(42)
    real = compute_proxies(BEST, ["grad_norm", "jacob_cov"], data=(images, labels), **TINY).values
    assert all(math.isfinite(v) for v in real.values())


def test_degenerate_cell_gives_nan_not_a_sentinel() -> None:
    values = compute_proxies(SPACE.from_ops(["none"] * 6), ["jacob_cov", "synflow", "grad_norm"], **TINY).values
    assert math.isnan(values["jacob_cov"])  # output does not depend on the input
    assert values["synflow"] == 0.0 and values["grad_norm"] == 0.0


def test_compute_proxies_on_a_plain_module() -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 8 * 8, 3)
        )
    values = compute_proxies(net, ["params", "snip", "nwot", "flops"], resolution=8, num_classes=3, batch_size=6)
    assert values.values["params"] == pytest.approx((3 * 4 * 9 + 4 + 256 * 3 + 3) / 1e6)
    assert values.values["flops"] == pytest.approx((9 * 3 * 4 * 64 + 4 * 64 + 256 + 256 * 3) / 1e6)
    assert np.isfinite(values.values["snip"]) and np.isfinite(values.values["nwot"])
    with pytest.raises(TypeError, match="forward_features"):
        compute_proxies(net, ["zen"], resolution=8, num_classes=3, batch_size=6)
