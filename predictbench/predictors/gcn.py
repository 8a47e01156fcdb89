"""Graph convolutional network predictor: the "neural predictor" (Wen et al. 2020; NASLib's GCN).

Each cell is an op-on-node DAG (:meth:`ArchBatch.graphs`): node features are one-hot op labels; a stack of
*directed* graph convolutions propagates them along the edges in both directions; the node states are pooled
over the graph and an MLP head maps the embedding to a score.

Convolutions (``conv``), all over row-normalised ``A + I`` (successors) and ``A^T + I`` (predecessors):

* ``"directed"`` (default): ``relu([A_f h, A_b h] W)`` -- both aggregations concatenated, one linear map;
* ``"wen"``: Wen et al.'s / NASLib's ``(relu(A_f h W_f) + relu(A_b h W_b)) / 2``;
* ``"gcn"``: torch-geometric's :class:`~torch_geometric.nn.DenseGCNConv` over the symmetrised adjacency.

Training is on CPU with AdamW and a cosine learning-rate schedule; the loss is a pairwise logistic ranking loss
on score differences over all pairs of each mini-batch (``loss="ranking"``, default) or a mean squared error on
the standardised target (``loss="mse"``). Only the ORDER of the predictions is the contract.

Defaults were tuned on ``nb201/cifar10`` (target: 200-epoch test accuracy, PredictorStudy splits): the ranking
loss beats MSE by ~0.15 Kendall tau (the target's heavy low tail of broken cells dominates a squared error),
the concatenating ``"directed"`` convolution beats ``"wen"`` by ~0.03 and ``"gcn"`` by ~0.05, sum pooling and
no dropout help from ~100 training cells on; 60 epochs of 64-cell batches fit 1,000 cells in ~10 s on one core.

Everything torch lives inside functions (:func:`torch_modules` builds the ``nn.Module`` classes on first use),
so this module imports without torch. The encoder is shared with
:class:`~predictbench.predictors.comparator.ComparatorPredictor`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, seed_int, target_scaling
from predictbench.predictors.zerocost import check_proxy_source, with_proxy_source
from predictbench.types import Arch
from predictbench.validation import naming

log = logging.getLogger(__name__)

__all__ = ["GCNPredictor", "GraphTensors", "ProxyScaler", "graph_inputs", "torch_modules"]

CONVS = ("directed", "wen", "gcn")
POOLINGS = ("mean", "sum", "output")
LOSSES = ("mse", "ranking")
_PREDICT_CHUNK = 4096


# --------------------------------------------------------------------------------------------------
# inputs: ArchBatch or (ops, adjacency) -> padded numpy graph arrays
# --------------------------------------------------------------------------------------------------


def graph_inputs(X: Any) -> tuple[np.ndarray, np.ndarray, int | None]:
    """Node labels (n, V), adjacency (n, V, V) and the number of node types the space declares (or None).

    ``X`` is an :class:`~predictbench.benchmarks.ArchBatch` or a tuple ``(ops, adjacency)``. Padding nodes of
    variable-size graphs carry a negative label; they get no features, no edges and are left out of pooling.
    """
    n_types: int | None = None
    if hasattr(X, "graphs"):
        ops, adjacency = X.graphs()
        op_names = graph_op_names(X)
        n_types = len(op_names) if op_names is not None else None
    elif isinstance(X, tuple) and len(X) == 2:
        ops, adjacency = X
    else:
        raise TypeError(
            f"graph predictors need an ArchBatch (benchmark.batch(keys)) or a tuple (ops, adjacency); got "
            f"{type(X).__name__}{getattr(X, 'shape', '')}"
        )
    ops = np.asarray(ops, dtype=np.int64)
    adjacency = np.asarray(adjacency)
    if ops.ndim != 2:
        raise ValueError(f"node labels must have shape (n, V), got {ops.shape}")
    n, v = ops.shape
    if adjacency.shape != (n, v, v):
        raise ValueError(f"adjacency must have shape {(n, v, v)}, got {adjacency.shape}")
    return ops, adjacency, n_types


def graph_op_names(X: Any) -> tuple[str, ...] | None:
    """The node-label names of an ArchBatch's space (``to_graph(...).op_names``), or None when unknown."""
    benchmark = getattr(X, "benchmark", None)
    keys = getattr(X, "keys", None)
    space = getattr(benchmark, "space", None)
    if space is None or keys is None or not len(keys):
        return None
    op_names = getattr(space.to_graph(Arch(space.name, str(keys[0]))), "op_names", None)
    return None if op_names is None else tuple(op_names)


