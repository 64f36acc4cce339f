"""Unit and property tests of the inventory reader (header synonyms, mapping, types, formats)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import string
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cwsgeo
from cwsgeo import InventoryError, check_inventory, read_inventory
from cwsgeo._io import neutralise_formulas
from cwsgeo._text import fold
from cwsgeo.analysis.inventory import (
    CANONICAL_COLUMNS,
    HEADER_SYNONYMS,
    Inventory,
    Problem,
    innovation_label,
    parse_innovation_type,
)
from cwsgeo.schema import INNOVATION_LABELS

H = "id,name,address,postcode,lat,lon,innovation_type\n"


def write(tmp_path: Path, text: str, name: str = "inv.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def codes(inv: Inventory) -> list[str]:
    return [p.code for p in inv.problems]


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
def test_public_api_is_stable() -> None:
    assert set(cwsgeo.analysis.inventory.__all__) >= {
        "CANONICAL_COLUMNS", "HEADER_SYNONYMS", "Inventory", "Problem", "check_inventory",
        "format_problems", "innovation_label", "parse_innovation_type", "read_inventory"}
    assert "INNOVATION_LABELS" not in cwsgeo.analysis.inventory.__all__  # lives in schema
    assert CANONICAL_COLUMNS == ("id", "name", "address", "postcode", "lat", "lon",
                                 "innovation_type")
    assert set(INNOVATION_LABELS) == {1, 2, 3, None}
    p = Problem("f.csv", 3, "lat", "error", "bad_coordinate", "'x' is not a number")
    assert str(p) == "f.csv, row 3, column 'lat': error: 'x' is not a number [bad_coordinate]"
    assert str(Problem("f.csv", None, None, "warning", "encoding", "m")) == \
        "f.csv: warning: m [encoding]"


def test_data_columns_and_dtypes(tmp_path: Path) -> None:
    p = write(tmp_path, H.rstrip("\n") + ",website\n"
              "a1,Espai,Carrer 1,08001,41.38,2.17,2,https://a.example\n"
              "a2,Altre,,,,,,\n")
    inv = read_inventory(p)
    assert list(inv.data.columns) == [*CANONICAL_COLUMNS, "website", "source_row"]
    assert inv.data["innovation_type"].dtype == "Int64"
    assert inv.data["lat"].dtype == float and inv.data["source_row"].dtype == np.int64
    assert inv.data["id"].dtype == object and inv.data["website"].dtype == object
    assert inv.data["innovation_type"].isna().tolist() == [False, True]
    assert inv.data["source_row"].tolist() == [2, 3]
    empty = check_inventory(write(tmp_path, "nothing", "x.csv"))
    assert list(empty.data.columns) == [*CANONICAL_COLUMNS, "source_row"]


def test_programming_errors_still_raise(tmp_path: Path) -> None:
    """Bad *content* never raises; a wrong *argument* does."""
    with pytest.raises(TypeError, match="columns must be a mapping"):
        check_inventory(write(tmp_path, "id,name\nk,n\n"), columns=["id"])  # type: ignore[arg-type]
    inv = check_inventory(write(tmp_path, "id,name,notes\nk,n,x\n"), ignore_columns="notes")
    assert "notes" not in inv.data


# ---------------------------------------------------------------------------------------
# Header synonyms and explicit mapping
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("header", "lang"), [
    ("ID,Name,Address,Postcode,Latitude,Longitude,Innovation type", "en"),
    ("identifier,space name,street address,zip code,lat,lng,innovation level", "en"),
    ("Código,Nombre,Dirección,Código postal,Latitud,Longitud,Tipo de innovación", "es"),
    ("identificador,nombre del espacio,domicilio,CP,latitud,longitud,nivel de innovación",
     "es"),
    ("Codi,Nom,Adreça,Codi postal,Latitud,Longitud,Tipus d'innovació", "ca"),
    ("codi,Nom de l'espai,Domicili,codi_postal,LATITUD,LONGITUD,nivell d'innovació", "ca"),
    ("id,name,address,postcode,Latitude (WGS84),lon_wgs84,innovation_type", "units"),
    ("id,name,address,postcode,geo_epgs_4326_lat,geo_epgs_4326_lon,type", "opendata"),
])
def test_header_synonyms(tmp_path: Path, header: str, lang: str) -> None:
    p = write(tmp_path, header + "\nx1,Espai,Carrer 1,08001,41.38,2.17,2\n")
    inv = read_inventory(p)
    assert sorted(inv.columns_map.values()) == sorted(CANONICAL_COLUMNS), lang
    row = inv.data.iloc[0]
    assert (row["id"], row["name"], row["postcode"], row["lat"], row["lon"],
            row["innovation_type"]) == ("x1", "Espai", "08001", 41.38, 2.17, 2)


def test_synonym_keys_are_folded() -> None:
    for key, canonical in HEADER_SYNONYMS.items():
        assert fold(key) == key
        assert canonical in CANONICAL_COLUMNS


def test_explicit_mapping(tmp_path: Path) -> None:
    p = write(tmp_path, "Codi intern,Espai,Carrer,Y,X\nk1,Espai Un,Carrer 1,41.38,2.17\n")
    inv = read_inventory(p, columns={"codi intern": "id", "ESPAI": "name", "Y": "lat",
                                     "X": "lon"})
    assert inv.columns_map == {"Codi intern": "id", "Espai": "name", "Carrer": "address",
                               "Y": "lat", "X": "lon"}
    assert inv.data[["id", "name", "lat", "lon"]].iloc[0].tolist() == ["k1", "Espai Un",
                                                                       41.38, 2.17]


def test_explicit_mapping_beats_synonyms(tmp_path: Path) -> None:
    p = write(tmp_path, "id,name,Nom oficial\nk1,short,Nom Llarg Oficial\n")
    inv = read_inventory(p, columns={"Nom oficial": "name"})
    assert inv.data["name"].tolist() == ["Nom Llarg Oficial"]
    assert inv.data["name_2"].tolist() == ["short"]  # the shadowed column is carried through
    assert ("shadowed_column", 1, "name") in {(q.code, q.row, q.column) for q in inv.problems}


@pytest.mark.parametrize(("mapping", "column", "fragment"), [
    ({"Espai": "nom"}, "Espai", "'nom' is not one of id, name"),
    ({"name": "Espai"}, "name", "did you mean {'Espai': 'name'}"),
    ({"Missing": "name"}, "Missing", "which is not in the header"),
])
def test_mapping_errors(tmp_path: Path, mapping: dict[str, str], column: str,
                        fragment: str) -> None:
    p = write(tmp_path, "id,Espai\nk1,Espai Un\n")
    inv = check_inventory(p, columns=mapping)
    bad = [q for q in inv.errors if q.code == "bad_mapping"]
    assert len(bad) == 1 and bad[0].column == column and fragment in bad[0].message
    assert inv.data.empty
    with pytest.raises(InventoryError, match="bad_mapping"):
        read_inventory(p, columns=mapping)


def test_mapping_two_columns_to_one(tmp_path: Path) -> None:
    p = write(tmp_path, "id,A,B\nk1,a,b\n")
    inv = check_inventory(p, columns={"A": "name", "B": "name"})
    assert [(q.code, q.row, q.column) for q in inv.errors] == [("duplicate_column", 1, "B")]
    assert "'A' and 'B' both map to 'name'" in inv.errors[0].message


def test_ignore_columns(tmp_path: Path) -> None:
    p = write(tmp_path, "id,name,nombre,notes\nk1,Espai,Espacio,x\n")
    inv = read_inventory(p, ignore_columns=["Nombre", "notes", "absent"])
    assert list(inv.data.columns) == [*CANONICAL_COLUMNS, "source_row"]
    assert [(q.code, q.column) for q in inv.warnings] == [("bad_mapping", "absent"),
                                                          ("no_location", "address")]


def test_blank_header_with_values_is_carried(tmp_path: Path) -> None:
    p = write(tmp_path, "id,name,,\nk1,Espai,extra,\n")
    inv = read_inventory(p)
    assert inv.data["column_3"].tolist() == ["extra"]
    assert "column_4" not in inv.data  # a blank header over blank values is dropped
    assert [(q.code, q.row, q.column) for q in inv.warnings] == [
        ("blank_header", 1, "column_3"), ("no_location", None, "address")]


def test_carried_column_named_like_source_row(tmp_path: Path) -> None:
    inv = read_inventory(write(tmp_path, "id,name,source_row\nk1,Espai,7\n"))
    assert inv.data["source_row"].tolist() == [2]
    assert inv.data["source_row_2"].tolist() == ["7"]


# ---------------------------------------------------------------------------------------
# Innovation types
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (1, 1), (2, 2), (3, 3), (2.0, 2), (np.int64(3), 3), (np.float64(1.0), 1),
    ("1", 1), (" 2 ", 2), ("3.0", 3), ("2,0", 2), ("02", 2), ("+3", 3),
    ("I", 1), ("ii", 2), ("III", 3), ("type 2", 2), ("Tipo 3", 3), ("tipus II", 2),
    ("Type III", 3), ("level 1", 1),
    # English
    ("no innovative community", 1), ("Non-innovative", 1), ("not innovative", 1),
    ("innovative", 2), ("Innovative community", 2), ("highly innovative", 3),
    ("Very innovative community", 3), ("3 - highly innovative", 3), ("1: no innovation", 1),
    # Spanish
    ("sin comunidad innovadora", 1), ("No innovadora", 1), ("comunidad innovadora", 2),
    ("Innovadora", 2), ("muy innovadora", 3), ("altamente innovadora", 3),
    ("Innovación alta", 3),
    # Catalan
    ("sense comunitat innovadora", 1), ("no innovadora", 1), ("comunitat innovadora", 2),
    ("innovadora i oberta", 2), ("molt innovadora", 3), ("altament innovadora", 3),
    # blank / unclassified
    (None, None), (math.nan, None), (pd.NA, None), ("", None), ("  ", None), ("n/a", None),
    ("NA", None), ("unclassified", None), ("sin clasificar", None), ("sense classificar", None),
    ("-", None),
])
def test_parse_innovation_type(value: Any, expected: int | None) -> None:
    assert parse_innovation_type(value) == expected


@pytest.mark.parametrize("value", [
    0, 4, -1, 2.5, True, "0", "4", "2.5", "2,5", "IV", "type 4", "creative", "yes",
    "1 2", "1 - highly innovative", "not highly innovative", "=1+1",
])
def test_parse_innovation_type_rejects(value: Any) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value)) if not isinstance(
            value, str) else re.escape(repr(value.strip()))):
        parse_innovation_type(value)


def test_innovation_label() -> None:
    assert innovation_label(1) == "no innovative community"
    assert innovation_label(np.int64(3)) == "highly innovative community"
    assert innovation_label(None) == innovation_label(pd.NA) == innovation_label(math.nan) \
        == "unclassified"
    with pytest.raises(ValueError):
        innovation_label(7)


def test_innovation_words_in_a_file(tmp_path: Path) -> None:
    p = write(tmp_path, "id;name;tipus\n1;A;molt innovadora\n2;B;II\n3;C;2,0\n4;D;\n"
              "5;E;sin comunidad innovadora\n")
    inv = read_inventory(p)
    assert inv.data["innovation_type"].tolist() == [3, 2, 2, pd.NA, 1]


# ---------------------------------------------------------------------------------------
# CSV dialects, encodings, numbers
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "delimiter"), [
    ("id;name;lat;lon\nk1;Espai;41,3851;2,1734\n", ";"),
    ('id,name,lat,lon\nk1,Espai,"41,3851","2,1734"\n', ","),
    ("id\tname\tlat\tlon\nk1\tEspai\t41,3851\t2,1734\n", "\t"),
    ("id|name|lat|lon\nk1|Espai|41.3851|2.1734\n", "|"),
    ("id;name;lat;lon\nk1;Espai, SL;41,3851;2,1734\nk2;Altre;41,39;2,16\n", ";"),
])
def test_decimal_comma_and_delimiters(tmp_path: Path, text: str, delimiter: str) -> None:
    inv = read_inventory(write(tmp_path, text))
    assert inv.details["delimiter"] == delimiter
    assert inv.data[["lat", "lon"]].iloc[0].tolist() == [41.3851, 2.1734]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252",
                                      "latin-1"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    text = "id,nom,adreça\nk1,Espai Gràcia,Plaça del Sol 1\nk2,Cafè Àgora,Carrer Còrsega 2\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    p = tmp_path / "inv.csv"
    p.write_bytes(data)
    inv = read_inventory(p)
    assert inv.data["name"].tolist() == ["Espai Gràcia", "Cafè Àgora"]
    assert inv.data["address"].tolist() == ["Plaça del Sol 1", "Carrer Còrsega 2"]
    assert ("encoding" in codes(inv)) == (encoding in ("cp1252", "latin-1"))


def test_quoted_newlines_count_as_one_row(tmp_path: Path) -> None:
    p = write(tmp_path, H + 'k1,"Espai\nde dues línies","Carrer 1\n2n pis",08001,41.38,2.17,\n'
              "k2,Fine,,,,,\nk3,,Carrer 3,,,,\n")
    inv = check_inventory(p)
    assert inv.data["source_row"].tolist() == [2, 3, 4]
    assert inv.data["name"].tolist() == ["Espai de dues línies", "Fine", "k3"]
    assert [(q.code, q.row) for q in inv.problems] == [("missing_name", 4),
                                                       ("no_location", None)]


def test_trailing_empty_rows_are_silent(tmp_path: Path) -> None:
    inv = check_inventory(write(tmp_path, H + "k1,Espai,Carrer 1,,,,\n,,,,,,\n\n\n"))
    assert inv.n_input_rows == 1 and inv.problems == []


def test_text_cells_are_kept_verbatim(tmp_path: Path) -> None:
    p = write(tmp_path, "id,name,website\n"
              '007,"<script>alert(1)</script>","javascript:alert(1)"\n'
              '8,=HYPERLINK("x"),  https://a.example/?q=<b>  \n')
    inv = read_inventory(p)
    assert inv.data["id"].tolist() == ["007", "8"]  # leading zeros kept: ids are text
    assert inv.data["name"].tolist() == ["<script>alert(1)</script>", "=HYPERLINK(\"x\")"]
    assert inv.data["website"].tolist() == ["javascript:alert(1)", "https://a.example/?q=<b>"]
    assert sorted(codes(inv)) == ["formula", "markup", "markup", "no_location", "unsafe_url"]
    exported = neutralise_formulas(inv.data)
    assert exported["name"].tolist()[1] == "'=HYPERLINK(\"x\")"


def test_phone_numbers_and_negative_numbers_are_not_formulas(tmp_path: Path) -> None:
    p = write(tmp_path, "id,name,phone,delta\nk1,Espai,+34 93 123 45 67,-3.5\n"
              "k2,Altre,(+34) 600-000-000,-\n")
    assert "formula" not in codes(read_inventory(p))


def test_rows_numbered_as_in_a_spreadsheet(tmp_path: Path) -> None:
    p = write(tmp_path, "\n\n" + H + "k1,Espai,,,,,\n\nk1,Dup,,,,,\n")
    inv = check_inventory(p)
    assert inv.details["header_row"] == 3
    assert [(q.code, q.row) for q in inv.problems] == [
        ("empty_row", 5), ("duplicate_id", 6), ("no_location", None)]
    assert "id 'k1' is already used on row 4" in inv.errors[0].message


def test_bad_values_do_not_hide_other_problems(tmp_path: Path) -> None:
    """Every problem of a row is reported, not only the first."""
    p = write(tmp_path, H + ",,Carrer 1,99,abc,,7\n")
    inv = check_inventory(p)
    assert sorted((q.code, q.column) for q in inv.problems) == [
        ("bad_coordinate", "lat"), ("bad_postcode", "postcode"), ("missing_id", "id"),
        ("missing_name", "name"), ("unknown_type", "innovation_type")]


def test_boundary_flags_points_in_the_sea(tmp_path: Path) -> None:
    from shapely.geometry import box

    p = write(tmp_path, H + "k1,Land,,,41.40,2.15,\nk2,Sea,,,41.36,2.22,\n")
    assert check_inventory(p).problems == []  # both inside the bounding box
    land = box(2.05, 41.31, 2.20, 41.47)
    inv = check_inventory(p, boundary=land)
    assert [(q.code, q.row) for q in inv.problems] == [("outside_city", 3)]
    assert len(inv.data) == 2  # kept and flagged
    import geopandas as gpd

    gs = gpd.GeoSeries([land], crs="EPSG:4326").to_crs("EPSG:25831")
    assert codes(check_inventory(p, boundary=gs)) == ["outside_city"]


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
def test_report_summary_and_grouping(tmp_path: Path) -> None:
    rows = "".join(f"k{i},,,,,,\n" for i in range(12))
    inv = check_inventory(write(tmp_path, H + rows + "k0,Dup,,,,,\n"))
    report = inv.report()
    assert report.splitlines()[0] == "inv.csv: 13 data rows, 12 usable, 1 error, 13 warnings"
    assert report.index("errors:") < report.index("warnings:")
    assert "… and 7 more rows with [missing_name] (rows 7-13)" in report
    assert "12 of 12 usable rows have no address and no coordinates (rows 2-13)" in report
    assert inv.codes() == {"missing_name": 12, "duplicate_id": 1, "no_location": 1}
    assert inv.codes("error") == {"duplicate_id": 1}


# ---------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------
def xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_numbers_keep_their_meaning(tmp_path: Path) -> None:
    import datetime as dt

    p = xlsx(tmp_path / "inv.xlsx", {"Espais": [
        ["Codi", "Nom", "Codi postal", "Latitud", "Longitud", "Tipus", "Obert", "Des de"],
        [12, "Dotze", 8001, 41.385123456789012, 2.173456789012345, 2.0, True,
         dt.date(2014, 5, 1)],
        [13.0, 1234.5, "08002", 41.39, 2.16, "molt innovadora", False, None],
    ]})
    inv = read_inventory(p)
    d = inv.data
    assert d["id"].tolist() == ["12", "13"]
    assert d["name"].tolist() == ["Dotze", "1234.5"]
    assert d["postcode"].tolist() == ["08001", "08002"]
    assert d["lat"].tolist() == [41.385123456789012, 41.39]
    assert d["lon"].tolist() == [2.173456789012345, 2.16]
    assert d["innovation_type"].tolist() == [2, 3]
    assert d["Obert"].tolist() == ["TRUE", "FALSE"]
    assert d["Des de"].tolist()[0].startswith("2014-05-01")
    assert inv.details == {"format": "xlsx", "sheet": "Espais", "header_row": 1}


def test_xlsx_sheet_choice(tmp_path: Path) -> None:
    p = xlsx(tmp_path / "inv.xlsx", {"Notes": [["nothing here"]],
                                     "Data": [["id", "name"], ["k1", "Espai"]]})
    assert codes(check_inventory(p)) == ["missing_column", "missing_column"]
    assert read_inventory(p, sheet="Data").data["id"].tolist() == ["k1"]
    inv = check_inventory(p, sheet="data")  # case-insensitive fallback, with a warning
    assert codes(inv) == ["sheet_name", "no_location"] and len(inv.data) == 1
    inv = check_inventory(p, sheet="Spaces")
    assert [(q.code, q.row, q.column) for q in inv.problems] == [("missing_sheet", None, None)]
    assert "'Notes', 'Data'" in inv.problems[0].message


def test_xlsx_blank_rows_before_header_and_formulas(tmp_path: Path) -> None:
    p = xlsx(tmp_path / "inv.xlsx", {"S": [
        [], [], ["id", "name", "web"],
        ["k1", '=HYPERLINK("http://x.example","X")', "=1+1"],
    ]})
    inv = read_inventory(p)
    assert inv.details["header_row"] == 3
    assert inv.data["name"].tolist() == ['=HYPERLINK("http://x.example","X")']
    assert inv.data["web"].tolist() == ["=1+1"]  # formulas are never evaluated
    assert {(q.code, q.row, q.column) for q in inv.warnings} >= {
        ("formula", 4, "name"), ("formula", 4, "web")}


# ---------------------------------------------------------------------------------------
# GeoJSON, JSON and GeoPackage
# ---------------------------------------------------------------------------------------
def feature(props: dict[str, Any], geom: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geom, **extra}


def test_geojson_points_and_feature_ids(tmp_path: Path) -> None:
    fc = {"type": "FeatureCollection", "features": [
        feature({"nom": "Espai", "tipus": "molt innovadora"},
                {"type": "Point", "coordinates": [2.1734, 41.3851]}, id="g1"),
        feature({"nom": "Sense lloc"}, None, id=2),
    ]}
    p = write(tmp_path, json.dumps(fc), "inv.geojson")
    inv = read_inventory(p)
    assert inv.data["id"].tolist() == ["g1", "2"]
    assert inv.data["lat"].tolist()[0] == 41.3851 and inv.data["lon"].tolist()[0] == 2.1734
    assert inv.data["innovation_type"].tolist()[0] == 3
    assert codes(inv) == ["no_location"]


def test_geojson_projected_crs_and_mismatch(tmp_path: Path) -> None:
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 25831, always_xy=True).transform(2.1734, 41.3851)
    fc = {"type": "FeatureCollection",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25831"}},
          "features": [
              feature({"id": "a", "name": "A"}, {"type": "Point", "coordinates": [x, y]}),
              feature({"id": "b", "name": "B", "lat": 41.40, "lon": 2.15},
                      {"type": "Point", "coordinates": [x, y]})]}
    inv = read_inventory(write(tmp_path, json.dumps(fc), "inv.geojson"))
    assert inv.data["lat"].tolist()[0] == pytest.approx(41.3851, abs=1e-7)
    assert inv.data["lon"].tolist()[0] == pytest.approx(2.1734, abs=1e-7)
    assert inv.data["lat"].tolist()[1] == 41.40  # the columns win over the geometry
    assert [(q.code, q.row) for q in inv.warnings] == [("geometry_mismatch", 3)]


def test_geojson_bad_crs(tmp_path: Path) -> None:
    fc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "nope"}},
          "features": [feature({"id": "a", "name": "A"}, None)]}
    inv = check_inventory(write(tmp_path, json.dumps(fc), "inv.geojson"))
    assert codes(inv) == ["bad_crs"]


def test_json_records(tmp_path: Path) -> None:
    recs = [{"codigo": 7, "nombre": "Espacio", "latitud": 41.38, "longitud": 2.17,
             "servicios": ["wifi", "café"]}]
    inv = read_inventory(write(tmp_path, json.dumps(recs, ensure_ascii=False), "inv.json"))
    assert inv.data[["id", "name", "lat"]].iloc[0].tolist() == ["7", "Espacio", 41.38]
    assert inv.data["servicios"].tolist() == ['["wifi", "café"]']


def test_gpkg_layers_and_crs(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    p = tmp_path / "inv.gpkg"
    gdf = gpd.GeoDataFrame({"codi": ["g1", "g2"], "nom": ["Espai", "Sense punt"],
                            "places": [40, 12]},
                           geometry=[Point(2.1734, 41.3851), None], crs="EPSG:4326")
    gdf.to_crs("EPSG:25831").to_file(p, layer="espais", driver="GPKG", engine="pyogrio")
    gdf.iloc[:1].to_file(p, layer="altres", driver="GPKG", engine="pyogrio")
    inv = read_inventory(p)
    assert inv.details["layer"] == "espais"
    assert inv.data["id"].tolist() == ["g1", "g2"]
    assert inv.data["lat"].tolist()[0] == pytest.approx(41.3851, abs=1e-7)
    assert inv.data["places"].tolist() == ["40", "12"]
    assert codes(inv) == ["no_location"]
    assert read_inventory(p, sheet="altres").data["id"].tolist() == ["g1"]


# ---------------------------------------------------------------------------------------
# The real inventory (data mirror)
# ---------------------------------------------------------------------------------------
@pytest.mark.bundle
def test_real_inventory(bundle_dir: Path) -> None:
    inv = read_inventory(bundle_dir / "coworking" / "coworking_spaces.csv")
    assert inv.n_input_rows == len(inv.data) == 289
    assert inv.data["id"].is_unique
    # the 20 coordinates are Google Places data: never used unless the user opts in
    assert inv.data["lat"].notna().sum() == 0
    assert [(q.code, q.row) for q in inv.problems] == [("restricted_coordinates", None),
                                                      ("no_location", None)]
    assert "236 of 289 usable rows" in inv.problems[1].message
    assert "20 rows" in inv.problems[0].message and "Google Places" in inv.problems[0].message
    assert len(inv.report().splitlines()) <= 6
    opted = read_inventory(bundle_dir / "coworking" / "coworking_spaces.csv",
                           use_restricted_coordinates=True)
    assert opted.data["lat"].notna().sum() == 20
    assert [q.code for q in opted.problems] == ["no_location"]


def test_restricted_coordinates_need_an_explicit_opt_in(tmp_path: Path) -> None:
    f = tmp_path / "inv.csv"
    f.write_text("id,name,address,lat,lon,source\n"
                 "a,A,Carrer de Girona 70,41.39,2.17,gfp_gplaces;gfp_coworker\n"
                 "b,B,Carrer del Bruc 149,41.40,2.16,my survey\n"
                 "c,C,Carrer del Bruc 1,41.40,2.16,Google Maps\n", encoding="utf-8")
    inv = read_inventory(f)
    assert inv.data["lat"].isna().tolist() == [True, False, True]
    (p,) = [q for q in inv.problems if q.code == "restricted_coordinates"]
    assert p.severity == "warning" and "rows 2, 4" in p.message
    assert read_inventory(f, use_restricted_coordinates=True).data["lat"].notna().all()


@pytest.mark.bundle
def test_real_raw_workbook(bundle_dir: Path) -> None:
    raw = bundle_dir / "coworking" / "raw" / "MMM-UOC__coworking-scraper" / "checkpoint_220.xlsx"
    inv = check_inventory(raw, columns={"Link": "id"})
    assert inv.n_input_rows == 220
    assert set(inv.codes("error")) == {"duplicate_id"}  # the scrape lists pages twice
    assert all(q.row is not None for q in inv.errors)


# ---------------------------------------------------------------------------------------
# Property-based: random tables in random dialects never break the reader
# ---------------------------------------------------------------------------------------
_SYN = {c: sorted(k for k, v in HEADER_SYNONYMS.items() if v == c and k not in
                  ("type", "tipo", "tipus")) for c in CANONICAL_COLUMNS}
_ACCENTED = {"address": ["Dirección", "Adreça"], "postcode": ["Código Postal"],
             "innovation_type": ["Tipus d'innovació", "Tipo de innovación"],
             "name": ["Título"]}
_EXTRAS = ["website", "notes", "Observacions", "telèfon", "email"]
_TYPES = {"1": 1, "2": 2, "3": 3, "": None, "II": 2, "2,0": 2, "molt innovadora": 3,
          "innovative": 2, "sin comunidad innovadora": 1, "n/a": None}
_CP1252_SAFE = string.ascii_letters + string.digits + " .,;:-_'\"/()&#|\t" + \
    "".join(chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7))


def _norm(text: str) -> str:
    """What the reader does to canonical text cells (independent re-implementation)."""
    text = "".join(ch for ch in text if ch not in "\u200b\u200c\u200d\u2060\ufeff")
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]", "", text)
    return " ".join(text.split())


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    if encoding == "cp1252":
        chars = st.sampled_from(_CP1252_SAFE)
    else:
        chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    text = st.text(chars, max_size=12)
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    decimal_comma = draw(st.booleans())
    columns = ["id", "name"] + [c for c in ("address", "postcode", "innovation_type")
                                if draw(st.booleans())]
    if draw(st.booleans()):
        columns += ["lat", "lon"]
    columns = draw(st.permutations(columns))
    extras = draw(st.lists(st.sampled_from(_EXTRAS), max_size=2, unique=True))

    def header_for(c: str) -> str:
        h = draw(st.sampled_from(_SYN[c] + _ACCENTED.get(c, [])))
        h = h.replace(" ", draw(st.sampled_from([" ", "_"])))
        return draw(st.sampled_from([h, h.upper(), h.title(), f" {h} "]))

    header = [header_for(c) for c in columns] + extras
    n = draw(st.integers(0, 12))
    rows: list[dict[str, Any]] = []
    for _ in range(n):
        row: dict[str, Any] = {
            "id": draw(st.one_of(text, st.sampled_from(["k1", "k2", "0042", ""]))),
            "name": draw(text),
            "address": draw(text),
            "postcode": draw(st.sampled_from(["08001", "8002", "", "x"])),
            "innovation_type": draw(st.sampled_from(sorted(_TYPES))),
        }
        lat = draw(st.one_of(st.none(), st.floats(-90, 90), st.floats(41.31, 41.47),
                             st.sampled_from(["abc", "nan", "inf"])))
        lon = draw(st.one_of(st.none(), st.floats(-180, 180), st.floats(2.05, 2.23)))
        row["lat"], row["lon"] = lat, lon
        row["extras"] = [draw(text) for _ in extras]
        rows.append(row)
    return {"encoding": encoding, "delimiter": delimiter, "decimal_comma": decimal_comma,
            "columns": columns, "header": header, "rows": rows,
            "newline": draw(st.sampled_from(["\n", "\r\n"]))}


def _fmt_coord(v: Any, decimal_comma: bool) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    text = repr(float(v))
    return text.replace(".", ",") if decimal_comma else text


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=tables())
def test_reader_property(tmp_path: Path, spec: dict[str, Any]) -> None:
    buf = io.StringIO()
    # csv.writer quotes a field only for the characters of *its* line terminator, so a bare
    # "\r" would end the record; quote everything when lines end with "\n" alone
    w = csv.writer(buf, delimiter=spec["delimiter"], lineterminator=spec["newline"],
                   quoting=csv.QUOTE_ALL if spec["newline"] == "\n" else csv.QUOTE_MINIMAL)
    w.writerow(spec["header"])
    written: list[list[str]] = []
    for r in spec["rows"]:
        cells = {c: r[c] for c in ("id", "name", "address", "postcode", "innovation_type")}
        cells["lat"] = _fmt_coord(r["lat"], spec["decimal_comma"])
        cells["lon"] = _fmt_coord(r["lon"], spec["decimal_comma"])
        written.append([cells[c] for c in spec["columns"]] + r["extras"])
        w.writerow(written[-1])
    path = tmp_path / "prop.csv"
    path.write_bytes(buf.getvalue().encode(spec["encoding"]))

    inv = check_inventory(path)  # must never raise
    n = len(spec["rows"])
    for p in inv.problems:
        assert p.code != "internal_error", p
        assert p.file == "prop.csv"
        assert p.row is None or 1 <= p.row <= n + 1, p
    rows_with_errors = {p.row for p in inv.errors}
    if any(p.row is None for p in inv.errors):
        assert inv.data.empty or {p.code for p in inv.errors if p.row is None} == {"no_rows"}
        return
    by_row = {int(r.source_row): r for r in inv.data.itertuples()}
    swapped = {p.row for p in inv.warnings if p.code == "swapped_coordinates"}
    for k, r in enumerate(spec["rows"]):
        rownum = k + 2
        if rownum in rows_with_errors:
            assert rownum not in by_row
            continue
        if not "".join(written[k]).strip():
            continue  # an empty row (skipped with a warning)
        got = by_row[rownum]
        assert got.id == _norm(r["id"])
        assert got.name == (_norm(r["name"]) or _norm(r["id"]))
        if "lat" in spec["columns"] and r["lat"] is not None:
            lat, lon = float(r["lat"]), float(r["lon"])
            if rownum in swapped:
                lat, lon = lon, lat
            assert (got.lat, got.lon) == (lat, lon)
        else:
            assert math.isnan(got.lat) and math.isnan(got.lon)
        if "innovation_type" in spec["columns"]:
            expected = _TYPES[r["innovation_type"]]
            assert (None if pd.isna(got.innovation_type) else got.innovation_type) == expected
