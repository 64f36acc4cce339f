"""Folium maps of coworking spaces: the innovation-type map, the density map and their furniture.

This package owns every HTML map cwsgeo writes:

* :func:`innovation_map` (``maps/innovation_types.html``): one toggleable layer per innovation
  type (only "unclassified" when the inventory has no types, which the legend then says)
  over an offline basemap, and optionally transit stops by mode, places of interaction
  (clustered points and a kernel density layer) and each space's walking area;
* :func:`density_map` (``maps/density.html``): district and barri choropleths with a metric
  selector, H3 hexagons, kernel density bands, optional hot spots (local Moran's I,
  ``hotspots``) and the spaces on top.

Both are built from the same pieces: :func:`base_map` (city, district and barri outlines,
optional street lines and tiles), :func:`display_geojson` (geometry simplified and rounded
*for display only*), :func:`legend_html` / :class:`Legend` (every legend), :func:`popup_html`
(tooltips of areas: all data-derived text is escaped; those of spaces and points are built in
the browser from plain text with ``textContent``), :func:`add_attribution` (source
credits) and :func:`save_map` (offline-capable page: Leaflet and plugins embedded from
installed packages, see :mod:`cwsgeo.outputs.maps.assets`).

Size and speed
--------------
Thousands of points are never one folium object each: a layer of points is one set of
columns (coordinates and kinds as base64 integer arrays, texts each sent once) turned into
circle markers by a few lines of JavaScript and drawn on a shared canvas renderer (transit
stops) or clustered with Leaflet.markercluster (places). The spaces are columns too; their
tooltips and popups are built in the browser from plain texts with ``textContent``. Above
:data:`~.palette.MANY_FEATURES` (2,000) spaces are drawn on a canvas and walking areas as
compact outlines (:func:`~.display.radial_outlines`), so a 28,900-row inventory stays under
5 MB. Polygons are simplified (5-10 m) and coordinates rounded to 5 decimals (about 1 m);
street lines are delta-encoded. Layers that share geometry (the three hexagon layers) share
one embedded copy of it. Every
page sets ``data-cws-ready`` on ``<html>`` (milliseconds since navigation start) once Leaflet
has drawn, and opening it with the fragment ``#all-layers`` shows every layer (used by
``benchmarks/map_perf.py``).

Layer order is fixed with map panes, whatever the order layers are switched on: city fill <
choropleths < hexagons < kernel bands < walking areas < streets and outlines < points <
clusters < spaces.

Where things live
-----------------
``palette`` (symbol colours and plain words), ``text`` (formatting and escaping),
``display`` (display geometry, kept in an injected ``store``; ``_outlines``: the compiled
kernel of the walking areas' outlines), ``furniture`` (style, the one
legend panel, title and data note, one-line credits, popups, ready marker), ``controls``
(grouped layer control, opt-in tiles, name labels, search), ``layers`` (GeoJSON and point
layers, the base map), ``spaces`` (space layers and their legend), ``precision`` (filled,
hollow or not drawn by location precision; the data note), ``typeviews`` (confirmed vs
estimated innovation types and the switch between them), ``overlays``
(transit, places, kernel bands, walking areas), one module per page (``innovation``,
``density``) and ``render`` (a page rendered without evaluating data as templates). The
page's CSS and JavaScript runtime are files in ``static/``.

At a glance and offline
-----------------------
Spaces are large dark-outlined circles in a palette no other layer uses; transit stops are
small squares, places small muted dots. The layer control groups layers (Spaces, Context,
Areas, Basemap) and folds; legends share one panel that never covers it; tooltips sit above
the controls. Pages request nothing from the network when they open: OpenStreetMap tiles
(``tiles=True``) are only offered, and tried once when chosen.

Pass ``store`` (any ``MutableMapping[str, bytes]``, e.g. ``cwsgeo.build.cache.FileStore``)
to reuse simplified geometry and coordinates across builds; nothing is cached otherwise.

Examples
--------
>>> from cwsgeo.outputs.maps import innovation_map, density_map   # doctest: +SKIP
>>> innovation_map(spaces, admin, "maps/innovation_types.html", transit=transit,
...                places=places, walk_areas=areas)            # doctest: +SKIP
>>> density_map(result, admin, "maps/density.html", spaces=spaces)   # doctest: +SKIP
"""

from __future__ import annotations

from .density import DENSITY_METRICS, density_map
from .display import DisplayStore, display_geojson
from .furniture import Legend, SafePopup, SafeTooltip, add_attribution, add_legend, legend_html
from .innovation import innovation_map
from .layers import base_map
from .overlays import add_kernel_bands, add_places, add_transit, add_walk_areas
from .palette import (
                      INNOVATION_COLORS,
                      METRIC_POPUP_FIELDS,
                      OSM_TILES_ATTRIBUTION,
                      PLACE_COLORS,
                      PLACE_LABELS,
                      SPACE_POPUP_FIELDS,
                      TRANSIT_COLORS,
                      TRANSIT_LABELS,
)
from .render import render_page, save_map
from .spaces import add_spaces
from .text import format_value, popup_html

__all__ = [
    "DENSITY_METRICS",
    "INNOVATION_COLORS",
    "METRIC_POPUP_FIELDS",
    "OSM_TILES_ATTRIBUTION",
    "PLACE_COLORS",
    "PLACE_LABELS",
    "SPACE_POPUP_FIELDS",
    "TRANSIT_COLORS",
    "TRANSIT_LABELS",
    "DisplayStore",
    "Legend",
    "SafePopup",
    "SafeTooltip",
    "add_attribution",
    "add_kernel_bands",
    "add_legend",
    "add_places",
    "add_spaces",
    "add_transit",
    "add_walk_areas",
    "base_map",
    "density_map",
    "display_geojson",
    "format_value",
    "innovation_map",
    "legend_html",
    "popup_html",
    "render_page",
    "save_map",
]
