"""Batched shortest paths on the CSR matrix of a :class:`~.model.WalkNetwork`.

Every search is :func:`scipy.sparse.csgraph.dijkstra` over many origins at once, never one
networkx call per origin; see :mod:`cwsgeo.analysis.network` for the list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from .model import WalkNetwork
from .snap import Snap

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["iter_node_distances", "nearest_distances", "node_distances",
           "point_node_distances", "to_points"]


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="origin", leave=False)


def iter_node_distances(net: WalkNetwork, origins: npt.ArrayLike | None = None, *,
                        limit: float = np.inf, chunk_size: int = 256,
                        progress: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield network distances from batches of origin nodes to every node.

    Parameters
    ----------
    net
        The walking network.
    origins
        Origin node positions. ``None``: every node, in :attr:`WalkNetwork.spatial_order` so
        each batch covers a compact area.
    limit
        Search radius in metres; farther nodes get ``inf``.
    chunk_size
        Origins per batch; memory is ``chunk_size * n_nodes * 8`` bytes per batch.
    progress
        Show a ``tqdm`` progress bar.

    Yields
    ------
    origins : numpy.ndarray
        The batch's origin positions.
    distances : numpy.ndarray
        ``(len(origins), n_nodes)`` metres.
    """
    from scipy.sparse import csgraph

    order = net.spatial_order if origins is None else np.asarray(origins, dtype=np.int64)
    chunk_size = max(1, int(chunk_size))
    with _progress(len(order), "walking search", progress) as bar:
        for start in range(0, len(order), chunk_size):
            batch = order[start:start + chunk_size]
            dist = csgraph.dijkstra(net.adjacency, directed=True, indices=batch, limit=limit)
            bar.update(len(batch))
            yield batch, dist


def node_distances(net: WalkNetwork, origins: npt.ArrayLike, *,
                   limit: float = np.inf) -> np.ndarray:
    """Network distances (metres) from origin node positions to every node.

    Returns
    -------
    numpy.ndarray
        ``(len(origins), n_nodes)``; ``inf`` beyond ``limit`` or unreachable.
    """
    positions = np.asarray(origins, dtype=np.int64)
    if len(positions) == 0:
        return np.zeros((0, net.n_nodes))
    return np.vstack([d for _, d in iter_node_distances(net, positions, limit=limit)])


def point_node_distances(net: WalkNetwork, snap: Snap, *, limit: float = np.inf,
                         chunk_size: int = 128) -> np.ndarray:
    """Network distances (metres) from snapped points to every node.

    The distance to node ``n`` is ``min(cost_u + d(u, n), cost_v + d(v, n))``: the point's
    walk to either end of its edge plus the shortest path from there.

    Parameters
    ----------
    net
        The walking network.
    snap
        Snapped points (:func:`snap_points`); invalid points get rows of ``inf``.
    limit
        Search radius in metres (the point's own costs included); farther nodes get ``inf``.
    chunk_size
        Points per dijkstra batch.

    Returns
    -------
    numpy.ndarray
        ``(len(snap), n_nodes)``.
    """
    from scipy.sparse import csgraph

    out = np.full((len(snap), net.n_nodes), np.inf)
    rows = np.flatnonzero(snap.valid & (np.minimum(snap.cost_u, snap.cost_v) <= limit))
    for start in range(0, len(rows), chunk_size):
        r = rows[start:start + chunk_size]
        ends, inverse = np.unique(np.concatenate([snap.u[r], snap.v[r]]), return_inverse=True)
        dist = csgraph.dijkstra(net.adjacency, directed=True, indices=ends, limit=limit)
        du, dv = dist[inverse[:len(r)]], dist[inverse[len(r):]]
        block = np.minimum(du + snap.cost_u[r, None], dv + snap.cost_v[r, None])
        block[block > limit] = np.inf
        out[r] = block
    return out


def to_points(node_dist: np.ndarray, targets: Snap, *, origins: Snap | None = None,
              target_index: np.ndarray | None = None) -> np.ndarray:
    """Distances from origins, given as rows of node distances, to snapped target points.

    ``d(origin, target) = min(node_dist[u] + cost_u, node_dist[v] + cost_v)`` over the
    target's edge ends. When ``origins`` (the snapped points the rows were computed from) is
    given, a target on the same edge as its origin also gets the direct walk along that edge
    (``|along_o - along_t| + both snap distances``) if it is shorter.

    Parameters
    ----------
    node_dist
        ``(n_origins, n_nodes)`` distances, e.g. from :func:`point_node_distances`.
    targets
        Snapped target points.
    origins
        Snapped origin points, one per row of ``node_dist`` (optional).
    target_index
        Only compute these target positions (default all).

    Returns
    -------
    numpy.ndarray
        ``(n_origins, n_targets)`` metres (``inf`` when unreachable within the rows' limit).
    """
    t = np.arange(len(targets)) if target_index is None else np.asarray(target_index)
    out = np.minimum(node_dist[:, targets.u[t]] + targets.cost_u[t],
                     node_dist[:, targets.v[t]] + targets.cost_v[t])
    if origins is not None and len(t) and len(origins):
        _same_edge_shortcut(out, origins, targets, t)
    return out


