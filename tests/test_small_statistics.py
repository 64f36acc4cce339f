"""The statistics of small and degenerate cities: every test runs or says why it did not.

A synthetic town (a 2 km street grid, 40 H3 cells, 36 barris, places and stops) and 0 to 30
spaces, all of one type, without types, without bars, at one spot, with fewer reference
places than spaces: the statistics stage never raises, and ``statistics.json``, the report and
the build summary carry the reason of every test not run. Also the checks of
``[statistics]`` in the project file.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from cwsgeo import settings
from cwsgeo._errors import ConfigError
from cwsgeo.analysis.network import network_from_graph
from cwsgeo.analysis.stats.middleground import EVENT_CATEGORIES
from cwsgeo.build.config import Config, StatisticsConfig
from cwsgeo.build.profiles import load_profile
from cwsgeo.build.statistics import Findings, _Statistics, write_findings
from cwsgeo.outputs.findings import skipped_tests, statistics_json

X0, Y0, SIDE = 430000.0, 4580000.0, 2000.0
SECTIONS = ("agglomeration", "colocation", "hotspots", "middleground", "comparisons")
PROFILE = load_profile("barcelona")  # its rail modes (metro ...) name the town's rail stations


@pytest.fixture(scope="module")
def town() -> SimpleNamespace:
    """The grid, the city outline, places and stops (EPSG:25831)."""
    g = nx.Graph(crs=settings.crs_work)
    step = 100.0
    n = int(SIDE / step) + 1
    for i in range(n):
        for j in range(n):
            g.add_node(i * n + j, x=X0 + i * step, y=Y0 + j * step)
            if i:
                g.add_edge((i - 1) * n + j, i * n + j, length=step)
            if j:
                g.add_edge(i * n + j - 1, i * n + j, length=step)
    rng = np.random.default_rng(7)
    cats = ["cafe", "bar", "restaurant", "culture_venue", "library", "civic_centre"] * 10
    places = gpd.GeoDataFrame({"category": cats}, geometry=gpd.points_from_xy(
        X0 + rng.uniform(50, SIDE - 50, len(cats)), Y0 + rng.uniform(50, SIDE - 50, len(cats))),
        crs=settings.crs_work)
    transit = gpd.GeoDataFrame({"mode": ["metro"] * 12 + ["bus"] * 6}, geometry=gpd.points_from_xy(
        X0 + rng.uniform(50, SIDE - 50, 18), Y0 + rng.uniform(50, SIDE - 50, 18)),
        crs=settings.crs_work)
    city = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)],
                            crs=settings.crs_work)
    return SimpleNamespace(network=network_from_graph(g), places=places, transit=transit,
                           admin=SimpleNamespace(city=city, sections=None))


def make_spaces(n: int, *, types: Any = "mixed", seed: int = 1,
                same_spot: bool = False) -> gpd.GeoDataFrame:
    """``n`` spaces with the proximity and text columns the statistics read."""
    rng = np.random.default_rng(seed)
    x = np.full(n, X0 + 1000.0) if same_spot else X0 + rng.uniform(100, SIDE - 100, n)
    y = np.full(n, Y0 + 1000.0) if same_spot else Y0 + rng.uniform(100, SIDE - 100, n)
    kinds = ([1, 2, 3][i % 3] for i in range(n)) if types == "mixed" else [types] * n
    frame = pd.DataFrame({
        "id": [f"s{i}" for i in range(n)], "location_precision": ["exact"] * n,
        "innovation_type": pd.array(list(kinds), dtype="Float64"),
        "places_total_5min": rng.integers(0, 20, n), "places_total_10min": rng.integers(0, 80, n),
        "places_buzz": rng.uniform(0, 10, n),
        **{f"places_{c}_10min": rng.integers(0, 3, n) for c in EVENT_CATEGORIES},
        "screen_evidence": ["events: workshops; projects: startups"] * n})
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs=settings.crs_work)


def densities(spaces: gpd.GeoDataFrame, city: gpd.GeoDataFrame) -> Any:
    """H3 cells (resolution 9) and a 6 x 6 grid of barris, with their counts of spaces."""
    import h3

    outline = city.to_crs(settings.crs_store).geometry.iloc[0]
    cells = sorted(h3.geo_to_cells(outline.__geo_interface__, 9))
    ll = spaces.to_crs(settings.crs_store)
    at = pd.Series([h3.latlng_to_cell(p.y, p.x, 9) for p in ll.geometry], dtype=object)
    hexes = gpd.GeoDataFrame(
        {"hex_id": cells, "spaces": [int((at == c).sum()) for c in cells]},
        geometry=[shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)])
                  for c in cells], crs=settings.crs_store)
    size = SIDE / 6
    boxes = [shapely.box(X0 + i * size, Y0 + j * size, X0 + (i + 1) * size, Y0 + (j + 1) * size)
             for i in range(6) for j in range(6)]
    counts = [int(spaces.within(b).sum()) for b in boxes]
    barris = gpd.GeoDataFrame({"barri_code": [f"{k:02d}" for k in range(36)],
                               "spaces": counts}, geometry=boxes, crs=settings.crs_work)
    return SimpleNamespace(hexes=hexes, barris=barris)


def run(town: SimpleNamespace, spaces: gpd.GeoDataFrame, *, places: Any = None,
        walk: bool = True, **cfg: Any) -> Findings:
    """The statistics stage on the town (reference: the places, as in a new city)."""
    scfg = StatisticsConfig(**{"enabled": True, "n_sims": 20, "reference": "places",
                               "max_distance_m": 1000.0, "pdf": False, **cfg}).resolved()
    ctx: Any = SimpleNamespace(cfg=SimpleNamespace(statistics=scfg, profile=PROFILE),
                               cache=None, progress=False)
    raw: Any = None  # the places reference reads no raw file
    places = town.places if places is None else places
    return _Statistics(ctx, raw, town.admin, spaces, places, town.transit,
                       densities(spaces, town.admin.city),
                       town.network if walk else None).run()


def check(findings: Findings) -> tuple[dict[str, Any], dict[str, str]]:
    """statistics.json is valid JSON with every section; return it and its skipped reasons."""
    stats = json.loads(statistics_json(findings.statistics))
    assert all(section in stats for section in SECTIONS)
    for test in stats["tests"]:
        assert test.get("n") is not None, test["name"]
    skipped = skipped_tests(stats)
    assert all(reason for _, reason in skipped)
    return stats, dict(skipped)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 9])
def test_too_few_spaces_are_skipped_with_reasons(town: SimpleNamespace, n: int) -> None:
    stats, skipped = check(run(town, make_spaces(n)))
    assert skipped["agglomeration"] == f"too few spaces for Kd: {n} < 10"
    assert skipped["colocation"] == f"too few spaces for co-location quotients: {n} < 10"
    assert skipped["hotspots › hexes"] == f"too few spaces for hot spots: {n} < 10"
    assert not [t for t in stats["tests"] if t["name"].startswith(("kd", "clq", "local"))]


@pytest.mark.parametrize("n", [10, 30])
def test_enough_spaces_run_every_test(town: SimpleNamespace, n: int) -> None:
    stats, skipped = check(run(town, make_spaces(n)))
    names = {t["name"] for t in stats["tests"]}
    assert {"kd_spaces_euclidean", "kd_spaces_network", "clq_spaces_places",
            "clq_spaces_transit", "local_moran_hexes", "local_moran_barris"} <= names
    assert "skipped" not in stats["colocation"]["local"]
    # what is left out is said: the types under 5 spaces, each on its own
    assert all(not k.startswith(("hotspots", "colocation")) for k in skipped)
    assert ("comparisons" in skipped) == (n == 10)  # 4, 3 and 3 spaces of the types
    if n == 10:
        assert skipped["agglomeration › by_type › type 2"] == "n = 3 < 5"
        assert skipped["agglomeration › by_type › type 3"] == "n = 3 < 5"


def test_spaces_all_of_one_type(town: SimpleNamespace) -> None:
    stats, skipped = check(run(town, make_spaces(12, types=2)))
    assert stats["agglomeration"]["by_type"]["type 2"]["n"] == 12
    assert "no others to draw from" in skipped["agglomeration › by_type › type 2 vs all spaces"]
    assert skipped["comparisons"] == (
        "too few innovation types to compare: fewer than two with 5 spaces or more "
        "(innovation_type: type 1 n = 0, type 2 n = 12, type 3 n = 0)")


@pytest.mark.parametrize("column", [True, False])
def test_spaces_without_types(town: SimpleNamespace, column: bool) -> None:
    spaces = make_spaces(12, types=np.nan)
    if not column:
        spaces = spaces.drop(columns="innovation_type")
    stats, skipped = check(run(town, spaces))
    assert "kd_spaces_euclidean" in {t["name"] for t in stats["tests"]}
    assert skipped["agglomeration › by_type › type 1"] == "n = 0 < 5"
    assert "too few innovation types" in skipped["comparisons"]


def test_missing_place_categories(town: SimpleNamespace) -> None:
    places = town.places[town.places["category"].isin(["cafe", "library"])]
    stats, skipped = check(run(town, make_spaces(12), places=places))
    assert skipped["agglomeration › co_agglomeration › restaurants"] == \
        "too few restaurants for co-agglomeration: 0 < 10"
    assert "kd_cross_cafes_and_bars" in {t["name"] for t in stats["tests"]}
    assert "skipped" not in stats["colocation"]["local"]  # against the cafes alone
    none = town.places[town.places["category"] == "library"]
    _, skipped = check(run(town, make_spaces(12), places=none))
    assert skipped["colocation › local"].startswith("no cafes, bars, restaurants")


def test_all_spaces_at_one_spot(town: SimpleNamespace) -> None:
    stats, skipped = check(run(town, make_spaces(12, same_spot=True)))
    assert "not computable on these data" in skipped["agglomeration › spaces"]
    assert stats["agglomeration"]["spaces"]["n"] == 12


def test_places_reference_smaller_than_the_spaces(town: SimpleNamespace) -> None:
    _, skipped = check(run(town, make_spaces(12), places=town.places.iloc[:8]))
    assert skipped["agglomeration"] == ("too few reference points for Kd: 8 places points, "
                                        "not more than the 12 spaces each simulation draws")
    assert skipped["colocation › places"] == "too few places for co-location quotients: 8 < 10"


def test_too_few_simulations_for_kd(town: SimpleNamespace) -> None:
    stats, skipped = check(run(town, make_spaces(12), n_sims=19))
    assert skipped["agglomeration"].startswith("too few simulations for Kd: n_sims = 19 < 20")
    assert "clq_spaces_places" in {t["name"] for t in stats["tests"]}


def test_report_and_summary_say_what_was_not_run(town: SimpleNamespace,
                                                 tmp_path: Path) -> None:
    from cwsgeo.build.pipeline import BuildResult

    findings = run(town, make_spaces(3))
    out = write_findings(findings, tmp_path, admin=town.admin,
                         sources=["test"], report=True, pdf=False, city="Testville")
    page = out["report_html"].read_text(encoding="utf-8")
    assert "Tests not run" in page and "too few spaces for Kd: 3 &lt; 10" in page
    assert "Co-location quotients: not tested" in page
    assert "Kd verdicts" not in page  # no empty table
    assert "drawn from the OpenStreetMap places" in page
    result = BuildResult.__new__(BuildResult)
    result.extra = {"statistics": findings.statistics}
    line = result._findings_lines()[0]
    assert "not run:" in line and "too few spaces for Kd: 3 < 10" in line


@pytest.mark.parametrize("raw, match", [
    ({"n_sims": 19}, r"\[statistics\] n_sims must be between 20 and 99999 .*got 19"),
    ({"n_sims": 100_000}, r"n_sims must be between 20 and 99999"),
    ({"n_sims": 99, "alpha": 0.001}, r"n_sims = 99 cannot reach alpha = 0.001.*at least 999"),
    ({"alpha": 0.6}, r"\[statistics\] alpha must be between 0 and 0.5.*got 0.6"),
    ({"seed": -1}, r"\[statistics\] seed must be between 0 and 4294967295, got -1"),
    ({"max_points": 5}, r"\[statistics\] max_points must be at least 10, got 5"),
    ({"max_distance_m": 50.0}, r"max_distance_m must be between 100 and 50000 metres, got 50"),
])
def test_statistics_config_is_checked(tmp_path: Path, raw: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Config.from_dict({"statistics": raw}, root=tmp_path)


def test_statistics_config_accepts_the_floor(tmp_path: Path) -> None:
    cfg = Config.from_dict({"statistics": {"n_sims": 20, "alpha": 0.05}}, root=tmp_path)
    assert cfg.statistics.n_sims == 20


def test_middleground_without_a_network(town: SimpleNamespace) -> None:
    """No walking network (``[statistics] network = false``): the indicators say why."""
    stats, skipped = check(run(town, make_spaces(12), walk=False, network=False))
    assert "kd_spaces_euclidean" in {t["name"] for t in stats["tests"]}
    assert "not computable" in skipped["middleground"]
    assert skipped["comparisons"] == "no middleground indicators to compare by type"


def test_spaces_without_listing_texts(town: SimpleNamespace) -> None:
    """A new city's spaces may have no screen columns: the text signals are unknown."""
    stats, _ = check(run(town, make_spaces(12).drop(columns="screen_evidence")))
    assert stats["middleground"].get("skipped") is None
    assert "comparisons" in stats


