"""The one on-disk format of every benchmark.

A store is a folder ``<data_root>/<name>/`` (e.g. ``nb201/cifar10``) holding

- ``meta.json``: name, space, task, metric declarations (direction, unit, kind, bounds), fidelities, seeds,
  the default search / report metrics, provenance (converter and version, sha256 of every raw input) and
  the citation;
- ``archs.parquet``: one row per architecture, column ``key`` (the space's canonical key) plus
  space-specific columns (e.g. NB201 ``index``);
- ``results.parquet``: tidy rows ``arch_row, seed, fidelity`` + one float column per metric, where ``arch_row``
  is the row of the architecture in ``archs.parquet`` (an int32: reading 1.7 M NB101 result rows then costs no
  string work; :attr:`Store.results` gives the same rows with their ``key``). ``seed == -1``
  (:data:`SEED_MEAN`) rows hold the mean over the seeds present (or the published mean where per-seed
  values are not available); the writer adds them when a converter gives per-seed rows only;
- optional ``proxies.parquet``: ``key`` + one column per zero-cost proxy (declared as metrics of kind proxy);
- optional ``curves.parquet``: ``key, seed, fidelity, epoch`` + metric columns (per-epoch learning curves).

Stores are written atomically (temporary folder, then rename) by converters; :func:`read_store` never writes.

Integrity (format 3): ``meta.json`` records, per table file, the sha256 of its bytes and its row count
(``tables``). These depend on the data only (the creation time lives in ``provenance``), so converting the same
inputs twice gives the same hashes, and :attr:`StoreMeta.content_sha256` identifies a store's content across
reconversions. :func:`read_store` checks every hash and row count, then runs vectorised checks of the values:
``arch_row`` in range, declared fidelities and seeds only, metric bounds, no infinite value, no NaN in the search
and report metrics at their fidelities (seed-mean rows; per-seed rows and other metrics may lack values, e.g.
``edgetpu_latency`` for some cells), no duplicate ``(arch_row, seed, fidelity)`` rows, no duplicate keys, at
least one architecture and one result row. The writer applies the same checks, so a converter cannot write what
the reader refuses. Every failure names the file and the command that rewrites the store (``... --force``).
``read_store(path, verify=False)`` skips the hashes and value checks (structure is always checked).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.paths import atomic_path, check_store_name, file_sha256, store_folder
from predictbench.types import DataFormatError, Metric

log = logging.getLogger(__name__)

# 2: results keyed by arch_row (row in archs.parquet) instead of the key string; 3: sha256 and rows per table
FORMAT_VERSION = 3
TABLE_FILES = ("archs.parquet", "results.parquet", "proxies.parquet", "curves.parquet")
SEED_MEAN = -1
ID_COLUMNS = ("key", "seed", "fidelity")
ARCH_ROW = "arch_row"
CURVE_ID_COLUMNS = ("key", "seed", "fidelity", "epoch")


@dataclass(frozen=True)
class MetricRef:
    """A metric at a fidelity, e.g. the 12-epoch validation accuracy used as the search signal."""

    metric: str
    fidelity: int

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "fidelity": self.fidelity}


def _int(value: Any, what: str, source: str) -> int:
    """``value`` if it is an integer (JSON number without fraction), else DataFormatError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DataFormatError(f"{source}: {what} must be an integer, got {value!r}")
    return int(value)


def _ints(values: Any, what: str, source: str) -> tuple[int, ...]:
    if not isinstance(values, list):
        raise DataFormatError(f"{source}: {what} must be a list of integers, got {values!r}")
    return tuple(_int(v, f"every entry of {what}", source) for v in values)


def reconvert_command(name: str, provenance: Mapping[str, Any] | None = None) -> str:
    """The command that rewrites store ``name`` (for error messages), e.g. ``predictbench data convert ... --force``."""
    from predictbench.benchmarks.catalog import CATALOG

    prov = provenance or {}
    converter = prov.get("converter")
    entry = CATALOG.get(name)
    if entry is not None and converter in (None, entry.converter):
        return f"{entry.convert_command} --force"
    if isinstance(converter, str) and converter and ":" not in converter:
        source = prov.get("source") if isinstance(prov.get("source"), str) else "SOURCE"
        return f"predictbench data convert {converter} {source} --force"
    return "predictbench data convert CONVERTER SOURCE --force (the converter that wrote it)"


