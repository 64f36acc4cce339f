"""Folium maps of coworking spaces: the innovation-type map and the shared map furniture.

This module owns every HTML map cwsgeo writes: an offline basemap drawn from the bundle
(city, district and barri outlines, simplified street lines), one toggleable layer per category
with a categorical legend and counts, popups and tooltips built from escaped text, source
attributions, and the offline-capable page (Leaflet and plugins embedded from installed
packages, see :mod:`cwsgeo._assets`). Geometry is simplified and rounded for display only.

Example
-------
>>> from cwsgeo.maps import innovation_map          # doctest: +SKIP
>>> innovation_map(spaces, admin, "maps/innovation_types.html")   # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from . import settings
from ._assets import finalize_html, use_assets
from ._io import write_text
from .admin import AdminAreas
from .inventory import INNOVATION_LABELS

logger = logging.getLogger(__name__)

__all__ = [
    "INNOVATION_COLORS",
    "add_attribution",
    "add_legend",
    "base_map",
    "innovation_map",
    "SafePopup",
    "popup_html",
    "save_map",
]

#: Colour of each innovation type (ColorBrewer Dark2, colour-blind safe); None = unclassified.
INNOVATION_COLORS: dict[int | None, str] = {
    1: "#d95f02",
    2: "#7570b3",
    3: "#1b9e77",
    None: "#6b6b6b",
}

_CENTER = (41.395, 2.165)
OSM_TILES_ATTRIBUTION = "© OpenStreetMap contributors"


# ---------------------------------------------------------------------------------------
# Display geometry
# ---------------------------------------------------------------------------------------
def display_geojson(gdf: gpd.GeoDataFrame, columns: Sequence[str] = (),
                    tolerance_m: float = 5.0, decimals: int = 5) -> dict[str, Any]:
    """Return a small GeoJSON dict for the web: simplified, EPSG:4326, rounded coordinates.

    Parameters
    ----------
    gdf
        Layer in any CRS.
    columns
        Properties to keep (all others are dropped to save bytes).
    tolerance_m
        Simplification tolerance in metres (applied in the work CRS; display only).
    decimals
        Coordinate decimals (5 ≈ 1 m).
    """
    work = gdf.to_crs(settings.crs_work)
    geoms = work.geometry
    if tolerance_m > 0:
        geoms = geoms.simplify(tolerance_m, preserve_topology=True)
    geoms = gpd.GeoSeries(geoms, crs=settings.crs_work).to_crs(settings.crs_store)
    geoms = shapely.set_precision(geoms.values, 10 ** -decimals, mode="pointwise")
    props = pd.DataFrame(gdf[list(columns)]).reset_index(drop=True)
    features = []
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        record = {k: _jsonable(v) for k, v in props.iloc[i].items()} if columns else {}
        features.append({"type": "Feature", "properties": record,
                         "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": features}


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else round(float(value), 6)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if isinstance(value, (int, str, bool)) else str(value)


# ---------------------------------------------------------------------------------------
# Furniture: legend, attribution, title
# ---------------------------------------------------------------------------------------
_LEGEND_TEMPLATE = Template("""
{% macro html(this, kwargs) %}
<div class="cws-legend leaflet-control" id="{{ this.get_name() }}"
     style="position:absolute; z-index:1000; {{ this.position_css }} background:rgba(255,255,255,.92);
            padding:8px 10px; border-radius:6px; box-shadow:0 1px 4px rgba(0,0,0,.35);
            font:12px/1.35 system-ui,-apple-system,Segoe UI,Roboto,sans-serif; max-width:290px;">
  <div class="cws-legend-title" style="font-weight:600; margin-bottom:4px;">{{ this.title }}</div>
  {% for color, label, count in this.items %}
  <div class="cws-legend-item" style="display:flex; align-items:center; gap:6px; margin:2px 0;">
    <span style="display:inline-block; width:12px; height:12px; border-radius:{{ this.radius }};
                 background:{{ color }}; border:1px solid #333; flex:none;"></span>
    <span class="cws-legend-label">{{ label }}</span>
    {% if count is not none %}<span class="cws-legend-count" style="margin-left:auto; font-variant-numeric:tabular-nums;">{{ count }}</span>{% endif %}
  </div>
  {% endfor %}
  {% if this.note %}<div class="cws-legend-note" style="margin-top:4px; color:#555;">{{ this.note }}</div>{% endif %}
