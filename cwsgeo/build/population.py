"""Where a city's residents come from on a live fetch: the profile's population source.

:func:`fetch_admin_areas` downloads the boundary and admin areas of the project's city
(:func:`cwsgeo.analysis.admin.fetch_admin_live`) with the population named by the city profile
(:class:`~cwsgeo.build.profiles.PopulationSource`):

* ``opendata_bcn``: Barcelona's register (``pad_mdbas``) per census section;
* ``ghsl``: the JRC GHS-POP grid, read in a window over the city
  (:func:`cwsgeo.analysis.population.read_grid_window`: a local file, or an ``http(s)`` URL
  through GDAL's ``/vsicurl/`` range requests), its populated cells clipped to the boundary;
* ``polygons``: a vector file with a population column;
* ``none``: no residents.

:func:`population_meta` is what the manifest records about the source (kind, path or URL,
epoch, credit).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError
from .config import Config

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from ..analysis.admin import AdminAreas, PopulationReader
    from .profiles import CityProfile, PopulationSource

logger = logging.getLogger(__name__)

__all__ = ["fetch_admin_areas", "population_meta", "population_reader"]

#: Source names used in errors and the manifest.
_NAMES = {"ghsl": "GHSL", "polygons": "population polygons", "opendata_bcn": "Open Data BCN"}


def _location(cfg: Config, path: str) -> str:
    """Return a URL as it is, or a file path resolved like cwsgeo.toml's (``mirror:``)."""
    return path if path.startswith(("http://", "https://")) else str(cfg.resolve(path))


def population_reader(cfg: Config, source: PopulationSource
                      ) -> PopulationReader | str | None:
    """Return what :func:`~cwsgeo.analysis.admin.fetch_admin_live` takes as ``population``.

    Parameters
    ----------
    cfg
        Project configuration (resolves relative, ``mirror:`` and ``raw:`` paths).
    source
        The profile's population source.

    Returns
    -------
    callable, str or None
        ``"opendata_bcn"``, ``None`` (no residents) or a function of the city boundary
        returning the population units.

    Raises
    ------
    cwsgeo.ConfigError
        ``ghsl`` or ``polygons`` without a path.
    """
    if source.kind == "opendata_bcn":
        return "opendata_bcn"
    if source.kind == "none":
        return None
    if not source.path:
        raise ConfigError(f"[population] kind = {source.kind!r} needs a path (file or URL)")
    where = _location(cfg, source.path)
    if source.kind == "ghsl":
        return lambda boundary: _grid_units(where, boundary)
    return lambda boundary: _polygon_units(where, source.column, boundary)


def _grid_units(where: str, boundary: BaseGeometry) -> gpd.GeoDataFrame:
    from ..analysis.population import grid_cells, read_grid_window

    cells = grid_cells(read_grid_window(where, boundary, name="GHSL"), boundary)
    if cells.empty:
        logger.warning("GHSL: no populated cell of %s inside the city boundary", where)
    return cells


def _polygon_units(where: str, column: str, boundary: BaseGeometry) -> gpd.GeoDataFrame:
    import geopandas as gpd

    from .._errors import DataSourceError, MissingDataError
    from ..analysis.population import population_units

    if not where.startswith(("http://", "https://")) and not Path(where).is_file():
        raise MissingDataError(f"population polygons not found: {where} ([population] path "
                               "of the city profile)")
    try:
        frame = gpd.read_file(where, engine="pyogrio")
    except Exception as exc:  # pyogrio's errors vary by driver
        raise DataSourceError("population polygons", f"cannot read {where}: {exc}") from None
    return population_units(frame, boundary, column=column, source=where)


def fetch_admin_areas(cfg: Config, cache_dir: Path) -> tuple[AdminAreas, str, str]:
    """Download the city's boundary and admin areas with the profile's population.

    Parameters
    ----------
    cfg
        Project configuration (its city profile).
    cache_dir
        This fetch's live cache.

    Returns
    -------
    tuple
        The areas, a description of the origin and the population's credit line (for the
        manifest).
    """
    from ..analysis.admin import fetch_admin_live

    profile = cfg.profile
    pop = profile.population
    areas = fetch_admin_live(profile.place, cache_dir, district_level=profile.district_level,
                             neighbourhood_level=profile.neighbourhood_level,
                             population=population_reader(cfg, pop), pop_year=pop.epoch)
    levels = "/".join(lv for lv in (profile.district_level, profile.neighbourhood_level) if lv)
    origin = f"OSM admin_level {levels or '(boundary only)'} + " + (
        "Open Data BCN pad_mdbas" if pop.kind == "opendata_bcn" else
        f"{_NAMES[pop.kind]} {pop.path}" if pop.kind != "none" else "no population")
    return areas, origin, pop.title


def population_meta(profile: CityProfile, previous: dict[str, Any] | None,
                    entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return what the manifest records about the population source (``"population"`` key).

    Parameters
    ----------
    profile
        The city profile.
    previous
        The previous manifest's record, kept when this fetch did not refresh the admin data.
    entries
        This fetch's manifest entries.

    Returns
    -------
    dict or None
        ``kind``, ``source`` (path or URL), ``epoch`` and ``title``.
    """
    if not any(e.get("dataset") == "admin" for e in entries):
        return previous
    pop = profile.population
    return {"kind": pop.kind, "source": pop.path, "epoch": pop.epoch, "title": pop.title}
