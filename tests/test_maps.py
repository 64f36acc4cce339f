"""Maps: the density map and the innovation map's transit, places and walking-area layers.

Small self-made layers (two 1 km² districts, four barris, a few hundred places and stops) with
hostile names; most tests open the written HTML in headless Debian Chromium (Playwright) and
check that layers switch and draw, legends carry units, every tooltip and popup shows data as
text, no script runs, and offline only map tiles fail to load.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from cwsgeo.analysis.admin import AdminAreas
from cwsgeo.analysis.density import DensityResult, compute_densities
from cwsgeo.build.profiles import load_profile
from cwsgeo.outputs import maps
from cwsgeo.schema import PLACE_CATEGORIES
from tests._browser import PageWatch, launch, open_map, watched_page

WORK = "EPSG:25831"
X0, Y0 = 428_000.0, 4_580_000.0  # a corner in Barcelona (UTM 31N)
EVIL = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
TO_LL = Transformer.from_crs(WORK, "EPSG:4326", always_xy=True)


def pt(dx: float, dy: float) -> Point:
    return Point(X0 + dx, Y0 + dy)


def latlon(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = TO_LL.transform(X0 + dx, Y0 + dy)
    return lat, lon


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def admin() -> AdminAreas:
    """Two districts of 1 km², four barris of 0.5 km² (one census section each)."""
    districts = gpd.GeoDataFrame(
        {"district_code": ["01", "02"], "district_name": ["Ciutat Vella & <b>Co</b>", EVIL],
         "population": [20_000, 60_000]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        crs=WORK)
    districts["area_km2"] = 1.0
    halves = [box(X0 + i * 500, Y0, X0 + (i + 1) * 500, Y0 + 1000) for i in range(4)]
    barris = gpd.GeoDataFrame(
        {"barri_code": ["01", "02", "03", "04"],
         "barri_name": [f"{EVIL} barri", "el Raval", 'l\'Eixample "quoted"', SCRIPT],
         "district_code": ["01", "01", "02", "02"],
         "district_name": ["Ciutat Vella & <b>Co</b>", "Ciutat Vella & <b>Co</b>", EVIL, EVIL],
         "population": [5_000, 15_000, 25_000, 35_000]}, geometry=halves, crs=WORK)
    barris["area_km2"] = 0.5
    sections = barris[["barri_code", "district_code", "population", "geometry"]].assign(
        section_code=["001", "002", "003", "004"])
    city = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 2000, Y0 + 1000)], crs=WORK)
    return AdminAreas(districts, barris, sections, city, 2024)


@pytest.fixture(scope="module")
def spaces() -> gpd.GeoDataFrame:
    rows = [("s1", EVIL, 1, (250, 300)), ("s2", SCRIPT, 2, (700, 650)),
            ("s3", "Plain & simple 'quotes' \"double\"", 3, (1300, 400)),
            ("s4", "Hub four", None, (1700, 800)), ("s5", "Hub five", 1, (1550, 200)),
            ("s6", "Nowhere", None, None)]
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[1] for r in rows],
         "innovation_type": pd.array([r[2] for r in rows], dtype="Int64"),
         "address": ["Carrer <i>Fals</i> 1", *[""] * 5],
         "metro_walk_min": [6.345, 3.0, 12.0, np.nan, 1.5, np.nan],
         "metro_nearest_stop": ["<b>Liceu</b>", "Drassanes", "Urquinaona", None, "Jaume I",
                                None],
         "transit_any_walk_min": [2.04, 1.0, 2.0, 3.0, 0.5, np.nan],
         "places_total_10min": [123.0, 50.0, 10.0, 0.0, 7.0, np.nan],
         "residents_10min": [4567.4, 100.0, 2000.0, 0.0, 1.0, np.nan],
         "places_buzz": [12.345, 1.0, 2.0, 0.0, 3.0, np.nan],
         "proximity_method": ["network", "network", "straight_line", "network", "network",
                              None]},
        geometry=[pt(*r[3]) if r[3] else None for r in rows], crs=WORK)


@pytest.fixture(scope="module")
def places() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    n = 400
    xy = rng.uniform([20, 20], [1980, 980], size=(n, 2))
    cats = [PLACE_CATEGORIES[i % len(PLACE_CATEGORIES)] for i in range(n)]
    cats[-1] = "park"  # a category outside the scheme is drawn as "Park" in grey
    names = [f"Place {i}" for i in range(n)]
    names[0] = EVIL
    names[1] = 'Bar "Quote" & Co'
    xy[0] = (900, 150)
    return gpd.GeoDataFrame({"place_id": [f"t:{i}" for i in range(n)], "name": names,
                             "category": cats},
                            geometry=[pt(x, y) for x, y in xy], crs=WORK)


@pytest.fixture(scope="module")
def transit() -> gpd.GeoDataFrame:
    rows = [("metro", "Liceu", "L3", (300, 500)), ("metro", EVIL, "L1;L3", (1200, 500)),
            ("metro", "Jaume I", "L4", (800, 800)), ("tram", "Glòries", "T4;T5", (1800, 300)),
            ("fgc", "Provença", "L6;L7", (400, 900)), ("rodalies", "Sants", "R1", (100, 100)),
            ("funicular", "Paral·lel", "FM", (150, 700))]
    rng = np.random.default_rng(3)
    fixed = np.array([r[3] for r in rows] + [(1100, 150)], dtype=float)
    bus_xy = rng.uniform([20, 20], [1980, 980], size=(400, 2))
    far = np.min(np.hypot(*(bus_xy[:, None, :] - fixed[None, :, :]).transpose(2, 0, 1)),
                 axis=1) > 40  # no stop right next to the ones the tests hover
    bus_xy = bus_xy[far][:300]
    bus_xy[0] = (1100, 150)
    rows += [("bus", SCRIPT if i == 0 else f"Stop {i}", "V15;H10", tuple(xy))
             for i, xy in enumerate(bus_xy)]
    return gpd.GeoDataFrame({"stop_id": [f"x:{i}" for i in range(len(rows))],
                             "name": [r[1] for r in rows], "mode": [r[0] for r in rows],
                             "lines": [r[2] for r in rows]},
                            geometry=[pt(*r[3]) for r in rows], crs=WORK)


@pytest.fixture(scope="module")
def areas(spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    located = spaces[spaces.geometry.notna()]
    return gpd.GeoDataFrame({"id": located["id"].to_numpy(), "minutes": 10,
                             "proximity_method": "network"},
                            geometry=located.geometry.buffer(250).to_numpy(), crs=WORK)


@pytest.fixture(scope="module")
def result(admin: AdminAreas, spaces, places, transit) -> DensityResult:
    return compute_densities(admin.districts, admin.barris, admin.sections, admin.city, spaces,
                             places, transit, kde_bandwidth_m=300.0, kde_cell_m=25.0)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, admin, spaces, places, transit, areas,
          result) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("maps")
    credits = ["Ajuntament de Barcelona <CartoBCN> — data 2024-01-01"]
    return {
        "density": maps.density_map(result, admin, out / "density.html", spaces=spaces,
                                    attributions=credits),
        "innovation": maps.innovation_map(
            spaces, admin, out / "innovation_types.html", transit=transit, places=places,
            places_density=result.kde_places["all"], walk_areas=areas, attributions=credits),
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


# -- helpers --------------------------------------------------------------------------------------
def open_all_layers(browser: Any, path: Path) -> tuple[PageWatch, float]:
    """Open ``path#all-layers`` watched like ``open_map``; the ``data-cws-ready`` time (ms)."""
    watch = watched_page(browser)
    page = watch.page
    page.goto(path.resolve().as_uri() + "#all-layers")
    page.wait_for_function("document.documentElement.dataset.cwsReady", timeout=30_000)
    return watch, float(page.evaluate("document.documentElement.dataset.cwsReady"))


