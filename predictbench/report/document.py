"""A report as data: headings, text, tables, figures and facts, rendered to Markdown and to HTML.

Both renderers read the same blocks and format table cells with :func:`table_cells`, so ``README.md`` and
``index.html`` always show the same numbers. Text is plain (no markup): each renderer escapes it for its format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    """A DataFrame shown as a table; its index (when named or non-default) becomes the first column.

    ``floatfmt`` formats float cells; ``formats`` overrides it per column (e.g. ``{"p-value": ".3g"}``).
    """

    frame: pd.DataFrame
    floatfmt: str = ".3f"
    formats: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """A PNG written next to the report (``file`` is relative to the report folder)."""

    file: str
    alt: str


@dataclass(frozen=True)
class Facts:
    """Labelled values (provenance); values in ``code`` are identifiers, hashes or commands shown verbatim."""

    items: tuple[tuple[str, str], ...]
    code: frozenset[str] = frozenset()


Block = Heading | Paragraph | Table | Figure | Facts


@dataclass(frozen=True)
class Document:
    """A titled sequence of blocks."""

    title: str
    blocks: tuple[Block, ...]


def cell_text(value: object, floatfmt: str = ".3f") -> str:
    """One table cell as text: floats with ``floatfmt``, missing values (None, NaN, NA) empty, else ``str``."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else format(float(value), floatfmt)
    return str(value)


def table_cells(table: Table) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, formatted rows and which columns are numeric (right-aligned) of a table."""
    frame = table.frame
    if frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    header = [str(c) for c in frame.columns]
    numeric = [bool(pd.api.types.is_numeric_dtype(frame[c])) for c in frame.columns]
    formats = [table.formats.get(name, table.floatfmt) for name in header]
    rows = [[cell_text(v, f) for v, f in zip(row, formats, strict=True)] for row in frame.itertuples(index=False)]
    return header, rows, numeric
