"""Static figures (PNG) and the class breaks that maps and figures share.

This module owns the look of cwsgeo's report figures: classed choropleths, raster surfaces,
legends with units, a scale bar and the source line, drawn with matplotlib's object API on an
Agg canvas (no ``pyplot``, no global state, no display needed) and written atomically through
:mod:`cwsgeo._io`. It also owns :func:`class_breaks`, which turns a column into class breaks,
colours and legend labels with mapclassify, so the Folium maps can reuse exactly the
classification of the PNGs (``Classification.to_dict()`` is JSON-ready, ``Classification.index``
feeds ``branca.colormap.StepColormap``).

Figures are drawn in the coordinates of the frames they are given; pass frames in the work CRS
(:data:`cwsgeo.settings.crs_work`, metres) so that the scale bar is right and shapes are true.

Examples
--------
>>> import numpy as np
>>> from cwsgeo.figures import class_breaks
>>> c = class_breaks(np.array([0, 0, 1, 2, 3, 10, 20.0]), scheme="fisher_jenks", k=3)
>>> c.bins
(3.0, 10.0, 20.0)
>>> c.labels
('0 – 3', '3 – 10', '10 – 20')
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pandas as pd
import shapely
from matplotlib.colors import BoundaryNorm, ListedColormap, to_hex

from ._cache import remember
from ._io import atomic_path

if TYPE_CHECKING:  # drawing modules are imported when a figure is drawn, not at import time
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

logger = logging.getLogger(__name__)

__all__ = [
    "NODATA_COLOR",
    "SOURCE_BCN",
    "Classification",
    "choropleth_figure",
    "class_breaks",
    "save_figure",
    "surface_figure",
]

#: Attribution line of the Barcelona boundaries and population (Ajuntament de Barcelona).
SOURCE_BCN = ("Font: Ajuntament de Barcelona (CartoBCN; Open Data BCN, Padró 1/1/2024), "
              "CC BY 4.0")
#: Fill colour of areas without a value.
NODATA_COLOR = "#d9d9d9"

#: Exact Fisher-Jenks runs on at most this many distinct values (weighted by their counts);
#: above it, on this many evenly spaced order statistics (deterministic, close to exact).
_FJ_MAX_N = 2000

_SCHEME_ALIASES = {
    "fisher_jenks": "fisher_jenks", "fisherjenks": "fisher_jenks", "natural_breaks": "fisher_jenks",
    "jenks": "fisher_jenks", "quantiles": "quantiles", "quantile": "quantiles",
    "equal_interval": "equal_interval", "equalinterval": "equal_interval",
    "head_tail_breaks": "head_tail_breaks", "headtailbreaks": "head_tail_breaks",
    "maximum_breaks": "maximum_breaks", "percentiles": "percentiles", "std_mean": "std_mean",
}


# -- class breaks ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Classification:
    """Class breaks, colours and labels of one variable (shared by PNG figures and web maps).

    Class ``i`` holds values ``v`` with ``bins[i-1] < v <= bins[i]`` (class 0: ``lower <= v <=
    bins[0]``), mapclassify's convention.

    Attributes
    ----------
    scheme
        mapclassify scheme used, e.g. ``"fisher_jenks"`` or ``"quantiles"``.
    bins
        Upper bound of each class, ascending; the last one is the maximum of the data.
    lower
        Minimum of the data (lower bound of the first class).
    colors
        One hex colour per class, light to dark.
    labels
        One legend label per class, e.g. ``"2.5 – 10"``.
    counts
        Number of values in each class.
    units
        Units shown in legends, e.g. ``"spaces per km²"``.
    column
        Name of the classified column, when known.
    cmap
        Matplotlib colormap the colours were sampled from.
    """

    scheme: str
    bins: tuple[float, ...]
    lower: float
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    counts: tuple[int, ...]
    units: str = ""
    column: str | None = None
    cmap: str = "YlOrRd"

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.bins)

    @property
    def index(self) -> list[float]:
        """``[lower, *bins]``: the ``index`` argument of ``branca.colormap.StepColormap``."""
        return [self.lower, *self.bins]

    def classify(self, values: Any) -> np.ndarray:
        """Return the class (0..k-1) of each value; -1 for missing values.

        Values outside ``[lower, bins[-1]]`` go to the first or last class.
        """
        arr = np.asarray(pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce"),
                         dtype=float)
        out = np.full(arr.shape, -1, dtype=int)
        if not self.bins:
            return out
        ok = np.isfinite(arr)
        out[ok] = np.minimum(np.searchsorted(np.asarray(self.bins), arr[ok], side="left"),
                             self.k - 1)
        return out

    def color_of(self, values: Any) -> list[str]:
        """Return the hex colour of each value (:data:`NODATA_COLOR` for missing values)."""
        palette = [*self.colors, NODATA_COLOR]
        return [palette[i] for i in self.classify(values)]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready mapping (for the web map's legend and colour scale)."""
        return {"column": self.column, "scheme": self.scheme, "k": self.k,
                "lower": self.lower, "bins": list(self.bins), "index": self.index,
                "colors": list(self.colors), "labels": list(self.labels),
                "counts": list(self.counts), "units": self.units, "cmap": self.cmap,
                "nodata_color": NODATA_COLOR}


