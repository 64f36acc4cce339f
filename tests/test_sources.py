"""`fetch` from a (tiny) mirror: copies, manifest with sha256 and licences, refetch rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cwsgeo import MissingDataError
from cwsgeo._io import sha256_file
from cwsgeo.build.config import Config
from cwsgeo.build.sources import DATASETS, RawData, attributions, ensure_raw, fetch


def fake_mirror(root: Path) -> Path:
    for ds in DATASETS:
        for rel in ds.mirror_files:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{ds.key}:{rel}\n")
    return root


def test_fetch_from_mirror_writes_manifest(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "mirror")
    cfg = Config.from_dict({"data": {"mirror": str(mirror)}}, root=tmp_path / "proj")
    manifest = fetch(cfg)
    files = manifest["files"]
    assert len(files) == sum(len(d.mirror_files) for d in DATASETS)
    for entry in files:
        path = cfg.raw_dir / entry["path"]
        assert entry["sha256"] == sha256_file(path)
        assert entry["licence"] and entry["date"] and entry["attribution"]
    on_disk = json.loads((cfg.raw_dir / "manifest.json").read_text())
    assert on_disk["source"] == "mirror"
    raw = RawData.from_manifest(cfg.raw_dir)
    assert raw.one("network").name == "bcn_grafvial_walk.graphml"
    assert len(raw.paths("places")) == 4
    assert any("CC BY 4.0" in a for a in attributions(manifest))
    # the mirror is never modified
    assert (mirror / "admin" / "districts.geojson").read_text().startswith("admin:")


def test_ensure_raw_refetches_changed_files(tmp_path: Path) -> None:
    mirror = fake_mirror(tmp_path / "mirror")
    cfg = Config.from_dict({"data": {"mirror": str(mirror)}}, root=tmp_path / "proj")
    ensure_raw(cfg)
    target = cfg.raw_dir / "admin" / "districts.geojson"
    target.write_text("damaged, a different size")
    ensure_raw(cfg)
    assert target.read_text().startswith("admin:")


def test_missing_mirror_is_a_clear_error(tmp_path: Path) -> None:
    cfg = Config.from_dict({"data": {"mirror": str(tmp_path / "none")}}, root=tmp_path)
    with pytest.raises(MissingDataError, match="data mirror not found"):
        fetch(cfg)


def test_attributions_have_dates_and_follow_roles() -> None:
    manifest = {"files": [
        {"role": "admin", "attribution": "Ajuntament", "date": "2024-01-01"},
        {"role": "admin", "attribution": "Ajuntament", "date": "2024-01-01"},
        {"role": "transit", "attribution": "TMB (GTFS)", "date": "2026-01/02"},
        {"role": "addresses", "attribution": "IMI", "date": "2019-05"}]}
    assert attributions(manifest, ["admin", "transit"]) == [
        "Ajuntament — data 2024-01-01", "TMB (GTFS) — data 2026-01/02"]
    assert len(attributions(manifest)) == 3
    every = attributions(None)  # no manifest: every registered dataset
    assert len(every) == len(DATASETS) and all(" — data " in line for line in every)
