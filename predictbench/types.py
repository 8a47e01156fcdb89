"""Core value types and exceptions shared by every part of predictbench."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

MetricKind = Literal["objective", "cost", "proxy", "info"]
MetricSplit = Literal["train", "valid", "test"]


class PredictBenchError(Exception):
    """Base class of every error predictbench raises on purpose."""


class OutOfSpaceError(PredictBenchError, ValueError):
    """An architecture (or its encoding) is not a member of the search space."""


class BudgetExhausted(PredictBenchError):
    """An Oracle was asked for more evaluations than its budget allows."""


class NotFittedError(PredictBenchError, RuntimeError):
    """A predictor was used before ``fit``."""


class DataFormatError(PredictBenchError, ValueError):
    """A file or table does not have the format a reader or converter expects."""


class UnknownNameError(PredictBenchError, KeyError):
    """A name (benchmark, predictor, metric, ...) is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True, order=True)
class Arch:
    """One architecture of a search space: a frozen, hashable value.

    ``key`` is the benchmark's canonical key of the cell (for NB201 the official arch string,
    for NB101 the official module hash), so Arch values join with every published table.

    Examples
    --------
    >>> a = Arch("nb201", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    >>> a == Arch(a.space, a.key)
    True
    """

    space: str
    key: str

    def __str__(self) -> str:
        return f"{self.space}:{self.key}"


@dataclass(frozen=True, slots=True)
class Metric:
    """A measured quantity, declared once with its direction.

    Everything downstream works on scores where higher is better; :meth:`to_score` is the one
    place where the sign is decided. ``split`` says which data a measured value comes from (``"train"``,
    ``"valid"``, ``"test"``; ``None``: not declared or not applicable, e.g. a cost). A ``"test"`` metric is read
    by studies for reporting and refused as a search signal (see :meth:`is_test`).

    Examples
    --------
    >>> latency = Metric("edgegpu_latency", higher_is_better=False, unit="ms", kind="cost")
    >>> float(latency.to_score(3.0))
    -3.0
    """

    name: str
    higher_is_better: bool
    unit: str = ""
    kind: MetricKind = "objective"
    lower: float | None = None
    upper: float | None = None
    description: str = ""
    split: MetricSplit | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("objective", "cost", "proxy", "info"):
            raise ValueError(f"Metric {self.name!r}: kind must be objective, cost, proxy or info, got {self.kind!r}")
        if self.split not in (None, "train", "valid", "test"):
            raise ValueError(f"Metric {self.name!r}: split must be train, valid, test or absent, got {self.split!r}")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"Metric {self.name!r}: lower bound {self.lower} > upper bound {self.upper}")

    @property
    def is_test(self) -> bool:
        """Whether values come from the test data (hidden from search loops)."""
        return self.split == "test"

    @property
    def sign(self) -> float:
        return 1.0 if self.higher_is_better else -1.0

    def to_score(self, values: Any) -> Any:
        """Values of this metric as scores where higher is better."""
        return values * self.sign

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metric:
        if "name" not in data or "higher_is_better" not in data:
            raise DataFormatError(f"metric declaration needs 'name' and 'higher_is_better', got {data!r}")
        allowed = {"name", "higher_is_better", "unit", "kind", "lower", "upper", "description", "split"}
        unknown = set(data) - allowed
        if unknown:
            raise DataFormatError(f"metric {data['name']!r}: unknown fields {sorted(unknown)}")
        return cls(**data)

    def check_bounds(self, lo: float, hi: float) -> None:
        """Raise DataFormatError when observed values [lo, hi] leave the declared bounds."""
        if self.lower is not None and not math.isnan(lo) and lo < self.lower:
            raise DataFormatError(f"metric {self.name!r}: value {lo} below declared lower bound {self.lower}")
        if self.upper is not None and not math.isnan(hi) and hi > self.upper:
            raise DataFormatError(f"metric {self.name!r}: value {hi} above declared upper bound {self.upper}")
