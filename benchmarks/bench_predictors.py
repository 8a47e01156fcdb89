"""Speed figures for predictors: fit time at several training sizes and predict time over a whole benchmark.

Run: ``make bench-predictors`` (or ``python benchmarks/bench_predictors.py [--predictors a,b] [--sizes 100,1000]
[--repeats 3] [--benchmark NAME] [--root DIR]``). Every registered predictor is built with its defaults
(``make_predictor(name)``); one whose module or optional dependency is missing, or that needs inputs the
benchmark lacks (e.g. proxies), is skipped with the reason. Without ``--root`` the benchmark is converted into a
temporary folder: nb201/cifar10 from ../shared/benchmarks_data when it exists, else the embedded default
nb201-analog/cifar10. Training cells are a seeded sample; the fit time is the median of ``--repeats`` fits of
fresh clones, the predict time the median of as many predictions over every cell of the benchmark.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import predictbench as pb
from predictbench.predictors import PREDICTORS, make_predictor

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def prepare(root: Path, name: str | None) -> str:
    """Convert the default benchmark into ``root``; return the benchmark name to use."""
    if name is None:
        name = "nb201/cifar10" if SHARED.is_dir() else "nb201-analog/cifar10"
    if name.startswith("nb201/"):
        from predictbench.benchmarks.convert.nb201_tables import convert as convert_tables

        convert_tables(SHARED, root=root, datasets=(name.split("/", 1)[1],))
    elif name == "nb201-analog/cifar10":
        from predictbench.benchmarks.convert.analog import convert as convert_analog

        convert_analog(root=root)
    else:
        raise SystemExit(f"don't know how to convert {name!r}; convert it yourself and pass --root")
    return name


def skip_reason(name: str, bench: pb.benchmarks.TabularBenchmark) -> str | None:
    """Why predictor ``name`` cannot run here (None when it can)."""
    try:
        PREDICTORS.get(name)
        predictor = make_predictor(name)
    except ModuleNotFoundError as err:
        kind = "not implemented yet" if (err.name or "").startswith("predictbench") else "dependency missing"
        return f"{kind} ({err})"
    except (ImportError, AttributeError) as err:
        return f"not importable ({err})"
    if "proxies" in predictor.needs and not bench.proxy_names:
        return f"needs proxies; {bench.name} has none"
    return None


def time_predictor(
    name: str, bench: pb.benchmarks.TabularBenchmark, sizes: list[int], repeats: int
) -> list[dict[str, Any]] | str:
    """Rows of timings for ``name``, or the reason it was skipped."""
    metric = bench.report_metric
    if metric is None:
        raise SystemExit(f"{bench.name} declares no report metric")
    keys = bench.keys()
    order = np.random.default_rng(0).permutation(len(keys))
    target = bench.metric(metric.metric).to_score(bench.column(metric.metric, fidelity=metric.fidelity))
    everything = bench.batch()
    # untimed warm-up: lazy imports (lightgbm, torch, ...) and first-call costs stay out of the figures
    warm = order[: min(20, len(order))]
    try:
        make_predictor(name).fit(bench.batch(keys[warm]), target[warm]).predict(bench.batch(keys[warm]))
    except ModuleNotFoundError as err:  # lazily imported optional dependency
        return f"dependency missing ({err})"
    rows = []
    for n in sizes:
        train = order[:n]
        X, y = bench.batch(keys[train]), target[train]
        fitted: list[Any] = []

        def fit(X: Any = X, y: np.ndarray = y, fitted: list[Any] = fitted) -> None:
            fitted.append(make_predictor(name).fit(X, y))

        try:
            fit_s = median_seconds(fit, repeats)
            model = fitted[-1]
            predict_s = median_seconds(lambda model=model: model.predict(everything), repeats)
        except ModuleNotFoundError as err:  # lazily imported optional dependency
            return f"dependency missing ({err})"
        rows.append({"n": n, "fit_s": fit_s, "predict_s": predict_s})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictors", help="comma-separated registered names (default: all)")
    parser.add_argument("--sizes", default="100,1000", help="training sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="fits (and predictions) per size; the median counts")
    parser.add_argument("--benchmark", help="benchmark name (default nb201/cifar10, else nb201-analog/cifar10)")
    parser.add_argument("--root", type=Path, help="data root holding converted stores (default: convert to a temp dir)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    names = [p.strip() for p in args.predictors.split(",") if p.strip()] if args.predictors else PREDICTORS.names()
    unknown = [n for n in names if n not in PREDICTORS]
    if unknown:
        raise SystemExit(f"unknown predictors {unknown}; registered: {', '.join(PREDICTORS.names())}")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="predictbench-bench-") as tmp:
        if args.root is not None:
            root, name = args.root, args.benchmark or "nb201/cifar10"
        else:
            root = Path(tmp)
            name = prepare(root, args.benchmark)
        bench = pb.load(name, root=root)
        if max(sizes) > len(bench):
            raise SystemExit(f"size {max(sizes)} exceeds the {len(bench)} cells of {name}")
        print(f"predictbench {pb.__version__}: {name} ({len(bench)} cells); median of {args.repeats} runs")
        header = f"{'predictor':24s} {'n':>6s} {'fit s':>9s} {f'predict {len(bench)} s':>16s} {'us/cell':>9s}"
        print(header)
        print("-" * len(header))
        skipped = []
        for predictor in names:
            reason = skip_reason(predictor, bench)
            result = time_predictor(predictor, bench, sizes, args.repeats) if reason is None else reason
            if isinstance(result, str):
                skipped.append((predictor, result))
                continue
            for row in result:
                per_cell = row["predict_s"] / len(bench) * 1e6
                print(f"{predictor:24s} {row['n']:6d} {row['fit_s']:9.3f} {row['predict_s']:16.3f} {per_cell:9.2f}")
        for predictor, reason in skipped:
            print(f"skipped {predictor}: {reason}")


if __name__ == "__main__":
    main()
