"""FBNet-style hardware-aware DNAS on the NB201 supernet against a device's true (latency, accuracy) front (issue 18).

Run: ``python benchmarks/bench_fbnet.py --root DATA [--devices edgegpu] [--seeds 0,1,2,3,4] [--betas 0,0.6]``
(``DATA`` holds ``nb201/cifar10`` converted from the shared tables: ``predictbench data convert nb201-tables
../shared/benchmarks_data --root DATA``; without ``--root`` it is converted into a temporary folder).

1. **Latency tables.** For every device of ``--fit-devices`` (default: all six HW-NAS-Bench devices of the store),
   the additive per-(edge, operation) table fitted by least squares to the measured per-cell latencies, with its
   R^2 and Kendall tau against them on all cells and on a held-out 20% (table fitted on the other 80%).
2. **Searches.** For each device of ``--devices``, each ``beta`` of ``--betas`` (0: plain Gumbel-softmax DARTS;
   FBNet's 0.6) and each seed: :func:`~predictbench.supernet.fbnet.fbnet_search` on the shared real CIFAR-10 subset
   (seeded train/valid split of its training images, augmented). Per seed: the derived cell, its NB201 CIFAR-10
   test accuracy at 200 epochs, parameter-free edges (``none`` + ``skip_connect``), its measured latency on the
   device, the table's latency and the expected latency under the final ``softmax(theta)``, whether it lies on the
   device's true Pareto front of (measured latency, test accuracy) over all measured cells, its accuracy gap to the
   best cell no slower than it, and its latency excess over the fastest cell at least as accurate.

CPU size (default; 2 shared cores, one torch thread): the first ``--limit 1600`` images of the seeded split
(1,200 train / 400 valid, 32x32), supernet C=8, N=1, batch 64, ``--epochs 5`` (95 weight + 95 architecture
steps), FBNet's Adam for theta (lr 0.01, weight decay 5e-4), weights SGD lr 0.025 cosine, FBNet's temperature
schedule (5.0, x exp(-0.045) per epoch over 90 epochs) compressed into the run's epochs (``--anneal``; default
0.045 * 90 / epochs, so the last epoch runs near FBNet's final temperature).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

import predictbench as pb
from predictbench.spaces.nb201 import OPS, NB201Space
from predictbench.supernet.data import cifar10
from predictbench.supernet.fbnet import FBNET_CONFIG, GumbelLatencyStep, fbnet_search
from predictbench.supernet.latency_table import LatencyTable, fit_latency_table, latency_devices

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
FREE = (OPS.index("none"), OPS.index("skip_connect"))
SHORT = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "c1", "nor_conv_3x3": "c3", "avg_pool_3x3": "ap"}


def front_position(latency: np.ndarray, accuracy: np.ndarray, cell_latency: float, cell_acc: float) -> dict[str, Any]:
    """Where a cell lies against the true front of the measured (latency lower, accuracy higher) cells."""
    measured = np.isfinite(latency) & np.isfinite(accuracy)
    lat, acc = latency[measured], accuracy[measured]
    no_slower = lat <= cell_latency
    at_least = acc >= cell_acc
    dominated = bool((no_slower & at_least & ((lat < cell_latency) | (acc > cell_acc))).any())
    return {
        "on_front": not dominated,
        "acc_gap": float(acc[no_slower].max() - cell_acc) if no_slower.any() else 0.0,
        "latency_excess": float(cell_latency - lat[at_least].min()) if at_least.any() else 0.0,
    }


def fit_tables(bench: Any, devices: list[str]) -> dict[str, LatencyTable]:
    print(f"\nAdditive latency tables fitted on {bench.name} (least squares, 1 + 6x4 coefficients)")
    print("| device | cells | R^2 | tau | held-out R^2 | held-out tau | base | fastest measured | unit |")
    print("|---|---|---|---|---|---|---|---|---|")
    tables = {}
    for device in devices:
        t = fit_latency_table(bench, device)
        tables[device] = t
        print(f"| {device} | {t.cells} | {t.r2:.4f} | {t.tau:.4f} | {t.heldout_r2:.4f} | {t.heldout_tau:.4f} | "
              f"{t.base:.3f} | {t.fastest:.4g} | {t.unit} |")  # fmt: skip
    return tables


def search(bench: Any, table: LatencyTable, args: argparse.Namespace, data: Any) -> list[dict[str, Any]]:
    space = NB201Space()
    accuracy = bench.column("test_acc", fidelity=200)
    latency = bench.column(table.metric)
    config = replace(FBNET_CONFIG, channels=args.channels, cells_per_stage=args.cells, batch_size=args.batch_size)
    anneal = default_anneal(args)
    scale = GumbelLatencyStep(table).latency_scale
    print(f"\n{table.device}: FBNet, alpha {args.alpha}, epochs {args.epochs}, anneal {anneal:.4f}/epoch (final "
          f"T {5.0 * np.exp(-anneal * (args.epochs - 1)):.3f}), LAT in {table.unit} x {scale:g}; "
          f"front over {int(np.isfinite(latency).sum())} measured cells")  # fmt: skip
    print(HEADER)
    rows = []
    for beta in args.betas:
        for seed in args.seeds:
            started = time.perf_counter()
            result = fbnet_search(data, table, epochs=args.epochs, seed=seed, alpha=args.alpha, beta=beta,
                                  anneal=anneal, config=config)  # fmt: skip
            wall = time.perf_counter() - started
            row_of = bench.codes([result.arch])[0]
            ops = space.ops_array([result.arch])[0]
            row = {
                "device": table.device, "beta": beta, "seed": seed, "arch": result.arch.key,
                "ops": list(result.ops), "test_acc": float(accuracy[row_of]),
                "free_edges": int(np.isin(ops, FREE).sum()), "latency": float(latency[row_of]),
                "table_latency": float(table.predict(ops[None])[0]), "expected": table.expected(result.weights),
                "wall_s": wall, "epochs": args.epochs, "channels": args.channels, "limit": args.limit,
                **front_position(latency, accuracy, float(latency[row_of]), float(accuracy[row_of])),
            }  # fmt: skip
            rows.append(row)
            print(row_line(row), flush=True)
            if args.out:
                with args.out.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
    summary(rows)
    return rows


HEADER = (
    "| beta | seed | derived cell | NB201 test acc | free edges | latency (measured) | table | expected | on front "
    "| acc gap | latency excess | wall s |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def row_line(row: dict[str, Any]) -> str:
    cell = " ".join(SHORT[o] for o in row["ops"])
    return (
        f"| {row['beta']} | {row['seed']} | {cell} | {row['test_acc']:.2f} | {row['free_edges']} | "
        f"{row['latency']:.3f} | {row['table_latency']:.3f} | {row['expected']:.3f} | "
        f"{'yes' if row['on_front'] else 'no'} | {row['acc_gap']:.2f} | {row['latency_excess']:.3f} | "
        f"{row['wall_s']:.0f} |"
    )


def summary(rows: list[dict[str, Any]]) -> None:
    """Mean ± std (over seeds) per beta."""
    print("\n| beta | seeds | NB201 test acc | free edges | measured latency | acc gap | on front |")
    print("|---|---|---|---|---|---|---|")
    for beta in sorted({r["beta"] for r in rows}):
        mine = [r for r in rows if r["beta"] == beta]

        def stat(key: str, rows: list[dict[str, Any]] = mine) -> str:
            values = np.array([r[key] for r in rows], dtype=float)
            return f"{values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.3f}"

        print(f"| {beta} | {len(mine)} | {stat('test_acc')} | {stat('free_edges')} | {stat('latency')} | "
              f"{stat('acc_gap')} | {sum(r['on_front'] for r in mine)}/{len(mine)} |")  # fmt: skip


def report(path: Path) -> None:
    """The per-seed table and summary of every search recorded in ``path`` (JSON lines of ``--out``), per device."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for device in sorted({r["device"] for r in rows}):
        mine = sorted((r for r in rows if r["device"] == device), key=lambda r: (r["beta"], r["seed"]))
        print(f"\n{device}: {len(mine)} searches from {path}\n{HEADER}")
        for row in mine:
            print(row_line(row))
        summary(mine)


