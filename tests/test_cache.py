"""The build's caches: per-stage versions, the memo registry, file stores, the ledger."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cwsgeo
from cwsgeo.build import cache
from cwsgeo.build.cache import MEMOS, FileStore, OutputLedger, StageCache, stage_key

KEY_SCRIPT = ("import cwsgeo, cwsgeo.build.cache as c; "
              "print(cwsgeo.__file__); print(c.stage_key('admin', ['same inputs']))")


def _key_in(package_parent: Path) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-c", KEY_SCRIPT], check=True, text=True,
                         capture_output=True, cwd=package_parent,
                         env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"})
    where, key = out.stdout.split()
    return where, key


def test_a_comment_edit_keeps_the_cache_warm(tmp_path: Path) -> None:
    source = Path(cwsgeo.__file__).resolve().parent
    shutil.copytree(source, tmp_path / "cwsgeo", ignore=shutil.ignore_patterns("__pycache__"))
    admin = tmp_path / "cwsgeo" / "analysis" / "admin.py"
    admin.write_text(admin.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    where, edited = _key_in(tmp_path)
    assert where.startswith(str(tmp_path))  # the edited copy was the one imported
    assert edited == stage_key("admin", ["same inputs"])


def test_a_version_bump_invalidates_only_its_stage(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    stages = StageCache(tmp_path)
    assert stages.cached("admin", ["x"], lambda: "old") == "old"
    assert stages.cached("places", ["x"], lambda: "old") == "old"
    monkeypatch.setitem(cache.STAGE_VERSIONS, "admin", cache.STAGE_VERSIONS["admin"] + 1)
    assert stages.cached("admin", ["x"], lambda: "new") == "new"
    assert stages.cached("places", ["x"], lambda: "new") == "old"


def test_the_work_crs_is_part_of_every_stage_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # a project whose city (and so CRS) changes never reuses results computed in another CRS
    here = stage_key("density", ["same inputs"])
    monkeypatch.setattr(cwsgeo.settings, "crs_work", "EPSG:32632")
    assert stage_key("density", ["same inputs"]) != here
    monkeypatch.undo()
    assert stage_key("density", ["same inputs"]) == here


def test_every_cached_stage_needs_a_version(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="STAGE_VERSIONS"):
        StageCache(tmp_path).cached("nameless", [], lambda: 1)


def test_one_registry_clears_every_memo() -> None:
    MEMOS.memo("test-a", 2).get_or_compute("k", lambda: 1)
    memo = MEMOS.memo("test-b", 1)
    memo["x"], memo["y"] = 1, 2
    assert list(memo) == ["y"]  # bounded: the oldest is dropped
    MEMOS.clear()
    assert len(MEMOS.memo("test-a")) == 0 and len(memo) == 0


def test_file_store_is_a_mapping_of_safe_names(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "s", keep=2)
    store["a"] = b"1"
    store["b"] = b"2"
    store["c"] = b"3"
    assert len(store) == 2 and store["c"] == b"3"
    with pytest.raises(KeyError):
        store["../escape"] = b"x"
    with pytest.raises(KeyError):
        _ = store["missing"]


def test_ledger_writes_only_what_changed(tmp_path: Path) -> None:
    ledger = OutputLedger(tmp_path / "outputs.json")
    calls: list[Path] = []

    def writer(path: Path) -> None:
        calls.append(path)
        path.write_text("data")

    target = tmp_path / "out.txt"
    ledger.write_if_changed(target, "k1", writer)
    ledger.write_if_changed(target, "k1", writer)
    ledger.write_if_changed(target, "k2", writer)
    assert calls == [target, target]
