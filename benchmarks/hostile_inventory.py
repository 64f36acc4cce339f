"""Benchmark: time and peak memory to refuse a hostile XLSX, and to accept a large inventory.

Run:  .venv/bin/python benchmarks/hostile_inventory.py

In a temporary folder it generates

* the 3,000,000-row XLSX of issue 15 (about 44 MB zipped, 600 MB of sheet XML), written
  directly with :mod:`zipfile` by the generator of ``tests/test_limits.py``;
* the 100,000-row CSV of ``benchmarks/inventory_load.py`` (``tests/test_bad_inputs.py``).

Each ``cwsgeo check`` runs in its own process, timed from start to exit; its peak memory is the
child's ``ru_maxrss`` (from :func:`os.wait4`), so interpreter and library start-up are included.
A ``python -c "import cwsgeo.cli"`` run gives the start-up cost as a baseline. Goals (issue 15):
refuse the hostile XLSX in <= 5 s and <= 300 MB. The 100,000-row CSV must still be accepted
(check also timed in this process, best of 3; 1.2-1.5 s before the limits).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cwsgeo import check_inventory
from tests.test_bad_inputs import gen_big_csv
from tests.test_limits import write_xlsx

GOAL_S, GOAL_MB = 5.0, 300.0
RAISED_SIZE = """\
import sys
from cwsgeo.analysis.inventory import ReadLimits, check_inventory
limits = ReadLimits(max_bytes=10**9, max_uncompressed_bytes=10**9)
print(check_inventory(sys.argv[1], limits=limits).report())
"""


def run(args: list[str]) -> tuple[int, float, float, str]:
    """Run a command; return (exit code, seconds, peak memory in MB, last output line)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return proc.returncode, seconds, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def check(path: Path, *flags: str) -> tuple[int, float, float, str]:
    """``cwsgeo check PATH`` in a fresh process."""
    return run([sys.executable, "-m", "cwsgeo", "check", str(path), *flags])


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hostile, big = Path(tmp) / "hostile.xlsx", Path(tmp) / "big.csv"
        start = time.perf_counter()
        write_xlsx(hostile, ([f"cw-{i}", f"Space {i % 1000}", f"Carrer de Mallorca {i % 400}",
                              "123"[i % 3]] for i in range(3_000_000)), level=6)
        gen_big_csv(big)
        print(f"generated in {time.perf_counter() - start:.0f} s: {hostile.name} "
              f"{hostile.stat().st_size / 1e6:.1f} MB zipped, {big.name} "
              f"{big.stat().st_size / 1e6:.1f} MB")

        _, s0, mb0, _ = run([sys.executable, "-c", "import cwsgeo.cli, cwsgeo.analysis.inventory"])
        print(f"baseline (start-up and imports only): {s0:.2f} s, {mb0:.0f} MB")

        code, s, mb, last = check(hostile)
        ok = code == 1 and "too_large" in last and s <= GOAL_S and mb <= GOAL_MB
        print(f"refuse the 3,000,000-row XLSX: exit {code}, {s:.2f} s, {mb:.0f} MB peak "
              f"(goal <= {GOAL_S:.0f} s, <= {GOAL_MB:.0f} MB): {verdict(ok)}")
        print(f"  {last[:160]}")

        code, s, mb, last = run([sys.executable, "-c", RAISED_SIZE, str(hostile)])
        print(f"same file with the size limits raised to 1,000 MB (refused by the <row> count "
              f"before openpyxl opens it): {s:.2f} s, {mb:.0f} MB peak")
        print(f"  {last[:160]}")

        code, s, mb, _ = check(big)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            inv = check_inventory(big)
            times.append(time.perf_counter() - t)
        ok = code == 1 and len(inv.data) == 99_991 and inv.codes("error") == {"duplicate_id": 9}
        print(f"accept and check the 100,000-row CSV: exit {code} (its 9 planted duplicate ids), "
              f"{s:.2f} s, {mb:.0f} MB peak in a process; in this process best "
              f"{min(times):.2f} s (1.2-1.5 s before the limits); {len(inv.data):,} usable "
              f"rows: {verdict(ok)}")


if __name__ == "__main__":
    main()
