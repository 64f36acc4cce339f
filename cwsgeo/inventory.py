"""The coworking inventory: read any common table format, map its headers, validate every row.

This module owns the inventory's schema and its quality report. It reads CSV (comma, semicolon,
tab or pipe; UTF-8, UTF-8 with BOM, UTF-16, Latin-1/cp1252; decimal comma), XLSX and vector
files (GeoJSON, GeoPackage, Shapefile), maps English, Spanish and Catalan headers onto the
canonical columns, and collects *every* problem with its file, row and column instead of
stopping at the first one. Nothing here geocodes or writes files.

Canonical columns
-----------------
``id`` (required, unique), ``name`` (required), ``address``, ``postcode``, ``lat``, ``lon``,
``innovation_type`` (1, 2, 3 or blank). Any other column is carried through unchanged.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is
row 2. In GeoJSON/GeoPackage input, row N is the (N-1)-th feature.

Example:
-------
>>> import io, cwsgeo
>>> from pathlib import Path
>>> p = Path(cwsgeo.__file__).parent.parent / "tests" / "data" / "inventory_small.csv"
>>> inv = cwsgeo.read_inventory(p)  # doctest: +SKIP
>>> inv.data[["id", "name", "innovation_type"]].head(2)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import settings
from ._errors import InventoryError

__all__ = [
    "CANONICAL_COLUMNS",
    "INNOVATION_LABELS",
    "Inventory",
    "Problem",
    "check_inventory",
    "innovation_label",
    "parse_innovation_type",
    "read_inventory",
]

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
                     "reference", "referencia", "space id", "cws id", "uid"], "id"),
    **dict.fromkeys(["name", "nombre", "nom", "space", "space name", "espacio", "espai",
                     "coworking", "nombre del espacio", "nom de l espai", "title", "titulo",
                     "denominacion", "denominacio"], "name"),
    **dict.fromkeys(["address", "direccion", "adreca", "domicilio", "domicili", "street",
                     "street address", "calle", "carrer", "via", "ubicacion", "location address",
                     "direccion postal", "adreca postal", "full address"], "address"),
    **dict.fromkeys(["postcode", "post code", "postal code", "postalcode", "zip", "zip code",
                     "zipcode", "cp", "codigo postal", "codi postal", "cod postal"], "postcode"),
    **dict.fromkeys(["lat", "latitude", "latitud", "y lat", "lat wgs84"], "lat"),
    **dict.fromkeys(["lon", "lng", "long", "longitude", "longitud", "x lon", "lon wgs84"],
                    "lon"),
    **dict.fromkeys(["innovation type", "innovation", "type", "tipo", "tipus",
                     "tipo de innovacion", "tipus d innovacio", "tipus innovacio",
                     "tipo innovacion", "innovacion", "innovacio", "innovation class",
                     "innovation level", "nivel de innovacion", "nivell d innovacio"],
                    "innovation_type"),
}

_MAX_FIELD = 100_000  # characters; longer fields are errors, not silently truncated
_BLANK_TYPES = {"", "na", "n a", "none", "null", "unclassified", "not classified",
                "sin clasificar", "no clasificado", "sense classificar", "no classificat", "-"}
_NEGATIONS = {"no", "not", "non", "sin", "sense", "without", "ninguna", "cap"}
_INTENSIFIERS = {"highly", "very", "high", "muy", "altamente", "alta", "molt", "altament",
                 "alt", "super"}
_ROMAN = {"i": 1, "ii": 2, "iii": 3}

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
        Every error and warning, in file order.
    n_input_rows
        Data rows in the file (header excluded), empty ones included.
    columns_map
        File header -> canonical name for the mapped columns.
    """

    path: Path
    data: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    n_input_rows: int = 0
    columns_map: dict[str, str] = field(default_factory=dict)

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

    def report(self) -> str:
        """Return a plain-text QA report (one line per problem and a summary)."""
        lines = [f"{self.path.name}: {self.n_input_rows} data rows, {len(self.data)} usable, "
                 f"{len(self.errors)} errors, {len(self.warnings)} warnings"]
        if self.columns_map:
            mapped = ", ".join(f"{k!r}->{v}" for k, v in self.columns_map.items() if k != v)
            if mapped:
                lines.append(f"  columns mapped: {mapped}")
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Innovation types
# ---------------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """Lower-case, strip accents, turn punctuation into spaces, collapse spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return text.strip()


