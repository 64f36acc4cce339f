"""Layers drawn from one embedded copy of their data, and the base map they sit on.

GeoJSON polygons and lines, canvas or clustered points and the coworking spaces.

Thousands of points are never one folium object each: a layer of points is one compact JSON
array (``[lat, lon, kind, text]``) turned into circle markers by the page's runtime script
(``static/maps.js``) and drawn on a shared canvas renderer or clustered with
Leaflet.markercluster. Polygons are simplified (5-10 m) and coordinates rounded to 5 decimals
(about 1 m) by :mod:`~cwsgeo.outputs.maps.display`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from folium.map import FitBounds, Layer
from jinja2 import Template

from ... import settings
from ..._text import as_text
from ...analysis.admin import AdminAreas
from ..labels import DEFAULT_LABELS, AreaLabels
from .assets import add_assets, use_assets
from .controls import OptInTiles, add_name_labels, in_group
from .display import DisplayStore, display_geojson, points_latlon, street_lines
from .furniture import add_attribution, add_title, setup_page
from .palette import (
    CENTER,
)
from .text import (
    RawJSON,
    _b64,
    _color,
    _js,
    _js_data,
    _latlon_b64,
    _layer_name,
    _text_column,
    popup_html,
)

__all__ = ["base_map"]


class GeoData(MacroElement):
    """A JavaScript variable holding data that several layers share."""

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = {{ this.data_js }};
{% endmacro %}
""")

    def __init__(self, data: Any) -> None:
        super().__init__()
        self._name = "cws_data"
        self.data_js = _js_data(data)


class GeoJsonLayer(Layer):
    """Polygons or lines from compact GeoJSON, listed in the layer control.

    Feature properties: ``tip`` (escaped tooltip HTML), ``fc`` / ``lc`` (fill / line colour)
    or ``c`` (class indices, one per variable; the layer colours by ``palette[c[index]]``).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsGeoJson({{ this.data_ref }}, {{ this.options_js }});
{% endmacro %}
""")

    def __init__(self, data: Mapping[str, Any] | RawJSON | GeoData, *, name: str, pane: str,
                 style: Mapping[str, Any], palette: Sequence[str] = (), index: int = 0,
                 nodata: str = "#d9d9d9", show: bool = True, interactive: bool = True,
                 control: bool = True, group: str = "Context") -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=control, show=show)
        self._name = "cws_geojson"
        in_group(self, group)
        self.data_ref = data.get_name() if isinstance(data, GeoData) else _js_data(data)
        self.options_js = _js({"pane": pane, "interactive": interactive, "style": dict(style),
                               "palette": [_color(c) for c in palette], "index": int(index),
                               "nodata": _color(nodata)})


class OutlineLayer(Layer):
    """Thousands of compact outlines (:func:`~.display.radial_outlines`) in one layer.

    Drawn on a canvas, one multi-polygon per colour class (``static/maps.js``,
    ``cwsOutlines``); not interactive (no tooltips).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsOutlines({{ this.data_js }}, {{ this.options_js }});
{% endmacro %}
""")

    def __init__(self, data: Mapping[str, Any], classes: Sequence[int],
                 palette: Sequence[str], *, name: str, pane: str, style: Mapping[str, Any],
                 show: bool = True, group: str = "Context") -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=show)
        self._name = "cws_outlines"
        in_group(self, group)
        self.data_js = _js_data({k: v for k, v in data.items() if k != "rows"})
        self.options_js = _js({"pane": pane, "style": dict(style),
                               "palette": [_color(c) for c in palette],
                               "classes": _b64(np.asarray(classes), "u1")})


