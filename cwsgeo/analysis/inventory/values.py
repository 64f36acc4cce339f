"""Cell values: cleaning text, and parsing coordinates, postcodes and innovation types.

Examples
--------
>>> clean_cell("  Espai   Un ")
'Espai Un'
>>> parse_coord("41,3851")
41.3851
>>> normalise_postcode("8001")
'08001'
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ..._text import fold
from ...schema import INNOVATION_LABELS

__all__ = [
    "clean_cell",
    "clean_column",
    "innovation_label",
    "innovation_types",
    "normalise_postcode",
    "parse_coord",
    "parse_coord_column",
    "parse_innovation_type",
]

_BLANK_TYPES = {"", "na", "n a", "none", "null", "nan", "unclassified", "not classified",
                "sin clasificar", "no clasificado", "sense classificar", "no classificat",
                "unknown", "desconocido", "desconegut"}
_NEGATIONS = {"no", "not", "non", "sin", "sense", "without", "ninguna", "cap", "ni"}
_INTENSIFIERS = {"highly", "very", "high", "muy", "altamente", "alta", "alto", "molt",
                 "altament", "alt", "super", "elevada", "elevado", "elevat"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3}
_TYPE_WORDS = {"type", "tipo", "tipus", "level", "nivel", "nivell", "class", "clase", "classe",
               "category", "categoria"}


# ---------------------------------------------------------------------------------------
# Innovation types
# ---------------------------------------------------------------------------------------
def parse_innovation_type(value: Any) -> int | None:
    """Turn a cell into innovation type 1, 2, 3, or ``None`` (unclassified).

    Accepts numbers (``2``, ``2.0``, ``"2,0"``, ``"type 2"``, ``"tipo 2"``, ``"II"``) and words
    in English, Spanish or Catalan: "no innovative community" / "sin comunidad innovadora" /
    "sense comunitat innovadora" -> 1; "innovative" / "innovadora" -> 2; "highly innovative" /
    "muy innovadora" / "molt innovadora" -> 3. A number and words may be combined
    ("3 - highly innovative") when they agree. Blank, "n/a" and "unclassified" give ``None``.

    Parameters
    ----------
    value
        Cell value.

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        The value is not a recognised type, or is ambiguous.

    Examples
    --------
    >>> parse_innovation_type("Highly innovative")
    3
    >>> parse_innovation_type("sin comunidad innovadora")
    1
    >>> parse_innovation_type(2.0)
    2
    >>> parse_innovation_type("2,0")
    2
    >>> parse_innovation_type("") is None
    True
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{value!r} is not an innovation type (1, 2 or 3)")
    if isinstance(value, (int, np.integer)):
        if int(value) in (1, 2, 3):
            return int(value)
        raise ValueError(f"{value!r} is not 1, 2 or 3")
    if isinstance(value, (float, np.floating)):
        if float(value) in (1.0, 2.0, 3.0):
            return int(value)
        raise ValueError(f"{value!r} is not 1, 2 or 3")
    raw = str(value).strip()
    if raw[:1] in ("=", "@"):
        raise ValueError(f"{raw!r} looks like a spreadsheet formula, not an innovation type")
    number = re.fullmatch(r"[+]?0*([0-9]+)(?:[.,]0*)?", raw)
    if number:
        if number.group(1) in ("1", "2", "3"):
            return int(number.group(1))
        raise ValueError(f"{raw!r} is not 1, 2 or 3")
    return _parse_type_text(raw)


def _parse_type_text(raw: str) -> int | None:
    """Parse a type written in words, maybe with a number ("3 - highly innovative")."""
    text = fold(raw)
    if text in _BLANK_TYPES:
        return None
    tokens = text.split()
    numeric = [t for t in tokens if t in ("1", "2", "3")]
    # roman numerals only alone or after "type"/"tipo" ("i" is also Catalan for "and")
    for k, t in enumerate(tokens):
        if t in _ROMAN and (len(tokens) == 1 or (k > 0 and tokens[k - 1] in _TYPE_WORDS)):
            numeric.append(str(_ROMAN[t]))
    from_words: int | None = None
    if any(t.startswith(("innov", "innob")) for t in tokens):
        negated = any(t in _NEGATIONS for t in tokens)
        intense = any(t in _INTENSIFIERS for t in tokens)
        if negated and intense:
            raise ValueError(f"{raw!r} is ambiguous (both a negation and an intensifier)")
        from_words = 1 if negated else 3 if intense else 2
    numbers = set(numeric)
    if len(numeric) > 1:
        raise ValueError(f"{raw!r} names several types")
    if numbers:
        n = int(numbers.pop())
        if from_words is not None and from_words != n:
            raise ValueError(f"{raw!r} is contradictory: number {n} but words mean "
                             f"{from_words} ({INNOVATION_LABELS[from_words]})")
        leftover = [t for t in tokens if t not in _TYPE_WORDS and t not in ("1", "2", "3")
                    and t not in _ROMAN]
        if from_words is not None or not leftover:
            return n
    elif from_words is not None:
        return from_words
    raise ValueError(f"{raw!r} is not an innovation type (1, 2, 3, or words such as "
                     f"'innovative', 'highly innovative', 'no innovative community', "
                     f"'innovadora', 'molt innovadora')")


