"""The Oracle: the only budgeted access a search loop has to a benchmark.

It returns the declared search metric (e.g. 12-epoch validation accuracy) as higher-is-better scores, samples one
stored repeat per architecture with its own RNG when the store holds per-seed values, charges the budget once
per DISTINCT architecture (a repeated query returns the same value for free, as re-reading a finished training
run would), accumulates simulated training time from a declared cost metric, records history, and raises
:class:`BudgetExhausted`. Test metrics are never visible through it: the study reads them for reporting only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import SEED_MEAN, MetricRef
from predictbench.rng import spawn
from predictbench.spaces import SearchSpace
from predictbench.types import Arch, BudgetExhausted


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
    benchmark : the table the oracle answers from (never handed to a searcher).
    metric : the search signal; default: the store's declared search metric (e.g. ``valid_acc`` at 12 epochs).
    budget : maximum number of distinct architectures; ``None`` for no limit.
    time_budget : maximum simulated training seconds; ``None`` for no limit.
    cost_metric : metric charged as simulated seconds per query (default ``train_time`` when the store has
        it at the signal's fidelity, else no time is charged).
    seed : seeds the repeat sampling (``spawn(seed, "oracle")``).
    sample_repeats : draw one stored repeat per architecture (True) or use the mean over repeats (False).
    signal : another store of the same space to read the search metric, its repeats and the cost metric from
        (default: ``benchmark``), e.g. CIFAR-10's 12-epoch validation accuracy while searching CIFAR-100, as
        RoBoT does on every NB201 dataset. The budget, the history and which cells exist stay ``benchmark``'s,
        and the study still reports ``benchmark``'s metrics.

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
    ) -> None:
        if signal is not None and signal.meta.space != benchmark.meta.space:
            raise ValueError(
                f"signal store {signal.name!r} is of space {signal.meta.space!r}, but the searched benchmark "
                f"{benchmark.name!r} is of space {benchmark.meta.space!r}"
            )
        self._benchmark = benchmark
        self._signal = benchmark if signal is None else signal
        self.metric = self._resolve(self._signal, metric)
        self._declared = self._signal.metric(self.metric.metric)
        self.budget = budget
        self.time_budget = time_budget
        self.cost_metric = self._resolve_cost(self._signal, cost_metric)
        self._rng = spawn(seed, "oracle", benchmark.name)
        self._seeds = [s for s in self._signal.seeds if s != SEED_MEAN] if sample_repeats else []
        self._values: dict[str, tuple[float, int]] = {}
        self.history: list[Query] = []
        self.elapsed_seconds = 0.0

    @staticmethod
    def _resolve(benchmark: TabularBenchmark, metric: MetricRef | str | None) -> MetricRef:
        if isinstance(metric, MetricRef):
            benchmark.fidelities_of(metric.metric)
            return metric
        if isinstance(metric, str):
            return MetricRef(metric, benchmark._resolve_fidelity(metric, None))
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

    @property
    def space(self) -> SearchSpace:
        return self._benchmark.space

    @property
    def queries(self) -> int:
        """Distinct architectures evaluated so far (what the budget counts)."""
        return len(self._values)

    @property
    def remaining(self) -> float:
        return math.inf if self.budget is None else self.budget - self.queries

    def seen(self, arch: Arch) -> bool:
        return arch.key in self._values

    def _lookup(self, arch: Arch, seed: int | None) -> float:
        ref = self.metric
        return float(self._signal.lookup([arch], ref.metric, fidelity=ref.fidelity, seed=seed)[0])

    def _measure(self, arch: Arch) -> tuple[float, int]:
        if self._seeds:
            seed = int(self._rng.choice(self._seeds))
            value = self._lookup(arch, seed)
            if not math.isnan(value):
                return value, seed
            # this repeat was not run for this cell: fall back to the mean over the repeats it has
        return self._lookup(arch, None), SEED_MEAN

    def evaluate(self, archs: Sequence[Arch]) -> np.ndarray:
        """Scores (higher is better) of the search metric; charges each new architecture once."""
        scores = np.empty(len(archs))
        for i, arch in enumerate(archs):
            if arch.key not in self._values:
                if self.budget is not None and self.queries >= self.budget:
                    raise BudgetExhausted(f"budget of {self.budget} distinct architectures is spent")
                if self.time_budget is not None and self.elapsed_seconds >= self.time_budget:
                    raise BudgetExhausted(f"simulated time budget of {self.time_budget:.0f} s is spent")
                self._benchmark.codes([arch])  # raises OutOfSpaceError for cells the table lacks
                value, seed = self._measure(arch)
                cost = 0.0
                if self.cost_metric is not None:
                    cost = float(self._signal.lookup([arch], self.cost_metric, fidelity=self.metric.fidelity)[0])
                    cost = 0.0 if math.isnan(cost) else cost
                self.elapsed_seconds += cost
                self._values[arch.key] = (value, seed)
                score = float(self._declared.to_score(value))
                self.history.append(Query(arch, value, score, seed, cost, self.queries, self.elapsed_seconds))
            scores[i] = self._declared.to_score(self._values[arch.key][0])
        return scores

    def best(self) -> Query:
        """The evaluated architecture with the best search-metric score."""
        if not self.history:
            raise ValueError("no architecture has been evaluated yet")
        return max(self.history, key=lambda q: q.score)
