"""Duranton–Overman K-density: the curve, the global band, the verdicts, network distances."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import pdist

from cwsgeo.analysis.network import WalkNetwork
from cwsgeo.analysis.stats.kd import (
    global_band,
    kd_cross_test,
    kd_curve,
    kd_test,
    silverman_bandwidth,
)

SQUARE = 3000.0  # the synthetic "city" is a 3 km square


def direct_kd(distances: np.ndarray, n_pairs: int, grid: np.ndarray, h: float) -> np.ndarray:
    """The textbook reflected-Gaussian K-density, one kernel per distance (no binning)."""
    g, d = grid[:, None], np.asarray(distances)[None, :]
    k = np.exp(-0.5 * ((g - d) / h) ** 2) + np.exp(-0.5 * ((g + d) / h) ** 2)
    return k.sum(axis=1) / (n_pairs * h * np.sqrt(2 * np.pi))


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return np.random.default_rng(42).uniform(0, SQUARE, (4000, 2))


# ----------------------------------------------------------------------------- the curve
def test_kd_integrates_to_one_over_its_support() -> None:
    xy = np.random.default_rng(0).uniform(0, 1000, (60, 2))
    d = pdist(xy)
    h = silverman_bandwidth(d)
    grid = np.arange(0.0, d.max() + 6 * h, 1.0)
    kd = kd_curve(d, 60, grid)
    assert np.trapezoid(kd, grid) == pytest.approx(1.0, abs=2e-3)
    # reflection keeps the mass at 0: a curve without it would hold ~1 - P(d < 0)
    assert kd[0] > 0


def test_binned_curve_matches_the_direct_formula() -> None:
    xy = np.random.default_rng(1).uniform(0, 2000, (80, 2))
    d = pdist(xy)
    grid = np.arange(0.0, 3001.0, 10.0)
    h = 120.0
    got = kd_curve(d, 80, grid, bandwidth=h)
    want = direct_kd(d[d < 3000 + 4 * h], 80 * 79 // 2, grid, h)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * want.max())


def test_silverman_bandwidth_formula() -> None:
    d = np.arange(1.0, 101.0)
    sd, iqr = np.std(d, ddof=1), np.percentile(d, 75) - np.percentile(d, 25)
    assert silverman_bandwidth(d) == pytest.approx(0.9 * min(sd, iqr / 1.34) * 100 ** -0.2)
    with pytest.raises(ValueError, match="two distinct"):
        silverman_bandwidth([5.0, 5.0])


# ------------------------------------------------------------------------- the global band
def test_global_band_holds_the_share_of_whole_curves_judged_against_the_others() -> None:
    rng = np.random.default_rng(3)
    t = np.linspace(0, 1, 12)  # smooth curves with a little noise, like K-densities
    curves = (rng.normal(size=(400, 1)) + rng.normal(size=(400, 1)) * t
              + 0.2 * rng.normal(size=(400, 12)))
    lo, hi, conf = global_band(curves, 0.95)
    m, ordered = len(curves), np.sort(curves, axis=0)
    k = int(np.flatnonzero((ordered == lo).all(axis=1))[0]) + 1

    def loo_share(cut: int) -> float:
        inside = []
        for i in range(m):
            others = np.sort(np.delete(curves, i, axis=0), axis=0)
            inside.append(((curves[i] >= others[cut - 1])
                           & (curves[i] <= others[m - 1 - cut])).all())
        return float(np.mean(inside))

    assert k > 1 and conf == pytest.approx(loo_share(k)) and conf >= 0.95
    assert loo_share(k + 1) < 0.95  # the next narrower band would hold fewer
    np.testing.assert_array_equal(hi, ordered[m - k])
    local_lo, local_hi = np.quantile(curves, [0.05, 0.95], axis=0)
    assert (lo <= local_lo).all() and (hi >= local_hi).all()
    # too few curves for the level: the envelope, with its honest (lower) share
    lo3, _hi3, conf3 = global_band(curves[:30], 0.95)
    np.testing.assert_array_equal(lo3, curves[:30].min(axis=0))
    assert conf3 < 0.95


# -------------------------------------------------------------------------------- verdicts
def test_sites_drawn_from_the_reference_stay_inside_the_global_band(reference) -> None:
    excursions = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        sites = reference[rng.choice(len(reference), 40, replace=False)]
        res = kd_test(sites, reference, max_distance_m=1500, n_sims=999, seed=seed)
        assert res.global_confidence >= 0.95
        excursions += res.localized or res.dispersed
    # nominal rate 5 % of 8 runs = 0.4; two or more would be a miscalibrated band
    assert excursions <= 1


def test_a_tight_cluster_is_localized_at_short_distances(reference) -> None:
    rng = np.random.default_rng(5)
    centre = np.array([1500.0, 1500.0])
    angle, radius = rng.uniform(0, 2 * np.pi, 40), 300 * np.sqrt(rng.uniform(0, 1, 40))
    sites = centre + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    res = kd_test(sites, reference, max_distance_m=2000, n_sims=199, seed=1)
    assert res.localized and not res.dispersed
    ranges = res.localized_distances_m
    assert ranges[0][0] == 0.0 and ranges[0][1] <= 700
    assert not res.above[res.distance_m > 800].any()
    assert res.to_dict()["verdict"] == "localized"


def test_a_regular_lattice_is_dispersed(reference) -> None:
    step = SQUARE / 7
    g = (np.arange(7) + 0.5) * step
    sites = np.array([(x, y) for x in g for y in g])
    res = kd_test(sites, reference, max_distance_m=1500, n_sims=199, seed=2, bandwidth=150)
    assert res.dispersed and not res.localized
    assert res.dispersed_distances_m[0][0] == 0.0
    assert res.to_dict()["verdict"] == "dispersed"


def test_residents_weights_change_the_counterfactual() -> None:
    rng = np.random.default_rng(9)
    west = rng.uniform([0, 0], [1000, 3000], (2000, 2))
    east = rng.uniform([2000, 0], [3000, 3000], (2000, 2))
    reference = np.vstack([west, east])
    sites = west[rng.choice(len(west), 40, replace=False)]
    weights = np.r_[np.ones(len(west)), np.zeros(len(east))]
    kw = {"max_distance_m": 2500, "n_sims": 99, "seed": 4}
    assert kd_test(sites, reference, **kw).localized  # against the whole city: concentrated
    weighted = kd_test(sites, reference, weights=weights, **kw)
    assert not weighted.localized and not weighted.dispersed
    assert weighted.parameters["reference_n"] == len(west)
    assert weighted.to_dict()["parameters"]["weighted"] is True


def test_same_seed_same_result_and_the_seed_is_recorded(reference) -> None:
    sites = reference[:30]
    a = kd_test(sites, reference, n_sims=49, seed=7, max_distance_m=1000)
    b = kd_test(sites, reference, n_sims=49, seed=7, max_distance_m=1000)
    c = kd_test(sites, reference, n_sims=49, seed=8, max_distance_m=1000)
    np.testing.assert_array_equal(a.global_hi, b.global_hi)
    assert not np.array_equal(a.global_hi, c.global_hi)
    fresh = kd_test(sites, reference, n_sims=49, seed=None, max_distance_m=1000)
    again = kd_test(sites, reference, n_sims=49, seed=fresh.seed, max_distance_m=1000)
    np.testing.assert_array_equal(fresh.local_lo, again.local_lo)


def test_result_frame_and_json(reference) -> None:
    res = kd_test(reference[:25], reference, n_sims=29, seed=0, max_distance_m=500,
                  grid_step_m=50)
    frame = res.curve_frame()
    assert list(frame.columns) == ["distance_m", "kd", "local_lo", "local_hi", "global_lo",
                                   "global_hi"]
    assert frame["distance_m"].tolist() == list(np.arange(0.0, 501.0, 50.0))
    out = json.loads(json.dumps(res.to_dict()))
    for key in ("localized", "dispersed", "localized_distances_m", "global_confidence", "n",
                "n_sims", "seed", "bandwidth", "distance"):
        assert key in out
    assert out["n"] == 25 and out["distance"] == "euclidean" and out["n_sims"] == 29


def test_bad_inputs_name_the_problem(reference) -> None:
    bad = reference[:10].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"sites_xy: 1 row.*rows 3"):
        kd_test(bad, reference)
    with pytest.raises(ValueError, match="weights: 3 values for 4000"):
        kd_test(reference[:10], reference, weights=[1, 2, 3])
    with pytest.raises(ValueError, match="distance must be"):
        kd_test(reference[:10], reference, distance="manhattan")  # type: ignore[arg-type]


# -------------------------------------------------------------------------- co-agglomeration
def test_cross_kd_of_a_set_with_itself_adds_the_self_pairs(reference) -> None:
    a = reference[:30]
    h = 80.0
    uni = kd_test(a, reference, n_sims=29, bandwidth=h, max_distance_m=1000)
    cross = kd_cross_test(a, a, reference, n_sims=29, bandwidth=h, max_distance_m=1000)
    self_pairs = direct_kd(np.zeros(1), 1, uni.distance_m, h)  # one pair at distance 0
    n = len(a)
    np.testing.assert_allclose(cross.kd, (n - 1) / n * uni.kd + self_pairs / n, rtol=1e-3,
                               atol=1e-9)
    assert cross.name == "kd_cross" and cross.parameters["n_b"] == n


def test_cross_kd_finds_co_location_and_not_independence(reference) -> None:
    rng = np.random.default_rng(11)
    b = reference[rng.choice(len(reference), 60, replace=False)]
    near = b[:40] + rng.normal(0, 25, (40, 2))
    res = kd_cross_test(near, b, reference, max_distance_m=1500, n_sims=199, seed=3)
    assert res.localized and res.localized_distances_m[0][0] == 0.0
    indep = 0
    for seed in range(4):
        a = np.random.default_rng(50 + seed).uniform(0, SQUARE, (40, 2))
        r = kd_cross_test(a, b, reference, max_distance_m=1500, n_sims=999, seed=seed)
        indep += r.localized or r.dispersed
    assert indep <= 1


# ---------------------------------------------------------------------------- the network
def square_network() -> WalkNetwork:
    """A 100 m square A(0,0) B(100,0) C(100,100) D(0,100), plus a 60 m spur C–E(160,100)."""
    x = np.array([0.0, 100.0, 100.0, 0.0, 160.0])
    y = np.array([0.0, 0.0, 100.0, 100.0, 100.0])
    edges = [(0, 1, 100.0), (1, 2, 100.0), (2, 3, 100.0), (3, 0, 100.0), (2, 4, 60.0)]
    i, j, w = (np.array(c) for c in zip(*edges, strict=True))
    adj = sparse.csr_array((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(5, 5))
    return WalkNetwork(np.arange(5), x, y, adj)


def test_network_kd_on_a_toy_graph_equals_the_hand_computed_curve() -> None:
    net = square_network()
    # P on AB 20 m from A; Q on AB 70 m from A, 5 m off the street; R on BC 30 m up from B;
    # S on the spur 10 m past C, 4 m off it.
    sites = np.array([[20.0, 0.0], [70.0, -5.0], [100.0, 30.0], [110.0, 104.0]])
    by_hand = {
        ("P", "Q"): 50 + 5,              # along AB, then 5 m to Q
        ("P", "R"): 80 + 30,             # P→B 80, B→R 30
        ("P", "S"): 80 + 100 + 10 + 4,   # P→B→C, 10 m along the spur, 4 m off
        ("Q", "R"): 5 + 30 + 30,         # Q to AB (5), 30 m to B, 30 m up
        ("Q", "S"): 5 + 30 + 100 + 14,
        ("R", "S"): 70 + 14,             # R→C 70, C→S 10 + 4
    }
    d = np.array(list(by_hand.values()), dtype=float)
    assert not np.allclose(d, pdist(sites))  # straight lines would differ
    reference = np.array([[50.0, 100.0], [0.0, 50.0], [100.0, 80.0], [130.0, 100.0],
                          [40.0, 0.0], [0.0, 10.0]])
    h, grid = 30.0, np.arange(0.0, 301.0, 5.0)
    kw = {"distance": net, "bandwidth": h, "max_distance_m": 300, "grid_step_m": 5,
          "n_sims": 20, "seed": 0, "bin_m": 0.01}
    res = kd_test(sites, reference, **kw)
    np.testing.assert_allclose(res.kd, direct_kd(d, 6, grid, h), rtol=1e-3, atol=1e-9)
    assert res.distance == "network" and res.parameters["network_mode"] == "matrix"
    search = kd_test(sites, reference, network_mode="search", **kw)
    assert search.parameters["network_mode"] == "search"
    # the matrix keeps uint16 steps (cutoff / 65534: 5 mm here, against 1 cm bins and a
    # 30 m kernel); on the bundle the network Kd's gamma moves by 2e-5 relative
    np.testing.assert_allclose(search.kd, res.kd, rtol=2e-3)
    np.testing.assert_allclose(search.global_hi, res.global_hi, rtol=2e-3)


def test_network_cross_kd_on_the_toy_graph() -> None:
    net = square_network()
    a = np.array([[20.0, 0.0], [100.0, 30.0]])
    b = np.array([[0.0, 100.0], [70.0, -5.0]])
    d = np.array([20 + 100, 55, 70 + 100, 65])  # P→D (via A), P→Q, R→D (via C), R→Q
    reference = np.array([[50.0, 100.0], [0.0, 50.0], [100.0, 80.0], [130.0, 100.0]])
    h, grid = 25.0, np.arange(0.0, 301.0, 5.0)
    res = kd_cross_test(a, b, reference, distance=net, bandwidth=h, max_distance_m=300,
                        grid_step_m=5, n_sims=20, bin_m=0.01)
    np.testing.assert_allclose(res.kd, direct_kd(d, 4, grid, h), rtol=1e-3, atol=1e-9)


def test_network_never_falls_back_to_straight_lines() -> None:
    net = square_network()
    reference = np.array([[50.0, 100.0], [0.0, 50.0], [100.0, 80.0], [900.0, 900.0]])
    far = np.array([[20.0, 0.0], [100.0, 30.0], [600.0, 600.0]])
    with pytest.raises(ValueError, match=r"sites: 1 point\(s\) farther.*rows 2"):
        kd_test(far, reference, distance=net, n_sims=20, bandwidth=20)
    res = kd_test(far[:2], reference, distance=net, n_sims=20, bandwidth=20,
                  max_distance_m=300)
    assert res.parameters["reference_left_out"] == 1 and res.parameters["reference_n"] == 3


def test_network_cross_kd_drops_or_refuses_b_points_off_the_network() -> None:
    net = square_network()
    a = np.array([[20.0, 0.0], [100.0, 30.0]])
    b = np.array([[0.0, 100.0], [70.0, -5.0], [800.0, 800.0]])
    reference = np.array([[50.0, 100.0], [0.0, 50.0], [100.0, 80.0], [130.0, 100.0]])
    kw = {"distance": net, "bandwidth": 25.0, "max_distance_m": 300, "n_sims": 20}
    with pytest.raises(ValueError, match=r"second set \(b\): 1 point"):
        kd_cross_test(a, b, reference, **kw)
    dropped = kd_cross_test(a, b, reference, b_off_network="drop", **kw)
    kept = kd_cross_test(a, b[:2], reference, **kw)
    np.testing.assert_allclose(dropped.kd, kept.kd)
    assert dropped.parameters["b_left_out"] == 1 and dropped.parameters["n_b"] == 2


def grid_network(k: int = 15, step: float = 50.0, seed: int = 0) -> WalkNetwork:
    """A ``k`` by ``k`` street grid whose edges are 0–30 % longer than their chords."""
    rng = np.random.default_rng(seed)
    xx, yy = np.meshgrid(np.arange(k) * step, np.arange(k) * step)
    node = np.arange(k * k).reshape(k, k)
    i = np.r_[node[:, :-1].ravel(), node[:-1, :].ravel()]
    j = np.r_[node[:, 1:].ravel(), node[1:, :].ravel()]
    w = step * (1 + 0.3 * rng.random(len(i)))
    adj = sparse.csr_array((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(k * k, k * k))
    return WalkNetwork(np.arange(k * k), xx.ravel(), yy.ravel(), adj)


def test_network_matrix_mode_gives_the_search_distances(monkeypatch) -> None:
    from cwsgeo.analysis.stats import _kd_distances
    from cwsgeo.analysis.stats._kd_distances import NetworkDistances

    # tiny search batches: the condensed matrix is filled over many of them
    monkeypatch.setattr(_kd_distances, "_REACH_BYTES", 1)
    net = grid_network()
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 450, (60, 2))  # the grid's far corner carries no point
    b = rng.uniform(100, 500, (25, 2))
    engines = {mode: NetworkDistances(net, points, 20, b, mode=mode)
               for mode in ("matrix", "search")}
    for engine in engines.values():
        engine.build(400.0)
    matrix, search = engines["matrix"], engines["search"]
    assert matrix.mode == "matrix" and search.mode == "search"
    assert matrix.matrix is not None and matrix.n_carriers < net.n_nodes
    assert len(matrix.matrix) == matrix.n_carriers * (matrix.n_carriers + 1) // 2
    for idx in (np.arange(20), rng.choice(60, 30, replace=False)):
        for got, want in ((matrix.within(idx), search.within(idx)),
                          (matrix.cross(idx), search.cross(idx))):
            near = want < 400.0
            assert near.sum() > 50 and (got[~near] >= 399.9).all()
            # uint16 steps of 400 m / 65534 (half a step: 3 mm) in float32
            np.testing.assert_allclose(got[near], want[near], rtol=1e-6, atol=400.0 / 65534)


# ------------------------------------------------------------ compiled counts (issue 13)
def loop_counts(engine, idx: np.ndarray, cross: bool, cutoff: float, bin_m: float,
                n_bins: int) -> np.ndarray:
    """The reference: bin each row's distance array (``pdist``/``cdist``, the network's)."""
    from cwsgeo.analysis.stats._kd_distances import _Distances

    return _Distances.counts(engine, idx, cross, cutoff, bin_m, n_bins)


@pytest.mark.parametrize("case", range(8))
def test_compiled_straight_line_counts_equal_the_binned_distance_arrays(case) -> None:
    from cwsgeo.analysis.stats._kd_distances import EuclideanDistances

    rng = np.random.default_rng(case)
    scale = (50.0, 3000.0, 20000.0, 1e6)[case % 4]
    xy = rng.uniform(0, scale, (1500, 2)) + np.array([430_000.0, 4_580_000.0]) * (case % 2)
    if case % 3 == 0:  # lattice points: ties, distances on bin edges and on the cutoff
        xy = np.round(xy / 7.0) * 7.0
    xy[:5] = xy[5]  # coincident points (distance 0)
    b = np.r_[xy[rng.choice(len(xy), 300)], [[-1e4, -1e4]]]  # one far off the grid
    cutoff = (35.0, 7.0 * 60, scale * 0.3, 35.0)[case % 4]
    # case 0: at 35 m the last bin is 11 of 12; powers of two are multiplied by 1 / bin_m
    bin_m = (3.0, 7.0, 0.37, 2.0, 1.0, 0.5, 1.0, 7.0)[case]
    n_bins = int(np.ceil(cutoff / bin_m))
    idx = np.array([rng.choice(len(xy), 400, replace=False) for _ in range(6)])
    idx[0, :6] = np.arange(6)
    engine = EuclideanDistances(xy, b)
    engine.build(cutoff)
    for cross in (False, True):
        got = engine.counts(idx, cross, cutoff, bin_m, n_bins)
        assert got.dtype == np.int64 and got.shape == (6, n_bins)
        np.testing.assert_array_equal(got, loop_counts(engine, idx, cross, cutoff, bin_m,
                                                       n_bins))
    assert got.sum() > 0


@pytest.mark.parametrize("block_bytes", [1, 4000, 32 * 2**20])
def test_cross_counts_of_points_drawn_by_many_simulations_in_blocks(monkeypatch,
                                                                   block_bytes) -> None:
    """Each drawn point's bins are computed once and added to every simulation drawing it."""
    from cwsgeo.analysis.stats import _kd_kernels
    from cwsgeo.analysis.stats._kd_distances import EuclideanDistances

    monkeypatch.setattr(_kd_kernels, "_CROSS_BYTES", block_bytes)  # 1 point, a few, all
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 2000, (120, 2))
    b = rng.uniform(0, 2000, (90, 2))
    idx = np.array([rng.choice(len(xy), 40, replace=False) for _ in range(25)])
    engine = EuclideanDistances(xy, b)
    got = engine.counts(idx, True, 900.0, 1.0, 900)
    assert got.dtype == np.int64 and got.shape == (25, 900)
    np.testing.assert_array_equal(got, loop_counts(engine, idx, True, 900.0, 1.0, 900))
    empty = _kd_kernels.cross_counts(xy, idx[:0], b, 900.0, 1.0, 900)
    assert empty.shape == (0, 900) and empty.dtype == np.int64
    none = _kd_kernels.cross_counts(xy, idx, b[:0], 900.0, 1.0, 900)
    assert none.shape == (25, 900) and not none.any()


