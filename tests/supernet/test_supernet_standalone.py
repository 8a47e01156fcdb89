"""Stand-alone training of single cells (the honest check's ground truth)."""

from __future__ import annotations

import numpy as np
import pytest

from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.data import ImageData, digits, image_data
from predictbench.supernet.standalone import train_standalone
from predictbench.supernet.trainer import TrainConfig


def test_standalone_training_is_seeded_and_separates_dead_cells(space: NB201Space) -> None:
    data = digits(size=8, limit=400)
    dead = space.from_ops(["none"] * 6)  # output identically zero: the classifier learns only a bias
    conv = space.arch_at(6111)
    config = TrainConfig(batch_size=32, lr=0.05)
    result = train_standalone([dead, conv], data, epochs=3, seed=0, channels=4, config=config)
    assert result.accuracy.shape == (2,) and result.loss.shape == (2,) and (result.seconds > 0).all()
    assert result.accuracy[0] < 0.25 and result.accuracy[1] > 0.4  # chance level vs learning (0.08 vs 0.55 here)
    again = train_standalone([conv], data, epochs=3, seed=0, channels=4, config=config)
    assert again.accuracy[0] == result.accuracy[1] and again.loss[0] == result.loss[1]
    assert np.all((result.accuracy >= 0) & (result.accuracy <= 1))


def test_standalone_needs_three_channel_images(tiny_data: ImageData, space: NB201Space) -> None:
    grey = image_data(
        [(x[:1], int(y)) for x, y in zip(*tiny_data.train.tensors, strict=True)],  # type: ignore[attr-defined]
        [(x[:1], int(y)) for x, y in zip(*tiny_data.valid.tensors, strict=True)],  # type: ignore[attr-defined]
        num_classes=10,
    )
    with pytest.raises(ValueError, match="3-channel"):
        train_standalone([space.arch_at(0)], grey, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_standalone([space.arch_at(0)], tiny_data, epochs=0)
