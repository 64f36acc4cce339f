"""Places and transit layers: one schema each, whatever the source.

This module owns the two point layers that the proximity metrics count and measure to:

* **places** of face-to-face interaction (cafés, bars, restaurants, terraces, culture venues,
  libraries, civic and community centres, nightclubs), read from the Ajuntament's facility
  lists, from an OSM XML file, from OSM-derived GeoJSON, or downloaded live from Overpass;
* **transit** stations and stops (metro, tram, FGC, Rodalies, bus, funicular), read from the
  operators' GTFS-derived station files, from OSM, or downloaded live.

Whatever the source, a loader returns a GeoDataFrame of points in
:data:`cwsgeo.settings.crs_work` with exactly :data:`PLACES_COLUMNS` or
:data:`TRANSIT_COLUMNS` (polygons and lines become a representative point). Files already in
that schema (what the fetch step saves from a live download, as GeoPackage or GeoJSON) read
back unchanged, so the build can use mirror files, OSM XML or a saved download through one call.

Places schema
-------------
``place_id``
    ``"<source>:<source id>"``, unique, e.g. ``"icub_equipaments:453"`` or
    ``"osm:node/82781678"``.
``name``
    Venue name; for terraces (the licence list has no business name) the street address.
``category``
    One of :data:`ALL_CATEGORIES`; by default only :data:`INTERACTION_CATEGORIES` are kept.
``subcategory``
    Finer class (``museum``, ``pub``, ``terrace_public_way`` ...).
``source``
    Short source name (see :data:`PLACE_SOURCE_PRIORITY`).
``date``
    Data date of the source as an ISO date string (the newest record or element date, the
    mirrored edition's date, or the download date for live data).
``merged_ids``
    ``;``-joined ``place_id`` of the records of *other* sources merged into this one by
    :func:`dedupe_places` (empty when none).

Transit schema
--------------
``stop_id``
    ``"<source>:<source id>"`` (for a collapsed station, the smallest member id).
``name``, ``mode`` (one of :data:`MODES`), ``lines`` (``;``-joined, naturally sorted, e.g.
``"L1;L3"``; empty when unknown), ``source``, ``date`` as for places.

Examples
--------
>>> from cwsgeo import layers
>>> places = layers.read_places("../shared/data/bcn/places")  # doctest: +SKIP
>>> layers.count_places(places)  # doctest: +SKIP
>>> transit = layers.read_transit("../shared/data/bcn/osm/transit_gtfs",
...                               clip=boundary)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer
from rapidfuzz import fuzz
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import ConfigError, MissingDataError
from ._http import call_live, osmnx_settings
from ._text import fold

__all__ = [
    "ALL_CATEGORIES",
    "INTERACTION_CATEGORIES",
    "MODES",
    "OSM_PLACE_TAGS",
    "OSM_TRANSIT_TAGS",
    "PLACES_COLUMNS",
    "PLACE_SOURCE_PRIORITY",
    "STATION_MERGE_M",
    "TRANSIT_COLUMNS",
    "TRANSIT_SOURCE_PRIORITY",
    "collapse_stations",
    "count_places",
    "count_transit",
    "dedupe_places",
    "fetch_places_live",
    "fetch_transit_live",
    "osm_place_category",
    "osm_transit_mode",
    "read_places",
    "read_transit",
]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Schemas and schemes
# --------------------------------------------------------------------------------------------

#: Columns of a places layer, in order.
PLACES_COLUMNS: tuple[str, ...] = (
    "place_id", "name", "category", "subcategory", "source", "date", "merged_ids", "geometry")

#: Columns of a transit layer, in order.
TRANSIT_COLUMNS: tuple[str, ...] = (
    "stop_id", "name", "mode", "lines", "source", "date", "geometry")

#: Places of face-to-face interaction: the categories kept by default.
INTERACTION_CATEGORIES: tuple[str, ...] = (
    "cafe", "bar", "restaurant", "terrace", "culture_venue", "library", "civic_centre",
    "community_centre", "nightclub")

#: Every category of the scheme (the city lists also carry parks, playgrounds and the like).
ALL_CATEGORIES: tuple[str, ...] = (*INTERACTION_CATEGORIES, "park", "playground", "sports",
                                   "other")

#: Transit modes.
MODES: tuple[str, ...] = ("metro", "tram", "fgc", "rodalies", "bus", "funicular")

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
#: maps each feature to a mode.
OSM_TRANSIT_TAGS: dict[str, list[str]] = {
    "railway": ["halt", "station", "subway_entrance", "tram_stop"],
    "public_transport": ["platform", "station", "stop_position"],
    "highway": ["bus_stop"],
}

#: Which record of a group of duplicates is kept: earlier sources win. The Ajuntament's list
#: (most current, finest categories) first, then ICUB, the restaurant guide, terraces, OSM.
PLACE_SOURCE_PRIORITY: tuple[str, ...] = (
    "bcn_equipaments", "icub_equipaments", "bcn_restaurants", "bcn_terrasses", "osm")

#: Which source's attributes a collapsed station keeps: operators' files first, then OSM.
TRANSIT_SOURCE_PRIORITY: tuple[str, ...] = (
    "tmb_metro", "tmb_funicular", "tram", "fgc", "rodalies", "tmb_bus", "osm")

#: Rows of one mode with the same normalised name within this distance (m, single linkage)
#: are one station: TMB's one-row-per-line metro stations (Passeig de Gràcia's L2/L3/L4
#: platforms lie ~400 m apart), the two tram platforms, FGC's per-direction stops, OSM's
#: station + platforms + stop positions + entrances. Bus stops only merge when they are
#: practically the same pole (OSM platform + stop position, GTFS duplicates); opposite sides
#: of a street stay two stops.
STATION_MERGE_M: dict[str, float] = {
    "metro": 500.0, "fgc": 500.0, "rodalies": 500.0, "funicular": 200.0, "tram": 100.0,
    "bus": 15.0}

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

#: Data dates of the mirrored editions of files that carry no date of their own (from the
#: bundle's PROVENANCE.md: the copy's commit date), keyed by file stem. Used only when the
#: ``dates`` argument gives none; otherwise the file's modification date is used.
_EDITION_DATES: dict[str, str] = {
    "bcn_icub_equipaments_culturals": "2026-02-03",
    "tmb_metro_stations": "2026-02-23",
    "tmb_funicular_stations": "2026-01-09",
    "tram_stations": "2026-02-24",
    "fgc_stations": "2026-02-24",
    "tmb_bus_stops": "2026-02-23",
    "rodalies_stations": "2026-02-23",
    "places_food_drink": "2012-01-18",
    "places_culture_events": "2012-01-18",
    "transit_osm": "2012-01-18",
}

#: Station-file name keyword -> (mode, source), checked in this order.
_GTFS_FILES: tuple[tuple[str, str, str], ...] = (
    ("funicular", "funicular", "tmb_funicular"),
    ("metro", "metro", "tmb_metro"),
    ("tram", "tram", "tram"),
    ("fgc", "fgc", "fgc"),
    ("rodalies", "rodalies", "rodalies"),
    ("renfe", "rodalies", "rodalies"),
    ("bus", "bus", "tmb_bus"),
)

_HAVE_ARROW = importlib.util.find_spec("pyarrow") is not None
_VECTOR_SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet"})
_XML_SUFFIXES = frozenset({".osm", ".xml"})

# pseudo-tag added to OSM XML features: operator/network of the stop areas they belong to
_HINT_OPERATOR = "cwsgeo:operator"

Clip = BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries
PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# Public API: readers and live downloads
# --------------------------------------------------------------------------------------------

def read_places(
    paths: PathLike | Iterable[PathLike],
    *,
    clip: Clip | None = None,
    clip_buffer_m: float = 0.0,
    categories: Iterable[str] | None = INTERACTION_CATEGORIES,
    dedup: bool = True,
    dates: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read places from any mix of supported files into the places schema.

    Each file's kind is detected from its extension and columns: the Ajuntament's facility
    list (``bcn_equipaments_cultura_lleure``), restaurant guide, ICUB cultural venues and
    terrace licences (all carrying a ``category`` column), OSM XML (``.osm``), OSM-derived
    GeoJSON (``osm_id``/``osm_type`` or ``element``/``id`` plus tags), and files already in
    the places schema. In a folder, files of other kinds (transit, CSV, GraphML, notes) are
    skipped; the bundle's ``bcn_places_combined.csv`` repeats the four lists and is not read.

    Parameters
    ----------
    paths
        A file, a folder (its files are read, not its sub-folders), or several of them.
    clip
        Keep places inside this area: the city boundary as a GeoDataFrame/GeoSeries, or a
        shapely geometry (lon/lat if its bounds look like degrees, else the work CRS).
        ``None`` keeps places inside :data:`cwsgeo.settings.city_bbox`. Points flagged
        ``in_bcn_bbox = false`` by the city lists are always dropped.
    clip_buffer_m
        Grow ``clip`` by this many metres first.
    categories
        Categories to keep; ``None`` keeps all of :data:`ALL_CATEGORIES`. The default keeps
        the nine :data:`INTERACTION_CATEGORIES` (no parks, playgrounds, sports, other).
    dedup
        Merge the same venue listed by several sources (:func:`dedupe_places`).
    dates
        Data dates overriding the detected ones, keyed by file stem or source name.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`PLACES_COLUMNS`.

    Raises
    ------
    cwsgeo.MissingDataError
        A path does not exist, or a folder holds no places file.
    cwsgeo.ConfigError
        A file given explicitly is of no known places kind.
    """
    keep = _check_values(categories, ALL_CATEGORIES, "category")
    places = _read_sources(paths, "places", _PLACE_READERS, dates, PLACES_COLUMNS)
    places = places[places["category"].isin(keep)]
    places = _clip(places, clip, clip_buffer_m)
    places = _unique_ids(places, "place_id")
    if dedup:
        places = dedupe_places(places)
    return _finish(places, PLACES_COLUMNS)