def parse_innovation_type(value: Any) -> int | None:
    """Turn a cell into innovation type 1, 2, 3, or ``None`` (unclassified).

    Accepts numbers (``2``, ``2.0``, ``"type 2"``, ``"II"``) and words in English, Spanish or
    Catalan: "no innovative community" / "sin comunidad innovadora" / "sense comunitat
    innovadora" -> 1; "innovative" / "innovadora" -> 2; "highly innovative" / "muy innovadora" /
    "molt innovadora" -> 3. Blank, "n/a" and "unclassified" give ``None``.

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
        The value is not a recognised type.

    Examples
    --------
    >>> parse_innovation_type("Highly innovative")
    3
    >>> parse_innovation_type("sin comunidad innovadora")
    1
    >>> parse_innovation_type(2.0)
    2
    >>> parse_innovation_type("") is None
    True
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if int(value) in (1, 2, 3):
            return int(value)
        raise ValueError(f"{value!r} is not 1, 2 or 3")
    if isinstance(value, (float, np.floating)):
        if float(value) in (1.0, 2.0, 3.0):
            return int(value)
        raise ValueError(f"{value!r} is not 1, 2 or 3")
    text = _fold(str(value))
    if text in _BLANK_TYPES:
        return None
    tokens = text.split()
    numbers = [t for t in tokens if t in ("1", "2", "3")] + [
        str(_ROMAN[t]) for t in tokens if t in _ROMAN]
    rest = [t for t in tokens if t not in ("type", "tipo", "tipus", "0", "1", "2", "3")
            and t not in _ROMAN]
    if len(numbers) == 1 and not rest:
        return int(numbers[0])
    if re.fullmatch(r"[123] 0+", text):  # "2,0" / "2.0" after folding
        return int(text[0])
    if any(t.startswith(("innov", "innob")) for t in tokens):
        if any(t in _NEGATIONS for t in tokens):
            return 1
        if any(t in _INTENSIFIERS for t in tokens):
            return 3
        return 2
    raise ValueError(f"{value!r} is not an innovation type (1, 2, 3, or words such as "
                     f"'innovative', 'highly innovative', 'no innovative community')")


def innovation_label(value: int | None) -> str:
    """Return the label of an innovation type (``None`` -> ``"unclassified"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return INNOVATION_LABELS[None]
    return INNOVATION_LABELS[int(value)]


# ---------------------------------------------------------------------------------------
# Reading raw tables
# ---------------------------------------------------------------------------------------
class _Collector:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, severity: Severity, code: str, message: str, row: int | None = None,
            column: str | None = None) -> None:
        self.problems.append(Problem(self.file, row, column, severity, code, message))

    def error(self, code: str, message: str, row: int | None = None,
              column: str | None = None) -> None:
        self.add("error", code, message, row, column)

    def warning(self, code: str, message: str, row: int | None = None,
                column: str | None = None) -> None:
        self.add("warning", code, message, row, column)


@dataclass
class _RawTable:
    header: list[str]
    rows: list[list[Any]]
    row_numbers: list[int]
    geometry_latlon: list[tuple[float, float] | None] | None = None


