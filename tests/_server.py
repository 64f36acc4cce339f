"""A tiny loopback HTTP server that answers with canned, recorded-style responses.

Tests point osmnx's and cwsgeo's URLs at it, so live code paths run with no internet.

    with CannedServer() as srv:
        srv.add("GET", "/search", json_body=[{...}])
        srv.add("POST", "/api/interpreter", status=429, headers={"Retry-After": "0"})
        cwsgeo.settings.nominatim_url = srv.url + "/"
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit


@dataclass
class Canned:
    match: str | None = None  # answer only requests whose decoded body/query contains this
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate_to: int | None = None  # send a Content-Length larger than the body, then close


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]


class CannedServer:
    """Serve queued responses per (method, path); the last one of a queue repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], deque[Canned]] = defaultdict(deque)
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # silence
                pass

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(Seen(method, parts.path, parse_qs(parts.query), body,
                                            dict(self.headers)))
                text = unquote_plus(body.decode("utf-8", "replace") + "&" + parts.query)
                queue = server.routes.get((method, parts.path))
                filtered = bool(queue) and any(c.match for c in queue)
                if filtered:
                    queue = deque(c for c in queue if c.match is not None and c.match in text)
                if not queue:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                canned = queue[0] if len(queue) == 1 or filtered else queue.popleft()
                if canned.delay:
                    # not time.sleep: tests may patch it to skip osmnx's Nominatim pause
                    threading.Event().wait(canned.delay)
                self.send_response(canned.status)
                for k, v in canned.headers.items():
                    self.send_header(k, v)
                if canned.truncate_to is not None:
                    self.send_header("Content-Length", str(len(canned.body)))
                    self.end_headers()
                    self.wfile.write(canned.body[: canned.truncate_to])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out or hung up: expected in fault tests

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, path: str, *, status: int = 200, json_body: Any = None,
            body: bytes | str = b"", headers: dict[str, str] | None = None, delay: float = 0.0,
            truncate_to: int | None = None, content_type: str | None = None,
            match: str | None = None) -> None:
        """Queue one response for ``method path`` (the last queued response repeats).

        With ``match``, the response only answers requests whose URL-decoded body or query
        contains that text (such responses repeat and are not consumed).
        """
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            hdrs.setdefault("Content-Type", "application/json")
        elif content_type:
            hdrs.setdefault("Content-Type", content_type)
        data = body.encode() if isinstance(body, str) else body
        self.routes[(method, path)].append(Canned(match, status, data, hdrs, delay,
                                                  truncate_to))

    def clear(self) -> None:
        self.routes.clear()
        self.requests.clear()

    def __enter__(self) -> CannedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
