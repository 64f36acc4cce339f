"""Compiled bin counts of the K-density's simulations (numba): distance and bin in one pass.

Private engine behind :mod:`._kd_distances`. A simulation's curve needs only how many of its
pairs fall in each ``bin_m``-wide distance bin below the cutoff, so no distance array is ever
made: each kernel computes a pair's distance and increments its bin at once, and runs the
simulations in parallel (``prange``, one counts row per simulation).

**Bit-identical bins.** A pair's distance is computed with exactly the floating-point
operations of the code it replaces, and binned as ``int(d / bin_m)`` when ``d < cutoff``
(and the bin is below ``n_bins``), as :func:`~._kd_distances.bin_counts` does with an
array:

* straight line: ``d = sqrt(dx * dx + dy * dy)`` in ``float64`` — ``scipy``'s ``pdist`` and
  ``cdist`` as built without FMA contraction (x86-64 wheels; numba contracts nothing), which
  ``tests/test_kd.py`` pins with pairs a few ulps from bin edges and the cutoff. The square
  is first clamped at a square a hair *above* the cutoff's (a clamped pair is beyond the
  cutoff either way), and a point's pairs are binned without a branch (the compiler
  vectorises it) before its bins are incremented. With a power-of-two ``bin_m`` (1 m by
  default) the bin is ``int(d * (1 / bin_m))``: the same number.
* walking (the ``uint16`` node matrix of :class:`~._kd_distances.NetworkDistances`): the
  entries between the two points' edge ends are read in ``float32`` steps, the origin's costs
  added in ``float32``, the target's in ``float64``, and the walk along a shared edge taken
  when shorter — :meth:`~._kd_distances.NetworkDistances.within` and ``cross``, value for
  value.

**Grid.** Straight-line kernels visit only the pairs that can be within the cutoff: the
points are bucketed in square cells of a quarter of the cutoff (one counting sort), sorted
row by row, so the cells a point can reach in one row of cells are one contiguous slice; rows
and columns are chosen with a 1 mm margin, and the exact test above decides. Within one set,
each pair is visited once (from its earlier point in cell order).

**Cross counts** (a fixed second set ``b``): a reference point is drawn by many simulations
(999 draws of 2,000 among 175,895 addresses: about 11 times each), so each drawn point's bins
with ``b`` are computed once, for a block of points at a time (``_CROSS_BYTES``), and added to
every simulation that drew it; rows are ``int32`` when no bin can reach ``2**31``.

Kernels are compiled on first use (``cache=True``: later processes load them from numba's
cache).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["Grid", "cross_counts", "grid_for", "network_counts", "within_counts"]

#: Cells per cutoff (cells are ``cutoff / _CELLS_PER_CUTOFF`` wide).
_CELLS_PER_CUTOFF = 4
#: Most cells along one axis (coarser cells beyond).
_MAX_CELLS = 512
#: Memory for the bins of one block of drawn points in the cross counts.
_CROSS_BYTES = 32 * 2**20
#: Pruning margin in metres (far above any rounding of the cell arithmetic).
_MARGIN_M = 1e-3
#: A node-matrix entry beyond the cutoff (as in :mod:`._kd_distances`).
_BEYOND = np.iinfo(np.uint16).max

Grid = tuple[float, float, float, int, int]  # x0, y0, cell, nx, ny


def grid_for(xy: np.ndarray, cutoff: float) -> Grid:
    """Return a grid of cells covering ``xy`` for pairs within ``cutoff``.

    Cells are ``cutoff / 4`` wide, coarser when that would make more than 512 along an axis
    (a single cell when the cutoff is infinite).
    """
    x, y = xy[:, 0], xy[:, 1]
    lo = (x.min(), y.min()) if len(xy) else (0.0, 0.0)  # per column: ~40x faster than axis=0
    hi = (x.max(), y.max()) if len(xy) else (0.0, 0.0)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1], 1.0))
    cell = (cutoff / _CELLS_PER_CUTOFF) if np.isfinite(cutoff) else extent
    cell = max(cell, extent / (_MAX_CELLS - 1), 1e-6)
    nx = int((hi[0] - lo[0]) / cell) + 1
    ny = int((hi[1] - lo[1]) / cell) + 1
    return float(lo[0]), float(lo[1]), float(cell), nx, ny


@njit(cache=True)
def _bucket(x, y, x0, y0, cell, nx, ny):
    """Sort the points into the grid's cells (row-major): ``order``, and each cell's ``start``."""
    n = len(x)
    key = np.empty(n, np.int64)
    start = np.zeros(nx * ny + 1, np.int64)
    for i in range(n):
        cx = min(max(int((x[i] - x0) / cell), 0), nx - 1)
        cy = min(max(int((y[i] - y0) / cell), 0), ny - 1)
        key[i] = cy * nx + cx
        start[key[i] + 1] += 1
    for c in range(nx * ny):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        order[fill[key[i]]] = i
        fill[key[i]] += 1
    return order, start


@njit(cache=True, inline="always")
def _bin_run(buf, at, px, py, bx, by, q0, q1, c2, cutoff, bin_m, inv, n_bins):
    """Write the bins of the pairs of ``(px, py)`` with the points ``q0:q1`` from ``buf[at]``.

    Without a branch (``n_bins``, the spare last slot of a counts row, for a pair not
    counted), so the compiler vectorises it; returns the next free position of ``buf``.
    """
    # two copies of the loop on purpose: each is vectorised without a branch inside
    if inv > 0.0:  # bin_m a power of two: d * inv is d / bin_m exactly, and faster
        for t in range(q1 - q0):
            dx = px - bx[q0 + t]
            dy = py - by[q0 + t]
            d = np.sqrt(min(dx * dx + dy * dy, c2))  # >= c2: beyond the cutoff
            k = int(d * inv)
            buf[at + t] = k if (d < cutoff) & (k < n_bins) else n_bins
    else:
        for t in range(q1 - q0):
            dx = px - bx[q0 + t]
            dy = py - by[q0 + t]
            d = np.sqrt(min(dx * dx + dy * dy, c2))
            k = int(d / bin_m)
            buf[at + t] = k if (d < cutoff) & (k < n_bins) else n_bins
    return at + max(q1 - q0, 0)


@njit(cache=True, inline="always")
def _bins_near(buf, px, py, bx, by, start, first, x0, y0, cell, nx, ny, reach,
               c2, cutoff, bin_m, inv, n_bins):
    """Bins of the pairs of ``(px, py)`` with the gridded points ``bx, by`` from ``first`` on.

    Written to ``buf`` (as long as ``bx``: each point is visited at most once); returns how
    many.
    """
    at = 0
    lo_y = max(np.floor((py - reach - y0) / cell), 0.0)
    hi_y = min(np.floor((py + reach - y0) / cell), ny - 1.0)
    cy = lo_y
    while cy <= hi_y:
        y_lo = y0 + cy * cell
        gap = max(y_lo - py, py - (y_lo + cell), 0.0)
        if gap <= reach:
            w = np.sqrt(reach * reach - gap * gap)
            lo_x = max(np.floor((px - w - x0) / cell), 0.0)
            hi_x = min(np.floor((px + w - x0) / cell), nx - 1.0)
            if lo_x <= hi_x:
                base = int(cy) * nx
                at = _bin_run(buf, at, px, py, bx, by, max(start[base + int(lo_x)], first),
                              start[base + int(hi_x) + 1], c2, cutoff, bin_m, inv, n_bins)
        cy += 1.0
    return at


def _inverse(bin_m: float) -> float:
    """``1 / bin_m`` when multiplying by it is dividing by ``bin_m`` exactly (a power of two)."""
    return 1.0 / bin_m if np.frexp(bin_m)[0] == 0.5 else 0.0


def _limits(cutoff: float) -> tuple[float, float]:
    """Square of a hair above the cutoff (the pre-test), and the search reach (with margin)."""
    if not np.isfinite(cutoff):
        return np.inf, np.inf
    return (cutoff * (1.0 + 1e-9)) ** 2, cutoff * (1.0 + 1e-9) + _MARGIN_M


@njit(cache=True, parallel=True)
def _within_kernel(x, y, idx, x0, y0, cell, nx, ny, reach, c2, cutoff, bin_m, inv, n_bins):
    n_sims, n = idx.shape
    counts = np.zeros((n_sims, n_bins + 1), np.int64)
    for s in prange(n_sims):
        buf = np.empty(n, np.int64)
        px = np.empty(n)
        py = np.empty(n)
        for i in range(n):
            px[i] = x[idx[s, i]]
            py[i] = y[idx[s, i]]
        order, start = _bucket(px, py, x0, y0, cell, nx, ny)
        sx = px[order]
        sy = py[order]
        row = counts[s]
        for p in range(n):
            m = _bins_near(buf, sx[p], sy[p], sx, sy, start, p + 1, x0, y0, cell, nx, ny,
                           reach, c2, cutoff, bin_m, inv, n_bins)
            for t in range(m):
                row[buf[t]] += 1
    return counts[:, :n_bins]


@njit(cache=True, parallel=True)
def _cross_bins(x, y, points, bins, m, bx, by, start, x0, y0, cell, nx, ny, reach, c2, cutoff,
                bin_m, inv, n_bins):
    """Bins of each point of ``points`` with every point of ``b`` (row ``i`` of ``bins``)."""
    for i in prange(len(points)):
        j = points[i]
        m[i] = _bins_near(bins[i], x[j], y[j], bx, by, start, 0, x0, y0, cell, nx, ny, reach,
                          c2, cutoff, bin_m, inv, n_bins)


@njit(cache=True, parallel=True)
def _cross_add(counts, bins, m, local, offsets):
    """Add to each simulation the bins of its points (``local[offsets[s]:offsets[s + 1]]``)."""
    for s in prange(len(offsets) - 1):
        row = counts[s]
        for o in range(offsets[s], offsets[s + 1]):
            p = local[o]
            for t in range(m[p]):
                row[bins[p, t]] += 1


def within_counts(xy: np.ndarray, idx: np.ndarray, cutoff: float, bin_m: float,
                  n_bins: int) -> np.ndarray:
    """Bin counts of the straight-line distances among each row's points.

    Parameters
    ----------
    xy
        ``(m, 2)`` coordinates in metres.
    idx
        ``(n_sims, n)`` rows of positions in ``xy``: the pairs ``i < j`` of each row are
        counted, as :func:`~._kd_distances.bin_counts` counts ``pdist(xy[row])``.
    cutoff, bin_m, n_bins
        As in :func:`~._kd_distances.bin_counts`.

    Returns
    -------
    numpy.ndarray
        ``(n_sims, n_bins)`` ``int64`` counts.
    """
    x0, y0, cell, nx, ny = grid_for(xy, cutoff)
    c2, reach = _limits(cutoff)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    rows = np.ascontiguousarray(idx, dtype=np.int64)
    # a view of the kernel's rows (its spare last bin dropped): no copy of the counts
    return _within_kernel(x, y, rows, x0, y0, cell, nx, ny, reach, c2, float(cutoff),
                          float(bin_m), _inverse(bin_m), int(n_bins))


def cross_counts(xy: np.ndarray, idx: np.ndarray, b: np.ndarray, cutoff: float, bin_m: float,
                 n_bins: int) -> np.ndarray:
    """Bin counts of the straight-line distances from each row's points to every point of ``b``.

    As :func:`~._kd_distances.bin_counts` counts ``cdist(xy[row], b)``; see :func:`within_counts`.
    """
    x0, y0, cell, nx, ny = grid_for(b, cutoff)
    c2, reach = _limits(cutoff)
    bx, by = np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(b[:, 1])
    order_b, start = _bucket(bx, by, x0, y0, cell, nx, ny)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    idx = np.asarray(idx, dtype=np.int64)
    n_sims = len(idx)
    if idx.size == 0 or len(b) == 0:
        return np.zeros((n_sims, n_bins), np.int64)
    # int32 rows when no bin can overflow them: half the cache for the increments
    wide = idx.shape[1] * len(b) >= np.iinfo(np.int32).max
    counts = np.zeros((n_sims, n_bins + 1), np.int64 if wide else np.int32)
    # each drawn point's bins once (a point is drawn by many simulations), in blocks of
    # points whose bins fit in _CROSS_BYTES, then added to the simulations drawing them
    points, inverse = np.unique(idx, return_inverse=True)
    dtype = np.uint16 if n_bins < np.iinfo(np.uint16).max else np.int64
    per_block = max(1, _CROSS_BYTES // (max(len(b), 1) * np.dtype(dtype).itemsize))
    block = inverse.reshape(n_sims, -1) // per_block
    sims = np.broadcast_to(np.arange(n_sims)[:, None], idx.shape)
    order = np.argsort((block * n_sims + sims).ravel(), kind="stable")
    local = (inverse.ravel() % per_block)[order]
    bounds = np.searchsorted((block * n_sims + sims).ravel()[order],
                             np.arange(0, (int(block.max(initial=0)) + 1) * n_sims + 1))
    bins = np.empty((min(per_block, len(points)), len(b)), dtype)
    m = np.empty(len(bins), np.int64)
    ordered = (bx[order_b], by[order_b], start, x0, y0, cell, nx, ny, reach, c2, float(cutoff),
               float(bin_m), _inverse(bin_m), int(n_bins))
    for k, lo in enumerate(range(0, len(points), per_block)):
        chunk = points[lo:lo + per_block]
        _cross_bins(x, y, chunk, bins, m, *ordered)
        _cross_add(counts, bins, m, local, bounds[k * n_sims:(k + 1) * n_sims + 1])
    return counts[:, :n_bins].astype(np.int64)


# ----------------------------------------------------------------------------- network
@njit(cache=True, inline="always")
def _node(matrix, n, a, c, step):
    """``float32`` walking distance between carriers ``a`` and ``c`` (``inf``: beyond)."""
    i = min(a, c)
    steps = matrix[i * (2 * n + 1 - i) // 2 + (max(a, c) - i)]
    return np.float32(np.inf) if steps == _BEYOND else np.float32(steps) * step


@njit(cache=True, inline="always")
def _walk(matrix, n, step, o, ou, ov, ocu, ocv, oedge, oalong, odist,
          t, tu, tv, tcu, tcv, tedge, talong, tdist):
    """Return the walk from origin point ``o`` to target point ``t`` (see the module docs)."""
    cu = np.float32(ocu[o])
    cv = np.float32(ocv[o])
    a, b = ou[o], ov[o]
    to_u = min(_node(matrix, n, a, tu[t], step) + cu, _node(matrix, n, b, tu[t], step) + cv)
    to_v = min(_node(matrix, n, a, tv[t], step) + cu, _node(matrix, n, b, tv[t], step) + cv)
    d = min(np.float64(to_u) + tcu[t], np.float64(to_v) + tcv[t])
    if oedge[o] >= 0 and oedge[o] == tedge[t]:
        d = min(d, abs(oalong[o] - talong[t]) + odist[o] + tdist[t])
    return d


@njit(cache=True, inline="always")
def _bin_of(d, cutoff, bin_m, n_bins):
    """Bin of ``d``, or ``n_bins`` when it is not counted."""
    k = int(min(d, cutoff) / bin_m)
    return k if (d < cutoff) & (k < n_bins) else n_bins


@njit(cache=True, parallel=True)
def _network_kernel(matrix, n_carriers, step, pts, idx, tgt, cross, cutoff, bin_m, n_bins):
    pu, pv, pcu, pcv, pedge, palong, pdist = pts
    tu, tv, tcu, tcv, tedge, talong, tdist = tgt
    n_sims, n = idx.shape
    counts = np.zeros((n_sims, n_bins + 1), np.int64)
    for s in prange(n_sims):
        row = counts[s]
        for i in range(n):
            o = idx[s, i]
            if cross:
                for t in range(len(tu)):
                    row[_bin_of(_walk(matrix, n_carriers, step, o, pu, pv, pcu, pcv, pedge,
                                      palong, pdist, t, tu, tv, tcu, tcv, tedge, talong,
                                      tdist), cutoff, bin_m, n_bins)] += 1
            else:
                for j in range(i + 1, n):
                    row[_bin_of(_walk(matrix, n_carriers, step, o, pu, pv, pcu, pcv, pedge,
                                      palong, pdist, idx[s, j], pu, pv, pcu, pcv, pedge,
                                      palong, pdist), cutoff, bin_m, n_bins)] += 1
    return counts[:, :n_bins]


SnapArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                   np.ndarray]


def network_counts(matrix: np.ndarray, n_carriers: int, step: float, points: SnapArrays,
                   idx: np.ndarray, targets: SnapArrays | None, cutoff: float, bin_m: float,
                   n_bins: int) -> np.ndarray:
    """Bin counts of the walking distances of each row's points, read off the node matrix.

    Parameters
    ----------
    matrix
        The condensed ``uint16`` node matrix (steps of ``step`` metres, ``65535`` beyond).
    n_carriers
        Its number of rows.
    step
        Metres per step (used in ``float32``, as the matrix is read).
    points
        The snapped points as ``u, v`` (matrix positions), ``cost_u, cost_v``, ``edge``
        (``-1`` when none or invalid), ``along`` and ``distance`` arrays.
    idx
        ``(n_sims, n)`` rows of positions in ``points``.
    targets
        The fixed second set (same arrays) for cross distances: each row's points to every
        target; ``None``: the pairs ``i < j`` within each row, ``i`` the origin.
    cutoff, bin_m, n_bins
        As in :func:`~._kd_distances.bin_counts`.

    Returns
    -------
    numpy.ndarray
        ``(n_sims, n_bins)`` ``int64`` counts.
    """
    return np.asarray(_network_kernel(
        matrix, int(n_carriers), np.float32(step), points,
        np.ascontiguousarray(idx, dtype=np.int64), points if targets is None else targets,
        targets is not None, float(cutoff), float(bin_m), int(n_bins)))
