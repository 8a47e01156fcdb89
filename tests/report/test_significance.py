from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from predictbench.report.significance import compare_predictors, compare_searchers, paired_wilcoxon


def test_wilcoxon_matches_scipy_and_counts_pairs() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=30), rng.normal(size=30)
    b[:4] = a[:4]  # four tied seeds
    result = paired_wilcoxon(a, b)
    expected = stats.wilcoxon(a[4:] - b[4:])
    assert result.pairs == 30 and result.untied == 26
    assert result.first_better + result.second_better == 26
    assert result.statistic == pytest.approx(expected.statistic) and result.p_value == pytest.approx(expected.pvalue)
    assert result.as_row()["wins/ties/losses"] == f"{result.first_better}/4/{result.second_better}"


def test_exact_small_sample_and_degenerate_cases() -> None:
    assert paired_wilcoxon(np.arange(6.0) + 1, np.zeros(6)).p_value == pytest.approx(2 / 2**6)
    ties = paired_wilcoxon(np.ones(5), np.ones(5))
    assert ties.p_value == 1.0 and ties.untied == 0 and ties.median_difference == 0.0
    assert np.isnan(paired_wilcoxon(np.array([]), np.array([])).p_value)
    with pytest.raises(ValueError, match="equal length"):
        paired_wilcoxon(np.ones(3), np.ones(4))


def _predictor_records() -> pd.DataFrame:
    rows = []
    for seed in range(8):
        for size in (10, 100):
            for name, tau in (("a", 0.5 + 0.01 * seed), ("b", 0.4 + 0.02 * seed)):
                rows.append({"benchmark": "toy/x", "predictor": name, "seed": seed, "train_size": size,
                             "kendall_tau": tau + (0.1 if size == 100 else 0.0)})  # fmt: skip
    return pd.DataFrame(rows)


def test_compare_predictors_pairs_by_seed() -> None:
    table = compare_predictors(_predictor_records(), "a", "b")
    assert table.index.tolist() == ["AUC", "n=10", "n=100"]
    # a - b = 0.1 - 0.01 * seed: positive for seeds 0..7 except none zero -> 8 wins
    assert table.loc["AUC", "wins/ties/losses"] == "8/0/0"
    assert table.loc["n=10", "p-value"] == pytest.approx(2 / 2**8)
    assert table.loc["AUC", "median difference"] == pytest.approx(0.1 - 0.01 * 3.5)
    with pytest.raises(ValueError, match=r"predictors \['c'\] not in records"):
        compare_predictors(_predictor_records(), "a", "c")


def test_compare_searchers_at_budgets() -> None:
    rows = [
        {"benchmark": "toy/x", "searcher": name, "seed": seed, "incumbent_report": list(start + np.arange(5.0))}
        for seed in range(6)
        for name, start in (("good", 1.0 + seed), ("bad", 0.0 + seed))
    ]
    table = compare_searchers(pd.DataFrame(rows), "good", "bad", [1, 5])
    assert table.index.tolist() == ["T=1", "T=5"]
    assert (table["wins/ties/losses"] == "6/0/0").all() and table["p-value"].tolist() == pytest.approx([2 / 64] * 2)
    with pytest.raises(ValueError, match="searchers"):
        compare_searchers(pd.DataFrame(rows), "good", "nope", [1])


def test_leader_vs_runner_up_explains_then_tables_the_top_two() -> None:
    from predictbench.report.document import Paragraph, Table
    from predictbench.report.significance import TEST_FORMATS, leader_vs_runner_up

    asked = []

    def compare(first: str, second: str) -> pd.DataFrame:
        asked.append((first, second))
        return pd.DataFrame({"W": [1.0]})

    blocks = leader_vs_runner_up(["a", "b", "c"], compare, pairing="same seeds", difference="τ.", too_few="none")
    assert asked == [("a", "b")]
    assert isinstance(blocks[0], Paragraph) and blocks[0].text == (
        "a (rank 1) against b (rank 2): two-sided Wilcoxon signed-rank test over paired seeds (same seeds). "
        "Differences are a minus b in τ."
    )
    assert isinstance(blocks[1], Table) and blocks[1].formats == TEST_FORMATS
    assert "seeds. Differences" in leader_vs_runner_up(["a", "b"], compare, difference="x", too_few="-")[0].text
    assert leader_vs_runner_up(["a"], compare, difference="x", too_few="only one") == [Paragraph("only one")]
