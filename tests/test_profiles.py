"""City profiles: the built-in Barcelona one, defaults for any place, the project's [city]
section, and the settings a profile applies for one build."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cwsgeo import ConfigError, settings
from cwsgeo.analysis.geocoding import CityLexicon
from cwsgeo.build.config import Config
from cwsgeo.build.profiles import (
    CityLiterature,
    CityProfile,
    PopulationSource,
    applied,
    builtin_profiles,
    city_lexicon,
    city_literature,
    load_profile,
    profile_for_place,
    slugify,
    toml_string,
    utm_crs,
)


def test_barcelona_is_built_in() -> None:
    assert "barcelona" in builtin_profiles()
    bcn = load_profile("barcelona")
    assert (bcn.crs, bcn.district_level, bcn.neighbourhood_level) == ("EPSG:25831", "9", "10")
    assert bcn.population.kind == "opendata_bcn"
    assert bcn.languages[0] == "ca"


@pytest.mark.parametrize(("lon", "lat", "crs"), [
    (2.17, 41.39, "EPSG:32631"), (9.19, 45.46, "EPSG:32632"), (21.01, 52.23, "EPSG:32634"),
    (-0.13, 51.51, "EPSG:32630"), (-43.2, -22.9, "EPSG:32723"), (180.0, 0.0, "EPSG:32660")])
def test_utm_zones(lon: float, lat: float, crs: str) -> None:
    assert utm_crs(lon, lat) == crs


def test_profile_for_any_place_round_trips_through_toml(tmp_path: Path) -> None:
    prof = profile_for_place("Warszawa, Polska")
    assert (prof.slug, prof.country, prof.crs, prof.population.kind) == (
        "warszawa", "PL", "auto", "ghsl")
    assert prof.work_crs(21.01, 52.23) == "EPSG:32634"
    with pytest.raises(ConfigError, match="UTM zone"):
        prof.work_crs()
    path = tmp_path / "city.toml"
    path.write_text(prof.to_toml(), encoding="utf-8")
    assert load_profile("city.toml", root=tmp_path) == prof
    assert load_profile("barcelona") == load_profile(_written(tmp_path, load_profile("barcelona")))
    assert slugify("Málaga, España") == "malaga-espana"


@pytest.mark.parametrize("text", ['Sant "Andreu" \\ Nord', "tab\there", "line\nbreak",
                                  "nul\x00 unit\x1f del\x7f", "Málaga\u2028"])
def test_toml_strings_round_trip_any_text(text: str, tmp_path: Path) -> None:
    import tomllib

    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text
    prof = dataclasses.replace(profile_for_place("Warszawa, Polska"), name=text)
    path = tmp_path / "city.toml"
    path.write_text(prof.to_toml(), encoding="utf-8")
    assert load_profile("city.toml", root=tmp_path).name == text


def _written(folder: Path, prof: CityProfile) -> Path:
    path = folder / f"{prof.slug}.toml"
    path.write_text(prof.to_toml(), encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "match"), [
    ("[city]\nname='x'\nplace='x'\nslug='x'\ncolour='red'\n", "unknown key"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\n[population]\nkind='census'\n", "kind must be"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\ncrs='EPSG:4326'\n", "not projected"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\ncrs='EPSG:nope'\n", "not a CRS"),
    ("[city]\nname='x'\n", "missing"),
    ("[town]\nname='x'\n", r"\[city\] table"),
    ("[city\n", "not valid TOML"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\n[transit]\nrail='s-bahn'\n", "s-bahn"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\n[transit]\nmodes=['bus','bus']\n", "distinct"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\n[transit]\noperators=[['metro','(']]\n",
     r"\[transit\]"),
    ("[city]\nname='x'\nplace='x'\nslug='x'\n[transit]\ncolours=1\n", "unknown key"),
])
def test_bad_profiles_name_the_file(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as info:
        load_profile(path)
    assert "bad.toml" in str(info.value)
    with pytest.raises(ConfigError, match="not found"):
        load_profile("atlantis")


def test_project_city_section(tmp_path: Path) -> None:
    assert Config.from_dict({}, root=tmp_path).profile.slug == "barcelona"
    _written(tmp_path, profile_for_place("Utrecht, Nederland"))
    cfg = Config.from_dict({"city": {"profile": "utrecht.toml"},
                            "data": {"place": "Gemeente Utrecht, Nederland"}}, root=tmp_path)
    assert cfg.profile.place == "Gemeente Utrecht, Nederland"
    assert (cfg.profile.district_level, cfg.profile.neighbourhood_level) == ("10", "11")
    with pytest.raises(ConfigError, match="unknown key"):
        Config.from_dict({"city": {"name": "x"}}, root=tmp_path)


def test_applied_sets_and_restores_settings() -> None:
    before = settings.crs_work, settings.city_bbox
    prof = CityProfile("Milano", "Milano, Italia", "milano", bbox=(9.0, 45.3, 9.3, 45.6),
                       population=PopulationSource("none"))
    with applied(prof):
        assert settings.crs_work == "EPSG:32632"
        assert settings.city_bbox == (9.0, 45.3, 9.3, 45.6)
    assert (settings.crs_work, settings.city_bbox) == before
    with pytest.raises(RuntimeError), applied(prof, crs="EPSG:3003"):
        assert settings.crs_work == "EPSG:3003"
        raise RuntimeError
    assert (settings.crs_work, settings.city_bbox) == before


def test_barcelona_words_and_literature_come_from_its_profile() -> None:
    bcn = load_profile("barcelona")
    words = city_lexicon(bcn)
    assert {"barcelona", "bcn"} <= words.city_words
    assert "catalunya" in words.address_stop_words
    assert any(name == "Sagrada Família" for name, _, _ in words.landmarks)
    assert ("22@", ("B66",)) in words.area_aliases and "Badalona" in words.outside_places
    lit = city_literature(bcn)
    assert len(lit.published) == 4 and "Institut Cerdà (2019)" in lit.published[2]
    assert lit.related_work and "Barcelona" in lit.related_work[0]


def test_another_city_gets_no_barcelona_words_or_literature() -> None:
    from cwsgeo.outputs.findings import report_sections

    milano = profile_for_place("Milano, Italia")
    assert city_lexicon(milano) == CityLexicon() and city_literature(milano) == CityLiterature()
    lit = city_literature(milano)
    sections = report_sections({"meta": {}, "inputs": {}, "tests": []}, {}, {},
                               published=[p[:3] for p in lit.published],
                               related_work=lit.related_work)
    text = repr(sections)
    assert "Barcelona" not in text and "Institut Cerd" not in text
    assert [t for s in sections for _, t in s.tables if "Published" in t] == []


def test_lexicon_file_of_a_user_profile(tmp_path: Path) -> None:
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "milano.toml").write_text(
        'names = ["Milano", "Milan"]\nregion_names = ["Lombardia", "Italia"]\n'
        'landmarks = [["Duomo", ["Duomo di Milano"], "Piazza del Duomo 1"]]\n'
        'outside_places = ["Sesto San Giovanni"]\n', encoding="utf-8")
    (tmp_path / "city.toml").write_text(
        "[city]\nname='Milano'\nplace='Milano, Italia'\nslug='milano'\n"
        "lexicon='words/milano.toml'\n", encoding="utf-8")
    words = city_lexicon(load_profile("city.toml", root=tmp_path))
    assert words.city_words == {"milano", "milan"} and words.landmarks[0][0] == "Duomo"
    assert "lombardia" in words.address_stop_words and words.area_aliases == ()
    (tmp_path / "words" / "milano.toml").write_text("nomi = ['x']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        city_lexicon(load_profile("city.toml", root=tmp_path))
    (tmp_path / "words" / "milano.toml").unlink()
    with pytest.raises(ConfigError, match="unreadable"):
        city_lexicon(load_profile("city.toml", root=tmp_path))


def test_area_words_of_a_profile(tmp_path: Path) -> None:
    """What people call the two levels: Barcelona's own, a country's, or the English words."""
    from cwsgeo.outputs.labels import AreaLabels

    assert load_profile("barcelona").area_labels() == AreaLabels(
        "district", "districts", "barri", "barris")
    assert profile_for_place("Milano, Italia").area_labels() == AreaLabels(
        "municipio", "municipi", "quartiere", "quartieri")
    assert profile_for_place("Berlin, Deutschland").neighbourhood_label == (
        "Ortsteil", "Ortsteile")
    assert profile_for_place("Kraków, Polska").area_labels() == AreaLabels()
    words = profile_for_place("Leeds, United Kingdom", neighbourhood_label=("ward", "wards"))
    assert words.area_labels().title("barris") == "Wards"
    base = "[city]\nname='x'\nplace='x'\nslug='x'\n"
    path = tmp_path / "city.toml"
    path.write_text(base + "district_label='sestiere'\nneighbourhood_label=['rione', 'rioni']\n",
                    encoding="utf-8")
    prof = load_profile(path)
    assert (prof.district_label, prof.neighbourhood_label) == (
        ("sestiere", "sestieres"), ("rione", "rioni"))
    assert load_profile(_written(tmp_path, prof)) == prof
    for bad in ("''", "['a', 'b', 'c']", "3"):
        path.write_text(base + f"neighbourhood_label={bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="neighbourhood_label must be"):
            load_profile(path)


def test_transit_modes_come_from_the_profile(tmp_path: Path) -> None:
    """Issue 14: Barcelona's operator modes are its profile's; any other city's are generic."""
    bcn = load_profile("barcelona").transit
    assert bcn.modes == ("metro", "tram", "fgc", "rodalies", "bus", "funicular")
    assert bcn.rail == "rodalies" and bcn.operator_mode("ferrocarrils de la generalitat") == "fgc"
    milan = profile_for_place("Milano, Italia")
    assert milan.transit.modes == ("metro", "tram", "rail", "bus", "funicular", "ferry")
    assert milan.transit.operators == ()
    text = milan.to_toml().replace('rail = "rail"', 'rail = "s-bahn"').replace(
        '"rail", "bus"', '"s-bahn", "bus"')
    text += "operators = [['metro', '\\bu-bahn\\b']]\nmerge_m = { s-bahn = 300.0 }\n"
    (tmp_path / "city.toml").write_text(text, encoding="utf-8")
    own = load_profile(tmp_path / "city.toml").transit
    assert own.modes == ("metro", "tram", "s-bahn", "bus", "funicular", "ferry")
    assert own.operator_mode("u-bahn berlin") == "metro"
    assert own.merge_distances["s-bahn"] == 300.0
    assert load_profile(tmp_path / "city.toml").to_toml().count("[transit]") == 1


