"""Convert the official NATS-Bench "simple" files (topology ``tss`` and size ``sss`` spaces) into stores.

Source layout (as distributed, e.g. ``$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple/``)::

    meta.pickle.pbz2          bz2 pickle: {'meta_archs': [arch strings in index order], 'total_archs': n, ...}
    000000.pickle.pbz2        bz2 pickle of one architecture: {hp: ArchResults state dict}
    000001.pickle.pbz2        ...

``hp`` is the training schedule: ``'12'`` and ``'200'`` epochs for tss; ``'01'``, ``'12'`` and ``'90'``
for sss. Each ArchResults dict holds ``all_results[(dataset, seed)]``, one ResultsCount state dict per
training run, with per-epoch ``train_acc1es`` / ``train_acc5es`` / ``train_losses`` / ``train_times``
(``{epoch: value}``), per-epoch evaluations ``eval_acc1es`` / ``eval_losses`` / ``eval_times``
(``{'<eval-name>@<epoch>': value}``), and ``params`` (M), ``flop`` (M), ``latency`` ([seconds]).
The files hold only plain containers, floats and numpy scalars; they are read with a restricted unpickler
that refuses anything else.

Stores written: ``nats-tss/<dataset>`` (space ``nb201``, keys = official arch strings) and
``nats-sss/<dataset>`` (space ``nats-sss``, keys = ``'c0:c1:c2:c3:c4'``) for the datasets
``cifar10-valid``, ``cifar10``, ``cifar100``, ``imagenet16-120`` (NATS spells the last ``ImageNet16-120``).
Fidelity = the schedule's total epochs (12/200, or 1/12/90). Only architectures whose per-architecture file
is present are in a store.

Metric names (the same in ``results.parquet`` and ``curves.parquet``). Each NATS evaluation set maps to one
prefix, as in the NATS-Bench API's ``get_more_info``:

================  ===============  ==============  ===================
dataset           ``valid_*``      ``test_*``      ``valtest_*``
================  ===============  ==============  ===================
cifar10-valid     x-valid          ori-test        --
cifar10           --               ori-test        --
cifar100          x-valid          x-test          ori-test
imagenet16-120    x-valid          x-test          ori-test
================  ===============  ==============  ===================

(For cifar100 / ImageNet16-120 ``x-valid`` and ``x-test`` are the two halves of the original test set and
``ori-test`` is the whole of it; cifar10-valid trains on the 25k train half and validates on the other half;
cifar10 trains on all 50k.) Any other evaluation name is kept as ``<name>_*`` with ``-`` replaced by ``_``.

- ``train_acc``, ``train_top5_acc`` (%), ``train_loss``; ``<split>_acc`` (%), ``<split>_loss``: in results the
  value after the last epoch of the run; in curves the value after each epoch.
- ``train_time_per_epoch``, ``train_time_total``, ``<split>_eval_time_per_epoch``, ``<split>_eval_time_total``
  (seconds, cost): in results the mean per epoch and the sum over all epochs (NATS ``*-per-time`` and
  ``*-all-time``); in curves the time of that epoch and the cumulative time up to it.
- ``params`` (millions), ``flops`` (MFLOPs), ``latency`` (seconds, mean of the recorded latencies; NaN when
  NATS records none): cost metrics, lower is better.

Curves: ``epoch`` counts completed epochs (1 ... fidelity), so a curve's last point equals the result at that
fidelity. NATS keeps some 200-epoch evaluations only at the last epoch (e.g. cifar10-valid ``ori-test``); the
other curve points are NaN. Search metric: ``valid_acc`` at fidelity 12 (where the dataset has a validation
set; cifar10 has none, so its stores declare no search metric); report metric: ``test_acc`` at 200 (tss) /
90 (sss).

Examples
--------
>>> from predictbench.benchmarks.convert.nats import convert_tss
>>> paths = convert_tss("~/.torch/NATS-tss-v1_0-3ffb9-simple", root="benchmarks_data")  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import codecs
import collections
import importlib
import logging
import math
import os
import pickle
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
import pandas as pd

from predictbench.benchmarks.catalog import NATS_DATASETS
from predictbench.benchmarks.convert.base import hash_inputs, is_current
from predictbench.benchmarks.store import MetricRef, StoreMeta, provenance, write_store
from predictbench.registry import unknown_name
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric, OutOfSpaceError

log = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
META_FILE = "meta.pickle.pbz2"
TSS_FOLDER = "NATS-tss-v1_0-3ffb9-simple"
SSS_FOLDER = "NATS-sss-v1_0-50262-simple"
_ARCH_FILE = re.compile(r"^(\d{6})\.pickle\.pbz2$")

NATS_CITATION = (
    "Dong, Liu, Musial, Gabrys. NATS-Bench: Benchmarking NAS Algorithms for Architecture Topology and Size. "
    "IEEE TPAMI 2021. https://github.com/D-X-Y/NATS-Bench"
)

#: NATS evaluation-set name -> metric prefix, per (lower-case) dataset.
EVAL_SPLITS: dict[str, dict[str, str]] = {
    "cifar10-valid": {"x-valid": "valid", "ori-test": "test"},
    "cifar10": {"ori-test": "test"},
    "cifar100": {"x-valid": "valid", "x-test": "test", "ori-test": "valtest"},
    "imagenet16-120": {"x-valid": "valid", "x-test": "test", "ori-test": "valtest"},
}

_TRAIN_SETS = {
    "cifar10-valid": "the CIFAR-10 train half (25k images)",
    "cifar10": "CIFAR-10 train+valid (50k images)",
    "cifar100": "the CIFAR-100 training set (50k images)",
    "imagenet16-120": "the ImageNet16-120 training set",
}
_SPLIT_SETS = {
    ("cifar10-valid", "x-valid"): "x-valid, the CIFAR-10 validation half (25k training images held out)",
    ("cifar10-valid", "ori-test"): "ori-test, the CIFAR-10 test set (10k images)",
    ("cifar10", "ori-test"): "ori-test, the CIFAR-10 test set (10k images)",
    ("cifar100", "x-valid"): "x-valid, one half of the CIFAR-100 test set (5k images)",
    ("cifar100", "x-test"): "x-test, the other half of the CIFAR-100 test set (5k images)",
    ("cifar100", "ori-test"): "ori-test, the whole CIFAR-100 test set (x-valid + x-test)",
    ("imagenet16-120", "x-valid"): "x-valid, one half of the ImageNet16-120 validation set (3k images)",
    ("imagenet16-120", "x-test"): "x-test, the other half of the ImageNet16-120 validation set (3k images)",
    ("imagenet16-120", "ori-test"): "ori-test, the whole ImageNet16-120 validation set (x-valid + x-test)",
}

# -- restricted unpickling ----------------------------------------------------------------------------------


def _numpy_attr(name: str) -> Any:
    """``numpy._core.multiarray.<name>`` (numpy 2) or ``numpy.core.multiarray.<name>`` (numpy 1)."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"numpy has no multiarray.{name}")


