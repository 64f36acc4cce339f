"""Time the density stage on the real Barcelona bundle.

Usage::

    .venv/bin/python benchmarks/density_timing.py [--mirror ../shared/data/bcn] [--out DIR]
        [--spaces N] [--kernel quartic|gaussian] [--edge-m METRES] [--keep]

Spaces are a stand-in: N random points inside the city (seeded) with random innovation types
(1, 2, 3 or missing) plus 5 rows without a location, because the real inventory has too few
coordinates. Places come from ``places/bcn_places_combined.csv`` and transit stops from
``osm/transit_gtfs/*.geojson`` (mode from the file name). Prints one line per step and the
headline numbers.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cwsgeo.analysis import density
from cwsgeo.outputs import figures, tables

ROOT = Path(__file__).resolve().parent.parent
TRANSIT_FILES = {"tmb_metro_stations": "metro", "tram_stations": "tram", "fgc_stations": "fgc",
                 "rodalies_stations": "rodalies", "tmb_bus_stops": "bus",
                 "tmb_funicular_stations": "funicular"}


def timed(label: str, fn: Callable[[], Any], timings: list[tuple[str, float]]) -> Any:
    t0 = time.perf_counter()
    result = fn()
    timings.append((label, time.perf_counter() - t0))
    print(f"{label:<32} {timings[-1][1]:7.2f} s", flush=True)
    return result


def load_bundle(mirror: Path) -> dict[str, Any]:
    admin = mirror / "admin"
    codes = {"district_code": str, "barri_code": str, "section_code": str}
    out: dict[str, Any] = {
        name: gpd.read_file(admin / f"{name}.geojson", columns=None).astype(
            {k: v for k, v in codes.items() if k in gpd.read_file(
                admin / f"{name}.geojson", rows=1).columns})
        for name in ("districts", "barris", "census_sections", "city_boundary")}
    csv = pd.read_csv(mirror / "places" / "bcn_places_combined.csv", dtype={"source_id": str})
    out["places"] = gpd.GeoDataFrame(
        csv[["source", "name", "category"]],
        geometry=gpd.points_from_xy(csv["lon"], csv["lat"]), crs="EPSG:4326")
    frames = []
    for stem, mode in TRANSIT_FILES.items():
        g = gpd.read_file(mirror / "osm" / "transit_gtfs" / f"{stem}.geojson")
        frames.append(g[["name", "geometry"]].assign(mode=mode))
    out["transit"] = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    return out


def stand_in_spaces(city: gpd.GeoDataFrame, n: int, seed: int = 42) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    geom = city.to_crs("EPSG:25831").geometry.union_all()
    x0, y0, x1, y1 = geom.bounds
    pts: list[Any] = []
    while len(pts) < n:
        cand = shapely.points(rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n))
        pts += list(cand[shapely.contains(geom, cand)])
    pts = pts[:n] + [None] * 5
    # the same draws as rng.choice([1, 2, 3, None]), typed
    types = pd.array([(1, 2, 3, None)[int(i)] for i in rng.choice(4, size=n + 5)],
                     dtype="Int64")
    return gpd.GeoDataFrame({"id": [f"s{i:03d}" for i in range(n + 5)],
                             "innovation_type": types}, geometry=pts, crs="EPSG:25831")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=(ROOT / ".." / "shared" / "data" / "bcn"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--spaces", type=int, default=50)
    parser.add_argument("--kernel", choices=["quartic", "gaussian"], default="quartic")
    parser.add_argument("--edge-m", type=float, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    timings: list[tuple[str, float]] = []
    data = timed("load bundle", lambda: load_bundle(args.mirror.resolve()), timings)
    spaces = stand_in_spaces(data["city_boundary"], args.spaces)
    common = {"places": data["places"], "transit": data["transit"],
              "transit_modes": tuple(dict.fromkeys(TRANSIT_FILES.values()))}
    d = timed("area_densities districts", lambda: density.area_densities(
        data["districts"], spaces, key="district_code", **common), timings)
    b = timed("area_densities barris", lambda: density.area_densities(
        data["barris"], spaces, key="barri_code", **common), timings)
    h = timed("hex_densities", lambda: density.hex_densities(
        data["city_boundary"], data["census_sections"], spaces, edge_m=args.edge_m,
        **common), timings)
    ks = timed("kernel_densities spaces", lambda: density.kernel_densities(
        spaces, data["city_boundary"], name="spaces", kernel=args.kernel), timings)
    places = data["places"][data["places"]["category"].isin(density.PLACE_CATEGORIES)]
    kp = timed("kernel_densities places+cats", lambda: density.kernel_densities(
        places, data["city_boundary"], by="category", name="places", kernel=args.kernel),
        timings)
    city = gpd.GeoSeries([data["city_boundary"].to_crs("EPSG:25831").union_all()],
                         crs="EPSG:25831")
    result = density.DensityResult(d, b, h, ks, kp, city, spaces.dropna(subset=["geometry"]))
    folder = args.out or Path(tempfile.mkdtemp(prefix="cwsgeo-density-"))
    files = timed("write_density_outputs", lambda: tables.write_density_outputs(
        result, folder), timings)
    figs = timed("write_density_figures", lambda: figures.write_density_figures(
        result, folder / "figures"), timings)
    base = timed("density_base (all)", lambda: density.density_base(
        data["districts"], data["barris"], data["census_sections"], data["city_boundary"],
        **common, hex_edge_m=args.edge_m, kde_kernel=args.kernel), timings)
    timed("add_spaces (one edit)", lambda: density.add_spaces(base, spaces), timings)
    total = sum(t for label, t in timings if label not in ("load bundle", "density_base (all)",
                                                           "add_spaces (one edit)"))
    print(f"{'total (steps)':<32} {total:7.2f} s")
    print()
    print(f"residents: districts {d['residents'].sum():,}, barris {b['residents'].sum():,}, "
          f"hexagons {h['residents'].sum():,.2f} ({len(h)} cells)")
    print(f"area km²: districts {d['area_km2'].sum():.3f}, hexagons in city "
          f"{h['area_km2'].sum():.3f}")
    print(f"spaces counted: {d['spaces'].sum()} of {len(spaces)} rows (stand-in)")
    print(f"places counted (9 categories): {d['places'].sum():,}; "
          f"stops in the city: {d['stops'].sum():,}")
    print(f"KDE integrals: spaces {ks['all'].integral():.3f} (n={ks['all'].n_points}), "
          f"places {kp['all'].integral():.3f} (n={kp['all'].n_points})")
    cols = ["district_name", "residents", "area_km2", "spaces", "spaces_per_km2",
            "spaces_per_10k_res", "lq_spaces", "places_per_km2", "places_terrace_per_km2",
            "stops_per_km2", "stops_metro_per_km2"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(d[cols].round(3).to_string(index=False))
    print(f"\n{len(files)} files and {len(figs)} figures in {folder}")
    for p in sorted(files.values()) + sorted(figs.values()):
        print(f"  {p.relative_to(folder)}  {p.stat().st_size / 1024:8.1f} KiB")
    if not args.keep and args.out is None:
        import shutil

        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