class _PointsRuntime(MacroElement):
    """Mouse handling shared by the point layers of a map (``window.cwsPoints``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
    window.cwsPoints = cwsPointsRuntime({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "cws_points_runtime"


class PointLayer(Layer):
    """Many points from one set of columns (:func:`point_rows`), listed in the control.

    Drawn as circle (or, with ``shape: "square"`` in their kind, square) markers on the canvas
    renderer of ``pane`` (one per pane, shared), or clustered with Leaflet.markercluster. The
    tooltip is the kind's label and the point's text, plain texts shown with ``textContent``.
    ``window.cwsLayers[key]`` holds the layer (tests, debugging). Add it with
    :func:`add_point_layer`.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var kinds = {{ this.kinds_js }}, pts = {{ this.points_js }}, pane = {{ this.pane|tojson }};
        var rs = window.cwsRenderers = window.cwsRenderers || {};
        var r = rs[pane] || (rs[pane] = L.canvas({pane: pane, tolerance: 3}));
        var lat = cwsInts(pts.lat, 4), lon = cwsInts(pts.lon, 4), kind = cwsInts(pts.k, 1);
        var text = cwsColumn(pts.t), markers = new Array(pts.n);
        for (var i = 0; i < pts.n; i++) {
            var k = kinds[kind[i]];
            markers[i] = cwsPointMarker([lat[i] / 1e6, lon[i] / 1e6], {
                renderer: r, radius: k.r, color: k.line, weight: 1, opacity: 0.9,
                fillColor: k.color, fillOpacity: 0.9, k: kind[i], i: i}, k.shape);
        }
        {% if this.cluster %}
        var group = L.markerClusterGroup({{ this.cluster_js }});
        group.addLayers(markers);
        {% else %}
        var group = L.featureGroup(markers);
        {% endif %}
        group.bindTooltip(function (m) {
            var div = cwsPopup(kinds[m.options.k].label, []), t = text(m.options.i);
            if (t) { div.appendChild(document.createElement('div')).textContent = t; }
            return div;
        });
        window.cwsPoints.add(group, markers);
        (window.cwsLayers = window.cwsLayers || {})[{{ this.key|tojson }}] = group;
        return group;
    })();
{% endmacro %}
""")

    def __init__(self, points: Mapping[str, Any], kinds: Sequence[Mapping[str, Any]], *,
                 name: str, key: str, pane: str = "cws-points", cluster: bool = False,
                 show: bool = True, group: str = "Context") -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=show)
        self._name = "cws_points"
        in_group(self, group)
        self.points_js = _js_data(dict(points))
        self.kinds_js = _js([{"label": str(k["label"]), "color": _color(k["color"]),
                              "line": _color(k.get("line", "#333333")),
                              "r": float(k.get("r", 4)),
                              "shape": "square" if k.get("shape") == "square" else "circle"}
                             for k in kinds])
        self.pane = pane
        self.key = key
        self.cluster = cluster
        self.cluster_js = _js({"clusterPane": "cws-clusters", "showCoverageOnHover": False,
                               "disableClusteringAtZoom": 18, "spiderfyOnMaxZoom": False,
                               "maxClusterRadius": 60, "chunkedLoading": False})


def add_points_runtime(m: folium.Map) -> None:
    """Add, once per map, the mouse handling that canvas point layers share."""
    setup_page(m)
    if not getattr(m, "_cws_points", False):
        m._cws_points = True  # type: ignore[attr-defined]
        m.add_child(_PointsRuntime(), name="cws_points_runtime")


def add_point_layer(m: folium.Map, layer: PointLayer) -> PointLayer:
    """Add a point layer (and, once per map, the mouse handling the point layers share)."""
    add_points_runtime(m)
    m.add_child(layer)
    return layer


def point_rows(gdf: gpd.GeoDataFrame, kind: np.ndarray, text: Sequence[str | None],
               store: DisplayStore | None = None) -> dict[str, Any]:
    """Return the located rows of ``gdf`` as columns for a :class:`PointLayer`.

    ``n``; base64 little-endian ``lat`` / ``lon`` (int32, microdegrees; 5 decimals kept) and
    ``k`` (uint8 kind); ``t``: plain texts (:func:`~.text._text_column`).
    """
    pos, latlon = points_latlon(gdf, store=store)
    return {"n": len(pos), **_latlon_b64(latlon[:, 0], latlon[:, 1]),
            "k": _b64(np.asarray(kind)[pos], "u1"),
            "t": _text_column([text[i] for i in pos.tolist()])}


def require_markercluster(m: folium.Map) -> None:
    """Make the page load Leaflet.markercluster."""
    add_assets(m, js=["markercluster.js"],
               css=["markercluster.css", "markercluster.default.css"])


# ---------------------------------------------------------------------------------------
# Base map
# ---------------------------------------------------------------------------------------
def base_map(admin: AdminAreas | None = None, *, streets: gpd.GeoDataFrame | None = None,
             tiles: bool = True, title: str = "", subtitle: str = "",
             attributions: Iterable[str] = (), plugins: Iterable[str] = (),
             store: DisplayStore | None = None, note: Sequence[str] = (),
             labels: AreaLabels = DEFAULT_LABELS) -> folium.Map:
    """Create a map of the city with the offline basemap (it needs no network).

    The offline basemap: the city filled, street lines, district and neighbourhood outlines
    and their names as permanent labels (districts below zoom 14, neighbourhoods from 14;
    street names from 16 when the street lines carry a ``name`` column).

    Parameters
    ----------
    admin
        Districts and neighbourhoods (``barris``) drawn as outlines and named (the offline
        basemap).
    streets
        Street lines drawn thin and grey (one feature, so one SVG path); their ``name``
        column, if any, labels the longest streets.
    tiles
        Offer OpenStreetMap tiles as a choice of the layer control (Basemap group), off when
        the page opens and never requested until chosen.
    title, subtitle
        Shown in a box at the top left.
    note
        Lines of the data note under the title (what the map shows and leaves out).
    attributions
        Source credits for the attribution control.
    plugins
        Extra assets the page needs, e.g. ``["markercluster"]`` (layer helpers add theirs).
    store
        Where display geometry is kept between builds
        (:mod:`~cwsgeo.outputs.maps.display`).
    labels
        The city's words for its districts and neighbourhoods (layer names).

    Returns
    -------
    folium.Map
    """
    m = folium.Map(location=CENTER, zoom_start=13, tiles=None, control_scale=False,
                   zoom_control=False, prefer_canvas=False, min_zoom=11, max_zoom=19)
    # folium gives min/max zoom to its default tile layer only; the map needs them itself
    # (Leaflet.markercluster refuses a map without maxZoom, e.g. when tiles are off)
    m.options.update(minZoom=11, maxZoom=19)
    use_assets(m, js=["leaflet.js"], css=["leaflet.css"])
    if "markercluster" in plugins:
        require_markercluster(m)
    setup_page(m)
    credits = list(attributions)
    add_title(m, title, subtitle, note)
    if tiles:
        m.add_child(OptInTiles())
    if admin is not None:
        _add_basemap(m, admin, streets, store, labels)
    if credits:
        add_attribution(m, credits)
    return m


def _add_basemap(m: folium.Map, admin: AdminAreas, streets: gpd.GeoDataFrame | None,
                 store: DisplayStore | None, labels: AreaLabels) -> None:
    """City fill, street lines, neighbourhood and district outlines; fit the map to it."""
    m.add_child(GeoJsonLayer(
        display_geojson(admin.city, (), tolerance_m=10, store=store), name="City boundary",
        pane="cws-base", interactive=False, control=False,
        style={"color": "#222", "weight": 2, "fillColor": "#f4f1ea", "fillOpacity": 0.55}))
    if streets is not None and len(streets):
        m.add_child(GeoJsonLayer(
            street_lines(streets, store=store), name="Street lines", group="Basemap",
            pane="overlayPane", style={"color": "#b9b4aa", "weight": 0.8, "opacity": 0.9,
                                       "smoothFactor": 1.5}, interactive=False))
    for name, table, column, style in (
            (labels.title("barris"), admin.barris, "barri_name",
             {"color": "#8a8a8a", "weight": 0.8, "fill": False, "dashArray": "3 3",
              "className": "cws-outline cws-outline-barri"}),
            (labels.title("districts"), admin.districts, "district_name",
             {"color": "#444", "weight": 2, "fill": False,
              "className": "cws-outline cws-outline-district"})):
        tips = [{"tip": popup_html(as_text(v), [])} for v in table[column]]
        m.add_child(GeoJsonLayer(
            display_geojson(table, (), tolerance_m=8, properties=tips, store=store),
            name=f"{name} (outlines)", pane="overlayPane", style=style, group="Areas"))
    add_name_labels(m, admin, streets, labels)
    minx, miny, maxx, maxy = admin.city.to_crs(settings.crs_store).total_bounds
    # the first view is set at once, not animated: a view restored or set by a script as soon as
    # the page is ready (live preview, links) is never undone by a zoom still running
    fit = FitBounds([[miny, minx], [maxy, maxx]])
    fit.options["animate"] = False
    m.add_child(fit)
