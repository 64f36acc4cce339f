"""Densities: per-area rates, hexagon grids and kernel density surfaces (computation only).

This package owns every *density* number of cwsgeo:

* :mod:`~cwsgeo.analysis.density.areas` - :func:`area_densities`: per district, barri (or any
  polygon layer): area, residents, coworking spaces (total and per innovation type), spaces per
  km² and per 10,000 residents, location quotients, places per km² by category and transit
  stops per km² by mode; :func:`areal_interpolate` moves counts between polygons by area.
* :mod:`~cwsgeo.analysis.density.hexes` - :func:`hex_grid` / :func:`hex_densities`: an H3 grid
  (default resolution 9) or a projected hexagon grid covering the city, with the same counts
  and residents interpolated from census sections.
* :mod:`~cwsgeo.analysis.density.kernel` - :func:`kernel_density` / :func:`kernel_densities`:
  quartic or Gaussian kernel density surfaces in **points per km²**, edge-corrected so that
  each integrates to the number of points inside the city, on a :class:`KernelGrid`
  (:func:`kernel_grid`) that many surfaces share.
* :mod:`~cwsgeo.analysis.density.contours` - :func:`surface_contours`: band polygons of a
  surface for the web map.
* :mod:`~cwsgeo.analysis.density.classes` - :func:`class_breaks`: class breaks, colours and
  labels shared by figures and maps.
* :mod:`~cwsgeo.analysis.density.result` - the whole stage: :func:`compute_densities` =
  :func:`density_base` (what does not depend on the spaces) + :func:`add_spaces`.

All arithmetic happens in the work CRS (:data:`cwsgeo.settings.crs_work`, EPSG:25831, metres);
inputs in any CRS are reprojected, never modified. Files and figures are written by
:mod:`cwsgeo.outputs.tables` and :mod:`cwsgeo.outputs.figures`.
"""

from ...schema import INNOVATION_TYPES, PLACE_CATEGORIES, SPACE_GROUPS, TRANSIT_MODES
from ...schema import density_column as column_name
from .areas import area_densities, areal_interpolate
from .classes import LQ_BINS, NODATA_COLOR, Classification, class_breaks
from .contours import surface_contours
from .hexes import clip_to_city, hex_densities, hex_grid
from .kernel import (
    DENSITY_UNITS,
    KernelGrid,
    KernelSurface,
    kernel_densities,
    kernel_density,
    kernel_grid,
)
from .result import DensityBase, DensityResult, add_spaces, compute_densities, density_base

__all__ = [
    "DENSITY_UNITS",
    "INNOVATION_TYPES",
    "LQ_BINS",
    "NODATA_COLOR",
    "PLACE_CATEGORIES",
    "SPACE_GROUPS",
    "TRANSIT_MODES",
    "Classification",
    "DensityBase",
    "DensityResult",
    "KernelGrid",
    "KernelSurface",
    "add_spaces",
    "area_densities",
    "areal_interpolate",
    "class_breaks",
    "clip_to_city",
    "column_name",
    "compute_densities",
    "density_base",
    "hex_densities",
    "hex_grid",
    "kernel_densities",
    "kernel_density",
    "kernel_grid",
    "surface_contours",
]
