from __future__ import annotations

from pathlib import Path

import pytest

from predictbench.benchmarks import BenchmarkNotConverted, load
from predictbench.experiment import (
    Component,
    ExperimentError,
    load_experiment,
    parse_spec,
    resolve_experiment,
    shipped_experiments,
)
from predictbench.experiment_run import (
    convert_missing,
    missing_modules,
    multiobjective_study,
    predictor_study,
    report_dir,
    run_predictor_study,
    search_study,
    unconverted,
)
from predictbench.multiobjective.objectives import format_ref
from predictbench.studies import ResultsFile

VALID = """
name = "tiny"
description = "a tiny experiment"
benchmarks = ["nb201-analog/cifar10"]
results = "{results}"
report = "{report}"

[predictors]
models = ["ridge", "lgbm:n_estimators=20"]
sizes = [8, 24]
seeds = 2

[search.searchers]
random = {{}}
"evo-small" = {{ name = "evolution", population_size = 8 }}

[search]
budget = 25
seeds = [3, 5]
"""


def _write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _valid(tmp_path: Path) -> str:
    return VALID.format(results=tmp_path / "results", report=tmp_path / "report")


def test_valid_file_reads_into_typed_sections(tmp_path: Path) -> None:
    exp = load_experiment(_write(tmp_path, _valid(tmp_path)))
    assert exp.name == "tiny" and exp.benchmarks == ("nb201-analog/cifar10",)
    assert exp.predictors is not None and exp.search is not None
    assert [m.label for m in exp.predictors.models] == ["ridge", "lgbm:n_estimators=20"]
    assert exp.predictors.models[1].params == {"n_estimators": 20}
    assert exp.predictors.sizes == (8, 24) and exp.predictors.seeds == (0, 1) and exp.predictors.test_size == 200
    assert exp.search.searchers[1] == Component("evo-small", "evolution", {"population_size": 8})
    assert exp.search.seeds == (3, 5) and exp.search.budget == 25 and exp.search.jobs == 1
    assert exp.predictor_results == tmp_path / "results" / "predictors.jsonl"
    assert report_dir(exp, "search", "nb201-analog/cifar10") == tmp_path / "report" / "search"


def test_defaults_for_paths_and_seeds(tmp_path: Path) -> None:
    text = 'name = "d"\ndescription = "x"\nbenchmarks = ["nb201/cifar10"]\n[search]\nsearchers = ["random"]\n'
    exp = load_experiment(_write(tmp_path, text))
    assert exp.results == Path("results/d") and exp.report == Path("reports/d")
    assert exp.search is not None and exp.search.seeds == tuple(range(20)) and exp.predictors is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("budget = 25", "budjet = 25"), "unknown key 'search.budjet'. Did you mean 'budget'?"),
        (("seeds = 2", 'seeds = "many"'), "key 'predictors.seeds': expected a count in 1..100000"),
        (("sizes = [8, 24]", "sizes = [8, 1]"), "key 'predictors.sizes': expected a non-empty list of integers in 2.."),
        (("budget = 25", "budget = true"), "key 'search.budget': expected an integer in 1..10000000, got True (bool)"),
        (('"ridge"', '"ridgee"'), "key 'predictors.models.ridgee': unknown predictor 'ridgee'. Did you mean 'ridge'?"),
        (
            ("population_size = 8", "populaton_size = 8"),
            "key 'search.searchers.evo-small': searcher 'evolution' has no option 'populaton_size'. "
            "Did you mean 'population_size'?",
        ),
        (("population_size = 8", "seed = 8"), "'seed' is not an option here"),
        (('"nb201-analog/cifar10"', '"nb201/cifar1"'), "key 'benchmarks': unknown benchmark 'nb201/cifar1'. Did you"),
        (('name = "tiny"', 'name = "tiny one"'), "key 'name': expected letters, digits"),
        (('description = "a tiny experiment"', ""), "missing required key 'description'"),
        (('["ridge", "lgbm:n_estimators=20"]', '["ridge", "ridge"]'), "expected distinct labels, got ['ridge']"),
        (('"lgbm:n_estimators=20"', '"lgbm:n_estimators"'), "expected key=value in 'lgbm:n_estimators'"),
        (("budget = 25", "budget = 25\nsearch_metric = 'acc@twelve'"), "expected 'metric' or 'metric@fidelity'"),
        (("[predictors]", "predictors = 3\n[other]"), "key 'predictors': expected a table ([section]), got 3 (int)"),
    ],
)
def test_schema_errors_name_the_file_and_the_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    _assert_names_file_and_key(tmp_path, _valid(tmp_path), change, expected)


