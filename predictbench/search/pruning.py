"""GBDT-based search-space pruning (GBDT-NAS-3S, Luo et al.) and a constrained space every searcher accepts.

A space whose ``onehot`` encoding is one one-hot group per decision (NB201: 6 edges x 5 operations; NATS size
space: 5 stages x 8 channel counts) is seen here as :class:`Decisions`: position ``p`` takes one of
``choices[p]``. :func:`prune_space` fits a LightGBM model on the scored architectures' one-hot features and
computes exact TreeSHAP values (``shap.TreeExplainer`` when the ``shap`` package is installed, else LightGBM's
own ``pred_contrib=True``, the same numbers). For every still-allowed choice (position p, choice c) it averages
the SHAP value of its column over the samples that contain it:

- **first order**: a choice whose mean SHAP is below ``-threshold`` is pruned (it lowers the predicted score
  wherever it appears), the ``max_prune`` most negative first (None: all of them); a position always keeps at
  least one choice, choices seen in fewer than ``min_support`` samples are kept for lack of evidence, and with
  ``protect_best`` the choices of the best architecture scored so far are never pruned. Pruning every negative
  choice at once (``max_prune=None``, the literal rule) removes ~90% of NB201 after 30 samples and usually the
  optimum with it (measured: it survives in 2 of 10 runs), hence the cap;
- **second order** (optional, needs ``shap``): a pair of choices on two positions whose mean SHAP interaction
  value (both off-diagonal halves) over the samples containing both is below ``-pair_threshold`` becomes a
  forbidden pair (at most ``max_pairs``, most negative first).

The result is a :class:`ConstrainedSpace`: the base space minus pruned choices and forbidden pairs, implementing
the whole SearchSpace protocol (and the encoding methods), so every searcher runs on it unchanged.
:class:`PrunedSearch` alternates an inner searcher and pruning; :func:`pruning_trace` reports, per round, the
fraction of the space pruned and whether a given architecture (e.g. the optimum) survives.

Examples
--------
>>> from predictbench.spaces import get_space
>>> space = get_space("nb201")
>>> small = ConstrainedSpace(space, {"op_1_0": ["nor_conv_3x3", "skip_connect"]})
>>> len(small), len(space)
(6250, 15625)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from predictbench.benchmarks.tabular import ProxyTable
from predictbench.search.base import Searcher
from predictbench.spaces import SearchSpace
from predictbench.spaces.base import CellGraph
from predictbench.types import Arch, OutOfSpaceError
from predictbench.validation import check_int

log = logging.getLogger(__name__)

Choice = tuple[int, int]
"""(position index, choice index)."""
Pair = tuple[Choice, Choice]

#: LightGBM settings of the pruning model (GBDT-NAS's, with leaves adapted to small data).
PRUNING_LGBM: dict[str, Any] = {
    "n_estimators": 100,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 5,
    "min_child_samples": None,
}


# --------------------------------------------------------------------------------------------------
# decisions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Decisions:
    """An enumerable space as independent decisions: position ``p`` takes a choice in ``choices[p]``.

    ``codes[i, p]`` is the choice index of enumerated architecture ``i`` (``archs[i]``) at position ``p``.
    Built from the space's ``onehot`` encoding (:func:`decisions_of`).
    """

    positions: tuple[str, ...]
    choices: tuple[tuple[str, ...], ...]
    archs: tuple[Arch, ...]
    codes: np.ndarray
    _index: dict[str, int] = field(repr=False)
    _radix: np.ndarray = field(repr=False)
    _sorted: np.ndarray = field(repr=False)
    _order: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.archs)

    @property
    def n_positions(self) -> int:
        return len(self.positions)

    def column(self, position: int, choice: int) -> int:
        """Column of (position, choice) in the decision one-hot layout."""
        return int(sum(len(c) for c in self.choices[:position]) + choice)

    def rows(self, archs: Iterable[Arch | str]) -> np.ndarray:
        """Enumeration rows of architectures (OutOfSpaceError for keys not in the space)."""
        out = []
        for arch in archs:
            key = arch.key if isinstance(arch, Arch) else str(arch)
            row = self._index.get(key)
            if row is None:
                raise OutOfSpaceError(f"architecture {key!r} is not in the enumerated space")
            out.append(row)
        return np.array(out, dtype=np.intp)

    def encode(self, archs: Iterable[Arch | str]) -> np.ndarray:
        """(n, P) choice indices."""
        return self.codes[self.rows(archs)]

    def onehot(self, codes: np.ndarray) -> np.ndarray:
        """(n, sum of choices) float32 one-hot of (n, P) choice indices."""
        offsets = np.cumsum([0, *(len(c) for c in self.choices[:-1])])
        out = np.zeros((len(codes), sum(len(c) for c in self.choices)), dtype=np.float32)
        if len(codes):
            out[np.arange(len(codes))[:, None], codes + offsets] = 1.0
        return out

    def find(self, codes: np.ndarray) -> np.ndarray:
        """Enumeration rows of (n, P) choice codes; -1 where no architecture has those choices."""
        codes = np.asarray(codes, dtype=np.int64).reshape(-1, self.n_positions)
        values = codes @ self._radix
        at = np.searchsorted(self._sorted, values)
        at = np.minimum(at, len(self._sorted) - 1)
        hit = self._sorted[at] == values
        return np.where(hit, self._order[at], -1)

    def position_index(self, position: int | str) -> int:
        if isinstance(position, str):
            if position not in self.positions:
                raise OutOfSpaceError(f"unknown position {position!r}; positions: {', '.join(self.positions)}")
            return self.positions.index(position)
        if isinstance(position, bool) or not 0 <= int(position) < self.n_positions:
            raise OutOfSpaceError(f"position {position!r} out of range 0..{self.n_positions - 1}")
        return int(position)

    def choice_index(self, position: int, choice: int | str) -> int:
        labels = self.choices[position]
        if isinstance(choice, str):
            if choice not in labels:
                raise OutOfSpaceError(
                    f"unknown choice {choice!r} at position {self.positions[position]!r}; choices: {', '.join(labels)}"
                )
            return labels.index(choice)
        if isinstance(choice, bool) or not 0 <= int(choice) < len(labels):
            raise OutOfSpaceError(f"choice {choice!r} out of range 0..{len(labels) - 1} at {self.positions[position]}")
        return int(choice)

    def label(self, choice: Choice) -> str:
        return f"{self.positions[choice[0]]}={self.choices[choice[0]][choice[1]]}"


@functools.cache
def _decisions_cached(space: Hashable) -> Decisions:
    return _build_decisions(space)


def _build_decisions(space: Any) -> Decisions:
    from predictbench.encodings import encode, feature_names

    try:
        names = feature_names(space, "onehot")
    except (TypeError, KeyError) as err:
        raise TypeError(f"space {getattr(space, 'name', space)!r} offers no 'onehot' encoding: {err}") from err
    positions: list[str] = []
    choices: list[list[str]] = []
    for name in names:
        position, sep, choice = name.rpartition("=")
        if not sep:
            raise TypeError(f"onehot feature {name!r} of space {space.name!r} is not 'position=choice'")
        if not positions or positions[-1] != position:
            if position in positions:
                raise TypeError(f"onehot features of space {space.name!r} do not group by position ({position!r})")
            positions.append(position)
            choices.append([])
        choices[-1].append(choice)
    archs = tuple(space.enumerate())
    onehot = encode(space, archs, "onehot")
    codes = np.empty((len(archs), len(positions)), dtype=np.int64)
    start = 0
    for p, labels in enumerate(choices):
        block = onehot[:, start : start + len(labels)]
        if not np.all(block.sum(axis=1) == 1):
            raise TypeError(f"onehot encoding of space {space.name!r} is not one choice per position at {positions[p]}")
        codes[:, p] = block.argmax(axis=1)
        start += len(labels)
    sizes = np.array([len(c) for c in choices], dtype=np.int64)
    radix = np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)
    values = codes @ radix
    order = np.argsort(values, kind="stable")
    codes.setflags(write=False)
    return Decisions(
        positions=tuple(positions),
        choices=tuple(tuple(c) for c in choices),
        archs=archs,
        codes=codes,
        _index={a.key: i for i, a in enumerate(archs)},
        _radix=radix,
        _sorted=values[order],
        _order=order,
    )


def decisions_of(space: SearchSpace) -> Decisions:
    """The decision view of an enumerable space (of its base space for a :class:`ConstrainedSpace`).

    Raises ``TypeError`` when the space's ``onehot`` encoding is not one one-hot group per decision.
    """
    if isinstance(space, ConstrainedSpace):
        return space.decisions
    if isinstance(space, Hashable):
        return _decisions_cached(space)
    return _build_decisions(space)


def valid_rows(space: SearchSpace) -> np.ndarray:
    """Bool mask over ``decisions_of(space).archs``: the architectures ``space`` contains."""
    if isinstance(space, ConstrainedSpace):
        return space.mask
    return np.ones(len(decisions_of(space)), dtype=bool)


# --------------------------------------------------------------------------------------------------
# constrained space
# --------------------------------------------------------------------------------------------------


AllowedSpec = Mapping[int | str, Iterable[int | str]] | Sequence[Iterable[int | str]] | None


class ConstrainedSpace:
    """A space minus some choices per position and some forbidden pairs of choices.

    Implements the SearchSpace protocol (``sample``, ``mutate``, ``neighbors``, ``enumerate``, ``is_valid``,
    ``validate``, ``to_graph``, ``canonical``, ``__len__``, ``name``) and the encoding methods, so every
    searcher and predictor accepts it unchanged. ``name`` is the base space's: its architectures are the base
    space's values and join with the base benchmark. Constraining a ConstrainedSpace composes (allowed choices
    intersect, forbidden pairs add up). Other attributes (e.g. NB201's ``ops_array``) are forwarded to the
    base space: they are lookups that ignore the constraint.

    Parameters
    ----------
    space : the base space (enumerable, with a per-decision ``onehot`` encoding).
    allowed : per position (index or label), the allowed choices (indices or labels); positions not named
        keep all their choices. A sequence gives every position in order.
    forbidden : pairs ``((position, choice), (position, choice))`` that may not appear together.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> space = ConstrainedSpace(get_space("nb201"), {0: ["nor_conv_3x3"]}, forbidden=[((1, 0), (2, 0))])
    >>> len(space), space.is_valid(space.sample(np.random.default_rng(0), 1)[0])
    (3000, True)
    """

    def __init__(self, space: SearchSpace, allowed: AllowedSpec = None, forbidden: Iterable[Any] = ()) -> None:
        base_allowed: list[frozenset[int]] | None = None
        base_forbidden: set[Pair] = set()
        if isinstance(space, ConstrainedSpace):
            base_allowed = [frozenset(a) for a in space.allowed]
            base_forbidden = set(space.forbidden)
            space = space.base
        self.base: SearchSpace = space
        self.name: str = space.name
        self.decisions = decisions_of(space)
        d = self.decisions
        sets = [frozenset(range(len(c))) for c in d.choices] if base_allowed is None else base_allowed
        if allowed is not None:
            items = allowed.items() if isinstance(allowed, Mapping) else enumerate(allowed)
            for position, wanted in items:
                p = d.position_index(position)
                sets[p] = sets[p] & frozenset(d.choice_index(p, c) for c in wanted)
        for p, choice_set in enumerate(sets):
            if not choice_set:
                raise ValueError(f"position {d.positions[p]!r} would have no choice left (never prune to zero options)")
        pairs = set(base_forbidden)
        for pair in forbidden:
            (p1, c1), (p2, c2) = pair
            a = (d.position_index(p1), d.choice_index(d.position_index(p1), c1))
            b = (d.position_index(p2), d.choice_index(d.position_index(p2), c2))
            if a[0] == b[0]:
                raise ValueError(f"a forbidden pair needs two positions, got {d.label(a)} and {d.label(b)}")
            pairs.add((a, b) if a < b else (b, a))
        self.allowed: tuple[tuple[int, ...], ...] = tuple(tuple(sorted(s)) for s in sets)
        self.forbidden: frozenset[Pair] = frozenset(pairs)
        mask = np.ones(len(d), dtype=bool)
        for p, kept in enumerate(self.allowed):
            mask &= np.isin(d.codes[:, p], np.asarray(kept, dtype=np.int64))
        for (p1, c1), (p2, c2) in self.forbidden:
            mask &= ~((d.codes[:, p1] == c1) & (d.codes[:, p2] == c2))
        if not mask.any():
            raise ValueError("the constraints leave no architecture in the space")
        mask.setflags(write=False)
        self.mask: np.ndarray = mask
        self._rows = np.flatnonzero(mask)

    # ---- description ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"ConstrainedSpace({self.name!r}, {len(self)} of {len(self.decisions)} archs, "
            f"{len(self.pruned_choices())} choices pruned, {len(self.forbidden)} forbidden pairs)"
        )

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def fraction_pruned(self) -> float:
        """Share of the base space's architectures excluded."""
        return 1.0 - len(self) / len(self.decisions)

    def pruned_choices(self) -> list[str]:
        """Labels (``position=choice``) of the choices no longer allowed."""
        d = self.decisions
        return [
            d.label((p, c))
            for p, labels in enumerate(d.choices)
            for c in range(len(labels))
            if c not in self.allowed[p]
        ]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or "base" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["base"], name)

    def __getstate__(self) -> dict[str, Any]:
        return {"base": self.base, "allowed": self.allowed, "forbidden": sorted(self.forbidden)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        rebuilt = ConstrainedSpace(state["base"], list(state["allowed"]), state["forbidden"])
        self.__dict__.update(rebuilt.__dict__)

    # ---- protocol ------------------------------------------------------------------------------

    def _row(self, arch: Arch | str) -> int | None:
        key = arch.key if isinstance(arch, Arch) else str(arch)
        return self.decisions._index.get(key)

    def is_valid(self, arch: object) -> bool:
        if not isinstance(arch, (Arch, str)):
            return False
        if isinstance(arch, Arch) and arch.space != self.name:
            return False
        row = self._row(arch)
        return row is not None and bool(self.mask[row])

    def validate(self, arch: Arch | str) -> Arch:
        valid = self.base.validate(arch)
        row = self._row(valid)
        if row is None:
            raise OutOfSpaceError(f"architecture {valid.key!r} is not in the enumerated {self.name} space")
        if not self.mask[row]:
            d = self.decisions
            codes = d.codes[row]
            pruned = [d.label((p, int(c))) for p, c in enumerate(codes) if int(c) not in self.allowed[p]]
            pairs = [
                f"{d.label(a)} with {d.label(b)}"
                for a, b in self.forbidden
                if codes[a[0]] == a[1] and codes[b[0]] == b[1]
            ]
            raise OutOfSpaceError(
                f"architecture {valid.key!r} is outside the constrained {self.name} space: "
                + "; ".join([*(f"pruned choice {x}" for x in pruned), *(f"forbidden pair {x}" for x in pairs)])
            )
        return valid

    def sample(self, rng: np.random.Generator, n: int) -> list[Arch]:
        """``n`` architectures drawn i.i.d. uniformly from the constrained space."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative int, got {n!r}")
        picks = self._rows[rng.integers(0, len(self._rows), size=int(n))]
        archs = self.decisions.archs
        return [archs[int(i)] for i in picks]

    def neighbors(self, arch: Arch) -> list[Arch]:
        """The base space's neighbours that satisfy the constraints."""
        self.validate(arch)
        return [a for a in self.base.neighbors(arch) if self.is_valid(a)]

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """A base-space mutation that satisfies the constraints (uniform over valid neighbours as a fallback).

        Returns ``arch`` itself only when it has no valid neighbour.
        """
        self.validate(arch)
        for _ in range(32):
            child = self.base.mutate(arch, rng)
            if self.is_valid(child) and child.key != arch.key:
                return child
        neighbours = self.neighbors(arch)
        if not neighbours:
            return arch
        return neighbours[int(rng.integers(len(neighbours)))]

    def enumerate(self) -> list[Arch]:
        """Every architecture of the constrained space, in the base space's enumeration order."""
        archs = self.decisions.archs
        return [archs[int(i)] for i in self._rows]

    def to_graph(self, arch: Arch) -> CellGraph:
        return self.base.to_graph(self.validate(arch))

    def canonical(self, arch: Arch) -> Arch:
        """The base space's canonical representative when it is allowed here, else ``arch`` itself."""
        rep = self.base.canonical(self.validate(arch))
        return rep if self.is_valid(rep) else arch

    # ---- encodings (for predictbench.encodings) ------------------------------------------------

    def encoding_names(self) -> tuple[str, ...]:
        return tuple(self.base.encoding_names())  # type: ignore[attr-defined]

    def feature_names(self, name: str) -> list[str]:
        return list(self.base.feature_names(name))  # type: ignore[attr-defined]

    def encode(self, name: str, archs_or_keys: Any) -> np.ndarray:
        return np.asarray(self.base.encode(name, archs_or_keys))  # type: ignore[attr-defined]

    def graph_arrays(self, archs_or_keys: Any) -> tuple[np.ndarray, np.ndarray]:
        ops, adjacency = self.base.graph_arrays(archs_or_keys)  # type: ignore[attr-defined]
        return ops, adjacency


# --------------------------------------------------------------------------------------------------
# SHAP pruning
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneResult:
    """What one pruning step decided."""

    space: ConstrainedSpace
    pruned: tuple[tuple[str, float], ...]
    """(``position=choice``, mean SHAP) of each newly pruned choice."""
    forbidden: tuple[tuple[str, str, float], ...]
    """(choice, choice, mean interaction) of each newly forbidden pair."""
    mean_shap: dict[str, float]
    """Mean SHAP over supporting samples of every allowed choice (``position=choice``)."""
    n_samples: int
    backend: str


def shap_values(booster: Any, X: np.ndarray, *, backend: str = "auto") -> tuple[np.ndarray, str]:
    """Exact TreeSHAP values (n, d) of a LightGBM booster: ``shap`` when installed (or asked), else LightGBM.

    ``backend``: ``"auto"``, ``"shap"`` or ``"lightgbm"`` (``pred_contrib=True``; same values).
    """
    if backend not in ("auto", "shap", "lightgbm"):
        raise ValueError(f"backend must be 'auto', 'shap' or 'lightgbm', got {backend!r}")
    if backend in ("auto", "shap"):
        try:
            import shap
        except ImportError:
            if backend == "shap":
                raise
        else:
            values = shap.TreeExplainer(booster).shap_values(X)
            return np.asarray(values, dtype=float).reshape(len(X), X.shape[1]), "shap"
    contrib = np.asarray(booster.predict(X, pred_contrib=True), dtype=float)
    return contrib[:, : X.shape[1]], "lightgbm"


def shap_interaction_values(booster: Any, X: np.ndarray) -> np.ndarray:
    """Exact TreeSHAP interaction values (n, d, d) of a LightGBM booster (needs the ``shap`` package)."""
    try:
        import shap
    except ImportError as err:
        raise ImportError(f"second-order pruning needs SHAP interaction values: pip install shap ({err})") from err
    values = shap.TreeExplainer(booster).shap_interaction_values(X)
    return np.asarray(values, dtype=float).reshape(len(X), X.shape[1], X.shape[1])


def prune_space(
    space: SearchSpace,
    archs: Sequence[Arch],
    scores: Sequence[float] | np.ndarray,
    *,
    threshold: float = 0.0,
    min_support: int = 3,
    max_prune: int | None = 3,
    protect_best: bool = True,
    second_order: bool = False,
    pair_threshold: float = 0.0,
    max_pairs: int = 5,
    predictor_params: Mapping[str, Any] | None = None,
    seed: int = 0,
    backend: str = "auto",
) -> PruneResult:
    """One GBDT-NAS-3S pruning step on ``space`` from scored architectures (see the module docstring).

    ``scores`` are higher-is-better; SHAP values are in units of the standardised score, so ``threshold`` and
    ``pair_threshold`` are in standard deviations of the scores.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> space = get_space("nb201"); rng = np.random.default_rng(0)
    >>> archs = space.sample(rng, 60); scores = -space.ops_array(archs).sum(axis=1)  # prefers low op ids
    >>> result = prune_space(space, archs, scores)
    >>> 0 < result.space.fraction_pruned < 1
    True
    """
    from predictbench.predictors.gbdt import LGBMPredictor

    if len(archs) != len(scores):
        raise ValueError(f"prune_space got {len(archs)} architectures but {len(scores)} scores")
    if len(archs) < 2:
        raise ValueError(f"prune_space needs at least 2 scored architectures, got {len(archs)}")
    current = space if isinstance(space, ConstrainedSpace) else ConstrainedSpace(space)
    d = current.decisions
    y = np.asarray(scores, dtype=float)
    codes = d.encode(archs)
    X = d.onehot(codes)
    model = LGBMPredictor(**{**PRUNING_LGBM, **dict(predictor_params or {}), "seed": seed}).fit(X, y)
    values, used = shap_values(model.booster_, X, backend=backend)
    protected: set[Choice] = set()
    if protect_best:
        best = codes[int(np.argmax(y))]
        protected = {(p, int(c)) for p, c in enumerate(best)}

    allowed = [set(a) for a in current.allowed]
    mean_shap: dict[str, float] = {}
    negative: list[tuple[float, Choice]] = []
    for p, choices in enumerate(current.allowed):
        for c in choices:
            rows = codes[:, p] == c
            if rows.sum() >= max(min_support, 1):
                mean = float(values[rows, d.column(p, c)].mean())
                mean_shap[d.label((p, c))] = mean
                if mean < -threshold and (p, c) not in protected:
                    negative.append((mean, (p, c)))
    pruned: list[tuple[str, float]] = []
    for mean, (p, c) in sorted(negative):
        if max_prune is not None and len(pruned) >= max_prune:
            break
        if len(allowed[p]) > 1:  # never prune a position to nothing
            allowed[p].discard(c)
            pruned.append((d.label((p, c)), mean))

    new_pairs: list[tuple[Pair, float]] = []
    if second_order:
        inter = shap_interaction_values(model.booster_, X)
        candidates: list[tuple[Pair, float]] = []
        for p1 in range(d.n_positions):
            for p2 in range(p1 + 1, d.n_positions):
                for c1 in allowed[p1]:
                    for c2 in allowed[p2]:
                        a, b = (p1, c1), (p2, c2)
                        if (a, b) in current.forbidden or (a in protected and b in protected):
                            continue
                        rows = (codes[:, p1] == c1) & (codes[:, p2] == c2)
                        if rows.sum() < max(min_support, 1):
                            continue
                        i, j = d.column(p1, c1), d.column(p2, c2)
                        value = float((inter[rows, i, j] + inter[rows, j, i]).mean())
                        if value < -pair_threshold:
                            candidates.append(((a, b), value))
        candidates.sort(key=lambda item: item[1])
        new_pairs = candidates[:max_pairs]

    forbidden = set(current.forbidden)
    kept_pairs: list[tuple[Pair, float]] = []
    result_space = ConstrainedSpace(current.base, [sorted(a) for a in allowed], forbidden)
    for pair, value in new_pairs:
        try:
            trial = ConstrainedSpace(current.base, [sorted(a) for a in allowed], forbidden | {pair})
        except ValueError:
            continue  # this pair would empty the space
        forbidden.add(pair)
        kept_pairs.append((pair, value))
        result_space = trial
    log.debug(
        "pruned %d choices, %d pairs: %d -> %d architectures",
        len(pruned),
        len(kept_pairs),
        len(current),
        len(result_space),
    )
    return PruneResult(
        space=result_space,
        pruned=tuple(pruned),
        forbidden=tuple((d.label(a), d.label(b), v) for (a, b), v in kept_pairs),
        mean_shap=mean_shap,
        n_samples=len(y),
        backend=used,
    )


# --------------------------------------------------------------------------------------------------
# alternate pruning and search
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneRound:
    """One pruning round of a :class:`PrunedSearch`."""

    round: int
    queries: int
    result: PruneResult

    @property
    def space(self) -> ConstrainedSpace:
        return self.result.space


class PrunedSearch(Searcher):
    """GBDT-NAS-3S: alternate an inner searcher and SHAP pruning of the space it searches.

    The inner searcher runs on the full space for ``queries_per_round`` queries; then the space is pruned
    (:func:`prune_space` on everything scored so far) and a new inner searcher starts on the constrained space,
    warm-started with the scored architectures that lie in it (told to it in query order, and never proposed
    again). After ``rounds`` prunings the last inner searcher runs until the budget ends.

    Parameters
    ----------
    space : the search space.
    seed : seeds the inner searchers and the pruning models.
    inner : registered name of the inner searcher.
    rounds : pruning rounds.
    queries_per_round : scored architectures between prunings.
    inner_options : options of the inner searcher.
    threshold, min_support, max_prune, protect_best, second_order, pair_threshold, max_pairs : see
        :func:`prune_space`.

    Examples
    --------
    >>> from predictbench.spaces import get_space
    >>> search = PrunedSearch(get_space("nb201"), seed=0, rounds=1, queries_per_round=20)
    >>> len(search.ask(3))
    3
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        inner: str = "evolution",
        rounds: int = 2,
        queries_per_round: int = 30,
        inner_options: Mapping[str, Any] | None = None,
        threshold: float = 0.0,
        min_support: int = 3,
        max_prune: int | None = 3,
        protect_best: bool = True,
        second_order: bool = False,
        pair_threshold: float = 0.0,
        max_pairs: int = 5,
        inputs: ProxyTable | None = None,
    ) -> None:
        super().__init__(space, seed=seed)
        for name, value, low in (("rounds", rounds, 0), ("queries_per_round", queries_per_round, 2)):
            check_int(name, value, low)
        self.inner_name = inner
        self.rounds = rounds
        self.queries_per_round = queries_per_round
        self.inner_options = dict(inner_options or {})
        if inputs is not None:
            self.inner_options.setdefault("inputs", inputs)
        self.prune_options: dict[str, Any] = {
            "threshold": threshold,
            "min_support": min_support,
            "max_prune": max_prune,
            "protect_best": protect_best,
            "second_order": second_order,
            "pair_threshold": pair_threshold,
            "max_pairs": max_pairs,
        }
        self.current_space: SearchSpace = space
        self.history: list[PruneRound] = []
        self._order: list[Arch] = []
        self.inner = self._make_inner(space)

    def _make_inner(self, space: SearchSpace) -> Searcher:
        from predictbench.search import make_searcher

        return make_searcher(self.inner_name, space, seed=int(self.rng.integers(2**31)), **self.inner_options)

    def _prune(self) -> None:
        archs = [self.archs[a.key] for a in self._order]
        scores = np.array([self.scores[a.key] for a in archs])
        result = prune_space(
            self.current_space, archs, scores, seed=int(self.rng.integers(2**31)), **self.prune_options
        )
        self.history.append(PruneRound(len(self.history) + 1, len(archs), result))
        log.info(
            "pruning round %d after %d queries: %.1f%% of the space pruned (%s)",
            len(self.history),
            len(archs),
            100 * result.space.fraction_pruned,
            ", ".join(label for label, _ in result.pruned) or "nothing",
        )
        self.current_space = result.space
        self.inner = self._make_inner(result.space)
        inside = [a for a in archs if result.space.is_valid(a)]
        for arch in archs:
            self.inner._claim(arch)
        if inside:
            self.inner.tell(inside, [self.scores[a.key] for a in inside])

    def ask(self, n: int = 1) -> list[Arch]:
        if len(self.history) < self.rounds and len(self.scores) >= (len(self.history) + 1) * self.queries_per_round:
            self._prune()
        out: list[Arch] = []
        for _ in range(8):
            for arch in self.inner.ask(n - len(out)):
                if self._claim(arch):
                    out.append(arch)
            if len(out) >= n:
                break
        if len(out) < n:
            out.extend(self._random_unseen(n - len(out)))
        return out

    def _observe(self, arch: Arch, score: float) -> None:
        self._order.append(arch)
        if self.current_space is self.space or self.current_space.is_valid(arch):
            self.inner.tell([arch], [score])


def pruning_trace(searcher: PrunedSearch, optimum: Arch | str | None = None) -> pd.DataFrame:
    """Per pruning round: queries before it, space size, fraction pruned, and whether ``optimum`` survives.

    Examples
    --------
    >>> frame = pruning_trace(searcher, optimum=bench.best("valid_acc", fidelity=12)[0])  # doctest: +SKIP
    """
    rows = []
    for entry in searcher.history:
        space = entry.space
        row: dict[str, Any] = {
            "round": entry.round,
            "queries": entry.queries,
            "size": len(space),
            "fraction_pruned": space.fraction_pruned,
            "pruned": ", ".join(label for label, _ in entry.result.pruned),
            "forbidden": ", ".join(f"{a}&{b}" for a, b, _ in entry.result.forbidden),
        }
        if optimum is not None:
            row["optimum_survives"] = space.is_valid(optimum)
        rows.append(row)
    return pd.DataFrame(rows)
