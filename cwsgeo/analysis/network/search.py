"""Shortest-path searches on a :class:`~.model.WalkNetwork`.

Bounded searches (a radius) run on the compiled engine of :mod:`._bounded`: one search per
origin that touches only what it reaches, in parallel over origins, with sparse results
(:class:`Reach`) or the sums the caller needs (:func:`sums_in_range`), never an
``origins x nodes`` matrix unless asked for one (:func:`iter_node_distances`). Unbounded
searches and the searches from snapped points to every node use
:func:`scipy.sparse.csgraph.dijkstra` over many origins at once. See
:mod:`cwsgeo.analysis.network` for the list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from .model import WalkNetwork, concat_ranges
from .snap import Snap

__all__ = ["Reach", "iter_node_distances", "iter_reach", "nearest_distances", "nearest_k",
           "node_distances", "nodes_in_range", "point_node_distances", "point_node_rows",
           "sums_in_range", "to_points"]

#: Memory for one batch of reached nodes in :func:`iter_reach` (12 bytes a node).
REACH_BATCH_BYTES = 32 * 2**20

def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="origin", leave=False)


# ---------------------------------------------------------------------- compiled engine
@dataclass(frozen=True, eq=False)
class Reach:
    """The nodes within a radius of each origin, in sparse (CSR-like) form.

    Row ``i`` holds origin ``origins[i]``'s reached nodes
    ``nodes[indptr[i]:indptr[i + 1]]`` and their network distances (metres, ``<= radius``),
    in the order the search reached them (not sorted).

    Attributes
    ----------
    origins
        For each row, the origin's position in the origins searched from: a node position
        when every node is an origin, the point's position when the origins are a
        :class:`~.snap.Snap`.
    indptr
        ``(len(origins) + 1,)`` row offsets.
    nodes
        Node positions (``int32``).
    distances
        Metres (``float64``).
    radius
        The search radius.
    """

    origins: np.ndarray
    indptr: np.ndarray
    nodes: np.ndarray
    distances: np.ndarray
    radius: float

    def __len__(self) -> int:
        return len(self.origins)

    @property
    def sizes(self) -> np.ndarray:
        """Number of nodes reached from each origin."""
        return np.diff(self.indptr)

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the nodes reached from row ``i`` and their distances."""
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.nodes[a:b], self.distances[a:b]

    def to_dense(self, n_nodes: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Return rows ``start:stop`` as ``(rows, n_nodes)`` distances, ``inf`` if not reached."""
        stop = len(self) if stop is None else min(stop, len(self))
        start = min(start, stop)
        a, b = self.indptr[start], self.indptr[stop]
        out = np.full((stop - start, n_nodes), np.inf)
        out[np.repeat(np.arange(stop - start), self.sizes[start:stop]),
            self.nodes[a:b]] = self.distances[a:b]
        return out

    @classmethod
    def concat(cls, parts: Sequence[Reach], radius: float) -> Reach:
        """Join the rows of several reaches (in order)."""
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32),
                       np.zeros(0), float(radius))
        sizes = np.concatenate([p.sizes for p in parts])
        return cls(np.concatenate([p.origins for p in parts]),
                   np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                   np.concatenate([p.nodes for p in parts]),
                   np.concatenate([p.distances for p in parts]), float(radius))


def _graph(net: WalkNetwork) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the CSR arrays in the engine's dtypes (no copy when they already are)."""
    adj = net.adjacency
    return (np.ascontiguousarray(adj.indptr, dtype=np.int64),
            np.ascontiguousarray(adj.indices, dtype=np.int32),
            np.ascontiguousarray(adj.data, dtype=np.float64))


def _sources(net: WalkNetwork, origins: npt.ArrayLike | Snap | None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Origin labels and their sources ``(labels, src_ptr, src_node, src_cost)``.

    Nodes (default every node, in Morton order): one source at cost 0. Snapped points: the
    two ends of their edge at ``cost_u`` / ``cost_v`` (one, at the lower cost, when both
    ends are the same node); none for an invalid point.
    """
    if not isinstance(origins, Snap):
        nodes = (net.spatial_order if origins is None
                 else np.asarray(origins, dtype=np.int64).reshape(-1))
        if len(nodes) and (nodes.min() < 0 or nodes.max() >= net.n_nodes):
            raise IndexError(f"origin node positions must be in [0, {net.n_nodes})")
        labels = nodes.astype(np.int64) if origins is None else np.arange(len(nodes))
        return (labels, np.arange(len(nodes) + 1, dtype=np.int64), nodes.astype(np.int32),
                np.zeros(len(nodes)))
    s = origins
    one = s.u == s.v
    counts = np.where(s.valid, np.where(one, 1, 2), 0)
    first_cost = np.where(one, np.minimum(s.cost_u, s.cost_v), s.cost_u)
    node = np.column_stack([s.u, s.v]).ravel()
    cost = np.column_stack([first_cost, s.cost_v]).ravel()
    keep = (np.arange(2)[None, :] < counts[:, None]).ravel()
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return (np.arange(len(s), dtype=np.int64), ptr, node[keep].astype(np.int32),
            cost[keep].astype(np.float64))


def _take_origins(src_ptr: np.ndarray, src_node: np.ndarray, src_cost: np.ndarray,
                  rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the sources of some origins, as a new ``(src_ptr, src_node, src_cost)``."""
    counts = src_ptr[rows + 1] - src_ptr[rows]
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    idx = concat_ranges(src_ptr[rows], counts)
    return ptr, src_node[idx], src_cost[idx]


def _check_radius(radius: float) -> float:
    r = float(radius)
    if not r >= 0:
        raise ValueError(f"radius must be >= 0, got {radius!r}")
    return r


def iter_reach(net: WalkNetwork, origins: npt.ArrayLike | Snap | None = None, *,
               radius: float, max_bytes: int | None = None,
               progress: bool = False) -> Iterator[Reach]:
    """Yield the nodes within ``radius`` of each origin, in memory-bounded batches.

    Each origin is searched on its own by the compiled bounded search (:mod:`._bounded`),
    whose work is proportional to the nodes it reaches; origins run in parallel.

    Parameters
    ----------
    net
        The walking network.
    origins
        Node positions; a :class:`~.snap.Snap` (each point starts at its edge's two ends
        with its walking costs; invalid points reach nothing); or ``None``: every node, in
        :attr:`WalkNetwork.spatial_order` (Morton order), so each batch covers a compact
        area.
    radius
        Search radius in metres (``inf`` searches the whole component).
    max_bytes
        Memory for one batch's results (default :data:`REACH_BATCH_BYTES`, 12 bytes per
        reached node); origins that do not fit go to the next batch.
    progress
        Show a ``tqdm`` progress bar.

    Yields
    ------
    Reach
        One batch of origins (every origin exactly once over all batches, in about the
        given order).
    """
    from . import _bounded

    radius = _check_radius(radius)
    labels, src_ptr, src_node, src_cost = _sources(net, origins)
    indptr, indices, weights = _graph(net)
    n_buckets, inv_w = _bounded.buckets(radius)
    cap = max(int(max_bytes or REACH_BATCH_BYTES) // 12, net.n_nodes)
    todo = np.arange(len(labels))
    window = _bounded.BLOCK * 2 * _bounded.threads()
    with _progress(len(labels), "walking search", progress) as bar:
        while len(todo):
            rows = todo[:window]
            ptr, node, cost = _take_origins(src_ptr, src_node, src_cost, rows)
            n_threads = max(1, min(_bounded.threads(), -(-len(rows) // _bounded.BLOCK)))
            out_nodes = np.empty(cap, np.int32)
            out_dist = np.empty(cap)
            start = np.zeros(len(rows), np.int64)
            count = np.zeros(len(rows), np.int64)
            _bounded.reach_batch(indptr, indices, weights, ptr, node, cost, radius, inv_w,
                                 n_buckets, _bounded.POOL_ENTRIES, n_threads, out_nodes,
                                 out_dist, start, count)
            done = count >= 0
            if not done.any():
                if cap >= net.n_nodes * n_threads:
                    raise RuntimeError("bounded search could not place one origin")
                cap = net.n_nodes * n_threads  # a share always holds one origin now
                continue
            sizes = count[done]
            row_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
            idx = concat_ranges(start[done], sizes)
            bar.update(int(done.sum()))
            yield Reach(labels[rows[done]], row_ptr, out_nodes[idx], out_dist[idx], radius)
            mean = max(float(sizes.mean()), 1.0)
            todo = np.concatenate([rows[~done], todo[len(rows):]])
            window = max(_bounded.BLOCK, int(cap / mean * 0.8))


def nodes_in_range(net: WalkNetwork, origins: npt.ArrayLike | Snap | None = None, *,
                   radius: float, progress: bool = False) -> Reach:
    """Find the nodes within ``radius`` of each origin (an isochrone's nodes), as one Reach.

    Parameters
    ----------
    net
        The walking network.
    origins
        As for :func:`iter_reach`.
    radius
        Search radius in metres.
    progress
        Show a ``tqdm`` progress bar.

    Returns
    -------
    Reach
        Rows in the order of ``origins`` (of node positions when ``origins`` is ``None``).
        Distances equal those of :func:`scipy.sparse.csgraph.dijkstra` with ``limit=radius``
        exactly.
    """
    parts = list(iter_reach(net, origins, radius=radius, progress=progress))
    joined = Reach.concat(parts, radius)
    order = np.argsort(joined.origins, kind="stable")
    if (order == np.arange(len(order))).all():
        return joined
    sizes = joined.sizes[order]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = concat_ranges(joined.indptr[order], sizes)
    return Reach(joined.origins[order], ptr, joined.nodes[idx], joined.distances[idx],
                 joined.radius)


def _items(net: WalkNetwork, weights: npt.ArrayLike | None, points: Snap | None,
           point_weights: npt.ArrayLike | None,
           ) -> tuple[int, np.ndarray, tuple[np.ndarray, ...]]:
    """Weights to sum in the engine's layout (see :mod:`._bounded`).

    Node weights stay a dense ``(n_nodes, k)`` array; point weights are grouped by edge (one
    record per edge holding points, listed at both its ends; points whose weights are all
    zero are left out). Returns the number of columns, ``node_w`` and the edge arrays
    ``(inc_ptr, inc_split, inc_other, inc_rec, own_max, own_w, rec)``.
    """
    n = net.n_nodes
    w_node = np.zeros((n, 0)) if weights is None else np.asarray(weights, dtype=float)
    w_node = np.ascontiguousarray(w_node.reshape(n, -1))
    if points is None:
        w_pt = np.zeros((0, 0))
        pu = pv = np.zeros(0, np.int64)
        cu = cv = np.zeros(0)
    else:
        if point_weights is None:
            raise ValueError("point_weights are needed with points")
        w_pt = np.asarray(point_weights, dtype=float).reshape(len(points), -1)
        pts = np.flatnonzero(points.valid & (w_pt != 0).any(axis=1))
        w_pt = w_pt[pts]
        pu, pv, cu, cv = points.u[pts], points.v[pts], points.cost_u[pts], points.cost_v[pts]
    if not (np.isfinite(w_node).all() and np.isfinite(w_pt).all()):
        raise ValueError("weights must be finite")
    return w_node.shape[1] + w_pt.shape[1], w_node, _edge_records(n, w_node.shape[1], w_pt,
                                                                  pu, pv, cu, cv)


def _edge_records(n: int, k_node: int, w_pt: np.ndarray, pu: np.ndarray, pv: np.ndarray,
                  cu: np.ndarray, cv: np.ndarray,
                  ) -> tuple[np.ndarray, ...]:
    """Points grouped by edge, in the engine's layout (see :mod:`._bounded`)."""
    one = pu == pv
    low = np.minimum(cu, cv)
    a, b = np.minimum(pu, pv), np.maximum(pu, pv)
    ca = np.where(one, low, np.where(pu <= pv, cu, cv))
    cb = np.where(one, low, np.where(pu <= pv, cv, cu))
    order = np.lexsort((ca, b, a))
    a, b, ca, cb, w_pt = a[order], b[order], ca[order], cb[order], w_pt[order]
    new = np.ones(len(a), bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    first = np.flatnonzero(new)
    edge = np.cumsum(new) - 1
    n_edges = len(first)
    tot = (np.add.reduceat(w_pt, first, axis=0) if n_edges
           else np.zeros((0, w_pt.shape[1])))
    t_rows, t_cols = np.nonzero(tot)
    n_tot = np.bincount(t_rows, minlength=n_edges)
    i_rows, i_cols = np.nonzero(w_pt)
    nnz = np.bincount(i_rows, minlength=len(a))
    n_items = np.bincount(edge, minlength=n_edges)
    i_size = 3 + 2 * nnz
    e_size = 4 + 2 * n_tot + np.bincount(edge, weights=i_size, minlength=n_edges).astype(np.int64)
    e_off = np.concatenate([[0], np.cumsum(e_size)]).astype(np.int64)
    rec = np.empty(int(e_off[-1]))
    if n_edges:
        rec[e_off[:-1]] = np.maximum.reduceat(ca, first)
        rec[e_off[:-1] + 1] = np.maximum.reduceat(cb, first)
    rec[e_off[:-1] + 2] = n_tot
    rec[e_off[:-1] + 3] = n_items
    _put_pairs(rec, e_off[:-1] + 4, t_rows, t_cols + k_node, tot[t_rows, t_cols], n_tot)
    cs = np.cumsum(i_size) - i_size
    i_off = e_off[edge] + 4 + 2 * n_tot[edge] + cs - cs[first][edge]
    rec[i_off], rec[i_off + 1], rec[i_off + 2] = ca, cb, nnz
    _put_pairs(rec, i_off + 3, i_rows, i_cols + k_node, w_pt[i_rows, i_cols], nnz)
    # incidences: each edge at a (its owner), then at b when b != a (flag 1: the node is b)
    two = a[first] != b[first]
    eid = np.arange(n_edges)
    node = np.concatenate([a[first], b[first][two]])
    inc = np.argsort(node, kind="stable")
    other = np.concatenate([b[first], a[first][two]])[inc].astype(np.int32)
    code = np.concatenate([e_off[:-1][eid] << 1, (e_off[:-1][two] << 1) | 1])[inc]
    inc_ptr = np.concatenate([[0], np.cumsum(np.bincount(node, minlength=n))]).astype(np.int64)
    split = inc_ptr[:-1] + np.bincount(a[first], minlength=n)
    own_max = np.full(n, -np.inf)
    np.maximum.at(own_max, a[first], rec[e_off[:-1]])
    own_w = np.zeros((n, tot.shape[1]))
    np.add.at(own_w, a[first], tot)
    return inc_ptr, split, other, code.astype(np.int64), own_max, own_w, rec


def _put_pairs(rec: np.ndarray, at: np.ndarray, rows: np.ndarray, cols: np.ndarray,
               vals: np.ndarray, count: np.ndarray) -> None:
    """Write row ``i``'s ``(col, val)`` pairs (``rows`` sorted) from ``rec[at[i]]`` on."""
    z = np.arange(len(rows)) - (np.cumsum(count) - count)[rows]
    rec[at[rows] + 2 * z] = cols
    rec[at[rows] + 2 * z + 1] = vals


def sums_in_range(net: WalkNetwork, weights: npt.ArrayLike | None,
                  radius: float | Sequence[float] | np.ndarray, *,
                  origins: npt.ArrayLike | Snap | None = None, points: Snap | None = None,
                  point_weights: npt.ArrayLike | None = None,
                  progress: bool = False) -> np.ndarray:
    """Sum weights on nodes (and on snapped points) within network radii of each origin.

    One bounded search per origin (:mod:`._bounded`, in parallel), summing as it goes:
    nothing of size ``origins x nodes`` is made. A node weight counts when the node's
    distance is ``<= radius``; a point weight when ``min(d(u) + cost_u, d(v) + cost_v)``
    is (both ends of the point's segment, exactly as :func:`to_points`).

    Parameters
    ----------
    net
        The walking network.
    weights
        ``(n_nodes,)`` or ``(n_nodes, k)`` weights on nodes (e.g. residents), or ``None``.
    radius
        Radius in metres, or several (one output layer per radius, ascending order not
        required).
    origins
        As for :func:`iter_reach`; ``None``: every node (rows by node position).
    points, point_weights
        Snapped points and their ``(n_points,)`` or ``(n_points, k2)`` weights (e.g. one-hot
        place categories); invalid points are ignored.
    progress
        Show a ``tqdm`` progress bar.

    Returns
    -------
    numpy.ndarray
        ``(n_origins, k + k2)`` for one radius, ``(n_origins, n_radii, k + k2)`` for a
        sequence: node-weight columns first, then point-weight columns.

    Notes
    -----
    Summation order is fixed: per origin and radius, weights in the order the search (to the
    largest radius) reaches their nodes (the points of an edge all within a radius come as
    the edge's precomputed totals). Results do not depend on threads or batches; they
    may differ from another summation order (a matrix product, or a search to another
    largest radius) in the last bits (about ``3e-15`` relative).
    """
    from . import _bounded

    scalar = np.ndim(radius) == 0
    radii = np.atleast_1d(np.asarray(radius, dtype=float))
    for r in radii:
        _check_radius(r)
    rank = np.argsort(radii, kind="stable")
    labels, src_ptr, src_node, src_cost = _sources(net, origins)
    n_cols, node_w, edges = _items(net, weights, points, point_weights)
    inc_ptr, inc_split, inc_other, inc_rec, own_max, own_w, rec = edges
    out = np.zeros((len(labels), len(radii), n_cols))
    indptr, indices, w = _graph(net)
    n_buckets, inv_w = _bounded.buckets(float(radii.max(initial=0.0)))
    step = 1 << 16
    with _progress(len(labels), "walking sums", progress) as bar:
        for lo in range(0, len(labels), step):
            rows = np.arange(lo, min(lo + step, len(labels)))
            ptr, node, cost = _take_origins(src_ptr, src_node, src_cost, rows)
            n_threads = max(1, min(_bounded.threads(), -(-len(rows) // _bounded.BLOCK)))
            block = np.zeros((len(rows), len(radii), n_cols))
            if n_cols and len(radii):
                _bounded.sums_batch(indptr, indices, w, ptr, node, cost, radii[rank], inv_w,
                                    n_buckets, _bounded.POOL_ENTRIES, n_threads, node_w,
                                    inc_ptr, inc_split, inc_other, inc_rec, own_max, own_w,
                                    rec, block)
            out[labels[rows] if origins is None else rows] = block[:, np.argsort(rank)]
            bar.update(len(rows))
    return out[:, 0] if scalar else out


def nearest_k(net: WalkNetwork, points: Snap, k: int = 1, *,
              limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Every node's network distances to its ``k`` nearest points, in one search.

    Each valid point is a source at its edge's two ends (costs ``cost_u``, ``cost_v``); a
    multi-label Dijkstra keeps, per node, the first ``k`` distinct points to arrive (the
    graph is symmetric, so "from" equals "to"). pandana's ``nearest_pois`` with
    ``num_pois=k``, exact and without snapping points to nodes.

    Parameters
    ----------
    net
        The walking network.
    points
        Snapped points; invalid ones are ignored.
    k
        Number of nearest points per node.
    limit
        Search radius in metres.

    Returns
    -------
    distances : numpy.ndarray
        ``(n_nodes, k)`` metres, increasing along each row (``inf`` beyond the ``limit``
        or when fewer points are reachable).
    nearest : numpy.ndarray
        ``(n_nodes, k)`` positions in ``points`` (``-1`` where the distance is ``inf``); on
        equal distances the point listed first comes first.
    """
    from . import _bounded

    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive whole number, got {k!r}")
    limit = _check_radius(limit)
    labels, src_ptr, src_node, src_cost = _sources(net, points)
    src_id = np.repeat(labels, np.diff(src_ptr))
    indptr, indices, w = _graph(net)
    dist, which = _bounded.nearest_k(indptr, indices, w, src_node, src_cost, src_id, int(k),
                                     limit)
    return dist, which


def iter_node_distances(net: WalkNetwork, origins: npt.ArrayLike | None = None, *,
                        limit: float = np.inf, chunk_size: int = 256,
                        progress: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield network distances from batches of origin nodes to every node.

    With a finite ``limit`` each batch comes from the bounded engine (:func:`nodes_in_range`,
    exactly scipy's distances); without one, from :func:`scipy.sparse.csgraph.dijkstra`.

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
    # bounded: one engine pass (sparse, smaller than the rows it gives), made dense by chunk
    reach = nodes_in_range(net, order, radius=limit) if np.isfinite(limit) else None
    with _progress(len(order), "walking search", progress) as bar:
        for start in range(0, len(order), chunk_size):
            batch = order[start:start + chunk_size]
            if reach is not None:
                dist = reach.to_dense(net.n_nodes, start, start + chunk_size)
            else:
                dist = csgraph.dijkstra(net.adjacency, directed=True, indices=batch)
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


def point_node_rows(net: WalkNetwork, snap: Snap, limit: float, columns: np.ndarray
                    ) -> np.ndarray:
    """Node distances from snapped points to the ``columns`` nodes.

    :func:`point_node_distances`'s values at those nodes; with a
    finite ``limit``, the node distances from the points' edge ends come from the bounded
    engine (:func:`nodes_in_range`, equal to ``dijkstra``'s with
    that limit) instead of a search of the whole graph per end, and the point's costs are
    added in the same order (``min(d_u + cost_u, d_v + cost_v)``).

    Parameters
    ----------
    net
        The walking network.
    snap
        Snapped points (:func:`snap_points`).
    limit
        Largest distance searched (metres; ``inf``: the whole graph); farther is ``inf``.
    columns
        The nodes wanted, in the output's column order.

    Returns
    -------
    numpy.ndarray
        ``(len(snap), len(columns))`` distances in metres.
    """
    if not np.isfinite(limit):
        return point_node_distances(net, snap, limit=limit,
                                    chunk_size=max(len(snap), 1))[:, columns]
    out = np.full((len(snap), len(columns)), np.inf)
    rows = np.flatnonzero(snap.valid & (np.minimum(snap.cost_u, snap.cost_v) <= limit))
    ends, inverse = np.unique(np.concatenate([snap.u[rows], snap.v[rows]]),
                              return_inverse=True)
    reach = nodes_in_range(net, ends, radius=limit)
    where = np.full(net.n_nodes, -1, dtype=np.int64)
    where[columns] = np.arange(len(columns))
    col = where[reach.nodes]
    kept = col >= 0
    dist = np.full((len(ends), len(columns)), np.inf)
    dist[np.repeat(np.arange(len(ends)), reach.sizes)[kept], col[kept]] = \
        reach.distances[kept]
    du, dv = dist[inverse[:len(rows)]], dist[inverse[len(rows):]]
    block = np.minimum(du + snap.cost_u[rows, None], dv + snap.cost_v[rows, None])
    block[block > limit] = np.inf
    out[rows] = block
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
    out = _nearer_end(node_dist, targets.u[t], targets.v[t], targets.cost_u[t],
                      targets.cost_v[t])
    if origins is not None and len(t) and len(origins):
        _same_edge_shortcut(out, origins, targets, t)
    return out


def _nearer_end(rows: np.ndarray, u: np.ndarray, v: np.ndarray, cost_u: np.ndarray,
                cost_v: np.ndarray) -> np.ndarray:
    """``minimum(rows[:, u] + cost_u, rows[:, v] + cost_v)`` in one compiled pass."""
    from ._gather import gather_min

    out = np.empty((rows.shape[0], len(u)), np.result_type(rows, cost_u, cost_v))
    gather_min(rows, u, v, cost_u, cost_v, out)
    return out


def _same_edge_shortcut(out: np.ndarray, origins: Snap, targets: Snap, t: np.ndarray) -> None:
    """Give each (origin, target) pair on one edge the direct walk along it, if shorter."""
    o_edge = np.where(origins.valid, origins.edge, -1)
    t_edge = np.where(targets.valid[t], targets.edge[t], -1)
    order = np.argsort(t_edge, kind="stable")
    by_edge = t_edge[order]
    rows = np.flatnonzero(o_edge >= 0)
    first = np.searchsorted(by_edge, o_edge[rows], side="left")
    count = np.searchsorted(by_edge, o_edge[rows], side="right") - first
    if not count.any():
        return
    r = np.repeat(rows, count)  # every (row, target) pair sharing an edge, once
    c = order[concat_ranges(first, count)]
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

    :func:`nearest_k` with ``k=1``: each point is a source at its edge's two ends, joined by
    ``cost_u`` and ``cost_v``; one search from all of them gives each node's distance to the
    nearest point (the graph is symmetric, so "from" equals "to").

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
        (``-1`` when none is within ``limit``; the first listed on a tie).

    Returns
    -------
    distances : numpy.ndarray
        ``(n_nodes,)`` metres (``inf`` when none within ``limit``).
    nearest : numpy.ndarray
        Only with ``return_nearest``.
    """
    dist, nearest = nearest_k(net, points, 1, limit=limit)
    return (dist[:, 0], nearest[:, 0]) if return_nearest else dist[:, 0]