def screen_xy(page: Any, dx: float, dy: float) -> tuple[float, float]:
    lat, lon = latlon(dx, dy)
    x, y = page.evaluate(
        "([lat, lon]) => { const p = cwsMap.latLngToContainerPoint([lat, lon]);"
        " const r = cwsMap.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }", [lat, lon])
    return x, y


def frame(page: Any) -> None:
    """Centre the fixtures at zoom 15: every point in the free middle of the 1280×800 page."""
    lat, lon = latlon(1000, 500)
    page.evaluate("([lat, lon]) => { cwsMap.setView([lat, lon], 15, {animate: false}); }",
                  [lat, lon])
    page.wait_for_timeout(100)


def hover(page: Any, dx: float, dy: float) -> str:
    """Move the mouse onto a ground point (in two steps, as a user does); the tooltip text."""
    x, y = screen_xy(page, dx, dy)
    page.mouse.move(x + 3, y + 3)
    page.wait_for_timeout(80)
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    tips = page.locator(".leaflet-tooltip")
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip script, "
                        ".leaflet-tooltip b, .leaflet-tooltip i").count() == 0
    return "\n".join(tips.all_inner_texts())


def control_labels(page: Any) -> list[str]:
    """Every label of the layer control, folded groups included."""
    return [t.strip() for t in page.locator(
        ".leaflet-control-layers-overlays label").all_text_contents()]


