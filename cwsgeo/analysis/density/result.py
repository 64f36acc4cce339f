"""The whole density stage: district and barri tables, hexagons, kernel surfaces, contours.

The stage splits in two so that a rebuild after an inventory edit redoes only what depends on
the coworking spaces:

* :func:`density_base` - everything that does not depend on the spaces (areas, residents,
  places and stops columns, the places' kernel surfaces and contours, the kernel grid and the
  class breaks of those columns);
* :func:`add_spaces` - adds the spaces' columns, surface and contours to a base.

:func:`compute_densities` is both in one call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from ... import settings
from ...schema import PLACE_CATEGORIES, TRANSIT_MODES
from ._inputs import _city_polygon, _layers, _located
from .areas import _density_table, area_densities
from .classes import LQ_BINS, Classification, class_breaks
from .contours import surface_contours
from .hexes import hex_densities
from .kernel import Kernel, KernelGrid, KernelSurface, kernel_densities, kernel_grid

logger = logging.getLogger(__name__)

__all__ = ["DensityBase", "DensityResult", "add_spaces", "compute_densities", "density_base"]

#: Mapped columns of the district and barri tables: column, legend units, class options.
_AREA_CLASSES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("spaces_per_km2", "spaces per km²", {"zero_class": "no space"}),
    ("spaces_per_10k_res", "spaces per 10,000 residents", {"zero_class": "no space"}),
    ("lq_spaces", "location quotient (residents base)", {"bins": LQ_BINS, "cmap": "RdBu_r"}),
    ("residents_per_km2", "residents per km²", {"cmap": "Blues"}),
    ("places_per_km2", "places per km²", {"cmap": "PuRd"}),
    ("stops_per_km2", "transit stops per km²", {"cmap": "Greens"}),
)
#: Mapped columns of the hexagons: column, legend units, colormap.
_HEX_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("spaces", "spaces per cell", "YlOrRd"),
    ("places", "places per cell", "PuRd"),
    ("residents", "residents per cell", "Blues"),
    ("stops", "transit stops per cell", "Greens"),
)


def _classify(districts: gpd.GeoDataFrame, barris: gpd.GeoDataFrame, hexes: gpd.GeoDataFrame,
              surfaces: Mapping[str, Mapping[str, KernelSurface]],
              known: Mapping[str, Classification]) -> dict[str, Classification]:
    """Class breaks of the mapped columns, keyed ``"<table>.<column>"`` (``known`` reused)."""
    out: dict[str, Classification] = {}
    for table_name, table in (("districts", districts), ("barris", barris)):
        for col, units, kw in _AREA_CLASSES:
            key = f"{table_name}.{col}"
            if col in table.columns:
                out[key] = known.get(key) or class_breaks(table[col], k=5, units=units,
                                                          column=col, **kw)
    for col, units, cmap in _HEX_CLASSES:
        key = f"hexes.{col}"
        if col in hexes.columns:
            out[key] = known.get(key) or class_breaks(hexes[col], k=6, cmap=cmap, units=units,
                                                      column=col)
    for prefix, kde in surfaces.items():
        if "all" in kde:
            key = f"{prefix}.all"
            out[key] = known.get(key) or kde["all"].classification()
    return out


def _contours(name: str, surfaces: Mapping[str, KernelSurface], boundary: gpd.GeoSeries,
              classes: Mapping[str, Classification]) -> dict[str, gpd.GeoDataFrame]:
    """Band polygons of the ``"all"`` surface, keyed by ``name`` (nothing without a surface)."""
    if "all" not in surfaces:
        return {}
    return {name: surface_contours(surfaces["all"], boundary,
                                   classification=classes.get(f"kde_{name}.all"))}


@dataclass
class DensityResult:
    """Everything :func:`compute_densities` makes, in the work CRS.

    Attributes
    ----------
    districts, barris, hexes
        Tables of :func:`area_densities` and :func:`hex_densities`.
    kde_spaces, kde_places
        Kernel surfaces: ``"all"``, and for places one per category of
        ``place_categories`` (always all of them, zero where a category has no point, so the
        bands of ``kde_places.tif`` are fixed).
    boundary
        The city polygon.
    spaces
        Located spaces (for figures).
    contours
        Band polygons of the ``"all"`` surfaces (:func:`surface_contours`, EPSG:4326, with the
        classes of :meth:`classifications`), keyed ``"spaces"`` and ``"places"``; may be empty
        (for a result put together by hand), then writers compute them.
    base_classes
        Classifications already known (those of the :class:`DensityBase`), reused by
        :meth:`classifications`.
    """

    districts: gpd.GeoDataFrame
    barris: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    kde_spaces: dict[str, KernelSurface]
    kde_places: dict[str, KernelSurface]
    boundary: gpd.GeoSeries
    spaces: gpd.GeoDataFrame
    contours: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)
    base_classes: dict[str, Classification] = field(default_factory=dict, repr=False,
                                                    compare=False)
    _classes: dict[str, Classification] | None = field(default=None, init=False, repr=False,
                                                       compare=False)

    def classifications(self) -> dict[str, Classification]:
        """Return the class breaks of the mapped columns, keyed ``"<table>.<column>"``.

        Figures and the ``density_classes.json`` file use these, so the web map can colour
        its layers exactly like the PNGs. Computed once and kept.
        """
        if self._classes is None:
            self._classes = _classify(self.districts, self.barris, self.hexes,
                                      {"kde_spaces": self.kde_spaces,
                                       "kde_places": self.kde_places}, self.base_classes)
        return self._classes


@dataclass
class DensityBase:
    """The parts of the density stage that do not depend on the coworking spaces.

    Attributes
    ----------
    districts, barris, hexes
        Tables with their areas, residents, places and stops columns.
    kde_places
        Kernel surfaces of places (empty without places).
    boundary
        The city polygon (work CRS).
    grid
        The kernel grid every surface of the stage is made on.
    classes
        Class breaks of the mapped columns above (see :meth:`DensityResult.classifications`).
    contours
        Band polygons of the places' ``"all"`` surface, under ``"places"``.
    """

    districts: gpd.GeoDataFrame
    barris: gpd.GeoDataFrame
    hexes: gpd.GeoDataFrame
    kde_places: dict[str, KernelSurface]
    boundary: gpd.GeoSeries
    grid: KernelGrid
    classes: dict[str, Classification] = field(default_factory=dict)
    contours: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


def _places_surfaces(places: gpd.GeoDataFrame, boundary: Any, grid: KernelGrid,
                     place_categories: Sequence[str]) -> dict[str, KernelSurface]:
    """Kernel surfaces of the places of ``place_categories``: all, then each category."""
    pl = _located(places, "places")
    cats = pl["category"].astype("string").str.strip().str.lower()
    pl = pl.assign(category=cats).loc[cats.isin(list(place_categories))
                                      .fillna(False).to_numpy()]
    return kernel_densities(pl, boundary, by="category", groups=list(place_categories),
                            name="places", bandwidth_m=grid.bandwidth_m, cell_m=grid.cell_m,
                            kernel=grid.kernel,
                            edge_correction=grid.edge_correction, grid=grid)


def density_base(districts: gpd.GeoDataFrame, barris: gpd.GeoDataFrame,
                 sections: gpd.GeoDataFrame | None,
                 boundary: gpd.GeoDataFrame | gpd.GeoSeries,
                 places: gpd.GeoDataFrame | None = None,
                 transit: gpd.GeoDataFrame | None = None, *,
                 hex_resolution: int = 9, hex_edge_m: float | None = None,
                 hex_clip: bool = False, kde_bandwidth_m: float = 500.0,
                 kde_cell_m: float = 50.0, kde_kernel: Kernel = "quartic",
                 edge_correction: bool = True,
                 place_categories: Sequence[str] = PLACE_CATEGORIES,
                 transit_modes: Sequence[str] = TRANSIT_MODES) -> DensityBase:
    """Compute everything of the density stage that does not depend on the spaces.

    Parameters are those of :func:`compute_densities` without ``spaces``.

    Returns
    -------
    DensityBase
        Add spaces to it with :func:`add_spaces` (as many times as they change).
    """
    d = area_densities(districts, None, places, transit, key="district_code",
                       place_categories=place_categories, transit_modes=transit_modes)
    b = area_densities(barris, None, places, transit, key="barri_code",
                       place_categories=place_categories, transit_modes=transit_modes)
    if sections is None:
        logger.warning("no census sections: hexagon residents are interpolated from the "
                       "barris (coarser)")
    h = hex_densities(boundary, sections if sections is not None else barris, None,
                      places, transit, resolution=hex_resolution, edge_m=hex_edge_m,
                      clip=hex_clip, place_categories=place_categories,
                      transit_modes=transit_modes)
    grid = kernel_grid(boundary, cell_m=kde_cell_m, kernel=kde_kernel,
                       bandwidth_m=kde_bandwidth_m, edge_correction=edge_correction)
    kp: dict[str, KernelSurface] = {}
    if places is not None:
        kp = _places_surfaces(places, boundary, grid, place_categories)
    city = gpd.GeoSeries([_city_polygon(boundary)], crs=settings.crs_work)
    classes = _classify(d, b, h, {"kde_places": kp}, {})
    return DensityBase(d, b, h, kp, city, grid, classes,
                       _contours("places", kp, city, classes))


def _with_spaces(table: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, level: str
                 ) -> gpd.GeoDataFrame:
    """Insert the spaces columns into a base table (after area and residents)."""
    geoms = table.geometry.to_numpy()
    residents = table["residents"].to_numpy() if "residents" in table.columns else None
    layers = _layers(spaces, None, None, PLACE_CATEGORIES, TRANSIT_MODES)
    sp = _density_table(geoms, table["area_km2"].to_numpy(), residents, layers, level=level)
    new = [c for c in sp.columns if c not in table.columns]
    cols = list(table.columns)
    at = max(cols.index(c) for c in ("area_km2", "residents", "residents_per_km2")
             if c in cols) + 1
    out = pd.concat([table.reset_index(drop=True), sp[new]], axis=1)
    out = out[[*cols[:at], *new, *cols[at:]]]
    return gpd.GeoDataFrame(out, geometry=table.geometry.name, crs=table.crs)


def add_spaces(base: DensityBase, spaces: gpd.GeoDataFrame) -> DensityResult:
    """Add the coworking spaces to the spaces-independent part of the density stage.

    Parameters
    ----------
    base
        From :func:`density_base`.
    spaces
        Points with ``innovation_type`` (see :func:`area_densities`).

    Returns
    -------
    DensityResult
        The base's tables with the spaces columns, the spaces' kernel surface (on the base's
        grid) and its contours.
    """
    located = _located(spaces, "spaces")
    d = _with_spaces(base.districts, spaces, "district_code")
    b = _with_spaces(base.barris, spaces, "barri_code")
    h = _with_spaces(base.hexes, spaces, "hexagon")
    grid = base.grid
    ks = kernel_densities(located, base.boundary, name="spaces", bandwidth_m=grid.bandwidth_m,
                          cell_m=grid.cell_m, kernel=grid.kernel,
                          edge_correction=grid.edge_correction, grid=grid)
    result = DensityResult(d, b, h, ks, base.kde_places, base.boundary, located,
                           base_classes=base.classes)
    spaces_contours = _contours("spaces", ks, base.boundary, result.classifications())
    result.contours = {**spaces_contours, **base.contours}
    return result


def compute_densities(districts: gpd.GeoDataFrame, barris: gpd.GeoDataFrame,
                      sections: gpd.GeoDataFrame | None,
                      boundary: gpd.GeoDataFrame | gpd.GeoSeries,
                      spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None,
                      transit: gpd.GeoDataFrame | None = None, *,
                      hex_resolution: int = 9, hex_edge_m: float | None = None,
                      hex_clip: bool = False, kde_bandwidth_m: float = 500.0,
                      kde_cell_m: float = 50.0, kde_kernel: Kernel = "quartic",
                      edge_correction: bool = True,
                      place_categories: Sequence[str] = PLACE_CATEGORIES,
                      transit_modes: Sequence[str] = TRANSIT_MODES) -> DensityResult:
    """Run the density stage: district and barri tables, hexagons and kernel surfaces.

    Equal to ``add_spaces(density_base(...), spaces)``; call the two parts yourself to add
    several sets of spaces to one base.

    Parameters
    ----------
    districts, barris, sections
        Admin polygons with ``district_code`` / ``barri_code`` / ``section_code`` and
        ``population``. Without sections (e.g. a live source), hexagon residents are
        interpolated from the barris instead (coarser; logged).
    boundary
        City polygon.
    spaces, places, transit
        Points (see :func:`area_densities`).
    hex_resolution
        H3 resolution of the hexagons.
    hex_edge_m
        Use a projected hexagon grid with this edge (m) instead of H3.
    hex_clip
        Clip hexagon geometries to the city.
    kde_bandwidth_m, kde_cell_m, kde_kernel
        Kernel density bandwidth, cell size and kernel (see :func:`kernel_density`).
    edge_correction
        Edge-correct the kernel surfaces (see :func:`kernel_density`).
    place_categories, transit_modes
        Groups that get their own columns (and, for places, their own surfaces).

    Returns
    -------
    DensityResult
    """
    base = density_base(districts, barris, sections, boundary, places, transit,
                        hex_resolution=hex_resolution, hex_edge_m=hex_edge_m,
                        hex_clip=hex_clip, kde_bandwidth_m=kde_bandwidth_m,
                        kde_cell_m=kde_cell_m, kde_kernel=kde_kernel,
                        edge_correction=edge_correction, place_categories=place_categories,
                        transit_modes=transit_modes)
    return add_spaces(base, spaces)
