"""OneShotPredictor: a supernet adapter as a Predictor passes the shipped conformance suite."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from predictbench.benchmarks import ArchBatch, TabularBenchmark
from predictbench.predictors.oneshot import OneShotPredictor
from predictbench.supernet.data import ImageData
from predictbench.supernet.weight_sharing import NB201WeightSharing
from predictbench.testing import check_predictor, toy_benchmark
from predictbench.types import NotFittedError


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> TabularBenchmark:
    return toy_benchmark(tmp_path_factory.mktemp("toy"), n=20)


def test_oneshot_predictor_conforms(toy: TabularBenchmark, tiny_data: ImageData, tiny_scoring: dict[str, Any]) -> None:
    keys = toy.keys()
    X, X_test = toy.batch(keys[:12]), toy.batch(keys[12:])
    y = toy.lookup(keys[:12], "test_acc")
    adapter = NB201WeightSharing(**tiny_scoring)
    check_predictor(lambda: OneShotPredictor(adapter=adapter, data=tiny_data, epochs=1, seed=0), X, y, X_test=X_test)
    assert not hasattr(adapter, "model_")  # the argument is never fitted: each fit trains a private copy


def test_prefitted_adapter_is_reused(toy: TabularBenchmark, fitted: NB201WeightSharing) -> None:
    keys = toy.keys()
    X, y = toy.batch(keys[:6]), toy.lookup(keys[:6], "test_acc")
    model = OneShotPredictor(adapter=fitted, refit=False).fit(X, y)
    X_test = toy.batch(keys[6:])
    archs = [toy.space.validate(k) for k in keys[6:]]
    assert np.array_equal(model.predict(X_test), fitted.score(archs))
    assert model.adapter_ is not fitted
    with pytest.raises(NotFittedError):
        OneShotPredictor().predict(X_test)
    with pytest.raises(TypeError, match="ArchBatch"):
        model.predict(np.zeros((3, 30)))
    with pytest.raises(TypeError, match="fit.*score"):
        OneShotPredictor(adapter=object()).fit(X, y)
    unfitted = OneShotPredictor(adapter=NB201WeightSharing(), refit=False).fit(X, y)
    with pytest.raises(NotFittedError, match="NB201WeightSharing is not fitted"):
        unfitted.predict(X_test)
    assert isinstance(X, ArchBatch)
