"""Coverage: the share of residents within walking minutes of any space, and of each type."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..network import Snap, WalkNetwork, nearest_distances, snap_points
from ._common import as_gdf, snap_xy, speed_m_per_min, type_groups, whole_minutes
from .residents import Residents

__all__ = ["coverage"]


def coverage(spaces: gpd.GeoDataFrame, residents: Residents, net: WalkNetwork, *,
             minutes: Sequence[int] = (10, 15), type_col: str = "innovation_type",
             types: Sequence[int] = (1, 2, 3), walk_speed_kmh: float | None = None,
             snap_max_m: float | None = None) -> pd.DataFrame:
    """Share of the city's residents within walking minutes of any space, and of each type.

    One multi-source search per group (all spaces, then each innovation type) gives every node's
    distance to the nearest space; residents at nodes within the threshold are summed.
    Spaces off the network and off-network residents use straight lines.

    Parameters
    ----------
    spaces
        Spaces with an optional ``type_col`` (innovation type 1/2/3, nullable).
    residents
        From :func:`allocate_residents` on ``net``.
    net
        The walking network.
    minutes
        Thresholds.
    type_col, types
        Innovation-type column and the types reported (groups without spaces give 0).
    walk_speed_kmh, snap_max_m
        As for :func:`space_metrics`.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``group`` ("all", "type 1" …), ``innovation_type``, ``minutes``, ``n_spaces``,
        ``n_network``, ``n_straight_line``, ``residents``, ``residents_total``, ``share``.
    """
    spaces = as_gdf(spaces, "spaces")
    residents.check(net)
    speed = speed_m_per_min(walk_speed_kmh)
    mins = whole_minutes(minutes, (10, 15))
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    total = residents.total
    limit = max(mins) * speed
    rows = []
    for label, kind, mask in type_groups(spaces, type_col, types):
        sel = mask & snap.valid
        on = np.flatnonzero(sel & snap.on_network)
        off = np.flatnonzero(sel & ~snap.on_network)
        dist, d_res = _distances_to_group(net, snap, sel, on, off, residents, limit)
        for m in mins:
            r = m * speed
            reached = float(residents.node_residents[dist <= r].sum()
                            + residents.offnet_residents[d_res <= r].sum())
            rows.append({"group": label, "innovation_type": kind, "minutes": m,
                         "n_spaces": int(sel.sum()), "n_network": len(on),
                         "n_straight_line": len(off), "residents": reached,
                         "residents_total": total, "share": reached / total if total else np.nan})
    out = pd.DataFrame(rows)
    out["innovation_type"] = out["innovation_type"].astype("Int64")
    return out


def _distances_to_group(net: WalkNetwork, snap: Snap, sel: np.ndarray, on: np.ndarray,
                        off: np.ndarray, residents: Residents,
                        limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Each node's and each off-network resident point's distance to the nearest space.

    Nodes: over the network from spaces ``on`` it, in a straight line from spaces ``off``
    it; off-network residents: in a straight line from any selected space.
    """
    from scipy.spatial import cKDTree

    dist = nearest_distances(net, snap.subset(on), limit=limit)
    if len(off):
        d_off, _ = cKDTree(snap_xy(snap)[off]).query(np.column_stack([net.x, net.y]))
        dist = np.minimum(dist, d_off)
    if len(residents.offnet_residents) and sel.any():
        d_res, _ = cKDTree(snap_xy(snap)[np.flatnonzero(sel)]).query(residents.offnet_xy)
    else:
        d_res = np.full(len(residents.offnet_residents), np.inf)
    return dist, d_res
