"""Tests of the density analysis and its figures on hand-made squares (and the real bundle)."""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from cwsgeo.analysis import density
from cwsgeo.analysis.density import (
    KernelSurface,
    area_densities,
    areal_interpolate,
    column_name,
    compute_densities,
    hex_densities,
    hex_grid,
    kernel_densities,
    kernel_density,
    surface_contours,
)
from cwsgeo.outputs import tables
from cwsgeo.outputs.figures import class_breaks, write_density_figures
from cwsgeo.outputs.tables import write_density_outputs, write_geotiff, write_layer

WORK = "EPSG:25831"
# A corner in Barcelona (UTM 31N), so that H3 cells are the real ones.
X0, Y0 = 428_000.0, 4_580_000.0


def sq(ix: float, iy: float, size: float = 1000.0) -> Polygon:
    return box(X0 + ix * size, Y0 + iy * size, X0 + (ix + 1) * size, Y0 + (iy + 1) * size)


def pt(dx: float, dy: float) -> Point:
    return Point(X0 + dx, Y0 + dy)


@pytest.fixture
def two_squares() -> gpd.GeoDataFrame:
    """Two 1 km × 1 km districts side by side: A (10,000 residents), B (30,000)."""
    return gpd.GeoDataFrame(
        {"district_code": ["01", "02"], "district_name": ["A", "B"],
         "population": [10_000, 30_000]},
        geometry=[sq(0, 0), sq(1, 0)], crs=WORK)


@pytest.fixture
def spaces() -> gpd.GeoDataFrame:
    """3 spaces in A (types 1, 2, unclassified), 1 in B (type 3), 1 unlocated, 1 outside."""
    return gpd.GeoDataFrame(
        {"id": ["a1", "a2", "a3", "b1", "nowhere", "out"],
         "innovation_type": pd.array([1, 2, None, 3, 1, 2], dtype="Int64")},
        geometry=[pt(100, 100), pt(500, 500), pt(900, 900), pt(1500, 500), None,
                  pt(5000, 5000)], crs=WORK)


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    cats = ["cafe", "cafe", "bar", "terrace", "park", "restaurant"]
    # the restaurant lies in district B but in the bite cut out of the L-shaped `city`
    geoms = [pt(200, 200), pt(300, 300), pt(1200, 200), pt(1300, 300), pt(400, 400),
             pt(1800, 100)]
    return gpd.GeoDataFrame({"category": cats}, geometry=geoms, crs=WORK)


@pytest.fixture
def transit() -> gpd.GeoDataFrame:
    modes = ["metro", "bus", "bus", "bus", "tram"]
    geoms = [pt(500, 100), pt(600, 100), pt(1600, 100), pt(9000, 9000), pt(1800, 900)]
    return gpd.GeoDataFrame({"mode": modes}, geometry=geoms, crs=WORK)


# -- column names ------------------------------------------------------------------------------
def test_column_names() -> None:
    assert column_name("spaces") == "spaces"
    assert column_name("spaces", rate="per_km2") == "spaces_per_km2"
    assert column_name("spaces", rate="per_10k_res") == "spaces_per_10k_res"
    assert column_name("spaces", rate="lq") == "lq_spaces"
    assert column_name("spaces", "type1", "lq_area") == "lq_area_spaces_type1"
    assert column_name("places", "cafe", "per_km2") == "places_cafe_per_km2"
    assert column_name("stops", "metro", "per_km2") == "stops_metro_per_km2"
    with pytest.raises(ValueError, match="unknown rate"):
        column_name("spaces", rate="per_m2")  # type: ignore[arg-type]


