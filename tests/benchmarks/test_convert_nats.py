"""The NATS-Bench "simple" converters on the real official files (tss and sss, indices 0, 11, 284)."""

from __future__ import annotations

import bz2
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import predictbench as pb
from predictbench.benchmarks.convert import CONVERTERS
from predictbench.benchmarks.convert.nats import convert_sss, convert_tss, load_pbz2
from predictbench.benchmarks.store import SEED_MEAN, read_store
from predictbench.paths import file_sha256
from predictbench.types import DataFormatError, UnknownNameError

pytestmark = pytest.mark.shared_data

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "imagenet16-120")
TSS_FILES = ("meta.pickle.pbz2", "000000.pickle.pbz2", "000011.pickle.pbz2", "000284.pickle.pbz2")


@pytest.fixture(scope="module")
def tss_dir(shared_data_dir: Path) -> Path:
    return shared_data_dir / "nb201" / "official_nats_tss_samples"


@pytest.fixture(scope="module")
def sss_dir(shared_data_dir: Path) -> Path:
    return shared_data_dir / "nats_sss" / "official_nats_sss_samples"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, tss_dir: Path, sss_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("nats")
    convert_tss(tss_dir, root=out)
    convert_sss(sss_dir, root=out)
    return out


@pytest.fixture
def tss_copy(tmp_path: Path, tss_dir: Path) -> Path:
    """A writable copy of the official tss sample folder (in tmp_path, never in the repository)."""
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    for name in TSS_FILES:
        shutil.copyfile(tss_dir / name, folder / name)
    return folder


def means(root: Path, store: str, metric: str, fidelity: int) -> pd.Series:
    results = read_store(root / store).results
    rows = results[(results["fidelity"] == fidelity) & (results["seed"] == SEED_MEAN)]
    return rows.set_index("key")[metric]


# -- values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "metric", "fidelity", "column"),
    [
        ("cifar10", "test_acc", 200, "cifar10_test_acc_200"),
        ("cifar100", "test_acc", 200, "cifar100_test_acc_200"),
        ("imagenet16-120", "test_acc", 200, "imagenet16_test_acc_200"),
        ("cifar10-valid", "valid_acc", 200, "c10valid_valid_acc_200"),
        ("cifar10-valid", "valid_acc", 12, "c10valid_valid_acc_12"),
        ("cifar10-valid", "test_acc", 200, "c10valid_test_acc_200"),
        ("cifar10-valid", "train_acc", 200, "c10valid_train_acc_200"),
        ("cifar10-valid", "train_loss", 200, "c10valid_train_loss_200"),
        ("cifar10-valid", "valid_loss", 200, "c10valid_valid_loss_200"),
        ("cifar10-valid", "test_loss", 200, "c10valid_test_loss_200"),
        ("cifar10-valid", "train_time_per_epoch", 200, "c10valid_train_time_per_epoch_s"),
        ("cifar10-valid", "train_time_total", 200, "c10valid_train_time_total_s"),
        ("cifar10-valid", "valid_eval_time_per_epoch", 200, "c10valid_valid_eval_time_per_epoch_s"),
        ("cifar10-valid", "valid_eval_time_total", 200, "c10valid_valid_eval_time_total_s"),
        ("cifar10-valid", "test_eval_time_total", 200, "c10valid_test_eval_time_total_s"),
        ("cifar10-valid", "train_time_total", 12, "c10valid_train_time_12_s"),
        ("cifar10", "test_acc", 12, "cifar10_test_acc_12"),
        ("cifar100", "valid_acc", 12, "cifar100_valid_acc_12"),
        ("cifar100", "test_acc", 12, "cifar100_test_acc_12"),
        ("imagenet16-120", "valid_acc", 12, "imagenet16_valid_acc_12"),
        ("imagenet16-120", "test_acc", 12, "imagenet16_test_acc_12"),
        ("cifar10", "params", 200, "params_cifar10_M"),
    ],
)
def test_tss_means_equal_the_shared_table(
    root: Path, shared_data_dir: Path, dataset: str, metric: str, fidelity: int, column: str
) -> None:
    table = pd.read_parquet(shared_data_dir / "nb201" / "nb201_tss_accuracy.parquet").set_index("arch_str")
    got = means(root, f"nats-tss/{dataset}", metric, fidelity)
    assert len(got) == 3
    np.testing.assert_allclose(got.to_numpy(), table.loc[got.index, column].to_numpy(), rtol=0, atol=1e-6)


