"""Guided diffusion generation (issue 17, item 2): NB201 search at T = 100 next to random, evolution, REINFORCE.

Run (after ``predictbench data convert nb201-tables ../shared/benchmarks_data --root DIR``)::

    python benchmarks/bench_diffusion.py --root DIR --seeds 100

Through SearchStudy on the same paired seeds (search signal valid_acc@12, reported test_acc@200): mean ± std of the
200-epoch test accuracy of the incumbent at T, share of runs that queried the search-signal optimum, median queries
to it (misses censored at T), wall and CPU seconds per run of this call; one torch thread. Results are appended to
``--results`` (resumable: a rerun with more ``--seeds`` runs only the missing ones). The loop is the NAO
benchmark's (:func:`bench_nao.search_part`); records carry the study name ``bench-diffusion-T<budget>``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_nao import search_part  # one SearchStudy per dataset, the table, per-run times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=None, help="data root holding nb201/<dataset> stores")
    parser.add_argument("--results", type=Path, default=Path("results/bench_diffusion"), help="results folder")
    parser.add_argument("--datasets", default="cifar10,cifar100,imagenet16-120")
    parser.add_argument("--searchers", default="diffusion,reinforce,evolution,random")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=100, help="paired seeds 0..N-1")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    from predictbench.predictors.gcn import torch_threads

    with torch_threads(1):
        search_part(args, study_name="bench-diffusion")
    print(f"(numpy {np.__version__}; one torch thread)")


if __name__ == "__main__":
    main()