@dataclass(frozen=True)
class GraphTensors:
    """A graph batch as float32 numpy arrays ready for the encoder.

    ``x`` one-hot labels (n, V, T); ``a_fwd`` / ``a_bwd`` row-normalised ``A + I`` and ``A^T + I`` (n, V, V)
    (mean over a node's successors / predecessors and itself); ``adj`` the raw 0/1 adjacency; ``mask`` (n, V)
    1 for real nodes.
    """

    x: np.ndarray
    a_fwd: np.ndarray
    a_bwd: np.ndarray
    adj: np.ndarray
    mask: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    @classmethod
    def build(cls, ops: np.ndarray, adjacency: np.ndarray, n_types: int, drop: Sequence[int] = ()) -> GraphTensors:
        """``drop``: node labels removed from the graphs (they become padding, their edges vanish)."""
        if len(drop):
            ops = np.where(np.isin(ops, drop), -1, ops)
        mask = ops >= 0
        if ops.size and ops.max() >= n_types:
            raise ValueError(f"node label {int(ops.max())} outside the {n_types} node types seen at fit time")
        n, v = ops.shape
        x = np.zeros((n, v, n_types), dtype=np.float32)
        rows, nodes = np.nonzero(mask)
        x[rows, nodes, ops[rows, nodes]] = 1.0
        both = mask[:, :, None] & mask[:, None, :]
        adj = (adjacency != 0) & both
        eye = np.eye(v, dtype=bool)[None] & both
        fwd = (adj | eye).astype(np.float32)
        bwd = (adj.transpose(0, 2, 1) | eye).astype(np.float32)
        fwd /= np.maximum(fwd.sum(axis=2, keepdims=True), 1.0)
        bwd /= np.maximum(bwd.sum(axis=2, keepdims=True), 1.0)
        return cls(x=x, a_fwd=fwd, a_bwd=bwd, adj=adj.astype(np.float32), mask=mask.astype(np.float32))

    @classmethod
    def of(cls, X: Any, n_types: int, drop: Sequence[int] = ()) -> GraphTensors:
        """The graphs of ``X`` (see :func:`graph_inputs`) over the ``n_types`` node types seen at fit time."""
        ops, adjacency, _ = graph_inputs(X)
        return cls.build(ops, adjacency, n_types, drop)

    def torch(self, rows: Any = None) -> tuple[Any, ...]:
        """(x, a_fwd, a_bwd, adj, mask) as torch tensors, optionally only ``rows``."""
        import torch

        arrays = (self.x, self.a_fwd, self.a_bwd, self.adj, self.mask)
        if rows is not None:
            arrays = tuple(a[rows] for a in arrays)
        return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)


# --------------------------------------------------------------------------------------------------
# optional zero-cost proxies appended to the pooled embedding ("omni" GCN)
# --------------------------------------------------------------------------------------------------


def proxy_names_of(X: Any, proxies: str | Sequence[str] | None) -> list[str]:
    """The proxy columns ``proxies`` asks for ("all" = every proxy of the batch's benchmark)."""
    if proxies is None:
        return []
    if proxies == "all":
        benchmark = getattr(X, "benchmark", None)
        if benchmark is None:
            raise ValueError("proxies='all' needs an ArchBatch whose benchmark has a proxies table")
        return list(benchmark.proxy_names)
    if isinstance(proxies, str):
        return [proxies]
    return [str(p) for p in proxies]


