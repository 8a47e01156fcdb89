"""Multi-objective search figures: final normalised hypervolume per searcher, and the time a run takes.

Run: ``python benchmarks/bench_multiobjective.py [--budget 100] [--seeds 20] [--jobs 2] [--searchers a,b]
[--benchmarks a,b] [--root DIR] [--results DIR] [--report DIR]``. A searcher is a registered name (default: every
registered multi-objective searcher, at its defaults) or ``label=name:{json options}``, e.g.
``'parego-g20=parego:{"global_k": 20}'`` (separate entries with ``;`` when options hold commas). Two settings:

- ``nb201/cifar10`` (needs ../shared/benchmarks_data): search 12-epoch validation accuracy (max) vs HW-NAS-Bench
  Edge-GPU latency (min); report 200-epoch test accuracy vs the same latency;
- ``nb201-analog/cifar10`` (embedded default): baseline accuracy (max) vs analog-hardware accuracy after one day
  of conductance drift (max), searched and reported alike (the store has no separate validation signal).

The hypervolume of a run's front (its queried cells non-dominated by the search signal, at their reported values)
is divided by that of the true Pareto front of the whole space (reference point: nadir of the true front minus 10%
of its range). Without ``--root`` the stores are converted into a temporary folder; without ``--results`` the
results go there too (with it, a rerun resumes). ``--report DIR`` writes a report per benchmark into DIR/<name>.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import predictbench as pb
from predictbench.multiobjective import MO_SEARCHERS
from predictbench.multiobjective.objectives import format_ref
from predictbench.multiobjective.study import MultiObjectiveStudy
from predictbench.report.curves import bootstrap_band, trajectories

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
SETTINGS = {
    "nb201/cifar10": (["valid_acc@12", "edgegpu_latency"], ["test_acc@200", "edgegpu_latency"]),
    "nb201-analog/cifar10": (["baseline_accuracy", "analog_drift_86400"], None),
}


def prepare(root: Path) -> list[str]:
    """Convert the stores the settings need into ``root`` (those already there are kept); their names."""
    from predictbench.benchmarks.convert.analog import convert as convert_analog

    convert_analog(root=root)
    names = ["nb201-analog/cifar10"]
    if SHARED.is_dir():
        from predictbench.benchmarks.convert.nb201_tables import convert as convert_tables

        convert_tables(SHARED, root=root, datasets=("cifar10",))
        names.insert(0, "nb201/cifar10")
    else:
        print(f"skipping nb201/cifar10: {SHARED} not found")
    return names


def parse_searchers(text: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """``"random,nsga2"`` or ``'random;parego-g20=parego:{"global_k": 20}'`` as study searchers."""
    entries = [e.strip() for e in (text.split(";") if ";" in text else text.split(",")) if e.strip()]
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for entry in entries:
        label, _, spec = entry.partition("=") if "=" in entry else (entry, "", entry)
        name, _, options = spec.partition(":")
        out[label] = (name, json.loads(options) if options else {})
    return out


def summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per searcher: final normalised hypervolume (%) mean ± std, its 95% bootstrap CI, and seconds per run."""
    rows = []
    for name, values in trajectories(records, "hv_normalised").items():
        low, high = bootstrap_band(100 * values)
        final = 100 * values[:, -1]
        seconds = records.loc[records["searcher"] == name, "search_seconds"]
        rows.append(
            {
                "searcher": name,
                "mean": final.mean(),
                "runs": len(values),
                "final HV %": f"{final.mean():.2f} ± {final.std():.2f}",
                "95% CI": f"[{low[-1]:.2f}, {high[-1]:.2f}]",
                "s/run (mean)": f"{seconds.mean():.2f}",
                "s/run (max)": f"{seconds.max():.2f}",
            }
        )
    table = pd.DataFrame(rows).set_index("searcher").sort_values("mean", ascending=False)
    return table.drop(columns="mean")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--searchers", default=",".join(MO_SEARCHERS.names()))
    parser.add_argument("--benchmarks", default=",".join(SETTINGS), help="which of the two settings to run")
    parser.add_argument("--root", type=Path, default=None, help="data root holding the converted stores")
    parser.add_argument("--results", type=Path, default=None, help="folder for the JSON-lines results")
    parser.add_argument("--report", type=Path, default=None, help="write a report per benchmark here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    searchers = parse_searchers(args.searchers)
    wanted = args.benchmarks.split(",")
    unknown = sorted(set(wanted) - set(SETTINGS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {list(SETTINGS)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp) / "data"
        names = prepare(root) if args.root is None else [n for n in SETTINGS if (root / n).is_dir()]
        names = [n for n in names if n in wanted]
        results = args.results or Path(tmp)
        print(f"predictbench {pb.__version__}; budget {args.budget}, {args.seeds} seeds, jobs {args.jobs}")
        for name in names:
            objectives, reported = SETTINGS[name]
            study = MultiObjectiveStudy(
                name,
                searchers,
                results=results / f"{name.replace('/', '_')}.jsonl",
                budget=args.budget,
                seeds=args.seeds,
                objectives=objectives,
                report_objectives=reported,
                jobs=args.jobs,
                root=root,
                name="bench-multiobjective",
            )
            started = time.perf_counter()
            records = study.run()
            wall = time.perf_counter() - started
            search, report = study.resolved_objectives()
            first = records.iloc[0]
            print(f"\n{name}: search {', '.join(map(format_ref, search))}; report {', '.join(map(format_ref, report))}")
            print(
                f"true Pareto front: {int(first['true_front_size'])} cells, hypervolume {first['true_hv_report']:.4g} "
                f"w.r.t. reference {np.round(first['reference_report'], 4).tolist()} (scores, higher is better)"
            )
            print(summary(records).to_string())
            print(f"study wall time {wall:.1f} s ({len(records)} runs, {args.jobs} job(s))")
            if args.report is not None:
                print(f"report: {study.report(args.report / name.replace('/', '_'), records)}")


if __name__ == "__main__":
    main()
