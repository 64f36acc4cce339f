"""Run independent output writers side by side in forked processes.

After the data of a build is computed, its outputs (PNG figures, each HTML map, the tables)
depend only on that data, not on each other. On a machine with more than one core they are
written in parallel: :func:`background` forks a child that inherits the data (copy-on-write,
nothing is pickled on the way in), runs one writer and sends its (small) return value back
through a pipe. Where ``fork`` is unavailable (Windows), or only one core is usable, the
writer simply runs in the calling process when its result is asked for.

Children die with their parent (``PR_SET_PDEATHSIG`` on Linux): a build killed at any
moment leaves no writer behind, and every output is written atomically anyway.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from .._errors import CwsgeoError
from .config import environment_flag

logger = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["Task", "background"]


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _die_with_parent() -> None:
    """Linux: have the kernel kill this process when its parent dies."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class Task(Generic[T]):
    """A writer running in a forked child (or deferred, without ``fork``).

    Use :func:`background` to start one and :meth:`result` to collect it.
    """

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self.name = name
        self._fn: Callable[[], T] | None = fn
        self._pid: int | None = None
        self._read_fd: int | None = None
        self._done = False
        self._value: Any = None

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:  # pragma: no cover - the child ends in os._exit (covered by the tests)
            os.close(read_fd)
            _die_with_parent()
            code = 0
            try:
                assert self._fn is not None
                payload = pickle.dumps((True, self._fn()))
            except BaseException as exc:  # sent to the parent, which raises it
                code = 1
                try:
                    payload = pickle.dumps((False, exc))
                except Exception:  # an exception that cannot be pickled
                    payload = pickle.dumps((False, CwsgeoError(f"{type(exc).__name__}: {exc}")))
            try:
                with os.fdopen(write_fd, "wb") as fh:
                    fh.write(payload)
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):
                        stream.flush()
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._read_fd = pid, read_fd
        self._fn = None  # the child has it; let the parent free it

    def result(self) -> T:
        """Wait for the writer and return its value (its exception is raised here).

        Raises
        ------
        cwsgeo.CwsgeoError
            The child died without an answer (killed, out of memory).
        """
        if self._done:
            return self._value
        if self._pid is None:  # not forked: run now
            assert self._fn is not None
            fn, self._fn = self._fn, None
            self._value, self._done = fn(), True
            return self._value
        assert self._read_fd is not None
        try:
            with os.fdopen(self._read_fd, "rb") as fh:
                self._read_fd = None
                payload = fh.read()
        except BaseException:  # interrupted while waiting: the writer goes too
            self.cancel()
            raise
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        self._done = True
        if not payload:
            raise CwsgeoError(f"{self.name}: the writer process ended without a result "
                              f"(status {status})")
        ok, value = pickle.loads(payload)
        if not ok:
            raise value
        self._value = value
        return value


    def cancel(self) -> None:
        """Stop the writer if it still runs (its file writes are atomic) and reap it."""
        self._done, self._fn = True, None
        if self._read_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._read_fd)
            self._read_fd = None
        if self._pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


def background(fn: Callable[[], T], name: str, *, parallel: bool = True) -> Task[T]:
    """Start ``fn()`` in a forked child when that can save time; collect it with ``result()``.

    Parameters
    ----------
    fn
        A writer: reads data inherited from this process, writes files atomically, returns a
        small picklable value (paths, digests).
    name
        Shown in errors.
    parallel
        ``False`` defers ``fn`` to :meth:`Task.result` in this process.

    Returns
    -------
    Task
    """
    task = Task(fn, name)
    if parallel and hasattr(os, "fork") and _usable_cores() > 1 \
            and not environment_flag("CWSGEO_NO_FORK"):
        try:
            task._start()
        except OSError as exc:  # out of processes or memory: run in-process instead
            logger.debug("%s: cannot fork (%s); running in this process", name, exc)
    return task