@pytest.mark.parametrize("bin_m", [1.0, 0.7, 0.25])
def test_compiled_counts_of_pairs_a_few_ulps_from_bin_edges_and_the_cutoff(bin_m) -> None:
    """Pairs within 3 ulp of a bin edge or the cutoff: the bins of ``pdist``/``cdist``.

    (A ``hypot`` for ``sqrt(dx * dx + dy * dy)`` fails here.)
    """
    from cwsgeo.analysis.stats._kd_distances import EuclideanDistances

    rng = np.random.default_rng(7)
    cutoff = 3000.0 + 4 * 123.456789
    n_bins = int(np.ceil(cutoff / bin_m))
    edges = np.r_[rng.integers(1, n_bins, 20_000) * bin_m, [cutoff] * 2_000]
    ulps = rng.integers(-3, 4, len(edges)).astype(float)
    d = edges * (1.0 + ulps * 2.0**-52)
    theta = rng.uniform(0, 2 * np.pi, len(d))
    p = rng.uniform(0, 5000, (len(d), 2)) + np.array([430_000.0, 4_580_000.0])
    q = p + d[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    xy = np.vstack([p, q])
    pairs = np.column_stack([np.arange(len(d)), len(d) + np.arange(len(d))])
    idx = pairs.reshape(50, -1)  # 440 pairs a row (and the other pairs of the row)
    engine = EuclideanDistances(xy, q)
    got = engine.counts(idx, False, cutoff, bin_m, n_bins)
    np.testing.assert_array_equal(got, loop_counts(engine, idx, False, cutoff, bin_m, n_bins))
    engine = EuclideanDistances(xy, q[-300:])  # each near the cutoff from its own p
    rows = pairs[-300:, 0].reshape(30, 10)
    got = engine.counts(rows, True, cutoff, bin_m, n_bins)
    np.testing.assert_array_equal(got, loop_counts(engine, rows, True, cutoff, bin_m, n_bins))


def test_compiled_counts_keep_a_pair_just_inside_the_cutoff_across_cells() -> None:
    """The search reach keeps its margin: a pair at cutoff (1 - 2e-7), its cells ~1e-6 apart."""
    from cwsgeo.analysis.stats._kd_distances import EuclideanDistances

    c = 3517.3291
    a = np.array([c * 5e-7, 0.0])
    xy = np.array([a, a + np.array([c * (1 - 2e-7), 0.0]), [0.0, 10 * c]])  # x0 = 0
    engine = EuclideanDistances(xy, xy[1:])
    for cross, idx in ((False, np.array([[0, 1, 2]])), (True, np.array([[0]]))):
        got = engine.counts(idx, cross, c, 1.0, int(np.ceil(c)))
        assert got[0, int(c * (1 - 2e-7))] == 1
        np.testing.assert_array_equal(got, loop_counts(engine, idx, cross, c, 1.0,
                                                       int(np.ceil(c))))


def test_kd_tests_equal_the_draw_then_bin_loop(monkeypatch, reference) -> None:
    """End to end: the compiled counts give the results of binning every distance array."""
    from cwsgeo.analysis.stats._kd_distances import EuclideanDistances, _Distances

    rng = np.random.default_rng(5)
    sites = reference[rng.choice(len(reference), 40, replace=False)]
    b = reference[rng.choice(len(reference), 30, replace=False)]
    runs = (lambda: kd_test(sites, reference, n_sims=39, seed=3),
            lambda: kd_cross_test(sites, b, reference, n_sims=39, seed=3))
    compiled = [run() for run in runs]
    monkeypatch.setattr(EuclideanDistances, "counts", _Distances.counts)
    for new, run in zip(compiled, runs, strict=True):
        old = run()
        for name in ("kd", "local_lo", "local_hi", "global_lo", "global_hi"):
            np.testing.assert_array_equal(getattr(new, name), getattr(old, name))
        assert new.to_dict() == old.to_dict()


def test_compiled_counts_without_a_cutoff_count_every_pair() -> None:
    from cwsgeo.analysis.stats._kd_kernels import within_counts

    xy = np.random.default_rng(3).uniform(0, 100, (50, 2))
    counts = within_counts(xy, np.arange(50)[None, :], np.inf, 1.0, 200)
    assert counts.sum() == 50 * 49 // 2


def test_compiled_network_counts_equal_the_binned_walking_distances() -> None:
    from cwsgeo.analysis.stats._kd_distances import NetworkDistances

    net = grid_network()
    rng = np.random.default_rng(11)
    points = rng.uniform(0, 700, (300, 2))
    points[:40] = np.round(points[:40] / 50.0) * 50.0  # on nodes, and shared edges
    b = np.r_[points[rng.choice(300, 30)], rng.uniform(0, 700, (30, 2))]
    engine = NetworkDistances(net, points, 20, b, mode="matrix")
    cutoff = 400.0
    engine.build(cutoff)
    assert engine.mode == "matrix"
    idx = np.array([rng.choice(300, 60, replace=False) for _ in range(5)])
    idx[0, :40] = np.arange(40)
    for bin_m in (1.0, 0.7):
        n_bins = int(np.ceil(cutoff / bin_m))
        for cross in (False, True):
            got = engine.counts(idx, cross, cutoff, bin_m, n_bins)
            np.testing.assert_array_equal(got, loop_counts(engine, idx, cross, cutoff, bin_m,
                                                           n_bins))
            assert 0 < got.sum() < idx.shape[0] * 60 * (60 if cross else 30)
