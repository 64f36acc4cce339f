"""Files of the density stage: GeoPackages with CSV twins, GeoTIFFs, contours, class breaks.

Writers take data and a destination and write atomically (:mod:`cwsgeo._io`); they never
decide whether a file is up to date. :func:`density_files` lists the files of a
:class:`~cwsgeo.analysis.density.DensityResult` as :class:`OutputFile` entries (name, the data
it is made from, a writer), so the build can skip unchanged ones
(``ledger.write_if_changed(folder / f.name, key_of(f.data), f.write)``);
:func:`write_density_outputs` simply writes them all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from .._io import atomic_path, write_csv, write_gpkg, write_json
from ..analysis.density import (
    DENSITY_UNITS,
    Classification,
    DensityResult,
    KernelSurface,
    surface_contours,
)

logger = logging.getLogger(__name__)

__all__ = [
    "GEOTIFF_NODATA",
    "OutputFile",
    "density_contours",
    "density_files",
    "write_density_outputs",
    "write_geotiff",
    "write_layer",
    "write_layer_csv",
    "write_layer_gpkg",
]

#: Nodata value of the GeoTIFFs (cells outside the city).
GEOTIFF_NODATA = -9999.0


@dataclass(frozen=True)
class OutputFile:
    """One output file: its name, the data it is made from, and how to write it.

    Attributes
    ----------
    name
        File name (relative to the output folder).
    data
        What the file's content depends on: (Geo)DataFrames, :class:`KernelSurface` objects
        and JSON-able values; equal data give an equal file.
    write
        Writes the file at the path given (atomically) and returns the path.
    """

    name: str
    data: tuple[Any, ...]
    write: Callable[[Path], Path]


def write_layer_gpkg(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], layer: str) -> Path:
    """Write a table as a one-layer GeoPackage in EPSG:4326, atomically.

    Parameters
    ----------
    gdf
        Table with geometry, any CRS.
    path
        Destination ``.gpkg``.
    layer
        Layer name.
    """
    return write_gpkg({layer: gdf.to_crs(settings.crs_store)}, path)


def write_layer_csv(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a table without geometry as CSV (hexagons get ``lon``/``lat`` of their centre).

    Safe against spreadsheet formula injection (:func:`cwsgeo._io.write_csv`).

    Parameters
    ----------
    gdf
        Table with geometry, any CRS.
    path
        Destination ``.csv``.
    """
    stored = gdf.to_crs(settings.crs_store)
    table = pd.DataFrame(stored.drop(columns=stored.geometry.name))
    if "hex_id" in table.columns:
        centre = gdf.to_crs(settings.crs_work).geometry.centroid.to_crs(settings.crs_store)
        table["lon"] = np.round(centre.x.to_numpy(), 6)
        table["lat"] = np.round(centre.y.to_numpy(), 6)
    return write_csv(table, path)


def write_layer(gdf: gpd.GeoDataFrame, folder: str | os.PathLike[str], name: str, *,
                csv: bool = True) -> list[Path]:
    """Write ``<name>.gpkg`` (EPSG:4326, layer ``name``) and its CSV twin, atomically.

    Parameters
    ----------
    gdf
        Table with geometry, any CRS.
    folder
        Output folder (created).
    name
        File stem and layer name.
    csv
        Also write ``<name>.csv`` (see :func:`write_layer_csv`).

    Returns
    -------
    list[Path]
        The files written.
    """
    folder = Path(folder)
    paths = [write_layer_gpkg(gdf, folder / f"{name}.gpkg", name)]
    if csv:
        paths.append(write_layer_csv(gdf, folder / f"{name}.csv"))
    return paths


def _geotiff_profile(first: KernelSurface, count: int) -> dict[str, Any]:
    rows, cols = first.values.shape
    profile: dict[str, Any] = {
        "driver": "GTiff", "width": cols, "height": rows, "count": count, "dtype": "float32",
        "crs": first.crs, "transform": first.transform, "nodata": GEOTIFF_NODATA,
        "compress": "deflate", "predictor": 3, "tiled": True, "blockxsize": 256,
        "blockysize": 256}
    if rows < 256 or cols < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    return profile


def write_geotiff(surfaces: KernelSurface | Mapping[str, KernelSurface],
                  path: str | os.PathLike[str]) -> Path:
    """Write one or more surfaces (one band each) as a float32 GeoTIFF, atomically.

    Parameters
    ----------
    surfaces
        A surface or a mapping of surfaces on the same grid; band descriptions are the
        mapping's keys (or the surface name).
    path
        Destination ``.tif``.

    Returns
    -------
    Path
        EPSG:25831, deflate-compressed, nodata ``-9999`` outside the city; tags record units,
        kernel, bandwidth, cell size, number of points and edge correction.
    """
    import rasterio

    items = ({surfaces.name: surfaces} if isinstance(surfaces, KernelSurface)
             else dict(surfaces))
    if not items:
        raise ValueError("write_geotiff: no surface to write")
    first = next(iter(items.values()))
    for s in items.values():
        if s.values.shape != first.values.shape or s.transform != first.transform:
            raise ValueError(f"write_geotiff: surface {s.name!r} is not on the grid of "
                             f"{first.name!r}")
    with (atomic_path(path) as tmp, rasterio.Env(GDAL_PAM_ENABLED="NO"),
          rasterio.open(tmp, "w", **_geotiff_profile(first, len(items))) as dst):
        dst.update_tags(units=DENSITY_UNITS.replace("²", "2"), kernel=first.kernel,
                        bandwidth_m=f"{first.bandwidth_m:g}", cell_m=f"{first.cell_m:g}",
                        edge_correction=str(first.edge_correction))
        for band, (key, s) in enumerate(items.items(), start=1):
            data = np.where(np.isfinite(s.values), s.values, GEOTIFF_NODATA)
            dst.write(data.astype("float32"), band)
            dst.set_band_description(band, key)
            dst.update_tags(band, name=s.name, n_points=str(s.n_points),
                            integral=f"{s.integral():.6g}")
    logger.debug("wrote %s", path)
    return Path(path)


