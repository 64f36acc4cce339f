"""Folium maps of coworking spaces: the innovation-type map, the density map and their furniture.

This module owns every HTML map cwsgeo writes:

* :func:`innovation_map` (``maps/innovation_types.html``): one toggleable layer per innovation
  type over an offline basemap, and optionally transit stops by mode, places of interaction
  (clustered points and a kernel density layer) and each space's walking area;
* :func:`density_map` (``maps/density.html``): district and barri choropleths with a metric
  selector, H3 hexagons, kernel density bands and the spaces on top.

Both are built from the same pieces: :func:`base_map` (city, district and barri outlines,
optional street lines and tiles), :func:`display_geojson` (geometry simplified and rounded
*for display only*), :func:`legend_html` / :class:`Legend` (every legend), :func:`popup_html`
(every popup and tooltip: all data-derived text is escaped), :func:`add_attribution` (source
credits) and :func:`save_map` (offline-capable page: Leaflet and plugins embedded from
installed packages, see :mod:`cwsgeo._assets`).

Size and speed
--------------
Thousands of points are never one folium object each: a layer of points is one compact JSON
array (``[lat, lon, kind, text]``) turned into circle markers by a few lines of JavaScript and
drawn on a shared canvas renderer (transit stops) or clustered with Leaflet.markercluster
(places). Polygons are simplified (5-10 m) and coordinates rounded to 5 decimals (about 1 m).
Layers that share geometry (the three hexagon layers) share one embedded copy of it. Every
page sets ``data-cws-ready`` on ``<html>`` (milliseconds since navigation start) once Leaflet
has drawn, and opening it with the fragment ``#all-layers`` shows every layer (used by
``benchmarks/map_perf.py``).

Layer order is fixed with map panes, whatever the order layers are switched on: city fill <
choropleths < hexagons < kernel bands < walking areas < streets and outlines < points <
clusters < spaces.

Examples
--------
>>> from cwsgeo.maps import innovation_map, density_map       # doctest: +SKIP
>>> innovation_map(spaces, admin, "maps/innovation_types.html", transit=transit,
...                places=places, walk_areas=areas)            # doctest: +SKIP
>>> density_map(result, admin, "maps/density.html", spaces=spaces)   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.map import CustomPane, Layer
from jinja2 import Template

from . import settings
from ._assets import add_assets, finalize_html, use_assets
from ._cache import remember
from ._io import write_text
from .admin import AdminAreas
from .inventory import INNOVATION_LABELS

if TYPE_CHECKING:
    from .density import DensityResult, KernelSurface
    from .figures import Classification

logger = logging.getLogger(__name__)

__all__ = [
    "DENSITY_METRICS",
    "INNOVATION_COLORS",
    "METRIC_POPUP_FIELDS",
    "PLACE_COLORS",
    "PLACE_LABELS",
    "SPACE_POPUP_FIELDS",
    "TRANSIT_COLORS",
    "TRANSIT_LABELS",
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
    "display_cache",
    "display_geojson",
    "format_value",
    "innovation_map",
    "legend_html",
    "popup_html",
    "render_page",
    "save_map",
]

#: Colour of each innovation type (ColorBrewer Dark2, colour-blind safe); None = unclassified.
INNOVATION_COLORS: dict[int | None, str] = {
    1: "#d95f02",
    2: "#7570b3",
    3: "#1b9e77",
    None: "#6b6b6b",
}

#: Colour and label of each transit mode (the modes of :data:`cwsgeo.layers.MODES`).
TRANSIT_COLORS: dict[str, str] = {
    "metro": "#d7191c", "tram": "#1a9850", "fgc": "#f46d43", "rodalies": "#7b3294",
    "bus": "#2c7bb6", "funicular": "#8c510a"}
TRANSIT_LABELS: dict[str, str] = {
    "metro": "Metro", "tram": "Tram", "fgc": "FGC", "rodalies": "Rodalies", "bus": "Bus",
    "funicular": "Funicular"}
_TRANSIT_RADIUS: dict[str, float] = {"bus": 2.5}
#: Modes shown when the innovation map opens (bus stops are dense: off until asked for).
_TRANSIT_SHOWN = ("metro", "tram", "fgc", "rodalies", "funicular")

#: Colour and label of each place category (:data:`cwsgeo.layers.INTERACTION_CATEGORIES`).
PLACE_COLORS: dict[str, str] = {
    "cafe": "#8c510a", "bar": "#e08214", "restaurant": "#fdb863", "terrace": "#fee0b6",
    "culture_venue": "#8073ac", "library": "#2166ac", "civic_centre": "#1b7837",
    "community_centre": "#7fbc41", "nightclub": "#c51b7d"}
PLACE_LABELS: dict[str, str] = {
    "cafe": "Café", "bar": "Bar", "restaurant": "Restaurant", "terrace": "Terrace",
    "culture_venue": "Culture venue", "library": "Library", "civic_centre": "Civic centre",
    "community_centre": "Community centre", "nightclub": "Nightclub"}
_OTHER_COLOR = "#999999"

#: Metrics of :mod:`cwsgeo.proximity` shown in a space's popup when the columns exist.
METRIC_POPUP_FIELDS: dict[str, str] = {
    "metro_walk_min": "Walk to the metro",
    "metro_nearest_stop": "Nearest metro station",
    "transit_any_walk_min": "Walk to any transit stop",
    "places_total_10min": "Places within 10 min",
    "residents_10min": "Residents within 10 min",
    "places_buzz": "Local buzz",
    "buzz_score": "Local buzz score",
    "proximity_method": "Walking distances",
}
#: Default popup of a space: column -> label (missing columns and empty values are skipped).
SPACE_POPUP_FIELDS: dict[str, str] = {
    "address": "Address", "district_name": "District", "barri_name": "Barri",
    "innovation_label": "Innovation type", "geocode_status": "Geocode status",
    "location_method": "Located by", **METRIC_POPUP_FIELDS}

#: Choropleth metrics of the density map: (column, label). Class breaks, colours and units
#: come from :meth:`cwsgeo.density.DensityResult.classifications` (the PNG figures' classes).
DENSITY_METRICS: tuple[tuple[str, str], ...] = (
    ("spaces_per_km2", "Coworking spaces per km²"),
    ("spaces_per_10k_res", "Coworking spaces per 10,000 residents"),
    ("lq_spaces", "Location quotient of spaces"),
    ("places_per_km2", "Places of interaction per km²"),
    ("stops_per_km2", "Transit stops per km²"),
    ("residents_per_km2", "Residents per km²"),
)
#: Hexagon layers of the density map: (column, label).
_HEX_LAYERS: tuple[tuple[str, str], ...] = (
    ("places", "places"), ("residents", "residents"), ("spaces", "coworking spaces"))

_CENTER = (41.395, 2.165)
OSM_TILES_ATTRIBUTION = "© OpenStreetMap contributors"

#: Map panes (z-index): fixed drawing order whatever the order layers are switched on.
#: Leaflet's own: tiles 200, overlays (outlines, streets) 400, markers 600, tooltips 650.
_PANES: dict[str, int] = {
    "cws-base": 300, "cws-choropleth": 350, "cws-hexes": 360, "cws-kernel": 370, "cws-walk": 380,
    "cws-points": 420, "cws-clusters": 430, "cws-spaces": 450}

_SCHEME_TEXT = {
    "fisher_jenks": "Fisher-Jenks natural breaks", "quantiles": "quantiles",
    "equal_interval": "equal intervals", "head_tail_breaks": "head/tail breaks",
    "user_defined": "fixed classes"}

_COLOR_RE = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")


# ---------------------------------------------------------------------------------------
# Text and numbers
# ---------------------------------------------------------------------------------------
def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:
        return False


def _safe_text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _color(value: str) -> str:
    """Return the colour if it is safe in a style attribute, else grey."""
    return value if isinstance(value, str) and _COLOR_RE.match(value) else _OTHER_COLOR


def _number(value: float) -> str:
    """About three significant digits, thousands separated: 12,345 · 123 · 12.3 · 1.23."""
    a = abs(value)
    if a >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:,.1f}"
    if a >= 0.01:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def format_value(value: Any, column: str = "") -> str | None:
    """Format a value for a popup or tooltip, using the unit its column name carries.

    Column names follow cwsgeo's convention (unit and threshold in the name): ``*_min`` are
    minutes, ``*_m`` metres, ``*_km2`` square kilometres, ``lq_*`` location quotients, counts
    within a threshold (``residents_10min``) are whole numbers.

    Parameters
    ----------
    value
        Any scalar; missing values (None, NA, NaN) give ``None``.
    column
        The column the value comes from.

    Returns
    -------
    str or None
        Plain text (not escaped).

    Examples
    --------
    >>> format_value(6.345, "metro_walk_min"), format_value(412.7, "metro_walk_m")
    ('6.3 min', '413 m')
    >>> format_value(12345.4, "residents_10min"), format_value(1.234, "lq_spaces")
    ('12,345', '1.23')
    >>> format_value("straight_line", "proximity_method"), format_value(float("nan"))
    ('straight line', None)
    """
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) and not column.endswith(("_min", "_m", "_km2")):
        return f"{int(value):,}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return None
        if column.endswith("_min") and not re.search(r"_\d+min$", column):
            return f"{v:,.1f} min"
        if column.endswith("_m"):
            return f"{v:,.0f} m"
        if column.endswith("_km2") and not column.endswith("_per_km2"):
            return f"{v:,.2f} km²"
        if column.startswith("lq"):
            return f"{v:.2f}"
        if re.search(r"_\d+min$", column) or column in ("residents", "spaces", "places", "stops"):
            return f"{v:,.0f}"
        return _number(v)
    text = str(value)
    return text.replace("_", " ") if column == "proximity_method" else text


def popup_html(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """Build popup or tooltip HTML from a title and (label, value) rows, escaping every text.

    Rows whose value is missing are left out; floats get one decimal (format them first with
    :func:`format_value` for units).

    Examples
    --------
    >>> popup_html("<b>x</b>", [("Type", "2 & more"), ("Empty", None)])
    '<div class="cws-popup"><div class="cws-popup-title">&lt;b&gt;x&lt;/b&gt;</div><table>\
<tr><th>Type</th><td>2 &amp; more</td></tr></table></div>'
    """
    cells = []
    for label, value in rows:
        if _missing(value):
            continue
        if isinstance(value, (float, np.floating)):
            value = f"{value:,.1f}"
        cells.append(f"<tr><th>{html.escape(str(label))}</th>"
                     f"<td>{html.escape(str(value))}</td></tr>")
    table = f"<table>{''.join(cells)}</table>" if cells else ""
    return (f'<div class="cws-popup"><div class="cws-popup-title">{html.escape(str(title))}'
            f"</div>{table}</div>")


def _js(obj: Any) -> str:
    """Return compact JSON that is safe inside a ``<script>`` element.

    Inside script content only ``</`` (which could close the element) and ``<!--`` (which
    changes how the HTML parser reads the rest) matter; both are escaped, so HTML-heavy
    tooltips keep their size (a backslash before the slash does not change the string).
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class RawJSON(str):
    """JSON text that is already serialised (from the display cache): embedded as is."""

    __slots__ = ()


