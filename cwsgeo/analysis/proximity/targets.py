"""Target layers (transit stops, places) snapped to the network once and reused.

Snapping 10,000 places takes a noticeable part of a rebuild; :func:`snap_places` and
:func:`snap_stops` return the snapped layer so that a caller measuring several sets of spaces
(or the build, across rebuilds) snaps each layer once and passes the result to
:func:`~cwsgeo.analysis.proximity.space_metrics` or
:func:`~cwsgeo.analysis.proximity.accessibility_surface` in place of the GeoDataFrame.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..._errors import CwsgeoError
from ...schema import PLACE_CATEGORIES, TRANSIT_MODES
from ..network import Snap, WalkNetwork, snap_points, to_points
from ._common import as_gdf, euclid

logger = logging.getLogger(__name__)

__all__ = ["SnappedTargets", "snap_places", "snap_stops"]


@dataclass(frozen=True, eq=False)
class SnappedTargets:
    """Target points snapped to a network, with one weight column per key.

    Attributes
    ----------
    snap
        The snapped points.
    weights
        ``(n_points, n_keys)`` one-hot matrix: 1 where the point's value is that key.
    columns
        The keys (place categories or transit modes), in column order.
    labels
        Optional name of each point (e.g. stop names).
    n_nodes, network
        Size and :attr:`~cwsgeo.analysis.network.WalkNetwork.source` of the network used.
    """

    snap: Snap
    weights: np.ndarray
    columns: list[str]
    labels: np.ndarray | None = None
    n_nodes: int = 0
    network: str = ""

    @property
    def on(self) -> np.ndarray:
        """Positions of the points measured over the network."""
        return np.flatnonzero(self.snap.valid & self.snap.on_network)

    @property
    def off(self) -> np.ndarray:
        """Positions of the points measured in a straight line (too far from the network)."""
        return np.flatnonzero(self.snap.valid & ~self.snap.on_network)

    def check(self, net: WalkNetwork, columns: Sequence[str] | None = None) -> None:
        """Raise if these targets were snapped to another network or have other columns."""
        if self.n_nodes != net.n_nodes or (self.network and net.source
                                           and self.network != net.source):
            raise CwsgeoError(f"targets were snapped to another network ({self.n_nodes} "
                              f"nodes, {self.network!r}), not to {net!r}")
        if columns is not None and list(columns) != self.columns:
            raise ValueError(f"targets were snapped with columns {self.columns}, not "
                             f"{list(columns)}")

    def only(self, column: str) -> SnappedTargets:
        """Return the points of one key (e.g. the metro stops), with one weight column."""
        j = self.columns.index(column)
        sel = np.flatnonzero(self.weights[:, j] > 0)
        return SnappedTargets(snap=self.snap.subset(sel), weights=np.ones((len(sel), 1)),
                              columns=[column],
                              labels=None if self.labels is None else self.labels[sel],
                              n_nodes=self.n_nodes, network=self.network)

    def subset(self, positions: np.ndarray) -> SnappedTargets:
        """Return the points at ``positions`` (same columns)."""
        sel = np.asarray(positions, dtype=np.int64)
        return SnappedTargets(snap=self.snap.subset(sel), weights=self.weights[sel],
                              columns=self.columns,
                              labels=None if self.labels is None else self.labels[sel],
                              n_nodes=self.n_nodes, network=self.network)

    def distances_from(self, rows: np.ndarray, origins: Snap) -> np.ndarray:
        """Distances (metres) from snapped origins to every target point.

        Parameters
        ----------
        rows
            ``(n_origins, n_nodes)`` node distances of the origins (used for origins on the
            network; e.g. from :func:`~cwsgeo.analysis.network.point_node_distances`).
        origins
            The snapped origins. Origins and targets off the network are measured in a
            straight line.

        Returns
        -------
        numpy.ndarray
            ``(n_origins, n_targets)``; ``inf`` when unreachable within the rows' limit.
        """
        t_on, t_off = self.on, self.off
        o_net = np.flatnonzero(origins.valid & origins.on_network)
        o_line = np.flatnonzero(origins.valid & ~origins.on_network)
        tx, ty = self.snap.x, self.snap.y
        every_row = len(o_net) == len(origins)
        if every_row:  # the common case: every target through the network, then the others
            out = to_points(rows, self.snap, origins=origins)
            if len(t_off):
                out[:, t_off] = euclid(origins.x, origins.y, tx[t_off], ty[t_off])
            if len(t_on) + len(t_off) < len(self.snap):
                out[:, ~self.snap.valid] = np.inf
            return out
        out = np.full((len(origins), len(self.snap)), np.inf)
        o_ix = o_net[:, None]
        if len(o_net) and len(t_on):
            out[o_ix, t_on] = to_points(rows[o_net], self.snap, origins=origins.subset(o_net),
                                        target_index=t_on)
        if len(o_net) and len(t_off):
            out[o_ix, t_off] = euclid(origins.x[o_net], origins.y[o_net], tx[t_off], ty[t_off])
        if len(o_line):
            t_all = np.concatenate([t_on, t_off])
            out[np.ix_(o_line, t_all)] = euclid(origins.x[o_line], origins.y[o_line],
                                                tx[t_all], ty[t_all])
        return out


def _normalised(frame: gpd.GeoDataFrame, column: str, what: str) -> pd.Series:
    if column not in frame.columns:
        raise CwsgeoError(f"{what}: missing column {column!r} (have {list(frame.columns)})")
    return frame[column].astype("string").str.strip().str.lower()


def _keys(values: pd.Series, given: Sequence[str] | None,
          known: Sequence[str]) -> list[str]:
    """``given``, else the known keys then any other present, sorted."""
    if given is not None:
        return list(given)
    return list(known) + sorted(set(values.dropna().unique()) - set(known))


def _snap_targets(net: WalkNetwork, frame: gpd.GeoDataFrame, values: pd.Series,
                  keys: Sequence[str], snap_max_m: float | None, what: str,
                  labels: np.ndarray | None = None) -> SnappedTargets:
    """Snap a target layer and one-hot encode ``values`` over ``keys`` (others: all zero)."""
    codes = pd.Index(list(keys), dtype=object).get_indexer(
        pd.Index(values.to_numpy(dtype=object)))
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
    return SnappedTargets(snap=snap, weights=matrix, columns=list(keys), labels=labels,
                          n_nodes=net.n_nodes, network=net.source)


def snap_places(net: WalkNetwork, places: gpd.GeoDataFrame | SnappedTargets, *,
                categories: Sequence[str] | None = None,
                snap_max_m: float | None = None) -> SnappedTargets:
    """Snap places to the network, one weight column per category.

    Parameters
    ----------
    net
        The walking network.
    places
        Places with a ``category`` column (any CRS). Places already snapped are returned as
        they are, once checked against ``net`` and ``categories``.
    categories
        Categories to count (default :data:`cwsgeo.schema.PLACE_CATEGORIES` plus any other
        present, sorted).
    snap_max_m
        Places farther than this from the network are measured in a straight line
        (default :data:`cwsgeo.settings.snap_max_m`).

    Returns
    -------
    SnappedTargets
    """
    if isinstance(places, SnappedTargets):
        places.check(net, categories)
        return places
    places = as_gdf(places, "places")
    values = _normalised(places, "category", "places")
    cats = _keys(values, categories, PLACE_CATEGORIES)
    return _snap_targets(net, places, values, cats, snap_max_m, "places")


def _stop_labels(stops: gpd.GeoDataFrame) -> np.ndarray:
    for col in ("name", "stop_id"):
        if col in stops.columns:
            return stops[col].astype("string").fillna("").to_numpy(dtype=object)
    return stops.index.astype(str).to_numpy(dtype=object)


def snap_stops(net: WalkNetwork, stops: gpd.GeoDataFrame | SnappedTargets, *,
               modes: Sequence[str] | None = None,
               snap_max_m: float | None = None) -> SnappedTargets:
    """Snap transit stops to the network, one weight column per mode, labelled by name.

    Parameters
    ----------
    net
        The walking network.
    stops
        Stops with a ``mode`` column and ``name`` (else ``stop_id``, else the index) as label.
        Stops already snapped are returned as they are, once checked.
    modes
        Modes to report (default :data:`cwsgeo.schema.TRANSIT_MODES` plus any other present,
        sorted).
    snap_max_m
        As for :func:`snap_places`.

    Returns
    -------
    SnappedTargets
    """
    if isinstance(stops, SnappedTargets):
        stops.check(net, modes)
        return stops
    stops = as_gdf(stops, "stops")
    values = _normalised(stops, "mode", "stops")
    return _snap_targets(net, stops, values, _keys(values, modes, TRANSIT_MODES), snap_max_m,
                         "stops", labels=_stop_labels(stops))
