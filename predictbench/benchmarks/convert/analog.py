"""analog-nasbench (PyPI) -> ``nb201-analog/cifar10``, the embedded default benchmark.

The package ships one pickle (``data.anb``): a dict from NASLib op tuples to objects holding the CIFAR-10
baseline accuracy of all 15,625 NB201 cells plus post-training-quantisation, quantisation-aware-training,
noisy-weight and analog-hardware accuracies, and accuracies after conductance drift (60 s, 1 h, 1 day, 30 days)
as ``value ± uncertainty``. The module itself imports ``pkg_resources`` (gone from new setuptools), so we never
import it: we locate the data file and read it with a restricted unpickler that maps the package's two classes to
plain records and refuses every other global.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.benchmarks.convert.base import hash_inputs, is_current, require_file
from predictbench.benchmarks.store import MetricRef, StoreMeta, provenance, write_store
from predictbench.paths import data_root
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric

log = logging.getLogger(__name__)

CONVERTER = "analog-nasbench"
VERSION = "1"
NAME = "nb201-analog/cifar10"
FIDELITY = 200
ACCURACIES = {
    "baseline_accuracy": "test accuracy of the digitally trained network (the NB201 training protocol)",
    "ptq_accuracy": "accuracy after post-training quantisation",
    "qat_accuracy": "accuracy after quantisation-aware training",
    "noisy_accuracy": "accuracy with noisy weights (hardware-aware training noise)",
    "analog_accuracy": "accuracy on simulated analog in-memory-computing hardware",
}
DRIFT_TIMES = {60: "60 s", 3600: "1 h", 86400: "1 day", 2592000: "30 days"}
CITATION = (
    "Benmeziane et al., AnalogNAS-Bench: A NAS Benchmark for Analog In-Memory Computing (2025); "
    "Dong & Yang, NAS-Bench-201, ICLR 2020"
)


class _Record:
    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


_ALLOWED_GLOBALS = frozenset({("analognasbench.data", "Architecture"), ("analognasbench.data", "DriftMeasurement")})


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return type(name, (_Record,), {})
        raise DataFormatError(f"analog-nasbench data refers to unexpected object {module}.{name}")


def find_data_file() -> Path:
    """The ``data.anb`` file of the installed analog-nasbench package (without importing it)."""
    spec = importlib.util.find_spec("analognasbench")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the analog-nasbench package is not installed; install it with `pip install analog-nasbench` "
            "or pass the path of its data.anb file"
        )
    return require_file(Path(next(iter(spec.submodule_search_locations))) / "data.anb", "analog-nasbench data")


def read_records(path: Path) -> dict[tuple[int, ...], Any]:
    try:
        data = _RestrictedUnpickler(io.BytesIO(path.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, TypeError) as exc:
        raise DataFormatError(f"{path}: not a readable analog-nasbench pickle ({exc})") from exc
    if not isinstance(data, dict) or not data:
        raise DataFormatError(f"{path}: expected a dict of architectures, got {type(data).__name__}")
    return data


def _metrics() -> dict[str, Metric]:
    metrics = {
        name: Metric(name, True, "%", "objective", 0.0, 100.0, description) for name, description in ACCURACIES.items()
    }
    for kind in ("baseline", "analog"):
        for seconds, label in DRIFT_TIMES.items():
            name = f"{kind}_drift_{seconds}"
            metrics[name] = Metric(name, True, "%", "objective", 0.0, 100.0, f"{kind} accuracy after {label} drift")
            metrics[f"{name}_std"] = Metric(f"{name}_std", False, "%", "info", 0.0, None, f"uncertainty (±) of {name}")
    return metrics


def records_to_results(records: dict[tuple[int, ...], Any]) -> pd.DataFrame:
    space: Any = get_space("nb201")
    try:
        keys = [arch.key for arch in space.from_naslib_array(np.array(list(records), dtype=np.int64))]
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"analog-nasbench: architecture key not an NB201 NASLib tuple ({exc})") from exc
    columns: dict[str, Any] = {"key": keys, "seed": -1, "fidelity": FIDELITY}
    values = list(records.values())
    for name in ACCURACIES:
        columns[name] = np.array([getattr(v, name) for v in values], dtype=float)
    for kind in ("baseline", "analog"):
        for seconds in DRIFT_TIMES:
            name = f"{kind}_drift_{seconds}"
            drift = [getattr(v, name) for v in values]
            columns[name] = np.array([d.value for d in drift], dtype=float)
            columns[f"{name}_std"] = np.array([d.uncertainty for d in drift], dtype=float)
    return pd.DataFrame(columns)


def convert(source: str | Path | None = None, *, root: str | Path | None = None, force: bool = False) -> list[Path]:
    """Convert analog-nasbench's data into the store ``nb201-analog/cifar10``.

    Examples
    --------
    >>> from predictbench.benchmarks.convert.analog import convert
    >>> convert(root="/tmp/pb-data")  # doctest: +SKIP
    """
    path = require_file(Path(source), "analog-nasbench data") if source else find_data_file()
    root = Path(root) if root is not None else data_root()
    inputs = hash_inputs([path])
    dest = root / NAME
    if not force and is_current(dest, CONVERTER, VERSION, inputs):
        log.info("%s is up to date", dest)
        return [dest]
    results = records_to_results(read_records(path))
    space: Any = get_space("nb201")
    archs = pd.DataFrame({"key": results["key"], "index": space.index_of(results["key"].to_numpy())})
    archs = archs.sort_values("index", kind="stable").reset_index(drop=True)
    meta = StoreMeta(
        name=NAME,
        space="nb201",
        task="cifar10",
        description="NAS-Bench-201 cells trained on CIFAR-10 with analog-hardware, quantisation and drift "
        "accuracies (analog-nasbench)",
        metrics=_metrics(),
        fidelities=(FIDELITY,),
        default_fidelity=FIDELITY,
        seeds=(),
        search=MetricRef("baseline_accuracy", FIDELITY),
        report=MetricRef("baseline_accuracy", FIDELITY),
        provenance=provenance(CONVERTER, VERSION, inputs, source_package="analog-nasbench"),
        citation=CITATION,
    )
    return [write_store(root, meta, archs, results)]
