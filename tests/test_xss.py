"""A space named `<img src=x onerror=alert(1)>` shows as text in the map and runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwsgeo.cli import main
from tests._browser import launch, open_map
from tests.test_pipeline import write_config

pytestmark = [pytest.mark.bundle, pytest.mark.browser, pytest.mark.slow]

EVIL = "<img src=x onerror=alert(1)>"


def test_html_in_names_is_text(bundle_dir: Path, tmp_path: Path) -> None:
    inventory = tmp_path / "evil.csv"
    inventory.write_text(
        "id,name,address,innovation_type\n"
        f'x1,"{EVIL}","Carrer de Bailèn, 105",3\n'
        f'x2,"<script>alert(2)</script>","Passeig de Gràcia 17",2\n'
        'x3,"Plain & simple \'quotes\' ""double""","Carrer del Bruc 149",\n'
        'x4,"{{ 7*7 }} {% raw %} ${alert(4)} `tick`","Carrer de Girona 50",1\n'
        'x5,"{{ cycler.__init__.__globals__.os.getcwd() }}","Carrer de Sicília 200",1\n',
        encoding="utf-8")
    config = write_config(tmp_path, bundle_dir)
    assert main(["--quiet", "--config", str(config), "build", "--inventory",
                 str(inventory)]) == 0
    page_path = tmp_path / "out" / "maps" / "innovation_types.html"
    with launch() as browser:
        watch = open_map(browser, page_path)
        page = watch.page
        assert page.locator("path.cws-space").count() == 5
        page.locator("path.cws-type-3").click(force=True)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert EVIL in popup.inner_text()
        assert popup.locator("img").count() == 0
        page.locator("path.cws-type-2").hover(force=True)
        page.wait_for_timeout(200)
        assert page.locator("script", has_text="alert(2)").count() == 0
        # names are data, never templates or code: shown literally, nothing evaluated
        for i, text in ((0, "{{ 7*7 }} {% raw %} ${alert(4)} `tick`"),
                        (1, "{{ cycler.__init__.__globals__.os.getcwd() }}")):
            page.locator("path.cws-type-1").nth(i).hover(force=True)
            page.wait_for_timeout(150)
            tips = page.locator(".leaflet-tooltip").all_inner_texts()
            assert text in tips, tips
        html_text = page_path.read_text(encoding="utf-8")
        assert "49" not in page.locator(".leaflet-tooltip").all_inner_texts()
        assert str(tmp_path) not in html_text
        watch.assert_clean()


TEMPLATE = "{{7*7}}"


@pytest.mark.parametrize("dtype", ["Int64", "float"])
def test_new_text_paths_show_hostile_text_as_text(tmp_path: Path, dtype: str) -> None:
    """Search index, name labels, data note and sources box: hostile text stays text."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry import Point, box

    from cwsgeo.analysis.admin import AdminAreas
    from cwsgeo.outputs import maps

    crs, x0, y0 = "EPSG:25831", 428_000.0, 4_580_000.0
    districts = gpd.GeoDataFrame({"district_code": ["01"], "district_name": [EVIL]},
                                 geometry=[box(x0, y0, x0 + 2000, y0 + 1000)], crs=crs)
    barris = gpd.GeoDataFrame({"barri_code": ["01"], "barri_name": [TEMPLATE],
                               "district_code": ["01"]},
                              geometry=[box(x0, y0, x0 + 2000, y0 + 1000)], crs=crs)
    admin = AdminAreas(districts, barris, None, districts[["geometry"]], 2024)
    types = [1, None, 3] if dtype == "Int64" else [1.0, np.nan, 3.0]
    spaces = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "name": [EVIL, TEMPLATE, "<script>alert(3)</script>"],
         "innovation_type": pd.array(types, dtype=dtype),
         "location_method": ["gazetteer", "gazetteer", "none"],
         "geocode_status": ["exact", "exact", "<b>odd</b>"]},
        geometry=[Point(x0 + 500, y0 + 500), Point(x0 + 1500, y0 + 500), None], crs=crs)
    streets = gpd.GeoDataFrame({"name": [EVIL + " street"]},
                               geometry=[box(x0, y0, x0 + 1, y0 + 1).boundary], crs=crs)
    path = maps.innovation_map(spaces, admin, tmp_path / "x.html", streets=streets,
                               attributions=[f"{EVIL} (x) — data {TEMPLATE}"])
    with launch() as browser:
        watch = open_map(browser, path)
        page = watch.page
        page.evaluate("cwsMap.setZoom(17, {animate: false})")
        page.wait_for_timeout(200)
        labels = page.locator(".cws-label").all_text_contents()
        assert EVIL in labels and TEMPLATE in labels and EVIL + " street" in labels
        assert "49" not in " ".join(labels)
        note = page.locator(".cws-data-note").inner_text()
        assert "not located (<b>odd</b>)" in note
        page.locator(".cws-sources summary").click()
        assert f"{EVIL} (x) — data {TEMPLATE}" in page.locator(".cws-sources ul").inner_text()
        for query, expected in (("img", EVIL), ("7*7", TEMPLATE)):
            page.locator(".cws-search-input").fill(query)
            assert page.locator(".cws-search-hit").all_inner_texts() == [expected]
        page.locator(".cws-search-input").fill("alert(3)")
        assert "<script>alert(3)</script>" in page.locator(".cws-search-missing").inner_text()
        assert page.locator(".leaflet-container img:not(.leaflet-marker-icon), "
                            ".leaflet-container b, .cws-search script").count() == 0
        watch.assert_clean()
