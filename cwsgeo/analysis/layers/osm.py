"""OpenStreetMap: tag schemes, XML files and their relations, OSM layers, live Overpass.

One tag mapping per layer serves every OSM source: :data:`OSM_PLACE_TAGS` with
:func:`osm_place_category` for places, :data:`OSM_TRANSIT_TAGS` with :func:`osm_transit_mode`
for transit. Features come from an OSM XML file (osmnx, plus the file's route and stop-area
relations), from an OSM-derived GeoJSON, or live from Overpass through osmnx
(:func:`fetch_places_live`, :func:`fetch_transit_live`); all three become the places or
transit schema through the same conversion.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ... import settings
from ..._http import call_live, osmnx_settings
from ...schema import (
    ALL_PLACE_CATEGORIES,
    PLACE_CATEGORIES,
    PLACES_COLUMNS,
    TRANSIT_COLUMNS,
)
from ._frames import Clip, PathLike, _check_values, _empty, _finish, _points, _to_crs_geometry
from ._names import _clean_text, _join_lines, _norm_name, _split, _tag, _text
from .dedupe import collapse_stations
from .modes import TransitModes

__all__ = [
    "OSM_FERRY_TAGS",
    "OSM_PLACE_TAGS",
    "OSM_TRANSIT_TAGS",
    "fetch_places_live",
    "fetch_transit_live",
    "osm_place_category",
    "osm_transit_mode",
]

logger = logging.getLogger(__name__)

#: OSM ``(key, value)`` -> ``(category, subcategory)``: the one mapping used for OSM XML files,
#: OSM-derived GeoJSON and live Overpass downloads (whose query tags are built from its keys).
#: When an element has several of these tags, the first entry here wins. A community centre,
#: social centre or arts centre whose name says "Centre Cívic"/"Centro Cívico" becomes
#: ``civic_centre`` (OSM has no tag for the city's civic centres).
OSM_PLACE_TAGS: dict[tuple[str, str], tuple[str, str]] = {
    ("amenity", "library"): ("library", "library"),
    ("amenity", "community_centre"): ("community_centre", "community_centre"),
    ("amenity", "social_centre"): ("community_centre", "social_centre"),
    ("amenity", "theatre"): ("culture_venue", "theatre"),
    ("amenity", "cinema"): ("culture_venue", "cinema"),
    ("amenity", "arts_centre"): ("culture_venue", "arts_centre"),
    ("amenity", "concert_hall"): ("culture_venue", "concert_hall"),
    ("amenity", "music_venue"): ("culture_venue", "live_music_venue"),
    ("amenity", "events_venue"): ("culture_venue", "events_venue"),
    ("amenity", "exhibition_centre"): ("culture_venue", "exhibition_centre"),
    ("amenity", "conference_centre"): ("culture_venue", "conference_centre"),
    ("tourism", "museum"): ("culture_venue", "museum"),
    ("tourism", "gallery"): ("culture_venue", "gallery"),
    ("leisure", "dance"): ("culture_venue", "dance_hall"),
    ("amenity", "nightclub"): ("nightclub", "nightclub"),
    ("amenity", "bar"): ("bar", "bar"),
    ("amenity", "pub"): ("bar", "pub"),
    ("amenity", "biergarten"): ("bar", "biergarten"),
    ("amenity", "cafe"): ("cafe", "cafe"),
    ("amenity", "ice_cream"): ("cafe", "ice_cream"),
    ("amenity", "restaurant"): ("restaurant", "restaurant"),
    ("amenity", "fast_food"): ("restaurant", "fast_food"),
    ("amenity", "food_court"): ("restaurant", "food_court"),
}

#: OSM tags of transit features (query for XML files and Overpass); :func:`osm_transit_mode`
#: maps each feature to a mode. A city with ferries (``"ferry"`` among its modes) also asks
#: for :data:`OSM_FERRY_TAGS`.
OSM_TRANSIT_TAGS: dict[str, list[str]] = {
    "railway": ["halt", "station", "subway_entrance", "tram_stop"],
    "public_transport": ["platform", "station", "stop_position"],
    "highway": ["bus_stop"],
}
#: OSM tags of ferry terminals.
OSM_FERRY_TAGS: dict[str, list[str]] = {"amenity": ["ferry_terminal"]}

#: The generic modes and rules (:data:`cwsgeo.schema.TRANSIT_MODES`).
_GENERIC = TransitModes()

#: Pseudo-tag added to OSM XML features: operator/network of the stop areas they belong to.
_HINT_OPERATOR = "cwsgeo:operator"

#: Service route types (``route=railway`` is the track, not a service, and is ignored).
_ROUTE_TYPES = frozenset({"subway", "train", "light_rail", "tram", "bus", "trolleybus",
                          "funicular", "monorail", "ferry"})

#: Tags read from a transit feature.
_TRANSIT_KEYS = ("railway", "station", "public_transport", "highway", "bus", "trolleybus",
                 "tram", "light_rail", "subway", "train", "funicular", "network", "operator",
                 "name", "route_ref", "amenity", "ferry", _HINT_OPERATOR)

_CIVIC_CANDIDATES = frozenset({"community_centre", "social_centre", "arts_centre"})
_CIVIC_RE = re.compile(r"\bcentre\s+c[ií]vic\b|\bcentro\s+c[ií]vico\b", re.IGNORECASE)

#: Route modes served by OSM elements: ``{(element, id): {mode: {line ref, ...}}}``.
_RouteModes = Mapping[tuple[str, int], Mapping[str, set[str]]]


# --------------------------------------------------------------------------------------------
# Tag schemes
# --------------------------------------------------------------------------------------------

def osm_place_category(tags: Mapping[str, Any]) -> tuple[str, str] | None:
    """Map one OSM element's tags to ``(category, subcategory)`` with :data:`OSM_PLACE_TAGS`.

    Parameters
    ----------
    tags
        The element's tags (missing values may be ``None`` or NaN).

    Returns
    -------
    tuple of str or None
        ``None`` when no tag of the mapping matches.

    Examples
    --------
    >>> osm_place_category({"amenity": "pub", "name": "The Black Horse"})
    ('bar', 'pub')
    >>> osm_place_category({"amenity": "community_centre", "name": "Centre Cívic Urgell"})
    ('civic_centre', 'civic_centre')
    """
    for (key, value), (category, subcategory) in OSM_PLACE_TAGS.items():
        if _tag(tags, key) == value:
            if subcategory in _CIVIC_CANDIDATES and _CIVIC_RE.search(_text(tags.get("name"))):
                return "civic_centre", "civic_centre"
            return category, subcategory
    return None


def osm_transit_mode(tags: Mapping[str, Any], rules: TransitModes = _GENERIC) -> str | None:
    r"""Map one OSM element's tags to a transit mode (the one rule for XML and live data).

    Checked in order: funicular (``railway``/``station=funicular``, ``funicular=yes``); tram
    (``railway=tram_stop``, ``station=tram|light_rail``, ``tram=yes``); ferry
    (``amenity=ferry_terminal``, ``ferry=yes``, ferry routes); bus (``highway=bus_stop``,
    ``bus=yes``, bus routes) unless the element is a railway station or entrance; the city's
    operator rules (:attr:`TransitModes.operators`: network or operator text); train
    (``station=train``, ``train=yes``, train routes: the city's :attr:`TransitModes.rail`
    mode); metro (``station=subway``, ``subway=yes``, ``railway=subway_entrance``, subway
    routes, a network or operator naming a metro).

    The same rule maps the route relations of an OSM XML file (``route=subway`` + an
    operator rule's operator is that operator's mode): a station that is a stop of routes of
    several modes becomes one row per mode, with each mode's line refs. Stop-area relations
    lend their operator as the pseudo-tag ``cwsgeo:operator``.

    Parameters
    ----------
    tags
        The element's tags (missing values may be ``None`` or NaN).
    rules
        The city's modes and rules (default: the generic ones, :class:`TransitModes`).

    Returns
    -------
    str or None
        A mode, or ``None`` when nothing tells the mode (e.g. a bare ``railway=station`` with
        no network, operator or route). Modes the city does not have (a ferry) are returned
        too: the readers keep only :attr:`TransitModes.modes`.

    Examples
    --------
    >>> osm_transit_mode({"railway": "station", "station": "subway", "operator": "Metro"})
    'metro'
    >>> osm_transit_mode({"highway": "bus_stop", "operator": "City Bus"})
    'bus'
    >>> osm_transit_mode({"railway": "station", "train": "yes", "operator": "National Rail"})
    'rail'
    >>> city = TransitModes(modes=("metro", "citytrain", "bus"), rail="citytrain",
    ...                     operators=(("metro", r"\bu-bahn\b"),))
    >>> osm_transit_mode({"railway": "station", "train": "yes", "network": "U-Bahn"}, city)
    'metro'
    >>> osm_transit_mode({"railway": "halt", "train": "yes"}, city)
    'citytrain'
    >>> osm_transit_mode({"railway": "halt"}, city)
    'citytrain'
    """
    railway, station = _tag(tags, "railway"), _tag(tags, "station")
    routes = {_tag(tags, "route")} - {""}
    text = " ".join(_tag(tags, k) for k in ("network", "operator", _HINT_OPERATOR))

    if (railway == "funicular" or station == "funicular" or _tag(tags, "funicular") == "yes"
            or "funicular" in routes):
        return "funicular"
    if (railway == "tram_stop" or station in ("tram", "light_rail") or _tag(tags, "tram") == "yes"
            or _tag(tags, "light_rail") == "yes" or routes & {"tram", "light_rail"}):
        return "tram"
    if (_tag(tags, "amenity") == "ferry_terminal" or _tag(tags, "ferry") == "yes"
            or "ferry" in routes):
        return "ferry"
    is_rail = (railway in ("station", "halt", "subway_entrance", "platform", "stop")
               or bool(station) or _tag(tags, "subway") == "yes" or _tag(tags, "train") == "yes")
    is_bus = (_tag(tags, "highway") == "bus_stop" or _tag(tags, "bus") == "yes"
              or _tag(tags, "trolleybus") == "yes" or (routes and routes <= {"bus", "trolleybus"}))
    if is_bus and not is_rail:
        return "bus"
    operated = rules.operator_mode(text)
    if operated is not None:
        return operated
    if station == "train" or _tag(tags, "train") == "yes" or "train" in routes:
        return rules.rail
    if (station == "subway" or _tag(tags, "subway") == "yes" or railway == "subway_entrance"
            or "subway" in routes or rules.runs_metro(text)):
        return "metro"
    if railway == "halt":  # OSM: a small railway station; trams and metros tag their own
        return rules.rail
    return None


# --------------------------------------------------------------------------------------------
# Live downloads
# --------------------------------------------------------------------------------------------

def fetch_places_live(
    polygon: Clip,
    cache_dir: PathLike,
    *,
    categories: Iterable[str] | None = PLACE_CATEGORIES,
) -> gpd.GeoDataFrame:
    """Download places inside ``polygon`` from Overpass (osmnx) into the places schema.

    The query asks for every tag of :data:`OSM_PLACE_TAGS`; answers go through cwsgeo's HTTP
    etiquette, retries and osmnx's cache under ``cache_dir``. ``date`` is today's date. Nothing
    is clipped or de-duplicated against other sources here: save the result (it reads back
    through :func:`~cwsgeo.analysis.layers.read_places`, which does both).

    Parameters
    ----------
    polygon
        Area to query: GeoDataFrame/GeoSeries with a CRS, or a shapely (Multi)Polygon in
        lon/lat (or the work CRS, recognised by its coordinates).
    cache_dir
        cwsgeo's cache folder.
    categories
        Categories to keep; ``None`` keeps every mapped category.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`cwsgeo.schema.PLACES_COLUMNS` (``source = "osm"``).

    Raises
    ------
    cwsgeo.DataSourceError
        Overpass failed or answered badly after the retries.
    """
    keep = _check_values(categories, ALL_PLACE_CATEGORIES, "category")
    tags = _query_tags(OSM_PLACE_TAGS)
    features = _overpass(polygon, tags, Path(cache_dir))
    places = _places_from_osm(features, _today())
    return _finish(places[places["category"].isin(keep)], PLACES_COLUMNS)


def fetch_transit_live(
    polygon: Clip,
    cache_dir: PathLike,
    *,
    modes: Iterable[str] | None = None,
    collapse: bool = True,
    rules: TransitModes = _GENERIC,
) -> gpd.GeoDataFrame:
    """Download transit stations and stops inside ``polygon`` from Overpass into the schema.

    The query asks for :data:`OSM_TRANSIT_TAGS` (and :data:`OSM_FERRY_TAGS` when the city
    has ferries); :func:`osm_transit_mode` maps each feature to a mode (features with no
    recognisable mode are dropped). ``date`` is today's date.

    Parameters
    ----------
    polygon
        Area to query (as for :func:`fetch_places_live`).
    cache_dir
        cwsgeo's cache folder.
    modes
        Modes to keep; ``None`` keeps all of the city's modes (``rules.modes``).
    collapse
        Merge the elements of one station
        (:func:`~cwsgeo.analysis.layers.collapse_stations`).
    rules
        The city's transit modes and rules (default: the generic ones,
        :data:`cwsgeo.schema.TRANSIT_MODES`).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`cwsgeo.schema.TRANSIT_COLUMNS` (``source = "osm"``).

    Raises
    ------
    cwsgeo.DataSourceError
        Overpass failed or answered badly after the retries.
    """
    keep = _check_values(modes, rules.modes, "mode")
    features = _overpass(polygon, _transit_tags(rules), Path(cache_dir))
    transit = _transit_from_osm(features, _today(), rules=rules)
    transit = transit[transit["mode"].isin(keep)]
    if collapse:
        transit = collapse_stations(transit, merge_m=rules.merge_distances,
                                    priority=rules.source_priority)
    return _finish(transit, TRANSIT_COLUMNS)


def _transit_tags(rules: TransitModes) -> dict[str, list[str]]:
    """OSM tags to ask for the city's modes."""
    return {**OSM_TRANSIT_TAGS, **(OSM_FERRY_TAGS if "ferry" in rules.modes else {})}


