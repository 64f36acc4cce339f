"""The compiled bounded search engine: equal to scipy's dijkstra and to networkx, exactly.

Distances are compared with ``==`` (the engine adds edge lengths in the same order as scipy
and networkx: ``dist[u] + w``). Sums of real-valued weights are compared with a relative
tolerance of ``1e-14``: the engine adds them in the order the search reaches the nodes, a
matrix product in another order, and the two differ in the last bits (up to ~3e-15 relative
on the bundle). Counts (one-hot weights) are compared exactly.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph

from cwsgeo.analysis import network as nw
from cwsgeo.analysis.network import _bounded
from tests.test_network import random_graph

SUM_RTOL = 1e-14


def random_net(seed: int, n: int = 120, integer: bool = False) -> nw.WalkNetwork:
    g = random_graph(seed, n)
    if integer:  # whole-metre lengths: many distances land exactly on the radius
        for _, _, data in g.edges(data=True):
            data["length"] = float(round(data["length"] / 10.0) * 10.0 or 10.0)
    return nw.network_from_graph(g, largest_component=False)


def scipy_rows(net: nw.WalkNetwork, origins: np.ndarray, limit: float) -> np.ndarray:
    return csgraph.dijkstra(net.adjacency, directed=True, indices=origins, limit=limit)


def virtual_source_rows(net: nw.WalkNetwork, snap: nw.Snap, limit: float) -> np.ndarray:
    """scipy on the graph plus one virtual node per point joined to u and v by its costs."""
    n, k = net.n_nodes, len(snap)
    adj = sparse.lil_array((n + k, n + k))
    adj[:n, :n] = net.adjacency
    for i in range(k):
        adj[n + i, snap.u[i]] = snap.cost_u[i]
        adj[n + i, snap.v[i]] = min(snap.cost_v[i], adj[n + i, snap.v[i]] or np.inf)
    rows = csgraph.dijkstra(adj.tocsr(), directed=True, indices=np.arange(n, n + k),
                            limit=limit)
    return rows[:, :n]


def random_points(net: nw.WalkNetwork, seed: int, n: int = 15) -> nw.Snap:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(net.x.min(), net.x.max(), size=(n, 2)) + rng.uniform(0.5, 3, (n, 2))
    return nw.snap_points(net, xy, snap_max_m=1e9)


# ------------------------------------------------------------------------ node origins
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("radius", [0.0, 90.0, 250.0, 600.0])
def test_nodes_in_range_equals_scipy_exactly(seed, radius):
    net = random_net(seed, integer=seed % 2 == 1)
    reach = nw.nodes_in_range(net, radius=radius)
    assert len(reach) == net.n_nodes and (reach.origins == np.arange(net.n_nodes)).all()
    ref = scipy_rows(net, np.arange(net.n_nodes), radius)
    np.testing.assert_array_equal(reach.to_dense(net.n_nodes), ref)
    assert (reach.distances <= radius).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_nodes_in_range_equals_networkx_exactly(seed):
    g = random_graph(seed, 150)
    net = nw.network_from_graph(g, largest_component=False)
    reach = nw.nodes_in_range(net, np.arange(0, net.n_nodes, 5), radius=400.0)
    for row, o in enumerate(range(0, net.n_nodes, 5)):
        ref = nx.single_source_dijkstra_path_length(g, int(net.node_ids[o]), cutoff=400.0,
                                                    weight="length")
        nodes, dist = reach.row(row)
        assert dict(zip(net.node_ids[nodes].tolist(), dist.tolist(), strict=True)) == ref


@pytest.mark.parametrize("width", [0.5, 20.0, 1e4])
def test_any_bucket_width_gives_dijkstras_distances(monkeypatch, width):
    """Narrow buckets, and one bucket for everything (every node re-expanded on each
    improvement): the distances stay exactly Dijkstra's."""
    monkeypatch.setattr(_bounded, "BUCKET_M", width)
    net = random_net(4)
    ref = scipy_rows(net, np.arange(net.n_nodes), 500.0)
    np.testing.assert_array_equal(nw.nodes_in_range(net, radius=500.0).to_dense(net.n_nodes),
                                  ref)


