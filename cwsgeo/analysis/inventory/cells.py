"""The data rows as cells: row shapes, oversized cells, and the cleaned columns to check.

:func:`read_cells` turns the records under the header into one list per column. On the way it
reports rows of the wrong shape (``extra_fields``, ``mixed_delimiter``, ``short_row``,
``empty_row``) and cells too long to be true (``huge_field``, ``unbalanced_quote``). Rows whose
cells are shifted are marked so that no later check reports their cells: one mistake, one
message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .headers import HeaderMapping
from .model import CANONICAL_COLUMNS, ProblemCollector, delimiter_name
from .values import clean_column

__all__ = ["MAX_FIELD", "Cells", "DataRows", "read_cells"]

#: Longest cell in characters; longer ones are errors, not silently truncated.
MAX_FIELD = 100_000


@dataclass
class DataRows:
    """The records under the header, as read.

    Attributes
    ----------
    records
        Cells of each data row, as text (rows may be shorter or longer than the header).
    numbers
        Spreadsheet row number of each record.
    geometry
        (lat, lon) of each row's vector geometry, or None for tables without geometry.
    width
        Number of header cells.
    delimited
        Whether the file is delimited text (CSV), where row lengths matter.
    delimiter
        The CSV delimiter.
    """

    records: list[list[str]]
    numbers: list[int]
    geometry: list[tuple[float, float] | None] | None
    width: int
    delimited: bool = False
    delimiter: str = ","


@dataclass
class Cells:
    """The data rows column by column, cleaned, with the rows' state so far.

    Attributes
    ----------
    numbers
        Spreadsheet row number of each row.
    mapping
        Where each column goes.
    clean
        Cleaned values of each kept column (canonical columns trimmed, control and zero-width
        characters removed; other columns only trimmed).
    empty
        Empty rows (no cells and no geometry).
    skip
        Rows whose cells are not checked: empty or structurally broken.
    bad
        Rows with an error: left out of the inventory.
    """

    numbers: list[int]
    mapping: HeaderMapping
    clean: dict[int, list[str]]
    empty: np.ndarray
    skip: np.ndarray
    bad: np.ndarray

    @property
    def n(self) -> int:
        """Number of data rows."""
        return len(self.numbers)

    @property
    def canon(self) -> dict[str, int]:
        """Canonical column -> column index."""
        return self.mapping.canon

    @property
    def label(self) -> dict[int, str]:
        """Column index -> header as written."""
        return self.mapping.label

    def values(self, canonical: str) -> list[str]:
        """Return the cleaned values of a canonical column (blanks if the file has none)."""
        if canonical in self.canon:
            return self.clean[self.canon[canonical]]
        return [""] * self.n

    def column(self, canonical: str) -> str:
        """Return the header, as written, of a canonical column the file has."""
        return self.label[self.canon[canonical]]


@dataclass
class _Shapes:
    columns: list[list[str]]      # cells padded to the header width, column by column
    empty: np.ndarray
    bad: np.ndarray
    structural: np.ndarray        # rows whose cells are shifted: no cell checks


def read_cells(body: DataRows, mapping: HeaderMapping, col: ProblemCollector) -> Cells:
    """Check the rows' shapes and cell sizes, then clean the kept columns.

    Parameters
    ----------
    body
        The records under the header.
    mapping
        Where each column goes.
    col
        Where problems go.

    Returns
    -------
    Cells
    """
    shapes = _check_row_shapes(body, col)
    for i in mapping.label:
        _check_huge_fields(body, shapes, i, mapping.label[i], col)
        _check_unclosed_quotes(body, shapes, i, mapping.label[i], col)
    if shapes.structural.any():  # the shifted rows' own short_row warnings would only mislead
        shifted = {body.numbers[k] for k in np.flatnonzero(shapes.structural)}
        col.discard("short_row", shifted)
    clean: dict[int, list[str]] = {}
    for i in mapping.label:
        if mapping.out_name.get(i) in CANONICAL_COLUMNS:
            clean[i] = clean_column(shapes.columns[i])
        else:
            clean[i] = [v.strip() for v in shapes.columns[i]]
    return Cells(body.numbers, mapping, clean, shapes.empty, shapes.empty | shapes.structural,
                 shapes.bad)


def _check_row_shapes(body: DataRows, col: ProblemCollector) -> _Shapes:
    """Pad or cut every row to the header width; report empty and misshapen rows."""
    n, width, numbers = len(body.records), body.width, body.numbers
    shapes = _Shapes([], np.zeros(n, dtype=bool), np.zeros(n, dtype=bool),
                     np.zeros(n, dtype=bool))
    reported = col.rows()  # e.g. bad GeoJSON features
    padded: list[list[str]] = []
    for k, r in enumerate(body.records):
        if len(r) == width and r and r[0] and not r[0].isspace():
            padded.append(r)  # fast path: a full-width row with an id-like first cell
            continue
        if not "".join(r).strip():
            shapes.empty[k] = body.geometry is None or body.geometry[k] is None
            if shapes.empty[k]:
                if numbers[k] not in reported:
                    col.warning("empty_row", "empty row skipped", row=numbers[k])
                padded.append([""] * width)
                continue
        if len(r) != width:
            r = _fit_row(body, k, shapes, col)
        padded.append(r)
    shapes.columns = ([list(c) for c in zip(*padded, strict=True)] if n
                      else [[] for _ in range(width)])
    return shapes


def _fit_row(body: DataRows, k: int, shapes: _Shapes, col: ProblemCollector) -> list[str]:
    """Cut a long row or pad a short one; report extra fields, mixed delimiters, short rows."""
    r, width, row = body.records[k], body.width, body.numbers[k]
    if len(r) > width:
        extra = [x for x in r[width:] if x.strip()]
        if extra:
            shown = ", ".join(repr(x[:30]) for x in r[:6]) + (", …" if len(r) > 6 else "")
            d = delimiter_name(body.delimiter) if body.delimited else "value"
            col.error("extra_fields", f"{len(r)} fields but the header has {width} "
                      f"({shown}): a {d} inside an unquoted value? Put that value in "
                      "double quotes", row=row)
            shapes.bad[k] = shapes.structural[k] = True
        return r[:width]
    if body.delimited:
        other = _other_delimiter(r, body)
        if other is not None:
            col.error("mixed_delimiter", f"this row is separated by {delimiter_name(other)} "
                      f"but the file uses {delimiter_name(body.delimiter)}", row=row)
            shapes.bad[k] = shapes.structural[k] = True
        else:
            col.warning("short_row", f"{len(r)} of {width} fields; the missing values are "
                        "read as blank", row=row)
    return r + [""] * (width - len(r))


def _other_delimiter(r: Sequence[str], body: DataRows) -> str | None:
    """Return the delimiter that splits a short row into (nearly) a whole row, if any."""
    line = body.delimiter.join(r)
    delims = [d for d in (",", ";", "\t", "|") if d != body.delimiter]
    return next((d for d in delims if len(r) <= 2 and len(next(csv.reader(
        io.StringIO(line, newline=""), delimiter=d), [])) >= max(3, body.width - 1)), None)


def _check_huge_fields(body: DataRows, shapes: _Shapes, i: int, label: str,
                       col: ProblemCollector) -> None:
    """Report cells over :data:`MAX_FIELD` characters (an unclosed quote, or huge data)."""
    values = shapes.columns[i]
    if not values or max(map(len, values)) <= MAX_FIELD:
        return
    width = body.width
    for k in (k for k, v in enumerate(values) if len(v) > MAX_FIELD):
        lines = values[k].split("\n")
        recordish = sum(1 for ln in lines if ln.count(body.delimiter) >= max(1, width - 2))
        if body.delimited and len(lines) > 2 and recordish >= 2 and \
                len(body.records[k]) < width:
            col.error("unbalanced_quote", f"a double quote opened in this value is never "
                      f"closed: it swallowed {len(lines) - 1:,} following lines "
                      f"({len(values[k]):,} characters)", row=body.numbers[k], column=label)
            shapes.structural[k] = True
        else:
            col.error("huge_field", f"{len(values[k]):,} characters (limit {MAX_FIELD:,})",
                      row=body.numbers[k], column=label)
        shapes.bad[k] = True
        values[k] = values[k][:200]


def _check_unclosed_quotes(body: DataRows, shapes: _Shapes, i: int, label: str,
                           col: ProblemCollector) -> None:
    """Report a quoted CSV value that swallowed the following records."""
    values, width = shapes.columns[i], body.width
    if not (body.delimited and "\n" in "".join(values)):
        return
    for k in (k for k, v in enumerate(values)
              if "\n" in v and not shapes.bad[k] and len(body.records[k]) < width):
        lines = values[k].split("\n")
        recordish = sum(1 for ln in lines[1:] if ln.count(body.delimiter) >= max(2, width - 1))
        if len(lines) > 2 and recordish >= 2:
            col.error("unbalanced_quote", f"a double quote opened in this value is never "
                      f"closed: it swallowed {len(lines) - 1:,} following lines",
                      row=body.numbers[k], column=label)
            shapes.bad[k] = shapes.structural[k] = True
