"""The build server (`cwsgeo serve`): builds handed over by `cwsgeo build`, and its safety."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cwsgeo import CwsgeoError, server
from cwsgeo.config import Config
from cwsgeo.pipeline import build
from tests.test_incremental import write_inventory
from tests.test_pipeline import write_config

posix_only = pytest.mark.skipif(os.name != "posix", reason="Unix sockets and fd passing")


def _env(runtime: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CWSGEO_NO_SERVER"}
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


def cli(root: Path, runtime: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cwsgeo", "--config", str(root), *args],
                          capture_output=True, text=True, env=_env(runtime), timeout=600,
                          check=False)


@pytest.fixture(scope="module")
def project(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("served")
    write_config(root, bundle_dir)
    write_inventory(root / "spaces.csv")
    cfg = Config.load(root).with_inventory(root / "spaces.csv")
    build(cfg)  # cold build in this process; the server then serves rebuilds
    return cfg


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runtime")
    folder.chmod(0o700)
    return folder


@pytest.fixture(scope="module")
def serving(project: Config, runtime: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "cwsgeo", "--config", str(project.root),
                             "serve", "--idle-timeout", "600"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(runtime))
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed once the server accepts builds
    assert "ready" in line, line + (proc.stderr.read() if proc.poll() is not None else "")
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)  # also closes the pipes


def _builds_served(project: Config, runtime: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    status = server.server_status(project.cache_dir)
    assert status is not None
    return int(status["builds"])


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_build_is_served_with_the_same_outputs(project: Config, runtime: Path,
                                                serving: subprocess.Popen[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    before = _builds_served(project, runtime, monkeypatch)
    inv = project.inventory_path
    write_inventory(inv, b="b,Espai B,Carrer de Girona 50,3\n")
    try:
        out = cli(project.root, runtime, "--quiet", "build", "--inventory", str(inv))
    finally:
        write_inventory(inv)
    assert out.returncode == 0, out.stderr
    # the summary reached this process's stdout through the passed descriptor
    assert "changes since the previous build: 1 moved" in out.stdout
    assert _builds_served(project, runtime, monkeypatch) == before + 1
    changes = json.loads((project.processed_dir() / "changes.json").read_text())
    assert [c["id"] for c in changes["moved"]] == ["b"]
    assert [c["id"] for c in changes["retyped"]] == ["b"]
    page = (project.maps_dir() / "innovation_types.html").read_text(encoding="utf-8")
    assert "Espai B" in page and "data-cws-ready" in page
    status = cli(project.root, runtime, "serve", "--status")
    assert status.returncode == 0, status.stderr
    assert "build server" in status.stdout


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_served_errors_keep_their_exit_codes(project: Config, runtime: Path,
                                             serving: subprocess.Popen[str],
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = _builds_served(project, runtime, monkeypatch)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,lat,lon\na,A,41.39,2.17\na,B,91,2.17\n", encoding="utf-8")
    out = cli(project.root, runtime, "--quiet", "build", "--inventory", str(bad))
    assert out.returncode == 1
    assert "invalid inventory" in out.stderr and "bad.csv" in out.stderr
    assert "Traceback" not in out.stderr
    out = cli(project.root, runtime, "build", "--no-such-option")
    assert out.returncode == 2  # argparse, before any server is asked
    assert _builds_served(project, runtime, monkeypatch) == before + 1
    assert serving.poll() is None  # errors in a build never stop the server


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_no_server_builds_locally(project: Config, runtime: Path,
                                  serving: subprocess.Popen[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    before = _builds_served(project, runtime, monkeypatch)
    out = cli(project.root, runtime, "--quiet", "build", "--no-server", "--inventory",
              str(project.inventory_path))
    assert out.returncode == 0, out.stderr
    assert _builds_served(project, runtime, monkeypatch) == before


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_a_request_that_cannot_run_does_not_stop_the_server(
        project: Config, runtime: Path, serving: subprocess.Popen[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(server.socket_path(project.cache_dir)))
        server._send(conn, {"protocol": server.PROTOCOL, "op": "run", "argv": ["build"],
                            "cwd": str(tmp_path / "deleted"), "env": {},
                            **server._identity()}, fds=[0, 1, 2])
        reader = server._Reader(conn)
        assert "pid" in (reader.read() or {})
        answer = reader.read() or {}
    assert answer["exit"] == 70 and "FileNotFoundError" in answer["error"]
    assert serving.poll() is None
    assert server.server_status(project.cache_dir) is not None


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_ctrl_c_in_the_client_interrupts_the_served_build(
        project: Config, runtime: Path, serving: subprocess.Popen[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    # --no-cache: a build that surely runs longer than the wait below
    client = subprocess.Popen(
        [sys.executable, "-m", "cwsgeo", "--config", str(project.root), "--quiet", "build",
         "--no-cache", "--inventory", str(project.inventory_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(runtime),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(1.5)
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=120)
    assert client.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert serving.poll() is None  # the server goes on, and builds again
    out = cli(project.root, runtime, "--quiet", "build", "--inventory",
              str(project.inventory_path))
    assert out.returncode == 0, out.stderr


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_hostile_or_vanishing_clients_do_not_stop_the_server(
        project: Config, runtime: Path, serving: subprocess.Popen[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    path = str(server.socket_path(project.cache_dir))
    for payload in (b"[" * 200_000 + b"\n", b"\xff\xfe garbage\n",
                    b'{"protocol": 1, "op": "status"}\n',
                    b'{"protocol": 1, "op": "run", "argv": ["build"], "env": [1]}\n'):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(path)
            conn.sendall(payload)  # and hang up without reading the answer
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        server._send(conn, {"protocol": server.PROTOCOL, "op": "run",
                            "argv": ["serve", "--stop"], "cwd": "/", "env": {},
                            **server._identity()}, fds=[0, 1, 2])
        assert "cwsgeo build` only" in (server._Reader(conn).read() or {}).get("stale", "")
    assert serving.poll() is None
    assert server.server_status(project.cache_dir) is not None


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_other_code_is_not_served_and_the_server_exits(project: Config, runtime: Path,
                                                       serving: subprocess.Popen[str],
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    # runs last among the tests using the module's server: it stops it
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    real = server._identity()
    monkeypatch.setattr(server, "_identity", lambda: {**real, "code": "edited-since"})
    assert server.request(project.cache_dir, ["build"]) is None  # build locally instead
    assert serving.wait(timeout=60) == 0
    assert not server.socket_path(project.cache_dir).exists()


@posix_only
@pytest.mark.bundle
@pytest.mark.slow
def test_detach_status_stop(project: Config, runtime: Path) -> None:
    out = cli(project.root, runtime, "serve", "--detach")
    assert out.returncode == 0 and "ready" in out.stdout, out.stderr
    again = cli(project.root, runtime, "serve")
    assert again.returncode == 5 and "already runs" in again.stderr
    assert "0 build(s) served" in cli(project.root, runtime, "serve", "--status").stdout
    stopped = cli(project.root, runtime, "serve", "--stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert "no build server runs" in cli(project.root, runtime, "serve", "--status").stdout


@posix_only
def test_dead_server_socket_is_removed_and_ignored(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    cache = tmp_path / "cache"
    path = server.socket_path(cache)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens: a server killed by SIGKILL
    assert path.exists()
    assert server.request(cache, ["build"]) is None
    assert not path.exists()
    assert server.server_status(cache) is None


@posix_only
def test_socket_folder_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = tmp_path / "run"
    (runtime / "cwsgeo").mkdir(parents=True, mode=0o755)
    (runtime / "cwsgeo").chmod(0o755)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with pytest.raises(CwsgeoError, match="unsafe build-server folder"):
        server.socket_path(tmp_path)
    assert server.request(tmp_path, ["build"]) is None  # the client then builds locally


@posix_only
def test_socket_path_is_short_and_per_project(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    deep = tmp_path.joinpath(*["a-long-folder-name"] * 12)
    a, b = server.socket_path(deep / "cache"), server.socket_path(tmp_path / "cache")
    assert a != b and a.parent == b.parent
    assert len(str(a)) < len(str(tmp_path)) + 40


@posix_only
@pytest.mark.parametrize("how", ["cancel", "gone"])
def test_client_cancel_or_exit_interrupts_only_a_running_build(
        how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    monkeypatch.setattr(server._thread, "interrupt_main", lambda sig: sent.append(sig))
    for active in (True, False):
        ours, theirs = socket.socketpair()
        cancel = server._Cancel()
        cancel.active = active
        done = threading.Event()
        watcher = threading.Thread(target=cancel.watch, args=(ours, done), daemon=True)
        watcher.start()
        if how == "cancel":
            theirs.sendall(b"cancel\n")
        else:
            theirs.close()  # the client died
        watcher.join(timeout=10)
        assert not watcher.is_alive()
        done.set()
        ours.close()
        theirs.close()
    assert sent == [signal.SIGUSR1]  # only while a build was running
    cancel = server._Cancel()
    cancel.handler(signal.SIGUSR1, None)  # idle: ignored
    cancel.active = True
    with pytest.raises(KeyboardInterrupt):
        cancel.handler(signal.SIGUSR1, None)
    assert not cancel.active


@posix_only
@pytest.mark.parametrize(("message", "why"), [
    ({"argv": "build", "cwd": "/", "env": {}}, "argv must be a list"),
    ({"argv": ["build"], "cwd": "/", "env": [1]}, "env a mapping"),
    ({"argv": ["serve", "--stop"], "cwd": "/", "env": {}}, "`cwsgeo build` only"),
    ({"argv": ["watch"], "cwd": "/", "env": {}}, "`cwsgeo build` only"),
    ({"argv": ["build", "--bogus"], "cwd": "/", "env": {}}, "not a valid command line"),
])
def test_malformed_run_requests_are_refused(message: dict[str, object], why: str) -> None:
    assert why in (server._valid_request(message) or "")
    assert server._valid_request({"argv": ["-q", "build", "--dry-run"], "cwd": "/",
                                  "env": {"A": "b"}}) is None
