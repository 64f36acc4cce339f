"""Geometry for display: simplified, reprojected to EPSG:4326, rounded; kept in a given store.

Simplifying, reprojecting and encoding the same boundaries, streets and points for every
page is most of a map's cost. Each function here takes an optional ``store`` (any
``MutableMapping[str, bytes]``, e.g. ``cwsgeo.build.cache.FileStore``) in which the result is
kept as JSON under a digest of the geometry's content and the parameters, so a value found
there is never stale. A damaged entry (not JSON) is recomputed and written again, never
embedded. Without a store, everything is computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from .text import RawJSON, _b64, _jsonable, _latlon_b64

logger = logging.getLogger(__name__)

__all__ = ["DisplayStore", "display_geojson", "points_latlon", "radial_outlines", "street_lines"]

#: Where display data may be kept: key (a safe file name) -> JSON bytes.
DisplayStore = MutableMapping[str, bytes]


def _store_key(kind: str, gdf: gpd.GeoDataFrame, params: tuple[Any, ...]) -> str:
    """Return a digest of the geometry's content, its CRS and the parameters."""
    h = hashlib.sha256(repr((kind, str(gdf.crs), params, 1)).encode())
    for wkb in shapely.to_wkb(gdf.geometry.to_numpy()):
        h.update(wkb or b"\x00")
    return f"{kind}-{h.hexdigest()}.json"


def _stored_json(store: DisplayStore | None, kind: str, gdf: gpd.GeoDataFrame,
                 params: tuple[Any, ...], compute: Callable[[], Any]) -> tuple[str, Any]:
    """Return ``(json_text, data)`` of ``compute()``, read from ``store`` when kept there."""
    key = _store_key(kind, gdf, params) if store is not None else ""
    if store is not None:
        try:
            text = store[key].decode("utf-8")
            return text, json.loads(text)
        except KeyError:
            pass
        except (UnicodeDecodeError, ValueError):
            logger.debug("display store: damaged entry %s recomputed", key)
    data = compute()
    text = json.dumps(data, separators=(",", ":"))
    if store is not None:
        store[key] = text.encode("utf-8")
    return text, data


