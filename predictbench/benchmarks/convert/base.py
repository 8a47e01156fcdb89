"""Helpers shared by converters: idempotence checks and input hashing."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from predictbench.benchmarks.store import read_meta
from predictbench.paths import file_sha256
from predictbench.types import DataFormatError

log = logging.getLogger(__name__)


def hash_inputs(paths: Iterable[Path], base: Path | None = None) -> dict[str, str]:
    """sha256 of each input file, keyed by its name (relative to ``base`` when given)."""
    out: dict[str, str] = {}
    for path in sorted(paths):
        name = str(path.relative_to(base)) if base is not None else path.name
        out[name] = file_sha256(path)
    return out


def is_current(dest: Path, converter: str, version: str, inputs: dict[str, str]) -> bool:
    """True when ``dest`` holds a store made by this converter version from exactly these inputs."""
    if not (dest / "meta.json").is_file():
        return False
    try:
        prov = read_meta(dest).provenance
    except DataFormatError:
        return False
    recorded = {entry["name"]: entry["sha256"] for entry in prov.get("inputs", [])}
    return bool(prov.get("converter") == converter and prov.get("converter_version") == version and recorded == inputs)


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_file():
        raise DataFormatError(f"{what} must be a file: {path}")
    return path