def test_heap_fallback_when_buckets_overflow(monkeypatch):
    net = random_net(5)
    indptr, indices, weights = (np.asarray(net.adjacency.indptr, np.int64),
                                np.asarray(net.adjacency.indices, np.int32),
                                np.asarray(net.adjacency.data, np.float64))
    dist, reached, head, pnode, pdist, pnext = _bounded._workspace(net.n_nodes, 30, 2)
    got = _bounded._bucket_search(indptr, indices, weights, np.array([0], np.int32),
                                  np.zeros(1), 600.0, 1 / 20.0, dist, reached, head, pnode,
                                  pdist, pnext)
    assert got < 0 and (head == -1).all()  # two live entries are too many: overflow signalled
    # forced through the public API: every origin overflows and is searched with the heap
    monkeypatch.setattr(_bounded, "POOL_ENTRIES", 1)
    ref = scipy_rows(net, np.arange(net.n_nodes), 600.0)
    np.testing.assert_array_equal(nw.nodes_in_range(net, radius=600.0).to_dense(net.n_nodes),
                                  ref)
    sums = nw.sums_in_range(net, np.ones(net.n_nodes), 600.0)
    np.testing.assert_array_equal(sums[:, 0], np.isfinite(ref).sum(axis=1))


def test_infinite_radius_uses_the_heap_and_reaches_the_component():
    net = random_net(6)
    reach = nw.nodes_in_range(net, [0, 3], radius=np.inf)
    np.testing.assert_array_equal(reach.to_dense(net.n_nodes),
                                  csgraph.dijkstra(net.adjacency, indices=[0, 3]))


def test_reach_rows_follow_the_origins_given_and_batches_cover_each_once():
    net = random_net(7)
    origins = np.array([5, 2, 5, 0, 9])
    reach = nw.nodes_in_range(net, origins, radius=300.0)
    assert reach.origins.tolist() == [0, 1, 2, 3, 4]  # positions in the origins given
    np.testing.assert_array_equal(reach.to_dense(net.n_nodes),
                                  scipy_rows(net, origins, 300.0))
    # tiny batches: many rounds, every origin exactly once, same rows
    parts = list(nw.iter_reach(net, radius=300.0, max_bytes=1))
    assert len(parts) > 1
    joined = nw.Reach.concat(parts, 300.0)
    assert sorted(joined.origins.tolist()) == list(range(net.n_nodes))
    whole = nw.nodes_in_range(net, radius=300.0)
    for row, o in enumerate(joined.origins):
        a, da = joined.row(row)
        b, db = whole.row(int(o))
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(da, db)
    with pytest.raises(ValueError, match="radius"):
        nw.nodes_in_range(net, radius=-1.0)
    with pytest.raises(IndexError):
        nw.nodes_in_range(net, [net.n_nodes], radius=10.0)


def test_iter_node_distances_with_a_limit_is_unchanged():
    net = random_net(8)
    rows = {int(b): d[i] for b, d in nw.iter_node_distances(net, limit=350.0, chunk_size=7)
            for i, b in enumerate(b)}
    dense = np.vstack([rows[i] for i in range(net.n_nodes)])
    np.testing.assert_array_equal(dense, scipy_rows(net, np.arange(net.n_nodes), 350.0))


# ----------------------------------------------------------------------- point origins
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_point_origins_equal_scipy_with_virtual_sources(seed):
    net = random_net(seed)
    snap = random_points(net, seed)
    reach = nw.nodes_in_range(net, snap, radius=400.0)
    np.testing.assert_array_equal(reach.to_dense(net.n_nodes),
                                  virtual_source_rows(net, snap, 400.0))
    # and, up to the order of the additions, the two-end formula of point_node_distances
    old = nw.point_node_distances(net, snap, limit=400.0)
    dense = reach.to_dense(net.n_nodes)
    both = np.isfinite(old) & np.isfinite(dense)
    np.testing.assert_allclose(dense[both], old[both], rtol=1e-12)
    assert (np.isfinite(old) != np.isfinite(dense)).sum() <= 1  # at most a boundary tie


