"""Places and transit layers: every source kind, one schema, de-duplication, live Overpass."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cwsgeo import ConfigError, DataSourceError, MissingDataError, settings
from cwsgeo._io import write_gpkg
from cwsgeo.analysis import layers
from cwsgeo.build.profiles import load_profile
from cwsgeo.schema import (
    ALL_PLACE_CATEGORIES,
    PLACE_CATEGORIES,
    PLACES_COLUMNS,
    TRANSIT_COLUMNS,
    TRANSIT_MODES,
)
from tests._server import CannedServer

M = 1 / 111_320  # degrees of latitude per metre
#: Barcelona's transit modes and rules (its profile): the test data are Barcelona's.
BCN = load_profile("barcelona").transit
#: What Overpass's /api/status says when a slot is free (osmnx reads the 5th line).
STATUS = ("Connected as: 2130706433\nCurrent time: 2026-02-01T10:00:00Z\n"
          "Announced endpoint: none\nRate limit: 2\n2 slots available now.\n"
          "Currently running queries (pid, space limit, time limit, start time):\n")


def read_transit(*args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
    """:func:`cwsgeo.analysis.layers.read_transit` with Barcelona's modes."""
    return layers.read_transit(*args, rules=BCN, **kwargs)


def fetch_transit_live(*args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
    """:func:`cwsgeo.analysis.layers.fetch_transit_live` with Barcelona's modes."""
    return layers.fetch_transit_live(*args, rules=BCN, **kwargs)


@pytest.fixture(scope="module")
def ldir(data_dir: Path) -> Path:
    return data_dir / "layers"


@pytest.fixture(scope="module")
def city_places(ldir: Path) -> gpd.GeoDataFrame:
    return layers.read_places(ldir / "places")


@pytest.fixture(scope="module")
def gtfs_transit(ldir: Path) -> gpd.GeoDataFrame:
    return read_transit(ldir / "transit")


def by_id(gdf: gpd.GeoDataFrame, column: str = "place_id") -> pd.DataFrame:
    return gdf.set_index(column)


def assert_schema(gdf: gpd.GeoDataFrame, columns: tuple[str, ...]) -> None:
    assert tuple(gdf.columns) == columns
    assert gdf.crs == settings.crs_work
    assert (gdf.geom_type == "Point").all()
    assert gdf.index.equals(pd.RangeIndex(len(gdf)))
    for col in columns[:-1]:
        assert all(isinstance(v, str) for v in gdf[col]), col


# --------------------------------------------------------------------------------------------
# places: city lists
# --------------------------------------------------------------------------------------------

def test_city_lists_schema_dates_and_filters(city_places: gpd.GeoDataFrame) -> None:
    assert_schema(city_places, PLACES_COLUMNS)
    assert city_places["place_id"].is_unique
    assert set(city_places["category"]) <= set(PLACE_CATEGORIES)
    dates = city_places.groupby("source")["date"].unique().map(list).to_dict()
    assert dates == {"bcn_equipaments": ["2026-02-01"],  # newest `modified`, Madrid time
                     "bcn_restaurants": ["2026-01-29"],
                     "icub_equipaments": ["2026-02-03"],  # no date inside: mirrored edition
                     "bcn_terrasses": ["2024-01-02"]}  # DATA_EXPLO is day/month/year
    ids = set(city_places["place_id"])
    assert "bcn_equipaments:99400000006" not in ids  # flagged in_bcn_bbox = false
    assert "bcn_equipaments:99400000005" not in ids  # playground: not an interaction place
    terraces = by_id(city_places).loc[["bcn_terrasses:1", "bcn_terrasses:3"], "name"]
    assert list(terraces) == ["C. QUINTANA, 5", "C. BLAI, 12"]  # address, spaces collapsed


def test_city_lists_counts_after_dedup(city_places: gpd.GeoDataFrame) -> None:
    counts = city_places["category"].value_counts().to_dict()
    assert counts == {"terrace": 5, "bar": 2, "restaurant": 2, "civic_centre": 1, "library": 1,
                      "community_centre": 1, "culture_venue": 1, "cafe": 1}


def test_all_categories_and_selection(ldir: Path) -> None:
    everything = layers.read_places(ldir / "places", categories=None)
    assert {"playground", "other"} <= set(everything["category"])
    bars = layers.read_places(ldir / "places", categories=["bar", "cafe"])
    assert set(bars["category"]) == {"bar", "cafe"}
    with pytest.raises(ConfigError, match="unknown category"):
        layers.read_places(ldir / "places", categories=["pizzeria"])


def test_dates_override(ldir: Path) -> None:
    places = layers.read_places(ldir / "places", dates={
        "icub_equipaments": "2025-06-30", "bcn_terrasses_2023_2s": "2023-12-31"})
    dates = places.groupby("source")["date"].first()
    assert dates["icub_equipaments"] == "2025-06-30"
    assert dates["bcn_terrasses"] == "2023-12-31"


# --------------------------------------------------------------------------------------------
# places: de-duplication
# --------------------------------------------------------------------------------------------

def test_same_civic_centre_in_two_sources_is_one(city_places: gpd.GeoDataFrame) -> None:
    # ICUB's "Centre Cívic Urgell (Eixample) " lies 10 m from the list's "Centre Cívic Urgell"
    civic = city_places[city_places["category"] == "civic_centre"]
    assert len(civic) == 1
    row = civic.iloc[0]
    assert row["place_id"] == "bcn_equipaments:99400000001"  # the preferred source is kept
    assert row["merged_ids"] == "icub_equipaments:284"


def test_dedup_rules_on_fixtures(city_places: gpd.GeoDataFrame) -> None:
    rows = by_id(city_places)
    # same library 40 m apart, dash vs en dash
    assert rows.loc["bcn_equipaments:99400000002", "merged_ids"] == "icub_equipaments:89"
    # one venue in three lists: shared register id (guide) + a live-music venue for ICUB
    assert rows.loc["bcn_equipaments:99400000004", "merged_ids"] == (
        "bcn_restaurants:99400000004;icub_equipaments:453")
    # a senior centre in the civic centre's building stays a place of its own
    assert rows.loc["bcn_equipaments:99400000003", "category"] == "community_centre"
    # a terrace at a restaurant's door is not merged (no name to compare)
    assert {"bcn_terrasses:1", "bcn_restaurants:99400000101"} <= set(rows.index)


def make_places(rows: list[tuple[str, str, str, float, float]]) -> gpd.GeoDataFrame:
    """(place_id, name, category, x, y) in the work CRS -> a places layer."""
    frame = pd.DataFrame(rows, columns=["place_id", "name", "category", "x", "y"])
    frame["subcategory"] = frame["category"]
    frame["source"] = frame["place_id"].str.split(":").str[0]
    frame["date"] = "2026-01-01"
    frame["merged_ids"] = ""
    geometry = gpd.points_from_xy(frame.pop("x"), frame.pop("y"))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.crs_work)


