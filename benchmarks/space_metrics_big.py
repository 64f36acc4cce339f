"""Time :func:`space_metrics` (and :func:`walk_areas`) on the bundle's network, big inventory.

Inputs as a cold build uses them: the bundle's walking network, its places (nine categories),
its transit stops (metro, tram, FGC, Rodalies, bus, funicular), residents allocated on the
network, and the spaces of a big build (default the 28,900 rows of
``/tmp/big1/out/data/processed/coworking_spaces.gpkg``). The inputs are prepared once and kept
in ``--cache`` (a pickle; not timed). Prints the seconds (wall and CPU: on a shared machine
the CPU seconds vary less) of one ``space_metrics`` call and, with
``--save``/``--compare``, writes the result or compares it to a saved one (counts identical,
floats within a relative tolerance). With ``--areas`` it does the same for the 10-minute
``walk_areas`` (the build's call): polygons compared vertex for vertex, and for those that
differ their area IoU and Hausdorff distance.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/space_metrics_big.py --save /tmp/m_before.pkl
    PYTHONPATH=$PWD .venv/bin/python benchmarks/space_metrics_big.py --compare /tmp/m_before.pkl
    PYTHONPATH=$PWD .venv/bin/python benchmarks/space_metrics_big.py --areas --save /tmp/a.pkl
"""

from __future__ import annotations

import argparse
import os
import pickle
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cwsgeo.analysis import proximity as px
from cwsgeo.build.sources import load_walk_network
from cwsgeo.schema import PLACE_CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
MIRROR = Path("/work/shared/data/bcn")
STOP_FILES = {"metro": "tmb_metro_stations", "tram": "tram_stations", "fgc": "fgc_stations",
              "rodalies": "rodalies_stations", "bus": "tmb_bus_stops",
              "funicular": "tmb_funicular_stations"}


def prepare(spaces_path: Path) -> dict[str, Any]:
    """Read the bundle and the spaces; allocate the residents."""
    net = load_walk_network(MIRROR / "streets" / "bcn_grafvial_walk.graphml",
                            cache_dir=ROOT / "data" / "cache")
    csv = pd.read_csv(MIRROR / "places" / "bcn_places_combined.csv", dtype=str)
    csv = csv[csv["category"].isin(PLACE_CATEGORIES)]
    places = gpd.GeoDataFrame(csv[["category"]], crs="EPSG:4326", geometry=gpd.points_from_xy(
        csv["lon"].astype(float), csv["lat"].astype(float))).to_crs(net.crs)
    frames = []
    for mode, stem in STOP_FILES.items():
        f = gpd.read_file(MIRROR / "osm" / "transit_gtfs" / f"{stem}.geojson").to_crs(net.crs)
        frames.append(gpd.GeoDataFrame({"mode": mode, "name": f["name"].astype(str)},
                                       geometry=f.geometry, crs=net.crs))
    stops = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=net.crs)
    sections = gpd.read_file(MIRROR / "admin" / "census_sections.geojson")
    addresses = pd.read_csv(MIRROR / "addresses" / "bcn_addresses.csv", dtype=str)
    residents = px.allocate_residents(sections, addresses, net)
    spaces = gpd.read_file(spaces_path, layer="coworking_spaces")[["id", "geometry"]]
    return {"net": net, "places": places, "stops": stops, "residents": residents,
            "spaces": spaces.to_crs(net.crs)}


def compare(new: pd.DataFrame, old: pd.DataFrame, rtol: float) -> bool:
    """Print differences; True when counts are identical and floats within ``rtol``."""
    ok = list(new.columns) == list(old.columns) and new.index.equals(old.index)
    for col in old.columns:
        a, b = new[col], old[col]
        if str(b.dtype) == "Int64" or not pd.api.types.is_float_dtype(b.dtype):
            same = bool(((a == b) | (a.isna() & b.isna())).all())
            if not same:
                print(f"  {col}: {int((a != b).sum())} rows differ")
            ok &= same
        else:
            x, y = a.to_numpy(float), b.to_numpy(float)
            close = np.isclose(x, y, rtol=rtol, atol=0, equal_nan=True)
            with np.errstate(all="ignore"):
                rel = np.nanmax(np.where(np.isfinite(y) & (y != 0), np.abs(x - y) / np.abs(y),
                                         0.0), initial=0.0)
            print(f"  {col}: max relative difference {rel:.2e}")
            ok &= bool(close.all())
    return ok


def compare_areas(new: gpd.GeoDataFrame, old: gpd.GeoDataFrame) -> bool:
    """Print how many polygons differ and by how much; True when all are identical."""
    import shapely

    a, b = new.geometry.to_numpy(), old.geometry.to_numpy()
    same = (shapely.is_missing(a) & shapely.is_missing(b)) | shapely.equals_exact(
        a, b, tolerance=0.0)
    print(f"  {int(same.sum()):,} of {len(same):,} polygons identical (vertex for vertex)")
    diff = np.flatnonzero(~same & ~shapely.is_missing(a) & ~shapely.is_missing(b))
    if len(diff):
        iou = shapely.area(shapely.intersection(a[diff], b[diff])) / shapely.area(
            shapely.union(a[diff], b[diff]))
        hd = shapely.hausdorff_distance(a[diff], b[diff])
        print(f"  differing: IoU min {iou.min():.4f}, Hausdorff max {hd.max():.1f} m")
    return bool(same.all()) and new.drop(columns="geometry").equals(
        old.drop(columns="geometry"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spaces", type=Path,
                    default=Path("/tmp/big1/out/data/processed/coworking_spaces.gpkg"))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/space_metrics_inputs.pkl"))
    ap.add_argument("--save", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--rtol", type=float, default=1e-12)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--areas", action="store_true", help="time walk_areas instead")
    args = ap.parse_args()
    if args.cache.exists():
        inputs = pickle.loads(args.cache.read_bytes())
    else:
        inputs = prepare(args.spaces)
        args.cache.write_bytes(pickle.dumps(inputs))
    net = inputs["net"]
    print(f"{len(inputs['spaces']):,} spaces, {len(inputs['places']):,} places, "
          f"{len(inputs['stops']):,} stops; {net}; load {os.getloadavg()[0]:.2f}")
    if args.areas:
        t0, c0 = time.perf_counter(), time.process_time()
        areas = px.walk_areas(inputs["spaces"], net, minutes=10)
        print(f"walk_areas: {time.perf_counter() - t0:.1f} s, CPU {time.process_time() - c0:.1f} s"
              f" (load {os.getloadavg()[0]:.2f})")
        if args.save:
            areas.to_pickle(args.save)
        if args.compare:
            same = compare_areas(areas, pd.read_pickle(args.compare))
            print("equal to the saved result" if same else "DIFFERENT from the saved result")
        return
    t0, c0 = time.perf_counter(), time.process_time()
    out = px.space_metrics(inputs["spaces"], net, stops=inputs["stops"],
                           places=inputs["places"], residents=inputs["residents"],
                           **({} if args.chunk_size is None else
                              {"chunk_size": args.chunk_size}))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"space_metrics: {seconds:.1f} s, CPU {cpu:.1f} s (load {os.getloadavg()[0]:.2f})")
    if args.save:
        out.to_pickle(args.save)
    if args.compare:
        same = compare(out, pd.read_pickle(args.compare), args.rtol)
        print("equal to the saved result" if same else "DIFFERENT from the saved result")


if __name__ == "__main__":
    main()