def _assert_names_file_and_key(tmp_path: Path, text: str, change: tuple[str, str], expected: str) -> None:
    """Loading ``text`` with ``change`` applied fails with one message starting with the file's path."""
    old, new = change
    assert old in text
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and expected in message


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match=r"not valid TOML"):
        load_experiment(_write(tmp_path, "name = \n"))
    no_study = 'name = "x"\ndescription = "x"\nbenchmarks = ["nb201/cifar10"]\n'
    with pytest.raises(ExperimentError, match=r"needs at least one study section: \[predictors\], \[search\] or"):
        load_experiment(_write(tmp_path, no_study))
    bad_converter = no_study + '[data]\nconverter = "analog"\n[search]\nsearchers = ["random"]\n'
    with pytest.raises(ExperimentError, match=r"key 'data.converter': unknown converter 'analog'. Did you mean"):
        load_experiment(_write(tmp_path, bad_converter))
    with pytest.raises(ExperimentError, match=r"experiment file not found: .*missing.toml"):
        load_experiment(tmp_path / "missing.toml")
    with pytest.raises(ExperimentError, match=r"unknown experiment 'quickstrat'.*Did you mean 'quickstart'"):
        resolve_experiment("quickstrat")


def test_table_components_take_name_and_requires(tmp_path: Path) -> None:
    text = _valid(tmp_path).replace("random = {}", 'random = { requires = ["no_such_module_xyz", "json"] }')
    exp = load_experiment(_write(tmp_path, text))
    assert exp.search is not None
    random = exp.search.searchers[0]
    assert random.requires == ("no_such_module_xyz", "json") and random.params == {}
    assert missing_modules(random) == ["no_such_module_xyz"]
    with pytest.raises(ExperimentError, match=r"key 'search.searchers.random.requires': expected a module name"):
        load_experiment(_write(tmp_path, text.replace('["no_such_module_xyz", "json"]', "3")))


def test_parse_spec_reads_python_literals() -> None:
    spec = parse_spec("mlp:hidden=(32, 32),epochs=20,loss='a,b'")
    assert spec == Component(
        "mlp:hidden=(32, 32),epochs=20,loss='a,b'", "mlp", {"hidden": (32, 32), "epochs": 20, "loss": "a,b"}
    )
    assert parse_spec("lgbm:encoding=path,learning_rate=0.1").params == {"encoding": "path", "learning_rate": 0.1}
    with pytest.raises(ExperimentError, match="no name"):
        parse_spec(":a=1")


def test_overrides_apply_to_every_study(tmp_path: Path) -> None:
    exp = load_experiment(_write(tmp_path, _valid(tmp_path))).with_overrides(seeds=3, jobs=2, report=tmp_path / "r2")
    assert exp.predictors is not None and exp.search is not None
    assert exp.predictors.seeds == exp.search.seeds == (0, 1, 2)
    assert exp.predictors.jobs == exp.search.jobs == 2 and exp.report == tmp_path / "r2"
    with pytest.raises(ExperimentError, match="--seeds must be an integer in 1..100000"):
        exp.with_overrides(seeds=0)


@pytest.mark.parametrize("name", sorted(shipped_experiments()))
def test_shipped_experiments_validate(name: str) -> None:
    from predictbench.search import SEARCHERS

    if name == "robot" and "robot" not in SEARCHERS:
        pytest.skip("the 'robot' searcher is not registered yet")
    exp = load_experiment(name)
    assert exp.name == name and exp.description
    assert exp.data is not None, "shipped experiments say how to convert their benchmarks"
    assert exp.predictors is not None or exp.search is not None or exp.multiobjective is not None