# -- per-area densities ---------------------------------------------------------------------------
def test_area_densities_exact_on_squares(two_squares, spaces, places, transit, caplog) -> None:
    caplog.set_level(logging.INFO, logger="cwsgeo.analysis.density")
    before = spaces.copy()
    out = area_densities(two_squares, spaces, places, transit, key="district_code")
    pd.testing.assert_frame_equal(pd.DataFrame(spaces), pd.DataFrame(before))  # input untouched
    assert out.crs == WORK
    assert list(out["district_code"]) == ["01", "02"]
    assert list(out.columns[:3]) == ["district_code", "district_name", "area_km2"]
    a, b = out.iloc[0], out.iloc[1]
    assert a["area_km2"] == pytest.approx(1.0, abs=1e-12)
    assert (a["residents"], b["residents"]) == (10_000, 30_000)
    assert a["residents_per_km2"] == pytest.approx(10_000)
    # spaces: 3 in A, 1 in B (the unlocated one and the one outside are not counted)
    assert (a["spaces"], b["spaces"]) == (3, 1)
    assert [a[f"spaces_{g}"] for g in density.SPACE_GROUPS] == [1, 1, 0, 1]
    assert [b[f"spaces_{g}"] for g in density.SPACE_GROUPS] == [0, 0, 1, 0]
    assert a["spaces_per_km2"] == pytest.approx(3.0)
    assert a["spaces_per_10k_res"] == pytest.approx(3.0)
    assert b["spaces_per_10k_res"] == pytest.approx(1 / 3)
    # LQ (residents base): (3/4) / (10k/40k) = 3 and (1/4) / (30k/40k) = 1/3
    assert a["lq_spaces"] == pytest.approx(3.0)
    assert b["lq_spaces"] == pytest.approx(1 / 3)
    # LQ (area base): (3/4) / (1/2) = 1.5 and 0.5
    assert a["lq_area_spaces"] == pytest.approx(1.5)
    assert b["lq_area_spaces"] == pytest.approx(0.5)
    # per type: type 3 only in B -> LQ 1 / (30/40)
    assert b["lq_spaces_type3"] == pytest.approx(4 / 3)
    assert a["spaces_unclassified_per_10k_res"] == pytest.approx(1.0)
    # places: park is not an interaction category
    assert (a["places"], b["places"]) == (2, 3)
    assert a["places_cafe_per_km2"] == pytest.approx(2.0)
    assert b["places_terrace_per_km2"] == pytest.approx(1.0)
    assert b["places_restaurant"] == 1
    assert "places_park" not in out.columns
    # stops: the one far away is not counted
    assert (a["stops"], b["stops"]) == (2, 2)
    assert a["stops_metro_per_km2"] == pytest.approx(1.0)
    assert b["stops_tram_per_km2"] == pytest.approx(1.0)
    assert out["stops_funicular"].sum() == 0
    text = caplog.text
    assert "1 of 6 rows have no location" in text
    assert "1 of 5 spaces lie in no district_code" in text
    assert "park: 1" in text


def test_area_densities_accepts_any_crs(two_squares, spaces) -> None:
    out = area_densities(two_squares.to_crs("EPSG:4326"), spaces.to_crs("EPSG:3857"))
    assert out.crs == WORK
    assert out["area_km2"].tolist() == pytest.approx([1.0, 1.0], abs=1e-6)
    assert out["spaces"].tolist() == [3, 1]


def test_point_on_shared_edge_counted_once(two_squares) -> None:
    edge = gpd.GeoDataFrame({"innovation_type": [1]}, geometry=[pt(1000, 500)], crs=WORK)
    out = area_densities(two_squares, edge)
    assert out["spaces"].sum() == 1


def test_zero_denominators_give_nan(two_squares) -> None:
    areas = two_squares.assign(population=[0, 5_000])
    none = gpd.GeoDataFrame({"innovation_type": pd.array([], dtype="Int64")},
                            geometry=[], crs=WORK)
    out = area_densities(areas, none)
    assert out["spaces"].tolist() == [0, 0]
    assert math.isnan(out.loc[0, "spaces_per_10k_res"])
    assert out.loc[1, "spaces_per_10k_res"] == 0
    assert out["lq_spaces"].isna().all()  # no spaces at all: no shares
    assert out["spaces_per_km2"].tolist() == [0, 0]


def test_odd_innovation_type_is_unclassified(two_squares, caplog) -> None:
    odd = gpd.GeoDataFrame({"id": ["x"], "innovation_type": [7]}, geometry=[pt(10, 10)],
                           crs=WORK)
    out = area_densities(two_squares, odd)
    assert out.loc[0, "spaces_unclassified"] == 1
    assert "other than (1, 2, 3)" in caplog.text


def test_area_densities_without_population_or_spaces(two_squares, places) -> None:
    out = area_densities(two_squares.drop(columns="population"), None, places, population=None)
    assert "residents" not in out.columns and "spaces" not in out.columns
    assert out["places"].tolist() == [2, 3]


