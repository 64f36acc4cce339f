"""The QGIS project: escaped XML, and the real project opened and rendered by QGIS.

QGIS is not a dependency: the checks run Debian's ``python3-qgis`` with the system Python in a
subprocess (``QT_QPA_PLATFORM=offscreen``), never the venv. They are skipped when QGIS is
missing, unless ``CWSGEO_REQUIRE_QGIS=1`` (set by ``.ci/run``; ``scripts/setup.sh test``
installs it).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from cwsgeo.outputs.maps.palette import INNOVATION_COLORS, TRANSIT_COLORS
from cwsgeo.outputs.qgis import (
    Category,
    ProjectGroup,
    ProjectLayer,
    Symbol,
    categories_of,
    innovation_categories,
    project_xml,
    write_qgz,
)

SYSTEM_PYTHON = os.environ.get("CWSGEO_QGIS_PYTHON", "/usr/bin/python3")
HOSTILE = ['</category><script>alert("x")</script>', "a&b 'q' \"dq\" <>", "ctl\x00\x0b\x1f",
           "]]>", "Café ☕"]

#: Run by the system Python: open a project, describe its layers, render it to a PNG.
CHECK = r'''
import json, os, sys
from qgis.core import (QgsApplication, QgsProject, QgsMapSettings, QgsRenderContext,
                       QgsMapRendererSequentialJob)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
prj = QgsProject.instance()
out = {"read": prj.read(sys.argv[1]), "crs": prj.crs().authid(), "layers": []}
root = prj.layerTreeRoot()

def value(v):
    return None if v is None or (hasattr(v, "isNull") and v.isNull()) else str(v)

for node in root.findLayers():
    lay, names, parent = node.layer(), [], node.parent()
    while parent is not None and parent.parent() is not None:
        names.insert(0, parent.name())
        parent = parent.parent()
    info = {"name": node.name(), "group": "/".join(names), "visible": node.isVisible(),
            "valid": bool(lay is not None and lay.isValid())}
    out["layers"].append(info)
    if not info["valid"]:
        continue
    r = lay.renderer()
    info.update(count=lay.featureCount(), crs=lay.crs().authid(), renderer=r.type(),
                source=lay.source(), field=getattr(r, "classAttribute", lambda: None)())
    if r.type() == "categorizedSymbol":
        info["categories"] = [[value(c.value()), c.label(), c.symbol().color().name(),
                               c.renderState()] for c in r.categories()]
    elif r.type() == "graduatedSymbol":
        info["ranges"] = [[g.lowerValue(), g.upperValue(), g.label(),
                           g.symbol().color().name()] for g in r.ranges()]
    if r.type() in ("categorizedSymbol", "graduatedSymbol"):  # features per class
        ctx = QgsRenderContext()
        r.startRender(ctx, lay.fields())
        counts = {}
        for f in lay.getFeatures():
            for key in r.legendKeysForFeature(f, ctx):
                counts[key] = counts.get(key, 0) + 1
        r.stopRender(ctx)
        info["class_counts"] = counts
ext = prj.viewSettings().defaultViewExtent()
ms = QgsMapSettings()
ms.setDestinationCrs(prj.crs())
ms.setLayers([n.layer() for n in root.findLayers() if n.isVisible() and n.layer() is not None])
ms.setExtent(ext if not ext.isEmpty() else ms.fullExtent())
ms.setOutputSize(QSize(800, 800))
ms.setBackgroundColor(QColor("white"))
job = QgsMapRendererSequentialJob(ms)
job.start()
job.waitForFinished()
img = job.renderedImage()
img.save(sys.argv[2], "PNG")
colors, white, n = {}, QColor("white").rgb(), 0
for y in range(0, img.height(), 2):
    for x in range(0, img.width(), 2):
        c = img.pixel(x, y)
        colors[c] = colors.get(c, 0) + 1
        n += 1
out["render"] = {"distinct_colors": len(colors), "non_background": 1 - colors.get(white, 0) / n,
                 "errors": [e.message for e in job.errors()]}
print("QGIS-JSON " + json.dumps(out))
app.exitQgis()
'''


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=env.get("XDG_RUNTIME_DIR", "/tmp"),
               PYTHONNOUSERSITE="1")
    return env


@functools.cache
def _qgis_problem() -> str | None:
    if shutil.which(SYSTEM_PYTHON) is None and not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    proc = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                          text=True, env=_env(), timeout=120, check=False)
    return None if proc.returncode == 0 else (
        f"QGIS Python bindings not importable by {SYSTEM_PYTHON} (apt-get install "
        f"python3-qgis qgis-providers; scripts/setup.sh test): {proc.stderr.strip()[-300:]}")


def require_qgis() -> None:
    problem = _qgis_problem()
    if problem:
        if os.environ.get("CWSGEO_REQUIRE_QGIS"):
            pytest.fail(problem)
        pytest.skip(problem)


def run_qgis(project: Path, png: Path) -> dict[str, Any]:
    """Open ``project`` in QGIS, render it to ``png``; return what QGIS saw."""
    require_qgis()
    script = png.with_suffix(".check.py")
    script.write_text(CHECK, encoding="utf-8")
    proc = subprocess.run([SYSTEM_PYTHON, str(script), str(project), str(png)],
                          capture_output=True, text=True, env=_env(), timeout=300, check=False,
                          cwd=png.parent)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("QGIS-JSON ")]
    assert proc.returncode == 0 and lines, f"QGIS check failed:\n{proc.stdout}\n{proc.stderr}"
    result: dict[str, Any] = json.loads(lines[-1][len("QGIS-JSON "):])
    assert result["read"], "QGIS could not read the project"
    return result


# -- XML without QGIS -----------------------------------------------------------------------------
def _hostile_project(tmp_path: Path) -> tuple[Path, list[str]]:
    """A GeoPackage whose category values and a layer name are hostile, and its project."""
    values = [*HOSTILE, "metro", None]
    gdf = gpd.GeoDataFrame({"mode": values},
                           geometry=[Point(2.15 + i / 100, 41.39) for i in range(len(values))],
                           crs="EPSG:4326")
    gdf.to_file(tmp_path / "h.gpkg", layer="h<&>", driver="GPKG", engine="pyogrio")
    cats = categories_of(gdf["mode"], TRANSIT_COLORS, {"metro": "Metro"},
                         Symbol("marker", "#000000"))
    layer = ProjectLayer(HOSTILE[0] + HOSTILE[2], "h.gpkg", "h<&>", "Point", field="mode",
                         categories=cats)
    xml = project_xml([ProjectGroup(HOSTILE[1], (layer,))], title=HOSTILE[0])
    return write_qgz(xml, tmp_path / "h.qgz"), values


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    path, _ = _hostile_project(tmp_path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["h.qgs"]
        xml = zf.read("h.qgs")
    assert b"<script>" not in xml and b"\x00" not in xml and b"\x0b" not in xml
    root = ET.fromstring(xml)  # well-formed
    cats = [(c.get("value"), c.get("label")) for c in root.iter("category")]
    clean = [h.replace("\x00", "").replace("\x0b", "").replace("\x1f", "") for h in HOSTILE]
    assert sorted(v for v, _ in cats if v not in ("metro", "")) == sorted(clean)
    assert ("metro", "Metro") in cats and ("", "No value") in cats
    assert root.find(".//maplayer/layername").text == clean[0] + clean[2]  # type: ignore[union-attr]
    assert root.find(".//layer-tree-group/layer-tree-group").get("name") == HOSTILE[1]  # type: ignore[union-attr]
    assert root.find(".//maplayer/datasource").text == "./h.gpkg|layername=h<&>"  # type: ignore[union-attr]


def test_invalid_colours_become_grey() -> None:
    layer = ProjectLayer("x", "x.gpkg", "x", "Point", field="f", categories=(
        Category("a", "a", Symbol("marker", 'red" onload="x')),))
    root = ET.fromstring(project_xml([ProjectGroup("g", (layer,))]))
    colours = [o.get("value") for o in root.iter("Option") if o.get("name") == "color"]
    assert colours == ["153,153,153,255"]


def test_hostile_names_in_qgis(tmp_path: Path) -> None:
    path, values = _hostile_project(tmp_path)
    seen = run_qgis(path, tmp_path / "h.png")
    (layer,) = seen["layers"]
    assert layer["valid"] and layer["count"] == len(values)
    assert layer["name"] == HOSTILE[0] + "ctl"
    cats = layer["categories"]
    # each category (hostile ones included) catches exactly its feature; NULL goes to ""
    assert sorted(layer["class_counts"].values()) == [1] * len(values)
    assert [c[0] for c in cats][-1] in ("", None)


def test_innovation_types_in_qgis(tmp_path: Path) -> None:
    types = pd.array([1, 2, 3, None, 2], dtype="Int64")
    gdf = gpd.GeoDataFrame({"innovation_type": types},
                           geometry=[Point(2.15 + i / 100, 41.39) for i in range(len(types))],
                           crs="EPSG:4326")
    gdf.to_file(tmp_path / "s.gpkg", layer="s", driver="GPKG", engine="pyogrio")
    layer = ProjectLayer("Spaces", "s.gpkg", "s", "Point", field="innovation_type",
                         categories=innovation_categories(Symbol("marker", "#000000")))
    path = write_qgz(project_xml([ProjectGroup("Spaces", (layer,))]), tmp_path / "s.qgz")
    (seen,) = run_qgis(path, tmp_path / "s.png")["layers"]
    assert [c[2] for c in seen["categories"]] == [INNOVATION_COLORS[k] for k in (1, 2, 3, None)]
    assert seen["class_counts"] == {"0": 1, "1": 2, "2": 1, "3": 1}


# -- the real build ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def processed(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cwsgeo.cli import main
    from tests.test_pipeline import write_config

    root = tmp_path_factory.mktemp("qgis")
    assert main(["--quiet", "--config", str(write_config(root, bundle_dir)), "build"]) == 0
    return root / "out" / "data" / "processed"


def _moved(processed: Path, dest: Path) -> Path:
    """Copy the project and its GeoPackages elsewhere (relative paths must follow)."""
    dest.mkdir()
    for p in [processed / "cwsgeo.qgz", *processed.glob("*.gpkg")]:
        shutil.copy2(p, dest / p.name)
    return dest / "cwsgeo.qgz"


@pytest.mark.bundle
@pytest.mark.slow
def test_build_project_in_qgis(processed: Path, tmp_path: Path) -> None:
    require_qgis()
    png = Path(os.environ.get("CWSGEO_QGIS_PNG", tmp_path / "render.png"))
    seen = run_qgis(_moved(processed, tmp_path / "moved"), png)
    assert seen["crs"] == "EPSG:25831"
    layers = {lay["name"]: lay for lay in seen["layers"]}
    assert all(lay["valid"] for lay in layers.values()), [
        n for n, lay in layers.items() if not lay["valid"]]
    assert all(lay["source"].startswith(str(tmp_path / "moved")) for lay in layers.values())
    assert {lay["group"].split("/")[0] for lay in layers.values()} == {
        "Spaces", "Context", "Areas"}
    for lay in layers.values():  # feature counts are those of the GeoPackage layers
        file, _, name = lay["source"].partition("|layername=")
        assert lay["count"] == pyogrio.read_info(file, layer=name)["features"], lay["name"]
        assert lay["crs"] == "EPSG:4326"

    spaces = layers["Coworking spaces"]
    assert spaces["renderer"] == "categorizedSymbol" and spaces["field"] == "innovation_type"
    assert [c[2] for c in spaces["categories"]] == [INNOVATION_COLORS[k] for k in (1, 2, 3, None)]
    assert spaces["categories"][-1][0] in ("", None) and spaces["categories"][-1][1] == (
        "Unclassified")
    n_null = int(gpd.read_file(processed / "coworking_spaces.gpkg", layer="coworking_spaces",
                               engine="pyogrio")["innovation_type"].isna().sum())
    assert spaces["class_counts"].get("3", 0) == n_null  # unclassified spaces are drawn

    transit = layers["Transit stops"]
    assert transit["renderer"] == "categorizedSymbol" and transit["field"] == "mode"
    assert {c[0]: c[2] for c in transit["categories"]} == {
        m: TRANSIT_COLORS[m] for m in pd.unique(pyogrio.read_dataframe(
            processed / "context.gpkg", layer="transit", columns=["mode"])["mode"])}
    assert {c[0]: c[3] for c in transit["categories"]}["bus"] is False  # as on the web map

    classes = json.loads((processed / "density_classes.json").read_text(encoding="utf-8"))
    graduated = [lay for lay in layers.values() if lay["group"].startswith("Areas/")]
    assert len(graduated) >= 10
    for lay in graduated:
        level = lay["group"].split("/")[1].lower()
        cls = classes[f"{level}.{lay['field']}"]
        assert lay["renderer"] == "graduatedSymbol"
        assert [r[1] for r in lay["ranges"]] == pytest.approx(cls["bins"])
        assert [r[3] for r in lay["ranges"]] == cls["colors"]
        assert [r[2] for r in lay["ranges"]] == cls["labels"]
        # every area falls in the class the density map gives it
        assert sorted(lay["class_counts"].values()) == sorted(c for c in cls["counts"] if c)
    visible = sorted(n for n, lay in layers.items() if lay["visible"])
    assert visible == ["Coworking spaces", "Districts: Coworking spaces per km²",
                       "Transit stops"]

    render = seen["render"]
    assert render["errors"] == []
    assert render["distinct_colors"] > 50 and render["non_background"] > 0.2, render


@pytest.mark.bundle
@pytest.mark.slow
def test_build_geoparquet_and_workbook(processed: Path) -> None:
    from openpyxl import load_workbook

    for gpkg in processed.glob("*.gpkg"):
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        for name in names:
            twin = (gpkg.with_suffix(".parquet") if len(names) == 1
                    else gpkg.with_name(f"{gpkg.stem}.{name}.parquet"))
            back = gpd.read_parquet(twin)
            assert back.crs.to_epsg() == 4326, twin.name
            assert len(back) == pyogrio.read_info(gpkg, layer=name)["features"], twin.name
    assert (processed / "context.transit.parquet").exists()
    wb = load_workbook(processed / "cwsgeo_tables.xlsx", read_only=False)
    assert wb.sheetnames == ["spaces", "districts", "barris", "proximity_by_type", "coverage",
                             "residents_allocation", "changes"]
    spaces = wb["spaces"]
    assert spaces.freeze_panes == "A2" and spaces["A1"].font.b
    assert spaces.max_row == 1 + len(pd.read_csv(processed / "coworking_spaces.csv"))
    assert "geometry" not in [c.value for c in wb["districts"][1]]
