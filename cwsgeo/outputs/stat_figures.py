"""Figures of the statistics: Kd curves with their bands, comparisons by type, hot-spot maps.

Drawn like :mod:`cwsgeo.outputs.figures` (matplotlib's object API on an Agg canvas, no
``pyplot``), from the tidy frames of :mod:`cwsgeo.analysis.stats`; every figure states its n.

Examples
--------
>>> import numpy as np, pandas as pd
>>> d = np.arange(0, 3001, 10.0)
>>> curve = pd.DataFrame({"distance_m": d, "kd": np.exp(-d / 800) / 800,
...                       "local_lo": 0.0, "local_hi": 4e-4, "global_lo": 0.0,
...                       "global_hi": 5e-4})
>>> fig = kd_figure(curve, title="Kd of the spaces", subtitle="n = 134")
>>> len(fig.axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .figures import _add_outline, _add_polygons, _finish, _new_figure, wrap_source

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CLUSTER_COLORS", "band_text", "cluster_figure", "kd_figure", "type_comparison_figure"]

#: Colours of the hot-spot quadrants (only significant units are coloured).
CLUSTER_COLORS: dict[str, str] = {"HH": "#d7191c", "HL": "#fdae61", "LH": "#abd9e9",
                                  "LL": "#2c7bb6", "ns": "#eeeeee"}

#: Inches under the plot: tick labels, the axis label and the source lines.
_BOTTOM_IN = 0.85
#: Width of one character of the 6.5 pt source line, in points (DejaVu Sans, with a margin).
_SOURCE_CHAR_PT = 4.0

_CLUSTER_WORDS = {"HH": "hot spot (high among high)", "HL": "high among low",
                  "LH": "low among high", "LL": "cold spot (low among low)",
                  "ns": "not significant"}


def _plot_axes(figsize: tuple[float, float]) -> tuple[Figure, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    bottom = _BOTTOM_IN / figsize[1]  # room for the axis label and three source lines
    ax = fig.add_axes((0.11, bottom, 0.85, 0.86 - bottom))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    return fig, ax


def _titles(fig: Figure, title: str, subtitle: str | None, source: str) -> None:
    fig.text(0.02, 0.975, title, ha="left", va="top", fontsize=12, fontweight="bold")
    if subtitle:
        fig.text(0.02, 0.925, subtitle, ha="left", va="top", fontsize=8.5, color="#444444")
    fig.text(0.02, 0.015, _fitted(source, fig.get_figwidth()), ha="left", va="bottom",
             fontsize=6.5, color="#555555")


def _fitted(source: str, width_in: float) -> str:
    """Re-wrap the source line to the figure's width (at most three lines)."""
    return wrap_source(source, int(width_in * 72 / _SOURCE_CHAR_PT), max_lines=3)


