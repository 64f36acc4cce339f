"""Walking network: loading, caching, snapping and csgraph searches, checked by hand."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from cwsgeo import ConfigError, CwsgeoError, MissingDataError, settings
from cwsgeo._io import sha256_file
from cwsgeo.analysis import network as nw
from cwsgeo.build.sources import compact_network_path, load_walk_network, save_network

X0, Y0 = 430000.0, 4580000.0


@pytest.fixture(scope="module")
def grid(data_dir: Path) -> nw.WalkNetwork:
    return nw.read_network(data_dir / "network" / "grid.graphml")


def pos(net: nw.WalkNetwork, *ids: int) -> np.ndarray:
    return net.node_index(list(ids))


def pts(*xy: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs="EPSG:25831")


# --------------------------------------------------------------------------------- loading
def test_graphml_loads_largest_component_and_shortest_parallel_edge(grid):
    assert grid.n_nodes == 10
    assert sorted(grid.node_ids.tolist()) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert grid.n_edges == 13  # 12 grid streets + 3-10; no self-loop, one 1-2
    assert grid.crs == settings.crs_work
    a = grid.adjacency
    p1, p2, p3, p5 = pos(grid, 1, 2, 3, 5)
    assert a[p1, p2] == 100.0 and a[p2, p1] == 100.0  # the 150 m parallel edge lost
    assert a[p2, p3] == 120.0  # official length, not the 100 m chord
    assert a[p5, p5] == 0.0  # self-loop dropped
    assert (a != a.T).nnz == 0
    assert grid.x[p1] == X0 and grid.y[p3] == Y0


def test_largest_component_can_be_kept_off(data_dir):
    net = nw.read_network(data_dir / "network" / "grid.graphml", largest_component=False)
    assert net.n_nodes == 12 and net.n_edges == 14


def test_cache_is_keyed_by_file_bytes(data_dir, tmp_path, monkeypatch):
    import osmnx as ox

    src = tmp_path / "grid.graphml"
    src.write_bytes((data_dir / "network" / "grid.graphml").read_bytes())
    first = load_walk_network(src, cache_dir=tmp_path / "cache")
    cached = list((tmp_path / "cache" / "network").glob("*.walknet-*.npz"))
    assert len(cached) == 1

    def boom(*args, **kwargs):
        raise AssertionError("GraphML parsed again instead of using the cache")

    monkeypatch.setattr(ox, "load_graphml", boom)
    again = load_walk_network(src, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(again.node_ids, first.node_ids)
    np.testing.assert_array_equal(again.x, first.x)
    assert (again.adjacency != first.adjacency).nnz == 0
    assert again.source == first.source
    monkeypatch.undo()
    # new bytes: a new cache entry
    src.write_text(src.read_text().replace(">120.0<", ">130.0<"))
    changed = load_walk_network(src, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache" / "network").glob("*.walknet-*.npz"))) == 2
    p2, p3 = pos(changed, 2, 3)
    assert changed.adjacency[p2, p3] == 130.0


def test_compact_network_next_to_the_graph_is_used(data_dir, tmp_path, monkeypatch):
    import osmnx as ox

    src = tmp_path / "grid.graphml"
    src.write_bytes((data_dir / "network" / "grid.graphml").read_bytes())
    sha = sha256_file(src)
    parsed = nw.read_network(src)
    save_network(parsed, compact_network_path(src, sha))
    monkeypatch.setattr(ox, "load_graphml", lambda *a, **k: pytest.fail("parsed again"))
    net = load_walk_network(src, cache_dir=tmp_path / "cache", sha256=sha)
    assert (net.adjacency != parsed.adjacency).nnz == 0 and net.source == parsed.source
    assert not (tmp_path / "cache").exists()  # nothing written to the cache
    # a damaged compact file is ignored
    compact_network_path(src, sha).write_bytes(b"not a zip")
    monkeypatch.undo()
    again = load_walk_network(src, cache_dir=tmp_path / "cache", sha256=sha)
    assert (again.adjacency != parsed.adjacency).nnz == 0


def test_fetch_stores_the_compact_network_next_to_the_graph(data_dir, tmp_path, monkeypatch):
    import osmnx as ox

    from cwsgeo.build.config import Config
    from cwsgeo.build.sources import DATASETS, fetch

    mirror = tmp_path / "mirror"
    for ds in DATASETS:
        for rel in ds.mirror_files:
            (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
            (mirror / rel).write_text(f"{ds.key}:{rel}\n")
    graph_rel = "streets/bcn_grafvial_walk.graphml"
    (mirror / graph_rel).write_bytes((data_dir / "network" / "grid.graphml").read_bytes())
    cfg = Config.from_dict({"data": {"mirror": str(mirror)}}, root=tmp_path / "proj")
    manifest = fetch(cfg)
    graph = cfg.raw_dir / graph_rel
    compact = compact_network_path(graph, sha256_file(graph))
    assert compact.is_file()
    assert all(e["path"] != compact.relative_to(cfg.raw_dir).as_posix()
               for e in manifest["files"])  # derived, not an input
    # a new fetch of the same bytes keeps it without parsing; the build reads it
    monkeypatch.setattr(ox, "load_graphml", lambda *a, **k: pytest.fail("parsed again"))
    fetch(cfg)
    assert compact.is_file()
    net = load_walk_network(graph, cache_dir=cfg.cache_dir)
    assert net.n_nodes == 10 and not (cfg.cache_dir / "network").exists()


def test_arrays_round_trip(grid):
    back = nw.WalkNetwork.from_arrays(grid.to_arrays())
    np.testing.assert_array_equal(back.node_ids, grid.node_ids)
    assert (back.adjacency != grid.adjacency).nnz == 0
    assert back.source == grid.source and back.crs == grid.crs
    arrays = grid.to_arrays()
    arrays["meta"] = np.array(json.dumps({"version": 0, "crs": grid.crs}))
    with pytest.raises(CwsgeoError, match="version 0"):
        nw.WalkNetwork.from_arrays(arrays)


def test_save_and_load_npz(grid, tmp_path):
    path = save_network(grid, tmp_path / "net.npz")
    back = nw.read_network(path)
    np.testing.assert_array_equal(back.node_ids, grid.node_ids)
    np.testing.assert_allclose(back.y, grid.y)
    assert (back.adjacency != grid.adjacency).nnz == 0
    assert back.source == grid.source and back.crs == grid.crs


def test_load_errors(tmp_path):
    with pytest.raises(MissingDataError, match="not found"):
        nw.read_network(tmp_path / "nope.graphml")
    (tmp_path / "net.pbf").write_bytes(b"x")
    with pytest.raises(ConfigError, match="unsupported"):
        nw.read_network(tmp_path / "net.pbf")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(CwsgeoError, match="not a cwsgeo walking network"):
        nw.read_network(tmp_path / "bad.npz")
    (tmp_path / "bad.graphml").write_text("<graphml><broken")
    with pytest.raises(CwsgeoError, match="cannot read GraphML"):
        nw.read_network(tmp_path / "bad.graphml")


def test_osm_xml_keeps_only_walkable_ways(data_dir):
    net = nw.read_network(data_dir / "network" / "walk.osm")
    assert sorted(net.node_ids.tolist()) == [1, 2, 3, 9]
    pairs = [tuple(sorted((int(net.node_ids[u]), int(net.node_ids[v]))))
             for u, v in zip(net.edge_u, net.edge_v, strict=True)]
    assert set(pairs) == {(1, 2), (2, 3), (2, 9)}
    lengths = dict(zip(pairs, net.edge_length, strict=True))
    # 0.001 degree of longitude at 41.39 N is ~83.4 m; 2-4-9 is 0.002 degree of latitude
    assert lengths[(1, 2)] == pytest.approx(83.4, abs=0.5)
    assert lengths[(2, 9)] == pytest.approx(222.4, abs=0.5)
    # the oneway tag does not stop walkers
    p1, p3 = pos(net, 1, 3)
    d = nw.node_distances(net, [p3])[0]
    assert d[p1] == pytest.approx(2 * 83.42, abs=0.1)


@pytest.mark.parametrize(("tags", "ok"), [
    ({"highway": "residential"}, True),
    ({"highway": "footway"}, True),
    ({"highway": "steps"}, True),
    ({"highway": "cycleway"}, False),
    ({"highway": "motorway_link"}, False),
    ({"highway": "service", "service": "private"}, False),
    ({"highway": "path", "foot": "no"}, False),
    ({"highway": "primary", "sidewalk": "separate"}, False),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "residential", "access": "private"}, False),
    ({"building": "yes"}, False),
    ({"highway": ["residential", "cycleway"]}, False),
])
def test_is_walkable_mirrors_osmnx_walk_filter(tags, ok):
    assert nw.is_walkable(tags) is ok


def test_download_network_through_canned_overpass(canned_server, data_dir, monkeypatch,
                                                  tmp_path):
    import osmnx as ox

    monkeypatch.setattr(settings, "overpass_url", canned_server.url + "/api")
    monkeypatch.setattr(ox.settings, "doh_url_template", None)
    canned_server.add("GET", "/api/status", body="Connected as: 1\nCurrent time: x\n"
                      "Rate limit: 2\n\n2 slots available now.\n", content_type="text/plain")
    answer = json.loads((data_dir / "network" / "overpass_walk.json").read_text())
    canned_server.add("POST", "/api/interpreter", json_body=answer)
    poly = shapely.box(2.1590, 41.3890, 2.1640, 41.3930)
    net = nw.download_network(poly, cache_dir=tmp_path)
    assert sorted(net.node_ids.tolist()) == [1, 2, 3, 9]
    assert net.n_edges == 3
    query = next(r for r in canned_server.requests if r.path == "/api/interpreter")
    body = query.body.decode()
    assert "highway" in body and "foot" in body  # osmnx's walk filter was sent
    assert "OSM live walk network" in net.source


def test_network_from_graph_projects_lonlat():
    from pyproj import Transformer

    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node("a", x=2.17, y=41.387)
    g.add_node("b", x=2.171, y=41.387)
    g.add_edge("a", "b", length=84.0)
    net = nw.network_from_graph(g)
    ex, ey = Transformer.from_crs("EPSG:4326", "EPSG:25831", always_xy=True).transform(2.17,
                                                                                       41.387)
    assert net.node_ids.tolist() == ["a", "b"]
    assert net.x[0] == pytest.approx(ex) and net.y[0] == pytest.approx(ey)
    assert net.adjacency[0, 1] == 84.0


def test_missing_length_falls_back_to_straight_line(caplog):
    g = nx.Graph(crs="EPSG:25831")
    g.add_node(1, x=0.0, y=0.0)
    g.add_node(2, x=30.0, y=40.0)
    g.add_edge(1, 2)
    net = nw.network_from_graph(g)
    assert net.adjacency[0, 1] == pytest.approx(50.0)
    assert "no length" in caplog.text


def test_edges_and_nodes_as_geodataframes(grid):
    edges = grid.edges_gdf()
    assert len(edges) == 13 and edges.crs == grid.crs
    row = edges[(edges.u == 2) & (edges.v == 3)].iloc[0]
    assert row.length_m == 120.0 and row.geometry.length == pytest.approx(100.0)
    nodes = grid.nodes_gdf()
    assert len(nodes) == 10 and nodes.geometry.iloc[0].x == grid.x[0]
    g = grid.to_networkx()
    assert g.number_of_edges() == 13 and g[2][3]["length"] == 120.0


# ---------------------------------------------------------------------------- street names
def edge_names(net: nw.WalkNetwork) -> dict[tuple[int, int], str | None]:
    assert net.edge_name is not None
    return {(int(net.node_ids[u]), int(net.node_ids[v])): name
            for u, v, name in zip(net.edge_u, net.edge_v, net.edge_name, strict=True)}


def test_street_names_survive_graphml_compact_and_reload(data_dir, tmp_path, monkeypatch):
    import osmnx as ox

    src = tmp_path / "grid.graphml"
    src.write_bytes((data_dir / "network" / "grid.graphml").read_bytes())
    parsed = nw.read_network(src)
    names = edge_names(parsed)
    assert len(names) == 13 and names[(1, 2)] == "street 1-2"  # the shortest parallel edge
    assert names[(2, 3)] == "curved street 2-3" and names[(3, 10)] == "long street 3-10"
    assert "self-loop" not in names.values() and "detached 20-21" not in names.values()
    assert edge_names(nw.read_network(src, largest_component=False))[(20, 21)] == (
        "detached 20-21")
    first = load_walk_network(src, cache_dir=tmp_path / "cache")  # parses, writes compact
    monkeypatch.setattr(ox, "load_graphml", lambda *a, **k: pytest.fail("parsed again"))
    again = load_walk_network(src, cache_dir=tmp_path / "cache")  # reads the compact file
    assert edge_names(first) == edge_names(again) == names
    assert again.edge_name is not None and again.edge_name.dtype == object
    npz = next((tmp_path / "cache" / "network").glob("*.npz"))
    assert f"-v{nw.COMPACT_VERSION}-" in npz.name and nw.COMPACT_VERSION >= 2
    with np.load(npz) as arrays:
        assert arrays["name_code"].dtype == np.int16 and len(arrays["name_code"]) == 13
    edges = again.edges_gdf()
    assert list(edges.columns) == ["u", "v", "length_m", "name", "geometry"]
    assert edges.loc[(edges.u == 2) & (edges.v == 3), "name"].item() == "curved street 2-3"
    assert again.to_networkx()[3][10]["name"] == "long street 3-10"


def test_osm_graph_names_lists_are_joined_and_blanks_dropped():
    import osmnx as ox

    g = nx.MultiDiGraph(crs="epsg:4326")
    for node, x in [(1, 2.170), (2, 2.171), (3, 2.172)]:
        g.add_node(node, x=x, y=41.387)
    for a, b, name, way in [(1, 2, "Carrer A", 11), (2, 3, "Carrer B", 12)]:
        for s, t in ((a, b), (b, a)):
            g.add_edge(s, t, osmid=way, name=name, length=84.0)
    simple = ox.simplify_graph(g)  # 1-2-3 merged: osmnx lists both names
    assert all(isinstance(name, list) for *_, name in simple.edges(data="name"))
    net = nw.network_from_graph(simple)
    assert edge_names(net) == {(1, 3): "Carrer A / Carrer B"}
    assert edge_names(nw.WalkNetwork.from_arrays(net.to_arrays())) == edge_names(net)
    plain = nx.Graph(crs="EPSG:25831")
    plain.add_nodes_from((i, {"x": 10.0 * i, "y": 0.0}) for i in range(1, 6))
    for a, name in [(1, ["Rambla", None, "Rambla"]), (2, " "), (3, float("nan")), (4, None)]:
        plain.add_edge(a, a + 1, length=10.0, name=name)
    assert edge_names(nw.network_from_graph(plain)) == {
        (1, 2): "Rambla", (2, 3): None, (3, 4): None, (4, 5): None}


def test_osm_xml_street_names(data_dir):
    net = nw.read_network(data_dir / "network" / "walk.osm")
    assert edge_names(net) == {(1, 2): "Carrer A", (2, 3): "Carrer A", (2, 9): None}


def test_networks_without_names_have_no_name_column(grid):
    g = nx.Graph(crs="EPSG:25831")
    g.add_node(1, x=0.0, y=0.0)
    g.add_node(2, x=30.0, y=40.0)
    g.add_edge(1, 2, length=50.0)
    net = nw.network_from_graph(g)
    assert net.edge_name is None and "name" not in net.edges_gdf().columns
    arrays = net.to_arrays()
    assert "name_code" not in arrays
    assert nw.WalkNetwork.from_arrays(arrays).edge_name is None


def test_bad_street_names_are_refused(grid):
    arrays = grid.to_arrays()
    arrays["name_code"] = np.full(grid.n_edges, 99, dtype=np.int32)
    with pytest.raises(CwsgeoError, match="name_code"):
        nw.WalkNetwork.from_arrays(arrays)
    arrays = grid.to_arrays()
    arrays["name_text"] = np.frombuffer(b"\xff\xfe", dtype=np.uint8)
    with pytest.raises(CwsgeoError, match="not a cwsgeo walking network"):
        nw.WalkNetwork.from_arrays(arrays)
    with pytest.raises(ValueError, match="3 edge names for 13 edges"):
        nw.WalkNetwork(grid.node_ids, grid.x, grid.y, grid.adjacency,
                       edge_name=np.array(["a", "b", "c"], dtype=object))
    with pytest.raises(ValueError, match="NUL"):
        nw.WalkNetwork(grid.node_ids, grid.x, grid.y, grid.adjacency,
                       edge_name=np.array(["a\0b"] * 13, dtype=object)).to_arrays()


# -------------------------------------------------------------------------------- searches
FROM_1 = {1: 0, 2: 100, 3: 220, 4: 100, 5: 200, 6: 300, 7: 200, 8: 300, 9: 400, 10: 620}


def test_node_distances_by_hand(grid):
    d = nw.node_distances(grid, pos(grid, 1))[0]
    for nid, expected in FROM_1.items():
        assert d[pos(grid, nid)[0]] == pytest.approx(expected)
    limited = nw.node_distances(grid, pos(grid, 1), limit=250)[0]
    for nid, expected in FROM_1.items():
        value = limited[pos(grid, nid)[0]]
        assert value == (pytest.approx(expected) if expected <= 250 else math.inf)


def test_batches_cover_every_node_once_whatever_the_chunk(grid):
    seen = []
    blocks = {}
    for chunk in (1, 3, 100):
        rows = {}
        for batch, dist in nw.iter_node_distances(grid, chunk_size=chunk):
            assert dist.shape == (len(batch), grid.n_nodes)
            rows.update({int(b): dist[i] for i, b in enumerate(batch)})
        seen.append(sorted(rows))
        blocks[chunk] = np.vstack([rows[i] for i in range(grid.n_nodes)])
    assert seen[0] == seen[1] == seen[2] == list(range(grid.n_nodes))
    np.testing.assert_array_equal(blocks[1], blocks[100])
    assert sorted(grid.spatial_order.tolist()) == list(range(grid.n_nodes))


# ------------------------------------------------------------------------------- snapping
def test_snap_to_edge_with_offsets(grid):
    s = nw.snap_points(grid, pts((20, -10), (150, -5), (100, 100)))
    p1, p2, p3 = pos(grid, 1, 2, 3)
    # (20,-10): edge 1-2, 20 m along, 10 m off
    assert {s.u[0], s.v[0]} == {p1, p2}
    cost = {s.u[0]: s.cost_u[0], s.v[0]: s.cost_v[0]}
    assert cost[p1] == pytest.approx(30.0) and cost[p2] == pytest.approx(90.0)
    assert s.distance[0] == pytest.approx(10.0)
    # (150,-5): half-way along the 100 m chord of the 120 m street 2-3: 60 m each way
    cost = {s.u[1]: s.cost_u[1], s.v[1]: s.cost_v[1]}
    assert cost[p2] == pytest.approx(65.0) and cost[p3] == pytest.approx(65.0)
    # a point on a node costs nothing to that node
    assert s.distance[2] == pytest.approx(0.0)
    assert min(s.cost_u[2], s.cost_v[2]) == pytest.approx(0.0)
    assert list(s.method) == ["network"] * 3


def test_snap_to_node_for_comparison(grid):
    s = nw.snap_points(grid, pts((20, -10)), how="node")
    assert s.u[0] == s.v[0] == pos(grid, 1)[0]
    assert s.cost_u[0] == pytest.approx(math.hypot(20, 10))
    with pytest.raises(ValueError, match="how"):
        nw.snap_points(grid, pts((0, 0)), how="area")  # type: ignore[arg-type]


def test_snap_limit_flags_straight_line(grid):
    # the top row (y=200) is the nearest street: 300 m is still on, 301 m is not
    s = nw.snap_points(grid, pts((100, 500), (100, 501)))
    assert s.distance.tolist() == pytest.approx([300.0, 301.0])
    assert s.on_network.tolist() == [True, False]
    assert list(s.method) == ["network", "straight_line"]
    s = nw.snap_points(grid, pts((100, 500)), snap_max_m=100)
    assert list(s.method) == ["straight_line"]


def test_snap_missing_geometry_and_other_crs(grid):
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:25831", "EPSG:4326", always_xy=True).transform(
        X0 + 20, Y0 - 10)
    series = gpd.GeoSeries([shapely.Point(lon, lat), None, shapely.Point()], crs="EPSG:4326")
    s = nw.snap_points(grid, series)
    assert s.valid.tolist() == [True, False, False]
    assert s.distance[0] == pytest.approx(10.0, abs=0.01)
    assert list(s.method) == ["network", None, None]
    frame = s.to_frame(grid)
    assert frame["method"].iloc[0] == "network"
    assert frame["method"].isna().tolist() == [False, True, True]
    assert np.isnan(frame["snap_m"].iloc[1])
    with pytest.raises(ValueError, match="no CRS"):
        nw.snap_points(grid, gpd.GeoSeries([shapely.Point(0, 0)]))


def test_nearest_edges_is_exact_against_strtree():
    rng = np.random.default_rng(3)
    g = nx.Graph(crs="EPSG:25831")
    xy = rng.uniform(0, 2000, size=(120, 2))
    for i, (x, y) in enumerate(xy):
        g.add_node(i, x=float(x), y=float(y))
    tree = nx.minimum_spanning_tree(nx.complete_graph(120))  # connected, long edges
    for u, v in tree.edges:
        g.add_edge(u, v, length=float(np.hypot(*(xy[u] - xy[v]))))
    net = nw.network_from_graph(g)
    qx, qy = rng.uniform(-500, 2500, 3000), rng.uniform(-500, 2500, 3000)
    found = net.nearest_edges(qx, qy)
    lines = net._edge_lines()
    points = shapely.points(qx, qy)
    best = shapely.distance(points[:, None], lines[None, :]).min(axis=1)
    np.testing.assert_allclose(shapely.distance(points, lines[found]), best, atol=1e-9)


# ----------------------------------------------------------------------- point searches
def test_point_node_distances(grid):
    s = nw.snap_points(grid, pts((20, -10)))
    d = nw.point_node_distances(grid, s)[0]
    # to 5: via 2 (90 + 100) or via 1 (30 + 200)
    assert d[pos(grid, 5)[0]] == pytest.approx(190.0)
    assert d[pos(grid, 10)[0]] == pytest.approx(90 + 120 + 400)
    limited = nw.point_node_distances(grid, s, limit=150)[0]
    assert limited[pos(grid, 5)[0]] == math.inf
    assert limited[pos(grid, 4)[0]] == pytest.approx(130.0)


def test_same_edge_shortcut(grid):
    a = nw.snap_points(grid, pts((300, 0)))  # on 3-10, chord 400 = length 400, 100 m along
    b = nw.snap_points(grid, pts((500, 0)))  # 300 m along
    rows = nw.point_node_distances(grid, a)
    assert nw.to_points(rows, b)[0, 0] == pytest.approx(400.0)  # through a node
    assert nw.to_points(rows, b, origins=a)[0, 0] == pytest.approx(200.0)  # along the street


def test_nearest_distances_multi_source(grid):
    fac = nw.snap_points(grid, pts((50, 0), (200, 200)))
    dist, nearest = nw.nearest_distances(grid, fac, return_nearest=True)
    by_id = dict(zip(grid.node_ids.tolist(), dist, strict=True))
    near_id = dict(zip(grid.node_ids.tolist(), nearest, strict=True))
    assert by_id[5] == pytest.approx(150.0) and near_id[5] == 0
    assert by_id[9] == pytest.approx(0.0, abs=1e-9) and near_id[9] == 1
    assert by_id[10] == pytest.approx(50 + 120 + 400) and near_id[10] == 0
    assert by_id[6] == pytest.approx(100.0) and near_id[6] == 1
    # one search equals the minimum of the per-point searches
    rows = nw.point_node_distances(grid, fac)
    np.testing.assert_allclose(dist, rows.min(axis=0))
    limited = nw.nearest_distances(grid, fac, limit=120)
    assert np.isinf(limited[pos(grid, 10)[0]])
    empty = nw.nearest_distances(grid, fac.subset(np.zeros(2, bool)))
    assert np.isinf(empty).all()


def random_graph(seed: int, n: int = 60) -> nx.Graph:
    rng = np.random.default_rng(seed)
    g = nx.Graph(crs="EPSG:25831")
    xy = rng.uniform(0, 1000, size=(n, 2))
    for i, (x, y) in enumerate(xy):
        g.add_node(i, x=float(x), y=float(y))
    for u, v in nx.random_geometric_graph(n, 0.3, seed=seed).edges:
        chord = float(np.hypot(*(xy[u] - xy[v])))
        g.add_edge(u, v, length=chord * rng.uniform(1.0, 1.5))
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_csgraph_matches_networkx_on_random_graphs(seed):
    g = random_graph(seed)
    net = nw.network_from_graph(g, largest_component=False)
    d = nw.node_distances(net, np.arange(net.n_nodes), limit=700)
    for src in range(0, net.n_nodes, 7):
        ref = nx.single_source_dijkstra_path_length(g, int(net.node_ids[src]), cutoff=700,
                                                    weight="length")
        got = {int(net.node_ids[j]): d[src, j] for j in np.flatnonzero(np.isfinite(d[src]))}
        assert got.keys() == ref.keys()
        for k, v in ref.items():
            assert got[k] == pytest.approx(v)


@pytest.mark.parametrize("seed", [0, 1])
def test_point_distances_match_networkx_with_split_edges(seed):
    """Two-end formula + same-edge shortcut == networkx on a graph with the points inserted."""
    g = random_graph(seed)
    net = nw.network_from_graph(g)
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(0, 1000, 12), rng.uniform(0, 1000, 12)
    # two extra points on the same edge as the first one
    e0 = net.nearest_edges(xs[:1], ys[:1])[0]
    a, b = net.edge_u[e0], net.edge_v[e0]
    for f in (0.2, 0.7):
        xs = np.append(xs, net.x[a] + f * (net.x[b] - net.x[a]) + 1.0)
        ys = np.append(ys, net.y[a] + f * (net.y[b] - net.y[a]))
    s = nw.snap_points(net, np.column_stack([xs, ys]), snap_max_m=1e9)
    ours = nw.to_points(nw.point_node_distances(net, s), s, origins=s)
    # independent graph: split every snapped edge at its points
    h = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        h.add_edge(int(u), int(v), length=float(length))
    for e in np.unique(s.edge):
        on = np.flatnonzero(s.edge == e)
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        h.remove_edge(u, v)
        inner = sorted((float(s.along[i]), ("p", int(i))) for i in on)
        chain = [(0.0, u), *inner, (float(net.edge_length[e]), v)]
        for (d1, n1), (d2, n2) in itertools.pairwise(chain):
            h.add_edge(n1, n2, length=d2 - d1)
    for i in range(len(s)):
        ref = nx.single_source_dijkstra_path_length(h, ("p", i), weight="length")
        for j in range(len(s)):
            if i != j:
                expected = ref[("p", j)] + s.distance[i] + s.distance[j]
                assert ours[i, j] == pytest.approx(expected), (i, j)


# --------------------------------------------------------------------------------- bundle
@pytest.mark.bundle
def test_bundle_graph_and_provenance_sanity_value(bundle_dir, tmp_path):
    net = load_walk_network(bundle_dir / "streets" / "bcn_grafvial_walk.graphml",
                            cache_dir=tmp_path)
    assert net.n_nodes == 9187  # largest of 40 components (PROVENANCE.md)
    assert net.edge_length.sum() / 1000 == pytest.approx(1298.6, abs=0.5)
    ends = gpd.GeoSeries(gpd.points_from_xy([2.1700, 2.1744], [41.3870, 41.4036]),
                         crs="EPSG:4326")
    s = nw.snap_points(net, ends)
    assert s.on_network.all()
    xy = np.column_stack([s.x, s.y])
    _, nodes = net.kdtree.query(xy)
    d = nw.node_distances(net, nodes[:1])[0, nodes[1]]
    assert d == pytest.approx(2498, abs=5)  # provenance: 2,498 m between nearest nodes
    # point to point (edge snap, both snap distances included) is a little longer
    walk = nw.to_points(nw.point_node_distances(net, s.subset([0])), s.subset([1]))[0, 0]
    assert 2498 < walk < 2498 * 1.2
    # independent check with osmnx + networkx on the source file
    import osmnx as ox

    g = ox.load_graphml(bundle_dir / "streets" / "bcn_grafvial_walk.graphml")
    a, b = (int(net.node_ids[n]) for n in nodes)
    assert nx.shortest_path_length(g, a, b, weight="length") == pytest.approx(d)
