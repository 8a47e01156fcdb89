"""Name -> "module:attr" registries, imported lazily so heavy dependencies load only when used."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any

from predictbench.types import UnknownNameError


class Registry:
    """A lazy registry of components.

    Examples
    --------
    >>> r = Registry("predictor")
    >>> r.register("lgb", "predictbench.predictors.gbdt:LGBMPredictor")
    >>> "lgb" in r
    True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, str] = {}

    def register(self, name: str, target: str) -> None:
        if name in self._targets:
            raise ValueError(f"{self.kind} {name!r} is already registered (to {self._targets[name]})")
        if ":" not in target:
            raise ValueError(f"{self.kind} {name!r}: target must look like 'module:attr', got {target!r}")
        self._targets[name] = target

    def names(self) -> list[str]:
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def target(self, name: str) -> str:
        if name not in self._targets:
            raise unknown_name(self.kind, name, self.names())
        return self._targets[name]

    def get(self, name: str) -> Any:
        module_name, attr = self.target(name).split(":", 1)
        module = importlib.import_module(module_name)
        return getattr(module, attr)


def unknown_name(kind: str, name: str, known: list[str]) -> UnknownNameError:
    """An UnknownNameError naming the closest known names."""
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    listing = ", ".join(known) if known else "(none)"
    return UnknownNameError(f"unknown {kind} {name!r}.{hint} Known: {listing}")
