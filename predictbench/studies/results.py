"""Append-only results files (JSON lines) and the one function that reads them into a DataFrame.

Each finished cell of a study grid is one line, flushed and fsynced before the next starts, so an interrupted
run loses at most the cell in progress; a trailing partial line (a crash mid-write) is ignored on read.

Provenance: every record is stamped with when it was written (``recorded_at``, UTC) and the command line of the
process that wrote it (``command``); :func:`store_provenance` gives the fields that identify the benchmark store a
study read (``store_sha256``, ``store_created``), for studies to add to their records.

Safety: a study holds :meth:`ResultsFile.locked` (an advisory ``flock`` on the results file, released by the
kernel when its process dies) for its whole run, so a second study on the same file stops with a clear error
instead of writing the same cells twice. On resume, records of a component label whose settings
(:func:`settings_of`: component, params/options, store digest) differ from the current run's are refused
(:func:`check_settings`) rather than counted as done; reports refuse to pool them (:func:`check_one_setting`).
Duplicate records of one grid cell (left by older versions) count once (:func:`read_results`).
"""

from __future__ import annotations

import logging
import math
import os
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predictbench.jsonl import dumps_record, open_for_append, read_records, strict_json, write_line
from predictbench.types import DataFormatError, PredictBenchError

if TYPE_CHECKING:
    from predictbench.benchmarks import TabularBenchmark

log = logging.getLogger(__name__)

#: The fields identifying one grid cell, by the field holding a record's component label (its study kind).
CELL_FIELDS: dict[str, tuple[str, ...]] = {
    "predictor": ("study", "benchmark", "predictor", "target", "train_size", "test_size", "seed"),
    "searcher": ("study", "benchmark", "searcher", "budget", "seed"),
    "config": ("study", "benchmark", "config", "budget", "seed"),
}
#: The fields that must agree between all records of one component label (``params`` without its ``seed``);
#: ``protocol`` and ``split``: a predictor study's test protocol and split (:mod:`.splits`).
SETTING_FIELDS = ("component", "params", "options", "store_sha256", "protocol", "split")

_held: dict[Path, int] = {}  # results files this process has locked, with how many nested holders


class ResultsBusyError(PredictBenchError):
    """Another process is writing the results file."""


class SettingsMismatchError(PredictBenchError):
    """A results file holds records of a label with other settings than the current run's."""


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
        line = dumps_record(stamp | record)  # before opening: a record that cannot be stored leaves the file as is
        with open_for_append(self.path) as handle:
            write_line(handle, line)

    def done(self, id_fields: Iterable[str]) -> set[tuple[Any, ...]]:
        fields = tuple(id_fields)
        return {tuple(_hashable(r.get(f)) for f in fields) for r in self.records()}

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file for writing: a second process (a concurrent study) gets :class:`ResultsBusyError`.

        The lock is an advisory ``flock`` on the file itself, so the kernel releases it when this process dies;
        readers take no lock. Nested holders in one process share it. A file created here and left empty is
        removed on exit. Where ``fcntl`` is missing (Windows) nothing is locked.
        """
        check_results_path(self.path)
        key = self.path.resolve()
        if key in _held:
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fd, created = _acquire(self.path, fcntl)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
            if created and os.fstat(fd).st_size == 0:
                self.path.unlink(missing_ok=True)
            os.close(fd)


def check_results_path(path: Path) -> None:
    """Raise DataFormatError unless ``path`` can be a results file: not a folder, no file among its parents."""
    if path.is_dir():
        raise DataFormatError(f"results file {path} is a folder; expected a JSON-lines file, e.g. {path / 'x.jsonl'}")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DataFormatError(f"results file {path}: {parent} is a file, not a folder")


def _acquire(path: Path, fcntl: Any) -> tuple[int, bool]:
    """An open descriptor of ``path`` holding its exclusive lock, and whether this call created the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            os.close(fd)
            by = f" (PID {holder})" if holder is not None else ""
            raise ResultsBusyError(
                f"{path} is being written by another study{by}; wait for it to finish or use another results file"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, created
        os.close(fd)  # the holder removed the (empty) file while this process waited: lock the new one


def _lock_holder(fd: int) -> int | None:
    """The PID holding a ``flock`` on ``fd``'s file, from Linux's ``/proc/locks`` (None where unknown)."""
    stat = os.fstat(fd)
    wanted = (os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino)
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK" or fields[2] == "->":
            continue
        major, minor, inode = fields[5].split(":")
        if (int(major, 16), int(minor, 16), int(inode)) == wanted:
            return int(fields[4])
    return None


def cell_fields(record: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The fields identifying ``record``'s grid cell (:data:`CELL_FIELDS`), None for a record of no study."""
    return next((fields for label, fields in CELL_FIELDS.items() if label in record), None)


def settings_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """What must agree between the records of one component label: :data:`SETTING_FIELDS` that ``record`` holds.

    Values are compared as stored (JSON: tuples as lists); a predictor's ``seed`` is left out of its ``params``
    (the study seeds every cell). A field a record lacks (older versions) is not compared.
    """
    out: dict[str, Any] = {}
    for name in SETTING_FIELDS:
        value = record.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)):  # absent, or NaN in a DataFrame
            continue
        if name == "params" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k != "seed"}
        out[name] = strict_json(value)
    return out


