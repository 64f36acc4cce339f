"""Static figures (PNG): classed choropleths and raster surfaces, and the density figures.

This module owns the look of cwsgeo's report figures: classed choropleths, raster surfaces,
legends with units, a scale bar and the source line, drawn with matplotlib's object API on an
Agg canvas (no ``pyplot``, no global state, no display needed) and written atomically through
:mod:`cwsgeo._io`. Class breaks come from :func:`cwsgeo.analysis.density.class_breaks`
(re-exported here), so the Folium maps reuse exactly the classification of the PNGs.

Figures are drawn in the coordinates of the frames they are given; pass frames in the work CRS
(:data:`cwsgeo.settings.crs_work`, metres) so that the scale bar is right and shapes are true.

Examples
--------
>>> import numpy as np
>>> from cwsgeo.outputs.figures import class_breaks
>>> c = class_breaks(np.array([0, 0, 1, 2, 3, 10, 20.0]), scheme="fisher_jenks", k=3)
>>> c.bins
(3.0, 10.0, 20.0)
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.colors import BoundaryNorm, ListedColormap

from .. import settings
from .._io import atomic_path
from ..analysis.density import (
    DENSITY_UNITS,
    NODATA_COLOR,
    Classification,
    DensityResult,
    class_breaks,
    clip_to_city,
)
from .labels import DEFAULT_LABELS, AreaLabels
from .tables import OutputFile

if TYPE_CHECKING:  # drawing modules are imported when a figure is drawn, not at import time
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

logger = logging.getLogger(__name__)

__all__ = [
    "NODATA_COLOR",
    "RESIDENTS_NOTE",
    "Classification",
    "choropleth_figure",
    "class_breaks",
    "credit_line",
    "density_figures",
    "save_figure",
    "surface_figure",
    "wrap_source",
    "write_density_figures",
]



def credit_line(attributions: Iterable[str], width: int = 150) -> str:
    """Return the source line printed under a figure from data credit lines.

    Parameters
    ----------
    attributions
        Credit lines (:func:`cwsgeo.build.sources.attributions` of the manifest).
    width
        Characters per printed line; at most two lines, the rest elided.

    Examples
    --------
    >>> credit_line(["Boundaries: City of X, CC BY 4.0 — data 2024"])
    'Sources: Boundaries: City of X, CC BY 4.0 — data 2024'
    >>> credit_line([])
    ''
    """
    lines = [a.strip() for a in attributions if a and a.strip()]
    if not lines:
        return ""
    return wrap_source("Sources: " + "; ".join(lines), width, max_lines=2)


def wrap_source(text: str, width: int, max_lines: int) -> str:
    r"""Return ``text`` wrapped at ``width`` characters in at most ``max_lines`` lines.

    Its own line breaks count as spaces; what does not fit ends in " …".

    Examples
    --------
    >>> print(wrap_source("Sources: a; b;\nc", 10, max_lines=2))
    Sources:
    a; b; c
    """
    import textwrap

    return "\n".join(textwrap.wrap(text, width, max_lines=max_lines, placeholder=" …"))


# -- drawing helpers ------------------------------------------------------------------------------
def _ring_codes(n: int) -> np.ndarray:
    from matplotlib.path import Path as MplPath

    codes = np.full(n, MplPath.LINETO, dtype=MplPath.code_type)
    codes[0] = MplPath.MOVETO
    codes[-1] = MplPath.CLOSEPOLY
    return codes


def _polygon_path(geom: Any) -> MplPath | None:
    """One compound matplotlib path (holes included) for a Polygon or MultiPolygon."""
    from matplotlib.path import Path as MplPath

    if geom is None or geom.is_empty:
        return None
    parts = shapely.get_parts(geom)
    verts, codes = [], []
    for poly in parts:
        if not isinstance(poly, shapely.Polygon):
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            if len(xy) < 3:
                continue
            verts.append(xy)
            codes.append(_ring_codes(len(xy)))
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _add_polygons(ax: Any, geoms: Sequence[Any], facecolors: Sequence[str] | str,
                  edgecolor: str = "white", linewidth: float = 0.3, zorder: float = 1) -> None:
    from matplotlib.collections import PathCollection

    paths, colors = [], []
    fc = [facecolors] * len(geoms) if isinstance(facecolors, str) else list(facecolors)
    for geom, color in zip(geoms, fc, strict=True):
        path = _polygon_path(geom)
        if path is not None:
            paths.append(path)
            colors.append(color)
    coll = PathCollection(paths, facecolors=colors, edgecolors=edgecolor,
                          linewidths=linewidth, zorder=zorder)
    ax.add_collection(coll)


def _add_outline(ax: Any, boundary: Any, color: str = "#333333", linewidth: float = 0.8) -> None:
    geoms = _geoms(boundary)
    for geom in geoms:
        for line in shapely.get_parts(shapely.boundary(geom)):
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=color, linewidth=linewidth, zorder=5)


def _geoms(obj: Any) -> list[Any]:
    if obj is None:
        return []
    if isinstance(obj, gpd.GeoDataFrame):
        return list(obj.geometry)
    if isinstance(obj, gpd.GeoSeries):
        return list(obj)
    return [obj]


def _nice_length(width_m: float) -> float:
    target = width_m / 5
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return step * power
    return power


def _add_scalebar(ax: Any) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    xs = x0 + 0.04 * (x1 - x0)
    ys = y0 + 0.04 * (y1 - y0)
    ax.plot([xs, xs + length], [ys, ys], color="black", linewidth=2.5, solid_capstyle="butt",
            zorder=6)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(xs + length / 2, ys + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=7, zorder=6)


def _new_figure(figsize: tuple[float, float]) -> tuple[Figure, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.06, 0.96, 0.86))
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax


def _finish(fig: Figure, ax: Any, title: str, subtitle: str | None, source: str,
            extent: tuple[float, float, float, float] | None) -> None:
    if extent is not None:
        x0, y0, x1, y1 = extent
        pad = 0.02 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    _add_scalebar(ax)
    fig.text(0.02, 0.975, title, ha="left", va="top", fontsize=12, fontweight="bold")
    if subtitle:
        fig.text(0.02, 0.935, subtitle, ha="left", va="top", fontsize=8.5, color="#444444")
    fig.text(0.02, 0.015, source, ha="left", va="bottom", fontsize=6.5, color="#555555")


def _add_points(ax: Any, points: Any, label: str | None, color: str = "#1f3a93",
                size: float = 9) -> None:
    geoms = [g for g in _geoms(points) if g is not None and not g.is_empty]
    if not geoms:
        return
    xy = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=color, edgecolors="white", linewidths=0.4,
               zorder=7, label=label)


# -- figures --------------------------------------------------------------------------------------
def choropleth_figure(gdf: gpd.GeoDataFrame, column: str, *, title: str, units: str,
                      classification: Classification | None = None,
                      scheme: str = "fisher_jenks", k: int = 5, cmap: str = "YlOrRd",
                      boundary: Any = None, points: Any = None,
                      points_label: str | None = None, subtitle: str | None = None,
                      source: str = "",
                      figsize: tuple[float, float] = (7.0, 7.0)) -> Figure:
    """Draw a classed choropleth with a legend in ``units``, a scale bar and a source line.

    Parameters
    ----------
    gdf
        Polygons, in a projected CRS (metres).
    column
        Column to classify and colour.
    title, units, subtitle
        Texts; ``units`` heads the legend (e.g. ``"spaces per km²"``).
    classification
        Use these breaks (e.g. the ones the web map uses); default: :func:`class_breaks` with
        ``scheme``, ``k`` and ``cmap``.
    scheme, k, cmap
        Classification used when ``classification`` is not given.
    boundary
        Outline drawn on top (GeoDataFrame, GeoSeries or shapely geometry).
    points, points_label
        Optional points drawn on top, with their legend label.
    source
        Source line at the bottom.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas; write it with :func:`save_figure`.
    """
    from matplotlib.patches import Patch

    cls = classification or class_breaks(gdf[column], scheme=scheme, k=k, cmap=cmap,
                                         units=units, column=column)
    fig, ax = _new_figure(figsize)
    colors = cls.color_of(gdf[column])
    _add_polygons(ax, list(gdf.geometry), colors)
    if boundary is not None:
        _add_outline(ax, boundary)
    if points is not None:
        _add_points(ax, points, points_label)
    handles = [Patch(facecolor=c, edgecolor="#999999", label=lab)
               for c, lab in zip(cls.colors, cls.labels, strict=True)]
    if (np.asarray(cls.classify(gdf[column])) < 0).any():
        handles.append(Patch(facecolor=NODATA_COLOR, edgecolor="#999999", label="no data"))
    if points is not None and points_label:
        handles.append(ax.collections[-1])
    ax.legend(handles=handles, title=units, loc="lower right", fontsize=7.5, title_fontsize=8,
              frameon=True, framealpha=0.9)
    _finish(fig, ax, title, subtitle, source, tuple(gdf.total_bounds))
    return fig


def surface_figure(values: np.ndarray, extent: tuple[float, float, float, float], *,
                   title: str, units: str, classification: Classification | None = None,
                   k: int = 6, cmap: str = "magma_r", boundary: Any = None,
                   points: Any = None, points_label: str | None = None,
                   subtitle: str | None = None, source: str = "",
                   figsize: tuple[float, float] = (7.0, 7.0)) -> Figure:
    """Draw a raster surface in classed colours, with optional points on top.

    Parameters
    ----------
    values
        2-D array, row 0 = north; NaN cells are transparent.
    extent
        ``(xmin, ymin, xmax, ymax)`` of the raster, in the CRS of ``boundary`` and ``points``.
    title, units, subtitle, source
        Texts; ``units`` heads the legend.
    classification
        Class breaks (e.g. those of the contour bands); default: quantiles of the positive
        values with ``k`` classes.
    k, cmap
        Number of classes and colormap used when ``classification`` is not given.
    boundary, points, points_label
        Outline and points drawn on top.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    finite = values[np.isfinite(values)]
    cls = classification or class_breaks(finite[finite > 0], scheme="quantiles", k=k,
                                         cmap=cmap, units=units)
    fig, ax = _new_figure(figsize)
    xmin, ymin, xmax, ymax = extent
    if cls.k:
        shown = np.where(np.isfinite(values) & (values >= cls.lower), values, np.nan)
        norm = BoundaryNorm([cls.lower, *cls.bins[:-1], np.inf], cls.k)
        ax.imshow(shown, extent=(xmin, xmax, ymin, ymax), origin="upper",
                  cmap=ListedColormap(list(cls.colors)), norm=norm, interpolation="nearest",
                  zorder=1)
    if boundary is not None:
        _add_outline(ax, boundary)
    if points is not None:
        _add_points(ax, points, points_label, color="#00a6d6", size=12)
    handles: list[Any] = [Patch(facecolor=c, edgecolor="#999999", label=lab)
                          for c, lab in zip(cls.colors, cls.labels, strict=True)]
    if points is not None and points_label:
        handles.append(ax.collections[-1])
    ax.legend(handles=handles, title=units, loc="lower right", fontsize=7.5, title_fontsize=8,
              frameon=True, framealpha=0.9)
    _finish(fig, ax, title, subtitle, source, extent)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Write a figure as PNG atomically and return the path.

    Parameters
    ----------
    fig
        A figure from this module (or any figure with a canvas).
    path
        Destination ``.png``; its folder is created.
    dpi
        Resolution.
    """
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", facecolor="white")
    logger.debug("wrote %s", path)
    return Path(path)


# -- density figures ------------------------------------------------------------------------------
def _figure_file(name: str, data: tuple[Any, ...], draw: Callable[[], Figure], dpi: int
                 ) -> OutputFile:
    return OutputFile(name, data, lambda path: save_figure(draw(), path, dpi=dpi))


def _simplified(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return table.assign(geometry=table.geometry.simplify(2.0))


def _grid_label(hexes: gpd.GeoDataFrame) -> str:
    n = f"{len(hexes):,} cells"
    if not len(hexes):
        return n
    first = str(hexes["hex_id"].iloc[0])
    if first.startswith("e"):
        return f"{n} of a hexagon grid, edge {first[1:].split('_')[0]} m"
    import h3

    if h3.is_valid_cell(first):
        return f"{n} of H3 resolution {h3.get_resolution(first)}"
    return n


def _choropleth_files(result: DensityResult, classes: dict[str, Classification], source: str,
                      dpi: int, labels: AreaLabels) -> list[OutputFile]:
    """Spaces per km² by district and by neighbourhood (in the city's words)."""
    n_spaces = len(result.spaces)
    files = []
    for level in ("districts", "barris"):
        label = labels.singular(level)
        cls = classes.get(f"{level}.spaces_per_km2")
        if cls is None:
            continue
        table = getattr(result, level)

        def draw(table: gpd.GeoDataFrame = table, label: str = label,
                 cls: Classification = cls) -> Figure:
            return choropleth_figure(
                _simplified(table), "spaces_per_km2",
                title=f"Coworking spaces per km² by {label}",
                subtitle=f"{n_spaces} located spaces; area from {settings.crs_work} geometry",
                units="spaces per km²", classification=cls, boundary=result.boundary,
                source=source)

        files.append(_figure_file(f"spaces_per_km2_{level}.png",
                                  (source, dpi, table[["spaces_per_km2"]], cls.to_dict(),
                                   n_spaces, settings.crs_work, label), draw, dpi))
    return files


#: Default note on the residents per hexagon (the build passes the city's source).
RESIDENTS_NOTE = "residents interpolated from the population units by area"


def _hex_files(result: DensityResult, classes: dict[str, Classification], source: str,
               dpi: int, residents_note: str) -> list[OutputFile]:
    """Places and residents per hexagon (cells clipped to the city)."""
    clipped: list[gpd.GeoDataFrame] = []  # clipped once, when the first figure is drawn

    def hexes_clipped() -> gpd.GeoDataFrame:
        if not clipped:
            clipped.append(result.hexes.assign(geometry=clip_to_city(
                result.boundary.iloc[0], result.hexes.geometry.to_numpy())))
        return clipped[0]

    grid = _grid_label(result.hexes)
    n_places = int(result.hexes["places"].sum()) if "places" in result.hexes else 0
    files = []
    for col, title, note in (
            ("places", "Places of interaction per hexagon", f"{n_places:,} places"),
            ("residents", "Residents per hexagon",
             residents_note)):
        cls = classes.get(f"hexes.{col}")
        if cls is None:
            continue

        def draw(col: str = col, title: str = title, note: str = note,
                 cls: Classification = cls) -> Figure:
            return choropleth_figure(hexes_clipped(), col, title=title, units=cls.units,
                                     classification=cls, boundary=result.boundary,
                                     subtitle=f"{note}; {grid}, clipped to the city",
                                     source=source)

        files.append(_figure_file(f"hex_{col}.png", (source, dpi, result.hexes[[col]],
                                                     cls.to_dict(), grid, note), draw, dpi))
    return files


def _kde_files(result: DensityResult, classes: dict[str, Classification], source: str,
               dpi: int) -> list[OutputFile]:
    """Kernel density of places with the spaces on top."""
    surf = result.kde_places.get("all")
    if surf is None:
        return []
    cls = classes.get("kde_places.all")
    n_spaces = len(result.spaces)

    def draw() -> Figure:
        return surface_figure(surf.values, surf.extent,
                              title="Kernel density of places, with coworking spaces",
                              units=DENSITY_UNITS, classification=cls,
                              boundary=result.boundary, points=result.spaces,
                              points_label=f"coworking spaces ({n_spaces})",
                              subtitle=f"{surf.n_points:,} places; {surf.kernel} kernel, "
                                       f"bandwidth {surf.bandwidth_m:g} m, {surf.cell_m:g} m "
                                       "cells", source=source)

    # the spaces are drawn on it: their positions are part of the data, not only their ids
    data = (source, dpi, surf, result.spaces.geometry.to_frame(),
            cls.to_dict() if cls is not None else None)
    return [_figure_file("kde_places_spaces.png", data, draw, dpi)]


def density_figures(result: DensityResult, *, source: str = "", dpi: int = 150,
                    labels: AreaLabels = DEFAULT_LABELS,
                    residents_note: str = RESIDENTS_NOTE) -> list[OutputFile]:
    """List the density PNG figures (see :func:`write_density_figures`), drawn when written.

    Parameters
    ----------
    result
        From :func:`cwsgeo.analysis.density.compute_densities`.
    source
        Source line printed under each figure.
    dpi
        Resolution.
    labels
        The city's words for its districts and neighbourhoods (figure titles).
    residents_note
        Where the residents per hexagon come from (the subtitle of ``hex_residents.png``).

    Returns
    -------
    list[OutputFile]
        Each with the data its figure shows, so unchanged figures can be left alone.
    """
    classes = result.classifications()
    return [*_choropleth_files(result, classes, source, dpi, labels),
            *_hex_files(result, classes, source, dpi, residents_note),
            *_kde_files(result, classes, source, dpi)]


def write_density_figures(result: DensityResult, folder: str | os.PathLike[str], *,
                          source: str = "", dpi: int = 150,
                          labels: AreaLabels = DEFAULT_LABELS) -> dict[str, Path]:
    """Write the density PNG figures into ``folder`` (the pipeline's ``figures/``).

    Figures: ``spaces_per_km2_districts.png``, ``spaces_per_km2_barris.png`` (classed
    choropleths, same breaks as ``density_classes.json``), ``hex_places.png``,
    ``hex_residents.png`` (counts per hexagon) and ``kde_places_spaces.png`` (kernel density of
    places with the spaces on top).

    Parameters
    ----------
    result
        From :func:`cwsgeo.analysis.density.compute_densities`.
    folder
        Output folder (created).
    source
        Source line printed under each figure.
    dpi
        Resolution.
    labels
        The city's words for its districts and neighbourhoods (figure titles).

    Returns
    -------
    dict[str, Path]
        File name -> path.
    """
    folder = Path(folder)
    out = [f.write(folder / f.name)
           for f in density_figures(result, source=source, dpi=dpi, labels=labels)]
    logger.info("density figures: %d PNG files in %s", len(out), folder)
    return {p.name: p for p in out}
