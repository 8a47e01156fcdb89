"""The NAS-Bench-201 ``.pth`` converter on small files written here in the layouts torch.save produces.

The files hold 3 architectures, 2 datasets (cifar10-valid, cifar100) and 2 seeds per schedule, laid out like
the official ``arch2infos[index]['less' | 'full']`` ArchResults / ResultsCount state dicts, and are written
with the standard library only: the torch zip format (``archive/data.pkl`` ...), the legacy torch format
(magic number, protocol, system info, object, storage keys) and a plain pickle.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks.convert import CONVERTERS
from predictbench.benchmarks.convert.nb201_pth import TORCH_MAGIC, convert, read_torch_file
from predictbench.benchmarks.store import read_store
from predictbench.types import DataFormatError

ARCHS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|",
]
SEEDS = {"less": (111, 777), "full": (777, 888)}
EPOCHS = {"less": 12, "full": 200}


def acc(index: int, dataset: str, seed: int, split: str, epoch: int, epochs: int) -> float:
    """A deterministic, distinct accuracy for every (architecture, dataset, seed, split, epoch)."""
    base = {"cifar10-valid": 60.0, "cifar100": 30.0}[dataset] + 5 * index
    offset = {"train": 3.0, "x-valid": 1.0, "x-test": 0.5, "ori-test": 0.75}[split]
    return base + offset + 20.0 * (epoch + 1) / epochs + (seed % 100) / 100


def results_count(index: int, dataset: str, seed: int, schedule: str) -> dict[str, Any]:
    """A ResultsCount state dict in the official layout."""
    epochs = EPOCHS[schedule]
    if dataset == "cifar10-valid":
        names = ["x-valid", "ori-test"]
        every_epoch = {"x-valid"} if schedule == "full" else set(names)
    else:
        names = ["x-valid", "x-test", "ori-test"]
        every_epoch = {"ori-test"} if schedule == "full" else set(names)
    eval_acc: dict[str, float] = {}
    eval_loss: dict[str, float] = {}
    eval_times: dict[str, float] = {}
    for name in names:
        for epoch in range(epochs):
            eval_times[f"{name}@{epoch}"] = 0.5
            if name in every_epoch or epoch == epochs - 1:
                eval_acc[f"{name}@{epoch}"] = acc(index, dataset, seed, name, epoch, epochs)
                eval_loss[f"{name}@{epoch}"] = 1.0 / (epoch + 1)
    return {
        "name": dataset,
        "net_state_dict": None,
        "train_acc1es": OrderedDict((e, acc(index, dataset, seed, "train", e, epochs)) for e in range(epochs)),
        "train_acc5es": None,
        "train_losses": OrderedDict((e, 2.0 / (e + 1)) for e in range(epochs)),
        "train_times": OrderedDict((e, 10.0 + index) for e in range(epochs)) if schedule == "full" else None,
        "arch_config": {"channel": 16, "num_cells": 5, "arch_str": ARCHS[index], "class_num": 10},
        "params": np.float64(0.1 + index),
        "flop": 15.0 + index,
        "seed": seed,
        "epochs": epochs,
        "latency": [0.01 + index / 1000] if dataset == "cifar100" else None,
        "eval_names": names,
        "eval_acc1es": eval_acc,
        "eval_times": eval_times,
        "eval_losses": eval_loss,
    }


def nb201_dict() -> dict[str, Any]:
    arch2infos: dict[int, dict[str, Any]] = {}
    for index, arch in enumerate(ARCHS):
        arch2infos[index] = {}
        for schedule in ("less", "full"):
            datasets = ("cifar10-valid", "cifar100")
            arch2infos[index][schedule] = {
                "arch_index": index,
                "arch_str": arch,
                "all_results": {
                    (ds, seed): results_count(index, ds, seed, schedule) for ds in datasets for seed in SEEDS[schedule]
                },
                "dataset_seed": {ds: list(SEEDS[schedule]) for ds in datasets},
                "clear_net_done": True,
            }
    return {"meta_archs": list(ARCHS), "arch2infos": arch2infos, "evaluated_indexes": [0, 1, 2], "total_archs": 3}


def write_torch_zip(path: Path, obj: Any, data_pkl: bytes | None = None) -> Path:
    """What torch.save (>= 1.6) writes for an object without tensors."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl if data_pkl is not None else pickle.dumps(obj, protocol=2))
        archive.writestr("archive/byteorder", b"little")
        archive.writestr("archive/version", b"3\n")
        archive.writestr("archive/.data/version", b"3\n")
        archive.writestr("archive/.data/serialization_id", b"0123456789")
    return path


def write_torch_legacy(path: Path, obj: Any, storage_keys: list[str] | None = None) -> Path:
    """What torch.save(..., _use_new_zipfile_serialization=False) writes (the 2020 NAS-Bench-201 files)."""
    buffer = io.BytesIO()
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for item in (TORCH_MAGIC, 1001, sys_info, obj, storage_keys or []):
        pickle.dump(item, buffer, protocol=2)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def pth_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_torch_legacy(tmp_path_factory.mktemp("src") / "NAS-Bench-201-v1_1-096897.pth", nb201_dict())


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, pth_file: Path) -> Path:
    out = tmp_path_factory.mktemp("out")
    convert(pth_file, root=out, datasets=["cifar10-valid", "cifar100"])
    return out


