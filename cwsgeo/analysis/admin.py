"""Administrative units with population: districts, barris, census sections, the city boundary.

This module owns reading the boundaries with their resident population (Barcelona's: CartoBCN
and the 2024 Padró), fetching equivalent boundaries live from OpenStreetMap for any place (the
``admin_level`` of districts and of neighbourhoods, "barris", as the city profile says; 9 and
10 in Barcelona) with population from the Open Data BCN portal, a population grid or polygons
(:mod:`cwsgeo.analysis.population`), and the spatial join that gives each located coworking
space its district, barri and census section (or population cell). Everything is computed in
the work CRS (:data:`cwsgeo.settings.crs_work`); points outside the city are flagged, never
dropped.

Examples
--------
>>> from cwsgeo.analysis.admin import load_admin, join_admin
>>> admin = load_admin("data/raw/admin")                 # doctest: +SKIP
>>> spaces = join_admin(spaces, admin)                   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import settings
from .._errors import DataSourceError, MissingDataError
from .._text import fold

logger = logging.getLogger(__name__)

__all__ = [
    "ADMIN_FILES",
    "AdminAreas",
    "PopulationReader",
    "fetch_admin_live",
    "join_admin",
    "load_admin",
]

#: File names of the four layers inside an admin folder.
ADMIN_FILES: dict[str, str] = {
    "districts": "districts.geojson",
    "barris": "barris.geojson",
    "sections": "census_sections.geojson",
    "city": "city_boundary.geojson",
    "units": "population_units.geojson",
}

_REQUIRED = {
    "districts": ["district_code", "district_name", "population"],
    "barris": ["barri_code", "barri_name", "district_code", "population"],
    "sections": ["section_code", "barri_code", "district_code", "population"],
    "units": ["section_code", "barri_code", "district_code", "population"],
    "city": [],
}


@dataclass
class AdminAreas:
    """The administrative layers, each a GeoDataFrame in the work CRS (EPSG:25831).

    Attributes
    ----------
    districts, barris
        With ``*_code``, ``*_name``, ``area_km2``, ``population``.
    sections
        Census sections with ``section_code``, ``barri_code``, ``district_code``,
        ``population``; ``None`` when not available (live source without a mirror).
    city
        One polygon: the municipal boundary.
    pop_year
        Reference year of the population figures.
    """

    districts: gpd.GeoDataFrame
    barris: gpd.GeoDataFrame
    sections: gpd.GeoDataFrame | None
    city: gpd.GeoDataFrame
    pop_year: int | None = None

    @property
    def population(self) -> int:
        """Total residents of the city."""
        return int(self.districts["population"].sum())

    @property
    def has_population(self) -> bool:
        """Whether the layers have residents (a city without a population source has none)."""
        return bool(self.districts["population"].notna().any())

    @property
    def city_polygon(self) -> BaseGeometry:
        """The city boundary as one shapely (Multi)Polygon in the work CRS."""
        return self.city.geometry.union_all()


def _read_layer(path: Path, kind: str) -> gpd.GeoDataFrame:
    if not path.exists():
        raise MissingDataError(f"{path} not found: run `cwsgeo fetch` to fill data/raw/")
    gdf = gpd.read_file(path, engine="pyogrio")
    missing = [c for c in _REQUIRED[kind] if c not in gdf.columns]
    if missing:
        raise MissingDataError(f"{path}: missing column(s) {', '.join(missing)}")
    for col in gdf.columns:
        if col.endswith("_code"):
            gdf[col] = gdf[col].astype(str)
    if "population" in gdf.columns:
        pop = pd.to_numeric(gdf["population"], errors="coerce")
        # a layer without any figure has no population source (NaN stays: "unknown")
        gdf["population"] = pop if pop.isna().all() else pop.fillna(0)
    if gdf.crs is None:
        gdf = gdf.set_crs(settings.crs_store)
    gdf = gdf.to_crs(settings.crs_work)
    gdf["area_km2"] = gdf.geometry.area / 1e6
    return gdf


def load_admin(folder: str | Path) -> AdminAreas:
    """Read districts, barris, census sections and the city boundary from a folder.

    Parameters
    ----------
    folder
        A folder laid out like the bundle's ``admin/`` (see :data:`ADMIN_FILES`). The census
        sections file is optional.

    Returns
    -------
    AdminAreas
        Layers in EPSG:25831; ``area_km2`` is recomputed from the projected geometry.

    Raises
    ------
    cwsgeo.MissingDataError
        A required file or column is missing.
    """
    folder = Path(folder)
    districts = _read_layer(folder / ADMIN_FILES["districts"], "districts")
    barris = _read_layer(folder / ADMIN_FILES["barris"], "barris")
    sections = None
    for kind in ("sections", "units"):
        if (folder / ADMIN_FILES[kind]).exists():
            sections = _read_layer(folder / ADMIN_FILES[kind], kind)
            break
    else:
        if districts["population"].notna().any():  # (no population at all: nothing to say)
            logger.warning("%s not found: residents will be allocated per barri",
                           folder / ADMIN_FILES["sections"])
    city = _read_layer(folder / ADMIN_FILES["city"], "city")
    years = districts["pop_year"].dropna().unique() if "pop_year" in districts else []
    return AdminAreas(districts=districts, barris=barris, sections=sections, city=city,
                      pop_year=int(years[0]) if len(years) else None)


def join_admin(points: gpd.GeoDataFrame, admin: AdminAreas) -> gpd.GeoDataFrame:
    """Give every located point its district, barri and census section.

    Parameters
    ----------
    points
        Points in any CRS; rows with an empty geometry are kept and get blank codes.
    admin
        Administrative layers from :func:`load_admin`.

    Returns
    -------
    geopandas.GeoDataFrame
        The input (same index, same CRS) plus ``district_code``, ``district_name``,
        ``barri_code``, ``barri_name``, ``section_code``, ``in_city`` (bool) and
        ``outside_city_m`` (distance to the boundary for points outside it, else 0).
    """
    out = points.copy()
    work = points.geometry.to_crs(settings.crs_work)
    located = ~(work.isna() | work.is_empty)
    finest = admin.sections if admin.sections is not None else admin.barris
    codes = _unit_codes(work, located, finest)
    bnames = admin.barris.set_index("barri_code")["barri_name"]
    dnames = admin.districts.set_index("district_code")["district_name"]
    out["district_code"] = codes["district_code"].to_numpy()
    out["district_name"] = codes["district_code"].map(dnames).to_numpy()
    out["barri_code"] = codes["barri_code"].to_numpy()
    out["barri_name"] = codes["barri_code"].map(bnames).to_numpy()
    out["section_code"] = (codes["section_code"].to_numpy() if "section_code" in codes
                           else None)
    city = admin.city_polygon
    shapely.prepare(city)  # one polygon against every point: prepared, it is indexed once
    inside = pd.Series(False, index=out.index)
    inside[located] = shapely.covers(city, work[located].to_numpy())  # = covered_by(city)
    out["in_city"] = inside
    out["outside_city_m"] = _outside_distance(out, work, located, inside, city)
    return out


def _unit_codes(work: gpd.GeoSeries, located: pd.Series, finest: gpd.GeoDataFrame
                ) -> pd.DataFrame:
    """Codes of the finest unit holding each located point (positional rows, blanks elsewhere)."""
    cols = [c for c in ("section_code", "barri_code", "district_code") if c in finest.columns]
    probe = gpd.GeoDataFrame({"_i": np.arange(len(work))}, geometry=work.values,
                             crs=settings.crs_work)[located.to_numpy()]
    # "intersects", not "within": a point on a shared edge belongs to one of the units
    hit = gpd.sjoin(probe, finest[[*cols, "geometry"]], how="left", predicate="intersects")
    hit = hit[~hit.index.duplicated(keep="first")]
    codes = pd.DataFrame(index=np.arange(len(work)), columns=cols, dtype=object)
    codes.loc[hit["_i"].to_numpy(), cols] = hit[cols].to_numpy()
    return codes


def _outside_distance(points: pd.DataFrame, work: gpd.GeoSeries, located: pd.Series,
                      inside: pd.Series, city: BaseGeometry) -> pd.Series:
    """Distance (m) to the boundary of points outside the city: 0 inside, NaN if unlocated."""
    dist = pd.Series(0.0, index=points.index)
    outside = located & ~inside
    if outside.any():
        dist[outside] = work[outside].distance(city).round(1)
        for i in points.index[outside]:
            logger.warning("space %s lies outside the city (%.0f m from the boundary)",
                           points.at[i, "id"] if "id" in points else i, dist[i])
    dist[~located] = np.nan
    return dist


# ---------------------------------------------------------------------------------------
# Live: OSM boundaries + Open Data BCN population
# ---------------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """Fold a district or barri name and drop Catalan articles and particles."""
    return " ".join(t for t in fold(text).split()
                    if t not in {"el", "la", "les", "els", "l", "de", "del", "dels", "i"})


def _match_names(osm_names: pd.Series, official: pd.Series) -> pd.Series:
    """Map OSM names onto official codes by folded-name equality, then fuzzy matching."""
    from rapidfuzz import fuzz, process

    table = {_fold(n): code for code, n in official.items()}
    result: dict[Hashable, Hashable] = {}
    for idx, name in osm_names.items():
        key = _fold(name)
        if key in table:
            result[idx] = table[key]
            continue
        best = process.extractOne(key, list(table), scorer=fuzz.ratio)
        if best is not None and best[1] >= 85:
            result[idx] = table[best[0]]
    matched = pd.Series(result, dtype=object)
    twice = matched[matched.duplicated(keep=False)]
    if len(twice):
        names: dict[Hashable, object] = dict(osm_names.items())
        pairs = ", ".join(f"{names[i]!r}->{c}" for i, c in twice.items())
        raise DataSourceError("OpenStreetMap", f"several OSM areas match one official area: "
                              f"{pairs}")
    return matched


def _population_live(cache_dir: Path) -> pd.DataFrame:
    """Return population per census section from Open Data BCN (``pad_mdbas``, CKAN API)."""
    from .._http import get_bytes, get_json

    base = settings.opendata_bcn_url.rstrip("/")
    meta = get_json(f"{base}/api/3/action/package_show", {"id": "pad_mdbas"},
                    source="Open Data BCN", cache_dir=cache_dir)
    try:
        resources = meta["result"]["resources"]
    except (KeyError, TypeError):
        raise DataSourceError("Open Data BCN", "package_show answer for 'pad_mdbas' has no "
                              "resources") from None
    csvs = [r for r in resources if str(r.get("format", "")).upper() == "CSV"
            or str(r.get("url", "")).lower().endswith(".csv")]
    if not csvs:
        raise DataSourceError("Open Data BCN", "dataset 'pad_mdbas' lists no CSV resource")
    latest = max(csvs, key=lambda r: (str(r.get("name", "")), str(r.get("url", ""))))
    data = get_bytes(latest["url"], source="Open Data BCN", cache_dir=cache_dir)
    try:
        table = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
        table["Valor"] = pd.to_numeric(table["Valor"])
        table["Codi_Districte"] = table["Codi_Districte"].str.zfill(2)
        table["Codi_Barri"] = table["Codi_Barri"].str.zfill(2)
    except (KeyError, ValueError, pd.errors.ParserError) as exc:
        raise DataSourceError("Open Data BCN", f"unexpected population table {latest['url']}: "
                              f"{exc}") from None
    return table


#: Reads the finest population units of a city (polygons with ``section_code`` and
#: ``population``, work CRS) given its boundary in EPSG:4326.
PopulationReader = Callable[[BaseGeometry], gpd.GeoDataFrame]


def fetch_admin_live(place: str, cache_dir: str | Path, *, district_level: str | None = "9",
                     neighbourhood_level: str | None = "10",
                     population: str | PopulationReader | None = "opendata_bcn",
                     pop_year: int | None = None) -> AdminAreas:
    """Download the boundary and admin areas of any OSM place, with population.

    The city boundary is ``place`` geocoded by Nominatim; districts and neighbourhoods
    ("barris") are the OSM ``boundary=administrative`` polygons of ``district_level`` and
    ``neighbourhood_level`` inside it (through osmnx, with its cache). A level that is
    ``None``, or that OSM has no polygons of, falls back (with a warning): without districts
    the whole city is one district; without neighbourhoods each district is its own
    neighbourhood. So a city with only a boundary still builds.

    Population (``population``):

    * ``"opendata_bcn"``: Barcelona's Padró per census section from the ``pad_mdbas``
      dataset of the Open Data BCN portal, summed per barri and district; OSM names are
      matched to the official codes and names (accent-free, fuzzy). Census-section polygons
      are not in OSM, so ``sections`` is ``None``.
    * a callable: given the city boundary (EPSG:4326), it returns the finest population
      units (polygons with ``section_code`` and ``population``, e.g.
      :func:`cwsgeo.analysis.population.grid_cells` of a GHSL grid). They become
      ``sections`` (each with the ``barri_code`` and ``district_code`` holding its
      representative point);
      districts and neighbourhoods get the sum of their units by area. OSM names are kept,
      codes are ``01``, ``02`` … in name order.
    * ``None``: no residents; ``population`` is NaN in every layer.

    Parameters
    ----------
    place
        Place name for Nominatim, e.g. ``"Barcelona, Catalonia, Spain"``.
    cache_dir
        cwsgeo's cache folder (HTTP answers are cached there).
    district_level, neighbourhood_level
        OSM ``admin_level`` values (strings), or ``None``.
    population
        Where residents come from (see above).
    pop_year
        Reference year of a callable's population (the register's own date otherwise).

    Returns
    -------
    AdminAreas

    Raises
    ------
    cwsgeo.DataSourceError
        A source failed or answered with unusable data.
    """
    cache_dir = Path(cache_dir)
    levels = [lv for lv in (district_level, neighbourhood_level) if lv is not None]
    city, feats = _osm_boundaries(place, cache_dir, levels)
    if population == "opendata_bcn":
        return _with_register(place, city, feats, cache_dir, district_level,
                              neighbourhood_level)
    if isinstance(population, str):
        raise ValueError(f"unknown population source {population!r}")
    districts = _named_level(feats, district_level, "district", place)
    barris = _named_level(feats, neighbourhood_level, "barri", place)
    districts, barris = _fill_missing_levels(city, districts, barris, place)
    units = population(city.geometry.iloc[0]) if population is not None else None
    return _with_units(city, districts, barris, units, place, pop_year)


def _with_register(place: str, city: gpd.GeoDataFrame, feats: gpd.GeoDataFrame,
                   cache_dir: Path, district_level: str | None,
                   neighbourhood_level: str | None) -> AdminAreas:
    """Barcelona: OSM districts and barris matched to the Padró of Open Data BCN."""
    pop = _population_live(cache_dir)
    year = _reference_year(pop)
    districts = _admin_level(feats, pop, dataclasses.replace(
        _DISTRICT_LEVEL, admin_level=district_level or "9"), place, year)
    barris = _admin_level(feats, pop, dataclasses.replace(
        _BARRI_LEVEL, admin_level=neighbourhood_level or "10"), place, year)
    dmap = pop.groupby("Codi_Barri")["Codi_Districte"].first()
    barris["district_code"] = barris["barri_code"].map(dmap)
    barris["district_name"] = barris["district_code"].map(
        districts.set_index("district_code")["district_name"])
    city_w = _city_layer(city, place, float(pop["Valor"].sum()), year)
    return AdminAreas(districts=districts, barris=barris, sections=None, city=city_w,
                      pop_year=year)


def _city_layer(city: gpd.GeoDataFrame, place: str, population: float,
                year: int | None) -> gpd.GeoDataFrame:
    city_w = city.to_crs(settings.crs_work)[["geometry"]].assign(
        name=place, population=population, pop_year=year)
    city_w["area_km2"] = city_w.geometry.area / 1e6
    return city_w


def _named_level(feats: gpd.GeoDataFrame, level: str | None, kind: str, place: str
                 ) -> gpd.GeoDataFrame | None:
    """Return one admin level's OSM polygons with codes ``01``… (name order) and names."""
    if level is None:
        return None
    layer = feats[feats["admin_level"].astype(str) == level] if "admin_level" in feats \
        else feats.iloc[:0]
    if layer.empty:
        logger.warning("no OSM admin_level=%s polygons inside %r: %s layer falls back", level,
                       place, kind)
        return None
    names = (layer["name"] if "name" in layer else pd.Series(index=layer.index, dtype=object))
    names = names.fillna("").astype(str)
    order = np.lexsort((np.arange(len(layer)), names.map(fold).to_numpy()))
    layer = layer.iloc[order]
    width = max(2, len(str(len(layer))))
    codes = [str(i).zfill(width) for i in range(1, len(layer) + 1)]
    out = gpd.GeoDataFrame({f"{kind}_code": codes,
                            f"{kind}_name": [n or f"{kind} {c}" for n, c in
                                             zip(names.iloc[order], codes, strict=True)]},
                           geometry=layer.geometry.to_numpy(), crs=feats.crs)
    return out.to_crs(settings.crs_work)


