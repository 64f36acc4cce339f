"""Overlays of the maps: transit stops, places, kernel density bands and walking areas.

Each is a toggleable layer with a legend shown while it is on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.map import Layer

from ..._text import as_text
from ...schema import INNOVATION_TYPES
from .display import DisplayStore, display_geojson, radial_outlines
from .furniture import add_legend, setup_page
from .layers import (
    GeoJsonLayer,
    OutlineLayer,
    PointLayer,
    add_point_layer,
    point_rows,
    require_markercluster,
)
from .palette import (
    INNOVATION_COLORS,
    MANY_FEATURES,
    PLACE_COLORS,
    PLACE_LABELS,
    PLACE_RADIUS,
    TRANSIT_COLORS,
    TRANSIT_DEFAULT_RADIUS,
    TRANSIT_LABELS,
    TRANSIT_RADIUS,
    TRANSIT_SHOWN,
)
from .spaces import has_types, type_key, type_label
from .text import OTHER_COLOR, _color, format_value, popup_html

if TYPE_CHECKING:
    from ...analysis.density import KernelSurface

logger = logging.getLogger(__name__)

__all__ = ["add_kernel_bands", "add_places", "add_transit", "add_walk_areas"]


def _transit_order(mode: pd.Series, modes: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(mode))
    if modes is not None:
        return list(modes)
    return ([k for k in TRANSIT_COLORS if k in present]
            + [k for k in present if k not in TRANSIT_COLORS])


def _stop_texts(names: pd.Series, lines: pd.Series) -> list[str]:
    """Tooltip text of each stop (plain): its name and its lines."""
    texts = []
    for nm, ln in zip(names.tolist(), lines.tolist(), strict=True):
        ln_text = as_text(ln).replace(";", ", ")
        texts.append(as_text(nm) + (f" ({ln_text})" if ln_text else ""))
    return texts


def add_transit(m: folium.Map, transit: gpd.GeoDataFrame, *,
                modes: Sequence[str] | None = None,
                show: Iterable[str] = TRANSIT_SHOWN,
                store: DisplayStore | None = None) -> list[Layer]:
    """Add one toggleable layer of stops per transit mode, drawn on a canvas.

    Parameters
    ----------
    m
        The map.
    transit
        Stops in the schema of :func:`cwsgeo.analysis.layers.read_transit` (``mode``,
        ``name``, ``lines``); any CRS.
    modes
        Modes to draw, in this order (default: :data:`TRANSIT_COLORS` order, then any other
        mode present).
    show
        Modes shown when the map opens (bus is hidden by default: about 2,500 stops).
    store
        Where the stops' display coordinates are kept between builds.

    Returns
    -------
    list
        The layers added (one per mode with stops), for legends or the layer control.
    """
    setup_page(m)
    if "mode" not in transit.columns:
        raise ValueError("transit: no 'mode' column (see cwsgeo.analysis.layers.read_transit)")
    mode = transit["mode"].astype("string").str.strip().str.lower().fillna("other")
    shown = set(show)
    names = transit["name"] if "name" in transit.columns else pd.Series("", transit.index)
    lines = transit["lines"] if "lines" in transit.columns else pd.Series("", transit.index)
    layers: list[Layer] = []
    items: list[tuple[str, str, int]] = []
    for md in _transit_order(mode, modes):
        sel = (mode == md).to_numpy(dtype=bool)
        if not sel.any():
            continue
        sub = transit.loc[sel]
        label = TRANSIT_LABELS.get(md, md.title())
        color = TRANSIT_COLORS.get(md, OTHER_COLOR)
        kind = {"label": label, "color": color, "line": "#ffffff", "shape": "square",
                "r": TRANSIT_RADIUS.get(md, TRANSIT_DEFAULT_RADIUS)}
        pts = point_rows(sub, np.zeros(len(sub), dtype=int),
                         _stop_texts(names[sel], lines[sel]), store)
        layers.append(add_point_layer(m, PointLayer(
            pts, [kind], name=f"Transit: {label} ({pts['n']:,})", key=f"transit-{md}",
            show=md in shown)))
        items.append((color, label, pts["n"]))
    if layers:
        add_legend(m, "Transit stops", items, position="bottomright", layers=layers,
                   shape="square", note="Small squares: stations and stops; lines in the "
                                        "tooltips.", css_class="cws-legend-transit")
    logger.debug("transit layers: %s", ", ".join(f"{lab} {n}" for _, lab, n in items))
    return layers


def add_kernel_bands(m: folium.Map, bands: gpd.GeoDataFrame, *, name: str, title: str,
                     note: str = "", show: bool = False, key: str = "kernel",
                     tolerance_m: float = 10.0, store: DisplayStore | None = None,
                     group: str = "Context") -> Layer:
    """Add kernel density bands (filled contours) as one toggleable layer with its legend.

    Parameters
    ----------
    m
        The map.
    bands
        Band polygons from :func:`cwsgeo.analysis.density.surface_contours` (``label``,
        ``color``, ``units``, ``level_min``; one row per band, lowest first).
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
    store
        Where the simplified bands are kept between builds.
    group
        Group of the layer control.

    Returns
    -------
    Layer
    """
    setup_page(m)
    units = str(bands["units"].iloc[0]) if len(bands) and "units" in bands else ""
    props = [{"fc": _color(str(row.color)),
              "tip": popup_html(title, [("Density", f"{row.label} {units}".strip())])}
             for row in bands.itertuples()]
    data = display_geojson(bands, (), tolerance_m=tolerance_m, properties=props, store=store)
    layer = GeoJsonLayer(data, name=name, pane="cws-kernel", show=show, group=group,
                         style={"stroke": True, "color": "#ffffff", "weight": 0.4,
                                "opacity": 0.6, "fillOpacity": 0.55,
                                "className": f"cws-kernel cws-kernel-{key}"})
    m.add_child(layer)
    items = [(str(row.color), str(row.label), None) for row in bands.itertuples()]
    add_legend(m, f"{title} ({units})" if units else title, items, note=note,
               position="bottomright", shape="square", layers=[layer],
               css_class=f"cws-legend-kernel cws-legend-kernel-{key}")
    return layer


def kernel_note(surface: KernelSurface | None, what: str) -> str:
    """Legend small print of a kernel density layer."""
    if surface is None:
        return "Kernel density; quantile classes."
    return (f"{surface.n_points:,} {what}; {surface.kernel} kernel, bandwidth "
            f"{surface.bandwidth_m:g} m, {surface.cell_m:g} m cells; quantile classes, as in "
            "the PNG figures.")


def _place_bands(places: gpd.GeoDataFrame, density: KernelSurface | gpd.GeoDataFrame | None,
                 boundary: Any, bands: gpd.GeoDataFrame | None
                 ) -> tuple[gpd.GeoDataFrame | None, KernelSurface | None]:
    """Kernel density bands of the places (given, contoured or computed) and their surface."""
    if isinstance(density, gpd.GeoDataFrame):
        return density, None
    if bands is not None:
        return bands, density
    surface = density
    if surface is None and boundary is not None and len(places):
        from ...analysis.density import kernel_density

        surface = kernel_density(places, boundary, name="places")
    if surface is None:
        return None, None
    from ...analysis.density import surface_contours

    return surface_contours(surface, boundary), surface


def _add_place_points(m: folium.Map, places: gpd.GeoDataFrame, show: bool,
                      store: DisplayStore | None) -> Layer:
    """Clustered points of the places, coloured by category, and their legend."""
    cat = places["category"].astype("string").str.strip().str.lower().fillna("other")
    order = [c for c in PLACE_COLORS if (cat == c).any()]
    order += sorted(set(cat) - set(order))
    index = {c: i for i, c in enumerate(order)}
    kinds: list[dict[str, Any]] = [{"label": PLACE_LABELS.get(c, c.replace("_", " ").capitalize()),
              "color": PLACE_COLORS.get(c, OTHER_COLOR), "line": "#8a8a8a",
              "r": PLACE_RADIUS}
             for c in order]
    names = places["name"] if "name" in places.columns else pd.Series("", places.index)
    texts = [as_text(v) for v in names.tolist()]
    pts = point_rows(places, np.array([index[c] for c in cat], dtype=int), texts, store)
    layer = add_point_layer(m, PointLayer(
        pts, kinds, name=f"Places of interaction ({pts['n']:,})", key="places", cluster=True,
        show=show))
    counts = cat.value_counts()
    add_legend(m, "Places of interaction", [(k["color"], k["label"], int(counts[c]))
                                            for c, k in zip(order, kinds, strict=True)],
               note="Small dots, grouped in grey clusters below zoom 18; category and name "
                    "in the tooltips.",
               position="bottomright", layers=[layer], css_class="cws-legend-places")
    return layer


def add_places(m: folium.Map, places: gpd.GeoDataFrame, *,
               density: KernelSurface | gpd.GeoDataFrame | None = None,
               boundary: Any = None, show_points: bool = False,
               show_density: bool = False, store: DisplayStore | None = None,
               bands: gpd.GeoDataFrame | None = None) -> list[Layer]:
    """Add places of interaction: a kernel density layer and clustered points.

    The points are one embedded array ``[lat, lon, category, name]`` turned into circle
    markers in the browser and clustered with Leaflet.markercluster (embedded from the
    ``xstatic-leaflet-markercluster`` package); below zoom 18 they are grouped in clusters.

    Parameters
    ----------
    m
        The map.
    places
        Places in the schema of :func:`cwsgeo.analysis.layers.read_places` (``category``,
        ``name``).
    density
        Kernel density of the places: a :class:`~cwsgeo.analysis.density.KernelSurface`
        (contoured here, quantile classes as in the figures) or ready band polygons from
        :func:`cwsgeo.analysis.density.surface_contours`. ``None``: computed from ``places``
        when ``boundary`` is given, else no density layer.
    boundary
        City polygon(s) for the kernel density when ``density`` is ``None``.
    show_points, show_density
        Layers shown when the map opens.
    store
        Where display geometry and coordinates are kept between builds.
    bands
        Band polygons already contoured from ``density`` (e.g. ``DensityResult.contours
        ["places"]``): drawn instead of contouring again.

    Returns
    -------
    list
        The layers added: density (if any), then points.
    """
    setup_page(m)
    if "category" not in places.columns:
        raise ValueError("places: no 'category' column (see cwsgeo.analysis.layers.read_places)")
    require_markercluster(m)
    layers: list[Layer] = []
    bands, surface = _place_bands(places, density, boundary, bands)
    if bands is not None and len(bands):
        layers.append(add_kernel_bands(
            m, bands, name="Places: kernel density", title="Places of interaction",
            note=kernel_note(surface, "places"), show=show_density, key="places",
            store=store))
    layers.append(_add_place_points(m, places, show_points, store))
    return layers


def _walk_area_spaces(areas: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame | None
                      ) -> list[tuple[str, int | None]]:
    """Name and innovation type of each walking area's space (joined on ``id``)."""
    info: dict[str, tuple[str, int | None]] = {}
    if spaces is not None and "id" in spaces.columns:
        types = spaces["innovation_type"] if "innovation_type" in spaces else pd.Series(
            pd.NA, spaces.index)
        names = spaces["name"] if "name" in spaces else spaces["id"]
        info = {str(i): (as_text(n), type_key(t))
                for i, n, t in zip(spaces["id"], names, types, strict=True)}
    return [info.get(str(i), (str(i), None)) for i in areas["id"].tolist()]


