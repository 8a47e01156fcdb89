"""NAS-Bench-101 at full scale: enumeration, official hashes, a 423,624-cell store, TFRecord round trip.

Run: ``python benchmarks/bench_nb101.py`` (a few minutes on 2 cores). It

1. enumerates the whole NB101 space (``enumerate_cells``), checks the count (423,624) and caches the cell
   table in the data folder used here (``--root``, default a temporary folder);
2. reproduces the hashes and specs of ``../shared/benchmarks_data/nb101/nb101_sample300.parquet`` (when present);
3. writes ``nb101-synthetic/cifar10``: **synthetic** metrics (a deterministic function of each cell plus seeded
   noise; NOT NAS-Bench-101 results, flagged as such in the store's description and provenance) for every cell
   of the real enumerated space, 3 runs per budget, as the official converter would lay out real data;
4. in fresh processes, times ``load()`` of that store and the 45-feature GBDT-NAS encoding of all cells, and
   records their peak memory (``ru_maxrss``; ``tracemalloc`` for Python/numpy allocations);
5. writes synthetic records in the official TFRecord format (``write_tfrecord``), reads them back with the
   converter's vectorised reader and checks that every value of every run and budget comes back unchanged.

Timings are wall-clock seconds on this machine; the load average is printed because a shared machine inflates
them (CPU seconds are printed next to wall seconds).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.benchmarks.convert.nb101_tfrecord import Evaluation, Record, read_tables, write_tfrecord
from predictbench.benchmarks.store import StoreMeta, provenance, write_store
from predictbench.paths import file_sha256
from predictbench.spaces import nb101
from predictbench.types import Metric

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
STORE = "nb101-synthetic/cifar10"
log = logging.getLogger("bench_nb101")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --------------------------------------------------------------------------------------------------
# synthetic metrics over the real space
# --------------------------------------------------------------------------------------------------


def synthetic_values(table: nb101.CellTable, rows: np.ndarray, fidelities: tuple[int, ...], seed: int) -> pd.DataFrame:
    """Synthetic per-run values (3 runs per cell and budget) of ``rows`` of the cell table.

    A cell's quality is a fixed random linear function of its GBDT-NAS features (squashed), its training time
    and parameter count grow with its conv ops; runs differ by seeded noise. Accuracies in %.
    """
    space = nb101.NB101Space()
    adjacency, nodes = table.arrays(rows)
    features = space.encode_arrays("gbdt", adjacency, nodes).astype(np.float64)
    counts = space.encode_arrays("opcount", adjacency, nodes).astype(np.float64)  # conv1x1, conv3x3, maxpool
    weights = np.random.default_rng(12345).normal(size=features.shape[1])
    score = features @ weights
    score = (score - score.mean()) / (score.std() or 1.0)
    quality = 90.0 + 3.0 * np.tanh(score)
    params = 2.0e5 + 1.2e6 * counts[:, 1] + 1.5e5 * counts[:, 0]
    seconds = 400.0 + 180.0 * counts[:, 1] + 60.0 * counts[:, 0] + 25.0 * counts[:, 2]
    rng = np.random.default_rng(seed)
    n, runs = len(rows), 3
    parts = []
    for fidelity in fidelities:
        level = quality * (1.0 - 0.45 * np.exp(-fidelity / 15.0))
        for run in range(runs):
            valid = np.clip(level + rng.normal(0.0, 0.4, n), 0.0, 100.0)
            parts.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "seed": np.full(n, run, dtype=np.int32),
                        "fidelity": np.full(n, fidelity, dtype=np.int32),
                        "train_acc": np.clip(valid + 6.0 * fidelity / 108.0 + rng.normal(0.0, 0.2, n), 0.0, 100.0),
                        "valid_acc": valid,
                        "test_acc": np.clip(valid - 0.6 + rng.normal(0.0, 0.2, n), 0.0, 100.0),
                        "train_time": seconds * fidelity / 108.0 * rng.uniform(0.97, 1.03, n),
                        "params": params,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def write_synthetic_store(
    root: Path, table: nb101.CellTable, fidelities: tuple[int, ...], cache: Path, *, means_only: bool = False
) -> Path:
    values = synthetic_values(table, np.arange(len(table)), fidelities, seed=0)
    if means_only:
        values = values.groupby(["row", "fidelity"], as_index=False).mean()
        values["seed"] = np.int32(-1)
    order = np.lexsort((values["seed"].to_numpy(), values["fidelity"].to_numpy(), values["row"].to_numpy()))
    values = values.iloc[order].reset_index(drop=True)
    categories = pd.Index(table.hashes, dtype=object)
    results = values.drop(columns="row")
    results.insert(0, "key", pd.Categorical.from_codes(values["row"].to_numpy(), categories=categories))
    note = "SYNTHETIC (not measured)"
    metrics = {
        "train_acc": Metric("train_acc", True, "%", "objective", 0.0, 100.0, f"{note} training accuracy"),
        "valid_acc": Metric("valid_acc", True, "%", "objective", 0.0, 100.0, f"{note} validation accuracy"),
        "test_acc": Metric("test_acc", True, "%", "objective", 0.0, 100.0, f"{note} test accuracy"),
        "train_time": Metric("train_time", False, "s", "cost", 0.0, None, f"{note} training time"),
        "params": Metric("params", False, "count", "cost", 0.0, None, f"{note} parameter count"),
    }
    default = max(fidelities)
    meta = StoreMeta(
        name=STORE,
        space="nb101",
        task="cifar10",
        metrics=metrics,
        fidelities=fidelities,
        default_fidelity=default,
        seeds=() if means_only else (0, 1, 2),
        search=None,
        report=None,
        provenance=provenance(
            "benchmarks/bench_nb101.py:synthetic",
            "1",
            {"nb101_cells.parquet": file_sha256(cache)},
            synthetic=True,
            generator="fixed random linear function of the GBDT-NAS features + seeded Gaussian noise",
        ),
        description=(
            "SYNTHETIC scale-test benchmark over the real enumerated NB101 space (all 423,624 cells): values are a "
            "deterministic function of each cell plus seeded noise, NOT NAS-Bench-101 results; for load/encode "
            "speed and memory tests only"
        ),
    )
    archs = pd.DataFrame({"key": pd.array(table.hashes, dtype="string")})
    return write_store(root, meta, archs, results)


# --------------------------------------------------------------------------------------------------
# measurements in fresh processes
# --------------------------------------------------------------------------------------------------

_PROBE = r"""
import json, resource, sys, time, tracemalloc
from predictbench.benchmarks import load
from predictbench.spaces import nb101  # imports are not part of the load time

