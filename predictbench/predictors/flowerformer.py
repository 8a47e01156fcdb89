"""FlowerFormer: a flow-aware graph transformer predictor (Hwang, Kim, Kim and Shin, CVPR 2024).

Each cell is an op-on-node DAG (:meth:`ArchBatch.graphs`; NB201 / NATS-tss cells, whose ops sit on edges, arrive
converted as the paper does: one node per edge labelled with its op, plus input and output nodes). Every layer
combines two modules, after a first ``Linear -> BatchNorm -> ReLU`` embedding of the one-hot op labels:

* the **flow encode module**: bidirectional *asynchronous* message passing. Nodes are updated one topological
  generation at a time, first forward (sources first; a node's state is ``GRU(input = its layer input, hidden =
  attention-weighted sum of its predecessors' new states)``, the weights a softmax over the predecessors of a
  linear score of ``[own input, predecessor state + learned edge vector]``), then backward in reverse order from
  the sinks over successors, starting from the forward states; ReLU. This mimics the forward and the backward
  pass of the network.
* the **flow-aware global attention**: multi-head self-attention in which a node attends only to the nodes it
  shares a directed path with (ancestors, descendants and itself; ``mask="flow"``).

``h = BN(h + flow(h)) + BN(h + attention(h))``, then ``h = BN(h + FFN(h))`` (the GraphGPS layer the paper builds
on); the node states are mean-pooled over the real nodes and a linear head gives the score. Training minimises
the paper's pairwise hinge loss ``mean(max(0, margin - sign(y_i - y_j) (s_i - s_j)))`` over every pair of a
mini-batch with different targets (margin 0.5), with AdamW, a linear warm-up then cosine schedule and gradient
clipping at norm 1.

From the official code (github.com/y0ngjaenius/CVPR2024_FLOWERFormer, ``one_cell/``, ``train_utils.py``,
``cfgs/nb201/FLOWERFormer.yaml``): hidden width 64, 8 heads, attention-weight dropout 0.5, no other dropout,
BatchNorm, batch 32, AdamW lr 8e-4, weight decay 6e-5, warm-up 30 of 600 epochs, clip 1.0, hinge margin 0.5;
9 layers on NB101 / NB201 (NB101: batch 16, 300 epochs; nbgraph: width 256, 4 layers, lr 7e-3). Departures,
all for a CPU budget (fit at n = 1,000 in well under a minute on 2 cores) or for the house's protocol:

* 3 layers, 40 epochs of 128-cell batches (raised to at least 300 steps for small training sets) instead of 9
  layers and 600 epochs of 32, with a learning rate of 2e-3 for the shorter schedule (not tuned further; fit at
  n = 1,000: ~35 CPU-s on one thread; see ``benchmarks/bench_flowerformer.py`` for its Kendall tau);
* no model selection on validation cells drawn from the test side (the official script keeps the epoch with the
  best Kendall tau on 40 held-out cells): every choice is made inside the training set;
* the backward sweep aggregates each node's successors once, in reverse topological generations, as the paper's
  equations say (the official loop re-updates a node once per generation of its successors);
* dense padded tensors instead of PyG batches; padding nodes (negative labels) take no part anywhere.

``mask="sibling"`` adds NN-Former's sibling relation (CVPR 2025: nodes sharing a predecessor or a
successor) to the attention mask; ``mask="full"`` is plain attention over all real nodes (an ablation).

Everything torch lives inside functions (:func:`flowerformer_modules`), so this module imports without torch.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, seed_int
from predictbench.predictors.gcn import (
    GraphTensors,
    TorchModelState,
    check_choice,
    check_float,
    check_positive_int,
    inference,
    pairwise_logistic,
    train_graph_model,
    training_graphs,
)
from predictbench.validation import naming

log = logging.getLogger(__name__)

__all__ = ["FlowGraphs", "FlowerFormerPredictor", "flowerformer_modules"]

MASKS = ("flow", "sibling", "full")
LOSSES = ("hinge", "logistic")
_DEVICE = re.compile(r"(cpu|cuda(:\d+)?|mps)")
_PREDICT_CHUNK = 2048


# --------------------------------------------------------------------------------------------------
# inputs: GraphTensors -> topological generations and attention masks
# --------------------------------------------------------------------------------------------------


def _generations(adj: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(n, V) longest-path depth of every real node from the sources of ``adj`` (``adj[b, i, j]``: edge i -> j);
    -1 for padding nodes."""
    level = np.zeros(mask.shape, dtype=np.int64)
    into = adj.transpose(0, 2, 1) > 0  # into[b, j, i]: edge i -> j
    for _ in range(adj.shape[1]):
        deeper = np.where(into, level[:, None, :] + 1, 0).max(axis=2, initial=0)
        if np.array_equal(deeper, level):
            break
        level = deeper
    return np.where(mask > 0, level, -1)