def innovation_types(values: Any, *, what: str = "innovation_type") -> pd.Series:
    """Turn a column of innovation types into pandas' nullable ``Int64`` (blank = ``<NA>``).

    Each value is read by :func:`parse_innovation_type` (so ``1.0``, ``"2"`` and words work);
    a column already ``Int64`` is returned as is (a copy).

    Parameters
    ----------
    values
        A Series (its index is kept) or any sequence.
    what
        Name used in the error message.

    Returns
    -------
    pandas.Series
        ``Int64`` values 1, 2, 3 or ``<NA>``.

    Raises
    ------
    ValueError
        A value is not an innovation type (names its row label).

    Examples
    --------
    >>> innovation_types([1.0, None, "3"]).tolist()
    [1, <NA>, 3]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if isinstance(series.dtype, pd.Int64Dtype) and series.dropna().isin((1, 2, 3)).all():
        return series.copy()
    parsed: list[Any] = []
    for label, value in series.items():
        try:
            parsed.append(parse_innovation_type(value))
        except ValueError as exc:
            raise ValueError(f"{what}, row {label!r}: {exc}") from None
    return pd.Series(pd.array([pd.NA if v is None else v for v in parsed], dtype="Int64"),
                     index=series.index, name=series.name)


def innovation_label(value: int | None) -> str:
    """Return the label of an innovation type (``None``/NA -> ``"unclassified"``)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return INNOVATION_LABELS[None]
    try:
        return INNOVATION_LABELS[int(value)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{value!r} is not an innovation type (1, 2, 3 or None)") from None


# ---------------------------------------------------------------------------------------
# Text cells
# ---------------------------------------------------------------------------------------
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_WS_RE = re.compile(r"\s+")
_CTRL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def clean_cell(v: str) -> str:
    """Trim, drop control and zero-width characters, collapse whitespace runs."""
    if v.isprintable() and "  " not in v and v == v.strip():
        return v
    v = _CTRL_RE.sub("", v.translate(_ZERO_WIDTH))
    return _WS_RE.sub(" ", v).strip()


def clean_column(values: list[str]) -> list[str]:
    """Apply :func:`clean_cell` to a column, with a whole-column fast path for clean text."""
    if all(map(str.isprintable, values)):
        joined = "\n" + "\n".join(values) + "\n"
        if "  " not in joined and "\n " not in joined and " \n" not in joined:
            return list(values)
    return [clean_cell(v) for v in values]


# ---------------------------------------------------------------------------------------
# Coordinates and postcodes
# ---------------------------------------------------------------------------------------
_NUM_RE = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_COLUMN_OF_NUMBERS = re.compile(r"(?:[+-]?+\d++(?:[.,]\d*+)?+(?:[eE][+-]?+\d++)?+)?+"
                                r"(?:\n(?:[+-]?+\d++(?:[.,]\d*+)?+(?:[eE][+-]?+\d++)?+)?+)*+")


def parse_coord_column(values: list[str]) -> tuple[np.ndarray, dict[int, str]]:
    """Parse a coordinate column; return (floats with NaN for blanks, {index: error})."""
    n = len(values)
    joined = "\n".join(values)
    if "\n" not in "".join(values) and _COLUMN_OF_NUMBERS.fullmatch(joined):
        parts = np.array(joined.replace(",", ".").split("\n"), dtype=object)
        parts[parts == ""] = "nan"
        out = parts.astype(float)
        blank = np.array([v == "" for v in values], dtype=bool)
        if np.isfinite(out[~blank]).all():
            return out, {}
    out = np.full(n, np.nan)
    errors: dict[int, str] = {}
    for k, v in enumerate(values):
        if v:
            try:
                out[k] = parse_coord(v)
            except ValueError as exc:
                errors[k] = str(exc)
    return out, errors


def parse_coord(text: str) -> float:
    """Parse one coordinate (decimal point or comma); raise ValueError with a hint."""
    t = text.strip()
    if not t:
        return math.nan
    if not _NUM_RE.fullmatch(t):
        t2 = re.sub(r"[\s\u00a0\u2009\u202f]", "", t).replace("\u2212", "-").rstrip("°º")
        if not _NUM_RE.fullmatch(t2):
            low = t.lower().lstrip("+-")
            if low in ("nan", "inf", "infinity", "-nan"):
                raise ValueError(f"{text!r} is not a finite number")
            if re.search(r"\d\s*[°º]\s*\d", t) or re.search(r"\d['′]", t):
                raise ValueError(f"{text!r} looks like degrees-minutes-seconds: give decimal "
                                 "degrees (e.g. 41.3851)")
            if t[:1] in "=+@" or t.startswith("#"):
                raise ValueError(f"{text!r} is not a number (a spreadsheet formula or error "
                                 "value?)")
            raise ValueError(f"{text!r} is not a number (use decimal degrees, e.g. 41.3851)")
        t = t2
    value = float(t.replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def normalise_postcode(text: str) -> str | None:
    """Return a 5-digit postcode (``8001`` -> ``08001``, ``8001.0`` too), or None."""
    m = re.fullmatch(r"(\d{4,5})[.,]0+", text)
    digits = m.group(1) if m else re.sub(r"\D", "", text)
    if len(digits) == 4:
        digits = "0" + digits
    return digits if len(digits) == 5 else None
