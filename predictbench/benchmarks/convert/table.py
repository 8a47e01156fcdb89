"""Generic table importer: a Parquet or CSV table of per-architecture values -> one store.

A table has one column identifying the architecture (an NB201 official index, arch string or NASLib
tuple; key kinds are a small per-space dispatch, :data:`KEY_KINDS`) and any number of value columns.
Each store metric is declared once, with its direction, unit, kind and bounds, and names the source
column(s) it is read from, with a fidelity per column when one row carries several (e.g. 12- and
200-epoch accuracy side by side)::

    from predictbench import Metric
    from predictbench.benchmarks.convert.table import MetricSource, convert

    convert(
        "my_results.csv", root="benchmarks_data", name="nb201/mine", space="nb201",
        key_column="arch", key_kind="arch_str",
        metrics={
            "valid_acc": MetricSource(Metric("valid_acc", True, "%", lower=0, upper=100),
                                      (("acc_12", 12), ("acc_200", 200))),
            "test_acc": {"higher_is_better": True, "unit": "%", "column": "test", "fidelity": 200},
            "latency": Metric("latency", False, "ms", "cost"),  # column "latency", at `fidelity`
        },
        fidelity=200, search=("valid_acc", 12), report=("test_acc", 200),
    )

The same declaration as a TOML spec file (``predictbench data convert table spec.toml``), with ``source``
relative to the spec file::

    name = "nb201/mine"
    space = "nb201"
    source = "my_results.csv"
    key_column = "arch"
    key_kind = "arch_str"
    fidelity = 200
    search = { metric = "valid_acc", fidelity = 12 }
    report = { metric = "test_acc", fidelity = 200 }
    proxies = ["synflow"]                       # or [proxies.synflow] tables like metrics

    [metrics.valid_acc]
    higher_is_better = true
    unit = "%"
    lower = 0
    upper = 100
    columns = { acc_12 = 12, acc_200 = 200 }    # source column -> fidelity

    [metrics.test_acc]
    higher_is_better = true
    column = "test"

Rows are per architecture (one row per key) unless the table has a ``seed_column`` (per-seed rows; the
store adds the seed means) and/or a ``fidelity_column`` (one row per key and fidelity). Zero-cost proxies
(``proxies``) go to ``proxies.parquet`` and, being fidelity-independent, also into the results at the
default fidelity so that ``lookup`` reaches them.

Every problem is a one-line :class:`~predictbench.types.DataFormatError` naming the file: missing columns
(with the columns the file has), keys outside the space (:class:`InvalidKeyError`, also an
``OutOfSpaceError``, naming the first bad key and its row), duplicate keys, non-numeric values. The store
is written atomically by :func:`~predictbench.benchmarks.store.write_store`; provenance records the sha256
of the table and of the declaration, and a second run with the same inputs is skipped (``force=True``
rewrites).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.benchmarks.convert.base import is_current, require_file
from predictbench.benchmarks.store import SEED_MEAN, MetricRef, StoreMeta, provenance, write_store
from predictbench.paths import check_store_name, data_root, file_sha256, store_folder
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric, OutOfSpaceError

log = logging.getLogger(__name__)

CONVERTER = "table"
VERSION = "1"
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".tsv")
SPEC_SUFFIXES = (".toml", ".json")
_SPEC_FIELDS = frozenset(
    {
        "source",
        "name",
        "space",
        "key_column",
        "key_kind",
        "metrics",
        "proxies",
        "fidelity_column",
        "fidelity",
        "default_fidelity",
        "seed_column",
        "task",
        "search",
        "report",
        "citation",
        "description",
        "fidelity_unit",
    }
)
_METRIC_FIELDS = frozenset(
    {"higher_is_better", "unit", "kind", "lower", "upper", "bounds", "description", "column", "columns", "fidelity"}
)
_MAX_LISTED_COLUMNS = 60


class InvalidKeyError(DataFormatError, OutOfSpaceError):
    """A table's key column holds a value that is not an architecture of the declared space."""


# --------------------------------------------------------------------------------------------------
# declarations
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricSource:
    """A declared metric and the source column(s) it is read from, each at a fidelity.

    ``columns`` holds ``(column, fidelity)`` pairs; a fidelity of ``None`` means "the table's fidelity"
    (the ``fidelity`` argument, or the per-row ``fidelity_column``).

    Examples
    --------
    >>> src = MetricSource(Metric("valid_acc", True, "%"), (("acc_12", 12), ("acc_200", 200)))
    >>> src.name, src.fidelities
    ('valid_acc', (12, 200))
    """

    metric: Metric
    columns: tuple[tuple[str, int | None], ...]

    def __post_init__(self) -> None:
        if not self.columns:
            raise DataFormatError(f"metric {self.metric.name!r}: no source column declared")
        fids = [f for _, f in self.columns]
        if len(set(fids)) != len(fids):
            raise DataFormatError(
                f"metric {self.metric.name!r}: two source columns at the same fidelity ({list(self.columns)})"
            )
        if None in fids and len(fids) > 1:
            raise DataFormatError(
                f"metric {self.metric.name!r}: with several source columns every column needs a fidelity "
                f"({list(self.columns)})"
            )

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def fidelities(self) -> tuple[int | None, ...]:
        return tuple(f for _, f in self.columns)

    def to_dict(self) -> dict[str, Any]:
        out = self.metric.to_dict()
        out.pop("name")
        out["columns"] = [[c, f] for c, f in self.columns]
        return out


