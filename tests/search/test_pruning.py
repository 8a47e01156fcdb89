from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import predictbench as pb
from predictbench.benchmarks.tabular import ProxyTable
from predictbench.oracle import Oracle
from predictbench.search import make_searcher, run_search
from predictbench.search.pruning import (
    ConstrainedSpace,
    PrunedSearch,
    decisions_of,
    prune_space,
    pruning_trace,
    shap_values,
)
from predictbench.spaces import SearchSpace, get_space
from predictbench.types import Arch, OutOfSpaceError

NB201 = get_space("nb201")


@pytest.fixture(scope="module")
def bench(analog_root: Path) -> pb.benchmarks.TabularBenchmark:
    return pb.load("nb201-analog/cifar10", root=analog_root)


@pytest.fixture(scope="module")
def constrained() -> ConstrainedSpace:
    return ConstrainedSpace(
        NB201,
        {"op_1_0": ["nor_conv_3x3", "skip_connect"], 5: [0, 2, 3]},
        forbidden=[(("op_2_0", "none"), ("op_3_0", "none"))],
    )


def _ops(space: ConstrainedSpace, archs: list[Arch]) -> np.ndarray:
    return NB201.ops_array(archs)


def _allowed(space: ConstrainedSpace, archs: list[Arch]) -> bool:
    ops = _ops(space, archs)
    none = 0
    ok = np.isin(ops[:, 0], [1, 3]) & np.isin(ops[:, 5], [0, 2, 3])
    ok &= ~((ops[:, 1] == none) & (ops[:, 3] == none))
    return bool(ok.all())


def test_decisions_of_nb201_are_edges_by_ops() -> None:
    d = decisions_of(NB201)
    assert d.n_positions == 6 and all(len(c) == 5 for c in d.choices)
    archs = NB201.sample(np.random.default_rng(0), 50)
    assert np.array_equal(d.encode(archs), NB201.ops_array(archs))
    assert np.array_equal(d.onehot(d.encode(archs)), NB201.encode("onehot", archs))
    assert [d.archs[i] for i in d.find(d.encode(archs))] == archs
    assert d.find(np.full((1, 6), 9))[0] == -1


def test_constrained_space_implements_the_protocol_and_never_yields_pruned_ops(constrained: ConstrainedSpace) -> None:
    space = constrained
    assert isinstance(space, SearchSpace)
    assert space.name == NB201.name
    everything = space.enumerate()
    assert len(everything) == len(space) == len({a.key for a in everything})
    assert _allowed(space, everything)
    # 2 * 5 * 5 * 5 * 5 * 3 cells minus those with none on both 2<-0 and 3<-0
    assert len(space) == 2 * 5**4 * 3 - 2 * 5**2 * 3
    assert 0 < space.fraction_pruned < 1
    rng = np.random.default_rng(0)
    sample = space.sample(rng, 300)
    assert _allowed(space, sample) and all(space.is_valid(a) for a in sample)
    for arch in sample[:40]:
        child = space.mutate(arch, rng)
        assert child != arch and space.is_valid(child)
        neighbours = space.neighbors(arch)
        assert neighbours and _allowed(space, neighbours)
        assert {a.key for a in neighbours} <= {a.key for a in NB201.neighbors(arch)}
        assert space.canonical(arch) in everything
        assert space.to_graph(arch).ops.shape == NB201.to_graph(arch).ops.shape
    outside = NB201.from_ops(["none"] * 6)
    assert not space.is_valid(outside) and not space.is_valid("not an arch") and not space.is_valid(3)
    with pytest.raises(OutOfSpaceError, match="pruned choice op_1_0=none"):
        space.validate(outside)
    with pytest.raises(OutOfSpaceError, match="forbidden pair"):
        space.validate(NB201.from_ops(["skip_connect", "none", "none", "none", "none", "none"]))
    assert space.validate(sample[0].key) == sample[0]
    with pytest.raises(OutOfSpaceError):
        space.mutate(outside, rng)


def test_constrained_space_composes_pickles_and_forwards(constrained: ConstrainedSpace) -> None:
    tighter = ConstrainedSpace(constrained, {"op_1_0": ["nor_conv_3x3"]})
    assert tighter.base is NB201 and tighter.forbidden == constrained.forbidden
    assert len(tighter) * 2 == len(constrained)
    assert set(tighter.pruned_choices()) >= set(constrained.pruned_choices())
    again = pickle.loads(pickle.dumps(tighter))
    assert again.enumerate() == tighter.enumerate()
    arch = tighter.sample(np.random.default_rng(1), 1)[0]
    assert tighter.ops_of(arch)[0] == "nor_conv_3x3"  # forwarded to the base space
    features = ProxyTable(tighter).batch([arch]).features("onehot")
    assert features.shape == (1, 30)
    with pytest.raises(ValueError, match="no choice left"):
        ConstrainedSpace(tighter, {"op_1_0": ["none"]})
    with pytest.raises(ValueError, match="two positions"):
        ConstrainedSpace(NB201, forbidden=[((0, 1), (0, 2))])
    with pytest.raises(OutOfSpaceError, match="unknown choice"):
        ConstrainedSpace(NB201, {0: ["conv9x9"]})
    with pytest.raises(ValueError, match="no architecture"):
        ConstrainedSpace(NB201, {0: [0], 1: [0]}, forbidden=[((0, 0), (1, 0))])


