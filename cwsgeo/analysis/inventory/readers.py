"""Readers: turn a CSV, XLSX, JSON/GeoJSON or vector file into raw text records.

The format is decided from the file's first bytes (:func:`read_table`), text is decoded with
BOM and encoding detection, the CSV delimiter is sniffed, and every cell becomes text without
losing its meaning (``12.0`` -> ``"12"``, formulas as their text). Problems go to a
:class:`~cwsgeo.analysis.inventory.model.ProblemCollector`; nothing is validated here.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import math
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ... import settings
from .headers import canonical_for
from .limits import (
    LimitError,
    ReadLimits,
    RowStream,
    check_json_depth,
    check_line_length,
    check_vertices,
    check_zip,
)
from .model import ProblemCollector, RawTable, plural

__all__ = ["csv_field_limit", "read_table"]

_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_JSON_SUFFIXES = {".geojson", ".json"}
_VECTOR_SUFFIXES = {".gpkg", ".shp", ".fgb"}
_TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ".tab", ""}


def read_table(p: Path, col: ProblemCollector, explicit: Mapping[str, str],
               sheet: str | None, limits: ReadLimits) -> RawTable | None:
    """Read any supported file as raw text records, by what its first bytes say it is.

    Parameters
    ----------
    p
        An existing file.
    col
        Where problems go (``not_a_table``, ``encoding``, ``wrong_extension``...).
    explicit
        Folded file header -> canonical name (helps choose the CSV delimiter).
    sheet
        Worksheet (XLSX) or layer (GeoPackage) name; the first by default.
    limits
        Bounds on size and shape, checked before and while the file is parsed.

    Returns
    -------
    RawTable or None
        None when the file cannot be read as a table (an error was reported).

    Raises
    ------
    LimitError
        At the first limit the file goes over (nothing more is read).
    """
    suffix = p.suffix.lower()
    if suffix == ".shp":
        return _read_vector(p, col, sheet, limits)
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
    if fmt in ("sqlite", "vector"):
        return _read_vector(p, col, sheet, limits)
    size = p.stat().st_size
    if size > limits.max_bytes:
        raise limits.exceeded("max_bytes", f"the file is {size / 1e6:,.1f} MB")
    if fmt == "xlsx":
        check_zip(p, limits)
        return _read_xlsx(p, col, sheet, limits)
    return _read_csv(p, col, explicit, limits)


@contextlib.contextmanager
def csv_field_limit() -> Iterator[None]:
    """Lift the csv module's 128 KiB field limit (huge fields are reported, not fatal)."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


# ---------------------------------------------------------------------------------------
# Format and text encoding
# ---------------------------------------------------------------------------------------
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