def peak_rss_mb():  # VmHWM: peak RSS of this program (ru_maxrss would include the parent's, from before exec)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

trace = sys.argv[3] == "trace"
if trace:
    tracemalloc.start()
rss0 = peak_rss_mb()
t, c = time.perf_counter(), time.process_time()
bench = load(sys.argv[1], root=sys.argv[2])
out = {"load_s": time.perf_counter() - t, "load_cpu_s": time.process_time() - c, "n": len(bench)}
out["rss_base_mb"] = rss0
out["rss_load_mb"] = peak_rss_mb()
if trace:
    out["traced_load_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.reset_peak()
batch = bench.batch()
t, c = time.perf_counter(), time.process_time()
x = batch.features("gbdt")
out["encode_first_s"], out["encode_first_cpu_s"] = time.perf_counter() - t, time.process_time() - c
t = time.perf_counter()
x = batch.features("gbdt")
out["encode_warm_s"] = time.perf_counter() - t
out["shape"] = list(x.shape)
out["rss_encode_mb"] = peak_rss_mb()
if trace:
    out["traced_encode_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps(out))
"""


def probe(root: Path, trace: bool) -> dict[str, float]:
    env = {**os.environ, "PREDICTBENCH_DATA": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, STORE, str(root), "trace" if trace else "plain"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------------------
# TFRecord round trip
# --------------------------------------------------------------------------------------------------


def tfrecord_round_trip(table: nb101.CellTable, cells: int, fidelities: tuple[int, ...], folder: Path) -> None:
    rows = np.random.default_rng(7).choice(len(table), size=min(cells, len(table)), replace=False)
    values = synthetic_values(table, rows, fidelities, seed=1)
    adjacency, nodes = table.arrays(rows)
    specs = {}
    for row, adj, node in zip(rows.tolist(), adjacency, nodes, strict=True):
        v = int(table.num_vertices[row])
        specs[row] = (
            "".join(map(str, adj[:v, :v].reshape(-1).tolist())),
            ",".join(nb101.OPS[k] for k in node[:v].tolist()),
        )
    started = time.perf_counter()
    records = []
    halfway = values[["train_acc", "valid_acc", "test_acc"]].to_numpy() * 0.8 / 100.0
    for i, r in enumerate(values.itertuples(index=False)):
        adjacency_text, ops_text = specs[r.row]
        evaluations = [
            Evaluation(0.0, 0.0, 0.1, 0.1, 0.1),
            Evaluation(r.fidelity / 2, r.train_time / 2, *halfway[i]),
            Evaluation(float(r.fidelity), r.train_time, r.train_acc / 100, r.valid_acc / 100, r.test_acc / 100),
        ]
        records.append(
            Record(table.hashes[r.row], r.fidelity, adjacency_text, ops_text, evaluations, int(r.params), r.train_time)
        )
    build_s = time.perf_counter() - started
    path = folder / "nasbench_synthetic.tfrecord"
    started = time.perf_counter()
    write_tfrecord(path, records)
    write_s = time.perf_counter() - started
    size_mb = path.stat().st_size / 2**20
    started = time.perf_counter()
    archs, results = read_tables(path, verify="keys")
    read_s = time.perf_counter() - started
    expected = pd.DataFrame(
        {
            "key": [table.hashes[r] for r in values["row"]],
            "seed": values["seed"],
            "fidelity": values["fidelity"],
            **{m: values[m] for m in ("train_acc", "valid_acc", "test_acc", "train_time")},
        }
    )
    expected["params"] = np.floor(values["params"].to_numpy())
    for k, name in enumerate(("halfway_train_acc", "halfway_valid_acc", "halfway_test_acc")):
        expected[name] = halfway[:, k]
    merged = expected.merge(results, on=["key", "seed", "fidelity"], suffixes=("", "_read"), validate="1:1")
    worst = 0.0
    for column in ("train_time", "params"):
        worst = max(worst, float(np.abs(merged[column] - merged[f"{column}_read"]).max()))
    # accuracies go through the file as fractions (x / 100) and come back as % (x100)
    for column in (
        "train_acc",
        "valid_acc",
        "test_acc",
        *(f"halfway_{m}" for m in ("train_acc", "valid_acc", "test_acc")),
    ):
        sent = merged[column].to_numpy()
        if column.startswith("halfway_"):
            sent = sent * 100.0
        else:
            sent = (sent / 100.0) * 100.0
        worst = max(worst, float(np.abs(sent - merged[f"{column}_read"].to_numpy()).max()))
    ok = len(merged) == len(records) and len(archs) == len(rows) and worst == 0.0
    print(
        f"tfrecord round trip: {len(records):,} records ({len(rows):,} cells x {len(fidelities)} budgets x 3 runs, "
        f"{size_mb:.1f} MB): build {build_s:.1f} s, write {write_s:.1f} s ({len(records) / write_s:,.0f} records/s), "
        f"read {read_s:.1f} s ({len(records) / read_s:,.0f} records/s, {size_mb / read_s:.1f} MB/s); "
        f"every value of every run and budget read back equal: {'yes' if ok else 'NO'} (max |diff| {worst:g})"
    )


# --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="data folder (default: a temporary folder)")
    parser.add_argument("--workers", type=int, default=None, help="enumeration processes (default: all CPUs)")
    parser.add_argument("--fidelities", default="108", help="budgets of the synthetic store, e.g. 4,12,36,108")
    parser.add_argument("--tfrecord-cells", type=int, default=20_000, help="cells in the TFRecord round trip")
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process load/encode measurements")
    parser.add_argument("--reuse-cache", action="store_true", help="load the cell table from --root if cached")
    parser.add_argument("--means-only", action="store_true", help="store only the mean over runs (1 row per cell)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    fidelities = tuple(sorted(int(f) for f in args.fidelities.split(",")))
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp)
        os.environ["PREDICTBENCH_DATA"] = str(root)
        cache = nb101.cell_table_path()
        print(f"predictbench NB101 benchmark; data folder {root}; {os.cpu_count()} CPUs; load average {load_average()}")

        # 1. enumeration
        if args.reuse_cache and cache.is_file():
            started = time.perf_counter()
            table = nb101.cell_table()
            print(f"cell table loaded from the cache in {time.perf_counter() - started:.2f} s ({len(table):,} cells)")
        else:
            started, cpu = time.perf_counter(), cpu_seconds()
            table = nb101.cell_table(rebuild=True, workers=args.workers)
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            peak = max(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            )
            print(
                f"enumeration: {len(table):,} cells (expected {nb101.NUM_CELLS:,}, "
                f"{len(set(table.hashes.tolist())):,} distinct hashes) in {wall:.1f} s wall, {cpu:.1f} s CPU, "
                f"peak RSS {peak / 1024:.0f} MB; load average {load_average()}"
            )
        cached = subprocess.run(
            [
                sys.executable,
                "-c",
                "import time; from predictbench.spaces import nb101; t = time.perf_counter(); "
                "nb101.cell_table(); print(time.perf_counter() - t)",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        print(
            f"cell table cache {cache.stat().st_size / 2**20:.1f} MB; fresh-process load {float(cached.stdout):.2f} s"
        )

        # 2. the shared sample
        sample = SHARED / "nb101" / "nb101_sample300.parquet"
        if sample.is_file():
            frame = pd.read_parquet(sample)
            space = nb101.NB101Space()
            keys = [a.key for a in space.from_specs(frame["matrix"], frame["ops"])]
            same_hash = sum(k == h for k, h in zip(keys, frame["hash"], strict=True))
            same_spec = 0
            for key, matrix, ops in zip(keys, frame["matrix"], frame["ops"], strict=True):
                m, o = space.spec_of(key)
                same_spec += "".join(map(str, m.reshape(-1).tolist())) == matrix and ",".join(o) == ops
            in_table = int(space.keys_valid(frame["hash"]).sum())
            n = len(frame)
            print(
                f"shared sample: {same_hash}/{n} hashes reproduced from matrix + ops, {same_spec}/{n} canonical specs "
                f"equal the official ones, {in_table}/{n} in the enumerated table"
            )
        else:
            print(f"shared sample: skipped ({sample} not found)")

        # 3. the synthetic store
        started = time.perf_counter()
        path = write_synthetic_store(root, table, fidelities, cache, means_only=args.means_only)
        rows = len(pd.read_parquet(path / "results.parquet", columns=["seed"]))
        size = sum(p.stat().st_size for p in path.iterdir()) / 2**20
        print(
            f"{STORE} (SYNTHETIC values over the real space): {len(table):,} cells x {len(fidelities)} budget(s) "
            f"{list(fidelities)} x {'mean only' if args.means_only else '3 runs + means'} = {rows:,} result rows, "
            f"{size:.0f} MB; written in "
            f"{time.perf_counter() - started:.1f} s"
        )

        # 4. load and encode in fresh processes
        runs = [probe(root, trace=False) for _ in range(max(1, args.repeats))]
        traced = probe(root, trace=True)

        def med(key: str) -> float:
            return statistics.median(r[key] for r in runs)

        print(
            f"load() in a fresh process: median {med('load_s'):.2f} s wall ({med('load_cpu_s'):.2f} s CPU) over "
            f"{len(runs)} runs [target < 1.0 s]; load average {load_average()}"
        )
        print(
            f"45-feature GBDT-NAS encoding of all {runs[0]['n']:,} cells: first {med('encode_first_s'):.2f} s "
            f"({med('encode_first_cpu_s'):.2f} s CPU, includes reading the cell table), "
            f"warm {med('encode_warm_s'):.2f} s [target < 2 s]; shape {tuple(runs[0]['shape'])}"
        )
        print(
            f"peak memory (VmHWM): {med('rss_base_mb'):.0f} MB after imports, {med('rss_load_mb'):.0f} MB after load, "
            f"{med('rss_encode_mb'):.0f} MB after encoding [target < 1024 MB]; tracemalloc peak "
            f"{traced['traced_load_mb']:.0f} MB during load, {traced['traced_encode_mb']:.0f} MB during encoding"
        )

        # 5. TFRecord round trip
        if args.tfrecord_cells > 0:
            folder = root / "tfrecord"
            folder.mkdir(exist_ok=True)
            tfrecord_round_trip(table, args.tfrecord_cells, (4, 12, 36, 108), folder)


if __name__ == "__main__":
    main()
