from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from predictbench.cli import app, main, parse_component

runner = CliRunner(env={"COLUMNS": "200"})


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "predictbench.cli", *args], capture_output=True, text=True, env=env, check=False
    )


def test_data_list_and_info(analog_root: Path) -> None:
    listing = runner.invoke(app, ["data", "list", "--root", str(analog_root)])
    assert listing.exit_code == 0, listing.output
    assert "nb201-analog/cifar10" in listing.output and "nats-tss/cifar10" in listing.output
    info = runner.invoke(app, ["data", "info", "nb201-analog/cifar10", "--root", str(analog_root)])
    assert info.exit_code == 0, info.output
    assert "baseline_accuracy" in info.output and "sha256" in info.output


def test_predict_and_report(analog_root: Path, tmp_path: Path) -> None:
    results, report = tmp_path / "r.jsonl", tmp_path / "rep"
    args = ["predict", "--root", str(analog_root), "-p", "ridge", "-p", "lgbm:n_estimators=20", "--sizes", "8,24"]
    out = runner.invoke(app, [*args, "--seeds", "2", "--results", str(results), "--report", str(report)])
    assert out.exit_code == 0, out.output
    assert (report / "README.md").is_file() and (report / "tau_vs_train_size.png").is_file()
    assert len(results.read_text().splitlines()) == 8
    rebuilt = runner.invoke(app, ["report", str(results), "--out", str(tmp_path / "rep2")])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "| lgbm:n_estimators=20 |" in (tmp_path / "rep2" / "README.md").read_text()


def test_user_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(capsys, "data", "info", "nb201/cifar1", "--root", str(tmp_path))
    assert code == 2 and "unknown benchmark 'nb201/cifar1'" in err and "Did you mean" in err
    code, _, err = _main(capsys, "predict", "-b", "nb201/cifar10", "--root", str(tmp_path))
    assert code == 2 and "predictbench data convert nb201-tables" in err
    code, _, err = _main(capsys, "data", "convert", "nats", str(tmp_path), "--root", str(tmp_path))
    assert code == 2 and "unknown converter 'nats'. Did you mean" in err
    usage = _cli("predict", "--seeds", "many")  # the installed entry point, in a fresh process
    assert usage.returncode == 2 and "Invalid value for '--seeds'" in usage.stderr


def test_parse_component() -> None:
    assert parse_component("lgbm:encoding=path,n_estimators=50") == (
        "lgbm:encoding=path,n_estimators=50",
        "lgbm",
        {"encoding": "path", "n_estimators": 50},
    )
    with pytest.raises(Exception, match="key=value"):
        parse_component("lgbm:path")


def test_search_command_writes_runs_and_report(analog_root: Path, tmp_path: Path) -> None:
    results, report = tmp_path / "s.jsonl", tmp_path / "srep"
    args = ["search", "--root", str(analog_root), "-s", "random", "-s", "evolution:population_size=8"]
    out = runner.invoke(
        app, [*args, "--budget", "25", "--seeds", "2", "--results", str(results), "--report", str(report)]
    )
    assert out.exit_code == 0, out.output
    assert len(results.read_text().splitlines()) == 4
    assert "| evolution:population_size=8 |" in (report / "README.md").read_text()


TINY = """
name = "tiny"
description = "a tiny experiment"
benchmarks = ["nb201-analog/cifar10"]
results = "{results}"
report = "{report}"

[predictors]
models = ["ridge", "lgbm:n_estimators=20"]
sizes = [8, 24]
seeds = 2

[search]
searchers = ["random", "evolution:population_size=8"]
budget = 25
seeds = 2
"""


def _tiny(tmp_path: Path, **replace: str) -> Path:
    text = TINY.format(results=tmp_path / "results", report=tmp_path / "report")
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the real entry point in-process; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def _walk(command: Any, path: str = "predictbench") -> list[tuple[str, Any]]:
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += _walk(sub, f"{path} {name}")
    return found


def test_every_command_and_option_has_help() -> None:
    commands = _walk(typer.main.get_command(app))
    assert {"predictbench run", "predictbench quickstart", "predictbench proxies compute"} <= {p for p, _ in commands}
    for path, command in commands:
        assert (command.help or command.short_help or "").strip(), f"{path} has no help text"
        for param in command.params:
            assert (getattr(param, "help", None) or "").strip(), f"{path}: {param.name} has no help text"
        shown = runner.invoke(app, [*path.split()[1:], "--help"])
        assert shown.exit_code == 0, f"{path} --help: {shown.output}"


