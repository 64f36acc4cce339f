"""Benchmark the Duranton–Overman K-density test, and run it on the bundle.

Usage::

    .venv/bin/python benchmarks/kd.py [--data data/raw] [--processed data/processed]
        [--sizes 150,600,2400] [--sims 999] [--baseline-sims 10] [--no-bundle] [--big]

(run ``cwsgeo build`` first: it stores the compact walking network next to the street graph).

(a) **Timing**: ``kd_test`` with ``--sims`` simulations for ``n`` sites drawn at random from the
    gazetteer's 175,895 address points, reference = the address points, 0–3 km, Euclidean and
    walking-network distances (``network_mode="auto"``: the float32 node matrix). Baselines in
    the same run, extrapolated linearly from ``--baseline-sims`` simulations (printed as such):
    Euclidean without binning (one Gaussian per distance and grid point, the textbook KDE);
    network with one bounded search per simulation (``network_mode="search"``).
(b) **Memory**: peak traced allocations (``tracemalloc``: Python and numpy) of the two n=150
    runs, in separate runs; the process's ``ru_maxrss`` at the end.
(c) **Bundle**: the located spaces (``location_precision`` exact/approximate) against the
    address points, Euclidean and network; co-agglomeration with cafés and bars, restaurants,
    cultural venues and metro stations (``b`` fixed). Verdicts and distances printed.
(d) **Old vs new counts at scale** (``--big``): the eleven Kd tests of a 28,900-row build's
    statistics stage (issue 13) — 2,000 sites drawn from the address points, against them and
    by type (1,261 / 689 / 31 sites, each also against the 2,000), and against the bundle's
    cafés and bars, restaurants, cultural venues and rail stations (``b`` fixed), straight
    line, ``--sims`` simulations. Per test: the whole ``kd_test`` in seconds (new), and the
    simulations' bin counts in ms per simulation, compiled (new, all ``--sims`` draws)
    against the loop binning each ``pdist``/``cdist`` array (old, on the first
    ``--baseline-sims`` of the same draws; the counts are checked equal). The old total is
    the new one plus the old loop's extra time per simulation.

No timed assertions: numbers only.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cwsgeo.analysis import network as nw  # noqa: E402
from cwsgeo.analysis.stats.kd import KdResult, kd_cross_test, kd_curve, kd_test  # noqa: E402


def addresses_xy(data: Path) -> np.ndarray:
    import geopandas as gpd

    from cwsgeo.analysis.geocoding import OfflineGeocoder

    index = OfflineGeocoder.from_dir(data / "addresses").index
    pts = gpd.GeoSeries(gpd.points_from_xy(index.lon, index.lat), crs="EPSG:4326")
    return np.column_stack([pts.to_crs("EPSG:25831").x, pts.to_crs("EPSG:25831").y])


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def naive_euclidean_per_sim(sites: np.ndarray, ref: np.ndarray, sims: int) -> float:
    """Seconds per simulation of the unbinned KDE (one kernel per distance and grid point)."""
    from scipy.spatial.distance import pdist

    grid = np.arange(0.0, 3001.0, 10.0)[:, None]
    rng = np.random.default_rng(0)
    h = 150.0
    t = time.perf_counter()
    for _ in range(sims):
        d = pdist(ref[rng.choice(len(ref), len(sites), replace=False)])
        d = d[d < 3600][None, :]
        (np.exp(-0.5 * ((grid - d) / h) ** 2) + np.exp(-0.5 * ((grid + d) / h) ** 2)).sum(1)
    return (time.perf_counter() - t) / sims


def timing(net: nw.WalkNetwork, ref: np.ndarray, sizes: list[int], sims: int,
           baseline_sims: int) -> None:
    print(f"\n(a) kd_test, {sims} simulations, 0-3 km, reference = {len(ref):,} address points")
    print(f"{'n':>6} {'euclid s':>9} {'naive eucl s*':>14} {'network s':>10} {'mode':>7} "
          f"{'search-mode s*':>15}  verdict (euclid / network)")
    rng = np.random.default_rng(1)
    on = ref[nw.snap_points(net, ref).on_network]  # sites must be on the street graph
    for n in sizes:
        sites = on[rng.choice(len(on), n, replace=False)]
        te, eres = timed(lambda s=sites: kd_test(s, ref, n_sims=sims, seed=1))
        naive = naive_euclidean_per_sim(sites, ref, baseline_sims) * sims
        tn, res = timed(lambda s=sites: kd_test(s, ref, distance=net, n_sims=sims, seed=1))
        search = "-"
        if n <= 600:
            t1, _ = timed(lambda s=sites: kd_test(s, ref, distance=net, n_sims=20, seed=1,
                                                  network_mode="search"))
            t2, _ = timed(lambda s=sites: kd_test(s, ref, distance=net, seed=1,
                                                  n_sims=20 + baseline_sims,
                                                  network_mode="search"))
            search = f"{t1 + (t2 - t1) / baseline_sims * (sims - 20):.0f}"
        print(f"{n:>6} {te:>9.1f} {naive:>14.0f} {tn:>10.1f} "
              f"{res.parameters['network_mode']:>7} {search:>15}  {eres.to_dict()['verdict']} / "
              f"{res.to_dict()['verdict']}", flush=True)
    print("* extrapolated linearly from a few simulations")


def memory(net: nw.WalkNetwork, ref: np.ndarray, sims: int) -> None:
    on = ref[nw.snap_points(net, ref).on_network]
    sites = on[np.random.default_rng(1).choice(len(on), 150, replace=False)]
    e = peak_mb(lambda: kd_test(sites, ref, n_sims=sims, seed=1))
    n = peak_mb(lambda: kd_test(sites, ref, distance=net, n_sims=sims, seed=1))
    print(f"\n(b) peak traced memory, n=150, {sims} sims: Euclidean {e:,.0f} MB, "
          f"network {n:,.0f} MB")


def show(label: str, res: KdResult, seconds: float) -> None:
    d = res.to_dict()
    print(f"  {label:<34} n={d['n']:>3}{'':1}{'b=' + str(d['parameters'].get('n_b', '')):>7} "
          f"h={d['bandwidth']:>6.0f} m  {d['verdict']:<32} "
          f"localized {d['localized_distances_m']} dispersed {d['dispersed_distances_m']} "
          f"conf={d['global_confidence']:.3f} Gamma={d['value']:.3g} ({seconds:.0f} s)",
          flush=True)


def bundle(net: nw.WalkNetwork, ref: np.ndarray, data: Path, processed: Path,
           sims: int) -> None:
    import geopandas as gpd

    import cwsgeo
    from cwsgeo.build.profiles import load_profile

    spaces = gpd.read_file(processed / "coworking_spaces.gpkg", layer="coworking_spaces")
    spaces = spaces[spaces["location_precision"].isin(["exact", "approximate"])]
    spaces = spaces.to_crs("EPSG:25831")
    xy = np.column_stack([spaces.geometry.x, spaces.geometry.y])
    places = cwsgeo.read_places(sorted((data / "places").glob("*.geojson")))
    transit = cwsgeo.read_transit(sorted((data / "transit").glob("*.geojson")),
                                  rules=load_profile("barcelona").transit)
    sets = {"cafes and bars": places[places["category"].isin(["cafe", "bar"])],
            "restaurants": places[places["category"] == "restaurant"],
            "cultural venues": places[places["category"] == "culture_venue"],
            "metro stations": transit[transit["mode"] == "metro"]}
    print(f"\n(c) bundle: {len(xy)} spaces (exact/approximate) vs {len(ref):,} address "
          f"points, {sims} simulations, seed 1")
    for label, distance in (("euclidean", "euclidean"), ("network", net)):
        t, res = timed(lambda d=distance: kd_test(xy, ref, distance=d, n_sims=sims, seed=1))
        show(f"spaces ({label})", res, t)
        for name, gdf in sets.items():
            g = gdf.to_crs("EPSG:25831")
            bxy = np.column_stack([g.geometry.x, g.geometry.y])
            on = nw.snap_points(net, bxy).on_network  # the same b for both distances
            if not on.all():
                print(f"  ({name}: {int((~on).sum())} of {len(on)} off the street graph, "
                      "left out)")
            bxy = bxy[on]
            t, res = timed(lambda b=bxy, d=distance: kd_cross_test(
                xy, b, ref, distance=d, n_sims=sims, seed=1))
            show(f"spaces x {name} ({label})", res, t)


def partner_sets(data: Path) -> dict[str, np.ndarray]:
    """The statistics stage's co-agglomeration partners in the bundle (EPSG:25831 x, y).

    As ``_Statistics._partners`` of :mod:`cwsgeo.build.statistics` selects them (no
    modes: the profile's rail modes).
    """
    import cwsgeo
    from cwsgeo.build.profiles import load_profile
    from cwsgeo.build.statistics import CROSS_GROUPS

    rules = load_profile("barcelona").transit
    layers = {"places": (cwsgeo.read_places(sorted((data / "places").glob("*.geojson"))),
                         "category"),
              "transit": (cwsgeo.read_transit(sorted((data / "transit").glob("*.geojson")),
                                              rules=rules), "mode")}
    rail = tuple(rules.rail_modes)
    out = {}
    for group, (layer, values) in CROSS_GROUPS.items():
        frame, column = layers[layer]
        g = frame[frame[column].isin(values or rail)].to_crs("EPSG:25831")
        out[group] = np.column_stack([g.geometry.x, g.geometry.y])
    return out


def at_scale(ref: np.ndarray, data: Path, sims: int, baseline_sims: int) -> None:
    from cwsgeo.analysis.stats._kd_distances import EuclideanDistances, _Distances

    rng = np.random.default_rng(13)
    sites = ref[rng.choice(len(ref), 2000, replace=False)]
    types = {"type 1": sites[:1261], "type 2": sites[1261:1950], "type 3": sites[1950:1981]}
    tests: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]] = [
        ("spaces", sites, ref, None)]
    for name, xy in types.items():
        tests += [(name, xy, ref, None), (f"{name} vs all spaces", xy, sites, None)]
    tests += [(f"x {name} ({len(b)})", sites, ref, b)
              for name, b in partner_sets(data).items()]
    print(f"\n(d) the 28,900-row build's 11 Kd tests (straight line), {sims} simulations; "
          f"old counts on {baseline_sims} of the same draws")
    print(f"{'test':<32} {'n':>5} {'kd_test s':>10} {'old ms/sim':>11} {'new ms/sim':>11} "
          f"{'x':>5}  equal")
    new_total = old_extra = 0.0
    for name, xy, pool_xy, b in tests:
        t, res = timed(lambda xy=xy, p=pool_xy, b=b: (
            kd_test(xy, p, n_sims=sims, seed=1) if b is None
            else kd_cross_test(xy, b, p, n_sims=sims, seed=1)))
        cutoff = float(res.parameters["cutoff_m"])
        n_bins = int(np.ceil(cutoff))
        engine = EuclideanDistances(np.vstack([xy, pool_xy]), b)
        draws = np.array([len(xy) + rng.choice(len(pool_xy), len(xy), replace=False)
                          for _ in range(sims)])
        cross = b is not None
        t_old, old = timed(partial(_Distances.counts, engine, draws[:baseline_sims], cross,
                                   cutoff, 1.0, n_bins))
        t_new, new = timed(partial(engine.counts, draws, cross, cutoff, 1.0, n_bins))
        per_old, per_new = t_old / baseline_sims, t_new / sims
        new_total += t
        old_extra += (per_old - per_new) * sims
        print(f"{name:<32} {len(xy):>5} {t:>10.2f} {per_old * 1e3:>11.2f} "
              f"{per_new * 1e3:>11.2f} {per_old / per_new:>5.1f}  "
              f"{np.array_equal(old, new[:baseline_sims])}", flush=True)
    print(f"total: new {new_total:.1f} s, old {new_total + old_extra:.1f} s (the new total plus "
          f"the old loop's extra {old_extra:.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "raw")
    ap.add_argument("--processed", type=Path, default=ROOT / "data" / "processed")
    ap.add_argument("--sizes", default="150,600,2400")
    ap.add_argument("--sims", type=int, default=999)
    ap.add_argument("--baseline-sims", type=int, default=10)
    ap.add_argument("--no-bundle", action="store_true")
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--big", action="store_true", help="(d) only: old vs new at scale")
    args = ap.parse_args()
    npz = sorted((args.data / "streets").glob("*.npz"))
    if not npz:
        sys.exit(f"no compact walking network in {args.data / 'streets'}: run cwsgeo build")
    net = nw.read_network(npz[0])
    ref = addresses_xy(args.data)
    check = kd_curve([100.0, 900.0, 500.0], 3, np.arange(0, 2000.0), 100.0)
    print(f"network: {net}\nsanity: kd_curve integrates to {np.trapezoid(check, dx=1):.4f}")
    if args.big:
        at_scale(ref, args.data, args.sims, args.baseline_sims)
        return
    if not args.no_timing:
        timing(net, ref, [int(s) for s in args.sizes.split(",")], args.sims,
               args.baseline_sims)
        memory(net, ref, args.sims)
    if not args.no_bundle:
        bundle(net, ref, args.data, args.processed, args.sims)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (ru_maxrss): {rss:,.0f} MB")


if __name__ == "__main__":
    main()