def _today() -> str:
    return dt.date.today().isoformat()


def _query_tags(mapping: Mapping[tuple[str, str], Any]) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for key, value in mapping:
        tags.setdefault(key, []).append(value)
    return {k: sorted(v) for k, v in tags.items()}


def _overpass(polygon: Clip, tags: dict[str, list[str]], cache_dir: Path) -> gpd.GeoDataFrame:
    """Query Overpass through osmnx inside cwsgeo's HTTP settings."""
    area = _to_crs_geometry(polygon, settings.crs_store)
    with osmnx_settings(cache_dir, source="Overpass"):
        features = call_live(_features_from_polygon, area, tags, source="Overpass")
    logger.info("Overpass: %d features", len(features))
    return features


def _features_from_polygon(polygon: BaseGeometry, tags: dict[str, list[str]]
                           ) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        return ox.features_from_polygon(polygon, tags)  # type: ignore[arg-type]
    except InsufficientResponseError as exc:
        if "No matching features" in str(exc):
            return _empty_osm()
        raise


# --------------------------------------------------------------------------------------------
# Files: OSM XML (features, relations, date) and OSM-derived layers
# --------------------------------------------------------------------------------------------

def _places_from_osm_xml(path: Path, date: str) -> gpd.GeoDataFrame:
    """Places of an OSM XML file."""
    return _places_from_osm(_xml_features(path, _query_tags(OSM_PLACE_TAGS)), date)


