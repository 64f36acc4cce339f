"""Middleground indicators and comparisons by type on a build's outputs, with scipy baselines.

Usage::

    .venv/bin/python -m cwsgeo build            # once: data/processed and data/raw
    .venv/bin/python benchmarks/middleground.py [--processed data/processed]
        [--raw data/raw] [--type-col innovation_type_estimated] [--seed 0]

Prints the n of spaces per type, the median (bootstrap 95 % CI) of every component and of
both indices per type, Kruskal–Wallis, the pairwise permutation tests with Cliff's delta and
Spearman's ρ with the ordinal type; the project places are the bundle's fab labs and
*fàbriques de creació* (it has no universities, research centres or incubators).

Baselines, in the same run: :func:`scipy.stats.permutation_test` (difference of medians,
9,999 resamples, vectorised) and :func:`scipy.stats.bootstrap` (percentile method, 2,000
resamples) on the same samples, for the p-value / interval and the time. No timed assertions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cwsgeo
from cwsgeo.analysis.stats.compare import (
    bootstrap_median_ci,
    compare_by_type,
    permutation_median_test,
)
from cwsgeo.analysis.stats.middleground import middleground_indicators

PROJECT_SUBCATEGORIES = ("fab_lab", "creation_factory")
METRICS = ("places_buzz", "spaces_5min", "spaces_10min", "spaces_nearest_m",
           "event_venues_10min", "project_places_10min", "mg_places", "mg_spaces", "mg_events",
           "mg_projects", "middleground_index", "middleground_index_spatial")


def _network(raw: Path) -> cwsgeo.WalkNetwork:
    compact = sorted((raw / "streets").glob("*.npz"))
    return cwsgeo.read_network(compact[0] if compact else
                               raw / "streets" / "bcn_grafvial_walk.graphml")


def _baselines(x: np.ndarray, y: np.ndarray, seed: int) -> None:
    from scipy import stats

    def diff(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(a, axis=axis) - np.median(b, axis=axis)

    t = time.perf_counter()
    ours = permutation_median_test(x, y, n_permutations=9999, seed=seed)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref = stats.permutation_test((x, y), diff, n_resamples=9999, vectorized=True,
                                 random_state=seed)
    t_ref = time.perf_counter() - t
    null = ref.null_distribution
    same_rule = (1 + np.sum(np.abs(null) >= abs(ref.statistic) - 1e-12)) / (1 + len(null))
    print(f"  permutation (n {len(x)} vs {len(y)}): cwsgeo p {ours[1]:.4f} in {t_ours:.3f} s; "
          f"scipy.stats.permutation_test in {t_ref:.3f} s: p {ref.pvalue:.4f} (its two-sided "
          f"rule, 2 min(one-sided)), {same_rule:.4f} with cwsgeo's |d| >= |d_obs| rule on "
          "scipy's null")
    t = time.perf_counter()
    ci = bootstrap_median_ci(x, seed=seed)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    boot = stats.bootstrap((x,), np.median, n_resamples=2000, method="percentile",
                           random_state=seed)
    t_ref = time.perf_counter() - t
    low, high = boot.confidence_interval
    print(f"  bootstrap CI of the median (n {len(x)}): cwsgeo [{ci[0]:.3f}, {ci[1]:.3f}] in "
          f"{t_ours:.3f} s; scipy.stats.bootstrap [{low:.3f}, {high:.3f}] in {t_ref:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processed", type=Path, default=Path("data/processed"))
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--type-col", default="innovation_type_estimated")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    spaces = cwsgeo.read_outputs(args.processed).spaces
    net = _network(args.raw)
    places = gpd.read_parquet(args.processed / "context.places.parquet")
    project = places[places["subcategory"].isin(PROJECT_SUBCATEGORIES)]
    t = time.perf_counter()
    mg = middleground_indicators(spaces, net=net, project_places=project)
    t_mg = time.perf_counter() - t
    frame = spaces[[args.type_col, "innovation_type_source"]].join(mg)[mg["precise"]]
    print(f"spaces {len(spaces)}, precise points {int(mg['precise'].sum())}, with the full "
          f"index {int(mg['middleground_index'].notna().sum())}; project places "
          f"{len(project)} ({', '.join(PROJECT_SUBCATEGORIES)}); indicators in {t_mg:.2f} s")
    kinds = pd.to_numeric(frame[args.type_col], errors="coerce")
    print(f"n per {args.type_col} (precise points): "
          f"{kinds.value_counts(dropna=False).sort_index().to_dict()}")
    t = time.perf_counter()
    res = compare_by_type(frame, list(METRICS), type_col=args.type_col, seed=args.seed)
    t_cmp = time.perf_counter() - t
    print(f"compare_by_type: {len(METRICS)} metrics in {t_cmp:.2f} s (2,000 resamples, "
          f"9,999 permutations); type sources {res.parameters.get('type_sources')}")
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.max_rows", 200, "display.precision", 3):
        print("\nmedians per type (bootstrap 95 % CI):")
        print(res.groups.drop(columns=["small_sample", "warning"]).to_string(index=False))
        print("\nKruskal–Wallis:")
        print(res.kruskal.drop(columns=["small_sample"]).to_string(index=False))
        print("\npairwise permutation tests of the median difference:")
        print(res.pairwise.drop(columns=["small_sample", "warning"]).to_string(index=False))
        print("\nSpearman with the ordinal type:")
        print(res.spearman.drop(columns=["small_sample", "warning"]).to_string(index=False))
    print("\nbaselines (middleground_index_spatial, types 1 and 2):")
    values = frame["middleground_index_spatial"]
    x, y = (values[kinds == t].dropna().to_numpy() for t in (1, 2))
    _baselines(x, y, args.seed)


if __name__ == "__main__":
    main()