def setting_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two :func:`settings_of` (only fields both hold), e.g. ``params.x 1 vs 2``."""
    out = []
    for name in SETTING_FIELDS:
        if name not in old or name not in new or old[name] == new[name]:
            continue
        a, b = old[name], new[name]
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{name}.{k} {a.get(k, '(unset)')} vs {b.get(k, '(unset)')}" for k in sorted(a.keys() | b.keys())
                    if a.get(k, "(unset)") != b.get(k, "(unset)")]  # fmt: skip
        elif name == "store_sha256":
            out.append(f"store digest {str(a)[:12]} vs {str(b)[:12]}")
        else:
            out.append(f"{name} {a} vs {b}")
    return out


def check_settings(
    path: str | Path,
    records: Iterable[Mapping[str, Any]],
    label_field: str,
    current: Mapping[str, Mapping[str, Any]],
    *,
    study: str,
    benchmark: str,
) -> None:
    """Refuse to resume when ``path`` holds records of a label of this study whose settings differ from ``current``.

    ``current`` maps each label of the run to its settings (the fields of :data:`SETTING_FIELDS`). Refusing keeps
    a results file to one setting per label, so resuming never counts another setting's cells as done and a
    report never pools two settings under one name.
    """
    wanted = {label: settings_of(value) for label, value in current.items()}
    for record in records:
        label = record.get(label_field)
        if record.get("study") != study or record.get("benchmark") != benchmark or label not in wanted:
            continue
        differences = setting_differences(settings_of(record), wanted[label])
        if differences:
            raise SettingsMismatchError(
                f"{path} holds {label_field} '{label}' of study '{study}' on {benchmark} recorded with other "
                f"settings (recorded vs now: {'; '.join(differences)}); use another results file (or --name) for "
                "these settings"
            )


def check_one_setting(records: pd.DataFrame, source: str) -> None:
    """Refuse records that hold one component label (of one study and benchmark) under several settings."""
    fields = cell_fields(dict.fromkeys(records.columns))
    if fields is None or records.empty:
        return
    label_field = fields[2]
    for (study, benchmark, label), group in records.groupby(["study", "benchmark", label_field], sort=True):
        first = settings_of(group.iloc[0].to_dict())
        for _, row in group.iloc[1:].iterrows():
            differences = setting_differences(first, settings_of(row.to_dict()))
            if differences:
                raise DataFormatError(
                    f"{source}: {label_field} '{label}' of study '{study}' on {benchmark} has records of different "
                    f"settings ({'; '.join(differences)}); a report would pool them: keep them in separate results "
                    "files"
                )


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


def store_digest(bench: TabularBenchmark) -> str:
    """The digest recorded as ``store_sha256`` and compared on resume: the one place it is chosen.

    It is the store's content digest (:attr:`StoreMeta.content_sha256`: the declaration and every table's sha256,
    without the creation time), so converting the same data again keeps it and any changed value changes it.
    """
    return bench.meta.content_sha256


def store_provenance(bench: TabularBenchmark) -> dict[str, str]:
    """Record fields identifying the store ``bench`` was read from: ``store_sha256`` and ``store_created``."""
    return {"store_sha256": store_digest(bench), "store_created": str(bench.meta.provenance.get("created", ""))}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def unique_records(path: str | Path, records: Iterable[dict[str, Any]], seen: set[Any] | None = None) -> list[dict]:
    """``records`` with each grid cell once (the first record of it; warns once naming ``path`` when some repeat).

    ``seen`` carries the cells of files read before, so a cell repeated across files also counts once.
    """
    seen = set() if seen is None else seen
    out, repeated = [], 0
    for record in records:
        fields = cell_fields(record)
        if fields is not None:
            cell = (fields, tuple(_hashable(record.get(f)) for f in fields))
            if cell in seen:
                repeated += 1
                continue
            seen.add(cell)
        out.append(record)
    if repeated:
        log.warning("%s: ignoring %d duplicate record(s) of grid cells recorded before (first kept)", path, repeated)
    return out


def read_results(*paths: str | Path) -> pd.DataFrame:
    """All records of one or more results files as a DataFrame (the only way reports read results).

    Each grid cell counts once (:func:`unique_records`); ``null`` (a NaN written as strict JSON) reads as NaN in
    numeric columns and in lists of numbers.
    """
    records: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"results file not found: {path}")
        records.extend(unique_records(path, ResultsFile(path).records(), seen))
    frame = pd.DataFrame.from_records([{k: _nan_for_null(v) for k, v in r.items()} for r in records])
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_object_dtype(values) and all(_is_number_or_null(v) for v in values):
            frame[column] = values.astype(float)
    return frame


def _is_number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _nan_for_null(value: Any) -> Any:
    """A list of numbers with ``None`` (nested lists too) as floats with NaN; anything else unchanged."""
    if not isinstance(value, list) or not value:
        return value
    items = [_nan_for_null(v) for v in value]
    if any(v is None for v in items) and all(_is_number_or_null(v) for v in items):
        return [float("nan") if v is None else v for v in items]
    return items
