"""The bad-input corpus: every malformed inventory gives an exact, located, readable outcome.

Small hand-made files live in ``tests/data/bad_inputs/`` (see its README). Binary, big or
XLSX/GeoPackage cases are generated at test time into a temporary folder by the ``GENERATORS``
below (one function per file), so nothing binary or large is committed.

Each case in ``CASES`` records the expected outcome: the number of usable rows, the exact set
of errors as ``(code, row, column)`` and the exact set of warning codes (plus, where it
matters, located warnings). On top, every case checks the invariants the CLI relies on:
``check_inventory`` never raises, every problem names the file and (where they apply) the row
and the column, and ``read_inventory`` raises nothing but ``InventoryError``.
"""

from __future__ import annotations

import contextlib
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwsgeo import InventoryError, check_inventory, read_inventory

CORPUS = Path(__file__).resolve().parent / "data" / "bad_inputs"
H = "id,name,address,postcode,lat,lon,innovation_type\n"

# Problem codes by where they point (the report and the CLI rely on this).
CELL_CODES = {  # row and column
    "missing_id", "duplicate_id", "missing_name", "bad_coordinate", "half_coordinate",
    "coordinate_range", "null_island", "swapped_coordinates", "outside_city", "unknown_type",
    "huge_field", "unbalanced_quote", "formula", "markup", "unsafe_url", "mojibake",
    "bad_bytes", "bad_postcode", "not_a_point", "bad_geometry", "geometry_mismatch",
    "possible_duplicate",
}
ROW_CODES = {"extra_fields", "mixed_delimiter", "short_row", "empty_row", "bad_feature",
             "rows_above_header"}  # row only
HEADER_CODES = {"missing_column", "duplicate_column", "duplicate_header", "blank_header",
                "shadowed_column", "unmapped_column"}  # header row and column
FILE_CODES = {"empty_file", "not_a_table", "encoding", "bad_encoding", "bad_json", "no_rows",
              "missing_sheet", "sheet_name", "wrong_extension", "nul_bytes", "not_found",
              "not_a_file", "bad_crs", "sheet_ignored", "unreadable", "bad_csv"}  # no row
COLUMN_ONLY_CODES = {"no_location", "bad_mapping"}  # a column but no row
KNOWN_CODES = CELL_CODES | ROW_CODES | HEADER_CODES | FILE_CODES | COLUMN_ONLY_CODES


