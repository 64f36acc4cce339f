"""cwsgeo: the geography of coworking spaces.

Inventory -> geocoding -> districts and barris -> places, transit and walking proximity ->
densities -> Folium maps and tables. Each stage is a plain function on (Geo)DataFrames that an
analyst can call alone; :mod:`cwsgeo.pipeline` is the only module that knows their order.
"""

from __future__ import annotations

from . import settings
from ._errors import (
    ConfigError,
    CwsgeoError,
    DataSourceError,
    GeocodingError,
    InventoryError,
    MissingDataError,
)
from .config import Config
from .inventory import Inventory, Problem, check_inventory, read_inventory

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "CwsgeoError",
    "DataSourceError",
    "GeocodingError",
    "Inventory",
    "InventoryError",
    "MissingDataError",
    "Problem",
    "__version__",
    "check_inventory",
    "read_inventory",
    "settings",
]
