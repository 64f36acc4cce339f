"""Layers drawn from one embedded copy of their data, and the base map they sit on.

GeoJSON polygons and lines, canvas or clustered points and the coworking spaces.

Thousands of points are never one folium object each: a layer of points is one compact JSON
array (``[lat, lon, kind, text]``) turned into circle markers by the page's runtime script
(``static/maps.js``) and drawn on a shared canvas renderer or clustered with
Leaflet.markercluster. Polygons are simplified (5-10 m) and coordinates rounded to 5 decimals
(about 1 m) by :mod:`~cwsgeo.outputs.maps.display`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from ... import settings
from ...analysis.admin import AdminAreas
from ...schema import INNOVATION_LABELS
from .assets import add_assets, use_assets
from .display import DisplayStore, display_geojson, points_latlon, street_lines
from .furniture import add_attribution, add_legend, add_title, setup_page
from .palette import CENTER, INNOVATION_COLORS, OSM_TILES_ATTRIBUTION, SPACE_POPUP_FIELDS
from .text import (
    RawJSON,
    _color,
    _js,
    _js_data,
    _layer_name,
    _missing,
    _safe_text,
    format_value,
    popup_html,
)

__all__ = ["add_spaces", "base_map"]


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
                 control: bool = True) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=control, show=show)
        self._name = "cws_geojson"
        self.data_ref = data.get_name() if isinstance(data, GeoData) else _js_data(data)
        self.options_js = _js({"pane": pane, "interactive": interactive, "style": dict(style),
                               "palette": [_color(c) for c in palette], "index": int(index),
                               "nodata": _color(nodata)})


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
    """Many points from one compact array ``[lat, lon, kind, text]``, listed in the control.

    Drawn as circle markers on the canvas renderer of ``pane`` (one per pane, shared), or
    clustered with Leaflet.markercluster. The tooltip is ``kinds[kind].label`` and ``text``,
    both escaped in Python. ``window.cwsLayers[key]`` holds the layer (tests, debugging).
    Add it with :func:`add_point_layer`.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var kinds = {{ this.kinds_js }}, pts = {{ this.points_js }}, pane = {{ this.pane|tojson }};
        var rs = window.cwsRenderers = window.cwsRenderers || {};
        var r = rs[pane] || (rs[pane] = L.canvas({pane: pane, tolerance: 3}));
        var markers = new Array(pts.length);
        for (var i = 0; i < pts.length; i++) {
            var p = pts[i], k = kinds[p[2]];
            markers[i] = L.circleMarker([p[0], p[1]], {
                renderer: r, radius: k.r, color: k.line, weight: 1, opacity: 0.9,
                fillColor: k.color, fillOpacity: 0.9, k: p[2], t: p[3]});
        }
        {% if this.cluster %}
        var group = L.markerClusterGroup({{ this.cluster_js }});
        group.addLayers(markers);
        {% else %}
        var group = L.featureGroup(markers);
        {% endif %}
        group.bindTooltip(function (m) {
            var o = m.options, k = kinds[o.k];
            return '<div class="cws-popup"><div class="cws-popup-title">' + k.label +
                '</div>' + (o.t ? '<div>' + o.t + '</div>' : '') + '</div>';
        });
        window.cwsPoints.add(group, markers);
        (window.cwsLayers = window.cwsLayers || {})[{{ this.key|tojson }}] = group;
        return group;
    })();
{% endmacro %}
""")

    def __init__(self, points: list[list[Any]], kinds: Sequence[Mapping[str, Any]], *,
                 name: str, key: str, pane: str = "cws-points", cluster: bool = False,
                 show: bool = True) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=show)
        self._name = "cws_points"
        self.points_js = _js_data(points)
        self.kinds_js = _js([{"label": html.escape(str(k["label"])), "color": _color(k["color"]),
                              "line": _color(k.get("line", "#333333")),
                              "r": float(k.get("r", 4))} for k in kinds])
        self.pane = pane
        self.key = key
        self.cluster = cluster
        self.cluster_js = _js({"clusterPane": "cws-clusters", "showCoverageOnHover": False,
                               "disableClusteringAtZoom": 18, "spiderfyOnMaxZoom": False,
                               "maxClusterRadius": 60, "chunkedLoading": False})


def add_point_layer(m: folium.Map, layer: PointLayer) -> PointLayer:
    """Add a point layer (and, once per map, the mouse handling the point layers share)."""
    setup_page(m)
    if not getattr(m, "_cws_points", False):
        m._cws_points = True  # type: ignore[attr-defined]
        m.add_child(_PointsRuntime(), name="cws_points_runtime")
    m.add_child(layer)
    return layer


def point_rows(gdf: gpd.GeoDataFrame, kind: np.ndarray, text: Sequence[str],
               store: DisplayStore | None = None) -> list[list[Any]]:
    """Rows ``[lat, lon, kind, text]`` of the located rows of ``gdf``."""
    pos, latlon = points_latlon(gdf, store=store)
    kinds = np.asarray(kind)[pos].tolist()
    return [[lat, lon, k, text[i]] for (lat, lon), k, i in
            zip(latlon.tolist(), kinds, pos.tolist(), strict=True)]


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
             store: DisplayStore | None = None) -> folium.Map:
    """Create a map of Barcelona with the offline basemap.

    Parameters
    ----------
    admin
        Districts and barris drawn as outlines (the offline basemap), with name tooltips.
    streets
        Street lines drawn thin and grey (one feature, so one SVG path).
    tiles
        Add OpenStreetMap tiles as a toggleable layer (blank without network).
    title, subtitle
        Shown in a box at the top left.
    attributions
        Source credits for the attribution control.
    plugins
        Extra assets the page needs, e.g. ``["markercluster"]`` (layer helpers add theirs).
    store
        Where display geometry is kept between builds
        (:mod:`~cwsgeo.outputs.maps.display`).

    Returns
    -------
    folium.Map
    """
    m = folium.Map(location=CENTER, zoom_start=13, tiles=None, control_scale=True,
                   prefer_canvas=False, min_zoom=11, max_zoom=19)
    # folium gives min/max zoom to its default tile layer only; the map needs them itself
    # (Leaflet.markercluster refuses a map without maxZoom, e.g. when tiles are off)
    m.options.update(minZoom=11, maxZoom=19)
    use_assets(m, js=["leaflet.js"], css=["leaflet.css"])
    if "markercluster" in plugins:
        require_markercluster(m)
    setup_page(m)
    credits = list(attributions)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap tiles (needs internet)",
                         attr=OSM_TILES_ATTRIBUTION, overlay=True, control=True,
                         show=True, max_zoom=19).add_to(m)
    if admin is not None:
        _add_basemap(m, admin, streets, store)
    if title:
        add_title(m, title, subtitle)
    if credits:
        add_attribution(m, credits)
    return m


def _add_basemap(m: folium.Map, admin: AdminAreas, streets: gpd.GeoDataFrame | None,
                 store: DisplayStore | None) -> None:
    """City fill, street lines, barri and district outlines; fit the map to the city."""
    m.add_child(GeoJsonLayer(
        display_geojson(admin.city, (), tolerance_m=10, store=store), name="City boundary",
        pane="cws-base", interactive=False, control=False,
        style={"color": "#222", "weight": 2, "fillColor": "#f4f1ea", "fillOpacity": 0.55}))
    if streets is not None and len(streets):
        m.add_child(GeoJsonLayer(
            street_lines(streets, store=store), name="Streets (offline basemap)",
            pane="overlayPane", style={"color": "#b9b4aa", "weight": 0.8, "opacity": 0.9,
                                       "smoothFactor": 1.5}, interactive=False))
    for name, table, column, style in (
            ("Barris", admin.barris, "barri_name",
             {"color": "#8a8a8a", "weight": 0.8, "fill": False, "dashArray": "3 3",
              "className": "cws-outline cws-outline-barri"}),
            ("Districts", admin.districts, "district_name",
             {"color": "#444", "weight": 2, "fill": False,
              "className": "cws-outline cws-outline-district"})):
        tips = [{"tip": popup_html(_safe_text(v), [])} for v in table[column]]
        m.add_child(GeoJsonLayer(
            display_geojson(table, (), tolerance_m=8, properties=tips, store=store),
            name=name, pane="overlayPane", style=style))
    minx, miny, maxx, maxy = admin.city.to_crs(settings.crs_store).total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])


# ---------------------------------------------------------------------------------------
# Spaces
# ---------------------------------------------------------------------------------------
def type_key(value: Any) -> int | None:
    """Return the innovation type of a value (1, 2, 3), or None when unclassified."""
    return None if _missing(value) else int(value)


def type_label(key: int | None) -> str:
    """Legend label of an innovation type."""
    return f"Type {key}: {INNOVATION_LABELS[key]}" if key is not None else "Unclassified"


def with_innovation_label(spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``spaces`` with an ``innovation_label`` column (added when missing)."""
    spaces = spaces.copy()
    if "innovation_label" not in spaces:
        types = spaces.get("innovation_type", pd.Series(pd.NA, spaces.index))
        spaces["innovation_label"] = [INNOVATION_LABELS[type_key(v)] for v in types]
    return spaces


