"""Limits on what an inventory file may hold, checked before and while it is read.

Inventories come from other people's spreadsheets and exports, so a file is untrusted until it
is read. :class:`ReadLimits` bounds what reading one may cost; every bound is checked as early
as it can be:

* file size from ``stat`` before a byte is read (CSV/TSV, JSON/GeoJSON, XLSX);
* an XLSX workbook's uncompressed size and compression ratio from the ZIP directory, before
  any member is decompressed;
* the nesting depth of JSON on the raw text, before it is parsed;
* the longest line of a CSV before it is split into fields;
* rows and columns while records stream in (stopping at the first row over the limit);
* GeoJSON vertices per geometry before the geometry is built, and a GeoPackage layer's
  feature and field counts from its metadata before it is read.

A file over a limit raises :class:`LimitError` inside the readers;
:func:`~cwsgeo.analysis.inventory.check_inventory` turns it into one ``too_large`` error that
names the limit, what was found and how to raise it.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LimitError", "ReadLimits", "RowStream", "check_json_depth", "check_line_length",
           "check_vertices", "check_zip", "count_positions"]

_MB = 1_000_000

#: How to raise each limit: (key in the [inventory] section of cwsgeo.toml, CLI flag or "").
_RAISE_WITH: dict[str, tuple[str, str]] = {
    "max_bytes": ("max_file_mb", "--max-mb"),
    "max_uncompressed_bytes": ("max_uncompressed_mb", "--max-mb"),
    "max_compression_ratio": ("max_compression_ratio", ""),
    "max_rows": ("max_rows", "--max-rows"),
    "max_columns": ("max_columns", "--max-columns"),
    "max_line_chars": ("max_line_chars", ""),
    "max_json_depth": ("max_json_depth", ""),
    "max_vertices": ("max_vertices", ""),
    "max_features": ("max_features", ""),
}

#: Below this uncompressed size a workbook's compression ratio is not checked (no harm).
_RATIO_FLOOR = 2 * _MB
_CHUNK = 1 << 20
_ROW_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on the size and shape of an inventory file (the defaults fit real inventories).

    Attributes
    ----------
    max_bytes
        File size of a CSV/TSV, JSON/GeoJSON or XLSX file (200 MB).
    max_uncompressed_bytes
        Total uncompressed size of an XLSX workbook's members, from its ZIP directory (200 MB).
    max_compression_ratio
        Uncompressed / compressed size of an XLSX workbook (100; checked above 2 MB
        uncompressed). Real workbooks compress 5-20 times; a ZIP bomb thousands of times.
    max_rows
        Data rows (CSV, XLSX, JSON records or GeoJSON features) (200,000).
    max_columns
        Columns of any row, trailing empty cells not counted (500).
    max_line_chars
        Longest line of a CSV/TSV in characters (1,000,000; a single cell is limited to
        100,000 characters by the ``huge_field`` check).
    max_json_depth
        Nesting depth of JSON/GeoJSON arrays and objects (64; a GeoJSON MultiPolygon is 5).
    max_vertices
        Vertices of one GeoJSON or vector geometry (100,000).
    max_features
        Features of a GeoPackage/Shapefile/FlatGeobuf layer; ``None``: ``max_rows``.
    """

    max_bytes: int = 200 * _MB
    max_uncompressed_bytes: int = 200 * _MB
    max_compression_ratio: float = 100.0
    max_rows: int = 200_000
    max_columns: int = 500
    max_line_chars: int = 1_000_000
    max_json_depth: int = 64
    max_vertices: int = 100_000
    max_features: int | None = None

    def __post_init__(self) -> None:
        for name in _RAISE_WITH:
            value = getattr(self, name)
            if value is None and name == "max_features":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"ReadLimits.{name} must be a positive number, got {value!r}")

    @property
    def features(self) -> int:
        """The feature limit of vector layers (``max_features``, else ``max_rows``)."""
        return self.max_rows if self.max_features is None else self.max_features

    def exceeded(self, name: str, found: str) -> LimitError:
        """Return the error for limit ``name``, saying what was ``found`` and how to raise it.

        Parameters
        ----------
        name
            A field of this class, e.g. ``"max_rows"``.
        found
            What the file has, e.g. ``"more than 200,000 data rows"``.
        """
        value = self.features if name == "max_features" else getattr(self, name)
        shown = (f"{value / _MB:,.0f} MB" if name.endswith("bytes") else
                 f"{value:,g}" if isinstance(value, float) else f"{value:,}")
        key, flag = _RAISE_WITH[name]
        how = f"`{key} = ...` in the [inventory] section of cwsgeo.toml"
        if flag:
            how += f", `{flag} N` on the command line"
        if name == "max_features" and self.max_features is None:
            how = ("`max_features = ...` (or `max_rows = ...`) in the [inventory] section of "
                   "cwsgeo.toml, `--max-rows N` on the command line")
        return LimitError(name, f"{found}: over the limit of {shown} ({name}); refused "
                             f"before reading further. If you trust this file, raise the "
                             f"limit with {how} or ReadLimits({name}=...) in Python")