# -------------------------------------------------------------------------------- sums
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sums_in_range_equal_dense_sums(seed):
    net = random_net(seed, integer=seed == 1)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0, 100, size=(net.n_nodes, 2)) * (rng.random((net.n_nodes, 1)) < 0.7)
    snap = random_points(net, seed, n=40)
    cats = np.eye(3)[rng.integers(0, 3, len(snap))]
    radii = [450.0, 150.0, 300.0]
    got = nw.sums_in_range(net, w, radii, points=snap, point_weights=cats)
    assert got.shape == (net.n_nodes, 3, 5)
    dist = scipy_rows(net, np.arange(net.n_nodes), max(radii))
    to_pts = np.minimum(dist[:, snap.u] + snap.cost_u, dist[:, snap.v] + snap.cost_v)
    for j, r in enumerate(radii):
        np.testing.assert_allclose(got[:, j, :2], (dist <= r) @ w, rtol=SUM_RTOL, atol=0)
        np.testing.assert_array_equal(got[:, j, 2:], (to_pts <= r) @ cats)
    one = nw.sums_in_range(net, w[:, 0], 300.0)  # another largest radius: another order
    np.testing.assert_allclose(one[:, 0], got[:, 2, 0], rtol=SUM_RTOL, atol=0)
    # some origins, and points as origins
    sub = nw.sums_in_range(net, w, 300.0, origins=[4, 1])
    np.testing.assert_array_equal(sub, got[[4, 1], 2, :2])
    from_pts = nw.sums_in_range(net, w, 300.0, origins=snap)
    rows = virtual_source_rows(net, snap, 300.0)
    np.testing.assert_allclose(from_pts, (rows <= 300.0) @ w, rtol=SUM_RTOL, atol=0)


def test_sums_are_deterministic_whatever_the_threads():
    import numba

    net = random_net(9, n=300)
    w = np.random.default_rng(0).uniform(0, 1, net.n_nodes)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = nw.sums_in_range(net, w, 500.0)
        numba.set_num_threads(before)
        many = nw.sums_in_range(net, w, 500.0)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)


def test_sums_need_point_weights_with_points():
    net = random_net(0)
    with pytest.raises(ValueError, match="point_weights"):
        nw.sums_in_range(net, None, 100.0, points=random_points(net, 0))
    assert nw.sums_in_range(net, None, 100.0).shape == (net.n_nodes, 0)


# ----------------------------------------------------------------------------- to_points
@pytest.mark.parametrize("seed", [0, 1])
def test_to_points_gather_equals_numpy_bit_for_bit(seed):
    """The compiled gather gives numpy's ``minimum`` of the two sums, inf and NaN included."""
    net = random_net(seed)
    pts = random_points(net, seed)
    rng = np.random.default_rng(seed)
    rows = rng.random((7, net.n_nodes)) * 500.0
    rows[rng.random(rows.shape) < 0.4] = np.inf
    rows[0, pts.u[0]] = np.nan
    t = np.arange(len(pts))
    expected = np.minimum(rows[:, pts.u[t]] + pts.cost_u[t], rows[:, pts.v[t]] + pts.cost_v[t])
    got = nw.to_points(rows, pts)
    assert got.shape == expected.shape
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))
    part = t[::3]
    assert np.array_equal(nw.to_points(rows, pts, target_index=part), expected[:, part],
                          equal_nan=True)


# ----------------------------------------------------------------------------- nearest
def scipy_nearest(net: nw.WalkNetwork, snap: nw.Snap, limit: float) -> np.ndarray:
    """Today's nearest_distances: one min_only dijkstra from virtual sources."""
    keep = np.flatnonzero(snap.valid)
    rows = virtual_source_rows(net, snap.subset(keep), limit)
    return rows.min(axis=0) if len(keep) else np.full(net.n_nodes, np.inf)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("limit", [np.inf, 200.0])
