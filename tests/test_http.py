"""Live-source plumbing against a loopback server: retries, Retry-After, bad answers, cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwsgeo import _http, settings
from cwsgeo._errors import DataSourceError


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(_http, "sleep", recorded.append)
    return recorded


def test_retry_after_is_honoured(canned_server, waits, tmp_path: Path) -> None:
    canned_server.add("GET", "/data", status=429, headers={"Retry-After": "7"})
    canned_server.add("GET", "/data", status=504)
    canned_server.add("GET", "/data", json_body={"ok": 1})
    data = _http.get_json(canned_server.url + "/data", source="Test", cache_dir=tmp_path)
    assert data == {"ok": 1}
    assert waits[0] == 7.0  # Retry-After honoured
    assert waits[1] == settings.http_backoff_s * 2  # then exponential back-off
    assert len(canned_server.requests) == 3
    # cached: no new request
    assert _http.get_json(canned_server.url + "/data", source="Test", cache_dir=tmp_path) == {
        "ok": 1}
    assert len(canned_server.requests) == 3


def test_user_agent_is_sent(canned_server, tmp_path: Path) -> None:
    canned_server.add("GET", "/ua", json_body=[])
    _http.get_json(canned_server.url + "/ua", source="Test")
    assert canned_server.requests[0].headers["User-Agent"] == settings.user_agent


@pytest.mark.parametrize("kind", ["status", "malformed", "truncated", "remark", "html"])
def test_bad_answers_raise_and_are_not_cached(canned_server, waits, tmp_path: Path,
                                              kind: str) -> None:
    if kind == "status":
        canned_server.add("GET", "/x", status=503)
    elif kind == "malformed":
        canned_server.add("GET", "/x", body='{"elements": [1, 2', content_type="application/json")
    elif kind == "truncated":
        canned_server.add("GET", "/x", body='{"elements": [1, 2, 3]}', truncate_to=10,
                          content_type="application/json")
    elif kind == "remark":
        canned_server.add("GET", "/x", json_body={
            "elements": [], "remark": "runtime error: Query timed out in \"query\" at line 1"})
    else:
        canned_server.add("GET", "/x", body="<html>busy</html>", content_type="text/html")
    with pytest.raises(DataSourceError) as err:
        _http.get_json(canned_server.url + "/x", source="Overpass", cache_dir=tmp_path)
    assert "Overpass" in str(err.value)
    assert not list(tmp_path.rglob("*.json"))
    if kind in ("status", "malformed", "remark"):
        assert len(waits) == settings.http_retries  # retried with back-off, then gave up


def test_timeouts_are_retried_then_reported(canned_server, waits, monkeypatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(settings, "http_timeout_s", 0.2)
    canned_server.add("GET", "/slow", json_body={}, delay=1.0)
    with pytest.raises(DataSourceError, match="network failure"):
        _http.get_json(canned_server.url + "/slow", source="Nominatim", cache_dir=tmp_path)
    assert len(waits) == settings.http_retries
    assert not list(tmp_path.rglob("*.json"))


def test_recovers_after_transient_failures(canned_server, waits, tmp_path: Path) -> None:
    canned_server.add("GET", "/y", body='{"a": ', content_type="application/json")
    canned_server.add("GET", "/y", json_body={"a": 1})
    assert _http.get_json(canned_server.url + "/y", source="T", cache_dir=tmp_path) == {"a": 1}


def test_osmnx_requests_go_through_the_hook(canned_server, waits, tmp_path: Path,
                                            monkeypatch) -> None:
    import osmnx as ox

    monkeypatch.setattr(settings, "overpass_url", canned_server.url + "/api")
    canned_server.add("GET", "/api/status", body="Connected as: 1\nCurrent time: x\n"
                      "Rate limit: 2\n\n2 slots available now.\n", content_type="text/plain")
    canned_server.add("POST", "/api/interpreter", status=429, headers={"Retry-After": "3"})
    canned_server.add("POST", "/api/interpreter", json_body={
        "version": 0.6, "elements": [
            {"type": "node", "id": 1, "lat": 41.39, "lon": 2.16,
             "tags": {"amenity": "cafe", "name": "Cafè"}}]})
    poly = ox.utils_geo.bbox_to_poly((2.15, 41.38, 2.17, 41.40))
    with _http.osmnx_settings(tmp_path):
        gdf = _http.call_live(ox.features_from_polygon, poly, {"amenity": "cafe"},
                              source="Overpass")
    assert list(gdf["name"]) == ["Cafè"]
    assert waits == [3.0]
    cached = list((tmp_path / "osmnx").glob("*.json"))
    assert len(cached) == 1  # only the good answer
    ua = [r.headers.get("User-Agent") for r in canned_server.requests]
    assert set(ua) == {settings.user_agent}
