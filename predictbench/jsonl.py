"""Append-only JSON-lines files: the resumable record format of studies and proxy computations.

A process killed mid-write leaves at most one torn last line; readers ignore it (with a warning) and writers cut
it before appending, so every complete line is a finished record. Any other unreadable line is an error.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, Any

from predictbench.types import DataFormatError

log = logging.getLogger(__name__)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of ``path`` (none when it does not exist), ignoring a torn last line."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):
                log.warning("%s: ignoring a partial last line (interrupted write)", path)
                continue
            raise DataFormatError(f"{path}:{number}: not a JSON record ({exc.msg})") from exc
    return out


def open_for_append(path: Path) -> IO[str]:
    """``path`` opened for appending, its folder created and a torn last line (never a full record) cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            log.warning("%s: dropping a partial last line left by an interrupted run", path)
            with open(path, "r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)
    return open(path, "a", encoding="utf-8")


def write_line(handle: IO[str], line: str) -> None:
    """Append one complete line and make it durable before returning."""
    handle.write(line + "\n")
    handle.flush()
    os.fsync(handle.fileno())
