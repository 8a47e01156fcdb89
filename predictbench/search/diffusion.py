"""Predictor-guided generation by a masked (absorbing-state) discrete diffusion model, in the spirit of DiffusionNAG.

DiffusionNAG (An, Lee, Jo, Lee & Hwang, ICLR 2024; official code CownowAn/DiffusionNAG) trains a diffusion
model on architectures once (unlabelled cells are free) and steers its sampling with a performance predictor
(classifier guidance: the gradient of the predictor's log-likelihood added to the score), so that generation
lands where the predictor expects good cells. Its model is a continuous score-based graph diffusion; this
searcher keeps the idea on the space's categorical decisions with a discrete absorbing-state diffusion.

**Denoiser.** A cell is its fixed-length decisions (:func:`~predictbench.search.pruning.decisions_of`: NB201 6
edges x 5 operations, the NATS size space 5 x 8 channel counts, NAS-Bench-Graph 3 inputs and 4 operations).
Forward process: ``k`` decisions, drawn uniformly from 1 to their number and placed at random, are replaced by
a mask symbol (the noise level is ``k`` over the number of decisions; the reverse process below visits each
level once, so every level is trained equally often). The denoiser is an MLP on the one-hot of (decision, choice or
mask) plus the fraction masked; it outputs, for every decision, logits over that decision's choices and is
trained by cross-entropy on the masked decisions only. It is trained once per searcher (on the first guided
round) on ``n_train`` cells drawn uniformly from the valid cells of the space: ``epochs`` epochs of Adam.

**Guided sampling.** Reverse process: start from all-masked, unmask one decision per step in a random order per
sample. At each step the denoiser's categorical proposal ``p(c)`` for the decision being unmasked is reweighted
by the predictor: for every choice ``c`` the sample is completed (the other masked decisions set to the
denoiser's most probable choices given ``c``), the predictor scores the completion, and
``p'(c) ~ p(c) * exp(guidance * z(c))`` with ``z`` the predicted score in standard deviations of the told
scores. That is classifier guidance with the predictor as the (Boltzmann) likelihood ``exp(guidance * z)``,
evaluated on one completion per choice instead of a gradient on a noisy input (the decisions are discrete);
``guidance = 0`` is plain sampling from the denoiser. The predictor (default: the guided searchers' LightGBM,
:data:`~predictbench.search.guided.GUIDED_LGBM`) is re-fitted every round on the one-hot decisions of the
finitely scored cells.

**Choosing the queries.** Each round samples ``pool_size`` cells; those outside the space (NAS-Bench-Graph holds
26,206 of its 157,464 decision combinations; a constrained space fewer) and those already proposed or told are
dropped, and the ``per_round`` best by predicted score are queued (the predictor ranks the generated pool, as a
BO loop's acquisition ranks candidates). If sampling yields too few, it is repeated once, then random unseen
cells fill the round (``sources`` counts the cells of each origin). The first ``n_initial`` queries are random.

**Scale.** Defaults (``n_train`` 2,000 cells, 20 epochs of a 128-wide MLP, pools of 200, rounds of 10) keep a
T = 100 run on NB201 to a few CPU-seconds (``benchmarks/bench_diffusion.py``).

Examples
--------
>>> from predictbench.spaces import get_space
>>> dg = DiffusionSearch(get_space("nb201"), seed=0, n_initial=4, per_round=2, n_train=200, epochs=2)
>>> archs = dg.ask(4)
>>> dg.tell(archs, [70.0, 71.0, 72.0, 73.0])
>>> len(dg.ask(2)), dg.sources["generated"] > 0
(2, True)
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, target_scaling
from predictbench.predictors.gcn import check_float, check_positive_int, inference, seeded_torch, torch_threads
from predictbench.search.base import RoundSearcher
from predictbench.search.guided import PredictorSpec, resolve_predictor
from predictbench.search.pruning import valid_rows
from predictbench.search.reinforce import space_decisions
from predictbench.spaces import SearchSpace
from predictbench.types import Arch
from predictbench.validation import naming

log = logging.getLogger(__name__)

__all__ = ["DiffusionSearch", "diffusion_modules"]


@functools.cache
def diffusion_modules() -> SimpleNamespace:
    """The torch ``nn.Module`` of the masked denoiser (built on first call; needs torch)."""
    try:
        from torch import nn
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"the diffusion searcher needs torch ({err}); install it with: pip install 'predictbench[gcn]'",
            name=err.name,
        ) from err

    class MaskedDenoiser(nn.Module):
        """(one-hot of decisions or masks, fraction masked) -> logits (n, positions, max choices)."""

        def __init__(self, n_inputs: int, positions: int, max_choices: int, hidden: int) -> None:
            super().__init__()
            self.positions, self.max_choices = positions, max_choices
            self.net = nn.Sequential(
                nn.Linear(n_inputs + 1, hidden),
                nn.SiLU(),
                nn.Linear(hidden, hidden),
                nn.SiLU(),
                nn.Linear(hidden, positions * max_choices),
            )

        def forward(self, inputs: Any, level: Any) -> Any:
            import torch

            out = self.net(torch.cat([inputs, level[:, None]], dim=1))
            return out.view(len(inputs), self.positions, self.max_choices)

    return SimpleNamespace(MaskedDenoiser=MaskedDenoiser)


class DiffusionSearch(RoundSearcher):
    """Predictor-guided masked discrete diffusion over the space's decisions (see the module docstring).

    Parameters
    ----------
    space : a space of fixed-length categorical decisions (nb201, nats-sss, nbgraph, or a constrained one).
    seed : seeds the searcher's RNG; torch (initialisation, training order) is seeded from it.
    n_initial : random cells before the first guided round.
    per_round : cells queued per guided round (the predictor is re-fitted before each round).
    pool_size : cells generated per round, from which the ``per_round`` best predicted new valid ones are queued.
    guidance : the guidance scale (0: unguided sampling from the denoiser).
    predictor : the guiding predictor: an instance, a registered name, ``{"name": ..., **params}`` or None
        (LightGBM); it must read plain features (it is fitted on the one-hot decisions).
    n_train, epochs, hidden, batch_size, lr : the denoiser: training cells drawn from the space, Adam epochs,
        MLP width, mini-batch size, learning rate.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> dg = DiffusionSearch(get_space("nats-sss"), seed=1, n_initial=3)
    >>> len(dg.ask(3))
    3
    """

    option_limits: ClassVar[dict[str, int]] = {"pool_size": 1_000_000, "n_train": 10_000_000}

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        n_initial: int = 10,
        per_round: int = 10,
        pool_size: int = 200,
        guidance: float = 2.0,
        predictor: PredictorSpec = None,
        n_train: int = 2000,
        epochs: int = 20,
        hidden: int = 128,
        batch_size: int = 128,
        lr: float = 0.003,
    ) -> None:
        super().__init__(space, seed=seed)
        self.n_initial = n_initial
        self.per_round = per_round
        self.pool_size = pool_size
        self.guidance = guidance
        self.n_train = n_train
        self.epochs = epochs
        self.hidden = hidden
        self.batch_size = batch_size
        self.lr = lr
        with naming(self):
            check_positive_int("n_initial", n_initial, 2)
            check_positive_int("per_round", per_round)
            check_positive_int("pool_size", pool_size)
            check_float("guidance", guidance, 0.0)
            check_positive_int("n_train", n_train, 2)
            check_positive_int("epochs", epochs)
            check_positive_int("hidden", hidden)
            check_positive_int("batch_size", batch_size)
            check_float("lr", lr, 0.0, open_low=True)
            try:
                self.predictor: Predictor = resolve_predictor(predictor)
            except TypeError as err:
                raise ValueError(str(err)) from None
            if set(self.predictor.needs) != {"features"}:
                raise ValueError(
                    f"predictor must read plain features (it is fitted on the one-hot decisions), "
                    f"got {type(self.predictor).__name__} needing {sorted(self.predictor.needs)}"
                )
        self.decisions = space_decisions(space, type(self).__name__)
        self._valid = valid_rows(space)
        self.sizes = np.array([len(c) for c in self.decisions.choices], dtype=np.int64)
        self._real = np.arange(self.sizes.max()) < self.sizes[:, None]  # (positions, max choices)
        self._offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self._in_offsets = np.concatenate([[0], np.cumsum(self.sizes + 1)[:-1]]).astype(np.int64)
        self.denoiser: Any = None
        self.target_mean, self.target_scale = 0.0, 1.0
        self.rounds = 0
        self.sources = {"random": 0, "generated": 0, "fallback": 0}

    # ---- encodings ----------------------------------------------------------------------------------------

    def onehot(self, codes: np.ndarray) -> np.ndarray:
        """(n, sum of choices) one-hot of complete (n, positions) choice codes: the predictor's features."""
        out = np.zeros((len(codes), int(self.sizes.sum())), dtype=np.float32)
        out[np.arange(len(codes))[:, None], codes + self._offsets] = 1.0
        return out

    def _inputs(self, state: np.ndarray) -> tuple[Any, Any]:
        """The denoiser's input of (n, positions) codes, -1 for a masked decision: (one-hot, fraction masked)."""
        import torch

        masked = state < 0
        columns = self._in_offsets + np.where(masked, self.sizes, state)
        x = np.zeros((len(state), int((self.sizes + 1).sum())), dtype=np.float32)
        x[np.arange(len(state))[:, None], columns] = 1.0
        return torch.from_numpy(x), torch.from_numpy(masked.mean(axis=1).astype(np.float32))

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        """The denoiser's (n, positions, max choices) categorical proposals given partly masked codes."""
        import torch

        if self.denoiser is None:
            self.train_denoiser()
        with inference(1):
            logits = self.denoiser(*self._inputs(np.asarray(state, dtype=np.int64)))
            logits = logits.masked_fill(~torch.from_numpy(self._real), -math.inf)
            return np.asarray(torch.softmax(logits, dim=-1).numpy(), dtype=float)

    # ---- the denoiser -------------------------------------------------------------------------------------

    def train_denoiser(self) -> None:
        """Train the denoiser on ``n_train`` cells drawn uniformly from the space's valid cells (once)."""
        import torch
        import torch.nn.functional as F

        rows = np.flatnonzero(self._valid)
        rows = self.rng.choice(rows, size=min(int(self.n_train), len(rows)), replace=False)
        codes = torch.from_numpy(self.decisions.codes[rows].astype(np.int64))
        n, positions = codes.shape
        in_offsets = torch.from_numpy(self._in_offsets)
        sizes = torch.from_numpy(self.sizes)
        real = torch.from_numpy(self._real)
        width = int((self.sizes + 1).sum())
        seed = int(self.rng.integers(2**31 - 1))
        with seeded_torch(seed) as generator:
            model = diffusion_modules().MaskedDenoiser(width, positions, int(self.sizes.max()), int(self.hidden))
            optimizer = torch.optim.Adam(model.parameters(), lr=float(self.lr))
            batch = min(int(self.batch_size), n)
            for _ in range(int(self.epochs)):
                order = torch.randperm(n, generator=generator)
                for start in range(0, n, batch):
                    x0 = codes[order[start : start + batch]]
                    # k ~ U{1..P} masked decisions, at random: every level the sampler visits, equally often
                    k = torch.randint(1, positions + 1, (len(x0), 1), generator=generator)
                    ranks = torch.rand(x0.shape, generator=generator).argsort(dim=1).argsort(dim=1)
                    masked = ranks < k
                    inputs = torch.zeros(len(x0), width)
                    inputs.scatter_(1, in_offsets + torch.where(masked, sizes, x0), 1.0)
                    logits = model(inputs, masked.float().mean(dim=1)).masked_fill(~real, -math.inf)
                    loss = F.cross_entropy(logits[masked], x0[masked])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
        model.eval()
        self.denoiser = model
        log.debug("%s: denoiser trained on %d cells", type(self).__name__, n)

    # ---- guided sampling ----------------------------------------------------------------------------------

    def _complete(self, state: np.ndarray) -> np.ndarray:
        """``state`` with every masked decision set to the denoiser's most probable choice."""
        best = self.probabilities(state).argmax(axis=-1)
        return np.where(state < 0, best, state)

    def sample(
        self, n: int, *, guidance: float = 0.0, score: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> np.ndarray:
        """``n`` (n, positions) choice codes from the reverse process, guided by ``score`` when ``guidance > 0``.

        ``score(codes)`` gives the standardised predicted score of complete codes. Samples may lie outside the space.
        """
        positions, max_choices = self._real.shape
        state = np.full((n, positions), -1, dtype=np.int64)
        order = self.rng.permuted(np.tile(np.arange(positions), (n, 1)), axis=1)
        every = np.arange(n)
        with torch_threads(1):
            for step in range(positions):
                at = order[:, step]
                probs = self.probabilities(state)[every, at]
                if guidance > 0 and score is not None:
                    trial = np.repeat(state, max_choices, axis=0)
                    trial[np.arange(len(trial)), np.repeat(at, max_choices)] = np.tile(np.arange(max_choices), n)
                    ok = self._real[at].ravel()  # padding choices are never tried
                    z = np.zeros(len(trial))
                    z[ok] = score(self._complete(trial[ok]))
                    probs = probs * np.exp(guidance * (z - z[ok].max()).reshape(n, max_choices))
                probs = probs / probs.sum(axis=1, keepdims=True)
                draws = self.rng.random((n, 1))
                state[every, at] = np.minimum((probs.cumsum(axis=1) < draws).sum(axis=1), self.sizes[at] - 1)
        return state

    def fit_predictor(self) -> Callable[[np.ndarray], np.ndarray]:
        """Fit the predictor on the finitely scored cells; returns the standardised score of complete codes."""
        keys = [k for k, s in self.scores.items() if math.isfinite(s)]
        y = np.array([self.scores[k] for k in keys], dtype=float)
        self.target_mean, self.target_scale = target_scaling(y)
        predictor = self.predictor.clone()
        if "seed" in predictor._param_names():
            predictor.set_params(seed=int(self.rng.integers(2**31 - 1)))
        predictor.fit(self.onehot(self.decisions.encode([self.archs[k] for k in keys])), y)

        def score(codes: np.ndarray) -> np.ndarray:
            predicted = np.asarray(predictor.predict(self.onehot(codes)), dtype=float)
            return (predicted - self.target_mean) / self.target_scale

        return score

    # ---- rounds -------------------------------------------------------------------------------------------

    def _generate(self, score: Callable[[np.ndarray], np.ndarray]) -> list[Arch]:
        """Up to ``per_round`` new valid cells from guided pools, best predicted first."""
        taken = self._taken()
        found: dict[int, float] = {}
        for _ in range(2):
            codes = self.sample(int(self.pool_size), guidance=float(self.guidance), score=score)
            rows = self.decisions.find(codes)
            keep = np.flatnonzero((rows >= 0) & self._valid[np.maximum(rows, 0)])
            if len(keep):
                values = score(codes[keep])
                for row, value in zip(rows[keep].tolist(), values.tolist(), strict=True):
                    if self.decisions.archs[row].key not in taken:
                        found.setdefault(row, value)
            if len(found) >= self.per_round:
                break
        best = sorted(found, key=lambda r: -found[r])[: self.per_round]
        return [self.decisions.archs[r] for r in best]

    def _refill(self, n: int) -> None:
        if sum(math.isfinite(s) for s in self.scores.values()) < self.n_initial:
            new = self._random(n)
            self.sources["random"] += len(new)
            self.queued.extend(new)
            return
        self.rounds += 1
        new = self._generate(self.fit_predictor())
        self.sources["generated"] += len(new)
        self.queued.extend(new)
        if len(new) < self.per_round:
            log.debug("%s round %d: %d new cells generated", type(self).__name__, self.rounds, len(new))
            filler = self._random(self.per_round - len(new))
            self.sources["fallback"] += len(filler)
            self.queued.extend(filler)
