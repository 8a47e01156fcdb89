"""Bad command-line options, component options and experiment files: one clear line, exit code 2, nothing written.

Every case runs the real entry point (``predictbench.cli.main``) on the embedded default store, or the real
option check that the command line and experiment files share.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from predictbench.cli import main
from predictbench.experiment import ExperimentError, shipped_experiments

TINY = """\
name = "tiny"
description = "a tiny experiment"
benchmarks = ["nb201-analog/cifar10"]
results = "{results}"

[predictors]
models = ["ridge"]
sizes = [8, 24]
seeds = 2
test_size = 50

[search]
budget = 10
seeds = 2

[search.searchers]
random = {{}}
"""


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# (command-line arguments, text the single error line must contain)
OPTION_CASES = [
    pytest.param(
        ["predict", "-p", "lgbm:n_estimators=abc"],
        "--predictor lgbm:n_estimators=abc: predictor 'lgbm': option 'n_estimators' must be an int <= 100000, "
        "got 'abc' (str)",
        id="predict-option-not-an-int",
    ),
    pytest.param(
        ["predict", "-p", "lgbm:n_estimators=100000000000"],
        "option 'n_estimators' must be <= 100000, got 100000000000",
        id="predict-option-huge",
    ),
    pytest.param(
        ["predict", "-p", "mlp:hidden=(64, 1000000000)"],
        "predictor 'mlp': option 'hidden' must be <= 65536, got (64, 1000000000)",
        id="predict-hidden-width-huge",
    ),
    pytest.param(
        ["predict", "-p", "mlp:hidden=(64, 'x')"],
        "option 'hidden' must be a tuple of int values <= 65536",
        id="predict-hidden-not-ints",
    ),
    pytest.param(
        ["predict", "-p", "lgbm:standardize_target=3"], "must be True or False, got 3 (int)", id="predict-bool"
    ),
    pytest.param(
        ["predict", "-p", "omni-lgbm:n_estimators=abc"],
        "predictor 'omni-lgbm': option 'n_estimators' must be an int <= 100000",
        id="predict-factory-with-any-keyword",
    ),
    pytest.param(
        ["search", "-s", "evolution:population_size=abc"],
        "--searcher evolution:population_size=abc: searcher 'evolution': option 'population_size' must be an int",
        id="search-option-not-an-int",
    ),
    pytest.param(
        ["search", "-s", "evolution:population_size=100000000000"],
        "option 'population_size' must be <= 1000000",
        id="search-option-huge",
    ),
    pytest.param(
        ["search", "-s", "evolution:population_size=0"],
        "--searcher evolution:population_size=0: need population_size >= 2",
        id="search-option-out-of-range-on-the-space",
    ),
    pytest.param(
        ["search", "-s", "mcts:value=min"], "option 'value' must be one of 'mean', 'max'", id="search-literal"
    ),
    pytest.param(
        ["mosearch", "-s", "parego:n_initiall=5"],
        "multi-objective searcher 'parego' has no option 'n_initiall'. Did you mean 'n_initial'?",
        id="mosearch-parego-unknown-option",
    ),
    pytest.param(
        ["mosearch", "-s", "parego:rho=abc"], "option 'rho' must be a number, got 'abc' (str)", id="mosearch-rho"
    ),
    pytest.param(
        ["mosearch", "-s", "random:population_size=4"],
        "multi-objective searcher 'random' has no option 'population_size'. Options: (none)",
        id="mosearch-random-takes-no-option",
    ),
]


@pytest.mark.parametrize(("args", "expected"), OPTION_CASES)
def test_bad_component_options_exit_2_with_one_line(
    args: list[str], expected: str, analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "r.jsonl"
    code, _, err = _main(capsys, *args, "--root", str(analog_root), "--results", str(results))
    assert code == 2 and expected in _one_line(err)
    assert not results.exists()


# numbers of the grid itself: typer's own messages (usage + one error line) or ours, always naming the option
GRID_CASES = [
    pytest.param(["predict", "--sizes", "0"], "--sizes", id="sizes-zero"),
    pytest.param(["predict", "--sizes", "-5"], "--sizes", id="sizes-negative"),
    pytest.param(["predict", "--sizes", "abc"], "--sizes", id="sizes-not-numbers"),
    pytest.param(["predict", "--sizes", ","], "--sizes", id="sizes-empty"),
    pytest.param(["predict", "--seeds", "0"], "--seeds", id="predict-seeds-zero"),
    pytest.param(["predict", "--seeds", "abc"], "--seeds", id="predict-seeds-not-a-number"),
    pytest.param(["predict", "--seeds", "1000000000"], "--seeds", id="predict-seeds-huge"),
    pytest.param(["predict", "--test-size", "1000000000"], "--test-size", id="test-size-huge"),
    pytest.param(["search", "--budget", "0"], "--budget", id="search-budget-zero"),
    pytest.param(["search", "--budget", "-3"], "--budget", id="search-budget-negative"),
    pytest.param(["search", "--budget", "abc"], "--budget", id="search-budget-not-a-number"),
    pytest.param(["search", "--seeds", "1000000000"], "--seeds", id="search-seeds-huge"),
    pytest.param(["mosearch", "--budget", "0"], "--budget", id="mosearch-budget-zero"),
    pytest.param(["mosearch", "--seeds", "-1"], "--seeds", id="mosearch-seeds-negative"),
    pytest.param(["mosearch", "--budget", "x"], "--budget", id="mosearch-budget-not-a-number"),
]


@pytest.mark.parametrize(("args", "option"), GRID_CASES)
def test_bad_grid_numbers_exit_2_naming_the_option(
    args: list[str], option: str, analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "r.jsonl"
    code, _, err = _main(capsys, *args, "--root", str(analog_root), "--results", str(results))
    error_lines = [line for line in err.splitlines() if "Error" in line or "error" in line]
    assert code == 2 and len(error_lines) == 1 and option in error_lines[0], err
    assert not results.exists()


# (TOML text replaced in TINY, texts the single error line must contain)
FILE_CASES = [
    pytest.param(
        {"seeds = 2\ntest_size": "seeds = 1000000000\ntest_size"},
        ["key 'predictors.seeds': expected a count in 1..100000", "got 1000000000"],
        id="seed-count-huge",
    ),
    pytest.param(
        {"seeds = 2\ntest_size": "seeds = [1, 5000000000]\ntest_size"},
        ["key 'predictors.seeds'", "distinct seeds in 0..4294967295, got [1, 5000000000]"],
        id="seed-value-huge",
    ),
    pytest.param(
        {"sizes = [8, 24]": "sizes = [8, 100000000000]"},
        ["key 'predictors.sizes': expected a non-empty list of integers in 2..10000000"],
        id="sizes-huge",
    ),
    pytest.param(
        {"test_size = 50": "test_size = 100000000000"},
        ["key 'predictors.test_size': expected an integer in 20..10000000, got 100000000000"],
        id="test-size-huge",
    ),
    pytest.param(
        {"budget = 10": "budget = 100000000000"},
        ["key 'search.budget': expected an integer in 1..10000000"],
        id="budget-huge",
    ),
    pytest.param(
        {"test_size = 50": "test_size = 50\ntarget = 200"},
        ["key 'predictors.target': expected 'metric' or 'metric@fidelity'", "got 200 (int)"],
        id="target-fidelity-not-a-string",
    ),
    pytest.param(
        {'models = ["ridge"]': 'models = ["lgbm:n_estimators=abc"]'},
        ["key 'predictors.models.lgbm:n_estimators=abc': predictor 'lgbm': option 'n_estimators' must be an int"],
        id="model-option-not-an-int",
    ),
    pytest.param(
        {"random = {}": 'evo = { name = "evolution", population_size = "abc" }'},
        ["key 'search.searchers.evo': searcher 'evolution': option 'population_size' must be an int"],
        id="searcher-option-not-an-int",
    ),
    pytest.param(
        {"random = {}": 'evo = { name = "evolution", population_size = 1 }'},
        ["key 'search.searchers.evo' on nb201-analog/cifar10: need population_size >= 2"],
        id="searcher-option-checked-on-the-space",
    ),
    pytest.param(
        {'name = "tiny"\ndescription = "a tiny experiment"\n': ""},
        ["2 problems: missing required key 'name'; missing required key 'description'", "docs/experiments.md"],
        id="name-and-description-missing-at-once",
    ),
    pytest.param(
        {'name = "tiny"': 'name = "a b"', "seeds = 2\ntest_size": "seeds = 0\ntest_size", "budget = 10": "budjet = 1"},
        ["3 problems: key 'name'", "key 'predictors.seeds'", "unknown key 'search.budjet'. Did you mean 'budget'?"],
        id="every-problem-at-once",
    ),
    pytest.param(
        {TINY[TINY.index("[predictors]") :]: ""},
        ["an experiment needs at least one study section: [predictors], [search] or [multiobjective]"],
        id="no-study-section-shows-bracketed-names",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), FILE_CASES)
def test_bad_experiment_files_fail_dry_run_with_one_line(
    changes: dict[str, str],
    expected: list[str],
    analog_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = TINY.format(results=tmp_path / "results")
    for old, new in changes.items():
        found = old.replace("{{}}", "{}")
        assert found in text
        text = text.replace(found, new)
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = _main(capsys, "run", str(path), "--dry-run", "--root", str(analog_root))
    line = _one_line(err)
    assert code == 2 and line.startswith(f"error: {path}: ")
    for part in expected:
        assert part in line
    assert not (tmp_path / "results").exists()


def test_the_tiny_file_itself_passes_dry_run(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(TINY.format(results=tmp_path / "results"), encoding="utf-8")
    code, out, err = _main(capsys, "run", str(path), "--dry-run", "--root", str(analog_root))
    assert code == 0 and err == "" and "ridge x sizes [8, 24]" in " ".join(out.split())


def test_run_override_seeds_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(capsys, "run", "quickstart", "--dry-run", "--seeds", "1000000000")
    assert code == 2 and "--seeds" in err


def test_errors_keep_bracketed_text(analog_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(capsys, "predict", "-b", "[bold]nb201", "--root", str(analog_root))
    # the user's text reaches the one error line verbatim, not eaten as rich markup
    assert code == 2 and "unknown benchmark '[bold]nb201'" in _one_line(err)


def test_shipped_experiments_describe_what_they_do(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "run", "--list")
    assert code == 0 and not re.search(r"Issue \d", out)
    for path in shipped_experiments().values():
        assert not re.search(r"Issue \d", path.read_text(encoding="utf-8")), path


def test_parego_unknown_option_is_an_experiment_error() -> None:
    from predictbench.experiment import parse_spec
    from predictbench.experiment_run import check_mo_searchers
    from predictbench.spaces import get_space

    with pytest.raises(ExperimentError, match="no option 'n_initiall'. Did you mean 'n_initial'"):
        check_mo_searchers([parse_spec("parego:n_initiall=5")], get_space("nb201"), lambda c: c.label)


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        pytest.param("gcn", {"hidden": 0}, r"^GCNPredictor: hidden must be an int >= 1, got 0$", id="gcn-hidden"),
        pytest.param("gcn", {"loss": "l1"}, r"^GCNPredictor: loss must be one of", id="gcn-loss"),
        pytest.param("comparator", {"dropout": 2.0}, r"^ComparatorPredictor: dropout must be", id="comparator"),
    ],
)
def test_graph_predictor_parameter_errors_name_the_class(name: str, params: dict[str, object], expected: str) -> None:
    from predictbench.predictors import make_predictor

    with pytest.raises(ValueError, match=expected):
        make_predictor(name, **params).fit(None, None)
