"""The analyst's API: the README's Python example runs on the bundle; read_outputs and dtypes."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import cwsgeo
from cwsgeo._io import write_csv, write_gpkg, write_json
from cwsgeo.cli import main

ROOT = Path(__file__).resolve().parent.parent


def readme_example() -> str:
    """The python block of the README's "## Python API" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API"):]
    section = section[:section.index("\n## ", 5)]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "no python block in README > Python API"
    return found.group(1)


def test_read_outputs_is_a_lazy_export() -> None:
    import subprocess
    import sys

    code = ("import sys, cwsgeo; assert 'cwsgeo.outputs.reading' not in sys.modules; "
            "f = cwsgeo.read_outputs; assert 'cwsgeo.outputs.reading' in sys.modules; "
            "print(f.__module__, cwsgeo.BuildOutputs.__name__)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout.strip()
    assert out == "cwsgeo.outputs.reading BuildOutputs"
    assert {"read_outputs", "BuildOutputs"} <= set(cwsgeo.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cwsgeo.nope  # noqa: B018


def test_read_outputs_names_missing_files(tmp_path: Path) -> None:
    (tmp_path / "data" / "processed").mkdir(parents=True)
    (tmp_path / "data" / "processed" / "coverage.csv").write_text("a\n1\n")
    with pytest.raises(cwsgeo.MissingDataError, match=r"processed is not the output of a "
                       r"completed build: missing coworking_spaces\.gpkg, districts\.gpkg"):
        cwsgeo.read_outputs(tmp_path)


def fake_outputs(folder: Path) -> None:
    """A tiny build output: blank and set innovation types, a blank count."""
    pt = [shapely.Point(2.17, 41.39), shapely.Point(2.18, 41.40), None]
    spaces = gpd.GeoDataFrame(
        {"id": ["b", "a", "c"], "name": ["B", "A", "C"],
         "innovation_type": pd.array([1, None, 3], dtype="Int64"),
         "metro_stops_5min": pd.array([2, 0, None], dtype="Int64"),
         "source_row": [2, 3, 4]}, geometry=pt, crs=4326)
    areas = spaces.iloc[:2][["id", "name", "innovation_type", "geometry"]].copy()
    areas["geometry"] = [shapely.box(2.17, 41.39, 2.171, 41.391)] * 2
    poly = gpd.GeoDataFrame({"district_code": ["01"], "spaces": [1]},
                            geometry=[shapely.box(2.1, 41.3, 2.2, 41.4)], crs=4326)
    write_gpkg({"coworking_spaces": spaces, "walk_areas_10min": areas},
               folder / "coworking_spaces.gpkg")
    for name in ("districts", "barris", "hexes"):
        write_gpkg({name: poly}, folder / f"{name}.gpkg")
    write_gpkg({"nodes": gpd.GeoDataFrame({"node_id": [0]}, geometry=pt[:1], crs=4326)},
               folder / "accessibility_surface.gpkg")
    tidy = pd.DataFrame({"group": ["all", "type 1"],
                         "innovation_type": pd.array([None, 1], dtype="Int64"),
                         "share": [0.5, 0.25]})
    write_csv(tidy, folder / "coverage.csv")
    write_csv(tidy, folder / "proximity_by_type.csv")
    write_csv(pd.DataFrame({"stage": ["total"], "points": pd.array([None], dtype="Int64"),
                            "sections": [3]}), folder / "residents_allocation.csv")
    write_json(folder / "density_classes.json", {"districts.spaces": {"breaks": [0, 1]}})


def test_read_outputs_layers_index_and_dtypes(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "data" / "processed"
    folder.mkdir(parents=True)
    fake_outputs(folder)
    assert "1.0" not in (folder / "coverage.csv").read_text()  # Int64 is written as "1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "more than one layer found"
        out = cwsgeo.read_outputs(tmp_path / "out")
        same = cwsgeo.read_outputs(folder)
    assert out.folder == folder and same.folder == folder
    assert out.spaces.index.name == "id" and out.spaces.index.tolist() == ["b", "a", "c"]
    assert out.spaces["innovation_type"].dtype == "Int64"
    assert out.spaces["innovation_type"].tolist()[::2] == [1, 3]
    assert out.spaces["innovation_type"].isna().tolist() == [False, True, False]
    assert out.spaces["metro_stops_5min"].dtype == "Int64"  # a blank made it float in the file
    assert out.spaces["source_row"].dtype == "int64"
    assert out.spaces.geometry.isna().tolist() == [False, False, True]
    assert out.walk_areas.index.tolist() == ["b", "a"]
    assert out.walk_areas["innovation_type"].dtype == "Int64"
    for table in (out.coverage, out.proximity_by_type):
        assert table["innovation_type"].dtype == "Int64"
        assert table["innovation_type"].isna().tolist() == [True, False]
    assert out.residents_allocation["points"].dtype == "Int64"
    assert out.districts["district_code"].tolist() == ["01"]
    assert out.density_classes == {"districts.spaces": {"breaks": [0, 1]}}
    assert out.contours == {}


def test_innovation_type_is_nullable_int_through_geocode_table() -> None:
    from cwsgeo.analysis.inventory.values import innovation_types

    assert innovation_types([1.0, None, "3", float("nan")]).tolist() == [1, pd.NA, 3, pd.NA]
    read_by_pandas = pd.DataFrame({"id": ["a", "b", "c"], "name": ["A", "B", "C"],
                                   "innovation_type": [1.0, np.nan, 2.0]})  # float64
    with cwsgeo.Geocoder(None) as g:  # no address: nothing is asked
        table = cwsgeo.geocode_table(read_by_pandas, g)
        assert table["innovation_type"].dtype == "Int64"
        assert table["innovation_type"].eq(1).fillna(False).tolist() == [True, False, False]
        with pytest.raises(ValueError, match=r"innovation_type, row 1: 2.5 is not 1, 2 or 3"):
            cwsgeo.geocode_table(read_by_pandas.assign(innovation_type=[1, 2.5, 3]), g)


# ------------------------------------------------------------------------- on the bundle
@pytest.fixture(scope="module")
def example(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the README example in a fresh project (fetched from the mirror)."""
    root = tmp_path_factory.mktemp("api")
    (root / "cwsgeo.toml").write_text(
        f'[data]\nmirror = "{bundle_dir.as_posix()}"\n\n[inventory]\n'
        'path = "inventory/coworking_spaces.csv"\nignore_columns = ["lat", "lon"]\n',
        encoding="utf-8")
    assert main(["--quiet", "--config", str(root / "cwsgeo.toml"), "fetch"]) == 0
    inventory = root / "inventory" / "coworking_spaces.csv"
    if not inventory.exists():  # `cwsgeo fetch` may seed it; else copy the bundle's
        inventory.parent.mkdir(exist_ok=True)
        shutil.copy(root / "data" / "raw" / "coworking" / "coworking_spaces.csv", inventory)
    namespace: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        mp.chdir(root)
        warnings.filterwarnings("error", message=".*layer.*")
        exec(compile(readme_example(), "README.md (Python API)", "exec"), namespace)
    return namespace


@pytest.mark.bundle
@pytest.mark.slow
def test_readme_example_runs_on_the_bundle(example: dict[str, Any]) -> None:
    ids = pd.Index(example["inv"].data["id"], name="id")
    metrics, spaces, out = example["metrics"], example["spaces"], example["out"]
    assert metrics.index.equals(ids) and metrics.index.name == "id"
    assert {"residents_5min", "residents_10min", "residents_15min"} <= set(metrics.columns)
    assert example["residents"].total > 1_000_000  # Barcelona's population, on the network
    assert spaces["id"].tolist() == ids.tolist() and "residents_10min" in spaces.columns
    for frame in (example["inv"].data, spaces, example["by_type"], out.spaces,
                  out.walk_areas, out.coverage, out.proximity_by_type):
        assert frame["innovation_type"].dtype == "Int64"
    # the build's outputs, read back: indexed by the same ids, the same values
    assert out.spaces.index.equals(ids)
    assert out.walk_areas.index.isin(ids).all() and out.walk_areas.index.name == "id"
    # located here by address; the build adds text points and leaves out the few addresses
    # without a number (a street-wide radius is too coarse for walking distances)
    located = (metrics["snap_m"].notna() & out.spaces["snap_m"].notna()).to_numpy()
    assert metrics["snap_m"].notna().sum() - 3 <= located.sum() and located.sum() > 50
    assert len(out.walk_areas) >= located.sum()
    assert out.walk_areas.index.isin(ids[located]).sum() == located.sum()
    np.testing.assert_allclose(out.spaces["residents_10min"].to_numpy(float)[located],
                               metrics["residents_10min"].to_numpy(float)[located],
                               rtol=1e-9)
    # Barcelona's transit modes (its profile's), in the build's order and with its values
    modes = [c.removesuffix("_walk_m") for c in metrics.columns if c.endswith("_walk_m")]
    assert modes == ["metro", "tram", "fgc", "rodalies", "bus", "funicular", "transit_any"]
    np.testing.assert_allclose(out.spaces["rodalies_walk_m"].to_numpy(float)[located],
                               metrics["rodalies_walk_m"].to_numpy(float)[located], rtol=1e-9)
    here = spaces.set_index("id")["district_name"][located]
    assert out.spaces["district_name"][located].equals(here)
