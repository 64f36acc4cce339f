"""Bilateral distances for the K-density (:mod:`.kd`): straight line, a callable, the network.

One *engine* per distance kind holds every point the test will ever need — the observed sites
first, then the reference set — and answers two questions for a selection of them:
``within(idx)``, the condensed pairwise distances among the selected points (``i < j``), and
``cross(idx)``, the distances from each selected point to a fixed second set ``b``
(row-major, ``len(idx) * len(b)`` values). Distances beyond :attr:`cutoff` may come back as
``inf`` or as their true value; the caller ignores everything from the cutoff on.

Network distances (:class:`NetworkDistances`) are walking distances over a
:class:`~cwsgeo.analysis.network.WalkNetwork`: every point is snapped to its nearest street
segment once (:func:`~cwsgeo.analysis.network.snap_points`), and the distance between two
points is ``min`` over their segments' ends of ``cost + d(end, end') + cost'``, or the walk
along a shared segment (:func:`~cwsgeo.analysis.network.to_points`). Two modes:

* ``"matrix"``: one bounded search (limit = the cutoff) from every node that carries a point
  (an end of a snapped segment), kept as a dense ``float32`` matrix over those nodes
  (9,187 nodes of the Barcelona graph: 338 MB); each simulation then only gathers rows.
* ``"search"``: one bounded search per simulation from the ends of the drawn points'
  segments (:func:`~cwsgeo.analysis.network.point_node_distances`), for networks whose matrix
  would not fit in ``max_matrix_bytes``.

Points farther than ``snap_max_m`` from the network are never given straight-line distances:
off-network sites raise, off-network reference points are left out of the draws (and counted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..network import (
    Snap,
    WalkNetwork,
    iter_node_distances,
    point_node_distances,
    snap_points,
    to_points,
)

__all__ = ["CallableDistances", "EuclideanDistances", "NetworkDistances", "as_xy"]

PairFunction = Callable[[np.ndarray, np.ndarray], npt.ArrayLike]


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


class EuclideanDistances:
    """Straight-line distances (``scipy.spatial.distance.pdist`` / ``cdist``)."""

    kind = "euclidean"

    def __init__(self, points: np.ndarray, b: np.ndarray | None = None) -> None:
        self.points, self.b = points, b
        self.cutoff = np.inf
        self.usable = np.ones(len(points), dtype=bool)

    def build(self, cutoff: float) -> None:
        """Nothing to precompute; remember the cutoff."""
        self.cutoff = cutoff

    def within(self, idx: np.ndarray) -> np.ndarray:
        """Condensed pairwise distances among ``points[idx]``."""
        from scipy.spatial.distance import pdist

        return pdist(self.points[idx])

    def cross(self, idx: np.ndarray) -> np.ndarray:
        """Distances from ``points[idx]`` to every point of ``b``, row-major."""
        from scipy.spatial.distance import cdist

        assert self.b is not None
        return cdist(self.points[idx], self.b).ravel()


class CallableDistances(EuclideanDistances):
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


class NetworkDistances:
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

    def build(self, cutoff: float) -> None:
        """Set the search limit and, in matrix mode, compute the node matrix."""
        self.cutoff = float(cutoff)
        ends = [self.snap.u[self.usable], self.snap.v[self.usable]]
        if self.b is not None:
            ends += [self.b.u, self.b.v]
        carriers = np.unique(np.concatenate(ends))
        fits = len(carriers) ** 2 * 4 <= self.max_matrix_bytes
        self.mode = ("matrix" if self.requested_mode == "matrix"
                     or (self.requested_mode == "auto" and fits) else "search")
        if self.mode == "search":
            self.matrix = None
            return
        matrix = np.empty((len(carriers), len(carriers)), dtype=np.float32)
        start = 0
        for batch, dist in iter_node_distances(self.net, carriers, limit=self.cutoff):
            matrix[start:start + len(batch)] = dist[:, carriers]
            start += len(batch)
        position = np.full(self.net.n_nodes, -1, dtype=np.int64)
        position[carriers] = np.arange(len(carriers))
        self.matrix = matrix
        self._csnap = _renumbered(self.snap, position)
        self._cb = None if self.b is None else _renumbered(self.b, position)

    def _rows(self, idx: np.ndarray) -> tuple[np.ndarray, Snap]:
        """Distances from ``points[idx]`` to every column node, and the snaps in column terms."""
        if self.matrix is None or self._csnap is None:
            origins = self.snap.subset(idx)
            return point_node_distances(self.net, origins, limit=self.cutoff), origins
        s = self._csnap.subset(idx)
        rows = np.minimum(self.matrix[s.u] + s.cost_u[:, None].astype(np.float32),
                          self.matrix[s.v] + s.cost_v[:, None].astype(np.float32))
        return rows, s

    def within(self, idx: np.ndarray) -> np.ndarray:
        """Condensed pairwise walking distances among ``points[idx]``."""
        if self.matrix is None or self._csnap is None:
            rows, s = self._rows(idx)
            full = to_points(rows, s, origins=s)
        else:  # only the columns of the selected points' edge ends are gathered
            s = self._csnap.subset(idx)
            ends, inverse = np.unique(np.concatenate([s.u, s.v]), return_inverse=True)
            m = self.matrix
            rows = np.minimum(m[np.ix_(s.u, ends)] + s.cost_u[:, None].astype(np.float32),
                              m[np.ix_(s.v, ends)] + s.cost_v[:, None].astype(np.float32))
            local = _renumbered_ends(s, inverse[:len(idx)], inverse[len(idx):])
            full = to_points(rows, local, origins=local)
        return full[np.triu_indices(len(idx), k=1)]

    def cross(self, idx: np.ndarray) -> np.ndarray:
        """Return walking distances from ``points[idx]`` to every point of ``b``, row-major."""
        assert self.b is not None
        rows, s = self._rows(idx)
        targets = self.b if self._cb is None or self.matrix is None else self._cb
        return to_points(rows, targets, origins=s).ravel()


def _renumbered(snap: Snap, position: np.ndarray) -> Snap:
    """Return the snaps with matrix positions for node positions (invalid points get 0)."""
    fields = {f: getattr(snap, f) for f in snap.__dataclass_fields__}
    fields["u"] = np.where(snap.on_network, position[snap.u], 0)
    fields["v"] = np.where(snap.on_network, position[snap.v], 0)
    return Snap(**fields)


def _renumbered_ends(snap: Snap, u: np.ndarray, v: np.ndarray) -> Snap:
    """Return the snaps with the given positions for their edge ends (for a column subset)."""
    fields = {f: getattr(snap, f) for f in snap.__dataclass_fields__}
    fields["u"], fields["v"] = u, v
    return Snap(**fields)


def _require_on_network(snap: Snap, what: str, snap_max_m: float | None) -> None:
    off = np.flatnonzero(~snap.on_network)
    if len(off):
        rows = ", ".join(f"{int(r)} ({snap.distance[r]:.0f} m)" for r in off[:10])
        limit = "snap_max_m" if snap_max_m is None else f"{snap_max_m:g} m"
        raise ValueError(f"{what}: {len(off)} point(s) farther than {limit} from the walking "
                         f"network (rows {rows}); network distances would be straight-line "
                         "guesses: drop them or use distance='euclidean'")
