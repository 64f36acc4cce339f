"""Walking areas: each space's reach within some minutes as a polygon, for maps."""

from __future__ import annotations

import itertools
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ..network import Reach, Snap, WalkNetwork, iter_reach, snap_points
from ..network.model import concat_ranges
from ._common import as_gdf, space_ids, speed_m_per_min

__all__ = ["walk_areas"]

#: Fewest hulls worth a thread of their own.
_HULLS_PER_THREAD = 64

#: Memory for one batch of reached nodes (the pieces built from them take ~8 times more).
_AREA_BATCH_BYTES = 4 * 2**20


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
    Spaces at the same point share one search and one polygon. The reached nodes come from
    the bounded engine (:func:`~cwsgeo.analysis.network.iter_reach`, memory-bounded
    batches) and every batch's polygons are built by vectorised shapely calls (the hulls on
    as many threads as numba uses: ``NUMBA_NUM_THREADS``).

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
    line = np.flatnonzero(snap.valid & ~snap.on_network)
    geoms[line] = shapely.buffer(shapely.points(snap.x[line], snap.y[line]), radius,
                                 quad_segs=32)
    on = np.flatnonzero(snap.valid & snap.on_network)
    if len(on):
        # one search per distinct point (spaces sharing an address share the area)
        _, first, inverse = np.unique(np.column_stack([snap.x[on], snap.y[on]]), axis=0,
                                      return_index=True, return_inverse=True)
        distinct = snap.subset(on[first])
        areas = np.full(len(first), None, dtype=object)
        for reach in iter_reach(net, distinct, radius=radius, max_bytes=_AREA_BATCH_BYTES,
                                progress=progress):
            coords, group = _reached_pieces(net, reach, distinct, method == "hull")
            areas[reach.origins] = _area_polygons(coords, group, method, ratio, buffer_m)
        geoms[on] = areas[inverse.reshape(-1)]
    out = gpd.GeoDataFrame(index=ids, geometry=list(geoms), crs=net.crs)
    out.insert(0, "area_km2", out.geometry.area / 1e6)
    out.insert(0, "proximity_method", pd.array(snap.method, dtype="string"))
    out.insert(0, "minutes", int(minutes))
    return out


def _reached_pieces(net: WalkNetwork, reach: Reach, snap: Snap,
                    hull: bool) -> tuple[np.ndarray, np.ndarray]:
    """Street pieces walked from each origin of ``reach`` (or their ends), and their row.

    Per origin (a point of ``snap``): its own segment around its projection, the link from
    the point to that projection, and from every reached node the part of each leaving
    segment the rest of the walk covers (edges are straight chords): ``(m, 2, 2)`` pieces.
    With ``hull`` (hulls only need the points) ``(m, 1, 2)`` points: the ends of the own
    segment and of the link, every reached node once, and the far end of each piece from a
    reached node whose far end is not itself a reached node: the same set of points as the
    pieces' ends, far fewer repeats.
    """
    radius = reach.radius
    x, y = net.x, net.y
    p = reach.origins
    a, b = snap.u[p], snap.v[p]
    length = np.maximum(snap.cost_u[p] + snap.cost_v[p] - 2 * snap.distance[p], 1e-9)
    t0 = snap.along[p] / length
    rest = np.maximum(radius - snap.distance[p], 0.0)
    t_lo, t_hi = np.maximum(t0 - rest / length, 0.0), np.minimum(t0 + rest / length, 1.0)

    def along(t: np.ndarray) -> np.ndarray:
        return np.column_stack([x[a] + t * (x[b] - x[a]), y[a] + t * (y[b] - y[a])])

    rows = np.arange(len(reach))
    own = [along(t_lo), along(t_hi)]
    link = [np.column_stack([snap.x[p], snap.y[p]]), along(t0)]
    # every edge leaving every reached node, walked as far as the rest of the radius allows
    adj = net.adjacency
    start = adj.indptr[reach.nodes].astype(np.int64)
    degree = adj.indptr[reach.nodes + 1] - start
    slot = concat_ranges(start, degree)
    s = np.repeat(reach.nodes, degree)
    e = adj.indices[slot]
    d_s = np.repeat(reach.distances, degree)
    frac = np.minimum((radius - d_s) / np.maximum(adj.data[slot], 1e-9), 1.0)
    row = np.repeat(np.repeat(rows, reach.sizes), degree)
    if hull:
        # a whole edge with d + length <= radius ends at a node the search reached (it set
        # that node's distance to at most d + length), which is listed as a start
        partial = (frac < 1.0) | (d_s + adj.data[slot] > radius)
        s, e, frac, row = s[partial], e[partial], frac[partial], row[partial]
    sx, sy = x[s], y[s]
    end = np.column_stack([sx + frac * (x[e] - sx), sy + frac * (y[e] - sy)])
    if hull:
        node_xy = np.column_stack([x[reach.nodes], y[reach.nodes]])
        parts = [*own, *link, end, node_xy]
        groups = [rows, rows, rows, rows, row, np.repeat(rows, reach.sizes)]
    else:
        parts = [np.stack(own, axis=1), np.stack(link, axis=1),
                 np.stack([np.column_stack([sx, sy]), end], axis=1)]
        groups = [rows, rows, row]
    group = np.concatenate(groups)
    order = np.argsort(group, kind="stable")
    coords = np.concatenate(parts)[order]
    return coords.reshape(len(coords), -1, 2), group[order]


