"""Helpers shared by converters: idempotence checks and input hashing."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from predictbench.benchmarks.store import read_meta, verify_existing
from predictbench.paths import file_sha256
from predictbench.types import DataFormatError

log = logging.getLogger(__name__)


def hash_inputs(paths: Iterable[Path], base: Path | None = None) -> dict[str, str]:
    """sha256 of each input file, keyed by its name (relative to ``base`` when given)."""
    out: dict[str, str] = {}
    for path in sorted(paths):
        name = str(path.relative_to(base)) if base is not None else path.name
        if not path.is_file():
            where = f"in {base}" if base is not None else f"at {path.parent}"
            raise FileNotFoundError(f"expected the input file {name} {where}, found none")
        out[name] = file_sha256(path)
    return out


def _without_hint(message: str) -> str:
    """A load error without its "run ... --force" advice: the converter is already doing that."""
    return re.sub(r"[;:] (run `[^`]*`|convert the benchmark again: .*)$", "", message)


def is_current(dest: Path, converter: str, version: str, inputs: dict[str, str]) -> bool:
    """True when ``dest`` holds an intact store made by this converter version from exactly these inputs.

    A store that fails the checks of :func:`~predictbench.benchmarks.store.read_store` is not current: the
    converter writes it again (and says why in a warning) rather than skipping over a broken store.
    """
    if not (dest / "meta.json").is_file():
        return False
    try:
        prov = read_meta(dest).provenance
    except DataFormatError as exc:
        log.warning("existing store is not readable, converting again: %s", _without_hint(str(exc)))
        return False
    recorded = {entry["name"]: entry["sha256"] for entry in prov.get("inputs", []) if isinstance(entry, dict)}
    if not (prov.get("converter") == converter and prov.get("converter_version") == version and recorded == inputs):
        return False
    problem = verify_existing(dest)
    if problem is not None:
        log.warning("existing store is broken, converting again: %s", _without_hint(problem))
        return False
    return True


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_file():
        raise DataFormatError(f"{what} must be a file: {path}")
    return path
