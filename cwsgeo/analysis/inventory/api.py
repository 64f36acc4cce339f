"""The entry points: :func:`check_inventory` reports, :func:`read_inventory` raises."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..._errors import InventoryError
from ..._text import fold
from .cells import DataRows
from .checks import validate
from .headers import demote_weak_type_columns, find_header, map_headers
from .limits import LimitError, ReadLimits
from .model import (
    CANONICAL_COLUMNS,
    Inventory,
    ProblemCollector,
    RawTable,
    empty_frame,
    format_problems,
    plural,
)
from .readers import csv_field_limit, read_table

__all__ = ["check_inventory", "read_inventory"]

log = logging.getLogger(__name__)


def check_inventory(path: str | os.PathLike[str], columns: Mapping[str, str] | None = None,
                    ignore_columns: Iterable[str] = (), sheet: str | None = None,
                    boundary: Any = None, limits: ReadLimits | None = None, *,
                    use_restricted_coordinates: bool = False) -> Inventory:
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
    limits
        Bounds on the file's size and shape (``None``: the defaults of :class:`ReadLimits`).
        A file over one gets a single ``too_large`` error and is not read further.
    use_restricted_coordinates
        Use coordinates whose row's ``source`` names Google Places. By default they are
        dropped with a ``restricted_coordinates`` warning and the row is located from its
        address: Google's terms forbid storing them (the bundle's list has 20 such rows).

    Returns
    -------
    Inventory
        ``problems`` holds the errors and warnings (the first
        :data:`~cwsgeo.analysis.inventory.model.KEEP_PER_CODE` of each code; ``omitted``
        counts the rest); ``data`` holds the usable rows.
    """
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping {{file header: canonical name}}, not "
                        f"{type(columns).__name__}")
    if isinstance(ignore_columns, str):
        ignore_columns = [ignore_columns]
    p = Path(path)
    col = ProblemCollector(p.name)
    started = time.perf_counter()
    details: dict[str, Any] = {}
    n_rows = 0
    column_order: dict[str, int] = {}
    data = empty_frame()
    columns_map: dict[str, str] = {}
    try:
        if not p.exists():
            col.error("not_found", f"file not found: {p}")
        elif p.is_dir():
            col.error("not_a_file", f"{p} is a folder, not an inventory file")
        else:
            with csv_field_limit():
                table = read_table(p, col, _folded_mapping(columns or {}), sheet,
                                   limits or ReadLimits())
                if table is not None:
                    details = {"format": table.fmt, **table.details}
                    data, n_rows, columns_map, column_order = _check_table(
                        table, columns or {}, ignore_columns, col, boundary, details,
                        use_restricted_coordinates)
    except LimitError as exc:
        col.error("too_large", exc.message)
    except OSError as exc:
        col.error("unreadable", f"cannot read the file: {exc}")
    except Exception as exc:  # last resort: check_inventory never raises on bad content
        log.debug("unexpected failure while checking %s", p, exc_info=True)
        col.error("internal_error", f"unexpected failure while reading the file "
                  f"({type(exc).__name__}: {exc}); please report this as a cwsgeo bug")
    log.debug("checked %s in %.2f s: %d rows, %d problems", p, time.perf_counter() - started,
              n_rows, len(col.problems))
    return Inventory(p, data, col.sorted(column_order), n_rows, columns_map, details,
                     col.omitted())


def read_inventory(path: str | os.PathLike[str], columns: Mapping[str, str] | None = None,
                   ignore_columns: Iterable[str] = (), sheet: str | None = None,
                   boundary: Any = None, limits: ReadLimits | None = None, *,
                   use_restricted_coordinates: bool = False) -> Inventory:
    """Read and validate an inventory; raise if it has any error.

    Parameters
    ----------
    path, columns, ignore_columns, sheet, boundary, limits, use_restricted_coordinates
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
    inv = check_inventory(path, columns, ignore_columns, sheet, boundary, limits,
                          use_restricted_coordinates=use_restricted_coordinates)
    if inv.errors:
        n_errors = sum(inv.codes("error").values())
        summary = f"{Path(path).name}: {plural(n_errors, 'error')} in the inventory"
        lines = format_problems(inv.problems, severities=("error",), omitted=inv.omitted)
        raise InventoryError("\n".join([summary, *lines]), inv.problems)
    return inv


def _folded_mapping(columns: Mapping[str, str]) -> dict[str, str]:
    """Return the explicit mapping with folded headers (only valid canonical targets)."""
    return {fold(str(k)): v for k, v in columns.items() if v in CANONICAL_COLUMNS}


def _check_table(table: RawTable, columns: Mapping[str, str], ignore_columns: Iterable[str],
                 col: ProblemCollector, boundary: Any, details: dict[str, Any],
                 use_restricted_coordinates: bool = False
                 ) -> tuple[pd.DataFrame, int, dict[str, str], dict[str, int]]:
    """Find the header, map it and validate the rows.

    Returns (data, data rows, columns map, column order for sorting the problems).
    """
    h = find_header(table, _folded_mapping(columns), col)
    if h is None:
        col.error("empty_file", "the file has no values (only empty rows)")
        return empty_frame(), 0, {}, {}
    header_row = table.numbers[h]
    details["header_row"] = header_row
    header = [c.strip() for c in table.records[h]]
    body = _data_rows(table, h, len(header))
    rows = body.records

    def has_data(i: int) -> bool:
        return any(i < len(r) and r[i].strip() for r in rows)

    mp = map_headers(header, columns, ignore_columns, col, header_row, has_data)
    column_order = {label: i for i, label in enumerate(header)}
    column_order["geometry"] = len(header)
    if mp is None:
        return empty_frame(), len(rows), {}, column_order
    for i, label in mp.label.items():
        column_order.setdefault(label, i)
    demote_weak_type_columns(mp, header, rows, col, header_row)
    if not rows:
        col.error("no_rows", "the file has a header but no data rows", row=None)
    data = validate(body, mp, col, boundary, use_restricted_coordinates)
    columns_map = {mp.label[i]: c for c, i in mp.canon.items()}
    columns_map = {k: columns_map[k] for k in sorted(columns_map, key=lambda x: column_order[x])}
    return data, len(rows), columns_map, column_order


def _data_rows(table: RawTable, h: int, width: int) -> DataRows:
    """Return the records under header ``h``, without trailing empty rows.

    Spreadsheets and editors leave trailing empty rows, so they are dropped silently; in
    vector/JSON input every feature is a row.
    """
    rows = table.records[h + 1:]
    numbers = table.numbers[h + 1:]
    geometry = table.geometry[h + 1:] if table.geometry is not None else None
    end = len(rows)
    while end and not table.fixed_header and not "".join(rows[end - 1]).strip() and (
            geometry is None or geometry[end - 1] is None):
        end -= 1
    return DataRows(rows[:end], numbers[:end], geometry[:end] if geometry is not None else None,
                    width, table.delimited, table.delimiter)
