"""The build server: a warm process that runs ``cwsgeo build`` for one project.

After a one-row edit of the inventory, little of a rebuild is work (only the edited space is
geocoded and measured, see :mod:`cwsgeo.pipeline`); most of a new ``cwsgeo build`` process
is starting Python and importing pandas, geopandas, scipy, folium and matplotlib (about 1 s)
and reading cached stage results back from disk. ``cwsgeo serve`` pays that once: while it
runs, ``cwsgeo build`` in the same project hands its command line to the server over a Unix
socket and returns in about the time of the work itself (the idea of the Gradle daemon or
``dmypy``). Without a server, ``cwsgeo build`` builds in its own process as always.

How a build is served: the client connects, sends its arguments, working folder, environment
and code fingerprint, and passes its stdin, stdout and stderr (``SCM_RIGHTS``). The server
checks the request (``cwsgeo build`` only), takes on those descriptors, folder and environment
for the duration of the build and runs the ordinary command line (:func:`cwsgeo.cli.main`),
so the output, progress bars, exit codes and files are those of a local build; builds run one
at a time (they hold the project lock anyway). What stays in memory between builds is keyed
by content (stage results by the hash of their inputs, the network by its file's sha256,
display geometry by its WKB; the parsed gazetteer, as in any process, by its files' size and
modification time). Settings that libraries read once at import (PROJ and GDAL environment
variables, say) are those the server started with. Ctrl-C in the client, or the client dying,
interrupts the build like a local Ctrl-C; previous outputs are kept. Nothing a client sends
stops the server except ``stop`` and a client running other cwsgeo code.

Safety: the socket lives in a private folder (``$XDG_RUNTIME_DIR/cwsgeo`` or
``/tmp/cwsgeo-<uid>``, mode 0700, checked), only the same user is served (``SO_PEERCRED``),
and only clients running the same cwsgeo code and Python: after a code change the client
builds locally and the outdated server exits. The server also exits after ``idle_timeout_s``
without builds. POSIX only (Unix sockets, descriptor passing); elsewhere ``cwsgeo build``
simply runs locally.
"""

from __future__ import annotations

import _thread
import contextlib
import hashlib
import json
import logging
import os
import select
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import CwsgeoError

if TYPE_CHECKING:
    from .config import Config

logger = logging.getLogger(__name__)

__all__ = ["request", "serve", "server_status", "socket_path", "stop_server"]

#: Protocol version of the messages below (bumped on incompatible changes).
PROTOCOL = 1
#: Default seconds without a build after which the server exits.
IDLE_TIMEOUT_S = 3600.0
_MAX_MESSAGE = 4 << 20


def _runtime_dir() -> Path:
    """Private folder for the sockets (created 0700; refused if someone else owns it)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = (Path(base) / "cwsgeo" if base and Path(base).is_dir()
              else Path(tempfile.gettempdir()) / f"cwsgeo-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise CwsgeoError(f"unsafe build-server folder {folder}: it must be a directory owned "
                          "by you with mode 0700")
    return folder


def socket_path(cache_dir: str | os.PathLike[str]) -> Path:
    """Return the socket of the build server of the project whose cache is ``cache_dir``.

    The path is short (Unix sockets allow about 100 bytes) and depends only on the resolved
    cache folder, so every ``cwsgeo build`` of a project finds the same server.
    """
    key = hashlib.sha256(str(Path(cache_dir).resolve()).encode()).hexdigest()[:20]
    return _runtime_dir() / f"{key}.sock"


def _identity() -> dict[str, str]:
    """Return what client and server must share: the code and the interpreter."""
    from ._cache import code_fingerprint

    return {"code": code_fingerprint(), "python": sys.executable,
            "version": sys.version}


# ---------------------------------------------------------------------------------------
# Messages: one JSON object per line
# ---------------------------------------------------------------------------------------
def _send(conn: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = (json.dumps(message) + "\n").encode()
    if fds:
        socket.send_fds(conn, [data], list(fds))
    else:
        conn.sendall(data)


class _Reader:
    """Reads newline-terminated JSON messages (and passed descriptors) from a socket."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""
        self.fds: list[int] = []

    def read(self) -> dict[str, Any] | None:
        """Return the next message, or ``None`` when the peer closed the connection."""
        while b"\n" not in self.buffer:
            data, fds, _flags, _addr = socket.recv_fds(self.conn, 65536, 8)
            self.fds.extend(fds)
            if not data:
                return None
            self.buffer += data
            if len(self.buffer) > _MAX_MESSAGE:
                raise CwsgeoError("build server: message too long")
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            raise CwsgeoError("build server: malformed message") from None
        if not isinstance(value, dict):
            raise CwsgeoError("build server: malformed message")
        return value


