"""Middleground indicators per space: places, spaces, events and projects, and a composite.

The study frames a coworking space as *middleground* when interaction runs through four
channels around it (see the project's STUDY notes): **places** where people meet, **spaces**
(communities; here their geographic side, other coworking spaces within a walk), **events**
and **projects**. :func:`middleground_indicators` measures each channel with a few indicators,
turns every indicator into a percentile rank among the spaces with a precise point, and
averages them.

Indicators (one row per space, walking minutes at :data:`cwsgeo.settings.walk_speed_kmh`)
-----------------------------------------------------------------------------------------
*places* (read from the spaces frame the build makes, see :mod:`cwsgeo.analysis.proximity`)
    ``places_total_5min``, ``places_total_10min`` (places within 5 / 10 walking minutes) and
    ``places_buzz`` (the distance-decayed count, :func:`~cwsgeo.analysis.proximity.buzz_decay`).
*spaces* (from a walking-distance matrix between spaces)
    ``spaces_5min``, ``spaces_10min``: other spaces with a precise point within 5 / 10 walking
    minutes (``d_ij <= minutes * speed``, ``j != i``); ``spaces_nearest_m`` and
    ``spaces_nearest_id``: the nearest one (NaN / NA when none is reachable). Two rows of the
    inventory at the same point (possible duplicates) count as neighbours at 0 m.
*events*
    ``event_venues_10min``: venues that host events within 10 minutes, the sum of the frame's
    ``places_<category>_10min`` over :data:`EVENT_CATEGORIES` (cultural venues, civic centres,
    libraries, community centres); ``text_events``: the listing texts' programmed-events
    signal (:func:`text_signals`).
*projects*
    ``text_projects`` and ``text_startups``: the texts' projects / collaboration and
    start-up-support signals (:func:`text_signals`); ``project_places_10min``: places that host
    projects within 10 minutes, only when the caller passes them (``project_places``). The
    Barcelona bundle has **no universities, research centres or incubators** among its place
    layers; its closest are the municipal fab labs (``community_centre`` / ``fab_lab``, 5)
    and the *fàbriques de creació* (``culture_venue`` / ``creation_factory``, 6).

Composite
---------
Among the spaces with a precise point (``location_precision`` in :data:`PRECISE`), each
indicator ``x`` becomes its percentile rank ``r(x) = rank(x) / n`` (average rank for ties,
``n`` = spaces with a value; ``spaces_nearest_m`` is ranked reversed, so nearer is higher and
"none reachable" lowest). A component is the mean of its indicators' ranks (missing ones
skipped), ``mg_places``, ``mg_spaces``, ``mg_events``, ``mg_projects`` (see
:data:`COMPONENTS`), and ::

    middleground_index = (mg_places + mg_spaces + mg_events + mg_projects) / 4

in (0, 1], missing when a component is missing (e.g. no listing text: no projects signal).
``middleground_index_spatial`` leaves the listing texts out: the mean of ``mg_places``,
``mg_spaces``, the rank of ``event_venues_10min`` (and of ``project_places_10min`` when
given). **Compare types estimated from the texts with this one**: the screen that estimates
``innovation_type_estimated`` scores the very events / projects / start-up words of
``text_*``, so the full index agrees with the estimated type partly by construction.
Ranks say where a space stands among the others, not how much it has: the index compares
spaces of one inventory, not cities.

Examples
--------
On a build (``net = cwsgeo.read_network(...)``)::

    mg = middleground_indicators(cwsgeo.read_outputs("data/processed").spaces, net=net)
    mg.sort_values("middleground_index").tail(3)

>>> from cwsgeo.analysis.stats.middleground import text_signals
>>> import pandas as pd
>>> ev = pd.Series(["community: community; events: workshops, talks", None])
>>> text_signals(pd.DataFrame({"screen_evidence": ev, "screen_score": [3, 0]}))
   text_events  text_projects  text_startups
0          2.0            0.0            0.0
1          0.0            0.0            0.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...schema import metric_column
from ..network import (
    Snap,
    WalkNetwork,
    point_node_rows,
    snap_points,
    to_points,
)
from ..proximity._common import space_ids, speed_m_per_min

__all__ = ["COMPONENTS", "EVENT_CATEGORIES", "PRECISE", "TEXT_SIGNALS",
           "middleground_indicators", "middleground_summary", "space_network_distances",
           "text_signals"]

#: Place categories of venues that host events (the frame's ``places_<category>_10min``).
EVENT_CATEGORIES: tuple[str, ...] = ("culture_venue", "civic_centre", "library",
                                     "community_centre")

#: Location precisions of the spaces whose points enter the spatial indicators.
PRECISE: tuple[str, ...] = ("exact", "approximate")

#: Screen categories read as text signals: output column -> screen category.
TEXT_SIGNALS: dict[str, str] = {"text_events": "events", "text_projects": "projects",
                                "text_startups": "startups"}

#: Component -> its indicators (those absent from the result are skipped).
COMPONENTS: dict[str, tuple[str, ...]] = {
    "places": ("places_buzz",),
    "spaces": ("spaces_5min", "spaces_10min", "spaces_nearest_m"),
    "events": ("event_venues_10min", "text_events"),
    "projects": ("text_projects", "text_startups", "project_places_10min"),
}

#: Indicators where a smaller value means more middleground (ranked reversed).
_REVERSED = ("spaces_nearest_m",)


def text_signals(spaces: pd.DataFrame, *, cap: int = 2) -> pd.DataFrame:
    """Programmed-events, projects and start-up signals of the spaces' listing texts.

    Each signal is the number of distinct concepts of one category of the innovation screen
    (:mod:`cwsgeo.analysis.texts.screen`; e.g. *events*: afterworks, hackathons, meetups,
    talks, workshops), capped at ``cap``. Read from the screen's ``screen_<category>``
    columns when the frame has them, else counted in ``screen_evidence``
    (``"events: workshops, talks; projects: projects"``; the build cuts that text at 160
    characters, so a long evidence may lose its last concepts).

    Parameters
    ----------
    spaces
        Spaces with ``screen_<category>`` or ``screen_evidence`` columns, and ``n_texts``
        (else ``screen_score``, missing without a text) telling which spaces have a text.
    cap
        Most concepts counted per category (the screen's default cap is 2).

    Returns
    -------
    pandas.DataFrame
        Same index; float columns of :data:`TEXT_SIGNALS` (``text_events``,
        ``text_projects``, ``text_startups``): 0 for a text without the category, NaN for a
        space without a text.
    """
    if cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    if "n_texts" in spaces.columns:  # the build's screen_score is 0, not NA, without a text
        has_text = (pd.to_numeric(spaces["n_texts"], errors="coerce").fillna(0) > 0).to_numpy()
    elif "screen_score" in spaces.columns:
        has_text = spaces["screen_score"].notna().to_numpy()
    elif "screen_evidence" in spaces.columns:
        has_text = spaces["screen_evidence"].notna().to_numpy()
    else:
        raise KeyError("text_signals: the spaces have neither screen_<category> columns nor "
                       "'screen_evidence' (build the texts stage or run screen_spaces)")
    out = pd.DataFrame(index=spaces.index)
    parsed = None
    for column, category in TEXT_SIGNALS.items():
        source = f"screen_{category}"
        if source in spaces.columns:
            counts = pd.to_numeric(spaces[source], errors="coerce").to_numpy(dtype=float)
        else:
            if "screen_evidence" not in spaces.columns:
                raise KeyError(f"text_signals: no {source!r} nor 'screen_evidence' column")
            parsed = _evidence_counts(spaces["screen_evidence"]) if parsed is None else parsed
            counts = np.array([p.get(category, 0) for p in parsed], dtype=float)
        out[column] = np.where(has_text, np.minimum(np.nan_to_num(counts), cap), np.nan)
    return out


def _evidence_counts(evidence: pd.Series) -> list[dict[str, int]]:
    """Distinct concepts per category in texts like ``"events: a, b; projects: c"``."""
    out = []
    for value in evidence.tolist():
        counts: dict[str, int] = {}
        if isinstance(value, str):
            for part in value.split(";"):
                category, sep, terms = part.partition(":")
                if sep:
                    concepts = {t.strip(" …") for t in terms.split(",")} - {""}
                    counts[category.strip()] = len(concepts)
        out.append(counts)
    return out


def space_network_distances(spaces: Any, net: WalkNetwork, *, snap_max_m: float | None = None,
                            limit: float = np.inf, chunk_size: int = 128) -> pd.DataFrame:
    """Compute the walking distances between every pair of spaces, over the network.

    Each space is snapped to its nearest edge (:func:`~cwsgeo.analysis.network.snap_points`);
    ``d_ij = min over the ends of j's edge of (search from i to the end + j's cost)``, with the
    direct walk along a shared edge (:func:`~cwsgeo.analysis.network.search.to_points`).
    Spaces without a point or farther than ``snap_max_m`` from the network get NaN rows and
    columns: no straight-line fallback.

    Parameters
    ----------
    spaces
        GeoDataFrame of points (any CRS) with an ``id`` column or an index named ``id``.
    net
        The walking network.
    snap_max_m
        Largest snap distance (default :data:`cwsgeo.settings.snap_max_m`).
    limit
        Search radius in metres; farther pairs get NaN. A finite radius searches with the
        bounded engine (same distances, work proportional to what each space reaches).
    chunk_size
        Spaces per shortest-path batch. Memory: with no limit, about
        ``chunk_size * n_nodes * 8`` bytes (each space's distances to every node); with a
        finite limit, what the chunk's edge ends reach within it (one distance per node
        reached) plus a ``2 * chunk_size`` by ``2 * n_spaces`` array (distances from the
        chunk's edge ends to every space's edge ends), 8 bytes a cell.

    Returns
    -------
    pandas.DataFrame
        Square, index and columns the space ids (rows' order), metres; diagonal 0 for the
        spaces on the network.
    """
    ids = space_ids(spaces)
    snap = snap_points(net, spaces.geometry, snap_max_m=snap_max_m)
    dist = _snap_distances(net, snap, snap, limit=limit, chunk_size=chunk_size, same=True)
    return pd.DataFrame(dist, index=ids, columns=pd.Index(ids, name=None))


def _snap_distances(net: WalkNetwork, origins: Snap, targets: Snap, *, limit: float,
                    chunk_size: int = 128, same: bool = False,
                    rows: np.ndarray | None = None) -> np.ndarray:
    """Return walking distances from snapped origins to snapped targets (NaN off the network).

    ``same``: the origins are the targets (pairs on one edge also get the walk along it, and
    the diagonal is 0); ``rows`` then computes only those origins' rows (the others NaN).
    Each chunk of origins gets its node distances
    (:func:`~cwsgeo.analysis.network.point_node_rows`) and then its distances to the targets
    (:func:`~cwsgeo.analysis.network.to_points`).
    """
    out = np.full((len(origins), len(targets)), np.nan)
    todo = np.flatnonzero(origins.on_network)
    if rows is not None:
        todo = np.intersect1d(todo, rows)
    # only the targets' edge ends are read: node rows of those columns, targets renumbered
    ends = np.concatenate([targets.u, targets.v])  # (points off the network: u = v = 0)
    columns, inverse = np.unique(ends, return_inverse=True)
    renumbered = dataclasses.replace(targets, u=inverse[:len(targets)],
                                     v=inverse[len(targets):])
    for start in range(0, len(todo), chunk_size):
        r = todo[start:start + chunk_size]
        chunk = origins.subset(r)
        block = to_points(point_node_rows(net, chunk, limit, columns), renumbered,
                          origins=chunk if same else None)
        block[(block > limit) | ~np.isfinite(block)] = np.nan
        block[:, ~targets.on_network] = np.nan
        if same:
            block[np.arange(len(r)), r] = 0.0
        out[r] = block
    return out


def middleground_indicators(spaces: pd.DataFrame, *,
                            space_distances: pd.DataFrame | np.ndarray | None = None,
                            net: WalkNetwork | None = None,
                            project_places: Any = None,
                            minutes: Sequence[int] = (5, 10),
                            event_categories: Sequence[str] = EVENT_CATEGORIES,
                            precision_col: str = "location_precision",
                            precise: Sequence[str] = PRECISE,
                            walk_speed_kmh: float | None = None,
                            snap_max_m: float | None = None,
                            text_cap: int = 2) -> pd.DataFrame:
    """Middleground indicators of each space, their percentile ranks and the composite index.

    Parameters
    ----------
    spaces
        The build's spaces (``read_outputs(...).spaces`` or ``coworking_spaces.gpkg``): ids
        (``id`` column or index), ``places_buzz``, ``places_total_<m>min`` and
        ``places_<category>_10min`` (proximity stage), the screen columns (texts stage;
        without any, the text signals and the full index are NaN), ``location_precision``
        (without it every space with a value counts as precise) and, when ``net`` is used,
        point geometries.
    space_distances
        Walking distances between spaces in metres (NaN/inf: unreachable): a DataFrame whose
        index and columns hold at least the ids of the precise spaces (e.g. from
        :func:`space_network_distances`), or a square array in the rows' order. ``None``:
        computed over ``net``.
    net
        The walking network, for the distances between spaces when ``space_distances`` is
        None, and for ``project_places``.
    project_places
        Optional GeoDataFrame of places that host projects (universities, research centres,
        incubators, fab labs...), counted within 10 minutes over ``net``.
    minutes
        Thresholds of the spaces counts (``spaces_<m>min``); the 10-minute count of events
        uses the frame's 10-minute place counts.
    event_categories
        Place categories summed into ``event_venues_10min``.
    precision_col, precise
        Column of location precision and the values that make a point precise.
    walk_speed_kmh
        Walking speed (default :data:`cwsgeo.settings.walk_speed_kmh`).
    snap_max_m
        Largest snap distance to the network (default :data:`cwsgeo.settings.snap_max_m`).
    text_cap
        Most concepts counted per text signal (:func:`text_signals`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id`` (every space, rows' order): ``precise`` (bool), the indicators of
        the module docstring (formulas there), ``pct_<indicator>`` (percentile ranks),
        ``mg_places``, ``mg_spaces``, ``mg_events``, ``mg_projects``, ``middleground_index``
        and ``middleground_index_spatial`` (without the texts); NaN for spaces without a
        precise point. ``attrs["middleground"]``: the parameters (:func:`middleground_summary`).
    """
    ids = space_ids(spaces)
    speed = speed_m_per_min(walk_speed_kmh)
    is_precise = _precise_mask(spaces, precision_col, precise)
    out = pd.DataFrame({"precise": is_precise}, index=ids)
    places = _places_block(spaces, minutes, event_categories)
    for c in places.columns:
        out[c] = np.where(is_precise, places[c].to_numpy(dtype=float), np.nan)
    dist = _distance_matrix(spaces, ids, is_precise, space_distances, net, snap_max_m,
                            max(minutes, default=0) * speed)
    for c, values in _spaces_block(dist, ids, is_precise, minutes, speed).items():
        out[c] = values
    for name, signal in _text_block(spaces, text_cap).items():
        out[name] = signal.to_numpy()
    if project_places is not None:
        out["project_places_10min"] = _count_places_within(
            spaces, project_places, net, is_precise, 10 * speed, snap_max_m)
    out = _with_ranks(out, is_precise)
    out.attrs["middleground"] = {
        "minutes": [int(m) for m in minutes], "event_categories": list(event_categories),
        "precise": list(precise), "walk_speed_kmh": speed * 60.0 / 1000.0, "text_cap": text_cap,
        "space_distances": "walking network" if space_distances is None else "given",
        "project_places": None if project_places is None else len(project_places)}
    return out


def _text_block(spaces: pd.DataFrame, cap: int) -> pd.DataFrame:
    """:func:`text_signals`; a city without any screen column: every text signal unknown."""
    screened = any(c in spaces.columns for c in ("n_texts", "screen_score", "screen_evidence"))
    return text_signals(spaces if screened else spaces.assign(screen_evidence=None), cap=cap)


def _precise_mask(spaces: pd.DataFrame, precision_col: str, precise: Sequence[str]
                  ) -> np.ndarray:
    if precision_col not in spaces.columns:
        return np.ones(len(spaces), dtype=bool)
    return spaces[precision_col].isin(list(precise)).to_numpy(dtype=bool)


def _places_block(spaces: pd.DataFrame, minutes: Sequence[int],
                  event_categories: Sequence[str]) -> pd.DataFrame:
    """Read the places and event-venue indicators from the spaces frame."""
    wanted = [metric_column("places", "total", minutes=m) for m in minutes] + ["places_buzz"]
    venues = [metric_column("places", c, minutes=10) for c in event_categories]
    missing = [c for c in [*wanted, *venues] if c not in spaces.columns]
    if missing:
        raise KeyError(f"middleground_indicators: the spaces lack the proximity columns "
                       f"{missing} (build the proximity stage with the places layer)")
    block = spaces[[*wanted, *venues]].apply(pd.to_numeric, errors="coerce")
    out = block[wanted].copy()
    out["event_venues_10min"] = block[venues].sum(axis=1, min_count=len(venues))
    return out


def _distance_matrix(spaces: pd.DataFrame, ids: pd.Index, is_precise: np.ndarray,
                     given: pd.DataFrame | np.ndarray | None, net: WalkNetwork | None,
                     snap_max_m: float | None, radius: float) -> np.ndarray:
    """``(n, n)`` walking distances in the rows' order (NaN where unknown).

    Over ``net``: exact up to ``radius`` (the largest threshold counted) and for each space's
    nearest other space; other pairs may be NaN (:func:`_bounded_distances`).
    """
    n = len(ids)
    if given is None:
        if net is None:
            raise ValueError("middleground_indicators needs space_distances or net: the "
                             "spaces indicators use walking distances (no straight-line "
                             "fallback)")
        rows = np.flatnonzero(is_precise)
        snap = snap_points(net, spaces.iloc[rows].geometry, snap_max_m=snap_max_m)
        out = np.full((n, n), np.nan)
        out[np.ix_(rows, rows)] = _bounded_distances(net, snap, radius)
        return out
    if isinstance(given, pd.DataFrame):
        need = ids[is_precise]
        missing = need[~need.isin(given.index) | ~need.isin(given.columns)]
        if len(missing):
            raise ValueError(f"space_distances lacks the precise spaces "
                             f"{missing[:5].tolist()} (its index and columns must hold the "
                             "space ids)")
        matrix = given.reindex(index=ids, columns=ids).to_numpy(dtype=float)
    else:
        matrix = np.asarray(given, dtype=float)
        if matrix.shape != (n, n):
            raise ValueError(f"space_distances has shape {matrix.shape}; expected ({n}, {n}) "
                             "in the rows' order (or pass a DataFrame labelled by ids)")
    if (matrix < 0).any():
        raise ValueError("space_distances has negative distances")
    return np.where(np.isfinite(matrix), matrix, np.nan)


def _bounded_distances(net: WalkNetwork, snap: Snap, radius: float) -> np.ndarray:
    """Return walking distances between snapped spaces, exact up to ``radius`` and to the nearest.

    Every space is searched up to ``radius`` (the bounded engine); a space with no other
    space that near is searched again without a limit, so its nearest other space is found
    exactly. Pairs beyond ``radius`` from a space that has a nearer one stay NaN: nothing
    reads them (the counts stop at ``radius``, the nearest is nearer). The distances found
    equal those of a search without a limit.
    """
    out = _snap_distances(net, snap, snap, limit=radius, same=True)
    others = np.isfinite(out).sum(axis=1) - snap.on_network  # the diagonal's 0 is not one
    lonely = np.flatnonzero(snap.on_network & (others == 0))
    if len(lonely):
        out[lonely] = _snap_distances(net, snap, snap, limit=np.inf, same=True,
                                      rows=lonely)[lonely]
    return out


def _spaces_block(dist: np.ndarray, ids: pd.Index, is_precise: np.ndarray,
                  minutes: Sequence[int], speed: float) -> dict[str, Any]:
    """Count other precise spaces within each threshold and find the nearest one."""
    d = dist.copy()
    np.fill_diagonal(d, np.nan)
    d[:, ~is_precise] = np.nan
    d[~is_precise, :] = np.nan
    reach = np.nan_to_num(d, nan=np.inf)
    out: dict[str, Any] = {}
    for m in minutes:
        counts = (reach <= m * speed).sum(axis=1).astype(float)
        out[metric_column("spaces", minutes=m)] = np.where(is_precise, counts, np.nan)
    rows = np.arange(len(ids))
    nearest = reach.argmin(axis=1) if len(ids) else rows
    best = reach[rows, nearest]
    found = np.isfinite(best)
    out["spaces_nearest_m"] = np.where(found, best, np.nan)
    names = ids.to_numpy(dtype=object)[nearest]
    names[~found] = None
    out["spaces_nearest_id"] = names
    return out


def _count_places_within(spaces: pd.DataFrame, places: Any, net: WalkNetwork | None,
                         is_precise: np.ndarray, radius_m: float,
                         snap_max_m: float | None) -> np.ndarray:
    """Places within ``radius_m`` walking metres of each precise space (NaN elsewhere)."""
    if net is None:
        raise ValueError("project_places needs net (walking distances)")
    rows = np.flatnonzero(is_precise)
    origins = snap_points(net, spaces.iloc[rows].geometry, snap_max_m=snap_max_m)
    targets = snap_points(net, places.geometry, snap_max_m=snap_max_m)
    d = _snap_distances(net, origins, targets, limit=radius_m)
    out = np.full(len(spaces), np.nan)
    out[rows] = np.where(origins.on_network, (np.nan_to_num(d, nan=np.inf) <= radius_m)
                         .sum(axis=1), np.nan)
    return out


def _with_ranks(out: pd.DataFrame, is_precise: np.ndarray) -> pd.DataFrame:
    """Add percentile ranks, component scores and the composite (precise spaces only)."""
    components = []
    for name, indicators in COMPONENTS.items():
        ranks = []
        for ind in (i for i in indicators if i in out.columns):
            values = out[ind].where(is_precise)
            if ind in _REVERSED:  # nearer is more; none reachable ranks lowest
                values = -values.fillna(np.inf).where(is_precise)
            out[f"pct_{ind}"] = values.rank(pct=True, method="average")
            ranks.append(f"pct_{ind}")
        out[f"mg_{name}"] = out[ranks].mean(axis=1, skipna=True) if ranks else np.nan
        components.append(f"mg_{name}")
    out["middleground_index"] = out[components].mean(axis=1, skipna=False)
    spatial = [c for c in ("mg_places", "mg_spaces", "pct_event_venues_10min",
                           "pct_project_places_10min") if c in out.columns]
    out["middleground_index_spatial"] = out[spatial].mean(axis=1, skipna=False)
    return out



def middleground_summary(indicators: pd.DataFrame) -> dict[str, Any]:
    """Summarise :func:`middleground_indicators` as JSON-ready values.

    Parameters
    ----------
    indicators
        The frame returned by :func:`middleground_indicators`.

    Returns
    -------
    dict
        ``name``, ``parameters`` (from the frame's ``attrs``), ``components`` (component ->
        indicators present), ``n`` (spaces, precise points, with each index) and
        ``indicators``: per numeric column, ``n``, ``median``, ``min`` and ``max`` over the
        precise spaces (``None`` when there is no value).
    """
    precise = indicators["precise"].to_numpy(dtype=bool)
    rows = indicators[precise]
    stats_by_column: dict[str, dict[str, Any]] = {}
    for column in rows.columns:
        if column == "precise" or not pd.api.types.is_numeric_dtype(rows[column]):
            continue
        values = rows[column].dropna().astype(float)
        stats_by_column[column] = {"n": len(values), **{
            k: (float(getattr(values, k)()) if len(values) else None)
            for k in ("median", "min", "max")}}
    return {
        "name": "middleground_indicators",
        "parameters": dict(indicators.attrs.get("middleground", {})),
        "components": {name: [i for i in ind if i in indicators.columns]
                       for name, ind in COMPONENTS.items()},
        "n": {"spaces": len(indicators), "precise": int(precise.sum()),
              "middleground_index": int(rows["middleground_index"].notna().sum()),
              "middleground_index_spatial":
                  int(rows["middleground_index_spatial"].notna().sum())},
        "indicators": stats_by_column}
