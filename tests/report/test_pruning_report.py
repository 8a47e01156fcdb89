from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predictbench.report.pruning import (
    choice_grid,
    final_by_config,
    plot_choice_grid,
    plot_space_left,
    pruned_choices,
    pruning_rounds,
    pruning_summary,
)


def _round(number: int, pruned: list[str], fraction: float, kept: bool) -> dict[str, object]:
    return {
        "round": number, "queries": 10 * number, "size": round(100 * (1 - fraction)), "fraction_pruned": fraction,
        "pruned": pruned, "forbidden": [], "search_optimum_survives": kept, "report_optimum_survives": kept,
    }  # fmt: skip


def _records() -> pd.DataFrame:
    rows = [
        ("a", 0, [_round(1, ["e0=none"], 0.2, True), _round(2, ["e1=pool"], 0.4, True)], "best", 95.0),
        ("a", 1, [_round(1, ["e0=none", "e1=conv"], 0.4, True), _round(2, [], 0.4, False)], "x", 93.0),
        ("b", 0, [_round(1, ["e0=none", "e0=skip", "e1=pool"], 0.8, False)], "y", 90.0),
        ("b", 1, [_round(1, [], 0.0, True)], "best", 95.0),
    ]
    return pd.DataFrame(
        [
            {"config": c, "seed": s, "rounds": r, "final_arch": f, "report_optimum": "best", "final_report": v}
            for c, s, r, f, v in rows
        ]
    )


def test_rounds_and_summary() -> None:
    rounds = pruning_rounds(_records())
    assert len(rounds) == 6 and rounds["pruned"].iloc[0] == ["e0=none"]
    summary = pruning_summary(_records())
    assert summary.loc[("a", 1), "left mean"] == pytest.approx(0.7)
    assert summary.loc[("a", 2), "left min"] == pytest.approx(0.6)
    assert summary.loc[("a", 2), "search optimum kept"] == 0.5 and summary.loc[("b", 1), "runs"] == 2
    with pytest.raises(ValueError, match=r"not pruning-study records: columns \['rounds'\] missing"):
        pruning_rounds(_records().drop(columns="rounds"))


def test_pruned_choices_count_runs_not_rounds() -> None:
    table = pruned_choices(_records())
    assert table.loc[("a", "e0=none"), "fraction of runs"] == 1.0
    assert table.loc[("a", "e1=pool"), "mean round"] == 2.0
    assert table.loc[("b", "e0=skip"), "fraction of runs"] == 0.5
    assert table.loc["a"].index[0] == "e0=none"  # most often pruned first
    grid = choice_grid(_records(), "a")
    assert grid.loc["e0", "none"] == 1.0 and grid.loc["e1", "conv"] == 0.5 and grid.loc["e0", "pool"] == 0.0
    with pytest.raises(ValueError, match="config 'c' not in records"):
        choice_grid(_records(), "c")


def test_final_by_config() -> None:
    table = final_by_config(_records())
    assert table.loc["a", "final report mean"] == 94.0 and table.loc["b", "found report optimum"] == 0.5
    assert table.loc["a", "found report optimum"] == 0.5 and table.loc["a", "runs"] == 2


def test_figures_are_png(tmp_path: Path) -> None:
    records = _records()
    assert plot_space_left(records, tmp_path / "left.png").read_bytes()[:4] == b"\x89PNG"
    assert plot_choice_grid(records, "a", tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
    nothing = records[(records["config"] == "b") & (records["seed"] == 1)]
    assert plot_choice_grid(nothing, "b", tmp_path / "none.png").read_bytes()[:4] == b"\x89PNG"
