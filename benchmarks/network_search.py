"""Side-by-side network benchmark: cwsgeo vs networkx and (optional) pandana, 9k-147k nodes.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/network_search.py [--sizes 1,2,4,8,16]
        [--repeat 3] [--quick] [--nx-sample 200] [--mirror ../shared/data/bcn]
    benchmarks/setup_pandana.sh     # once, for the optional pandana comparison

Graphs: the bundle's walking network (``streets/bcn_grafvial_walk.graphml``, read as the build
reads it: :func:`cwsgeo.build.sources.load_walk_network`, compact form cached in
``data/cache``), and the bundle tiled 2x, 4x, 8x, 16x (copies side by side joined by 3
bridging edges per neighbour, :mod:`_tiling`; 16x = 146,992 nodes). Points are tiled the same
way: residents at nodes (``allocate_residents`` on the bundle, off-network residents left out),
the places of the nine categories (``places/bcn_places_combined.csv``) and the rail stations
(metro, tram, FGC, Rodalies from ``osm/transit_gtfs``).

Every size runs in its own child process (``_network_worker.py``: fresh memory; peak RSS =
VmHWM, reset before each part), ``--repeat`` times (best and median). Places and stations are
placed at their nearest node with no walking cost, as pandana places points, so the three
engines get identical inputs and their results are compared. Workloads:

* **surface**: residents + places (total and 9 categories) within 800 m of every node, 11 sums.
  cwsgeo: ``sums_in_range`` when the network package has it, else ``accessibility_surface``.
  pandana: 11 ``aggregate(800, type="sum", decay="flat")``.
* **nearest**: every node's distance to the nearest station within 2,000 m
  (``nearest_distances``; pandana ``nearest_pois(num_pois=1)``).
* **nearest_k**: the 3 nearest stations (``nearest_k``, when it exists; pandana ``num_pois=3``).

networkx: one ``single_source_dijkstra_path_length`` per sampled origin (``--nx-sample``),
extrapolated linearly to every node. pandana (AGPL, never imported by cwsgeo) runs in
``benchmarks/.venv-pandana`` through ``_pandana_run.py``, fed the worker's arrays in an npz.
Set-up = network (read / build) + snapping (cwsgeo) or ``Network`` + ``precompute`` +
``set_pois`` (pandana). Cross-checks, rows (nodes) differing counted: cwsgeo vs networkx
within 1e-9 relative (sums of residents; place counts are whole numbers; distances in metres);
vs pandana within its precision, 0.01 m on distances and 1e-6 relative on sums (see
:func:`cross_check`). Exponents are least-squares slopes of log(best query time) on
log(nodes). No assertions: numbers, and PASS/FAIL against the targets of issue 13. The machine
is shared: the load (``uptime``) is printed at the start and the end, and after each size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from _network_worker import differences

from cwsgeo.analysis import network as nw
from cwsgeo.analysis import proximity as px
from cwsgeo.build.sources import load_walk_network
from cwsgeo.schema import PLACE_CATEGORIES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PANDANA_PY = HERE / ".venv-pandana" / "bin" / "python"
RAIL_FILES = ("tmb_metro_stations", "tram_stations", "fgc_stations", "rodalies_stations")
WORKLOADS = ("surface", "nearest", "nearest_k")
TARGETS = {"bundle_ratio": 1.0, "big_ratio": 1.5, "exponent": 1.15, "peak_mib": 1024.0}


def read_points(mirror: Path, crs: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The places of the nine categories and the rail stations' coordinates, in ``crs``."""
    csv = pd.read_csv(mirror / "places" / "bcn_places_combined.csv", dtype=str)
    csv = csv[csv["category"].isin(PLACE_CATEGORIES)]
    places = gpd.GeoDataFrame(csv[["category"]], crs="EPSG:4326", geometry=gpd.points_from_xy(
        csv["lon"].astype(float), csv["lat"].astype(float))).to_crs(crs)
    frames = [gpd.read_file(mirror / "osm" / "transit_gtfs" / f"{stem}.geojson")
              for stem in RAIL_FILES]
    stations = pd.concat([f.to_crs(crs).geometry for f in frames], ignore_index=True)
    return places, np.column_stack([stations.x, stations.y])


