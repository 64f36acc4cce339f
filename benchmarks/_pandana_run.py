"""Time pandana on the arrays network_search.py's worker wrote; print JSON timings.

Runs in ``benchmarks/.venv-pandana`` (made by ``benchmarks/setup_pandana.sh``), never in the
project's environment: pandana is AGPL and cwsgeo is MIT, so cwsgeo never imports it. Only numpy,
pandas and pandana are imported here (no cwsgeo; pandana only inside the functions that use it,
so _network_worker.py shares :func:`timed` and :func:`peak_mib` from here).

Usage::

    benchmarks/.venv-pandana/bin/python benchmarks/_pandana_run.py INPUT.npz OUTPUT.npz \
        [--repeat 3]

INPUT.npz holds ``x``, ``y`` (node coordinates, node id = position), ``edge_u``, ``edge_v``,
``edge_length`` (undirected edges), ``weights`` ``(n_nodes, w)`` node weights and their
``names``, ``station_node`` (nodes of the stations), ``radius``, ``limit``, ``k``. Timed, each
``--repeat`` times (best and median printed):

* set-up: ``Network(...)`` + ``precompute(radius)``, and ``set_pois(maxdist=limit, maxitems=k)``
  for the stations (placed at their nodes' coordinates, so pandana maps each to that node);
* surface: one ``aggregate(radius, type="sum", decay="flat")`` per weight column;
* nearest: ``nearest_pois(limit, "stations", num_pois=1)`` and, when k > 1, with ``num_pois=k``.

OUTPUT.npz gets the last run's results (``surface`` ``(n, w)``, ``nearest`` ``(n,)``,
``nearest_k`` ``(n, k)``; ``inf`` where no station is within ``limit``). stdout: one JSON object
with the timings (seconds), the peak RSS (VmHWM, MiB) after each part and pandana's version.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def peak_mib(reset: bool = False) -> float:
    """Peak resident memory of this process (VmHWM) in MiB; optionally reset it afterwards."""
    match = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())
    value = int(match.group(1)) / 1024 if match else float("nan")
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    return value


def timed(fn: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    """Run ``fn`` ``repeat`` times: first, best and median seconds, peak RSS, the last result.

    The first call in a fresh process includes any import, compilation or cache load.
    """
    peak_mib(reset=True)
    times, out = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return {"first": times[0], "best": min(times), "median": float(np.median(times)),
            "peak_mib": peak_mib()}, out


def build(data: Any) -> Any:
    """The pandana network with its precomputed range and the stations set."""
    import pandana

    n = len(data["x"])
    ids = pd.RangeIndex(n)
    net = pandana.Network(pd.Series(data["x"], index=ids), pd.Series(data["y"], index=ids),
                          pd.Series(data["edge_u"]), pd.Series(data["edge_v"]),
                          pd.DataFrame({"length": data["edge_length"]}), twoway=True)
    net.precompute(float(data["radius"]))
    st = data["station_node"]
    net.set_pois(category="stations", maxdist=float(data["limit"]), maxitems=int(data["k"]),
                 x_col=pd.Series(data["x"][st]), y_col=pd.Series(data["y"][st]))
    return net


def surface(net: Any, data: Any) -> np.ndarray:
    """``(n, w)`` sums of every weight column within ``radius`` (flat decay), one call each."""
    n = len(data["x"])
    radius = float(data["radius"])
    out = []
    for j, name in enumerate(data["names"].tolist()):
        net.set(pd.RangeIndex(n), variable=pd.Series(data["weights"][:, j]), name=str(name))
        out.append(net.aggregate(radius, type="sum", decay="flat", name=str(name)).to_numpy())
    return np.column_stack(out)


def nearest(net: Any, data: Any, k: int) -> np.ndarray:
    """``(n, k)`` distances to the k nearest stations within ``limit`` (``inf`` beyond)."""
    frame = net.nearest_pois(float(data["limit"]), "stations", num_pois=k,
                             max_distance=np.inf)
    return frame.to_numpy(dtype=float)


def main(argv: list[str] | None = None) -> int:
    import pandana

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with np.load(args.input, allow_pickle=False) as npz:
        data = {key: npz[key] for key in npz.files}
    k = int(data["k"])
    result: dict[str, Any] = {"version": pandana.__version__, "n_nodes": len(data["x"])}
    result["setup"], net = timed(lambda: build(data), args.repeat)
    result["surface"], sums = timed(lambda: surface(net, data), args.repeat)
    result["nearest"], near = timed(lambda: nearest(net, data, 1), args.repeat)
    arrays: dict[str, Any] = {"surface": sums, "nearest": near[:, 0]}
    if k > 1:
        result["nearest_k"], arrays["nearest_k"] = timed(lambda: nearest(net, data, k),
                                                         args.repeat)
    np.savez(args.output, **arrays)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
