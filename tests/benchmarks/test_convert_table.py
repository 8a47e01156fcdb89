"""The generic table importer on small tables written by the tests (Parquet and CSV, every key kind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predictbench.benchmarks import load
from predictbench.benchmarks.convert import CONVERTERS
from predictbench.benchmarks.convert import table as table_mod
from predictbench.benchmarks.convert.table import (
    InvalidKeyError,
    MetricSource,
    TableSpec,
    convert,
    load_spec,
    metric_sources,
    resolve_keys,
)
from predictbench.benchmarks.store import SEED_MEAN, MetricRef
from predictbench.spaces import get_space
from predictbench.types import DataFormatError, Metric, OutOfSpaceError

INDICES = [0, 1, 857, 6111, 9930, 15624]
BEST = 6111


def _frame() -> pd.DataFrame:
    space: Any = get_space("nb201")
    archs = space.from_index(INDICES)
    rng = np.random.default_rng(0)
    test = rng.uniform(50, 90, len(INDICES))
    test[INDICES.index(BEST)] = 94.3733
    return pd.DataFrame(
        {
            "idx": INDICES,
            "arch": [a.key for a in archs],
            "naslib": [str(space.naslib_tuple(a)) for a in archs],
            "valid_12": rng.uniform(40, 80, len(INDICES)),
            "valid_200": rng.uniform(60, 90, len(INDICES)),
            "test": test,
            "latency_ms": rng.uniform(1, 10, len(INDICES)),
            "synflow": rng.normal(size=len(INDICES)),
        }
    )


def _write(frame: pd.DataFrame, folder: Path, fmt: str) -> Path:
    path = folder / f"table.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


METRICS: dict[str, Any] = {
    "valid_acc": {
        "higher_is_better": True,
        "unit": "%",
        "bounds": [0, 100],
        "columns": {"valid_12": 12, "valid_200": 200},
    },
    "test_acc": {"higher_is_better": True, "unit": "%", "lower": 0, "upper": 100, "column": "test"},
    "latency": {"higher_is_better": False, "unit": "ms", "kind": "cost", "column": "latency_ms"},
}
KEY_COLUMNS = {"index": "idx", "arch_str": "arch", "naslib_tuple": "naslib"}


def _convert(path: Path, root: Path, *, key_kind: str = "index", name: str = "nb201/mine", **extra: Any) -> list[Path]:
    options: dict[str, Any] = {
        "name": name,
        "space": "nb201",
        "key_column": KEY_COLUMNS[key_kind],
        "key_kind": key_kind,
        "metrics": METRICS,
        "proxies": ["synflow"],
        "fidelity": 200,
        "search": ("valid_acc", 12),
        "report": "test_acc@200",
        "citation": "test citation",
    }
    options.update(extra)
    return convert(path, root=root, **options)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("key_kind", ["index", "arch_str", "naslib_tuple"])
def test_convert_each_key_kind_and_format(tmp_path: Path, fmt: str, key_kind: str) -> None:
    frame = _frame()
    path = _write(frame, tmp_path, fmt)
    root = tmp_path / "data"
    (store,) = _convert(path, root, key_kind=key_kind)
    assert store == root / "nb201" / "mine"
    bench = load("nb201/mine", root=root)
    assert len(bench) == len(INDICES)
    assert bench.archs_table["index"].tolist() == sorted(INDICES)
    assert bench.fidelities == (12, 200)
    assert bench.meta.default_fidelity == 200
    assert bench.search_metric == MetricRef("valid_acc", 12)
    assert bench.report_metric == MetricRef("test_acc", 200)
    assert bench.meta.citation == "test citation"
    assert bench.meta.task == "mine"
    assert not bench.metrics["latency"].higher_is_better
    assert bench.metrics["synflow"].kind == "proxy"
    keys = frame["arch"].tolist()
    np.testing.assert_allclose(bench.lookup(keys, "valid_acc", fidelity=12), frame["valid_12"])
    np.testing.assert_allclose(bench.lookup(keys, "valid_acc", fidelity=200), frame["valid_200"])
    np.testing.assert_allclose(bench.lookup(keys, "test_acc"), frame["test"])
    np.testing.assert_allclose(bench.lookup(keys, "latency"), frame["latency_ms"])
    np.testing.assert_allclose(bench.proxies(keys, ["synflow"])[:, 0], frame["synflow"])
    np.testing.assert_allclose(bench.lookup(keys, "synflow"), frame["synflow"])  # also in results at 200
    best_key, best_value = bench.best("test_acc")
    assert get_space("nb201").index(best_key) == BEST  # type: ignore[attr-defined]
    assert best_value == pytest.approx(94.3733)
    prov = bench.meta.provenance
    assert prov["converter"] == "table"
    assert {entry["name"] for entry in prov["inputs"]} == {path.name, "(declaration)"}


def test_naslib_tuple_list_column_in_parquet(tmp_path: Path) -> None:
    frame = _frame()
    space: Any = get_space("nb201")
    frame["naslib"] = [list(space.naslib_tuple(k)) for k in frame["arch"]]
    path = _write(frame, tmp_path, "parquet")
    _convert(path, tmp_path / "data", key_kind="naslib_tuple")
    bench = load("nb201/mine", root=tmp_path / "data")
    np.testing.assert_allclose(bench.lookup(frame["arch"].tolist(), "test_acc"), frame["test"])


def test_renaming_with_metric_values(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path, "csv")
    metrics = {
        "test": Metric("test_acc", True, "%", lower=0, upper=100),  # column "test" -> metric "test_acc"
        "acc": MetricSource(Metric("acc", True, "%"), (("valid_12", 12), ("valid_200", 200))),
    }
    convert(
        path, root=tmp_path / "data", name="nb201/renamed", space="nb201", key_column="idx",
        key_kind="index", metrics=metrics, fidelity=200,
    )  # fmt: skip
    bench = load("nb201/renamed", root=tmp_path / "data")
    assert set(bench.metrics) == {"test_acc", "acc"}
    assert bench.fidelities_of("acc") == (12, 200)
    assert bench.fidelities_of("test_acc") == (200,)


def test_missing_columns_one_line_error(tmp_path: Path) -> None:
    path = _write(_frame().drop(columns=["valid_200", "latency_ms"]), tmp_path, "csv")
    with pytest.raises(DataFormatError) as info:
        _convert(path, tmp_path / "data")
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert "'valid_200'" in message and "'latency_ms'" in message
    assert "it has columns" in message and "'valid_12'" in message and "'synflow'" in message
    assert not (tmp_path / "data" / "nb201" / "mine").exists()


def test_missing_key_column_parquet(tmp_path: Path) -> None:
    path = _write(_frame().drop(columns=["idx"]), tmp_path, "parquet")
    with pytest.raises(DataFormatError, match=r"missing columns \['idx'\]"):
        _convert(path, tmp_path / "data")


def test_bad_arch_string_names_it_and_its_row(tmp_path: Path) -> None:
    frame = _frame()
    bad = "|nor_conv_3x3~0|+|nor_conv_3x3~0|conv_7x7~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    frame.loc[2, "arch"] = bad
    path = _write(frame, tmp_path, "csv")
    with pytest.raises(InvalidKeyError) as info:
        _convert(path, tmp_path / "data", key_kind="arch_str")
    assert isinstance(info.value, OutOfSpaceError) and isinstance(info.value, DataFormatError)
    message = str(info.value)
    assert "\n" not in message
    assert bad in message and "row 2" in message and "'arch'" in message
    assert "conv_7x7" in message and str(path) in message


@pytest.mark.parametrize(
    ("key_kind", "value", "shown"),
    [("index", 15625, "15625"), ("index", -1, "-1"), ("naslib_tuple", "(5, 0, 0, 0, 0, 0)", "(5, 0, 0, 0, 0, 0)")],
)
def test_bad_index_and_naslib_tuple(tmp_path: Path, key_kind: str, value: Any, shown: str) -> None:
    frame = _frame()
    frame[KEY_COLUMNS[key_kind]] = frame[KEY_COLUMNS[key_kind]].astype(object)
    frame.loc[4, KEY_COLUMNS[key_kind]] = value
    path = _write(frame, tmp_path, "csv")
    with pytest.raises(InvalidKeyError, match="row 4") as info:
        _convert(path, tmp_path / "data", key_kind=key_kind)
    assert shown in str(info.value)


def test_unknown_key_kind(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path, "csv")
    with pytest.raises(DataFormatError, match="key kind 'hash'.*known:"):
        convert(
            path, root=tmp_path, name="nb201/x", space="nb201", key_column="idx", key_kind="hash",
            metrics=METRICS, fidelity=200,
        )  # fmt: skip


def test_duplicate_keys(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[5, "idx"] = frame.loc[1, "idx"]
    path = _write(frame, tmp_path, "csv")
    with pytest.raises(DataFormatError, match=r"duplicate key 1 .*rows 1 and 5"):
        _convert(path, tmp_path / "data")


def test_duplicate_keys_in_different_spellings(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[5, "naslib"] = frame.loc[0, "naslib"].replace(" ", "")  # same tuple, other text
    path = _write(frame, tmp_path, "csv")
    with pytest.raises(DataFormatError, match=r"duplicate key .*rows 0 and 5"):
        _convert(path, tmp_path / "data", key_kind="naslib_tuple")


def test_non_numeric_metric_column(tmp_path: Path) -> None:
    frame = _frame()
    frame["test"] = frame["test"].astype(object)
    frame.loc[3, "test"] = "n.a.x"
    path = _write(frame, tmp_path, "csv")
    with pytest.raises(DataFormatError, match=r"column 'test' must be numeric.*row 3 holds 'n.a.x'"):
        _convert(path, tmp_path / "data")


def test_bounds_violation_names_file_and_metric(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[0, "test"] = 140.0
    path = _write(frame, tmp_path, "parquet")
    with pytest.raises(DataFormatError, match=r"table\.parquet.*'test_acc'.*above declared upper bound"):
        _convert(path, tmp_path / "data")


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"not a table")
    with pytest.raises(DataFormatError, match=r"unsupported table format \.xlsx.*Parquet.*CSV"):
        _convert(path, tmp_path / "data")


def test_metric_without_fidelity_is_an_error(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path, "csv")
    with pytest.raises(DataFormatError, match=r"metrics \['test_acc', 'latency'\] have no fidelity"):
        _convert(path, tmp_path / "data", fidelity=None)


def test_metric_declaration_errors() -> None:
    with pytest.raises(DataFormatError, match="declare 'higher_is_better'"):
        metric_sources({"acc": {"unit": "%"}})
    with pytest.raises(DataFormatError, match="unknown fields"):
        metric_sources({"acc": {"higher_is_better": True, "colum": "x"}})
    with pytest.raises(DataFormatError, match="kind='proxy'"):
        metric_sources({"p": Metric("p", True, kind="objective")}, proxy=True)
    with pytest.raises(DataFormatError, match="same fidelity"):
        metric_sources({"acc": {"higher_is_better": True, "columns": [["a", 12], ["b", 12]]}})


def test_seed_and_fidelity_columns(tmp_path: Path) -> None:
    space: Any = get_space("nb201")
    keys = [a.key for a in space.from_index([3, 4])]
    tidy = pd.DataFrame(
        {
            "arch": [k for k in keys for _ in range(4)],
            "seed": [777, 888, 777, 888] * 2,
            "epochs": [12, 12, 200, 200] * 2,
            "acc": [50.0, 52.0, 80.0, 82.0, 60.0, 64.0, 90.0, 92.0],
            "flops": [10.0] * 4 + [20.0] * 4,
        }
    )
    path = _write(tidy, tmp_path, "csv")
    convert(
        path, root=tmp_path / "data", name="nb201/seeds", space="nb201", key_column="arch", key_kind="arch_str",
        seed_column="seed", fidelity_column="epochs", proxies={"flops": {"unit": "MFLOPs"}},
        metrics={"acc": {"higher_is_better": True, "unit": "%"}}, search="acc@12", report="acc",
    )  # fmt: skip
    bench = load("nb201/seeds", root=tmp_path / "data")
    assert bench.seeds == (777, 888)
    assert bench.fidelities == (12, 200)
    np.testing.assert_allclose(bench.lookup(keys, "acc", fidelity=12), [51.0, 62.0])
    np.testing.assert_allclose(bench.lookup(keys, "acc", fidelity=200, seed=888), [82.0, 92.0])
    np.testing.assert_allclose(bench.proxies(keys)[:, 0], [10.0, 20.0])
    np.testing.assert_allclose(bench.lookup(keys, "flops"), [10.0, 20.0])
    assert bench.report_metric == MetricRef("acc", 200)
    results = pd.read_parquet(tmp_path / "data" / "nb201" / "seeds" / "results.parquet")
    assert (results["seed"] == SEED_MEAN).sum() == 4


def test_fidelity_column_with_declared_fidelities_is_an_error(tmp_path: Path) -> None:
    path = _write(_frame(), tmp_path, "csv")
    with pytest.raises(DataFormatError, match="fidelity_column"):
        _convert(path, tmp_path / "data", fidelity=None, fidelity_column="idx")


def test_idempotent_skip_and_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(_frame(), tmp_path, "parquet")
    root = tmp_path / "data"
    calls: list[str] = []
    real = table_mod.write_store

    def counting(*args: Any, **kwargs: Any) -> Path:
        calls.append("write")
        return real(*args, **kwargs)

    monkeypatch.setattr(table_mod, "write_store", counting)
    first = _convert(path, root)
    assert calls == ["write"]
    assert _convert(path, root) == first  # same table and declaration: skipped
    assert calls == ["write"]
    _convert(path, root, force=True)
    assert calls == ["write", "write"]
    _convert(path, root, description="changed declaration")  # another declaration: converted again
    assert calls == ["write"] * 3
    frame = _frame()
    frame.loc[0, "test"] = 11.0
    _write(frame, tmp_path, "parquet")  # another table: converted again
    _convert(path, root, description="changed declaration")
    assert calls == ["write"] * 4
    assert load("nb201/mine", root=root).lookup([frame.loc[0, "arch"]], "test_acc")[0] == 11.0


def test_interrupted_write_keeps_previous_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(_frame(), tmp_path, "parquet")
    root = tmp_path / "data"
    (store,) = _convert(path, root)
    before = {p.name: p.read_bytes() for p in store.iterdir()}
    frame = _frame()
    frame["test"] = 20.0
    _write(frame, tmp_path, "parquet")

    def crash(self: pd.DataFrame, target: Any, *args: Any, **kwargs: Any) -> None:
        Path(target).write_bytes(b"half a parquet file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(OSError, match="disk full"):
        _convert(path, root)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in store.iterdir()} == before
    assert [p.name for p in store.parent.iterdir()] == ["mine"]  # no temporary left behind
    bench = load("nb201/mine", root=root)
    np.testing.assert_allclose(bench.lookup(_frame()["arch"].tolist(), "test_acc"), _frame()["test"])


def _toml_spec(folder: Path, table: str) -> Path:
    spec = folder / "spec.toml"
    spec.write_text(
        f"""