def _safe_globals() -> dict[tuple[str, str], Any]:
    scalar = _numpy_attr("scalar")
    reconstruct = _numpy_attr("_reconstruct")
    return {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        # pickle protocol 2 (torch's legacy files) stores bytes as _codecs.encode(str, 'latin1')
        ("_codecs", "encode"): codecs.encode,
        ("numpy", "dtype"): np.dtype,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy.core.multiarray", "scalar"): scalar,
        ("numpy._core.multiarray", "scalar"): scalar,
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,
    }


_SAFE_GLOBALS = _safe_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for benchmark files: plain containers, numbers, strings and numpy scalars/arrays only.

    Any other global (a class or function the pickle asks for) raises :class:`DataFormatError` naming
    ``source``; torch objects and persistent ids (tensor storages) raise it saying that torch is needed.
    """

    def __init__(self, file: IO[bytes], *, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        target = _SAFE_GLOBALS.get((module, name))
        if target is not None:
            return target
        if module == "torch" or module.startswith("torch."):
            raise DataFormatError(
                f"{self.source}: holds torch objects ({module}.{name}); reading it needs torch, and this "
                f"converter reads only files of plain containers"
            )
        raise DataFormatError(
            f"{self.source}: refusing to unpickle {module}.{name} (only plain containers, numbers and numpy "
            f"scalars are allowed)"
        )

    def persistent_load(self, pid: Any) -> Any:
        tag = pid[0] if isinstance(pid, tuple) and pid else pid
        raise DataFormatError(
            f"{self.source}: holds torch tensors (persistent id {tag!r}); reading it needs torch, and this "
            f"converter reads only files of plain containers"
        )


def one_line(exc: BaseException) -> str:
    """``Type: message`` of an exception on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: Exceptions that a damaged compressed pickle raises (DataFormatError is handled before these).
CORRUPT_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    OSError,
    pickle.UnpicklingError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
)


