"""Benchmark: cold `cwsgeo build`, then a one-row edit rebuilt by `cwsgeo build` and by the preview.

Run:  .venv/bin/python benchmarks/incremental.py [--mirror PATH] [--repeat 3] [--no-browser]

A fresh project (empty data/raw, empty cache) is built from scratch ("cold": fetch, geocoding,
network, residents, surface, metrics, densities, figures, maps) as a separate ``cwsgeo build``
process, ``--repeat`` times (the cache emptied before each). Then one row of a copy of the
bundle's inventory is edited, for three kinds of edit:

* move: the address of one space changes (it is geocoded and its metrics are recomputed);
* retype: one space's innovation type changes;
* rename: one space's name changes.

Each edit is measured twice, as a user meets it:

1. ``cwsgeo build`` in a new process (wall time of the command; goal <= 2.5 s);
2. ``cwsgeo watch --serve`` running, the map open in headless Chromium: time from saving the
   edited file to the reloaded map drawn (``data-cws-ready`` on the new page; goal <= 1.5 s).

The two series move the space to different addresses, so neither finds the other's geocoding
or metrics in the cache. Printed: each median, its ratio to the cold build and the goal.
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
GOAL_BUILD_S = 2.5
GOAL_PREVIEW_S = 1.5
#: Real addresses (each an exact gazetteer match), one list per series.
MOVES = {"build": ["Carrer de Mallorca 401", "Carrer del Consell de Cent 350",
                   "Carrer de Pujades 100", "Carrer de Provença 250", "Carrer de Balmes 150"],
         "preview": ["Carrer de Sicília 200", "Carrer de Girona 50", "Carrer d'Aragó 300",
                     "Carrer de Muntaner 200", "Via Augusta 50"]}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]


def cli(project: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cwsgeo", "--quiet", "--config",
                    str(project / "cwsgeo.toml"), *args], check=True,
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


def cold_builds(tmp: Path, original: Path, repeat: int) -> list[float]:
    times = []
    for i in range(repeat):
        for folder in ("data/raw", "data/cache", "data/processed", "maps"):
            shutil.rmtree(tmp / folder, ignore_errors=True)
        edit(original, tmp / "spaces.csv", "rename", "cold", i)
        times.append(cli(tmp, "build"))
        print(f"cold build {i + 1} (empty data/raw and cache, new process): {times[-1]:6.2f} s",
              flush=True)
    return times


def preview_edits(tmp: Path, original: Path, repeat: int) -> dict[str, list[float]]:
    """Edit-to-map times with `cwsgeo watch --serve` and the map open in Chromium."""
    from playwright.sync_api import sync_playwright

    watcher = subprocess.Popen([sys.executable, "-m", "cwsgeo", "--quiet", "--config",
                                str(tmp / "cwsgeo.toml"), "watch", "--serve", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    results: dict[str, list[float]] = {}
    try:
        assert watcher.stdout is not None
        url = ""
        while not url:
            line = watcher.stdout.readline()
            if not line:
                raise SystemExit("cwsgeo watch --serve ended")
            if line.startswith("live preview: "):
                url = line.split()[2]
        while "watching" not in watcher.stdout.readline():
            pass
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url + "innovation_types.html")
            page.wait_for_selector("html[data-cws-ready]")
            for kind in ("move", "retype", "rename"):
                for i in range(repeat):
                    page.evaluate("window.cwsOld = true")
                    start = time.perf_counter()
                    edit(original, tmp / "spaces.csv", kind, "preview", i + 1)
                    page.wait_for_function("!window.cwsOld && document.documentElement"
                                           ".hasAttribute('data-cws-ready')", timeout=120_000,
                                           polling=20)
                    results.setdefault(f"{kind}: save -> map redrawn (watch --serve)",
                                       []).append(time.perf_counter() - start)
                    time.sleep(1.0)  # let the watcher settle before the next save
            browser.close()
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=60)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=Path(os.environ.get(
        "CWSGEO_MIRROR", ROOT.parent / "shared" / "data" / "bcn")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-browser", action="store_true", help="skip the live-preview series")
    args = ap.parse_args()
    mirror = args.mirror.resolve()
    tmp = Path(tempfile.mkdtemp(prefix="cwsgeo-bench-"))
    try:
        (tmp / "cwsgeo.toml").write_text(
            f'[data]\nmirror = "{mirror.as_posix()}"\n\n[inventory]\npath = "spaces.csv"\n'
            'ignore_columns = ["lat", "lon"]\n', encoding="utf-8")
        original = tmp / "original.csv"
        shutil.copyfile(mirror / "coworking" / "coworking_spaces.csv", original)
        cold = statistics.median(cold_builds(tmp, original, args.repeat))
        results: dict[str, list[float]] = {}
        for kind in ("move", "retype", "rename"):
            for i in range(args.repeat):
                edit(original, tmp / "spaces.csv", kind, "build", i + 1)
                results.setdefault(f"{kind}: cwsgeo build (new process)", []).append(
                    cli(tmp, "build"))
        if not args.no_browser:
            results.update(preview_edits(tmp, original, args.repeat))
        print(f"\n{'one-row edit':44s} {'runs s':>20s} {'median':>7s} {'/cold':>6s}  goal")
        for name, times in results.items():
            med = statistics.median(times)
            goal = GOAL_PREVIEW_S if "watch" in name else GOAL_BUILD_S
            runs = " ".join(f"{t:.2f}" for t in times)
            print(f"{name:44s} {runs:>20s} {med:7.2f} {med / cold:6.1%}  <= {goal} s "
                  f"{'met' if med <= goal else 'NOT met'}")
        print(f"{'cold build (median)':44s} {'':>20s} {cold:7.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
