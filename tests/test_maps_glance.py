"""Maps a planner reads at a glance, offline first (issue 10).

Symbol families that never share a colour, the grouped foldable layer control, one legend
panel that never covers it, the data note, search, units in popups, name labels, tooltips
above the controls and pages that load with no network at all (real Chromium).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cwsgeo.analysis.density import class_breaks
from cwsgeo.outputs import maps
from cwsgeo.outputs.maps.palette import INNOVATION_COLORS, PLACE_COLORS, TRANSIT_COLORS
from cwsgeo.outputs.maps.spaces import data_note, has_types, type_key
from tests import test_maps as tm
from tests._browser import PageWatch, watched_page
from tests.test_maps import EVIL, frame, hover, screen_xy

# the small hostile fixtures of test_maps
admin, spaces, places, transit = tm.admin, tm.spaces, tm.places, tm.transit
areas, result, browser = tm.areas, tm.result, tm.browser

CREDITS = ["Ajuntament de Barcelona (CartoBCN), CC BY 4.0 — data 2024-01-01",
           "Ajuntament de Barcelona (ICUB), CC BY 4.0 — data 2023",
           "Transit stops: TMB, FGC (GTFS) — data 2026-01"]
SIZES = [(1400, 900), (1024, 768)]


def _lab(hex_color: str) -> np.ndarray:
    """CIE L*a*b* (D65) of a hex colour."""
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_space_colours_are_far_from_every_context_colour() -> None:
    context = {**{f"transit {k}": v for k, v in TRANSIT_COLORS.items()},
               **{f"place {k}": v for k, v in PLACE_COLORS.items()}}
    for key, colour in INNOVATION_COLORS.items():
        for what, other in context.items():
            delta_e = float(np.linalg.norm(_lab(colour) - _lab(other)))
            rgb = np.linalg.norm([int(colour[i:i + 2], 16) - int(other[i:i + 2], 16)
                                  for i in (1, 3, 5)])
            assert delta_e >= 30 and rgb >= 60, (key, colour, what, other, delta_e, rgb)
    for a, b in itertools.combinations(INNOVATION_COLORS.values(), 2):
        assert np.linalg.norm(_lab(a) - _lab(b)) >= 40, (a, b)


def test_zero_gets_its_own_class() -> None:
    values = [0.0] * 50 + [1.0] * 5 + [5.0, 6, 8, 10, 12, 15, 20, 25, 30, 40]
    plain = class_breaks(values, k=5)
    assert plain.counts[0] >= 55  # zeros lumped with the barris that have a space
    cls = class_breaks(values, k=5, zero_class="no space")
    assert cls.labels[0] == "no space" and cls.counts[0] == 50
    assert cls.colors[0] == maps.palette.ZERO_COLOR and sum(cls.counts) == len(values)
    assert list(cls.classify([0.0, 1.0, 40.0])) == [0, 1, cls.k - 1]
    assert class_breaks([1, 2, 3], zero_class="no space").labels[0] != "no space"


@pytest.mark.parametrize("types", [
    pd.array([1, 2, None, 3], dtype="Int64"), np.array([1.0, 2.0, np.nan, 3.0])])
def test_innovation_type_as_int64_or_float(types: Any) -> None:
    assert [type_key(v) for v in types] == [1, 2, None, 3]
    frame_ = pd.DataFrame({"innovation_type": types})
    assert has_types(frame_)
    assert not has_types(pd.DataFrame({"innovation_type": pd.array([None] * 3, dtype="Int64")}))
    assert not has_types(pd.DataFrame({"innovation_type": [np.nan, 7.0]}))  # 7: not a type


def test_data_note_counts_reasons() -> None:
    table = pd.DataFrame({
        "location_method": ["gazetteer", "gazetteer", "none", "none", "none", "input"],
        "geocode_status": ["exact", "street_only", "not_geocoded", "not_geocoded", "unmatched",
                           "exact"],
        "in_city": [True, True, False, False, False, False]})
    head, why = data_note(table)
    assert head.startswith("3 of 6 spaces on the map") and "1 outside the city" in head
    assert "1 placed on its street only" in head
    assert "2 no street address" in why and "1 address not found" in why


# -- pages ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, admin, spaces, places, transit, areas,
          result) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("glance")
    untyped = spaces.assign(innovation_type=pd.array([None] * len(spaces), dtype="Int64"),
                            places_buzz=[12.345, 1.0, 2.0, 0.0, 3.0, np.nan])
    floaty = spaces.assign(innovation_type=spaces["innovation_type"].astype("float"))
    common = {"transit": transit, "places": places, "walk_areas": areas,
              "places_density": result.kde_places["all"], "attributions": CREDITS}
    return {
        "typed": maps.innovation_map(floaty, admin, out / "typed.html", **common),
        "untyped": maps.innovation_map(untyped, admin, out / "untyped.html", city="Barcelona",
                                        **common),
        "density": maps.density_map(result, admin, out / "density.html", spaces=spaces,
                                    attributions=CREDITS),
    }


def offline_page(browser: Any, path: Path, size: tuple[int, int] = (1400, 900)
                 ) -> tuple[PageWatch, list[str]]:
    """Open ``path`` with every non-file request aborted (counted); wait for the page."""
    watch = watched_page(browser)
    page = watch.page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    aborted: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri())
    page.wait_for_function("document.documentElement.dataset.cwsReady", timeout=30_000)
    page.wait_for_timeout(300)
    return watch, aborted


def box(page: Any, selector: str) -> dict[str, float] | None:
    loc = page.locator(selector)
    return loc.first.bounding_box() if loc.count() and loc.first.is_visible() else None


def overlap(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if a is None or b is None:
        return False
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.browser
@pytest.mark.parametrize("name", ["typed", "untyped", "density"])
def test_offline_load_requests_nothing_and_looks_finished(browser, pages, name) -> None:
    watch, aborted = offline_page(browser, pages[name])
    page = watch.page
    assert aborted == [] and watch.failed_requests == []
    assert page.locator(".leaflet-tile").count() == 0  # tiles are opt-in
    assert page.locator(".cws-label-district").count() == 2  # the offline basemap's names
    page.evaluate("cwsMap.setZoom(13, {animate: false})")
    page.wait_for_timeout(150)
    assert page.locator(".cws-label-district").first.is_visible()
    assert not page.locator(".cws-label-barri").first.is_visible()
    page.evaluate("cwsMap.setZoom(15, {animate: false})")
    page.wait_for_timeout(150)
    assert page.locator(".cws-label-barri").first.is_visible()
    watch.assert_clean()


@pytest.mark.browser
def test_osm_tiles_are_an_opt_in_that_fails_quietly_offline(browser, pages) -> None:
    watch, aborted = offline_page(browser, pages["typed"])
    page = watch.page
    label = page.locator(".leaflet-control-layers-overlays label", has_text="OpenStreetMap")
    label.evaluate("el => { el.closest('details').open = true; }")
    label.click()
    page.wait_for_selector(".cws-notice")
    assert len(aborted) == 1  # one probe tile, not a screenful of failures
    assert not label.locator("input").is_checked()
    assert page.locator(".leaflet-tile").count() == 0
    watch.assert_clean()


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["typed", "density"])
def test_controls_never_overlap(browser, pages, name, size) -> None:
    watch, _ = offline_page(browser, pages[name], size)
    page = watch.page
    parts = {"control": ".cws-layers", "legend": ".cws-legend-panel",
             "title": ".cws-title", "note": ".cws-data-note",
             "attribution": ".leaflet-control-attribution", "search": ".cws-search",
             "choropleth": ".cws-choropleth-control"}
    for folded in (False, True):  # the control unfolded, then folded
        page.evaluate(f"window.cwsLayerControl.fold({str(folded).lower()})")
        page.evaluate("document.querySelectorAll('.cws-layer-group').forEach("
                      "d => { d.open = true; })")  # worst case: every group open
        boxes = {k: box(page, s) for k, s in parts.items()}
        assert boxes["control"] and boxes["legend"] and boxes["title"] and boxes["note"]
        for a, b in itertools.combinations(boxes, 2):
            if {a, b} == {"title", "note"}:
                continue  # the note is inside the title box
            assert not overlap(boxes[a], boxes[b]), (a, b, boxes[a], boxes[b], size)
        assert boxes["attribution"]["height"] < 22  # one line
    watch.assert_clean()


@pytest.mark.browser
def test_grouped_control_folds_and_unfolds(browser, pages) -> None:
    watch, _ = offline_page(browser, pages["typed"], (1024, 768))
    page = watch.page
    control = page.locator(".cws-layers")
    assert not page.locator(".cws-layer-group").first.is_visible()  # folded: small screen
    head = page.locator(".cws-layers-head")
    assert head.get_attribute("aria-expanded") == "false"
    head.click()
    groups = page.locator(".cws-layer-group > summary").all_inner_texts()
    assert [g.split(" (")[0] for g in groups] == ["Spaces", "Context", "Areas", "Basemap"]
    assert page.locator(".cws-layer-group[data-group=Context] label").first.is_visible() is False
    page.locator(".cws-layer-group[data-group=Context] > summary").click()
    assert page.locator(".cws-layer-group[data-group=Context] label").first.is_visible()
    tall = control.bounding_box()
    head.click()
    assert control.bounding_box()["height"] < tall["height"] / 3
    assert head.get_attribute("aria-expanded") == "false"
    watch.assert_clean()


@pytest.mark.browser
def test_search_finds_a_space_and_explains_missing_ones(browser, pages) -> None:
    watch, _ = offline_page(browser, pages["typed"])
    page = watch.page
    box_ = page.locator(".cws-search-input")
    box_.fill("hub fi")
    hits = page.locator(".cws-search-hit")
    assert hits.all_inner_texts() == ["Hub five"]
    hits.first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Hub five" in popup.inner_text() and page.evaluate("cwsMap.getZoom()") >= 16
    box_.fill("nowhere")
    assert "not on the map" in page.locator(".cws-search-missing").inner_text()
    box_.fill("onerror")
    assert page.locator(".cws-search-hit").all_inner_texts() == [EVIL]
    assert page.locator(".cws-search img").count() == 0
    box_.fill("zzz")
    assert page.locator(".cws-search-none").count() == 1
    watch.assert_clean()


@pytest.mark.browser
def test_popups_use_units_and_plain_words(browser, pages) -> None:
    watch, _ = offline_page(browser, pages["untyped"])
    page = watch.page
    frame(page)
    x, y = screen_xy(page, 250, 300)
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    for expected in ("Walk to the nearest metro", "6.3 min", "Places within 10 minutes' walk",
                     "Local buzz", "12.3: places nearby weighted by walking distance",
                     "median 2,", "range 0–12.3", "measured on the street network"):
        assert expected in text, (expected, text)
    # no focus box on the clicked marker
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline in ("none", "")
    watch.assert_clean()


@pytest.mark.browser
def test_legend_says_when_there_are_no_types(browser, pages) -> None:
    watch, _ = offline_page(browser, pages["untyped"])
    page = watch.page
    assert page.locator(".cws-title-main").inner_text() == "Coworking spaces in Barcelona"
    note = page.locator(".cws-data-note").inner_text()
    assert "5 of 6 spaces on the map" in note and "Not located: 1 no location" in note
    legend = page.locator(".cws-legend-spaces").inner_text()
    assert "No innovation types in this inventory: all 6 spaces unclassified" in legend
    assert page.locator("path.cws-type-1").count() == 0
    assert page.locator("path.cws-type-none").count() == 5
    assert "Type" not in " ".join(page.locator(
        ".cws-layer-group[data-group=Spaces] label").all_text_contents())
    typed, _ = offline_page(browser, pages["typed"])
    assert "by innovation type" in typed.page.locator(".cws-title-main").inner_text()
    assert typed.page.locator("path.cws-type-1").count() == 2  # float types, NaN unclassified
    assert "No innovation types" not in typed.page.locator(".cws-legend-spaces").inner_text()
    watch.assert_clean()
    typed.assert_clean()


@pytest.mark.browser
def test_tooltips_sit_above_the_controls(browser, pages) -> None:
    watch, _ = offline_page(browser, pages["density"])
    page = watch.page
    z = page.evaluate("""() => {
        const pane = cwsMap.getPane('tooltipPane');
        const ctl = document.querySelector('.leaflet-top.leaflet-right');
        return [pane.parentNode === cwsMap.getContainer(),
                +getComputedStyle(pane).zIndex, +getComputedStyle(ctl).zIndex];
    }""")
    assert z[0] and z[1] > z[2]
    frame(page)
    page.evaluate("cwsMap.panBy([120, 40], {animate: false})")
    page.wait_for_timeout(100)
    text = hover(page, 1250, 550)  # after panning, the tooltip still follows the mouse
    assert EVIL in text
    tip = page.locator(".leaflet-tooltip").first.bounding_box()
    x, y = screen_xy(page, 1250, 550)
    assert tip["y"] - 20 <= y <= tip["y"] + tip["height"] + 20  # beside the mouse
    assert min(abs(tip["x"] - x), abs(tip["x"] + tip["width"] - x)) < 40
    watch.assert_clean()


@pytest.mark.browser
def test_density_map_zero_class_small_markers_and_full_metric_names(browser, pages) -> None:
    watch, _ = offline_page(browser, pages["density"])
    page = watch.page
    page.select_option("select.cws-metric-select", "spaces_per_10k_res")
    sel = page.locator("select.cws-metric-select")
    assert sel.evaluate("el => el.scrollWidth <= el.clientWidth + 1")  # text not cut
    r = page.evaluate("cwsSpaces[0].marker.options.radius")
    assert r < 6
    watch.assert_clean()
