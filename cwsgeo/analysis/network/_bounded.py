"""Compiled bounded shortest-path searches (numba): work proportional to what they reach.

Private engine behind :mod:`.search`. Each origin is a small set of *sources* (a node at cost
0, or a snapped point's two edge ends at their walking costs); its search settles only the
nodes within the radius and leaves the shared work arrays as it found them, so the cost of an
origin is the size of its reach, never the size of the graph.

Queue: a **bucket queue** of :data:`BUCKET_M`-wide distance buckets (one singly linked list
per bucket in an entry pool; each entry holds a node and the distance it was pushed with).
Buckets are emptied in order; an entry is expanded when its distance is still its node's
(a node is pushed only on a strict improvement, so each distinct distance is expanded once),
so a node whose distance improves inside the current bucket (edges shorter than a bucket) is
expanded again: the result is exactly Dijkstra's, ``dist[v] = min over u of dist[u] + w``
with the same floating-point sums. Relaxing an edge is branch-free (whether it improves is
unpredictable). When the pool (:data:`POOL_ENTRIES` pushes per origin) would overflow, or the
radius is infinite, the origin is searched with a binary heap instead (same distances; a
thread allocates the heap on its first such origin).

Kernels are compiled on first use (``cache=True``: later processes load them from numba's
cache in ~0.2 s) and run in parallel over origins (``prange`` over threads; origins go to the
threads in blocks of :data:`BLOCK` consecutive ones, round robin, so nearby origins share a
thread's cache and the threads share the work evenly). ``NUMBA_NUM_THREADS`` must be set
before the process starts.

Layouts
-------
Graph: CSR ``indptr`` (int64), ``indices`` (int32), ``weights`` (float64), symmetric.
Origins: ``src_ptr`` (int64, ``n_origins + 1``) into ``src_node`` (int32) / ``src_cost``
(float64): origin ``o``'s sources are ``src_ptr[o]:src_ptr[o + 1]``.
Weights to sum: on nodes, a dense ``(n, k)`` array ``node_w`` (the first output columns).
On snapped points (the next columns), grouped by the edge they lie on, ends ``a < b``
(``a == b`` for a point with one end): one ``float64`` record per edge in ``rec``,
``max cost_a, max cost_b, n_tot, n_pts``, the ``n_tot`` non-zero ``(col, val)`` totals of
its points, then per point ``cost_a, cost_b, k`` and its ``k`` non-zero ``(col, val)``
pairs. A point is within ``r`` when ``min(dist[a] + cost_a, dist[b] + cost_b) <= r`` (both
ends, exactly as :func:`.search.to_points`). An edge is listed at both its ends:
``inc_ptr[n]:inc_split[n]`` the edges node ``n`` owns (``n == a``), then up to
``inc_ptr[n + 1]`` those it does not, as ``inc_other`` (the other end) and ``inc_rec``
(record offset ``<< 1``, ``| 1`` when the node is ``b``). Per owner node, ``own_max`` (the
largest ``max cost_a`` of its edges) and ``own_w`` (dense ``(n, k2)``: the totals of its
edges). Once a search is over (every distance final) a reached owner adds ``own_w`` to
every layer ``dist + own_max`` is within, and looks at its edges' points only for the
smaller radii (edges near the radius); an edge whose owner is not reached is added at its
other end. Each edge is so added once per origin, and most as a few totals.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

__all__: list[str] = []

#: Bucket width in metres.
BUCKET_M = 20.0
#: Most buckets for one search (wider buckets above ``BUCKET_M * MAX_BUCKETS`` metres).
MAX_BUCKETS = 1 << 16
#: Bucket-queue pushes one origin may make before it falls back to the heap.
POOL_ENTRIES = 1 << 16
#: Consecutive origins handed to a thread at a time.
BLOCK = 32

_INF = np.inf


def threads() -> int:
    """Threads numba runs parallel kernels on."""
    return int(get_num_threads())


def buckets(radius: float) -> tuple[int, float]:
    """Return the bucket count and inverse bucket width for ``radius`` (0, 0: use the heap)."""
    if not np.isfinite(radius):
        return 0, 0.0
    width = max(BUCKET_M, radius / (MAX_BUCKETS - 1))
    return int(radius / width) + 1, 1.0 / width


# ------------------------------------------------------------------------- work arrays
@njit(cache=True)
def _workspace(n, n_buckets, pool):
    """One thread's bucket-search arrays (``dist`` starts, and is left, all ``inf``)."""
    dist = np.full(n, _INF)
    reached = np.empty(n, np.int32)
    head = np.full(max(n_buckets, 1), -1, np.int32)
    pnode = np.empty(max(pool, 1), np.int32)
    pdist = np.empty(max(pool, 1), np.float64)
    pnext = np.empty(max(pool, 1), np.int32)
    return dist, reached, head, pnode, pdist, pnext


