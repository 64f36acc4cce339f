r"""Hot spots: local Moran's I (LISA) on counts of spaces per H3 cell or per area, with esda.

For counts :math:`y_i` of ``n`` units, standardised :math:`z_i = (y_i - \bar y)/s_y` and
row-standardised weights :math:`w_{ij}` (each unit's neighbours weigh ``1/#neighbours``),

.. math:: I_i = (n - 1)\, z_i \sum_j w_{ij} z_j \Big/ \sum_k z_k^2

(:class:`esda.Moran_Local`). The quadrant of a unit compares its value and its neighbours'
mean with the city mean, with esda's codes: 1 ``HH`` (hot spot: high among high), 2 ``LH``
(low among high), 3 ``LL`` (cold: low among low), 4 ``HL`` (high among low). Pseudo p-values
come from esda's conditional permutations (the unit's value fixed, the others shuffled over
its neighbours; the same draws as esda's NumPy path, made here in NumPy so that esda does
not compile them with numba in every process), counted here from the simulated values with
ties on both sides: ``p_high = (1 + #{sim >= I}) / (P + 1)``, ``p_low`` likewise with ``<=``, and

* ``alternative="two-sided"`` (default): ``p = min(1, 2 min(p_high, p_low))``, so that about
  ``alpha`` of the units of a random field come out significant (esda's announced default);
* ``alternative="folded"``: ``p = min(p_high, p_low)``, esda's (and GeoDa's) ``p_sim`` so
  far, with about ``2 alpha`` false positives.

Counting ties on both sides matters for counts: a unit whose value equals the mean has
``I = 0`` in every permutation, and esda's ``p_sim`` (ties only on the ``>=`` side, then
folded) calls it significant at ``1/(P+1)``; here its p-value is 1. A unit is
``significant`` when ``p_value <= alpha``. No correction for multiple tests is applied (as
in GeoDa). The global Moran's I (:class:`esda.Moran`) with its permutation p-value (same
rule) summarises the whole map.

Neighbours:

* H3 cells (:func:`hex_hotspots`): the six cells of ``h3.grid_disk(cell, 1)`` that are in the
  table. On an H3 grid this is exactly Queen (= Rook) contiguity of the cell polygons, found
  from the cell ids instead of the geometry (no floating-point vertex matching);
* areas (:func:`area_hotspots`): Queen contiguity of the polygons
  (:class:`libpysal.weights.Queen`: sharing an edge or a vertex).

A unit without neighbours (an island) cannot be tested: it keeps its value but gets no I,
no p-value, quadrant 0 and label ``"island"``, and is left out of the global I.

Every cell of the city counts, cells without spaces as 0 (the build's hexes table lists every
cell); missing values in the count column count as 0 too.

Seeds: esda draws its permutations from NumPy's global generator; the functions here seed it
for the call and restore its previous state afterwards.

References
----------
Anselin, L. (1995). Local indicators of spatial association — LISA. *Geographical Analysis*
27(2), 93-115.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> cells = [box(x, y, x + 1, y + 1) for y in range(6) for x in range(6)]
>>> counts = [5 if x < 2 and y < 2 else 0 for y in range(6) for x in range(6)]
>>> grid = gpd.GeoDataFrame({"id": range(36), "spaces": counts}, geometry=cells)
>>> res = area_hotspots(grid, id_column="id", permutations=199, seed=1)
>>> res.table.loc[[0, 1, 6, 7], "cluster"].tolist()
['HH', 'HH', 'HH', 'HH']
>>> res.summary["moran_i"] > 0.5, res.summary["p_value"] < 0.05
(True, True)
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._json import json_ready as _json

__all__ = ["QUADRANT_LABELS", "Alternative", "HotspotResult", "area_hotspots", "hex_hotspots",
           "local_moran"]

#: How the two one-sided pseudo p-values are combined (see the module docstring).
Alternative = Literal["two-sided", "folded"]
#: esda's quadrant codes (``Moran_Local.q``) and their labels; 0 is a unit without neighbours.
QUADRANT_LABELS: Mapping[int, str] = {1: "HH", 2: "LH", 3: "LL", 4: "HL", 0: "island"}


@dataclass(frozen=True, eq=False)
class HotspotResult:
    """Local Moran's I per unit and the global Moran's I.

    Attributes
    ----------
    table
        Indexed by the unit id: ``value`` (the count), ``lag`` (the neighbours' mean),
        ``n_neighbours``, ``I`` (local Moran's I), ``p_value`` (pseudo, see ``alternative``),
        ``quadrant`` (esda code 1-4, 0 island), ``cluster`` (``HH``/``LH``/``LL``/``HL``,
        ``island``) and ``significant`` (``p_value <= alpha``).
    summary
        ``name``, ``parameters`` (column, weights, alpha, permutations, seed), ``n``,
        ``n_islands``, the global ``moran_i``, its ``expected_i``, ``p_value`` (pseudo,
        same rule), ``z_sim``, and ``significant`` counts per label.
    """

    table: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy of :attr:`summary` (name, parameters, n, statistic, p-value, seed)."""
        return {k: ({kk: _json(vv) for kk, vv in v.items()} if isinstance(v, dict)
                    else _json(v)) for k, v in self.summary.items()}


@contextlib.contextmanager
def _global_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator (which esda uses) and restore its state afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _pseudo_p(sims: np.ndarray, observed: np.ndarray, alternative: Alternative) -> np.ndarray:
    """Permutation p-values of ``observed`` (n) from ``sims`` (P x n), ties on both sides."""
    eps = 1e-10 * np.maximum(1.0, np.abs(observed))
    n = sims.shape[0]
    high = (1 + (sims >= observed - eps).sum(axis=0)) / (n + 1)
    low = (1 + (sims <= observed + eps).sum(axis=0)) / (n + 1)
    folded = np.minimum(high, low)
    return folded if alternative == "folded" else np.minimum(1.0, 2 * folded)


def _conditional_permutations(z: np.ndarray, w: Any, permutations: int,
                               seed: int) -> np.ndarray:
    """Local Moran's I of ``z`` under esda's conditional randomisation (P x n), in NumPy.

    The same draws and statistic as esda's ``crand`` on its NumPy path: ``permutations``
    rows of ``max(#neighbours)`` ids drawn without replacement from the ``n - 1`` other units
    (``numpy.random.seed(seed)`` then one ``numpy.random.choice`` per row); unit ``i`` takes
    the first ``#neighbours(i)`` of each row. esda compiles that loop with numba whenever
    numba is importable (cwsgeo needs numba for its network engine), which costs ~15 s in
    every new process and is not cached; drawn here it takes milliseconds.
    """
    n = len(z)
    card = np.diff(w.indptr)
    np.random.seed(seed)
    ids = np.stack([np.random.choice(n - 1, size=int(card.max()), replace=False)
                    for _ in range(permutations)])
    scaling = (n - 1) / float((z * z).sum())
    sims = np.empty((permutations, n))
    for i in range(n):
        others = ids[:, :card[i]]
        others = others + (others >= i)  # ids count the units other than i
        weights = w.data[w.indptr[i]:w.indptr[i + 1]]
        sims[:, i] = z[i] * (z[others] @ weights) * scaling
    return sims


def _counts(units: pd.DataFrame, column: str, what: str) -> np.ndarray:
    if column not in units.columns:
        raise ValueError(f"{what} have no column {column!r}")
    raw = units[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        rows = [str(r) for r in units.index[np.asarray(bad)][:5]]
        raise ValueError(f"{what}: column {column!r} is not a number in rows {rows}")
    values = values.fillna(0.0)
    if (values < 0).any():
        rows = [str(r) for r in units.index[np.asarray(values < 0)][:5]]
        raise ValueError(f"{what}: column {column!r} is negative in rows {rows}")
    return values.to_numpy(dtype=float)


def local_moran(values: pd.Series, neighbours: Mapping[Any, Sequence[Any]], *,
                alpha: float = 0.05, permutations: int = 999, seed: int = 2026,
                alternative: Alternative = "two-sided", weights: str = "custom",
                column: str | None = None) -> HotspotResult:
    """Local and global Moran's I of ``values`` over a neighbour list (row-standardised).

    Parameters
    ----------
    values
        One value per unit, indexed by the unit ids (NaN not allowed).
    neighbours
        Unit id -> ids of its neighbours (symmetric; ids missing from ``values`` are
        ignored).
    alpha
        Significance level of the ``significant`` column.
    permutations
        Conditional permutations of esda (at least 19).
    seed
        Seed of the permutations.
    alternative
        ``"two-sided"`` or ``"folded"`` (esda's ``p_sim``): see the module docstring.
    weights, column
        Descriptions recorded in the summary (e.g. ``"queen"``, the count column).

    Returns
    -------
    HotspotResult
    """
    import esda
    import libpysal

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if alternative not in ("two-sided", "folded"):
        raise ValueError(f"alternative must be 'two-sided' or 'folded', got {alternative!r}")
    if int(permutations) != permutations or permutations < 19:
        raise ValueError(f"permutations must be a whole number >= 19, got {permutations!r}")
    if values.isna().any():
        raise ValueError("values: NaN in rows " + str(values.index[values.isna()][:5].tolist()))
    if not values.index.is_unique:
        raise ValueError("values: duplicate unit ids "
                         + str(values.index[values.index.duplicated()][:5].tolist()))
    ids = list(values.index)
    order = {i: k for k, i in enumerate(ids)}
    nb = {i: sorted({j for j in neighbours.get(i, ()) if j in order and j != i},
                    key=order.__getitem__) for i in ids}
    connected = [i for i in ids if nb[i]]
    y = values.loc[connected].to_numpy(dtype=float)
    if len(connected) < 3 or np.ptp(y) == 0:
        raise ValueError(f"local Moran's I needs at least 3 connected units with differing "
                         f"values (got {len(connected)}, range {np.ptp(y) if len(y) else 0})")
    w = libpysal.weights.W({i: nb[i] for i in connected}, id_order=connected,
                           silence_warnings=True)
    w.transform = "r"
    with _global_seed(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 of esda's z_sim on flat sims
        # esda 2.x announces a two-sided default; p-values are recounted below anyway
        warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
        lisa = esda.Moran_Local(y, w, transformation="r", permutations=0)
        sims = _conditional_permutations(np.asarray(lisa.z, dtype=float), w.sparse.tocsr(),
                                         int(permutations), seed)
        glob = esda.Moran(y, w, transformation="r", permutations=int(permutations))
    table = pd.DataFrame({"value": values.to_numpy(dtype=float),
                          "n_neighbours": [len(nb[i]) for i in ids]},
                         index=pd.Index(ids, name=values.index.name or "id"))
    pos = pd.Series(np.arange(len(connected)), index=connected)
    at = pos.reindex(ids).to_numpy()
    has = ~np.isnan(at)
    take = at[has].astype(int)
    lag = np.asarray(w.sparse @ y).ravel()
    p_local = _pseudo_p(sims, np.asarray(lisa.Is), alternative)
    p_global = float(_pseudo_p(np.asarray(glob.sim)[:, None], np.array([glob.I]),
                               alternative)[0])
    for col, arr in (("lag", lag), ("I", lisa.Is), ("p_value", p_local)):
        full = np.full(len(ids), np.nan)
        full[has] = np.asarray(arr, dtype=float)[take]
        table[col] = full
    quad = np.zeros(len(ids), dtype=int)
    quad[has] = np.asarray(lisa.q, dtype=int)[take]
    table["quadrant"] = quad
    table["cluster"] = [QUADRANT_LABELS[q] for q in quad]
    table["significant"] = (table["p_value"] <= alpha).to_numpy()
    table = table[["value", "lag", "n_neighbours", "I", "p_value", "quadrant", "cluster",
                   "significant"]]
    sig = table.loc[table["significant"], "cluster"].value_counts()
    summary = {
        "name": "local_moran", "statistic": "moran_i",
        "parameters": {"column": column, "weights": weights, "transform": "row-standardised",
                       "alpha": alpha, "permutations": int(permutations), "seed": seed,
                       "alternative": alternative},
        "n": len(ids), "n_islands": len(ids) - len(connected),
        "moran_i": float(glob.I), "expected_i": float(glob.EI),
        "p_value": p_global, "z_sim": float(glob.z_sim), "seed": seed,
        "significant": {lab: int(sig.get(lab, 0)) for lab in ("HH", "LH", "LL", "HL")}}
    return HotspotResult(table=table, summary=summary)


def _ids(units: pd.DataFrame, id_column: str | None, what: str) -> pd.Index:
    if id_column is None:
        return units.index
    if id_column not in units.columns:
        raise ValueError(f"{what} have no column {id_column!r} (their ids)")
    return pd.Index(units[id_column].to_numpy(), name=id_column)


def hex_hotspots(hexes: pd.DataFrame, column: str = "spaces", *, id_column: str = "hex_id",
                 alpha: float = 0.05, permutations: int = 999, seed: int = 2026,
                 alternative: Alternative = "two-sided") -> HotspotResult:
    """Local Moran's I of a count per H3 cell, neighbours from ``h3.grid_disk``.

    Parameters
    ----------
    hexes
        One row per H3 cell of the city (cells without spaces included), e.g. the build's
        hexes table; needs no geometry.
    column
        The count (missing values count as 0).
    id_column
        Column of the H3 cell ids.
    alpha
        Significance level.
    permutations
        Permutations of esda.
    seed
        Seed of the permutations.
    alternative
        ``"two-sided"`` or ``"folded"``: see the module docstring.

    Returns
    -------
    HotspotResult
        Indexed by the cell id.
    """
    import h3

    ids = _ids(hexes, id_column, "hexes")
    bad = [c for c in ids if not (isinstance(c, str) and h3.is_valid_cell(c))]
    if bad:
        raise ValueError(f"hexes: {id_column!r} holds values that are not H3 cells: {bad[:5]}")
    values = pd.Series(_counts(hexes, column, "hexes"), index=ids)
    neighbours = {c: [x for x in h3.grid_disk(c, 1) if x != c] for c in ids}
    return local_moran(values, neighbours, alpha=alpha, permutations=permutations, seed=seed,
                       alternative=alternative, weights="h3 grid_disk(1) (= queen contiguity)",
                       column=column)


def area_hotspots(areas: gpd.GeoDataFrame, column: str = "spaces", *,
                  id_column: str | None = "barri_code", alpha: float = 0.05,
                  permutations: int = 999, seed: int = 2026,
                  alternative: Alternative = "two-sided") -> HotspotResult:
    """Local Moran's I of a count per area (barri, district ...), Queen contiguity.

    Parameters
    ----------
    areas
        Polygons, one per area (e.g. the build's barris table).
    column
        The count (missing values count as 0).
    id_column
        Column of the area ids (None: the index).
    alpha
        Significance level.
    permutations
        Permutations of esda.
    seed
        Seed of the permutations.
    alternative
        ``"two-sided"`` or ``"folded"``: see the module docstring.

    Returns
    -------
    HotspotResult
        Indexed by the area id.
    """
    import libpysal

    if not isinstance(areas, gpd.GeoDataFrame):
        raise TypeError(f"areas must be a GeoDataFrame, got {type(areas).__name__}")
    ids = _ids(areas, id_column, "areas")
    if not ids.is_unique:
        raise ValueError(f"areas: duplicate ids {ids[ids.duplicated()][:5].tolist()}")
    values = pd.Series(_counts(areas, column, "areas"), index=ids)
    frame = gpd.GeoDataFrame(geometry=areas.geometry.to_numpy(), crs=areas.crs)
    w = libpysal.weights.Queen.from_dataframe(frame, use_index=True, silence_warnings=True)
    neighbours = {ids[i]: [ids[j] for j in w.neighbors[i]] for i in range(len(ids))}
    return local_moran(values, neighbours, alpha=alpha, permutations=permutations, seed=seed,
                       alternative=alternative, weights="queen contiguity", column=column)
