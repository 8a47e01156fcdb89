"""DARTS, zero-order, ENAS and stand-alone training on augmented images (the real CIFAR-10 subset, or any Dataset).

Every training loop must announce its epoch to an augmenting training split (``augmentation_epoch``), so each
epoch sees its own crops and flips; the validation images stay clean. A recording subclass of ``Augmented``
shows what each loop was served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.darts import darts_search
from predictbench.supernet.data import Augmented, ImageData, cifar10, image_data
from predictbench.supernet.differentiable import SearchConfig
from predictbench.supernet.enas import enas_search
from predictbench.supernet.standalone import train_standalone
from predictbench.supernet.trainer import TrainConfig
from predictbench.supernet.zero_order import ZeroOrderStep, zero_order_search

pytestmark = [pytest.mark.torch]

CONFIG = SearchConfig(channels=4, batch_size=24)
ENAS_TINY: dict[str, Any] = {
    "channels": 4, "batch_size": 16, "controller_steps": 1, "controller_aggregate": 2, "derive_samples": 2,
    "calibration_images": 16, "score_images": 16,
}  # fmt: skip


class Recording(Augmented):
    """An augmenting training split that remembers the epoch and pixels of every batch it serves."""

    served: list[tuple[int | None, np.ndarray, torch.Tensor]]

    @classmethod
    def of(cls, train: Augmented) -> Recording:
        out = cls(
            train.images, train.labels, seed=train.seed, padding=train.padding, flip=train.flip,
            transform=train.transform,
        )  # fmt: skip
        out.served = []
        return out

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = super().batch(rows)
        self.served.append((self.epoch, np.asarray(rows).copy(), images.clone()))
        return images, labels


@pytest.fixture(scope="session")
def images_path(shared_data_dir: Path) -> Path:
    return shared_data_dir / "images" / "cifar10_subset.npz"


@pytest.fixture
def cifar_slice(images_path: Path) -> ImageData:
    """64 real training images: 48 to train (augmented), 16 to score."""
    return cifar10(limit=64, seed=0, path=images_path)


@pytest.fixture
def digits_augmented(tiny_data: ImageData) -> ImageData:
    """Any user Dataset with ``image_data(..., augment=True)``: here the tiny digits task."""
    return image_data(tiny_data.train, tiny_data.valid, num_classes=10, augment=True, name="digits-augmented")


DATA = [
    pytest.param("digits_augmented", id="digits-augmented"),
    pytest.param("cifar_slice", id="cifar10-64", marks=pytest.mark.shared_data),
]
RUNS: list[Any] = [
    pytest.param(lambda data, space: darts_search(data, epochs=2, seed=0, config=CONFIG), id="darts"),
    pytest.param(
        lambda data, space: zero_order_search(data, epochs=2, seed=0, directions=1, inner_steps=1, config=CONFIG),
        id="zero-order",
    ),
    pytest.param(
        lambda data, space: train_standalone(
            [space.arch_at(6111)], data, epochs=2, seed=0, channels=4, config=TrainConfig(batch_size=16)
        ),
        id="standalone",
    ),
    pytest.param(lambda data, space: enas_search(data, epochs=2, seed=0, **ENAS_TINY), id="enas"),
]


@pytest.mark.parametrize("data_fixture", DATA)
@pytest.mark.parametrize("run", RUNS)
def test_training_loops_serve_each_epochs_augmentation(
    data_fixture: str, run: Callable[[ImageData, NB201Space], Any], space: NB201Space, request: pytest.FixtureRequest
) -> None:
    base: ImageData = request.getfixturevalue(data_fixture)
    assert isinstance(base.train, Augmented)
    train = Recording.of(base.train)
    run(replace(base, train=train), space)
    training = [(epoch, rows, images) for epoch, rows, images in train.served if epoch is not None]
    assert {epoch for epoch, _, _ in training} == {0, 1}  # both epochs announced (before: every batch unaugmented)
    assert train.epoch is None  # and reset afterwards: calibration and scoring see clean images
    pixels: dict[int, dict[int, torch.Tensor]] = {0: {}, 1: {}}
    for epoch, rows, images in training:
        pixels[epoch].update(zip(rows.tolist(), images, strict=True))
    assert set(pixels[0]) == set(pixels[1]) == set(range(len(train)))  # every image seen once per epoch
    differ = [i for i in pixels[0] if not torch.equal(pixels[0][i], pixels[1][i])]
    assert len(differ) > len(train) // 2  # the same image, other crops and flips


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "search",
    [
        pytest.param(lambda data, seed: darts_search(data, epochs=1, seed=seed, config=CONFIG), id="darts"),
        pytest.param(
            lambda data, seed: zero_order_search(data, epochs=1, seed=seed, directions=1, config=CONFIG),
            id="zero-order",
        ),
    ],
)
def test_differentiable_search_on_real_images_is_reproducible_by_seed(
    search: Callable[[ImageData, int], Any], cifar_slice: ImageData, space: NB201Space
) -> None:
    first, again, other = search(cifar_slice, 0), search(cifar_slice, 0), search(cifar_slice, 1)
    assert space.is_valid(first.arch) and tuple(space.ops_of(first.arch)) == first.ops
    assert first.weights.tolist() == again.weights.tolist() and first.arch == again.arch
    assert first.train_losses == again.train_losses
    assert first.weights.tolist() != other.weights.tolist()


BAD_OPTIONS = [
    pytest.param(lambda: SearchConfig(channels=0), "channels", id="channels-0"),
    pytest.param(lambda: SearchConfig(cells_per_stage=1.5), "cells_per_stage", id="cells-float"),  # type: ignore[arg-type]
    pytest.param(lambda: SearchConfig(threads=0), "threads", id="threads-0"),
    pytest.param(lambda: SearchConfig(arch_lr=0.0), "arch_lr", id="arch-lr-0"),
    pytest.param(lambda: SearchConfig(arch_weight_decay=-1.0), "arch_weight_decay", id="arch-wd-negative"),
    pytest.param(lambda: SearchConfig(batch_size=0), "batch_size", id="batch-size-0"),
    pytest.param(lambda: SearchConfig(lr=-0.1), "lr", id="lr-negative"),
    pytest.param(lambda: ZeroOrderStep(directions=0), "directions", id="directions-0"),
    pytest.param(lambda: ZeroOrderStep(mu=0.0), "mu", id="mu-0"),
    pytest.param(lambda: ZeroOrderStep(inner_steps=-1), "inner_steps", id="inner-steps-negative"),
]


@pytest.mark.parametrize(("make", "option"), BAD_OPTIONS)
def test_bad_search_options_raise_naming_the_option(make: Callable[[], Any], option: str) -> None:
    with pytest.raises(ValueError, match=rf"^{option} must"):
        make()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        pytest.param(lambda data: darts_search(data, epochs=0), ValueError, "epochs must", id="epochs-0"),
        pytest.param(lambda data: darts_search(data.train, epochs=1), TypeError, "data must be an ImageData",
                     id="dataset-not-imagedata"),
    ],
)  # fmt: skip
def test_bad_search_inputs(call: Callable[[ImageData], Any], error: type, message: str, tiny_data: ImageData) -> None:
    with pytest.raises(error, match=message):
        call(tiny_data)


@pytest.fixture(scope="module")
def bench_script() -> Any:
    """benchmarks/bench_oneshot_search.py imported as a module (its main(argv) is the command)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_oneshot_search.py"
    spec = importlib.util.spec_from_file_location("bench_oneshot_search", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


BAD_BENCH_ARGS = [
    ("unknown-method", ["--methods", "darts,foo"], "--methods: unknown foo; known: darts, zero-order, enas"),
    ("seeds-not-ints", ["--seeds", "a,b"], "--seeds must be comma-separated ints, got 'a,b'"),
    ("no-seeds", ["--seeds", ","], "--seeds: give at least one seed"),
    ("images-missing", ["--images", "/nonexistent/c10.npz"], "real CIFAR-10 images not found at /nonexistent/c10.npz"),
    ("epochs-0", ["--epochs", "0"], "--epochs must be a positive int, got 0"),
    ("arch-lr-0", ["--arch-lr", "0"], "arch_lr must be a positive number, got 0.0"),
    ("controller-lr-0", ["--controller-lr", "0"], "ENASNB201: controller_lr must be a positive number, got 0.0"),
    ("directions-0", ["--directions", "0"], "directions must be a positive int, got 0"),
    ("store-missing", [], "benchmark 'nb201/cifar10' is not converted in"),
    ("summarise-missing", ["--summarise", "/nonexistent/runs.jsonl"], "No such file or directory"),
]  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.parametrize(("argv", "message"), [c[1:] for c in BAD_BENCH_ARGS], ids=[c[0] for c in BAD_BENCH_ARGS])
def test_bench_refuses_bad_options_before_searching(
    bench_script: Any,
    images_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    out = tmp_path / "runs.jsonl"
    images = [] if "--images" in argv else ["--images", str(images_path)]
    with pytest.raises(SystemExit) as exit_info:
        bench_script.main(["--root", str(tmp_path / "empty"), *images, *argv, "--out", str(out)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not out.exists()  # nothing written on a usage error
