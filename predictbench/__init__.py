"""predictbench: performance prediction for neural architecture search on tabular benchmarks.

``import predictbench`` stays light: numpy and the core types only; pandas, pyarrow and every heavy
dependency load when first needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from predictbench.rng import spawn
from predictbench.types import (
    Arch,
    BudgetExhausted,
    DataFormatError,
    Metric,
    NotFittedError,
    OutOfSpaceError,
    PredictBenchError,
    UnknownNameError,
)

if TYPE_CHECKING:
    import pandas as pd

    from predictbench.benchmarks import TabularBenchmark

__version__ = "0.1.0"


def load(name: str, *, root: Any = None, verify: bool = True) -> TabularBenchmark:
    """Load a converted benchmark by name, e.g. ``pb.load("nb201-analog/cifar10")``; checked unless ``verify=False``."""
    from predictbench.benchmarks import load as _load

    return _load(name, root=root, verify=verify)


def list_benchmarks(*, root: Any = None) -> pd.DataFrame:
    """Known and converted benchmarks with how to convert each."""
    from predictbench.benchmarks import list_benchmarks as _list

    return _list(root=root)


__all__ = [
    "Arch",
    "BudgetExhausted",
    "DataFormatError",
    "Metric",
    "NotFittedError",
    "OutOfSpaceError",
    "PredictBenchError",
    "UnknownNameError",
    "__version__",
    "list_benchmarks",
    "load",
    "spawn",
]
