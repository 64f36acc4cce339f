"""Tests of geocoding: normalisation, parsing, gazetteer matching, cache, Nominatim."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import sqlite3
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cwsgeo
from cwsgeo.analysis import geocoding as gc
from cwsgeo.analysis.geocoding import (
    GEOCODE_COLUMNS,
    GazetteerIndex,
    Geocoder,
    OfflineGeocoder,
    build_gazetteer_index,
    fold,
    geocode_table,
    normalize_street,
    parse_address,
)
from cwsgeo.build.geocoder import open_geocoder
from cwsgeo.build.profiles import city_lexicon, load_profile

#: Barcelona's words (from its profile): the fixtures are Barcelona addresses.
LEXICON = city_lexicon(load_profile("barcelona"))
LEXICON_LANGUAGES = load_profile("barcelona").languages


@contextlib.contextmanager
def monkeypatched_bbox(bbox: tuple[float, float, float, float]) -> Iterator[None]:
    saved = cwsgeo.settings.city_bbox
    cwsgeo.settings.city_bbox = bbox
    try:
        yield
    finally:
        cwsgeo.settings.city_bbox = saved


#: How the build opens Barcelona's geocoder (Nominatim biased to the city, the country).
BCN = {"city": "Barcelona", "region": "Spain", "country": "ES", "lexicon": LEXICON}


@pytest.fixture(scope="module")
def gaz_dir() -> Path:
    return Path(__file__).parent / "data" / "geocoding" / "addresses"


@pytest.fixture(scope="module")
def offline(gaz_dir: Path) -> OfflineGeocoder:
    return OfflineGeocoder.from_dir(gaz_dir, lexicon=LEXICON)


@pytest.fixture
def no_osmnx_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """osmnx pauses 1 s before each uncached Nominatim request; skip that in tests."""
    from osmnx import _nominatim

    monkeypatch.setattr(_nominatim, "time", types.SimpleNamespace(sleep=lambda s: None))


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


# -- normalisation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("variant", "official"), [
    ("C/ Aragó", "Carrer d'Aragó"),
    ("CL ARAGO", "Carrer d'Aragó"),
    ("Calle Valencia", "Carrer de València"),
    ("CARRER DE VALENCIA", "Carrer de València"),
    ("Avda. Diagonal", "Avinguda Diagonal"),
    ("Av. Diagonal", "Avinguda Diagonal"),
    ("Avenida Diagonal", "Avinguda Diagonal"),
    ("Pg. de Gràcia", "Passeig de Gràcia"),
    ("Paseo de Gracia", "Passeig de Gràcia"),
    ("Pza. Cataluña", "Plaça de Catalunya"),
    ("Plaza Cataluña", "Plaça de Catalunya"),
    ("Plaza de Catalunya", "Plaça de Catalunya"),
    ("Gran Vía de les Corts Catalanes", "Gran Via de les Corts Catalanes"),
    ("Gran Via de las Cortes Catalanas", "Gran Via de les Corts Catalanes"),
    ("Travesera de Dalt", "Travessera de Dalt"),
    ("Rda. Sant Pere", "Ronda de Sant Pere"),
    ("Ronda San Pedro", "Ronda de Sant Pere"),
    ("Placa Gal-la Placidia", "Plaça de Gal·la Placídia"),
    ("Plaça Gal.la Placídia", "Plaça de Gal·la Placídia"),
    ("Plaça de Gal·la Placidia", "Plaça de Gal·la Placídia"),
    ("Calle Cristóbal de Moura", "Carrer de Cristóbal de Moura"),
    ("Carrer Cristobal Moura", "Carrer de Cristóbal de Moura"),
])
def test_normalize_street_equivalents(variant: str, official: str) -> None:
    assert normalize_street(variant) == normalize_street(official)


def test_fold_middle_dot_and_accents() -> None:
    assert fold("Gal·la") == fold("Gal.la") == fold("Gal-la") == fold("GAL•LA") == "galla"
    assert fold("Cataluña") == "catalunya"
    assert fold("Carrer d’Aragó") == "carrer d arago"
    assert fold("Paral-lel") == fold("Paral·lel") == fold("PARAL.LEL") == "parallel"
    # an abbreviation's dot next to an "l" is not a middle dot
    assert fold("Pl. Lesseps") == fold("Pl.Lesseps") == fold("PL.LESSEPS") == "pl lesseps"


def test_street_key_readings() -> None:
    assert gc.street_key("C/ Rambla de Catalunya")[:2] == [
        ("carrer", "rambla catalunya"), ("rambla", "catalunya")]
    assert gc.street_key("La Rambla") == [(None, "rambla")]
    assert gc.street_key("") == []


# -- parsing -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "street", "number", "letter", "postcode"), [
    ("Carrer de Còrsega, 284, 1 Pis", "Carrer de Còrsega", 284, "", None),
    ("Rambla de Catalunya, 125, 3º 2ª", "Rambla de Catalunya", 125, "", None),
    ("Rambla de Catalunya, 79, 2o 2a", "Rambla de Catalunya", 79, "", None),
    ("Carrer Calàbria 149, entresol 1a", "Carrer Calàbria", 149, "", None),
    ("Carrer del Consell de Cent, 413, 415, Principal 2ª", "Carrer del Consell de Cent", 413,
     "", None),
    ("Calle Marina 16-18", "Calle Marina", 16, "", None),
    ("Carrer dels Albigesos, 25-27", "Carrer dels Albigesos", 25, "", None),
    ("Placa Gal-la Placidia, 1-3", "Placa Gal-la Placidia", 1, "", None),
    ("Carrer dels Pinzón 12-2", "Carrer dels Pinzón", 12, "", None),
    ("Avenida Diagonal 468, 9", "Avenida Diagonal", 468, "", None),
    ("Carrer de Bailèn, 105, 08009 Barcelona", "Carrer de Bailèn", 105, "", "08009"),
    ("Carrer de Bailèn 105, 08009 Barcelona, Spain", "Carrer de Bailèn", 105, "", "08009"),
    ("Carrer de Pallars 19X", "Carrer de Pallars", 19, "X", None),
    ("Carrer de Pallars, 19 B", "Carrer de Pallars", 19, "B", None),
    ("Carrer de Pallars 12 bajos", "Carrer de Pallars", 12, "", None),
    ("Carrer de Pallars 12, local 3", "Carrer de Pallars", 12, "", None),
    ("Calle Valencia nº 264", "Calle Valencia", 264, "", None),
    ("Carrer de Pere IV, 128", "Carrer de Pere IV", 128, "", None),
    ("Ronda Sant Pere", "Ronda Sant Pere", None, "", None),
    ("Calle Sant Rafael, Barcelona", "Calle Sant Rafael", None, "", None),
    ("Carrer de la Marina s/n", "Carrer de la Marina", None, "", None),
    ("Carretera C-17 (Barcelona)", "Carretera C-17 (Barcelona)", None, "", None),
])
def test_parse_address(text: str, street: str, number: int | None, letter: str,
                       postcode: str | None) -> None:
    parsed = parse_address(text, LEXICON.address_stop_words)
    assert (parsed.street, parsed.number, parsed.letter, parsed.postcode) == (
        street, number, letter, postcode)


def test_parse_address_knows_no_city_by_default() -> None:
    # neutral: no city's name is a stop word; the build passes the profile's words
    assert parse_address("Calle Sant Rafael, Barcelona").street == "Calle Sant Rafael, Barcelona"
    assert parse_address("Via Roma, Milano", frozenset({"milano"})).street == "Via Roma"
    assert parse_address("Calle Sant Rafael, Barcelona",
                         LEXICON.address_stop_words).street == "Calle Sant Rafael"


def test_nominatim_query_follows_the_city() -> None:
    from cwsgeo.analysis.geocoding import NominatimGeocoder, ParsedAddress

    parsed = ParsedAddress("Via Roma", 12, "", "20121")
    neutral = NominatimGeocoder().query_for(parsed)
    assert neutral["q"] == "Via Roma 12, 20121" and "countrycodes" not in neutral
    milano = NominatimGeocoder(city="Milano", region="Italia", country="IT").query_for(parsed)
    assert milano["q"] == "Via Roma 12, 20121 Milano, Italia"
    assert milano["countrycodes"] == "it"


def test_street_types_by_language() -> None:
    from cwsgeo.analysis.geocoding import TYPE_WORDS, type_words

    assert type_words(LEXICON_LANGUAGES) == TYPE_WORDS  # Barcelona: Catalan, Spanish, English
    it, fr, de = type_words(("it", "en")), type_words(("fr",)), type_words(("de", "en"))
    assert normalize_street("C.so Buenos Aires", it) == normalize_street("Corso Buenos Aires", it)
    assert normalize_street("V.le Monza", it) == "viale monza"
    assert normalize_street("Bd Saint-Germain", fr) == normalize_street(
        "Boulevard Saint-Germain", fr)
    assert normalize_street("Pl. de la Concorde", fr) == "placa concorde"
    assert normalize_street("Platz der Republik", de).startswith("placa ")
    # a language's table is not another's: "via" is a street in Italian, a type of its own
    # in Catalan ("Via Augusta")
    assert it[("via",)] == "carrer" and TYPE_WORDS[("via",)] == "via"


def test_nominatim_score_uses_the_city_types() -> None:
    from cwsgeo.analysis.geocoding import NominatimGeocoder, ParsedAddress, type_words

    answer = [{"lat": "45.47", "lon": "9.20", "address": {"road": "Viale Monza",
                                                         "house_number": "12"}}]
    parsed = ParsedAddress("V.le Monza", 12, "", None)
    with monkeypatched_bbox((9.0, 45.3, 9.4, 45.6)):
        milano = NominatimGeocoder(types=type_words(("it", "en")))._result(answer, parsed, "q")
        plain = NominatimGeocoder()._result(answer, parsed, "q")
    assert milano.status == "exact" and milano.score == 100 and plain.score < 90
    assert milano.provider == "nominatim"


def test_city_words_change_cache_keys(gaz_dir: Path) -> None:
    neutral = OfflineGeocoder.from_dir(gaz_dir)
    bcn = OfflineGeocoder.from_dir(gaz_dir, lexicon=LEXICON)
    assert neutral.lexicon_key == "" and len(bcn.lexicon_key) == 12
    task = ("address", "Calle Valencia 264", "", "")
    assert Geocoder(neutral)._offline_key(task) != Geocoder(bcn)._offline_key(task)


def test_parse_address_blank() -> None:
    assert parse_address("").street == ""
    assert parse_address("  , ").number is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parse_address_never_crashes(text: str) -> None:
    parsed = parse_address(text)
    assert parsed.number is None or parsed.number >= 0
    assert isinstance(normalize_street(text), str)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_offline_geocode_never_crashes(offline: OfflineGeocoder, text: str) -> None:
    res = offline.geocode(text, name=text)
    assert res.status in {"exact", "nearest_number", "street_only", "unmatched"}
    assert 0 <= res.score <= 100


# -- offline statuses --------------------------------------------------------------------------

def test_exact_match_variants(offline: OfflineGeocoder) -> None:
    for text in ["Calle Valencia 264", "C/ València, 264, 3º 2ª", "CARRER DE VALENCIA 264",
                 "Carrer de València, 264, 08007 Barcelona"]:
        res = offline.geocode(text)
        assert res.status == "exact", text
        assert res.matched_address == "Carrer de València 264"
        assert res.score == 100
        assert res.street_code == "900001"
        assert res.postcode == "08007"
        assert res.census_section == "02001"
        assert res.provider == "gazetteer"


@pytest.mark.parametrize(("text", "expected"), [
    ("Plaza Cataluña, 9", "Plaça de Catalunya 9"),
    ("C/ Rambla de Catalunya, 18", "Rambla de Catalunya 18"),
    ("La Rambla, 42", "Carrer la Rambla 42"),
    ("Rambla 42", "Carrer la Rambla 42"),
    ("Gran Vía 672", "Gran Via de les Corts Catalanes 672"),
    ("Travesera de Dalt 33", "Travessera de Dalt 33"),
    ("Diagonal 371", "Avinguda Diagonal 371"),
    ("Aragó 308", "Carrer d'Aragó 308"),
    ("Calle Aragón 308", "Carrer d'Aragó 308"),  # fuzzy: "aragon" vs "arago"
    ("Provenza 1", None),  # not in the fixture; no false friend
    ("Placa Gal-la Placidia, 1-3", "Plaça de Gal·la Placídia 1"),
    ("Carrer Cristobal de Moura 49", "Carrer de Cristóbal de Moura 49"),
    ("Avinguda de Borbó 2", "Avinguda dels Quinze 2"),  # previous name of a renamed street
    ("Plaza Letamendi 2", "Plaça del Doctor Letamendi 2"),  # title left out
    ("Spaces Via Augusta 123", None),  # a name in the address column: no match
    ("Carrer Número 4 Zona Franca, 12", "Carrer Número 4 Zona Franca 12"),  # digits in name
    ("C/ Numero 4 Zona Franca 13, 2º", "Carrer Número 4 Zona Franca 13"),
])
def test_street_forms(offline: OfflineGeocoder, text: str, expected: str | None) -> None:
    res = offline.geocode(text)
    if expected is None:
        assert res.status == "unmatched"
    else:
        assert res.status == "exact", res
        assert res.matched_address == expected


def test_street_with_digits_without_number(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Carrer Número 4 Zona Franca")
    assert res.status == "street_only"
    assert res.matched_address == "Carrer Número 4 Zona Franca"


@pytest.mark.parametrize(("spanish", "catalan"), [
    ("Calle San Pedro", "Carrer de Sant Pere"),
    ("Ronda Universidad", "Ronda de la Universitat"),
    ("Calle Cerdeña", "Carrer de Sardenya"),
    ("Calle Consejo de Ciento", "Carrer del Consell de Cent"),
    ("Calle Mayor de Sarrià", "Carrer Major de Sarrià"),
    ("Calle Gerona", "Carrer de Girona"),
    ("C/ Dr. Trueta", "Carrer del Doctor Trueta"),
])
def test_spanish_word_table(spanish: str, catalan: str) -> None:
    assert normalize_street(spanish) == normalize_street(catalan)


def test_letter_may_differ(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Carrer de València 19")
    assert res.status == "exact"
    assert res.matched_address == "Carrer de València 19X"
    assert "letter" in res.note
    res = offline.geocode("Carrer de València 4B")
    assert res.status == "exact"
    assert res.matched_address == "Carrer de València 4"


def test_nearest_number_same_side(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Carrer de València 7")  # 7 missing: 5 and 9 exist, 6 and 8 do not
    assert res.status == "nearest_number"
    assert res.matched_address in {"Carrer de València 5", "Carrer de València 9"}
    res = offline.geocode("Carrer de València 8")  # even side: 10 (not 9)
    assert res.matched_address == "Carrer de València 10"
    assert "same side" in res.note


def test_nearest_number_other_side(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Carrer de Mallorca 104")  # only odd numbers on this street
    assert res.status == "nearest_number"
    assert res.matched_address in {"Carrer de Mallorca 103", "Carrer de Mallorca 105"}
    assert "other side" in res.note


def test_street_only_is_a_median_address_point(offline: OfflineGeocoder, gaz_dir: Path) -> None:
    res = offline.geocode("Carrer de Mallorca")
    assert res.status == "street_only"
    assert res.matched_address == "Carrer de Mallorca"
    pts = pd.read_csv(gaz_dir / "bcn_addresses.csv", dtype=str)
    pts = pts[pts.street_code == "900017"]
    lats, lons = pts.lat.astype(float), pts.lon.astype(float)
    assert lats.min() <= res.lat <= lats.max()
    assert (res.lat, res.lon) in set(zip(lats, lons, strict=True))
    assert abs(res.lat - lats.median()) < 0.00015


def test_unmatched(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Carrer Inventat del Tot 12")
    assert res.status == "unmatched"
    assert res.lat is None and not res.located
    assert res.score < 85


def test_register_street_without_points(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Jardins de Joaquim Ruyra 3")
    assert res.status == "unmatched"
    assert "no address points" in res.note


def test_min_score_threshold(gaz_dir: Path) -> None:
    typo = "Carrer de Cristobal de Mora 49"  # "cristobal mora" vs "cristobal moura": ~96
    assert OfflineGeocoder.from_dir(gaz_dir, min_score=85).geocode(typo).status == "exact"
    strict = OfflineGeocoder.from_dir(gaz_dir, min_score=99).geocode(typo)
    assert strict.status == "unmatched"


def test_postcode_breaks_ties(offline: OfflineGeocoder) -> None:
    assert offline.geocode("Sant Pere 2").matched_address == "Carrer de Sant Pere 2"
    assert offline.geocode("Sant Pere 2", "08010").matched_address == "Ronda de Sant Pere 2"
    assert offline.geocode("Sant Pere 2, 08010 Barcelona").matched_address == \
        "Ronda de Sant Pere 2"
    # a street type named in the address beats the postcode
    assert offline.geocode("Ronda Sant Pere 2", "08003").matched_address == \
        "Ronda de Sant Pere 2"


def test_postcode_disagreement_is_noted(offline: OfflineGeocoder) -> None:
    res = offline.geocode("Carrer de València 264", "08015")
    assert res.status == "exact"
    assert "08015" in res.note


def test_false_friend_granada(offline: OfflineGeocoder) -> None:
    # "Granada" alone must not match "Ciutat de Granada" or "Granada del Penedès"
    res = offline.geocode("Carrer de la Granada, 121")
    assert res.status == "unmatched"
    res = offline.geocode("Carrer de la Granada, 121", name="Talent Garden")
    assert res.status == "unmatched"
    # the name names exactly one street that contains the address's street: use it
    res = offline.geocode("Carrer de la Granada, 121", name="WeWork Ciutat de Granada")
    assert res.status == "exact"
    assert res.matched_address == "Carrer de la Ciutat de Granada 121"
    assert res.score == 90
    assert "from the name" in res.note


# -- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("WeWork Avinguda Diagonal 371", "Avinguda Diagonal 371"),
    ("Spaces Via Augusta 123", "Via Augusta 123"),
    ("ARAGO 308", "Carrer d'Aragó 308"),
    ("Coworking - Aragon 306", "Carrer d'Aragó 306"),
    ("WeWork Passeig de Gracia 17", "Passeig de Gràcia 17"),
    ("672 GRAN VIA Business Center", "Gran Via de les Corts Catalanes 672"),  # number first
    ("Valencia264", "Carrer de València 264"),  # glued: exact street and number only
    ("mallorca105.B2", "Carrer de Mallorca 105"),
    ("CREC Letamendi 2", "Plaça del Doctor Letamendi 2"),  # title left out
])
def test_name_derived_positive(offline: OfflineGeocoder, name: str, expected: str) -> None:
    res = offline.geocode_name(name)
    assert res.located and res.from_name
    assert res.matched_address == expected
    assert res.score >= 90


@pytest.mark.parametrize("name", [
    "Aticco Bailén", "Talent Garden", "Spaces 22 Arroba", "1818 Creative Space", "Club 71",
    "Factory103", "Barcelona 22", "Coworking Aragó 999", "Plaça Catalunya Coworking",
    "Coworking Diagonal", "", "Mallorca104 Hub", "Valencia9999", "Valensia264",
    "021 COWORKING", "7dos Coworking", "Regus 22@", "Start2bee",
])
def test_name_derived_negative(offline: OfflineGeocoder, name: str) -> None:
    res = offline.geocode_name(name)
    assert res.status == "unmatched"
    assert not res.located


# -- errors ------------------------------------------------------------------------------------

def test_missing_gazetteer(tmp_path: Path) -> None:
    with pytest.raises(cwsgeo.MissingDataError, match="nowhere"):
        OfflineGeocoder.from_dir(tmp_path / "nowhere", lexicon=LEXICON)
    (tmp_path / "g").mkdir()
    with pytest.raises(cwsgeo.MissingDataError, match=r"bcn_addresses\.csv"):
        OfflineGeocoder.from_dir(tmp_path / "g", lexicon=LEXICON)


def test_gazetteer_missing_columns(tmp_path: Path, gaz_dir: Path) -> None:
    shutil.copytree(gaz_dir, tmp_path / "g")
    path = tmp_path / "g" / "bcn_addresses.csv"
    df = pd.read_csv(path, dtype=str).drop(columns=["lat"])
    df.to_csv(path, index=False)
    with pytest.raises(cwsgeo.GeocodingError, match=r"bcn_addresses\.csv.*lat"):
        OfflineGeocoder.from_dir(tmp_path / "g", lexicon=LEXICON)


# -- cache -------------------------------------------------------------------------------------

def test_cache_hit_does_not_load_gazetteer(tmp_path: Path, gaz_dir: Path) -> None:
    first = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path)
    res1 = first.geocode("Calle Valencia 264")
    name1 = first.geocode_name("WeWork Avinguda Diagonal 371")
    assert first.offline.is_loaded
    first.close()
    assert (tmp_path / "geocode.sqlite").is_file()

    second = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path)
    assert second.geocode("Calle Valencia 264") == res1
    # keys are folded: a case variant reuses the answer, with its own query text
    variant = second.geocode("CALLE VALENCIA 264")
    assert variant.query == "CALLE VALENCIA 264"
    assert variant.matched_address == res1.matched_address
    assert second.geocode_name("WeWork Avinguda Diagonal 371") == name1
    assert not second.offline.is_loaded
    # a name without digits needs neither the cache nor the gazetteer
    assert second.geocode_name("Talent Garden").status == "unmatched"
    assert not second.offline.is_loaded
    second.close()


def test_corrupt_cache_is_set_aside(tmp_path: Path, gaz_dir: Path,
                                    caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "geocode.sqlite").write_bytes(b"this is not a database" * 100)
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path)
    assert geo.geocode("Calle Valencia 264").status == "exact"
    geo.close()
    assert list(tmp_path.glob("geocode.sqlite.corrupt-*"))
    assert "unreadable" in caplog.text
    again = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path)
    assert again.geocode("Calle Valencia 264").status == "exact"
    assert not again.offline.is_loaded
    again.close()


def test_cache_key_follows_gazetteer_content(tmp_path: Path, gaz_dir: Path) -> None:
    gdir = tmp_path / "g"
    shutil.copytree(gaz_dir, gdir)
    a = Geocoder.from_dir(gdir, **BCN, cache_dir=tmp_path / "cache")
    assert a.geocode("Carrer de València 264").status == "exact"
    a.close()
    path = gdir / "bcn_addresses.csv"
    df = pd.read_csv(path, dtype=str)
    df = df[~((df.street_code == "900001") & (df.number == "264"))]
    df.to_csv(path, index=False)
    b = Geocoder.from_dir(gdir, **BCN, cache_dir=tmp_path / "cache")
    assert b.geocode("Carrer de València 264").status == "nearest_number"
    assert b.offline.is_loaded
    b.close()


# -- table -------------------------------------------------------------------------------------

def _inventory() -> pd.DataFrame:
    rows = [
        # id, name, address, postcode, lat, lon
        ("a", "Valencia Space", "Calle Valencia 264", "", np.nan, np.nan),
        ("b", "WeWork Avinguda Diagonal 371", "", "", np.nan, np.nan),
        ("c", "Aticco Bailén", "", "", np.nan, np.nan),
        ("d", "Near", "Carrer d'Aragó 308", "08009", np.nan, np.nan),
        ("e", "Far", "Carrer d'Aragó 308", "08009", np.nan, np.nan),
        ("f", "Coords only", "", "", 41.40, 2.17),
        ("g", "Nowhere", "Carrer Inventat 3", "", np.nan, np.nan),
        ("h", "Street only", "Provença", "", np.nan, np.nan),
        ("i", "Ronda", "Ronda Sant Pere", "", np.nan, np.nan),
    ]
    df = pd.DataFrame(rows, columns=["id", "name", "address", "postcode", "lat", "lon"])
    df["innovation_type"] = pd.array([1, 2, None, 3, 1, None, None, None, 2], dtype="Int64")
    df["source_row"] = range(2, 2 + len(df))
    return df


def test_geocode_table(tmp_path: Path, gaz_dir: Path) -> None:
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path)
    ref = geo.geocode("Carrer d'Aragó 308")
    df = _inventory()
    # "d" has its own point 50 m north of the address; "e" 1 km away
    df.loc[3, ["lat", "lon"]] = [ref.lat + 50 / 111_195, ref.lon]
    df.loc[4, ["lat", "lon"]] = [ref.lat + 1000 / 111_195, ref.lon]
    before = df.copy()
    out = geocode_table(df, geo, progress=True)
    pd.testing.assert_frame_equal(df, before)  # input untouched

    assert out.crs.to_epsg() == 4326
    assert list(out.columns[:len(df.columns)]) == list(df.columns)
    for col in GEOCODE_COLUMNS:
        assert col in out.columns
    assert len(out) == len(df)
    o = out.set_index("id")

    assert o.loc["a", "location_method"] == "gazetteer"
    assert o.loc["a", "geocode_status"] == "exact"
    assert o.loc["a", "matched_address"] == "Carrer de València 264"
    assert o.loc["a", "matched_postcode"] == "08007"
    assert o.loc["a", "matched_census_section"] == "02001"
    assert o.loc["a", "geocode_query"] == "Calle Valencia 264"
    assert not o.loc["a", "address_from_name"]
    assert o.loc["a", "geometry"].y == pytest.approx(o.loc["a", "lat"])

    assert o.loc["b", "address_from_name"]
    assert o.loc["b", "location_method"] == "gazetteer"
    assert o.loc["b", "matched_address"] == "Avinguda Diagonal 371"
    assert o.loc["b", "geocode_query"] == "Avinguda Diagonal 371"

    assert o.loc["c", "geocode_status"] == "not_geocoded"
    assert o.loc["c", "location_method"] == "none"
    assert o.loc["c", "geometry"] is None
    assert math.isnan(o.loc["c", "lat"]) and math.isnan(o.loc["c", "geocode_score"])

    # rows with their own coordinates keep them; the address checks them
    for rid, flagged in (("d", False), ("e", True)):
        assert o.loc[rid, "location_method"] == "input"
        assert o.loc[rid, "lat"] == df.set_index("id").loc[rid, "lat"]
        assert o.loc[rid, "geocode_lat"] == pytest.approx(ref.lat)
        assert o.loc[rid, "coord_flag"] == flagged
    assert 45 < o.loc["d", "coord_check_m"] < 56
    assert 990 < o.loc["e", "coord_check_m"] < 1010

    assert o.loc["f", "location_method"] == "input"
    assert o.loc["f", "geocode_status"] == "not_geocoded"
    assert math.isnan(o.loc["f", "coord_check_m"]) and not o.loc["f", "coord_flag"]
    assert o.loc["f", "geometry"].x == pytest.approx(2.17)

    assert o.loc["g", "geocode_status"] == "unmatched"
    assert o.loc["g", "location_method"] == "none"
    assert o.loc["g", "geometry"] is None
    assert o.loc["h", "geocode_status"] == "unmatched"  # Provença is not in the fixture
    assert o.loc["i", "geocode_status"] == "street_only"
    assert out["coord_flag"].dtype == bool
    assert out["address_from_name"].dtype == bool
    geo.close()


def test_geocode_table_flag_threshold_follows_settings(
        tmp_path: Path, gaz_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    geo = Geocoder.from_dir(gaz_dir, **BCN)
    ref = geo.geocode("Carrer d'Aragó 308")
    df = pd.DataFrame({"id": ["x"], "name": ["x"], "address": ["Carrer d'Aragó 308"],
                       "postcode": [""], "lat": [ref.lat + 100 / 111_195], "lon": [ref.lon]})
    assert not geocode_table(df, geo)["coord_flag"].iloc[0]
    monkeypatch.setattr(cwsgeo.settings, "coord_mismatch_m", 50.0)
    assert geocode_table(df, geo)["coord_flag"].iloc[0]


def test_geocode_table_minimal_and_empty_frames(gaz_dir: Path) -> None:
    geo = Geocoder.from_dir(gaz_dir, **BCN)
    df = pd.DataFrame({"address": ["Diagonal 371", None, float("nan"), "Diagonal 371"]},
                      index=[10, 5, 7, 3])
    out = geocode_table(df, geo)
    assert list(out.index) == [10, 5, 7, 3]
    assert list(out["geocode_status"]) == ["exact", "not_geocoded", "not_geocoded", "exact"]
    assert out.loc[3, "geometry"].x == pytest.approx(out.loc[3, "lon"])
    assert out.loc[5, "geometry"] is None
    empty = geocode_table(pd.DataFrame(columns=["id", "name", "address", "postcode", "lat",
                                                "lon"]), geo)
    assert len(empty) == 0 and "geocode_status" in empty.columns


# -- Nominatim ---------------------------------------------------------------------------------

def _nominatim_answer(data_dir: Path, name: str) -> object:
    return json.loads((data_dir / "geocoding" / name).read_text(encoding="utf-8"))


def _rows(path: Path, provider: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM geocode WHERE provider = ?",
                            (provider,)).fetchone()[0]


@pytest.mark.usefixtures("no_osmnx_pause")
def test_nominatim_fallback_and_cache(tmp_path: Path, gaz_dir: Path, data_dir: Path,
                                      canned_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cwsgeo.settings, "nominatim_url", canned_server.url + "/")
    canned_server.add("GET", "/search", json_body=_nominatim_answer(
        data_dir, "nominatim_pujades.json"))
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path, online=True)

    # the gazetteer resolves this one: no request
    assert geo.geocode("Calle Valencia 264").provider == "gazetteer"
    assert canned_server.requests == []

    res = geo.geocode("Carrer de Pujades, 69", "08005")
    assert res.provider == "nominatim"
    assert res.status == "exact"
    assert res.lat == pytest.approx(41.398165) and res.lon == pytest.approx(2.192487)
    assert res.score == 100
    assert len(canned_server.requests) == 1
    seen = canned_server.requests[0]
    assert seen.path == "/search"
    assert seen.headers["User-Agent"] == cwsgeo.settings.user_agent
    assert seen.query["q"] == ["Carrer de Pujades 69, 08005 Barcelona, Spain"]
    assert seen.query["bounded"] == ["1"]
    assert seen.query["viewbox"] == ["2.05,41.47,2.23,41.31"]

    # second call: from the cache, no request; a new Geocoder also uses the cache
    assert geo.geocode("Carrer de Pujades, 69", "08005") == res
    geo.close()
    again = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path, online=True)
    assert again.geocode("Carrer de Pujades, 69", "08005") == res
    assert len(canned_server.requests) == 1
    assert _rows(tmp_path / "geocode.sqlite", "nominatim") == 1

    # online=False leaves it unmatched without asking
    assert again.geocode("Carrer de Pujades, 71", online=False).status == "unmatched"
    assert len(canned_server.requests) == 1
    again.close()


@pytest.mark.usefixtures("no_osmnx_pause")
def test_nominatim_through_table(tmp_path: Path, gaz_dir: Path, data_dir: Path, canned_server,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cwsgeo.settings, "nominatim_url", canned_server.url + "/")
    canned_server.add("GET", "/search", json_body=_nominatim_answer(
        data_dir, "nominatim_pujades.json"))
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path)  # offline by default
    df = pd.DataFrame({"id": ["p", "q"], "name": ["Itnig", "Coords"],
                       "address": ["Carrer de Pujades 69", "Carrer de Pujades 69"],
                       "postcode": ["", ""], "lat": [np.nan, 41.4], "lon": [np.nan, 2.19]})
    out = geocode_table(df, geo).set_index("id")
    assert out.loc["p", "location_method"] == "none"
    assert canned_server.requests == []
    out = geocode_table(df, geo, online=True).set_index("id")
    assert out.loc["p", "location_method"] == "nominatim"
    assert out.loc["p", "geocode_status"] == "exact"
    assert out.loc["p", "matched_address"] == "Carrer de Pujades 69"
    # a row with its own coordinates is not sent to Nominatim just to be checked
    assert out.loc["q", "location_method"] == "input"
    assert len(canned_server.requests) == 1
    geo.close()


@pytest.mark.usefixtures("no_osmnx_pause")
def test_nominatim_not_found_is_cached(tmp_path: Path, gaz_dir: Path, data_dir: Path,
                                       canned_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cwsgeo.settings, "nominatim_url", canned_server.url + "/")
    canned_server.add("GET", "/search", json_body=[])
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path, online=True)
    assert geo.geocode("Carrer Inventat 3").status == "unmatched"
    assert geo.geocode("Carrer Inventat 3").status == "unmatched"
    assert len(canned_server.requests) == 1
    assert _rows(tmp_path / "geocode.sqlite", "nominatim") == 1
    geo.close()


@pytest.mark.usefixtures("no_osmnx_pause")
def test_nominatim_other_street_or_outside_city_rejected(
        tmp_path: Path, gaz_dir: Path, data_dir: Path, canned_server,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cwsgeo.settings, "nominatim_url", canned_server.url + "/")
    answer = _nominatim_answer(data_dir, "nominatim_pujades.json")
    canned_server.add("GET", "/search", json_body=answer)
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path, online=True)
    res = geo.geocode("Carrer de Sardenya 12")  # answer is on Carrer de Pujades
    assert res.status == "unmatched" and "another street" in res.note
    outside = [{**answer[0], "lat": "40.4168", "lon": "-3.7038"}]
    canned_server.clear()
    canned_server.add("GET", "/search", json_body=outside)
    res = geo.geocode("Carrer de Pujades 71")
    assert res.status == "unmatched" and "outside" in res.note
    geo.close()


@pytest.mark.usefixtures("no_osmnx_pause")
@pytest.mark.parametrize("failure", ["http500", "malformed", "refused"])
def test_nominatim_failure_raises_and_caches_nothing(
        tmp_path: Path, gaz_dir: Path, data_dir: Path, canned_server,
        monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    if failure == "refused":
        monkeypatch.setattr(cwsgeo.settings, "nominatim_url", "http://127.0.0.1:9/")
    else:
        monkeypatch.setattr(cwsgeo.settings, "nominatim_url", canned_server.url + "/")
        if failure == "http500":
            canned_server.add("GET", "/search", status=500, body="oops")
        else:
            canned_server.add("GET", "/search", body='[{"lat": "41.3', content_type="text/json")
    monkeypatch.setattr(cwsgeo.settings, "http_retries", 1)
    geo = Geocoder.from_dir(gaz_dir, **BCN, cache_dir=tmp_path, online=True)
    with pytest.raises(cwsgeo.DataSourceError, match="Nominatim"):
        geo.geocode("Carrer de Pujades 69")
    assert _rows(tmp_path / "geocode.sqlite", "nominatim") == 0
    assert not list((tmp_path / "osmnx").glob("*.json"))
    # offline answers of the same batch stay cached
    assert _rows(tmp_path / "geocode.sqlite", "gazetteer") == 1

    # once the server works, the address is asked again
    if failure != "refused":
        canned_server.clear()
        canned_server.add("GET", "/search", json_body=_nominatim_answer(
            data_dir, "nominatim_pujades.json"))
        assert geo.geocode("Carrer de Pujades 69").provider == "nominatim"
    geo.close()


# -- config ------------------------------------------------------------------------------------

def test_from_config(tmp_path: Path, gaz_dir: Path) -> None:
    raw = tmp_path / "data" / "raw" / "addresses"
    shutil.copytree(gaz_dir, raw)
    cfg = cwsgeo.Config.from_dict({"geocoding": {"online": True, "min_score": 90}},
                                  root=tmp_path)
    with open_geocoder(cfg, None) as geo:
        assert geo.offline.folder == raw
        assert geo.online and geo.offline.min_score == 90
        assert geo.nominatim.cache_dir == cfg.cache_dir
        assert geo.store.path == cfg.cache_dir / "geocode.sqlite"


# -- real bundle -------------------------------------------------------------------------------

@pytest.mark.bundle
def test_bundle_accuracy_targets(bundle_dir: Path, tmp_path: Path) -> None:
    """>= 48 of the 53 addressed rows resolve; median error <= 30 m on the 20 known points."""
    cw = bundle_dir / "coworking"
    rows = pd.read_csv(cw / "coworking_addresses_only.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(cw / "coworking_geocode_truth.csv", dtype={"id": str}).set_index("id")
    rows = rows[rows.address.str.strip() != ""]
    assert len(rows) == 53
    geo = Geocoder.from_dir(bundle_dir / "addresses", **BCN, cache_dir=tmp_path)
    ok = 0
    errors = []
    for r in rows.itertuples():
        res = geo.geocode(r.address, r.postcode or None, name=r.name)
        has_number = parse_address(r.address).number is not None
        if (has_number and res.status in {"exact", "nearest_number"}) or (
                not has_number and res.status == "street_only"):
            ok += 1
        if r.id in truth.index:
            assert res.located, r.address
            errors.append(_haversine_m(res.lat, res.lon, *truth.loc[r.id, ["lat", "lon"]]))
    assert ok >= 48
    assert len(errors) == 20
    assert float(np.median(errors)) <= 30
    geo.close()


@pytest.mark.bundle
def test_bundle_inventory_names(bundle_dir: Path, tmp_path: Path) -> None:
    # tests may use the Google coordinates (never a default: see test_real_inventory)
    inv = cwsgeo.read_inventory(bundle_dir / "coworking" / "coworking_spaces.csv",
                                use_restricted_coordinates=True)
    geo = Geocoder.from_dir(bundle_dir / "addresses", **BCN, cache_dir=tmp_path)
    geo.offline.load()  # speed: benchmarks/geocode_accuracy.py prints load and per-address time
    out = geocode_table(inv.data, geo)
    assert len(out) == 289
    assert (out.location_method == "input").sum() == 20
    assert (out.location_method == "gazetteer").sum() >= 33 + 10
    assert out.loc[out.location_method == "input", "coord_check_m"].notna().all()
    named = out[out.address_from_name]
    assert len(named) >= 10
    assert "Via Augusta 123" in set(named.matched_address)
    assert not named.name.str.contains("Talent Garden|Aticco Bailén").any()
    # cached second run does not load the gazetteer
    geo.close()
    geo2 = Geocoder.from_dir(bundle_dir / "addresses", **BCN, cache_dir=tmp_path)
    out2 = geocode_table(inv.data, geo2)
    assert not geo2.offline.is_loaded
    pd.testing.assert_frame_equal(pd.DataFrame(out.drop(columns="geometry")),
                                  pd.DataFrame(out2.drop(columns="geometry")))
    geo2.close()


def test_built_index_is_cached_and_gives_the_same_answers(
        gaz_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cwsgeo.build import geocoder as build_geocoder
    from cwsgeo.build.cache import MEMOS, FileStore

    texts = ["Calle Valencia 264", "Plaza Cataluña, 9", "La Rambla, 42", "Provenza 1"]
    plain = OfflineGeocoder.from_dir(gaz_dir, lexicon=LEXICON)
    expected = [plain.geocode(t) for t in texts]
    parsed: list[Path] = []

    def build_index(folder: Path) -> GazetteerIndex:
        parsed.append(folder)
        return build_gazetteer_index(folder)

    monkeypatch.setattr(build_geocoder, "build_gazetteer_index", build_index)
    store = FileStore(tmp_path / "gazetteer")

    first = build_geocoder.offline_geocoder(gaz_dir, index_store=store)
    first.load()
    assert parsed == [gaz_dir]  # a miss: parsed and stored
    MEMOS.clear()  # a new process, in effect
    second = build_geocoder.offline_geocoder(gaz_dir, index_store=store)
    second.load()
    assert parsed == [gaz_dir]  # a hit: read back from the store
    assert [second.geocode(t) for t in texts] == expected
    assert second.version == plain.version
    # a changed gazetteer file is a different key: parsed again
    edited = tmp_path / "gaz"
    edited.mkdir()
    for path in gaz_dir.iterdir():
        (edited / path.name).write_bytes(path.read_bytes())
    with (edited / "bcn_addresses.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    third = build_geocoder.offline_geocoder(edited, index_store=store)
    third.load()
    assert parsed == [gaz_dir, edited]  # a miss: parsed again
