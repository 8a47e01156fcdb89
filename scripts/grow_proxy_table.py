"""Grow the shipped table of the 2023-25 proxies of an NB201 dataset, one resumable chunk at a time.

Usage (after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root R``)::

    python scripts/grow_proxy_table.py --root R --task cifar10 --chunk 100 --jobs 2 --minutes 120

Each chunk computes the next ``--chunk`` equivalence classes (NB201 ``function`` classes, 4,930 in all)
with ``predictbench proxies compute`` semantics (``compute_store_proxies(..., per_class="function")`` into
the store under ``R``, resumable inside a chunk), then writes the finished classes into
``predictbench/proxies/tables/nb201-<task>.{parquet,json}`` (atomically). Classes are taken in a seeded
uniformly random order, so the classes done at any time are a uniform sample of the classes (and every
cell is covered with the same probability). ``--cells N`` computes only the classes of a uniform sample of N
cells instead (the sample ``proxies compute --sample N --sample-seed 0`` draws; every member of those classes
gets the values, so the table covers at least those N cells). Stop it at any time: the next run continues where
the table ends. Commit the two table files as they grow.

The table's settings are fixed here (:data:`SETTINGS`) and recorded in its provenance; a table written with
other settings is refused rather than mixed.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.proxies.shipped import TABLE_PROXIES

PROXIES = TABLE_PROXIES
SETTINGS = {"batch_size": 32, "seed": 0, "swap_repeats": 8, "per_class": "function"}
"""batch 32 (VKDNW's NB201 batch; halves AZ-NAS / VKDNW / jacob_cov time against 64), 8 SWAP draws (the
paper's 32 cost 3.9 s per cell on this CPU)."""
ORDER_LABEL = "proxy-table-order"
SAMPLE_LABEL = "proxies-sample"
"""The label of ``proxies compute --sample``'s draw: ``--cells N`` takes the classes of the same cells."""


def main() -> None:
    from predictbench.benchmarks import load
    from predictbench.proxies.compute import compute_store_proxies
    from predictbench.proxies.shipped import TABLES, read_shipped, write_shipped
    from predictbench.rng import spawn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="data folder holding nb201/<task>")
    parser.add_argument("--task", default="cifar10", choices=["cifar10", "cifar100", "imagenet16-120"])
    parser.add_argument("--chunk", type=int, default=100, help="classes per chunk")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=60.0, help="start no chunk after this many minutes")
    parser.add_argument("--tables", type=Path, default=TABLES, help="where the table lives (default: the package)")
    parser.add_argument(
        "--cells",
        type=int,
        default=None,
        help="only the classes of a uniform sample of this many cells (the sample of `proxies compute --sample N "
        "--sample-seed 0`); default: every class",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated proxies to leave out of the table (e.g. vkdnw_entropy,vkdnw_dim on cifar100, where "
        "VKDNW's one backward pass per output class costs 12-18 CPU-s per cell)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    log = logging.getLogger("grow")

    skip = {"zico"} if args.task != "cifar10" else set()  # zico needs labels: CIFAR-10's images only
    skip |= {name for name in args.skip.split(",") if name}
    unknown = skip - set(PROXIES)
    if unknown:
        sys.exit(f"--skip names proxies the table does not hold: {sorted(unknown)} (it holds {', '.join(PROXIES)})")
    proxies = tuple(p for p in PROXIES if p not in skip)
    bench = load(f"nb201/{args.task}", root=args.root)
    space = bench.space
    canonical = space.canonical_index(SETTINGS["per_class"])
    reps = np.unique(canonical)
    if args.cells is None:
        order = reps[spawn(SETTINGS["seed"], ORDER_LABEL).permutation(len(reps))]
    else:
        if not 1 <= args.cells <= len(canonical):
            sys.exit(f"--cells must be in 1..{len(canonical)}, got {args.cells}")
        keys = bench.keys()
        sampled = keys[spawn(SETTINGS["seed"], SAMPLE_LABEL).permutation(len(keys))[: args.cells]]
        classes = canonical[space.index_of(sampled)]
        order = np.asarray(list(dict.fromkeys(int(c) for c in classes)))
    if args.cells is None:
        sample = ""
        order_text = f"classes in spawn({SETTINGS['seed']}, {ORDER_LABEL!r}).permutation order (uniform sample)"
    else:
        sample = f" --cells {args.cells}"
        order_text = (
            f"the {len(order)} classes of a uniform sample of {args.cells} cells (spawn({SETTINGS['seed']}, "
            f"{SAMPLE_LABEL!r}).permutation of the store's keys), in the sample's order"
        )
    if args.skip:
        sample += f" --skip {args.skip}"
    started = time.monotonic()
    while time.monotonic() - started < args.minutes * 60:
        table = read_shipped("nb201", args.task, args.tables)
        done = set() if table is None else set(table.values["index"].tolist())
        if table is not None:
            recorded = {k: getattr(table.settings, k) for k in SETTINGS}
            if recorded != SETTINGS or tuple(table.proxies) != proxies:
                sys.exit(f"{args.tables}: the table was computed with {recorded} / {table.proxies}; not mixing")
        todo = [int(i) for i in order if int(i) not in done][: args.chunk]
        if not todo:
            log.info("all %d classes done", len(order))
            break
        keys = [a.key for a in space.from_index(todo)]
        report = compute_store_proxies(
            f"nb201/{args.task}",
            proxies,
            root=args.root,
            keys=keys,
            jobs=args.jobs,
            threads=1,
            batch_size=SETTINGS["batch_size"],
            seed=SETTINGS["seed"],
            swap_repeats=SETTINGS["swap_repeats"],
            per_class=SETTINGS["per_class"],
        )
        store = load(f"nb201/{args.task}", root=args.root)
        values = store.proxies(keys, [f"{p}_live" for p in proxies], fill=False)
        chunk = pd.DataFrame({"index": todo, **{p: values[:, j] for j, p in enumerate(proxies)}})
        if chunk[list(proxies)].isna().all(axis=1).any():
            sys.exit("a chunk's class came back without any value; not writing it")
        old = table.values if table is not None else chunk.iloc[:0]
        seconds = dict(table.provenance.get("seconds", {})) if table is not None else {}
        total = float(seconds.get("total", 0.0)) + report.seconds_per_arch * report.computed
        n_done = len(old) + len(chunk)
        per_proxy_old = seconds.get("per_proxy", {})
        per_proxy = {
            p: (per_proxy_old.get(p, 0.0) * len(old) + report.seconds_per_proxy.get(p, 0.0) * len(chunk)) / n_done
            for p in proxies
        }
        assert report.settings is not None
        provenance = {
            "what": f"2023-25 training-free proxies of NB201 {args.task}, one value per function class",
            "command": f"python scripts/grow_proxy_table.py --root R --task {args.task}{sample} --chunk N --jobs J",
            "reproduce": (
                f"predictbench proxies compute nb201/{args.task} -p {','.join(proxies)} "
                f"--batch-size {SETTINGS['batch_size']} --seed {SETTINGS['seed']} "
                f"--swap-repeats {SETTINGS['swap_repeats']} --per-class {SETTINGS['per_class']} --threads 1"
                + (f" --sample {args.cells} --sample-seed {SETTINGS['seed']}" if args.cells else "")
            ),
            "settings": {**vars(report.settings), "proxies": list(proxies)},
            "order": order_text,
            "classes_total": len(reps),
            "classes_planned": len(order),
            "versions": {
                "predictbench": version("predictbench"),
                "torch": version("torch"),
                "numpy": version("numpy"),
                "python": platform.python_version(),
            },
            "machine": f"{platform.machine()} CPU, one torch thread per process",
            "seconds": {"total": total, "per_class": total / n_done, "per_proxy": per_proxy},
            "updated": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        }
        write_shipped("nb201", args.task, pd.concat([old, chunk], ignore_index=True), provenance, args.tables)
        log.info("%s: %d / %d classes (%.2f s per class)", args.task, n_done, len(order), report.seconds_per_arch)


if __name__ == "__main__":
    main()
