"""NAO's figures (issue 17, item 1): NB201 search at T = 100 next to random, evolution and REINFORCE.

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root DIR``)::

    python benchmarks/bench_nao.py --root DIR --seeds 100

Through SearchStudy on the same paired seeds (search signal valid_acc@12, reported test_acc@200): mean ± std of the
200-epoch test accuracy of the incumbent at T, share of runs that queried the search-signal optimum, median queries
to it (misses censored at T), wall and CPU seconds per run of this call. Results are appended to
``--results`` (resumable: a rerun with more ``--seeds`` runs only the missing ones). Then, for NAO, the origin of
its queried cells over ``--source-seeds`` direct runs on the first dataset (random start, decoded from gradient
steps, mutation fallback).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.search import run_search
from predictbench.search.nao import NAOSearch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reinforce import ANCHORS, recorded  # the NB201 paper's numbers; one SearchStudy set-up
from bench_search import table  # the search issue's table: mean ± std, found, median queries


def search_part(args: argparse.Namespace, study_name: str = "bench-nao") -> None:
    """Search tables per dataset (study ``study_name``-T<budget>: what is missing runs, then every record is shown)."""

    def study(args: argparse.Namespace, dataset: str, searchers: dict[str, dict[str, object]]) -> pd.DataFrame:
        return recorded(args, dataset, searchers, study=study_name)

    searchers = args.searchers.split(",")
    for dataset in args.datasets.split(","):
        wall, cpu = {}, {}
        for name in searchers:
            path = args.results / "search.jsonl"
            before = (study(args, dataset, {})["searcher"] == name).sum() if path.exists() else 0
            started, cpu_started = time.perf_counter(), time.process_time()
            ran = (study(args, dataset, {name: {}})["searcher"] == name).sum() - before
            wall[name] = (time.perf_counter() - started) / ran if ran > 0 else float("nan")
            cpu[name] = (time.process_time() - cpu_started) / ran if ran > 0 else float("nan")
        frame = study(args, dataset, {})
        frame = frame[frame["searcher"].isin(searchers)]
        out = table(frame, [args.budget])
        out["wall s/run"] = [f"{wall.get(str(s), float('nan')):.2f}" for s in out.index]
        out["cpu s/run"] = [f"{cpu.get(str(s), float('nan')):.2f}" for s in out.index]
        print(f"\nnb201/{dataset}: T={args.budget}, search valid_acc@12, reported test_acc@200 (s/run: this call)")
        print(out.to_string(), flush=True)
    print(ANCHORS)


def sources_part(args: argparse.Namespace) -> None:
    bench = pb.load(f"nb201/{args.datasets.split(',')[0]}", root=args.root)
    counts = []
    for seed in range(args.source_seeds):
        searcher = NAOSearch(bench.space, seed=seed)
        run_search(searcher, Oracle(bench, budget=args.budget, seed=seed))
        counts.append(searcher.sources)
    mean = pd.DataFrame(counts).mean()
    print(f"\nNAO's queued cells by origin, mean over {args.source_seeds} runs on {bench.name} (T={args.budget}):")
    print(", ".join(f"{k} {v:.1f}" for k, v in mean.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/<dataset> stores")
    parser.add_argument("--results", type=Path, default=Path("results/bench_nao"), help="results folder")
    parser.add_argument("--datasets", default="cifar10,cifar100,imagenet16-120")
    parser.add_argument("--searchers", default="nao,reinforce,evolution,random")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=100, help="paired seeds 0..N-1")
    parser.add_argument("--source-seeds", type=int, default=10, help="direct NAO runs counting cell origins")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    from predictbench.predictors.gcn import torch_threads

    with torch_threads(1):
        search_part(args)
        if args.source_seeds > 0:
            sources_part(args)
    print(f"(numpy {np.__version__}; one torch thread)")


if __name__ == "__main__":
    main()
