"""Benchmark: ``cwsgeo batch`` of N copies of a small city with 1 and 2 workers.

Usage::

    .venv/bin/python benchmarks/batch.py [--mirror ../shared/data/bcn] [--copies 4]
        [--workers 1,2] [--bundle] [--keep DIR]

Each copy is a separate project on the Barcelona mirror with a three-row inventory and no
findings (a "small city": the whole city's network, places and population, few spaces), built
cold: no data/raw, no stage cache, so every city pays its fetch (a copy from the mirror) and
its whole build. For each worker count the batch runs on a fresh ``LocalCluster`` (processes,
one thread each) and fresh copies; the script prints the batch wall time (cluster start
included), each city's fetch and build seconds and peak memory (from the comparison table),
and the speed-up of 2 workers over 1. ``--bundle`` adds one more run: the bundle's whole list
(289 rows) with the findings on, alone on one worker: the large-city cost. Numbers only, no
timed assertions; state the load (printed) next to them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SPACES = ('id,name,address,innovation_type\na,Espai A,"Carrer de Bailèn, 105",1\n'
          "b,Espai B,Passeig de Gràcia 17,2\nc,Espai C,Carrer del Bruc 149,\n")


def make_projects(folder: Path, mirror: Path, copies: int, bundle: bool) -> Path:
    """Write ``copies`` small projects (or one bundle project) and their cities.toml."""
    entries = []
    for k in range(copies):
        slug = "bundle" if bundle else f"city{k:02d}"
        project = folder / slug
        project.mkdir(parents=True)
        inventory = "" if bundle else 'path = "spaces.csv"\n'  # bundle: the seeded list
        statistics = "" if bundle else "[statistics]\nenabled = false\n"
        (project / "cwsgeo.toml").write_text(
            f'[data]\nmirror = "{mirror.as_posix()}"\nraw = "raw"\ncache = "cache"\n'
            f"[inventory]\n{inventory}{statistics}", encoding="utf-8")
        (project / "spaces.csv").write_text(SPACES, encoding="utf-8")
        entries.append(f'[[city]]\nslug = "{slug}"\nproject = "{slug}"\n')
    path = folder / "cities.toml"
    path.write_text('[batch]\nout = "cities"\nretries = 0\n\n' + "\n".join(entries),
                    encoding="utf-8")
    return path


def run(folder: Path, mirror: Path, copies: int, workers: int, bundle: bool = False
        ) -> tuple[float, pd.DataFrame]:
    from cwsgeo.build.batch import Batch, run_batch

    path = make_projects(folder, mirror, copies, bundle)
    start = time.perf_counter()
    result = run_batch(Batch.load(path), workers=workers)
    wall = time.perf_counter() - start
    if result.failed:
        sys.exit(f"cities failed: {result.failed}")
    return wall, pd.DataFrame(result.table.drop(columns="geometry"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", type=Path, default=ROOT.parent / "shared" / "data" / "bcn")
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--bundle", action="store_true",
                    help="also build the bundle's whole list with findings (large city)")
    ap.add_argument("--keep", type=Path, help="keep the projects in this folder")
    args = ap.parse_args()
    import logging

    import distributed  # its import sets its loggers' level; quieter after

    logging.getLogger(distributed.__name__).setLevel(logging.WARNING)
    base = args.keep or Path(tempfile.mkdtemp(prefix="cwsgeo-batch-"))
    print(f"load before: {os.getloadavg()[0]:.2f} (cores: {len(os.sched_getaffinity(0))})")
    walls: dict[int, float] = {}
    try:
        for n in (int(w) for w in args.workers.split(",")):
            wall, table = run(base / f"w{n}", args.mirror.resolve(), args.copies, n)
            walls[n] = wall
            print(f"\n{args.copies} small cities on {n} worker(s): {wall:.1f} s wall "
                  f"({wall / args.copies:.1f} s per city), load {os.getloadavg()[0]:.2f}")
            print(table[["slug", "fetch_s", "build_s", "peak_mib"]].round(1)
                  .to_string(index=False))
        if 1 in walls and 2 in walls:
            print(f"\nspeed-up with 2 workers: {walls[1] / walls[2]:.2f}x")
        if args.bundle:
            wall, table = run(base / "bundle", args.mirror.resolve(), 1, 1, bundle=True)
            row = table.iloc[0]
            print(f"\nbundle (289 rows, findings on), 1 worker: {wall:.1f} s wall, fetch "
                  f"{row['fetch_s']:.1f} s, build {row['build_s']:.1f} s, peak "
                  f"{row['peak_mib']:,.0f} MiB, load {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
