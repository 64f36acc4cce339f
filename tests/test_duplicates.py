"""Possible duplicates in the inventory: find_duplicates, merge_duplicates, duplicate_problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cwsgeo.analysis.inventory.duplicates import (
    DUPLICATE_COLUMNS,
    NAME_NOISE,
    duplicate_problems,
    duplicate_summary,
    find_duplicates,
    merge_duplicates,
    space_name_key,
)
from cwsgeo.build.profiles import city_lexicon, load_profile

# Passeig de Gràcia 17 and points a few metres / ~1 km east of it (EPSG:4326)
LAT, LON = 41.38978, 2.16733
M_LON = 1 / (111_320 * np.cos(np.radians(LAT)))  # degrees of longitude per metre


def _frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Rows with id, name, optional address and ``dx`` (metres east of the base point)."""
    df = pd.DataFrame(rows)
    df["source_row"] = np.arange(2, len(df) + 2)
    dx = df.pop("dx") if "dx" in df.columns else pd.Series(np.nan, index=df.index)
    geoms = [None if pd.isna(d) else gpd.points_from_xy([LON + d * M_LON], [LAT])[0]
             for d in dx]
    return gpd.GeoDataFrame(df, geometry=geoms, crs=4326)


def _groups(found: pd.DataFrame) -> list[tuple[bool, str, list[str]]]:
    return [(bool(g["certain"].iloc[0]), str(g["reasons"].iloc[0]), list(g["id"]))
            for _, g in found.groupby("group")]


@pytest.mark.parametrize(("name", "key"), [
    ("NETWORKIA Business Center, S.L.", "networkia business center"),
    ("Espacio Coworking Àtic", "atic"),
    ("The Foundery Barcelona", "foundery barcelona"),  # no city's name is noise by default
    ("CO-WORKING Llum", "llum"),
    ("Cowork", "cowork"),  # nothing left: the folded name
    ("  Almogàvers 180 Business Center ", "almogavers 180 business center"),
])
def test_names_are_normalised(name: str, key: str) -> None:
    assert space_name_key(name) == key


def test_city_words_come_from_the_caller() -> None:
    words = city_lexicon(load_profile("barcelona")).city_words
    assert space_name_key("The Foundery Barcelona", NAME_NOISE | words) == "foundery"
    assert space_name_key("Talent Garden Milano", NAME_NOISE | {"milano"}) == "talent garden"


def test_same_point_and_near_same_name_is_certain() -> None:
    frame = _frame([
        {"id": "a", "name": "Almogàvers 180 Business Center", "dx": 0.0},
        {"id": "b", "name": "ALMOGAVERS 180 business center.", "dx": 3.0},
        {"id": "c", "name": "Other place", "dx": 500.0},
    ])
    found = find_duplicates(frame)
    assert tuple(found.columns) == DUPLICATE_COLUMNS
    assert _groups(found) == [(True, "name+point", ["a", "b"])]
    assert found["source_row"].tolist() == [2, 3]
    assert found["distance_m"].tolist() == pytest.approx([0.0, 3.0], abs=0.2)


def test_same_point_alone_or_different_numbers_is_only_possible() -> None:
    frame = _frame([
        {"id": "a", "name": "CREC Letamendi 1", "dx": 0.0},
        {"id": "b", "name": "CREC Letamendi 7", "dx": 0.0},   # numbers disagree
        {"id": "c", "name": "Oficina Balmes 177", "dx": 800.0},
        {"id": "d", "name": "Coworking Platon Balmes 177", "dx": 820.0},  # 20 m
        {"id": "e", "name": "Far away", "dx": 900.0},  # 80 m from d
    ])
    assert _groups(find_duplicates(frame)) == [(False, "point", ["a", "b"]),
                                               (False, "point", ["c", "d"])]


def test_same_name_and_address_without_points_is_certain() -> None:
    frame = _frame([
        {"id": "a", "name": "Aticco Bailén", "address": "Carrer de Bailèn, 105"},
        {"id": "b", "name": "ATICCO BAILEN", "address": "carrer de bailen 105"},
        {"id": "c", "name": "Aticco Bailén", "address": "Carrer de Bailèn, 11"},
    ])
    assert _groups(find_duplicates(frame)) == [(True, "name+address", ["a", "b"]),
                                               (False, "name+address", ["a", "b", "c"])]