def default_anneal(args: argparse.Namespace) -> float:
    return float(args.anneal) if args.anneal is not None else 0.045 * 90 / max(args.epochs, 1)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="data folder with nb201/cifar10 (default: convert into a temp dir)")
    parser.add_argument("--devices", default="edgegpu", help="devices to search for, comma-separated")
    parser.add_argument("--fit-devices", default="all", help="devices whose table fit is printed ('all', or none: '')")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="search seeds, comma-separated")
    parser.add_argument("--betas", default="0,0.6", help="FBNet beta values, comma-separated (0: no latency term)")
    parser.add_argument("--alpha", type=float, default=0.2, help="FBNet alpha")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--anneal", type=float, help="temperature decay per epoch (default 0.045 * 90 / epochs)")
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=1, help="cells per stage")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=1600, help="CIFAR-10 training images used (train + valid)")
    parser.add_argument("--images", type=Path, help="cifar10_subset.npz (default: the shared one)")
    parser.add_argument("--out", type=Path, help="append one JSON line per search here")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--report", action="store_true", help="only print the tables of the searches in --out")
    args = parser.parse_args()
    if args.report:
        if args.out is None or not args.out.is_file():
            parser.error(f"--report reads the JSON lines of --out, got {args.out}")
        report(args.out)
        return
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    args.seeds = [int(v) for v in args.seeds.split(",") if v.strip()]
    args.betas = _floats(args.betas)
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    if args.epochs < 1:
        parser.error(f"--epochs must be a positive int, got {args.epochs}")
    try:
        data = cifar10(seed=0, limit=args.limit, path=args.images)
    except (FileNotFoundError, ValueError) as err:
        parser.error(str(err))
    with tempfile.TemporaryDirectory(prefix="predictbench-fbnet-") as tmp:
        root = args.root
        if root is None:
            from predictbench.benchmarks.convert.nb201_tables import convert

            root = Path(tmp) / "data"
            convert(SHARED, root=root)
        try:
            bench = pb.load("nb201/cifar10", root=root)
        except FileNotFoundError as err:
            parser.error(f"--root {root}: {err}")
        fit = latency_devices(bench) if args.fit_devices == "all" else [
            d.strip() for d in args.fit_devices.split(",") if d.strip()
        ]  # fmt: skip
        try:  # every option checked before anything runs
            searched = {device: fit_latency_table(bench, device) for device in devices}
            for table in searched.values():
                for beta in args.betas:
                    GumbelLatencyStep(table, alpha=args.alpha, beta=beta, anneal=default_anneal(args))
        except ValueError as err:
            parser.error(str(err))
        print(f"predictbench {pb.__version__}, torch {torch.__version__}, {args.threads} thread; {data!r}; "
              f"C={args.channels}, N={args.cells}, batch {args.batch_size}")  # fmt: skip
        try:
            tables = fit_tables(bench, list(fit))
            for device in devices:
                search(bench, tables.get(device, searched[device]), args, data)
        except ValueError as err:
            parser.error(str(err))


if __name__ == "__main__":
    main()
