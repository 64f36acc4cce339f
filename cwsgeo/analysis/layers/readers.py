"""Reading the places and transit layers from files, whatever their kind.

:func:`read_places` and :func:`read_transit` take files and folders, detect each file's kind
from its extension and fields (city lists, operators' GTFS-derived station files, OSM XML,
OSM-derived GeoJSON, files already in the schema), read it with the reader of that kind, and
clip, de-duplicate or collapse the result into :data:`cwsgeo.schema.PLACES_COLUMNS` or
:data:`cwsgeo.schema.TRANSIT_COLUMNS`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from ... import settings
from ..._errors import ConfigError, MissingDataError
from ...schema import (
    ALL_PLACE_CATEGORIES,
    PLACE_CATEGORIES,
    PLACES_COLUMNS,
    TRANSIT_COLUMNS,
)
from ._frames import Clip, PathLike, _check_values, _clip, _concat, _finish, _points, _unique_ids
from ._names import _clean_text, _join_lines, _split
from .dedupe import collapse_stations, dedupe_places
from .modes import TransitModes
from .osm import (
    _osm_layer,
    _osm_xml_date,
    _places_from_osm,
    _places_from_osm_xml,
    _transit_from_osm,
    _transit_from_osm_xml,
)

__all__ = ["read_places", "read_transit"]

logger = logging.getLogger(__name__)

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

#: The generic transit modes and rules.
_GENERIC = TransitModes()

_HAVE_ARROW = importlib.util.find_spec("pyarrow") is not None
_VECTOR_SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet"})
_XML_SUFFIXES = frozenset({".osm", ".xml"})


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def read_places(
    paths: PathLike | Iterable[PathLike],
    *,
    clip: Clip | None = None,
    clip_buffer_m: float = 0.0,
    categories: Iterable[str] | None = PLACE_CATEGORIES,
    dedup: bool = True,
    dates: Mapping[str, str] | None = None,
    city_words: Collection[str] = (),
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
        Categories to keep; ``None`` keeps all of :data:`cwsgeo.schema.ALL_PLACE_CATEGORIES`.
        The default keeps the nine :data:`cwsgeo.schema.PLACE_CATEGORIES` (no parks,
        playgrounds, sports, other).
    dedup
        Merge the same venue listed by several sources (:func:`dedupe_places`).
    dates
        Data dates overriding the detected ones, keyed by file stem or source name.
    city_words
        Folded names of the city, left out when venue names are compared (see
        :func:`dedupe_places`; default: none).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`cwsgeo.schema.PLACES_COLUMNS`.

    Raises
    ------
    cwsgeo.MissingDataError
        A path does not exist, or a folder holds no places file.
    cwsgeo.ConfigError
        A file given explicitly is of no known places kind.
    """
    keep = _check_values(categories, ALL_PLACE_CATEGORIES, "category")
    places = _read_sources(paths, "places", _PLACE_READERS, dates, PLACES_COLUMNS)
    places = places[places["category"].isin(keep)]
    places = _clip(places, clip, clip_buffer_m)
    places = _unique_ids(places, "place_id")
    if dedup:
        places = dedupe_places(places, city_words=city_words)
    return _finish(places, PLACES_COLUMNS)


def read_transit(
    paths: PathLike | Iterable[PathLike],
    *,
    clip: Clip | None = None,
    clip_buffer_m: float = 500.0,
    modes: Iterable[str] | None = None,
    collapse: bool = True,
    dates: Mapping[str, str] | None = None,
    rules: TransitModes = _GENERIC,
) -> gpd.GeoDataFrame:
    """Read transit stations and stops from any mix of supported files into the transit schema.

    Supported kinds: the operators' station files (point GeoJSON with ``id``, ``name``,
    ``lines``, e.g. ``metro_stations``, ``tram_stations``, ``rail_stations``,
    ``bus_stops``; the mode and source come from the file name through
    :attr:`TransitModes.files <cwsgeo.analysis.layers.TransitModes.files>`), OSM XML,
    OSM-derived GeoJSON and files already in the transit schema.

    Suburban and regional trains cover the whole region, so stations are clipped to the city
    grown by ``clip_buffer_m`` (500 m by default): a station just across the boundary still
    serves the city's edge.

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
        Modes to keep; ``None`` keeps all of the city's modes (``rules.modes``).
    collapse
        Merge rows of one station (:func:`collapse_stations`): metro line-stations, platform
        pairs, OSM entrances and stop positions.
    dates
        Data dates overriding the detected ones, keyed by file stem or source name.
    rules
        The city's transit modes and rules (:class:`~cwsgeo.analysis.layers.TransitModes`;
        default: the generic modes of :data:`cwsgeo.schema.TRANSIT_MODES`).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the work CRS with :data:`cwsgeo.schema.TRANSIT_COLUMNS`.

    Raises
    ------
    cwsgeo.MissingDataError
        A path does not exist, or a folder holds no transit file.
    cwsgeo.ConfigError
        A file given explicitly is of no known transit kind.
    """
    keep = _check_values(modes, rules.modes, "mode")
    transit = _read_sources(paths, "transit", _TRANSIT_READERS, dates,
                            (*TRANSIT_COLUMNS, "_rank"), rules)
    transit = transit[transit["mode"].isin(keep)]
    transit = _unique_ids(transit, "stop_id")
    if collapse:
        transit = collapse_stations(transit, merge_m=rules.merge_distances,
                                    priority=rules.source_priority)
    transit = _clip(transit, clip, clip_buffer_m)
    return _finish(transit, TRANSIT_COLUMNS)