class LimitError(Exception):
    """A file goes over one of the :class:`ReadLimits` (reported as ``too_large``).

    Parameters
    ----------
    limit
        The :class:`ReadLimits` field.
    message
        What was found and how to raise the limit.
    """

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message


def check_zip(path: Path, limits: ReadLimits) -> None:
    """Check an XLSX workbook's uncompressed size and ratio from its ZIP directory.

    Nothing is decompressed: the sizes are the ones the directory declares, and Python's
    :mod:`zipfile` never inflates a member beyond its declared size.

    Raises
    ------
    LimitError
    """
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    biggest = max(infos, key=lambda i: i.file_size, default=None)
    what = f" (largest member {biggest.filename}: {biggest.file_size / _MB:,.1f} MB)" \
        if biggest is not None else ""
    if total > limits.max_uncompressed_bytes:
        raise limits.exceeded("max_uncompressed_bytes", f"the workbook unpacks to "
                              f"{total / _MB:,.1f} MB{what}")
    ratio = total / max(packed, 1)
    if total > _RATIO_FLOOR and ratio > limits.max_compression_ratio:
        raise limits.exceeded("max_compression_ratio", f"the workbook is compressed "
                              f"{ratio:,.0f} times ({packed / _MB:,.2f} MB unpack to "
                              f"{total / _MB:,.1f} MB{what}): a ZIP bomb?")
    with zipfile.ZipFile(path) as zf:
        for info in infos:
            _count_row_elements(zf, info, limits)


def _count_row_elements(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ReadLimits) -> None:
    """Count ``<row>`` elements of a member as it inflates, stopping past the row limit.

    openpyxl parses a whole worksheet when it opens a workbook if the sheet has no
    ``<dimension>`` element, so rows are counted here first, at C speed. Empty rows and title
    lines count too, hence the slack of 1,000 over ``max_rows``; the exact count of data rows
    is made while the rows stream (:class:`RowStream`).
    """
    if info.file_size < 4 * limits.max_rows:  # a row element takes more than 4 bytes
        return
    most, n, tail = limits.max_rows + 1_000, 0, b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            # matches wholly inside the tail were counted with the previous chunk
            n += len(_ROW_ELEMENT.findall(tail + chunk)) - len(_ROW_ELEMENT.findall(tail))
            tail = chunk[-16:]
            if n > most:
                raise limits.exceeded("max_rows", f"{info.filename} has more than {most:,} "
                                      "rows")


def check_line_length(text: str, limits: ReadLimits) -> None:
    """Check the longest line of a text table without splitting it (CR, LF or CRLF ends).

    Each step looks at one window of ``max_line_chars + 1`` characters and jumps past its last
    line break, so the cost is a few C-level searches per window.

    Raises
    ------
    LimitError
    """
    limit, n, pos = limits.max_line_chars, len(text), 0
    while n - pos > limit:
        end = pos + limit + 1
        last = max(text.rfind("\n", pos, end), text.rfind("\r", pos, end))
        if last < 0:
            stop = min((i for i in (text.find("\n", end), text.find("\r", end)) if i >= 0),
                       default=n)
            line = text.count("\n", 0, pos) + 1
            raise limits.exceeded("max_line_chars", f"line {line:,} has {stop - pos:,} "
                                  "characters")
        pos = last + 1


