"""Places and transit layers: one schema each, whatever the source.

This package owns the two point layers that the proximity metrics count and measure to:

* **places** of face-to-face interaction (cafés, bars, restaurants, terraces, culture venues,
  libraries, civic and community centres, nightclubs), read from the Ajuntament's facility
  lists, from an OSM XML file, from OSM-derived GeoJSON, or downloaded live from Overpass;
* **transit** stations and stops (metro, tram, rail, bus, funicular, ferry, or the modes of
  the city's profile, :class:`TransitModes`), read from the operators' GTFS-derived station
  files, from OSM, or downloaded live.

Whatever the source, a loader returns a GeoDataFrame of points in
:data:`cwsgeo.settings.crs_work` with exactly :data:`cwsgeo.schema.PLACES_COLUMNS` or
:data:`cwsgeo.schema.TRANSIT_COLUMNS` (polygons and lines become a representative point).
Files already in that schema (what the fetch step saves from a live download, as GeoPackage or
GeoJSON) read back unchanged, so the build can use mirror files, OSM XML or a saved download
through one call.

Modules: :mod:`~cwsgeo.analysis.layers.readers` (files of every kind, :func:`read_places`,
:func:`read_transit`), :mod:`~cwsgeo.analysis.layers.osm` (tag schemes, OSM XML, live
Overpass), :mod:`~cwsgeo.analysis.layers.dedupe` (one row per venue and per station),
:mod:`~cwsgeo.analysis.layers.counts` (summary tables), :mod:`~cwsgeo.analysis.layers.modes`
(a city's transit modes and their rules).

Places schema
-------------
``place_id``
    ``"<source>:<source id>"``, unique, e.g. ``"icub_equipaments:453"`` or
    ``"osm:node/82781678"``.
``name``
    Venue name; for terraces (the licence list has no business name) the street address.
``category``
    One of :data:`cwsgeo.schema.ALL_PLACE_CATEGORIES`; by default only
    :data:`cwsgeo.schema.PLACE_CATEGORIES` are kept.
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
``name``, ``mode`` (one of the city's :attr:`TransitModes.modes`, by default
:data:`cwsgeo.schema.TRANSIT_MODES`), ``lines`` (``;``-joined,
naturally sorted, e.g. ``"L1;L3"``; empty when unknown), ``source``, ``date`` as for places.

Examples
--------
>>> from cwsgeo.analysis import layers
>>> places = layers.read_places("../shared/data/bcn/places")  # doctest: +SKIP
>>> layers.count_places(places)  # doctest: +SKIP
>>> from cwsgeo.build.profiles import load_profile
>>> transit = layers.read_transit("../shared/data/bcn/osm/transit_gtfs", clip=boundary,
...                               rules=load_profile("barcelona").transit)  # doctest: +SKIP
>>> layers.osm_transit_mode({"railway": "tram_stop"})
'tram'
"""

from __future__ import annotations

from .counts import count_places, count_transit
from .dedupe import (
    PLACE_SOURCE_PRIORITY,
    STATION_MERGE_M,
    TRANSIT_SOURCE_PRIORITY,
    collapse_stations,
    dedupe_places,
)
from .modes import TransitModes
from .osm import (
    OSM_FERRY_TAGS,
    OSM_PLACE_TAGS,
    OSM_TRANSIT_TAGS,
    fetch_places_live,
    fetch_transit_live,
    osm_place_category,
    osm_transit_mode,
)
from .readers import read_places, read_transit

__all__ = [
    "OSM_FERRY_TAGS",
    "OSM_PLACE_TAGS",
    "OSM_TRANSIT_TAGS",
    "PLACE_SOURCE_PRIORITY",
    "STATION_MERGE_M",
    "TRANSIT_SOURCE_PRIORITY",
    "TransitModes",
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
