"""Compute a table of proxies for a store's architectures and merge it into the store (``proxies compute``).

What is written
---------------
Computed values go into the store's ``proxies.parquet`` under **distinct column names**: the proxy name
plus a suffix, ``_live`` by default (``synflow_live``, ``jacob_cov_live``, ...). Values that came from a
converter (e.g. Suite-Zero's ``synflow``) are therefore never touched, and every existing column and
row is kept. Each new column is declared in ``meta.json`` as a metric of kind ``proxy`` with the proxy's
direction (:data:`predictbench.proxies.PROXY_METRICS`) and a description of the settings; the settings
of every computed column are recorded under ``provenance["proxies_compute"]``.

A column that already exists is extended only when it was computed by this command with the same
settings (network ``C``/``N``, classes, resolution, batch size, data, seed, proxy-code version): then
only the architectures still missing a value are computed. Any other existing column (a converter's,
or one computed with other settings) is an error unless ``force=True``, which replaces the whole column
with this run's values (NaN for architectures this run did not compute). A metric declared with another
kind (e.g. an objective) is never replaced.

Resuming
--------
Each run appends one JSON line per finished architecture to ``<store>/.proxies-runs/<run id>.jsonl``
(the run id hashes the settings and the proxy list), flushed and fsynced. A rerun with the same settings
skips the architectures in that file and those already in the store; after a complete run the values
are merged (``meta.json`` then ``proxies.parquet``, each replaced atomically) and the file is removed.
An interrupted run leaves its file for the next run. Run one computation per store at a time.

Data
----
By default every network sees the same seeded **synthetic** batch (Gaussian images, random labels; see
:mod:`predictbench.proxies.metrics`): the data-dependent proxies then differ from values computed on
real images (Suite-Zero's), while synflow, zen, params and flops do not depend on it.

Examples
--------
>>> report = compute_store_proxies("nb201-analog/cifar10", ["synflow", "params"], limit=10)  # doctest: +SKIP
>>> report.columns  # doctest: +SKIP
['synflow_live', 'params_live']
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from predictbench.benchmarks.store import read_store, write_proxies
from predictbench.jsonl import open_for_append, read_records, write_line
from predictbench.proxies import DEFAULT_PROXIES, PROXY_METRICS, REAL_IMAGES, resolve_proxy_name
from predictbench.rng import spawn
from predictbench.types import Metric

if TYPE_CHECKING:
    from predictbench.benchmarks.store import StoreMeta
    from predictbench.proxies.metrics import ProxyResult
    from predictbench.types import Arch

log = logging.getLogger(__name__)

__all__ = [
    "PROXY_CODE_VERSION",
    "TASK_DEFAULTS",
    "ComputeReport",
    "ComputeSettings",
    "compute_store_proxies",
]

PROXY_CODE_VERSION = 1
"""Bumped whenever a proxy's computed value changes; part of every run id."""
SWAP_REPEATS = 32
"""SWAP's Gaussian weight draws per cell by default (the paper's 32)."""
_LATER_FIELDS: dict[str, Any] = {"swap_repeats": SWAP_REPEATS, "per_class": None}
INFINITY_STAND_IN = 1e30
"""An infinite proxy value (AZ-NAS trainability of an identity block is -inf) is stored as -/+ this."""
DEFAULT_SUFFIX = "_live"
RUNS_FOLDER = ".proxies-runs"
PROVENANCE_KEY = "proxies_compute"
TASK_DEFAULTS: dict[str, tuple[int, int]] = {
    # task: (num_classes, resolution)
    "cifar10": (10, 32),
    "cifar10-valid": (10, 32),
    "cifar100": (100, 32),
    "imagenet16-120": (120, 16),
    "ImageNet16-120": (120, 16),
}
SPACE_DEFAULTS: dict[str, tuple[str, int, int]] = {
    # space: (network, channels, cells per stage / stack)
    "nb201": ("NB201", 16, 5),
    "nb101": ("NB101", 128, 3),
}
SUPPORTED_SPACES = tuple(SPACE_DEFAULTS)
PER_CLASS_METHODS = ("function", "nb201")
"""Equivalence classes ``per_class`` accepts (:meth:`predictbench.spaces.nb201.NB201Space.canonical_index`)."""

ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ComputeSettings:
    """Everything a computed value depends on (besides the architecture)."""

    proxies: tuple[str, ...]
    space: str
    num_classes: int
    resolution: int
    channels: int
    cells_per_stage: int
    batch_size: int = 64
    seed: int = 0
    data: str = "synthetic"
    code_version: int = PROXY_CODE_VERSION
    swap_repeats: int = SWAP_REPEATS
    per_class: str | None = None

    def column_id(self) -> str:
        """Id of the settings one column depends on (the proxy list excluded)."""
        return _digest(self.column_fields())

    def column_fields(self) -> dict[str, Any]:
        """The settings a column depends on; fields still at their original default are left out, so
        columns computed before those fields existed keep their id."""
        fields = {k: v for k, v in asdict(self).items() if k != "proxies"}
        for name, default in _LATER_FIELDS.items():
            if fields[name] == default:
                del fields[name]
        return fields

    def run_id(self) -> str:
        """Id of this run: settings and the sorted proxy list."""
        return _digest({**self.column_fields(), "proxies": sorted(self.proxies)})

    def compute(self, arch: Arch) -> ProxyResult:
        """This column set's values of one architecture (imports torch): what a row of the table holds."""
        from predictbench.proxies.metrics import compute_proxies

        swap_options = {"repeats": self.swap_repeats}
        return compute_proxies(
            arch,
            self.proxies,
            batch_size=self.batch_size,
            num_classes=self.num_classes,
            resolution=self.resolution,
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
            seed=self.seed,
            options={name: swap_options for name in ("swap", "swap_reg") if name in self.proxies},
        )

    def describe(self) -> str:
        data = "synthetic data (Gaussian images, uniformly random labels)" if self.data == "synthetic" else self.data
        network = SPACE_DEFAULTS[self.space][0]
        text = (
            f"{network} network C={self.channels}, N={self.cells_per_stage}, {self.num_classes} classes, "
            f"{self.resolution}x{self.resolution} inputs, batch {self.batch_size} of {data}"
            f" (real CIFAR-10 images for {', '.join(sorted(REAL_IMAGES))}), seed {self.seed}"
        )
        if "swap" in self.proxies or "swap_reg" in self.proxies:
            text += f", SWAP {self.swap_repeats} weight draws"
        if self.per_class is not None:
            text += (
                f"; computed once per {self.per_class!r} equivalence class (on its representative, the smallest "
                "official index) and filled to every member of the class"
            )
        return text + f", proxy code v{self.code_version}"