def test_addresses_reference_without_a_gazetteer(town: SimpleNamespace,
                                                 tmp_path: Path) -> None:
    """``reference = "addresses"`` in a city with no gazetteer: Kd says so, the rest runs."""
    scfg = StatisticsConfig(enabled=True, n_sims=20, reference="addresses",
                            max_distance_m=1000.0).resolved()
    ctx: Any = SimpleNamespace(cfg=SimpleNamespace(statistics=scfg, cache_dir=tmp_path,
                                                   profile=PROFILE),
                               cache=SimpleNamespace(read_only=True), progress=False)
    raw: Any = SimpleNamespace(folder=lambda name: tmp_path / "no" / name)
    spaces = make_spaces(12)
    stats, skipped = check(_Statistics(ctx, raw, town.admin, spaces, town.places,
                                       town.transit, densities(spaces, town.admin.city),
                                       town.network).run())
    assert skipped["agglomeration"].startswith("no address points for Kd's reference")
    assert skipped["agglomeration"].endswith('set [statistics] reference = "places"')
    assert "clq_spaces_places" in {t["name"] for t in stats["tests"]}


def test_no_transit_and_no_barris(town: SimpleNamespace) -> None:
    spaces = make_spaces(12)
    scfg = StatisticsConfig(enabled=True, n_sims=20, reference="places",
                            max_distance_m=1000.0).resolved()
    ctx: Any = SimpleNamespace(cfg=SimpleNamespace(statistics=scfg, profile=PROFILE),
                               cache=None, progress=False)
    dens = densities(spaces, town.admin.city)
    dens.barris = dens.barris.iloc[:0]
    raw: Any = None
    stats, skipped = check(_Statistics(ctx, raw, town.admin, spaces, town.places,
                                       town.transit.iloc[:0], dens, town.network).run())
    assert skipped["colocation › transit"] == ("too few transit stops for co-location "
                                               "quotients: 0 < 10")
    assert skipped["hotspots › barris"] == "no barris for hot spots"
    assert skipped["agglomeration › co_agglomeration › rail stations"].endswith("0 < 10")
    assert "local_moran_hexes" in {t["name"] for t in stats["tests"]}
