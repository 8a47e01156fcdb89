"""Simple baselines: ridge regression on an encoding, and a random scorer as the floor."""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import (
    Predictor,
    check_n_features,
    check_target,
    features_of,
    seed_int,
    target_scaling,
)
from predictbench.predictors.zerocost import _check_alpha
from predictbench.validation import check_int, naming


class RidgePredictor(Predictor):
    """Ridge regression (closed form) on an architecture encoding.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(3); RidgePredictor(alpha=1e-6).fit(X, [1.0, 2.0, 3.0]).predict(X).round(3).tolist()
    [1.0, 2.0, 3.0]
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(self, *, encoding: str = "onehot", alpha: float = 1.0) -> None:
        self.encoding = encoding
        self.alpha = alpha

    def fit(self, X: Any, y: np.ndarray) -> RidgePredictor:
        _check_alpha(type(self).__name__, "alpha", self.alpha)
        features = features_of(X, self.encoding).astype(float)
        target = check_target(y, len(features))
        self.x_mean_ = features.mean(axis=0)
        self.y_mean_ = float(target.mean())
        centred = features - self.x_mean_
        gram = centred.T @ centred + self.alpha * np.eye(centred.shape[1])
        self.coef_ = np.linalg.lstsq(gram, centred.T @ (target - self.y_mean_), rcond=None)[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        features = check_n_features(features_of(X, self.encoding).astype(float), len(self.coef_))
        return np.asarray((features - self.x_mean_) @ self.coef_ + self.y_mean_, dtype=float)


class RandomPredictor(Predictor):
    """Scores drawn at random: the floor every predictor must beat (expected Kendall tau 0)."""

    needs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: Any, y: np.ndarray) -> RandomPredictor:
        self.fitted_ = True
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        n = len(X)
        keys = getattr(X, "keys", None)
        if keys is not None:  # score depends on the architecture only, so order of X does not matter
            import hashlib

            digests = [hashlib.blake2b(f"{self.seed}:{k}".encode(), digest_size=8).digest() for k in keys]
            return np.array([int.from_bytes(d, "little") / 2**64 for d in digests])
        return np.random.default_rng(seed_int(self.seed)).random(n)


class RandomForestPredictor(Predictor):
    """Random forest regression (scikit-learn) on an architecture encoding.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((50, 4)); y = X[:, 0]
    >>> RandomForestPredictor(n_estimators=10).fit(X, y).predict(X).shape
    (50,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(
        self,
        *,
        encoding: str = "onehot",
        n_estimators: int = 100,
        max_depth: int | None = None,
        min_samples_leaf: int = 1,
        max_features: float | str | None = 1.0,
        bootstrap: bool = True,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.encoding = encoding
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.seed = seed
        self.n_jobs = n_jobs

    def _validate(self) -> None:
        with naming(self):
            check_int("n_estimators", self.n_estimators, 1)
            check_int("min_samples_leaf", self.min_samples_leaf, 1)
            check_int("n_jobs", self.n_jobs, 1)
            if self.max_depth is not None:
                check_int("max_depth", self.max_depth, 1)
            seed_int(self.seed)
            mf = self.max_features
            valid_float = isinstance(mf, float) and 0 < mf <= 1
            valid_int = isinstance(mf, int) and not isinstance(mf, bool) and mf >= 1
            if not (mf is None or mf in ("sqrt", "log2") or valid_float or valid_int):
                raise ValueError(
                    f"max_features must be a float in (0, 1], an int >= 1, 'sqrt', 'log2' or None, got {mf!r}"
                )

    def fit(self, X: Any, y: np.ndarray) -> RandomForestPredictor:
        from sklearn.ensemble import RandomForestRegressor

        self._validate()
        features = features_of(X, self.encoding)
        target = check_target(y, len(features))
        model = RandomForestRegressor(
            n_estimators=int(self.n_estimators),
            max_depth=self.max_depth,
            min_samples_leaf=int(self.min_samples_leaf),
            max_features=self.max_features,
            bootstrap=self.bootstrap,
            random_state=seed_int(self.seed),
            n_jobs=int(self.n_jobs),
        )
        self.model_ = model.fit(features, target)
        self.n_features_in_ = features.shape[1]
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        features = check_n_features(features_of(X, self.encoding), self.n_features_in_)
        return np.asarray(self.model_.predict(features), dtype=float)


# ---- small multilayer perceptrons (torch for training, numpy for prediction) ------------------------------

LOSSES = ("mse", "mae")


def check_mlp_params(
    *, hidden: Any, epochs: Any, lr: Any, weight_decay: Any, batch_size: Any, loss: Any, n_models: Any = 1
) -> tuple[int, ...]:
    """Validate MLP training settings (clear ValueErrors); return ``hidden`` as a tuple of ints."""
    if isinstance(hidden, (int, np.integer)) or not all(
        isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1 for h in hidden
    ):
        raise ValueError(f"hidden must be a sequence of layer widths >= 1 (e.g. (64, 64)), got {hidden!r}")
    check_int("epochs", epochs, 1)
    check_int("batch_size", batch_size, 1)
    check_int("n_models", n_models, 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return tuple(int(h) for h in hidden)


def fit_mlp_ensemble(
    features: np.ndarray,
    target: np.ndarray,
    *,
    seeds: list[int],
    hidden: tuple[int, ...],
    epochs: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    loss: str,
    n_jobs: int = 1,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train ``len(seeds)`` independent ReLU MLPs at once; return their stacked layers as numpy arrays.

    Member ``m`` is initialised (like ``torch.nn.Linear``) and shuffled by
    ``torch.Generator().manual_seed(seeds[m])`` only; no global torch state is touched. The members are
    trained side by side as one batched model (``torch.baddbmm`` on weights stacked along a first axis of
    length ``len(seeds)``): the loss is the sum of the members' mean losses and Adam's update is elementwise,
    so each member follows its own optimisation path, unchanged by the other members. Adam (with L2 weight
    decay, as ``torch.optim.Adam``) runs on one flat tensor holding every parameter: a few whole-tensor
    operations per step, and no ``torch.optim`` (whose first use imports ``torch._dynamo``, seconds).
    Returns ``[(W, b), ...]`` per layer with ``W`` of shape (m, d_in, d_out) and ``b`` of shape (m, 1, d_out).

    Training runs on ``n_jobs`` torch threads (restored afterwards): these networks are far too small for
    parallel kernels, and torch's default of one thread per core slows them down by orders of magnitude
    when the cores are busy.
    """
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(int(n_jobs))
    try:
        return _train_stacked(features, target, seeds, hidden, epochs, lr, weight_decay, batch_size, loss)
    finally:
        torch.set_num_threads(previous_threads)


def _train_stacked(
    features: np.ndarray,
    target: np.ndarray,
    seeds: list[int],
    hidden: tuple[int, ...],
    epochs: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    loss: str,
) -> list[tuple[np.ndarray, np.ndarray]]:
    import torch

    n, d = features.shape
    generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
    shapes: list[tuple[int, ...]] = []
    initial: list[torch.Tensor] = []
    for fan_in, fan_out in itertools.pairwise([d, *hidden, 1]):
        bound = 1.0 / float(np.sqrt(fan_in))  # torch.nn.Linear's default initialisation
        for shape in ((fan_in, fan_out), (1, fan_out)):
            member_values = [(torch.rand(*shape, generator=g) * 2 - 1) * bound for g in generators]
            initial.append(torch.stack(member_values))
            shapes.append((len(seeds), *shape))
    # every parameter is a view into one flat tensor, so that Adam is a handful of whole-tensor operations
    flat = torch.cat([t.reshape(-1) for t in initial]).requires_grad_()
    sizes = [int(np.prod(shape)) for shape in shapes]
    exp_avg, exp_avg_sq = torch.zeros_like(flat), torch.zeros_like(flat)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    x_all = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y_all = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32))
    batch = min(int(batch_size), n)
    loss_fn = torch.nn.functional.mse_loss if loss == "mse" else torch.nn.functional.l1_loss
    step = 0
    for _ in range(int(epochs)):
        order = torch.stack([torch.randperm(n, generator=g) for g in generators])  # (m, n)
        for start in range(0, n, batch):
            params = [chunk.view(shape) for chunk, shape in zip(flat.split(sizes), shapes, strict=True)]
            rows = order[:, start : start + batch]
            h = x_all[rows]  # (m, b, d)
            for layer in range(0, len(params) - 2, 2):
                h = torch.relu(torch.baddbmm(params[layer + 1], h, params[layer]))
            out = torch.baddbmm(params[-1], h, params[-2]).squeeze(-1)  # (m, b)
            # sum over members of each member's mean loss: the members' gradients stay independent
            loss_fn(out, y_all[rows], reduction="none").mean(dim=1).sum().backward()
            step += 1
            with torch.no_grad():  # Adam (Kingma & Ba) with L2 weight decay, as torch.optim.Adam
                grad = torch.zeros_like(flat) if flat.grad is None else flat.grad
                if weight_decay:
                    grad = grad.add(flat, alpha=weight_decay)
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (exp_avg_sq / (1 - beta2**step)).sqrt_().add_(eps)
                flat.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**step))
            flat.grad = None
    values = flat.detach().numpy()
    arrays = [
        chunk.reshape(shape).copy()
        for chunk, shape in zip(np.split(values, np.cumsum(sizes)[:-1]), shapes, strict=True)
    ]
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


def mlp_forward(layers: list[tuple[np.ndarray, np.ndarray]], features: np.ndarray) -> np.ndarray:
    """Outputs (m, n) of the stacked MLPs ``layers`` (from :func:`fit_mlp_ensemble`), computed in float64."""
    h = np.broadcast_to(features.astype(np.float64), (layers[0][0].shape[0], *features.shape))
    for i, (weight, bias) in enumerate(layers):
        h = h @ weight.astype(np.float64) + bias.astype(np.float64)
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return np.asarray(h[..., 0])


def standardize_columns(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales (std, 1 where constant) of a feature matrix."""
    mean = features.mean(axis=0, dtype=np.float64)
    scale = features.std(axis=0, dtype=np.float64)
    return mean, np.where(scale > 0, scale, 1.0)


class StackedMLPPredictor(Predictor):
    """Fit and prediction shared by the MLP predictors (:class:`MLPPredictor`, BANANAS' ensemble).

    Features are standardised per column and the target as a whole (optionally); the members are trained side
    by side by :func:`fit_mlp_ensemble`, each from one torch seed of :meth:`_member_seeds`, and predict in
    target units. Subclasses store the parameters read here as their keyword-only ``__init__`` arguments.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((20, 3)); y = X[:, 0]
    >>> isinstance(MLPPredictor(epochs=2).fit(X, y), StackedMLPPredictor)
    True
    """

    encoding: str
    hidden: tuple[int, ...]
    epochs: int
    lr: float
    weight_decay: float
    batch_size: int
    loss: str
    seed: int
    n_jobs: int

    def _member_seeds(self, root: int) -> list[int]:
        """One torch seed per member, drawn from the validated ``seed`` (``root``)."""
        raise NotImplementedError

    def _fit_members(self, X: Any, y: np.ndarray, *, n_models: Any = 1, standardize_target: bool = True) -> None:
        with naming(self):
            hidden = check_mlp_params(
                hidden=self.hidden,
                epochs=self.epochs,
                lr=self.lr,
                weight_decay=self.weight_decay,
                batch_size=self.batch_size,
                loss=self.loss,
                n_models=n_models,
            )
            check_int("n_jobs", self.n_jobs, 1)
            root = seed_int(self.seed)
        features = features_of(X, self.encoding)
        target = check_target(y, len(features))
        x_mean, x_scale = standardize_columns(features)
        mean, scale = target_scaling(target, standardize_target)
        self.layers_ = fit_mlp_ensemble(
            ((features - x_mean) / x_scale).astype(np.float32),
            (target - mean) / scale,
            seeds=self._member_seeds(root),
            hidden=hidden,
            epochs=int(self.epochs),
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            batch_size=int(self.batch_size),
            loss=self.loss,
            n_jobs=int(self.n_jobs),
        )
        self.x_mean_, self.x_scale_ = x_mean, x_scale
        self.target_mean_, self.target_scale_ = mean, scale
        self.n_features_in_ = features.shape[1]

    def _predict_members(self, X: Any) -> np.ndarray:
        """Every member's prediction, shape (members, n), in target units."""
        self._check_fitted()
        features = check_n_features(features_of(X, self.encoding), self.n_features_in_)
        raw = mlp_forward(self.layers_, (features - self.x_mean_) / self.x_scale_)
        return np.asarray(raw * self.target_scale_ + self.target_mean_, dtype=float)


class MLPPredictor(StackedMLPPredictor):
    """A small fully connected ReLU network (torch on CPU, imported lazily) regressing the target.

    Features are standardised per column and the target is standardised; training is Adam with L2 weight
    decay on minibatches of the mean absolute error (``loss="mae"``, as in BANANAS: it ranks better than
    ``"mse"`` on NAS targets with a long tail of poor cells), seeded only through a ``torch.Generator``
    (deterministic for a fixed ``seed``).
    The trained weights are kept as numpy arrays, so prediction and pickling need no torch. ``n_jobs`` is the
    number of torch threads used while fitting (torch's setting is restored afterwards).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((50, 4)); y = X[:, 0]
    >>> MLPPredictor(epochs=5).fit(X, y).predict(X).shape
    (50,)
    """

    needs: ClassVar[frozenset[str]] = frozenset({"features"})

    def __init__(
        self,
        *,
        encoding: str = "onehot",
        hidden: tuple[int, ...] = (64, 64),
        epochs: int = 50,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 32,
        loss: str = "mae",
        standardize_target: bool = True,
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.encoding = encoding
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.loss = loss
        self.standardize_target = standardize_target
        self.seed = seed
        self.n_jobs = n_jobs

    def _member_seeds(self, root: int) -> list[int]:
        from predictbench.rng import spawn

        return [int(spawn(root, "mlp").integers(2**62))]

    def fit(self, X: Any, y: np.ndarray) -> MLPPredictor:
        self._fit_members(X, y, standardize_target=self.standardize_target)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self._predict_members(X)[0]
