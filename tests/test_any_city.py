"""Any city, live, with no internet: an invented town near lon 9.19, lat 45.46 (UTM 32N).

The loopback server answers Nominatim (the boundary, one address), Overpass (admin areas,
a street grid, places, stops) and serves a GHSL-like population grid (Mollweide, 100 m,
written here with rasterio) with HTTP range requests, as a real GeoTIFF host does.
`cwsgeo init --place` then `cwsgeo build --live` runs end to end.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from cwsgeo import settings
from cwsgeo._errors import DataSourceError, MissingDataError
from cwsgeo.analysis.population import (
    grid_cells,
    population_units,
    read_grid_window,
    units_population,
)
from cwsgeo.cli import main
from tests._server import CannedServer

CITY_DIR = Path(__file__).parent / "data" / "city"
LON, LAT = 9.19, 45.46
# the town: a hexagon about 2.3 km across
BOUNDARY = Polygon([(9.175, 45.46), (9.18, 45.45), (9.20, 45.45), (9.205, 45.46),
                    (9.20, 45.47), (9.18, 45.47)])
CORE = box(9.183, 45.454, 9.197, 45.466)  # populated cells lie inside it
OUTSIDE = box(9.1755, 45.4675, 9.1775, 45.4695)  # populated, in the bbox, outside the town
MOLLWEIDE = "ESRI:54009"
pytestmark = pytest.mark.filterwarnings(  # rasterio 1.4 multiplies Affine matrices with *
    "ignore:Use `@` matmul:PendingDeprecationWarning")
STATUS = "Connected as: 1\nCurrent time: x\nRate limit: 2\n\n2 slots available now.\n"


# ---------------------------------------------------------------------------------------
# A GeoTIFF host: HEAD and ranged GET, counting the bytes it sends
# ---------------------------------------------------------------------------------------
class RangeServer:
    """Serve files with HTTP range requests (what GDAL's /vsicurl/ needs)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.sent = 0
        self.ranges: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _head(self) -> bytes | None:
                data = server.files.get(self.path.split("?")[0])
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                return data

            def do_HEAD(self) -> None:
                data = self._head()
                if data is not None:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Accept-Ranges", "bytes")
                    self.end_headers()

            def do_GET(self) -> None:
                data = self._head()
                if data is None:
                    return
                match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                start, end = 0, len(data) - 1
                if match:
                    start = int(match[1])
                    end = min(int(match[2]) if match[2] else end, len(data) - 1)
                    server.ranges.append(f"{start}-{end}")
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                else:
                    self.send_response(200)
                chunk = data[start:end + 1]
                self.send_header("Content-Length", str(len(chunk)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(chunk)
                server.sent += len(chunk)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RangeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


# ---------------------------------------------------------------------------------------
# The population grid
# ---------------------------------------------------------------------------------------
def write_grid(path: Path, *, half_cells: int = 40, tiled: bool = True) -> float:
    """Write a GHSL-like grid (float32 residents per 100 m cell, Mollweide, nodata -200).

    Near the town, cells inside CORE hold 20-59 residents, cells inside OUTSIDE 1000 (outside
    the town but inside its bounding box), the others none; farther away, cells hold random
    numbers, 500 or nodata. Returns the residents of the cells inside the town.
    """
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    fwd = Transformer.from_crs("EPSG:4326", MOLLWEIDE, always_xy=True)
    cx, cy = fwd.transform(LON, LAT)
    x0, y0 = np.floor(cx / 100) * 100 - half_cells * 100, np.ceil(cy / 100) * 100 + \
        half_cells * 100
    n = 2 * half_cells
    transform = from_origin(x0, y0, 100, 100)
    # cells near the town only (a 1000 x 1000 grid has a million)
    near = range(max(0, half_cells - 25), min(n, half_cells + 25))
    rows, cols = np.meshgrid(np.array(near), np.array(near), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    cells = gpd.GeoSeries([box(x0 + c * 100, y0 - (r + 1) * 100, x0 + (c + 1) * 100,
                               y0 - r * 100) for r, c in zip(rows, cols, strict=True)],
                          crs=MOLLWEIDE).to_crs("EPSG:4326")
    # residents everywhere (incompressible bytes, as in a real grid), none near the town but
    # in CORE and OUTSIDE
    values = np.random.default_rng(14).uniform(0, 50, (n, n)).astype("float32")
    values[rows, cols] = 0
    core = cells.within(CORE).to_numpy()
    values[rows[core], cols[core]] = 20 + (np.arange(core.sum()) % 40)
    outside = cells.within(OUTSIDE).to_numpy()
    values[rows[outside], cols[outside]] = 1000
    values[0] = 500  # the first row: far from the town
    values[1, ::7] = -200  # nodata
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "float32",
               "crs": MOLLWEIDE, "transform": transform, "nodata": -200,
               "compress": "deflate"}
    if tiled:
        profile.update(tiled=True, blockxsize=64, blockysize=64)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return float(values[rows[core], cols[core]].sum())


def test_grid_window_reads_only_the_town(tmp_path: Path) -> None:
    tif = tmp_path / "ghs_pop.tif"
    inside = write_grid(tif, half_cells=500)  # a 100 km grid, the town in its middle
    grid = read_grid_window(tif, BOUNDARY)
    col_off, row_off, width, height = grid.window
    assert grid.shape == (1000, 1000)
    assert width < 40 and height < 40 and 400 < col_off < 500 and 400 < row_off < 500
    cells = grid_cells(grid, BOUNDARY)
    assert cells.crs == settings.crs_work
    assert cells["population"].sum() == pytest.approx(inside)
    assert cells["section_code"].is_unique
    # over HTTP, GDAL asks for the header and the blocks under the town only
    name = f"/ghs_pop_{uuid.uuid4().hex[:8]}.tif"  # GDAL caches ranges by URL
    with RangeServer({name: tif.read_bytes()}) as srv:
        remote = read_grid_window(srv.url + name, BOUNDARY)
        assert np.array_equal(remote.values, grid.values)
        assert srv.ranges and srv.sent < tif.stat().st_size / 4


def test_cells_crossing_the_boundary_keep_their_share(tmp_path: Path) -> None:
    tif = tmp_path / "g.tif"
    write_grid(tif, half_cells=20, tiled=False)
    grid = read_grid_window(tif, BOUNDARY)
    half = box(9.0, 45.0, LON, 46.0).intersection(BOUNDARY)  # the western half of the town
    cells = grid_cells(grid, half)
    whole = grid_cells(grid, BOUNDARY)
    east = grid_cells(grid, box(LON, 45.0, 9.4, 46.0).intersection(BOUNDARY))
    assert cells["population"].sum() + east["population"].sum() == pytest.approx(
        whole["population"].sum())
    assert (cells.geometry.area <= 100 * 100 * 1.02).all()  # clipped (UTM vs Mollweide area)


def test_uniform_grid_counts_every_cell_under_the_city(tmp_path: Path) -> None:
    """A box whose edges cut cells: its window keeps the last row and column (population is
    conserved: one resident per cell gives the box's area in cells)."""
    import rasterio
    from rasterio.transform import from_origin

    tif = tmp_path / "uniform.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=40, height=40, count=1,
                       dtype="float32", crs=MOLLWEIDE,
                       transform=from_origin(700_000, 5_000_000, 100, 100)) as dst:
        dst.write(np.ones((1, 40, 40), dtype="float32"))
    city = box(700_460, 4_997_090, 701_010, 4_997_640)  # 550 m square over 7 x 7 cells
    grid = read_grid_window(tif, city, boundary_crs=MOLLWEIDE)
    assert grid.window[2:] == (7, 7)
    cells = grid_cells(grid, city, boundary_crs=MOLLWEIDE)
    assert cells["population"].sum() == pytest.approx(city.area / 100**2, rel=1e-9)


def test_grid_that_misses_the_town_names_the_source(tmp_path: Path) -> None:
    tif = tmp_path / "g.tif"
    write_grid(tif, half_cells=5)  # 1 km: smaller than the town
    with pytest.raises(DataSourceError, match=r"GHSL.*does not cover"):
        read_grid_window(tif, BOUNDARY)
    with pytest.raises(DataSourceError, match=r"GHSL.*cannot read"):
        read_grid_window(tmp_path / "missing.tif", BOUNDARY)


def test_population_polygons_are_clipped_and_summed() -> None:
    frame = gpd.read_file(CITY_DIR / "population_polygons.geojson")
    units = population_units(frame, BOUNDARY, column="residents")
    assert units["population"].sum() == pytest.approx(3000 + 500, rel=1e-3)  # C: half outside
    areas = gpd.GeoDataFrame(geometry=[box(9.17, 45.44, LON, 45.48), box(LON, 45.44, 9.21,
                                                                         45.48)],
                             crs="EPSG:4326")
    per_area = units_population(units, areas)
    assert per_area.sum() == pytest.approx(units["population"].sum())
    with pytest.raises(MissingDataError, match="no population column 'people'"):
        population_units(frame, BOUNDARY, column="people")


# ---------------------------------------------------------------------------------------
# Canned OSM answers
# ---------------------------------------------------------------------------------------
def _ring(poly: Polygon) -> list[list[float]]:
    return [[round(x, 6), round(y, 6)] for x, y in poly.exterior.coords]


CITY = {"place_id": 7, "osm_type": "relation", "osm_id": 44915, "lat": str(LAT), "lon": str(LON),
        "display_name": "Testville, Lombardia, Italia", "class": "boundary",
        "type": "administrative", "importance": 0.7, "place_rank": 16,
        "boundingbox": ["45.45", "45.47", "9.175", "9.205"],
        "geojson": {"type": "Polygon", "coordinates": [_ring(BOUNDARY)]}}
ADDRESS = [{"place_id": 9, "osm_type": "node", "osm_id": 9, "lat": "45.4612", "lon": "9.1915",
            "display_name": "3, Via Roma, Testville", "class": "place", "type": "house",
            "importance": 0.1, "place_rank": 30,
            "boundingbox": ["45.461", "45.462", "9.191", "9.192"],
            "address": {"house_number": "3", "road": "Via Roma", "city": "Testville",
                        "postcode": "20100"}}]


def admin_answer() -> dict[str, Any]:
    """Two districts (admin_level 9), the west one split in two quartieri (level 10)."""
    west, east = box(9.17, 45.44, LON, 45.48), box(LON, 45.44, 9.21, 45.48)
    specs = [("9", "Municipio Ovest", west & BOUNDARY), ("9", "Municipio Est", east & BOUNDARY),
             ("10", "Quartiere Nord", box(9.17, 45.46, LON, 45.48) & BOUNDARY),
             ("10", "Quartiere Sud", box(9.17, 45.44, LON, 45.46) & BOUNDARY)]
    elements: list[dict[str, Any]] = []
    nid = 1
    for rid, (level, name, poly) in enumerate(specs, start=1):
        refs = []
        for x, y in _ring(poly)[:-1]:
            elements.append({"type": "node", "id": nid, "lat": y, "lon": x})
            refs.append(nid)
            nid += 1
        elements.append({"type": "way", "id": 100 + rid, "nodes": [*refs, refs[0]]})
        elements.append({"type": "relation", "id": 1000 + rid,
                         "members": [{"type": "way", "ref": 100 + rid, "role": "outer"}],
                         "tags": {"type": "boundary", "boundary": "administrative",
                                  "admin_level": level, "name": name}})
    return {"version": 0.6, "elements": elements}


def street_grid() -> dict[str, Any]:
    """A 9 x 9 street grid about 170 m apart over the town's core."""
    lons, lats = np.linspace(9.181, 9.199, 9), np.linspace(45.4535, 45.4665, 9)
    elements: list[dict[str, Any]] = []
    ids = {}
    for i, lon in enumerate(lons):
        for j, lat in enumerate(lats):
            ids[i, j] = 10_000 + i * 100 + j
            elements.append({"type": "node", "id": ids[i, j], "lat": round(float(lat), 6),
                             "lon": round(float(lon), 6)})
    way = 20_000
    for k in range(9):
        for nodes, name in (([ids[k, j] for j in range(9)], f"Via {k}"),
                            ([ids[i, k] for i in range(9)], "Via Roma" if k == 4 else
                             f"Corso {k}")):
            way += 1
            elements.append({"type": "way", "id": way, "nodes": nodes,
                             "tags": {"highway": "residential", "name": name}})
    return {"version": 0.6, "elements": elements}


PLACES = {"version": 0.6, "elements": [
    {"type": "node", "id": 501, "lat": 45.4601, "lon": 9.1905,
     "tags": {"amenity": "cafe", "name": "Caffè Centrale"}},
    {"type": "node", "id": 502, "lat": 45.4622, "lon": 9.1931,
     "tags": {"amenity": "theatre", "name": "Teatro"}},
    {"type": "node", "id": 503, "lat": 45.4588, "lon": 9.1872,
     "tags": {"amenity": "library", "name": "Biblioteca"}},
    {"type": "node", "id": 504, "lat": 45.4611, "lon": 9.1940,
     "tags": {"amenity": "bar", "name": "Bar Sport"}},
    {"type": "node", "id": 505, "lat": 45.4575, "lon": 9.1890,
     "tags": {"amenity": "restaurant", "name": "Trattoria"}}]}
TRANSIT = {"version": 0.6, "elements": [
    {"type": "node", "id": 601, "lat": 45.4603, "lon": 9.1911,
     "tags": {"railway": "station", "public_transport": "station", "train": "yes",
              "name": "Testville Centrale", "operator": "RFI"}},
    {"type": "node", "id": 602, "lat": 45.4580, "lon": 9.1850,
     "tags": {"highway": "bus_stop", "name": "Piazza"}}]}


def serve_town(srv: CannedServer) -> None:
    srv.add("GET", "/search", json_body=[CITY], match="Testville, Italia")
    srv.add("GET", "/search", json_body=ADDRESS, match="Via Roma")
    srv.add("GET", "/api/status", body=STATUS, content_type="text/plain")
    srv.add("POST", "/api/interpreter", json_body=admin_answer(), match="admin_level")
    srv.add("POST", "/api/interpreter", json_body=street_grid(), match='"area"!~"yes"')
    srv.add("POST", "/api/interpreter", json_body=PLACES, match="theatre")
    srv.add("POST", "/api/interpreter", json_body=TRANSIT, match="subway_entrance")


TOWN_INVENTORY = ("id,name,address,postcode,lat,lon,innovation_type\n"
                  "a,Spazio A,,,45.4597,9.1902,3\n"
                  "b,Spazio B,\"Via Roma, 3\",,,,2\n"
                  "c,Spazio C,,,45.4630,9.1950,1\n")


def write_town_project(project: Path, grid_url: str) -> None:
    """Make the town's project as a user would: `cwsgeo init`, then point city.toml at the
    grid, add the inventory (the statistics of a tiny town: run, or skipped with a reason)."""
    assert main(["--quiet", "init", "--place", "Testville, Italia", str(project)]) == 0
    city = project / "city.toml"
    city.write_text(re.sub(r'(?m)^path = ".*"$', f'path = "{grid_url}"',
                           city.read_text(encoding="utf-8")), encoding="utf-8")
    toml = project / "cwsgeo.toml"
    text = toml.read_text("utf-8")
    # no gazetteer: addresses through Nominatim, Kd against the places
    assert 'reference = "places"' in text and "online = true" in text
    toml.write_text(text.replace("[statistics]\n",
                                 "[statistics]\nenabled = true\nn_sims = 99\npdf = false\n")
                    + "\n[density]\nkde_cell_m = 25.0\nkde_bandwidth_m = 200.0\n",
                    encoding="utf-8")
    (project / "inventory" / "coworking_spaces.csv").write_text(TOWN_INVENTORY,
                                                               encoding="utf-8")


@pytest.fixture
def town(canned_server: CannedServer, monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Iterator[tuple[Path, RangeServer, float]]:
    """A project made by `cwsgeo init`, its grid on a range-capable host."""
    import osmnx

    monkeypatch.setattr(settings, "nominatim_url", canned_server.url + "/")
    monkeypatch.setattr(settings, "overpass_url", canned_server.url + "/api")
    monkeypatch.setattr(settings, "http_timeout_s", 2.0)
    monkeypatch.setattr(osmnx._nominatim.time, "sleep", lambda s: None)
    serve_town(canned_server)
    tif = tmp_path / "ghs_pop.tif"
    inside = write_grid(tif)
    # GDAL caches ranges by URL for the whole process: a name of its own per test
    name = f"/GHS_POP_E2025_{uuid.uuid4().hex[:8]}.tif"
    with RangeServer({name: tif.read_bytes()}) as host:
        write_town_project(tmp_path / "testville", host.url + name)
        yield tmp_path / "testville", host, inside


def test_init_then_build_live(town: tuple[Path, RangeServer, float]) -> None:
    project, host, inside = town
    cfg = str(project / "cwsgeo.toml")
    assert main(["--quiet", "--config", cfg, "build", "--live"]) == 0
    manifest = json.loads((project / "data" / "raw" / "manifest.json").read_text())
    assert manifest["source"] == "live" and manifest["crs"] == "EPSG:32632"
    assert manifest["population"]["kind"] == "ghsl"
    assert manifest["population"]["epoch"] == 2025
    assert host.ranges  # the grid was read in ranges
    files = {e["path"] for e in manifest["files"]}
    assert "admin/population_units.geojson" in files
    admin = [e for e in manifest["files"] if e["dataset"] == "admin"]
    assert all("GHS-POP" in e["attribution"] and "OpenStreetMap" in e["attribution"]
               for e in admin)
    processed = project / "data" / "processed"
    report = pd.read_csv(processed / "residents_allocation.csv")
    allocated = report.loc[report["item"] == "allocated", "residents"].iloc[0]
    assert allocated == pytest.approx(inside)
    raw_admin = project / "data" / "raw" / "admin"
    districts = gpd.read_file(raw_admin / "districts.geojson")
    assert sorted(districts["district_name"]) == ["Municipio Est", "Municipio Ovest"]
    assert districts["population"].sum() == pytest.approx(inside)
    barris = gpd.read_file(raw_admin / "barris.geojson")
    # the two quartieri of the west, and the rest of the town (the east has none)
    assert sorted(barris["barri_name"]) == ["Municipio Est (rest)", "Quartiere Nord",
                                            "Quartiere Sud"]
    assert barris.set_index("barri_name").loc["Quartiere Nord", "district_name"] == \
        "Municipio Ovest"
    assert barris["population"].sum() == pytest.approx(inside)
    table = pd.read_csv(processed / "coworking_spaces.csv").set_index("id")
    assert table.loc["b", "location_method"] == "nominatim"
    assert table["district_name"].notna().all()
    assert (table["residents_10min"] > 0).all()  # residents from the grid, on the streets
    assert table["residents_15min"].max() <= inside + 1e-6
    assert (project / "maps" / "innovation_types.html").exists()
    stats = json.loads((processed / "statistics.json").read_text(encoding="utf-8"))
    assert stats["agglomeration"]["skipped"].startswith("too few spaces for Kd: 3 < 10")
    stops = gpd.read_file(project / "data" / "raw" / "transit" / "osm_transit.gpkg")
    assert len(stops) == 2
    # generic transit modes (issue 14): the railway station is "rail", no Barcelona operator
    assert sorted(stops["mode"]) == ["bus", "rail"]
    assert "rail_walk_min" in table.columns and "ferry_walk_min" in table.columns
    assert not {"fgc_walk_min", "rodalies_walk_min"} & set(table.columns)
    # no Barcelona data anywhere
    assert not (project / "data" / "raw" / "addresses").exists()


def test_boundary_only_city_and_polygon_population(town: tuple[Path, RangeServer, float]
                                                   ) -> None:
    project, _, _ = town
    city = project / "city.toml"
    text = city.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^(district_level|neighbourhood_level) = .*$', "", text)
    text = re.sub(r'(?m)^kind = .*$', 'kind = "polygons"', text)
    text = re.sub(r'(?m)^path = .*$', f'path = "{CITY_DIR / "population_polygons.geojson"}"',
                  text)
    text = re.sub(r'(?m)^column = .*$', 'column = "residents"', text)
    city.write_text(text, encoding="utf-8")
    cfg = str(project / "cwsgeo.toml")
    assert main(["--quiet", "--config", cfg, "fetch", "--live"]) == 0
    raw_admin = project / "data" / "raw" / "admin"
    districts = gpd.read_file(raw_admin / "districts.geojson")
    barris = gpd.read_file(raw_admin / "barris.geojson")
    assert len(districts) == 1 and len(barris) == 1  # the whole town
    assert districts["district_name"].iloc[0] == "Testville"
    assert districts["population"].iloc[0] == pytest.approx(3500, rel=1e-3)
    manifest = json.loads((project / "data" / "raw" / "manifest.json").read_text())
    assert manifest["population"]["kind"] == "polygons"


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "milano"
    assert main(["--quiet", "init", "--place", "Milano, Italia", str(target)]) == 0
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert main(["--quiet", "init", "--place", "Roma, Italia", str(target)]) == 2
    assert "already holds a cwsgeo project" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
    from cwsgeo.build.config import Config

    cfg = Config.load(target / "cwsgeo.toml")
    assert cfg.data.source == "live" and cfg.profile.place == "Milano, Italia"
    assert cfg.profile.population.kind == "ghsl" and cfg.profile.crs == "auto"
    header = (target / "inventory" / "coworking_spaces.csv").read_text().strip().split(",")
    assert header[:2] == ["id", "name"] and {"lat", "lon", "address"} <= set(header)


def test_city_without_population_still_builds(town: tuple[Path, RangeServer, float]) -> None:
    project, _, _ = town
    city = project / "city.toml"
    city.write_text(re.sub(r'(?m)^kind = .*$', 'kind = "none"', city.read_text("utf-8")),
                    encoding="utf-8")
    assert main(["--config", str(project / "cwsgeo.toml"), "build", "--live"]) == 0
    manifest = json.loads((project / "data" / "raw" / "manifest.json").read_text())
    assert manifest["population"]["kind"] == "none"
    table = pd.read_csv(project / "data" / "processed" / "coworking_spaces.csv")
    residents = [c for c in table.columns if c.startswith("residents_")]
    assert residents and table[residents].isna().all().all()
    assert (project / "maps" / "innovation_types.html").exists()


def test_grid_url_that_fails_names_the_source(town: tuple[Path, RangeServer, float],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    project, host, _ = town
    city = project / "city.toml"
    city.write_text(re.sub(r'(?m)^path = ".*"$', f'path = "{host.url}/nowhere.tif"',
                           city.read_text("utf-8")), encoding="utf-8")
    assert main(["--quiet", "--config", str(project / "cwsgeo.toml"), "fetch", "--live"]) == 4
    err = capsys.readouterr().err
    assert "GHSL" in err and "nowhere.tif" in err and "Traceback" not in err
    assert not (project / "data" / "raw" / "manifest.json").exists()  # nothing half-fetched


def test_init_options_and_no_mirror_for_another_city(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "mine.toml"
    own.write_text("# my city\n[city]\nname = 'Testville'\nplace = 'Testville, Lombardia'\n"
                   "slug = 'tv'\ncrs = 'EPSG:32632'\n[population]\nkind = 'none'\n",
                   encoding="utf-8")
    spaces = tmp_path / "spaces.csv"
    spaces.write_text(TOWN_INVENTORY, encoding="utf-8")
    assert main(["--quiet", "init", "--place", "Testville, Italia", "--profile", str(own),
                 "--inventory", str(spaces)]) == 0
    project = tmp_path / "testville"  # the default folder: a slug of the place
    # written out from the profile (its lexicon and literature paths stay valid)
    from cwsgeo.build.profiles import load_profile
    assert load_profile(project / "city.toml") == load_profile(own)
    assert (project / "inventory" / "spaces.csv").read_text("utf-8") == TOWN_INVENTORY
    from cwsgeo.build.config import Config

    cfg = Config.load(project)
    assert cfg.profile.place == "Testville, Italia"  # [data] place: the one asked for
    assert cfg.inventory_path == project / "inventory" / "spaces.csv"
    # the mirror is Barcelona's: never used for another city
    capsys.readouterr()
    assert main(["--quiet", "--config", str(project / "cwsgeo.toml"), "fetch", "--mirror"]) == 2
    assert "has no data in the mirror" in capsys.readouterr().err


def test_grid_in_a_zip_as_ghsl_ships_it(tmp_path: Path) -> None:
    import zipfile

    from cwsgeo.analysis.population import grid_path

    tif = tmp_path / "GHS_POP_E2025_tile.tif"
    inside = write_grid(tif, half_cells=20)
    archive = tmp_path / "GHS_POP_E2025_tile.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(tif, tif.name)
    assert grid_path(archive) == f"/vsizip/{archive}/GHS_POP_E2025_tile.tif"
    assert grid_path("https://h/x.zip") == "/vsizip//vsicurl/https://h/x.zip/x.tif"
    assert grid_path("https://h/x.tif") == "/vsicurl/https://h/x.tif"
    cells = grid_cells(read_grid_window(archive, BOUNDARY), BOUNDARY)
    assert cells["population"].sum() == pytest.approx(inside)


def test_wgs84_grid(tmp_path: Path) -> None:
    """GHSL's other projection: 3 arc-second cells in EPSG:4326."""
    import rasterio
    from rasterio.transform import from_origin

    d = 3 / 3600
    west, north = 9.15, 45.50
    values = np.zeros((60, 90), dtype="float32")
    lon = west + (np.arange(90) + 0.5) * d
    lat = north - (np.arange(60) + 0.5) * d
    inner = box(9.185, 45.456, 9.195, 45.464)  # well inside the town
    mask = np.array([[inner.contains(box(x - d / 2, y - d / 2, x + d / 2, y + d / 2))
                      for x in lon] for y in lat])
    values[mask] = 7
    values[0, 0] = 1000  # outside
    tif = tmp_path / "wgs84.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=90, height=60, count=1,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(west, north, d, d),
                       nodata=-200) as dst:
        dst.write(values, 1)
    cells = grid_cells(read_grid_window(tif, BOUNDARY), BOUNDARY)
    assert cells["population"].sum() == pytest.approx(7 * mask.sum())
    assert cells.crs == settings.crs_work