def test_tss_seed_888_equals_naslib_values(root: Path, shared_data_dir: Path) -> None:
    table = pd.read_parquet(shared_data_dir / "nb201" / "nb201_tss_accuracy.parquet").set_index("arch_str")
    for dataset, column in [
        ("cifar10-valid", "naslib_seed888_c10valid_oritest_acc_200"),
        ("cifar100", "naslib_seed888_cifar100_xtest_acc_200"),
        ("imagenet16-120", "naslib_seed888_imagenet16_xtest_acc_200"),
    ]:
        bench = pb.load(f"nats-tss/{dataset}", root=root)
        keys = bench.keys()
        got = bench.lookup(keys, "test_acc", fidelity=200, seed=888)
        np.testing.assert_allclose(got, table.loc[keys, column].to_numpy(), atol=1e-6)


def test_tss_known_values_through_the_benchmark(root: Path) -> None:
    bench = pb.load("nats-tss/cifar10", root=root)
    space = bench.space
    archs = space.from_index([0, 11, 284])
    np.testing.assert_allclose(bench.lookup(archs, "test_acc"), [85.863333, 91.583333, 88.79], atol=1e-5)
    assert bench.archs_table.set_index("key").loc[[a.key for a in archs], "index"].tolist() == [0, 11, 284]
    assert bench.fidelities == (12, 200) and bench.meta.default_fidelity == 200
    assert bench.seeds == (111, 777, 888, 999)
    assert bench.search_metric is None  # cifar10 trains on train+valid: no validation set
    assert bench.report_metric is not None and bench.report_metric.to_dict() == {"metric": "test_acc", "fidelity": 200}
    assert "valid_acc" not in bench.metrics and "valtest_acc" not in bench.metrics
    # one 12-epoch seed (111), three 200-epoch seeds
    assert bench.lookup(archs[1:2], "test_acc", fidelity=12, seed=111)[0] == pytest.approx(74.0)


def test_tss_declarations(root: Path) -> None:
    bench = pb.load("nats-tss/cifar100", root=root)
    assert bench.meta.space == "nb201"
    assert bench.search_metric is not None and bench.search_metric.to_dict() == {"metric": "valid_acc", "fidelity": 12}
    m = bench.metrics
    assert m["test_acc"].higher_is_better and m["test_acc"].unit == "%" and "x-test" in m["test_acc"].description
    assert "ori-test" in m["valtest_acc"].description and "x-valid" in m["valid_acc"].description
    for name in ("params", "flops", "latency", "train_time_total", "valid_eval_time_per_epoch"):
        assert m[name].kind == "cost" and not m[name].higher_is_better, name
    assert (m["params"].unit, m["flops"].unit, m["latency"].unit, m["train_time_total"].unit) == (
        "M",
        "MFLOPs",
        "s",
        "s",
    )
    assert not m["test_loss"].higher_is_better
    # top-5 training accuracy exists for the 12-epoch schedule only
    assert bench.fidelities_of("train_top5_acc") == (12,)
    assert pb.load("nats-tss/cifar10-valid", root=root).search_metric is not None


def test_tss_curves(root: Path) -> None:
    bench = pb.load("nats-tss/cifar10-valid", root=root)
    key = bench.space.from_index([11])[0]
    curve = bench.curve(key, "valid_acc", fidelity=200, seed=777)
    assert list(curve.index) == list(range(1, 201))
    assert curve.iloc[-1] == pytest.approx(bench.lookup([key], "valid_acc", fidelity=200, seed=777)[0])
    mean12 = bench.curve(key, "valid_acc", fidelity=12)
    assert len(mean12) == 12 and mean12.iloc[-1] == pytest.approx(63.278)
    # ori-test is recorded after the last of the 200 epochs only
    test_curve = bench.curve(key, "test_acc", fidelity=200, seed=777)
    assert test_curve.notna().sum() == 1 and np.isfinite(test_curve.iloc[-1])
    total = bench.curve(key, "train_time_total", fidelity=200, seed=777)
    assert total.iloc[-1] == pytest.approx(bench.lookup([key], "train_time_total", fidelity=200)[0])
    assert (np.diff(total.to_numpy()) > 0).all()
    c100 = pb.load("nats-tss/cifar100", root=root)
    assert c100.curve(key.key, "valtest_acc", fidelity=200, seed=999).notna().all()