@dataclass(frozen=True)
class StoreMeta:
    """Contents of ``meta.json``.

    ``tables`` maps each table file to its ``sha256`` and ``rows``; :func:`write_store` fills it in.
    """

    name: str
    space: str
    task: str
    metrics: dict[str, Metric]
    fidelities: tuple[int, ...]
    default_fidelity: int
    seeds: tuple[int, ...] = ()
    search: MetricRef | None = None
    report: MetricRef | None = None
    fidelity_unit: str = "epochs"
    provenance: dict[str, Any] = field(default_factory=dict)
    citation: str = ""
    description: str = ""
    format_version: int = FORMAT_VERSION
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "space": self.space,
            "task": self.task,
            "description": self.description,
            "metrics": [m.to_dict() for m in self.metrics.values()],
            "fidelity_unit": self.fidelity_unit,
            "fidelities": list(self.fidelities),
            "default_fidelity": self.default_fidelity,
            "seeds": list(self.seeds),
            "search": self.search.to_dict() if self.search else None,
            "report": self.report.to_dict() if self.report else None,
            "tables": self.tables,
            "provenance": self.provenance,
            "citation": self.citation,
        }

    @property
    def content_sha256(self) -> str:
        """A digest of the store's content: its declaration and the sha256 of every table.

        Unlike the files' own hashes it leaves out the creation time, so the same data converted twice gives the
        same digest; use it to identify the store a study read.
        """
        data = self.to_dict()
        data["provenance"] = {k: v for k, v in self.provenance.items() if k != "created"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()

    def reconvert(self) -> str:
        """The command that rewrites this store."""
        return reconvert_command(self.name, self.provenance)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "meta.json") -> StoreMeta:
        if not isinstance(data, dict):
            raise DataFormatError(f"{source}: expected a JSON object, got {type(data).__name__}")
        required = ("format_version", "name", "space", "task", "metrics", "fidelities", "default_fidelity")
        missing = [k for k in required if k not in data]
        if missing:
            raise DataFormatError(f"{source}: missing fields {missing}")
        name = data["name"]
        provenance = data.get("provenance", {})
        provenance = provenance if isinstance(provenance, dict) else {}
        version = _int(data["format_version"], "format_version", source)
        if version != FORMAT_VERSION:
            older = " (older stores record no table hashes)" if version < FORMAT_VERSION else ""
            raise DataFormatError(
                f"{source}: store format version {version} is not supported (this predictbench reads version "
                f"{FORMAT_VERSION}){older}; convert the benchmark again: {reconvert_command(str(name), provenance)}"
            )
        try:
            check_store_name(name)
        except ValueError as exc:
            raise DataFormatError(f"{source}: {exc}") from None
        if not isinstance(data["metrics"], list) or not all(isinstance(m, dict) for m in data["metrics"]):
            raise DataFormatError(f"{source}: 'metrics' must be a list of metric declarations (JSON objects)")
        try:
            metrics = {m["name"]: Metric.from_dict(m) for m in data["metrics"] if "name" in m}
            if len(metrics) != len(data["metrics"]):
                unnamed = next(m for m in data["metrics"] if "name" not in m)
                raise DataFormatError(f"a metric declaration has no 'name': {unnamed!r}")
        except (DataFormatError, TypeError, ValueError) as exc:
            raise DataFormatError(f"{source}: {exc}") from None

        def ref(value: Any, what: str) -> MetricRef | None:
            if not value:
                return None
            if not isinstance(value, dict) or not isinstance(value.get("metric"), str):
                raise DataFormatError(f"{source}: {what} must be {{'metric': NAME, 'fidelity': INT}}, got {value!r}")
            return MetricRef(value["metric"], _int(value.get("fidelity"), f"{what} fidelity", source))

        tables = data.get("tables")
        if not isinstance(tables, dict) or not all(
            isinstance(t, dict) and isinstance(t.get("sha256"), str) and isinstance(t.get("rows"), int)
            for t in tables.values()
        ):
            raise DataFormatError(
                f"{source}: 'tables' must map each table file to its 'sha256' and 'rows'; convert the benchmark "
                f"again: {reconvert_command(str(name), provenance)}"
            )
        return cls(
            name=name,
            space=data["space"],
            task=data["task"],
            metrics=metrics,
            fidelities=_ints(data["fidelities"], "fidelities", source),
            default_fidelity=_int(data["default_fidelity"], "default_fidelity", source),
            seeds=_ints(data.get("seeds", []), "seeds", source),
            search=ref(data.get("search"), "search"),
            report=ref(data.get("report"), "report"),
            fidelity_unit=data.get("fidelity_unit", "epochs"),
            provenance=provenance,
            citation=data.get("citation", ""),
            description=data.get("description", ""),
            format_version=version,
            tables=tables,
        )


