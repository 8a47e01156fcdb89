"""GATES and TA-GATES: operations as transformations of the information flowing along the cell DAG.

GATES (Ning et al., ECCV 2020, "A Generic Graph-based Neural Architecture Encoding Scheme for Predictor-based
NAS") encodes a cell by simulating its data flow: a virtual input embedding enters at the input node and every
operation gates the messages it passes on. On an op-on-node DAG with node states ``h`` (official code:
``aw_nas/utils/torch_utils.py``, ``DenseGraphFlow``), one layer is::

    h_i <- sigmoid(W_o e_i) * sum_{j -> i} h_j W_x  +  r_i h_i W_x  +  b

where ``e_i`` is the learned embedding of node i's operation (48-d), ``W_x`` the layer's weight and ``r_i`` 1
for the nodes that keep their own state (``residual``); ReLU between layers. The input node starts from a
learned embedding, every other node from zero, both through one linear map to the layer width.
Op-on-edge spaces (NB201 / NATS-tss) reach this module as their line graph (one node per edge operation, see
``NB201Space.to_graph``); on it these equations are exactly GATES' op-on-edge ones (``DenseGraphSimpleOpEdgeFlow``,
``h_j <- sum_{i -> j} sigmoid(W_o e_ij) * h_i W_x``): the op node of edge i -> j holds the gated message of that
edge and a cell node's state is the sum of the op nodes entering it. Operations that carry nothing
(``absent_ops``, NB201's ``none``) are removed from the graph, as ``none`` means "no edge" in GATES' NB201
encoding. ``residual="input"`` keeps only the input node's own state (node 0 in every space's graph; the
official NB201 setting ``residual_only: 1``: the input "waits", so paths of every length up to ``n_layers``
reach the output); ``"all"`` (default, measured better here) is the official NB101 setting. The embedding read
out is the output node's state (``use_final_only``, ``pooling="output"``) or the mean over real nodes; an MLP
maps it to a score.

TA-GATES (Ning et al., NeurIPS 2022, "TA-GATES: An Encoding Scheme for Neural Network Architectures"; official
code ``NB201FBFlowArchEmbedder`` in ``aw_nas/btcs/nasbench_201.py``) mimics training: ``time_steps`` rounds of a
forward pass as above, a backward pass (the output state through a 2-layer MLP enters at the output node and
flows back along the reversed DAG through the same gates, ``residual`` at the output node), and an update of
every node's op embedding ``e_i <- e_i + 0.1 * MLP([e_i, m_i, b_i])`` from its last forward message ``m_i``
(op embedding and forward message detached, as in the paper's configuration) and backward message ``b_i``. The
final forward pass gives the embedding. The paper's symmetry breaking by zero-cost proxies of each operation
(``param_zs``) and its "only parametrised ops are updated" mask are space-specific and left out: every node's
embedding is updated.

Training follows the papers: the pairwise hinge ranking loss ``max(0, margin - sign(y_a - y_b)(s_a - s_b))``
with margin 0.1 over up to ``pairs_per_cell * batch`` random pairs of differing targets per mini-batch
(``max_compare_ratio: 4``); 48-d op embeddings, 128-d layers, MLP dropout 0.1. The papers' optimiser (Adam, lr
1e-3, 512-cell batches, 200 epochs, a 5 x 300 head on NB201) is replaced by the shared trainer of
:mod:`~predictbench.predictors.gcn` (AdamW, cosine schedule) with 64-cell batches, lr 3e-3, 100 epochs and a
200-wide head: on ``nb201/cifar10`` (3,000 test cells) that scored .765 / .876 Kendall tau at n = 156 / 1000
(2 splits) against .720 / .815 with the papers' settings (1 split), in half the time (~19 CPU-s at n = 1000,
one thread). Removing ``none`` nodes was worth +.08 at n = 1000; ``residual="all"`` +.01 / +.02 over
``"input"``.
``benchmarks/bench_gates.py`` measures both predictors under the literature's protocols.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
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
    graph_op_names,
    inference,
    train_graph_model,
    training_graphs,
)
from predictbench.validation import naming

log = logging.getLogger(__name__)

__all__ = ["GATESPredictor", "gates_modules", "pairwise_hinge", "ta_gates"]

RESIDUALS = ("input", "all")
POOLINGS = ("output", "mean")
_PREDICT_CHUNK = 4096


@functools.cache
def gates_modules() -> SimpleNamespace:
    """The torch ``nn.Module`` classes of GATES / TA-GATES (built on first call; needs torch)."""
    try:
        import torch
        from torch import nn
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(f"the GATES predictors need torch ({err}); install it with: pip install torch") from err

    class FlowLayer(nn.Module):
        """One GATES layer: op-gated sum of the predecessors' (or, reversed, successors') transformed states."""

        def __init__(self, d_in: int, d_out: int, op_dim: int) -> None:
            super().__init__()
            self.weight = nn.Linear(d_in, d_out, bias=False)
            self.gate = nn.Linear(op_dim, d_out)
            self.bias = nn.Parameter(torch.zeros(d_out))

        def forward(self, h: Any, flow: Any, op_emb: Any, keep: Any) -> tuple[Any, Any]:
            """New states and the gated messages; ``flow[b, i, j] = 1`` when j sends to i, ``keep`` (b, V, 1)."""
            support = self.weight(h)
            message = torch.sigmoid(self.gate(op_emb)) * (flow @ support)
            return message + keep * support + self.bias, message

    def mlp(dims: list[int], dropout: float) -> Any:
        layers: list[Any] = []
        for d_in, d_out in itertools.pairwise(dims[:-1]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(dims[-2], dims[-1]))
        return nn.Sequential(*layers)

    class GATESNet(nn.Module):
        """GATES encoder (``time_steps`` = 1) or TA-GATES (> 1), pooled, MLP head -> one score per graph."""

        def __init__(self, p: Any, n_types: int) -> None:
            super().__init__()
            d, op_dim = int(p.hidden), int(p.op_dim)
            self.op_emb = nn.Linear(n_types, op_dim, bias=False)  # one-hot labels -> embedding (padding -> 0)
            self.input_emb = nn.Parameter(torch.randn(op_dim))
            self.x_hidden = nn.Linear(op_dim, d)
            self.forward_layers = nn.ModuleList(FlowLayer(d, d, op_dim) for _ in range(int(p.n_layers)))
            self.time_steps, self.all_residual, self.pooling = int(p.time_steps), p.residual == "all", p.pooling
            self.update_scale = float(p.update_scale)
            if self.time_steps > 1:
                self.fb_conversion = mlp([d, d, d], 0.0)
                self.backward_layers = nn.ModuleList(FlowLayer(d, d, op_dim) for _ in range(int(p.n_layers)))
                self.update_op = mlp([op_dim + 2 * d, d, op_dim], 0.0)
            self.head = mlp([d, *p.mlp_hidden, 1], float(p.dropout))

        def _flow(self, layers: Any, h: Any, flow: Any, op_emb: Any, keep: Any, mask: Any) -> tuple[Any, Any]:
            message = h
            for k, layer in enumerate(layers):
                h, message = layer(h, flow, op_emb, keep)
                h = h * mask
                if k < len(layers) - 1:
                    h = torch.relu(h)
            return h, message

        def forward(self, x: Any, adj: Any, mask: Any) -> Any:
            mask3 = mask.unsqueeze(-1)
            pred = adj.transpose(1, 2)  # pred[b, i, j] = 1 for an edge j -> i
            sources = torch.zeros_like(mask3)  # node 0 is the input in every space's graph
            sources[:, 0] = mask3[:, 0]
            last = (mask * torch.arange(mask.shape[1], dtype=mask.dtype, device=mask.device)).argmax(dim=1)
            rows = torch.arange(len(x), device=x.device)
            output = torch.zeros_like(mask3)
            output[rows, last] = 1.0
            keep_fwd = torch.ones_like(mask3) if self.all_residual else sources
            keep_bwd = torch.ones_like(mask3) if self.all_residual else output
            op_emb = self.op_emb(x)
            h0 = self.x_hidden(sources * self.input_emb) * mask3
            for step in range(self.time_steps):
                h, message = self._flow(self.forward_layers, h0, pred, op_emb, keep_fwd, mask3)
                if step == self.time_steps - 1:
                    break
                b0 = output * self.fb_conversion(h[rows, last]).unsqueeze(1)
                _, b_message = self._flow(self.backward_layers, b0, adj, op_emb, keep_bwd, mask3)
                update = self.update_op(torch.cat([op_emb.detach(), message.detach(), b_message], dim=-1))
                op_emb = op_emb + self.update_scale * update * mask3
            if self.pooling == "output":
                z = h[rows, last]
            else:
                z = h.sum(dim=1) / mask3.sum(dim=1).clamp(min=1.0)
            return self.head(z).squeeze(-1)

    return SimpleNamespace(FlowLayer=FlowLayer, GATESNet=GATESNet)


def pairwise_hinge(scores: Any, target: Any, margin: float, max_pairs: int | None) -> Any:
    """GATES' ranking loss: mean ``max(0, margin - sign(y_a - y_b) (s_a - s_b))`` over pairs with ``y_a != y_b``.

    At most ``max_pairs`` pairs, drawn uniformly without replacement from torch's (seeded, forked) global RNG.
    """
    import torch

    a, b = torch.triu_indices(len(target), len(target), offset=1)
    sign = torch.sign(target[a] - target[b])
    differ = sign != 0
    a, b, sign = a[differ], b[differ], sign[differ]
    if not len(a):
        return scores.sum() * 0.0
    if max_pairs is not None and len(a) > max_pairs:
        keep = torch.randperm(len(a))[:max_pairs]
        a, b, sign = a[keep], b[keep], sign[keep]
    return torch.relu(margin - sign.to(scores.device) * (scores[a] - scores[b])).mean()


def _device(name: str) -> Any:
    """``name`` as a torch device, checked to be usable here."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be a torch device name such as 'cpu' or 'cuda:0', got {name!r}") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r}, but torch sees no CUDA device here (use device='cpu')")
    return device


