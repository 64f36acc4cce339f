"""One graph size of network_search.py, in a fresh process; prints a JSON report.

Usage (network_search.py runs it; by hand only to debug)::

    PYTHONPATH=. .venv/bin/python benchmarks/_network_worker.py BASE.npz TILES OUT_DIR \
        [--repeat 3] [--nx-sample 200] [--seed 7] [--radius 800] [--limit 2000] [--k 3]

BASE.npz (written by network_search.py) holds the bundle's network (``WalkNetwork.to_arrays``),
``node_residents``, ``place_xy`` + ``place_cat`` (index into ``categories``) and
``station_xy``, in EPSG:25831. The network and the points are tiled TILES times
(:mod:`_tiling`), the tiled network is stored in its compact form in OUT_DIR, and then, each
``--repeat`` times (best and median reported, with the peak RSS = VmHWM of this process,
reset before each part):

* **setup**: ``read_network`` of the compact file (how the build reads it) and the snapping of
  places and stations to their nearest node (``snap_points(how="node")``, walking cost set to 0,
  as pandana places points), so cwsgeo, pandana and networkx get identical inputs;
* **surface**: 11 sums within ``--radius`` of every node (residents at nodes, places total and
  per category at their nodes): ``sums_in_range(net, weights, radius)`` when the network
  package has it, else today's ``accessibility_surface`` (batched scipy dijkstra);
* **nearest**: ``nearest_distances(net, stations, limit)``; **nearest_k** (k nearest stations)
  with ``nearest_k`` when it exists.

networkx then runs one ``single_source_dijkstra_path_length`` per sampled origin (cutoff =
radius for the surface, limit for the nearest stations), timed and extrapolated linearly to
every node, and its results are compared with cwsgeo's on those origins. OUT_DIR gets
``cwsgeo.npz`` (results) and ``pandana_input.npz`` (the arrays _pandana_run.py reads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from _pandana_run import timed
from _tiling import grid_offsets, tile_network, tile_values, tile_xy

from cwsgeo.analysis import network as nw
from cwsgeo.analysis import proximity as px
from cwsgeo.analysis.proximity.targets import SnappedTargets
from cwsgeo.build.sources import save_network
from cwsgeo.schema import metric_column

SURFACE_MINUTES = 10


def prepare(base: dict[str, np.ndarray], k: int, folder: Path) -> tuple[Path, dict[str, Any]]:
    """Tile the bundle k times; store the network's compact form; return it and the points."""
    net = nw.WalkNetwork.from_arrays(base)
    offsets = grid_offsets(net, k)
    path = save_network(tile_network(net, k), folder / "network.npz")
    points = {"places": tile_xy(base["place_xy"], offsets),
              "cat": tile_values(base["place_cat"], k),
              "stations": tile_xy(base["station_xy"], offsets),
              "residents": tile_values(base["node_residents"], k),
              "categories": [str(c) for c in base["categories"].tolist()]}
    return path, points


def at_nodes(net: nw.WalkNetwork, xy: np.ndarray) -> nw.Snap:
    """Points snapped to their nearest node at no walking cost (pandana's model)."""
    snap = nw.snap_points(net, xy, how="node", snap_max_m=np.inf)
    zero = np.zeros(len(snap))
    return dataclasses.replace(snap, cost_u=zero, cost_v=zero.copy())


def setup(path: Path, points: dict[str, Any]) -> tuple[nw.WalkNetwork, nw.Snap, nw.Snap]:
    """The timed set-up: the network as the build reads it, places and stations snapped."""
    net = nw.read_network(path)
    return net, at_nodes(net, points["places"]), at_nodes(net, points["stations"])


def node_weights(net: nw.WalkNetwork, residents: np.ndarray, places: nw.Snap,
                 cat: np.ndarray, n_cats: int) -> np.ndarray:
    """``(n, 2 + n_cats)``: residents, places (total) and places per category at each node."""
    out = np.zeros((net.n_nodes, 2 + n_cats))
    out[:, 0] = residents
    np.add.at(out[:, 1], places.u, 1.0)
    np.add.at(out, (places.u, 2 + cat), 1.0)
    return out


