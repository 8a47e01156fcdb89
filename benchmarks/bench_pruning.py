"""GBDT/SHAP search-space pruning (GBDT-NAS-3S) over seeds: how much of the space each round prunes and whether
the global optimum survives.

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data``)::

    python benchmarks/bench_pruning.py --seeds 20 --budget 100

For each configuration and seed a :class:`~predictbench.search.pruning.PrunedSearch` runs through an Oracle
(search signal: the store's 12-epoch validation accuracy; budget in distinct architectures) and
:func:`~predictbench.search.pruning.pruning_trace` gives, per round, the fraction of the space pruned and whether
the optimum by the search metric and the optimum by the reported metric (200-epoch test accuracy, read by this
script only, never by the search) are still in the constrained space. Printed: means over seeds per round, and
the final reported accuracy of the run's incumbent.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.rng import spawn
from predictbench.search import run_search
from predictbench.search.pruning import PrunedSearch, pruning_trace

CONFIGS: dict[str, dict[str, Any]] = {
    "default (2 rounds x 30, max 3 choices/round)": {},
    "4 rounds x 20": {"rounds": 4, "queries_per_round": 20},
    "literal rule (every negative choice, 1 round)": {"rounds": 1, "max_prune": None, "protect_best": False},
    "second order (+5 forbidden pairs/round)": {"second_order": True},
}


def run_config(bench: pb.benchmarks.TabularBenchmark, options: dict[str, Any], seed: int, budget: int) -> pd.DataFrame:
    search_ref, report_ref = bench.search_metric, bench.report_metric
    assert search_ref is not None and report_ref is not None
    searcher = PrunedSearch(bench.space, seed=int(spawn(seed, "pruning").integers(2**31)), **options)
    oracle = run_search(searcher, Oracle(bench, budget=budget, seed=seed))
    best_search = bench.best(search_ref.metric, fidelity=search_ref.fidelity)[0]
    best_report = bench.best(report_ref.metric, fidelity=report_ref.fidelity)[0]
    trace = pruning_trace(searcher, optimum=best_search)
    trace["report_optimum_survives"] = [entry.space.is_valid(best_report) for entry in searcher.history]
    final = oracle.best().arch
    trace["final_report"] = float(bench.lookup([final], report_ref.metric, fidelity=report_ref.fidelity)[0])
    trace["seed"] = seed
    return trace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="cifar10", help="comma-separated NB201 datasets")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/<dataset> stores")
    args = parser.parse_args()
    for dataset in args.datasets.split(","):
        bench = pb.load(f"nb201/{dataset}", root=args.root)
        print(f"\n## nb201/{dataset}: {args.seeds} seeds, budget {args.budget}, search {bench.search_metric}")
        for label, options in CONFIGS.items():
            started = time.perf_counter()
            frame = pd.concat([run_config(bench, options, s, args.budget) for s in range(args.seeds)])
            per_round = frame.groupby("round").agg(
                queries=("queries", "mean"),
                fraction_pruned=("fraction_pruned", "mean"),
                min_pruned=("fraction_pruned", "min"),
                max_pruned=("fraction_pruned", "max"),
                search_optimum_survives=("optimum_survives", "mean"),
                test_optimum_survives=("report_optimum_survives", "mean"),
            )
            finals = frame.groupby("seed")["final_report"].first().to_numpy()
            print(f"\n### {label} — {time.perf_counter() - started:.0f} s")
            print(per_round.round(3).to_string())
            print(f"final reported accuracy at T={args.budget}: {np.mean(finals):.3f} ± {np.std(finals, ddof=1):.3f}")


if __name__ == "__main__":
    main()
