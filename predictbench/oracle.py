"""The Oracle: the only budgeted access a search loop has to a benchmark.

It returns the declared search metric (e.g. 12-epoch validation accuracy) as higher-is-better scores, samples one
stored repeat per architecture with its own RNG when the store holds per-seed values, charges the budget once
per DISTINCT architecture (a repeated query returns the same value for free, as re-reading a finished training
run would), accumulates simulated training time from a declared cost metric, records history, and raises
:class:`BudgetExhausted`. Test metrics are never visible through it: the study reads them for reporting only.

What a searcher could reach through an oracle is only what search may see: at construction it copies out the
space, the signal's values (per stored repeat) and the cost metric's values as arrays over the table's cells, and
keeps no handle on the benchmark. Which metrics are test metrics is decided by :func:`hidden_metrics`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import SEED_MEAN, MetricRef
from predictbench.rng import spawn
from predictbench.spaces import SearchSpace
from predictbench.types import Arch, BudgetExhausted, OutOfSpaceError

log = logging.getLogger(__name__)


def hidden_metrics(bench: TabularBenchmark) -> list[str]:
    """The metrics of ``bench`` hidden from search loops, sorted.

    Those declared with ``split="test"``, and the store's declared report metric unless it is also its search
    metric: a store whose only accuracy is both (``nb201-analog/cifar10``'s ``baseline_accuracy``) searches and
    reports the same column, and a store that declares no splits still hides its report metric.
    """
    hidden = {name for name, metric in bench.metrics.items() if metric.is_test}
    report, search = bench.report_metric, bench.search_metric
    if report is not None and (search is None or report.metric != search.metric):
        hidden.add(report.metric)
    return sorted(hidden)


def check_search_metric(bench: TabularBenchmark, metric: str, *, what: str = "search metric") -> None:
    """Raise ValueError when ``metric`` is one of ``bench``'s :func:`hidden_metrics` (naming the allowed ones)."""
    hidden = hidden_metrics(bench)
    if metric in hidden:
        search = bench.search_metric.metric if bench.search_metric is not None else None
        allowed = sorted(
            (n for n, m in bench.metrics.items() if n not in hidden and m.kind == "objective"),
            key=lambda n: n != search,
        )
        more = f" and {len(allowed) - 4} more (predictbench data info {bench.name})" if len(allowed) > 4 else ""
        raise ValueError(
            f"{bench.name}: {what} {metric!r} is a test metric, hidden from search (it is read only for "
            f"reporting); use one of {allowed[:4]}{more}"
        )


def check_budget(bench: TabularBenchmark, budget: int | None) -> None:
    """Raise ValueError unless ``budget`` is None or a positive int no larger than the number of cells."""
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive int or None, got {budget!r}")
    if budget > len(bench):
        raise ValueError(
            f"budget {budget} is larger than the {len(bench)} architectures of {bench.name}: a search cannot "
            f"query more distinct architectures than the table holds"
        )


def key_rows(bench: TabularBenchmark) -> Mapping[str, int]:
    """Architecture key -> row in ``bench`` (what an oracle needs to tell a table's cells from others)."""
    return bench.row_of()


@dataclass(frozen=True)
class Query:
    """One charged evaluation."""

    arch: Arch
    value: float
    score: float
    seed: int
    cost_seconds: float
    queries: int
    elapsed_seconds: float


class Oracle:
    """Budgeted, recorded access to a benchmark's search metric.

    Parameters
    ----------
    benchmark : the table the oracle answers from; read once at construction, never kept (nor handed to a
        searcher).
    metric : the search signal (a MetricRef, ``"metric"`` or ``"metric@fidelity"``); default: the store's declared
        search metric (e.g. ``valid_acc`` at 12 epochs).
        A test metric (:func:`hidden_metrics`) is refused with a ValueError.
    budget : maximum number of distinct architectures, at most the number of cells in ``benchmark``; ``None``
        for no limit.
    time_budget : maximum simulated training seconds; ``None`` for no limit.
    cost_metric : metric charged as simulated seconds per query (default ``train_time`` when the store has
        it at the signal's fidelity, else no time is charged). A cell without a cost value is charged 0 s.
    seed : seeds the repeat sampling (``spawn(seed, "oracle")``).
    sample_repeats : draw one stored repeat per architecture (True) or use the mean over repeats (False).
    signal : another store of the same space to read the search metric, its repeats and the cost metric from
        (default: ``benchmark``), e.g. CIFAR-10's 12-epoch validation accuracy while searching CIFAR-100, as
        RoBoT does on every NB201 dataset. The budget, the history and which cells exist stay ``benchmark``'s,
        and the study still reports ``benchmark``'s metrics.
    allow_test_metric : read a test metric as the signal anyway, for an "oracle upper bound" analysis only (a
        warning is logged); never set it for a search whose result is reported.

    Notes
    -----
    A cell whose signal has no value (NaN: not measured, or absent from the ``signal`` store) is charged like any
    other query and recorded with a NaN value and score; :meth:`evaluate` tells the searcher
    :attr:`missing_score`, the worst score of the signal over the table, so predictors can fit on it. Such a
    cell never becomes the incumbent: :meth:`best` skips it, and raises ValueError when no evaluated cell has a
    value.

    Examples
    --------
    >>> oracle = Oracle(bench, budget=100, seed=0)  # doctest: +SKIP
    >>> scores = oracle.evaluate(bench.space.sample(np.random.default_rng(0), 5))  # doctest: +SKIP
    >>> cross = Oracle(cifar100, signal=cifar10, budget=20)  # CIFAR-10's valid_acc@12 on CIFAR-100  # doctest: +SKIP
    """

    def __init__(
        self,
        benchmark: TabularBenchmark,
        *,
        metric: MetricRef | str | None = None,
        budget: int | None = None,
        time_budget: float | None = None,
        cost_metric: str | None = "auto",
        seed: int = 0,
        sample_repeats: bool = True,
        signal: TabularBenchmark | None = None,
        allow_test_metric: bool = False,
    ) -> None:
        if signal is not None and signal.meta.space != benchmark.meta.space:
            raise ValueError(
                f"signal store {signal.name!r} is of space {signal.meta.space!r}, but the searched benchmark "
                f"{benchmark.name!r} is of space {benchmark.meta.space!r}"
            )
        check_budget(benchmark, budget)
        source = benchmark if signal is None else signal
        self.metric = self._resolve(source, metric)
        self._declared = source.metric(self.metric.metric)
        self.budget = budget
        self.time_budget = time_budget
        self.cost_metric = self._resolve_cost(source, cost_metric)
        if allow_test_metric:
            log.warning("oracle on %s reads %s: an upper-bound analysis, not a search", source.name, self.metric)
        else:
            check_search_metric(source, self.metric.metric)
            if self.cost_metric is not None:
                check_search_metric(source, self.cost_metric, what="cost metric")
        self._space = benchmark.space
        self._name = benchmark.name
        self._rows = key_rows(benchmark)
        self._rng = spawn(seed, "oracle", benchmark.name)
        self._seeds = [s for s in source.seeds if s != SEED_MEAN] if sample_repeats else []
        align = _aligner(benchmark, signal)
        self._by_seed = {s: align(self._column(source, s)) for s in [SEED_MEAN, *self._seeds]}
        self._costs = (
            None if self.cost_metric is None else align(source.column(self.cost_metric, fidelity=self.metric.fidelity))
        )
        scores = self._declared.to_score(np.concatenate(list(self._by_seed.values())))
        if not np.isfinite(scores).any():
            raise ValueError(f"{source.name}: search metric {self.metric} has no value for any cell of {self._name}")
        self.missing_score = float(np.nanmin(scores))
        self._values: dict[str, tuple[float, int]] = {}
        self.history: list[Query] = []
        self.elapsed_seconds = 0.0

    @staticmethod
    def _resolve(benchmark: TabularBenchmark, metric: MetricRef | str | None) -> MetricRef:
        if isinstance(metric, MetricRef):
            benchmark.fidelities_of(metric.metric)
            return metric
        if isinstance(metric, str):  # "metric" or "metric@fidelity"
            from predictbench.multiobjective.objectives import parse_objective

            return parse_objective(benchmark, metric)
        if benchmark.search_metric is None:
            raise ValueError(f"{benchmark.name} declares no search metric; pass metric=...")
        return benchmark.search_metric

    def _resolve_cost(self, benchmark: TabularBenchmark, cost_metric: str | None) -> str | None:
        if cost_metric == "auto":
            has_time = "train_time" in benchmark.metrics
            return "train_time" if has_time and self.metric.fidelity in benchmark.fidelities_of("train_time") else None
        if cost_metric is not None:
            benchmark.metric(cost_metric)
        return cost_metric

    def _column(self, source: TabularBenchmark, seed: int) -> np.ndarray:
        ref = self.metric
        try:
            return source.column(ref.metric, fidelity=ref.fidelity, seed=None if seed == SEED_MEAN else seed)
        except ValueError:  # this repeat has no results at the signal's fidelity: every cell falls back to the mean
            return np.full(len(source), np.nan)

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def queries(self) -> int:
        """Distinct architectures evaluated so far (what the budget counts)."""
        return len(self._values)

    @property
    def remaining(self) -> float:
        return math.inf if self.budget is None else self.budget - self.queries

    def seen(self, arch: Arch) -> bool:
        return arch.key in self._values

    def _row(self, arch: Arch) -> int:
        row = self._rows.get(arch.key)
        if row is None:
            raise OutOfSpaceError(
                f"architecture {arch.key!r} is not in benchmark {self._name!r} ({len(self._rows)} architectures "
                f"of space {self._space.name!r})"
            )
        return row

    def _measure(self, row: int) -> tuple[float, int]:
        if self._seeds:
            seed = int(self._rng.choice(self._seeds))
            value = float(self._by_seed[seed][row])
            if not math.isnan(value):
                return value, seed
            # this repeat was not run for this cell: fall back to the mean over the repeats it has
        return float(self._by_seed[SEED_MEAN][row]), SEED_MEAN

    def measure(self, archs: Sequence[Arch]) -> np.ndarray:
        """Scores as recorded: like :meth:`evaluate`, but NaN for a cell without a value."""
        scores = np.empty(len(archs))
        for i, arch in enumerate(archs):
            if arch.key not in self._values:
                if self.budget is not None and self.queries >= self.budget:
                    raise BudgetExhausted(f"budget of {self.budget} distinct architectures is spent")
                if self.time_budget is not None and self.elapsed_seconds >= self.time_budget:
                    raise BudgetExhausted(f"simulated time budget of {self.time_budget:.0f} s is spent")
                row = self._row(arch)  # raises OutOfSpaceError for cells the table lacks
                value, seed = self._measure(row)
                cost = 0.0 if self._costs is None else float(self._costs[row])
                cost = 0.0 if math.isnan(cost) else cost
                self.elapsed_seconds += cost
                self._values[arch.key] = (value, seed)
                score = float(self._declared.to_score(value))
                self.history.append(Query(arch, value, score, seed, cost, self.queries, self.elapsed_seconds))
            scores[i] = self._declared.to_score(self._values[arch.key][0])
        return scores

    def evaluate(self, archs: Sequence[Arch]) -> np.ndarray:
        """Scores (higher is better) of the search metric; charges each new architecture once.

        A cell without a value scores :attr:`missing_score` (see the class notes).
        """
        scores = self.measure(archs)
        return np.where(np.isnan(scores), self.missing_score, scores)

    def best(self) -> Query:
        """The evaluated architecture with the best search-metric score (cells without a value never are)."""
        if not self.history:
            raise ValueError("no architecture has been evaluated yet")
        scored = [q for q in self.history if not math.isnan(q.score)]
        if not scored:
            raise ValueError(
                f"none of the {len(self.history)} evaluated architectures has a value of the search metric "
                f"{self.metric.metric}@{self.metric.fidelity}: there is no incumbent"
            )
        return max(scored, key=lambda q: q.score)


def _aligner(benchmark: TabularBenchmark, signal: TabularBenchmark | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function taking a column of ``signal`` to ``benchmark``'s rows (NaN for cells ``signal`` lacks)."""
    if signal is None:
        return lambda column: column
    rows = pd.Index(signal.keys()).get_indexer(benchmark.keys())
    found = rows >= 0

    def align(column: np.ndarray) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        out[found] = column[rows[found]]
        return out

    return align
