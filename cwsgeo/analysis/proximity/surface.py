"""Accessibility surface: residents and places within walking minutes of every network node."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ...schema import metric_column
from ..network import WalkNetwork, sums_in_range
from ._common import snap_xy, speed_m_per_min, whole_minutes, within_weights
from .residents import Residents
from .targets import SnappedTargets, snap_places

__all__ = ["accessibility_surface"]


def accessibility_surface(net: WalkNetwork, *, residents: Residents | None = None,
                          places: gpd.GeoDataFrame | SnappedTargets | None = None,
                          minutes: Sequence[int] = (10,),
                          categories: Sequence[str] | None = None,
                          walk_speed_kmh: float | None = None,
                          snap_max_m: float | None = None, chunk_size: int = 64,
                          progress: bool = False) -> gpd.GeoDataFrame:
    """Residents and places reachable on foot from every network node.

    Every node is an origin of one bounded search on the compiled engine
    (:func:`cwsgeo.analysis.network.sums_in_range`, in parallel, summing as it goes; no
    distance matrix). Residents are summed over reached nodes; a place counts when
    ``min(d(u) + cost_u, d(v) + cost_v)`` is within the threshold (exact, using both ends of
    its segment).

    Parameters
    ----------
    net
        The walking network.
    residents
        From :func:`allocate_residents` on ``net`` (optional).
    places
        Places with ``category``, or the same snapped by :func:`snap_places` (optional).
    minutes
        Thresholds (default 10 only; e.g. ``(5, 10, 15)``).
    categories
        Place categories (default :data:`cwsgeo.schema.PLACE_CATEGORIES` plus any other
        present).
    walk_speed_kmh, snap_max_m
        As for :func:`space_metrics`.
    chunk_size
        Ignored (kept for compatibility: the engine sizes its own batches).
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per node (index = node position): ``node_id``, ``residents_{t}min``,
        ``places_total_{t}min``, ``places_{category}_{t}min``, point geometry in the work CRS.
    """
    speed = speed_m_per_min(walk_speed_kmh)
    mins = whole_minutes(minutes, (10,))
    radii = np.array(mins, dtype=float) * speed
    if residents is not None:
        residents.check(net)
    place_t = (None if places is None else
               snap_places(net, places, categories=categories, snap_max_m=snap_max_m))
    res_acc, place_acc = _reach_from_every_node(net, residents, place_t, radii, progress)
    node_xy = np.column_stack([net.x, net.y])
    cols: dict[str, np.ndarray] = {}
    for j, m in enumerate(mins):
        if residents is not None:
            cols[metric_column("residents", minutes=m)] = res_acc[:, j] + within_weights(
                residents.offnet_xy, residents.offnet_residents, node_xy, m * speed)[:, 0]
    if place_t is not None:
        off = place_t.off
        w_off = np.column_stack([np.ones(len(off)), place_t.weights[off]])
        for j, m in enumerate(mins):
            extra = within_weights(snap_xy(place_t.snap)[off], w_off, node_xy, m * speed)
            for k, c in enumerate(["total", *place_t.columns]):
                cols[metric_column("places", c, minutes=m)] = extra[:, k] + place_acc[:, j, k]
    frame = pd.DataFrame({"node_id": net.node_ids, **cols})
    for col in frame.columns:
        if col.startswith("places_"):  # counts (one-hot weights): whole numbers
            frame[col] = frame[col].round().astype(np.int64)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(net.x, net.y), crs=net.crs)


def _reach_from_every_node(net: WalkNetwork, residents: Residents | None,
                           place_t: SnappedTargets | None, radii: np.ndarray,
                           progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Residents ``(n, r)`` and places ``(n, r, 1 + k)`` (total, categories) over the network.

    Only residents at nodes and places on the network; those off it are added in a straight
    line by the caller. One bounded search per node (:func:`sums_in_range`).
    """
    n = net.n_nodes
    node_w = None if residents is None else residents.node_residents
    points, point_w = None, None
    if place_t is not None and len(place_t.on):
        on = place_t.on
        points = place_t.snap.subset(on)
        point_w = np.column_stack([np.ones(len(on)), place_t.weights[on]])
    sums = sums_in_range(net, node_w, radii, points=points, point_weights=point_w,
                         progress=progress)
    n_res = 0 if residents is None else 1
    res_acc = sums[:, :, 0] if n_res else np.zeros((n, len(radii)))
    if point_w is not None:
        return res_acc, sums[:, :, n_res:]
    n_weights = 1 + len(place_t.columns) if place_t is not None else 0
    return res_acc, np.zeros((n, len(radii), n_weights))