def _as_fidelity(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value:
        raise DataFormatError(f"{what}: fidelity must be an integer, got {value!r}")
    return int(value)


def _parse_columns(name: str, spec: Mapping[str, Any]) -> tuple[tuple[str, int | None], ...]:
    if "columns" in spec:
        if "column" in spec or "fidelity" in spec:
            raise DataFormatError(f"metric {name!r}: give either 'columns' or 'column' (+ 'fidelity'), not both")
        raw = spec["columns"]
        pairs: list[tuple[Any, Any]]
        if isinstance(raw, Mapping):
            pairs = list(raw.items())
        elif isinstance(raw, Sequence) and not isinstance(raw, str):
            pairs = []
            for item in raw:
                if isinstance(item, str):
                    pairs.append((item, None))
                elif isinstance(item, Sequence) and len(item) == 2:
                    pairs.append((item[0], item[1]))
                else:
                    raise DataFormatError(f"metric {name!r}: column entry {item!r} is not (column, fidelity)")
        else:
            raise DataFormatError(f"metric {name!r}: 'columns' must map column -> fidelity, got {raw!r}")
        out = []
        for column, fid in pairs:
            if not isinstance(column, str):
                raise DataFormatError(f"metric {name!r}: column name must be a string, got {column!r}")
            out.append((column, _as_fidelity(fid, f"metric {name!r} column {column!r}")))
        return tuple(out)
    column = spec.get("column", name)
    if not isinstance(column, str):
        raise DataFormatError(f"metric {name!r}: column name must be a string, got {column!r}")
    return ((column, _as_fidelity(spec.get("fidelity"), f"metric {name!r}")),)


def _source_from_mapping(name: str, spec: Mapping[str, Any], *, proxy: bool) -> MetricSource:
    unknown = set(spec) - _METRIC_FIELDS
    if unknown:
        raise DataFormatError(
            f"{'proxy' if proxy else 'metric'} {name!r}: unknown fields {sorted(unknown)}; "
            f"allowed: {sorted(_METRIC_FIELDS)}"
        )
    lower, upper = spec.get("lower"), spec.get("upper")
    if "bounds" in spec:
        if "lower" in spec or "upper" in spec:
            raise DataFormatError(f"metric {name!r}: give 'bounds' or 'lower'/'upper', not both")
        bounds = spec["bounds"]
        if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
            raise DataFormatError(f"metric {name!r}: bounds must be [lower, upper], got {bounds!r}")
        lower, upper = bounds
    if proxy:
        direction = spec.get("higher_is_better", True)
        kind = spec.get("kind", "proxy")
    else:
        if "higher_is_better" not in spec:
            raise DataFormatError(f"metric {name!r}: declare 'higher_is_better' (true or false)")
        direction = spec["higher_is_better"]
        kind = spec.get("kind", "objective")
    if not isinstance(direction, bool):
        raise DataFormatError(f"metric {name!r}: higher_is_better must be true or false, got {direction!r}")
    try:
        metric = Metric(
            name,
            direction,
            unit=str(spec.get("unit", "")),
            kind=kind,
            lower=None if lower is None else float(lower),
            upper=None if upper is None else float(upper),
            description=str(spec.get("description", "")),
        )
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"metric {name!r}: {exc}") from exc
    return MetricSource(metric, _parse_columns(name, spec))


