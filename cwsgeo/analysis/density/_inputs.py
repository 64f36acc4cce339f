"""Input handling shared by the density modules: CRS, city polygon, located and labelled points."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from ...schema import INNOVATION_TYPES, SPACE_GROUPS

logger = logging.getLogger(__name__)

__all__: list[str] = []


def _work(gdf: Any, what: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in the work CRS (a GeoSeries becomes a GeoDataFrame)."""
    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise ValueError(f"{what}: the GeoDataFrame has no CRS; set one (e.g. EPSG:4326)")
    return gdf.to_crs(settings.crs_work)


def _city_polygon(boundary: Any) -> Any:
    """Return the union of the boundary's polygons, valid, in the work CRS."""
    parts = np.asarray(_work(boundary, "boundary").geometry.dropna().to_numpy())
    geom = shapely.union_all(shapely.make_valid(parts))
    if geom.is_empty or geom.area <= 0:
        raise ValueError("boundary: no polygon with a positive area")
    return geom


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

