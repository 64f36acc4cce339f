"""Walking areas: each space's reach within some minutes as a polygon, for maps."""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ..network import Snap, WalkNetwork, point_node_distances, snap_points
from ._common import as_gdf, chunks, progress_bar, space_ids, speed_m_per_min

__all__ = ["walk_areas"]


def walk_areas(spaces: gpd.GeoDataFrame, net: WalkNetwork, *, minutes: int = 10,
               method: Literal["hull", "edges"] = "hull", ratio: float = 0.3,
               buffer_m: float = 40.0, id_col: str = "id", walk_speed_kmh: float | None = None,
               snap_max_m: float | None = None, progress: bool = False) -> gpd.GeoDataFrame:
    """Each space's area within ``minutes`` on foot, as a polygon for maps.

    The walk reaches every node within ``minutes * speed`` metres and goes part-way along the
    segments leaving them (edges are straight chords, so the end of the walk along a segment is
    a point on it at the remaining distance).

    * ``method="hull"`` (default): the concave hull (``shapely.concave_hull``, ``ratio``: 0 is
      the tightest, 1 the convex hull) of the reached nodes, the partial-walk end points and the
      space. Reads as a catchment; may include block interiors and unreachable pockets.
    * ``method="edges"``: the reached street pieces buffered by ``buffer_m``: faithful to the
      streets, patchier.

    Spaces off the network (straight-line method) get a circle of the same walking distance.

    Parameters
    ----------
    spaces
        Spaces (points; any CRS) with unique ids in ``id_col`` (or an index of that name).
        Rows without geometry get an empty geometry.
    net
        The walking network.
    minutes
        Walking time.
    method, ratio, buffer_m
        Polygon construction, see above.
    id_col
        Column of ``spaces`` holding the space ids, which index the output.
    walk_speed_kmh, snap_max_m
        As for :func:`space_metrics`.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the space ids (index ``id_col``, in the rows' order): ``minutes``,
        ``proximity_method``, ``area_km2``, polygon geometry in the work CRS.
    """
    import shapely

    if method not in ("hull", "edges"):
        raise ValueError(f"method must be 'hull' or 'edges', got {method!r}")
    spaces = as_gdf(spaces, "spaces")
    ids = space_ids(spaces, id_col=id_col)
    speed = speed_m_per_min(walk_speed_kmh)
    radius = float(minutes) * speed
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    geoms = np.full(len(spaces), None, dtype=object)
    with progress_bar(len(spaces), "walking areas", progress) as bar:
        for rows_idx in chunks(len(spaces), 64):
            sub = snap.subset(rows_idx)
            on = np.flatnonzero(sub.valid & sub.on_network)
            dist = point_node_distances(net, sub.subset(on), limit=radius)
            for j, i in enumerate(rows_idx):
                if not snap.valid[i]:
                    continue
                if not snap.on_network[i]:
                    geoms[i] = shapely.Point(snap.x[i], snap.y[i]).buffer(radius, 32)
                    continue
                d = dist[np.searchsorted(on, j)]
                segments = _reached_segments(net, d, snap, i, radius)
                geoms[i] = _area_polygon(segments, method, ratio, buffer_m)
            bar.update(len(rows_idx))
    out = gpd.GeoDataFrame(index=ids, geometry=list(geoms), crs=net.crs)
    out.insert(0, "area_km2", out.geometry.area / 1e6)
    out.insert(0, "proximity_method", pd.array(snap.method, dtype="string"))
    out.insert(0, "minutes", int(minutes))
    return out


def _reached_segments(net: WalkNetwork, d: np.ndarray, snap: Snap, i: int,
                      radius: float) -> np.ndarray:
    """``(m, 2, 2)`` street pieces walked from space ``i`` within ``radius`` metres.

    Its own segment around its projection, the link from the space to that projection, and
    from every reached node the part of each leaving segment the rest of the walk covers.
    """
    x, y = net.x, net.y
    eu, ev, el = net.edge_u, net.edge_v, net.edge_length
    px, py = snap.x[i], snap.y[i]
    # projection of the space on its segment and the walk along it
    a, b = snap.u[i], snap.v[i]
    length = max(snap.cost_u[i] + snap.cost_v[i] - 2 * snap.distance[i], 1e-9)
    t0 = snap.along[i] / length
    qx, qy = x[a] + t0 * (x[b] - x[a]), y[a] + t0 * (y[b] - y[a])
    rest = max(radius - snap.distance[i], 0.0)
    t_lo = max(t0 - rest / length, 0.0)
    t_hi = min(t0 + rest / length, 1.0)
    own = [(x[a] + t_lo * (x[b] - x[a]), y[a] + t_lo * (y[b] - y[a])),
           (x[a] + t_hi * (x[b] - x[a]), y[a] + t_hi * (y[b] - y[a]))]
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = [(own[0], own[1]),
                                                                       ((px, py), (qx, qy))]
    for s, e in ((eu, ev), (ev, eu)):
        ds = d[s]
        ok = np.flatnonzero(np.isfinite(ds) & (ds <= radius))
        frac = np.minimum((radius - ds[ok]) / np.maximum(el[ok], 1e-9), 1.0)
        sx, sy = x[s[ok]], y[s[ok]]
        ex = sx + frac * (x[e[ok]] - sx)
        ey = sy + frac * (y[e[ok]] - sy)
        segments.extend(zip(zip(sx, sy, strict=True), zip(ex, ey, strict=True), strict=True))
    return np.array(segments, dtype=float)


def _area_polygon(coords: np.ndarray, method: str, ratio: float, buffer_m: float) -> Any:
    """Return the concave hull of the pieces' ends (``"hull"``) or the buffered pieces."""
    import shapely

    if method == "edges":
        lines = shapely.linestrings(coords)
        return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
    pts = shapely.multipoints(coords.reshape(-1, 2))
    hull = shapely.concave_hull(pts, ratio=ratio)
    if hull.geom_type != "Polygon" and hull.geom_type != "MultiPolygon":
        hull = hull.buffer(max(buffer_m, 1.0))
    return hull