def toggle(page: Any, label: str) -> None:
    """Click a layer's checkbox (unfolding the control and the layer's group first)."""
    item = page.locator(".leaflet-control-layers-overlays label", has_text=label).first
    item.evaluate("el => { el.closest('details').open = true; "
                  "window.cwsLayerControl.fold(false); }")
    item.click()
    page.wait_for_timeout(120)


def fills(page: Any, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('fill'))")


def layer_on(page: Any, key: str) -> bool:
    return bool(page.evaluate(f"cwsMap.hasLayer(cwsLayers[{key!r}])"))


# -- pure functions -------------------------------------------------------------------------------
def test_format_value_uses_the_unit_in_the_column_name() -> None:
    assert maps.format_value(6.345, "metro_walk_min") == "6.3 min"
    assert maps.format_value(412.6, "metro_walk_m") == "413 m"
    assert maps.format_value(4567.4, "residents_10min") == "4,567"
    assert maps.format_value(123.0, "places_total_10min") == "123"
    assert maps.format_value(0.87654, "lq_spaces") == "0.88"
    assert maps.format_value(3.14159, "area_km2") == "3.14 km²"
    assert maps.format_value(12.345, "places_buzz") == "12.3"
    assert maps.format_value(1234.5, "residents_per_km2") == "1,234"
    assert maps.format_value(7, "spaces") == "7"
    assert maps.format_value(np.int64(12000), "residents") == "12,000"
    assert maps.format_value(True) == "yes"
    assert maps.format_value(None) is None and maps.format_value(pd.NA) is None
    assert maps.format_value(float("inf"), "x_min") is None


def test_popup_and_legend_escape_everything() -> None:
    popup = maps.popup_html(EVIL, [(SCRIPT, EVIL), ("skipped", None)])
    assert "<img" not in popup and "<script" not in popup and "skipped" not in popup
    assert "&lt;img src=x onerror=alert(1)&gt;" in popup
    legend = maps.legend_html(EVIL, [("red;background:url(x)", SCRIPT, 3)], note=EVIL)
    assert "<img" not in legend and "<script" not in legend and "url(x)" not in legend


def test_display_geojson_simplifies_rounds_and_keeps_properties(admin) -> None:
    wiggly = admin.city.copy()
    wiggly["geometry"] = wiggly.geometry.buffer(100, quad_segs=64)
    data = maps.display_geojson(wiggly, (), tolerance_m=10, properties=[{"tip": "x", "c": [1]}])
    coords = np.array(data["features"][0]["geometry"]["coordinates"][0])
    assert len(coords) < 60  # 4 × 64 arc vertices simplified away
    assert np.all(np.round(coords, 5) == coords)
    assert data["features"][0]["properties"] == {"tip": "x", "c": [1]}
    with pytest.raises(ValueError, match="properties"):
        maps.display_geojson(wiggly, (), properties=[])


