"""The literature's test protocols in PredictorStudy: "sample", "rest", "all-including-train", twin-free splits and
training sizes as fractions of the space (issue 16, item 3).

Studies run on the embedded default store (``nb201-analog/cifar10``, the NB201 space with its functional
canonical form) through the real command line; bad inputs are one line, exit 2, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.store import MetricRef, StoreMeta, write_store
from predictbench.cli import main
from predictbench.experiment import ExperimentError, load_experiment
from predictbench.experiment_run import predictor_study, run_predictor_study
from predictbench.predictors.baselines import RidgePredictor
from predictbench.report.predictors import predictor_report
from predictbench.report.sections import results_report
from predictbench.spaces import get_space
from predictbench.studies import PredictorStudy, ResultsFile, read_results
from predictbench.studies.splits import TrainSize, count_twins, make_split, twin_classes
from predictbench.types import DataFormatError, Metric

CELLS = 15_625


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, err
    return lines[0]


# ---- training sizes as fractions of the space ------------------------------------------------------------------

SIZE_CASES = [
    pytest.param("0.5%", 78, 0.005, id="0.5%"),
    pytest.param("1%", 156, 0.01, id="1%"),
    pytest.param("3%", 469, 0.03, id="3%"),
    pytest.param("5%", 781, 0.05, id="5%"),
    pytest.param("10%", 1563, 0.1, id="10%-half-rounds-up"),
    pytest.param("100%", CELLS, 1.0, id="100%"),
    pytest.param(42, 42, 42 / CELLS, id="count"),
    pytest.param("42", 42, 42 / CELLS, id="count-as-text"),
]


@pytest.mark.parametrize(("given", "count", "fraction"), SIZE_CASES)
def test_sizes_as_counts_or_fractions_of_the_space(given: int | str, count: int, fraction: float) -> None:
    size = TrainSize.parse(given)
    assert size.resolve(CELLS) == count and size.fraction_of(CELLS) == pytest.approx(fraction)


# ---- the splits -------------------------------------------------------------------------------------------------

PROTOCOL_CASES = [
    pytest.param("sample", False, id="sample"),
    pytest.param("rest", False, id="rest"),
    pytest.param("all-including-train", False, id="all-including-train"),
    pytest.param("sample", True, id="sample-twin-free"),
    pytest.param("rest", True, id="rest-twin-free"),
]


@pytest.mark.parametrize(("protocol", "twin_free"), PROTOCOL_CASES)
def test_splits_are_paired_nested_and_follow_the_protocol(bench: Any, protocol: str, twin_free: bool) -> None:
    target = bench.report_metric
    split = make_split(bench, target, 3, 200, protocol=protocol, twin_free=twin_free)
    again = make_split(bench, target, 3, 200, protocol=protocol, twin_free=twin_free)
    other_seed = make_split(bench, target, 4, 200, protocol=protocol, twin_free=twin_free)
    assert np.array_equal(split.train(121), again.train(121)) and np.array_equal(
        split.test_cells(121), again.test_cells(121)
    )
    assert not np.array_equal(split.train(121), other_seed.train(121))
    assert np.array_equal(split.train(24), split.train(121)[:24])  # nested across sizes
    train, test = split.train(121), split.test_cells(121)
    assert len(set(train)) == 121
    if protocol == "sample":
        assert len(test) == 200 and not set(test) & set(split.train_pool)
        uniform = make_split(bench, target, 3, 200)
        assert np.array_equal(test, uniform.test)  # twin-free keeps the uniform test cells
    elif protocol == "rest":
        assert not set(test) & set(train)
        if not twin_free:
            assert len(test) == CELLS - 121 and set(test) | set(train) == set(range(CELLS))
    else:
        assert len(test) == CELLS and set(train) <= set(test)
    classes = twin_classes(bench)
    if twin_free:
        assert count_twins(classes, split.train_pool if protocol == "sample" else train, test) == 0
    elif protocol != "all-including-train":
        assert count_twins(classes, split.train(1000), split.test_cells(1000)) > 0


def test_the_uniform_split_has_twins_the_twin_free_one_none(bench: Any) -> None:
    """About half of 200 uniform test cells have a functional twin among 1,000 training cells (the issue: ~108)."""
    target, classes = bench.report_metric, twin_classes(bench)
    twins = [count_twins(classes, s.train(1000), s.test) for s in (make_split(bench, target, k) for k in range(5))]
    assert 70 < np.mean(twins) < 150
    free = make_split(bench, target, 0, twin_free=True)
    assert count_twins(classes, free.train(1000), free.test) == 0 and len(free.train_pool) > 1000


# ---- records, resume and reports --------------------------------------------------------------------------------


def _predict(capsys: pytest.CaptureFixture[str], root: Path, results: Path, *args: str) -> tuple[int, str, str]:
    return _main(
        capsys, "predict", "--root", str(root), "-p", "ridge", "--seeds", "1", "--results", str(results), *args
    )


RECORD_CASES = [
    pytest.param(["--protocol", "rest"], "rest", "uniform", None, [CELLS - 78, CELLS - 156], id="rest"),
    pytest.param(["--protocol", "all-including-train"], "all-including-train", "uniform", CELLS, [CELLS] * 2, id="all"),
    pytest.param(["--test-size", "50"], "sample", "uniform", 50, [50, 50], id="sample"),
    pytest.param(["--twin-free"], "sample", "twin-free", 200, [200, 200], id="sample-twin-free"),
]


@pytest.mark.parametrize(("args", "protocol", "split", "test_size", "test_cells"), RECORD_CASES)
def test_records_carry_protocol_split_and_sizes_as_given(
    args: list[str], protocol: str, split: str, test_size: int | None, test_cells: list[int],
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results, report = tmp_path / "r.jsonl", tmp_path / "report"
    code, out, err = _predict(capsys, analog_root, results, "--sizes", "0.5%,1%", "--report", str(report), *args)
    assert code == 0, err
    frame = read_results(results).sort_values("train_size")
    assert list(frame["train_size"]) == [78, 156] and list(frame["train_size_given"]) == ["0.5%", "1%"]
    assert list(frame["train_fraction"]) == [0.005, 0.01]
    assert set(frame["protocol"]) == {protocol} and set(frame["split"]) == {split}
    assert list(frame["test_cells"]) == test_cells
    assert frame["test_size"].isna().all() if test_size is None else set(frame["test_size"]) == {test_size}
    if split == "twin-free":
        assert (frame["test_twins"] == 0).all()
    elif protocol != "all-including-train":
        assert (frame["test_twins"] > 0).all()
    readme = (report / "README.md").read_text()
    assert f"Test protocol: {protocol}" in readme and "training sizes: 78 (0.5%), 156 (1%)" in readme
    assert f"test protocol: {protocol}" in out
    if protocol == "all-including-train":
        assert "training cells included" in readme and "not a held-out figure" in readme
        assert "(test protocol: all-including-train)" in readme.splitlines()[0]


def test_parallel_cells_match_serial_ones(bench: Any, tmp_path: Path) -> None:
    def study(results: Path) -> PredictorStudy:
        return PredictorStudy(bench, {"ridge": RidgePredictor()}, results=results, train_sizes=("0.5%", 24),
                              seeds=1, protocol="rest", twin_free=True)  # fmt: skip

    serial = study(tmp_path / "serial.jsonl").run()
    parallel = run_predictor_study(study(tmp_path / "parallel.jsonl"), jobs=2)
    columns = ["train_size", "train_size_given", "protocol", "split", "test_cells", "test_twins", "kendall_tau"]

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values("train_size")[columns].reset_index(drop=True)

    assert rows(serial).equals(rows(parallel))


RESUME_CASES = [
    pytest.param([], ["--protocol", "rest"], "protocol sample vs rest", id="sample-then-rest"),
    pytest.param(
        ["--protocol", "rest"],
        ["--protocol", "all-including-train"],
        "protocol rest vs all-including-train",
        id="rest-then-all",
    ),
    pytest.param([], ["--twin-free"], "split uniform vs twin-free", id="uniform-then-twin-free"),
]


@pytest.mark.parametrize(("first", "then", "expected"), RESUME_CASES)
def test_resuming_with_another_protocol_is_refused(
    first: list[str], then: list[str], expected: str, analog_root: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    results = tmp_path / "r.jsonl"
    assert _predict(capsys, analog_root, results, "--sizes", "24", *first)[0] == 0
    before = results.read_bytes()
    code, _, err = _predict(capsys, analog_root, results, "--sizes", "24", *then)
    assert code == 2 and expected in _error_line(err)
    assert results.read_bytes() == before


def test_reports_never_pool_protocols(analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample, rest = tmp_path / "sample.jsonl", tmp_path / "rest.jsonl"
    assert _predict(capsys, analog_root, sample, "--sizes", "24")[0] == 0
    assert _predict(capsys, analog_root, rest, "--sizes", "24", "--protocol", "rest")[0] == 0
    mixed = read_results(sample, rest)
    with pytest.raises(DataFormatError, match="several test protocols: rest \\(uniform\\), sample \\(uniform\\)"):
        predictor_report(mixed, tmp_path / "mixed")
    folders = results_report([sample, rest], tmp_path / "reports")
    assert len(folders) == 2
    titles = sorted((f / "README.md").read_text().splitlines()[0] for f in folders)
    assert titles == [
        "# Predictor leaderboard: nb201-analog/cifar10 (study predictor-study, target baseline_accuracy, protocol "
        "rest, split uniform)",
        "# Predictor leaderboard: nb201-analog/cifar10 (study predictor-study, target baseline_accuracy, protocol "
        "sample, split uniform, test_size 200)",
    ]


def test_records_of_older_versions_count_as_the_uniform_sample(
    analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Records written before protocols existed (no protocol fields) resume and report as the uniform sample."""
    results = tmp_path / "r.jsonl"
    assert _predict(capsys, analog_root, results, "--sizes", "24,42")[0] == 0
    new_fields = ("protocol", "split", "train_size_given", "train_fraction", "test_cells", "test_twins")
    older = [{k: v for k, v in r.items() if k not in new_fields} for r in ResultsFile(results).records()]
    results.write_text("".join(json.dumps(r) + "\n" for r in older))
    code, _, err = _predict(capsys, analog_root, results, "--sizes", "24,42,71")
    assert code == 0, err
    assert [r.get("protocol") for r in ResultsFile(results).records()] == [None, None, "sample"]  # one new cell
    assert results_report([results], tmp_path / "report") == [tmp_path / "report"]  # one report, not two


