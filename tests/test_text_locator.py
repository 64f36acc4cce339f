"""The text locator: hints in names and listing texts, precedence, veto, radii (issue 11)."""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from cwsgeo import settings
from cwsgeo.analysis.admin import AdminAreas
from cwsgeo.analysis.geocoding import OfflineGeocoder
from cwsgeo.analysis.geocoding.named_places import canonical_key, named_points, tokenize
from cwsgeo.analysis.geocoding.text_locator import (
    LOCATION_METHODS,
    TEXT_LOCATION_COLUMNS,
    TEXT_RADIUS_M,
    TextLocator,
    build_text_locator,
    locate_from_text,
)
from cwsgeo.build.profiles import city_lexicon, load_profile

#: Barcelona's words (landmarks, area aliases, neighbours, names), as the build passes them.
LEXICON = city_lexicon(load_profile("barcelona"))

FWD = Transformer.from_crs(settings.crs_store, settings.crs_work, always_xy=True)


def _xy(lon: float, lat: float) -> tuple[float, float]:
    x, y = FWD.transform(lon, lat)
    return float(x), float(y)


# ---------------------------------------------------------------------------------------------
# A hermetic locator on the self-made gazetteer
# ---------------------------------------------------------------------------------------------


def _admin() -> AdminAreas:
    """Two districts split at latitude 41.40; barri 01 (el Raval) south, 02 (el Barri Gòtic)
    north, in the work CRS."""
    south = box(*_xy(2.10, 41.33), *_xy(2.25, 41.40))
    north = box(*_xy(2.10, 41.40), *_xy(2.25, 41.45))
    crs = settings.crs_work
    districts = gpd.GeoDataFrame({"district_code": ["01", "02"],
                                  "district_name": ["Ciutat Vella", "Eixample"],
                                  "population": [1, 1]}, geometry=[south, north], crs=crs)
    barris = gpd.GeoDataFrame({"barri_code": ["01", "02"],
                               "barri_name": ["el Raval", "el Barri Gòtic"],
                               "district_code": ["01", "02"], "population": [1, 1]},
                              geometry=[south, north], crs=crs)
    city = gpd.GeoDataFrame(geometry=[south.union(north)], crs=crs)
    return AdminAreas(districts=districts, barris=barris, sections=None, city=city)


def _transit() -> gpd.GeoDataFrame:
    # a metro station next to the fixture's Avinguda Diagonal points, and a bus stop
    return gpd.GeoDataFrame(
        {"stop_id": ["tmb_metro:1", "tmb_bus:9"], "name": ["Verdaguer", "Verdaguer"],
         "mode": ["metro", "bus"], "lines": ["L4;L5", "V17"], "source": ["tmb_metro", "tmb_bus"],
         "date": ["2026-01-01"] * 2},
        geometry=[Point(_xy(2.2000, 41.4330)), Point(_xy(2.1000, 41.3500))],
        crs=settings.crs_work)


@pytest.fixture(scope="module")
def small(data_dir: Path) -> TextLocator:
    geocoder = OfflineGeocoder.from_dir(data_dir / "geocoding" / "addresses", lexicon=LEXICON)
    return build_text_locator(geocoder, _admin(), _transit(), lexicon=LEXICON)


def _one(locator: TextLocator, name: str, text: str = "") -> pd.Series:
    frame = pd.DataFrame({"name": [name], "text": [text]}, index=["r1"])
    return locate_from_text(frame, locator).iloc[0]


def test_tokens_meet_across_languages() -> None:
    assert canonical_key("Plaza de Cataluña") == canonical_key("Plaça de Catalunya")
    assert canonical_key("Catalunya Square") == "catalunya placa"
    assert [t.word for t in tokenize("C/ Girona-Granvia")] == ["carrer", "girona", "gran via"]
    toks = tokenize("en el 22@ de Barcelona")
    assert [t.word for t in toks if not t.particle] == ["22arroba", "barcelona"]
    assert "22@" in "en el 22@ de Barcelona"[toks[2].start:toks[2].end]


