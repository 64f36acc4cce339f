"""Live preview: serve the project's maps on 127.0.0.1 and reload open pages after each rebuild.

``cwsgeo watch --serve`` runs :func:`cwsgeo.build.watch.watch` (rebuild on every save of the
inventory) with a :class:`PreviewServer` beside it. The server is the standard library's
threaded HTTP server, bound to the loopback interface only. It serves the files of the maps
folder and, into each HTML page it sends (never into the files on disk), one static script
that listens to ``/_cwsgeo/events`` (server-sent events): when a rebuild finishes the page
reloads and keeps the map's centre and zoom; when a rebuild fails the page stays and shows
the reason in a banner (as text, never as HTML).

Examples
--------
>>> import tempfile, urllib.request
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "map.html").write_text("<html><body>hi</body></html>")
>>> with PreviewServer(folder) as server:
...     page = urllib.request.urlopen(server.url + "map.html").read().decode()
>>> "hi" in page and "_cwsgeo/events" in page
True
"""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
import urllib.parse
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["PreviewServer"]

#: Path prefix of the preview's own endpoints (no map file lives there).
ENDPOINT = "/_cwsgeo/"
_KEEPALIVE_S = 15.0
_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json",
          ".js": "text/javascript", ".css": "text/css", ".png": "image/png",
          ".svg": "image/svg+xml", ".csv": "text/csv; charset=utf-8"}


def _reload_script() -> bytes:
    text = resources.files(__package__).joinpath("static/live_reload.js").read_text("utf-8")
    return f"<script>{text}</script>".encode()


class _BuildState:
    """The number and outcome of the last build, and a condition to wait for the next."""

    def __init__(self) -> None:
        self.number = 0
        self.ok = True
        self.message = ""
        self.finished_at = 0.0
        self.condition = threading.Condition()
        self.closing = False

    def publish(self, ok: bool, message: str) -> None:
        with self.condition:
            self.number += 1
            self.ok, self.message, self.finished_at = ok, message, time.time()
            self.condition.notify_all()

    def as_json(self) -> bytes:
        return json.dumps({"build": self.number, "ok": self.ok, "message": self.message,
                           "finished_at": self.finished_at}).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "cwsgeo-preview"
    folder: Path
    state: _BuildState
    script: bytes

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("preview: " + format, *args)

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == ENDPOINT + "events":
            self._events()
        elif path == ENDPOINT + "status":
            self._send(200, "application/json", self.state.as_json())
        elif path == "/":
            self._index()
        else:
            self._file(urllib.parse.unquote(path))

    def _send(self, code: int, ctype: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _index(self) -> None:
        pages = sorted(p.name for p in self.folder.glob("*.html"))
        if pages:
            first = "innovation_types.html" if "innovation_types.html" in pages else pages[0]
            self.send_response(302)
            self.send_header("Location", "/" + urllib.parse.quote(first))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (b"<!doctype html><title>cwsgeo preview</title><p>No map yet: the first build "
                b"is running.</p>" + self.script)
        self._send(200, _TYPES[".html"], body)

    def _file(self, path: str) -> None:
        root = self.folder.resolve()
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root) or not target.is_file() or any(
                part.startswith(".") for part in target.relative_to(root).parts):
            self._send(404, "text/plain; charset=utf-8", b"not found")
            return
        body = target.read_bytes()
        ctype = _TYPES.get(target.suffix.lower(), "application/octet-stream")
        if target.suffix.lower() == ".html":
            end = body.rfind(b"</body>")
            body = body[:end] + self.script + body[end:] if end >= 0 else body + self.script
        self._send(200, ctype, body)

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        state = self.state
        seen = state.number
        try:
            self.wfile.write(f"retry: 1000\nevent: hello\ndata: {seen}\n\n".encode())
            self.wfile.flush()
            while True:
                changed, seen, payload = self._wait_for_build(seen)
                if not changed and state.closing:
                    break  # a build announced just before closing is still sent
                self.wfile.write(b"event: build\ndata: " + payload + b"\n\n" if changed
                                 else b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page was closed or reloaded


    def _wait_for_build(self, seen: int) -> tuple[bool, int, bytes]:
        """Wait until a build after number ``seen`` finishes (or a keep-alive is due)."""
        state = self.state
        with state.condition:
            state.condition.wait_for(lambda: state.number != seen or state.closing,
                                     timeout=_KEEPALIVE_S)
            return state.number != seen, state.number, state.as_json()


class PreviewServer:
    """Serve a maps folder on 127.0.0.1 and tell open pages when a new build is there.

    Parameters
    ----------
    folder
        The maps folder (``maps/``).
    port
        TCP port; ``0`` picks a free one (see :attr:`url`).
    """

    def __init__(self, folder: str | Path, port: int = 0) -> None:
        self.state = _BuildState()
        handler = type("Handler", (_Handler,), {"folder": Path(folder), "state": self.state,
                                                "script": _reload_script()})
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="cwsgeo-preview", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the preview, e.g. ``http://127.0.0.1:8765/``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> PreviewServer:
        """Start serving in a background thread; return ``self``."""
        self._thread.start()
        return self

    def build_finished(self, ok: bool, message: str = "") -> None:
        """Tell open pages that a build finished (they reload) or failed (they show why)."""
        self.state.publish(ok, message)

    def close(self) -> None:
        """Stop serving and end the open event streams."""
        with self.state.condition:
            self.state.closing = True
            self.state.condition.notify_all()
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
