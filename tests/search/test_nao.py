"""NAO: encoder-predictor-decoder search in a continuous embedding (predictbench.search.nao)."""

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
from predictbench.search.nao import NAOPredictor, NAOSearch
from predictbench.search.pruning import ConstrainedSpace
from predictbench.spaces import get_space
from predictbench.testing import check_predictor, check_searcher

pytestmark = pytest.mark.torch

#: small settings that keep a test in seconds
FAST: dict[str, Any] = {"n_initial": 5, "per_round": 5, "epochs": 5, "hidden": 16, "mlp_hidden": 16}


def _space(name: str) -> Any:
    if name == "nb201-constrained":
        return ConstrainedSpace(get_space("nb201"), {"op_1_0": ["nor_conv_3x3", "skip_connect"]})
    return get_space(name)


@pytest.mark.parametrize("space", ["nb201", "nats-sss", "nbgraph", "nb201-constrained"])
def test_ask_tell_contract(space: str, one_torch_thread: None) -> None:
    searchspace = _space(space)
    factory = functools.partial(NAOSearch, **FAST)
    check_searcher(factory, searchspace, n=20)
    nao = factory(searchspace, seed=0)
    for _ in range(4):  # past the random start: decoded, projected and fallback cells are all in the space
        archs = nao.ask(3)
        assert all(searchspace.is_valid(a) for a in archs)
        nao.tell(archs, [float(len(a.key) % 7) for a in archs])
    assert nao.rounds >= 1


def test_search_is_deterministic_per_seed(analog_root: Path, one_torch_thread: None) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)

    def keys(seed: int) -> list[str]:
        searcher = make_searcher("nao", bench.space, seed=seed, **FAST)
        oracle = run_search(searcher, Oracle(bench, budget=25, seed=0))
        assert searcher.rounds >= 3
        return [q.arch.key for q in oracle.history]

    first = keys(1)
    assert len(set(first)) == 25
    assert first == keys(1) != keys(2)


@pytest.fixture(scope="module")
def trained() -> tuple[NAOSearch, list[pb.Arch]]:
    """A searcher whose model is trained on eight NB201 cells (score: number of 3x3 convolutions)."""
    from predictbench.predictors.gcn import torch_threads

    nao = NAOSearch(get_space("nb201"), seed=0, n_initial=8, epochs=100)
    archs = nao.ask(8)
    nao.tell(archs, [float(a.key.count("nor_conv_3x3")) + 0.1 * i for i, a in enumerate(archs)])
    with torch_threads(1):
        nao.fit_model()
    return nao, archs


def test_decoding_the_encoding_gives_back_the_cell(trained: tuple[NAOSearch, list[pb.Arch]]) -> None:
    nao, archs = trained
    assert [a.key for a in nao.reconstruct(archs)] == [a.key for a in archs]


@pytest.mark.parametrize("step", [0.01, 0.1, 1.0])
def test_a_gradient_step_raises_the_predicted_score(trained: tuple[NAOSearch, list[pb.Arch]], step: float) -> None:
    nao, archs = trained
    decoded, before, after = nao.move(archs, step)
    assert np.all(after > before), (before, after)
    assert np.allclose(before, nao.predict(archs), atol=1e-4)
    assert all(nao.space.is_valid(a) for a in decoded)


def test_generated_cells_are_new_and_predicted_best_first(trained: tuple[NAOSearch, list[pb.Arch]]) -> None:
    nao, archs = trained
    new = nao._generate()
    assert 1 <= len(new) <= nao.per_round
    assert not {a.key for a in new} & {a.key for a in archs}
    assert np.all(np.diff(nao.predict(new)) <= 1e-9)


def test_invalid_decodings_are_projected_to_the_nearest_valid_cell() -> None:
    nao = NAOSearch(get_space("nbgraph"), seed=0)
    d = nao.decisions
    codes = np.array(np.meshgrid(*[np.arange(len(c)) for c in d.choices], indexing="ij")).reshape(len(d.choices), -1).T
    invalid = codes[d.find(codes) < 0][:50]
    assert len(invalid) == 50  # nbgraph's decision product holds combinations that are not cells
    tokens = invalid + nao._offsets
    logp = np.zeros((len(tokens), tokens.shape[1], nao._allowed.shape[1]))
    rows = nao._cells(tokens, logp)
    assert np.all(rows >= 0)
    distance = (d.codes[rows] != invalid).sum(axis=1)
    nearest = np.array([(d.codes != c).sum(axis=1).min() for c in invalid])
    assert np.array_equal(distance, nearest)
    # a decoder preferring one valid cell among the nearest gets that one
    target_row = int(rows[0])
    candidates = np.flatnonzero((d.codes != invalid[0]).sum(axis=1) == nearest[0])
    other = int(candidates[candidates != target_row][0]) if len(candidates) > 1 else target_row
    logp[0][np.arange(tokens.shape[1]), d.codes[other] + nao._offsets] = 1.0
    assert int(nao._cells(tokens[:1], logp[:1])[0]) == other


