"""Data sources: what cwsgeo reads, where it comes from, under which licence, and ``fetch``.

This module owns the dataset registry (publisher, licence, data date, attribution of every
input), :func:`fetch`, which fills ``data/raw/`` either from the local mirror of the public
sources or live (OpenStreetMap through osmnx, the Open Data BCN portal), and the manifest
``data/raw/manifest.json`` that records each file's source, licence, date and sha256. Later
stages read only ``data/raw/`` through :class:`RawData`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, DataSourceError, MissingDataError
from .._io import atomic_path, sha256_file, write_json
from .config import Config, InventoryConfig
from .population import fetch_admin_areas, population_meta
from .profiles import applied, profile_digest

if TYPE_CHECKING:
    from ..analysis.network import WalkNetwork
    from .profiles import CityProfile

logger = logging.getLogger(__name__)

__all__ = ["DATASETS", "Dataset", "RawData", "attributions", "compact_network_path",
           "editable_inventory", "ensure_raw", "fetch", "inventory_to_read", "load_walk_network",
           "read_manifest", "save_network", "seed_inventory"]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Dataset:
    """One input dataset and how to credit it.

    Attributes
    ----------
    key
        Short identifier (also the folder under ``data/raw/``).
    role
        What the pipeline uses it for: admin, addresses, network, places, transit, inventory,
        listings.
    title, publisher, licence, date, url
        Provenance shown in the manifest, the README and the maps.
    attribution
        Credit line required by the licence.
    mirror_files
        Paths inside the local mirror.
    """

    key: str
    role: str
    title: str
    publisher: str
    licence: str
    date: str
    url: str
    attribution: str
    mirror_files: tuple[str, ...] = ()
    live: bool = True


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "admin", "admin",
        "Unitats administratives (districtes, barris, seccions censals) + Padró 2024",
        "Ajuntament de Barcelona (CartoBCN; Oficina Municipal de Dades)", "CC BY 4.0",
        "boundaries 2020-03-11; population 2024-01-01",
        "https://opendata-ajuntament.barcelona.cat/data/ca/dataset/pad_mdbas",
        "Ajuntament de Barcelona (CartoBCN; Open Data BCN, Padró Municipal d'Habitants "
        "1/1/2024), CC BY 4.0",
        ("admin/districts.geojson", "admin/barris.geojson", "admin/census_sections.geojson",
         "admin/city_boundary.geojson")),
    Dataset(
        "addresses", "addresses",
        "Adreces postals elementals (TAULA_DIRELE) + Carrerer",
        "Ajuntament de Barcelona (IMI)", "CC BY 4.0",
        "points 2019-05; street names 2023-12",
        "https://opendata-ajuntament.barcelona.cat/data/ca/dataset/taula-direle",
        "Ajuntament de Barcelona (Open Data BCN / IMI), CC BY 4.0",
        ("addresses/bcn_addresses.csv", "addresses/bcn_streets.csv",
         "addresses/bcn_street_types.csv"), live=False),
    Dataset(
        "streets", "network", "Graf viari de la ciutat de Barcelona (walking graph)",
        "Ajuntament de Barcelona", "CC BY 4.0", "downloaded <= 2023-06",
        "https://opendata-ajuntament.barcelona.cat/data/ca/dataset/graf-viari",
        "Ajuntament de Barcelona – Open Data BCN, CC BY 4.0",
        ("streets/bcn_grafvial_walk.graphml",)),
    Dataset(
        "places", "places",
        "Equipaments de cultura i lleure, Restaurants, ICUB equipaments culturals, Terrasses",
        "Ajuntament de Barcelona / ICUB", "CC BY 4.0", "2023-2026",
        "https://opendata-ajuntament.barcelona.cat/",
        "Ajuntament de Barcelona – Open Data BCN (facilities, restaurants, terraces; ICUB), "
        "CC BY 4.0",
        ("places/bcn_equipaments_cultura_lleure.geojson", "places/bcn_restaurants_guia.geojson",
         "places/bcn_icub_equipaments_culturals.geojson",
         "places/bcn_terrasses_2023_2s.geojson")),
    Dataset(
        "transit", "transit", "Metro, tram, FGC, Rodalies stations and TMB bus stops (GTFS)",
        "TMB, TRAM, FGC, Renfe/Rodalies", "operators' open-data terms", "2026-01/02",
        "https://github.com/FabianUB/minibarcelona3d",
        "Transit stops: TMB, TRAM, FGC, Rodalies de Catalunya open data (GTFS)",
        ("osm/transit_gtfs/tmb_metro_stations.geojson", "osm/transit_gtfs/tram_stations.geojson",
         "osm/transit_gtfs/fgc_stations.geojson", "osm/transit_gtfs/rodalies_stations.geojson",
         "osm/transit_gtfs/tmb_bus_stops.geojson",
         "osm/transit_gtfs/tmb_funicular_stations.geojson")),
    Dataset(
        "coworking", "inventory", "Barcelona coworking spaces (2025 directory scrapes)",
        "coworker.com, coworkingspain.es, Google Places (via public GitHub repositories)",
        "see coworking/PROVENANCE.md (coordinates: testing only)", "2025",
        "https://github.com/GabrielFersPin/Coworking",
        "Coworking list: 2025 scrapes of coworker.com and coworkingspain.es",
        ("coworking/coworking_spaces.csv",), live=False),
    Dataset(
        "listings", "listings", "Listing texts of the coworking spaces (2025 scrapes)",
        "coworker.com (via GabrielFersPin/Coworking), coworkingspain.es (via "
        "MMM-UOC/coworking-scraper, MIT)", "see coworking/PROVENANCE.md (texts: screening only)",
        "2025", "https://github.com/MMM-UOC/coworking-scraper",
        "Listing texts: coworker.com and coworkingspain.es (2025 scrapes)",
        ("coworking/raw/GabrielFersPin__Coworking/src/results/Barcelona/"
         "Barcelona_coworking_spaces.csv",
         "coworking/raw/MMM-UOC__coworking-scraper/checkpoint_220.xlsx"), live=False),
)

#: Credit lines of live OpenStreetMap data.
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"


def attributions(manifest: dict[str, Any] | None = None,
                 roles: Iterable[str] | None = None) -> list[str]:
    """Return credit lines with data dates, one per distinct attribution.

    Parameters
    ----------
    manifest
        ``data/raw/manifest.json`` as a dict; ``None`` credits every registered dataset.
    roles
        Roles of the files a product uses (``admin``, ``places``, ``transit``, ``network``,
        ``inventory`` ...); ``None``: every file.

    Returns
    -------
    list[str]
        E.g. ``"Transit stops: TMB, … (GTFS) — data 2026-01/02"``, in manifest order.
    """
    wanted = None if roles is None else set(roles)
    entries: Iterable[dict[str, Any]] = (
        manifest.get("files", []) if manifest is not None else
        ({"role": d.role, "attribution": d.attribution, "date": d.date} for d in DATASETS))
    lines: list[str] = []
    for entry in entries:
        if wanted is not None and entry.get("role") not in wanted:
            continue
        text = str(entry.get("attribution") or entry.get("publisher") or "").strip()
        if not text:
            continue
        date = str(entry.get("date") or "").strip()
        line = f"{text} — data {date}" if date else text
        if line not in lines:
            lines.append(line)
    return lines


def read_manifest(raw_dir: str | Path) -> dict[str, Any] | None:
    """Return ``data/raw/manifest.json`` as a dict, or ``None`` if absent or unreadable."""
    path = Path(raw_dir) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass
class RawData:
    """Paths of the inputs in ``data/raw/``, by role, as recorded in the manifest."""

    root: Path
    manifest: dict[str, Any]
    files: dict[str, list[Path]] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, raw_dir: str | Path) -> RawData:
        """Read the manifest of ``raw_dir``; raise if it is missing."""
        root = Path(raw_dir)
        manifest = read_manifest(root)
        if manifest is None:
            raise MissingDataError(f"{root / MANIFEST} not found: run `cwsgeo fetch`")
        files: dict[str, list[Path]] = {}
        for entry in manifest.get("files", []):
            files.setdefault(entry["role"], []).append(root / entry["path"])
        return cls(root, manifest, files)

    def paths(self, role: str) -> list[Path]:
        """Files of one role (empty list if none)."""
        return list(self.files.get(role, []))

    def folder(self, role: str) -> Path:
        """Return the folder holding a role's files."""
        paths = self.paths(role)
        if not paths:
            raise MissingDataError(f"no {role} data in {self.root}: run `cwsgeo fetch`")
        return paths[0].parent

    def one(self, role: str) -> Path:
        """Return the single file of a role."""
        paths = self.paths(role)
        if not paths:
            raise MissingDataError(f"no {role} data in {self.root}: run `cwsgeo fetch`")
        return paths[0]

    @property
    def source(self) -> str:
        """``"mirror"`` or ``"live"``."""
        return str(self.manifest.get("source", "mirror"))

    @property
    def crs(self) -> str | None:
        """Metric CRS the fetch resolved for the city (``None``: the profile's own)."""
        crs = self.manifest.get("crs")
        return str(crs) if crs else None


