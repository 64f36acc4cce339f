"""Per-space walking metrics, residents, coverage, surfaces and areas on hand-checked toys.

The toy network is ``tests/data/network/grid.graphml`` (see its README). Walking speed 6 km/h
(100 m per minute) keeps the arithmetic readable. Distances from space A at (20, -10), which
snaps to street 1-2 (30 m to node 1, 90 m to node 2):
1: 30, 2: 90, 3: 210, 4: 130, 5: 190, 6: 290, 7: 230, 8: 290, 9: 390, 10: 610.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from cwsgeo import CwsgeoError
from cwsgeo.analysis import network as nw
from cwsgeo.analysis import proximity as px
from cwsgeo.build.sources import load_walk_network
from cwsgeo.schema import PLACE_CATEGORIES, TRANSIT_MODES, metric_column

X0, Y0 = 430000.0, 4580000.0
SPEED = 6.0  # km/h: 100 m per minute
D_A = {1: 30, 2: 90, 3: 210, 4: 130, 5: 190, 6: 290, 7: 230, 8: 290, 9: 390, 10: 610}


@pytest.fixture(scope="module")
def grid(data_dir: Path) -> nw.WalkNetwork:
    return nw.read_network(data_dir / "network" / "grid.graphml")


def P(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def spaces() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": ["A", "F", "N"],
         "innovation_type": pd.array([1, 2, 1], dtype="Int64")},
        geometry=[P(20, -10), P(100, 600), None], crs="EPSG:25831",
        index=pd.Index(["a", "far", "none"], name="key"))


@pytest.fixture
def stops() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["M1", "M2", "B1", "B2", "R1"],
         "mode": ["metro", "metro", "bus", "Bus ", "rail"]},
        geometry=[P(200, 200), P(600, 0), P(150, 5), P(80, -3), P(200, 700)],
        crs="EPSG:25831")


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["P1", "P2", "P3", "P4", "P5", "P6"],
         "category": ["cafe", "bar", "restaurant", "restaurant", "terrace", "park"]},
        geometry=[P(100, 50), P(0, 150), P(200, 150), P(400, 0), P(600, 5), P(50, 100)],
        crs="EPSG:25831")


@pytest.fixture
def sections() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"section_code": ["S1", "S2", "S3", "S4"], "population": [1000, 600, 90, 10]},
        geometry=[box(-50, -50, 150, 250), box(150, -50, 700, 250),
                  box(-300, -50, -50, 250), box(-1000, 900, -800, 1100)],
        crs="EPSG:25831")


@pytest.fixture
def addresses() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"census_section": ["S1", "S1", None, "XX", ""]},
        geometry=[P(50, 0), P(100, 150), P(0, 50), P(100, 200), P(100, -60)],
        crs="EPSG:25831")


@pytest.fixture
def residents(sections, addresses, grid) -> px.Residents:
    return px.allocate_residents(sections, addresses, grid)


def node_value(net: nw.WalkNetwork, values: np.ndarray) -> dict[int, float]:
    return dict(zip(net.node_ids.tolist(), np.asarray(values, float).tolist(), strict=True))


# ---------------------------------------------------------------------------------- names
def test_column_name_helper():
    assert metric_column("metro", "walk", unit="m") == "metro_walk_m"
    assert metric_column("metro", "walk", unit="min") == "metro_walk_min"
    assert metric_column("metro", "stops", minutes=5) == "metro_stops_5min"
    assert metric_column("places", "cafe", minutes=15) == "places_cafe_15min"
    assert metric_column("residents", minutes=10) == "residents_10min"
    assert metric_column("transit", "any", "walk", unit="min") == "transit_any_walk_min"
    with pytest.raises(ValueError):
        metric_column("metro", "walk", unit="m", minutes=5)
    with pytest.raises(ValueError):
        metric_column("Metro", "walk", unit="m")
    with pytest.raises(ValueError):
        metric_column("residents", minutes=0)


def test_buzz_decay_anchors():
    d = np.array([0, 400, 1000, 1600, 2000, np.inf, np.nan])
    w = px.buzz_decay(d)
    assert w.tolist()[:5] == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])
    assert w[5] == 0 and w[6] == 0
    assert np.all(np.diff(px.buzz_decay(np.linspace(0, 2000, 200))) <= 0)
    with pytest.raises(ValueError):
        px.buzz_decay(1.0, full_m=500, zero_m=400)


# -------------------------------------------------------------------------------- transit
def test_transit_metrics_by_hand(grid, spaces, stops):
    m = px.transit_metrics(spaces, stops, grid, walk_speed_kmh=SPEED)
    assert m.index.equals(pd.Index(["A", "F", "N"], name="id"))
    a, f = m.loc["A"], m.loc["F"]
    assert a.proximity_method == "network" and f.proximity_method == "straight_line"
    assert pd.isna(m.loc["N", "proximity_method"])
    assert a.snap_m == pytest.approx(10.0)
    # metro: M1 at node 9 (390 m via node 2), M2 at node 10 (610 m)
    assert a.metro_line_m == pytest.approx(math.hypot(180, 210))
    assert a.metro_walk_m == pytest.approx(390.0)
    assert a.metro_walk_min == pytest.approx(3.9)
    assert (a.metro_stops_5min, a.metro_stops_10min) == (1, 2)
    assert a.metro_nearest_stop == "M1"
    # bus: B2 is on A's own street: 60 m along it + 10 m + 3 m off it
    assert a.bus_walk_m == pytest.approx(73.0)
    assert a.bus_line_m == pytest.approx(math.hypot(60, 7))
    assert a.bus_nearest_stop == "B2"
    assert (a.bus_stops_5min, a.bus_stops_10min) == (2, 2)
    # rail: R1 is 500 m from any street: straight line even for a network space
    assert a.rail_walk_m == pytest.approx(math.hypot(180, 710))
    assert (a.rail_stops_5min, a.rail_stops_10min) == (0, 1)
    # modes without stops: no distance, no stops, columns still there
    assert np.isnan(a.tram_walk_m) and a.tram_stops_10min == 0 and pd.isna(a.tram_nearest_stop)
    assert a.transit_any_walk_m == pytest.approx(73.0)
    assert a.transit_any_walk_min == pytest.approx(0.73)
    assert a.transit_any_line_m == pytest.approx(math.hypot(60, 7))
    # the far space: straight lines throughout
    assert f.metro_walk_m == pytest.approx(math.hypot(100, 400))
    assert f.metro_line_m == pytest.approx(f.metro_walk_m)
    assert (f.metro_stops_5min, f.metro_stops_10min) == (1, 2)
    assert (f.bus_stops_5min, f.bus_stops_10min) == (0, 2)
    assert f.rail_walk_m == pytest.approx(math.hypot(100, 100))
    # the space without a location: NA everywhere
    assert m.loc["N"].drop("proximity_method").isna().all()
    expected = []
    for mode in TRANSIT_MODES:
        expected += [f"{mode}_line_m", f"{mode}_walk_m", f"{mode}_walk_min",
                     f"{mode}_stops_5min", f"{mode}_stops_10min", f"{mode}_nearest_stop"]
    assert list(m.columns) == ["snap_m", "proximity_method", *expected, "transit_any_line_m",
                               "transit_any_walk_m", "transit_any_walk_min"]


def test_transit_thresholds_and_speed_are_parameters(grid, spaces, stops):
    m = px.transit_metrics(spaces, stops, grid, walk_speed_kmh=3.0, stop_minutes=(8,),
                           modes=["metro"])
    assert list(m.columns[2:]) == ["metro_line_m", "metro_walk_m", "metro_walk_min",
                                   "metro_stops_8min", "metro_nearest_stop",
                                   "transit_any_line_m", "transit_any_walk_m",
                                   "transit_any_walk_min"]
    assert m.loc["A", "metro_walk_min"] == pytest.approx(390 / 50)
    assert m.loc["A", "metro_stops_8min"] == 1  # 8 min at 50 m/min = 400 m


def test_snap_limit_is_a_parameter(grid, spaces, stops):
    m = px.transit_metrics(spaces, stops, grid, walk_speed_kmh=SPEED, snap_max_m=5)
    assert m.loc["A", "proximity_method"] == "straight_line"
    assert m.loc["A", "metro_walk_m"] == pytest.approx(math.hypot(180, 210))


# --------------------------------------------------------------------------------- places
def test_places_metrics_by_hand(grid, spaces, places):
    m = px.places_metrics(spaces, places, grid, walk_speed_kmh=SPEED, minutes=(2, 5, 10),
                          buzz_full_min=2, buzz_zero_min=6)
    a = m.loc["A"]
    # walking metres from A: P1 140, P2 180, P3 340, P4 410, P5 615, P6 (park) 180
    assert (a.places_cafe_2min, a.places_bar_2min, a.places_park_2min) == (1, 1, 1)
    assert a.places_restaurant_2min == 0 and a.places_total_2min == 3
    assert a.places_restaurant_5min == 2 and a.places_terrace_5min == 0
    assert a.places_total_5min == 5
    assert a.places_terrace_10min == 1 and a.places_total_10min == 6
    decay = px.buzz_decay(np.array([140, 180, 340, 410, 615, 180]), full_m=200, zero_m=600)
    assert a.places_buzz == pytest.approx(decay.sum())
    assert a.places_buzz == pytest.approx(3 + 0.71825 + 0.4625313, rel=1e-6)
    # every known category has its columns, extra categories come after them
    assert "places_nightclub_5min" in m.columns
    cats = [c.removeprefix("places_").removesuffix("_5min") for c in m.columns
            if c.endswith("_5min") and c.startswith("places_")]
    assert cats == [*PLACE_CATEGORIES, "park", "total"]
    # far space, straight line: P2 and P3 within 500 m (hypot(100, 450) = 461 m)
    assert m.loc["F", "places_total_5min"] == 2
    assert pd.isna(m.loc["N", "places_total_5min"])


def test_places_weights_and_explicit_categories(grid, spaces, places):
    m = px.places_metrics(spaces, places, grid, walk_speed_kmh=SPEED, minutes=(5,),
                          categories=["cafe", "restaurant"],
                          category_weights={"restaurant": 0.5},
                          buzz_full_min=2, buzz_zero_min=6)
    a = m.loc["A"]
    assert list(m.columns[2:]) == ["places_cafe_5min", "places_restaurant_5min",
                                   "places_total_5min", "places_buzz"]
    assert a.places_total_5min == 5  # the total counts every place, listed or not
    decay = px.buzz_decay(np.array([140, 340, 410]), full_m=200, zero_m=600)
    assert a.places_buzz == pytest.approx(decay[0] + 0.5 * (decay[1] + decay[2]))
    with pytest.raises(ValueError, match="unknown categories"):
        px.places_metrics(spaces, places, grid, categories=["cafe"],
                          category_weights={"bar": 2.0})


def test_missing_columns_and_crs_are_reported(grid, spaces, places, stops):
    with pytest.raises(CwsgeoError, match="category"):
        px.places_metrics(spaces, places.drop(columns="category"), grid)
    with pytest.raises(CwsgeoError, match="mode"):
        px.transit_metrics(spaces, stops.drop(columns="mode"), grid)
    with pytest.raises(ValueError, match="no CRS"):
        px.places_metrics(spaces.set_crs(None, allow_override=True), places, grid)
    with pytest.raises(TypeError):
        px.places_metrics(pd.DataFrame(spaces), places, grid)


# ------------------------------------------------------------------------------ residents
def test_allocation_conserves_and_places_residents(residents, grid):
    assert residents.total == pytest.approx(1700.0)
    at = node_value(grid, residents.node_residents)
    expected = {1: 200, 2: 300, 3: 150, 4: 190, 5: 100, 6: 150, 7: 0, 8: 300, 9: 150,
                10: 150}
    assert at == pytest.approx(expected)
    assert residents.offnet_residents.tolist() == pytest.approx([10.0])
    assert residents.offnet_xy[0] == pytest.approx([X0 - 900, Y0 + 1000])
    pts = residents.points
    assert pts["residents"].sum() == pytest.approx(1100.0)  # S2 went to its nodes directly
    assert set(pts["source"]) == {"address", "address_pip", "address_nearest",
                                  "section_point"}
    rep = residents.report.set_index("item")
    assert rep.loc["address points, recorded section", "residents"] == pytest.approx(400)
    assert rep.loc["address points, section by point in polygon", "points"] == 2
    assert rep.loc["address points, nearest section polygon", "residents"] == pytest.approx(200)
    rows = residents.report
    sec_nodes = rows[(rows.stage == "section")
                     & (rows["item"].str.contains("their network nodes"))].iloc[0]
    assert sec_nodes.residents == pytest.approx(600) and sec_nodes.sections == 1
    net_rows = rows[rows.stage == "network"]
    assert net_rows.residents.sum() == pytest.approx(1700)
    assert net_rows.iloc[-1].residents == pytest.approx(10)  # off the network
    totals = rows[rows.stage == "total"].residents.tolist()
    assert totals == pytest.approx([1700, 1700])


def test_allocation_from_lat_lon_table_and_bad_input(sections, addresses, grid):
    lonlat = addresses.to_crs("EPSG:4326")
    table = pd.DataFrame({"census_section": addresses["census_section"],
                          "lon": lonlat.geometry.x, "lat": lonlat.geometry.y})
    res = px.allocate_residents(sections, table, grid)
    assert res.total == pytest.approx(1700.0)
    assert node_value(grid, res.node_residents)[8] == pytest.approx(300, abs=1e-3)
    bad = sections.assign(population=[1000, None, 90, 10])
    with pytest.raises(CwsgeoError, match="population"):
        px.allocate_residents(bad, addresses, grid)
    with pytest.raises(CwsgeoError, match="duplicated"):
        px.allocate_residents(sections.assign(section_code=["S1", "S1", "S3", "S4"]),
                              addresses, grid)


def test_residents_metrics_by_hand(grid, spaces, residents):
    ghost = gpd.GeoDataFrame({"id": ["G"]}, geometry=[P(-900, 1050)], crs="EPSG:25831",
                             index=pd.Index(["ghost"], name="key"))
    sp = pd.concat([spaces, ghost])
    m = px.residents_metrics(sp, residents, grid, walk_speed_kmh=SPEED, minutes=(2, 5))
    # A: nodes within 200 m are 1, 2, 4, 5; within 500 m all but node 10
    assert m.loc["A", "residents_2min"] == pytest.approx(200 + 300 + 190 + 100)
    assert m.loc["A", "residents_5min"] == pytest.approx(1700 - 10 - 150)
    # far (straight line): nodes 7 (412 m), 8 (400 m), 9 (412 m), 5 (500 m) within 500 m
    assert m.loc["F", "residents_2min"] == 0
    assert m.loc["F", "residents_5min"] == pytest.approx(0 + 300 + 150 + 100)
    # the ghost is 50 m from the off-network residents of S4
    assert m.loc["G", "residents_2min"] == pytest.approx(10)
    assert m.loc["G", "proximity_method"] == "straight_line"
    assert pd.isna(m.loc["N", "residents_5min"])


def test_residents_from_another_network_are_refused(residents, data_dir):
    other = nw.read_network(data_dir / "network" / "walk.osm")
    with pytest.raises(CwsgeoError, match="allocated on another network"):
        px.accessibility_surface(other, residents=residents)


# ------------------------------------------------------------------------------- coverage
def test_coverage_shares_by_hand(grid, spaces, residents):
    ghost = gpd.GeoDataFrame({"id": ["G"], "innovation_type": pd.array([None], "Int64")},
                             geometry=[P(-900, 1050)], crs="EPSG:25831")
    sp = pd.concat([spaces, ghost], ignore_index=True)
    cov = px.coverage(sp, residents, grid, minutes=(2, 5), walk_speed_kmh=SPEED)
    got = cov.set_index(["group", "minutes"])
    assert got.loc[("all", 2), "residents"] == pytest.approx(790 + 10)
    assert got.loc[("all", 5), "residents"] == pytest.approx(1540 + 10)
    assert got.loc[("all", 5), "share"] == pytest.approx(1550 / 1700)
    assert got.loc[("all", 2), "n_spaces"] == 3  # located spaces only
    assert got.loc[("all", 2), "n_network"] == 1 and got.loc[("all", 2), "n_straight_line"] == 2
    assert got.loc[("type 1", 2), "residents"] == pytest.approx(790)
    assert got.loc[("type 1", 5), "share"] == pytest.approx(1540 / 1700)
    assert got.loc[("type 2", 2), "residents"] == 0
    assert got.loc[("type 2", 5), "residents"] == pytest.approx(550)  # nodes 5, 7, 8, 9
    assert got.loc[("type 3", 5), "residents"] == 0 and got.loc[("type 3", 5), "n_spaces"] == 0
    assert cov["residents_total"].tolist() == pytest.approx([1700.0] * len(cov))
    assert cov["innovation_type"].dtype == "Int64"
    assert cov["innovation_type"].isna().sum() == 2  # the two "all" rows


# -------------------------------------------------------------------------------- surface
def brute_force_surface(net, residents, places, minutes, speed_m_min):
    g = net.to_networkx()
    ids = net.node_ids.tolist()
    snap = nw.snap_points(net, places.geometry)
    cats = list(dict.fromkeys([*PLACE_CATEGORIES, *sorted(set(places["category"]))]))
    out = {}
    for o in range(net.n_nodes):
        d = nx.single_source_dijkstra_path_length(g, ids[o], weight="length")
        dist = np.array([d.get(i, np.inf) for i in ids])
        for m in minutes:
            r = m * speed_m_min
            res = residents.node_residents[dist <= r].sum() + residents.offnet_residents[
                np.hypot(*(residents.offnet_xy - [net.x[o], net.y[o]]).T) <= r].sum()
            out[(o, f"residents_{m}min")] = res
            pd_ = np.where(snap.on_network,
                           np.minimum(dist[snap.u] + snap.cost_u, dist[snap.v] + snap.cost_v),
                           np.hypot(snap.x - net.x[o], snap.y - net.y[o]))
            ok = pd_ <= r
            out[(o, f"places_total_{m}min")] = ok.sum()
            for c in cats:
                out[(o, f"places_{c}_{m}min")] = (ok & (places["category"] == c).to_numpy()).sum()
    return out


def test_surface_matches_brute_force(grid, residents, places):
    places = pd.concat([places, gpd.GeoDataFrame(
        {"name": ["far cafe"], "category": ["cafe"]}, geometry=[P(100, 700)],
        crs="EPSG:25831")], ignore_index=True)
    surf = px.accessibility_surface(grid, residents=residents, places=places,
                                    minutes=(2, 5), walk_speed_kmh=SPEED, chunk_size=3)
    assert isinstance(surf, gpd.GeoDataFrame) and len(surf) == grid.n_nodes
    assert surf.crs == grid.crs and surf["node_id"].tolist() == grid.node_ids.tolist()
    ref = brute_force_surface(grid, residents, places, (2, 5), 100.0)
    for (o, col), value in ref.items():
        assert surf.loc[o, col] == pytest.approx(value), (grid.node_ids[o], col)
    # by hand: from node 8 the off-network cafe (500 m away in a straight line) counts at 5 min
    row = surf[surf.node_id == 8].iloc[0]
    assert row.places_cafe_5min == 2
    # within 200 m of node 8: 8, 5, 7, 9 (100 m) and 2, 4, 6 (200 m)
    assert row.residents_2min == pytest.approx(300 + 100 + 0 + 150 + 300 + 190 + 150)


def test_surface_without_inputs_and_default_minutes(grid):
    surf = px.accessibility_surface(grid)
    assert list(surf.columns) == ["node_id", "geometry"]


# -------------------------------------------------------------------------------- summary
def test_summary_by_type():
    spaces = pd.DataFrame({"innovation_type": pd.array([1, 1, 1, 1, 2, None], dtype="Int64")},
                          index=list("abcdef"))
    metrics = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 10.0, np.nan],
                            "label": list("uvwxyz")}, index=spaces.index)
    s = px.summarize_by_type(metrics, spaces)
    assert list(s.columns) == ["group", "innovation_type", "metric", "n", "median", "q1", "q3",
                               "iqr"]
    assert set(s["metric"]) == {"x"}
    row = s.set_index("group").loc["type 1"]
    assert (row.n, row["median"], row.q1, row.q3, row.iqr) == (4, 2.5, 1.75, 3.25, 1.5)
    assert s.set_index("group").loc["all", "median"] == 3.0
    assert s.set_index("group").loc["type 3", "n"] == 0
    assert np.isnan(s.set_index("group").loc["unclassified", "median"])
    assert s["innovation_type"].isna().tolist() == [True, False, False, False, True]
    assert s["innovation_type"].dropna().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="index"):
        px.summarize_by_type(metrics.iloc[:3], spaces)


def test_space_metrics_combines_everything(grid, spaces, stops, places, residents):
    m = px.space_metrics(spaces, grid, stops=stops, places=places, residents=residents,
                         walk_speed_kmh=SPEED, chunk_size=1, progress=False)
    assert m.index.equals(pd.Index(["A", "F", "N"], name="id"))
    assert {"metro_walk_min", "places_cafe_10min", "residents_15min",
            "transit_any_walk_min", "places_buzz"} <= set(m.columns)
    s = px.summarize_by_type(m, spaces)
    assert {"all", "type 1", "type 2", "type 3"} <= set(s["group"])


def test_per_space_frames_are_indexed_by_the_space_id(grid, spaces, stops, places, residents):
    m = px.space_metrics(spaces, grid, stops=stops, places=places, residents=residents,
                         walk_speed_kmh=SPEED)
    assert m.index.name == "id" and m.index.tolist() == ["A", "F", "N"]  # row order kept
    # the same with the ids as the index, and with the rows shuffled
    by_id = px.space_metrics(spaces.set_index("id"), grid, stops=stops, walk_speed_kmh=SPEED)
    assert by_id.index.name == "id" and by_id.index.tolist() == ["A", "F", "N"]
    shuffled = spaces.iloc[[2, 0, 1]]
    m2 = px.space_metrics(shuffled, grid, stops=stops, places=places, residents=residents,
                          walk_speed_kmh=SPEED)
    assert m2.index.tolist() == ["N", "A", "F"]
    pd.testing.assert_frame_equal(m2.loc[m.index], m)
    # joins back on the id column whatever the spaces' own index
    joined = spaces.join(m, on="id")
    assert joined.index.equals(spaces.index)
    assert joined["residents_5min"].tolist()[:2] == m["residents_5min"].tolist()[:2]
    # summaries align metrics and spaces by id, in any order
    s = px.summarize_by_type(m2, spaces)
    pd.testing.assert_frame_equal(s, px.summarize_by_type(m, spaces))
    with pytest.raises(ValueError, match="ids of spaces"):
        px.summarize_by_type(m.iloc[:2], spaces)


def test_space_ids_are_required_unique_and_not_blank(grid, spaces, stops):
    with pytest.raises(ValueError, match="'id' column"):
        px.space_metrics(spaces.drop(columns="id"), grid, stops=stops)
    with pytest.raises(ValueError, match=r"duplicated 'id' values \['A'\]"):
        px.space_metrics(spaces.assign(id=["A", "A", "N"]), grid, stops=stops)
    with pytest.raises(ValueError, match=r"blank 'id' in rows \['far'\]"):
        px.walk_areas(spaces.assign(id=["A", None, "N"]), grid)
    wa = px.walk_areas(spaces.rename(columns={"id": "code"}), grid, id_col="code")
    assert wa.index.name == "code" and wa.index.tolist() == ["A", "F", "N"]


# ---------------------------------------------------------------------------- walk areas
def test_walk_areas(grid, spaces):
    wa = px.walk_areas(spaces, grid, minutes=2, walk_speed_kmh=SPEED)
    assert wa.index.equals(pd.Index(["A", "F", "N"], name="id")) and wa.crs == grid.crs
    assert wa.index.name == "id" and "id" not in wa.columns
    assert wa["proximity_method"].tolist()[:2] == ["network", "straight_line"]
    hull = wa.loc["A", "geometry"].buffer(1e-6)
    for x, y in [(0, 0), (100, 0), (0, 100), (100, 100), (0, 170), (20, -10)]:
        assert hull.covers(P(x, y)), (x, y)
    for x, y in [(0, 200), (200, 200), (300, 0)]:
        assert not hull.covers(P(x, y)), (x, y)
    assert wa.loc["F", "area_km2"] == pytest.approx(math.pi * 0.2 ** 2, rel=0.01)
    assert wa.loc["N", "geometry"] is None or wa.loc["N", "geometry"].is_empty
    edges = px.walk_areas(spaces, grid, minutes=2, walk_speed_kmh=SPEED, method="edges",
                          buffer_m=10)
    g = edges.loc["A", "geometry"]
    assert g.covers(P(50, 0)) and g.covers(P(0, 165)) and not g.covers(P(50, 50))
    with pytest.raises(ValueError, match="method"):
        px.walk_areas(spaces, grid, method="blob")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- bundle
@pytest.mark.bundle
def test_bundle_residents_near_placa_catalunya_match_independent_count(bundle_dir, tmp_path):
    """Residents within 10 min of Pl. Catalunya vs networkx ego_graph + own allocation."""
    import osmnx as ox
    from scipy.spatial import cKDTree

    net = load_walk_network(bundle_dir / "streets" / "bcn_grafvial_walk.graphml",
                            cache_dir=tmp_path)
    sections = gpd.read_file(bundle_dir / "admin" / "census_sections.geojson")
    addresses = pd.read_csv(bundle_dir / "addresses" / "bcn_addresses.csv", dtype=str)
    res = px.allocate_residents(sections, addresses, net)
    assert res.total == pytest.approx(1_702_814)
    assert res.report.iloc[-1].residents == pytest.approx(1_702_814)

    # independent: equal split per address, blank sections by point in polygon,
    # each address to its nearest node, networkx ego graph of 800 m
    g = ox.load_graphml(bundle_dir / "streets" / "bcn_grafvial_walk.graphml")
    g = g.subgraph(max(nx.weakly_connected_components(g), key=len)).to_undirected()
    ids = np.array(list(g.nodes))
    xy = np.array([[float(g.nodes[n]["x_etrs89"]), float(g.nodes[n]["y_etrs89"])] for n in ids])
    pts = gpd.GeoDataFrame(addresses, geometry=gpd.points_from_xy(
        addresses.lon.astype(float), addresses.lat.astype(float)), crs=4326).to_crs(25831)
    sec = sections.to_crs(25831)
    blank = pts["census_section"].isna()
    joined = gpd.sjoin_nearest(pts.loc[blank, ["geometry"]], sec[["section_code", "geometry"]])
    pts.loc[blank, "census_section"] = joined[~joined.index.duplicated()]["section_code"]
    pop = sec.set_index("section_code")["population"]
    per = pop / pts["census_section"].value_counts()
    pts["res"] = per.reindex(pts["census_section"]).to_numpy()
    _, near = cKDTree(xy).query(np.column_stack([pts.geometry.x, pts.geometry.y]))
    node_pop = pd.Series(pts["res"].to_numpy()).groupby(ids[near]).sum()
    centre = gpd.GeoSeries([shapely.Point(2.1700, 41.3870)], crs=4326).to_crs(25831).iloc[0]
    _, origin = cKDTree(xy).query([centre.x, centre.y])
    ego = nx.ego_graph(g, ids[origin], radius=800, distance="length")
    independent = float(node_pop.reindex(list(ego.nodes)).fillna(0).sum())

    surf = px.accessibility_surface(net, residents=res, minutes=(10,))
    ours_node = float(surf.loc[surf.node_id == ids[origin], "residents_10min"].iloc[0])
    assert ours_node == pytest.approx(independent, rel=0.05)
    assert 20_000 < independent < 120_000  # dense centre: tens of thousands within 800 m

    # from the point itself (67 m inside the square): walk to the nearest street segment,
    # then along it to either end (independent projection on the osmnx graph's straight edges)
    edges = [(u, v, d["length"]) for u, v, d in g.edges(data=True)]
    lines = shapely.linestrings([[xy_of(g, u), xy_of(g, v)] for u, v, _ in edges])
    k = int(np.argmin(shapely.distance(centre, lines)))
    u, v, length = edges[k]
    t = shapely.line_locate_point(lines[k], centre, normalized=True)
    off = shapely.distance(centre, lines[k])
    du = nx.single_source_dijkstra_path_length(g, u, cutoff=800, weight="length")
    dv = nx.single_source_dijkstra_path_length(g, v, cutoff=800, weight="length")
    reach = {n for n in set(du) | set(dv)
             if min(off + t * length + du.get(n, np.inf),
                    off + (1 - t) * length + dv.get(n, np.inf)) <= 800}
    independent_point = float(node_pop.reindex(list(reach)).fillna(0).sum())
    space = gpd.GeoDataFrame({"id": ["pl_catalunya"]}, geometry=[centre], crs=25831)
    m = px.residents_metrics(space, res, net, minutes=(10,))
    assert m.iloc[0].proximity_method == "network"
    assert m.iloc[0].snap_m == pytest.approx(off, abs=0.01)
    assert m.iloc[0].residents_10min == pytest.approx(independent_point, rel=0.05)
    print(f"Pl. Catalunya residents within 10 min: node {ours_node:,.0f} (independent "
          f"{independent:,.0f}); point {m.iloc[0].residents_10min:,.0f} (independent "
          f"{independent_point:,.0f})")


def xy_of(g, n):
    return float(g.nodes[n]["x_etrs89"]), float(g.nodes[n]["y_etrs89"])


def test_space_metrics_do_not_depend_on_batches(grid, stops, places, residents):
    # batches follow the Morton order of the spaces' edges and keep only the targets they
    # may reach: one space per batch, a few, or all at once give the same values
    rng = np.random.default_rng(7)
    xy = rng.uniform([-100, -100], [700, 700], size=(40, 2))
    many = gpd.GeoDataFrame({"id": [f"s{i}" for i in range(len(xy))]},
                            geometry=[P(x, y) for x, y in xy], crs="EPSG:25831")
    kwargs = {"stops": stops, "places": places, "residents": residents,
              "walk_speed_kmh": SPEED, "minutes": (1, 3), "stop_minutes": (1, 2),
              "buzz_full_min": 1, "buzz_zero_min": 3, "snap_max_m": 60}
    whole = px.space_metrics(many, grid, chunk_size=1000, **kwargs)
    assert (whole["proximity_method"] == "straight_line").any()
    for size in (1, 7):
        pd.testing.assert_frame_equal(px.space_metrics(many, grid, chunk_size=size, **kwargs),
                                      whole, check_exact=False, rtol=1e-12)


def test_place_tallies_equal_the_weighted_sums():
    # the compiled tally gives the same integers as the one-hot weighted sums, and the buzz
    # the same bits as the decay of every pair times the category weights
    from cwsgeo.analysis.proximity import metrics as pm
    from cwsgeo.analysis.proximity.targets import SnappedTargets

    rng = np.random.default_rng(3)
    d = rng.uniform(0, 2500, size=(37, 211))
    d[rng.random(d.shape) < 0.3] = np.inf
    d[0, :5] = [100.0, 400.0, 800.0, 1200.0, 1600.0]  # exactly on thresholds and anchors
    cats = ["a", "b", "c"]
    weights = np.zeros((211, 3))
    has = rng.random(211) < 0.9  # the others belong to no reported category
    weights[np.flatnonzero(has), rng.integers(0, 3, has.sum())] = 1.0
    tg = SnappedTargets(snap=None, weights=weights, columns=cats)  # type: ignore[arg-type]
    th = pm._Thresholds(80.0, (5, 10, 15), (5,), 400.0, 1600.0)
    cat_w = np.array([1.0, 0.5, 2.0])
    counts = pm._empty_counts(len(d), [], tg, False, th)
    pm._count_places(counts, np.arange(len(d)), d, tg, cat_w, th)
    for m in th.minutes:
        within = (d <= m * th.speed).astype(float) @ weights
        for k, c in enumerate(cats):
            assert np.array_equal(counts[metric_column("places", c, minutes=m)], within[:, k])
        assert np.array_equal(counts[metric_column("places", "total", minutes=m)],
                              (d <= m * th.speed).sum(axis=1))
    buzz = px.buzz_decay(d, full_m=400.0, zero_m=1600.0) @ (weights @ cat_w)
    assert np.array_equal(counts[metric_column("places", "buzz")], buzz)


def test_nearest_straight_line_target_is_argmin_with_ties():
    from cwsgeo.analysis.proximity._common import euclid
    from cwsgeo.analysis.proximity.metrics import _nearest_straight

    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        bx, by = rng.integers(0, 15, (2, n)).astype(float)
        dup = rng.integers(0, n, int(rng.integers(0, 20)))  # stations listed once per line
        bx, by = np.r_[bx, bx[dup]], np.r_[by, by[dup]]
        ax, ay = rng.integers(0, 15, (2, 200)).astype(float)
        assert np.array_equal(_nearest_straight(ax, ay, bx, by),
                              np.argmin(euclid(ax, ay, bx, by), axis=1))


def test_hulls_on_threads_equal_one_call() -> None:
    import shapely

    from cwsgeo.analysis.proximity.areas import _concave_hulls

    rng = np.random.default_rng(5)
    geoms = shapely.multipoints(rng.uniform(0, 800, (300, 40, 2)))
    one = shapely.concave_hull(geoms, ratio=0.3)
    assert shapely.equals_exact(_concave_hulls(geoms, 0.3), one, tolerance=0).all()
    assert shapely.equals_exact(_concave_hulls(geoms[:5], 0.3), one[:5], tolerance=0).all()
