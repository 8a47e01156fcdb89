"""Benchmarks: the canonical store, TabularBenchmark, the catalog and converters."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from predictbench.benchmarks.catalog import CATALOG, BenchmarkNotConverted, converted_stores, store_path
from predictbench.benchmarks.tabular import ArchBatch, ProxyTable, TabularBenchmark


def load(name: str, *, root: str | Path | None = None, verify: bool = True) -> TabularBenchmark:
    """Load a converted benchmark store by name (e.g. ``"nb201-analog/cifar10"``). Never downloads.

    ``verify=False`` skips the integrity checks (table hashes and values; see
    :func:`~predictbench.benchmarks.store.read_store`); the structure is always checked.
    """
    return TabularBenchmark.from_path(store_path(name, Path(root) if root is not None else None), verify=verify)


def list_benchmarks(*, root: str | Path | None = None) -> pd.DataFrame:
    """Every known or converted benchmark: name, converted?, path, description, how to convert."""
    stores = converted_stores(Path(root) if root is not None else None)
    rows = []
    for name in sorted(set(CATALOG) | set(stores)):
        entry = CATALOG.get(name)
        rows.append(
            {
                "name": name,
                "converted": name in stores,
                "path": str(stores[name]) if name in stores else "",
                "description": entry.description if entry else "(converted store, not in the catalog)",
                "convert": entry.convert_command if entry else "",
            }
        )
    return pd.DataFrame(rows, columns=["name", "converted", "path", "description", "convert"])


__all__ = ["ArchBatch", "BenchmarkNotConverted", "ProxyTable", "TabularBenchmark", "list_benchmarks", "load"]