def _js_data(obj: Any) -> str:
    """Return a JavaScript expression for large data: ``JSON.parse('…')``.

    Browsers parse a JSON string much faster than the same object literal, and the quoting
    adds almost no bytes. Safe inside a ``<script>`` element like :func:`_js`.
    """
    text = obj if isinstance(obj, RawJSON) else json.dumps(
        obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    lit = (text.replace("\\", "\\\\").replace("'", "\\'").replace("</", "<\\/")
           .replace("<!--", "\\x3C!--").replace("\u2028", "\\u2028")
           .replace("\u2029", "\\u2029"))
    return f"JSON.parse('{lit}')"


def _layer_name(text: str) -> str:
    """Layer-control labels are HTML in Leaflet: escape them."""
    return html.escape(text)


# ---------------------------------------------------------------------------------------
# Display geometry
# ---------------------------------------------------------------------------------------
def display_geojson(gdf: gpd.GeoDataFrame, columns: Sequence[str] = (),
                    tolerance_m: float = 5.0, decimals: int = 5,
                    properties: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
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
    properties
        Ready-made properties, one mapping per row (merged over ``columns``).

    Returns
    -------
    dict
        A FeatureCollection; rows with empty geometry are left out.
    """
    geometries = _display_geometries(gdf, tolerance_m, decimals)
    records = (pd.DataFrame(gdf[list(columns)]).to_dict("records") if columns
               else [{} for _ in range(len(gdf))])
    if properties is not None:
        if len(properties) != len(gdf):
            raise ValueError(f"display_geojson: {len(properties)} properties for {len(gdf)} rows")
        records = [{**r, **p} for r, p in zip(records, properties, strict=True)]
    features = []
    for geometry, record in zip(geometries, records, strict=True):
        if geometry is None:
            continue
        features.append({"type": "Feature",
                         "properties": {k: _jsonable(v) for k, v in record.items()},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


_DISPLAY_CACHE: ContextVar[Path | None] = ContextVar("cwsgeo_display_cache", default=None)


@contextlib.contextmanager
def display_cache(folder: str | os.PathLike[str] | None) -> Iterator[None]:
    """Reuse simplified display geometries across builds, stored in ``folder``.

    Simplifying, reprojecting and encoding the same boundaries and streets for every build
    is most of a map's cost; inside this block the results are kept on disk, keyed by the
    geometry's content and the parameters.
    """
    token = _DISPLAY_CACHE.set(Path(folder) if folder is not None else None)
    try:
        yield
    finally:
        _DISPLAY_CACHE.reset(token)
        if folder is not None:
            _prune(Path(folder), keep=_DISPLAY_CACHE_KEEP)


#: Display-geometry files kept in the cache (the oldest beyond this are removed).
_DISPLAY_CACHE_KEEP = 200


def _prune(folder: Path, keep: int) -> None:
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def _display_cached(kind: str, gdf: gpd.GeoDataFrame, params: tuple[Any, ...],
                    compute: Callable[[], Any], *, raw: bool = False) -> Any:
    """Return ``compute()``, kept in the display cache under the geometry's content + params.

    With ``raw`` the result is returned as :class:`RawJSON` text, which pages embed without
    parsing and serialising it again (the street lines: a fifth of a map's render time).
    """
    folder = _DISPLAY_CACHE.get()
    if folder is None:
        data = compute()
        return RawJSON(json.dumps(data, separators=(",", ":"))) if raw else data
    h = hashlib.sha256(repr((kind, str(gdf.crs), params, 1)).encode())
    for wkb in shapely.to_wkb(gdf.geometry.to_numpy()):
        h.update(wkb or b"\x00")
    path = folder / f"{kind}-{h.hexdigest()}.json"
    def read_or_compute() -> Any:
        if path.exists():
            with contextlib.suppress(OSError, ValueError):
                text = path.read_text(encoding="utf-8")
                parsed = json.loads(text)  # a damaged file is recomputed, never embedded
                path.touch()
                return RawJSON(text) if raw else parsed
        computed = compute()
        text = json.dumps(computed, separators=(",", ":"))
        write_text(path, text)
        return RawJSON(text) if raw else computed

    memo_key = (path.name, raw)  # kept in this process too (watch, build server)
    if not path.exists():  # pruned from the cache folder: write it again
        _DISPLAY_MEMO.pop(memo_key, None)
    return remember(_DISPLAY_MEMO, memo_key, read_or_compute, size=_DISPLAY_MEMO_SIZE)


#: Display data already read in this process, by cache file (content-addressed, so never
#: stale); treated as read-only by every caller.
_DISPLAY_MEMO: dict[tuple[str, bool], Any] = {}
_DISPLAY_MEMO_SIZE = 64


def _display_geometries(gdf: gpd.GeoDataFrame, tolerance_m: float, decimals: int
                        ) -> list[dict[str, Any] | None]:
    """GeoJSON geometry dicts (EPSG:4326, simplified, rounded), None for empty rows."""

    def compute() -> list[dict[str, Any] | None]:
        work = gdf.to_crs(settings.crs_work)
        geoms = work.geometry
        if tolerance_m > 0:
            geoms = geoms.simplify(tolerance_m, preserve_topology=True)
        geoms = gpd.GeoSeries(geoms, crs=settings.crs_work).to_crs(settings.crs_store)
        geoms = shapely.set_precision(geoms.values, 10 ** -decimals, mode="pointwise")
        return [None if g is None or g.is_empty else json.loads(shapely.to_geojson(g))
                for g in geoms]

    return _display_cached("geoms", gdf, (tolerance_m, decimals), compute)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if _missing(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 6) if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if isinstance(value, (int, str, bool)) else str(value)


def _points_latlon(gdf: gpd.GeoDataFrame, decimals: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a point location: (row positions, rounded [lat, lon] array).

    Kept in the display cache: reprojecting the 10,000 places is a third of a map's time.
    """

    def compute() -> dict[str, list[Any]]:
        geoms = gdf.geometry.to_crs(settings.crs_store) if gdf.crs is not None else gdf.geometry
        arr = geoms.to_numpy()
        ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
        pos = np.flatnonzero(ok)
        pts = shapely.get_coordinates(shapely.point_on_surface(arr[pos]))
        return {"pos": pos.tolist(), "latlon": np.round(pts[:, ::-1], decimals).tolist()}

    data = _display_cached("latlon", gdf, (decimals,), compute)
    return (np.asarray(data["pos"], dtype=np.int64),
            np.asarray(data["latlon"], dtype=float).reshape(-1, 2))


# ---------------------------------------------------------------------------------------
# Page furniture: style sheet, panes, legend, attribution, title, popups
# ---------------------------------------------------------------------------------------
_CSS = """
.cws-legend{background:rgba(255,255,255,.93);padding:6px 9px;border-radius:6px;
 box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,
 sans-serif;max-width:290px;max-height:42vh;overflow:auto}
.cws-legend-title{font-weight:600;margin-bottom:3px;cursor:pointer}
.leaflet-control-attribution{font-size:10px;line-height:1.3}
.cws-legend-item{display:flex;align-items:center;gap:6px;margin:2px 0}
.cws-swatch{display:inline-block;width:12px;height:12px;border:1px solid #333;flex:none;
 border-radius:2px}
.cws-swatch-circle{border-radius:50%}
.cws-legend-count{margin-left:auto;padding-left:8px;font-variant-numeric:tabular-nums;color:#333}
.cws-legend-note{margin-top:4px;color:#555;font-size:11px}
.cws-popup-title{font-weight:600;margin-bottom:2px}
.cws-popup th{text-align:left;padding-right:6px;font-weight:500;color:#444;vertical-align:top}
.cws-popup td{font-variant-numeric:tabular-nums}
.cws-control{background:rgba(255,255,255,.95);padding:6px 8px;border-radius:6px;
 box-shadow:0 1px 4px rgba(0,0,0,.35);font:12px/1.4 system-ui,-apple-system,sans-serif}
.cws-control label{display:block;margin:2px 0 1px;color:#444}
.cws-control select{max-width:250px;font:inherit}
.cws-control-title{font-weight:600}
"""


def _setup(m: folium.Map) -> None:
    """Add the style sheet and the map panes once (every layer helper calls this)."""
    if getattr(m, "_cws_setup", False):
        return
    m._cws_setup = True  # type: ignore[attr-defined]
    m.get_root().header.add_child(_RawElement(f"<style>{_CSS}</style>"), name="cws_style")
    for name, z in _PANES.items():
        m.add_child(CustomPane(name, z_index=z, pointer_events=False),
                    name=f"pane_{name.replace('-', '_')}")


def legend_html(title: str, items: Sequence[tuple[str, str, Any]], note: str = "",
                shape: str = "circle") -> str:
    """Return the inner HTML of a legend (click the title to fold it); every text is escaped.

    Parameters
    ----------
    title
        Legend heading (say the units).
    items
        ``(colour, label, count)`` per category or class; ``count`` may be ``None``.
    note
        Small print under the items (units, method, source).
    shape
        ``circle`` (points) or ``square`` (areas).

    Examples
    --------
    >>> legend_html("A & B", [("#ff0000", "<i>x</i>", 3)])
    '<details open><summary class="cws-legend-title">A &amp; B</summary>\
<div class="cws-legend-item"><span class="cws-swatch cws-swatch-circle" \
style="background:#ff0000"></span><span class="cws-legend-label">&lt;i&gt;x&lt;/i&gt;</span>\
<span class="cws-legend-count">3</span></div></details>'
    """
    swatch = "cws-swatch cws-swatch-circle" if shape == "circle" else "cws-swatch"
    parts = [f'<details open><summary class="cws-legend-title">{html.escape(title)}</summary>']
    for color, label, count in items:
        n = "" if count is None else html.escape(
            f"{count:,}" if isinstance(count, (int, np.integer)) else str(count))
        parts.append(f'<div class="cws-legend-item"><span class="{swatch}" '
                     f'style="background:{_color(color)}"></span>'
                     f'<span class="cws-legend-label">{html.escape(str(label))}</span>'
                     + (f'<span class="cws-legend-count">{n}</span>' if n else "") + "</div>")
    if note:
        parts.append(f'<div class="cws-legend-note">{html.escape(note)}</div>')
    parts.append("</details>")
    return "".join(parts)


_LEGEND_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var map = {{ this._parent.get_name() }},
            ctl = L.control({position: {{ this.position|tojson }}}),
            layers = [{{ this.layer_names|join(', ') }}], shown = false;
        ctl.onAdd = function () {
            var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
            div.innerHTML = {{ this.html_js }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        function sync() {
            var on = !layers.length || layers.some(function (l) { return map.hasLayer(l); });
            if (on && !shown) { ctl.addTo(map); shown = true; }
            else if (!on && shown) { ctl.remove(); shown = false; }
        }
        layers.forEach(function (l) { l.on('add remove', sync); });
        sync();
        return ctl;
    })();
{% endmacro %}
""")


class Legend(MacroElement):
    """A legend box as a Leaflet control (stacks with the other controls of its corner).

    With ``layers``, the legend is shown only while at least one of them is on the map.
    Every text is escaped (see :func:`legend_html`).
    """

    _template = _LEGEND_TEMPLATE

    def __init__(self, title: str, items: Sequence[tuple[str, str, Any]], note: str = "",
                 position: str = "bottomleft", shape: str = "circle",
                 layers: Sequence[Layer] = (), css_class: str = "") -> None:
        super().__init__()
        self._name = "Legend"
        if position not in ("bottomleft", "bottomright", "topleft", "topright"):
            raise ValueError(f"unknown legend position {position!r}")
        self.position = position
        self.html_js = _js(legend_html(title, items, note, shape))
        self.layers = list(layers)
        self.css_class = " ".join(["cws-legend", *css_class.split()])

    @property
    def layer_names(self) -> list[str]:
        """JavaScript names of the bound layers."""
        return [layer.get_name() for layer in self.layers]


def add_legend(m: folium.Map, title: str, items: Sequence[tuple[str, str, Any]],
               note: str = "", position: str = "bottomleft", shape: str = "circle",
               layers: Sequence[Layer] = (), css_class: str = "") -> Legend:
    """Add a legend (categories or classes).

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
    layers
        Show the legend only while one of these layers is on the map (add the legend after
        the layers).
    css_class
        Extra CSS classes of the box (test hooks, e.g. ``cws-legend-transit``).

    Returns
    -------
    Legend
    """
    _setup(m)
    legend = Legend(title, items, note, position, shape, layers, css_class)
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
        self.get_root().html.add_child(_RawElement(self._template.module.html(self, kwargs)),
                                       name=self.get_name())


_POPUP_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.{{ this.method }}({{ this.content|tojson }},
        {{ this.options|tojson }});
{% endmacro %}
""")


class SafePopup(MacroElement):
    """A popup whose HTML is passed to Leaflet as a JSON string (folium's needs jQuery).

    Build ``content`` with :func:`popup_html`, which escapes every text.
    """

    _template = _POPUP_TEMPLATE

    method = "bindPopup"

    def __init__(self, content: str, max_width: int = 340) -> None:
        super().__init__()
        self._name = "SafePopup"
        self.content = content
        self.options = {"maxWidth": max_width}


class SafeTooltip(SafePopup):
    """A tooltip passed to Leaflet as a JSON string.

    folium's ``Tooltip`` puts its text in a JavaScript template literal, where a name
    containing a backtick or ``${...}`` would break out and run code. ``content`` is HTML:
    escape data with :func:`html.escape` first.
    """

    method = "bindTooltip"

    def __init__(self, content: str) -> None:
        super().__init__(content)
        self._name = "SafeTooltip"
        self.options = {"sticky": True}


_READY_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
    (function () {
        var map = {{ this._parent.get_name() }};
        window.cwsMap = map;
        window.cwsScriptsMs = performance.now();
        if (window.location.hash === '#all-layers') {
            {% if this.control %}
            var all = {{ this.control }}_layers.overlays;
            Object.keys(all).forEach(function (k) {
                if (!map.hasLayer(all[k])) { map.addLayer(all[k]); }
            });
            {% endif %}
            (window.cwsShowAll || []).forEach(function (f) { f(); });
        }
        map.whenReady(function () {
            requestAnimationFrame(function () { requestAnimationFrame(function () {
                window.cwsReadyMs = performance.now();
                document.documentElement.setAttribute('data-cws-ready',
                                                      window.cwsReadyMs.toFixed(1));
            }); });
        });
    })();
{% endmacro %}
""")


class _Ready(MacroElement):
    """Last script of the page: ``#all-layers`` support and the ``data-cws-ready`` flag."""

    _template = _READY_TEMPLATE

    def __init__(self, control: str | None) -> None:
        super().__init__()
        self._name = "Ready"
        self.control = control


# ---------------------------------------------------------------------------------------
# Data-driven layers (one embedded copy of the data, drawn by a few lines of JavaScript)
# ---------------------------------------------------------------------------------------
class _GeoData(MacroElement):
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


class _GeoJsonLayer(Layer):
    """Polygons or lines from compact GeoJSON, listed in the layer control.

    Feature properties: ``tip`` (escaped tooltip HTML), ``fc`` / ``lc`` (fill / line colour)
    or ``c`` (class indices, one per variable; the layer colours by ``palette[c[index]]``).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var base = {{ this.style_js }}, pal = {{ this.palette_js }}, idx = {{ this.index }},
            nodata = {{ this.nodata|tojson }};
        return L.geoJSON({{ this.data_ref }}, {
            pane: {{ this.pane|tojson }}, interactive: {{ this.interactive|tojson }},
            style: function (f) {
                var s = Object.assign({}, base), p = f.properties || {};
                if (pal.length) {
                    var c = p.c ? p.c[idx] : -1;
                    s.fillColor = c >= 0 ? pal[c] : nodata;
                }
                if (p.fc) { s.fillColor = p.fc; }
                if (p.lc) { s.color = p.lc; }
                return s;
            },
            onEachFeature: function (f, layer) {
                if (f.properties && f.properties.tip) {
                    layer.bindTooltip(f.properties.tip, {sticky: true});
                }
            }
        });
    })();
{% endmacro %}
""")

    def __init__(self, data: Mapping[str, Any] | RawJSON | _GeoData, *, name: str, pane: str,
                 style: Mapping[str, Any], palette: Sequence[str] = (), index: int = 0,
                 nodata: str = "#d9d9d9", show: bool = True, interactive: bool = True,
                 control: bool = True) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=control, show=show)
        self._name = "cws_geojson"
        self.interactive = interactive
        self.data_ref = data.get_name() if isinstance(data, _GeoData) else _js_data(data)
        self.pane = pane
        self.style_js = _js(dict(style))
        self.palette_js = _js([_color(c) for c in palette])
        self.index = int(index)
        self.nodata = _color(nodata)