def weight_names(categories: list[str]) -> list[str]:
    """Names of the weight columns (the surface's column names without the minutes)."""
    return ["residents", "places_total", *(f"places_{c}" for c in categories)]


def today_surface(net: nw.WalkNetwork, weights: np.ndarray, places: nw.Snap, cat: np.ndarray,
                  categories: list[str], radius: float) -> np.ndarray:
    """The same sums with today's public ``accessibility_surface`` (places at their nodes)."""
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=net.crs))
    residents = px.Residents(node_residents=weights[:, 0], offnet_xy=np.zeros((0, 2)),
                             offnet_residents=np.zeros(0), points=empty,
                             report=pd.DataFrame(), n_nodes=net.n_nodes, network=net.source)
    onehot = np.zeros((len(places), len(categories)))
    onehot[np.arange(len(places)), cat] = 1.0
    targets = SnappedTargets(snap=places, weights=onehot, columns=categories,
                             n_nodes=net.n_nodes, network=net.source)
    kmh = radius / SURFACE_MINUTES * 60 / 1000
    frame = px.accessibility_surface(net, residents=residents, places=targets,
                                     minutes=(SURFACE_MINUTES,), walk_speed_kmh=kmh)
    cols = [metric_column("residents", minutes=SURFACE_MINUTES)]
    cols += [metric_column("places", c, minutes=SURFACE_MINUTES) for c in ["total", *categories]]
    return frame[cols].to_numpy(dtype=float)


def surface_call(net: nw.WalkNetwork, weights: np.ndarray, places: nw.Snap, cat: np.ndarray,
                 categories: list[str], radius: float) -> tuple[str, Callable[[], np.ndarray]]:
    """The engine's name and the call computing the surface (``sums_in_range`` if present)."""
    sums_in_range = getattr(nw, "sums_in_range", None)
    if sums_in_range is not None:
        return "sums_in_range", lambda: np.asarray(sums_in_range(net, weights, radius))
    return "accessibility_surface", lambda: today_surface(net, weights, places, cat,
                                                          categories, radius)


def nearest_k_call(net: nw.WalkNetwork, stations: nw.Snap, k: int,
                   limit: float) -> Callable[[], np.ndarray] | None:
    """``nearest_k`` as an ``(n, k)`` distance array, or None when the package has none."""
    nearest_k = getattr(nw, "nearest_k", None)
    if nearest_k is None:
        return None

    def run() -> np.ndarray:
        out = nearest_k(net, stations, k=k, limit=limit)
        return np.asarray(out[0] if isinstance(out, tuple) else out, dtype=float)

    return run


def nx_searches(net: nw.WalkNetwork, sample: np.ndarray, cutoff: float,
                per_origin: Callable[[dict[int, float]], np.ndarray]) -> tuple[float, np.ndarray]:
    """One networkx search per sampled origin; seconds extrapolated to every node, results."""
    import networkx as nx

    graph = net.to_networkx()
    position = dict(zip(net.node_ids.tolist(), range(net.n_nodes), strict=True))
    ids = net.node_ids.tolist()
    t0 = time.perf_counter()
    rows = []
    for origin in sample.tolist():
        reached = nx.single_source_dijkstra_path_length(graph, ids[origin], cutoff=cutoff,
                                                        weight="length")
        rows.append(per_origin({position[n]: d for n, d in reached.items()}))
    seconds = (time.perf_counter() - t0) * net.n_nodes / max(len(sample), 1)
    return seconds, np.asarray(rows)


