"""Supernets on the shared real CIFAR-10 subset: split, augmentation, exact resume, rank check against NB201."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

import predictbench as pb
from predictbench.proxies.images import normalise_cifar10, to_unit_tensor
from predictbench.supernet.data import (
    Augmented,
    ImageData,
    augmentation_epoch,
    batches,
    cifar10,
    image_data,
    with_random_labels,
)
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.random_label import RandomLabelNB201
from predictbench.supernet.study import METHODS, rank_check
from predictbench.supernet.trainer import TrainConfig, train_supernet
from predictbench.supernet.weight_sharing import uniform_path

pytestmark = [pytest.mark.torch]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def images_path(shared_data_dir: Path) -> Path:
    return shared_data_dir / "images" / "cifar10_subset.npz"


@pytest.fixture(scope="session")
def small(images_path: Path) -> ImageData:
    """96 real training images (72 train, 24 valid) and the 846 test images."""
    return cifar10(limit=96, seed=0, path=images_path)


@pytest.mark.shared_data
def test_cifar10_split_is_seeded_disjoint_and_normalised(images_path: Path) -> None:
    from predictbench.proxies.images import load_cifar10_subset

    data = cifar10(seed=0, path=images_path)
    assert (len(data.train), len(data.valid), len(data.test or [])) == (3495, 1165, 846)  # type: ignore[arg-type]
    assert data.image_shape == (3, 32, 32) and data.num_classes == 10 and data.name == "cifar10"
    assert isinstance(data.train, Augmented) and isinstance(data.valid, TensorDataset)
    raw = load_cifar10_subset(images_path)
    # train + valid are a partition of the 4,660 training images: every label counted once
    labels = torch.cat([data.train.labels, data.valid.tensors[1]])
    assert np.array_equal(np.bincount(labels.numpy(), minlength=10), np.bincount(raw["y_train"], minlength=10))
    # valid images are the NB201-normalised originals; the test split is the 846 test images in order
    valid_x = data.valid.tensors[0]
    assert abs(float(valid_x.mean())) < 0.2 and 0.8 < float(valid_x.std()) < 1.2
    assert torch.equal(data.test.tensors[0], normalise_cifar10(to_unit_tensor(raw["x_test"])))  # type: ignore[union-attr]
    assert data.test.tensors[1].tolist()[:10] == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # type: ignore[union-attr]
    again, other = cifar10(seed=0, path=images_path), cifar10(seed=1, path=images_path)
    assert torch.equal(again.valid.tensors[0], valid_x)  # type: ignore[attr-defined]
    assert not torch.equal(other.valid.tensors[1], data.valid.tensors[1])  # type: ignore[attr-defined]


@pytest.mark.shared_data
def test_augmentation_is_crop_and_flip_per_seed_epoch_and_image(small: ImageData) -> None:
    train = small.train
    assert isinstance(train, Augmented)
    rows = np.arange(len(train))
    clean, labels = train.batch(rows)
    assert torch.equal(clean, normalise_cifar10(train.images))  # no epoch announced: unaugmented
    with augmentation_epoch(train, 3):
        first, same_labels = train.batch(rows)
        single = train[5][0]
    assert train.epoch is None  # reset after the epoch, so calibration and scoring see clean images
    assert torch.equal(labels, same_labels) and torch.equal(single, first[5])
    assert not torch.equal(first, clean)
    # each image is a 32x32 window of its zero-padded (black) original, flipped or not
    padded = torch.nn.functional.pad(train.images, (4, 4, 4, 4))
    for i in range(len(train)):
        dy, dx = train._offsets[i]
        window = padded[i, :, dy : dy + 32, dx : dx + 32]
        expected = window.flip(-1) if train._flips[i] else window
        assert torch.equal(first[i], normalise_cifar10(expected[None])[0])
    assert 0 < train._flips.sum() < len(train) and len({tuple(o) for o in train._offsets}) > 10
    with augmentation_epoch(train, 3):
        assert torch.equal(train.batch(rows)[0], first)  # same (seed, epoch): same crops
    with augmentation_epoch(train, 4):
        assert not torch.equal(train.batch(rows)[0], first)
    # batches() slices an Augmented dataset without a DataLoader, in the order asked
    order = np.array([7, 2, 9])
    with augmentation_epoch(train, 3):
        got = torch.cat([x for x, _ in batches(train, 2, order)])
    assert torch.equal(got, first[torch.from_numpy(order)])


def _model() -> NB201Supernet:
    torch.manual_seed(0)
    return NB201Supernet(channels=4, cells_per_stage=1, num_classes=10)


@pytest.mark.shared_data
def test_training_on_augmented_images_resumes_exactly(small: ImageData, tmp_path: Path) -> None:
    config = TrainConfig(batch_size=24)  # 3 batches per epoch
    straight = _model()
    log = train_supernet(straight, small.train, epochs=2, seed=1, sample_path=uniform_path, config=config)
    calls = 0

    class Interrupt(Exception):
        pass

    def interrupting(rng: np.random.Generator) -> tuple[int, ...]:
        nonlocal calls
        calls += 1
        if calls > 4:  # dies inside the second epoch, after one checkpoint
            raise Interrupt
        return uniform_path(rng)

    checkpoint = tmp_path / "supernet.pt"
    with pytest.raises(Interrupt):
        train_supernet(_model(), small.train, epochs=2, seed=1, sample_path=interrupting, config=config,
                       checkpoint=checkpoint)  # fmt: skip
    assert small.train.epoch is None  # type: ignore[attr-defined]  # reset even when the epoch dies
    resumed = _model()
    log2 = train_supernet(resumed, small.train, epochs=2, seed=1, sample_path=uniform_path, config=config,
                          checkpoint=checkpoint)  # fmt: skip
    assert log2.resumed_from == 1 and log2.losses == log.losses
    assert all(
        torch.equal(a, b) for a, b in zip(resumed.state_dict().values(), straight.state_dict().values(), strict=True)
    )
    # the augmentation is really used: without it the same training ends elsewhere
    unaugmented = ImageData(
        TensorDataset(normalise_cifar10(small.train.images), small.train.labels),  # type: ignore[attr-defined]
        small.valid,
        10,
        small.image_shape,
    )
    other = train_supernet(_model(), unaugmented.train, epochs=2, seed=1, sample_path=uniform_path, config=config)
    assert other.losses != log.losses


@pytest.mark.shared_data
def test_random_labels_keep_augmented_images(small: ImageData) -> None:
    noisy = with_random_labels(small, seed=0)
    assert isinstance(noisy.train, Augmented) and noisy.test is small.test and noisy.valid is small.valid
    assert torch.equal(noisy.train.images, small.train.images)  # type: ignore[attr-defined]
    assert not torch.equal(noisy.train.labels, small.train.labels)  # type: ignore[attr-defined]
    from predictbench.spaces import get_space

    space = get_space("nb201")
    rl = RandomLabelNB201(channels=4, batch_size=24).fit(space, small, epochs=1, seed=0)
    angles = rl.score(space.from_index([0, 1, 6111]))
    assert np.isfinite(angles).all() and (angles > 0).any()


class _Pairs(Dataset):  # type: ignore[type-arg]
    def __init__(self, n: int) -> None:
        self.images = torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(n))
        self.labels = torch.arange(n) % 3

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


def test_user_dataset_gets_the_same_augmentation() -> None:
    data = image_data(_Pairs(10), _Pairs(4), num_classes=3, augment=True, seed=2)
    assert isinstance(data.train, Augmented)
    rows = np.arange(10)
    assert torch.equal(data.train.batch(rows)[0], _Pairs(10).images)
    with augmentation_epoch(data.train, 0):
        augmented = data.train.batch(rows)[0]
    assert augmented.shape == (10, 3, 8, 8) and not torch.equal(augmented, _Pairs(10).images)
    assert image_data(_Pairs(10), _Pairs(4), num_classes=3).train.__class__ is _Pairs  # default: as given


BAD_CIFAR: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("missing-file", {"path": "/nonexistent/cifar10_subset.npz"}, FileNotFoundError,
     r"not found at /nonexistent/cifar10_subset.npz"),
    ("valid-fraction-1", {"valid_fraction": 1.0}, ValueError, r"valid_fraction must lie in \(0, 1\), got 1.0"),
    ("valid-fraction-str", {"valid_fraction": "0.2"}, ValueError, r"valid_fraction must lie in \(0, 1\), got '0.2'"),
    ("limit-3", {"limit": 3}, ValueError, r"limit must be at least 4 images"),
    ("limit-0", {"limit": 0}, ValueError, r"limit must be a positive int, got 0"),
]  # fmt: skip


@pytest.mark.shared_data
@pytest.mark.parametrize(("kwargs", "error", "match"), [c[1:] for c in BAD_CIFAR], ids=[c[0] for c in BAD_CIFAR])
def test_cifar10_bad_arguments(images_path: Path, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        cifar10(**{"path": images_path, **kwargs})


BAD_FILES: list[tuple[str, bytes | None, str]] = [
    ("not-a-zip", b"hello", r"junk.npz is not a readable .npz of CIFAR-10 images"),
    ("missing-arrays", None, r"junk.npz lacks the arrays \['x_test', 'y_test'\]"),
]


@pytest.mark.parametrize(("content", "match"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_cifar10_bad_files_name_the_file(tmp_path: Path, content: bytes | None, match: str) -> None:
    file = tmp_path / "junk.npz"
    if content is None:
        with file.open("wb") as handle:
            np.savez(handle, x_train=np.zeros((8, 32, 32, 3), np.uint8), y_train=np.zeros(8, np.uint8))
    else:
        file.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        cifar10(path=file)


@pytest.mark.shared_data
def test_rank_check_scores_every_estimator_against_the_table(small: ImageData, analog_root: Path) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    result = rank_check(
        bench, small, n_cells=12, epochs=1, sub_epochs=1, gcn_samples=6, seed=0, channels=4,
        calibration_images=16, score_images=16,
    )  # fmt: skip
    assert list(result["methods"]) == list(METHODS)
    assert len(result["cells"]) == len(set(result["cells"])) == 12
    report = bench.report_metric
    assert report is not None and result["truth"]["metric"] == report.metric
    truth = bench.lookup(bench.space.from_index(result["cells"]), report.metric, fidelity=report.fidelity)
    assert result["truth"]["mean"] == pytest.approx(float(np.mean(truth)))
    for name in METHODS:
        m = result["methods"][name]
        assert len(result["scores"][name]) == 12
        assert -1.0 <= m["kendall_tau"] <= 1.0 or np.isnan(m["kendall_tau"])
        assert m["fit_seconds"] >= 0 and m["score_seconds"] >= 0
    assert result["settings"]["epochs"] == 1 and "cifar10" in result["data"]


RANK_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("one-cell", {"n_cells": 1}, r"n_cells must be an int in 2..15625, got 1"),
    ("too-many-cells", {"n_cells": 15626}, r"n_cells must be an int in 2..15625, got 15626"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("kwargs", "match"), [c[1:] for c in RANK_BAD], ids=[c[0] for c in RANK_BAD])
def test_rank_check_bad_arguments(small: ImageData, analog_root: Path, kwargs: dict[str, Any], match: str) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    with pytest.raises(ValueError, match=match):
        rank_check(bench, small, **kwargs)


BAD_BENCH_ARGS: list[tuple[str, list[str], str]] = [
    ("missing-images", ["--data", "cifar10", "--images", "/nonexistent/c.npz"],
     "error: --data cifar10: real CIFAR-10 images not found at /nonexistent/c.npz"),
    ("unknown-data", ["--data", "mnist"], "argument --data: invalid choice: 'mnist'"),
]  # fmt: skip


@pytest.fixture(scope="module")
def bench_script() -> Iterator[Any]:
    """benchmarks/bench_supernet.py imported as a module (its main() is the command)."""
    spec = importlib.util.spec_from_file_location("bench_supernet", ROOT / "benchmarks" / "bench_supernet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.parametrize(("argv", "message"), [c[1:] for c in BAD_BENCH_ARGS], ids=[c[0] for c in BAD_BENCH_ARGS])
def test_bench_script_refuses_bad_data_options(
    bench_script: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["bench_supernet.py", *argv, "--out", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        bench_script.main()
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
    assert not out.exists()  # nothing written on a usage error