def check_json_depth(data: bytes, limits: ReadLimits) -> None:
    """Check the nesting depth of JSON text before it is parsed.

    Brackets inside strings do not count. Escaped backslashes and quotes are blanked first, so
    every remaining ``"`` opens or closes a string; a running count of quotes then says which
    brackets are inside strings. Works on UTF-8 and single-byte encodings (their ASCII bytes are
    ASCII characters); the scan runs by chunks of 1 MiB, with numpy.

    Raises
    ------
    LimitError
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"__").replace(b'\\"', b"__")
    arr = np.frombuffer(data, dtype=np.uint8)
    depth, inside, deepest = 0, 0, 0
    for start in range(0, len(arr), _CHUNK):
        a = arr[start:start + _CHUNK]
        in_string = (np.cumsum(a == 34, dtype=np.int64) + inside) & 1
        delta = ((a == 91) | (a == 123)).astype(np.int32) - ((a == 93) | (a == 125))
        delta[in_string == 1] = 0
        running = np.cumsum(delta, dtype=np.int64) + depth
        deepest = max(deepest, int(running.max()))
        depth, inside = int(running[-1]), int(in_string[-1])
        if deepest > limits.max_json_depth:
            raise limits.exceeded("max_json_depth", f"the JSON is nested {deepest:,}"
                                  f"{'+' if start + _CHUNK < len(arr) else ''} levels deep")


def count_positions(coords: Any, stop: int) -> int:
    """Count the positions of GeoJSON ``coordinates``, stopping once past ``stop``.

    Parameters
    ----------
    coords
        Nested lists whose innermost lists are positions (``[x, y]`` or ``[x, y, z]``).
    stop
        Count at most a little past this (cost bounded by the limit, not by the geometry).
    """
    n, stack = 0, [coords]
    while stack and n <= stop:
        c = stack.pop()
        if not isinstance(c, list) or not c:
            continue
        if not isinstance(c[0], list):
            n += 1  # a position
        elif c[0] and not isinstance(c[0][0], list):
            n += len(c)  # a list of positions
        else:
            stack.extend(c)
    return n


def check_vertices(geometry: Any, row: int, limits: ReadLimits) -> None:
    """Check the vertices of one GeoJSON geometry (a mapping) before shapely builds it.

    Raises
    ------
    LimitError
    """
    if not isinstance(geometry, dict):
        return
    parts = [geometry]
    n = 0
    while parts and n <= limits.max_vertices:
        g = parts.pop()
        members = g.get("geometries")
        if isinstance(members, list):
            parts.extend(m for m in members if isinstance(m, dict))
        n += count_positions(g.get("coordinates"), limits.max_vertices - n)
    if n > limits.max_vertices:
        raise limits.exceeded("max_vertices", f"the geometry of row {row:,} has more than "
                              f"{limits.max_vertices:,} vertices")


class RowStream:
    """Collect a table's records as they stream in, within the row and column limits.

    Empty records are held back until a non-empty one follows, so trailing empty rows (which
    spreadsheets leave and the reader drops anyway) cost neither memory nor the row budget.
    Data rows are counted from the first non-empty record (the header, or a title line).

    Parameters
    ----------
    limits
        The limits to enforce.
    """

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.records: list[list[str]] = []
        self._pending = 0
        self._first: int | None = None

    def add(self, record: list[str]) -> None:
        """Append one record (held back while empty).

        Raises
        ------
        LimitError
            On the first row with too many columns, or the first data row over the limit.
        """
        if len(record) > self.limits.max_columns:
            self._check_width(record)
        if not (record and record[0] and not record[0].isspace()) and \
                not "".join(record).strip():
            self._pending += 1
            return
        if self._pending:
            self.records.extend([] for _ in range(self._pending))
            self._pending = 0
        if self._first is None:
            self._first = len(self.records)
        self.records.append(record)
        if len(self.records) - self._first - 1 > self.limits.max_rows:
            raise self.limits.exceeded("max_rows", f"more than {self.limits.max_rows:,} "
                                       f"data rows (stopped at row {len(self.records):,})")

    def _check_width(self, record: Sequence[str]) -> None:
        width = len(record)
        while width and not record[width - 1].strip():
            width -= 1
        if width > self.limits.max_columns:
            row = len(self.records) + self._pending + 1
            raise self.limits.exceeded("max_columns", f"row {row:,} has {width:,} columns")
