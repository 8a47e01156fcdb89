"""Argument checks shared by constructors: one clear ValueError naming the argument and what was expected."""

from __future__ import annotations

import ast
import difflib
import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int) -> int:
    """``value`` as an int; ValueError unless it is an int (not a bool) >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


# Upper limits of options (by name, for every predictor and searcher) whose huge values exhaust memory or run for
# days before failing; a class may declare its own ``option_limits`` mapping to override or extend these.
OPTION_LIMITS: dict[str, int] = {
    "n_estimators": 100_000,
    "num_leaves": 131_072,
    "max_depth": 1_000,
    "epochs": 100_000,
    "min_steps": 10_000_000,
    "hidden": 65_536,
    "mlp_hidden": 65_536,
    "n_layers": 1_000,
    "n_models": 1_000,
    "ensemble_size": 1_000,
    "batch_size": 1_000_000,
    "n_reference": 1_000_000,
    "n_trials": 100_000,
    "n_bo_trials": 100_000,
    "n_bo_queries": 100_000,
    "n_startup_trials": 100_000,
    "cv": 1_000,
    "n_jobs": 1_024,
    "population_size": 1_000_000,
    "sample_size": 1_000_000,
    "tournament_size": 1_000_000,
    "n_initial": 1_000_000,
    "n_candidates": 10_000_000,
    "top_k": 1_000_000,
    "local_k": 1_000_000,
    "global_k": 1_000_000,
    "max_edits": 1_000,
    "rounds": 100_000,
    "queries_per_round": 1_000_000,
    "max_pairs": 1_000_000,
    "n_prior": 1_000_000,
}

_SIMPLE_TYPES: dict[str, tuple[str, tuple[type, ...]]] = {
    "int": ("an int", (int, np.integer)),
    "float": ("a number", (int, float, np.integer, np.floating)),
    "bool": ("True or False", (bool, np.bool_)),
    "str": ("a string", (str,)),
    "None": ("None", (type(None),)),
}


def _is(type_name: str, value: Any) -> bool:
    """Whether ``value`` is of the simple type ``type_name`` (a bool is not a number here)."""
    number = type_name in ("int", "float")
    return isinstance(value, _SIMPLE_TYPES[type_name][1]) and not (number and isinstance(value, (bool, np.bool_)))


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside brackets: ``"tuple[int, ...] | None"`` -> ``["tuple[int, ...] ", " None"]``."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _accepts(annotation: str, value: Any) -> tuple[bool, str] | None:
    """Whether ``value`` matches one type of a (string) annotation, and the annotation in words.

    None when the annotation names a type this check does not know (an alias, a class, ``Any``): then the
    component checks the value itself.
    """
    words, ok = [], False
    for part in (p.strip() for p in _split_top(annotation, "|")):
        head, _, inner = part.partition("[")
        inner = inner.removesuffix("]")
        if part in _SIMPLE_TYPES:
            word, ok = _SIMPLE_TYPES[part][0], ok or _is(part, value)
        elif head in ("tuple", "list", "Sequence") and _split_top(inner, ",")[0].strip() in _SIMPLE_TYPES:
            element = _split_top(inner, ",")[0].strip()
            word = f"a tuple of {element} values"
            ok = ok or (isinstance(value, (tuple, list)) and all(_is(element, v) for v in value))
        elif head in ("dict", "Mapping"):
            word, ok = "a table (dict)", ok or isinstance(value, dict)
        elif head == "Literal":
            choices = [ast.literal_eval(c.strip()) for c in _split_top(inner, ",")]
            word, ok = f"one of {', '.join(repr(c) for c in choices)}", ok or value in choices
        else:
            return None
        words.append(word)
    return ok, " or ".join(words)


def keyword_options(target: Any) -> dict[str, inspect.Parameter] | None:
    """The keyword options of a component class or factory, by name; None when it takes any keyword.

    A class whose ``__init__`` passes ``**options`` on to the next class in its method resolution order (e.g.
    ParEGO to the guided search) accepts the options of those classes too. ``space`` and ``seed`` are included.
    """
    named = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    chain = (
        [k.__dict__["__init__"] for k in target.__mro__ if "__init__" in k.__dict__]
        if inspect.isclass(target)
        else [target]
    )
    found: dict[str, inspect.Parameter] = {}
    for function in chain:
        parameters = inspect.signature(function).parameters.values()
        found.update({p.name: p for p in parameters if p.kind in named and p.name not in (*found, "self")})
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            return found
    return None


def check_option(
    who: str, name: str, value: Any, parameter: inspect.Parameter | None, limits: Mapping[str, int] = OPTION_LIMITS
) -> None:
    """Check one keyword option of the component ``who`` against its ``parameter``'s annotation and ``limits``.

    Raises a ValueError naming the component, the option, what was expected and the value: a value of the wrong
    type (``n_estimators='abc'``), or a count above its limit (``n_estimators=10**11``, which would exhaust
    memory). Options whose annotation this check cannot read are left to the component.

    Examples
    --------
    >>> check_option("LGBMPredictor", "n_estimators", 200, None)
    >>> check_option("LGBMPredictor", "n_estimators", "abc", None)
    Traceback (most recent call last):
    ...
    ValueError: LGBMPredictor: option 'n_estimators' must be an int <= 100000, got 'abc' (str)
    """
    limit = limits.get(name)
    below = f" <= {limit}" if limit is not None else ""
    shown = f"{value!r} ({type(value).__name__})"
    annotation = parameter.annotation if parameter is not None else None
    verdict = _accepts(annotation, value) if isinstance(annotation, str) else None
    if verdict is not None and not verdict[0]:
        raise ValueError(f"{who}: option {name!r} must be {verdict[1]}{below}, got {shown}")
    if limit is None or value is None:
        return
    counts = value if isinstance(value, (tuple, list)) and verdict is not None else [value]
    if not all(_is("int", count) for count in counts):
        raise ValueError(f"{who}: option {name!r} must be an int{below}, got {shown}")
    if any(count > limit for count in counts):
        raise ValueError(f"{who}: option {name!r} must be{below}, got {value!r}")


def check_options(
    target: Any, options: Mapping[str, Any], *, who: str | None = None, fixed: tuple[str, ...] = ("seed",)
) -> None:
    """Check the option names and values given to a component class or factory, before it is built or run.

    ``who`` names the component in messages (default: its ``__name__``); ``fixed`` are set by the studies, never
    by the user. ValueError on an unknown option (with the closest names), a value of the wrong type or a count
    above :data:`OPTION_LIMITS` (or the class's own ``option_limits``).
    """
    who = who or str(getattr(target, "__name__", target))
    accepted = keyword_options(target)
    limits = {**OPTION_LIMITS, **getattr(target, "option_limits", {})}
    for name, value in options.items():
        if name in fixed:
            raise ValueError(f"{name!r} is not an option here: the study sets it for every run")
        if accepted is not None and (name not in accepted or name == "space"):
            names = sorted(n for n in accepted if n not in (*fixed, "space"))
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(f"{who} has no option {name!r}.{hint} Options: {', '.join(names) or '(none)'}")
        check_option(who, name, value, None if accepted is None else accepted[name], limits)


@contextmanager
def naming(owner: object) -> Iterator[None]:
    """Prefix the ValueErrors of parameter checks with the class of ``owner``: ``GCNPredictor: hidden must ...``."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"{type(owner).__name__}: {exc}") from None
