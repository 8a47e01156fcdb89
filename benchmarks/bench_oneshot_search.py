"""DARTS vs zero-order vs ENAS on the shared real CIFAR-10 images, derived cells looked up in NB201 (issue 18).

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root DIR``)::

    python benchmarks/bench_oneshot_search.py --root DIR [--seeds 0,1,2,3,4] [--methods darts,zero-order,enas]
        [--out runs.jsonl]
    python benchmarks/bench_oneshot_search.py --root DIR --summarise runs-*.jsonl   # one table of several runs

For every seed, every method searches the NB201 supernet on the same data: ``cifar10(seed=seed, limit=--limit)``
(the shared real CIFAR-10 subset: a seeded 75/25 train/valid split of the first ``--limit`` images of a seeded
permutation of the 4,660 training images; crop-and-flip augmentation drawn per epoch; the 846 test images unused):

* ``darts``: first-order DARTS (:func:`~predictbench.supernet.darts.darts_search`), architecture lr ``--arch-lr``;
* ``zero-order``: the ZARTS-style step (:func:`~predictbench.supernet.zero_order.zero_order_search`) with
  ``--directions`` directions and ``--inner-steps`` inner steps, the same architecture optimiser;
* ``enas``: ENAS (:func:`~predictbench.supernet.enas.enas_search`): controller-sampled single-path training
  alternating with ``--controller-steps`` REINFORCE updates of ``--controller-aggregate`` cells per epoch,
  controller lr ``--controller-lr``; the derived cell is the best of ``--derive-samples`` cells drawn from the
  final policy by shared-weight validation accuracy (row ``enas``); the controller's greedy cell of the same run
  is row ``enas-greedy``.

Each derived cell is looked up in ``nb201/cifar10`` (CIFAR-10 test accuracy at 200 epochs, mean over the table's
seeds) and its parameter-free edges counted (``none`` + ``skip_connect``; ``avg_pool_3x3`` reported apart). NB201
publishes DARTS-V1 at 54.30 on CIFAR-10 (the all-``skip_connect`` cell, after the full supernet search): a method
collapses when its cells drift toward parameter-free edges. Defaults (CPU, 2 shared cores, one torch thread):
``--limit 1280`` images (960 train / 320 valid), C=8, N=1, batch 64, 4 epochs (60 architecture steps), DARTS'
weight optimiser (SGD lr 0.025) for DARTS and zero-order, the reference supernet's (SGD lr 0.05) for ENAS.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import predictbench as pb
from predictbench.paths import atomic_write_text
from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.darts import darts_search
from predictbench.supernet.data import ImageData, cifar10
from predictbench.supernet.differentiable import SearchConfig
from predictbench.supernet.enas import ENASNB201, enas_search
from predictbench.supernet.zero_order import ZeroOrderStep, zero_order_search
from predictbench.types import PredictBenchError

METHODS = ("darts", "zero-order", "enas")
PARAMETER_FREE = ("none", "skip_connect")
PUBLISHED_DARTS_V1 = 54.30
SETTINGS = (
    "limit", "channels", "cells", "epochs", "batch_size", "arch_lr", "directions", "inner_steps", "controller_lr",
    "controller_steps", "controller_aggregate", "derive_samples", "device",
)  # fmt: skip


def search_config(args: argparse.Namespace) -> SearchConfig:
    """DARTS' and zero-order's supernet and optimisers (validated: a bad setting raises ValueError naming it)."""
    return SearchConfig(
        channels=args.channels, cells_per_stage=args.cells, batch_size=args.batch_size, arch_lr=args.arch_lr,
        threads=args.threads, device=args.device,
    )  # fmt: skip


def enas_settings(args: argparse.Namespace) -> dict[str, Any]:
    """ENAS's settings (:class:`~predictbench.supernet.enas.ENASNB201`)."""
    return {
        "channels": args.channels, "cells_per_stage": args.cells, "batch_size": args.batch_size,
        "controller_lr": args.controller_lr, "controller_steps": args.controller_steps,
        "controller_aggregate": args.controller_aggregate, "derive_samples": args.derive_samples,
        "threads": args.threads, "device": args.device,
    }  # fmt: skip


def check_settings(args: argparse.Namespace) -> None:
    """Every method's settings, checked before the first search (ValueError naming the bad one)."""
    if args.epochs < 1:
        raise ValueError(f"--epochs must be a positive int, got {args.epochs}")
    search_config(args)
    ZeroOrderStep(directions=args.directions, inner_steps=args.inner_steps)
    ENASNB201(**enas_settings(args))._check_params()


