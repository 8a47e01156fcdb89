from __future__ import annotations

import pytest

from predictbench.registry import Registry
from predictbench.types import UnknownNameError


def test_lazy_lookup_and_did_you_mean() -> None:
    reg = Registry("predictor")
    reg.register("lgbm", "predictbench.predictors.gbdt:LGBMPredictor")
    reg.register("ridge", "predictbench.predictors.baselines:RidgePredictor")
    assert reg.get("ridge").__name__ == "RidgePredictor"
    with pytest.raises(UnknownNameError) as info:
        reg.get("lgb")
    message = str(info.value)
    assert "unknown predictor 'lgb'" in message and "Did you mean 'lgbm'" in message
    assert "\n" not in message


def test_duplicates_and_bad_targets_are_refused() -> None:
    reg = Registry("space")
    reg.register("a", "x:y")
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", "x:z")
    with pytest.raises(ValueError, match="module:attr"):
        reg.register("b", "nocolon")
