"""The search tables of the search issue: every searcher x seeds at one budget on the NB201 tables.

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data``)::

    python benchmarks/bench_search.py --datasets cifar10 --budget 100 --seeds 100 --jobs 2
    python benchmarks/bench_search.py --searchers random,evolution,local --budget 500 --seeds 100  # queries-to-optimum

Results are appended to ``--results`` (JSONL, resumable: a rerun skips finished runs), so a long table can be
built over several invocations. Search signal: the store's declared search metric (12-epoch validation accuracy);
reported: its report metric (200-epoch test accuracy); the budget counts distinct architectures.

Printed per searcher: mean ± std of the reported accuracy of the final incumbent at ``--at`` budgets, the share of
runs that queried the global optimum (by the search metric), and the median number of queries to reach it over
ALL runs (runs that missed count as "more than the budget", so the median is censored when fewer than half hit).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.studies.search_study import SearchStudy

DEFAULT_SEARCHERS = "random,evolution,local,mcts,pruned,robot-plus,gbdtnas,guided,comparator"


def median_queries(group: pd.DataFrame) -> str:
    """Median queries to the optimum over all runs; misses are censored at the budget."""
    q = group["queries_to_optimum"].astype(float).fillna(math.inf).to_numpy()
    median = float(np.median(q))
    return f"> {int(group['budget'].iloc[0])}" if math.isinf(median) else f"{median:.0f}"


def table(records: pd.DataFrame, at: list[int]) -> pd.DataFrame:
    rows = []
    for name, group in records.groupby("searcher", sort=False):
        row: dict[str, object] = {"searcher": name, "runs": len(group)}
        for t in at:
            finals = np.array([traj[t - 1] for traj in group["incumbent_report"] if len(traj) >= t])
            row[f"T={t}"] = f"{finals.mean():.3f} ± {finals.std(ddof=1):.3f}" if len(finals) > 1 else "-"
        row["found optimum"] = f"{group['queries_to_optimum'].notna().mean():.0%}"
        row["median queries to optimum"] = median_queries(group)
        rows.append(row)
    return pd.DataFrame(rows).set_index("searcher")


def searcher_options(name: str, dataset: str, root: Path | None, proxies_from: dict[str, str]) -> dict[str, object]:
    """RoBoT searchers read zero-cost proxies: the searched benchmark's own, or another dataset's (--proxies-from)."""
    if not name.startswith("robot"):
        return {}
    source = proxies_from.get(dataset, dataset)
    return {"inputs": str(root / "nb201" / source) if root is not None else f"nb201/{source}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="cifar10", help="comma-separated NB201 datasets")
    parser.add_argument("--searchers", default=DEFAULT_SEARCHERS, help="comma-separated registered searchers")
    parser.add_argument("--budget", type=int, default=100, help="distinct architectures per run")
    parser.add_argument("--seeds", type=int, default=100, help="paired seeds 0..N-1")
    parser.add_argument("--at", default=None, help="budgets to read off the trajectories (default: --budget)")
    parser.add_argument("--jobs", type=int, default=1, help="local worker processes")
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/<dataset> stores")
    parser.add_argument("--results", type=Path, default=Path("results/bench_search.jsonl"), help="JSONL results")
    parser.add_argument(
        "--proxies-from",
        default="cifar100=cifar10",
        help="DATASET=SOURCE pairs: RoBoT searchers on DATASET read SOURCE's zero-cost proxies (the cifar100 store "
        "has only zen; cifar10's label-free proxies are of the same networks on the same-sized images)",
    )
    args = parser.parse_args()
    proxies_from = dict(pair.split("=", 1) for pair in args.proxies_from.split(",") if pair)
    at = [int(t) for t in args.at.split(",")] if args.at else [args.budget]
    for dataset in args.datasets.split(","):
        for name in args.searchers.split(","):
            started = time.perf_counter()
            study = SearchStudy(
                f"nb201/{dataset}",
                {name: searcher_options(name, dataset, args.root, proxies_from)},
                results=args.results,
                budget=args.budget,
                seeds=args.seeds,
                jobs=args.jobs,
                root=args.root,
                name=f"bench-search-T{args.budget}",
            )
            records = study.run()
            records = records[records["searcher"] == name]
            print(
                f"{dataset} {name}: {len(records)} runs ({time.perf_counter() - started:.0f} s this call)", flush=True
            )
        frame = SearchStudy(
            f"nb201/{dataset}", {}, results=args.results, budget=args.budget, root=args.root,
            name=f"bench-search-T{args.budget}",
        ).run()  # fmt: skip
        frame = frame[frame["searcher"].isin(args.searchers.split(","))]
        print(f"\nnb201/{dataset}, budget {args.budget}, search {frame['search_metric'].iloc[0]}, "
              f"reported {frame['report_metric'].iloc[0]}")  # fmt: skip
        print(table(frame, at).to_string())


if __name__ == "__main__":
    main()
