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
