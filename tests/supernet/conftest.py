"""Fixtures of the supernet tests: a tiny real image task (scikit-learn's digits) and tiny supernets.

Everything is small on purpose (4 channels, one cell per stage, 8x8 images, a few dozen images, one epoch): the
tests check behaviour (determinism, resume, caching, contracts), not accuracy.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="supernet experiments need torch (pip install torch==2.13.0, CPU build)")
pytest.importorskip(
    "sklearn", reason="the digits data set ships with scikit-learn (pip install 'predictbench[sklearn]')"
)

from predictbench.spaces import get_space  # noqa: E402
from predictbench.spaces.nb201 import NB201Space  # noqa: E402
from predictbench.supernet.data import ImageData, digits  # noqa: E402
from predictbench.supernet.weight_sharing import NB201WeightSharing  # noqa: E402

#: adapter settings small enough for the default test run
TINY: dict[str, Any] = {"channels": 4, "cells_per_stage": 1, "batch_size": 16}
TINY_SCORING: dict[str, Any] = {**TINY, "calibration_images": 16, "score_images": 16}


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (the shared fixture in tests/conftest.py)."""


@pytest.fixture(scope="session")
def space() -> NB201Space:
    nb201 = get_space("nb201")
    assert isinstance(nb201, NB201Space)
    return nb201


@pytest.fixture(scope="session")
def tiny_data() -> ImageData:
    """48 digits at 8x8: 36 to train, 12 to score."""
    return digits(size=8, limit=48)


@pytest.fixture
def tiny() -> dict[str, Any]:
    """Width, depth and batch size of the tiny supernets."""
    return dict(TINY)


@pytest.fixture
def tiny_scoring() -> dict[str, Any]:
    """:func:`tiny` plus few calibration and scoring images."""
    return dict(TINY_SCORING)


@pytest.fixture(scope="session")
def fitted(space: NB201Space, tiny_data: ImageData) -> NB201WeightSharing:
    """A tiny reference supernet trained for one epoch (do not refit it in a test)."""
    return NB201WeightSharing(**TINY_SCORING).fit(space, tiny_data, epochs=1, seed=0)
