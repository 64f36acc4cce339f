"""Band polygons (filled contours) of kernel density surfaces, for the web map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from ._inputs import _city_polygon
from .classes import Classification
from .kernel import DENSITY_UNITS, KernelSurface

__all__ = ["surface_contours"]

_COLUMNS = ["layer", "band", "level_min", "level_max", "label", "color", "units"]


def _rings_to_polygons(points: Sequence[np.ndarray], offsets: Sequence[np.ndarray]) -> list[Any]:
    polys = []
    for pts, offs in zip(points, offsets, strict=True):
        rings = [pts[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            polys.append(shapely.Polygon(rings[0], rings[1:]))
    return polys



def _band(gen: Any, lo: float, hi: float, clip: Any) -> Any:
    """Return the polygons of values in ``[lo, hi)``, clipped to ``clip``; ``None`` when empty."""
    polys = _rings_to_polygons(*gen.filled(lo, hi))
    if not polys:
        return None
    geom = shapely.make_valid(shapely.MultiPolygon(polys))
    if clip is not None:
        geom = shapely.intersection(geom, clip)
    geom = shapely.union_all([g for g in shapely.get_parts(geom)
                              if g.geom_type in ("Polygon", "MultiPolygon")])
    return None if geom.is_empty else geom


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
    import contourpy

    cls = classification or surface.classification(k=k, scheme=scheme, cmap=cmap)
    if cls.k == 0:
        return gpd.GeoDataFrame(columns=[*_COLUMNS, "geometry"], geometry="geometry",
                                crs=settings.crs_store)
    rows, cols = surface.values.shape
    xmin, ymin, _, _ = surface.extent
    x = xmin + (np.arange(cols) + 0.5) * surface.cell_m
    y = ymin + (np.arange(rows) + 0.5) * surface.cell_m
    z = np.nan_to_num(surface.values[::-1], nan=0.0)
    gen = contourpy.contour_generator(x, y, z, fill_type="OuterOffset")
    clip = _city_polygon(boundary) if boundary is not None else None
    levels = cls.index
    records, geoms = [], []
    for band in range(cls.k):
        lo = levels[band]
        hi = levels[band + 1] if band < cls.k - 1 else max(levels[-1], float(z.max())) * \
            (1 + 1e-9) + 1e-12
        geom = _band(gen, lo, hi, clip)
        if geom is None:
            continue
        records.append((surface.name, band + 1, float(lo), float(levels[band + 1]),
                        cls.labels[band], cls.colors[band], DENSITY_UNITS))
        geoms.append(geom)
    gdf = gpd.GeoDataFrame(pd.DataFrame(records, columns=_COLUMNS), geometry=geoms,
                           crs=settings.crs_work)
    return gdf.to_crs(settings.crs_store)
