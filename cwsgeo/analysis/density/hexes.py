"""Hexagon grids covering the city (H3 or projected) and densities on them.

The cells cover the city completely; each cell's ``area_km2`` is its part inside the city, and
residents come from census sections by areal weighting (:func:`areal_interpolate
<cwsgeo.analysis.density.areas.areal_interpolate>`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from ...schema import PLACE_CATEGORIES, TRANSIT_MODES
from ._inputs import _city_polygon, _layers
from .areas import _density_table, areal_interpolate

logger = logging.getLogger(__name__)

__all__ = ["clip_to_city", "hex_densities", "hex_grid"]


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
    row_grid, col_grid = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1),
                                     indexing="ij")
    rows, cols = row_grid.ravel(), col_grid.ravel()
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
             resolution: int = 9, edge_m: float | None = None,
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
    return _hex_grid(_city_polygon(boundary), resolution, edge_m, clip)[0]


def clip_to_city(city: Any, polys: np.ndarray) -> np.ndarray:
    """Return the parts of polygons inside the city (polygons wholly inside stay as they are).

    Parameters
    ----------
    city
        The city as one shapely (multi)polygon, in the CRS of ``polys``.
    polys
        Array of shapely polygons (e.g. hexagon cells).

    Returns
    -------
    numpy.ndarray
        The clipped polygons, in the order of ``polys``.
    """
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
    inside = clip_to_city(city, polys)
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
                  resolution: int = 9, edge_m: float | None = None,
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
    grid, zones = _hex_grid(_city_polygon(boundary), resolution, edge_m, clip)
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