# ---------------------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------------------
def _connect(path: Path, timeout: float | None = 2.0) -> socket.socket | None:
    if not hasattr(socket, "AF_UNIX") or not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        conn.close()
        with contextlib.suppress(OSError):  # nobody listens: a server that died
            path.unlink()
        return None
    except OSError:
        conn.close()
        return None
    conn.settimeout(None)
    return conn


def request(cache_dir: str | os.PathLike[str], argv: Sequence[str]) -> int | None:
    """Run a command line in the project's build server, if one is running.

    The server's build writes to this process's terminal (its descriptors are passed along);
    Ctrl-C interrupts it.

    Parameters
    ----------
    cache_dir
        The project's cache folder (identifies the server).
    argv
        The command line (without the program name), e.g. ``["build", "--quiet"]``.

    Returns
    -------
    int or None
        The build's exit code; ``None`` when no usable server runs (none, or one running
        other code), and the caller should build locally.
    """
    if os.name != "posix":
        return None
    try:
        conn = _connect(socket_path(cache_dir))
    except CwsgeoError:
        return None
    if conn is None:
        return None
    with conn:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            _send(conn, {"protocol": PROTOCOL, "op": "run", "argv": list(argv),
                         "cwd": str(Path.cwd()), "env": dict(os.environ), **_identity()},
                  fds=[0, 1, 2])
        except OSError:
            return None
        reader = _Reader(conn)
        started = False
        while True:
            try:
                message = reader.read()
            except KeyboardInterrupt:
                if not started:  # still queued behind another build: give up at once
                    print("cwsgeo: interrupted before the build started", file=sys.stderr)
                    return 130
                with contextlib.suppress(OSError):  # interrupt the build like a local Ctrl-C
                    conn.sendall(b"cancel\n")
                continue
            except Exception:  # a broken answer is a server gone away
                message = None
            if message is None:
                if not started:  # the server went away before starting: build locally
                    return None
                print("cwsgeo: the build server stopped during the build; previous outputs "
                      "are kept. Run the build again.", file=sys.stderr)
                return 70
            if "stale" in message:
                logger.info("build server not used: %s", message["stale"])
                return None
            if "started" in message:
                started = True
            if "exit" in message:
                if message.get("error"):
                    print(f"cwsgeo: the build server could not run the build: "
                          f"{message['error']}", file=sys.stderr)
                return int(message["exit"])


def _ask(cache_dir: str | os.PathLike[str], op: str) -> dict[str, Any] | None:
    conn = _connect(socket_path(cache_dir))
    if conn is None:
        return None
    with conn:
        _send(conn, {"protocol": PROTOCOL, "op": op})
        try:
            return _Reader(conn).read()
        except (OSError, ValueError, CwsgeoError):
            return None


