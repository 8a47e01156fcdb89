from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

import predictbench as pb
from predictbench.report.provenance import component_configs, provenance_facts
from predictbench.studies.results import ResultsFile, command_line, read_results, store_digest
from predictbench.testing import toy_benchmark


def test_store_digest_is_the_content_digest_and_ignores_location(tmp_path: Path) -> None:
    bench = toy_benchmark(tmp_path / "a", n=40)
    digest = store_digest(bench)
    assert digest == bench.meta.content_sha256 and len(digest) == 64
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert store_digest(pb.load(bench.name, root=tmp_path / "b")) == digest  # content, not location
    assert store_digest(toy_benchmark(tmp_path / "c", n=40, seed=1)) != digest  # other cells, other digest


def test_records_are_stamped_with_time_and_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/predictbench", "predict", "-p", "lgbm:encoding=path x"])
    assert command_line() == "predictbench predict -p 'lgbm:encoding=path x'"
    rf = ResultsFile(tmp_path / "r.jsonl")
    rf.append({"a": 1})
    rf.append({"a": 2, "command": "given"})
    frame = read_results(rf.path)
    assert frame["command"].tolist() == ["predictbench predict -p 'lgbm:encoding=path x'", "given"]
    assert pd.to_datetime(frame["recorded_at"]).notna().all()
    monkeypatch.setattr(sys, "argv", ["/x/site-packages/pytest/__main__.py", "-q"])
    assert command_line() == "python -m pytest -q"
    monkeypatch.setattr(sys, "argv", [""])
    assert command_line() == ""


def test_configs_separate_shared_and_per_cell_parameters() -> None:
    records = pd.DataFrame(
        {"predictor": ["a", "a", "b"], "params": [{"alpha": 1, "seed": 5}, {"alpha": 1, "seed": 9}, {"k": "v"}]}
    )
    table = component_configs(records, "predictor", "params")
    assert table.loc["a"].tolist() == ['{"alpha": 1}', "seed"]
    assert table.loc["b"].tolist() == ['{"k": "v"}', ""]
    records["component"] = ["evolution", "evolution", "random"]  # records that name what stands behind a label
    table = component_configs(records, "predictor", "params")
    assert table.loc["a"].tolist() == ["evolution", '{"alpha": 1}', "seed"]


def test_facts_from_old_records_say_not_recorded() -> None:
    records = pd.DataFrame({"benchmark": ["toy/x"] * 2, "seed": [0, 1], "version": ["0.1.0"] * 2})
    facts = dict(provenance_facts(records, {"budgets": "10"}).items)
    assert facts["store sha256 (toy/x)"] == "not recorded" and facts["command"] == "not recorded"
    assert facts["budgets"] == "10" and facts["seeds"] == "[0, 1]" and facts["records"] == "2"
