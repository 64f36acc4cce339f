"""Benchmark: a cold build of a 28,900-row inventory (the bundle's list ×100), time and memory.

Usage::

    .venv/bin/python benchmarks/big_inventory.py [--mirror ../shared/data/bcn] [--copies 100]
        [--keep DIR] [--seed 13]

The inventory is made from the bundle's coworking list (289 rows): copy 0 is the list as it
is; copies 1…99 keep each row's name (with `` #k``), website and source, get a unique id
(``<id>-k``) and a real address drawn at random (seeded) from the bundle's address gazetteer,
so the copies spread over the city's built fabric like the addresses do. Listing texts still
join through ``source_id``. The Google Places coordinates of the list are dropped as in any
build.

It then runs ``cwsgeo build`` cold (no stage cache) into a temporary folder in a child process
and prints the wall time, the child's peak RSS, the size of each map and the slowest stages
(from the build's ``-v`` log). Numbers only, no timed assertions.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def make_big_inventory(mirror: Path, path: Path, copies: int = 100, seed: int = 13) -> int:
    """Write the ``copies``-fold inventory to ``path`` (CSV); return its number of rows."""
    base = pd.read_csv(mirror / "coworking" / "coworking_spaces.csv", dtype=str,
                       keep_default_na=False)
    addr = pd.read_csv(mirror / "addresses" / "bcn_addresses.csv", dtype=str,
                       usecols=["full_street", "number", "postcode"], keep_default_na=False)
    rng = np.random.default_rng(seed)
    frames = [base]
    for k in range(1, copies):
        pick = addr.iloc[rng.integers(0, len(addr), len(base))]
        copy = base.copy()
        copy["id"] = base["id"] + f"-{k}"
        copy["name"] = base["name"] + f" #{k}"
        copy["address"] = (pick["full_street"] + ", " + pick["number"]).to_numpy()
        copy["postcode"] = pick["postcode"].to_numpy()
        copy["lat"] = ""
        copy["lon"] = ""
        frames.append(copy)
    big = pd.concat(frames, ignore_index=True)
    big.to_csv(path, index=False)
    return len(big)


def time_report_and_snapshot(out: Path, inventory: Path, repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` seconds of the inventory report and the change snapshot.

    Made from the build's own outputs (``coworking_spaces.gpkg``, ``build_state.json``), in
    this process: the report with every row's account (and its CSV table), the snapshot of
    the spaces compared with the build's state (every space in common: the slowest case).
    """
    import geopandas as gpd

    from cwsgeo._io import read_json
    from cwsgeo.analysis.inventory import read_inventory
    from cwsgeo.build.changes import compare, snapshot
    from cwsgeo.outputs.report import inventory_accounts, inventory_report

    processed = out / "data" / "processed"
    spaces = gpd.read_file(processed / "coworking_spaces.gpkg", layer="coworking_spaces",
                           engine="pyogrio")
    inv = read_inventory(inventory)
    groups = pd.read_csv(processed / "inventory_duplicates.csv")
    state = read_json(processed / "build_state.json")
    best = {"inventory report": np.inf, "change snapshot": np.inf}
    for _ in range(repeat):
        start = time.perf_counter()
        inventory_report(inv, spaces, duplicates=groups, location=[],
                         accounts=inventory_accounts(spaces))
        mid = time.perf_counter()
        compare(state, snapshot(spaces))
        end = time.perf_counter()
        best["inventory report"] = min(best["inventory report"], mid - start)
        best["change snapshot"] = min(best["change snapshot"], end - mid)
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", type=Path, default=ROOT.parent / "shared" / "data" / "bcn")
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--keep", type=Path, help="build into this folder and keep it")
    ap.add_argument("--no-statistics", action="store_true",
                    help="build without the findings (to time the rest alone)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        inv = work / "big_inventory.csv"
        n = make_big_inventory(args.mirror, inv, args.copies, args.seed)
        out = work / "out"
        cmd = [sys.executable, "-m", "cwsgeo", "build", "--inventory", str(inv),
               "--out", str(out), "--no-cache", "-v"]
        if args.no_statistics:
            cmd.append("--no-statistics")
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        (work / "build.log").write_text(proc.stderr)
        if proc.returncode not in (0, 3):
            sys.exit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        print(f"{n:,}-row inventory: cold build {wall:.1f} s, peak RSS {peak:,.0f} MiB "
              f"(exit {proc.returncode})")
        for page in sorted((out / "maps").glob("*.html")):
            print(f"  {page.name}: {page.stat().st_size / 1e6:.2f} MB")
        stages = {m.group(1): float(m.group(2)) for m in
                  re.finditer(r"stage (\S+): ([0-9.]+) s", proc.stderr)}
        slow = sorted(stages.items(), key=lambda kv: -kv[1])[:12]
        print("  slowest stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in slow))
        best = time_report_and_snapshot(out, inv)
        for stage, what in (("inventory_report", "inventory report"),
                            ("change_snapshot", "change snapshot")):
            print(f"  {what}: {best[what]:.2f} s at {n:,} rows, best of 3 here "
                  f"({stages.get(stage, float('nan')):.2f} s in the build; target 0.5 s: "
                  f"{'met' if best[what] <= 0.5 else 'NOT met'})")
        print(f"  load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
