"""Innovation types from three origins, and the review round trip that confirms the screen.

A space's innovation type comes, in this order of precedence, from

1. ``innovation_type`` — *declared* in the inventory (always wins);
2. ``innovation_type_reviewed`` — confirmed by a person on a review sheet
   (:func:`apply_reviews`);
3. ``innovation_type_estimated`` — the text screen
   (:func:`~cwsgeo.analysis.texts.screen.screen_spaces`).

:func:`resolve_innovation_types` writes the result to ``innovation_type_effective`` and its
origin to ``innovation_type_source`` (``declared`` / ``reviewed`` / ``estimated`` / ``none``).
A reviewed type is kept in its own column, so re-running the screen never turns it back into an
estimate; a blank ``confirmed_type`` on a later sheet changes nothing.

Examples
--------
>>> import pandas as pd
>>> spaces = pd.DataFrame({"id": ["a", "b"], "name": ["A", "B"],
...                        "innovation_type": pd.array([None, 1], dtype="Int64"),
...                        "innovation_type_estimated": pd.array([2, 3], dtype="Int64")})
>>> sheet = review_sheet(spaces, excerpt_chars=50)
>>> sheet["id"].tolist()   # the declared row needs no review
['a']
>>> sheet.loc[0, "confirmed_type"] = "3"
>>> out = apply_reviews(spaces, sheet)
>>> out["innovation_type_effective"].tolist(), out["innovation_type_source"].tolist()
([3, 1], ['reviewed', 'declared'])
"""

from __future__ import annotations

import re

import pandas as pd

from ..._errors import InventoryError
from ..._text import fold
from ..inventory.model import Problem
from ..inventory.values import parse_innovation_type
from .lexicon import LEXICON, ROOM_HIRE

__all__ = [
    "REVIEW_COLUMNS",
    "TYPE_SOURCES",
    "apply_reviews",
    "excerpt",
    "resolve_innovation_types",
    "review_sheet",
]

#: Columns of :func:`review_sheet`, in order.
REVIEW_COLUMNS: tuple[str, ...] = (
    "id", "name", "suggested_type", "screen_score", "evidence", "excerpt", "confirmed_type")