def test_address_in_text_and_output_frame(small: TextLocator) -> None:
    frame = pd.DataFrame(
        {"name": ["Factory", "Nothing here"],
         "text": ["Una antigua fábrica en la calle Mallorca 103, transformada.", None]},
        index=["a", "b"])
    out = locate_from_text(frame, small)
    assert list(out.index) == ["a", "b"]
    assert list(out.columns) == [*TEXT_LOCATION_COLUMNS, "geometry"]
    assert out.crs.to_epsg() == 4326
    a, b = out.loc["a"], out.loc["b"]
    assert a["location_method"] == "text_address"
    assert a["location_radius_m"] == TEXT_RADIUS_M["text_address"]
    assert "Mallorca 103" in a["location_evidence"] and len(a["location_evidence"]) <= 200
    assert abs(a.geometry.y - 41.3985) < 0.002  # Mallorca 101-115 of the fixture
    assert b["location_method"] == "none" and b.geometry is None
    assert np.isnan(b["location_radius_m"]) and not b["outside_city"]
    assert set(out["location_method"]) <= set(LOCATION_METHODS)


def test_numbers_that_are_not_house_numbers(small: TextLocator) -> None:
    r = _one(small, "Space", "Mallorca 105 m2 of offices. Calle Mallorca\n3 desks.")
    assert r["location_method"] == "none"


def test_address_in_the_name(small: TextLocator) -> None:
    r = _one(small, "WeWork Avinguda Diagonal 371")
    assert r["location_method"] == "text_address"
    assert r["location_evidence"].startswith("name: ")


def test_station_needs_a_transit_word(small: TextLocator) -> None:
    assert _one(small, "X", "Close to Verdaguer, a lovely spot.")["location_method"] == "none"
    r = _one(small, "X", "Two minutes from Verdaguer metro (L4).")
    assert r["location_method"] == "text_station"
    assert r["location_radius_m"] == TEXT_RADIUS_M["text_station"]  # 2 min x 100 m < 400 m
    far = _one(small, "X", "Only 15 minutes from Verdaguer metro station.")
    assert far["location_method"] == "none"  # too many minutes: not where the space is


def test_area_aliases_and_codes(small: TextLocator) -> None:
    r = _one(small, "Space", "Situado en el corazón del Raval.")
    assert r["location_method"] == "text_area"
    assert r["location_areas"] == "B01"
    assert r["location_radius_m"] > 0
    assert _one(small, "Space", "In the Gothic Quarter.")["location_areas"] == "B02"


def test_precedence_address_beats_station_and_area(small: TextLocator) -> None:
    text = ("En el Raval, junto al metro Verdaguer. Nuestra dirección: "
            "Carrer de València 1.")
    assert _one(small, "X", text)["location_method"] == "text_address"


def test_name_vetoes_a_sister_branch(small: TextLocator) -> None:
    # the chain text gives another branch's address (north district); the name says Raval
    text = "Our flagship is at Avinguda Diagonal 371."
    assert _one(small, "Chain", text)["location_method"] == "text_address"
    r = _one(small, "Chain Raval", text)
    assert r["location_method"] == "text_area"
    assert r["location_evidence"] == "name: Chain Raval"


def test_name_keeps_a_consistent_text_address(small: TextLocator) -> None:
    r = _one(small, "Chain Raval", "Nuestra sede: Carrer de València 1, en pleno Raval.")
    assert r["location_method"] == "text_address"  # more precise, and inside the name's area
    assert r["location_areas"] == "B01"


def test_metric_crs_is_a_parameter(data_dir: Path, small: TextLocator) -> None:
    geocoder = OfflineGeocoder.from_dir(data_dir / "geocoding" / "addresses", lexicon=LEXICON)
    other = build_text_locator(geocoder, _admin(), _transit(), crs="EPSG:3857", lexicon=LEXICON)
    assert other.crs == "EPSG:3857" and other.points["x"].abs().max() < 1e6
    a = _one(other, "X", "En la calle Mallorca 103.")
    b = _one(small, "X", "En la calle Mallorca 103.")
    assert a["location_method"] == b["location_method"] == "text_address"
    assert abs(a.geometry.x - b.geometry.x) < 1e-6 and abs(a.geometry.y - b.geometry.y) < 1e-6


def test_outside_city_is_flagged_not_placed(small: TextLocator) -> None:
    r = _one(small, "Cowork", "Located in Sant Cugat, close to the station.")
    assert r["outside_city"] and r["location_method"] == "none"
    assert r["location_evidence"] == "Sant Cugat"
    airport = _one(small, "Cowork", "En el Raval, a 20 minutos del aeropuerto de El Prat.")
    assert not airport["outside_city"] and airport["location_method"] == "text_area"
    assert _one(small, "Cowork Badalona")["outside_city"]
    near = _one(small, "Office", "A quiet office approximately 12 km from Barcelona.")
    assert near["outside_city"] and near["location_method"] == "none"
    assert near["location_evidence"].endswith("12 km from Barcelona")
    for text in ("In the heart of Barcelona, near Barcelona's beaches.",
                 "Close to Barcelona Sants station.", "Minutes from the centre of Barcelona.",
                 "Cerca de la Fira de Barcelona."):
        assert not _one(small, "Office", text)["outside_city"], text