def _transit_from_osm_xml(path: Path, date: str, rules: TransitModes = _GENERIC
                          ) -> gpd.GeoDataFrame:
    """Transit of an OSM XML file, with the modes and operators its relations give."""
    features = _xml_features(path, _transit_tags(rules))
    route_modes: dict[tuple[str, int], dict[str, set[str]]] = {}
    if len(features):
        route_modes, operators = _osm_xml_relations(path, rules)
        if operators:
            hint = pd.Series(operators, name=_HINT_OPERATOR)
            hint.index = hint.index.set_names(["element", "id"])
            features = features.join(hint, how="left")
    return _transit_from_osm(features, date, route_modes, rules)


def _xml_features(path: Path, tags: dict[str, list[str]]) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        return ox.features_from_xml(path, tags=tags)  # type: ignore[arg-type]
    except InsufficientResponseError:
        logger.info("%s: no matching OSM features", path.name)
        return _empty_osm()


def _osm_layer(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Index an OSM-derived layer (tags as columns) like osmnx's output."""
    if {"osm_type", "osm_id"} <= set(gdf.columns):
        gdf = gdf.rename(columns={"osm_type": "element", "osm_id": "id"})
    gdf["id"] = pd.to_numeric(gdf["id"], errors="coerce").astype("Int64")
    return gdf.set_index(["element", "id"])


def _empty_osm() -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=["element", "id"])
    return gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs=settings.crs_store)},
                            index=index, geometry="geometry", crs=settings.crs_store)


