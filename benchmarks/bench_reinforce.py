"""The REINFORCE controller's figures (issue 17, item 3): NB201 search at T = 100 and the MnasNet-reward variant.

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root DIR``)::

    python benchmarks/bench_reinforce.py --root DIR --seeds 100 --hw-seeds 20

**search**: ``reinforce`` (the NB201 paper's baseline: per-edge softmax, Adam lr 0.01, moving-average baseline
of momentum 0.9) next to ``random`` and ``evolution`` on the same paired seeds, through SearchStudy: mean ± std of
the 200-epoch test accuracy of the incumbent (best queried cell by 12-epoch validation accuracy) at T, share of
runs that queried the search-signal optimum, median queries to it (misses censored at T), wall seconds per run.

**hardware**: for each HW-NAS-Bench device (cifar10 latency columns), objectives (valid_acc@12, latency) through
MultiObjectiveStudy with a latency target T at the median latency of the space; searchers ``reinforce`` (MnasNet's
soft reward ACC * (LAT / T) ** -0.07 at that target), ``nsga2`` and ``random``. Printed per device and searcher:
the 200-epoch test accuracy of the best queried cell meeting the target (best by the search signal, its mean over
repeats), the true constrained optimum (best test accuracy of any cell meeting the target), the share of runs
that queried the feasible cell best by the signal, the final normalised hypervolume and wall seconds per run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import predictbench as pb
from predictbench.multiobjective.study import MultiObjectiveStudy
from predictbench.studies.search_study import SearchStudy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import table  # the search issue's table: mean ± std, found, median queries

DEVICES = ("edgegpu", "raspi4", "edgetpu", "pixel3", "eyeriss", "fpga")
ANCHORS = "NB201 paper (12,000 s budget): REINFORCE 93.85 ± 0.37 / 71.71 ± 1.09 / 45.24 ± 1.18, REA 93.92 (CIFAR-10)"


def recorded(
    args: argparse.Namespace, dataset: str, searchers: dict[str, dict[str, object]], study: str = "bench-reinforce"
) -> pd.DataFrame:
    """Run what is missing of ``searchers`` (none: nothing) and return every record of the search part's study."""
    return SearchStudy(
        f"nb201/{dataset}",
        searchers,
        results=args.results / "search.jsonl",
        budget=args.budget,
        seeds=args.seeds,
        root=args.root,
        name=f"{study}-T{args.budget}",
    ).run()


def search_part(args: argparse.Namespace) -> None:
    searchers = args.searchers.split(",")
    for dataset in args.datasets.split(","):
        seconds = {}
        for name in searchers:
            before = (
                (recorded(args, dataset, {})["searcher"] == name).sum()
                if (args.results / "search.jsonl").exists()
                else 0
            )
            started = time.perf_counter()
            ran = (recorded(args, dataset, {name: {}})["searcher"] == name).sum() - before
            seconds[name] = (time.perf_counter() - started) / ran if ran > 0 else float("nan")
        frame = recorded(args, dataset, {})
        frame = frame[frame["searcher"].isin(searchers)]
        out = table(frame, [args.budget])
        out["s/run (this call)"] = [f"{seconds.get(str(s), float('nan')):.3f}" for s in out.index]
        print(f"\nnb201/{dataset}: T={args.budget}, search valid_acc@12, reported test_acc@200")
        print(out.to_string(), flush=True)
    print(ANCHORS)


def hardware_part(args: argparse.Namespace) -> None:
    bench = pb.load("nb201/cifar10", root=args.root)
    test = bench.column("test_acc", fidelity=200)
    signal = bench.column("valid_acc", fidelity=12)
    rows = []
    for device in args.devices.split(","):
        metric = f"{device}_latency"
        latency = bench.column(metric)
        target = float(np.nanmedian(latency))
        feasible = latency <= target  # NaN latency: never feasible
        optimum_test = float(np.nanmax(np.where(feasible, test, np.nan)))
        signal_best = int(np.nanargmax(np.where(feasible, signal, np.nan)))
        searchers = {"reinforce": ("reinforce", {"target": target}), "nsga2": ("nsga2", {}), "random": ("random", {})}
        study = MultiObjectiveStudy(
            bench,
            searchers,
            results=args.results / f"hw-{device}.jsonl",
            budget=args.budget,
            seeds=args.hw_seeds,
            objectives=["valid_acc@12", metric],
            name=f"bench-reinforce-hw-{device}",
        )
        records = study.run()
        for label, group in records.groupby("searcher"):
            found = []
            hit = []
            for keys in group["history_keys"]:
                codes = bench.codes(keys)
                ok = codes[feasible[codes]]
                hit.append(signal_best in set(codes.tolist()))
                found.append(test[ok[np.nanargmax(signal[ok])]] if len(ok) else np.nan)
            found_arr = np.array(found, dtype=float)
            rows.append(
                {
                    "device": device,
                    "target ms": f"{target:.3f}",
                    "searcher": label,
                    "runs": len(group),
                    "feasible incumbent test acc": f"{np.nanmean(found_arr):.2f} ± {np.nanstd(found_arr, ddof=1):.2f}",
                    "constrained optimum": f"{optimum_test:.2f}",
                    "found signal optimum": f"{np.mean(hit):.0%}",
                    "final HV %": f"{100 * group['final_hv_normalised'].mean():.1f} ± "
                    f"{100 * group['final_hv_normalised'].std():.1f}",
                    "s/run": f"{group['search_seconds'].mean():.3f}",
                }
            )
        print(pd.DataFrame(rows[-len(searchers) :]).to_string(index=False), flush=True)
    print("\nall devices")
    print(pd.DataFrame(rows).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="search,hardware", help="search and/or hardware")
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/<dataset> stores")
    parser.add_argument("--results", type=Path, default=Path("results/bench_reinforce"), help="results folder")
    parser.add_argument("--datasets", default="cifar10,cifar100,imagenet16-120")
    parser.add_argument("--searchers", default="reinforce,random,evolution", help="single-objective searchers")
    parser.add_argument("--devices", default=",".join(DEVICES))
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=100, help="paired seeds of the search part")
    parser.add_argument("--hw-seeds", type=int, default=20, help="paired seeds of the hardware part")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    if "search" in parts:
        search_part(args)
    if "hardware" in parts:
        hardware_part(args)


if __name__ == "__main__":
    main()
