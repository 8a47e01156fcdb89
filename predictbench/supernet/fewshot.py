"""Few-shot NAS on NB201 (Zhao et al., ICML 2021): split the supernet on one edge into sub-supernets.

The one-shot supernet is trained first (uniform single-path, as :class:`NB201WeightSharing`). It is then split
on the compound edge ``split_edge``: five sub-supernets, one per operation of that edge, each starting from the
trained weights and fine-tuned for ``sub_epochs`` epochs on the paths that carry its operation there (the other
edges stay uniform). A cell is scored, after BatchNorm recalibration, by the sub-supernet of its operation on the
split edge, so its weights are shared with fewer, more similar cells.

Compute: ``epochs`` for the supernet plus ``5 * sub_epochs`` for the sub-supernets (``fit(..., init_from=...)``
reuses an already trained :class:`NB201WeightSharing` of the same settings instead of retraining it).

Examples
--------
>>> few = FewShotNB201(channels=8, split_edge=0, sub_epochs=2)  # doctest: +SKIP
>>> few.fit(get_space("nb201"), digits(), epochs=4, seed=0).score(archs)  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from predictbench.spaces import SearchSpace
from predictbench.spaces.nb201 import NUM_EDGES, NUM_OPS, OPS
from predictbench.supernet.data import ImageData
from predictbench.supernet.model import NB201Supernet
from predictbench.supernet.trainer import TrainLog
from predictbench.supernet.weight_sharing import STREAM, NB201WeightSharing

__all__ = ["FewShotNB201", "fixed_edge_path"]


def fixed_edge_path(edge: int, op: int) -> Callable[[np.random.Generator], tuple[int, ...]]:
    """A path sampler: uniform ops on every edge except ``edge``, which always carries ``op``."""

    def sample(rng: np.random.Generator) -> tuple[int, ...]:
        ops = rng.integers(0, NUM_OPS, size=NUM_EDGES)
        ops[edge] = op
        return tuple(int(v) for v in ops)

    return sample


def _sibling(path: Path | None, suffix: str) -> Path | None:
    return None if path is None else path.with_name(f"{path.name}.{suffix}")


class FewShotNB201(NB201WeightSharing):
    """Few-shot variant of :class:`NB201WeightSharing`: five sub-supernets split on one edge's operation.

    Parameters
    ----------
    split_edge
        The edge (official order, 0..5) whose operation selects the sub-supernet.
    sub_epochs
        Fine-tuning epochs of each sub-supernet; None for ``max(1, epochs // 2)``.
    **kwargs
        As :class:`NB201WeightSharing`.
    """

    name: ClassVar[str] = "few-shot"
    split_edge: int
    sub_epochs: int | None

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
        split_edge: int = 0,
        sub_epochs: int | None = None,
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        self._store_params(locals())

    def _check_params(self) -> None:
        super()._check_params()
        who = type(self).__name__
        edge = self.split_edge
        if isinstance(edge, bool) or not isinstance(edge, int) or not 0 <= edge < NUM_EDGES:
            raise ValueError(f"{who}: split_edge must be an edge index in 0..{NUM_EDGES - 1}, got {edge!r}")
        sub = self.sub_epochs
        if sub is not None and (isinstance(sub, bool) or not isinstance(sub, int) or sub < 0):
            raise ValueError(f"{who}: sub_epochs must be None or a non-negative int, got {sub!r}")

    def fit(
        self,
        space: SearchSpace,
        data: ImageData | None = None,
        *,
        epochs: int = 1,
        seed: int = 0,
        checkpoint: str | Path | None = None,
        init_from: NB201WeightSharing | None = None,
    ) -> FewShotNB201:
        """Train the supernet (or copy ``init_from``'s), then fine-tune the five sub-supernets.

        ``checkpoint``: the supernet's file; each sub-supernet checkpoints next to it (``<name>.sub<op>``).
        """
        started = time.perf_counter()
        data = self._start_fit(space, data, epochs, seed)
        sub_epochs = max(1, epochs // 2) if self.sub_epochs is None else int(self.sub_epochs)
        path = Path(checkpoint) if checkpoint is not None else None
        with self._torch_context():
            if init_from is not None:
                model, trace = self._inherit(init_from, data, epochs, seed)
            else:
                model = self.build(data, seed)
                trace = self._train(model, data, epochs=epochs, seed=seed, checkpoint=path, label=STREAM)
            subnets, logs = [], []
            for op in range(NUM_OPS):
                sub = copy.deepcopy(model)
                logs.append(
                    self._train(
                        sub,
                        data,
                        epochs=sub_epochs,
                        seed=seed,
                        checkpoint=_sibling(path, f"sub{op}"),
                        label=f"{self.name}-sub-{OPS[op]}",
                        sample_path=fixed_edge_path(self.split_edge, op),
                    )
                )
                subnets.append(sub)
        self._set_fitted(space, data, model, seed, epochs, trace)
        self.subnets_ = subnets
        self.sub_logs_: list[TrainLog] = logs
        self.sub_epochs_ = sub_epochs
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _inherit(
        self, base: NB201WeightSharing, data: ImageData, epochs: int, seed: int
    ) -> tuple[NB201Supernet, TrainLog]:
        who = type(self).__name__
        base._check_fitted()
        shared = [k for k in base.get_params() if k not in ("calibration_images", "score_images", "metric")]
        mine = self.get_params()
        differ = {k: (base.get_params()[k], mine[k]) for k in shared if base.get_params()[k] != mine.get(k)}
        if differ:
            raise ValueError(f"{who}: init_from has other supernet settings (its, mine): {differ}")
        if (base.seed_, base.epochs_) != (seed, epochs) or base.data_ is not data:
            raise ValueError(
                f"{who}: init_from was fit with seed={base.seed_}, epochs={base.epochs_} on other data objects; "
                f"this fit asks for seed={seed}, epochs={epochs} on {data.name}"
            )
        return copy.deepcopy(base.model_), base.train_log_

    def _model_for(self, path: tuple[int, ...]) -> NB201Supernet:
        subnets: list[NB201Supernet] = self.subnets_
        return subnets[path[self.split_edge]]

    def _extra_state(self) -> dict[str, Any]:
        return {
            "sub_epochs": self.sub_epochs_,
            "subnets": [{k: v.detach().cpu().clone() for k, v in s.state_dict().items()} for s in self.subnets_],
        }

    def _load_extra_state(self, state: dict[str, Any], data: ImageData) -> None:
        subnets = []
        for sub_state in state["subnets"]:
            sub = self.build(data, self.seed_)
            sub.load_state_dict(sub_state)
            subnets.append(sub)
        self.subnets_ = subnets
        self.sub_logs_ = []
        self.sub_epochs_ = int(state["sub_epochs"])
