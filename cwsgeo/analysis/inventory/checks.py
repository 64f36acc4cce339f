"""Validation: the named checks every data row goes through, and the canonical frame.

:func:`validate` runs them in order: row shapes and cell sizes (:mod:`.cells`), text safety,
ids, names, coordinates (:mod:`.coordinates`), postcodes, innovation types, possible
duplicates and the ``no_location`` summary. Each check reports to the
:class:`~cwsgeo.analysis.inventory.model.ProblemCollector` and marks the rows whose errors
exclude them in :attr:`Cells.bad <cwsgeo.analysis.inventory.cells.Cells.bad>`. Checks work
column-wise, so 100,000 rows are fast and the flagged cells still get exact messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .cells import Cells, DataRows, read_cells
from .coordinates import Coordinates, check_coordinates, drop_restricted_coordinates
from .headers import HeaderMapping
from .model import CANONICAL_COLUMNS, ProblemCollector, canonical_frame, plural, row_ranges
from .values import normalise_postcode, parse_innovation_type

__all__ = [
    "check_ids",
    "check_innovation_types",
    "check_names",
    "check_possible_duplicates",
    "check_postcodes",
    "check_text_safety",
    "summarise_no_location",
    "validate",
]

_FORMULA_RE = re.compile(r"=|[+\-@](?![\d\s().\-/]*$)")
_MARKUP_RE = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>\x00]*>|<\s*script", re.IGNORECASE)
_UNSAFE_URL_RE = re.compile(r"(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_MOJIBAKE_RE = re.compile(r"Ã[\u0080-\u00bf]|Â[\u00a0-\u00bf]|â€")

# Cheap substring tests on the whole column decide whether a regex scan is needed at all.
_SCANS: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = {
    "start": (("\x00=", "\x00+", "\x00-", "\x00@"), re.compile(r"\x00[=+\-@]")),
    "markup": (("<",), re.compile("<")),
    "url": (("script", "data"), re.compile(r"(?i)script|data")),
    "mojibake": (("Ã", "Â", "â€"), re.compile("[ÃÂ]|â€")),
    "bad_bytes": (("\ufffd",), re.compile("\ufffd")),
}


def validate(body: DataRows, mapping: HeaderMapping, col: ProblemCollector,
             boundary: Any = None, use_restricted_coordinates: bool = False) -> pd.DataFrame:
    """Check every data row; return the usable ones as the canonical frame.

    Parameters
    ----------
    body
        The records under the header.
    mapping
        Where each column goes.
    col
        Where problems go.
    boundary
        Optional city boundary (see :func:`cwsgeo.analysis.inventory.check_inventory`).
    use_restricted_coordinates
        Keep coordinates from restricted sources (see
        :func:`~cwsgeo.analysis.inventory.coordinates.drop_restricted_coordinates`).

    Returns
    -------
    pandas.DataFrame
        Canonical columns, then the carried-through ones, then ``source_row``; rows with an
        error or empty are left out.
    """
    cells = read_cells(body, mapping, col)
    check_text_safety(cells, col)
    ids = check_ids(cells, col)
    names = check_names(cells, ids, col)
    coords = check_coordinates(cells, body.geometry, col, boundary)
    drop_restricted_coordinates(cells, coords, col, allow=use_restricted_coordinates)
    postcodes = check_postcodes(cells, col)
    itypes = check_innovation_types(cells, col)
    addresses = cells.values("address")
    check_possible_duplicates(cells, ids, names, addresses, col)
    keep = np.flatnonzero(~cells.empty & ~cells.bad)
    summarise_no_location(cells, keep, addresses, coords, body.geometry is not None, col)
    data: dict[str, Any] = {"id": ids, "name": names, "address": addresses,
                            "postcode": postcodes, "lat": coords.lat, "lon": coords.lon,
                            "innovation_type": itypes}
    for i in sorted(mapping.out_name):
        name = mapping.out_name[i]
        if name not in CANONICAL_COLUMNS:
            data[name] = cells.clean[i]
    data["source_row"] = np.asarray(cells.numbers, dtype=np.int64)
    return canonical_frame({name: _take(values, keep) for name, values in data.items()})


def _take(values: Sequence[Any] | np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Return the kept rows of a column (lists become object arrays)."""
    if isinstance(values, np.ndarray):
        return values[keep]
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr[keep]


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


def check_text_safety(cells: Cells, col: ProblemCollector) -> None:
    """Warn about formulas, markup, script URLs, mojibake and invalid bytes (kept as text).

    Coordinates, postcodes and innovation types are only checked for invalid bytes: their
    own checks reject anything else.
    """
    numeric = ("lat", "lon", "postcode", "innovation_type")
    for i, label in cells.label.items():
        values = cells.clean[i]
        is_text = cells.mapping.out_name.get(i) not in numeric
        for k in _candidates(values, list(_SCANS) if is_text else ["bad_bytes"]):
            if cells.skip[k]:
                continue
            v = values[k]
            short = v if len(v) <= 60 else v[:57] + "..."
            if "\ufffd" in v:
                col.warning("bad_bytes", f"{short!r} contains invalid bytes (shown as '�')",
                            row=cells.numbers[k], column=label)
            if is_text:
                _check_text_cell(v, short, cells.numbers[k], label, col)


