"""Class breaks, colours and legend labels shared by the PNG figures and the web maps.

:func:`class_breaks` turns a column into a :class:`Classification` (mapclassify's schemes;
exact Fisher-Jenks in numpy), so the Folium maps reuse exactly the classes of the PNGs
(``Classification.to_dict()`` is JSON-ready, ``Classification.index`` feeds
``branca.colormap.StepColormap``). Colours are sampled from a matplotlib colormap.

Examples
--------
>>> import numpy as np
>>> from cwsgeo.analysis.density import class_breaks
>>> c = class_breaks(np.array([0, 0, 1, 2, 3, 10, 20.0]), scheme="fisher_jenks", k=3)
>>> c.bins
(3.0, 10.0, 20.0)
>>> c.labels
('0 – 3', '3 – 10', '10 – 20')
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LQ_BINS", "NODATA_COLOR", "ZERO_COLOR", "Classification", "class_breaks"]

#: Fill colour of areas without a value.
NODATA_COLOR = "#d9d9d9"
#: Fill colour of the class of zeros (``class_breaks(..., zero_class=...)``): near white, apart
#: from the no-data grey and from the lightest colour of every colormap used.
ZERO_COLOR = "#fbfbf7"
#: Class upper bounds for location quotients (1 = same share as the city).
LQ_BINS: tuple[float, ...] = (0.5, 0.8, 1.25, 2.0)

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


def _scheme_breaks(y: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Return the class upper bounds of ``y`` under ``scheme``."""
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



def _upper_bounds(y: np.ndarray, scheme: str, k: int, bins: Sequence[float] | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Return the upper bound of each class and the number of values in it.

    Empty classes are merged into the next one, except with fixed ``bins``.
    """
    uniq = np.unique(y)
    k_eff = min(k, uniq.size)
    if bins is not None:
        given = np.unique(np.asarray(bins, dtype=float))
        upper = np.unique(np.append(given[(given >= uniq[0]) & (given < uniq[-1])], uniq[-1]))
    elif k_eff == uniq.size:
        upper = uniq
    else:
        upper = np.unique(np.clip(_scheme_breaks(y, scheme, k_eff), uniq[0], uniq[-1]))
        if upper[-1] < uniq[-1]:
            upper = np.append(upper, uniq[-1])
    idx = np.minimum(np.searchsorted(upper, y, side="left"), upper.size - 1)
    counts = np.bincount(idx, minlength=upper.size)
    keep = counts > 0
    if not keep.all() and bins is None:
        upper = np.append(upper[:-1][keep[:-1]], upper[-1])
        idx = np.minimum(np.searchsorted(upper, y, side="left"), upper.size - 1)
        counts = np.bincount(idx, minlength=upper.size)
    return upper, counts


def _class_colors(cmap: str, upper: np.ndarray, bins: Sequence[float] | None
                  ) -> tuple[str, ...]:
    """Sample one colour per class from ``cmap`` (fixed bins keep the colour of their slot)."""
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    cm = mpl.colormaps[cmap]
    if bins is not None:
        # fixed bins keep fixed colours whatever the data (an LQ of 1 is always the middle)
        given = np.unique(np.asarray(bins, dtype=float))
        slots = np.searchsorted(given, upper, side="left")
        return tuple(to_hex(c) for c in cm(np.linspace(0.0, 1.0, given.size + 1)[slots]))
    if upper.size > 1:
        return tuple(to_hex(c) for c in cm(np.linspace(0.08, 1.0, upper.size)))
    return (to_hex(cm(0.6)),)


def _class_labels(lower: float, upper: np.ndarray, decimals: int | None) -> tuple[str, ...]:
    """Legend labels ``"lo – hi"`` (a single value when both ends print the same)."""
    d = _decimals([lower, *upper]) if decimals is None else decimals
    edges = [lower, *upper.tolist()]
    return tuple(
        _fmt(edges[i + 1], d) if edges[i] == edges[i + 1] or (
            i > 0 and _fmt(edges[i], d) == _fmt(edges[i + 1], d))
        else f"{_fmt(edges[i], d)} – {_fmt(edges[i + 1], d)}"
        for i in range(upper.size))


def class_breaks(values: Any, *, scheme: str = "fisher_jenks", k: int = 5,
                 cmap: str = "YlOrRd", units: str = "", column: str | None = None,
                 decimals: int | None = None,
                 bins: Sequence[float] | None = None,
                 zero_class: str | None = None) -> Classification:
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
    zero_class
        Label of a class of its own for values equal to 0 (e.g. ``"no space"``): zeros are
        kept apart from the scheme's classes, which classify the positive values only (a
        barri without a space is not lumped with barris that have one). The class is first,
        bounded by 0 and coloured :data:`ZERO_COLOR`; ignored when there is no zero, no
        positive value, or with ``bins``.

    Returns
    -------
    Classification
        With ``k = 0`` (no bins) when there is no finite value.

    Examples
    --------
    >>> c = class_breaks([1, 2, 3, 4], scheme="quantiles", k=2, units="per km²")
    >>> c.index, c.counts
    ([1.0, 2.5, 4.0], (2, 2))
    >>> z = class_breaks([0, 0, 0, 1, 2, 9], k=2, zero_class="no space")
    >>> z.labels, z.counts
    (('no space', '1 – 2', '2 – 9'), (3, 2, 1))
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
    if zero_class is not None and bins is None and (y == 0).any() and (y > 0).any():
        pos = class_breaks(y[y > 0], scheme=name, k=k, cmap=cmap, units=units, column=column,
                           decimals=decimals)
        return Classification(name, (0.0, *pos.bins), 0.0, (ZERO_COLOR, *pos.colors),
                              (zero_class, *pos.labels),
                              (int((y == 0).sum()), *pos.counts), units, column, cmap)
    upper, counts = _upper_bounds(y, name, k, bins)
    lower = float(np.min(y))
    return Classification(name, tuple(float(b) for b in upper), lower,
                          _class_colors(cmap, upper, bins), _class_labels(lower, upper, decimals),
                          tuple(int(c) for c in counts), units, column, cmap)
