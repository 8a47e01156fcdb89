"""ENAS (Pham et al., ICML 2018) on the NB201 supernet: an autoregressive controller trained by REINFORCE.

A controller (Pham et al.'s policy: an LSTM whose hidden state is read by a softmax head at each decision and fed
the embedding of the operation it chose) samples the 6 operations of a cell in official edge order. Search
alternates, every epoch, as ENAS does:

1. **shared weights**: one epoch of single-path training of the supernet, one cell drawn from the controller per
   mini-batch (:func:`~predictbench.supernet.trainer.train_supernet`, the reference adapter's loop and
   settings; the controller's draws take their uniform numbers from the trainer's seeded path stream);
2. **controller**: ``controller_steps`` Adam updates, each aggregating ``controller_aggregate`` sampled cells; a
   cell's reward is its accuracy with the shared weights on one validation mini-batch (BatchNorm on the batch's
   statistics, as ENAS's ``valid_shuffle`` reward), plus ``entropy_weight`` times the sample's entropy (ENAS adds
   the entropy to the reward); the advantage is the reward minus an exponential moving average of past rewards
   (decay ``baseline_decay``; started at the first reward rather than ENAS's 0).

Defaults follow the paper: 100 hidden units, parameters initialised in [-0.1, 0.1], logits ``tanh_constant *
tanh(logits / temperature)`` with 2.5 and 5.0, entropy weight 1e-4, Adam (beta1 0, eps 1e-3 as in the authors'
code) at 3.5e-4; 30 controller steps of 10 cells per epoch and baseline decay 0.99 are the authors' micro-search
script. The derived cell (``derive``) is ``"best"``: the best of ``derive_samples`` cells drawn from the final
policy by the reference scoring with the shared weights (BatchNorm recalibrated per cell, accuracy on the
validation images), ENAS's own procedure; or ``"greedy"``: the argmax decision at every step.

:class:`ENASNB201` is also a supernet adapter (``fit``, then ``score`` by shared-weight validation accuracy, as
:class:`~predictbench.supernet.weight_sharing.NB201WeightSharing`; same seed, same initial supernet and image
order). :func:`enas_search` runs it and returns the derived cells.

Examples
--------
>>> result = enas_search(cifar10(seed=0), epochs=10, seed=0, channels=8)  # doctest: +SKIP
>>> result.ops, result.greedy_ops  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch
from torch import nn

from predictbench.rng import spawn
from predictbench.spaces import SearchSpace
from predictbench.spaces.nb201 import NUM_EDGES, NUM_OPS
from predictbench.supernet.data import ImageData, batches, dataset_size
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.trainer import train_supernet
from predictbench.supernet.weight_sharing import STREAM, NB201WeightSharing
from predictbench.types import Arch

log = logging.getLogger(__name__)

__all__ = ["DERIVE", "ENASNB201", "Controller", "ControllerSample", "ENASResult", "Reinforce", "enas_search"]

DERIVE = ("best", "greedy")
"""How :class:`ENASNB201` derives its cell: best of sampled cells by shared-weight validation, or the argmax path."""


class ControllerSample(NamedTuple):
    """A cell decided by the controller: its 6 op ids, the summed log-probability and entropy of the decisions,
    and the policy's ``(6, 5)`` distribution at every decision (given the decisions before it)."""

    ops: tuple[int, ...]
    log_prob: torch.Tensor
    entropy: torch.Tensor
    probs: torch.Tensor


