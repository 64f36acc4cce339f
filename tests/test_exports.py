"""GeoParquet twins of GeoPackages and the XLSX workbook of the tables (no bundle needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from cwsgeo._io import geoparquet_paths, write_geoparquet_twins, write_gpkg
from cwsgeo.outputs.workbook import changes_table, sheet_name, write_workbook

HOSTILE = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@A1", "\tTAB", "ok"]


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["a", "b", None], "kind": pd.array([1, None, 3], dtype="Int64")},
        geometry=[Point(430000, 4581000), Point(431000, 4582000), None], crs="EPSG:25831")


def test_geoparquet_names_are_unambiguous() -> None:
    assert geoparquet_paths("out/districts.gpkg", ["districts"]) == {
        "districts": Path("out/districts.parquet")}
    two = geoparquet_paths("out/spaces.gpkg", ["spaces", "walk areas/10"])
    assert two == {"spaces": Path("out/spaces.spaces.parquet"),
                   "walk areas/10": Path("out/spaces.walk_areas_10.parquet")}


def test_geoparquet_twins_round_trip(tmp_path: Path) -> None:
    pts = _points()
    areas = gpd.GeoDataFrame({"code": ["01"]}, geometry=[box(430000, 4580000, 431000, 4581000)],
                             crs="EPSG:25831")
    gpkg = write_gpkg({"points": pts.to_crs(4326), "areas": areas.to_crs(4326)},
                      tmp_path / "two.gpkg")
    twins = write_geoparquet_twins(gpkg)
    assert sorted(p.name for p in twins.values()) == ["two.areas.parquet", "two.points.parquet"]
    back = gpd.read_parquet(twins["points"])
    assert back.crs.to_epsg() == 4326
    assert len(back) == 3 and back.geometry.isna().sum() == 1
    # nullable integers and missing text survive (read through Arrow, not as floats)
    assert back["kind"].isna().tolist() == [False, True, False]
    assert "int" in str(back["kind"].dtype)
    assert back["name"].isna().tolist() == [False, False, True]
    np.testing.assert_allclose(back.geometry.iloc[0].x, pts.to_crs(4326).geometry.iloc[0].x)
    assert not list(tmp_path.glob(".*.tmp*"))


def _table() -> pd.DataFrame:
    return pd.DataFrame({"name": HOSTILE, "value": [1.5, -3.0, np.nan, 4, 5, 6],
                         "=evil header": ["x\x00y\x0bz", "a", "b", "c", "d", "e"],
                         "long": ["w" * 200, "", "", "", "", ""]})


def test_workbook_is_safe_and_readable(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    gdf = _points().assign(other=1)
    path = write_workbook({"spaces": gdf, "t/a:b[1]": _table(), "T A B 1": _table()},
                          tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["spaces", "t a b 1", "T A B 1~2"]
    ws = wb["spaces"]
    assert [c.value for c in ws[1]] == ["name", "kind", "other"]  # geometry dropped
    ws = wb["t a b 1"]
    assert ws.freeze_panes == "A2"
    assert all(c.font.b for c in ws[1])
    assert ws.auto_filter.ref == "A1:D7"
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    names = [ws.cell(row=r, column=1).value for r in range(2, 8)]
    assert names == ["'" + v if v != "ok" else v for v in HOSTILE]
    assert ws["C1"].value == "'=evil header"
    assert ws["C2"].value == "xyz"  # characters XLSX cannot hold are dropped
    assert [ws.cell(row=r, column=2).value for r in range(2, 8)] == [1.5, -3, None, 4, 5, 6]
    assert ws.column_dimensions["D"].width == 60  # capped
    assert 6 <= ws.column_dimensions["B"].width < 15


def test_workbook_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cwsgeo.outputs import workbook

    path = write_workbook({"a": _table()}, tmp_path / "t.xlsx")
    before = path.read_bytes()
    save = workbook.write_xlsx

    def boom(sheets: list[Any], filename: Path) -> Path:
        save(sheets, filename)  # the whole temporary file is written, then the disk fails
        raise OSError("disk full")

    monkeypatch.setattr(workbook, "write_xlsx", boom)
    with pytest.raises(OSError, match="disk full"):
        write_workbook({"b": _table()}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_sheet_names() -> None:
    taken: set[str] = set()
    assert sheet_name("x" * 40, taken) == "x" * 31
    assert sheet_name("X" * 40, taken) == "X" * 29 + "~2"
    assert sheet_name("[]", taken) == "Sheet"
    assert sheet_name("'quoted'", taken) == "quoted"


def test_changes_table() -> None:
    report = {"first_build": False, "added": [{"id": "s1", "name": "=A"}],
              "moved": [{"id": "s2", "name": "B", "moved_m": 120.5}], "removed": [],
              "districts": {"01": {"before": 1, "after": 2, "delta": 1}}}
    t = changes_table(report)
    assert list(t.columns) == ["change", "id", "name", "moved_m"]
    assert t["change"].tolist() == ["added", "moved"]
    assert list(changes_table({}).columns) == ["change", "id", "name"]


def test_workbook_sheets_are_openpyxl_s(tmp_path: Path) -> None:
    """The sheets are byte for byte those openpyxl's write-only mode writes from the cells."""
    import zipfile

    import openpyxl.xml
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from cwsgeo.outputs.workbook import _sheet

    if openpyxl.xml.LXML:
        pytest.skip("openpyxl serialises through lxml here (other spacing)")
    table = pd.DataFrame({
        "name": ["=cmd", " pad ", "", "  ", None, "a<b&c>\x01", "#N/A", "x" * 40_000],
        "f": [1.5, -3.0, np.nan, 4, 1e-7, 0.1 + 0.2, np.inf, 123456789012.5],
        "i": np.arange(8), "b": [True, False] * 4,
        "I": pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
        "s": pd.array(["a", None, "c", "d", "e", "f", "g", "h"], dtype="string"),
        "t": pd.to_datetime(["2024-01-02 03:04:05"] * 7 + [None]),
        "o": [1, "two", 3.5, None, np.float64(2.5), np.int64(7), True, pd.NA]})
    ours = write_workbook({"x": table, "none": pd.DataFrame()}, tmp_path / "ours.xlsx")
    wb = Workbook(write_only=True)
    for name, frame in (("x", table), ("none", pd.DataFrame())):
        sheet = _sheet(name, frame)
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        if sheet.header:
            ws.auto_filter.ref = f"A1:{chr(64 + len(sheet.header))}{sheet.n_rows + 1}"
        for k, width in enumerate(sheet.widths):
            ws.column_dimensions[chr(65 + k)].width = width
        head = [WriteOnlyCell(ws, value=v) for v in sheet.header]
        for cell in head:
            cell.font = Font(bold=True)
        ws.append(head)
        for row in zip(*sheet.columns, strict=True):
            ws.append(list(row))
    wb.save(tmp_path / "openpyxl.xlsx")
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(tmp_path / "openpyxl.xlsx") as b:
        for part in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
            assert a.read(part) == b.read(part), part