def _check_text_cell(v: str, short: str, row: int, label: str, col: ProblemCollector) -> None:
    if _FORMULA_RE.match(v):
        col.warning("formula", f"{short!r} looks like a spreadsheet formula; it is kept "
                    "as plain text (never evaluated) and neutralised in CSV exports",
                    row=row, column=label)
    if _MARKUP_RE.search(v):
        col.warning("markup", f"{short!r} contains HTML markup; it is kept verbatim as "
                    "text (maps escape it)", row=row, column=label)
    if _UNSAFE_URL_RE.match(v.strip()):
        col.warning("unsafe_url", f"{short!r} is a script URL; it is kept as text but "
                    "must never be used as a link", row=row, column=label)
    if _MOJIBAKE_RE.search(v):
        try:
            fixed = v.encode("cp1252").decode("utf-8")
            hint = f" (probably {fixed[:60]!r})"
        except UnicodeError:
            hint = ""
        col.warning("mojibake", f"{short!r} looks like UTF-8 text decoded as Latin-1"
                    f"{hint}; kept as is", row=row, column=label)


def check_ids(cells: Cells, col: ProblemCollector) -> list[str]:
    """Report blank and repeated ids (errors); return the ids."""
    ids = cells.values("id")
    id_col = cells.column("id")
    seen: dict[str, int] = {}
    for k, rid in enumerate(ids):
        if cells.skip[k]:
            continue
        if not rid:
            col.error("missing_id", "the id is blank", row=cells.numbers[k], column=id_col)
            cells.bad[k] = True
        elif rid in seen:
            col.error("duplicate_id", f"id {rid!r} is already used on row {seen[rid]}",
                      row=cells.numbers[k], column=id_col)
            cells.bad[k] = True
        else:
            seen[rid] = cells.numbers[k]
    return ids


def check_names(cells: Cells, ids: Sequence[str], col: ProblemCollector) -> list[str]:
    """Warn about blank names; return the names, with the id standing in for a blank one."""
    names = list(cells.values("name"))
    for k, nm in enumerate(names):
        if not nm and not cells.skip[k]:
            col.warning("missing_name", "the name is blank; the id is shown instead",
                        row=cells.numbers[k], column=cells.column("name"))
            names[k] = ids[k]
    return names


def check_postcodes(cells: Cells, col: ProblemCollector) -> list[str]:
    """Warn about postcodes that are not 5 digits; return the normalised ones (or blank)."""
    postcodes = list(cells.values("postcode"))
    if "postcode" not in cells.canon:
        return postcodes
    cache: dict[str, str | None] = {}
    for k, pc in enumerate(postcodes):
        if not pc or cells.skip[k]:
            continue
        if pc not in cache:
            cache[pc] = normalise_postcode(pc)
        norm = cache[pc]
        if norm is None:
            col.warning("bad_postcode", f"{pc!r} is not a 5-digit postcode; ignored",
                        row=cells.numbers[k], column=cells.column("postcode"))
        postcodes[k] = norm or ""
    return postcodes


def check_innovation_types(cells: Cells, col: ProblemCollector) -> list[int | None]:
    """Report innovation types that are not 1, 2, 3 or a known word; return the types."""
    itypes: list[int | None] = [None] * cells.n
    if "innovation_type" not in cells.canon:
        return itypes
    values = cells.values("innovation_type")
    parsed: dict[str, int | ValueError | None] = {}
    for v in values:
        if v and v not in parsed:
            try:
                parsed[v] = parse_innovation_type(v)
            except ValueError as exc:
                parsed[v] = exc
    for k, v in enumerate(values):
        if not v or cells.skip[k]:
            continue
        res = parsed[v]
        if isinstance(res, ValueError):
            col.error("unknown_type", str(res), row=cells.numbers[k],
                      column=cells.column("innovation_type"))
            cells.bad[k] = True
        else:
            itypes[k] = res
    return itypes


def check_possible_duplicates(cells: Cells, ids: Sequence[str], names: Sequence[str],
                              addresses: Sequence[str], col: ProblemCollector) -> None:
    """Warn about a row with the same name and address as an earlier one."""
    if "address" not in cells.canon:
        return
    first_at: dict[tuple[str, str], int] = {}
    for k, addr in enumerate(addresses):
        if not addr or cells.skip[k] or not names[k]:
            continue
        key = (names[k].casefold(), addr.casefold())
        if key in first_at:
            j = first_at[key]
            col.warning("possible_duplicate", f"same name and address as row "
                        f"{cells.numbers[j]} (id {ids[j]!r}): the same space twice?",
                        row=cells.numbers[k], column=cells.column("name"))
        else:
            first_at[key] = k


def summarise_no_location(cells: Cells, keep: np.ndarray, addresses: Sequence[str],
                          coords: Coordinates, has_geometry: bool,
                          col: ProblemCollector) -> None:
    """Add one ``no_location`` line for all usable rows with no address and no coordinates."""
    noloc = [cells.numbers[k] for k in keep if not addresses[k] and math.isnan(coords.lat[k])]
    if not noloc:
        return
    rows_txt = (f"row {noloc[0]}" if len(noloc) == 1 else f"rows {row_ranges(noloc)}")
    if "address" in cells.canon or "lat" in cells.canon or has_geometry:
        verb = "has" if len(noloc) == 1 else "have"
        msg = (f"{len(noloc):,} of {len(keep):,} usable rows {verb} no address and no "
               f"coordinates ({rows_txt}): only the name can locate them")
    else:
        msg = (f"the file has no address or coordinate column: only the name can locate "
               f"the {plural(len(noloc), 'usable row')} ({rows_txt})")
    column = cells.column("address") if "address" in cells.canon else "address"
    col.summarise("warning", "no_location", msg, column=column)
