from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from predictbench.types import Arch, DataFormatError, Metric, OutOfSpaceError, PredictBenchError


def test_arch_is_frozen_hashable_and_picklable() -> None:
    a = Arch("nb201", "k1")
    assert a == Arch("nb201", "k1")
    assert a != Arch("nb101", "k1")
    assert len({a, Arch("nb201", "k1")}) == 1
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.key = "other"  # type: ignore[misc]


def test_metric_direction_decided_in_one_place() -> None:
    acc = Metric("acc", higher_is_better=True)
    latency = Metric("latency", higher_is_better=False, unit="ms", kind="cost")
    values = np.array([1.0, 3.0, 2.0])
    assert np.argmax(acc.to_score(values)) == 1
    assert np.argmax(latency.to_score(values)) == 0


def test_metric_round_trip_and_errors() -> None:
    m = Metric("acc", True, "%", "objective", 0.0, 100.0, "test accuracy")
    assert Metric.from_dict(m.to_dict()) == m
    with pytest.raises(DataFormatError, match="higher_is_better"):
        Metric.from_dict({"name": "acc"})
    with pytest.raises(DataFormatError, match="unknown fields"):
        Metric.from_dict({"name": "acc", "higher_is_better": True, "colour": "red"})
    with pytest.raises(ValueError, match="kind"):
        Metric("acc", True, kind="speed")  # type: ignore[arg-type]
    with pytest.raises(DataFormatError, match="above declared upper bound"):
        m.check_bounds(0.0, 101.0)


def test_exceptions_share_a_base() -> None:
    assert issubclass(OutOfSpaceError, PredictBenchError)
    assert issubclass(OutOfSpaceError, ValueError)
