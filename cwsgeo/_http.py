"""HTTP plumbing for live sources: etiquette, retries with back-off, and a cache of good answers.

Every live request cwsgeo makes, its own (open-data portal) or osmnx's (Overpass, Nominatim),
passes through :func:`_retry_hook`, a ``requests`` response hook that

* retries 429, 500, 502, 503 and 504 answers, waiting as long as ``Retry-After`` says (capped by
  :data:`cwsgeo.settings.http_max_wait_s`) or with exponential back-off;
* rejects bodies that are not valid JSON (truncated, HTML error pages) and Overpass answers that
  carry a ``remark`` (a server-side timeout or memory error: the data would be incomplete);
* raises :class:`~cwsgeo.DataSourceError` naming the source when retries run out.

Because the hook raises before osmnx sees a bad answer, osmnx never caches it. Network
exceptions (timeouts, refused connections) happen before any hook runs; :func:`call_live`
retries the whole call for those, and osmnx's cache makes the parts already done free.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import requests

from . import settings
from ._errors import DataSourceError
from ._io import write_bytes

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

#: Replaced in tests to avoid real sleeping.
sleep: Callable[[float], None] = time.sleep


def headers() -> dict[str, str]:
    """HTTP headers every live request sends (a real User-Agent, per the usage policies)."""
    return {"User-Agent": settings.user_agent, "Accept-Language": "ca,es,en"}


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_JSON_ENDPOINTS = ("/interpreter", "/search", "/lookup", "/reverse", "/details")


def _wants_json(response: requests.Response, expect_json: bool | None) -> bool:
    if expect_json is not None:
        return expect_json
    path = urllib.parse.urlsplit(response.url).path.rstrip("/")
    return "json" in response.headers.get("Content-Type", "") or path.endswith(_JSON_ENDPOINTS)


def _problem(response: requests.Response, expect_json: bool | None) -> str | None:
    """Return why an answer is unusable (None when it is fine)."""
    if response.status_code in RETRY_STATUS:
        return f"HTTP {response.status_code} {response.reason}"
    if not response.ok:
        return None  # other 4xx: not retryable; the caller reports it
    if not _wants_json(response, expect_json):
        return None
    try:
        body = response.json()
    except requests.RequestException as exc:
        return f"truncated answer ({type(exc).__name__})"
    except ValueError:
        snippet = response.text[:80].replace("\n", " ")
        return f"malformed JSON (truncated or not JSON: {snippet!r})"
    if isinstance(body, dict) and body.get("remark"):
        return f"server remark: {body['remark']!r}"
    return None


def _wait(attempt: int, response: requests.Response | None) -> float:
    after = _retry_after(response) if response is not None else None
    if after is not None:
        return min(after, settings.http_max_wait_s)
    return min(settings.http_backoff_s * (2 ** attempt), settings.http_max_wait_s)


def make_retry_hook(source: str, expect_json: bool | None = None
                    ) -> Callable[..., requests.Response]:
    """Return a ``requests`` response hook that retries bad answers from ``source``.

    Parameters
    ----------
    source
        Name used in logs and errors ("Overpass", "Nominatim", "Open Data BCN").
    expect_json
        Treat a body that is not valid JSON as a failed answer. ``None`` decides per answer:
        JSON is expected when the Content-Type says so or the endpoint is one of Overpass's
        or Nominatim's JSON endpoints (``/interpreter``, ``/search`` …), not ``/status``.

    Returns
    -------
    callable
        Use as ``requests.get(url, hooks={"response": hook})``.
    """

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        problem = _problem(response, expect_json)
        attempt = 0
        while problem is not None:
            response.close()
            if attempt >= settings.http_retries:
                raise DataSourceError(
                    source, f"{problem} from {response.url} after {attempt + 1} attempt(s); "
                    "nothing was cached and previous outputs are kept")
            delay = _wait(attempt, response)
            logger.warning("%s answered %s; retry %d/%d in %.1f s", source, problem,
                           attempt + 1, settings.http_retries, delay)
            sleep(delay)
            attempt += 1
            request = response.request.copy()
            request.hooks = {"response": []}
            with requests.Session() as session:
                try:
                    response = session.send(request, timeout=settings.http_timeout_s)
                except requests.RequestException as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    response = _FailedResponse(request, problem)
                    continue
            problem = _problem(response, expect_json)
        return response

    return hook


class _FailedResponse(requests.Response):
    """Stand-in response when a retry itself failed at the network level."""

    def __init__(self, request: requests.PreparedRequest, reason: str) -> None:
        super().__init__()
        self.request = request
        self.status_code = 503
        self.reason = reason
        self.url = request.url or ""
        self._content = b""
        self._content_consumed = True


def call_live(fn: Callable[..., T], *args: Any, source: str, **kwargs: Any) -> T:
    """Call ``fn`` (e.g. an osmnx download), retrying network failures, naming ``source``.

    Parameters
    ----------
    fn
        The function that performs requests.
    *args, **kwargs
        Passed to ``fn``.
    source
        Name used in errors.

    Returns
    -------
    Whatever ``fn`` returns.

    Raises
    ------
    cwsgeo.DataSourceError
        After :data:`cwsgeo.settings.http_retries` retries, or on an answer osmnx rejects.
    """
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    attempt = 0
    while True:
        try:
            return fn(*args, **kwargs)
        except DataSourceError:
            raise
        except (requests.Timeout, requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            if attempt >= settings.http_retries:
                raise DataSourceError(source, f"network failure after {attempt + 1} "
                                      f"attempt(s): {type(exc).__name__}: {exc}") from None
            delay = _wait(attempt, None)
            logger.warning("%s: %s; retry %d/%d in %.1f s", source, type(exc).__name__,
                           attempt + 1, settings.http_retries, delay)
            sleep(delay)
            attempt += 1
        except (InsufficientResponseError, ResponseStatusCodeError, requests.HTTPError) as exc:
            raise DataSourceError(source, str(exc)) from None


@contextlib.contextmanager
def osmnx_settings(cache_dir: Path, source: str = "OpenStreetMap") -> Iterator[None]:
    """Point osmnx at cwsgeo's settings for the duration of a block.

    Sets osmnx's Overpass and Nominatim URLs, its cache folder (``cache_dir/osmnx``),
    User-Agent, timeout and the retry hook; restores the previous values afterwards.

    Parameters
    ----------
    cache_dir
        cwsgeo's cache folder.
    source
        Name used in errors raised by the retry hook.
    """
    import osmnx as ox

    names = ["overpass_url", "nominatim_url", "cache_folder", "use_cache", "http_user_agent",
             "requests_timeout", "requests_kwargs", "log_console"]
    saved = {n: getattr(ox.settings, n) for n in names}
    try:
        ox.settings.overpass_url = settings.overpass_url.rstrip("/")
        ox.settings.nominatim_url = settings.nominatim_url
        ox.settings.cache_folder = str(Path(cache_dir) / "osmnx")
        ox.settings.use_cache = True
        ox.settings.http_user_agent = settings.user_agent
        ox.settings.requests_timeout = int(settings.http_timeout_s)
        ox.settings.requests_kwargs = {"hooks": {"response": [make_retry_hook(source)]}}
        ox.settings.log_console = False
        yield
    finally:
        for n, v in saved.items():
            setattr(ox.settings, n, v)


def _cache_file(cache_dir: Path, url: str, params: dict[str, Any] | None, suffix: str) -> Path:
    key = url + "?" + json.dumps(params or {}, sort_keys=True)
    return Path(cache_dir) / "http" / (hashlib.sha256(key.encode()).hexdigest() + suffix)


def get_json(url: str, params: dict[str, Any] | None = None, *, source: str,
             cache_dir: Path | None = None) -> Any:
    """GET a JSON document with retries; cache it only when it is good.

    Parameters
    ----------
    url
        Address to fetch.
    params
        Query parameters.
    source
        Name used in logs and errors.
    cache_dir
        cwsgeo's cache folder; ``None`` disables the cache.

    Returns
    -------
    The decoded JSON.
    """
    path = _cache_file(cache_dir, url, params, ".json") if cache_dir else None
    if path is not None and path.exists():
        with contextlib.suppress(ValueError, OSError):
            return json.loads(path.read_text(encoding="utf-8"))
    response = call_live(_get, url, params, True, source, source=source)
    data = response.json()
    if path is not None:
        write_bytes(path, response.content)
    return data


def get_bytes(url: str, params: dict[str, Any] | None = None, *, source: str,
              cache_dir: Path | None = None) -> bytes:
    """GET a file's bytes with retries; cache them only after a complete, successful answer."""
    path = _cache_file(cache_dir, url, params, ".bin") if cache_dir else None
    if path is not None and path.exists():
        return path.read_bytes()
    response = call_live(_get, url, params, False, source, source=source)
    if path is not None:
        write_bytes(path, response.content)
    return response.content


def _get(url: str, params: dict[str, Any] | None, expect_json: bool,
         source: str) -> requests.Response:
    response = requests.get(url, params=params, headers=headers(),
                            timeout=settings.http_timeout_s,
                            hooks={"response": [make_retry_hook(source, expect_json)]})
    if not response.ok:
        raise DataSourceError(source, f"HTTP {response.status_code} {response.reason} from "
                              f"{response.url}")
    if "Content-Length" in response.headers:
        expected = int(response.headers["Content-Length"])
        if len(response.content) < expected and not response.headers.get("Content-Encoding"):
            raise DataSourceError(source, f"truncated answer from {response.url}: "
                                  f"{len(response.content)} of {expected} bytes")
    return response