def _decimals(values: Sequence[float]) -> int:
    """Decimals for labels: about 3 significant digits of the largest value, no trailing 0s."""
    finite = [float(v) for v in values if math.isfinite(v)]
    top = max((abs(v) for v in finite), default=0.0)
    if top == 0:
        return 0
    most = int(min(max(2 - math.floor(math.log10(top)), 0), 6))
    for d in range(most + 1):
        if all(round(v, d) == round(v, most) for v in finite):
            return d
    return most


def _fmt(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" if text.strip("-0.,") == "" else text


def _fisher_jenks(y: np.ndarray, k: int) -> np.ndarray:
    """Exact Fisher-Jenks breaks (minimum within-class sum of squares), vectorised numpy.

    Dynamic programming over the sorted distinct values weighted by their counts, O(k n²)
    array operations; mapclassify's own version needs numba to be fast.
    """
    if y.size > _FJ_MAX_N:
        y = np.quantile(y, np.linspace(0, 1, _FJ_MAX_N))
    u, w = np.unique(y, return_counts=True)
    n = u.size
    if k >= n:
        return u.astype(float)
    w = w.astype(float)
    s0 = np.concatenate([[0.0], np.cumsum(w)])
    s1 = np.concatenate([[0.0], np.cumsum(w * u)])
    s2 = np.concatenate([[0.0], np.cumsum(w * u * u)])
    start = np.arange(n)[:, None]
    end = np.arange(n)[None, :]
    valid = start <= end
    cnt = np.where(valid, s0[end + 1] - s0[start], 1.0)
    with np.errstate(invalid="ignore"):
        cost = (s2[end + 1] - s2[start]) - (s1[end + 1] - s1[start]) ** 2 / cnt
    cost = np.where(valid, np.maximum(cost, 0.0), np.inf)
    best = cost[0].copy()  # best[i]: one class holding values 0..i
    back = []
    cols = np.arange(n)
    for _ in range(1, k):
        prev = np.concatenate([[np.inf], best[:-1]])  # prev[j] = best split of 0..j-1
        total = prev[:, None] + cost
        arg = np.argmin(total, axis=0)
        best = total[arg, cols]
        back.append(arg)
    starts, i = [], n - 1
    for arg in reversed(back):
        j = int(arg[i])
        starts.append(j)
        i = j - 1
    return np.array([u[s - 1] for s in sorted(starts)] + [u[-1]], dtype=float)


def _breaks(y: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Return the class upper bounds of ``y``, memoised by content.

    Most columns of a rebuild after an inventory edit are unchanged, and Fisher-Jenks is
    O(k n²).
    """
    def compute() -> np.ndarray:
        breaks = _compute_breaks(y, scheme, k)
        breaks.setflags(write=False)
        return breaks

    key = (scheme, k, hashlib.sha256(np.ascontiguousarray(y, dtype=float).tobytes()).digest())
    return remember(_BREAKS, key, compute, size=256)


_BREAKS: dict[tuple[str, int, bytes], np.ndarray] = {}


def _compute_breaks(y: np.ndarray, scheme: str, k: int) -> np.ndarray:
    if scheme == "fisher_jenks":
        return _fisher_jenks(y, k)
    if scheme == "quantiles":
        # the same upper bounds as mapclassify.Quantiles, without importing it (slow)
        return np.unique(np.quantile(y, np.linspace(1.0 / k, 1.0, k)))
    import mapclassify

    with warnings.catch_warnings():
        # "not enough unique values" is expected and handled by the caller.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = mapclassify.classify(y, scheme=scheme, k=k)
    return np.asarray(result.bins, dtype=float)


def class_breaks(values: Any, *, scheme: str = "fisher_jenks", k: int = 5,
                 cmap: str = "YlOrRd", units: str = "", column: str | None = None,
                 decimals: int | None = None,
                 bins: Sequence[float] | None = None) -> Classification:
    """Classify a variable with mapclassify and return breaks, colours and legend labels.

    Parameters
    ----------
    values
        Numbers (array, list or Series); NaN and missing values are left out.
    scheme
        ``"fisher_jenks"`` (exact natural breaks, computed here in numpy; above 2,000
        values on 2,000 evenly spaced order statistics), ``"quantiles"``,
        ``"equal_interval"``, ``"head_tail_breaks"``, ``"maximum_breaks"``,
        ``"percentiles"`` or ``"std_mean"``.
    k
        Wanted number of classes. Fewer are returned when the data have fewer distinct values
        (duplicate breaks, e.g. quantiles of a column with many zeros, are merged).
    cmap
        Matplotlib colormap to sample the class colours from.
    units
        Units for legends.
    column
        Name of the column, recorded in the result.
    decimals
        Decimals of the labels (default: chosen from the magnitude of the breaks).
    bins
        Fixed upper bounds instead of a scheme (``scheme`` becomes ``"user_defined"``), e.g.
        ``(0.5, 0.8, 1.25, 2)`` for location quotients; the maximum closes the last class,
        bounds outside the data's range are dropped (empty classes inside it are kept), and
        each class keeps the colour of its slot in ``bins`` (a diverging colormap stays
        centred).

    Returns
    -------
    Classification
        With ``k = 0`` (no bins) when there is no finite value.

    Examples
    --------
    >>> c = class_breaks([1, 2, 3, 4], scheme="quantiles", k=2, units="per km²")
    >>> c.index, c.counts
    ([1.0, 2.5, 4.0], (2, 2))
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    name = ("user_defined" if bins is not None
            else _SCHEME_ALIASES.get(scheme.lower().replace("-", "_").replace(" ", "_")))
    if name is None:
        raise ValueError(f"unknown classification scheme {scheme!r}; "
                         f"known: {', '.join(sorted(set(_SCHEME_ALIASES.values())))}")
    y = np.asarray(pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()),
                                 errors="coerce"), dtype=float)
    y = y[np.isfinite(y)]
    if y.size == 0:
        return Classification(name, (), math.nan, (), (), (), units, column, cmap)
    uniq = np.unique(y)
    k_eff = min(k, uniq.size)
    slots: np.ndarray | None = None
    if bins is not None:
        given = np.unique(np.asarray(bins, dtype=float))
        upper = np.unique(np.append(given[(given >= uniq[0]) & (given < uniq[-1])], uniq[-1]))
    elif k_eff == uniq.size:
        upper = uniq
    else:
        upper = np.unique(np.clip(_breaks(y, name, k_eff), uniq[0], uniq[-1]))
        if upper[-1] < uniq[-1]:
            upper = np.append(upper, uniq[-1])
    lower = float(uniq[0])
    idx = np.minimum(np.searchsorted(upper, y, side="left"), upper.size - 1)
    counts = np.bincount(idx, minlength=upper.size)
    keep = counts > 0  # drop empty classes (merged into the next one), except fixed bins
    if not keep.all() and bins is None:
        upper = np.append(upper[:-1][keep[:-1]], upper[-1])
        idx = np.minimum(np.searchsorted(upper, y, side="left"), upper.size - 1)
        counts = np.bincount(idx, minlength=upper.size)
    cm = mpl.colormaps[cmap]
    if bins is not None:
        # fixed bins keep fixed colours whatever the data (an LQ of 1 is always the middle)
        slots = np.searchsorted(given, upper, side="left")
        colors = tuple(to_hex(c) for c in cm(np.linspace(0.0, 1.0, given.size + 1)[slots]))
    elif upper.size > 1:
        colors = tuple(to_hex(c) for c in cm(np.linspace(0.08, 1.0, upper.size)))
    else:
        colors = (to_hex(cm(0.6)),)
    bins = upper
    d = _decimals([lower, *bins]) if decimals is None else decimals
    edges = [lower, *bins.tolist()]
    labels = tuple(
        _fmt(edges[i + 1], d) if edges[i] == edges[i + 1] or (
            i > 0 and _fmt(edges[i], d) == _fmt(edges[i + 1], d))
        else f"{_fmt(edges[i], d)} – {_fmt(edges[i + 1], d)}"
        for i in range(bins.size))
    return Classification(name, tuple(float(b) for b in bins), lower, colors, labels,
                          tuple(int(c) for c in counts), units, column, cmap)


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
                      source: str = SOURCE_BCN,
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
                   subtitle: str | None = None, source: str = SOURCE_BCN,
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
