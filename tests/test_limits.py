"""Hostile and oversized inventories are refused early, with a clear error, and nothing written.

Every large file is generated in a temporary folder during the test (no big fixtures in git).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from cwsgeo import ConfigError, InventoryError
from cwsgeo.analysis.inventory import ReadLimits, check_inventory, read_inventory
from cwsgeo.analysis.inventory.limits import check_json_depth, check_line_length
from cwsgeo.analysis.inventory.model import KEEP_PER_CODE
from cwsgeo.build.config import Config
from cwsgeo.cli import _config, _parser, main
from tests.test_pipeline import write_config

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="Spaces" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        '</Relationships>'),
}
HEADER = ["id", "name", "address", "postcode", "innovation_type"]


def write_xlsx(path: Path, rows: Iterable[Sequence[str]], level: int = 6,
               extra: dict[str, int] | None = None) -> None:
    """Write a minimal XLSX (inline strings) with :mod:`zipfile`, streaming the sheet XML.

    Cells have no ``r`` reference (optional in SpreadsheetML: they follow one another).

    Parameters
    ----------
    path
        Output file.
    rows
        Cell texts, row by row (the first row is the header).
    level
        Deflate level.
    extra
        Extra members of that many zero bytes (a ZIP bomb).
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, text in _XLSX_PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
                     "<sheetData>".encode())
            chunk: list[str] = []
            for n, row in enumerate(rows, start=1):
                cells = "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                                for v in row)
                chunk.append(f'<row r="{n}">{cells}</row>')
                if len(chunk) >= 10_000:
                    fh.write("".join(chunk).encode())
                    chunk = []
            fh.write(("".join(chunk) + "</sheetData></worksheet>").encode())
        for name, size in (extra or {}).items():
            with zf.open(name, "w", force_zip64=True) as fh:
                block = bytes(1 << 20)
                for _ in range(size >> 20):
                    fh.write(block)


def space_rows(n: int, start: int = 0) -> Iterable[list[str]]:
    """Yield the header and ``n`` valid rows of an inventory."""
    yield HEADER
    for i in range(start, start + n):
        yield [f"cw-{i}", f"Space {i}", f"Carrer {i % 500} {i % 90 + 1}",
               f"080{i % 42 + 1:02d}", "123"[i % 3]]


def _refused(inv_path: Path, limit: str, *words: str, limits: ReadLimits | None = None,
             raises: bool = True) -> str:
    inv = check_inventory(inv_path, limits=limits)
    assert [p.code for p in inv.errors] == ["too_large"], inv.report()
    message = inv.errors[0].message
    assert f"({limit})" in message and "raise the limit" in message, message
    for word in words:
        assert word in message, message
    assert inv.data.empty
    if raises:
        with pytest.raises(InventoryError, match="too_large"):
            read_inventory(inv_path, limits=limits)
    return message


def _cli_refuses(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["check", str(path), *args]) == 1
    out, err = capsys.readouterr()
    assert "too_large" in out and "Traceback" not in out + err
    return out


# ---------------------------------------------------------------------------------------
# XLSX: ZIP bombs and rows
# ---------------------------------------------------------------------------------------
def test_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "bomb.xlsx"
    write_xlsx(bomb, space_rows(3), extra={"xl/media/zeros.bin": 250 << 20})
    assert bomb.stat().st_size < 2_000_000
    message = _refused(bomb, "max_uncompressed_bytes", "262.1 MB", "xl/media/zeros.bin",
                       "max_uncompressed_mb", "--max-mb")
    assert "bomb.xlsx" in str(check_inventory(bomb).errors[0])
    assert "200 MB" in message
    _cli_refuses(bomb, capsys)


def test_highly_compressed_workbook_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "ratio.xlsx"
    write_xlsx(bomb, space_rows(3), extra={"xl/worksheets/padding.bin": 40 << 20})
    _refused(bomb, "max_compression_ratio", "ZIP bomb", "max_compression_ratio")
    inv = check_inventory(bomb, limits=ReadLimits(max_compression_ratio=1e6))
    assert inv.ok and len(inv.data) == 3