def _walk_area_props(areas: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame | None,
                     minutes: int) -> list[dict[str, Any]]:
    """Fill colour and tooltip of each walking area, from its space's name and type."""
    props = []
    for row, (name, key) in zip(areas.itertuples(), _walk_area_spaces(areas, spaces),
                                strict=True):
        rows = [("Space id", as_text(row.id)),
                ("Area", format_value(getattr(row, "area_km2", None), "area_km2")),
                ("Distances", format_value(getattr(row, "proximity_method", None),
                                           "proximity_method"))]
        props.append({"fc": INNOVATION_COLORS[key], "lc": INNOVATION_COLORS[key],
                      "tip": popup_html(f"{minutes}-minute walk from {name}", rows)})
    return props


def _walk_outlines(areas: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame | None, name: str,
                   show: bool, store: DisplayStore | None) -> Layer:
    """Many walking areas as compact outlines, one filled shape per innovation type."""
    data = radial_outlines(areas, store=store)
    keys: list[int | None] = [*INNOVATION_TYPES, None]
    code = {k: i for i, k in enumerate(keys)}
    types = [key for _, key in _walk_area_spaces(areas, spaces)]
    return OutlineLayer(data, [code[types[i]] for i in data["rows"]],
                        [INNOVATION_COLORS[k] for k in keys], name=name, pane="cws-walk",
                        show=show, group="Spaces",
                        style={"fillOpacity": 0.2})


