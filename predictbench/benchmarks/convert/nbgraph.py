"""NAS-Bench-Graph (PyPI ``nas-bench-graph``) -> ``nbgraph/<dataset>``, one store per graph dataset.

The package ships one "light" file per dataset, ``nas_bench_graph/light/<dataset>.bench``, for ``cora``,
``citeseer``, ``pubmed``, ``cs`` (Coauthor-CS), ``physics`` (Coauthor-Physics), ``photo`` (Amazon-Photo),
``computers`` (Amazon-Computers), ``arxiv`` (ogbn-arxiv) and ``proteins`` (ogbn-proteins). Each is a pickle of
a dict from the benchmark's integer architecture hash to a record ``{'valid_perf', 'perf', 'latency',
'para'}`` of Python floats and numpy float64 scalars. We never import the package: the files are read with a
restricted unpickler that resolves only ``numpy.dtype`` and numpy's scalar constructor (the only globals the
files use) and refuses anything else. The per-epoch, per-seed files the benchmark distributes separately
(figshare; ``cora0.bench`` ...) are not read.

Stores: ``nbgraph/<dataset>`` with space ``nbgraph`` (26,206 architectures) or, for ``proteins``,
``nbgraph-proteins`` (2,021 architectures: its five operations only). Keys are the spaces' canonical keys
(:mod:`predictbench.spaces.nbgraph`); ``archs.parquet`` keeps each record's benchmark hash in ``bench_hash``.

Metrics (one row per architecture, ``seed == -1``: the light files hold the mean over the benchmark's three
training seeds only; Cora/CiteSeer/PubMed values are all multiples of 1/1500 (validation) and 1/3000 (test),
as means of three runs on 500 / 1,000 nodes are), at the single fidelity ``1`` (unit ``run``: the benchmark's
full per-dataset training schedule):

- ``valid_perf`` (search metric): validation performance, the benchmark's ``valid_perf``;
- ``test_perf`` (report metric): test performance, the benchmark's ``perf``;
- ``latency`` (cost, seconds): the benchmark's ``latency``;
- ``params`` (cost, millions): the benchmark's ``para``.

Performance is accuracy, a fraction in [0, 1], except on ogbn-proteins, whose OGB metric is ROC-AUC.

Examples
--------
>>> from predictbench.benchmarks.convert.nbgraph import convert
>>> paths = convert(root="/tmp/pb-data")  # the installed package's files  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import io
import logging
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predictbench.benchmarks.catalog import NBGRAPH_DATASETS
from predictbench.benchmarks.convert.base import hash_inputs, is_current
from predictbench.benchmarks.store import MetricRef, StoreMeta, provenance, write_store
from predictbench.paths import data_root
from predictbench.registry import unknown_name
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric, OutOfSpaceError

log = logging.getLogger(__name__)

CONVERTER = "nas-bench-graph"
VERSION = "1"
FAMILY = "nbgraph"
PACKAGE = "nas_bench_graph"
FIDELITY = 1
SUFFIX = ".bench"
FIELDS: dict[str, str] = {"valid_perf": "valid_perf", "perf": "test_perf", "latency": "latency", "para": "params"}
"""Record field -> metric name."""
CITATION = (
    "Qin, Zhang, Wang, Zhang, Zhu. NAS-Bench-Graph: Benchmarking Graph Neural Architecture Search. "
    "NeurIPS 2022 Datasets and Benchmarks. https://github.com/THUMNLab/NAS-Bench-Graph"
)
DATASET_NAMES: dict[str, str] = {
    "cora": "Cora",
    "citeseer": "CiteSeer",
    "pubmed": "PubMed",
    "cs": "Coauthor-CS",
    "physics": "Coauthor-Physics",
    "photo": "Amazon-Photo",
    "computers": "Amazon-Computers",
    "arxiv": "ogbn-arxiv",
    "proteins": "ogbn-proteins",
}


def space_name(dataset: str) -> str:
    """The search space of a dataset's store (ogbn-proteins covers a 5-op subspace)."""
    return "nbgraph-proteins" if dataset == "proteins" else "nbgraph"


# -- restricted unpickling ----------------------------------------------------------------------------------


