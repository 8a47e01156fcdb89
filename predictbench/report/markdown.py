"""A predictor-study report folder: README.md (leaderboard + provenance) and a τ-vs-size figure."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from predictbench import __version__
from predictbench.paths import atomic_write_text
from predictbench.report.figures import tau_vs_train_size
from predictbench.report.leaderboard import predictor_leaderboard, tau_by_size, to_markdown

FIGURE = "tau_vs_train_size.png"


def seed_summary(seeds: pd.Series) -> str:
    """'0..99 (100 seeds)' for a contiguous range, else the sorted list."""
    values = sorted(int(s) for s in seeds.unique())
    if len(values) > 3 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]} ({len(values)} seeds)"
    return str(values)


def predictor_report(records: pd.DataFrame, out_dir: str | Path, *, title: str = "Predictor leaderboard") -> Path:
    """Write ``out_dir/README.md`` and ``out_dir/tau_vs_train_size.png`` from study records."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    board = predictor_leaderboard(records)
    detail = tau_by_size(records)
    detail["tau (95% CI)"] = [f"{m:.3f} ± {c:.3f}" for m, c in zip(detail["mean"], detail["ci95"], strict=True)]
    spearman = tau_by_size(records, "spearman").set_index(["predictor", "train_size"])["mean"]
    detail["spearman"] = spearman.reindex(pd.MultiIndex.from_frame(detail[["predictor", "train_size"]])).to_numpy()
    prec = "precision_at_10"
    if prec in records:
        p10 = tau_by_size(records, prec).set_index(["predictor", "train_size"])["mean"]
        detail[prec] = p10.reindex(pd.MultiIndex.from_frame(detail[["predictor", "train_size"]])).to_numpy()
    benchmarks = sorted(records["benchmark"].unique())
    tau_vs_train_size(records, out / FIGURE, title=", ".join(benchmarks))
    params = {name: json.dumps(group["params"].iloc[0], sort_keys=True) for name, group in records.groupby("predictor")}
    provenance = {
        "benchmarks": benchmarks,
        "targets": sorted(records["target"].unique().tolist()),
        "seeds": seed_summary(records["seed"]),
        "test_size": sorted(int(s) for s in records["test_size"].unique()),
        "predictbench versions": sorted(records["version"].unique().tolist()),
        "records": len(records),
    }
    lines = [
        f"# {title}",
        "",
        f"Benchmark(s): {', '.join(benchmarks)}. Metric: Kendall τ between predicted scores and the target on a "
        "held-out test set (higher is better; correlations keep their sign). "
        "AUC = mean τ over log training size. Rank 1 = best AUC.",
        "",
        "## Leaderboard (mean Kendall τ over seeds)",
        "",
        to_markdown(board),
        "",
        f"![Kendall τ vs training-set size]({FIGURE})",
        "",
        "## Per training size",
        "",
        to_markdown(
            detail[
                ["predictor", "train_size", "tau (95% CI)", "spearman", *([prec] if prec in detail else []), "seeds"]
            ].set_index("predictor")
        ),
        "",
        "## Provenance",
        "",
        *[f"- {k}: {v}" for k, v in provenance.items()],
        f"- report written by predictbench {__version__}",
        "",
        "## Predictor parameters",
        "",
        *[f"- `{name}`: `{p}`" for name, p in params.items()],
        "",
    ]
    atomic_write_text(out / "README.md", "\n".join(lines))
    return out


def search_report(records: pd.DataFrame, out_dir: str | Path, *, title: str = "Search leaderboard") -> Path:
    """Write ``out_dir/README.md`` and ``out_dir/best_so_far.png`` from search-study records."""
    from predictbench.report.curves import curve_table, efficiency_ratios, queries_to_optimum
    from predictbench.report.figures import best_so_far

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    budget = int(records["budget"].max())
    budgets = sorted({b for b in (10, 20, 50, 100, 150, 200, 500, budget) if b <= budget})
    report_metric = str(records["report_metric"].iloc[0])
    best_so_far(records, out / "best_so_far.png", title=", ".join(sorted(records["benchmark"].unique())),
                ylabel=report_metric)  # fmt: skip
    reference = "random" if "random" in set(records["searcher"]) else str(records["searcher"].iloc[0])
    optimum = queries_to_optimum(records)
    optimum[f"x vs {reference}"] = efficiency_ratios(records, reference)
    lines = [
        f"# {title}",
        "",
        f"Search signal: {records['search_metric'].iloc[0]}; reported: {report_metric} of the incumbent (the best "
        "architecture by the search signal). Budgets count distinct architectures. Cells: mean ± std "
        "[95% bootstrap CI of the mean].",
        "",
        "## Reported value of the incumbent at fixed budgets",
        "",
        to_markdown(curve_table(records, budgets)),
        "",
        "![best so far](best_so_far.png)",
        "",
        "## Queries to reach the optimum of the search signal",
        "",
        to_markdown(optimum),
        "",
        "## Provenance",
        "",
        f"- benchmarks: {sorted(records['benchmark'].unique())}",
        f"- seeds: {seed_summary(records['seed'])}",
        f"- predictbench versions: {sorted(records['version'].unique())}",
        f"- runs: {len(records)}",
        "",
    ]
    atomic_write_text(out / "README.md", "\n".join(lines))
    return out