class Controller(nn.Module):
    """Autoregressive policy over NB201's 6 edge decisions (LSTM cell, shared softmax head, op embeddings).

    Parameters
    ----------
    hidden
        LSTM hidden units (the paper: 100).
    temperature, tanh_constant
        Logits become ``tanh_constant * tanh(logits / temperature)`` (None leaves out that part).
    """

    def __init__(self, *, hidden: int = 100, temperature: float | None = 5.0, tanh_constant: float | None = 2.5):
        super().__init__()
        self.temperature = temperature
        self.tanh_constant = tanh_constant
        self.start = nn.Parameter(torch.empty(1, hidden))
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.embedding = nn.Embedding(NUM_OPS, hidden)
        self.head = nn.Linear(hidden, NUM_OPS)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -0.1, 0.1)

    def _log_probs(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.head(hidden)[0]
        if self.temperature is not None:
            logits = logits / self.temperature
        if self.tanh_constant is not None:
            logits = self.tanh_constant * torch.tanh(logits)
        return torch.log_softmax(logits, dim=-1)

    def forward(
        self,
        rng: np.random.Generator | None = None,
        *,
        ops: Sequence[int] | None = None,
        greedy: bool = False,
    ) -> ControllerSample:
        """Decide every edge: draw from ``rng`` (inverse CDF of one uniform number per decision), follow ``ops``
        (the log-probability of a given cell), or take the argmax (``greedy``)."""
        if sum((rng is not None, ops is not None, greedy)) != 1:
            raise ValueError("pass exactly one of rng (sample), ops (score a cell) or greedy=True")
        inputs: torch.Tensor = self.start
        state: tuple[torch.Tensor, torch.Tensor] | None = None
        chosen: list[int] = []
        log_prob = torch.zeros((), device=self.start.device)
        entropy = torch.zeros((), device=self.start.device)
        rows = []
        for edge in range(NUM_EDGES):
            state = self.lstm(inputs, state)
            log_probs = self._log_probs(state[0])
            if ops is not None:
                op = int(ops[edge])
            elif greedy:
                op = int(torch.argmax(log_probs))
            else:
                assert rng is not None
                cdf = np.cumsum(log_probs.detach().exp().cpu().numpy())
                op = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), NUM_OPS - 1)
            log_prob = log_prob + log_probs[op]
            entropy = entropy - (log_probs.exp() * log_probs).sum()
            rows.append(log_probs.detach().exp())
            chosen.append(op)
            inputs = self.embedding.weight[op : op + 1]
        return ControllerSample(tuple(chosen), log_prob, entropy, torch.stack(rows))


class Reinforce:
    """REINFORCE for a :class:`Controller`: moving-average baseline, entropy bonus in the reward, Adam.

    Each :meth:`step` draws ``samples`` cells, adds ``entropy_weight`` times each sample's entropy to its reward,
    moves the baseline toward the reward (``b -= (1 - baseline_decay) * (b - R)``; the first reward starts it),
    and takes one Adam step on the mean of ``-(R - b) * log p(cell)``.
    """

    def __init__(
        self, controller: Controller, *, lr: float, entropy_weight: float = 1e-4, baseline_decay: float = 0.99
    ) -> None:
        self.controller = controller
        self.entropy_weight = float(entropy_weight)
        self.baseline_decay = float(baseline_decay)
        self.baseline: float | None = None
        self.optimizer = torch.optim.Adam(controller.parameters(), lr=lr, betas=(0.0, 0.999), eps=1e-3)

    def step(self, rng: np.random.Generator, reward: Callable[[tuple[int, ...]], float], samples: int) -> float:
        """One controller update from ``samples`` cells scored by ``reward``; the mean reward (without entropy)."""
        self.optimizer.zero_grad(set_to_none=True)
        rewards = []
        for _ in range(samples):
            sample = self.controller(rng)
            value = float(reward(sample.ops))
            rewards.append(value)
            total = value + self.entropy_weight * float(sample.entropy.detach())
            self.baseline = (
                total if self.baseline is None else self.baseline - (1 - self.baseline_decay) * (self.baseline - total)
            )
            (-(total - self.baseline) * sample.log_prob / samples).backward()
        self.optimizer.step()
        return float(np.mean(rewards))


@torch.no_grad()
def batch_accuracy(model: NB201Supernet, ops: Sequence[int], batch: tuple[torch.Tensor, torch.Tensor]) -> float:
    """Accuracy of path ``ops`` on one batch, BatchNorm on the batch's own statistics (ENAS's reward)."""
    images, labels = batch
    model.train()
    return float((model(images, ops=ops).argmax(dim=1) == labels).float().mean())


