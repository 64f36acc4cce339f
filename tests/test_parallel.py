"""Forked output writers (cwsgeo.build.parallel): results, errors and the in-process fallback."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from cwsgeo import CwsgeoError
from cwsgeo.build.parallel import _usable_cores, background

needs_fork = pytest.mark.skipif(not hasattr(os, "fork") or _usable_cores() < 2,
                                reason="needs fork and two usable cores")


@needs_fork
def test_child_returns_its_value_and_writes_files(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"

    def writer() -> tuple[int, str]:
        target.write_text("written by the child", encoding="utf-8")
        return os.getpid(), "done"

    task = background(writer, "writer")
    pid, word = task.result()
    assert pid != os.getpid() and word == "done"  # it ran in another process
    assert target.read_text(encoding="utf-8") == "written by the child"
    assert task.result() == (pid, word)  # collected once, kept


@needs_fork
def test_child_exception_is_raised_in_the_parent() -> None:
    def fails() -> None:
        raise ValueError("bad data in the writer")

    with pytest.raises(ValueError, match="bad data in the writer"):
        background(fails, "writer").result()


@needs_fork
def test_unpicklable_exception_becomes_a_cwsgeo_error() -> None:
    class LocalError(Exception):  # defined in a function: cannot be pickled
        pass

    def fails() -> None:
        raise LocalError("local failure")

    with pytest.raises(CwsgeoError, match="LocalError: local failure"):
        background(fails, "writer").result()


@needs_fork
def test_killed_child_is_reported_not_hung() -> None:
    def dies() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(CwsgeoError, match="writer process ended without a result"):
        background(dies, "writer").result()


def test_without_fork_the_writer_runs_here_when_collected(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("CWSGEO_NO_FORK", "1")
    calls: list[int] = []

    def writer() -> int:
        calls.append(os.getpid())
        return 7

    task = background(writer, "writer")
    assert calls == []  # deferred
    assert task.result() == 7 and calls == [os.getpid()]


def test_parallel_false_defers_too() -> None:
    task = background(lambda: os.getpid(), "writer", parallel=False)
    assert task.result() == os.getpid()


@needs_fork
def test_cancel_stops_a_running_writer_and_reaps_it(tmp_path: Path) -> None:
    import time

    marker = tmp_path / "late.txt"

    def slow() -> None:
        time.sleep(30)
        marker.write_text("too late", encoding="utf-8")

    task = background(slow, "writer")
    pid = task._pid
    assert pid is not None
    task.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left
    assert not marker.exists()
    task.cancel()  # twice is fine


@needs_fork
def test_child_logs_through_the_parents_handlers_unchanged() -> None:
    """The library never reconfigures logging, not even in a forked writer."""
    import logging

    root = logging.getLogger()
    parent = [id(h) for h in root.handlers], root.level

    def logs() -> tuple[list[int], int]:
        logging.getLogger("cwsgeo.test").warning("from the child")
        return [id(h) for h in root.handlers], root.level

    assert background(logs, "writer").result() == parent
