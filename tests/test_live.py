"""The live path end to end against a loopback server: `cwsgeo fetch --live`, a live build,
and the faults a live source can throw (429 with Retry-After, 504, timeouts, truncated and
malformed JSON, an Overpass remark): clear errors naming the source, nothing bad cached,
previous inputs and outputs kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cwsgeo import _http, settings
from cwsgeo.cli import main
from tests._server import CannedServer
from tests.test_admin import PAD_CSV, _square, overpass_boundaries

WALK = json.loads((Path(__file__).parent / "data" / "network" / "overpass_walk.json")
                  .read_text())
STATUS = "Connected as: 1\nCurrent time: x\nRate limit: 2\n\n2 slots available now.\n"
CITY = {"place_id": 1, "osm_type": "relation", "osm_id": 347950, "lat": "41.39", "lon": "2.17",
        "display_name": "Barcelona, Catalunya, España", "class": "boundary",
        "type": "administrative", "importance": 0.9, "place_rank": 16,
        "boundingbox": ["41.37", "41.41", "2.15", "2.19"],
        "geojson": {"type": "Polygon", "coordinates": [_square(2.15, 41.37, 0.04)]}}
PLACES = {"version": 0.6, "elements": [
    {"type": "node", "id": 501, "lat": 41.3903, "lon": 2.1612,
     "tags": {"amenity": "cafe", "name": "Cafè <b>Bold</b>"}},
    {"type": "node", "id": 502, "lat": 41.3905, "lon": 2.1620,
     "tags": {"amenity": "theatre", "name": "Teatre"}},
    {"type": "node", "id": 503, "lat": 41.3899, "lon": 2.1608,
     "tags": {"amenity": "bar", "name": "Bar"}}]}
TRANSIT = {"version": 0.6, "elements": [
    {"type": "node", "id": 601, "lat": 41.3902, "lon": 2.1615,
     "tags": {"railway": "station", "station": "subway", "name": "Diagonal",
              "network": "TMB", "operator": "TMB"}},
    {"type": "node", "id": 602, "lat": 41.3904, "lon": 2.1602,
     "tags": {"highway": "bus_stop", "name": "Pg de Gràcia"}}]}
ADDRESS = [{"place_id": 9, "osm_type": "node", "osm_id": 9, "lat": "41.3897", "lon": "2.1611",
            "display_name": "17, Passeig de Gràcia, Barcelona", "class": "place",
            "type": "house", "importance": 0.1, "place_rank": 30,
            "boundingbox": ["41.39", "41.391", "2.161", "2.162"],
            "address": {"house_number": "17", "road": "Passeig de Gràcia",
                        "city": "Barcelona", "postcode": "08007"}}]


def serve_all(srv: CannedServer) -> None:
    srv.add("GET", "/search", json_body=[CITY], match="Catalonia")
    srv.add("GET", "/search", json_body=ADDRESS, match="Gràcia")
    srv.add("GET", "/api/status", body=STATUS, content_type="text/plain")
    srv.add("POST", "/api/interpreter", json_body=overpass_boundaries(), match="admin_level")
    srv.add("POST", "/api/interpreter", json_body=WALK, match='"area"!~"yes"')
    srv.add("POST", "/api/interpreter", json_body=PLACES, match="theatre")
    srv.add("POST", "/api/interpreter", json_body=TRANSIT, match="subway_entrance")
    srv.add("GET", "/data/api/3/action/package_show", json_body={
        "success": True, "result": {"resources": [
            {"format": "CSV", "name": "2024_pad_mdbas.csv",
             "url": srv.url + "/dl/2024_pad_mdbas.csv"}]}})
    srv.add("GET", "/dl/2024_pad_mdbas.csv", body=PAD_CSV, content_type="text/csv")


@pytest.fixture
def live_project(canned_server: CannedServer, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> Path:
    import osmnx

    monkeypatch.setattr(settings, "nominatim_url", canned_server.url + "/")
    monkeypatch.setattr(settings, "overpass_url", canned_server.url + "/api")
    monkeypatch.setattr(settings, "opendata_bcn_url", canned_server.url + "/data")
    monkeypatch.setattr(settings, "http_timeout_s", 1.0)
    monkeypatch.setattr(osmnx._nominatim.time, "sleep", lambda s: None)
    serve_all(canned_server)
    (tmp_path / "cwsgeo.toml").write_text(
        "[data]\nmirror = 'no-mirror'\nsource = 'live'\n"
        "[geocoding]\nonline = true\n[density]\nkde_cell_m = 25.0\nkde_bandwidth_m = 200.0\n",
        encoding="utf-8")
    (tmp_path / "spaces.csv").write_text(
        "id,name,address,lat,lon,innovation_type\n"
        "a,Espai A,,41.3896,2.1615,3\n"
        "b,Espai B,\"Passeig de Gràcia, 17\",,,2\n", encoding="utf-8")
    return tmp_path


def cache_files(root: Path) -> set[Path]:
    cache = root / "data" / "cache"
    return {p for p in cache.rglob("*") if p.is_file() and p.suffix in (".json", ".bin")}


def test_live_fetch_and_build(live_project: Path, canned_server: CannedServer) -> None:
    cfg = str(live_project / "cwsgeo.toml")
    assert main(["--quiet", "--config", cfg, "fetch", "--live"]) == 0
    n_requests = len(canned_server.requests)
    assert main(["--quiet", "--config", cfg, "fetch", "--live"]) == 0
    assert len(canned_server.requests) > n_requests  # a new live fetch downloads again
    assert len(list((live_project / "data" / "cache" / "live").iterdir())) == 1
    manifest = json.loads((live_project / "data" / "raw" / "manifest.json").read_text())
    assert manifest["source"] == "live"
    roles = {e["role"] for e in manifest["files"]}
    assert {"admin", "network", "places", "transit"} <= roles
    assert all("OpenStreetMap" in e["attribution"] for e in manifest["files"])
    assert main(["--quiet", "--config", cfg, "build", "--inventory",
                 str(live_project / "spaces.csv")]) == 0
    import pandas as pd

    table = pd.read_csv(live_project / "data" / "processed" / "coworking_spaces.csv")
    assert table.set_index("id").loc["b", "location_method"] == "nominatim"
    assert table["district_name"].notna().all()
    assert (live_project / "maps" / "innovation_types.html").exists()
    assert {r.headers.get("User-Agent") for r in canned_server.requests} == {settings.user_agent}


FAULTS = {
    "429": {"status": 429, "headers": {"Retry-After": "5"}},
    "504": {"status": 504},
    "timeout": {"json_body": {"elements": []}, "delay": 2.5},
    "truncated": {"body": '{"version": 0.6, "elements": [', "content_type": "application/json",
                  "truncate_to": 20},
    "malformed": {"body": '{"version": 0.6, "elements": [}', "content_type":
                  "application/json"},
    "remark": {"json_body": {"version": 0.6, "elements": [],
                             "remark": "runtime error: Query timed out in \"query\" at line 3 "
                                       "after 180 seconds."}},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_live_faults_keep_previous_state(live_project: Path, canned_server: CannedServer,
                                         monkeypatch: pytest.MonkeyPatch, fault: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    waits: list[float] = []
    monkeypatch.setattr(_http, "sleep", waits.append)
    cfg = str(live_project / "cwsgeo.toml")
    inv = str(live_project / "spaces.csv")
    assert main(["--quiet", "--config", cfg, "build", "--inventory", inv]) == 0
    raw = live_project / "data" / "raw"
    before = {p: p.read_bytes() for p in sorted(raw.rglob("*")) if p.is_file()}
    outputs = {p: p.read_bytes() for p in sorted((live_project / "data" / "processed")
                                                 .rglob("*")) if p.is_file()}
    # a new live fetch downloads afresh (its own cache) and meets a misbehaving Overpass
    cached_before = cache_files(live_project)
    canned_server.routes[("POST", "/api/interpreter")].clear()
    canned_server.add("POST", "/api/interpreter", **FAULTS[fault])
    capsys.readouterr()
    code = main(["--quiet", "--config", cfg, "fetch", "--live", "--only", "places"])
    assert code == 4
    err = capsys.readouterr().err
    assert "Overpass" in err and "Traceback" not in err
    # retried with back-off (and Retry-After honoured) before giving up
    assert len(waits) == settings.http_retries
    if fault == "429":
        assert waits == [5.0] * settings.http_retries
    # nothing bad cached, inputs and outputs untouched
    assert cache_files(live_project) == cached_before
    assert {p: p.read_bytes() for p in sorted(raw.rglob("*")) if p.is_file()} == before
    assert {p: p.read_bytes() for p in sorted((live_project / "data" / "processed")
                                              .rglob("*")) if p.is_file()} == outputs