def _fill_missing_levels(city: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
                         barris: gpd.GeoDataFrame | None, place: str
                         ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Fall back to one city-wide district and to one barri per district; link barris.

    Levels that leave part of the city (or of a district) uncovered get one more unit for
    the rest, named ``"<name> (rest)"``, so that each layer covers the whole city.
    """
    city_w = city.to_crs(settings.crs_work).geometry.to_numpy()[:1]
    name = place.split(",")[0].strip()
    if districts is None:
        districts = gpd.GeoDataFrame({"district_code": ["01"], "district_name": [name]},
                                     geometry=city_w, crs=settings.crs_work)
    else:
        districts = _with_rest(districts, [(city_w[0], name, {})], "district")
    if barris is None:
        barris = districts.rename(columns={"district_code": "barri_code",
                                           "district_name": "barri_name"})
        barris["district_code"] = districts["district_code"].to_numpy()
    else:
        barris["district_code"] = _holder(barris, districts, "district_code")
        barris = _with_rest(barris, [(g, n, {"district_code": c}) for c, n, g in zip(
            districts["district_code"], districts["district_name"], districts.geometry,
            strict=True)], "barri")
    barris["district_name"] = barris["district_code"].map(
        districts.set_index("district_code")["district_name"])
    return districts, barris


def _with_rest(layer: gpd.GeoDataFrame, wholes: list[tuple[BaseGeometry, str, dict[str, Any]]],
               kind: str, min_share: float = 0.01) -> gpd.GeoDataFrame:
    """Append a ``(rest)`` unit for each whole that the layer leaves uncovered (> 1 %)."""
    covered = layer.geometry.union_all()
    rows: list[dict[str, Any]] = []
    width = len(layer[f"{kind}_code"].iloc[0])
    for geom, name, extra in wholes:
        rest = geom.difference(covered)
        if rest.area > min_share * geom.area and rest.area > 1e4:
            code = str(len(layer) + len(rows) + 1).zfill(width)
            label = name if name.endswith(" (rest)") else f"{name} (rest)"  # a rest's rest
            rows.append({f"{kind}_code": code, f"{kind}_name": label, **extra,
                         "geometry": rest})
    if not rows:
        return layer
    logger.warning("OSM %s areas leave part of the city uncovered: %s", kind,
                   ", ".join(r[f"{kind}_name"] for r in rows))
    extra_rows = gpd.GeoDataFrame(rows, geometry="geometry", crs=layer.crs)
    return gpd.GeoDataFrame(pd.concat([layer, extra_rows], ignore_index=True), crs=layer.crs)


def _holder(parts: gpd.GeoDataFrame, wholes: gpd.GeoDataFrame, code: str) -> np.ndarray:
    """Return ``code`` of the ``wholes`` polygon holding each part's representative point.

    The nearest polygon when none holds it.
    """
    probe = gpd.GeoDataFrame(geometry=parts.geometry.representative_point().to_numpy(),
                             crs=parts.crs).to_crs(wholes.crs)
    hit = gpd.sjoin_nearest(probe, wholes[[code, "geometry"]], how="left")
    return hit[~hit.index.duplicated(keep="first")][code].to_numpy()


def _with_units(city: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, barris: gpd.GeoDataFrame,
                units: gpd.GeoDataFrame | None, place: str, year: int | None) -> AdminAreas:
    """Attach population units (or no population at all) to the admin layers."""
    from .population import units_population

    if units is None:
        nan = float("nan")
        for layer in (districts, barris):
            layer["population"], layer["pop_year"] = nan, None
        sections = None
        total = nan
    else:
        units = units.to_crs(settings.crs_work)
        for layer in (districts, barris):
            layer["population"] = units_population(units, layer)
            layer["pop_year"] = year
        sections = units[["section_code", "population", "geometry"]].copy()
        sections["barri_code"] = _holder(sections, barris, "barri_code")
        sections["district_code"] = sections["barri_code"].map(
            barris.set_index("barri_code")["district_code"])
        sections["pop_year"] = year
        sections["area_km2"] = sections.geometry.area / 1e6
        total = float(units["population"].sum())
    for layer in (districts, barris):
        layer["area_km2"] = layer.geometry.area / 1e6
    return AdminAreas(districts=districts, barris=barris, sections=sections,
                      city=_city_layer(city, place, total, year), pop_year=year)


@dataclass(frozen=True)
class _Level:
    """One OSM admin level and the official columns it matches."""

    admin_level: str
    code_col: str  # output columns
    name_col: str
    src_code: str  # columns of the Open Data BCN population table
    src_name: str


_DISTRICT_LEVEL = _Level("9", "district_code", "district_name", "Codi_Districte",
                         "Nom_Districte")
_BARRI_LEVEL = _Level("10", "barri_code", "barri_name", "Codi_Barri", "Nom_Barri")


def _osm_boundaries(place: str, cache_dir: Path, levels: list[str]
                    ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Geocode the place (Nominatim) and fetch the admin polygons of ``levels`` inside it."""
    import osmnx as ox

    from .._http import call_live, osmnx_settings

    with osmnx_settings(cache_dir, source="Nominatim"):
        city = call_live(ox.geocode_to_gdf, place, source="Nominatim")
    if city.empty:
        raise DataSourceError("Nominatim", f"no boundary found for {place!r}")
    polygon = city.geometry.iloc[0]
    if not levels:
        return city, gpd.GeoDataFrame(geometry=[], crs=city.crs)
    with osmnx_settings(cache_dir, source="Overpass"):
        feats = call_live(_features_or_none, polygon,
                          {"boundary": "administrative", "admin_level": levels},
                          source="Overpass")
    if feats is None:  # no polygon of these levels in OSM: the layers fall back
        return city, gpd.GeoDataFrame({"admin_level": []}, geometry=[], crs=city.crs)
    feats = feats[feats.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    feats = feats[feats.geometry.representative_point().within(polygon)]
    return city, feats


def _features_or_none(polygon: BaseGeometry, tags: dict[str, Any]) -> gpd.GeoDataFrame | None:
    """``osmnx.features_from_polygon``, or ``None`` when OSM has no matching feature."""
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    try:
        return ox.features_from_polygon(polygon, tags)
    except InsufficientResponseError as exc:
        if "no matching features" in str(exc).lower():
            return None
        raise


def _reference_year(pop: pd.DataFrame) -> int | None:
    """Year of the population table's reference date (``Data_Referencia``), if it says."""
    if "Data_Referencia" not in pop:
        return None
    stamps = pop["Data_Referencia"].dropna().astype(str)
    if len(stamps) and stamps.iloc[0][:4].isdigit():
        return int(stamps.iloc[0][:4])
    return None


def _admin_level(feats: gpd.GeoDataFrame, pop: pd.DataFrame, level: _Level, place: str,
                 year: int | None) -> gpd.GeoDataFrame:
    """Give the OSM polygons of one admin level official codes, names and population."""
    layer = feats[feats["admin_level"].astype(str) == level.admin_level].copy()
    if layer.empty:
        raise DataSourceError("Overpass", f"no admin_level={level.admin_level} boundaries "
                              f"inside {place!r}")
    official = pop.groupby(level.src_code)[level.src_name].first()
    codes = _match_names(layer["name"], official)
    unmatched = layer.loc[~layer.index.isin(codes.index), "name"].tolist()
    if unmatched:
        logger.warning("OSM admin_level=%s names not matched to official ones: %s",
                       level.admin_level, ", ".join(map(str, unmatched)))
    code_col, name_col = level.code_col, level.name_col
    layer = layer.loc[codes.index]
    layer[code_col] = codes.to_numpy()
    layer[name_col] = layer[code_col].map(official)
    layer["population"] = layer[code_col].map(pop.groupby(level.src_code)["Valor"].sum())
    layer["pop_year"] = year
    out = gpd.GeoDataFrame(layer[[code_col, name_col, "population", "pop_year", "geometry"]]
                           .reset_index(drop=True), crs=feats.crs).to_crs(settings.crs_work)
    out["area_km2"] = out.geometry.area / 1e6
    return out
