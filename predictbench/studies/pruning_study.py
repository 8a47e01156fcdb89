"""PruningStudy: GBDT/SHAP search-space pruning configurations x seeds, one resumable record per run.

Each run is a :class:`~predictbench.search.pruning.PrunedSearch` searching through an Oracle (the store's search
signal, a budget of distinct architectures). Its record keeps, per pruning round, the queries before it, the
size and pruned fraction of the constrained space, the choices newly pruned and pairs newly forbidden, and
whether the optimum by the search signal and the optimum by the reported metric are still in the space; plus the
run's final incumbent, its reported value, and the keys of both optima. The reported metric is read by the study
after the run, never by the search. Seeds come from ``spawn(seed, ...)``, so every configuration sees the same
oracle streams for a seed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from predictbench import __version__
from predictbench.benchmarks import TabularBenchmark, load
from predictbench.benchmarks.store import MetricRef
from predictbench.oracle import Oracle
from predictbench.rng import spawn
from predictbench.search import run_search
from predictbench.studies.results import CELL_FIELDS, ResultsFile, check_settings, read_results, store_provenance
from predictbench.validation import check_int

log = logging.getLogger(__name__)

ID_FIELDS = CELL_FIELDS["config"]
Progress = Callable[[int, int, str], None]


def run_pruning(
    bench: TabularBenchmark,
    options: Mapping[str, Any],
    *,
    budget: int,
    seed: int,
    search: MetricRef,
    report: MetricRef,
) -> dict[str, Any]:
    """One pruned search run on ``bench``; returns its record (without the study's id fields)."""
    from predictbench.search.pruning import PrunedSearch

    searcher = PrunedSearch(bench.space, seed=int(spawn(seed, "pruning-seed").integers(2**31)), **options)
    oracle = Oracle(bench, metric=search, budget=budget, seed=int(spawn(seed, "oracle-seed").integers(2**31)))
    run_search(searcher, oracle)
    search_optimum = bench.best(search.metric, fidelity=search.fidelity)[0]
    report_optimum = bench.best(report.metric, fidelity=report.fidelity)[0]
    rounds = [
        {
            "round": entry.round,
            "queries": entry.queries,
            "size": len(entry.space),
            "fraction_pruned": entry.space.fraction_pruned,
            "pruned": [label for label, _ in entry.result.pruned],
            "forbidden": [f"{a}&{b}" for a, b, _ in entry.result.forbidden],
            "search_optimum_survives": entry.space.is_valid(search_optimum),
            "report_optimum_survives": entry.space.is_valid(report_optimum),
        }
        for entry in searcher.history
    ]
    final = oracle.best()
    return {
        "rounds": rounds,
        "space_size": len(bench.space),
        "queries": oracle.queries,
        "final_arch": final.arch.key,
        "final_search": final.value,
        "final_report": float(bench.lookup([final.arch], report.metric, fidelity=report.fidelity)[0]),
        "search_optimum": search_optimum,
        "report_optimum": report_optimum,
        "search_metric": f"{search.metric}@{search.fidelity}",
        "report_metric": f"{report.metric}@{report.fidelity}",
        "options": dict(options),
        "version": __version__,
    }


@dataclass
class PruningStudy:
    """Pruning configurations x seeds at one budget on one benchmark.

    Parameters
    ----------
    benchmark : a converted store's name or a loaded benchmark (an enumerable space, e.g. NB201).
    configs : label -> :class:`~predictbench.search.pruning.PrunedSearch` options (``{}``: its defaults).
    results : the JSON-lines results file; a rerun skips the (config, seed) runs it already holds.
    budget : distinct architectures per run.
    seeds : a count (0..n-1) or explicit seeds.
    root : data root to load ``benchmark`` from (default: the library's).

    Examples
    --------
    >>> study = PruningStudy("nb201-analog/cifar10", {"default": {}, "4 rounds": {"rounds": 4,
    ...                      "queries_per_round": 20}}, results="pruning.jsonl", budget=100, seeds=5)  # doctest: +SKIP
    >>> frame = study.run()  # doctest: +SKIP
    """

    benchmark: str | TabularBenchmark
    configs: Mapping[str, Mapping[str, Any]]
    results: str | Path
    budget: int = 100
    seeds: int | Sequence[int] = 10
    name: str = "pruning-study"
    root: str | Path | None = None
    _bench: TabularBenchmark | None = field(default=None, init=False, repr=False)

    @property
    def bench(self) -> TabularBenchmark:
        if self._bench is None:
            if isinstance(self.benchmark, TabularBenchmark):
                self._bench = self.benchmark
            else:
                self._bench = load(self.benchmark, root=self.root)
        return self._bench

    def _resolved(self) -> tuple[MetricRef, MetricRef]:
        bench = self.bench
        if bench.search_metric is None or bench.report_metric is None:
            raise ValueError(f"{bench.name}: the store declares no search and report metric for a pruning study")
        return bench.search_metric, bench.report_metric

    def run(self, progress: Progress | None = None) -> pd.DataFrame:
        """Run every missing (config, seed); return all records of this study on this benchmark."""
        check_int("budget", self.budget, 1)
        if not self.configs:
            raise ValueError("PruningStudy needs at least one configuration")
        seeds = list(range(self.seeds)) if isinstance(self.seeds, int) else [int(s) for s in self.seeds]
        search, report = self._resolved()
        bench = self.bench
        out = ResultsFile(self.results)
        store = store_provenance(bench)
        with out.locked():
            current = {label: {"options": options, **store} for label, options in self.configs.items()}
            check_settings(out.path, out.records(), "config", current, study=self.name, benchmark=bench.name)
            done = out.done(ID_FIELDS)
            cells = [(label, seed) for seed in seeds for label in self.configs]
            for position, (label, seed) in enumerate(cells, 1):
                ident = (self.name, bench.name, label, self.budget, seed)
                if ident in done:
                    if progress:
                        progress(position, len(cells), f"{label} seed={seed} (recorded)")
                    continue
                record = run_pruning(
                    bench, self.configs[label], budget=self.budget, seed=seed, search=search, report=report
                )
                record.update(dict(zip(ID_FIELDS, ident, strict=True)))
                record.update(store)
                out.append(record)
                if progress:
                    progress(position, len(cells), f"{label} seed={seed} final={record['final_report']:.2f}")
        frame = read_results(self.results)
        return frame[(frame["study"] == self.name) & (frame["benchmark"] == bench.name)].reset_index(drop=True)