_POINTS_RUNTIME = Template("""
{% macro script(this, kwargs) %}
    window.cwsPoints = (function () {
        // A canvas takes every mouse event over the whole map, so the points' pane lets
        // events through (pointer-events: none) except while the mouse is over a point:
        // layers below keep their tooltips, and Leaflet's own canvas hit-testing (tooltips,
        // clicks) works on the points.
        var map = {{ this._parent.get_name() }}, pane = map.getPane('cws-points'),
            entries = [], last = null, queued = false;
        function hit(lp) {
            for (var g = 0; g < entries.length; g++) {
                var en = entries[g];
                if (!map.hasLayer(en.group)) { continue; }
                for (var i = 0; i < en.markers.length; i++) {
                    var m = en.markers[i];
                    if (map.hasLayer(m) && lp.distanceTo(map.latLngToLayerPoint(m.getLatLng()))
                            <= m.options.radius + 1) { return {group: en.group, marker: m}; }
                }
            }
            return null;
        }
        map.on('mousemove', function (e) {
            last = e;
            if (queued) { return; }
            queued = true;
            requestAnimationFrame(function () {
                queued = false;
                var on = !!hit(last.layerPoint), was = pane.style.pointerEvents === 'auto';
                pane.style.pointerEvents = on ? 'auto' : 'none';
                var canvas = pane.querySelector('canvas'), oe = last.originalEvent;
                if (on && !was && canvas && oe) {  // let Leaflet's canvas see this position
                    canvas.dispatchEvent(new MouseEvent('mousemove', {
                        clientX: oe.clientX, clientY: oe.clientY, bubbles: true}));
                }
            });
        });
        map.on('click', function (e) {  // touch screens: a tap on a point shows its tooltip
            if (pane.style.pointerEvents === 'auto') { return; }
            var h = hit(e.layerPoint);
            if (h) { h.group.fire('click', {layer: h.marker, latlng: h.marker.getLatLng()}); }
        });
        return {add: function (group, markers) {
            entries.push({group: group, markers: markers});
        }};
    })();
{% endmacro %}
""")