def _positive(who: str, name: str, value: Any, *, integer: bool, allow_zero: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = not isinstance(value, bool) and isinstance(value, kinds) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        what = ("a non-negative " if allow_zero else "a positive ") + ("int" if integer else "number")
        raise ValueError(f"{who}: {name} must be {what}, got {value!r}")


class ENASNB201(NB201WeightSharing):
    """ENAS on the NB201 supernet: controller-sampled single-path training alternating with REINFORCE.

    Parameters
    ----------
    controller_lr, hidden, temperature, tanh_constant, entropy_weight, baseline_decay
        The controller and its REINFORCE update (see the module docstring; paper defaults).
    controller_steps, controller_aggregate
        Controller updates after every epoch of shared-weight training, and cells sampled per update.
    derive, derive_samples
        ``"best"`` of ``derive_samples`` sampled cells by shared-weight validation accuracy, or ``"greedy"``.
    calibration_images, score_images, metric
        Scoring with the shared weights (:class:`NB201WeightSharing`; also used by ``derive="best"``).
    **kwargs
        Width, depth, weight optimiser, threads and device: see :class:`SupernetBase`.

    Attributes (after ``fit``)
    --------------------------
    controller_ : the trained :class:`Controller`; ``rewards_`` : mean reward of every epoch's controller steps;
    ``model_``, ``train_log_``, ``fit_seconds_`` as :class:`NB201WeightSharing`.
    """

    name: ClassVar[str] = "enas"
    controller_lr: float
    hidden: int
    temperature: float | None
    tanh_constant: float | None
    entropy_weight: float
    baseline_decay: float
    controller_steps: int
    controller_aggregate: int
    derive: str
    derive_samples: int

    def __init__(
        self,
        *,
        channels: int = 8,
        cells_per_stage: int = 1,
        batch_size: int = 64,
        lr: float = 0.05,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        grad_clip: float | None = 5.0,
        controller_lr: float = 3.5e-4,
        hidden: int = 100,
        temperature: float | None = 5.0,
        tanh_constant: float | None = 2.5,
        entropy_weight: float = 1e-4,
        baseline_decay: float = 0.99,
        controller_steps: int = 30,
        controller_aggregate: int = 10,
        derive: str = "best",
        derive_samples: int = 10,
        calibration_images: int = 256,
        score_images: int | None = None,
        metric: str = "accuracy",
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        self._store_params(locals())

    def _check_params(self) -> None:
        super()._check_params()
        who = type(self).__name__
        _positive(who, "controller_lr", self.controller_lr, integer=False)
        _positive(who, "hidden", self.hidden, integer=True)
        for name in ("temperature", "tanh_constant"):
            if getattr(self, name) is not None:
                _positive(who, name, getattr(self, name), integer=False)
        _positive(who, "entropy_weight", self.entropy_weight, integer=False, allow_zero=True)
        decay = self.baseline_decay
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 1:
            raise ValueError(f"{who}: baseline_decay must lie in [0, 1), got {decay!r}")
        _positive(who, "controller_steps", self.controller_steps, integer=True, allow_zero=True)
        _positive(who, "controller_aggregate", self.controller_aggregate, integer=True)
        if self.derive not in DERIVE:
            raise ValueError(f"{who}: derive must be one of {DERIVE}, got {self.derive!r}")
        _positive(who, "derive_samples", self.derive_samples, integer=True)

    def build_controller(self, seed: int) -> Controller:
        """A freshly initialised controller (from ``seed``; the global RNG untouched)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(spawn(seed, "enas", "controller-init").integers(2**31)))
            controller = Controller(hidden=self.hidden, temperature=self.temperature, tanh_constant=self.tanh_constant)
        return controller.to(self.device)

    def fit(  # type: ignore[override]  # no checkpoint: the controller is not part of the trainer's checkpoint
        self, space: SearchSpace, data: ImageData | None = None, *, epochs: int = 1, seed: int = 0
    ) -> ENASNB201:
        """Alternate shared-weight epochs on ``data.train`` with controller updates rewarded on ``data.valid``."""
        started = time.perf_counter()
        data = self._start_fit(space, data, epochs, seed)
        with self._torch_context():
            model = self.build(data, seed)
            controller = self.build_controller(seed)
            reinforce = Reinforce(
                controller, lr=self.controller_lr, entropy_weight=self.entropy_weight,
                baseline_decay=self.baseline_decay,
            )  # fmt: skip
            n_valid = dataset_size(data.valid)
            rewards: list[float] = []

            def sample_path(rng: np.random.Generator) -> tuple[int, ...]:
                with torch.no_grad():
                    return controller(rng).ops

            def train_controller(epoch: int) -> None:
                rng = spawn(seed, "enas", "controller", epoch)

                def reward(ops: tuple[int, ...]) -> float:
                    rows = rng.choice(n_valid, size=min(self.batch_size, n_valid), replace=False)
                    images, labels = next(batches(data.valid, self.batch_size, rows))
                    return batch_accuracy(model, ops, (images.to(self.device), labels.to(self.device)))

                means = [reinforce.step(rng, reward, self.controller_aggregate) for _ in range(self.controller_steps)]
                rewards.append(float(np.mean(means)) if means else float("nan"))
                log.debug("enas seed %d epoch %d: mean reward %.4f", seed, epoch + 1, rewards[-1])

            trace = train_supernet(
                model, data.train, epochs=epochs, seed=seed, sample_path=sample_path, config=self.train_config(),
                label=STREAM, tag=self.name, after_epoch=train_controller,
            )  # fmt: skip
        self._set_fitted(space, data, model, seed, epochs, trace)
        self.controller_ = controller
        self.rewards_ = rewards
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def greedy_cell(self) -> Arch:
        """The controller's argmax cell."""
        self._check_fitted()
        with torch.no_grad():
            ops = self.controller_(greedy=True).ops
        return self.space_.from_ops_array(np.array([ops]))[0]  # type: ignore[attr-defined]

    def sampled_cells(self, count: int) -> list[Arch]:
        """``count`` cells drawn from the final policy (seeded by the fit's seed; the same on every call)."""
        self._check_fitted()
        _positive(type(self).__name__, "count", count, integer=True)
        rng = spawn(self.seed_, "enas", "derive")
        with torch.no_grad():
            ops = [self.controller_(rng).ops for _ in range(count)]
        return list(self.space_.from_ops_array(np.array(ops)))  # type: ignore[attr-defined]

    def derive_cell(self) -> tuple[Arch, list[Arch], list[float]]:
        """The search's answer, the sampled candidates and their scores (none for ``derive="greedy"``).

        ``"best"``: the first of the best-scoring of ``derive_samples`` cells drawn from the final policy.
        """
        self._check_params()
        if self.derive == "greedy":
            return self.greedy_cell(), [], []
        candidates = self.sampled_cells(self.derive_samples)
        scores = [float(v) for v in self.score(candidates)]
        return candidates[int(np.argmax(scores))], candidates, scores

    def _extra_state(self) -> dict[str, Any]:
        return {
            "controller": {k: v.detach().cpu().clone() for k, v in self.controller_.state_dict().items()},
            "rewards": list(self.rewards_),
        }

    def _load_extra_state(self, state: dict[str, Any], data: ImageData) -> None:
        self.controller_ = self.build_controller(self.seed_)
        self.controller_.load_state_dict(state["controller"])
        self.rewards_ = list(state["rewards"])


@dataclass(frozen=True)
class ENASResult:
    """What an ENAS search found: the derived cell (``derive``), the greedy cell and the policy's ``(6, 5)``
    distribution along it, the sampled candidates and their scores, the mean reward of every epoch."""

    method: str
    seed: int
    arch: Arch
    ops: tuple[str, ...]
    greedy_arch: Arch
    greedy_ops: tuple[str, ...]
    greedy_probs: np.ndarray
    candidates: list[Arch] = field(default_factory=list)
    candidate_scores: list[float] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def enas_search(data: ImageData, *, epochs: int = 10, seed: int = 0, **settings: Any) -> ENASResult:
    """ENAS on ``data`` for ``epochs`` epochs (``settings``: :class:`ENASNB201`'s); the derived cells.

    The derived ``arch`` follows ``derive`` (default ``"best"`` of ``derive_samples`` sampled cells by
    shared-weight validation accuracy); ``greedy_arch`` is always reported too.
    """
    from predictbench.spaces import get_space

    started = time.perf_counter()
    enas = ENASNB201(**settings).fit(get_space("nb201"), data, epochs=epochs, seed=seed)
    space = enas.space_
    greedy = enas.greedy_cell()
    with torch.no_grad():
        greedy_probs = enas.controller_(greedy=True).probs.cpu().numpy()
    arch, candidates, scores = enas.derive_cell()
    return ENASResult(
        method="enas",
        seed=int(seed),
        arch=arch,
        ops=tuple(space.ops_of(arch)),  # type: ignore[attr-defined]
        greedy_arch=greedy,
        greedy_ops=tuple(space.ops_of(greedy)),  # type: ignore[attr-defined]
        greedy_probs=greedy_probs,
        candidates=candidates,
        candidate_scores=scores,
        rewards=list(enas.rewards_),
        train_losses=list(enas.train_log_.losses),
        seconds=time.perf_counter() - started,
    )
