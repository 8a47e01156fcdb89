"""GRAF neural graph features: encoding time, agreement with the reference table, and what they do for LightGBM.

Run: ``python benchmarks/bench_graf.py [--root DIR] [--seeds 5] [--skip-nb101]`` (about 5 CPU-minutes on 2 cores,
one of them for the NB101 cell table the first time). It

1. times the ``graf`` features of all 15,625 NB201 cells (from the cells, and through ``encode`` from keys);
2. times them for all 423,624 NB101 cells from the padded arrays of the cell table (enumerated and cached in
   ``--root`` the first time, about a minute on 2 cores; ``--skip-nb101`` skips it) and for all 26,206
   NAS-Bench-Graph architectures;
3. with ../shared/benchmarks_data: compares every column with ``zc/nb201_graf_features_reference.parquet``
   (exactly equal cells per feature group) and runs a PredictorStudy on nb201/cifar10 (converted into
   ``--root``): ``lgbm`` on ``onehot`` and on ``graf``, n = 14 / 42 / 121 / 347 / 1000, 200 test cells,
   ``--seeds`` seeds (mean Kendall tau and Spearman rho on the test cells), plus the reference table's own check:
   a random forest (``rf``) on ``graf`` from 1,024 cells, ranking all other 14,601 cells, 3 seeds.

Timings are wall-clock medians of ``--repeats`` runs on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
SIZES = (14, 42, 121, 347, 1000)
GROUPS = ("op_count", "min_path_len", "max_op_on_path", "node_degree")


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_encodings(repeats: int, nb101: bool) -> None:
    from predictbench import graf
    from predictbench.encodings import encode
    from predictbench.spaces import get_space

    nb201 = get_space("nb201")
    archs = nb201.enumerate()
    keys = [a.key for a in archs]
    width = len(graf.feature_names(nb201))
    print(f"nb201: {len(archs):,} cells x {width} features")
    print(f"  graf_features(all cells)       {median_seconds(lambda: graf.graf_features(nb201, archs), repeats):.3f} s")
    print(f"  encode(keys, 'graf') (float32) {median_seconds(lambda: encode(nb201, keys, 'graf'), repeats):.3f} s")

    nbgraph = get_space("nbgraph")
    graph_archs = nbgraph.enumerate()
    seconds = median_seconds(lambda: graf.graf_features(nbgraph, graph_archs), repeats)
    print(f"nbgraph: {len(graph_archs):,} archs x {len(graf.feature_names(nbgraph))} features: {seconds:.3f} s")

    if not nb101:
        return
    from predictbench.spaces import nb101 as nb101_module

    started = time.perf_counter()
    table = nb101_module.cell_table()
    print(f"nb101 cell table ready in {time.perf_counter() - started:.1f} s ({len(table):,} cells)")
    started = time.perf_counter()
    adjacency, nodes = table.arrays()
    print(f"  padded arrays of all cells     {time.perf_counter() - started:.3f} s")
    layout = graf.layout_of("nb101")
    seconds = median_seconds(lambda: graf.graf_from_graphs(nodes, adjacency, layout), repeats)
    print(f"  graf_from_graphs(all cells)    {seconds:.3f} s ({len(graf.feature_names('nb101'))} features)")


def compare_reference(root: Path) -> None:
    import predictbench as pb
    from predictbench import graf

    reference = pd.read_parquet(SHARED / "zc" / "nb201_graf_features_reference.parquet")
    bench = pb.load("nb201/cifar10", root=root)
    x = bench.batch(reference["arch_str"].tolist()).features("graf")
    names = graf.feature_names("nb201")
    print(f"reference: {len(reference):,} cells; column names identical: {names == list(reference.columns[2:])}")
    for group in GROUPS:
        columns = [i for i, name in enumerate(names) if name.startswith(graf.PREFIX + group)]
        expected = reference[[names[i] for i in columns]].to_numpy(dtype=np.float32)
        same_columns = int((x[:, columns] == expected).all(axis=0).sum())
        same_cells = int((x[:, columns] == expected).all(axis=1).sum())
        print(f"  {group:15s} {same_columns}/{len(columns)} columns equal for all cells; {same_cells:,} cells equal")


def predictor_check(root: Path, seeds: int) -> None:
    import predictbench as pb
    from predictbench.predictors.baselines import RandomForestPredictor
    from predictbench.predictors.gbdt import LGBMPredictor
    from predictbench.studies.predictor_study import PredictorStudy

    bench = pb.load("nb201/cifar10", root=root)
    results = root / "graf_study.jsonl"
    study = PredictorStudy(
        bench,
        {"lgbm-onehot": LGBMPredictor(encoding="onehot"), "lgbm-graf": LGBMPredictor(encoding="graf")},
        results=results,
        train_sizes=SIZES,
        test_size=200,
        seeds=seeds,
        name="graf-lgbm",
    )
    started = time.perf_counter()
    frame = study.run()
    print(f"PredictorStudy nb201/cifar10, 200 test cells, {seeds} seeds ({time.perf_counter() - started:.0f} s):")
    for metric in ("kendall_tau", "spearman"):
        table = frame.pivot_table(index="predictor", columns="train_size", values=metric)
        print(f"mean {metric}:\n{table.to_string(float_format='{:.3f}'.format)}")

    rest = len(bench) - 1024
    started = time.perf_counter()
    reference_setup = PredictorStudy(
        bench,
        {"rf-graf": RandomForestPredictor(encoding="graf")},
        results=results,
        train_sizes=(1024,),
        test_size=rest,
        seeds=3,
        name="graf-rf-reference",
    ).run()
    means = reference_setup[["kendall_tau", "spearman"]].mean()
    print(
        f"rf on graf, 1,024 training cells, tested on the other {rest:,} ({time.perf_counter() - started:.0f} s): "
        f"Kendall {means['kendall_tau']:.3f}, Spearman {means['spearman']:.3f} "
        "(reference table README: Kendall .836, Spearman .959)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="data folder (default: a temporary one)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-nb101", action="store_true", help="do not build/read the NB101 cell table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or Path(tmp)
        os.environ["PREDICTBENCH_DATA"] = str(root)  # the NB101 cell table is cached there
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; data root {root}")
        time_encodings(args.repeats, nb101=not args.skip_nb101)
        if not SHARED.is_dir():
            print(f"no shared data at {SHARED}: reference check and predictor study skipped")
            return
        if not (root / "nb201" / "cifar10" / "meta.json").is_file():
            from predictbench.benchmarks.convert.nb201_tables import convert

            convert(SHARED, root=root, datasets=("cifar10",))
        compare_reference(root)
        predictor_check(root, args.seeds)


if __name__ == "__main__":
    main()