def _reachability(adj: np.ndarray) -> np.ndarray:
    """(n, V, V) bool: a directed path of length >= 1 leads from i to j."""
    reach = adj > 0
    for _ in range(max(int(np.ceil(np.log2(max(adj.shape[1], 2)))), 1)):
        reach = reach | (np.matmul(reach.astype(np.int32), reach.astype(np.int32)) > 0)
    return reach


@dataclass(frozen=True)
class FlowGraphs:
    """A graph batch with what the flow modules need, as numpy arrays.

    ``graphs`` the :class:`~predictbench.predictors.gcn.GraphTensors`; ``fwd`` / ``bwd`` (n, V) the forward
    generation of each node (longest path from a source) and its backward one (longest path to a sink), -1 for
    padding; ``allowed`` (n, V, V) float 0/1, which node pairs attention may join (always the node itself).
    """

    graphs: GraphTensors
    fwd: np.ndarray
    bwd: np.ndarray
    allowed: np.ndarray

    def __len__(self) -> int:
        return len(self.graphs)

    @classmethod
    def build(cls, graphs: GraphTensors, mask: str) -> FlowGraphs:
        adj, real = graphs.adj, graphs.mask
        both = (real[:, :, None] > 0) & (real[:, None, :] > 0)
        eye = np.eye(adj.shape[1], dtype=bool)[None]
        if mask == "full":
            allowed = both
        else:
            reach = _reachability(adj)
            allowed = (reach | reach.transpose(0, 2, 1)) & both
            if mask == "sibling":
                a = (adj > 0).astype(np.int32)
                siblings = (np.matmul(a.transpose(0, 2, 1), a) > 0) | (np.matmul(a, a.transpose(0, 2, 1)) > 0)
                allowed |= siblings & both
        return cls(
            graphs=graphs,
            fwd=_generations(adj, real),
            bwd=_generations(adj.transpose(0, 2, 1), real),
            allowed=(allowed | eye).astype(np.float32),
        )

    def torch(self, rows: Any = None, device: Any = None) -> tuple[Any, ...]:
        """(x, adj, mask, fwd, bwd, allowed) as torch tensors on ``device``, optionally only ``rows``."""
        import torch

        g = self.graphs
        arrays = (g.x, g.adj, g.mask, self.fwd, self.bwd, self.allowed)
        if rows is not None:
            arrays = tuple(a[rows] for a in arrays)
        return tuple(torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in arrays)


# --------------------------------------------------------------------------------------------------
# torch modules (built lazily)
# --------------------------------------------------------------------------------------------------