def _entry(ds: Dataset, raw_dir: Path, dest: Path, origin: str, date: str | None = None,
           attribution: str | None = None, licence: str | None = None,
           **described: str) -> dict[str, Any]:
    """Manifest entry of one file (``described`` may override ``title`` and ``publisher``)."""
    return {
        "path": dest.relative_to(raw_dir).as_posix(),
        "role": ds.role,
        "dataset": ds.key,
        "title": described.get("title", ds.title),
        "source": origin,
        "publisher": described.get("publisher", ds.publisher),
        "licence": licence or ds.licence,
        "date": date or ds.date,
        "attribution": attribution or ds.attribution,
        "fetched": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sha256": sha256_file(dest),
        "bytes": dest.stat().st_size,
    }


def _copy_from_mirror(ds: Dataset, mirror: Path, raw_dir: Path, staging: Path,
                      previous: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for rel in ds.mirror_files:
        src = mirror / rel
        if not src.exists():
            raise MissingDataError(f"{src} not found in the data mirror {mirror} (set "
                                   "[data] mirror in cwsgeo.toml or CWSGEO_MIRROR)")
        name = f"{ds.key}/{Path(rel).name}"
        current, old = raw_dir / name, previous.get(name)
        if (old and current.exists() and current.stat().st_size == src.stat().st_size
                and old.get("sha256") == sha256_file(src)):
            entries.append(old)
            continue
        dest = staging / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        entries.append(_entry(ds, staging, dest, f"mirror:{rel}"))
    return entries


def _fetch_live(ds: Dataset, cfg: Config, raw_dir: Path, polygon: Any,
                cache: Path) -> list[dict[str, Any]]:
    """Download one dataset live and save it in data/raw in the pipeline's schema."""
    from ..analysis import layers, network

    today = dt.date.today().isoformat()
    folder = raw_dir / ds.key
    osm_kw = {"date": today, "attribution": OSM_ATTRIBUTION, "licence": "ODbL 1.0"}
    if ds.key == "admin":
        return _fetch_admin_live(ds, cfg, raw_dir, cache)
    if ds.key == "streets":
        net = network.download_network(polygon, cache_dir=cache)
        dest = save_network(net, folder / "osm_walk_network.npz")
        return [_entry(ds, raw_dir, dest, "Overpass (osmnx network_type='walk')", **osm_kw)]
    if ds.key in ("places", "transit"):
        gdf = (layers.fetch_places_live(polygon, cache) if ds.key == "places" else
               layers.fetch_transit_live(polygon, cache, rules=cfg.profile.transit))
        dest = folder / f"osm_{ds.key}.gpkg"
        with atomic_path(dest) as tmp:
            gdf.to_crs("EPSG:4326").to_file(tmp, layer=ds.key, driver="GPKG", engine="pyogrio")
        return [_entry(ds, raw_dir, dest, "Overpass (osmnx features)", **osm_kw)]
    raise ConfigError(f"dataset {ds.key!r} has no live source")  # pragma: no cover


def _fetch_admin_live(ds: Dataset, cfg: Config, raw_dir: Path, cache: Path
                      ) -> list[dict[str, Any]]:
    """Write the live admin layers (and population units) with their manifest entries."""
    from ..analysis.admin import ADMIN_FILES

    areas, origin, credit = fetch_admin_areas(cfg, cache)
    today = dt.date.today().isoformat()
    layers = {"districts": areas.districts, "barris": areas.barris, "city": areas.city,
              "units": areas.sections}
    register = cfg.profile.population.kind == "opendata_bcn"
    described = {} if register else {
        "title": "Boundary and admin areas (OSM)" + (f"; population: {credit}" if credit
                                                     else ""),
        "publisher": "OpenStreetMap contributors"}
    licence = None if register else "ODbL 1.0" + ("; population: see its source" if credit
                                                  else "")
    credit = ds.attribution if register else credit
    out = []
    for kind, gdf in layers.items():
        if gdf is None:
            continue
        dest = raw_dir / ds.key / ADMIN_FILES[kind]
        with atomic_path(dest) as tmp:
            gdf.to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON", engine="pyogrio")
        out.append(_entry(ds, raw_dir, dest, origin, date=today,
                          attribution="; ".join(c for c in (OSM_ATTRIBUTION, credit) if c),
                          licence=licence, **described))
    return out


def fetch(cfg: Config, *, live: bool | None = None, only: Iterable[str] | None = None,
          progress: bool = False) -> dict[str, Any]:
    """Fill ``data/raw/`` from the mirror or from live sources, and write the manifest.

    Parameters
    ----------
    cfg
        Project configuration (mirror, raw folder, cache, place name).
    live
        ``True`` downloads boundaries, population, places, transit and the walking network
        live; datasets without a live source (address gazetteer, coworking list) still come
        from the mirror when it exists. ``None`` follows ``[data] source`` in the config.
    only
        Dataset keys to refresh (default: all).
    progress
        Show a progress bar.

    Returns
    -------
    dict
        The manifest written to ``data/raw/manifest.json``.
    """
    from tqdm.auto import tqdm

    live = (cfg.data.source == "live") if live is None else live
    raw_dir = cfg.raw_dir
    raw_dir.mkdir(parents=True, exist_ok=True)
    for stale in raw_dir.glob(".staging-*"):
        if not _pid_alive(stale.name.removeprefix(".staging-")):
            shutil.rmtree(stale, ignore_errors=True)
    # everything is fetched into a staging folder first; only when every dataset succeeded
    # are the files moved into data/raw/ and the manifest written, so a failed or killed
    # fetch leaves the previous inputs and manifest as they were
    staging = raw_dir / f".staging-{os.getpid()}"
    # live answers are cached for this fetch only (retries reuse what already arrived); a
    # later fetch downloads afresh, so the recorded date is the date of the data
    live_root = cfg.cache_dir / "live"
    # (unique per fetch: two fetches within one second must not share answers)
    live_cache = live_root / (dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%f")
                              + f"-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        manifest = _fetch(cfg, live, only, progress, raw_dir, staging, tqdm, live_cache)
    except BaseException:
        shutil.rmtree(live_cache, ignore_errors=True)
        raise
    else:
        for old in live_root.glob("*"):
            if old != live_cache:
                shutil.rmtree(old, ignore_errors=True)
        return manifest
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pid_alive(pid: str) -> bool:
    """Return True when ``pid`` is a running process (its staging folder is in use)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fetch(cfg: Config, live: bool, only: Iterable[str] | None, progress: bool, raw_dir: Path,
           staging: Path, tqdm: Any, live_cache: Path) -> dict[str, Any]:
    previous = read_manifest(raw_dir) or {}
    old_entries = {e["path"]: e for e in previous.get("files", [])}
    wanted = set(only) if only else {d.key for d in DATASETS}
    unknown = wanted - {d.key for d in DATASETS}
    if unknown:
        raise ConfigError(f"unknown dataset(s): {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(d.key for d in DATASETS)}")
    mirror = cfg.mirror_dir
    datasets = [d for d in DATASETS if d.key in wanted]
    profile = cfg.profile
    if not live and not _uses_mirror(profile):
        raise ConfigError(f"{profile.name} has no data in the mirror {mirror}: the mirror is "
                          "Barcelona's and the city profile names none of its files; use live "
                          "sources (--live, or [data] source = \"live\")")
    # the previous fetch's boundary serves only when this fetch does not refresh the admin
    # areas (the place may have changed: its boundary then comes from Nominatim)
    previous_boundary = () if "admin" in wanted else (raw_dir,)
    polygon = (_live_polygon(cfg, live_cache, *previous_boundary)
               if live and any(d.live for d in datasets) else None)
    crs = _resolved_crs(profile, polygon, previous)
    entries: list[dict[str, Any]] = []
    # live layers are projected (the network's compact form) in the city's own CRS
    with applied(profile, crs=crs) if crs else contextlib.nullcontext():
        for ds in tqdm(datasets, desc="fetch", unit="dataset", disable=not progress):
            if live and ds.live:
                logger.info("fetching %s live", ds.key)
                entries += _fetch_live(ds, cfg, staging, polygon, live_cache)
            elif mirror.exists() and (not live or _uses_mirror(profile)):
                logger.info("copying %s from the mirror %s", ds.key, mirror)
                entries += _copy_from_mirror(ds, mirror, raw_dir, staging, old_entries)
            elif live:
                logger.info("no live source for %s and no mirror of %s: skipped", ds.key,
                            profile.name)
            else:
                raise MissingDataError(f"data mirror not found: {mirror} (set [data] mirror "
                                       "in cwsgeo.toml, CWSGEO_MIRROR, or use --live)")
    for entry in entries:
        staged = staging / entry["path"]
        target = raw_dir / entry["path"]
        if staged.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.replace(target)
            target.chmod(0o444)  # read-only input: the editable inventory is elsewhere
        entry["mtime_ns"] = target.stat().st_mtime_ns
    # files of a refreshed dataset that the new fetch did not produce (e.g. census sections
    # after a live fetch, which has none) must not be mixed with the new ones
    listed = {e["path"] for e in entries} | _store_compact_networks(raw_dir, entries)
    for ds in datasets:
        folder = raw_dir / ds.key
        if folder.is_dir():
            for old in folder.iterdir():
                rel = old.relative_to(raw_dir).as_posix()
                if old.is_file() and rel not in listed:
                    logger.info("removing %s: not part of the new %s data", old, ds.key)
                    old.unlink()
    kept = [e for p, e in old_entries.items()
            if e.get("dataset") not in wanted and (raw_dir / p).exists()]
    manifest = {
        "cwsgeo_manifest": 1,
        "source": "live" if live else "mirror",
        "mirror": str(mirror),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "crs": crs,
        "city": profile_digest(profile),
        "bbox": _loose_bbox(polygon) if polygon is not None else previous.get("bbox"),
        "population": population_meta(profile, previous.get("population"), entries),
        "files": kept + entries,
    }
    write_json(raw_dir / MANIFEST, manifest)
    return manifest


def _loose_bbox(polygon: Any, pad_deg: float = 0.01) -> list[float]:
    """Return the boundary's ``[west, south, east, north]`` in degrees, padded ~1 km."""
    west, south, east, north = polygon.bounds
    return [round(west - pad_deg, 5), round(south - pad_deg, 5), round(east + pad_deg, 5),
            round(north + pad_deg, 5)]


def _uses_mirror(profile: CityProfile) -> bool:
    """Whether the mirror holds this city's data (its profile names ``mirror:`` files).

    The mirror is Barcelona's: a live fetch of another city takes nothing from it (no
    Barcelona addresses or coworking list in a Milan project).
    """
    return any(str(v).startswith("mirror:") for v in
               (profile.gazetteer, profile.population.path, *profile.gtfs))


def _resolved_crs(profile: CityProfile, polygon: Any, previous: dict[str, Any]) -> str | None:
    """Return the metric CRS: the profile's, else the UTM zone of the boundary's centroid.

    Without a live boundary (a mirror fetch of an ``"auto"`` profile), the previous fetch's
    CRS or the profile's bounding box decides; ``None`` when neither is known.
    """
    if profile.crs != "auto":
        return profile.crs
    if polygon is not None:
        centre = polygon.centroid
        return profile.work_crs(centre.x, centre.y)
    if previous.get("crs"):
        return str(previous["crs"])
    return profile.work_crs() if profile.bbox is not None else None


def _live_polygon(cfg: Config, cache: Path, *folders: Path) -> Any:
    """Return the city polygon (EPSG:4326) for live queries (a fetched file, else Nominatim)."""
    import geopandas as gpd
    import osmnx as ox

    from .._http import call_live, osmnx_settings

    for folder in folders:
        city_file = folder / "admin" / "city_boundary.geojson"
        if city_file.exists():
            return gpd.read_file(city_file).to_crs("EPSG:4326").geometry.union_all()
    with osmnx_settings(cache, source="Nominatim"):
        gdf = call_live(ox.geocode_to_gdf, cfg.profile.place, source="Nominatim")
    if gdf.empty:
        raise DataSourceError("Nominatim", f"no boundary found for {cfg.profile.place!r}")
    return gdf.geometry.iloc[0]


# ---------------------------------------------------------------------------------------
# The walking network in compact form
# ---------------------------------------------------------------------------------------
def compact_network_path(graph: str | Path, sha256: str, *, folder: str | Path | None = None,
                         largest_component: bool = True) -> Path:
    """Return where the compact form of a street graph with these bytes is kept.

    ``<stem>.walknet-<sha256[:24]>-v<COMPACT_VERSION>-<lcc|all>-<crs>.npz`` next to the graph
    (or in ``folder``): the name changes with the graph's bytes, the compact layout and rules,
    the component kept and the work CRS (:data:`cwsgeo.settings.crs_work`, read now), so a
    file of that name always holds the right network.

    Parameters
    ----------
    graph
        The street graph (GraphML or OSM XML).
    sha256
        Its sha256 (hex).
    folder
        Folder of the compact file (default: the graph's).
    largest_component
        Whether the network keeps only its largest connected component.
    """
    from .. import settings
    from ..analysis.network import COMPACT_VERSION

    graph = Path(graph)
    crs_tag = settings.crs_work.replace(":", "").lower()
    tag = "lcc" if largest_component else "all"
    name = f"{graph.stem}.walknet-{sha256[:24]}-v{COMPACT_VERSION}-{tag}-{crs_tag}.npz"
    return (graph.parent if folder is None else Path(folder)) / name


def save_network(net: WalkNetwork, path: str | Path) -> Path:
    """Write a network's compact form (``numpy.savez`` of its arrays) atomically.

    Parameters
    ----------
    net
        The walking network.
    path
        Destination ``.npz``; read back with :func:`cwsgeo.analysis.network.read_network`.
    """
    import numpy as np

    arrays: dict[str, Any] = net.to_arrays()
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)
    return Path(path)


def _store_compact_networks(raw_dir: Path, entries: list[dict[str, Any]]) -> set[str]:
    """Write the compact network next to each fetched street graph; return their paths.

    A graph that cannot be parsed is left to the build (it reports the error); a compact file
    already there for the same bytes is kept.
    """
    from ..analysis.network import GRAPH_SUFFIXES

    kept: set[str] = set()
    for entry in entries:
        graph = raw_dir / entry["path"]
        if entry["role"] != "network" or graph.suffix.lower() not in GRAPH_SUFFIXES:
            continue
        target = compact_network_path(graph, entry["sha256"])
        if not target.is_file() and _write_compact(graph, entry["sha256"], target) is None:
            continue
        kept.add(target.relative_to(raw_dir).as_posix())
    return kept


def _write_compact(graph: Path, sha256: str, target: Path) -> Path | None:
    from .._errors import CwsgeoError
    from ..analysis.network import read_network

    try:
        net = read_network(graph, source=_network_source(graph, sha256))
    except CwsgeoError as exc:
        logger.warning("no compact walking network for %s: %s", graph, exc)
        return None
    logger.info("compact walking network written to %s", target)
    return save_network(net, target)


def _network_source(graph: Path, sha256: str) -> str:
    return f"{graph.name} sha256:{sha256[:16]}"


def load_walk_network(path: str | Path, *, cache_dir: str | Path,
                      sha256: str | None = None) -> WalkNetwork:
    """Load the walking network of a build: its compact form when one matches, else parse.

    The compact file written by :func:`fetch` next to the graph is used when its name matches
    the graph's bytes (see :func:`compact_network_path`); then one in ``cache_dir/network``;
    else the graph is parsed (2-3 s for Barcelona) and its compact form written there for the
    next build. A compact file that cannot be read is ignored (and replaced in the cache).

    Parameters
    ----------
    path
        ``.graphml``, ``.osm``/``.xml`` or ``.npz``.
    cache_dir
        cwsgeo's cache folder.
    sha256
        The graph's sha256 when known (from the manifest); hashed now otherwise.
    """
    from .._errors import CwsgeoError
    from ..analysis.network import GRAPH_SUFFIXES, read_network

    path = Path(path)
    if path.suffix.lower() not in GRAPH_SUFFIXES or not path.is_file():
        return read_network(path)  # a compact file, or the reader's own error
    sha256 = sha256 or sha256_file(path)
    cached = compact_network_path(path, sha256, folder=Path(cache_dir) / "network")
    for compact in (compact_network_path(path, sha256), cached):
        if compact.is_file():
            try:
                net = read_network(compact)
            except CwsgeoError as exc:
                logger.warning("ignoring unreadable compact network %s: %s", compact, exc)
            else:
                logger.info("walking network from %s", compact)
                return net
    net = read_network(path, source=_network_source(path, sha256))
    save_network(net, cached)
    return net


def ensure_raw(cfg: Config, *, progress: bool = False, dry_run: bool = False) -> RawData:
    """Return the inputs in ``data/raw/``, running :func:`fetch` first when needed.

    A fetch runs when the manifest is missing, was made from another source than the
    configured one (or from another mirror folder), or when a listed file is missing or has
    changed (size or modification time). A changed file is someone's edit: it is kept in
    ``data/raw/.edits/`` before the fetch replaces it, and a warning says where.

    Parameters
    ----------
    cfg
        Project configuration.
    progress
        Show a progress bar while fetching.
    dry_run
        Never fetch: raise instead when data/raw is missing or out of date.

    Raises
    ------
    cwsgeo.MissingDataError
        A dry run found data/raw missing or out of date.
    """
    manifest = read_manifest(cfg.raw_dir)
    reason = _stale(cfg, manifest)
    if reason:
        if dry_run:
            raise MissingDataError(f"{reason}; a dry run does not fetch: run `cwsgeo fetch` "
                                   "first")
        logger.info("fetching inputs: %s", reason)
        _keep_edited_raw_files(cfg, manifest)
        fetch(cfg, progress=progress)
    return RawData.from_manifest(cfg.raw_dir)


def _keep_edited_raw_files(cfg: Config, manifest: dict[str, Any] | None) -> list[Path]:
    """Copy files of data/raw that changed since the fetch to ``data/raw/.edits/<time>/``."""
    if not manifest or not isinstance(manifest.get("files"), list):
        return []
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = []
    for entry in manifest["files"]:
        path = cfg.raw_dir / entry["path"]
        if not path.is_file() or _unchanged(path, entry):
            continue
        copy = cfg.raw_dir / ".edits" / stamp / entry["path"]
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        kept.append(copy)
        logger.warning(
            "%s was edited, but data/raw/ is a read-only copy of the %s and is refreshed "
            "now: your edited file is kept at %s. Edit the inventory at %s instead (cwsgeo "
            "never overwrites it).", path, "mirror" if cfg.data.source == "mirror" else
            "sources", copy, editable_inventory(cfg))
    return kept


def editable_inventory(cfg: Config) -> Path:
    """Return the file to edit: the configured inventory, unless it is in data/raw/."""
    if cfg.inventory_path.resolve().is_relative_to(cfg.raw_dir.resolve()):
        return cfg.resolve(InventoryConfig().path)
    return cfg.inventory_path


def seed_inventory(cfg: Config) -> Path | None:
    """Create the editable inventory from ``[inventory] seed`` if it does not exist yet.

    The inventory (default ``inventory/coworking_spaces.csv``) is the keeper's file: it is
    copied once from the seed (default: the bundle's list in ``data/raw/``) and never
    overwritten afterwards.

    Parameters
    ----------
    cfg
        Project configuration (``data/raw/`` must hold the seed).

    Returns
    -------
    pathlib.Path or None
        The inventory created, or ``None`` when it existed or no seed is configured.
    """
    target, seed = cfg.inventory_path, cfg.inventory.seed
    if seed is None or target.exists():
        return None
    source = cfg.resolve(seed)
    if not source.is_file():
        raise MissingDataError(f"{target} does not exist and its seed {source} is missing: "
                               "run `cwsgeo fetch`, or set [inventory] path to your file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
    target.chmod(0o644)
    logger.warning("created the editable inventory %s from %s: edit this file, then run "
                   "`cwsgeo build` (it is never overwritten)", target, source)
    return target


def _stale(cfg: Config, manifest: dict[str, Any] | None) -> str | None:
    """Why data/raw must be fetched again, or None when it is up to date."""
    if not manifest or not isinstance(manifest.get("files"), list):
        return f"{cfg.raw_dir / MANIFEST} is missing"
    if manifest.get("source") != cfg.data.source:
        return f"data/raw came from the {manifest.get('source')} source, not {cfg.data.source}"
    if cfg.data.source == "mirror" and manifest.get("mirror") != str(cfg.mirror_dir):
        return f"data/raw came from another mirror ({manifest.get('mirror')})"
    if manifest.get("city", profile_digest(cfg.profile)) != profile_digest(cfg.profile):
        return "the city profile changed (place, levels, population, CRS or gazetteer)"
    for entry in manifest["files"]:
        path = cfg.raw_dir / entry["path"]
        if not path.exists():
            return f"{path} is missing"
        if not _unchanged(path, entry):
            return f"{path} has changed"
    return None


def _unchanged(path: Path, entry: dict[str, Any]) -> bool:
    st = path.stat()
    return st.st_size == entry.get("bytes") and entry.get("mtime_ns", st.st_mtime_ns) \
        == st.st_mtime_ns


def inventory_to_read(cfg: Config, dry_run: bool) -> Path:
    """Return the inventory file to read, seeded first when it does not exist.

    A dry run writes nothing: it reads the seed instead. An inventory inside data/raw/ gets
    a warning (edits there are not kept).
    """
    path = cfg.inventory_path
    if path.resolve().is_relative_to(cfg.raw_dir.resolve()):
        logger.warning("the inventory %s is inside data/raw/, a copy of the data sources that "
                       "cwsgeo refreshes: edits there are not kept. Edit %s instead (set "
                       "[inventory] path in cwsgeo.toml).", path, editable_inventory(cfg))
    if path.exists() or cfg.inventory.seed is None:
        return path
    if dry_run:
        return cfg.resolve(cfg.inventory.seed)
    seed_inventory(cfg)
    return path
