"""Per-space walking metrics: nearest stops, stops, places and residents within reach, buzz.

Column names (built by :func:`cwsgeo.schema.metric_column`) are listed in
:mod:`cwsgeo.analysis.proximity`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ... import settings
from ...schema import metric_column
from ..network import Snap, WalkNetwork, nearest_distances, nodes_in_range, snap_points
from ._common import (
    as_gdf,
    chunks,
    euclid,
    progress_bar,
    snap_xy,
    space_ids,
    speed_m_per_min,
    whole_minutes,
)
from .residents import Residents
from .targets import SnappedTargets, snap_places, snap_stops

__all__ = ["buzz_decay", "places_metrics", "residents_metrics", "space_metrics",
           "transit_metrics"]


def buzz_decay(distance_m: np.ndarray | float, *, full_m: float = 400.0,
               zero_m: float = 1600.0) -> np.ndarray:
    """Distance-decay weight of the local buzz score.

    1 up to ``full_m``, 0 from ``zero_m``, and ``1 - 3s² + 2s³`` in between with
    ``s = (d - full_m) / (zero_m - full_m)`` (a smooth, monotone fall with zero slope at both
    anchors). Defaults are Walk Score's anchors: a quarter mile and one mile.

    Parameters
    ----------
    distance_m
        Walking distances in metres (``inf``/NaN give 0).
    full_m, zero_m
        Anchor distances in metres (``0 <= full_m < zero_m``).

    Returns
    -------
    numpy.ndarray
        Weights in [0, 1].
    """
    if not 0 <= full_m < zero_m:
        raise ValueError(f"need 0 <= full_m < zero_m, got {full_m}, {zero_m}")
    d = np.asarray(distance_m, dtype=float)
    s = np.clip((d - full_m) / (zero_m - full_m), 0.0, 1.0)
    w = 1.0 - 3.0 * s ** 2 + 2.0 * s ** 3
    return np.where(np.isfinite(d), w, 0.0)


def space_metrics(spaces: gpd.GeoDataFrame, net: WalkNetwork, *,
                  stops: gpd.GeoDataFrame | SnappedTargets | None = None,
                  places: gpd.GeoDataFrame | SnappedTargets | None = None,
                  residents: Residents | None = None,
                  minutes: Sequence[int] | None = None,
                  stop_minutes: Sequence[int] = (5, 10),
                  modes: Sequence[str] | None = None,
                  categories: Sequence[str] | None = None,
                  category_weights: Mapping[str, float] | None = None,
                  buzz_full_min: float = 5.0, buzz_zero_min: float = 20.0,
                  walk_speed_kmh: float | None = None, snap_max_m: float | None = None,
                  chunk_size: int = 128, progress: bool = False) -> pd.DataFrame:
    """All walking metrics of each space: transit, places, residents, and the method used.

    Parameters
    ----------
    spaces
        Coworking spaces (points; any CRS) with unique ids in an ``id`` column (or an index
        named ``id``). Rows without geometry get NA values.
    net
        The walking network.
    stops
        Transit stops with a ``mode`` column (values in :data:`cwsgeo.schema.TRANSIT_MODES`)
        and ``name``, or the same already snapped by :func:`snap_stops` (to reuse them).
    places
        Places with a ``category`` column (values in :data:`cwsgeo.schema.PLACE_CATEGORIES`),
        or the same already snapped by :func:`snap_places`.
    residents
        From :func:`allocate_residents` on the same network.
    minutes
        Thresholds for places and residents (default :data:`cwsgeo.settings.walk_minutes`).
    stop_minutes
        Thresholds for stop counts.
    modes
        Transit modes to report (default :data:`cwsgeo.schema.TRANSIT_MODES` plus any other
        mode present; with snapped stops, the modes they were snapped with).
    categories
        Place categories to report (default :data:`cwsgeo.schema.PLACE_CATEGORIES` plus any
        other present; with snapped places, the categories they were snapped with).
    category_weights
        Weights of categories in ``places_buzz`` (default 1 each).
    buzz_full_min, buzz_zero_min
        Anchors of the buzz decay in walking minutes (see :func:`buzz_decay`).
    walk_speed_kmh
        Walking speed (default :data:`cwsgeo.settings.walk_speed_kmh`).
    snap_max_m
        Spaces and targets farther than this from the network use straight lines
        (default :data:`cwsgeo.settings.snap_max_m`).
    chunk_size
        Spaces per batch (memory ~ ``chunk_size * n_nodes * 16`` bytes).
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Indexed by the space ids (index ``id``, in the rows' order); columns listed in the
        module docs. Join it to the spaces with ``spaces.join(metrics, on="id")``.

    Notes
    -----
    Spaces on the network are measured in batches of nearby spaces (Morton order): one
    bounded search per space (:func:`~cwsgeo.analysis.network.nodes_in_range`, radius the
    farthest threshold or buzz anchor), then only the targets a batch can reach (an edge end
    reached, on a space's own edge, or off the network) and the nodes it reached are looked
    at, so the work follows what each space reaches, not the size of the city. Counts are
    exact; float sums (``places_buzz``, ``residents_*``) may differ from another summation
    order, or from distances built in another order (``dijkstra`` rows plus the point's
    costs), in the last bits: on the bundle with 28,900 spaces at most ``3e-13`` relative
    for the buzz and ``2e-15`` for residents.
    """
    spaces = as_gdf(spaces, "spaces")
    ids = space_ids(spaces)
    speed = speed_m_per_min(walk_speed_kmh)
    th = _Thresholds(speed, whole_minutes(minutes, settings.walk_minutes),
                     whole_minutes(stop_minutes, (5, 10)), buzz_full_min * speed,
                     buzz_zero_min * speed)
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    if residents is not None:
        residents.check(net)
    stops_t = (None if stops is None else
               snap_stops(net, stops, modes=modes, snap_max_m=snap_max_m))
    by_mode = ({} if stops_t is None else
               {mode: stops_t.only(mode) for mode in stops_t.columns})
    place_t = (None if places is None else
               snap_places(net, places, categories=categories, snap_max_m=snap_max_m))
    cat_w = None if place_t is None else _category_weights(place_t.columns, category_weights)
    limit = th.limit(bool(by_mode), place_t is not None, residents is not None)
    nearest = {mode: _nearest_stop_columns(net, snap, tg, mode, speed)
               for mode, tg in by_mode.items()}
    counts = _empty_counts(len(snap), list(by_mode), place_t, residents is not None, th)
    if counts:
        with progress_bar(len(snap), "space metrics", progress) as bar:
            for rows_idx in _batches(net, snap, chunk_size):
                _count_batch(counts, rows_idx, net, snap, limit, stops_t, place_t, cat_w,
                             residents, th)
                bar.update(len(rows_idx))
    return _metrics_frame(ids, snap, nearest, counts, th)


def _count_batch(counts: dict[str, np.ndarray], rows_idx: np.ndarray, net: WalkNetwork,
                 snap: Snap, limit: float, stops_t: SnappedTargets | None,
                 place_t: SnappedTargets | None, cat_w: np.ndarray | None,
                 residents: Residents | None, th: _Thresholds) -> None:
    """Add one batch of spaces' stops, places and residents within reach to ``counts``.

    The stops of every mode are measured in one pass (each stop's distance is its own, so
    the counts are those of one pass per mode).
    """
    sub = snap.subset(rows_idx)
    node_dist, nodes, col_of = _batch_node_distances(net, sub, limit)
    reached = col_of < len(nodes)
    own = np.zeros(net.n_edges + 1, bool)  # the batch's own edges, shifted by one (-1: none)
    own[sub.edge[sub.valid] + 1] = True
    if stops_t is not None and stops_t.columns:
        near = _reachable(stops_t, sub, reached, own, far_m=max(th.stop_minutes) * th.speed)
        d = _on_columns(near, col_of).distances_from(node_dist, sub)
        _count_stops(counts, rows_idx, d, near, th)
    if place_t is not None and cat_w is not None:
        near = _reachable(place_t, sub, reached, own)
        d = _on_columns(near, col_of).distances_from(node_dist, sub)
        _count_places(counts, rows_idx, d, near, cat_w, th)
    if residents is not None:
        _count_residents(counts, rows_idx, node_dist[:, :len(nodes)], sub, residents, net, th,
                         nodes)


@dataclass(frozen=True)
class _Thresholds:
    """Walking speed (m/min), thresholds in minutes and the buzz anchors in metres."""

    speed: float
    minutes: tuple[int, ...]
    stop_minutes: tuple[int, ...]
    buzz_full_m: float
    buzz_zero_m: float

    def limit(self, stops: bool, places: bool, residents: bool) -> float:
        """Search radius in metres: the farthest distance any requested metric looks at."""
        limit = 0.0
        if stops:
            limit = max(limit, max(self.stop_minutes) * self.speed)
        if residents or places:
            limit = max(limit, max(self.minutes) * self.speed)
        if places:
            limit = max(limit, self.buzz_zero_m)
        return limit


def _category_weights(cats: Sequence[str],
                      category_weights: Mapping[str, float] | None) -> np.ndarray:
    """Buzz weight of each category (default 1); unknown categories are an error."""
    if category_weights:
        unknown = set(category_weights) - set(cats)
        if unknown:
            raise ValueError(f"category_weights for unknown categories: {sorted(unknown)}")
    return np.array([float((category_weights or {}).get(c, 1.0)) for c in cats])


def _empty_counts(n: int, modes: list[str], place_t: SnappedTargets | None, residents: bool,
                  th: _Thresholds) -> dict[str, np.ndarray]:
    """Zeroed count columns in output order: stops by mode, places, buzz, residents."""
    names: list[str] = []
    for mode in modes:
        names += [metric_column(mode, "stops", minutes=m) for m in th.stop_minutes]
    if place_t is not None:
        for m in th.minutes:
            names += [metric_column("places", c, minutes=m) for c in place_t.columns]
            names.append(metric_column("places", "total", minutes=m))
        names.append(metric_column("places", "buzz"))
    if residents:
        names += [metric_column("residents", minutes=m) for m in th.minutes]
    return {name: np.zeros(n) for name in names}


def _batches(net: WalkNetwork, snap: Snap, size: int) -> Iterator[np.ndarray]:
    """Yield blocks of at most ``size`` spaces: first those on the network, then the others.

    Spaces on the network go in Morton order of their edge's first node, so each block
    covers a compact area and reaches few targets.
    """
    rank = np.empty(net.n_nodes, np.int64)
    rank[net.spatial_order] = np.arange(net.n_nodes)
    on = snap.valid & snap.on_network
    on_rows = np.flatnonzero(on)
    on_rows = on_rows[np.argsort(rank[snap.u[on_rows]], kind="stable")]
    others = np.flatnonzero(~on)
    for rows in (on_rows, others):
        for block in chunks(len(rows), size):
            yield rows[block]


def _batch_node_distances(net: WalkNetwork, sub: Snap,
                          limit: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return a batch's node distances within ``limit``, on the columns of the nodes reached.

    Distances come from the bounded engine. Returns ``(node_dist, nodes, col_of)``: the
    nodes any space of the batch reached (ascending), ``node_dist`` of shape
    ``(len(sub), len(nodes) + 1)`` whose column ``k`` is node ``nodes[k]`` and whose last
    column is ``inf`` (rows of ``inf`` for spaces off the network), and ``col_of``, each
    node's column (the last one for the nodes no space reached).
    """
    net_rows = np.flatnonzero(sub.valid & sub.on_network)
    reached = np.zeros(net.n_nodes, bool)
    reach = (nodes_in_range(net, sub.subset(net_rows), radius=limit) if len(net_rows)
             else None)
    if reach is not None:
        reached[reach.nodes] = True
    nodes = np.flatnonzero(reached)
    col_of = np.full(net.n_nodes, len(nodes), np.int64)
    col_of[nodes] = np.arange(len(nodes))
    node_dist = np.full((len(sub), len(nodes) + 1), np.inf)
    if reach is not None:
        node_dist[np.repeat(net_rows, reach.sizes), col_of[reach.nodes]] = reach.distances
    return node_dist, nodes, col_of


def _on_columns(tg: SnappedTargets, col_of: np.ndarray) -> SnappedTargets:
    """Return ``tg`` with its edge ends renumbered as columns of the batch's node distances."""
    s = dataclasses.replace(tg.snap, u=col_of[tg.snap.u], v=col_of[tg.snap.v])
    return dataclasses.replace(tg, snap=s)


def _reachable(tg: SnappedTargets, sub: Snap, reached: np.ndarray, own: np.ndarray,
               far_m: float | None = None) -> SnappedTargets:
    """Return the targets a batch of spaces may reach within its search radius.

    All of them when a space is off the network; else those off the network, those with an
    edge end reached and those on a space's own edge (``own``: a mask of the edges, shifted
    by one, that the batch's spaces lie on; the direct walk along it). The others
    are beyond the radius (their distances would be ``inf``). With ``far_m`` (for counts
    only: a float sum would add its terms in another order), targets off the network
    farther than ``far_m`` in a straight line from the batch's bounding box are left out
    too (their distances would exceed ``far_m``).
    """
    if (sub.valid & ~sub.on_network).any():
        return tg
    s = tg.snap
    off = ~s.on_network
    if far_m is not None and off.any() and sub.valid.any():
        x, y = sub.x[sub.valid], sub.y[sub.valid]
        off &= ((s.x >= x.min() - far_m) & (s.x <= x.max() + far_m)
                & (s.y >= y.min() - far_m) & (s.y <= y.max() + far_m))
    keep = s.valid & (off | reached[s.u] | reached[s.v] | own[s.edge + 1])
    return tg if keep.all() else tg.subset(np.flatnonzero(keep))


def _count_stops(counts: dict[str, np.ndarray], rows_idx: np.ndarray, d: np.ndarray,
                 stops_t: SnappedTargets, th: _Thresholds) -> None:
    """Count the stops of each mode within each threshold (one-hot weights: whole sums)."""
    for m in th.stop_minutes:
        by_mode = (d <= m * th.speed).astype(np.float64) @ stops_t.weights
        for j, mode in enumerate(stops_t.columns):
            counts[metric_column(mode, "stops", minutes=m)][rows_idx] = by_mode[:, j]


def _count_places(counts: dict[str, np.ndarray], rows_idx: np.ndarray, d: np.ndarray,
                  place_t: SnappedTargets, cat_w: np.ndarray, th: _Thresholds) -> None:
    """Places within each threshold by category and in total, and the buzz, of a batch.

    One compiled pass over the distances tallies each pair within reach by (row, category,
    first threshold it is within); the thresholds are cumulative sums of those tallies (the
    weights are one-hot, so these are the same integers as the weighted sums). The buzz is
    the decay matrix times the category weights as before, its decay computed only where it
    is neither 1 nor 0.
    """
    from ._kernels import tally_within

    w = place_t.weights
    cat = np.where(w.any(axis=1), w.argmax(axis=1), len(place_t.columns))
    d = np.ascontiguousarray(d)
    decay = np.zeros_like(d)
    tally, mid = tally_within(d, cat, len(place_t.columns),
                              np.array([m * th.speed for m in th.minutes]), th.buzz_full_m,
                              th.buzz_zero_m, decay)
    within = np.cumsum(tally, axis=2)
    for j, m in enumerate(th.minutes):
        for k, name in enumerate(place_t.columns):
            counts[metric_column("places", name, minutes=m)][rows_idx] = within[:, k, j]
        counts[metric_column("places", "total", minutes=m)][rows_idx] = \
            within[:, :, j].sum(axis=1)
    np.put(decay, mid, buzz_decay(np.take(d, mid), full_m=th.buzz_full_m,
                                  zero_m=th.buzz_zero_m))
    counts[metric_column("places", "buzz")][rows_idx] = decay @ (w @ cat_w)


def _count_residents(counts: dict[str, np.ndarray], rows_idx: np.ndarray, node_dist: np.ndarray,
                     sub: Snap, residents: Residents, net: WalkNetwork, th: _Thresholds,
                     nodes: np.ndarray) -> None:
    line_rows = np.flatnonzero(sub.valid & ~sub.on_network)
    node_xy = np.column_stack([net.x, net.y])
    for m in th.minutes:
        counts[metric_column("residents", minutes=m)][rows_idx] = residents.within(
            node_dist, snap_xy(sub), m * th.speed, line_rows=line_rows, node_xy=node_xy,
            nodes=nodes)


def _metrics_frame(index: pd.Index, snap: Snap, nearest: dict[str, dict[str, np.ndarray]],
                   counts: dict[str, np.ndarray], th: _Thresholds) -> pd.DataFrame:
    """Columns in a stable order (transit by mode, then places, then residents), NA rows."""
    ordered: dict[str, Any] = {"snap_m": np.where(snap.valid, snap.distance, np.nan),
                               "proximity_method": snap.method}
    for mode, cols in nearest.items():
        stop = metric_column(mode, "nearest", "stop")
        ordered.update({name: values for name, values in cols.items() if name != stop})
        for m in th.stop_minutes:
            name = metric_column(mode, "stops", minutes=m)
            ordered[name] = counts[name]
        ordered[stop] = cols[stop]
    if nearest:
        ordered.update(_any_transit_columns(nearest, th.speed))
    for name, values in counts.items():
        if name not in ordered:
            ordered[name] = values
    frame = pd.DataFrame(ordered, index=index)
    invalid = ~snap.valid
    if invalid.any():  # rows without geometry: NA values
        numeric = frame.columns.difference(["proximity_method"])
        frame.loc[invalid, numeric] = np.nan
    for col in frame.columns:
        if col.endswith("min") and ("_stops_" in col or col.startswith("places_")):
            frame[col] = frame[col].round().astype("Int64")
    frame["proximity_method"] = frame["proximity_method"].astype("string")
    return frame


def _any_transit_columns(nearest: dict[str, dict[str, np.ndarray]],
                         speed: float) -> dict[str, np.ndarray]:
    """``transit_any_*``: the nearest stop of any mode, in a straight line and on foot."""
    line = np.column_stack([cols[metric_column(m, "line", unit="m")]
                            for m, cols in nearest.items()])
    walk = np.column_stack([cols[metric_column(m, "walk", unit="m")]
                            for m, cols in nearest.items()])
    with np.errstate(all="ignore"):
        any_line = np.where(np.isnan(line).all(axis=1), np.nan, np.nanmin(
            np.where(np.isnan(line), np.inf, line), axis=1))
        any_walk = np.where(np.isnan(walk).all(axis=1), np.nan, np.nanmin(
            np.where(np.isnan(walk), np.inf, walk), axis=1))
    return {metric_column("transit", "any", "line", unit="m"): any_line,
            metric_column("transit", "any", "walk", unit="m"): any_walk,
            metric_column("transit", "any", "walk", unit="min"): any_walk / speed}


def _nearest_stop_columns(net: WalkNetwork, snap: Snap, tg: SnappedTargets, mode: str,
                          speed: float) -> dict[str, np.ndarray]:
    """Nearest stop of one mode from every space: straight line and on foot."""
    from scipy.spatial import cKDTree

    n = len(snap)
    line = np.full(n, np.nan)
    walk = np.full(n, np.nan)
    name = np.full(n, None, dtype=object)
    valid_t = np.flatnonzero(tg.snap.valid)
    if len(valid_t) and snap.valid.any():
        vs = np.flatnonzero(snap.valid)
        d_line, i_line = cKDTree(snap_xy(tg.snap)[valid_t]).query(snap_xy(snap)[vs])
        line[vs] = d_line
        # default (straight-line spaces): the nearest stop in a straight line
        walk[vs] = d_line
        name[vs] = tg.labels[valid_t[i_line]] if tg.labels is not None else None
        on_s = np.flatnonzero(snap.valid & snap.on_network)
        if len(on_s):
            best, best_i = _nearest_on_foot(net, snap, on_s, tg)
            walk[on_s] = np.where(np.isfinite(best), best, np.nan)
            if tg.labels is not None:
                name[on_s] = np.where(best_i >= 0, tg.labels[np.maximum(best_i, 0)], None)
    return {metric_column(mode, "line", unit="m"): line,
            metric_column(mode, "walk", unit="m"): walk,
            metric_column(mode, "walk", unit="min"): walk / speed,
            metric_column(mode, "nearest", "stop"): name}


def _nearest_on_foot(net: WalkNetwork, snap: Snap, on_s: np.ndarray,
                     tg: SnappedTargets) -> tuple[np.ndarray, np.ndarray]:
    """Return the walk to the nearest stop, and its position, for the spaces ``on_s``."""
    best = np.full(len(on_s), np.inf)
    best_i = np.full(len(on_s), -1, dtype=np.int64)
    if len(tg.on):
        best, best_i = _nearest_over_network(net, snap, on_s, tg)
    t_off = tg.off
    if len(t_off):
        ax, ay, bx, by = snap.x[on_s], snap.y[on_s], tg.snap.x[t_off], tg.snap.y[t_off]
        k = _nearest_straight(ax, ay, bx, by)
        dk = np.hypot(ax - bx[k], ay - by[k])
        better = dk < best
        best[better], best_i[better] = dk[better], t_off[k[better]]
    return best, best_i


def _nearest_straight(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                      k: int = 8) -> np.ndarray:
    """Position of the nearest point b to each point a: ``argmin`` of :func:`euclid`'s rows.

    A k-d tree proposes the ``k`` nearest; among those within a hair of the nearest, the
    smallest ``hypot`` wins and, on a tie, the first position (as ``argmin`` would). Rows
    whose ``k`` proposals are all within that hair (more ties) are measured to every b.
    """
    from scipy.spatial import cKDTree

    k = min(k, len(bx))
    tree_d, idx = cKDTree(np.column_stack([bx, by])).query(np.column_stack([ax, ay]), k=k)
    tree_d, idx = tree_d.reshape(len(ax), k), idx.reshape(len(ax), k)
    near = tree_d <= tree_d[:, :1] * (1 + 1e-9) + 1e-9
    d = np.where(near, np.hypot(ax[:, None] - bx[idx], ay[:, None] - by[idx]), np.inf)
    out = np.where(d == d.min(axis=1, keepdims=True), idx, len(bx)).min(axis=1)
    crowded = np.flatnonzero(near[:, -1]) if k < len(bx) else np.zeros(0, np.int64)
    if len(crowded):
        out[crowded] = np.argmin(euclid(ax[crowded], ay[crowded], bx, by), axis=1)
    return out


def _nearest_over_network(net: WalkNetwork, snap: Snap, on_s: np.ndarray,
                          tg: SnappedTargets) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source search from the stops on the network, plus same-segment walks."""
    t_on = tg.on
    field, nearest = nearest_distances(net, tg.snap.subset(t_on), return_nearest=True)
    du = snap.cost_u[on_s] + field[snap.u[on_s]]
    dv = snap.cost_v[on_s] + field[snap.v[on_s]]
    best = np.minimum(du, dv)
    via = np.where(du <= dv, nearest[snap.u[on_s]], nearest[snap.v[on_s]])
    best_i = np.where(via >= 0, t_on[np.maximum(via, 0)], -1)
    # a stop on the space's own segment: direct walk along it
    o_edge = snap.edge[on_s]
    for j in np.flatnonzero(np.isin(o_edge, tg.snap.edge[t_on])):
        same = t_on[tg.snap.edge[t_on] == o_edge[j]]
        direct = (np.abs(tg.snap.along[same] - snap.along[on_s[j]])
                  + tg.snap.distance[same] + snap.distance[on_s[j]])
        k = int(np.argmin(direct))
        if direct[k] < best[j]:
            best[j], best_i[j] = direct[k], same[k]
    return best, best_i


def transit_metrics(spaces: gpd.GeoDataFrame, stops: gpd.GeoDataFrame | SnappedTargets,
                    net: WalkNetwork,
                    **kwargs: Any) -> pd.DataFrame:
    """Nearest stop per transit mode and stops within walking thresholds of each space.

    Columns ``{mode}_line_m``, ``{mode}_walk_m``, ``{mode}_walk_min``,
    ``{mode}_stops_{t}min``, ``{mode}_nearest_stop`` and ``transit_any_*`` (see the module
    docs), plus ``snap_m`` and ``proximity_method``. Keyword arguments as for
    :func:`space_metrics` (``stop_minutes``, ``modes``, ``walk_speed_kmh``, ``snap_max_m`` …).
    A station listed once per line counts once per line.
    """
    return space_metrics(spaces, net, stops=stops, **kwargs)


def places_metrics(spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame | SnappedTargets,
                   net: WalkNetwork,
                   **kwargs: Any) -> pd.DataFrame:
    """Places within walking thresholds of each space, by category, and the local buzz.

    Columns ``places_{category}_{t}min``, ``places_total_{t}min``, ``places_buzz``, plus
    ``snap_m`` and ``proximity_method``. Keyword arguments as for :func:`space_metrics`
    (``minutes``, ``categories``, ``category_weights``, ``buzz_full_min``,
    ``buzz_zero_min`` …).
    """
    return space_metrics(spaces, net, places=places, **kwargs)


def residents_metrics(spaces: gpd.GeoDataFrame, residents: Residents, net: WalkNetwork,
                      **kwargs: Any) -> pd.DataFrame:
    """Residents within walking thresholds of each space ("proximity to home").

    Columns ``residents_{t}min``, ``snap_m`` and ``proximity_method``. Keyword arguments as
    for :func:`space_metrics` (``minutes``, ``walk_speed_kmh``, ``snap_max_m`` …).
    """
    return space_metrics(spaces, net, residents=residents, **kwargs)
