"""Bilateral distances for the K-density (:mod:`.kd`): straight line, a callable, the network.

One *engine* per distance kind holds every point the test will ever need — the observed sites
first, then the reference set — and answers two questions for a selection of them:
``within(idx)``, the condensed pairwise distances among the selected points (``i < j``), and
``cross(idx)``, the distances from each selected point to a fixed second set ``b``
(row-major, ``len(idx) * len(b)`` values). Distances beyond :attr:`cutoff` may come back as
``inf`` or as their true value; the caller ignores everything from the cutoff on. What the
simulations need is ``counts(idx, cross, ...)``: for each row of selections, how many of its
distances fall in each bin. The reference is a loop binning ``within``/``cross`` arrays;
straight-line distances and the network matrix count in compiled kernels instead
(:mod:`._kd_kernels`), with the same floating-point operations, so the counts are equal.

Network distances (:class:`NetworkDistances`) are walking distances over a
:class:`~cwsgeo.analysis.network.WalkNetwork`: every point is snapped to its nearest street
segment once (:func:`~cwsgeo.analysis.network.snap_points`), and the distance between two
points is ``min`` over their segments' ends of ``cost + d(end, end') + cost'``, or the walk
along a shared segment (:func:`~cwsgeo.analysis.network.to_points`). Two modes:

* ``"matrix"``: one bounded search (limit = the cutoff) from every node that carries a point
  (an end of a snapped segment), kept as the condensed upper triangle (diagonal included)
  of a matrix over those nodes, the searches run in memory-bounded batches scattered
  straight into it. Each simulation then only gathers the entries among the drawn points'
  edge ends. Distances are stored as ``uint16`` steps of ``cutoff / 65534`` (5.3 cm at the
  default 3,477 m cutoff; ``65535`` = beyond it): the 9,187 nodes of the Barcelona graph take
  84 MB, half of a ``float32`` triangle, and a pair's distance moves by at most half a step
  (2.7 cm).
* ``"search"``: one bounded search per simulation from the ends of the drawn points'
  segments (:func:`~cwsgeo.analysis.network.point_node_distances`), for networks whose matrix
  would not fit in ``max_matrix_bytes``.

Points farther than ``snap_max_m`` from the network are never given straight-line distances:
off-network sites raise, off-network reference points are left out of the draws (and counted).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from ..network import (
    Snap,
    WalkNetwork,
    iter_reach,
    point_node_distances,
    snap_points,
    to_points,
)

if TYPE_CHECKING:
    from ._kd_kernels import SnapArrays

__all__ = ["CallableDistances", "EuclideanDistances", "NetworkDistances", "as_xy", "bin_counts"]

PairFunction = Callable[[np.ndarray, np.ndarray], npt.ArrayLike]

#: Memory for one batch of the matrix's searches (its scatter takes about three times more).
_REACH_BYTES = 8 * 2**20


def bin_counts(distances: np.ndarray, cutoff: float, bin_m: float, n_bins: int) -> np.ndarray:
    """Pairs per ``bin_m``-wide bin, ``int(d / bin_m)``, of the distances below ``cutoff``.

    Parameters
    ----------
    distances
        Distances in metres (``inf``/``NaN`` are never counted).
    cutoff
        Distances from here on are not counted.
    bin_m
        Bin width.
    n_bins
        Bins returned (a distance whose bin is ``n_bins`` or more is not counted).

    Returns
    -------
    numpy.ndarray
        ``int64`` counts, ``n_bins`` long.
    """
    d = distances[distances < cutoff]
    return np.bincount((d / bin_m).astype(np.int64), minlength=n_bins)[:n_bins]


def as_xy(points: npt.ArrayLike, what: str) -> np.ndarray:
    """``(n, 2)`` float coordinates, or a ValueError naming the bad rows of ``what``."""
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{what}: expected an (n, 2) array of x, y coordinates in metres, "
                         f"got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
    if len(bad):
        rows = ", ".join(str(int(r)) for r in bad[:10]) + (", …" if len(bad) > 10 else "")
        raise ValueError(f"{what}: {len(bad)} row(s) with missing or non-finite coordinates "
                         f"(rows {rows})")
    return arr


class _Distances(ABC):
    """What every engine answers: pair distances of a selection, and bin counts of many."""

    kind: str
    cutoff: float
    usable: np.ndarray

    @abstractmethod
    def within(self, idx: np.ndarray) -> np.ndarray:
        """Condensed pairwise distances among ``points[idx]``."""

    @abstractmethod
    def cross(self, idx: np.ndarray) -> np.ndarray:
        """Distances from ``points[idx]`` to every point of ``b``, row-major."""

    def counts(self, idx: np.ndarray, cross: bool, cutoff: float, bin_m: float,
               n_bins: int) -> np.ndarray:
        """Bin counts (:func:`bin_counts`) of each row's distances.

        Parameters
        ----------
        idx
            ``(n_sims, n)`` selections, one per row.
        cross
            Count :meth:`cross` distances (else :meth:`within`).
        cutoff, bin_m, n_bins
            As in :func:`bin_counts`.

        Returns
        -------
        numpy.ndarray
            ``(n_sims, n_bins)`` ``int64`` counts. This loop over rows is the reference
            that the engines' compiled counts reproduce exactly.
        """
        pair_fn = self.cross if cross else self.within
        out = np.zeros((len(idx), n_bins), dtype=np.int64)
        for s, row in enumerate(idx):
            out[s] = bin_counts(pair_fn(row), cutoff, bin_m, n_bins)
        return out


class _PointSet(_Distances):
    """Points in metres and an optional fixed second set ``b``: nothing to precompute."""

    def __init__(self, points: np.ndarray, b: np.ndarray | None = None) -> None:
        self.points, self.b = points, b
        self.cutoff = np.inf
        self.usable = np.ones(len(points), dtype=bool)

    def build(self, cutoff: float) -> None:
        """Nothing to precompute; remember the cutoff."""
        self.cutoff = cutoff


class EuclideanDistances(_PointSet):
    """Straight-line distances (``scipy.spatial.distance.pdist`` / ``cdist``).

    :meth:`counts` bins them without making them (:mod:`._kd_kernels`), bin for bin as the
    loop over ``pdist`` / ``cdist`` would.
    """

    kind = "euclidean"

    def within(self, idx: np.ndarray) -> np.ndarray:
        """Condensed pairwise distances among ``points[idx]``."""
        from scipy.spatial.distance import pdist

        return pdist(self.points[idx])

    def cross(self, idx: np.ndarray) -> np.ndarray:
        """Distances from ``points[idx]`` to every point of ``b``, row-major."""
        from scipy.spatial.distance import cdist

        assert self.b is not None
        return cdist(self.points[idx], self.b).ravel()

    def counts(self, idx: np.ndarray, cross: bool, cutoff: float, bin_m: float,
               n_bins: int) -> np.ndarray:
        """Bin counts of each row's distances, compiled (see :meth:`_Distances.counts`)."""
        if cross:
            assert self.b is not None
            from ._kd_kernels import cross_counts  # numba: loaded when counting

            return cross_counts(self.points, idx, self.b, cutoff, bin_m, n_bins)
        from ._kd_kernels import within_counts

        return within_counts(self.points, idx, cutoff, bin_m, n_bins)


