"""Self-contained HTML rendering of report documents.

The page opens from disk with no network: the CSS is inline, every figure is embedded as a base64 PNG ``data:``
URI, and a Content-Security-Policy forbids loading anything else (no scripts, no external images or styles).
Every piece of text is HTML-escaped.
"""

from __future__ import annotations

import base64
import re
import struct
from html import escape
from pathlib import Path

from predictbench.report.document import Document, Facts, Figure, Heading, Paragraph, Table, table_cells

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CSS = """
:root { color-scheme: light; --rule: #d0d7de; --muted: #57606a; --stripe: #f6f8fa; --accent: #0969da; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.8em; border-bottom: 1px solid var(--rule); padding-bottom: .3em; }
h2 { font-size: 1.35em; border-bottom: 1px solid var(--rule); padding-bottom: .25em; margin-top: 2em; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4em 1.4em; }
nav a { color: var(--accent); text-decoration: none; }
.scroll { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--rule); padding: 4px 10px; text-align: left; white-space: nowrap; }
th { background: var(--stripe); }
td.num, th.num { text-align: right; }
tbody tr:nth-child(even) { background: var(--stripe); }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: .9em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1.2em; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--stripe);
       padding: 1px 4px; border-radius: 4px; }
""".strip()


def anchor(text: str) -> str:
    """A fragment id for a heading ("Per training size" -> "per-training-size")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def table_html(table: Table) -> str:
    header, rows, numeric = table_cells(table)

    def cls(is_number: bool) -> str:
        return ' class="num"' if is_number else ""

    head = "".join(f"<th{cls(n)}>{escape(h)}</th>" for h, n in zip(header, numeric, strict=True))
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls(n)}>{escape(c)}</td>" for c, n in zip(row, numeric, strict=True)) + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table></div>'


def figure_html(figure: Figure, folder: Path) -> str:
    """The PNG at ``folder / figure.file`` embedded as a ``data:`` URI (with its pixel size for the layout)."""
    path = folder / figure.file
    if not path.is_file():
        raise FileNotFoundError(f"report figure not found: {path} (write the figure before rendering the report)")
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"report figure {path} is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    alt = escape(figure.alt)
    return (
        f'<figure><img src="{uri}" alt="{alt}" width="{width}" height="{height}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )


def facts_html(facts: Facts) -> str:
    items = "\n".join(
        f"<dt>{escape(label)}</dt><dd>{f'<code>{escape(value)}</code>' if label in facts.code else escape(value)}</dd>"
        for label, value in facts.items
    )
    return f'<dl class="facts">\n{items}\n</dl>'


def render_html(document: Document, folder: str | Path) -> str:
    """The whole document as one self-contained HTML page; figures are read from ``folder``."""
    folder = Path(folder)
    sections = [block.text for block in document.blocks if isinstance(block, Heading) and block.level == 2]
    nav = "".join(f'<li><a href="#{anchor(s)}">{escape(s)}</a></li>' for s in sections)
    parts = [f"<h1>{escape(document.title)}</h1>", f"<nav><ul>{nav}</ul></nav>" if nav else ""]
    for block in document.blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 2), 6)
            parts.append(f'<h{level} id="{anchor(block.text)}">{escape(block.text)}</h{level}>')
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append(table_html(block))
        elif isinstance(block, Figure):
            parts.append(figure_html(block, folder))
        elif isinstance(block, Facts):
            parts.append(facts_html(block))
    body = "\n".join(p for p in parts if p)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        f"<title>{escape(document.title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
