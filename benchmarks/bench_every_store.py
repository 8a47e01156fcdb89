"""Every predictor on every store with real values: one Kendall tau table per store and a rank summary (issue 16).

Run::

    python benchmarks/bench_every_store.py --root DIR [--stores all] [--predictors omni,gcn,comparator,lgbm]
        [--seeds 0-4] [--sizes 14,42,121,347,1000] [--results DIR]

Stores (``--stores``, comma-separated, ``all`` by default): ``nb201/cifar10``, ``nb201/cifar100``,
``nb201/imagenet16-120``, ``nb201-analog/cifar10``, the nine ``nbgraph/<dataset>`` stores, and two real
NAS-Bench-101 samples made here from ``../shared/benchmarks_data``: ``nb101/sample300`` (300 cells, one 108-epoch
validation run each) and ``nb101/naslib-zc`` (NASLib's 500-cell zero-cost subset, 292 distinct cells by official
hash, with 11 proxies). Stores missing from ``--root`` are converted there first (nb201 tables and nb101 samples
from ``../shared/benchmarks_data``, nb201-analog from the ``analog-nasbench`` package, nbgraph from
``nas-bench-graph``).

Protocol: PredictorStudy with 200 uniform test cells on the store's report metric; training sizes ``--sizes``,
each capped at the cells a store has left after its 200 test cells (sample300: 14 / 42 / 100). Seeds: development
seeds 0-4, report seeds 100-119 (``--seeds 100-119``). Results go to one resumable JSON-lines file per store under
``--results`` (default ``<root>/bench_every_store``): a rerun skips finished cells, so a long run can be built over
several invocations. Printed: one table per store (mean tau, best per size in bold, and ``*`` where a predictor is
within .01 of the best), then the rank of each predictor per store and size, and its mean rank over the nbgraph
stores.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import predictbench as pb
from predictbench.benchmarks.catalog import NBGRAPH_DATASETS
from predictbench.experiment import parse_spec
from predictbench.predictors import make_predictor
from predictbench.spaces import get_space
from predictbench.studies import PredictorStudy

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
NB201 = ("nb201/cifar10", "nb201/cifar100", "nb201/imagenet16-120", "nb201-analog/cifar10")
NB101 = ("nb101/sample300", "nb101/naslib-zc")
STORES = (*NB201, *(f"nbgraph/{d}" for d in NBGRAPH_DATASETS), *NB101)
TEST_SIZE = 200
#: NASLib's NB101 zero-cost proxies in nb101_zc_naslib_subset500.parquet.
NB101_PROXIES = (
    "flops", "params", "snip", "jacov", "grad_norm", "plain", "epe_nas", "fisher", "grasp", "l2_norm", "synflow",
)  # fmt: skip
WITHIN = 0.01


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` or ``"100-119,130"`` -> the seed list."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def nb101_cells(shared: Path) -> None:
    """Make the shared NB101 cells known to the nb101 space (no 423,624-cell table is needed for them)."""
    space = get_space("nb101")
    for table in (
        pd.read_parquet(shared / "nb101" / "nb101_sample300.parquet"),
        pd.read_parquet(shared / "zc" / "nb101_zc_naslib_subset500.parquet"),
    ):
        space.from_specs(table["matrix"], table["ops"])


def convert_nb101(name: str, root: Path, shared: Path, work: Path) -> None:
    from predictbench.benchmarks.convert.table import convert as convert_table

    space = get_space("nb101")
    if name == "nb101/sample300":
        convert_table(
            shared / "nb101" / "nb101_sample300.parquet", root=root, name=name, space="nb101",
            key_column="hash", key_kind="hash",
            metrics={
                "valid_acc": {"higher_is_better": True, "unit": "%", "lower": 0, "upper": 100,
                              "columns": {"val_acc_12": 12, "val_acc_108": 108}},
            },
            search=("valid_acc", 12), report=("valid_acc", 108),
        )  # fmt: skip
        return
    table = pd.read_parquet(shared / "zc" / "nb101_zc_naslib_subset500.parquet")
    table["official"] = [a.key for a in space.from_specs(table["matrix"], table["ops"])]
    columns = [*NB101_PROXIES, "naslib_val_acc_108"]
    per_cell = table.groupby("official", sort=False)[columns].mean().reset_index()
    work.mkdir(parents=True, exist_ok=True)
    per_cell.to_parquet(work / "nb101_naslib_zc.parquet")
    convert_table(
        work / "nb101_naslib_zc.parquet", root=root, name=name, space="nb101", key_column="official",
        key_kind="hash", fidelity=108,
        metrics={"val_acc": {"higher_is_better": True, "unit": "%", "column": "naslib_val_acc_108"}},
        proxies=list(NB101_PROXIES), report=("val_acc", 108),
    )  # fmt: skip


def ensure_store(name: str, root: Path, shared: Path, work: Path) -> None:
    """Convert ``name`` into ``root`` unless it is there."""
    if (root / name / "meta.json").is_file():
        return
    print(f"converting {name} into {root}", flush=True)
    if name.startswith("nb201/"):
        from predictbench.benchmarks.convert.nb201_tables import convert

        convert(shared, root=root, datasets=(name.split("/", 1)[1],))
    elif name == "nb201-analog/cifar10":
        from predictbench.benchmarks.convert.analog import convert as convert_analog

        convert_analog(root=root)
    elif name.startswith("nbgraph/"):
        from predictbench.benchmarks.convert.nbgraph import convert as convert_nbgraph

        convert_nbgraph(root=root, datasets=[name.split("/", 1)[1]])
    elif name in NB101:
        convert_nb101(name, root, shared, work)
    else:
        raise SystemExit(f"unknown store {name!r}; known: {', '.join(STORES)}")


def store_sizes(bench: Any, sizes: list[int]) -> list[int]:
    """``sizes`` capped at the cells left for training after the test cells (distinct, in order)."""
    target = bench.report_metric
    finite = int(np.isfinite(bench.column(target.metric, fidelity=target.fidelity)).sum())
    cap = finite - TEST_SIZE
    return list(dict.fromkeys(min(n, cap) for n in sizes))


def run_store(
    name: str, root: Path, predictors: dict[str, Any], sizes: list[int], seeds: list[int], out: Path
) -> pd.DataFrame:
    bench = pb.load(name, root=root)
    own = store_sizes(bench, sizes)
    started = time.perf_counter()
    study = PredictorStudy(
        bench, predictors, results=out / f"{name.replace('/', '__')}.jsonl", train_sizes=own, seeds=seeds,
        name="bench-every-store",
    )  # fmt: skip
    frame = study.run()
    frame = frame[frame["seed"].isin(seeds) & frame["train_size"].isin(own) & frame["predictor"].isin(predictors)]
    print(f"{name}: {len(frame)} records ({time.perf_counter() - started:.0f} s this call)", flush=True)
    return frame


def store_table(name: str, frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Mean Kendall tau per predictor (rows) and size (columns); prints it as markdown."""
    mean = frame.pivot_table(index="predictor", columns="train_size", values="kendall_tau", aggfunc="mean")
    count = frame.groupby("train_size")["seed"].nunique()
    mean = mean.reindex([p for p in labels if p in mean.index])
    fit = frame[frame["train_size"] == frame["train_size"].max()].groupby("predictor")["fit_seconds"].median()
    best = mean.max(axis=0)
    header = " | ".join(f"{n} ({count[n]} seeds)" for n in mean.columns)
    print(f"\n### {name}: mean Kendall tau, {TEST_SIZE} test cells\n")
    print(f"| predictor | {header} | fit s at n={mean.columns.max()} |")
    print("|---" * (len(mean.columns) + 2) + "|")
    for label, row in mean.iterrows():
        cells = []
        for n, tau in row.items():
            mark = "**" if tau == best[n] else ""
            near = "*" if mark == "" and tau >= best[n] - WITHIN else ""
            cells.append(f"{mark}{tau:.3f}{mark}{near}")
        print(f"| {label} | {' | '.join(cells)} | {fit.get(label, float('nan')):.2f} |")
    return mean