def run_method(method: str, data: ImageData, seed: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One search; its derived cell(s) as rows (ENAS: the best-of-K cell and the greedy cell)."""
    config = search_config(args)
    searches: dict[str, Callable[[], Any]] = {
        "darts": lambda: darts_search(data, epochs=args.epochs, seed=seed, config=config),
        "zero-order": lambda: zero_order_search(
            data, epochs=args.epochs, seed=seed, directions=args.directions, inner_steps=args.inner_steps,
            config=config,
        ),
        "enas": lambda: enas_search(data, epochs=args.epochs, seed=seed, **enas_settings(args)),
    }  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    result = searches[method]()
    seconds = [time.perf_counter() - wall, time.process_time() - cpu]
    rows = [{"method": method, "arch": result.arch, "ops": result.ops}]
    if method == "enas":
        rows.append({"method": "enas-greedy", "arch": result.greedy_arch, "ops": result.greedy_ops})
    for row in rows:
        row.update(seed=seed, seconds=seconds)
    return rows


def describe(row: dict[str, Any], bench: Any, space: NB201Space) -> dict[str, Any]:
    """The JSON record of a derived cell: its NB201 index, test accuracy and parameter-free edge counts."""
    report = bench.report_metric
    arch = row["arch"]
    return {
        "method": row["method"],
        "seed": row["seed"],
        "arch": arch.key,
        "index": int(space.index(arch)),
        "accuracy": float(bench.lookup([arch], report.metric, fidelity=report.fidelity)[0]),
        "parameter_free_edges": sum(op in PARAMETER_FREE for op in row["ops"]),
        "avg_pool_edges": sum(op == "avg_pool_3x3" for op in row["ops"]),
        "seconds": row["seconds"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="data root holding the nb201/cifar10 store")
    parser.add_argument("--images", type=Path, default=None, help="cifar10_subset.npz (default: the shared one)")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated search seeds")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, of {', '.join(METHODS)}")
    parser.add_argument("--limit", type=int, default=1280, help="training images used (0: all 4,660)")
    parser.add_argument("--channels", type=int, default=8, help="supernet width C")
    parser.add_argument("--cells", type=int, default=1, help="cells per stage N")
    parser.add_argument("--epochs", type=int, default=4, help="search epochs (every method)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--arch-lr", type=float, default=1e-2, help="DARTS / zero-order architecture lr")
    parser.add_argument("--directions", type=int, default=2, help="zero-order directions per step")
    parser.add_argument("--inner-steps", type=int, default=1, help="zero-order inner weight steps")
    parser.add_argument("--controller-lr", type=float, default=3.5e-3, help="ENAS controller lr")
    parser.add_argument("--controller-steps", type=int, default=10, help="ENAS controller updates per epoch")
    parser.add_argument("--controller-aggregate", type=int, default=5, help="ENAS cells per controller update")
    parser.add_argument("--derive-samples", type=int, default=10, help="ENAS cells the derived one is chosen from")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--out", type=Path, default=None, help="JSONL file of the derived cells (written at the end)")
    parser.add_argument("--summarise", type=Path, nargs="+", help="only print the table of these --out files")
    args = parser.parse_args(argv)
    if args.summarise:
        try:
            records, bench = read_records(args.summarise), pb.load("nb201/cifar10", root=args.root)
        except (OSError, ValueError, PredictBenchError) as err:
            parser.error(str(err))
        summarise(records, bench)
        return
    try:
        seeds = [int(v) for v in args.seeds.split(",") if v.strip()]
    except ValueError:
        parser.error(f"--seeds must be comma-separated ints, got {args.seeds!r}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        parser.error(f"--methods: unknown {', '.join(unknown) or 'none given'}; known: {', '.join(METHODS)}")
    if not seeds:
        parser.error("--seeds: give at least one seed")
    torch.set_num_threads(args.threads)
    try:  # every usage error before the first search
        limit = args.limit or None
        data = {seed: cifar10(seed=seed, limit=limit, path=args.images) for seed in seeds}
        check_settings(args)
        bench = pb.load("nb201/cifar10", root=args.root)
    except (FileNotFoundError, ValueError, PredictBenchError) as err:
        parser.error(str(err))
    space = bench.space
    assert isinstance(space, NB201Space)
    report = bench.report_metric
    print(
        f"predictbench {pb.__version__}, torch {torch.__version__} on {args.device} ({args.threads} thread); "
        f"{data[seeds[0]]!r} per seed; C={args.channels} N={args.cells} batch {args.batch_size}, "
        f"{args.epochs} epochs; DARTS/zero-order arch lr {args.arch_lr}, zero-order {args.directions} directions "
        f"{args.inner_steps} inner step(s); ENAS controller lr {args.controller_lr}, {args.controller_steps} x "
        f"{args.controller_aggregate} cells per epoch, best of {args.derive_samples}; "
        f"truth {report.metric}@{report.fidelity} of {bench.name}"
    )
    settings = {k: getattr(args, k) for k in SETTINGS}
    print_header()
    records = []
    for seed in seeds:
        for method in methods:
            for row in run_method(method, data[seed], seed, args):
                records.append({**describe(row, bench, space), "settings": settings})
                print_row(records[-1])
    if args.out is not None:
        atomic_write_text(args.out, "".join(json.dumps(r) + "\n" for r in records))
        print(f"records: {args.out}")
    print_summary(records, bench, space)


def print_header() -> None:
    print(f"{'method':12s} {'seed':>4s} {'index':>6s} {'acc':>6s} {'free':>4s} {'pool':>4s} {'wall s':>7s} "
          f"{'cpu s':>7s}  cell")  # fmt: skip


def print_row(record: dict[str, Any]) -> None:
    wall, cpu = record["seconds"]
    print(
        f"{record['method']:12s} {record['seed']:4d} {record['index']:6d} {record['accuracy']:6.2f} "
        f"{record['parameter_free_edges']:4d} {record['avg_pool_edges']:4d} {wall:7.1f} {cpu:7.1f}  {record['arch']}",
        flush=True,
    )


def print_summary(records: list[dict[str, Any]], bench: Any, space: NB201Space) -> None:
    """Mean ± std per method, the collapse count, and the anchors (published DARTS-V1, the space's mean)."""
    report = bench.report_metric
    print(
        "\nsummary (free = none + skip_connect edges of 6; collapsed = a cell with >= 5 of them; "
        "with pool = >= 5 none, skip_connect or avg_pool_3x3 edges)"
    )
    for method in dict.fromkeys(r["method"] for r in records):
        rows = [r for r in records if r["method"] == method]
        acc = np.array([r["accuracy"] for r in rows])
        free = np.array([r["parameter_free_edges"] for r in rows])
        pool = np.array([r["avg_pool_edges"] for r in rows])
        wall, cpu = np.mean([r["seconds"] for r in rows], axis=0)
        print(
            f"{method:12s} acc {acc.mean():6.2f} ± {acc.std():5.2f} over {len(rows)} seeds; free edges "
            f"{free.mean():.1f} ± {free.std():.1f} (avg_pool {pool.mean():.1f}); collapsed "
            f"{int((free >= 5).sum())}/{len(rows)} (with pool {int((free + pool >= 5).sum())}); "
            f"wall s per run {wall:.0f} (cpu {cpu:.0f})"
        )
    all_skip = float(bench.lookup([space.from_ops(["skip_connect"] * 6)], report.metric, fidelity=report.fidelity)[0])
    every = bench.lookup(space.from_index(np.arange(len(space))), report.metric, fidelity=report.fidelity)
    print(
        f"published DARTS-V1 on NB201 CIFAR-10: {PUBLISHED_DARTS_V1:.2f} (all skip_connect; in {bench.name}: "
        f"{all_skip:.2f}); mean over the space {float(np.mean(every)):.2f}, best {float(np.max(every)):.2f}"
    )


def read_records(paths: list[Path]) -> list[dict[str, Any]]:
    """The records written by earlier runs (``--out``), e.g. one file per seed."""
    records = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not a JSON record ({err.msg})") from None
    if not records:
        raise ValueError(f"no records in {', '.join(map(str, paths))}")
    return records


def summarise(records: list[dict[str, Any]], bench: Any) -> None:
    """Print the table and summary of earlier runs' records."""
    space = bench.space
    assert isinstance(space, NB201Space)
    for settings in dict.fromkeys(json.dumps(r.get("settings"), sort_keys=True) for r in records):
        print(f"settings: {settings}")
    print_header()
    for record in records:
        print_row(record)
    print_summary(records, bench, space)


if __name__ == "__main__":
    main()
