"""Shared fixtures: the data mirror, a loopback HTTP server, and no-internet guarantees."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._server import CannedServer

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def _mirror() -> Path:
    env = os.environ.get("CWSGEO_MIRROR")
    return Path(env) if env else (ROOT / ".." / "shared" / "data" / "bcn").resolve()


@pytest.fixture(scope="session")
def bundle_dir() -> Path:
    """The real Barcelona bundle (skips the test when it is not on this machine)."""
    path = _mirror()
    if not (path / "README.md").exists():
        pytest.skip(f"Barcelona data mirror not found at {path}")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder of small self-made fixtures."""
    return DATA


@pytest.fixture
def canned_server() -> Iterator[CannedServer]:
    """A loopback HTTP server with queued canned answers."""
    with CannedServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to the loopback interface."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") \
                and not host.startswith("/"):
            raise OSError(f"test tried to reach the internet: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make HTTP back-off instant in tests (the waits are asserted through a recorder)."""
    from cwsgeo import _http

    monkeypatch.setattr(_http, "sleep", lambda s: None)


@pytest.fixture(autouse=True)
def _fresh_memos() -> None:
    """Each test starts like a new process: nothing kept in memory from another test.

    (The memos are content-keyed, so sharing them could not give wrong answers, but it
    would hide what a fresh process does: read caches, load files, log.)
    """
    from cwsgeo.build.cache import MEMOS

    MEMOS.clear()


@pytest.fixture(autouse=True, scope="session")
def _no_statistics_by_default() -> Iterator[None]:
    """Builds in tests skip the findings (minutes of simulations) unless a test's project
    asks for them with ``[statistics] enabled = true`` (tests/test_findings.py)."""
    from cwsgeo import settings

    before = settings.statistics
    settings.statistics = False
    yield
    settings.statistics = before
