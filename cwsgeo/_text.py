"""Text folding shared by every module that compares names (headers, streets, places, areas).

Example:
-------
>>> fold("  Plaça de CATALUNYA, 1 ")
'placa de catalunya 1'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "md_escape", "strip_accents"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_accents(text: str) -> str:
    """Remove combining accents (``"Aragó"`` -> ``"Arago"``), keeping every other character."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, strip accents, turn every run of other characters into one space."""
    return " ".join(_NON_ALNUM.sub(" ", strip_accents(str(text)).lower()).split())


def md_escape(value: object) -> str:
    """Return text safe inside a Markdown table cell or list item (one line, no markup)."""
    text = "" if value is None or value != value else str(value)  # None and NaN -> ""
    for ch in ("\\", "|", "`", "*", "_", "[", "]", "<", ">", "#"):
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.splitlines())