def kd_figure(curve: pd.DataFrame, *, title: str, subtitle: str | None = None,
              source: str = "", label: str = "observed Kd",
              figsize: tuple[float, float] = (7.0, 4.2)) -> Figure:
    """Draw a Kd curve with its local (shaded) and global (dashed) confidence bands.

    Parameters
    ----------
    curve
        Columns ``distance_m``, ``kd`` and, when present, ``local_lo``/``local_hi`` and
        ``global_lo``/``global_hi`` (densities per metre).
    title, subtitle
        Texts above the plot (say n and the counterfactual in the subtitle).
    source
        Source line at the bottom.
    label
        Legend label of the observed curve.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _plot_axes(figsize)
    km = curve["distance_m"].to_numpy(dtype=float) / 1000.0
    scale = 1000.0  # densities per km read better than per metre
    if {"local_lo", "local_hi"} <= set(curve.columns):
        ax.fill_between(km, curve["local_lo"] * scale, curve["local_hi"] * scale,
                        color="#c6dbef", label="local 90 % band (5 %–95 %)", linewidth=0)
    if {"global_lo", "global_hi"} <= set(curve.columns):
        ax.plot(km, curve["global_hi"] * scale, color="#08519c", linestyle="--",
                linewidth=1.0, label="global 95 % band")
        ax.plot(km, curve["global_lo"] * scale, color="#08519c", linestyle="--",
                linewidth=1.0)
        above = curve["kd"].to_numpy() > curve["global_hi"].to_numpy()
        if above.any():
            ax.scatter(km[above], curve["kd"].to_numpy()[above] * scale, s=6,
                       color="#a50f15", zorder=4, label="above the global band (localized)")
    ax.plot(km, curve["kd"] * scale, color="#111111", linewidth=1.6, label=label, zorder=3)
    ax.set_xlabel("distance between the two points (km)")
    ax.set_ylabel("K-density (pairs per km, share)")
    ax.set_xlim(0, float(km.max()) if len(km) else 1.0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=7.5, framealpha=0.85, edgecolor="none")
    _titles(fig, title, subtitle, source)
    return fig


def type_comparison_figure(values: pd.DataFrame, *, metric: str, type_col: str,
                           title: str, units: str, subtitle: str | None = None,
                           source: str = "", labels: Mapping[Any, str] | None = None,
                           figsize: tuple[float, float] = (6.0, 4.0)) -> Figure:
    """Draw a metric's values by innovation type: points, median and quartiles, n under each.

    Parameters
    ----------
    values
        One row per space with ``metric`` and ``type_col``.
    metric, type_col
        Columns to plot.
    title, units, subtitle, source
        Texts (``units`` labels the y axis).
    labels
        Type -> label (default ``"type 1"`` …).
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _plot_axes(figsize)
    data = values[[metric, type_col]].dropna()
    types = sorted(pd.unique(data[type_col]).tolist())
    rng = np.random.default_rng(0)  # jitter only: the same picture every build
    names = []
    for i, kind in enumerate(types):
        y = data.loc[data[type_col] == kind, metric].to_numpy(dtype=float)
        x = i + rng.uniform(-0.18, 0.18, len(y))
        ax.scatter(x, y, s=10, color="#6baed6", alpha=0.7, edgecolors="none", zorder=2)
        if len(y):
            q1, med, q3 = np.percentile(y, [25, 50, 75])
            ax.plot([i - 0.3, i + 0.3], [med, med], color="#08306b", linewidth=2, zorder=3)
            ax.plot([i, i], [q1, q3], color="#08306b", linewidth=1, zorder=3)
        label = (labels or {}).get(kind, f"type {kind}")
        names.append(f"{label}\nn = {len(y)}")
    ax.set_xticks(range(len(types)), names, fontsize=8)
    ax.set_ylabel(units)
    _titles(fig, title, subtitle, source)
    return fig


def cluster_figure(units: gpd.GeoDataFrame, *, label_col: str = "cluster",
                   significant_col: str = "significant", title: str,
                   subtitle: str | None = None, boundary: Any = None,
                   source: str = "", figsize: tuple[float, float] = (7.0, 7.0)
                   ) -> Figure:
    """Map local Moran's I clusters: significant HH/LL/HL/LH units coloured, the rest grey.

    Parameters
    ----------
    units
        Polygons (work CRS, metres) with ``label_col`` (HH/LL/HL/LH) and ``significant_col``.
    label_col, significant_col
        Column names.
    title, subtitle, source
        Texts.
    boundary
        City outline drawn on top.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Patch

    fig, ax = _new_figure(figsize)
    sig = units[significant_col].fillna(False).astype(bool).to_numpy()
    labels = np.where(sig, units[label_col].astype(str).to_numpy(), "ns")
    colors = [CLUSTER_COLORS.get(lab, CLUSTER_COLORS["ns"]) for lab in labels]
    _add_polygons(ax, list(units.geometry), colors, edgecolor="#ffffff", linewidth=0.2)
    if boundary is not None:
        _add_outline(ax, boundary)
    shown = [k for k in CLUSTER_COLORS if (labels == k).any()]
    ax.legend(handles=[Patch(facecolor=CLUSTER_COLORS[k], edgecolor="#999999",
                             label=f"{_CLUSTER_WORDS[k]}: {int((labels == k).sum())}")
                       for k in shown], loc="lower right", fontsize=7.5, frameon=True)
    _finish(fig, ax, title, subtitle, source, tuple(units.total_bounds))
    return fig


def band_text(distances: Sequence[Sequence[float]]) -> str:
    """Word distance ranges: ``[[0, 450], [900, 1200]]`` -> ``"0–450 m and 900–1,200 m"``."""
    parts = [f"{a:,.0f}–{b:,.0f} m" for a, b in distances]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
