"""SearchStudy: searchers x seeds on a benchmark at a budget, recorded per run and resumable.

Each run gets its searcher seed and oracle seed from ``spawn(seed, ...)`` (paired across searchers). A record holds
the whole trajectory: for every query, the simulated elapsed seconds, the incumbent's search-metric value (the
best seen by the signal the searcher was given) and the incumbent's REPORTED value (e.g. 200-epoch test accuracy),
which the study reads from the benchmark after the run; the searcher never sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench import __version__
from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import MetricRef
from predictbench.oracle import Oracle, check_budget, check_search_metric
from predictbench.rng import spawn
from predictbench.search import make_searcher, run_search
from predictbench.studies import search_runs
from predictbench.studies.results import store_provenance

log = logging.getLogger(__name__)

OracleFactory = Callable[..., Oracle]
"""``factory(bench, budget=..., seed=...) -> Oracle``: another signal than a table column (e.g. a supernet)."""


def incumbent_trajectory(oracle: Oracle, reported: np.ndarray, codes: np.ndarray) -> dict[str, list[float]]:
    """Per query: elapsed seconds, best search value so far, and the reported value of that incumbent."""
    best_score = -np.inf
    incumbent_value = incumbent_report = float("nan")
    out: dict[str, list[float]] = {"elapsed": [], "incumbent_search": [], "incumbent_report": []}
    for query, code in zip(oracle.history, codes, strict=True):
        if query.score > best_score:
            best_score, incumbent_value, incumbent_report = query.score, query.value, float(reported[code])
        out["elapsed"].append(query.elapsed_seconds)
        out["incumbent_search"].append(incumbent_value)
        out["incumbent_report"].append(incumbent_report)
    return out


def run_one(
    bench: TabularBenchmark,
    searcher: str,
    options: Mapping[str, Any],
    *,
    budget: int,
    seed: int,
    search: MetricRef,
    report: MetricRef,
    oracle_factory: OracleFactory | None = None,
) -> dict[str, Any]:
    """One search run; returns its record (without the study's id fields)."""
    oracle_seed = int(spawn(seed, "oracle-seed").integers(2**31))
    if oracle_factory is None:
        oracle = Oracle(bench, metric=search, budget=budget, seed=oracle_seed)
    else:
        oracle = oracle_factory(bench, budget=budget, seed=oracle_seed)
    instance = make_searcher(searcher, bench.space, seed=int(spawn(seed, "searcher-seed").integers(2**31)), **options)
    run_search(instance, oracle)
    codes = bench.codes([q.arch for q in oracle.history])
    reported = bench.column(report.metric, fidelity=report.fidelity)
    signal = oracle.metric
    hit = np.array([], dtype=np.int64)
    if signal == search:  # the optimum of the signal is known only for a column of the table
        search_values = bench.column(search.metric, fidelity=search.fidelity)
        optimum = np.nanmax(bench.metric(search.metric).to_score(search_values))
        hit = np.flatnonzero(np.array([q.score for q in oracle.history]) >= optimum)
    record: dict[str, Any] = incumbent_trajectory(oracle, reported, codes)
    final = oracle.best()
    record.update(
        {
            "queries": oracle.queries,
            "final_arch": final.arch.key,
            "final_search": final.value,
            "final_report": float(reported[bench.codes([final.arch])[0]]),
            "queries_to_optimum": int(hit[0]) + 1 if len(hit) else None,
            "search_metric": f"{signal.metric}@{signal.fidelity}",
            "report_metric": f"{report.metric}@{report.fidelity}",
            "component": searcher,
            "options": dict(options),
            "version": __version__,
        }
    )
    return record


def _worker(args: tuple[Any, ...]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    ident, bench_name, root, searcher, options, budget, seed, search, report = args
    bench = search_runs.worker_benchmark(bench_name, str(root))
    return ident, run_one(bench, searcher, options, budget=budget, seed=seed, search=search, report=report)


@dataclass
class SearchStudy:
    """Searchers x seeds at one budget on one benchmark.

    ``searchers`` maps a label to ``(registered name, options)`` or just options for the registered name equal to
    the label. Results are appended per run; a rerun skips recorded runs. ``jobs > 1`` runs ``jobs`` runs at a
    time on ``engine`` (:mod:`predictbench.studies.engines`: ``"local"`` processes, ``"dask"`` — a new local
    cluster or the scheduler at ``address`` — or an Executor you own); the benchmark is then loaded by name in
    each worker. ``oracle_factory`` (called as ``factory(bench, budget=..., seed=...)``) replaces the table Oracle,
    e.g. by a :class:`~predictbench.supernet.oracle.SupernetOracle`; its runs stay in this process.

    Examples
    --------
    >>> study = SearchStudy("nb201/cifar10", {"random": {}, "evolution": {}}, budget=100, seeds=10,
    ...                     results="search.jsonl")  # doctest: +SKIP
    >>> frame = study.run()  # doctest: +SKIP
    """

    benchmark: str | TabularBenchmark
    searchers: Mapping[str, Mapping[str, Any] | tuple[str, Mapping[str, Any]]]
    results: str | Path
    budget: int = 100
    seeds: int | Sequence[int] = 20
    search_metric: MetricRef | None = None
    report_metric: MetricRef | None = None
    name: str = "search-study"
    jobs: int = 1
    root: str | Path | None = None
    engine: str | Executor = "local"
    address: str | None = None
    oracle_factory: OracleFactory | None = None
    _bench: TabularBenchmark | None = field(default=None, init=False, repr=False)

    @property
    def bench(self) -> TabularBenchmark:
        if self._bench is None:
            self._bench = search_runs.as_benchmark(self.benchmark, self.root)
        return self._bench

    def _resolved(self) -> tuple[MetricRef, MetricRef]:
        bench = self.bench
        search = self.search_metric or bench.search_metric
        report = self.report_metric or bench.report_metric
        if search is None or report is None:
            raise ValueError(f"{bench.name}: declare search_metric and report_metric for this benchmark")
        return search, report

    def check(self) -> tuple[MetricRef, MetricRef]:
        """The search and report metrics, after refusing what no run could do (ValueError): a budget beyond the
        table's cells, or a test metric as the search signal of the table Oracle."""
        search, report = self._resolved()
        check_budget(self.bench, self.budget)
        if self.oracle_factory is None:
            check_search_metric(self.bench, search.metric)
        return search, report

    def run(self, progress: search_runs.Progress | None = None) -> pd.DataFrame:
        search, report = self.check()
        seeds = list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)
        bench = self.bench
        store = store_provenance(bench)
        grid = search_runs.RunGrid(
            self.results,
            search_runs.grid_runs(self.name, bench.name, self.searchers, self.budget, seeds),
            summary=lambda record: f"final={record['final_report']:.2f}",
            progress=progress,
            extra=store,
            settings=search_runs.grid_settings(self.searchers, store["store_sha256"]),
        )
        in_workers = search_runs.runs_in_workers(self.benchmark, self.engine, self.jobs, self.address)
        if in_workers and self.oracle_factory is None and grid.todo:
            root = search_runs.worker_root(bench, self.root)
            specs = {label: search_runs.searcher_spec(self.searchers, label) for label in self.searchers}
            grid.run_in_workers(
                _worker,
                lambda run: (run, bench.name, root, *specs[run.searcher], self.budget, run.seed, search, report),
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
                    oracle_factory=self.oracle_factory,
                )
            )
        return search_runs.recorded(self.results, self.name, bench.name)
