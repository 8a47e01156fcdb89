"""Where converted benchmark stores live, and atomic file writing."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_VAR = "PREDICTBENCH_DATA"
#: A store name: ``benchmark/task``, two components of letters, digits, ``.``, ``_`` and ``-``, each starting with
#: a letter or digit (so neither an absolute path nor ``..`` nor a hidden folder), e.g. ``nb201-analog/cifar10``.
STORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")

log = logging.getLogger(__name__)


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


def check_store_name(name: object) -> str:
    """``name`` if it is a valid store name (``benchmark/task``, see :data:`STORE_NAME`), else ValueError."""
    if not isinstance(name, str) or STORE_NAME.fullmatch(name) is None:
        raise ValueError(
            f"invalid store name {name!r}: expected 'benchmark/task' (two parts of letters, digits, '.', '_' or "
            "'-', each starting with a letter or digit; e.g. 'nb201/cifar10'), not an absolute or relative path"
        )
    return name


def store_folder(root: str | Path, name: str) -> Path:
    """The folder of store ``name`` under ``root``, checked to lie strictly inside ``root`` (symlinks resolved)."""
    check_store_name(name)
    base = Path(root).expanduser().resolve()
    folder = (base / name).resolve()
    if base not in folder.parents:
        raise ValueError(f"store {name!r} resolves to {folder}, outside the data folder {base}")
    return base / name


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale_temporaries(dest: str | Path) -> None:
    """Remove what writers of ``dest`` killed mid-way left next to it; never a live writer's temporaries.

    A writer killed between moving the previous ``dest`` aside (``.<name>.old-<pid>``) and renaming its new one
    into place leaves no ``dest``: the previous one is then restored instead of removed.
    """
    dest = Path(dest)
    if not dest.parent.is_dir():
        return
    prefix = f".{dest.name}."
    pattern = re.compile(re.escape(prefix) + r"(?:(?P<tmp>\d+)\.[^.]+\.tmp|old-(?P<old>\d+))")
    for entry in sorted(dest.parent.iterdir()):
        match = pattern.fullmatch(entry.name) if entry.name.startswith(prefix) else None
        if match is None:
            continue
        pid = int(match["tmp"] or match["old"])
        if _pid_alive(pid):
            continue
        try:
            if match["old"] and not dest.exists():
                entry.rename(dest)
                log.warning("restored %s from %s, left by a writer (pid %d) that did not finish", dest, entry, pid)
            else:
                _remove(entry)
                log.info("removed %s, left by a writer (pid %d) that did not finish", entry, pid)
        except OSError as exc:  # another writer cleaning at the same time
            log.debug("could not clean %s (%s)", entry, exc)


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``dest``; on success rename it onto ``dest`` (file or folder).

    Nothing half-written is ever visible at ``dest``: on error the temporary is removed and an existing
    ``dest`` stays as it was. Temporaries carry the writer's PID (``.<name>.<pid>.<random>.tmp``,
    ``.<name>.old-<pid>``), so those of a writer that was killed are cleaned by the next write to ``dest``
    (:func:`clean_stale_temporaries`).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".tmp", dir=dest.parent))
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
