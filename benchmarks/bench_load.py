"""Speed figures: store load time, lookups and encoding a whole benchmark.

Run: ``make bench`` (or ``python benchmarks/bench_load.py [--repeats N]``). Converts the embedded default into a
temporary data folder (and the shared NB201 tables when ../shared/benchmarks_data exists), then prints medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import predictbench as pb
from predictbench.benchmarks.convert.analog import convert as convert_analog
from predictbench.encodings import encode

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_process_seconds(name: str, root: Path, repeats: int) -> float:
    code = f"import predictbench as pb; pb.load({name!r}, root={str(root)!r})"
    return median_seconds(lambda: subprocess.run([sys.executable, "-c", code], check=True), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = ["nb201-analog/cifar10"]
        convert_analog(root=root)
        if SHARED.is_dir():
            from predictbench.benchmarks.convert.nb201_tables import convert as convert_tables

            convert_tables(SHARED, root=root)
            names.append("nb201/cifar10")
        print(f"predictbench {pb.__version__}; median of {args.repeats} runs")
        for name in names:
            load_s = median_seconds(lambda name=name: pb.load(name, root=root), args.repeats)
            bench = pb.load(name, root=root)
            keys = bench.keys()
            metric = bench.report_metric.metric if bench.report_metric else next(iter(bench.metrics))

            def lookup_all(
                bench: pb.benchmarks.TabularBenchmark = bench, metric: str = metric, keys: object = keys
            ) -> object:
                return bench.lookup(keys, metric)  # type: ignore[arg-type]

            lookup_s = median_seconds(lookup_all, args.repeats)
            cold = cold_process_seconds(name, root, max(3, args.repeats // 3))
            print(f"{name}: {len(bench)} archs")
            print(f"  load() in process      {load_s * 1e3:8.1f} ms")
            print(f"  python -c import+load  {cold * 1e3:8.1f} ms")
            print(f"  lookup all keys        {lookup_s * 1e3:8.1f} ms")
        space = pb.load(names[0], root=root).space
        keys = pb.load(names[0], root=root).keys()
        for encoding in ("onehot", "adjops", "path"):
            first = median_seconds(lambda encoding=encoding: encode(space, keys, encoding), 1)
            warm = median_seconds(lambda encoding=encoding: encode(space, keys, encoding), args.repeats)
            shape = encode(space, keys, encoding).shape
            print(
                f"encode {len(keys)} cells {encoding:7s} {shape}: "
                f"first {first * 1e3:7.1f} ms, median {warm * 1e3:6.1f} ms"
            )


if __name__ == "__main__":
    main()