def test_a_bare_operator_name_fits_no_branch_but_a_single_one() -> None:
    frame = _frame([
        {"id": "w", "name": "WeWork"},
        {"id": "w1", "name": "WeWork Diagonal 444"},
        {"id": "w2", "name": "WeWork Glòries"},
        {"id": "t1", "name": "Talent Garden (TAG)"},
        {"id": "t2", "name": "Talent Garden Barcelona"},
        {"id": "p1", "name": "Coworking Platon Diagonal 459"},
        {"id": "p2", "name": "COWORKING PLATON DIAGONAL 497"},
    ])
    assert _groups(find_duplicates(frame, city_words={"barcelona"})) == [
        (False, "name", ["t1", "t2"])]


def test_one_name_far_apart_is_two_branches() -> None:
    frame = _frame([
        {"id": "a", "name": "First Workplaces", "dx": 0.0},
        {"id": "b", "name": "First Workplaces", "dx": 1_000.0},
        {"id": "c", "name": "First Workplaces"},  # no point: could be either
        {"id": "d", "name": "Utopicus"}, {"id": "e", "name": "utopicus"},
    ])
    assert _groups(find_duplicates(frame)) == [(False, "name", ["d", "e"])]
    # within apart_m they are one space listed twice (not at one point: possible)
    assert _groups(find_duplicates(frame, apart_m=2_000.0))[0] == (
        False, "name", ["a", "b", "c"])


def test_identical_descriptions_link_short_ones_do_not() -> None:
    text = "A bright loft with 40 desks, meeting rooms and a terrace in Poblenou."
    frame = _frame([
        {"id": "a", "name": "Loft One", "description": text, "services": "wifi"},
        {"id": "b", "name": "Poblenou Desks", "description": text.upper() + "!",
         "services": "wifi"},
        {"id": "c", "name": "Other", "description": text.replace("40", "41"),
         "services": "wifi"},
        {"id": "d", "name": "Unrelated", "description": "Something else entirely, "
         "a garage turned into a workshop for makers.", "services": "wifi"},
    ])
    assert _groups(find_duplicates(frame)) == [(False, "text", ["a", "b", "c"])]
    assert find_duplicates(frame, text_threshold=100.0)["id"].tolist() == ["a", "b"]
    assert find_duplicates(frame, text_columns=()).empty


def test_points_from_lat_lon_and_a_crs_parameter() -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "name": ["Espai Born", "Espai Born"],
                          "lat": [LAT, LAT], "lon": [LON, LON + 25 * M_LON]})
    assert _groups(find_duplicates(frame)) == [(True, "name+point", ["a", "b"])]
    # Web Mercator stretches metres by 1/cos(41.4°) = 1.33: 25 m become 33 "m" > 30
    assert _groups(find_duplicates(frame, crs="EPSG:3857")) == [(False, "name", ["a", "b"])]


def test_street_only_points_are_not_address_points() -> None:
    frame = _frame([{"id": "a", "name": "One", "dx": 0.0}, {"id": "b", "name": "Two",
                                                            "dx": 0.0}])
    frame["geocode_status"] = ["street_only", "street_only"]
    assert find_duplicates(frame).empty


def test_no_rows_no_ids() -> None:
    assert find_duplicates(_frame([{"id": "a", "name": "x"}])).empty
    assert find_duplicates(pd.DataFrame({"id": [], "name": []})).empty
    with pytest.raises(KeyError, match="'id' column"):
        find_duplicates(pd.DataFrame({"name": ["a", "a"]}))


def test_merge_keeps_the_first_row_fills_blanks_and_every_source_id() -> None:
    frame = _frame([
        {"id": "a", "name": "Almogàvers 180", "website": "", "source": "s1",
         "source_id": "x1", "dx": 0.0},
        {"id": "z", "name": "Elsewhere", "website": "", "source": "s2", "source_id": "q",
         "dx": 900.0},
        {"id": "b", "name": "Almogavers 180", "website": "https://a180.example",
         "source": "s1;s2", "source_id": "x2", "dx": 2.0},
        {"id": "c", "name": "Almogàvers 180", "website": "", "source": "s3",
         "source_id": "x3"},  # no point: only possible with a and b
    ])
    groups = find_duplicates(frame)
    merged, flagged = merge_duplicates(frame, groups)
    assert isinstance(merged, gpd.GeoDataFrame) and merged.crs == frame.crs
    assert merged["id"].tolist() == ["a", "z", "c"]
    a = merged.set_index("id").loc["a"]
    assert a["name"] == "Almogàvers 180" and a["website"] == "https://a180.example"
    assert a["merged_ids"] == "a;b" and a["source"] == "s1;s2" and a["source_id"] == "x1;x2"
    assert a["source_row"] == 2 and a.geometry.x == pytest.approx(LON)
    assert merged.set_index("id").loc["z", "merged_ids"] == ""
    # nothing disappears silently: the groups say what merged into what
    certain = flagged[flagged["certain"]]
    assert certain["merged"].all() and set(certain["kept_id"]) == {"a"}
    assert not flagged.loc[~flagged["certain"], "merged"].any()
    assert len(frame) - len(merged) == int(certain["merged"].sum()) - 1


