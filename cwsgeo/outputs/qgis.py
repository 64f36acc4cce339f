"""A QGIS project of the build's layers (``data/processed/cwsgeo.qgz``), written without QGIS.

The project references the GeoPackages of ``data/processed/`` by relative path (the folder
can be moved or zipped) and styles them like the web maps: spaces by innovation type
(:data:`~cwsgeo.outputs.maps.palette.INNOVATION_COLORS`), transit stops by mode and places by
category (the palettes of :mod:`cwsgeo.outputs.maps.palette`), and graduated choropleths of
districts and neighbourhoods (named in the city's words,
:class:`~cwsgeo.outputs.labels.AreaLabels`) with the density map's class breaks
(:meth:`~cwsgeo.analysis.density.DensityResult.classifications`). Layers sit in three groups,
*Spaces*, *Context* and *Areas*; the project CRS is the work CRS
(:data:`cwsgeo.settings.crs_work`, e.g. EPSG:25831 for Barcelona).

The XML is built with :mod:`xml.etree.ElementTree`, so every data-derived text (layer names,
category values and labels) is escaped; characters XML 1.0 cannot hold are dropped.
QGIS is not a dependency: the tests open the project with QGIS when it is installed.

Examples
--------
>>> layer = ProjectLayer("Stops", "context.gpkg", "transit", "Point", field="mode",
...                      categories=(Category("metro", "Metro", Symbol("marker", "#d7191c")),))
>>> b"Metro" in project_xml([ProjectGroup("Context", (layer,))])
True
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from xml.etree import ElementTree as ET

from .. import settings
from .._io import atomic_path, write_gpkg
from ..analysis.density import NODATA_COLOR
from .labels import DEFAULT_LABELS, AreaLabels
from .maps.density import DENSITY_METRICS
from .maps.palette import (
    INNOVATION_COLORS,
    PLACE_COLORS,
    PLACE_LABELS,
    TRANSIT_COLORS,
    TRANSIT_LABELS,
    TRANSIT_RADIUS,
    TRANSIT_SHOWN,
)
from .maps.spaces import type_label
from .maps.text import OTHER_COLOR

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from ..analysis.density import Classification, DensityResult

__all__ = [
    "Category",
    "ProjectGroup",
    "ProjectLayer",
    "Range",
    "Symbol",
    "categories_of",
    "cwsgeo_layers",
    "cwsgeo_project",
    "graduated_ranges",
    "innovation_categories",
    "project_xml",
    "write_context_gpkg",
    "write_qgis_project",
    "write_qgz",
]

#: Version written in the project (the oldest QGIS it is tested with: Debian 12's).
QGIS_VERSION = "3.22.0"
#: Characters XML 1.0 cannot carry, even escaped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@dataclass(frozen=True)
class Symbol:
    """A simple QGIS marker (circle) or fill symbol; sizes in pixels, like the web maps.

    Attributes
    ----------
    kind
        ``"marker"`` or ``"fill"``.
    color
        Fill colour (hex; anything else becomes grey).
    outline
        Outline colour (hex).
    outline_width
        Outline width, pixels.
    size
        Marker diameter, pixels.
    fill_alpha, outline_alpha
        Opacities, 0-1.
    shape
        Marker shape (QGIS SimpleMarker name): ``"circle"`` (spaces, places) or
        ``"square"`` (transit stops, as on the web maps).
    """

    kind: Literal["marker", "fill"]
    color: str
    outline: str = "#ffffff"
    outline_width: float = 1.0
    size: float = 10.0
    fill_alpha: float = 1.0
    outline_alpha: float = 1.0
    shape: str = "circle"


@dataclass(frozen=True)
class Category:
    """One class of a categorised renderer.

    Attributes
    ----------
    value
        Value of the field (as text); ``None`` matches missing values (and any value no
        other category holds).
    label
        Legend label.
    symbol
        How its features are drawn.
    shown
        Drawn when the project opens (hidden categories stay in the legend, unticked).
    """

    value: str | None
    label: str
    symbol: Symbol
    shown: bool = True


@dataclass(frozen=True)
class Range:
    """One class of a graduated renderer: ``lower <= value <= upper``."""

    lower: float
    upper: float
    label: str
    symbol: Symbol


@dataclass(frozen=True)
class ProjectLayer:
    """A GeoPackage layer of the project and its style.

    Attributes
    ----------
    name
        Name in the layers panel.
    source
        GeoPackage file, relative to the project's folder.
    layer
        Layer inside the GeoPackage.
    geometry
        ``"Point"`` or ``"Polygon"`` (multi-geometries included).
    field
        Field the categories or ranges apply to.
    categories, ranges
        A categorised renderer (``categories``), a graduated one (``ranges``), or else a
        single ``symbol``.
    symbol
        Symbol of a single-symbol layer.
    visible
        Ticked when the project opens.
    """

    name: str
    source: str
    layer: str
    geometry: Literal["Point", "Polygon"]
    field: str = ""
    categories: tuple[Category, ...] = ()
    ranges: tuple[Range, ...] = ()
    symbol: Symbol | None = None
    visible: bool = True


@dataclass(frozen=True)
class ProjectGroup:
    """A group of the layers panel (layers and groups, top first)."""

    name: str
    items: tuple[ProjectLayer | ProjectGroup, ...] = ()
    visible: bool = True
    expanded: bool = True


# -- styles -----------------------------------------------------------------------------------
def categories_of(values: pd.Series, colors: Mapping[str, str], labels: Mapping[str, str],
                  base: Symbol, shown: Iterable[str] | None = None) -> tuple[Category, ...]:
    """Return one category per distinct value of a column, coloured from a palette.

    Values are matched to the palette case- and space-insensitively (as the web maps do);
    the category keeps the stored value, so QGIS matches it exactly.

    Parameters
    ----------
    values
        The column.
    colors, labels
        Palette key -> colour / label (e.g. :data:`~cwsgeo.outputs.maps.palette.TRANSIT_COLORS`
        and ``TRANSIT_LABELS``); other values get grey and their own text.
    base
        Symbol whose colour is replaced per category.
    shown
        Palette keys drawn when the project opens (default: all).

    Returns
    -------
    tuple[Category, ...]
        In palette order, then other values alphabetically, then missing values.
    """
    present = [str(v) for v in values.dropna().unique()]
    order = {key: i for i, key in enumerate(colors)}

    def key(v: str) -> str:
        return v.strip().lower()

    present.sort(key=lambda v: (order.get(key(v), len(order)), v))
    keep = None if shown is None else set(shown)
    cats = [Category(v, labels.get(key(v), v), _recolor(base, colors.get(key(v), OTHER_COLOR)),
                     keep is None or key(v) in keep) for v in present]
    if values.isna().any():
        cats.append(Category(None, "No value", _recolor(base, OTHER_COLOR)))
    return tuple(cats)


def _recolor(base: Symbol, color: str) -> Symbol:
    return dataclasses.replace(base, color=color)


def graduated_ranges(cls: Classification, base: Symbol) -> tuple[Range, ...]:
    """Return the classes of a :class:`~cwsgeo.analysis.density.Classification` as ranges.

    Class ``i`` holds ``bins[i-1] < v <= bins[i]``; QGIS takes the first range with
    ``lower <= v <= upper``, so a value on a break falls in the same class as on the web map.
    """
    edges = [cls.lower, *cls.bins]
    return tuple(Range(edges[i], edges[i + 1], label, _recolor(base, color))
                 for i, (label, color) in enumerate(zip(cls.labels, cls.colors, strict=True)))


def innovation_categories(base: Symbol) -> tuple[Category, ...]:
    """Return the categories of innovation types 1-3 and unclassified, as on the web maps.

    Parameters
    ----------
    base
        Symbol whose colour is replaced by :data:`INNOVATION_COLORS`.
    """
    return tuple(Category(None if k is None else str(k), type_label(k),
                          _recolor(base, INNOVATION_COLORS[k])) for k in (1, 2, 3, None))


def _area_layers(result: DensityResult, level: str, label: str, visible_metric: str | None
                 ) -> ProjectGroup | None:
    """One graduated layer per density-map metric of a level (``districts`` or ``barris``)."""
    table = getattr(result, level)
    if table is None or not len(table):
        return None
    classes = result.classifications()
    width = 1.4 if level == "districts" else 0.7  # as choropleth.js
    base = Symbol("fill", NODATA_COLOR, "#ffffff", width, fill_alpha=0.72, outline_alpha=0.9)
    layers = []
    for col, mlabel in DENSITY_METRICS:
        cls = classes.get(f"{level}.{col}")
        if cls is None or col not in table.columns:
            continue
        layers.append(ProjectLayer(
            f"{label}: {mlabel}", f"{level}.gpkg", level, "Polygon", field=col,
            ranges=graduated_ranges(cls, base) if cls.k else (), symbol=base,
            visible=col == visible_metric))
    return ProjectGroup(label, tuple(layers), visible=visible_metric is not None,
                        expanded=visible_metric is not None) if layers else None


def cwsgeo_layers(result: DensityResult, transit: gpd.GeoDataFrame | None = None,
                  places: gpd.GeoDataFrame | None = None, *,
                  spaces_file: str = "coworking_spaces.gpkg",
                  context_file: str = "context.gpkg",
                  labels: AreaLabels = DEFAULT_LABELS) -> list[ProjectGroup]:
    """Return the groups of the build's project: Spaces, Context, Areas.

    Parameters
    ----------
    result
        The build's densities (districts, neighbourhoods and their class breaks).
    transit, places
        Stops and places (the categories are taken from their ``mode`` / ``category``);
        ``None`` leaves the layer out.
    spaces_file
        GeoPackage with layers ``coworking_spaces`` and ``walk_areas_10min``.
    context_file
        GeoPackage with layers ``transit`` and ``places`` (:func:`write_context_gpkg`).
    labels
        The city's words for its districts and neighbourhoods (group and layer names).

    Returns
    -------
    list[ProjectGroup]
        As the web maps: spaces and transit (not bus) shown; walking areas, places and the
        neighbourhoods hidden; the districts' spaces per km² shown.
    """
    dot = Symbol("marker", OTHER_COLOR, "#222222", 1.2, size=14.0, fill_alpha=0.9)  # layers.py
    walk = Symbol("fill", OTHER_COLOR, OTHER_COLOR, 1.0, fill_alpha=0.08, outline_alpha=0.7)
    spaces = ProjectGroup("Spaces", (
        ProjectLayer("Coworking spaces", spaces_file, "coworking_spaces", "Point",
                     field="innovation_type", categories=innovation_categories(dot)),
        ProjectLayer("10-minute walking areas", spaces_file, "walk_areas_10min", "Polygon",
                     field="innovation_type",
                     categories=tuple(Category(c.value, c.label, Symbol(
                         "fill", c.symbol.color, c.symbol.color, 1.0, fill_alpha=0.08,
                         outline_alpha=0.7)) for c in innovation_categories(walk)),
                     visible=False)))
    context: list[ProjectLayer] = []
    if transit is not None:
        stop = Symbol("marker", OTHER_COLOR, "#ffffff", 1.0, size=10.0, shape="square")
        cats = categories_of(transit["mode"], TRANSIT_COLORS, TRANSIT_LABELS, stop,
                             TRANSIT_SHOWN)
        cats = tuple(_transit_size(c) for c in cats)
        context.append(ProjectLayer("Transit stops", context_file, "transit", "Point",
                                    field="mode", categories=cats))
    if places is not None:
        place = Symbol("marker", OTHER_COLOR, "#555555", 1.0, size=8.0)
        context.append(ProjectLayer(
            "Places of interaction", context_file, "places", "Point", field="category",
            categories=categories_of(places["category"], PLACE_COLORS, PLACE_LABELS, place),
            visible=False))
    areas = [g for g in (_area_layers(result, "districts", labels.title("districts"),
                                      "spaces_per_km2"),
                         _area_layers(result, "barris", labels.title("barris"), None))
             if g is not None]
    return [spaces, ProjectGroup("Context", tuple(context)), ProjectGroup("Areas", tuple(areas))]


def _transit_size(cat: Category) -> Category:
    """Bus stops are smaller and outlined in their own colour (as on the web map)."""
    key = (cat.value or "").strip().lower()
    s = cat.symbol
    if key in TRANSIT_RADIUS:
        s = dataclasses.replace(s, outline=s.color, size=2 * TRANSIT_RADIUS[key])
    return Category(cat.value, cat.label, s, cat.shown)


# -- XML --------------------------------------------------------------------------------------
def _rgba(color: str, alpha: float = 1.0) -> str:
    """``"#rrggbb"`` -> QGIS's ``"r,g,b,a"`` (invalid colours become grey)."""
    m = _HEX.match(color) if isinstance(color, str) else None
    digits = (m.group(1) if m else OTHER_COLOR[1:])
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    r, g, b = (int(digits[i:i + 2], 16) for i in (0, 2, 4))
    a = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
    return f"{r},{g},{b},{round(255 * min(max(alpha * a, 0.0), 1.0))}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _options(parent: ET.Element, values: Mapping[str, str]) -> None:
    opt = _sub(parent, "Option", type="Map")
    for k, v in values.items():
        _sub(opt, "Option", name=k, type="QString", value=v)