# ---- the experiment file ----------------------------------------------------------------------------------------

EXPERIMENT = """\
name = "protocols"
description = "protocols of the literature"
benchmarks = ["nb201-analog/cifar10"]
results = "{results}"

[predictors]
models = ["ridge"]
sizes = ["0.5%", 24]
seeds = 1
protocol = "rest"
twin_free = true
"""


def test_experiment_file_reads_protocol_and_fraction_sizes(bench: Any, tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT.format(results=tmp_path / "results"))
    exp = load_experiment(path)
    assert exp.predictors is not None
    assert exp.predictors.sizes == ("0.5%", 24) and exp.predictors.test_size is None
    assert (exp.predictors.protocol, exp.predictors.twin_free) == ("rest", True)
    study = predictor_study(exp, bench)
    assert study.protocol == "rest" and study.twin_free and list(study.sizes) == [78, 24]


# ---- bad inputs -------------------------------------------------------------------------------------------------


def _toy_sss_root(root: Path) -> Path:
    """A real store (written by the project's writer) of 300 NATS-sss cells: a space without a canonical form."""
    keys = [a.key for a in get_space("nats-sss").from_index(range(300))]  # type: ignore[attr-defined]
    acc = Metric("acc", True, "%", "objective", 0, 100)
    meta = StoreMeta(
        name="toy/sss", space="nats-sss", task="cifar10", metrics={"acc": acc}, fidelities=(12,), default_fidelity=12,
        seeds=(-1,), search=MetricRef("acc", 12), report=MetricRef("acc", 12),
    )  # fmt: skip
    accuracy = np.random.default_rng(0).uniform(50, 90, len(keys))
    write_store(
        root,
        meta,
        pd.DataFrame({"key": keys}),
        pd.DataFrame({"key": keys, "seed": -1, "fidelity": 12, "acc": accuracy}),
    )
    return root