class CallableDistances(_PointSet):
    """Distances from a user function ``f(xy_a, xy_b) -> (len(a), len(b))`` array."""

    def __init__(self, func: PairFunction, points: np.ndarray,
                 b: np.ndarray | None = None) -> None:
        super().__init__(points, b)
        self.func = func
        self.kind = "callable:" + getattr(func, "__name__", type(func).__name__)

    def _call(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.asarray(self.func(a, b), dtype=float)
        if out.shape != (len(a), len(b)):
            raise ValueError(f"distance function {self.kind[9:]} returned shape {out.shape} "
                             f"for {len(a)} and {len(b)} points; expected "
                             f"({len(a)}, {len(b)})")
        return out

    def within(self, idx: np.ndarray) -> np.ndarray:
        """Condensed pairwise distances (upper triangle of ``f(p, p)``)."""
        p = self.points[idx]
        return self._call(p, p)[np.triu_indices(len(p), k=1)]

    def cross(self, idx: np.ndarray) -> np.ndarray:
        """``f(points[idx], b)``, row-major."""
        assert self.b is not None
        return self._call(self.points[idx], self.b).ravel()


class NetworkDistances(_Distances):
    """Walking distances over a :class:`WalkNetwork` (see the module docs).

    Parameters
    ----------
    net
        The walking network; point coordinates are in its CRS.
    points
        Observed sites first, then the reference set.
    n_sites
        How many of ``points`` are observed sites (they must all be on the network).
    b
        The fixed second set of a cross K-density (its points must all be on the network).
    mode
        ``"matrix"``, ``"search"`` or ``"auto"`` (the matrix when it fits in
        ``max_matrix_bytes``).
    max_matrix_bytes
        Memory allowed for the node matrix in ``"auto"`` mode.
    snap_max_m
        Points farther than this from the network are off it.
    drop_b_off_network
        Leave the points of ``b`` that are off the network out (counted in
        :attr:`b_left_out`) instead of raising.
    """

    kind = "network"

    def __init__(self, net: WalkNetwork, points: np.ndarray, n_sites: int,
                 b: np.ndarray | None = None, *,
                 mode: Literal["auto", "matrix", "search"] = "auto",
                 max_matrix_bytes: float = 1.5e9, snap_max_m: float | None = None,
                 drop_b_off_network: bool = False) -> None:
        if mode not in ("auto", "matrix", "search"):
            raise ValueError(f"network mode must be 'auto', 'matrix' or 'search', got {mode!r}")
        self.net, self.requested_mode, self.max_matrix_bytes = net, mode, max_matrix_bytes
        self.snap = snap_points(net, points, snap_max_m=snap_max_m)
        self.usable = self.snap.on_network
        _require_on_network(self.snap.subset(slice(0, n_sites)), "sites", snap_max_m)
        self.b = None if b is None else snap_points(net, b, snap_max_m=snap_max_m)
        self.b_left_out = 0
        if self.b is not None and drop_b_off_network:
            self.b_left_out = int((~self.b.on_network).sum())
            self.b = self.b.subset(self.b.on_network)
        if self.b is not None:
            _require_on_network(self.b, "second set (b)", snap_max_m)
        self.cutoff = np.inf
        self.mode = "search"
        self.matrix: np.ndarray | None = None
        self._csnap: Snap | None = None  # snaps with ends as matrix positions
        self._cb: Snap | None = None
        self.n_carriers = 0

    def build(self, cutoff: float) -> None:
        """Set the search limit and, in matrix mode, compute the node matrix."""
        self.cutoff = float(cutoff)
        self.matrix = None  # a rebuild never holds two matrices
        ends = [self.snap.u[self.usable], self.snap.v[self.usable]]
        if self.b is not None:
            ends += [self.b.u, self.b.v]
        carriers = np.unique(np.concatenate(ends))
        if self.requested_mode == "matrix" and not np.isfinite(self.cutoff):
            raise ValueError("the network matrix needs a finite cutoff")
        fits = (np.isfinite(self.cutoff)
                and _condensed_size(len(carriers)) * 2 <= self.max_matrix_bytes)
        self.mode = ("matrix" if self.requested_mode == "matrix"
                     or (self.requested_mode == "auto" and fits) else "search")
        if self.mode == "search":
            return
        position = np.full(self.net.n_nodes, -1, dtype=np.int64)
        position[carriers] = np.arange(len(carriers))
        self.matrix = _node_matrix(self.net, carriers, position, self.cutoff)
        self.n_carriers = len(carriers)
        self._csnap = _renumbered(self.snap, position)
        self._cb = None if self.b is None else _renumbered(self.b, position)

    def _gather(self, s: Snap, columns: np.ndarray) -> np.ndarray:
        """Distances from snapped points (matrix positions) to the carrier ``columns``."""
        assert self.matrix is not None
        n, m, step = self.n_carriers, self.matrix, _step(self.cutoff)

        def node_distances(ends: np.ndarray) -> np.ndarray:
            steps = m[_condensed_index(ends[:, None], columns[None, :], n)]
            out = steps.astype(np.float32) * np.float32(step)
            out[steps == _BEYOND] = np.inf
            return out

        return np.minimum(node_distances(s.u) + s.cost_u[:, None].astype(np.float32),
                          node_distances(s.v) + s.cost_v[:, None].astype(np.float32))

    def within(self, idx: np.ndarray) -> np.ndarray:
        """Condensed pairwise walking distances among ``points[idx]``."""
        if self.matrix is None or self._csnap is None:
            s = self.snap.subset(idx)
            full = to_points(point_node_distances(self.net, s, limit=self.cutoff), s, origins=s)
        else:  # only the columns of the selected points' edge ends are gathered
            s = self._csnap.subset(idx)
            ends, inverse = np.unique(np.concatenate([s.u, s.v]), return_inverse=True)
            local = _renumbered_ends(s, inverse[:len(idx)], inverse[len(idx):])
            full = to_points(self._gather(s, ends), local, origins=local)
        return full[np.triu_indices(len(idx), k=1)]

    def counts(self, idx: np.ndarray, cross: bool, cutoff: float, bin_m: float,
               n_bins: int) -> np.ndarray:
        """Bin counts of each row's distances (see :meth:`_Distances.counts`).

        In matrix mode compiled: each pair's walk is read off the matrix and binned at once
        (:func:`~._kd_kernels.network_counts`), value for value as :meth:`within` and
        :meth:`cross` compute it.
        """
        if self.matrix is None or self._csnap is None:
            return super().counts(idx, cross, cutoff, bin_m, n_bins)
        targets = None
        if cross:
            assert self._cb is not None
            targets = _snap_arrays(self._cb)
        from ._kd_kernels import network_counts

        return network_counts(self.matrix, self.n_carriers, _step(self.cutoff),
                              _snap_arrays(self._csnap), idx, targets, cutoff, bin_m, n_bins)

    def cross(self, idx: np.ndarray) -> np.ndarray:
        """Return walking distances from ``points[idx]`` to every point of ``b``, row-major."""
        assert self.b is not None
        if self.matrix is None or self._csnap is None or self._cb is None:
            s = self.snap.subset(idx)
            rows = point_node_distances(self.net, s, limit=self.cutoff)
            return to_points(rows, self.b, origins=s).ravel()
        s, b = self._csnap.subset(idx), self._cb  # only the columns of b's edge ends
        ends, inverse = np.unique(np.concatenate([b.u, b.v]), return_inverse=True)
        local = _renumbered_ends(b, inverse[:len(b)], inverse[len(b):])
        return to_points(self._gather(s, ends), local, origins=s).ravel()


def _condensed_size(n: int) -> int:
    """Entries of the upper triangle (diagonal included) of an ``n`` by ``n`` matrix."""
    return n * (n + 1) // 2


def _condensed_index(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Positions of the pairs ``(a, b)`` (broadcast) in the condensed upper triangle.

    Row ``i`` of the triangle holds ``(i, i), (i, i + 1), … (i, n - 1)`` and starts at
    ``i * (2n - i + 1) / 2``; a pair is looked up as ``(min, max)``.
    """
    i = np.minimum(a, b).astype(np.int64)
    j = np.maximum(a, b)
    return i * (2 * n + 1 - i) // 2 + (j - i)


#: Stored for a pair beyond the cutoff (or not connected).
_BEYOND = np.iinfo(np.uint16).max


def _step(cutoff: float) -> float:
    """Metres per stored ``uint16`` unit: the cutoff spread over 65,534 steps."""
    return float(cutoff) / (_BEYOND - 1)


def _node_matrix(net: WalkNetwork, carriers: np.ndarray, position: np.ndarray,
                 cutoff: float) -> np.ndarray:
    """Condensed walking distances among the carrier nodes in ``uint16`` steps (:func:`_step`).

    The bounded search runs from every carrier in memory-bounded batches
    (:func:`~cwsgeo.analysis.network.iter_reach`), each scattered into the triangle and
    dropped; the pair ``(i, j)``, ``i <= j``, keeps the distance found from carrier ``i``
    (the search from ``j`` may differ in the last bits of float64: one value serves both
    directions, so the matrix is exactly symmetric).
    """
    n = len(carriers)
    matrix = np.full(_condensed_size(n), _BEYOND, dtype=np.uint16)
    step = _step(cutoff)
    for reach in iter_reach(net, carriers, radius=cutoff, max_bytes=_REACH_BYTES):
        row = np.repeat(reach.origins, reach.sizes)  # origins are positions in carriers
        col = position[reach.nodes]
        keep = col >= row  # non-carriers have -1
        row, col = row[keep], col[keep]
        matrix[_condensed_index(row, col, n)] = np.rint(reach.distances[keep] / step)
    return matrix


def _renumbered(snap: Snap, position: np.ndarray) -> Snap:
    """Return the snaps with matrix positions for node positions (invalid points get 0)."""
    return _renumbered_ends(snap, np.where(snap.on_network, position[snap.u], 0),
                            np.where(snap.on_network, position[snap.v], 0))


def _renumbered_ends(snap: Snap, u: np.ndarray, v: np.ndarray) -> Snap:
    """Return the snaps with the given positions for their edge ends (for a column subset)."""
    return dataclasses.replace(snap, u=u, v=v)


def _snap_arrays(snap: Snap) -> SnapArrays:
    """Return the arrays of snaps (ends as matrix positions) that the compiled counts read."""
    return (snap.u.astype(np.int64), snap.v.astype(np.int64),
            snap.cost_u.astype(np.float64), snap.cost_v.astype(np.float64),
            np.where(snap.valid, snap.edge, -1).astype(np.int64),
            snap.along.astype(np.float64), snap.distance.astype(np.float64))


def _require_on_network(snap: Snap, what: str, snap_max_m: float | None) -> None:
    off = np.flatnonzero(~snap.on_network)
    if len(off):
        rows = ", ".join(f"{int(r)} ({snap.distance[r]:.0f} m)" for r in off[:10])
        limit = "snap_max_m" if snap_max_m is None else f"{snap_max_m:g} m"
        raise ValueError(f"{what}: {len(off)} point(s) farther than {limit} from the walking "
                         f"network (rows {rows}); network distances would be straight-line "
                         "guesses: drop them or use distance='euclidean'")