def test_sss_values_equal_the_shared_final_table(root: Path, shared_data_dir: Path) -> None:
    ref = pd.read_parquet(shared_data_dir / "nats_sss" / "nats_sss_official_samples_final.parquet")
    compared = 0
    for dataset, rows in ref.groupby("dataset"):
        results = read_store(root / f"nats-sss/{str(dataset).lower()}").results
        merged = rows.merge(
            results.add_prefix("s_"),
            left_on=["arch_str", "hp_epochs", "seed"],
            right_on=["s_key", "s_fidelity", "s_seed"],
            how="left",
            validate="1:1",
        )
        assert merged["s_key"].notna().all()
        ori_test = "test" if dataset in ("cifar10", "cifar10-valid") else "valtest"
        pairs = {
            "params_M": "params",
            "flops_M": "flops",
            "latency_s": "latency",
            "train_acc": "train_acc",
            "train_loss": "train_loss",
            "train_time_total_s": "train_time_total",
            "x-valid_acc": "valid_acc",
            "x-valid_loss": "valid_loss",
            "ori-test_acc": f"{ori_test}_acc",
            "ori-test_loss": f"{ori_test}_loss",
            "x-test_acc": "test_acc",
            "x-test_loss": "test_loss",
        }
        for theirs, ours in pairs.items():
            if rows[theirs].isna().all():
                assert f"s_{ours}" not in merged or ours.startswith("test")
                continue
            np.testing.assert_array_equal(merged[theirs].to_numpy(), merged[f"s_{ours}"].to_numpy())
            compared += len(rows)
    assert compared == 630


def test_sss_benchmark(root: Path) -> None:
    bench = pb.load("nats-sss/imagenet16-120", root=root)
    assert bench.meta.space == "nats-sss" and len(bench) == 3
    assert bench.fidelities == (1, 12, 90) and bench.meta.default_fidelity == 90
    assert bench.report_metric is not None and bench.report_metric.to_dict() == {"metric": "test_acc", "fidelity": 90}
    assert bench.search_metric is not None and bench.search_metric.to_dict() == {"metric": "valid_acc", "fidelity": 12}
    assert sorted(bench.archs_table["index"]) == [0, 11, 284]
    assert list(bench.space.index_of(list(bench.archs_table["key"]))) == list(bench.archs_table["index"])
    curve = bench.curve("8:8:8:16:32", "test_acc", fidelity=90, seed=777)
    assert len(curve) == 90 and curve.notna().all()
    assert bench.lookup(["8:8:8:16:32"], "test_acc", seed=777)[0] == curve.iloc[-1]
    assert bench.batch().features("onehot").shape == (3, 40)


def test_provenance_hashes_every_input(root: Path, tss_dir: Path) -> None:
    prov = read_store(root / "nats-tss/cifar10").meta.provenance
    assert prov["converter"] == "nats-tss" and prov["converter_version"]
    recorded = {entry["name"]: entry["sha256"] for entry in prov["inputs"]}
    assert recorded == {name: file_sha256(tss_dir / name) for name in TSS_FILES}
    assert prov["eval_sets"]["cifar100"] == {"x-valid": "valid", "x-test": "test", "ori-test": "valtest"}


def test_registered_converters() -> None:
    assert CONVERTERS.get("nats-tss") is convert_tss
    assert CONVERTERS.get("nats-sss") is convert_sss


# -- idempotence, subsets, workers ---------------------------------------------------------------------------


def test_convert_is_idempotent_and_force_rewrites(tmp_path: Path, tss_dir: Path) -> None:
    paths = convert_tss(tss_dir, root=tmp_path, datasets=["cifar10"])
    assert paths == [tmp_path / "nats-tss" / "cifar10"]
    meta = paths[0] / "meta.json"
    before = os.stat(meta)
    assert convert_tss(tss_dir, root=tmp_path, datasets=["cifar10"]) == paths
    assert os.stat(meta).st_mtime_ns == before.st_mtime_ns and os.stat(meta).st_ino == before.st_ino
    convert_tss(tss_dir, root=tmp_path, datasets=["cifar10"], force=True)
    assert os.stat(meta).st_ino != before.st_ino