def _decode(data: bytes, col: _Collector) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            col.error("bad_encoding", "starts with a UTF-16 byte-order mark but is not UTF-16")
            return None
    sample = data[:65536]
    if b"\x00" in sample:
        col.error("binary_file", "this is not a text table (NUL bytes found): save it as CSV, "
                  "XLSX or GeoJSON")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "latin-1"
    # Lots of control characters means garbage rather than a Latin-1 table.
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > max(10, len(text[:65536]) // 100):
        col.error("binary_file", "this is not a text table (control bytes found): save it as "
                  "CSV, XLSX or GeoJSON")
        return None
    col.warning("encoding", f"file is not UTF-8; read as {encoding}")
    return text


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|").delimiter
    except csv.Error:
        header = lines[0]
        counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(path: Path, col: _Collector) -> _RawTable | None:
    data = path.read_bytes()
    if not data.strip():
        col.error("empty_file", "the file is empty")
        return None
    text = _decode(data, col)
    if text is None:
        return None
    delimiter = _sniff_delimiter(text)
    csv.field_size_limit(max(_MAX_FIELD * 10, 1 << 24))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        col.error("empty_file", "the file is empty")
        return None
    except csv.Error as exc:
        col.error("bad_csv", f"cannot read the header: {exc}", row=1)
        return None
    rows: list[list[Any]] = []
    numbers: list[int] = []
    record = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            col.error("bad_csv", f"cannot parse this line: {exc}", row=record + 1)
            break
        record += 1
        rows.append(fields)
        numbers.append(record)
    return _RawTable([h.strip() for h in header], rows, numbers)


def _cell_text(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v) if not v.is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    return v


def _read_excel(path: Path, col: _Collector, sheet: str | None) -> _RawTable | None:
    try:
        frame = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=object,
                              engine="openpyxl")
    except ValueError as exc:
        col.error("bad_xlsx", f"cannot read worksheet: {exc}")
        return None
    except Exception as exc:  # openpyxl raises many types on corrupt files
        col.error("bad_xlsx", f"not a readable XLSX workbook ({type(exc).__name__}: {exc})")
        return None
    if frame.empty:
        col.error("empty_file", "the worksheet is empty")
        return None
    values = frame.to_numpy(dtype=object).tolist()
    header = [str(_cell_text(v)).strip() for v in values[0]]
    rows = [[_cell_text(v) for v in r] for r in values[1:]]
    return _RawTable(header, rows, list(range(2, len(values) + 1)))


def _read_vector(path: Path, col: _Collector) -> _RawTable | None:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL errors come in many types
        col.error("bad_vector", f"not a readable vector file ({type(exc).__name__}: {exc})")
        return None
    header = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    latlon: list[tuple[float, float] | None] = []
    if gdf.crs is not None and not gdf.empty:
        gdf = gdf.to_crs(settings.crs_store)
    for i, geom in enumerate(gdf.geometry, start=2):
        if geom is None or geom.is_empty:
            latlon.append(None)
            continue
        if geom.geom_type != "Point":
            col.warning("not_a_point", f"{geom.geom_type} geometry: its representative "
                        "point is used", row=i, column="geometry")
            geom = geom.representative_point()
        latlon.append((geom.y, geom.x))
    rows = [[_cell_text(v) for v in r] for r in gdf[header].to_numpy(dtype=object).tolist()]
    return _RawTable(header, rows, list(range(2, len(gdf) + 2)), latlon)