def read_transit(
    paths: PathLike | Iterable[PathLike],
    *,
    clip: Clip | None = None,
    clip_buffer_m: float = 500.0,
    modes: Iterable[str] | None = None,
    collapse: bool = True,
    dates: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read transit stations and stops from any mix of supported files into the transit schema.

    Supported kinds: the operators' station files (``tmb_metro_stations``, ``tram_stations``,
    ``fgc_stations``, ``rodalies_stations``, ``tmb_bus_stops``, ``tmb_funicular_stations``:
    point GeoJSON with ``id``, ``name``, ``lines``; the mode comes from the file name), OSM XML,
    OSM-derived GeoJSON and files already in the transit schema.

    FGC and Rodalies cover the whole region, so stations are clipped to the city grown by
    ``clip_buffer_m`` (500 m by default): a station just across the boundary (L'Hospitalet,
    Esplugues, Sant Adrià) still serves the city's edge.

    Parameters
    ----------
    paths
        A file, a folder (its files, not its sub-folders), or several of them.
    clip
        The city boundary (GeoDataFrame/GeoSeries, or a shapely geometry in lon/lat or the
        work CRS). ``None`` uses :data:`cwsgeo.settings.city_bbox`.
    clip_buffer_m
        Grow ``clip`` by this many metres first.
    modes
        Modes to keep; ``None`` keeps all of :data:`MODES`.
    collapse
        Merge rows of one station (:func:`collapse_stations`): metro line-stations, platform
        pairs, OSM entrances and stop positions.
    dates
        Data dates overriding the detected ones, keyed by file stem or source name.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`TRANSIT_COLUMNS`.

    Raises
    ------
    cwsgeo.MissingDataError
        A path does not exist, or a folder holds no transit file.
    cwsgeo.ConfigError
        A file given explicitly is of no known transit kind.
    """
    keep = _check_values(modes, MODES, "mode")
    transit = _read_sources(paths, "transit", _TRANSIT_READERS, dates,
                            (*TRANSIT_COLUMNS, "_rank"))
    transit = transit[transit["mode"].isin(keep)]
    transit = _unique_ids(transit, "stop_id")
    if collapse:
        transit = collapse_stations(transit)
    transit = _clip(transit, clip, clip_buffer_m)
    return _finish(transit, TRANSIT_COLUMNS)


def _read_sources(paths: PathLike | Iterable[PathLike], layer: str,
                  readers: Mapping[str, Callable[..., pd.DataFrame]],
                  dates: Mapping[str, str] | None, columns: Sequence[str]) -> pd.DataFrame:
    """Read every file of one layer with the reader of its kind and stack them."""
    frames = []
    for path, sub, kind in _resolve(paths, layer):
        frame = readers[kind.kind](path, sub, kind, dates or {})
        logger.info("%s: %d rows from %s (%s)", layer, len(frame), path.name, kind.kind)
        frames.append(frame)
    return _concat(frames, columns)


def fetch_places_live(
    polygon: Clip,
    cache_dir: PathLike,
    *,
    categories: Iterable[str] | None = INTERACTION_CATEGORIES,
) -> gpd.GeoDataFrame:
    """Download places inside ``polygon`` from Overpass (osmnx) into the places schema.

    The query asks for every tag of :data:`OSM_PLACE_TAGS`; answers go through cwsgeo's HTTP
    etiquette, retries and osmnx's cache under ``cache_dir``. ``date`` is today's date. Nothing
    is clipped or de-duplicated against other sources here: save the result (it reads back
    through :func:`read_places`, which does both).

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
        Points in the work CRS with :data:`PLACES_COLUMNS` (``source = "osm"``).

    Raises
    ------
    cwsgeo.DataSourceError
        Overpass failed or answered badly after the retries.
    """
    keep = _check_values(categories, ALL_CATEGORIES, "category")
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
) -> gpd.GeoDataFrame:
    """Download transit stations and stops inside ``polygon`` from Overpass into the schema.

    The query asks for :data:`OSM_TRANSIT_TAGS`; :func:`osm_transit_mode` maps each feature
    to a mode (features with no recognisable mode are dropped). ``date`` is today's date.

    Parameters
    ----------
    polygon
        Area to query (as for :func:`fetch_places_live`).
    cache_dir
        cwsgeo's cache folder.
    modes
        Modes to keep; ``None`` keeps all of :data:`MODES`.
    collapse
        Merge the elements of one station (:func:`collapse_stations`).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`TRANSIT_COLUMNS` (``source = "osm"``).

    Raises
    ------
    cwsgeo.DataSourceError
        Overpass failed or answered badly after the retries.
    """
    keep = _check_values(modes, MODES, "mode")
    features = _overpass(polygon, OSM_TRANSIT_TAGS, Path(cache_dir))
    transit = _transit_from_osm(features, _today())
    transit = transit[transit["mode"].isin(keep)]
    if collapse:
        transit = collapse_stations(transit)
    return _finish(transit, TRANSIT_COLUMNS)


# --------------------------------------------------------------------------------------------
# Public API: mapping, de-duplication, collapsing, summaries
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


def osm_transit_mode(tags: Mapping[str, Any]) -> str | None:
    """Map one OSM element's tags to a transit mode (the one rule for XML and live data).

    Checked in order: funicular (``railway``/``station=funicular``, ``funicular=yes``); tram
    (``railway=tram_stop``, ``station=tram|light_rail``, ``tram=yes``); bus (``highway=bus_stop``,
    ``bus=yes``, bus routes) unless the element is a railway station or entrance; FGC (network
    or operator mentions FGC / Ferrocarrils); Rodalies (Rodalies, Renfe, Adif, ``station=train``,
    ``train=yes``, train routes); metro (``station=subway``, ``subway=yes``,
    ``railway=subway_entrance``, subway routes, TMB/Metro network).

    The same rule maps the route relations of an OSM XML file (``route=subway`` +
    ``operator=FGC`` is FGC): a station that is a stop of routes of several modes (Espanya:
    TMB L1, L3 and FGC L8) becomes one row per mode, with each mode's line refs. Stop-area
    relations lend their operator as the pseudo-tag ``cwsgeo:operator``.

    Parameters
    ----------
    tags
        The element's tags (missing values may be ``None`` or NaN).

    Returns
    -------
    str or None
        One of :data:`MODES`, or ``None`` when nothing tells the mode (e.g. a bare
        ``railway=station`` with no network, operator or route).

    Examples
    --------
    >>> osm_transit_mode({"railway": "station", "station": "subway", "operator": "TMB"})
    'metro'
    >>> osm_transit_mode({"highway": "bus_stop", "operator": "TMB"})
    'bus'
    >>> osm_transit_mode({"railway": "station", "operator": "Ferrocarrils de la Generalitat"})
    'fgc'
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
    is_rail = (railway in ("station", "halt", "subway_entrance", "platform", "stop")
               or bool(station) or _tag(tags, "subway") == "yes" or _tag(tags, "train") == "yes")
    is_bus = (_tag(tags, "highway") == "bus_stop" or _tag(tags, "bus") == "yes"
              or _tag(tags, "trolleybus") == "yes" or (routes and routes <= {"bus", "trolleybus"}))
    if is_bus and not is_rail:
        return "bus"
    if _FGC_RE.search(text):
        return "fgc"
    if (_RODALIES_RE.search(text) or station == "train" or _tag(tags, "train") == "yes"
            or "train" in routes):
        return "rodalies"
    if (station == "subway" or _tag(tags, "subway") == "yes" or railway == "subway_entrance"
            or "subway" in routes or _METRO_RE.search(text)):
        return "metro"
    return None