class _PointsRuntime(MacroElement):
    """Mouse handling shared by the point layers of a map (see :class:`_PointLayer`)."""

    _template = _POINTS_RUNTIME

    def __init__(self) -> None:
        super().__init__()
        self._name = "cws_points_runtime"


class _PointLayer(Layer):
    """Many points from one compact array ``[lat, lon, kind, text]``, listed in the control.

    Drawn as circle markers on the canvas renderer of ``pane`` (one per pane, shared), or
    clustered with Leaflet.markercluster. The tooltip is ``kinds[kind].label`` and ``text``,
    both escaped in Python. ``window.cwsLayers[key]`` holds the layer (tests, debugging).
    Add :class:`_PointsRuntime` to the map first (:func:`_add_point_layer` does).
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


def _add_point_layer(m: folium.Map, layer: _PointLayer) -> _PointLayer:
    _setup(m)
    if not getattr(m, "_cws_points", False):
        m._cws_points = True  # type: ignore[attr-defined]
        m.add_child(_PointsRuntime(), name="cws_points_runtime")
    m.add_child(layer)
    return layer


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
        Extra assets the page needs, e.g. ``["markercluster"]`` (layer helpers add theirs).

    Returns
    -------
    folium.Map
    """
    m = folium.Map(location=_CENTER, zoom_start=13, tiles=None, control_scale=True,
                   prefer_canvas=False, min_zoom=11, max_zoom=19)
    # folium gives min/max zoom to its default tile layer only; the map needs them itself
    # (Leaflet.markercluster refuses a map without maxZoom, e.g. when tiles are off)
    m.options.update(minZoom=11, maxZoom=19)
    use_assets(m, js=["leaflet.js"], css=["leaflet.css"])
    if "markercluster" in plugins:
        _require_markercluster(m)
    _setup(m)
    credits = list(attributions)
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap tiles (needs internet)",
                         attr=OSM_TILES_ATTRIBUTION, overlay=True, control=True,
                         show=True, max_zoom=19).add_to(m)
    if admin is not None:
        m.add_child(_GeoJsonLayer(
            display_geojson(admin.city, (), tolerance_m=10), name="City boundary",
            pane="cws-base", interactive=False, control=False,
            style={"color": "#222", "weight": 2, "fillColor": "#f4f1ea", "fillOpacity": 0.55}))
        if streets is not None and len(streets):
            m.add_child(_GeoJsonLayer(
                _street_lines(streets), name="Streets (offline basemap)", pane="overlayPane",
                style={"color": "#b9b4aa", "weight": 0.8, "opacity": 0.9,
                       "smoothFactor": 1.5}, interactive=False))
        for name, table, column, style in (
                ("Barris", admin.barris, "barri_name",
                 {"color": "#8a8a8a", "weight": 0.8, "fill": False, "dashArray": "3 3",
                  "className": "cws-outline cws-outline-barri"}),
                ("Districts", admin.districts, "district_name",
                 {"color": "#444", "weight": 2, "fill": False,
                  "className": "cws-outline cws-outline-district"})):
            tips = [{"tip": popup_html(_safe_text(v), [])} for v in table[column]]
            m.add_child(_GeoJsonLayer(display_geojson(table, (), tolerance_m=8, properties=tips),
                                      name=name, pane="overlayPane", style=style))
        minx, miny, maxx, maxy = admin.city.to_crs(settings.crs_store).total_bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    if title:
        m.add_child(_Title(title, subtitle))
    if credits:
        add_attribution(m, credits)
    return m