def test_nearest_k1_equals_todays_nearest_distances(seed, limit):
    net = random_net(seed)
    snap = random_points(net, seed)
    dist, which = nw.nearest_distances(net, snap, limit=limit, return_nearest=True)
    np.testing.assert_array_equal(dist, scipy_nearest(net, snap, limit))
    rows = virtual_source_rows(net, snap, limit)
    hit = np.isfinite(dist)
    assert (which[~hit] == -1).all()
    np.testing.assert_array_equal(rows[which[hit], np.flatnonzero(hit)], dist[hit])


@pytest.mark.parametrize("seed", [0, 1])
def test_nearest_k_equals_sorted_point_distances(seed):
    net = random_net(seed)
    snap = random_points(net, seed, n=12)
    snap = snap.subset(np.r_[np.arange(len(snap)), 0])  # a duplicate point counts twice
    k = 4
    dist, which = nw.nearest_k(net, snap, k, limit=700.0)
    rows = virtual_source_rows(net, snap, 700.0)  # (points, nodes)
    ref = np.sort(rows, axis=0)[:k].T
    np.testing.assert_array_equal(dist, ref)
    assert (dist[:, 1:] >= dist[:, :-1]).all()
    for node in range(net.n_nodes):
        ok = which[node] >= 0
        assert len(set(which[node, ok].tolist())) == ok.sum()  # distinct points
        np.testing.assert_array_equal(rows[which[node, ok], node], dist[node, ok])
    with pytest.raises(ValueError, match="k must"):
        nw.nearest_k(net, snap, 0)


# -------------------------------------------------------------------------------- bundle
@pytest.fixture(scope="module")
def bundle_net(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> nw.WalkNetwork:
    from cwsgeo.build.sources import load_walk_network

    return load_walk_network(bundle_dir / "streets" / "bcn_grafvial_walk.graphml",
                             cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.bundle
def test_bundle_reach_and_sums_equal_scipy(bundle_net):
    net = bundle_net
    reach = nw.nodes_in_range(net, radius=800.0)
    rng = np.random.default_rng(13)
    sample = rng.choice(net.n_nodes, 400, replace=False)
    ref = scipy_rows(net, sample, 800.0)
    np.testing.assert_array_equal(
        nw.Reach.concat([_rows(reach, sample)], 800.0).to_dense(net.n_nodes), ref)
    w = rng.uniform(0, 300, net.n_nodes)
    sums = nw.sums_in_range(net, w, [400.0, 800.0])
    for j, r in enumerate((400.0, 800.0)):
        np.testing.assert_allclose(sums[sample, j, 0], (ref <= r) @ w, rtol=SUM_RTOL, atol=0)
    counts = nw.sums_in_range(net, np.ones(net.n_nodes), 800.0)[:, 0]
    np.testing.assert_array_equal(counts, reach.sizes)


@pytest.mark.bundle
def test_bundle_reach_equals_networkx(bundle_net):
    net = bundle_net
    g = net.to_networkx()
    origins = np.random.default_rng(5).choice(net.n_nodes, 12, replace=False)
    reach = nw.nodes_in_range(net, origins, radius=1200.0)
    for row, o in enumerate(origins):
        ref = nx.single_source_dijkstra_path_length(g, net.node_ids[o], cutoff=1200.0,
                                                    weight="length")
        nodes, dist = reach.row(row)
        assert dict(zip(net.node_ids[nodes].tolist(), dist.tolist(), strict=True)) == ref


@pytest.mark.bundle
def test_bundle_nearest_equals_todays(bundle_net):
    net = bundle_net
    rng = np.random.default_rng(2)
    xy = np.column_stack([rng.uniform(net.x.min(), net.x.max(), 60),
                          rng.uniform(net.y.min(), net.y.max(), 60)])
    snap = nw.snap_points(net, xy, snap_max_m=1e9)
    dist = nw.nearest_distances(net, snap, limit=1500.0)
    np.testing.assert_array_equal(dist, scipy_nearest(net, snap, 1500.0))


def _rows(reach: nw.Reach, rows: np.ndarray) -> nw.Reach:
    sizes = reach.sizes[rows]
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    idx = np.repeat(reach.indptr[rows] - ptr[:-1], sizes) + np.arange(ptr[-1])
    return nw.Reach(reach.origins[rows], ptr, reach.nodes[idx], reach.distances[idx],
                    reach.radius)
