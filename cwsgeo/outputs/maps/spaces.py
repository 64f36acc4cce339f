"""The coworking spaces on both pages: a layer per innovation type, legend and data note.

The data note says how many spaces are on the map and why the others are not.

The spaces are the pages' subject: large circles with a dark outline in a palette no other
layer uses (:data:`~cwsgeo.outputs.maps.palette.INNOVATION_COLORS`), in their own pane above
every other layer. Their names feed the search box (``window.cwsSpaces``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.map import Layer
from jinja2 import Template

from ... import settings
from ..._text import as_text, is_missing
from ...schema import INNOVATION_LABELS, INNOVATION_TYPES
from .controls import in_group, located_mask, unlocated_reasons
from .furniture import add_legend, setup_page
from .palette import (
    INNOVATION_COLORS,
    SPACE_OUTLINE,
    SPACE_POPUP_FIELDS,
    SPACE_RADIUS,
    UNLOCATED_REASONS,
)
from .text import (
    _color,
    _js_data,
    _layer_name,
    _number,
    format_value,
    popup_html,
)

__all__ = ["add_innovation_legend", "add_spaces", "data_note", "has_types", "missing_spaces",
           "type_key", "type_label", "with_innovation_label"]


def type_key(value: Any) -> int | None:
    """Return the innovation type of a value (1, 2, 3), or None when unclassified.

    Missing values (None, NaN, ``pd.NA``) and values outside the study's types are
    unclassified.
    """
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and int(number) in INNOVATION_TYPES else None


def type_label(key: int | None) -> str:
    """Legend label of an innovation type."""
    return f"Type {key}: {INNOVATION_LABELS[key]}" if key is not None else "Unclassified"


def _types(spaces: pd.DataFrame) -> list[int | None]:
    col = spaces["innovation_type"] if "innovation_type" in spaces else pd.Series(
        pd.NA, spaces.index, dtype="Int64")
    return [type_key(v) for v in col.tolist()]


def has_types(spaces: pd.DataFrame) -> bool:
    """Whether any space has an innovation type (1, 2 or 3)."""
    return any(k is not None for k in _types(spaces))


def with_innovation_label(spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``spaces`` with an ``innovation_label`` column (added when missing)."""
    spaces = spaces.copy()
    if "innovation_label" not in spaces:
        spaces["innovation_label"] = [INNOVATION_LABELS[k] for k in _types(spaces)]
    return spaces


def data_note(spaces: pd.DataFrame, located: np.ndarray | None = None) -> list[str]:
    """Lines saying how many spaces are on the map and, by reason, why the others are not.

    Reasons come from ``geocode_status`` of the unlocated rows (``location_method`` is
    ``"none"``, or no geometry): no address to look up, address not found ... Located spaces
    outside the city and those placed on their street only are counted too.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"location_method": ["gazetteer", "none", "none"],
    ...                   "geocode_status": ["street_only", "not_geocoded", "unmatched"]})
    >>> data_note(t)  # doctest: +NORMALIZE_WHITESPACE
    ['1 of 3 spaces on the map (1 placed on its street only, no house number match).',
     'Not located: 1 no street address with a house number to look up; 1 address not found
      in the official street gazetteer.']
    """
    n = len(spaces)
    if located is None:
        located = (spaces["location_method"].astype("string").fillna("none") != "none"
                   ).to_numpy(dtype=bool) if "location_method" in spaces else np.ones(n, bool)
    n_loc = int(located.sum())
    extra = []
    if "geocode_status" in spaces:
        street = int(((spaces["geocode_status"].astype("string") == "street_only")
                      .fillna(False).to_numpy(dtype=bool) & located).sum())
        if street:
            extra.append(f"{street} placed on {'its' if street == 1 else 'their'} street only, "
                         "no house number match")
    if "in_city" in spaces:
        inside = spaces["in_city"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        outside = int((located & ~inside).sum())
        if outside:
            extra.append(f"{outside} outside the city boundary")
    lines = [f"{n_loc:,} of {n:,} spaces on the map"
             + (f" ({'; '.join(extra)})." if extra else ".")]
    if n_loc < n:
        why = pd.Series(unlocated_reasons(spaces.loc[~located], UNLOCATED_REASONS))
        parts = [f"{c:,} {r}" for r, c in why.value_counts().items()]
        lines.append("Not located: " + "; ".join(parts) + ".")
    return lines


class SpaceLayer(Layer):
    """Coworking spaces of one type: SVG circle markers built in the browser from one array.

    Each row is ``[lat, lon, tooltip_html, popup_html, name]`` (HTML escaped in Python; the
    plain name feeds the search box as text). The markers carry ``className`` (e.g.
    ``cws-space cws-type-2``) and sit in the ``cws-spaces`` pane, above every other layer.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = (function () {
        var rows = {{ this.rows_js }}, group = L.featureGroup();
        var index = window.cwsSpaces = window.cwsSpaces || [];
        for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            var mk = L.circleMarker([r[0], r[1]], {pane: "cws-spaces",
                radius: {{ this.radius }}, color: {{ this.outline|tojson }}, weight: 1.5,
                fill: true, fillColor: {{ this.color|tojson }}, fillOpacity: 0.95,
                className: {{ this.css|tojson }}})
             .bindTooltip(r[2], {sticky: true}).bindPopup(r[3], {maxWidth: 340})
             .addTo(group);
            index.push({name: r[4], marker: mk, layer: group});
        }
        return group;
    })();
{% endmacro %}
""")

    def __init__(self, rows: list[list[Any]], *, name: str, css: str, color: str,
                 radius: float = SPACE_RADIUS["innovation"]) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=True)
        self._name = "cws_spaces"
        self.rows_js = _js_data(rows)
        self.css = css
        self.color = _color(color)
        self.outline = SPACE_OUTLINE
        self.radius = float(radius)
        in_group(self, "Spaces")