def server_status(cache_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the running server's status (pid, start time, builds served) or ``None``."""
    return _ask(cache_dir, "status")


def stop_server(cache_dir: str | os.PathLike[str]) -> bool:
    """Ask the project's build server to exit; return whether one was running."""
    return _ask(cache_dir, "stop") is not None


# ---------------------------------------------------------------------------------------
# Server side
# ---------------------------------------------------------------------------------------
def warm_up(cfg: Config | None = None) -> float:
    """Prepare the process for fast builds; return the seconds taken.

    Imports everything a build uses (the point of the server) and, given the project's
    config, rehearses a build into a temporary folder (deleted afterwards; the project's
    outputs are not touched) so the first real build finds the stage results, the network,
    snapped layers, class breaks, the innovation page's display data and the gazetteer
    already in memory (what forked writers compute stays in their process). A failing
    rehearsal (bad inventory, missing data, a build running) is only logged: the real build
    will report it.
    """
    import importlib

    start = time.perf_counter()
    for name in ("cwsgeo.pipeline", "cwsgeo.inventory", "cwsgeo.geocoding", "cwsgeo.admin",
                 "cwsgeo.layers", "cwsgeo.network", "cwsgeo.proximity", "cwsgeo.density",
                 "cwsgeo.figures", "cwsgeo.maps", "cwsgeo.changes", "cwsgeo.sources",
                 "scipy.sparse.csgraph", "folium", "branca", "matplotlib.figure",
                 "matplotlib.font_manager", "matplotlib.backends.backend_agg", "rasterio",
                 "rasterio.features", "pyogrio", "contourpy", "h3", "rapidfuzz", "tqdm",
                 "tqdm.auto", "tqdm.contrib.logging"):
        try:
            importlib.import_module(name)
        except ImportError:  # optional dependency missing: the build will say so
            logger.debug("warm-up: %s not importable", name)
    if cfg is not None:
        from ._cache import OutputLedger, StageCache
        from .geocoding import Geocoder
        from .pipeline import build

        scratch = Path(tempfile.mkdtemp(prefix="cwsgeo-warm-"))
        try:
            build(cfg, out=scratch)
            index = StageCache(cfg.cache_dir, read_only=True)
            with Geocoder.from_config(cfg, index_cache=index) as geocoder:
                if geocoder.offline is not None:
                    geocoder.offline.load()
        except Exception as exc:
            logger.info("warm-up build skipped: %s", exc)
        finally:
            import shutil

            from ._cache import project_lock

            shutil.rmtree(scratch, ignore_errors=True)
            prefix = str(scratch.resolve())
            with contextlib.suppress(CwsgeoError, OSError), project_lock(cfg.cache_dir):
                ledger = OutputLedger(cfg.cache_dir / "outputs.json")  # forget the scratch
                if any(k.startswith(prefix) for k in ledger.entries):
                    ledger.entries = {k: v for k, v in ledger.entries.items()
                                      if not k.startswith(prefix)}
                    ledger.save()
    return time.perf_counter() - start


def _peer_uid(conn: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return os.getuid()  # pragma: no cover - BSD/macOS: the 0700 folder guards the socket
    import struct

    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def _valid_request(message: dict[str, Any]) -> str | None:
    """Return why a run request cannot be served, or ``None`` when it is well formed."""
    argv, cwd, env = message.get("argv"), message.get("cwd"), message.get("env")
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        return "argv must be a list of strings"
    if not isinstance(cwd, str) or not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        return "cwd must be a string and env a mapping of strings"
    from .cli import _parser

    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):  # noqa: PTH123
            args = _parser().parse_args(argv)
    except SystemExit:
        return "not a valid command line"
    if args.command != "build":
        return "the build server runs `cwsgeo build` only"
    return None


@contextlib.contextmanager
def _as_client(message: dict[str, Any], fds: list[int]) -> Iterator[None]:
    """Take on the client's terminal, folder, environment and logging for one build.

    Everything is restored afterwards, each part on its own, whatever happened.
    """
    saved_fds: list[int] = []
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_env = dict(os.environ)
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    saved_cwd = os.open(".", os.O_RDONLY)  # the server's own folder, even if renamed
    try:
        saved_fds = [os.dup(i) for i in range(3)]
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", buffering=1,  # noqa: SIM115
                          closefd=False)
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update(message["env"])
        os.environ["CWSGEO_NO_SERVER"] = "1"  # never hand the build back to this server
        root.handlers.clear()  # the command line sets up logging for its own verbosity
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        for target, fd in enumerate(saved_fds):
            with contextlib.suppress(OSError):
                os.dup2(fd, target)
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.fchdir(saved_cwd)
        with contextlib.suppress(OSError):
            os.close(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:], level = saved_logging
        root.setLevel(level)


class _Cancel:
    """Interrupts the running build (as a Ctrl-C would), and only while one runs.

    The client asks by sending ``cancel`` or by going away. The request reaches the main
    thread as a simulated SIGUSR1 whose handler raises :class:`KeyboardInterrupt` only while
    :attr:`active` is set, so a late request is ignored. (No lock: a signal handler taking a
    lock the main thread holds would deadlock; reading and writing one attribute is atomic.)
    The server's own SIGINT (Ctrl-C in its terminal) still means "stop serving".
    """

    def __init__(self) -> None:
        self.active = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.active:
            self.active = False
            raise KeyboardInterrupt

    def watch(self, conn: socket.socket, done: threading.Event) -> None:
        while not done.is_set():
            ready, _, _ = select.select([conn], [], [], 0.1)
            if not ready or done.is_set():
                continue
            with contextlib.suppress(OSError):
                conn.recv(64)
            # "cancel", or the client went away (end of file): interrupt, stop watching
            if self.active:
                _thread.interrupt_main(signal.SIGUSR1)
            return


def _run(message: dict[str, Any], fds: list[int], conn: socket.socket
         ) -> tuple[int, str | None]:
    """Run the client's command line in this process; return its exit code and any error.

    Nothing a build does can stop the server: an error taking on the client's folder or
    terminal (a deleted working folder, say) or a bug in the build is returned for the
    client to print.
    """
    from .cli import main

    cancel = _Cancel()
    done = threading.Event()
    watcher = threading.Thread(target=cancel.watch, args=(conn, done), daemon=True)
    previous = signal.signal(signal.SIGUSR1, cancel.handler)
    try:
        with _as_client(message, fds):
            cancel.active = True
            watcher.start()
            try:
                return main(list(message["argv"])), None
            except SystemExit as exc:  # argparse errors
                return (exc.code if isinstance(exc.code, int) else 2), None
            finally:
                cancel.active = False
    except KeyboardInterrupt:  # arrived outside the command's own handler
        return 130, None
    except Exception as exc:  # reported to the client; the server goes on
        logger.warning("build request failed: %s", exc)
        return 70, f"{type(exc).__name__}: {exc}"
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()
        signal.signal(signal.SIGUSR1, previous)


