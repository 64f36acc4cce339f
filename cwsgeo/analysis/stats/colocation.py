r"""Co-location quotients: do spaces have cafés or stations as nearest neighbours unusually often.

All points of a study (the spaces and the places or stops they are compared with) form one
labelled population of ``N`` points. For a subject category ``A`` and a target ``B``:

* the **global CLQ** (Leslie & Kronenfeld 2011) is the share of A's nearest neighbours that
  are B over B's share of the population a point of A could have as neighbour,

  .. math:: \mathrm{CLQ}_{A\to B} = \frac{C_{A\to B}/N_A}{N'_B/(N-1)},\qquad
     C_{A\to B} = \sum_{i\in A}\frac{\#\{j\in\mathrm{NN}(i): j\in B\}}{\#\mathrm{NN}(i)}

  with :math:`N'_B = N_B` (or :math:`N_A-1` when ``B`` is ``A``). ``NN(i)`` is the set of
  nearest neighbours of ``i``: the paper's rule for ties is that when several points are
  equally near (within ``tie_tol_m``, e.g. places at one address point) each counts as a
  fraction ``1/#NN(i)``. CLQ = 1 means no association, > 1 attraction, < 1 segregation.
  Significance: Monte Carlo random relabelling of the combined points (labels shuffled over
  the fixed locations, counts per category kept), the approach of the paper and of Wang et
  al. (2017); ``p_high = (1 + #{sim >= obs}) / (n_sims + 1)`` tests attraction, ``p_low``
  (``<=``) segregation.
* the **local CLQ** of each point ``i`` of A (Cromley et al. 2014; Wang et al. 2017) weighs
  its ``k`` nearest neighbours (self excluded) by an adaptive Gaussian kernel
  :math:`w_{ij} = \exp(-\tfrac12 d_{ij}^2 / h_i^2)`, ``h_i`` the distance to the ``k``-th
  neighbour (so the bandwidth follows the local density: a few metres in the old town, more
  at the edges), and divides the weighted share of B among them by :math:`N'_B/(N-1)`.
  ``k = 8`` by default (as ArcGIS Pro's colocation analysis): few enough to stay local,
  enough for the share to take more than two values; with ``k = 1`` the local CLQs average
  exactly to the global one (without ties). Ties at the ``k``-th distance are broken by
  the KD-tree's order; when all ``k`` neighbours coincide with ``i`` (``h_i = 0``) they weigh
  the same. Significance: conditional relabelling (point ``i`` keeps its label, the other
  ``N - 1`` labels are shuffled, as for local Moran's I), one-sided pseudo p-values per
  target.

Everything is vectorised around :class:`scipy.spatial.cKDTree`: the neighbour structure is
found once, each simulation only permutes labels (``bincount`` over the neighbour pairs).

References
----------
Leslie, T. F. & Kronenfeld, B. J. (2011). The colocation quotient: a new measure of spatial
association between categorical subsets of points. *Geographical Analysis* 43, 306-326.
Cromley, R. G., Hanink, D. M. & Bentley, G. C. (2014). Geographically weighted colocation
quotients: specification and application. *The Professional Geographer* 66(1), 138-148.
Wang, F., Hu, Y., Wang, S. & Li, X. (2017). Local indicator of colocation quotient with a
statistical significance test: examining spatial association of crime and facilities.
*The Professional Geographer* 69(1), 22-31.

Examples
--------
>>> import geopandas as gpd
>>> pts = gpd.GeoDataFrame({"label": ["spaces", "cafe", "spaces", "cafe", "bar"]},
...     geometry=gpd.points_from_xy([0, 1, 100, 101, 50], [0, 0, 0, 0, 80]), crs="EPSG:25831")
>>> res = global_clq(pts, a="spaces", n_sims=99, seed=1)
>>> res.table[["a", "b", "n_a", "n_b", "clq"]].to_dict("records")[0]
{'a': 'spaces', 'b': 'bar', 'n_a': 2, 'n_b': 1, 'clq': 0.0}
>>> float(res.table.set_index("b").loc["cafe", "clq"])
2.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ... import settings
from ._json import json_ready as _json

__all__ = ["CLQ_COLUMNS", "CLQResult", "LocalCLQResult", "colocation_points", "global_clq",
           "local_clq"]

#: Columns of :attr:`CLQResult.table`, in order.
CLQ_COLUMNS: tuple[str, ...] = ("a", "b", "n_a", "n_b", "n", "c_ab", "clq", "p_high",
                                "p_low", "n_sims", "seed")
#: Rows of permuted labels drawn at once in the global simulation.
_BATCH = 64
#: Spaces handled at once in the local simulation (bounds memory: chunk x n_sims x k).
_LOCAL_CHUNK = 512


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json(v) for k, v in row.items()} for row in table.to_dict("records")]


@dataclass(frozen=True, eq=False)
class CLQResult:
    """Global co-location quotients, one row per pair ``a -> b``.

    Attributes
    ----------
    table
        Columns ``a``, ``b`` (labels), ``n_a``, ``n_b`` (their counts), ``n`` (the
        population), ``c_ab`` (A points whose nearest neighbour is B, fractional with ties),
        ``clq``, ``p_high`` (attraction), ``p_low`` (segregation), ``n_sims`` and ``seed``.
    parameters
        The call's parameters (``tie_tol_m``, ``null``, ``type_column`` when the population
        was built by :func:`colocation_points` with one).
    """

    table: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: ``name``, ``parameters``, ``n``, ``seed``, ``pairs`` (rows)."""
        n = int(self.table["n"].iloc[0]) if len(self.table) else 0
        return {"name": "colocation_quotient", "statistic": "clq",
                "parameters": {k: _json(v) for k, v in self.parameters.items()},
                "n": n, "seed": _json(self.parameters.get("seed")),
                "pairs": _records(self.table)}


