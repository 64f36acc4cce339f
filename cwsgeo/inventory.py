"""The coworking inventory: read any common table format, map its headers, validate every row.

This module owns the inventory's schema and its quality report. It reads CSV (comma, semicolon,
tab or pipe; UTF-8, UTF-8 with BOM, UTF-16, Latin-1/cp1252; decimal comma), XLSX, GeoJSON (or a
plain JSON list of records or rows) and GeoPackage/Shapefile/FlatGeobuf, maps English, Spanish and
Catalan headers onto the canonical columns, and collects *every* problem with its file, row and
column instead of stopping at the first one. Nothing here geocodes or writes files.

Canonical columns
-----------------
``id`` (required, unique), ``name`` (required), ``address``, ``postcode``, ``lat``, ``lon``,
``innovation_type`` (1, 2, 3 or blank). Any other column is carried through (its values only
trimmed), under its header as written.

How a file is read
------------------
* **Format** is decided from the file's first bytes, not only from its name: an XLSX workbook
  renamed ``.csv`` is read as XLSX (with a ``wrong_extension`` warning); images, archives, PDF,
  HTML pages and old ``.xls`` workbooks are refused with a ``not_a_table`` error that says what
  the file is.
* **Text encoding**: BOMs are honoured (UTF-8, UTF-16, UTF-32); UTF-16 without a BOM is
  recognised from its NUL bytes; otherwise UTF-8 is tried, then cp1252/Latin-1 (``encoding``
  warning). A mostly-UTF-8 file with a few bad bytes is read as UTF-8, the bad bytes become
  ``�`` and every affected cell gets a ``bad_bytes`` warning.
* **Delimiter** (``,`` ``;`` tab ``|``) is the one that splits the first records into the most
  recognised headers, then the most consistent field counts.
* **Header row**: leading empty rows are skipped silently, and a few title lines above a
  recognisable header (one naming ``id`` and ``name``, or three canonical columns) are skipped
  with a ``rows_above_header`` warning. Trailing empty rows are dropped silently; empty rows in
  between get an ``empty_row`` warning.
* **Numbers in XLSX** keep their meaning as text: ``12`` (or ``12.0``) becomes ``"12"``, a postcode
  ``8001`` becomes ``"08001"``, coordinates keep full float precision. Formula cells are read as
  their formula text (``=HYPERLINK(...)``), never evaluated.

Rows are numbered as a spreadsheet shows them: the header is row 1 (or the row it is really
on), the first data row follows it, and a CSV record with a quoted newline counts as one row.
In GeoJSON/GeoPackage input, row N is the (N-1)-th feature.

Validation
----------
Errors exclude the row from :attr:`Inventory.data` (and make :func:`read_inventory` raise);
warnings keep it. Every problem names the file; row-level problems also name the row, and
cell-level ones the column as written in the header (``"geometry"`` for vector geometries).
Once a row is structurally broken (``extra_fields``, ``mixed_delimiter``, ``unbalanced_quote``)
its shifted cells are not checked further, so one mistake gives one message. Codes are stable:

===================== ======== ==========================================================
code                  severity meaning
===================== ======== ==========================================================
*file level (no row)*
not_found, not_a_file error    the path does not exist / is a folder
empty_file            error    0 bytes, only whitespace, or an empty worksheet
not_a_table           error    binary data (says what: image, ZIP, PDF, .xls, HTML page...)
bad_json, bad_crs     error    invalid JSON (with line and column) / unusable CRS
missing_sheet         error    the worksheet or layer asked for does not exist
no_rows               error    a header but no data rows
encoding              warning  not UTF-8 (cp1252/Latin-1, UTF-16 without BOM, bad bytes)
nul_bytes             warning  a few NUL characters removed
wrong_extension       warning  the content is read by what it is, not by its name
sheet_name            warning  worksheet found with a different case
*header row*
missing_column        error    ``id`` or ``name`` missing, or lat without lon
duplicate_column      error    two headers map to the same canonical column
bad_mapping           error    the explicit mapping names a wrong column (no row; a warning
                               for an unknown ``ignore_columns`` entry)
rows_above_header     warning  title lines above the header were skipped
duplicate_header,     warning  a repeated / blank header over values (carried through as
blank_header                   ``name_2`` / ``column_N``)
shadowed_column       warning  a synonym column displaced by the explicit mapping
unmapped_column       warning  a generic "Type" column whose values are not innovation types
*rows*
extra_fields          error    more fields than the header (a delimiter in an unquoted value)
mixed_delimiter       error    a row separated by another delimiter than the file
unbalanced_quote      error    an unclosed quote swallowed the following lines
bad_feature           error    a GeoJSON feature that is not an object
short_row             warning  fewer fields than the header (the rest read as blank)
empty_row             warning  an empty row between data rows
*cells*
missing_id,           error    blank id / id already used (the message names both rows)
duplicate_id
bad_coordinate        error    not a number, NaN, infinite, DMS, or a formula
half_coordinate       error    lat without lon or the reverse
coordinate_range      error    latitude outside -90..90 or longitude outside -180..180
null_island           error    the 0, 0 placeholder
bad_geometry          error    an invalid GeoJSON/vector geometry
unknown_type          error    an innovation type that is not 1/2/3 or a known word
huge_field            error    a value longer than 100,000 characters
swapped_coordinates   warning  lat and lon exchanged: swapped back
outside_city          warning  a valid point outside ``settings.city_bbox`` (or outside the
                               ``boundary`` given): in the sea, another city; kept, flagged
not_a_point,          warning  a line/polygon (representative point used) / columns and
geometry_mismatch              geometry disagree by more than 100 m (columns used)
missing_name          warning  blank name: the id is shown instead
bad_postcode          warning  not a 5-digit postcode (ignored)
formula               warning  starts like a spreadsheet formula (``=``, or ``+ - @`` not
                               followed by a number/phone): kept as text, never evaluated;
                               :func:`cwsgeo._io.neutralise_formulas` defuses exports
markup, unsafe_url    warning  HTML tags / ``javascript:`` URLs, kept verbatim as text
mojibake, bad_bytes   warning  "CafÃ©"-style double decoding / invalid bytes shown as ``�``
possible_duplicate    warning  same name and address as an earlier row
*summary*
no_location           warning  one line for all rows with no address and no coordinates
===================== ======== ==========================================================

Examples
--------
>>> import cwsgeo
>>> inv = cwsgeo.check_inventory("coworking_spaces.csv")  # doctest: +SKIP
>>> print(inv.report())  # doctest: +SKIP
>>> inv.data[["id", "name", "innovation_type"]].head(2)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import itertools
import json
import logging
import math
import os
import re
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import settings
from ._errors import InventoryError
from ._text import fold

__all__ = [
    "CANONICAL_COLUMNS",
    "HEADER_SYNONYMS",
    "INNOVATION_LABELS",
    "Inventory",
    "Problem",
    "check_inventory",
    "innovation_label",
    "parse_innovation_type",
    "read_inventory",
]

log = logging.getLogger(__name__)

CANONICAL_COLUMNS: tuple[str, ...] = (
    "id", "name", "address", "postcode", "lat", "lon", "innovation_type")

#: Labels of the study's three innovation types; ``None`` is "unclassified".
INNOVATION_LABELS: dict[int | None, str] = {
    1: "no innovative community",
    2: "innovative community",
    3: "highly innovative community",
    None: "unclassified",
}

#: Header synonyms (accent-free, lower case, single spaces) -> canonical column.
HEADER_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(["id", "identifier", "identificador", "codi", "codigo", "code", "ref",
                     "reference", "referencia", "space id", "cws id", "uid", "id espai",
                     "id espacio"], "id"),
    **dict.fromkeys(["name", "nombre", "nom", "space", "space name", "espacio", "espai",
                     "coworking", "nombre del espacio", "nom de l espai", "title", "titulo",
                     "titol", "denominacion", "denominacio", "coworking name",
                     "nombre coworking", "nom coworking"], "name"),
    **dict.fromkeys(["address", "direccion", "adreca", "domicilio", "domicili", "street",
                     "street address", "calle", "carrer", "via", "ubicacion", "location address",
                     "direccion postal", "adreca postal", "full address", "addr"], "address"),
    **dict.fromkeys(["postcode", "post code", "postal code", "postalcode", "zip", "zip code",
                     "zipcode", "cp", "c p", "codigo postal", "codi postal", "cod postal",
                     "postal"], "postcode"),
    **dict.fromkeys(["lat", "latitude", "latitud", "y lat", "lat wgs84", "latitud wgs84",
                     "geo epgs 4326 lat", "geo epsg 4326 lat"], "lat"),
    **dict.fromkeys(["lon", "lng", "long", "longitude", "longitud", "x lon", "lon wgs84",
                     "longitud wgs84", "geo epgs 4326 lon", "geo epsg 4326 lon"], "lon"),
    **dict.fromkeys(["innovation type", "innovation", "type", "tipo", "tipus",
                     "tipo de innovacion", "tipus d innovacio", "tipus innovacio",
                     "tipo innovacion", "innovacion", "innovacio", "innovation class",
                     "innovation level", "nivel de innovacion", "nivell d innovacio",
                     "innovation category", "categoria de innovacion",
                     "categoria d innovacio"], "innovation_type"),
}

#: Synonyms too generic to trust blindly: if most of the column's values are not innovation
#: types, the column is carried through instead (with an ``unmapped_column`` warning).
_WEAK_SYNONYMS = {"type", "tipo", "tipus"}
_UNIT_TOKENS = {"wgs84", "wgs", "84", "4326", "epsg", "deg", "degrees", "graus", "grados",
                "dd", "decimal", "decimal degrees"}

_MAX_FIELD = 100_000  # characters; longer fields are errors, not silently truncated
_BLANK_TYPES = {"", "na", "n a", "none", "null", "nan", "unclassified", "not classified",
                "sin clasificar", "no clasificado", "sense classificar", "no classificat",
                "unknown", "desconocido", "desconegut"}
_NEGATIONS = {"no", "not", "non", "sin", "sense", "without", "ninguna", "cap", "ni"}
_INTENSIFIERS = {"highly", "very", "high", "muy", "altamente", "alta", "alto", "molt",
                 "altament", "alt", "super", "elevada", "elevado", "elevat"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3}
_TYPE_WORDS = {"type", "tipo", "tipus", "level", "nivel", "nivell", "class", "clase", "classe",
               "category", "categoria"}

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of the inventory check.

    Attributes
    ----------
    file
        Inventory file name.
    row
        Spreadsheet row (header = 1), or ``None`` for file-level problems.
    column
        Column as written in the file's header (or the canonical name), or ``None``.
    severity
        ``"error"`` stops a build; ``"warning"`` is reported and the row is kept.
    code
        Stable machine-readable code, e.g. ``"duplicate_id"``.
    message
        Human-readable explanation, with the offending value.
    """

    file: str
    row: int | None
    column: str | None
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.severity}: {self.message} [{self.code}]"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _row_ranges(rows: Sequence[int], limit: int = 12) -> str:
    """Compress sorted row numbers: ``2-17, 19, 21-40, …``."""
    spans: list[str] = []
    uniq = sorted(set(rows))
    i = 0
    while i < len(uniq):
        j = i
        while j + 1 < len(uniq) and uniq[j + 1] == uniq[j] + 1:
            j += 1
        spans.append(str(uniq[i]) if i == j else f"{uniq[i]}-{uniq[j]}")
        i = j + 1
    if len(spans) > limit:
        return ", ".join(spans[:limit]) + ", …"
    return ", ".join(spans)


