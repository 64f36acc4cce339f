"""Benchmark: a cold `cwsgeo build` versus rebuilds after a one-row edit of the inventory.

Run:  .venv/bin/python benchmarks/incremental.py [--mirror PATH] [--repeat 3]

A fresh project (empty data/raw, empty cache) is built once from scratch ("cold": fetch,
geocoding, network, residents, surface, metrics, densities, maps). Then one row of a copy of
the bundle's inventory is edited and the build re-run, for three kinds of edit:

* move: the address of one space changes (it moves; its metrics are recomputed);
* retype: one space's innovation type changes;
* rename: one space's name changes.

Each rebuild is timed as a separate ``cwsgeo build`` process (what a user runs) and, for
comparison, in one long-lived process (what ``cwsgeo watch`` does: imports paid once). The
script prints the times and their ratio to the cold build (target: ≤ 10 %).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(project: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cwsgeo", "--quiet", "--config",
                    str(project / "cwsgeo.toml"), "build", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def edit(src: Path, dst: Path, kind: str, step: int) -> None:
    rows = list(csv.DictReader(src.open(encoding="utf-8")))
    target = next(r for r in rows if r["id"] == "bcn-cw-0039")  # Betahaus, Vilafranca 7
    if kind == "move":
        target["address"] = ["Carrer de Vilafranca, 7", "Carrer de Sicília 200",
                             "Carrer de Girona 50", "Carrer d'Aragó 300"][step % 4]
    elif kind == "retype":
        target["innovation_type"] = str(1 + step % 3)
    else:
        target["name"] = f"Betahaus Barcelona ({step})"
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
    try:
        (tmp / "cwsgeo.toml").write_text(
            f'[data]\nmirror = "{mirror.as_posix()}"\n\n[inventory]\npath = "spaces.csv"\n'
            'ignore_columns = ["lat", "lon"]\n', encoding="utf-8")
        original = tmp / "original.csv"
        shutil.copyfile(mirror / "coworking" / "coworking_spaces.csv", original)
        inventory = tmp / "spaces.csv"
        edit(original, inventory, "rename", 0)

        cold = cli(tmp)
        print(f"cold build (empty data/raw and cache, separate process): {cold:6.2f} s")
        results: dict[str, list[float]] = {}
        for kind in ("move", "retype", "rename"):
            for i in range(args.repeat):
                edit(original, inventory, kind, i + 1)
                results.setdefault(f"{kind} (cwsgeo build)", []).append(cli(tmp))

        # the same edits in one long-lived process (cwsgeo watch)
        sys.path.insert(0, str(ROOT))
        from cwsgeo.config import Config
        from cwsgeo.pipeline import build

        cfg = Config.load(tmp / "cwsgeo.toml")
        build(cfg)  # warm the process
        for kind in ("move", "retype", "rename"):
            for i in range(args.repeat):
                edit(original, inventory, kind, i + 10)
                start = time.perf_counter()
                build(cfg)
                results.setdefault(f"{kind} (in-process, as cwsgeo watch)", []).append(
                    time.perf_counter() - start)

        print(f"\n{'one-row edit':42s} {'median s':>9s} {'ratio':>7s}  (target <= 10 %)")
        for name, times in results.items():
            med = statistics.median(times)
            print(f"{name:42s} {med:9.2f} {med / cold:7.1%}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
