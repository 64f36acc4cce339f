"""The build: the one place that knows the order of the stages, their caching and outputs.

``build`` runs: fetch inputs into ``data/raw/`` (when needed) → read and validate the
inventory → geocode → join districts, barris and sections → (places, transit, walking network
→ proximity metrics) → (densities) → write tables, report and maps. Each stage is a plain
function of another module; this module wires them, caches their results by the hash of their
inputs (:mod:`cwsgeo._cache`), times them, and writes every output atomically. An inventory
with errors stops the build before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import __version__, settings
from ._cache import (
    OutputLedger,
    StageCache,
    code_fingerprint,
    digest,
    frame_digest,
    project_lock,
)
from ._io import read_json, write_csv, write_gpkg, write_json, write_text
from ._parallel import Task, background
from ._text import md_escape
from .changes import compare, snapshot
from .config import Config
from .inventory import INNOVATION_LABELS, Inventory, read_inventory
from .sources import RawData, attributions, ensure_raw

logger = logging.getLogger(__name__)

__all__ = ["BuildResult", "build", "geocode_file", "inventory_report", "watch"]

#: Snapshot of the last completed build, compared with by the next one.
STATE_FILE = "build_state.json"


@dataclass
class BuildResult:
    """What a build did: outputs, counts and timings.

    Attributes
    ----------
    outputs
        Output name -> path written (empty for a dry run).
    spaces
        The final spaces table (EPSG:4326).
    n_rows, n_located
        Inventory rows and located spaces.
    methods, statuses
        Counts of ``location_method`` and ``geocode_status``.
    timings
        Stage -> seconds.
    wall_s
        Total wall time.
    cache_hits
        Stages served from the cache.
    """

    outputs: dict[str, Path] = field(default_factory=dict)
    spaces: gpd.GeoDataFrame | None = None
    n_rows: int = 0
    n_located: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    cache_hits: list[str] = field(default_factory=list)
    dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One-paragraph summary printed at the end of ``cwsgeo build``."""
        how = ", ".join(f"{k} {v}" for k, v in sorted(self.methods.items()) if k != "none")
        status = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        lines = [f"{'dry run: ' if self.dry_run else ''}{self.n_rows} spaces, "
                 f"{self.n_located} located ({how or 'none'}); geocode status: {status}; "
                 f"{self.wall_s:.1f} s"]
        changes = self.extra.get("changes")
        if changes is not None:
            lines.append(changes.to_markdown() if self.dry_run else changes.summary())
        if self.outputs:
            maps = [p for p in self.outputs.values() if p.suffix == ".html"]
            folders = sorted({str(p.parent) for p in self.outputs.values()
                              if p.suffix != ".html" and p.parent.name != "figures"})
            lines.append(f"outputs: {len(self.outputs)} files in {', '.join(folders)}; maps: "
                         + ", ".join(str(p) for p in maps))
        return "\n".join(lines)


@dataclass
class _Context:
    cfg: Config
    cache: StageCache
    progress: bool
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start
            logger.info("stage %s: %.2f s", stage, self.timings[stage])


def _file_key(paths: list[Path], raw: RawData) -> list[str]:
    """Content hashes of input files: from the manifest for data/raw, else hashed now."""
    from ._io import sha256_file

    by_path = {(raw.root / e["path"]).resolve(): e["sha256"] for e in raw.manifest["files"]}
    out = []
    for p in paths:
        known = by_path.get(Path(p).resolve())
        out.append(known if known is not None else
                   sha256_file(p) if Path(p).is_file() else f"missing:{p}")
    return out


# ---------------------------------------------------------------------------------------
# Stages
# ---------------------------------------------------------------------------------------
def _stage_inventory(ctx: _Context, path: Path, admin: Any, raw: RawData) -> Inventory:
    from ._io import sha256_file

    inv_cfg = ctx.cfg.inventory

    def read() -> Inventory:
        return read_inventory(path, inv_cfg.columns, inv_cfg.ignore_columns, inv_cfg.sheet,
                              boundary=admin.city)

    if not path.exists():
        return read()  # reports the missing file with the standard message
    key = [sha256_file(path), str(path), inv_cfg.columns, inv_cfg.ignore_columns,
           inv_cfg.sheet, __version__, *_file_key(raw.paths("admin"), raw)]
    return ctx.cache.cached("inventory", key, read)


