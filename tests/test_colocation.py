"""Co-location quotients: random, co-located and segregated patterns, ties, local vs global,
and the vectorised code against a brute-force reading of the formulas."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cwsgeo.analysis.stats.colocation import colocation_points, global_clq, local_clq

CRS = "EPSG:25831"


def _pop(groups: dict[str, np.ndarray]) -> gpd.GeoDataFrame:
    labels = np.concatenate([[k] * len(v) for k, v in groups.items()])
    xy = np.concatenate(list(groups.values()))
    return gpd.GeoDataFrame({"label": labels},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def _uniform(rng: np.random.Generator, n: int, size: float = 5000.0) -> np.ndarray:
    return rng.uniform(0, size, size=(n, 2))


def _row(res, b: str) -> pd.Series:  # type: ignore[no-untyped-def]
    return res.table.set_index("b").loc[b]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_independent_random_patterns_give_about_one_and_no_significance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = _pop({"A": _uniform(rng, 250), "B": _uniform(rng, 400), "C": _uniform(rng, 600)})
    res = global_clq(pts, a="A", n_sims=499, seed=seed)
    for b in ("B", "C"):
        row = _row(res, b)
        assert 0.7 < row["clq"] < 1.3, (b, row["clq"])
        assert row["p_high"] > 0.01 and row["p_low"] > 0.01, row.to_dict()
    loc = local_clq(pts, a="A", b="B", n_sims=199, seed=seed)
    assert (loc.table["p_high_B"] <= 0.05).mean() < 0.12  # about alpha, not a cluster
    assert abs(loc.table["clq_B"].mean() - 1) < 0.2


def test_colocated_pairs_are_above_one_and_significant() -> None:
    rng = np.random.default_rng(7)
    a = _uniform(rng, 100)
    # four B within a few metres of each A (one B alone among k = 8 kernel neighbours is
    # not enough for a local test: P(at least one B among 8 random labels) is large)
    b = np.repeat(a, 4, axis=0) + rng.uniform(-3, 3, size=(400, 2))
    pts = _pop({"A": a, "B": b, "C": _uniform(rng, 3000)})
    res = global_clq(pts, a="A", n_sims=199, seed=1)
    assert _row(res, "B")["clq"] > 3
    assert _row(res, "B")["p_high"] <= 1 / 200 + 1e-12
    assert _row(res, "C")["clq"] < 1 and _row(res, "C")["p_low"] <= 0.01
    loc = local_clq(pts, a="A", b="B", n_sims=199, seed=1)
    assert (loc.table["clq_B"] > 1).mean() > 0.9
    assert (loc.table["p_high_B"] <= 0.05).mean() > 0.8


def test_segregated_patterns_are_below_one_and_significant() -> None:
    rng = np.random.default_rng(11)
    a = rng.uniform([0, 0], [2000, 5000], size=(150, 2))
    b = rng.uniform([3000, 0], [5000, 5000], size=(150, 2))
    pts = _pop({"A": a, "B": b, "C": _uniform(rng, 300)})
    row = _row(global_clq(pts, a="A", n_sims=199, seed=3), "B")
    assert row["clq"] < 0.2 and row["p_low"] <= 0.01 and row["p_high"] > 0.5


def test_ties_share_the_nearest_neighbour() -> None:
    # A at 0 with B at +1 and C at -1: half a B; without the tie, a whole B
    tied = _pop({"A": np.array([[0.0, 0], [500, 0]]), "B": np.array([[1.0, 0], [900, 0]]),
                 "C": np.array([[-1.0, 0], [700, 0]])})
    res = global_clq(tied, a="A", b=["B", "C"], n_sims=0)
    # the second A's nearest is C at 200 m
    assert _row(res, "B")["c_ab"] == 0.5 and _row(res, "C")["c_ab"] == 1.5
    untied = tied.copy()
    untied.geometry = gpd.points_from_xy([0, 500, 1, 900, -1.01, 700], [0] * 6, crs=CRS)
    assert _row(global_clq(untied, a="A", n_sims=0), "B")["c_ab"] == 1.0
    # within the tolerance counts as a tie (float noise by default, 1 mm if asked)
    near = tied.copy()
    near.geometry = gpd.points_from_xy([0, 500, 1, 900, -1.0000001, 700], [0] * 6, crs=CRS)
    assert _row(global_clq(near, a="A", n_sims=0), "B")["c_ab"] == 0.5
    near.geometry = gpd.points_from_xy([0, 500, 1, 900, -1.0001, 700], [0] * 6, crs=CRS)
    assert _row(global_clq(near, a="A", n_sims=0), "B")["c_ab"] == 1.0
    assert _row(global_clq(near, a="A", n_sims=0, tie_tol_m=1e-3), "B")["c_ab"] == 0.5


def test_coincident_points_tie_and_never_count_themselves() -> None:
    # two A and one B at the same address point, a C far away
    pts = _pop({"A": np.array([[0.0, 0], [0, 0]]), "B": np.array([[0.0, 0]]),
                "C": np.array([[100.0, 0]])})
    res = global_clq(pts, a="A", b=["A", "B", "C"], n_sims=0)
    # each A: nearest = the other A and the B (distance 0), half each
    assert _row(res, "B")["c_ab"] == 1.0 and _row(res, "A")["c_ab"] == 1.0
    assert _row(res, "C")["c_ab"] == 0.0
    # CLQ A->A uses N_A - 1 = 1 of N - 1 = 3; A->B uses N_B = 1 of 3
    assert _row(res, "A")["clq"] == pytest.approx((1 / 2) / (1 / 3))
    assert _row(res, "B")["clq"] == pytest.approx((1 / 2) / (1 / 3))


def _brute_global(xy: np.ndarray, lab: np.ndarray, a: str, b: str) -> float:
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    c = 0.0
    for i in np.flatnonzero(lab == a):
        nn = np.flatnonzero(d[i] <= d[i].min() + 1e-9)
        c += (lab[nn] == b).mean()
    n_b = (lab == b).sum() - (a == b)
    return (c / (lab == a).sum()) / (n_b / (len(lab) - 1))


def _brute_local(xy: np.ndarray, lab: np.ndarray, i: int, b: str, k: int) -> float:
    d = np.hypot(*(xy - xy[i]).T)
    d[i] = np.inf
    nn = np.argsort(d, kind="stable")[:k]
    h = d[nn].max()
    w = np.exp(-0.5 * (d[nn] / h) ** 2)
    n_b = (lab == b).sum() - (lab[i] == b)
    return float((w * (lab[nn] == b)).sum() / w.sum() / (n_b / (len(lab) - 1)))


def test_vectorised_values_match_the_formulas_on_a_grid_full_of_ties() -> None:
    rng = np.random.default_rng(5)
    xy = rng.integers(0, 12, size=(160, 2)).astype(float) * 10  # many ties and duplicates
    lab = rng.choice(np.array(["A", "B", "C"]), size=160, p=[0.3, 0.3, 0.4])
    pts = gpd.GeoDataFrame({"label": lab}, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
                           crs=CRS)
    res = global_clq(pts, a=["A", "B"], b=["A", "B", "C"], n_sims=0)
    for row in res.table.itertuples():
        assert row.clq == pytest.approx(_brute_global(xy, lab, row.a, row.b))
    # local values on distinct points (no tie at the k-th neighbour)
    xy2 = rng.uniform(0, 1000, size=(120, 2))
    pts2 = gpd.GeoDataFrame({"label": lab[:120]},
                            geometry=gpd.points_from_xy(xy2[:, 0], xy2[:, 1]), crs=CRS)
    loc = local_clq(pts2, a="A", b=["B", "C"], k=5, n_sims=0)
    subj = np.flatnonzero(lab[:120] == "A")
    for pos, i in enumerate(subj):
        for b in ("B", "C"):
            assert loc.table[f"clq_{b}"].iloc[pos] == pytest.approx(
                _brute_local(xy2, lab[:120], i, b, 5))


def test_local_clq_with_one_neighbour_averages_to_the_global_one() -> None:
    rng = np.random.default_rng(9)
    a = _uniform(rng, 120)
    pts = _pop({"A": a, "B": np.concatenate([a[:60] + 2, _uniform(rng, 200)]),
                "C": _uniform(rng, 300)})
    glob = global_clq(pts, a="A", n_sims=0).table.set_index("b")["clq"]
    loc = local_clq(pts, a="A", k=1, n_sims=0).table
    for b in ("B", "C"):
        assert loc[f"clq_{b}"].mean() == pytest.approx(glob[b])
    # the smoothed version (k = 8) stays close on the same data
    loc8 = local_clq(pts, a="A", n_sims=0).table
    assert loc8["clq_B"].mean() == pytest.approx(glob["B"], rel=0.35)


def test_seeded_simulations_are_reproducible_and_p_values_in_range() -> None:
    rng = np.random.default_rng(4)
    pts = _pop({"A": _uniform(rng, 50), "B": _uniform(rng, 80), "C": _uniform(rng, 90)})
    r1 = global_clq(pts, a="A", n_sims=99, seed=42).table
    r2 = global_clq(pts, a="A", n_sims=99, seed=42).table
    pd.testing.assert_frame_equal(r1, r2)
    assert r1["p_high"].between(0.01, 1).all() and r1["p_low"].between(0.01, 1).all()
    assert ((r1["p_high"] + r1["p_low"]) >= 1).all()  # the two sides overlap at ties
    l1 = local_clq(pts, a="A", n_sims=99, seed=42).table
    pd.testing.assert_frame_equal(l1, local_clq(pts, a="A", n_sims=99, seed=42).table)
    assert not l1["p_high_B"].equals(local_clq(pts, a="A", n_sims=99, seed=43).table[
        "p_high_B"])


def test_results_are_json_ready_and_say_what_was_used() -> None:
    rng = np.random.default_rng(2)
    spaces = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(30)],
                               "innovation_type_estimated": [1, 2, None] * 10},
                              geometry=gpd.points_from_xy(*_uniform(rng, 30).T), crs=CRS)
    places = gpd.GeoDataFrame({"category": ["cafe", "bar"] * 40},
                              geometry=gpd.points_from_xy(*_uniform(rng, 80).T), crs=CRS)
    transit = gpd.GeoDataFrame({"mode": ["metro"] * 10},
                               geometry=gpd.points_from_xy(*_uniform(rng, 10).T), crs=CRS)
    pts = colocation_points(spaces.to_crs("EPSG:4326"), places, transit,
                            type_column="innovation_type_estimated")
    assert pts.crs == CRS and len(pts) == 120
    assert set(pts["label"]) == {"spaces_type1", "spaces_type2", "spaces_unclassified",
                                 "cafe", "bar", "metro"}
    res = global_clq(pts, a=["spaces_type1", "spaces_type2"], n_sims=19, seed=3)
    assert list(res.table.columns[:2]) == ["a", "b"] and len(res.table) == 2 * 4
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["n"] == 120 and out["seed"] == 3
    assert out["parameters"]["type_column"] == "innovation_type_estimated"
    assert {"a", "b", "n_a", "n_b", "clq", "p_high", "p_low", "n_sims", "seed"} <= set(
        out["pairs"][0])
    loc = local_clq(pts, a="spaces_type1", b=["cafe", "metro"], n_sims=19, seed=3)
    assert list(loc.table.index[:2]) == ["s0", "s3"] and loc.table.index.name == "id"
    summary = json.loads(json.dumps(loc.to_dict(), allow_nan=False))
    assert summary["n_a"] == 10 and set(summary["targets"]) == {"cafe", "metro"}


def test_bad_inputs_name_the_rows_and_labels() -> None:
    pts = _pop({"A": np.zeros((2, 2)), "B": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"a \['Z'\] not among the labels"):
        global_clq(pts, a="Z")
    broken = pts.copy()
    broken.loc[2, "geometry"] = None
    with pytest.raises(ValueError, match=r"rows \['2'\] have no point"):
        global_clq(broken, a="A")
    places = gpd.GeoDataFrame({"category": ["metro"]}, geometry=gpd.points_from_xy([0], [0]),
                              crs=CRS)
    transit = places.rename(columns={"category": "mode"})
    with pytest.raises(ValueError, match="names both places and transit"):
        colocation_points(pts.iloc[:1], places, transit)
    with pytest.raises(ValueError, match="k=5 neighbours but only 3"):
        local_clq(pts, a="A", k=5)
