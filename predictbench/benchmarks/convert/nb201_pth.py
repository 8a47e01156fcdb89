"""Convert the official NAS-Bench-201 ``.pth`` files into ``nb201-pth/<dataset>`` stores, without torch.

Files: ``NAS-Bench-201-v1_0-e61699.pth`` (v1.0, 2020-02; the 12-epoch schedule covers cifar10-valid only)
and ``NAS-Bench-201-v1_1-096897.pth`` (v1.1, 2020-03; 12-epoch results on all four datasets). Each is a
``torch.save``'d dict::

    {'meta_archs': [15,625 arch strings in index order], 'total_archs': 15625,
     'evaluated_indexes': [...],
     'arch2infos': {index: {'less': ArchResults state dict (12 epochs), 'full': ... (200 epochs)}}}

An ArchResults state dict is ``{'arch_index', 'arch_str', 'all_results': {(dataset, seed): ResultsCount
state dict}, 'dataset_seed', 'clear_net_done'}`` -- the same records as the NATS-Bench per-architecture
files, so metric names, evaluation-set mapping, curves and declarations are those of
:mod:`predictbench.benchmarks.convert.nats` (``valid_*`` = x-valid, ``test_*`` = ori-test for cifar10 /
cifar10-valid and x-test for cifar100 / ImageNet16-120, ``valtest_*`` = ori-test of the latter two;
fidelities 12 and 200; search = ``valid_acc`` at 12 where present, report = ``test_acc`` at 200).

Reading without torch. ``torch.save`` writes either

- the zip format (torch >= 1.6): a zip archive ``<name>/data.pkl`` (the object, pickle protocol 2, tensors as
  persistent ids pointing at ``<name>/data/<key>``), ``<name>/version``, ``<name>/byteorder``, ...; or
- the legacy format (the 2020 NAS-Bench-201 files): consecutive pickles -- magic number
  ``0x1950a86a20f9469cfc6c``, protocol version ``1001``, a system-info dict, the object, the list of tensor
  storage keys -- followed by raw storage bytes.

Both are read with the restricted unpickler of the NATS converter (plain containers, numbers, numpy scalars);
a file holding tensors raises :class:`~predictbench.types.DataFormatError` saying that torch is needed. A
plain pickle of the same dict (a re-export) is accepted too. The whole file is unpickled in memory, as the
official API does: the v1.1 file needs tens of GB of RAM.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from predictbench.benchmarks.convert.base import hash_inputs, is_current, require_file
from predictbench.benchmarks.convert.nats import (
    CORRUPT_ERRORS,
    EVAL_SPLITS,
    RestrictedUnpickler,
    Run,
    StoreSpec,
    one_line,
    parse_arch_results,
    resolve_datasets,
    torch_home,
    write_dataset_stores,
)
from predictbench.benchmarks.store import provenance
from predictbench.types import DataFormatError

log = logging.getLogger(__name__)

CONVERTER = "nb201-pth"
CONVERTER_VERSION = "1"
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_LEGACY_PROTOCOL = 1001
ZIP_MAGIC = b"PK\x03\x04"
SCHEDULES: dict[str, int] = {"less": 12, "full": 200}
OFFICIAL_FILES = ("NAS-Bench-201-v1_1-096897.pth", "NAS-Bench-201-v1_0-e61699.pth")

NB201_CITATION = (
    "Dong, Yang. NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search. ICLR 2020. "
    "https://github.com/D-X-Y/NAS-Bench-201"
)


def _load_one(handle: IO[bytes], source: str) -> Any:
    return RestrictedUnpickler(handle, source=source).load()


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        records = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1] or [
            n for n in names if n == "data.pkl"
        ]
        if len(records) != 1:
            raise DataFormatError(
                f"{path}: not a torch.save zip archive (expected one '<name>/data.pkl', found {records or 'none'})"
            )
        with archive.open(records[0]) as handle:
            return _load_one(handle, f"{path}:{records[0]}")


def _read_legacy(path: Path) -> tuple[Any, str]:
    with open(path, "rb") as handle:
        first = _load_one(handle, str(path))
        if isinstance(first, Mapping):
            return first, "pickle"
        if first != TORCH_MAGIC:
            raise DataFormatError(
                f"{path}: neither a torch.save file nor a pickled dict (first object {type(first).__name__})"
            )
        protocol = _load_one(handle, str(path))
        if protocol != TORCH_LEGACY_PROTOCOL:
            raise DataFormatError(f"{path}: unsupported torch.save legacy protocol {protocol!r}")
        _load_one(handle, str(path))  # system info: byte order and type sizes, irrelevant for plain data
        data = _load_one(handle, str(path))
        storage_keys = _load_one(handle, str(path))
        if storage_keys:
            raise DataFormatError(
                f"{path}: holds {len(storage_keys)} tensor storages; reading it needs torch, and this "
                f"converter reads only files of plain containers"
            )
        return data, "torch.save legacy"


def read_torch_file(path: str | Path) -> tuple[Any, str]:
    """Unpickle a ``torch.save`` file of plain containers without torch; return ``(object, format name)``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataFormatError
        The file is truncated, corrupt, not a torch/pickle file, or holds tensors (needs torch).
    """
    path = require_file(Path(path).expanduser(), "NAS-Bench-201 .pth file")
    try:
        with open(path, "rb") as handle:
            is_zip = handle.read(4) == ZIP_MAGIC
        if is_zip:
            return _read_zip(path), "torch.save zip"
        return _read_legacy(path)
    except DataFormatError:
        raise
    except zipfile.BadZipFile as exc:
        raise DataFormatError(f"{path}: truncated or corrupt torch zip archive ({one_line(exc)})") from exc
    except CORRUPT_ERRORS as exc:
        raise DataFormatError(f"{path}: truncated or corrupt torch/pickle file ({one_line(exc)})") from exc


def _version_note(path: Path) -> str:
    if "v1_0" in path.name:
        return "NAS-Bench-201 v1.0 (the 12-epoch schedule covers cifar10-valid only)"
    if "v1_1" in path.name:
        return "NAS-Bench-201 v1.1"
    return "NAS-Bench-201"


def parse_nb201(data: Any, path: Path, datasets: Iterable[str]) -> tuple[list[Run], pd.DataFrame]:
    """Runs and the ``key``/``index`` table of a loaded NAS-Bench-201 dict."""
    where = str(path)
    if not isinstance(data, Mapping):
        raise DataFormatError(f"{where}: expected a dict, got {type(data).__name__}")
    for required in ("meta_archs", "arch2infos"):
        if required not in data:
            raise DataFormatError(f"{where}: missing key {required!r}")
    meta_archs = data["meta_archs"]
    if not isinstance(meta_archs, (list, tuple)) or not all(isinstance(a, str) for a in meta_archs):
        raise DataFormatError(f"{where}: 'meta_archs' must be a list of architecture strings")
    total = data.get("total_archs")
    if total is not None and int(total) != len(meta_archs):
        raise DataFormatError(f"{where}: total_archs is {total} but meta_archs has {len(meta_archs)} entries")
    arch2infos = data["arch2infos"]
    if not isinstance(arch2infos, Mapping):
        raise DataFormatError(f"{where}: 'arch2infos' must be a dict, got {type(arch2infos).__name__}")
    wanted = tuple(datasets)
    runs: list[Run] = []
    indices: list[int] = []
    for raw_index, info in arch2infos.items():
        try:
            index = int(raw_index)
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: arch2infos key {raw_index!r} is not an architecture index") from exc
        if not 0 <= index < len(meta_archs):
            raise DataFormatError(f"{where}: arch2infos index {index} outside meta_archs (0..{len(meta_archs) - 1})")
        if not isinstance(info, Mapping):
            raise DataFormatError(f"{where}: arch2infos[{index}] must be a dict, got {type(info).__name__}")
        for schedule, fidelity in SCHEDULES.items():
            if schedule not in info:
                raise DataFormatError(f"{where}: arch2infos[{index}]: missing key {schedule!r}")
            runs.extend(
                parse_arch_results(
                    info[schedule],
                    fidelity=fidelity,
                    index=index,
                    key=meta_archs[index],
                    where=f"{where}: arch2infos[{index}][{schedule!r}]",
                    datasets=wanted,
                )
            )
        indices.append(index)
    if not indices:
        raise DataFormatError(f"{where}: 'arch2infos' is empty")
    index_array = np.asarray(sorted(indices), dtype=np.int64)
    archs = pd.DataFrame({"key": np.asarray([meta_archs[i] for i in index_array], dtype=object), "index": index_array})
    return runs, archs


def convert(
    source: str | Path | None,
    *,
    root: str | Path,
    force: bool = False,
    datasets: Iterable[str] | None = None,
    curves: bool = True,
) -> list[Path]:
    """Convert an official NAS-Bench-201 ``.pth`` file into ``nb201-pth/<dataset>`` stores.

    Parameters
    ----------
    source
        ``NAS-Bench-201-v1_0-e61699.pth`` or ``NAS-Bench-201-v1_1-096897.pth`` (torch is not needed); None
        means the v1.1 (else v1.0) file in ``$TORCH_HOME`` (default ``~/.torch``).
    root
        Data root the stores are written under.
    force
        Rewrite stores even when they are current (same converter version and input hash).
    datasets
        Subset of ``cifar10-valid``, ``cifar10``, ``cifar100``, ``imagenet16-120`` (default: all).
    curves
        Write per-epoch curves (``curves.parquet``).

    Returns
    -------
    list of Path
        One store folder per dataset (also when current and left as they were).

    Examples
    --------
    >>> paths = convert("NAS-Bench-201-v1_1-096897.pth", root="benchmarks_data")  # doctest: +SKIP
    """
    if source is None:
        candidates = [torch_home() / name for name in OFFICIAL_FILES]
        source = next((c for c in candidates if c.is_file()), candidates[0])
        log.info("no source given, using %s", source)
    path = require_file(Path(source).expanduser(), "NAS-Bench-201 .pth file")
    wanted = resolve_datasets(datasets)
    root = Path(root).expanduser()
    inputs = hash_inputs([path])
    spec = StoreSpec(
        family="nb201-pth",
        space="nb201",
        search_fidelity=12,
        report_fidelity=200,
        citation=NB201_CITATION,
        description=f"{_version_note(path)}, official .pth file",
    )
    dests = [root / spec.family / ds for ds in wanted]
    current = [is_current(dest, CONVERTER, CONVERTER_VERSION, inputs) for dest in dests]
    if all(current) and not force:
        log.info("%s stores are current (same converter version and input), skipping: %s", CONVERTER, wanted)
        return dests
    todo = wanted if force else [ds for ds, ok in zip(wanted, current, strict=True) if not ok]
    log.info("reading %s (this loads the whole file into memory)", path)
    data, file_format = read_torch_file(path)
    runs, archs = parse_nb201(data, path, todo)
    prov = provenance(
        CONVERTER,
        CONVERTER_VERSION,
        inputs,
        source=str(path),
        format=file_format,
        eval_sets={ds: EVAL_SPLITS[ds] for ds in todo},
    )
    write_dataset_stores(runs, archs, todo, spec, root=root, prov=prov, source=str(path), curves=curves)
    return dests


__all__ = ["convert", "parse_nb201", "read_torch_file"]
