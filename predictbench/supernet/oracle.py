"""SupernetOracle: a search loop's budgeted access to a supernet adapter's scores instead of a table's metric.

It presents the :class:`~predictbench.oracle.Oracle` interface (``evaluate``, ``queries``, ``remaining``,
``history``, ``best``, ``elapsed_seconds``), so :func:`~predictbench.search.run_search` and
:class:`~predictbench.studies.search_study.SearchStudy` (through its ``oracle_factory``) take it unchanged: the
searcher's signal is the adapter's score; the study still reports the benchmark's test metric of the incumbent,
which the searcher never sees.

Its own cost model: ``setup_seconds`` (e.g. the supernet's training time) is charged before the first query and
``cost_seconds`` per distinct architecture (a number, or a function of the Arch). Both default to 0, so records
stay deterministic; pass measured figures to compare with tabular searches in simulated time. Budgets count
distinct architectures, as the table Oracle does; a repeated query is answered from the record for free.

Examples
--------
>>> oracle = SupernetOracle(bench, adapter, budget=100, setup_seconds=adapter.fit_seconds_)  # doctest: +SKIP
>>> run_search(make_searcher("evolution", bench.space, seed=0), oracle).best()  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import SEED_MEAN, MetricRef
from predictbench.oracle import Oracle, Query, key_rows
from predictbench.supernet.adapter import SupernetAdapter, check_scores
from predictbench.types import Arch, BudgetExhausted

__all__ = ["SupernetOracle"]

CostModel = float | Callable[[Arch], float]


class SupernetOracle(Oracle):
    """Budgeted, recorded access to a fitted supernet adapter's scores.

    Parameters
    ----------
    benchmark
        The table whose space is searched; only used to check that a cell belongs to it (never read for scores).
    adapter
        A fitted :class:`~predictbench.supernet.adapter.SupernetAdapter` over ``benchmark.space``.
    budget, time_budget
        Maximum distinct architectures and maximum simulated seconds (None: no limit).
    cost_seconds
        Simulated seconds charged per distinct architecture: a number or a function ``arch -> seconds``.
    setup_seconds
        Simulated seconds charged once, before the first query (the supernet's training).
    name, fidelity
        The signal's name in records (``supernet:<name>``) and its fidelity (e.g. the supernet's epochs).
    seed
        Kept for the Oracle signature; adapter scores are deterministic, so nothing is drawn.
    """

    def __init__(
        self,
        benchmark: TabularBenchmark,
        adapter: SupernetAdapter,
        *,
        budget: int | None = None,
        time_budget: float | None = None,
        cost_seconds: CostModel = 0.0,
        setup_seconds: float = 0.0,
        name: str | None = None,
        fidelity: int | None = None,
        seed: int = 0,
    ) -> None:
        # Oracle's bookkeeping attributes, set here: the table-specific part of its __init__ does not apply.
        if not callable(getattr(adapter, "score", None)):
            raise TypeError(
                f"adapter must be a SupernetAdapter with a score(archs) method, got {type(adapter).__name__}"
            )
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 0):
            raise ValueError(f"budget must be None or a non-negative int, got {budget!r}")
        if not callable(cost_seconds) and (not isinstance(cost_seconds, (int, float)) or cost_seconds < 0):
            raise ValueError(
                f"cost_seconds must be a non-negative number or a function of the Arch, got {cost_seconds!r}"
            )
        if not isinstance(setup_seconds, (int, float)) or setup_seconds < 0 or math.isnan(setup_seconds):
            raise ValueError(f"setup_seconds must be a non-negative number, got {setup_seconds!r}")
        self._space = benchmark.space
        self._name = benchmark.name
        self._rows = key_rows(benchmark)
        self.adapter = adapter
        label = name or str(getattr(adapter, "name", type(adapter).__name__))
        epochs = fidelity if fidelity is not None else int(getattr(adapter, "epochs_", 0))
        self.metric = MetricRef(f"supernet:{label}", int(epochs))
        self.budget = budget
        self.time_budget = time_budget
        self.cost_metric = None
        self.cost_seconds = cost_seconds
        self.setup_seconds = float(setup_seconds)
        self.seed = seed
        self._values: dict[str, tuple[float, int]] = {}
        self.history: list[Query] = []
        self.elapsed_seconds = 0.0

    def _cost(self, arch: Arch) -> float:
        cost = self.cost_seconds(arch) if callable(self.cost_seconds) else self.cost_seconds
        return 0.0 if math.isnan(float(cost)) else float(cost)

    def evaluate(self, archs: Sequence[Arch]) -> np.ndarray:
        """Adapter scores (higher is better); charges each new architecture once, in order, within the budgets."""
        new: list[Arch] = []
        planned = self.elapsed_seconds + (self.setup_seconds if not self.history else 0.0)
        for arch in archs:
            if arch.key in self._values or any(a.key == arch.key for a in new):
                continue
            if self.budget is not None and self.queries + len(new) >= self.budget:
                break
            if self.time_budget is not None and planned >= self.time_budget:
                break
            planned += self._cost(arch)
            new.append(arch)
        if new:
            for arch in new:
                self._row(arch)  # OutOfSpaceError for cells the table lacks
            values = check_scores(self.adapter.score(new), len(new), repr(self.adapter))
            for arch, value in zip(new, values, strict=True):
                if not self.history:
                    self.elapsed_seconds += self.setup_seconds
                cost = self._cost(arch)
                self.elapsed_seconds += cost
                self._values[arch.key] = (float(value), SEED_MEAN)
                self.history.append(
                    Query(arch, float(value), float(value), SEED_MEAN, cost, self.queries, self.elapsed_seconds)
                )
        missing = [a for a in archs if a.key not in self._values]
        if missing:
            if self.budget is not None and self.queries >= self.budget:
                raise BudgetExhausted(f"budget of {self.budget} distinct architectures is spent")
            raise BudgetExhausted(f"simulated time budget of {self.time_budget:.0f} s is spent")
        return np.array([self._values[a.key][0] for a in archs], dtype=float)
