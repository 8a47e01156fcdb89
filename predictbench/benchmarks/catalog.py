"""Known benchmarks: how each is converted, and which are converted in the data root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from predictbench.paths import STORE_NAME, check_store_name, data_root
from predictbench.registry import unknown_name
from predictbench.types import PredictBenchError

NATS_DATASETS = ("cifar10-valid", "cifar10", "cifar100", "imagenet16-120")
NB201_TABLE_DATASETS = ("cifar10", "cifar100", "imagenet16-120")
NBGRAPH_DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins")


class BenchmarkNotConverted(PredictBenchError, FileNotFoundError):
    """A known benchmark whose store has not been written yet."""


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    converter: str
    source: str
    description: str

    @property
    def convert_command(self) -> str:
        arg = f" {self.source}" if self.source else ""
        return f"predictbench data convert {self.converter}{arg}"


def _entries() -> list[CatalogEntry]:
    entries = [
        CatalogEntry(
            "nb201-analog/cifar10",
            "analog-nasbench",
            "",
            "NAS-Bench-201 cells on CIFAR-10 from the analog-nasbench package: baseline, PTQ, QAT, noisy, "
            "analog accuracies and drift (embedded default)",
        )
    ]
    entries += [
        CatalogEntry(
            f"nb201/{ds}",
            "nb201-tables",
            "../shared/benchmarks_data",
            f"NAS-Bench-201 {ds}: 200-epoch test and 12-epoch validation accuracy, HW-NAS-Bench, proxies",
        )
        for ds in NB201_TABLE_DATASETS
    ]
    entries += [
        CatalogEntry(
            f"nats-tss/{ds}",
            "nats-tss",
            "NATS-tss-v1_0-3ffb9-simple/",
            f"NATS-Bench topology space, {ds}, official per-architecture files (12 and 200 epochs)",
        )
        for ds in NATS_DATASETS
    ]
    entries += [
        CatalogEntry(
            f"nats-sss/{ds}",
            "nats-sss",
            "NATS-sss-v1_0-50262-simple/",
            f"NATS-Bench size space, {ds}, official per-architecture files (12 and 90 epochs)",
        )
        for ds in NATS_DATASETS
    ]
    entries += [
        CatalogEntry(
            f"nb201-pth/{ds}",
            "nb201-pth",
            "NAS-Bench-201-v1_1-096897.pth",
            f"NAS-Bench-201 {ds} from the official .pth file (v1.0 / v1.1 layout)",
        )
        for ds in NATS_DATASETS
    ]
    entries.append(
        CatalogEntry(
            "nb101/cifar10",
            "nb101-tfrecord",
            "nasbench_only108.tfrecord",
            "NAS-Bench-101 on CIFAR-10 (423,624 cells, 3 runs each) from the official nasbench_only108.tfrecord "
            "(108 epochs) or nasbench_full.tfrecord (4/12/36/108 epochs)",
        )
    )
    entries += [
        CatalogEntry(
            f"nbgraph/{ds}",
            "nas-bench-graph",
            "",
            f"NAS-Bench-Graph {ds}: validation and test performance, latency and parameters of every GNN "
            "architecture (nas-bench-graph package)",
        )
        for ds in NBGRAPH_DATASETS
    ]
    return entries


CATALOG: dict[str, CatalogEntry] = {e.name: e for e in _entries()}


def converted_stores(root: Path | None = None) -> dict[str, Path]:
    """Names of the stores present under ``root`` (default: the data root) and their folders.

    A store is a ``<benchmark>/<task>/meta.json`` whose two folder names form a valid store name (hidden
    temporaries of a writer, ``.<task>.*``, are not stores).
    """
    root = Path(root) if root is not None else data_root()
    if not root.is_dir():
        return {}
    found: dict[str, Path] = {}
    for meta in sorted(root.glob("*/*/meta.json")):
        name = meta.parent.relative_to(root).as_posix()
        if STORE_NAME.fullmatch(name):
            found[name] = meta.parent
    return found


def store_path(name: str, root: Path | None = None) -> Path:
    """The folder of a converted store, with a clear error when unknown, invalid or not yet converted."""
    stores = converted_stores(root)
    if name in stores:
        return stores[name]
    if name in CATALOG:
        entry = CATALOG[name]
        raise BenchmarkNotConverted(
            f"benchmark {name!r} is not converted in {root or data_root()}; run: {entry.convert_command}"
        )
    if "/" in name:
        check_store_name(name)  # a path rather than a name (absolute, '..', more parts): say so
    raise unknown_name("benchmark", name, sorted(set(CATALOG) | set(stores)))