def _osm_xml_date(path: Path) -> str | None:
    """Newest element timestamp of an OSM XML file, as an ISO date."""
    newest = b""
    pattern = re.compile(rb'timestamp="(\d{4}-\d{2}-\d{2})')
    with path.open("rb") as fh:
        for line in fh:
            for stamp in pattern.findall(line):
                newest = max(newest, stamp)
    return newest.decode() if newest else None


def _osm_xml_relations(path: Path, rules: TransitModes = _GENERIC
                       ) -> tuple[dict[tuple[str, int], dict[str, set[str]]],
                                  dict[tuple[str, int], str]]:
    """Modes and line refs of the routes each element serves, and its stop areas' operators.

    Returns ``({(element, id): {mode: {ref, ...}}}, {(element, id): "operator network"})``;
    a route's mode is :func:`osm_transit_mode` of the relation's own tags (routes of modes
    the city does not have are left out).
    """
    modes: dict[tuple[str, int], dict[str, set[str]]] = {}
    operators: dict[tuple[str, int], set[str]] = {}
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "relation":
            tags = {t.get("k") or "": t.get("v") or "" for t in elem.findall("tag")}
            route = tags.get("route", "") if tags.get("type") == "route" else ""
            mode = osm_transit_mode(tags, rules) if route in _ROUTE_TYPES else None
            mode = mode if mode in rules.modes else None
            stop_area = (tags.get("type") == "public_transport"
                         and tags.get("public_transport") == "stop_area")
            operator = " ".join(filter(None, (tags.get("operator"), tags.get("network"))))
            for member in elem.findall("member"):
                kind, ref = member.get("type") or "", member.get("ref") or ""
                if kind not in ("node", "way") or not ref.isdigit():
                    continue
                key = (kind, int(ref))
                if mode is not None:
                    refs = modes.setdefault(key, {}).setdefault(mode, set())
                    refs.update(_split(tags.get("ref")))
                if stop_area and operator:
                    operators.setdefault(key, set()).add(operator)
            elem.clear()
        elif elem.tag in ("node", "way"):
            elem.clear()
    return modes, {k: " ".join(sorted(v)) for k, v in operators.items()}