@dataclass
class Inventory:
    """A parsed inventory: canonical table plus every problem found.

    Attributes
    ----------
    path
        The file read.
    data
        One row per usable input row (empty rows and rows with errors excluded), canonical
        columns first, then the file's other columns, then ``source_row`` (spreadsheet row).
    problems
        Every error and warning: file-level problems first, then by row and column.
    n_input_rows
        Data rows in the file (header excluded), empty ones included, trailing empty ones not.
    columns_map
        File header -> canonical name for the mapped columns.
    details
        How the file was read: ``format``, and where they apply ``encoding``, ``delimiter``,
        ``sheet``/``layer`` and ``header_row``.
    """

    path: Path
    data: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    n_input_rows: int = 0
    columns_map: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop a build."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported but keep the row."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def codes(self, severity: Severity | None = None) -> dict[str, int]:
        """Return how many problems there are of each code (optionally of one severity)."""
        out: dict[str, int] = {}
        for p in self.problems:
            if severity is None or p.severity == severity:
                out[p.code] = out.get(p.code, 0) + 1
        return out

    def report(self, max_per_code: int | None = 5) -> str:
        """Return a plain-text QA report, grouped by problem code.

        Errors come first, then warnings; each code shows its first ``max_per_code``
        problems, then one line ``… and N more rows with [code] (rows …)``. :attr:`problems`
        always keeps every problem.

        Parameters
        ----------
        max_per_code
            Problems shown per code; ``None`` shows them all.

        Returns
        -------
        str
        """
        lines = [f"{self.path.name}: {_plural(self.n_input_rows, 'data row')}, "
                 f"{len(self.data):,} usable, {_plural(len(self.errors), 'error')}, "
                 f"{_plural(len(self.warnings), 'warning')}"]
        d = getattr(self, "details", None) or {}  # absent in inventories pickled by 0.1.0
        if d.get("format"):
            how = [str(d["format"]).upper()]
            if d.get("encoding"):
                how.append(f"encoding {d['encoding']}")
            if d.get("delimiter"):
                how.append(f"delimiter {_delim_name(d['delimiter'])}")
            for key in ("sheet", "layer"):
                if d.get(key):
                    how.append(f"{key} '{d[key]}'")
            if d.get("header_row"):
                how.append(f"header on row {d['header_row']}")
            lines.append("  read as " + ", ".join(how))
        mapped = ", ".join(f"'{k}'->{v}" for k, v in self.columns_map.items() if k != v)
        if mapped:
            lines.append(f"  columns mapped: {mapped}")
        lines += format_problems(self.problems, max_per_code)
        return "\n".join(lines)


def format_problems(problems: Sequence[Problem], max_per_code: int | None = 5,
                    severities: Sequence[Severity] = ("error", "warning")) -> list[str]:
    """Format problems grouped by severity and code, as in :meth:`Inventory.report`.

    Parameters
    ----------
    problems
        Problems in file order.
    max_per_code
        Problems shown per code before one "… and N more rows" line; ``None`` shows all.
    severities
        Severities to include, in this order.

    Returns
    -------
    list of str
        Indented lines.
    """
    lines: list[str] = []
    for severity in severities:
        groups: dict[str, list[Problem]] = {}
        for p in problems:
            if p.severity == severity:
                groups.setdefault(p.code, []).append(p)
        if not groups:
            continue
        lines.append(f"  {severity}s:")
        for code, probs in groups.items():
            shown = probs if max_per_code is None else probs[:max_per_code]
            lines += [f"    {p}" for p in shown]
            rest = probs[len(shown):]
            if rest:
                rows = [p.row for p in rest if p.row is not None]
                where = f" (rows {_row_ranges(rows)})" if rows else ""
                lines.append(f"    … and {len(rest):,} more rows with [{code}]{where}")
    return lines


def _delim_name(d: str) -> str:
    return {"\t": "tab", ",": "',' (comma)", ";": "';' (semicolon)", "|": "'|' (pipe)"}.get(
        d, repr(d))


# ---------------------------------------------------------------------------------------
# Innovation types
# ---------------------------------------------------------------------------------------
_fold = fold


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
    text = _fold(raw)
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