#: Columns the admin join adds to the spaces.
ADMIN_COLUMNS = ("district_code", "district_name", "barri_code", "barri_name", "section_code",
                 "in_city", "outside_city_m", "innovation_label")


def _keep_input_columns(frame: pd.DataFrame, generated: Iterable[str]) -> pd.DataFrame:
    """Rename carried-through inventory columns that a stage is about to add (``input_<name>``).

    An inventory may bring any extra column, e.g. its own ``snap_m`` or ``district_name``;
    renaming keeps the user's values next to cwsgeo's instead of failing on duplicates.
    """
    clash = [c for c in generated if c in frame.columns]
    if not clash:
        return frame
    mapping = {}
    for col in clash:
        new = f"input_{col}"
        while new in frame.columns or new in mapping.values():
            new = f"input_{new}"
        mapping[col] = new
    logger.warning("inventory columns renamed to keep them apart from cwsgeo's: %s",
                   ", ".join(f"{k} -> {v}" for k, v in mapping.items()))
    return frame.rename(columns=mapping)


def _stage_geocode(ctx: _Context, inv: Inventory, raw: RawData) -> gpd.GeoDataFrame:
    from .geocoding import GEOCODE_COLUMNS, Geocoder, geocode_table

    data = _keep_input_columns(inv.data, (*GEOCODE_COLUMNS, *ADMIN_COLUMNS, "geometry"))
    folder = raw.folder("addresses") if raw.paths("addresses") else None
    with Geocoder.from_config(ctx.cfg, folder, index_cache=ctx.cache if ctx.cache.enabled
                              else None) as geocoder:
        return geocode_table(data, geocoder, progress=ctx.progress)


def _stage_admin(ctx: _Context, raw: RawData) -> Any:
    from .admin import load_admin

    paths = raw.paths("admin")
    return ctx.cache.cached("admin", _file_key(paths, raw),
                            lambda: load_admin(raw.folder("admin")), memo=True)