def test_display_store_is_reused_and_a_damaged_entry_recomputed(admin, transit) -> None:
    from cwsgeo.outputs.maps.display import points_latlon, street_lines

    store: dict[str, bytes] = {}
    first = maps.display_geojson(admin.districts, (), tolerance_m=8, store=store)
    assert len(store) == 1 and maps.display_geojson(admin.districts, (), tolerance_m=8) == first
    (key,) = store
    assert maps.display_geojson(admin.districts, (), tolerance_m=8, store=store) == first
    for damaged in (b'{"type": "Feat', b"\xff\xfe"):  # cut short, not UTF-8
        store[key] = damaged
        assert maps.display_geojson(admin.districts, (), tolerance_m=8, store=store) == first
        assert store[key] != damaged  # written again
    streets = admin.districts.boundary.to_frame("geometry").set_crs(admin.districts.crs)
    text = street_lines(streets, store=store)
    (skey,) = [k for k in store if k.startswith("streets-")]
    store[skey] = b'{"type":"FeatureCollection","features":[</script>'
    assert street_lines(streets, store=store) == text  # never embedded as found
    pos, latlon = points_latlon(transit, store=store)
    (pkey,) = [k for k in store if k.startswith("latlon-")]
    store[pkey] = b"[]"[:1]
    pos2, latlon2 = points_latlon(transit, store=store)
    assert np.array_equal(pos, pos2) and np.array_equal(latlon, latlon2)


def test_render_page_keeps_template_syntax_as_text(admin) -> None:
    import branca.element
    import folium

    template_class = branca.element.Template
    m = maps.base_map(admin, tiles=False, title="{{ 7*7 }}", subtitle="{% raw %}")
    maps.add_legend(m, "{# note #}", [("#ffffff", "{{ 6*7 }}", 1)])
    folium.FeatureGroup(name="{{ 8*8 }}").add_to(m)
    folium.LayerControl().add_to(m)
    page = maps.render_page(m)
    assert branca.element.Template is template_class  # nothing patched
    for text in ("{{ 7*7 }}", "{% raw %}", "{# note #}", "{{ 6*7 }}", "{{ 8*8 }}"):
        assert text in page, text
    assert page.count("= cwsLegend(") == 1 and page.count("function cwsLegend(") == 1


def test_pages_are_offline_compact_and_flagged(built, spaces, places, transit) -> None:
    for path in built.values():
        page = path.read_text(encoding="utf-8")
        assert not re.search(r'<(?:script[^>]+src|link[^>]+href)="https?:', page)
        assert "data-cws-ready" in page and "#all-layers" in page
        assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
        # outside scripts only escaped copies; inside, JSON strings shown as text
        outside = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
        assert EVIL not in outside and SCRIPT not in page
    inno = built["innovation"].read_text(encoding="utf-8")
    # places and stops: one array per layer (7 point layers); spaces: one set of columns for
    # the 4 innovation-type layers (static/spaces.js); never one folium object per point
    assert inno.count("= cwsPointMarker([lat[i] / 1e6, lon[i] / 1e6]") == 7
    assert inno.count("L.circleMarker([lat[i] / 1e6, lon[i] / 1e6]") == 1
    assert inno.count("= cwsSpaceViews(") == 1 and inno.count("= L.featureGroup();") == 4
    assert "L.markerClusterGroup(" in inno and "(embedded)" in inno


def test_cdn_assets_link_the_same_versions(tmp_path, admin, spaces, places) -> None:
    path = maps.innovation_map(spaces, admin, tmp_path / "cdn.html", places=places,
                               assets="cdn", tiles=False)
    page = path.read_text(encoding="utf-8")
    assert re.search(r'src="https://cdn\.jsdelivr\.net/npm/leaflet@1\.9\.\d+/dist/leaflet\.js"',
                     page)
    assert "leaflet.markercluster@1.4" in page and "(embedded)" not in page