def test_dedupe_places_rules() -> None:
    x, y = 430000.0, 4582000.0
    places = make_places([
        ("bcn_equipaments:1", "Sala Beckett", "culture_venue", x, y),
        ("icub_equipaments:1", "Sala Beckett - Obrador Internacional", "culture_venue", x + 8, y),
        # one word far apart: "Born" is a place name, not the venue's
        ("bcn_equipaments:2", "Bar Cocteleria El Born", "bar", x + 2000, y),
        ("osm:node/2", "Restaurant La Taverna del Born", "restaurant", x + 2060, y),
        # civic centre and library in one building: different families
        ("bcn_equipaments:3", "Centre Cívic Sagrada Família", "civic_centre", x + 4000, y),
        ("icub_equipaments:3", "Biblioteca Sagrada Família", "library", x + 4003, y),
        # identical distinctive name, 600 m off (one source geocodes it badly)
        ("bcn_equipaments:4", "Centre Cívic Vil·la Urània", "civic_centre", x + 6000, y),
        ("icub_equipaments:4", "Centre Cívic Vil·la Urània", "civic_centre", x + 6600, y),
        # rows of one source never merge
        ("bcn_equipaments:5", "Biblioteca Clarà", "library", x + 8000, y),
        ("bcn_equipaments:6", "Biblioteca Clarà *Reobertura", "library", x + 8001, y),
    ])
    out = by_id(layers.dedupe_places(places))
    assert out.loc["bcn_equipaments:1", "merged_ids"] == "icub_equipaments:1"
    assert {"bcn_equipaments:2", "osm:node/2", "bcn_equipaments:3",
            "icub_equipaments:3"} <= set(out.index)
    assert out.loc["bcn_equipaments:4", "merged_ids"] == "icub_equipaments:4"
    assert {"bcn_equipaments:5", "bcn_equipaments:6"} <= set(out.index)
    assert len(out) == 8


