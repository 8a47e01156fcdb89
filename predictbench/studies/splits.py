"""The train/test splits of a predictor study: test protocols, training sizes as counts or fractions, twin-free.

**Protocols** (:data:`PROTOCOLS`). Every split of (benchmark, target, seed) starts from one permutation of the
cells with a finite target, drawn from ``spawn(seed, "predictor-split", benchmark, metric, fidelity)``, so it is
the same whichever predictors run (paired) and training sets are nested across sizes:

- ``"sample"``: the first ``test_size`` cells are the test set; the training set of size n is the first n of the
  others (the study's original protocol);
- ``"rest"``: the training set is the first n cells; the test set is every other cell;
- ``"all-including-train"``: the training set is the first n cells; the test set is EVERY cell, the training
  cells included. This is what the NAR-Former / NN-Former / PINAT code measures; it is not a held-out figure and
  is labelled as such wherever it is shown.

**Training sizes** (:class:`TrainSize`) are counts (``78``) or percentages of the store's cell count (``"0.5%"``),
rounded to the nearest count with halves rounded up, in exact arithmetic: on NB201's 15,625 cells 0.5 / 1 / 3 /
5 / 10 % are 78 / 156 / 469 / 781 / 1563.

**Twin-free** splits: no test cell has a functionally identical cell (a *twin*: the same class of the space's
``canonical_index``, e.g. NB201's 4,930 functional classes) in the training set. Under ``"sample"`` the test set
is the uniform one and the training pool drops the twins of test cells (so twin-free and uniform results share
their test cells); under ``"rest"`` the test set drops the twins of training cells. Spaces without a canonical
form that groups cells (NB101 hashes, NATS-sss, NAS-Bench-Graph keys are one cell per class) refuse it.

Examples
--------
>>> TrainSize.parse("0.5%").resolve(15625), TrainSize.parse("10%").resolve(15625), TrainSize.parse(42).resolve(9)
(78, 1563, 42)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from predictbench.registry import unknown_name
from predictbench.rng import spawn

if TYPE_CHECKING:
    from predictbench.benchmarks import TabularBenchmark
    from predictbench.benchmarks.store import MetricRef

#: Test protocol name -> how its test set is chosen (shown in reports).
PROTOCOLS: dict[str, str] = {
    "sample": "a uniform sample of test cells, disjoint from the training cells",
    "rest": "every cell not used for training",
    "all-including-train": (
        "every cell, the training cells included; the protocol of the NAR-Former / NN-Former / PINAT code, "
        "not a held-out figure"
    ),
}
DEFAULT_PROTOCOL = "sample"
DEFAULT_TEST_SIZE = 200
MIN_TEST_CELLS = 20  # precision@20 needs 20 test cells
UNIFORM, TWIN_FREE = "uniform", "twin-free"
_PERCENT = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*%\s*")


def check_protocol(name: str) -> str:
    """``name`` if it is a test protocol, else UnknownNameError naming the known ones."""
    if name not in PROTOCOLS:
        raise unknown_name("test protocol", name, list(PROTOCOLS))
    return name


def protocol_label(protocol: str, twin_free: bool) -> str:
    """How records of ``protocol`` are labelled, e.g. ``'rest, twin-free (every cell not used for training; ...)'``."""
    twins = "; no test cell has a functionally identical cell in the training set" if twin_free else ""
    return f"{protocol}{', twin-free' if twin_free else ''} ({PROTOCOLS[protocol]}{twins})"


@dataclass(frozen=True)
class TrainSize:
    """One training size as given: a count of cells, or a fraction of the store's cells (``"0.5%"``).

    Examples
    --------
    >>> size = TrainSize.parse("3%")
    >>> size.text, size.resolve(15625), size.fraction_of(15625)
    ('3%', 469, 0.03)
    """

    text: str
    count: int | None = None
    fraction: Fraction | None = None

    @classmethod
    def parse(cls, value: int | str) -> TrainSize:
        """An int or an integer string is a count; ``"<number>%"`` a percentage in (0, 100] of the store's cells."""
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"training size {value!r}: expected a count (e.g. 78) or a percentage (e.g. '0.5%')")
        if isinstance(value, int):
            return cls(text=str(value), count=value)
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return cls(text=text, count=int(text))
        match = _PERCENT.fullmatch(text)
        if match is None:
            raise ValueError(f"training size {value!r}: expected a count (e.g. 78) or a percentage (e.g. '0.5%')")
        fraction = Fraction(match.group(1)) / 100
        if not 0 < fraction <= 1:
            raise ValueError(f"training size {value!r}: a percentage must be above 0% and at most 100%")
        return cls(text=f"{match.group(1)}%", fraction=fraction)

    def resolve(self, cells: int) -> int:
        """The count of cells: the count as given, or the fraction of ``cells`` rounded half up."""
        if self.fraction is None:
            assert self.count is not None  # one of the two is set by parse()
            return self.count
        return math.floor(self.fraction * cells + Fraction(1, 2))

    def fraction_of(self, cells: int) -> float:
        """The fraction of ``cells`` as given, or the count's share of them."""
        return float(self.fraction) if self.fraction is not None else self.resolve(cells) / cells