def _same_edge_shortcut(out: np.ndarray, origins: Snap, targets: Snap, t: np.ndarray) -> None:
    o_edge = np.where(origins.valid, origins.edge, -1)
    t_edge = np.where(targets.valid[t], targets.edge[t], -1)
    common = np.intersect1d(o_edge[o_edge >= 0], t_edge[t_edge >= 0])
    if len(common) == 0:
        return
    left = pd.DataFrame({"edge": o_edge, "row": np.arange(len(o_edge))})
    right = pd.DataFrame({"edge": t_edge, "col": np.arange(len(t_edge))})
    pairs = left[left.edge.isin(common)].merge(right[right.edge.isin(common)], on="edge")
    r, c = pairs["row"].to_numpy(), pairs["col"].to_numpy()
    direct = (np.abs(origins.along[r] - targets.along[t[c]]) + origins.distance[r]
              + targets.distance[t[c]])
    out[r, c] = np.minimum(out[r, c], direct)


@overload
def nearest_distances(net: WalkNetwork, points: Snap, *, limit: float = ...,
                      return_nearest: Literal[False] = ...) -> np.ndarray: ...


@overload
def nearest_distances(net: WalkNetwork, points: Snap, *, limit: float = ...,
                      return_nearest: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...


def nearest_distances(net: WalkNetwork, points: Snap, *, limit: float = np.inf,
                      return_nearest: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Every node's network distance to the nearest of many snapped points, in one search.

    Each point becomes a virtual source node joined to its edge's two ends by ``cost_u`` and
    ``cost_v``; one ``dijkstra(min_only=True)`` from all of them gives each node's distance to
    the nearest point (the graph is symmetric, so "from" equals "to").

    Parameters
    ----------
    net
        The walking network.
    points
        Snapped points (e.g. all metro stations); invalid points are ignored.
    limit
        Search radius in metres.
    return_nearest
        Also return, for each node, the position (in ``points``) of its nearest point
        (``-1`` when none is within ``limit``).

    Returns
    -------
    distances : numpy.ndarray
        ``(n_nodes,)`` metres (``inf`` when none within ``limit``).
    nearest : numpy.ndarray
        Only with ``return_nearest``.
    """
    from scipy.sparse import csgraph

    n = net.n_nodes
    keep = np.flatnonzero(points.valid)
    if len(keep) == 0:
        dist = np.full(n, np.inf)
        return (dist, np.full(n, -1, dtype=np.int64)) if return_nearest else dist
    k = len(keep)
    aug = _with_virtual_sources(net.adjacency, points, keep)
    if not return_nearest:
        dist = csgraph.dijkstra(aug, directed=True, indices=np.arange(n, n + k), limit=limit,
                                min_only=True)
        return _real_distances(dist, n)
    dist, _, src = csgraph.dijkstra(aug, directed=True, indices=np.arange(n, n + k),
                                    limit=limit, min_only=True, return_predecessors=True)
    src = np.asarray(src[:n], dtype=np.int64)
    nearest = np.where(src >= n, keep[np.clip(src - n, 0, k - 1)], -1)
    return _real_distances(dist, n), nearest


def _real_distances(dist: np.ndarray, n: int) -> np.ndarray:
    """Keep the real nodes. distances, putting the stand-in for a zero cost back to 0."""
    out = np.asarray(dist)[:n].copy()
    out[out <= np.finfo(float).tiny] = 0.0
    return out


def _with_virtual_sources(adj: sparse.csr_array, points: Snap,
                          keep: np.ndarray) -> sparse.csr_array:
    """Add one row per kept point to the adjacency, joined to its edge's ends by its costs.

    Virtual rows ``n … n+k-1`` (no columns of their own: nothing leads back into them); a
    point snapped to a node (``u == v``) gets one edge at the cheaper cost.
    """
    from scipy import sparse

    n, k = adj.shape[0], len(keep)
    cu, cv = points.cost_u[keep], points.cost_v[keep]
    pu, pv = points.u[keep], points.v[keep]
    same = pu == pv
    vrow_cols = np.where(same[:, None], np.column_stack([pu, pu]), np.column_stack([pu, pv]))
    vrow_vals = np.where(same[:, None], np.column_stack([np.minimum(cu, cv)] * 2),
                         np.column_stack([cu, cv]))
    counts = np.where(same, 1, 2)
    take = np.column_stack([np.ones(k, bool), ~same]).ravel()
    cols = vrow_cols.ravel()[take]
    vals = np.maximum(vrow_vals.ravel()[take], 0.0)
    # a zero cost would vanish from the sparse matrix: use the smallest positive float
    vals = np.where(vals > 0, vals, np.finfo(float).tiny)
    indptr = np.concatenate([adj.indptr.astype(np.int64),
                             adj.nnz + np.cumsum(counts, dtype=np.int64)])
    return sparse.csr_array((np.concatenate([adj.data, vals]),
                             np.concatenate([adj.indices.astype(np.int64), cols]), indptr),
                            shape=(n + k, n + k))
