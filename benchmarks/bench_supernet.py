"""Supernet experiments (issue 8): an honest rank check, a search study on supernet scores, DARTS vs zero-order.

Run: ``python benchmarks/bench_supernet.py [--out reports/supernet] [--quick] [--device cuda --scale gpu]``.

1. **Honest check.** ``--check-cells`` NB201 cells drawn uniformly (distinct, ``spawn(seed, "check-cells")``) are
   trained stand-alone on scikit-learn's digits (resized to ``--size``) for ``--standalone-epochs`` epochs; their
   validation accuracy is the ground truth. Against it: Kendall tau-b and Spearman of (a) the reference supernet's
   scores (uniform single-path, BN recalibration), (b) a GCN fitted to the supernet's scores of
   ``--gcn-samples`` other sampled cells, (c) the few-shot supernet (split on edge 0, ``--sub-epochs`` per
   sub-supernet, starting from (a)'s supernet), (d) the random-label supernet's angle metric. Per seed of
   ``--check-seeds``; wall and CPU seconds of every step.
2. **Search study on supernet scores.** ``random``, ``evolution`` and ``local`` search with
   :class:`~predictbench.supernet.oracle.SupernetOracle` (seed 0's supernet; cost model: its training time once,
   then the measured scoring seconds per cell) and, for comparison, with the table's 12-epoch validation accuracy;
   both written as the usual search report (``search_report``) under ``--out``.
4. **Rank check against NB201** (``--rank-seeds``; issue 18). The same estimators trained on ``--data``
   (``cifar10``: the shared real CIFAR-10 subset, augmented) score ``--rank-cells`` NB201 cells drawn uniformly;
   Kendall tau-b and Spearman rho against the table's CIFAR-10 test accuracy at 200 epochs directly (mean over
   its seeds, and per seed): no stand-alone training (:func:`predictbench.supernet.study.rank_check`).
3. **DARTS vs zero-order.** First-order DARTS and the ZARTS-style zero-order step over ``--darts-seeds`` seeds;
   the derived cells and their CIFAR-10 200-epoch test accuracy from the NB201 tables (NB201 publishes DARTS-V1:
   54.30, the all-``skip_connect`` cell, with the full supernet on CIFAR-10).

Scale (CPU default, chosen for a 2-core machine shared with other jobs; torch uses one thread): digits at 16x16
(1,348 training / 449 validation images), supernets and stand-alone networks with C=8 channels and N=1 cell per
stage, 30 check cells trained 4 epochs each, supernets trained 20 epochs (about 5 CPU minutes for the check, 2
for the search studies). The differentiable searches run on 8x8 digits with a supernet of the benchmark's depth
(N=5) and C=8 for 8 epochs (176 architecture steps) with the architecture learning rate raised from DARTS' 3e-4 to
1e-2: with DARTS' own rate and so few steps ``alpha`` stays within 0.3% of uniform and the derived cell is decided
by noise (NB201's DARTS takes ~20,000 such steps); in trial runs a shallow N=1 supernet never drifted to
parameter-free cells, nor did a C=4 one within 8 epochs, while C=8, N=5 did. That part costs about 15 CPU
seconds per epoch for DARTS and 45 for the zero-order step (two directions, one inner step each), i.e. about 12
and 30 CPU minutes over 5 seeds; ``--skip darts``, ``--darts-epochs`` or ``--inner-steps 0`` make it cheaper.
``--scale gpu`` (with ``--device cuda``) uses the benchmark's width (C=16), N=2, 32x32 digits, 60 check cells
and longer trainings. The stores come from ``../shared/benchmarks_data`` (``nb201/cifar10``, converted into a
temporary root) or, without it, from the embedded ``nb201-analog/cifar10``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

import predictbench as pb
from predictbench.paths import atomic_write_text
from predictbench.rng import spawn
from predictbench.spaces.nb201 import NB201Space
from predictbench.supernet.darts import darts_search
from predictbench.supernet.data import ImageData, cifar10, digits
from predictbench.supernet.differentiable import DifferentiableResult, SearchConfig
from predictbench.supernet.fewshot import FewShotNB201
from predictbench.supernet.oracle import SupernetOracle
from predictbench.supernet.random_label import RandomLabelNB201
from predictbench.supernet.standalone import train_standalone
from predictbench.supernet.study import METHODS, rank_check
from predictbench.supernet.surrogate import GCNSurrogate
from predictbench.supernet.trainer import TrainConfig
from predictbench.supernet.weight_sharing import NB201WeightSharing
from predictbench.supernet.zero_order import zero_order_search

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
SEARCHERS = ("random", "evolution", "local")
T = TypeVar("T")

SCALES: dict[str, dict[str, Any]] = {
    "cpu": {
        "size": 16, "channels": 8, "cells": 1, "epochs": 20, "sub_epochs": 5, "check_cells": 30,
        "standalone_epochs": 4, "gcn_samples": 100, "calibration": 128, "budget": 30, "search_seeds": 4,
        "darts_size": 8, "darts_channels": 8, "darts_cells": 5, "darts_epochs": 8, "darts_seeds": 5, "directions": 2,
        "inner_steps": 1, "arch_lr": 1e-2, "rank_cells": 200, "rank_epochs": 10, "rank_sub_epochs": 2,
        "rank_score_images": 256,
    },
    "gpu": {
        "size": 32, "channels": 16, "cells": 2, "epochs": 60, "sub_epochs": 15, "check_cells": 60,
        "standalone_epochs": 15, "gcn_samples": 300, "calibration": 512, "budget": 100, "search_seeds": 10,
        "darts_size": 32, "darts_channels": 16, "darts_cells": 5, "darts_epochs": 50, "darts_seeds": 5,
        "directions": 4, "inner_steps": 1, "arch_lr": 3e-3, "rank_cells": 15625, "rank_epochs": 60,
        "rank_sub_epochs": 15, "rank_score_images": 1165,
    },
    "quick": {
        "size": 8, "channels": 4, "cells": 1, "epochs": 2, "sub_epochs": 1, "check_cells": 8,
        "standalone_epochs": 1, "gcn_samples": 20, "calibration": 32, "budget": 8, "search_seeds": 2,
        "darts_size": 8, "darts_channels": 4, "darts_cells": 2, "darts_epochs": 1, "darts_seeds": 2, "directions": 2,
        "inner_steps": 1, "arch_lr": 1e-2, "rank_cells": 20, "rank_epochs": 1, "rank_sub_epochs": 1,
        "rank_score_images": 64,
    },
}  # fmt: skip


@dataclass
class Timed:
    wall: float = 0.0
    cpu: float = 0.0

    def __str__(self) -> str:
        return f"{self.wall:7.1f} ({self.cpu:6.1f})"


def timed(fn: Callable[[], T]) -> tuple[T, Timed]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, Timed(time.perf_counter() - wall, time.process_time() - cpu)


def prepare(root: Path) -> str:
    """Convert the NB201 tables (or the embedded default) into ``root``; the benchmark's name."""
    if SHARED.is_dir():
        from predictbench.benchmarks.convert.nb201_tables import convert

        convert(SHARED, root=root)
        return "nb201/cifar10"
    from predictbench.benchmarks.convert.analog import convert as convert_analog

    convert_analog(root=root)
    return "nb201-analog/cifar10"


