"""Open a generated HTML map in headless Debian Chromium through Playwright and watch it.

Collects JavaScript exceptions, console errors, dialogs (alert/confirm: an XSS would open one)
and failed requests. Offline, only map tiles may fail to load; anything else is an error.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CWSGEO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
TILE_HOSTS = ("tile.openstreetmap.org",)


@dataclass
class PageWatch:
    page: Any
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    @property
    def unexpected_failures(self) -> list[str]:
        return [u for u in self.failed_requests if not any(h in u for h in TILE_HOSTS)]

    def assert_clean(self) -> None:
        assert self.js_errors == [], f"JavaScript errors: {self.js_errors}"
        assert self.dialogs == [], f"dialogs opened (script ran): {self.dialogs}"
        assert self.unexpected_failures == [], f"failed requests: {self.unexpected_failures}"
        other = [c for c in self.console_errors if "Failed to load resource" not in c]
        assert other == [], f"console errors: {other}"


def require_chromium() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        msg = f"Debian chromium not found at {CHROMIUM} (scripts/setup.sh test installs it)"
        if os.environ.get("CWSGEO_REQUIRE_BROWSER"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@contextmanager
def launch() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def watched_page(browser: Any) -> PageWatch:
    """A new page whose errors, dialogs and failed requests are recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    watch = PageWatch(page)
    page.on("pageerror", lambda e: watch.js_errors.append(str(e)))
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error"
            else None)
    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("requestfailed", lambda r: watch.failed_requests.append(r.url))
    return watch


def open_map(browser: Any, path: Path, wait_ms: int = 400) -> PageWatch:
    watch = watched_page(browser)
    page = watch.page
    page.goto(Path(path).resolve().as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_timeout(wait_ms)
    return watch