# ---------------------------------------------------------------------------------------
# Header mapping
# ---------------------------------------------------------------------------------------
def _map_headers(header: Sequence[str], explicit: Mapping[str, str],
                 ignore: Iterable[str], col: _Collector) -> dict[int, str] | None:
    """Return column index -> canonical or carried-through name, or None on fatal errors."""
    ignore_f = {_fold(c) for c in ignore}
    explicit_f: dict[str, str] = {}
    fatal = False
    for src, dst in explicit.items():
        if dst not in CANONICAL_COLUMNS:
            col.error("bad_mapping", f"column mapping {src!r} -> {dst!r}: {dst!r} is not one of "
                      f"{', '.join(CANONICAL_COLUMNS)}")
            fatal = True
        explicit_f[_fold(src)] = dst
    folded = [_fold(h) for h in header]
    for src in explicit:
        if _fold(src) not in folded:
            col.error("bad_mapping", f"column mapping names {src!r}, which is not in the header "
                      f"({', '.join(repr(h) for h in header)})")
            fatal = True
    mapping: dict[int, str] = {}
    taken: dict[str, int] = {}
    for i, (raw, f) in enumerate(zip(header, folded, strict=True)):
        if f in ignore_f or raw in ignore:
            continue
        if not raw:
            mapping[i] = f"column_{i + 1}"
            continue
        target = explicit_f.get(f) or HEADER_SYNONYMS.get(f)
        name = target or raw
        if name in taken:
            first = header[taken[name]]
            what = f"both map to '{name}'" if target else "the same header appears twice"
            col.error("duplicate_column", f"columns {first!r} and {raw!r}: {what}; rename one "
                      "or give an explicit column mapping", row=1, column=raw)
            fatal = True
            continue
        taken[name] = i
        mapping[i] = name
    names = set(mapping.values())
    for req in ("id", "name"):
        if req not in names:
            col.error("missing_column", f"required column '{req}' is missing (accepted "
                      f"headers: {', '.join(sorted(k for k, v in HEADER_SYNONYMS.items() if v == req))}"
                      "; or give an explicit column mapping)", row=1, column=req)
            fatal = True
    if ("lat" in names) != ("lon" in names):
        have, miss = ("lat", "lon") if "lat" in names else ("lon", "lat")
        col.error("missing_column", f"column '{have}' has no matching '{miss}' column", row=1,
                  column=miss)
        fatal = True
    return None if fatal else mapping


# ---------------------------------------------------------------------------------------
# Cell validation
# ---------------------------------------------------------------------------------------
_NUM_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _parse_coord(text: str) -> float:
    t = text.strip().replace("\u2212", "-").replace(" ", "")
    if not t:
        return math.nan
    if t.lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        raise ValueError(f"{text!r} is not a finite number")
    if not _NUM_RE.match(t):
        raise ValueError(f"{text!r} is not a number (use decimal degrees, e.g. 41.3851)")
    value = float(t.replace(",", "."))
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _in_bbox(lat: float, lon: float) -> bool:
    west, south, east, north = settings.city_bbox
    return south <= lat <= north and west <= lon <= east