def _symbol_xml(parent: ET.Element, name: str, s: Symbol) -> None:
    sym = _sub(parent, "symbol", type=s.kind, name=name, alpha="1", clip_to_extent="1",
               force_rhr="0")
    common = {"color": _rgba(s.color, s.fill_alpha),
              "outline_color": _rgba(s.outline, s.outline_alpha), "outline_style": "solid",
              "outline_width": f"{s.outline_width:g}", "outline_width_unit": "Pixel",
              "joinstyle": "round"}
    if s.kind == "marker":
        layer = _sub(sym, "layer", **{"class": "SimpleMarker", "pass": "0"}, enabled="1")
        _options(layer, {**common, "name": s.shape, "size": f"{s.size:g}", "size_unit": "Pixel",
                         "scale_method": "diameter"})
    else:
        layer = _sub(sym, "layer", **{"class": "SimpleFill", "pass": "0"}, enabled="1")
        _options(layer, {**common, "style": "solid"})


def _renderer_xml(parent: ET.Element, lay: ProjectLayer) -> None:
    if lay.categories:
        r = _sub(parent, "renderer-v2", type="categorizedSymbol", attr=lay.field,
                 symbollevels="0", enableorderby="0", forceraster="0")
        cats, syms = _sub(r, "categories"), _sub(r, "symbols")
        for i, c in enumerate(lay.categories):
            _sub(cats, "category", value="" if c.value is None else c.value, label=c.label,
                 symbol=str(i), render="true" if c.shown else "false")
            _symbol_xml(syms, str(i), c.symbol)
    elif lay.ranges:
        r = _sub(parent, "renderer-v2", type="graduatedSymbol", attr=lay.field,
                 graduatedMethod="GraduatedColor", symbollevels="0", enableorderby="0",
                 forceraster="0")
        ranges, syms = _sub(r, "ranges"), _sub(r, "symbols")
        for i, rg in enumerate(lay.ranges):
            _sub(ranges, "range", lower=repr(float(rg.lower)), upper=repr(float(rg.upper)),
                 label=rg.label, symbol=str(i), render="true")
            _symbol_xml(syms, str(i), rg.symbol)
    else:
        r = _sub(parent, "renderer-v2", type="singleSymbol", symbollevels="0",
                 enableorderby="0", forceraster="0")
        _symbol_xml(_sub(r, "symbols"), "0",
                    lay.symbol or Symbol("marker" if lay.geometry == "Point" else "fill",
                                         OTHER_COLOR))