#: Values of ``innovation_type_source``, from strongest to weakest.
TYPE_SOURCES: tuple[str, ...] = ("declared", "reviewed", "estimated", "none")

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _int64(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_numeric(frame[column], errors="coerce").astype("Int64")


def resolve_innovation_types(spaces: pd.DataFrame) -> pd.DataFrame:
    """Set ``innovation_type_effective`` and ``innovation_type_source`` from the three origins.

    Parameters
    ----------
    spaces
        Frame with any of ``innovation_type`` (declared), ``innovation_type_reviewed`` and
        ``innovation_type_estimated``.

    Returns
    -------
    pandas.DataFrame
        A copy with both columns set (``Int64`` and text; ``"none"`` where no origin has a
        type).
    """
    out = spaces.copy()
    declared = _int64(out, "innovation_type")
    reviewed = _int64(out, "innovation_type_reviewed")
    estimated = _int64(out, "innovation_type_estimated")
    out["innovation_type_effective"] = declared.fillna(reviewed).fillna(estimated)
    source = pd.Series("none", index=out.index, dtype=object)
    source[estimated.notna()] = "estimated"
    source[reviewed.notna()] = "reviewed"
    source[declared.notna()] = "declared"
    out["innovation_type_source"] = source
    return out


def excerpt(text: object, limit: int = 300) -> str:
    """Pick the sentences of a text with most screen evidence, in text order, within ``limit``.

    Parameters
    ----------
    text
        Plain text (missing gives ``""``).
    limit
        Longest excerpt, in characters (a cut sentence ends with ``…``).

    Returns
    -------
    str
        One line; sentences joined by ``" … "`` where text was skipped.
    """
    if text is None or text != text or not str(text).strip():
        return ""
    sentences = [s.strip() for s in _SENTENCE.split(str(text)) if s.strip()]
    hits = []
    for i, s in enumerate(sentences):
        folded = ROOM_HIRE.sub(" | ", fold(s))
        n = sum(1 for terms in LEXICON.values() for p in terms.values() if p.search(folded))
        hits.append((-n, i))
    chosen: list[int] = []
    used = 0
    for neg, i in sorted(hits):
        if chosen and (neg == 0 or used + len(sentences[i]) + 3 > limit):
            continue
        chosen.append(i)
        used += len(sentences[i]) + 3
    parts: list[str] = []
    for k, i in enumerate(sorted(chosen)):
        if k and i != sorted(chosen)[k - 1] + 1:
            parts.append("…")
        parts.append(sentences[i])
    out = " ".join(" ".join(parts).split())
    return out if len(out) <= limit else out[:limit - 1].rsplit(" ", 1)[0] + "…"


def review_sheet(spaces: pd.DataFrame, include_reviewed: bool = False,
                 excerpt_chars: int = 300) -> pd.DataFrame:
    """Build the sheet a person fills in to confirm the screen's estimates.

    Parameters
    ----------
    spaces
        Screened spaces (``id``, ``name``, ``innovation_type_estimated``; optionally
        ``innovation_type``, ``innovation_type_reviewed``, ``screen_score``,
        ``screen_evidence`` and ``text``).
    include_reviewed
        Also list spaces already reviewed (their current type is pre-filled in
        ``confirmed_type``). Spaces with a declared type are never listed.
    excerpt_chars
        Longest excerpt, in characters (at most 300 is advised).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REVIEW_COLUMNS`, in the spaces' order: ``suggested_type`` (the
        estimate), ``evidence`` (matched concepts), ``excerpt`` (:func:`excerpt` of ``text``)
        and an empty ``confirmed_type`` to fill with 1, 2 or 3. Cells are plain data: write
        them with :func:`cwsgeo._io.write_csv`, which neutralises spreadsheet formulas.
    """
    declared = _int64(spaces, "innovation_type")
    reviewed = _int64(spaces, "innovation_type_reviewed")
    keep = declared.isna() & (reviewed.isna() | include_reviewed)
    rows = spaces[keep]
    text = rows["text"] if "text" in rows.columns else pd.Series("", index=rows.index)
    sheet = pd.DataFrame({
        "id": rows["id"].astype(str),
        "name": rows["name"].astype(str) if "name" in rows.columns else "",
        "suggested_type": _int64(rows, "innovation_type_estimated"),
        "screen_score": _int64(rows, "screen_score"),
        "evidence": (rows["screen_evidence"].fillna("") if "screen_evidence" in rows.columns
                     else ""),
        "excerpt": [excerpt(t, excerpt_chars) for t in text.tolist()],
        "confirmed_type": reviewed[keep].astype(object).where(reviewed[keep].notna(), ""),
    }, columns=list(REVIEW_COLUMNS))
    return sheet.reset_index(drop=True)


def _sheet_error(sheet_name: str, row: int, column: str, message: str) -> InventoryError:
    problem = Problem(sheet_name, row, column, "error", "bad_review", message)
    return InventoryError(f"review sheet: {problem}", [problem])


def _confirmed(sheet: pd.DataFrame, ids: set[str], sheet_name: str) -> dict[str, int]:
    """Id -> confirmed type, from the sheet's non-blank ``confirmed_type`` cells."""
    for col in ("id", "confirmed_type"):
        if col not in sheet.columns:
            raise _sheet_error(sheet_name, 1, col, f"the sheet has no {col!r} column")
    found: dict[str, tuple[int, int]] = {}
    for pos, (raw_id, raw) in enumerate(zip(sheet["id"].tolist(),
                                            sheet["confirmed_type"].tolist(), strict=True)):
        row = pos + 2  # header = row 1
        if raw is None or raw != raw or not str(raw).strip():
            continue
        try:
            value = parse_innovation_type(raw)
        except ValueError as exc:
            raise _sheet_error(sheet_name, row, "confirmed_type",
                               f"{str(raw)[:40]!r} is not an innovation type (1, 2 or 3): "
                               f"{exc}") from exc
        if value is None:
            continue
        sid = str(raw_id).strip()
        if sid not in ids and sid.startswith("'") and sid[1:] in ids:
            sid = sid[1:]  # a formula-neutralised id
        if sid not in ids:
            raise _sheet_error(sheet_name, row, "id", f"id {sid[:60]!r} is not in the spaces")
        if sid in found and found[sid][0] != value:
            raise _sheet_error(sheet_name, row, "confirmed_type",
                               f"id {sid!r} is confirmed as {found[sid][0]} on row "
                               f"{found[sid][1]} and as {value} here")
        found[sid] = (value, row)
    return {k: v for k, (v, _) in found.items()}


def apply_reviews(spaces: pd.DataFrame, reviewed_sheet: pd.DataFrame,
                  sheet_name: str = "review sheet") -> pd.DataFrame:
    """Merge a filled review sheet into the spaces as ``reviewed`` types.

    Parameters
    ----------
    spaces
        Spaces with ``id`` (and the type columns of :func:`resolve_innovation_types`).
    reviewed_sheet
        A sheet from :func:`review_sheet`, read back (e.g. from CSV) with ``id`` and
        ``confirmed_type`` columns; row N of the frame is spreadsheet row N + 2.
    sheet_name
        The sheet's file name, for messages.

    Returns
    -------
    pandas.DataFrame
        A copy with ``innovation_type_reviewed`` updated for every non-blank
        ``confirmed_type`` (blank = no change; earlier reviews are kept) and the types
        resolved again: a declared type still wins.

    Raises
    ------
    InventoryError
        A ``confirmed_type`` is not 1, 2 or 3 (words and "type 2" are accepted), an id is
        not among the spaces, or one id is confirmed twice with different types; the
        message names the sheet, row and column.
    """
    ids = spaces["id"].astype(str)
    confirmed = _confirmed(reviewed_sheet, set(ids), sheet_name)
    out = spaces.copy()
    current = _int64(out, "innovation_type_reviewed")
    update = pd.Series(ids.map(confirmed).tolist(), index=out.index, dtype="Int64")
    out["innovation_type_reviewed"] = update.fillna(current)
    return resolve_innovation_types(out)
