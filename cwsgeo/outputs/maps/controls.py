"""Controls and basemap pieces of the map pages, drawn by ``static/controls.js``.

* :class:`GroupedLayerControl` (:func:`add_layer_control`): Leaflet's layer control with the
  layers in foldable groups (:data:`~cwsgeo.outputs.maps.palette.LAYER_GROUPS`: Spaces,
  Context, Areas, Basemap) and a title bar that folds it (folded from the start on small
  screens). A layer's group is its ``cws_group`` attribute (see :func:`in_group`).
* :class:`OptInTiles`: OpenStreetMap tiles offered as a choice, never requested until chosen;
  offline, the first tile fails and the layer switches itself off with a short note.
* :class:`NameLabels` (:func:`add_name_labels`): permanent district, barri and street names
  of the offline basemap, each kind from its own zoom on.
* :func:`add_search`: find a space by name (located ones are zoomed to; the others say why
  they are not on the map).

Every text from data is escaped in Python (layer names) or handed over as a JSON string and
shown with ``textContent`` (labels, search results).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from ... import settings
from ..._text import as_text
from ..labels import DEFAULT_LABELS, AreaLabels
from .furniture import setup_page
from .palette import LAYER_GROUPS, OSM_TILES_ATTRIBUTION, OSM_TILES_URL
from .text import _js, _js_data, _layer_name

__all__ = ["GroupedLayerControl", "NameLabels", "OptInTiles", "add_layer_control",
           "add_name_labels", "add_search", "in_group"]

L = TypeVar("L", bound=Layer)

#: Zoom levels at which each kind of name label shows: (from, to).
LABEL_ZOOMS: dict[str, tuple[int, int]] = {"district": (11, 14), "barri": (14, 19),
                                           "street": (16, 19)}


def in_group(layer: L, group: str) -> L:
    """Put a layer in a group of the layer control (``Spaces``, ``Context``, ``Areas`` ...)."""
    layer.cws_group = group  # type: ignore[attr-defined]
    return layer


class GroupedLayerControl(MacroElement):
    """The layer control: every controllable layer of the map, in groups (see module notes)."""

    is_layer_control = True
    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsLayerControl({{ this._parent.get_name() }}, [
    {%- for name, open, layers in this.groups() %}
        {name: {{ name|tojson }}, open: {{ open|tojson }}, layers: [
        {%- for label, var in layers %}[{{ label }}, {{ var }}],{% endfor %}]},
    {%- endfor %}
    ], {{ this.options_js }});
{% endmacro %}
""")

    def __init__(self, fold: bool | str = "auto") -> None:
        super().__init__()
        self._name = "cws_layer_control"
        self.options_js = _js({"fold": fold})

    def groups(self) -> list[tuple[str, bool, list[tuple[str, str]]]]:
        """``(group, unfolded, [(label JSON, layer variable), ...])`` in the control's order."""
        parent = self._parent
        found: dict[str, list[tuple[str, str]]] = {}
        for item in parent._children.values() if parent is not None else ():
            if isinstance(item, Layer) and item.control:
                group = getattr(item, "cws_group", "Context")
                found.setdefault(group, []).append((_js(item.layer_name), item.get_name()))
        order = [*LAYER_GROUPS, *[g for g in found if g not in LAYER_GROUPS]]
        return [(g, LAYER_GROUPS.get(g, True), found[g]) for g in order if g in found]


def add_layer_control(m: folium.Map, fold: bool | str = "auto") -> GroupedLayerControl:
    """Add the grouped layer control (after every layer).

    Parameters
    ----------
    m
        The map.
    fold
        ``"auto"``: folded when the window is smaller than 1100 × 700 px; ``True``/``False``.

    Returns
    -------
    GroupedLayerControl
    """
    setup_page(m)
    control = GroupedLayerControl(fold)
    m.add_child(control, name="cws_layer_control")
    return control


