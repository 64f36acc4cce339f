"""The innovation-type map (``maps/innovation_types.html``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd

from ...analysis.admin import AdminAreas
from ..labels import DEFAULT_LABELS, AreaLabels
from .controls import add_layer_control, add_search, located_mask
from .display import DisplayStore
from .furniture import add_legend
from .layers import base_map
from .overlays import add_places, add_transit, add_walk_areas
from .precision import area_names, data_note, missing_spaces
from .render import save_map
from .spaces import add_spaces, has_types, with_innovation_label

if TYPE_CHECKING:
    from ...analysis.density import KernelSurface

__all__ = ["innovation_map"]


def innovation_map(spaces: gpd.GeoDataFrame, admin: AdminAreas, path: str | Path, *,
                   streets: gpd.GeoDataFrame | None = None,
                   transit: gpd.GeoDataFrame | None = None,
                   places: gpd.GeoDataFrame | None = None,
                   places_density: KernelSurface | gpd.GeoDataFrame | None = None,
                   places_bands: gpd.GeoDataFrame | None = None,
                   walk_areas: gpd.GeoDataFrame | None = None,
                   extra_layers: Iterable[Callable[[folium.Map], Any]] = (),
                   assets: Literal["inline", "cdn"] = "inline", tiles: bool = True,
                   attributions: Iterable[str] = (), plugins: Iterable[str] = (),
                   popup_fields: Mapping[str, str] | None = None,
                   legends: Iterable[tuple[str, Sequence[tuple[str, str, Any]]]] = (),
                   store: DisplayStore | None = None, city: str = "",
                   labels: AreaLabels = DEFAULT_LABELS) -> Path:
    """Write the innovation-type map: one layer per type over the offline basemap.

    The title and its data note say how many spaces are on the map, how precisely they are
    located and why the others are not; without any innovation type in ``spaces`` the title
    does not claim types and the legend says how to add them. Spaces at an address are
    filled markers, those placed from a listing text hollow (their radius circle on hover);
    spaces known only by area are counted per area, not drawn. With estimated types
    (``innovation_type_estimated``) the legend switches between confirmed and estimated
    types (see :func:`~cwsgeo.outputs.maps.add_spaces`). A search box finds spaces by name.

    Parameters
    ----------
    spaces
        Geocoded spaces joined to districts (``id``, ``name``, ``innovation_type``, popup
        fields; proximity metric columns are shown in the popups when present).
    admin
        Administrative areas (basemap outlines).
    path
        Output ``.html``.
    streets
        Optional street lines for the offline basemap.
    transit
        Stops (:func:`cwsgeo.analysis.layers.read_transit`): one canvas layer per mode.
    places
        Places (:func:`cwsgeo.analysis.layers.read_places`): clustered points and a kernel
        density layer.
    places_density
        Kernel density of the places (``DensityResult.kde_places["all"]`` or its bands);
        default: computed from ``places`` within the city.
    places_bands
        Band polygons already contoured from ``places_density`` (``DensityResult.contours
        ["places"]``), so they are not contoured again.
    walk_areas
        Walking-area polygons with ``id`` (:func:`cwsgeo.analysis.proximity.walk_areas`).
    extra_layers
        Callables ``f(map) -> None`` adding more layers.
    assets, tiles
        See :func:`~cwsgeo.outputs.maps.save_map` and :func:`~cwsgeo.outputs.maps.base_map`.
    attributions
        Source credit lines (:func:`cwsgeo.build.sources.attributions`).
    plugins
        Extra assets needed by ``extra_layers`` (e.g. ``["markercluster"]``).
    popup_fields
        Column -> label for the popups (default
        :data:`~cwsgeo.outputs.maps.SPACE_POPUP_FIELDS`).
    legends
        Extra ``(title, items)`` legends.
    store
        Where display geometry and coordinates are kept between builds (any
        ``MutableMapping[str, bytes]``; see :mod:`cwsgeo.outputs.maps.display`).
    city
        City named in the title ("Coworking spaces in <city>"; ``""``: no city).
    labels
        The city's words for its districts and neighbourhoods (layer names, popups).

    Returns
    -------
    Path
    """
    spaces = with_innovation_label(spaces)
    names = area_names(admin, spaces)
    by = (" by innovation type" if has_types(spaces) else
          " by estimated innovation type (to be confirmed)"
          if has_types(spaces, "innovation_type_estimated") else "")
    title = f"Coworking spaces in {city}" if city else "Coworking spaces"
    m = base_map(admin, streets=streets, tiles=tiles, title=title + by,
                 note=data_note(spaces, located_mask(spaces), names),
                 attributions=attributions, plugins=plugins, store=store, labels=labels)
    if walk_areas is not None:
        add_walk_areas(m, walk_areas, spaces, store=store)
    if places is not None:
        add_places(m, places, density=places_density, boundary=admin.city, store=store,
                   bands=places_bands)
    if transit is not None:
        add_transit(m, transit, store=store)
    for add in extra_layers:
        add(m)
    add_spaces(m, spaces, popup_fields, names=names, labels=labels)
    for title, its in legends:
        add_legend(m, title, its, position="bottomright")
    add_search(m, missing_spaces(spaces, names))
    add_layer_control(m)
    return save_map(m, path, assets)