class SpaceLayer(Layer):
    """Coworking spaces of one type: SVG circle markers built in the browser from one array.

    Each row is ``[lat, lon, tooltip_html, popup_html]`` (HTML escaped in Python). The
    markers carry ``className`` (e.g. ``cws-space cws-type-2``) and sit in the
    ``cws-spaces`` pane, above every other layer. One compact array instead of one folium
    object per marker keeps pages small and builds fast.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var rows = {{ this.rows_js }}, group = L.featureGroup();
        for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            L.circleMarker([r[0], r[1]], {pane: "cws-spaces", radius: 7, color: "#222",
                weight: 1.2, fill: true, fillColor: {{ this.color|tojson }},
                fillOpacity: 0.9, className: {{ this.css|tojson }}})
             .bindTooltip(r[2], {sticky: true}).bindPopup(r[3], {maxWidth: 340})
             .addTo(group);
        }
        return group;
    })();
{% endmacro %}
""")

    def __init__(self, rows: list[list[Any]], *, name: str, css: str, color: str) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=True)
        self._name = "cws_spaces"
        self.rows_js = _js_data(rows)
        self.css = css
        self.color = _color(color)


def _space_rows(sub: gpd.GeoDataFrame, present: Sequence[tuple[str, str]]) -> list[list[Any]]:
    """Rows ``[lat, lon, tooltip, popup]`` of located spaces (EPSG:4326)."""
    names = sub.get("name", [""] * len(sub))
    return [[round(g.y, 6), round(g.x, 6), html.escape(_safe_text(name)),
             popup_html(_safe_text(name), [(lab, format_value(v, col))
                                           for (col, lab), v in zip(present, vals, strict=True)])]
            for g, name, *vals in zip(sub.geometry, names, *[sub[c] for c, _ in present],
                                      strict=True)]


