"""Append-only results files (JSON lines) and the one function that reads them into a DataFrame.

Each finished cell of a study grid is one line, flushed and fsynced before the next starts, so an interrupted
run loses at most the cell in progress; a trailing partial line (a crash mid-write) is ignored on read.

Provenance: every record is stamped with when it was written (``recorded_at``, UTC) and the command line of the
process that wrote it (``command``); :func:`store_provenance` gives the fields that identify the benchmark store a
study read (``store_sha256``, ``store_created``), for studies to add to their records.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shlex
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predictbench.jsonl import open_for_append, read_records, write_line
from predictbench.paths import file_sha256

if TYPE_CHECKING:
    from predictbench.benchmarks import TabularBenchmark

log = logging.getLogger(__name__)


class ResultsFile:
    """An append-only JSON-lines file of study records.

    :meth:`append` adds ``recorded_at`` (UTC, ISO 8601) and ``command`` (this process's command line) to records
    that do not set them.

    Examples
    --------
    >>> rf = ResultsFile("/tmp/pb-example.jsonl")  # doctest: +SKIP
    >>> rf.append({"predictor": "lgbm", "seed": 0, "kendall_tau": 0.7})  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.path)

    def append(self, record: dict[str, Any]) -> None:
        stamp = {"recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "command": command_line()}
        with open_for_append(self.path) as handle:
            write_line(handle, json.dumps(stamp | record, sort_keys=True, default=_jsonable))

    def done(self, id_fields: Iterable[str]) -> set[tuple[Any, ...]]:
        fields = tuple(id_fields)
        return {tuple(_hashable(r.get(f)) for f in fields) for r in self.records()}


def command_line() -> str:
    """This process's command line as typed, roughly: ``predictbench ...``, ``python -m pkg ...``, ``python x.py``.

    Empty when unknown (an interactive session).
    """
    if not sys.argv or not sys.argv[0]:
        return ""
    program = Path(sys.argv[0])
    if program.name == "__main__.py":
        head = ["python", "-m", program.parent.name]
    elif program.suffix == ".py" or sys.argv[0] == "-c":
        head = ["python", sys.argv[0]]
    else:
        head = [program.name]  # a console script: its folder is an installation detail
    return shlex.join([*head, *sys.argv[1:]])


def store_sha256(path: str | Path) -> str:
    """sha256 over the files of a store folder: each file's name and sha256, in name order.

    Stores are written once and never modified, so this identifies the exact tables a study read. It changes
    when a store is converted again (``meta.json`` records the creation time); the raw inputs' sha256 in the
    store's provenance identify the source data itself.
    """
    folder = Path(path)
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no store files under {folder}")
    signature = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _hash_files(str(folder), signature)


@functools.lru_cache(maxsize=32)
def _hash_files(folder: str, signature: tuple[tuple[str, int, int], ...]) -> str:
    """Cached on (folder, names, sizes, modification times): a study hashes its store once, not per record."""
    digest = hashlib.sha256()
    for name, _, _ in signature:
        digest.update(f"{name}\0{file_sha256(Path(folder) / name)}\n".encode())
    return digest.hexdigest()


def store_provenance(bench: TabularBenchmark) -> dict[str, str]:
    """Record fields identifying the store ``bench`` was read from: ``store_sha256`` and ``store_created``."""
    return {"store_sha256": store_sha256(bench.path), "store_created": str(bench.meta.provenance.get("created", ""))}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a results record")


def read_results(*paths: str | Path) -> pd.DataFrame:
    """All records of one or more results files as a DataFrame (the only way reports read results)."""
    records: list[dict[str, Any]] = []
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"results file not found: {path}")
        records.extend(ResultsFile(path).records())
    return pd.DataFrame.from_records(records)