def _street_lines(streets: gpd.GeoDataFrame, tolerance_m: float = 2.0) -> RawJSON:
    """All street lines as one MultiLineString feature (one SVG path, a third of the bytes)."""

    def compute() -> dict[str, Any]:
        work = streets.to_crs(settings.crs_work).geometry.to_numpy()
        lines = shapely.get_parts(work[~(shapely.is_missing(work) | shapely.is_empty(work))])
        merged = shapely.line_merge(shapely.multilinestrings(
            [g for g in lines if g.geom_type == "LineString"]))
        one = gpd.GeoDataFrame(geometry=[merged], crs=settings.crs_work)
        logger.debug("street lines: %d segments in, %d lines out", len(lines),
                     len(shapely.get_parts(merged)))
        return display_geojson(one, (), tolerance_m=tolerance_m)

    return _display_cached("streets", streets, (tolerance_m,), compute, raw=True)


def _require_markercluster(m: folium.Map) -> None:
    add_assets(m, js=["markercluster.js"],
               css=["markercluster.css", "markercluster.default.css"])


# ---------------------------------------------------------------------------------------
# Spaces
# ---------------------------------------------------------------------------------------
def _type_key(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _type_label(key: int | None) -> str:
    return f"Type {key}: {INNOVATION_LABELS[key]}" if key is not None else "Unclassified"


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
    _setup(m)
    fields = dict(popup_fields or SPACE_POPUP_FIELDS)
    sp = spaces.to_crs(settings.crs_store)
    types = sp["innovation_type"] if "innovation_type" in sp else pd.Series(pd.NA, sp.index)
    keys = [_type_key(v) for v in types]
    located = ~(sp.geometry.isna() | sp.geometry.is_empty)
    present = [(col, label) for col, label in fields.items() if col in sp.columns]
    items: list[tuple[str, str, str]] = []
    for key in (1, 2, 3, None):
        mask = np.array([k == key for k in keys], dtype=bool)
        n_all = int(mask.sum())
        sub = sp[mask & located.to_numpy()]
        label = _type_label(key)
        count = f"{len(sub)}" + (f" of {n_all}" if counts_total and n_all != len(sub) else "")
        items.append((INNOVATION_COLORS[key], label, count))
        css = f"cws-space cws-type-{key if key is not None else 'none'}"
        rows = [[round(g.y, 6), round(g.x, 6), html.escape(_safe_text(name)),
                 popup_html(_safe_text(name), [(lab, format_value(v, col))
                                               for (col, lab), v in zip(present, vals,
                                                                        strict=True)])]
                for g, name, *vals in zip(sub.geometry, sub.get("name", [""] * len(sub)),
                                          *[sub[c] for c, _ in present], strict=True)]
        m.add_child(_SpaceLayer(rows, name=f"{label} ({len(sub)})", css=css,
                                color=INNOVATION_COLORS[key]))
    return items


class _SpaceLayer(Layer):
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


def _innovation_legend(m: folium.Map, items: Sequence[tuple[str, str, Any]]) -> None:
    add_legend(m, "Innovation type", items,
               note="Types after the Barcelona CWS study: 1 = no innovative community, "
                    "2 = innovative communities, 3 = highly innovative communities.")


# ---------------------------------------------------------------------------------------
# Transit, places, walking areas, kernel bands
# ---------------------------------------------------------------------------------------
def _point_rows(gdf: gpd.GeoDataFrame, kind: np.ndarray,
                text: Sequence[str]) -> list[list[Any]]:
    pos, latlon = _points_latlon(gdf)
    kinds = np.asarray(kind)[pos].tolist()
    return [[lat, lon, k, text[i]] for (lat, lon), k, i in
            zip(latlon.tolist(), kinds, pos.tolist(), strict=True)]


def add_transit(m: folium.Map, transit: gpd.GeoDataFrame, *,
                modes: Sequence[str] | None = None,
                show: Iterable[str] = _TRANSIT_SHOWN) -> list[Layer]:
    """Add one toggleable layer of stops per transit mode, drawn on a canvas.

    Parameters
    ----------
    m
        The map.
    transit
        Stops in the schema of :func:`cwsgeo.layers.read_transit` (``mode``, ``name``,
        ``lines``); any CRS.
    modes
        Modes to draw, in this order (default: :data:`TRANSIT_COLORS` order, then any other
        mode present).
    show
        Modes shown when the map opens (bus is hidden by default: about 2,500 stops).

    Returns
    -------
    list
        The layers added (one per mode with stops), for legends or the layer control.
    """
    _setup(m)
    if "mode" not in transit.columns:
        raise ValueError("transit: no 'mode' column (see cwsgeo.layers.read_transit)")
    mode = transit["mode"].astype("string").str.strip().str.lower().fillna("other")
    present = list(dict.fromkeys(mode))
    order = list(modes) if modes is not None else (
        [k for k in TRANSIT_COLORS if k in present] + [k for k in present
                                                       if k not in TRANSIT_COLORS])
    shown = set(show)
    names = transit["name"] if "name" in transit.columns else pd.Series("", transit.index)
    lines = transit["lines"] if "lines" in transit.columns else pd.Series("", transit.index)
    layers: list[Layer] = []
    items: list[tuple[str, str, int]] = []
    for md in order:
        sel = (mode == md).to_numpy(dtype=bool)
        if not sel.any():
            continue
        sub = transit.loc[sel]
        texts = []
        for nm, ln in zip(names[sel].tolist(), lines[sel].tolist(), strict=True):
            ln_text = _safe_text(ln).replace(";", ", ")
            texts.append(html.escape(_safe_text(nm) + (f" ({ln_text})" if ln_text else "")))
        label = TRANSIT_LABELS.get(md, md.title())
        color = TRANSIT_COLORS.get(md, _OTHER_COLOR)
        kind = {"label": label, "color": color, "line": "#ffffff" if md != "bus" else color,
                "r": _TRANSIT_RADIUS.get(md, 5.0)}
        pts = _point_rows(sub, np.zeros(len(sub), dtype=int), texts)
        layer = _add_point_layer(m, _PointLayer(
            pts, [kind], name=f"Transit: {label} ({len(pts):,})", key=f"transit-{md}",
            show=md in shown))
        layers.append(layer)
        items.append((color, label, len(pts)))
    if layers:
        add_legend(m, "Transit stops", items, position="bottomright", layers=layers,
                   note="Stations and stops; lines in the tooltips.",
                   css_class="cws-legend-transit")
    logger.debug("transit layers: %s", ", ".join(f"{lab} {n}" for _, lab, n in items))
    return layers


def add_kernel_bands(m: folium.Map, bands: gpd.GeoDataFrame, *, name: str, title: str,
                     note: str = "", show: bool = False, key: str = "kernel",
                     tolerance_m: float = 10.0) -> Layer:
    """Add kernel density bands (filled contours) as one toggleable layer with its legend.

    Parameters
    ----------
    m
        The map.
    bands
        Band polygons from :func:`cwsgeo.density.surface_contours` (``label``, ``color``,
        ``units``, ``level_min``; one row per band, lowest first).
    name
        Layer-control label.
    title
        Legend title (the units are added).
    note
        Legend small print (kernel, bandwidth, number of points).
    show
        Shown when the map opens.
    key
        CSS class suffix of the band paths (``cws-kernel cws-kernel-<key>``) and legend.
    tolerance_m
        Display simplification.

    Returns
    -------
    Layer
    """
    _setup(m)
    units = str(bands["units"].iloc[0]) if len(bands) and "units" in bands else ""
    props = [{"fc": _color(str(row.color)),
              "tip": popup_html(title, [("Density", f"{row.label} {units}".strip())])}
             for row in bands.itertuples()]
    data = display_geojson(bands, (), tolerance_m=tolerance_m, properties=props)
    layer = _GeoJsonLayer(data, name=name, pane="cws-kernel", show=show,
                          style={"stroke": True, "color": "#ffffff", "weight": 0.4,
                                 "opacity": 0.6, "fillOpacity": 0.55,
                                 "className": f"cws-kernel cws-kernel-{key}"})
    m.add_child(layer)
    items = [(str(row.color), str(row.label), None) for row in bands.itertuples()]
    add_legend(m, f"{title} ({units})" if units else title, items, note=note,
               position="bottomright", shape="square", layers=[layer],
               css_class=f"cws-legend-kernel cws-legend-kernel-{key}")
    return layer


def _kernel_note(surface: KernelSurface | None, what: str) -> str:
    if surface is None:
        return "Kernel density; quantile classes."
    return (f"{surface.n_points:,} {what}; {surface.kernel} kernel, bandwidth "
            f"{surface.bandwidth_m:g} m, {surface.cell_m:g} m cells; quantile classes, as in "
            "the PNG figures.")


def add_places(m: folium.Map, places: gpd.GeoDataFrame, *,
               density: KernelSurface | gpd.GeoDataFrame | None = None,
               boundary: Any = None, show_points: bool = False,
               show_density: bool = False) -> list[Layer]:
    """Add places of interaction: a kernel density layer and clustered points.

    The points are one embedded array ``[lat, lon, category, name]`` turned into circle
    markers in the browser and clustered with Leaflet.markercluster (embedded from the
    ``xstatic-leaflet-markercluster`` package); below zoom 18 they are grouped in clusters.

    Parameters
    ----------
    m
        The map.
    places
        Places in the schema of :func:`cwsgeo.layers.read_places` (``category``, ``name``).
    density
        Kernel density of the places: a :class:`~cwsgeo.density.KernelSurface` (contoured
        here, quantile classes as in the figures) or ready band polygons from
        :func:`cwsgeo.density.surface_contours`. ``None``: computed from ``places`` when
        ``boundary`` is given, else no density layer.
    boundary
        City polygon(s) for the kernel density when ``density`` is ``None``.
    show_points, show_density
        Layers shown when the map opens.

    Returns
    -------
    list
        The layers added: density (if any), then points.
    """
    _setup(m)
    if "category" not in places.columns:
        raise ValueError("places: no 'category' column (see cwsgeo.layers.read_places)")
    _require_markercluster(m)
    layers: list[Layer] = []
    surface = None
    bands = None
    if isinstance(density, gpd.GeoDataFrame):
        bands = density
    elif density is not None:
        surface = density
    elif boundary is not None and len(places):
        from .density import kernel_density

        surface = kernel_density(places, boundary, name="places")
    if surface is not None:
        from .density import surface_contours

        bands = surface_contours(surface, boundary)
    if bands is not None and len(bands):
        layers.append(add_kernel_bands(
            m, bands, name="Places: kernel density", title="Places of interaction",
            note=_kernel_note(surface, "places"), show=show_density, key="places"))
    cat = places["category"].astype("string").str.strip().str.lower().fillna("other")
    order = [c for c in PLACE_COLORS if (cat == c).any()]
    order += sorted(set(cat) - set(order))
    index = {c: i for i, c in enumerate(order)}
    kinds = [{"label": PLACE_LABELS.get(c, c.replace("_", " ").capitalize()),
              "color": PLACE_COLORS.get(c, _OTHER_COLOR), "line": "#555555", "r": 4}
             for c in order]
    names = places["name"] if "name" in places.columns else pd.Series("", places.index)
    texts = [html.escape(_safe_text(v)) for v in names.tolist()]
    pts = _point_rows(places, np.array([index[c] for c in cat], dtype=int), texts)
    layer = _add_point_layer(m, _PointLayer(
        pts, kinds, name=f"Places of interaction ({len(pts):,})", key="places", cluster=True,
        show=show_points))
    layers.append(layer)
    counts = cat.value_counts()
    add_legend(m, "Places of interaction", [(k["color"], k["label"], int(counts[c]))
                                            for c, k in zip(order, kinds, strict=True)],
               note="Clustered below zoom 18; category and name in the tooltips.",
               position="bottomright", layers=[layer], css_class="cws-legend-places")
    return layers


def add_walk_areas(m: folium.Map, areas: gpd.GeoDataFrame,
                   spaces: gpd.GeoDataFrame | None = None, *, minutes: int | None = None,
                   show: bool = False, tolerance_m: float = 10.0) -> Layer:
    """Add each space's walking area (e.g. 10 minutes on foot) as one toggleable layer.

    Parameters
    ----------
    m
        The map.
    areas
        Polygons with ``id`` (the space's id) and geometry, e.g. from
        :func:`cwsgeo.proximity.walk_areas` (its ``minutes`` and ``area_km2`` columns are
        used when present); any CRS.
    spaces
        The spaces, to name and colour each area by its space's innovation type (joined on
        ``id``).
    minutes
        Walking time shown in the label (default: the ``minutes`` column, else 10).
    show
        Shown when the map opens.
    tolerance_m
        Display simplification.

    Returns
    -------
    Layer
    """
    _setup(m)
    if "id" not in areas.columns:
        raise ValueError("walk areas: no 'id' column (the id of each area's space)")
    if minutes is None:
        minutes = int(areas["minutes"].iloc[0]) if "minutes" in areas and len(areas) else 10
    info: dict[str, tuple[str, int | None]] = {}
    if spaces is not None and "id" in spaces.columns:
        types = spaces["innovation_type"] if "innovation_type" in spaces else pd.Series(
            pd.NA, spaces.index)
        names = spaces["name"] if "name" in spaces else spaces["id"]
        info = {str(i): (_safe_text(n), _type_key(t))
                for i, n, t in zip(spaces["id"], names, types, strict=True)}
    props = []
    for row in areas.itertuples():
        name, key = info.get(str(row.id), (str(row.id), None))
        rows = [("Space id", _safe_text(row.id)),
                ("Area", format_value(getattr(row, "area_km2", None), "area_km2")),
                ("Distances", format_value(getattr(row, "proximity_method", None),
                                           "proximity_method"))]
        props.append({"fc": INNOVATION_COLORS[key], "lc": INNOVATION_COLORS[key],
                      "tip": popup_html(f"{minutes}-minute walk from {name}", rows)})
    data = display_geojson(areas, (), tolerance_m=tolerance_m, properties=props)
    n = len(data["features"])
    layer = _GeoJsonLayer(data, name=f"{minutes}-minute walking areas ({n})", pane="cws-walk",
                          show=show, style={"weight": 1, "opacity": 0.7, "fillOpacity": 0.08,
                                            "className": "cws-walk-area"})
    m.add_child(layer)
    add_legend(m, f"{minutes}-minute walking areas",
               [(INNOVATION_COLORS[k], _type_label(k), None) for k in (1, 2, 3, None)],
               note="Reached on foot along the street network, coloured by the space's type.",
               position="bottomright", shape="square", layers=[layer],
               css_class="cws-legend-walk")
    return layer


# ---------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------
class _RawElement(Element):
    """Finished HTML or JavaScript, emitted as is (never compiled as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


class _TextTemplate:
    """Stands in for ``jinja2.Template`` while a page renders: the text is final, not a template."""

    def __init__(self, source: str, *args: Any, **kwargs: Any) -> None:
        self._source = source

    def render(self, *args: Any, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._source


def render_page(m: folium.Map) -> str:
    """Render a folium map to HTML without evaluating template syntax found in the data.

    branca (``MacroElement.render``) and folium (``Popup.render``) wrap every rendered snippet
    in a new ``Element(text)``, which compiles the snippet as a Jinja template and renders it
    again. A space named ``{{ 7*7 }}`` would show as ``49`` and a crafted name could run
    Python at build time (template injection). During this call such snippets are kept as
    finished text. Not thread-safe: render one page at a time (builds hold a lock).

    Parameters
    ----------
    m
        The map.

    Returns
    -------
    str
        The page.
    """
    import branca.element

    # Every template of folium and branca is compiled when its class is defined; what is
    # compiled during rendering is only this second pass over finished text (in
    # ``Element(text)``), so making it a plain text holder changes nothing else.
    original = branca.element.Template
    branca.element.Template = _TextTemplate  # type: ignore[misc]
    try:
        return m.get_root().render()
    finally:
        branca.element.Template = original  # type: ignore[misc]


def save_map(m: folium.Map, path: str | Path,
             assets: Literal["inline", "cdn"] = "inline") -> Path:
    """Render a map and write it atomically.

    The page gets a last small script that sets ``data-cws-ready`` on ``<html>`` (ms since
    navigation start, after Leaflet has drawn) and shows every layer when opened with
    ``#all-layers``.

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
    control = next((c.get_name() for c in m._children.values()
                    if isinstance(c, folium.LayerControl)), None)
    m.add_child(_Ready(control), name="cws_ready")
    page = finalize_html(render_page(m), assets)
    path = write_text(path, page)
    logger.info("map %s: %.2f MB", path, len(page.encode("utf-8")) / 1e6)
    return path


# ---------------------------------------------------------------------------------------
# The innovation-type map
# ---------------------------------------------------------------------------------------
def innovation_map(spaces: gpd.GeoDataFrame, admin: AdminAreas, path: str | Path, *,
                   streets: gpd.GeoDataFrame | None = None,
                   transit: gpd.GeoDataFrame | None = None,
                   places: gpd.GeoDataFrame | None = None,
                   places_density: KernelSurface | gpd.GeoDataFrame | None = None,
                   walk_areas: gpd.GeoDataFrame | None = None,
                   extra_layers: Iterable[Callable[[folium.Map], Any]] = (),
                   assets: Literal["inline", "cdn"] = "inline", tiles: bool = True,
                   attributions: Iterable[str] = (), plugins: Iterable[str] = (),
                   popup_fields: Mapping[str, str] | None = None,
                   legends: Iterable[tuple[str, Sequence[tuple[str, str, Any]]]] = ()) -> Path:
    """Write the innovation-type map: one layer per type over the offline basemap.

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
        Stops (:func:`cwsgeo.layers.read_transit`): one canvas layer per mode.
    places
        Places (:func:`cwsgeo.layers.read_places`): clustered points and a kernel density
        layer.
    places_density
        Kernel density of the places (``DensityResult.kde_places["all"]`` or its bands);
        default: computed from ``places`` within the city.
    walk_areas
        Walking-area polygons with ``id`` (:func:`cwsgeo.proximity.walk_areas`).
    extra_layers
        Callables ``f(map) -> None`` adding more layers.
    assets, tiles
        See :func:`save_map` and :func:`base_map`.
    attributions
        Source credit lines (:func:`cwsgeo.sources.attributions`).
    plugins
        Extra assets needed by ``extra_layers`` (e.g. ``["markercluster"]``).
    popup_fields
        Column -> label for the popups (default :data:`SPACE_POPUP_FIELDS`).
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
    if walk_areas is not None:
        add_walk_areas(m, walk_areas, spaces)
    if places is not None:
        add_places(m, places, density=places_density, boundary=admin.city)
    if transit is not None:
        add_transit(m, transit)
    for add in extra_layers:
        add(m)
    items = add_spaces(m, spaces, popup_fields)
    _innovation_legend(m, items)
    for title, its in legends:
        add_legend(m, title, its, position="bottomright")
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return save_map(m, path, assets)


# ---------------------------------------------------------------------------------------
# The density map
# ---------------------------------------------------------------------------------------
_CHOROPLETH_TEMPLATE = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var map = {{ this._parent.get_name() }}, cfg = {{ this.config_js }};
        var state = {level: cfg.level, metric: cfg.metric}, layers = {};
        function style(level) {
            var pal = cfg.palettes[level], weight = level === 'districts' ? 1.4 : 0.7;
            return function (f) {
                var mi = cfg.metricIndex[state.metric], c = f.properties.c[mi],
                    colors = pal[state.metric] || [];
                return {fillColor: c >= 0 && colors[c] ? colors[c] : cfg.nodata,
                        fillOpacity: 0.72, color: '#ffffff', weight: weight, opacity: 0.9,
                        className: 'cws-choropleth cws-choropleth-' + level};
            };
        }
        cfg.levels.forEach(function (lv) {
            layers[lv.key] = L.geoJSON(lv.data, {
                pane: 'cws-choropleth', style: style(lv.key),
                onEachFeature: function (f, l) { l.bindTooltip(f.properties.tip, {sticky: true}); }
            });
        });
        var legend = L.control({position: 'bottomright'}), legendDiv = null;
        legend.onAdd = function () {
            legendDiv = L.DomUtil.create('div', 'cws-legend cws-legend-choropleth');
            L.DomEvent.disableClickPropagation(legendDiv);
            L.DomEvent.disableScrollPropagation(legendDiv);
            return legendDiv;
        };
        var control = L.control({position: 'topleft'}), selects = {};
        control.onAdd = function () {
            var div = L.DomUtil.create('div', 'cws-control cws-choropleth-control');
            var head = L.DomUtil.create('div', 'cws-control-title', div);
            head.textContent = 'Choropleth';
            [['level', 'Areas', cfg.levelOptions], ['metric', 'Metric', cfg.metricOptions]]
                .forEach(function (spec) {
                    var lab = L.DomUtil.create('label', '', div);
                    lab.textContent = spec[1];
                    var sel = L.DomUtil.create('select', 'cws-' + spec[0] + '-select', div);
                    spec[2].forEach(function (o) {
                        var opt = document.createElement('option');
                        opt.value = o[0]; opt.textContent = o[1];
                        sel.appendChild(opt);
                    });
                    sel.value = state[spec[0]];
                    L.DomEvent.on(sel, 'change', function () {
                        state[spec[0]] = sel.value; update();
                    });
                    selects[spec[0]] = sel;
                });
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        var legendShown = false;
        function update() {
            Object.keys(layers).forEach(function (k) {
                var lyr = layers[k];
                if (k === state.level) {
                    if (!map.hasLayer(lyr)) { lyr.addTo(map); }
                    lyr.setStyle(style(k));
                } else if (map.hasLayer(lyr)) { map.removeLayer(lyr); }
            });
            var on = Object.prototype.hasOwnProperty.call(layers, state.level);
            if (on && !legendShown) { legend.addTo(map); legendShown = true; }
            if (!on && legendShown) { legend.remove(); legendShown = false; }
            if (on) {
                legendDiv.innerHTML = cfg.legends[state.level][state.metric];
                legendDiv.setAttribute('data-level', state.level);
                legendDiv.setAttribute('data-metric', state.metric);
            }
            Object.keys(selects).forEach(function (k) { selects[k].value = state[k]; });
        }
        control.addTo(map);
        update();
        (window.cwsShowAll = window.cwsShowAll || []).push(function () {
            if (layers[cfg.allLevel]) { state.level = cfg.allLevel; update(); }
        });
        var api = {layers: layers, state: state,
                   set: function (level, metric) {
                       if (level) { state.level = level; }
                       if (metric) { state.metric = metric; }
                       update();
                   }};
        window.cwsChoropleth = api;
        return api;
    })();
{% endmacro %}
""")