@njit(cache=True)
def _no_heap():
    """Return empty heap arrays (a thread allocates them when it first needs the heap)."""
    return np.empty(0, np.float64), np.empty(0, np.float64), np.empty(0, np.int32)


@njit(cache=True, inline="always")
def _reset(dist, reached, nr):
    for i in range(nr):
        dist[reached[i]] = _INF


@njit(cache=True, inline="always")
def _improve(dist, reached, nr, v, d):
    """Give node ``v`` the shorter distance ``d``, listing it as reached the first time."""
    if dist[v] == _INF:
        reached[nr] = v
        nr += 1
    dist[v] = d
    return nr


# ------------------------------------------------------------------------- bucket queue
@njit(cache=True)
def _bucket_search(indptr, indices, weights, src, cost, radius, inv_w,
                   dist, reached, head, pnode, pdist, pnext):
    """Bounded search from ``src`` (at ``cost``); returns nodes reached, or -1 - that on overflow.

    Each entry keeps the distance it was pushed with; an entry whose node has since been
    given a shorter distance is stale and skipped (a node is pushed only on a strict
    improvement, so the entry holding its current distance is expanded exactly once).
    Relaxing an edge is branch-free (whether it improves is unpredictable): the entry is
    always written at ``top`` and kept by advancing ``top`` only on an improvement. On
    overflow every bucket is emptied; the caller resets the reached nodes.
    """
    nb = len(head)
    last = nb - 1
    cap = len(pnode)
    nr = 0
    top = 0
    for i in range(len(src)):
        s = src[i]
        c = cost[i]
        if c <= radius and c < dist[s]:
            if top >= cap:
                head[:] = -1
                return -1 - nr
            nr = _improve(dist, reached, nr, s, c)
            b = int(c * inv_w)
            pnode[top] = s
            pdist[top] = c
            pnext[top] = head[b]
            head[b] = top
            top += 1
    for b in range(nb):
        e = head[b]
        while e != -1:
            u = pnode[e]
            du = pdist[e]
            head[b] = pnext[e]
            if du == dist[u]:
                lo, hi = indptr[u], indptr[u + 1]
                if top + (hi - lo) > cap:
                    head[:] = -1
                    return -1 - nr
                for j in range(lo, hi):
                    v = indices[j]
                    nd = du + weights[j]
                    dv = dist[v]
                    imp = (nd < dv) & (nd <= radius)
                    reached[nr] = v
                    nr += imp & (dv == _INF)
                    dist[v] = nd if imp else dv
                    bb = min(int(nd * inv_w), last)
                    pnode[top] = v
                    pdist[top] = nd
                    pnext[top] = head[bb]
                    head[bb] = top if imp else pnext[top]
                    top += imp
            e = head[b]
    return nr


# ------------------------------------------------------------------------- binary heap
@njit(cache=True, inline="always")
def _heap_push(hd, hn, size, d, v):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hd[p] <= d:
            break
        hd[i] = hd[p]
        hn[i] = hn[p]
        i = p
    hd[i] = d
    hn[i] = v
    return size + 1


