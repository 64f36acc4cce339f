"""Rebuild whenever the inventory changes, optionally with a live preview of the maps.

The warm process is the fast path: the first build loads the data, and each later build in the
same process reuses the stage results kept in memory (:data:`cwsgeo.build.cache.MEMOS`), so a
one-row edit is rebuilt in well under a second. With ``serve=True`` the maps are served on
127.0.0.1 (:class:`~cwsgeo.build.preview.PreviewServer`) and open pages reload themselves when
a rebuild finishes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from .._errors import CwsgeoError
from .config import Config, environment_flag
from .pipeline import build

logger = logging.getLogger(__name__)

__all__ = ["watch"]


def _build_once(cfg: Config, out: str | Path | None, use_cache: bool, progress: bool,
                report: Callable[[str], None]) -> tuple[bool, str]:
    """Run one build; report its summary or why it failed. Return (ok, failure message)."""
    try:
        report(build(cfg, out=out, use_cache=use_cache, progress=progress).summary())
        return True, ""
    except (CwsgeoError, OSError) as exc:
        message = str(exc)
    except Exception as exc:  # keep watching: the next edit may fix it
        logger.exception("build failed")
        message = f"internal error {type(exc).__name__}: {exc}"
    report(f"build failed, previous outputs kept: {message}")
    return False, message


def watch(cfg: Config, *, inventory: str | Path | None = None, out: str | Path | None = None,
          use_cache: bool = True, progress: bool = False, interval: float = 1.0,
          report: Callable[[str], None] = print, max_builds: int | None = None,
          stop_event: threading.Event | None = None, serve: bool = False, port: int = 0,
          on_ready: Callable[[str], None] | None = None) -> int:
    """Build, then rebuild whenever the inventory file changes (until interrupted).

    A failed build (bad inventory, failed source) is reported and watching goes on; the
    previous outputs stay in place. The findings (``[statistics]``) are not recomputed
    while watching: run ``cwsgeo report`` when the inventory is ready.

    Parameters
    ----------
    cfg, inventory, out, use_cache, progress
        As in :func:`cwsgeo.build.build`.
    interval
        Polling period in seconds, used where file-system events are unavailable.
    report
        Called with each build's summary or error message.
    max_builds
        Stop after this many builds (for tests); ``None`` runs until interrupted.
    stop_event
        Stops watching when set.
    serve
        Serve the maps folder on 127.0.0.1 with pages that reload after each rebuild.
    port
        Port of the preview (``0``: a free one, reported through ``report``).
    on_ready
        Called with the preview's URL once it serves (with ``serve``).

    Returns
    -------
    int
        Number of builds run.
    """
    if inventory is not None:
        cfg = cfg.with_inventory(inventory)
    # the maps follow each save within seconds; the findings (minutes of simulations) are
    # left to `cwsgeo build` / `cwsgeo report`
    cfg = cfg.replace(statistics={"enabled": False})
    if not serve:
        return _watch(cfg, out, use_cache, progress, interval, report, max_builds, stop_event,
                      lambda ok, message: None)
    from .preview import PreviewServer

    with PreviewServer(cfg.maps_dir(out), port=port) as server:
        report(f"live preview: {server.url} (pages reload after each rebuild)")
        if on_ready is not None:
            on_ready(server.url)
        return _watch(cfg, out, use_cache, progress, interval, report, max_builds, stop_event,
                      server.build_finished)


def _watch(cfg: Config, out: str | Path | None, use_cache: bool, progress: bool,
           interval: float, report: Callable[[str], None], max_builds: int | None,
           stop_event: threading.Event | None, finished: Callable[[bool, str], None]) -> int:
    from watchfiles import watch as fs_watch

    path = cfg.inventory_path
    builds = 0

    def run_once() -> None:
        nonlocal builds
        builds += 1
        finished(*_build_once(cfg, out, use_cache, progress, report))

    run_once()
    if max_builds is not None and builds >= max_builds:
        return builds
    report(f"watching {path} for changes (Ctrl-C to stop)")
    polling = environment_flag("CWSGEO_WATCH_POLLING")
    for _ in fs_watch(path.parent, watch_filter=lambda _c, p: Path(p).name == path.name,
                      stop_event=stop_event, force_polling=polling or None,
                      poll_delay_ms=int(interval * 1000), debounce=400, raise_interrupt=True):
        if not path.exists():
            continue  # mid-save by an editor; the rename will trigger again
        run_once()
        if max_builds is not None and builds >= max_builds:
            break
    return builds