def test_area_densities_rejects_bad_input(two_squares, spaces) -> None:
    with pytest.raises(ValueError, match="no key column"):
        area_densities(two_squares, spaces, key="barri_code")
    with pytest.raises(ValueError, match="not unique"):
        area_densities(two_squares.assign(district_code="01"), spaces)
    with pytest.raises(ValueError, match="no population column"):
        area_densities(two_squares.drop(columns="population"), spaces)
    with pytest.raises(ValueError, match="no CRS"):
        area_densities(two_squares.set_crs(None, allow_override=True), spaces)
    with pytest.raises(ValueError, match="no 'category' column"):
        area_densities(two_squares, spaces, places=spaces)


def test_same_function_serves_barris(two_squares, spaces) -> None:
    barris = gpd.GeoDataFrame(
        {"barri_code": ["01", "02", "03"], "barri_name": ["x", "y", "z"],
         "district_code": ["01", "01", "02"], "population": [4_000, 6_000, 30_000]},
        geometry=[box(X0, Y0, X0 + 500, Y0 + 1000), box(X0 + 500, Y0, X0 + 1000, Y0 + 1000),
                  sq(1, 0)], crs=WORK)
    out = area_densities(barris, spaces, key="barri_code")
    assert list(out.columns[:4]) == ["barri_code", "barri_name", "district_code", "area_km2"]
    # (500, 500) lies on the edge between barris 01 and 02: counted once, in the first
    assert out["spaces"].tolist() == [2, 1, 1]
    assert out["area_km2"].tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert out["spaces_per_km2"].tolist() == pytest.approx([4.0, 2.0, 1.0])


# -- areal interpolation and hexagons --------------------------------------------------------------
def test_areal_interpolate_preserves_totals_and_splits_by_area() -> None:
    src = gpd.GeoDataFrame({"population": [100.0, 300.0]}, geometry=[sq(0, 0), sq(1, 0)],
                           crs=WORK)
    # targets: left quarter of A, rest of A plus all of B, and a target outside everything
    tgt = gpd.GeoSeries([box(X0, Y0, X0 + 250, Y0 + 1000),
                         box(X0 + 250, Y0, X0 + 2000, Y0 + 1000), sq(5, 5)], crs=WORK)
    out = areal_interpolate(src, tgt)
    assert out["population"].tolist() == pytest.approx([25.0, 375.0, 0.0])


def test_areal_interpolate_partial_coverage_keeps_total(caplog) -> None:
    caplog.set_level(logging.INFO, logger="cwsgeo.analysis.density")
    src = gpd.GeoDataFrame({"population": [100.0]}, geometry=[sq(0, 0)], crs=WORK)
    tgt = gpd.GeoSeries([box(X0, Y0, X0 + 200, Y0 + 1000), box(X0 + 600, Y0, X0 + 1000,
                                                               Y0 + 1000)], crs=WORK)
    out = areal_interpolate(src.to_crs("EPSG:4326"), tgt)
    assert out["population"].sum() == pytest.approx(100.0)
    assert out["population"].tolist() == pytest.approx([100 / 3, 200 / 3], rel=1e-6)
    assert "partly covered" in caplog.text


@pytest.fixture
def city() -> gpd.GeoSeries:
    """An L-shaped 'city' of 3 km² with a bite out of it (a non-convex edge)."""
    shape = shapely.union_all([sq(0, 0), sq(1, 0), sq(0, 1)]).difference(
        box(X0 + 1700, Y0, X0 + 2000, Y0 + 300))
    return gpd.GeoSeries([shape], crs=WORK)


@pytest.fixture
def sections(city) -> gpd.GeoDataFrame:
    """Three sections tiling the city, with 1,000 / 2,000 / 7,000 residents."""
    geom = city.iloc[0]
    parts = [geom.intersection(sq(0, 0)), geom.intersection(sq(1, 0)),
             geom.intersection(sq(0, 1))]
    return gpd.GeoDataFrame({"section_code": ["01001", "01002", "01003"],
                             "population": [1_000, 2_000, 7_000]},
                            geometry=parts, crs=WORK).to_crs("EPSG:4326")


@pytest.mark.parametrize("kwargs", [{}, {"resolution": 8}, {"edge_m": 150.0},
                                    {"clip": True}])