def _normalise_postcode(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    if len(digits) == 4:
        digits = "0" + digits
    return digits if len(digits) == 5 else None


def _looks_like_formula(text: str) -> bool:
    return text[:1] in ("=", "+", "@") or (text.startswith("-") and not _NUM_RE.match(text))


def _clean_text(value: Any) -> str:
    text = "" if value is None else str(value)
    # drop control characters except tab/newline, collapse whitespace runs
    text = "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) != "Cc")
    return re.sub(r"\s+", " ", text).strip()


def _validate(table: _RawTable, mapping: dict[int, str], col: _Collector,
              header: Sequence[str]) -> pd.DataFrame:
    name_of = {v: header[k] if header[k] else v for k, v in mapping.items()}
    width = len(header)
    records: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for idx, (fields, rownum) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        cells = [_clean_text(v) if not isinstance(v, (int, float)) or isinstance(v, bool)
                 else _clean_text(_cell_text(v)) for v in fields]
        if not any(cells) and (table.geometry_latlon is None
                               or table.geometry_latlon[idx] is None):
            col.warning("empty_row", "empty row skipped", row=rownum)
            continue
        bad = False
        if len(fields) > width and any(cells[width:]):
            col.error("extra_fields", f"{len(fields)} fields but the header has {width} "
                      "(a delimiter inside an unquoted value?)", row=rownum)
            bad = True
        if len(fields) < width:
            cells += [""] * (width - len(fields))
        for i, c in enumerate(cells[:width]):
            if len(c) > _MAX_FIELD:
                col.error("huge_field", f"{len(c):,} characters (limit {_MAX_FIELD:,})",
                          row=rownum, column=header[i] or f"column_{i + 1}")
                cells[i] = c[:200]
                bad = True
        rec: dict[str, Any] = {mapping[i]: cells[i] for i in mapping if i < width}
        rec["source_row"] = rownum

        # id
        rid = rec.get("id", "")
        if not rid:
            col.error("missing_id", "the id is blank", row=rownum, column=name_of["id"])
            bad = True
        elif rid in seen_ids:
            col.error("duplicate_id", f"id {rid!r} is already used on row {seen_ids[rid]}",
                      row=rownum, column=name_of["id"])
            bad = True
        else:
            seen_ids[rid] = rownum
        # name
        if not rec.get("name"):
            col.warning("missing_name", "the name is blank; the id is shown instead",
                        row=rownum, column=name_of["name"])
            rec["name"] = rid
        for key in ("name", "address"):
            value = rec.get(key, "")
            if value and _looks_like_formula(value):
                col.warning("formula", f"{value[:60]!r} looks like a spreadsheet formula; it is "
                            "kept as plain text and neutralised in CSV exports", row=rownum,
                            column=name_of.get(key, key))
        # coordinates
        lat = lon = math.nan
        if "lat" in rec:
            try:
                lat = _parse_coord(rec["lat"])
            except ValueError as exc:
                col.error("bad_coordinate", str(exc), row=rownum, column=name_of["lat"])
                bad = True
            try:
                lon = _parse_coord(rec["lon"])
            except ValueError as exc:
                col.error("bad_coordinate", str(exc), row=rownum, column=name_of["lon"])
                bad = True
        if table.geometry_latlon is not None and table.geometry_latlon[idx] is not None \
                and math.isnan(lat) and math.isnan(lon):
            lat, lon = table.geometry_latlon[idx]  # type: ignore[misc]
        if not bad and (math.isnan(lat) != math.isnan(lon)):
            missing = "lat" if math.isnan(lat) else "lon"
            col.error("half_coordinate", f"{missing} is blank but the other coordinate is not",
                      row=rownum, column=name_of.get(missing, missing))
            bad = True
        if not bad and not math.isnan(lat):
            if lat == 0 and lon == 0:
                col.error("null_island", "coordinates 0, 0 are a placeholder, not a place",
                          row=rownum, column=name_of.get("lat", "geometry"))
                bad = True
            elif _in_bbox(lon, lat):
                col.warning("swapped_coordinates", f"lat {lat} and lon {lon} look swapped; "
                            "they were swapped back", row=rownum,
                            column=name_of.get("lat", "geometry"))
                lat, lon = lon, lat
            elif not (-90 <= lat <= 90):
                col.error("coordinate_range", f"latitude {lat} is outside -90..90", row=rownum,
                          column=name_of.get("lat", "geometry"))
                bad = True
            elif not (-180 <= lon <= 180):
                col.error("coordinate_range", f"longitude {lon} is outside -180..180",
                          row=rownum, column=name_of.get("lon", "geometry"))
                bad = True
            elif not _in_bbox(lat, lon):
                col.warning("outside_city", f"({lat}, {lon}) is outside Barcelona; the space "
                            "is kept and flagged", row=rownum,
                            column=name_of.get("lat", "geometry"))
        rec["lat"], rec["lon"] = lat, lon
        if not rec.get("address") and math.isnan(lat):
            col.warning("no_location", "no address and no coordinates: only the name can "
                        "locate this space", row=rownum,
                        column=name_of.get("address", "address"))
        # postcode
        if rec.get("postcode"):
            pc = _normalise_postcode(rec["postcode"])
            if pc is None:
                col.warning("bad_postcode", f"{rec['postcode']!r} is not a 5-digit postcode; "
                            "ignored", row=rownum, column=name_of["postcode"])
            rec["postcode"] = pc or ""
        # innovation type
        itype = None
        if rec.get("innovation_type"):
            try:
                itype = parse_innovation_type(rec["innovation_type"])
            except ValueError as exc:
                col.error("unknown_type", str(exc), row=rownum,
                          column=name_of["innovation_type"])
                bad = True
        rec["innovation_type"] = itype
        if not bad:
            records.append(rec)
    extras = [v for k, v in sorted(mapping.items()) if v not in CANONICAL_COLUMNS]
    columns = [*CANONICAL_COLUMNS, *extras, "source_row"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for c in ("id", "name", "address", "postcode"):
        frame[c] = frame[c].fillna("").astype(object)
    frame["lat"] = pd.to_numeric(frame["lat"], errors="coerce").astype(float)
    frame["lon"] = pd.to_numeric(frame["lon"], errors="coerce").astype(float)
    frame["innovation_type"] = pd.array(
        [pd.NA if v is None else int(v) for v in frame["innovation_type"]], dtype="Int64")
    frame["source_row"] = frame["source_row"].astype(int)
    return frame


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------
_CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}


def check_inventory(path: str | os.PathLike[str], columns: Mapping[str, str] | None = None,
                    ignore_columns: Iterable[str] = (), sheet: str | None = None) -> Inventory:
    """Read and validate an inventory without raising on bad content.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON or GeoPackage file.
    columns
        Explicit mapping from the file's headers to canonical names (applied before the
        built-in synonyms), e.g. ``{"Espai": "name"}``.
    ignore_columns
        Headers to ignore entirely.
    sheet
        Worksheet name for XLSX files (default: the first).

    Returns
    -------
    Inventory
        ``problems`` holds every error and warning; ``data`` holds the usable rows.
    """
    p = Path(path)
    col = _Collector(p.name)
    empty = pd.DataFrame(columns=[*CANONICAL_COLUMNS, "source_row"])
    if not p.exists():
        col.error("not_found", f"file not found: {p}")
        return Inventory(p, empty, col.problems)
    if p.is_dir():
        col.error("not_a_file", f"{p} is a folder, not an inventory file")
        return Inventory(p, empty, col.problems)
    suffix = p.suffix.lower()
    try:
        if suffix in _EXCEL_SUFFIXES:
            table = _read_excel(p, col, sheet)
        elif suffix in _VECTOR_SUFFIXES:
            table = _read_vector(p, col)
        elif suffix in _CSV_SUFFIXES or suffix == "":
            table = _read_csv(p, col)
        elif suffix == ".xls":
            col.error("unsupported_format", "old .xls workbooks are not supported: save as "
                      ".xlsx or .csv")
            table = None
        else:
            col.error("unsupported_format", f"unknown file type {suffix!r}: use .csv, .xlsx, "
                      ".geojson or .gpkg")
            table = None
    except OSError as exc:
        col.error("unreadable", f"cannot read the file: {exc}")
        table = None
    if table is None:
        return Inventory(p, empty, col.problems)
    if not any(table.header):
        col.error("no_header", "the first row is empty: the file needs a header row", row=1)
        return Inventory(p, empty, col.problems, len(table.rows))
    mapping = _map_headers(table.header, columns or {}, ignore_columns, col)
    if mapping is None:
        return Inventory(p, empty, col.problems, len(table.rows))
    if not table.rows:
        col.error("no_rows", "the file has a header but no data rows")
    data = _validate(table, mapping, col, table.header)
    columns_map = {table.header[i]: v for i, v in mapping.items() if v in CANONICAL_COLUMNS}
    col.problems.sort(key=lambda q: (q.row or 0))
    return Inventory(p, data, col.problems, len(table.rows), columns_map)


def read_inventory(path: str | os.PathLike[str], columns: Mapping[str, str] | None = None,
                   ignore_columns: Iterable[str] = (), sheet: str | None = None) -> Inventory:
    """Read and validate an inventory; raise if it has any error.

    Parameters
    ----------
    path, columns, ignore_columns, sheet
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
    inv = check_inventory(path, columns, ignore_columns, sheet)
    if inv.errors:
        raise InventoryError(f"{Path(path).name}: {len(inv.errors)} error(s) in the inventory",
                             inv.problems)
    return inv
