"""Maps of a big inventory: thousands of spaces stay small and draw in the browser.

5,000 spaces (above ``MANY_FEATURES``: canvas markers and compact walking-area outlines) in a
2 km × 1 km city with hostile names. The page's size grows by a bounded number of bytes per
space (the issue's target is 5 MB at 28,900 spaces, measured by ``benchmarks/map_perf.py``);
in headless Chromium every layer draws, without errors, and spaces keep their tooltips,
popups (plain text), search and type views.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from cwsgeo.analysis.admin import AdminAreas
from cwsgeo.outputs import maps
from cwsgeo.outputs.maps.display import _sector_radii
from cwsgeo.outputs.maps.palette import MANY_FEATURES
from tests._browser import launch, watched_page

WORK = "EPSG:25831"
X0, Y0 = 428_000.0, 4_580_000.0
EVIL = "<img src=x onerror=alert(1)>"
N = 5_000
#: Bytes a space may add to the innovation map, its walking area included (measured: 66).
BYTES_PER_SPACE = 120


@pytest.fixture(scope="module")
def admin() -> AdminAreas:
    districts = gpd.GeoDataFrame(
        {"district_code": ["01", "02"], "district_name": ["Ciutat Vella", EVIL]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        crs=WORK)
    barris = gpd.GeoDataFrame(
        {"barri_code": ["01", "02"], "barri_name": ["el Raval", "<b>Gòtic</b>"],
         "district_code": ["01", "02"], "district_name": ["Ciutat Vella", EVIL]},
        geometry=list(districts.geometry), crs=WORK)
    city = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000)], crs=WORK)
    return AdminAreas(districts, barris, None, city, 2024)


def big_spaces(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` located spaces with types, addresses, metrics and a few approximate ones."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform([X0 + 20, Y0 + 20], [X0 + 1980, Y0 + 980], size=(n, 2))
    approx = rng.random(n) < 0.05
    return gpd.GeoDataFrame({
        "id": [f"s{i}" for i in range(n)],
        "name": [f"{EVIL} {i}" if i % 97 == 0 else f"Space {i}" for i in range(n)],
        "address": [f"Carrer {rng.integers(1, 300)}, {rng.integers(1, 200)}" for _ in range(n)],
        "innovation_type": pd.array(rng.choice([1, 2, 3, None], n).tolist(), dtype="Int64"),
        "innovation_type_estimated": pd.array(rng.choice([1, 2, 3], n).tolist(), dtype="Int64"),
        "location_precision": np.where(approx, "approximate", "exact"),
        "location_radius_m": np.where(approx, 250.0, 25.0),
        "metro_walk_min": np.round(rng.uniform(1, 15, n), 1),
        "residents_10min": rng.integers(1_000, 60_000, n),
        "places_buzz": rng.gamma(2.0, 3.0, n)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=WORK)


def walk_areas(spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": spaces["id"], "minutes": 10},
                            geometry=spaces.geometry.buffer(300, 4).to_numpy(), crs=WORK)


@pytest.fixture(scope="module")
def big_map(tmp_path_factory: pytest.TempPathFactory, admin: AdminAreas) -> Path:
    spaces = big_spaces(N)
    return maps.innovation_map(spaces, admin, tmp_path_factory.mktemp("big") / "big.html",
                               walk_areas=walk_areas(spaces), tiles=False)


def test_size_grows_by_a_bounded_number_of_bytes_per_space(tmp_path, admin, big_map) -> None:
    assert N > MANY_FEATURES  # the big page draws on canvases
    small = big_spaces(200)
    base = maps.innovation_map(small, admin, tmp_path / "small.html",
                               walk_areas=walk_areas(small), tiles=False)
    per_space = (big_map.stat().st_size - base.stat().st_size) / (N - 200)
    assert per_space < BYTES_PER_SPACE, per_space
    page = big_map.read_text(encoding="utf-8")
    assert page.count("= cwsOutlines(") == 1  # the walking areas as compact outlines


def _segmentized_radii(polys: np.ndarray, directions: int) -> np.ndarray:
    """The outline radii measured on ``shapely.segmentize``d boundaries (the reference)."""
    c = shapely.centroid(polys)
    cx, cy = shapely.get_x(c), shapely.get_y(c)
    dense = shapely.segmentize(shapely.boundary(polys), 25.0)
    xy, which = shapely.get_coordinates(dense, return_index=True)
    dx, dy = xy[:, 0] - cx[which], xy[:, 1] - cy[which]
    sector = np.round(np.arctan2(dy, dx) / (2 * np.pi / directions)).astype(int) % directions
    radii = np.zeros((len(polys), directions))
    np.maximum.at(radii, (which, sector), np.hypot(dx, dy))
    empty = radii == 0
    near = np.maximum(np.roll(radii, 1, axis=1), np.roll(radii, -1, axis=1))
    radii[empty] = near[empty]
    return radii


def test_outline_radii_equal_those_of_segmentized_boundaries() -> None:
    rng = np.random.default_rng(3)
    pts = gpd.points_from_xy(rng.uniform(425_000, 435_000, 300),
                             rng.uniform(4_580_000, 4_588_000, 300))
    polys = shapely.concave_hull(shapely.multipoints(
        [shapely.points(p.x + rng.normal(0, 250, 40), p.y + rng.normal(0, 250, 40))
         for p in pts]), ratio=0.3)
    holed = shapely.difference(box(0, 0, 900, 700), box(300, 200, 500, 400))  # a hole
    multi = shapely.union(box(0, 0, 100, 100), box(400, 0, 401, 60))  # a thin far part
    mixed = np.array([*polys, holed, multi, box(5, 5, 6, 6)], dtype=object)
    for these in (polys, mixed):  # polygons without holes, then any
        c = shapely.centroid(these)
        for directions in (16, 7):
            got = _sector_radii(these, shapely.get_x(c), shapely.get_y(c), directions)
            assert np.array_equal(got, _segmentized_radii(these, directions))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


@pytest.mark.browser
def test_big_map_draws_every_layer_without_errors(browser, big_map) -> None:
    watch = watched_page(browser)
    page = watch.page
    page.goto(big_map.resolve().as_uri() + "#all-layers")
    page.wait_for_function("document.documentElement.dataset.cwsReady", timeout=60_000)
    state = page.evaluate("""() => {
        const ctl = window.cwsLayerControl, off = ctl._layers.filter(o => o.overlay &&
            !(o.layer.options && o.layer.options.cwsOptIn) && !cwsMap.hasLayer(o.layer));
        return {off: off.map(o => o.name), spaces: cwsSpaces.length,
                canvases: ['cws-spaces', 'cws-walk'].map(
                    p => cwsMap.getPane(p).querySelectorAll('canvas').length),
                paths: document.querySelectorAll('path.cws-space').length,
                names: ctl._layers.map(o => o.name)};
    }""")
    assert state["off"] == [] and state["spaces"] == N
    assert state["canvases"][0] == 1 and state["canvases"][1] >= 1 and state["paths"] == 0
    assert any(f"walking areas ({N:,})" in n for n in state["names"])
    assert page.locator(".cws-legend-walk").count() == 1
    watch.assert_clean()
    page.close()


@pytest.mark.browser
def test_big_map_spaces_keep_tooltips_popups_search_and_views(browser, big_map) -> None:
    watch = watched_page(browser)
    page = watch.page
    page.goto(big_map.resolve().as_uri())
    page.wait_for_function("document.documentElement.dataset.cwsReady", timeout=60_000)
    # the first hostile name, alone on the screen at zoom 19: hover, then click
    x, y = page.evaluate("""() => {
        const s = cwsSpaces[0];
        cwsMap.setView(s.marker.getLatLng(), 19, {animate: false});
        const p = cwsMap.latLngToContainerPoint(s.marker.getLatLng());
        const r = cwsMap.getContainer().getBoundingClientRect();
        return [p.x + r.left, p.y + r.top];
    }""")
    page.wait_for_timeout(200)
    page.mouse.move(x + 2, y + 2)
    page.wait_for_timeout(100)
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    assert page.locator(".leaflet-tooltip").all_inner_texts() == [f"{EVIL} 0"]
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert f"{EVIL} 0" in text and "Carrer " in text and " min" in text
    assert "places nearby weighted by walking distance" in text and f"of the {N:,}" in text
    assert popup.locator("img, b").count() == 0
    page.locator(".cws-search-input").fill("Space 4999")
    assert page.locator(".cws-search-hit").all_inner_texts() == ["Space 4999"]
    page.evaluate("cwsSpaceView('estimated')")
    assert page.evaluate("document.documentElement.dataset.cwsView") == "estimated"
    watch.assert_clean()
    page.close()
