"""Incremental rebuilds: what is reused, the change report, --dry-run and watch mode."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from cwsgeo.build.changes import compare, snapshot
from cwsgeo.build.config import Config
from cwsgeo.build.pipeline import build
from cwsgeo.build.watch import watch
from tests.test_pipeline import write_config

pytestmark = [pytest.mark.bundle, pytest.mark.slow]

HEADER = "id,name,address,innovation_type\n"
ROWS = {
    "a": 'a,Espai A,"Carrer de Bailèn, 105",1\n',
    "b": "b,Espai B,Passeig de Gràcia 17,2\n",
    "c": "c,Espai C,Carrer del Bruc 149,\n",
}


def write_inventory(path: Path, **rows: str) -> None:
    path.write_text(HEADER + "".join({**ROWS, **rows}.values()), encoding="utf-8")


@pytest.fixture(scope="module")
def project(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("incremental")
    write_config(root, bundle_dir)
    inv = root / "spaces.csv"
    write_inventory(inv)
    cfg = Config.load(root).with_inventory(inv)
    first = build(cfg)
    assert first.extra["proximity_computed"] == 3
    return cfg


def processed(cfg: Config) -> Path:
    return cfg.processed_dir()


def test_unchanged_rebuild_reuses_everything(project: Config) -> None:
    before = {p: p.stat().st_mtime_ns for p in processed(project).glob("*.gpkg")}
    result = build(project)
    assert result.extra["proximity_computed"] == 0
    for stage in ("inventory", "places", "transit", "residents", "surface", "density"):
        assert stage in result.cache_hits, stage
    # unchanged density outputs were not rewritten
    for name in ("districts.gpkg", "barris.gpkg", "hexes.gpkg", "accessibility_surface.gpkg"):
        path = processed(project) / name
        assert path.stat().st_mtime_ns == before[path], name
    assert not result.extra["changes"].changed


def test_one_row_edit_recomputes_one_space(project: Config) -> None:
    inv = project.inventory_path
    write_inventory(inv, b="b,Espai B,Carrer de Girona 50,3\n",
                    d="d,Espai D,Carrer de Sicília 200,\n")
    result = build(project)
    assert result.extra["proximity_computed"] == 2  # b moved, d added; a and c reused
    changes = result.extra["changes"]
    assert [c["id"] for c in changes.added] == ["d"]
    assert [c["id"] for c in changes.moved] == ["b"] and changes.moved[0]["moved_m"] > 500
    assert [(c["id"], c["before"], c["after"]) for c in changes.retyped] == [("b", 2, 3)]
    data = json.loads((processed(project) / "changes.json").read_text())
    assert data["counts"]["moved"] == 1 and data["counts"]["added"] == 1
    assert sum(v["delta"] for v in data["districts"].values()) == 1
    text = (processed(project) / "changes.md").read_text()
    assert "## Moved (1)" in text and "type 2 → 3" in text
    write_inventory(inv)  # back to the original for the other tests
    assert build(project).extra["changes"].counts()["removed"] == 1


def test_dry_run_writes_nothing(project: Config) -> None:
    before = {p: p.stat().st_mtime_ns for p in processed(project).rglob("*") if p.is_file()}
    write_inventory(project.inventory_path, a='a,Espai A (nou nom),"Carrer de Bailèn, 105",1\n')
    try:
        result = build(project, dry_run=True)
    finally:
        write_inventory(project.inventory_path)
    assert result.outputs == {}
    assert [c["id"] for c in result.extra["changes"].renamed] == ["a"]
    assert "Renamed (1)" in result.summary()
    after = {p: p.stat().st_mtime_ns for p in processed(project).rglob("*") if p.is_file()}
    assert after == before


def test_dry_run_stores_nothing_in_the_cache(project: Config) -> None:
    stages = project.cache_dir / "stages"
    before = sorted(p.name for p in stages.rglob("*.pkl"))
    write_inventory(project.inventory_path, e="e,Espai E,Carrer de Girona 70,\n")
    try:
        build(project, dry_run=True)
    finally:
        write_inventory(project.inventory_path)
    assert sorted(p.name for p in stages.rglob("*.pkl")) == before


def test_inventory_columns_named_like_outputs_are_kept(project: Config) -> None:
    inv = project.inventory_path
    inv.write_text("id,name,address,snap_m,district_name\n"
                   "a,Espai A,\"Carrer de Bailèn, 105\",mine,my district\n", encoding="utf-8")
    try:
        result = build(project)
    finally:
        write_inventory(inv)
    row = result.spaces.iloc[0]
    assert row["input_snap_m"] == "mine" and row["input_district_name"] == "my district"
    assert row["district_name"] == "Eixample" and row["snap_m"] >= 0


def test_output_edited_by_hand_is_rewritten(project: Config) -> None:
    target = processed(project) / "barris.csv"
    target.write_text("garbage\n")
    build(project)
    assert target.read_text().startswith("barri_code,")


def test_watch_rebuilds_on_change(project: Config) -> None:
    reports: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, kwargs={
        "cfg": project, "report": reports.append, "max_builds": 2, "stop_event": stop,
        "interval": 0.2}, daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not any("watching" in r for r in reports) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    write_inventory(project.inventory_path, c="c,Espai C,Carrer del Bruc 149,2\n")
    thread.join(timeout=180)
    stop.set()
    write_inventory(project.inventory_path)
    assert not thread.is_alive()
    assert len([r for r in reports if " located (" in r]) == 2
    assert "1 retyped" in reports[-1]


def test_snapshot_compare_roundtrip() -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"id": ["x"], "name": ["X"], "innovation_type":
                            pd.array([None], dtype="Int64"), "district_code": [None]},
                           geometry=[None], crs=4326)
    state = snapshot(gdf)
    assert compare(state, json.loads(json.dumps(state))).changed is False
    moved = gdf.set_geometry([Point(2.17, 41.39)], crs=4326)
    report = compare(state, snapshot(moved))
    assert [c["id"] for c in report.located] == ["x"]


def test_moving_a_space_redraws_the_figure_that_shows_it(project: Config) -> None:
    figure = processed(project) / "figures" / "kde_places_spaces.png"
    before = figure.read_bytes()
    write_inventory(project.inventory_path, b="b,Espai B,Carrer de Girona 50,2\n")
    try:
        build(project)  # same ids, one new position: the points on the figure move
        assert figure.read_bytes() != before
    finally:
        write_inventory(project.inventory_path)
    build(project)
    assert figure.read_bytes() == before
