from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from predictbench.rng import as_generator, spawn


@given(st.integers(0, 2**32), st.text(max_size=10), st.integers(0, 5000))
def test_spawn_is_a_function_of_seed_and_labels(seed: int, label: str, size: int) -> None:
    a = spawn(seed, label, size).integers(0, 2**62, size=4)
    b = spawn(seed, label, size).integers(0, 2**62, size=4)
    assert np.array_equal(a, b)


def test_spawn_streams_differ_by_label_and_seed() -> None:
    draws = {
        tuple(spawn(s, *labels).integers(0, 2**62, size=3))
        for s in (0, 1)
        for labels in (("split",), ("fit",), ("split", 1), ("split", "1"))
    }
    assert len(draws) == 8


def test_spawn_rejects_bad_seeds() -> None:
    with pytest.raises(ValueError, match="-1"):
        spawn(-1)
    with pytest.raises(TypeError, match="int"):
        spawn(1.5)  # type: ignore[arg-type]


def test_as_generator_passes_generators_through() -> None:
    gen = np.random.default_rng(3)
    assert as_generator(gen) is gen
    assert as_generator(3).integers(100) == np.random.default_rng(3).integers(100)