# --------------------------------------------------------------------------------------------
# OSM features -> the schemas
# --------------------------------------------------------------------------------------------

def _osm_ids(features: gpd.GeoDataFrame) -> pd.Series:
    element = features.index.get_level_values(0).astype(str)
    ident = features.index.get_level_values(1).astype(str)
    return pd.Series("osm:" + element + "/" + ident, index=features.index)


def _records(features: gpd.GeoDataFrame, keys: Iterable[str]) -> list[dict[str, Any]]:
    cols = [k for k in dict.fromkeys(keys) if k in features.columns]
    return features[cols].to_dict("records") if cols else [{} for _ in range(len(features))]


def _places_from_osm(features: gpd.GeoDataFrame, date: str) -> gpd.GeoDataFrame:
    """OSM features (osmnx layout) -> places schema, via :func:`osm_place_category`."""
    if not len(features):
        return _empty(PLACES_COLUMNS)
    keys = [k for k, _ in OSM_PLACE_TAGS] + ["name", "addr:street", "addr:housenumber"]
    records = _records(features, keys)
    mapped = [osm_place_category(r) for r in records]
    ok = np.array([m is not None for m in mapped], dtype=bool)
    names = [_osm_name(r) for r in records]
    out = gpd.GeoDataFrame({
        "place_id": _osm_ids(features).to_numpy(),
        "name": names,
        "category": [m[0] if m else "" for m in mapped],
        "subcategory": [m[1] if m else "" for m in mapped],
        "source": "osm", "date": date, "merged_ids": ""},
        geometry=features.geometry.to_numpy(), crs=features.crs)
    return _points(out[ok])


