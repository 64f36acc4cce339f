"""Densities: per-area rates, hexagon grids, kernel density surfaces, their files and figures.

This module owns every *density* number of cwsgeo:

* :func:`area_densities` - per district, barri (or any polygon layer): area, residents, coworking
  spaces (total and per innovation type), spaces per km² and per 10,000 residents, location
  quotients, places per km² by category and transit stops per km² by mode. One function serves
  every level; the level is the ``key`` column.
* :func:`hex_grid` / :func:`hex_densities` - an H3 grid (default resolution 9) or a projected
  hexagon grid covering the city, with the same counts and residents interpolated from census
  sections by area (:func:`areal_interpolate`).
* :func:`kernel_density` / :func:`kernel_densities` - quartic or Gaussian kernel density
  surfaces on a regular grid clipped to the city, in **points per km²**, edge-corrected so that
  each surface integrates to the number of points inside the city; :func:`surface_contours`
  turns a surface into band polygons for the web map.
* writers (:func:`write_density_outputs`, :func:`write_geotiff`, :func:`write_layer`) and the
  static figures (:func:`write_density_figures`, drawn by :mod:`cwsgeo.figures`).

All arithmetic happens in the work CRS (:data:`cwsgeo.settings.crs_work`, EPSG:25831, metres);
inputs in any CRS are reprojected, never modified. GeoPackages are stored in
:data:`cwsgeo.settings.crs_store` (EPSG:4326), GeoTIFFs in the work CRS.

Output columns
--------------
Built by :func:`column_name` (cityseer style, unit in the name):

* ``area_km2`` - area of the unit from its geometry in EPSG:25831 (for hexagons: the part of
  the cell inside the city; ``hex_area_km2`` is the whole cell, ``city_share`` their ratio);
* ``residents``, ``residents_per_km2``;
* ``spaces`` and ``spaces_type1``, ``spaces_type2``, ``spaces_type3``, ``spaces_unclassified``;
  for each of them ``*_per_km2``, ``*_per_10k_res``, ``lq_*`` (location quotient, residents
  base: share of the city's spaces / share of the city's residents) and ``lq_area_*``
  (area base: share of spaces / share of the city's area, i.e. density / city density);
* ``places`` and ``places_<category>`` with ``*_per_km2``;
* ``stops`` and ``stops_<mode>`` with ``*_per_km2``.

Rates with a zero denominator are NaN. City totals for location quotients are the sums over
the units given (the whole city for districts, barris and the hexagon grid).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> from cwsgeo.density import area_densities
>>> areas = gpd.GeoDataFrame({"district_code": ["01", "02"], "population": [10_000, 30_000]},
...                          geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
...                          crs="EPSG:25831")
>>> spaces = gpd.GeoDataFrame({"id": ["a", "b"], "innovation_type": [1, None]},
...                           geometry=[Point(500, 500), Point(600, 500)], crs="EPSG:25831")
>>> out = area_densities(areas, spaces, key="district_code")
>>> out[["district_code", "spaces", "spaces_per_km2", "spaces_per_10k_res", "lq_spaces"]]
  district_code  spaces  spaces_per_km2  spaces_per_10k_res  lq_spaces
0            01       2             2.0                 2.0        4.0
1            02       0             0.0                 0.0        0.0
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._cache import OutputLedger, digest, frame_digest, remember
from ._io import atomic_path, write_csv, write_gpkg, write_json
from .config import DensityConfig
from .figures import (
    SOURCE_BCN,
    Classification,
    choropleth_figure,
    class_breaks,
    save_figure,
    surface_figure,
)
from .layers import INTERACTION_CATEGORIES, MODES

if TYPE_CHECKING:
    from affine import Affine

logger = logging.getLogger(__name__)

__all__ = [
    "DENSITY_UNITS",
    "INNOVATION_TYPES",
    "LQ_BINS",
    "PLACE_CATEGORIES",
    "SPACE_GROUPS",
    "TRANSIT_MODES",
    "DensityResult",
    "KernelSurface",
    "area_densities",
    "areal_interpolate",
    "column_name",
    "compute_densities",
    "hex_densities",
    "hex_grid",
    "kernel_densities",
    "kernel_density",
    "surface_contours",
    "write_density_figures",
    "write_density_outputs",
    "write_geotiff",
    "write_layer",
]

#: Innovation types of the study; anything else (or missing) is ``unclassified``.
INNOVATION_TYPES: tuple[int, ...] = (1, 2, 3)
#: Group labels of spaces used in column names.
SPACE_GROUPS: tuple[str, ...] = ("type1", "type2", "type3", "unclassified")
#: Place categories counted (other categories are ignored, and logged): the layers' scheme.
PLACE_CATEGORIES: tuple[str, ...] = INTERACTION_CATEGORIES
#: Transit modes counted (other modes are ignored, and logged): the layers' modes.
TRANSIT_MODES: tuple[str, ...] = MODES
#: Units of kernel density surfaces.
DENSITY_UNITS = "points per km²"
#: Class upper bounds for location quotients (1 = same share as the city).
LQ_BINS: tuple[float, ...] = (0.5, 0.8, 1.25, 2.0)
#: Nodata value of the GeoTIFFs (cells outside the city).
GEOTIFF_NODATA = -9999.0

_ID_COLUMNS = ("district_code", "district_name", "barri_code", "barri_name", "section_code",
               "aeb_code")
_RATES = ("per_km2", "per_10k_res", "lq", "lq_area")
Rate = Literal["per_km2", "per_10k_res", "lq", "lq_area"]


# -- column names ---------------------------------------------------------------------------------
def column_name(layer: str, group: str | None = None, rate: Rate | None = None) -> str:
    """Return the output column of a count or rate.

    Parameters
    ----------
    layer
        ``"spaces"``, ``"places"``, ``"stops"`` or ``"residents"``.
    group
        Innovation-type group (``"type1"``, ``"unclassified"`` ...), place category or transit
        mode; ``None`` for the total.
    rate
        ``None`` (count), ``"per_km2"``, ``"per_10k_res"``, ``"lq"`` (location quotient,
        residents base) or ``"lq_area"`` (location quotient, area base).

    Examples
    --------
    >>> column_name("places", "cafe", "per_km2")
    'places_cafe_per_km2'
    >>> column_name("spaces", rate="lq"), column_name("spaces", "type2", "lq_area")
    ('lq_spaces', 'lq_area_spaces_type2')
    """
    base = layer if group is None else f"{layer}_{group}"
    if rate is None:
        return base
    if rate == "lq":
        return f"lq_{base}"
    if rate == "lq_area":
        return f"lq_area_{base}"
    if rate in ("per_km2", "per_10k_res"):
        return f"{base}_{rate}"
    raise ValueError(f"unknown rate {rate!r}; known: {', '.join(_RATES)}")


# -- input handling -------------------------------------------------------------------------------
def _work(gdf: Any, what: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in the work CRS (a GeoSeries becomes a GeoDataFrame)."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise ValueError(f"{what}: the GeoDataFrame has no CRS; set one (e.g. EPSG:4326)")
    return gdf.to_crs(settings.crs_work)


def _boundary_geom(boundary: Any) -> Any:
    """Return the union of the boundary's polygons, valid, in the work CRS (memoised)."""
    parts = np.asarray(_work(boundary, "boundary").geometry.dropna().to_numpy())
    key = hashlib.sha256(b"".join(shapely.to_wkb(parts).tolist())).hexdigest()
    geom = remember(_BOUNDARIES, key, lambda: shapely.union_all(shapely.make_valid(parts)),
                    size=4)
    if geom.is_empty or geom.area <= 0:
        raise ValueError("boundary: no polygon with a positive area")
    return geom


#: Process-level memos of values derived from the (rarely changing) city boundary: rebuilds
#: after an inventory edit (``cwsgeo watch``) reuse them.
_BOUNDARIES: dict[Any, Any] = {}
_GRIDS: dict[Any, Any] = {}


