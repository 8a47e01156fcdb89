"""Predictors: one contract (``base.Predictor``), registered by name and imported lazily."""

from __future__ import annotations

from typing import Any

from predictbench.predictors.base import Predictor
from predictbench.registry import Registry

PREDICTORS = Registry("predictor")
PREDICTORS.register("lgbm", "predictbench.predictors.gbdt:LGBMPredictor")
PREDICTORS.register("ridge", "predictbench.predictors.baselines:RidgePredictor")
PREDICTORS.register("random", "predictbench.predictors.baselines:RandomPredictor")
PREDICTORS.register("xgb", "predictbench.predictors.gbdt:XGBPredictor")
PREDICTORS.register("rf", "predictbench.predictors.baselines:RandomForestPredictor")
PREDICTORS.register("mlp", "predictbench.predictors.baselines:MLPPredictor")
PREDICTORS.register("bananas", "predictbench.predictors.bananas:BananasPredictor")
PREDICTORS.register("gcn", "predictbench.predictors.gcn:GCNPredictor")
PREDICTORS.register("comparator", "predictbench.predictors.comparator:ComparatorPredictor")
PREDICTORS.register("gates", "predictbench.predictors.gates:GATESPredictor")
PREDICTORS.register("ta-gates", "predictbench.predictors.gates:ta_gates")
PREDICTORS.register("flowerformer", "predictbench.predictors.flowerformer:FlowerFormerPredictor")
PREDICTORS.register("proxy", "predictbench.predictors.zerocost:ProxyPredictor")
PREDICTORS.register("proxy-rank-ensemble", "predictbench.predictors.zerocost:RankEnsemblePredictor")
PREDICTORS.register("proxy-learned-ensemble", "predictbench.predictors.zerocost:LearnedEnsemblePredictor")
PREDICTORS.register("omni-lgbm", "predictbench.predictors.zerocost:omni_lgbm")
PREDICTORS.register("zero-shot", "predictbench.predictors.zeroshot:ZeroShotPredictor")
PREDICTORS.register("omni", "predictbench.predictors.omni:OmniEnsemblePredictor")
PREDICTORS.register("tuned", "predictbench.studies.tuning:TunedPredictor")
PREDICTORS.register("robot", "predictbench.predictors.robot:RoBoTPredictor")
PREDICTORS.register("nao", "predictbench.search.nao:NAOPredictor")


def make_predictor(name: str, **params: Any) -> Predictor:
    """An instance of the predictor registered as ``name`` with ``params``."""
    cls = PREDICTORS.get(name)
    predictor: Predictor = cls(**params)
    return predictor


__all__ = ["PREDICTORS", "Predictor", "make_predictor"]
