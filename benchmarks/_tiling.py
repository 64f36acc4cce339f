"""Tile a walking network (and points on it) k times, for the scaling runs of network_search.py.

Copy ``t`` of the network is shifted by ``offsets[t]``: the copies sit side by side on a grid
(``cols = 2 ** ceil(log2(k) / 2)``: 2x1, 2x2, 4x2, 4x4), each cell the size of the network's
extent, so copies touch but do not overlap. Neighbouring copies (left-right and top-bottom) are
joined by ``bridges`` edges each: the network is cut into ``bridges`` equal strips across the
shared side, and in each strip the node closest to that side in one copy is joined to the node
closest to it in the other, with the straight-line distance between them as length. The tiled
network is one connected component when the original is.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from cwsgeo.analysis.network import MIN_EDGE_M, WalkNetwork

__all__ = ["grid_offsets", "tile_network", "tile_values", "tile_xy"]


def grid_offsets(net: WalkNetwork, k: int) -> np.ndarray:
    """``(k, 2)`` shifts of the copies (x, y in metres), row by row on a grid."""
    cols = 2 ** int(np.ceil(np.log2(max(k, 1)) / 2))
    width, height = np.ptp(net.x), np.ptp(net.y)
    t = np.arange(k)
    return np.column_stack([(t % cols) * width, (t // cols) * height]).astype(float)


def _side_nodes(coord: np.ndarray, across: np.ndarray, bridges: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Per strip of ``across``: the node with the highest and the lowest ``coord``."""
    edges = np.linspace(across.min(), across.max(), bridges + 1)
    strip = np.clip(np.searchsorted(edges, across, side="right") - 1, 0, bridges - 1)
    high, low = [], []
    for s in range(bridges):
        members = np.flatnonzero(strip == s)
        if len(members):
            high.append(members[np.argmax(coord[members])])
            low.append(members[np.argmin(coord[members])])
    return np.asarray(high, dtype=np.int64), np.asarray(low, dtype=np.int64)


def _bridges(net: WalkNetwork, offsets: np.ndarray, bridges: int) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Node pairs (tiled positions) joining each copy to its right and upper neighbour."""
    n = net.n_nodes
    east, west = _side_nodes(net.x, net.y, bridges)
    north, south = _side_nodes(net.y, net.x, bridges)
    cell = {tuple(o): t for t, o in enumerate(offsets.round(6).tolist())}
    width, height = np.ptp(net.x), np.ptp(net.y)
    a, b = [], []
    for t, (ox, oy) in enumerate(offsets.round(6).tolist()):
        for (dx, dy), here, there in (((width, 0.0), east, west), ((0.0, height), north, south)):
            other = cell.get((round(ox + dx, 6), round(oy + dy, 6)))
            if other is not None:
                a.append(t * n + here)
                b.append(other * n + there)
    if not a:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(a), np.concatenate(b)


def tile_network(net: WalkNetwork, k: int, *, bridges: int = 3) -> WalkNetwork:
    """Return ``k`` copies of ``net`` side by side, joined by bridging edges (``net`` if k=1).

    Node ids are positions (``0 … k * n_nodes - 1``); street names are dropped.
    """
    if k == 1:
        return net
    offsets = grid_offsets(net, k)
    x, y = tile_xy(np.column_stack([net.x, net.y]), offsets).T
    a, b = _bridges(net, offsets, bridges)
    length = np.maximum(np.hypot(x[a] - x[b], y[a] - y[b]), MIN_EDGE_M)
    n = net.n_nodes * k
    links = sparse.coo_array((np.concatenate([length, length]),
                              (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    adj = sparse.csr_array(sparse.block_diag([net.adjacency] * k, format="csr") + links)
    adj.sort_indices()
    return WalkNetwork(node_ids=np.arange(n, dtype=np.int64), x=x, y=y, adjacency=adj,
                       crs=net.crs, source=f"{net.source} tiled {k}x")


def tile_xy(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``(len(offsets) * m, 2)``: the points of every copy, copy by copy."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return (xy[None, :, :] + offsets[:, None, :]).reshape(-1, 2)


def tile_values(values: np.ndarray, k: int) -> np.ndarray:
    """Values of the points (or nodes) of every copy, copy by copy (rows repeated k times)."""
    values = np.asarray(values)
    return np.tile(values, (k,) + (1,) * (values.ndim - 1))
