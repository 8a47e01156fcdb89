"""MultiObjectiveStudy: multi-objective searchers x seeds on a benchmark at a budget, one resumable record per run.

A run searches the SEARCH objectives (e.g. 12-epoch validation accuracy and Edge-GPU latency) through a
:class:`~predictbench.multiobjective.oracle.MultiObjectiveOracle`; after the run the study reads the REPORTED
objectives (e.g. 200-epoch test accuracy and the same latency) of the architectures from the benchmark, as
:class:`~predictbench.studies.search_study.SearchStudy` does for a single incumbent. After every query the record
holds the hypervolume of the run's current front (the queried architectures non-dominated by the search signal):

- ``hv_search``: of their search scores, w.r.t. the search objectives' reference point;
- ``hv_report``: of their reported scores, w.r.t. the reported objectives' reference point;
- ``hv_normalised``: ``hv_report`` divided by the hypervolume of the true Pareto front of the whole space (1 = the
  run found the whole true front), the figure reports compare.

It also holds the run's front (``front_keys`` with search and reported values), every query's reported values
(``history_keys``, ``history_report``) and ``search_seconds``, the wall time of the search loop alone.

Reference points follow :func:`~predictbench.multiobjective.hypervolume.reference_point` (nadir of the space's true
front minus a margin), fixed per benchmark and objectives. Searcher and oracle seeds come from ``spawn(seed, ...)``
as in SearchStudy, so runs are paired across searchers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench import __version__
from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import MetricRef
from predictbench.multiobjective import make_mo_searcher
from predictbench.multiobjective.base import run_multiobjective
from predictbench.multiobjective.hypervolume import DEFAULT_MARGIN, hypervolume, reference_point
from predictbench.multiobjective.objectives import (
    ObjectiveLike,
    default_objectives,
    format_ref,
    parse_objectives,
    report_objectives,
    search_objectives,
    space_scores,
)
from predictbench.multiobjective.oracle import MultiObjectiveOracle
from predictbench.multiobjective.pareto import missing_as_worst, non_dominated
from predictbench.oracle import check_budget
from predictbench.rng import spawn
from predictbench.studies import search_runs
from predictbench.studies.results import store_digest, store_provenance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HypervolumeScale:
    """Reference points and true-front hypervolumes of a benchmark's search and reported objectives."""

    reference_search: tuple[float, ...]
    reference_report: tuple[float, ...]
    true_hv_search: float
    true_hv_report: float
    true_front_size: int
    margin: float

    @classmethod
    def of(
        cls,
        bench: TabularBenchmark,
        search: Sequence[MetricRef],
        report: Sequence[MetricRef],
        margin: float = DEFAULT_MARGIN,
    ) -> HypervolumeScale:
        """Computed from every architecture of ``bench`` (cells missing a value count as worst)."""
        search_scores = missing_as_worst(space_scores(bench, search))
        report_scores = missing_as_worst(space_scores(bench, report))
        ref_search = reference_point(_finite_rows(search_scores), margin=margin)
        ref_report = reference_point(_finite_rows(report_scores), margin=margin)
        return cls(
            tuple(float(v) for v in ref_search),
            tuple(float(v) for v in ref_report),
            hypervolume(search_scores, ref_search),
            hypervolume(report_scores, ref_report),
            int(non_dominated(report_scores).sum()),
            float(margin),
        )


def _finite_rows(scores: np.ndarray) -> np.ndarray:
    return scores[np.isfinite(scores).all(axis=1)]


def hypervolume_trajectory(search: np.ndarray, report: np.ndarray, scale: HypervolumeScale) -> dict[str, list[float]]:
    """Per query t: hypervolumes of the front (by search scores) of the first t queries, as search and as reported."""
    out: dict[str, list[float]] = {"hv_search": [], "hv_report": [], "hv_normalised": []}
    for t in range(1, len(search) + 1):
        front = non_dominated(search[:t])
        hv_report = hypervolume(report[:t][front], scale.reference_report)
        out["hv_search"].append(hypervolume(search[:t][front], scale.reference_search))
        out["hv_report"].append(hv_report)
        out["hv_normalised"].append(hv_report / scale.true_hv_report if scale.true_hv_report > 0 else float("nan"))
    return out


