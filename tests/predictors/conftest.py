"""Shared set-up of the predictor tests: reading proxies from another store of the same space (``proxy_source``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks import TabularBenchmark


@dataclass(frozen=True)
class ProxySourceCase:
    """nb201/cifar10 (14 proxies) and two stores of its cells that lack them: nb201/cifar100 (zen only) and the
    analog store (none); a training set of 80 cells with CIFAR-10 targets."""

    cifar10: TabularBenchmark
    others: tuple[TabularBenchmark, ...]
    keys: np.ndarray
    y: np.ndarray

    def fits_match_source(self, make: Callable[..., Any]) -> list[Any]:
        """Fit ``make(proxy_source="nb201/cifar10")`` on each other store; assert its predictions equal those of
        ``make()`` fitted on nb201/cifar10 itself; return the sourced fits."""
        expected = make().fit(self.cifar10.batch(self.keys), self.y).predict(self.cifar10.batch(self.keys[:40]))
        fitted = []
        for store in self.others:
            sourced = make(proxy_source="nb201/cifar10").fit(store.batch(self.keys), self.y)
            assert np.array_equal(sourced.predict(store.batch(self.keys[:40])), expected), store.name
            fitted.append(sourced)
        return fitted


@pytest.fixture
def proxy_source_case(nb201_tables_root: Path, analog_root: Path, monkeypatch: pytest.MonkeyPatch) -> ProxySourceCase:
    monkeypatch.setenv("PREDICTBENCH_DATA", str(nb201_tables_root))  # where proxy_source names are resolved
    cifar10 = pb.load("nb201/cifar10")
    keys = cifar10.keys()[:80]
    others = (pb.load("nb201/cifar100"), pb.load("nb201-analog/cifar10", root=analog_root))
    return ProxySourceCase(cifar10, others, keys, cifar10.lookup(keys, "test_acc"))


@pytest.fixture(scope="session")
def analog_split(analog_root: Path) -> dict[str, Any]:
    """400 seeded cells of the embedded default: 200 to train and 200 to test, with their baseline accuracy."""
    bench = pb.load("nb201-analog/cifar10", root=analog_root)
    keys = np.random.default_rng(7).permutation(bench.keys())[:400]
    y = bench.scores(keys, "baseline_accuracy")
    return {"train": bench.batch(keys[:200]), "test": bench.batch(keys[200:]), "y_train": y[:200], "y_test": y[200:]}