@njit(cache=True, inline="always")
def _heap_pop(hd, hn, size):
    """Remove the root (read it before calling); returns the new size."""
    size -= 1
    d = hd[size]
    v = hn[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hd[c + 1] < hd[c]:
            c += 1
        if hd[c] >= d:
            break
        hd[i] = hd[c]
        hn[i] = hn[c]
        i = c
    if size > 0:
        hd[i] = d
        hn[i] = v
    return size


@njit(cache=True)
def _heap_search(indptr, indices, weights, src, cost, radius,
                 dist, expd, reached, hd, hn):
    """Bounded Dijkstra from ``src`` with a lazy binary heap; returns nodes reached.

    ``expd`` (distance a node was expanded at) is left all ``inf`` again on return.
    """
    nr = 0
    size = 0
    for i in range(len(src)):
        s = src[i]
        c = cost[i]
        if c <= radius and c < dist[s]:
            nr = _improve(dist, reached, nr, s, c)
            size = _heap_push(hd, hn, size, c, s)
    while size > 0:
        du = hd[0]
        u = hn[0]
        size = _heap_pop(hd, hn, size)
        if du > dist[u] or expd[u] <= du:
            continue
        expd[u] = du
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            nd = du + weights[j]
            if nd < dist[v] and nd <= radius:
                nr = _improve(dist, reached, nr, v, nd)
                size = _heap_push(hd, hn, size, nd, v)
    for i in range(nr):
        expd[reached[i]] = _INF
    return nr


@njit(cache=True)
def _search(indptr, indices, weights, src, cost, radius, inv_w, ws, heap):
    """One origin: bucket queue, or the heap when ``inv_w == 0`` or the buckets overflow.

    Returns the nodes reached and the heap arrays (allocated here the first time a thread
    needs them: ``expd`` of ``n`` and room for every push, at most one per edge plus the
    sources).
    """
    dist, reached, head, pnode, pdist, pnext = ws
    if inv_w > 0.0:
        nr = _bucket_search(indptr, indices, weights, src, cost, radius, inv_w, dist,
                            reached, head, pnode, pdist, pnext)
        if nr >= 0:
            return nr, heap
        _reset(dist, reached, -1 - nr)
    expd, hd, hn = heap
    if len(expd) < len(dist):
        expd = np.full(len(dist), _INF)
    need = len(indices) + len(src) + 1
    if len(hd) < need:
        hd = np.empty(need, np.float64)
        hn = np.empty(need, np.int32)
    nr = _heap_search(indptr, indices, weights, src, cost, radius, dist, expd, reached,
                      hd, hn)
    return nr, (expd, hd, hn)


# ------------------------------------------------------------------------- kernels
@njit(cache=True, parallel=True)
def reach_batch(indptr, indices, weights, src_ptr, src_node, src_cost,
                radius, inv_w, n_buckets, pool, n_threads, out_nodes, out_dist, start, count):
    """Search every origin, writing its reached nodes and distances to the output buffers.

    Thread ``t`` writes into its share ``[t * cap, (t + 1) * cap)`` of ``out_nodes`` /
    ``out_dist`` (``cap = len(out_nodes) // n_threads``); origin ``o`` gets ``start[o]`` and
    ``count[o]``, or ``count[o] = -1`` when its thread's share was full (search it again).
    """
    n = len(indptr) - 1
    n_orig = len(src_ptr) - 1
    n_blocks = (n_orig + BLOCK - 1) // BLOCK
    cap = len(out_nodes) // n_threads
    for t in prange(n_threads):
        ws = _workspace(n, n_buckets, pool)
        heap = _no_heap()
        dist, reached = ws[0], ws[1]
        pos = t * cap
        end = pos + cap
        full = False
        for blk in range(t, n_blocks, n_threads):
            for o in range(blk * BLOCK, min(n_orig, (blk + 1) * BLOCK)):
                if full:
                    count[o] = -1
                    continue
                a, b = src_ptr[o], src_ptr[o + 1]
                nr, heap = _search(indptr, indices, weights, src_node[a:b], src_cost[a:b],
                                   radius, inv_w, ws, heap)
                if pos + nr > end:
                    full = True
                    count[o] = -1
                else:
                    for i in range(nr):
                        v = reached[i]
                        out_nodes[pos + i] = v
                        out_dist[pos + i] = dist[v]
                    start[o] = pos
                    count[o] = nr
                    pos += nr
                _reset(dist, reached, nr)


@njit(cache=True, inline="always")
def _add_pairs(rec, q, count, r0, r1, acc):
    """Add the ``count`` ``(col, val)`` pairs from ``rec[q]`` to layers ``r0:r1`` of ``acc``."""
    for r in range(r0, r1):
        for z in range(q, q + 2 * count, 2):
            acc[r, int(rec[z])] += rec[z + 1]


@njit(cache=True, inline="always")
def _layer(d, radii, n_r):
    """First radius index ``d`` is within (``n_r``: none)."""
    j = 0
    while j < n_r and d > radii[j]:
        j += 1
    return j


@njit(cache=True)
def _add_edge(rec, e, da, db, radii, cap, acc):
    """Add the points of the edge record at ``rec[e]`` (ends at ``da``, ``db``) to layers ``:cap``.

    A point counts in the layers of the radii ``min(da + cost_a, db + cost_b)`` is within.
    Where even the farthest point is within (``min(da + max cost_a, db + max cost_b)``),
    the edge's totals are added instead of its points.
    """
    n_tot = int(rec[e + 2])
    full = min(_layer(min(da + rec[e], db + rec[e + 1]), radii, cap), cap)
    _add_pairs(rec, e + 4, n_tot, full, cap, acc)
    if full == 0:
        return
    hi = radii[full - 1]
    q = e + 4 + 2 * n_tot
    for _ in range(int(rec[e + 3])):
        d = min(da + rec[q], db + rec[q + 1])
        k = int(rec[q + 2])
        if d <= hi:
            _add_pairs(rec, q + 3, k, _layer(d, radii, full), full, acc)
        q += 3 + 2 * k


@njit(cache=True)
def _accumulate(dist, reached, nr, radii, node_w, inc_ptr, inc_split, inc_other, inc_rec,
                own_max, own_w, rec, acc):
    """Add the weights reached into ``acc[radius, column]``.

    Node weights (``node_w``, dense, the first columns) count at the node's distance. The
    points of an edge (the next columns) are added once: at its owner (lower end) when
    reached, else at its other end. A reached node adds the totals of the edges it owns
    (``own_w``) to the layers whose radius their every point is within (``dist + own_max``
    is) and looks at their points only for the smaller radii. A weight is added to the
    layer of every radius it is within.
    """
    n_r = len(radii)
    k_node = node_w.shape[1]
    k_pt = own_w.shape[1]
    for i in range(nr):
        nd = reached[i]
        dn = dist[nd]
        if k_node:
            j = _layer(dn, radii, n_r)
            for r in range(j, n_r):
                for c in range(k_node):
                    acc[r, c] += node_w[nd, c]
        q0, qs, q1 = inc_ptr[nd], inc_split[nd], inc_ptr[nd + 1]
        if qs > q0:
            cap = _layer(dn + own_max[nd], radii, n_r)
            for r in range(cap, n_r):
                for c in range(k_pt):
                    acc[r, k_node + c] += own_w[nd, c]
            if cap:
                for q in range(q0, qs):
                    _add_edge(rec, inc_rec[q] >> 1, dn, dist[inc_other[q]], radii, cap, acc)
        for q in range(qs, q1):
            if dist[inc_other[q]] == _INF:  # the owner is not reached
                _add_edge(rec, inc_rec[q] >> 1, _INF, dn, radii, n_r, acc)


@njit(cache=True, parallel=True)
def sums_batch(indptr, indices, weights, src_ptr, src_node, src_cost, radii,
               inv_w, n_buckets, pool, n_threads, node_w, inc_ptr, inc_split, inc_other,
               inc_rec, own_max, own_w, rec, out):
    """``out[o, r, c]``: weight ``c`` of the items within ``radii[r]`` of origin ``o``.

    Per origin the weights are added in the order their nodes are reached: a fixed order
    for a given graph, origin and largest radius, whatever the threads or batches.
    """
    n = len(indptr) - 1
    n_orig = len(src_ptr) - 1
    n_blocks = (n_orig + BLOCK - 1) // BLOCK
    n_r, n_c = out.shape[1], out.shape[2]
    radius = radii[n_r - 1]
    for t in prange(n_threads):
        ws = _workspace(n, n_buckets, pool)
        heap = _no_heap()
        dist, reached = ws[0], ws[1]
        acc = np.zeros((n_r, n_c))
        for blk_i in range(t, n_blocks, n_threads):
            for o in range(blk_i * BLOCK, min(n_orig, (blk_i + 1) * BLOCK)):
                a, b = src_ptr[o], src_ptr[o + 1]
                nr, heap = _search(indptr, indices, weights, src_node[a:b], src_cost[a:b],
                                   radius, inv_w, ws, heap)
                _accumulate(dist, reached, nr, radii, node_w, inc_ptr, inc_split, inc_other,
                            inc_rec, own_max, own_w, rec, acc)
                _reset(dist, reached, nr)
                for r in range(n_r):
                    for c in range(n_c):
                        out[o, r, c] = acc[r, c]
                        acc[r, c] = 0.0


# ------------------------------------------------------------------------- k nearest
@njit(cache=True, inline="always")
def _lab_push(hd, hs, hn, size, d, s, v):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hd[p] < d or (hd[p] == d and hs[p] <= s):
            break
        hd[i] = hd[p]
        hs[i] = hs[p]
        hn[i] = hn[p]
        i = p
    hd[i] = d
    hs[i] = s
    hn[i] = v
    return size + 1


@njit(cache=True, inline="always")
def _lab_pop(hd, hs, hn, size):
    size -= 1
    d, s, v = hd[size], hs[size], hn[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and (hd[c + 1] < hd[c] or (hd[c + 1] == hd[c] and hs[c + 1] < hs[c])):
            c += 1
        if hd[c] > d or (hd[c] == d and hs[c] >= s):
            break
        hd[i] = hd[c]
        hs[i] = hs[c]
        hn[i] = hn[c]
        i = c
    if size > 0:
        hd[i] = d
        hs[i] = s
        hn[i] = v
    return size


@njit(cache=True, inline="always")
def _has_label(lab_s, cnt, v, s):
    for i in range(cnt[v]):  # noqa: SIM110 (a generator would not compile as tightly)
        if lab_s[v, i] == s:
            return True
    return False


@njit(cache=True)
def nearest_k(indptr, indices, weights, src_node, src_cost, src_id, k, limit):
    """Find the ``k`` nearest distinct sources of every node, by a multi-label Dijkstra.

    Labels ``(distance, source)`` are settled in order (ties: the lower source id first); a
    node keeps at most ``k`` labels, one per source. Returns ``(n, k)`` distances (``inf``)
    and source ids (``-1``) in increasing distance.
    """
    n = len(indptr) - 1
    lab_d = np.full((n, k), _INF)
    lab_s = np.full((n, k), -1, np.int64)
    cnt = np.zeros(n, np.int64)
    cap = max(16, len(src_node) + len(indices))
    hd = np.empty(cap, np.float64)
    hs = np.empty(cap, np.int64)
    hn = np.empty(cap, np.int32)
    size = 0
    for i in range(len(src_node)):
        if src_cost[i] <= limit:
            size = _lab_push(hd, hs, hn, size, src_cost[i], src_id[i], src_node[i])
    while size > 0:
        d, s, u = hd[0], hs[0], hn[0]
        size = _lab_pop(hd, hs, hn, size)
        if cnt[u] >= k or _has_label(lab_s, cnt, u, s):
            continue
        lab_d[u, cnt[u]] = d
        lab_s[u, cnt[u]] = s
        cnt[u] += 1
        for j in range(indptr[u], indptr[u + 1]):
            v = indices[j]
            nd = d + weights[j]
            if nd > limit or cnt[v] >= k or _has_label(lab_s, cnt, v, s):
                continue
            if size == len(hd):
                hd = np.concatenate((hd, np.empty(len(hd), np.float64)))
                hs = np.concatenate((hs, np.empty(len(hs), np.int64)))
                hn = np.concatenate((hn, np.empty(len(hn), np.int32)))
            size = _lab_push(hd, hs, hn, size, nd, s, v)
    return lab_d, lab_s
