"""Maps show how precisely each space is located and which types are confirmed (issue 11).

Filled markers at an address, hollow ones placed from a listing text (their radius circle on
hover or focus), spaces known only by area counted per area instead of drawn, the unlocated
listed with the reason; a switch between confirmed and estimated types whose markers look
different. Small hostile fixtures, real headless Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from cwsgeo.analysis.density import DensityResult, compute_densities
from cwsgeo.outputs import maps
from cwsgeo.outputs.maps.precision import (
    area_names,
    data_note,
    missing_spaces,
    precision_of,
    radius_text,
)
from tests import test_maps as tm
from tests._browser import PageWatch, launch, watched_page
from tests.test_maps import EVIL, SCRIPT, WORK, pt

admin, places, transit = tm.admin, tm.places, tm.transit

EVIDENCE = "<script>alert(3)</script> near <img src=x onerror=alert(4)> Plaça"
#: id, name, confirmed, estimated, source, precision, radius, areas, point, n_texts
ROWS = [
    ("p1", "Filled one", 1, 1, "declared", "exact", 25.0, None, (250, 300), 1),
    ("p2", EVIL, None, 2, "estimated", "approximate", 400.0, None, (700, 650), 1),
    ("p3", "Hub three", None, 3, "estimated", "approximate", 300.0, None, (1300, 400), 1),
    ("p4", "Reviewed four", 2, 2, "reviewed", "exact", 25.0, None, (1700, 800), 1),
    ("p5", "Area five", None, 1, "estimated", "area", 1200.0, "B03", (1250, 500), 1),
    ("p6", "Area six", None, 1, "estimated", "area", 900.0, "D02;B04", (1750, 300), 1),
    ("p7", "Far seven", None, 2, "estimated", "outside", np.nan, None, None, 1),
    ("p8", "Silent eight", None, None, "none", "none", np.nan, None, None, 0),
    ("p9", "Vague nine", None, 1, "estimated", "none", np.nan, None, None, 2),
]


def make_spaces(confirmed: bool = True) -> gpd.GeoDataFrame:
    cols = list(zip(*ROWS, strict=True))
    return gpd.GeoDataFrame(
        {"id": cols[0], "name": cols[1],
         "innovation_type": pd.array(cols[2] if confirmed else [None] * len(ROWS),
                                     dtype="Int64"),
         "innovation_type_estimated": pd.array(cols[3], dtype="Int64"),
         "innovation_type_source": [s if confirmed or s not in ("declared", "reviewed")
                                    else "estimated" for s in cols[4]],
         "location_precision": cols[5], "location_radius_m": cols[6],
         "location_areas": cols[7], "n_texts": cols[9],
         "location_method": ["gazetteer", "text_landmark", "text_station", "gazetteer",
                             "text_area", "text_area", "none", "none", "none"],
         "location_evidence": [None, EVIDENCE, "name: Hub three", *[None] * 6],
         "outside_city": [False] * 6 + [True, False, False],
         "geocode_status": ["exact", "not_geocoded", "not_geocoded", "exact",
                            *["not_geocoded"] * 5]},
        geometry=[pt(*r[8]) if r[8] else None for r in ROWS], crs=WORK)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory, admin, places, transit) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("precision")
    spaces = make_spaces()
    drawn = spaces[spaces["location_precision"].isin(["exact", "approximate"])]
    result: DensityResult = compute_densities(admin.districts, admin.barris, admin.sections,
                                              admin.city, drawn, places, transit)
    return {
        "innovation": maps.innovation_map(spaces, admin, out / "inno.html", transit=transit),
        "estimated": maps.innovation_map(make_spaces(confirmed=False), admin, out / "est.html"),
        "density": maps.density_map(result, admin, out / "density.html", spaces=spaces),
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


def open_page(browser: Any, path: Path) -> PageWatch:
    watch = watched_page(browser)
    watch.page.set_viewport_size({"width": 1400, "height": 900})
    watch.page.goto(path.resolve().as_uri())
    watch.page.wait_for_selector("html[data-cws-ready]", state="attached")
    watch.page.evaluate("cwsMap.setView(cwsMap.getCenter(), 15, {animate: false}); 0")
    tm.frame(watch.page)
    return watch


def counts(page: Any) -> dict[str, int]:
    return {k: page.locator(f"path.cws-space{s}").count() for k, s in (
        ("all", ""), ("filled", ".cws-space-filled"), ("hollow", ".cws-space-hollow"),
        ("estimated", ".cws-space-estimated"), ("t1", ".cws-type-1"), ("t2", ".cws-type-2"),
        ("t3", ".cws-type-3"), ("none", ".cws-type-none"))}


# -- pure functions -------------------------------------------------------------------------------
def test_precision_classes_and_radius_words() -> None:
    spaces = make_spaces()
    assert precision_of(spaces).tolist() == [r[5] for r in ROWS]
    moved = spaces.assign(location_precision=["exact"] * len(ROWS))  # no point: never drawn
    assert precision_of(moved).tolist()[6:] == ["none"] * 3
    legacy = spaces.drop(columns="location_precision")
    assert precision_of(legacy).tolist() == ["exact"] * 6 + ["none"] * 3
    assert [radius_text(r) for r in (25, 412, 1234, np.nan)] == ["±25 m", "±410 m", "±1.2 km",
                                                                  ""]


def test_data_note_counts_by_precision_and_gives_reasons(admin) -> None:
    spaces = make_spaces()
    names = area_names(admin, spaces)
    assert names["B3"] == 'l\'Eixample "quoted"' and names["D2"] == EVIL
    head, areas, gone = data_note(spaces, None, names)
    assert head.startswith("4 of 9 spaces on the map: 2 at an address or coordinates "
                           "(filled, ±25 m); 2 placed from their listing texts (hollow, "
                           "±300–400 m)")
    assert areas.startswith("2 known only by their area, not drawn: ")
    assert f"{EVIL} 1" in areas and 'l\'Eixample "quoted" 1' in areas
    assert gone.startswith("Not located: ")
    for why in ("1 outside the city", "1 no street address, no listing text",
                "1 no street address, no place named in its listing texts"):
        assert why in gone, (why, gone)
    missing = dict(missing_spaces(spaces, names))
    assert set(missing) == {"Area five", "Area six", "Far seven", "Silent eight", "Vague nine"}
    assert missing["Area five"] == 'known only by area: l\'Eixample "quoted" (±1.2 km)'


# -- pages ----------------------------------------------------------------------------------------
@pytest.mark.browser
def test_filled_and_hollow_markers_match_the_frame(browser, pages) -> None:
    spaces = make_spaces()
    prec = spaces["location_precision"]
    for key in ("innovation", "density"):
        watch = open_page(browser, pages[key])
        c = counts(watch.page)
        assert c["filled"] == int((prec == "exact").sum()) == 2, key
        assert c["hollow"] == int((prec == "approximate").sum()) == 2, key
        assert c["all"] == 4, key  # area-only, outside and unlocated rows are not markers
        names = watch.page.evaluate("cwsSpaces.map(s => s.name)")
        assert sorted(names) == sorted(["Filled one", EVIL, "Hub three", "Reviewed four"])
        watch.assert_clean()
        watch.page.close()


@pytest.mark.browser
def test_hover_or_focus_shows_the_radius_circle(browser, pages) -> None:
    watch = open_page(browser, pages["innovation"])
    page = watch.page
    assert page.locator("path.cws-radius").count() == 0
    text = tm.hover(page, 700, 650)
    assert EVIL in text and "approximate location, ±400 m" in text
    assert page.locator("path.cws-radius").count() == 1
    r = page.evaluate("""() => { let r = null; cwsMap.eachLayer(l => {
        if (l instanceof L.Circle && !(l instanceof L.CircleMarker && !l.getRadius)) {
            if (l.options.className === 'cws-radius') { r = l.getRadius(); } } }); return r; }""")
    assert r == pytest.approx(400)
    tm.hover(page, 1000, 100)  # away
    assert page.locator("path.cws-radius").count() == 0
    tm.hover(page, 250, 300)  # a filled marker has no circle
    assert page.locator("path.cws-radius").count() == 0
    page.locator("path.cws-space-hollow").first.focus()  # keyboard focus
    page.wait_for_timeout(100)
    assert page.locator("path.cws-radius").count() == 1
    page.locator("path.cws-space-filled").first.focus()
    page.wait_for_timeout(100)
    assert page.locator("path.cws-radius").count() == 0
    watch.assert_clean()


@pytest.mark.browser
def test_switch_between_confirmed_and_estimated_types(browser, pages) -> None:
    watch = open_page(browser, pages["innovation"])
    page = watch.page
    legend = page.locator(".cws-legend-spaces")
    assert page.evaluate("document.documentElement.dataset.cwsView") == "confirmed"
    assert "Innovation type (confirmed)" in legend.inner_text()
    assert "Types by source: declared 1 · reviewed 1 · estimated 6 · none 1." in \
        legend.inner_text()
    c = counts(page)
    assert (c["t1"], c["t2"], c["t3"], c["none"], c["estimated"]) == (1, 1, 0, 2, 0)
    solid = page.eval_on_selector_all("path.cws-space-filled", "els => els.map(e => "
                                      "[e.getAttribute('fill-opacity'), e.getAttribute("
                                      "'stroke-dasharray')])")
    page.locator(".cws-view-switch input[value=estimated]").check()
    page.wait_for_timeout(150)
    assert page.evaluate("document.documentElement.dataset.cwsView") == "estimated"
    text = legend.inner_text()
    assert "estimated from listing text, to be confirmed" in text
    assert "Estimated from listing texts — to be confirmed" in text
    c = counts(page)
    assert (c["t1"], c["t2"], c["t3"], c["none"], c["estimated"]) == (1, 2, 1, 0, 4)
    item = [t for t in legend.locator(".cws-legend-item").all_inner_texts() if "Type 1" in t]
    assert "1 of 4" in item[0]  # drawn of all, in the active view
    dashed = page.eval_on_selector_all("path.cws-space-filled", "els => els.map(e => "
                                       "[e.getAttribute('fill-opacity'), e.getAttribute("
                                       "'stroke-dasharray')])")
    assert all(o == "0.95" and d is None for o, d in solid)
    assert all(float(o) < 0.95 and d for o, d in dashed)  # lighter and dashed
    labels = tm.control_labels(page)
    assert any("Type 3: highly innovative community — estimated (1)" in t for t in labels)
    tm.toggle(page, "Type 2: innovative community — estimated")  # layers still switch off
    assert counts(page)["t2"] == 0
    page.locator(".cws-view-switch input[value=confirmed]").check()
    page.wait_for_timeout(150)
    assert counts(page)["t2"] == 0 and counts(page)["t1"] == 1  # type 2 layer stays off
    watch.assert_clean()


@pytest.mark.browser
def test_without_confirmed_types_the_page_opens_on_estimates(browser, pages) -> None:
    watch = open_page(browser, pages["estimated"])
    page = watch.page
    assert page.evaluate("document.documentElement.dataset.cwsView") == "estimated"
    assert "estimated innovation type (to be confirmed)" in page.locator(
        ".cws-title-main").inner_text()
    warning = page.locator(".cws-legend-spaces .cws-legend-warning").inner_text()
    assert warning == ("No confirmed types yet: these are estimates from listing texts; run "
                       "`cwsgeo classify` to review them.")
    assert counts(page)["estimated"] == 4
    page.locator(".cws-view-switch input[value=confirmed]").check()
    page.wait_for_timeout(150)
    assert "No confirmed types yet" in page.locator(".cws-legend-warning").inner_text()
    assert counts(page)["none"] == 4 and counts(page)["estimated"] == 0
    watch.assert_clean()


@pytest.mark.browser
def test_popup_says_how_located_and_shows_evidence_as_text(browser, pages) -> None:
    watch = open_page(browser, pages["innovation"])
    page = watch.page
    x, y = tm.screen_xy(page, 700, 650)
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup")
    popup = page.locator(".leaflet-popup-content")
    text = popup.inner_text()
    assert EVIDENCE in text  # shown, not parsed
    assert popup.locator("script, img").count() == 0
    for expected in ("Located by", "landmark named in its listing text", "approximate, ±400 m",
                     "Estimated type", "2: innovative community (from listing text, to be "
                     "confirmed)", "not confirmed yet"):
        assert expected in text, (expected, text)
    assert page.locator("path.cws-radius").count() == 1  # kept while the popup is open
    # the data note, the area list and the search box: every name as text
    note = page.locator(".cws-data-note").inner_text()
    assert "4 of 9 spaces on the map" in note and f"{EVIL} 1" in note
    areas = page.locator(".cws-area-list")
    areas.locator("summary").click()
    assert EVIL in areas.inner_text() and areas.locator("img").count() == 0
    page.locator(".cws-outside-list summary").click()
    assert "Far seven" in page.locator(".cws-outside-list").inner_text()
    page.fill(".cws-search-input", "Area five")
    assert "known only by area" in page.locator(".cws-search-missing").inner_text()
    assert SCRIPT not in page.content().split("<body")[0]
    watch.assert_clean()


@pytest.mark.browser
def test_density_map_legend_says_which_types(browser, pages) -> None:
    watch = open_page(browser, pages["density"])
    page = watch.page
    legend = page.locator(".cws-legend-spaces").inner_text()
    assert "Innovation type (confirmed)" in legend and "Types shown" in legend
    page.locator(".cws-view-switch input[value=estimated]").check()
    page.wait_for_timeout(150)
    assert counts(page)["estimated"] == 4
    assert "estimated from listing text" in page.locator(".cws-legend-spaces").inner_text()
    watch.assert_clean()