class OptInTiles(Layer):
    """Network map tiles as a choice of the layer control, off (and never requested) at load."""

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsOptInTiles({{ this.url|tojson }}, {{ this.options_js }});
{% endmacro %}
""")

    def __init__(self, name: str = "OpenStreetMap tiles (needs internet)",
                 url: str = OSM_TILES_URL, attribution: str = OSM_TILES_ATTRIBUTION,
                 max_zoom: int = 19) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=False)
        self._name = "cws_tiles"
        self.url = url
        import html

        self.options_js = _js({"attribution": html.escape(attribution), "maxZoom": max_zoom,
                               "maxNativeZoom": 19, "cwsOptIn": True})
        in_group(self, "Basemap")


class NameLabels(Layer):
    """Permanent name labels ``[lat, lon, text, kind]``, shown by zoom (:data:`LABEL_ZOOMS`)."""

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsLabels({{ this._parent.get_name() }}, {{ this.rows_js }},
                                          {{ this.min_js }}, {{ this.max_js }});
{% endmacro %}
""")

    def __init__(self, rows: list[list[Any]], name: str = "Names of districts and neighbourhoods",
                 show: bool = True) -> None:
        super().__init__(name=_layer_name(name), overlay=True, control=True, show=show)
        self._name = "cws_labels"
        self.rows_js = _js_data(rows)
        self.min_js = _js({k: lo for k, (lo, _) in LABEL_ZOOMS.items()})
        self.max_js = _js({k: hi for k, (_, hi) in LABEL_ZOOMS.items()})
        in_group(self, "Basemap")


def _label_rows(table: gpd.GeoDataFrame, column: str, kind: str) -> list[list[Any]]:
    """``[lat, lon, name, kind]`` at a point inside each named polygon."""
    named = table[table[column].notna() & ~(table.geometry.isna() | table.geometry.is_empty)]
    pts = named.geometry.to_crs(settings.crs_work).representative_point().to_crs(
        settings.crs_store)
    return [[round(p.y, 5), round(p.x, 5), as_text(n), kind]
            for p, n in zip(pts, named[column], strict=True)]


def street_label_rows(streets: gpd.GeoDataFrame, top: int = 80,
                      column: str = "name") -> list[list[Any]]:
    """Labels of the ``top`` longest named streets, at the middle of their longest piece.

    Empty when the street lines carry no ``column`` (e.g. the walking network's edges).
    """
    if column not in streets.columns or not len(streets):
        return []
    work = streets.to_crs(settings.crs_work)
    names = work[column].astype("string").str.strip()
    work = work.assign(_name=names, _len=work.geometry.length)[names.notna() & (names != "")]
    if not len(work):
        return []
    longest = work.groupby("_name")["_len"].sum().nlargest(top).index
    pieces = dict(list(work[work["_name"].isin(longest)].groupby("_name", sort=False)))
    mids = gpd.GeoSeries(
        [pieces[name].sort_values("_len").geometry.iloc[-1].interpolate(0.5, normalized=True)
         for name in longest], crs=settings.crs_work).to_crs(settings.crs_store)
    return [[round(mid.y, 5), round(mid.x, 5), str(name), "street"]
            for mid, name in zip(mids, longest, strict=True)]


def add_name_labels(m: folium.Map, admin: Any, streets: gpd.GeoDataFrame | None = None,
                    labels: AreaLabels = DEFAULT_LABELS) -> NameLabels:
    """Add the district and neighbourhood names (and street names, if lines carry ``name``).

    ``labels``: the city's words for its areas (the layer's name).
    """
    setup_page(m)
    rows = (_label_rows(admin.districts, "district_name", "district")
            + _label_rows(admin.barris, "barri_name", "barri"))
    streets_rows = street_label_rows(streets) if streets is not None else []
    both = f"{labels.districts}, {labels.neighbourhoods}"
    if not streets_rows:
        both = both.replace(", ", " and ")
    layer = NameLabels(rows + streets_rows, name=f"Names of {both} and main streets"
                       if streets_rows else f"Names of {both}")
    m.add_child(layer)
    return layer


class _Search(MacroElement):
    _template = Template("""
{% macro script(this, kwargs) %}
    cwsSearch({{ this._parent.get_name() }}, {{ this.missing_js }});
{% endmacro %}
""")

    def __init__(self, missing: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "cws_search"
        self.missing_js = _js_data([list(x) for x in missing])


def add_search(m: folium.Map, missing: Iterable[tuple[str, str]] = ()) -> None:
    """Add the search box (spaces by name; ``missing``: ``(name, why not on the map)``)."""
    setup_page(m)
    m.add_child(_Search(list(missing)), name="cws_search")


def unlocated_reasons(spaces: pd.DataFrame, reasons: Mapping[str, str]) -> list[str]:
    """Why each unlocated space is not on the map (``geocode_status`` in plain words)."""
    status = (spaces["geocode_status"].astype("string") if "geocode_status" in spaces
              else pd.Series(pd.NA, spaces.index, dtype="string"))
    out = []
    for st in status.tolist():
        key = "" if st is pd.NA or st is None else str(st)
        out.append(reasons.get(key, f"not located ({key.replace('_', ' ')})" if key
                               else "no location"))
    return out


def located_mask(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Rows with a geometry."""
    return (~(gdf.geometry.isna() | gdf.geometry.is_empty)).to_numpy(dtype=bool)
