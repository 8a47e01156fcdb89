"""The 2023-25 proxies (AZ-NAS, VKDNW, MeCo, ZiCo, SWAP): definitions, determinism, invariances, aggregates."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the proxies need torch (pip install torch==2.13.0, CPU build)")

from predictbench.proxies import (  # noqa: E402
    DATA_FREE,
    DEFAULT_PROXIES,
    NEEDS_LABELS,
    PROXY_METRICS,
    REAL_IMAGES,
    get_proxy,
)
from predictbench.proxies.aznas import az_components, az_nas_score, log_rank  # noqa: E402
from predictbench.proxies.images import IMAGES_ENV, cifar10_batch  # noqa: E402
from predictbench.proxies.meco import meco  # noqa: E402
from predictbench.proxies.metrics import compute_proxies, synthetic_batch  # noqa: E402
from predictbench.proxies.networks import build_nb201  # noqa: E402
from predictbench.proxies.swap import count_patterns, swap, swap_reg, swap_regulariser  # noqa: E402
from predictbench.proxies.vkdnw import (  # noqa: E402
    _first_element_jacobian,
    _jacobian_func,
    vkdnw_aggregate,
    vkdnw_single,
)
from predictbench.proxies.zico import zico  # noqa: E402
from predictbench.spaces import get_space  # noqa: E402
from predictbench.types import Arch  # noqa: E402

pytestmark = pytest.mark.torch

SPACE = get_space("nb201")
FRONTIER = [
    "az_expressivity", "az_progressivity", "az_trainability", "az_complexity", "vkdnw_entropy", "vkdnw_dim",
    "meco", "zico", "swap", "swap_reg",
]  # fmt: skip
LABEL_FREE = [n for n in FRONTIER if n not in NEEDS_LABELS]
CELLS = [
    pytest.param(6111, id="best-6111"),
    pytest.param(1000, id="cell-1000"),
    pytest.param(SPACE.index_of(SPACE.from_ops(["nor_conv_1x1"] * 6)), id="all-conv1x1"),
]
TINY = {"channels": 4, "cells_per_stage": 1}


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (the shared fixture in tests/conftest.py)."""


def tiny(index: int, num_classes: int = 10) -> torch.nn.Module:
    return build_nb201(SPACE.arch_at(index), num_classes=num_classes, seed=3, **TINY)


def test_the_frontier_proxies_are_registered_with_their_inputs_declared() -> None:
    for name in FRONTIER:
        metric = PROXY_METRICS[name]
        assert metric.kind == "proxy" and metric.higher_is_better
        assert get_proxy(name).metric is metric
    assert not set(FRONTIER) & set(DEFAULT_PROXIES)  # opt-in: the default table stays the Suite-Zero 13
    assert REAL_IMAGES == {"zico", "swap", "swap_reg"} and "zico" in NEEDS_LABELS
    assert {"az_complexity", "vkdnw_dim"} <= DATA_FREE


@pytest.mark.parametrize("index", CELLS)
def test_each_proxy_is_finite_and_deterministic_on_tiny_cells(index: int) -> None:
    x, y = synthetic_batch(8, seed=0)
    net = tiny(index)
    for name in FRONTIER:
        fn = get_proxy(name)
        options = {"repeats": 2} if name.startswith("swap") else {}
        first = fn(net, x, y, seed=0, **options)
        assert math.isfinite(first), (name, first)
        assert fn(net, x, y, seed=0, **options) == first, name


def test_seeds_change_the_randomised_proxies_but_not_the_counts() -> None:
    x, y = synthetic_batch(8, seed=0)
    net = tiny(6111)
    for name in ("az_expressivity", "az_trainability", "vkdnw_entropy"):
        assert get_proxy(name)(net, x, y, seed=0) != get_proxy(name)(net, x, y, seed=1), name
    assert get_proxy("vkdnw_dim")(net, x, y, seed=0) == get_proxy("vkdnw_dim")(net, x, y, seed=1)


def test_proxies_leave_the_network_and_the_global_rng_alone() -> None:
    net = tiny(6111)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = synthetic_batch(8, seed=0)
    state = torch.random.get_rng_state()
    for name in FRONTIER:
        get_proxy(name)(net, x, y, seed=0, **({"repeats": 2} if name.startswith("swap") else {}))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())