def run_networkx(net: nw.WalkNetwork, weights: np.ndarray, stations: nw.Snap,
                 ours: dict[str, np.ndarray], args: argparse.Namespace) -> dict[str, Any]:
    """networkx timings (extrapolated) and its largest differences from cwsgeo's results."""
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(net.n_nodes, size=min(args.nx_sample, net.n_nodes),
                                replace=False))
    count = np.bincount(stations.u, minlength=net.n_nodes)

    def sums(reached: dict[int, float]) -> np.ndarray:
        return weights[np.fromiter(reached, np.int64, len(reached))].sum(axis=0)

    def k_nearest(reached: dict[int, float]) -> np.ndarray:
        found = sorted(d for n, d in reached.items() for _ in range(count[n]))[:args.k]
        return np.array(found + [np.inf] * (args.k - len(found)))

    t_sum, nx_sums = nx_searches(net, sample, args.radius, sums)
    t_near, nx_near = nx_searches(net, sample, args.limit, k_nearest)
    report = {"sample": len(sample), "surface": t_sum, "nearest": t_near, "nearest_k": t_near,
              "surface_diff": differences(ours["surface"][sample], nx_sums),
              "nearest_diff": differences(ours["nearest"][sample], nx_near[:, 0])}
    if "nearest_k" in ours:
        report["nearest_k_diff"] = differences(ours["nearest_k"][sample], nx_near)
    return report


def differences(a: np.ndarray, b: np.ndarray, *, rel: float = 1e-9,
                atol: float = 0.0) -> dict[str, Any]:
    """Largest absolute and relative difference; rows differing by more than the tolerance.

    A row differs when some value differs by more than ``atol + rel * max(|a|, 1)``; equal
    infinities are equal. ``first_rows``: the first 200 rows that differ.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):
        diff = np.where(same_inf, 0.0, np.abs(a - b))
    scale = np.maximum(np.abs(np.where(same_inf, 1.0, a)), 1.0)
    over = (diff > atol + rel * scale).reshape(len(a), -1).any(axis=1)
    return {"max_abs": float(diff.max(initial=0.0)),
            "max_rel": float((diff / scale).max(initial=0.0)),
            "rows_differing": int(over.sum()), "rows": len(a),
            "first_rows": np.flatnonzero(over)[:200].tolist()}


def measure(path: Path, points: dict[str, Any],
            args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Time set-up and every workload; return the report, the results and the inputs."""
    report: dict[str, Any] = {}
    report["setup"], (net, places, stations) = timed(lambda: setup(path, points), args.repeat)
    categories = points["categories"]
    weights = node_weights(net, points["residents"], places, points["cat"], len(categories))
    engine, call = surface_call(net, weights, places, points["cat"], categories, args.radius)
    report["surface"], surface = timed(call, args.repeat)
    report["surface"]["engine"] = engine
    report["nearest"], near = timed(lambda: nw.nearest_distances(net, stations,
                                                                 limit=args.limit), args.repeat)
    results: dict[str, Any] = {"surface": surface, "nearest": near}
    call_k = nearest_k_call(net, stations, args.k, args.limit)
    if call_k is not None:
        report["nearest_k"], results["nearest_k"] = timed(call_k, args.repeat)
    report.update(n_nodes=net.n_nodes, n_edges=net.n_edges, places=len(places),
                  stations=len(stations))
    return report, results, (net, weights, stations, categories)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("tiles", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nx-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--radius", type=float, default=800.0)
    parser.add_argument("--limit", type=float, default=2000.0)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args(argv)
    with np.load(args.base, allow_pickle=False) as npz:
        base = {key: npz[key] for key in npz.files}
    path, points = prepare(base, args.tiles, args.out)
    del base
    report, results, (net, weights, stations, categories) = measure(path, points, args)
    np.savez(args.out / "cwsgeo.npz", **results)
    np.savez(args.out / "pandana_input.npz", x=net.x, y=net.y, edge_u=net.edge_u,
             edge_v=net.edge_v, edge_length=net.edge_length, weights=weights,
             names=np.array(weight_names(categories)), station_node=stations.u,
             radius=args.radius, limit=args.limit, k=args.k)
    report["networkx"] = run_networkx(net, weights, stations, results, args)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