def _transit_from_osm(features: gpd.GeoDataFrame, date: str,
                      route_modes: _RouteModes | None = None,
                      rules: TransitModes = _GENERIC) -> gpd.GeoDataFrame:
    """OSM features (osmnx layout) -> transit schema, via :func:`osm_transit_mode`.

    An element that serves routes (``route_modes``, from an XML file's relations) takes the
    modes and line refs of those routes, one row per mode; otherwise its own tags tell the
    mode. Named subway entrances join the station of the same name nearby, whatever its mode
    (a suburban train station's entrances are often tagged like the metro's); unnamed ones
    are dropped.
    """
    if not len(features):
        return _empty((*TRANSIT_COLUMNS, "_rank"))
    records = _records(features, _TRANSIT_KEYS)
    rows = _transit_rows(features, records, route_modes or {}, rules)
    if not rows:
        return _empty((*TRANSIT_COLUMNS, "_rank"))
    positions = np.array([r[0] for r in rows])
    names = [_clean_text(_text(records[p].get("name"))) for p in positions]
    out = gpd.GeoDataFrame({
        "stop_id": [r[1] for r in rows], "name": names, "mode": [r[2] for r in rows],
        "lines": [r[3] for r in rows], "source": "osm", "date": date,
        "_rank": [_osm_transit_rank(records[p]) for p in positions]},
        geometry=features.geometry.to_numpy()[positions], crs=features.crs)
    out = out[~((out["_rank"] == 2) & (out["name"] == ""))]
    return _entrances_join_stations(_points(out))


def _transit_rows(features: gpd.GeoDataFrame, records: list[dict[str, Any]],
                  route_modes: _RouteModes, rules: TransitModes
                  ) -> list[tuple[int, str, str, str]]:
    """``(position, stop_id, mode, lines)`` per feature and mode it serves."""
    ids = _osm_ids(features).to_numpy()
    rows: list[tuple[int, str, str, str]] = []
    unknown = 0
    for pos, (key, tags) in enumerate(zip(features.index, records, strict=True)):
        own_lines = _split(tags.get("route_ref"))
        served = route_modes.get((str(key[0]), int(key[1])), {})
        if served:
            for route_mode, refs in sorted(served.items()):
                stop_id = ids[pos] if len(served) == 1 else f"{ids[pos]}#{route_mode}"
                rows.append((pos, stop_id, route_mode, _join_lines([*refs, *own_lines])))
            continue
        mode = osm_transit_mode(tags, rules)
        if mode is None:
            unknown += 1
            continue
        rows.append((pos, ids[pos], mode, _join_lines(own_lines)))
    if unknown:
        logger.info("OSM transit: %d feature(s) with no recognisable mode dropped", unknown)
    return rows


def _entrances_join_stations(transit: gpd.GeoDataFrame, within_m: float = 500.0
                             ) -> gpd.GeoDataFrame:
    """Give each entrance the mode of the nearest same-name station or platform nearby."""
    rank = transit["_rank"].to_numpy()
    entrance, other = np.flatnonzero(rank == 2), np.flatnonzero(rank < 2)
    if not len(entrance) or not len(other):
        return transit
    geoms = transit.geometry.to_numpy()
    names = transit["name"].map(_norm_name).to_numpy(dtype=object)
    i, j = shapely.STRtree(geoms[other]).query(geoms[entrance], predicate="dwithin",
                                               distance=within_m)
    a, b = entrance[i], other[j]
    same = names[a] == names[b]
    a, b = a[same], b[same]
    if not len(a):
        return transit
    pairs = pd.DataFrame({"a": a, "b": b, "d": shapely.distance(geoms[a], geoms[b])})
    nearest = pairs.sort_values("d").drop_duplicates("a")
    transit = transit.copy()
    col = transit.columns.get_loc("mode")
    transit.iloc[nearest["a"].to_numpy(), col] = transit["mode"].to_numpy()[
        nearest["b"].to_numpy()]
    return transit


def _osm_transit_rank(tags: Mapping[str, Any]) -> int:
    """0 station, 1 platform/stop, 2 entrance: which elements place a collapsed station."""
    if _tag(tags, "railway") == "subway_entrance":
        return 2
    if _tag(tags, "railway") in ("station", "halt") or _tag(tags, "public_transport") == \
            "station":
        return 0
    return 1


def _osm_name(tags: Mapping[str, Any]) -> str:
    name = _clean_text(_text(tags.get("name")))
    if name:
        return name
    street, number = _text(tags.get("addr:street")), _text(tags.get("addr:housenumber"))
    return _clean_text(f"{street}, {number}" if street and number else street)
