"""TabularBenchmark: one class serving every store."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from predictbench.benchmarks.store import SEED_MEAN, MetricRef, Store, StoreMeta, read_store
from predictbench.registry import unknown_name
from predictbench.spaces import SearchSpace, get_space
from predictbench.spaces.base import keys_of
from predictbench.types import Arch, Metric, OutOfSpaceError

KeysLike = Sequence[Arch | str] | np.ndarray


class Best(NamedTuple):
    """The best architecture of a benchmark for a metric (:meth:`TabularBenchmark.best`)."""

    key: str
    value: float


@dataclass(frozen=True)
class ArchBatch:
    """The inputs predictors consume for a set of cells: features, graphs and proxies on demand.

    Predictors declare which of these they need; the batch computes only what is asked for. ``benchmark`` is the
    full table for analysis and predictor studies, or a :class:`ProxyTable` (training-free values only) inside a
    search loop, which must not see measured metrics.
    """

    benchmark: TabularBenchmark | ProxyTable
    keys: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def features(self, encoding: str = "onehot") -> np.ndarray:
        from predictbench.encodings import encode

        return encode(self.benchmark.space, self.keys, encoding)

    def graphs(self) -> tuple[np.ndarray, np.ndarray]:
        from predictbench.encodings import graphs

        return graphs(self.benchmark.space, self.keys)

    def proxies(self, names: Sequence[str] | None = None, *, fill: bool = True) -> np.ndarray:
        return self.benchmark.proxies(self.keys, names, fill=fill)

    def subset(self, rows: np.ndarray | Sequence[int]) -> ArchBatch:
        return ArchBatch(self.benchmark, self.keys[np.asarray(rows)])


class TabularBenchmark:
    """A benchmark table: architectures of a search space with their measured metrics.

    Analysis access through :meth:`lookup` is uncharged and deterministic. Search loops never hold a
    benchmark: they see an Oracle.

    Examples
    --------
    >>> import predictbench as pb
    >>> bench = pb.load("nb201-analog/cifar10")  # doctest: +SKIP
    >>> acc = bench.lookup(bench.keys()[:3], "baseline_accuracy")  # doctest: +SKIP
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.meta: StoreMeta = store.meta
        self.name: str = store.meta.name
        self.path: Path = store.path
        self.space: SearchSpace = get_space(store.meta.space)
        self.metrics: dict[str, Metric] = dict(store.meta.metrics)
        self.fidelities: tuple[int, ...] = store.meta.fidelities
        self.seeds: tuple[int, ...] = store.meta.seeds
        self._code_of: dict[str, int] | None = None
        self._result_codes = store.arch_rows
        results = store.values
        self._result_fidelity = results["fidelity"].to_numpy()
        self._result_seed = results["seed"].to_numpy()
        self._dense: dict[tuple[str, int, int], np.ndarray] = {}
        self._available: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_path(cls, path: str | Path, *, verify: bool = True) -> TabularBenchmark:
        """Read the store folder ``path`` (checked; ``verify=False`` skips hashes and value checks)."""
        return cls(read_store(path, verify=verify))

    def __repr__(self) -> str:
        return f"TabularBenchmark({self.name!r}, {len(self)} archs, {len(self.metrics)} metrics)"

    def __len__(self) -> int:
        return len(self._store.archs)

    @functools.cached_property
    def _keys(self) -> np.ndarray:
        # built on first use: 423,624 NB101 keys as Python strings cost ~0.1 s that loading alone does not need
        return self._store.archs["key"].to_numpy(dtype=object)

    @functools.cached_property
    def _key_index(self) -> pd.Index:
        return pd.Index(self._keys, dtype=object)

    @property
    def archs_table(self) -> pd.DataFrame:
        """The store's architecture table (key and space-specific columns such as ``index``)."""
        return self._store.archs

    @property
    def search_metric(self) -> MetricRef | None:
        """The cheap signal a search loop sees by default (e.g. 12-epoch validation accuracy)."""
        return self.meta.search

    @property
    def report_metric(self) -> MetricRef | None:
        """The quantity reported for a chosen architecture (e.g. 200-epoch test accuracy)."""
        return self.meta.report

    def keys(self) -> np.ndarray:
        """All architecture keys, in store order."""
        return self._keys.copy()

    def archs(self) -> list[Arch]:
        space = self.meta.space
        return [Arch(space, key) for key in self._keys]

    def row_of(self) -> Mapping[str, int]:
        """Architecture key -> row position in the store (a read-only view of a dict built once per benchmark)."""
        if self._code_of is None:
            self._code_of = {str(k): i for i, k in enumerate(self._keys)}
        return MappingProxyType(self._code_of)

    def codes(self, keys: KeysLike) -> np.ndarray:
        """Row positions of ``keys`` in the store; unknown keys raise OutOfSpaceError."""
        keys_list = keys if isinstance(keys, np.ndarray) else keys_of(keys)
        if len(keys_list) <= 64:  # search loops ask for a few cells at a time: a dict beats pandas' overhead
            row_of = self.row_of()
            codes = np.fromiter((row_of.get(str(k), -1) for k in keys_list), dtype=np.int64)
        else:
            codes = self._key_index.get_indexer(np.asarray(keys_list, dtype=object))
        if (codes < 0).any():
            bad = keys_list[int(np.flatnonzero(codes < 0)[0])]
            raise OutOfSpaceError(
                f"architecture {bad!r} is not in benchmark {self.name!r} ({len(self)} architectures of "
                f"space {self.meta.space!r})"
            )
        return codes

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise unknown_name(f"metric of {self.name}", name, sorted(self.metrics))
        return self.metrics[name]

    def fidelities_of(self, metric: str) -> tuple[int, ...]:
        """Fidelities at which ``metric`` has at least one value."""
        if metric not in self._available:
            self.metric(metric)
            column = self._store.values[metric].to_numpy(dtype=float)
            present = np.isfinite(column)
            self._available[metric] = tuple(sorted(int(f) for f in np.unique(self._result_fidelity[present])))
        return self._available[metric]

    def _resolve_fidelity(self, metric: str, fidelity: int | None) -> int:
        available = self.fidelities_of(metric)
        if fidelity is None:
            if self.meta.default_fidelity in available:
                return self.meta.default_fidelity
            if len(available) == 1:
                return available[0]
            raise ValueError(
                f"{self.name}: metric {metric!r} exists at fidelities {list(available)}, not at the default "
                f"{self.meta.default_fidelity}; pass fidelity=..."
            )
        if fidelity not in available:
            raise ValueError(
                f"{self.name}: metric {metric!r} has no values at fidelity {fidelity}; available: {list(available)}"
            )
        return int(fidelity)

    def column(self, metric: str, *, fidelity: int | None = None, seed: int | None = None) -> np.ndarray:
        """Values of ``metric`` for every architecture in store order (NaN where not measured)."""
        fid = self._resolve_fidelity(metric, fidelity)
        seed_value = SEED_MEAN if seed is None else int(seed)
        cache_key = (metric, fid, seed_value)
        if cache_key not in self._dense:
            rows = (self._result_fidelity == fid) & (self._result_seed == seed_value)
            if not rows.any():
                raise ValueError(
                    f"{self.name}: no results for seed {seed_value} at fidelity {fid}; seeds: {list(self.seeds)}"
                )
            dense = np.full(len(self), np.nan)
            dense[self._result_codes[rows]] = self._store.values[metric].to_numpy(dtype=float)[rows]
            dense.flags.writeable = False
            self._dense[cache_key] = dense
        return self._dense[cache_key]

    def lookup(
        self, keys: KeysLike, metric: str, *, fidelity: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """Values of ``metric`` for ``keys`` (mean over seeds unless ``seed`` is given). Uncharged."""
        return self.column(metric, fidelity=fidelity, seed=seed)[self.codes(keys)]

    def scores(
        self, keys: KeysLike, metric: str, *, fidelity: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """Like :meth:`lookup` but as higher-is-better scores (the metric's declared direction)."""
        return self.metric(metric).to_score(self.lookup(keys, metric, fidelity=fidelity, seed=seed))

    def best(self, metric: str, *, fidelity: int | None = None) -> Best:
        """The best architecture for ``metric`` (by its declared direction): ``Best(key, value)``.

        A named tuple, so ``key, value = bench.best(...)`` works as well as ``bench.best(...).value``.
        """
        values = self.column(metric, fidelity=fidelity)
        scores = self.metric(metric).to_score(values)
        row = int(np.nanargmax(scores))
        return Best(str(self._keys[row]), float(values[row]))

    @property
    def proxy_names(self) -> list[str]:
        proxies = self._store.proxies
        return [] if proxies is None else [c for c in proxies.columns if c != "key"]

    def proxy_coverage(self) -> dict[str, float]:
        """Share of the benchmark's cells with a value of each proxy column (before dead-op filling)."""
        return _coverage(self._store.proxies, len(self._keys))

    def proxies(self, keys: KeysLike, names: Sequence[str] | None = None, *, fill: bool = True) -> np.ndarray:
        """Zero-cost proxy values (n, k) for ``keys``; NaN where a cell has no value.

        With ``fill=True`` a cell without values takes those of its functionally identical form with dead
        operations removed (spaces offering ``prune_dead_many``, e.g. NB201, whose Suite-Zero proxies exist
        only for the 9,445 cells without dead operations).
        """
        return _proxy_values(self._store.proxies, self.space, self.name, keys, names, fill=fill)

    def curve(self, key: Arch | str, metric: str, *, fidelity: int, seed: int | None = None) -> pd.Series:
        """Per-epoch values of ``metric`` for one architecture (needs a store with curves)."""
        curves = self._store.curves
        if curves is None:
            raise ValueError(f"benchmark {self.name!r} has no per-epoch curves")
        key_str = key.key if isinstance(key, Arch) else key
        self.codes([key_str])
        rows = curves[(curves["key"] == key_str) & (curves["fidelity"] == fidelity)]
        if seed is None:
            series = rows.groupby("epoch")[metric].mean()
        else:
            series = rows[rows["seed"] == seed].set_index("epoch")[metric]
        return series.sort_index()

    def batch(self, keys: KeysLike | None = None) -> ArchBatch:
        """Predictor inputs for ``keys`` (all architectures when None)."""
        if keys is None:
            return ArchBatch(self, self._keys)
        arr = np.asarray(keys if isinstance(keys, np.ndarray) else keys_of(keys), dtype=object)
        self.codes(arr)
        return ArchBatch(self, arr)

    def info(self) -> dict[str, Any]:
        """A summary for ``predictbench data info``."""
        return {
            "name": self.name,
            "space": self.meta.space,
            "task": self.meta.task,
            "architectures": len(self),
            "metrics": sorted(self.metrics),
            "fidelities": list(self.fidelities),
            "seeds": list(self.seeds),
            "search": self.meta.search.to_dict() if self.meta.search else None,
            "report": self.meta.report.to_dict() if self.meta.report else None,
            "proxies": self.proxy_names,
            "path": str(self.path),
            "provenance": self.meta.provenance,
        }


class ProxyTable:
    """What a search loop may read for free: a space and the training-free proxies of a benchmark, no metrics.

    It answers like a benchmark for the fields predictors read from an :class:`ArchBatch` (``space``, ``name``,
    ``proxy_names``, proxy ``metrics``, ``keys()``, ``proxies(...)``). It copies out the benchmark's keys, proxies
    table and proxy declarations at construction and keeps no handle on the benchmark, so no measured metric is
    reachable from it. With ``benchmark=None`` it holds a space only (encodings and graphs, no proxies).

    Examples
    --------
    >>> table = ProxyTable.of(bench)  # doctest: +SKIP
    >>> batch = table.batch(bench.space.sample(rng, 10))  # doctest: +SKIP
    """

    def __init__(self, space: SearchSpace, benchmark: TabularBenchmark | None = None) -> None:
        self.space = space
        self.name = benchmark.name if benchmark is not None else getattr(space, "name", "space")
        self.metrics: dict[str, Metric] = (
            {k: m for k, m in benchmark.metrics.items() if m.kind == "proxy"} if benchmark is not None else {}
        )
        self._has_source = benchmark is not None
        self._keys: np.ndarray | None = benchmark.keys() if benchmark is not None else None
        self._table: pd.DataFrame | None = benchmark._store.proxies if benchmark is not None else None

    @classmethod
    def of(cls, benchmark: TabularBenchmark) -> ProxyTable:
        return cls(benchmark.space, benchmark)

    @property
    def proxy_names(self) -> list[str]:
        return [] if self._table is None else [c for c in self._table.columns if c != "key"]

    def proxy_coverage(self) -> dict[str, float]:
        """Share of the cells with a value of each proxy column (as :meth:`TabularBenchmark.proxy_coverage`)."""
        return {} if self._keys is None else _coverage(self._table, len(self._keys))

    def keys(self) -> np.ndarray:
        if self._keys is None:
            return np.array([a.key for a in self.space.enumerate()], dtype=object)
        return self._keys.copy()

    def proxies(self, keys: KeysLike, names: Sequence[str] | None = None, *, fill: bool = True) -> np.ndarray:
        if not self._has_source:
            raise ValueError(f"no proxies: this input source holds the {self.name!r} space only")
        return _proxy_values(self._table, self.space, self.name, keys, names, fill=fill)

    def batch(self, keys: KeysLike) -> ArchBatch:
        arr = np.asarray(keys if isinstance(keys, np.ndarray) else keys_of(keys), dtype=object)
        for key in arr[:1]:
            self.space.validate(str(key))
        return ArchBatch(self, arr)


def _coverage(table: pd.DataFrame | None, n_cells: int) -> dict[str, float]:
    if table is None or n_cells == 0:
        return {}
    counts = table.drop(columns="key").notna().sum()
    return {str(name): float(count) / n_cells for name, count in counts.items()}


def _proxy_values(
    table: pd.DataFrame | None,
    space: SearchSpace,
    owner: str,
    keys: KeysLike,
    names: Sequence[str] | None,
    *,
    fill: bool,
) -> np.ndarray:
    """Proxy values (n, k) of ``keys`` from a store's proxies ``table`` (see :meth:`TabularBenchmark.proxies`)."""
    if table is None:
        raise ValueError(f"benchmark {owner!r} has no proxies table")
    proxy_names = [c for c in table.columns if c != "key"]
    names = list(names) if names is not None else proxy_names
    for name in names:
        if name not in table.columns or name == "key":
            raise unknown_name(f"proxy of {owner}", name, proxy_names)
    key_list = keys if isinstance(keys, np.ndarray) else np.asarray(keys_of(keys), dtype=object)
    index = pd.Index(table["key"])
    values = table[names].to_numpy(dtype=float)

    def gather(wanted: np.ndarray) -> np.ndarray:
        codes = index.get_indexer(wanted)
        out = np.full((len(codes), len(names)), np.nan)
        found = codes >= 0
        out[found] = values[codes[found]]
        return out

    out = gather(key_list)
    pruner = getattr(space, "prune_dead_many", None)
    missing = np.isnan(out).any(axis=1)
    if fill and pruner is not None and missing.any():
        pruned = np.array([a.key for a in pruner(key_list[missing])], dtype=object)
        out[missing] = np.where(np.isnan(out[missing]), gather(pruned), out[missing])
    return out