def write_base(mirror: Path, folder: Path) -> Path:
    """Read the bundle as the build does; write the worker's input arrays; return the npz."""
    graph = mirror / "streets" / "bcn_grafvial_walk.graphml"
    net = load_walk_network(graph, cache_dir=ROOT / "data" / "cache")
    places, station_xy = read_points(mirror, net.crs)
    sections = gpd.read_file(mirror / "admin" / "census_sections.geojson")
    addresses = pd.read_csv(mirror / "addresses" / "bcn_addresses.csv", dtype=str)
    residents = px.allocate_residents(sections, addresses, net)
    categories = list(PLACE_CATEGORIES)
    path = folder / "base.npz"
    arrays: dict[str, Any] = net.to_arrays()
    np.savez(path, **arrays, node_residents=residents.node_residents,
             place_xy=np.column_stack([places.geometry.x, places.geometry.y]),
             place_cat=pd.Index(categories).get_indexer(places["category"]),
             categories=np.array(categories), station_xy=station_xy)
    print(f"bundle: {net}; {len(places):,} places, {len(station_xy):,} rail stations, "
          f"{residents.node_residents.sum():,.0f} residents at nodes "
          f"({residents.offnet_residents.sum():,.0f} off the network, left out)")
    return path


def run_json(cmd: list[str], *, cwsgeo: bool = True) -> dict[str, Any]:
    """Run a child process; return the JSON object on the last line of its output.

    A cwsgeo child gets the caller's PYTHONPATH first, then this worktree; the pandana child
    gets no PYTHONPATH (its venv's own packages only).
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if cwsgeo:
        paths = [str(HERE), os.environ.get("PYTHONPATH", ""), str(ROOT)]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def worker_cmd(base: Path, tiles: int, out: Path, args: argparse.Namespace) -> list[str]:
    return [sys.executable, str(HERE / "_network_worker.py"), str(base), str(tiles), str(out),
            "--repeat", str(args.repeat), "--nx-sample", str(args.nx_sample),
            "--seed", str(args.seed), "--radius", str(args.radius), "--limit", str(args.limit),
            "--k", str(args.k)]


def cross_check(out: Path, radius: float) -> dict[str, Any]:
    """Differences between cwsgeo's and pandana's results, within pandana's precision.

    pandana's distances differ from exact ones by up to ~2-3 mm and its sums of residents by
    up to ~2e-8 relative (seen on the bundle; rounding inside pandana): tolerance 0.01 m on
    distances, 1e-6 relative on sums. Surface rows still differing should be nodes that reach
    another node within those millimetres of the radius (in on one side, out on the other):
    counted as ``at_edge`` among the first 200.
    """
    tolerance = {"surface": {"rel": 1e-6}, "nearest": {"atol": 0.01},
                 "nearest_k": {"atol": 0.01}}
    with np.load(out / "cwsgeo.npz") as ours, np.load(out / "pandana.npz") as theirs:
        check = {w: differences(ours[w], theirs[w], **tolerance[w]) for w in WORKLOADS
                 if w in ours.files and w in theirs.files}
    if "surface" in check:
        check["surface"]["at_edge"] = at_the_edge(out / "network.npz",
                                                  check["surface"]["first_rows"], radius, 0.01)
    return check


def at_the_edge(network: Path, rows: list[int], radius: float, tol: float) -> int:
    """How many of these nodes reach some node at ``radius ± tol`` metres."""
    if not rows:
        return 0
    net = nw.read_network(network)
    found = 0
    for _, dist in nw.iter_node_distances(net, np.asarray(rows), limit=radius + tol,
                                          chunk_size=16):
        found += int((np.isfinite(dist) & (dist > radius - tol)).any(axis=1).sum())
    return found


def run_size(base: Path, tiles: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Worker, then pandana (when installed) on one size; their reports and the cross-check."""
    out = folder / f"x{tiles}"
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    row: dict[str, Any] = {"tiles": tiles,
                           "cwsgeo": run_json(worker_cmd(base, tiles, out, args))}
    if PANDANA_PY.is_file():
        row["pandana"] = run_json([str(PANDANA_PY), str(HERE / "_pandana_run.py"),
                                   str(out / "pandana_input.npz"), str(out / "pandana.npz"),
                                   "--repeat", str(args.repeat)], cwsgeo=False)
        row["check"] = cross_check(out, args.radius)
    print(f"  {tiles:>2}x: {row['cwsgeo']['n_nodes']:>8,} nodes done in "
          f"{time.perf_counter() - t0:6.1f} s (load {os.getloadavg()[0]:.2f})", flush=True)
    return row


