"""REINFORCE controller (Williams, 1992) as the NB201 paper's baseline, and its MnasNet hardware-aware reward.

**Policy.** As in NAS-Bench-201's REINFORCE baseline (Dong & Yang, ICLR 2020; NATS-Bench code
``exps/NATS-algos/reinforce.py``, ``PolicyTopology`` / ``PolicySize``): one learnable logit per (decision,
choice), initialised to ``1e-3 * N(0, 1)``, a softmax per decision, Adam with learning rate 0.01 (the script's
setting on every dataset, both spaces) and an exponential-moving-average baseline of momentum 0.9 whose bias is
corrected (numerator and denominator both averaged). Each scored architecture is one step: the baseline absorbs
its reward first, then Adam descends ``-log pi(arch) * (reward - baseline)``.

**Decisions.** Any space whose cells are fixed-length categorical decisions works (NB201/NATS-tss: 6 edges x 5
operations; NATS size space: 5 stages x 8 channel counts; NAS-Bench-Graph: 3 input choices and 4 operations;
a pruned :class:`~predictbench.search.pruning.ConstrainedSpace` of one); see
:func:`~predictbench.search.pruning.decisions_of`. Decisions are sampled in position order, each restricted to the
choices that still lead to a valid architecture never proposed before (masking: NAS-Bench-Graph's product of
choices holds 157,464 combinations of which 26,206 are cells; and every query must be a new cell, since budgets
count distinct architectures while the paper's controller re-sampled and re-paid repeats). The log-probability
in the update is that of the masked policy the architecture was drawn from, with the current logits (exact when
one architecture is asked and told at a time, as :func:`~predictbench.search.base.run_search` does by default).
Architectures told without being asked (e.g. by another component) are never proposed again but do not move the
policy.

**Hardware-aware reward** (:class:`HardwareAwareReinforce`, a multi-objective searcher): MnasNet's
``ACC * (LAT / T) ** w`` (Tan et al., CVPR 2019) with ``w = w_below`` where ``LAT <= T`` and ``w_above`` above:
the soft constraint ``w = -0.07`` on both sides, or the hard form ``w = "hard"`` = (0, -1). ACC is the first
objective's score (the search signal) and LAT the second objective, which must be a lower-is-better latency or
energy with positive values (its scores are the negated values).

Examples
--------
>>> from predictbench.spaces import get_space
>>> rl = ReinforceSearch(get_space("nb201"), seed=0)
>>> archs = rl.ask(1)
>>> rl.tell(archs, [91.5])
>>> [round(float(p.sum()), 6) for p in rl.probabilities()][:2]
[1.0, 1.0]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from predictbench.multiobjective.base import MultiObjectiveSearcher
from predictbench.search.base import Searcher
from predictbench.search.pruning import Decisions, decisions_of, valid_rows
from predictbench.spaces import SearchSpace
from predictbench.types import Arch, Metric

log = logging.getLogger(__name__)

#: Adam's constants (torch's defaults, which the NB201 baseline uses).
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

#: MnasNet's exponents (w below the target, w above it) for ``w="hard"``.
HARD_W = (0.0, -1.0)


def space_decisions(space: SearchSpace, who: str) -> Decisions:
    """The decision view of ``space``; ValueError naming the space when its cells are not categorical decisions."""
    try:
        return decisions_of(space)
    except TypeError as err:
        name = getattr(space, "name", space)
        raise ValueError(
            f"{who} needs a space of fixed-length categorical decisions (nb201, nats-sss, nbgraph), not {name!r}: {err}"
        ) from None


def mnas_reward(
    accuracy: np.ndarray | float, cost: np.ndarray | float, target: float, w: float | tuple[float, float]
) -> np.ndarray:
    """MnasNet's reward ``accuracy * (cost / target) ** w``; ``w`` a number, or (w at or below, w above) target.

    A missing accuracy (-inf or NaN) gives -inf; a missing cost (+inf) gives ``accuracy * 0`` where its ``w`` is
    negative.

    Examples
    --------
    >>> mnas_reward(np.array([90.0, 90.0]), np.array([5.0, 10.0]), 5.0, -0.07).round(4).tolist()
    [90.0, 85.7374]
    >>> mnas_reward(np.array([90.0, 90.0]), np.array([4.0, 10.0]), 5.0, HARD_W).tolist()
    [90.0, 45.0]
    """
    below, above = (w, w) if isinstance(w, (int, float)) else w
    accuracy = np.asarray(accuracy, dtype=float)
    cost = np.asarray(cost, dtype=float)
    exponent = np.where(cost <= target, below, above)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        reward = accuracy * (cost / target) ** exponent
    return np.asarray(np.where(np.isnan(reward), -np.inf, reward))


def _positive_number(who: str, name: str, value: Any, *, below: float | None = None, zero: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        number = float(value)
        ok = math.isfinite(number) and (number >= 0 if zero else number > 0) and (below is None or number < below)
    if not ok:
        bound = f"{'>= 0' if zero else '> 0'}{'' if below is None else f' and < {below:g}'}"
        raise ValueError(f"{who}: {name} must be a finite number {bound}, got {value!r}")
    return float(value)


class ReinforceSearch(Searcher):
    """REINFORCE over per-decision softmax policies with a moving-average baseline (see the module docstring).

    Parameters
    ----------
    space : a space of fixed-length categorical decisions (nb201, nats-sss, nbgraph, or a constrained one).
    seed : seeds the searcher's RNG (initial logits and sampling).
    learning_rate : Adam's learning rate on the logits (the NB201 baseline's 0.01).
    momentum : momentum of the reward's exponential moving average, the baseline (0.9 in the NB201 baseline).
    init_scale : standard deviation of the initial logits (1e-3: a near-uniform first policy).

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> rl = ReinforceSearch(get_space("nats-sss"), seed=0, learning_rate=0.05)
    >>> len(rl.ask(3))
    3
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        learning_rate: float = 0.01,
        momentum: float = 0.9,
        init_scale: float = 1e-3,
    ) -> None:
        super().__init__(space, seed=seed)
        who = type(self).__name__
        self.learning_rate = _positive_number(who, "learning_rate", learning_rate)
        self.momentum = _positive_number(who, "momentum", momentum, below=1.0, zero=True)
        self.init_scale = _positive_number(who, "init_scale", init_scale, zero=True)
        self.decisions = space_decisions(space, who)
        self._open = valid_rows(space).copy()  # valid and never proposed nor told
        sizes = np.array([len(c) for c in self.decisions.choices])
        self._real = np.arange(sizes.max()) < sizes[:, None]  # (positions, max choices): padding is False
        self.logits = np.where(self._real, self.init_scale * self.rng.standard_normal(self._real.shape), 0.0)
        self._adam_m = np.zeros_like(self.logits)
        self._adam_v = np.zeros_like(self.logits)
        self.steps = 0
        self._ema = (0.0, 0.0)  # numerator and denominator of the bias-corrected moving average
        self._pending: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # key -> (choices, allowed mask) when drawn

    # ---- policy -------------------------------------------------------------------------------------------

    def _masked_probs(self, allowed: np.ndarray) -> np.ndarray:
        """Softmax of the logits over ``allowed`` (positions, max choices); zero elsewhere."""
        logits = np.where(allowed, self.logits, -np.inf)
        logits = logits - logits.max(axis=-1, keepdims=True)
        weights = np.exp(logits)
        return np.asarray(weights / weights.sum(axis=-1, keepdims=True))

    def probabilities(self) -> list[np.ndarray]:
        """The current (unmasked) policy: one probability vector per decision, over that decision's choices."""
        probs = self._masked_probs(self._real)
        return [probs[p, self._real[p]] for p in range(len(probs))]

    @property
    def baseline(self) -> float | None:
        """The moving-average baseline (None before the first reward)."""
        numerator, denominator = self._ema
        return numerator / denominator if denominator > 0 else None

    def _draw(self) -> Arch | None:
        """A new valid architecture from the masked policy (None when every one was proposed)."""
        rows = np.flatnonzero(self._open)
        if not len(rows):
            return None
        codes = self.decisions.codes
        allowed = np.zeros_like(self._real)
        chosen = np.zeros(len(self._real), dtype=np.intp)
        for p in range(len(self._real)):
            column = codes[rows, p]
            allowed[p, np.unique(column)] = True
            probs = self._masked_probs(allowed[p : p + 1])[0]
            chosen[p] = self.rng.choice(len(probs), p=probs)
            rows = rows[column == chosen[p]]
        row = int(rows[0])
        self._open[row] = False
        arch = self.decisions.archs[row]
        self._pending[arch.key] = (chosen, allowed)
        return arch

    def ask(self, n: int = 1) -> list[Arch]:
        out: list[Arch] = []
        while len(out) < n:
            arch = self._draw()
            if arch is None:
                break
            if self._claim(arch):
                out.append(arch)
        return out

    # ---- learning -----------------------------------------------------------------------------------------

    def _close(self, arch: Arch) -> None:
        """Never propose ``arch`` (told, perhaps without being asked)."""
        row = self.decisions._index.get(arch.key)
        if row is not None:
            self._open[row] = False
        self._proposed.add(arch.key)

    def _learn(self, arch: Arch, reward: float) -> None:
        """One REINFORCE step on the reward of an architecture this searcher drew."""
        drawn = self._pending.pop(arch.key, None)
        if drawn is None:
            return
        if not math.isfinite(reward):
            log.debug("%s: no policy step for %s (reward %r)", type(self).__name__, arch.key, reward)
            return
        chosen, allowed = drawn
        numerator, denominator = self._ema
        self._ema = (
            self.momentum * numerator + (1 - self.momentum) * reward,
            self.momentum * denominator + (1 - self.momentum),
        )
        advantage = reward - self._ema[0] / self._ema[1]
        # d(-log pi)/d logits = probs - onehot(chosen), on the masked softmax the architecture was drawn from
        grad = self._masked_probs(allowed)
        grad[np.arange(len(chosen)), chosen] -= 1.0
        grad *= advantage
        beta1, beta2 = ADAM_BETAS
        self.steps += 1
        self._adam_m = beta1 * self._adam_m + (1 - beta1) * grad
        self._adam_v = beta2 * self._adam_v + (1 - beta2) * grad**2
        m_hat = self._adam_m / (1 - beta1**self.steps)
        v_hat = self._adam_v / (1 - beta2**self.steps)
        self.logits -= self.learning_rate * m_hat / (np.sqrt(v_hat) + ADAM_EPS)

    def _observe(self, arch: Arch, score: float) -> None:
        self._close(arch)
        self._learn(arch, score)


