r"""Duranton–Overman K-density (Kd) with local and global confidence bands, and co-agglomeration.

Kd (Duranton & Overman 2005, *Testing for localization using micro-geographic data*, Review of
Economic Studies 72(4)) is the kernel density of the bilateral distances between the ``n``
sites of one set:

.. math::

    \hat K(d) = \frac{1}{\binom{n}{2} h} \sum_{i<j}
        \left[\phi\left(\frac{d - d_{ij}}{h}\right)
             + \phi\left(\frac{d + d_{ij}}{h}\right)\right]

with a Gaussian kernel :math:`\phi`, reflected at 0 (the second term) so that no mass is lost
below zero: the curve integrates to 1 over :math:`[0, \infty)`. The bandwidth :math:`h` is
Silverman's rule of thumb, :math:`0.9 \min(\sigma, \mathrm{IQR}/1.34)\, N^{-1/5}`, over the
:math:`N` observed distances up to the maximum distance of interest (default 3 km; the city's
whole range would smooth away the walking scale). Simulated curves use the observed
bandwidth, so every curve is smoothed alike. Pairs beyond the maximum still count in the
:math:`\binom{n}{2}` normalisation.

**Fast curves.** Distances are binned at 1 m (``bin_m``); the density on the grid (default
0–3,000 m every 10 m) is one matrix product of the bin counts with the reflected Gaussian
sampled at the bin centres, for all simulations at once. Binning moves a distance by at most
half a metre, against bandwidths of 100+ m. The simulations' bin counts come from compiled
kernels (:mod:`._kd_kernels`; straight-line distances and the network in ``"matrix"`` mode)
that compute each pair's distance and bin it in one pass, visiting only pairs that can be
within the cutoff, in parallel over the simulations, never making a distance array (callable
distances and the network's ``"search"`` mode bin each simulation's distance array); every
draw is made first, in the order a draw-then-count loop makes them, so a seed gives the same
simulations, and the counts are those of binning ``pdist`` (or the engine's distances)
exactly.

**Counterfactual** (:func:`kd_test`): ``n_sims`` (default 999) draws of ``n`` distinct sites
from a reference set of possible sites — by default the gazetteer's address points, i.e. the
built fabric; ``weights`` (e.g. residents per address) make the draw proportional to them.
At each distance the local 5 % and 95 % quantiles of the simulated curves give the **local
band**. The **global band** (DO 2005, section 3.3) is the band of local quantiles at the level
whose band contains 95 % of the simulated curves *entirely* over the grid: with ``k`` the
number of curves cut from each side at every distance, the band is the ``k``-th smallest and
``k``-th largest simulated value, and ``k`` is the largest for which at least 95 % of the
curves never leave it — each curve judged against the band of the *other* curves
(:func:`global_band` explains why), so that ``global_confidence``, the share that never
leaves, is what the observed curve can expect under the null. Curves on a fine grid need
many simulations: with too few, even the envelope of all of them holds less than 95 % and
``global_confidence`` says so (999 simulations suffice for ~40-150 sites up to 3 km).

**Verdict** (DO 2005, definitions 1 and 2): the set is *localized* where Kd lies above the
global band, at at least one distance; it is *dispersed* where Kd lies below the band, when it
is localized nowhere. The index of localization :math:`\Gamma = \sum_d \max(\hat K(d) -
\overline{K}(d), 0)\, \Delta d` (and of dispersion, :math:`\Psi`, below the band) measures
by how much.

**Co-agglomeration** (:func:`kd_cross_test`): the bivariate K-density of the
:math:`n_a n_b` distances between a set ``a`` (e.g. coworking spaces) and a set ``b`` (cafés,
transit stations), normalised by :math:`n_a n_b` (DO 2005, section 5; Duranton & Overman
2008, *Exploring the detailed location patterns of U.K. manufacturing industries*, Journal of
Regional Science 48(1)). The counterfactual here keeps ``b`` **fixed** and draws ``n_a`` sites
from the reference set: it asks whether ``a`` sits closer to the actual ``b`` than the built
fabric would put it, taking ``b``'s own (often central) pattern as given. (Drawing both sets
would call two central sets "co-agglomerated" merely because each is central.)

**By type**: within a type, ``kd_test(type_xy, reference_xy)``; a type against all spaces,
``kd_test(type_xy, all_spaces_xy)`` — the counterfactual draws the type's sites from the
spaces' own locations, so the question is whether the type is more concentrated than spaces
in general (DO 2005's test of an industry against manufacturing as a whole).

**Distances**: ``"euclidean"`` (``pdist``), a :class:`~cwsgeo.analysis.network.WalkNetwork`
(walking distances: see :mod:`._kd_distances` for the snapping, the bounded searches and the
``float32`` node matrix), or a callable ``f(xy_a, xy_b) -> (len(a), len(b))`` array. Network
distances never fall back to straight lines: sites off the network raise, reference points off
it are left out of the draws and counted in the result.

Why our own code: no maintained Python package has Kd (R's ``dbmss`` does); ``pointpats``'
distance statistics have no cross version and hold ``n^2`` matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..network import WalkNetwork
from ._json import json_ready as _json
from ._kd_distances import (
    CallableDistances,
    EuclideanDistances,
    NetworkDistances,
    as_xy,
    bin_counts,
)

__all__ = ["KdResult", "global_band", "kd_cross_test", "kd_curve", "kd_test",
           "silverman_bandwidth"]

Distance = Literal["euclidean"] | WalkNetwork | Callable[[np.ndarray, np.ndarray], npt.ArrayLike]
Engine = EuclideanDistances | CallableDistances | NetworkDistances
_TAIL = 4.0  # distances up to max_distance + _TAIL bandwidths feed the curve


def silverman_bandwidth(distances: npt.ArrayLike) -> float:
    """Silverman's rule-of-thumb bandwidth, ``0.9 min(sd, IQR / 1.34) N^(-1/5)``.

    Parameters
    ----------
    distances
        The sample (finite values; at least two distinct ones).

    Returns
    -------
    float
        Metres (the sample's unit).
    """
    d = np.asarray(distances, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) < 2 or np.ptp(d) == 0:
        raise ValueError(f"Silverman bandwidth needs at least two distinct distances, got "
                         f"{len(d)} value(s); give a bandwidth or a larger max distance")
    sd = float(np.std(d, ddof=1))
    q75, q25 = np.percentile(d, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34) or sd
    return 0.9 * spread * len(d) ** -0.2


def _kernel_matrix(grid: np.ndarray, n_bins: int, bin_m: float, h: float) -> np.ndarray:
    """Reflected Gaussian ``(len(grid), n_bins)`` at the bin centres, divided by ``h``."""
    centres = (np.arange(n_bins) + 0.5) * bin_m
    g = grid[:, None]
    norm = 1.0 / (h * np.sqrt(2.0 * np.pi))
    return norm * (np.exp(-0.5 * ((g - centres) / h) ** 2)
                   + np.exp(-0.5 * ((g + centres) / h) ** 2))


def kd_curve(distances: npt.ArrayLike, n: int | tuple[int, int],
             grid: npt.ArrayLike | None = None, bandwidth: float | None = None, *,
             bin_m: float = 1.0) -> np.ndarray:
    """K-density of bilateral distances on a distance grid.

    Parameters
    ----------
    distances
        Bilateral distances in metres (``inf``/``NaN`` = beyond reach: not counted in the
        curve, still in the normalisation).
    n
        Number of sites: the curve is normalised by the ``n (n - 1) / 2`` pairs; a tuple
        ``(n_a, n_b)`` for a cross K-density (``n_a n_b`` pairs).
    grid
        Distances to evaluate at (default 0–3,000 m every 10 m).
    bandwidth
        Kernel bandwidth in metres (default :func:`silverman_bandwidth` of the finite
        distances up to the grid's end).
    bin_m
        Bin width of the distances before smoothing.

    Returns
    -------
    numpy.ndarray
        Density per metre at each grid distance; integrates to 1 over ``[0, inf)`` when every
        pair is among ``distances``.

    Examples
    --------
    >>> from scipy.spatial.distance import pdist
    >>> xy = np.random.default_rng(0).uniform(0, 2000, (50, 2))
    >>> kd = kd_curve(pdist(xy), 50, np.arange(0, 3001, 10))
    """
    d = np.asarray(distances, dtype=float).ravel()
    d = d[np.isfinite(d)]
    g = np.arange(0.0, 3000.0 + 5.0, 10.0) if grid is None else np.asarray(grid, dtype=float)
    n_pairs = n[0] * n[1] if isinstance(n, tuple) else n * (n - 1) // 2
    if n_pairs <= 0:
        raise ValueError(f"kd_curve: no pairs among n={n} site(s)")
    h = silverman_bandwidth(d[d <= g.max()]) if bandwidth is None else float(bandwidth)
    cutoff = float(max(g.max(), 0.0) + _TAIL * h)
    n_bins = int(np.ceil(cutoff / bin_m))
    counts = bin_counts(d, cutoff, bin_m, n_bins)
    return np.asarray(_kernel_matrix(g, n_bins, bin_m, h) @ counts / n_pairs)


def global_band(curves: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, float]:
    """Compute the Duranton–Overman global band of simulated curves.

    At each distance the band runs from the ``k``-th smallest to the ``k``-th largest
    simulated value; ``k`` is the largest cut for which a share ``level`` of the curves stays
    inside the band *of the other curves* at every distance. Judging each curve against the
    others (leave one out) makes the share an honest estimate of how often a curve of the
    counterfactual — the observed one, if the null holds — stays inside; counting each curve
    against a band it helped draw (DO 2005's in-sample count) overstates it, up to 100 % for
    the envelope ``k = 1``. When even the envelope of all simulations holds less than
    ``level`` (too few simulations for the number of distances), the envelope is returned
    with its lower share: check ``confidence``.

    Parameters
    ----------
    curves
        ``(n_sims, n_distances)`` simulated curves.
    level
        Share of the curves the band must contain entirely.

    Returns
    -------
    lo, hi : numpy.ndarray
        The band.
    confidence : float
        The (leave-one-out) share of curves inside the band at every distance.
    """
    m = len(curves)
    by_distance = np.ascontiguousarray(np.asarray(curves, dtype=float).T)
    ordered = np.sort(by_distance, axis=1)
    # a curve is inside the band of the others with k cut per side iff, at every distance,
    # at least k other curves are <= it and at least k others are >= it: counted in the
    # sorted values at that distance (scipy's rankdata "max" - 1 and m - "min")
    below = np.full(m, m, dtype=np.int64)
    above = np.full(m, m, dtype=np.int64)
    for values, sorted_values in zip(by_distance, ordered, strict=True):
        np.minimum(below, np.searchsorted(sorted_values, values, side="right") - 1, out=below)
        np.minimum(above, m - 1 - np.searchsorted(sorted_values, values, side="left"),
                   out=above)
    depth = np.minimum(below, above)
    ks = np.arange(1, max(m // 2, 1) + 1)
    share = (depth[None, :] >= ks[:, None]).mean(axis=1)
    ok = np.flatnonzero(share >= level - 1e-12)
    i = int(ok[-1]) if len(ok) else 0
    k = int(ks[i])
    return ordered[:, k - 1].copy(), ordered[:, m - k].copy(), float(share[i])


def _ranges(grid: np.ndarray, mask: np.ndarray) -> list[list[float]]:
    """``[from, to]`` grid distances of each run of ``True``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [[float(grid[s]), float(grid[e])] for s, e in zip(starts, ends, strict=True)]


@dataclass(frozen=True, eq=False)
class KdResult:
    """A K-density test: the observed curve, the simulated bands and the verdict.

    Attributes
    ----------
    name
        ``"kd"`` (one set) or ``"kd_cross"`` (co-agglomeration of ``a`` with ``b``).
    distance_m
        The distance grid in metres.
    kd
        The observed K-density on the grid (per metre).
    local_lo, local_hi
        Local 5 % and 95 % quantiles of the simulated curves.
    global_lo, global_hi
        The Duranton–Overman global band.
    global_confidence
        Share of simulated curves entirely inside the global band (``>= 0.95``).
    n
        Number of sites (``n_a`` for a cross test; ``n_b`` is in :attr:`parameters`).
    n_sims, seed
        Simulations and the seed that reproduces them.
    bandwidth
        Kernel bandwidth in metres (the same for every curve).
    distance
        ``"euclidean"``, ``"network"`` or ``"callable:<name>"``.
    parameters
        Everything else that defines the test (max distance, grid step, reference size,
        weighting, network mode, reference points left out because off the network, …).
    """

    name: str
    distance_m: np.ndarray
    kd: np.ndarray
    local_lo: np.ndarray
    local_hi: np.ndarray
    global_lo: np.ndarray
    global_hi: np.ndarray
    global_confidence: float
    n: int
    n_sims: int
    seed: int
    bandwidth: float
    distance: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def above(self) -> np.ndarray:
        """Grid distances where Kd lies above the global band."""
        return self.kd > self.global_hi

    @property
    def below(self) -> np.ndarray:
        """Grid distances where Kd lies below the global band."""
        return self.kd < self.global_lo

    @property
    def localized(self) -> bool:
        """Kd leaves the global band above at some distance (DO 2005, definition 1)."""
        return bool(self.above.any())

    @property
    def dispersed(self) -> bool:
        """Kd leaves the band below somewhere and is localized nowhere (definition 2)."""
        return bool(self.below.any()) and not self.localized

    @property
    def localized_distances_m(self) -> list[list[float]]:
        """``[from, to]`` metres of each run of grid distances above the global band."""
        return _ranges(self.distance_m, self.above)

    @property
    def dispersed_distances_m(self) -> list[list[float]]:
        """Runs below the band, when :attr:`dispersed` (else empty, per DO 2005)."""
        return _ranges(self.distance_m, self.below) if self.dispersed else []

    def _index(self, excess: np.ndarray) -> float:
        step = float(np.diff(self.distance_m).mean()) if len(self.distance_m) > 1 else 1.0
        return float(np.clip(excess, 0, None).sum() * step)

    @property
    def localization_index(self) -> float:
        """Gamma: the area between Kd and the band's top where Kd is above it."""
        return self._index(self.kd - self.global_hi)

    @property
    def dispersion_index(self) -> float:
        """Psi: the area between the band's bottom and Kd where Kd is below it."""
        return self._index(self.global_lo - self.kd)

    def curve_frame(self) -> pd.DataFrame:
        """Return the curves as a table.

        Columns ``distance_m``, ``kd``, ``local_lo``, ``local_hi``, ``global_lo``,
        ``global_hi`` (densities per metre).
        """
        return pd.DataFrame({c: getattr(self, c) for c in (
            "distance_m", "kd", "local_lo", "local_hi", "global_lo", "global_hi")})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no curves: see :meth:`curve_frame`)."""
        verdict = ("localized" if self.localized else "dispersed" if self.dispersed
                   else "neither localized nor dispersed")
        return {
            "name": self.name, "distance": self.distance, "n": int(self.n),
            "n_sims": int(self.n_sims), "seed": int(self.seed),
            "bandwidth": round(float(self.bandwidth), 3),
            "statistic": "localization_index_gamma",
            "value": self.localization_index, "dispersion_index_psi": self.dispersion_index,
            "verdict": verdict, "localized": self.localized, "dispersed": self.dispersed,
            "localized_distances_m": self.localized_distances_m,
            "dispersed_distances_m": self.dispersed_distances_m,
            "global_confidence": round(float(self.global_confidence), 4),
            **({"band_warning": f"the envelope of all {self.n_sims} simulations holds only "
                f"{self.global_confidence:.1%} of the curves: run more simulations"}
               if self.global_confidence < self.parameters.get("level", 0.95) else {}),
            "parameters": {k: _json(v) for k, v in self.parameters.items()},
        }


def _engine(distance: Distance, points: np.ndarray, n_sites: int, b: np.ndarray | None,
            network_mode: Literal["auto", "matrix", "search"], snap_max_m: float | None,
            drop_b: bool) -> Engine:
    if isinstance(distance, WalkNetwork):
        return NetworkDistances(distance, points, n_sites, b, mode=network_mode,
                                snap_max_m=snap_max_m, drop_b_off_network=drop_b)
    if isinstance(distance, str):
        if distance != "euclidean":
            raise ValueError(f"distance must be 'euclidean', a WalkNetwork or a function "
                             f"f(xy_a, xy_b), got {distance!r}")
        return EuclideanDistances(points, b)
    if callable(distance):
        return CallableDistances(distance, points, b)
    raise TypeError(f"distance must be 'euclidean', a WalkNetwork or a function, "
                    f"got {type(distance).__name__}")


def _pool(engine: Engine, n_sites: int, n_draw: int, weights: npt.ArrayLike | None,
          n_reference: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Return the reference points a draw may pick, and their probabilities.

    Positions are in the engine's points; probabilities ``None`` mean uniform.
    """
    usable = np.asarray(engine.usable[n_sites:], dtype=bool)
    p = None
    if weights is not None:
        w = np.asarray(weights, dtype=float).ravel()
        if len(w) != n_reference:
            raise ValueError(f"weights: {len(w)} values for {n_reference} reference points")
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if len(bad):
            raise ValueError(f"weights: {len(bad)} negative or non-finite value(s) "
                             f"(rows {', '.join(str(int(r)) for r in bad[:10])})")
        usable &= w > 0
        p = w[usable] / w[usable].sum() if usable.any() else None
    pool = n_sites + np.flatnonzero(usable)
    if len(pool) < n_draw:
        raise ValueError(f"the reference set has {len(pool)} usable point(s) (on the network, "
                         f"positive weight); a draw needs {n_draw}")
    return pool, p


def _draws(pool: np.ndarray, p: np.ndarray | None, n_draw: int, n_sims: int,
           rng: np.random.Generator) -> np.ndarray:
    """Return the ``(n_sims, n_draw)`` sites of every simulation, drawn one after the other.

    All draws come first and the counting after (compiled, in parallel): the random stream
    is the one of a draw-then-count loop, so a seed gives the same simulations.
    """
    idx = np.empty((n_sims, n_draw), dtype=np.int64)
    for s in range(n_sims):
        idx[s] = rng.choice(pool, size=n_draw, replace=False, p=p)
    return idx


def _run(name: str, sites: np.ndarray, reference: np.ndarray, b: np.ndarray | None, *,
         distance: Distance, max_distance_m: float, grid_step_m: float, n_sims: int,
         seed: int | None, weights: npt.ArrayLike | None, bandwidth: float | None,
         level: float, network_mode: Literal["auto", "matrix", "search"],
         snap_max_m: float | None, bin_m: float, drop_b: bool = False) -> KdResult:
    n = len(sites)
    if n < (1 if b is not None else 2) or (b is not None and len(b) == 0):
        raise ValueError(f"{name}: too few sites ({n}{'' if b is None else f', {len(b)}'})")
    if n_sims < 20:
        raise ValueError(f"{name}: n_sims={n_sims}; a 95 % band needs at least 20")
    engine = _engine(distance, np.vstack([sites, reference]), n, b, network_mode, snap_max_m,
                     drop_b)
    n_b = 0 if b is None else len(b) - getattr(engine, "b_left_out", 0)
    if b is not None and n_b == 0:
        raise ValueError(f"{name}: no point of the second set (b) is on the walking network")
    n_pairs = n * (n - 1) // 2 if b is None else n * n_b
    cross = b is not None
    pair_fn = engine.cross if cross else engine.within
    site_idx = np.arange(n)
    rule = "silverman" if bandwidth is None else "given"
    if bandwidth is None:
        engine.cutoff = max_distance_m  # enough for the bandwidth: no matrix yet
        d0 = pair_fn(site_idx)
        bandwidth = silverman_bandwidth(d0[d0 <= max_distance_m])
    h = float(bandwidth)
    cutoff = max_distance_m + _TAIL * h
    engine.build(cutoff)
    pool, p = _pool(engine, n, n, weights, len(reference))
    if seed is None:
        seed = int(np.random.default_rng().integers(2**32))
    rng = np.random.default_rng(seed)
    grid = np.arange(0.0, max_distance_m + grid_step_m / 2, grid_step_m)
    n_bins = int(np.ceil(cutoff / bin_m))
    kernel = _kernel_matrix(grid, n_bins, bin_m, h).T / n_pairs
    observed = engine.counts(site_idx[None, :], cross, cutoff, bin_m, n_bins)[0] @ kernel
    draws = _draws(pool, p, n, n_sims, rng)
    curves = engine.counts(draws, cross, cutoff, bin_m, n_bins).astype(np.float64) @ kernel
    local_lo, local_hi = np.quantile(curves, [0.05, 0.95], axis=0)
    g_lo, g_hi, confidence = global_band(curves, level)
    params: dict[str, Any] = {
        "max_distance_m": max_distance_m, "grid_step_m": grid_step_m, "bin_m": bin_m,
        "bandwidth_rule": rule,
        "level": level, "reference_n": len(pool),
        "reference_left_out": int(len(reference) - len(pool)),
        "weighted": weights is not None, "cutoff_m": round(cutoff, 3)}
    if isinstance(engine, NetworkDistances):
        params["network_mode"] = engine.mode
    if b is not None:
        params["n_b"] = n_b
        if isinstance(engine, NetworkDistances):
            params["b_left_out"] = engine.b_left_out
        params["counterfactual"] = "a drawn from the reference set, b fixed"
    else:
        params["counterfactual"] = "sites drawn from the reference set"
    return KdResult(name=name, distance_m=grid, kd=observed, local_lo=local_lo,
                    local_hi=local_hi, global_lo=g_lo, global_hi=g_hi,
                    global_confidence=confidence, n=n, n_sims=n_sims, seed=seed,
                    bandwidth=h, distance=engine.kind, parameters=params)


def kd_test(sites_xy: npt.ArrayLike, reference_xy: npt.ArrayLike, *,
            distance: Distance = "euclidean", max_distance_m: float = 3000.0,
            grid_step_m: float = 10.0, n_sims: int = 999, seed: int | None = 0,
            weights: npt.ArrayLike | None = None, bandwidth: float | None = None,
            level: float = 0.95, network_mode: Literal["auto", "matrix", "search"] = "auto",
            snap_max_m: float | None = None, bin_m: float = 1.0) -> KdResult:
    """Test a set of sites for localization with the Duranton–Overman K-density.

    See the module docs for the curve, the bands and the verdict.

    Parameters
    ----------
    sites_xy
        ``(n, 2)`` site coordinates in metres (a projected CRS; the network's CRS, EPSG:25831,
        for network distances).
    reference_xy
        ``(m, 2)`` possible sites the counterfactual draws from (e.g. the gazetteer's address
        points; the spaces' own locations to test one type against all spaces).
    distance
        ``"euclidean"``, a :class:`~cwsgeo.analysis.network.WalkNetwork` (walking distances),
        or a function ``f(xy_a, xy_b)`` returning the ``(len(a), len(b))`` distances.
    max_distance_m
        The curve's range (the grid runs from 0 to here).
    grid_step_m
        Grid spacing.
    n_sims
        Number of counterfactual draws.
    seed
        Seed of the draws (``None``: a fresh one, recorded in the result).
    weights
        One non-negative weight per reference point (e.g. residents): draws are proportional
        to it. Default: every reference point equally likely.
    bandwidth
        Kernel bandwidth in metres (default Silverman's rule on the observed distances up to
        ``max_distance_m``).
    level
        Share of simulated curves the global band contains entirely.
    network_mode
        With a network: ``"matrix"`` (node-to-node matrix, fast), ``"search"`` (a bounded
        search per simulation, small memory) or ``"auto"``.
    snap_max_m
        With a network: points farther than this from it are off the network (default
        :data:`cwsgeo.settings.snap_max_m`); sites off it raise, reference points off it are
        not drawn.
    bin_m
        Distances are binned at this width before smoothing.

    Returns
    -------
    KdResult

    Examples
    --------
    >>> res = kd_test(spaces_xy, addresses_xy, n_sims=999, seed=1)     # doctest: +SKIP
    >>> res.localized, res.localized_distances_m                      # doctest: +SKIP
    (True, [[0.0, 1250.0]])
    >>> res.curve_frame().to_csv("kd_spaces.csv", index=False)         # doctest: +SKIP
    """
    sites = as_xy(sites_xy, "sites_xy")
    reference = as_xy(reference_xy, "reference_xy")
    return _run("kd", sites, reference, None, distance=distance,
                max_distance_m=float(max_distance_m), grid_step_m=float(grid_step_m),
                n_sims=int(n_sims), seed=seed, weights=weights, bandwidth=bandwidth,
                level=level, network_mode=network_mode, snap_max_m=snap_max_m, bin_m=bin_m)


def kd_cross_test(a_xy: npt.ArrayLike, b_xy: npt.ArrayLike, reference_xy: npt.ArrayLike, *,
                  distance: Distance = "euclidean", max_distance_m: float = 3000.0,
                  grid_step_m: float = 10.0, n_sims: int = 999, seed: int | None = 0,
                  weights: npt.ArrayLike | None = None, bandwidth: float | None = None,
                  level: float = 0.95,
                  network_mode: Literal["auto", "matrix", "search"] = "auto",
                  snap_max_m: float | None = None, bin_m: float = 1.0,
                  b_off_network: Literal["raise", "drop"] = "raise") -> KdResult:
    """Test set ``a`` for co-agglomeration with set ``b`` (bivariate K-density).

    The curve is the K-density of the ``n_a * n_b`` distances between the sets. The
    counterfactual keeps ``b`` where it is and draws ``n_a`` sites from ``reference_xy``
    (see the module docs for why); "localized" then means ``a`` lies closer to ``b`` than
    the reference set would place it, at the distances given.

    Parameters
    ----------
    a_xy
        ``(n_a, 2)`` coordinates of the set that is redrawn (e.g. coworking spaces).
    b_xy
        ``(n_b, 2)`` coordinates of the fixed set (e.g. cafés, metro stations).
    reference_xy
        ``(m, 2)`` possible sites for ``a``.
    distance, max_distance_m, grid_step_m, n_sims, seed, weights, bandwidth, level
        As in :func:`kd_test`.
    network_mode, snap_max_m, bin_m
        As in :func:`kd_test`.
    b_off_network
        With a network, points of ``b`` farther than ``snap_max_m`` from it (e.g. metro
        stations outside the city's street graph) raise (``"raise"``) or are left out of the
        test and counted in ``parameters["b_left_out"]`` (``"drop"``).

    Returns
    -------
    KdResult
        ``name="kd_cross"``, ``n = n_a``, ``parameters["n_b"]``.

    Examples
    --------
    >>> res = kd_cross_test(spaces_xy, cafes_xy, addresses_xy, distance=net)  # doctest: +SKIP
    >>> res.to_dict()["localized_distances_m"]                              # doctest: +SKIP
    """
    if b_off_network not in ("raise", "drop"):
        raise ValueError(f"b_off_network must be 'raise' or 'drop', got {b_off_network!r}")
    a = as_xy(a_xy, "a_xy")
    b = as_xy(b_xy, "b_xy")
    reference = as_xy(reference_xy, "reference_xy")
    return _run("kd_cross", a, reference, b, distance=distance,
                max_distance_m=float(max_distance_m), grid_step_m=float(grid_step_m),
                n_sims=int(n_sims), seed=seed, weights=weights, bandwidth=bandwidth,
                level=level, network_mode=network_mode, snap_max_m=snap_max_m, bin_m=bin_m,
                drop_b=b_off_network == "drop")
