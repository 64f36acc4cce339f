"""A self-contained HTML report page, and its PDF printed by headless Chromium.

:func:`render_report` lays out sections of paragraphs, figures (PNG bytes, inlined as data
URIs) and tables (DataFrames) in one HTML file with no script and no outside resource, so it
opens offline, mails as one file and prints cleanly (A4, figures and tables never split).
Every text is escaped: nothing from the data can become markup.
:func:`print_pdf` prints such a page through Chromium (``--print-to-pdf``), the browser the
maps are tested with.

Examples
--------
>>> page = render_report("Findings", [Section("Data", ["289 spaces listed."])])
>>> "<h2" in page and "<script" not in page
True
"""

from __future__ import annotations

import base64
import html
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._errors import CwsgeoError
from .._io import atomic_path

__all__ = ["Section", "find_chromium", "print_pdf", "render_report"]

_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 980px; margin: 24px auto; padding: 0 18px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 30px 0 8px;
  border-bottom: 1px solid #ddd; padding-bottom: 4px; break-after: avoid; }
.subtitle { color: #555; margin: 0 0 18px; }
.key { background: #f3f7fb; border-left: 4px solid #2c7bb6; padding: 8px 14px; }
figure { margin: 14px 0; break-inside: avoid; } figure img { max-width: 100%; height: auto;
  border: 1px solid #eee; } figcaption { font-size: 12px; color: #555; }
table { border-collapse: collapse; margin: 10px 0; font-size: 12px; break-inside: avoid; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-size: 12px; color: #555; padding: 2px 0; }
.note { font-size: 12px; color: #5c4400; background: #fff8e1; border: 1px solid #f0d98a;
        padding: 6px 10px; border-radius: 3px; }
footer { margin-top: 36px; font-size: 11px; color: #666; }
"""


@dataclass
class Section:
    """One section of the report.

    Attributes
    ----------
    title
        Heading.
    paragraphs
        Plain-text paragraphs (escaped when rendered).
    figures
        ``(png_bytes, caption)`` pairs.
    tables
        ``(frame, caption)`` pairs; numbers are right-aligned, missing values left blank.
    notes
        Caveats shown in a highlighted box (plain text).
    key
        Whether the paragraphs are the report's key findings (highlighted).
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[tuple[bytes, str]] = field(default_factory=list)
    tables: list[tuple[pd.DataFrame, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key: bool = False


def _cell(value: object) -> tuple[str, bool]:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        digits = 0 if abs(value) >= 100 else 2 if abs(value) >= 1 else 3
        return f"{value:,.{digits}f}", True
    return str(value), False


def _table(frame: pd.DataFrame, caption: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            text, numeric = _cell(value.item() if hasattr(value, "item") else value)
            cells.append(f'<td{" class=num" if numeric else ""}>{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _section(section: Section) -> str:
    parts = [f"<h2>{html.escape(section.title)}</h2>"]
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
    parts.append(f'<div class="key">{paragraphs}</div>' if section.key and paragraphs
                 else paragraphs)
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in section.notes]
    parts += [_figure(png, caption) for png, caption in section.figures]
    parts += [_table(frame, caption) for frame, caption in section.tables]
    return "\n".join(parts)


def render_report(title: str, sections: Sequence[Section], *, subtitle: str = "",
                  footer: str = "") -> str:
    """Return the report as one self-contained HTML page (no script, no outside resource).

    Parameters
    ----------
    title, subtitle
        Page heading and the line under it.
    sections
        The sections, in order.
    footer
        A closing line (who built it, when).

    Returns
    -------
    str
    """
    body = "\n".join(_section(s) for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"subtitle\">{html.escape(subtitle)}</p>"
        f"{body}<footer>{html.escape(footer)}</footer></body></html>\n")


def find_chromium() -> str | None:
    """Return the Chromium to print PDFs with: ``CWSGEO_CHROMIUM``, else one on the PATH."""
    chosen = os.environ.get("CWSGEO_CHROMIUM")
    if chosen:
        return chosen
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(page: str | os.PathLike[str], pdf: str | os.PathLike[str], *,
              browser: str | None = None, timeout_s: float = 180.0) -> Path:
    """Print an HTML page to PDF with headless Chromium; write it atomically.

    Parameters
    ----------
    page
        The HTML file.
    pdf
        Destination ``.pdf``.
    browser
        Chromium executable (default :func:`find_chromium`).
    timeout_s
        Longest wait for the browser.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    cwsgeo.CwsgeoError
        No Chromium was found, or it failed or wrote nothing.
    """
    exe = browser or find_chromium()
    if exe is None:
        raise CwsgeoError("no Chromium found to print the PDF: install Debian's `chromium` "
                          "or set CWSGEO_CHROMIUM to a Chrome/Chromium executable")
    with atomic_path(pdf) as tmp:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--no-pdf-header-footer",
               f"--print-to-pdf={tmp}", Path(page).resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CwsgeoError(f"Chromium could not print {page}: {exc}") from None
        if done.returncode != 0 or not Path(tmp).is_file() or Path(tmp).stat().st_size == 0:
            raise CwsgeoError(f"Chromium could not print {page} (exit {done.returncode}): "
                              f"{done.stderr.strip()[-300:]}")
    return Path(pdf)