def _located(points: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Points with a location, in the work CRS; rows without geometry are dropped and logged."""
    gdf = _work(points, what)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        logger.info("%s: %d of %d rows have no location and are not counted",
                    what, int(missing.sum()), len(gdf))
        gdf = gdf.loc[~missing]
    not_point = gdf.geometry.geom_type != "Point"
    if not_point.any():
        logger.info("%s: %d non-point geometries replaced by a representative point",
                    what, int(not_point.sum()))
        gdf = gdf.copy()
        gdf.loc[not_point, "geometry"] = gdf.geometry[not_point].representative_point()
    return gdf


def _space_labels(spaces: gpd.GeoDataFrame) -> np.ndarray:
    """``type1`` / ``type2`` / ``type3`` / ``unclassified`` for each space."""
    if "innovation_type" not in spaces.columns:
        logger.info("spaces: no innovation_type column; all %d spaces are unclassified",
                    len(spaces))
        return np.full(len(spaces), "unclassified", dtype=object)
    value = pd.to_numeric(spaces["innovation_type"], errors="coerce")
    known = value.isin(INNOVATION_TYPES)
    odd = value.notna() & ~known
    if odd.any():
        logger.warning("spaces: %d rows with an innovation_type other than %s counted as "
                       "unclassified (ids: %s)", int(odd.sum()), INNOVATION_TYPES,
                       ", ".join(map(str, spaces.get("id", spaces.index)[odd.to_numpy()][:10])))
    labels = np.full(len(spaces), "unclassified", dtype=object)
    labels[known.to_numpy()] = ["type" + str(int(v)) for v in value[known]]
    return labels


def _category_labels(points: gpd.GeoDataFrame, column: str, groups: Sequence[str],
                     what: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    if column not in points.columns:
        raise ValueError(f"{what}: no {column!r} column (columns: {', '.join(points.columns)})")
    labels = points[column].astype("string").str.strip().str.lower()
    keep = labels.isin(list(groups)).fillna(False).to_numpy(dtype=bool)
    if (~keep).any():
        other = labels[~keep].fillna("<missing>").value_counts()
        logger.info("%s: %d rows in %s other than %s are not counted (%s)", what,
                    int((~keep).sum()), column, ", ".join(groups),
                    ", ".join(f"{k}: {v}" for k, v in other.head(8).items()))
    return points.loc[keep], labels[keep].to_numpy(dtype=object)


@dataclass
class _Layer:
    """Points of one kind with a group label each, ready to count."""

    prefix: str
    groups: tuple[str, ...]
    geoms: np.ndarray
    labels: np.ndarray
    full_rates: bool  # spaces: per km², per 10k residents and LQs; others: per km² only


def _layers(spaces: gpd.GeoDataFrame | None, places: gpd.GeoDataFrame | None,
            transit: gpd.GeoDataFrame | None, place_categories: Sequence[str],
            transit_modes: Sequence[str]) -> list[_Layer]:
    out: list[_Layer] = []
    if spaces is not None:
        pts = _located(spaces, "spaces")
        out.append(_Layer("spaces", SPACE_GROUPS, pts.geometry.to_numpy(),
                          _space_labels(pts), True))
    if places is not None:
        pts, labels = _category_labels(_located(places, "places"), "category",
                                       place_categories, "places")
        out.append(_Layer("places", tuple(place_categories), pts.geometry.to_numpy(), labels,
                          False))
    if transit is not None:
        pts, labels = _category_labels(_located(transit, "transit"), "mode", transit_modes,
                                       "transit")
        out.append(_Layer("stops", tuple(transit_modes), pts.geometry.to_numpy(), labels,
                          False))
    return out


# -- counting and rates ---------------------------------------------------------------------------
def _zone_of_points(geoms: np.ndarray, zones: Sequence[Any]) -> np.ndarray:
    """Return the index of the zone holding each point (-1: none).

    A point on a shared edge goes to the first zone in ``zones`` order, so it is counted once.
    """
    out = np.full(len(geoms), -1, dtype=np.int64)
    if len(geoms) == 0 or len(zones) == 0:
        return out
    tree = shapely.STRtree(np.asarray(zones, dtype=object))
    pt_idx, zone_idx = tree.query(geoms, predicate="intersects")
    order = np.lexsort((zone_idx, pt_idx))
    pt_idx, zone_idx = pt_idx[order], zone_idx[order]
    first = np.unique(pt_idx, return_index=True)[1]
    out[pt_idx[first]] = zone_idx[first]
    return out


def _count(layer: _Layer, zones: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Return counts per zone (rows) and group (columns), and the number of points in no zone."""
    zone = _zone_of_points(layer.geoms, zones)
    counts = np.zeros((len(zones), len(layer.groups)), dtype=np.int64)
    col = {g: i for i, g in enumerate(layer.groups)}
    inside = zone >= 0
    if inside.any():
        gidx = np.fromiter((col[v] for v in layer.labels[inside]), dtype=np.int64,
                           count=int(inside.sum()))
        np.add.at(counts, (zone[inside], gidx), 1)
    return counts, int((~inside).sum())


def _safe_div(num: np.ndarray, den: np.ndarray | float) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.broadcast_to(np.asarray(den, dtype=float), num.shape)
    out = np.full(num.shape, np.nan)
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


def _density_table(zones: Sequence[Any], area_km2: np.ndarray, residents: np.ndarray | None,
                   layers: Sequence[_Layer], level: str) -> pd.DataFrame:
    """Do the shared arithmetic of every level: counts, densities and location quotients."""
    cols: dict[str, Any] = {"area_km2": area_km2}
    city_area = float(np.sum(area_km2))
    if residents is not None:
        cols["residents"] = residents
        cols["residents_per_km2"] = _safe_div(residents, area_km2)
        city_res = float(np.sum(residents))
    for layer in layers:
        counts, outside = _count(layer, zones)
        if outside:
            logger.info("%s: %d of %d %s lie in no %s and are not counted", level, outside,
                        len(layer.geoms), layer.prefix, level)
        groups: list[tuple[str | None, np.ndarray]] = [(None, counts.sum(axis=1))]
        groups += [(g, counts[:, i]) for i, g in enumerate(layer.groups)]
        for group, n in groups:
            cols[column_name(layer.prefix, group)] = n
        for group, n in groups:
            cols[column_name(layer.prefix, group, "per_km2")] = _safe_div(n, area_km2)
            if not layer.full_rates:
                continue
            total = float(n.sum())
            if residents is not None:
                cols[column_name(layer.prefix, group, "per_10k_res")] = (
                    _safe_div(n, residents) * 10_000)
                cols[column_name(layer.prefix, group, "lq")] = _safe_div(
                    _safe_div(n, total), _safe_div(residents, city_res))
            cols[column_name(layer.prefix, group, "lq_area")] = _safe_div(
                _safe_div(n, total), _safe_div(area_km2, city_area))
    table = pd.DataFrame(cols)
    # group the columns: counts and rates of one layer/group stay together
    return table[_ordered(list(table.columns), layers)]


def _ordered(columns: list[str], layers: Sequence[_Layer]) -> list[str]:
    order = [c for c in ("area_km2", "residents", "residents_per_km2") if c in columns]
    for layer in layers:
        for group in (None, *layer.groups):
            for rate in (None, *_RATES):
                name = column_name(layer.prefix, group, rate)  # type: ignore[arg-type]
                if name in columns:
                    order.append(name)
    return order


def area_densities(areas: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame | None,
                   places: gpd.GeoDataFrame | None = None,
                   transit: gpd.GeoDataFrame | None = None, *, key: str = "district_code",
                   population: str | None = "population",
                   place_categories: Sequence[str] = PLACE_CATEGORIES,
                   transit_modes: Sequence[str] = TRANSIT_MODES) -> gpd.GeoDataFrame:
    """Compute counts, densities and location quotients per area (district, barri, section ...).

    Parameters
    ----------
    areas
        Polygons with a unique ``key`` column and a ``population`` column (any CRS).
    spaces
        Coworking spaces: points with ``innovation_type`` (1, 2, 3 or missing = unclassified).
        Rows without geometry are ignored (logged). ``None`` leaves out the spaces columns.
    places
        Points with ``category``; categories outside ``place_categories`` are ignored (logged).
    transit
        Stops with ``mode``; modes outside ``transit_modes`` are ignored (logged).
    key
        Identifier column of ``areas`` (``"district_code"``, ``"barri_code"`` ...).
    population
        Residents column of ``areas``; ``None`` leaves out every residents-based column.
    place_categories, transit_modes
        Groups that get their own columns.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area in the work CRS: ``key``, the identifier/name columns present
        (``district_code``, ``district_name``, ``barri_code``, ``barri_name`` ...),
        ``area_km2`` (from the EPSG:25831 geometry), ``residents`` and every column listed in
        the module docstring. A point on the edge between two areas is counted once, in the
        first one.
    """
    gdf = _work(areas, "areas")
    if key not in gdf.columns:
        raise ValueError(f"areas: no key column {key!r} (columns: {', '.join(gdf.columns)})")
    if gdf[key].duplicated().any():
        dups = gdf.loc[gdf[key].duplicated(), key].astype(str).unique()[:10]
        raise ValueError(f"areas: key column {key!r} is not unique ({', '.join(dups)})")
    residents = None
    if population is not None:
        if population not in gdf.columns:
            raise ValueError(f"areas: no population column {population!r}; pass population=None "
                             "to skip residents-based columns")
        residents = pd.to_numeric(gdf[population], errors="raise").to_numpy()
    geoms = gdf.geometry.to_numpy()
    area_km2 = shapely.area(geoms) / 1e6
    layers = _layers(spaces, places, transit, place_categories, transit_modes)
    table = _density_table(geoms, area_km2, residents, layers, level=key)
    name_col = key.removesuffix("_code") + "_name"
    ids = list(dict.fromkeys([key, *[c for c in (name_col, *_ID_COLUMNS) if c in gdf.columns]]))
    out = pd.concat([gdf[ids].reset_index(drop=True), table], axis=1)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.reset_index(drop=True).to_numpy(),
                            crs=settings.crs_work)


