"""Rank correlation of the 2023-25 proxies and of the label-free ``zero-shot`` ensemble on NB201, over every cell
whose class the shipped proxy table covers.

Run: ``python benchmarks/bench_zero_shot.py --root R`` after ``predictbench data convert nb201-tables
../shared/benchmarks_data --root R`` (the converter fills the shipped table, ``predictbench/proxies/tables``,
into ``<proxy>_live`` columns). It prints, per dataset, for the cells with values (each class's value filled
to its members, so ties within a class): Kendall tau-b and Spearman rho against ``test_acc`` at 200 epochs of
every proxy, AZ-NAS's and VKDNW's aggregates (ranked within those cells), the Suite-Zero rank ensemble
(jacov, nwot, synflow) where the store has it, the ``zero-shot`` predictor with its default set and with
the alternatives ``--sets`` names, next to the published all-cell figures. ``--classes`` evaluates on one
cell per class (the representative) instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.predictors.zeroshot import ZERO_SHOT_PROXIES

PUBLISHED = {  # (tau, rho) against NB201 test accuracy at 200 epochs, the papers' figures (issue 15)
    ("cifar10", "az_nas"): (0.741, 0.913),
    ("cifar10", "vkdnw_agg"): (0.750, 0.919),
    ("cifar100", "vkdnw_agg"): (0.753, 0.919),
    ("imagenet16-120", "vkdnw_agg"): (0.743, 0.906),
    ("cifar10", "zico"): (0.607, 0.802),
    ("cifar10", "meco"): (None, 0.89),
    ("cifar100", "swap_reg"): (None, 0.90),
}
SETS = {
    "az4": ["az_expressivity", "az_progressivity", "az_trainability", "az_complexity"],
    "az4+meco": ["az_expressivity", "az_progressivity", "az_trainability", "az_complexity", "meco"],
    "az4+jacov+meco": ["az_expressivity", "az_progressivity", "az_trainability", "az_complexity", "jacob_cov", "meco"],
    "az4+swap": ["az_expressivity", "az_progressivity", "az_trainability", "az_complexity", "swap_reg"],
    "az4+zico": ["az_expressivity", "az_progressivity", "az_trainability", "az_complexity", "zico"],
    "all": [*ZERO_SHOT_PROXIES, "vkdnw_entropy"],
}


def main() -> None:
    from scipy.stats import kendalltau, spearmanr

    import predictbench as pb
    from predictbench.predictors.zeroshot import ZeroShotPredictor
    from predictbench.proxies.aznas import az_nas_score
    from predictbench.proxies.vkdnw import vkdnw_aggregate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--datasets", default="cifar10,cifar100,imagenet16-120")
    parser.add_argument("--sets", default=",".join(SETS), help=f"alternative ensembles: {', '.join(SETS)}")
    parser.add_argument("--classes", action="store_true", help="one cell per class instead of every covered cell")
    args = parser.parse_args()

    for dataset in args.datasets.split(","):
        bench = pb.load(f"nb201/{dataset}", root=args.root)
        live = [c for c in bench.proxy_names if c.endswith("_live")]
        if not live:
            print(f"nb201/{dataset}: no _live proxy columns (no shipped table for it yet)\n")
            continue
        keys = np.asarray(bench.keys(), dtype=object)
        values = pd.DataFrame(bench.proxies(keys, live, fill=False), columns=[c[: -len("_live")] for c in live])
        covered = values.notna().all(axis=1).to_numpy()
        if args.classes:
            index = bench.space.index_of(keys)
            covered = covered & (bench.space.canonical_index("function")[index] == index)  # representatives
        keys, values = keys[covered], values[covered].reset_index(drop=True)
        truth = np.asarray(bench.lookup(list(keys), "test_acc", fidelity=200), dtype=float)
        n_classes = len(np.unique(bench.space.canonical_index("function")[bench.space.index_of(keys)]))
        rows: dict[str, np.ndarray] = {name: values[name].to_numpy() for name in values.columns}
        rows["az_nas"] = az_nas_score(values)
        if {"jacob_cov", "vkdnw_dim", "vkdnw_entropy"} <= set(values.columns):
            rows["vkdnw_agg"] = vkdnw_aggregate(values.rename(columns={"az_complexity": "flops"}))
        batch = bench.batch(list(keys))
        if {"jacob_cov", "nwot", "synflow"} <= set(bench.proxy_names):
            rows["suite-zero rank ensemble"] = pb.make_predictor("proxy-rank-ensemble").fit(batch, truth).predict(batch)
        default = ZeroShotPredictor().fit(batch, truth)
        rows[f"zero-shot (default: {len(default.proxy_names_)} proxies)"] = default.predict(batch)
        for name in args.sets.split(","):
            members = [f"{p}_live" for p in SETS[name] if f"{p}_live" in bench.proxy_names]
            rows[f"zero-shot [{name}]"] = ZeroShotPredictor(proxies=members).fit(batch, truth).predict(batch)
        print(
            f"nb201/{dataset}: {len(keys)} cells ({n_classes} function classes of 4,930) against test_acc@200"
            + (" (one cell per class)" if args.classes else "")
        )
        table = []
        for name, scores in rows.items():
            tau = kendalltau(scores, truth).statistic
            rho = spearmanr(scores, truth).statistic
            pub = PUBLISHED.get((dataset, name), (None, None))
            table.append(
                {
                    "signal": name,
                    "tau": f"{tau:.3f}",
                    "rho": f"{rho:.3f}",
                    "published tau": "-" if pub[0] is None else f"{pub[0]:.3f}",
                    "published rho": "-" if pub[1] is None else f"{pub[1]:.3f}",
                }
            )
        print(pd.DataFrame(table).to_string(index=False))
        print(f"default zero-shot members: {', '.join(ZERO_SHOT_PROXIES)}\n")


if __name__ == "__main__":
    main()
