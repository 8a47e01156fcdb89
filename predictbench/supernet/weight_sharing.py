"""The reference NB201 weight-sharing adapter: uniform single-path training, scores after BatchNorm recalibration.

:class:`NB201WeightSharing` trains an :class:`~predictbench.supernet.model.NB201Supernet` on an image task with
one uniformly drawn cell per mini-batch (single-path one-shot NAS, Guo et al. 2020), then scores a cell by the
accuracy (or minus the cross-entropy) its inherited weights reach on the validation images, after re-estimating
every BatchNorm's statistics for that cell on fixed training batches (:mod:`~predictbench.supernet.scoring`).

Scores are cached per cell inside a fitted adapter (they are deterministic), so repeated queries are free.
The shared machinery (building the supernet, seeding, threads, saving and restoring its state) lives in
:class:`SupernetBase`, which the few-shot and random-label variants extend.

Examples
--------
>>> from predictbench.spaces import get_space
>>> from predictbench.supernet.data import digits
>>> space = get_space("nb201")
>>> adapter = NB201WeightSharing(channels=8, cells_per_stage=1).fit(space, digits(), epochs=2, seed=0)  # doctest: +SKIP
>>> adapter.score(space.sample(np.random.default_rng(0), 3))  # doctest: +SKIP
array([0.90, 0.31, 0.87])
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from predictbench.predictors.gcn import torch_threads
from predictbench.rng import spawn
from predictbench.spaces import SearchSpace
from predictbench.spaces.nb201 import NUM_EDGES, NUM_OPS
from predictbench.supernet.adapter import check_archs
from predictbench.supernet.data import ImageData, batches, dataset_size, digits
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.scoring import PathScore, evaluate_path
from predictbench.supernet.trainer import PathSampler, TrainConfig, TrainLog, train_supernet
from predictbench.types import DataFormatError, NotFittedError, OutOfSpaceError

log = logging.getLogger(__name__)

__all__ = ["METRICS", "NB201WeightSharing", "SupernetBase", "uniform_path"]

METRICS = ("accuracy", "loss")
STATE_FORMAT = "predictbench-supernet-state/1"
STREAM = "supernet"
"""Label of the random streams of every variant's initial weights and supernet training: the same seed gives the
reference, few-shot and random-label adapters the same initial supernet, image order and sampled paths."""


def uniform_path(rng: np.random.Generator) -> tuple[int, ...]:
    """6 op ids drawn uniformly and independently (every NB201 cell equally likely)."""
    return tuple(int(v) for v in rng.integers(0, NUM_OPS, size=NUM_EDGES))


class SupernetBase:
    """Width, depth, optimiser and thread settings shared by the NB201 supernet adapters.

    Parameters
    ----------
    channels, cells_per_stage
        Width ``C`` and depth ``N`` of the supernet (the benchmark's networks: 16 and 5).
    batch_size, lr, momentum, weight_decay, grad_clip
        Weight optimiser (:class:`~predictbench.supernet.trainer.TrainConfig`).
    threads
        Torch intra-op threads while training and scoring (restored afterwards).
    device
        Torch device of the supernet (``"cpu"``, ``"cuda"``).
    """

    name: ClassVar[str] = "supernet"
    channels: int
    cells_per_stage: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    grad_clip: float | None
    threads: int
    device: str

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
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        self._store_params(locals())

    # ---- configuration ------------------------------------------------------------------------------------

    def _store_params(self, arguments: Mapping[str, Any]) -> None:
        """Store the arguments of the calling ``__init__`` (its ``locals()``, taken first thing) as attributes.

        Each subclass's ``__init__`` declares its full keyword-only signature and stores it this way, so a setting
        is written once per signature instead of being forwarded through every ``super().__init__``.
        """
        for name, value in arguments.items():
            if name != "self" and not name.startswith("__"):  # ``__class__`` is a local where ``super()`` is used
                setattr(self, name, value)

    def get_params(self) -> dict[str, Any]:
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def train_config(self) -> TrainConfig:
        return TrainConfig.of(self)

    def _check_params(self) -> None:
        self.train_config()  # validates the optimiser settings
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError(f"{type(self).__name__}: threads must be a positive int, got {self.threads!r}")

    @contextmanager
    def _torch_context(self) -> Iterator[None]:
        with torch_threads(int(self.threads)):
            yield

    # ---- building and fitting -----------------------------------------------------------------------------

    def build(self, data: ImageData, seed: int) -> NB201Supernet:
        """A freshly initialised supernet for ``data`` (initial weights from ``seed``, global RNG untouched)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(spawn(seed, STREAM, "init").integers(2**31)))
            model = NB201Supernet(
                channels=self.channels,
                cells_per_stage=self.cells_per_stage,
                num_classes=data.num_classes,
                in_channels=data.image_shape[0],
            )
        return model.to(self.device)

    def _start_fit(self, space: SearchSpace, data: ImageData | None, epochs: int, seed: int) -> ImageData:
        who = type(self).__name__
        if getattr(space, "name", None) != "nb201":
            raise OutOfSpaceError(f"{who} is an NB201 supernet; got space {getattr(space, 'name', space)!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"{who}: epochs must be a non-negative int, got {epochs!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"{who}: seed must be a non-negative int, got {seed!r}")
        if data is None:
            data = digits()
        if not isinstance(data, ImageData):
            raise TypeError(
                f"{who}: data must be an ImageData (predictbench.supernet.data.digits() or image_data(train, valid, "
                f"num_classes=...)), got {type(data).__name__}"
            )
        self._check_params()
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)
        self._cache: dict[tuple[str, tuple[int, ...]], float] = {}
        return data

    def _train(
        self,
        model: NB201Supernet,
        data: ImageData,
        *,
        epochs: int,
        seed: int,
        checkpoint: Path | None,
        label: str,
        sample_path: PathSampler = uniform_path,
    ) -> TrainLog:
        return train_supernet(
            model,
            data.train,
            epochs=epochs,
            seed=seed,
            sample_path=sample_path,
            config=self.train_config(),
            checkpoint=checkpoint,
            label=label,
            tag=self.name,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet; call fit(space, data, epochs=..., seed=...)"
            )

    # ---- scoring ------------------------------------------------------------------------------------------

    def score(self, archs: Sequence[Any]) -> np.ndarray:
        """Scores of ``archs`` (higher is better); cached per cell."""
        self._check_fitted()
        archs = check_archs(self.space_, archs, type(self).__name__)
        ops = self.space_.ops_array(archs) if archs else np.zeros((0, NUM_EDGES), dtype=np.int64)  # type: ignore[attr-defined]
        out = np.empty(len(archs))
        cache = self.__dict__.setdefault("_cache", {})
        tag = self._score_tag()
        with self._torch_context():
            for i, row in enumerate(ops.tolist()):
                key = (tag, tuple(int(v) for v in row))
                if key not in cache:
                    cache[key] = self._score_path(key[1])
                out[i] = cache[key]
        return out

    def _score_tag(self) -> str:
        """What, besides the path, a cached score depends on (settings that may change after fit)."""
        return ""

    def _score_path(self, path: tuple[int, ...]) -> float:
        raise NotImplementedError

    # ---- state --------------------------------------------------------------------------------------------

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any], data: ImageData) -> None:
        """Hook for subclasses: restore what :meth:`_extra_state` saved."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to score again: settings, the supernet's weights and the fit's seed."""
        self._check_fitted()
        return {
            "format": STATE_FORMAT,
            "adapter": type(self).__name__,
            "params": self.get_params(),
            "seed": self.seed_,
            "epochs": self.epochs_,
            "num_classes": self.model_.num_classes,
            "model": {k: v.detach().cpu().clone() for k, v in self.model_.state_dict().items()},
            **self._extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any], *, data: ImageData | None = None) -> None:
        """Restore a :meth:`state_dict` (of the same adapter class) for scoring on ``data`` (default digits).

        Every setting is restored as saved (the adapter becomes the one that was saved); scoring settings such as
        ``metric`` may be changed afterwards.
        """
        who = type(self).__name__
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise DataFormatError(f"{who}: not a supernet state (expected format {STATE_FORMAT!r})")
        if state.get("adapter") != who:
            raise DataFormatError(f"{who}: the state was saved by {state.get('adapter')!r}")
        from predictbench.spaces import get_space

        for name, value in state["params"].items():
            setattr(self, name, value)
        data = self._start_fit(get_space("nb201"), data, int(state["epochs"]), int(state["seed"]))
        if data.num_classes != state["num_classes"]:
            raise ValueError(
                f"{who}: the state has {state['num_classes']} classes, data {data.name} has {data.num_classes}"
            )
        model = self.build(data, int(state["seed"]))
        model.load_state_dict(state["model"])
        self._set_fitted(get_space("nb201"), data, model, int(state["seed"]), int(state["epochs"]), TrainLog())
        self._load_extra_state(state, data)

    def _set_fitted(
        self, space: SearchSpace, data: ImageData, model: NB201Supernet, seed: int, epochs: int, trace: TrainLog
    ) -> None:
        self.space_ = space
        self.data_ = data
        self.model_ = model
        self.seed_ = int(seed)
        self.epochs_ = int(epochs)
        self.train_log_ = trace


