"""Hot spots (local Moran's I) on the density map: layers, colours, tooltips, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from cwsgeo.analysis.admin import AdminAreas
from cwsgeo.analysis.density import DensityResult
from cwsgeo.outputs import maps
from cwsgeo.outputs.labels import AreaLabels
from cwsgeo.outputs.maps.hotspots import HOTSPOT_WORDS
from cwsgeo.outputs.stat_figures import CLUSTER_COLORS
from tests._browser import launch, open_map
from tests.test_maps import (  # noqa: F401  (fixtures)
    EVIL,
    admin,
    control_labels,
    frame,
    hover,
    places,
    result,
    spaces,
    toggle,
    transit,
)

HEX_LAYER = "Hot spots — H3 cells (local Moran's I)"
BARRI_LAYER = "Hot spots — barris"
#: Barcelona's words for its areas (its profile's district_label, neighbourhood_label)
BARCELONA_WORDS = AreaLabels("district", "districts", "barri", "barris")


def with_lisa(table: gpd.GeoDataFrame, rows: dict[int, tuple[str, bool, float]]
              ) -> gpd.GeoDataFrame:
    """``table`` with lisa_* columns: not significant except ``rows`` (position -> values)."""
    out = table.copy()
    n = len(out)
    out["lisa_I"] = np.linspace(-0.2, 0.2, n)
    out["lisa_p_value"] = 0.5
    out["lisa_cluster"] = ["LL"] * n
    out["lisa_significant"] = False
    for i, (cluster, sig, p) in rows.items():
        out.iloc[i, out.columns.get_loc("lisa_cluster")] = cluster
        out.iloc[i, out.columns.get_loc("lisa_significant")] = sig
        out.iloc[i, out.columns.get_loc("lisa_p_value")] = p
    return out


@pytest.fixture(scope="module")
def hotspots(result: DensityResult) -> dict[str, gpd.GeoDataFrame]:  # noqa: F811
    barris = with_lisa(result.barris, {0: ("HH", True, 0.0004), 1: ("LL", True, 0.012),
                                       2: ("HL", False, 0.3), 3: ("HL", True, 0.04)})
    assert barris["barri_name"].iloc[0].startswith(EVIL)
    hexes = with_lisa(result.hexes, {0: ("HH", True, 0.001), 1: ("LH", True, 0.02),
                                     2: ("island", True, np.nan)})
    return {"hexes": hexes, "barris": barris}


@pytest.fixture(scope="module")
def page_path(tmp_path_factory: pytest.TempPathFactory, admin: AdminAreas,  # noqa: F811
              result: DensityResult, spaces: gpd.GeoDataFrame,  # noqa: F811
              hotspots: dict[str, gpd.GeoDataFrame]) -> Path:
    out = tmp_path_factory.mktemp("hotspots")
    return maps.density_map(result, admin, out / "density.html", spaces=spaces,
                            hotspots=hotspots, labels=BARCELONA_WORDS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


def test_missing_column_is_named(admin: AdminAreas, result: DensityResult,  # noqa: F811
                                 tmp_path: Path) -> None:
    bad = {"barris": result.barris.assign(lisa_I=0.0)}
    with pytest.raises(ValueError, match=r"'barris'.*lisa_p_value"):
        maps.density_map(result, admin, tmp_path / "d.html", hotspots=bad)


def test_without_hotspots_no_statistics_group(page_path: Path, admin: AdminAreas,  # noqa: F811
                                              result: DensityResult,  # noqa: F811
                                              tmp_path: Path) -> None:
    plain = maps.density_map(result, admin, tmp_path / "d.html").read_text()
    assert '"Statistics"' not in plain and "cws-legend-hotspots" not in plain
    page = page_path.read_text()
    assert '"Statistics"' in page and "cws-legend-hotspots" in page


def test_hotspot_layers_in_the_browser(browser: Any, page_path: Path,
                                       hotspots: dict[str, gpd.GeoDataFrame]) -> None:
    watch = open_map(browser, page_path)
    page = watch.page
    labels = control_labels(page)
    assert HEX_LAYER in labels and BARRI_LAYER in labels
    groups = page.locator(".leaflet-control-layers-overlays summary").all_text_contents()
    assert any("Statistics" in g for g in groups)
    # off by default: nothing drawn, legend hidden
    assert page.locator("path.cws-hotspot").count() == 0
    assert not page.locator(".cws-legend-hotspots").is_visible()
    frame(page)

    toggle(page, BARRI_LAYER)
    barri_fills = page.eval_on_selector_all(
        "path.cws-hotspot-barris", "els => els.map(e => e.getAttribute('fill'))")
    assert sorted(barri_fills) == sorted(CLUSTER_COLORS[c] for c in ("HH", "LL", "HL"))
    assert page.locator("path.cws-hotspot-hexes").count() == 0
    legend = page.locator(".cws-legend-hotspots")
    assert legend.is_visible()
    for words in HOTSPOT_WORDS.values():
        assert words in legend.inner_text()
    assert "3 of 4 barris" in legend.inner_text()

    tip = hover(page, 250, 600)  # barri 01: HH, its name is an <img onerror>
    assert f"{EVIL} barri" in tip
    assert "hot spot: many spaces among many" in tip
    assert "< 0.001" in tip and "Local Moran's I" in tip

    toggle(page, BARRI_LAYER)
    toggle(page, HEX_LAYER)
    hex_fills = page.eval_on_selector_all(
        "path.cws-hotspot-hexes", "els => els.map(e => e.getAttribute('fill'))")
    assert sorted(hex_fills) == sorted([CLUSTER_COLORS["HH"], CLUSTER_COLORS["LH"]])
    assert "2 of " in legend.inner_text()
    watch.assert_clean()
