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
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_path, neutralise_formulas
from ._xlsx import Sheet, write_xlsx

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


#: Characters an XLSX cell cannot hold (dropped), as :mod:`openpyxl` defines them.
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: Longest text of a cell (longer texts are cut, as openpyxl does).
_MAX_TEXT = 32767


def _cell(value: Any) -> Any:
    """Return a value a sheet can store (missing: empty; numpy: Python; others: text)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    return _ILLEGAL.sub("", str(value))[:_MAX_TEXT]


def _values(column: pd.Series) -> list[Any]:
    """Return a column's cells (:func:`_cell` of each value; number columns converted at once)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = column.to_numpy()
        values = arr.tolist()
        finite = np.isfinite(arr)
        if finite.all():
            return values
        return [v if ok else None for v, ok in zip(values, finite.tolist(), strict=True)]
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return column.to_numpy().tolist()
    values = [v if type(v) is str else _cell(v) for v in column.tolist()]
    texts = [v for v in values if type(v) is str]
    if not texts or (max(map(len, texts)) <= _MAX_TEXT
                     and not _ILLEGAL.search("\n".join(texts))):
        return values  # the texts are fine as they are: no need to clean them one by one
    return [_cell(v) if type(v) is str else v for v in values]


def _sheet(name: str, table: pd.DataFrame) -> Sheet:
    """Return a table as a sheet: text cells neutralised, columns sized to their first rows."""
    safe = neutralise_formulas(table)
    header = [_cell(str(c)) for c in safe.columns]
    columns = [_values(safe.iloc[:, i]) for i in range(safe.shape[1])]
    widths = [min(max(len(str(col)) + 2, *[len(_shown(v)) + 1 for v in values[:_WIDTH_ROWS]],
                      6), MAX_WIDTH) for col, values in zip(header, columns, strict=True)]
    return Sheet(name, header, widths, columns)


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
    taken: set[str] = set()
    sheets = []
    for name, table in tables.items():
        frame = pd.DataFrame(table)
        geom = [c for c in frame.columns if str(frame[c].dtype) == "geometry"]
        sheets.append(_sheet(sheet_name(name, taken), frame.drop(columns=geom)))
    if not sheets:
        sheets.append(_sheet("Empty", pd.DataFrame()))
    with atomic_path(path) as tmp:
        write_xlsx(sheets, tmp)
    return Path(path)