def test_point_layer_size_grows_linearly_and_small(tmp_path, admin, spaces) -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform([0, 0], [2000, 1000], size=(5000, 2))
    many = gpd.GeoDataFrame({"name": [f"Terrace {i}" for i in range(5000)],
                             "category": "terrace"},
                            geometry=[pt(x, y) for x, y in xy], crs=WORK)
    small = maps.innovation_map(spaces, admin, tmp_path / "a.html", places=many.iloc[:100],
                                places_density=gpd.GeoDataFrame(), tiles=False)
    large = maps.innovation_map(spaces, admin, tmp_path / "b.html", places=many,
                                places_density=gpd.GeoDataFrame(), tiles=False)
    per_point = (large.stat().st_size - small.stat().st_size) / 4900
    assert per_point < 50, per_point


@pytest.mark.browser
def test_empty_layers_still_make_a_clean_page(tmp_path, browser, admin, spaces) -> None:
    none = gpd.GeoDataFrame({"id": [], "name": [], "category": [], "mode": []},
                            geometry=[], crs=WORK)
    path = maps.innovation_map(spaces.iloc[:0], admin, tmp_path / "empty.html", transit=none,
                               places=none, walk_areas=none, tiles=False)
    watch = open_map(browser, path)
    assert "0 of 0 spaces on the map" in watch.page.locator(".cws-title").inner_text()
    assert any("walking areas (0)" in t for t in control_labels(watch.page))
    toggle(watch.page, "Places of interaction (0)")
    watch.assert_clean()


def test_add_helpers_reject_bad_input(admin) -> None:
    m = maps.base_map(admin)
    with pytest.raises(ValueError, match="mode"):
        maps.add_transit(m, gpd.GeoDataFrame(geometry=[pt(0, 0)], crs=WORK))
    with pytest.raises(ValueError, match="id"):
        maps.add_walk_areas(m, gpd.GeoDataFrame(geometry=[pt(0, 0).buffer(5)], crs=WORK))
    with pytest.raises(ValueError, match="category"):
        maps.add_places(m, gpd.GeoDataFrame(geometry=[pt(0, 0)], crs=WORK))
    with pytest.raises(ValueError, match="position"):
        maps.add_legend(m, "x", [], position="middle")


# -- the density map in Chromium ------------------------------------------------------------------
@pytest.mark.browser
def test_density_map_metric_and_level_switch(browser, built, result) -> None:
    watch = open_map(browser, built["density"])
    page = watch.page
    legend = page.locator(".cws-legend-choropleth")
    assert page.locator("path.cws-choropleth-districts").count() == 2
    assert "Units: spaces per km²" in legend.inner_text()
    before = fills(page, "path.cws-choropleth")
    page.select_option("select.cws-metric-select", "residents_per_km2")
    assert fills(page, "path.cws-choropleth") != before
    assert "Units: residents per km²" in legend.inner_text()
    assert legend.get_attribute("data-metric") == "residents_per_km2"
    classes = result.classifications()
    for column, _ in maps.DENSITY_METRICS:  # every metric: a legend with its units and classes
        page.select_option("select.cws-metric-select", column)
        text = legend.inner_text()
        cls = classes[f"districts.{column}"]
        assert f"Units: {cls.units}" in text and cls.labels[0] in text
    page.select_option("select.cws-level-select", "barris")
    assert page.locator("path.cws-choropleth-barris").count() == 4
    assert page.locator("path.cws-choropleth-districts").count() == 0
    assert "neighbourhoods" in legend.inner_text()  # density_map's default words
    page.select_option("select.cws-level-select", "none")
    assert page.locator("path.cws-choropleth").count() == 0
    assert page.locator(".cws-legend-choropleth").count() == 0
    watch.assert_clean()


