"""The reference, few-shot and random-label adapters: contract, determinism, caching, state, variants."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest
import torch

from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet import CheckpointableAdapter, SupernetAdapter
from predictbench.supernet.data import ImageData
from predictbench.supernet.fewshot import FewShotNB201, fixed_edge_path
from predictbench.supernet.random_label import RandomLabelNB201, weight_angle
from predictbench.supernet.weight_sharing import NB201WeightSharing
from predictbench.types import Arch, NotFittedError, OutOfSpaceError


def _archs(space: NB201Space, n: int = 8, seed: int = 0) -> list[Arch]:
    return space.sample(np.random.default_rng(seed), n)


def test_reference_adapter_honours_the_contract(fitted: NB201WeightSharing, space: NB201Space) -> None:
    assert isinstance(fitted, SupernetAdapter) and isinstance(fitted, CheckpointableAdapter)
    archs = _archs(space)
    scores = fitted.score(archs)
    assert scores.shape == (8,) and np.all((scores >= 0) & (scores <= 1))
    # row-wise and order independent; repeated cells cost nothing (cache) and agree
    assert np.array_equal(fitted.score(archs[::-1]), scores[::-1])
    assert fitted.score([archs[2]])[0] == scores[2]
    assert len(fitted._cache) >= len(set(archs))
    # the cache holds what an uncached evaluation gives
    detail = fitted.path_score(archs[:2])
    assert [d.accuracy for d in detail] == scores[:2].tolist()
    assert fitted.score([]).shape == (0,)


def test_same_seed_same_scores_other_seed_other_scores(
    fitted: NB201WeightSharing, space: NB201Space, tiny_data: ImageData, tiny_scoring: dict[str, Any]
) -> None:
    archs = _archs(space)
    again = NB201WeightSharing(**tiny_scoring).fit(space, tiny_data, epochs=1, seed=0)
    assert np.array_equal(again.score(archs), fitted.score(archs))
    assert torch.equal(again.model_.classifier.weight, fitted.model_.classifier.weight)
    other = NB201WeightSharing(**tiny_scoring).fit(space, tiny_data, epochs=1, seed=1)
    assert not torch.equal(other.model_.classifier.weight, fitted.model_.classifier.weight)
    loss = NB201WeightSharing()
    loss.load_state_dict(fitted.state_dict(), data=tiny_data)
    assert np.array_equal(loss.score(archs), fitted.score(archs))
    loss.metric = "loss"  # a scoring setting: changing it after fit changes what score returns
    negative = loss.score(archs)
    assert np.all(negative < 0)
    assert np.allclose(-negative, [d.loss for d in fitted.path_score(archs)])


def test_state_dict_round_trip_and_pickle(fitted: NB201WeightSharing, space: NB201Space, tiny_data: ImageData) -> None:
    archs = _archs(space, seed=1)
    restored = NB201WeightSharing()
    restored.load_state_dict(fitted.state_dict(), data=tiny_data)
    assert restored.get_params() == fitted.get_params()
    assert np.array_equal(restored.score(archs), fitted.score(archs))
    copied = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(copied.score(archs), fitted.score(archs))
    with pytest.raises(Exception, match="saved by 'NB201WeightSharing'"):
        RandomLabelNB201().load_state_dict(fitted.state_dict(), data=tiny_data)


def test_errors_name_the_problem(fitted: NB201WeightSharing, space: NB201Space, tiny_data: ImageData) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        NB201WeightSharing().score(_archs(space, 1))
    with pytest.raises(OutOfSpaceError, match="not an architecture of the 'nb201' space"):
        fitted.score([Arch("nb101", "0" * 32)])
    with pytest.raises(TypeError, match="sequence of Arch"):
        fitted.score(_archs(space, 1)[0])  # type: ignore[arg-type]
    with pytest.raises(OutOfSpaceError, match="NB201 supernet"):
        NB201WeightSharing().fit(type("Space", (), {"name": "nb101"})(), tiny_data)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="metric must be one of"):
        NB201WeightSharing(metric="auc").fit(space, tiny_data, epochs=0)
    with pytest.raises(TypeError, match="ImageData"):
        NB201WeightSharing().fit(space, [1, 2, 3], epochs=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epochs"):
        NB201WeightSharing().fit(space, tiny_data, epochs=-1)


def test_fixed_edge_sampler_fixes_one_edge_only() -> None:
    sample = fixed_edge_path(2, 4)
    rng = np.random.default_rng(0)
    paths = np.array([sample(rng) for _ in range(200)])
    assert (paths[:, 2] == 4).all()
    assert all(set(paths[:, e]) == set(range(5)) for e in (0, 1, 3, 4, 5))


def test_few_shot_scores_each_cell_with_its_sub_supernet(
    fitted: NB201WeightSharing, space: NB201Space, tiny_data: ImageData, tiny_scoring: dict[str, Any]
) -> None:
    few = FewShotNB201(**tiny_scoring, split_edge=3, sub_epochs=1)
    few.fit(space, tiny_data, epochs=1, seed=0, init_from=fitted)
    assert len(few.subnets_) == 5 and few.sub_epochs_ == 1
    # the sub-supernets start from the supernet and drift apart; the supernet itself is untouched
    assert torch.equal(few.model_.classifier.weight, fitted.model_.classifier.weight)
    assert not torch.equal(few.subnets_[0].classifier.weight, few.subnets_[1].classifier.weight)
    archs = _archs(space, 10, seed=2)
    scores = few.score(archs)
    for arch, score in zip(archs[:3], scores[:3], strict=False):
        ops = tuple(space.ops_array([arch])[0].tolist())
        manual = few._evaluate(ops)
        assert manual.accuracy == score
    # warm start = training the same supernet from scratch (same settings and seed)
    scratch = FewShotNB201(**tiny_scoring, split_edge=3, sub_epochs=1).fit(space, tiny_data, epochs=1, seed=0)
    assert np.array_equal(scratch.score(archs), scores)
    restored = FewShotNB201()
    restored.load_state_dict(few.state_dict(), data=tiny_data)
    assert np.array_equal(restored.score(archs), scores)
    with pytest.raises(ValueError, match="init_from was fit with seed=0"):
        FewShotNB201(**tiny_scoring).fit(space, tiny_data, epochs=1, seed=3, init_from=fitted)
    with pytest.raises(ValueError, match="split_edge"):
        FewShotNB201(split_edge=6).fit(space, tiny_data, epochs=0)


def test_weight_angle() -> None:
    a = [torch.tensor([1.0, 0.0]), torch.tensor([0.0])]
    assert weight_angle(a, [torch.tensor([0.0, 1.0]), torch.tensor([0.0])]) == pytest.approx(math.pi / 2)
    assert weight_angle(a, [torch.tensor([2.0, 0.0]), torch.tensor([0.0])]) == pytest.approx(0.0, abs=1e-7)
    assert weight_angle(a, [torch.tensor([-1.0, 0.0]), torch.tensor([0.0])]) == pytest.approx(math.pi)


def test_random_label_angle_grows_with_training(space: NB201Space, tiny_data: ImageData, tiny: dict[str, Any]) -> None:
    archs = _archs(space, 6, seed=3)
    short = RandomLabelNB201(**tiny).fit(space, tiny_data, epochs=1, seed=0)
    longer = RandomLabelNB201(**tiny).fit(space, tiny_data, epochs=3, seed=0)
    angles, more = short.score(archs), longer.score(archs)
    assert np.all(angles > 0) and np.all(angles < math.pi / 2)
    assert np.all(more > angles)  # the weights keep moving away from their initial direction
    assert torch.equal(short.initial_.classifier.weight, longer.initial_.classifier.weight)  # same init
    restored = RandomLabelNB201()
    restored.load_state_dict(short.state_dict(), data=tiny_data)
    assert np.array_equal(restored.score(archs), angles)
    short.angle_weights = "cell"  # a scoring setting: only the cells' own convolutions
    cell_only = short.score(archs)
    assert not np.array_equal(cell_only, angles) and np.all(cell_only >= 0)
    no_conv = space.from_ops(["skip_connect", "avg_pool_3x3", "none", "skip_connect", "none", "avg_pool_3x3"])
    assert short.score([no_conv])[0] == 0.0  # no live convolution: nothing of its own moved
    short.angle_weights = "path"
    assert np.array_equal(short.score(archs), angles)
    # the true labels are never read: permuting them leaves the trained supernet unchanged
    x, y = tiny_data.train.tensors  # type: ignore[attr-defined]
    shuffled = ImageData(
        torch.utils.data.TensorDataset(x, y.flip(0)), tiny_data.valid, 10, tiny_data.image_shape, name="x"
    )
    same = RandomLabelNB201(**tiny).fit(space, shuffled, epochs=1, seed=0)
    assert np.array_equal(same.score(archs), angles)


def test_user_adapter_satisfies_the_protocol(space: NB201Space) -> None:
    class ConvCount:
        def fit(self, space: Any, data: Any, *, epochs: int = 0, seed: int = 0) -> ConvCount:
            self.space_ = space
            return self

        def score(self, archs: Any) -> np.ndarray:
            return np.asarray((self.space_.ops_array(archs) >= 2).sum(axis=1), dtype=float)

    assert isinstance(ConvCount(), SupernetAdapter)
    assert not isinstance(ConvCount(), CheckpointableAdapter)
    assert ConvCount().fit(space, None).score([space.arch_at(6111)]).tolist() == [5.0]


class _MapStyle(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """A user's own map-style dataset (items (image, int label)), not a TensorDataset."""

    def __init__(self, dataset: Any) -> None:
        self.images, self.labels = dataset.tensors

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


def test_trains_and_scores_on_a_user_dataset(
    fitted: NB201WeightSharing, space: NB201Space, tiny_data: ImageData, tiny_scoring: dict[str, Any]
) -> None:
    from predictbench.supernet.data import image_data

    mine = image_data(_MapStyle(tiny_data.train), _MapStyle(tiny_data.valid), num_classes=10, name="mine")
    adapter = NB201WeightSharing(**tiny_scoring).fit(space, mine, epochs=1, seed=0)
    archs = _archs(space, 5, seed=4)
    # the same images in the same order: the same supernet and scores as with the TensorDataset
    assert np.array_equal(adapter.score(archs), fitted.score(archs))
