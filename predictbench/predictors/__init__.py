"""Predictors: one contract (``base.Predictor``), registered by name and imported lazily."""

from __future__ import annotations

from typing import Any

from predictbench.predictors.base import Predictor
from predictbench.registry import Registry

PREDICTORS = Registry("predictor")
PREDICTORS.register("lgbm", "predictbench.predictors.gbdt:LGBMPredictor")
PREDICTORS.register("ridge", "predictbench.predictors.baselines:RidgePredictor")
PREDICTORS.register("random", "predictbench.predictors.baselines:RandomPredictor")


def make_predictor(name: str, **params: Any) -> Predictor:
    """An instance of the predictor registered as ``name`` with ``params``."""
    cls = PREDICTORS.get(name)
    predictor: Predictor = cls(**params)
    return predictor


__all__ = ["PREDICTORS", "Predictor", "make_predictor"]
