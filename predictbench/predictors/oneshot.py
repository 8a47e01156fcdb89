"""OneShotPredictor: a supernet adapter's scores as a Predictor (one-shot NAS in predictor studies and searches).

``fit(X, y)`` trains a private copy of the adapter on image data (the argument is never changed, so clones and
refits are independent), or, with ``refit=False``, takes a copy of an already fitted adapter (train a supernet
once, reuse it across every split of a study). ``predict(X)`` returns the adapter's scores of the cells of ``X``
(an :class:`~predictbench.benchmarks.ArchBatch`). The target ``y`` is checked but not used: one-shot scores come
from the supernet's weights, not from labelled architectures, like a training-free proxy.

Not registered in :data:`~predictbench.predictors.PREDICTORS`: every ``fit`` trains a supernet (minutes on a CPU)
although ``y`` is unused, and scoring costs a BatchNorm recalibration and a validation pass per cell, so the
registry's generic conformance run and a study over many splits would retrain the same supernet again and again.
It does pass :func:`~predictbench.testing.check_predictor` (tests/supernet); pass an instance to a study::

    adapter = NB201WeightSharing().fit(space, digits(), epochs=20, seed=0)
    PredictorStudy(bench, {"oneshot": OneShotPredictor(adapter=adapter, refit=False)}, ...)

Examples
--------
>>> model = OneShotPredictor(epochs=2, seed=0).fit(bench.batch(keys[:10]), y)  # doctest: +SKIP
>>> model.predict(bench.batch(keys[10:20]))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np

from predictbench.predictors.base import Predictor, check_target, seed_int
from predictbench.types import Arch

__all__ = ["OneShotPredictor"]


def _archs_of(X: Any, who: str) -> tuple[Any, list[Arch]]:
    benchmark = getattr(X, "benchmark", None)
    keys = getattr(X, "keys", None)
    if benchmark is None or keys is None:
        raise TypeError(
            f"{who} scores cells: pass an ArchBatch (benchmark.batch(keys)), not {type(X).__name__}"
            f"{getattr(X, 'shape', '')}"
        )
    space = benchmark.space
    return space, [Arch(space.name, str(k)) for k in np.asarray(keys).tolist()]


class OneShotPredictor(Predictor):
    """Scores of a supernet adapter (default: :class:`~predictbench.supernet.weight_sharing.NB201WeightSharing`).

    Parameters
    ----------
    adapter
        A :class:`~predictbench.supernet.adapter.SupernetAdapter`; None for the reference NB201 supernet.
    data
        The image task the adapter trains on (None: the adapter's default, scikit-learn's digits for the
        reference supernets).
    epochs, seed
        Passed to ``adapter.fit``.
    refit
        Train the adapter copy in ``fit`` (True) or use ``adapter`` as already fitted (False).
    """

    needs: ClassVar[frozenset[str]] = frozenset()  # reads only the cells' keys

    def __init__(
        self,
        *,
        adapter: Any = None,
        data: Any = None,
        epochs: int = 1,
        seed: int = 0,
        refit: bool = True,
    ) -> None:
        self.adapter = adapter
        self.data = data
        self.epochs = epochs
        self.seed = seed
        self.refit = refit

    def fit(self, X: Any, y: np.ndarray) -> OneShotPredictor:
        who = repr(self)
        space, archs = _archs_of(X, who)
        check_target(y, len(archs))
        if not isinstance(self.refit, bool):
            raise ValueError(f"{who}: refit must be True or False, got {self.refit!r}")
        if self.adapter is None:
            from predictbench.supernet.weight_sharing import NB201WeightSharing

            adapter: Any = NB201WeightSharing()
        elif callable(getattr(self.adapter, "fit", None)) and callable(getattr(self.adapter, "score", None)):
            adapter = copy.deepcopy(self.adapter)
        else:
            raise TypeError(f"{who}: adapter must have fit(space, data, *, epochs, seed) and score(archs) methods")
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, name)
        if self.refit:
            if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
                raise ValueError(f"{who}: epochs must be a non-negative int, got {self.epochs!r}")
            adapter.fit(space, self.data, epochs=self.epochs, seed=seed_int(self.seed))
        self.adapter_ = adapter
        self.space_name_ = space.name
        return self

    def predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        from predictbench.supernet.adapter import check_scores

        space, archs = _archs_of(X, repr(self))
        if space.name != self.space_name_:
            raise ValueError(f"{self!r} was fitted on space {self.space_name_!r}, got cells of {space.name!r}")
        return check_scores(self.adapter_.score(archs), len(archs), repr(self.adapter_))
