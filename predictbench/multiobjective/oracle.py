"""The multi-objective Oracle: several declared objectives behind one distinct-query budget.

Built from one :class:`~predictbench.oracle.Oracle` per objective (composition, no copy of its logic). The first
objective's oracle holds the budget, the simulated-time budget and its cost metric; the others are unbudgeted and
charge nothing, and are asked only after the first has accepted (and charged) the architecture. All of them share
the seed, so on stores with per-seed repeats they draw the same repeat for each architecture: every objective of
one architecture comes from the same stored training run (falling back, like Oracle, to the mean over repeats where
that run lacks the metric). Test metrics stay hidden: a test metric is refused as an objective
(:func:`~predictbench.multiobjective.objectives.search_objectives`), and the oracle holds only its objectives'
oracles, which hold only their objective's values.

A cell without a value for an objective (NaN) is charged and recorded with a NaN value and score; searchers
receive the NaN (they read it as the worst score, :func:`~predictbench.multiobjective.pareto.missing_as_worst`),
and such a cell never enters :meth:`MultiObjectiveOracle.front`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import MetricRef
from predictbench.multiobjective.objectives import ObjectiveLike, default_objectives, search_objectives
from predictbench.multiobjective.pareto import non_dominated
from predictbench.oracle import Oracle
from predictbench.spaces import SearchSpace
from predictbench.types import Arch, Metric


@dataclass(frozen=True)
class MultiQuery:
    """One charged evaluation: the objectives' values (as measured) and scores (higher is better)."""

    arch: Arch
    values: tuple[float, ...]
    scores: tuple[float, ...]
    seed: int
    cost_seconds: float
    queries: int
    elapsed_seconds: float


class MultiObjectiveOracle:
    """Budgeted, recorded access to several objectives of a benchmark.

    Parameters
    ----------
    benchmark : the table the oracle answers from (never handed to a searcher).
    objectives : two or more objectives (``"metric@fidelity"``, ``"metric"`` or MetricRef); default: the store's
        search metric and a second objective it declares (see
        :func:`~predictbench.multiobjective.objectives.default_objectives`).
    budget, time_budget, cost_metric, seed, sample_repeats : as for :class:`~predictbench.oracle.Oracle`; the
        budget counts distinct architectures, once, whatever the number of objectives.

    Examples
    --------
    >>> oracle = MultiObjectiveOracle(bench, objectives=["valid_acc@12", "edgegpu_latency"],
    ...                               budget=100)  # doctest: +SKIP
    >>> oracle.evaluate(archs).shape  # doctest: +SKIP
    (5, 2)
    """

    def __init__(
        self,
        benchmark: TabularBenchmark,
        *,
        objectives: Sequence[ObjectiveLike] | None = None,
        budget: int | None = None,
        time_budget: float | None = None,
        cost_metric: str | None = "auto",
        seed: int = 0,
        sample_repeats: bool = True,
    ) -> None:
        refs = default_objectives(benchmark) if objectives is None else search_objectives(benchmark, objectives)
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
            raise ValueError(f"budget must be a positive int or None, got {budget!r}")
        self._oracles = [
            Oracle(
                benchmark,
                metric=ref,
                budget=budget if i == 0 else None,
                time_budget=time_budget if i == 0 else None,
                cost_metric=cost_metric if i == 0 else None,
                seed=seed,
                sample_repeats=sample_repeats,
            )
            for i, ref in enumerate(refs)
        ]
        self.objectives: tuple[MetricRef, ...] = refs
        self.metrics: tuple[Metric, ...] = tuple(benchmark.metric(ref.metric) for ref in refs)
        self.history: list[MultiQuery] = []

    @property
    def _primary(self) -> Oracle:
        return self._oracles[0]

    @property
    def space(self) -> SearchSpace:
        return self._primary.space

    @property
    def budget(self) -> int | None:
        return self._primary.budget

    @property
    def queries(self) -> int:
        """Distinct architectures evaluated so far (what the budget counts)."""
        return self._primary.queries

    @property
    def remaining(self) -> float:
        return self._primary.remaining

    @property
    def elapsed_seconds(self) -> float:
        return self._primary.elapsed_seconds

    def seen(self, arch: Arch) -> bool:
        return self._primary.seen(arch)

    def evaluate(self, archs: Sequence[Arch]) -> np.ndarray:
        """Scores (higher is better), shape (len(archs), objectives); charges each new architecture once.

        Raises :class:`~predictbench.types.BudgetExhausted` at the first new architecture beyond the budget; the
        architectures before it stay evaluated and recorded.
        """
        scores = np.empty((len(archs), len(self._oracles)))
        for i, arch in enumerate(archs):
            new = not self._primary.seen(arch)
            scores[i, 0] = self._primary.measure([arch])[0]  # the budget check and charge
            for j, oracle in enumerate(self._oracles[1:], 1):
                scores[i, j] = oracle.measure([arch])[0]
            if new:
                first = self._primary.history[-1]
                values = tuple(o.history[-1].value for o in self._oracles)
                self.history.append(
                    MultiQuery(
                        arch,
                        values,
                        tuple(float(s) for s in scores[i]),
                        first.seed,
                        first.cost_seconds,
                        first.queries,
                        first.elapsed_seconds,
                    )
                )
        return scores

    def score_matrix(self) -> np.ndarray:
        """Scores of every evaluated architecture in query order, shape (queries, objectives)."""
        return np.array([q.scores for q in self.history], dtype=float).reshape(-1, len(self._oracles))

    def front(self) -> list[MultiQuery]:
        """The evaluated architectures no other evaluated one dominates, in query order.

        A cell missing a value of any objective is not a candidate (it neither enters the front nor dominates).
        """
        complete = [q for q in self.history if not np.isnan(q.scores).any()]
        if not complete:
            return []
        mask = non_dominated(np.array([q.scores for q in complete], dtype=float))
        return [q for q, keep in zip(complete, mask, strict=True) if keep]

    def __repr__(self) -> str:
        names = ", ".join(f"{r.metric}@{r.fidelity}" for r in self.objectives)
        budget = "unlimited" if self.budget is None else self.budget
        return f"MultiObjectiveOracle([{names}], {self.queries}/{budget} queries)"