def add_spaces(m: folium.Map, spaces: gpd.GeoDataFrame,
               popup_fields: Mapping[str, str] | None = None,
               counts_total: bool = True) -> list[tuple[str, str, str]]:
    """Add one toggleable layer of circle markers per innovation type (unclassified included).

    Markers are SVG paths with classes ``cws-space cws-type-<1|2|3|none>`` in their own pane,
    above every other layer.

    Parameters
    ----------
    m
        The map.
    spaces
        Coworking spaces; unlocated rows (empty geometry) are counted but not drawn.
    popup_fields
        Column -> label shown in each popup (default :data:`SPACE_POPUP_FIELDS`: address,
        district, barri, type, geocoding and, when the columns exist, the proximity metrics).
        Values are formatted by :func:`format_value` from the column name.
    counts_total
        Legend counts show located / total when some spaces are unlocated.

    Returns
    -------
    list
        Legend items ``(colour, label, count)``.
    """
    setup_page(m)
    fields = dict(popup_fields or SPACE_POPUP_FIELDS)
    sp = spaces.to_crs(settings.crs_store)
    types = sp["innovation_type"] if "innovation_type" in sp else pd.Series(pd.NA, sp.index)
    keys = [type_key(v) for v in types]
    located = ~(sp.geometry.isna() | sp.geometry.is_empty)
    present = [(col, label) for col, label in fields.items() if col in sp.columns]
    items: list[tuple[str, str, str]] = []
    for key in (1, 2, 3, None):
        mask = np.array([k == key for k in keys], dtype=bool)
        n_all = int(mask.sum())
        sub = sp[mask & located.to_numpy()]
        label = type_label(key)
        count = f"{len(sub)}" + (f" of {n_all}" if counts_total and n_all != len(sub) else "")
        items.append((INNOVATION_COLORS[key], label, count))
        css = f"cws-space cws-type-{key if key is not None else 'none'}"
        m.add_child(SpaceLayer(_space_rows(sub, present), name=f"{label} ({len(sub)})",
                               css=css, color=INNOVATION_COLORS[key]))
    return items


def add_innovation_legend(m: folium.Map, items: Sequence[tuple[str, str, Any]]) -> None:
    """Add the legend of the innovation types (items from :func:`add_spaces`)."""
    add_legend(m, "Innovation type", items,
               note="Types after the Barcelona CWS study: 1 = no innovative community, "
                    "2 = innovative communities, 3 = highly innovative communities.")