def test_merge_refuses_groups_of_another_frame() -> None:
    frame = _frame([{"id": "a", "name": "Same", "dx": 0.0}, {"id": "b", "name": "Same",
                                                              "dx": 0.0}])
    groups = find_duplicates(frame)
    with pytest.raises(ValueError, match="not in the frame"):
        merge_duplicates(frame.iloc[:1], groups)
    unchanged, _ = merge_duplicates(frame, groups[~groups["certain"]])
    assert len(unchanged) == 2


def test_groups_become_inventory_warnings() -> None:
    frame = _frame([
        {"id": "a", "name": "Almogàvers 180", "dx": 0.0},
        {"id": "b", "name": "Almogàvers 180", "dx": 0.0},
        {"id": "c", "name": "Depot Lab Bruc"}, {"id": "d", "name": "Depot Lab Bruc"},
    ])
    _, flagged = merge_duplicates(frame, find_duplicates(frame))
    problems = duplicate_problems(flagged, "spaces.csv", column="Nom")
    assert [(p.row, p.code, p.column) for p in problems] == [
        (3, "duplicate_space", "Nom"), (5, "possible_duplicate_space", "Nom")]
    assert "the same space as row 2 (id 'a'" in problems[0].message
    assert "merged into row 2" in problems[0].message
    assert "possibly the same space as row 4" in str(problems[1])
    assert duplicate_summary(flagged) == "2 groups (1 certain, 1 merged; 4 rows)"
    assert duplicate_summary(find_duplicates(frame.iloc[:1])) == "none"


@pytest.mark.bundle
def test_the_bundle_duplicates(bundle_dir: Path) -> None:
    from cwsgeo.analysis.geocoding import Geocoder, OfflineGeocoder, geocode_table
    from cwsgeo.analysis.inventory import check_inventory

    inv = check_inventory(bundle_dir / "coworking" / "coworking_spaces.csv")
    geocoder = Geocoder(OfflineGeocoder.from_dir(bundle_dir / "addresses"))
    spaces = geocode_table(inv.data.drop(columns=["lat", "lon"]), geocoder)
    found = find_duplicates(spaces)
    names = {tuple(g["name"]): (bool(g["certain"].iloc[0]), g["reasons"].iloc[0])
             for _, g in found.groupby("group")}
    assert names[("Almogàvers 180 Business Center",) * 2] == (True, "name+point")
    assert [n for n, (sure, _) in names.items() if sure] == [
        ("Almogàvers 180 Business Center",) * 2]
    assert names[("CREC Letamendi 1", "CREC Letamendi 7")] == (False, "point")
    assert names[("utopic_US",) * 5] == (False, "name")
    assert not any("WeWork" in n and "Spaces" not in " ".join(group)
                   for group in names for n in group)
    merged, _ = merge_duplicates(spaces, found)
    assert len(merged) == len(spaces) - 1
    assert merged.set_index("id").loc["bcn-cw-0013", "merged_ids"] == (
        "bcn-cw-0013;bcn-cw-0014")


# --- listing texts: identical and translations (issue 11, item 4) ---

_EN = ("Overview of Port Space\nBuilt in 1992 for the Olympic games, this centre faces the "
       "Universitat Pompeu Fabra and the Torre Mapfre, with 1,250 m2 and views of Montjuïc. "
       "Write to hola@portspace.example or call 934 123 456.")
_ES = ("Construido en 1992 para los Juegos, el centro está frente a la Universitat Pompeu Fabra "
       "y la Torre Mapfre: 1.250 m2 con vistas a Montjuïc. Escríbenos a hola@portspace.example "
       "o llama al 934123456.")
_FILLER = [  # unrelated listings: give the rare tokens their rarity
    "Overview of Loft\nA bright loft near Sagrada Família with 40 desks and a Terrace.",
    "Un espacio en el Raval, junto al MACBA, con 12 puestos y sala de reuniones.",
    "Overview of Hub\nA hub in Poblenou close to Rambla del Poblenou, 300 m2, since 2015.",
    "Espacio en Gràcia, cerca de Plaça del Sol, con 25 puestos y cocina.",
    "Overview of Garage\nA makers' garage in Sants by the Estació de Sants, 2019.",
    "Oficinas en Les Corts, junto al Camp Nou, 800 m2 y terraza.",
]