def test_dedupe_places_does_not_chain() -> None:
    x, y = 430000.0, 4582000.0
    # A~B and B~C by name and distance, but A and C are not alike: B joins one of them only
    places = make_places([
        ("bcn_equipaments:1", "Casal Joves Sants", "community_centre", x, y),
        ("icub_equipaments:1", "Casal Joves Sants Badal", "community_centre", x + 20, y),
        ("osm:node/1", "Casal Badal", "community_centre", x + 40, y),
    ])
    out = layers.dedupe_places(places, near_m=25, far_m=30)
    assert len(out) == 2


def test_no_dedup_option(ldir: Path) -> None:
    raw = layers.read_places(ldir / "places", dedup=False)
    assert len(raw) == 18
    assert (raw["merged_ids"] == "").all()


# --------------------------------------------------------------------------------------------
# places: OSM
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tags", "expected"), [
    ({"amenity": "cafe"}, ("cafe", "cafe")),
    ({"amenity": "ice_cream"}, ("cafe", "ice_cream")),
    ({"amenity": "pub"}, ("bar", "pub")),
    ({"amenity": "biergarten"}, ("bar", "biergarten")),
    ({"amenity": "fast_food"}, ("restaurant", "fast_food")),
    ({"amenity": "nightclub"}, ("nightclub", "nightclub")),
    ({"amenity": "theatre"}, ("culture_venue", "theatre")),
    ({"amenity": "events_venue"}, ("culture_venue", "events_venue")),
    ({"tourism": "gallery"}, ("culture_venue", "gallery")),
    ({"leisure": "dance"}, ("culture_venue", "dance_hall")),
    ({"amenity": "social_centre"}, ("community_centre", "social_centre")),
    ({"amenity": "library", "tourism": "museum"}, ("library", "library")),  # first entry wins
    ({"amenity": "community_centre", "name": "Centre Cívic Urgell"},
     ("civic_centre", "civic_centre")),
    ({"amenity": "bench"}, None),
    ({"amenity": float("nan"), "name": "x"}, None),
])
def test_osm_place_category(tags: dict[str, object], expected: tuple[str, str] | None) -> None:
    assert layers.osm_place_category(tags) == expected


def test_osm_place_mapping_is_the_query() -> None:
    assert set(layers.OSM_PLACE_TAGS.values()) <= {
        (c, s) for c, s in layers.OSM_PLACE_TAGS.values() if c in ALL_PLACE_CATEGORIES}
    keys = {k for k, _ in layers.OSM_PLACE_TAGS}
    assert keys == {"amenity", "tourism", "leisure"}


def test_read_places_osm_xml(ldir: Path) -> None:
    places = layers.read_places(ldir / "osm" / "eixample_tiny.osm")
    assert_schema(places, PLACES_COLUMNS)
    rows = by_id(places)
    assert set(rows["date"]) == {"2012-01-18"}  # newest element timestamp
    assert rows.loc["osm:node/2", ["category", "subcategory"]].tolist() == ["bar", "pub"]
    assert rows.loc["osm:node/3", "category"] == "restaurant"
    assert rows.loc["osm:node/4", "category"] == "civic_centre"
    assert rows.loc["osm:node/5", "category"] == "culture_venue"
    assert rows.loc["osm:node/6", "name"] == "Carrer de Mallorca, 200"  # no name: address
    assert "osm:node/7" not in rows.index  # a bench
    library = rows.loc["osm:way/100"]  # a closed way: its representative point
    square = gpd.GeoSeries([shapely.box(2.1500, 41.3760, 2.1506, 41.3765)],
                           crs=settings.crs_store).to_crs(settings.crs_work).iloc[0]
    assert square.contains(library["geometry"])


