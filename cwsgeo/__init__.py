"""cwsgeo: the geography of coworking spaces.

Inventory -> geocoding -> districts and barris -> places, transit and walking proximity ->
densities -> Folium maps and tables. Each stage is a plain function on (Geo)DataFrames that an
analyst can call alone; :mod:`cwsgeo.pipeline` is the only module that knows their order.

``import cwsgeo`` is light: the inventory API (pandas) is imported on first use, so the
``cwsgeo`` command can hand a build to a running build server (:mod:`cwsgeo.server`) in a
few milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
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

_LAZY = {"Inventory": "inventory", "Problem": "inventory", "check_inventory": "inventory",
         "read_inventory": "inventory"}


def __getattr__(name: str) -> Any:
    """Import the inventory API on first use (PEP 562)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
