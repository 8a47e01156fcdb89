"""The digits image task and user datasets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from predictbench.rng import spawn
from predictbench.supernet.data import ImageData, batches, digits, image_data, with_random_labels


def test_digits_is_a_seeded_standardised_three_channel_split() -> None:
    data = digits(size=16, seed=3)
    again = digits(size=16, seed=3)
    other = digits(size=16, seed=4)
    assert isinstance(data.train, TensorDataset) and isinstance(data.valid, TensorDataset)
    assert (len(data.train), len(data.valid)) == (1348, 449)  # all 1,797 images, a quarter held out
    assert data.image_shape == (3, 16, 16) and data.num_classes == 10
    images, labels = data.train.tensors
    assert images.shape == (1348, 3, 16, 16) and labels.dtype == torch.int64
    assert torch.equal(images[:, 0], images[:, 2])  # the grey channel repeated
    assert abs(float(images.mean())) < 1e-4 and abs(float(images.std()) - 1.0) < 1e-3
    assert set(labels.tolist()) == set(range(10))
    assert torch.equal(images, again.train.tensors[0])
    assert not torch.equal(labels, other.train.tensors[1])


def test_digits_limit_and_native_size() -> None:
    data = digits(size=8, limit=40, valid_fraction=0.25)
    assert (len(data.train), len(data.valid)) == (30, 10)
    assert data.image_shape == (3, 8, 8)
    with pytest.raises(ValueError, match="valid_fraction"):
        digits(valid_fraction=1.0)
    with pytest.raises(ValueError, match="limit"):
        digits(limit=2)
    with pytest.raises(ValueError, match="size"):
        digits(size=0)


class _Pairs(Dataset):  # type: ignore[type-arg]
    """A user's map-style dataset (not a TensorDataset): goes through a DataLoader."""

    def __init__(self, n: int, shape: tuple[int, ...] = (3, 8, 8)) -> None:
        self.images = torch.arange(n * int(np.prod(shape)), dtype=torch.float32).reshape(n, *shape)
        self.labels = torch.arange(n) % 3

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


def test_user_datasets_are_checked_and_batched_in_order() -> None:
    data = image_data(_Pairs(10), _Pairs(4), num_classes=3, name="mine")
    assert isinstance(data, ImageData) and data.image_shape == (3, 8, 8)
    order = np.array([3, 1, 7, 0, 9])
    got = list(batches(data.train, 2, order))
    assert [len(y) for _, y in got] == [2, 2, 1]
    images = torch.cat([x for x, _ in got])
    assert torch.equal(images, data.train.images[torch.from_numpy(order)])  # type: ignore[attr-defined]
    assert got[0][1].dtype == torch.int64
    with pytest.raises(ValueError, match="differ in shape"):
        image_data(_Pairs(4), _Pairs(4, (3, 4, 4)), num_classes=3)
    with pytest.raises(TypeError, match=r"shape \(C, H, W\)"):
        image_data(_Pairs(4, (8, 8)), _Pairs(4, (8, 8)), num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        image_data(_Pairs(4), _Pairs(4), num_classes=0)


def test_random_labels_keep_images_and_replace_labels(tiny_data: ImageData) -> None:
    noisy = with_random_labels(tiny_data, seed=0)
    assert noisy.valid is tiny_data.valid
    x, y = noisy.train.tensors  # type: ignore[attr-defined]
    x0, y0 = tiny_data.train.tensors  # type: ignore[attr-defined]
    assert torch.equal(x, x0)
    assert not torch.equal(y, y0) and int(y.min()) >= 0 and int(y.max()) < 10
    assert torch.equal(y, with_random_labels(tiny_data, seed=0).train.tensors[1])  # type: ignore[attr-defined]
    wrapped = with_random_labels(image_data(_Pairs(6), _Pairs(2), num_classes=3), seed=1)
    expected = spawn(1, "random-labels").integers(0, 3, size=6).tolist()
    assert [int(wrapped.train[i][1]) for i in range(6)] == expected
    assert torch.equal(wrapped.train[4][0], wrapped.train.dataset.images[4])  # type: ignore[attr-defined]
