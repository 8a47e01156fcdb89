"""PredictorStudy: train predictors on growing training sets and measure ranking quality on held-out cells.

Protocol (paired and honest):

- the cells with a finite target are shuffled by ``spawn(seed, "predictor-split", benchmark)``; the first
  ``test_size`` form the test set and the training set of size n is the first n of the remaining cells, so the
  split depends only on (benchmark, seed) — never on which predictors run — and training sets are nested;
- every predictor sees the same training cells, is seeded from ``spawn(seed, "predictor-fit", name, n)``;
- metrics: Kendall tau (primary), Spearman, Pearson, MAE, RMSE, precision@10/@20, top-k regret; never abs();
- one record per (predictor, train size, seed) is appended to the results file; a rerun skips recorded cells.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench import __version__
from predictbench.benchmarks import TabularBenchmark, load
from predictbench.benchmarks.store import MetricRef
from predictbench.predictors.base import Predictor
from predictbench.rng import spawn
from predictbench.studies.metrics import all_metrics
from predictbench.studies.results import (
    CELL_FIELDS,
    ResultsFile,
    check_settings,
    read_results,
    store_digest,
    store_provenance,
)

log = logging.getLogger(__name__)

DEFAULT_TRAIN_SIZES = (5, 8, 14, 24, 42, 71, 121, 205, 347, 589, 1000)
ID_FIELDS = CELL_FIELDS["predictor"]
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Split:
    train_pool: np.ndarray
    test: np.ndarray

    def train(self, n: int) -> np.ndarray:
        return self.train_pool[:n]


def make_split(benchmark: TabularBenchmark, target: MetricRef, seed: int, test_size: int) -> Split:
    """The paired split of ``benchmark`` for ``seed`` (row positions into the store)."""
    values = benchmark.column(target.metric, fidelity=target.fidelity)
    rows = np.flatnonzero(np.isfinite(values))
    if len(rows) <= test_size:
        raise ValueError(f"{benchmark.name}: only {len(rows)} cells have {target.metric}; test_size={test_size}")
    order = spawn(seed, "predictor-split", benchmark.name, target.metric, target.fidelity).permutation(rows)
    return Split(train_pool=order[test_size:], test=order[:test_size])


@dataclass
class PredictorStudy:
    """Predictors x training sizes x seeds on one benchmark.

    Examples
    --------
    >>> from predictbench.predictors.gbdt import LGBMPredictor
    >>> study = PredictorStudy("nb201-analog/cifar10", {"lgbm": LGBMPredictor()},
    ...                        train_sizes=(24, 121), seeds=3, results="results.jsonl")  # doctest: +SKIP
    >>> frame = study.run()  # doctest: +SKIP
    """

    benchmark: str | TabularBenchmark
    predictors: Mapping[str, Predictor]
    results: str | Path
    train_sizes: Sequence[int] = DEFAULT_TRAIN_SIZES
    test_size: int = 200
    seeds: int | Sequence[int] = 20
    target: MetricRef | str | None = None
    name: str = "predictor-study"
    _bench: TabularBenchmark | None = field(default=None, init=False, repr=False)

    @property
    def bench(self) -> TabularBenchmark:
        if self._bench is None:
            self._bench = self.benchmark if isinstance(self.benchmark, TabularBenchmark) else load(self.benchmark)
        return self._bench

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else [int(s) for s in self.seeds]

    def target_ref(self) -> MetricRef:
        if isinstance(self.target, MetricRef):
            return self.target
        bench = self.bench
        if isinstance(self.target, str):
            return MetricRef(self.target, bench._resolve_fidelity(self.target, None))
        if bench.report_metric is None:
            raise ValueError(f"{bench.name} declares no report metric; pass target=...")
        return bench.report_metric

    def _validate(self) -> None:
        if not self.predictors:
            raise ValueError("PredictorStudy needs at least one predictor")
        sizes = list(self.train_sizes)
        if not sizes or min(sizes) < 2:
            raise ValueError(f"train sizes must be >= 2, got {sizes}")
        if self.test_size < 20:
            raise ValueError(f"test_size must be >= 20 for precision@20, got {self.test_size}")
        target = self.target_ref()
        finite = int(np.isfinite(self.bench.column(target.metric, fidelity=target.fidelity)).sum())
        if max(sizes) > finite - self.test_size:
            raise ValueError(
                f"train size {max(sizes)} exceeds the {max(finite - self.test_size, 0)} cells left for training: "
                f"{finite} of {len(self.bench)} cells of {self.bench.name} have a finite {target.metric}@"
                f"{target.fidelity}, minus test_size={self.test_size}"
            )

    def settings(self) -> dict[str, dict[str, Any]]:
        """Per predictor label, what its records must agree on (see :func:`.results.check_settings`)."""
        digest = store_digest(self.bench)
        return {
            label: {"component": type(p).__name__, "params": p.get_params(), "store_sha256": digest}
            for label, p in self.predictors.items()
        }

    @contextmanager
    def recording(self) -> Iterator[tuple[ResultsFile, set[tuple[Any, ...]]]]:
        """Hold the results file for this run (:meth:`ResultsFile.locked`); yield it and the cells it holds.

        Raises :class:`~predictbench.studies.results.SettingsMismatchError` when it holds a predictor label of
        this study recorded with other params or another store.
        """
        out = ResultsFile(self.results)
        with out.locked():
            check_settings(
                out.path, out.records(), "predictor", self.settings(), study=self.name, benchmark=self.bench.name
            )
            yield out, out.done(ID_FIELDS)

    def cells(self) -> list[tuple[str, int, int]]:
        return [(p, n, s) for s in self.seed_list for n in self.train_sizes for p in self.predictors]

    def run(self, progress: Progress | None = None) -> pd.DataFrame:
        """Run every missing (predictor, size, seed) cell; return all records of this study."""
        self._validate()
        bench, target = self.bench, self.target_ref()
        values = bench.column(target.metric, fidelity=target.fidelity)
        scores = bench.metric(target.metric).to_score(values)
        with self.recording() as (out, done):
            self._run_cells(out, done, target, scores, progress)
        frame = read_results(self.results)
        return frame[(frame["study"] == self.name) & (frame["benchmark"] == bench.name)].reset_index(drop=True)

    def _run_cells(
        self, out: ResultsFile, done: set[tuple[Any, ...]], target: MetricRef, scores: np.ndarray,
        progress: Progress | None,
    ) -> None:  # fmt: skip
        bench = self.bench
        store = store_provenance(bench)
        cells = self.cells()
        splits: dict[int, Split] = {}
        for position, (name, n, seed) in enumerate(cells, 1):
            ident = (self.name, bench.name, name, target.metric, n, self.test_size, seed)
            if ident in done:
                if progress:
                    progress(position, len(cells), f"{name} n={n} seed={seed} (recorded)")
                continue
            if seed not in splits:
                splits[seed] = make_split(bench, target, seed, self.test_size)
            split = splits[seed]
            record = self._run_cell(name, split.train(n), split.test, scores, seed)
            record.update(dict(zip(ID_FIELDS, ident, strict=True)))
            record["fidelity"] = target.fidelity
            record.update(store)
            out.append(record)
            if progress:
                progress(position, len(cells), f"{name} n={n} seed={seed} tau={record['kendall_tau']:.3f}")

    def _run_cell(
        self, name: str, train: np.ndarray, test: np.ndarray, scores: np.ndarray, seed: int
    ) -> dict[str, Any]:
        bench = self.bench
        predictor = self.predictors[name].clone()
        if "seed" in predictor.get_params():
            predictor.set_params(seed=int(spawn(seed, "predictor-fit", name, len(train)).integers(2**31 - 1)))
        keys = bench.keys()
        started = time.perf_counter()
        predictor.fit(bench.batch(keys[train]), scores[train])
        fitted = time.perf_counter()
        predicted = np.asarray(predictor.predict(bench.batch(keys[test])), dtype=float)
        finished = time.perf_counter()
        record: dict[str, Any] = all_metrics(scores[test], predicted)
        record.update(
            {
                "params": predictor.get_params(),
                "component": type(predictor).__name__,
                "fit_seconds": fitted - started,
                "predict_seconds": finished - fitted,
                "version": __version__,
                "store_created": bench.meta.provenance.get("created", ""),
            }
        )
        used = getattr(predictor, "params_used_", None)  # settings the store decided (e.g. no proxies to use)
        if used:
            record["params_used"] = dict(used)
        return record
