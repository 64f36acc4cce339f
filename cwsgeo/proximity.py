"""Walking proximity of coworking spaces: transit, places, residents, coverage and surfaces.

Every function takes GeoDataFrames (any CRS; they are projected to the network's work CRS,
EPSG:25831) and a :class:`~cwsgeo.network.WalkNetwork`, and returns a DataFrame indexed like its
input. Distances are network walking metres; minutes are metres divided by the walking speed
(``walk_speed_kmh``, default :data:`cwsgeo.settings.walk_speed_kmh` = 4.8 km/h = 80 m/min, so
5/10/15 minutes are 400/800/1,200 m).

Method of every value
---------------------
A space is snapped to its nearest street segment (see :mod:`cwsgeo.network`); its walk to a
target is *space → street (snap distance) → along the network → street → target*, targets
being snapped the same way. A space farther than ``snap_max_m`` (default 300 m) from the
network gets **straight-line** values instead and ``proximity_method = "straight_line"``
(otherwise ``"network"``; missing geometry gives NA values and an NA method). Targets (stops,
places, residents) farther than ``snap_max_m`` from the network are likewise measured in a
straight line from the origin.

Column names
------------
All built by :func:`column_name` (cityseer style: subject, what, unit or threshold):

* transit, per mode in :data:`TRANSIT_MODES`: ``{mode}_line_m`` (straight line to the nearest
  stop), ``{mode}_walk_m``, ``{mode}_walk_min``, ``{mode}_stops_{t}min`` for ``t`` in
  ``stop_minutes`` (default 5, 10), ``{mode}_nearest_stop`` (name of the nearest stop on foot);
  and ``transit_any_line_m``, ``transit_any_walk_m``, ``transit_any_walk_min``.
* places: ``places_{category}_{t}min`` for each category, ``places_total_{t}min`` and
  ``places_buzz`` (below), ``t`` in ``minutes`` (default 5, 10, 15).
* residents: ``residents_{t}min``.
* ``snap_m`` and ``proximity_method``.

Local buzz
----------
``places_buzz = Σ_places weight(category) · decay(walking distance)`` where ``decay`` (see
:func:`buzz_decay`) is 1 up to ``buzz_full_min`` (default 5 min = 400 m), 0 beyond
``buzz_zero_min`` (default 20 min = 1,600 m) and falls smoothly in between along the cubic
``1 - 3s² + 2s³`` (``s`` the position between the two). The anchors are those of the original
Walk Score (full points within a quarter mile, none beyond one mile; its exact polynomial is
proprietary). Category weights default to 1, so the score reads as "the number of places, each
counted fully when within 5 minutes"; pass ``category_weights`` (e.g. ``{"library": 0.5}``)
to change them.

Residents ("proximity to home")
-------------------------------
:func:`allocate_residents` puts each census section's population on the network; see its
docstring. Residents reached are summed over the network nodes reached.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from . import settings
from ._cache import remember
from ._errors import CwsgeoError
from .network import (
    Snap,
    WalkNetwork,
    iter_node_distances,
    nearest_distances,
    point_node_distances,
    snap_points,
    to_points,
)

logger = logging.getLogger(__name__)

__all__ = [
    "PLACE_CATEGORIES",
    "TRANSIT_MODES",
    "Residents",
    "accessibility_surface",
    "allocate_residents",
    "buzz_decay",
    "column_name",
    "coverage",
    "places_metrics",
    "residents_metrics",
    "space_metrics",
    "summarize_by_type",
    "transit_metrics",
    "walk_areas",
]

#: Transit modes of the transit layer, in column order.
TRANSIT_MODES: tuple[str, ...] = ("metro", "tram", "fgc", "rodalies", "bus", "funicular")

#: Place categories of the places layer, in column order.
PLACE_CATEGORIES: tuple[str, ...] = (
    "cafe", "bar", "restaurant", "terrace", "culture_venue", "library", "civic_centre",
    "community_centre", "nightclub")

_INF = np.inf


# ---------------------------------------------------------------------------------------------
# Names and small helpers
# ---------------------------------------------------------------------------------------------
def column_name(subject: str, *parts: str, unit: str | None = None,
                minutes: int | None = None) -> str:
    """Build a metric column name: subject, parts, then the unit or the threshold.

    Parameters
    ----------
    subject
        What is measured, e.g. ``"metro"``, ``"places"``, ``"residents"``.
    *parts
        Further words, e.g. ``"walk"``, ``"stops"``, a place category.
    unit
        Unit suffix (``"m"``, ``"min"``).
    minutes
        Walking-time threshold, written ``{minutes}min``.

    Returns
    -------
    str

    Examples
    --------
    >>> column_name("metro", "walk", unit="m")
    'metro_walk_m'
    >>> column_name("metro", "stops", minutes=5)
    'metro_stops_5min'
    >>> column_name("residents", minutes=10)
    'residents_10min'
    """
    if unit is not None and minutes is not None:
        raise ValueError("give either unit or minutes, not both")
    words = [subject, *parts]
    if unit is not None:
        words.append(unit)
    if minutes is not None:
        if int(minutes) != minutes or minutes <= 0:
            raise ValueError(f"minutes must be a positive integer, got {minutes!r}")
        words.append(f"{int(minutes)}min")
    for w in words:
        if not w or not str(w).replace("_", "").isalnum() or str(w) != str(w).lower():
            raise ValueError(f"column name part {w!r} must be lower-case letters/digits/_")
    return "_".join(str(w) for w in words)


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


def _speed_m_per_min(walk_speed_kmh: float | None) -> float:
    kmh = settings.walk_speed_kmh if walk_speed_kmh is None else float(walk_speed_kmh)
    if not kmh > 0:
        raise ValueError(f"walk_speed_kmh must be > 0, got {walk_speed_kmh!r}")
    return kmh * 1000.0 / 60.0


def _minutes(values: Iterable[int] | None, default: Sequence[int]) -> tuple[int, ...]:
    out = tuple(default if values is None else values)
    if not out or any(int(m) != m or m <= 0 for m in out):
        raise ValueError(f"thresholds must be positive whole minutes, got {out!r}")
    return tuple(sorted({int(m) for m in out}))


def _as_gdf(frame: Any, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise ValueError(f"{what} has no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    return frame


def _xy(snap: Snap) -> np.ndarray:
    return np.column_stack([snap.x, snap.y])


def _euclid(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    return np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])


def _within_weights(tree_xy: np.ndarray, weights: np.ndarray, query_xy: np.ndarray,
                    radius: float) -> np.ndarray:
    """Sum of ``weights`` (rows of tree points) within ``radius`` of each query point."""
    weights = np.asarray(weights, dtype=float).reshape(len(tree_xy), -1)
    out = np.zeros((len(query_xy), weights.shape[1]))
    if len(tree_xy) == 0 or len(query_xy) == 0:
        return out
    pairs = cKDTree(query_xy).sparse_distance_matrix(cKDTree(tree_xy), radius,
                                                     output_type="ndarray")
    if len(pairs):
        np.add.at(out, pairs["i"], weights[pairs["j"]])
    return out


# ---------------------------------------------------------------------------------------------
# Targets: stops, places and residents prepared once
# ---------------------------------------------------------------------------------------------
@dataclass
class _Targets:
    """Snapped target points with a weight matrix (one column per category)."""

    snap: Snap
    weights: np.ndarray  # (Q, K)
    columns: list[str]
    labels: np.ndarray | None = None  # e.g. stop names

    @property
    def on(self) -> np.ndarray:
        return np.flatnonzero(self.snap.valid & self.snap.on_network)

    @property
    def off(self) -> np.ndarray:
        return np.flatnonzero(self.snap.valid & ~self.snap.on_network)


def _prepare(net: WalkNetwork, frame: gpd.GeoDataFrame, column: str, keys: Sequence[str],
             snap_max_m: float | None, what: str) -> _Targets:
    """Snap a target layer and one-hot encode ``column`` over ``keys`` (others: all zero).

    Memoised by content (the network's source digest, the layer's geometry and values): a
    rebuild in the same process (``cwsgeo watch``, the build server) that measures one moved
    space does not snap the 10,000 places again.
    """
    frame = _as_gdf(frame, what)
    if column not in frame.columns:
        raise CwsgeoError(f"{what}: missing column {column!r} (have {list(frame.columns)})")
    values = frame[column].astype("string").str.strip().str.lower()
    if not net.source:  # a network without a content description: nothing to key on
        return _prepare_now(net, frame, values, keys, snap_max_m, what)
    h = hashlib.sha256(repr((net.source, net.n_nodes, net.n_edges, str(frame.crs), column,
                             list(keys), snap_max_m)).encode())
    h.update("\x00".join(values.fillna("\x01").tolist()).encode())
    for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
        h.update(wkb or b"\x00")
    return remember(_TARGETS, h.hexdigest(),
                    lambda: _prepare_now(net, frame, values, keys, snap_max_m, what), size=8)


#: Snapped target layers by content (see :func:`_prepare`); read-only once stored.
_TARGETS: dict[str, _Targets] = {}


def _prepare_now(net: WalkNetwork, frame: gpd.GeoDataFrame, values: pd.Series,
                 keys: Sequence[str], snap_max_m: float | None, what: str) -> _Targets:
    codes = pd.Index(list(keys), dtype=object).get_indexer(values.to_numpy(dtype=object))
    matrix = np.zeros((len(frame), len(keys)))
    hit = codes >= 0
    matrix[np.flatnonzero(hit), codes[hit]] = 1.0
    snap = snap_points(net, frame.geometry, snap_max_m=snap_max_m)
    n_bad = int((~snap.valid).sum())
    if n_bad:
        logger.warning("%s: %d rows without a usable geometry are ignored", what, n_bad)
    n_off = int((snap.valid & ~snap.on_network).sum())
    if n_off:
        logger.info("%s: %d of %d lie farther than the snap limit from the network "
                    "(measured in a straight line)", what, n_off, len(frame))
    return _Targets(snap=snap, weights=matrix, columns=list(keys))


def _target_distances(rows: np.ndarray, origins: Snap, targets: _Targets) -> np.ndarray:
    """(B, Q) distances from B origins (network rows for on-network ones) to targets."""
    out = np.full((len(origins), len(targets.snap)), _INF)
    t_on, t_off = targets.on, targets.off
    o_net = np.flatnonzero(origins.valid & origins.on_network)
    o_line = np.flatnonzero(origins.valid & ~origins.on_network)
    tx, ty = targets.snap.x, targets.snap.y
    if len(o_net) and len(t_on):
        out[np.ix_(o_net, t_on)] = to_points(rows[o_net], targets.snap,
                                             origins=origins.subset(o_net), target_index=t_on)
    if len(o_net) and len(t_off):
        out[np.ix_(o_net, t_off)] = _euclid(origins.x[o_net], origins.y[o_net], tx[t_off],
                                            ty[t_off])
    if len(o_line):
        t_all = np.concatenate([t_on, t_off])
        out[np.ix_(o_line, t_all)] = _euclid(origins.x[o_line], origins.y[o_line], tx[t_all],
                                             ty[t_all])
    return out


# ---------------------------------------------------------------------------------------------
# Residents
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Residents:
    """Residents placed on a walking network by :func:`allocate_residents`.

    Attributes
    ----------
    node_residents
        Residents at each network node (positions of the network the allocation used).
    offnet_xy
        ``(m, 2)`` coordinates of residents' points farther than ``snap_max_m`` from the
        network (counted in a straight line).
    offnet_residents
        Residents at those points.
    points
        Every allocation point: ``section_code``, ``residents``, ``source`` (``address``,
        ``address_pip``, ``address_nearest``, ``section_point``), ``snap_m``, ``on_network``,
        geometry (work CRS). Sections spread over their nodes have no points.
    report
        How much population went where (see :func:`allocate_residents`).
    n_nodes, network
        Size and :attr:`~cwsgeo.network.WalkNetwork.source` of the network used.
    """

    node_residents: np.ndarray
    offnet_xy: np.ndarray
    offnet_residents: np.ndarray
    points: gpd.GeoDataFrame
    report: pd.DataFrame
    n_nodes: int
    network: str = ""

    @property
    def total(self) -> float:
        """All residents allocated (network nodes plus off-network points)."""
        return float(self.node_residents.sum() + self.offnet_residents.sum())

    def check(self, net: WalkNetwork) -> None:
        """Raise if this allocation was made on another network."""
        if self.n_nodes != net.n_nodes or (self.network and net.source
                                           and self.network != net.source):
            raise CwsgeoError(f"residents were allocated on another network ({self.n_nodes} "
                              f"nodes, {self.network!r}), not on {net!r}; run "
                              "allocate_residents again")

    def within(self, node_dist: np.ndarray, origin_xy: np.ndarray, radius: float,
               line_rows: np.ndarray | None = None, node_xy: np.ndarray | None = None,
               ) -> np.ndarray:
        """Residents within ``radius`` metres of origins.

        Network nodes count when ``node_dist <= radius`` (rows of node distances); rows listed
        in ``line_rows`` use straight lines to the nodes instead (``node_xy`` needed).
        Off-network residents always count in a straight line from ``origin_xy``.
        """
        reached = (node_dist <= radius).astype(np.float64) @ self.node_residents
        if line_rows is not None and len(line_rows):
            if node_xy is None:
                raise ValueError("node_xy is needed with line_rows")
            reached[line_rows] = _within_weights(node_xy, self.node_residents,
                                                 origin_xy[line_rows], radius)[:, 0]
        if len(self.offnet_residents):
            ok = np.flatnonzero(np.isfinite(origin_xy).all(axis=1))
            reached[ok] += _within_weights(self.offnet_xy, self.offnet_residents,
                                           origin_xy[ok], radius)[:, 0]
        return reached


def _addresses_gdf(addresses: pd.DataFrame, section_col: str, crs: str) -> gpd.GeoDataFrame:
    if isinstance(addresses, gpd.GeoDataFrame):
        gdf = _as_gdf(addresses, "addresses").to_crs(crs)
    else:
        if not {"lat", "lon"} <= set(addresses.columns):
            raise CwsgeoError("addresses need a geometry or lat/lon columns")
        gdf = gpd.GeoDataFrame(
            addresses, geometry=gpd.points_from_xy(pd.to_numeric(addresses["lon"]),
                                                   pd.to_numeric(addresses["lat"])),
            crs=settings.crs_store).to_crs(crs)
    if section_col not in gdf.columns:
        raise CwsgeoError(f"addresses: missing column {section_col!r}")
    return gdf[~(gdf.geometry.is_empty | gdf.geometry.isna())]


def allocate_residents(sections: gpd.GeoDataFrame, addresses: pd.DataFrame, net: WalkNetwork,
                       *, section_col: str = "section_code", population_col: str = "population",
                       address_section_col: str = "census_section",
                       snap_max_m: float | None = None) -> Residents:
    """Put each census section's residents on the walking network, conserving the total.

    Method
    ------
    1. **Address points.** Each address point belongs to its recorded census section
       (``address_section_col``). Points with a blank or unknown code take the section
       polygon that contains them (point in polygon) or, failing that (coast and port
       edges), the nearest polygon.
    2. **Equal split.** A section's population is divided equally among its address points
       (a portal point stands for one building entrance; the padró gives no finer count).
    3. **Sections without address points** spread their population equally over the network
       nodes inside their polygon; with no node inside, it goes to the polygon's
       representative point (always inside the polygon).
    4. **Onto the network.** Each point is snapped to its nearest street segment
       (:func:`cwsgeo.network.snap_points`) and its residents are split between the
       segment's two end nodes in proportion to closeness (``1 - t`` to ``u``, ``t`` to ``v``
       for a point at fraction ``t`` along it). Points farther than ``snap_max_m`` from the
       network (in Barcelona: the Zona Franca and parts of Vallvidrera, which are outside
       the largest connected component) keep their position and are counted in a straight line.

    The sum over nodes and off-network points equals the sum of ``population`` (checked).

    Parameters
    ----------
    sections
        Census sections with ``section_col`` and ``population_col``.
    addresses
        Address points: a GeoDataFrame, or a DataFrame with ``lat``/``lon`` (EPSG:4326),
        with ``address_section_col``.
    net
        The walking network.
    section_col, population_col, address_section_col
        Column names.
    snap_max_m
        Snap limit (default :data:`cwsgeo.settings.snap_max_m`).

    Returns
    -------
    Residents
        With a ``report`` table: one row per step (``stage``, ``item``, ``points``,
        ``sections``, ``residents``, ``share``).
    """
    sections = _as_gdf(sections, "sections").to_crs(net.crs)
    for col in (section_col, population_col):
        if col not in sections.columns:
            raise CwsgeoError(f"sections: missing column {col!r}")
    sec = sections[[section_col, population_col, "geometry"]].copy()
    sec[section_col] = sec[section_col].astype(str).str.strip()
    if sec[section_col].duplicated().any():
        dup = sec.loc[sec[section_col].duplicated(), section_col].tolist()[:5]
        raise CwsgeoError(f"sections: duplicated {section_col} {dup}")
    pop = pd.to_numeric(sec[population_col], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        bad = sec.loc[pop.isna() | (pop < 0), section_col].tolist()[:5]
        raise CwsgeoError(f"sections: {population_col} missing or negative for {bad}")
    sec[population_col] = pop.astype(float)
    total_in = float(sec[population_col].sum())

    addr = _addresses_gdf(addresses, address_section_col, net.crs)
    code = addr[address_section_col].astype("string").str.strip()
    known = code.isin(set(sec[section_col]))
    source = pd.Series(np.where(known, "address", ""), index=addr.index, dtype=object)
    code = code.where(known)
    n_unknown_code = int((~known & code.notna()).sum())
    if (~known).any():
        loose = addr.loc[~known, ["geometry"]]
        hit = gpd.sjoin(loose, sec[[section_col, "geometry"]], how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        inside = hit[section_col].notna()
        code.loc[hit.index[inside]] = hit.loc[inside, section_col]
        source.loc[hit.index[inside]] = "address_pip"
        rest = hit.index[~inside]
        if len(rest):
            near = gpd.sjoin_nearest(addr.loc[rest, ["geometry"]],
                                     sec[[section_col, "geometry"]], how="left")
            near = near[~near.index.duplicated(keep="first")]
            code.loc[near.index] = near[section_col]
            source.loc[near.index] = "address_nearest"
    if n_unknown_code:
        logger.info("addresses: %d codes not among the sections were re-assigned by location",
                    n_unknown_code)

    counts = code.value_counts()
    per_addr = sec.set_index(section_col)[population_col] / counts.reindex(
        sec[section_col]).to_numpy()
    pts = gpd.GeoDataFrame({"section_code": code.to_numpy(),
                            "residents": per_addr.reindex(code.to_numpy()).to_numpy(),
                            "source": source.to_numpy()},
                           geometry=addr.geometry.to_numpy(), crs=net.crs)

    # sections without any address point
    empty = sec[~sec[section_col].isin(counts.index)]
    node_res = np.zeros(net.n_nodes)
    extra_rows = []
    n_nodes_sections = 0
    pop_nodes_sections = 0.0
    if len(empty):
        nodes = net.nodes_gdf()
        inside = gpd.sjoin(nodes[["geometry"]], empty[[section_col, "geometry"]],
                           how="inner", predicate="within")
        inside = inside[~inside.index.duplicated(keep="first")]
        by_sec = inside.groupby(section_col).groups
        for _, row in empty.iterrows():
            sc, p = row[section_col], float(row[population_col])
            if sc in by_sec and len(by_sec[sc]):
                idx = np.asarray(by_sec[sc], dtype=np.int64)
                np.add.at(node_res, idx, p / len(idx))
                n_nodes_sections += 1
                pop_nodes_sections += p
            else:
                extra_rows.append({"section_code": sc, "residents": p,
                                   "source": "section_point",
                                   "geometry": row.geometry.representative_point()})
    if extra_rows:
        pts = pd.concat([pts, gpd.GeoDataFrame(extra_rows, geometry="geometry", crs=net.crs)],
                        ignore_index=True)
    pts = pts[pts["residents"] > 0].reset_index(drop=True) if len(pts) else pts

    snap = snap_points(net, pts.geometry, snap_max_m=snap_max_m)
    pts["snap_m"] = snap.distance
    pts["on_network"] = snap.on_network
    on = snap.on_network
    res = pts["residents"].to_numpy(dtype=float)
    length = np.where(snap.edge >= 0, net.edge_length[np.maximum(snap.edge, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length > 0, snap.along / length, 0.0)
    np.add.at(node_res, snap.u[on], res[on] * (1.0 - t[on]))
    np.add.at(node_res, snap.v[on], res[on] * t[on])
    off_xy = _xy(snap)[~on]
    off_res = res[~on]

    total_out = float(node_res.sum() + off_res.sum())
    if not np.isclose(total_out, total_in, rtol=1e-9, atol=1e-6):
        raise CwsgeoError(f"residents allocation lost people: {total_in:,.1f} in, "
                          f"{total_out:,.1f} out")

    def row(stage: str, item: str, mask: np.ndarray | None, residents: float | None = None,
            n_sections: int | None = None, n_points: int | None = None) -> dict[str, Any]:
        if mask is not None:
            residents = float(res[mask].sum())
            n_points = int(mask.sum())
            n_sections = int(pts.loc[mask, "section_code"].nunique())
        return {"stage": stage, "item": item, "points": n_points, "sections": n_sections,
                "residents": residents, "share": (residents or 0.0) / total_in
                if total_in else np.nan}

    src = pts["source"].to_numpy()
    rows = [
        row("section", "address points, recorded section", src == "address"),
        row("section", "address points, section by point in polygon", src == "address_pip"),
        row("section", "address points, nearest section polygon", src == "address_nearest"),
        row("section", "sections without addresses: their network nodes", None,
            pop_nodes_sections, n_nodes_sections, 0),
        row("section", "sections without addresses: representative point",
            src == "section_point"),
        row("network", "on the network (split between segment ends)", on),
        row("network", "sections without addresses: their network nodes", None,
            pop_nodes_sections, n_nodes_sections, 0),
        row("network", f"farther than {snap_max_m or settings.snap_max_m:g} m from the "
            "network (straight line)", ~on),
        row("total", "population of the sections", None, total_in, len(sec), None),
        row("total", "allocated", None, total_out, len(sec), len(pts)),
    ]
    report = pd.DataFrame(rows).astype({"points": "Int64", "sections": "Int64"})
    logger.info("residents: %.0f allocated; %.0f (%.2f %%) off the network", total_out,
                off_res.sum(), 100 * off_res.sum() / total_in if total_in else 0)
    return Residents(node_residents=node_res, offnet_xy=off_xy, offnet_residents=off_res,
                     points=pts, report=report, n_nodes=net.n_nodes, network=net.source)


# ---------------------------------------------------------------------------------------------
# Per-space metrics
# ---------------------------------------------------------------------------------------------
def _chunks(n: int, size: int) -> Iterable[np.ndarray]:
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size))


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def _stop_labels(stops: gpd.GeoDataFrame) -> np.ndarray:
    for col in ("name", "stop_id"):
        if col in stops.columns:
            return stops[col].astype("string").fillna("").to_numpy(dtype=object)
    return stops.index.astype(str).to_numpy(dtype=object)


def space_metrics(spaces: gpd.GeoDataFrame, net: WalkNetwork, *,
                  stops: gpd.GeoDataFrame | None = None,
                  places: gpd.GeoDataFrame | None = None,
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
        Coworking spaces (points; any CRS). Rows without geometry get NA values.
    net
        The walking network.
    stops
        Transit stops with a ``mode`` column (values in :data:`TRANSIT_MODES`) and ``name``.
    places
        Places with a ``category`` column (values in :data:`PLACE_CATEGORIES`).
    residents
        From :func:`allocate_residents` on the same network.
    minutes
        Thresholds for places and residents (default :data:`cwsgeo.settings.walk_minutes`).
    stop_minutes
        Thresholds for stop counts.
    modes
        Transit modes to report (default :data:`TRANSIT_MODES` plus any other mode present).
    categories
        Place categories to report (default :data:`PLACE_CATEGORIES` plus any other present).
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
        Indexed like ``spaces``; columns listed in the module docs.
    """
    spaces = _as_gdf(spaces, "spaces")
    speed = _speed_m_per_min(walk_speed_kmh)
    mins = _minutes(minutes, settings.walk_minutes)
    smins = _minutes(stop_minutes, (5, 10))
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    out: dict[str, np.ndarray] = {
        "snap_m": np.where(snap.valid, snap.distance, np.nan),
        "proximity_method": snap.method,
    }
    if residents is not None:
        residents.check(net)

    # ---- targets -------------------------------------------------------------------------
    mode_targets: dict[str, _Targets] = {}
    if stops is not None:
        stops = _as_gdf(stops, "stops")
        if "mode" not in stops.columns:
            raise CwsgeoError("stops: missing column 'mode'")
        present = stops["mode"].astype("string").str.strip().str.lower().dropna().unique()
        mode_list = list(modes) if modes is not None else list(TRANSIT_MODES) + sorted(
            set(present) - set(TRANSIT_MODES))
        all_stops = _prepare(net, stops, "mode", mode_list, snap_max_m, "stops")
        labels = _stop_labels(stops)
        for j, mode in enumerate(mode_list):
            sel = np.flatnonzero(all_stops.weights[:, j] > 0)
            mode_targets[mode] = _Targets(snap=all_stops.snap.subset(sel),
                                          weights=np.ones((len(sel), 1)), columns=[mode],
                                          labels=labels[sel])
    place_t: _Targets | None = None
    if places is not None:
        places = _as_gdf(places, "places")
        if "category" not in places.columns:
            raise CwsgeoError("places: missing column 'category'")
        present = places["category"].astype("string").str.strip().str.lower().dropna().unique()
        cats = list(categories) if categories is not None else list(PLACE_CATEGORIES) + sorted(
            set(present) - set(PLACE_CATEGORIES))
        place_t = _prepare(net, places, "category", cats, snap_max_m, "places")
        if category_weights:
            unknown = set(category_weights) - set(cats)
            if unknown:
                raise ValueError(f"category_weights for unknown categories: {sorted(unknown)}")
        cat_w = np.array([float((category_weights or {}).get(c, 1.0)) for c in cats])

    buzz_full_m, buzz_zero_m = buzz_full_min * speed, buzz_zero_min * speed
    limit = 0.0
    if mode_targets:
        limit = max(limit, max(smins) * speed)
    if residents is not None or place_t is not None:
        limit = max(limit, max(mins) * speed)
    if place_t is not None:
        limit = max(limit, buzz_zero_m)

    n = len(spaces)
    # ---- nearest stop per mode (one multi-source search per mode) -------------------------
    for mode, tg in mode_targets.items():
        out.update(_nearest_stop_columns(net, snap, tg, mode, speed))

    # ---- counts within thresholds, in batches of spaces ----------------------------------
    count_cols: dict[str, np.ndarray] = {}
    for mode in mode_targets:
        for m in smins:
            count_cols[column_name(mode, "stops", minutes=m)] = np.zeros(n)
    if place_t is not None:
        for m in mins:
            for c in place_t.columns:
                count_cols[column_name("places", c, minutes=m)] = np.zeros(n)
            count_cols[column_name("places", "total", minutes=m)] = np.zeros(n)
        count_cols[column_name("places", "buzz")] = np.zeros(n)
    if residents is not None:
        for m in mins:
            count_cols[column_name("residents", minutes=m)] = np.zeros(n)
    node_xy = np.column_stack([net.x, net.y])

    if count_cols:
        with _progress(n, "space metrics", progress) as bar:
            for rows_idx in _chunks(n, chunk_size):
                sub = snap.subset(rows_idx)
                net_rows = np.flatnonzero(sub.valid & sub.on_network)
                node_dist = np.full((len(rows_idx), net.n_nodes), _INF)
                if len(net_rows):
                    node_dist[net_rows] = point_node_distances(net, sub.subset(net_rows),
                                                               limit=limit)
                for mode, tg in mode_targets.items():
                    d = _target_distances(node_dist, sub, tg)
                    for m in smins:
                        count_cols[column_name(mode, "stops", minutes=m)][rows_idx] = \
                            (d <= m * speed).sum(axis=1)
                if place_t is not None:
                    d = _target_distances(node_dist, sub, place_t)
                    for m in mins:
                        within = (d <= m * speed).astype(float) @ place_t.weights
                        for k, c in enumerate(place_t.columns):
                            count_cols[column_name("places", c, minutes=m)][rows_idx] = \
                                within[:, k]
                        count_cols[column_name("places", "total", minutes=m)][rows_idx] = \
                            (d <= m * speed).sum(axis=1)
                    decay = buzz_decay(d, full_m=buzz_full_m, zero_m=buzz_zero_m)
                    count_cols[column_name("places", "buzz")][rows_idx] = \
                        decay @ (place_t.weights @ cat_w)
                if residents is not None:
                    line_rows = np.flatnonzero(sub.valid & ~sub.on_network)
                    for m in mins:
                        count_cols[column_name("residents", minutes=m)][rows_idx] = \
                            residents.within(node_dist, _xy(sub), m * speed,
                                             line_rows=line_rows, node_xy=node_xy)
                bar.update(len(rows_idx))

    # columns in a stable order: transit by mode, then places, then residents
    ordered: dict[str, Any] = {"snap_m": out["snap_m"],
                               "proximity_method": out["proximity_method"]}
    for mode in mode_targets:
        ordered[column_name(mode, "line", unit="m")] = out[column_name(mode, "line", unit="m")]
        ordered[column_name(mode, "walk", unit="m")] = out[column_name(mode, "walk", unit="m")]
        ordered[column_name(mode, "walk", unit="min")] = out[column_name(mode, "walk",
                                                                         unit="min")]
        for m in smins:
            ordered[column_name(mode, "stops", minutes=m)] = \
                count_cols[column_name(mode, "stops", minutes=m)]
        ordered[column_name(mode, "nearest", "stop")] = out[column_name(mode, "nearest", "stop")]
    if mode_targets:
        line = np.column_stack([out[column_name(m, "line", unit="m")] for m in mode_targets])
        walk = np.column_stack([out[column_name(m, "walk", unit="m")] for m in mode_targets])
        with np.errstate(all="ignore"):
            any_line = np.where(np.isnan(line).all(axis=1), np.nan, np.nanmin(
                np.where(np.isnan(line), np.inf, line), axis=1))
            any_walk = np.where(np.isnan(walk).all(axis=1), np.nan, np.nanmin(
                np.where(np.isnan(walk), np.inf, walk), axis=1))
        ordered[column_name("transit", "any", "line", unit="m")] = any_line
        ordered[column_name("transit", "any", "walk", unit="m")] = any_walk
        ordered[column_name("transit", "any", "walk", unit="min")] = any_walk / speed
    for name, values in count_cols.items():
        if name not in ordered:
            ordered[name] = values
    frame = pd.DataFrame(ordered, index=spaces.index)
    # rows without geometry: NA values
    invalid = ~snap.valid
    if invalid.any():
        numeric = frame.columns.difference(["proximity_method"])
        frame.loc[invalid, numeric] = np.nan
    for col in frame.columns:
        if col.endswith("min") and ("_stops_" in col or col.startswith("places_")):
            frame[col] = frame[col].round().astype("Int64")
    frame["proximity_method"] = frame["proximity_method"].astype("string")
    return frame


