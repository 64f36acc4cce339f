"""Text folding shared by every module that compares names (headers, streets, places, areas).

Example:
-------
>>> fold("  Plaça de CATALUNYA, 1 ")
'placa de catalunya 1'
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["as_text", "fold", "is_missing", "md_escape", "strip_accents"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_accents(text: str) -> str:
    """Remove combining accents (``"Aragó"`` -> ``"Arago"``), keeping every other character."""
    if text.isascii():  # nothing to decompose: most names and texts (a fast path)
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case, strip accents, turn every run of other characters into one space."""
    return " ".join(_NON_ALNUM.sub(" ", strip_accents(str(text)).lower()).split())


def is_missing(value: object) -> bool:
    """Whether a cell is missing: ``None``, ``pd.NA``, ``NaT`` or a float NaN (not ``""``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def as_text(value: object) -> str:
    """Return a cell as text: missing cells (:func:`is_missing`) give ``""``."""
    return "" if is_missing(value) else str(value)


def md_escape(value: object) -> str:
    """Return text safe inside a Markdown table cell or list item (one line, no markup)."""
    text = as_text(value)
    for ch in ("\\", "|", "`", "*", "_", "[", "]", "<", ">", "#"):
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.splitlines())
