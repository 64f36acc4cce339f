"""Reading a build's outputs back: :func:`read_outputs` and :class:`BuildOutputs`.

A build writes GeoPackages (EPSG:4326) and CSV tables into ``data/processed/`` (see
:mod:`cwsgeo.build.pipeline` and :mod:`cwsgeo.outputs.tables`). This module reads them back
with their layer names (no "more than one layer" warning) and the dtypes of the build: spaces
and walking areas indexed by the space ``id``, ``innovation_type`` as pandas' nullable
``Int64``, and integer columns that a blank made float in the file as ``Int64`` again.

Examples
--------
>>> import cwsgeo
>>> out = cwsgeo.read_outputs("data/processed")  # doctest: +SKIP
>>> out.spaces["innovation_type"].dtype  # doctest: +SKIP
Int64Dtype()
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .._errors import MissingDataError

__all__ = ["BuildOutputs", "read_outputs"]

#: Files every completed build writes into ``data/processed/``.
REQUIRED_FILES = ("coworking_spaces.gpkg", "districts.gpkg", "barris.gpkg", "hexes.gpkg",
                  "accessibility_surface.gpkg", "proximity_by_type.csv", "coverage.csv",
                  "residents_allocation.csv", "density_classes.json")

#: Nullable integer columns of the CSV tables.
_CSV_INTEGERS = ("innovation_type", "points", "sections")


@dataclass(frozen=True)
class BuildOutputs:
    """The processed layers and tables of one build (see :func:`read_outputs`).

    Attributes
    ----------
    folder
        The ``data/processed`` folder read.
    spaces
        The coworking spaces with every column of ``coworking_spaces.csv``, indexed by
        ``id`` (EPSG:4326; unlocated spaces have no geometry).
    walk_areas
        10-minute walking areas of the located spaces, indexed by ``id``.
    districts, barris, hexes
        Density tables (counts, residents, densities, location quotients) with geometry.
    surface
        Accessibility surface: one point per network node (residents and places within
        walking minutes).
    proximity_by_type
        Medians and quartiles of the per-space metrics, for all spaces and per type.
    coverage
        Share of residents within walking minutes of any space, and of each type.
    residents_allocation
        How the census population was put on the walking network.
    density_classes
        Class breaks and colours of the mapped density columns.
    contours
        Density band polygons (``spaces``, ``places``) when the build wrote any.
    """

    folder: Path
    spaces: gpd.GeoDataFrame
    walk_areas: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    barris: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    surface: gpd.GeoDataFrame
    proximity_by_type: pd.DataFrame
    coverage: pd.DataFrame
    residents_allocation: pd.DataFrame
    density_classes: dict[str, Any]
    contours: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


def processed_folder(folder: str | os.PathLike[str]) -> Path:
    """Return the ``data/processed`` folder of ``folder`` (a build's ``--out`` or itself)."""
    path = Path(folder)
    inner = path / "data" / "processed"
    return inner if inner.is_dir() else path


def read_layer(path: Path, layer: str, *, index: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage with the build's dtypes.

    Integer fields that came back as floats (they hold blanks) and ``innovation_type`` become
    ``Int64``.

    Parameters
    ----------
    path
        The ``.gpkg``.
    layer
        Layer name.
    index
        Column to index by (kept unique by the build), if any.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    for name, dtype in zip(info["fields"], info["dtypes"], strict=True):
        if name in gdf.columns and (name == "innovation_type" or (
                str(dtype).startswith("int") and gdf[name].dtype.kind == "f")):
            gdf[name] = _nullable_int(gdf[name], f"{path.name}, layer {layer}")
    if index is not None:
        gdf = gdf.set_index(index)
    return gdf


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV table of the build (``innovation_type``, ``points``, ``sections`` as Int64).

    Parameters
    ----------
    path
        The ``.csv``.

    Returns
    -------
    pandas.DataFrame
    """
    table = pd.read_csv(path)
    for name in _CSV_INTEGERS:
        if name in table.columns:
            table[name] = _nullable_int(table[name], path.name)
    return table


def _nullable_int(values: pd.Series, where: str) -> pd.Series:
    """``values`` as ``Int64``; a non-whole value is an error naming the file and column."""
    numbers = pd.to_numeric(values, errors="coerce")
    odd = numbers.notna() & (numbers.round() != numbers)
    if odd.any():
        raise ValueError(f"{where}: column {values.name!r} holds non-integer values "
                         f"{numbers[odd].tolist()[:5]}")
    return numbers.astype("Int64")


def read_outputs(folder: str | os.PathLike[str] = "data/processed") -> BuildOutputs:
    """Read the processed layers and tables of a build.

    Parameters
    ----------
    folder
        The build's ``data/processed`` folder, or the folder given to ``cwsgeo build --out``
        (which holds ``data/processed``).

    Returns
    -------
    BuildOutputs
        ``spaces`` and ``walk_areas`` indexed by the space ``id``; ``innovation_type`` as
        ``Int64`` in every frame that has it.

    Raises
    ------
    cwsgeo.MissingDataError
        The folder lacks a file every build writes (names the files).
    """
    path = processed_folder(folder)
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise MissingDataError(f"{path} is not the output of a completed build: missing "
                               f"{', '.join(missing)}; run `cwsgeo build` (or pass the folder "
                               "given to --out)")
    spaces_gpkg = path / "coworking_spaces.gpkg"
    contours_gpkg = path / "kde_contours.gpkg"
    contours: dict[str, gpd.GeoDataFrame] = {}
    if contours_gpkg.is_file():
        import pyogrio

        contours = {str(name): read_layer(contours_gpkg, str(name))
                    for name, _ in pyogrio.list_layers(contours_gpkg)}
    return BuildOutputs(
        folder=path,
        spaces=read_layer(spaces_gpkg, "coworking_spaces", index="id"),
        walk_areas=read_layer(spaces_gpkg, "walk_areas_10min", index="id"),
        districts=read_layer(path / "districts.gpkg", "districts"),
        barris=read_layer(path / "barris.gpkg", "barris"),
        hexes=read_layer(path / "hexes.gpkg", "hexes"),
        surface=read_layer(path / "accessibility_surface.gpkg", "nodes"),
        proximity_by_type=read_table(path / "proximity_by_type.csv"),
        coverage=read_table(path / "coverage.csv"),
        residents_allocation=read_table(path / "residents_allocation.csv"),
        density_classes=json.loads((path / "density_classes.json").read_text(encoding="utf-8")),
        contours=contours)
