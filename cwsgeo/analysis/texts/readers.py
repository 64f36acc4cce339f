"""Listing texts: read the directories' scraped descriptions and join them to inventory rows.

Two steps:

* :func:`read_listing_texts` reads listing files (CSV or XLSX) into one frame of
  :data:`LISTING_COLUMNS`, one row per listing with a text or services, keyed by
  :func:`~cwsgeo.analysis.texts.normalize.listing_key` of its URL;
* :func:`join_listing_texts` joins that frame to an inventory by every ``source_id`` token of a
  row (``coworker.com/spain/barcelona/021-coworking;coworkingspain.es/...``), adds the
  inventory's own text columns (description, notes, services, in English, Spanish or Catalan
  headers) and gives one row per inventory id with a text column per language.

The inventory's ``website`` is *not* used as a key: chains list one website for all their
branches (``crec.cc``), so it would give a branch its sisters' texts.

A listing file's columns are found by header (case, accents and punctuation ignored): the key
from ``url``/``link``/``enlace``/``enllac``, the text from ``description``/``descripcion``/
``descripcio``/``text``, services from ``services_list``/``services``/``servicios``/``serveis``.
The bundle's coworker.com CSV (``url, name, address, description, price``) and coworkingspain.es
workbook (``Name, Link, Description, ..., Services_List, ...``) are read as they are.

Examples
--------
>>> import pandas as pd
>>> inv = pd.DataFrame({"id": ["a"], "name": ["A"], "source_id": ["x.com/a;y.es/a"]})
>>> lst = pd.DataFrame({"key": ["x.com/a"], "source": ["x.com"], "language": ["en"],
...                     "text": ["A friendly community with events."], "services": [""],
...                     "file": ["f.csv"], "row": [2], "original_chars": [33]})
>>> join_listing_texts(inv, lst).loc["a", "text_en"]
'A friendly community with events.'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..._errors import InventoryError, MissingDataError
from ..._text import fold
from ..inventory.limits import LimitError, ReadLimits, check_zip
from ..inventory.model import Problem
from .normalize import (
    LANGUAGES,
    TEXT_CAP,
    clean_text,
    guess_language,
    listing_key,
    split_source_ids,
)

__all__ = [
    "INVENTORY_TEXT_HEADERS",
    "JOINED_COLUMNS",
    "LISTING_COLUMNS",
    "SOURCE_LANGUAGE",
    "inventory_text_columns",
    "join_listing_texts",
    "read_listing_texts",
]

#: Columns of :func:`read_listing_texts`' frame.
LISTING_COLUMNS: tuple[str, ...] = (
    "key", "source", "language", "text", "services", "file", "row", "original_chars")

#: Columns of :func:`join_listing_texts`' frame (indexed by inventory id).
JOINED_COLUMNS: tuple[str, ...] = (
    *(f"text_{lang}" for lang in LANGUAGES), "text_other", "text", "services", "text_keys",
    "text_sources", "n_texts", "text_chars", "text_notes")

#: Language assumed for a listing site's texts when the stopword test is not conclusive.
SOURCE_LANGUAGE: dict[str, str] = {"coworker.com": "en", "coworkingspain.es": "es"}

#: Inventory headers (after :func:`cwsgeo._text.fold`) read as text, and their role.
INVENTORY_TEXT_HEADERS: dict[str, str] = {
    **dict.fromkeys(["description", "descripcion", "descripcio", "desc", "about",
                     "text", "texto", "text descriptiu"], "text"),
    **dict.fromkeys(["notes", "note", "notas", "nota", "observaciones", "observacions",
                     "comments", "comentarios", "comentaris"], "text"),
    **dict.fromkeys(["services", "servicios", "serveis", "services list", "amenities",
                     "servicios ofrecidos"], "services"),
}

_KEY_HEADERS = ("url", "link", "enlace", "enllac", "listing url", "href")
_TEXT_HEADERS = ("description", "descripcion", "descripcio", "text", "texto")
_SERVICE_HEADERS = ("services list", "services", "servicios", "serveis")
_MAX_BYTES = 50_000_000


def _fail(file: str, message: str, row: int | None = None, column: str | None = None,
          ) -> InventoryError:
    problem = Problem(file, row, column, "error", "bad_listing_file", message)
    return InventoryError(f"listing texts: {problem}", [problem])


def _read_records(path: Path) -> pd.DataFrame:
    """Read a CSV or XLSX listing file as text cells (header on the first row)."""
    if not path.is_file():
        raise MissingDataError(f"listing text file not found: {path}")
    size = path.stat().st_size
    if size > _MAX_BYTES:
        raise _fail(path.name, f"file is {size / 1e6:.1f} MB, over the {_MAX_BYTES / 1e6:.0f} "
                    "MB a listing file may have")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        return _read_xlsx(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _fail(path.name, f"not a readable UTF-8 CSV ({type(exc).__name__}: "
                    f"{str(exc).strip()[:200]})") from exc


def _read_xlsx(path: Path) -> pd.DataFrame:
    """First worksheet of a workbook, read-only, formulas as their text (never evaluated)."""
    import openpyxl

    try:
        check_zip(path, ReadLimits())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except LimitError as exc:
        raise _fail(path.name, str(exc)) from exc
    except Exception as exc:  # openpyxl raises many types on corrupt files
        raise _fail(path.name, f"not a readable XLSX workbook ({type(exc).__name__}: "
                    f"{str(exc)[:200]})") from exc
    try:
        ws = wb[wb.sheetnames[0]]
        rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    except Exception as exc:  # corrupt sheet XML
        raise _fail(path.name, f"cannot read the XLSX workbook ({type(exc).__name__}: "
                    f"{str(exc)[:200]})") from exc
    finally:
        wb.close()
    if not rows:
        raise _fail(path.name, "the first worksheet is empty")
    width = max(len(r) for r in rows)
    header = [h.strip() or f"column_{i + 1}" for i, h in
              enumerate(rows[0] + [""] * (width - len(rows[0])))]
    body = [r + [""] * (width - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=object)


def _find(frame: pd.DataFrame, names: Iterable[str]) -> str | None:
    folded = {fold(c): c for c in frame.columns}
    return next((folded[n] for n in names if n in folded), None)


def _listing_rows(path: Path, cap: int) -> list[dict[str, object]]:
    """One record per listing row with a text or services (see the module docstring)."""
    frame = _read_records(path)
    key_col = _find(frame, _KEY_HEADERS)
    text_col = _find(frame, _TEXT_HEADERS)
    serv_col = _find(frame, _SERVICE_HEADERS)
    if key_col is None or (text_col is None and serv_col is None):
        missing = "a URL column (url, link)" if key_col is None else \
            "a text column (description, descripción, services)"
        raise _fail(path.name, f"no {missing} in the header ("
                    f"{', '.join(repr(str(c)) for c in frame.columns[:12])})")
    out: list[dict[str, object]] = []
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        key = listing_key(rec[key_col])
        text = clean_text(rec[text_col], cap) if text_col is not None else clean_text(None)
        services = clean_text(rec[serv_col], cap).text if serv_col is not None else ""
        if not key or not (text.text or services):
            continue
        source = key.split("/", 1)[0]
        lang = guess_language(text.text, SOURCE_LANGUAGE.get(source)) if text.text else None
        out.append({"key": key, "source": source, "language": lang, "text": text.text,
                    "services": services, "file": path.name, "row": i,
                    "original_chars": text.original_chars})
    return out


def read_listing_texts(paths: Iterable[str | Path], cap: int = TEXT_CAP) -> pd.DataFrame:
    """Read listing files (CSV or XLSX) into one frame of texts keyed by listing URL.

    Parameters
    ----------
    paths
        Listing files: CSV (UTF-8, comma) or XLSX (first worksheet), a header on the first
        row with a URL column and a description and/or services column.
    cap
        Longest text kept, in characters; a longer text is cut and keeps its
        ``original_chars`` (compare with the length of ``text`` to find cut texts).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LISTING_COLUMNS`: ``key`` (:func:`listing_key` of the URL), ``source``
        (the site, e.g. ``"coworker.com"``), ``language`` (``"en"``/``"es"``/``"ca"``, from
        the stopword test, else the site's language, else missing), ``text`` (clean, capped),
        ``services`` (``"; "``-separated as written), ``file``, ``row`` (spreadsheet row,
        header = 1) and ``original_chars``. Rows with neither text nor services are left out;
        a URL listed twice keeps each distinct text once.

    Raises
    ------
    MissingDataError
        A file does not exist.
    InventoryError
        A file cannot be read or lacks a URL or text column (the message names the file).
    """
    rows: list[dict[str, object]] = []
    for p in paths:
        rows.extend(_listing_rows(Path(p), cap))
    frame = pd.DataFrame(rows, columns=list(LISTING_COLUMNS))
    frame = frame.drop_duplicates(["key", "text", "services"], ignore_index=True)
    frame["row"] = frame["row"].astype("int64")
    frame["original_chars"] = frame["original_chars"].astype("int64")
    return frame


def inventory_text_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Find the inventory's own text columns (description, notes, services...) and their role.

    Parameters
    ----------
    frame
        An inventory frame.

    Returns
    -------
    dict
        Column -> ``"text"`` or ``"services"`` (see :data:`INVENTORY_TEXT_HEADERS`).
    """
    return {c: INVENTORY_TEXT_HEADERS[fold(c)] for c in frame.columns
            if isinstance(c, str) and fold(c) in INVENTORY_TEXT_HEADERS}


def _texts_for_row(row: Mapping[str, object], by_key: Mapping[str, list[dict[str, object]]],
                   own: Mapping[str, str], cap: int) -> list[dict[str, object]]:
    """Collect the listings matched by the row's source_id tokens, then its own text cells."""
    found: list[dict[str, object]] = []
    for key in split_source_ids(row.get("source_id")):
        found.extend(by_key.get(key, []))
    for column, role in own.items():
        cleaned = clean_text(row.get(column), cap)
        if not cleaned.text:
            continue
        rec: dict[str, object] = {"key": f"inventory:{column}", "source": "inventory",
                                  "original_chars": cleaned.original_chars}
        if role == "services":
            rec.update(text="", services=cleaned.text, language=None)
        else:
            rec.update(text=cleaned.text, services="", language=guess_language(cleaned.text))
        found.append(rec)
    return found


def _as_int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def _joined_row(found: list[dict[str, object]]) -> dict[str, object]:
    """Collapse one inventory row's texts into the :data:`JOINED_COLUMNS` values."""
    by_lang: dict[str, list[str]] = {lang: [] for lang in (*LANGUAGES, "other")}
    services: list[str] = []
    notes: list[str] = []
    for rec in found:
        text = str(rec.get("text") or "")
        if text:
            lang = rec.get("language")
            bucket = by_lang[str(lang) if lang in LANGUAGES else "other"]
            if text not in bucket:
                bucket.append(text)
            if _as_int(rec.get("original_chars")) > len(text):
                notes.append(f"{rec['key']}: text cut from {rec['original_chars']:,} to "
                             f"{len(text):,} characters")
        serv = str(rec.get("services") or "")
        if serv and serv not in services:
            services.append(serv)
    texts = [t for bucket in by_lang.values() for t in bucket]
    out: dict[str, object] = {f"text_{k}": ("\n\n".join(v) if v else pd.NA)
                              for k, v in by_lang.items()}
    out.update({
        "text": "\n\n".join(texts) if texts else pd.NA,
        "services": "; ".join(services) if services else pd.NA,
        "text_keys": ";".join(dict.fromkeys(str(r["key"]) for r in found)) or pd.NA,
        "text_sources": ";".join(dict.fromkeys(str(r["source"]) for r in found)) or pd.NA,
        "n_texts": len(texts),
        "text_chars": sum(len(t) for t in texts),
        "text_notes": "; ".join(notes) if notes else pd.NA,
    })
    return out


def join_listing_texts(inventory: pd.DataFrame, listings: pd.DataFrame,
                       cap: int = TEXT_CAP) -> pd.DataFrame:
    """Join listing texts (and the inventory's own text columns) to inventory rows.

    A row gets every listing whose ``key`` equals one of its ``source_id`` tokens (after
    :func:`listing_key`), plus the non-empty cells of its own text columns
    (:func:`inventory_text_columns`). Texts are grouped by language; a text whose language is
    unknown goes to ``text_other``.

    Parameters
    ----------
    inventory
        Inventory frame with ``id`` and optionally ``source_id`` and text columns.
    listings
        Frame from :func:`read_listing_texts` (may be empty).
    cap
        Longest own-column text kept, in characters.

    Returns
    -------
    pandas.DataFrame
        Indexed by inventory ``id`` (same order), columns :data:`JOINED_COLUMNS`:
        ``text_en``/``text_es``/``text_ca``/``text_other`` (distinct texts joined by a blank
        line, or missing), ``text`` (all of them), ``services``, ``text_keys`` (matched keys,
        ``inventory:<column>`` for own columns), ``text_sources``, ``n_texts``, ``text_chars``
        and ``text_notes`` (texts cut at the cap).

    Raises
    ------
    KeyError
        ``inventory`` has no ``id`` column, or ``listings`` lacks a column of
        :data:`LISTING_COLUMNS`.
    """
    if "id" not in inventory.columns:
        raise KeyError("join_listing_texts: the inventory has no 'id' column")
    missing = [c for c in ("key", "source", "language", "text", "services")
               if c not in listings.columns]
    if missing:
        raise KeyError(f"join_listing_texts: listings lack column(s) {', '.join(missing)}")
    by_key: dict[str, list[dict[str, object]]] = {}
    for rec in listings.to_dict("records"):
        by_key.setdefault(str(rec["key"]), []).append({str(k): v for k, v in rec.items()})
    own = inventory_text_columns(inventory)
    # a row's texts depend only on its source_id and own text cells: each distinct
    # combination is joined once (an inventory may list one operator's spaces many times)
    used = [c for c in ("source_id", *own) if c in inventory.columns]
    joined: dict[tuple[Any, ...], dict[str, object]] = {}
    rows = []
    for r in inventory[used].to_dict("records"):
        key = tuple(r.values())
        if key not in joined:
            joined[key] = _joined_row(_texts_for_row({str(k): v for k, v in r.items()},
                                                     by_key, own, cap))
        rows.append(joined[key])
    out = pd.DataFrame(rows, columns=list(JOINED_COLUMNS),
                       index=pd.Index(inventory["id"].astype(str), name="id"))
    for c in ("n_texts", "text_chars"):
        out[c] = out[c].astype("int64")
    return out

