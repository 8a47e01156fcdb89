"""Shipped proxy tables: read/write, filled to class members by the converter, continued and reproduced by compute."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.store import read_store, write_proxies
from predictbench.proxies.compute import ComputeSettings
from predictbench.proxies.shipped import attach_shipped, read_shipped, shipped_files, write_shipped
from predictbench.spaces import get_space
from predictbench.types import DataFormatError

NAME = "nb201-analog/cifar10"
SETTINGS = ComputeSettings(
    proxies=("params", "flops"),
    space="nb201",
    num_classes=10,
    resolution=32,
    channels=4,
    cells_per_stage=1,
    batch_size=8,
    per_class="function",
)


def _provenance(settings: ComputeSettings = SETTINGS) -> dict:
    return {"settings": {**asdict(settings), "proxies": list(settings.proxies)}, "seconds": {"per_class": 1.0}}


def _class_with_members(space: object, size: int = 3) -> tuple[int, np.ndarray]:
    canon = space.canonical_index("function")  # type: ignore[attr-defined]
    reps, counts = np.unique(canon, return_counts=True)
    rep = int(reps[np.flatnonzero(counts == size)[0]])
    return rep, np.flatnonzero(canon == rep)


def test_write_read_round_trip(tmp_path: Path) -> None:
    values = pd.DataFrame({"index": [7, 3], "params": [1.5, 0.5], "flops": [np.nan, 2.0]})
    write_shipped("nb201", "cifar10", values, _provenance(), tmp_path)
    table = read_shipped("nb201", "cifar10", tmp_path)
    assert table is not None and table.settings == SETTINGS
    assert table.values["index"].tolist() == [3, 7]  # sorted
    assert table.provenance["classes_done"] == 2
    assert read_shipped("nb201", "cifar100", tmp_path) is None  # no table: nothing shipped


BROKEN = [
    ("missing-provenance", lambda v, p: p.unlink(), "is missing"),
    ("missing-values", lambda v, p: v.unlink(), "is missing"),
    ("json-garbage", lambda v, p: p.write_text("{not json"), "not a shipped proxy table"),
    ("no-settings", lambda v, p: p.write_text(json.dumps({"classes_done": 1})), "not a shipped proxy table"),
    ("truncated-parquet", lambda v, p: v.write_bytes(v.read_bytes()[:40]), "unreadable parquet"),
    (
        "count-mismatch",
        lambda v, p: p.write_text(json.dumps({**json.loads(p.read_text()), "classes_done": 5})),
        "provenance says 5",
    ),
    (
        "wrong-columns",
        lambda v, p: pd.DataFrame({"index": [1], "params": [1.0]}).to_parquet(v),
        r"expected \['index', 'params', 'flops'\]",
    ),
    (
        "duplicate-index",
        lambda v, p: pd.DataFrame({"index": [1, 1], "params": [1.0, 2.0], "flops": [1.0, 2.0]}).to_parquet(v),
        "duplicate",
    ),
]


@pytest.mark.parametrize(("damage", "expected"), [(d, e) for _, d, e in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_damaged_table_is_refused_with_its_name(tmp_path: Path, damage: object, expected: str) -> None:
    write_shipped(
        "nb201", "cifar10", pd.DataFrame({"index": [1], "params": [1.0], "flops": [2.0]}), _provenance(), tmp_path
    )
    values_path, provenance_path = shipped_files("nb201", "cifar10", tmp_path)
    damage(values_path, provenance_path)  # type: ignore[operator]
    with pytest.raises(DataFormatError, match=expected):
        read_shipped("nb201", "cifar10", tmp_path)


def test_attach_fills_every_member_of_a_computed_class(analog_root: Path, tmp_path: Path) -> None:
    store = read_store(analog_root / NAME)
    space = get_space("nb201")
    rep, members = _class_with_members(space)
    write_shipped(
        "nb201", "cifar10", pd.DataFrame({"index": [rep], "params": [3.25], "flops": [9.0]}), _provenance(), tmp_path
    )
    archs = pd.DataFrame({"key": [a.key for a in space.from_index(np.arange(15625))]})
    meta, proxies = attach_shipped(store.meta, archs, None, space, tmp_path)
    filled = np.flatnonzero(proxies["params_live"].notna().to_numpy())
    assert filled.tolist() == sorted(members.tolist())
    assert (proxies.loc[filled, "flops_live"] == 9.0).all()
    assert meta.metrics["params_live"].kind == "proxy"
    assert "filled to every member" in meta.metrics["params_live"].description
    section = meta.provenance["proxies_compute"]
    assert section["columns"]["params_live"] == SETTINGS.column_id()
    unchanged = attach_shipped(store.meta, archs, None, space, tmp_path / "none")
    assert unchanged[0] is store.meta and unchanged[1] is None


@pytest.mark.torch
def test_compute_continues_a_shipped_table_and_reproduces_it(analog_root: Path, tmp_path: Path) -> None:
    from predictbench.proxies.compute import compute_store_proxies

    root = tmp_path / "data"
    shutil.copytree(analog_root / NAME, root / NAME)
    bench = pb.load(NAME, root=root)
    space = bench.space
    rep, members = _class_with_members(space)
    options = {"channels": 4, "cells_per_stage": 1, "batch_size": 8, "threads": 1, "per_class": "function"}
    member_keys = [a.key for a in space.from_index(members)]
    in_store = [k for k in member_keys if k in set(bench.keys())]
    reference = root.parent / "ref"
    shutil.copytree(root, reference)
    report = compute_store_proxies(NAME, ["params", "flops"], root=reference, keys=in_store[:1], **options)
    assert report.computed == 1 and report.filled == len(in_store)
    values = pb.load(NAME, root=reference).proxies([space.arch_at(rep).key], ["params_live", "flops_live"], fill=False)

    tables = tmp_path / "tables"
    frame = pd.DataFrame({"index": [rep], "params": values[:, 0], "flops": values[:, 1]})
    assert report.settings is not None
    write_shipped("nb201", "cifar10", frame, _provenance(report.settings), tables)
    store = read_store(root / NAME)
    meta, proxies = attach_shipped(store.meta, store.archs, store.proxies, space, tables)
    write_proxies(root / NAME, meta, proxies)
    again = compute_store_proxies(NAME, ["params", "flops"], root=root, keys=in_store[-1:], **options)
    assert (again.computed, again.skipped) == (0, 1)  # the shipped class counts as done
    fresh = compute_store_proxies(NAME, ["params", "flops"], root=reference, keys=in_store[-1:], **options)
    assert fresh.computed == 0
    np.testing.assert_allclose(
        pb.load(NAME, root=root).proxies(in_store, ["params_live", "flops_live"], fill=False),
        pb.load(NAME, root=reference).proxies(in_store, ["params_live", "flops_live"], fill=False),
    )


@pytest.mark.shared_data
def test_the_converter_fills_the_committed_table(nb201_tables_root: Path) -> None:
    table = read_shipped("nb201", "cifar10")
    if table is None:
        pytest.skip("this checkout ships no nb201-cifar10 proxy table")
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    canon = bench.space.canonical_index("function")
    expected = np.isin(canon, table.values["index"].to_numpy()).sum()
    column = f"{table.proxies[0]}_live"
    values = bench.proxies(bench.keys(), [column], fill=False)[:, 0]
    assert np.isfinite(values).sum() == expected
    assert "proxies_compute" in bench.meta.provenance


@pytest.mark.torch
@pytest.mark.shared_data
def test_a_committed_row_is_reproduced_by_compute(shared_data_dir: Path, one_torch_thread: None) -> None:
    """With one torch thread, as the table was computed (ZiCo differs by ~3e-4 relative with two)."""
    from predictbench.types import Arch

    table = read_shipped("nb201", "cifar10")
    if table is None:
        pytest.skip("this checkout ships no nb201-cifar10 proxy table")
    settings = table.settings
    row = table.values.iloc[0]
    arch = Arch("nb201", get_space("nb201").arch_at(int(row["index"])).key)
    result = settings.compute(arch)
    expected = row[list(settings.proxies)].to_numpy(dtype=float)
    got = np.clip([result.values[name] for name in settings.proxies], -1e30, 1e30)
    np.testing.assert_allclose(got, expected, rtol=1e-4, equal_nan=True)
