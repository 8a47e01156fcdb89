"""GATES / TA-GATES figures on nb201/cifar10: fit times and Kendall tau under two protocols.

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root DIR``)::

    python benchmarks/bench_gates.py --root DIR [--predictors gates,ta-gates] [--parts times,rest,sample]
                                     [--rest-seeds 3] [--sample-seeds 5] [--device cpu]

* ``times``: median wall and CPU seconds of one fit at n = 100 and 1,000 (one torch thread, 2 repeats).
* ``rest``: the literature protocol, train on n uniform cells and test on every other cell, n = 0.5 / 1 / 3 / 5 /
  10 % of the 15,625 cells (78 / 156 / 469 / 781 / 1563), ``--rest-seeds`` seeds, next to published figures.
* ``sample``: the project's protocol, n = 14 / 42 / 121 / 347 / 1000 and 200 uniform test cells,
  ``--sample-seeds`` seeds, next to ``gcn`` (its defaults) on the same paired splits.

Both protocols run through :class:`~predictbench.studies.PredictorStudy` (results in a temporary folder); the
target is the store's report metric (200-epoch test accuracy).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import predictbench as pb
from predictbench.predictors import make_predictor
from predictbench.studies import PredictorStudy

BENCHMARK = "nb201/cifar10"
REST_SIZES = ("0.5%", "1%", "3%", "5%", "10%")
SAMPLE_SIZES = (14, 42, 121, 347, 1000)
#: published Kendall tau on NB201 at n = 78 / 156 / 469 / 781 / 1563, test on all remaining cells (issue 16)
PUBLISHED = {
    "PINAT (AAAI 2023)": (".549", ".631", ".706", ".761", ".784"),
    "NAR-Former V2": ("", ".752", "", "", ".888"),
    "NN-Former (CVPR 2025)": ("", ".804", "", "", ".890"),
}


def fit_times(names: list[str], root: Path, device: str) -> None:
    bench = pb.load(BENCHMARK, root=root)
    keys = np.random.default_rng(0).permutation(bench.keys())
    y = bench.lookup(keys, "test_acc")
    print("fit time (median of 2 fits, 1 torch thread)")
    for name in names:
        for n in (100, 1000):
            batch = bench.batch(keys[:n])
            walls, cpus = [], []
            for seed in range(2):
                model = make_predictor(name, seed=seed, device=device)
                wall, cpu = time.perf_counter(), time.process_time()
                model.fit(batch, y[:n])
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            print(f"  {name:<9} n={n:<5} wall {statistics.median(walls):6.1f} s   cpu {statistics.median(cpus):6.1f} s")


def print_table(title: str, frame: pd.DataFrame, extra: dict[str, tuple[str, ...]] | None = None) -> None:
    sizes = sorted(int(s) for s in frame["train_size"].unique())
    means = frame.groupby(["predictor", "train_size"])["kendall_tau"].mean().unstack("train_size")
    stds = frame.groupby(["predictor", "train_size"])["kendall_tau"].std().unstack("train_size")
    seeds = frame.groupby("predictor")["seed"].nunique()
    print(title)
    print("| predictor | " + " | ".join(str(n) for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in means.index:
        cells = [f"{means.loc[name, n]:.3f} ± {stds.loc[name, n]:.3f}" for n in sizes]
        print(f"| {name} ({seeds[name]} seeds) | " + " | ".join(cells) + " |")
    for name, values in (extra or {}).items():
        print(f"| {name}, published | " + " | ".join(v or "-" for v in values) + " |")


def run_study(
    root: Path, work: Path, models: dict[str, Any], sizes: tuple[Any, ...], seeds: int, **kw: Any
) -> pd.DataFrame:
    bench = pb.load(BENCHMARK, root=root)
    study = PredictorStudy(
        bench, models, results=work / f"{kw.get('protocol', 'sample')}.jsonl", train_sizes=sizes, seeds=seeds, **kw
    )
    started = time.perf_counter()
    frame = study.run()
    print(f"({kw.get('protocol', 'sample')}: {time.perf_counter() - started:.0f} s wall)")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="data folder holding nb201/cifar10")
    parser.add_argument("--predictors", default="gates,ta-gates")
    parser.add_argument("--parts", default="times,rest,sample")
    parser.add_argument("--rest-seeds", type=int, default=3)
    parser.add_argument("--sample-seeds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    names = [n for n in args.predictors.split(",") if n]
    parts = set(args.parts.split(","))
    if "times" in parts:
        fit_times(names, args.root, args.device)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "rest" in parts:
            models = {name: make_predictor(name, device=args.device) for name in names}
            frame = run_study(args.root, work, models, REST_SIZES, args.rest_seeds, protocol="rest")
            print_table("Kendall tau, train on n uniform cells, test on all remaining cells", frame, PUBLISHED)
        if "sample" in parts:
            models = {name: make_predictor(name, device=args.device) for name in names}
            models["gcn"] = make_predictor("gcn")
            frame = run_study(args.root, work, models, SAMPLE_SIZES, args.sample_seeds, test_size=200)
            print_table("Kendall tau, 200 uniform test cells", frame)


if __name__ == "__main__":
    main()