def _numpy_scalar() -> Any:
    """numpy's scalar constructor (``numpy._core.multiarray.scalar``, ``numpy.core`` before numpy 2)."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return importlib.import_module(module).scalar
        except (ImportError, AttributeError):
            continue
    raise ImportError("numpy has no multiarray.scalar")  # pragma: no cover - every numpy has one of the two


_SCALAR = _numpy_scalar()
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
}


class BenchUnpickler(pickle.Unpickler):
    """Unpickles a ``.bench`` file: builtin containers and numbers plus numpy scalars, nothing else."""

    def __init__(self, file: io.BufferedIOBase, *, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED.get((module, name))
        if target is None:
            raise DataFormatError(
                f"{self.source}: refusing to unpickle {module}.{name} (a NAS-Bench-Graph .bench file holds only "
                "dicts of numbers and numpy scalars)"
            )
        return target


_CORRUPT = (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError)


def read_bench(path: Path) -> dict[Any, Any]:
    """The dict of one ``.bench`` file, read with :class:`BenchUnpickler`.

    Raises ``DataFormatError`` naming the file when it is truncated, corrupt, not a dict or refers to objects
    other than numbers.
    """
    try:
        with open(path, "rb") as handle:
            data = BenchUnpickler(handle, source=str(path)).load()
    except DataFormatError:
        raise
    except _CORRUPT as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise DataFormatError(
            f"{path}: not a readable NAS-Bench-Graph .bench pickle, truncated or corrupt ({message})"
        ) from exc
    if not isinstance(data, dict) or not data:
        raise DataFormatError(f"{path}: expected a non-empty dict of architecture records, got {type(data).__name__}")
    return data


def records_table(data: dict[Any, Any], source: str) -> pd.DataFrame:
    """Validated records: ``bench_hash`` (int64) + one float column per record field (:data:`FIELDS`)."""
    hashes = list(data)
    bad_key = next((h for h in hashes if isinstance(h, bool) or not isinstance(h, (int, np.integer))), None)
    if bad_key is not None:
        raise DataFormatError(f"{source}: architecture hash {bad_key!r} is not an integer")
    bad_record = next((h for h, r in data.items() if not isinstance(r, dict)), None)
    if bad_record is not None:
        got = type(data[bad_record]).__name__
        raise DataFormatError(f"{source}: record {bad_record} must be a dict of {', '.join(FIELDS)}, got {got}")
    records = list(data.values())
    table = pd.DataFrame({"bench_hash": np.asarray(hashes, dtype=np.int64)})
    for field in FIELDS:
        try:
            raw = [record[field] for record in records]
        except KeyError:
            row = next(i for i, record in enumerate(records) if field not in record)
            raise DataFormatError(
                f"{source}: record {hashes[row]} lacks the field {field!r} (expected {', '.join(FIELDS)})"
            ) from None
        try:
            values = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):  # find the offending value below
            values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataFormatError(
                f"{source}: field {field!r} of record {hashes[row]} is {raw[row]!r}, not a finite number"
            )
        table[field] = values
    return table


# -- metrics and stores -------------------------------------------------------------------------------------


def metrics_for(dataset: str) -> dict[str, Metric]:
    """Metric declarations of one dataset's store."""
    score = "ROC-AUC" if dataset == "proteins" else "accuracy"
    where = DATASET_NAMES[dataset]
    mean = "mean over the benchmark's 3 training seeds"
    return {
        "valid_perf": Metric(
            "valid_perf", True, "fraction", "objective", 0.0, 1.0, f"validation {score} on {where} ({mean})"
        ),
        "test_perf": Metric(
            "test_perf", True, "fraction", "objective", 0.0, 1.0, f"test {score} on {where} ({mean})", "test"
        ),
        "latency": Metric("latency", False, "s", "cost", 0.0, None, f"latency on {where} as recorded by the benchmark"),
        "params": Metric("params", False, "M", "cost", 0.0, None, "number of parameters (millions)"),
    }


