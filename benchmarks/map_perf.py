"""Size and draw time of every HTML map, with every layer shown, in headless Chromium.

Usage::

    .venv/bin/python benchmarks/map_perf.py [--project .] [--processed DIR] [--out DIR]
        [--runs 3] [--inventory N] [--no-baseline] [--keep] [--cpu-slowdown 4]
        [--maps FILE.html ...] [--screenshots DIR]

Builds, from a built project (``data/raw/`` inputs and ``data/processed/coworking_spaces.gpkg``;
run ``cwsgeo build`` first), the two cwsgeo maps with every layer they can have:

* ``innovation_types.html``: spaces, transit by mode (canvas), places (clustered points and
  kernel density bands), each space's 10-minute walking area and the street lines of the
  offline basemap (from the walking network when ``cwsgeo.network``/``cwsgeo.proximity`` can
  compute them, else 800 m buffers and no streets);
* ``density.html``: district/barri choropleths, hexagons, kernel bands, spaces, streets;

and, as baselines in the same run, the same content written the folium-default way (one folium
object per point, one full-precision GeoJSON layer per metric with every column, one feature
per street segment, no simplification, still with Leaflet embedded so that it opens offline).
The CDN variants are written too, for their size only (they cannot draw offline).

Each map is opened ``--runs`` times with ``#all-layers`` (every layer of the layer control on,
barris choropleth), in a fresh page; the draw time is ``performance.now()`` when the page sets
``data-cws-ready`` (after Leaflet's ``whenReady`` and two animation frames, i.e. after the
first paint with everything drawn), measured from navigation start. ``--maps`` measures
existing files instead of building. Target: every map ≤ 5 MB (PASS/FAIL) and ≤ 2 s.

``--inventory N`` grows the inventory to ``N`` rows first (issue 13: 28,900): the built spaces
as they are, then copies of the drawn ones (filled or hollow), each moved by a random offset of
up to 400 m, with their walking areas moved alike. ``--processed DIR`` reads the spaces (and
the walking areas, when the build kept them) from another build, e.g. the folder that
``benchmarks/big_inventory.py --keep`` leaves. The JS heap is Chromium's used heap after the
page is ready (``Runtime.getHeapUsage``).
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cwsgeo.build.profiles import load_profile  # noqa: E402
from cwsgeo.build.sources import attributions  # noqa: E402
from cwsgeo.outputs import maps  # noqa: E402

TARGET_MB = 5.0
TARGET_MS = 2000.0
CREDIT_ROLES = ("admin", "places", "transit", "inventory")


# -- data -----------------------------------------------------------------------------------------
def load_project(project: Path, processed: Path | None = None,
                 inventory: int | None = None) -> dict[str, Any]:
    import dataclasses

    import pyogrio

    from cwsgeo.analysis.admin import load_admin
    from cwsgeo.analysis.density import compute_densities
    from cwsgeo.analysis.layers import read_places, read_transit
    from cwsgeo.build.config import Config
    from cwsgeo.build.sources import read_manifest

    cfg = Config.load(project)
    raw = cfg.raw_dir
    spaces_path = (processed or cfg.processed_dir()) / "coworking_spaces.gpkg"
    if not spaces_path.exists():
        sys.exit(f"{spaces_path} not found: run `cwsgeo build` in {project} first")
    t0 = time.perf_counter()
    admin = load_admin(raw / "admin")
    city = admin.city.geometry.union_all()
    places = read_places(sorted((raw / "places").glob("*")), clip=city)
    transit = read_transit(sorted((raw / "transit").glob("*")), clip=city,
                           rules=cfg.profile.transit)
    spaces = gpd.read_file(spaces_path, layer="coworking_spaces")
    kept = "walk_areas_10min" in pyogrio.list_layers(spaces_path)[:, 0]
    areas, streets, how = network_layers(spaces.iloc[:0] if kept else spaces, raw,
                                         cfg.cache_dir)
    if kept:
        areas, how = gpd.read_file(spaces_path, layer="walk_areas_10min"), "from the build"
    if inventory:
        spaces, areas = grow_inventory(spaces, areas, inventory)
    result = compute_densities(admin.districts, admin.barris, admin.sections, admin.city,
                               spaces, places, transit, transit_modes=cfg.profile.transit.modes,
                               **dataclasses.asdict(cfg.density))
    print(f"data loaded in {time.perf_counter() - t0:.1f} s: {len(spaces)} spaces "
          f"({int((~spaces.geometry.is_empty & spaces.geometry.notna()).sum())} located), "
          f"{len(places):,} places, {len(transit):,} stops, {len(result.hexes):,} hexagons, "
          f"{len(areas)} walking areas ({how}), "
          f"{0 if streets is None else len(streets):,} street segments")
    return {"admin": admin, "places": places, "transit": transit, "spaces": spaces,
            "result": result, "areas": areas, "streets": streets, "credits": attributions(
                read_manifest(raw), CREDIT_ROLES)}


def grow_inventory(spaces: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, n: int,
                   seed: int = 13, offset_m: float = 400.0
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``n`` spaces: the built ones, then moved copies of the drawn ones (and their areas)."""
    from cwsgeo.outputs.maps.precision import DRAWN, precision_of

    work = spaces.to_crs(25831)
    drawn = np.flatnonzero(np.isin(precision_of(work), DRAWN))
    extra = max(0, n - len(work))
    src = drawn[np.arange(extra) % len(drawn)]
    copy = 1 + np.arange(extra) // len(drawn)
    rng = np.random.default_rng(seed)
    shift = rng.uniform(-offset_m, offset_m, size=(extra, 2))
    more = work.iloc[src].copy()
    more["id"] = [f"{i}-{k}" for i, k in zip(more["id"], copy, strict=True)]
    more["name"] = [f"{nm} #{k}" for nm, k in zip(more["name"], copy, strict=True)]
    more.geometry = _moved(more.geometry.to_numpy(), shift)
    grown = pd.concat([work, more], ignore_index=True)
    a = areas.to_crs(25831).set_index(areas["id"].astype(str))
    has = np.isin(more["id"].str.rsplit("-", n=1).str[0], a.index)
    parent = more["id"].str.rsplit("-", n=1).str[0].to_numpy()[has]
    new_areas = a.loc[parent].copy()
    new_areas["id"] = more["id"].to_numpy()[has]
    new_areas.geometry = _moved(new_areas.geometry.to_numpy(), shift[has])
    grown_areas = pd.concat([a.reset_index(drop=True), new_areas.reset_index(drop=True)],
                            ignore_index=True)
    print(f"inventory grown to {len(grown):,} rows ({len(drawn) + extra:,} drawn, "
          f"{len(grown_areas):,} walking areas); copies moved by up to {offset_m:g} m")
    return (gpd.GeoDataFrame(grown, geometry="geometry", crs=work.crs),
            gpd.GeoDataFrame(grown_areas, geometry="geometry", crs=work.crs))


