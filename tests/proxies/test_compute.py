"""``predictbench proxies compute``: store tables, declarations, resuming, refusing to overwrite, CLI."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the proxies need torch (pip install torch==2.13.0, CPU build)")

import predictbench as pb  # noqa: E402
from predictbench.benchmarks.store import read_store, write_store  # noqa: E402
from predictbench.proxies import PROXY_METRICS  # noqa: E402
from predictbench.proxies import compute as compute_module  # noqa: E402
from predictbench.proxies.compute import RUNS_FOLDER, compute_store_proxies  # noqa: E402
from predictbench.proxies.metrics import compute_proxies  # noqa: E402
from predictbench.types import Arch  # noqa: E402

NAME = "nb201-analog/cifar10"
TINY = {"channels": 4, "cells_per_stage": 1, "batch_size": 8, "threads": 1}
PROXIES = ["synflow", "params", "jacov"]


@pytest.fixture
def root(analog_root: Path, tmp_path: Path) -> Path:
    """A private copy of the embedded default store (the session store stays untouched)."""
    shutil.copytree(analog_root / NAME, tmp_path / NAME)
    return tmp_path


def test_compute_writes_a_proxies_table_the_benchmark_reads(root: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    report = compute_store_proxies(
        NAME, PROXIES, root=root, limit=3, progress=lambda d, t, s: seen.append((d, t, s)), **TINY
    )
    assert report.columns == ["synflow_live", "params_live", "jacob_cov_live"]
    assert (report.computed, report.skipped, report.merged) == (3, 0, True)
    assert set(report.seconds_per_proxy) == {"synflow", "params", "jacob_cov"}
    assert seen[-1][:2] == (3, 3) and "s/arch" in seen[-1][2]
    assert not (root / NAME / RUNS_FOLDER).exists()

    bench = pb.load(NAME, root=root)
    assert bench.proxy_names == report.columns
    for column, base in zip(report.columns, ["synflow", "params", "jacob_cov"], strict=True):
        metric = bench.metrics[column]
        assert metric.kind == "proxy" and metric.higher_is_better == PROXY_METRICS[base].higher_is_better
        assert "synthetic" in metric.description
    keys = bench.keys()[:3]
    values = bench.proxies(keys)
    assert np.isfinite(values).all()
    direct = compute_proxies(
        Arch("nb201", str(keys[0])), ["synflow", "params", "jacob_cov"], channels=4, cells_per_stage=1, batch_size=8
    ).values
    np.testing.assert_allclose(values[0], [direct["synflow"], direct["params"], direct["jacob_cov"]], rtol=1e-5)
    assert np.isnan(bench.proxies(bench.keys()[3:4], fill=False)).all()  # not computed yet
    prov = bench.meta.provenance["proxies_compute"]
    assert set(prov["columns"]) == set(report.columns)
    assert prov["settings"][prov["columns"]["synflow_live"]]["batch_size"] == 8


def test_rerun_extends_and_resume_skips_done_cells(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compute_store_proxies(NAME, PROXIES, root=root, limit=2, **TINY)
    calls: list[str] = []
    original = compute_module._compute_one

    def counting(space: str, key: str, settings: compute_module.ComputeSettings) -> dict[str, object]:
        calls.append(key)
        if len(calls) == 2:
            raise KeyboardInterrupt  # interrupted while computing the second new cell
        return original(space, key, settings)

    monkeypatch.setattr(compute_module, "_compute_one", counting)
    with pytest.raises(KeyboardInterrupt):
        compute_store_proxies(NAME, PROXIES, root=root, limit=5, **TINY)
    partial_files = list((root / NAME / RUNS_FOLDER).glob("*.jsonl"))
    assert len(partial_files) == 1 and len(partial_files[0].read_text().splitlines()) == 1

    calls.clear()
    monkeypatch.setattr(compute_module, "_compute_one", lambda *a: (calls.append(a[1]), original(*a))[1])
    report = compute_store_proxies(NAME, PROXIES, root=root, limit=5, **TINY)
    assert (report.computed, report.skipped) == (2, 3)  # 2 in the store, 1 in the partial file
    assert len(calls) == 2
    bench = pb.load(NAME, root=root)
    assert np.isfinite(bench.proxies(bench.keys()[:5])).all()
    assert not (root / NAME / RUNS_FOLDER).exists()


def test_existing_columns_are_never_overwritten_without_force(root: Path) -> None:
    # a converter's proxy column of the same name
    store = read_store(root / NAME)
    converter_proxies = pd.DataFrame({"key": store.archs["key"], "synflow": np.arange(len(store.archs), dtype=float)})
    metrics = {**store.meta.metrics, "synflow": PROXY_METRICS["synflow"]}
    meta = type(store.meta)(**{**store.meta.__dict__, "metrics": metrics})
    write_store(root, meta, store.archs, store.results, converter_proxies, store.curves)

    with pytest.raises(ValueError, match="converter"):
        compute_store_proxies(NAME, ["synflow"], root=root, limit=2, suffix="", **TINY)
    report = compute_store_proxies(NAME, ["synflow"], root=root, limit=2, **TINY)  # default suffix: no clash
    bench = pb.load(NAME, root=root)
    assert bench.proxy_names == ["synflow", "synflow_live"]
    np.testing.assert_array_equal(bench.proxies(bench.keys()[:4], ["synflow"]).ravel(), [0, 1, 2, 3])

    other = {**TINY, "seed": 7}
    with pytest.raises(ValueError, match="other settings"):
        compute_store_proxies(NAME, ["synflow"], root=root, limit=2, **other)
    compute_store_proxies(NAME, ["synflow"], root=root, limit=1, force=True, **other)
    bench = pb.load(NAME, root=root)
    live = bench.proxies(bench.keys()[:2], ["synflow_live"], fill=False).ravel()
    assert math.isfinite(live[0]) and math.isnan(live[1])  # replaced by this run's values only
    assert report.columns == ["synflow_live"]


def test_a_metric_of_another_kind_is_never_replaced(root: Path) -> None:
    store = read_store(root / NAME)
    results = store.results.assign(zen_acc=1.0)
    metrics = {**store.meta.metrics, "zen_acc": pb.Metric("zen_acc", True, kind="objective")}
    meta = type(store.meta)(**{**store.meta.__dict__, "metrics": metrics})
    write_store(root, meta, store.archs, results, store.proxies, store.curves)
    with pytest.raises(ValueError, match="objective"):
        compute_store_proxies(NAME, ["zen"], root=root, suffix="_acc", force=True, limit=1, **TINY)


def test_parallel_jobs_give_the_sequential_values(root: Path) -> None:
    compute_store_proxies(NAME, ["synflow", "params"], root=root, limit=3, suffix="_seq", **TINY)
    compute_store_proxies(NAME, ["synflow", "params"], root=root, limit=3, suffix="_par", jobs=2, **TINY)
    bench = pb.load(NAME, root=root)
    seq = bench.proxies(bench.keys()[:3], ["synflow_seq", "params_seq"])
    par = bench.proxies(bench.keys()[:3], ["synflow_par", "params_par"])
    np.testing.assert_allclose(par, seq, rtol=1e-9)


def test_unsupported_space_and_bad_options(root: Path) -> None:
    with pytest.raises(ValueError, match="jobs"):
        compute_store_proxies(NAME, ["params"], root=root, jobs=0)
    with pytest.raises(ValueError, match="batch_size"):
        compute_store_proxies(NAME, ["params"], root=root, batch_size=1)


def test_cli_compute(root: Path) -> None:
    from typer.testing import CliRunner

    from predictbench.cli import app

    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["proxies", "compute", NAME, "--root", str(root), "-p", "params,flops", "--limit", "2"]
    result = runner.invoke(app, [*args, "--channels", "4", "--cells", "1", "--batch-size", "4", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "params_live" in result.output and "2 computed" in result.output
    meta = json.loads((root / NAME / "meta.json").read_text())
    assert {"params_live", "flops_live"} <= {m["name"] for m in meta["metrics"]}
    listing = runner.invoke(app, ["proxies", "list"])
    assert listing.exit_code == 0 and "jacob_cov" in listing.output


def test_per_class_computes_each_class_once_and_fills_its_members(root: Path) -> None:
    bench = pb.load(NAME, root=root)
    members = compute_module.class_members(bench, "function")
    rep, group = next((r, g) for r, g in members.items() if len(g) >= 3)
    report = compute_store_proxies(NAME, ["params"], root=root, keys=group[-2:], per_class="function", **TINY)
    assert (report.computed, report.filled) == (1, len(group))
    bench = pb.load(NAME, root=root)
    values = bench.proxies(group, ["params_live"], fill=False)[:, 0]
    assert np.isfinite(values).all() and np.ptp(values) == 0
    direct = compute_proxies(Arch("nb201", rep), ["params"], channels=4, cells_per_stage=1, batch_size=8).values
    assert values[0] == pytest.approx(direct["params"])
    assert "filled to every member" in bench.metrics["params_live"].description
    again = compute_store_proxies(NAME, ["params"], root=root, keys=group[:1], per_class="function", **TINY)
    assert (again.computed, again.skipped) == (0, 1)


def test_sample_draws_a_seeded_uniform_subset(root: Path) -> None:
    first = compute_store_proxies(NAME, ["params"], root=root, sample=3, sample_seed=5, suffix="_a", **TINY)
    second = compute_store_proxies(NAME, ["params"], root=root, sample=3, sample_seed=5, suffix="_b", **TINY)
    assert first.computed == second.computed == 3
    bench = pb.load(NAME, root=root)
    done_a = np.isfinite(bench.proxies(bench.keys(), ["params_a"], fill=False)[:, 0])
    done_b = np.isfinite(bench.proxies(bench.keys(), ["params_b"], fill=False)[:, 0])
    assert done_a.sum() == 3 and (done_a == done_b).all()
    assert not done_a[:3].all()  # not simply the first cells of the store


BAD_OPTIONS = [
    ("per-class-unknown", {"per_class": "graph"}, "per_class must be one of function, nb201"),
    ("sample-zero", {"sample": 0}, "sample must be an int in 1.."),
    ("sample-too-many", {"sample": 10**6}, "sample must be an int in 1.."),
    ("swap-repeats-zero", {"swap_repeats": 0}, "swap_repeats must be a positive int"),
]


@pytest.mark.parametrize(("options", "message"), [c[1:] for c in BAD_OPTIONS], ids=[c[0] for c in BAD_OPTIONS])
def test_bad_new_options_name_the_option(root: Path, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_store_proxies(NAME, ["params"], root=root, **options)
    assert not (root / NAME / RUNS_FOLDER).exists()


def test_options_of_proxies_not_computed_are_refused() -> None:
    with pytest.raises(ValueError, match="options given for proxies that are not computed: swap"):
        compute_proxies(
            Arch("nb201", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
            ["params"],
            options={"swap": {"repeats": 2}},
        )
