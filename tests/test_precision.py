"""Location precision: radii, classes, certain areas and the reasons a space has no point."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cwsgeo.analysis.geocoding import (
    UNLOCATED_REASONS,
    certain_areas,
    location_precision,
    location_radii,
    point_mask,
    unlocated_reasons,
)


def _rows() -> pd.DataFrame:
    return pd.DataFrame({
        "location_method": ["input", "gazetteer", "gazetteer", "nominatim", "text_station",
                            "text_area", "none", "none", "none", "none"],
        "geocode_status": ["", "exact", "street_only", "exact", "", "", "unmatched",
                           "not_geocoded", "not_geocoded", "not_geocoded"],
        "location_radius_m": [None, None, 812.0, None, 400.0, 1450.0, None, None, None, None],
        "address": ["", "Girona 70", "Girona", "x", "", "", "Nowhere 1", "", "", ""],
        "n_texts": [0, 0, 0, 0, 1, 2, 0, 0, 1, 1],
        "outside_city": [None, None, None, None, False, False, None, None, False, True],
    })


def test_radii_and_classes() -> None:
    rows = _rows()
    rows["location_radius_m"] = location_radii(rows)
    assert rows["location_radius_m"].tolist()[:6] == [25.0, 25.0, 812.0, 100.0, 400.0, 1450.0]
    assert rows["location_radius_m"].iloc[6:].isna().all()
    assert location_precision(rows).tolist() == [
        "exact", "exact", "area", "exact", "approximate", "area", "none", "none", "none",
        "outside"]
    assert location_precision(rows, point_radius_m=300).iloc[4] == "area"
    assert point_mask(rows).tolist() == [True, True, False, True, True] + [False] * 5


def test_unlocated_reasons_are_worded() -> None:
    reasons = unlocated_reasons(_rows())
    assert reasons.iloc[:6].isna().all()
    assert reasons.iloc[6:].tolist() == ["address_not_found", "no_text", "no_text_hint",
                                         "outside_city"]
    assert set(reasons.dropna()) <= set(UNLOCATED_REASONS)


def test_area_rows_keep_only_the_areas_their_texts_name() -> None:
    frame = pd.DataFrame({
        "location_precision": ["exact", "area", "area", "area", "area"],
        "location_areas": ["", "B31", "B31;B06", "D02", None],
        "barri_code": ["07", "31", "07", "07", "26"],
        "district_code": ["02", "06", "02", "02", "05"],
    })
    certain = certain_areas(frame, {"31": "06", "06": "02", "07": "02", "26": "05"})
    assert certain["barri_certain"].tolist() == [True, True, False, False, False]
    assert certain["district_certain"].tolist() == [True, True, False, True, False]


def test_a_bad_listing_file_is_skipped_with_a_warning(tmp_path: Path) -> None:
    from cwsgeo.build.texts import _screened

    bad = tmp_path / "listings.xlsx"
    bad.write_bytes(b"not a workbook")
    good = tmp_path / "listings.csv"
    good.write_text("Name,URL,Description\nEspai,https://x.example/espai,"
                    "A community of makers with weekly talks and a fab lab.\n",
                    encoding="utf-8")
    inventory = pd.DataFrame({"id": ["a"], "name": ["Espai"],
                              "source_id": ["https://x.example/espai"]})
    screened = _screened(inventory, [bad, good])
    assert len(screened.attrs["skipped"]) == 1 and "listings.xlsx" in screened.attrs["skipped"][0]
    assert screened.loc["a", "n_texts"] == 1  # the good file is still read