def _moved(geoms: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Each geometry moved by its own ``(dx, dy)``."""
    import shapely

    xy, which = shapely.get_coordinates(geoms, return_index=True)
    return shapely.set_coordinates(geoms.copy(), xy + shift[which])


def network_layers(spaces: gpd.GeoDataFrame, raw: Path, cache: Path
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, str]:
    """Walking areas and street lines from the walking network (buffers if unavailable).

    ``spaces`` may be empty: street lines only.
    """
    graph = next(iter(sorted((raw / "streets").glob("*.graphml"))), None)
    try:
        from cwsgeo.analysis.network import read_network
        from cwsgeo.analysis.proximity import walk_areas as proximity_walk_areas

        if graph is None:
            raise FileNotFoundError("no street graph in data/raw/streets")
        net = read_network(graph)
        if not len(spaces):
            return gpd.GeoDataFrame({"id": []}, geometry=[], crs=25831), net.edges_gdf(), ""
        areas = proximity_walk_areas(spaces, net, minutes=10).reset_index()  # id column
        areas = areas[~(areas.geometry.isna() | areas.geometry.is_empty)]
        return areas, net.edges_gdf(), "walking network, concave hulls"
    except Exception as exc:  # the network and proximity modules are optional here
        print(f"walking network unavailable ({exc}); 800 m buffers and no street lines")
        sp = spaces[~(spaces.geometry.isna() | spaces.geometry.is_empty)].to_crs(25831)
        return gpd.GeoDataFrame({"id": sp["id"].to_numpy(), "minutes": 10},
                                geometry=sp.geometry.buffer(800).to_numpy(),
                                crs=sp.crs), None, "800 m buffers"


# -- maps -----------------------------------------------------------------------------------------
def build_cwsgeo(data: dict[str, Any], out: Path,
                 assets: Literal["inline", "cdn"] = "inline") -> dict[str, Path]:
    suffix = "" if assets == "inline" else "_cdn"
    words = load_profile("barcelona").area_labels()  # "barri", as the build writes
    inno = maps.innovation_map(
        data["spaces"], data["admin"], out / f"innovation_types{suffix}.html",
        transit=data["transit"], places=data["places"],
        places_density=data["result"].kde_places.get("all"), walk_areas=data["areas"],
        streets=data["streets"], assets=assets, attributions=data["credits"], labels=words)
    dens = maps.density_map(data["result"], data["admin"], out / f"density{suffix}.html",
                            spaces=data["spaces"], streets=data["streets"], assets=assets,
                            attributions=data["credits"], labels=words)
    return {f"innovation_types{suffix}": inno, f"density{suffix}": dens}


def _naive_points(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, color: str,
                  text: Any) -> None:
    group = folium.FeatureGroup(name=name)
    pts = gdf.to_crs(4326)
    for label, geom in zip(text, pts.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        folium.CircleMarker((geom.y, geom.x), radius=4, color=color, fill=True,
                            tooltip=folium.Tooltip(html.escape(str(label)))).add_to(group)
    group.add_to(m)


def build_baselines(data: dict[str, Any], out: Path) -> dict[str, Path]:
    """The same content, folium's default way: one object per point, raw GeoJSON layers."""
    from cwsgeo.analysis.density import surface_contours

    admin, result = data["admin"], data["result"]

    def naive_base() -> folium.Map:
        m = maps.base_map(admin, attributions=data["credits"])
        if data["streets"] is not None:  # one feature per street segment
            folium.GeoJson(data["streets"].to_crs(4326).to_json(), name="Streets",
                           style_function=lambda f: {"color": "#b9b4aa", "weight": 0.8},
                           interactive=False).add_to(m)
        return m

    # innovation map
    m = naive_base()
    areas = data["areas"].to_crs(4326)
    folium.GeoJson(areas.to_json(), name="Walking areas",
                   tooltip=folium.GeoJsonTooltip(["id"])).add_to(m)
    bands = surface_contours(result.kde_places["all"], result.boundary)
    folium.GeoJson(bands.to_json(), name="Places: kernel density",
                   style_function=lambda f: {"fillColor": f["properties"]["color"],
                                             "fillOpacity": 0.5, "weight": 0}).add_to(m)
    places = data["places"]
    _naive_points(m, places, "Places", "#e08214",
                  [f"{c}: {n}" for c, n in zip(places["category"], places["name"], strict=True)])
    transit = data["transit"]
    for mode, sub in transit.groupby("mode"):
        _naive_points(m, sub, f"Transit: {mode}", maps.TRANSIT_COLORS.get(mode, "#999"),
                      sub["name"])
    maps.add_spaces(m, data["spaces"])
    folium.LayerControl(collapsed=False).add_to(m)
    inno = maps.save_map(m, out / "baseline_innovation_folium.html")
    # density map
    m = naive_base()
    classes = result.classifications()
    for level, table in (("districts", result.districts), ("barris", result.barris)):
        gdf = table.to_crs(4326)
        fields = [c for c in (f"{level[:-1]}_name", "spaces_per_km2", "residents_per_km2")
                  if c in gdf.columns]
        for col, label in maps.DENSITY_METRICS:
            cls = classes[f"{level}.{col}"]
            colors = dict(zip(gdf.index, cls.color_of(gdf[col]), strict=True))
            folium.GeoJson(gdf.to_json(), name=f"{level}: {label}", overlay=False,
                           style_function=lambda f, c=colors: {
                               "fillColor": c[int(f["id"])], "fillOpacity": 0.7,
                               "color": "#fff", "weight": 1},
                           tooltip=folium.GeoJsonTooltip(fields)).add_to(m)
    hexes = result.hexes.to_crs(4326)
    for col in ("places", "residents", "spaces"):
        cls = classes[f"hexes.{col}"]
        colors = dict(zip(hexes.index, cls.color_of(hexes[col]), strict=True))
        folium.GeoJson(hexes.to_json(), name=f"Hexagons: {col}",
                       style_function=lambda f, c=colors: {
                           "fillColor": c[int(f["id"])], "fillOpacity": 0.7, "weight": 0.5},
                       tooltip=folium.GeoJsonTooltip(["hex_id", col])).add_to(m)
    for key in ("places", "spaces"):
        bands = surface_contours(getattr(result, f"kde_{key}")["all"], result.boundary)
        folium.GeoJson(bands.to_json(), name=f"Kernel: {key}",
                       style_function=lambda f: {"fillColor": f["properties"]["color"],
                                                 "fillOpacity": 0.5, "weight": 0}).add_to(m)
    maps.add_spaces(m, data["spaces"])
    folium.LayerControl(collapsed=False).add_to(m)
    dens = maps.save_map(m, out / "baseline_density_folium.html")
    return {"baseline_innovation_folium": inno, "baseline_density_folium": dens}


# -- measuring ------------------------------------------------------------------------------------
def measure(paths: dict[str, Path], runs: int, slowdown: float = 1.0,
            screenshots: Path | None = None) -> dict[str, dict[str, Any]]:
    from tests._browser import launch

    out: dict[str, dict[str, Any]] = {}
    with launch() as browser:
        for name, path in paths.items():
            times: list[float] = []
            scripts: list[float] = []
            errors: list[str] = []
            nodes, overlays, heap = 0, 0, []
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
                if slowdown > 1:  # emulate a slower laptop
                    page.context.new_cdp_session(page).send(
                        "Emulation.setCPUThrottlingRate", {"rate": slowdown})
                page.goto(path.resolve().as_uri() + "#all-layers")
                page.wait_for_function("document.documentElement.dataset.cwsReady",
                                       timeout=120_000)
                times.append(float(page.evaluate(
                    "document.documentElement.dataset.cwsReady")))
                scripts.append(float(page.evaluate("window.cwsScriptsMs")))
                heap.append(page.context.new_cdp_session(page).send(
                    "Runtime.getHeapUsage")["usedSize"] / 1e6)
                nodes = int(page.evaluate(
                    "document.querySelectorAll('.leaflet-container *').length"))
                overlays = int(page.evaluate(
                    "document.querySelectorAll('.leaflet-control-layers-selector:checked')"
                    ".length"))
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshots / f"{name}.png"))
                page.close()
            out[name] = {"mb": path.stat().st_size / 1e6, "ms": statistics.median(times),
                         "scripts_ms": statistics.median(scripts),
                         "ms_all": times, "nodes": nodes, "layers_on": overlays,
                         "heap_mb": statistics.median(heap),
                         "errors": errors}
    return out