def test_residents_note_names_the_population_source() -> None:
    # Barcelona's figure keeps its subtitle; another city names its grid
    assert load_profile("barcelona").population.residents_note() == (
        "Padró 1/1/2024, interpolated from census sections by area")
    assert profile_for_place("Milano, Italia").population.residents_note() == (
        "GHS-POP 2025, interpolated from grid cells by area")
    assert PopulationSource("none").residents_note() == "no population source"


def test_review_mends_city_settings_digest_place_and_threads(tmp_path: Path) -> None:
    """The build's city settings, the fetch's profile digest, a place override, init retries
    and single-threaded workers (issue 14 review)."""
    from cwsgeo import MissingDataError
    from cwsgeo._errors import CwsgeoError
    from cwsgeo.build.batch import _require_single_threaded
    from cwsgeo.build.profiles import city_settings, profile_digest
    from cwsgeo.build.project import init_project
    from cwsgeo.build.sources import _stale

    _written(tmp_path, profile_for_place("Milano, Italia", crs="EPSG:3003"))
    cfg = Config.from_dict({"city": {"profile": "milano.toml"}}, root=tmp_path)
    # an explicit CRS wins over the manifest's; the fetched box replaces Barcelona's default
    with city_settings(cfg.profile, {"crs": "EPSG:32632", "bbox": [9.0, 45.3, 9.3, 45.6]}):
        assert settings.crs_work == "EPSG:3003"
        assert settings.city_bbox == (9.0, 45.3, 9.3, 45.6)
    auto = Config.from_dict({"city": {"profile": _written(
        tmp_path, profile_for_place("Torino, Italia")).name}}, root=tmp_path)
    with pytest.raises(MissingDataError, match="cwsgeo fetch"):
        city_settings(auto.profile, None)
    # a changed profile makes data/raw stale
    manifest = {"source": "mirror", "mirror": str(cfg.mirror_dir), "files": [],
                "city": profile_digest(cfg.profile)}
    assert _stale(cfg, manifest) is None
    assert "profile changed" in str(_stale(cfg, {**manifest, "city": "0" * 16}))
    # another place: the profile's box is not the new place's
    girona = Config.from_dict({"data": {"place": "Girona, Spain"}}, root=tmp_path)
    assert girona.profile.place == "Girona, Spain" and girona.profile.bbox is None
    # an init interrupted after city.toml is made again
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "city.toml").write_text("half", encoding="utf-8")
    assert init_project(tmp_path / "p", place="Milano, Italia").name == "cwsgeo.toml"

    class Client:
        def __init__(self, n: int) -> None:
            self.n = n

        def nthreads(self) -> dict[str, int]:
            return {"tcp://a:1": 1, "tcp://b:1": self.n}

    _require_single_threaded(Client(1))  # type: ignore[arg-type]
    with pytest.raises(CwsgeoError, match="--nthreads 1"):
        _require_single_threaded(Client(4))  # type: ignore[arg-type]


def test_train_means_the_city_rail_mode_and_transit_words_are_checked(tmp_path: Path) -> None:
    bcn = load_profile("barcelona")
    assert city_lexicon(bcn).transit_word_modes["train"] == "rodalies"  # not the generic "rail"
    assert "train" not in city_lexicon(profile_for_place("Warszawa, Polska")).transit_word_modes
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text('transit_words = [["sbahn", "s-bahn"]]\n', encoding="utf-8")
    city = dataclasses.replace(profile_for_place("Berlin, Deutschland"), lexicon=str(lexicon))
    with pytest.raises(ConfigError, match=r"lexicon .*lexicon.toml: transit_words name mode"
                                          r"\(s\) s-bahn that the city's \[transit\] modes"):
        city_lexicon(city)