def _area_polygons(coords: np.ndarray, group: np.ndarray, method: str, ratio: float,
                   buffer_m: float) -> np.ndarray:
    """Concave hulls of each group's points (``"hull"``) or its buffered pieces, in bulk.

    ``coords`` is ``(m, 1, 2)`` points or ``(m, 2, 2)`` pieces (:func:`_reached_pieces`);
    ``group`` is sorted and covers ``0 … n-1``. Geometries are built straight from the
    coordinate arrays (``shapely.from_ragged_array``), with no geometry object per point.
    """
    import shapely

    bounds = np.searchsorted(group, np.arange(group[-1] + 2))
    if method == "edges":
        lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING,
                                          coords.reshape(-1, 2),
                                          (np.arange(0, 2 * len(coords) + 1, 2),))
        pieces = shapely.buffer(lines, buffer_m, quad_segs=4)
        return np.array([shapely.union_all(pieces[a:b]) for a, b in itertools.pairwise(bounds)],
                        dtype=object)
    # the hull of a geometry is the hull of its vertices: one line through each group's
    # points gives GEOS the same points as a MultiPoint without making a Point per vertex
    # (GEOS sorts and dedupes them first, so their order and repeats do not matter). Every
    # point is needed: the hull's edge-length threshold is a ratio between the longest and
    # shortest Delaunay edges, and an emptied interior lets the erosion in. Feeding only the
    # points near the reach's frontier changed 50-80 % of the polygons at 28,900 spaces (IoU
    # down to 0.04); keeping a thinned interior still changed 5-7 % (Hausdorff to 460 m).
    ends = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, coords.reshape(-1, 2),
                                     (coords.shape[1] * bounds,))
    hulls = _concave_hulls(ends, ratio)
    kind = shapely.get_type_id(hulls)
    flat = (kind != 3) & (kind != 6)  # neither Polygon nor MultiPolygon
    hulls[flat] = shapely.buffer(hulls[flat], max(buffer_m, 1.0))
    return hulls


def _concave_hulls(geoms: np.ndarray, ratio: float) -> np.ndarray:
    """``shapely.concave_hull`` of every geometry, in slices on as many threads as numba uses.

    GEOS runs without the GIL, so the slices' hulls are computed side by side; each hull is
    the one a single call would give (the same function on the same geometry).
    """
    import shapely
    from numba import get_num_threads

    n_threads = min(int(get_num_threads()), max(1, len(geoms) // _HULLS_PER_THREAD))
    if n_threads <= 1:
        return np.asarray(shapely.concave_hull(geoms, ratio=ratio))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n_threads) as pool:
        parts = list(pool.map(lambda part: shapely.concave_hull(part, ratio=ratio),
                              np.array_split(geoms, n_threads)))
    return np.concatenate(parts)