def _nearest_stop_columns(net: WalkNetwork, snap: Snap, tg: _Targets, mode: str,
                          speed: float) -> dict[str, np.ndarray]:
    """Nearest stop of one mode from every space: straight line and on foot."""
    n = len(snap)
    line = np.full(n, np.nan)
    walk = np.full(n, np.nan)
    name = np.full(n, None, dtype=object)
    valid_t = np.flatnonzero(tg.snap.valid)
    if len(valid_t) and snap.valid.any():
        vs = np.flatnonzero(snap.valid)
        txy = _xy(tg.snap)[valid_t]
        d_line, i_line = cKDTree(txy).query(_xy(snap)[vs])
        line[vs] = d_line
        # default (straight-line spaces): the nearest stop in a straight line
        walk[vs] = d_line
        name[vs] = tg.labels[valid_t[i_line]] if tg.labels is not None else None
        on_s = np.flatnonzero(snap.valid & snap.on_network)
        if len(on_s):
            best = np.full(len(on_s), np.inf)
            best_i = np.full(len(on_s), -1, dtype=np.int64)
            t_on = tg.on
            if len(t_on):
                field, nearest = nearest_distances(net, tg.snap.subset(t_on),
                                                   return_nearest=True)
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
            t_off = tg.off
            if len(t_off):
                d_off = _euclid(snap.x[on_s], snap.y[on_s], tg.snap.x[t_off], tg.snap.y[t_off])
                k = np.argmin(d_off, axis=1)
                dk = d_off[np.arange(len(on_s)), k]
                better = dk < best
                best[better], best_i[better] = dk[better], t_off[k[better]]
            walk[on_s] = np.where(np.isfinite(best), best, np.nan)
            if tg.labels is not None:
                name[on_s] = np.where(best_i >= 0, tg.labels[np.maximum(best_i, 0)], None)
    return {column_name(mode, "line", unit="m"): line,
            column_name(mode, "walk", unit="m"): walk,
            column_name(mode, "walk", unit="min"): walk / speed,
            column_name(mode, "nearest", "stop"): name}


