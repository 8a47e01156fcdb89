from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from predictbench.studies.metrics import all_metrics, kendall_tau, precision_at_k, spearman_rho, top_k_regret


def test_reversed_predictions_are_negative_not_hidden() -> None:
    y = np.arange(50.0)
    assert kendall_tau(y, -y) == pytest.approx(-1.0)
    assert spearman_rho(y, -y) == pytest.approx(-1.0)
    assert kendall_tau(y, y) == pytest.approx(1.0)


def test_constant_predictions_carry_no_order() -> None:
    y = np.arange(30.0)
    metrics = all_metrics(y, np.zeros(30))
    assert metrics["kendall_tau"] == 0.0 and metrics["constant_prediction"] == 1.0


def test_precision_and_regret() -> None:
    y = np.arange(100.0)
    assert precision_at_k(y, y, 10) == 1.0
    assert precision_at_k(y, -y, 10) == 0.0
    assert top_k_regret(y, y, 10) == 0.0
    assert top_k_regret(y, -y, 10) == pytest.approx(90.0)


@given(arrays(np.float64, 40, elements=st.floats(-1e3, 1e3)), arrays(np.float64, 40, elements=st.floats(-1e3, 1e3)))
def test_metrics_are_bounded_and_invariant_to_monotone_maps(y: np.ndarray, p: np.ndarray) -> None:
    m = all_metrics(y, p)
    assert -1.0 <= m["kendall_tau"] <= 1.0
    assert all(np.isfinite(v) for v in m.values())
    assert kendall_tau(y, p) == pytest.approx(kendall_tau(y, p * 2.0), abs=1e-12)
    assert kendall_tau(y, -p) == pytest.approx(-kendall_tau(y, p), abs=1e-12)
    assert 0.0 <= m["precision_at_10"] <= 1.0 and m["top10_regret"] >= 0.0


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="equal length"):
        kendall_tau(np.arange(3.0), np.arange(4.0))
    with pytest.raises(ValueError, match="finite"):
        kendall_tau(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