def density_contours(result: DensityResult) -> dict[str, gpd.GeoDataFrame]:
    """Return the non-empty band polygons of the ``"all"`` surfaces: ``spaces``, ``places``.

    Taken from ``result.contours`` when there, computed with the result's classes otherwise.
    """
    classes = result.classifications()
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, surfaces in (("spaces", result.kde_spaces), ("places", result.kde_places)):
        if not surfaces:
            continue
        bands = result.contours.get(name)
        if bands is None:
            bands = surface_contours(surfaces["all"], result.boundary,
                                     classification=classes.get(f"kde_{name}.all"))
        out[name] = bands
    return {k: v for k, v in out.items() if len(v)}


def _surface_data(surfaces: Mapping[str, KernelSurface], cls: Classification | None
                  ) -> tuple[Any, ...]:
    flat: list[Any] = []
    for key, surface in surfaces.items():
        flat += [key, surface]
    return (*flat, cls.to_dict() if cls is not None else None)


def _table_files(name: str, table: gpd.GeoDataFrame, csv: bool) -> list[OutputFile]:
    def gpkg(path: Path) -> Path:
        return write_layer_gpkg(table, path, name)

    def csv_twin(path: Path) -> Path:
        return write_layer_csv(table, path)

    return [OutputFile(f"{name}.gpkg", (table,), gpkg),
            *([OutputFile(f"{name}.csv", (table,), csv_twin)] if csv else [])]


def _surface_file(name: str, surfaces: Mapping[str, KernelSurface],
                  cls: Classification | None) -> OutputFile:
    def write(path: Path) -> Path:
        return write_geotiff(surfaces, path)

    return OutputFile(f"kde_{name}.tif", _surface_data(surfaces, cls), write)


def density_files(result: DensityResult, *, csv: bool = True) -> list[OutputFile]:
    """List the density stage's files (see :func:`write_density_outputs`), in writing order.

    Parameters
    ----------
    result
        From :func:`cwsgeo.analysis.density.compute_densities`.
    csv
        Include the CSV twins of the tables.

    Returns
    -------
    list[OutputFile]
    """
    files = [f for name, table in (("districts", result.districts),
                                   ("barris", result.barris), ("hexes", result.hexes))
             for f in _table_files(name, table, csv)]
    classes = result.classifications()
    files += [_surface_file(name, surfaces, classes.get(f"kde_{name}.all"))
              for name, surfaces in (("spaces", result.kde_spaces),
                                     ("places", result.kde_places)) if surfaces]
    contours = density_contours(result)
    class_dicts = {k: v.to_dict() for k, v in classes.items()}

    def write_contours(path: Path) -> Path:
        return write_gpkg(contours, path)

    def write_classes(path: Path) -> Path:
        return write_json(path, class_dicts)

    if contours:
        files.append(OutputFile("kde_contours.gpkg", (*contours.keys(), *contours.values()),
                                write_contours))
    files.append(OutputFile("density_classes.json", (class_dicts,), write_classes))
    return files


def write_density_outputs(result: DensityResult, folder: str | os.PathLike[str], *,
                          csv: bool = True) -> dict[str, Path]:
    """Write the density stage's files into ``folder`` (the pipeline's ``data/processed/``).

    Files: ``districts.gpkg``, ``barris.gpkg``, ``hexes.gpkg`` (EPSG:4326) and their CSV twins;
    ``kde_spaces.tif`` (band ``all``) and ``kde_places.tif`` (band ``all`` then one per
    category, in :data:`~cwsgeo.schema.PLACE_CATEGORIES` order) in EPSG:25831;
    ``kde_contours.gpkg`` (layers ``spaces`` and ``places``, band polygons of the ``all``
    surfaces, EPSG:4326); ``density_classes.json`` (class breaks and colours of the mapped
    columns, see :meth:`DensityResult.classifications`). Every file is written atomically.

    Parameters
    ----------
    result
        From :func:`cwsgeo.analysis.density.compute_densities`.
    folder
        Output folder (created).
    csv
        Also write the CSV twins.

    Returns
    -------
    dict[str, Path]
        File name -> path.
    """
    folder = Path(folder)
    written = [f.write(folder / f.name) for f in density_files(result, csv=csv)]
    logger.info("density outputs: %d files in %s", len(written), folder)
    return {p.name: p for p in written}
