"""The 2023-25 training-free proxies on a uniform sample of NB201 cells: seconds per cell and rank correlations.

Run: ``python benchmarks/bench_frontier_proxies.py --root /tmp/pbdata_e --cells 120`` after
``predictbench data convert nb201-tables ../shared/benchmarks_data --root /tmp/pbdata_e``. It

1. draws ``--cells`` cells uniformly (``spawn(seed, "bench_frontier")``) from ``nb201/<dataset>``;
2. computes, for each, AZ-NAS's four components, VKDNW (entropy and dimension), MeCo, ZiCo, SWAP (raw and
   regularised) and jacob_cov (for VKDNW_agg) with :func:`predictbench.proxies.metrics.compute_proxies`
   (full-size network C=16, N=5; Gaussian batch for AZ-NAS / VKDNW / MeCo / jacob_cov, real CIFAR-10 images
   for ZiCo / SWAP; batch size ``--batch``; SWAP with ``--swap-repeats`` weight draws), one torch thread;
3. prints mean seconds per cell per proxy, and Kendall tau / Spearman rho of every proxy and of the
   AZ-NAS and VKDNW aggregates (ranked within the sample) against ``test_acc`` at 200 epochs, next to the
   published figures (which are over all 15,625 cells with the papers' batch sizes: not the same sample).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from predictbench.proxies.shipped import TABLE_PROXIES

PUBLISHED = {  # (tau, rho) on NB201 test accuracy at 200 epochs, the papers' figures (issue 15)
    "az_nas": (0.741, 0.913),
    "vkdnw_agg": (0.750, 0.919),
    "zico": (0.607, 0.802),
    "meco": (None, 0.89),
    "swap_reg": (None, 0.90),  # CIFAR-100 validation accuracy in the paper
}
NAMES = TABLE_PROXIES


def main() -> None:
    import torch
    from scipy.stats import kendalltau, spearmanr

    from predictbench.benchmarks import load
    from predictbench.proxies import get_proxy
    from predictbench.proxies.aznas import az_nas_score
    from predictbench.proxies.metrics import _derived_seed, make_batch
    from predictbench.proxies.networks import build_network
    from predictbench.proxies.vkdnw import vkdnw_aggregate, vkdnw_single
    from predictbench.rng import spawn
    from predictbench.types import Arch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/pbdata_e"))
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--cells", type=int, default=120)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--swap-repeats", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    bench = load(f"nb201/{args.dataset}", root=args.root)
    keys = np.asarray(bench.keys())
    rows = np.sort(spawn(args.seed, "bench_frontier").choice(len(keys), size=args.cells, replace=False))
    sample = keys[rows]
    acc = np.asarray(bench.lookup(list(sample), "test_acc", fidelity=200), dtype=float)
    classes, resolution = {"cifar10": (10, 32), "cifar100": (100, 32)}.get(args.dataset, (120, 16))
    names = NAMES if classes == 10 else [n for n in NAMES if n != "zico"]
    gaussian = make_batch(None, batch_size=args.batch, num_classes=classes, resolution=resolution, seed=args.seed)
    real = make_batch("cifar10", batch_size=args.batch, resolution=resolution, seed=args.seed)
    values = {n: np.empty(len(sample)) for n in names}
    seconds = {n: 0.0 for n in names}
    started = time.perf_counter()
    for i, key in enumerate(sample):
        net = build_network(Arch("nb201", str(key)), num_classes=classes, seed=_derived_seed(args.seed, "weights"))
        for name in names:
            x, y = real if name in ("zico", "swap", "swap_reg") else gaussian
            options = {"repeats": args.swap_repeats} if name.startswith("swap") else {}
            t0 = time.perf_counter()
            values[name][i] = get_proxy(name)(net, x, y, seed=args.seed, **options)
            seconds[name] += time.perf_counter() - t0
    wall = time.perf_counter() - started
    table = pd.DataFrame(values)
    table["az_nas"] = az_nas_score(table)
    table["vkdnw_single"] = vkdnw_single(table)
    table["vkdnw_agg"] = vkdnw_aggregate(
        table, other_columns=("jacob_cov", "az_expressivity", "az_trainability", "az_complexity")
    )
    print(
        f"nb201/{args.dataset}: {len(sample)} uniform cells, C=16 N=5, batch {args.batch}, "
        f"swap repeats {args.swap_repeats}, 1 torch thread, {wall:.0f} s wall"
    )
    print(f"{'proxy':18s} {'s/cell':>7s} {'tau':>6s} {'rho':>6s}   published tau / rho (all cells)")
    for column in table.columns:
        score = np.nan_to_num(table[column].to_numpy(dtype=float), nan=-np.inf)
        tau = kendalltau(score, acc).statistic
        rho = spearmanr(score, acc).statistic
        per_cell = seconds[column] / len(sample) if column in seconds else float("nan")
        ref = PUBLISHED.get(column)
        ref_text = "" if ref is None else " / ".join("-" if v is None else f"{v:.3f}" for v in ref)
        print(f"{column:18s} {per_cell:7.2f} {tau:6.3f} {rho:6.3f}   {ref_text}")


if __name__ == "__main__":
    main()