def tables_for(dataset: str, data: dict[Any, Any], source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(archs, results) of one dataset from its raw dict."""
    records = records_table(data, source)
    space: Any = get_space(space_name(dataset))
    try:
        keys = np.array([a.key for a in space.from_bench_hash(records["bench_hash"].to_numpy())], dtype=object)
    except OutOfSpaceError as err:
        raise DataFormatError(f"{source}: {err}") from None
    duplicated = pd.Series(keys).duplicated(keep=False).to_numpy()
    if duplicated.any():
        first = keys[np.flatnonzero(duplicated)[0]]
        same = records["bench_hash"].to_numpy()[keys == first].tolist()
        raise DataFormatError(f"{source}: records {same} are the same {space.name} architecture {first!r}")
    if len(keys) != len(space):
        log.warning("%s: %d of the %d %s architectures have a record", source, len(keys), len(space), space.name)
    order = np.argsort(records["bench_hash"].to_numpy(), kind="stable")
    archs = pd.DataFrame({"key": keys[order], "bench_hash": records["bench_hash"].to_numpy()[order]})
    results = pd.DataFrame({"key": keys[order], "seed": -1, "fidelity": FIDELITY})
    for field, metric in FIELDS.items():
        results[metric] = records[field].to_numpy()[order]
    return archs, results


# -- sources ------------------------------------------------------------------------------------------------


def package_light_dir() -> Path:
    """``nas_bench_graph/light`` of the installed package (located without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the nas-bench-graph package is not installed; install it with `pip install 'predictbench[graph]'` "
            "(or `pip install nas-bench-graph`) or pass a folder holding its <dataset>.bench files"
        )
    light = Path(next(iter(spec.submodule_search_locations))) / "light"
    if not light.is_dir():
        raise FileNotFoundError(f"the installed nas-bench-graph package has no light/ folder: {light}")
    return light


def resolve_datasets(datasets: Iterable[str] | str | None) -> list[str]:
    """Validated dataset names (default: all nine)."""
    if datasets is None:
        return list(NBGRAPH_DATASETS)
    names = [datasets] if isinstance(datasets, str) else list(datasets)
    out: list[str] = []
    for name in names:
        lowered = str(name).lower()
        if lowered not in NBGRAPH_DATASETS:
            raise unknown_name("NAS-Bench-Graph dataset", str(name), list(NBGRAPH_DATASETS))
        if lowered not in out:
            out.append(lowered)
    return out


def find_bench_files(source: str | Path | None, datasets: Iterable[str] | str | None = None) -> dict[str, Path]:
    """Dataset -> ``.bench`` file: from the installed package (``source=None``), a folder or one file.

    A folder may hold the files directly or in a ``light/`` subfolder (the package folder itself). With the
    default ``datasets`` the datasets whose file is absent are skipped (logged); named datasets must all exist.
    """
    wanted = resolve_datasets(datasets)
    if source is None:
        folder = package_light_dir()
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"NAS-Bench-Graph source not found: {path}")
        if path.is_file():
            dataset = path.name.removesuffix(SUFFIX).lower()
            if not path.name.endswith(SUFFIX) or dataset not in NBGRAPH_DATASETS:
                raise DataFormatError(
                    f"{path}: expected a light benchmark file named <dataset>{SUFFIX}, dataset one of "
                    f"{', '.join(NBGRAPH_DATASETS)} (per-seed files such as cora0.bench are not supported)"
                )
            if datasets is not None and dataset not in wanted:
                raise DataFormatError(f"{path} holds dataset {dataset!r}, not one of {wanted}")
            return {dataset: path}
        folder = path / "light" if not any(path.glob(f"*{SUFFIX}")) and (path / "light").is_dir() else path
    found = {ds: folder / f"{ds}{SUFFIX}" for ds in wanted if (folder / f"{ds}{SUFFIX}").is_file()}
    absent = [ds for ds in wanted if ds not in found]
    if not found:
        raise FileNotFoundError(
            f"no NAS-Bench-Graph light files ({', '.join(f'{d}{SUFFIX}' for d in wanted)}) in {folder}"
        )
    if absent and datasets is not None:
        raise FileNotFoundError(f"{folder} lacks {', '.join(f'{d}{SUFFIX}' for d in absent)}")
    if absent:
        log.warning("%s lacks %s; converting the other datasets", folder, ", ".join(f"{d}{SUFFIX}" for d in absent))
    return found


def _package_version(path: Path) -> str | None:
    try:
        light = package_light_dir()
    except FileNotFoundError:
        return None
    if path.parent.resolve() != light.resolve():
        return None
    try:
        return importlib.metadata.version("nas-bench-graph")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - found by find_spec, so installed
        return None


def convert(
    source: str | Path | None = None,
    *,
    root: str | Path | None = None,
    force: bool = False,
    datasets: Iterable[str] | str | None = None,
) -> list[Path]:
    """Convert NAS-Bench-Graph's light files into the stores ``nbgraph/<dataset>``.

    Parameters
    ----------
    source
        None for the installed ``nas-bench-graph`` package, a folder holding ``<dataset>.bench`` files (or the
        package folder), or one such file.
    root
        Data folder the stores go to (default: :func:`predictbench.paths.data_root`).
    force
        Convert again even where a store made by this converter version from the same file exists; without it
        a rerun skips finished datasets, so an interrupted conversion resumes.
    datasets
        Subset of :data:`~predictbench.benchmarks.catalog.NBGRAPH_DATASETS` (default: all present).

    Returns
    -------
    The store folders, one per dataset, in dataset order.

    Examples
    --------
    >>> convert(root="/tmp/pb-data", datasets=["cora"])  # doctest: +SKIP
    [PosixPath('/tmp/pb-data/nbgraph/cora')]
    """
    files = find_bench_files(source, datasets)
    root = Path(root) if root is not None else data_root()
    paths: list[Path] = []
    for dataset, path in files.items():
        inputs = hash_inputs([path])
        dest = root / FAMILY / dataset
        if not force and is_current(dest, CONVERTER, VERSION, inputs):
            log.info("%s is up to date", dest)
            paths.append(dest)
            continue
        archs, results = tables_for(dataset, read_bench(path), str(path))
        extra: dict[str, Any] = {"source_file": path.name}
        version = _package_version(path)
        if version is not None:
            extra["source_package"] = f"nas-bench-graph {version}"
        meta = StoreMeta(
            name=f"{FAMILY}/{dataset}",
            space=space_name(dataset),
            task=dataset,
            description=f"NAS-Bench-Graph on {DATASET_NAMES[dataset]}: {len(archs)} GNN architectures (light file)",
            metrics=metrics_for(dataset),
            fidelities=(FIDELITY,),
            default_fidelity=FIDELITY,
            fidelity_unit="run",
            seeds=(),
            search=MetricRef("valid_perf", FIDELITY),
            report=MetricRef("test_perf", FIDELITY),
            provenance=provenance(CONVERTER, VERSION, inputs, **extra),
            citation=CITATION,
        )
        paths.append(write_store(root, meta, archs, results))
    return paths
