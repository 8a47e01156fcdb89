"""Argument checks shared by constructors: one clear ValueError naming the argument and what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` as an int; ValueError unless it is an int (not a bool) >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)
