"""RoBoT on NAS-Bench-201: the figures of the closing note, from the shared tables.

Run: ``python benchmarks/bench_robot.py [--seeds 10] [--budget 20] [--sampler auto] [--root DIR]
[--tables robot,spearman,sweep] [--ablation [ROW,...]]``. Without ``--root`` the three NB201 stores are converted
from ../shared/benchmarks_data into a temporary folder. ``--ablation`` prints only the CIFAR-10 ablation: RoBoT
with one setting changed at a time from its defaults (:data:`ABLATION`; 'all' or some row ids).

1. RoBoT (``RoBoTSearch`` defaults: RoBoT's six proxies, min-max, BO until 10 distinct queries, GP) at T = 20
   over ``--seeds`` seeds; final choice = the queried cell with the best search metric; mean +- std (numpy's
   population std, as RoBoT's code prints) of the 200-epoch test accuracy of that cell on each dataset, for
   three settings: RoBoT's own (CIFAR-10 proxies and CIFAR-10's 12-epoch validation signal, whatever the
   dataset reported), each dataset's own validation signal (CIFAR-100 has no Suite-Zero proxies, so it keeps
   CIFAR-10's; ImageNet16-120 uses its own), and ImageNet16-120's proxies with CIFAR-10's signal.
2. Beyond RoBoT: ``RoBoTPlusSearch`` (``robot-plus``), with its previous prior, and its prior-only ablation
   against the budget T (RoBoT's defaults at T = 10 next to them); the
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
from predictbench.search.robot_plus import ROBOT_PLUS_PRIOR
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
        "robot-plus (prior jacov+nwot+synflow+zen)": ("robot-plus", {}),
        "robot-plus, previous prior (jacov+nwot+synflow)": ("robot-plus", {"proxies": list(DEFAULT_ENSEMBLE)}),
        "prior only (rank, jacov+nwot+synflow+zen, no BO)": (
            "robot",
            {"proxies": list(ROBOT_PLUS_PRIOR), "normalise": "rank", "n_bo_trials": 0},
        ),
        "RoBoT (defaults)": ("robot", {"sampler": sampler}),
    }
    started = time.perf_counter()
    rows = []
    smallest: dict[str, int | None] = {}
    for label, (name, options) in variants.items():
        means = []
        for budget in budgets:
            if label.startswith("RoBoT") and budget != 10:  # T = 20: the RoBoT table above
                means.append(None)
                continue
            oracles = [run(name, c10, {**options, "inputs": c10_proxies}, budget=budget, seed=s)[0] for s in seeds]
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


#: NAS-Bench-Suite-Zero's 13 proxies on NB201 (the store also has naswot_v1, from another source).
SUITE_ZERO = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain", "snip")
SUITE_ZERO += ("synflow", "zen")
#: One setting changed at a time from ``RoBoTSearch``'s defaults (the reproduction setting): label, searcher
#: options, Oracle search metric (None: the store's valid_acc@12).
ABLATION: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "default": ("defaults: six proxies, min-max over the measured pool, BO to 10 distinct queries", {}, None),
    "all-proxies": ("proxies: the 13 Suite-Zero proxies", {"proxies": list(SUITE_ZERO)}, None),
    "pool-all": ("pool: all 15,625 cells, missing values filled", {"candidates": "all"}, None),
    "rank": ("normalise: rank instead of min-max", {"normalise": "rank"}, None),
    "19-trials": (
        "BO phase: 19 trials, free repeats count (previous default)",
        {"n_bo_queries": None, "n_bo_trials": 19},
        None,
    ),
    "split-5": ("split: BO to 5 distinct queries, greedy 15", {"n_bo_queries": 5}, None),
    "split-15": ("split: BO to 15 distinct queries, greedy 5", {"n_bo_queries": 15}, None),
    "startup-3": ("sampler: GP with 3 random start-up trials", {"n_startup_trials": 3}, None),
    "tpe": ("sampler: TPE", {"sampler": "tpe"}, None),
    "random": ("sampler: random weights", {"sampler": "random"}, None),
    "valid200": ("signal: valid_acc@200 (search metric and final choice)", {}, "valid_acc@200"),
    "previous": (
        "previous defaults (19 trials, 3 start-up trials)",
        {"n_bo_queries": None, "n_bo_trials": 19, "n_startup_trials": 3},
        None,
    ),
}


def ablation_table(c10: TabularBenchmark, seeds: list[int], budget: int, rows: Sequence[str]) -> None:
    """RoBoT on CIFAR-10 with one setting changed at a time; test accuracy of the final cell, T0, BO trials."""
    proxies = ProxyTable.of(c10)
    out = []
    for row in rows:
        label, options, metric = ABLATION[row]
        started = time.perf_counter()
        accs, t0, trials = [], [], []
        for seed in seeds:
            searcher_seed, oracle_seed = seeds_of(seed)
            oracle = Oracle(c10, budget=budget, seed=oracle_seed, metric=metric)
            searcher = make_searcher("robot", c10.space, seed=searcher_seed, inputs=proxies, **options)
            run_search(searcher, oracle)
            accs.append(test_acc(c10, oracle.best().arch))
            t0.append(searcher.t0)
            trials.append(len(searcher.trials))
            pool = len(searcher.pool)
        hits = sum(a >= TARGET for a in accs)
        seconds = time.perf_counter() - started
        out.append(
            [row, label, mean_std(accs), f"{hits}/{len(seeds)}", f"{np.mean(t0):.1f}", f"{np.mean(trials):.1f}", pool]
        )
        print(f"{row}: {mean_std(accs)} per seed {[round(a, 2) for a in accs]} ({seconds:.0f} s)", flush=True)
    print(f"\n## RoBoT ablation on nb201/cifar10, T = {budget}, {len(seeds)} seeds; one setting changed at a time\n")
    table(["id", "setting", "C10 test", f">= {TARGET}", "T0", "BO trials", "pool"], out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="runs per setting (seeds 0..N-1)")
    parser.add_argument("--budget", type=int, default=20, help="T of the RoBoT table")
    parser.add_argument("--sampler", default="auto", help="RoBoT's weight sampler: auto (GP), gp, tpe, random")
    parser.add_argument("--sweep", default="3,4,5,6,8,10", help="budgets of the beyond-RoBoT table")
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/* stores")
    parser.add_argument("--tables", default="robot,spearman,sweep", help="which of robot, spearman, sweep to print")
    parser.add_argument(
        "--ablation",
        nargs="?",
        const="all",
        default=None,
        help=f"only the CIFAR-10 ablation table: 'all' or comma-separated row ids of {list(ABLATION)}",
    )
    args = parser.parse_args(argv)
    if args.ablation is not None:
        rows = list(ABLATION) if args.ablation == "all" else args.ablation.split(",")
        unknown = [r for r in rows if r not in ABLATION]
        if unknown:
            parser.error(f"--ablation: unknown row ids {unknown}; expected 'all' or some of {list(ABLATION)}")
    unknown = sorted(set(args.tables.split(",")) - {"robot", "spearman", "sweep"})
    if unknown:
        parser.error(f"--tables: unknown tables {unknown}; expected some of robot, spearman, sweep")
    logging.basicConfig(level=logging.WARNING)
    try:
        import torch  # Optuna's GP sampler runs on torch: one thread, as the other measurements here

        torch.set_num_threads(1)
    except ImportError:
        pass
    started = time.perf_counter()
    stores = load_stores(args.root)
    seeds = list(range(args.seeds))
    if args.ablation is not None:
        ablation_table(stores["cifar10"], seeds, args.budget, rows)
        print(f"total time: {time.perf_counter() - started:.0f} s")
        return
    tables = args.tables.split(",")
    if "spearman" in tables or "robot" in tables:
        searchers = robot_table(stores, seeds, args.budget, args.sampler)
    if "spearman" in tables:
        spearman_table(stores["cifar10"], searchers)
    if "sweep" in tables:
        sweep_table(stores, seeds, [int(b) for b in args.sweep.split(",")], args.sampler)
    print(f"total time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