@dataclass(frozen=True)
class ProxyScaler:
    """Maps proxy values to their empirical CDF in the training set (robust to scale and sign), centred and
    scaled to unit variance; NaN (no value) -> 0, the median."""

    names: tuple[str, ...]
    sorted_values: tuple[np.ndarray, ...]

    @classmethod
    def fit(cls, X: Any, names: Sequence[str]) -> ProxyScaler:
        values = _proxy_values(X, names)
        columns = tuple(np.sort(col[np.isfinite(col)]) for col in values.T)
        return cls(tuple(names), columns)

    def transform(self, X: Any) -> np.ndarray:
        values = _proxy_values(X, self.names)
        out = np.full(values.shape, 0.5, dtype=np.float32)
        for j, ref in enumerate(self.sorted_values):
            col = values[:, j]
            ok = np.isfinite(col)
            if len(ref):
                lo = np.searchsorted(ref, col[ok], side="left")
                hi = np.searchsorted(ref, col[ok], side="right")
                out[ok, j] = (lo + hi) / (2.0 * len(ref))
        return (out - 0.5) * np.float32(np.sqrt(12.0))  # unit variance for a continuous proxy


def _proxy_values(X: Any, names: Sequence[str]) -> np.ndarray:
    if not hasattr(X, "proxies"):
        raise TypeError(f"proxies {list(names)} need an ArchBatch input, got {type(X).__name__}")
    return np.asarray(X.proxies(list(names)), dtype=float)


# --------------------------------------------------------------------------------------------------
# torch modules (built lazily)
# --------------------------------------------------------------------------------------------------


@functools.cache
def torch_modules() -> SimpleNamespace:
    """The torch ``nn.Module`` classes of the GCN predictors (built on first call; needs torch)."""
    try:
        import torch
        from torch import nn
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"the GCN predictors need torch ({err}); install them with: pip install 'predictbench[gcn]'"
        ) from err

    class WenGraphConv(nn.Module):
        """Wen et al.'s (and NASLib's) directed graph convolution: mean of ReLU'd forward and backward passes."""

        def __init__(self, d_in: int, d_out: int) -> None:
            super().__init__()
            self.fwd = nn.Linear(d_in, d_out)
            self.bwd = nn.Linear(d_in, d_out)

        def forward(self, x: Any, a_fwd: Any, a_bwd: Any, adj: Any, mask: Any) -> Any:
            out = torch.relu(a_fwd @ self.fwd(x)) + torch.relu(a_bwd @ self.bwd(x))
            return 0.5 * out

    class DirectedGraphConv(nn.Module):
        """Mean aggregations over successors and over predecessors (each with self) concatenated, linear, ReLU."""

        def __init__(self, d_in: int, d_out: int) -> None:
            super().__init__()
            self.linear = nn.Linear(2 * d_in, d_out)

        def forward(self, x: Any, a_fwd: Any, a_bwd: Any, adj: Any, mask: Any) -> Any:
            return torch.relu(self.linear(torch.cat([a_fwd @ x, a_bwd @ x], dim=-1)))

    class SymmetricGraphConv(nn.Module):
        """torch-geometric's DenseGCNConv over the symmetrised adjacency, then ReLU."""

        def __init__(self, d_in: int, d_out: int) -> None:
            super().__init__()
            from torch_geometric.nn import DenseGCNConv

            self.conv = DenseGCNConv(d_in, d_out)

        def forward(self, x: Any, a_fwd: Any, a_bwd: Any, adj: Any, mask: Any) -> Any:
            sym = torch.clamp(adj + adj.transpose(1, 2), max=1.0)
            return torch.relu(self.conv(x, sym, mask=mask > 0))

    class GraphEncoder(nn.Module):
        """Stacked graph convolutions over one-hot op labels, pooled to one embedding per graph."""

        def __init__(self, n_types: int, hidden: int, n_layers: int, dropout: float, conv: str, pooling: str) -> None:
            super().__init__()
            layer = {"directed": DirectedGraphConv, "wen": WenGraphConv, "gcn": SymmetricGraphConv}[conv]
            dims = [n_types] + [hidden] * n_layers
            self.layers = nn.ModuleList(layer(dims[i], dims[i + 1]) for i in range(n_layers))
            self.dropout = nn.Dropout(dropout)
            self.pooling = pooling
            self.out_dim = hidden

        def forward(self, x: Any, a_fwd: Any, a_bwd: Any, adj: Any, mask: Any) -> Any:
            h = x
            for layer in self.layers:
                h = self.dropout(layer(h, a_fwd, a_bwd, adj, mask))
            weights = mask.unsqueeze(-1)
            if self.pooling == "output":  # the last real node of each graph (the cell output)
                last = (mask * torch.arange(mask.shape[1], dtype=mask.dtype)).argmax(dim=1)
                return h[torch.arange(len(h)), last]
            pooled = (h * weights).sum(dim=1)
            if self.pooling == "mean":
                pooled = pooled / weights.sum(dim=1).clamp(min=1.0)
            return pooled

    class GCNRegressor(nn.Module):
        """Encoder, optional extra per-graph features, MLP head -> one score per graph."""

        def __init__(self, encoder: GraphEncoder, n_extra: int, mlp_hidden: int, dropout: float) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = nn.Sequential(
                nn.Linear(encoder.out_dim + n_extra, mlp_hidden),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(mlp_hidden, 1),
            )
            if n_extra:  # extra features: normalised embedding beside them, plus a linear path to the score
                self.norm = nn.LayerNorm(encoder.out_dim)
                self.skip = nn.Linear(n_extra, 1, bias=False)

        def forward(self, graphs: tuple[Any, ...], extra: Any = None) -> Any:
            z = self.encoder(*graphs)
            if extra is None:
                return self.head(z).squeeze(-1)
            score = self.head(torch.cat([self.norm(z), extra], dim=1)) + self.skip(extra)
            return score.squeeze(-1)

    return SimpleNamespace(
        DirectedGraphConv=DirectedGraphConv,
        WenGraphConv=WenGraphConv,
        SymmetricGraphConv=SymmetricGraphConv,
        GraphEncoder=GraphEncoder,
        GCNRegressor=GCNRegressor,
    )


