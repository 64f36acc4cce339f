"""Coordinate checks: parse lat/lon, merge vector geometries, catch swaps and far-away points.

Each check works on whole columns (NumPy) and reports the flagged cells one by one, so a
100,000-row file is fast and every message still names its row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ... import settings
from .cells import Cells
from .model import ProblemCollector
from .values import parse_coord_column

__all__ = ["RESTRICTED_COORDINATE_SOURCES", "Coordinates", "check_coordinates",
           "drop_restricted_coordinates"]

#: Words that mark a row's ``source`` as data whose terms forbid storing its coordinates
#: (Google Maps Platform: Google Places results may be cached only temporarily).
RESTRICTED_COORDINATE_SOURCES = ("google", "gplaces")


@dataclass
class Coordinates:
    """Latitudes and longitudes of the data rows (NaN where blank or unusable).

    Attributes
    ----------
    lat, lon
        Decimal degrees, after swapped pairs were swapped back.
    lat_column, lon_column
        Columns named in messages (``"geometry"`` when the file has no such column).
    failed
        Rows whose coordinates could not be read (an error was reported).
    """

    lat: np.ndarray
    lon: np.ndarray
    lat_column: str
    lon_column: str
    failed: np.ndarray


def check_coordinates(cells: Cells, geometry: Sequence[tuple[float, float] | None] | None,
                      col: ProblemCollector, boundary: Any = None) -> Coordinates:
    """Parse and check the coordinates; rows with errors are marked in ``cells.bad``.

    Parameters
    ----------
    cells
        The data rows' cleaned cells.
    geometry
        (lat, lon) of each row's vector geometry, or None for tables without geometry.
    col
        Where problems go.
    boundary
        Optional city boundary (see :func:`cwsgeo.analysis.inventory.check_inventory`).

    Returns
    -------
    Coordinates
    """
    coords = _parse_coordinates(cells, col)
    if geometry is not None:
        _merge_geometry(coords, geometry, cells, col)
    cells.bad |= coords.failed
    both = _check_pairs(coords, cells, col)
    valid = _check_ranges(coords, both, cells, col)
    _check_study_area(coords, valid, cells, col, boundary)
    return coords


def _parse_coordinates(cells: Cells, col: ProblemCollector) -> Coordinates:
    """Parse the lat and lon columns (``bad_coordinate`` errors)."""
    n = cells.n
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    failed = np.zeros(n, dtype=bool)
    for c, arr in (("lat", lat), ("lon", lon)):
        if c not in cells.canon:
            continue
        arr[:], errors = parse_coord_column(cells.values(c))
        for k, msg in errors.items():
            if cells.skip[k]:
                continue
            col.error("bad_coordinate", msg, row=cells.numbers[k], column=cells.column(c))
            failed[k] = True
    lat_col = cells.column("lat") if "lat" in cells.canon else "geometry"
    lon_col = cells.column("lon") if "lon" in cells.canon else "geometry"
    return Coordinates(lat, lon, lat_col, lon_col, failed)


def _merge_geometry(coords: Coordinates, geometry: Sequence[tuple[float, float] | None],
                    cells: Cells, col: ProblemCollector) -> None:
    """Fill blank coordinates from the geometry; warn where both disagree by over 100 m."""
    lat, lon = coords.lat, coords.lon
    for k, g in enumerate(geometry):
        if g is None:
            continue
        glat, glon = g
        if math.isinf(glon):  # geometry error already reported
            coords.failed[k] = True
            continue
        if math.isnan(lat[k]) and math.isnan(lon[k]) and not coords.failed[k]:
            lat[k], lon[k] = glat, glon
            if not (math.isfinite(glat) and math.isfinite(glon)):
                col.error("bad_coordinate", "the geometry has non-finite coordinates",
                          row=cells.numbers[k], column="geometry")
                coords.failed[k] = True
        elif not coords.failed[k] and _haversine_km(lat[k], lon[k], glat, glon) > 0.1:
            col.warning("geometry_mismatch", f"the columns say ({lat[k]}, {lon[k]}) but the "
                        f"geometry is at ({glat}, {glon}); the columns are used",
                        row=cells.numbers[k], column=coords.lat_column)


def _check_pairs(coords: Coordinates, cells: Cells, col: ProblemCollector) -> np.ndarray:
    """Report half coordinates and 0, 0; swap swapped pairs back; return rows with both."""
    lat, lon, numbers = coords.lat, coords.lon, cells.numbers
    has_lat, has_lon = ~np.isnan(lat), ~np.isnan(lon)
    for k in np.flatnonzero((has_lat != has_lon) & ~coords.failed & ~cells.skip):
        missing, where = (("lat", coords.lat_column) if not has_lat[k]
                          else ("lon", coords.lon_column))
        col.error("half_coordinate", f"{missing} is blank but the other coordinate is not",
                  row=numbers[k], column=where)
        cells.bad[k] = True
    both = has_lat & has_lon & ~coords.failed & ~cells.skip
    for k in np.flatnonzero(both & (lat == 0) & (lon == 0)):
        col.error("null_island", "coordinates 0, 0 are a placeholder, not a place",
                  row=numbers[k], column=coords.lat_column)
        cells.bad[k] = True
    both &= ~((lat == 0) & (lon == 0))
    swapped = both & _in_bbox(lon, lat) & ~_in_bbox(lat, lon)
    for k in np.flatnonzero(swapped):
        col.warning("swapped_coordinates", f"lat {lat[k]} and lon {lon[k]} look swapped; they "
                    "were swapped back", row=numbers[k], column=coords.lat_column)
    lat[swapped], lon[swapped] = lon[swapped], lat[swapped].copy()
    return both


def _check_ranges(coords: Coordinates, both: np.ndarray, cells: Cells,
                  col: ProblemCollector) -> np.ndarray:
    """Report latitudes beyond ±90 and longitudes beyond ±180; return the valid rows."""
    lat, lon = coords.lat, coords.lon
    with np.errstate(invalid="ignore"):
        lat_out = both & (np.abs(lat) > 90)
        lon_out = both & (np.abs(lon) > 180)
    for k in np.flatnonzero(lat_out | lon_out):
        hint = ""
        if abs(lat[k]) > 1000 or abs(lon[k]) > 1000:
            hint = ("; these look like projected metres (e.g. UTM): give WGS84 "
                    "decimal degrees")
        if lat_out[k]:
            col.error("coordinate_range", f"latitude {lat[k]} is outside -90..90{hint}",
                      row=cells.numbers[k], column=coords.lat_column)
        if lon_out[k]:
            col.error("coordinate_range", f"longitude {lon[k]} is outside -180..180{hint}",
                      row=cells.numbers[k], column=coords.lon_column)
        cells.bad[k] = True
    return both & ~lat_out & ~lon_out


def _check_study_area(coords: Coordinates, valid: np.ndarray, cells: Cells,
                      col: ProblemCollector, boundary: Any) -> None:
    """Flag valid points outside ``settings.city_bbox`` or outside the boundary given."""
    lat, lon, numbers = coords.lat, coords.lon, cells.numbers
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
                    row=numbers[k], column=coords.lat_column)
    geom = _boundary_geometry(boundary)
    if geom is None:
        return
    import shapely

    idx = np.flatnonzero(valid & inside)
    if len(idx):
        within = shapely.contains_xy(geom, lon[idx], lat[idx])
        for k in idx[~within]:
            col.warning("outside_city", f"({lat[k]}, {lon[k]}) is outside the city "
                        "boundary (in the sea or a neighbouring municipality?); the space "
                        "is kept and flagged", row=numbers[k], column=coords.lat_column)


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


def drop_restricted_coordinates(cells: Cells, coords: Coordinates, col: ProblemCollector,
                                allow: bool = False) -> int:
    """Blank coordinates whose ``source`` names a restricted provider (Google Places).

    A row whose ``source`` column (carried through, any case) contains a word of
    :data:`RESTRICTED_COORDINATE_SOURCES` keeps its address but not its coordinates, so
    it is located from the address like a row without coordinates. One summary warning
    names the rows and how to opt in.

    Parameters
    ----------
    cells
        The data rows' cleaned cells.
    coords
        Parsed coordinates (changed in place).
    col
        Where the warning goes.
    allow
        Use the coordinates anyway (the user holds the rights to them).

    Returns
    -------
    int
        Rows whose coordinates were dropped (0 when ``allow``).
    """
    source = [i for i, name in cells.mapping.out_name.items() if name.casefold() == "source"]
    if not source:
        return 0
    words = [w.casefold() for w in cells.clean[source[0]]]
    restricted = np.array([any(t in w for t in RESTRICTED_COORDINATE_SOURCES) for w in words],
                          dtype=bool)
    restricted &= np.isfinite(coords.lat) & np.isfinite(coords.lon) & ~cells.skip
    n = int(restricted.sum())
    if not n or allow:
        return 0
    coords.lat[restricted] = np.nan
    coords.lon[restricted] = np.nan
    rows = [cells.numbers[k] for k in np.flatnonzero(restricted)]
    shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
    col.summarise("warning", "restricted_coordinates",
                  f"{n} rows (rows {shown}) have coordinates from Google Places (column "
                  f"{cells.label[source[0]]!r}), whose terms forbid storing them: they are not "
                  "used, and these rows are located from their address. Opt in only if you "
                  "hold the rights: use_restricted_coordinates=True "
                  "([inventory] use_restricted_coordinates = true, or "
                  "--use-restricted-coordinates)", column=coords.lat_column)
    return n
