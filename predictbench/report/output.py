"""A report folder: ``README.md`` and a self-contained ``index.html`` rendered from one document."""

from __future__ import annotations

from pathlib import Path

from predictbench.paths import atomic_write_text
from predictbench.report.document import Document
from predictbench.report.html import render_html
from predictbench.report.markdown import render_markdown

MARKDOWN = "README.md"
HTML = "index.html"


def report_folder(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path, created if needed: figures are drawn into it before :func:`write_report`."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_report(document: Document, folder: str | Path) -> Path:
    """Write ``folder/README.md`` and ``folder/index.html`` (figures must already be in ``folder``)."""
    folder = Path(folder)
    html = render_html(document, folder)
    atomic_write_text(folder / MARKDOWN, render_markdown(document))
    atomic_write_text(folder / HTML, html)
    return folder