@contextmanager
def seeded_torch(seed: int, n_threads: int = 1) -> Iterator[Any]:
    """Seed torch inside a ``fork_rng`` block and use ``n_threads`` intra-op threads; both restored on exit.

    Yields a local ``torch.Generator`` (seeded from ``seed``) for shuffling and pair sampling.
    """
    import torch

    with torch_threads(n_threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator()
        generator.manual_seed(seed + 1)
        yield generator


@contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Use ``n_threads`` intra-op threads inside the block, then restore the previous setting."""
    import torch

    threads = torch.get_num_threads()
    try:
        if n_threads != threads:
            torch.set_num_threads(n_threads)
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def cosine_lr(base: float, step: int, total: int, warmup: int = 0) -> float:
    """Linear warm-up then cosine decay to zero."""
    if warmup and step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return float(0.5 * base * (1.0 + np.cos(np.pi * min(progress, 1.0))))


def training_epochs(n: int, batch: int, epochs: int, min_steps: int) -> int:
    """``epochs``, raised so that small training sets still get ``min_steps`` gradient steps."""
    steps_per_epoch = -(-n // batch)
    return max(epochs, -(-min_steps // steps_per_epoch))


def state_to_numpy(module: Any) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_numpy_state(module: Any, state: dict[str, np.ndarray]) -> None:
    import torch

    module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})


def training_graphs(X: Any, y: Any, drop: Sequence[int] = ()) -> tuple[GraphTensors, np.ndarray, int]:
    """The graphs of a training set (without the nodes labelled ``drop``), its checked target and its node types.

    The node types are those the space declares, or every label seen when the space declares none.
    """
    ops, adjacency, declared = graph_inputs(X)
    target = check_target(y, len(ops))
    n_types = max(declared or 0, int(ops.max()) + 1 if ops.size else 1)
    return GraphTensors.build(ops, adjacency, n_types, drop), target, n_types


@contextmanager
def inference(n_threads: int) -> Iterator[None]:
    """Use ``n_threads`` intra-op threads and no autograd inside the block (prediction with a fitted model)."""
    import torch

    with torch_threads(n_threads), torch.no_grad():
        yield


def train_graph_model(
    p: Any,
    build: Callable[[], Any],
    batch_loss: Callable[[Any, Any], Any],
    n: int,
    *,
    warmup: float = 0.0,
    clip_grad_norm: float | None = None,
) -> tuple[Any, int]:
    """Build a model and train it on mini-batches of ``n`` training rows with AdamW and a cosine schedule.

    ``p`` is the predictor whose training parameters apply (``seed``, ``n_jobs``, ``epochs``, ``min_steps``,
    ``batch_size``, ``lr``, ``weight_decay``; see :func:`check_encoder_params`). ``build()`` runs inside
    :func:`seeded_torch` (seeded initialisation and dropout, ``n_jobs`` threads); each epoch shuffles the rows
    with its generator. ``batch_loss(model, rows)`` is the loss of one mini-batch (a tensor of row indices), or
    None to skip that batch without a step; batches of a single row are skipped when ``n >= 2``. ``epochs`` is
    raised so that at least ``min_steps`` steps are taken (:func:`training_epochs`). ``warmup``: the fraction of
    the steps with a linear learning-rate warm-up; ``clip_grad_norm``: the gradient-norm clip (None: no clip).

    Returns
    -------
    model, steps
        The trained model, in eval mode, and the number of optimiser steps taken.
    """
    import torch

    lr = p.lr
    batch = min(int(p.batch_size), n)
    epochs = training_epochs(n, batch, int(p.epochs), int(p.min_steps))
    total = epochs * -(-n // batch)
    warmup_steps = int(warmup * total)
    with seeded_torch(seed_int(p.seed), int(p.n_jobs)) as generator:
        model = build()
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=p.weight_decay)
        model.train()
        step = 0
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                if len(rows) < 2 and n >= 2:
                    continue
                loss = batch_loss(model, rows)
                if loss is None:
                    continue
                for group in optimizer.param_groups:
                    group["lr"] = cosine_lr(lr, step, total, warmup_steps)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                optimizer.step()
                step += 1
    model.eval()
    return model, step


class TorchModelState:
    """Pickles a predictor's fitted torch module ``model_`` as numpy arrays; unpickling rebuilds the module.

    Subclasses say how to rebuild an untrained module from the pickled state in :meth:`_rebuild`.
    """

    def _rebuild(self, state: dict[str, Any]) -> Any:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if "model_" in state:
            state["model_"] = state_to_numpy(state["model_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        model = state.get("model_")
        self.__dict__.update(state)
        if isinstance(model, dict):
            module = self._rebuild(state)
            load_numpy_state(module, model)
            module.eval()
            self.model_ = module


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def check_float(name: str, value: Any, low: float, high: float | None = None, *, open_low: bool = False) -> None:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = np.isfinite(v) and (v > low if open_low else v >= low) and (high is None or v < high)
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        upper = f" and < {high}" if high is not None else ""
        raise ValueError(f"{name} must be a number {bound}{upper}, got {value!r}")


def check_encoder_params(p: Any) -> None:
    """Validate the encoder/optimiser parameters shared by the GCN and comparator predictors."""
    check_positive_int("hidden", p.hidden)
    check_positive_int("n_layers", p.n_layers)
    check_positive_int("mlp_hidden", p.mlp_hidden)
    check_choice("conv", p.conv, CONVS)
    check_choice("pooling", p.pooling, POOLINGS)
    check_float("dropout", p.dropout, 0.0, 1.0)
    check_positive_int("epochs", p.epochs)
    check_positive_int("min_steps", p.min_steps, 0)
    check_positive_int("batch_size", p.batch_size, 2)
    check_float("lr", p.lr, 0.0, open_low=True)
    check_float("weight_decay", p.weight_decay, 0.0)
    check_positive_int("n_jobs", p.n_jobs)
    seed_int(p.seed)


def pairwise_logistic(scores: Any, target: Any) -> Any:
    """Mean logistic loss ``log(1 + exp(-(s_i - s_j)))`` over the pairs with ``y_i > y_j``."""
    import torch

    better = target[:, None] > target[None, :]
    diff = scores[:, None] - scores[None, :]
    if not bool(better.any()):
        return scores.sum() * 0.0
    return torch.nn.functional.softplus(-diff[better]).mean()


# --------------------------------------------------------------------------------------------------
# the predictor
# --------------------------------------------------------------------------------------------------


class _GraphNeeds:
    """``needs`` that adds "proxies" on instances configured with proxies."""

    def __get__(self, obj: Any, owner: type) -> frozenset[str]:
        if obj is not None and obj.__dict__.get("proxies"):
            return frozenset({"graphs", "proxies"})
        return frozenset({"graphs"})


class GCNPredictor(TorchModelState, Predictor):
    """The neural predictor: directed GCN over the cell DAG, pooled, MLP head; ranking loss by default.

    Parameters
    ----------
    hidden, n_layers
        Width and depth of the graph convolutions.
    conv
        ``"directed"`` (concatenated forward/backward aggregations, one weight matrix), ``"wen"`` (Wen et al.'s
        separate weights per direction) or ``"gcn"`` (torch-geometric ``DenseGCNConv``, symmetrised adjacency).
    pooling
        ``"sum"`` over nodes, ``"mean"`` or ``"output"`` (the last node, the cell output). Padding nodes of
        variable-size graphs (negative labels) are left out.
    mlp_hidden, dropout
        Width of the head's hidden layer; dropout after every layer.
    loss
        ``"ranking"`` (pairwise logistic loss over all pairs of a mini-batch) or ``"mse"`` (standardised
        target; predictions are then on the target's scale).
    epochs, min_steps, batch_size, lr, weight_decay
        AdamW with a cosine schedule; ``epochs`` passes over the training set, raised so that at least
        ``min_steps`` gradient steps are taken.
    proxies
        None, a proxy name, a tuple of names or ``"all"``: zero-cost proxies (as training-set quantiles)
        appended to the pooled embedding (an "omni" predictor); then ``needs`` includes ``"proxies"``.
    proxy_source
        Name of another converted store of the same search space whose proxy table is read instead of the
        batch's benchmark (e.g. ``"nb201/cifar10"`` for ``nb201-analog/cifar10``, which has no proxies, or for
        ``nb201/cifar100``, whose store holds zen only; ``"all"`` then means that store's proxies). Needs
        ``proxies`` (a ValueError otherwise).
    seed
        Seeds initialisation, dropout and shuffling; the global torch RNG state is left untouched.
    n_jobs
        torch intra-op threads while fitting and predicting (restored afterwards). One is fastest for these
        small tensors, and immune to oversubscription when studies run several fits in parallel.

    Examples
    --------
    >>> import predictbench as pb  # doctest: +SKIP
    >>> bench = pb.load("nb201-analog/cifar10")  # doctest: +SKIP
    >>> keys = bench.keys()[:300]; y = bench.scores(keys, "baseline_accuracy")  # doctest: +SKIP
    >>> model = GCNPredictor(epochs=50).fit(bench.batch(keys[:200]), y[:200])  # doctest: +SKIP
    >>> model.predict(bench.batch(keys[200:])).shape  # doctest: +SKIP
    (100,)
    """

    needs: ClassVar[frozenset[str]] = _GraphNeeds()  # type: ignore[assignment]

    def __init__(
        self,
        *,
        hidden: int = 128,
        n_layers: int = 3,
        conv: str = "directed",
        pooling: str = "sum",
        mlp_hidden: int = 128,
        dropout: float = 0.0,
        loss: str = "ranking",
        epochs: int = 60,
        min_steps: int = 0,
        batch_size: int = 64,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        proxies: str | tuple[str, ...] | None = None,
        proxy_source: str | None = None,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.conv = conv
        self.pooling = pooling
        self.mlp_hidden = mlp_hidden
        self.dropout = dropout
        self.loss = loss
        self.epochs = epochs
        self.min_steps = min_steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.proxies = proxies
        self.proxy_source = proxy_source
        self.seed = seed
        self.n_jobs = n_jobs

    def _check_params(self) -> None:
        with naming(self):
            check_encoder_params(self)
            check_choice("loss", self.loss, LOSSES)
            if self.proxies is not None and not isinstance(self.proxies, (str, tuple, list)):
                raise ValueError(f"proxies must be None, a name, a tuple of names or 'all', got {self.proxies!r}")
        check_proxy_source(self.proxies, self.proxy_source, type(self).__name__)

    def _proxy_batch(self, X: Any) -> Any:
        """The batch to read the proxies of ``X``'s cells from: ``X``, or the same cells of ``proxy_source``."""
        if self.proxy_source is None or not hasattr(X, "proxies"):  # a plain input fails with a clear TypeError later
            return X
        return with_proxy_source(X, self.proxy_source, type(self).__name__)

    def _build(self, n_types: int, n_extra: int) -> Any:
        modules = torch_modules()
        encoder = modules.GraphEncoder(n_types, self.hidden, self.n_layers, self.dropout, self.conv, self.pooling)
        return modules.GCNRegressor(encoder, n_extra, self.mlp_hidden, self.dropout)

    def fit(self, X: Any, y: np.ndarray) -> GCNPredictor:
        import torch

        self._check_params()
        graphs, target, n_types = training_graphs(X, y)
        proxy_batch = self._proxy_batch(X)
        names = proxy_names_of(proxy_batch, self.proxies)
        scaler = ProxyScaler.fit(proxy_batch, names) if names else None
        extra = scaler.transform(proxy_batch) if scaler is not None else None
        mean, scale = target_scaling(target)
        tensors = graphs.torch()
        y_t = torch.from_numpy(((target - mean) / scale).astype(np.float32))
        extra_t = torch.from_numpy(extra) if extra is not None else None

        def batch_loss(model: Any, rows: Any) -> Any:
            scores = model(tuple(t[rows] for t in tensors), None if extra_t is None else extra_t[rows])
            if self.loss == "mse":
                return torch.mean((scores - y_t[rows]) ** 2)
            return pairwise_logistic(scores, y_t[rows])

        n = len(target)
        self.model_, step = train_graph_model(self, lambda: self._build(n_types, len(names)), batch_loss, n)
        self.n_types_ = n_types
        self.proxy_scaler_ = scaler
        self.target_mean_, self.target_scale_ = mean, scale
        log.debug("GCNPredictor fitted on %d graphs (%d steps)", n, step)
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        import torch

        graphs = GraphTensors.of(X, self.n_types_)
        extra = self.proxy_scaler_.transform(self._proxy_batch(X)) if self.proxy_scaler_ is not None else None
        out = np.empty(len(graphs), dtype=float)
        with inference(int(self.n_jobs)):
            for start in range(0, len(graphs), _PREDICT_CHUNK):
                rows = slice(start, start + _PREDICT_CHUNK)
                extra_t = None if extra is None else torch.from_numpy(extra[rows])
                out[rows] = self.model_(graphs.torch(rows), extra_t).numpy()
        if self.loss == "mse":
            out = out * self.target_scale_ + self.target_mean_
        return out

    def embed(self, X: Any) -> np.ndarray:
        """Pooled graph embeddings (n, hidden) of the fitted encoder."""
        self._check_fitted()
        graphs = GraphTensors.of(X, self.n_types_)
        with inference(int(self.n_jobs)):
            return np.asarray(self.model_.encoder(*graphs.torch()).numpy(), dtype=float)

    def _rebuild(self, state: dict[str, Any]) -> Any:
        scaler = state.get("proxy_scaler_")
        return self._build(state["n_types_"], 0 if scaler is None else len(scaler.names))