class _ChoroplethSwitch(MacroElement):
    """District/barri choropleths with a level and metric selector and a matching legend.

    Each area carries the class index of every metric (computed in Python with the PNG
    figures' :class:`~cwsgeo.figures.Classification`), so switching only restyles.
    """

    _template = _CHOROPLETH_TEMPLATE

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "cws_choropleth"
        self.config_js = _js_data(dict(config))


def _scheme_text(cls: Classification) -> str:
    if cls.scheme == "user_defined" and str(cls.column or "").startswith("lq"):
        return "fixed classes around 1 (= the city's share)"
    return _SCHEME_TEXT.get(cls.scheme, cls.scheme.replace("_", " "))


def _classes_legend(title: str, cls: Classification, n_missing: int, what: str,
                    source_note: str = "") -> str:
    items: list[tuple[str, str, Any]] = [(c, lab, int(n)) for c, lab, n in
                                         zip(cls.colors, cls.labels, cls.counts, strict=True)]
    if n_missing:
        from .figures import NODATA_COLOR

        items.append((NODATA_COLOR, "no data", n_missing))
    note = f"Units: {cls.units}. Count of {what} per class; {_scheme_text(cls)}" + (
        f", {source_note}" if source_note else "") + "."
    return legend_html(title, items, note=note, shape="square")