@pytest.mark.browser
def test_density_map_hexagon_and_kernel_layers_toggle(browser, built, result) -> None:
    watch = open_map(browser, built["density"])
    page = watch.page
    n_hex = len(result.hexes)
    for col, label in (("places", "places"), ("residents", "residents"),
                       ("spaces", "coworking spaces")):
        assert page.locator(f"path.cws-hex-{col}").count() == 0
        toggle(page, f"Hexagons: {label} per cell")
        assert page.locator(f"path.cws-hex-{col}").count() == n_hex
        assert "Units:" in page.locator(f".cws-legend-hex-{col}").inner_text()
        toggle(page, f"Hexagons: {label} per cell")
        assert page.locator(f"path.cws-hex-{col}").count() == 0
        assert page.locator(f".cws-legend-hex-{col}").count() == 0
    for key, label in (("places", "places of interaction"), ("spaces", "coworking spaces")):
        toggle(page, f"Kernel density: {label}")
        assert page.locator(f"path.cws-kernel-{key}").count() >= 2
        assert "points per km²" in page.locator(f".cws-legend-kernel-{key}").inner_text()
        toggle(page, f"Kernel density: {label}")
        assert page.locator(f"path.cws-kernel-{key}").count() == 0
    # spaces stay on top and toggle as on the innovation map
    assert page.locator("path.cws-space").count() == 5
    toggle(page, "Unclassified (")
    assert page.locator("path.cws-type-none").count() == 0
    watch.assert_clean()


@pytest.mark.browser
def test_density_map_tooltips_show_values_as_text(browser, built) -> None:
    watch = open_map(browser, built["density"])
    page = watch.page
    frame(page)
    text = hover(page, 1250, 550)  # inside district 02, named EVIL, away from any outline
    assert EVIL in text and "Residents" in text and "60,000" in text
    assert "Coworking spaces per km²" in text
    page.select_option("select.cws-level-select", "barris")
    text = hover(page, 1750, 550)
    assert SCRIPT in text and EVIL in text  # barri name (district name)
    toggle(page, "Hexagons: places per cell")
    page.select_option("select.cws-level-select", "none")
    assert "Hexagon" in hover(page, 600, 450)
    attribution = page.locator(".leaflet-control-attribution")
    assert "<CartoBCN>" in attribution.inner_text()
    assert "2024-01-01" not in attribution.inner_text()  # one line: short names only
    attribution.locator("summary", has_text="Sources").click()
    assert "<CartoBCN> — data 2024-01-01" in attribution.locator(".cws-sources ul").inner_text()
    watch.assert_clean()


@pytest.mark.browser
def test_density_map_all_layers_fragment(browser, built) -> None:
    watch, ms = open_all_layers(browser, built["density"])
    page = watch.page
    assert ms > 0
    assert page.locator("path.cws-choropleth-barris").count() == 4
    assert page.locator("path.cws-hex").count() > 0 and page.locator("path.cws-kernel").count()
    watch.assert_clean()
    page.close()


# -- the innovation map's new layers in Chromium --------------------------------------------------
@pytest.mark.browser
def test_transit_layers_by_mode(browser, built) -> None:
    watch = open_map(browser, built["innovation"])
    page = watch.page
    frame(page)
    labels = control_labels(page)
    for name, n in (("Metro", 3), ("Tram", 1), ("FGC", 1), ("Rodalies", 1), ("Bus", 300),
                    ("Funicular", 1)):
        assert any(f"Transit: {name} ({n})" in t for t in labels), (name, labels)
    assert layer_on(page, "transit-metro") and not layer_on(page, "transit-bus")
    assert page.locator(".leaflet-cws-points-pane canvas").count() == 1  # one shared canvas
    assert "Stop 1" not in hover(page, 1100, 150)  # bus hidden
    toggle(page, "Transit: Bus")
    assert layer_on(page, "transit-bus")
    assert page.evaluate("cwsLayers['transit-bus'].getLayers().length") == 300
    text = hover(page, 1100, 150)
    assert "Bus" in text and SCRIPT in text and "V15, H10" in text
    text = hover(page, 1200, 500)
    assert "Metro" in text and EVIL in text and "L1, L3" in text
    assert "Transit stops" in page.locator(".cws-legend-transit").inner_text()
    toggle(page, "Transit: Metro")
    assert not layer_on(page, "transit-metro")
    watch.assert_clean()