def transit_metrics(spaces: gpd.GeoDataFrame, stops: gpd.GeoDataFrame, net: WalkNetwork,
                    **kwargs: Any) -> pd.DataFrame:
    """Nearest stop per transit mode and stops within walking thresholds of each space.

    Columns ``{mode}_line_m``, ``{mode}_walk_m``, ``{mode}_walk_min``,
    ``{mode}_stops_{t}min``, ``{mode}_nearest_stop`` and ``transit_any_*`` (see the module
    docs), plus ``snap_m`` and ``proximity_method``. Keyword arguments as for
    :func:`space_metrics` (``stop_minutes``, ``modes``, ``walk_speed_kmh``, ``snap_max_m`` …).
    A station listed once per line counts once per line.
    """
    return space_metrics(spaces, net, stops=stops, **kwargs)


def places_metrics(spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame, net: WalkNetwork,
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


# ---------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------
def _groups(spaces: gpd.GeoDataFrame, type_col: str,
            types: Sequence[int]) -> list[tuple[str, Any, np.ndarray]]:
    groups: list[tuple[str, Any, np.ndarray]] = [("all", pd.NA, np.ones(len(spaces), bool))]
    if type_col in spaces.columns:
        kinds = pd.to_numeric(spaces[type_col], errors="coerce")
        for t in types:
            groups.append((f"type {t}", int(t), (kinds == t).fillna(False).to_numpy(bool)))
    return groups


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
    spaces = _as_gdf(spaces, "spaces")
    residents.check(net)
    speed = _speed_m_per_min(walk_speed_kmh)
    mins = _minutes(minutes, (10, 15))
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    node_xy = np.column_stack([net.x, net.y])
    total = residents.total
    rows = []
    for label, kind, mask in _groups(spaces, type_col, types):
        sel = mask & snap.valid
        on = np.flatnonzero(sel & snap.on_network)
        off = np.flatnonzero(sel & ~snap.on_network)
        dist = nearest_distances(net, snap.subset(on), limit=max(mins) * speed)
        if len(off):
            d_off, _ = cKDTree(_xy(snap)[off]).query(node_xy)
            dist = np.minimum(dist, d_off)
        if len(residents.offnet_residents) and sel.any():
            d_res, _ = cKDTree(_xy(snap)[np.flatnonzero(sel)]).query(residents.offnet_xy)
        else:
            d_res = np.full(len(residents.offnet_residents), np.inf)
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


# ---------------------------------------------------------------------------------------------
# Accessibility surface
# ---------------------------------------------------------------------------------------------
def accessibility_surface(net: WalkNetwork, *, residents: Residents | None = None,
                          places: gpd.GeoDataFrame | None = None,
                          minutes: Sequence[int] = (10,),
                          categories: Sequence[str] | None = None,
                          walk_speed_kmh: float | None = None,
                          snap_max_m: float | None = None, chunk_size: int = 64,
                          progress: bool = False) -> gpd.GeoDataFrame:
    """Residents and places reachable on foot from every network node.

    Every node is an origin: batched, limited dijkstra over the CSR matrix
    (:func:`cwsgeo.network.iter_node_distances`, Morton-ordered batches). Residents are summed
    over reached nodes; a place counts when ``min(d(u) + cost_u, d(v) + cost_v)`` is within
    the threshold (exact, using both ends of its segment); only places whose segment has a
    reached end are examined for each batch.

    Parameters
    ----------
    net
        The walking network.
    residents
        From :func:`allocate_residents` on ``net`` (optional).
    places
        Places with ``category`` (optional).
    minutes
        Thresholds (default 10 only; e.g. ``(5, 10, 15)``).
    categories
        Place categories (default :data:`PLACE_CATEGORIES` plus any other present).
    walk_speed_kmh, snap_max_m
        As for :func:`space_metrics`.
    chunk_size
        Origins per dijkstra batch.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per node (index = node position): ``node_id``, ``residents_{t}min``,
        ``places_total_{t}min``, ``places_{category}_{t}min``, point geometry in the work CRS.
    """
    speed = _speed_m_per_min(walk_speed_kmh)
    mins = _minutes(minutes, (10,))
    limit = max(mins) * speed
    n = net.n_nodes
    node_xy = np.column_stack([net.x, net.y])
    cols: dict[str, np.ndarray] = {}
    place_t: _Targets | None = None
    if residents is not None:
        residents.check(net)
        for m in mins:
            cols[column_name("residents", minutes=m)] = np.zeros(n)
    if places is not None:
        places = _as_gdf(places, "places")
        present = places["category"].astype("string").str.strip().str.lower().dropna().unique()
        cats = list(categories) if categories is not None else list(PLACE_CATEGORIES) + sorted(
            set(present) - set(PLACE_CATEGORIES))
        place_t = _prepare(net, places, "category", cats, snap_max_m, "places")
        for m in mins:
            cols[column_name("places", "total", minutes=m)] = np.zeros(n)
            for c in cats:
                cols[column_name("places", c, minutes=m)] = np.zeros(n)
        p_on = place_t.on
        p_u, p_v = place_t.snap.u[p_on], place_t.snap.v[p_on]
        p_cu, p_cv = place_t.snap.cost_u[p_on], place_t.snap.cost_v[p_on]
        w_on = np.column_stack([np.ones(len(p_on)), place_t.weights[p_on]]).astype(np.float32)
        p_off = place_t.off
        if len(p_off):
            w_off = np.column_stack([np.ones(len(p_off)), place_t.weights[p_off]])
            for m in mins:
                extra = _within_weights(_xy(place_t.snap)[p_off], w_off, node_xy, m * speed)
                cols[column_name("places", "total", minutes=m)] += extra[:, 0]
                for k, c in enumerate(cats):
                    cols[column_name("places", c, minutes=m)] += extra[:, k + 1]
    radii = np.array(mins, dtype=float) * speed
    res_acc = np.zeros((n, len(mins)))
    place_acc = np.zeros((n, len(mins), w_on.shape[1] if place_t is not None else 0),
                         dtype=np.float32)
    for batch, dist in iter_node_distances(net, limit=limit, chunk_size=chunk_size,
                                           progress=progress):
        # a Morton batch reaches a compact set of nodes (found by one cheap multi-source
        # search): only those columns and the places on their segments are looked at
        hit = np.isfinite(csgraph.dijkstra(net.adjacency, directed=True, indices=batch,
                                           limit=limit, min_only=True))
        if residents is not None:
            reached = np.flatnonzero(hit)
            sub = dist[:, reached]
            w_res = residents.node_residents[reached]
            for j, r in enumerate(radii):
                res_acc[batch, j] = (sub <= r) @ w_res
        if place_t is not None and len(p_on):
            sel = np.flatnonzero(hit[p_u] | hit[p_v])
            if len(sel):
                d = np.minimum(dist[:, p_u[sel]] + p_cu[sel], dist[:, p_v[sel]] + p_cv[sel])
                for j, r in enumerate(radii):
                    place_acc[batch, j] = (d <= r).astype(np.float32) @ w_on[sel]
    if residents is not None:
        for j, m in enumerate(mins):
            cols[column_name("residents", minutes=m)] = res_acc[:, j]
    if place_t is not None:
        for j, m in enumerate(mins):
            cols[column_name("places", "total", minutes=m)] += place_acc[:, j, 0]
            for k, c in enumerate(place_t.columns):
                cols[column_name("places", c, minutes=m)] += place_acc[:, j, k + 1]
    if residents is not None and len(residents.offnet_residents):
        for m in mins:
            cols[column_name("residents", minutes=m)] += _within_weights(
                residents.offnet_xy, residents.offnet_residents, node_xy, m * speed)[:, 0]
    frame = pd.DataFrame({"node_id": net.node_ids, **cols})
    for col in frame.columns:
        if col.startswith("places_"):  # counts (one-hot weights): whole numbers
            frame[col] = frame[col].round().astype(np.int64)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(net.x, net.y), crs=net.crs)