@functools.cache
def flowerformer_modules() -> SimpleNamespace:
    """The torch ``nn.Module`` classes of FlowerFormer (built on first call; needs torch)."""
    try:
        import torch
        from torch import nn
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"FlowerFormerPredictor needs torch ({err}); install it with: pip install 'predictbench[gcn]'"
        ) from err

    class NodeNorm(nn.Module):
        """BatchNorm1d over the real nodes of a padded batch; padding nodes stay zero."""

        def __init__(self, dim: int) -> None:
            super().__init__()
            self.norm = nn.BatchNorm1d(dim)

        def forward(self, h: Any, real: Any) -> Any:
            out = torch.zeros_like(h)
            out[real] = self.norm(h[real])
            return out

    class FlowSweep(nn.Module):
        """One direction of asynchronous message passing, generation by generation."""

        def __init__(self, dim: int) -> None:
            super().__init__()
            self.edge = nn.Parameter(torch.zeros(dim))  # the official DummyEdge embedding: one vector per edge
            self.score = nn.Linear(2 * dim, 1)
            self.gru = nn.GRUCell(dim, dim)

        def forward(self, h_in: Any, into: Any, level: Any) -> Any:
            """``into[b, i, j]`` = 1 when j sends to i; ``level`` the generation of each node (-1: padding).

            Each generation updates only its own nodes (gathered flat), from the states of the earlier ones.
            """
            n, v, d = h_in.shape
            w_query, w_key = self.score.weight[0, :d], self.score.weight[0, d:]
            inputs = h_in.reshape(n * v, d)
            query = inputs @ w_query + self.score.bias  # (n V,)
            senders = into.reshape(n * v, v)
            flat_level = level.reshape(n * v)
            state = torch.zeros_like(inputs)
            for generation in range(int(flat_level.max()) + 1):
                idx = torch.nonzero(flat_level == generation).squeeze(1)
                if generation == 0:  # sources: no message
                    new = self.gru(inputs[idx])
                else:
                    graph_states = state.reshape(n, v, d)[torch.div(idx, v, rounding_mode="floor")]  # (m, V, d)
                    logits = query[idx, None] + (graph_states + self.edge) @ w_key  # (m, V)
                    allowed = senders[idx]
                    weights = torch.softmax(logits.masked_fill(allowed == 0, -1e9), dim=-1) * allowed
                    message = torch.bmm(weights.unsqueeze(1), graph_states).squeeze(1)
                    new = self.gru(inputs[idx], message)
                state = state.index_copy(0, idx, new)
            return state.reshape(n, v, d)

    class FlowEncode(nn.Module):
        """The flow encode module: a forward sweep from the sources, then a backward one from the sinks."""

        def __init__(self, dim: int, dropout: float) -> None:
            super().__init__()
            self.forward_sweep = FlowSweep(dim)
            self.backward_sweep = FlowSweep(dim)
            self.dropout = nn.Dropout(dropout)

        def forward(self, h: Any, adj: Any, fwd: Any, bwd: Any) -> Any:
            h_forward = self.forward_sweep(self.dropout(h), adj.transpose(1, 2), fwd)
            return torch.relu(self.backward_sweep(self.dropout(h_forward), adj, bwd))

    class FlowAttention(nn.Module):
        """Multi-head self-attention restricted to the allowed node pairs (no bias on q, k, v, as the paper)."""

        def __init__(self, dim: int, heads: int, attn_dropout: float) -> None:
            super().__init__()
            self.heads = heads
            self.qk = nn.Linear(dim, 2 * dim, bias=False)
            self.v = nn.Linear(dim, dim, bias=False)
            self.out = nn.Linear(dim, dim)
            self.dropout = nn.Dropout(attn_dropout)
            nn.init.xavier_uniform_(self.qk.weight)
            nn.init.xavier_uniform_(self.v.weight)

        def forward(self, h: Any, allowed: Any) -> Any:
            n, v, d = h.shape
            dh = d // self.heads
            q, k = (t.reshape(n, v, self.heads, dh).transpose(1, 2) for t in self.qk(h).chunk(2, dim=-1))
            values = self.v(h).reshape(n, v, self.heads, dh).transpose(1, 2)
            logits = (q @ k.transpose(-1, -2)) * dh**-0.5
            weights = torch.softmax(logits.masked_fill(allowed[:, None] == 0, float("-inf")), dim=-1)
            out = (self.dropout(weights) @ values).transpose(1, 2).reshape(n, v, d)
            return self.out(out)

    class FlowerLayer(nn.Module):
        """``BN(h + flow(h)) + BN(h + attention(h))``, then ``BN(h + FFN(h))``."""

        def __init__(self, dim: int, heads: int, dropout: float, attn_dropout: float) -> None:
            super().__init__()
            self.flow = FlowEncode(dim, dropout)
            self.attention = FlowAttention(dim, heads, attn_dropout)
            self.norm_flow, self.norm_attention, self.norm_out = NodeNorm(dim), NodeNorm(dim), NodeNorm(dim)
            self.ffn = nn.Sequential(
                nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim), nn.Dropout(dropout)
            )
            self.dropout = nn.Dropout(dropout)

        def forward(self, h: Any, adj: Any, real: Any, fwd: Any, bwd: Any, allowed: Any) -> Any:
            local = self.norm_flow(h + self.dropout(self.flow(h, adj, fwd, bwd)), real)
            attended = self.norm_attention(h + self.dropout(self.attention(h, allowed)), real)
            h = local + attended
            return self.norm_out(h + self.ffn(h), real)

    class FlowerFormer(nn.Module):
        """Op embedding, FlowerFormer layers, mean pooling over real nodes, linear head -> one score per graph."""

        def __init__(
            self, n_types: int, dim: int, n_layers: int, heads: int, dropout: float, attn_dropout: float
        ) -> None:
            super().__init__()
            self.embed = nn.Linear(n_types, dim)
            self.embed_norm = NodeNorm(dim)
            self.layers = nn.ModuleList(FlowerLayer(dim, heads, dropout, attn_dropout) for _ in range(n_layers))
            self.head = nn.Linear(dim, 1)

        def encode(self, x: Any, adj: Any, mask: Any, fwd: Any, bwd: Any, allowed: Any) -> Any:
            real = mask > 0
            h = torch.relu(self.embed_norm(self.embed(x), real))
            for layer in self.layers:
                h = layer(h, adj, real, fwd, bwd, allowed)
            weights = mask.unsqueeze(-1)
            return (h * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)

        def forward(self, x: Any, adj: Any, mask: Any, fwd: Any, bwd: Any, allowed: Any) -> Any:
            return self.head(self.encode(x, adj, mask, fwd, bwd, allowed)).squeeze(-1)

    return SimpleNamespace(
        NodeNorm=NodeNorm,
        FlowSweep=FlowSweep,
        FlowEncode=FlowEncode,
        FlowAttention=FlowAttention,
        FlowerLayer=FlowerLayer,
        FlowerFormer=FlowerFormer,
    )