def test_neutral_locator_in_another_crs_knows_no_city(data_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # a toy city worked in UTM 32N with the analysis defaults: no landmark, alias, neighbour
    # or city name of Barcelona's comes back
    monkeypatch.setattr(settings, "crs_work", "EPSG:32632")
    geocoder = OfflineGeocoder.from_dir(data_dir / "geocoding" / "addresses")
    loc = build_text_locator(geocoder, _admin(), _transit())
    assert loc.crs == "EPSG:32632" and loc.lexicon.city_words == frozenset()
    assert not (loc.points["kind"] == "landmark").any() and not loc.outside_keys
    assert set(loc.areas["key"]) == {canonical_key(n) for n in
                                     ("Ciutat Vella", "Eixample", "el Raval", "el Barri Gòtic")}
    for text in ("Located in Sant Cugat, close to the station.",
                 "A quiet office approximately 12 km from Barcelona.",
                 "Located a few meters from Sagrada Familia.", "En pleno Poblenou."):
        r = _one(loc, "Cowork", text)
        assert not r["outside_city"] and r["location_method"] == "none", text
    assert _one(loc, "X", "En la calle Mallorca 103.")["location_method"] == "text_address"


def test_several_text_columns_and_lists(small: TextLocator) -> None:
    frame = pd.DataFrame({"name": ["A"], "en": [None],
                          "es": [["Texto sin pistas.", "En la calle Mallorca 103."]]})
    out = locate_from_text(frame, small, texts=["en", "es"])
    assert out.iloc[0]["location_method"] == "text_address"
    with pytest.raises(KeyError, match="column"):
        locate_from_text(frame, small, texts=["nope"])


def test_named_points_carry_their_source(small: TextLocator) -> None:
    pts = small.points
    assert set(pts["kind"]) >= {"square", "station"}
    assert not (pts["mode"] == "bus").any()
    sq = pts[pts["key"] == "placa catalunya"].iloc[0]
    assert sq["source"].startswith("streets: ") and sq["extent_m"] >= 0
    # curated landmarks whose address the small gazetteer lacks are skipped, not invented
    assert (pts["kind"] == "landmark").sum() == 0
    again = named_points(small.geocoder, crs=settings.crs_work)
    assert len(again) <= len(pts)


def test_many_rows_are_fast(small: TextLocator) -> None:
    frame = pd.DataFrame({"name": [f"Space {i}" for i in range(2000)],
                          "text": [f"Coworking {i} en la calle Mallorca 103, junto al metro "
                                   f"Verdaguer, en el Raval." for i in range(2000)]})
    t0 = time.perf_counter()
    out = locate_from_text(frame, small)
    assert time.perf_counter() - t0 < 20
    assert (out["location_method"] == "text_address").all()


# ---------------------------------------------------------------------------------------------
# On the real bundle
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bcn(bundle_dir: Path) -> TextLocator:
    import cwsgeo

    geocoder = OfflineGeocoder.from_dir(bundle_dir / "addresses", lexicon=LEXICON)
    return build_text_locator(geocoder, cwsgeo.load_admin(bundle_dir / "admin"),
                              cwsgeo.read_transit(bundle_dir / "osm" / "transit_gtfs",
                                                  rules=load_profile("barcelona").transit),
                              cwsgeo.read_places(bundle_dir / "places", categories=None),
                              lexicon=LEXICON)


def test_bundle_without_the_profile_knows_no_landmark(bundle_dir: Path, bcn: TextLocator
                                                       ) -> None:
    import cwsgeo

    # the analysis layer's defaults hold no city: Sagrada Família is the Barcelona profile's
    neutral = build_text_locator(OfflineGeocoder.from_dir(bundle_dir / "addresses"),
                                 cwsgeo.load_admin(bundle_dir / "admin"))
    assert not (neutral.points["kind"] == "landmark").any()
    text = "Located a few meters from Sagrada Familia."
    assert _one(neutral, "X", text)["location_method"] != "text_landmark"
    assert _one(bcn, "X", text)["location_method"] == "text_landmark"
    assert _one(neutral, "X", "In the Gothic Quarter.")["location_method"] == "none"
    # a Spanish spelling of a Barcelona place is the profile's too
    assert "ciudadela" not in neutral.words_table and bcn.words_table["ciudadela"] == "ciutadella"
    assert _one(bcn, "X", "In the Gothic Quarter.")["location_areas"] == "B02"


def _dist(r: pd.Series, lon: float, lat: float) -> float:
    x, y = _xy(r.geometry.x, r.geometry.y)
    tx, ty = _xy(lon, lat)
    return float(np.hypot(x - tx, y - ty))


def test_bundle_intersections(bcn: TextLocator) -> None:
    for text in ("Situado en la esquina entre Paseo de Gracia y calle Diputación.",
                 "At the corner of Passeig de Gràcia and Diputació street.",
                 "A la cantonada del Passeig de Gràcia amb el carrer de la Diputació."):
        r = _one(bcn, "X", text)
        assert r["location_method"] == "text_intersection", text
        assert _dist(r, 2.1679, 41.3905) < 120, text  # the real corner
    r = _one(bcn, "X", "situated at the intersection of Avenida Diagonal and Balmes Street")
    assert r["location_method"] == "text_intersection"
    assert _dist(r, 2.1553, 41.3955) < 150
    r = _one(bcn, "X", "Espacio superilla Calle Girona-Granvia, buenas comunicaciones")
    assert r["location_method"] == "text_intersection"
    assert _dist(r, 2.1728, 41.3932) < 100  # Girona 45 x Gran Via 655 (gazetteer)
    # two parallel streets never meet: no intersection
    r = _one(bcn, "X", "Entre la calle Aribau y la calle Muntaner.")
    assert r["location_method"] != "text_intersection"


def test_bundle_stations_landmarks_areas(bcn: TextLocator) -> None:
    r = _one(bcn, "X", "Muy bien comunicado con parada de metro y FGC (Fontana L3 / Gracia FGC)")
    assert r["location_method"] == "text_station" and _dist(r, 2.1525, 41.4025) < 500
    r = _one(bcn, "X", "Located a few meters from Sagrada Familia.")
    assert r["location_method"] == "text_landmark" and _dist(r, 2.1744, 41.4036) < 100
    r = _one(bcn, "X", "A pocos minutos del edificio Glorias.")
    assert r["location_method"] == "text_landmark" and _dist(r, 2.1895, 41.4034) < 100
    r = _one(bcn, "X", "Ubicado en la zona del 22@ de Barcelona.")
    assert r["location_method"] == "text_area" and r["location_areas"] == "B66"
    r = _one(bcn, "X", "En el barrio de Gràcia.")
    assert r["location_areas"] == "B31"
    r = _one(bcn, "X", "Situado en Passeig de Gràcia, la calle más elegante.")
    assert r["location_method"] == "text_landmark"
    assert r["location_radius_m"] > TEXT_RADIUS_M["text_landmark"]  # the promenade's extent


def test_bundle_calibration(bundle_dir: Path, bcn: TextLocator) -> None:
    """The issue's targets on the rows whose location is known, address withheld."""
    from cwsgeo.analysis.texts.readers import join_listing_texts, read_listing_texts

    cw = bundle_dir / "coworking"
    inv = pd.read_csv(cw / "coworking_spaces.csv", dtype=str, keep_default_na=False,
                      na_values=[""])
    files = [cw / "raw/GabrielFersPin__Coworking/src/results/Barcelona/"
             "Barcelona_coworking_spaces.csv",
             cw / "raw/MMM-UOC__coworking-scraper/checkpoint_220.xlsx"]
    texts = join_listing_texts(inv, read_listing_texts(files))
    inv = inv.set_index("id").join(texts[["text_en", "text_es", "text_ca", "text_other"]])
    google = pd.read_csv(cw / "coworking_geocode_truth.csv", dtype={"id": str}).set_index("id")
    known = inv[inv["address"].notna() & inv[["text_en", "text_es", "text_ca"]].notna().any(
        axis=1)]
    truth = {}
    for rid, r in known.iterrows():
        if rid in google.index:
            truth[rid] = (google.at[rid, "lon"], google.at[rid, "lat"])
        else:
            res = bcn.geocoder.geocode(r["address"], r["postcode"], name=r["name"])
            if res.located and res.status != "street_only":
                truth[rid] = (res.lon, res.lat)
    rows = known.loc[list(truth)].drop(columns=["address", "postcode", "lat", "lon"])
    out = locate_from_text(rows, bcn, texts=["text_en", "text_es", "text_ca", "text_other"])
    got = out[out["location_method"] != "none"]
    err = np.array([_dist(r, *truth[rid]) for rid, r in got.iterrows()])
    assert len(rows) >= 40
    assert (err <= 500).sum() / len(rows) >= 0.70
    assert (err <= got["location_radius_m"].to_numpy()).mean() >= 0.80