def test_hex_grid_covers_the_city(city, kwargs) -> None:
    grid = hex_grid(city, **kwargs)
    area = city.iloc[0].area / 1e6
    assert grid["hex_id"].is_unique
    assert grid["area_km2"].sum() == pytest.approx(area, rel=1e-6)
    covered = shapely.union_all(grid.geometry.to_numpy()).intersection(city.iloc[0]).area
    assert covered / 1e6 == pytest.approx(area, rel=1e-6)
    assert (grid["area_km2"] > 0).all()
    assert (grid["city_share"] <= 1 + 1e-9).all()
    if kwargs.get("clip"):
        assert grid.geometry.area.sum() / 1e6 == pytest.approx(area, rel=1e-6)
    else:
        assert (grid["hex_area_km2"] >= grid["area_km2"] - 1e-12).all()


def test_projected_hexagons_have_the_asked_size(city) -> None:
    grid = hex_grid(city, edge_m=200.0)
    full = grid[grid["city_share"] > 0.999]
    assert full["hex_area_km2"].to_numpy() == pytest.approx(1.5 * math.sqrt(3) * 0.04)
    assert grid["hex_id"].str.startswith("e200_r").all()


@pytest.mark.parametrize("kwargs", [{}, {"edge_m": 120.0}, {"clip": True}])
def test_hex_population_sums_to_total(city, sections, spaces, places, kwargs) -> None:
    hexes = hex_densities(city, sections, spaces, places, **kwargs)
    assert hexes["residents"].sum() == pytest.approx(10_000, rel=1e-9)
    assert hexes["area_km2"].sum() == pytest.approx(city.iloc[0].area / 1e6, rel=1e-9)
    # the spaces inside the city (3 + 1) are all counted, the outside one is not
    assert hexes["spaces"].sum() == 4
    assert hexes["places"].sum() == 4  # the restaurant is outside the city, the park ignored
    assert list(hexes.columns[:6]) == ["hex_id", "hex_area_km2", "area_km2", "city_share",
                                       "residents", "residents_per_km2"]
    # areal weighting: cells in the dense northern section have more residents per km²
    north = hexes.geometry.centroid.y > Y0 + 1100
    assert hexes.loc[north, "residents_per_km2"].median() > 5_000


def test_hex_points_counted_only_inside_the_city(city) -> None:
    # a point in the bite (outside the city) lies inside some hexagon
    bitten = gpd.GeoDataFrame({"innovation_type": [1]}, geometry=[pt(1850, 100)], crs=WORK)
    hexes = hex_densities(city, None, bitten, edge_m=400.0)
    assert hexes.geometry.contains(bitten.geometry.iloc[0]).any()
    assert hexes["spaces"].sum() == 0
    assert "residents" not in hexes.columns


# -- kernel density ------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_kernel_integrates_to_point_count_with_edge_points(city, kernel) -> None:
    # points deep inside, 10 m from the outer edge, in a corner and next to the bite
    pts = gpd.GeoDataFrame(geometry=[pt(600, 600), pt(10, 500), pt(5, 5), pt(1990, 990),
                                     pt(1690, 100), pt(500, 1995), pt(995, 1995)], crs=WORK)
    surf = kernel_density(pts, city, bandwidth_m=500, cell_m=50, kernel=kernel)
    assert surf.n_points == 7
    assert surf.integral() == pytest.approx(7, rel=0.01)
    assert np.isnan(surf.values).any()  # outside the city
    assert np.nanmin(surf.values) >= 0
    plain = kernel_density(pts, city, bandwidth_m=500, cell_m=50, kernel=kernel,
                           edge_correction=False)
    assert plain.integral() < 0.9 * 7  # mass near the edge is lost without the correction


def test_kernel_integrates_on_real_like_domain_with_many_points(city) -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 2000, size=(800, 2))
    cand = shapely.points(X0 + xy[:, 0], Y0 + xy[:, 1])
    inside = cand[shapely.contains(city.iloc[0], cand)]
    pts = gpd.GeoDataFrame(geometry=list(inside), crs=WORK).to_crs("EPSG:4326")
    for bw, cell in ((300, 25), (500, 50), (150, 50), (20, 50)):
        surf = kernel_density(pts, city, bandwidth_m=bw, cell_m=cell)
        assert surf.integral() == pytest.approx(len(inside), rel=0.01)


