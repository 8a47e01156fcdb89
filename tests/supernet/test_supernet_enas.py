"""ENAS on the NB201 supernet: the controller, its REINFORCE update, the search and its adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from predictbench.rng import spawn
from predictbench.spaces.nb201 import OPS, NB201Space
from predictbench.supernet.adapter import SupernetAdapter
from predictbench.supernet.data import ImageData
from predictbench.supernet.enas import ENASNB201, Controller, Reinforce, enas_search

pytestmark = [pytest.mark.torch]

TINY: dict[str, Any] = {
    "channels": 4, "batch_size": 16, "controller_steps": 2, "controller_aggregate": 2, "derive_samples": 3,
    "calibration_images": 16, "score_images": 12,
}  # fmt: skip
CONV3 = OPS.index("nor_conv_3x3")


def _controller(seed: int = 0, **kwargs: Any) -> Controller:
    torch.manual_seed(seed)
    return Controller(**kwargs)


def test_enas_search_is_reproducible_by_seed_and_derives_valid_cells(tiny_data: ImageData, space: NB201Space) -> None:
    first = enas_search(tiny_data, epochs=2, seed=0, **TINY)
    again = enas_search(tiny_data, epochs=2, seed=0, **TINY)
    other = enas_search(tiny_data, epochs=2, seed=1, **TINY)
    for result in (first, other):
        assert space.is_valid(result.arch) and space.is_valid(result.greedy_arch)
        assert tuple(space.ops_of(result.arch)) == result.ops and set(result.ops) <= set(OPS)
        assert tuple(space.ops_of(result.greedy_arch)) == result.greedy_ops
        assert result.greedy_probs.shape == (6, 5) and np.allclose(result.greedy_probs.sum(axis=1), 1.0)
        assert tuple(np.argmax(result.greedy_probs, axis=1)) == tuple(OPS.index(op) for op in result.greedy_ops)
        assert len(result.candidates) == 3 and result.arch in result.candidates
        assert result.candidate_scores[result.candidates.index(result.arch)] == max(result.candidate_scores)
        assert len(result.rewards) == 2 and len(result.train_losses) == 2
    same = ("arch", "greedy_arch", "candidates", "candidate_scores", "rewards", "train_losses")
    assert all(getattr(first, name) == getattr(again, name) for name in same)
    assert (first.candidates, first.rewards, first.train_losses) != (
        other.candidates,
        other.rewards,
        other.train_losses,
    )
    greedy = enas_search(tiny_data, epochs=1, seed=0, **{**TINY, "derive": "greedy"})
    assert greedy.arch == greedy.greedy_arch and greedy.candidates == []


def _probability(controller: Controller, ops: tuple[int, ...]) -> tuple[float, float]:
    """The policy's probability of the cell ``ops`` and of its first decision."""
    with torch.no_grad():
        sample = controller(ops=ops)
    return float(sample.log_prob.exp()), float(sample.probs[0, ops[0]])


def test_reinforce_raises_the_probability_of_a_rewarded_decision() -> None:
    controller = _controller(hidden=16)
    target = (CONV3,) * 6
    before, first_before = _probability(controller, target)
    reinforce = Reinforce(controller, lr=0.05, entropy_weight=1e-4, baseline_decay=0.9)
    rng = spawn(0, "toy-reward")
    rewards = [reinforce.step(rng, lambda ops: sum(op == CONV3 for op in ops) / 6, samples=8) for _ in range(40)]
    after, first_after = _probability(controller, target)
    assert first_before == pytest.approx(0.2, abs=0.02) and first_after > 0.6
    assert after > 100 * before  # from ~0.2**6 toward 1
    assert controller(greedy=True).ops == target
    assert np.mean(rewards[-10:]) > np.mean(rewards[:10]) + 0.3
    assert reinforce.baseline is not None and 0 < reinforce.baseline <= 1 + 1e-3  # a moving average of the rewards


def test_controller_samples_follow_its_policy_and_are_seeded() -> None:
    controller = _controller(hidden=8, temperature=None, tanh_constant=None)
    with torch.no_grad():
        controller.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 4.0, 0.0]))  # conv3x3 ~ 0.93 at every decision
        draws = [controller(spawn(3, "draws", i)).ops for i in range(200)]
        repeat = [controller(spawn(3, "draws", i)).ops for i in range(200)]
    assert draws == repeat
    share = np.mean([op == CONV3 for ops in draws for op in ops])
    assert 0.85 < share < 0.99
    with torch.no_grad():
        sample = controller(spawn(0, "one"))
        again = controller(ops=sample.ops)
    assert float(sample.log_prob) == pytest.approx(float(again.log_prob)) and float(sample.entropy) > 0
    with pytest.raises(ValueError, match="exactly one of rng"):
        controller(spawn(0, "x"), greedy=True)


def test_enas_adapter_scores_deterministically_and_restores_its_state(tiny_data: ImageData, space: NB201Space) -> None:
    enas = ENASNB201(**TINY).fit(space, tiny_data, epochs=1, seed=0)
    assert isinstance(enas, SupernetAdapter)
    cells = space.sample(np.random.default_rng(0), 4)
    scores = enas.score(cells)
    initial = ENASNB201(**TINY).build_controller(0)
    moved = any(not torch.equal(a, b) for a, b in zip(initial.parameters(), enas.controller_.parameters(), strict=True))
    assert moved  # the controller was trained between the shared-weight epochs
    restored = ENASNB201()
    restored.load_state_dict(enas.state_dict(), data=tiny_data)
    assert restored.score(cells).tolist() == scores.tolist()
    assert restored.greedy_cell() == enas.greedy_cell() and restored.derive_cell()[0] == enas.derive_cell()[0]


BAD_OPTIONS = [
    ("controller_lr", 0.0), ("hidden", 0), ("hidden", 2.5), ("temperature", 0.0), ("tanh_constant", -1.0),
    ("entropy_weight", -1e-4), ("baseline_decay", 1.0), ("controller_steps", -1), ("controller_aggregate", 0),
    ("derive", "argmax"), ("derive_samples", 0), ("metric", "auc"), ("batch_size", 0),
]  # fmt: skip


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS, ids=[f"{o}={v}" for o, v in BAD_OPTIONS])
def test_bad_enas_options_raise_naming_the_option(
    option: str, value: Any, tiny_data: ImageData, space: NB201Space
) -> None:
    with pytest.raises(ValueError, match=option):
        ENASNB201(**{**TINY, option: value}).fit(space, tiny_data, epochs=1, seed=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda data: enas_search(data, epochs=-1), "epochs", id="epochs-negative"),
        pytest.param(lambda data: enas_search(data, epochs=1, seed=-2), "seed", id="seed-negative"),
    ],
)
def test_bad_enas_search_arguments(call: Callable[[ImageData], Any], message: str, tiny_data: ImageData) -> None:
    with pytest.raises(ValueError, match=message):
        call(tiny_data)
