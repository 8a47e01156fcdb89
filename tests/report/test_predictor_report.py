from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predictbench.report import predictor_leaderboard, predictor_report, to_markdown


def _records() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(0)
    for predictor, base in (("good", 0.6), ("bad", 0.1)):
        for n in (10, 100):
            for seed in range(5):
                tau = base + 0.001 * n + 0.01 * rng.standard_normal()
                rows.append(
                    {
                        "predictor": predictor, "train_size": n, "seed": seed, "kendall_tau": tau,
                        "spearman": tau, "precision_at_10": 0.5, "benchmark": "toy/x", "target": "acc",
                        "test_size": 200, "version": "0.1.0", "params": {"alpha": 1.0},
                    }
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_leaderboard_ranks_by_area_under_curve() -> None:
    board = predictor_leaderboard(_records())
    assert board.index.tolist() == ["good", "bad"]
    assert board.loc["good", "rank"] == 1 and board.loc["bad", "rank"] == 2
    assert board.loc["good", "n=100"] == pytest.approx(0.7, abs=0.02)
    assert list(board.columns) == ["rank", "AUC", "n=10", "n=100"]


def test_report_writes_markdown_and_png(tmp_path: Path) -> None:
    out = predictor_report(_records(), tmp_path / "rep", title="Toy")
    text = (out / "README.md").read_text()
    assert text.startswith("# Toy")
    assert "| good | 1 |" in text and "![Kendall τ vs training-set size](tau_vs_train_size.png)" in text
    assert "- seeds: 0..4 (5 seeds)" in text
    png = (out / "tau_vs_train_size.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    html = (out / "index.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<title>Toy</title>" in html and html.count("<table>") == 4
    assert "| AUC | 5 | 5/0/0 |" in text  # good beats bad on every seed
    assert not (out / "quality_vs_cost.png").exists()  # these records hold no fit times


def test_markdown_table_shape() -> None:
    frame = pd.DataFrame({"a": [1.23456, np.nan]}, index=pd.Index(["x", "y"], name="name"))
    assert to_markdown(frame).splitlines() == ["| name | a |", "|---|---:|", "| x | 1.235 |", "| y |  |"]
