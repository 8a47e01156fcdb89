"""Single-path training: exact resume from a checkpoint, refused mismatches, and BN recalibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from predictbench.supernet.data import ImageData
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.scoring import evaluate_path, recalibrate_bn
from predictbench.supernet.trainer import TrainConfig, train_supernet
from predictbench.supernet.weight_sharing import uniform_path
from predictbench.types import DataFormatError

CONFIG = TrainConfig(batch_size=16, lr=0.05)


def _model() -> NB201Supernet:
    torch.manual_seed(0)
    return NB201Supernet(channels=4, cells_per_stage=1, num_classes=10)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_interrupted_training_resumes_exactly(tiny_data: ImageData, tmp_path: Path) -> None:
    straight = _model()
    log = train_supernet(straight, tiny_data.train, epochs=2, seed=1, sample_path=uniform_path, config=CONFIG)
    assert log.epochs == 2 and log.resumed_from == 0 and len(log.losses) == 2

    checkpoint = tmp_path / "supernet.pt"

    class Interrupt(Exception):
        pass

    calls = 0

    def interrupting(rng: np.random.Generator) -> tuple[int, ...]:
        nonlocal calls
        calls += 1
        if calls > 3 + 2:  # 3 batches per epoch: dies inside the second epoch
            raise Interrupt
        return uniform_path(rng)

    first = _model()
    with pytest.raises(Interrupt):
        train_supernet(first, tiny_data.train, epochs=2, seed=1, sample_path=interrupting, config=CONFIG,
                       checkpoint=checkpoint)  # fmt: skip
    assert checkpoint.exists() and not list(tmp_path.glob(".*tmp"))  # only the finished epoch, no leftovers
    resumed = _model()
    log2 = train_supernet(resumed, tiny_data.train, epochs=2, seed=1, sample_path=uniform_path, config=CONFIG,
                          checkpoint=checkpoint)  # fmt: skip
    assert log2.resumed_from == 1 and log2.epochs == 2
    assert log2.losses == log.losses
    assert _same_weights(resumed, straight)
    # a finished checkpoint resumes to nothing left to do
    done = _model()
    log3 = train_supernet(done, tiny_data.train, epochs=2, seed=1, sample_path=uniform_path, config=CONFIG,
                          checkpoint=checkpoint)  # fmt: skip
    assert log3.resumed_from == 2 and _same_weights(done, straight)


def test_resuming_with_other_settings_is_refused(tiny_data: ImageData, tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    train_supernet(_model(), tiny_data.train, epochs=1, seed=0, sample_path=uniform_path, config=CONFIG,
                   checkpoint=checkpoint)  # fmt: skip
    with pytest.raises(ValueError, match=r"other settings.*'seed': \(0, 5\)"):
        train_supernet(_model(), tiny_data.train, epochs=1, seed=5, sample_path=uniform_path, config=CONFIG,
                       checkpoint=checkpoint)  # fmt: skip
    bad = tmp_path / "bad.pt"
    torch.save({"hello": 1}, bad)
    with pytest.raises(DataFormatError, match="expected format"):
        train_supernet(_model(), tiny_data.train, epochs=1, seed=0, sample_path=uniform_path, checkpoint=bad)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)


def test_training_lowers_the_loss(tiny_data: ImageData) -> None:
    model = _model()
    log = train_supernet(model, tiny_data.train, epochs=6, seed=0, sample_path=lambda rng: (3,) * 6,
                         config=TrainConfig(batch_size=12, lr=0.05))  # fmt: skip
    assert log.losses[-1] < log.losses[0]


def test_recalibration_makes_scores_independent_of_history(tiny_data: ImageData) -> None:
    model = _model()
    train_supernet(model, tiny_data.train, epochs=1, seed=0, sample_path=uniform_path, config=CONFIG)
    calib = [tiny_data.train.tensors]  # type: ignore[attr-defined]
    scoring = [tiny_data.valid.tensors]  # type: ignore[attr-defined]
    a, b = (3, 3, 3, 3, 3, 3), (2, 1, 4, 0, 2, 3)
    first = evaluate_path(model, a, calib, scoring)
    evaluate_path(model, b, calib, scoring)
    assert evaluate_path(model, a, calib, scoring) == first
    recalibrate_bn(model, a, calib)
    stats = model.stem[1].running_mean.clone()
    recalibrate_bn(model, b, calib)
    assert torch.equal(model.stem[1].running_mean, stats)  # the stem sees the same images whatever the path
    cell_bn = model.layers[0].edges[0][3].op[2]  # the 3x3 conv's BN on edge 1<-0 of the first cell
    recalibrate_bn(model, a, calib)
    used = cell_bn.running_var.clone()
    recalibrate_bn(model, b, calib)  # path b has no 3x3 conv on that edge: its statistics are reset, unused
    assert torch.equal(cell_bn.running_var, torch.ones_like(used)) and not torch.equal(used, cell_bn.running_var)
    assert 0.0 <= first.accuracy <= 1.0 and first.loss > 0


def test_train_config_of_reads_the_settings_of_an_adapter_or_search_config() -> None:
    from predictbench.supernet.differentiable import SearchConfig
    from predictbench.supernet.weight_sharing import NB201WeightSharing

    adapter = NB201WeightSharing(batch_size=8, lr=0.1, momentum=0.5, weight_decay=0.0, grad_clip=None)
    assert TrainConfig.of(adapter) == TrainConfig(batch_size=8, lr=0.1, momentum=0.5, weight_decay=0.0, grad_clip=None)
    assert SearchConfig().train_config() == TrainConfig(lr=0.025, weight_decay=3e-4)
