"""A build killed by SIGKILL at any moment leaves the previous outputs intact; the next recovers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from tests.test_pipeline import write_config

pytestmark = [pytest.mark.bundle, pytest.mark.slow]


def readable(path: Path) -> bool:
    """True when an output file parses completely."""
    suffix = path.suffix
    if suffix == ".gpkg":
        import pyogrio

        return all(len(gpd.read_file(path, layer=name)) >= 0
                   for name, _ in pyogrio.list_layers(path))
    if suffix == ".csv":
        pd.read_csv(path)
        return True
    if suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
        return True
    if suffix == ".html":
        return path.read_text(encoding="utf-8").rstrip().endswith("</html>")
    if suffix == ".md":
        return path.read_text(encoding="utf-8").endswith("\n")
    if suffix == ".tif":
        import rasterio

        with rasterio.open(path) as ds:
            ds.read(1)
        return True
    if suffix == ".png":
        return path.read_bytes()[-8:] == b"IEND\xaeB`\x82"
    return True


def outputs(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((root / "out").rglob("*")) if p.is_file()}


def run(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cwsgeo", "--quiet", "--config",
                             str(config), "build", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes]) -> int:
    _, err = proc.communicate(timeout=600)
    if proc.returncode not in (0, -signal.SIGKILL):
        print(err.decode(errors="replace"))
    return proc.returncode


def test_sigkill_at_many_points(bundle_dir: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, bundle_dir)
    first = run(config)
    assert finish(first) == 0
    before = outputs(tmp_path)
    assert before
    edited = tmp_path / "edited.csv"
    source = (tmp_path / "raw" / "coworking" / "coworking_spaces.csv").read_text("utf-8")
    edited.write_text(source.replace("Betahaus Barcelona", "Betahaus BCN (renamed)"), "utf-8")
    # time a full build with the edit, then kill builds at points spread over that time
    t0 = time.perf_counter()
    probe = run(config, "--inventory", str(edited), "--dry-run")
    assert finish(probe) == 0
    duration = time.perf_counter() - t0
    killed_at = []
    for fraction in (0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.97):
        proc = run(config, "--inventory", str(edited), "--no-cache")
        time.sleep(duration * fraction)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_at.append(round(duration * fraction, 2))
        finish(proc)
        for path in sorted((tmp_path / "out").rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                assert readable(path), f"{path} unreadable after SIGKILL"
        # every file is either the previous one or a complete new one; none went missing
        assert set(before) <= {p for p in outputs(tmp_path) if not p.name.startswith(".")}
    assert killed_at, "the build finished before any kill: nothing was tested"
    # the next build recovers: succeeds, removes temp files, reflects the edit
    final = run(config, "--inventory", str(edited))
    assert finish(final) == 0
    assert not list(tmp_path.rglob(".*.tmp*"))
    table = pd.read_csv(tmp_path / "out" / "data" / "processed" / "coworking_spaces.csv")
    assert "Betahaus BCN (renamed)" in set(table["name"])