# (arguments after `predict`, text the single error line must contain)
BAD_CLI_CASES = [
    pytest.param(
        ["--protocol", "holdout"],
        "unknown test protocol 'holdout'. Known: sample, rest, all-including-train",
        id="unknown-protocol",
    ),
    pytest.param(["--protocol", "Rest"], "unknown test protocol 'Rest'. Did you mean 'rest'?", id="protocol-case"),
    pytest.param(["--sizes", "0%"], "training size '0%': a percentage must be above 0% and at most 100%", id="0%"),
    pytest.param(
        ["--sizes", "150%"], "training size '150%': a percentage must be above 0% and at most 100%", id="150%"
    ),
    pytest.param(["--sizes", "-1%"], "training size '-1%': expected a count (e.g. 78) or a percentage", id="-1%"),
    pytest.param(["--sizes", "0.5"], "training size '0.5': expected a count (e.g. 78) or a percentage", id="no-%"),
    pytest.param(["--sizes", "0.001%"], "training size 0.001% is 0 of 15,625 cells: expected at least 2", id="tiny%"),
    pytest.param(["--sizes", "1%,156"], "training sizes 1% and 156 are both 156 cells of 15,625", id="same-count"),
    pytest.param(["--sizes", "99%"], "train size 15469 exceeds the 15425 cells left for training", id="sample-full"),
    pytest.param(["--sizes", "99%", "--test-size", "300"], "minus test_size=300", id="sample-with-test-size"),
    pytest.param(
        ["--protocol", "rest", "--sizes", "15610"],
        "train size 15610 leaves 15 test cells under protocol 'rest' (at least 20 needed)",
        id="rest-full",
    ),
    pytest.param(
        ["--protocol", "all-including-train", "--sizes", "15626"],
        "train size 15626 exceeds the cells to train on: 15625 of 15625 cells",
        id="all-full",
    ),
    pytest.param(
        ["--protocol", "rest", "--test-size", "100"],
        "'--test-size': applies to --protocol sample only",
        id="test-size-with-rest",
    ),
    pytest.param(
        ["--protocol", "all-including-train", "--twin-free"],
        "a twin-free split does not apply to protocol 'all-including-train'",
        id="twin-free-all",
    ),
    pytest.param(["--twin-free", "--sizes", "14000"], "exceeds the", id="twin-free-pool-too-small"),
    pytest.param(
        ["--twin-free", "--protocol", "rest", "--sizes", "15600"],
        "train size 15600 leaves 3 twin-free test cells",
        id="twin-free-rest",
    ),
    pytest.param(
        ["--twin-free", "-b", "toy/sss", "--sizes", "24"],
        "a twin-free split does not apply to toy/sss: its space 'nats-sss' declares no canonical form",
        id="twin-free-no-canonical-form",
    ),
]


