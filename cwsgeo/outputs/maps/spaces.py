"""The coworking spaces on both pages: a layer per innovation type, their legend and note.

The spaces are the pages' subject: large circles with a dark outline in a palette no other
layer uses (:data:`~cwsgeo.outputs.maps.palette.INNOVATION_COLORS`), in their own pane above
every other layer. How each is drawn says how well it is located
(:mod:`~cwsgeo.outputs.maps.precision`): filled at an address or coordinates, hollow when
placed from its listing text (its radius circle on hover), not drawn when known only by
area. Colours follow the active type view (:mod:`~cwsgeo.outputs.maps.typeviews`): confirmed
or estimated types, switched in the legend. The markers are built in the browser by
``static/spaces.js``; their names feed the search box (``window.cwsSpaces``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from ... import settings
from ..._text import as_text
from ...schema import INNOVATION_TYPES
from ..labels import DEFAULT_LABELS, AreaLabels
from .controls import in_group
from .furniture import setup_page
from .layers import add_points_runtime
from .palette import (
    INNOVATION_COLORS,
    MANY_FEATURES,
    SPACE_OUTLINE,
    SPACE_POPUP_FIELDS,
    SPACE_RADIUS,
)
from .precision import (
    DRAWN,
    area_counts,
    area_names,
    data_note,
    missing_spaces,
    precision_of,
    precision_spans,
    radius_text,
)
from .text import (
    _b64,
    _color,
    _js,
    _js_data,
    _latlon_b64,
    _layer_name,
    _number,
    _text_column,
    format_values,
)
from .typeviews import (
    TypeView,
    has_types,
    type_key,
    type_label,
    type_views,
    view_items,
    view_legend_html,
    with_innovation_label,
)

__all__ = ["add_spaces", "data_note", "has_types", "missing_spaces", "type_key",
           "type_label", "with_innovation_label"]


class SpaceGroup(Layer):
    """The spaces of one innovation type (a feature group filled by ``cwsSpaceViews``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = L.featureGroup();
{% endmacro %}
""")

    def __init__(self, name: str) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=True)
        self._name = "cws_spaces"
        in_group(self, "Spaces")


class SpaceViews(MacroElement):
    """The markers of every space, their type views and legend (``static/spaces.js``).

    ``data``: the spaces as columns (see :func:`_space_data`); tooltips and popups are built
    in the browser with ``textContent``. Above :data:`~.palette.MANY_FEATURES` spaces the
    markers are drawn on a canvas (no SVG element per space).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsSpaceViews({{ this._parent.get_name() }},
        { {%- for key, layer in this.layers.items() -%}
          {{ key|tojson }}: {{ layer.get_name() }}{{ "," if not loop.last }}
        {%- endfor -%} }, {{ this.data_js }}, {{ this.cfg_js }});
{% endmacro %}
""")

    def __init__(self, data: Mapping[str, Any], layers: Mapping[str, SpaceGroup],
                 cfg: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "cws_space_views"
        self.layers = dict(layers)
        self.data_js = _js_data(dict(data))
        self.cfg_js = _js(dict(cfg))


#: A popup cell as parts: constant texts and columns (one text per space, None: no cell).
_Parts = list[str | list[str | None]]


def _buzz_parts(spread: pd.Series) -> Any:
    """Cells of the local buzz: the value, its meaning, its percentile and the spread.

    ``spread``: the values of every drawn space. Returned as parts (two short columns between
    constant texts) so that 28,000 spaces do not repeat the same sentence.
    """
    v = np.sort(pd.to_numeric(spread, errors="coerce").dropna().to_numpy(dtype=float))

    def parts(values: Sequence[Any]) -> _Parts:
        texts = format_values(values, "places_buzz")
        if not v.size:
            return [texts]
        x = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
        pct = np.round(100.0 * np.searchsorted(v, x, side="right") / v.size).astype(int)
        return [texts, ": places nearby weighted by walking distance; higher than ",
                [None if t is None else str(p) for t, p in zip(texts, pct, strict=True)],
                f"% of the {v.size:,} spaces (median {_number(float(np.median(v)))}, range "
                f"{_number(float(v[0]))}–{_number(float(v[-1]))})"]
    return parts


def _split_parts(texts: Sequence[str | None], sep: str = ", ") -> _Parts:
    """Texts as two columns split at their last ``sep`` (streets and numbers repeat)."""
    heads: list[str | None] = []
    tails: list[str | None] = []
    for t in texts:
        head, found, tail = (t or "").rpartition(sep)
        heads.append(None if t is None else head if found else t)
        tails.append(sep + tail if found else "")
    return [heads, tails]


def _evidence_text(value: Any) -> str | None:
    """Quote the listing text a location comes from (plain text: escaped later)."""
    text = as_text(value).strip()
    if not text:
        return None
    if text.lower().startswith("name:"):
        return f"its name: “{text[5:].strip()}”"
    return f"“…{text}…”"


def _tip_note(precision: str, radius: Any) -> str | None:
    """Tooltip note of a space placed from its listing text (with its radius), else None."""
    if precision != "approximate":
        return None
    r = radius_text(radius)
    return "approximate location" + (f", {r}" if r else "") + ", from its listing text"


def _space_data(sub: gpd.GeoDataFrame, present: Sequence[tuple[str, str]],
                formatters: Mapping[str, Any], precision: np.ndarray,
                keys: Sequence[Sequence[int | None]]) -> dict[str, Any]:
    """Return the drawn spaces as columns of plain values (shown with ``textContent``).

    ``name`` (texts), ``note`` (tooltip note) are text columns (:func:`~.text._text_column`:
    repeated texts sent once); ``fields`` holds ``[label, parts]`` per popup row, the parts
    constant texts and text columns joined (no row when a column has no text; ``formatters``
    give the parts of a column, by default its values formatted by
    :func:`~.text.format_value`). Numbers
    are base64 little-endian arrays (:func:`~.text._b64`): ``lat``/``lon`` (int32,
    microdegrees), ``approx`` (uint8, 0/1), ``radius`` (uint16, metres, 0: unknown) and
    ``types`` (per view, uint8 type key of each space; 0 = unclassified).
    """
    names = sub["name"] if "name" in sub else pd.Series("", sub.index)
    radius = (pd.to_numeric(sub["location_radius_m"], errors="coerce") if
              "location_radius_m" in sub else pd.Series(np.nan, sub.index)).to_numpy(float)
    fields = []
    for col, label in present:
        values = sub[col].tolist()
        parts = (formatters[col](values) if col in formatters
                 else [format_values(values, col)])
        fields.append([label, [p if isinstance(p, str) else _text_column(p) for p in parts]])
    xy = shapely.get_coordinates(sub.geometry.to_numpy())
    return {"n": len(sub), **_latlon_b64(xy[:, 1], xy[:, 0]),
            "name": [as_text(n) for n in names.tolist()],
            "approx": _b64(precision == "approximate", "u1"),
            "radius": _b64(np.clip(np.nan_to_num(np.round(radius)), 0, 2 ** 16 - 1), "<u2"),
            "note": _text_column(_tip_note(p, r) for p, r in zip(precision, radius,
                                                                  strict=True)),
            "fields": fields, "types": [_b64([k or 0 for k in view], "u1") for view in keys]}


def _layer_names(view: TypeView, drawn: np.ndarray, type_keys: Sequence[int | None]
                 ) -> dict[str, str]:
    """Layer-control label (escaped HTML) of each type's layer in a view."""
    out = {}
    for key in type_keys:
        n = int(sum(1 for k, d in zip(view.keys, drawn, strict=True) if d and k == key))
        est = " — estimated" if view.estimated and key is not None else ""
        out[str(key or 0)] = _layer_name(f"{type_label(key)}{est} ({n})")
    return out


def _views_config(sp: gpd.GeoDataFrame, prec: np.ndarray, views: Sequence[TypeView],
                  type_keys: Sequence[int | None], names: Mapping[str, str],
                  counts_total: bool) -> list[dict[str, Any]]:
    """Legend HTML and layer names of every view (for ``cwsSpaceViews``)."""
    drawn = np.isin(prec, DRAWN)
    counts = {p: int((prec == p).sum()) for p in DRAWN}
    spans = precision_spans(sp, prec)
    areas = area_counts(sp, prec, names)
    outside = [as_text(n) for n in sp.loc[prec == "outside", "name"]] if "name" in sp else []
    return [{"key": v.key, "label": v.label, "estimated": v.estimated,
             "names": _layer_names(v, drawn, type_keys),
             "legend": view_legend_html(v, views, drawn, sp, counts=counts, spans=spans,
                                        areas=areas, outside=outside,
                                        counts_total=counts_total)} for v in views]


def add_spaces(m: folium.Map, spaces: gpd.GeoDataFrame,
               popup_fields: Mapping[str, str] | None = None,
               counts_total: bool = True, radius: float = SPACE_RADIUS["innovation"],
               names: Mapping[str, str] | None = None,
               labels: AreaLabels = DEFAULT_LABELS) -> list[tuple[str, str, str]]:
    """Add the spaces: one toggleable layer per innovation type, and their legend.

    Markers are SVG paths with classes ``cws-space cws-type-<1|2|3|none>`` plus
    ``cws-space-filled`` (at an address or coordinates) or ``cws-space-hollow`` (placed from
    a listing text; hovering shows its radius circle) and ``cws-space-estimated`` (type
    estimated, dashed), in their own pane above every other layer. Spaces known only by
    area, outside the city or not located are not drawn; the legend lists them. When the
    spaces have estimated types, the legend switches between confirmed and estimated types;
    without any type, only the unclassified layer is made.

    Parameters
    ----------
    m
        The map.
    spaces
        Coworking spaces (all rows). ``innovation_type`` (confirmed) and
        ``innovation_type_estimated`` may be float (NaN) or nullable integer (``pd.NA``);
        ``location_precision``, ``location_radius_m``, ``location_evidence``,
        ``location_areas`` and ``innovation_type_source`` are used when present.
    popup_fields
        Column -> label shown in each popup (default :data:`SPACE_POPUP_FIELDS`: address,
        district, neighbourhood, confirmed and estimated type, how it was located and the evidence
        and, when the columns exist, the proximity metrics). Values are formatted by
        :func:`format_value` from the column name; the local buzz also gets its meaning and
        its place among the spaces.
    counts_total
        Legend counts show drawn / total when some spaces are not drawn.
    radius
        Marker radius (px); above :data:`~.palette.MANY_FEATURES` drawn spaces scaled down
        (``SPACE_RADIUS["many"]`` for the innovation map's radius), with thin outlines, on a
        canvas, and smaller again while the whole city is in view.
    names
        Names of the area codes of ``location_areas`` (:func:`~.precision.area_names`).
    labels
        The city's words for its districts and neighbourhoods (default popup labels).

    Returns
    -------
    list
        Legend items ``(colour, label, count)`` of the view the page opens on.
    """
    setup_page(m)
    fields = dict(popup_fields or labels.fields(SPACE_POPUP_FIELDS))
    sp = with_innovation_label(spaces).to_crs(settings.crs_store)
    names = names or area_names(spaces=sp)
    prec = precision_of(sp)
    drawn = np.isin(prec, DRAWN)
    views, opening = type_views(sp)
    type_keys = [*INNOVATION_TYPES, None] if any(v.any_type() for v in views) else [None]
    cfg_views = _views_config(sp, prec, views, type_keys, names, counts_total)
    layers = {str(k or 0): SpaceGroup(html.unescape(cfg_views[opening]["names"][str(k or 0)]))
              for k in type_keys}
    for layer in layers.values():
        m.add_child(layer)
    present = [(col, label) for col, label in fields.items() if col in sp.columns]
    formatters: dict[str, Any] = {
        "location_evidence": lambda values: [[_evidence_text(v) for v in values]],
        "address": lambda values: _split_parts(format_values(values, "address"))}
    formatters["location_method"] = lambda values: [[
        labels.named_in_text() if v == "text_area" else t
        for v, t in zip(values, format_values(values, "location_method"), strict=True)]]
    if "places_buzz" in sp.columns:
        formatters["places_buzz"] = _buzz_parts(sp.loc[drawn, "places_buzz"])
    idx = np.flatnonzero(drawn)
    many = len(idx) > MANY_FEATURES  # small circles with thin lines, on a canvas
    if many:
        add_points_runtime(m)  # hover and click on the canvas
    data = _space_data(sp.iloc[idx], present, formatters, prec[idx],
                       [[v.keys[i] for i in idx] for v in views])
    radius = radius * SPACE_RADIUS["many"] / SPACE_RADIUS["innovation"] if many else radius
    m.add_child(SpaceViews(data, layers, {
        "views": cfg_views, "view": opening, "outline": SPACE_OUTLINE, "radius": float(radius),
        "ring": 3.0 if radius >= 6 else 2.0 if not many else 1.5, "line": 0.6 if many else 1.5,
        "canvas": many, "legendClass": "cws-legend cws-legend-spaces",
        "colors": {str(k or 0): _color(c) for k, c in INNOVATION_COLORS.items()}}))
    typed = len(type_keys) > 1
    return view_items(views[opening], drawn, typed, counts_total)
