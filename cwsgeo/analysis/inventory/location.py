"""Location warnings on the geocoded inventory, worded like the rest of the inventory QA.

:func:`location_problems` reads the columns :func:`cwsgeo.analysis.geocoding.geocode_table`
adds and returns :class:`~cwsgeo.analysis.inventory.model.Problem` warnings (spreadsheet
rows from ``source_row``), so they print with the inventory's own problems:

=================== ======== ============================================================
code                severity meaning
=================== ======== ============================================================
coord_mismatch      warning  the row's own coordinates lie more than ``max_m`` from where
                             its address geocodes (``coord_check_m``): one of them is wrong
postcode_mismatch   warning  the postcode given (column, else written in the address)
                             is not the gazetteer's postcode of the matched address
=================== ======== ============================================================

Postcodes are not compared when the address was matched to a street without a house
number (a street crosses several postcodes) or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ... import settings
from ..geocoding.normalize import parse_address
from .model import Problem
from .values import normalise_postcode

__all__ = ["LOCATION_CODES", "location_problems"]

#: Problem codes of :func:`location_problems`.
LOCATION_CODES: tuple[str, ...] = ("coord_mismatch", "postcode_mismatch")

#: The columns the checks read (records of only these: the spaces have a hundred more).
_USED = ("source_row", "coord_check_m", "lat", "lon", "geocode_lat", "geocode_lon",
         "matched_address", "matched_postcode", "geocode_status", "location_method",
         "address_from_name", "address", "postcode")

_NO_POSTCODE_CHECK = frozenset({"street_only", "unmatched", "not_geocoded", ""})


def location_problems(spaces: pd.DataFrame, file: str, *, max_m: float | None = None,
                      columns: Mapping[str, str] | None = None) -> list[Problem]:
    """Warn about coordinates far from their address and postcodes the gazetteer contradicts.

    Parameters
    ----------
    spaces
        The geocoded inventory (:func:`cwsgeo.analysis.geocoding.geocode_table`'s columns:
        ``coord_check_m``, ``geocode_lat``/``geocode_lon``, ``matched_address``,
        ``matched_postcode``, ``geocode_status``, ``location_method``; plus ``lat``,
        ``lon``, ``address``, ``postcode`` and ``source_row``). Missing columns skip the
        checks that need them.
    file
        Inventory file name put on every problem.
    max_m
        Largest distance (m) accepted between a row's coordinates and its geocoded address
        (default :data:`cwsgeo.settings.coord_mismatch_m`, 250 m).
    columns
        Canonical name -> column as written in the file (the inverse of
        :attr:`Inventory.columns_map <cwsgeo.analysis.inventory.Inventory.columns_map>`),
        so problems name the file's own headers.

    Returns
    -------
    list of Problem
        ``coord_mismatch`` and ``postcode_mismatch`` warnings, by row.
    """
    limit = settings.coord_mismatch_m if max_m is None else float(max_m)
    label = dict(columns or {})
    out: list[Problem] = []
    frame = pd.DataFrame(spaces)
    used = [c for c in _USED if c in frame.columns]
    # one dict per row from column lists (DataFrame.to_dict boxes every value: 3x slower)
    for values in zip(*(frame[c].tolist() for c in used), strict=True):
        rec = dict(zip(used, values, strict=True))
        row = _row(rec.get("source_row"))
        dist = _number(rec.get("coord_check_m"))
        if dist is not None and dist > limit:
            out.append(Problem(file, row, None, "warning", "coord_mismatch",
                               _coord_message(rec, dist, limit)))
        found = _postcode_contradiction(rec)
        if found is not None:
            given, where = found
            out.append(Problem(file, row, label.get(where, where), "warning",
                               "postcode_mismatch", _postcode_message(rec, given, where)))
    return sorted(out, key=lambda p: (p.row is None, p.row or 0, p.code))


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _row(value: Any) -> int | None:
    x = _number(value)
    return None if x is None else int(x)


def _coord_message(rec: Mapping[Any, Any], dist: float, limit: float) -> str:
    here = _position(rec.get("lat"), rec.get("lon"))
    there = _position(rec.get("geocode_lat"), rec.get("geocode_lon"))
    matched = _text(rec.get("matched_address")) or _text(rec.get("address"))
    return (f"the coordinates given ({here}) are {dist:,.0f} m from the address "
            f"{_text(rec.get('address'))!r}, which the gazetteer places at {matched!r} "
            f"({there}); more than {limit:,.0f} m: one of them is wrong (the coordinates "
            "are used)")


def _position(lat: Any, lon: Any) -> str:
    y, x = _number(lat), _number(lon)
    return "?" if y is None or x is None else f"{y:.5f}, {x:.5f}"


def _postcode_contradiction(rec: Mapping[Any, Any]) -> tuple[str, str] | None:
    """Return (postcode given, canonical column it came from) if the gazetteer's differs."""
    status = _text(rec.get("geocode_status"))
    matched = normalise_postcode(_text(rec.get("matched_postcode")))
    if status in _NO_POSTCODE_CHECK or not matched or bool(rec.get("address_from_name")):
        return None
    given = normalise_postcode(_text(rec.get("postcode")))
    where = "postcode"
    if given is None:
        address = _text(rec.get("address"))
        given = parse_address(address).postcode if address else None
        where = "address"
    if given is None or given == matched:
        return None
    return given, where


def _postcode_message(rec: Mapping[Any, Any], given: str, where: str) -> str:
    source = "Nominatim" if rec.get("location_method") == "nominatim" else "the gazetteer"
    written = "" if where == "postcode" else " (written in the address)"
    return (f"postcode {given}{written} contradicts the address: {source} puts "
            f"{_text(rec.get('matched_address'))!r} in "
            f"{normalise_postcode(_text(rec.get('matched_postcode')))}")
