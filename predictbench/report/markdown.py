"""Markdown rendering of report documents (GitHub-flavoured tables, figures as relative image links)."""

from __future__ import annotations

import pandas as pd

from predictbench.report.document import Document, Facts, Figure, Heading, Paragraph, Table, table_cells


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table (numeric columns right-aligned)."""
    header, rows, numeric = table_cells(table)
    lines = [
        "| " + " | ".join(_escape_cell(h) for h in header) + " |",
        "|" + "|".join("---:" if is_number else "---" for is_number in numeric) + "|",
        *("| " + " | ".join(_escape_cell(c) for c in row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def to_markdown(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """A GitHub-flavoured Markdown table of ``frame`` (its index becomes the first column)."""
    return table_markdown(Table(frame, floatfmt))


def _code(text: str) -> str:
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def render_markdown(document: Document) -> str:
    """The whole document as Markdown text (figures link to their PNG files next to ``README.md``)."""
    parts = [f"# {document.title}"]
    for block in document.blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * block.level} {block.text}")
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            parts.append(table_markdown(block))
        elif isinstance(block, Figure):
            parts.append(f"![{block.alt}]({block.file})")
        elif isinstance(block, Facts):
            parts.append(
                "\n".join(
                    f"- {label}: {_code(value) if label in block.code else value}" for label, value in block.items
                )
            )
    return "\n\n".join(parts) + "\n"
