"""One row per venue and per station: merging places across sources, collapsing stations.

:func:`dedupe_places` finds the same venue listed by several sources (shared register id,
similar names nearby, identical distinctive names) and keeps the record of the preferred
source; :func:`collapse_stations` merges the rows of one station (same mode and name, close
together) into one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz

from ._names import _join_lines, _norm_name, _split
from .modes import GENERIC_MERGE_M, GENERIC_SOURCE_PRIORITY

__all__ = [
    "PLACE_SOURCE_PRIORITY",
    "STATION_MERGE_M",
    "TRANSIT_SOURCE_PRIORITY",
    "collapse_stations",
    "dedupe_places",
]

logger = logging.getLogger(__name__)

#: Which record of a group of duplicates is kept: earlier sources win. The Ajuntament's list
#: (most current, finest categories) first, then ICUB, the restaurant guide, terraces, OSM.
PLACE_SOURCE_PRIORITY: tuple[str, ...] = (
    "bcn_equipaments", "icub_equipaments", "bcn_restaurants", "bcn_terrasses", "osm")

#: Which source's attributes a collapsed station keeps by default: operators' files first,
#: then OSM (a city profile names its own operators' sources, see
#: :attr:`TransitModes.source_priority <cwsgeo.analysis.layers.TransitModes.source_priority>`).
TRANSIT_SOURCE_PRIORITY: tuple[str, ...] = GENERIC_SOURCE_PRIORITY

#: Rows of one mode with the same normalised name within this distance (m, single linkage)
#: are one station: a metro operator's one-row-per-line stations (interchange platforms can
#: lie ~400 m apart), the two tram platforms, per-direction train stops, OSM's station +
#: platforms + stop positions + entrances. Bus stops only merge when they are practically the
#: same pole (OSM platform + stop position, GTFS duplicates); opposite sides of a street stay
#: two stops. Generic modes; a city's own modes come from
#: :attr:`TransitModes.merge_distances <cwsgeo.analysis.layers.TransitModes.merge_distances>`.
STATION_MERGE_M: dict[str, float] = dict(GENERIC_MERGE_M)

#: Dedup families: records of different categories in one family can be the same venue
#: (a bar in one list is a restaurant in another). ``None``: never merged (terraces have no
#: name to compare). Civic centres and the casals they host stay apart.
_FAMILY: dict[str, str | None] = {
    "cafe": "food_drink", "bar": "food_drink", "restaurant": "food_drink",
    "nightclub": "food_drink", "terrace": None, "culture_venue": "culture",
    "library": "library", "civic_centre": "civic", "community_centre": "community",
    "park": "park", "playground": "playground", "sports": "sports", "other": "other"}

#: Category pairs that may be the same venue across families when the full names agree
#: (ICUB's live-music venues are bars or nightclubs in the city list, its ateneus theatres).
#: Cafés and restaurants are left out: a museum's café is a place of its own.
_CROSS_PAIRS = frozenset({frozenset({"culture_venue", "bar"}),
                          frozenset({"culture_venue", "nightclub"}),
                          frozenset({"culture_venue", "community_centre"})})

#: Categories whose names identify a single public venue: identical names across sources
#: merge up to ``same_name_m`` apart (one source geocodes some civic centres hundreds of
#: metres off). Food and drink is excluded because of chains.
_UNIQUE_NAME_CATEGORIES = frozenset({"civic_centre", "library", "community_centre",
                                     "culture_venue"})

#: Words that say what a venue is, not which one: left out when names are compared.
_TYPE_WORDS = frozenset({
    "centre", "centro", "civic", "civico", "cultural", "biblioteca", "library", "restaurant",
    "restaurante", "bar", "cafe", "cafeteria", "museu", "museo", "museum", "teatre", "teatro",
    "theatre", "sala", "casal", "espai", "cinema", "cinemes", "cines", "cine", "auditori",
    "ateneu", "fundacio", "fundacion", "discoteca", "musical", "cocteleria", "xampanyeria",
    "pub", "tablao", "cerveseria", "cerveceria", "taverna", "taberna",
    "bodega", "marisqueria", "pizzeria", "creperia", "granja", "xocolateria", "orxateria",
    "lounge"})

#: Sort key of a candidate pair: rule, then the better names (negated mean of the set and
#: sort ratios), then the distance; smaller is better.
_SortKey = tuple[int, float, float]
_Pair = tuple[int, int, _SortKey]


# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------

def dedupe_places(
    places: gpd.GeoDataFrame,
    *,
    near_m: float = 25.0,
    far_m: float = 100.0,
    near_score: float = 75.0,
    far_score: float = 90.0,
    same_name_m: float = 1000.0,
    priority: Sequence[str] = PLACE_SOURCE_PRIORITY,
    city_words: Collection[str] = (),
) -> gpd.GeoDataFrame:
    """Merge the same venue listed by several sources into one row.

    Two records of *different* sources are the same venue when

    1. they share an Open Data BCN ``register_id`` (the facility list and the restaurant guide
       repeat 58 venues), or
    2. they are of one category family (food and drink; culture venues; libraries; civic
       centres; community centres) and lie within ``near_m`` with names scoring at least
       ``near_score``, or within ``far_m`` with names scoring at least ``far_score``, or
    3. they are of different families among food and drink, culture venues and community
       centres (a live-music club is a culture venue for ICUB and a bar for the city list)
       within ``far_m``, with full names scoring at least ``far_score``, or
    4. they are civic centres, libraries, community centres or culture venues of the same
       category with the same distinctive normalised name within ``same_name_m`` (one source
       places some civic centres hundreds of metres off).

    Terraces are never merged (they have no name). Names are compared lower-cased, without
    accents, punctuation, articles or the remark after ``*`` ("*Tancada"), and for rule 2
    without type words ("Centre Cívic", "Biblioteca", "Restaurant" ...) and ``city_words``, with
    rapidfuzz's ``token_set_ratio`` (plain ``ratio`` beyond ``near_m`` when a name is one
    word). Candidate pairs come from a shapely STRtree and join best first; a group never
    holds two records of one source (a source's own rows stay distinct venues) and every two
    records of a group must match each other (no chaining). The record of the source that
    comes first in ``priority`` is kept; ``merged_ids`` lists the others.

    Parameters
    ----------
    places
        Places layer (work CRS).
    near_m, far_m, same_name_m
        Distances of the rules, in metres.
    near_score, far_score
        Name scores (0-100) needed within ``near_m`` and within ``far_m``.
    priority
        Source names, preferred first; unknown sources come last.
    city_words
        Folded names of the city ("<city> Library" is the library), from the city profile
        (:attr:`cwsgeo.analysis.geocoding.CityLexicon.city_words`; default: none).

    Returns
    -------
    geopandas.GeoDataFrame
        The kept rows (same columns), in their original order.
    """
    places = _with_merged_ids(places.reset_index(drop=True))
    n = len(places)
    if n < 2:
        return places
    records = _Records.of(places, _TYPE_WORDS | frozenset(city_words))
    limits = _Limits(near_m, far_m, near_score, far_score, same_name_m)
    candidates = _best_pairs(_register_pairs(places, records.src),
                             _neighbour_pairs(records, limits),
                             _same_name_pairs(records, limits))
    group = _greedy_groups(n, candidates, records.src)
    keeper = _keepers(group, places["source"].map(_ranker(priority)).to_numpy())
    out = _merge_into_keepers(places, keeper)
    _log_dedup(places, out)
    return out


@dataclass(frozen=True)
class _Limits:
    """Distances (m) and name scores (0-100) of the matching rules."""

    near_m: float
    far_m: float
    near_score: float
    far_score: float
    same_name_m: float


@dataclass(frozen=True)
class _Records:
    """Per-row arrays the matching rules read: geometry, source, category, family, names."""

    geoms: np.ndarray
    src: np.ndarray
    category: np.ndarray
    family: np.ndarray
    norm: np.ndarray  # normalised name ("" where the family never merges)
    core: np.ndarray  # normalised name without type words

    @classmethod
    def of(cls, places: gpd.GeoDataFrame, type_words: frozenset[str]) -> _Records:
        family = places["category"].map(_FAMILY).to_numpy(dtype=object)
        # names compared only where a family can merge (not the thousands of terraces)
        names = places["name"].fillna("").astype(str).where(pd.notna(family), "")
        norms = {n: _norm_name(n) for n in pd.unique(names.to_numpy())}
        cores = {n: _core_name(v, type_words) for n, v in norms.items()}
        return cls(geoms=places.geometry.to_numpy(),
                   src=places["source"].astype(str).to_numpy(),
                   category=places["category"].astype(str).to_numpy(),
                   family=family,
                   norm=names.map(norms).to_numpy(dtype=object),
                   core=names.map(cores).to_numpy(dtype=object))


def _best_pairs(*pair_sources: Iterable[_Pair]) -> dict[tuple[int, int], _SortKey]:
    """Candidate pairs with the best sort key each, in the order they were first found."""
    candidates: dict[tuple[int, int], _SortKey] = {}
    for pairs in pair_sources:
        for a, b, key in pairs:
            if (a, b) not in candidates or key < candidates[(a, b)]:
                candidates[(a, b)] = key
    return candidates


def _register_pairs(places: gpd.GeoDataFrame, src: np.ndarray) -> Iterator[_Pair]:
    """Rule 1: records of different sources sharing an Open Data BCN register id."""
    if "_register" not in places:
        return
    reg = places[["_register"]].dropna().reset_index()
    pairs = reg.merge(reg, on="_register")
    i, j = pairs["index_x"].to_numpy(), pairs["index_y"].to_numpy()
    for a, b in zip(*_cross_source(i, j, src), strict=True):
        yield int(a), int(b), (1, -100.0, 0.0)


def _neighbour_pairs(rec: _Records, limits: _Limits) -> Iterator[_Pair]:
    """Rules 2 and 3: neighbours within ``far_m`` (STRtree) whose names agree."""
    i, j = shapely.STRtree(rec.geoms).query(rec.geoms, predicate="dwithin",
                                            distance=limits.far_m)
    i, j = _cross_source(i, j, rec.src)
    dist = shapely.distance(rec.geoms[i], rec.geoms[j])
    for a, b, d in zip(i.tolist(), j.tolist(), dist.tolist(), strict=True):
        key = _neighbour_key(rec, a, b, d, limits)
        if key is not None:
            yield a, b, key


def _neighbour_key(rec: _Records, a: int, b: int, d: float, limits: _Limits
                   ) -> _SortKey | None:
    """Sort key of two neighbours ``d`` metres apart if rule 2 or 3 matches them, else None."""
    fa, fb = rec.family[a], rec.family[b]
    if fa is None or fb is None or not isinstance(fa, str):
        return None
    norm, core = rec.norm, rec.core
    if fa == fb:
        score, rank = _name_score(norm[a], norm[b], core[a], core[b], near=d <= limits.near_m)
        if (d <= limits.near_m and score >= limits.near_score) or score >= limits.far_score:
            return 2, -rank, d
        return None
    if frozenset((rec.category[a], rec.category[b])) in _CROSS_PAIRS and core[a] and core[b]:
        score = float(fuzz.token_set_ratio(norm[a], norm[b]))
        if score >= limits.far_score:
            return 3, -(score + fuzz.token_sort_ratio(norm[a], norm[b])) / 2, d
    return None


def _same_name_pairs(rec: _Records, limits: _Limits) -> Iterator[_Pair]:
    """Rule 4: unique venues of one category with the same distinctive name, not too far."""
    unique = np.isin(rec.category, list(_UNIQUE_NAME_CATEGORIES)) & np.array(
        [len(c.split()) >= 2 for c in rec.core])
    if not unique.any():
        return
    sub = pd.DataFrame({"norm": rec.norm[unique], "cat": rec.category[unique],
                        "idx": np.flatnonzero(unique)})
    pairs = sub.merge(sub, on=["norm", "cat"])
    i, j = _cross_source(pairs["idx_x"].to_numpy(), pairs["idx_y"].to_numpy(), rec.src)
    dist = shapely.distance(rec.geoms[i], rec.geoms[j])
    for a, b, d in zip(i.tolist(), j.tolist(), dist.tolist(), strict=True):
        if d <= limits.same_name_m:
            yield a, b, (4, -100.0, d)


def _cross_source(i: np.ndarray, j: np.ndarray, src: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    ok = (i < j) & (src[i] != src[j])
    return i[ok], j[ok]


def _greedy_groups(n: int, candidates: Mapping[tuple[int, int], _SortKey],
                   src: np.ndarray) -> np.ndarray:
    """Join candidate pairs best first into groups with one record per source, no chaining."""
    group = np.arange(n)
    members: dict[int, list[int]] = {}
    for a, b in sorted(candidates, key=candidates.__getitem__):
        ga, gb = group[a], group[b]
        if ga == gb:
            continue
        ma, mb = members.get(ga, [a]), members.get(gb, [b])
        if {src[x] for x in ma} & {src[y] for y in mb}:
            continue
        if not all((min(x, y), max(x, y)) in candidates for x in ma for y in mb):
            continue
        members[ga] = ma + mb
        members.pop(gb, None)
        group[mb] = ga
    return group


def _keepers(group: np.ndarray, source_rank: np.ndarray) -> np.ndarray:
    """For every row, the row its group keeps: the best source, then the first row."""
    n = len(group)
    order = np.lexsort((np.arange(n), source_rank, group))  # within a group: best source first
    first = np.ones(n, dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    return pd.Series(order[first], index=group[order][first]).loc[group].to_numpy()


def _merge_into_keepers(places: gpd.GeoDataFrame, keeper: np.ndarray) -> gpd.GeoDataFrame:
    """Keep the keeper rows, adding the ids of the rows merged into each to ``merged_ids``."""
    ids = places["place_id"].astype(str).to_numpy()
    others = keeper != np.arange(len(places))
    merged = pd.Series(ids[others], index=keeper[others]).groupby(level=0).agg(
        lambda s: ";".join(sorted(s)))
    out = places.loc[np.sort(np.unique(keeper))].copy()
    out["merged_ids"] = [";".join(x for x in (old, merged.get(k, "")) if x)
                         for k, old in zip(out.index, out["merged_ids"], strict=True)]
    return out


def _core_name(norm: str, type_words: frozenset[str] = _TYPE_WORDS) -> str:
    """Drop type words ("centre civic", "biblioteca" ...) from a normalised name."""
    return " ".join(t for t in norm.split() if t not in type_words)


def _name_score(norm_a: str, norm_b: str, core_a: str, core_b: str, *,
                near: bool) -> tuple[float, float]:
    """Similarity (0-100) of two names of one family: (score to test, score to rank by).

    Names without type words are compared when both have some, else the whole names. A
    one-word name matches a longer one only when it is its first word and the two are near
    ("Beckett" ~ "Beckett Obrador Internacional", not "Born" ~ "Pizza Born"); farther apart,
    the whole names must agree ("Bar El Born" is not "Taverna del Born").
    """
    if norm_a and norm_a == norm_b:
        return 100.0, 100.0
    a, b = (core_a, core_b) if core_a and core_b else (norm_a, norm_b)
    if not a or not b:
        return 0.0, 0.0
    short, long_ = sorted((a.split(), b.split()), key=len)
    if len(short) == 1:
        # far apart, one word ("Born"): the whole names must agree
        score = 100.0 if near and long_[0] == short[0] else float(fuzz.ratio(norm_a, norm_b))
    else:
        score = float(fuzz.token_set_ratio(a, b))
    return score, (score + float(fuzz.token_sort_ratio(a, b))) / 2


def _with_merged_ids(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    places = places.copy()
    if "merged_ids" not in places:
        places["merged_ids"] = ""
    places["merged_ids"] = places["merged_ids"].fillna("")
    return places


def _log_dedup(before: pd.DataFrame, after: pd.DataFrame) -> None:
    counts = pd.DataFrame({"before": before["category"].value_counts(),
                           "after": after["category"].value_counts()}).fillna(0).astype(int)
    logger.info("places de-duplicated: %d -> %d; per category: %s", len(before), len(after),
                ", ".join(f"{c} {r.before}->{r.after}" for c, r in counts.iterrows()
                          if r.before != r.after) or "no change")


def _ranker(priority: Sequence[str]) -> Callable[[Any], int]:
    ranks = {s: k for k, s in enumerate(priority)}
    return lambda s: ranks.get(str(s), len(ranks))


# --------------------------------------------------------------------------------------------
# Stations
# --------------------------------------------------------------------------------------------

def collapse_stations(
    transit: gpd.GeoDataFrame,
    *,
    merge_m: Mapping[str, float] = STATION_MERGE_M,
    priority: Sequence[str] = TRANSIT_SOURCE_PRIORITY,
) -> gpd.GeoDataFrame:
    """Merge the rows of one station: same mode, same normalised name, close together.

    Rows are linked when they share mode and normalised name and lie within
    ``merge_m[mode]`` metres of each other (single linkage, from a shapely STRtree); unnamed
    rows are never merged. A merged station takes the attributes of its preferred source
    (``priority``), the smallest ``stop_id`` of that source, the union of everyone's lines, and
    the mean position of that source's best rows (OSM stations before platforms and stop
    positions before entrances).

    Parameters
    ----------
    transit
        Transit layer (work CRS).
    merge_m
        Merge distance per mode in metres (:data:`STATION_MERGE_M`); a mode missing here or
        at ``0`` is not merged.
    priority
        Source names, preferred first; unknown sources come last.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per station (same columns).
    """
    transit = transit.reset_index(drop=True)
    n = len(transit)
    if n < 2:
        return transit
    group = _station_groups(transit, merge_m)
    if len(np.unique(group)) == n:
        return transit.drop(columns="_rank", errors="ignore")
    result = _merge_stations(transit, group, priority)
    logger.info("transit: %d rows collapsed into %d stations/stops", n, len(result))
    return result


def _station_groups(transit: gpd.GeoDataFrame, merge_m: Mapping[str, float]) -> np.ndarray:
    """Station number of every row: single linkage of same mode + name within the radius."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(transit)
    geoms = transit.geometry.to_numpy()
    mode = transit["mode"].astype(str).to_numpy()
    key = (transit["mode"].astype(str) + "|" + transit["name"].fillna("").map(_norm_name))
    key = key.where(transit["name"].fillna("").map(_norm_name) != "",
                    "#" + pd.Series(np.arange(n), dtype=str)).to_numpy()
    radius = np.array([float(merge_m.get(m, 0.0)) for m in mode])
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=float(radius.max(initial=0.0)))
    ok = (i < j) & (key[i] == key[j])
    i, j = i[ok], j[ok]
    ok = (shapely.distance(geoms[i], geoms[j]) <= radius[i]) & (radius[i] > 0)
    graph = coo_matrix((np.ones(int(ok.sum())), (i[ok], j[ok])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    return np.asarray(group)


def _merge_stations(transit: gpd.GeoDataFrame, group: np.ndarray, priority: Sequence[str]
                    ) -> gpd.GeoDataFrame:
    """One row per group: the preferred source's attributes, everyone's lines, mean point."""
    n = len(transit)
    geoms = transit.geometry.to_numpy()
    frame = pd.DataFrame({
        "group": group,
        "src_rank": transit["source"].map(_ranker(priority)).to_numpy(),
        "rank": transit["_rank"].fillna(0).to_numpy() if "_rank" in transit else np.zeros(n),
        "x": shapely.get_x(geoms), "y": shapely.get_y(geoms)})
    best = frame.groupby("group")[["src_rank", "rank"]].transform("min")
    core = (frame["src_rank"] == best["src_rank"]) & (frame["rank"] == best["rank"])
    lines = transit["lines"].fillna("").groupby(group).agg(
        lambda s: _join_lines(part for v in s for part in _split(v)))
    rows = transit[core.to_numpy()].copy()
    rows["group"] = group[core.to_numpy()]
    rows["x"], rows["y"] = frame["x"][core], frame["y"][core]
    rows = rows.sort_values(["group", "stop_id"])
    out = rows.groupby("group").agg(
        stop_id=("stop_id", "first"), name=("name", "first"), mode=("mode", "first"),
        source=("source", "first"), date=("date", "first"), x=("x", "mean"), y=("y", "mean"))
    out["lines"] = lines.loc[out.index]
    return gpd.GeoDataFrame(
        out.drop(columns=["x", "y"]).reset_index(drop=True),
        geometry=gpd.points_from_xy(out["x"], out["y"]), crs=transit.crs)