# -- areal interpolation --------------------------------------------------------------------------
def areal_interpolate(sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame | gpd.GeoSeries,
                      columns: str | Sequence[str] = "population") -> pd.DataFrame:
    """Move extensive values (counts such as residents) from source to target polygons by area.

    Each source's value is split over the targets it overlaps in proportion to the overlap
    area (areal weighting: value × intersection area / covered source area). The denominator is
    the part of the source covered by targets, which equals the source area when the targets
    cover it; so the targets' total equals the sources' total even when targets only partly
    cover a source (logged). A source touching no target loses its value (logged as a warning).

    Parameters
    ----------
    sources
        Polygons with the value columns (e.g. census sections with ``population``).
    targets
        Polygons to receive the values (e.g. hexagons); any CRS.
    columns
        Column name(s) of ``sources`` to interpolate.

    Returns
    -------
    pandas.DataFrame
        Float values indexed like ``targets``, one column per name.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> src = gpd.GeoDataFrame({"population": [100]}, geometry=[box(0, 0, 2, 1)],
    ...                        crs="EPSG:25831")
    >>> dst = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 3, 1)], crs="EPSG:25831")
    >>> areal_interpolate(src, dst)["population"].tolist()
    [50.0, 50.0]
    """
    names = [columns] if isinstance(columns, str) else list(columns)
    src = _work(sources, "sources")
    missing = [c for c in names if c not in src.columns]
    if missing:
        raise ValueError(f"sources: no column(s) {', '.join(missing)}")
    tgt = _work(targets, "targets")
    s_geom = shapely.make_valid(src.geometry.to_numpy())
    t_geom = shapely.make_valid(tgt.geometry.to_numpy())
    values = src[names].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    result = np.zeros((len(tgt), len(names)))
    if len(src) and len(tgt):
        s_idx, t_idx = shapely.STRtree(t_geom).query(s_geom, predicate="intersects")
        inter = shapely.area(shapely.intersection(s_geom[s_idx], t_geom[t_idx]))
        covered = np.bincount(s_idx, weights=inter, minlength=len(src))
        src_area = shapely.area(s_geom)
        lost = covered <= 0
        if lost.any():
            logger.warning("areal interpolation: %d source polygons overlap no target; their "
                           "%s (%s) are not carried over", int(lost.sum()), ", ".join(names),
                           ", ".join(f"{v:,.0f}" for v in values[lost].sum(axis=0)))
        partial = (~lost) & (covered < src_area * (1 - 1e-6))
        if partial.any():
            logger.info("areal interpolation: %d source polygons only partly covered by the "
                        "targets (lowest coverage %.1f %%); their values go to the covered part",
                        int(partial.sum()), 100 * float((covered / src_area)[partial].min()))
        weight = inter / np.where(covered > 0, covered, 1.0)[s_idx]
        for j in range(len(names)):
            result[:, j] = np.bincount(t_idx, weights=values[s_idx, j] * weight,
                                       minlength=len(tgt))
    return pd.DataFrame(result, columns=names, index=tgt.index)


# -- hexagon grids --------------------------------------------------------------------------------
def _h3_cells(city: Any, resolution: int) -> list[str]:
    import h3

    # Centre containment on the city grown by two edge lengths catches every cell that overlaps
    # the city (a cell's centre is at most one edge length from any of its points).
    grow = 2 * h3.average_hexagon_edge_length(resolution, "m")
    outline = shapely.simplify(city, min(grow / 10, 20.0))
    grown = gpd.GeoSeries([shapely.buffer(outline, grow, quad_segs=4)],
                          crs=settings.crs_work).to_crs("EPSG:4326")
    return sorted(h3.geo_to_cells(grown.iloc[0], resolution))


def _h3_polygons(cells: Sequence[str]) -> np.ndarray:
    import h3

    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    polys = gpd.GeoSeries([shapely.Polygon(r) for r in rings], crs="EPSG:4326")
    return polys.to_crs(settings.crs_work).to_numpy()


def _projected_hexes(city: Any, edge_m: float) -> tuple[list[str], np.ndarray]:
    """Pointy-top hexagons of edge ``edge_m`` on a grid anchored at multiples of the spacing."""
    dx, dy = math.sqrt(3) * edge_m, 1.5 * edge_m
    x0, y0, x1, y1 = city.bounds
    r0, r1 = math.floor((y0 - edge_m) / dy), math.ceil((y1 + edge_m) / dy)
    c0, c1 = math.floor((x0 - dx) / dx), math.ceil((x1 + dx) / dx)
    rows, cols = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    cx = cols * dx + (rows % 2) * dx / 2
    cy = rows * dy
    angles = np.deg2rad(np.arange(30, 390, 60))  # pointy top: vertices at 30°, 90°, ...
    vx = cx[:, None] + edge_m * np.cos(angles)[None, :]
    vy = cy[:, None] + edge_m * np.sin(angles)[None, :]
    coords = np.stack([vx, vy], axis=-1)
    coords = np.concatenate([coords, coords[:, :1]], axis=1)
    polys = shapely.polygons(coords)
    ids = [f"e{edge_m:g}_r{r}_c{c}" for r, c in zip(rows, cols, strict=True)]
    return ids, polys


def hex_grid(boundary: gpd.GeoDataFrame | gpd.GeoSeries, *,
             resolution: int = DensityConfig.hex_resolution, edge_m: float | None = None,
             clip: bool = False) -> gpd.GeoDataFrame:
    """Hexagons covering the city: H3 cells (default) or a projected hexagon grid.

    Every cell that overlaps the city with a positive area is kept, so the cells cover the city
    completely. Cells are *not* clipped by default (whole hexagons read better on a map and keep
    H3 cells intact); ``area_km2`` is always the part inside the city, and all per-km² rates of
    :func:`hex_densities` use it.

    Parameters
    ----------
    boundary
        City polygon(s), any CRS.
    resolution
        H3 resolution (9: cells of about 0.105 km², edge about 200 m).
    edge_m
        If given, build a projected pointy-top hexagon grid with this edge length in metres in
        the work CRS instead of H3 (cell area = 2.598 × edge²; 201 m ≈ H3 resolution 9).
    clip
        Replace each cell's geometry by its part inside the city.

    Returns
    -------
    geopandas.GeoDataFrame
        Work CRS; columns ``hex_id`` (H3 index, or ``e<edge>_r<row>_c<col>``),
        ``hex_area_km2`` (whole cell), ``area_km2`` (inside the city), ``city_share``
        (``area_km2 / hex_area_km2``), geometry.
    """
    return _hex_grid(_boundary_geom(boundary), resolution, edge_m, clip)[0]


def _clip_to(city: Any, polys: np.ndarray) -> np.ndarray:
    """Return the parts of ``polys`` inside ``city`` (cells wholly inside stay as they are)."""
    shapely.prepare(city)
    out = polys.copy()
    edge = ~shapely.contains_properly(city, polys)
    out[edge] = shapely.intersection(polys[edge], city)
    return out