def _client_gone(conn: socket.socket) -> bool:
    """Return whether the client closed its end (it was interrupted while queued)."""
    ready, _, _ = select.select([conn], [], [], 0)
    if not ready:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) in (b"", b"c")
    except OSError:
        return True


def _reply(conn: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        _send(conn, message)


def _serve_one(conn: socket.socket, identity: dict[str, str], state: dict[str, Any]) -> bool:
    """Handle one connection; return False when the server should stop."""
    reader = _Reader(conn)
    try:
        try:
            message = reader.read()
        except (OSError, CwsgeoError):
            return True
        if message is None:
            return True
        if message.get("protocol") != PROTOCOL:
            _reply(conn, {"stale": "protocol version differs"})
            return True
        op = message.get("op")
        if op == "status":
            _reply(conn, {"pid": os.getpid(), "started": state["started"],
                          "builds": state["builds"], "project": state["project"]})
            return True
        if op == "stop":
            _reply(conn, {"stopping": True})
            return False
        if op != "run":
            return True
        if not all(isinstance(message.get(k), str) for k in identity):
            _reply(conn, {"stale": "the request does not say which cwsgeo code sent it"})
            return True
        differs = [k for k in identity if message[k] != identity[k]]
        if differs:  # a client of edited code: this server is outdated for good
            _reply(conn, {"stale": f"the server runs other cwsgeo code ({', '.join(differs)})"
                                   "; it exits"})
            logger.info("client with other %s: stopping", ", ".join(differs))
            return False
        problem = "no terminal descriptors received" if len(reader.fds) < 3 else \
            _valid_request(message)
        if problem:
            _reply(conn, {"stale": problem})
            return True
        if _client_gone(conn):  # interrupted while it waited for an earlier build
            return True
        state["builds"] += 1
        _reply(conn, {"started": True, "pid": os.getpid()})
        code, error = _run(message, reader.fds, conn)
        _reply(conn, {"exit": code, **({"error": error} if error else {})})
        return True
    finally:
        for fd in reader.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def serve(cache_dir: str | os.PathLike[str], *, project: str = "",
          idle_timeout_s: float = IDLE_TIMEOUT_S, ready: Any = None,
          config: Config | None = None) -> int:
    """Serve builds for one project until stopped, idle, or outdated by a code change.

    Parameters
    ----------
    cache_dir
        The project's cache folder (identifies the server; see :func:`socket_path`).
    project
        Shown by ``cwsgeo serve --status``.
    idle_timeout_s
        Exit after this many seconds without a request.
    ready
        Called with the socket path once the server accepts builds (for the CLI's message).
    config
        The project's config, for the warm-up dry build (:func:`warm_up`).

    Returns
    -------
    int
        Builds served.

    Raises
    ------
    cwsgeo.CwsgeoError
        Not a POSIX system, or a server already runs for this project.
    """
    if os.name != "posix" or not hasattr(os, "fork"):
        raise CwsgeoError("the build server needs a POSIX system (fork and Unix sockets)")
    path = socket_path(cache_dir)
    existing = _connect(path)
    if existing is not None:
        existing.close()
        raise CwsgeoError(f"a build server already runs for this project ({path}); stop it "
                          "with `cwsgeo serve --stop`")
    took = warm_up(config)
    identity = _identity()
    logger.info("build server warmed up in %.2f s", took)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    listener.bind(str(tmp))
    tmp.chmod(0o600)
    listener.listen(8)
    tmp.replace(path)  # appears only once it accepts connections
    state = {"started": time.time(), "builds": 0, "project": project}
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    if ready is not None:
        ready(path)
    last = time.monotonic()
    try:
        while not stopping and time.monotonic() - last < idle_timeout_s:
            try:
                ready_fds, _, _ = select.select([listener], [], [], 0.5)
            except InterruptedError:  # pragma: no cover - retried by Python (PEP 475)
                continue
            if not ready_fds:
                continue
            conn, _ = listener.accept()
            with conn:
                if _peer_uid(conn) != os.getuid():
                    continue
                try:
                    if not _serve_one(conn, identity, state):
                        break
                except KeyboardInterrupt:  # a cancel that arrived as the build ended
                    logger.info("build server: late cancel ignored")
                except Exception:  # a bug here must not end the session: log it, go on
                    logger.exception("build server: request failed")
            last = time.monotonic()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        listener.close()
        # remove the socket unless another server has taken the path since (then it answers)
        other = _connect(path, timeout=0.5)
        if other is not None:
            other.close()
    return int(state["builds"])