def correlations(scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    return float(kendalltau(scores, truth).statistic), float(spearmanr(scores, truth).statistic)


def honest_check(
    seed: int, data: ImageData, bench: pb.benchmarks.TabularBenchmark, s: dict[str, Any], device: str
) -> tuple[dict[str, Any], NB201WeightSharing, float]:
    """The four rank correlations on one seed; returns the rows, the reference supernet and its s/cell."""
    space = bench.space
    assert isinstance(space, NB201Space)
    cells = space.from_index(spawn(seed, "check-cells").choice(len(space), size=s["check_cells"], replace=False))
    report = bench.report_metric
    assert report is not None
    c10 = bench.lookup(cells, report.metric, fidelity=report.fidelity)
    common = {"channels": s["channels"], "cells_per_stage": s["cells"], "device": device}
    scoring = {**common, "calibration_images": s["calibration"]}
    standalone, t_standalone = timed(
        lambda: train_standalone(
            cells, data, epochs=s["standalone_epochs"], seed=seed, channels=s["channels"],
            cells_per_stage=s["cells"], config=TrainConfig(), device=device,
        )
    )  # fmt: skip
    truth = standalone.accuracy
    ws, t_ws = timed(lambda: NB201WeightSharing(**scoring).fit(space, data, epochs=s["epochs"], seed=seed))
    detail, t_a = timed(lambda: ws.path_score(cells))  # accuracy (the adapter's score) and loss in one pass
    a = np.array([d.accuracy for d in detail])
    a_loss = -np.array([d.loss for d in detail])
    gcn, t_gcn = timed(lambda: GCNSurrogate(ws, n_samples=s["gcn_samples"], refit=False).fit(space, data, seed=seed))
    b, t_b = timed(lambda: gcn.score(cells))
    few, t_few = timed(
        lambda: FewShotNB201(**scoring, split_edge=0, sub_epochs=s["sub_epochs"]).fit(
            space, data, epochs=s["epochs"], seed=seed, init_from=ws
        )
    )
    c, t_c = timed(lambda: few.score(cells))
    rl, t_rl = timed(lambda: RandomLabelNB201(**common).fit(space, data, epochs=s["epochs"], seed=seed))
    d, t_d = timed(lambda: rl.score(cells))
    rl.angle_weights = "cell"
    d_cell, t_d_cell = timed(lambda: rl.score(cells))
    rows = {
        "(a) supernet": (a, t_ws, t_a),
        "(a') supernet, minus loss": (a_loss, t_ws, t_a),
        "(b) GCN on supernet scores": (b, t_gcn, t_b),
        "(c) few-shot": (c, t_few, t_c),
        "(d) random-label angle": (d, t_rl, t_d),
        "(d') angle, cell weights only": (d_cell, t_rl, t_d_cell),
    }
    result: dict[str, Any] = {
        "seed": seed,
        "cells": len(cells),
        "standalone_accuracy": {"mean": float(truth.mean()), "min": float(truth.min()), "max": float(truth.max())},
        "standalone_vs_c10": correlations(truth, c10),
        "standalone_seconds": [t_standalone.wall, t_standalone.cpu],
        "methods": {},
        "per_cell": {
            "keys": [a.key for a in cells],
            "standalone_accuracy": truth.tolist(),
            "standalone_loss": standalone.loss.tolist(),
            **{name: values[0].tolist() for name, values in rows.items()},
        },
    }
    print(
        f"\nhonest check, seed {seed}: {len(cells)} cells; stand-alone validation accuracy "
        f"{truth.mean():.3f} (min {truth.min():.3f}, max {truth.max():.3f}); stand-alone vs NB201 CIFAR-10 "
        f"{report.metric}@{report.fidelity}: tau {result['standalone_vs_c10'][0]:+.3f}"
    )
    print("tau, rho: vs stand-alone accuracy; tau loss: vs minus the stand-alone loss; tau c10: vs NB201 CIFAR-10")
    header = f"{'method':28s} {'tau':>7s} {'rho':>7s} {'tau loss':>8s} {'tau c10':>8s}"
    print(f"{header} {'fit s (cpu)':>16s} {'score s (cpu)':>16s}")
    for name, (scores, t_fit, t_score) in rows.items():
        tau, rho = correlations(scores, truth)
        tau_loss, _ = correlations(scores, -standalone.loss)
        tau_c10, _ = correlations(scores, c10)
        result["methods"][name] = {
            "kendall_tau": tau, "spearman": rho, "kendall_tau_vs_loss": tau_loss, "kendall_tau_vs_c10": tau_c10,
            "fit_seconds": [t_fit.wall, t_fit.cpu], "score_seconds": [t_score.wall, t_score.cpu],
        }  # fmt: skip
        print(f"{name:28s} {tau:+7.3f} {rho:+7.3f} {tau_loss:+8.3f} {tau_c10:+8.3f} {t_fit!s:>16s} {t_score!s:>16s}")
    print(f"{'stand-alone training':28s} {'':7s} {'':7s} {'':8s} {'':8s} {t_standalone!s:>16s}")
    everything = space.enumerate()
    ranking, t_rank = timed(gcn.rank_space)
    c10_all = bench.lookup(everything, report.metric, fidelity=report.fidelity)
    top = int(np.argmax(ranking))
    result["gcn_rank_space"] = {
        "kendall_tau_vs_c10": correlations(ranking, c10_all)[0],
        "top_cell": everything[top].key,
        "top_cell_c10": float(c10_all[top]),
        "seconds": [t_rank.wall, t_rank.cpu],
    }
    print(
        f"GCN ranking of all {len(everything)} cells ({t_rank.wall:.1f} s): tau vs NB201 CIFAR-10 "
        f"{result['gcn_rank_space']['kendall_tau_vs_c10']:+.3f}; its top cell {everything[top].key} "
        f"has {report.metric}@{report.fidelity} {c10_all[top]:.2f}"
    )
    return result, ws, t_a.wall / len(cells)


def search_studies(
    bench: pb.benchmarks.TabularBenchmark, ws: NB201WeightSharing, per_cell: float, s: dict[str, Any], out: Path
) -> dict[str, Any]:
    from predictbench.report import search_report
    from predictbench.studies.search_study import SearchStudy

    searchers: dict[str, Any] = {name: {} for name in SEARCHERS}
    summary: dict[str, Any] = {}
    factory = functools.partial(
        SupernetOracle, adapter=ws, cost_seconds=per_cell, setup_seconds=ws.fit_seconds_, name="weight-sharing"
    )
    for label, oracle_factory in (("supernet", factory), ("table", None)):
        results = out / f"search-{label}.jsonl"
        results.unlink(missing_ok=True)
        study = SearchStudy(
            bench, searchers, results=results, budget=s["budget"], seeds=s["search_seeds"],
            name=f"search-{label}", oracle_factory=oracle_factory,
        )  # fmt: skip
        frame, t = timed(study.run)
        folder = search_report(frame, out / f"search-{label}", title=f"Search on {label} scores ({bench.name})")
        finals = frame.groupby("searcher")["final_report"].agg(["mean", "std", "count"])
        signal = frame["search_metric"].iloc[0]
        print(f"\nsearch study, signal {signal}, budget {s['budget']}, {s['search_seeds']} seeds ({t} s): "
              f"report {folder / 'README.md'}")  # fmt: skip
        for name, row in finals.iterrows():
            print(f"  {name:10s} final {frame['report_metric'].iloc[0]} {row['mean']:.2f} ± {row['std']:.2f}")
        summary[label] = {
            "signal": signal,
            "report": str(folder / "README.md"),
            "final_report": {str(k): [float(v["mean"]), float(v["std"])] for k, v in finals.iterrows()},
            "seconds": [t.wall, t.cpu],
        }
    return summary


def differentiable(
    bench: pb.benchmarks.TabularBenchmark, s: dict[str, Any], device: str, methods: list[str], seeds: list[int]
) -> dict[str, Any]:
    data = digits(s["darts_size"], seed=0)
    config = SearchConfig(
        channels=s["darts_channels"], cells_per_stage=s["darts_cells"], arch_lr=s["arch_lr"], device=device
    )
    report = bench.report_metric
    assert report is not None
    space = bench.space
    assert isinstance(space, NB201Space)
    runs: list[tuple[DifferentiableResult, Timed]] = []
    for seed in seeds:
        if "darts" in methods:
            runs.append(timed(lambda seed=seed: darts_search(data, epochs=s["darts_epochs"], seed=seed, config=config)))
        if "zero-order" not in methods:
            continue
        runs.append(
            timed(
                lambda seed=seed: zero_order_search(
                    data, epochs=s["darts_epochs"], seed=seed, directions=s["directions"],
                    inner_steps=s["inner_steps"], config=config,
                )
            )
        )  # fmt: skip
    print(
        f"\nDARTS (first order) vs zero-order ({s['directions']} directions, {s['inner_steps']} inner step): "
        f"digits {s['darts_size']}x{s['darts_size']}, C={s['darts_channels']} N={s['darts_cells']}, "
        f"{s['darts_epochs']} epochs, architecture lr {s['arch_lr']}; "
        f"{report.metric}@{report.fidelity} of the derived cell in {bench.name}"
    )
    print(f"{'method':11s} {'seed':>4s} {'index':>6s} {'acc':>6s} {'free':>4s} {'s (cpu)':>16s}  cell")
    rows = []
    parameter_free = {"none", "skip_connect", "avg_pool_3x3"}
    for result, t in runs:
        accuracy = float(bench.lookup([result.arch], report.metric, fidelity=report.fidelity)[0])
        free = sum(op in parameter_free for op in result.ops)
        index = space.index(result.arch)
        rows.append({"method": result.method, "seed": result.seed, "arch": result.arch.key, "index": index,
                     "accuracy": accuracy, "parameter_free_edges": free, "seconds": [t.wall, t.cpu],
                     "epoch_indices": [space.index(a) for a in result.epoch_archs]})  # fmt: skip
        print(
            f"{result.method:11s} {result.seed:4d} {index:6d} {accuracy:6.2f} {free:4d} {t!s:>16s}  {result.arch.key}"
        )
    summary: dict[str, Any] = {"runs": rows}
    for method in methods:
        values = np.array([r["accuracy"] for r in rows if r["method"] == method])
        summary[method] = [float(values.mean()), float(values.std())]
        print(f"{method:11s} mean {values.mean():.2f} ± {values.std():.2f} over {len(values)} seeds")
    all_skip = space.from_ops(["skip_connect"] * 6)
    published = float(bench.lookup([all_skip], report.metric, fidelity=report.fidelity)[0])
    print(f"published DARTS-V1 on CIFAR-10 (full supernet): 54.30; the all-skip cell in {bench.name}: {published:.2f}")
    return summary


def rank_checks(bench: pb.benchmarks.TabularBenchmark, args: argparse.Namespace, s: dict[str, Any]) -> list[Any]:
    """Part 4: the estimators against the table's report metric, one supernet training per seed."""
    out = []
    for seed in [int(v) for v in args.rank_seeds.split(",") if v.strip()]:
        data = make_data(args, s, seed)
        result = rank_check(
            bench, data, n_cells=s["rank_cells"], epochs=s["rank_epochs"], sub_epochs=s["rank_sub_epochs"],
            gcn_samples=s["gcn_samples"], seed=seed, channels=s["channels"], cells_per_stage=s["cells"],
            calibration_images=s["calibration"], score_images=s["rank_score_images"], device=args.device,
        )  # fmt: skip
        truth = result["truth"]
        print(
            f"\nrank check, seed {seed}: {len(result['cells'])} NB201 cells, {data!r}, C={s['channels']} "
            f"N={s['cells']}, {s['rank_epochs']} epochs (few-shot +{s['rank_sub_epochs']} per sub-supernet); "
            f"truth {truth['metric']}@{truth['fidelity']} of {bench.name} "
            f"({'seeds ' + str(truth['table_seeds']) if truth['table_seeds'] else 'the table holds means over seeds'})"
        )
        print(f"{'method':24s} {'tau':>7s} {'rho':>7s} {'tau per table seed':>24s} {'fit s':>8s} {'score s':>8s}")
        for name in METHODS:
            m = result["methods"][name]
            per = " ".join(f"{v:+.3f}" for v in m["kendall_tau_per_table_seed"].values())
            print(
                f"{name:24s} {m['kendall_tau']:+7.3f} {m['spearman']:+7.3f} {per:>24s} "
                f"{m['fit_seconds']:8.1f} {m['score_seconds']:8.1f}"
            )
        out.append(result)
    return out


def make_data(args: argparse.Namespace, s: dict[str, Any], seed: int = 0) -> ImageData:
    """The image task of ``--data``: digits at ``--size`` or the shared CIFAR-10 subset (``--images``)."""
    if args.data == "cifar10":
        return cifar10(seed=seed, path=args.images)
    return digits(s["size"], seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu", help="preset sizes (see the docstring)")
    parser.add_argument("--quick", action="store_true", help="same as --scale quick (a smoke run)")
    parser.add_argument("--check-seeds", default="0", help="seeds of the honest check, comma-separated")
    parser.add_argument("--out", type=Path, help="folder for reports and summary.json (default: a temp folder)")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: check, search, darts")
    parser.add_argument(
        "--data",
        choices=("digits", "cifar10"),
        default="digits",
        help="image task: scikit-learn digits at --size, or the shared real CIFAR-10 subset",
    )
    parser.add_argument(
        "--images",
        type=Path,
        help="cifar10_subset.npz to read (default: $PREDICTBENCH_IMAGES or "
        "the shared benchmarks_data/images/cifar10_subset.npz)",
    )
    parser.add_argument(
        "--rank-seeds",
        default="",
        help="seeds of the rank check against NB201 (part 4; default: not run), comma-separated",
    )
    parser.add_argument("--darts-methods", default="darts,zero-order", help="differentiable methods to run")
    parser.add_argument("--darts-seed-list", help="comma-separated seeds of the differentiable searches (default: "
                        "0 .. darts_seeds - 1)")  # fmt: skip
    for key, value in SCALES["cpu"].items():
        parser.add_argument(f"--{key.replace('_', '-')}", type=type(value), help=f"override the preset ({value})")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    s = dict(SCALES["quick" if args.quick else args.scale])
    s.update({k: getattr(args, k) for k in s if getattr(args, k) is not None})
    skip = {p.strip() for p in args.skip.split(",") if p.strip()}
    seeds = [int(v) for v in args.check_seeds.split(",") if v.strip()]
    try:  # before anything is converted or written
        data = make_data(args, s)
    except (FileNotFoundError, ValueError) as err:
        parser.error(f"--data {args.data}: {err}")
    with tempfile.TemporaryDirectory(prefix="predictbench-supernet-") as tmp:
        out = args.out or Path(tmp) / "reports"
        out.mkdir(parents=True, exist_ok=True)
        name, t_convert = timed(lambda: prepare(Path(tmp) / "data"))
        bench = pb.load(name, root=Path(tmp) / "data")
        print(f"predictbench {pb.__version__}, torch {torch.__version__} on {args.device} ({args.threads} thread); "
              f"{name} (converted in {t_convert.wall:.1f} s); {data!r}")  # fmt: skip
        print("settings: " + ", ".join(f"{k}={v}" for k, v in s.items()))
        summary: dict[str, Any] = {"settings": s, "benchmark": name, "data": repr(data), "device": args.device}
        ws, per_cell = None, 0.0
        if "check" not in skip or "search" not in skip:
            checks = []
            for seed in seeds:
                result, supernet, seconds = honest_check(seed, data, bench, s, args.device)
                checks.append(result)
                if ws is None:
                    ws, per_cell = supernet, seconds
            summary["honest_check"] = checks
        if "search" not in skip and ws is not None:
            summary["search"] = search_studies(bench, ws, per_cell, s, out)
        if args.rank_seeds:
            summary["rank_check"] = rank_checks(bench, args, s)
        if "darts" not in skip:
            methods = [m.strip() for m in args.darts_methods.split(",") if m.strip()]
            unknown = set(methods) - {"darts", "zero-order"}
            if unknown:
                raise SystemExit(f"unknown --darts-methods {sorted(unknown)}; known: darts, zero-order")
            darts_seeds = list(range(s["darts_seeds"]))
            if args.darts_seed_list:
                darts_seeds = [int(v) for v in args.darts_seed_list.split(",") if v.strip()]
            summary["differentiable"] = differentiable(bench, s, args.device, methods, darts_seeds)
        atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=float))
        print(f"\nsummary: {out / 'summary.json'}")


if __name__ == "__main__":
    main()
