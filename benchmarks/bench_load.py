"""Speed figures: store load time, lookups and encoding a whole benchmark.

Run: ``make bench`` (or ``python benchmarks/bench_load.py [--repeats N]``). Converts the embedded default into a
temporary data folder (and the shared NB201 tables when ../shared/benchmarks_data exists), then prints medians.
The cost of the integrity checks on load (table hashes and value checks, on by default) shows as ``load()`` in a
fresh process with ``verify`` on and off; for the full-size NB101 store written by ``bench_nb101.py --root DIR``:
``python benchmarks/bench_load.py --verify-only --store nb101-synthetic/cifar10@DIR``.
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


def cold_process_seconds(name: str, root: Path, repeats: int, *, verify: bool = True) -> float:
    code = f"import predictbench as pb; pb.load({name!r}, root={str(root)!r}, verify={verify})"
    return median_seconds(lambda: subprocess.run([sys.executable, "-c", code], check=True), repeats)


def load_seconds_in_fresh_process(name: str, root: Path, *, verify: bool) -> float:
    """Seconds of ``load()`` alone (imports excluded) in a fresh process: the integrity checks' cost shows here."""
    code = (
        "import time, predictbench as pb, predictbench.benchmarks.tabular, pyarrow.parquet; t = time.perf_counter(); "
        f"pb.load({name!r}, root={str(root)!r}, verify={verify}); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--store",
        action="append",
        default=[],
        metavar="NAME@ROOT",
        help="also time an existing store, e.g. nb101-synthetic/cifar10@/tmp/nb101 (from bench_nb101.py --root)",
    )
    parser.add_argument("--verify-only", action="store_true", help="only the load time with checks on vs off")
    args = parser.parse_args()
    if args.verify_only:
        stores = [tuple(spec.rsplit("@", 1)) for spec in args.store]
        for name, root_text in stores:
            for verify in (True, False, True, False):
                seconds = [load_seconds_in_fresh_process(name, Path(root_text), verify=verify) for _ in range(3)]
                print(
                    f"{name}: load(verify={verify!s:5}) fresh process, median of 3: {statistics.median(seconds):.3f} s"
                )
        return
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
            fresh = {
                v: statistics.median(load_seconds_in_fresh_process(name, root, verify=v) for _ in range(3))
                for v in (True, False)
            }
            print(f"{name}: {len(bench)} archs")
            print(f"  load() in process      {load_s * 1e3:8.1f} ms")
            print(f"  python -c import+load  {cold * 1e3:8.1f} ms")
            print(
                f"  load() fresh process   {fresh[True] * 1e3:8.1f} ms checked, "
                f"{fresh[False] * 1e3:8.1f} ms verify=False"
            )
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
