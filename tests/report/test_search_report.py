from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predictbench.report import search_report
from predictbench.report.curves import bootstrap_band, efficiency_ratios, queries_to_optimum


def _records() -> pd.DataFrame:
    rows = []
    for searcher, step, hit in (("random", 0.01, None), ("smart", 0.05, 8)):
        for seed in range(6):
            traj = list(np.minimum(90 + step * np.arange(1, 21) + 0.01 * seed, 94.0))
            rows.append(
                {
                    "searcher": searcher, "seed": seed, "budget": 20, "benchmark": "toy/x", "version": "0.1.0",
                    "incumbent_report": traj, "incumbent_search": traj, "elapsed": list(range(20)),
                    "queries_to_optimum": None if hit is None else hit + seed,
                    "search_metric": "valid_acc@12", "report_metric": "test_acc@200",
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_optimum_counts_and_conservative_ratios() -> None:
    records = _records()
    table = queries_to_optimum(records)
    assert table.loc["smart", "found"] == 1.0 and table.loc["random", "found"] == 0.0
    assert table.loc["smart", "median_queries"] == pytest.approx(10.5)
    assert table.loc["random", "median_queries"] == np.inf and np.isnan(table.loc["random", "median_queries_found"])
    half = records[(records["searcher"] == "smart") | (records["seed"] < 2)]  # random: 2 runs, both missed
    assert queries_to_optimum(half).loc["smart", "median_queries_found"] == pytest.approx(10.5)
    ratios = efficiency_ratios(records, "random")
    assert ratios["smart"] == pytest.approx(20 / 10.5) and ratios["random"] == 1.0
    with pytest.raises(ValueError, match="reference searcher 'rea'"):
        efficiency_ratios(records, "rea")


def test_bootstrap_band_brackets_the_mean() -> None:
    values = np.random.default_rng(0).normal(size=(50, 10))
    low, high = bootstrap_band(values)
    mean = values.mean(axis=0)
    assert np.all(low <= mean) and np.all(mean <= high) and np.all(high - low < 1.0)


def test_search_report_files(tmp_path: Path) -> None:
    out = search_report(_records(), tmp_path / "s", title="Toy search")
    text = (out / "README.md").read_text()
    assert text.startswith("# Toy search") and "| smart | 1 | 6 |" in text and "| random | 2 | 6 |" in text
    assert "| T=20 | 6 | 6/0/0 |" in text  # smart beats random on every paired seed
    for figure in ("best_so_far.png", "queries_to_optimum.png"):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG" and f"]({figure})" in text
    assert (out / "index.html").read_text().count("data:image/png;base64,") == 2
