"""RLNAS on NB201 (Zhang et al., CVPR 2021): a supernet trained on random labels, cells scored by weight angle.

The supernet is trained exactly as the reference (uniform single-path), but every training image carries a label
drawn uniformly at random (fixed per image by the seed; :func:`~predictbench.supernet.data.with_random_labels`).
No label is used to score: a cell's score is the angle (radians) between the vector of the weights it uses at
initialisation and after training (the angle-based metric of ABS, Hu et al. ECCV 2020, that RLNAS adopts). Under
the ease-of-convergence hypothesis a larger angle means a better cell.

The weight vector of a cell (:meth:`NB201Supernet.path_parameters`) concatenates, with ``angle_weights="path"``
(default), the stem, reduction and classifier weights with, in every cell position, the convolution weights of
the cell's operations on live edges; with ``angle_weights="cell"`` only the latter (the layers every cell shares
are left out). Parameter-free operations (skip, pooling, none) and dead operations contribute no weights: under
``"path"`` such a cell is measured on the shared layers alone, which favours cells with few convolutions (the
shared layers move most); under ``"cell"`` a cell without a live convolution scores 0. (ABS builds the vector path
by path with fixed weights for parameter-free operations; this is the simpler concatenation.)

Examples
--------
>>> rl = RandomLabelNB201(channels=8).fit(get_space("nb201"), digits(), epochs=4, seed=0)  # doctest: +SKIP
>>> rl.score(archs)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any, ClassVar

import torch

from predictbench.spaces import SearchSpace
from predictbench.supernet.data import ImageData, with_random_labels
from predictbench.supernet.weight_sharing import STREAM, SupernetBase

__all__ = ["ANGLE_WEIGHTS", "RandomLabelNB201", "weight_angle"]


def weight_angle(before: list[torch.Tensor], after: list[torch.Tensor]) -> float:
    """Angle (radians, in [0, pi]) between two lists of tensors read as one flat vector each."""
    a = torch.cat([t.detach().reshape(-1).double() for t in before])
    b = torch.cat([t.detach().reshape(-1).double() for t in after])
    denominator = float(a.norm() * b.norm())
    if denominator == 0.0:
        return 0.0
    cosine = float(torch.dot(a, b)) / denominator
    return float(torch.arccos(torch.tensor(min(1.0, max(-1.0, cosine)))))


ANGLE_WEIGHTS = ("path", "cell")


class RandomLabelNB201(SupernetBase):
    """Random-label supernet scored by the angle metric.

    Parameters
    ----------
    angle_weights
        ``"path"``: the shared layers and the cell's live convolutions; ``"cell"``: the cell's live convolutions
        only (a scoring setting: it may be changed after ``fit``).
    **kwargs
        Width, depth, optimiser and threads: see :class:`SupernetBase`.

    Attributes (after ``fit``)
    --------------------------
    model_ : the trained supernet; ``initial_`` : the same supernet at initialisation.
    """

    name: ClassVar[str] = "random-label"
    angle_weights: str

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
        angle_weights: str = "path",
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        self._store_params(locals())

    def _check_params(self) -> None:
        super()._check_params()
        if self.angle_weights not in ANGLE_WEIGHTS:
            raise ValueError(
                f"{type(self).__name__}: angle_weights must be one of {ANGLE_WEIGHTS}, got {self.angle_weights!r}"
            )

    def fit(
        self,
        space: SearchSpace,
        data: ImageData | None = None,
        *,
        epochs: int = 1,
        seed: int = 0,
        checkpoint: str | Path | None = None,
    ) -> RandomLabelNB201:
        """Train on ``data.train`` with random labels (the true labels are never read)."""
        started = time.perf_counter()
        data = self._start_fit(space, data, epochs, seed)
        noisy = with_random_labels(data, seed)
        with self._torch_context():
            model = self.build(data, seed)
            initial = copy.deepcopy(model)
            path = Path(checkpoint) if checkpoint is not None else None
            trace = self._train(model, noisy, epochs=epochs, seed=seed, checkpoint=path, label=STREAM)
        self._set_fitted(space, data, model, seed, epochs, trace)
        self.initial_ = initial
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _score_tag(self) -> str:
        return str(self.angle_weights)

    def _score_path(self, path: tuple[int, ...]) -> float:
        self._check_params()
        shared = self.angle_weights == "path"
        before = self.initial_.path_parameters(path, shared=shared)
        after = self.model_.path_parameters(path, shared=shared)
        return weight_angle(before, after) if before else 0.0

    def _load_extra_state(self, state: dict[str, Any], data: ImageData) -> None:
        # the initial weights are a function of the seed: rebuild them instead of storing them
        self.initial_ = self.build(data, self.seed_)
