"""NAS-Bench-Graph figures: conversion and load times, a tiny predictor study and random vs evolution.

Run (needs ``pip install 'predictbench[graph]'``)::

    python benchmarks/bench_nbgraph.py [--dataset cora] [--seeds 5] [--search-seeds 20] [--budget 50]

Converts all nine datasets from the installed nas-bench-graph package into a temporary data folder (timed per
dataset), times loading one store, then on ``--dataset``: LightGBM (onehot) trained on ``--train-size``
architectures for ``--seeds`` paired splits, Kendall tau against the store's report metric (test performance)
on 200 held-out architectures; and random search vs regularized evolution, ``--budget`` distinct architectures
each over ``--search-seeds`` seeds, searching on validation performance and reporting the test performance of
the final incumbent.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import predictbench as pb
from predictbench.benchmarks.catalog import NBGRAPH_DATASETS
from predictbench.benchmarks.convert.nbgraph import convert
from predictbench.predictors.gbdt import LGBMPredictor
from predictbench.studies import PredictorStudy
from predictbench.studies.search_study import SearchStudy


def convert_all(root: Path) -> None:
    total = 0.0
    for dataset in NBGRAPH_DATASETS:
        started = time.perf_counter()
        convert(root=root, datasets=[dataset])
        seconds = time.perf_counter() - started
        total += seconds
        print(f"convert {dataset:<10} {seconds:6.2f} s  ({len(pb.load(f'nbgraph/{dataset}', root=root))} archs)")
    print(f"convert all nine   {total:6.2f} s")


def load_time(name: str, root: Path, repeats: int) -> None:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        pb.load(name, root=root)
        times.append(time.perf_counter() - started)
    print(f"load {name}: median {statistics.median(times) * 1e3:.1f} ms over {repeats} loads")


def predictor_study(name: str, root: Path, work: Path, train_size: int, seeds: int) -> None:
    bench = pb.load(name, root=root)
    study = PredictorStudy(
        bench, {"lgbm": LGBMPredictor()}, results=work / "predictors.jsonl", train_sizes=(train_size,), seeds=seeds
    )
    taus = study.run()["kendall_tau"].to_numpy(dtype=float)
    target = study.target_ref()
    print(
        f"lgbm onehot, n={train_size}, {seeds} seeds, target {target.metric}: Kendall tau "
        f"{taus.mean():.3f} ± {taus.std(ddof=1):.3f} (per seed {', '.join(f'{t:.3f}' for t in taus)})"
    )


def search_study(name: str, root: Path, work: Path, budget: int, seeds: int) -> None:
    bench = pb.load(name, root=root)
    frame = SearchStudy(
        bench, {"random": {}, "evolution": {}}, results=work / "search.jsonl", budget=budget, seeds=seeds
    ).run()
    best_test = float(np.nanmax(bench.column("test_perf")))
    signal, reported = frame["search_metric"].iloc[0], frame["report_metric"].iloc[0]
    print(f"search T={budget}, {seeds} seeds, on {signal}, reported {reported}")
    for searcher, group in frame.groupby("searcher", sort=False):
        final = group["final_report"].to_numpy(dtype=float)
        found = group["queries_to_optimum"].notna().mean()
        print(
            f"  {searcher:<10} final test {final.mean():.4f} ± {final.std(ddof=1):.4f} "
            f"(best in table {best_test:.4f}); runs that queried the validation optimum: {found:.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="cora", choices=NBGRAPH_DATASETS)
    parser.add_argument("--train-size", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5, help="predictor-study seeds")
    parser.add_argument("--search-seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--load-repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pb-nbgraph-") as tmp:
        root, work = Path(tmp) / "data", Path(tmp) / "results"
        convert_all(root)
        name = f"nbgraph/{args.dataset}"
        load_time(name, root, args.load_repeats)
        predictor_study(name, root, work, args.train_size, args.seeds)
        search_study(name, root, work, args.budget, args.search_seeds)


if __name__ == "__main__":
    main()