def fmt(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "-"
    return f"{seconds:.3f}" if seconds < 100 else f"{seconds:.0f}"


def ratio(row: dict[str, Any], workload: str) -> float | None:
    """cwsgeo's best query time over pandana's, or None without both."""
    ours = row["cwsgeo"].get(workload)
    theirs = row.get("pandana", {}).get(workload)
    return ours["best"] / theirs["best"] if ours and theirs else None


def table_row(row: dict[str, Any], workload: str) -> str:
    cws, pdn = row["cwsgeo"], row.get("pandana", {})
    part, setup = cws[workload], cws["setup"]
    theirs = pdn.get(workload)
    pandana = f"{fmt(theirs['best'])} ({fmt(pdn['setup']['best'])})" if theirs else "-"
    r = ratio(row, workload)
    return (f"{cws['n_nodes']:>9,} | {fmt(setup['best']):>8} | "
            f"{fmt(part['best']):>7} / {fmt(part['median']):<7} | {pandana:>17} | "
            f"{'-' if r is None else f'{r:.2f}':>6} | {fmt(cws['networkx'][workload]):>9} | "
            f"{max(part['peak_mib'], setup['peak_mib']):>6.0f}"
            + (f" ({theirs['peak_mib']:.0f})" if theirs else ""))


def print_table(rows: list[dict[str, Any]], workload: str) -> None:
    have = [r for r in rows if workload in r["cwsgeo"]]
    if not have:
        print(f"\n== {workload}: not in this cwsgeo (no network.{workload})")
        return
    engine = have[0]["cwsgeo"][workload].get("engine", f"network.{workload}"
                                              if workload != "nearest" else "nearest_distances")
    print(f"\n== {workload} (cwsgeo: {engine})")
    print("    nodes | cws set | cws query best/med | pandana q (setup) |  ratio | networkx "
          "| peak MiB (pandana)")
    for row in have:
        print(table_row(row, workload))
    firsts = ", ".join(fmt(row["cwsgeo"][workload].get("first")) for row in have)
    print(f"    cwsgeo's first call per size (fresh process: imports, compilation): {firsts} s")
    for row in have:
        for engine_name, diff in (("networkx", row["cwsgeo"]["networkx"].get(f"{workload}_diff")),
                                  ("pandana", row.get("check", {}).get(workload))):
            if diff:
                edge = ("" if "at_edge" not in diff else
                        f" ({diff['at_edge']} of the first {len(diff['first_rows'])} reach a "
                        "node within 0.01 m of the radius)")
                print(f"    {row['cwsgeo']['n_nodes']:>9,} nodes vs {engine_name:<8}: "
                      f"{diff['rows_differing']:,} of {diff['rows']:,} rows differ{edge}; "
                      f"max |diff| {diff['max_abs']:.2e} (relative {diff['max_rel']:.1e})")


def exponent(rows: list[dict[str, Any]], workload: str, engine: str) -> float | None:
    """Slope of log(best time) on log(nodes) over the sizes run (None with < 2 sizes)."""
    pts = [(r["cwsgeo"]["n_nodes"], best) for r in rows
           if (best := best_time(r, workload, engine)) is not None]
    if len(pts) < 2:
        return None
    nodes, times = np.array(pts, dtype=float).T
    return float(np.polyfit(np.log(nodes), np.log(times), 1)[0])


def best_time(row: dict[str, Any], workload: str, engine: str) -> float | None:
    if engine == "networkx":
        value = row["cwsgeo"]["networkx"].get(workload) if workload in row["cwsgeo"] else None
        return None if value is None else float(value)
    part = row.get(engine, {}).get(workload)
    return None if part is None else float(part["best"])


def print_exponents(rows: list[dict[str, Any]]) -> None:
    print("\n== exponents (time ~ nodes^e, least squares on log-log)")
    for workload in WORKLOADS:
        parts = [f"{engine} {e:.2f}" for engine in ("cwsgeo", "pandana", "networkx")
                 if (e := exponent(rows, workload, engine)) is not None]
        if parts:
            print(f"  {workload:<10} " + ", ".join(parts))


def verdict(value: float | None, limit: float, what: str) -> str:
    if value is None:
        return f"n/a   {what}"
    return f"{'PASS' if value <= limit else 'FAIL'}  {what}: {value:.2f} (target <= {limit:g})"


def print_targets(rows: list[dict[str, Any]]) -> None:
    by_tiles = {r["tiles"]: r for r in rows}
    bundle, big = by_tiles.get(1), by_tiles.get(16)
    peak = max(max(r["cwsgeo"][p]["peak_mib"] for p in ("setup", *WORKLOADS)
                   if p in r["cwsgeo"]) for r in rows)
    print("\n== targets (issue 13; the surface workload)")
    print(verdict(ratio(bundle, "surface") if bundle else None, TARGETS["bundle_ratio"],
                  "bundle: surface time / pandana's"))
    print(verdict(ratio(big, "surface") if big else None, TARGETS["big_ratio"],
                  "147k nodes: surface time / pandana's"))
    print(verdict(exponent(rows, "surface", "cwsgeo"), TARGETS["exponent"],
                  "exponent of the surface time"))
    print(verdict(peak, TARGETS["peak_mib"], "peak RSS of any cwsgeo run, MiB"))


def load_line() -> str:
    try:
        return subprocess.run(["uptime"], stdout=subprocess.PIPE, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=ROOT.parent / "shared" / "data" / "bcn")
    parser.add_argument("--sizes", default="1,2,4,8,16", help="tilings to run, e.g. 1,2,4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nx-sample", type=int, default=200,
                        help="networkx origins per size (timed, extrapolated to every node)")
    parser.add_argument("--quick", action="store_true",
                        help="sizes 1,2,4, one repetition, 50 networkx origins")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--radius", type=float, default=800.0)
    parser.add_argument("--limit", type=float, default=2000.0)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the arrays and results to this (new) folder and keep them")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat, args.nx_sample = "1,2,4", 1, min(args.nx_sample, 50)
    args.sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"start: {load_line()}")
    print(f"engine: sums_in_range {'yes' if hasattr(nw, 'sums_in_range') else 'no'}, "
          f"nearest_k {'yes' if hasattr(nw, 'nearest_k') else 'no'}; "
          f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}; "
          f"{os.cpu_count()} cpus")
    if not PANDANA_PY.is_file():
        print("pandana: not installed (run benchmarks/setup_pandana.sh)")
    with tempfile.TemporaryDirectory(prefix="cwsgeo-netbench-") as tmp:
        folder = Path(tmp) if args.keep is None else args.keep
        folder.mkdir(parents=True, exist_ok=True)
        base = write_base(args.mirror, folder)
        print(f"sizes {args.sizes}, {args.repeat} repetitions, networkx on {args.nx_sample} "
              "origins per size", flush=True)
        rows = [run_size(base, tiles, folder, args) for tiles in args.sizes]
    if rows and "pandana" in rows[0]:
        print(f"pandana {rows[0]['pandana']['version']} (benchmarks/.venv-pandana)")
    for workload in WORKLOADS:
        print_table(rows, workload)
    print("  times in s; ratio = cwsgeo query / pandana query (best of each); networkx = "
          "estimated from the sampled origins; peak = VmHWM of the child during the part")
    print_exponents(rows)
    print_targets(rows)
    print(f"\nend: {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