@dataclass(frozen=True, eq=False)
class LocalCLQResult:
    """Local co-location quotients of each point of the subject category.

    Attributes
    ----------
    table
        Indexed by the subject points' ids (``id`` column of the population, else row
        numbers): ``label``, ``bandwidth_m`` (distance to the ``k``-th neighbour), then per
        target ``b``: ``clq_<b>``, ``p_high_<b>``, ``p_low_<b>``.
    targets
        The targets ``b``, in column order.
    parameters
        The call's parameters (``k``, ``kernel``, ``n_sims``, ``seed``, ``null``,
        ``type_column``).
    n
        Size of the population.
    """

    table: pd.DataFrame
    targets: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    n: int = 0

    def to_dict(self, alpha: float = 0.05) -> dict[str, Any]:
        """JSON-ready summary per target: mean local CLQ and points significant at ``alpha``.

        Parameters
        ----------
        alpha
            Significance level of the counts ``n_high`` (``p_high <= alpha``) and ``n_low``.

        Returns
        -------
        dict
        """
        per_b = {}
        for b in self.targets:
            clq = self.table[f"clq_{b}"]
            per_b[b] = {"mean_clq": _json(float(clq.mean())) if len(clq) else None,
                        "median_clq": _json(float(clq.median())) if len(clq) else None,
                        "n_high": int((self.table[f"p_high_{b}"] <= alpha).sum()),
                        "n_low": int((self.table[f"p_low_{b}"] <= alpha).sum())}
        return {"name": "local_colocation_quotient", "statistic": "lclq",
                "parameters": {k: _json(v) for k, v in self.parameters.items()},
                "n": self.n, "n_a": len(self.table), "alpha": alpha,
                "seed": _json(self.parameters.get("seed")), "targets": per_b}