@pytest.mark.browser
def test_places_cluster_and_kernel_density(browser, built, places) -> None:
    watch = open_map(browser, built["innovation"])
    page = watch.page
    assert not layer_on(page, "places") and page.locator(".marker-cluster").count() == 0
    toggle(page, "Places of interaction (400)")
    assert page.locator(".marker-cluster").count() > 0
    assert page.evaluate("cwsLayers['places'].getLayers().length") == 400
    legend = page.locator(".cws-legend-places").inner_text()
    assert "Terrace" in legend and "Park" in legend
    lat, lon = latlon(900, 150)
    page.evaluate("([lat, lon]) => { cwsMap.setView([lat, lon], 18, {animate: false}); }",
                  [lat, lon])
    page.wait_for_timeout(300)
    text = hover(page, 900, 150)
    assert "Café" in text and EVIL in text
    frame(page)
    toggle(page, "Places: kernel density")
    assert page.locator("path.cws-kernel-places").count() >= 2
    assert "points per km²" in page.locator(".cws-legend-kernel-places").inner_text()
    toggle(page, "Places of interaction (400)")
    assert page.locator(".marker-cluster").count() == 0
    watch.assert_clean()


@pytest.mark.browser
def test_walking_areas_and_space_popups(browser, built) -> None:
    watch = open_map(browser, built["innovation"])
    page = watch.page
    frame(page)
    assert page.locator("path.cws-walk-area").count() == 0
    toggle(page, "10-minute walking areas (5)")
    assert page.locator("path.cws-walk-area").count() == 5
    assert "Type 3" in page.locator(".cws-legend-walk").inner_text()
    # the transit canvas is on (metro): the area below it still gets the mouse
    assert layer_on(page, "transit-metro")
    text = hover(page, 250, 120)
    assert "10-minute walk from" in text and EVIL in text
    # the space's popup: metrics formatted with units, text escaped
    x, y = screen_xy(page, 250, 300)
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    content = popup.inner_text()
    assert EVIL in content and "<b>Liceu</b>" in content and "Carrer <i>Fals</i> 1" in content
    for expected in ("6.3 min", "2.0 min", "123", "4,567", "12.3", "network"):
        assert expected in content, expected
    assert popup.locator("img, b, i").count() == 0
    toggle(page, "10-minute walking areas (5)")
    assert page.locator("path.cws-walk-area").count() == 0
    watch.assert_clean()


@pytest.mark.browser
def test_innovation_map_keeps_its_basics(browser, built) -> None:
    watch = open_map(browser, built["innovation"])
    page = watch.page
    assert page.locator("path.cws-space").count() == 5
    assert page.locator("path.cws-type-1").count() == 2
    legend = page.locator(".cws-legend").first.inner_text()
    assert "Unclassified" in legend and "Type 3" in legend and "1 of 2" in legend
    labels = control_labels(page)
    assert any("Districts" in t for t in labels) and any("Unclassified" in t for t in labels)
    page.locator("path.cws-type-2").click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert SCRIPT in popup.inner_text()
    page.get_by_text("Unclassified (", exact=False).first.click()
    page.wait_for_timeout(100)
    assert page.locator("path.cws-type-none").count() == 0
    watch.assert_clean()