def _buzz_formatter(values: pd.Series) -> Any:
    """Format a local buzz value with its meaning, its percentile and the spread over spaces."""
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if not v.size:
        return lambda x: format_value(x, "places_buzz")
    med, lo, hi = (float(np.median(v)), float(v.min()), float(v.max()))

    def fmt(x: Any) -> str | None:
        text = format_value(x, "places_buzz")
        if text is None:
            return None
        pct = round(100.0 * float((v <= float(x)).mean()))
        return (f"{text}: places nearby weighted by walking distance; higher than {pct}% of "
                f"the {v.size} spaces (median {_number(med)}, range {_number(lo)}–"
                f"{_number(hi)})")
    return fmt


def _space_rows(sub: gpd.GeoDataFrame, present: Sequence[tuple[str, str]],
                formatters: Mapping[str, Any]) -> list[list[Any]]:
    """Rows ``[lat, lon, tooltip, popup, name]`` of located spaces (EPSG:4326)."""
    names = sub["name"] if "name" in sub else pd.Series("", sub.index)
    rows = []
    for g, name, *vals in zip(sub.geometry, names, *[sub[c] for c, _ in present], strict=True):
        text = as_text(name)
        cells = [(lab, formatters[col](v) if col in formatters else format_value(v, col))
                 for (col, lab), v in zip(present, vals, strict=True)]
        rows.append([round(g.y, 6), round(g.x, 6), html.escape(text), popup_html(text, cells),
                     text])
    return rows


def add_spaces(m: folium.Map, spaces: gpd.GeoDataFrame,
               popup_fields: Mapping[str, str] | None = None,
               counts_total: bool = True, radius: float = SPACE_RADIUS["innovation"]
               ) -> list[tuple[str, str, str]]:
    """Add one toggleable layer of circle markers per innovation type (unclassified included).

    Markers are SVG paths with classes ``cws-space cws-type-<1|2|3|none>`` in their own pane,
    above every other layer. When no space has a type, only the unclassified layer is made.

    Parameters
    ----------
    m
        The map.
    spaces
        Coworking spaces; unlocated rows (empty geometry) are counted but not drawn.
        ``innovation_type`` may be float (NaN) or nullable integer (``pd.NA``).
    popup_fields
        Column -> label shown in each popup (default :data:`SPACE_POPUP_FIELDS`: address,
        district, barri, type, geocoding and, when the columns exist, the proximity metrics).
        Values are formatted by :func:`format_value` from the column name; the local buzz
        also gets its meaning and its place among the spaces.
    counts_total
        Legend counts show located / total when some spaces are unlocated.
    radius
        Marker radius (px).

    Returns
    -------
    list
        Legend items ``(colour, label, count)``.
    """
    setup_page(m)
    fields = dict(popup_fields or SPACE_POPUP_FIELDS)
    sp = spaces.to_crs(settings.crs_store)
    keys = _types(sp)
    located = located_mask(sp)
    present = [(col, label) for col, label in fields.items() if col in sp.columns]
    formatters = {"places_buzz": _buzz_formatter(sp.loc[located, "places_buzz"])} if (
        "places_buzz" in sp.columns) else {}
    typed = any(k is not None for k in keys)
    items: list[tuple[str, str, str]] = []
    for key in (*INNOVATION_TYPES, None) if typed else (None,):
        mask = np.array([k == key for k in keys], dtype=bool)
        n_all = int(mask.sum())
        sub = sp[mask & located]
        label = type_label(key)
        count = f"{len(sub)}" + (f" of {n_all}" if counts_total and n_all != len(sub) else "")
        items.append((INNOVATION_COLORS[key], label, count))
        css = f"cws-space cws-type-{key if key is not None else 'none'}"
        m.add_child(SpaceLayer(_space_rows(sub, present, formatters),
                               name=f"{label} ({len(sub)})", css=css,
                               color=INNOVATION_COLORS[key], radius=radius))
    return items


def add_innovation_legend(m: folium.Map, items: Sequence[tuple[str, str, Any]],
                          n_spaces: int | None = None) -> None:
    """Add the legend of the innovation types (items from :func:`add_spaces`).

    With only the unclassified item (no space has a type), the legend says so, how to add
    types, and what the colours will mean.
    """
    types = "; ".join(f"{type_label(k)}" for k in INNOVATION_TYPES)
    if len(items) == 1:
        n = f"{n_spaces:,}" if n_spaces is not None else "the"
        add_legend(m, "Coworking spaces", items, order=0, css_class="cws-legend-spaces",
                   warning=f"No innovation types in this inventory: all {n} spaces "
                           "unclassified. Add an innovation_type column (1, 2 or 3) to colour "
                           "them.", note=f"Types of the Barcelona CWS study: {types}.")
        return
    add_legend(m, "Innovation type", items, order=0, css_class="cws-legend-spaces",
               note="Types after the Barcelona CWS study: 1 = no innovative community, "
                    "2 = innovative communities, 3 = highly innovative communities.")


def missing_spaces(spaces: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    """``(name, why not on the map)`` of the spaces without a location (for the search box)."""
    gone = spaces.loc[~located_mask(spaces)]
    names = gone["name"] if "name" in gone else pd.Series("", gone.index)
    return [(as_text(n), r) for n, r in
            zip(names.tolist(), unlocated_reasons(gone, UNLOCATED_REASONS), strict=True)]

