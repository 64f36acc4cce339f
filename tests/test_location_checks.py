"""Location warnings on the geocoded inventory, and how inventory_report.md shows them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import cwsgeo
from cwsgeo.analysis.geocoding import Geocoder, OfflineGeocoder, geocode_table
from cwsgeo.analysis.inventory import check_inventory
from cwsgeo.analysis.inventory.location import location_problems

GAZ = Path(__file__).parent / "data" / "geocoding" / "addresses"


def _row(**values: Any) -> dict[str, Any]:
    base = {"id": "a", "name": "Space", "address": "", "postcode": "", "lat": np.nan,
            "lon": np.nan, "source_row": 2, "location_method": "gazetteer",
            "geocode_status": "exact", "address_from_name": False, "matched_address": "",
            "matched_postcode": "", "geocode_lat": np.nan, "geocode_lon": np.nan,
            "coord_check_m": np.nan}
    return {**base, **values}


def test_coordinates_far_from_their_address_are_named_with_both_positions() -> None:
    spaces = pd.DataFrame([
        _row(id="far", source_row=7, location_method="input", address="Carrer X 1",
             matched_address="Carrer de X 1", lat=41.4, lon=2.19, geocode_lat=41.38,
             geocode_lon=2.17, coord_check_m=3012.4),
        _row(id="near", source_row=8, location_method="input", coord_check_m=120.0),
        _row(id="unchecked", source_row=9, location_method="input"),
    ])
    problems = location_problems(spaces, "spaces.csv")
    assert [(p.row, p.code, p.severity) for p in problems] == [
        (7, "coord_mismatch", "warning")]
    text = str(problems[0])
    assert text.startswith("spaces.csv, row 7: warning: the coordinates given ")
    assert "3,012 m" in text and "41.40000, 2.19000" in text and "41.38000, 2.17000" in text
    assert "'Carrer de X 1'" in text
    # the distance is configurable (and defaults to settings.coord_mismatch_m)
    assert [p.row for p in location_problems(spaces, "s", max_m=100.0)] == [7, 8]
    assert location_problems(spaces, "s", max_m=5_000.0) == []


def test_postcodes_that_contradict_the_gazetteer() -> None:
    spaces = pd.DataFrame([
        _row(source_row=2, postcode="08018", matched_address="Carrer de València 1",
             matched_postcode="08007"),
        _row(source_row=3, postcode="8007", matched_postcode="08007"),  # same, 4 digits
        _row(source_row=4, address="Carrer de València 1, 08029 Barcelona",
             matched_postcode="08007"),  # written in the address
        _row(source_row=5, postcode="08018", geocode_status="street_only",
             matched_postcode="08007"),  # a street spans several postcodes
        _row(source_row=6, postcode="08018", geocode_status="unmatched"),
        _row(source_row=7, postcode="08018", location_method="nominatim",
             matched_postcode="08010", matched_address="Carrer Y 2"),
    ])
    problems = location_problems(spaces, "spaces.csv", columns={"postcode": "CP"})
    assert [(p.row, p.column, p.code) for p in problems] == [
        (2, "CP", "postcode_mismatch"), (4, "address", "postcode_mismatch"),
        (7, "CP", "postcode_mismatch")]
    assert ("postcode 08018 contradicts the address: the gazetteer puts "
            "'Carrer de València 1' in 08007") in problems[0].message
    assert "08029 (written in the address)" in problems[1].message
    assert "Nominatim puts 'Carrer Y 2' in 08010" in problems[2].message


def test_missing_columns_skip_the_checks() -> None:
    assert location_problems(pd.DataFrame({"id": ["a"], "name": ["x"]}), "f.csv") == []
    assert location_problems(pd.DataFrame(), "f.csv") == []


def test_through_the_geocoder_and_into_the_report(tmp_path: Path) -> None:
    from cwsgeo.outputs.report import inventory_report

    path = tmp_path / "spaces.csv"
    path.write_text(
        "id,name,address,postcode,lat,lon\n"
        "a,Uno,Carrer de València 1,08018,,\n"             # postcode contradicts 08007
        "b,Dos,Carrer de València 3,,41.4172,2.1602\n"     # ~3 km north of its address
        "c,Tres,Carrer de Mallorca 101,08036,,\n"
        "d,Tres,Carrer de Mallorca 101,08036,,\n",         # the same space twice
        encoding="utf-8")
    inv = check_inventory(path)
    spaces = geocode_table(inv.data, Geocoder(OfflineGeocoder.from_dir(GAZ)))
    problems = location_problems(spaces, path.name)
    assert [(p.row, p.code) for p in problems] == [(2, "postcode_mismatch"),
                                                   (3, "coord_mismatch")]
    assert spaces.loc[1, "coord_check_m"] == pytest.approx(3000, abs=60)
    spaces = spaces.assign(in_city=True)
    report = inventory_report(inv, spaces, version=cwsgeo.__version__)
    assert "- possible duplicates: 1 group (1 certain, 0 merged; 2 rows)" in report
    assert "- location warnings: 2" in report
    dupes = report.split("## Possible duplicates")[1].split("## Location warnings")[0]
    assert "| 1 | certain | name, address, point | 4 | c | Tres | 0 | no |" in dupes
    assert "| 1 | certain | name, address, point | 5 | d | Tres | 0 | no |" in dupes
    assert "| 2 |" not in dupes
    location = report.split("## Location warnings")[1].split("## Problems found")[0]
    assert "row 2, column 'postcode': warning: postcode 08018 contradicts" in location
    assert "row 3: warning: the coordinates given (41.41720, 2.16020) are " in location
    assert "\\[coord\\_mismatch\\]" in location


def test_the_report_words_empty_sections_plainly(tmp_path: Path) -> None:
    from cwsgeo.outputs.report import inventory_report

    path = tmp_path / "one.csv"
    path.write_text("id,name\na,Alone\n", encoding="utf-8")
    inv = check_inventory(path)
    spaces = gpd.GeoDataFrame({"id": ["a"], "name": ["Alone"], "source_row": [2],
                               "location_method": ["none"], "in_city": [False]},
                              geometry=[None], crs=4326)
    report = inventory_report(inv, spaces)
    assert "## Possible duplicates\n\nNone: no two rows share" in report
    assert "## Location warnings\n\nNone: no row's coordinates disagree" in report
    assert "- possible duplicates: none" in report
    assert "- location warnings: 0" in report


def test_the_report_shows_500_rows_and_points_to_the_full_csv(tmp_path: Path) -> None:
    from cwsgeo.outputs.report import inventory_accounts, inventory_report

    path = tmp_path / "three.csv"
    path.write_text("id,name\na,Uno\nb,Dos\nc,Tres\n", encoding="utf-8")
    inv = check_inventory(path)
    spaces = gpd.GeoDataFrame({"id": ["c", "a", "b"], "name": ["Tres", "Uno", "Dos"],
                               "source_row": [4, 2, 3], "location_method": ["none"] * 3,
                               "in_city": [False] * 3}, geometry=[None] * 3, crs=4326)
    accounts = inventory_accounts(spaces)
    assert list(accounts.columns) == ["row", "id", "name", "address", "district", "account"]
    assert accounts["id"].tolist() == ["a", "b", "c"]  # in the file's order
    assert accounts["account"].str.startswith("not located").all()
    report = inventory_report(inv, spaces, max_rows=2)
    table = report.split("## Located how, or why not")[1].split("## Possible duplicates")[0]
    assert "| 2 | a | Uno |" in table and "| 3 | b | Dos |" in table
    assert "| 4 | c |" not in table
    assert "Only the first 2 of 3 rows are shown: every row is in `inventory_accounts.csv`" \
        in table
    assert "Only the first" not in inventory_report(inv, spaces)