def dedupe_places(
    places: gpd.GeoDataFrame,
    *,
    near_m: float = 25.0,
    far_m: float = 100.0,
    near_score: float = 75.0,
    far_score: float = 90.0,
    same_name_m: float = 1000.0,
    priority: Sequence[str] = PLACE_SOURCE_PRIORITY,
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
    without type words ("Centre Cívic", "Biblioteca", "Restaurant", "Barcelona" ...), with
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

    Returns
    -------
    geopandas.GeoDataFrame
        The kept rows (same columns), in their original order.
    """
    places = _with_merged_ids(places.reset_index(drop=True))
    n = len(places)
    if n < 2:
        return places
    geoms = places.geometry.to_numpy()
    src = places["source"].astype(str).to_numpy()
    category = places["category"].astype(str).to_numpy()
    family = places["category"].map(_FAMILY).to_numpy(dtype=object)
    # names compared only where a family can merge (not the thousands of terraces)
    names = places["name"].fillna("").astype(str).where(pd.notna(family), "")
    unique_names = pd.unique(names.to_numpy())
    norms = {n: _norm_name(n) for n in unique_names}
    cores = {n: _core_name(v) for n, v in norms.items()}
    norm = names.map(norms).to_numpy(dtype=object)
    core = names.map(cores).to_numpy(dtype=object)

    # pair -> sort key: rule, then the better names (mean of set and sort ratios), then closer
    candidates: dict[tuple[int, int], tuple[int, float, float]] = {}

    def add(a: int, b: int, rule: int, rank: float, dist: float) -> None:
        key = (rule, -rank, dist)
        if (a, b) not in candidates or key < candidates[(a, b)]:
            candidates[(a, b)] = key

    # rule 1: shared register id
    if "_register" in places:
        reg = places[["_register"]].dropna().reset_index()
        pairs = reg.merge(reg, on="_register")
        i, j = pairs["index_x"].to_numpy(), pairs["index_y"].to_numpy()
        for a, b in zip(*_cross_source(i, j, src), strict=True):
            add(int(a), int(b), 1, 100.0, 0.0)
    # rules 2 and 3: neighbours from an STRtree
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=far_m)
    i, j = _cross_source(i, j, src)
    dist = shapely.distance(geoms[i], geoms[j])
    for a, b, d in zip(i.tolist(), j.tolist(), dist.tolist(), strict=True):
        fa, fb = family[a], family[b]
        if fa is None or fb is None or not isinstance(fa, str):
            continue
        if fa == fb:
            score, rank = _name_score(norm[a], norm[b], core[a], core[b], near=d <= near_m)
            if (d <= near_m and score >= near_score) or score >= far_score:
                add(a, b, 2, rank, d)
        elif frozenset((category[a], category[b])) in _CROSS_PAIRS and core[a] and core[b]:
            score = float(fuzz.token_set_ratio(norm[a], norm[b]))
            if score >= far_score:
                add(a, b, 3, (score + fuzz.token_sort_ratio(norm[a], norm[b])) / 2, d)
    # rule 4: identical distinctive names of unique venues
    unique = np.isin(category, list(_UNIQUE_NAME_CATEGORIES)) & np.array(
        [len(c.split()) >= 2 for c in core])
    if unique.any():
        sub = pd.DataFrame({"norm": norm[unique], "cat": category[unique],
                            "idx": np.flatnonzero(unique)})
        pairs = sub.merge(sub, on=["norm", "cat"])
        i, j = _cross_source(pairs["idx_x"].to_numpy(), pairs["idx_y"].to_numpy(), src)
        dist = shapely.distance(geoms[i], geoms[j])
        for a, b, d in zip(i.tolist(), j.tolist(), dist.tolist(), strict=True):
            if d <= same_name_m:
                add(a, b, 4, 100.0, d)

    group = _greedy_groups(n, candidates, src)
    rank = places["source"].map(_ranker(priority)).to_numpy()
    order = np.lexsort((np.arange(n), rank, group))  # within a group: best source first
    first = np.ones(n, dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    keeper = pd.Series(order[first], index=group[order][first]).loc[group].to_numpy()
    ids = places["place_id"].astype(str).to_numpy()
    others = keeper != np.arange(n)
    merged = pd.Series(ids[others], index=keeper[others]).groupby(level=0).agg(
        lambda s: ";".join(sorted(s)))
    out = places.loc[np.sort(np.unique(keeper))].copy()
    out["merged_ids"] = [";".join(x for x in (old, merged.get(k, "")) if x)
                         for k, old in zip(out.index, out["merged_ids"], strict=True)]
    _log_dedup(places, out)
    return out


def _cross_source(i: np.ndarray, j: np.ndarray, src: np.ndarray) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    ok = (i < j) & (src[i] != src[j])
    return i[ok], j[ok]


def _greedy_groups(n: int, candidates: Mapping[tuple[int, int], tuple[int, float, float]],
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
    if len(np.unique(group)) == n:
        return transit.drop(columns="_rank", errors="ignore")

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
    result = gpd.GeoDataFrame(
        out.drop(columns=["x", "y"]).reset_index(drop=True),
        geometry=gpd.points_from_xy(out["x"], out["y"]), crs=transit.crs)
    logger.info("transit: %d rows collapsed into %d stations/stops", n, len(result))
    return result


def count_places(places: pd.DataFrame, by: str = "source") -> pd.DataFrame:
    """Count places per category (rows) and ``by`` (columns), with totals.

    Parameters
    ----------
    places
        Places layer.
    by
        Column to split the counts by (``"source"`` by default).

    Returns
    -------
    pandas.DataFrame
        Counts; the last row and column are named ``total``.
    """
    return _crosstab(places, "category", by, ALL_CATEGORIES)


def count_transit(transit: pd.DataFrame, by: str = "source") -> pd.DataFrame:
    """Count transit stations and stops per mode (rows) and ``by`` (columns), with totals.

    Parameters
    ----------
    transit
        Transit layer.
    by
        Column to split the counts by (``"source"`` by default).

    Returns
    -------
    pandas.DataFrame
        Counts; the last row and column are named ``total``.
    """
    return _crosstab(transit, "mode", by, MODES)


# --------------------------------------------------------------------------------------------
# File kinds and dispatch
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Kind:
    layer: str  # "places", "transit" or "both"
    kind: str
    source: str
    mode: str = ""


def _resolve(paths: PathLike | Iterable[PathLike], layer: str) -> list[tuple[Path, str | None,
                                                                               _Kind]]:
    """Expand files/folders and detect each file's kind; keep those of ``layer``."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    found: list[tuple[Path, str | None, _Kind]] = []
    for item in items:
        path = Path(item)
        if not path.exists():
            raise MissingDataError(f"{layer} input not found: {path}")
        if path.is_dir():
            hits = []
            for file in sorted(p for p in path.iterdir() if p.is_file()):
                hits += [(file, lyr, k) for lyr, k in _detect(file) if k.layer in (layer, "both")]
            if not hits:
                raise MissingDataError(f"no {layer} file of a known kind in folder {path}")
            found += hits
        else:
            hits = [(path, lyr, k) for lyr, k in _detect(path) if k.layer in (layer, "both")]
            if not hits:
                raise ConfigError(f"{path}: not a {layer} file of a known kind (facility list, "
                                  "station file, OSM XML, OSM GeoJSON or cwsgeo's schema)")
            found += hits
    return found


def _detect(path: Path) -> list[tuple[str | None, _Kind]]:
    """Kinds of a file's layers (empty when none is known)."""
    suffix = path.suffix.lower()
    if suffix in _XML_SUFFIXES:
        with path.open("rb") as fh:
            head = fh.read(1024)
        return [(None, _Kind("both", "osm_xml", "osm"))] if b"<osm" in head else []
    if suffix not in _VECTOR_SUFFIXES:
        return []
    try:  # GDAL parses a whole GeoJSON on every open: only multi-layer formats are listed
        layers: list[str | None] = ([None] if suffix in (".geojson", ".json") else
                                    [str(name) for name, _ in pyogrio.list_layers(path)])
        if len(layers) == 1:
            layers = [None]
        kinds = []
        for layer in layers:
            kind = _kind_of(path, set(_fields(path, layer)))
            if kind is not None:
                kinds.append((layer, kind))
    except Exception:  # unreadable files are simply not of a known kind
        logger.debug("cannot read the layers of %s", path)
        return []
    return kinds


def _fields(path: Path, layer: str | None) -> tuple[str, ...]:
    """Field names of a layer, enough to tell its kind.

    GDAL parses a whole GeoJSON file to list its fields, so for GeoJSON the first feature's
    properties are read from the head of the file instead (GDAL when that fails).
    """
    if path.suffix.lower() in (".geojson", ".json"):
        keys = _geojson_first_properties(path)
        if keys is not None:
            return keys
    return tuple(str(f) for f in pyogrio.read_info(path, layer=layer)["fields"])


def _geojson_first_properties(path: Path, head_bytes: int = 1 << 20) -> tuple[str, ...] | None:
    with path.open("rb") as fh:
        head = fh.read(head_bytes).decode("utf-8", errors="ignore")
    match = re.search(r'"features"\s*:\s*\[\s*', head)
    if match is None:
        return None
    if head.startswith("]", match.end()):
        return ()  # an empty FeatureCollection
    try:
        feature, _ = json.JSONDecoder().raw_decode(head, match.end())
    except ValueError:
        return None
    properties = feature.get("properties") if isinstance(feature, dict) else None
    return tuple(properties) if isinstance(properties, dict) else None


def _kind_of(path: Path, fields: set[str]) -> _Kind | None:
    stem = path.name.split(".")[0].lower()
    if {"place_id", "category", "source", "date"} <= fields:
        return _Kind("places", "places_schema", "")
    if {"stop_id", "mode", "source", "date"} <= fields:
        return _Kind("transit", "transit_schema", "")
    if {"Id_Equipament", "Nom_Equipament", "category"} <= fields:
        return _Kind("places", "icub", "icub_equipaments")
    if {"EMPLACAMENT", "category"} <= fields:
        return _Kind("places", "terraces", "bcn_terrasses")
    if {"register_id", "name", "category"} <= fields:
        source = "bcn_restaurants" if "restaurant" in stem else "bcn_equipaments"
        return _Kind("places", "llista", source)
    if {"osm_id", "osm_type"} <= fields or {"element", "id"} <= fields:
        return _Kind("both", "osm_layer", "osm")
    if {"id", "name", "lines"} <= fields:
        for word, mode, source in _GTFS_FILES:
            if word in stem:
                return _Kind("transit", "gtfs", source, mode)
        logger.warning("%s looks like a station file but its name tells no mode; skipped", path)
    return None


def _read_vector(path: Path, layer: str | None, columns: list[str] | None = None
                 ) -> gpd.GeoDataFrame:
    """Read a vector layer (through Arrow when installed), only ``columns`` that exist."""
    gdf = pyogrio.read_dataframe(path, layer=layer, columns=columns, use_arrow=_HAVE_ARROW,
                                 datetime_as_string=True)
    if gdf.crs is None:
        gdf = gdf.set_crs(settings.crs_store)
    return gdf


def _source_date(path: Path, source: str, dates: Mapping[str, str],
                 found: str | None = None) -> str:
    """Return the data date: given by the caller, found in the data, the edition, or mtime."""
    stem = path.name.split(".")[0]
    for key in (stem, source):
        if key in dates:
            return str(dates[key])
    if found:
        return found
    if stem in _EDITION_DATES:
        return _EDITION_DATES[stem]
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    logger.info("%s carries no data date: using its modification date %s", path.name,
                mtime.date().isoformat())
    return mtime.date().isoformat()


# --------------------------------------------------------------------------------------------
# Places readers (one per kind)
# --------------------------------------------------------------------------------------------

def _city_list(gdf: gpd.GeoDataFrame, source: str, ids: pd.Series, names: pd.Series,
               date: str) -> gpd.GeoDataFrame:
    """Drop the points a city list flags as outside the city and set the places schema."""
    inside = _flag(gdf["in_bcn_bbox"]) if "in_bcn_bbox" in gdf else pd.Series(True,
                                                                             index=gdf.index)
    dropped = int((~inside).sum())
    if dropped:
        logger.info("%s: %d point(s) flagged outside the city dropped", source, dropped)
    category = gdf["category"].fillna("other").astype(str)
    unknown = ~category.isin(ALL_CATEGORIES)
    if unknown.any():
        logger.warning("%s: unknown categories %s read as 'other'", source,
                       sorted(category[unknown].unique()))
        category = category.where(~unknown, "other")
    out = gpd.GeoDataFrame({
        "place_id": source + ":" + ids.astype(str).str.strip(),
        "name": names.fillna("").astype(str).map(_clean_text),
        "category": category,
        "subcategory": (gdf["subcategory"].fillna(category).astype(str)
                        if "subcategory" in gdf else category),
        "source": source, "date": date, "merged_ids": ""},
        geometry=gdf.geometry, crs=gdf.crs)
    return _points(out[inside.to_numpy()])


def _read_llista(path: Path, layer: str | None, kind: _Kind,
                 dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = _read_vector(path, layer, ["register_id", "name", "category", "subcategory",
                                     "modified", "in_bcn_bbox"])
    found = None
    if "modified" in gdf:
        modified = pd.to_datetime(gdf["modified"], utc=True, errors="coerce", format="ISO8601")
        newest = modified.max()
        if not pd.isna(newest):
            found = newest.tz_convert("Europe/Madrid").date().isoformat()
    date = _source_date(path, kind.source, dates, found)
    out = _city_list(gdf, kind.source, gdf["register_id"], gdf["name"], date)
    register = gdf["register_id"].astype(str).str.strip().loc[out.index]
    out["_register"] = "bcn_register:" + register
    return out


def _read_icub(path: Path, layer: str | None, kind: _Kind,
               dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = _read_vector(path, layer, ["Id_Equipament", "Nom_Equipament", "category",
                                     "subcategory", "in_bcn_bbox"])
    date = _source_date(path, kind.source, dates)
    return _city_list(gdf, kind.source, gdf["Id_Equipament"], gdf["Nom_Equipament"], date)


def _read_terraces(path: Path, layer: str | None, kind: _Kind,
                   dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = _read_vector(path, layer, ["row_id", "EMPLACAMENT", "category", "subcategory",
                                     "DATA_EXPLO", "in_bcn_bbox"])
    found = None
    if "DATA_EXPLO" in gdf:
        when = pd.to_datetime(gdf["DATA_EXPLO"], format="%d/%m/%Y %H:%M:%S", errors="coerce")
        found = None if when.isna().all() else when.max().date().isoformat()
    date = _source_date(path, kind.source, dates, found)
    ids = gdf["row_id"] if "row_id" in gdf else pd.Series(np.arange(len(gdf)), index=gdf.index)
    return _city_list(gdf, kind.source, ids, gdf["EMPLACAMENT"], date)


def _read_places_schema(path: Path, layer: str | None, kind: _Kind,
                        dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = _read_vector(path, layer)
    if "merged_ids" not in gdf:
        gdf["merged_ids"] = ""
    for col in ("name", "subcategory", "merged_ids"):
        gdf[col] = gdf[col].fillna("").astype(str) if col in gdf else ""
    for key in {str(s) for s in gdf["source"].dropna().unique()} & set(dates):
        gdf.loc[gdf["source"] == key, "date"] = str(dates[key])
    return _points(gdf[list(PLACES_COLUMNS)])


def _read_osm_xml_places(path: Path, layer: str | None, kind: _Kind,
                         dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    features = _xml_features(path, _query_tags(OSM_PLACE_TAGS))
    date = _source_date(path, kind.source, dates, _osm_xml_date(path))
    return _places_from_osm(features, date)


def _read_osm_layer_places(path: Path, layer: str | None, kind: _Kind,
                           dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    features = _osm_layer(path, layer)
    return _places_from_osm(features, _source_date(path, kind.source, dates))


_Reader = Callable[[Path, "str | None", _Kind, Mapping[str, str]], gpd.GeoDataFrame]

_PLACE_READERS: dict[str, _Reader] = {
    "llista": _read_llista,
    "icub": _read_icub,
    "terraces": _read_terraces,
    "places_schema": _read_places_schema,
    "osm_xml": _read_osm_xml_places,
    "osm_layer": _read_osm_layer_places,
}


# --------------------------------------------------------------------------------------------
# Transit readers (one per kind)
# --------------------------------------------------------------------------------------------

def _read_gtfs(path: Path, layer: str | None, kind: _Kind,
               dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = _read_vector(path, layer, ["id", "name", "lines"])
    out = gpd.GeoDataFrame({
        "stop_id": kind.source + ":" + gdf["id"].astype(str).str.strip(),
        "name": gdf["name"].fillna("").astype(str).map(_clean_text),
        "mode": kind.mode,
        "lines": gdf["lines"].map(lambda v: _join_lines(_split(v))),
        "source": kind.source,
        "date": _source_date(path, kind.source, dates),
        "_rank": 0}, geometry=gdf.geometry, crs=gdf.crs)
    return _points(out)


def _read_transit_schema(path: Path, layer: str | None, kind: _Kind,
                         dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    gdf = _read_vector(path, layer)
    for col in ("name", "lines"):
        gdf[col] = gdf[col].fillna("").astype(str) if col in gdf else ""
    for key in {str(s) for s in gdf["source"].dropna().unique()} & set(dates):
        gdf.loc[gdf["source"] == key, "date"] = str(dates[key])
    gdf = gdf[list(TRANSIT_COLUMNS)].copy()
    gdf["_rank"] = 0
    return _points(gdf)


def _read_osm_xml_transit(path: Path, layer: str | None, kind: _Kind,
                          dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    features = _xml_features(path, OSM_TRANSIT_TAGS)
    route_modes: dict[tuple[str, int], dict[str, set[str]]] = {}
    if len(features):
        route_modes, operators = _osm_xml_relations(path)
        if operators:
            hint = pd.Series(operators, name=_HINT_OPERATOR)
            hint.index = hint.index.set_names(["element", "id"])
            features = features.join(hint, how="left")
    date = _source_date(path, kind.source, dates, _osm_xml_date(path))
    return _transit_from_osm(features, date, route_modes)


def _read_osm_layer_transit(path: Path, layer: str | None, kind: _Kind,
                            dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    features = _osm_layer(path, layer)
    return _transit_from_osm(features, _source_date(path, kind.source, dates))


_TRANSIT_READERS: dict[str, _Reader] = {
    "gtfs": _read_gtfs,
    "transit_schema": _read_transit_schema,
    "osm_xml": _read_osm_xml_transit,
    "osm_layer": _read_osm_layer_transit,
}


# --------------------------------------------------------------------------------------------
# OSM: XML, derived layers, Overpass, and conversion to the schemas
# --------------------------------------------------------------------------------------------

def _query_tags(mapping: Mapping[tuple[str, str], Any]) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for key, value in mapping:
        tags.setdefault(key, []).append(value)
    return {k: sorted(v) for k, v in tags.items()}


def _xml_features(path: Path, tags: dict[str, list[str]]) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        return ox.features_from_xml(path, tags=tags)  # type: ignore[arg-type]
    except InsufficientResponseError:
        logger.info("%s: no matching OSM features", path.name)
        return _empty_osm()


def _osm_layer(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Read an OSM-derived GeoJSON (tags as columns) indexed like osmnx's output."""
    gdf = _read_vector(path, layer)
    if {"osm_type", "osm_id"} <= set(gdf.columns):
        gdf = gdf.rename(columns={"osm_type": "element", "osm_id": "id"})
    gdf["id"] = pd.to_numeric(gdf["id"], errors="coerce").astype("Int64")
    return gdf.set_index(["element", "id"])


def _empty_osm() -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=["element", "id"])
    return gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs=settings.crs_store)},
                            index=index, geometry="geometry", crs=settings.crs_store)


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


def _osm_xml_date(path: Path) -> str | None:
    """Newest element timestamp of an OSM XML file, as an ISO date."""
    newest = b""
    pattern = re.compile(rb'timestamp="(\d{4}-\d{2}-\d{2})')
    with path.open("rb") as fh:
        for line in fh:
            for stamp in pattern.findall(line):
                newest = max(newest, stamp)
    return newest.decode() if newest else None


#: Service route types (``route=railway`` is the track, not a service, and is ignored).
_ROUTE_TYPES = frozenset({"subway", "train", "light_rail", "tram", "bus", "trolleybus",
                          "funicular", "monorail"})


def _osm_xml_relations(path: Path) -> tuple[dict[tuple[str, int], dict[str, set[str]]],
                                            dict[tuple[str, int], str]]:
    """Modes and line refs of the routes each element serves, and its stop areas' operators.

    Returns ``({(element, id): {mode: {ref, ...}}}, {(element, id): "operator network"})``;
    a route's mode is :func:`osm_transit_mode` of the relation's own tags.
    """
    modes: dict[tuple[str, int], dict[str, set[str]]] = {}
    operators: dict[tuple[str, int], set[str]] = {}
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "relation":
            tags = {t.get("k") or "": t.get("v") or "" for t in elem.findall("tag")}
            route = tags.get("route", "") if tags.get("type") == "route" else ""
            mode = osm_transit_mode(tags) if route in _ROUTE_TYPES else None
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


def _transit_from_osm(
    features: gpd.GeoDataFrame,
    date: str,
    route_modes: Mapping[tuple[str, int], Mapping[str, set[str]]] | None = None,
) -> gpd.GeoDataFrame:
    """OSM features (osmnx layout) -> transit schema, via :func:`osm_transit_mode`.

    An element that serves routes (``route_modes``, from an XML file's relations) takes the
    modes and line refs of those routes, one row per mode; otherwise its own tags tell the
    mode. Named subway entrances join the station of the same name nearby, whatever its mode
    (an FGC station's entrances are tagged like the metro's); unnamed ones are dropped.
    """
    if not len(features):
        return _empty((*TRANSIT_COLUMNS, "_rank"))
    keys = ["railway", "station", "public_transport", "highway", "bus", "trolleybus", "tram",
            "light_rail", "subway", "train", "funicular", "network", "operator", "name",
            "route_ref", _HINT_OPERATOR]
    records = _records(features, keys)
    ids = _osm_ids(features).to_numpy()
    rows: list[tuple[int, str, str, str]] = []  # (position, stop_id, mode, lines)
    unknown = 0
    for pos, (key, tags) in enumerate(zip(features.index, records, strict=True)):
        own_lines = _split(tags.get("route_ref"))
        served = (route_modes or {}).get((str(key[0]), int(key[1])), {})
        if served:
            for mode, refs in sorted(served.items()):
                stop_id = ids[pos] if len(served) == 1 else f"{ids[pos]}#{mode}"
                rows.append((pos, stop_id, mode, _join_lines([*refs, *own_lines])))
            continue
        mode = osm_transit_mode(tags)
        if mode is None:
            unknown += 1
            continue
        rows.append((pos, ids[pos], mode, _join_lines(own_lines)))
    if unknown:
        logger.info("OSM transit: %d feature(s) with no recognisable mode dropped", unknown)
    if not rows:
        return _empty((*TRANSIT_COLUMNS, "_rank"))
    pos = np.array([r[0] for r in rows])
    names = [_clean_text(_text(records[p].get("name"))) for p in pos]
    out = gpd.GeoDataFrame({
        "stop_id": [r[1] for r in rows], "name": names, "mode": [r[2] for r in rows],
        "lines": [r[3] for r in rows], "source": "osm", "date": date,
        "_rank": [_osm_transit_rank(records[p]) for p in pos]},
        geometry=features.geometry.to_numpy()[pos], crs=features.crs)
    out = out[~((out["_rank"] == 2) & (out["name"] == ""))]
    return _entrances_join_stations(_points(out))


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


# --------------------------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------------------------

def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Work CRS, one point per row (representative point of lines and polygons)."""
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if gdf.crs is None:
        gdf = gdf.set_crs(settings.crs_store)
    gdf = gdf.to_crs(settings.crs_work)
    geoms = gdf.geometry.to_numpy()
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf


def _to_crs_geometry(obj: Clip, crs: str) -> BaseGeometry:
    """One shapely geometry in ``crs`` from a frame/series with a CRS or a bare geometry."""
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        series = obj.geometry if isinstance(obj, gpd.GeoDataFrame) else obj
        if series.crs is None:
            raise ConfigError("the clip/query area has no CRS")
        return series.to_crs(crs).union_all()
    if not isinstance(obj, BaseGeometry):
        raise ConfigError(f"expected a shapely geometry or a GeoDataFrame, got {type(obj)!r}")
    minx, miny, maxx, maxy = obj.bounds
    lonlat = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    source = settings.crs_store if lonlat else settings.crs_work
    if source == crs:
        return obj
    transformer = Transformer.from_crs(source, crs, always_xy=True)
    return shapely.transform(obj, lambda xy: np.column_stack(transformer.transform(*xy.T)))


def _clip(gdf: gpd.GeoDataFrame, clip: Clip | None, buffer_m: float) -> gpd.GeoDataFrame:
    if clip is None:
        area = _to_crs_geometry(shapely.box(*settings.city_bbox), settings.crs_work)
    else:
        area = _to_crs_geometry(clip, settings.crs_work)
    if buffer_m:
        area = area.buffer(buffer_m)
    shapely.prepare(area)
    inside = shapely.intersects(area, gdf.geometry.to_numpy())
    if (~inside).any():
        logger.info("%d point(s) outside the clip area dropped", int((~inside).sum()))
    return gdf[inside]


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

_CIVIC_CANDIDATES = frozenset({"community_centre", "social_centre", "arts_centre"})
_CIVIC_RE = re.compile(r"\bcentre\s+c[ií]vic\b|\bcentro\s+c[ií]vico\b", re.IGNORECASE)
_FGC_RE = re.compile(r"\bfgc\b|ferrocarrils")
_RODALIES_RE = re.compile(r"rodalies|renfe|\badif\b|cercan[ií]as")
_METRO_RE = re.compile(r"\btmb\b|\bmetro\b|transports metropolitans")
_STOPWORDS = frozenset({"de", "del", "d", "la", "el", "l", "les", "els", "los", "las", "i",
                        "y", "the", "of", "and", "s"})
_TYPE_WORDS = frozenset({
    "centre", "centro", "civic", "civico", "cultural", "biblioteca", "library", "restaurant",
    "restaurante", "bar", "cafe", "cafeteria", "museu", "museo", "museum", "teatre", "teatro",
    "theatre", "sala", "casal", "espai", "cinema", "cinemes", "cines", "cine", "auditori",
    "ateneu", "fundacio", "fundacion", "discoteca", "musical", "cocteleria", "xampanyeria",
    "pub", "tablao", "barcelona", "bcn", "cerveseria", "cerveceria", "taverna", "taberna",
    "bodega", "marisqueria", "pizzeria", "creperia", "granja", "xocolateria", "orxateria",
    "lounge"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _tag(tags: Mapping[str, Any], key: str) -> str:
    return _text(tags.get(key)).strip().lower()


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _split(value: Any) -> list[str]:
    """Split a ``;``/``,`` list, a JSON array string or an array into clean parts."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return _split(json.loads(text))
            except ValueError:
                pass
        return [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def _join_lines(parts: Iterable[str]) -> str:
    return ";".join(sorted(set(parts), key=_natural))


def _norm_name(name: str) -> str:
    """Lower-case, no accents, punctuation, articles or ``*remark``: for comparing names."""
    text = name.split("*")[0] if name.split("*")[0].strip() else name
    text = text.replace("·", "").replace("’", "'")
    return " ".join(t for t in fold(text).split() if t not in _STOPWORDS)


def _core_name(norm: str) -> str:
    """Drop type words ("centre civic", "biblioteca" ...) from a normalised name."""
    return " ".join(t for t in norm.split() if t not in _TYPE_WORDS)


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


def _flag(series: pd.Series) -> pd.Series:
    """Read a true/false column from GeoJSON (bool, 0/1 or text)."""
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    return ~text.isin(["false", "0", "no", "f"])


def _ranker(priority: Sequence[str]) -> Callable[[Any], int]:
    ranks = {s: k for k, s in enumerate(priority)}
    return lambda s: ranks.get(str(s), len(ranks))


def _check_values(values: Iterable[str] | None, allowed: Sequence[str], what: str
                  ) -> list[str]:
    if values is None:
        return list(allowed)
    chosen = [values] if isinstance(values, str) else list(values)
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown {what}(s) {unknown}; choose from {list(allowed)}")
    return chosen


def _today() -> str:
    return dt.date.today().isoformat()


def _empty(columns: Sequence[str]) -> gpd.GeoDataFrame:
    data: dict[str, Any] = {c: pd.Series(dtype=str) for c in columns if c != "geometry"}
    if "_rank" in data:
        data["_rank"] = pd.Series(dtype="int64")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=settings.crs_work),
                            crs=settings.crs_work)


def _concat(frames: list[gpd.GeoDataFrame], columns: Sequence[str]) -> gpd.GeoDataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty(columns)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=settings.crs_work)


def _unique_ids(gdf: gpd.GeoDataFrame, column: str) -> gpd.GeoDataFrame:
    """Drop repeated ids (the same OSM element read twice), keeping the newest date."""
    dup = gdf[column].duplicated(keep=False)
    if not dup.any():
        return gdf
    order = gdf.sort_values("date", ascending=False, kind="stable")
    keep = order[~order[column].duplicated()].index
    logger.info("%d repeated %s dropped", len(gdf) - len(keep), column)
    return gdf.loc[gdf.index.isin(keep)]


def _with_merged_ids(places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    places = places.copy()
    if "merged_ids" not in places:
        places["merged_ids"] = ""
    places["merged_ids"] = places["merged_ids"].fillna("")
    return places


def _finish(gdf: gpd.GeoDataFrame, columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Exactly ``columns``, text columns as strings, a fresh index, the work CRS."""
    out = gdf.reindex(columns=list(columns)).reset_index(drop=True)
    for col in columns:
        if col != "geometry":
            out[col] = out[col].fillna("").astype(str)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.crs_work)


def _crosstab(df: pd.DataFrame, rows: str, by: str, order: Sequence[str]) -> pd.DataFrame:
    table = pd.crosstab(df[rows], df[by], margins=True, margins_name="total")
    known = [r for r in order if r in table.index]
    rest = [r for r in table.index if r not in known and r != "total"]
    return table.loc[[*known, *rest, "total"]]


def _log_dedup(before: pd.DataFrame, after: pd.DataFrame) -> None:
    counts = pd.DataFrame({"before": before["category"].value_counts(),
                           "after": after["category"].value_counts()}).fillna(0).astype(int)
    logger.info("places de-duplicated: %d -> %d; per category: %s", len(before), len(after),
                ", ".join(f"{c} {r.before}->{r.after}" for c, r in counts.iterrows()
                          if r.before != r.after) or "no change")