@dataclass(frozen=True)
class Store:
    """A store read into memory.

    ``values`` holds the result rows as stored (``arch_row, seed, fidelity`` + metrics); :attr:`results` is the
    same table with the architecture ``key`` in place of ``arch_row``, built on first use.
    """

    path: Path
    meta: StoreMeta
    archs: pd.DataFrame
    values: pd.DataFrame
    proxies: pd.DataFrame | None = None
    curves: pd.DataFrame | None = None

    @property
    def arch_rows(self) -> np.ndarray:
        """Row in :attr:`archs` of every result row."""
        return self.values[ARCH_ROW].to_numpy()

    @cached_property
    def results(self) -> pd.DataFrame:
        """Result rows ``key, seed, fidelity`` + metrics (the tidy table converters write)."""
        keys = self.archs["key"].to_numpy(dtype=object)[self.arch_rows]
        return self.values.drop(columns=ARCH_ROW).assign(key=keys)[["key", *self.values.columns.drop(ARCH_ROW)]]


def provenance(converter: str, version: str, inputs: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A provenance record: converter name/version, sha256 of each raw input, creation time."""
    return {
        "converter": converter,
        "converter_version": version,
        "inputs": [{"name": name, "sha256": digest} for name, digest in sorted(inputs.items())],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **extra,
    }


def _check_metric_columns(table: pd.DataFrame, id_columns: tuple[str, ...], meta: StoreMeta, what: str) -> None:
    """Id columns present, every other column a declared numeric metric within its bounds and never infinite."""
    missing = [c for c in id_columns if c not in table.columns]
    if missing:
        raise DataFormatError(f"{what} lacks columns {missing}")
    for column in table.columns:
        if column in id_columns:
            continue
        if column not in meta.metrics:
            raise DataFormatError(f"{what} column {column!r} is not a declared metric")
        if not pd.api.types.is_numeric_dtype(table[column]) or pd.api.types.is_bool_dtype(table[column]):
            raise DataFormatError(f"{what} column {column!r} must be numeric")
        values = table[column].to_numpy(dtype=float)
        lo, hi = float(np.fmin.reduce(values, initial=np.inf)), float(np.fmax.reduce(values, initial=-np.inf))
        if lo == -np.inf or hi == np.inf:  # all-NaN columns give lo = inf, hi = -inf
            raise DataFormatError(f"{what} column {column!r} holds an infinite value")
        if lo <= hi:
            try:
                meta.metrics[column].check_bounds(lo, hi)
            except DataFormatError as exc:
                raise DataFormatError(f"{what} column {column!r}: {exc}") from None


def _declared_positions(values: np.ndarray, declared: np.ndarray, what: str, note: str) -> np.ndarray:
    """Position of each value in the sorted ``declared`` array; DataFormatError naming undeclared values."""
    at = np.minimum(np.searchsorted(declared, values), len(declared) - 1)
    bad = declared[at] != values
    if bad.any():
        raise DataFormatError(f"results use undeclared {what} {sorted(set(values[bad].tolist()))[:5]} ({note})")
    return at


def _check_rows(meta: StoreMeta, rows: np.ndarray, seed: np.ndarray, fidelity: np.ndarray, table: pd.DataFrame) -> None:
    """Vectorised checks of result rows (``rows``: arch row of each; ids as integer arrays)."""
    if not len(table):
        raise DataFormatError("results table has no rows")
    fids = np.array(sorted(meta.fidelities), dtype=np.int64)
    seeds = np.array(sorted({SEED_MEAN, *meta.seeds}), dtype=np.int64)
    fid_at = _declared_positions(fidelity, fids, "fidelities", f"declared: {list(meta.fidelities)}")
    seed_at = _declared_positions(seed, seeds, "seeds", f"declared: {list(meta.seeds)}, and {SEED_MEAN} for means")
    code = (rows.astype(np.int64) * len(fids) + fid_at) * len(seeds) + seed_at
    cells = (int(rows.max()) + 1) * len(fids) * len(seeds)
    if cells <= 4 * len(code):  # dense enough: count every (arch, fidelity, seed) cell, no sort
        counts = np.bincount(code, minlength=cells)
        repeated = np.flatnonzero(counts > 1)
        extra = int((counts[repeated] - 1).sum())
    else:
        ordered = np.sort(code)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        extra = len(repeated)
    if extra:
        first = int(repeated[0])
        raise DataFormatError(
            f"results have {extra} duplicate (arch, seed, fidelity) rows, e.g. arch row "
            f"{first // (len(fids) * len(seeds))}, seed {int(seeds[first % len(seeds)])}, fidelity "
            f"{int(fids[first // len(seeds) % len(fids)])}"
        )
    means = seed == SEED_MEAN
    for what, ref in (("search", meta.search), ("report", meta.report)):
        if ref is None:
            continue
        if ref.metric not in table.columns:
            raise DataFormatError(f"results table lacks the {what} metric column {ref.metric!r}")
        at = means & (fidelity == ref.fidelity)
        nan = np.isnan(table[ref.metric].to_numpy(dtype=float)[at])
        if nan.any():
            raise DataFormatError(
                f"{what} metric {ref.metric!r} at fidelity {ref.fidelity} is NaN for {int(nan.sum())} architecture(s)"
            )


def _check_declaration(meta: StoreMeta) -> None:
    try:
        check_store_name(meta.name)
    except ValueError as exc:
        raise DataFormatError(str(exc)) from None
    source = f"store {meta.name!r}"
    for what, value in (("fidelities", meta.fidelities), ("seeds", meta.seeds)):
        _ints(list(value), what, source)
    _int(meta.default_fidelity, "default_fidelity", source)
    if meta.default_fidelity not in meta.fidelities:
        raise DataFormatError(f"default fidelity {meta.default_fidelity} not in fidelities {meta.fidelities}")
    for what, ref in (("search", meta.search), ("report", meta.report)):
        if ref is None:
            continue
        _int(ref.fidelity, f"{what} fidelity", source)
        if ref.metric not in meta.metrics or ref.fidelity not in meta.fidelities:
            raise DataFormatError(f"{what} {ref} names an undeclared metric or fidelity")


def _check_coverage(meta: StoreMeta, *tables: pd.DataFrame | None) -> None:
    """Every declared metric is a column of some table (a dropped column would otherwise fail at lookup)."""
    present = set().union(*(t.columns for t in tables if t is not None))
    absent = [name for name in meta.metrics if name not in present]
    if absent:
        raise DataFormatError(f"declared metrics {absent} have no column in the store's tables")


def _with_seed_means(results: pd.DataFrame) -> pd.DataFrame:
    """Fill seed == -1 rows with the mean over seeds wherever a converter gave no mean value itself."""
    is_mean = results["seed"] == SEED_MEAN
    per_seed = results[~is_mean]
    if per_seed.empty:
        return results
    index = ["key", "fidelity"]
    computed = per_seed.drop(columns="seed").groupby(index, sort=False).mean()
    given = results[is_mean].drop(columns="seed").set_index(index)
    means = given.combine_first(computed).reset_index()
    means.insert(1, "seed", SEED_MEAN)
    return pd.concat([per_seed, means[results.columns]], ignore_index=True)


def _narrow_ids(results: pd.DataFrame) -> pd.DataFrame:
    """``seed`` and ``fidelity`` as int16 where their values fit, else int32 (6.8 M NB101 rows: 54 MB less)."""
    small = np.iinfo(np.int16)
    dtypes = {}
    for column in ("seed", "fidelity"):
        values = results[column].to_numpy()
        fits = not len(values) or (small.min <= values.min() and values.max() <= small.max)
        dtypes[column] = "int16" if fits else "int32"
    return results.astype(dtypes)


def validate_store(
    meta: StoreMeta,
    archs: pd.DataFrame,
    results: pd.DataFrame,
    proxies: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Check the tables against the declaration; return results with the seed-mean rows added."""
    try:
        return _validate(meta, archs, results, proxies, curves)
    except DataFormatError as exc:
        raise DataFormatError(f"{meta.name}: {exc}") from None


def _validate(
    meta: StoreMeta,
    archs: pd.DataFrame,
    results: pd.DataFrame,
    proxies: pd.DataFrame | None,
    curves: pd.DataFrame | None,
) -> pd.DataFrame:
    _check_declaration(meta)
    if "key" not in archs.columns:
        raise DataFormatError("archs table needs a 'key' column")
    if not len(archs):
        raise DataFormatError("archs table has no architectures")
    if archs["key"].duplicated().any():
        dup = archs.loc[archs["key"].duplicated(), "key"].iloc[0]
        raise DataFormatError(f"duplicate architecture key {dup!r} in archs table")
    _check_metric_columns(results, ID_COLUMNS, meta, "results table")
    rows = pd.Index(archs["key"]).get_indexer(results["key"])
    if (rows < 0).any():
        unknown = sorted(set(results["key"][rows < 0]))
        raise DataFormatError(f"results reference keys not in archs, e.g. {unknown[:3]}")
    results = _narrow_ids(_with_seed_means(results.astype({"seed": "int32", "fidelity": "int32"})))
    rows = pd.Index(archs["key"]).get_indexer(results["key"])
    _check_rows(meta, rows, results["seed"].to_numpy(), results["fidelity"].to_numpy(), results)
    if proxies is not None:
        _check_metric_columns(proxies, ("key",), meta, "proxies table")
        if proxies["key"].duplicated().any():
            raise DataFormatError(
                f"duplicate key {proxies.loc[proxies['key'].duplicated(), 'key'].iloc[0]!r} in proxies"
            )
        for column in proxies.columns.drop("key"):
            if meta.metrics[column].kind != "proxy":
                raise DataFormatError(f"proxy column {column!r} must be declared kind='proxy'")
    if curves is not None:
        _check_metric_columns(curves, CURVE_ID_COLUMNS, meta, "curves table")
    _check_coverage(meta, results, proxies, curves)
    return results


def _write_table(table: pd.DataFrame, path: Path) -> dict[str, Any]:
    table.to_parquet(path, index=False)
    return {"sha256": file_sha256(path), "rows": len(table)}


def write_store(
    root: str | Path,
    meta: StoreMeta,
    archs: pd.DataFrame,
    results: pd.DataFrame,
    proxies: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> Path:
    """Validate and write a store to ``root/meta.name`` atomically; return its path.

    ``meta.name`` must be a store name (``benchmark/task``): the store is written strictly inside ``root``,
    nothing outside it is ever replaced. ``meta.json`` records each table's sha256 and row count.
    """
    results = validate_store(meta, archs, results, proxies, curves)
    dest = store_folder(root, meta.name)
    with atomic_path(dest) as tmp:
        tmp.mkdir(parents=True)
        tables = {"archs.parquet": _write_table(archs.reset_index(drop=True), tmp / "archs.parquet")}
        rows = pd.Index(archs["key"]).get_indexer(results["key"]).astype(np.int32)
        values = results.drop(columns="key").assign(**{ARCH_ROW: rows})[[ARCH_ROW, *results.columns.drop("key")]]
        tables["results.parquet"] = _write_table(values, tmp / "results.parquet")
        if proxies is not None:
            tables["proxies.parquet"] = _write_table(proxies.reset_index(drop=True), tmp / "proxies.parquet")
        if curves is not None:
            tables["curves.parquet"] = _write_table(curves.reset_index(drop=True), tmp / "curves.parquet")
        _write_meta(tmp, dataclasses.replace(meta, format_version=FORMAT_VERSION, tables=tables))
    log.info("wrote store %s (%d archs, %d result rows)", dest, len(archs), len(results))
    return dest


def _write_meta(folder: Path, meta: StoreMeta) -> None:
    (folder / "meta.json").write_text(json.dumps(meta.to_dict(), indent=2) + "\n", encoding="utf-8")


def write_proxies(path: str | Path, meta: StoreMeta, proxies: pd.DataFrame) -> Path:
    """Replace the proxies table and ``meta.json`` of the store at ``path`` in one atomic step.

    The other tables are hard-linked (copied where links are not supported) into the new folder, so the cost
    does not grow with them; ``meta`` gets the new table's hash.
    """
    path = Path(path)
    store = read_store(path)
    validate_store(meta, store.archs, store.results, proxies, store.curves)
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        tables = {k: v for k, v in store.meta.tables.items() if k != "proxies.parquet"}
        for name in tables:
            try:
                os.link(path / name, tmp / name)
            except OSError:
                shutil.copy2(path / name, tmp / name)
        tables["proxies.parquet"] = _write_table(proxies.reset_index(drop=True), tmp / "proxies.parquet")
        _write_meta(tmp, dataclasses.replace(meta, format_version=FORMAT_VERSION, tables=tables))
    return path


def read_meta(path: str | Path) -> StoreMeta:
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise DataFormatError(f"{path}: not a predictbench store (no meta.json)")
    folder_name = "/".join(Path(os.path.abspath(path)).parts[-2:])
    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise DataFormatError(f"{meta_file}: invalid JSON ({where}); run `{reconvert_command(folder_name)}`") from exc
    try:
        meta = StoreMeta.from_dict(data, source=str(meta_file))
    except DataFormatError as exc:
        if "--force" in str(exc):
            raise
        provenance = data.get("provenance") if isinstance(data, dict) else None
        hint = reconvert_command(folder_name, provenance if isinstance(provenance, dict) else None)
        raise DataFormatError(f"{exc}; run `{hint}`") from None
    if meta.name != folder_name:
        raise DataFormatError(
            f"{meta_file}: names store {meta.name!r}, but lies in folder {folder_name!r}; a store's name must be its "
            f"folder under the data root (copied or edited meta.json?); run `{reconvert_command(folder_name)}`"
        )
    return meta


def _read_table(path: Path, meta: StoreMeta, verify: bool) -> pd.DataFrame | None:
    """Read one table file; with ``verify`` its bytes must match the sha256 and rows recorded in ``meta.json``."""
    recorded = meta.tables.get(path.name)
    if not path.is_file():
        if recorded is not None:
            raise DataFormatError(f"{path}: missing, though meta.json records it; run `{meta.reconvert()}`")
        return None
    if recorded is None:
        raise DataFormatError(f"{path}: not recorded in meta.json (added after conversion?); run `{meta.reconvert()}`")
    import pyarrow.parquet as pq

    try:
        # one column at a time, its Arrow buffers freed as it converts: the peak stays near one copy of the table
        # (the 6.8 M-row NB101 results: 530 MB instead of 940 MB when the whole Arrow table is decoded first)
        parquet = pq.ParquetFile(path)
        columns = [
            parquet.read(columns=[name]).to_pandas(split_blocks=True, self_destruct=True)
            for name in parquet.schema_arrow.names
        ]
        table = pd.concat(columns, axis=1) if columns else pd.DataFrame()
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) on corrupt files
        raise DataFormatError(f"{path}: unreadable parquet table ({exc}); run `{meta.reconvert()}`") from exc
    if verify and file_sha256(path) != recorded["sha256"]:
        raise DataFormatError(
            f"{path}: content differs from the sha256 recorded in meta.json (damaged or edited after conversion); "
            f"run `{meta.reconvert()}`"
        )
    if len(table) != recorded["rows"]:
        raise DataFormatError(
            f"{path}: {len(table)} rows, meta.json records {recorded['rows']}; run `{meta.reconvert()}`"
        )
    return table


def read_store(path: str | Path, *, verify: bool = True) -> Store:
    """Read a store folder and check it.

    The structure (files, columns, ``arch_row`` range, the name matching the folder) is always checked. With
    ``verify`` (default), also every table's sha256 and the values (see the module docstring); measured cost in
    ``benchmarks/bench_load.py``.
    """
    path = Path(path)
    meta = read_meta(path)  # checks that the name is the folder's
    unknown = set(meta.tables) - set(TABLE_FILES)
    if unknown:
        raise DataFormatError(f"{path / 'meta.json'}: unknown table files {sorted(unknown)}; run `{meta.reconvert()}`")
    for name in ("archs.parquet", "results.parquet"):
        if name not in meta.tables:
            raise DataFormatError(f"{path / name}: store is incomplete, {name} is missing; run `{meta.reconvert()}`")
    archs = _read_table(path / "archs.parquet", meta, verify)
    values = _read_table(path / "results.parquet", meta, verify)
    assert archs is not None and values is not None  # recorded in meta.tables, so present or raised
    proxies = _read_table(path / "proxies.parquet", meta, verify)
    curves = _read_table(path / "curves.parquet", meta, verify)

    def fail(file: str, problem: str) -> DataFormatError:
        return DataFormatError(f"{path / file}: {problem}; run `{meta.reconvert()}`")

    if "key" not in archs.columns:
        raise fail("archs.parquet", "no 'key' column")
    for column in (ARCH_ROW, "seed", "fidelity"):
        if column not in values.columns or not pd.api.types.is_integer_dtype(values[column]):
            raise fail("results.parquet", f"no integer {column!r} column")
    if not len(archs):
        raise fail("archs.parquet", "no architectures")
    rows = values[ARCH_ROW].to_numpy()
    if len(rows) and (rows.min() < 0 or rows.max() >= len(archs)):
        raise fail("results.parquet", f"{ARCH_ROW} outside the {len(archs)} rows of archs.parquet")
    if verify:
        for file, check in (
            ("meta.json", lambda: _check_declaration(meta)),
            ("archs.parquet", lambda: _check_unique_keys(archs, "archs")),
            ("results.parquet", lambda: _check_metric_columns(values, (ARCH_ROW, "seed", "fidelity"), meta, "table")),
            (
                "results.parquet",
                lambda: _check_rows(meta, rows, values["seed"].to_numpy(), values["fidelity"].to_numpy(), values),
            ),
            ("meta.json", lambda: _check_coverage(meta, values, proxies, curves)),
        ):
            try:
                check()
            except DataFormatError as exc:
                raise fail(file, str(exc)) from None
        if proxies is not None:
            try:
                _check_metric_columns(proxies, ("key",), meta, "table")
                _check_unique_keys(proxies, "proxies")
            except DataFormatError as exc:
                raise fail("proxies.parquet", str(exc)) from None
        if curves is not None:
            try:
                _check_metric_columns(curves, CURVE_ID_COLUMNS, meta, "table")
            except DataFormatError as exc:
                raise fail("curves.parquet", str(exc)) from None
    return Store(path=path, meta=meta, archs=archs, values=values, proxies=proxies, curves=curves)


def _check_unique_keys(table: pd.DataFrame, what: str) -> None:
    if table["key"].is_unique:  # one hash pass; only a failing table pays for finding the first duplicate
        return
    duplicated = table["key"].duplicated()
    if duplicated.any():
        raise DataFormatError(f"duplicate key {table.loc[duplicated, 'key'].iloc[0]!r} in the {what} table")


def verify_existing(path: str | Path) -> str | None:
    """None when the store at ``path`` reads and verifies; else the problem (for converters deciding to skip)."""
    try:
        read_store(path)
    except DataFormatError as exc:
        return str(exc)
    return None
