"""Append-only results files (JSON lines) and the one function that reads them into a DataFrame.

Each finished cell of a study grid is one line, flushed and fsynced before the next starts, so an interrupted
run loses at most the cell in progress; a trailing partial line (a crash mid-write) is ignored on read.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from predictbench.types import DataFormatError

log = logging.getLogger(__name__)


class ResultsFile:
    """An append-only JSON-lines file of study records.

    Examples
    --------
    >>> rf = ResultsFile("/tmp/pb-example.jsonl")  # doctest: +SKIP
    >>> rf.append({"predictor": "lgbm", "seed": 0, "kendall_tau": 0.7})  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        out = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number == len(lines):
                    log.warning("%s: ignoring a partial last line (interrupted write)", self.path)
                    continue
                raise DataFormatError(f"{self.path}:{number}: not a JSON record ({exc.msg})") from exc
        return out

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, sort_keys=True, default=_jsonable) + "\n"
        if self.path.exists():
            _drop_partial_last_line(self.path)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def done(self, id_fields: Iterable[str]) -> set[tuple[Any, ...]]:
        fields = tuple(id_fields)
        return {tuple(_hashable(r.get(f)) for f in fields) for r in self.records()}


def _drop_partial_last_line(path: Path) -> None:
    """Cut a trailing line that a crashed run left without its newline (it was never a complete record)."""
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    log.warning("%s: dropping a partial last line left by an interrupted run", path)
    with open(path, "r+b") as handle:
        handle.truncate(keep)


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