# ---- the registered predictor --------------------------------------------------------------------------------


def test_predictor_conforms_and_learns(one_torch_thread: None) -> None:
    check_predictor(functools.partial(NAOPredictor, epochs=20, hidden=16))
    rng = np.random.default_rng(0)
    X = np.eye(5)[rng.integers(0, 5, (60, 6))].reshape(60, 30)
    y = X[:, 2] + X[:, 7] - X[:, 12]
    model = NAOPredictor(epochs=150).fit(X, y)
    assert float(np.corrcoef(model.predict(X), y)[0, 1]) > 0.9
    assert np.allclose(np.linalg.norm(model.embed(X[:3]), axis=1), 1.0, atol=1e-5)


# ---- bad inputs ----------------------------------------------------------------------------------------------

BAD_OPTIONS = [
    ({"n_initial": 1}, "NAOSearch: n_initial must be an int >= 2, got 1"),
    ({"per_round": 0}, "NAOSearch: per_round must be an int >= 1, got 0"),
    ({"top_k": 2.5}, "NAOSearch: top_k must be an int >= 1, got 2.5"),
    ({"step_size": 0}, "NAOSearch: step_size must be a number > 0.0, got 0"),
    ({"max_steps": 0}, "NAOSearch: max_steps must be an int >= 1, got 0"),
    ({"epochs": 0}, "NAOSearch: epochs must be an int >= 1, got 0"),
    ({"hidden": 0}, "NAOSearch: hidden must be an int >= 1, got 0"),
    ({"dropout": 1.0}, "NAOSearch: dropout must be a number >= 0.0 and < 1.0, got 1.0"),
    ({"trade_off": 1.5}, "NAOSearch: trade_off must be a number in [0, 1], got 1.5"),
    ({"trade_off": float("nan")}, "NAOSearch: trade_off must be a number >= 0.0, got nan"),
    ({"lr": -1.0}, "NAOSearch: lr must be a number > 0.0, got -1.0"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS, ids=[str(o) for o, _ in BAD_OPTIONS])
def test_bad_options_raise_one_line_naming_the_class(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        NAOSearch(get_space("nb201"), **options)
    assert "\n" not in str(info.value)


def test_spaces_without_categorical_decisions_are_refused() -> None:
    with pytest.raises(ValueError, match=r"NAOSearch needs a space of fixed-length categorical decisions .*'nb101'"):
        NAOSearch(get_space("nb101"))


BAD_PREDICTOR = [
    ({"hidden": 0}, np.eye(4), "NAOPredictor: hidden must be an int >= 1, got 0"),
    ({"trade_off": -0.1}, np.eye(4), "NAOPredictor: trade_off must be a number >= 0.0, got -0.1"),
    ({}, np.full((4, 4), 0.5), "NAOPredictor needs a one-hot encoding of categorical decisions"),
    ({}, np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]]), "row 1 is not"),
]


@pytest.mark.parametrize(("params", "X", "message"), BAD_PREDICTOR, ids=["hidden", "trade_off", "not-0-1", "ragged"])
def test_predictor_bad_inputs_raise_one_line(params: dict[str, Any], X: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        NAOPredictor(**params).fit(X, np.arange(len(X), dtype=float))
    assert "\n" not in str(info.value)


CLI_BAD = [
    (["-s", "nao:epochs=0"], "NAOSearch: epochs must be an int >= 1, got 0"),
    (["-s", "nao:trade_off=2"], "NAOSearch: trade_off must be a number in [0, 1], got 2"),
    (["-s", "nao:learning_rate=0.1"], "searcher 'nao' has no option 'learning_rate'."),
    (["-s", "nao:per_round=abc"], "option 'per_round' must be an int"),
]


@pytest.mark.parametrize(("args", "message"), CLI_BAD, ids=[" ".join(a) for a, _ in CLI_BAD])
def test_cli_bad_inputs_exit_2_with_one_line_and_write_nothing(
    args: list[str], message: str, refused_on_analog: Callable[[list[str], str], None]
) -> None:
    refused_on_analog(["search", *args], message)


def test_search_command_runs_and_reports_nao(
    analog_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]], one_torch_thread: None
) -> None:
    results, report = tmp_path / "r.jsonl", tmp_path / "report"
    args = ["search", "-b", "nb201-analog/cifar10", "-s", "nao:n_initial=5,per_round=5,epochs=5", "-s", "random"]
    args += ["--budget", "15", "--seeds", "2", "--root", str(analog_root), "--results", str(results)]
    code, err = run_cli(*args, "--report", str(report))
    assert code == 0, err
    assert len(results.read_text().splitlines()) == 4
    assert "| nao:n_initial=5,per_round=5,epochs=5 |" in (report / "README.md").read_text()