def _area_levels(result: DensityResult) -> list[tuple[str, str, gpd.GeoDataFrame, str, str]]:
    out = []
    for key, label, table, code, name in (
            ("districts", "Districts", result.districts, "district_code", "district_name"),
            ("barris", "Barris", result.barris, "barri_code", "barri_name")):
        if table is not None and len(table):
            out.append((key, label, table, code, name))
    return out


def _area_title(row: Mapping[str, Any], level: str, code: str, name: str) -> str:
    title = _safe_text(row.get(name)) or _safe_text(row.get(code))
    if level == "barris" and _safe_text(row.get("district_name")):
        title += f" ({_safe_text(row.get('district_name'))})"
    return title


def _add_choropleths(m: folium.Map, result: DensityResult,
                     metrics: Sequence[tuple[str, str]], level: str, metric: str) -> None:
    from .figures import NODATA_COLOR, class_breaks

    classes = result.classifications()
    levels = _area_levels(result)
    usable = [(col, label) for col, label in metrics
              if any(col in table.columns for _, _, table, _, _ in levels)]
    if not usable or not levels:
        logger.warning("density map: no choropleth metric available")
        return
    cfg: dict[str, Any] = {
        "levels": [], "palettes": {}, "legends": {}, "nodata": NODATA_COLOR,
        "metricIndex": {col: i for i, (col, _) in enumerate(usable)},
        "metricOptions": [[col, label] for col, label in usable],
        "levelOptions": [[key, label] for key, label, *_ in levels] + [["none", "None"]],
        "level": level if level in [k for k, *_ in levels] + ["none"] else levels[0][0],
        "metric": metric if metric in [c for c, _ in usable] else usable[0][0],
        "allLevel": "barris" if any(k == "barris" for k, *_ in levels) else levels[0][0],
    }
    tip_cols = [("area_km2", "Area"), ("residents", "Residents"), ("spaces", "Coworking spaces"),
                ("places", "Places of interaction"), ("stops", "Transit stops")]
    for key, label, table, code, name in levels:
        n = len(table)
        cidx = []
        cfg["palettes"][key] = {}
        cfg["legends"][key] = {}
        for col, mlabel in usable:
            if col not in table.columns:
                cidx.append(np.full(n, -1))
                cfg["palettes"][key][col] = []
                cfg["legends"][key][col] = legend_html(mlabel, [], note=f"Not available for "
                                                       f"{label.lower()}.")
                continue
            cls = classes.get(f"{key}.{col}") or class_breaks(table[col], k=5, column=col)
            idx = cls.classify(table[col].to_numpy())
            cidx.append(idx)
            cfg["palettes"][key][col] = [_color(c) for c in cls.colors]
            cfg["legends"][key][col] = _classes_legend(
                f"{mlabel} — {label.lower()}", cls, int((idx < 0).sum()), label.lower(),
                "as in the PNG figures")
        classes_by_row = np.column_stack(cidx) if cidx else np.zeros((n, 0), dtype=int)
        props = []
        records = table.drop(columns=table.geometry.name).to_dict("records")
        for i, row in enumerate(records):
            rows = [(lab, format_value(row.get(c), c)) for c, lab in tip_cols if c in row]
            rows += [(mlabel, format_value(row.get(col), col)) for col, mlabel in usable
                     if col in row and col not in dict(tip_cols)]
            props.append({"tip": popup_html(_area_title(row, key, code, name), rows),
                          "c": [int(v) for v in classes_by_row[i]]})
        cfg["levels"].append({"key": key, "data": display_geojson(table, (), tolerance_m=8,
                                                                   properties=props)})
    m.add_child(_ChoroplethSwitch(cfg))


