"""The inventory keeper's loop on the real bundle: nothing the keeper types is ever lost.

One project, built several times: the editable inventory is seeded once and never
overwritten; an edit in place reaches the map and ``changes.md``; an edit made in
``data/raw/`` is set aside with a warning; a copy of the bundle's list uses no Google
coordinates; the change report follows the inventory into a new ``--out``.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cwsgeo.cli import main

pytestmark = [pytest.mark.bundle, pytest.mark.slow]


@pytest.fixture(scope="module")
def project(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keeper")
    (root / "cwsgeo.toml").write_text(
        f'[data]\nmirror = "{bundle_dir.as_posix()}"\n', encoding="utf-8")
    return root


def run(project: Path, *args: str) -> int:
    return main(["--quiet", "--config", str(project / "cwsgeo.toml"), *args])


def edit_rows(path: Path, **changes: dict[str, str]) -> None:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for space_id, values in changes.items():
        row = table.index[table["id"] == space_id.replace("_", "-")][0]
        for column, value in values.items():
            table.loc[row, column] = value
    table.to_csv(path, index=False)


def test_fetch_seeds_the_editable_inventory_once(project: Path, bundle_dir: Path) -> None:
    assert run(project, "fetch") == 0
    inventory = project / "inventory" / "coworking_spaces.csv"
    bundle = bundle_dir / "coworking" / "coworking_spaces.csv"
    assert inventory.read_bytes() == bundle.read_bytes()
    inventory.write_text(inventory.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert run(project, "fetch") == 0  # a second fetch never touches it
    assert inventory.read_bytes() == bundle.read_bytes() + b"\n"
    raw = project / "data" / "raw" / "coworking" / "coworking_spaces.csv"
    assert not raw.stat().st_mode & 0o222  # data/raw is read-only input


def test_an_edit_in_place_reaches_the_map_and_the_change_report(project: Path) -> None:
    assert run(project, "build") == 0
    inventory = project / "inventory" / "coworking_spaces.csv"
    edit_rows(inventory, bcn_cw_0001={"address": "Carrer de Girona 70",
                                      "name": "Espai Girona (edited)", "innovation_type": "3"})
    assert run(project, "build") == 0
    processed = project / "data" / "processed"
    changes = (processed / "changes.md").read_text(encoding="utf-8")
    assert "Espai Girona (edited)" in changes and "Newly located (1)" in changes
    table = pd.read_csv(processed / "coworking_spaces.csv", dtype={"id": str})
    row = table.set_index("id").loc["bcn-cw-0001"]
    assert row["location_method"] == "gazetteer" and row["district_name"] == "Eixample"
    page = (project / "maps" / "innovation_types.html").read_text(encoding="utf-8")
    assert "Espai Girona (edited)" in page


def test_an_edit_in_data_raw_is_kept_aside_with_a_warning(
        project: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = project / "data" / "raw" / "coworking" / "coworking_spaces.csv"
    raw.chmod(0o644)
    raw.write_text(raw.read_text(encoding="utf-8").replace("021 COWORKING", "EDITED"),
                   encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="cwsgeo"):
        assert main(["--config", str(project / "cwsgeo.toml"), "build", "--dry-run"]) == 3
        assert run(project, "build") == 0
    kept = list((project / "data" / "raw" / ".edits").rglob("coworking_spaces.csv"))
    assert len(kept) == 1 and "EDITED" in kept[0].read_text(encoding="utf-8")
    assert "EDITED" not in raw.read_text(encoding="utf-8")
    assert any("was edited" in r.message and "inventory/coworking_spaces.csv" in r.getMessage()
               for r in caplog.records)


def test_a_copy_of_the_bundle_list_uses_no_google_coordinates(
        project: Path, bundle_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    shutil.copyfile(bundle_dir / "coworking" / "coworking_spaces.csv", copy)
    assert run(project, "build", "--inventory", str(copy), "--out", str(tmp_path / "o")) == 0
    table = pd.read_csv(tmp_path / "o" / "data" / "processed" / "coworking_spaces.csv")
    assert (table["location_method"] == "input").sum() == 0
    report = (tmp_path / "o" / "data" / "processed" / "inventory_report.md").read_text()
    assert "Google Places" in report


def test_the_change_report_follows_the_inventory_into_a_new_out(
        project: Path, tmp_path: Path) -> None:
    inventory = project / "inventory" / "coworking_spaces.csv"
    edit_rows(inventory, bcn_cw_0003={"name": "Renamed for a new folder"})
    assert run(project, "build", "--out", str(tmp_path / "new")) == 0
    changes = (tmp_path / "new" / "data" / "processed" / "changes.md").read_text()
    assert "first build" not in changes and "Renamed for a new folder" in changes


def test_duplicates_are_flagged_and_dedupe_merges_the_certain_ones(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(project / "cwsgeo.toml")
    assert main(["--config", config, "build", "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    found = re.search(r"possible duplicates: (\d+) groups \(1 certain", out)
    assert found and int(found.group(1)) >= 16  # name, point and text links (translations)
    assert "Almogàvers 180 Business Center" in out and "[duplicate_space]" in out
    assert run(project, "build", "--dedupe", "--out", str(tmp_path / "b")) == 0
    table = pd.read_csv(tmp_path / "b" / "data" / "processed" / "coworking_spaces.csv")
    assert len(table) == 288
    assert "bcn-cw-0013;bcn-cw-0014" in set(table["merged_ids"].dropna())
    report = (tmp_path / "b" / "data" / "processed" / "inventory_report.md").read_text()
    assert "Possible duplicates" in report and "Location warnings" in report
    assert "| translation |" in report  # e.g. First Workplaces / Sants First, EN and ES


def test_cli_help_quiet_and_default_inventory(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    assert "exit codes:" in capsys.readouterr().out
    config = str(project / "cwsgeo.toml")
    assert main(["--config", config, "check"]) == 0  # the configured inventory
    assert "coworking_spaces.csv: 289 data rows" in capsys.readouterr().out
    assert main(["--config", config, "build", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "\r" not in captured.err


def test_classify_review_round_trip(project: Path) -> None:
    assert run(project, "fetch") == 0  # (seeds the inventory when run alone)
    inventory = project / "inventory" / "coworking_spaces.csv"
    before = inventory.read_bytes()
    assert run(project, "classify") == 0
    sheet_path = project / "inventory" / "type_review.csv"
    sheet = pd.read_csv(sheet_path, dtype=str, keep_default_na=False)
    assert {"suggested_type", "evidence", "excerpt", "confirmed_type"} <= set(sheet.columns)
    assert (project / "inventory" / "type_review.xlsx").stat().st_size > 0
    assert (sheet["excerpt"] != "").sum() >= 280 and (sheet["confirmed_type"] == "").all()
    sheet.loc[sheet["id"] == "bcn-cw-0004", "confirmed_type"] = "2"
    sheet.to_csv(sheet_path, index=False)
    assert run(project, "build") == 0
    table = pd.read_csv(project / "data" / "processed" / "coworking_spaces.csv",
                        dtype={"id": str}).set_index("id")
    assert table.loc["bcn-cw-0004", "innovation_type"] == 2
    assert table.loc["bcn-cw-0004", "innovation_type_source"] == "reviewed"
    assert table["innovation_type_estimated"].notna().sum() >= 280
    assert inventory.read_bytes() == before  # the inventory is never touched
    assert run(project, "classify") == 0  # a new sheet keeps what was confirmed
    again = pd.read_csv(sheet_path, dtype=str, keep_default_na=False).set_index("id")
    assert again.loc["bcn-cw-0004", "confirmed_type"] == "2"
    sheet.loc[sheet["id"] == "bcn-cw-0005", "confirmed_type"] = "7"
    sheet.to_csv(sheet_path, index=False)
    assert run(project, "build") != 0  # a bad confirmed type is an error naming the row
    for path in (sheet_path, sheet_path.with_suffix(".xlsx")):  # the next tests start clean
        path.unlink()


def test_spaces_located_from_texts_have_a_radius_or_a_reason(project: Path) -> None:
    assert run(project, "build") == 0
    processed = project / "data" / "processed"
    table = pd.read_csv(processed / "coworking_spaces.csv", dtype={"id": str})
    located = table["location_method"] != "none"
    assert located.sum() >= 150  # issue 11: at least 150 of 289
    assert (table.loc[located, "location_radius_m"] > 0).all()
    assert table.loc[~located, "unlocated_reason"].notna().all()
    assert table["location_method"].str.startswith("text_").sum() >= 100
    area = table["location_precision"] == "area"
    assert table.loc[area, "metro_walk_m"].isna().all()  # no point statistics by area only
    precision = pd.read_csv(processed / "location_precision.csv").set_index("output")
    counts = table["location_precision"].value_counts()
    assert precision.loc["point statistics", "approximate"] == counts["approximate"]
    assert precision.loc["point statistics", "area"] == 0
    report = (processed / "inventory_report.md").read_text(encoding="utf-8")
    assert "located from its listing text by a transit station" in report
    assert "not located because" in report


def test_the_change_snapshot_compares_every_kind_of_change() -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    from cwsgeo.build.changes import compare, snapshot

    def state(rows: list[tuple[str, str, int | None, str | None, Point | None]]
              ) -> dict[str, object]:
        ids, names, kinds, districts, points = zip(*rows, strict=True)
        return snapshot(gpd.GeoDataFrame(
            {"id": ids, "name": names, "innovation_type": pd.array(kinds, dtype="Int64"),
             "district_code": districts}, geometry=list(points), crs=25831))

    old = state([("a", "A", 1, "01", Point(430000, 4582000)),
                 ("b", "B", None, "01", Point(431000, 4583000)),
                 ("c", "C", 2, "02", None),
                 ("d", "D", 3, "02", Point(432000, 4584000)),
                 ("gone", "G", None, "03", Point(433000, 4585000))])
    new = state([("a", "A", 1, "01", Point(430050, 4582000)),   # moved 50 m
                 ("b", "B2", 2, "01", Point(431000.004, 4583000)),  # renamed, retyped
                 ("c", "C", 2, "02", Point(432500, 4584500)),   # located
                 ("d", "D", 3, None, None),                     # unlocated
                 ("new", "N", None, "02", Point(433000, 4585000))])
    assert old["spaces"]["a"] == {"name": "A", "innovation_type": 1, "district_code": "01",
                                  "x": 430000.0, "y": 4582000.0}
    assert old["spaces"]["c"]["x"] is None and old["spaces"]["b"]["innovation_type"] is None
    report = compare(old, new)
    assert report.added == [{"id": "new", "name": "N"}]
    assert report.removed == [{"id": "gone", "name": "G"}]
    assert [(m["id"], m["moved_m"]) for m in report.moved] == [("a", 50.0)]
    assert report.located == [{"id": "c", "name": "C"}]
    assert report.unlocated == [{"id": "d", "name": "D"}]
    assert report.retyped == [{"id": "b", "name": "B2", "before": None, "after": 2}]
    assert report.renamed == [{"id": "b", "name": "B2", "before": "B"}]
    assert report.districts == {"01": {"before": 2, "after": 2, "delta": 0},
                                "02": {"before": 2, "after": 2, "delta": 0},
                                "03": {"before": 1, "after": 0, "delta": -1}}
    assert compare(None, new).first_build