def run_one(
    bench: TabularBenchmark,
    searcher: str,
    options: Mapping[str, Any],
    *,
    budget: int,
    seed: int,
    search: Sequence[MetricRef],
    report: Sequence[MetricRef],
    scale: HypervolumeScale,
) -> dict[str, Any]:
    """One multi-objective search run; returns its record (without the study's id fields)."""
    oracle = MultiObjectiveOracle(
        bench, objectives=search, budget=budget, seed=int(spawn(seed, "oracle-seed").integers(2**31))
    )
    instance = make_mo_searcher(
        searcher, bench.space, seed=int(spawn(seed, "searcher-seed").integers(2**31)), **options
    )
    started = time.perf_counter()
    run_multiobjective(instance, oracle)
    seconds = time.perf_counter() - started
    archs = [q.arch for q in oracle.history]
    search_scores = missing_as_worst(oracle.score_matrix())
    codes = bench.codes(archs)
    report_values = np.column_stack([bench.column(r.metric, fidelity=r.fidelity)[codes] for r in report])
    signs = np.array([bench.metric(r.metric).sign for r in report])
    record: dict[str, Any] = hypervolume_trajectory(search_scores, missing_as_worst(report_values * signs), scale)
    on_front = {id(q) for q in oracle.front()}  # a cell missing an objective never is
    front = np.array([i for i, q in enumerate(oracle.history) if id(q) in on_front], dtype=np.int64)
    record.update(
        {
            "queries": oracle.queries,
            "search_seconds": seconds,
            "objectives": [format_ref(r) for r in search],
            "report_objectives": [format_ref(r) for r in report],
            "report_higher_is_better": [bool(bench.metric(r.metric).higher_is_better) for r in report],
            "reference_search": list(scale.reference_search),
            "reference_report": list(scale.reference_report),
            "true_hv_search": scale.true_hv_search,
            "true_hv_report": scale.true_hv_report,
            "true_front_size": scale.true_front_size,
            "reference_margin": scale.margin,
            "final_hv_normalised": record["hv_normalised"][-1] if record["hv_normalised"] else float("nan"),
            "history_keys": [a.key for a in archs],
            "history_report": report_values.tolist(),
            "front_keys": [archs[i].key for i in front],
            "front_search": [list(oracle.history[i].values) for i in front],
            "front_report": report_values[front].tolist(),
            "component": searcher,
            "options": dict(options),
            "version": __version__,
            **store_provenance(bench),
        }
    )
    return record


