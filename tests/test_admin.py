"""Administrative join on hand-made squares, and the live OSM + Open Data BCN path."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from cwsgeo import MissingDataError, settings
from cwsgeo.analysis.admin import fetch_admin_live, join_admin, load_admin

# Two 1 km x 1 km districts side by side in EPSG:25831 (near Barcelona), each one barri,
# barri 02 split into two sections.
X0, Y0 = 430_000, 4_580_000


def write_admin(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    d1, d2 = box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
    s21, s22 = box(X0 + 1000, Y0, X0 + 1500, Y0 + 1000), box(X0 + 1500, Y0, X0 + 2000, Y0 + 1000)

    def save(name: str, rows: list[dict], geoms: list) -> None:
        gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=settings.crs_work).to_crs(4326)
        gdf.to_file(folder / name, driver="GeoJSON")

    save("districts.geojson", [
        {"district_code": "01", "district_name": "Una", "population": 1000, "pop_year": 2024},
        {"district_code": "02", "district_name": "Dos", "population": 3000, "pop_year": 2024}],
        [d1, d2])
    save("barris.geojson", [
        {"barri_code": "01", "barri_name": "u", "district_code": "01", "population": 1000},
        {"barri_code": "02", "barri_name": "d", "district_code": "02", "population": 3000}],
        [d1, d2])
    save("census_sections.geojson", [
        {"section_code": "01001", "barri_code": "01", "district_code": "01", "population": 1000},
        {"section_code": "02001", "barri_code": "02", "district_code": "02", "population": 1000},
        {"section_code": "02002", "barri_code": "02", "district_code": "02", "population": 2000}],
        [d1, s21, s22])
    save("city_boundary.geojson", [{"name": "Toy"}], [box(X0, Y0, X0 + 2000, Y0 + 1000)])
    return folder


def test_load_and_join(tmp_path: Path) -> None:
    admin = load_admin(write_admin(tmp_path / "admin"))
    assert admin.population == 4000 and admin.pop_year == 2024
    assert admin.districts["area_km2"].round(3).tolist() == [1.0, 1.0]
    pts = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"]},
        geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1700, Y0 + 200),
                  Point(X0 + 2300, Y0 + 500), None], crs=settings.crs_work).to_crs(4326)
    out = join_admin(pts, admin)
    assert out["district_code"].tolist()[:2] == ["01", "02"]
    assert out["district_code"].isna().tolist() == [False, False, True, True]
    assert out["barri_name"].tolist()[:2] == ["u", "d"]
    assert out["section_code"].tolist()[:2] == ["01001", "02002"]
    assert out["in_city"].tolist() == [True, True, False, False]
    assert out.loc[2, "outside_city_m"] == pytest.approx(300, abs=1)
    assert len(out) == 4 and out.crs == pts.crs  # nothing dropped, CRS kept


def test_missing_file_is_named(tmp_path: Path) -> None:
    folder = write_admin(tmp_path / "admin")
    (folder / "barris.geojson").unlink()
    with pytest.raises(MissingDataError, match=r"barris\.geojson"):
        load_admin(folder)


def _square(lon: float, lat: float, d: float = 0.01) -> list[list[float]]:
    return [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]


def overpass_boundaries() -> dict:
    """Two districts (admin_level 9) and two barris (admin_level 10) as OSM relations."""
    elements: list[dict] = []
    nid = 1
    specs = [(9, "Ciutat Vella", 2.16, 41.38), (9, "l'Eixample", 2.17, 41.38),
             (10, "el Raval", 2.16, 41.38), (10, "la Dreta de l'Eixample", 2.17, 41.38)]
    for rid, (level, name, lon, lat) in enumerate(specs, start=1):
        refs = []
        for x, y in _square(lon, lat)[:-1]:
            elements.append({"type": "node", "id": nid, "lat": y, "lon": x})
            refs.append(nid)
            nid += 1
        refs.append(refs[0])
        elements.append({"type": "way", "id": 100 + rid, "nodes": refs})
        elements.append({"type": "relation", "id": 1000 + rid,
                         "members": [{"type": "way", "ref": 100 + rid, "role": "outer"}],
                         "tags": {"type": "boundary", "boundary": "administrative",
                                  "admin_level": str(level), "name": name}})
    return {"version": 0.6, "elements": elements}


PAD_CSV = (
    "Data_Referencia,Codi_Districte,Nom_Districte,Codi_Barri,Nom_Barri,AEB,Seccio_Censal,Valor\n"
    "2024-01-01,1,Ciutat Vella,1,el Raval,1,1001,1500\n"
    "2024-01-01,1,Ciutat Vella,1,el Raval,1,1002,500\n"
    "2024-01-01,2,Eixample,7,la Dreta de l'Eixample,20,2001,4000\n")


def serve_live_admin(srv) -> None:
    city = {"place_id": 1, "osm_type": "relation", "osm_id": 347950, "lat": "41.39",
            "lon": "2.17", "display_name": "Barcelona, Catalunya, España", "class": "boundary",
            "type": "administrative", "importance": 0.9, "place_rank": 16,
            "boundingbox": ["41.37", "41.40", "2.15", "2.19"],
            "geojson": {"type": "Polygon", "coordinates": [_square(2.15, 41.37, 0.04)]}}
    srv.add("GET", "/search", json_body=[city])
    srv.add("GET", "/api/status", body="Connected as: 1\nCurrent time: x\nRate limit: 2\n\n"
            "2 slots available now.\n", content_type="text/plain")
    srv.add("POST", "/api/interpreter", json_body=overpass_boundaries())
    srv.add("GET", "/data/api/3/action/package_show", json_body={
        "success": True, "result": {"resources": [
            {"format": "CSV", "name": "2024_pad_mdbas.csv",
             "url": srv.url + "/dl/2024_pad_mdbas.csv"}]}})
    srv.add("GET", "/dl/2024_pad_mdbas.csv", body=PAD_CSV, content_type="text/csv")


def test_fetch_admin_live(canned_server, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(settings, "nominatim_url", canned_server.url + "/")
    monkeypatch.setattr(settings, "overpass_url", canned_server.url + "/api")
    monkeypatch.setattr(settings, "opendata_bcn_url", canned_server.url + "/data")
    serve_live_admin(canned_server)
    admin = fetch_admin_live("Barcelona, Catalonia, Spain", tmp_path)
    d = admin.districts.set_index("district_code")
    assert d.loc["01", "district_name"] == "Ciutat Vella"
    assert d.loc["02", "district_name"] == "Eixample"  # "l'Eixample" matched to the official
    assert d.loc["01", "population"] == 2000 and d.loc["02", "population"] == 4000
    b = admin.barris.set_index("barri_code")
    assert b.loc["07", "district_code"] == "02" and b.loc["01", "population"] == 2000
    assert admin.sections is None and admin.pop_year == 2024
    assert admin.districts.crs.to_epsg() == 25831
    ua = {r.headers.get("User-Agent") for r in canned_server.requests}
    assert ua == {settings.user_agent}
    assert json.loads(json.dumps(admin.city.total_bounds.tolist()))


def test_point_on_a_shared_edge_is_inside(tmp_path: Path) -> None:
    admin = load_admin(write_admin(tmp_path / "admin"))
    pts = gpd.GeoDataFrame({"id": ["edge", "corner"]},
                           geometry=[Point(X0 + 1000, Y0 + 500), Point(X0 + 1500, Y0)],
                           crs=settings.crs_work)
    out = join_admin(pts, admin)
    assert out["in_city"].tolist() == [True, True]
    assert out["district_code"].notna().all()
    assert out["outside_city_m"].tolist() == [0.0, 0.0]


def test_the_rest_of_a_rest_is_not_named_twice() -> None:
    """A district that is itself "X (rest)" gives its uncovered part the same name once."""
    from shapely import box

    from cwsgeo.analysis.admin import _fill_missing_levels

    city = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 1000)], crs=settings.crs_work)
    districts = gpd.GeoDataFrame({"district_code": ["01"], "district_name": ["West"]},
                                 geometry=[box(0, 0, 1000, 1000)], crs=settings.crs_work)
    barris = gpd.GeoDataFrame({"barri_code": ["01"], "barri_name": ["North-west"]},
                              geometry=[box(0, 500, 1000, 1000)], crs=settings.crs_work)
    districts, barris = _fill_missing_levels(city.to_crs(4326), districts, barris, "Town, X")
    assert sorted(districts["district_name"]) == ["Town (rest)", "West"]
    assert sorted(barris["barri_name"]) == ["North-west", "Town (rest)", "West (rest)"]
