"""Snapping points to the nearest street segment of a :class:`~.model.WalkNetwork`.

See :mod:`cwsgeo.analysis.network` for why points go to the nearest edge, not node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ... import settings
from ..._errors import CwsgeoError
from .model import WalkNetwork

__all__ = ["Snap", "snap_points"]


@dataclass(frozen=True, eq=False)
class Snap:
    """Points snapped to a :class:`WalkNetwork`.

    Walking from a point to node ``u`` costs ``cost_u`` metres (snap distance plus the offset
    along the edge), to node ``v`` ``cost_v``. Points with no geometry have ``valid = False``
    and infinite costs.

    Attributes
    ----------
    u, v
        Node positions at the two ends of the snapped edge (equal for ``how="node"``).
    cost_u, cost_v
        Metres from the point to ``u`` / ``v`` over the network.
    edge
        Undirected edge index (``-1`` for ``how="node"`` or invalid points).
    along
        Metres along the edge from ``u`` to the projected point.
    distance
        Snap distance in metres (point to edge, or to node).
    on_network
        ``distance <= snap_max_m``: network values apply; others get straight-line fallbacks.
    x, y
        Point coordinates in the network's CRS (NaN when invalid).
    valid
        The point has a usable geometry.
    """

    u: np.ndarray
    v: np.ndarray
    cost_u: np.ndarray
    cost_v: np.ndarray
    edge: np.ndarray
    along: np.ndarray
    distance: np.ndarray
    on_network: np.ndarray
    x: np.ndarray
    y: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.u)

    @property
    def method(self) -> np.ndarray:
        """``"network"``, ``"straight_line"`` or ``None`` (no geometry) for each point."""
        out = np.where(self.on_network, "network", "straight_line").astype(object)
        out[~self.valid] = None
        return out

    def subset(self, which: npt.ArrayLike | slice) -> Snap:
        """Return the points selected by a boolean mask, index array or slice."""
        sel = which if isinstance(which, slice) else np.asarray(which)
        return Snap(**{f: getattr(self, f)[sel] for f in self.__dataclass_fields__})

    def to_frame(self, net: WalkNetwork, index: pd.Index | None = None) -> pd.DataFrame:
        """Table of ``snap_m``, ``method``, ``node_u``, ``node_v`` (source node ids)."""
        return pd.DataFrame({
            "snap_m": np.where(self.valid, self.distance, np.nan),
            "method": pd.array(self.method, dtype="string"),
            "node_u": np.where(self.valid, net.node_ids[self.u], None),
            "node_v": np.where(self.valid, net.node_ids[self.v], None),
        }, index=index)


def _point_xy(points: Any, crs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates of points (GeoSeries/GeoDataFrame in any CRS, or an (n, 2) array in ``crs``)."""
    import geopandas as gpd
    import shapely

    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is None:
            raise ValueError("points have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
        geoms = np.array(points.to_crs(crs).to_numpy(), dtype=object)  # a copy of our own
        valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        geoms[~valid] = None
        not_point = valid & (shapely.get_type_id(geoms) != 0)
        if not_point.any():
            geoms[not_point] = shapely.point_on_surface(geoms[not_point])
        x = np.full(len(geoms), np.nan)
        y = np.full(len(geoms), np.nan)
        x[valid] = shapely.get_x(geoms[valid])
        y[valid] = shapely.get_y(geoms[valid])
        return x, y, valid & np.isfinite(x) & np.isfinite(y)
    arr = np.asarray(points, dtype=float).reshape(-1, 2)
    x, y = arr[:, 0].copy(), arr[:, 1].copy()
    return x, y, np.isfinite(x) & np.isfinite(y)


def snap_points(net: WalkNetwork, points: Any, *, snap_max_m: float | None = None,
                how: Literal["edge", "node"] = "edge") -> Snap:
    """Snap points to the walking network.

    Parameters
    ----------
    net
        The walking network.
    points
        GeoSeries or GeoDataFrame (any CRS; non-point geometries use a point on their surface),
        or an ``(n, 2)`` array of coordinates in the network's CRS. Missing or empty geometries
        are kept as invalid rows.
    snap_max_m
        Points farther than this from the network are flagged ``on_network=False``
        (default :data:`cwsgeo.settings.snap_max_m`).
    how
        ``"edge"`` (default): nearest edge, walking cost to each end = snap distance + offset
        along the edge (see the module docs for why). ``"node"``: nearest node.

    Returns
    -------
    Snap
    """
    if how not in ("edge", "node"):
        raise ValueError(f"how must be 'edge' or 'node', got {how!r}")
    snap_max = settings.snap_max_m if snap_max_m is None else float(snap_max_m)
    x, y, valid = _point_xy(points, net.crs)
    n = len(x)
    u = np.zeros(n, dtype=np.int64)
    v = np.zeros(n, dtype=np.int64)
    edge = np.full(n, -1, dtype=np.int64)
    along = np.zeros(n)
    dist = np.full(n, np.inf)
    cost_u = np.full(n, np.inf)
    cost_v = np.full(n, np.inf)
    idx = np.flatnonzero(valid)
    if len(idx) and how == "node":
        d, nearest = net.kdtree.query(np.column_stack([x[idx], y[idx]]))
        u[idx] = v[idx] = nearest
        dist[idx] = cost_u[idx] = cost_v[idx] = d
    elif len(idx) and net.n_edges == 0:
        raise CwsgeoError("cannot snap to a walking network without edges")
    elif len(idx):
        e = net.nearest_edges(x[idx], y[idx])
        eu, ev, length = net.edge_u[e], net.edge_v[e], net.edge_length[e]
        ax, ay = net.x[eu], net.y[eu]
        dx, dy = net.x[ev] - ax, net.y[ev] - ay
        seg2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(seg2 > 0, ((x[idx] - ax) * dx + (y[idx] - ay) * dy) / seg2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        d = np.hypot(x[idx] - (ax + t * dx), y[idx] - (ay + t * dy))
        u[idx], v[idx], edge[idx] = eu, ev, e
        along[idx] = t * length
        dist[idx] = d
        cost_u[idx] = d + t * length
        cost_v[idx] = d + (1.0 - t) * length
    on_network = valid & (dist <= snap_max)
    return Snap(u=u, v=v, cost_u=cost_u, cost_v=cost_v, edge=edge, along=along, distance=dist,
                on_network=on_network, x=x, y=y, valid=valid)