def test_changed_inputs_are_reconverted(tss_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    convert_tss(tss_copy, root=out, datasets=["cifar100"])
    assert len(pb.load("nats-tss/cifar100", root=out)) == 3
    (tss_copy / "000284.pickle.pbz2").unlink()
    convert_tss(tss_copy.parent, root=out, datasets=["cifar100"])  # the parent of the official folder works too
    assert sorted(pb.load("nats-tss/cifar100", root=out).archs_table["index"]) == [0, 11]


def test_dataset_subset_and_names(tmp_path: Path, sss_dir: Path) -> None:
    paths = convert_sss(sss_dir, root=tmp_path, datasets=["ImageNet16-120"], curves=False)
    assert paths == [tmp_path / "nats-sss" / "imagenet16-120"]
    assert not (tmp_path / "nats-sss" / "cifar10").exists()
    assert read_store(paths[0]).curves is None
    with pytest.raises(UnknownNameError, match="imagenet16-120"):
        convert_sss(sss_dir, root=tmp_path, datasets=["imagenet"])


def test_worker_processes_give_the_same_store(tmp_path: Path, root: Path, sss_dir: Path) -> None:
    convert_sss(sss_dir, root=tmp_path, datasets=["cifar100"], workers=2)
    ours = read_store(tmp_path / "nats-sss/cifar100")
    reference = read_store(root / "nats-sss/cifar100")
    pd.testing.assert_frame_equal(ours.results, reference.results)
    assert ours.curves is not None and reference.curves is not None
    pd.testing.assert_frame_equal(ours.curves, reference.curves)


# -- errors ---------------------------------------------------------------------------------------------------


def test_missing_folder_and_meta_file(tmp_path: Path) -> None:
    missing = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    with pytest.raises(FileNotFoundError, match=f"folder not found: {re.escape(str(missing))}$"):
        convert_tss(missing, root=tmp_path / "out")
    missing.mkdir()
    with pytest.raises(
        FileNotFoundError, match=f"meta file not found: {re.escape(str(missing / 'meta.pickle.pbz2'))}$"
    ):
        convert_tss(missing, root=tmp_path / "out")


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_arch_file_is_named_on_one_line(tss_copy: Path, tmp_path: Path, damage: str) -> None:
    target = tss_copy / "000011.pickle.pbz2"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"BZh9" + bytes(range(256)) * 4)
    with pytest.raises(DataFormatError) as info:
        convert_tss(tss_copy, root=tmp_path / "out")
    message = str(info.value)
    assert message.startswith(f"{target}: truncated or corrupt bz2 pickle (")
    assert "\n" not in message
    assert not (tmp_path / "out" / "nats-tss").exists()


def _rewrite(path: Path, obj: object) -> None:
    with bz2.open(path, "wb") as handle:
        pickle.dump(obj, handle)


def test_unexpected_structure_names_file_and_key(tss_copy: Path, tmp_path: Path) -> None:
    target = tss_copy / "000011.pickle.pbz2"
    record = load_pbz2(target)
    del record["200"]["all_results"][("cifar100", 888)]["eval_acc1es"]
    _rewrite(target, record)
    with pytest.raises(
        DataFormatError, match=r"000011\.pickle\.pbz2: hp '200', \('cifar100', 888\): missing key 'eval_acc1es'"
    ):
        convert_tss(tss_copy, root=tmp_path / "out")
    del record["12"]["all_results"]
    _rewrite(target, record)
    with pytest.raises(DataFormatError, match=r"000011\.pickle\.pbz2: hp '12': missing key 'all_results'"):
        convert_tss(tss_copy, root=tmp_path / "out")
    meta = load_pbz2(tss_copy / "meta.pickle.pbz2")
    meta["meta_archs"][5] = "|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    _rewrite(tss_copy / "meta.pickle.pbz2", meta)
    with pytest.raises(DataFormatError, match=r"meta\.pickle\.pbz2: meta_archs holds an architecture outside nb201"):
        convert_tss(tss_copy, root=tmp_path / "out")
    meta["meta_archs"][5], meta["meta_archs"][6] = meta["meta_archs"][6], meta["meta_archs"][4]
    _rewrite(tss_copy / "meta.pickle.pbz2", meta)
    with pytest.raises(DataFormatError, match="not in the official nb201 index order"):
        convert_tss(tss_copy, root=tmp_path / "out")
    _rewrite(tss_copy / "meta.pickle.pbz2", {"total_archs": 15625})
    with pytest.raises(DataFormatError, match=r"meta\.pickle\.pbz2: missing key 'meta_archs'"):
        convert_tss(tss_copy, root=tmp_path / "out")


def test_wrong_architecture_in_file_is_refused(tss_copy: Path, tmp_path: Path) -> None:
    shutil.copyfile(tss_copy / "000011.pickle.pbz2", tss_copy / "000012.pickle.pbz2")
    with pytest.raises(DataFormatError, match=r"000012\.pickle\.pbz2: hp '\d+': arch_index is 11, expected 12"):
        convert_tss(tss_copy, root=tmp_path / "out")


def test_foreign_objects_are_not_unpickled(tss_copy: Path, tmp_path: Path) -> None:
    _rewrite(tss_copy / "000011.pickle.pbz2", {"12": os.getcwd})
    with pytest.raises(DataFormatError, match=r"000011\.pickle\.pbz2: refusing to unpickle (posix|nt)\.getcwd"):
        convert_tss(tss_copy, root=tmp_path / "out")


def test_default_source_is_torch_home(tmp_path: Path, tss_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tss_copy.parent))
    paths = convert_tss(None, root=tmp_path / "out", datasets=["cifar10"])
    assert len(pb.load("nats-tss/cifar10", root=tmp_path / "out")) == 3 and paths[0].is_dir()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="NATS-sss-v1_0-50262-simple"):
        convert_sss(None, root=tmp_path / "out")
