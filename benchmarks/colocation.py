"""Benchmark the co-location quotients: vectorised cwsgeo against a plain per-simulation loop.

Usage::

    .venv/bin/python benchmarks/colocation.py [--mirror ../shared/data/bcn] [--sims 999]
        [--spaces 150 600 2400] [--loop-sims 49] [--seed 7]

Population: the bundle's places (``places/*.geojson`` through :func:`cwsgeo.read_places`,
about 10,400 points in nine categories; a seeded uniform stand-in of the same size when the
mirror is missing) plus ``--spaces`` coworking spaces drawn at random place locations jittered
by up to 50 m (seeded). For each size:

* ``global_clq`` (spaces -> every category, ``--sims`` random relabellings) and ``local_clq``
  (k = 8, ``--sims`` conditional relabellings per space): wall time (after a warm-up call that
  imports scipy) and, in a second run, peak memory (``tracemalloc``: Python and numpy
  allocations);
* baseline, same run: the textbook loop — per simulation, shuffle the labels, then for each
  space average the labels of its (tied) nearest neighbours in Python — timed on
  ``--loop-sims`` simulations and scaled to ``--sims`` (printed as such); its CLQs without
  simulation are checked equal to cwsgeo's.

No timed assertions: numbers only.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's cwsgeo

import geopandas as gpd
import numpy as np

import cwsgeo
from cwsgeo.analysis.stats.colocation import (
    _nearest_with_ties,
    colocation_points,
    global_clq,
    local_clq,
)

ROOT = Path(__file__).resolve().parent.parent
CRS = "EPSG:25831"


def _places(mirror: Path, rng: np.random.Generator) -> gpd.GeoDataFrame:
    files = sorted((mirror / "places").glob("*.geojson"))
    if files:
        return cwsgeo.read_places(files)
    print(f"(no places under {mirror}: a uniform stand-in of 10,400 points)")
    xy = rng.uniform([425000, 4575000], [435000, 4587000], size=(10400, 2))
    cats = rng.choice(["terrace", "restaurant", "bar", "cafe", "culture_venue"], size=10400)
    return gpd.GeoDataFrame({"category": cats}, geometry=gpd.points_from_xy(*xy.T), crs=CRS)


def _spaces(places: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    pick = rng.choice(len(places), size=n, replace=False)
    xy = np.column_stack([places.geometry.x.to_numpy()[pick], places.geometry.y.to_numpy()[pick]])
    xy = xy + rng.uniform(-50, 50, size=xy.shape)
    return gpd.GeoDataFrame({"id": [f"s{i}" for i in range(n)]},
                            geometry=gpd.points_from_xy(*xy.T), crs=CRS)


def _measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time of one run, then peak traced memory (MiB) of a second run."""
    t = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - t
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return elapsed, peak, out


def _loop_clq(pts: gpd.GeoDataFrame, n_sims: int, seed: int) -> tuple[float, dict[str, float]]:
    """Textbook loop: per simulation, per space, average its nearest neighbours' labels."""
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    labels = pts["label"].to_numpy()
    rows, cols, _ = _nearest_with_ties(xy, 1e-6)
    nn: list[list[int]] = [[] for _ in range(len(xy))]
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        nn[i].append(j)
    names = sorted(set(labels) - {"spaces"})
    n = len(labels)

    def clq(lab: np.ndarray) -> dict[str, float]:
        counts = dict.fromkeys(names, 0.0)
        subjects = [i for i in range(n) if lab[i] == "spaces"]
        for i in subjects:
            for j in nn[i]:
                if lab[j] != "spaces":
                    counts[lab[j]] += 1 / len(nn[i])
        return {b: counts[b] / len(subjects) / ((lab == b).sum() / (n - 1)) for b in names}

    observed = clq(labels)
    rng = np.random.default_rng(seed)
    t = time.perf_counter()
    for _ in range(n_sims):
        clq(rng.permutation(labels))
    return time.perf_counter() - t, observed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", type=Path, default=ROOT / ".." / "shared" / "data" / "bcn")
    ap.add_argument("--sims", type=int, default=999)
    ap.add_argument("--spaces", type=int, nargs="+", default=[150, 600, 2400])
    ap.add_argument("--loop-sims", type=int, default=49)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    places = _places(args.mirror, rng)
    print(f"places: {len(places):,}; simulations: {args.sims}")
    warm = colocation_points(_spaces(places, 10, rng), places)
    global_clq(warm, n_sims=1)
    local_clq(warm, n_sims=1)
    print(f"{'spaces':>7} {'N':>7} | {'global s':>8} {'MiB':>6} | {'local s':>8} {'MiB':>6} | "
          f"{'loop s (scaled)':>15} {'speed-up':>8}")
    for n_spaces in args.spaces:
        pts = colocation_points(_spaces(places, n_spaces, rng), places)
        tg, mg, res = _measure(lambda p=pts: global_clq(p, n_sims=args.sims, seed=1))
        tl, ml, _ = _measure(lambda p=pts: local_clq(p, n_sims=args.sims, seed=1))
        t_loop, observed = _loop_clq(pts, args.loop_sims, seed=1)
        scaled = t_loop * args.sims / args.loop_sims
        ours = res.table.set_index("b")["clq"]
        assert all(abs(ours[b] - v) < 1e-9 for b, v in observed.items()), "CLQs differ"
        print(f"{n_spaces:>7,} {len(pts):>7,} | {tg:>8.2f} {mg:>6.0f} | {tl:>8.2f} {ml:>6.0f} | "
              f"{scaled:>15.1f} {scaled / tg:>7.0f}x")


if __name__ == "__main__":
    main()
