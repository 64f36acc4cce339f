"""Benchmark cwsgeo's batched csgraph walking search against per-origin networkx searches.

Usage::

    .venv/bin/python benchmarks/network_search.py [--mirror ../shared/data/bcn]
        [--spaces 60] [--nx-sample 0] [--repeat 3] [--seed 7]

On the bundle's municipal street graph (``streets/bcn_grafvial_walk.graphml``):

(a) **located spaces**: ``--spaces`` random network nodes (seeded; a stand-in for the geocoded
    coworking spaces, which need the geocoder) as origins, every node within 15 minutes
    (1,200 m): ``cwsgeo.analysis.network.node_distances(limit=1200)`` against
    ``networkx.single_source_dijkstra_path_length(G, n, cutoff=1200, weight="length")`` per
    origin.
(b) **every node as an origin**: the city-wide 10-minute (800 m) surface of residents and places
    by category. cwsgeo: ``proximity.accessibility_surface`` (batched dijkstra + aggregation).
    networkx: one ``single_source_dijkstra_path_length(cutoff=800)`` per node, then the same
    sums over the reached nodes (residents at nodes; each place at
    ``min(d(u) + cost_u, d(v) + cost_v)`` over its segment's ends; off-network points in a
    straight line), so both produce the same surface, which is checked. ``--nx-sample N``
    times networkx on N random origins and extrapolates linearly (printed as such); the
    default 0 runs every origin.

Times are the best of ``--repeat`` runs for cwsgeo and one run for networkx (it is slow).
Peak memory is measured in separate runs with ``tracemalloc`` (Python and numpy allocations);
the process's ``ru_maxrss`` is printed at the end. Places come from
``places/bcn_places_combined.csv`` (the nine interaction categories), transit from
``osm/transit_gtfs/*.geojson`` (mode from the file name), residents from the census sections and
the address gazetteer (``proximity.allocate_residents``). No timed assertions: numbers only.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from cwsgeo.analysis import network as nw
from cwsgeo.analysis import proximity as px
from cwsgeo.analysis.proximity._common import within_weights
from cwsgeo.build.sources import save_network
from cwsgeo.schema import PLACE_CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
TRANSIT_FILES = {"tmb_metro_stations": "metro", "tram_stations": "tram", "fgc_stations": "fgc",
                 "rodalies_stations": "rodalies", "tmb_bus_stops": "bus",
                 "tmb_funicular_stations": "funicular"}
SPEED = 4.8 * 1000 / 60  # m per minute


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def load_inputs(mirror: Path) -> dict[str, Any]:
    csv = pd.read_csv(mirror / "places" / "bcn_places_combined.csv", dtype=str)
    csv = csv[csv["category"].isin(PLACE_CATEGORIES)]
    places = gpd.GeoDataFrame(csv[["name", "category"]],
                              geometry=gpd.points_from_xy(csv["lon"].astype(float),
                                                          csv["lat"].astype(float)),
                              crs="EPSG:4326").to_crs("EPSG:25831")
    frames = []
    for stem, mode in TRANSIT_FILES.items():
        g = gpd.read_file(mirror / "osm" / "transit_gtfs" / f"{stem}.geojson")[["name",
                                                                                "geometry"]]
        g["mode"] = mode
        frames.append(g)
    stops = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326").to_crs(
        "EPSG:25831")
    sections = gpd.read_file(mirror / "admin" / "census_sections.geojson")
    addresses = pd.read_csv(mirror / "addresses" / "bcn_addresses.csv", dtype=str)
    return {"places": places, "stops": stops, "sections": sections, "addresses": addresses}


def nx_surface(graph: nx.MultiDiGraph, origins: list[Any], node_res: dict[Any, float],
               place_ends: dict[Any, list[tuple[int, float]]], place_cat: np.ndarray,
               k: int) -> tuple[np.ndarray, np.ndarray]:
    """The same 10-minute surface, one networkx search per origin.

    Residents: summed over reached nodes. Places: exact, like cwsgeo: a place on segment
    (u, v) is at ``min(d(u) + cost_u, d(v) + cost_v)``.
    """
    res = np.zeros(len(origins))
    cnt = np.zeros((len(origins), k + 1))
    for i, o in enumerate(origins):
        reached = nx.single_source_dijkstra_path_length(graph, o, cutoff=800, weight="length")
        res[i] = sum(node_res.get(n, 0.0) for n in reached)
        best: dict[int, float] = {}
        for n, dn in reached.items():
            for q, cost in place_ends.get(n, ()):
                d = dn + cost
                if d < best.get(q, np.inf):
                    best[q] = d
        for q, d in best.items():
            if d <= 800:
                cnt[i, 0] += 1
                cnt[i, place_cat[q] + 1] += 1
    return res, cnt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=ROOT.parent / "shared" / "data" / "bcn")
    parser.add_argument("--spaces", type=int, default=60)
    parser.add_argument("--nx-sample", type=int, default=0,
                        help="time networkx on N random origins for (b) and extrapolate")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    graphml = args.mirror / "streets" / "bcn_grafvial_walk.graphml"
    rng = np.random.default_rng(args.seed)

    print("== loading the walking network")
    import osmnx as ox

    t0 = time.perf_counter()
    graph = ox.load_graphml(graphml)
    t_ox = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = nw.read_network(graphml)
    t_cold = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as folder:
        compact = save_network(net, Path(folder) / "walknet.npz")  # as `cwsgeo fetch` does
        t_warm, _ = best_of(lambda: nw.read_network(compact), args.repeat)
    print(f"osmnx.load_graphml                 {t_ox:8.3f} s")
    print(f"read_network, GraphML (parse)      {t_cold:8.3f} s")
    print(f"read_network, compact .npz         {t_warm:8.3f} s")
    print(f"network: {net}")
    graph = graph.subgraph(net.node_ids.tolist()).copy()  # same largest component

    print("== inputs")
    t0 = time.perf_counter()
    inputs = load_inputs(args.mirror)
    print(f"read places/stops/sections/addresses {time.perf_counter() - t0:6.2f} s "
          f"({len(inputs['places']):,} places, {len(inputs['stops']):,} stops, "
          f"{len(inputs['addresses']):,} addresses)")
    t_alloc, residents = best_of(lambda: px.allocate_residents(
        inputs["sections"], inputs["addresses"], net), 1)
    print(f"allocate_residents                   {t_alloc:6.2f} s "
          f"(total {residents.total:,.0f}; off network {residents.offnet_residents.sum():,.0f})")

    # ---------------------------------------------------------------------------------- (a)
    print(f"\n== (a) {args.spaces} origins (random network nodes, seed {args.seed}), "
          "every node within 1,200 m")
    origins = rng.choice(net.n_nodes, size=min(args.spaces, net.n_nodes), replace=False)
    origin_ids = net.node_ids[origins].tolist()
    t_cs_a, dist_a = best_of(lambda: nw.node_distances(net, origins, limit=1200.0), args.repeat)
    t0 = time.perf_counter()
    nx_a = [nx.single_source_dijkstra_path_length(graph, o, cutoff=1200, weight="length")
            for o in origin_ids]
    t_nx_a = time.perf_counter() - t0
    worst = 0.0
    for i, reached in enumerate(nx_a):
        ids = net.node_index(list(reached))
        worst = max(worst, float(np.abs(dist_a[i, ids] - np.fromiter(reached.values(), float))
                                 .max()))
        if np.isfinite(dist_a[i]).sum() != len(reached):
            worst = np.inf
    mem_cs_a = peak_mib(lambda: nw.node_distances(net, origins, limit=1200.0))
    mem_nx_a = peak_mib(lambda: [nx.single_source_dijkstra_path_length(
        graph, o, cutoff=1200, weight="length") for o in origin_ids])
    print(f"cwsgeo csgraph (batched)     {t_cs_a:8.4f} s   peak {mem_cs_a:7.1f} MiB")
    print(f"networkx per origin          {t_nx_a:8.4f} s   peak {mem_nx_a:7.1f} MiB")
    print(f"ratio networkx / cwsgeo      {t_nx_a / t_cs_a:8.1f} x   "
          f"(same reached sets, max |diff| {worst:.2e} m)")

    # ---------------------------------------------------------------------------------- (b)
    print("\n== (b) every node as an origin: 10-minute (800 m) surface of residents and places")
    places = inputs["places"]
    t_cs_b, surface = best_of(lambda: px.accessibility_surface(
        net, residents=residents, places=places, minutes=(10,)), args.repeat)
    t_cs_b_search, _ = best_of(lambda: sum(d.shape[0] for _, d in nw.iter_node_distances(
        net, limit=800.0, chunk_size=64)), args.repeat)
    mem_cs_b = peak_mib(lambda: px.accessibility_surface(net, residents=residents,
                                                         places=places, minutes=(10,)))
    # networkx inputs: the same node residents and snapped places, as dicts
    snap = nw.snap_points(net, places.geometry)
    cats = list(PLACE_CATEGORIES)
    place_cat = pd.Index(cats).get_indexer(places["category"])
    ids = net.node_ids.tolist()
    place_ends: dict[Any, list[tuple[int, float]]] = {}
    for q in np.flatnonzero(snap.on_network).tolist():
        place_ends.setdefault(ids[snap.u[q]], []).append((q, float(snap.cost_u[q])))
        place_ends.setdefault(ids[snap.v[q]], []).append((q, float(snap.cost_v[q])))
    node_res = dict(zip(ids, residents.node_residents.tolist(), strict=True))
    node_xy = np.column_stack([net.x, net.y])

    def straight_parts() -> tuple[np.ndarray, np.ndarray]:
        # off-network residents and places count in a straight line (as in cwsgeo)
        off = ~snap.on_network
        onehot = np.zeros((int(off.sum()), len(cats) + 1))
        onehot[:, 0] = 1
        onehot[np.arange(int(off.sum())), place_cat[off] + 1] = 1
        return (within_weights(residents.offnet_xy, residents.offnet_residents, node_xy,
                                   800.0)[:, 0],
                within_weights(np.column_stack([snap.x[off], snap.y[off]]), onehot,
                                   node_xy, 800.0))

    def run_nx(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        res_off, places_off = straight_parts()
        res_, cnt_ = nx_surface(graph, [ids[i] for i in sample], node_res, place_ends,
                                place_cat, len(cats))
        return res_ + res_off[sample], cnt_ + places_off[sample]

    if args.nx_sample and args.nx_sample < net.n_nodes:
        sample = np.sort(rng.choice(net.n_nodes, size=args.nx_sample, replace=False))
        t0 = time.perf_counter()
        nx_res, nx_cnt = run_nx(sample)
        t_nx_b = (time.perf_counter() - t0) * net.n_nodes / len(sample)
        how = f"EXTRAPOLATED linearly from {len(sample):,} random origins"
    else:
        sample = np.arange(net.n_nodes)
        t0 = time.perf_counter()
        nx_res, nx_cnt = run_nx(sample)
        t_nx_b = time.perf_counter() - t0
        how = f"measured on all {net.n_nodes:,} origins"
    mem_nx_b = peak_mib(lambda: run_nx(np.arange(500)))
    ours_res = surface["residents_10min"].to_numpy()[sample]
    ours_cnt = surface[["places_total_10min"] + [f"places_{c}_10min" for c in cats]
                       ].to_numpy()[sample]
    res_diff = float(np.abs(ours_res - nx_res).max())
    cnt_diff = int(np.abs(ours_cnt - nx_cnt).max())
    print(f"cwsgeo accessibility_surface {t_cs_b:8.3f} s   peak {mem_cs_b:7.1f} MiB "
          f"(of which the batched search alone {t_cs_b_search:.3f} s)")
    print(f"networkx per origin          {t_nx_b:8.3f} s   peak {mem_nx_b:7.1f} MiB "
          f"(memory on 500 origins; time {how})")
    print(f"ratio networkx / cwsgeo      {t_nx_b / t_cs_b:8.1f} x   "
          f"(search only: {t_nx_b / t_cs_b_search:.1f} x)")
    print(f"same surface: residents_10min max |diff| {res_diff:.1e}; place counts (total and "
          f"{len(cats)} categories) max |diff| {cnt_diff}")

    # ------------------------------------------------------------------------ full metrics
    print("\n== full per-space metrics and surfaces (cwsgeo)")
    spaces = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(len(origins))],
         "innovation_type": pd.array(rng.integers(1, 4, len(origins)), dtype="Int64")},
        geometry=gpd.points_from_xy(net.x[origins] + 15.0, net.y[origins] + 10.0),
        crs=net.crs)
    t_m, metrics = best_of(lambda: px.space_metrics(
        spaces, net, stops=inputs["stops"], places=places, residents=residents), args.repeat)
    t_cov, _ = best_of(lambda: px.coverage(spaces, residents, net), args.repeat)
    t_area, _ = best_of(lambda: px.walk_areas(spaces, net), args.repeat)
    t_s3, _ = best_of(lambda: px.accessibility_surface(
        net, residents=residents, places=places, minutes=(5, 10, 15)), args.repeat)
    print(f"space_metrics ({len(spaces)} spaces, {metrics.shape[1]} columns) {t_m:8.3f} s")
    print(f"coverage (all + 3 types, 10/15 min)          {t_cov:8.3f} s")
    print(f"walk_areas (10 min, concave hull)            {t_area:8.3f} s")
    print(f"accessibility_surface 10 min                 {t_cs_b:8.3f} s")
    print(f"accessibility_surface 5/10/15 min            {t_s3:8.3f} s")
    print(f"total (allocation + metrics + coverage + areas + 5/10/15 surface) "
          f"{t_alloc + t_m + t_cov + t_area + t_s3:.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (ru_maxrss, whole run incl. the networkx graph) {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