@dataclass
class ComputeReport:
    """What one ``compute_store_proxies`` call did."""

    store: Path
    columns: list[str]
    computed: int
    skipped: int
    merged: bool
    partial_file: Path
    filled: int = 0
    seconds_per_arch: float = 0.0
    seconds_per_proxy: dict[str, float] = field(default_factory=dict)
    settings: ComputeSettings | None = None


def _digest(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------------
# worker side
# --------------------------------------------------------------------------------------------------


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, threads))


def _compute_one(space: str, key: str, settings: ComputeSettings) -> dict[str, Any]:
    """Proxies of one architecture (run in a worker process or in-process)."""
    from predictbench.types import Arch

    started = time.perf_counter()
    result = settings.compute(Arch(space, key))
    return {
        "key": key,
        "values": result.values,
        "seconds": result.seconds,
        "build_s": result.build_s,
        "total_s": time.perf_counter() - started,
    }


# --------------------------------------------------------------------------------------------------
# partial results file
# --------------------------------------------------------------------------------------------------


class _PartialFile:
    """Append-only JSON lines, one per finished architecture (:mod:`predictbench.jsonl`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.path)

    def open(self) -> Any:
        return open_for_append(self.path)

    @staticmethod
    def write(handle: Any, record: dict[str, Any]) -> None:
        write_line(handle, json.dumps(record, sort_keys=True))


# --------------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------------


def _settings_for(
    space: str,
    task: str,
    names: Sequence[str],
    *,
    num_classes: int | None,
    resolution: int | None,
    batch_size: int,
    seed: int,
    channels: int | None,
    cells_per_stage: int | None,
    swap_repeats: int = SWAP_REPEATS,
    per_class: str | None = None,
) -> ComputeSettings:
    _, default_channels, default_cells = SPACE_DEFAULTS[space]
    channels = default_channels if channels is None else channels
    cells_per_stage = default_cells if cells_per_stage is None else cells_per_stage
    default = TASK_DEFAULTS.get(task)
    if default is None and (num_classes is None or resolution is None):
        raise ValueError(
            f"task {task!r} has no default number of classes / input resolution "
            f"(known: {', '.join(sorted(TASK_DEFAULTS))}); pass num_classes and resolution"
        )
    classes = num_classes if num_classes is not None else default[0]  # type: ignore[index]
    side = resolution if resolution is not None else default[1]  # type: ignore[index]
    for label, value in (
        ("batch_size", batch_size),
        ("channels", channels),
        ("cells_per_stage", cells_per_stage),
        ("num_classes", classes),
        ("resolution", side),
        ("swap_repeats", swap_repeats),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2 (correlation-based proxies), got {batch_size}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if per_class is not None and per_class not in PER_CLASS_METHODS:
        raise ValueError(f"per_class must be one of {', '.join(PER_CLASS_METHODS)} or None, got {per_class!r}")
    return ComputeSettings(
        swap_repeats=int(swap_repeats),
        per_class=per_class,
        proxies=tuple(names),
        space=space,
        num_classes=int(classes),
        resolution=int(side),
        batch_size=int(batch_size),
        seed=int(seed),
        channels=int(channels),
        cells_per_stage=int(cells_per_stage),
    )


def _column_metric(name: str, column: str, settings: ComputeSettings) -> Metric:
    base = PROXY_METRICS[name]
    return Metric(
        column,
        higher_is_better=base.higher_is_better,
        unit=base.unit,
        kind="proxy",
        description=f"{base.description} Computed live by `predictbench proxies compute`: {settings.describe()}.",
    )


def compute_store_proxies(
    benchmark: str,
    proxies: Iterable[str] | None = None,
    *,
    root: str | Path | None = None,
    keys: Sequence[str] | None = None,
    limit: int | None = None,
    jobs: int = 1,
    batch_size: int = 64,
    seed: int = 0,
    channels: int | None = None,
    cells_per_stage: int | None = None,
    num_classes: int | None = None,
    resolution: int | None = None,
    suffix: str = DEFAULT_SUFFIX,
    force: bool = False,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
    swap_repeats: int = SWAP_REPEATS,
    per_class: str | None = None,
    sample: int | None = None,
    sample_seed: int = 0,
) -> ComputeReport:
    """Compute proxies for a store's architectures and merge them into its ``proxies.parquet``.

    Parameters
    ----------
    benchmark
        A converted store's name, e.g. ``"nb201-analog/cifar10"`` (found under ``root``).
    proxies
        Proxy names (default: all 13 registered proxies).
    keys, limit
        Architectures to compute (default every architecture of the store, in store order); ``limit``
        keeps the first ``limit`` of them.
    sample, sample_seed
        Compute a uniform random sample of ``sample`` of those architectures (without replacement, drawn
        from ``sample_seed``), in random order; applied before ``limit``.
    jobs
        Worker processes (1 = in this process). Workers are *spawned*, so a script calling this with
        ``jobs > 1`` must do so under ``if __name__ == "__main__":`` (the CLI does).
    batch_size, seed, channels, cells_per_stage, num_classes, resolution
        Proxy settings (:func:`predictbench.proxies.metrics.compute_proxies`); classes and resolution
        default from the store's task (cifar10 10/32, cifar100 100/32, imagenet16-120 120/16); the
        network size from its space (NB201 C=16, N=5; NB101 128 stem channels, 3 cells per stack).
    suffix
        Appended to each proxy name to form its column (default ``"_live"``).
    force
        Replace existing columns of the same names that came from elsewhere or other settings.
    threads
        torch intra-op threads per process (default: torch's own with ``jobs=1``, else CPUs / jobs). One
        thread is often fastest for these small networks on a busy machine.
    progress
        Called as ``progress(done, total, status)`` after each architecture (status: per-architecture time).
    swap_repeats
        SWAP's Gaussian weight draws per cell (the paper's 32; fewer is proportionally faster).
    per_class
        ``"function"`` or ``"nb201"`` (NB201 only): compute each equivalence class of the space once, on its
        representative (the smallest official index), and fill the values to every member of the class in
        the store; the columns' descriptions say so. ``keys`` then select classes through their members.

    Returns
    -------
    ComputeReport
        Columns written, counts, where the partial results live, mean seconds per architecture and proxy.
    """
    from predictbench.benchmarks import load

    bench = load(benchmark, root=root)
    store_dir = bench.path
    space = bench.meta.space
    if space not in SUPPORTED_SPACES:
        raise ValueError(
            f"benchmark {benchmark!r} uses space {space!r}; live proxies need a torch network "
            f"(supported spaces: {', '.join(SUPPORTED_SPACES)})"
        )
    names = list(dict.fromkeys(resolve_proxy_name(p) for p in (proxies if proxies is not None else DEFAULT_PROXIES)))
    if not names:
        raise ValueError("no proxies selected")
    settings = _settings_for(
        space,
        bench.meta.task,
        names,
        num_classes=num_classes,
        resolution=resolution,
        batch_size=batch_size,
        seed=seed,
        channels=channels,
        cells_per_stage=cells_per_stage,
        swap_repeats=swap_repeats,
        per_class=per_class,
    )
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    columns = {name: f"{name}{suffix}" for name in names}

    store = read_store(store_dir)
    meta = store.meta
    recorded: dict[str, Any] = dict(meta.provenance.get(PROVENANCE_KEY, {}).get("columns", {}))
    existing = store.proxies
    existing_columns = set() if existing is None else set(existing.columns) - {"key"}
    extend: set[str] = set()  # columns computed before with the same settings: fill missing keys only
    for column in columns.values():
        declared = meta.metrics.get(column)
        if declared is not None and declared.kind != "proxy":
            raise ValueError(
                f"{benchmark}: {column!r} is declared as a {declared.kind} metric, not a proxy; choose another "
                f"suffix (--suffix)"
            )
        if column not in existing_columns and declared is None:
            continue
        if recorded.get(column) == settings.column_id():
            extend.add(column)
        elif not force:
            origin = "computed with other settings" if column in recorded else "from the store's converter"
            raise ValueError(
                f"{benchmark}: proxy column {column!r} already exists ({origin}); use another --suffix or "
                f"--force to replace it"
            )

    all_keys = bench.keys() if keys is None else np.asarray(list(keys), dtype=object)
    if keys is not None:
        bench.codes(all_keys)  # unknown keys raise OutOfSpaceError
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= len(all_keys):
            raise ValueError(f"sample must be an int in 1..{len(all_keys)} (the architectures), got {sample!r}")
        all_keys = np.asarray(all_keys, dtype=object)[spawn(sample_seed, "proxies-sample").permutation(len(all_keys))]
        all_keys = all_keys[:sample]
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative int, got {limit!r}")
        all_keys = all_keys[:limit]
    wanted = list(dict.fromkeys(str(k) for k in all_keys))
    members: dict[str, list[str]] = {}
    if per_class is not None:
        members = class_members(bench, per_class)
        representative = {m: rep for rep, group in members.items() for m in group}
        wanted = list(dict.fromkeys(representative[k] for k in wanted))

    partial = _PartialFile(store_dir / RUNS_FOLDER / f"{settings.run_id()}.jsonl")
    done_records = {r["key"]: r for r in partial.records()}
    have_in_store: set[str] = set()
    if existing is not None and extend and extend == set(columns.values()):
        # a row holds a value in some column iff an earlier run computed it (a proxy can be NaN by itself)
        present = existing[sorted(extend)].notna().any(axis=1).to_numpy()
        have_in_store = set(existing["key"].to_numpy()[present])
        if per_class is not None:  # a class is done when any member holds its values
            have_in_store = {rep for rep, group in members.items() if not have_in_store.isdisjoint(group)}
    todo = [k for k in wanted if k not in done_records and k not in have_in_store]
    skipped = len(wanted) - len(todo)
    log.info(
        "%s: %d architectures, %d to compute (%d done before), proxies %s",
        benchmark,
        len(wanted),
        len(todo),
        skipped,
        ", ".join(names),
    )

    total = len(wanted)
    finished = skipped
    times: list[float] = []
    if progress is not None:
        progress(finished, total, f"{skipped} done before" if skipped else "")

    def record(result: dict[str, Any], handle: Any) -> None:
        nonlocal finished
        _PartialFile.write(handle, result)
        done_records[result["key"]] = result
        finished += 1
        times.append(float(result["total_s"]))
        if progress is not None:
            progress(
                finished,
                total,
                f"last {result['total_s']:.2f} s/arch, mean {float(np.mean(times)):.2f} s/arch",
            )

    with partial.open() as handle:
        if jobs == 1 or len(todo) <= 1:
            with _torch_threads(threads):
                for key in todo:
                    record(_compute_one(space, key, settings), handle)
        else:
            per_worker = threads if threads is not None else max(1, (os.cpu_count() or 1) // jobs)
            _run_parallel(space, todo, settings, jobs, per_worker, lambda result: record(result, handle))

    # every finished record, also those of an earlier interrupted run over other keys (nothing is lost)
    new_records = list(done_records.values())
    stored_records = new_records
    report_filled = 0
    if per_class is not None:
        stored_records = [{**r, "key": m} for r in new_records for m in members.get(r["key"], [r["key"]])]
        report_filled = len(stored_records)
    report = ComputeReport(
        store=store_dir,
        columns=list(columns.values()),
        computed=len(todo),
        skipped=skipped,
        merged=False,
        partial_file=partial.path,
        settings=settings,
        filled=report_filled if per_class is not None else 0,
    )
    if new_records:
        report.seconds_per_arch = float(np.mean([r["total_s"] for r in new_records]))
        report.seconds_per_proxy = {name: float(np.mean([r["seconds"][name] for r in new_records])) for name in names}
    if new_records or (force and set(columns.values()) - extend):
        _merge(store_dir, stored_records, names, columns, settings, extend, report)
        report.merged = True
    partial.path.unlink(missing_ok=True)
    if partial.path.parent.is_dir() and not any(partial.path.parent.iterdir()):
        partial.path.parent.rmdir()
    return report


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Use ``threads`` torch intra-op threads inside the block (unchanged when None)."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _run_parallel(
    space: str,
    todo: list[str],
    settings: ComputeSettings,
    jobs: int,
    threads: int,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Compute ``todo`` in ``jobs`` spawned processes, handing results to ``on_result`` as they finish."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    pending: set[Future[dict[str, Any]]] = set()
    queue = iter(todo)
    pool_options: dict[str, Any] = {"mp_context": context, "initializer": _init_worker, "initargs": (threads,)}
    with ProcessPoolExecutor(max_workers=jobs, **pool_options) as pool:
        try:
            for key in queue:
                pending.add(pool.submit(_compute_one, space, key, settings))
                if len(pending) >= 2 * jobs:
                    break
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    on_result(future.result())
                    next_key = next(queue, None)
                    if next_key is not None:
                        pending.add(pool.submit(_compute_one, space, next_key, settings))
        except BaseException:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def class_members(bench: Any, method: str) -> dict[str, list[str]]:
    """Representative key -> keys of the store's cells in its class (the space's ``canonical_index``)."""
    space = bench.space
    if not hasattr(space, "canonical_index"):
        raise ValueError(
            f"per_class needs a space with equivalence classes of cells (nb201); {bench.meta.space!r} has none"
        )
    keys = np.asarray(bench.keys(), dtype=object)
    reps = space.canonical_index(method)[space.index_of(keys)]
    rep_keys = np.asarray([a.key for a in space.from_index(np.unique(reps))], dtype=object)
    rep_key_of = dict(zip(np.unique(reps).tolist(), rep_keys, strict=True))
    out: dict[str, list[str]] = {}
    for key, rep in zip(keys, reps.tolist(), strict=True):
        out.setdefault(str(rep_key_of[rep]), []).append(str(key))
    return out


def _merge(
    store_dir: Path,
    records: list[dict[str, Any]],
    names: list[str],
    columns: dict[str, str],
    settings: ComputeSettings,
    extend: set[str],
    report: ComputeReport,
) -> None:
    """Merge computed values into ``proxies.parquet`` and declare the columns in ``meta.json``."""
    store = read_store(store_dir)
    meta = store.meta
    computed = pd.DataFrame(
        {"key": [r["key"] for r in records], **{columns[n]: [r["values"][n] for r in records] for n in names}}
    )
    computed[list(columns.values())] = (
        computed[list(columns.values())].astype(float).clip(-INFINITY_STAND_IN, INFINITY_STAND_IN)
    )
    table = store.proxies
    if table is None:
        table = pd.DataFrame({"key": store.archs["key"].to_numpy()})
    table = table.copy()
    known = pd.Index(table["key"])
    extra = computed.loc[~computed["key"].isin(known), ["key"]]
    if len(extra):
        table = pd.concat([table, extra], ignore_index=True)
    rows = pd.Index(table["key"]).get_indexer(computed["key"])
    for name in names:
        column = columns[name]
        if column not in table.columns or column not in extend:
            table[column] = np.nan  # new column, or a forced replacement
        values = table[column].to_numpy(dtype=float, copy=True)
        values[rows] = computed[column].to_numpy(dtype=float)
        table[column] = values

    new_meta = declare_columns(
        meta,
        names,
        columns,
        settings,
        seconds_per_arch=report.seconds_per_arch,
        seconds_per_proxy=report.seconds_per_proxy,
    )
    write_proxies(store_dir, new_meta, table)  # validates; one atomic step (meta.json records the table's hash)
    log.info("%s: wrote %d values of %s", store_dir, len(records), ", ".join(columns.values()))


def declare_columns(
    meta: StoreMeta,
    names: Sequence[str],
    columns: Mapping[str, str],
    settings: ComputeSettings,
    *,
    seconds_per_arch: float,
    seconds_per_proxy: Mapping[str, float],
    updated: str | None = None,
) -> StoreMeta:
    """``meta`` with computed proxy columns declared (metrics) and their settings recorded (provenance).

    ``updated`` (ISO time) defaults to now.
    """
    metrics = dict(meta.metrics)
    for name in names:
        metrics[columns[name]] = _column_metric(name, columns[name], settings)
    provenance = dict(meta.provenance)
    section = dict(provenance.get(PROVENANCE_KEY, {}))
    recorded_columns = dict(section.get("columns", {}))
    runs = dict(section.get("settings", {}))
    for name in names:
        recorded_columns[columns[name]] = settings.column_id()
    runs[settings.column_id()] = {k: v for k, v in asdict(settings).items() if k != "proxies"}
    section.update(
        {
            "columns": recorded_columns,
            "settings": runs,
            "updated": updated or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds_per_arch": seconds_per_arch,
            "seconds_per_proxy": dict(seconds_per_proxy),
        }
    )
    provenance[PROVENANCE_KEY] = section
    return dataclasses.replace(meta, metrics=metrics, provenance=provenance)