def _srs(parent: ET.Element, authid: str) -> None:
    """Add a CRS as QGIS writes it (3.22 does not read a project's CRS from the code alone)."""
    from pyproj import CRS

    crs = CRS(authid)
    srs = _sub(parent, "spatialrefsys")
    _sub(srs, "wkt", crs.to_wkt())
    epsg = crs.to_epsg()
    if epsg is not None:
        _sub(srs, "srid", str(epsg))
    _sub(srs, "authid", authid)
    _sub(srs, "description", crs.name)


def _layer_id(i: int, name: str) -> str:
    return f"cws_{i:02d}_{re.sub(r'[^A-Za-z0-9]+', '_', name).strip('_').lower()[:40]}"


def _flatten(items: Sequence[ProjectLayer | ProjectGroup]) -> list[ProjectLayer]:
    out: list[ProjectLayer] = []
    for it in items:
        out += _flatten(it.items) if isinstance(it, ProjectGroup) else [it]
    return out


def _tree_xml(parent: ET.Element, items: Sequence[ProjectLayer | ProjectGroup],
              ids: Mapping[int, str]) -> None:
    for it in items:
        if isinstance(it, ProjectGroup):
            g = _sub(parent, "layer-tree-group", name=it.name,
                     checked="Qt::Checked" if it.visible else "Qt::Unchecked",
                     expanded="1" if it.expanded else "0")
            _tree_xml(g, it.items, ids)
            continue
        el = _sub(parent, "layer-tree-layer", id=ids[id(it)], name=it.name,
                  source=_source(it), providerKey="ogr", expanded="1" if it.visible else "0",
                  checked="Qt::Checked" if it.visible else "Qt::Unchecked")
        if it.categories:  # legend counts, as the web maps' legends
            opts = _sub(_sub(el, "customproperties"), "Option", type="Map")
            _sub(opts, "Option", name="showFeatureCount", type="int", value="1")