def expected_mean(dataset: str, split: str, schedule: str) -> np.ndarray:
    epochs = EPOCHS[schedule]
    return np.array(
        [np.mean([acc(i, dataset, s, split, epochs - 1, epochs) for s in SEEDS[schedule]]) for i in range(3)]
    )


# -- formats ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["torch.save zip", "torch.save legacy", "pickle"])
def test_every_file_format_reads_the_same(tmp_path: Path, fmt: str) -> None:
    obj = nb201_dict()
    path = tmp_path / "nb201.pth"
    if fmt == "torch.save zip":
        write_torch_zip(path, obj)
    elif fmt == "torch.save legacy":
        write_torch_legacy(path, obj)
    else:
        path.write_bytes(pickle.dumps(obj, protocol=4))
    data, found = read_torch_file(path)
    assert found == fmt
    assert data["meta_archs"] == ARCHS
    assert data["arch2infos"][1]["full"]["all_results"][("cifar100", 888)]["params"] == pytest.approx(1.1)
    convert(path, root=tmp_path / "out", datasets=["cifar100"])
    bench = pb.load("nb201-pth/cifar100", root=tmp_path / "out")
    np.testing.assert_allclose(bench.lookup(ARCHS, "test_acc"), expected_mean("cifar100", "x-test", "full"))
    assert read_store(tmp_path / "out" / "nb201-pth" / "cifar100").meta.provenance["format"] == fmt


# -- values -------------------------------------------------------------------------------------------------


def test_values_and_split_mapping(root: Path) -> None:
    c100 = pb.load("nb201-pth/cifar100", root=root)
    np.testing.assert_allclose(
        c100.lookup(ARCHS, "test_acc", fidelity=200), expected_mean("cifar100", "x-test", "full")
    )
    np.testing.assert_allclose(
        c100.lookup(ARCHS, "valid_acc", fidelity=200), expected_mean("cifar100", "x-valid", "full")
    )
    np.testing.assert_allclose(
        c100.lookup(ARCHS, "valtest_acc", fidelity=200), expected_mean("cifar100", "ori-test", "full")
    )
    np.testing.assert_allclose(
        c100.lookup(ARCHS, "valid_acc", fidelity=12), expected_mean("cifar100", "x-valid", "less")
    )
    np.testing.assert_allclose(c100.lookup(ARCHS, "train_acc", fidelity=12), expected_mean("cifar100", "train", "less"))
    np.testing.assert_allclose(c100.lookup(ARCHS, "params"), [0.1, 1.1, 2.1])
    np.testing.assert_allclose(c100.lookup(ARCHS, "latency"), [0.010, 0.011, 0.012])
    np.testing.assert_allclose(c100.lookup(ARCHS, "train_time_total", fidelity=200), [2000.0, 2200.0, 2400.0])
    np.testing.assert_allclose(c100.lookup(ARCHS, "valtest_eval_time_total", fidelity=200), 100.0)
    c10v = pb.load("nb201-pth/cifar10-valid", root=root)
    np.testing.assert_allclose(
        c10v.lookup(ARCHS, "test_acc", fidelity=200), expected_mean("cifar10-valid", "ori-test", "full")
    )
    assert "latency" not in c10v.metrics  # not recorded for cifar10-valid in this file
    assert c10v.fidelities_of("train_time_total") == (200,)  # the 12-epoch runs record no train times
    assert c10v.lookup([ARCHS[2]], "valid_acc", fidelity=12, seed=777)[0] == pytest.approx(
        acc(2, "cifar10-valid", 777, "x-valid", 11, 12)
    )


def test_store_declarations(root: Path) -> None:
    bench = pb.load("nb201-pth/cifar10-valid", root=root)
    assert bench.meta.space == "nb201" and bench.meta.task == "cifar10-valid"
    assert bench.fidelities == (12, 200) and bench.meta.default_fidelity == 200
    assert bench.seeds == (111, 777, 888)
    assert bench.search_metric is not None and bench.search_metric.to_dict() == {"metric": "valid_acc", "fidelity": 12}
    assert bench.report_metric is not None and bench.report_metric.to_dict() == {"metric": "test_acc", "fidelity": 200}
    assert list(bench.archs_table["index"]) == [0, 1, 2]
    assert list(bench.archs_table["key"]) == ARCHS
    assert "v1.1" in bench.meta.description
    prov = bench.meta.provenance
    assert prov["converter"] == "nb201-pth" and [e["name"] for e in prov["inputs"]] == ["NAS-Bench-201-v1_1-096897.pth"]
    assert CONVERTERS.get("nb201-pth") is convert


