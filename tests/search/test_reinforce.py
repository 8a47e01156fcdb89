"""The REINFORCE controller and its MnasNet hardware-aware reward (predictbench.search.reinforce)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import predictbench as pb
from predictbench.multiobjective import make_mo_searcher
from predictbench.multiobjective.base import run_multiobjective
from predictbench.multiobjective.oracle import MultiObjectiveOracle
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.search.pruning import ConstrainedSpace
from predictbench.search.reinforce import HARD_W, HardwareAwareReinforce, ReinforceSearch, mnas_reward
from predictbench.spaces import get_space
from predictbench.testing import check_searcher


def _mo_scores(archs: list[pb.Arch]) -> np.ndarray:
    """(accuracy, minus latency) scores, deterministic per architecture."""
    return np.array([[80.0 + len(a.key) % 11, -(1.0 + len(a.key) % 7)] for a in archs])


@pytest.mark.parametrize(
    ("factory", "space", "score"),
    [
        (ReinforceSearch, "nb201", None),
        (ReinforceSearch, "nats-sss", None),
        (ReinforceSearch, "nbgraph", None),
        (ReinforceSearch, "nb201-constrained", None),
        (HardwareAwareReinforce, "nb201", _mo_scores),
    ],
    ids=["nb201", "nats-sss", "nbgraph", "nb201-constrained", "hardware-aware"],
)
def test_ask_tell_contract(factory: Any, space: str, score: Any) -> None:
    if space == "nb201-constrained":
        constrained = ConstrainedSpace(get_space("nb201"), {"op_1_0": ["nor_conv_3x3", "skip_connect"]})
        check_searcher(factory, constrained, score=score)
        proposed = factory(constrained, seed=0).ask(50)
        assert all(constrained.is_valid(a) for a in proposed)
    else:
        check_searcher(factory, get_space(space), score=score)


@pytest.mark.parametrize(
    ("accuracy", "cost", "target", "w", "expected"),
    [
        (90.0, 5.0, 5.0, -0.07, 90.0),  # at the target: no penalty
        (90.0, 10.0, 5.0, -0.07, 90.0 * 2**-0.07),  # twice the target
        (90.0, 2.5, 5.0, -0.07, 90.0 * 0.5**-0.07),  # half the target: a small bonus
        (90.0, 4.0, 5.0, HARD_W, 90.0),  # hard form: no change below T
        (90.0, 10.0, 5.0, HARD_W, 45.0),  # hard form: ACC * T / LAT above T
        (90.0, 10.0, 5.0, (0.0, -0.5), 90.0 * 2**-0.5),  # (w below, w above)
        (90.0, math.inf, 5.0, -0.07, 0.0),  # missing latency: the worst reward of a positive accuracy
        (-math.inf, 4.0, 5.0, -0.07, -math.inf),  # missing accuracy
    ],
    ids=["at-T", "soft-above", "soft-below", "hard-below", "hard-above", "pair", "missing-cost", "missing-acc"],
)
def test_mnas_reward_on_known_numbers(accuracy: float, cost: float, target: float, w: Any, expected: float) -> None:
    assert mnas_reward(np.array([accuracy]), np.array([cost]), target, w)[0] == pytest.approx(expected)


def test_baseline_and_adam_step_follow_the_nb201_baseline() -> None:
    rl = ReinforceSearch(get_space("nb201"), seed=0)
    start = rl.logits.copy()
    first = rl.ask(1)
    rl.tell(first, [80.0])
    assert rl.baseline == pytest.approx(80.0)  # bias-corrected moving average of one reward is that reward
    assert np.array_equal(rl.logits, start)  # advantage 0: no step
    second = rl.ask(1)
    rl.tell(second, [90.0])
    assert rl.baseline == pytest.approx((0.9 * 0.1 * 80.0 + 0.1 * 90.0) / (0.9 * 0.1 + 0.1))
    # as torch's Adam in the NB201 script: the first (zero-gradient) step counts, so the second moves every logit
    # by lr * (0.1 / (1 - 0.9**2)) / sqrt(0.001 / (1 - 0.999**2)) against its gradient's sign; advantage > 0
    # raises the drawn choices and lowers the others
    assert rl.steps == 2
    size = 0.01 * (0.1 / (1 - 0.9**2)) / math.sqrt(0.001 / (1 - 0.999**2))
    step = rl.logits - start
    chosen = rl.decisions.encode(second)[0]
    assert np.allclose(step[np.arange(6), chosen], size, rtol=1e-4)
    others = ~np.eye(5, dtype=bool)[chosen]
    assert np.allclose(step[others], -size, rtol=1e-4)


@pytest.mark.parametrize("space", ["nb201", "nats-sss", "nbgraph-proteins"])
def test_policy_concentrates_on_the_best_cell_of_a_toy_problem(space: str) -> None:
    """Reward = number of decisions equal to those of one cell: the policy learns that cell."""
    rl = ReinforceSearch(get_space(space), seed=0, learning_rate=0.1)
    target = rl.decisions.codes[len(rl.decisions) // 3]
    for _ in range(800):
        archs = rl.ask(1)
        rl.tell(archs, [float((rl.decisions.encode(archs)[0] == target).sum())])
    probs = rl.probabilities()
    uniform = 1.0 / np.prod([len(p) for p in probs])
    assert np.prod([p[t] for p, t in zip(probs, target, strict=True)]) > 100 * uniform
    assert sum(int(p.argmax()) == t for p, t in zip(probs, target, strict=True)) >= len(target) - 1


def test_hardware_aware_reward_drives_the_scalar_view_and_the_policy() -> None:
    hw = HardwareAwareReinforce(get_space("nb201"), seed=0, target=5.0, w="hard")
    archs = hw.ask(3)
    hw.tell(archs, [[90.0, -4.0], [90.0, -10.0], [80.0, -5.0]])
    assert [hw.scores[a.key] for a in archs] == [90.0, 45.0, 80.0]
    assert hw.best()[0] == archs[0]
    assert hw.baseline is not None and hw.steps == 3  # one REINFORCE step per reward
    adaptive = HardwareAwareReinforce(get_space("nb201"), seed=0)  # target: median latency so far
    archs = adaptive.ask(3)
    adaptive.tell(archs, [[90.0, -2.0], [90.0, -4.0], [90.0, -8.0]])
    assert [adaptive.scores[a.key] for a in archs] == pytest.approx([90.0 * 0.5**-0.07, 90.0, 90.0 * 2**-0.07])


@pytest.mark.shared_data
def test_hardware_aware_search_on_hw_nas_bench_latency(nb201_tables_root: Path) -> None:
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    target = float(np.nanmedian(bench.column("edgegpu_latency")))
    runs = []
    for _ in range(2):
        searcher = make_mo_searcher("reinforce", bench.space, seed=3, target=target)
        oracle = MultiObjectiveOracle(bench, objectives=["valid_acc@12", "edgegpu_latency"], budget=30, seed=1)
        run_multiobjective(searcher, oracle)
        keys = [q.arch.key for q in oracle.history]
        assert len(set(keys)) == 30
        scores = oracle.score_matrix()
        expected = mnas_reward(scores[:, 0], -scores[:, 1], target, -0.07)
        assert np.allclose([searcher.scores[k] for k in keys], expected)
        runs.append(keys)
    assert runs[0] == runs[1]


BAD_OBJECTIVES = [
    (["valid_acc@12", "edgegpu_latency", "edgegpu_energy"], "needs exactly 2 objectives .* got 3: valid_acc"),
    (["valid_acc@12", "train_acc@200"], "objective 2 must be a lower-is-better latency or energy .* 'train_acc'"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize(("objectives", "message"), BAD_OBJECTIVES, ids=["3-objectives", "accuracy-second"])
def test_bad_objectives_are_refused_before_any_evaluation(
    nb201_tables_root: Path, objectives: list[str], message: str
) -> None:
    bench = pb.load("nb201/cifar10", root=nb201_tables_root)
    oracle = MultiObjectiveOracle(bench, objectives=objectives, budget=5, seed=0)
    with pytest.raises(ValueError, match=message):
        run_multiobjective(make_mo_searcher("reinforce", bench.space, seed=0), oracle)
    assert oracle.queries == 0 and not oracle.history


def test_single_objective_search_is_deterministic_per_seed(analog_root: Path) -> None:
    bench = pb.load("nb201-analog/cifar10", root=analog_root)

    def keys(seed: int) -> list[str]:
        oracle = run_search(make_searcher("reinforce", bench.space, seed=seed), Oracle(bench, budget=40, seed=0))
        return [q.arch.key for q in oracle.history]

    assert keys(1) == keys(1) != keys(2)


# ---- bad inputs --------------------------------------------------------------------------------------------

BAD_OPTIONS = [
    ("reinforce", {"learning_rate": 0}, "learning_rate must be a finite number > 0, got 0"),
    ("reinforce", {"learning_rate": float("nan")}, "learning_rate must be a finite number > 0, got nan"),
    ("reinforce", {"momentum": 1.0}, "momentum must be a finite number >= 0 and < 1, got 1.0"),
    ("reinforce", {"init_scale": -1}, "init_scale must be a finite number >= 0, got -1"),
    ("hw", {"target": 0}, "target must be a finite number > 0, got 0"),
    ("hw", {"w": "soft"}, "w must be a finite number, a pair (w at or below target, w above target) or 'hard'"),
    ("hw", {"w": (1.0,)}, "got (1.0,)"),
    ("hw", {"w": (0.0, float("inf"))}, "got (0.0, inf)"),
    ("hw", {"momentum": -0.1}, "HardwareAwareReinforce: momentum must be a finite number >= 0"),
]


@pytest.mark.parametrize(("kind", "options", "message"), BAD_OPTIONS, ids=[str(o) for _, o, _ in BAD_OPTIONS])
def test_bad_options_raise_one_line(kind: str, options: dict[str, Any], message: str) -> None:
    factory = ReinforceSearch if kind == "reinforce" else HardwareAwareReinforce
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        factory(get_space("nb201"), **options)
    assert "\n" not in str(info.value)


def test_spaces_without_categorical_decisions_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"ReinforceSearch needs a space of fixed-length categorical decisions .*'nb101'"
    ):
        ReinforceSearch(get_space("nb101"))


BAD_TELLS = [
    ([[90.0, -1.0, -2.0]], "needs exactly 2 objectives (the search signal, then a latency or energy), got 3"),
    (
        [[90.0, 88.5]],
        "needs objective 2 to be a latency or energy (lower is better, positive), whose scores are "
        "negative; got the score 88.5",
    ),
    ([[90.0, 0.0]], "got the score 0.0"),
]


@pytest.mark.parametrize(("scores", "message"), BAD_TELLS, ids=["3-objectives", "higher-is-better", "zero-cost"])
def test_bad_objectives_are_refused_before_anything_is_recorded(scores: list[list[float]], message: str) -> None:
    hw = HardwareAwareReinforce(get_space("nb201"), seed=0)
    archs = hw.ask(1)
    with pytest.raises(ValueError, match=re.escape(message)):
        hw.tell(archs, scores)
    assert not hw.objective_scores and hw.steps == 0


CLI_BAD = [
    (["search", "-s", "reinforce:learning_rate=0"], "ReinforceSearch: learning_rate must be a finite number > 0"),
    (["search", "-s", "reinforce:lr=0.1"], "searcher 'reinforce' has no option 'lr'."),
    (["mosearch", "-s", "reinforce:w=soft"], "option 'w' must be a number or a tuple of float values or one of 'hard'"),
    # the analog store's second objective (drift) is higher-is-better
    (
        ["mosearch", "-s", "reinforce"],
        "objective 2 must be a lower-is-better latency or energy",
    ),  # analog drift: higher is better
]


@pytest.mark.parametrize(("args", "message"), CLI_BAD, ids=[" ".join(a) for a, _ in CLI_BAD])
def test_cli_bad_inputs_exit_2_with_one_line_and_write_nothing(
    args: list[str], message: str, refused_on_analog: Callable[[list[str], str], None]
) -> None:
    refused_on_analog([*args], message)


def test_search_command_runs_and_reports_reinforce(
    analog_root: Path, tmp_path: Path, run_cli: Callable[..., tuple[int, str]]
) -> None:
    results, report = tmp_path / "r.jsonl", tmp_path / "report"
    args = ["search", "-b", "nb201-analog/cifar10", "-s", "reinforce", "-s", "reinforce:learning_rate=0.1"]
    args += ["--budget", "12", "--seeds", "2", "--root", str(analog_root), "--results", str(results)]
    code, err = run_cli(*args, "--report", str(report))
    assert code == 0, err
    assert len(results.read_text().splitlines()) == 4
    assert "| reinforce:learning_rate=0.1 |" in (report / "README.md").read_text()