def test_xlsx_just_over_the_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "rows.xlsx"
    write_xlsx(path, space_rows(51))
    _refused(path, "max_rows", "more than 50 data rows", "--max-rows", limits=ReadLimits(
        max_rows=50))
    inv = read_inventory(path, limits=ReadLimits(max_rows=51))
    assert len(inv.data) == 51


def test_trailing_empty_rows_do_not_count(tmp_path: Path) -> None:
    path = tmp_path / "trailing.xlsx"
    write_xlsx(path, [*space_rows(5), *([""] * 3 for _ in range(200))])
    inv = read_inventory(path, limits=ReadLimits(max_rows=5))
    assert len(inv.data) == 5 and inv.n_input_rows == 5


@pytest.mark.slow
def test_xlsx_over_the_default_row_limit(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "many.xlsx"
    write_xlsx(path, ([f"cw-{i}", "S"] for i in range(200_002)), level=1)
    out = _cli_refuses(path, capsys)
    assert "more than 200,000 data rows (stopped at row 200,002)" in out


# ---------------------------------------------------------------------------------------
# CSV: columns, long lines, size
# ---------------------------------------------------------------------------------------
def test_very_wide_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wide.csv"
    header = ["id", "name"] + [f"c{i}" for i in range(5_000)]
    path.write_text(",".join(header) + "\n" + ",".join(["1", "A"] + ["x"] * 5_000) + "\n")
    _refused(path, "max_columns", "row 1 has 5,002 columns", "max_columns", "--max-columns")
    _cli_refuses(path, capsys)
    assert check_inventory(path, limits=ReadLimits(max_columns=5_002)).ok


def test_trailing_empty_fields_do_not_count_as_columns(tmp_path: Path) -> None:
    path = tmp_path / "commas.csv"
    path.write_text("id,name" + "," * 600 + "\n1,A\n")
    assert check_inventory(path).ok


def test_csv_with_a_50_mb_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "line.csv"
    with path.open("w") as fh:
        fh.write("id,name,address\n1,A,")
        fh.write("x" * 50_000_000)
        fh.write("\n2,B,Carrer del Bruc 149\n")
    _refused(path, "max_line_chars", "line 2 has 50,000,004 characters", "max_line_chars")
    _cli_refuses(path, capsys)


def test_csv_over_the_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,name\n" + "".join(f"{i},Space {i}\n" for i in range(2_000)))
    _refused(path, "max_bytes", "the file is 0.0 MB", "max_file_mb", "--max-mb",
             limits=ReadLimits(max_bytes=1_000))


def test_line_scan_handles_every_line_ending() -> None:
    limits = ReadLimits(max_line_chars=10)
    for end in ("\n", "\r\n", "\r"):
        check_line_length(end.join(["x" * 10] * 50), limits)
    with pytest.raises(Exception, match="line 3 has 11 characters"):
        check_line_length("\n".join(["x" * 10, "y", "z" * 11, "w"] * 5), limits)


def test_rows_of_a_csv_stop_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("id,name\n" + "".join(f"{i},Space {i}\n" for i in range(101)) + "\n" * 50)
    _refused(path, "max_rows", "more than 100 data rows", limits=ReadLimits(max_rows=100))
    assert len(read_inventory(path, limits=ReadLimits(max_rows=101)).data) == 101


# ---------------------------------------------------------------------------------------
# JSON and GeoJSON
# ---------------------------------------------------------------------------------------
def test_deeply_nested_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.json"
    path.write_text('[{"id": "1", "name": "A", "x": ' + "[" * 100_000 + "]" * 100_000 + "}]")
    _refused(path, "max_json_depth", "nested 100,002 levels deep", "max_json_depth")
    _cli_refuses(path, capsys)
    shallow = tmp_path / "ok.json"
    shallow.write_text('[{"id": "1", "name": "A", "x": ' + "[" * 60 + "]" * 60 + "}]")
    assert check_inventory(shallow).ok


def test_brackets_inside_strings_do_not_count() -> None:
    limits = ReadLimits(max_json_depth=3)
    text = json.dumps([{"name": "[[[[{{{{" + '\\"[[[[' + "\\\\", "x": ["]]]]"]}])
    check_json_depth(text.encode(), limits)
    with pytest.raises(Exception, match="nested 4 levels"):
        check_json_depth(json.dumps([[[["a]]]]"]]]]).encode(), limits)


def test_geojson_polygon_with_a_million_vertices(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    n = 1_000_000
    ring = [[2.1 + 0.05 * (i / n), 41.38] for i in range(n)] + [[2.1, 41.39], [2.1, 41.38]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "1", "name": "A"},
         "geometry": {"type": "Point", "coordinates": [2.17, 41.39]}},
        {"type": "Feature", "properties": {"id": "2", "name": "B"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    path = tmp_path / "huge.geojson"
    path.write_text(json.dumps(fc))
    _refused(path, "max_vertices", "row 3 has more than 100,000 vertices", "max_vertices",
             raises=False)
    _cli_refuses(path, capsys)


def test_too_many_geojson_features(tmp_path: Path) -> None:
    features = [{"type": "Feature", "properties": {"id": str(i), "name": f"S{i}"},
                 "geometry": {"type": "Point", "coordinates": [2.17, 41.39]}}
                for i in range(11)]
    path = tmp_path / "many.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    _refused(path, "max_rows", "11 features", limits=ReadLimits(max_rows=10))
    assert check_inventory(path, limits=ReadLimits(max_rows=11)).ok


def test_geopackage_feature_count_from_metadata(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "spaces.gpkg"
    gpd.GeoDataFrame({"id": [str(i) for i in range(20)], "name": ["S"] * 20},
                     geometry=[Point(2.17, 41.39)] * 20, crs=4326).to_file(path)
    _refused(path, "max_features", "20 features", "--max-rows", limits=ReadLimits(max_rows=19))
    assert check_inventory(path, limits=ReadLimits(max_rows=19, max_features=20)).ok


# ---------------------------------------------------------------------------------------
# Bounded problem lists
# ---------------------------------------------------------------------------------------
def test_problem_lists_are_capped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "dups.csv"
    n = KEEP_PER_CODE + 500
    path.write_text("id,name\n" + "".join(f"x,Space {i}\n" for i in range(n)))
    inv = check_inventory(path)
    assert len(inv.errors) == KEEP_PER_CODE
    assert inv.codes("error") == {"duplicate_id": n - 1}
    assert f"{n - 1:,} errors" in inv.report()
    assert f"… and {n - 1 - 5:,} more rows with [duplicate_id] (rows 8-{n + 1})" in inv.report()
    full = inv.report(max_per_code=None)
    assert f"… and 499 more rows with [duplicate_id] (rows {KEEP_PER_CODE + 3}-{n + 1})" in full
    with pytest.raises(InventoryError, match=f"{n - 1:,} errors in the inventory"):
        read_inventory(path)


# ---------------------------------------------------------------------------------------
# Config keys and command-line flags
# ---------------------------------------------------------------------------------------
def test_config_keys_set_the_limits(tmp_path: Path) -> None:
    cfg = Config.from_dict({"inventory": {"max_rows": 10, "max_file_mb": 1.5,
                                          "max_uncompressed_mb": 300, "max_json_depth": 100,
                                          "max_compression_ratio": 500}}, root=tmp_path)
    limits = cfg.inventory.read_limits()
    assert limits == ReadLimits(max_rows=10, max_bytes=1_500_000,
                                max_uncompressed_bytes=300_000_000, max_json_depth=100,
                                max_compression_ratio=500)
    assert Config.from_dict({}, root=tmp_path).inventory.read_limits() == \
        ReadLimits()
    for bad in ({"max_rows": 0}, {"max_rows": 1.5}, {"max_rows": True}, {"max_file_mb": "1"},
                {"max_columns": -3}):
        with pytest.raises(ConfigError, match=r"\[inventory\] max_"):
            Config.from_dict({"inventory": bad}, root=tmp_path)


def test_cli_flags_override_the_config(tmp_path: Path) -> None:
    (tmp_path / "cwsgeo.toml").write_text("[inventory]\nmax_rows = 10\nmax_columns = 20\n")
    src = tmp_path / "in.csv"
    src.write_text("id,name\n1,A\n")
    args = _parser().parse_args(["--config", str(tmp_path / "cwsgeo.toml"), "check", str(src),
                                 "--max-rows", "300000", "--max-mb", "500"])
    inv_cfg = _config(args).inventory
    assert (inv_cfg.max_rows, inv_cfg.max_columns) == (300_000, 20)
    assert inv_cfg.read_limits() == ReadLimits(
        max_rows=300_000, max_columns=20, max_bytes=500_000_000,
        max_uncompressed_bytes=500_000_000)
    args = _parser().parse_args(["build", "--max-columns", "0"])
    with pytest.raises(ConfigError, match="max_columns must be > 0"):
        _config(args)


def test_read_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        ReadLimits(max_rows=0)
    assert ReadLimits(max_rows=7).features == 7
    assert ReadLimits(max_rows=7, max_features=9).features == 9


# ---------------------------------------------------------------------------------------
# Builds write nothing; raised limits let the file through
# ---------------------------------------------------------------------------------------
@pytest.mark.bundle
def test_build_refuses_hostile_inventories_and_writes_nothing(
        bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, bundle_dir)
    bomb = tmp_path / "bomb.xlsx"
    write_xlsx(bomb, space_rows(3), extra={"xl/media/zeros.bin": 250 << 20})
    wide = tmp_path / "wide.csv"
    wide.write_text("id,name,address," + ",".join(f"c{i}" for i in range(600)) + "\n"
                    "1,A,Carrer del Bruc 149\n")
    for path in (bomb, wide):
        assert main(["--quiet", "--config", str(config), "build", "--inventory",
                     str(path)]) == 1
        err = capsys.readouterr().err
        assert "too_large" in err and "Traceback" not in err and "nothing was written" in err
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.*"))
    out = tmp_path / "geo.csv"
    assert main(["--quiet", "--config", str(config), "geocode", str(wide), "-o", str(out)]) == 1
    assert not out.exists()
    assert main(["--quiet", "--config", str(config), "geocode", str(wide), "-o", str(out),
                 "--max-columns", "700"]) == 0
    assert "Carrer del Bruc" in out.read_text()


def test_check_honours_the_limit_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    from cwsgeo.cli import main

    inv = tmp_path / "spaces.csv"
    inv.write_text("id,name,address\n" + "".join(f"s{i},Space {i},Carrer de Mallorca {i}\n"
                                                  for i in range(1, 31)), encoding="utf-8")
    (tmp_path / "cwsgeo.toml").write_text("", encoding="utf-8")
    config = str(tmp_path / "cwsgeo.toml")
    assert main(["--config", config, "check", str(inv), "--max-rows", "10"]) == 1
    err = capsys.readouterr()
    assert "too_large" in err.out + err.err and "Traceback" not in err.err
    assert main(["--config", config, "check", str(inv), "--max-rows", "100"]) == 0


def test_the_inventory_report_counts_problems_beyond_those_kept(tmp_path: Path) -> None:
    import geopandas as gpd

    from cwsgeo.outputs.report import inventory_report

    path = tmp_path / "dupes.csv"
    path.write_text("id,name\n" + "".join(f"same,Space {i}\n" for i in range(1_006)))
    inv = check_inventory(path)
    assert inv.omitted
    spaces = gpd.GeoDataFrame({c: [] for c in ("source_row", "id", "name", "location_method",
                                               "in_city")}, geometry=[], crs=4326)
    report = inventory_report(inv, spaces)
    omitted = sum(o.count for o in inv.omitted)
    assert f"… and {omitted} more problem" in report