</div>
{% endmacro %}
""")


class Legend(MacroElement):
    """A categorical legend box (folium has none built in); every text is escaped."""

    _template = _LEGEND_TEMPLATE

    def __init__(self, title: str, items: Sequence[tuple[str, str, int | str | None]],
                 note: str = "", position: str = "bottomleft", shape: str = "circle") -> None:
        super().__init__()
        self._name = "Legend"
        self.title = html.escape(title)
        self.items = [(html.escape(c), html.escape(str(lab)),
                       None if n is None else html.escape(f"{n:,}" if isinstance(n, int)
                                                          else str(n)))
                      for c, lab, n in items]
        self.note = html.escape(note)
        vertical, horizontal = ("bottom", "left") if position == "bottomleft" else (
            ("top", "right") if position == "topright" else
            ("bottom", "right") if position == "bottomright" else ("top", "left"))
        offset = "28px" if vertical == "bottom" else "10px"
        self.position_css = f"{vertical}:{offset}; {horizontal}:10px;"
        self.radius = "50%" if shape == "circle" else "2px"

    def render(self, **kwargs: Any) -> None:
        """Put the legend's HTML into the page's body."""
        figure = self.get_root()
        figure.html.add_child(Element(self._template.module.html(self, kwargs)),
                              name=self.get_name())


def add_legend(m: folium.Map, title: str, items: Sequence[tuple[str, str, int | str | None]],
               note: str = "", position: str = "bottomleft", shape: str = "circle") -> Legend:
    """Add a categorical legend.

    Parameters
    ----------
    m
        The map.
    title
        Legend heading.
    items
        ``(colour, label, count)`` per category; ``count`` may be ``None``.
    note
        Small print under the items.
    position
        ``bottomleft``, ``bottomright``, ``topleft`` or ``topright``.
    shape
        ``circle`` (points) or ``square`` (areas).
    """
    legend = Legend(title, items, note, position, shape)
    m.add_child(legend)
    return legend


_ATTRIBUTION_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.attributionControl.setPrefix(
        '<a href="https://leafletjs.com">Leaflet</a>');
    {% for text in this.texts %}
    {{ this._parent.get_name() }}.attributionControl.addAttribution({{ text|tojson }});
    {% endfor %}
{% endmacro %}
""")


class _Attribution(MacroElement):
    _template = _ATTRIBUTION_TEMPLATE

    def __init__(self, texts: Iterable[str]) -> None:
        super().__init__()
        self._name = "Attribution"
        self.texts = [html.escape(t) for t in texts]


def add_attribution(m: folium.Map, texts: Iterable[str]) -> None:
    """Credit data sources in Leaflet's attribution control (texts are escaped)."""
    m.add_child(_Attribution(texts))


_TITLE_TEMPLATE = Template("""
{% macro html(this, kwargs) %}
<div class="cws-title" style="position:absolute; z-index:1000; top:10px; left:54px;
     background:rgba(255,255,255,.92); padding:6px 10px; border-radius:6px;
     box-shadow:0 1px 4px rgba(0,0,0,.35); font:13px/1.3 system-ui,sans-serif; max-width:48%;">
  <div style="font-weight:650; font-size:15px;">{{ this.title }}</div>
  {% if this.subtitle %}<div style="color:#444;">{{ this.subtitle }}</div>{% endif %}
</div>
{% endmacro %}
""")


class _Title(MacroElement):
    _template = _TITLE_TEMPLATE

    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        self._name = "Title"
        self.title = html.escape(title)
        self.subtitle = html.escape(subtitle)

    def render(self, **kwargs: Any) -> None:
        self.get_root().html.add_child(Element(self._template.module.html(self, kwargs)),
                                       name=self.get_name())