class HardwareAwareReinforce(MultiObjectiveSearcher, ReinforceSearch):
    """REINFORCE on MnasNet's reward ``ACC * (LAT / T) ** w`` of (search signal, latency or energy) objectives.

    Parameters
    ----------
    space, seed, learning_rate, momentum, init_scale : as for :class:`ReinforceSearch`.
    target : the latency (or energy) target T, in the metric's unit; None: the median of the second objective
        over the architectures scored so far (recomputed at every ``tell``).
    w : the exponent: a number (MnasNet's soft constraint, -0.07), a pair (w at or below T, w above T), or
        ``"hard"`` for the hard constraint (0, -1).

    The scalar view (``scores``, ``best()``) is the reward. Needs exactly two objectives, the second a
    lower-is-better metric with positive values (``tell`` refuses anything else).

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> hw = HardwareAwareReinforce(get_space("nb201"), seed=0, target=5.0, w="hard")
    >>> archs = hw.ask(2)
    >>> hw.tell(archs, [[90.0, -4.0], [90.0, -10.0]])  # (valid accuracy, minus latency in ms)
    >>> [hw.scores[a.key] for a in archs]
    [90.0, 45.0]
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        target: float | None = None,
        w: float | tuple[float, float] | Literal["hard"] = -0.07,
        **options: Any,
    ) -> None:
        super().__init__(space, seed=seed, **options)
        who = type(self).__name__
        self.target = None if target is None else _positive_number(who, "target", target)
        self.w = w
        self.exponents = self._exponents(who, w)

    @staticmethod
    def _exponents(who: str, w: Any) -> tuple[float, float]:
        if isinstance(w, str) and w == "hard":
            return HARD_W
        pair = (w, w) if not isinstance(w, (tuple, list)) else tuple(w)
        numbers = len(pair) == 2 and all(
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))
            and math.isfinite(float(v))
            for v in pair
        )
        if not numbers:
            raise ValueError(
                f"{who}: w must be a finite number, a pair (w at or below target, w above target) or 'hard', got {w!r}"
            )
        return float(pair[0]), float(pair[1])

    def check_objectives(self, metrics: Sequence[Metric]) -> None:
        """Exactly two objectives, the second a lower-is-better metric (a latency or energy)."""
        who = type(self).__name__
        if len(metrics) != 2:
            names = ", ".join(m.name for m in metrics)
            raise ValueError(
                f"{who} needs exactly 2 objectives (the search signal, then a latency or energy), got {len(metrics)}: "
                f"{names}"
            )
        if metrics[1].higher_is_better:
            raise ValueError(
                f"{who}: objective 2 must be a lower-is-better latency or energy for MnasNet's reward, got "
                f"{metrics[1].name!r} (higher is better)"
            )

    def current_target(self, costs: np.ndarray) -> float:
        """T: the ``target`` option, or the median of the finite ``costs`` (1.0 when there is none)."""
        if self.target is not None:
            return self.target
        finite = costs[np.isfinite(costs)]
        return float(np.median(finite)) if len(finite) else 1.0

    def scalar_view(self, matrix: np.ndarray) -> np.ndarray:
        costs = -matrix[:, 1]
        return mnas_reward(matrix[:, 0], costs, self.current_target(costs), self.exponents)

    def tell(self, archs: Sequence[Arch], scores: Sequence[Any] | np.ndarray) -> None:
        """Record the (n, 2) scores of ``archs`` (signal, minus latency or energy) and take the policy steps."""
        matrix = np.asarray(scores, dtype=float)
        if matrix.ndim == 2 and matrix.shape[1] != 2:
            raise ValueError(
                f"{type(self).__name__} needs exactly 2 objectives (the search signal, then a latency or energy), "
                f"got {matrix.shape[1]}"
            )
        if matrix.ndim == 2 and len(matrix) == len(archs):
            bad = np.flatnonzero(np.isfinite(matrix[:, 1]) & (matrix[:, 1] >= 0))
            if len(bad):
                i = int(bad[0])
                raise ValueError(
                    f"{type(self).__name__}: MnasNet's reward needs objective 2 to be a latency or energy "
                    f"(lower is better, positive), whose scores are negative; got the score {float(matrix[i, 1])!r} "
                    f"for {archs[i].key}"
                )
        super().tell(archs, matrix)
        for arch in archs:
            self._close(arch)
            self._learn(arch, self.scores[arch.key])
