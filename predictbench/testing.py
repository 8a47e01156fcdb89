"""Shipped conformance checks for components, and a tiny real-format benchmark to run them on.

:func:`check_predictor` checks everything the Predictor contract (``predictbench.predictors.base``) promises
and raises :class:`AssertionError` with a message naming the predictor and the violated rule. Usage errors of
the check itself (bad data) raise :class:`ValueError`. :func:`toy_benchmark` writes a few hundred real NB201
cells with a synthetic, learnable target and three correlated proxies through the one store writer, so
conformance tests of feature, graph and proxy predictors get real inputs (an :class:`ArchBatch`).

Examples
--------
>>> from predictbench.predictors.baselines import RidgePredictor
>>> check_predictor(RidgePredictor)  # builds the toy benchmark in a temporary folder  # doctest: +SKIP
>>> bench = toy_benchmark(tmp_path)  # doctest: +SKIP
>>> keys = bench.keys()  # doctest: +SKIP
>>> check_predictor(lambda: RidgePredictor(alpha=0.1), bench.batch(keys[:150]),
...                 bench.lookup(keys[:150], "test_acc"), X_test=bench.batch(keys[150:]))  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import logging
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from predictbench.types import NotFittedError

if TYPE_CHECKING:
    from predictbench.benchmarks import TabularBenchmark
    from predictbench.predictors.base import Predictor

log = logging.getLogger(__name__)

__all__ = ["KNOWN_INPUTS", "TOY_NAME", "TOY_PROXIES", "check_predictor", "check_searcher", "toy_benchmark"]

#: Inputs a predictor may declare in ``needs``.
KNOWN_INPUTS = frozenset({"features", "graphs", "proxies"})
#: Store name of :func:`toy_benchmark`.
TOY_NAME = "toy-nb201/cifar10"
#: Proxy columns of :func:`toy_benchmark` (synthetic values under common proxy names), strongest first.
TOY_PROXIES = ("synflow", "nwot", "jacov")

# ---- toy benchmark --------------------------------------------------------------------------------------

# value of each op (official order: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3) and the
# weight of each edge (official order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)
_OP_VALUE = np.array([-1.0, 0.2, 0.8, 1.2, 0.0])
_EDGE_WEIGHT = np.array([1.0, 0.8, 0.9, 1.2, 1.0, 1.1])
_NUM_CELLS = 15_625


def toy_signal(ops: np.ndarray) -> np.ndarray:
    """The noise-free quality of NB201 cells given their (n, 6) official op ids (higher is better).

    An additive op-per-edge value plus two interactions a linear model on one-hot features cannot express
    (a cell whose three edges into the output are all ``none`` is dead; three or more 3x3 convolutions earn
    a bonus).
    """
    ops = np.asarray(ops, dtype=np.intp)
    additive = (_OP_VALUE[ops] * _EDGE_WEIGHT).sum(axis=1)
    dead = (ops[:, 3:] == 0).all(axis=1)
    many_conv = (ops == 3).sum(axis=1) >= 3
    return additive - 3.0 * dead + 0.8 * many_conv


def toy_benchmark(
    root: str | Path, *, n: int = 300, seed: int = 0, name: str = TOY_NAME, proxies: Sequence[str] = TOY_PROXIES
) -> TabularBenchmark:
    """Write a small real-format NB201 store under ``root`` and return it loaded.

    ``n`` distinct NB201 cells (official keys and indices, drawn with ``seed``) get a synthetic target:
    ``valid_acc`` at 12 and 200 epochs and ``test_acc`` at 200 epochs (two training seeds each) are
    :func:`toy_signal` of the cell's ops plus Gaussian noise. ``proxies`` (at most three; by default
    :data:`TOY_PROXIES`) are zero-cost proxy columns correlated with the signal, from strong to weak, on
    different scales. The search metric is ``valid_acc`` at 12 epochs and the report metric ``test_acc`` at
    200 epochs.

    Examples
    --------
    >>> bench = toy_benchmark(tmp_path)  # doctest: +SKIP
    >>> len(bench), bench.proxy_names  # doctest: +SKIP
    (300, ['synflow', 'nwot', 'jacov'])
    """
    import pandas as pd

    from predictbench.benchmarks import TabularBenchmark
    from predictbench.benchmarks.store import MetricRef, StoreMeta, provenance, write_store
    from predictbench.spaces.nb201 import NB201Space
    from predictbench.types import Metric

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= _NUM_CELLS:
        raise ValueError(f"n must be an int in 2..{_NUM_CELLS}, got {n!r}")
    proxies = list(proxies)
    if len(proxies) > 3 or len(set(proxies)) != len(proxies):
        raise ValueError(f"proxies must be at most 3 distinct names, got {proxies!r}")
    rng = np.random.default_rng(seed)
    space = NB201Space()
    indices = np.sort(rng.choice(_NUM_CELLS, size=int(n), replace=False))
    keys = np.array([a.key for a in space.from_index(indices)], dtype=object)
    ops = space.ops_array(keys)
    signal = toy_signal(ops)
    n_conv = (ops >= 2).sum(axis=1) - (ops == 4).sum(axis=1)

    frames = []
    for train_seed in (0, 1):
        for fidelity, level, slope, noise in ((12, 40.0, 3.5, 2.0), (200, 70.0, 5.0, 1.0)):
            valid = level + slope * signal + noise * rng.standard_normal(n)
            test = valid + 0.5 * rng.standard_normal(n) if fidelity == 200 else np.full(n, np.nan)
            frames.append(
                pd.DataFrame(
                    {
                        "key": keys,
                        "seed": train_seed,
                        "fidelity": fidelity,
                        "valid_acc": np.clip(valid, 0.0, 100.0),
                        "test_acc": np.clip(test, 0.0, 100.0),
                    }
                )
            )
    results = pd.concat(frames, ignore_index=True)
    columns = [
        50.0 + 10.0 * signal + 3.0 * rng.standard_normal(n),  # strong
        700.0 + 5.0 * (signal + 0.5 * n_conv) + 10.0 * rng.standard_normal(n),  # medium, partly params-like
        -60.0 + 0.5 * signal + 2.0 * rng.standard_normal(n),  # weak
    ]
    proxy_table = pd.DataFrame({"key": keys, **dict(zip(proxies, columns[: len(proxies)], strict=False))})
    metrics = {
        "valid_acc": Metric("valid_acc", True, "%", "objective", 0.0, 100.0, "synthetic validation accuracy"),
        "test_acc": Metric("test_acc", True, "%", "objective", 0.0, 100.0, "synthetic test accuracy", "test"),
        **{p: Metric(p, True, "", "proxy", description="synthetic proxy correlated with the target") for p in proxies},
    }
    meta = StoreMeta(
        name=name,
        space="nb201",
        task="cifar10",
        metrics=metrics,
        fidelities=(12, 200),
        default_fidelity=200,
        seeds=(0, 1),
        search=MetricRef("valid_acc", 12),
        report=MetricRef("test_acc", 200),
        provenance=provenance("predictbench.testing.toy_benchmark", "1", {}, n=int(n), seed=int(seed)),
        description="Synthetic target on real NB201 cells for conformance tests (not real accuracies)",
    )
    archs = pd.DataFrame({"key": keys, "index": indices.astype(np.int64)})
    path = write_store(root, meta, archs, results, proxy_table if proxies else None)
    return TabularBenchmark.from_path(path)


# ---- predictor conformance ------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Parameter equality that also works for numpy arrays."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.shape(a) == np.shape(b) and np.array_equal(a, b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _params_diff(left: dict[str, Any], right: dict[str, Any]) -> str:
    if set(left) != set(right):
        return f"names differ: {sorted(set(left) ^ set(right))}"
    bad = [k for k in left if not _same(left[k], right[k])]
    return ", ".join(f"{k}: {left[k]!r} != {right[k]!r}" for k in bad)


def _is_batch(X: Any) -> bool:
    return hasattr(X, "keys") and hasattr(X, "subset") and hasattr(X, "features")


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.subset(rows) if _is_batch(X) else X[rows]


def _snapshot(X: Any) -> np.ndarray:
    return np.array(X.keys if _is_batch(X) else X, copy=True)


def _unchanged(X: Any, before: np.ndarray) -> bool:
    now = np.asarray(X.keys if _is_batch(X) else X)
    if now.shape != before.shape or now.dtype != before.dtype:
        return False
    return bool(np.array_equal(now, before, equal_nan=now.dtype.kind in "fc"))


def _raises_not_fitted(predictor: Any, X: Any, where: str) -> None:
    try:
        predictor.predict(X)
    except NotFittedError:
        return
    except Exception as exc:  # the contract names the exception: anything else is a violation
        raise AssertionError(
            f"{where}: predict before fit must raise predictbench.NotFittedError, got {type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"{where}: predict before fit must raise predictbench.NotFittedError, but it returned")


def _check_scores(scores: Any, n: int, where: str) -> np.ndarray:
    if not isinstance(scores, np.ndarray):
        raise AssertionError(f"{where}: predict must return a numpy array, got {type(scores).__name__}")
    if scores.shape != (n,):
        raise AssertionError(f"{where}: predict must return shape ({n},), got {scores.shape}")
    if scores.dtype.kind not in "fiu":
        raise AssertionError(f"{where}: predict must return real numbers, got dtype {scores.dtype}")
    if not np.isfinite(scores).all():
        bad = int(np.flatnonzero(~np.isfinite(scores))[0])
        raise AssertionError(f"{where}: predict returned a non-finite score ({scores[bad]} at row {bad})")
    return scores


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9 * scale))


def _check_signature(cls: type, where: str) -> None:
    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    for param in list(signature.parameters.values())[1:]:
        if param.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise AssertionError(f"{where}: __init__ parameter {param.name!r} must be keyword-only (after *)")
        if param.default is inspect.Parameter.empty:
            raise AssertionError(f"{where}: __init__ parameter {param.name!r} needs a working default")


def _check_init_only_stores(predictor: Any, where: str) -> dict[str, Any]:
    cls = type(predictor)
    params = predictor.get_params()
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    if sorted(params) != sorted(names):
        raise AssertionError(f"{where}: get_params() names {sorted(params)} != __init__ parameters {sorted(names)}")
    try:
        default = cls()
    except Exception as exc:
        raise AssertionError(f"{where}: {cls.__name__}() with default arguments failed: {exc!r}") from exc
    fresh = cls(**params)
    stored = set(vars(fresh))
    if stored != set(params):
        extra, missing = sorted(stored - set(params)), sorted(set(params) - stored)
        raise AssertionError(
            f"{where}: __init__ must only store its arguments as same-named attributes; "
            f"extra attributes {extra}, parameters not stored {missing}"
        )
    for name, value in fresh.get_params().items():
        if value is not params[name] and not _same(value, params[name]):
            raise AssertionError(
                f"{where}: __init__ changed parameter {name!r}: passed {params[name]!r}, stored {value!r} "
                "(validate and convert in fit, not in __init__)"
            )
    learned = sorted(k for k in vars(default) if k.endswith("_") and not k.startswith("_"))
    if learned:
        raise AssertionError(f"{where}: __init__ sets learned attributes {learned}")
    return dict(params)


def _check_needs(predictor: Any, X: Any, where: str) -> None:
    needs = getattr(predictor, "needs", None)
    if not isinstance(needs, (set, frozenset)):
        raise AssertionError(f"{where}: needs must be a frozenset of inputs, got {needs!r}")
    unknown = set(needs) - KNOWN_INPUTS
    if unknown:
        raise AssertionError(f"{where}: needs names unknown inputs {sorted(unknown)}; known: {sorted(KNOWN_INPUTS)}")
    declared = getattr(type(predictor), "needs", None)  # a class attribute, or a descriptor giving a frozenset
    if isinstance(declared, (set, frozenset)) and set(declared) - KNOWN_INPUTS:
        raise AssertionError(f"{where}: the class's needs names unknown inputs {sorted(set(declared) - KNOWN_INPUTS)}")
    if not _is_batch(X) and set(needs) - {"features"}:
        raise ValueError(f"{where} needs {sorted(needs)}: pass an ArchBatch (benchmark.batch(keys)), not an array")


def _default_data() -> tuple[Any, np.ndarray, Any]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="predictbench-toy-") as tmp:
        bench = toy_benchmark(tmp)  # stores are read into memory: the folder may go
    keys = bench.keys()
    target = bench.lookup(keys[:150], "test_acc")
    return bench.batch(keys[:150]), target, bench.batch(keys[150:])


def check_predictor(
    predictor_or_factory: Predictor | Callable[[], Predictor],
    X: Any = None,
    y: Any = None,
    *,
    X_test: Any = None,
) -> None:
    """Check that a predictor honours the Predictor contract; raise AssertionError on the first violation.

    Parameters
    ----------
    predictor_or_factory
        An unfitted predictor, or a zero-argument callable (a class, a lambda) that makes one.
    X, y
        Training data: an ArchBatch (every predictor) or a 2-d feature matrix (predictors needing only
        features), and the target. When both are None a :func:`toy_benchmark` is built in a temporary folder
        (150 training cells, 150 test cells).
    X_test
        Cells to predict (default ``X``), of the same kind as ``X``.

    Checked: ``__init__`` is keyword-only with working defaults and only stores its arguments (no learned
    state); ``needs`` is declared and a subset of :data:`KNOWN_INPUTS`; predict before fit raises
    NotFittedError; ``fit`` returns self; scores have shape (n,) and are finite; fit and predict do not mutate
    ``X``, ``X_test`` (arrays or ArchBatch keys) or ``y``; predict is repeatable and row-wise (a single row, and
    a permutation of the rows gives the permuted scores); a fresh clone fitted on other data first and then on
    the same data gives identical scores (determinism, no state leaking across fits); ``clone`` and
    ``get_params``/``set_params`` round-trip and a clone is unfitted; a fitted predictor pickles and the copy
    predicts identically.

    Examples
    --------
    >>> from predictbench.predictors.baselines import RidgePredictor
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((40, 5)); y = X @ np.arange(5.0)
    >>> check_predictor(RidgePredictor, X, y)
    """
    if X is None and y is None:
        X, y, X_test = _default_data()
    elif X is None or y is None:
        raise ValueError("pass both X and y, or neither (then the toy benchmark is used)")
    if X_test is None:
        X_test = X
    if not _is_batch(X):
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be an ArchBatch or a 2-d feature matrix, got shape {X.shape}")
    if not _is_batch(X_test):
        X_test = np.asarray(X_test)
    if _is_batch(X) != _is_batch(X_test):
        raise ValueError("X and X_test must both be ArchBatches or both feature matrices")
    n, n_test = len(X), len(X_test)
    if np.shape(y) != (n,):
        raise ValueError(f"y must have shape ({n},), got {np.shape(y)}")
    if n_test < 2:
        raise ValueError(f"X_test needs at least 2 rows for the permutation check, got {n_test}")

    factory: Callable[[], Any]
    if callable(predictor_or_factory) and not hasattr(predictor_or_factory, "fit"):
        factory = predictor_or_factory
    elif isinstance(predictor_or_factory, type):
        factory = predictor_or_factory
    else:
        template: Any = predictor_or_factory
        factory = template.clone
        if any(k.endswith("_") and not k.startswith("_") for k in vars(template)):
            raise ValueError(f"pass an unfitted predictor (or a factory), got a fitted {template!r}")
    predictor = factory()
    for method in ("fit", "predict", "get_params", "set_params", "clone"):
        if not callable(getattr(predictor, method, None)):
            raise AssertionError(f"{type(predictor).__name__} lacks the Predictor method {method}()")
    where = repr(predictor)
    log.debug("check_predictor %s on %d training and %d test cells", where, n, n_test)

    _check_signature(type(predictor), where)
    params = _check_init_only_stores(predictor, where)
    _check_needs(predictor, X, where)
    _raises_not_fitted(predictor, X_test, where)

    y_before = np.array(y, dtype=float, copy=True)
    X_before, X_test_before = _snapshot(X), _snapshot(X_test)

    def check_inputs(stage: str) -> None:
        for label, value, before in (("X", X, X_before), ("X_test", X_test, X_test_before)):
            if not _unchanged(value, before):
                what = "ArchBatch keys" if _is_batch(value) else "feature matrix"
                raise AssertionError(f"{where}: {stage} mutated its input {label} ({what})")
        if not np.array_equal(np.asarray(y, dtype=float), y_before):
            raise AssertionError(f"{where}: {stage} mutated the target y")

    returned = predictor.fit(X, y)
    if returned is not predictor:
        raise AssertionError(f"{where}: fit must return self, returned {type(returned).__name__}")
    check_inputs("fit")
    if not _same_params(predictor.get_params(), params):
        raise AssertionError(f"{where}: fit changed parameters: {_params_diff(predictor.get_params(), params)}")

    scores = _check_scores(predictor.predict(X_test), n_test, where)
    check_inputs("predict")
    _check_scores(predictor.predict(X), n, f"{where} (on the training cells)")
    again = predictor.predict(X_test)
    if not np.array_equal(again, scores):
        raise AssertionError(f"{where}: predict is not repeatable (max diff {np.max(np.abs(again - scores)):.3g})")

    single = _check_scores(predictor.predict(_take(X_test, np.array([1]))), 1, f"{where} (one row)")
    if not _close(single, scores[1:2]):
        raise AssertionError(
            f"{where}: the score of a cell depends on the batch: alone {single[0]!r}, in a batch {scores[1]!r}"
        )
    perm = np.random.default_rng(0).permutation(n_test)
    permuted = predictor.predict(_take(X_test, perm))
    if not _close(np.asarray(permuted), scores[perm]):
        raise AssertionError(
            f"{where}: not permutation equivariant: predict(X_test[perm]) != predict(X_test)[perm] "
            f"(max diff {np.max(np.abs(np.asarray(permuted) - scores[perm])):.3g})"
        )

    # determinism and no state leaking across fits: a fresh clone fitted on other data, then on (X, y)
    other = predictor.clone()
    half = np.arange(max(2, n // 2))
    other.fit(_take(X, half), np.asarray(y, dtype=float)[half][::-1].copy())
    other.fit(X, y)
    other_scores = other.predict(X_test)
    if not np.array_equal(other_scores, scores):
        third = predictor.clone().fit(X, y).predict(X_test)
        if np.array_equal(third, scores):
            raise AssertionError(f"{where}: refitting does not reset learned state (fit on other data leaks)")
        raise AssertionError(
            f"{where}: not deterministic: two clones fitted on the same data predict differently "
            f"(max diff {np.max(np.abs(third - scores)):.3g}); seed every random step from the parameters"
        )

    clone = predictor.clone()
    if type(clone) is not type(predictor) or clone is predictor:
        raise AssertionError(f"{where}: clone() must return a new {type(predictor).__name__}")
    if not _same_params(clone.get_params(), params):
        raise AssertionError(f"{where}: clone changed parameters: {_params_diff(clone.get_params(), params)}")
    learned = sorted(k for k in vars(clone) if k.endswith("_") and not k.startswith("_"))
    if learned:
        raise AssertionError(f"{where}: clone() of a fitted predictor carries learned attributes {learned}")
    _raises_not_fitted(clone, X_test, f"{where} (clone of a fitted predictor)")
    rebuilt = type(predictor)().set_params(**params)
    if not _same_params(rebuilt.get_params(), params):
        raise AssertionError(
            f"{where}: set_params(**get_params()) round trip: {_params_diff(rebuilt.get_params(), params)}"
        )

    try:
        copy = pickle.loads(pickle.dumps(predictor))
    except Exception as exc:
        raise AssertionError(f"{where}: a fitted predictor must pickle: {exc!r}") from exc
    if not np.array_equal(copy.predict(X_test), scores):
        raise AssertionError(f"{where}: the unpickled predictor predicts differently")
    check_inputs("fit/predict")


def _same_params(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return set(left) == set(right) and all(_same(left[k], right[k]) for k in left)


# ---- searcher conformance -------------------------------------------------------------------------------


def _proposals(searcher: Any, space: Any, n: int, score: Callable[[list[Any]], Any], who: str) -> list[str]:
    """Ask/tell ``n`` architectures in batches of 1, 2 and 3; checks each batch and returns the keys in order."""
    keys: list[str] = []
    sizes = [1, 2, 3]
    while len(keys) < n:
        want = min(sizes[len(keys) % 3], n - len(keys))
        archs = searcher.ask(want)
        if not 1 <= len(archs) <= want:
            raise AssertionError(f"{who}: ask({want}) returned {len(archs)} architectures")
        for arch in archs:
            if not space.is_valid(arch):
                raise AssertionError(f"{who}: proposed {arch!r}, which is not in the space")
            if arch.key in keys:
                raise AssertionError(f"{who}: proposed {arch.key} twice")
            keys.append(arch.key)
        searcher.tell(archs, score(archs))
    return keys


def check_searcher(
    factory: Callable[..., Any],
    space: Any = None,
    *,
    n: int = 30,
    score: Callable[[list[Any]], Any] | None = None,
) -> None:
    """Check the ask/tell Searcher contract (``predictbench.search.base``) on ``space`` (default: nb201).

    ``factory(space, seed=...)`` builds the searcher (a class or a function). Checked: asks return valid,
    never-repeated architectures; the same seed proposes the same sequence and another seed a different one;
    ``best()`` is the best told architecture; ``tell`` with mismatched lengths raises ValueError. ``score(archs)``
    gives what ``tell`` receives (default: a deterministic number per architecture; a multi-objective searcher
    needs a score matrix). Raises AssertionError naming the searcher and the violated rule.

    Examples
    --------
    >>> from predictbench.search.evolution import RegularizedEvolution
    >>> check_searcher(RegularizedEvolution)
    """
    from predictbench.rng import spawn
    from predictbench.spaces import get_space

    space = get_space("nb201") if space is None else space
    who = str(getattr(factory, "__name__", factory))
    if score is None:

        def score(archs: list[Any]) -> np.ndarray:
            return np.array([float(spawn(0, "check_searcher", a.key).random()) for a in archs])

    runs = []
    for seed in (0, 0, 1):
        searcher = factory(space, seed=seed)
        runs.append(_proposals(searcher, space, n, score, who))
    if runs[0] != runs[1]:
        raise AssertionError(f"{who}: two searchers with seed 0 proposed different architectures")
    if runs[0] == runs[2]:
        raise AssertionError(f"{who}: seeds 0 and 1 proposed the same {n} architectures")
    told = dict(getattr(searcher, "scores", {}))
    _, best_score = searcher.best()
    if told and best_score != max(told.values()):
        raise AssertionError(f"{who}: best() returned score {best_score}, the best told is {max(told.values())}")
    archs = searcher.ask(2)
    try:
        searcher.tell(archs, np.asarray(score(archs))[:1])
    except ValueError:
        pass
    else:
        raise AssertionError(f"{who}: tell with {len(archs)} architectures and 1 score did not raise ValueError")