def test_osm_xml_with_no_matching_features(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm"
    path.write_text('<?xml version="1.0"?>\n<osm version="0.6">\n <node id="1" lat="41.39" '
                    'lon="2.16"><tag k="amenity" v="bench"/></node>\n</osm>\n',
                    encoding="utf-8")
    places = layers.read_places(path)
    assert_schema(places, PLACES_COLUMNS)
    assert places.empty


def test_osm_geojson_layer_reads_like_xml(tmp_path: Path, ldir: Path) -> None:
    import osmnx as ox

    features = ox.features_from_xml(ldir / "osm" / "eixample_tiny.osm",
                                    tags={"amenity": ["cafe", "pub"]})
    flat = features.reset_index().rename(columns={"element": "osm_type", "id": "osm_id"})
    flat.to_file(tmp_path / "places_food_drink.geojson", driver="GeoJSON", engine="pyogrio")
    places = layers.read_places(tmp_path / "places_food_drink.geojson",
                                dates={"places_food_drink": "2012-01-18"})
    assert sorted(places["place_id"]) == ["osm:node/1", "osm:node/2"]
    assert set(places["date"]) == {"2012-01-18"}


# --------------------------------------------------------------------------------------------
# transit: operators' station files
# --------------------------------------------------------------------------------------------

def test_gtfs_schema_and_collapse(gtfs_transit: gpd.GeoDataFrame) -> None:
    assert_schema(gtfs_transit, TRANSIT_COLUMNS)
    assert gtfs_transit["stop_id"].is_unique
    rows = gtfs_transit.set_index("stop_id")
    # two line rows of one metro station -> one station, lines joined, between the two
    diagonal = gtfs_transit[gtfs_transit["name"] == "Diagonal"]
    assert len(diagonal) == 1
    assert rows.loc["tmb_metro:1.328", "lines"] == "L3;L5"
    # tram platforms of both directions -> one stop
    assert rows.loc["tram:1001", "lines"] == "T1;T2;T3"
    assert (gtfs_transit["mode"] == "tram").sum() == 1
    # bus: the same pole twice merges (lines joined); the other side of the street does not
    assert rows.loc["tmb_bus:2.4.1", "lines"] == "7;H10"
    assert "tmb_bus:2.4.3" in rows.index
    # regional lines and the airport are outside the city
    assert {"fgc:AB1", "tmb_metro:1.901"}.isdisjoint(rows.index)
    assert rows.loc["rodalies:71801", ["mode", "lines"]].tolist() == ["rodalies", "R2;R4"]
    assert rows.loc["tmb_funicular:1.9901", "mode"] == "funicular"
    assert set(gtfs_transit["mode"]) == set(BCN.modes)


def test_gtfs_metro_position_is_mean_of_rows(gtfs_transit: gpd.GeoDataFrame) -> None:
    rows = gpd.GeoSeries(gpd.points_from_xy([2.16000, 2.16150], [41.39560, 41.39650]),
                         crs=settings.crs_store).to_crs(settings.crs_work)
    station = gtfs_transit.set_index("stop_id").loc["tmb_metro:1.328", "geometry"]
    assert station.distance(rows.union_all().centroid) < 0.01


def test_transit_clip_with_buffer(ldir: Path) -> None:
    box = shapely.box(2.10, 41.35, 2.20, 41.42)  # "Just Outside" lies ~330 m east of it
    kept = read_transit(ldir / "transit" / "fgc_stations.geojson", clip=box)
    assert sorted(kept["stop_id"]) == ["fgc:EX1", "fgc:PR1"]
    strict = read_transit(ldir / "transit" / "fgc_stations.geojson", clip=box,
                                 clip_buffer_m=0)
    assert list(strict["stop_id"]) == ["fgc:PR1"]
    as_frame = gpd.GeoDataFrame(geometry=[box], crs=settings.crs_store).to_crs(
        settings.crs_work)
    same = read_transit(ldir / "transit" / "fgc_stations.geojson", clip=as_frame)
    assert sorted(same["stop_id"]) == sorted(kept["stop_id"])
    in_work_crs = as_frame.geometry.iloc[0]  # a bare geometry in EPSG:25831 (the pipeline's)
    same = read_transit(ldir / "transit" / "fgc_stations.geojson", clip=in_work_crs)
    assert sorted(same["stop_id"]) == sorted(kept["stop_id"])


def test_places_clip(ldir: Path) -> None:
    ciutat_vella = shapely.box(2.165, 41.375, 2.19, 41.39)
    places = layers.read_places(ldir / "places", clip=ciutat_vella)
    assert sorted(places["place_id"]) == [
        "bcn_equipaments:99400000004", "bcn_restaurants:99400000101",
        "bcn_restaurants:99400000102", "bcn_restaurants:99400000103",
        "bcn_restaurants:99400000104", "bcn_terrasses:1", "bcn_terrasses:2"]


def test_collapse_stations_merge_distance(ldir: Path) -> None:
    raw = read_transit(ldir / "transit", collapse=False)
    assert (raw["mode"] == "bus").sum() == 4
    default = layers.collapse_stations(raw)
    assert (default["mode"] == "bus").sum() == 3
    no_bus = layers.collapse_stations(raw, merge_m={**layers.STATION_MERGE_M, "bus": 0})
    assert (no_bus["mode"] == "bus").sum() == 4
    assert (no_bus["mode"] == "metro").sum() == 2


def test_transit_modes_and_no_collapse(ldir: Path) -> None:
    metro = read_transit(ldir / "transit", modes=["metro"], collapse=False)
    assert set(metro["mode"]) == {"metro"}
    assert (metro["name"] == "Diagonal").sum() == 2
    with pytest.raises(ConfigError, match="unknown mode"):
        read_transit(ldir / "transit", modes=["ferry"])


@pytest.mark.parametrize(("tags", "expected"), [
    ({"railway": "station", "station": "subway"}, "metro"),
    ({"public_transport": "stop_position", "subway": "yes"}, "metro"),
    ({"railway": "subway_entrance"}, "metro"),
    ({"railway": "station", "network": "Metro de Barcelona"}, "metro"),
    ({"railway": "station", "station": "subway", "operator": "FGC"}, "fgc"),
    ({"railway": "halt", "network": "Rodalies de Catalunya", "operator": "Renfe"}, "rodalies"),
    ({"public_transport": "station", "train": "yes"}, "rodalies"),
    ({"railway": "tram_stop", "operator": "TRAM"}, "tram"),
    ({"public_transport": "platform", "tram": "yes"}, "tram"),
    ({"railway": "station", "station": "funicular", "operator": "FGC"}, "funicular"),
    ({"highway": "bus_stop", "operator": "TMB"}, "bus"),
    ({"public_transport": "platform", "bus": "yes", "network": "AMB"}, "bus"),
    ({"type": "route", "route": "subway", "operator": "FGC"}, "fgc"),
    ({"type": "route", "route": "bus", "operator": "TMB"}, "bus"),
    ({"railway": "station"}, None),
    ({"amenity": "taxi"}, None),
])
def test_osm_transit_mode(tags: dict[str, str], expected: str | None) -> None:
    assert layers.osm_transit_mode(tags, BCN) == expected


@pytest.mark.parametrize(("tags", "expected"), [
    ({"public_transport": "station", "train": "yes"}, "rail"),
    ({"railway": "station", "station": "train", "operator": "Renfe"}, "rail"),
    ({"railway": "halt", "train": "yes", "network": "Rodalies de Catalunya"}, "rail"),
    ({"railway": "station", "station": "subway"}, "metro"),
    ({"railway": "station", "station": "subway", "operator": "FGC"}, "metro"),
    ({"railway": "station", "network": "Metro de Milano"}, "metro"),
    ({"railway": "station", "operator": "TMB"}, None),
    ({"amenity": "ferry_terminal", "name": "Pier 1"}, "ferry"),
    ({"type": "route", "route": "ferry"}, "ferry"),
    ({"railway": "tram_stop"}, "tram"),
    ({"highway": "bus_stop"}, "bus"),
])
def test_osm_transit_mode_generic(tags: dict[str, str], expected: str | None) -> None:
    """Issue 14: any city's modes; no operator of one city (FGC, Rodalies, TMB) is known."""
    assert layers.osm_transit_mode(tags) == expected
    assert TRANSIT_MODES == ("metro", "tram", "rail", "bus", "funicular", "ferry")


def test_city_transit_rules() -> None:
    city = layers.TransitModes(modes=("metro", "s-bahn", "bus"), rail="s-bahn",
                               operators=(("metro", r"\bu-bahn\b"),))
    assert layers.osm_transit_mode({"railway": "station", "train": "yes"}, city) == "s-bahn"
    assert layers.osm_transit_mode({"railway": "station", "network": "U-Bahn"}, city) == "metro"
    assert city.rail_modes == ("metro", "s-bahn")
    assert city.merge_distances["s-bahn"] == layers.STATION_MERGE_M["rail"]
    with pytest.raises(ValueError, match="tram"):
        layers.TransitModes(modes=("metro", "bus"), rail="tram2")
    assert BCN.rail_modes == ("metro", "tram", "fgc", "rodalies")


def test_read_transit_generic_modes(ldir: Path, tmp_path: Path) -> None:
    """Any other city: Barcelona's operator files tell no mode; a rail file is rail; in OSM
    the FGC's subway routes are metro."""
    xml = layers.read_transit(ldir / "osm" / "eixample_tiny.osm")
    assert set(xml["mode"]) <= set(TRANSIT_MODES)
    rows = xml.set_index("stop_id")
    assert rows.loc["osm:node/20", ["mode", "lines"]].tolist() == ["metro", "L1;L8"]
    rail = tmp_path / "rail_stations.geojson"
    shutil.copy(ldir / "transit" / "rodalies_stations.geojson", rail)
    trains = layers.read_transit(rail, clip=shapely.box(2.0, 41.2, 2.4, 41.6))
    assert len(trains) and set(trains["mode"]) == {"rail"}
    assert set(trains["source"]) == {"rail"}
    with pytest.raises(ConfigError, match="not a transit file"):
        layers.read_transit(ldir / "transit" / "fgc_stations.geojson")
    with pytest.raises(ConfigError, match="unknown mode"):
        layers.read_transit(rail, modes=["rodalies"])


def test_read_transit_osm_xml(ldir: Path) -> None:
    transit = read_transit(ldir / "osm" / "eixample_tiny.osm")
    assert_schema(transit, TRANSIT_COLUMNS)
    rows = transit.set_index("stop_id")
    assert set(rows["date"]) == {"2012-01-18"}
    # a station served by TMB's L1 and FGC's L8 routes: one row per mode
    assert rows.loc["osm:node/20#metro", ["mode", "lines"]].tolist() == ["metro", "L1"]
    assert rows.loc["osm:node/20#fgc", ["mode", "lines"]].tolist() == ["fgc", "L8"]
    # the entrance named like the FGC station joins it (no metro "Provença")
    provenca = transit[transit["name"] == "Provença"]
    assert provenca[["stop_id", "mode", "lines"]].values.tolist() == [
        ["osm:node/21", "fgc", "L6"]]
    # bus stop node + platform on the same pole: one stop; route=railway (track) is ignored
    assert rows.loc["osm:node/23", ["mode", "lines"]].tolist() == ["bus", "7;H10"]
    assert rows.loc["osm:node/25", "mode"] == "tram"
    assert rows.loc["osm:node/26", ["mode", "lines"]].tolist() == ["metro", ""]
    # a bare railway=station and an unnamed entrance are dropped
    assert {"osm:node/27", "osm:node/28"}.isdisjoint(rows.index)
    assert len(transit) == 6


# --------------------------------------------------------------------------------------------
# dispatch, own schema, errors, summaries
# --------------------------------------------------------------------------------------------

def test_own_schema_round_trip(tmp_path: Path, city_places: gpd.GeoDataFrame,
                               gtfs_transit: gpd.GeoDataFrame) -> None:
    gpkg = write_gpkg({"places": city_places, "transit": gtfs_transit}, tmp_path / "live.gpkg")
    places = layers.read_places(gpkg)
    transit = read_transit(gpkg)
    pd.testing.assert_frame_equal(places.drop(columns="geometry"),
                                  city_places.drop(columns="geometry"))
    assert places.geometry.geom_equals_exact(city_places.geometry, 0.01).all()
    pd.testing.assert_frame_equal(transit.drop(columns="geometry"),
                                  gtfs_transit.drop(columns="geometry"))
    geojson = tmp_path / "places_live.geojson"
    city_places.to_crs(settings.crs_store).to_file(geojson, driver="GeoJSON", engine="pyogrio")
    again = layers.read_places(geojson)
    assert list(again["place_id"]) == list(city_places["place_id"])
    assert again.crs == settings.crs_work


def test_mixed_inputs_one_call(ldir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mix"
    shutil.copytree(ldir / "places", folder)
    shutil.copy(ldir / "osm" / "eixample_tiny.osm", folder)
    shutil.copy(ldir / "transit" / "tmb_metro_stations.geojson", folder)  # not a places file
    (folder / "bcn_places_combined.csv").write_text("source,name\n", encoding="utf-8")
    places = layers.read_places(folder)
    assert set(places["source"]) == {"bcn_equipaments", "bcn_restaurants", "icub_equipaments",
                                     "bcn_terrasses", "osm"}
    same = layers.read_places([ldir / "places", ldir / "osm" / "eixample_tiny.osm"])
    assert sorted(same["place_id"]) == sorted(places["place_id"])
    transit = read_transit(folder)  # the .osm and the metro file
    assert set(transit["source"]) == {"osm", "tmb_metro"}


def test_same_osm_element_twice_is_read_once(ldir: Path) -> None:
    xml = ldir / "osm" / "eixample_tiny.osm"
    places = layers.read_places([xml, xml])
    assert places["place_id"].is_unique
    assert len(places) == 7


def test_input_errors(ldir: Path, tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="not found"):
        layers.read_places(tmp_path / "nowhere")
    with pytest.raises(MissingDataError, match="no places file"):
        layers.read_places(ldir / "transit")
    with pytest.raises(ConfigError, match="not a transit file"):
        read_transit(ldir / "places" / "bcn_terrasses_2023_2s.geojson")
    notes = tmp_path / "notes.geojson"
    notes.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a places file"):
        layers.read_places(notes)


def test_counts(city_places: gpd.GeoDataFrame, gtfs_transit: gpd.GeoDataFrame) -> None:
    table = layers.count_places(city_places)
    assert table.loc["total", "total"] == len(city_places)
    assert table.loc["terrace", "bcn_terrasses"] == 5
    assert list(table.index)[:2] == ["cafe", "bar"]  # the scheme's order
    modes = layers.count_transit(gtfs_transit, modes=BCN.modes)
    assert modes.loc["metro", "tmb_metro"] == 2
    assert modes.loc["total", "total"] == len(gtfs_transit)


# --------------------------------------------------------------------------------------------
# live Overpass (canned loopback server)
# --------------------------------------------------------------------------------------------

def overpass_answer(elements: list[dict[str, object]]) -> dict[str, object]:
    return {"version": 0.6, "generator": "Overpass API 0.7.62",
            "osm3s": {"timestamp_osm_base": "2026-02-01T09:59:00Z",
                      "copyright": "The data included in this document is from "
                                   "www.openstreetmap.org. The data is made available under "
                                   "ODbL."},
            "elements": elements}


def node(ident: int, lat: float, lon: float, **tags: str) -> dict[str, object]:
    element: dict[str, object] = {"type": "node", "id": ident, "lat": lat, "lon": lon}
    if tags:
        element["tags"] = tags
    return element


PLACE_ELEMENTS = [
    node(101, 41.3868, 2.1693, amenity="cafe", name="Cafè Zurich"),
    node(102, 41.3895, 2.1620, amenity="bar", name="Bar Mut"),
    node(103, 41.3900, 2.1650, amenity="bench"),
    node(301, 41.3880, 2.1660), node(302, 41.3880, 2.1666), node(303, 41.3885, 2.1666),
    {"type": "way", "id": 300, "nodes": [301, 302, 303, 301],
     "tags": {"amenity": "theatre", "name": "Teatre Tívoli"}},
]
TRANSIT_ELEMENTS = [
    node(201, 41.3956, 2.1600, railway="station", station="subway", operator="TMB",
         name="Diagonal"),
    node(202, 41.39561, 2.16003, public_transport="stop_position", subway="yes",
         name="Diagonal"),
    node(203, 41.3900, 2.1602, highway="bus_stop", name="València - Balmes", route_ref="7;H10"),
    node(204, 41.3926, 2.1438, railway="tram_stop", name="Francesc Macià", route_ref="T1"),
]


@pytest.fixture
def overpass(canned_server: CannedServer, monkeypatch: pytest.MonkeyPatch) -> CannedServer:
    monkeypatch.setattr(settings, "overpass_url", canned_server.url + "/api")
    canned_server.add("GET", "/api/status", body=STATUS, content_type="text/plain")
    return canned_server


AREA = shapely.box(2.14, 41.37, 2.18, 41.40)


def test_fetch_places_live(overpass: CannedServer, tmp_path: Path) -> None:
    overpass.add("POST", "/api/interpreter", json_body=overpass_answer(PLACE_ELEMENTS))
    places = layers.fetch_places_live(AREA, tmp_path)
    assert_schema(places, PLACES_COLUMNS)
    rows = by_id(places)
    assert sorted(rows.index) == ["osm:node/101", "osm:node/102", "osm:way/300"]
    assert rows.loc["osm:way/300", ["category", "subcategory"]].tolist() == [
        "culture_venue", "theatre"]
    assert set(rows["date"]) == {dt.date.today().isoformat()}
    posts = [r for r in overpass.requests if r.method == "POST"]
    assert len(posts) == 1
    query = parse_qs(posts[0].body.decode())["data"][0]
    assert "['amenity'='cafe']" in query and "['tourism'='museum']" in query
    assert posts[0].headers["User-Agent"] == settings.user_agent
    # osmnx's cache under cache_dir answers the same query again
    again = layers.fetch_places_live(AREA, tmp_path)
    assert len([r for r in overpass.requests if r.method == "POST"]) == 1
    assert list(again["place_id"]) == list(places["place_id"])
    assert any(tmp_path.joinpath("osmnx").iterdir())


def test_fetch_transit_live(overpass: CannedServer, tmp_path: Path) -> None:
    overpass.add("POST", "/api/interpreter", json_body=overpass_answer(TRANSIT_ELEMENTS))
    area = gpd.GeoSeries([AREA], crs=settings.crs_store).to_crs(settings.crs_work)
    transit = fetch_transit_live(area, tmp_path)
    assert_schema(transit, TRANSIT_COLUMNS)
    rows = transit.set_index("stop_id")
    assert rows.loc["osm:node/201", ["name", "mode"]].tolist() == ["Diagonal", "metro"]
    assert "osm:node/202" not in rows.index  # the stop position joined its station
    assert rows.loc["osm:node/203", ["mode", "lines"]].tolist() == ["bus", "7;H10"]
    assert rows.loc["osm:node/204", "mode"] == "tram"
    query = parse_qs(overpass.requests[-1].body.decode())["data"][0]
    assert "['highway'='bus_stop']" in query and "['railway'='subway_entrance']" in query


def test_live_and_file_schemas_match(overpass: CannedServer, tmp_path: Path, ldir: Path,
                                     city_places: gpd.GeoDataFrame,
                                     gtfs_transit: gpd.GeoDataFrame) -> None:
    overpass.add("POST", "/api/interpreter", json_body=overpass_answer(PLACE_ELEMENTS))
    live = layers.fetch_places_live(AREA, tmp_path)
    xml = layers.read_places(ldir / "osm" / "eixample_tiny.osm")
    for frame in (live, xml):
        pd.testing.assert_series_equal(frame.dtypes, city_places.dtypes)
    xml_transit = read_transit(ldir / "osm" / "eixample_tiny.osm")
    pd.testing.assert_series_equal(xml_transit.dtypes, gtfs_transit.dtypes)


def test_live_empty_answer(overpass: CannedServer, tmp_path: Path) -> None:
    overpass.add("POST", "/api/interpreter", json_body=overpass_answer([]))
    places = layers.fetch_places_live(AREA, tmp_path)
    assert places.empty
    assert tuple(places.columns) == PLACES_COLUMNS


def test_live_remark_is_an_error_and_not_cached(overpass: CannedServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "http_retries", 1)
    bad = overpass_answer([])
    bad["remark"] = "runtime error: Query timed out in \"query\" at line 1 after 180 seconds."
    overpass.add("POST", "/api/interpreter", json_body=bad)
    with pytest.raises(DataSourceError, match="Overpass"):
        fetch_transit_live(AREA, tmp_path)
    cache = tmp_path / "osmnx"
    assert not cache.exists() or not any(cache.iterdir())


# --------------------------------------------------------------------------------------------
# the real Barcelona bundle
# --------------------------------------------------------------------------------------------

@pytest.mark.bundle
def test_bundle_places(bundle_dir: Path) -> None:
    raw = layers.read_places(bundle_dir / "places", dedup=False)
    places = layers.read_places(bundle_dir / "places")
    assert_schema(places, PLACES_COLUMNS)
    assert places["place_id"].is_unique
    counts = places["category"].value_counts()
    assert counts["civic_centre"] == 52  # 52 in the list and 52 in ICUB
    assert (raw["category"] == "civic_centre").sum() == 104
    assert 200 <= counts["library"] <= 220
    assert 360 <= counts["culture_venue"] <= 420
    assert counts["terrace"] == 6631
    assert counts["restaurant"] == (raw["category"] == "restaurant").sum()
    assert 10_300 <= len(places) <= 10_500
    assert set(places["date"]) == {"2026-02-01", "2026-01-29", "2026-02-03", "2024-01-02"}


@pytest.mark.bundle
def test_bundle_transit(bundle_dir: Path) -> None:
    boundary = gpd.read_file(bundle_dir / "admin" / "city_boundary.geojson")
    gtfs = bundle_dir / "osm" / "transit_gtfs"
    network = read_transit(gtfs / "tmb_metro_stations.geojson",
                                  clip=shapely.box(1.5, 41.0, 2.6, 41.8))
    assert 130 <= len(network) <= 140  # 165 line-station rows, 139 stations
    transit = read_transit(gtfs, clip=boundary)
    assert_schema(transit, TRANSIT_COLUMNS)
    counts = transit["mode"].value_counts()
    assert 95 <= counts["metro"] <= 115
    assert 25 <= counts["tram"] <= 40
    assert 15 <= counts["fgc"] <= 30
    assert 8 <= counts["rodalies"] <= 15
    assert counts["funicular"] == 2
    assert 2000 <= counts["bus"] <= 2500
    passeig = transit[(transit["mode"] == "metro") & (transit["name"] == "Passeig de Gràcia")]
    assert passeig["lines"].tolist() == ["L2;L3;L4"]


@pytest.mark.bundle
def test_bundle_osm_xml(bundle_dir: Path) -> None:
    osm = bundle_dir / "osm" / "barcelona_eixample_2012.osm"
    places = layers.read_places(osm)
    assert set(places["date"]) == {"2012-01-18"}
    assert 110 <= len(places) <= 125  # 102 food and drink + 20 culture features
    transit = read_transit(osm, clip=shapely.box(1.5, 41.0, 2.6, 41.8))
    counts = transit["mode"].value_counts()
    assert counts["metro"] >= 50
    assert counts["bus"] >= 10