@contextmanager
def _seeded_device(device: Any, seed: int) -> Iterator[None]:
    """Fork and seed the RNG of a CUDA ``device`` (dropout there); nothing for the CPU (``seeded_torch`` does it)."""
    if device.type != "cuda":
        yield
        return
    import torch

    index = device.index if device.index is not None else torch.cuda.current_device()
    with torch.random.fork_rng(devices=[index]):
        torch.cuda.manual_seed(seed)
        yield


class GATESPredictor(TorchModelState, Predictor):
    """GATES (``time_steps=1``) or TA-GATES (``time_steps > 1``): op-gated information flow, hinge ranking loss.

    Parameters
    ----------
    op_dim, hidden, n_layers
        Width of the op embeddings, of the node states, and the number of flow layers. On NB201's line graph
        the output is 4 hops from the input, so ``n_layers`` below 4 leaves long paths out.
    residual
        ``"all"`` (every node keeps its own transformed state; GATES' NB101 setting) or ``"input"`` (only the
        input node, node 0; its NB201 setting).
    pooling
        ``"output"`` (the state of the last real node, the cell output) or ``"mean"`` over real nodes.
    absent_ops
        Names of operations that pass nothing on (default NB201's ``"none"``): their nodes and edges are removed.
        Names are read from the space of an ArchBatch; the labels found at fit time apply to every later input.
    time_steps, update_scale
        TA-GATES: forward/backward rounds refining the op embeddings (1 = GATES), and the step of each update.
    mlp_hidden, dropout
        Hidden widths of the scoring MLP and its dropout.
    margin, pairs_per_cell
        Hinge margin, and at most ``pairs_per_cell * batch`` random pairs per mini-batch (None: all pairs).
    epochs, min_steps, batch_size, lr, weight_decay
        AdamW with a cosine schedule; ``epochs`` raised so that at least ``min_steps`` steps are taken.
    seed
        Seeds initialisation, dropout and pair sampling; the global torch RNG state is left untouched.
    n_jobs
        torch intra-op threads while fitting and predicting (restored afterwards).
    device
        Torch device to fit and predict on (``"cpu"``, ``"cuda"``, ``"cuda:1"``); fitted state pickles on CPU.

    Examples
    --------
    >>> import predictbench as pb  # doctest: +SKIP
    >>> bench = pb.load("nb201-analog/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()[:300]; y = bench.scores(keys, "baseline_accuracy")  # doctest: +SKIP
    >>> model = GATESPredictor().fit(bench.batch(keys[:200]), y[:200])  # doctest: +SKIP
    >>> model.predict(bench.batch(keys[200:])).shape  # doctest: +SKIP
    (100,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"graphs"})

    def __init__(
        self,
        *,
        op_dim: int = 48,
        hidden: int = 128,
        n_layers: int = 5,
        residual: str = "all",
        pooling: str = "output",
        absent_ops: tuple[str, ...] = ("none",),
        time_steps: int = 1,
        update_scale: float = 0.1,
        mlp_hidden: tuple[int, ...] = (200,),
        dropout: float = 0.1,
        margin: float = 0.1,
        pairs_per_cell: float | None = 4.0,
        epochs: int = 100,
        min_steps: int = 0,
        batch_size: int = 64,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        seed: int = 0,
        n_jobs: int = 1,
        device: str = "cpu",
    ) -> None:
        self.op_dim = op_dim
        self.hidden = hidden
        self.n_layers = n_layers
        self.residual = residual
        self.pooling = pooling
        self.absent_ops = absent_ops
        self.time_steps = time_steps
        self.update_scale = update_scale
        self.mlp_hidden = mlp_hidden
        self.dropout = dropout
        self.margin = margin
        self.pairs_per_cell = pairs_per_cell
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.n_jobs = n_jobs
        self.device = device

    def _check_params(self) -> Any:
        """Validate the parameters; return the torch device."""
        with naming(self):
            for name in ("op_dim", "hidden", "n_layers", "time_steps", "epochs", "n_jobs"):
                check_positive_int(name, getattr(self, name))
            check_positive_int("min_steps", self.min_steps, 0)
            check_positive_int("batch_size", self.batch_size, 2)
            check_choice("residual", self.residual, RESIDUALS)
            check_choice("pooling", self.pooling, POOLINGS)
            check_float("update_scale", self.update_scale, 0.0)
            check_float("dropout", self.dropout, 0.0, 1.0)
            check_float("margin", self.margin, 0.0, open_low=True)
            if self.pairs_per_cell is not None:
                check_float("pairs_per_cell", self.pairs_per_cell, 0.0, open_low=True)
            check_float("lr", self.lr, 0.0, open_low=True)
            check_float("weight_decay", self.weight_decay, 0.0)
            if not isinstance(self.absent_ops, (tuple, list)) or not all(isinstance(o, str) for o in self.absent_ops):
                raise ValueError(f"absent_ops must be a tuple of op names, got {self.absent_ops!r}")
            widths = self.mlp_hidden if isinstance(self.mlp_hidden, (tuple, list)) else [None]
            if not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) and w >= 1 for w in widths):
                raise ValueError(f"mlp_hidden must be a tuple of ints >= 1, got {self.mlp_hidden!r}")
            seed_int(self.seed)
            if not isinstance(self.device, str):
                raise ValueError(f"device must be a torch device name such as 'cpu' or 'cuda:0', got {self.device!r}")
            return _device(self.device)

    def _build(self, n_types: int) -> Any:
        return gates_modules().GATESNet(self, n_types)

    def fit(self, X: Any, y: np.ndarray) -> GATESPredictor:
        import torch

        device = self._check_params()
        names = graph_op_names(X) or ()
        absent = [label for label, name in enumerate(names) if name in self.absent_ops]
        graphs, target, n_types = training_graphs(X, y, absent)
        x, _, _, adj, mask = (t.to(device) for t in graphs.torch())
        y_t = torch.from_numpy(target.astype(np.float32))
        batch = min(int(self.batch_size), len(target))
        max_pairs = None if self.pairs_per_cell is None else max(1, int(self.pairs_per_cell * batch))

        def batch_loss(model: Any, rows: Any) -> Any:
            on = rows.to(device)
            return pairwise_hinge(model(x[on], adj[on], mask[on]), y_t[rows], float(self.margin), max_pairs)

        with _seeded_device(device, seed_int(self.seed)):
            self.model_, step = train_graph_model(
                self, lambda: self._build(n_types).to(device), batch_loss, len(target)
            )
        self.n_types_, self.absent_labels_ = n_types, absent
        log.debug("GATESPredictor fitted on %d graphs (%d steps, %d time steps)", len(target), step, self.time_steps)
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        device = self._check_params()
        graphs = GraphTensors.of(X, self.n_types_, self.absent_labels_)
        model = self.model_.to(device)
        out = np.empty(len(graphs), dtype=float)
        with inference(int(self.n_jobs)):
            for start in range(0, len(graphs), _PREDICT_CHUNK):
                x, _, _, adj, mask = (t.to(device) for t in graphs.torch(slice(start, start + _PREDICT_CHUNK)))
                out[start : start + len(x)] = model(x, adj, mask).cpu().numpy()
        return out

    def _rebuild(self, state: dict[str, Any]) -> Any:
        return gates_modules().GATESNet(SimpleNamespace(**state), state["n_types_"])


def ta_gates(**params: Any) -> GATESPredictor:
    """TA-GATES: :class:`GATESPredictor` with 2 forward/backward time steps and 60 epochs.

    The paper's main NB201 setting takes 4 time steps; 2 (its "anytime" setting) and 60 epochs keep a fit at
    n = 1000 within ~30 CPU-s (4 steps and 100 epochs: ~75 CPU-s). Keywords override these defaults.

    Examples
    --------
    >>> ta_gates().get_params()["time_steps"], ta_gates(time_steps=4).time_steps
    (2, 4)
    """
    return GATESPredictor(**{"time_steps": 2, "epochs": 60, **params})
