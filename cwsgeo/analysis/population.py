"""Gridded and user-given population: the finest population units of a city without a register.

Cities without an open population register (Barcelona has its Padró per census section) get
their residents from a population grid such as the JRC's GHSL ``GHS-POP`` (a GeoTIFF of
residents per cell: 100 m in Mollweide, ESRI:54009, or 3 arc-seconds in WGS84), or from
polygons a user provides with a population column. Either way the result is a layer of
polygons with ``section_code`` and ``population`` that plays the role of Barcelona's census
sections: residents are spread from it onto the walking network
(:func:`cwsgeo.analysis.proximity.allocate_residents`) and summed into districts and
neighbourhoods by area (:func:`units_population`).

The grid is read with a **windowed read** of just the city's bounding box
(:func:`read_grid_window`): a local file, or an ``http(s)`` URL read through GDAL's
``/vsicurl/`` (HTTP range requests, so only the file's header and the blocks under the city
travel: a continental GHSL mosaic of several GB costs a few hundred KB per city).

Examples
--------
>>> grid = read_grid_window("GHS_POP_E2025_GLOBE_R2023A_54009_100_V1_0.tif",
...                         city.geometry.iloc[0])                 # doctest: +SKIP
>>> cells = grid_cells(grid, city.geometry.iloc[0])                # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import settings
from .._errors import DataSourceError, MissingDataError

logger = logging.getLogger(__name__)

__all__ = ["GridWindow", "grid_cells", "grid_path", "population_units", "read_grid_window",
           "units_population"]


@dataclass(frozen=True)
class GridWindow:
    """The part of a population grid under a city, as read by :func:`read_grid_window`.

    Attributes
    ----------
    values
        ``(rows, cols)`` residents per cell (``float64``; nodata and negative values are 0).
    transform
        Affine transform of the window (grid CRS).
    crs
        The grid's CRS (WKT or authority string).
    window
        ``(col_off, row_off, width, height)`` of the window inside the whole grid.
    shape
        ``(rows, cols)`` of the whole grid.
    source
        The path or URL read.
    """

    values: np.ndarray
    transform: Any
    crs: str
    window: tuple[int, int, int, int]
    shape: tuple[int, int]
    source: str

    @property
    def total(self) -> float:
        """Residents in the whole window."""
        return float(self.values.sum())


def grid_path(source: str | Path) -> str:
    """Return the GDAL path of a grid: ``/vsicurl/`` for URLs, ``/vsizip/`` for zip files.

    Parameters
    ----------
    source
        A local GeoTIFF, a zip holding one (GHSL distributes its tiles so), or an ``http(s)``
        URL of either.

    Returns
    -------
    str
        What :func:`rasterio.open` reads, e.g. ``/vsizip//vsicurl/https://…/tile.zip/tile.tif``.
    """
    text = str(source)
    path = f"/vsicurl/{text}" if text.startswith(("http://", "https://")) else text
    if text.lower().endswith(".zip"):
        inner = Path(text.split("?")[0]).with_suffix(".tif").name
        path = f"/vsizip/{path}/{inner}"
    return path


def _gdal_env() -> dict[str, Any]:
    """GDAL options of HTTP reads: cwsgeo's User-Agent, timeout and retries; no directory scan."""
    return {"GDAL_HTTP_USERAGENT": settings.user_agent,
            "GDAL_HTTP_TIMEOUT": max(1, int(settings.http_timeout_s)),
            "GDAL_HTTP_MAX_RETRY": settings.http_retries, "GDAL_HTTP_RETRY_DELAY": 1,
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "CPL_VSIL_CURL_CACHE_SIZE": 16_000_000,
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.zip"}


def read_grid_window(source: str | Path, boundary: BaseGeometry, *,
                     boundary_crs: str = "EPSG:4326", name: str = "GHSL") -> GridWindow:
    """Read the cells of a population grid under a boundary's bounding box, and only those.

    Parameters
    ----------
    source
        GeoTIFF path or ``http(s)`` URL (see :func:`grid_path`).
    boundary
        The city's (Multi)Polygon.
    boundary_crs
        CRS of ``boundary``.
    name
        Name of the source in errors.

    Returns
    -------
    GridWindow

    Raises
    ------
    cwsgeo.DataSourceError
        The grid cannot be opened or read, or does not cover the whole bounding box.
    """
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    path = grid_path(source)
    try:
        with rasterio.Env(**_gdal_env()), rasterio.open(path) as src:
            bounds = transform_bounds(boundary_crs, src.crs, *boundary.bounds, densify_pts=21)
            whole = Window(0, 0, src.width, src.height)
            win = _covering_window(from_bounds(*bounds, transform=src.transform))
            inside = win.intersection(whole) if _overlaps(win, whole) else None
            if inside is None or (inside.width, inside.height) != (win.width, win.height):
                raise DataSourceError(name, f"the grid {source} does not cover the city "
                                      f"(bounds {tuple(round(b) for b in bounds)} in the grid's "
                                      f"CRS; grid bounds {tuple(round(b) for b in src.bounds)})")
            values = src.read(1, window=win, masked=True).astype("float64").filled(0.0)
            transform = src.window_transform(win)
            crs = src.crs.to_string()
            shape = (src.height, src.width)
    except RasterioError as exc:
        raise DataSourceError(name, f"cannot read the population grid {source}: {exc}") from None
    values[~np.isfinite(values) | (values < 0)] = 0.0
    window = (int(win.col_off), int(win.row_off), int(win.width), int(win.height))
    logger.info("%s: read a %d x %d window of the %d x %d grid %s (%.0f residents)", name,
                window[2], window[3], shape[1], shape[0], source, values.sum())
    return GridWindow(values, transform, crs, window, shape, str(source))


def _covering_window(win: Any) -> Any:
    """Return the whole-cell window covering ``win``: offsets floored, far edges ceiled.

    (rasterio's ``round_offsets``/``round_lengths`` round the offset and the length each on
    its own, which can drop the last row or column under the city's box.)
    """
    from rasterio.windows import Window

    eps = 1e-6  # a bound on a cell edge, up to float noise, takes no extra cell
    c0, r0 = math.floor(win.col_off + eps), math.floor(win.row_off + eps)
    c1 = math.ceil(win.col_off + win.width - eps)
    r1 = math.ceil(win.row_off + win.height - eps)
    return Window(c0, r0, c1 - c0, r1 - r0)


def _overlaps(a: Any, b: Any) -> bool:
    return bool(a.col_off < b.col_off + b.width and b.col_off < a.col_off + a.width
                and a.row_off < b.row_off + b.height and b.row_off < a.row_off + a.height)


def grid_cells(grid: GridWindow, boundary: BaseGeometry, *,
               boundary_crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Turn the populated cells under a boundary into polygons clipped to it.

    A cell crossing the boundary keeps the share of its residents that its clipped part
    holds by area (measured in the grid's CRS; GHSL's Mollweide is equal-area), so the sum
    over the result is the grid's population inside the boundary. Empty cells are dropped.

    Parameters
    ----------
    grid
        A window from :func:`read_grid_window`.
    boundary
        The city's (Multi)Polygon.
    boundary_crs
        CRS of ``boundary``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``section_code`` (``r<row>c<col>`` in the whole grid), ``population`` and the clipped
        cell polygons, in the work CRS (:data:`cwsgeo.settings.crs_work`).
    """
    rows, cols = np.nonzero(grid.values > 0)
    t = grid.transform
    x0, y0 = t.c + cols * t.a, t.f + rows * t.e
    cells = shapely.box(np.minimum(x0, x0 + t.a), np.minimum(y0, y0 + t.e),
                        np.maximum(x0, x0 + t.a), np.maximum(y0, y0 + t.e))
    city = gpd.GeoSeries([boundary], crs=boundary_crs).to_crs(grid.crs).iloc[0]
    shapely.prepare(city)
    inner = shapely.contains_properly(city, cells)
    edge = ~inner & shapely.intersects(city, cells)
    share = inner.astype(float)
    geoms = np.array(cells, dtype=object)
    if edge.any():
        clipped = shapely.intersection(cells[edge], city)
        share[edge] = shapely.area(clipped) / shapely.area(cells[edge])
        geoms[edge] = clipped
    keep = share > 0
    col_off, row_off = grid.window[:2]
    codes = [f"r{r + row_off}c{c + col_off}" for r, c in zip(rows[keep], cols[keep],
                                                             strict=True)]
    out = gpd.GeoDataFrame({"section_code": codes,
                            "population": grid.values[rows, cols][keep] * share[keep]},
                           geometry=list(geoms[keep]), crs=grid.crs)
    out = out.to_crs(settings.crs_work)
    logger.info("%s: %d populated cells inside the boundary, %.0f residents", grid.source,
                len(out), out["population"].sum())
    return out


def population_units(frame: gpd.GeoDataFrame, boundary: BaseGeometry, *,
                     column: str = "population", boundary_crs: str = "EPSG:4326",
                     source: str = "population polygons") -> gpd.GeoDataFrame:
    """Prepare user-given population polygons as the finest population units.

    Parameters
    ----------
    frame
        Polygons with a population column (any CRS; EPSG:4326 assumed when unset).
    boundary
        The city's (Multi)Polygon: units are clipped to it, their population scaled by the
        share of their area inside (measured in the work CRS).
    column
        The population column.
    boundary_crs
        CRS of ``boundary``.
    source
        Name of the file in errors.

    Returns
    -------
    geopandas.GeoDataFrame
        ``section_code`` (``p<row>``), ``population``, geometry in the work CRS.

    Raises
    ------
    cwsgeo.MissingDataError
        The column is missing or holds non-numeric or negative values.
    """
    if column not in frame.columns:
        raise MissingDataError(f"{source}: no population column {column!r} (columns: "
                               f"{', '.join(map(str, frame.columns))})")
    pop = pd.to_numeric(frame[column], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        raise MissingDataError(f"{source}: column {column!r} has missing, non-numeric or "
                               f"negative values in {int((pop.isna() | (pop < 0)).sum())} rows")
    gdf = frame if frame.crs is not None else frame.set_crs(settings.crs_store)
    units = gpd.GeoDataFrame({"section_code": [f"p{i}" for i in range(len(gdf))],
                              "population": pop.to_numpy(dtype=float)},
                             geometry=gdf.geometry.to_crs(settings.crs_work).to_numpy(),
                             crs=settings.crs_work)
    units = units[units.geometry.notna() & ~units.geometry.is_empty]
    units = units.set_geometry(shapely.make_valid(units.geometry.to_numpy()))  # bow-ties
    city = gpd.GeoSeries([boundary], crs=boundary_crs).to_crs(settings.crs_work).iloc[0]
    area = units.geometry.area.to_numpy()
    clipped = units.geometry.intersection(city)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, clipped.area.to_numpy() / area, 0.0)
    units = units.assign(population=units["population"] * share).set_geometry(clipped.values)
    return units[share > 0].reset_index(drop=True)


def units_population(units: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Sum population units into larger areas by area (districts, neighbourhoods).

    Parameters
    ----------
    units
        Polygons with ``population`` (e.g. from :func:`grid_cells`).
    areas
        Target polygons (any CRS).

    Returns
    -------
    numpy.ndarray
        Residents per row of ``areas`` (areal weighting: a unit split by an area border
        gives each side its share of the unit's area).
    """
    from .density import areal_interpolate

    if units.empty or areas.empty:
        return np.zeros(len(areas))
    values = areal_interpolate(units[["population", "geometry"]], areas.geometry, "population")
    return values["population"].to_numpy(dtype=float)