def innovation_label(value: int | None) -> str:
    """Return the label of an innovation type (``None``/NA -> ``"unclassified"``)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return INNOVATION_LABELS[None]
    try:
        return INNOVATION_LABELS[int(value)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{value!r} is not an innovation type (1, 2, 3 or None)") from None


# ---------------------------------------------------------------------------------------
# Problem collection
# ---------------------------------------------------------------------------------------
class _Collector:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.summary: list[Problem] = []

    def add(self, severity: Severity, code: str, message: str, row: int | None = None,
            column: str | None = None) -> None:
        self.problems.append(Problem(self.file, row, column, severity, code, message))

    def error(self, code: str, message: str, row: int | None = None,
              column: str | None = None) -> None:
        self.add("error", code, message, row, column)

    def warning(self, code: str, message: str, row: int | None = None,
                column: str | None = None) -> None:
        self.add("warning", code, message, row, column)

    def sorted(self, column_order: Mapping[str, int]) -> list[Problem]:
        """File-level problems first, then by row and column (stable), then summaries."""
        big = len(column_order) + 1

        def key(p: Problem) -> tuple[int, int, int]:
            if p.row is None:
                return (0, 0, 0)
            col = -1 if p.column is None else column_order.get(p.column, big)
            return (1, p.row, col)

        return sorted(self.problems, key=key) + self.summary


# ---------------------------------------------------------------------------------------
# Reading raw tables
# ---------------------------------------------------------------------------------------
@dataclass
class _Table:
    """Raw records as text, before the header is chosen."""

    records: list[list[str]]
    numbers: list[int]                       # spreadsheet row number of each record
    fmt: str
    details: dict[str, Any] = field(default_factory=dict)
    geometry: list[tuple[float, float] | None] | None = None  # aligned with records
    fixed_header: bool = False               # vector/JSON input: the first record is the header
    delimited: bool = False                  # CSV: row lengths matter
    delimiter: str = ","


_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"MZ\x90\x00", "a Windows program"),
    (b"PAR1\x15", "a Parquet file"),
    (b"{\\rtf", "an RTF document"),
]


def _sniff_format(path: Path, head: bytes) -> tuple[str, str | None]:
    """Return (format, what): format is xlsx, sqlite, vector, binary or text."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except Exception as exc:  # BadZipFile, NotImplementedError, OSError, ...
            return "binary", f"a damaged or truncated ZIP/XLSX file ({exc})"
        if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
            return "xlsx", None
        if "content.xml" in names and "mimetype" in names:
            return "binary", "an OpenDocument file (.ods): save it as .xlsx or .csv"
        if any(n.startswith("word/") for n in names):
            return "binary", "a Word document"
        return "binary", "a ZIP archive (unzip it first)"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "binary", ("an old Excel .xls workbook or a password-protected workbook: save "
                          "it (without password) as .xlsx or .csv")
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite", None
    if head.startswith(b"fgb\x03"):
        return "vector", None
    if head[:4] == b"\x00\x00\x27\x0a":
        return "vector", None
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return "binary", what
    return "text", None


