"""Where converted benchmark stores live, and atomic file writing."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_VAR = "PREDICTBENCH_DATA"


def _checkout_data_dir() -> Path | None:
    """``benchmarks_data/`` of a source checkout, when the package is imported from one."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "benchmarks_data").is_dir():
        return root / "benchmarks_data"
    return None


def data_root() -> Path:
    """The folder holding converted stores.

    Resolution order: ``$PREDICTBENCH_DATA``; ``benchmarks_data/`` of the source checkout the package is
    imported from; ``$XDG_DATA_HOME/predictbench`` (default ``~/.local/share/predictbench``).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    checkout = _checkout_data_dir()
    if checkout is not None:
        return checkout
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "predictbench"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on success rename it onto ``dest`` (file or folder).

    Nothing half-written is ever visible at ``dest``: on error the temporary is removed and an existing
    ``dest`` stays as it was.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    tmp.rmdir()
    try:
        yield tmp
        if dest.is_dir() and tmp.is_dir():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old)
        else:
            os.replace(tmp, dest)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def atomic_write_text(dest: str | Path, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")
