"""Middleground indicators on a toy street, checked against hand-computed values.

The street runs along y = 0 from x = 0 to 2,000 m, a node every 100 m. Walking speed 6 km/h
(100 m a minute): 5 minutes = 500 m, 10 minutes = 1,000 m. Spaces (x): A 50, B 250, C 850,
E 1950 (precise) and D 450 (area only, left out of every spatial indicator).
"""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from cwsgeo.analysis.network import network_from_graph
from cwsgeo.analysis.stats.middleground import (
    middleground_indicators,
    middleground_summary,
    space_network_distances,
    text_signals,
)

X0, Y0 = 430000.0, 4580000.0
SPEED = 6.0
CATS = ("culture_venue", "civic_centre", "library", "community_centre")


@pytest.fixture(scope="module")
def street():
    g = nx.Graph(crs="EPSG:25831")
    for i in range(21):
        g.add_node(i, x=X0 + 100.0 * i, y=Y0)
    for i in range(20):
        g.add_edge(i, i + 1, length=100.0)
    return network_from_graph(g)


def at(*xs: float) -> list[shapely.Point]:
    return [shapely.Point(X0 + x, Y0) for x in xs]


@pytest.fixture
def spaces() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({
        "id": ["A", "B", "C", "D", "E"],
        "location_precision": ["exact", "approximate", "exact", "area", "exact"],
        "places_total_5min": [5, 15, 10, 99, 20],
        "places_total_10min": [50, 150, 100, 999, 200],
        "places_buzz": [10.0, 30.0, 20.0, 500.0, 40.0],
        **{f"places_{c}_10min": [1, 2, 3, 50, 0] for c in CATS},
        "screen_score": [3, 1, 0, 5, np.nan],
        "screen_evidence": ["community: community; events: workshops, talks, meetup",
                            "projects: projects", None, "events: talks", None],
    })
    return gpd.GeoDataFrame(frame, geometry=at(50, 250, 850, 450, 1950), crs="EPSG:25831")


def test_text_signals_from_evidence_and_from_screen_columns(spaces):
    t = text_signals(spaces)
    assert t.text_events.tolist()[:4] == [2.0, 0.0, 0.0, 1.0]  # 3 concepts capped at 2
    assert t.text_projects.tolist()[:4] == [0.0, 1.0, 0.0, 0.0]
    assert t.iloc[4].isna().all()  # no text: unknown, not 0
    assert text_signals(spaces, cap=3).text_events.iloc[0] == 3.0
    built = spaces.assign(screen_score=[3, 1, 0, 5, 0], n_texts=[1, 2, 1, 1, 0])
    assert text_signals(built).iloc[4].isna().all()  # the build scores a missing text 0
    assert text_signals(built).text_events.iloc[2] == 0.0
    cols = spaces.assign(screen_events=[0, 2, 1, 0, 0])
    assert text_signals(cols).text_events.tolist()[:4] == [0.0, 2.0, 1.0, 0.0]
    with pytest.raises(KeyError, match="screen_evidence"):
        text_signals(pd.DataFrame({"x": [1]}))


def test_space_network_distances_by_hand(street, spaces):
    d = space_network_distances(spaces, street)
    assert d.loc["A", "B"] == pytest.approx(200.0)
    assert d.loc["B", "E"] == pytest.approx(1700.0)
    assert d.loc["C", "A"] == pytest.approx(800.0)
    assert np.diag(d.to_numpy()).tolist() == [0.0] * 5
    assert np.allclose(d.to_numpy(), d.to_numpy().T)
    far = spaces.copy()
    far.loc[far.id == "E", "geometry"] = shapely.Point(X0 + 1950, Y0 + 500)  # off the street
    d2 = space_network_distances(far, street, snap_max_m=300)
    assert d2.loc["E"].isna().all() and d2["E"].isna().all()  # no straight-line fallback


def test_indicators_equal_hand_computed_values(street, spaces):
    mg = middleground_indicators(spaces, net=street, walk_speed_kmh=SPEED)
    assert mg.index.tolist() == ["A", "B", "C", "D", "E"] and mg.index.name == "id"
    p = mg.loc[["A", "B", "C", "E"]]
    # A-B 200, A-C 800, B-C 600, C-E 1100 (D, area only, is not a neighbour)
    assert p.spaces_5min.tolist() == [1, 1, 0, 0]
    assert p.spaces_10min.tolist() == [2, 2, 2, 0]
    assert p.spaces_nearest_m.tolist() == pytest.approx([200, 200, 600, 1100])
    assert p.spaces_nearest_id.tolist() == ["B", "A", "B", "C"]
    assert p.event_venues_10min.tolist() == [4, 8, 12, 0]
    assert mg.loc["D"].drop(["precise", "text_events", "text_projects", "text_startups",
                             "spaces_nearest_id"]).isna().all()
    assert not mg.loc["D", "precise"]
    # ranks among A, B, C, E
    assert p.pct_places_buzz.tolist() == [0.25, 0.75, 0.5, 1.0]
    assert p.pct_spaces_nearest_m.tolist() == [0.875, 0.875, 0.5, 0.25]  # nearer ranks higher
    assert p.pct_spaces_5min.tolist() == [0.875, 0.875, 0.375, 0.375]
    assert mg.loc["A", "mg_spaces"] == pytest.approx((0.875 + 0.75 + 0.875) / 3)
    # events of A: venues rank 0.5 (4 among 4, 8, 12, 0); text 2 among 2, 0, 0 -> 1.0
    assert mg.loc["A", "mg_events"] == pytest.approx((0.5 + 1.0) / 2)
    comps = mg.loc["A", ["mg_places", "mg_spaces", "mg_events", "mg_projects"]]
    assert mg.loc["A", "middleground_index"] == pytest.approx(comps.mean())
    assert np.isnan(mg.loc["E", "middleground_index"])  # no text: no projects signal
    spatial = (mg.loc["E", "mg_places"] + mg.loc["E", "mg_spaces"]
               + mg.loc["E", "pct_event_venues_10min"]) / 3
    assert mg.loc["E", "middleground_index_spatial"] == pytest.approx(spatial)