def _decode(data: bytes, col: _Collector) -> tuple[str, str] | None:
    """Return (text, encoding) or None (and an error) when this is not text."""
    boms = [(b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
            (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"),
            (b"\xfe\xff", "utf-16-be")]
    for bom, enc in boms:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc.replace("-sig", "")), enc.replace(
                    "-le", "").replace("-be", "")
            except UnicodeDecodeError as exc:
                if enc == "utf-8-sig":
                    break  # a UTF-8 BOM followed by bad bytes: handled below
                col.error("bad_encoding", f"the file starts with a {enc} byte-order mark but "
                          f"is not valid {enc} ({exc.reason} at byte {exc.start})")
                return None
    sample = data[:65536]
    if sample.count(0) > max(8, len(sample) // 50):
        half = max(1, len(sample) // 2)
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        for enc, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
            if zeros > 0.3 * half and other < 0.05 * half:
                try:
                    text = data[: len(data) // 2 * 2].decode(enc)
                except UnicodeDecodeError:
                    break
                col.warning("encoding", f"the file is {enc.upper()} without a byte-order mark; "
                            "read as such")
                return text, enc
        col.error("not_a_table", "this is not a text table (NUL bytes found): save it as CSV, "
                  "XLSX or GeoJSON")
        return None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    replaced = body.decode("utf-8", errors="replace")
    n_bad = replaced.count("\ufffd") - body.count(b"\xef\xbf\xbd")
    n_good = len(re.findall(r"[^\x00-\x7f\ufffd]", replaced))
    if n_good >= n_bad:
        col.warning("encoding", f"{_plural(n_bad, 'invalid UTF-8 byte sequence')} replaced by "
                    "'�' (the affected cells are listed as bad_bytes); re-save the file as UTF-8")
        return replaced, "utf-8 (with invalid bytes)"
    try:
        text, encoding = body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = body.decode("latin-1"), "latin-1"
    head = text[:65536]
    controls = sum(1 for ch in head if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > max(10, len(head) // 100):
        col.error("not_a_table", "this is not a text table (control bytes found): save it as "
                  "CSV, XLSX or GeoJSON")
        return None
    col.warning("encoding", f"the file is not UTF-8; read as {encoding} (Windows/Latin-1); "
                "check accented letters, or re-save it as UTF-8")
    return text, encoding


def _header_score(fields: Sequence[str], explicit: Mapping[str, str]) -> int:
    return len({_canonical_for(h, explicit) for h in fields} - {None})


def _sniff_delimiter(text: str, explicit: Mapping[str, str]) -> str:
    sample = text[:200_000]
    cut = sample.rfind("\n")
    if len(text) > len(sample) and cut > 0:
        sample = sample[:cut]
    best, best_score = ",", (-1, -1.0, -1)
    for d in (",", ";", "\t", "|"):
        try:
            recs = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=d)
                    if any(c.strip() for c in r)][:50]
        except csv.Error:
            continue
        if not recs:
            continue
        widths = [len(r) for r in recs]
        mode = max(set(widths), key=widths.count)
        consistency = widths.count(mode) / len(widths) if mode > 1 else 0.0
        known = max(_header_score(r, explicit) for r in recs[:10])
        score = (known, consistency, mode)
        if score > best_score:
            best, best_score = d, score
    return best


def _read_csv(path: Path, col: _Collector, explicit: Mapping[str, str]) -> _Table | None:
    data = path.read_bytes()
    decoded = _decode(data, col)
    if decoded is None:
        return None
    text, encoding = decoded
    if "\x00" in text:
        col.warning("nul_bytes", f"{_plural(text.count(chr(0)), 'NUL character')} removed")
        text = text.replace("\x00", "")
    if not text.strip():
        col.error("empty_file", "the file is empty (or only whitespace)")
        return None
    stripped = text.lstrip()
    json_name = path.suffix.lower() in _JSON_SUFFIXES
    if stripped[:1] in ("{", "[") or json_name:
        try:
            obj = json.loads(text, parse_constant=str)  # NaN/Infinity stay visible as text
        except (json.JSONDecodeError, RecursionError) as exc:
            # "[id],[name]" is a CSV header, "{..." and *.json files are broken JSON
            if json_name or stripped[:1] == "{":
                where = (f" at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                         if isinstance(exc, json.JSONDecodeError) else ": nested too deeply")
                col.error("bad_json", f"invalid JSON{where}")
                return None
        else:
            table = _json_table(obj, col)
            if table is not None:
                table.details["encoding"] = encoding
            return table
    low = stripped[:200].lower()
    if low.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        what = "an XML document" if low.startswith("<?xml") else "an HTML page"
        col.error("not_a_table", f"this is {what}, not a table (a web page saved instead of "
                  "the download?)")
        return None
    delimiter = _sniff_delimiter(text, explicit)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:  # pragma: no cover - non-strict readers hardly ever fail
        col.error("bad_csv", f"cannot parse the file as CSV: {exc}")
        return None
    return _Table(records, list(range(1, len(records) + 1)), "csv",
                  {"encoding": encoding, "delimiter": delimiter}, delimited=True,
                  delimiter=delimiter)


def _cell_text(v: Any) -> str:
    """Turn a spreadsheet/JSON/vector cell into text without losing its meaning."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, str):
        return v.replace("\x00", "")
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return ""
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False, default=str)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    text = getattr(v, "text", None)  # openpyxl ArrayFormula / DataTableFormula
    if isinstance(text, str):
        return text
    return str(v)


def _read_xlsx(path: Path, col: _Collector, sheet: str | None) -> _Table | None:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(path.read_bytes()), read_only=True,
                                        data_only=False)
    except Exception as exc:  # openpyxl raises many types on corrupt files
        col.error("not_a_table", f"not a readable XLSX workbook ({type(exc).__name__}: {exc})")
        return None
    try:
        names = list(wb.sheetnames)
        if sheet is not None and sheet not in names:
            close = [n for n in names if n.strip().lower() == str(sheet).strip().lower()]
            if len(close) == 1:
                col.warning("sheet_name", f"worksheet {sheet!r} not found; using {close[0]!r}")
                sheet = close[0]
            else:
                col.error("missing_sheet", f"worksheet {sheet!r} not found; the workbook has "
                          f"{', '.join(repr(n) for n in names)}")
                return None
        name = sheet if sheet is not None else names[0]
        ws = wb[name]
        if not hasattr(ws, "iter_rows"):
            col.error("missing_sheet", f"sheet {name!r} is a chart, not a table")
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ws.reset_dimensions()
            records = [[_cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    except Exception as exc:  # corrupt sheet XML, zip errors, ...
        col.error("not_a_table", f"cannot read the XLSX workbook ({type(exc).__name__}: {exc})")
        return None
    finally:
        wb.close()
    if not any(any(c.strip() for c in r) for r in records):
        others = [n for n in names if n != name]
        hint = (f"; the workbook also has {', '.join(repr(n) for n in others)}: choose one "
                "with the sheet option") if others else ""
        col.error("empty_file", f"worksheet {name!r} is empty{hint}")
        return None
    width = max(len(r) for r in records)
    records = [r + [""] * (width - len(r)) for r in records]
    return _Table(records, list(range(1, len(records) + 1)), "xlsx", {"sheet": name})


def _geometry_point(geom: Any, row: int, col: _Collector) -> tuple[float, float] | None:
    """Return (lat, lon) of a shapely geometry (representative point if not a point)."""
    if geom is None or geom.is_empty:
        return None
    try:
        if geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if geom.geom_type != "Point":
            col.warning("not_a_point", f"{geom.geom_type} geometry: its representative point "
                        "is used", row=row, column="geometry")
            geom = geom.representative_point()
        x, y = float(geom.x), float(geom.y)
    except Exception as exc:  # GEOS errors on invalid geometries
        col.error("bad_geometry", f"unusable geometry ({type(exc).__name__}: {exc})", row=row,
                  column="geometry")
        return (math.nan, math.inf)  # marker: an error was already reported
    return (y, x)


def _json_table(obj: Any, col: _Collector) -> _Table | None:
    """Read GeoJSON (FeatureCollection/Feature), a list of records or a list of rows."""
    features: list[Any]
    geo = False
    if isinstance(obj, list) and obj and all(isinstance(o, list) for o in obj):
        records = [[_cell_text(v) for v in r] for r in obj]
        width = max(len(r) for r in records)
        records = [r + [""] * (width - len(r)) for r in records]
        return _Table(records, list(range(1, len(records) + 1)), "json")
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features, geo = obj.get("features"), True
        if not isinstance(features, list):
            col.error("bad_json", "the FeatureCollection has no 'features' list")
            return None
    elif isinstance(obj, dict) and obj.get("type") == "Feature":
        features, geo = [obj], True
    elif isinstance(obj, list) and all(isinstance(o, dict) for o in obj):
        features = obj
    else:
        col.error("not_a_table", "this JSON is neither a GeoJSON FeatureCollection nor a list "
                  "of records or rows")
        return None
    if not features:
        col.error("no_rows", "the file has no features/records")
        return None
    transform = _geojson_transformer(obj, col) if geo else None
    if transform is False:
        return None
    import shapely
    import shapely.geometry

    props_list: list[dict[str, Any]] = []
    latlon: list[tuple[float, float] | None] = []
    for k, feat in enumerate(features):
        row = k + 2
        if not isinstance(feat, dict):
            col.error("bad_feature", f"feature {k} is not a JSON object", row=row)
            props_list.append({})
            latlon.append(None)
            continue
        if geo:
            props = feat.get("properties")
            if props is None:
                props = {}
            if not isinstance(props, dict):
                col.error("bad_feature", "'properties' is not an object", row=row)
                props = {}
            props = dict(props)
            if "id" in feat and not any(_canonical_for(key, {}) == "id" for key in props):
                props = {"id": feat["id"], **props}
            gj = feat.get("geometry")
            point = None
            if gj is not None:
                try:
                    geom = shapely.geometry.shape(gj)
                    if transform is not None and not geom.is_empty:
                        geom = shapely.transform(geom, transform, interleaved=False)
                except Exception as exc:  # shapely raises several types on bad GeoJSON
                    col.error("bad_geometry", f"invalid GeoJSON geometry "
                              f"{_cell_text(gj)[:80]} ({type(exc).__name__}: {exc})", row=row,
                              column="geometry")
                    point = (math.nan, math.inf)
                else:
                    point = _geometry_point(geom, row, col)
            latlon.append(point)
        else:
            props = feat
            latlon.append(None)
        props_list.append(props)
    header: list[str] = []
    seen: set[str] = set()
    for props in props_list:
        for key in props:
            if key not in seen:
                seen.add(key)
                header.append(str(key))
    records = [header] + [[_cell_text(p.get(h)) for h in header] for p in props_list]
    return _Table(records, list(range(1, len(records) + 1)), "geojson" if geo else "json",
                  {}, geometry=[None, *latlon] if geo else None, fixed_header=True)


def _geojson_transformer(obj: Any, col: _Collector) -> Any:
    """Return None (WGS84), a coordinate transform function, or False on a bad CRS."""
    crs = obj.get("crs") if isinstance(obj, dict) else None
    if not crs:
        return None
    try:
        name = crs["properties"]["name"]
        from pyproj import CRS, Transformer

        src = CRS.from_user_input(name)
        if src.equals(CRS.from_epsg(4326), ignore_axis_order=True):
            return None
        return Transformer.from_crs(src, settings.crs_store, always_xy=True).transform
    except Exception as exc:  # malformed member or unknown CRS
        col.error("bad_crs", f"cannot use the GeoJSON 'crs' member {crs!r} ({exc})")
        return False


def _read_vector(path: Path, col: _Collector, layer: str | None) -> _Table | None:
    import geopandas as gpd
    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = [str(x[0]) for x in pyogrio.list_layers(path)]
            if layer is not None and layer not in layers:
                col.error("missing_sheet", f"layer {layer!r} not found; the file has "
                          f"{', '.join(repr(n) for n in layers)}")
                return None
            name = layer if layer is not None else (layers[0] if layers else None)
            gdf = gpd.read_file(path, layer=name, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL errors come in many types
        col.error("not_a_table", f"not a readable vector file ({type(exc).__name__}: {exc})")
        return None
    if gdf.empty:
        col.error("no_rows", f"layer {name!r} has no features")
        return None
    header = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    try:
        if gdf.crs is not None:
            gdf = gdf.to_crs(settings.crs_store)
    except Exception as exc:  # unknown or broken CRS
        col.error("bad_crs", f"cannot convert the layer's CRS to WGS84 ({exc})")
        return None
    latlon = [_geometry_point(g, i, col) for i, g in enumerate(gdf.geometry, start=2)]
    values = gdf[[c for c in gdf.columns if c != gdf.geometry.name]].to_numpy(dtype=object)
    records = [header] + [[_cell_text(v) for v in r] for r in values.tolist()]
    return _Table(records, list(range(1, len(records) + 1)), path.suffix.lower().lstrip("."),
                  {"layer": name}, geometry=[None, *latlon], fixed_header=True)


# ---------------------------------------------------------------------------------------
# Header mapping
# ---------------------------------------------------------------------------------------
def _canonical_for(header: str, explicit: Mapping[str, str]) -> str | None:
    """Canonical column a header maps to (explicit mapping first, then synonyms)."""
    f = _fold(header)
    if not f:
        return None
    if f in explicit:
        return explicit[f]
    if f in HEADER_SYNONYMS:
        return HEADER_SYNONYMS[f]
    # "Latitude (WGS84)", "lat [deg]", "Longitud ETRS89"...: drop units and parentheses
    base = _fold(re.split(r"[(\[]", header, maxsplit=1)[0])
    if base in HEADER_SYNONYMS:
        return HEADER_SYNONYMS[base]
    tokens = f.split()
    while tokens and tokens[-1] in _UNIT_TOKENS:
        tokens.pop()
    return HEADER_SYNONYMS.get(" ".join(tokens))


def _find_header(table: _Table, explicit: Mapping[str, str], col: _Collector) -> int | None:
    """Index of the header record (see the module docstring), or None if all are empty."""
    nonempty = list(itertools.islice(
        (i for i, r in enumerate(table.records) if "".join(r).strip()), 20))
    if not nonempty:
        return None
    if table.fixed_header:
        return 0
    first = nonempty[0]
    for i in nonempty[:20]:
        names = {_canonical_for(c, explicit) for c in table.records[i]}
        if {"id", "name"} <= names or len(names - {None}) >= 3:
            if i != first:
                above = [j for j in nonempty if j < i]
                shown = "; ".join(
                    repr(" ".join(c for c in table.records[j] if c.strip())[:60])
                    for j in above[:3])
                col.warning("rows_above_header", f"the header is on row {table.numbers[i]}; "
                            f"{_plural(len(above), 'row')} above it ignored: {shown}",
                            row=table.numbers[i])
            return i
    return first


@dataclass
class _Mapping:
    out_name: dict[int, str]      # column index -> output column (canonical or carried)
    canon: dict[str, int]         # canonical column -> column index
    label: dict[int, str]         # column index -> header as written (for messages)
    weak: set[int] = field(default_factory=set)


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    k = 2
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _map_headers(header: Sequence[str], explicit: Mapping[str, str], ignore: Iterable[str],
                 col: _Collector, header_row: int,
                 column_has_data: Callable[[int], bool]) -> _Mapping | None:
    """Map header cells to output columns; None when a fatal problem was reported."""
    ignore = list(ignore)
    ignore_f = {_fold(str(c)) for c in ignore}
    explicit_f: dict[str, str] = {}
    fatal = False
    folded = [_fold(h) for h in header]
    for src, dst in explicit.items():
        if dst not in CANONICAL_COLUMNS:
            hint = ""
            if src in CANONICAL_COLUMNS and _fold(str(dst)) in folded:
                hint = f"; did you mean {{{dst!r}: {src!r}}} (file header -> canonical name)?"
            col.error("bad_mapping", f"column mapping {src!r} -> {dst!r}: {dst!r} is not one of "
                      f"{', '.join(CANONICAL_COLUMNS)}{hint}", column=str(src))
            fatal = True
            continue
        if _fold(str(src)) not in folded:
            col.error("bad_mapping", f"column mapping names {src!r}, which is not in the header "
                      f"({', '.join(repr(h) for h in header if h)})", column=str(src))
            fatal = True
            continue
        explicit_f[_fold(str(src))] = dst
    for name in ignore:
        if _fold(str(name)) not in folded:
            col.warning("bad_mapping", f"ignore_columns names {name!r}, which is not in the "
                        "header", column=str(name))
    claimed = set(explicit_f.values())
    out: dict[int, str] = {}
    canon: dict[str, int] = {}
    label: dict[int, str] = {}
    weak: set[int] = set()
    carried: list[int] = []
    for i, (raw, f) in enumerate(zip(header, folded, strict=True)):
        if (f and f in ignore_f) or raw in ignore:
            continue
        label[i] = raw or f"column_{i + 1}"
        if not raw.strip():
            if column_has_data(i):
                col.warning("blank_header", f"column {i + 1} has values but no header; carried "
                            f"through as 'column_{i + 1}'", row=header_row,
                            column=f"column_{i + 1}")
                carried.append(i)
            continue
        target = explicit_f.get(f)
        if target is None:
            syn = _canonical_for(raw, {})
            if syn is not None and syn in claimed:
                col.warning("shadowed_column", f"column {raw!r} is not used as '{syn}' because "
                            f"the column mapping maps another column to '{syn}'; it is carried "
                            "through", row=header_row, column=raw)
            elif syn is not None:
                target = syn
                if f in _WEAK_SYNONYMS:
                    weak.add(i)
        if target is None:
            carried.append(i)
            continue
        if target in canon and (i in weak or canon[target] in weak):
            # a generic header ("Type") yields to a specific one ("Innovation type")
            loser = i if i in weak else canon[target]
            weak.discard(loser)
            carried.append(loser)
            out.pop(loser, None)
            if loser == i:
                continue
        elif target in canon:
            first = header[canon[target]]
            col.error("duplicate_column", f"columns {first!r} and {raw!r} both map to "
                      f"'{target}'; rename one, drop one (ignore_columns) or give an explicit "
                      "column mapping", row=header_row, column=raw)
            fatal = True
            continue
        canon[target] = i
        out[i] = target
    taken = {*CANONICAL_COLUMNS, "source_row"}
    raw_seen: dict[str, int] = {}
    carried.sort()
    for i in carried:
        raw = header[i].strip() or f"column_{i + 1}"
        if raw in raw_seen:
            col.warning("duplicate_header", f"the header {raw!r} appears twice (also column "
                        f"{raw_seen[raw] + 1}); this one is carried through as "
                        f"{_unique(raw, taken)!r}", row=header_row, column=raw)
        else:
            raw_seen[raw] = i
        name = _unique(raw, taken)
        taken.add(name)
        out[i] = name
    single = ""
    if len(header) == 1 and re.search(r"[^\w\s'’-]", header[0]):
        single = (f"; the header was read as the single column {header[0][:60]!r}: separate "
                  "columns with ',', ';', tab or '|'")
    for req in ("id", "name"):
        if req not in canon:
            accepted = ", ".join(sorted(k for k, v in HEADER_SYNONYMS.items() if v == req))
            col.error("missing_column", f"required column '{req}' is missing (accepted "
                      f"headers: {accepted}; or give an explicit column mapping){single}",
                      row=header_row, column=req)
            fatal = True
    if ("lat" in canon) != ("lon" in canon):
        have, miss = ("lat", "lon") if "lat" in canon else ("lon", "lat")
        col.error("missing_column", f"column {header[canon[have]]!r} ({have}) has no matching "
                  f"'{miss}' column", row=header_row, column=miss)
        fatal = True
    return None if fatal else _Mapping(out, canon, label, weak)


# ---------------------------------------------------------------------------------------
# Cell validation (column-wise: fast on 100k rows, exact messages for the flagged cells)
# ---------------------------------------------------------------------------------------
_NUM_RE = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_WS_RE = re.compile(r"\s+")
_CTRL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_FORMULA_RE = re.compile(r"=|[+\-@](?![\d\s().\-/]*$)")
_MARKUP_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>\x00]*>|<\s*script", re.IGNORECASE)
_UNSAFE_URL_RE = re.compile(r"(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_MOJIBAKE_RE = re.compile(r"Ã[\u0080-\u00bf]|Â[\u00a0-\u00bf]|â€")


def _clean(v: str) -> str:
    """Trim, drop control and zero-width characters, collapse whitespace runs."""
    if v.isprintable() and "  " not in v and v == v.strip():
        return v
    v = _CTRL_RE.sub("", v.translate(_ZERO_WIDTH))
    return _WS_RE.sub(" ", v).strip()


def _clean_column(values: list[str]) -> list[str]:
    """Apply :func:`_clean` to a column, with a whole-column fast path for clean text."""
    if all(map(str.isprintable, values)):
        joined = "\n" + "\n".join(values) + "\n"
        if "  " not in joined and "\n " not in joined and " \n" not in joined:
            return list(values)
    return [_clean(v) for v in values]


# Cheap substring tests on the whole column decide whether a regex scan is needed at all.
_SCANS: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = {
    "start": (("\x00=", "\x00+", "\x00-", "\x00@"), re.compile(r"\x00[=+\-@]")),
    "markup": (("<",), re.compile("<")),
    "url": (("script", "data"), re.compile(r"(?i)script|data")),
    "mojibake": (("Ã", "Â", "â€"), re.compile("[ÃÂ]|â€")),
    "bad_bytes": (("\ufffd",), re.compile("\ufffd")),
}


def _candidates(values: Sequence[str], scans: Iterable[str]) -> list[int]:
    """Return the indices of the cells that may fail one of the ``scans`` (a superset)."""
    if not values:
        return []
    joined = "\x00" + "\x00".join(values)
    lowered: str | None = None
    starts: list[int] = []
    for name in scans:
        needles, pattern = _SCANS[name]
        hay = joined
        if name == "url":
            lowered = lowered if lowered is not None else joined.lower()
            hay = lowered
        if any(nd in hay for nd in needles):
            starts += [m.start() for m in pattern.finditer(hay)]
    if not starts:
        return []
    ends = np.cumsum([len(v) + 1 for v in values])
    return sorted(set(np.searchsorted(ends, starts, side="right").tolist()))


_COLUMN_OF_NUMBERS = re.compile(r"(?:[+-]?+\d++(?:[.,]\d*+)?+(?:[eE][+-]?+\d++)?+)?+"
                                r"(?:\n(?:[+-]?+\d++(?:[.,]\d*+)?+(?:[eE][+-]?+\d++)?+)?+)*+")


def _parse_coord_column(values: list[str]) -> tuple[np.ndarray, dict[int, str]]:
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
                out[k] = _parse_coord(v)
            except ValueError as exc:
                errors[k] = str(exc)
    return out, errors


def _parse_coord(text: str) -> float:
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


def _normalise_postcode(text: str) -> str | None:
    m = re.fullmatch(r"(\d{4,5})[.,]0+", text)
    digits = m.group(1) if m else re.sub(r"\D", "", text)
    if len(digits) == 4:
        digits = "0" + digits
    return digits if len(digits) == 5 else None


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _in_bbox(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    west, south, east, north = settings.city_bbox
    with np.errstate(invalid="ignore"):
        return (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)


def _boundary_geometry(boundary: Any) -> Any:
    """Return a shapely geometry in EPSG:4326 from a geometry, GeoSeries or GeoDataFrame."""
    if boundary is None:
        return None
    if hasattr(boundary, "to_crs"):
        if getattr(boundary, "crs", None) is not None:
            boundary = boundary.to_crs(settings.crs_store)
        return boundary.union_all() if hasattr(boundary, "union_all") else boundary
    return boundary


def _validate(rows: list[list[str]], numbers: list[int], geometry: list[Any] | None,
              mp: _Mapping, width: int, table: _Table, col: _Collector,
              boundary: Any) -> tuple[pd.DataFrame, int]:
    """Validate data rows; return (usable rows as the canonical frame, usable row count)."""
    n = len(rows)
    lab = mp.label
    empty = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    structural = np.zeros(n, dtype=bool)  # rows whose cells are shifted: no cell checks
    reported = {p.row for p in col.problems}  # e.g. bad GeoJSON features
    padded: list[list[str]] = []
    delims = [d for d in (",", ";", "\t", "|") if d != table.delimiter]
    for k, r in enumerate(rows):
        if len(r) == width and r and r[0] and not r[0].isspace():
            padded.append(r)  # fast path: a full-width row with an id-like first cell
            continue
        if not "".join(r).strip():
            empty[k] = geometry is None or geometry[k] is None
            if empty[k]:
                if numbers[k] not in reported:
                    col.warning("empty_row", "empty row skipped", row=numbers[k])
                padded.append([""] * width)
                continue
        if len(r) != width:
            if len(r) > width:
                extra = [x for x in r[width:] if x.strip()]
                if extra:
                    shown = ", ".join(repr(x[:30]) for x in r[:6]) + (", …" if len(r) > 6
                                                                      else "")
                    d = _delim_name(table.delimiter) if table.delimited else "value"
                    col.error("extra_fields", f"{len(r)} fields but the header has {width} "
                              f"({shown}): a {d} inside an unquoted value? Put that value in "
                              "double quotes", row=numbers[k])
                    bad[k] = structural[k] = True
                r = r[:width]
            else:
                if table.delimited:
                    line = table.delimiter.join(r)
                    other = next((d for d in delims if len(r) <= 2 and len(next(csv.reader(
                        io.StringIO(line, newline=""), delimiter=d), [])) >= max(3, width - 1)),
                        None)
                    if other is not None:
                        col.error("mixed_delimiter", f"this row is separated by "
                                  f"{_delim_name(other)} but the file uses "
                                  f"{_delim_name(table.delimiter)}", row=numbers[k])
                        bad[k] = structural[k] = True
                    else:
                        col.warning("short_row", f"{len(r)} of {width} fields; the missing "
                                    "values are read as blank", row=numbers[k])
                r = r + [""] * (width - len(r))
        padded.append(r)
    columns: list[list[str]] = [list(c) for c in zip(*padded, strict=True)] if n else \
        [[] for _ in range(width)]

    # ---- whole-cell checks on every kept column: huge fields, unclosed quotes, bad bytes
    for i in lab:
        values = columns[i]
        if values and max(map(len, values)) > _MAX_FIELD:
            for k in (k for k, v in enumerate(values) if len(v) > _MAX_FIELD):
                lines = values[k].split("\n")
                recordish = sum(1 for ln in lines
                                if ln.count(table.delimiter) >= max(1, width - 2))
                if table.delimited and len(lines) > 2 and recordish >= 2 and \
                        len(rows[k]) < width:
                    col.error("unbalanced_quote", f"a double quote opened in this value is "
                              f"never closed: it swallowed {len(lines) - 1:,} following lines "
                              f"({len(values[k]):,} characters)", row=numbers[k], column=lab[i])
                    structural[k] = True
                else:
                    col.error("huge_field", f"{len(values[k]):,} characters (limit "
                              f"{_MAX_FIELD:,})", row=numbers[k], column=lab[i])
                bad[k] = True
                values[k] = values[k][:200]
        if table.delimited and "\n" in "".join(values):
            for k in (k for k, v in enumerate(values)
                      if "\n" in v and not bad[k] and len(rows[k]) < width):
                lines = values[k].split("\n")
                recordish = sum(1 for ln in lines[1:]
                                if ln.count(table.delimiter) >= max(2, width - 1))
                if len(lines) > 2 and recordish >= 2:
                    col.error("unbalanced_quote", f"a double quote opened in this value is "
                              f"never closed: it swallowed {len(lines) - 1:,} following lines",
                              row=numbers[k], column=lab[i])
                    bad[k] = structural[k] = True
    if structural.any():  # the shifted rows' own short_row warnings would only mislead
        shifted = {numbers[k] for k in np.flatnonzero(structural)}
        col.problems = [p for p in col.problems
                        if not (p.code == "short_row" and p.row in shifted)]
    skip = empty | structural

    canon = mp.canon
    text_cols = [i for i in lab if mp.out_name.get(i) not in
                 ("lat", "lon", "postcode", "innovation_type")]
    clean: dict[int, list[str]] = {}
    for i in lab:
        if mp.out_name.get(i) in CANONICAL_COLUMNS:
            clean[i] = _clean_column(columns[i])
        else:
            clean[i] = [v.strip() for v in columns[i]]

    # ---- text checks: formula, markup, unsafe URL, mojibake, bad bytes (warnings)
    for i in lab:
        values = clean[i]
        scans = list(_SCANS) if i in text_cols else ["bad_bytes"]
        for k in _candidates(values, scans):
            if skip[k]:
                continue
            v = values[k]
            short = v if len(v) <= 60 else v[:57] + "..."
            if "\ufffd" in v:
                col.warning("bad_bytes", f"{short!r} contains invalid bytes (shown as '�')",
                            row=numbers[k], column=lab[i])
            if i not in text_cols:
                continue
            if _FORMULA_RE.match(v):
                col.warning("formula", f"{short!r} looks like a spreadsheet formula; it is kept "
                            "as plain text (never evaluated) and neutralised in CSV exports",
                            row=numbers[k], column=lab[i])
            if _MARKUP_RE.search(v):
                col.warning("markup", f"{short!r} contains HTML markup; it is kept verbatim as "
                            "text (maps escape it)", row=numbers[k], column=lab[i])
            if _UNSAFE_URL_RE.match(v.strip()):
                col.warning("unsafe_url", f"{short!r} is a script URL; it is kept as text but "
                            "must never be used as a link", row=numbers[k], column=lab[i])
            if _MOJIBAKE_RE.search(v):
                try:
                    fixed = v.encode("cp1252").decode("utf-8")
                    hint = f" (probably {fixed[:60]!r})"
                except UnicodeError:
                    hint = ""
                col.warning("mojibake", f"{short!r} looks like UTF-8 text decoded as Latin-1"
                            f"{hint}; kept as is", row=numbers[k], column=lab[i])

    def canon_values(c: str) -> list[str]:
        return clean[canon[c]] if c in canon else [""] * n

    # ---- id
    ids = canon_values("id")
    id_col = lab[canon["id"]]
    seen: dict[str, int] = {}
    for k, rid in enumerate(ids):
        if skip[k]:
            continue
        if not rid:
            col.error("missing_id", "the id is blank", row=numbers[k], column=id_col)
            bad[k] = True
        elif rid in seen:
            col.error("duplicate_id", f"id {rid!r} is already used on row {seen[rid]}",
                      row=numbers[k], column=id_col)
            bad[k] = True
        else:
            seen[rid] = numbers[k]
    # ---- name
    names = list(canon_values("name"))
    for k, nm in enumerate(names):
        if not nm and not skip[k]:
            col.warning("missing_name", "the name is blank; the id is shown instead",
                        row=numbers[k], column=lab[canon["name"]])
            names[k] = ids[k]

    # ---- coordinates
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    coord_bad = np.zeros(n, dtype=bool)
    for c, arr in (("lat", lat), ("lon", lon)):
        if c not in canon:
            continue
        arr[:], errors = _parse_coord_column(clean[canon[c]])
        for k, msg in errors.items():
            if skip[k]:
                continue
            col.error("bad_coordinate", msg, row=numbers[k], column=lab[canon[c]])
            coord_bad[k] = True
    lat_col = lab[canon["lat"]] if "lat" in canon else "geometry"
    lon_col = lab[canon["lon"]] if "lon" in canon else "geometry"
    if geometry is not None:
        for k, g in enumerate(geometry):
            if g is None:
                continue
            glat, glon = g
            if math.isinf(glon):  # geometry error already reported
                coord_bad[k] = True
                continue
            if math.isnan(lat[k]) and math.isnan(lon[k]) and not coord_bad[k]:
                lat[k], lon[k] = glat, glon
                if not (math.isfinite(glat) and math.isfinite(glon)):
                    col.error("bad_coordinate", "the geometry has non-finite coordinates",
                              row=numbers[k], column="geometry")
                    coord_bad[k] = True
            elif not coord_bad[k] and _haversine_km(lat[k], lon[k], glat, glon) > 0.1:
                col.warning("geometry_mismatch", f"the columns say ({lat[k]}, {lon[k]}) but the "
                            f"geometry is at ({glat}, {glon}); the columns are used",
                            row=numbers[k], column=lat_col)
    bad |= coord_bad
    has_lat, has_lon = ~np.isnan(lat), ~np.isnan(lon)
    for k in np.flatnonzero((has_lat != has_lon) & ~coord_bad & ~skip):
        missing, where = ("lat", lat_col) if not has_lat[k] else ("lon", lon_col)
        col.error("half_coordinate", f"{missing} is blank but the other coordinate is not",
                  row=numbers[k], column=where)
        bad[k] = True
    both = has_lat & has_lon & ~coord_bad & ~skip
    for k in np.flatnonzero(both & (lat == 0) & (lon == 0)):
        col.error("null_island", "coordinates 0, 0 are a placeholder, not a place",
                  row=numbers[k], column=lat_col)
        bad[k] = True
    both &= ~((lat == 0) & (lon == 0))
    swapped = both & _in_bbox(lon, lat) & ~_in_bbox(lat, lon)
    for k in np.flatnonzero(swapped):
        col.warning("swapped_coordinates", f"lat {lat[k]} and lon {lon[k]} look swapped; they "
                    "were swapped back", row=numbers[k], column=lat_col)
    lat[swapped], lon[swapped] = lon[swapped], lat[swapped].copy()
    with np.errstate(invalid="ignore"):
        lat_out = both & (np.abs(lat) > 90)
        lon_out = both & (np.abs(lon) > 180)
    for k in np.flatnonzero(lat_out | lon_out):
        hint = ""
        if abs(lat[k]) > 1000 or abs(lon[k]) > 1000:
            hint = ("; these look like projected metres (e.g. UTM, EPSG:25831): give WGS84 "
                    "decimal degrees")
        if lat_out[k]:
            col.error("coordinate_range", f"latitude {lat[k]} is outside -90..90{hint}",
                      row=numbers[k], column=lat_col)
        if lon_out[k]:
            col.error("coordinate_range", f"longitude {lon[k]} is outside -180..180{hint}",
                      row=numbers[k], column=lon_col)
        bad[k] = True
    valid = both & ~lat_out & ~lon_out
    inside = _in_bbox(lat, lon)
    west, south, east, north = settings.city_bbox
    clat, clon = (south + north) / 2, (west + east) / 2
    for k in np.flatnonzero(valid & ~inside):
        km = _haversine_km(lat[k], lon[k], clat, clon)
        hint = ""
        if _in_bbox(np.array([lat[k]]), np.array([-lon[k]]))[0]:
            hint = " (the longitude's sign looks wrong)"
        elif _in_bbox(np.array([-lat[k]]), np.array([lon[k]]))[0]:
            hint = " (the latitude's sign looks wrong)"
        col.warning("outside_city", f"({lat[k]}, {lon[k]}) is outside the study area, about "
                    f"{km:,.0f} km from its centre{hint}; the space is kept and flagged",
                    row=numbers[k], column=lat_col)
    geom = _boundary_geometry(boundary)
    if geom is not None:
        import shapely

        idx = np.flatnonzero(valid & inside)
        if len(idx):
            within = shapely.contains_xy(geom, lon[idx], lat[idx])
            for k in idx[~within]:
                col.warning("outside_city", f"({lat[k]}, {lon[k]}) is outside the city "
                            "boundary (in the sea or a neighbouring municipality?); the space "
                            "is kept and flagged", row=numbers[k], column=lat_col)

    # ---- postcode
    postcodes = list(canon_values("postcode"))
    if "postcode" in canon:
        cache: dict[str, str | None] = {}
        for k, pc in enumerate(postcodes):
            if not pc or skip[k]:
                continue
            if pc not in cache:
                cache[pc] = _normalise_postcode(pc)
            norm = cache[pc]
            if norm is None:
                col.warning("bad_postcode", f"{pc!r} is not a 5-digit postcode; ignored",
                            row=numbers[k], column=lab[canon["postcode"]])
            postcodes[k] = norm or ""

    # ---- innovation type
    itypes: list[int | None] = [None] * n
    if "innovation_type" in canon:
        ti = canon["innovation_type"]
        parsed: dict[str, int | ValueError | None] = {}
        for v in clean[ti]:
            if v and v not in parsed:
                try:
                    parsed[v] = parse_innovation_type(v)
                except ValueError as exc:
                    parsed[v] = exc
        for k, v in enumerate(clean[ti]):
            if not v or skip[k]:
                continue
            res = parsed[v]
            if isinstance(res, ValueError):
                col.error("unknown_type", str(res), row=numbers[k], column=lab[ti])
                bad[k] = True
            else:
                itypes[k] = res

    # ---- possible duplicates (same name and address under two ids)
    addresses = canon_values("address")
    if "address" in canon:
        first_at: dict[tuple[str, str], int] = {}
        for k, addr in enumerate(addresses):
            if not addr or skip[k] or not names[k]:
                continue
            key = (names[k].casefold(), addr.casefold())
            if key in first_at:
                j = first_at[key]
                col.warning("possible_duplicate", f"same name and address as row {numbers[j]} "
                            f"(id {ids[j]!r}): the same space twice?", row=numbers[k],
                            column=lab[canon["name"]])
            else:
                first_at[key] = k

    keep = np.flatnonzero(~empty & ~bad)
    # ---- no_location: one summary line instead of one warning per row
    noloc = [numbers[k] for k in keep if not addresses[k] and math.isnan(lat[k])]
    if noloc:
        rows_txt = (f"row {noloc[0]}" if len(noloc) == 1 else f"rows {_row_ranges(noloc)}")
        if "address" in canon or "lat" in canon or geometry is not None:
            verb = "has" if len(noloc) == 1 else "have"
            msg = (f"{len(noloc):,} of {len(keep):,} usable rows {verb} no address and no "
                   f"coordinates ({rows_txt}): only the name can locate them")
        else:
            msg = (f"the file has no address or coordinate column: only the name can locate "
                   f"the {_plural(len(noloc), 'usable row')} ({rows_txt})")
        col.summary.append(Problem(
            col.file, None, lab[canon["address"]] if "address" in canon else "address",
            "warning", "no_location", msg))

    def pick(values: Sequence[Any]) -> np.ndarray:
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        return arr[keep]

    data: dict[str, Any] = {
        "id": pick(ids),
        "name": pick(names),
        "address": pick(addresses),
        "postcode": pick(postcodes),
        "lat": lat[keep],
        "lon": lon[keep],
        "innovation_type": pick(itypes),
    }
    for i in sorted(mp.out_name):
        name = mp.out_name[i]
        if name not in CANONICAL_COLUMNS:
            data[name] = pick(clean[i])
    data["source_row"] = np.asarray(numbers, dtype=np.int64)[keep]
    return _frame(data), len(keep)


def _frame(data: Mapping[str, Any]) -> pd.DataFrame:
    """Build the canonical frame with stable dtypes (text as object)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(data["id"])))
    for name, values in data.items():
        if name in ("lat", "lon"):
            out[name] = np.asarray(values, dtype=float)
        elif name == "innovation_type":
            out[name] = pd.array([pd.NA if v is None else int(v) for v in values],
                                 dtype="Int64")
        elif name == "source_row":
            out[name] = np.asarray(values, dtype=np.int64)
        else:
            out[name] = pd.Series(list(values), dtype=object, index=out.index)
    return out


def _empty_frame() -> pd.DataFrame:
    return _frame({c: [] for c in (*CANONICAL_COLUMNS, "source_row")})


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_JSON_SUFFIXES = {".geojson", ".json"}
_VECTOR_SUFFIXES = {".gpkg", ".shp", ".fgb"}
_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ""}


def _read_any(p: Path, col: _Collector, explicit: Mapping[str, str],
              sheet: str | None) -> _Table | None:
    suffix = p.suffix.lower()
    if suffix == ".shp":
        return _read_vector(p, col, sheet)
    with p.open("rb") as fh:
        head = fh.read(64)
    if not head:
        col.error("empty_file", "the file is empty (0 bytes)")
        return None
    fmt, what = _sniff_format(p, head)
    if fmt == "binary":
        col.error("not_a_table", f"this is {what}, not a table: use CSV, XLSX, GeoJSON or "
                  "GeoPackage")
        return None
    expected = {"xlsx": _EXCEL_SUFFIXES, "sqlite": {".gpkg"}, "vector": _VECTOR_SUFFIXES,
                "text": _TEXT_SUFFIXES | _JSON_SUFFIXES}[fmt]
    if suffix not in expected:
        kind = {"xlsx": "an XLSX workbook", "sqlite": "a GeoPackage",
                "vector": "a vector file", "text": "a text file"}[fmt]
        col.warning("wrong_extension", f"the file is {kind} although its name ends in "
                    f"{suffix or '(nothing)'}; read as such")
    if sheet is not None and fmt == "text":
        col.warning("sheet_ignored", f"sheet {sheet!r} ignored: the file has no worksheets")
    if fmt == "xlsx":
        return _read_xlsx(p, col, sheet)
    if fmt in ("sqlite", "vector"):
        return _read_vector(p, col, sheet)
    return _read_csv(p, col, explicit)


@contextlib.contextmanager
def _csv_field_limit() -> Iterator[None]:
    """Lift the csv module's 128 KiB field limit (huge fields are reported, not fatal)."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def check_inventory(path: str | os.PathLike[str], columns: Mapping[str, str] | None = None,
                    ignore_columns: Iterable[str] = (), sheet: str | None = None,
                    boundary: Any = None) -> Inventory:
    """Read and validate an inventory without raising on bad content.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON/JSON or GeoPackage (also Shapefile, FlatGeobuf) file.
    columns
        Explicit mapping from the file's headers to canonical names (applied before the
        built-in synonyms), e.g. ``{"Espai": "name"}``.
    ignore_columns
        Headers to ignore entirely.
    sheet
        Worksheet name for XLSX files, layer name for GeoPackages (default: the first).
    boundary
        Optional city boundary (shapely geometry in EPSG:4326, or a GeoSeries/GeoDataFrame in
        any CRS). Points inside ``settings.city_bbox`` but outside it (in the sea, in a
        neighbouring municipality) get an ``outside_city`` warning too.

    Returns
    -------
    Inventory
        ``problems`` holds every error and warning; ``data`` holds the usable rows.
    """
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping {{file header: canonical name}}, not "
                        f"{type(columns).__name__}")
    if isinstance(ignore_columns, str):
        ignore_columns = [ignore_columns]
    p = Path(path)
    col = _Collector(p.name)
    started = time.perf_counter()
    details: dict[str, Any] = {}
    n_rows = 0
    column_order: dict[str, int] = {}
    data = _empty_frame()
    columns_map: dict[str, str] = {}
    try:
        if not p.exists():
            col.error("not_found", f"file not found: {p}")
        elif p.is_dir():
            col.error("not_a_file", f"{p} is a folder, not an inventory file")
        else:
            explicit_f = {_fold(str(k)): v for k, v in (columns or {}).items()
                          if v in CANONICAL_COLUMNS}
            with _csv_field_limit():
                table = _read_any(p, col, explicit_f, sheet)
                if table is not None:
                    details = {"format": table.fmt, **table.details}
                    data, n_rows, columns_map, column_order = _check_table(
                        table, columns or {}, ignore_columns, col, boundary, details)
    except OSError as exc:
        col.error("unreadable", f"cannot read the file: {exc}")
    except Exception as exc:  # last resort: check_inventory never raises on bad content
        log.debug("unexpected failure while checking %s", p, exc_info=True)
        col.error("internal_error", f"unexpected failure while reading the file "
                  f"({type(exc).__name__}: {exc}); please report this as a cwsgeo bug")
    log.debug("checked %s in %.2f s: %d rows, %d problems", p, time.perf_counter() - started,
              n_rows, len(col.problems))
    return Inventory(p, data, col.sorted(column_order), n_rows, columns_map, details)


def _check_table(table: _Table, columns: Mapping[str, str], ignore_columns: Iterable[str],
                 col: _Collector, boundary: Any, details: dict[str, Any]
                 ) -> tuple[pd.DataFrame, int, dict[str, str], dict[str, int]]:
    explicit_f = {_fold(str(k)): v for k, v in columns.items() if v in CANONICAL_COLUMNS}
    h = _find_header(table, explicit_f, col)
    if h is None:
        col.error("empty_file", "the file has no values (only empty rows)")
        return _empty_frame(), 0, {}, {}
    header_row = table.numbers[h]
    details["header_row"] = header_row
    header = [c.strip() for c in table.records[h]]
    rows = table.records[h + 1:]
    numbers = table.numbers[h + 1:]
    geometry = table.geometry[h + 1:] if table.geometry is not None else None
    # trailing empty rows are dropped silently (spreadsheets and editors leave them); in
    # vector/JSON input every feature is a row
    end = len(rows)
    while end and not table.fixed_header and not "".join(rows[end - 1]).strip() and (
            geometry is None or geometry[end - 1] is None):
        end -= 1
    rows, numbers = rows[:end], numbers[:end]
    geometry = geometry[:end] if geometry is not None else None
    width = len(header)

    def has_data(i: int) -> bool:
        return any(i < len(r) and r[i].strip() for r in rows)

    mp = _map_headers(header, columns, ignore_columns, col, header_row, has_data)
    column_order = {label: i for i, label in enumerate(header)}
    column_order["geometry"] = len(header)
    if mp is None:
        return _empty_frame(), len(rows), {}, column_order
    for i, label in mp.label.items():
        column_order.setdefault(label, i)
    # a generic header ("Type", "Tipo") whose values are not innovation types is carried on
    for i in list(mp.weak):
        values = {_clean(r[i]) for r in rows if i < len(r)} - {""}
        failing = 0
        for v in values:
            try:
                parse_innovation_type(v)
            except ValueError:
                failing += 1
        if values and failing > len(values) / 2:
            sample = ", ".join(repr(v) for v in sorted(values)[:3])
            sample += ", …" if len(values) > 3 else ""
            col.warning("unmapped_column", f"column {header[i]!r} is not read as the "
                        f"innovation type: its values ({sample}) are not innovation types; "
                        "it is carried through (map it explicitly if it is the innovation "
                        "type)", row=header_row, column=header[i])
            del mp.canon["innovation_type"]
            mp.out_name[i] = _unique(header[i], set(mp.out_name.values()) |
                                     {*CANONICAL_COLUMNS, "source_row"})
    if not rows:
        col.error("no_rows", "the file has a header but no data rows", row=None)
    data, _ = _validate(rows, numbers, geometry, mp, width, table, col, boundary)
    columns_map = {mp.label[i]: c for c, i in mp.canon.items()}
    columns_map = {k: columns_map[k] for k in sorted(columns_map, key=lambda x: column_order[x])}
    return data, len(rows), columns_map, column_order


def read_inventory(path: str | os.PathLike[str], columns: Mapping[str, str] | None = None,
                   ignore_columns: Iterable[str] = (), sheet: str | None = None,
                   boundary: Any = None) -> Inventory:
    """Read and validate an inventory; raise if it has any error.

    Parameters
    ----------
    path, columns, ignore_columns, sheet, boundary
        As in :func:`check_inventory`.

    Returns
    -------
    Inventory
        With no errors (warnings may remain in ``problems``).

    Raises
    ------
    cwsgeo.InventoryError
        Listing every error with file, row and column.
    """
    inv = check_inventory(path, columns, ignore_columns, sheet, boundary)
    if inv.errors:
        raise InventoryError(f"{Path(path).name}: {_plural(len(inv.errors), 'error')} in the "
                             "inventory", inv.problems)
    return inv