def test_help_documents_exit_codes() -> None:
    shown = runner.invoke(app, ["--help"])
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    for fragment in ("0 success", "1 runtime failure", "2 usage error or bad configuration", "130 interrupted"):
        assert fragment in text


def test_run_tiny_experiment_end_to_end_and_resume(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _tiny(tmp_path)
    code, out, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 0, err
    results, report = tmp_path / "results", tmp_path / "report"
    assert len((results / "predictors.jsonl").read_text().splitlines()) == 8
    assert len((results / "search.jsonl").read_text().splitlines()) == 4
    predictors_md = (report / "predictors" / "README.md").read_text()
    assert "| lgbm:n_estimators=20 |" in predictors_md and "tiny: predictor leaderboard" in predictors_md
    assert "| evolution:population_size=8 |" in (report / "search" / "README.md").read_text()
    index = (report / "README.md").read_text()
    assert "(predictors/README.md)" in index and "(search/README.md)" in index
    assert f"predictbench run {path}" in index and (report / "index.html").is_file()
    assert "leaderboard (mean Kendall τ)" in out
    before = (results / "predictors.jsonl").read_text()
    code, _, _ = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 0 and (results / "predictors.jsonl").read_text() == before  # resumed: nothing recomputed


def test_run_skips_components_whose_module_is_missing(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _tiny(
        tmp_path,
        **{
            'searchers = ["random", "evolution:population_size=8"]': "searchers.random = {}\n"
            'searchers.ghost = { name = "random", requires = "no_such_module_xyz" }',
            '[predictors]\nmodels = ["ridge", "lgbm:n_estimators=20"]\nsizes = [8, 24]\nseeds = 2\n': "",
        },
    )
    code, out, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 0, err
    assert "skipping ghost: needs no_such_module_xyz" in " ".join(out.split())
    assert {line.count('"searcher": "random"') for line in (tmp_path / "results/search.jsonl").open()} == {1}


def test_run_list_and_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    listing = runner.invoke(app, ["run", "--list"])
    assert listing.exit_code == 0
    for name in ("quickstart", "nb201-predictors", "nb201-search", "nb201-random-search", "nb201-hw-pareto"):
        assert name in listing.output
    code, out, _ = _main(capsys, "run", "quickstart", "--dry-run", "--seeds", "3")
    text = " ".join(out.split())
    assert code == 0 and "x 3 seeds" in text and "search: random, evolution, local, guided" in text


def test_run_exit_codes_for_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _tiny(tmp_path, **{"budget = 25": "budjet = 25"})
    code, _, err = _main(capsys, "run", str(bad))
    assert code == 2 and f"{bad}: unknown key 'search.budjet'. Did you mean 'budget'?" in " ".join(err.split())
    code, _, err = _main(capsys, "run", "quickstrat")
    assert code == 2 and "Did you mean 'quickstart'?" in err
    code, _, err = _main(capsys, "run")
    assert code == 2 and "EXPERIMENT" in err
    code, _, err = _main(capsys, "predict", "-p", "ridge:alpah=1", "--root", str(tmp_path))
    assert code == 2 and "predictor 'ridge' has no option 'alpah'. Did you mean 'alpha'?" in err
    code, _, err = _main(capsys, "run", str(_tiny(tmp_path)), "--root", str(tmp_path / "empty"))
    assert code == 2 and "run: predictbench data convert analog-nasbench" in " ".join(err.split())


def test_runtime_failure_exits_1_with_one_line(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from predictbench.predictors.baselines import RidgePredictor

    def broken(self: Any, X: Any, y: Any) -> Any:
        raise RuntimeError("solver diverged")

    monkeypatch.setattr(RidgePredictor, "fit", broken)
    args = ["predict", "-p", "ridge", "--sizes", "8", "--seeds", "1", "--root", str(analog_root)]
    code, _, err = _main(capsys, *args, "--results", str(tmp_path / "r.jsonl"))
    assert code == 1 and "RuntimeError: solver diverged" in err and "--debug" in err
    with pytest.raises(RuntimeError, match="solver diverged"):
        main(["--debug", *args, "--results", str(tmp_path / "r.jsonl")])


def test_ctrl_c_keeps_finished_records_exits_130_and_resumes(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from predictbench.predictors.baselines import RidgePredictor

    fit, calls = RidgePredictor.fit, []

    def interrupted_on_third_fit(self: Any, X: Any, y: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return fit(self, X, y)

    monkeypatch.setattr(RidgePredictor, "fit", interrupted_on_third_fit)
    path = _tiny(tmp_path, **{'"ridge", "lgbm:n_estimators=20"': '"ridge"'})
    code, _, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    results = tmp_path / "results" / "predictors.jsonl"
    assert code == 130
    message = " ".join(err.split())
    assert f"finished results are kept in {results} (2 records)" in message
    assert f"rerun `predictbench run {path} --root {analog_root}` to resume" in message
    assert [json.loads(line)["train_size"] for line in results.read_text().splitlines()] == [8, 24]
    report = tmp_path / "report"
    assert (report / "search" / "README.md").is_file()  # the search study finished before the interruption
    assert not (report / "predictors").exists() and not (report / "README.md").exists()  # nothing from partial runs
    code, _, err = _main(capsys, "run", str(path), "--root", str(analog_root))
    assert code == 0, err
    assert len(results.read_text().splitlines()) == 4 and len(calls) == 5  # the two finished cells were not refit


def test_predict_with_jobs_writes_every_record(analog_root: Path, tmp_path: Path) -> None:
    results = tmp_path / "p.jsonl"
    args = ["predict", "--root", str(analog_root), "-p", "ridge", "--sizes", "8,24", "--seeds", "2", "--jobs", "2"]
    out = runner.invoke(app, [*args, "--results", str(results)])
    assert out.exit_code == 0, out.output
    assert len(results.read_text().splitlines()) == 4


@pytest.mark.shared_data
def test_shipped_nb201_experiment_runs_with_fewer_seeds(
    nb201_tables_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--root", str(nb201_tables_root), "--results", str(tmp_path / "res"), "--report", str(tmp_path / "rep")]
    code, _, err = _main(capsys, "run", "nb201-random-search", "--seeds", "2", *args)
    assert code == 0, err
    runs = [json.loads(line) for line in (tmp_path / "res" / "search.jsonl").read_text().splitlines()]
    assert sorted((r["study"], r["benchmark"], r["budget"], r["seed"]) for r in runs) == [
        ("nb201-random-search", "nb201/cifar10", 200, 0),
        ("nb201-random-search", "nb201/cifar10", 200, 1),
    ]
    assert runs[0]["report_metric"] == "test_acc@200" and len(runs[0]["incumbent_report"]) == 200
    assert "| random |" in (tmp_path / "rep" / "search" / "README.md").read_text()


def test_root_is_the_data_folder_of_stores_loaded_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from predictbench.cli import _data_root
    from predictbench.paths import ENV_VAR, data_root

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "before"))
    with _data_root(tmp_path / "chosen"):
        assert data_root() == tmp_path / "chosen"  # e.g. robot's inputs="nb201/cifar10" resolves here
    assert data_root() == tmp_path / "before"
    with _data_root(None):
        assert data_root() == tmp_path / "before"


@pytest.mark.shared_data
def test_predict_reads_proxies_from_another_store(
    nb201_tables_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch", reason="gcn needs torch")
    results = tmp_path / "p.jsonl"
    gcn = "gcn:proxies='all',proxy_source='nb201/cifar10',epochs=2,hidden=8,mlp_hidden=8,n_layers=1"
    args = ["-b", "nb201/cifar100", "--root", str(nb201_tables_root), "-p", gcn, "--sizes", "8", "--seeds", "1"]
    code, _, err = _main(capsys, "predict", *args, "--test-size", "20", "--results", str(results))
    assert code == 0, err
    [record] = [json.loads(line) for line in results.read_text().splitlines()]
    assert record["predictor"] == gcn and record["benchmark"] == "nb201/cifar100"
    assert record["params"]["proxies"] == "all" and record["params"]["proxy_source"] == "nb201/cifar10"
