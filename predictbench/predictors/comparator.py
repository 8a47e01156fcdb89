"""CTNAS's Neural Architecture Comparator (Chen et al. 2021): a pairwise "is A better than B?" predictor.

A shared graph encoder (:func:`predictbench.predictors.gcn.torch_modules`'s ``GraphEncoder``) embeds cells A
and B; the concatenated embeddings go through an MLP to the logit of P(A better than B). Training minimises
the binary cross-entropy over pairs of training cells: every step takes a mini-batch of ``batch_size`` cells and
uses *all* ordered pairs within it (both orders, ties skipped), so small training sets see all their pairs
every epoch and large ones a fresh random subset of pairs each epoch (``epochs * n * (batch_size - 1)`` pairs
in all).

With ``antisymmetric=True`` (default) the logit is ``g(a, b) - g(b, a)``, so P(A > B) = 1 - P(B > A) exactly
and P(A > A) = 1/2; the MLP's first layer acts on ``[a, b]`` as ``W_a a + W_b b``, which lets every pair of a
batch be scored with one broadcast add.

``predict`` turns pairwise probabilities into a ranking (Borda count / win rate): the score of x is the mean
of P(x better than r) over a reference set r — the training cells, or a random subset of ``n_reference`` of
them.

Defaults (shared with :class:`~predictbench.predictors.gcn.GCNPredictor`'s encoder) were tuned on
``nb201/cifar10``: 60 epochs of 64-cell batches (4,032 ordered pairs a step) fit 1,000 cells in ~12 s on one core.
"""

from __future__ import annotations

import functools
import logging
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, seed_int
from predictbench.predictors.gcn import (
    GraphTensors,
    TorchModelState,
    check_encoder_params,
    check_positive_int,
    graph_inputs,
    inference,
    torch_modules,
    train_graph_model,
    training_graphs,
)
from predictbench.validation import naming

log = logging.getLogger(__name__)

__all__ = ["ComparatorPredictor"]

_CHUNK = 256  # query cells per block when scoring against the reference set
_ALL_PAIRS_LIMIT = 2000  # pairwise_accuracy uses all pairs up to this many cells, else a sample


@functools.cache
def _comparator_module() -> Any:
    import torch
    from torch import nn

    GraphEncoder = torch_modules().GraphEncoder

    class PairComparator(nn.Module):
        """Shared encoder; MLP on [a, b] (first layer split as W_a a + W_b b) -> logit of P(a better than b)."""

        def __init__(self, encoder: Any, mlp_hidden: int, dropout: float, antisymmetric: bool) -> None:
            super().__init__()
            self.encoder = encoder
            self.first_a = nn.Linear(encoder.out_dim, mlp_hidden)
            self.first_b = nn.Linear(encoder.out_dim, mlp_hidden, bias=False)
            self.dropout = nn.Dropout(dropout)
            self.out = nn.Linear(mlp_hidden, 1)
            self.antisymmetric = antisymmetric

        def embed(self, graphs: tuple[Any, ...]) -> Any:
            return self.encoder(*graphs)

        def _g(self, ua: Any, vb: Any) -> Any:
            return self.out(self.dropout(torch.relu(ua + vb))).squeeze(-1)

        def logits_matrix(self, za: Any, zb: Any) -> Any:
            """(len(za), len(zb)) logits of P(za[i] better than zb[j])."""
            ua, vb = self.first_a(za), self.first_b(zb)
            g = self._g(ua[:, None, :], vb[None, :, :])
            if self.antisymmetric:
                if za is zb:  # g(z_j, z_i) is the transpose: one pass scores both orders
                    return g - g.T
                g = g - self._g(self.first_a(zb)[None, :, :], self.first_b(za)[:, None, :])
            return g

        def logits_pairs(self, za: Any, zb: Any) -> Any:
            """(n,) logits of P(za[k] better than zb[k])."""
            g = self._g(self.first_a(za), self.first_b(zb))
            if self.antisymmetric:
                g = g - self._g(self.first_a(zb), self.first_b(za))
            return g

    def build(
        n_types: int,
        hidden: int,
        n_layers: int,
        dropout: float,
        conv: str,
        pooling: str,
        mlp_hidden: int,
        antisymmetric: bool,
    ) -> Any:
        encoder = GraphEncoder(n_types, hidden, n_layers, dropout, conv, pooling)
        return PairComparator(encoder, mlp_hidden, dropout, antisymmetric)

    return SimpleNamespace(PairComparator=PairComparator, build=build)