def rank_summary(means: dict[str, pd.DataFrame], labels: list[str]) -> None:
    """Rank (1 = best mean tau) of each predictor per store and size; nbgraph also as the mean over its stores."""
    print("\n### Rank of each predictor per store and size (1 = best; * = within .01 of the best)\n")
    print("| store | n | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 2) + "|")
    nbgraph: list[pd.DataFrame] = []
    position = {n: i for i, n in enumerate(sorted({n for m in means.values() for n in m.columns}))}
    for name, mean in means.items():
        ranks = mean.rank(axis=0, ascending=False, method="min")
        if name.startswith("nbgraph/"):
            nbgraph.append(ranks.rename(columns=position))
        for n in mean.columns:
            best = mean[n].max()
            cells = [
                f"{int(ranks.at[p, n])}{'*' if mean.at[p, n] >= best - WITHIN else ''}" if p in ranks.index else "-"
                for p in labels
            ]
            print(f"| {name} | {n} | " + " | ".join(cells) + " |")
    if nbgraph:
        together = pd.concat(nbgraph).groupby(level=0).mean()
        inverse = {i: n for n, i in position.items()}
        for i in together.columns:
            cells = [f"{together.at[p, i]:.1f}" if p in together.index else "-" for p in labels]
            print(f"| nbgraph (mean of {len(nbgraph)}) | {inverse[i]} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True, help="data folder with converted stores (made if missing)")
    parser.add_argument("--stores", default="all", help=f"comma-separated, or 'all' ({len(STORES)} stores)")
    parser.add_argument(
        "--predictors", default="omni,gcn,comparator,lgbm,xgb,mlp,bananas",
        help="comma-separated registered names, each optionally with params: 'omni:members=(\"lgbm\",)'",
    )  # fmt: skip
    parser.add_argument("--seeds", default="0-4", help="seed list: '0-4' (development), '100-119' (report)")
    parser.add_argument("--sizes", default="14,42,121,347,1000")
    parser.add_argument("--results", type=Path, help="folder of the per-store JSONL results (default <root>/...)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared benchmarks_data folder")
    parser.add_argument("--torch-threads", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        import torch

        torch.set_num_threads(args.torch_threads)
    except ModuleNotFoundError:
        pass
    stores = list(STORES) if args.stores == "all" else [s.strip() for s in args.stores.split(",") if s.strip()]
    components = [parse_spec(spec) for spec in args.predictors.split(";" if ";" in args.predictors else ",")]
    predictors = {c.label: make_predictor(c.name, **dict(c.params)) for c in components}
    labels = list(predictors)
    seeds, sizes = parse_seeds(args.seeds), [int(n) for n in args.sizes.split(",")]
    out = args.results or args.root / "bench_every_store"
    out.mkdir(parents=True, exist_ok=True)
    if any(s in NB101 for s in stores):
        nb101_cells(args.shared)
    means = {}
    for name in stores:
        ensure_store(name, args.root, args.shared, out / "tables")
        frame = run_store(name, args.root, predictors, sizes, seeds, out)
        means[name] = store_table(name, frame, labels)
    rank_summary(means, labels)


if __name__ == "__main__":
    main()