def _read_sources(paths: PathLike | Iterable[PathLike], layer: str,
                  readers: Mapping[str, Callable[..., pd.DataFrame]],
                  dates: Mapping[str, str] | None, columns: Sequence[str],
                  rules: TransitModes = _GENERIC) -> pd.DataFrame:
    """Read every file of one layer with the reader of its kind and stack them."""
    frames = []
    for path, sub, kind in _resolve(paths, layer, rules):
        frame = readers[kind.kind](path, sub, kind, dates or {})
        logger.info("%s: %d rows from %s (%s)", layer, len(frame), path.name, kind.kind)
        frames.append(frame)
    return _concat(frames, columns)

# --------------------------------------------------------------------------------------------
# File kinds and dispatch
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Kind:
    layer: str  # "places", "transit" or "both"
    kind: str
    source: str
    mode: str = ""
    rules: TransitModes = _GENERIC


def _resolve(paths: PathLike | Iterable[PathLike], layer: str,
             rules: TransitModes = _GENERIC) -> list[tuple[Path, str | None, _Kind]]:
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
                hits += [(file, lyr, k) for lyr, k in _detect(file, rules)
                         if k.layer in (layer, "both")]
            if not hits:
                raise MissingDataError(f"no {layer} file of a known kind in folder {path}")
            found += hits
        else:
            hits = [(path, lyr, k) for lyr, k in _detect(path, rules) if k.layer in (layer, "both")]
            if not hits:
                raise ConfigError(f"{path}: not a {layer} file of a known kind (facility list, "
                                  "station file, OSM XML, OSM GeoJSON or cwsgeo's schema)")
            found += hits
    return found


def _detect(path: Path, rules: TransitModes = _GENERIC) -> list[tuple[str | None, _Kind]]:
    """Kinds of a file's layers (empty when none is known)."""
    suffix = path.suffix.lower()
    if suffix in _XML_SUFFIXES:
        with path.open("rb") as fh:
            head = fh.read(1024)
        return [(None, _Kind("both", "osm_xml", "osm", rules=rules))] if b"<osm" in head else []
    if suffix not in _VECTOR_SUFFIXES:
        return []
    try:  # GDAL parses a whole GeoJSON on every open: only multi-layer formats are listed
        layers: list[str | None] = ([None] if suffix in (".geojson", ".json") else
                                    [str(name) for name, _ in pyogrio.list_layers(path)])
        if len(layers) == 1:
            layers = [None]
        kinds = []
        for layer in layers:
            kind = _kind_of(path, set(_fields(path, layer)), rules)
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


def _kind_of(path: Path, fields: set[str], rules: TransitModes = _GENERIC) -> _Kind | None:
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
        return _Kind("both", "osm_layer", "osm", rules=rules)
    if {"id", "name", "lines"} <= fields:
        for word, mode, source in rules.files:
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
    unknown = ~category.isin(ALL_PLACE_CATEGORIES)
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
    date = _source_date(path, kind.source, dates, _osm_xml_date(path))
    return _places_from_osm_xml(path, date)


def _read_osm_layer_places(path: Path, layer: str | None, kind: _Kind,
                           dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    features = _osm_layer(_read_vector(path, layer))
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
    date = _source_date(path, kind.source, dates, _osm_xml_date(path))
    return _transit_from_osm_xml(path, date, kind.rules)


def _read_osm_layer_transit(path: Path, layer: str | None, kind: _Kind,
                            dates: Mapping[str, str]) -> gpd.GeoDataFrame:
    features = _osm_layer(_read_vector(path, layer))
    return _transit_from_osm(features, _source_date(path, kind.source, dates),
                             rules=kind.rules)


_TRANSIT_READERS: dict[str, _Reader] = {
    "gtfs": _read_gtfs,
    "transit_schema": _read_transit_schema,
    "osm_xml": _read_osm_xml_transit,
    "osm_layer": _read_osm_layer_transit,
}


def _flag(series: pd.Series) -> pd.Series:
    """Read a true/false column from GeoJSON (bool, 0/1 or text)."""
    if series.dtype == bool:
        return series
    text = series.astype(str).str.strip().str.lower()
    return ~text.isin(["false", "0", "no", "f"])
