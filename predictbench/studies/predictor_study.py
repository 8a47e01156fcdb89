"""PredictorStudy: train predictors on growing training sets and measure ranking quality on test cells.

Protocol (paired and honest; :mod:`.splits` holds the splits):

- the cells with a finite target are shuffled by ``spawn(seed, "predictor-split", benchmark)``, so the split
  depends only on (benchmark, seed) — never on which predictors run — and training sets are nested across sizes;
- ``protocol`` picks the test set: ``"sample"`` (default: the first ``test_size`` cells, training from the
  others), ``"rest"`` (every cell not used for training) or ``"all-including-train"`` (every cell, training cells
  included: the NAR-Former / NN-Former / PINAT code's protocol, labelled as such); ``twin_free=True`` keeps every
  functional twin of a test cell out of the training set;
- training sizes are counts or percentages of the store's cells (``"0.5%"``, rounded half up);
- every predictor sees the same training cells, is seeded from ``spawn(seed, "predictor-fit", name, n)``;
- metrics: Kendall tau (primary), Spearman, Pearson, MAE, RMSE, precision@10/@20, top-k regret; never abs();
- one record per (predictor, train size, seed) is appended to the results file; a rerun skips recorded cells;
  records carry the protocol and split, which must agree on resume (:func:`.results.check_settings`).
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
from predictbench.studies.splits import (
    DEFAULT_PROTOCOL,
    DEFAULT_TEST_SIZE,
    MIN_TEST_CELLS,
    PROTOCOLS,
    TWIN_FREE,
    UNIFORM,
    Split,
    TrainSize,
    check_protocol,
    count_twins,
    make_split,
    resolve_sizes,
    twin_classes,
)

log = logging.getLogger(__name__)

DEFAULT_TRAIN_SIZES = (5, 8, 14, 24, 42, 71, 121, 205, 347, 589, 1000)
ID_FIELDS = CELL_FIELDS["predictor"]
Progress = Callable[[int, int, str], None]


@dataclass
class PredictorStudy:
    """Predictors x training sizes x seeds on one benchmark, under one test protocol.

    ``train_sizes`` holds counts or percentages of the store's cells (``"0.5%"``); ``test_size`` (default 200)
    applies to ``protocol="sample"`` only; ``twin_free`` needs a space with a canonical form (NB201 / NATS-tss).

    Examples
    --------
    >>> from predictbench.predictors.gbdt import LGBMPredictor
    >>> study = PredictorStudy("nb201-analog/cifar10", {"lgbm": LGBMPredictor()},
    ...                        train_sizes=(24, 121), seeds=3, results="results.jsonl")  # doctest: +SKIP
    >>> frame = study.run()  # doctest: +SKIP
    >>> rest = PredictorStudy("nb201/cifar10", {"lgbm": LGBMPredictor()}, train_sizes=("0.5%", "1%"),
    ...                       protocol="rest", seeds=3, results="rest.jsonl")  # doctest: +SKIP
    """

    benchmark: str | TabularBenchmark
    predictors: Mapping[str, Predictor]
    results: str | Path
    train_sizes: Sequence[int | str] = DEFAULT_TRAIN_SIZES
    test_size: int | None = None
    seeds: int | Sequence[int] = 20
    target: MetricRef | str | None = None
    name: str = "predictor-study"
    protocol: str = DEFAULT_PROTOCOL
    twin_free: bool = False
    _bench: TabularBenchmark | None = field(default=None, init=False, repr=False)
    _splits: dict[int, Split] = field(default_factory=dict, init=False, repr=False)
    _classes: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def bench(self) -> TabularBenchmark:
        if self._bench is None:
            self._bench = self.benchmark if isinstance(self.benchmark, TabularBenchmark) else load(self.benchmark)
        return self._bench

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else [int(s) for s in self.seeds]

    @property
    def sizes(self) -> dict[int, TrainSize]:
        """Training-set size (count of cells) -> the size as given, in the given order."""
        return resolve_sizes(self.train_sizes, len(self.bench))

    @property
    def split_name(self) -> str:
        return TWIN_FREE if self.twin_free else UNIFORM

    def target_ref(self) -> MetricRef:
        if isinstance(self.target, MetricRef):
            return self.target
        bench = self.bench
        if isinstance(self.target, str):
            return MetricRef(self.target, bench._resolve_fidelity(self.target, None))
        if bench.report_metric is None:
            raise ValueError(f"{bench.name} declares no report metric; pass target=...")
        return bench.report_metric

    def _finite(self) -> int:
        target = self.target_ref()
        return int(np.isfinite(self.bench.column(target.metric, fidelity=target.fidelity)).sum())

    def _validate(self) -> None:
        if not self.predictors:
            raise ValueError("PredictorStudy needs at least one predictor")
        check_protocol(self.protocol)
        if self.protocol != "sample" and self.test_size is not None:
            raise ValueError(
                f"test_size applies to protocol 'sample' only; protocol '{self.protocol}' tests on "
                f"{PROTOCOLS[self.protocol].split(';')[0]}"
            )
        if self.protocol == "sample" and self.n_test < MIN_TEST_CELLS:
            raise ValueError(f"test_size must be >= {MIN_TEST_CELLS} for precision@20, got {self.n_test}")
        largest = max(self.sizes)
        target, finite = self.target_ref(), self._finite()
        have = (
            f"{finite} of {len(self.bench)} cells of {self.bench.name} have a finite {target.metric}@{target.fidelity}"
        )
        if self.protocol == "sample" and largest > finite - self.n_test:
            raise ValueError(
                f"train size {largest} exceeds the {max(finite - self.n_test, 0)} cells left for training: {have}, "
                f"minus test_size={self.n_test}"
            )
        if self.protocol == "rest" and largest > finite - MIN_TEST_CELLS:
            raise ValueError(
                f"train size {largest} leaves {max(finite - largest, 0)} test cells under protocol 'rest' (at least "
                f"{MIN_TEST_CELLS} needed): {have}"
            )
        if self.protocol == "all-including-train" and largest > finite:
            raise ValueError(f"train size {largest} exceeds the cells to train on: {have}")
        if self.twin_free:  # make_split refuses protocol all-including-train and spaces without a canonical form
            for seed in self.seed_list:
                self._check_twin_free(seed, largest)

    def _check_twin_free(self, seed: int, largest: int) -> None:
        split = self.split(seed)
        if self.protocol == "sample" and largest > len(split.train_pool):
            raise ValueError(
                f"train size {largest} exceeds the {len(split.train_pool)} cells of {self.bench.name} left for "
                f"twin-free training with seed {seed} (cells with no functional twin among the {self.n_test} test "
                "cells); use smaller sizes or test_size"
            )
        if self.protocol == "rest" and len(split.test_cells(largest)) < MIN_TEST_CELLS:
            raise ValueError(
                f"train size {largest} leaves {len(split.test_cells(largest))} twin-free test cells of "
                f"{self.bench.name} with seed {seed} (cells with no functional twin among the training cells); "
                f"at least {MIN_TEST_CELLS} are needed"
            )

    @property
    def n_test(self) -> int:
        """The test sample's size under protocol ``"sample"``."""
        return DEFAULT_TEST_SIZE if self.test_size is None else self.test_size

    def recorded_test_size(self) -> int | None:
        """The ``test_size`` of records: the sample's size, every cell (all-including-train), None for "rest"."""
        return {"sample": self.n_test, "all-including-train": self._finite()}.get(self.protocol)

    def cell_id(self, label: str, n: int, seed: int) -> tuple[Any, ...]:
        """The identity (:data:`ID_FIELDS` values) of the record of one grid cell."""
        target = self.target_ref()
        return (self.name, self.bench.name, label, target.metric, n, self.recorded_test_size(), seed)

    def split(self, seed: int) -> Split:
        """The split of ``seed`` under this study's protocol (kept for the run)."""
        if seed not in self._splits:
            self._splits[seed] = make_split(
                self.bench, self.target_ref(), seed, self.n_test, protocol=self.protocol, twin_free=self.twin_free
            )
        return self._splits[seed]

    def functional_classes(self) -> np.ndarray | None:
        """The store rows' functional classes when the space declares a canonical form, else None."""
        if self._classes is None:
            try:
                self._classes = twin_classes(self.bench)
            except ValueError:
                return None
        return self._classes

    def settings(self) -> dict[str, dict[str, Any]]:
        """Per predictor label, what its records must agree on (see :func:`.results.check_settings`)."""
        digest = store_digest(self.bench)
        return {
            label: {
                "component": type(p).__name__,
                "params": p.get_params(),
                "store_sha256": digest,
                "protocol": self.protocol,
                "split": self.split_name,
            }
            for label, p in self.predictors.items()
        }

    @contextmanager
    def recording(self) -> Iterator[tuple[ResultsFile, set[tuple[Any, ...]]]]:
        """Hold the results file for this run (:meth:`ResultsFile.locked`); yield it and the cells it holds.

        Raises :class:`~predictbench.studies.results.SettingsMismatchError` when it holds a predictor label of
        this study recorded with other params, another store, protocol or split.
        """
        out = ResultsFile(self.results)
        with out.locked():
            check_settings(
                out.path, out.records(), "predictor", self.settings(), study=self.name, benchmark=self.bench.name
            )
            yield out, out.done(ID_FIELDS)

    def cells(self) -> list[tuple[str, int, int]]:
        return [(p, n, s) for s in self.seed_list for n in self.sizes for p in self.predictors]

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
        cells, sizes, classes = self.cells(), self.sizes, self.functional_classes()
        for position, (name, n, seed) in enumerate(cells, 1):
            ident = self.cell_id(name, n, seed)
            if ident in done:
                if progress:
                    progress(position, len(cells), f"{name} n={n} seed={seed} (recorded)")
                continue
            split = self.split(seed)
            train, test = split.train(n), split.test_cells(n)
            record = self._run_cell(name, train, test, scores, seed)
            record.update(dict(zip(ID_FIELDS, ident, strict=True)))
            record.update(
                fidelity=target.fidelity,
                protocol=self.protocol,
                split=self.split_name,
                train_size_given=sizes[n].text,
                train_fraction=sizes[n].fraction_of(len(bench)),
                test_cells=len(test),
            )
            if classes is not None:  # test cells whose functional class occurs among the training cells
                record["test_twins"] = count_twins(classes, train, test)
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