ALL_CONTENTS_JS = """() => {
    // every tooltip and popup of every layer on the map, parsed inert (a <template>)
    const bad = [], texts = [];
    const check = (content, kind) => {
        if (content instanceof Element) { content = content.innerHTML; }
        if (typeof content !== 'string') { return; }
        const t = document.createElement('template');
        t.innerHTML = content;
        texts.push(t.content.textContent);
        if (t.content.querySelector('img, script, iframe, svg, object, style, a, b, i')) {
            bad.push(kind + ': ' + content.slice(0, 160));
        }
    };
    cwsMap.eachLayer(layer => {
        for (const [overlay, kind] of [[layer.getTooltip && layer.getTooltip(), 'tooltip'],
                                       [layer.getPopup && layer.getPopup(), 'popup']]) {
            if (!overlay) { continue; }
            const content = overlay.getContent();
            if (typeof content === 'function') {
                (layer.getLayers ? layer.getLayers() : [layer]).forEach(
                    sub => check(content(sub), kind));
            } else { check(content, kind); }
        }
    });
    return {bad: bad, texts: texts};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("name", ["innovation", "density"])
def test_every_tooltip_and_popup_is_escaped(browser, built, name) -> None:
    watch, _ = open_all_layers(browser, built[name])
    found = watch.page.evaluate(ALL_CONTENTS_JS)
    assert found["bad"] == []
    text = "\n".join(found["texts"])
    assert EVIL in text and SCRIPT in text  # the hostile names are there, as text
    n_expected = {"innovation": 400 + 307 + 5 + 5 + 4 + 2, "density": 4 + 2 + 5 + 5}[name]
    assert len(found["texts"]) >= n_expected, len(found["texts"])
    watch.assert_clean()


# -- the real bundle ------------------------------------------------------------------------------
@pytest.mark.bundle
@pytest.mark.browser
@pytest.mark.slow
def test_bundle_maps_meet_size_and_speed_targets(bundle_dir: Path, tmp_path: Path,
                                                 browser: Any) -> None:
    from cwsgeo.analysis.admin import load_admin
    from cwsgeo.analysis.layers import read_places, read_transit

    admin = load_admin(bundle_dir / "admin")
    city = admin.city.geometry.union_all()
    places = read_places(sorted((bundle_dir / "places").glob("bcn_*.geojson")), clip=city)
    bcn = load_profile("barcelona").transit
    transit = read_transit(bundle_dir / "osm" / "transit_gtfs", clip=city, rules=bcn)
    rng = np.random.default_rng(0)
    sections = admin.sections
    assert sections is not None
    inside = sections.geometry.sample(300, replace=True, random_state=1)
    types = rng.choice(np.array([1, 2, 3, None], dtype=object), 300).tolist()
    spaces = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(300)], "name": [f"Space {i}" for i in range(300)],
         "innovation_type": pd.array(types, dtype="Int64")},
        geometry=inside.representative_point().to_numpy(), crs=sections.crs)
    areas = gpd.GeoDataFrame({"id": spaces["id"], "minutes": 10},
                             geometry=spaces.geometry.buffer(800), crs=spaces.crs)
    result = compute_densities(admin.districts, admin.barris, admin.sections, admin.city,
                               spaces, places, transit, transit_modes=bcn.modes)
    paths = [maps.innovation_map(spaces, admin, tmp_path / "inno.html", transit=transit,
                                 places=places, places_density=result.kde_places["all"],
                                 walk_areas=areas),
             maps.density_map(result, admin, tmp_path / "density.html", spaces=spaces)]
    for path in paths:
        assert path.stat().st_size <= 5e6, (path.name, path.stat().st_size)
        watch, ms = open_all_layers(browser, path)
        watch.assert_clean()
        assert ms > 0  # drawn; the 2 s target is checked by benchmarks/map_perf.py
        watch.page.close()


def test_format_values_is_format_value_of_each() -> None:
    from cwsgeo.outputs.maps.text import format_value, format_values

    values = [1.5, float("nan"), float("inf"), -2.25, None, pd.NA, 3, np.int64(4),
              np.float64(5.5), True, np.bool_(False), "straight_line", "text_area", "a_b",
              12345.678, 0.001234, 0, 0.0, pd.Timestamp("2024-01-01")]
    for column in ("", "metro_walk_min", "residents_10min", "metro_walk_m", "area_km2",
                   "spaces_per_km2", "lq_spaces", "residents", "places_buzz",
                   "proximity_method", "location_method", "geocode_status", "address"):
        assert format_values(values, column) == [format_value(v, column) for v in values]
