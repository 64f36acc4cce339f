"""cwsgeo: the geography of coworking spaces.

Inventory -> geocoding -> districts and barris -> places, transit and walking proximity ->
densities -> Folium maps and tables. The package has three layers:

- :mod:`cwsgeo.analysis`: pure functions on (Geo)DataFrames and arrays, the API below;
- :mod:`cwsgeo.outputs`: maps, figures, tables and the inventory report;
- :mod:`cwsgeo.build`: the project (``cwsgeo.toml``), fetching inputs, the pipeline with its
  caches, ``watch`` and the live preview (``from cwsgeo.build import build``).

Examples
--------
>>> import cwsgeo
>>> cwsgeo.schema.INNOVATION_LABELS[2]
'innovative community'
>>> cwsgeo.parse_address("C/ Pujades 77-79, 08005").number
77
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import schema, settings
from ._errors import (
    ConfigError,
    CwsgeoError,
    DataSourceError,
    GeocodingError,
    InventoryError,
    MissingDataError,
)

__version__ = "0.1.0"

from .analysis.admin import AdminAreas, join_admin, load_admin
from .analysis.density import (
    area_densities,
    compute_densities,
    hex_densities,
    kernel_density,
)
from .analysis.geocoding import (
    Geocoder,
    OfflineGeocoder,
    geocode_table,
    parse_address,
)
from .analysis.inventory import Inventory, Problem, ReadLimits, check_inventory, read_inventory
from .analysis.layers import read_places, read_transit
from .analysis.network import WalkNetwork, read_network, snap_points
from .analysis.proximity import (
    Residents,
    accessibility_surface,
    allocate_residents,
    coverage,
    space_metrics,
    summarize_by_type,
    walk_areas,
)
from .build.config import Config

if TYPE_CHECKING:
    from .outputs.reading import BuildOutputs, read_outputs

#: Names exported lazily (their modules load on first use): ``import cwsgeo`` stays light.
_LAZY = {"BuildOutputs": "cwsgeo.outputs.reading", "read_outputs": "cwsgeo.outputs.reading"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cwsgeo' has no attribute {name!r}")


__all__ = [
    "AdminAreas",
    "BuildOutputs",
    "Config",
    "ConfigError",
    "CwsgeoError",
    "DataSourceError",
    "Geocoder",
    "GeocodingError",
    "Inventory",
    "InventoryError",
    "MissingDataError",
    "OfflineGeocoder",
    "Problem",
    "ReadLimits",
    "Residents",
    "WalkNetwork",
    "__version__",
    "accessibility_surface",
    "allocate_residents",
    "area_densities",
    "check_inventory",
    "compute_densities",
    "coverage",
    "geocode_table",
    "hex_densities",
    "join_admin",
    "kernel_density",
    "load_admin",
    "parse_address",
    "read_inventory",
    "read_network",
    "read_outputs",
    "read_places",
    "read_transit",
    "schema",
    "settings",
    "snap_points",
    "space_metrics",
    "summarize_by_type",
    "walk_areas",
]