def test_az_nas_scores_an_identity_block_minus_infinity() -> None:
    skip_only = SPACE.from_ops(["none", "none", "none", "skip_connect", "none", "none"])  # cell output = input
    net = build_nb201(skip_only, seed=0, **TINY)
    assert az_components(net, synthetic_batch(8, seed=0)[0])["az_trainability"] == -math.inf


def test_vkdnw_fast_jacobian_equals_torch_func() -> None:
    net = tiny(1000).eval()
    x, _ = synthetic_batch(6, seed=2)
    fast, logits = _first_element_jacobian(net, x)
    slow, _ = _jacobian_func(net, x)
    assert fast.shape == (6, 10, len(list(net.parameters())))
    torch.testing.assert_close(fast, slow, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(logits, net(x))


@pytest.mark.parametrize("index", CELLS[:2])
def test_meco_is_invariant_to_the_input_scale(index: int) -> None:
    net = tiny(index)
    x, y = synthetic_batch(2, seed=0)
    assert meco(net, 10.0 * x, y) == pytest.approx(meco(net, x, y), rel=1e-3)
    assert meco(net, x, y, channels=2, seed=0) == meco(net, x, y, channels=2, seed=0)


@pytest.mark.parametrize(
    "codes, expected",
    [
        pytest.param([[1, 0, 1, 1], [1, 0, 0, 1]], 3, id="two-samples"),
        pytest.param([[0, 0, 0]], 1, id="one-sample-all-off"),
        pytest.param(np.eye(70, 5), 5, id="more-than-one-word"),
        pytest.param(np.hstack([np.eye(70, 5), np.eye(70, 5)]), 5, id="duplicates-across-words"),
    ],
)
def test_count_patterns_counts_distinct_neuron_columns(codes: list[list[int]], expected: int) -> None:
    assert count_patterns(torch.as_tensor(np.asarray(codes, dtype=np.float32))) == expected


def test_swap_is_bounded_by_the_patterns_the_batch_allows() -> None:
    net = tiny(6111)
    x, y = synthetic_batch(8, seed=0)
    for n_images in (1, 2, 3):
        assert 1 <= swap(net, x, y, n_images=n_images, repeats=2) <= 2**n_images
    raw = swap(net, x, y, repeats=2)
    assert swap_reg(net, x, y, repeats=2) == pytest.approx(raw * swap_regulariser(net))
    assert swap_regulariser(net, mu=sum(p.numel() for p in net.parameters()) / 1e3) == 1.0


def test_zico_needs_two_batches_and_sees_labels() -> None:
    net = tiny(6111)
    x, y = synthetic_batch(8, seed=0)
    assert zico(net, x, y) != zico(net, x, torch.roll(y, 1))
    with pytest.raises(ValueError, match="n_batches"):
        zico(net, x, y, n_batches=1)


AGG_TABLE = pd.DataFrame(
    {  # three cells; the aggregates are functions of the ranks only
        "az_expressivity": [1.0, 3.0, 2.0],
        "az_progressivity": [0.1, 0.2, 0.3],
        "az_trainability": [-1.0, -2.0, -math.inf],
        "az_complexity": [10.0, 30.0, 20.0],
        "vkdnw_dim": [30.0, 30.0, 10.0],
        "vkdnw_entropy": [0.5, 0.9, 2.0],
        "jacob_cov": [-3.0, -1.0, -2.0],
        "flops": [10.0, 30.0, 20.0],
    }
)


def test_az_nas_aggregate_is_the_sum_of_log_ranks() -> None:
    score = az_nas_score(AGG_TABLE)
    expected = (
        np.log([1 / 3, 3 / 3, 2 / 3])
        + np.log([1 / 3, 2 / 3, 3 / 3])
        + np.log([3 / 3, 2 / 3, 1 / 3])
        + np.log([1 / 3, 3 / 3, 2 / 3])
    )
    np.testing.assert_allclose(score, expected)
    np.testing.assert_allclose(az_nas_score(AGG_TABLE * 7 + 1), score)  # ranks only (-inf stays lowest)
    np.testing.assert_allclose(log_rank([2.0, 2.0, np.nan]), np.log([2.5 / 3, 2.5 / 3, 1 / 3]))
    with pytest.raises(KeyError, match="az_progressivity"):
        az_nas_score(AGG_TABLE.drop(columns="az_progressivity"))


def test_vkdnw_single_ranks_dimension_before_entropy_and_agg_adds_log_ranks() -> None:
    single = vkdnw_single(AGG_TABLE)
    np.testing.assert_array_equal(single, [2.0, 3.0, 1.0])  # dim 10 lowest despite the highest entropy
    agg = vkdnw_aggregate(AGG_TABLE)
    others = ("jacob_cov", "az_expressivity", "az_trainability", "flops")
    np.testing.assert_allclose(agg, np.log(single) + sum(log_rank(AGG_TABLE[c]) for c in others))


def test_a_missing_image_file_names_the_path_and_spares_the_other_proxies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from predictbench.proxies import images

    missing = f"{tmp_path}/nowhere/cifar10_subset.npz"
    monkeypatch.setenv(IMAGES_ENV, missing)
    images._load.cache_clear()
    with pytest.raises(FileNotFoundError, match="nowhere/cifar10_subset.npz"):
        compute_proxies(SPACE.arch_at(6111), ["meco", "zico"], batch_size=4, **TINY)
    values = compute_proxies(SPACE.arch_at(6111), ["meco", "vkdnw_entropy"], batch_size=4, **TINY).values
    assert all(math.isfinite(v) for v in values.values())
    images._load.cache_clear()


def test_zico_refuses_cifar10_labels_for_other_tasks() -> None:
    with pytest.raises(ValueError, match=r"zico need labels .* num_classes=100"):
        compute_proxies(SPACE.arch_at(6111), ["zico"], num_classes=100, batch_size=4, **TINY)


@pytest.mark.shared_data
def test_real_images_are_normalised_seeded_and_resized(shared_data_dir: object) -> None:
    x, y = cifar10_batch(64, seed=0)
    assert x.shape == (64, 3, 32, 32) and y.dtype == torch.int64 and 0 <= int(y.min()) <= int(y.max()) <= 9
    assert abs(float(x.mean())) < 0.5 and 0.6 < float(x.std()) < 1.4  # CIFAR-10 mean/std normalised
    again, _ = cifar10_batch(64, seed=0)
    other, _ = cifar10_batch(64, seed=1)
    assert torch.equal(x, again) and not torch.equal(x, other)
    small, _ = cifar10_batch(64, seed=0, resolution=16)
    torch.testing.assert_close(small, torch.nn.functional.avg_pool2d(x, 2))
    with pytest.raises(ValueError, match="batch_size"):
        cifar10_batch(5000)


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "num_classes, resolution, names",
    [
        pytest.param(10, 32, FRONTIER, id="cifar10-all"),
        pytest.param(100, 32, LABEL_FREE, id="cifar100-label-free"),
        pytest.param(120, 16, LABEL_FREE, id="imagenet16-label-free"),
    ],
)
def test_compute_proxies_on_real_images_for_every_task(
    shared_data_dir: object, num_classes: int, resolution: int, names: list[str]
) -> None:
    result = compute_proxies(
        SPACE.arch_at(6111), names, num_classes=num_classes, resolution=resolution, batch_size=8, **TINY
    )
    assert set(result.values) == set(names)
    assert all(math.isfinite(v) for v in result.values.values()), result.values
    assert result.settings["real_images"]["split"] == "train"


@pytest.mark.shared_data
def test_sanity_correlation_on_twenty_cells(nb201_tables_root: object) -> None:
    """On 20 uniform cells (small C=8, N=1 networks), AZ-NAS's aggregate and ZiCo rank test accuracy positively."""
    from scipy.stats import spearmanr

    from predictbench.benchmarks import load

    bench = load("nb201/cifar10", root=nb201_tables_root)
    keys = np.asarray(bench.keys())[np.random.default_rng(0).choice(len(bench.keys()), size=20, replace=False)]
    accuracy = np.asarray(bench.lookup(list(keys), "test_acc", fidelity=200), dtype=float)
    names = [*FRONTIER[:4], "zico"]
    table = pd.DataFrame(
        [
            compute_proxies(Arch("nb201", str(k)), names, batch_size=16, channels=8, cells_per_stage=1).values
            for k in keys
        ]
    )
    assert spearmanr(az_nas_score(table), accuracy).statistic > 0.3
    assert spearmanr(table["zico"], accuracy).statistic > 0.3