@pytest.mark.parametrize(("args", "expected"), BAD_CLI_CASES)
def test_bad_protocol_inputs_exit_2_with_one_line(
    args: list[str], expected: str, analog_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = analog_root
    if "toy/sss" in args:
        root = _toy_sss_root(tmp_path / "data")
    results = tmp_path / "r.jsonl"
    code, _, err = _predict(capsys, root, results, *args)
    assert code == 2 and expected in _error_line(err), err
    assert not results.exists()


# (TOML text replaced in EXPERIMENT, text the error must contain)
BAD_FILE_CASES = [
    pytest.param(
        {'protocol = "rest"': 'protocol = "holdout"'},
        "key 'predictors.protocol': unknown test protocol 'holdout'",
        id="unknown-protocol",
    ),
    pytest.param({'sizes = ["0.5%", 24]': 'sizes = ["0%"]'}, "a percentage must be above 0% and at most 100%", id="0%"),
    pytest.param(
        {'sizes = ["0.5%", 24]': "sizes = [0.5]"},
        "key 'predictors.sizes': expected a non-empty list of integers in 2..10000000 or percentages such as \"0.5%\"",
        id="float-size",
    ),
    pytest.param(
        {"twin_free = true": 'twin_free = "yes"'},
        "key 'predictors.twin_free': expected true or false",
        id="twin-free-not-a-bool",
    ),
    pytest.param(
        {"twin_free = true": "twin_free = true\ntest_size = 100"},
        "key 'predictors.test_size': expected no test_size with protocol 'rest'",
        id="test-size-with-rest",
    ),
    pytest.param(
        {'protocol = "rest"': 'protocol = "all-including-train"'},
        "key 'predictors.twin_free': expected false with protocol 'all-including-train'",
        id="twin-free-all",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), BAD_FILE_CASES)
def test_bad_protocol_keys_in_experiment_files(changes: dict[str, str], expected: str, tmp_path: Path) -> None:
    text = EXPERIMENT.format(results=tmp_path / "results")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "exp.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert expected in str(info.value) and len(str(info.value).splitlines()) == 1
