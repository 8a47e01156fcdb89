"""FlowerFormer on nb201/cifar10: fit times and Kendall tau under two protocols, next to published figures and gcn.

Run: ``python benchmarks/bench_flowerformer.py [--root DIR] [--parts fit,literature,small]``. Without ``--root``
nb201/cifar10 is converted from ../shared/benchmarks_data into a temporary folder. Target: 200-epoch test
accuracy (``test_acc``). Every fit uses the predictor's defaults, one torch thread.

* ``fit``: fit time (wall and process CPU seconds) at n = 100 and 1,000.
* ``literature``: the NAR-Former / NN-Former / PINAT protocol -- train on n uniform cells, test on every other
  cell of the space -- at n = 78 / 156 / 469 / 781 / 1563 (0.5 / 1 / 3 / 5 / 10 %), 3 seeds, printed beside the
  published figures of those papers.
* ``small``: n = 14 / 42 / 121 / 347 / 1000 with 200 uniform test cells, 5 seeds, beside ``gcn``.

Splits come from ``spawn(seed, "bench_flowerformer", protocol, n)``, the same for every predictor (paired).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_predictors import prepare  # type: ignore[import-not-found]
from scipy.stats import kendalltau

import predictbench as pb
from predictbench.predictors import make_predictor
from predictbench.rng import spawn

METRIC = "test_acc"
FIT_SIZES = (100, 1000)
LITERATURE_SIZES = (78, 156, 469, 781, 1563)
LITERATURE_SEEDS = 3
SMALL_SIZES = (14, 42, 121, 347, 1000)
SMALL_SEEDS = 5
SMALL_TEST = 200
#: published Kendall tau on NB201 (CIFAR-10), train on n cells, test on all the others (issue 16)
PUBLISHED = {
    "PINAT (AAAI 2023)": {78: 0.549, 156: 0.631, 469: 0.706, 781: 0.761, 1563: 0.784},
    "NAR-Former V2": {156: 0.752, 1563: 0.888},
    "NN-Former (CVPR 2025)": {156: 0.804, 1563: 0.890},
}


def split(n_cells: int, protocol: str, n: int, seed: int, n_test: int | None) -> tuple[np.ndarray, np.ndarray]:
    order = spawn(seed, "bench_flowerformer", protocol, n).permutation(n_cells)
    test = order[n:] if n_test is None else order[n : n + n_test]
    return order[:n], test


def tau_of(name: str, bench: pb.benchmarks.TabularBenchmark, keys: np.ndarray, y: np.ndarray, rows: tuple) -> float:
    train, test = rows
    model = make_predictor(name).fit(bench.batch(keys[train]), y[train])
    return float(kendalltau(model.predict(bench.batch(keys[test])), y[test]).statistic)


def fit_times(bench: pb.benchmarks.TabularBenchmark, keys: np.ndarray, y: np.ndarray) -> None:
    print("\n## Fit time, flowerformer defaults, nb201/cifar10 (one torch thread)\n")
    print("| n | wall s | CPU s |\n|---|---|---|")
    for n in FIT_SIZES:
        train, _ = split(len(keys), "fit", n, 0, 0)
        batch = bench.batch(keys[train])
        wall, cpu = time.perf_counter(), time.process_time()
        make_predictor("flowerformer").fit(batch, y[train])
        print(f"| {n} | {time.perf_counter() - wall:.1f} | {time.process_time() - cpu:.1f} |", flush=True)


def literature(bench: pb.benchmarks.TabularBenchmark, keys: np.ndarray, y: np.ndarray) -> None:
    print(f"\n## Train on n uniform cells, test on all {len(keys)} - n others ({LITERATURE_SEEDS} seeds)\n")
    print("| predictor | " + " | ".join(str(n) for n in LITERATURE_SIZES) + " |")
    print("|---|" + "---|" * len(LITERATURE_SIZES))
    for paper, figures in PUBLISHED.items():
        cells = [f"{figures[n]:.3f}" if n in figures else "" for n in LITERATURE_SIZES]
        print(f"| {paper}, published | " + " | ".join(cells) + " |")
    means = []
    for n in LITERATURE_SIZES:
        taus = [
            tau_of("flowerformer", bench, keys, y, split(len(keys), "all", n, s, None)) for s in range(LITERATURE_SEEDS)
        ]
        means.append(f"{np.mean(taus):.3f} ± {np.std(taus):.3f}")
    print("| flowerformer (ours) | " + " | ".join(means) + " |", flush=True)


def small(bench: pb.benchmarks.TabularBenchmark, keys: np.ndarray, y: np.ndarray, seeds: int = SMALL_SEEDS) -> None:
    print(f"\n## n training cells, {SMALL_TEST} uniform test cells ({seeds} seeds, mean ± sd)\n")
    print("| predictor | " + " | ".join(str(n) for n in SMALL_SIZES) + " |")
    print("|---|" + "---|" * len(SMALL_SIZES))
    for name in ("gcn", "flowerformer"):
        cells = []
        for n in SMALL_SIZES:
            taus = [tau_of(name, bench, keys, y, split(len(keys), "small", n, s, SMALL_TEST)) for s in range(seeds)]
            cells.append(f"{np.mean(taus):.3f} ± {np.std(taus):.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/cifar10")
    parser.add_argument("--parts", default="fit,literature,small", help="comma-separated: fit, literature, small")
    parser.add_argument("--small-seeds", type=int, default=SMALL_SEEDS, help="seeds of the 'small' part")
    args = parser.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - {"fit", "literature", "small"})
    if unknown:
        raise SystemExit(f"--parts: unknown part(s) {unknown}; expected fit, literature, small")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            root = Path(tmp)
            prepare(root, "nb201/cifar10")
        bench = pb.load("nb201/cifar10", root=root)
        keys = np.asarray(bench.keys())
        y = np.asarray(bench.lookup(keys, METRIC), dtype=float)
        started = time.process_time()
        for part in parts:
            if part == "small":
                small(bench, keys, y, args.small_seeds)
            else:
                {"fit": fit_times, "literature": literature}[part](bench, keys, y)
        print(f"\n(total CPU {time.process_time() - started:.0f} s)")


if __name__ == "__main__":
    main()
