"""Predictor-guided masked discrete diffusion (predictbench.search.diffusion)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.search.diffusion import DiffusionSearch
from predictbench.search.pruning import ConstrainedSpace
from predictbench.spaces import get_space
from predictbench.testing import check_searcher
from predictbench.types import UnknownNameError

pytestmark = pytest.mark.torch

#: small settings that keep a test in seconds
FAST: dict[str, Any] = {"n_initial": 5, "per_round": 5, "pool_size": 40, "n_train": 300, "epochs": 3, "hidden": 32}


def _space(name: str) -> Any:
    if name == "nb201-constrained":
        return ConstrainedSpace(get_space("nb201"), {"op_1_0": ["nor_conv_3x3", "skip_connect"]})
    return get_space(name)


@pytest.mark.parametrize("space", ["nb201", "nats-sss", "nbgraph", "nb201-constrained"])
def test_ask_tell_contract(space: str, one_torch_thread: None) -> None:
    searchspace = _space(space)
    factory = functools.partial(DiffusionSearch, **FAST)
    check_searcher(factory, searchspace, n=15)
    searcher = factory(searchspace, seed=0)
    for _ in range(4):  # past the random start: generated cells are valid and new
        archs = searcher.ask(3)
        assert len(archs) == 3 and all(searchspace.is_valid(a) for a in archs)
        assert not {a.key for a in archs} & set(searcher.scores)
        searcher.tell(archs, [float(len(a.key) % 7) for a in archs])
    assert searcher.rounds >= 1 and searcher.sources["generated"] > 0


def test_search_is_deterministic_per_seed(analog_root: Path, one_torch_thread: None) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)

    def keys(seed: int) -> list[str]:
        searcher = make_searcher("diffusion", bench.space, seed=seed, **FAST)
        oracle = run_search(searcher, Oracle(bench, budget=20, seed=0))
        assert searcher.rounds >= 3
        return [q.arch.key for q in oracle.history]

    first = keys(1)
    assert len(set(first)) == 20
    assert first == keys(1) != keys(2)


@pytest.fixture(scope="module")
def nbgraph_denoiser() -> DiffusionSearch:
    from predictbench.predictors.gcn import torch_threads

    searcher = DiffusionSearch(get_space("nbgraph"), seed=0)
    with torch_threads(1):
        searcher.train_denoiser()
    return searcher


def test_unguided_denoiser_reproduces_the_space(nbgraph_denoiser: DiffusionSearch, one_torch_thread: None) -> None:
    searcher = nbgraph_denoiser
    codes = searcher.sample(2000)
    valid = searcher.decisions.codes[searcher._valid]
    for p, size in enumerate(searcher.sizes):
        generated = np.bincount(codes[:, p], minlength=size) / len(codes)
        true = np.bincount(valid[:, p], minlength=size) / len(valid)
        assert np.abs(generated - true).max() < 0.1, (p, generated, true)
    # only 17% of nbgraph's decision combinations are cells: the denoiser learned which ones
    uniform = len(valid) / np.prod(searcher.sizes)
    assert uniform < 0.2 and (searcher.decisions.find(codes) >= 0).mean() > 0.6


@pytest.mark.parametrize("space", ["nb201", "nbgraph"])
def test_guidance_shifts_samples_toward_higher_predicted_scores(space: str, one_torch_thread: None) -> None:
    searcher = DiffusionSearch(get_space(space), seed=0, n_train=1000, epochs=5, predictor="ridge")
    archs = searcher.ask(40)
    searcher.tell(archs, [float((searcher.decisions.encode([a])[0] == 1).sum()) for a in archs])
    score = searcher.fit_predictor()
    plain = score(searcher.sample(300))
    guided = score(searcher.sample(300, guidance=3.0, score=score))
    assert guided.mean() > plain.mean() + 0.5, (plain.mean(), guided.mean())


BAD_OPTIONS = [
    ({"n_initial": 1}, "DiffusionSearch: n_initial must be an int >= 2, got 1"),
    ({"per_round": 0}, "DiffusionSearch: per_round must be an int >= 1, got 0"),
    ({"pool_size": 2.5}, "DiffusionSearch: pool_size must be an int >= 1, got 2.5"),
    ({"guidance": -1.0}, "DiffusionSearch: guidance must be a number >= 0.0, got -1.0"),
    ({"guidance": float("nan")}, "DiffusionSearch: guidance must be a number >= 0.0, got nan"),
    ({"n_train": 1}, "DiffusionSearch: n_train must be an int >= 2, got 1"),
    ({"epochs": 0}, "DiffusionSearch: epochs must be an int >= 1, got 0"),
    ({"lr": 0}, "DiffusionSearch: lr must be a number > 0.0, got 0"),
    ({"predictor": "gcn"}, "DiffusionSearch: predictor must read plain features (it is fitted on the one-hot"),
    ({"predictor": 3}, "DiffusionSearch: predictor must be a Predictor, a registered name, a mapping or None, got"),
    ({"predictor": "nope"}, "unknown predictor 'nope'"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS, ids=[str(o) for o, _ in BAD_OPTIONS])
def test_bad_options_raise_one_line_naming_the_class(options: dict[str, Any], message: str) -> None:
    with pytest.raises((ValueError, UnknownNameError), match=re.escape(message)) as info:
        DiffusionSearch(get_space("nb201"), **options)
    assert "\n" not in str(info.value)


def test_spaces_without_categorical_decisions_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"DiffusionSearch needs a space of fixed-length categorical decisions .*nb101"
    ):
        DiffusionSearch(get_space("nb101"))


CLI_BAD = [
    (["-s", "diffusion:guidance=-2"], "DiffusionSearch: guidance must be a number >= 0.0, got -2"),
    (["-s", "diffusion:predictor=gcn"], "DiffusionSearch: predictor must read plain features"),
    (["-s", "diffusion:top_k=3"], "searcher 'diffusion' has no option 'top_k'."),
]


@pytest.mark.parametrize(("args", "message"), CLI_BAD, ids=[" ".join(a) for a, _ in CLI_BAD])
def test_cli_bad_inputs_exit_2_with_one_line_and_write_nothing(
    args: list[str], message: str, refused_on_analog: Callable[[list[str], str], None]
) -> None:
    refused_on_analog(["search", *args], message)


def test_search_command_runs_and_reports_diffusion(
    analog_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]], one_torch_thread: None
) -> None:
    results, report = tmp_path / "r.jsonl", tmp_path / "report"
    spec = "diffusion:n_initial=5,per_round=5,n_train=300,epochs=3"
    args = ["search", "-b", "nb201-analog/cifar10", "-s", spec, "-s", "random"]
    args += ["--budget", "15", "--seeds", "2", "--root", str(analog_root), "--results", str(results)]
    code, err = run_cli(*args, "--report", str(report))
    assert code == 0, err
    assert len(results.read_text().splitlines()) == 4
    assert f"| {spec} |" in (report / "README.md").read_text()