def add_walk_areas(m: folium.Map, areas: gpd.GeoDataFrame,
                   spaces: gpd.GeoDataFrame | None = None, *, minutes: int | None = None,
                   show: bool = False, tolerance_m: float = 10.0,
                   store: DisplayStore | None = None) -> Layer:
    """Add each space's walking area (e.g. 10 minutes on foot) as one toggleable layer.

    Parameters
    ----------
    m
        The map.
    areas
        Polygons with ``id`` (the space's id) and geometry, e.g. from
        :func:`cwsgeo.analysis.proximity.walk_areas` (its ``minutes`` and ``area_km2``
        columns are used when present); any CRS.
    spaces
        The spaces, to name and colour each area by its space's innovation type (joined on
        ``id``).
    minutes
        Walking time shown in the label (default: the ``minutes`` column, else 10).
    show
        Shown when the map opens.
    tolerance_m
        Display simplification.
    store
        Where the simplified areas are kept between builds.

    Returns
    -------
    Layer
    """
    setup_page(m)
    if "id" not in areas.columns:
        raise ValueError("walk areas: no 'id' column (the id of each area's space)")
    if minutes is None:
        minutes = int(areas["minutes"].iloc[0]) if "minutes" in areas and len(areas) else 10
    note = "Reached on foot along the street network, coloured by the space's type."
    located = int((~(areas.geometry.isna() | areas.geometry.is_empty)).sum())
    layer: Layer
    if located > MANY_FEATURES:
        layer = _walk_outlines(areas, spaces, f"{minutes}-minute walking areas ({located:,})",
                               show, store)
        note += (f" {located:,} areas, each drawn as its reach in 16 directions, the areas of "
                 "a type merged into one shape; hover a space for its details.")
    else:
        data = display_geojson(areas, (), tolerance_m=tolerance_m,
                               properties=_walk_area_props(areas, spaces, minutes), store=store)
        layer = GeoJsonLayer(data, name=f"{minutes}-minute walking areas ({located})",
                             pane="cws-walk", show=show, group="Spaces",
                             style={"weight": 1, "opacity": 0.7, "fillOpacity": 0.08,
                                    "className": "cws-walk-area"})
    m.add_child(layer)
    keys = (1, 2, 3, None) if spaces is not None and has_types(spaces) else (None,)
    add_legend(m, f"{minutes}-minute walking areas",
               [(INNOVATION_COLORS[k], type_label(k), None) for k in keys], note=note,
               position="bottomright", shape="square", layers=[layer],
               css_class="cws-legend-walk")
    return layer
