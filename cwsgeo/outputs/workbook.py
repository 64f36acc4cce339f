"""The build's tables as one spreadsheet (``data/processed/cwsgeo_tables.xlsx``).

One sheet per table, for planners who work in spreadsheets: header row bold, frozen and
filterable, columns sized to their content. Text cells that a spreadsheet would run as
formulas are neutralised exactly as in the CSV files (:func:`cwsgeo._io.neutralise_formulas`);
the file is written atomically.

Examples
--------
>>> import pandas as pd
>>> sheet_name("districts: per km²/[2024]")
'districts per km² 2024'
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._io import atomic_path, neutralise_formulas

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet as Worksheet

__all__ = ["changes_table", "sheet_name", "write_workbook"]

#: Widest column, in characters.
MAX_WIDTH = 60
#: Rows looked at to size a column.
_WIDTH_ROWS = 500
_CHANGE_KINDS = ("added", "removed", "moved", "retyped", "located", "unlocated", "renamed")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str] | None = None) -> str:
    r"""Return a valid, unused sheet name: no ``[]:*?/\``, at most 31 characters.

    Parameters
    ----------
    name
        Wanted name.
    taken
        Names already used (compared case-insensitively, as Excel does); the result is added.
    """
    base = " ".join(_SHEET_BAD.sub(" ", str(name)).split()).strip("'")[:31] or "Sheet"
    taken = set() if taken is None else taken
    out, n = base, 1
    while out.lower() in {t.lower() for t in taken}:
        n += 1
        out = f"{base[:31 - len(str(n)) - 1]}~{n}"
    taken.add(out)
    return out


def changes_table(changes: Mapping[str, Any]) -> pd.DataFrame:
    """Return the changes since the previous build as a table, one row per space and change.

    Parameters
    ----------
    changes
        ``ChangeReport.to_dict()`` (the content of ``changes.json``).

    Returns
    -------
    pandas.DataFrame
        Columns ``change``, ``id``, ``name`` then what changed (``moved_m``, ``before``,
        ``after``...).
    """
    rows = [{"change": kind, **item} for kind in _CHANGE_KINDS
            for item in changes.get(kind) or [] if isinstance(item, Mapping)]
    table = pd.DataFrame(rows)
    for col in ("change", "id", "name"):
        if col not in table.columns:
            table[col] = pd.Series(dtype=object)
    return table[["change", "id", "name", *[c for c in table.columns
                                            if c not in ("change", "id", "name")]]]


def _cell(value: Any) -> Any:
    """Return a value openpyxl can store (missing: empty; numpy: Python; others: text)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _fill_sheet(ws: Worksheet, table: pd.DataFrame) -> None:
    """Write a table into a write-only sheet: bold frozen header, filter, column widths."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    safe = neutralise_formulas(table)
    header = [_cell(str(c)) for c in safe.columns]
    rows = [[_cell(v) for v in row] for row in safe.itertuples(index=False, name=None)]
    # sheet settings come before the rows in the file: set them first
    ws.freeze_panes = "A2"
    if header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows), 1) + 1}"
    for i, col in enumerate(header):
        width = max([len(str(col)) + 2, *[len(_shown(r[i])) + 1 for r in rows[:_WIDTH_ROWS]]])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(width, 6), MAX_WIDTH)
    bold = Font(bold=True)
    cells = []
    for value in header:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    for row in rows:
        ws.append(row)


def _shown(v: Any) -> str:
    """Roughly the text a spreadsheet shows for a stored value (for column widths)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write tables as sheets of one ``.xlsx`` workbook, atomically.

    Parameters
    ----------
    tables
        Sheet name -> table (geometry columns are dropped; names are made valid with
        :func:`sheet_name`). Sheets keep this order.
    path
        Destination ``.xlsx``.

    Returns
    -------
    Path
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)  # streams rows: several times faster than the default
    taken: set[str] = set()
    for name, table in tables.items():
        frame = pd.DataFrame(table)
        geom = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
        _fill_sheet(wb.create_sheet(sheet_name(name, taken)), frame.drop(columns=geom))
    if not wb.sheetnames:
        wb.create_sheet("Empty")
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)
