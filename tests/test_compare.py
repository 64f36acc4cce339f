"""Comparisons by innovation type: effect sizes, bootstrap, permutation tests, warnings, JSON."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cwsgeo.analysis.stats.compare import _holm as holm
from cwsgeo.analysis.stats.compare import (
    bootstrap_median_ci,
    cliffs_delta,
    cliffs_magnitude,
    compare_by_type,
    permutation_median_test,
)


def brute_cliff(x, y) -> float:
    pairs = list(itertools.product(x, y))
    return (sum(a > b for a, b in pairs) - sum(a < b for a, b in pairs)) / len(pairs)


def typed_frame(sizes: dict[int, int], shift: dict[int, float] | None = None,
                seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shift = shift or {}
    rows = [(t, v + shift.get(t, 0.0)) for t, n in sizes.items() for v in rng.normal(size=n)]
    return pd.DataFrame(rows, columns=["innovation_type_estimated", "score"])


# ------------------------------------------------------------------------------ Cliff's delta
def test_cliffs_delta_of_hand_computed_samples():
    # x > y: (3, 2) once; x < y: (1, 2), (1, 4), (2, 4), (3, 4); one tie (2, 2)
    assert cliffs_delta([1, 2, 3], [2, 4]) == pytest.approx((1 - 4) / 6)
    assert cliffs_delta([10, 20, 30], [1, 2, 3]) == 1.0
    assert cliffs_delta([1, 2], [5, 6, 7]) == -1.0
    assert cliffs_delta([1, 2, np.nan], [1, 2]) == 0.0  # NaN dropped; ties count for nothing
    assert np.isnan(cliffs_delta([], [1.0]))


def test_cliffs_delta_matches_brute_force_with_ties():
    rng = np.random.default_rng(7)
    for _ in range(20):
        x, y = rng.integers(0, 6, size=13), rng.integers(0, 6, size=9)
        assert cliffs_delta(x, y) == pytest.approx(brute_cliff(x, y))


@pytest.mark.parametrize(("delta", "label"), [
    (0.0, "negligible"), (-0.146, "negligible"), (0.147, "small"), (-0.32, "small"),
    (0.33, "medium"), (0.47, "medium"), (-0.474, "large"), (1.0, "large"), (np.nan, "")])
def test_cliffs_magnitude_labels(delta, label):
    assert cliffs_magnitude(delta) == label


# ------------------------------------------------------------------------------- bootstrap
def test_bootstrap_ci_covers_the_true_median_about_95_percent():
    # Exponential(1): true median ln 2; 200 samples of 40, each with its own seed.
    rng = np.random.default_rng(2024)
    hits = 0
    for seed in range(200):
        low, high = bootstrap_median_ci(rng.exponential(size=40), seed=seed)
        hits += low <= np.log(2) <= high
    assert 0.88 <= hits / 200 <= 0.99


def test_bootstrap_ci_is_seeded_and_brackets_the_median():
    x = np.random.default_rng(3).normal(10, 2, size=60)
    a, b = bootstrap_median_ci(x, seed=5), bootstrap_median_ci(x, seed=5)
    assert a == b and a[0] < np.median(x) < a[1]
    assert bootstrap_median_ci(x, seed=6) != a
    assert bootstrap_median_ci([4.0]) == (4.0, 4.0)
    assert all(np.isnan(bootstrap_median_ci([np.nan])))
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_median_ci(x, confidence=95)


# ----------------------------------------------------------------------------- permutation
def test_permutation_p_is_small_for_shifted_groups():
    rng = np.random.default_rng(11)
    x, y = rng.normal(1.5, 1, size=30), rng.normal(0, 1, size=30)
    diff, p = permutation_median_test(x, y, seed=1)
    assert diff == pytest.approx(np.median(x) - np.median(y))
    assert p < 0.001 and p >= 1 / 10_000  # never 0: the observed labelling counts


def test_permutation_p_is_not_small_for_equal_groups():
    rng = np.random.default_rng(12)
    ps = [permutation_median_test(rng.normal(size=25), rng.normal(size=25), seed=s,
                                  n_permutations=999)[1] for s in range(40)]
    assert np.mean(np.array(ps) < 0.05) <= 0.15  # ~5 % expected
    assert np.median(ps) > 0.3
    same = [1.0, 2.0, 3.0, 4.0]
    assert permutation_median_test(same, same, n_permutations=99)[1] == 1.0


def test_permutation_p_approaches_the_exact_p_of_all_relabellings():
    x, y = np.array([1.0, 3.0, 4.0, 8.0]), np.array([0.0, 2.0, 2.5, 5.0])
    pooled, observed = np.concatenate([x, y]), np.median(x) - np.median(y)
    extreme = [abs(np.median(pooled[list(a)]) - np.median(np.delete(pooled, list(a))))
               >= abs(observed) - 1e-12 for a in itertools.combinations(range(8), 4)]
    exact = np.mean(extreme)  # 70 relabellings
    assert permutation_median_test(x, y, seed=3)[1] == pytest.approx(exact, abs=0.02)


def test_holm_adjustment_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    out = holm([0.5, np.nan, 0.6])
    assert out[0] == pytest.approx(1.0) and np.isnan(out[1]) and out[2] == pytest.approx(1.0)


# -------------------------------------------------------------------------- compare_by_type
def test_kruskal_and_spearman_match_scipy():
    frame = typed_frame({1: 30, 2: 25, 3: 12}, shift={2: 0.5, 3: 1.0})
    res = compare_by_type(frame, ["score"], type_col="innovation_type_estimated",
                          n_permutations=199, n_resamples=200)
    groups = [frame.score[frame.innovation_type_estimated == t] for t in (1, 2, 3)]
    expected = stats.kruskal(*groups)
    row = res.kruskal.iloc[0]
    assert row.statistic == pytest.approx(expected.statistic)
    assert row.p_value == pytest.approx(expected.pvalue)
    assert (row.n, row.n_type1, row.n_type2, row.n_type3, row.df) == (67, 30, 25, 12, 2)
    rho = stats.spearmanr(frame.innovation_type_estimated, frame.score)
    sp = res.spearman.iloc[0]
    assert sp.rho == pytest.approx(rho.statistic) and sp.p_value == pytest.approx(rho.pvalue)
    assert sp.rho > 0 and not row.small_sample and row.warning == ""


def test_tables_carry_n_and_warn_on_small_samples():
    frame = typed_frame({1: 20, 2: 15, 3: 5})
    untyped = pd.DataFrame({"innovation_type_estimated": [np.nan], "score": [9.0]})
    frame = pd.concat([frame, untyped], ignore_index=True)  # untyped: left out
    res = compare_by_type(frame, ["score"], type_col="innovation_type_estimated",
                          n_permutations=99, n_resamples=100)
    g = res.groups.set_index("type")
    assert g.n.tolist() == [20, 15, 5]
    assert g.small_sample.tolist() == [False, False, True]
    assert "type 3 n=5" in g.loc[3, "warning"]
    pw = res.pairwise.set_index(["type_a", "type_b"])
    assert pw.loc[(1, 2), "small_sample"] == False  # noqa: E712 (numpy bool)
    assert pw.loc[(1, 3), "small_sample"] and pw.loc[(2, 3), "small_sample"]
    assert (pw.loc[(1, 3), "n_a"], pw.loc[(1, 3), "n_b"]) == (20, 5)
    assert res.kruskal.small_sample.iloc[0] and "type 3 n=5" in res.kruskal.warning.iloc[0]
    assert res.spearman.n.iloc[0] == 40
    assert res.pairwise.p_value.notna().all() and res.pairwise.p_holm.notna().all()


def test_pairwise_effect_sizes_and_medians():
    frame = typed_frame({1: 30, 3: 30}, shift={3: 3.0})
    res = compare_by_type(frame, ["score"], type_col="innovation_type_estimated",
                          types=(1, 3), n_permutations=999, n_resamples=200)
    row = res.pairwise.iloc[0]
    x = frame.score[frame.innovation_type_estimated == 1]
    y = frame.score[frame.innovation_type_estimated == 3]
    assert row.median_diff == pytest.approx(np.median(x) - np.median(y))
    assert row.cliffs_delta == pytest.approx(brute_cliff(x.tolist(), y.tolist()))
    assert row.magnitude == "large" and row.p_value < 0.01


def test_results_are_seeded_per_metric():
    frame = typed_frame({1: 15, 2: 15, 3: 15}, shift={3: 0.4})
    frame["other"] = frame.score * 2
    kw = {"type_col": "innovation_type_estimated", "n_permutations": 199, "n_resamples": 200}
    one = compare_by_type(frame, ["score"], **kw)
    both = compare_by_type(frame, ["other", "score"], **kw)
    pd.testing.assert_frame_equal(one.pairwise,
                                  both.pairwise[both.pairwise.metric == "score"]
                                  .reset_index(drop=True))
    assert not compare_by_type(frame, ["score"], seed=1, **kw).groups.equals(one.groups)


def test_empty_or_constant_groups_give_nan_with_a_reason():
    frame = pd.DataFrame({"innovation_type": pd.array([1, 1, 2, 2, pd.NA], dtype="Int64"),
                          "flat": [3.0, 3.0, 3.0, 3.0, 1.0], "only1": [1.0, 2.0, None, None, 4]})
    res = compare_by_type(frame, ["flat", "only1"], type_col="innovation_type",
                          n_permutations=9, n_resamples=10)
    k = res.kruskal.set_index("metric")
    assert np.isnan(k.loc["flat", "p_value"]) and "identical" in k.loc["flat", "warning"]
    assert np.isnan(k.loc["only1", "p_value"]) and "fewer than two" in k.loc["only1", "warning"]
    s = res.spearman.set_index("metric")
    assert np.isnan(s.loc["flat", "rho"]) and "constant" in s.loc["flat", "warning"]


def test_to_dict_is_json_ready_and_names_the_type_column():
    frame = typed_frame({1: 12, 2: 12, 3: 3})
    frame["innovation_type_source"] = ["reviewed"] * 5 + ["estimated"] * 22
    res = compare_by_type(frame, ["score"], type_col="innovation_type_estimated",
                          n_permutations=99, n_resamples=100, seed=42)
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["type_column"] == "innovation_type_estimated" and d["seed"] == 42
    assert d["parameters"]["n_permutations"] == 99
    assert d["parameters"]["type_sources"] == {"estimated": 22, "reviewed": 5}
    k = d["kruskal"][0]
    assert k["name"] == "kruskal_wallis" and k["n"] == 27 and k["n_type3"] == 3
    assert {"statistic", "p_value", "warning"} <= set(k)
    pw = d["pairwise"][0]
    assert pw["name"] == "permutation_median_difference" and pw["n"] == 24
    assert pw["statistic"] == pw["median_diff"]
    ci = d["groups"][2]
    assert ci["type"] == 3 and ci["small_sample"] is True


def test_bad_input_names_the_column():
    frame = typed_frame({1: 3, 2: 3})
    with pytest.raises(KeyError, match="innovation_type"):
        compare_by_type(frame, ["score"], type_col="innovation_type")
    with pytest.raises(KeyError, match="nope"):
        compare_by_type(frame, ["nope"], type_col="innovation_type_estimated")
    frame["label"] = "x"
    with pytest.raises(ValueError, match="'label' is not numeric"):
        compare_by_type(frame, ["label"], type_col="innovation_type_estimated")


@pytest.mark.parametrize(("bad", "error"), [(0, ValueError), (-3, ValueError),
                                            (2.0, TypeError), (True, TypeError)])
def test_n_permutations_is_a_whole_number_at_least_one(bad, error):
    frame = typed_frame({1: 5, 2: 5})
    with pytest.raises(error, match="n_permutations"):
        compare_by_type(frame, ["score"], type_col="innovation_type_estimated",
                        n_permutations=bad, n_resamples=10)
    with pytest.raises(error, match="n_permutations"):
        permutation_median_test([1.0, 2.0], [3.0, 4.0], n_permutations=bad)


def test_a_metric_listed_twice_is_adjusted_over_its_own_pairs_each_time():
    frame = typed_frame({1: 8, 2: 8, 3: 8}, shift={3: 0.8})
    frame["other"] = -frame.score
    kw = {"type_col": "innovation_type_estimated", "n_permutations": 199, "n_resamples": 20}
    once = compare_by_type(frame, ["score", "other"], **kw).pairwise
    twice = compare_by_type(frame, ["score", "other", "score"], **kw).pairwise
    pd.testing.assert_frame_equal(twice.iloc[:6].reset_index(drop=True), once)
    pd.testing.assert_frame_equal(twice.iloc[6:].reset_index(drop=True), once.iloc[:3])
