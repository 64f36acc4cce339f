"""Population grid: a windowed read of one city versus reading the whole grid, local and HTTP.

Writes a GHSL-like grid (float32 residents per 100 m cell, Mollweide ESRI:54009, deflate,
256 x 256 tiles, random gamma-distributed values: incompressible like a real grid) of
``--km`` x ``--km`` around Milan, and a disc of ``--city-km2`` (Milan: 181 km2) as the city.
Then, best of ``--repeat``:

* **window**: :func:`cwsgeo.analysis.population.read_grid_window` of the city (what the live
  fetch does), from the file and from a loopback HTTP server answering range requests
  (``/vsicurl/``), with the bytes the server sent;
* **whole** (the baseline): ``rasterio`` reading band 1 of the whole grid, and over HTTP the
  bytes of a plain download of the file;
* **cells**: :func:`~cwsgeo.analysis.population.grid_cells` (clipping to the boundary).

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/ghsl_window.py [--km 300] [--city-km2 181]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from tests.test_any_city import RangeServer


def _grid(path: Path, km: int) -> None:
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    cx, cy = Transformer.from_crs("EPSG:4326", "ESRI:54009", always_xy=True).transform(9.19,
                                                                                       45.46)
    n = km * 10
    values = np.random.default_rng(1).gamma(0.5, 40, (n, n)).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="ESRI:54009", nodata=-200, compress="deflate", tiled=True,
                       blockxsize=256, blockysize=256,
                       transform=from_origin(round(cx) - km * 500, round(cy) + km * 500, 100,
                                             100)) as dst:
        dst.write(values, 1)


def _best(fn: object, repeat: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    """Print the timings and bytes."""
    import geopandas as gpd
    import rasterio
    import requests
    from pyproj import Transformer
    from shapely.geometry import Point

    from cwsgeo import settings
    from cwsgeo.analysis.population import grid_cells, read_grid_window

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--km", type=int, default=300)
    ap.add_argument("--city-km2", type=float, default=181.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    settings.crs_work = "EPSG:32632"
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True).transform(9.19, 45.46)
    radius = math.sqrt(args.city_km2 * 1e6 / math.pi)
    city = gpd.GeoSeries([Point(x, y).buffer(radius, 64)], crs="EPSG:32632").to_crs(
        "EPSG:4326").iloc[0]
    with tempfile.TemporaryDirectory() as tmp:
        tif = Path(tmp) / "grid.tif"
        _grid(tif, args.km)
        size = tif.stat().st_size
        print(f"grid {args.km} x {args.km} km ({args.km * 10} cells a side), {size / 1e6:.1f} MB;"
              f" city {args.city_km2:g} km2")
        t_win, grid = _best(lambda: read_grid_window(tif, city), args.repeat)

        def whole() -> object:
            with rasterio.open(tif) as src:
                return src.read(1)

        t_whole, _ = _best(whole, args.repeat)
        print(f"local  window {grid.window[2]} x {grid.window[3]}: {t_win * 1e3:8.1f} ms;  "  # type: ignore[union-attr]
              f"whole grid: {t_whole * 1e3:8.1f} ms  ({t_whole / t_win:.0f}x)")
        for i in range(args.repeat):
            with RangeServer({f"/g{i}.tif": tif.read_bytes()}) as srv:
                start = time.perf_counter()
                read_grid_window(f"{srv.url}/g{i}.tif", city)
                t_http = time.perf_counter() - start
                sent = srv.sent
                start = time.perf_counter()
                requests.get(f"{srv.url}/g{i}.tif", timeout=60).raise_for_status()
                t_dl = time.perf_counter() - start
        print(f"http   window: {t_http * 1e3:8.1f} ms, {sent / 1e3:,.0f} KB in {len(srv.ranges)}"
              f" ranges ({100 * sent / size:.2f} % of the file);  download: {t_dl * 1e3:8.1f} ms,"
              f" {size / 1e3:,.0f} KB")
        t_cells, cells = _best(lambda: grid_cells(grid, city), args.repeat)
        print(f"cells  {len(cells):,} populated cells in the city, "  # type: ignore[arg-type]
              f"{cells['population'].sum():,.0f} residents: {t_cells * 1e3:8.1f} ms")  # type: ignore[index]


if __name__ == "__main__":
    main()