_POPUP_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }}, {{ this.options|tojson }});
{% endmacro %}
""")


class SafePopup(MacroElement):
    """A popup whose HTML is passed to Leaflet as a JSON string (folium's needs jQuery).

    Build ``content`` with :func:`popup_html`, which escapes every text.
    """

    _template = _POPUP_TEMPLATE

    def __init__(self, content: str, max_width: int = 340) -> None:
        super().__init__()
        self._name = "SafePopup"
        self.content = content
        self.options = {"maxWidth": max_width}


def popup_html(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """Build popup HTML from a title and (label, value) rows, escaping every text.

    Examples
    --------
    >>> popup_html("<b>x</b>", [("Type", "2 & more")])
    '<div class="cws-popup"><div class="cws-popup-title" style="font-weight:600">&lt;b&gt;x&lt;/b&gt;</div><table>\
<tr><th style="text-align:left;padding-right:6px">Type</th><td>2 &amp; more</td></tr></table></div>'
    """
    cells = []
    for label, value in rows:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, float):
            value = f"{value:,.1f}"
        cells.append(f'<tr><th style="text-align:left;padding-right:6px">'
                     f"{html.escape(str(label))}</th><td>{html.escape(str(value))}</td></tr>")
    return (f'<div class="cws-popup"><div class="cws-popup-title" style="font-weight:600">'
            f'{html.escape(str(title))}</div><table>{"".join(cells)}</table></div>')


# ---------------------------------------------------------------------------------------
# Base map
# ---------------------------------------------------------------------------------------
def base_map(admin: AdminAreas | None = None, *, streets: gpd.GeoDataFrame | None = None,
             tiles: bool = True, title: str = "", subtitle: str = "",
             attributions: Iterable[str] = (), plugins: Iterable[str] = ()) -> folium.Map:
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
        Extra assets the page needs, e.g. ``["markercluster"]``.

    Returns
    -------
    folium.Map
    """
    m = folium.Map(location=_CENTER, zoom_start=13, tiles=None, control_scale=True,
                   prefer_canvas=False, min_zoom=11, max_zoom=19)
    js, css = ["leaflet.js"], ["leaflet.css"]
    if "markercluster" in plugins:
        js.append("markercluster.js")
        css += ["markercluster.css", "markercluster.default.css"]
    use_assets(m, js=js, css=css)
    credits = list(attributions)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap tiles (needs internet)",
                         attr=OSM_TILES_ATTRIBUTION, overlay=True, control=True,
                         show=True, max_zoom=19).add_to(m)
    if admin is not None:
        city = display_geojson(admin.city, (), tolerance_m=10)
        folium.GeoJson(city, name="City boundary", control=False,
                       style_function=lambda f: {"color": "#222", "weight": 2,
                                                 "fillColor": "#f4f1ea", "fillOpacity": 0.55},
                       interactive=False).add_to(m)
        if streets is not None and len(streets):
            folium.GeoJson(display_geojson(streets, (), tolerance_m=0, decimals=5),
                           name="Streets (offline basemap)",
                           style_function=lambda f: {"color": "#b9b4aa", "weight": 0.8,
                                                     "opacity": 0.9},
                           interactive=False, smooth_factor=1.5).add_to(m)
        barris = admin.barris.copy()
        barris["label"] = barris["barri_name"].astype(str)
        folium.GeoJson(display_geojson(barris, ["label"], tolerance_m=8), name="Barris",
                       style_function=lambda f: {"color": "#8a8a8a", "weight": 0.8,
                                                 "fill": False, "dashArray": "3 3"},
                       tooltip=folium.GeoJsonTooltip(["label"], labels=False),
                       show=True).add_to(m)
        districts = admin.districts.copy()
        districts["label"] = districts["district_name"].astype(str)
        folium.GeoJson(display_geojson(districts, ["label"], tolerance_m=8), name="Districts",
                       style_function=lambda f: {"color": "#444", "weight": 2, "fill": False},
                       tooltip=folium.GeoJsonTooltip(["label"], labels=False),
                       show=True).add_to(m)
        minx, miny, maxx, maxy = admin.city.to_crs(settings.crs_store).total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    if title:
        m.add_child(_Title(title, subtitle))
    if credits:
        add_attribution(m, credits)
    return m


def _safe_text(value: Any) -> str:
    return "" if value is None or value is pd.NA or (
        isinstance(value, float) and np.isnan(value)) else str(value)


def _type_key(value: Any) -> int | None:
    return None if value is None or value is pd.NA or (
        isinstance(value, float) and np.isnan(value)) else int(value)


