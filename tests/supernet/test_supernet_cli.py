"""``predictbench supernet rank-check|search`` through the real entry point: bad options, tiny real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from predictbench.jsonl import read_records
from predictbench.supernet.study import METHODS

pytestmark = pytest.mark.torch

ANALOG = "nb201-analog/cifar10"
TINY_RUN = ["--data", "digits", "--image-size", "8", "--limit", "48", "--epochs", "1", "--channels", "4"]

# (id, command after `predictbench supernet`, fragment of the one-line error); every one exits 2 and writes nothing
BAD = [
    ("method", ["search", "--method", "nas"], "--method must be one of darts, zero-order, fbnet, enas, got 'nas'"),
    ("fbnet-device-on-darts", ["search", "--method", "darts", "--device", "edgegpu"], "--device applies to"),
    ("fbnet-beta-on-enas", ["search", "--method", "enas", "--beta", "0.5"], "--beta applies to --method fbnet"),
    ("arch-lr-on-fbnet", ["search", "--method", "fbnet", "--arch-lr", "0.1"], "--arch-lr applies to"),
    ("arch-lr-zero", ["search", "--method", "darts", "--arch-lr", "0"], "--arch-lr must be > 0, got 0.0"),
    ("seeds-not-ints", ["search", "--method", "darts", "--seeds", "0,a"], "--seeds must be comma-separated"),
    ("seeds-repeated", ["search", "--method", "darts", "--seeds", "1,1"], "--seeds must be distinct"),
    ("seeds-negative", ["search", "--method", "darts", "--seeds", "-1"], "--seeds must be distinct"),
    ("seeds-empty", ["search", "--method", "darts", "--seeds", ","], "--seeds must be distinct"),
    ("search-epochs", ["search", "--method", "darts", "--epochs", "0"], "--epochs must be an int >= 1, got 0"),
    ("batch-size", ["search", "--method", "enas", "--batch-size", "0"], "--batch-size must be an int >= 1"),
    ("data", ["search", "--method", "darts", "--data", "mnist"], "--data must be one of cifar10, digits"),
    ("images-on-digits", ["search", "--method", "darts", "--data", "digits", "--images", "x.npz"], "--images"),
    ("size-on-cifar10", ["search", "--method", "darts", "--image-size", "8"], "--image-size applies to --data"),
    ("limit", ["search", "--method", "darts", "--data", "digits", "--limit", "3"], "--limit must be an int >= 4"),
    ("torch-device", ["search", "--method", "darts", "--data", "digits", "--torch-device", "gpu0"], "--torch-device"),
    ("latency-device", ["search", "--method", "fbnet", "--data", "digits"], "--device: device 'edgegpu'"),
    ("alpha", ["search", "--method", "fbnet", "--alpha", "0"], "--alpha must be > 0, got 0.0"),
    ("beta", ["search", "--method", "fbnet", "--beta", "-1"], "--beta must be >= 0, got -1.0"),
    ("missing-images", ["search", "--method", "darts", "--images", "{tmp}/none.npz"], "real CIFAR-10 images not found"),
    ("unknown-benchmark", ["search", "--method", "darts", "-b", "nb201/cifar11"], "cifar11"),
    ("rank-cells-low", ["rank-check", "--cells", "1"], "--cells must be an int in 2..15625, got 1"),
    ("rank-cells-high", ["rank-check", "--cells", "20000"], "--cells must be an int in 2..15625, got 20000"),
    ("rank-epochs", ["rank-check", "--epochs", "0"], "--epochs must be an int >= 1, got 0"),
    ("rank-gcn-samples", ["rank-check", "--gcn-samples", "1"], "--gcn-samples must be an int >= 2, got 1"),
    ("rank-seed", ["rank-check", "--seed", "-1"], "--seed must be an int >= 0, got -1"),
    ("rank-channels", ["rank-check", "--channels", "0"], "--channels must be an int >= 1, got 0"),
    ("rank-score-images", ["rank-check", "--score-images", "0"], "--score-images must be an int >= 1, got 0"),
    ("rank-out-folder", ["rank-check", "--out", "{tmp}"], "is a folder; give a file name"),
    ("rank-out-no-parent", ["rank-check", "--out", "{tmp}/no/r.json"], "does not exist"),
    ("search-out-no-parent", ["search", "--method", "darts", "--out", "{tmp}/no/r.jsonl"], "does not exist"),
]


def _filled(args: list[str], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in args]


@pytest.mark.parametrize(("args", "message"), [pytest.param(a, m, id=i) for i, a, m in BAD])
def test_bad_option_is_one_line_exit_2_and_writes_nothing(
    args: list[str], message: str, analog_root: Path, tmp_path: Path, run_cli: object
) -> None:
    out = tmp_path / "out.json"
    command = ["supernet", *_filled(args, tmp_path)]
    if "-b" not in command:
        command += ["-b", ANALOG]
    if "--out" not in command:
        command += ["--out", str(out)]
    code, err = run_cli(*command, "--root", str(analog_root))  # type: ignore[operator]
    assert code == 2, err
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert err.startswith("error:") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_rank_check_tiny_run_prints_the_table_and_writes_json(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from predictbench.cli import main

    out = tmp_path / "rank.json"
    args = ["supernet", "rank-check", "-b", ANALOG, *TINY_RUN, "--cells", "12", "--sub-epochs", "1"]
    with pytest.raises(SystemExit) as info:
        main([*args, "--gcn-samples", "8", "--seed", "3", "--out", str(out), "--root", str(analog_root)])
    printed = capsys.readouterr().out
    assert info.value.code == 0, printed
    result = json.loads(out.read_text())
    assert list(result["methods"]) == list(METHODS) and result["seed"] == 3
    assert result["settings"]["n_cells"] == 12 and result["settings"]["channels"] == 4
    assert len(result["cells"]) == 12 and all(len(v) == 12 for v in result["scores"].values())
    for header in ("Kendall tau", "Spearman rho", "fit s", "score s", *METHODS):
        assert header in printed
    tau = result["methods"]["few-shot"]["kendall_tau"]
    assert f"{tau:+.3f}" in printed

    import predictbench as pb
    from predictbench.report.supernet import plot_rank_check, rank_check_table, rank_check_truth

    table = rank_check_table(result)  # the notebook's table and figure, from the file the CLI wrote
    assert list(table.index) == list(METHODS) and table.loc["few-shot", "kendall_tau"] == tau
    bench = pb.load(ANALOG, root=analog_root)
    truth = rank_check_truth(result, bench)
    assert len(truth) == 12 and truth.min() == pytest.approx(result["truth"]["min"])
    assert plot_rank_check(result, bench, tmp_path / "figure.png").stat().st_size > 1000


@pytest.mark.parametrize(("method", "rows"), [("darts", ["darts"]), ("enas", ["enas", "enas-greedy"])])
def test_search_tiny_run_records_each_seed(
    method: str, rows: list[str], analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import predictbench as pb
    from predictbench.cli import main

    out = tmp_path / "cells.jsonl"
    args = ["supernet", "search", "-b", ANALOG, "--method", method, "--seeds", "0,2", *TINY_RUN, "--batch-size", "16"]
    with pytest.raises(SystemExit) as info:
        main([*args, "--out", str(out), "--root", str(analog_root)])
    printed = capsys.readouterr().out
    assert info.value.code == 0, printed
    records = read_records(out)
    assert [(r["method"], r["seed"]) for r in records] == [(m, s) for s in (0, 2) for m in rows]
    bench = pb.load(ANALOG, root=analog_root)
    report = bench.report_metric
    for record in records:
        arch = bench.space.from_index([record["index"]])[0]
        assert arch.key == record["arch"]
        assert record["value"] == pytest.approx(bench.lookup([arch], report.metric, fidelity=report.fidelity)[0])
        free = sum(op in ("none", "skip_connect") for op in bench.space.ops_of(arch))  # type: ignore[attr-defined]
        assert record["parameter_free_edges"] == free
        assert f"{record['value']:.2f}" in printed


@pytest.mark.shared_data
def test_fbnet_search_reports_the_measured_latency(
    nb201_tables_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import predictbench as pb
    from predictbench.cli import main

    out = tmp_path / "fbnet.jsonl"
    args = ["supernet", "search", "-b", "nb201/cifar10", "--method", "fbnet", "--device", "pixel3", *TINY_RUN]
    with pytest.raises(SystemExit) as info:
        main([*args, "--beta", "0.3", "--batch-size", "16", "--out", str(out), "--root", str(nb201_tables_root)])
    assert info.value.code == 0, capsys.readouterr().out
    (record,) = read_records(out)
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    assert record["latency_metric"] == "pixel3_latency" and record["beta"] == 0.3
    row = bench.codes([bench.space.from_index([record["index"]])[0]])[0]
    assert record["latency"] == pytest.approx(bench.column("pixel3_latency")[row])