def test_kernel_units_are_points_per_km2() -> None:
    big = gpd.GeoSeries([box(X0, Y0, X0 + 10_000, Y0 + 10_000)], crs=WORK)
    one = gpd.GeoDataFrame(geometry=[pt(5_025, 5_025)], crs=WORK)  # a cell centre
    q = kernel_density(one, big, bandwidth_m=500, cell_m=50, kernel="quartic")
    # quartic peak 3 / (π h²) per m² -> × 1e6 per km²
    assert np.nanmax(q.values) == pytest.approx(3 / (math.pi * 0.25), rel=0.02)
    g = kernel_density(one, big, bandwidth_m=300, cell_m=25, kernel="gaussian")
    assert np.nanmax(g.values) == pytest.approx(1 / (2 * math.pi * 0.09), rel=0.02)
    assert q.integral() == pytest.approx(1.0, rel=1e-9)


def test_kernel_densities_by_group_share_one_grid(city, places, caplog) -> None:
    caplog.set_level(logging.INFO, logger="cwsgeo.analysis.density")
    out = kernel_densities(places, city, by="category", groups=["cafe", "bar", "library"],
                           name="places")
    assert list(out) == ["all", "cafe", "bar", "library"]
    assert out["all"].n_points == 5  # the restaurant is in the bite; the park counts here
    assert out["cafe"].integral() == pytest.approx(2, rel=1e-6)
    assert out["library"].n_points == 0 and out["library"].integral() == 0
    assert out["cafe"].name == "places:cafe"
    assert {s.values.shape for s in out.values()} == {out["all"].values.shape}
    assert "outside the city" in caplog.text


def test_kernel_rejects_bad_parameters(city, places) -> None:
    with pytest.raises(ValueError, match="quartic"):
        kernel_density(places, city, kernel="epanechnikov")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="> 0"):
        kernel_density(places, city, bandwidth_m=0)


def test_surface_contours_are_bands_in_4326(city, places) -> None:
    surf = kernel_density(places, city, bandwidth_m=400, cell_m=25, name="places")
    bands = surface_contours(surf, city, k=4)
    assert bands.crs == "EPSG:4326"
    assert list(bands.columns) == ["layer", "band", "level_min", "level_max", "label", "color",
                                   "units", "geometry"]
    assert bands["band"].is_monotonic_increasing
    assert (bands["level_min"] < bands["level_max"]).all()
    assert bands.geometry.is_valid.all()
    back = bands.to_crs(WORK)
    assert back.geometry.union_all().difference(city.iloc[0].buffer(0.01)).area < 1.0
    assert (back.geometry.area > 0).all()
    cls = surf.classification(k=4)
    assert bands["color"].tolist() == [cls.colors[b - 1] for b in bands["band"]]


def test_surface_contours_of_empty_surface(city) -> None:
    none = gpd.GeoDataFrame(geometry=[], crs=WORK)
    bands = surface_contours(kernel_density(none, city), city)
    assert len(bands) == 0 and bands.crs == "EPSG:4326"


# -- writers ---------------------------------------------------------------------------------
def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(".") or ".tmp" in p.name
            or p.suffix in (".xml", ".aux")]


def test_geotiff_is_readable_with_crs_and_transform(city, places, tmp_path) -> None:
    import rasterio

    surfaces = kernel_densities(places, city, by="category", groups=["cafe"], name="places")
    path = write_geotiff(surfaces, tmp_path / "kde_places.tif")
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 25831
        assert src.transform == surfaces["all"].transform
        assert src.count == 2 and src.descriptions == ("all", "cafe")
        assert src.dtypes == ("float32", "float32")
        assert src.nodata == tables.GEOTIFF_NODATA
        assert src.tags()["units"] == "points per km2"
        data = src.read(1, masked=True)
    assert data.mask.sum() == np.isnan(surfaces["all"].values).sum()
    total = float(data.sum()) * surfaces["all"].cell_area_km2
    assert total == pytest.approx(5, rel=1e-4)
    assert _leftovers(tmp_path) == []


def test_geotiff_rejects_mixed_grids(city, places) -> None:
    a = kernel_density(places, city, cell_m=50)
    b = kernel_density(places, city, cell_m=25)
    with pytest.raises(ValueError, match="not on the grid"):
        write_geotiff({"a": a, "b": b}, "unused.tif")