def add_spaces(m: folium.Map, spaces: gpd.GeoDataFrame,
               popup_fields: Mapping[str, str] | None = None,
               counts_total: bool = True) -> list[tuple[str, str, int | None]]:
    """Add one toggleable layer of circle markers per innovation type (unclassified included).

    Parameters
    ----------
    m
        The map.
    spaces
        Coworking spaces; unlocated rows (empty geometry) are counted but not drawn.
    popup_fields
        Column -> label shown in each popup (default: address, district, barri, type,
        geocode status).
    counts_total
        Legend counts show located / total when some spaces are unlocated.

    Returns
    -------
    list
        Legend items ``(colour, label, count)``.
    """
    fields = dict(popup_fields or {
        "address": "Address", "district_name": "District", "barri_name": "Barri",
        "innovation_label": "Innovation type", "geocode_status": "Geocode status",
        "location_method": "Located by"})
    sp = spaces.to_crs(settings.crs_store)
    types = sp["innovation_type"] if "innovation_type" in sp else pd.Series(pd.NA, sp.index)
    keys = [_type_key(v) for v in types]
    located = ~(sp.geometry.isna() | sp.geometry.is_empty)
    items: list[tuple[str, str, int | None]] = []
    for key in (1, 2, 3, None):
        mask = np.array([k == key for k in keys])
        n_all = int(mask.sum())
        sub = sp[mask & located.to_numpy()]
        label = (f"Type {key}: {INNOVATION_LABELS[key]}" if key is not None
                 else "Unclassified")
        count = f"{len(sub)}" + (f" of {n_all}" if counts_total and n_all != len(sub) else "")
        items.append((INNOVATION_COLORS[key], label, count))
        group = folium.FeatureGroup(name=f"{label} ({len(sub)})", show=True)
        css = f"cws-space cws-type-{key if key is not None else 'none'}"
        for _, row in sub.iterrows():
            rows = [(lab, row.get(col)) for col, lab in fields.items() if col in row.index]
            folium.CircleMarker(
                location=(round(row.geometry.y, 6), round(row.geometry.x, 6)), radius=7,
                color="#222", weight=1.2, fill=True, fill_color=INNOVATION_COLORS[key],
                fill_opacity=0.9, class_name=css,
                tooltip=folium.Tooltip(html.escape(_safe_text(row.get("name")))),
            ).add_child(SafePopup(popup_html(_safe_text(row.get("name")), rows))).add_to(group)
        group.add_to(m)
    return items


def save_map(m: folium.Map, path: str | Path,
             assets: Literal["inline", "cdn"] = "inline") -> Path:
    """Render a map and write it atomically.

    Parameters
    ----------
    m
        The map.
    path
        Destination ``.html``.
    assets
        ``inline`` embeds Leaflet and plugins (works offline); ``cdn`` links them.

    Returns
    -------
    Path
    """
    page = finalize_html(m.get_root().render(), assets)
    return write_text(path, page)


def innovation_map(spaces: gpd.GeoDataFrame, admin: AdminAreas, path: str | Path, *,
                   streets: gpd.GeoDataFrame | None = None, extra_layers: Iterable[Any] = (),
                   assets: Literal["inline", "cdn"] = "inline", tiles: bool = True,
                   attributions: Iterable[str] = (), plugins: Iterable[str] = (),
                   popup_fields: Mapping[str, str] | None = None,
                   legends: Iterable[tuple[str, Sequence[tuple[str, str, Any]]]] = ()) -> Path:
    """Write the innovation-type map: one layer per type over the offline basemap.

    Parameters
    ----------
    spaces
        Geocoded spaces joined to districts (``name``, ``innovation_type``, popup fields).
    admin
        Administrative areas (basemap outlines).
    path
        Output ``.html``.
    streets
        Optional street lines for the offline basemap.
    extra_layers
        Callables ``f(map) -> None`` adding more layers (transit, places, walking areas).
    assets, tiles
        See :func:`save_map` and :func:`base_map`.
    attributions
        Source credit lines.
    plugins
        Extra assets needed by ``extra_layers`` (e.g. ``["markercluster"]``).
    popup_fields
        Column -> label for the popups.
    legends
        Extra ``(title, items)`` legends.

    Returns
    -------
    Path
    """
    spaces = spaces.copy()
    if "innovation_label" not in spaces:
        spaces["innovation_label"] = [INNOVATION_LABELS[_type_key(v)]
                                      for v in spaces.get("innovation_type",
                                                          pd.Series(pd.NA, spaces.index))]
    located = int((~(spaces.geometry.isna() | spaces.geometry.is_empty)).sum())
    m = base_map(admin, streets=streets, tiles=tiles,
                 title="Coworking spaces in Barcelona by innovation type",
                 subtitle=f"{located} of {len(spaces)} spaces located",
                 attributions=attributions, plugins=plugins)
    for add in extra_layers:
        add(m)
    items = add_spaces(m, spaces, popup_fields)
    add_legend(m, "Innovation type", items,
               note="Types after the Barcelona CWS study: 1 = no innovative community, "
                    "2 = innovative communities, 3 = highly innovative communities.")
    for title, its in legends:
        add_legend(m, title, its, position="bottomright")
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return save_map(m, path, assets)