def load_pbz2(path: Path) -> Any:
    """Read a bz2-compressed pickle with :class:`RestrictedUnpickler`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataFormatError
        The file is truncated or corrupt, or holds objects other than plain data (message names the file).
    """
    if not path.is_file():
        raise FileNotFoundError(f"NATS-Bench file not found: {path}")
    try:
        with bz2.open(path, "rb") as handle:
            return RestrictedUnpickler(handle, source=str(path)).load()
    except DataFormatError:
        raise
    except CORRUPT_ERRORS as exc:
        raise DataFormatError(f"{path}: truncated or corrupt bz2 pickle ({one_line(exc)})") from exc


# -- parsing ArchResults / ResultsCount state dicts ---------------------------------------------------------


class Run(NamedTuple):
    """One training run of one architecture: final values and per-epoch curves."""

    dataset: str
    key: str
    seed: int
    fidelity: int
    final: dict[str, float]
    curves: dict[str, np.ndarray]


def _mapping(value: Any, where: str, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise DataFormatError(f"{where}: {what} must be a dict, got {type(value).__name__}")
    return value


def _require(mapping: Mapping[Any, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise DataFormatError(f"{where}: missing key {key!r}")
    return mapping[key]


def _number(value: Any, where: str, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: {field} must be a number, got {value!r}") from exc


def _floats(values: Iterable[Any], count: int, where: str, field: str) -> np.ndarray:
    try:
        return np.fromiter((np.nan if v is None else v for v in values), dtype=float, count=count)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: {field} holds a value that is not a number ({one_line(exc)})") from exc


def _epoch_array(value: Any, epochs: int, where: str, field: str) -> np.ndarray | None:
    """``{epoch: value}`` (0-based epochs) as an array of length ``epochs``; None when absent or empty."""
    if value is None:
        return None
    mapping = _mapping(value, where, field)
    if not mapping:
        return None
    try:
        idx = np.fromiter((int(k) for k in mapping.keys()), dtype=np.int64, count=len(mapping))
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: {field} keys must be epoch numbers ({one_line(exc)})") from exc
    if idx.min() < 0 or idx.max() >= epochs:
        raise DataFormatError(
            f"{where}: {field} has epoch {int(idx.max() if idx.max() >= epochs else idx.min())} outside 0..{epochs - 1}"
        )
    out = np.full(epochs, np.nan)
    out[idx] = _floats(mapping.values(), len(mapping), where, field)
    return out


def _eval_arrays(value: Any, epochs: int, where: str, field: str) -> dict[str, np.ndarray]:
    """``{'<set>@<epoch>': value}`` as ``{set: array of length epochs}``."""
    if value is None:
        return {}
    mapping = _mapping(value, where, field)
    if not mapping:
        return {}
    names: list[str] = []
    idx = np.empty(len(mapping), dtype=np.int64)
    for i, raw in enumerate(mapping.keys()):
        name, sep, epoch = str(raw).rpartition("@")
        if not sep or not epoch.isdigit():
            raise DataFormatError(f"{where}: {field} key {raw!r} is not '<eval-set>@<epoch>'")
        names.append(name)
        idx[i] = int(epoch)
    if idx.max() >= epochs:
        raise DataFormatError(f"{where}: {field} has epoch {int(idx.max())} outside 0..{epochs - 1}")
    values = _floats(mapping.values(), len(mapping), where, field)
    name_array = np.asarray(names, dtype=object)
    out: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(names):
        rows = name_array == name
        array = np.full(epochs, np.nan)
        array[idx[rows]] = values[rows]
        out[name] = array
    return out


def split_prefix(dataset: str, eval_name: str) -> str:
    """Metric prefix of a NATS evaluation set (``x-valid`` -> ``valid`` ...; see the module docstring)."""
    known = EVAL_SPLITS.get(dataset, {})
    return known.get(eval_name, eval_name.replace("-", "_"))


def _latency(value: Any, where: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple)):
        if not value:
            return math.nan
        numbers = [_number(v, where, "latency") for v in value]
        mean = sum(numbers) / len(numbers)
    else:
        mean = _number(value, where, "latency")
    return mean if mean > 0 else math.nan  # NATS records -1 / None for "not measured"


def _last(array: np.ndarray | None) -> float:
    return math.nan if array is None else float(array[-1])


def parse_run(run: Any, dataset: str, where: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Final values and per-epoch curves of one ResultsCount state dict (see the module docstring)."""
    run = _mapping(run, where, "a training run")
    epochs_value = _require(run, "epochs", where)
    try:
        epochs = int(epochs_value)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: 'epochs' must be an integer, got {epochs_value!r}") from exc
    if epochs < 1:
        raise DataFormatError(f"{where}: 'epochs' must be positive, got {epochs}")
    curves: dict[str, np.ndarray] = {}
    train = {
        "train_acc": _epoch_array(_require(run, "train_acc1es", where), epochs, where, "train_acc1es"),
        "train_top5_acc": _epoch_array(run.get("train_acc5es"), epochs, where, "train_acc5es"),
        "train_loss": _epoch_array(_require(run, "train_losses", where), epochs, where, "train_losses"),
        "train_time_per_epoch": _epoch_array(run.get("train_times"), epochs, where, "train_times"),
    }
    curves.update({name: array for name, array in train.items() if array is not None})
    final = {name: _last(train[name]) for name in ("train_acc", "train_top5_acc", "train_loss")}
    times = train["train_time_per_epoch"]
    if times is not None:
        curves["train_time_total"] = np.cumsum(times)
        final["train_time_total"] = float(times.sum())
        final["train_time_per_epoch"] = final["train_time_total"] / epochs

    accs = _eval_arrays(_require(run, "eval_acc1es", where), epochs, where, "eval_acc1es")
    losses = _eval_arrays(_require(run, "eval_losses", where), epochs, where, "eval_losses")
    eval_times = _eval_arrays(run.get("eval_times"), epochs, where, "eval_times")
    for eval_name in dict.fromkeys([*accs, *losses, *eval_times]):
        prefix = split_prefix(dataset, eval_name)
        for suffix, arrays in (("acc", accs), ("loss", losses)):
            if eval_name in arrays:
                curves[f"{prefix}_{suffix}"] = arrays[eval_name]
                final[f"{prefix}_{suffix}"] = _last(arrays[eval_name])
        if eval_name in eval_times:
            per_epoch = eval_times[eval_name]
            curves[f"{prefix}_eval_time_per_epoch"] = per_epoch
            curves[f"{prefix}_eval_time_total"] = np.cumsum(per_epoch)
            final[f"{prefix}_eval_time_total"] = float(per_epoch.sum())
            final[f"{prefix}_eval_time_per_epoch"] = final[f"{prefix}_eval_time_total"] / epochs

    final["params"] = _number(_require(run, "params", where), where, "params")
    final["flops"] = _number(_require(run, "flop", where), where, "flop")
    final["latency"] = _latency(run.get("latency"), where)
    curves["epoch"] = np.arange(1, epochs + 1, dtype=np.int64)
    return final, curves


def parse_arch_results(
    record: Any,
    *,
    fidelity: int,
    index: int,
    key: str,
    where: str,
    datasets: Iterable[str] | None = None,
) -> list[Run]:
    """Runs of one ArchResults state dict (one architecture, one training schedule).

    ``datasets`` (lower-case names) restricts the datasets read; ``arch_index`` / ``arch_str`` in the record,
    when present, must agree with ``index`` / ``key``.
    """
    record = _mapping(record, where, "an architecture record")
    if "arch_index" in record and record["arch_index"] is not None and int(record["arch_index"]) != index:
        raise DataFormatError(f"{where}: arch_index is {record['arch_index']}, expected {index}")
    if "arch_str" in record and record["arch_str"] is not None and str(record["arch_str"]) != key:
        raise DataFormatError(f"{where}: arch_str is {record['arch_str']!r}, expected {key!r} (meta_archs)")
    all_results = _mapping(_require(record, "all_results", where), where, "'all_results'")
    wanted = None if datasets is None else set(datasets)
    runs: list[Run] = []
    for run_key, run in all_results.items():
        if not (isinstance(run_key, tuple) and len(run_key) == 2):
            raise DataFormatError(f"{where}: all_results key {run_key!r} is not a (dataset, seed) pair")
        dataset = str(run_key[0]).lower()
        if wanted is not None and dataset not in wanted:
            continue
        try:
            seed = int(run_key[1])
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"{where}: all_results key {run_key!r} has a non-integer seed") from exc
        final, curves = parse_run(run, dataset, f"{where}, {run_key}")
        runs.append(Run(dataset, key, seed, fidelity, final, curves))
    return runs


def hp_fidelity(hp: Any, where: str) -> int:
    """Epochs of an hp key ('12', '200', '01', '90')."""
    text = str(hp)
    if not text.isdigit() or int(text) < 1:
        raise DataFormatError(f"{where}: hyper-parameter key {hp!r} is not a number of epochs")
    return int(text)


# -- metric declarations and store assembly ----------------------------------------------------------------

_ACC: dict[str, Any] = {"higher_is_better": True, "unit": "%", "kind": "objective", "lower": 0.0, "upper": 100.0}
_LOSS: dict[str, Any] = {"higher_is_better": False, "unit": "", "kind": "objective", "lower": 0.0}
_TIME: dict[str, Any] = {"higher_is_better": False, "unit": "s", "kind": "cost", "lower": 0.0}


def _split_description(dataset: str, prefix: str) -> str:
    for (ds, eval_name), text in _SPLIT_SETS.items():
        if ds == dataset and EVAL_SPLITS[ds].get(eval_name) == prefix:
            return text
    return f"evaluation set {prefix!r}"


def declare_metric(name: str, dataset: str) -> Metric:
    """The declaration (direction, unit, kind, bounds, description) of a metric column."""
    train_set = _TRAIN_SETS.get(dataset, "the training set")
    fixed: dict[str, tuple[dict[str, Any], str]] = {
        "train_acc": (_ACC, f"top-1 accuracy on {train_set} after the last epoch (curves: after each epoch)"),
        "train_top5_acc": (_ACC, f"top-5 accuracy on {train_set} (recorded for some schedules only)"),
        "train_loss": (_LOSS, f"cross-entropy loss on {train_set}"),
        "train_time_per_epoch": (_TIME, "training time per epoch (results: mean; curves: that epoch)"),
        "train_time_total": (_TIME, "training time of all epochs (curves: cumulative up to that epoch)"),
        "params": (
            {"higher_is_better": False, "unit": "M", "kind": "cost", "lower": 0.0},
            "number of parameters in millions (NATS 'params', printed as MB)",
        ),
        "flops": (
            {"higher_is_better": False, "unit": "MFLOPs", "kind": "cost", "lower": 0.0},
            "FLOPs of one forward pass in millions (NATS 'flop')",
        ),
        "latency": (
            {"higher_is_better": False, "unit": "s", "kind": "cost", "lower": 0.0},
            "inference latency in seconds as recorded by NATS-Bench (mean of the recorded values)",
        ),
    }
    if name in fixed:
        spec, text = fixed[name]
        return Metric(name, description=text, **spec)
    patterns: tuple[tuple[str, dict[str, Any], str], ...] = (
        ("_eval_time_per_epoch", _TIME, "evaluation time per epoch (results: mean; curves: that epoch) on"),
        ("_eval_time_total", _TIME, "evaluation time of all epochs (curves: cumulative) on"),
        ("_acc", _ACC, "top-1 accuracy after the last epoch (curves: after each epoch) on"),
        ("_loss", _LOSS, "cross-entropy loss on"),
    )
    for suffix, spec, what in patterns:
        if name.endswith(suffix):
            prefix = name[: -len(suffix)]
            test = suffix in ("_acc", "_loss") and prefix in ("test", "valtest")  # valtest: x-valid + x-test
            description = f"{what} {_split_description(dataset, prefix)}"
            return Metric(name, description=description, split="test" if test else None, **spec)
    raise DataFormatError(f"no declaration for metric column {name!r}")


def _clip_to_bounds(table: pd.DataFrame, metrics: Mapping[str, Metric], tolerance: float = 1e-6) -> None:
    """Clip float round-off just outside declared bounds (e.g. 100.00000000000001 %) in place."""
    for name, metric in metrics.items():
        if name not in table.columns:
            continue
        column = table[name]
        if metric.upper is not None:
            over = (column > metric.upper) & (column <= metric.upper + tolerance)
            if over.any():
                table.loc[over, name] = metric.upper
        if metric.lower is not None:
            under = (column < metric.lower) & (column >= metric.lower - tolerance)
            if under.any():
                table.loc[under, name] = metric.lower


def _curves_table(runs: Sequence[Run]) -> pd.DataFrame:
    lengths = np.fromiter((len(r.curves["epoch"]) for r in runs), dtype=np.int64, count=len(runs))
    columns: dict[str, Any] = {
        "key": np.repeat(np.asarray([r.key for r in runs], dtype=object), lengths),
        "seed": np.repeat(np.fromiter((r.seed for r in runs), dtype=np.int64, count=len(runs)), lengths),
        "fidelity": np.repeat(np.fromiter((r.fidelity for r in runs), dtype=np.int64, count=len(runs)), lengths),
        "epoch": np.concatenate([r.curves["epoch"] for r in runs]),
    }
    names = [n for n in dict.fromkeys(n for r in runs for n in r.curves) if n != "epoch"]
    for name in names:
        columns[name] = np.concatenate(
            [r.curves[name] if name in r.curves else np.full(n, np.nan) for r, n in zip(runs, lengths, strict=True)]
        )
    table = pd.DataFrame(columns)
    return table.astype({"seed": "int32", "fidelity": "int32", "epoch": "int32"})


@dataclass(frozen=True)
class StoreSpec:
    """What differs between the NATS / NB201 store families."""

    family: str  # store names are f"{family}/{dataset}"
    space: str
    search_fidelity: int
    report_fidelity: int
    citation: str
    description: str


def write_dataset_stores(
    runs: Sequence[Run],
    archs: pd.DataFrame,
    datasets: Sequence[str],
    spec: StoreSpec,
    *,
    root: Path,
    prov: Mapping[str, Any],
    source: str,
    curves: bool = True,
) -> list[Path]:
    """Write one store per dataset from parsed runs; ``archs`` has columns ``key`` and ``index``."""
    paths: list[Path] = []
    by_dataset: dict[str, list[Run]] = {ds: [] for ds in datasets}
    for run in runs:
        if run.dataset in by_dataset:
            by_dataset[run.dataset].append(run)
    missing = [ds for ds in datasets if not by_dataset[ds]]
    if missing:  # checked before anything is written
        raise DataFormatError(f"{source}: no results for dataset {missing[0]!r}")
    key_order = pd.Index(archs["key"])
    for dataset in datasets:
        ds_runs = by_dataset[dataset]
        order = np.lexsort(
            (
                np.fromiter((r.seed for r in ds_runs), dtype=np.int64, count=len(ds_runs)),
                np.fromiter((r.fidelity for r in ds_runs), dtype=np.int64, count=len(ds_runs)),
                key_order.get_indexer([r.key for r in ds_runs]),
            )
        )
        ds_runs = [ds_runs[i] for i in order]
        results = pd.DataFrame.from_records(
            [{"key": r.key, "seed": r.seed, "fidelity": r.fidelity, **r.final} for r in ds_runs]
        )
        id_columns = ["key", "seed", "fidelity"]
        metric_columns = [c for c in results.columns if c not in id_columns]
        results = results[id_columns + [c for c in metric_columns if results[c].notna().any()]]
        curve_table = _curves_table(ds_runs) if curves else None
        if curve_table is not None:
            empty = [c for c in curve_table.columns[4:] if not curve_table[c].notna().any()]
            curve_table = curve_table.drop(columns=empty)
        names = list(dict.fromkeys([*results.columns[3:], *([] if curve_table is None else curve_table.columns[4:])]))
        metrics = {name: declare_metric(name, dataset) for name in names}
        _clip_to_bounds(results, metrics)
        if curve_table is not None:
            _clip_to_bounds(curve_table, metrics)
        fidelities = tuple(sorted(int(f) for f in results["fidelity"].unique()))

        def present(metric: str, fidelity: int, table: pd.DataFrame = results) -> bool:
            return metric in table.columns and bool(table.loc[table["fidelity"] == fidelity, metric].notna().any())

        search = MetricRef("valid_acc", spec.search_fidelity) if present("valid_acc", spec.search_fidelity) else None
        report = MetricRef("test_acc", spec.report_fidelity) if present("test_acc", spec.report_fidelity) else None
        default = spec.report_fidelity if spec.report_fidelity in fidelities else max(fidelities)
        ds_archs = archs[archs["key"].isin(results["key"])].reset_index(drop=True)
        meta = StoreMeta(
            name=f"{spec.family}/{dataset}",
            space=spec.space,
            task=dataset,
            metrics=metrics,
            fidelities=fidelities,
            default_fidelity=default,
            seeds=tuple(sorted(int(s) for s in results["seed"].unique())),
            search=search,
            report=report,
            fidelity_unit="epochs",
            provenance=dict(prov),
            citation=spec.citation,
            description=f"{spec.description}; dataset {dataset}; {len(ds_archs)} architectures",
        )
        paths.append(write_store(root, meta, ds_archs, results, curves=curve_table))
    return paths


def resolve_datasets(datasets: Iterable[str] | None) -> list[str]:
    """Lower-case dataset names, validated (default: all four NATS datasets)."""
    if datasets is None:
        return list(NATS_DATASETS)
    if isinstance(datasets, str):
        datasets = [datasets]
    out: list[str] = []
    for name in datasets:
        lowered = str(name).lower()
        if lowered not in NATS_DATASETS:
            raise unknown_name("NATS dataset", str(name), list(NATS_DATASETS))
        if lowered not in out:
            out.append(lowered)
    return out


# -- the NATS "simple" folder --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    converter: str
    folder: str
    spec: StoreSpec
    n_archs: int


_TSS = _Kind(
    converter="nats-tss",
    folder=TSS_FOLDER,
    spec=StoreSpec(
        family="nats-tss",
        space="nb201",
        search_fidelity=12,
        report_fidelity=200,
        citation=NATS_CITATION,
        description="NATS-Bench topology search space (= NAS-Bench-201 cells), official per-architecture files",
    ),
    n_archs=15_625,
)
_SSS = _Kind(
    converter="nats-sss",
    folder=SSS_FOLDER,
    spec=StoreSpec(
        family="nats-sss",
        space="nats-sss",
        search_fidelity=12,
        report_fidelity=90,
        citation=NATS_CITATION,
        description="NATS-Bench size search space (channel counts), official per-architecture files",
    ),
    n_archs=32_768,
)


def torch_home() -> Path:
    """``$TORCH_HOME`` (default ``~/.torch``), where the official APIs look for benchmark files."""
    return Path(os.environ.get("TORCH_HOME") or "~/.torch").expanduser()


def _resolve_folder(source: str | Path | None, kind: _Kind) -> Path:
    if source is None:
        source = torch_home() / kind.folder
        log.info("no source given, using %s", source)
    path = Path(source).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"NATS-Bench {kind.converter} folder not found: {path}")
    if path.is_file():
        hint = " (extract the archive first)" if path.name.endswith((".tar", ".tar.gz")) else ""
        raise FileNotFoundError(f"NATS-Bench {kind.converter} source must be a folder, got the file {path}{hint}")
    if not (path / META_FILE).is_file() and (path / kind.folder / META_FILE).is_file():
        path = path / kind.folder
    if not (path / META_FILE).is_file():
        raise FileNotFoundError(f"NATS-Bench meta file not found: {path / META_FILE}")
    return path


def _read_meta(path: Path, kind: _Kind) -> list[str]:
    meta = _mapping(load_pbz2(path), str(path), "the meta file")
    archs = _require(meta, "meta_archs", str(path))
    if not isinstance(archs, (list, tuple)) or not all(isinstance(a, str) for a in archs):
        raise DataFormatError(f"{path}: 'meta_archs' must be a list of architecture strings")
    total = meta.get("total_archs")
    if total is not None and int(total) != len(archs):
        raise DataFormatError(f"{path}: total_archs is {total} but meta_archs has {len(archs)} entries")
    if len(archs) != kind.n_archs:
        log.warning(
            "%s: %d architectures, the official %s space has %d", path, len(archs), kind.converter, kind.n_archs
        )
    space = get_space(kind.spec.space)
    try:
        indices = space.index_of(list(archs))  # type: ignore[attr-defined]
    except OutOfSpaceError as exc:
        raise DataFormatError(f"{path}: meta_archs holds an architecture outside {space.name} ({exc})") from exc
    if len(archs) == kind.n_archs and not (np.asarray(indices) == np.arange(len(archs))).all():
        raise DataFormatError(f"{path}: meta_archs is not in the official {space.name} index order")
    return list(archs)


def _read_arch_file(path: Path, index: int, key: str, datasets: tuple[str, ...]) -> list[Run]:
    """Parse one per-architecture file (a top-level function so worker processes can run it)."""
    data = _mapping(load_pbz2(path), str(path), "an architecture file")
    if not data:
        raise DataFormatError(f"{path}: no training schedules in the file")
    runs: list[Run] = []
    for hp, record in data.items():
        where = f"{path}: hp {hp!r}"
        runs.extend(
            parse_arch_results(
                record, fidelity=hp_fidelity(hp, str(path)), index=index, key=key, where=where, datasets=datasets
            )
        )
    return runs


def _read_arch_file_star(args: tuple[Path, int, str, tuple[str, ...]]) -> list[Run]:
    return _read_arch_file(*args)


def _convert(
    kind: _Kind,
    source: str | Path | None,
    *,
    root: str | Path,
    force: bool,
    datasets: Iterable[str] | None,
    curves: bool,
    workers: int,
) -> list[Path]:
    folder = _resolve_folder(source, kind)
    wanted = resolve_datasets(datasets)
    root = Path(root).expanduser()
    arch_files: list[tuple[int, Path]] = []
    for child in folder.iterdir():
        match = _ARCH_FILE.match(child.name)
        if match and child.is_file():
            arch_files.append((int(match.group(1)), child))
    arch_files.sort()
    if not arch_files:
        raise FileNotFoundError(f"no per-architecture files (NNNNNN.pickle.pbz2) in {folder}")
    inputs = hash_inputs([folder / META_FILE, *(p for _, p in arch_files)], base=folder)
    dests = [root / kind.spec.family / ds for ds in wanted]
    current = [is_current(dest, kind.converter, CONVERTER_VERSION, inputs) for dest in dests]
    if all(current) and not force:
        log.info("%s stores are current (same converter version and inputs), skipping: %s", kind.converter, wanted)
        return dests
    todo = wanted if force else [ds for ds, ok in zip(wanted, current, strict=True) if not ok]

    meta_archs = _read_meta(folder / META_FILE, kind)
    indices = np.fromiter((i for i, _ in arch_files), dtype=np.int64, count=len(arch_files))
    if indices.max() >= len(meta_archs):
        raise DataFormatError(
            f"{folder}: file {int(indices.max()):06d}.pickle.pbz2 has no entry in meta_archs ({len(meta_archs)})"
        )
    keys = [meta_archs[i] for i in indices]
    tasks = [(path, int(i), key, tuple(todo)) for (i, path), key in zip(arch_files, keys, strict=True)]
    log.info("reading %d %s architecture files from %s", len(tasks), kind.converter, folder)
    runs: list[Run] = []
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for part in pool.map(_read_arch_file_star, tasks, chunksize=max(1, len(tasks) // (workers * 8))):
                runs.extend(part)
    else:
        for task in tasks:
            runs.extend(_read_arch_file_star(task))
    archs = pd.DataFrame({"key": np.asarray(keys, dtype=object), "index": indices})
    prov = provenance(
        kind.converter,
        CONVERTER_VERSION,
        inputs,
        source=str(folder),
        format=f"NATS-Bench simple ({kind.folder})",
        eval_sets={ds: EVAL_SPLITS[ds] for ds in todo},
    )
    write_dataset_stores(runs, archs, todo, kind.spec, root=root, prov=prov, source=str(folder), curves=curves)
    return dests


def convert_tss(
    source: str | Path | None,
    *,
    root: str | Path,
    force: bool = False,
    datasets: Iterable[str] | None = None,
    curves: bool = True,
    workers: int = 1,
) -> list[Path]:
    """Convert a NATS-Bench topology folder (``NATS-tss-v1_0-3ffb9-simple``) into ``nats-tss/<dataset>`` stores.

    Parameters
    ----------
    source
        The folder holding ``meta.pickle.pbz2`` and the ``NNNNNN.pickle.pbz2`` files (or its parent); None
        means ``$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple`` (``TORCH_HOME`` defaults to ``~/.torch``).
    root
        Data root the stores are written under.
    force
        Rewrite stores even when they are current (same converter version and input hashes).
    datasets
        Subset of ``cifar10-valid``, ``cifar10``, ``cifar100``, ``imagenet16-120`` (default: all).
    curves
        Write per-epoch curves (``curves.parquet``); the full benchmark has about 10M curve rows per dataset.
    workers
        Processes reading the per-architecture files (the full benchmark has 15,625 of them).

    Returns
    -------
    list of Path
        The store folders, one per dataset (also when they were current and left as they were).

    Raises
    ------
    FileNotFoundError
        The folder or its meta file is missing.
    DataFormatError
        A file is truncated or corrupt, or lacks an expected key (the message names the file and key).
    """
    return _convert(_TSS, source, root=root, force=force, datasets=datasets, curves=curves, workers=workers)


def convert_sss(
    source: str | Path | None,
    *,
    root: str | Path,
    force: bool = False,
    datasets: Iterable[str] | None = None,
    curves: bool = True,
    workers: int = 1,
) -> list[Path]:
    """Convert a NATS-Bench size folder (``NATS-sss-v1_0-50262-simple``) into ``nats-sss/<dataset>`` stores.

    Fidelities 1, 12 and 90 epochs; ``source=None`` means ``$TORCH_HOME/NATS-sss-v1_0-50262-simple``;
    otherwise as :func:`convert_tss`.
    """
    return _convert(_SSS, source, root=root, force=force, datasets=datasets, curves=curves, workers=workers)


__all__ = [
    "EVAL_SPLITS",
    "RestrictedUnpickler",
    "Run",
    "StoreSpec",
    "convert_sss",
    "convert_tss",
    "declare_metric",
    "load_pbz2",
    "parse_arch_results",
    "parse_run",
    "write_dataset_stores",
]