class ComparatorPredictor(TorchModelState, Predictor):
    """Neural Architecture Comparator: pairwise P(A better than B) from a shared GCN encoder; Borda ranking.

    Parameters
    ----------
    hidden, n_layers, conv, pooling, dropout
        The graph encoder (see :class:`~predictbench.predictors.gcn.GCNPredictor`).
    mlp_hidden
        Width of the comparison MLP's hidden layer.
    antisymmetric
        Logit ``g(a, b) - g(b, a)``: consistent probabilities (P(A>B) + P(B>A) = 1).
    epochs, min_steps, batch_size, lr, weight_decay
        AdamW with a cosine schedule; each step uses all ordered, untied pairs among ``batch_size`` cells;
        ``epochs`` passes over the training set, raised so that at least ``min_steps`` steps are taken.
    n_reference
        Size of the reference set ``predict`` compares against (a seeded random subset of the training
        cells); None = all training cells.
    seed, n_jobs
        Seed (initialisation, dropout, batches, reference set; global torch RNG untouched) and torch threads.

    Examples
    --------
    >>> import predictbench as pb  # doctest: +SKIP
    >>> bench = pb.load("nb201-analog/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()[:300]; y = bench.scores(keys, "baseline_accuracy")  # doctest: +SKIP
    >>> nac = ComparatorPredictor(epochs=50).fit(bench.batch(keys[:200]), y[:200])  # doctest: +SKIP
    >>> nac.pairwise_accuracy(bench.batch(keys[200:]), y[200:]) > 0.5  # doctest: +SKIP
    True
    """

    needs: ClassVar[frozenset[str]] = frozenset({"graphs"})

    def __init__(
        self,
        *,
        hidden: int = 128,
        n_layers: int = 3,
        conv: str = "directed",
        pooling: str = "sum",
        mlp_hidden: int = 128,
        dropout: float = 0.0,
        antisymmetric: bool = True,
        epochs: int = 60,
        min_steps: int = 0,
        batch_size: int = 64,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        n_reference: int | None = 256,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.conv = conv
        self.pooling = pooling
        self.mlp_hidden = mlp_hidden
        self.dropout = dropout
        self.antisymmetric = antisymmetric
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_reference = n_reference
        self.seed = seed
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        with naming(self):
            check_encoder_params(self)
            if not isinstance(self.antisymmetric, (bool, np.bool_)):
                raise ValueError(f"antisymmetric must be a bool, got {self.antisymmetric!r}")
            if self.n_reference is not None:
                check_positive_int("n_reference", self.n_reference)

    def _build(self, n_types: int) -> Any:
        return _comparator_module().build(
            n_types,
            self.hidden,
            self.n_layers,
            self.dropout,
            self.conv,
            self.pooling,
            self.mlp_hidden,
            bool(self.antisymmetric),
        )

    def fit(self, X: Any, y: np.ndarray) -> ComparatorPredictor:
        import torch

        self._check_params()
        graphs, target, n_types = training_graphs(X, y)
        n = len(target)
        if n < 2:
            raise ValueError(f"ComparatorPredictor needs at least 2 training cells, got {n}")
        tensors = graphs.torch()
        y_t = torch.from_numpy(target)

        def batch_loss(model: Any, rows: Any) -> Any:
            yb = y_t[rows]
            better = yb[:, None] > yb[None, :]
            informative = better | (yb[:, None] < yb[None, :])
            if not bool(informative.any()):
                return None
            z = model.embed(tuple(t[rows] for t in tensors))
            logits = model.logits_matrix(z, z)
            return torch.nn.functional.binary_cross_entropy_with_logits(
                logits[informative], better[informative].to(logits.dtype)
            )

        self.model_, step = train_graph_model(self, lambda: self._build(n_types), batch_loss, n)
        self.n_types_ = n_types
        size = n if self.n_reference is None else min(int(self.n_reference), n)
        rng = np.random.default_rng(seed_int(self.seed))
        reference = np.sort(rng.choice(n, size=size, replace=False)) if size < n else np.arange(n)
        self.reference_embedding_ = self._embed_tensors(graphs, reference)
        log.debug("ComparatorPredictor fitted on %d cells (%d steps, %d references)", n, step, size)
        return self

    def _embed_tensors(self, graphs: GraphTensors, rows: np.ndarray | None = None) -> np.ndarray:
        with inference(int(self.n_jobs)):
            return np.asarray(self.model_.embed(graphs.torch(rows)).numpy(), dtype=np.float32)

    def _embed(self, X: Any) -> np.ndarray:
        return self._embed_tensors(GraphTensors.of(X, self.n_types_))

    def embed(self, X: Any) -> np.ndarray:
        """Graph embeddings (n, hidden) of the fitted shared encoder."""
        self._check_fitted()
        return self._embed(X).astype(float)

    def predict(self, X: Any) -> np.ndarray:
        """Win rate of each cell against the reference set: mean P(x better than r)."""
        self._check_fitted()
        import torch

        z = torch.from_numpy(self._embed(X))
        ref = torch.from_numpy(self.reference_embedding_)
        out = np.empty(len(z), dtype=float)
        with inference(int(self.n_jobs)):
            for start in range(0, len(z), _CHUNK):
                block = z[start : start + _CHUNK]
                probs = torch.sigmoid(self.model_.logits_matrix(block, ref))
                out[start : start + len(block)] = probs.mean(dim=1).double().numpy()
        return out

    def predict_proba_pairs(self, XA: Any, XB: Any) -> np.ndarray:
        """P(XA[k] better than XB[k]) for every k (both inputs of the same length)."""
        self._check_fitted()
        import torch

        za, zb = self._embed(XA), self._embed(XB)
        if len(za) != len(zb):
            raise ValueError(f"XA and XB must have the same length, got {len(za)} and {len(zb)}")
        with inference(int(self.n_jobs)):
            logits = self.model_.logits_pairs(torch.from_numpy(za), torch.from_numpy(zb))
            return np.asarray(torch.sigmoid(logits).double().numpy(), dtype=float)

    def pairwise_accuracy(
        self, X: Any, y: np.ndarray, pairs: np.ndarray | int | None = None, *, seed: int = 0
    ) -> float:
        """Fraction of pairs of ``X`` (ties in ``y`` skipped) whose order the comparator gets right.

        Parameters
        ----------
        X, y
            Held-out cells and their scores (higher = better).
        pairs
            An (m, 2) array of row pairs; an int m: m random pairs of distinct rows (drawn with ``seed``);
            None: all pairs when ``len(X)`` <= 2000, else 200,000 random pairs.

        A probability of exactly 1/2 counts as half right.
        """
        self._check_fitted()
        target = check_target(y, len(graph_inputs(X)[0]))
        n = len(target)
        if isinstance(pairs, (int, np.integer)) and not isinstance(pairs, bool):
            check_positive_int("pairs", pairs)
            pair_rows = _random_pairs(n, int(pairs), seed)
        elif pairs is None:
            if n <= _ALL_PAIRS_LIMIT:
                first, second = np.triu_indices(n, k=1)
                pair_rows = np.stack([first, second], axis=1)
            else:
                pair_rows = _random_pairs(n, 200_000, seed)
        else:
            pair_rows = np.asarray(pairs, dtype=np.int64)
            if pair_rows.ndim != 2 or pair_rows.shape[1] != 2:
                raise ValueError(f"pairs must have shape (m, 2), got {pair_rows.shape}")
            if pair_rows.size and (pair_rows.min() < 0 or pair_rows.max() >= n):
                raise ValueError(f"pairs index rows outside 0..{n - 1}")
        first, second = pair_rows[:, 0], pair_rows[:, 1]
        keep = target[first] != target[second]
        first, second = first[keep], second[keep]
        if not len(first):
            raise ValueError("pairwise_accuracy: no untied pairs to evaluate")
        import torch

        z = torch.from_numpy(self._embed(X))
        with inference(int(self.n_jobs)):
            logits = self.model_.logits_pairs(z[first], z[second]).double().numpy()
        truth = target[first] > target[second]
        right = np.where(logits == 0, 0.5, ((logits > 0) == truth).astype(float))
        return float(right.mean())

    def _rebuild(self, state: dict[str, Any]) -> Any:
        return self._build(state["n_types_"])


def _random_pairs(n: int, m: int, seed: int) -> np.ndarray:
    if n < 2:
        raise ValueError(f"need at least 2 cells for pairs, got {n}")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n, size=m)
    second = (first + rng.integers(1, n, size=m)) % n
    return np.stack([first, second], axis=1)