def _stage_layers(ctx: _Context, raw: RawData, admin: Any
                  ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[str]]:
    def read_places(*args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
        from .layers import read_places as read

        return read(*args, **kwargs)

    def read_transit(*args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
        from .layers import read_transit as read

        return read(*args, **kwargs)

    city = admin.city
    admin_key = _file_key(raw.paths("admin"), raw)
    places_key = [*_file_key(raw.paths("places"), raw), *admin_key]
    transit_key = [*_file_key(raw.paths("transit"), raw), *admin_key]
    places = ctx.cache.cached("places", places_key,
                              lambda: read_places(raw.paths("places"), clip=city), memo=True)
    transit = ctx.cache.cached("transit", transit_key,
                               lambda: read_transit(raw.paths("transit"), clip=city), memo=True)
    return places, transit, [digest(places_key), digest(transit_key)]


@dataclass
class _Proximity:
    metrics: pd.DataFrame
    areas: gpd.GeoDataFrame
    coverage: pd.DataFrame
    by_type: pd.DataFrame
    surface: gpd.GeoDataFrame
    residents_report: pd.DataFrame
    streets: gpd.GeoDataFrame
    n_computed: int


def _space_key(geom: Any) -> str:
    """Location key of a space: its coordinates rounded to 1 cm in the work CRS."""
    return "none" if geom is None or geom.is_empty else f"{geom.x:.2f},{geom.y:.2f}"


def _stage_proximity(ctx: _Context, raw: RawData, admin: Any, spaces: gpd.GeoDataFrame,
                     places: gpd.GeoDataFrame, transit: gpd.GeoDataFrame,
                     layer_keys: list[str]) -> _Proximity:
    """Network, residents, surface (cached by inputs) and per-space metrics (cached per space).

    Per-space metrics and walking areas depend only on the space's location and the layers, so
    they are stored per location: after a one-row edit only new or moved spaces are computed.
    """
    import dataclasses
    from functools import cache

    pcfg = ctx.cfg.proximity
    params = [pcfg.walk_speed_kmh, list(pcfg.minutes), pcfg.snap_max_m]
    net_path = ctx.cfg.resolve(pcfg.network) if pcfg.network else raw.one("network")
    net_key = _file_key([net_path], raw)

    @cache
    def network() -> Any:  # loaded only when something has to be computed
        from .network import load_network

        with ctx.timed("network"):
            return load_network(net_path, cache_dir=ctx.cfg.cache_dir)

    admin_key = _file_key(raw.paths("admin"), raw)
    addr_paths = [p for p in raw.paths("addresses") if p.name == "bcn_addresses.csv"]

    def residents_fn() -> Any:
        from .proximity import allocate_residents

        net = network()
        sections = admin.sections if admin.sections is not None else admin.barris.rename(
            columns={"barri_code": "section_code"})
        if addr_paths:
            addresses = pd.read_csv(addr_paths[0], dtype=str, engine="pyarrow")
        else:
            addresses = pd.DataFrame(columns=["lat", "lon", "census_section"])
        res = allocate_residents(sections, addresses, net, snap_max_m=pcfg.snap_max_m)
        # the 175k allocation points are reported (residents_allocation.csv), not reused:
        # dropping them keeps the cached object small and quick to load
        return dataclasses.replace(res, points=res.points.iloc[:0])

    with ctx.timed("residents"):
        residents = ctx.cache.cached(
            "residents", [*net_key, *admin_key, *_file_key(addr_paths, raw), pcfg.snap_max_m],
            residents_fn, memo=True)
    with ctx.timed("surface"):
        surface = ctx.cache.cached(
            "surface", [*net_key, *admin_key, *_file_key(addr_paths, raw), *layer_keys,
                        *params],
            lambda: _surface(network(), residents, places, pcfg, ctx.progress), memo=True)
    # per-space metrics, cached per location
    context = digest(net_key, admin_key, _file_key(addr_paths, raw), layer_keys, params)
    store_key = digest("space-metrics", code_fingerprint(), context)
    store: dict[str, tuple[dict[str, Any], Any]] = ctx.cache.get("space_metrics",
                                                                  store_key) or {}
    work = spaces.to_crs(settings.crs_work)
    keys = [_space_key(g) for g in work.geometry]
    todo = sorted({k for k in keys if k != "none" and k not in store})
    with ctx.timed("metrics"):
        if todo:
            from .proximity import space_metrics, walk_areas

            net = network()
            first = {k: keys.index(k) for k in todo}
            sub = work.iloc[[first[k] for k in todo]].copy()
            sub["id"] = todo
            metrics = space_metrics(sub, net, stops=transit, places=places,
                                    residents=residents, minutes=pcfg.minutes,
                                    walk_speed_kmh=pcfg.walk_speed_kmh,
                                    snap_max_m=pcfg.snap_max_m, progress=ctx.progress)
            areas = walk_areas(sub, net, minutes=10, walk_speed_kmh=pcfg.walk_speed_kmh,
                               snap_max_m=pcfg.snap_max_m).set_index("id")
            for i, k in enumerate(todo):
                geom = areas.geometry.get(k) if k in areas.index else None
                store[k] = (metrics.iloc[i].to_dict(), geom)
            ctx.cache.put("space_metrics", store_key, store)
            ctx.cache.misses.append("space_metrics")
        else:
            ctx.cache.hits.append("space_metrics")
        logger.info("proximity: %d space location(s) computed, %d reused", len(todo),
                    len({k for k in keys if k != "none"}) - len(todo))
        rows = [store[k][0] if k in store else {} for k in keys]
        metrics_df = pd.DataFrame.from_records(rows, index=spaces.index)
        area_geoms = [store[k][1] if k in store else None for k in keys]
        areas_gdf = gpd.GeoDataFrame({"id": spaces["id"].to_numpy(),
                                      "name": spaces["name"].to_numpy(),
                                      "innovation_type": spaces["innovation_type"].to_numpy()},
                                     geometry=area_geoms, crs=settings.crs_work)
        areas_gdf = areas_gdf[areas_gdf.geometry.notna()]
    signature = [[str(i), k, None if pd.isna(t) else int(t)]
                 for i, k, t in zip(spaces["id"], keys, spaces["innovation_type"], strict=True)]

    def coverage_fn() -> pd.DataFrame:
        from .proximity import coverage

        return coverage(work, residents, network(),
                        minutes=tuple(m for m in pcfg.minutes if m >= 10) or (10,),
                        walk_speed_kmh=pcfg.walk_speed_kmh, snap_max_m=pcfg.snap_max_m)

    def by_type_fn() -> pd.DataFrame:
        from .proximity import summarize_by_type

        return summarize_by_type(metrics_df, pd.DataFrame(spaces))

    with ctx.timed("coverage"):
        cov = ctx.cache.cached("coverage", [context, signature], coverage_fn)
        by_type = ctx.cache.cached("by_type", [context, signature], by_type_fn)
    streets = None
    if ctx.cfg.maps.street_lines:
        streets = ctx.cache.cached("streets", [*net_key], lambda: network().edges_gdf(),
                                   memo=True)
    return _Proximity(metrics_df, areas_gdf, cov, by_type, surface, residents.report,
                      streets, len(todo))


def _surface(net: Any, residents: Any, places: gpd.GeoDataFrame, pcfg: Any,
             progress: bool) -> gpd.GeoDataFrame:
    from .proximity import accessibility_surface

    return accessibility_surface(net, residents=residents, places=places,
                                 minutes=pcfg.minutes, walk_speed_kmh=pcfg.walk_speed_kmh,
                                 snap_max_m=pcfg.snap_max_m, progress=progress)


def _stage_density(ctx: _Context, admin: Any, spaces: gpd.GeoDataFrame,
                   places: gpd.GeoDataFrame, transit: gpd.GeoDataFrame, base_key: list[Any]
                   ) -> Any:
    """Densities: the spaces-independent base is cached by its inputs, the rest by spaces."""
    import dataclasses

    dcfg = dataclasses.asdict(ctx.cfg.density)

    def base_fn() -> Any:
        from .density import density_base

        return density_base(admin.districts, admin.barris, admin.sections, admin.city,
                            places, transit, config=ctx.cfg.density)

    def base() -> Any:
        return ctx.cache.cached("density_base", [*base_key, dcfg], base_fn, memo=True)

    def result_fn() -> Any:
        from .density import compute_densities

        full = compute_densities(admin.districts, admin.barris, admin.sections, admin.city,
                                 spaces, places, transit, config=ctx.cfg.density, base=base())
        # stored without the places' surfaces, which belong to the base (cached once): a
        # tenth of the bytes to write after each edit
        return dataclasses.replace(full, kde_places={})

    work = spaces.to_crs(settings.crs_work)
    signature = [[str(i), _space_key(g), None if pd.isna(t) else int(t)]
                 for i, g, t in zip(spaces["id"], work.geometry, spaces["innovation_type"],
                                    strict=True)]
    slim = ctx.cache.cached("density", [*base_key, dcfg, signature], result_fn, memo=True)
    return dataclasses.replace(slim, kde_places=base().kde_places)


# ---------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------
def _row_account(row: pd.Series) -> str:
    method = row.get("location_method")
    status = row.get("geocode_status")
    if method == "input":
        text = "located by the coordinates given in the inventory"
        if bool(row.get("coord_flag")):
            text += f" (flag: {row.get('coord_check_m', float('nan')):.0f} m from its address)"
        return text
    if method in ("gazetteer", "nominatim"):
        source = ("the official address gazetteer" if method == "gazetteer" else
                  "Nominatim (OpenStreetMap)")
        origin = " (address read from the name)" if bool(row.get("address_from_name")) else ""
        return f"geocoded by {source}: {status}{origin} → {row.get('matched_address', '')}"
    if not str(row.get("address") or "").strip():
        return "not located: no address and no coordinates (and none found in the name)"
    return f"not located: address not found ({status})"


def inventory_report(inv: Inventory, spaces: gpd.GeoDataFrame) -> str:
    """Return the Markdown report that accounts for every input row.

    Parameters
    ----------
    inv
        The parsed inventory (its problems are listed).
    spaces
        The geocoded, joined spaces.
    """
    n = len(spaces)
    methods = Counter(spaces["location_method"])
    lines = [
        f"# Inventory report: {md_escape(inv.path.name)}",
        "",
        f"Built {dt.datetime.now().isoformat(timespec='seconds')} by cwsgeo {__version__}.",
        "",
        f"- data rows in the file: {inv.n_input_rows}",
        f"- spaces kept: {n} (rows skipped: {inv.n_input_rows - n}, see problems below)",
        f"- located: {n - methods.get('none', 0)} "
        f"(inventory coordinates {methods.get('input', 0)}, address gazetteer "
        f"{methods.get('gazetteer', 0)}, Nominatim {methods.get('nominatim', 0)}); "
        f"not located: {methods.get('none', 0)}",
        f"- outside the city: {int((~spaces['in_city'] & spaces.geometry.notna()).sum())}",
        "",
        "## Located how, or why not",
        "",
        "| row | id | name | address | district | account |",
        "|---:|---|---|---|---|---|",
    ]
    for _, row in spaces.sort_values("source_row").iterrows():
        lines.append(f"| {row['source_row']} | {md_escape(row['id'])} | "
                     f"{md_escape(row['name'])} | {md_escape(row.get('address'))} | "
                     f"{md_escape(row.get('district_name') or '')} | "
                     f"{md_escape(_row_account(row))} |")
    lines += ["", "## Problems found in the inventory", ""]
    if inv.problems:
        lines += [f"- {md_escape(p)}" for p in inv.problems]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------
def _tabular(spaces: gpd.GeoDataFrame) -> pd.DataFrame:
    table = pd.DataFrame(spaces.drop(columns="geometry"))
    table["innovation_type"] = table["innovation_type"].astype("Int64")
    return table


def build(cfg: Config, *, inventory: str | Path | None = None, out: str | Path | None = None,
          dry_run: bool = False, use_cache: bool = True, progress: bool = False) -> BuildResult:
    """Run the whole pipeline and write every output.

    Parameters
    ----------
    cfg
        Project configuration.
    inventory
        Inventory file (default: ``[inventory] path`` of the config; another file is read
        without the configured column options, see :meth:`Config.with_inventory`).
    out
        Folder receiving ``data/processed/`` and ``maps/`` (default: the configured folders).
    dry_run
        Compute and report, but write nothing.
    use_cache
        Reuse cached stage results whose inputs did not change.
    progress
        Show progress bars.

    Returns
    -------
    BuildResult

    Raises
    ------
    cwsgeo.InventoryError
        The inventory has errors (nothing is written).
    cwsgeo.MissingDataError, cwsgeo.DataSourceError
        Inputs are missing or a live source failed (previous outputs are kept).
    """
    start = time.perf_counter()
    if inventory is not None:
        cfg = cfg.with_inventory(inventory)
    with project_lock(cfg.cache_dir):
        return _build(cfg, out=out, dry_run=dry_run, use_cache=use_cache, progress=progress,
                      start=start)


def _remove_stale_temp_files(*folders: Path) -> None:
    """Delete temporary files left by a build that was killed mid-write."""
    for folder in folders:
        if folder.exists():
            for tmp in folder.rglob(".*.tmp*"):
                logger.info("removing %s left by an interrupted build", tmp)
                tmp.unlink(missing_ok=True)


def _build(cfg: Config, *, out: str | Path | None, dry_run: bool, use_cache: bool,
           progress: bool, start: float) -> BuildResult:
    from tqdm.auto import tqdm

    ctx = _Context(cfg, StageCache(cfg.cache_dir, enabled=use_cache, read_only=dry_run),
                   progress)
    inv_path = cfg.inventory_path
    processed, maps_dir = cfg.processed_dir(out), cfg.maps_dir(out)
    if not dry_run:
        _remove_stale_temp_files(processed, maps_dir, cfg.raw_dir, cfg.cache_dir)
    # outputs whose data did not change are not rewritten (the ledger remembers their digest)
    ledger = OutputLedger(cfg.cache_dir / "outputs.json" if use_cache else None)
    steps = ["inputs", "inventory", "geocode", "admin", "layers", "proximity", "density",
             "tables", "maps"]
    bar = tqdm(total=len(steps), desc="build", unit="stage", disable=not progress,
               leave=False)

    def step(name: str) -> None:
        bar.set_postfix_str(name)

    def done() -> None:
        bar.update(1)

    pending: list[Task[Any]] = []
    try:
        step("inputs")
        with ctx.timed("inputs"):
            raw = ensure_raw(cfg, progress=progress, dry_run=dry_run)
        done()
        step("inventory")
        with ctx.timed("admin"):
            admin = _stage_admin(ctx, raw)
        with ctx.timed("inventory"):
            inv = _stage_inventory(ctx, inv_path, admin, raw)
        done()
        step("geocode")
        with ctx.timed("geocode"):
            spaces = _stage_geocode(ctx, inv, raw)
        done()
        step("admin")
        with ctx.timed("admin"):
            from .admin import join_admin

            spaces = join_admin(spaces, admin)
            spaces["innovation_label"] = [INNOVATION_LABELS[None if pd.isna(v) else int(v)]
                                          for v in spaces["innovation_type"]]
        done()
        result = BuildResult(spaces=spaces, n_rows=len(spaces),
                             n_located=int(spaces.geometry.notna().sum()
                                           - spaces.geometry.is_empty.sum()),
                             methods=dict(Counter(spaces["location_method"])),
                             statuses=dict(Counter(spaces["geocode_status"])),
                             dry_run=dry_run)
        step("layers")
        with ctx.timed("layers"):
            places, transit, layer_keys = _stage_layers(ctx, raw, admin)
        done()
        step("proximity")
        prox = _stage_proximity(ctx, raw, admin, spaces, places, transit, layer_keys)
        spaces = _keep_input_columns(spaces, prox.metrics.columns)
        spaces = gpd.GeoDataFrame(pd.concat([spaces, prox.metrics], axis=1),
                                  geometry="geometry", crs=spaces.crs)
        result.spaces = spaces
        result.extra["proximity_computed"] = prox.n_computed
        result.extra["coverage"] = prox.coverage
        if not dry_run:
            with ctx.timed("proximity_outputs"):
                result.outputs["proximity_by_type"] = write_csv(
                    prox.by_type, processed / "proximity_by_type.csv")
                result.outputs["coverage"] = write_csv(prox.coverage, processed / "coverage.csv")
                result.outputs["residents_allocation"] = write_csv(
                    prox.residents_report, processed / "residents_allocation.csv")
                surface_path = processed / "accessibility_surface.gpkg"
                surface_key = frame_digest(prox.surface)
                if not ledger.fresh(surface_path, surface_key):
                    write_gpkg({"nodes": prox.surface.to_crs(settings.crs_store)}, surface_path)
                    ledger.record(surface_path, surface_key)
                result.outputs["surface"] = surface_path
        done()
        step("density")
        with ctx.timed("density"):
            densities = _stage_density(ctx, admin, spaces, places, transit,
                                       [*_file_key(raw.paths("admin"), raw), *layer_keys])
            density_files = None
            if not dry_run:
                from .density import write_density_outputs

                # the PNG figures (matplotlib: the slowest writer) are drawn side by side with
                # the tables and maps below
                density_files = background(lambda: _write_figures(
                    densities, processed / "figures", ledger), "density figures")
                pending.append(density_files)
                for name, path in write_density_outputs(densities, processed,
                                                        ledger=ledger).items():
                    result.outputs[f"density_{name}"] = path
        done()
        step("tables")
        with ctx.timed("tables"):
            report = inventory_report(inv, spaces)
            state = snapshot(spaces)
            changes = compare(read_json(processed / STATE_FILE), state)
            result.extra["changes"] = changes
            if not dry_run:
                names = dict(zip(admin.districts["district_code"],
                                 admin.districts["district_name"], strict=True))
                result.outputs["changes_md"] = write_text(processed / "changes.md",
                                                          changes.to_markdown(names))
                result.outputs["changes_json"] = write_json(processed / "changes.json",
                                                            changes.to_dict())
                table = _tabular(spaces)
                result.outputs["spaces_gpkg"] = write_gpkg(
                    {"coworking_spaces": spaces.to_crs(settings.crs_store),
                     "walk_areas_10min": prox.areas.to_crs(settings.crs_store)},
                    processed / "coworking_spaces.gpkg")
                result.outputs["spaces_csv"] = write_csv(table, processed / "coworking_spaces.csv")
                result.outputs["report"] = write_text(processed / "inventory_report.md", report)
        done()
        step("maps")
        with ctx.timed("maps"):
            if not dry_run:
                result.outputs.update(_write_maps(ctx, raw, admin, spaces, places, transit,
                                                  prox, densities, maps_dir))
        if density_files is not None:
            with ctx.timed("figures (wait)"):
                paths, entries = density_files.result()
            result.outputs.update(paths)
            ledger.entries.update(entries)
        done()
        if not dry_run:
            ledger.save()
            # written last: the next build compares with the outputs of a completed build
            write_json(processed / STATE_FILE, state)
    finally:
        for task in pending:  # a failed or interrupted build leaves no writer running
            task.cancel()
        bar.close()
    result.timings = ctx.timings
    result.cache_hits = list(ctx.cache.hits)
    result.wall_s = time.perf_counter() - start
    return result


def _write_maps(ctx: _Context, raw: RawData, admin: Any, spaces: gpd.GeoDataFrame,
                places: gpd.GeoDataFrame, transit: gpd.GeoDataFrame, prox: _Proximity,
                densities: Any, maps_dir: Path) -> dict[str, Path]:
    """Write the innovation-type map and the density map."""
    from .maps import density_map, display_cache, innovation_map

    cfg = ctx.cfg
    manifest = raw.manifest
    common = {"assets": cfg.maps.assets, "tiles": cfg.maps.tiles, "streets": prox.streets}
    with display_cache(cfg.cache_dir / "display" if ctx.cache.enabled else None):
        # the two pages are independent: one is rendered in a forked child meanwhile
        density = background(lambda: density_map(
            densities, admin, maps_dir / "density.html", spaces=spaces, **common,
            attributions=attributions(manifest, ("admin", "places", "transit", "inventory"))),
            "density map")
        try:
            innovation = innovation_map(
                spaces, admin, maps_dir / "innovation_types.html", transit=transit,
                places=places, places_density=densities.kde_places.get("all"),
                walk_areas=prox.areas, **common,
                attributions=attributions(manifest, ("admin", "places", "transit", "network",
                                                     "inventory")))
            return {"map": innovation, "density_map": density.result()}
        finally:
            density.cancel()  # no-op once collected; stops it after an error


def _write_figures(densities: Any, folder: Path, ledger: OutputLedger
                   ) -> tuple[dict[str, Path], dict[str, Any]]:
    """Write the density figures; return them and their ledger entries.

    Runs in a forked child (:func:`cwsgeo._parallel.background`): the entries let the parent
    record what the child wrote.
    """
    from .density import write_density_figures

    paths = {f"figure_{name}": path for name, path in
             write_density_figures(densities, folder, ledger=ledger).items()}
    keys = {str(p.resolve()) for p in paths.values()}
    return paths, {k: v for k, v in ledger.entries.items() if k in keys}


def geocode_file(cfg: Config, path: str | Path, output: str | Path, *,
                 progress: bool = False) -> str:
    """Geocode an inventory file and write the table (``.csv``, ``.gpkg`` or ``.geojson``).

    Returns
    -------
    str
        A one-line summary.
    """
    from ._errors import ConfigError
    from ._io import atomic_path
    from .geocoding import Geocoder, geocode_table

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".gpkg", ".geojson"):
        raise ConfigError(f"unsupported output {output.name!r}: use .csv, .gpkg or .geojson")
    cfg = cfg.with_inventory(path)
    if output.resolve() == cfg.inventory_path.resolve():
        raise ConfigError(f"the output {output} is the inventory itself: choose another file "
                          "(inputs are never overwritten)")
    inv = read_inventory(cfg.inventory_path, cfg.inventory.columns,
                         cfg.inventory.ignore_columns, cfg.inventory.sheet)
    raw = cfg.raw_dir / "addresses"
    folder = raw if raw.exists() else None
    with Geocoder.from_config(cfg, folder) as geocoder:
        table = geocode_table(inv.data, geocoder, progress=progress)
    if suffix == ".csv":
        write_csv(_tabular(table), output)
    elif suffix == ".gpkg":
        write_gpkg({"geocoded": table}, output)
    else:
        with atomic_path(output) as tmp:
            table.to_file(tmp, driver="GeoJSON", engine="pyogrio")
    counts = Counter(table["geocode_status"])
    located = int(table.geometry.notna().sum() - table.geometry.is_empty.sum())
    return (f"{len(table)} rows, {located} located ("
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f") -> {output}")


def watch(cfg: Config, *, inventory: str | Path | None = None, out: str | Path | None = None,
          use_cache: bool = True, progress: bool = False, interval: float = 1.0,
          report: Callable[[str], None] = print, max_builds: int | None = None,
          stop_event: Any = None) -> int:
    """Build, then rebuild whenever the inventory file changes (until interrupted).

    A failed build (bad inventory, failed source) is reported and watching goes on; the
    previous outputs stay in place.

    Parameters
    ----------
    cfg, inventory, out, use_cache, progress
        As in :func:`build`.
    interval
        Polling period in seconds, used where file-system events are unavailable.
    report
        Called with each build's summary or error message.
    max_builds
        Stop after this many builds (for tests); ``None`` runs until interrupted.
    stop_event
        A ``threading.Event`` that stops watching when set.

    Returns
    -------
    int
        Number of builds run.
    """
    import os

    from watchfiles import watch as fs_watch

    from ._errors import CwsgeoError

    if inventory is not None:
        cfg = cfg.with_inventory(inventory)
    path = cfg.inventory_path
    builds = 0

    def run_once() -> None:
        nonlocal builds
        builds += 1
        try:
            report(build(cfg, out=out, use_cache=use_cache, progress=progress).summary())
        except (CwsgeoError, OSError) as exc:
            report(f"build failed, previous outputs kept: {exc}")
        except Exception as exc:  # keep watching: the next edit may fix it
            logger.exception("build failed")
            report(f"build failed (internal error {type(exc).__name__}: {exc}), previous "
                   "outputs kept")

    run_once()
    if max_builds is not None and builds >= max_builds:
        return builds
    report(f"watching {path} for changes (Ctrl-C to stop)")
    polling = os.environ.get("CWSGEO_WATCH_POLLING") == "1"
    for _ in fs_watch(path.parent, watch_filter=lambda _c, p: Path(p).name == path.name,
                      stop_event=stop_event, force_polling=polling or None,
                      poll_delay_ms=int(interval * 1000), debounce=400, raise_interrupt=True):
        if not path.exists():
            continue  # mid-save by an editor; the rename will trigger again
        run_once()
        if max_builds is not None and builds >= max_builds:
            break
    return builds
