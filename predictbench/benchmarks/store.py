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
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.paths import atomic_path
from predictbench.types import DataFormatError, Metric

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: results keyed by arch_row (row in archs.parquet) instead of the key string
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


@dataclass(frozen=True)
class StoreMeta:
    """Contents of ``meta.json``."""

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
            "provenance": self.provenance,
            "citation": self.citation,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "meta.json") -> StoreMeta:
        required = ("format_version", "name", "space", "task", "metrics", "fidelities", "default_fidelity")
        missing = [k for k in required if k not in data]
        if missing:
            raise DataFormatError(f"{source}: missing fields {missing}")
        if data["format_version"] != FORMAT_VERSION:
            raise DataFormatError(
                f"{source}: store format version {data['format_version']} is not supported "
                f"(this predictbench reads version {FORMAT_VERSION}); convert the benchmark again"
            )
        metrics = {m["name"]: Metric.from_dict(m) for m in data["metrics"]}

        def ref(value: Any) -> MetricRef | None:
            return MetricRef(value["metric"], int(value["fidelity"])) if value else None

        return cls(
            name=data["name"],
            space=data["space"],
            task=data["task"],
            metrics=metrics,
            fidelities=tuple(int(f) for f in data["fidelities"]),
            default_fidelity=int(data["default_fidelity"]),
            seeds=tuple(int(s) for s in data.get("seeds", ())),
            search=ref(data.get("search")),
            report=ref(data.get("report")),
            fidelity_unit=data.get("fidelity_unit", "epochs"),
            provenance=data.get("provenance", {}),
            citation=data.get("citation", ""),
            description=data.get("description", ""),
            format_version=data["format_version"],
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
    missing = [c for c in id_columns if c not in table.columns]
    if missing:
        raise DataFormatError(f"{meta.name}: {what} lacks columns {missing}")
    for column in table.columns:
        if column in id_columns:
            continue
        if column not in meta.metrics:
            raise DataFormatError(f"{meta.name}: {what} column {column!r} is not a declared metric")
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise DataFormatError(f"{meta.name}: {what} column {column!r} must be numeric")
        values = table[column].to_numpy(dtype=float)
        if np.isfinite(values).any():
            meta.metrics[column].check_bounds(float(np.nanmin(values)), float(np.nanmax(values)))


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


def validate_store(
    meta: StoreMeta,
    archs: pd.DataFrame,
    results: pd.DataFrame,
    proxies: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Check the tables against the declaration; return results with the seed-mean rows added."""
    if "key" not in archs.columns:
        raise DataFormatError(f"{meta.name}: archs table needs a 'key' column")
    if archs["key"].duplicated().any():
        dup = archs.loc[archs["key"].duplicated(), "key"].iloc[0]
        raise DataFormatError(f"{meta.name}: duplicate architecture key {dup!r} in archs table")
    if meta.default_fidelity not in meta.fidelities:
        raise DataFormatError(
            f"{meta.name}: default fidelity {meta.default_fidelity} not in fidelities {meta.fidelities}"
        )
    for ref in (meta.search, meta.report):
        if ref is not None and (ref.metric not in meta.metrics or ref.fidelity not in meta.fidelities):
            raise DataFormatError(f"{meta.name}: {ref} names an undeclared metric or fidelity")
    _check_metric_columns(results, ID_COLUMNS, meta, "results table")
    known = set(archs["key"])
    unknown = set(results["key"]) - known
    if unknown:
        raise DataFormatError(f"{meta.name}: results reference keys not in archs, e.g. {sorted(unknown)[:3]}")
    bad_fidelity = set(results["fidelity"].unique()) - set(meta.fidelities)
    if bad_fidelity:
        raise DataFormatError(f"{meta.name}: results use undeclared fidelities {sorted(bad_fidelity)}")
    if results.duplicated(list(ID_COLUMNS)).any():
        raise DataFormatError(f"{meta.name}: results have duplicate (key, seed, fidelity) rows")
    results = results.astype({"seed": "int32", "fidelity": "int32"})
    results = _with_seed_means(results)
    if proxies is not None:
        _check_metric_columns(proxies, ("key",), meta, "proxies table")
        for column in proxies.columns.drop("key"):
            if meta.metrics[column].kind != "proxy":
                raise DataFormatError(f"{meta.name}: proxy column {column!r} must be declared kind='proxy'")
    if curves is not None:
        _check_metric_columns(curves, CURVE_ID_COLUMNS, meta, "curves table")
    return results


def write_store(
    root: str | Path,
    meta: StoreMeta,
    archs: pd.DataFrame,
    results: pd.DataFrame,
    proxies: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> Path:
    """Validate and write a store to ``root/meta.name`` atomically; return its path."""
    results = validate_store(meta, archs, results, proxies, curves)
    dest = Path(root) / meta.name
    with atomic_path(dest) as tmp:
        tmp.mkdir(parents=True)
        archs.reset_index(drop=True).to_parquet(tmp / "archs.parquet", index=False)
        rows = pd.Index(archs["key"]).get_indexer(results["key"]).astype(np.int32)
        results.drop(columns="key").assign(**{ARCH_ROW: rows})[[ARCH_ROW, *results.columns.drop("key")]].to_parquet(
            tmp / "results.parquet", index=False
        )
        if proxies is not None:
            proxies.reset_index(drop=True).to_parquet(tmp / "proxies.parquet", index=False)
        if curves is not None:
            curves.reset_index(drop=True).to_parquet(tmp / "curves.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(meta.to_dict(), indent=2) + "\n", encoding="utf-8")
    log.info("wrote store %s (%d archs, %d result rows)", dest, len(archs), len(results))
    return dest


def read_meta(path: str | Path) -> StoreMeta:
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise DataFormatError(f"{path}: not a predictbench store (no meta.json)")
    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{meta_file}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    return StoreMeta.from_dict(data, source=str(meta_file))


def _read_table(path: Path, required: bool = True) -> pd.DataFrame | None:
    if not path.is_file():
        if required:
            raise DataFormatError(f"{path.parent}: store is incomplete, {path.name} is missing")
        return None
    import pyarrow.parquet as pq

    try:
        # one block per column and Arrow buffers freed as they convert: the peak stays near one copy of the table
        return pq.read_table(path).to_pandas(split_blocks=True, self_destruct=True)
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError) on corrupt files
        raise DataFormatError(f"{path}: unreadable parquet table ({exc})") from exc


def read_store(path: str | Path) -> Store:
    """Read a store folder (no validation beyond structure: stores are validated when written)."""
    path = Path(path)
    meta = read_meta(path)
    archs = _read_table(path / "archs.parquet")
    values = _read_table(path / "results.parquet")
    assert archs is not None and values is not None  # required=True guarantees it
    if ARCH_ROW not in values.columns or "key" not in archs.columns:
        raise DataFormatError(
            f"{path}: store tables lack the 'key' / {ARCH_ROW!r} columns; convert the benchmark again"
        )
    rows = values[ARCH_ROW].to_numpy()
    if len(rows) and (rows.min() < 0 or rows.max() >= len(archs)):
        raise DataFormatError(f"{path / 'results.parquet'}: {ARCH_ROW} outside the {len(archs)} rows of archs.parquet")
    return Store(
        path=path,
        meta=meta,
        archs=archs,
        values=values,
        proxies=_read_table(path / "proxies.parquet", required=False),
        curves=_read_table(path / "curves.parquet", required=False),
    )