def test_shipped_experiments_cover_the_published_tables() -> None:
    assert {"quickstart", "nb201-predictors", "nb201-search", "nb201-random-search", "robot", "nb201-hw-pareto"} <= set(
        shipped_experiments()
    )
    quick = load_experiment("quickstart")
    assert quick.predictors is not None and quick.search is not None
    assert quick.benchmarks == ("nb201-analog/cifar10",)
    assert {"lgbm", "xgb", "bananas"} <= {m.name for m in quick.predictors.models}
    assert {"random", "evolution", "local", "guided"} <= {s.name for s in quick.search.searchers}
    random_search = load_experiment("nb201-random-search").search
    assert random_search is not None and random_search.budget == 200 and len(random_search.seeds) == 500
    pareto = load_experiment("nb201-hw-pareto")
    assert pareto.benchmarks == ("nb201/cifar10",) and pareto.multiobjective is not None
    assert pareto.multiobjective.objectives == ("valid_acc@12", "edgegpu_latency")
    assert [c.name for c in pareto.multiobjective.searchers] == ["random", "nsga2", "parego"]


def test_searcher_option_values_fail_before_running(tmp_path: Path, analog_root: Path) -> None:
    text = _valid(tmp_path).replace("population_size = 8", "population_size = -1")
    exp = load_experiment(_write(tmp_path, text))
    with pytest.raises(ExperimentError, match=r"key 'search.searchers.evo-small': .*population_size"):
        search_study(exp, load("nb201-analog/cifar10", root=analog_root), analog_root)


def test_parallel_predictor_study_matches_serial_and_resumes(tmp_path: Path, analog_root: Path) -> None:
    exp = load_experiment(_write(tmp_path, _valid(tmp_path)))
    bench = load("nb201-analog/cifar10", root=analog_root)
    parallel = predictor_study(exp, bench)
    first = run_predictor_study(parallel, jobs=2)
    assert len(first) == 8 and len(ResultsFile(parallel.results).records()) == 8
    serial_exp = exp.with_overrides(results=tmp_path / "serial")
    serial = run_predictor_study(predictor_study(serial_exp, bench), jobs=1)
    columns = ["predictor", "train_size", "seed", "kendall_tau", "spearman", "params"]
    order = ["predictor", "train_size", "seed"]
    left = first[columns].sort_values(order).reset_index(drop=True)
    right = serial[columns].sort_values(order).reset_index(drop=True)
    assert left.equals(right)
    # a rerun (either way) finds every cell recorded
    run_predictor_study(predictor_study(exp, bench), jobs=2)
    run_predictor_study(predictor_study(exp, bench), jobs=1)
    assert len(ResultsFile(parallel.results).records()) == 8


def test_convert_missing_uses_the_data_hint(tmp_path: Path) -> None:
    text = 'name = "c"\ndescription = "x"\nbenchmarks = ["nb201-analog/cifar10"]\n[search]\nsearchers = ["random"]\n'
    root = tmp_path / "data"
    no_hint = load_experiment(_write(tmp_path, text))
    with pytest.raises(BenchmarkNotConverted, match="run: predictbench data convert analog-nasbench"):
        convert_missing(no_hint, root)
    absent = load_experiment(_write(tmp_path, text + f'[data]\nconverter = "nb201-tables"\nsource = "{tmp_path}/x"\n'))
    with pytest.raises(BenchmarkNotConverted, match=r"\[data\] source = .* does not exist here"):
        convert_missing(absent, root)
    hinted = load_experiment(_write(tmp_path, text + '[data]\nconverter = "analog-nasbench"\n'))
    assert unconverted(hinted, root) == ["nb201-analog/cifar10"]
    written = convert_missing(hinted, root)
    assert written and unconverted(hinted, root) == [] and convert_missing(hinted, root) == []


PARETO = """
name = "pareto"
description = "a multi-objective experiment"
benchmarks = ["nb201-analog/cifar10"]
results = "{results}"

[multiobjective]
objectives = ["baseline_accuracy", "analog_drift_86400@200"]
budget = 30
seeds = [1, 4]
jobs = 2

[multiobjective.searchers]
random = {{}}
"nsga2-small" = {{ name = "nsga2", population_size = 4 }}
"""