def _hex_grid(city: Any, resolution: int, edge_m: float | None, clip: bool,
              ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Return the grid of :func:`hex_grid` and each cell's part inside the city."""
    if edge_m is not None:
        if edge_m <= 0:
            raise ValueError(f"edge_m must be > 0, got {edge_m}")
        ids, polys = _projected_hexes(city, float(edge_m))
    else:
        if not 0 <= resolution <= 15:
            raise ValueError(f"H3 resolution must be between 0 and 15, got {resolution}")
        ids = _h3_cells(city, resolution)
        polys = _h3_polygons(ids)
    shapely.prepare(city)
    candidate = shapely.intersects(city, polys)
    ids = [i for i, keep in zip(ids, candidate, strict=True) if keep]
    polys = polys[candidate]
    inside = _clip_to(city, polys)
    area_in = shapely.area(inside) / 1e6
    keep = area_in > 0
    hex_area = shapely.area(polys) / 1e6
    gdf = gpd.GeoDataFrame(
        {"hex_id": np.asarray(ids, dtype=object)[keep], "hex_area_km2": hex_area[keep],
         "area_km2": area_in[keep], "city_share": area_in[keep] / hex_area[keep]},
        geometry=(inside if clip else polys)[keep], crs=settings.crs_work)
    logger.info("hexagon grid: %d cells (%s), %.3f km² inside the city", len(gdf),
                f"projected, edge {edge_m:g} m" if edge_m else f"H3 resolution {resolution}",
                float(gdf["area_km2"].sum()))
    return gdf, inside[keep]


def hex_densities(boundary: gpd.GeoDataFrame | gpd.GeoSeries, sections: gpd.GeoDataFrame | None,
                  spaces: gpd.GeoDataFrame | None, places: gpd.GeoDataFrame | None = None,
                  transit: gpd.GeoDataFrame | None = None, *,
                  resolution: int = DensityConfig.hex_resolution, edge_m: float | None = None,
                  clip: bool = False, population: str = "population",
                  place_categories: Sequence[str] = PLACE_CATEGORIES,
                  transit_modes: Sequence[str] = TRANSIT_MODES) -> gpd.GeoDataFrame:
    """Compute counts and densities on hexagons, with residents interpolated from census sections.

    Residents come from ``sections`` by areal weighting (:func:`areal_interpolate`), so their
    sum over the grid equals the sections' total. Points are counted only inside the city (a
    hexagon partly outside the city counts only the points in its city part), and rates use
    the city part of each cell (``area_km2``).

    Parameters
    ----------
    boundary
        City polygon(s).
    sections
        Census sections with ``population`` (``None``: no residents columns).
    spaces, places, transit
        As in :func:`area_densities`.
    resolution, edge_m, clip
        Grid options, see :func:`hex_grid`.
    population
        Residents column of ``sections``.
    place_categories, transit_modes
        Groups that get their own columns.

    Returns
    -------
    geopandas.GeoDataFrame
        Work CRS; ``hex_id``, ``hex_area_km2``, ``area_km2``, ``city_share``, ``residents``
        (float) and the columns of :func:`area_densities`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> city = gpd.GeoSeries([box(430000, 4580000, 431000, 4581000)], crs="EPSG:25831")
    >>> sections = gpd.GeoDataFrame({"population": [1000]}, geometry=city.geometry)
    >>> hexes = hex_densities(city, sections, None, edge_m=150)
    >>> print(f"{hexes['residents'].sum():.3f} {hexes['area_km2'].sum():.3f}")
    1000.000 1.000
    """
    grid, zones = _hex_grid(_boundary_geom(boundary), resolution, edge_m, clip)
    residents = None
    if sections is not None:
        residents = areal_interpolate(
            sections, gpd.GeoSeries(zones, crs=settings.crs_work), population
        )[population].to_numpy()
        total = float(pd.to_numeric(sections[population]).sum())
        logger.info("hexagons: %s residents interpolated (sections: %s)",
                    f"{residents.sum():,.1f}", f"{total:,.0f}")
    layers = _layers(spaces, places, transit, place_categories, transit_modes)
    table = _density_table(zones, grid["area_km2"].to_numpy(), residents, layers,
                           level="hexagon")
    out = pd.concat([grid[["hex_id", "hex_area_km2", "city_share"]].reset_index(drop=True),
                     table], axis=1)
    out = out[["hex_id", "hex_area_km2", "area_km2", "city_share",
               *[c for c in table.columns if c != "area_km2"]]]
    return gpd.GeoDataFrame(out, geometry=grid.geometry.to_numpy(), crs=settings.crs_work)


# -- kernel density -------------------------------------------------------------------------------
@dataclass(frozen=True)
class KernelSurface:
    """A kernel density surface on a regular grid in the work CRS.

    Attributes
    ----------
    values
        2-D float64 array, row 0 = north, in points per km²; NaN outside the city.
    transform
        Affine transform of the grid (cell corners), as rasterio uses it.
    crs
        CRS of the grid (the work CRS).
    name
        What the surface counts, e.g. ``"spaces"`` or ``"places:cafe"``.
    kernel, bandwidth_m, cell_m
        Kernel (``"quartic"``: radius = bandwidth; ``"gaussian"``: standard deviation =
        bandwidth, truncated at 4 × bandwidth), bandwidth and cell size in metres.
    n_points
        Points inside the city that made the surface.
    edge_correction
        Whether each point's kernel was normalised over the city (see :func:`kernel_density`).
    """

    values: np.ndarray = field(repr=False)
    transform: Affine
    crs: str
    name: str
    kernel: str
    bandwidth_m: float
    cell_m: float
    n_points: int
    edge_correction: bool

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km²."""
        return self.cell_m * self.cell_m / 1e6

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid."""
        rows, cols = self.values.shape
        xmin, ymax = self.transform.c, self.transform.f
        return (xmin, ymax - rows * self.cell_m, xmin + cols * self.cell_m, ymax)

    def integral(self) -> float:
        """Sum of density × cell area over the city: the number of points it represents."""
        return float(np.nansum(self.values) * self.cell_area_km2)

    def classification(self, *, k: int = 6, scheme: str = "quantiles",
                       cmap: str = "magma_r") -> Classification:
        """Class breaks of the positive values (shared by contours, figures and web maps)."""
        vals = self.values[np.isfinite(self.values)]
        return class_breaks(vals[vals > 0], scheme=scheme, k=k, cmap=cmap, units=DENSITY_UNITS,
                            column=self.name)


@dataclass(frozen=True)
class _Grid:
    transform: Affine
    shape: tuple[int, int]
    mask: np.ndarray  # True inside the city (cell centre inside)
    cell_m: float


def _make_grid(city: Any, cell_m: float) -> _Grid:
    from rasterio.features import geometry_mask
    from rasterio.transform import Affine

    x0, y0, x1, y1 = city.bounds
    xmin = math.floor(x0 / cell_m) * cell_m - cell_m
    ymin = math.floor(y0 / cell_m) * cell_m - cell_m
    xmax = math.ceil(x1 / cell_m) * cell_m + cell_m
    ymax = math.ceil(y1 / cell_m) * cell_m + cell_m
    shape = (round((ymax - ymin) / cell_m), round((xmax - xmin) / cell_m))
    transform = Affine(cell_m, 0.0, xmin, 0.0, -cell_m, ymax)
    mask = geometry_mask([city], out_shape=shape, transform=transform, invert=True)
    return _Grid(transform, shape, mask, cell_m)


def _grid_for(city: Any, cell_m: float, kernel: str, bandwidth_m: float,
              edge_correction: bool) -> tuple[_Grid, np.ndarray, np.ndarray | None]:
    """Return the grid, kernel and edge mass of a surface (memoised: the city rarely changes)."""

    def compute() -> tuple[_Grid, np.ndarray, np.ndarray | None]:
        grid = _make_grid(city, cell_m)
        w = _kernel_weights(kernel, bandwidth_m, cell_m)
        edge_mass = _convolve(grid.mask.astype(float), w) if edge_correction else None
        for a in (grid.mask, w, edge_mass):
            if a is not None:
                a.setflags(write=False)
        return grid, w, edge_mass

    key = (shapely.to_wkb(city), cell_m, kernel, bandwidth_m, edge_correction)
    return remember(_GRIDS, key, compute, size=4)


def _kernel_weights(kernel: str, bandwidth_m: float, cell_m: float) -> np.ndarray:
    """Discrete kernel on cell offsets, odd square, summing to 1."""
    if kernel == "quartic":
        radius = bandwidth_m
    elif kernel == "gaussian":
        radius = 4.0 * bandwidth_m
    else:
        raise ValueError(f"kernel must be 'quartic' or 'gaussian', got {kernel!r}")
    n = max(math.ceil(radius / cell_m), 0)
    off = np.arange(-n, n + 1) * cell_m
    d2 = off[:, None] ** 2 + off[None, :] ** 2
    if kernel == "quartic":
        w = np.where(d2 < radius**2, (1.0 - d2 / radius**2) ** 2, 0.0)
    else:
        w = np.where(d2 <= radius**2, np.exp(-d2 / (2.0 * bandwidth_m**2)), 0.0)
    if w.sum() <= 0:  # bandwidth far below the cell size: all mass in the point's cell
        w = np.zeros_like(d2)
        w[n, n] = 1.0
    return w / w.sum()


def _linear_bin(xy: np.ndarray, grid: _Grid) -> np.ndarray:
    """Spread each point over the 4 nearest cell centres (linear binning, mass-preserving)."""
    rows, cols = grid.shape
    counts = np.zeros(grid.shape)
    if len(xy) == 0:
        return counts
    t = grid.transform
    u = (xy[:, 0] - t.c) / grid.cell_m - 0.5
    v = (t.f - xy[:, 1]) / grid.cell_m - 0.5
    j0, i0 = np.floor(u).astype(int), np.floor(v).astype(int)
    fx, fy = u - j0, v - i0
    for di, dj, wgt in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                        (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        ii = np.clip(i0 + di, 0, rows - 1)
        jj = np.clip(j0 + dj, 0, cols - 1)
        np.add.at(counts, (ii, jj), wgt)
    return counts


def _convolve(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Convolve a grid with an odd square kernel (FFT, output the shape of ``a``).

    Same result as ``scipy.signal.fftconvolve(a, w, mode="same")`` with numpy's FFT, which
    spares importing scipy.signal (about 0.5 s, a third of a rebuild after a one-row edit).
    """
    full = (a.shape[0] + w.shape[0] - 1, a.shape[1] + w.shape[1] - 1)
    out = np.fft.irfft2(np.fft.rfft2(a, full) * np.fft.rfft2(w, full), full)
    r0, c0 = (w.shape[0] - 1) // 2, (w.shape[1] - 1) // 2
    return np.ascontiguousarray(out[r0:r0 + a.shape[0], c0:c0 + a.shape[1]])


def _surface(xy: np.ndarray, grid: _Grid, w: np.ndarray, edge_mass: np.ndarray | None,
             ) -> np.ndarray:
    counts = _linear_bin(xy, grid)
    if edge_mass is not None:
        # A cell with mass but no city within its kernel (small kernels at a ragged edge):
        # move that mass to the nearest city cell, so none is lost.
        orphan = (counts > 0) & (edge_mass < 1e-9)
        if orphan.any():
            from scipy.ndimage import distance_transform_edt

            _, (ni, nj) = distance_transform_edt(~grid.mask, return_indices=True)
            oi, oj = np.nonzero(orphan)
            np.add.at(counts, (ni[oi, oj], nj[oi, oj]), counts[oi, oj])
            counts[oi, oj] = 0.0
        hit = counts > 0
        weights = np.zeros_like(counts)
        weights[hit] = counts[hit] / edge_mass[hit]
        counts = weights
    dens = _convolve(counts, w)
    top = float(dens.max()) if dens.size else 0.0
    dens[dens < top * 1e-10] = 0.0  # FFT round-off
    dens /= grid.cell_m * grid.cell_m / 1e6
    dens[~grid.mask] = np.nan
    return dens


def _points_in_city(points: gpd.GeoDataFrame, city: Any, what: str) -> gpd.GeoDataFrame:
    shapely.prepare(city)
    inside = shapely.intersects(city, points.geometry.to_numpy())
    if (~inside).any():
        logger.info("%s: %d of %d points lie outside the city and are left out of the kernel "
                    "density", what, int((~inside).sum()), len(points))
    return points.loc[inside]


def kernel_densities(points: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame | gpd.GeoSeries, *,
                     by: str | None = None, groups: Sequence[str] | None = None,
                     name: str = "points", include_total: bool = True,
                     bandwidth_m: float = DensityConfig.kde_bandwidth_m,
                     cell_m: float = DensityConfig.kde_cell_m,
                     kernel: Literal["quartic", "gaussian"] = DensityConfig.kde_kernel,
                     edge_correction: bool = True) -> dict[str, KernelSurface]:
    """Kernel density surfaces of all points and of each group, on one shared grid.

    Parameters
    ----------
    points
        Points (rows without geometry are ignored, logged).
    boundary
        City polygon(s): the domain of the surfaces.
    by
        Column holding the group of each point (e.g. ``"category"``); ``None``: total only.
    groups
        Groups to make surfaces for (default: every value of ``by`` present, sorted).
    name
        Prefix of the surfaces' names (``"places"`` gives ``"places"`` and ``"places:cafe"``).
    include_total
        Add the surface of all points under the key ``"all"``.
    bandwidth_m, cell_m, kernel, edge_correction
        See :func:`kernel_density`.

    Returns
    -------
    dict[str, KernelSurface]
        ``"all"`` first (if asked), then one entry per group.
    """
    if bandwidth_m <= 0 or cell_m <= 0:
        raise ValueError("bandwidth_m and cell_m must be > 0")
    city = _boundary_geom(boundary)
    pts = _points_in_city(_located(points, name), city, name)
    grid, w, edge_mass = _grid_for(city, cell_m, kernel, bandwidth_m, edge_correction)
    sets: list[tuple[str, str, gpd.GeoDataFrame]] = []
    if include_total:
        sets.append(("all", name, pts))
    if by is not None:
        if by not in pts.columns:
            raise ValueError(f"{name}: no column {by!r} to group by")
        labels = pts[by].astype("string")
        wanted = list(groups) if groups is not None else sorted(labels.dropna().unique())
        sets += [(str(g), f"{name}:{g}", pts.loc[(labels == g).fillna(False).to_numpy()])
                 for g in wanted]
    out: dict[str, KernelSurface] = {}
    for key, label, subset in sets:
        xy = shapely.get_coordinates(subset.geometry.to_numpy())
        values = _surface(xy, grid, w, edge_mass)
        surf = KernelSurface(values, grid.transform, settings.crs_work, label, kernel,
                             float(bandwidth_m), float(cell_m), len(subset), edge_correction)
        if len(subset):
            logger.info("kernel density %s: %d points, %s %g m, integral %.2f (%s)", label,
                        len(subset), kernel, bandwidth_m, surf.integral(),
                        "edge-corrected" if edge_correction else
                        f"{100 * surf.integral() / len(subset):.1f} % of the mass in the city")
        out[key] = surf
    return out


def kernel_density(points: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame | gpd.GeoSeries, *,
                   bandwidth_m: float = DensityConfig.kde_bandwidth_m,
                   cell_m: float = DensityConfig.kde_cell_m,
                   kernel: Literal["quartic", "gaussian"] = DensityConfig.kde_kernel,
                   edge_correction: bool = True, name: str = "points") -> KernelSurface:
    """Compute the kernel density surface of points, clipped to the city, in points per km².

    Method: the points inside the city are binned linearly onto a grid of ``cell_m`` cells
    (each point's unit mass is shared between the 4 nearest cell centres, Wand 1994) and
    convolved (FFT) with the discretised kernel, normalised to sum 1. The surface is
    ``sum_i K(x - x_i)`` in points per km², so its integral over the plane is the number of
    points. Cells whose centre is outside the city are NaN. Cost: one FFT convolution per
    surface, independent of the number of points.

    Edge correction (default): each point's kernel is divided by the share of it that falls
    inside the city, ``e(x_i)`` (the convolution of the city mask with the kernel), i.e. the
    Jones-Diggle correction (spatstat's ``density.ppp(diggle=TRUE)``). No mass spills into
    the sea or neighbouring towns, so the clipped surface integrates *exactly* to the number of
    points (up to float round-off) and density near the edge is raised accordingly. Mass
    binned onto a cell with no city within the kernel (kernels smaller than a cell at a
    ragged edge) is moved to the nearest city cell first. Without the correction the surface
    is the plain estimate and the part of each kernel outside the city is lost (the share
    kept is logged).

    Parameters
    ----------
    points
        Points, any CRS; rows without geometry and points outside the city are left out
        (logged).
    boundary
        City polygon(s).
    bandwidth_m
        Quartic: kernel radius; Gaussian: standard deviation (kernel cut at 4 ×). For similar
        smoothness, a Gaussian σ ≈ 0.35 × the quartic radius.
    cell_m
        Cell size in metres.
    kernel
        ``"quartic"`` (biweight, ``3/(π h²) (1 - d²/h²)²``) or ``"gaussian"``.
    edge_correction
        Normalise each kernel over the city (see above).
    name
        Recorded in the surface.

    Returns
    -------
    KernelSurface

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> city = gpd.GeoSeries([box(0, 0, 2000, 2000)], crs="EPSG:25831")
    >>> pts = gpd.GeoSeries([Point(100, 100), Point(1000, 1000)], crs="EPSG:25831")
    >>> s = kernel_density(gpd.GeoDataFrame(geometry=pts), city, bandwidth_m=400, cell_m=50)
    >>> round(s.integral(), 6)
    2.0
    """
    return kernel_densities(points, boundary, name=name, bandwidth_m=bandwidth_m,
                            cell_m=cell_m, kernel=kernel, edge_correction=edge_correction)["all"]


def _rings_to_polygons(points: Sequence[np.ndarray], offsets: Sequence[np.ndarray]) -> list[Any]:
    polys = []
    for pts, offs in zip(points, offsets, strict=True):
        rings = [pts[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            polys.append(shapely.Polygon(rings[0], rings[1:]))
    return polys


def surface_contours(surface: KernelSurface,
                     boundary: gpd.GeoDataFrame | gpd.GeoSeries | None = None, *,
                     classification: Classification | None = None, k: int = 6,
                     scheme: str = "quantiles", cmap: str = "magma_r") -> gpd.GeoDataFrame:
    """Band polygons of a surface (filled contours), in EPSG:4326 for the web map.

    Parameters
    ----------
    surface
        A kernel density surface.
    boundary
        City polygon(s) to clip the bands to (contouring interpolates between cell centres,
        so bands can reach half a cell beyond the city).
    classification
        Band limits (``index``) and colours; default :meth:`KernelSurface.classification`
        with ``k``, ``scheme`` and ``cmap``.
    k, scheme, cmap
        Used when ``classification`` is not given.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one (multi)polygon per non-empty band: ``layer`` (surface name), ``band``
        (1 = lowest), ``level_min``, ``level_max`` (points per km²; a band holds
        ``level_min <= value < level_max``, the top one includes the maximum), ``label``,
        ``color`` (hex), ``units``.
    """
    cls = classification or surface.classification(k=k, scheme=scheme, cmap=cmap)
    boundary_key = None if boundary is None else shapely.to_wkb(_boundary_geom(boundary))
    key = digest(_surfaces_digest({"s": surface}, cls), boundary_key)
    return remember(_CONTOURS, key, lambda: _surface_contours(surface, boundary, cls),
                    size=8).copy()


#: Recent contour results (the same surface is drawn by both maps and written to a file).
_CONTOURS: dict[str, gpd.GeoDataFrame] = {}


def _surface_contours(surface: KernelSurface,
                      boundary: gpd.GeoDataFrame | gpd.GeoSeries | None,
                      cls: Classification) -> gpd.GeoDataFrame:
    import contourpy

    columns = ["layer", "band", "level_min", "level_max", "label", "color", "units"]
    if cls.k == 0:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry",
                                crs=settings.crs_store)
    rows, cols = surface.values.shape
    xmin, ymin, _, _ = surface.extent
    x = xmin + (np.arange(cols) + 0.5) * surface.cell_m
    y = ymin + (np.arange(rows) + 0.5) * surface.cell_m
    z = np.nan_to_num(surface.values[::-1], nan=0.0)
    gen = contourpy.contour_generator(x, y, z, fill_type="OuterOffset")
    clip = _boundary_geom(boundary) if boundary is not None else None
    levels = cls.index
    records, geoms = [], []
    for band in range(cls.k):
        lo = levels[band]
        hi = levels[band + 1] if band < cls.k - 1 else max(levels[-1], float(z.max())) * \
            (1 + 1e-9) + 1e-12
        pts, offs = gen.filled(lo, hi)
        polys = _rings_to_polygons(pts, offs)
        if not polys:
            continue
        geom = shapely.make_valid(shapely.MultiPolygon(polys))
        if clip is not None:
            geom = shapely.intersection(geom, clip)
        geom = shapely.union_all([g for g in shapely.get_parts(geom)
                                  if g.geom_type in ("Polygon", "MultiPolygon")])
        if geom.is_empty:
            continue
        records.append((surface.name, band + 1, float(lo), float(levels[band + 1]),
                        cls.labels[band], cls.colors[band], DENSITY_UNITS))
        geoms.append(geom)
    gdf = gpd.GeoDataFrame(pd.DataFrame(records, columns=columns), geometry=geoms,
                           crs=settings.crs_work)
    return gdf.to_crs(settings.crs_store)


# -- the whole stage ------------------------------------------------------------------------------
@dataclass
class DensityResult:
    """Everything :func:`compute_densities` makes, in the work CRS.

    Attributes
    ----------
    districts, barris, hexes
        Tables of :func:`area_densities` and :func:`hex_densities`.
    kde_spaces, kde_places
        Kernel surfaces: ``"all"``, and for places one per category of
        ``place_categories`` (always all of them, zero where a category has no point, so the
        bands of ``kde_places.tif`` are fixed).
    boundary
        The city polygon.
    spaces
        Located spaces (for figures).
    """

    districts: gpd.GeoDataFrame
    barris: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    kde_spaces: dict[str, KernelSurface]
    kde_places: dict[str, KernelSurface]
    boundary: gpd.GeoSeries
    spaces: gpd.GeoDataFrame
    _classes: dict[str, Classification] | None = field(default=None, init=False, repr=False,
                                                       compare=False)

    def classifications(self) -> dict[str, Classification]:
        """Return the class breaks of the mapped columns, keyed ``"<table>.<column>"``.

        Figures and :func:`write_density_outputs` (``density_classes.json``) use these, so
        the web map can colour its layers exactly like the PNGs. Computed once and kept.
        """
        if self._classes is None:
            self._classes = self._classify()
        return self._classes

    def _classify(self) -> dict[str, Classification]:
        out: dict[str, Classification] = {}
        specs = [
            ("spaces_per_km2", "spaces per km²", {}),
            ("spaces_per_10k_res", "spaces per 10,000 residents", {}),
            ("lq_spaces", "location quotient (residents base)",
             {"bins": LQ_BINS, "cmap": "RdBu_r"}),
            ("residents_per_km2", "residents per km²", {"cmap": "Blues"}),
            ("places_per_km2", "places per km²", {"cmap": "PuRd"}),
            ("stops_per_km2", "transit stops per km²", {"cmap": "Greens"}),
        ]
        for table_name, table in (("districts", self.districts), ("barris", self.barris)):
            for col, units, kw in specs:
                if col in table.columns:
                    out[f"{table_name}.{col}"] = class_breaks(
                        table[col], k=5, units=units, column=col, **kw)
        for col, units, cmap in (("spaces", "spaces per cell", "YlOrRd"),
                                 ("places", "places per cell", "PuRd"),
                                 ("residents", "residents per cell", "Blues"),
                                 ("stops", "transit stops per cell", "Greens")):
            if col in self.hexes.columns:
                out[f"hexes.{col}"] = class_breaks(self.hexes[col], k=6, cmap=cmap,
                                                   units=units, column=col)
        for prefix, surfaces in (("kde_spaces", self.kde_spaces), ("kde_places", self.kde_places)):
            if "all" in surfaces:
                out[f"{prefix}.all"] = surfaces["all"].classification()
        return out


@dataclass
class DensityBase:
    """The parts of the density stage that do not depend on the coworking spaces.

    Districts, barris and hexagons with their areas, residents, places and stops columns, and
    the kernel surfaces of places. :func:`compute_densities` adds the spaces to it, so a
    rebuild after an inventory edit reuses a cached base (see :func:`density_base`).
    """

    districts: gpd.GeoDataFrame
    barris: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    kde_places: dict[str, KernelSurface]
    boundary: gpd.GeoSeries


def density_base(districts: gpd.GeoDataFrame, barris: gpd.GeoDataFrame,
                 sections: gpd.GeoDataFrame | None,
                 boundary: gpd.GeoDataFrame | gpd.GeoSeries,
                 places: gpd.GeoDataFrame | None = None,
                 transit: gpd.GeoDataFrame | None = None, *,
                 config: DensityConfig | None = None, hex_edge_m: float | None = None,
                 hex_clip: bool = False, edge_correction: bool = True,
                 place_categories: Sequence[str] = PLACE_CATEGORIES,
                 transit_modes: Sequence[str] = TRANSIT_MODES) -> DensityBase:
    """Compute everything of the density stage that does not depend on the spaces.

    Parameters are those of :func:`compute_densities` without ``spaces``.

    Returns
    -------
    DensityBase
    """
    cfg = config or DensityConfig()
    common = {"place_categories": place_categories, "transit_modes": transit_modes}
    d = area_densities(districts, None, places, transit, key="district_code", **common)
    b = area_densities(barris, None, places, transit, key="barri_code", **common)
    if sections is None:
        logger.warning("no census sections: hexagon residents are interpolated from the "
                       "barris (coarser)")
    h = hex_densities(boundary, sections if sections is not None else barris, None,
                      places, transit, resolution=cfg.hex_resolution, edge_m=hex_edge_m,
                      clip=hex_clip, **common)
    kp: dict[str, KernelSurface] = {}
    if places is not None:
        pl = _located(places, "places")
        cats = pl["category"].astype("string").str.strip().str.lower()
        pl = pl.assign(category=cats).loc[cats.isin(list(place_categories))
                                          .fillna(False).to_numpy()]
        kp = kernel_densities(pl, boundary, by="category", groups=list(place_categories),
                              name="places", **_kde_args(cfg, edge_correction))
    city = gpd.GeoSeries([_boundary_geom(boundary)], crs=settings.crs_work)
    return DensityBase(d, b, h, kp, city)


def _kde_args(cfg: DensityConfig, edge_correction: bool) -> dict[str, Any]:
    return {"bandwidth_m": cfg.kde_bandwidth_m, "cell_m": cfg.kde_cell_m,
            "kernel": cfg.kde_kernel, "edge_correction": edge_correction}


def _add_spaces(table: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, level: str
                ) -> gpd.GeoDataFrame:
    """Insert the spaces columns into a base table (after area and residents)."""
    geoms = table.geometry.to_numpy()
    residents = table["residents"].to_numpy() if "residents" in table.columns else None
    layers = _layers(spaces, None, None, PLACE_CATEGORIES, TRANSIT_MODES)
    sp = _density_table(geoms, table["area_km2"].to_numpy(), residents, layers, level=level)
    new = [c for c in sp.columns if c not in table.columns]
    cols = list(table.columns)
    at = max(cols.index(c) for c in ("area_km2", "residents", "residents_per_km2")
             if c in cols) + 1
    out = pd.concat([table.reset_index(drop=True), sp[new]], axis=1)
    out = out[[*cols[:at], *new, *cols[at:]]]
    return gpd.GeoDataFrame(out, geometry=table.geometry.name, crs=table.crs)


def compute_densities(districts: gpd.GeoDataFrame, barris: gpd.GeoDataFrame,
                      sections: gpd.GeoDataFrame | None,
                      boundary: gpd.GeoDataFrame | gpd.GeoSeries,
                      spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None,
                      transit: gpd.GeoDataFrame | None = None, *,
                      config: DensityConfig | None = None, hex_edge_m: float | None = None,
                      hex_clip: bool = False, edge_correction: bool = True,
                      place_categories: Sequence[str] = PLACE_CATEGORIES,
                      transit_modes: Sequence[str] = TRANSIT_MODES,
                      base: DensityBase | None = None) -> DensityResult:
    """Run the density stage: district and barri tables, hexagons and kernel surfaces.

    Parameters
    ----------
    districts, barris, sections
        Admin polygons with ``district_code`` / ``barri_code`` / ``section_code`` and
        ``population``. Without sections (e.g. a live source), hexagon residents are
        interpolated from the barris instead (coarser; logged).
    boundary
        City polygon.
    spaces, places, transit
        Points (see :func:`area_densities`).
    config
        ``[density]`` options (H3 resolution, kernel, bandwidth, cell size).
    hex_edge_m
        Use a projected hexagon grid with this edge (m) instead of H3.
    hex_clip
        Clip hexagon geometries to the city.
    edge_correction
        Edge-correct the kernel surfaces (see :func:`kernel_density`).
    place_categories, transit_modes
        Groups that get their own columns (and, for places, their own surfaces).
    base
        The spaces-independent part, from :func:`density_base` with the same arguments
        (computed here when ``None``); pass a cached one to rebuild quickly after an
        inventory edit.

    Returns
    -------
    DensityResult
    """
    cfg = config or DensityConfig()
    if base is None:
        base = density_base(districts, barris, sections, boundary, places, transit,
                            config=cfg, hex_edge_m=hex_edge_m, hex_clip=hex_clip,
                            edge_correction=edge_correction, place_categories=place_categories,
                            transit_modes=transit_modes)
    located = _located(spaces, "spaces")
    d = _add_spaces(base.districts, spaces, "district_code")
    b = _add_spaces(base.barris, spaces, "barri_code")
    h = _add_spaces(base.hexes, spaces, "hexagon")
    ks = kernel_densities(located, base.boundary, name="spaces",
                          **_kde_args(cfg, edge_correction))
    return DensityResult(d, b, h, ks, base.kde_places, base.boundary, located)


# -- writers --------------------------------------------------------------------------------------
def write_layer(gdf: gpd.GeoDataFrame, folder: str | os.PathLike[str], name: str, *,
                csv: bool = True, ledger: OutputLedger | None = None) -> list[Path]:
    """Write ``<name>.gpkg`` (EPSG:4326, layer ``name``) and its CSV twin, atomically.

    The CSV has no geometry (hexagon tables get ``lon``/``lat`` of the cell centre) and is
    safe against spreadsheet formula injection (:func:`cwsgeo._io.write_csv`).

    Parameters
    ----------
    gdf
        Table with geometry, any CRS.
    folder
        Output folder (created).
    name
        File stem and layer name.
    csv
        Also write ``<name>.csv``.
    ledger
        Skip files that already hold this data (see :class:`cwsgeo._cache.OutputLedger`).

    Returns
    -------
    list[Path]
        The files (written or already fresh).
    """
    folder = Path(folder)
    targets = [folder / f"{name}.gpkg", *([folder / f"{name}.csv"] if csv else [])]
    key = frame_digest(gdf) if ledger is not None else ""
    if ledger is not None and all(ledger.fresh(t, key) for t in targets):
        return targets
    stored = gdf.to_crs(settings.crs_store)
    paths = [write_gpkg({name: stored}, folder / f"{name}.gpkg")]
    if csv:
        table = pd.DataFrame(stored.drop(columns=stored.geometry.name))
        if "hex_id" in table.columns:
            centre = gdf.to_crs(settings.crs_work).geometry.centroid.to_crs(settings.crs_store)
            table["lon"] = np.round(centre.x.to_numpy(), 6)
            table["lat"] = np.round(centre.y.to_numpy(), 6)
        paths.append(write_csv(table, folder / f"{name}.csv"))
    for path in paths:
        if ledger is not None:
            ledger.record(path, key)
    return paths


def write_geotiff(surfaces: KernelSurface | Mapping[str, KernelSurface],
                  path: str | os.PathLike[str]) -> Path:
    """Write one or more surfaces (one band each) as a float32 GeoTIFF, atomically.

    Parameters
    ----------
    surfaces
        A surface or a mapping of surfaces on the same grid; band descriptions are the
        mapping's keys (or the surface name).
    path
        Destination ``.tif``.

    Returns
    -------
    Path
        EPSG:25831, deflate-compressed, nodata ``-9999`` outside the city; tags record units,
        kernel, bandwidth, cell size, number of points and edge correction.
    """
    import rasterio

    items = ({surfaces.name: surfaces} if isinstance(surfaces, KernelSurface)
             else dict(surfaces))
    if not items:
        raise ValueError("write_geotiff: no surface to write")
    first = next(iter(items.values()))
    for s in items.values():
        if s.values.shape != first.values.shape or s.transform != first.transform:
            raise ValueError(f"write_geotiff: surface {s.name!r} is not on the grid of "
                             f"{first.name!r}")
    rows, cols = first.values.shape
    profile = {"driver": "GTiff", "width": cols, "height": rows, "count": len(items),
               "dtype": "float32", "crs": first.crs, "transform": first.transform,
               "nodata": GEOTIFF_NODATA, "compress": "deflate", "predictor": 3,
               "tiled": True, "blockxsize": 256, "blockysize": 256}
    if rows < 256 or cols < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    with (atomic_path(path) as tmp, rasterio.Env(GDAL_PAM_ENABLED="NO"),
          rasterio.open(tmp, "w", **profile) as dst):
        dst.update_tags(units=DENSITY_UNITS.replace("²", "2"), kernel=first.kernel,
                        bandwidth_m=f"{first.bandwidth_m:g}", cell_m=f"{first.cell_m:g}",
                        edge_correction=str(first.edge_correction))
        for band, (key, s) in enumerate(items.items(), start=1):
            data = np.where(np.isfinite(s.values), s.values, GEOTIFF_NODATA)
            dst.write(data.astype("float32"), band)
            dst.set_band_description(band, key)
            dst.update_tags(band, name=s.name, n_points=str(s.n_points),
                            integral=f"{s.integral():.6g}")
    logger.debug("wrote %s", path)
    return Path(path)


def write_density_outputs(result: DensityResult, folder: str | os.PathLike[str], *,
                          csv: bool = True, ledger: OutputLedger | None = None
                          ) -> dict[str, Path]:
    """Write the density stage's files into ``folder`` (the pipeline's ``data/processed/``).

    Files: ``districts.gpkg``, ``barris.gpkg``, ``hexes.gpkg`` (EPSG:4326) and their CSV twins;
    ``kde_spaces.tif`` (band ``all``) and ``kde_places.tif`` (band ``all`` then one per
    category, in :data:`PLACE_CATEGORIES` order) in EPSG:25831; ``kde_contours.gpkg``
    (layers ``spaces`` and ``places``, band polygons of the ``all`` surfaces, EPSG:4326);
    ``density_classes.json`` (class breaks and colours of the mapped columns, see
    :meth:`DensityResult.classifications`). Every file is written atomically.

    Parameters
    ----------
    result
        From :func:`compute_densities`.
    folder
        Output folder (created).
    csv
        Also write the CSV twins.
    ledger
        Skip files that already hold this data (see :class:`cwsgeo._cache.OutputLedger`).

    Returns
    -------
    dict[str, Path]
        File name -> path.
    """
    folder = Path(folder)
    written: list[Path] = []
    for name, table in (("districts", result.districts), ("barris", result.barris),
                        ("hexes", result.hexes)):
        written += write_layer(table, folder, name, csv=csv, ledger=ledger)
    classes = result.classifications()
    surface_keys: dict[str, str] = {}
    for name, surfaces in (("spaces", result.kde_spaces), ("places", result.kde_places)):
        if not surfaces:
            continue
        path = folder / f"kde_{name}.tif"
        surface_keys[name] = _surfaces_digest(surfaces, classes.get(f"kde_{name}.all"))
        if ledger is None or not ledger.fresh(path, surface_keys[name]):
            write_geotiff(surfaces, path)
            if ledger is not None:
                ledger.record(path, surface_keys[name])
        written.append(path)
    contour_path = folder / "kde_contours.gpkg"
    contour_key = "|".join(f"{k}:{v}" for k, v in sorted(surface_keys.items()))
    if surface_keys and (ledger is None or not ledger.fresh(contour_path, contour_key)):
        contours: dict[str, gpd.GeoDataFrame] = {}
        for name, surfaces in (("spaces", result.kde_spaces), ("places", result.kde_places)):
            if surfaces:
                contours[name] = surface_contours(
                    surfaces["all"], result.boundary,
                    classification=classes.get(f"kde_{name}.all"))
        contours = {k: v for k, v in contours.items() if len(v)}
        if contours:
            written.append(write_gpkg(contours, contour_path))
            if ledger is not None:
                ledger.record(contour_path, contour_key)
    elif surface_keys:
        written.append(contour_path)
    written.append(write_json(folder / "density_classes.json",
                              {k: v.to_dict() for k, v in classes.items()}))
    logger.info("density outputs: %d files in %s", len(written), folder)
    return {p.name: p for p in written}


def _surfaces_digest(surfaces: Mapping[str, KernelSurface], cls: Any) -> str:
    """Digest of kernel surfaces (values and parameters) and their classification."""
    import hashlib

    h = hashlib.sha256()
    for name, surf in surfaces.items():
        h.update(name.encode())
        h.update(np.ascontiguousarray(surf.values).tobytes())
        h.update(repr((surf.kernel, surf.bandwidth_m, surf.cell_m, tuple(surf.transform),
                       surf.n_points)).encode())
    h.update(repr(cls.to_dict() if cls is not None else None).encode())
    return h.hexdigest()


def _grid_label(hexes: gpd.GeoDataFrame) -> str:
    n = f"{len(hexes):,} cells"
    if not len(hexes):
        return n
    first = str(hexes["hex_id"].iloc[0])
    if first.startswith("e"):
        return f"{n} of a hexagon grid, edge {first[1:].split('_')[0]} m"
    import h3

    if h3.is_valid_cell(first):
        return f"{n} of H3 resolution {h3.get_resolution(first)}"
    return n


def write_density_figures(result: DensityResult, folder: str | os.PathLike[str], *,
                          source: str = SOURCE_BCN, dpi: int = 150,
                          ledger: OutputLedger | None = None) -> dict[str, Path]:
    """Write the density PNG figures into ``folder`` (the pipeline's ``figures/``).

    Figures: ``spaces_per_km2_districts.png``, ``spaces_per_km2_barris.png`` (classed
    choropleths, same breaks as ``density_classes.json``), ``hex_places.png``,
    ``hex_residents.png`` (counts per hexagon) and ``kde_places_spaces.png`` (kernel density of
    places with the spaces on top).

    Parameters
    ----------
    result
        From :func:`compute_densities`.
    folder
        Output folder (created).
    source
        Source line printed under each figure.
    dpi
        Resolution.
    ledger
        Skip figures whose data did not change (see :class:`cwsgeo._cache.OutputLedger`).

    Returns
    -------
    dict[str, Path]
        File name -> path.
    """
    folder = Path(folder)
    classes = result.classifications()
    n_spaces = len(result.spaces)
    out: list[Path] = []

    def fresh(name: str, *data: Any) -> tuple[Path, str, bool]:
        path = folder / name
        key = digest(source, dpi, *[frame_digest(d) if hasattr(d, "columns") else
                                    _surfaces_digest({"s": d}, None) if isinstance(
                                        d, KernelSurface) else repr(d) for d in data])
        is_fresh = ledger is not None and ledger.fresh(path, key)
        if is_fresh:
            out.append(path)
        return path, key, is_fresh

    def saved(fig: Any, path: Path, key: str) -> None:
        out.append(save_figure(fig, path, dpi=dpi))
        if ledger is not None:
            ledger.record(path, key)

    def simple(level: str) -> gpd.GeoDataFrame:  # only for figures that are drawn again
        table = getattr(result, level)
        return table.assign(geometry=table.geometry.simplify(2.0))

    for level, label in (("districts", "district"), ("barris", "barri")):
        cls = classes.get(f"{level}.spaces_per_km2")
        if cls is None:
            continue
        table = getattr(result, level)
        path, key, is_fresh = fresh(f"spaces_per_km2_{level}.png",
                                    table[["spaces_per_km2"]], cls.to_dict(), n_spaces)
        if is_fresh:
            continue
        fig = choropleth_figure(simple(level), "spaces_per_km2",
                                title=f"Coworking spaces per km² by {label}",
                                subtitle=f"{n_spaces} located spaces; area from EPSG:25831 "
                                         "geometry", units="spaces per km²",
                                classification=cls, boundary=result.boundary, source=source)
        saved(fig, path, key)
    clipped: list[gpd.GeoDataFrame] = []

    def hexes_clipped() -> gpd.GeoDataFrame:
        if not clipped:
            clipped.append(result.hexes.assign(geometry=_clip_to(
                result.boundary.iloc[0], result.hexes.geometry.to_numpy())))
        return clipped[0]

    grid = _grid_label(result.hexes)
    for col, title, note in (
            ("places", "Places of interaction per hexagon",
             f"{int(result.hexes['places'].sum()) if 'places' in result.hexes else 0:,} "
             "places"),
            ("residents", "Residents per hexagon",
             "Padró 1/1/2024, interpolated from census sections by area")):
        cls = classes.get(f"hexes.{col}")
        if cls is None:
            continue
        path, key, is_fresh = fresh(f"hex_{col}.png", result.hexes[[col]], cls.to_dict(),
                                    grid, note)
        if is_fresh:
            continue
        fig = choropleth_figure(hexes_clipped(), col, title=title, units=cls.units,
                                classification=cls, boundary=result.boundary,
                                subtitle=f"{note}; {grid}, clipped to the city", source=source)
        saved(fig, path, key)
    surf = result.kde_places.get("all")
    path, key, is_fresh = (None, "", True) if surf is None else fresh(
        # the spaces are drawn on it: their positions are part of the key, not only their ids
        "kde_places_spaces.png", surf, result.spaces.geometry.to_frame(),
        classes.get("kde_places.all").to_dict()
        if classes.get("kde_places.all") else None)
    if surf is not None and not is_fresh:
        assert path is not None
        fig = surface_figure(surf.values, surf.extent,
                             title="Kernel density of places, with coworking spaces",
                             units=DENSITY_UNITS, classification=classes.get("kde_places.all"),
                             boundary=result.boundary, points=result.spaces,
                             points_label=f"coworking spaces ({n_spaces})",
                             subtitle=f"{surf.n_points:,} places; {surf.kernel} kernel, "
                                      f"bandwidth {surf.bandwidth_m:g} m, {surf.cell_m:g} m "
                                      "cells", source=source)
        saved(fig, path, key)
    logger.info("density figures: %d PNG files in %s", len(out), folder)
    return {p.name: p for p in out}