def test_curves(root: Path) -> None:
    bench = pb.load("nb201-pth/cifar10-valid", root=root)
    curve = bench.curve(ARCHS[1], "valid_acc", fidelity=200, seed=888)
    expected = [acc(1, "cifar10-valid", 888, "x-valid", e, 200) for e in range(200)]
    np.testing.assert_allclose(curve.to_numpy(), expected)
    assert list(curve.index) == list(range(1, 201))
    test_curve = bench.curve(ARCHS[1], "test_acc", fidelity=200, seed=888)
    assert test_curve.notna().sum() == 1  # ori-test after the last epoch only
    mean_curve = bench.curve(ARCHS[0], "train_loss", fidelity=12)
    np.testing.assert_allclose(mean_curve.to_numpy(), [2.0 / (e + 1) for e in range(12)])


# -- idempotence --------------------------------------------------------------------------------------------


def test_idempotent_and_force(tmp_path: Path, pth_file: Path) -> None:
    paths = convert(pth_file, root=tmp_path, datasets=["cifar100"])
    meta = paths[0] / "meta.json"
    before = os.stat(meta)
    assert convert(pth_file, root=tmp_path, datasets=["cifar100"]) == paths
    assert os.stat(meta).st_ino == before.st_ino and os.stat(meta).st_mtime_ns == before.st_mtime_ns
    convert(pth_file, root=tmp_path, datasets=["cifar100"], force=True)
    assert os.stat(meta).st_ino != before.st_ino


# -- errors -------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "NAS-Bench-201-v1_0-e61699.pth"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        convert(missing, root=tmp_path / "out")


def test_dataset_absent_from_file(tmp_path: Path, pth_file: Path) -> None:
    with pytest.raises(DataFormatError, match="no results for dataset 'cifar10'"):
        convert(pth_file, root=tmp_path, datasets=["cifar10"])


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_truncated_files_are_named(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "bad.pth"
    (write_torch_zip if fmt == "zip" else write_torch_legacy)(path, nb201_dict())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match=rf"^{re.escape(str(path))}.*: truncated or corrupt") as info:
        convert(path, root=tmp_path / "out")
    assert "\n" not in str(info.value)


def test_tensors_need_torch(tmp_path: Path) -> None:
    # a tensor in the zip format: a torch._utils._rebuild_tensor_v2 call on a persistent storage id
    rebuild = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02)Rq\x03s."
    with pytest.raises(DataFormatError, match="torch._utils._rebuild_tensor_v2.*needs torch"):
        read_torch_file(write_torch_zip(tmp_path / "t1.pth", None, data_pkl=rebuild))
    storage = b"\x80\x02(X\x07\x00\x00\x00storageq\x00X\x01\x00\x00\x000q\x01tq\x02Q."
    with pytest.raises(DataFormatError, match="persistent id 'storage'.*needs torch"):
        read_torch_file(write_torch_zip(tmp_path / "t2.pth", None, data_pkl=storage))
    with pytest.raises(DataFormatError, match="1 tensor storages; reading it needs torch"):
        read_torch_file(write_torch_legacy(tmp_path / "t3.pth", {"a": 1}, storage_keys=["94011"]))


def test_unexpected_structure_names_the_key(tmp_path: Path) -> None:
    obj = nb201_dict()
    del obj["arch2infos"]
    with pytest.raises(DataFormatError, match="missing key 'arch2infos'"):
        convert(write_torch_zip(tmp_path / "a.pth", obj), root=tmp_path / "out")
    obj = nb201_dict()
    del obj["arch2infos"][2]["less"]
    with pytest.raises(DataFormatError, match=r"b\.pth: arch2infos\[2\]: missing key 'less'"):
        convert(write_torch_zip(tmp_path / "b.pth", obj), root=tmp_path / "out")
    obj = nb201_dict()
    del obj["arch2infos"][1]["full"]["all_results"][("cifar100", 888)]["train_losses"]
    with pytest.raises(
        DataFormatError, match=r"c\.pth: arch2infos\[1\]\['full'\], \('cifar100', 888\): missing key 'train_losses'"
    ):
        convert(write_torch_zip(tmp_path / "c.pth", obj), root=tmp_path / "out")
    obj = nb201_dict()
    obj["arch2infos"][0]["full"]["arch_str"] = ARCHS[1]
    with pytest.raises(DataFormatError, match="arch_str is .* expected"):
        convert(write_torch_zip(tmp_path / "d.pth", obj), root=tmp_path / "out")
    not_torch = tmp_path / "e.pth"
    not_torch.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DataFormatError, match="neither a torch.save file nor a pickled dict"):
        convert(not_torch, root=tmp_path / "out")
    assert not (tmp_path / "out" / "nb201-pth").exists()


def test_default_source_is_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="NAS-Bench-201-v1_1-096897.pth"):
        convert(None, root=tmp_path / "out")
    write_torch_legacy(tmp_path / "NAS-Bench-201-v1_0-e61699.pth", nb201_dict())
    paths = convert(None, root=tmp_path / "out", datasets=["cifar100"])
    assert "v1.0" in read_store(paths[0]).meta.description