def _worker(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    ident, bench_name, root, searcher, options, budget, seed, search, report, scale = args
    bench = search_runs.worker_benchmark(bench_name, str(root))
    return ident, run_one(bench, searcher, options, budget=budget, seed=seed, search=search, report=report, scale=scale)


@dataclass
class MultiObjectiveStudy:
    """Multi-objective searchers x seeds at one budget on one benchmark, with hypervolume trajectories.

    ``searchers`` maps a label to ``(registered name, options)`` or just options for the registered name equal to
    the label (registry: :data:`~predictbench.multiobjective.MO_SEARCHERS`). ``objectives`` default to the store's
    search metric and a second declared objective
    (:func:`~predictbench.multiobjective.objectives.default_objectives`); ``report_objectives`` to what each is
    reported as (:func:`~predictbench.multiobjective.objectives.report_objectives`). Results are appended per run;
    a rerun skips recorded runs. ``jobs > 1`` (or an ``engine``/``address``) runs several runs at a time as
    SearchStudy does (:mod:`predictbench.studies.engines`).

    Examples
    --------
    >>> study = MultiObjectiveStudy("nb201/cifar10", {"random": {}, "nsga2": {}, "parego": {}}, budget=100,
    ...                             seeds=20, results="mo.jsonl")  # doctest: +SKIP
    >>> frame = study.run()  # doctest: +SKIP
    >>> study.report("reports/mo")  # doctest: +SKIP
    """

    benchmark: str | TabularBenchmark
    searchers: Mapping[str, Mapping[str, Any] | tuple[str, Mapping[str, Any]]]
    results: str | Path
    budget: int = 100
    seeds: int | Sequence[int] = 20
    objectives: Sequence[ObjectiveLike] | None = None
    report_objectives: Sequence[ObjectiveLike] | None = None
    margin: float = DEFAULT_MARGIN
    name: str = "mo-study"
    jobs: int = 1
    root: str | Path | None = None
    engine: str | Executor = "local"
    address: str | None = None
    _bench: TabularBenchmark | None = field(default=None, init=False, repr=False)

    @property
    def bench(self) -> TabularBenchmark:
        if self._bench is None:
            self._bench = search_runs.as_benchmark(self.benchmark, self.root)
        return self._bench

    def resolved_objectives(self) -> tuple[tuple[MetricRef, ...], tuple[MetricRef, ...]]:
        """The search objectives and what each is reported as."""
        bench = self.bench
        search = default_objectives(bench) if self.objectives is None else search_objectives(bench, self.objectives)
        if self.report_objectives is None:
            return search, report_objectives(bench, search)
        report = parse_objectives(bench, self.report_objectives)
        if len(report) != len(search):
            raise ValueError(
                f"report_objectives must match the {len(search)} objectives one to one, got "
                f"{[format_ref(r) for r in report]} for {[format_ref(r) for r in search]}"
            )
        return search, report

    def run(self, progress: search_runs.Progress | None = None) -> pd.DataFrame:
        """Run what is not recorded yet; returns every record of this study and benchmark."""
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 1:
            raise ValueError(f"budget must be a positive int, got {self.budget!r}")
        check_budget(self.bench, self.budget)
        seeds = list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)
        search, report = self.resolved_objectives()
        bench = self.bench
        grid = search_runs.RunGrid(
            self.results,
            search_runs.grid_runs(self.name, bench.name, self.searchers, self.budget, seeds),
            summary=lambda record: f"hv={record['final_hv_normalised']:.3f}",
            progress=progress,
            settings=search_runs.grid_settings(self.searchers, store_digest(bench)),
        )
        if grid.todo:
            scale = HypervolumeScale.of(bench, search, report, self.margin)
            if search_runs.runs_in_workers(self.benchmark, self.engine, self.jobs, self.address):
                root = search_runs.worker_root(bench, self.root)
                specs = {label: search_runs.searcher_spec(self.searchers, label) for label in self.searchers}
                grid.run_in_workers(
                    _worker,
                    lambda run: (
                        run,
                        bench.name,
                        root,
                        *specs[run.searcher],
                        self.budget,
                        run.seed,
                        search,
                        report,
                        scale,
                    ),
                    engine=self.engine,
                    jobs=self.jobs,
                    address=self.address,
                )
            else:
                grid.run_here(
                    lambda run: run_one(
                        bench,
                        *search_runs.searcher_spec(self.searchers, run.searcher),
                        budget=self.budget,
                        seed=run.seed,
                        search=search,
                        report=report,
                        scale=scale,
                    )
                )
        return self.records()

    def records(self) -> pd.DataFrame:
        """The recorded runs of this study and benchmark."""
        return search_runs.recorded(self.results, self.name, self.bench.name)

    def report(self, out_dir: str | Path, records: pd.DataFrame | None = None, *, title: str = "") -> Path:
        """Write the study's report (README.md and figures) to ``out_dir``, the whole space's cloud included."""
        from predictbench.multiobjective.objectives import space_values
        from predictbench.multiobjective.report import multiobjective_report

        frame = self.records() if records is None else records
        _, report = self.resolved_objectives()
        cloud = space_values(self.bench, report)
        title = title or f"Multi-objective search: {self.bench.name}"
        return multiobjective_report(frame, out_dir, cloud=cloud, title=title)
