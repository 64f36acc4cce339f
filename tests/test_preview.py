"""Live preview (`cwsgeo watch --serve`): the server on its own, then an edit seen in Chromium."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cwsgeo.build.config import Config
from cwsgeo.build.pipeline import build
from cwsgeo.build.preview import PreviewServer
from cwsgeo.build.watch import watch
from tests._browser import launch, watched_page
from tests.test_incremental import ROWS, write_inventory
from tests.test_pipeline import write_config


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_serves_maps_with_the_reload_script_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "innovation_types.html").write_text("<html><body><p>map</p></body></html>")
    (tmp_path / ".hidden.html").write_text("secret")
    (tmp_path.parent / "outside.txt").write_text("outside")
    with PreviewServer(tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:")
        code, headers, body = _get(server.url + "innovation_types.html")
        assert code == 200 and headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-store"
        assert body.index(b"/_cwsgeo/events") < body.index(b"</body>")
        # the file on disk is untouched
        assert "_cwsgeo" not in (tmp_path / "innovation_types.html").read_text()
        assert _get(server.url + ".hidden.html")[0] == 404
        assert _get(server.url + "..%2Foutside.txt")[0] == 404
        assert _get(server.url + "missing.html")[0] == 404
        conn = http.client.HTTPConnection(server.url.split("//")[1].rstrip("/"))
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert (resp.status, resp.getheader("Location")) == (302, "/innovation_types.html")


def _event(resp: http.client.HTTPResponse) -> bytes:
    """Read one server-sent event (lines up to a blank line)."""
    lines = []
    while (line := resp.fp.readline()) not in (b"\n", b""):
        lines.append(line)
    return b"".join(lines)


def test_event_stream_announces_each_build(tmp_path: Path) -> None:
    with PreviewServer(tmp_path) as server:
        host = server.url.split("//")[1].rstrip("/")
        conn = http.client.HTTPConnection(host, timeout=10)
        conn.request("GET", "/_cwsgeo/events")
        resp = conn.getresponse()
        assert resp.getheader("Content-Type") == "text/event-stream"
        assert b"event: hello\n" in _event(resp)
        threading.Timer(0.2, server.build_finished, args=(False, "<b>bad</b> row 3")).start()
        block = _event(resp)
        assert block.startswith(b"event: build\ndata: ")
        assert b'"ok": false' in block and b"<b>bad</b> row 3" in block
        conn.close()
        _, _, status = _get(server.url + "_cwsgeo/status")
        assert b'"build": 1' in status


@pytest.mark.bundle
@pytest.mark.slow
@pytest.mark.browser
def test_an_edit_reloads_the_open_map(bundle_dir: Path, tmp_path: Path) -> None:
    write_config(tmp_path, bundle_dir)
    inv = tmp_path / "spaces.csv"
    write_inventory(inv)
    cfg = Config.load(tmp_path).with_inventory(inv)
    build(cfg)  # the stage cache is warm, as after a first `cwsgeo build`
    urls: list[str] = []
    reports: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, daemon=True, kwargs={
        "cfg": cfg, "report": reports.append, "stop_event": stop, "interval": 0.2,
        "serve": True, "port": 0, "on_ready": urls.append})
    thread.start()
    try:
        deadline = time.time() + 120
        while not any("watching" in r for r in reports) and time.time() < deadline:
            time.sleep(0.1)
        assert urls, reports
        with launch() as browser:
            watch_page = watched_page(browser)
            page = watch_page.page
            page.goto(urls[0] + "innovation_types.html")
            page.wait_for_selector("html[data-cws-ready]")
            page.evaluate("window.cwsMap.setView([41.39, 2.17], 16, {animate: false}); "
                          "window.cwsOld = true")
            assert page.locator("path.cws-type-3").count() == 0
            write_inventory(inv, c=ROWS["c"].replace(",\n", ",3\n"))  # retype space c
            try:
                page.wait_for_function("!window.cwsOld && document.documentElement"
                                       ".hasAttribute('data-cws-ready')", timeout=60_000)
            except Exception as exc:
                raise AssertionError(f"no reload; builds said: {reports}; page errors: "
                                     f"{watch_page.js_errors}") from exc
            assert page.locator("path.cws-type-3").count() == 1
            try:  # view kept
                page.wait_for_function("window.cwsMap.getZoom() === 16", timeout=20_000)
            except Exception as exc:
                state = page.evaluate("[window.cwsMap.getZoom(), JSON.stringify(sessionStorage)]")
                raise AssertionError(f"view not kept: {state}; builds: {reports}") from exc
            # the reload aborts the page's event stream: the one request allowed to fail
            watch_page.failed_requests = [u for u in watch_page.failed_requests
                                          if not u.endswith("/_cwsgeo/events")]
            watch_page.assert_clean()
    finally:
        stop.set()
        thread.join(timeout=60)
        write_inventory(inv)
    assert "1 retyped" in reports[-1]
