"""Proxy tables computed once by ``proxies compute`` and shipped with the package, read by the converters.

A shipped table saves every user the CPU hours of computing the 2023-25 proxies (AZ-NAS, VKDNW, MeCo,
ZiCo, SWAP) over a whole benchmark. It lives in ``predictbench/proxies/tables/`` as two files per store:

``<space>-<task>.parquet``
    one row per computed equivalence class: ``index`` (the official index of the class representative)
    and one float column per proxy (the proxy's registered name);
``<space>-<task>.json``
    its provenance: the exact :class:`~predictbench.proxies.compute.ComputeSettings` (network size, batch,
    data, seeds, SWAP draws, the class method), the command that grows it, package versions, seconds per
    class and per proxy, and how many classes are done.

The converter of the store (``data convert nb201-tables``) fills each value to every member of the
representative's class, as ``<proxy>_live`` columns declared exactly as ``proxies compute`` declares
them; ``proxies compute`` with the recorded settings therefore continues the same columns (computing only
the classes still missing) and reproduces any row of the table (``tests/test_proxy_table_shipped.py``).
A table may cover part of the space while it grows: cells of classes not yet computed are NaN.

Examples
--------
>>> from predictbench.proxies.shipped import read_shipped
>>> table = read_shipped("nb201", "cifar10")
>>> table is None or table.settings.per_class == "function"
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.paths import atomic_path, atomic_write_text
from predictbench.proxies import PROXY_METRICS
from predictbench.proxies.compute import DEFAULT_SUFFIX, ComputeSettings, declare_columns
from predictbench.types import DataFormatError

__all__ = [
    "TABLES",
    "TABLE_PROXIES",
    "ShippedTable",
    "attach_shipped",
    "read_shipped",
    "shipped_files",
    "write_shipped",
]

TABLES = Path(__file__).with_name("tables")
"""Where the shipped tables live (package data)."""
TABLE_PROXIES = (
    "az_expressivity",
    "az_progressivity",
    "az_trainability",
    "az_complexity",
    "vkdnw_entropy",
    "vkdnw_dim",
    "jacob_cov",
    "meco",
    "zico",
    "swap",
    "swap_reg",
)
"""The proxies of the shipped NB201 tables, in column order: the 2023-25 proxies and jacob_cov (VKDNW_agg's)."""


@dataclass(frozen=True)
class ShippedTable:
    """One shipped table: representative index -> proxy values, and how they were computed."""

    values: pd.DataFrame
    settings: ComputeSettings
    provenance: dict[str, Any]

    @property
    def proxies(self) -> list[str]:
        return list(self.settings.proxies)


def shipped_files(space: str, task: str, folder: Path | None = None) -> tuple[Path, Path]:
    """The (values, provenance) files of the table of ``space``/``task`` (in ``folder``, default :data:`TABLES`)."""
    folder = TABLES if folder is None else folder
    stem = f"{space}-{task}"
    return folder / f"{stem}.parquet", folder / f"{stem}.json"


def read_shipped(space: str, task: str, folder: Path | None = None) -> ShippedTable | None:
    """The shipped table of ``space``/``task``, or None when the package has none; malformed files raise."""
    values_path, provenance_path = shipped_files(space, task, folder)
    if not values_path.is_file() and not provenance_path.is_file():
        return None
    for path in (values_path, provenance_path):
        if not path.is_file():
            raise DataFormatError(f"shipped proxy table {path} is missing (its pair exists)")
    try:
        provenance = json.loads(provenance_path.read_text())
        fields = dict(provenance["settings"])
        settings = ComputeSettings(**{**fields, "proxies": tuple(fields["proxies"])})
    except (ValueError, KeyError, TypeError) as error:
        raise DataFormatError(f"{provenance_path}: not a shipped proxy table's provenance ({error})") from error
    try:
        values = pd.read_parquet(values_path)
    except Exception as error:  # pyarrow raises several types for damaged files
        raise DataFormatError(f"{values_path}: unreadable parquet ({error})") from error
    expected = ["index", *settings.proxies]
    if list(values.columns) != expected:
        raise DataFormatError(f"{values_path}: columns {list(values.columns)}, expected {expected}")
    if values["index"].duplicated().any():
        raise DataFormatError(f"{values_path}: duplicate representative index")
    if len(values) != provenance.get("classes_done"):
        raise DataFormatError(
            f"{values_path}: {len(values)} rows but its provenance says {provenance.get('classes_done')} classes"
        )
    return ShippedTable(values=values, settings=settings, provenance=provenance)


def write_shipped(
    space: str, task: str, values: pd.DataFrame, provenance: dict[str, Any], folder: Path | None = None
) -> None:
    """Write a table and its provenance, each replaced atomically (values first, sorted by index)."""
    values_path, provenance_path = shipped_files(space, task, folder)
    values_path.parent.mkdir(parents=True, exist_ok=True)
    table = values.sort_values("index").reset_index(drop=True)
    table["index"] = table["index"].astype(np.int32)
    with atomic_path(values_path) as tmp:
        table.to_parquet(tmp, index=False, compression="zstd")
    atomic_write_text(provenance_path, json.dumps({**provenance, "classes_done": len(table)}, indent=1) + "\n")


def attach_shipped(
    meta: Any, archs: pd.DataFrame, proxies: pd.DataFrame | None, space: Any, folder: Path | None = None
) -> tuple[Any, Any]:
    """(meta, proxies) of a store being converted, with its shipped table's values filled to class members.

    ``archs`` holds the store's ``key`` column; ``space`` is the store's search space (its
    ``canonical_index`` maps every cell to its representative). Returns the inputs unchanged when the
    package ships no table for the store.
    """
    table = read_shipped(meta.space, meta.task, folder)
    if table is None:
        return meta, proxies
    settings = table.settings
    keys = archs["key"].to_numpy(dtype=object)
    reps = space.canonical_index(settings.per_class)[space.index_of(keys)]
    rows = pd.Index(table.values["index"]).get_indexer(reps)
    out = pd.DataFrame({"key": keys}) if proxies is None else proxies.copy()
    if not np.array_equal(out["key"].to_numpy(dtype=object), keys):
        raise DataFormatError(f"{meta.name}: proxies rows are not in the store's key order")
    columns = {name: f"{name}{DEFAULT_SUFFIX}" for name in settings.proxies}
    for name, column in columns.items():
        if name not in PROXY_METRICS:
            raise DataFormatError(f"shipped table {meta.space}-{meta.task}: unknown proxy {name!r}")
        values = table.values[name].to_numpy(dtype=float)
        out[column] = np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)
    timing = table.provenance.get("seconds", {})
    new_meta = declare_columns(
        meta,
        settings.proxies,
        columns,
        settings,
        seconds_per_arch=float(timing.get("per_class", 0.0)),
        seconds_per_proxy=timing.get("per_proxy", {}),
        updated=table.provenance.get("updated"),
    )
    return new_meta, out
