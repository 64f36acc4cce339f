"""The middleground's bounded searches give the distances of a search of the whole graph.

A jittered 12 x 12 grid (edge lengths with fractions, so sums round) and 60 random points.
The reference is the former computation: ``point_node_distances`` without a limit (scipy's
dijkstra over the whole graph) and ``to_points``.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from cwsgeo.analysis.network import (
    network_from_graph,
    point_node_distances,
    point_node_rows,
    snap_points,
)
from cwsgeo.analysis.network import to_points as network_to_points
from cwsgeo.analysis.stats.middleground import (
    _bounded_distances,
    _snap_distances,
    middleground_indicators,
    space_network_distances,
)

X0, Y0 = 430000.0, 4580000.0


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(7)
    g = nx.Graph(crs="EPSG:25831")
    pos = {}
    for i in range(12):
        for j in range(12):
            pos[i, j] = (X0 + 97.3 * i + rng.uniform(-20, 20),
                         Y0 + 101.7 * j + rng.uniform(-20, 20))
            g.add_node(i * 12 + j, x=pos[i, j][0], y=pos[i, j][1])
    for i in range(12):
        for j in range(12):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < 12 and j + dj < 12 and rng.random() > 0.1:
                    (x1, y1), (x2, y2) = pos[i, j], pos[i + di, j + dj]
                    g.add_edge(i * 12 + j, (i + di) * 12 + j + dj,
                               length=float(np.hypot(x2 - x1, y2 - y1)) * rng.uniform(1, 1.3))
    return network_from_graph(g)


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(3)
    xy = np.column_stack([X0 + rng.uniform(0, 1100, 60), Y0 + rng.uniform(0, 1100, 60)])
    xy[5] = xy[4]  # two spaces at one point
    xy[59] = (X0 + 5000, Y0)  # off the network
    return gpd.GeoSeries(shapely.points(xy), crs="EPSG:25831")


def _reference(net, snap):
    ok = snap.on_network
    out = np.full((len(snap), len(snap)), np.nan)
    block = network_to_points(point_node_distances(net, snap.subset(ok)), snap,
                              origins=snap.subset(ok))
    block[~np.isfinite(block)] = np.nan
    block[:, ~snap.on_network] = np.nan
    out[ok] = block
    on = np.flatnonzero(ok)
    out[on, on] = 0.0
    return out


@pytest.mark.parametrize("limit", [0.0, 150.0, 433.3, 900.0])
def test_point_node_rows_equal_scipy_with_the_same_limit(grid, points, limit):
    snap = snap_points(grid, points)
    columns = np.array([0, 3, 17, 100, grid.n_nodes - 1])
    full = point_node_distances(grid, snap, limit=limit)
    np.testing.assert_array_equal(point_node_rows(grid, snap, limit, columns),
                                  full[:, columns])
    every = np.arange(grid.n_nodes)
    np.testing.assert_array_equal(point_node_rows(grid, snap, limit, every), full)


@pytest.mark.parametrize("radius", [0.0, 120.0, 350.0, 5000.0])
def test_bounded_distances_are_exact_up_to_the_radius_and_to_the_nearest(grid, points, radius):
    snap = snap_points(grid, points)
    ref = _reference(grid, snap)
    got = _bounded_distances(grid, snap, radius)
    near = ref <= radius
    np.testing.assert_array_equal(got[near], ref[near])
    known = ~np.isnan(got)  # beyond the radius: only the rows searched again, exactly
    np.testing.assert_array_equal(got[known], ref[known])
    if radius < 200:
        assert (known & ~near).any()
    d_ref, d_got = ref.copy(), got.copy()
    np.fill_diagonal(d_ref, np.inf)
    np.fill_diagonal(d_got, np.inf)
    d_ref, d_got = np.nan_to_num(d_ref, nan=np.inf), np.nan_to_num(d_got, nan=np.inf)
    np.testing.assert_array_equal(d_got.min(axis=1), d_ref.min(axis=1))
    np.testing.assert_array_equal(d_got.argmin(axis=1), d_ref.argmin(axis=1))


def test_space_network_distances_match_the_whole_graph_search(grid, points):
    snap = snap_points(grid, points)
    ref = _reference(grid, snap)
    frame = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(len(points))]}, geometry=points)
    np.testing.assert_array_equal(space_network_distances(frame, grid).to_numpy(), ref)
    bounded = space_network_distances(frame, grid, limit=300.0, chunk_size=7).to_numpy()
    np.testing.assert_array_equal(bounded, np.where(ref <= 300.0, ref, np.nan))
    rows = np.array([3, 10, 59])
    part = _snap_distances(grid, snap, snap, limit=np.inf, same=True, rows=rows)
    np.testing.assert_array_equal(part[rows], ref[rows])
    assert np.isnan(np.delete(part, rows, axis=0)).all()


def test_indicators_equal_those_of_the_full_matrix(grid, points):
    n = len(points)
    frame = gpd.GeoDataFrame({
        "id": [f"s{i}" for i in range(n)],
        "location_precision": ["exact"] * (n - 3) + ["area", "exact", "exact"],
        "places_total_5min": 1, "places_total_10min": 2, "places_buzz": 1.0,
        **{f"places_{c}_10min": 1 for c in ("culture_venue", "civic_centre", "library",
                                            "community_centre")},
        "screen_score": 1, "screen_evidence": "events: talks"}, geometry=points)
    precise = frame["location_precision"] == "exact"
    snap = snap_points(grid, points[precise.to_numpy()])
    full = pd.DataFrame(_reference(grid, snap), index=frame["id"][precise],
                        columns=frame["id"][precise])
    for speed in (1.0, 2.5):
        ours = middleground_indicators(frame, net=grid, walk_speed_kmh=speed)
        given = middleground_indicators(frame, space_distances=full, walk_speed_kmh=speed)
        pd.testing.assert_frame_equal(ours, given, check_exact=True)
