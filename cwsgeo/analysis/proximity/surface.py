"""Accessibility surface: residents and places within walking minutes of every network node."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ...schema import metric_column
from ..network import WalkNetwork, iter_node_distances
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

    Every node is an origin: batched, limited dijkstra over the CSR matrix
    (:func:`cwsgeo.analysis.network.iter_node_distances`, Morton-ordered batches). Residents
    are summed over reached nodes; a place counts when ``min(d(u) + cost_u, d(v) + cost_v)``
    is within the threshold (exact, using both ends of its segment); only places whose segment
    has a reached end are examined for each batch.

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
        Origins per dijkstra batch.
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
    res_acc, place_acc = _reach_from_every_node(net, residents, place_t, radii, chunk_size,
                                                progress)
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
                           chunk_size: int, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Residents ``(n, r)`` and places ``(n, r, 1 + k)`` (total, categories) over the network.

    Only residents at nodes and places on the network; those off it are added in a straight
    line by the caller.
    """
    from scipy.sparse import csgraph

    n = net.n_nodes
    limit = float(radii.max())
    res_acc = np.zeros((n, len(radii)))
    n_weights = 1 + len(place_t.columns) if place_t is not None else 0
    place_acc = np.zeros((n, len(radii), n_weights), dtype=np.float32)
    p_on = place_t.on if place_t is not None else np.zeros(0, dtype=np.int64)
    for batch, dist in iter_node_distances(net, limit=limit, chunk_size=chunk_size,
                                           progress=progress):
        # a Morton batch reaches a compact set of nodes (found by one cheap multi-source
        # search): only those columns and the places on their segments are looked at
        hit = np.isfinite(csgraph.dijkstra(net.adjacency, directed=True, indices=batch,
                                           limit=limit, min_only=True))
        if residents is not None:
            reached = np.flatnonzero(hit)
            sub = dist[:, reached]
            w_res = residents.node_residents[reached]
            for j, r in enumerate(radii):
                res_acc[batch, j] = (sub <= r) @ w_res
        if place_t is not None and len(p_on):
            place_acc[batch] = _places_reached(place_t, p_on, dist, hit, radii)
    return res_acc, place_acc


def _places_reached(place_t: SnappedTargets, p_on: np.ndarray, dist: np.ndarray,
                    hit: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """``(batch, r, 1 + k)`` weights of the on-network places within each radius."""
    snap = place_t.snap
    p_u, p_v = snap.u[p_on], snap.v[p_on]
    out = np.zeros((len(dist), len(radii), 1 + len(place_t.columns)), dtype=np.float32)
    sel = np.flatnonzero(hit[p_u] | hit[p_v])
    if len(sel):
        s = p_on[sel]
        w = np.column_stack([np.ones(len(s)), place_t.weights[s]]).astype(np.float32)
        d = np.minimum(dist[:, snap.u[s]] + snap.cost_u[s], dist[:, snap.v[s]] + snap.cost_v[s])
        for j, r in enumerate(radii):
            out[:, j] = (d <= r).astype(np.float32) @ w
    return out