def _decode(data: bytes, col: ProblemCollector) -> tuple[str, str] | None:
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
        col.warning("encoding", f"{plural(n_bad, 'invalid UTF-8 byte sequence')} replaced by "
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


# ---------------------------------------------------------------------------------------
# CSV (and JSON, which arrives as text)
# ---------------------------------------------------------------------------------------
def _header_score(fields: Sequence[str], explicit: Mapping[str, str]) -> int:
    return len({canonical_for(h, explicit) for h in fields} - {None})


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


def _read_csv(path: Path, col: ProblemCollector, explicit: Mapping[str, str],
              limits: ReadLimits) -> RawTable | None:
    data = path.read_bytes()
    decoded = _decode(data, col)
    if decoded is None:
        return None
    text, encoding = decoded
    if not encoding.startswith(("utf-8", "cp1252", "latin-1")):
        data = text.encode("utf-8", errors="surrogatepass")  # brackets as ASCII bytes
    if "\x00" in text:
        col.warning("nul_bytes", f"{plural(text.count(chr(0)), 'NUL character')} removed")
        text = text.replace("\x00", "")
    if not text.strip():
        col.error("empty_file", "the file is empty (or only whitespace)")
        return None
    stripped = text.lstrip()
    json_name = path.suffix.lower() in _JSON_SUFFIXES
    if stripped[:1] in ("{", "[") or json_name:
        check_json_depth(data, limits)
        data = b""  # free the bytes before the parse
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
            table = _json_table(obj, col, limits)
            if table is not None:
                table.details["encoding"] = encoding
            return table
    low = stripped[:200].lower()
    if low.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        what = "an XML document" if low.startswith("<?xml") else "an HTML page"
        col.error("not_a_table", f"this is {what}, not a table (a web page saved instead of "
                  "the download?)")
        return None
    data = b""
    check_line_length(text, limits)
    delimiter = _sniff_delimiter(text, explicit)
    stream = RowStream(limits)
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            stream.add(record)
    except csv.Error as exc:  # pragma: no cover - non-strict readers hardly ever fail
        col.error("bad_csv", f"cannot parse the file as CSV: {exc}")
        return None
    records = stream.records
    return RawTable(records, list(range(1, len(records) + 1)), "csv",
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


# ---------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------
def _read_xlsx(path: Path, col: ProblemCollector, sheet: str | None,
               limits: ReadLimits) -> RawTable | None:
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
        records = _xlsx_records(ws, limits)
    except LimitError:
        raise
    except Exception as exc:  # corrupt sheet XML, zip errors, ...
        col.error("not_a_table", f"cannot read the XLSX workbook ({type(exc).__name__}: {exc})")
        return None
    finally:
        wb.close()
    if not records:
        others = [n for n in names if n != name]
        hint = (f"; the workbook also has {', '.join(repr(n) for n in others)}: choose one "
                "with the sheet option") if others else ""
        col.error("empty_file", f"worksheet {name!r} is empty{hint}")
        return None
    width = max(len(r) for r in records)
    records = [r + [""] * (width - len(r)) for r in records]
    return RawTable(records, list(range(1, len(records) + 1)), "xlsx", {"sheet": name})


def _xlsx_records(ws: Any, limits: ReadLimits) -> list[list[str]]:
    """Stream a worksheet's rows as text, without trailing empty cells or rows, within limits."""
    stream = RowStream(limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws.reset_dimensions()
        for r in ws.iter_rows(values_only=True):
            end = len(r)
            while end and (r[end - 1] is None or r[end - 1] == ""):
                end -= 1
            stream.add([_cell_text(v) for v in r[:end]])
    return stream.records


# ---------------------------------------------------------------------------------------
# JSON, GeoJSON and vector files
# ---------------------------------------------------------------------------------------
def _geometry_point(geom: Any, row: int, col: ProblemCollector) -> tuple[float, float] | None:
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


def _json_table(obj: Any, col: ProblemCollector, limits: ReadLimits) -> RawTable | None:
    """Read GeoJSON (FeatureCollection/Feature), a list of records or a list of rows."""
    if isinstance(obj, list) and obj and all(isinstance(o, list) for o in obj):
        if len(obj) - 1 > limits.max_rows:
            raise limits.exceeded("max_rows", f"{len(obj) - 1:,} rows under the header")
        widest = max(range(len(obj)), key=lambda k: len(obj[k]))
        if len(obj[widest]) > limits.max_columns:
            raise limits.exceeded("max_columns", f"row {widest + 1:,} has "
                                  f"{len(obj[widest]):,} columns")
        records = [[_cell_text(v) for v in r] for r in obj]
        width = max(len(r) for r in records)
        records = [r + [""] * (width - len(r)) for r in records]
        return RawTable(records, list(range(1, len(records) + 1)), "json")
    found = _json_features(obj, col)
    if found is None:
        return None
    features, geo = found
    if not features:
        col.error("no_rows", "the file has no features/records")
        return None
    if len(features) > limits.max_rows:
        kind = "features" if geo else "records"
        raise limits.exceeded("max_rows", f"{len(features):,} {kind}")
    transform = _geojson_transformer(obj, col) if geo else None
    if transform is False:
        return None
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
            check_vertices(feat.get("geometry"), row, limits)
            props, point = _feature_record(feat, row, transform, col)
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
        if len(header) > limits.max_columns:
            raise limits.exceeded("max_columns", f"more than {limits.max_columns:,} "
                                  "different properties")
    records = [header] + [[_cell_text(p.get(h)) for h in header] for p in props_list]
    return RawTable(records, list(range(1, len(records) + 1)), "geojson" if geo else "json",
                    {}, geometry=[None, *latlon] if geo else None, fixed_header=True)


def _json_features(obj: Any, col: ProblemCollector) -> tuple[list[Any], bool] | None:
    """Return (features or records, whether they are GeoJSON features), or None on error."""
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list):
            col.error("bad_json", "the FeatureCollection has no 'features' list")
            return None
        return features, True
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        return [obj], True
    if isinstance(obj, list) and all(isinstance(o, dict) for o in obj):
        return obj, False
    col.error("not_a_table", "this JSON is neither a GeoJSON FeatureCollection nor a list "
              "of records or rows")
    return None


def _feature_record(feat: dict[str, Any], row: int, transform: Any, col: ProblemCollector
                    ) -> tuple[dict[str, Any], tuple[float, float] | None]:
    """Return a GeoJSON feature's properties (with its ``id``) and its (lat, lon)."""
    import shapely
    import shapely.geometry

    props = feat.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        col.error("bad_feature", "'properties' is not an object", row=row)
        props = {}
    props = dict(props)
    if "id" in feat and not any(canonical_for(key, {}) == "id" for key in props):
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
    return props, point


def _geojson_transformer(obj: Any, col: ProblemCollector) -> Any:
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


def _read_vector(path: Path, col: ProblemCollector, layer: str | None,
                 limits: ReadLimits) -> RawTable | None:
    import geopandas as gpd
    import pyogrio
    import shapely

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layers = [str(x[0]) for x in pyogrio.list_layers(path)]
            if layer is not None and layer not in layers:
                col.error("missing_sheet", f"layer {layer!r} not found; the file has "
                          f"{', '.join(repr(n) for n in layers)}")
                return None
            name = layer if layer is not None else (layers[0] if layers else None)
            _check_layer(path, name, limits)
            gdf = gpd.read_file(path, layer=name, engine="pyogrio")
    except LimitError:
        raise
    except Exception as exc:  # pyogrio/GDAL errors come in many types
        col.error("not_a_table", f"not a readable vector file ({type(exc).__name__}: {exc})")
        return None
    if gdf.empty:
        col.error("no_rows", f"layer {name!r} has no features")
        return None
    header = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    if len(gdf) > limits.features:
        raise limits.exceeded("max_features", f"layer {name!r} has {len(gdf):,} features")
    vertices = shapely.get_num_coordinates(gdf.geometry.values)
    if len(vertices) and vertices.max() > limits.max_vertices:
        k = int(vertices.argmax())
        raise limits.exceeded("max_vertices", f"the geometry of row {k + 2:,} has "
                              f"{int(vertices[k]):,} vertices")
    try:
        if gdf.crs is not None:
            gdf = gdf.to_crs(settings.crs_store)
    except Exception as exc:  # unknown or broken CRS
        col.error("bad_crs", f"cannot convert the layer's CRS to WGS84 ({exc})")
        return None
    latlon = [_geometry_point(g, i, col) for i, g in enumerate(gdf.geometry, start=2)]
    values = gdf[[c for c in gdf.columns if c != gdf.geometry.name]].to_numpy(dtype=object)
    records = [header] + [[_cell_text(v) for v in r] for r in values.tolist()]
    return RawTable(records, list(range(1, len(records) + 1)), path.suffix.lower().lstrip("."),
                  {"layer": name}, geometry=[None, *latlon], fixed_header=True)


def _check_layer(path: Path, name: str | None, limits: ReadLimits) -> None:
    """Check a vector layer's feature and field counts from its metadata, before reading it."""
    import pyogrio

    info = pyogrio.read_info(path, layer=name)
    features, fields = int(info.get("features", -1)), len(info.get("fields", ()))
    if features > limits.features:
        raise limits.exceeded("max_features", f"layer {name!r} has {features:,} features")
    if fields > limits.max_columns:
        raise limits.exceeded("max_columns", f"layer {name!r} has {fields:,} fields")
