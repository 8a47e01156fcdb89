"""RoBoT on NAS-Bench-201: the figures of the closing note, from the shared tables.

Run: ``python benchmarks/bench_robot.py [--seeds 10] [--budget 20] [--sampler auto] [--root DIR]``. Without
``--root`` the three NB201 stores are converted from ../shared/benchmarks_data into a temporary folder.

1. RoBoT (``RoBoTSearch`` defaults: RoBoT's six proxies, min-max, T - 1 = 19 BO trials, GP sampler) at T = 20
   over ``--seeds`` seeds; final choice = the queried cell with the best search metric; mean +- std (numpy's
   population std, as RoBoT's code prints) of the 200-epoch test accuracy of that cell on each dataset, for
   three settings: RoBoT's own (CIFAR-10 proxies and CIFAR-10's 12-epoch validation signal, whatever the
   dataset reported), each dataset's own validation signal (CIFAR-100 has no Suite-Zero proxies, so it keeps
   CIFAR-10's; ImageNet16-120 uses its own), and ImageNet16-120's proxies with CIFAR-10's signal.
2. Beyond RoBoT: ``RoBoTPlusSearch`` (``robot-plus``) and its prior-only ablation against the budget T; the
   smallest T whose mean CIFAR-10 result reaches 94.30; the same settings on CIFAR-100 and ImageNet16-120
   (own signal), which were not used to design the variant.
3. Spearman correlation with CIFAR-10 200-epoch test accuracy of every single proxy, of RoBoT's weighted score
   (the best weights of each seed's run) and of equal-weight rank ensembles.

Seeds follow SearchStudy: searcher and oracle seeds are ``spawn(seed, "searcher-seed" / "oracle-seed")``.
Nothing here selects by test accuracy: test accuracy is only looked up for the cells the searchers chose.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import predictbench as pb
from predictbench.benchmarks import ProxyTable, TabularBenchmark
from predictbench.oracle import Oracle
from predictbench.predictors.robot import ProxyNormaliser, oriented
from predictbench.predictors.zerocost import DEFAULT_ENSEMBLE
from predictbench.rng import spawn
from predictbench.search import make_searcher, run_search
from predictbench.search.robot import RoBoTSearch
from predictbench.studies.metrics import spearman_rho

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks_data"
DATASETS = ("cifar10", "cifar100", "imagenet16-120")
SHORT = {"cifar10": "C10", "cifar100": "C100", "imagenet16-120": "IN16"}
PUBLISHED = {"cifar10": "94.36+-0.00", "cifar100": "73.51+-0.00", "imagenet16-120": "46.34+-0.00"}
PUBLISHED_SPEARMAN = {"synflow": 0.737, "jacov": 0.731, "snip": 0.596, "grad_norm": 0.594, "grasp": 0.514}
PUBLISHED_SPEARMAN["fisher"] = 0.360
TARGET = 94.30


def load_stores(root: Path | None) -> dict[str, TabularBenchmark]:
    if root is None:
        from predictbench.benchmarks.convert.nb201_tables import convert

        if not SHARED.is_dir():
            raise SystemExit(f"shared NB201 tables not found at {SHARED}; pass --root with converted nb201 stores")
        root = Path(tempfile.mkdtemp(prefix="bench-robot-"))
        convert(SHARED, root=root)
    return {ds: pb.load(f"nb201/{ds}", root=root) for ds in DATASETS}


def seeds_of(seed: int) -> tuple[int, int]:
    """(searcher seed, oracle seed) of run ``seed``, as SearchStudy derives them."""
    return int(spawn(seed, "searcher-seed").integers(2**31)), int(spawn(seed, "oracle-seed").integers(2**31))


def run(
    name: str,
    target: TabularBenchmark,
    options: dict[str, Any],
    *,
    budget: int,
    seed: int,
    signal: TabularBenchmark | None = None,
) -> tuple[Oracle, Any]:
    searcher_seed, oracle_seed = seeds_of(seed)
    oracle = Oracle(target, budget=budget, seed=oracle_seed, signal=signal)
    searcher = make_searcher(name, target.space, seed=searcher_seed, **options)
    run_search(searcher, oracle)
    return oracle, searcher


def test_acc(bench: TabularBenchmark, arch: pb.Arch) -> float:
    return float(bench.lookup([arch], "test_acc", fidelity=200)[0])


def mean_std(values: Sequence[float]) -> str:
    return f"{np.mean(values):.2f}+-{np.std(values):.2f}"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()


def robot_table(stores: dict[str, TabularBenchmark], seeds: list[int], budget: int, sampler: str) -> list[Any]:
    c10, c100, in16 = (stores[d] for d in DATASETS)
    c10_proxies, in16_proxies = ProxyTable.of(c10), ProxyTable.of(in16)
    options = {"sampler": sampler}
    rows: list[list[Any]] = []
    searchers: list[Any] = []

    def finals(oracles: Sequence[Oracle], report: Sequence[str]) -> dict[str, str]:
        out = {}
        for ds in report:
            out[ds] = mean_std([test_acc(stores[ds], o.best().arch) for o in oracles])
        return out

    started = time.perf_counter()
    own: list[Oracle] = []
    for seed in seeds:  # RoBoT's setting: CIFAR-10 proxies and signal; the same cells reported on every dataset
        oracle, searcher = run("robot", c10, {**options, "inputs": c10_proxies}, budget=budget, seed=seed)
        own.append(oracle)
        searchers.append(searcher)
    t0 = np.mean([s.t0 for s in searchers])
    result = finals(own, DATASETS)
    rows.append(["C10 proxies, C10 valid@12 (RoBoT's setting)", *result.values(), f"{t0:.1f}"])
    c100_own = [
        run("robot", c100, {**options, "inputs": c10_proxies}, budget=budget, seed=s)[0] for s in seeds
    ]  # CIFAR-100 has no Suite-Zero proxies: CIFAR-10's
    in16_own_runs = [run("robot", in16, {**options, "inputs": in16_proxies}, budget=budget, seed=s) for s in seeds]
    in16_t0 = np.mean([s.t0 for _, s in in16_own_runs])
    rows.append(
        [
            "own valid@12 (C10, C100: C10 proxies; IN16: IN16 proxies)",
            result["cifar10"],
            finals(c100_own, ["cifar100"])["cifar100"],
            finals([o for o, _ in in16_own_runs], ["imagenet16-120"])["imagenet16-120"],
            f"{t0:.1f} / - / {in16_t0:.1f}",
        ]
    )
    cross_runs = [
        run("robot", in16, {**options, "inputs": in16_proxies}, budget=budget, seed=s, signal=c10) for s in seeds
    ]
    cross = finals([o for o, _ in cross_runs], DATASETS)
    rows.append(["IN16 proxies, C10 valid@12", *cross.values(), f"{np.mean([s.t0 for _, s in cross_runs]):.1f}"])
    best_key, _ = c10.best("valid_acc", fidelity=12)
    best = pb.Arch("nb201", best_key)
    rows.append(
        ["(cell with the best C10 valid@12 overall)", *[f"{test_acc(stores[d], best):.2f}" for d in DATASETS], ""]
    )
    rows.append(["published (RoBoT, ICLR 2024)", *PUBLISHED.values(), ""])
    elapsed = time.perf_counter() - started
    print(f"## RoBoT on NB201, T = {budget}, {len(seeds)} seeds (seeds {seeds[0]}..{seeds[-1]}), sampler={sampler}")
    print("test accuracy (%, 200 epochs) of the queried cell with the best search metric; T0 = distinct BO queries\n")
    table(["setting", "C10", "C100", "IN16", "T0"], rows)
    per_seed = [round(test_acc(c10, o.best().arch), 2) for o in own]
    print(f"RoBoT's setting, C10 per seed: {per_seed}")
    print(f"chosen cells (RoBoT's setting): {sorted({o.best().arch.key for o in own})}")
    print(f"time: {elapsed:.0f} s\n")
    return searchers


def sweep_table(stores: dict[str, TabularBenchmark], seeds: list[int], budgets: list[int], sampler: str) -> None:
    c10 = stores["cifar10"]
    c10_proxies = ProxyTable.of(c10)
    variants: dict[str, tuple[str, dict[str, Any]]] = {
        "robot-plus": ("robot-plus", {}),
        "prior only (rank, jacov+nwot+synflow, no BO)": (
            "robot",
            {"proxies": list(DEFAULT_ENSEMBLE), "normalise": "rank", "n_bo_trials": 0},
        ),
        "RoBoT (n_bo_trials = T - 1)": ("robot", {"sampler": sampler}),
    }
    started = time.perf_counter()
    rows = []
    smallest: dict[str, int | None] = {}
    for label, (name, options) in variants.items():
        means = []
        for budget in budgets:
            extra = {"n_bo_trials": budget - 1} if label.startswith("RoBoT") else {}
            if label.startswith("RoBoT") and budget != 10:  # T = 20: the RoBoT table above
                means.append(None)
                continue
            oracles = [
                run(name, c10, {**options, **extra, "inputs": c10_proxies}, budget=budget, seed=s)[0] for s in seeds
            ]
            means.append([test_acc(c10, o.best().arch) for o in oracles])
        reached = [b for b, m in zip(budgets, means, strict=True) if m is not None and np.mean(m) >= TARGET]
        smallest[label] = reached[0] if reached else None
        rows.append([label, *["" if m is None else mean_std(m) for m in means]])
    elapsed = time.perf_counter() - started
    print(
        f"## Beyond RoBoT: CIFAR-10 test accuracy against T ({len(seeds)} seeds; RoBoT at T = 10 only; T = 20 above)\n"
    )
    table(["searcher", *[f"T={b}" for b in budgets]], rows)
    for label, value in smallest.items():
        print(f"smallest T with mean >= {TARGET}: {value if value is not None else 'not reached'}  ({label})")
    print(f"time: {elapsed:.0f} s\n")

    started = time.perf_counter()
    held_out = []
    for ds, proxies in (("cifar100", c10_proxies), ("imagenet16-120", ProxyTable.of(stores["imagenet16-120"]))):
        for label, (name, options) in list(variants.items())[:2]:
            values = []
            for budget in budgets:
                oracles = [
                    run(name, stores[ds], {**options, "inputs": proxies}, budget=budget, seed=s)[0] for s in seeds
                ]
                values.append(mean_std([test_acc(stores[ds], o.best().arch) for o in oracles]))
            held_out.append([f"{SHORT[ds]} {label}", *values])
    print("## The same on datasets not used to design the variant (own valid@12; C100 with C10 proxies)\n")
    table(["dataset, searcher", *[f"T={b}" for b in budgets]], held_out)
    print(f"time: {time.perf_counter() - started:.0f} s\n")


def spearman_table(c10: TabularBenchmark, searchers: list[RoBoTSearch]) -> None:
    test = c10.column("test_acc", fidelity=200)
    names = [n for n in c10.proxy_names]
    raw = c10.proxies(c10.keys(), names, fill=False)
    filled = c10.proxies(c10.keys(), names, fill=True)
    rows = []
    for j, name in enumerate(names):
        values = oriented(raw[:, j : j + 1], np.ones(1))[:, 0]
        ok = np.isfinite(values)
        full = oriented(filled[:, j : j + 1], np.ones(1))[:, 0]
        ok_full = np.isfinite(full)
        published = PUBLISHED_SPEARMAN.get(name)
        rows.append(
            [
                name,
                f"{spearman_rho(test[ok], values[ok]):.3f} ({ok.sum()})",
                f"{spearman_rho(test[ok_full], full[ok_full]):.3f} ({ok_full.sum()})",
                "" if published is None else f"{published:.3f}",
            ]
        )
    pool = searchers[0].pool
    pool_test = c10.lookup(pool, "test_acc", fidelity=200)
    weighted = [round(spearman_rho(pool_test, s.pool_scores()), 3) for s in searchers]
    rows.append(
        ["RoBoT weighted score (best weights per seed)", f"{np.mean(weighted):.3f}+-{np.std(weighted):.3f}", "", ""]
    )
    for label, ensemble, published in (
        ("rank ensemble synflow+jacov+snip (vote stand-in)", ["synflow", "jacov", "snip"], "0.817 (vote)"),
        ("rank ensemble jacov+nwot+synflow (robot-plus prior)", list(DEFAULT_ENSEMBLE), ""),
        ("rank ensemble of RoBoT's six", list(searchers[0].proxy_names), ""),
    ):
        cols = [names.index(n) for n in ensemble]
        measured = np.isfinite(oriented(raw[:, cols], np.ones(len(cols)))).all(axis=1)
        values = oriented(raw[measured][:, cols], np.ones(len(cols)))
        score = ProxyNormaliser("rank").fit(values).transform(values).sum(axis=1)
        rows.append([label, f"{spearman_rho(test[measured], score):.3f} ({measured.sum()})", "", published])
    print("## Spearman with CIFAR-10 test accuracy (200 epochs); (n cells)\n")
    table(["score", "own values", "all cells, filled", "published"], rows)
    print(f"RoBoT weighted score per seed: {weighted}\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="runs per setting (seeds 0..N-1)")
    parser.add_argument("--budget", type=int, default=20, help="T of the RoBoT table")
    parser.add_argument("--sampler", default="auto", help="RoBoT's weight sampler: auto (GP), gp, tpe, random")
    parser.add_argument("--sweep", default="4,5,6,7,8,9,10,15,20", help="budgets of the beyond-RoBoT table")
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/* stores")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    stores = load_stores(args.root)
    seeds = list(range(args.seeds))
    searchers = robot_table(stores, seeds, args.budget, args.sampler)
    spearman_table(stores["cifar10"], searchers)
    sweep_table(stores, seeds, [int(b) for b in args.sweep.split(",")], args.sampler)
    print(f"total time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
