from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from predictbench.cli import app, parse_component

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


def test_user_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    unknown = _cli("data", "info", "nb201/cifar1", "--root", str(tmp_path))
    assert unknown.returncode == 2
    assert "unknown benchmark 'nb201/cifar1'" in unknown.stderr and "Did you mean" in unknown.stderr
    not_converted = _cli("predict", "-b", "nb201/cifar10", "--root", str(tmp_path))
    assert not_converted.returncode == 2 and "predictbench data convert nb201-tables" in not_converted.stderr
    bad_converter = _cli("data", "convert", "nats", str(tmp_path), "--root", str(tmp_path))
    assert bad_converter.returncode == 2 and "unknown converter 'nats'. Did you mean" in bad_converter.stderr
    usage = _cli("predict", "--seeds", "many")
    assert usage.returncode == 2


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
