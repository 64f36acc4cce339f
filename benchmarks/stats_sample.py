"""Benchmark: the statistics stage's middleground, comparisons, co-location and hot spots.

Usage::

    .venv/bin/python benchmarks/stats_sample.py [--processed /tmp/big1/out/data/processed]
        [--raw data/raw] [--n 2000] [--seed 2026] [--only middleground,compare,...]
        [--save results.pkl] [--check results.pkl]

Loads a build's spaces (e.g. the kept 28,900-row build of ``benchmarks/big_inventory.py``),
draws the statistics stage's sample (:func:`cwsgeo.build.statistics.sample_rows`: ``--n``
precise points, seeded) and times, as the stage calls them: ``middleground_indicators``
over the walking network, ``compare_by_type`` on the stage's compared metrics, the global
co-location quotients (places, transit), the local one, and the hex and barri hot spots.
``--save`` pickles every result; ``--check`` compares this run's results with a saved run
(exactly equal, NaN equal to NaN). Numbers only, no timed assertions; note the load.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cwsgeo
from cwsgeo import settings
from cwsgeo.analysis.stats.minimums import LOCAL_CLQ_K
from cwsgeo.build.statistics import (
    COMPARED_METRICS,
    LOCAL_CLQ_CATEGORIES,
    sample_rows,
    type_column,
)

STEPS = ("middleground", "compare", "clq", "local_clq", "hotspots")


def _timed(name: str, run: Callable[[], Any], results: dict[str, Any]) -> Any:
    t = time.perf_counter()
    out = run()
    print(f"{name:<28s} {time.perf_counter() - t:8.2f} s", flush=True)
    results[name] = out
    return out


def _tables(res: Any) -> Any:
    """The comparable content of a result object (its frames and dicts)."""
    if isinstance(res, pd.DataFrame | dict):
        return res
    return {k: v for k, v in vars(res).items() if isinstance(v, pd.DataFrame | dict)}


def _same(a: Any, b: Any, where: str) -> list[str]:
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError as exc:
            return [f"{where}: {str(exc).splitlines()[:3]}"]
        return []
    if isinstance(a, dict):
        bad = [f"{where}: only in {side}: {sorted(map(str, keys))}"
               for side, keys in (("this run", set(a) - set(b)),
                                  ("the saved run", set(b) - set(a))) if keys]
        return bad + [m for k in a if k in b for m in _same(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return []
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{where}: lengths differ"]
        return [m for i, (x, y) in enumerate(zip(a, b, strict=True))
                for m in _same(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processed", type=Path, default=Path("/tmp/big1/out/data/processed"))
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sims", type=int, default=settings.statistics_sims)
    parser.add_argument("--only", default=",".join(STEPS))
    parser.add_argument("--save", type=Path)
    parser.add_argument("--check", type=Path)
    args = parser.parse_args()
    only = set(args.only.split(","))

    print(f"load {os.getloadavg()[0]:.2f} (1 min) at start, {os.cpu_count()} cores")
    spaces = cwsgeo.read_outputs(args.processed).spaces
    spaces = spaces.to_crs(settings.crs_work)
    precise = spaces["location_precision"].isin(["exact", "approximate"]).to_numpy()
    points = spaces[precise & spaces.geometry.notna().to_numpy()]
    points = points.iloc[sample_rows(len(points), args.n, args.seed)]
    ids = points["id"] if "id" in points.columns else points.index.to_series()
    points = points.set_index(pd.Index(ids.astype(str).to_numpy(), name="id"))
    types = type_column(spaces, "auto")
    print(f"{len(spaces)} spaces, sample {len(points)}, types {types}")
    results: dict[str, Any] = {}
    frame = None
    if only & {"middleground", "compare"}:
        from cwsgeo.analysis.stats.middleground import middleground_indicators

        compact = sorted((args.raw / "streets").glob("*.npz"))
        net = cwsgeo.read_network(compact[0])
        ind = _timed("middleground_indicators",
                     lambda: middleground_indicators(points, net=net), results)
        frame = points.drop(columns=[c for c in ind.columns if c in points.columns]).join(ind)
    if "compare" in only and frame is not None:
        from cwsgeo.analysis.stats.compare import compare_by_type

        metrics = [m for m in COMPARED_METRICS if m in frame.columns]
        _timed("compare_by_type", lambda: _tables(compare_by_type(
            frame, metrics, type_col=types, seed=args.seed)), results)
    if only & {"clq", "local_clq"}:
        from cwsgeo.analysis.stats.colocation import colocation_points, global_clq, local_clq

        places = gpd.read_parquet(args.processed / "context.places.parquet")
        transit = gpd.read_parquet(args.processed / "context.transit.parquet")
        places, transit = places.to_crs(settings.crs_work), transit.to_crs(settings.crs_work)
        if "clq" in only:
            for name, layer in (("places", places), ("transit", transit)):
                pts = colocation_points(points, type_column=None, **{name: layer})
                _timed(f"global_clq {name}", lambda p=pts: _tables(global_clq(
                    p, a="spaces", n_sims=args.sims, seed=args.seed)), results)
                typed = colocation_points(points, type_column=types, **{name: layer})
                labels = [f"spaces_type{k}" for k in (1, 2, 3)
                          if (typed["label"] == f"spaces_type{k}").sum() >= 10]
                _timed(f"global_clq {name} by type", lambda p=typed, a=labels: _tables(
                    global_clq(p, a=a, n_sims=args.sims, seed=args.seed)), results)
        if "local_clq" in only:
            pl = colocation_points(points, places=places)
            targets = [c for c in LOCAL_CLQ_CATEGORIES if c in set(pl["label"])]
            _timed("local_clq", lambda: _tables(local_clq(
                pl, a="spaces", b=targets, k=LOCAL_CLQ_K, n_sims=args.sims,
                seed=args.seed)), results)
    if "hotspots" in only:
        from cwsgeo.analysis.stats.hotspots import area_hotspots, hex_hotspots

        hexes = gpd.read_parquet(args.processed / "hexes.parquet")
        barris = gpd.read_parquet(args.processed / "barris.parquet")
        _timed(f"hex_hotspots ({len(hexes)})", lambda: _tables(hex_hotspots(
            hexes, "spaces", alpha=0.05, permutations=args.sims, seed=args.seed)), results)
        _timed(f"area_hotspots ({len(barris)})", lambda: _tables(area_hotspots(
            barris, "spaces", alpha=0.05, permutations=args.sims, seed=args.seed)), results)
    print(f"load {os.getloadavg()[0]:.2f} (1 min) at end")
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
    if args.check:
        old = pickle.loads(args.check.read_bytes())
        bad = _same(results, old, "steps")  # a step missing from either run is named
        print("check:", "identical" if not bad else "\n  ".join(["DIFFERENT", *bad]))


if __name__ == "__main__":
    main()
