"""Neural Architecture Optimization (NAO; Luo, Tian, Qin, Chen & Liu, NeurIPS 2018): search in a continuous embedding.

**Model** (the encoder-predictor-decoder, "EPD", of the official code, renqianluo/NAO_pytorch and its tabular
NAS-Bench-101 version in renqianluo/SemiNAS ``nasbench/``): a cell is the sequence of its categorical decisions,
one token per decision (token = the decision's column in the space's ``onehot`` encoding, so every (position,
choice) has its own embedding). The **encoder** embeds the tokens, runs a bidirectional LSTM, projects it back to
the hidden size with a residual connection and L2-normalises every position; the **embedding** of the cell is the
normalised mean of those outputs. The **predictor** is a residual MLP on the embedding (two layers, ReLU,
dropout, scaled by sqrt(1/2)) and a linear regressor. The **decoder** is an LSTM started from the embedding
(hidden and cell state), fed the previous token, with dot-product attention over the encoder outputs; at each
position only that position's choices may be emitted. Loss (the official ``trade_off`` 0.8): ``0.8 * MSE``
of the standardised score ``+ 0.2 * NLL`` of the teacher-forced reconstruction; Adam (learning rate 1e-3 in the
official code, weight decay 1e-4), gradient norm clipped at 5, batches of 100. As in the official search loop
the same model is trained further in every round (warm start), with a fresh optimiser.

**New candidates** (the official ``generate_new_arch``): from the ``top_k`` best queried cells, the gradient of
the predicted score with respect to the encoder outputs, one step ``outputs + lambda * grad`` (re-normalised per
position, then pooled into the new embedding) and greedy decoding; ``lambda`` grows ``step_size * (1, 2, 3,
...)`` up to ``max_steps`` steps until ``per_round`` cells are found that are new (never proposed or told). The
official schedule is 1, 2, ..., 100; here the gradients on the unit-norm outputs are ~0.5 per position, so a
step of 1 already moves far and larger ones all decode to the same few cells: 0.1, 0.2, ..., 5 by default.
A decoded cell outside the space (NAS-Bench-Graph holds 26,206 of its 157,464 decision combinations; a
constrained space fewer) is projected to the nearest valid cell: least Hamming distance, ties broken by the
decoder's per-position log-probabilities. When decoding yields too few new cells the round is filled with
mutations of the best cells, then random ones (``sources`` counts the cells of each origin: with few queried
cells the decoder mostly reproduces them, the reason SemiNAS added unlabelled cells). The first ``n_initial``
queries are random.

**Scale.** The official settings train 1,000 epochs on 1,100+ cells and ask 300 cells per round; here the
first ``n_initial`` (20) cells are random, a round is ``per_round`` (20) cells and a re-fit of ``epochs`` (30;
the first fit ``4 * epochs``) full-batch steps of a 32-wide model at a learning rate of 0.005 (five times the
official 1e-3, for the few steps), so that a T = 100 run on NB201 takes about 1.5 CPU-seconds
(``benchmarks/bench_nao.py``).

The encoder-predictor alone is the registered predictor ``nao`` (:class:`NAOPredictor`): it reads the one-hot
decision encoding (an ArchBatch or its plain feature matrix: the columns of the ones of a row are its tokens).

Examples
--------
>>> from predictbench.spaces import get_space
>>> nao = NAOSearch(get_space("nb201"), seed=0, n_initial=4, per_round=2, epochs=5)
>>> archs = nao.ask(4)
>>> nao.tell(archs, [70.0, 71.0, 72.0, 73.0])
>>> len(nao.ask(2)), len(nao.queued)
(2, 0)
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, features_of, seed_int, target_scaling
from predictbench.predictors.gcn import (
    TorchModelState,
    check_float,
    check_positive_int,
    inference,
    seeded_torch,
    torch_threads,
)
from predictbench.search.base import RoundSearcher
from predictbench.search.pruning import valid_rows
from predictbench.search.reinforce import space_decisions
from predictbench.spaces import SearchSpace
from predictbench.types import Arch
from predictbench.validation import naming

log = logging.getLogger(__name__)

__all__ = ["NAOPredictor", "NAOSearch", "nao_modules"]

#: weight of the prediction loss against the reconstruction loss (the official code's ``trade_off``)
TRADE_OFF = 0.8
#: the official code's gradient-norm clip
GRAD_BOUND = 5.0


@functools.cache
def nao_modules() -> SimpleNamespace:
    """The torch ``nn.Module`` of NAO's encoder-predictor-decoder (built on first call; needs torch)."""
    try:
        import torch
        import torch.nn.functional as F
        from torch import nn
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"NAO needs torch ({err}); install it with: pip install 'predictbench[gcn]'", name=err.name
        ) from err

    half = math.sqrt(0.5)

    class EncoderPredictorDecoder(nn.Module):
        """Encoder (token sequence -> unit-norm outputs), predictor (embedding -> score), decoder (-> tokens)."""

        def __init__(self, vocab: int, hidden: int, mlp_hidden: int, dropout: float) -> None:
            super().__init__()
            self.vocab = vocab
            self.dropout = dropout
            self.enc_embed = nn.Embedding(vocab, hidden)
            self.enc_rnn = nn.LSTM(hidden, hidden, batch_first=True, bidirectional=True)
            self.enc_proj = nn.Linear(2 * hidden, hidden)
            self.mlp = nn.Sequential(
                nn.Linear(hidden, mlp_hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(mlp_hidden, hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
            )
            self.regressor = nn.Linear(hidden, 1)
            self.dec_embed = nn.Embedding(vocab + 1, hidden)  # token ``vocab``: the start symbol
            self.dec_rnn = nn.LSTM(hidden, hidden, batch_first=True)
            self.att_in = nn.Linear(hidden, hidden, bias=False)
            self.att_out = nn.Linear(2 * hidden, hidden, bias=False)
            self.out = nn.Linear(hidden, vocab)

        def encode(self, tokens: Any) -> Any:
            """Per-position encoder outputs (n, L, hidden), each of unit norm."""
            x = F.dropout(self.enc_embed(tokens), self.dropout, self.training)
            h, _ = self.enc_rnn(x)
            return F.normalize(x + self.enc_proj(h), dim=-1)

        @staticmethod
        def embedding(outputs: Any) -> Any:
            return F.normalize(outputs.mean(dim=1), dim=-1)

        def predict(self, embedding: Any) -> Any:
            return self.regressor((embedding + self.mlp(embedding)) * half).squeeze(-1)

        def _decoder(self, inputs: Any, state: Any, outputs: Any) -> tuple[Any, Any]:
            x = F.dropout(self.dec_embed(inputs), self.dropout, self.training)
            h, state = self.dec_rnn(x, state)
            h = (x + h) * half
            attention = torch.softmax(self.att_in(h) @ outputs.transpose(1, 2), dim=-1)
            mixed = torch.tanh(self.att_out(torch.cat([attention @ outputs, h], dim=-1)))
            return self.out((h + mixed) * half), state

        def _start(self, outputs: Any) -> tuple[Any, Any]:
            emb = self.embedding(outputs)[None].contiguous()
            return emb, emb

        def reconstruct(self, outputs: Any, tokens: Any) -> Any:
            """Teacher-forced decoder logits (n, L, vocab) of ``tokens``."""
            start = torch.full((len(tokens), 1), self.vocab, dtype=torch.long)
            logits, _ = self._decoder(torch.cat([start, tokens[:, :-1]], dim=1), self._start(outputs), outputs)
            return logits

        def decode(self, outputs: Any, allowed: Any) -> tuple[Any, Any]:
            """Greedy decoding: tokens (n, L) and the per-position log-probabilities (n, L, vocab)."""
            state = self._start(outputs)
            token = torch.full((len(outputs), 1), self.vocab, dtype=torch.long)
            chosen, logps = [], []
            for p in range(allowed.shape[0]):
                logits, state = self._decoder(token, state, outputs)
                logp = torch.log_softmax(logits[:, 0].masked_fill(~allowed[p], -math.inf), dim=-1)
                token = logp.argmax(dim=-1, keepdim=True)
                chosen.append(token)
                logps.append(logp)
            return torch.cat(chosen, dim=1), torch.stack(logps, dim=1)

    return SimpleNamespace(EncoderPredictorDecoder=EncoderPredictorDecoder)


def epd_loss(model: Any, tokens: Any, target: Any, allowed: Any, trade_off: float) -> Any:
    """``trade_off * MSE(prediction, target) + (1 - trade_off) * NLL(reconstruction)`` (the official loss)."""
    import torch
    import torch.nn.functional as F

    outputs = model.encode(tokens)
    mse = torch.mean((model.predict(model.embedding(outputs)) - target) ** 2)
    logits = model.reconstruct(outputs, tokens).masked_fill(~allowed, -math.inf)
    nll = F.nll_loss(torch.log_softmax(logits, dim=-1).flatten(0, 1), tokens.flatten())
    return trade_off * mse + (1 - trade_off) * nll


def train_epd(
    model: Any,
    tokens: np.ndarray,
    target: np.ndarray,
    allowed: Any,
    generator: Any,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    trade_off: float,
) -> int:
    """Train ``model`` in place on (tokens, standardised target) with a fresh Adam; returns the steps taken.

    Runs inside :func:`~predictbench.predictors.gcn.seeded_torch` (dropout), shuffling with ``generator``.
    """
    import torch

    tokens_t = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
    target_t = torch.from_numpy(np.asarray(target, dtype=np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay, foreach=True)
    n = len(tokens_t)
    batch = min(batch_size, n)
    model.train()
    steps = 0
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator) if n > batch else torch.arange(n)
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            loss = epd_loss(model, tokens_t[rows], target_t[rows], allowed, trade_off)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_BOUND)
            optimizer.step()
            steps += 1
    model.eval()
    return steps


def predict_tokens(model: Any, tokens: np.ndarray) -> np.ndarray:
    """The model's (standardised) predictions of token sequences; call under no_grad."""
    import torch

    out = model.predict(model.embedding(model.encode(torch.from_numpy(np.asarray(tokens, dtype=np.int64)))))
    return np.asarray(out.numpy(), dtype=float)


def gradient_steps(model: Any, tokens: np.ndarray, lambdas: Sequence[float], allowed: Any) -> dict[str, np.ndarray]:
    """NAO's move: ``outputs + lambda * d(prediction)/d(outputs)`` for each lambda, then greedy decoding.

    Returns arrays with one row per (lambda, cell), lambda-major: ``tokens`` (decoded), ``logp`` (the decoder's
    per-position log-probabilities), ``before`` and ``after`` (the predicted score of the cell's embedding and of
    the moved one).
    """
    import torch
    import torch.nn.functional as F

    model.eval()
    with torch.enable_grad():
        outputs = model.encode(torch.from_numpy(np.asarray(tokens, dtype=np.int64))).detach().requires_grad_(True)
        before = model.predict(model.embedding(outputs))
        (grad,) = torch.autograd.grad(before.sum(), outputs)
    with torch.no_grad():
        scale = torch.tensor(np.asarray(lambdas, dtype=np.float32))[:, None, None, None]
        moved = F.normalize((outputs[None] + scale * grad[None]).flatten(0, 1), dim=-1)
        after = model.predict(model.embedding(moved))
        decoded, logp = model.decode(moved, allowed)
    return {
        "tokens": decoded.numpy(),
        "logp": logp.numpy(),
        "before": np.tile(before.detach().numpy(), len(lambdas)).astype(float),
        "after": after.numpy().astype(float),
    }


def onehot_tokens(features: np.ndarray, who: str) -> np.ndarray:
    """Token sequences of one-hot rows: the columns of each row's ones, in order (all rows the same count)."""
    binary = (features == 0) | (features == 1)
    counts = (features == 1).sum(axis=1)
    if features.size and (not binary.all() or counts.min() != counts.max() or counts[0] == 0):
        bad = int(np.flatnonzero(~binary.all(axis=1) | (counts != counts[0]) | (counts == 0))[0])
        raise ValueError(
            f"{who} needs a one-hot encoding of categorical decisions (0/1 rows, the same number of ones in "
            f"each); row {bad} is not (encoding: set 'encoding' to a one-hot one, e.g. 'onehot')"
        )
    return np.nonzero(features == 1)[1].reshape(len(features), -1).astype(np.int64)


def _check_model_params(p: Any) -> None:
    check_positive_int("hidden", p.hidden)
    check_positive_int("mlp_hidden", p.mlp_hidden)
    check_float("dropout", p.dropout, 0.0, 1.0)
    check_float("trade_off", p.trade_off, 0.0)
    if float(p.trade_off) > 1:
        raise ValueError(f"trade_off must be a number in [0, 1], got {p.trade_off!r}")
    check_positive_int("epochs", p.epochs)
    check_positive_int("batch_size", p.batch_size)
    check_float("lr", p.lr, 0.0, open_low=True)
    check_float("weight_decay", p.weight_decay, 0.0)


class NAOPredictor(TorchModelState, Predictor):
    """NAO's encoder and performance predictor, trained jointly with its decoder (see the module docstring).

    Parameters
    ----------
    encoding
        A one-hot encoding of the cell's decisions (``"onehot"``); each row's ones are its token sequence.
    hidden, mlp_hidden, dropout
        Width of the embedding, LSTMs and attention; hidden width of the predictor's MLP; dropout.
    trade_off
        Weight of the prediction (MSE) loss; ``1 - trade_off`` weighs the reconstruction (NLL) loss.
    epochs, batch_size, lr, weight_decay
        Adam on shuffled mini-batches, gradient norm clipped at 5.
    seed
        Seeds initialisation, dropout and shuffling; the global torch RNG state is left untouched.
    n_jobs
        torch intra-op threads while fitting and predicting (restored afterwards).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3)[np.random.default_rng(0).integers(0, 3, (40, 2))].reshape(40, 6)
    >>> y = X[:, 0] + 2 * X[:, 4]
    >>> model = NAOPredictor(epochs=100).fit(X, y)
    >>> float(np.corrcoef(model.predict(X), y)[0, 1]) > 0.9
    True
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(
        self,
        *,
        encoding: str = "onehot",
        hidden: int = 32,
        mlp_hidden: int = 64,
        dropout: float = 0.1,
        trade_off: float = TRADE_OFF,
        epochs: int = 200,
        batch_size: int = 100,
        lr: float = 0.005,
        weight_decay: float = 1e-4,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.encoding = encoding
        self.hidden = hidden
        self.mlp_hidden = mlp_hidden
        self.dropout = dropout
        self.trade_off = trade_off
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.n_jobs = n_jobs

    def _tokens(self, X: Any) -> np.ndarray:
        return onehot_tokens(features_of(X, self.encoding), type(self).__name__)

    def _build(self, vocab: int) -> Any:
        return nao_modules().EncoderPredictorDecoder(vocab, int(self.hidden), int(self.mlp_hidden), self.dropout)

    def fit(self, X: Any, y: np.ndarray) -> NAOPredictor:
        import torch

        with naming(self):
            _check_model_params(self)
            check_positive_int("n_jobs", self.n_jobs)
            seed = seed_int(self.seed)
        features = features_of(X, self.encoding)
        tokens = onehot_tokens(features, type(self).__name__)
        target = check_target(y, len(tokens))
        mean, scale = target_scaling(target)
        vocab = features.shape[1]
        allowed = torch.ones((tokens.shape[1], vocab), dtype=torch.bool)
        with seeded_torch(seed, int(self.n_jobs)) as generator:
            model = self._build(vocab)
            steps = train_epd(
                model,
                tokens,
                (target - mean) / scale,
                allowed,
                generator,
                epochs=int(self.epochs),
                batch_size=int(self.batch_size),
                lr=float(self.lr),
                weight_decay=float(self.weight_decay),
                trade_off=float(self.trade_off),
            )
        self.model_ = model
        self.vocab_ = vocab
        self.length_ = tokens.shape[1]
        self.target_mean_, self.target_scale_ = mean, scale
        log.debug("NAOPredictor fitted on %d cells (%d steps)", len(tokens), steps)
        return self

    def _fitted_tokens(self, X: Any) -> np.ndarray:
        features = features_of(X, self.encoding)
        if features.shape[1] != self.vocab_:
            raise ValueError(f"{type(self).__name__}: expected {self.vocab_} one-hot columns, got {features.shape[1]}")
        tokens = onehot_tokens(features, type(self).__name__)
        if len(tokens) and tokens.shape[1] != self.length_:
            raise ValueError(
                f"{type(self).__name__}: expected {self.length_} decisions per cell, got {tokens.shape[1]}"
            )
        return tokens

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        tokens = self._fitted_tokens(X)
        with inference(int(self.n_jobs)):
            out = predict_tokens(self.model_, tokens) if len(tokens) else np.empty(0)
        return np.asarray(out * self.target_scale_ + self.target_mean_, dtype=float)

    def embed(self, X: Any) -> np.ndarray:
        """The continuous embeddings (n, hidden) of the cells: unit vectors."""
        import torch

        self._check_fitted()
        tokens = self._fitted_tokens(X)
        with inference(int(self.n_jobs)):
            model = self.model_
            return np.asarray(model.embedding(model.encode(torch.from_numpy(tokens))).numpy(), dtype=float)

    def _rebuild(self, state: dict[str, Any]) -> Any:
        return self._build(state["vocab_"])


class NAOSearch(RoundSearcher):
    """NAO: gradient steps on the predicted score in a learned embedding, decoded to new cells.

    Parameters
    ----------
    space : a space of fixed-length categorical decisions (nb201, nats-sss, nbgraph, or a constrained one).
    seed : seeds the searcher's RNG; torch (initialisation, dropout) is seeded from it at every round.
    n_initial : random cells before the first model is trained.
    per_round : new cells generated per round (the model is re-trained before each round).
    top_k : the best queried cells the gradient steps start from.
    step_size, max_steps : the step sizes tried are ``step_size * (1, 2, ..., max_steps)``, smallest first.
    epochs : full-batch (up to ``batch_size`` cells) epochs of each re-fit; the first fit takes four times as many.
    hidden, mlp_hidden, dropout, trade_off, batch_size, lr, weight_decay : the model and its training (see
        :class:`NAOPredictor`).

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> nao = NAOSearch(get_space("nats-sss"), seed=1, n_initial=3)
    >>> len(nao.ask(3))
    3
    """

    option_limits: ClassVar[dict[str, int]] = {"per_round": 1_000_000, "max_steps": 100_000}

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        n_initial: int = 20,
        per_round: int = 20,
        top_k: int = 20,
        step_size: float = 0.1,
        max_steps: int = 50,
        epochs: int = 30,
        hidden: int = 32,
        mlp_hidden: int = 64,
        dropout: float = 0.1,
        trade_off: float = TRADE_OFF,
        batch_size: int = 100,
        lr: float = 0.005,
        weight_decay: float = 1e-4,
    ) -> None:
        super().__init__(space, seed=seed)
        self.n_initial = n_initial
        self.per_round = per_round
        self.top_k = top_k
        self.step_size = step_size
        self.max_steps = max_steps
        self.epochs = epochs
        self.hidden = hidden
        self.mlp_hidden = mlp_hidden
        self.dropout = dropout
        self.trade_off = trade_off
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        with naming(self):
            check_positive_int("n_initial", n_initial, 2)
            check_positive_int("per_round", per_round)
            check_positive_int("top_k", top_k)
            check_float("step_size", step_size, 0.0, open_low=True)
            check_positive_int("max_steps", max_steps)
            _check_model_params(self)
        who = type(self).__name__
        self.decisions = space_decisions(space, who)
        self._valid = valid_rows(space)
        sizes = np.array([len(c) for c in self.decisions.choices])
        self._offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        vocab = int(sizes.sum())
        self._allowed = np.zeros((len(sizes), vocab), dtype=bool)  # position -> its tokens
        for p, (start, size) in enumerate(zip(self._offsets, sizes, strict=True)):
            self._allowed[p, start : start + size] = True
        self.model: Any = None  # the encoder-predictor-decoder, once trained
        self.target_mean, self.target_scale = 0.0, 1.0
        self.rounds = 0
        self.sources = {"random": 0, "decoded": 0, "fallback": 0}  # cells queued by origin
        self._trained_on = 0

    # ---- tokens and cells ---------------------------------------------------------------------------------

    def tokens(self, archs: Sequence[Arch]) -> np.ndarray:
        """(n, positions) token ids of ``archs`` (OutOfSpaceError for a cell not in the space)."""
        return self.decisions.encode(archs) + self._offsets

    def _allowed_t(self) -> Any:
        import torch

        return torch.from_numpy(self._allowed)

    def _cells(self, tokens: np.ndarray, logp: np.ndarray) -> np.ndarray:
        """Enumeration rows of decoded token sequences, projected to the nearest valid cell where needed."""
        codes = tokens - self._offsets
        rows = self.decisions.find(codes)
        invalid = np.flatnonzero((rows < 0) | ~self._valid[np.maximum(rows, 0)])
        if len(invalid):
            candidates = np.flatnonzero(self._valid)
            valid_tokens = self.decisions.codes[candidates] + self._offsets
            positions = np.arange(tokens.shape[1])
            for i in invalid:
                distance = (valid_tokens != tokens[i]).sum(axis=1)
                near = np.flatnonzero(distance == distance.min())
                likelihood = logp[i][positions, valid_tokens[near]].sum(axis=1)
                rows[i] = candidates[near[int(np.argmax(likelihood))]]
        return rows

    # ---- the model ----------------------------------------------------------------------------------------

    def _training_set(self) -> tuple[list[Arch], np.ndarray]:
        keys = [k for k, s in self.scores.items() if math.isfinite(s)]
        return [self.archs[k] for k in keys], np.array([self.scores[k] for k in keys], dtype=float)

    def fit_model(self) -> None:
        """(Re-)train the model on every finitely scored cell (warm start after the first round)."""
        archs, scores = self._training_set()
        if len(archs) < 2:
            return
        self.target_mean, self.target_scale = target_scaling(scores)
        seed = int(self.rng.integers(2**31 - 1))
        first = self.model is None
        with seeded_torch(seed) as generator:
            if first:
                self.model = nao_modules().EncoderPredictorDecoder(
                    int(self._allowed.shape[1]), int(self.hidden), int(self.mlp_hidden), float(self.dropout)
                )
            train_epd(
                self.model,
                self.tokens(archs),
                (scores - self.target_mean) / self.target_scale,
                self._allowed_t(),
                generator,
                epochs=int(self.epochs) * (4 if first else 1),
                batch_size=int(self.batch_size),
                lr=float(self.lr),
                weight_decay=float(self.weight_decay),
                trade_off=float(self.trade_off),
            )
        self._trained_on = len(self.scores)

    def predict(self, archs: Sequence[Arch]) -> np.ndarray:
        """The model's predicted scores of ``archs`` (on the scale of the told scores)."""
        if self.model is None:
            raise ValueError(f"{type(self).__name__} has no trained model yet (needs 2 scored cells and an ask)")
        with inference(1):
            out = predict_tokens(self.model, self.tokens(archs))
        return out * self.target_scale + self.target_mean

    def reconstruct(self, archs: Sequence[Arch]) -> list[Arch]:
        """decode(encode(arch)) for each of ``archs``: a step of size 0."""
        return self.move(archs, 0.0)[0]

    def move(self, archs: Sequence[Arch], step: float) -> tuple[list[Arch], np.ndarray, np.ndarray]:
        """One gradient step of size ``step`` from each of ``archs``: (decoded cells, predicted before, after).

        The predictions are those of the embeddings (the cell's, and the moved one), on the told scores' scale.
        """
        if self.model is None:
            raise ValueError(f"{type(self).__name__} has no trained model yet (needs 2 scored cells and an ask)")
        with torch_threads(1):
            out = gradient_steps(self.model, self.tokens(archs), [step], self._allowed_t())
        rows = self._cells(out["tokens"], out["logp"])
        scale, mean = self.target_scale, self.target_mean
        return [self.decisions.archs[r] for r in rows], out["before"] * scale + mean, out["after"] * scale + mean

    # ---- rounds -------------------------------------------------------------------------------------------

    def _generate(self) -> list[Arch]:
        """Up to ``per_round`` new cells by gradient steps from the best queried cells, best predicted first."""
        archs, scores = self._training_set()
        top = [archs[i] for i in np.argsort(-scores, kind="stable")[: self.top_k]]
        taken = self._taken()
        found: dict[int, None] = {}
        chunk = max(1, 100 // len(top))  # lambdas decoded per batch
        for first in range(1, int(self.max_steps) + 1, chunk):
            steps = range(first, min(first + chunk, int(self.max_steps) + 1))
            with torch_threads(1):
                out = gradient_steps(
                    self.model, self.tokens(top), [self.step_size * s for s in steps], self._allowed_t()
                )
            for row in self._cells(out["tokens"], out["logp"]).tolist():
                if self.decisions.archs[row].key not in taken:
                    found.setdefault(row, None)
            if len(found) >= self.per_round:
                break
        new = [self.decisions.archs[r] for r in list(found)[: self.per_round]]
        if new:
            order = np.argsort(-self.predict(new), kind="stable")
            new = [new[i] for i in order]
        return new

    def _fallback(self, n: int) -> list[Arch]:
        """``n`` new cells from mutations of the best queried cells, then random ones (not claimed here)."""
        archs, scores = self._training_set()
        parents = [archs[i] for i in np.argsort(-scores, kind="stable")[: self.top_k]]
        taken = self._taken()
        out: dict[str, Arch] = {}
        for _ in range(20 * n if parents else 0):
            if len(out) >= n:
                break
            child = self.space.mutate(parents[int(self.rng.integers(len(parents)))], self.rng)
            if child.key not in taken and self.space.is_valid(child):
                out.setdefault(child.key, child)
        return [*out.values(), *self._random(n - len(out), taken | set(out))]

    def _refill(self, n: int) -> None:
        if len(self._training_set()[0]) < self.n_initial:
            new = self._random(n)
            self.sources["random"] += len(new)
            self.queued.extend(new)
            return
        if self.model is None or self._trained_on < len(self.scores):
            self.fit_model()
        self.rounds += 1
        new = self._generate()
        self.sources["decoded"] += len(new)
        self.queued.extend(new)
        if len(new) < self.per_round:
            log.debug("NAO round %d: %d new cells decoded, filling with mutations", self.rounds, len(new))
            filler = self._fallback(self.per_round - len(new))
            self.sources["fallback"] += len(filler)
            self.queued.extend(filler)