def metric_sources(
    declared: Mapping[str, Metric | MetricSource | Mapping[str, Any] | str] | Sequence[str] | None,
    *,
    proxy: bool = False,
) -> tuple[MetricSource, ...]:
    """Normalise metric (or proxy) declarations to :class:`MetricSource` values.

    ``declared`` maps a store metric name to one of

    - a :class:`MetricSource` (explicit metric and columns);
    - a :class:`~predictbench.types.Metric`: read from the column named by the mapping key; when the
      Metric's own name differs, the key is the source column and the Metric's name the store name
      (renaming);
    - a dict with ``higher_is_better`` (required for metrics; proxies default to ``True``), optional
      ``unit``, ``kind``, ``lower``/``upper`` or ``bounds``, ``description``, and the source:
      ``column`` (default: the metric name) with an optional ``fidelity``, or ``columns`` mapping
      column -> fidelity (or a list of ``(column, fidelity)`` pairs);
    - for proxies only: a column name (string), or a plain list of column names instead of a mapping.

    Proxies are forced to ``kind="proxy"`` and must have a single column without a fidelity.

    Examples
    --------
    >>> [s.name for s in metric_sources({"acc": {"higher_is_better": True, "column": "accuracy"}})]
    ['acc']
    >>> metric_sources(["synflow"], proxy=True)[0].metric.kind
    'proxy'
    """
    if declared is None:
        return ()
    what = "proxy" if proxy else "metric"
    items: list[tuple[str, Any]]
    if isinstance(declared, Mapping):
        items = list(declared.items())
    elif isinstance(declared, Sequence) and not isinstance(declared, str) and proxy:
        items = [(name, {}) for name in declared]
    else:
        raise DataFormatError(f"{what} declarations must be a mapping name -> declaration, got {declared!r:.200}")
    out: list[MetricSource] = []
    for key, value in items:
        if not isinstance(key, str) or not key:
            raise DataFormatError(f"{what} name must be a non-empty string, got {key!r}")
        if isinstance(value, MetricSource):
            source = value
        elif isinstance(value, Metric):
            source = MetricSource(value, ((key, None),))
        elif isinstance(value, Mapping):
            source = _source_from_mapping(key, value, proxy=proxy)
        elif isinstance(value, str) and proxy:
            source = _source_from_mapping(key, {"column": value}, proxy=True)
        else:
            raise DataFormatError(
                f"{what} {key!r}: expected a Metric, MetricSource or dict declaration, got {value!r:.200}"
            )
        if proxy:
            if source.metric.kind != "proxy":
                raise DataFormatError(
                    f"proxy {source.name!r} must be declared kind='proxy', got {source.metric.kind!r}"
                )
            if len(source.columns) != 1 or source.columns[0][1] is not None:
                raise DataFormatError(f"proxy {source.name!r}: proxies take one column and no fidelity")
        out.append(source)
    names = [s.name for s in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise DataFormatError(f"{what} {dup!r} is declared twice")
    return tuple(out)


def _metric_ref(value: Any, what: str) -> MetricRef | tuple[str, int | None] | None:
    """A search/report declaration as MetricRef, or (metric, None) when the fidelity is left open."""
    if value is None or isinstance(value, MetricRef):
        return value
    if isinstance(value, str):
        metric, sep, fid = value.partition("@")
        if not sep:
            return (metric, None)
        if not fid.isdigit():
            _bad_ref(value, what)
        return (metric, int(fid))
    if isinstance(value, Mapping):
        if set(value) - {"metric", "fidelity"} or "metric" not in value:
            _bad_ref(value, what)
        return (str(value["metric"]), _as_fidelity(value.get("fidelity"), what))
    if isinstance(value, Sequence) and len(value) == 2 and isinstance(value[0], str):
        return (value[0], _as_fidelity(value[1], what))
    return _bad_ref(value, what)


def _bad_ref(value: Any, what: str) -> Any:
    raise DataFormatError(
        f"{what}: expected a metric name, 'metric@fidelity', (metric, fidelity) or "
        f"{{metric=..., fidelity=...}}, got {value!r}"
    )


@dataclass(frozen=True)
class TableSpec:
    """Everything the table importer needs to know about one table (the TOML/JSON spec, parsed).

    Examples
    --------
    >>> spec = TableSpec.from_dict({
    ...     "name": "nb201/mine", "space": "nb201", "key_column": "index", "key_kind": "index",
    ...     "fidelity": 200, "metrics": {"acc": {"higher_is_better": True, "unit": "%"}},
    ... })
    >>> spec.task, [m.name for m in spec.metrics]
    ('mine', ['acc'])
    """

    name: str
    space: str
    key_column: str
    key_kind: str
    metrics: tuple[MetricSource, ...]
    proxies: tuple[MetricSource, ...] = ()
    fidelity_column: str | None = None
    fidelity: int | None = None
    default_fidelity: int | None = None
    seed_column: str | None = None
    task: str = ""
    search: MetricRef | tuple[str, int | None] | None = None
    report: MetricRef | tuple[str, int | None] | None = None
    citation: str = ""
    description: str = ""
    fidelity_unit: str = "epochs"
    source: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for attr in ("name", "space", "key_column", "key_kind"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value:
                raise DataFormatError(f"table spec: {attr!r} must be a non-empty string, got {value!r}")
        try:
            check_store_name(self.name)
        except ValueError as exc:
            raise DataFormatError(f"table spec: 'name': {exc}") from None
        if not self.metrics and not self.proxies:
            raise DataFormatError(f"table spec {self.name!r}: declare at least one metric or proxy")
        if not self.task:
            object.__setattr__(self, "task", self.name.rsplit("/", 1)[-1])
        clash = {m.name for m in self.metrics} & {p.name for p in self.proxies}
        if clash:
            raise DataFormatError(f"table spec {self.name!r}: {sorted(clash)} declared both as metric and proxy")
        if self.fidelity_column is not None:
            explicit = [s.name for s in self.metrics if any(f is not None for f in s.fidelities)]
            if explicit or self.fidelity is not None:
                raise DataFormatError(
                    f"table spec {self.name!r}: fidelity_column {self.fidelity_column!r} gives the fidelity of "
                    f"every row; do not also declare fidelities (metrics {explicit}, fidelity={self.fidelity})"
                )
        else:
            open_fid = [s.name for s in self.metrics if None in s.fidelities]
            if open_fid and self.fidelity is None:
                raise DataFormatError(
                    f"table spec {self.name!r}: metrics {open_fid} have no fidelity; give fidelity=<value> for "
                    f"the table, a fidelity per column, or fidelity_column"
                )
        object.__setattr__(self, "search", _metric_ref(self.search, f"{self.name}: search"))
        object.__setattr__(self, "report", _metric_ref(self.report, f"{self.name}: report"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: Path | None = None) -> TableSpec:
        """Parse a spec dict (e.g. read from TOML); a relative ``source`` is taken relative to ``base``."""
        unknown = set(data) - _SPEC_FIELDS
        if unknown:
            raise DataFormatError(f"table spec: unknown fields {sorted(unknown)}; allowed: {sorted(_SPEC_FIELDS)}")
        missing = [k for k in ("name", "space", "key_column", "key_kind") if k not in data]
        if missing:
            raise DataFormatError(f"table spec: missing fields {missing}")
        source = data.get("source")
        source_path = None
        if source is not None:
            source_path = Path(str(source)).expanduser()
            if base is not None and not source_path.is_absolute():
                source_path = base / source_path
        return cls(
            name=data["name"],
            space=data["space"],
            key_column=data["key_column"],
            key_kind=data["key_kind"],
            metrics=metric_sources(data.get("metrics")),
            proxies=metric_sources(data.get("proxies"), proxy=True),
            fidelity_column=data.get("fidelity_column"),
            fidelity=_as_fidelity(data.get("fidelity"), "table spec"),
            default_fidelity=_as_fidelity(data.get("default_fidelity"), "table spec default_fidelity"),
            seed_column=data.get("seed_column"),
            task=data.get("task", ""),
            search=data.get("search"),
            report=data.get("report"),
            citation=data.get("citation", ""),
            description=data.get("description", ""),
            fidelity_unit=data.get("fidelity_unit", "epochs"),
            source=source_path,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (without ``source``); its hash is part of the store's provenance."""

        def ref(value: Any) -> Any:
            if isinstance(value, MetricRef):
                return value.to_dict()
            return None if value is None else {"metric": value[0], "fidelity": value[1]}

        return {
            "name": self.name,
            "space": self.space,
            "key_column": self.key_column,
            "key_kind": self.key_kind,
            "metrics": {s.name: s.to_dict() for s in self.metrics},
            "proxies": {s.name: s.to_dict() for s in self.proxies},
            "fidelity_column": self.fidelity_column,
            "fidelity": self.fidelity,
            "default_fidelity": self.default_fidelity,
            "seed_column": self.seed_column,
            "task": self.task,
            "search": ref(self.search),
            "report": ref(self.report),
            "citation": self.citation,
            "description": self.description,
            "fidelity_unit": self.fidelity_unit,
        }

    def digest(self) -> str:
        """sha256 of the declaration (so a changed declaration re-converts)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def source_columns(self) -> list[str]:
        """Every column the table must have, in declaration order, without repeats."""
        columns = [self.key_column]
        columns += [c for c in (self.seed_column, self.fidelity_column) if c is not None]
        columns += [c for s in (*self.metrics, *self.proxies) for c, _ in s.columns]
        return list(dict.fromkeys(columns))


def load_spec(path: str | Path) -> TableSpec:
    """Read a TOML or JSON table spec; its ``source`` is resolved relative to the spec file.

    Examples
    --------
    >>> spec = load_spec("benchmarks_data/my_table.toml")  # doctest: +SKIP
    """
    path = require_file(Path(path), "table spec")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataFormatError(f"{path}: invalid TOML ({exc})") from exc
    if not isinstance(data, dict):
        raise DataFormatError(f"{path}: a table spec must be a mapping, got {type(data).__name__}")
    try:
        return TableSpec.from_dict(data, base=path.parent)
    except DataFormatError as exc:
        raise DataFormatError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------------------------------
# reading tables
# --------------------------------------------------------------------------------------------------


def _table_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(".tsv"):
        return "tsv"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    raise DataFormatError(
        f"{path}: unsupported table format {''.join(path.suffixes) or '(no suffix)'}; "
        f"use Parquet ({', '.join(PARQUET_SUFFIXES)}) or CSV ({', '.join(CSV_SUFFIXES)})"
    )


def _list_columns(columns: Sequence[str]) -> str:
    shown = [str(c) for c in columns[:_MAX_LISTED_COLUMNS]]
    more = len(columns) - len(shown)
    return repr(shown) + (f" (+{more} more)" if more > 0 else "")


def table_columns(path: str | Path) -> list[str]:
    """Column names of a Parquet or CSV table, read without loading the data."""
    path = Path(path)
    fmt = _table_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        return [str(c) for c in pd.read_csv(path, nrows=0, sep="\t" if fmt == "tsv" else ",").columns]
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError)
        raise DataFormatError(f"{path}: unreadable {fmt} table ({exc})") from exc


def require_columns(have: Sequence[str], need: Sequence[str], source: str | Path) -> None:
    """One-line DataFormatError naming ``source``, the missing columns and the columns it has."""
    missing = [c for c in dict.fromkeys(need) if c not in set(have)]
    if missing:
        raise DataFormatError(f"{source}: missing columns {missing}; it has columns {_list_columns(list(have))}")


def read_table(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a Parquet or CSV table (chosen by suffix), optionally only ``columns`` (checked first).

    Examples
    --------
    >>> frame = read_table("results.csv", columns=["arch", "acc"])  # doctest: +SKIP
    """
    path = require_file(Path(path), "table")
    fmt = _table_format(path)
    if columns is not None:
        require_columns(table_columns(path), columns, path)
        columns = list(dict.fromkeys(columns))
    try:
        if fmt == "parquet":
            return pd.read_parquet(path, columns=columns)
        return pd.read_csv(path, usecols=columns, sep="\t" if fmt == "tsv" else ",")
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"{path}: unreadable {fmt} table ({exc})") from exc


# --------------------------------------------------------------------------------------------------
# key kinds: table column -> the space's canonical keys
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyKind:
    """How one kind of key column maps to a space's canonical keys.

    ``resolve(space, values)`` returns an object array of keys with ``None`` where a value is not an
    architecture of the space (vectorised over the column); ``explain(space, value)`` says why one
    value is invalid.
    """

    resolve: Callable[[Any, pd.Series], np.ndarray]
    explain: Callable[[Any, Any], str]
    description: str = ""


@cache
def _nb201_keys() -> np.ndarray:
    """Official arch strings in official index order (object array)."""
    archs = get_space("nb201").enumerate()
    keys = np.array([a.key for a in archs], dtype=object)
    keys.flags.writeable = False
    return keys


@cache
def _nb201_naslib_lookup() -> np.ndarray:
    """NASLib base-5 code (first position most significant) -> official index."""
    space: Any = get_space("nb201")
    codes = space.naslib_array(list(_nb201_keys())).astype(np.int64) @ (5 ** np.arange(5, -1, -1))
    lookup = np.full(5**6, -1, dtype=np.int64)
    lookup[codes] = np.arange(len(codes))
    return lookup


def _take(keys: np.ndarray, indices: np.ndarray, valid: np.ndarray) -> np.ndarray:
    out = np.full(len(indices), None, dtype=object)
    out[valid] = keys[indices[valid]]
    return out


def _nb201_index(space: Any, values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    n = len(_nb201_keys())
    valid = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers >= 0) & (numbers < n)
    indices = np.where(valid, numbers, 0).astype(np.int64)
    return _take(_nb201_keys(), indices, valid)


def _nb201_explain_index(space: Any, value: Any) -> str:
    return f"nb201 official index must be an integer in 0..{len(_nb201_keys()) - 1}, got {_show(value)}"


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _nb201_arch_str(space: Any, values: pd.Series) -> np.ndarray:
    text = values.where(values.map(_is_str).astype(bool))  # non-strings -> NaN -> not found
    text = text.str.strip().str.removeprefix("nb201:")
    positions = pd.Index(_nb201_keys()).get_indexer(text.to_numpy(dtype=object))
    valid = positions >= 0
    return _take(_nb201_keys(), positions, valid)


def _explain_key(space: Any, value: Any) -> str:
    try:
        parse = getattr(space, "parse", None) or space.validate
        parse(value)
    except OutOfSpaceError as exc:
        return str(exc)
    return f"{value!r} is not a canonical key of space {space.name!r}"


def _nb201_naslib_tuple(space: Any, values: pd.Series) -> np.ndarray:
    n = len(values)
    digits = np.full((n, 6), -1.0)
    is_text = values.map(_is_str).to_numpy(dtype=bool)
    if is_text.any():
        text = values[is_text].str.replace(r"[\s()\[\]]", "", regex=True)
        parts = text.str.split(",", expand=True)
        if parts.shape[1] == 6:
            digits[is_text] = parts.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rest = np.flatnonzero(~is_text)
    if len(rest):  # tuples, lists or arrays (e.g. from a Parquet list column)
        seqs = values.iloc[rest]
        lengths = seqs.map(lambda v: len(v) if isinstance(v, (Sequence, np.ndarray)) else -1).to_numpy()
        ok = rest[lengths == 6]
        if len(ok):
            block = np.array([np.asarray(v, dtype=object) for v in values.iloc[ok]], dtype=object)
            digits[ok] = pd.DataFrame(block).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    valid = (np.isfinite(digits) & (digits == np.round(digits)) & (digits >= 0) & (digits <= 4)).all(axis=1)
    codes = np.where(valid[:, None], digits, 0).astype(np.int64) @ (5 ** np.arange(5, -1, -1))
    return _take(_nb201_keys(), _nb201_naslib_lookup()[codes], valid)


def _nb201_explain_naslib(space: Any, value: Any) -> str:
    try:
        seq = value if isinstance(value, str) else [int(v) for v in value]
        space.from_naslib_tuple(seq)
    except OutOfSpaceError as exc:
        return str(exc)
    except (TypeError, ValueError):
        pass
    return f"not a NASLib tuple of 6 op codes 0..4: {value!r:.200}"


def _generic_keys(space: Any, values: pd.Series) -> np.ndarray:
    """Any space: keys validated one unique value at a time through ``space.validate``."""
    uniques = pd.unique(values)
    resolved = np.full(len(uniques), None, dtype=object)
    for i, value in enumerate(uniques):  # unique values only; spaces add vectorised kinds above
        try:
            resolved[i] = space.validate(value).key
        except OutOfSpaceError:
            continue
    return resolved[pd.Index(uniques).get_indexer(values)]


_NB201_ARCH_STR = KeyKind(_nb201_arch_str, _explain_key, "official arch string, e.g. '|nor_conv_3x3~0|+|...|'")
KEY_KINDS: dict[str, dict[str, KeyKind]] = {
    "nb201": {
        "index": KeyKind(_nb201_index, _nb201_explain_index, "official NB201 / NATS-tss index 0..15624"),
        "arch_str": _NB201_ARCH_STR,
        "key": _NB201_ARCH_STR,
        "naslib_tuple": KeyKind(
            _nb201_naslib_tuple, _nb201_explain_naslib, "NASLib op tuple, e.g. '(2, 2, 0, 2, 2, 3)'"
        ),
    },
    "nb101": {"hash": KeyKind(lambda space, values: space.resolve_keys(values), _explain_key, "NB101 module hash")},
}
"""space name -> key kind -> KeyKind. A new space (e.g. NB101 ``hash``) plugs in with one entry;
every space also accepts ``"key"`` (its canonical key, validated through ``space.validate``)."""
GENERIC_KEY = KeyKind(_generic_keys, _explain_key, "the space's canonical key")


def key_kinds(space: str) -> dict[str, KeyKind]:
    """The key kinds a table of ``space`` may use."""
    return {"key": GENERIC_KEY, **KEY_KINDS.get(space, {})}


def resolve_keys(
    space_name: str, key_kind: str, values: pd.Series, *, source: str | Path = "table", column: str = "key"
) -> np.ndarray:
    """Canonical keys (object array) of a key column; the first invalid value raises InvalidKeyError.

    Examples
    --------
    >>> keys = resolve_keys("nb201", "index", pd.Series([6111]))
    >>> keys[0]
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'
    """
    kinds = key_kinds(space_name)
    if key_kind not in kinds:
        raise DataFormatError(
            f"{source}: key kind {key_kind!r} is not known for space {space_name!r}; known: {sorted(kinds)}"
        )
    kind = kinds[key_kind]
    space = get_space(space_name)
    values = values.reset_index(drop=True)
    keys = kind.resolve(space, values)
    bad = np.flatnonzero(pd.isna(keys))
    if len(bad):
        row = int(bad[0])
        value = values.iloc[row]
        reason = kind.explain(space, value)
        raise InvalidKeyError(
            f"{source}: row {row}, column {column!r} ({key_kind}): {_show(value)} is not an architecture of "
            f"space {space_name!r} ({len(bad)} invalid row(s)): {reason}"
        )
    return keys


# --------------------------------------------------------------------------------------------------
# building the store tables
# --------------------------------------------------------------------------------------------------


def _show(value: Any, width: int = 200) -> str:
    """repr of a table value for messages (numpy scalars as plain Python values), truncated."""
    if isinstance(value, np.generic):
        value = value.item()
    return f"{value!r:.{width}}"


def numeric_column(table: pd.DataFrame, column: str, source: str | Path) -> np.ndarray:
    """A value column as float64; a non-numeric entry raises DataFormatError naming its row."""
    values = table[column]
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    converted = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(converted.isna().to_numpy() & values.notna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataFormatError(
            f"{source}: column {column!r} must be numeric (dtype {values.dtype}); row {row} holds "
            f"{_show(values.iloc[row], 100)} ({len(bad)} non-numeric value(s))"
        )
    return converted.to_numpy(dtype=float, na_value=np.nan)


def _int_column(table: pd.DataFrame, column: str, source: str | Path, what: str) -> np.ndarray:
    values = numeric_column(table, column, source)
    bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
    if len(bad):
        row = int(bad[0])
        raise DataFormatError(f"{source}: {what} column {column!r} must hold integers; row {row} holds {values[row]!r}")
    return values.astype(np.int64)


def _check_duplicates(ids: pd.DataFrame, raw: pd.Series, source: str | Path, key_column: str) -> None:
    dup = ids.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    rows = np.flatnonzero(dup)
    second = int(rows[ids.iloc[rows].duplicated(keep="first").to_numpy()][0])
    same = (ids == ids.iloc[second]).all(axis=1).to_numpy()
    first = int(np.flatnonzero(same)[0])
    key, value = ids["key"].iloc[second], raw.iloc[second]
    shown = _show(value, 120) + ("" if isinstance(value, str) and value == key else f" (= {key!r:.120})")
    by = "" if list(ids.columns) == ["key"] else f" and the same {', '.join(c for c in ids.columns if c != 'key')}"
    raise DataFormatError(
        f"{source}: duplicate key {shown} in column {key_column!r}{by}: rows {first} and {second} "
        f"({int(ids.duplicated().sum())} duplicate row(s))"
    )


def _resolve_refs(
    spec: TableSpec, fids: dict[str, tuple[int, ...]], default: int
) -> tuple[MetricRef | None, MetricRef | None]:
    out: list[MetricRef | None] = []
    for what, value in (("search", spec.search), ("report", spec.report)):
        if value is None:
            out.append(None)
            continue
        metric, fid = (value.metric, value.fidelity) if isinstance(value, MetricRef) else value
        if metric not in fids:
            raise DataFormatError(f"{spec.name}: {what} metric {metric!r} is not declared; declared: {sorted(fids)}")
        if fid is None:
            fid = default if default in fids[metric] or len(fids[metric]) != 1 else fids[metric][0]
        if fid not in fids[metric]:
            raise DataFormatError(
                f"{spec.name}: {what} metric {metric!r} has no values at fidelity {fid}; declared: {list(fids[metric])}"
            )
        out.append(MetricRef(metric, int(fid)))
    return out[0], out[1]


def build_store(
    table: pd.DataFrame,
    spec: TableSpec,
    *,
    source: str | Path,
    inputs: dict[str, str],
    converter: str = CONVERTER,
    version: str = VERSION,
) -> tuple[StoreMeta, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Validate ``table`` against ``spec`` and build (meta, archs, results, proxies) for ``write_store``.

    ``source`` names the table in error messages; ``inputs`` (name -> sha256) goes into the provenance.
    Converters of other raw formats use this after assembling one wide table of their own.

    Examples
    --------
    >>> meta, archs, results, proxies = build_store(frame, spec, source="t.csv", inputs={})  # doctest: +SKIP
    """
    require_columns(list(table.columns), spec.source_columns, source)
    table = table.reset_index(drop=True)
    raw_keys = table[spec.key_column]
    keys = resolve_keys(spec.space, spec.key_kind, raw_keys, source=source, column=spec.key_column)
    n = len(table)
    if spec.seed_column is not None:
        seeds = _int_column(table, spec.seed_column, source, "seed")
    else:
        seeds = np.full(n, SEED_MEAN, dtype=np.int64)
    ids = pd.DataFrame({"key": keys})
    if spec.seed_column is not None:
        ids["seed"] = seeds
    row_fid = None
    if spec.fidelity_column is not None:
        row_fid = _int_column(table, spec.fidelity_column, source, "fidelity")
        ids["fidelity"] = row_fid
    _check_duplicates(ids, raw_keys, source, spec.key_column)

    values = {c: numeric_column(table, c, source) for s in (*spec.metrics, *spec.proxies) for c, _ in s.columns}
    metric_names = [s.name for s in spec.metrics]
    metric_fids: dict[str, tuple[int, ...]] = {}
    if row_fid is not None:
        data: dict[str, Any] = {"key": keys, "seed": seeds, "fidelity": row_fid}
        data.update({s.name: values[s.columns[0][0]] for s in spec.metrics})
        results = pd.DataFrame(data)
        all_fids = sorted(int(f) for f in np.unique(row_fid))
        metric_fids = {s.name: tuple(all_fids) for s in spec.metrics}
    else:
        by_fid: dict[int, dict[str, str]] = {}
        for s in spec.metrics:
            for column, fid in s.columns:
                f = spec.fidelity if fid is None else fid
                assert f is not None  # TableSpec.__post_init__ guarantees a fidelity
                by_fid.setdefault(int(f), {})[s.name] = column
                metric_fids.setdefault(s.name, ())
                metric_fids[s.name] += (int(f),)
        frames = []
        for f in sorted(by_fid):
            frame = pd.DataFrame({"key": keys, "seed": seeds, "fidelity": f})
            for name, column in by_fid[f].items():
                frame[name] = values[column]
            frames.append(frame)
        results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["key", "seed", "fidelity"])
        all_fids = sorted(by_fid) or ([spec.fidelity] if spec.fidelity is not None else [])
    if spec.default_fidelity is not None:
        default = spec.default_fidelity
    elif all_fids:
        default = max(all_fids)
    else:
        raise DataFormatError(f"{spec.name}: no fidelity declared; give fidelity=<value> or default_fidelity")
    if default not in all_fids:
        all_fids = sorted({*all_fids, default})
    for name in metric_names:
        if name not in results.columns:
            results[name] = np.nan
        results[name] = results[name].astype(float)

    proxies = None
    if spec.proxies:
        proxy_names = [p.name for p in spec.proxies]
        per_row = pd.DataFrame({"key": keys, **{p.name: values[p.columns[0][0]] for p in spec.proxies}})
        if per_row["key"].duplicated().any():  # several rows per key: proxies must agree
            varying = per_row.groupby("key", sort=False)[proxy_names].nunique(dropna=True).max()
            if (varying > 1).any():
                name = str(varying.index[np.flatnonzero(varying.to_numpy() > 1)[0]])
                raise DataFormatError(f"{source}: proxy {name!r} differs between rows of the same architecture")
            per_row = per_row.groupby("key", sort=False).first().reset_index()
        proxies = per_row
        at_default = results["fidelity"].to_numpy() == default
        lacking = proxies.loc[~proxies["key"].isin(results.loc[at_default, "key"]), "key"]
        if len(lacking):
            extra = pd.DataFrame({"key": lacking.to_numpy(), "seed": SEED_MEAN, "fidelity": default})
            results = pd.concat([results, extra], ignore_index=True)
            at_default = results["fidelity"].to_numpy() == default
        broadcast = proxies.set_index("key").reindex(results["key"]).to_numpy(dtype=float, copy=True)
        broadcast[~at_default] = np.nan
        results[proxy_names] = broadcast
        metric_fids.update({name: (default,) for name in proxy_names})

    results = results.astype({"seed": "int32", "fidelity": "int32"})
    search, report = _resolve_refs(spec, metric_fids, default)
    space: Any = get_space(spec.space)
    unique_keys = pd.unique(keys)
    archs = pd.DataFrame({"key": unique_keys})
    if hasattr(space, "index_of"):
        archs["index"] = np.asarray(space.index_of(list(unique_keys)), dtype=np.int64)
        archs = archs.sort_values("index", kind="stable").reset_index(drop=True)
    seeds_present = tuple(sorted(int(s) for s in np.unique(seeds) if s != SEED_MEAN))
    meta = StoreMeta(
        name=spec.name,
        space=spec.space,
        task=spec.task,
        metrics={s.name: s.metric for s in (*spec.metrics, *spec.proxies)},
        fidelities=tuple(all_fids),
        default_fidelity=default,
        seeds=seeds_present,
        search=search,
        report=report,
        fidelity_unit=spec.fidelity_unit,
        provenance=provenance(converter, version, inputs),
        citation=spec.citation,
        description=spec.description,
    )
    return meta, archs, results, proxies


def _spec_from_arguments(source: Path | None, **kwargs: Any) -> TableSpec:
    if kwargs.get("metrics") is None and kwargs.get("proxies") is None:
        raise DataFormatError("table convert: declare metrics=... (and/or proxies=...)")
    missing = [k for k in ("name", "space", "key_column", "key_kind") if not kwargs.get(k)]
    if missing:
        raise DataFormatError(f"table convert: missing arguments {missing}")
    kwargs["metrics"] = metric_sources(kwargs.get("metrics"))
    kwargs["proxies"] = metric_sources(kwargs.get("proxies"), proxy=True)
    kwargs["task"] = kwargs.get("task") or ""
    return TableSpec(source=source, **kwargs)


def convert_spec(
    spec: TableSpec, *, root: str | Path | None = None, force: bool = False, spec_file: Path | None = None
) -> list[Path]:
    """Convert the table ``spec.source`` as declared by ``spec``; return ``[store path]``.

    Skips the conversion when the store was made by this converter version from the same table and
    declaration (``force=True`` rewrites).

    Examples
    --------
    >>> convert_spec(load_spec("spec.toml"), root="benchmarks_data")  # doctest: +SKIP
    """
    if spec.source is None:
        raise DataFormatError(f"table spec {spec.name!r}: no 'source' table given")
    path = require_file(Path(spec.source), "table")
    _table_format(path)
    root = Path(root) if root is not None else data_root()
    dest = store_folder(root, spec.name)
    inputs = {path.name: file_sha256(path), "(declaration)": spec.digest()}
    if not force and is_current(dest, CONVERTER, VERSION, inputs):
        log.info("%s is up to date (same table and declaration); skipping", dest)
        return [dest]
    table = read_table(path, spec.source_columns)
    meta, archs, results, proxies = build_store(table, spec, source=path, inputs=inputs)
    try:
        written = write_store(root, meta, archs, results, proxies)
    except DataFormatError as exc:
        raise DataFormatError(f"{path}: {exc}") from exc
    log.info("converted %s -> %s", spec_file or path, written)
    return [written]


def convert(
    source: str | Path,
    *,
    root: str | Path | None = None,
    name: str | None = None,
    space: str | None = None,
    key_column: str | None = None,
    key_kind: str | None = None,
    metrics: Mapping[str, Metric | MetricSource | Mapping[str, Any]] | None = None,
    proxies: Mapping[str, Metric | MetricSource | Mapping[str, Any] | str] | Sequence[str] | None = None,
    fidelity_column: str | None = None,
    fidelity: int | None = None,
    default_fidelity: int | None = None,
    seed_column: str | None = None,
    task: str | None = None,
    search: MetricRef | tuple[str, int] | str | None = None,
    report: MetricRef | tuple[str, int] | str | None = None,
    citation: str = "",
    description: str = "",
    fidelity_unit: str = "epochs",
    force: bool = False,
) -> list[Path]:
    """Convert a Parquet/CSV table (or a TOML/JSON spec file naming one) into a store.

    Parameters
    ----------
    source
        The table (``.parquet``/``.pq``/``.csv``/``.tsv``, compressed CSV too), or a ``.toml``/``.json``
        spec declaring everything below (then no other declaration argument may be given).
    root
        Data folder to write ``root/name`` into (default: :func:`predictbench.paths.data_root`).
    name, space
        Store name (e.g. ``"nb201/mine"``) and search-space name (e.g. ``"nb201"``).
    key_column, key_kind
        The column identifying architectures and how to read it (``"index"``, ``"arch_str"``,
        ``"naslib_tuple"`` or ``"key"`` for NB201; see :data:`KEY_KINDS`).
    metrics
        Store metric name -> declaration (see :func:`metric_sources`): a Metric, a MetricSource, or a dict
        with direction, unit, kind, bounds and ``column``/``columns`` (column -> fidelity).
    proxies
        Zero-cost proxy columns (kind ``proxy``; higher-is-better by convention unless declared otherwise).
    fidelity_column, fidelity, default_fidelity
        Per-row fidelity column, or the fidelity of every column declared without one; the default
        fidelity of the store (default: the highest).
    seed_column
        Per-row seed column (the store adds the mean over seeds); without it rows are means.
    task, search, report, citation, description, fidelity_unit
        Store metadata; ``search``/``report`` as ``(metric, fidelity)``, ``"metric@fidelity"`` or a MetricRef.
    force
        Rewrite even if the store is current.

    Returns
    -------
    list of Path
        The store folder (one element).

    Examples
    --------
    >>> convert("runs.csv", root="/tmp/pb", name="nb201/runs", space="nb201", key_column="arch",
    ...         key_kind="arch_str", fidelity=200,
    ...         metrics={"acc": {"higher_is_better": True, "unit": "%"}})  # doctest: +SKIP
    >>> convert("runs.toml", root="/tmp/pb")  # doctest: +SKIP
    """
    path = Path(source)
    declared = {
        "name": name,
        "space": space,
        "key_column": key_column,
        "key_kind": key_kind,
        "metrics": metrics,
        "proxies": proxies,
        "fidelity_column": fidelity_column,
        "fidelity": fidelity,
        "default_fidelity": default_fidelity,
        "seed_column": seed_column,
        "task": task,
        "search": search,
        "report": report,
    }
    if path.name.lower().endswith(SPEC_SUFFIXES):
        given = [k for k, v in declared.items() if v is not None]
        given += [k for k, v in (("citation", citation), ("description", description)) if v]
        if given:
            raise TypeError(f"convert({path}): a spec file declares the table; do not also pass {given}")
        spec = load_spec(path)
        return convert_spec(spec, root=root, force=force, spec_file=path)
    spec = _spec_from_arguments(
        path, citation=citation, description=description, fidelity_unit=fidelity_unit, **declared
    )
    return convert_spec(spec, root=root, force=force)
