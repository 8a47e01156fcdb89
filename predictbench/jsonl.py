"""Append-only JSON-lines files: the resumable record format of studies and proxy computations.

Every line is one JSON object. A process killed mid-write leaves at most one torn last line. Readers and writers
agree on what is finished: a last line that parses as a complete JSON object is a finished record (a writer
completes it with its newline), any other last line is torn (readers ignore it with a warning, writers cut it
before appending). Any other unreadable line is an error. Records are written as strict JSON: NaN and infinities
become ``null`` (:func:`dumps_record`); ``NaN`` tokens in older files are still read.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import IO, Any

from predictbench.types import DataFormatError

log = logging.getLogger(__name__)


def _parse(path: Path, number: int, line: str) -> dict[str, Any]:
    """One line as a record: a JSON object, else DataFormatError naming the file and line."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}:{number}: not a JSON record ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise DataFormatError(f"{path}:{number}: expected a JSON object per line, got a {type(value).__name__}")
    return value


def _is_torn(line: str) -> bool:
    """Whether a last line is torn (not complete JSON); a complete one is a finished record, newline or not."""
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return True
    return False


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of ``path`` (none when it does not exist), ignoring a torn last line."""
    if not path.exists():
        return []
    if path.is_dir():
        raise DataFormatError(f"{path} is a folder; expected a JSON-lines file")
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and _is_torn(lines[-1]):
        log.warning("%s: ignoring a partial last line (interrupted write)", path)
        lines.pop()
    return [_parse(path, number, line) for number, line in enumerate(lines, 1) if line.strip()]


def open_for_append(path: Path) -> IO[str]:
    """``path`` opened for appending, its folder created; a finished last record without its newline is completed,
    a torn last line cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_dir():
        data = path.read_bytes()
        body = data.rstrip()
        start = body.rfind(b"\n") + 1
        if body and _is_torn(body[start:].decode("utf-8", errors="replace")):
            log.warning("%s: dropping a partial last line left by an interrupted run", path)
            with open(path, "r+b") as handle:
                handle.truncate(start)
        elif body and not data.endswith(b"\n"):
            with open(path, "ab") as handle:
                handle.write(b"\n")
    return open(path, "a", encoding="utf-8")


def write_line(handle: IO[str], line: str) -> None:
    """Append one complete line and make it durable before returning."""
    handle.write(line + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def strict_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float (numpy scalars and arrays included) replaced by ``None``.

    Tuples become lists, numpy scalars and arrays Python values; anything else JSON cannot hold raises TypeError.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return strict_json(value.tolist())
    if hasattr(value, "item"):
        return strict_json(value.item())
    raise TypeError(f"cannot store {type(value).__name__} in a JSON record")


def dumps_record(record: dict[str, Any]) -> str:
    """One record as one line of strict JSON (keys sorted; NaN and infinities as ``null``)."""
    return json.dumps(strict_json(record), sort_keys=True, allow_nan=False)
