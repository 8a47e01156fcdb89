"""The runs of a searcher study (searchers x seeds at one budget on one benchmark): skip, run, record.

SearchStudy and MultiObjectiveStudy share this skeleton. A run is identified by its :class:`RunId` (study,
benchmark, searcher label, budget, seed); the runs the results file already holds are skipped; the others run in
this process, or on an executor (:mod:`predictbench.studies.engines`) whose workers load the benchmark by name, once
per process; the calling process alone appends each finished record, stamped with its id fields, while it holds
the results file (:meth:`~predictbench.studies.results.ResultsFile.locked`). Records of a label recorded with
other settings (searcher, options, store) are refused, never counted as done
(:func:`~predictbench.studies.results.check_settings`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from predictbench.benchmarks import TabularBenchmark, load
from predictbench.studies.engines import open_executor
from predictbench.studies.results import ResultsFile, check_settings, read_results

Progress = Callable[[int, int, str], None]
Record = dict[str, Any]
SearcherSpecs = Mapping[str, Mapping[str, Any] | tuple[str, Mapping[str, Any]]]


class RunId(NamedTuple):
    """The id fields of a run's record (a tuple, so it compares equal to the ids a results file holds)."""

    study: str
    benchmark: str
    searcher: str
    budget: int
    seed: int


ID_FIELDS = RunId._fields


def grid_runs(study: str, benchmark: str, labels: Iterable[str], budget: int, seeds: Sequence[int]) -> list[RunId]:
    """Every run of the grid, seed by seed and, within a seed, searcher by searcher."""
    labels = list(labels)
    return [RunId(study, benchmark, label, budget, seed) for seed in seeds for label in labels]


def searcher_spec(searchers: SearcherSpecs, label: str) -> tuple[str, dict[str, Any]]:
    """The registered name and options of ``label``: ``(name, options)``, or options for the searcher ``label``."""
    spec = searchers[label]
    if isinstance(spec, tuple):
        return spec[0], dict(spec[1])
    return label, dict(spec)


def grid_settings(searchers: SearcherSpecs, store_sha256: str) -> dict[str, dict[str, Any]]:
    """Per label, what its records must agree on: the searcher, its options and the store digest."""
    out = {}
    for label in searchers:
        name, options = searcher_spec(searchers, label)
        out[label] = {"component": name, "options": options, "store_sha256": store_sha256}
    return out


def as_benchmark(benchmark: str | TabularBenchmark, root: str | Path | None) -> TabularBenchmark:
    """``benchmark`` itself, or the store of that name loaded from ``root``."""
    return benchmark if isinstance(benchmark, TabularBenchmark) else load(benchmark, root=root)


@functools.cache
def worker_benchmark(name: str, root: str) -> TabularBenchmark:
    """The benchmark a worker process runs on, loaded by name once per process."""
    return load(name, root=root)


def worker_root(bench: TabularBenchmark, root: str | Path | None) -> str:
    """The data root workers load ``bench`` from by name: ``root``, or the one ``bench`` was loaded from."""
    return str(root if root is not None else bench.path.parents[len(Path(bench.name).parts) - 1])


def runs_in_workers(benchmark: str | TabularBenchmark, engine: str | Executor, jobs: int, address: str | None) -> bool:
    """Whether a study's runs go to an executor: its settings ask for one and workers can load ``benchmark`` by name.

    Otherwise they run in this process (a benchmark passed as an object stays here).
    """
    asked = jobs > 1 or isinstance(engine, Executor) or address is not None
    return asked and not isinstance(benchmark, TabularBenchmark)


def recorded(results: str | Path, study: str, benchmark: str) -> pd.DataFrame:
    """The records of ``study`` on ``benchmark`` in the results file."""
    frame = read_results(results)
    return frame[(frame["study"] == study) & (frame["benchmark"] == benchmark)].reset_index(drop=True)


class RunGrid:
    """The runs of a study's grid that its results file lacks, and the recording of each one as it finishes.

    Parameters
    ----------
    results
        The study's results file.
    runs
        Every run of the grid (:func:`grid_runs`), in the order they run in this process.
    summary
        The end of a finished run's progress message (e.g. ``final=93.41``), from its record.
    progress
        Called as ``progress(finished, total, message)`` after each run.
    extra
        Fields added to every record (e.g. the store's provenance).
    settings
        Per label, the settings its recorded runs must have (:func:`grid_settings`); a results file holding a
        label of this study with others raises :class:`~predictbench.studies.results.SettingsMismatchError`.

    Examples
    --------
    >>> grid = RunGrid("search.jsonl", grid_runs("s", "nb201/cifar10", ["random"], 100, [0, 1]),
    ...                summary=lambda record: f"final={record['final_report']:.2f}")  # doctest: +SKIP
    >>> grid.run_here(lambda run: {"final_report": 93.4})  # doctest: +SKIP
    """

    def __init__(
        self,
        results: str | Path,
        runs: Sequence[RunId],
        *,
        summary: Callable[[Record], str],
        progress: Progress | None = None,
        extra: Mapping[str, Any] | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.out = ResultsFile(results)
        self.runs = list(runs)
        self.settings = dict(settings or {})
        self.total = len(self.runs)
        self._pending()
        self.summary = summary
        self.progress = progress
        self.extra = dict(extra or {})
        if progress and self.finished:  # a resumed grid starts at what is recorded, not at 0/N
            progress(self.finished, self.total, f"{self.finished} recorded before")

    def _pending(self) -> None:
        """Read what the results file holds: check its settings, set ``todo`` and ``finished``."""
        records = self.out.records()
        for study, benchmark in {(run.study, run.benchmark) for run in self.runs}:
            check_settings(self.out.path, records, "searcher", self.settings, study=study, benchmark=benchmark)
        done = self.out.done(ID_FIELDS)
        self.todo = [run for run in self.runs if run not in done]
        self.finished = self.total - len(self.todo)

    @contextmanager
    def _holding(self) -> Iterator[None]:
        """Hold the results file while running; what is pending is read again under the lock."""
        with self.out.locked():
            self._pending()
            yield

    def record(self, run: Sequence[Any], record: Record) -> None:
        """Append a finished run's record with its id fields (and ``extra``); report progress."""
        run = RunId(*run)
        record.update(run._asdict())
        record.update(self.extra)
        self.out.append(record)
        self.finished += 1
        if self.progress:
            self.progress(self.finished, self.total, f"{run.searcher} seed={run.seed} {self.summary(record)}")

    def run_here(self, execute: Callable[[RunId], Record]) -> None:
        """Run every pending run in this process, in grid order: ``execute(run)`` returns its record."""
        with self._holding():
            for run in self.todo:
                self.record(run, execute(run))

    def run_in_workers(
        self,
        worker: Callable[[Any], tuple[Sequence[Any], Record]],
        make_args: Callable[[RunId], Any],
        *,
        engine: str | Executor,
        jobs: int,
        address: str | None,
    ) -> None:
        """Submit ``worker(make_args(run))`` for every pending run; record each ``(run, record)`` it returns."""
        with self._holding(), open_executor(engine, jobs, address) as pool:
            for future in as_completed([pool.submit(worker, make_args(run)) for run in self.todo]):
                self.record(*future.result())