def resolve_sizes(sizes: Sequence[int | str], cells: int) -> dict[int, TrainSize]:
    """Count -> size as given, in the given order; ValueError for a size below 2 or two sizes of one count."""
    out: dict[int, TrainSize] = {}
    for size in map(TrainSize.parse, sizes):
        count = size.resolve(cells)
        if count < 2:
            share = f" is {count} of {cells:,} cells" if size.fraction is not None else ""
            raise ValueError(f"training size {size.text}{share}: expected at least 2 training cells")
        if count in out:
            raise ValueError(f"training sizes {out[count].text} and {size.text} are both {count} cells of {cells:,}")
        out[count] = size
    if not out:
        raise ValueError("no training sizes given")
    return out


def twin_classes(benchmark: TabularBenchmark) -> np.ndarray:
    """(cells,) int64: per store row, the functional class of its space's canonical form (twins share one).

    Raises ValueError when the space declares no canonical form that groups cells (every cell is its own class).
    """
    space = benchmark.space
    if not (hasattr(space, "canonical_index") and hasattr(space, "index_of")):
        raise ValueError(
            f"a twin-free split does not apply to {benchmark.name}: its space '{space.name}' declares no canonical "
            "form grouping functionally identical cells (each cell is its own class, so no test cell has a twin); "
            "use the uniform split"
        )
    return np.asarray(space.canonical_index()[space.index_of(benchmark.keys())], dtype=np.int64)


def count_twins(classes: np.ndarray, train: np.ndarray, test: np.ndarray) -> int:
    """How many of the ``test`` rows have a twin (same class) among the ``train`` rows."""
    return int(np.isin(classes[test], classes[train]).sum())


@dataclass(frozen=True)
class Split:
    """The paired split of one (benchmark, target, seed) under one protocol (row positions into the store).

    ``train(n)`` is the training set of size n (the first n of ``train_pool``, so sets are nested across sizes);
    ``test_cells(n)`` its test set. ``test`` is the protocol's fixed test set: the test sample under ``"sample"``,
    every cell under ``"all-including-train"``, and under ``"rest"`` every cell (``test_cells(n)`` drops the n
    training cells). ``classes`` are the rows' functional classes for a twin-free split, else None.
    """

    train_pool: np.ndarray
    test: np.ndarray
    protocol: str = DEFAULT_PROTOCOL
    classes: np.ndarray | None = None

    def train(self, n: int) -> np.ndarray:
        return self.train_pool[:n]

    def test_cells(self, n: int) -> np.ndarray:
        if self.protocol != "rest":
            return self.test
        rest = self.train_pool[n:]
        if self.classes is not None:
            rest = rest[~np.isin(self.classes[rest], self.classes[self.train(n)])]
        return rest


def make_split(
    benchmark: TabularBenchmark,
    target: MetricRef,
    seed: int,
    test_size: int = DEFAULT_TEST_SIZE,
    *,
    protocol: str = DEFAULT_PROTOCOL,
    twin_free: bool = False,
) -> Split:
    """The paired split of ``benchmark`` for ``seed`` under ``protocol`` (``test_size``: ``"sample"`` only)."""
    check_protocol(protocol)
    if twin_free and protocol == "all-including-train":
        raise ValueError(
            "a twin-free split does not apply to protocol 'all-including-train': its test set includes the "
            "training cells themselves"
        )
    values = benchmark.column(target.metric, fidelity=target.fidelity)
    rows = np.flatnonzero(np.isfinite(values))
    if protocol == "sample" and len(rows) <= test_size:
        raise ValueError(f"{benchmark.name}: only {len(rows)} cells have {target.metric}; test_size={test_size}")
    order = spawn(seed, "predictor-split", benchmark.name, target.metric, target.fidelity).permutation(rows)
    classes = twin_classes(benchmark) if twin_free else None
    if protocol != "sample":
        return Split(train_pool=order, test=order, protocol=protocol, classes=classes)
    test, pool = order[:test_size], order[test_size:]
    if classes is not None:
        pool = pool[~np.isin(classes[pool], classes[test])]
    return Split(train_pool=pool, test=test, protocol=protocol, classes=classes)


__all__ = [
    "DEFAULT_PROTOCOL",
    "DEFAULT_TEST_SIZE",
    "PROTOCOLS",
    "Split",
    "TrainSize",
    "check_protocol",
    "count_twins",
    "make_split",
    "protocol_label",
    "resolve_sizes",
    "twin_classes",
]