def display_geojson(gdf: gpd.GeoDataFrame, columns: Sequence[str] = (),
                    tolerance_m: float = 5.0, decimals: int = 5,
                    properties: Sequence[Mapping[str, Any]] | None = None, *,
                    store: DisplayStore | None = None) -> dict[str, Any]:
    """Return a small GeoJSON dict for the web: simplified, EPSG:4326, rounded coordinates.

    Parameters
    ----------
    gdf
        Layer in any CRS.
    columns
        Properties to keep (all others are dropped to save bytes).
    tolerance_m
        Simplification tolerance in metres (applied in the work CRS; display only).
    decimals
        Coordinate decimals (5 ≈ 1 m).
    properties
        Ready-made properties, one mapping per row (merged over ``columns``).
    store
        Where the simplified geometry is kept between builds (see the module notes).

    Returns
    -------
    dict
        A FeatureCollection; rows with empty geometry are left out.
    """
    geometries = _display_geometries(gdf, tolerance_m, decimals, store)
    records: list[dict[Any, Any]] = (pd.DataFrame(gdf[list(columns)]).to_dict("records")
                                     if columns else [{} for _ in range(len(gdf))])
    if properties is not None:
        if len(properties) != len(gdf):
            raise ValueError(f"display_geojson: {len(properties)} properties for {len(gdf)} rows")
        records = [{**r, **p} for r, p in zip(records, properties, strict=True)]
    features = []
    for geometry, record in zip(geometries, records, strict=True):
        if geometry is None:
            continue
        features.append({"type": "Feature",
                         "properties": {k: _jsonable(v) for k, v in record.items()},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def _display_geometries(gdf: gpd.GeoDataFrame, tolerance_m: float, decimals: int,
                        store: DisplayStore | None) -> list[dict[str, Any] | None]:
    """GeoJSON geometry dicts (EPSG:4326, simplified, rounded), None for empty rows."""

    def compute() -> list[dict[str, Any] | None]:
        work = gdf.to_crs(settings.crs_work)
        geoms = work.geometry
        if tolerance_m > 0:
            geoms = geoms.simplify(tolerance_m, preserve_topology=True)
        geoms = gpd.GeoSeries(geoms, crs=settings.crs_work).to_crs(settings.crs_store)
        geoms = shapely.set_precision(geoms.values, 10 ** -decimals, mode="pointwise")
        return [None if g is None or g.is_empty else json.loads(shapely.to_geojson(g))
                for g in geoms]

    _, data = _stored_json(store, "geoms", gdf, (tolerance_m, decimals), compute)
    return list(data)


def points_latlon(gdf: gpd.GeoDataFrame, decimals: int = 5, store: DisplayStore | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a point location: (row positions, rounded [lat, lon] array).

    Kept in ``store``: reprojecting the 10,000 places is a third of a map's time.
    """

    def compute() -> dict[str, list[Any]]:
        geoms = gdf.geometry.to_crs(settings.crs_store) if gdf.crs is not None else gdf.geometry
        arr = geoms.to_numpy()
        ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
        pos = np.flatnonzero(ok)
        pts = shapely.get_coordinates(shapely.point_on_surface(arr[pos]))
        return {"pos": pos.tolist(), "latlon": np.round(pts[:, ::-1], decimals).tolist()}

    _, data = _stored_json(store, "latlon", gdf, (decimals,), compute)
    return (np.asarray(data["pos"], dtype=np.int64),
            np.asarray(data["latlon"], dtype=float).reshape(-1, 2))


def street_lines(streets: gpd.GeoDataFrame, tolerance_m: float = 2.0, decimals: int = 5,
                 store: DisplayStore | None = None) -> RawJSON:
    """All street lines, merged, simplified and delta-encoded (a third of GeoJSON's bytes).

    ``{"scale": 10**decimals, "n": [points per line], "d": [...]}``: ``d`` holds, for every
    point of every line in turn, its ``[lat, lon]`` times ``scale`` (integers) minus the
    previous point's (the first point minus zero), so most numbers have two or three digits.
    ``cwsGeoJson`` in ``static/maps.js`` decodes it into one MultiLineString (one SVG path).
    Returned as JSON text that pages embed without parsing and serialising it again.
    """

    def compute() -> dict[str, Any]:
        work = streets.to_crs(settings.crs_work).geometry.to_numpy()
        lines = shapely.get_parts(work[~(shapely.is_missing(work) | shapely.is_empty(work))])
        merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(
            lines[shapely.get_type_id(lines) == 1])))
        if tolerance_m > 0:
            merged = shapely.simplify(merged, tolerance_m, preserve_topology=True)
        ll = gpd.GeoSeries(merged, crs=settings.crs_work).to_crs(settings.crs_store)
        xy, which = shapely.get_coordinates(ll.to_numpy(), return_index=True)
        ints = np.round(xy[:, ::-1] * 10 ** decimals).astype(np.int64)
        logger.debug("street lines: %d segments in, %d lines out", len(lines), len(merged))
        return {"scale": 10 ** decimals,
                "n": np.bincount(which, minlength=len(merged)).tolist(),
                "d": np.diff(ints, axis=0, prepend=0).ravel().tolist()}

    text, _ = _stored_json(store, "streets", streets, (tolerance_m, decimals, "delta"),
                           compute)
    return RawJSON(text)


def _sector_radii(polys: np.ndarray, cx: np.ndarray, cy: np.ndarray,
                  directions: int) -> np.ndarray:
    """Farthest boundary point of each polygon in each of ``directions`` sectors (metres).

    Boundaries are densified first (points at most 25 m apart, as ``shapely.segmentize``
    places them: every sector of a polygon gets points); a sector that still has none takes
    the larger of its neighbours. Compiled (:mod:`._outlines`): no densified geometry is made.
    """
    from ._outlines import sector_radii

    if ((shapely.get_type_id(polys) == 3) & (shapely.get_num_interior_rings(polys) == 0)).all():
        rings, ring_poly = polys, np.arange(len(polys))  # one ring each: no copies of rings
    else:
        parts, part_of = shapely.get_parts(polys, return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        ring_poly = part_of[ring_of]
    ptr = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(shapely.get_num_coordinates(rings), out=ptr[1:])
    radii = sector_radii(shapely.get_coordinates(rings), ptr, ring_poly,
                         np.asarray(cx, dtype=float), np.asarray(cy, dtype=float), len(polys),
                         directions, 25.0)
    empty = radii == 0
    if empty.any():
        near = np.maximum(np.roll(radii, 1, axis=1), np.roll(radii, -1, axis=1))
        radii[empty] = near[empty]
    return radii


def radial_outlines(gdf: gpd.GeoDataFrame, directions: int = 16,
                    store: DisplayStore | None = None) -> dict[str, Any]:
    """Each polygon as a compact outline: its extent in ``directions`` directions.

    For thousands of overlapping areas (e.g. walking areas) where the exact shape cannot be
    seen anyway: about 30 bytes per polygon instead of about 700. Directions are counted
    anticlockwise from east around the polygon's centroid; the radius in a direction is the
    farthest boundary point in its sector, in steps of ``unit`` metres (at most 255 steps).
    ``cwsOutlines`` in ``static/maps.js`` rebuilds the polygons.

    Parameters
    ----------
    gdf
        Polygons in any CRS (rows with empty geometry are left out).
    directions
        Number of directions (vertices of each outline).
    store
        Where the outlines are kept between builds (see the module notes).

    Returns
    -------
    dict
        ``rows`` (row positions kept), ``n``, ``directions``, ``unit`` (metres per step) and
        base64 little-endian arrays ``lat`` / ``lon`` (int32, microdegrees, EPSG:4326) and
        ``r`` (uint8, ``directions`` per polygon).
    """

    def compute() -> dict[str, Any]:
        geoms = gdf.geometry.to_crs(settings.crs_work).to_numpy()
        pos = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
        polys = geoms[pos]
        centre = shapely.centroid(polys)
        cx, cy = shapely.get_x(centre), shapely.get_y(centre)
        radii = (_sector_radii(polys, cx, cy, directions) if len(pos)
                 else np.zeros((0, directions)))
        unit = max(1, int(np.ceil(radii.max(initial=0.0) / 255)))
        ll = gpd.GeoSeries(centre, crs=settings.crs_work).to_crs(settings.crs_store)
        xy = shapely.get_coordinates(ll.to_numpy())
        return {"rows": pos.tolist(), "n": len(pos), "directions": directions, "unit": unit,
                **_latlon_b64(xy[:, 1], xy[:, 0]),
                "r": _b64(np.clip(np.ceil(radii / unit), 0, 255), "u1")}

    _, data = _stored_json(store, "outlines", gdf, (directions,), compute)
    return dict(data)
