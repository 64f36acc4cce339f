"""Benchmark: a cold `cwsgeo build` versus `cwsgeo build` after a one-row edit of the inventory.

Run:  .venv/bin/python benchmarks/incremental.py [--mirror PATH] [--repeat 3]

A fresh project (empty data/raw, empty cache) is built once from scratch ("cold": fetch,
geocoding, network, residents, surface, metrics, densities, figures, maps), as a separate
``cwsgeo build`` process. Then one row of a copy of the bundle's inventory is edited and
``cwsgeo build`` run again, for three kinds of edit:

* move: the address of one space changes (it is geocoded and its metrics are recomputed);
* retype: one space's innovation type changes;
* rename: one space's name changes.

Each edit is timed twice, as the user runs it (wall time of the ``cwsgeo build`` command):

1. ``cwsgeo build`` while ``cwsgeo serve`` runs for the project (the build server keeps
   Python, the imports and content-keyed data warm; the target row, ≤ 10 % of cold);
2. ``cwsgeo build --no-server``: a new Python process that imports everything again.

The two series move the space to different addresses, so neither finds the other's
geocoding or metrics in the cache. Printed: each median and its ratio to the cold build.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.10
#: Real addresses (each an exact gazetteer match), one list per series.
MOVES = {"server": ["Carrer de Mallorca 401", "Carrer del Consell de Cent 350",
                    "Carrer de Pujades 100", "Carrer de Provença 250", "Carrer de Balmes 150"],
         "no-server": ["Carrer de Sicília 200", "Carrer de Girona 50", "Carrer d'Aragó 300",
                       "Carrer de Muntaner 200", "Via Augusta 50"]}


def cli(project: Path, env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cwsgeo", "--quiet", "--config",
                    str(project / "cwsgeo.toml"), *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def edit(src: Path, dst: Path, kind: str, series: str, step: int) -> None:
    rows = list(csv.DictReader(src.open(encoding="utf-8")))
    target = next(r for r in rows if r["id"] == "bcn-cw-0039")  # Betahaus, Vilafranca 7
    if kind == "move":
        target["address"] = MOVES[series][step % len(MOVES[series])]
    elif kind == "retype":
        target["innovation_type"] = str(1 + step % 3)
    else:
        target["name"] = f"Betahaus Barcelona ({series} {step})"
    fields = list(rows[0].keys()) + (["innovation_type"] if "innovation_type" not in rows[0]
                                      else [])
    with dst.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(fields)))
        writer.writeheader()
        for r in rows:
            writer.writerow({**dict.fromkeys(fields, ""), **r})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=Path(os.environ.get(
        "CWSGEO_MIRROR", ROOT.parent / "shared" / "data" / "bcn")))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    mirror = args.mirror.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="cwsgeo-bench-"))
    runtime = tmp / "run"
    runtime.mkdir(mode=0o700)
    env = {**{k: v for k, v in os.environ.items() if k != "CWSGEO_NO_SERVER"},
           "XDG_RUNTIME_DIR": str(runtime)}
    server = None
    try:
        (tmp / "cwsgeo.toml").write_text(
            f'[data]\nmirror = "{mirror.as_posix()}"\n\n[inventory]\npath = "spaces.csv"\n'
            'ignore_columns = ["lat", "lon"]\n', encoding="utf-8")
        original = tmp / "original.csv"
        shutil.copyfile(mirror / "coworking" / "coworking_spaces.csv", original)
        inventory = tmp / "spaces.csv"
        edit(original, inventory, "rename", "cold", 0)

        cold = cli(tmp, env, "build", "--no-server")
        print(f"cold build (empty data/raw and cache, new process): {cold:6.2f} s")

        start = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "cwsgeo", "--config",
                                   str(tmp / "cwsgeo.toml"), "serve"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert server.stdout is not None
        if "ready" not in server.stdout.readline():
            raise SystemExit("cwsgeo serve did not start")
        print(f"cwsgeo serve ready after {time.perf_counter() - start:.2f} s (once per "
              "session: imports and a dry build)")

        results: dict[str, list[float]] = {}
        for series, extra in (("server", ()), ("no-server", ("--no-server",))):
            for kind in ("move", "retype", "rename"):
                for i in range(args.repeat):
                    edit(original, inventory, kind, series, i + 1)
                    label = (f"{kind}: cwsgeo build" + (" (cwsgeo serve running)"
                             if series == "server" else " --no-server (new process)"))
                    results.setdefault(label, []).append(cli(tmp, env, "build", *extra))

        print(f"\n{'one-row edit, wall time of the command':54s} {'median s':>9s} "
              f"{'ratio':>7s}  (target <= {TARGET:.0%})")
        for name, times in results.items():
            med = statistics.median(times)
            flag = ("  met" if med / cold <= TARGET else "  NOT met") if "serve" in name else ""
            print(f"{name:54s} {med:9.2f} {med / cold:7.1%}{flag}")
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