def test_every_searcher_runs_unchanged_on_a_constrained_space(
    constrained: ConstrainedSpace, bench: pb.benchmarks.TabularBenchmark
) -> None:
    options = {
        "guided": {"predictor": {"name": "lgbm", "n_estimators": 10}, "ensemble_size": 2, "batch_size": 5},
        "gbdtnas": {"predictor": {"name": "lgbm", "n_estimators": 10}, "top_k": 10},
        "comparator": {"predictor": {"name": "lgbm", "n_estimators": 10}, "batch_size": 5},
        "pruned": {"queries_per_round": 10, "rounds": 1},
    }
    for name in ("random", "evolution", "local", "guided", "gbdtnas", "comparator", "mcts", "pruned"):
        oracle = run_search(make_searcher(name, constrained, seed=0, **options.get(name, {})), Oracle(bench, budget=25))
        archs = [q.arch for q in oracle.history]
        assert len({a.key for a in archs}) == 25, name
        assert _allowed(constrained, archs), name


def test_shap_backends_agree_and_prune_space_prunes_part_of_the_space(bench: pb.benchmarks.TabularBenchmark) -> None:
    archs = NB201.sample(np.random.default_rng(3), 80)
    scores = bench.scores(archs, "baseline_accuracy")
    result = prune_space(NB201, archs, scores, backend="lightgbm")
    space = result.space
    assert 0 < space.fraction_pruned < 1 and 1 <= len(result.pruned) <= 3 and result.backend == "lightgbm"
    assert [m for _, m in result.pruned] == sorted(m for _, m in result.pruned)  # most negative first
    assert all(len(a) >= 1 for a in space.allowed)
    assert all(result.mean_shap[label] < 0 for label, _ in result.pruned)
    # the best sampled architecture keeps all its choices (protect_best)
    assert space.is_valid(archs[int(np.argmax(scores))])
    # the worst choices for accuracy go first: 'none' on the direct input->output edge
    assert "op_3_0=none" in [label for label, _ in result.pruned]
    again = prune_space(NB201, archs, scores, backend="lightgbm")
    assert again.space.enumerate() == space.enumerate()
    # the literal rule (prune every negative choice) removes more, never a whole position
    literal = prune_space(NB201, archs, scores, backend="lightgbm", max_prune=None)
    assert len(literal.space) < len(space) and all(len(a) >= 1 for a in literal.space.allowed)
    assert len(literal.pruned) > len(result.pruned)
    # a second round only removes more
    second = prune_space(space, archs, scores, backend="lightgbm")
    assert set(second.space.pruned_choices()) >= set(space.pruned_choices())
    assert len(second.space) <= len(space)


def test_shap_package_matches_lightgbm_contributions(bench: pb.benchmarks.TabularBenchmark) -> None:
    pytest.importorskip("shap")
    from predictbench.predictors.gbdt import LGBMPredictor

    archs = NB201.sample(np.random.default_rng(4), 60)
    X = NB201.encode("onehot", archs)
    model = LGBMPredictor(n_estimators=20).fit(X, bench.scores(archs, "baseline_accuracy"))
    ours, backend = shap_values(model.booster_, X, backend="lightgbm")
    theirs, other = shap_values(model.booster_, X, backend="shap")
    assert (backend, other) == ("lightgbm", "shap")
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_second_order_pruning_forbids_pairs(bench: pb.benchmarks.TabularBenchmark) -> None:
    pytest.importorskip("shap")
    archs = NB201.sample(np.random.default_rng(5), 80)
    scores = bench.scores(archs, "baseline_accuracy")
    result = prune_space(NB201, archs, scores, second_order=True, max_pairs=3)
    assert 1 <= len(result.forbidden) <= 3
    assert len(result.space.forbidden) == len(result.forbidden)
    for arch in result.space.sample(np.random.default_rng(0), 200):
        ops = dict(zip(decisions_of(NB201).positions, NB201.ops_of(arch), strict=True))
        for a, b, value in result.forbidden:
            assert value < 0
            pa, ca = a.split("=")
            pb_, cb = b.split("=")
            assert not (ops[pa] == ca and ops[pb_] == cb)


def test_pruned_search_alternates_prune_and_search(bench: pb.benchmarks.TabularBenchmark) -> None:
    runs = []
    for _ in range(2):
        searcher = PrunedSearch(NB201, seed=2, rounds=2, queries_per_round=20)
        oracle = run_search(searcher, Oracle(bench, budget=70, seed=0))
        keys = [q.arch.key for q in oracle.history]
        assert len(keys) == len(set(keys)) == 70
        runs.append(keys)
    assert runs[0] == runs[1]
    assert [r.queries for r in searcher.history] == [20, 40]
    sizes = [len(r.space) for r in searcher.history]
    assert sizes[0] < len(NB201) and sizes[1] <= sizes[0]
    # after each pruning every query lies in the pruned space
    for entry in searcher.history:
        later = [q.arch for q in oracle.history[entry.queries :]]
        assert all(entry.space.is_valid(a) for a in later)
    optimum = bench.best("baseline_accuracy")[0]
    trace = pruning_trace(searcher, optimum=optimum)
    assert list(trace["round"]) == [1, 2]
    assert trace["fraction_pruned"].between(0, 1, inclusive="neither").all()
    assert trace["fraction_pruned"].is_monotonic_increasing
    assert trace["optimum_survives"].dtype == bool
    assert "fraction_pruned" in pruning_trace(searcher).columns


def test_pruned_search_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="queries_per_round"):
        PrunedSearch(NB201, queries_per_round=1)
    with pytest.raises(ValueError, match="at least 2"):
        prune_space(NB201, NB201.sample(np.random.default_rng(0), 1), [1.0])