def _add_hexagons(m: folium.Map, result: DensityResult) -> list[Layer]:
    from .figures import class_breaks

    hexes = result.hexes
    if hexes is None or not len(hexes):
        return []
    classes = result.classifications()
    cols = [(c, lab) for c, lab in _HEX_LAYERS if c in hexes.columns]
    clss = {c: classes.get(f"hexes.{c}") or class_breaks(hexes[c], k=6, column=c)
            for c, _ in cols}
    cidx = np.column_stack([clss[c].classify(hexes[c].to_numpy()) for c, _ in cols])
    tips = []
    for row, hid in zip(hexes.drop(columns=hexes.geometry.name).to_dict("records"),
                        hexes["hex_id"], strict=True):
        rows = [("Places", format_value(row.get("places"), "places")),
                ("Residents", format_value(row.get("residents"), "residents")),
                ("Coworking spaces", format_value(row.get("spaces"), "spaces")),
                ("Transit stops", format_value(row.get("stops"), "stops")),
                ("Area in the city", format_value(row.get("area_km2"), "area_km2"))]
        tips.append(popup_html(f"Hexagon {hid}", rows))
    props = [{"tip": t, "c": [int(v) for v in r]} for t, r in zip(tips, cidx, strict=True)]
    data = _GeoData(display_geojson(hexes, (), tolerance_m=0, properties=props))
    m.add_child(data)
    grid = f"{len(hexes):,} hexagonal cells"
    layers: list[Layer] = []
    for i, (col, label) in enumerate(cols):
        cls = clss[col]
        layer = _GeoJsonLayer(data, name=f"Hexagons: {label} per cell", pane="cws-hexes",
                              palette=cls.colors, index=i, show=False,
                              style={"color": "#ffffff", "weight": 0.5, "opacity": 0.8,
                                     "fillOpacity": 0.7, "className": f"cws-hex cws-hex-{col}"})
        m.add_child(layer)
        layers.append(layer)
        missing = int((cidx[:, i] < 0).sum())
        items = [(c, lab, int(n)) for c, lab, n in
                 zip(cls.colors, cls.labels, cls.counts, strict=True)]
        add_legend(m, f"{label.capitalize()} per hexagon", items,
                   note=f"Units: {cls.units}. Count of cells per class; {_scheme_text(cls)}; "
                        f"{grid}." + (f" {missing} cells without data." if missing else ""),
                   position="bottomright", shape="square", layers=[layer],
                   css_class=f"cws-legend-hex cws-legend-hex-{col}")
    return layers


def density_map(result: DensityResult, admin: AdminAreas, path: str | Path, *,
                spaces: gpd.GeoDataFrame | None = None,
                streets: gpd.GeoDataFrame | None = None,
                kde_bands: Mapping[str, gpd.GeoDataFrame] | None = None,
                metrics: Sequence[tuple[str, str]] = DENSITY_METRICS,
                level: str = "districts", metric: str = "spaces_per_km2",
                assets: Literal["inline", "cdn"] = "inline", tiles: bool = True,
                attributions: Iterable[str] = (),
                popup_fields: Mapping[str, str] | None = None) -> Path:
    """Write the density map: choropleths, hexagons, kernel density and the spaces on top.

    * **Choropleth** of districts or barris, chosen in a small control at the top left
      together with the metric (default :data:`DENSITY_METRICS`: spaces per km² and per
      10,000 residents, location quotient, places, stops and residents per km²). Classes and
      colours are those of the PNG figures (:meth:`DensityResult.classifications`,
      Fisher-Jenks; fixed classes around 1 for location quotients); the legend (units,
      classes, count of areas per class) follows the selection. Tooltips give every value.
    * **Hexagons** (H3): places, residents and coworking spaces per cell, one layer each
      (sharing one embedded copy of the cells), hidden until switched on.
    * **Kernel density** of places and of spaces as filled contour bands
      (:func:`cwsgeo.density.surface_contours`, quantile classes as in the figures), hidden
      until switched on.
    * **Spaces** by innovation type on top (:func:`add_spaces`).

    Parameters
    ----------
    result
        From :func:`cwsgeo.density.compute_densities`.
    admin
        Administrative areas (basemap outlines and frame).
    path
        Output ``.html``.
    spaces
        Spaces to draw (all rows, so legend counts show unlocated ones); default
        ``result.spaces`` (located only).
    streets
        Optional street lines for the offline basemap.
    kde_bands
        Ready band polygons keyed ``"places"`` / ``"spaces"`` (e.g. the layers of
        ``kde_contours.gpkg``); default: contoured here from ``result``.
    metrics
        Choropleth metrics ``(column, label)``; columns without a stored classification get
        Fisher-Jenks classes here.
    level, metric
        Initial selection (``level``: ``"districts"``, ``"barris"`` or ``"none"``).
    assets, tiles
        See :func:`save_map` and :func:`base_map`.
    attributions
        Source credit lines (:func:`cwsgeo.sources.attributions` with roles admin, places, transit,
        inventory).
    popup_fields
        Column -> label for the spaces' popups.

    Returns
    -------
    Path
    """
    from .density import surface_contours

    sp = (spaces if spaces is not None else result.spaces).copy()
    if "innovation_label" not in sp:
        sp["innovation_label"] = [INNOVATION_LABELS[_type_key(v)]
                                  for v in sp.get("innovation_type", pd.Series(pd.NA, sp.index))]
    d = result.districts
    totals = [f"{int(d[c].sum()):,} {lab}" for c, lab in
              (("spaces", "located spaces"), ("places", "places"), ("stops", "transit stops"))
              if c in d.columns]
    m = base_map(admin, streets=streets, tiles=tiles,
                 title="Densities of coworking spaces, places, transit and residents",
                 subtitle=" · ".join(totals), attributions=attributions)
    _add_choropleths(m, result, metrics, level, metric)
    _add_hexagons(m, result)
    classes = result.classifications()
    for key, surfaces, what in (("places", result.kde_places, "places of interaction"),
                                ("spaces", result.kde_spaces, "coworking spaces")):
        surface = surfaces.get("all") if surfaces else None
        bands = (kde_bands or {}).get(key)
        if bands is None and surface is not None:
            bands = surface_contours(surface, result.boundary,
                                     classification=classes.get(f"kde_{key}.all"))
        if bands is not None and len(bands):
            add_kernel_bands(m, bands, name=f"Kernel density: {what}",
                             title=f"Kernel density of {what}",
                             note=_kernel_note(surface, what), key=key)
    items = add_spaces(m, sp, popup_fields)
    _innovation_legend(m, items)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return save_map(m, path, assets)