# ---------------------------------------------------------------------------------------------
# Summary by innovation type
# ---------------------------------------------------------------------------------------------
def summarize_by_type(metrics: pd.DataFrame, spaces: pd.DataFrame, *,
                      type_col: str = "innovation_type", types: Sequence[int] = (1, 2, 3),
                      columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Median and interquartile range of each metric, for all spaces and per innovation type.

    Parameters
    ----------
    metrics
        Per-space metrics (e.g. from :func:`space_metrics`), indexed like ``spaces``.
    spaces
        Table with ``type_col`` (nullable 1/2/3), same index.
    type_col, types
        Innovation-type column and the types reported; spaces with no type form an
        ``"unclassified"`` group when there are any.
    columns
        Metrics to summarise (default every numeric column).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``group``, ``innovation_type``, ``metric``, ``n`` (non-missing values),
        ``median``, ``q1``, ``q3``, ``iqr``.
    """
    if not metrics.index.equals(spaces.index):
        raise ValueError("metrics and spaces must share the same index")
    cols = list(columns) if columns is not None else [
        c for c in metrics.columns if pd.api.types.is_numeric_dtype(metrics[c])]
    groups = _groups(spaces, type_col, types)  # type: ignore[arg-type]
    if type_col in spaces.columns:
        untyped = pd.to_numeric(spaces[type_col], errors="coerce").isna().to_numpy()
        if untyped.any():
            groups.append(("unclassified", pd.NA, untyped))
    values = metrics[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = []
    for label, kind, mask in groups:
        sub = values[np.asarray(mask, dtype=bool)]
        counts = (~np.isnan(sub)).sum(axis=0)
        quart = np.full((3, len(cols)), np.nan)
        some = counts > 0
        if some.any():  # linear interpolation, as pandas' Series.quantile
            quart[:, some] = np.nanquantile(sub[:, some], [0.25, 0.5, 0.75], axis=0)
        for j, col in enumerate(cols):
            q1, med, q3 = quart[:, j]
            rows.append({"group": label, "innovation_type": kind, "metric": col,
                         "n": int(counts[j]), "median": med, "q1": q1, "q3": q3,
                         "iqr": q3 - q1})
    out = pd.DataFrame(rows, columns=["group", "innovation_type", "metric", "n", "median", "q1",
                                      "q3", "iqr"])
    out["innovation_type"] = out["innovation_type"].astype("Int64")
    return out


# ---------------------------------------------------------------------------------------------
# Walking areas (isochrone polygons for the map)
# ---------------------------------------------------------------------------------------------
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

    Parameters
    ----------
    spaces
        Spaces (points; any CRS). Rows without geometry get an empty geometry.
    net
        The walking network.
    minutes
        Walking time.
    method, ratio, buffer_m
        Polygon construction, see above.
    id_col
        Column of ``spaces`` copied to the output (when present).
    walk_speed_kmh, snap_max_m
        As for :func:`space_metrics`.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed like ``spaces``: ``id_col``, ``minutes``, ``proximity_method``, ``area_km2``,
        polygon geometry in the work CRS.
    """
    import shapely

    if method not in ("hull", "edges"):
        raise ValueError(f"method must be 'hull' or 'edges', got {method!r}")
    spaces = _as_gdf(spaces, "spaces")
    speed = _speed_m_per_min(walk_speed_kmh)
    radius = float(minutes) * speed
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    eu, ev, el = net.edge_u, net.edge_v, net.edge_length
    geoms = np.full(len(spaces), None, dtype=object)
    with _progress(len(spaces), "walking areas", progress) as bar:
        for rows_idx in _chunks(len(spaces), 64):
            sub = snap.subset(rows_idx)
            on = np.flatnonzero(sub.valid & sub.on_network)
            dist = point_node_distances(net, sub.subset(on), limit=radius) if len(on) else None
            for j, i in enumerate(rows_idx):
                if not snap.valid[i]:
                    continue
                if not snap.on_network[i]:
                    geoms[i] = shapely.Point(snap.x[i], snap.y[i]).buffer(radius, 32)
                    continue
                d = dist[np.searchsorted(on, j)]
                geoms[i] = _area_geometry(net, d, snap, i, radius, method, ratio, buffer_m,
                                          eu, ev, el)
            bar.update(len(rows_idx))
    out = gpd.GeoDataFrame(index=spaces.index, geometry=list(geoms), crs=net.crs)
    out.insert(0, "area_km2", out.geometry.area / 1e6)
    out.insert(0, "proximity_method", pd.array(snap.method, dtype="string"))
    out.insert(0, "minutes", int(minutes))
    if id_col in spaces.columns:
        out.insert(0, id_col, spaces[id_col].to_numpy())
    return out


def _area_geometry(net: WalkNetwork, d: np.ndarray, snap: Snap, i: int, radius: float,
                   method: str, ratio: float, buffer_m: float, eu: np.ndarray, ev: np.ndarray,
                   el: np.ndarray) -> Any:
    import shapely

    x, y = net.x, net.y
    px, py = snap.x[i], snap.y[i]
    # projection of the space on its segment and the walk along it
    a, b = snap.u[i], snap.v[i]
    length = max(snap.cost_u[i] + snap.cost_v[i] - 2 * snap.distance[i], 1e-9)
    t0 = snap.along[i] / length
    qx, qy = x[a] + t0 * (x[b] - x[a]), y[a] + t0 * (y[b] - y[a])
    rest = max(radius - snap.distance[i], 0.0)
    t_lo = max(t0 - rest / length, 0.0)
    t_hi = min(t0 + rest / length, 1.0)
    own = [(x[a] + t_lo * (x[b] - x[a]), y[a] + t_lo * (y[b] - y[a])),
           (x[a] + t_hi * (x[b] - x[a]), y[a] + t_hi * (y[b] - y[a]))]
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = [(own[0], own[1]),
                                                                       ((px, py), (qx, qy))]
    for s, e in ((eu, ev), (ev, eu)):
        ds = d[s]
        ok = np.flatnonzero(np.isfinite(ds) & (ds <= radius))
        frac = np.minimum((radius - ds[ok]) / np.maximum(el[ok], 1e-9), 1.0)
        sx, sy = x[s[ok]], y[s[ok]]
        ex = sx + frac * (x[e[ok]] - sx)
        ey = sy + frac * (y[e[ok]] - sy)
        segments.extend(zip(zip(sx, sy, strict=True), zip(ex, ey, strict=True), strict=True))
    coords = np.array(segments, dtype=float)
    if method == "edges":
        lines = shapely.linestrings(coords)
        return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))
    pts = shapely.multipoints(coords.reshape(-1, 2))
    hull = shapely.concave_hull(pts, ratio=ratio)
    if hull.geom_type != "Polygon" and hull.geom_type != "MultiPolygon":
        hull = hull.buffer(max(buffer_m, 1.0))
    return hull