def _source(lay: ProjectLayer) -> str:
    return f"./{lay.source}|layername={lay.layer}"


def _maplayer_xml(parent: ET.Element, lay: ProjectLayer, layer_id: str) -> None:
    wkb = "Point" if lay.geometry == "Point" else "MultiPolygon"
    ml = _sub(parent, "maplayer", type="vector", geometry=lay.geometry, wkbType=wkb,
              hasScaleBasedVisibilityFlag="0", styleCategories="AllStyleCategories")
    _sub(ml, "id", layer_id)
    _sub(ml, "datasource", _source(lay))
    _sub(ml, "layername", lay.name)
    _srs(_sub(ml, "srs"), settings.crs_store)
    _sub(ml, "provider", "ogr", encoding="UTF-8")
    _renderer_xml(ml, lay)
    _sub(ml, "layerOpacity", "1")
    _sub(ml, "legend", type="default-vector", showLabelLegend="0")


def project_xml(groups: Sequence[ProjectGroup], *, title: str = "cwsgeo",
                extent: Sequence[float] | None = None, crs: str | None = None) -> bytes:
    """Return the ``.qgs`` XML of a project (UTF-8 bytes).

    Parameters
    ----------
    groups
        Groups of the layers panel, top first (drawn last).
    title
        Project title.
    extent
        ``(xmin, ymin, xmax, ymax)`` in ``crs`` the map opens on.
    crs
        Project CRS (default :data:`cwsgeo.settings.crs_work`, read now: metres).
    """
    crs = crs or settings.crs_work
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    _sub(root, "title", title)
    _srs(_sub(root, "projectCrs"), crs)
    layers = _flatten(groups)
    ids = {id(lay): _layer_id(i, lay.name) for i, lay in enumerate(layers)}
    _tree_xml(_sub(root, "layer-tree-group"), groups, ids)
    if extent is not None and all(math.isfinite(v) for v in extent):
        canvas = _sub(root, "mapcanvas", name="theMapCanvas")
        _sub(canvas, "units", "meters")
        ext = _sub(canvas, "extent")
        for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
            _sub(ext, tag, repr(float(v)))
        _sub(canvas, "rotation", "0")
        _srs(_sub(canvas, "destinationsrs"), crs)
        view = _sub(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
        box = _sub(view, "DefaultViewExtent", **dict(zip(
            ("xmin", "ymin", "xmax", "ymax"), (repr(float(v)) for v in extent), strict=True)))
        _srs(box, crs)
    pl = _sub(root, "projectlayers")
    for lay in layers:
        _maplayer_xml(pl, lay, ids[id(lay)])
    order = _sub(root, "layerorder")
    for lay in layers:
        _sub(order, "layer", id=ids[id(lay)])
    props = _sub(root, "properties")
    _sub(_sub(props, "Paths"), "Absolute", "false", type="bool")
    # QGIS 3.22 reads <projectCrs> only with this flag on
    _sub(_sub(props, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")
    _clean(root)
    ET.indent(root)
    return (b"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n")


def _clean(el: ET.Element) -> None:
    """Drop characters XML 1.0 cannot hold from all texts (ElementTree does the escaping)."""
    el.attrib = {k: _XML_INVALID.sub("", v) for k, v in el.attrib.items()}
    if el.text:
        el.text = _XML_INVALID.sub("", el.text)
    for child in el:
        _clean(child)


# -- files ------------------------------------------------------------------------------------
def write_qgz(xml: bytes, path: str | os.PathLike[str]) -> Path:
    """Write project XML as ``.qgz`` (a zip holding ``<stem>.qgs``) or ``.qgs``, atomically.

    The zip entry has a fixed date, so equal projects give equal files.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".qgs":
            tmp.write_bytes(xml)
        else:
            info = zipfile.ZipInfo(f"{path.stem}.qgs", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zipfile.ZipFile(tmp, "w") as zf:
                zf.writestr(info, xml)
    return path


def write_context_gpkg(transit: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
                       path: str | os.PathLike[str]) -> Path:
    """Write the transit stops and places as layers ``transit`` and ``places`` (EPSG:4326)."""
    return write_gpkg({"transit": transit.to_crs(settings.crs_store),
                       "places": places.to_crs(settings.crs_store)}, path)


def cwsgeo_project(result: DensityResult, folder: str | os.PathLike[str], *,
                   transit: gpd.GeoDataFrame | None = None,
                   places: gpd.GeoDataFrame | None = None,
                   title: str = "cwsgeo: coworking spaces",
                   labels: AreaLabels = DEFAULT_LABELS) -> bytes:
    """Return the XML of the build's QGIS project (see :func:`cwsgeo_layers`).

    Parameters
    ----------
    result
        The build's densities (class breaks; the districts give the initial extent).
    folder
        Folder of the GeoPackages, where the project goes.
    transit, places
        Stops and places written by :func:`write_context_gpkg` (their categories).
    title
        Project title (the build names the city: "cwsgeo: coworking spaces in <city>").
    labels
        The city's words for its districts and neighbourhoods (layer names).

    Returns
    -------
    bytes
        For :func:`write_qgz`; the project CRS is :data:`cwsgeo.settings.crs_work`.

    Raises
    ------
    FileNotFoundError
        A GeoPackage the project refers to is not in ``folder``.
    """
    groups = cwsgeo_layers(result, transit, places, labels=labels)
    missing = sorted({lay.source for lay in _flatten(groups)
                      if not (Path(folder) / lay.source).exists()})
    if missing:
        raise FileNotFoundError(f"QGIS project: layer files missing in {folder}: "
                                + ", ".join(missing))
    extent = None
    if result.districts is not None and len(result.districts):
        extent = [float(v) for v in result.districts.to_crs(settings.crs_work).total_bounds]
    return project_xml(groups, title=title, extent=extent, crs=settings.crs_work)


def write_qgis_project(result: DensityResult, path: str | os.PathLike[str], *,
                       transit: gpd.GeoDataFrame | None = None,
                       places: gpd.GeoDataFrame | None = None,
                       labels: AreaLabels = DEFAULT_LABELS) -> Path:
    """Write the build's QGIS project next to its GeoPackages (:func:`cwsgeo_project`).

    Parameters
    ----------
    result
        The build's densities.
    path
        Destination ``.qgz`` (or ``.qgs``), in the folder of the GeoPackages.
    transit, places
        Stops and places written by :func:`write_context_gpkg`.
    labels
        The city's words for its districts and neighbourhoods (layer names).

    Returns
    -------
    Path
    """
    xml = cwsgeo_project(result, Path(path).parent, transit=transit, places=places,
                         labels=labels)
    return write_qgz(xml, path)