def pairwise_hinge(scores: Any, target: Any, margin: float) -> Any:
    """FlowerFormer's ranking loss: ``mean(max(0, margin - sign(y_i - y_j) (s_i - s_j)))`` over the pairs with
    ``y_i > y_j`` (each unordered pair with different targets once)."""
    import torch

    better = target[:, None] > target[None, :]
    if not bool(better.any()):
        return scores.sum() * 0.0
    diff = scores[:, None] - scores[None, :]
    return torch.relu(margin - diff[better]).mean()


def _resolve_device(name: str, owner: str) -> Any:
    import torch

    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{owner}: device {name!r} is not available here (torch.cuda.is_available() is False)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{owner}: device {name!r} is not available here (torch.backends.mps.is_available() is False)")
    return device


# --------------------------------------------------------------------------------------------------
# the predictor
# --------------------------------------------------------------------------------------------------


class FlowerFormerPredictor(TorchModelState, Predictor):
    """FlowerFormer: flow encode module (asynchronous forward/backward message passing) + flow-masked attention.

    Parameters
    ----------
    hidden, n_layers, n_heads
        Width of the node states (a multiple of ``n_heads``), number of FlowerFormer layers, attention heads.
    mask
        Which node pairs the global attention joins: ``"flow"`` (connected by a directed path, the paper),
        ``"sibling"`` (also nodes sharing a predecessor or a successor, NN-Former's sibling relation) or
        ``"full"`` (every real node; an ablation).
    dropout, attn_dropout
        Dropout on node states and feed-forward outputs; dropout on the attention weights (the paper: 0.5).
    loss, margin
        ``"hinge"`` (the paper's pairwise hinge loss with ``margin``) or ``"logistic"`` (pairwise logistic).
    epochs, min_steps, batch_size, lr, weight_decay, warmup, clip_grad_norm
        AdamW with a linear warm-up over the first ``warmup`` fraction of the steps, then cosine decay;
        gradients clipped at ``clip_grad_norm``; ``epochs`` raised so that at least ``min_steps`` steps are taken.
    seed
        Seeds initialisation, dropout and shuffling; the global torch CPU RNG state is left untouched.
    n_jobs
        torch intra-op threads while fitting and predicting (restored afterwards).
    device
        ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"`` or ``"mps"``: where the model trains; predictions run where
        the fitted model lives and come back as numpy. Results on a GPU are not bit-identical to CPU ones.

    Examples
    --------
    >>> import predictbench as pb  # doctest: +SKIP
    >>> bench = pb.load("nb201-analog/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()[:300]; y = bench.scores(keys, "baseline_accuracy")  # doctest: +SKIP
    >>> model = FlowerFormerPredictor(epochs=30).fit(bench.batch(keys[:200]), y[:200])  # doctest: +SKIP
    >>> model.predict(bench.batch(keys[200:])).shape  # doctest: +SKIP
    (100,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"graphs"})

    def __init__(
        self,
        *,
        hidden: int = 64,
        n_layers: int = 3,
        n_heads: int = 8,
        mask: str = "flow",
        dropout: float = 0.0,
        attn_dropout: float = 0.5,
        loss: str = "hinge",
        margin: float = 0.5,
        epochs: int = 40,
        min_steps: int = 300,
        batch_size: int = 128,
        lr: float = 2e-3,
        weight_decay: float = 6e-5,
        warmup: float = 0.05,
        clip_grad_norm: float = 1.0,
        seed: int = 0,
        n_jobs: int = 1,
        device: str = "cpu",
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.mask = mask
        self.dropout = dropout
        self.attn_dropout = attn_dropout
        self.loss = loss
        self.margin = margin
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.clip_grad_norm = clip_grad_norm
        self.seed = seed
        self.n_jobs = n_jobs
        self.device = device

    def _check_params(self) -> None:
        with naming(self):
            check_positive_int("hidden", self.hidden)
            check_positive_int("n_layers", self.n_layers)
            check_positive_int("n_heads", self.n_heads)
            if self.hidden % self.n_heads:
                raise ValueError(f"hidden must be a multiple of n_heads={self.n_heads}, got {self.hidden!r}")
            check_choice("mask", self.mask, MASKS)
            check_float("dropout", self.dropout, 0.0, 1.0)
            check_float("attn_dropout", self.attn_dropout, 0.0, 1.0)
            check_choice("loss", self.loss, LOSSES)
            check_float("margin", self.margin, 0.0, open_low=True)
            check_positive_int("epochs", self.epochs)
            check_positive_int("min_steps", self.min_steps, 0)
            check_positive_int("batch_size", self.batch_size, 2)
            check_float("lr", self.lr, 0.0, open_low=True)
            check_float("weight_decay", self.weight_decay, 0.0)
            check_float("warmup", self.warmup, 0.0, 1.0)
            check_float("clip_grad_norm", self.clip_grad_norm, 0.0, open_low=True)
            check_positive_int("n_jobs", self.n_jobs)
            seed_int(self.seed)
            if not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device):
                raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {self.device!r}")

    def _build(self, n_types: int) -> Any:
        return flowerformer_modules().FlowerFormer(
            n_types, self.hidden, self.n_layers, self.n_heads, self.dropout, self.attn_dropout
        )

    def fit(self, X: Any, y: np.ndarray) -> FlowerFormerPredictor:
        import torch

        self._check_params()
        device = _resolve_device(self.device, type(self).__name__)
        graphs, target, n_types = training_graphs(X, y)
        tensors = FlowGraphs.build(graphs, self.mask).torch(device=device)
        y_t = torch.from_numpy(target.astype(np.float32)).to(device)
        margin = float(self.margin)

        def batch_loss(model: Any, rows: Any) -> Any:
            rows = rows.to(device)
            scores = model(*(t[rows] for t in tensors))
            if self.loss == "hinge":
                return pairwise_hinge(scores, y_t[rows], margin)
            return pairwise_logistic(scores, y_t[rows])

        n = len(target)
        self.model_, step = train_graph_model(
            self,
            lambda: self._build(n_types).to(device),
            batch_loss,
            n,
            warmup=float(self.warmup),
            clip_grad_norm=float(self.clip_grad_norm),
        )
        self.n_types_ = n_types
        log.debug("FlowerFormerPredictor fitted on %d graphs (%d steps, %s)", n, step, device)
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        flow = FlowGraphs.build(GraphTensors.of(X, self.n_types_), self.mask)
        device = next(self.model_.parameters()).device
        out = np.empty(len(flow), dtype=float)
        with inference(int(self.n_jobs)):
            for start in range(0, len(flow), _PREDICT_CHUNK):
                rows = slice(start, start + _PREDICT_CHUNK)
                out[rows] = self.model_(*flow.torch(rows, device)).cpu().numpy()
        return out

    def _rebuild(self, state: dict[str, Any]) -> Any:
        return self._build(state["n_types_"])