def test_failed_write_leaves_previous_file_and_no_temp(city, places, tmp_path,
                                                       monkeypatch) -> None:
    target = tmp_path / "kde.tif"
    target.write_bytes(b"previous")
    surf = kernel_density(places, city)

    def boom(self: KernelSurface) -> float:
        raise RuntimeError("disk full")

    monkeypatch.setattr(KernelSurface, "integral", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_geotiff(surf, target)
    assert target.read_bytes() == b"previous"
    assert _leftovers(tmp_path) == []


def test_write_layer_gpkg_and_csv(two_squares, spaces, tmp_path) -> None:
    out = area_densities(two_squares, spaces)
    out.loc[0, "district_name"] = "=HYPERLINK(1)"
    paths = write_layer(out, tmp_path, "districts")
    assert [p.name for p in paths] == ["districts.gpkg", "districts.csv"]
    back = gpd.read_file(tmp_path / "districts.gpkg", layer="districts")
    assert back.crs.to_epsg() == 4326
    assert back["spaces_per_km2"].tolist() == pytest.approx([3.0, 1.0])
    csv = pd.read_csv(tmp_path / "districts.csv", dtype={"district_code": str})
    assert "geometry" not in csv.columns
    assert csv.loc[0, "district_name"] == "'=HYPERLINK(1)"
    assert csv["lq_spaces"].tolist() == pytest.approx([3.0, 1 / 3])
    assert _leftovers(tmp_path) == []


@pytest.fixture
def admin(city, sections) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Districts (2) and barris (3) of the L-shaped city."""
    south = city.iloc[0].intersection(box(X0, Y0, X0 + 2000, Y0 + 1000))
    districts = gpd.GeoDataFrame({"district_code": ["01", "02"], "district_name": ["A", "B"],
                                  "population": [3_000, 7_000]},
                                 geometry=[south, sq(0, 1)], crs=WORK)
    barris = (sections.to_crs(WORK).rename(columns={"section_code": "barri_code"})
              .assign(barri_name=["a", "b", "c"], district_code=["01", "01", "02"]))
    return districts, barris


@pytest.fixture
def result(admin, city, sections, spaces, places, transit) -> density.DensityResult:
    return compute_densities(*admin, sections, city, spaces, places, transit)


def test_compute_and_write_outputs(result, tmp_path) -> None:
    files = write_density_outputs(result, tmp_path)
    expected = {"districts.gpkg", "districts.csv", "barris.gpkg", "barris.csv", "hexes.gpkg",
                "hexes.csv", "kde_spaces.tif", "kde_places.tif", "kde_contours.gpkg",
                "density_classes.json"}
    assert set(files) == expected
    assert {p.name for p in tmp_path.iterdir()} == expected
    hexes = gpd.read_file(tmp_path / "hexes.gpkg")
    assert hexes.crs.to_epsg() == 4326
    assert hexes["residents"].sum() == pytest.approx(10_000)
    csv = pd.read_csv(tmp_path / "hexes.csv")
    assert {"lon", "lat"} <= set(csv.columns)
    assert csv["lat"].between(41, 42).all()
    classes = json.loads((tmp_path / "density_classes.json").read_text(encoding="utf-8"))
    assert classes["districts.spaces_per_km2"]["units"] == "spaces per km²"
    lq = classes["barris.lq_spaces"]
    assert lq["scheme"] == "user_defined" and len(lq["colors"]) == lq["k"]
    import pyogrio

    layers = [name for name, _ in pyogrio.list_layers(tmp_path / "kde_contours.gpkg")]
    assert layers == ["spaces", "places"]
    assert result.kde_places["all"].integral() == pytest.approx(4, rel=0.01)
    assert list(result.kde_places) == ["all", *density.PLACE_CATEGORIES]
    assert result.kde_places["restaurant"].n_points == 0
    assert _leftovers(tmp_path) == []


def test_figures_are_written(result, tmp_path) -> None:

    files = write_density_figures(result, tmp_path / "figures")
    assert set(files) == {"spaces_per_km2_districts.png", "spaces_per_km2_barris.png",
                          "hex_places.png", "hex_residents.png", "kde_places_spaces.png"}
    for path in files.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000
    assert _leftovers(tmp_path) == []


def test_compute_without_sections_uses_barris(admin, city, spaces, caplog) -> None:
    out = compute_densities(*admin, None, city, spaces)
    assert out.hexes["residents"].sum() == pytest.approx(10_000)
    assert "interpolated from the barris" in caplog.text
    assert out.kde_places == {}


# -- class breaks -----------------------------------------------------------------------------
def test_class_breaks_fisher_jenks_matches_mapclassify() -> None:
    import mapclassify

    rng = np.random.default_rng(0)
    y = np.round(rng.lognormal(size=150), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Numba not installed"
        expected = mapclassify.FisherJenks(y, k=5).bins
    got = class_breaks(y, scheme="fisher_jenks", k=5)
    assert got.bins == pytest.approx(tuple(expected))
    assert sum(got.counts) == y.size
    assert got.lower == y.min()


def test_class_breaks_edge_cases() -> None:
    many_zeros = [0] * 20 + [1, 2, 3, 4]
    q = class_breaks(many_zeros, scheme="quantiles", k=5)
    assert q.bins[0] == 0 and len(set(q.bins)) == q.k  # duplicate breaks merged
    assert q.labels[0] == "0"
    assert class_breaks([np.nan, None, "x"]).k == 0
    one = class_breaks([2.5, 2.5])
    assert one.k == 1 and one.labels == ("2.5",)
    lq = class_breaks([0.1, 0.9, 1.0, 3.0, np.nan], bins=density.LQ_BINS, cmap="RdBu_r")
    assert lq.scheme == "user_defined"
    assert lq.bins == (0.5, 0.8, 1.25, 2.0, 3.0)  # the maximum closes the last class
    assert lq.counts == (1, 0, 2, 0, 1)
    assert lq.classify([0.1, 1.1, 9.0, np.nan]).tolist() == [0, 2, 4, -1]
    assert lq.index == [0.1, 0.5, 0.8, 1.25, 2.0, 3.0]
    narrow = class_breaks([0.9, 1.1], bins=density.LQ_BINS, cmap="RdBu_r")
    assert narrow.bins == (1.1,) and narrow.colors == (lq.colors[2],)  # same slot, same colour
    json.dumps(lq.to_dict())
    with pytest.raises(ValueError, match="unknown classification scheme"):
        class_breaks([1, 2], scheme="kmeans")


# -- the real bundle ------------------------------------------------------------------------------
@pytest.mark.bundle
def test_bundle_hex_population_and_kde(bundle_dir) -> None:
    admin = bundle_dir / "admin"
    sections = gpd.read_file(admin / "census_sections.geojson")
    city = gpd.read_file(admin / "city_boundary.geojson")
    districts = gpd.read_file(admin / "districts.geojson")
    hexes = hex_densities(city, sections, None)
    assert hexes["residents"].sum() == pytest.approx(1_702_814, rel=0.001)
    assert hexes["area_km2"].sum() == pytest.approx(101.705, rel=0.001)
    assert 1_100 < len(hexes) < 1_250
    csv = pd.read_csv(bundle_dir / "places" / "bcn_places_combined.csv",
                      usecols=["category", "lat", "lon"])
    places = gpd.GeoDataFrame(csv[["category"]], crs="EPSG:4326",
                              geometry=gpd.points_from_xy(csv["lon"], csv["lat"]))
    out = area_densities(districts, None, places, key="district_code")
    assert out["area_km2"].sum() == pytest.approx(101.705, rel=1e-4)
    assert out["residents"].sum() == 1_702_814
    eixample = out.set_index("district_name").loc["Eixample"]
    assert eixample["places_per_km2"] > out["places_per_km2"].median()
    surf = kernel_density(places[places["category"].isin(density.PLACE_CATEGORIES)], city,
                          name="places")
    assert surf.integral() == pytest.approx(surf.n_points, rel=0.01)
    assert surf.n_points > 10_000


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (60, 45)])
@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_numpy_convolution_matches_scipy(shape: tuple[int, int], kernel: str) -> None:
    from scipy.signal import fftconvolve

    from cwsgeo.analysis.density.kernel import _convolve, _kernel_weights

    grid = np.random.default_rng(7).random(shape)
    w = _kernel_weights(kernel, 120.0, 50.0)
    np.testing.assert_allclose(_convolve(grid, w), fftconvolve(grid, w, mode="same"),
                               atol=1e-12)
