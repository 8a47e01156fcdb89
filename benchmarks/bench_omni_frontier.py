"""omni with the 2023-25 training-free proxies on NB201 (issue 15): PredictorStudy tables, with and without them.

Run::

    python benchmarks/bench_omni_frontier.py --root R [--datasets cifar10,cifar100,imagenet16-120]
        [--seeds 0-19] [--sizes 14,42,121,347,1000] [--results DIR]

after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root R`` (the converter fills the
shipped proxy tables, ``predictbench/proxies/tables``, into ``<proxy>_live`` columns).

Protocol: PredictorStudy, 200 uniform test cells, target ``test_acc`` at 200 epochs, training sizes ``--sizes``,
mean Kendall tau over ``--seeds`` (report seeds 0-19; the settings were chosen on seeds 100-104). It runs on the
cells the dataset's shipped table covers: every cell once the table is complete; while it is not (the cifar10
table grows across sessions; cifar100 and ImageNet16-120 hold the classes of a 2,000-cell sample), on a store
made of the covered cells only (written under ``--results``), so ranks, splits and training sets are all among
them. The printed header says which. Rows:

- ``omni``: the default with every proxy column of the store (what ``proxies="all"`` takes on the complete
  store): the 2023-25 proxies, their ``zero_shot`` column and the prior toward it, Suite-Zero where the store
  has it;
- ``omni-2022``: the former default, Suite-Zero and zen only (``zero_shot=None``, prior toward jacov, nwot,
  synflow where present);
- ``zero-shot``: the label-free ensemble (no training labels read).

Results go to one resumable JSON-lines file per dataset; a rerun skips finished cells.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_every_store import parse_seeds  # "0-19" -> seeds

import predictbench as pb
from predictbench.benchmarks import TabularBenchmark
from predictbench.benchmarks.store import write_store
from predictbench.predictors import make_predictor
from predictbench.studies import PredictorStudy

TEST_SIZE = 200


def covered_store(bench: TabularBenchmark, folder: Path) -> tuple[TabularBenchmark, str]:
    """The store itself when its ``_live`` columns cover every cell, else a store of the covered cells only."""
    live = [name for name in bench.proxy_names if name.endswith("_live")]
    if not live:
        raise SystemExit(f"{bench.name}: no shipped 2023-25 proxies (<proxy>_live columns); convert again")
    values = bench.proxies(bench.keys(), live, fill=False)
    covered = ~np.isnan(values).all(axis=1)
    if covered.all():
        return bench, f"all {len(bench)} cells"
    store = bench._store
    keys = set(bench.keys()[covered])
    archs = store.archs[store.archs["key"].isin(keys)]
    results = store.results[store.results["key"].isin(keys)]
    proxies = store.proxies[store.proxies["key"].isin(keys)] if store.proxies is not None else None
    path = write_store(folder / "covered", store.meta, archs, results, proxies)
    return TabularBenchmark.from_path(path), f"the {int(covered.sum())} of {len(bench)} cells the shipped table covers"


def predictors(bench: TabularBenchmark) -> dict[str, pb.predictors.base.Predictor]:
    before = [name for name in bench.proxy_names if not name.endswith("_live")]
    live = [name for name in bench.proxy_names if name.endswith("_live")]
    return {  # proxies named: on a store of covered cells "all" would drop the Suite-Zero columns (< 50 % there)
        "omni": make_predictor("omni", proxies=before + live),
        "omni-2022": make_predictor("omni", proxies=before or None, zero_shot=None),
        "zero-shot": make_predictor("zero-shot"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="data root holding nb201/<dataset>")
    parser.add_argument("--datasets", default="cifar10,cifar100,imagenet16-120")
    parser.add_argument("--seeds", default="0-19")
    parser.add_argument("--sizes", default="14,42,121,347,1000")
    parser.add_argument("--results", type=Path, default=None, help="default: <root>/bench_omni_frontier")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    logging.basicConfig(level=logging.WARNING)
    seeds, sizes = parse_seeds(args.seeds), [int(s) for s in args.sizes.split(",")]
    results = args.results or args.root / "bench_omni_frontier"
    for dataset in args.datasets.split(","):
        folder = results / dataset
        folder.mkdir(parents=True, exist_ok=True)
        bench, cells = covered_store(pb.load(f"nb201/{dataset}", root=args.root), folder)
        models = predictors(bench)
        study = PredictorStudy(
            bench,
            models,
            results=folder / "records.jsonl",
            train_sizes=[s for s in sizes if s <= len(bench) - TEST_SIZE],
            test_size=TEST_SIZE,
            seeds=seeds,
            name="bench-omni-frontier",
        )
        started = time.process_time()
        records = study.run()
        records = records[records["seed"].isin(seeds)]
        table = records.pivot_table(index="predictor", columns="train_size", values="kendall_tau", aggfunc="mean")
        counts = records.groupby("predictor")["seed"].nunique()
        print(f"\nnb201/{dataset}: {cells}; test_acc@200, {TEST_SIZE} test cells, seeds {args.seeds} "
              f"({counts.min()}-{counts.max()} per predictor), mean Kendall tau "
              f"({time.process_time() - started:.0f} CPU-s this call)")  # fmt: skip
        print(table.reindex(list(models)).round(3).to_string())
        omni: Any = models["omni"].fit(bench.batch(bench.keys()[:20]), bench.lookup(bench.keys()[:20], "test_acc"))
        print(f"omni's proxies: {omni.params_used_['proxies']}; zero_shot column: {omni.params_used_['zero_shot']}")


if __name__ == "__main__":
    main()
