"""Which metrics a multi-objective search optimises, how they are reported, and their scores over a whole space.

An objective is a :class:`~predictbench.benchmarks.store.MetricRef` (metric at a fidelity); its direction is the
one its :class:`~predictbench.types.Metric` declares. Written as text: ``"valid_acc@12"`` or ``"edgegpu_latency"``
(the store's default fidelity, or the only one the metric has).

Defaults (:func:`default_objectives`): the store's search metric plus the first of :data:`SECOND_OBJECTIVES` the
store has: HW-NAS-Bench Edge-GPU latency on the NB201 tables, analog-hardware accuracy after one day of
conductance drift on ``nb201-analog/cifar10``. Reported objectives (:func:`report_objectives`): the store's search
metric is reported as its report metric (e.g. 12-epoch validation accuracy -> 200-epoch test accuracy); every
other objective as itself.

Objectives are what a search sees, so a test metric (:func:`~predictbench.oracle.hidden_metrics`) is refused as
an objective (:func:`search_objectives`); it may be what an objective is REPORTED as.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import MetricRef

ObjectiveLike = MetricRef | str

#: Second objective of the default pair, first present in the store wins.
SECOND_OBJECTIVES: tuple[str, ...] = ("edgegpu_latency", "analog_drift_86400")


def parse_objective(bench: TabularBenchmark, objective: ObjectiveLike) -> MetricRef:
    """``"metric@fidelity"``, ``"metric"`` or a MetricRef as a MetricRef checked against ``bench``.

    Examples
    --------
    >>> parse_objective(bench, "valid_acc@12")  # doctest: +SKIP
    MetricRef(metric='valid_acc', fidelity=12)
    """
    if isinstance(objective, MetricRef):
        bench.fidelities_of(objective.metric)  # unknown metric: raises naming the known ones
        if objective.fidelity not in bench.fidelities_of(objective.metric):
            raise ValueError(
                f"{bench.name}: objective {objective.metric!r} has no values at fidelity {objective.fidelity}; "
                f"available: {list(bench.fidelities_of(objective.metric))}"
            )
        return objective
    if not isinstance(objective, str) or not objective:
        raise TypeError(f"an objective is 'metric', 'metric@fidelity' or a MetricRef, got {objective!r}")
    name, _, fidelity = objective.partition("@")
    if fidelity and not fidelity.isdigit():
        raise ValueError(f"objective {objective!r}: the fidelity after '@' must be an integer, got {fidelity!r}")
    return MetricRef(name, bench._resolve_fidelity(name, int(fidelity) if fidelity else None))


def parse_objectives(bench: TabularBenchmark, objectives: Sequence[ObjectiveLike]) -> tuple[MetricRef, ...]:
    """Several objectives (at least two, no duplicates) checked against ``bench``."""
    if isinstance(objectives, (str, MetricRef)):
        raise TypeError(f"objectives must be a sequence of objectives, got the single objective {objectives!r}")
    refs = tuple(parse_objective(bench, o) for o in objectives)
    if len(refs) < 2:
        raise ValueError(f"a multi-objective search needs at least 2 objectives, got {[format_ref(r) for r in refs]}")
    if len(set(refs)) < len(refs):
        raise ValueError(f"objectives must be distinct, got {[format_ref(r) for r in refs]}")
    return refs


def search_objectives(bench: TabularBenchmark, objectives: Sequence[ObjectiveLike]) -> tuple[MetricRef, ...]:
    """:func:`parse_objectives`, refusing a test metric (objectives are what the search sees)."""
    from predictbench.oracle import check_search_metric

    refs = parse_objectives(bench, objectives)
    for ref in refs:
        check_search_metric(bench, ref.metric, what="objective")
    return refs


def default_objectives(bench: TabularBenchmark) -> tuple[MetricRef, ...]:
    """The store's search metric and the first of :data:`SECOND_OBJECTIVES` the store has."""
    if bench.search_metric is None:
        raise ValueError(f"{bench.name} declares no search metric; pass objectives=[...] explicitly")
    for name in SECOND_OBJECTIVES:
        if name in bench.metrics:
            return (bench.search_metric, parse_objective(bench, name))
    raise ValueError(
        f"{bench.name} has none of the default second objectives {list(SECOND_OBJECTIVES)}; "
        "pass objectives=[...] explicitly"
    )


def report_objectives(bench: TabularBenchmark, objectives: Sequence[MetricRef]) -> tuple[MetricRef, ...]:
    """What each objective is reported as: the search metric as the report metric, the others as themselves."""
    search, report = bench.search_metric, bench.report_metric
    return tuple(report if ref == search and report is not None else ref for ref in objectives)


def format_ref(ref: MetricRef) -> str:
    """``"metric@fidelity"``, the text form :func:`parse_objective` reads."""
    return f"{ref.metric}@{ref.fidelity}"


def space_values(bench: TabularBenchmark, objectives: Sequence[MetricRef]) -> np.ndarray:
    """Values of every objective for every architecture in store order, shape (n_archs, m); NaN where missing."""
    return np.column_stack([bench.column(r.metric, fidelity=r.fidelity) for r in objectives])


def space_scores(bench: TabularBenchmark, objectives: Sequence[MetricRef]) -> np.ndarray:
    """Like :func:`space_values` but as higher-is-better scores (each metric's declared direction)."""
    values = space_values(bench, objectives)
    signs = np.array([bench.metric(r.metric).sign for r in objectives])
    return np.asarray(values * signs)