def _points_of(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """``frame``'s points in the work CRS; a clear error for rows without a point."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame, got {type(frame).__name__}")
    geom = frame.geometry
    bad = geom.isna() | geom.is_empty
    if bad.any():
        rows = [str(r) for r in frame.index[np.asarray(bad)][:5]]
        raise ValueError(f"{what}: rows {rows} have no point (of {int(bad.sum())}); keep only "
                         "located rows (e.g. location_precision exact/approximate)")
    if not (geom.geom_type == "Point").all():
        rows = [str(r) for r in frame.index[np.asarray(geom.geom_type != "Point")][:5]]
        raise ValueError(f"{what}: rows {rows} are not points")
    if frame.crs is not None and not frame.crs.is_projected:
        frame = frame.to_crs(settings.crs_work)
    return frame


def _type_labels(spaces: pd.DataFrame, type_column: str, space_label: str) -> pd.Series:
    if type_column not in spaces.columns:
        raise ValueError(f"spaces have no column {type_column!r} (the type column)")
    types = pd.to_numeric(spaces[type_column], errors="coerce")
    return pd.Series([f"{space_label}_type{int(t)}" if pd.notna(t) else
                      f"{space_label}_unclassified" for t in types], index=spaces.index)


def colocation_points(spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None,
                      transit: gpd.GeoDataFrame | None = None, *,
                      type_column: str | None = None, space_label: str = "spaces",
                      place_column: str = "category", transit_column: str = "mode"
                      ) -> gpd.GeoDataFrame:
    """Stack spaces, places and transit stops into one labelled population for the CLQs.

    Parameters
    ----------
    spaces
        Located coworking spaces (points; keep rows with ``location_precision`` exact or
        approximate). Their ``id`` column, or index, becomes the ``id`` of the result.
    places
        Places with a category column (:func:`cwsgeo.read_places`), or None.
    transit
        Transit stops with a mode column (:func:`cwsgeo.read_transit`), or None.
    type_column
        Split the spaces by innovation type read from this column (e.g.
        ``"innovation_type_estimated"``): labels ``spaces_type1`` ... and
        ``spaces_unclassified``; recorded in ``attrs["type_column"]`` and in the results.
        None: every space is ``space_label``.
    space_label
        Label of the spaces.
    place_column, transit_column
        Columns holding the places' category and the stops' mode (their labels).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``label``, ``source`` (``"spaces"``, ``"places"``, ``"transit"``), ``id``
        (the row's id in its source) and ``geometry``, in :data:`cwsgeo.settings.crs_work`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> s = gpd.GeoDataFrame({"id": ["s1"]}, geometry=gpd.points_from_xy([0], [0]),
    ...                      crs="EPSG:25831")
    >>> p = gpd.GeoDataFrame({"category": ["cafe", "bar"]},
    ...                      geometry=gpd.points_from_xy([5, 9], [0, 0]), crs="EPSG:25831")
    >>> colocation_points(s, p)[["label", "source", "id"]].values.tolist()
    [['spaces', 'spaces', 's1'], ['cafe', 'places', 0], ['bar', 'places', 1]]
    """
    parts = []
    spaces = _points_of(spaces, "spaces")
    ids = spaces["id"] if "id" in spaces.columns else spaces.index.to_series()
    labels = (_type_labels(spaces, type_column, space_label) if type_column
              else pd.Series(space_label, index=spaces.index))
    parts.append(("spaces", spaces, labels.to_numpy(dtype=object), ids.to_numpy()))
    for what, frame, col in (("places", places, place_column),
                             ("transit", transit, transit_column)):
        if frame is None:
            continue
        frame = _points_of(frame, what)
        if col not in frame.columns:
            raise ValueError(f"{what} have no column {col!r} (their labels)")
        lab = frame[col]
        if lab.isna().any():
            rows = [str(r) for r in frame.index[np.asarray(lab.isna())][:5]]
            raise ValueError(f"{what}: blank {col!r} in rows {rows}")
        parts.append((what, frame, lab.astype(str).to_numpy(dtype=object),
                      frame.index.to_numpy()))
    seen: dict[str, str] = {}
    for what, _, lab, _ in parts:
        for value in pd.unique(lab):
            if seen.setdefault(str(value), what) != what:
                raise ValueError(f"label {value!r} names both {seen[value]} and {what}")
    crs = settings.crs_work
    out = gpd.GeoDataFrame(
        {"label": np.concatenate([p[2] for p in parts]),
         "source": np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts]),
         "id": np.concatenate([p[3].astype(object) for p in parts])},
        geometry=gpd.GeoSeries(pd.concat([p[1].geometry.to_crs(crs) if p[1].crs is not None
                                          else p[1].geometry for p in parts],
                                         ignore_index=True).to_numpy(), crs=crs))
    out.attrs["type_column"] = type_column
    return out


def _population(points: gpd.GeoDataFrame, label_column: str
                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Coordinates (N x 2, metres), integer label codes and the label names of ``points``."""
    pts = _points_of(points, "points")
    if label_column not in pts.columns:
        raise ValueError(f"points have no column {label_column!r} (their labels)")
    lab = pts[label_column]
    if lab.isna().any():
        rows = [str(r) for r in pts.index[np.asarray(lab.isna())][:5]]
        raise ValueError(f"points: blank {label_column!r} in rows {rows}")
    if len(pts) < 3:
        raise ValueError(f"co-location quotients need at least 3 points, got {len(pts)}")
    codes, names = pd.factorize(lab.astype(str), sort=True)
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    if not np.isfinite(xy).all():
        raise ValueError("points: non-finite coordinates")
    return xy, codes.astype(np.int64), [str(n) for n in names]


def _labels_arg(value: str | Iterable[str] | None, names: list[str], what: str,
                default: Iterable[str]) -> list[str]:
    chosen = list(default) if value is None else (
        [value] if isinstance(value, str) else list(value))
    missing = [v for v in chosen if v not in names]
    if missing:
        raise ValueError(f"{what} {missing} not among the labels {names}")
    return chosen


def _nearest_with_ties(xy: np.ndarray, tol: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest-neighbour pairs ``(i, j, 1/#NN(i))`` with every tie (within ``tol`` metres)."""
    from scipy.spatial import cKDTree

    n = len(xy)
    tree = cKDTree(xy)
    dist, idx = tree.query(xy, k=2)
    own = np.arange(n)
    # the query may return a coincident point before the point itself: then the nearest is 0
    dmin = np.where(idx[:, 0] == own, dist[:, 1], dist[:, 0])
    lists = tree.query_ball_point(xy, r=dmin + tol, return_sorted=False)
    lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=n)
    rows = np.repeat(own, lens)
    cols = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(lens.sum()))
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    count = np.bincount(rows, minlength=n)
    return rows, cols, 1.0 / count[rows]


def _expected_share(n_b: np.ndarray, same: np.ndarray, n: int) -> np.ndarray:
    """B's share of the points an A point can have as neighbour: N'_B / (N - 1)."""
    return np.where(same, n_b - 1, n_b) / (n - 1)


def _pseudo_p(sims: np.ndarray, observed: np.ndarray, axis: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """One-sided pseudo p-values ``(1 + #{sim >= obs}) / (n + 1)`` and the ``<=`` side."""
    eps = 1e-9 * np.maximum(1.0, np.abs(observed))
    n = sims.shape[axis]
    high = (1 + (sims >= observed - eps).sum(axis=axis)) / (n + 1)
    low = (1 + (sims <= observed + eps).sum(axis=axis)) / (n + 1)
    return high, low


def global_clq(points: gpd.GeoDataFrame, *, a: str | Sequence[str] = "spaces",
               b: str | Sequence[str] | None = None, label_column: str = "label",
               n_sims: int = 999, seed: int = 2026, tie_tol_m: float = 1e-6) -> CLQResult:
    """Global co-location quotients ``a -> b`` with Monte Carlo significance.

    Parameters
    ----------
    points
        The whole population: labelled points (e.g. from :func:`colocation_points`); a
        geographic CRS is projected to :data:`cwsgeo.settings.crs_work`, no CRS means metres.
    a
        Subject label(s).
    b
        Target label(s); None: every label other than the subject's. A target equal to the
        subject gives its own clustering (denominator ``N_A - 1``).
    label_column
        Column of the labels.
    n_sims
        Random relabellings of the whole population (0: no p-values).
    seed
        Seed of the relabellings.
    tie_tol_m
        Neighbours within this many metres of the nearest distance are ties.

    Returns
    -------
    CLQResult
        One row per (a, b) pair, in the order given.

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame({"label": ["s", "c", "c", "s", "b", "b"]}, geometry=
    ...     gpd.points_from_xy([0, 1, -1, 50, 51, 80], [0, 0, 0, 0, 0, 0]), crs="EPSG:25831")
    >>> res = global_clq(pts, a="s", b=["c", "b"], n_sims=0)
    >>> res.table[["b", "c_ab", "clq"]].values.tolist()  # the first s has two tied c's
    [['c', 1.0, 1.25], ['b', 1.0, 1.25]]
    """
    if n_sims < 0 or int(n_sims) != n_sims:
        raise ValueError(f"n_sims must be a whole number >= 0, got {n_sims!r}")
    if not tie_tol_m >= 0:
        raise ValueError(f"tie_tol_m must be >= 0, got {tie_tol_m!r}")
    xy, codes, names = _population(points, label_column)
    subjects = _labels_arg(a, names, "a", [])
    targets = _labels_arg(b, names, "b", [x for x in names if x not in subjects])
    rows, cols, w = _nearest_with_ties(xy, tie_tol_m)
    k, n = len(names), len(codes)
    counts = np.bincount(codes, minlength=k)
    ia = np.array([names.index(x) for x in subjects for _ in targets], dtype=np.int64)
    ib = np.array([names.index(y) for _ in subjects for y in targets], dtype=np.int64)
    share = _expected_share(counts[ib], ia == ib, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 1.0 / (counts[ia] * share)

    observed = _pair_counts(codes[None, :], rows, cols, w, k)[0, ia * k + ib]
    sims = _relabelled_pairs(np.random.default_rng(seed), codes, rows, cols, w, k,
                             ia * k + ib, int(n_sims))
    if n_sims:
        p_high, p_low = _pseudo_p(sims, observed)
    else:
        p_high = p_low = np.full(len(ia), np.nan)
    table = pd.DataFrame({
        "a": [names[i] for i in ia], "b": [names[i] for i in ib],
        "n_a": counts[ia], "n_b": counts[ib], "n": n, "c_ab": observed,
        "clq": observed * scale, "p_high": p_high, "p_low": p_low,
        "n_sims": int(n_sims), "seed": seed}, columns=list(CLQ_COLUMNS))
    params = {"label_column": label_column, "n_sims": int(n_sims), "seed": seed,
              "tie_tol_m": tie_tol_m, "neighbours": "nearest (ties shared)",
              "null": "random relabelling of all points",
              "type_column": points.attrs.get("type_column")}
    return CLQResult(table=table, parameters=params)


def _relabelled_pairs(rng: np.random.Generator, codes: np.ndarray, rows: np.ndarray,
                      cols: np.ndarray, w: np.ndarray, k: int, cells: np.ndarray,
                      n_sims: int) -> np.ndarray:
    """``C`` of the wanted pairs of labels (``(n_sims, len(cells))``) for ``n_sims`` relabellings.

    ``cells``: ``label_a * k + label_b`` of each wanted pair. The relabellings are the rows
    of ``rng.permuted`` on ``codes`` repeated, in order; a PCG64 generator (``default_rng``'s)
    draws them in the compiled kernel (:func:`._shuffles.clq_counts`, the same draws and
    sums, only the wanted cells kept), any other (a Generator passed as ``seed``, or a numpy
    whose draws the kernel does not reproduce) in numpy, in batches of :data:`_BATCH` rows.
    """
    from ._shuffles import clq_counts, pcg64_state, set_pcg64_state

    wanted, column = np.unique(cells, return_inverse=True)
    state = pcg64_state(rng)
    if state is not None and len(codes) < 2**32:
        slot = np.full(k * k, -1, dtype=np.int64)
        slot[wanted] = np.arange(len(wanted))
        out = clq_counts(state, codes, rows, cols, w, k, slot, n_sims)
        set_pcg64_state(rng, state)
        return out[:, column]
    out = np.empty((n_sims, len(wanted)))
    for start in range(0, n_sims, _BATCH):
        m = min(_BATCH, n_sims - start)
        out[start:start + m] = _pair_counts(rng.permuted(np.tile(codes, (m, 1)), axis=1),
                                            rows, cols, w, k)[:, wanted]
    return out[:, column]


def _pair_counts(labels: np.ndarray, rows: np.ndarray, cols: np.ndarray, w: np.ndarray,
                 k: int) -> np.ndarray:
    """``C`` of every pair of labels for label rows: ``(batch, N) -> (batch, k * k)``."""
    m = len(labels)
    flat = labels[:, rows] * k + labels[:, cols] + (np.arange(m) * k * k)[:, None]
    return np.bincount(flat.ravel(), weights=np.tile(w, m),
                       minlength=m * k * k).reshape(m, k * k)


def _knn(xy: np.ndarray, subjects: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``k`` nearest other points of each subject: indices, distances."""
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(xy).query(xy[subjects], k=k + 1)
    keep = idx != subjects[:, None]
    keep[keep.all(axis=1), -1] = False  # self hidden behind coincident points: drop the last
    return idx[keep].reshape(len(subjects), k), dist[keep].reshape(len(subjects), k)


def _kernel_weights(dist: np.ndarray) -> np.ndarray:
    """Adaptive Gaussian weights, rows summing to 1 (bandwidth: the k-th distance)."""
    h = dist[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(h > 0, np.exp(-0.5 * (dist / np.where(h > 0, h, 1.0)) ** 2), 1.0)
    return w / w.sum(axis=1, keepdims=True)


def _random_subsets(rng: np.random.Generator, shape: tuple[int, ...], k: int, pool: int
                    ) -> np.ndarray:
    """Uniform random ``k``-subsets (ordered) of ``range(pool)``: array ``shape + (k,)``."""
    if k > pool:
        raise ValueError(f"k={k} neighbours but only {pool} other points")
    out = rng.integers(0, pool, size=(*shape, k))
    flat = out.reshape(-1, k)
    rows = np.arange(len(flat))  # rows to check: all, then only those drawn again
    while True:
        srt = np.sort(flat[rows], axis=1)
        rows = rows[(srt[:, 1:] == srt[:, :-1]).any(axis=1)]
        if not len(rows):
            return out
        if pool < 4 * k:  # small pools: exact permutations instead of rejection
            flat[rows] = np.argsort(rng.random((len(rows), pool)), axis=1)[:, :k]
        else:
            flat[rows] = rng.integers(0, pool, size=(len(rows), k))


def _local_p(rng: np.random.Generator, weights: np.ndarray, observed: np.ndarray,
             m_b: np.ndarray, n_sims: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Conditional-relabelling p-values (subjects x targets), drawn chunk by chunk.

    Under the null the ``k`` neighbours of a point carry a random ``k``-subset of the other
    ``N - 1`` labels, so a neighbour is B exactly when its draw from ``range(N - 1)`` falls
    below ``N'_B``: one set of draws per point serves every target.
    """
    high = np.full(observed.shape, np.nan)
    low = np.full(observed.shape, np.nan)
    if not n_sims:
        return high, low
    k = weights.shape[1]
    for s in np.array_split(np.arange(len(weights)),
                            max(1, math.ceil(len(weights) / _LOCAL_CHUNK))):
        r = _random_subsets(rng, (len(s), n_sims), k, n - 1)
        for t in range(observed.shape[1]):
            sim = np.einsum("isk,ik->is", r < m_b[s, t, None, None], weights[s])
            high[s, t], low[s, t] = _pseudo_p(sim, observed[s, t, None], axis=1)
    return high, low


def local_clq(points: gpd.GeoDataFrame, *, a: str | Sequence[str] = "spaces",
              b: str | Sequence[str] | None = None, label_column: str = "label", k: int = 8,
              n_sims: int = 999, seed: int = 2026) -> LocalCLQResult:
    """Local co-location quotients of each subject point, with permutation p-values.

    Parameters
    ----------
    points
        The whole population, as for :func:`global_clq`; an ``id`` column names the rows of
        the result.
    a
        Subject label(s): one row per point carrying one of them.
    b
        Target label(s); None: every label other than the subjects'.
    label_column
        Column of the labels.
    k
        Neighbours of the adaptive Gaussian kernel (bandwidth: distance to the ``k``-th).
    n_sims
        Conditional relabellings per point (0: no p-values).
    seed
        Seed of the relabellings.

    Returns
    -------
    LocalCLQResult

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame({"label": ["s", "c", "s", "b"], "id": ["s1", 0, "s2", 1]},
    ...     geometry=gpd.points_from_xy([0, 1, 50, 52], [0, 0, 0, 0]), crs="EPSG:25831")
    >>> res = local_clq(pts, a="s", k=1, n_sims=0)
    >>> res.table[["clq_b", "clq_c"]].round(2).values.tolist()
    [[0.0, 3.0], [3.0, 0.0]]
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a whole number >= 1, got {k!r}")
    if n_sims < 0 or int(n_sims) != n_sims:
        raise ValueError(f"n_sims must be a whole number >= 0, got {n_sims!r}")
    xy, codes, names = _population(points, label_column)
    subjects_l = _labels_arg(a, names, "a", [])
    targets = _labels_arg(b, names, "b", [x for x in names if x not in subjects_l])
    n = len(codes)
    if k > n - 1:
        raise ValueError(f"k={k} neighbours but only {n - 1} other points")
    subj = np.flatnonzero(np.isin(codes, [names.index(x) for x in subjects_l]))
    nbr, dist = _knn(xy, subj, int(k))
    weights = _kernel_weights(dist)
    counts = np.bincount(codes, minlength=len(names))
    ids = (points["id"].to_numpy()[subj] if "id" in points.columns
           else points.index.to_numpy()[subj])
    table = pd.DataFrame({"label": [names[c] for c in codes[subj]],
                          "bandwidth_m": dist[:, -1]}, index=pd.Index(ids, name="id"))
    tcodes = np.array([names.index(x) for x in targets], dtype=np.int64)
    # what the neighbours of a point may be: N'_B of the others (one less if it is B)
    m_b = counts[tcodes][None, :] - (codes[subj][:, None] == tcodes[None, :])
    share = m_b / (n - 1)
    observed = np.einsum("ik,ikt->it", weights, codes[nbr][:, :, None] == tcodes)
    with np.errstate(divide="ignore", invalid="ignore"):
        clq = np.where(share > 0, observed / share, np.nan)
    high, low = _local_p(np.random.default_rng(seed), weights, observed, m_b, int(n_sims), n)
    for t, name in enumerate(targets):
        table[f"clq_{name}"] = clq[:, t]
        table[f"p_high_{name}"] = high[:, t]
        table[f"p_low_{name}"] = low[:, t]
    params = {"label_column": label_column, "k": int(k), "kernel": "adaptive gaussian",
              "n_sims": int(n_sims), "seed": seed,
              "null": "conditional relabelling (point fixed, others shuffled)",
              "type_column": points.attrs.get("type_column")}
    return LocalCLQResult(table=table, targets=tuple(targets), parameters=params, n=n)