class NB201WeightSharing(SupernetBase):
    """Reference NB201 supernet adapter: uniform single-path training, scored after BN recalibration.

    Parameters
    ----------
    calibration_images
        Training images (a fixed seeded subset) used to re-estimate BatchNorm statistics for each cell.
    score_images
        Validation images a cell is scored on (the first ones; None for all).
    metric
        ``"accuracy"`` (fraction correct) or ``"loss"`` (minus the mean cross-entropy) as the score.
    **kwargs
        Width, depth, optimiser and threads: see :class:`SupernetBase`.

    Attributes (after ``fit``)
    --------------------------
    model_ : the trained :class:`~predictbench.supernet.model.NB201Supernet`.
    train_log_ : epochs, losses and seconds of the training (:class:`~predictbench.supernet.trainer.TrainLog`).
    fit_seconds_ : wall seconds ``fit`` took.
    """

    name: ClassVar[str] = "weight-sharing"
    calibration_images: int
    score_images: int | None
    metric: str

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
        if self.metric not in METRICS:
            raise ValueError(f"{who}: metric must be one of {METRICS}, got {self.metric!r}")
        n = self.calibration_images
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"{who}: calibration_images must be a non-negative int, got {n!r}")
        m = self.score_images
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            raise ValueError(f"{who}: score_images must be None or a positive int, got {m!r}")

    def fit(
        self,
        space: SearchSpace,
        data: ImageData | None = None,
        *,
        epochs: int = 1,
        seed: int = 0,
        checkpoint: str | Path | None = None,
    ) -> NB201WeightSharing:
        """Train the supernet on ``data.train`` (default: :func:`~predictbench.supernet.data.digits`).

        ``checkpoint``: a file written after every epoch; an interrupted fit called again with the same
        arguments resumes from it.
        """
        started = time.perf_counter()
        data = self._start_fit(space, data, epochs, seed)
        with self._torch_context():
            model = self.build(data, seed)
            path = Path(checkpoint) if checkpoint is not None else None
            trace = self._train(model, data, epochs=epochs, seed=seed, checkpoint=path, label=STREAM)
        self._set_fitted(space, data, model, seed, epochs, trace)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _set_fitted(
        self, space: SearchSpace, data: ImageData, model: NB201Supernet, seed: int, epochs: int, trace: TrainLog
    ) -> None:
        super()._set_fitted(space, data, model, seed, epochs, trace)
        n_train = dataset_size(data.train)
        rows = spawn(seed, STREAM, "calibration").permutation(n_train)[: self.calibration_images]
        self.calibration_ = list(batches(data.train, self.batch_size, rows))
        n_valid = dataset_size(data.valid)
        count = n_valid if self.score_images is None else min(self.score_images, n_valid)
        self.scoring_ = list(batches(data.valid, max(self.batch_size, 256), np.arange(count)))
        device = self.device
        self.calibration_ = [(x.to(device), y.to(device)) for x, y in self.calibration_]
        self.scoring_ = [(x.to(device), y.to(device)) for x, y in self.scoring_]

    def path_score(self, archs: Sequence[Any]) -> list[PathScore]:
        """Accuracy and loss of each cell (uncached), after BN recalibration."""
        self._check_fitted()
        archs = check_archs(self.space_, archs, type(self).__name__)
        with self._torch_context():
            return [self._evaluate(tuple(row)) for row in self.space_.ops_array(archs).tolist()]  # type: ignore[attr-defined]

    def _model_for(self, path: tuple[int, ...]) -> NB201Supernet:
        return self.model_

    def _evaluate(self, path: tuple[int, ...]) -> PathScore:
        return evaluate_path(self._model_for(path), path, self.calibration_, self.scoring_)

    def _score_tag(self) -> str:
        return str(self.metric)

    def _score_path(self, path: tuple[int, ...]) -> float:
        if self.metric not in METRICS:
            raise ValueError(f"{type(self).__name__}: metric must be one of {METRICS}, got {self.metric!r}")
        result = self._evaluate(path)
        return result.accuracy if self.metric == "accuracy" else -result.loss