def _pareto(tmp_path: Path) -> str:
    return PARETO.format(results=tmp_path / "results")


def test_multiobjective_section_reads_into_its_study(tmp_path: Path) -> None:
    exp = load_experiment(_write(tmp_path, _pareto(tmp_path)))
    section = exp.multiobjective
    assert section is not None and exp.predictors is None and exp.search is None
    assert section.objectives == ("baseline_accuracy", "analog_drift_86400@200")
    assert section.searchers[1] == Component("nsga2-small", "nsga2", {"population_size": 4})
    assert section.budget == 30 and section.seeds == (1, 4) and section.jobs == 2
    assert exp.multiobjective_results == tmp_path / "results" / "multiobjective.jsonl"
    changed = exp.with_overrides(seeds=3, jobs=1)
    assert changed.multiobjective is not None
    assert changed.multiobjective.seeds == (0, 1, 2) and changed.multiobjective.jobs == 1
    without = _pareto(tmp_path).replace('objectives = ["baseline_accuracy", "analog_drift_86400@200"]', "")
    defaults = load_experiment(_write(tmp_path, without))
    assert defaults.multiobjective is not None and defaults.multiobjective.objectives is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('["baseline_accuracy", "analog_drift_86400@200"]', '["baseline_accuracy"]'),
            "key 'multiobjective.objectives': expected a list of at least 2 'metric' or 'metric@fidelity' strings",
        ),
        (
            ('"analog_drift_86400@200"', '"analog_drift_86400@day"'),
            "key 'multiobjective.objectives': expected a list of at least 2",
        ),
        (
            ('"analog_drift_86400@200"', '"baseline_accuracy"'),
            "key 'multiobjective.objectives': expected distinct values",
        ),
        (("budget = 30", "budget = 0"), "key 'multiobjective.budget': expected an integer in 1..10000000, got 0 (int)"),
        (("budget = 30", "budjet = 30"), "unknown key 'multiobjective.budjet'. Did you mean 'budget'?"),
        (
            ('name = "nsga2"', 'name = "nsga3"'),
            "key 'multiobjective.searchers.nsga2-small': unknown multi-objective searcher 'nsga3'. Did you mean",
        ),
        (
            ("population_size = 4", "populaton_size = 4"),
            "searcher 'nsga2' has no option 'populaton_size'. Did you mean 'population_size'",
        ),
        (("population_size = 4", "seed = 4"), "'seed' is not an option here"),
        (
            ("[multiobjective.searchers]", "[multiobjective.searcher]"),
            "missing required key 'multiobjective.searchers'",
        ),
    ],
)
def test_multiobjective_schema_errors_name_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    _assert_names_file_and_key(tmp_path, _pareto(tmp_path), change, expected)


def test_multiobjective_study_checks_objectives_and_option_values(tmp_path: Path, analog_root: Path) -> None:
    bench = load("nb201-analog/cifar10", root=analog_root)
    exp = load_experiment(_write(tmp_path, _pareto(tmp_path)))
    study = multiobjective_study(exp, bench, analog_root)
    assert study.seeds == (1, 4) and study.jobs == 2 and study.results == exp.multiobjective_results
    assert [format_ref(r) for r in study.resolved_objectives()[0]] == [
        "baseline_accuracy@200",
        "analog_drift_86400@200",
    ]
    lacking = load_experiment(_write(tmp_path, _pareto(tmp_path).replace("analog_drift_86400@200", "edgegpu_latency")))
    with pytest.raises(
        ExperimentError, match=r"key 'multiobjective.objectives' on nb201-analog/cifar10: unknown metric"
    ):
        multiobjective_study(lacking, bench, analog_root)
    bad_value = load_experiment(
        _write(tmp_path, _pareto(tmp_path).replace("population_size = 4", "population_size = 1"))
    )
    with pytest.raises(ExperimentError, match=r"key 'multiobjective.searchers.nsga2-small': population_size must be"):
        multiobjective_study(bad_value, bench, analog_root)