def test_percentile_composite_lies_in_zero_one(street, spaces):
    rng = np.random.default_rng(0)
    n = 40
    xs = rng.uniform(0, 2000, n)
    frame = pd.DataFrame({
        "id": [f"s{i}" for i in range(n)], "location_precision": "exact",
        "places_total_5min": rng.integers(0, 50, n), "places_total_10min": rng.integers(0, 500, n),
        "places_buzz": rng.uniform(0, 900, n),
        **{f"places_{c}_10min": rng.integers(0, 9, n) for c in CATS},
        "screen_score": 1, "screen_evidence": rng.choice(["events: talks", "projects: projects",
                                                          "startups: startups"], n)})
    gdf = gpd.GeoDataFrame(frame, geometry=at(*xs), crs="EPSG:25831")
    mg = middleground_indicators(gdf, net=street, walk_speed_kmh=SPEED)
    for col in [c for c in mg.columns if c.startswith(("pct_", "mg_", "middleground"))]:
        assert mg[col].between(0, 1, inclusive="right").all(), col


def test_a_given_matrix_gives_the_same_as_the_network(street, spaces):
    by_net = middleground_indicators(spaces, net=street, walk_speed_kmh=SPEED)
    matrix = space_network_distances(spaces, street)
    by_frame = middleground_indicators(spaces, space_distances=matrix.iloc[::-1, ::-1],
                                       walk_speed_kmh=SPEED)
    pd.testing.assert_frame_equal(by_net, by_frame)
    by_array = middleground_indicators(spaces, space_distances=matrix.to_numpy(),
                                       walk_speed_kmh=SPEED)
    pd.testing.assert_frame_equal(by_net, by_array)


def test_project_places_within_ten_minutes(street, spaces):
    places = gpd.GeoDataFrame({"name": ["fab lab"]}, geometry=at(1500), crs="EPSG:25831")
    mg = middleground_indicators(spaces, net=street, project_places=places,
                                 walk_speed_kmh=SPEED)
    # C at 650 m and E at 450 m reach it; A (1,450 m) and B (1,250 m) do not
    assert mg.project_places_10min.loc[["A", "B", "C", "E"]].tolist() == [0, 0, 1, 1]
    assert "pct_project_places_10min" in mg.columns
    with pytest.raises(ValueError, match="needs net"):
        middleground_indicators(spaces, space_distances=space_network_distances(spaces, street),
                                project_places=places)


def test_bad_inputs_name_what_is_missing(street, spaces):
    with pytest.raises(ValueError, match="space_distances or net"):
        middleground_indicators(spaces)
    with pytest.raises(KeyError, match="places_buzz"):
        middleground_indicators(spaces.drop(columns="places_buzz"), net=street)
    with pytest.raises(ValueError, match="shape"):
        middleground_indicators(spaces, space_distances=np.zeros((2, 2)))
    partial = space_network_distances(spaces, street).drop(index="C", columns="C")
    with pytest.raises(ValueError, match="'C'"):
        middleground_indicators(spaces, space_distances=partial)
    with pytest.raises(ValueError, match="duplicated"):
        middleground_indicators(spaces.assign(id="A"), net=street)


def test_summary_is_json_ready_with_parameters_and_n(street, spaces):
    mg = middleground_indicators(spaces, net=street, walk_speed_kmh=SPEED)
    d = json.loads(json.dumps(middleground_summary(mg), allow_nan=False))
    assert d["name"] == "middleground_indicators"
    assert d["n"] == {"spaces": 5, "precise": 4, "middleground_index": 3,
                      "middleground_index_spatial": 4}
    assert d["parameters"]["walk_speed_kmh"] == pytest.approx(SPEED)
    assert d["parameters"]["space_distances"] == "walking network"
    assert d["indicators"]["spaces_10min"] == {"n": 4, "median": 2.0, "min": 0.0, "max": 2.0}
    assert d["components"]["projects"] == ["text_projects", "text_startups"]
