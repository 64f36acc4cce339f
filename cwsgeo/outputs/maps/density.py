"""The density map (``maps/density.html``).

Choropleths with a metric selector, H3 hexagons, kernel density bands and the spaces on top.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from ..._text import as_text
from ...analysis.admin import AdminAreas
from ..labels import DEFAULT_LABELS, AreaLabels
from .controls import add_layer_control, add_search, located_mask
from .display import DisplayStore, display_geojson
from .furniture import add_legend, add_runtime, legend_html
from .hotspots import add_hotspots
from .layers import GeoData, GeoJsonLayer, base_map
from .overlays import add_kernel_bands, kernel_note
from .palette import SPACE_RADIUS, ZERO_COLOR
from .precision import area_names, data_note, missing_spaces
from .render import save_map
from .spaces import add_spaces, with_innovation_label
from .text import _color, _js_data, format_value, popup_html

if TYPE_CHECKING:
    from ...analysis.density import DensityResult
    from ..figures import Classification

logger = logging.getLogger(__name__)

__all__ = ["DENSITY_METRICS", "density_map"]

#: Choropleth metrics of the density map: (column, label). Class breaks, colours and units
#: come from :meth:`cwsgeo.analysis.density.DensityResult.classifications` (the PNG figures'
#: classes).
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

_SCHEME_TEXT = {
    "fisher_jenks": "Fisher-Jenks natural breaks", "quantiles": "quantiles",
    "equal_interval": "equal intervals", "head_tail_breaks": "head/tail breaks",
    "user_defined": "fixed classes"}

#: Tooltip rows of a district or neighbourhood: (column, label).
_AREA_TIP_COLUMNS = (("area_km2", "Area"), ("residents", "Residents"),
                     ("spaces", "Coworking spaces"), ("places", "Places of interaction"),
                     ("stops", "Transit stops"))

#: An area level of the choropleth: (key, label, table, code column, name column).
_Level = tuple[str, str, gpd.GeoDataFrame, str, str]


class _ChoroplethSwitch(MacroElement):
    """District/neighbourhood choropleths with a level and metric selector and a matching legend.

    Each area carries the class index of every metric (computed in Python with the PNG
    figures' :class:`~cwsgeo.outputs.figures.Classification`), so switching only restyles
    (``static/choropleth.js``).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsChoropleth({{ this._parent.get_name() }},
                                              {{ this.config_js }});
{% endmacro %}
""")

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
        from ..figures import NODATA_COLOR

        items.append((NODATA_COLOR, "no data", n_missing))
    scheme = _scheme_text(cls)
    if cls.colors and cls.colors[0] == ZERO_COLOR and len(cls.bins) > 1:
        scheme = f"“{cls.labels[0]}” is a class of its own; {scheme} of the others"
    note = f"Units: {cls.units}. Count of {what} per class; {scheme}" + (
        f", {source_note}" if source_note else "") + "."
    return legend_html(title, items, note=note, shape="square")


def _area_levels(result: DensityResult, labels: AreaLabels) -> list[_Level]:
    out = []
    for key, table, code, name in (
            ("districts", result.districts, "district_code", "district_name"),
            ("barris", result.barris, "barri_code", "barri_name")):
        if table is not None and len(table):
            out.append((key, labels.title(key), table, code, name))
    return out


def _area_title(row: Mapping[str, Any], level: str, code: str, name: str) -> str:
    title = as_text(row.get(name)) or as_text(row.get(code))
    if level == "barris" and as_text(row.get("district_name")):
        title += f" ({as_text(row.get('district_name'))})"
    return title


def _level_classes(level: _Level, usable: Sequence[tuple[str, str]],
                   classes: Mapping[str, Classification], labels: AreaLabels
                   ) -> tuple[np.ndarray, dict[str, list[str]], dict[str, str]]:
    """Class index of every area for every metric (-1: no data), palettes and legends."""
    from ..figures import class_breaks

    key, _, table, _, _ = level
    words = labels.plural(key)
    cidx: list[np.ndarray] = []
    palettes: dict[str, list[str]] = {}
    legends: dict[str, str] = {}
    for col, mlabel in usable:
        if col not in table.columns:
            cidx.append(np.full(len(table), -1))
            palettes[col] = []
            legends[col] = legend_html(mlabel, [], note=f"Not available for {words}.")
            continue
        cls = classes.get(f"{key}.{col}") or class_breaks(table[col], k=5, column=col)
        idx = cls.classify(table[col].to_numpy())
        cidx.append(idx)
        palettes[col] = [_color(c) for c in cls.colors]
        legends[col] = _classes_legend(f"{mlabel} — {words}", cls,
                                       int((idx < 0).sum()), words,
                                       "as in the PNG figures")
    by_row = np.column_stack(cidx) if cidx else np.zeros((len(table), 0), dtype=int)
    return by_row, palettes, legends


def _level_geojson(level: _Level, usable: Sequence[tuple[str, str]], by_row: np.ndarray,
                   store: DisplayStore | None) -> dict[str, Any]:
    """Return the areas of a level with their tooltips and class indices."""
    key, _, table, code, name = level
    tip_columns = dict(_AREA_TIP_COLUMNS)
    props = []
    for i, row in enumerate(table.drop(columns=table.geometry.name).to_dict("records")):
        rows = [(lab, format_value(row.get(c), c)) for c, lab in _AREA_TIP_COLUMNS if c in row]
        rows += [(mlabel, format_value(row.get(col), col)) for col, mlabel in usable
                 if col in row and col not in tip_columns]
        props.append({"tip": popup_html(_area_title(row, key, code, name), rows),
                      "c": [int(v) for v in by_row[i]]})
    return display_geojson(table, (), tolerance_m=8, properties=props, store=store)


def _choropleth_config(result: DensityResult, metrics: Sequence[tuple[str, str]], level: str,
                       metric: str, store: DisplayStore | None,
                       labels: AreaLabels) -> dict[str, Any] | None:
    """Everything the choropleth runtime needs, or None when no metric is available."""
    from ..figures import NODATA_COLOR

    levels = _area_levels(result, labels)
    usable = [(col, label) for col, label in metrics
              if any(col in table.columns for _, _, table, _, _ in levels)]
    if not usable or not levels:
        return None
    keys = [k for k, *_ in levels]
    cfg: dict[str, Any] = {
        "levels": [], "palettes": {}, "legends": {}, "nodata": NODATA_COLOR,
        "metricIndex": {col: i for i, (col, _) in enumerate(usable)},
        "metricOptions": [[col, label] for col, label in usable],
        "levelOptions": [[key, label] for key, label, *_ in levels] + [["none", "None"]],
        "level": level if level in [*keys, "none"] else keys[0],
        "metric": metric if metric in [c for c, _ in usable] else usable[0][0],
        "allLevel": "barris" if "barris" in keys else keys[0],
    }
    classes = result.classifications()
    for lv in levels:
        by_row, cfg["palettes"][lv[0]], cfg["legends"][lv[0]] = _level_classes(
            lv, usable, classes, labels)
        cfg["levels"].append({"key": lv[0], "data": _level_geojson(lv, usable, by_row, store)})
    return cfg


def _add_choropleths(m: folium.Map, result: DensityResult,
                     metrics: Sequence[tuple[str, str]], level: str, metric: str,
                     store: DisplayStore | None, labels: AreaLabels) -> None:
    cfg = _choropleth_config(result, metrics, level, metric, store, labels)
    if cfg is None:
        logger.warning("density map: no choropleth metric available")
        return
    add_runtime(m, "choropleth.js")
    m.add_child(_ChoroplethSwitch(cfg))


def _hex_tips(hexes: gpd.GeoDataFrame) -> list[str]:
    tips = []
    for row, hid in zip(hexes.drop(columns=hexes.geometry.name).to_dict("records"),
                        hexes["hex_id"], strict=True):
        rows = [("Places", format_value(row.get("places"), "places")),
                ("Residents", format_value(row.get("residents"), "residents")),
                ("Coworking spaces", format_value(row.get("spaces"), "spaces")),
                ("Transit stops", format_value(row.get("stops"), "stops")),
                ("Area in the city", format_value(row.get("area_km2"), "area_km2"))]
        tips.append(popup_html(f"Hexagon {hid}", rows))
    return tips


def _add_hexagons(m: folium.Map, result: DensityResult,
                  store: DisplayStore | None) -> list[Layer]:
    """One hidden layer per hexagon variable, sharing one embedded copy of the cells."""
    from ..figures import class_breaks

    hexes = result.hexes
    if hexes is None or not len(hexes):
        return []
    classes = result.classifications()
    cols = [(c, lab) for c, lab in _HEX_LAYERS if c in hexes.columns]
    clss = {c: classes.get(f"hexes.{c}") or class_breaks(hexes[c], k=6, column=c)
            for c, _ in cols}
    cidx = np.column_stack([clss[c].classify(hexes[c].to_numpy()) for c, _ in cols])
    props = [{"tip": t, "c": [int(v) for v in r]}
             for t, r in zip(_hex_tips(hexes), cidx, strict=True)]
    data = GeoData(display_geojson(hexes, (), tolerance_m=0, properties=props, store=store))
    m.add_child(data)
    grid = f"{len(hexes):,} hexagonal cells"
    layers: list[Layer] = []
    for i, (col, label) in enumerate(cols):
        cls = clss[col]
        layer = GeoJsonLayer(data, name=f"Hexagons: {label} per cell", pane="cws-hexes",
                             palette=cls.colors, index=i, show=False, group="Areas",
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


def _add_kernel_layers(m: folium.Map, result: DensityResult,
                       kde_bands: Mapping[str, gpd.GeoDataFrame] | None,
                       store: DisplayStore | None) -> None:
    """Kernel density bands of places and of spaces (given, or contoured from ``result``)."""
    from ...analysis.density import surface_contours

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
                             note=kernel_note(surface, what), key=key, store=store,
                             group="Areas")


def density_map(result: DensityResult, admin: AdminAreas, path: str | Path, *,
                spaces: gpd.GeoDataFrame | None = None,
                streets: gpd.GeoDataFrame | None = None,
                kde_bands: Mapping[str, gpd.GeoDataFrame] | None = None,
                metrics: Sequence[tuple[str, str]] = DENSITY_METRICS,
                level: str = "districts", metric: str = "spaces_per_km2",
                assets: Literal["inline", "cdn"] = "inline", tiles: bool = True,
                attributions: Iterable[str] = (),
                popup_fields: Mapping[str, str] | None = None,
                store: DisplayStore | None = None,
                hotspots: Mapping[str, gpd.GeoDataFrame] | None = None,
                labels: AreaLabels = DEFAULT_LABELS) -> Path:
    """Write the density map: choropleths, hexagons, kernel density and the spaces on top.

    * **Choropleth** of districts or neighbourhoods, chosen in a small control at the top left
      together with the metric (default :data:`DENSITY_METRICS`: spaces per km² and per
      10,000 residents, location quotient, places, stops and residents per km²). Classes and
      colours are those of the PNG figures (:meth:`DensityResult.classifications`,
      Fisher-Jenks; fixed classes around 1 for location quotients); the legend (units,
      classes, count of areas per class) follows the selection. Tooltips give every value.
    * **Hexagons** (H3): places, residents and coworking spaces per cell, one layer each
      (sharing one embedded copy of the cells), hidden until switched on.
    * **Kernel density** of places and of spaces as filled contour bands
      (:func:`cwsgeo.analysis.density.surface_contours`, quantile classes as in the
      figures), hidden until switched on.
    * **Spaces** by innovation type on top (:func:`~cwsgeo.outputs.maps.add_spaces`): the
      same precision symbols and the same switch between confirmed and estimated types as
      the innovation map (the legend says which types the layers use).
    * **Hot spots** (with ``hotspots``): H3 cells and neighbourhoods significantly clustered by
      local Moran's I, group "Statistics", hidden until switched on
      (:func:`~cwsgeo.outputs.maps.hotspots.add_hotspots`).

    Parameters
    ----------
    result
        From :func:`cwsgeo.analysis.density.compute_densities`.
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
        See :func:`~cwsgeo.outputs.maps.save_map` and :func:`~cwsgeo.outputs.maps.base_map`.
    attributions
        Source credit lines (:func:`cwsgeo.build.sources.attributions` with roles admin,
        places, transit, inventory).
    popup_fields
        Column -> label for the spaces' popups.
    store
        Where display geometry is kept between builds (any ``MutableMapping[str, bytes]``;
        see :mod:`cwsgeo.outputs.maps.display`).
    hotspots
        Local Moran's I units keyed ``"hexes"`` / ``"barris"``
        (``Findings.hotspot_units`` of :mod:`cwsgeo.build.statistics`); default: no
        hot-spot layers.
    labels
        The city's words for its districts and neighbourhoods (layer names, legends,
        tooltips); the tables keep their keys ``"districts"`` and ``"barris"``.

    Returns
    -------
    Path
    """
    sp = with_innovation_label(spaces if spaces is not None else result.spaces)
    names = area_names(admin, sp)
    d = result.districts
    totals = [f"{int(d[c].sum()):,} {lab}" for c, lab in
              (("places", "places of interaction"), ("stops", "transit stops"))
              if c in d.columns]
    m = base_map(admin, streets=streets, tiles=tiles,
                 title="Densities of coworking spaces, places, transit and residents",
                 subtitle=" · ".join(totals), note=data_note(sp, located_mask(sp), names),
                 attributions=attributions, store=store, labels=labels)
    _add_choropleths(m, result, metrics, level, metric, store, labels)
    _add_hexagons(m, result, store)
    _add_kernel_layers(m, result, kde_bands, store)
    if hotspots:
        add_hotspots(m, hotspots, store, labels)
    add_spaces(m, sp, popup_fields, radius=SPACE_RADIUS["density"], names=names,
               labels=labels)
    add_search(m, missing_spaces(sp, names))
    add_layer_control(m)
    return save_map(m, path, assets)