def _with_texts(names: list[str], texts: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(names))], "name": names,
                          "source_row": np.arange(2, len(names) + 2)})
    return frame, pd.Series(texts, index=frame["id"])


def test_a_listing_and_its_translation_link_as_possible() -> None:
    frame, texts = _with_texts(["Port Space", "Espacio Puerto Olímpico",
                                *[f"Filler {k}" for k in range(6)]], [_EN, _ES, *_FILLER])
    found = find_duplicates(frame, texts=texts)
    assert _groups(found) == [(False, "translation", ["r0", "r1"])]
    assert find_duplicates(frame).empty  # the texts are the only signal
    # the joined-texts frame (text_en/text_es columns) works the same
    joined = pd.DataFrame({"text_en": [_EN, None, *_FILLER[::2], None, None, None],
                           "text_es": [None, _ES, None, None, None, *_FILLER[1::2]]},
                          index=frame["id"])
    assert _groups(find_duplicates(frame, texts=joined)) == _groups(found)
    problems = duplicate_problems(found, "spaces.csv")
    assert "same listing text in another language" in problems[0].message
    assert not found["certain"].any()
    merged, _ = merge_duplicates(frame, found)
    assert len(merged) == len(frame)  # text links are never merged


def test_chain_branches_sharing_boilerplate_do_not_link_by_text() -> None:
    boiler = ("WeWork is a global network of workspaces where companies grow together, with "
              "micro-roasted coffee by Nomad Coffee Lab, Phone Booths and Wellness Rooms.")
    branches = [f"{boiler} Find us at Carrer de Pallars, 194, next to Bogatell Beach.",
                f"{boiler} Find us at Avinguda Diagonal 444, next to Diagonal Station.",
                "WeWork es una red global de espacios: café de Nomad Coffee Lab. Estamos en "
                "Carrer de Pallars, 194, junto a la playa del Bogatell."]
    frame, texts = _with_texts(["WeWork Pallars", "WeWork Diagonal 444", "WeWork Poblenou",
                                *[f"Filler {k}" for k in range(6)]], [*branches, *_FILLER])
    # nine texts give low IDF weights: ask for less shared weight than on a real inventory
    found = find_duplicates(frame, texts=texts, translation_min_shared=4.0)
    # the two texts with the same street number link; the Diagonal branch stays apart
    assert _groups(found) == [(False, "translation", ["r0", "r2"])]
    # identical boilerplate alone does not link branches of one operator either
    frame2, texts2 = _with_texts(["cwork Gracia", "cwork Sarrià"], [boiler, boiler])
    assert find_duplicates(frame2, texts=texts2).empty


def test_identical_listing_texts_still_link() -> None:
    frame, texts = _with_texts(["Loft One", "Poblenou Desks", "Other"],
                               [_FILLER[0], _FILLER[0].upper(), _FILLER[1]])
    assert _groups(find_duplicates(frame, texts=texts)) == [(False, "text", ["r0", "r1"])]


def test_texts_must_be_indexed_by_id() -> None:
    frame, texts = _with_texts(["A", "B"], [_EN, _ES])
    with pytest.raises(ValueError, match="shares no id"):
        find_duplicates(frame, texts=texts.reset_index(drop=True).set_axis(["x", "y"]))
    with pytest.raises(ValueError, match="repeats the id"):
        find_duplicates(frame, texts=pd.Series([_EN, _ES], index=["r0", "r0"]))
    with pytest.raises(ValueError, match="none of the columns"):
        find_duplicates(frame, texts=pd.DataFrame({"x": [_EN, _ES]}, index=frame["id"]))
    assert find_duplicates(frame, texts=texts.iloc[:1]).empty  # missing ids: no text


def test_texts_of_30000_rows_are_blocked() -> None:
    n = 30_000
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)],
                          "name": [f"Place{i} Hub" for i in range(n)]})
    texts = pd.Series([f"Place{i} by Brand{rng.integers(3000)} at Carrer{i % 2000} "
                       f"{rng.integers(1, 300)}, near Plaza Mayor; see place{i}.com"
                       for i in range(n)], index=frame["id"])
    found = find_duplicates(frame, texts=texts)  # finishes: no all-pairs (no timing assert)
    assert set(found["reasons"]) <= {"translation", "text"}