# ---------------------------------------------------------------------------------------
# Generators for the binary, big and workbook cases (written at test time)
# ---------------------------------------------------------------------------------------
def _xlsx_bytes(sheets: dict[str, list[list[Any]]]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX_HEADER = ["id", "name", "address", "postcode", "lat", "lon", "innovation_type"]
GOOD_XLSX_ROW = ["x1", "Espai", "Carrer 1", "08001", 41.38, 2.17, 2]


def gen_xlsx_numbers(path: Path) -> None:
    """Ids and postcodes typed as numbers, coordinates with full float precision."""
    path.write_bytes(_xlsx_bytes({"Spaces": [
        XLSX_HEADER,
        [12, "Twelve", "Carrer 12", 8001, 41.385123456789012, 2.173456789012345, 2.0],
        [13.0, "Thirteen", "Carrer 13", 8002.0, 41.39, 2.16, 3],
    ]}))


def gen_xlsx_formula(path: Path) -> None:
    """A real formula cell (openpyxl stores strings starting with '=' as formulas)."""
    path.write_bytes(_xlsx_bytes({"Spaces": [
        XLSX_HEADER,
        ["f1", '=HYPERLINK("http://evil.example","Click")', "Carrer 1", 8001, 41.38, 2.17, 1],
        GOOD_XLSX_ROW,
    ]}))


def gen_xlsx_title_rows(path: Path) -> None:
    """A title and a blank row above the header."""
    path.write_bytes(_xlsx_bytes({"Spaces": [
        ["Coworking spaces, Barcelona 2014"], [], XLSX_HEADER, GOOD_XLSX_ROW]}))


def gen_xlsx_two_sheets(path: Path) -> None:
    """Sheets 'Notes' and 'Data' (asked for as 'Spaces', which does not exist)."""
    path.write_bytes(_xlsx_bytes({"Notes": [["read me"]], "Data": [XLSX_HEADER, GOOD_XLSX_ROW]}))


def gen_xlsx_empty_first_sheet(path: Path) -> None:
    """The first sheet is empty, the data are on the second."""
    path.write_bytes(_xlsx_bytes({"Empty": [], "Data": [XLSX_HEADER, GOOD_XLSX_ROW]}))


def gen_xlsx_named_csv(path: Path) -> None:
    """A valid workbook renamed .csv."""
    path.write_bytes(_xlsx_bytes({"Spaces": [XLSX_HEADER, GOOD_XLSX_ROW]}))


def gen_xlsx_truncated(path: Path) -> None:
    """The first 300 bytes of a workbook (an interrupted download)."""
    path.write_bytes(_xlsx_bytes({"Spaces": [XLSX_HEADER, GOOD_XLSX_ROW]})[:300])


def gen_zip_named_xlsx(path: Path) -> None:
    """A ZIP archive with a CSV inside, renamed .xlsx."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("spaces.csv", H + "z1,Espai,Carrer 1,08001,41.38,2.17,1\n")
    path.write_bytes(buf.getvalue())


def gen_ole2_named_xlsx(path: Path) -> None:
    """An OLE2 container (old .xls or password-protected workbook)."""
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"junk" * 100)


def gen_png_named_csv(path: Path) -> None:
    """A PNG image renamed .csv."""
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)


def gen_pdf_named_csv(path: Path) -> None:
    """A PDF document renamed .csv."""
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


def gen_random_bytes_csv(path: Path) -> None:
    """4 KiB of (seeded) random bytes."""
    path.write_bytes(random.Random(20140101).randbytes(4096))


def gen_huge_field_csv(path: Path) -> None:
    """A 150,000-character name on row 3."""
    path.write_text(H + "h1,Fine,Carrer 1,08001,41.38,2.17,1\n"
                    f"h2,{'x' * 150_000},Carrer 2,08002,41.39,2.16,2\n", encoding="utf-8")


def gen_many_formulas_csv(path: Path) -> None:
    """30 rows with the same warning: the report groups them."""
    rows = "".join(f"m{i},=cmd{i},Carrer {i},08001,41.38,2.17,\n" for i in range(30))
    path.write_text(H + rows, encoding="utf-8")


def _gpkg(path: Path, layers: dict[str, Any]) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    for layer, rows in layers.items():
        gdf = gpd.GeoDataFrame(
            {"codi": [r[0] for r in rows], "nom": [r[1] for r in rows]},
            geometry=[Point(r[2], r[3]) if r[2] is not None else None for r in rows],
            crs="EPSG:4326").to_crs("EPSG:25831")
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def gen_gpkg_two_layers(path: Path) -> None:
    """Layers 'spaces' (2 points, one outside the city) and 'other' (1 point), in EPSG:25831."""
    _gpkg(path, {"spaces": [("g1", "Espai", 2.17, 41.38), ("g2", "Lluny", 2.35, 41.30)],
                 "other": [("o1", "Altre", 2.16, 41.39)]})


def gen_big_csv(path: Path, n: int = 100_000) -> None:
    """``n`` valid rows plus, every 10,000th row, a duplicate id."""
    rng = random.Random(7)
    lines = [H.rstrip("\n") + ",website\n"]
    for i in range(n):
        rid = f"cw-{i - 1}" if i and i % 10_000 == 0 else f"cw-{i}"
        lines.append(f"{rid},Space {i},Carrer {i % 500} {i % 90 + 1},080{i % 42 + 1:02d},"
                     f"{41.35 + rng.random() * 0.1:.6f},{2.10 + rng.random() * 0.1:.6f},"
                     f"{rng.choice(['1', '2', '3', ''])},https://example.org/{i}\n")
    path.write_text("".join(lines), encoding="utf-8")


GENERATORS: dict[str, Callable[[Path], None]] = {
    "xlsx_numbers.xlsx": gen_xlsx_numbers,
    "xlsx_formula.xlsx": gen_xlsx_formula,
    "xlsx_title_rows.xlsx": gen_xlsx_title_rows,
    "xlsx_two_sheets.xlsx": gen_xlsx_two_sheets,
    "xlsx_empty_first_sheet.xlsx": gen_xlsx_empty_first_sheet,
    "xlsx_named_csv.csv": gen_xlsx_named_csv,
    "xlsx_truncated.xlsx": gen_xlsx_truncated,
    "zip_named_xlsx.xlsx": gen_zip_named_xlsx,
    "ole2_named_xlsx.xlsx": gen_ole2_named_xlsx,
    "png_named_csv.csv": gen_png_named_csv,
    "pdf_named_csv.csv": gen_pdf_named_csv,
    "random_bytes.csv": gen_random_bytes_csv,
    "huge_field.csv": gen_huge_field_csv,
    "many_formulas.csv": gen_many_formulas_csv,
    "gpkg_two_layers.gpkg": gen_gpkg_two_layers,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad_inputs")
    for name, gen in GENERATORS.items():
        gen(folder / name)
    return folder


# ---------------------------------------------------------------------------------------
# The expected outcomes
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """Expected outcome of one malformed inventory."""

    file: str
    usable: int                                   # rows in Inventory.data
    errors: frozenset[tuple[str, int | None, str | None]] = frozenset()
    warnings: frozenset[str] = frozenset()        # exact set of warning codes
    located: frozenset[tuple[str, int | None, str | None]] = frozenset()  # warnings, subset
    kwargs: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return self.file


def case(file: str, usable: int, errors: tuple[tuple[str, int | None, str | None], ...] = (),
         warnings: tuple[str, ...] = (),
         located: tuple[tuple[str, int | None, str | None], ...] = (),
         **kwargs: Any) -> Case:
    return Case(file, usable, frozenset(errors), frozenset(warnings), frozenset(located),
                kwargs)


CASES: list[Case] = [
    # --- encodings
    case("cp1252_semicolon_decimal_comma.csv", 3, warnings=("encoding", "no_location")),
    case("utf16_bom_tab.tsv", 2),
    case("utf16le_no_bom.csv", 2, warnings=("encoding",)),
    case("utf8_bom_pipe.csv", 2),
    case("broken_utf8.csv", 3, warnings=("encoding", "bad_bytes"),
         located=(("bad_bytes", 3, "name"),)),
    case("mojibake.csv", 2, warnings=("mojibake",),
         located=(("mojibake", 2, "name"), ("mojibake", 2, "address"))),
    case("nul_bytes.csv", 2, warnings=("nul_bytes",)),
    # --- delimiters and structure
    case("mixed_delimiters.csv", 2, errors=(("mixed_delimiter", 3, None),)),
    case("unquoted_delimiter.csv", 2, errors=(("extra_fields", 3, None),)),
    case("short_rows.csv", 3, warnings=("short_row", "no_location"),
         located=(("short_row", 3, None), ("short_row", 4, None))),
    case("unbalanced_quote.csv", 1, errors=(("unbalanced_quote", 3, "name"),)),
    case("missing_id_column.csv", 0, errors=(("missing_column", 1, "id"),)),
    case("missing_name_column.csv", 0, errors=(("missing_column", 1, "name"),)),
    case("headerless.csv", 0, errors=(("missing_column", 1, "id"),
                                      ("missing_column", 1, "name"))),
    case("duplicate_columns.csv", 0, errors=(("duplicate_column", 1, "nombre"),)),
    case("duplicate_plain_header.csv", 1, warnings=("duplicate_header", "no_location"),
         located=(("duplicate_header", 1, "notes"),)),
    case("lat_without_lon.csv", 0, errors=(("missing_column", 1, "lon"),)),
    case("empty.csv", 0, errors=(("empty_file", None, None),)),
    case("whitespace_only.csv", 0, errors=(("empty_file", None, None),)),
    case("header_only.csv", 0, errors=(("no_rows", None, None),)),
    case("blank_lines_before_header.csv", 1),
    case("title_above_header.csv", 1, warnings=("rows_above_header",),
         located=(("rows_above_header", 3, None),)),
    case("empty_rows_middle.csv", 2, warnings=("empty_row",),
         located=(("empty_row", 3, None), ("empty_row", 4, None))),
    case("control_chars.csv", 1),
    case("html_error_page.csv", 0, errors=(("not_a_table", None, None),)),
    case("csv_named_xlsx.xlsx", 1, warnings=("wrong_extension",)),
    case("type_column_not_innovation.csv", 3, warnings=("unmapped_column", "no_location"),
         located=(("unmapped_column", 1, "type"),)),
    # --- coordinates
    case("nan_inf_coordinates.csv", 1, errors=(
        ("bad_coordinate", 2, "lat"), ("bad_coordinate", 3, "lon"),
        ("bad_coordinate", 4, "lat"), ("bad_coordinate", 5, "lat"))),
    case("swapped_latlon.csv", 2, warnings=("swapped_coordinates",),
         located=(("swapped_coordinates", 2, "lat"),)),
    case("sea_and_madrid.csv", 4, warnings=("outside_city",),
         located=(("outside_city", 2, "lat"), ("outside_city", 3, "lat"),
                  ("outside_city", 4, "lat"))),
    case("out_of_range.csv", 1, errors=(
        ("coordinate_range", 2, "lat"), ("coordinate_range", 3, "lon"),
        ("coordinate_range", 4, "lat"), ("coordinate_range", 4, "lon"))),
    case("null_island.csv", 1, errors=(("null_island", 2, "lat"),)),
    case("half_coordinates.csv", 1, errors=(("half_coordinate", 2, "lon"),
                                            ("half_coordinate", 3, "lat"))),
    case("not_numbers_dms.csv", 1, errors=(
        ("bad_coordinate", 2, "lat"), ("bad_coordinate", 2, "lon"),
        ("bad_coordinate", 3, "lat"), ("bad_coordinate", 3, "lon"),
        ("bad_coordinate", 4, "lat"))),
    # --- ids and values
    case("duplicate_ids.csv", 2, errors=(("duplicate_id", 4, "id"),)),
    case("blank_ids.csv", 1, errors=(("missing_id", 2, "id"), ("missing_id", 3, "id"))),
    case("formulas.csv", 5, warnings=("formula",),
         located=(("formula", 2, "name"), ("formula", 3, "name"), ("formula", 4, "name"),
                  ("formula", 5, "address"))),
    case("html_script.csv", 4, warnings=("markup", "unsafe_url"),
         located=(("markup", 2, "name"), ("markup", 3, "name"), ("markup", 4, "address"),
                  ("unsafe_url", 3, "website"))),
    case("unknown_innovation_types.csv", 3, errors=(
        ("unknown_type", 2, "innovation_type"), ("unknown_type", 3, "innovation_type"),
        ("unknown_type", 4, "innovation_type"))),
    case("bad_postcodes.csv", 4, warnings=("bad_postcode",),
         located=(("bad_postcode", 2, "postcode"), ("bad_postcode", 3, "postcode"))),
    case("possible_duplicate.csv", 2, warnings=("possible_duplicate", ),
         located=(("possible_duplicate", 3, "name"),)),
    # --- JSON / GeoJSON
    case("geojson_polygon.geojson", 3, warnings=("not_a_point",),
         located=(("not_a_point", 3, "geometry"), ("not_a_point", 4, "geometry"))),
    case("geojson_latlon_order.geojson", 1, warnings=("swapped_coordinates",),
         located=(("swapped_coordinates", 2, "geometry"),)),
    case("geojson_bad_geometry.geojson", 1, errors=(("bad_geometry", 3, "geometry"),
                                                    ("bad_feature", 4, None))),
    case("geojson_invalid.geojson", 0, errors=(("bad_json", None, None),)),
    case("json_not_a_table.json", 0, errors=(("not_a_table", None, None),)),
    case("json_records.json", 2, warnings=("no_location",)),
    case("json_nan_infinity.geojson", 1, errors=(("bad_coordinate", 2, "lat"),
                                                 ("bad_coordinate", 3, "lon"))),
    case("bracket_headers.csv", 1),
    case("colon_delimiter.csv", 0, errors=(("missing_column", 1, "id"),
                                           ("missing_column", 1, "name"))),
    # --- generated at test time (GENERATORS)
    case("xlsx_numbers.xlsx", 2),
    case("xlsx_formula.xlsx", 2, warnings=("formula",), located=(("formula", 2, "name"),)),
    case("xlsx_title_rows.xlsx", 1, warnings=("rows_above_header",),
         located=(("rows_above_header", 3, None),)),
    case("xlsx_two_sheets.xlsx", 0, errors=(("missing_sheet", None, None),), sheet="Spaces"),
    case("xlsx_empty_first_sheet.xlsx", 0, errors=(("empty_file", None, None),)),
    case("xlsx_named_csv.csv", 1, warnings=("wrong_extension",)),
    case("xlsx_truncated.xlsx", 0, errors=(("not_a_table", None, None),)),
    case("zip_named_xlsx.xlsx", 0, errors=(("not_a_table", None, None),)),
    case("ole2_named_xlsx.xlsx", 0, errors=(("not_a_table", None, None),)),
    case("png_named_csv.csv", 0, errors=(("not_a_table", None, None),)),
    case("pdf_named_csv.csv", 0, errors=(("not_a_table", None, None),)),
    case("random_bytes.csv", 0, errors=(("not_a_table", None, None),)),
    case("huge_field.csv", 1, errors=(("huge_field", 3, "name"),)),
    case("many_formulas.csv", 30, warnings=("formula",)),
    case("gpkg_two_layers.gpkg", 2, warnings=("outside_city",),
         located=(("outside_city", 3, "geometry"),), sheet="spaces"),
    case("gpkg_two_layers.gpkg", 0, errors=(("missing_sheet", None, None),), sheet="nope"),
]


def _path(c: Case, generated: Path) -> Path:
    return generated / c.file if c.file in GENERATORS else CORPUS / c.file


def test_corpus_is_complete() -> None:
    """Every committed corpus file has a case, and there are at least 30 malformed inputs."""
    committed = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    covered = {c.file for c in CASES}
    assert committed <= covered, f"corpus files without an expected outcome: {committed - covered}"
    assert set(GENERATORS) <= covered
    assert len(covered) >= 30


@pytest.mark.parametrize("c", CASES, ids=lambda c: f"{c.file}{'-' if c.kwargs else ''}"
                         f"{'-'.join(map(str, c.kwargs.values()))}")
def test_bad_input(c: Case, generated: Path) -> None:
    path = _path(c, generated)
    inv = check_inventory(path, **c.kwargs)  # never raises

    errors = {(p.code, p.row, p.column) for p in inv.errors}
    assert errors == set(c.errors), inv.report(max_per_code=None)
    assert {p.code for p in inv.warnings} == set(c.warnings), inv.report(max_per_code=None)
    assert set(c.located) <= {(p.code, p.row, p.column) for p in inv.warnings}
    assert len(inv.data) == c.usable
    assert inv.ok == (not c.errors)
    _check_problem_invariants(inv, path)

    # read_inventory: InventoryError (listing every error) or the same inventory
    if c.errors:
        with pytest.raises(InventoryError) as exc:
            read_inventory(path, **c.kwargs)
        assert exc.value.problems == inv.problems
        for p in inv.errors[:50]:
            assert str(p) in str(exc.value)
    else:
        assert len(read_inventory(path, **c.kwargs).data) == c.usable


def _check_problem_invariants(inv: Any, path: Path) -> None:
    header_row = inv.details.get("header_row", 1)
    last_row = header_row + inv.n_input_rows
    report = inv.report(max_per_code=None)
    for p in inv.problems:
        assert p.code in KNOWN_CODES, f"undocumented problem code {p.code!r}"
        assert p.code != "internal_error"
        assert p.file == path.name
        assert p.severity in ("error", "warning")
        assert p.message and "Traceback" not in p.message
        text = str(p)
        assert text.startswith(path.name)
        assert text.endswith(f"[{p.code}]")
        if p.row is not None:
            assert 1 <= p.row <= last_row, (p, last_row)
            assert f"row {p.row}" in text
        if p.column is not None:
            assert f"column '{p.column}'" in text
        if p.code in CELL_CODES:
            assert p.row is not None and p.column is not None, p
        elif p.code in ROW_CODES:
            assert p.row is not None and p.column is None, p
        elif p.code in HEADER_CODES:
            assert p.row == header_row and p.column is not None, p
        elif p.code in FILE_CODES:
            assert p.row is None, p
        else:
            assert p.row is None and p.column is not None, p
        assert text in report


def test_report_groups_repeated_codes(generated: Path) -> None:
    inv = check_inventory(generated / "many_formulas.csv")
    assert len(inv.warnings) == 30  # every problem is kept
    report = inv.report()
    shown = [ln for ln in report.splitlines() if "[formula]" in ln and "more rows" not in ln]
    assert len(shown) == 5
    assert "… and 25 more rows with [formula] (rows 7-31)" in report
    assert len(inv.report(max_per_code=None).splitlines()) > len(report.splitlines())


def test_missing_file_and_folder(tmp_path: Path) -> None:
    inv = check_inventory(tmp_path / "nope.csv")
    assert [(p.code, p.row) for p in inv.problems] == [("not_found", None)]
    assert [p.code for p in check_inventory(tmp_path).problems] == ["not_a_file"]
    with pytest.raises(InventoryError):
        read_inventory(tmp_path / "nope.csv")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "locked.csv"
    p.write_text(H + "a,b,c,08001,41.38,2.17,1\n")
    real_open = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == p:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    inv = check_inventory(p)
    assert [(x.code, x.row) for x in inv.problems] == [("unreadable", None)]
    assert "Permission denied" in inv.problems[0].message


_MUTATIONS = ["flip", "truncate", "insert", "duplicate"]
_INSERTS = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\x00", b"\xff", b"\xc3", b"=", b"<", b"{",
            b"]", b"\xef\xbb\xbf"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pick=st.integers(0, 10**6), op=st.sampled_from(_MUTATIONS), seed=st.integers(0, 2**32))
def test_mutated_corpus_never_crashes(generated: Path, tmp_path: Path, pick: int, op: str,
                                      seed: int) -> None:
    """Random byte-level damage to any corpus file still gives problems, never a traceback."""
    files = sorted({_path(c, generated) for c in CASES if c.file != "huge_field.csv"})
    src = files[pick % len(files)]
    rng = random.Random(seed)
    data = bytearray(src.read_bytes())
    if op == "flip" and data:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif op == "truncate" and data:
        data = data[: rng.randrange(len(data))]
    elif op == "insert":
        at = rng.randrange(len(data) + 1)
        data[at:at] = rng.choice(_INSERTS) * rng.randint(1, 3)
    elif data:
        at = rng.randrange(len(data))
        data[at:at] = data[at: at + rng.randint(1, 60)]
    path = tmp_path / f"mutated{src.suffix}"
    path.write_bytes(bytes(data))
    inv = check_inventory(path)
    _check_problem_invariants(inv, path)
    with contextlib.suppress(InventoryError):
        read_inventory(path)


@pytest.mark.slow
def test_100k_rows_load(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    gen_big_csv(path)
    inv = check_inventory(path)  # speed: benchmarks/inventory_load.py
    assert inv.n_input_rows == 100_000
    assert len(inv.data) == 100_000 - 9
    assert {(p.code, p.row) for p in inv.problems} == {
        ("duplicate_id", i + 2) for i in range(10_000, 100_000, 10_000)}
    assert inv.data["id"].is_unique