name = "nb201/fromspec"
space = "nb201"
source = "{table}"
key_column = "arch"
key_kind = "arch_str"
fidelity = 200
search = {{ metric = "valid_acc", fidelity = 12 }}
report = {{ metric = "test_acc", fidelity = 200 }}
citation = "spec citation"
proxies = ["synflow"]

[metrics.valid_acc]
higher_is_better = true
unit = "%"
lower = 0
upper = 100
columns = {{ valid_12 = 12, valid_200 = 200 }}

[metrics.test_acc]
higher_is_better = true
unit = "%"
column = "test"

[metrics.latency]
higher_is_better = false
unit = "ms"
kind = "cost"
column = "latency_ms"
""",
        encoding="utf-8",
    )
    return spec


def test_toml_spec_through_the_registry(tmp_path: Path) -> None:
    sub = tmp_path / "raw"
    sub.mkdir()
    frame = _frame()
    _write(frame, sub, "csv")
    spec_path = _toml_spec(sub, "table.csv")
    spec = load_spec(spec_path)
    assert spec.source == sub / "table.csv"
    assert spec.search == ("valid_acc", 12)
    converter = CONVERTERS.get("table")
    (store,) = converter(spec_path, root=tmp_path / "data", force=False)
    assert store == tmp_path / "data" / "nb201" / "fromspec"
    bench = load("nb201/fromspec", root=tmp_path / "data")
    assert bench.search_metric == MetricRef("valid_acc", 12)
    assert bench.meta.citation == "spec citation"
    np.testing.assert_allclose(bench.lookup(frame["arch"].tolist(), "latency"), frame["latency_ms"])
    assert {e["name"] for e in bench.meta.provenance["inputs"]} == {"table.csv", "(declaration)"}
    with pytest.raises(TypeError, match="spec file declares the table"):
        convert(spec_path, root=tmp_path / "data", name="nb201/other")


def test_json_spec_and_spec_errors(tmp_path: Path) -> None:
    _write(_frame(), tmp_path, "parquet")
    data = {
        "name": "nb201/json",
        "space": "nb201",
        "source": "table.parquet",
        "key_column": "idx",
        "key_kind": "index",
        "fidelity": 200,
        "metrics": {"test_acc": {"higher_is_better": True, "column": "test"}},
    }
    (tmp_path / "spec.json").write_text(json.dumps(data), encoding="utf-8")
    convert(tmp_path / "spec.json", root=tmp_path / "data")
    assert len(load("nb201/json", root=tmp_path / "data")) == len(INDICES)
    (tmp_path / "bad.json").write_text(json.dumps({**data, "colour": "red"}), encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad\.json.*unknown fields \['colour'\]"):
        convert(tmp_path / "bad.json", root=tmp_path / "data")


def test_spec_round_trips_to_a_stable_digest() -> None:
    spec = TableSpec.from_dict(
        {"name": "nb201/a", "space": "nb201", "key_column": "k", "key_kind": "index", "fidelity": 200,
         "metrics": METRICS, "proxies": ["synflow"], "search": "valid_acc@12"}
    )  # fmt: skip
    again = TableSpec.from_dict({**spec.to_dict(), "metrics": spec.to_dict()["metrics"]})
    assert again.digest() == spec.digest()
    assert spec.source_columns == ["k", "valid_12", "valid_200", "test", "latency_ms", "synflow"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 15624), min_size=1, max_size=40))
def test_key_kinds_agree(indices: list[int]) -> None:
    space: Any = get_space("nb201")
    archs = space.from_index(indices)
    by_index = resolve_keys("nb201", "index", pd.Series(indices))
    by_str = resolve_keys("nb201", "arch_str", pd.Series([a.key for a in archs]))
    by_naslib = resolve_keys("nb201", "naslib_tuple", pd.Series([str(space.naslib_tuple(a)) for a in archs]))
    assert list(by_index) == list(by_str) == list(by_naslib) == [a.key for a in archs]