def table(results: dict[str, dict[str, Any]], sizes_only: dict[str, Path]) -> str:
    head = (f"{'map (every layer shown)':<30} {'size MB':>8} {'scripts ms':>10} {'drawn ms':>8} "
            f"{'JS heap MB':>10} {'DOM nodes':>10} {'layers on':>9}  size<=5MB  time<=2s")
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        ok = "PASS" if r["mb"] <= TARGET_MB else "FAIL"
        ok += "       " + ("ok" if r["ms"] <= TARGET_MS else "over")
        if r["errors"]:
            ok += f" ({len(r['errors'])} JS errors)"
        lines.append(f"{name:<30} {r['mb']:8.2f} {r['scripts_ms']:10.0f} {r['ms']:8.0f} "
                     f"{r['heap_mb']:10.1f} {r['nodes']:10,} {r['layers_on']:9d}  {ok}")
    for name, path in sizes_only.items():
        lines.append(f"{name:<30} {path.stat().st_size / 1e6:8.2f}   (size only: CDN assets)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", type=Path, default=ROOT)
    ap.add_argument("--processed", type=Path, default=None,
                    help="read the built spaces (and walking areas) from this data/processed")
    ap.add_argument("--inventory", type=int, default=None, metavar="N",
                    help="grow the inventory to N rows (moved copies of the drawn spaces)")
    ap.add_argument("--screenshots", type=Path, default=None,
                    help="save a screenshot of each map (every layer on) in this folder")
    ap.add_argument("--out", type=Path, default=None, help="folder for the maps (default: tmp)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--maps", type=Path, nargs="*", help="measure these files instead")
    ap.add_argument("--cpu-slowdown", type=float, default=1.0,
                    help="Chromium CPU throttling rate (4 = a laptop four times slower)")
    args = ap.parse_args()
    if args.maps:
        results = measure({p.stem: p for p in args.maps}, args.runs, args.cpu_slowdown,
                          args.screenshots)
        print(table(results, {}))
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="cwsgeo-map-perf-"))
    out.mkdir(parents=True, exist_ok=True)
    data = load_project(args.project.resolve(), args.processed, args.inventory)
    t0 = time.perf_counter()
    paths = build_cwsgeo(data, out)
    print(f"cwsgeo maps written in {time.perf_counter() - t0:.1f} s")
    cdn = build_cwsgeo(data, out, assets="cdn")
    if not args.no_baseline:
        t0 = time.perf_counter()
        paths.update(build_baselines(data, out))
        print(f"baseline maps written in {time.perf_counter() - t0:.1f} s")
    results = measure(paths, args.runs, args.cpu_slowdown, args.screenshots)
    print()
    print(table(results, cdn))
    print(f"\ntarget: every map <= {TARGET_MB:g} MB and <= {TARGET_MS / 1000:g} s; draw time = "
          f"median of {args.runs} loads, navigation start -> data-cws-ready (scripts ms: "
          f"all map scripts run, before the first paint), headless "
          f"chromium 1280x800, CPU slowdown x{args.cpu_slowdown:g}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores; "
          f"maps in {out}")
    for name, r in results.items():
        print(f"  {name}: runs {', '.join(f'{t:.0f}' for t in r['ms_all'])} ms")
    if args.out is None and not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    missed = [n for n, r in results.items() if not n.startswith("baseline")
              and (r["mb"] > TARGET_MB or r["errors"])]
    return 1 if missed else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
