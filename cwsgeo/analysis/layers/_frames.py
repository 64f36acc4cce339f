"""Frame and geometry helpers of the layers: empty frames, points, clipping, the final schema."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from ... import settings
from ..._errors import ConfigError

__all__: list[str] = []

logger = logging.getLogger(__name__)

#: An area to clip or query with: a frame or series with a CRS, or a bare shapely geometry
#: (lon/lat when its bounds look like degrees, else the work CRS).
Clip: TypeAlias = BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries
PathLike: TypeAlias = str | os.PathLike[str]


def _check_values(values: Iterable[str] | None, allowed: Sequence[str], what: str
                  ) -> list[str]:
    if values is None:
        return list(allowed)
    chosen = [values] if isinstance(values, str) else list(values)
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown {what}(s) {unknown}; choose from {list(allowed)}")
    return chosen


def _empty(columns: Sequence[str]) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {c: pd.Series(dtype=str) for c in columns if c != "geometry"}
    if "_rank" in data:
        data["_rank"] = pd.Series(dtype="int64")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=settings.crs_work),
                            crs=settings.crs_work)


def _concat(frames: list[gpd.GeoDataFrame], columns: Sequence[str]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty(columns)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=settings.crs_work)


def _unique_ids(gdf: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Drop repeated ids (the same OSM element read twice), keeping the newest date."""
    dup = gdf[column].duplicated(keep=False)
    if not dup.any():
        return gdf
    order = gdf.sort_values("date", ascending=False, kind="stable")
    keep = order[~order[column].duplicated()].index
    logger.info("%d repeated %s dropped", len(gdf) - len(keep), column)
    return gdf.loc[gdf.index.isin(keep)]


def _finish(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Exactly ``columns``, text columns as strings, a fresh index, the work CRS."""
    out = gdf.reindex(columns=list(columns)).reset_index(drop=True)
    for col in columns:
        if col != "geometry":
            out[col] = out[col].fillna("").astype(str)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.crs_work)


def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Work CRS, one point per row (representative point of lines and polygons)."""
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.crs is None:
        gdf = gdf.set_crs(settings.crs_store)
    gdf = gdf.to_crs(settings.crs_work)
    geoms = gdf.geometry.to_numpy()
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf


def _to_crs_geometry(obj: Clip, crs: str) -> BaseGeometry:
    """One shapely geometry in ``crs`` from a frame/series with a CRS or a bare geometry."""
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        series = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        if series.crs is None:
            raise ConfigError("the clip/query area has no CRS")
        return series.to_crs(crs).union_all()
    if not isinstance(obj, BaseGeometry):
        raise ConfigError(f"expected a shapely geometry or a GeoDataFrame, got {type(obj)!r}")
    minx, miny, maxx, maxy = obj.bounds
    lonlat = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    source = settings.crs_store if lonlat else settings.crs_work
    if source == crs:
        return obj
    transformer = Transformer.from_crs(source, crs, always_xy=True)
    return shapely.transform(obj, lambda xy: np.column_stack(transformer.transform(*xy.T)))


def _clip(gdf: gpd.GeoDataFrame, clip: Clip | None, buffer_m: float) -> gpd.GeoDataFrame:
    if clip is None:
        area = _to_crs_geometry(shapely.box(*settings.city_bbox), settings.crs_work)
    else:
        area = _to_crs_geometry(clip, settings.crs_work)
    if buffer_m:
        area = area.buffer(buffer_m)
    shapely.prepare(area)
    inside = shapely.intersects(area, gdf.geometry.to_numpy())
    if (~inside).any():
        logger.info("%d point(s) outside the clip area dropped", int((~inside).sum()))
    return gdf[inside]
