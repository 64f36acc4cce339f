"""The build: the one place that knows the order of the stages and writes the outputs.

``build`` runs: fetch inputs into ``data/raw/`` (when needed) → read and validate the
inventory → geocode → join districts, barris and sections → places, transit, walking network
→ proximity metrics → densities → tables, report, figures and maps. Each stage
(:mod:`cwsgeo.build.stages`) calls the analysis layer and caches its result by the hash of
its inputs (:mod:`cwsgeo.build.cache`); this module runs them in order, times them, and
writes every output atomically. An inventory with errors stops the build before anything is
written.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .. import __version__, settings
from .._io import read_json, write_csv, write_gpkg, write_json, write_text
from ..analysis.inventory import read_inventory
from ..analysis.inventory.model import Problem
from ..outputs.labels import AreaLabels
from ..schema import INNOVATION_LABELS
from .cache import OutputLedger, StageCache, digest, frame_digest, project_lock
from .changes import compare, snapshot
from .config import Config
from .locating import point_spaces, precision_counts, precision_table
from .parallel import Task, background
from .profiles import city_lexicon, city_literature, city_settings
from .sources import RawData, attributions, ensure_raw, inventory_to_read, read_manifest
from .stages import (
    ProximityResult,
    StageContext,
    file_key,
    keep_input_columns,
    stage_admin,
    stage_density,
    stage_geocode,
    stage_inventory,
    stage_layers,
    stage_proximity,
)

if TYPE_CHECKING:
    from ..analysis.admin import AdminAreas
    from ..analysis.density import DensityResult

logger = logging.getLogger(__name__)

__all__ = ["BuildResult", "build", "geocode_file"]

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
    methods, statuses, precisions, type_sources
        Counts of ``location_method``, ``geocode_status``, ``location_precision`` and
        ``innovation_type_source``.
    timings
        Stage -> seconds.
    wall_s
        Total wall time.
    cache_hits
        Stages served from the cache.
    warnings
        What the keeper should look at: coordinates far from their address, postcodes that
        contradict the gazetteer, certain duplicates (all in ``inventory_report.md`` too).
    """

    outputs: dict[str, Path] = field(default_factory=dict)
    spaces: gpd.GeoDataFrame | None = None
    n_rows: int = 0
    n_located: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    precisions: dict[str, int] = field(default_factory=dict)
    type_sources: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    cache_hits: list[str] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[Problem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One-paragraph summary printed at the end of ``cwsgeo build``."""
        how = ", ".join(f"{k} {v}" for k, v in sorted(self.methods.items()) if k != "none")
        status = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        lines = [f"{'dry run: ' if self.dry_run else ''}{self.n_rows} spaces, "
                 f"{self.n_located} located ({how or 'none'}); geocode status: {status}; "
                 f"{self.wall_s:.1f} s"]
        lines += self._precision_lines()
        lines += self._findings_lines()
        lines += self._warning_lines()
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


    def _findings_lines(self) -> list[str]:
        stats: dict[str, Any] = self.extra.get("statistics") or {}
        if not stats:
            return []
        from ..outputs.findings import skipped_tests
        from ..outputs.stat_figures import band_text

        skipped = skipped_tests(stats)
        tail = (f"; not run: {len(skipped)} ("
                + "; ".join(f"{test}: {reason}" for test, reason in skipped[:3])
                + ("; …" if len(skipped) > 3 else "") + ")" if skipped else "")
        spaces = stats.get("agglomeration", {}).get("spaces")
        if not spaces or spaces.get("skipped"):
            return [f"findings: {len(stats.get('tests', []))} tests in statistics.json and "
                    f"report.html{tail}"]
        ranges = spaces.get("localized_distances_m") or []
        verdict = (f"localized at {band_text(ranges)}" if spaces.get("localized")
                   else "dispersed" if spaces.get("dispersed")
                   else "neither localized nor dispersed")
        sample = stats.get("meta", {}).get("sample")
        reference = stats.get("meta", {}).get("reference", "addresses")
        against = "the address points" if reference in ("addresses", "residents") \
            else f"the {reference}"
        return [f"findings: the spaces are {verdict} (Kd against {against}, "
                f"n = {spaces.get('n')}, {spaces.get('n_sims')} simulations"
                + (f"; {sample['text']}" if sample else "") + "); "
                f"{len(stats.get('tests', []))} tests in statistics.json and report.html"
                + tail]

    def _precision_lines(self) -> list[str]:
        lines = []
        p = self.precisions
        if p:
            lines.append(
                f"locations: {p.get('exact', 0)} exact, {p.get('approximate', 0)} approximate "
                f"(point statistics use these {p.get('exact', 0) + p.get('approximate', 0)}), "
                f"{p.get('area', 0)} by area only, {p.get('outside', 0)} outside the city, "
                f"{p.get('none', 0)} not located (reasons in inventory_report.md)")
        t = self.type_sources
        if t:
            confirmed = t.get("declared", 0) + t.get("reviewed", 0)
            lines.append(f"innovation types: {confirmed} confirmed ({t.get('declared', 0)} "
                         f"declared, {t.get('reviewed', 0)} reviewed), "
                         f"{t.get('estimated', 0)} estimated from listing texts"
                         + (" (`cwsgeo classify` writes the sheet to review them)"
                            if t.get("estimated", 0) else ""))
        return lines

    def _warning_lines(self, shown: int = 5) -> list[str]:
        from ..analysis.inventory.duplicates import duplicate_summary

        lines = []
        groups = self.extra.get("duplicates")
        if groups is not None and not groups.empty:
            lines.append(f"possible duplicates: {duplicate_summary(groups)} (see "
                         "inventory_report.md; `--dedupe` merges the certain ones)")
        if self.warnings:
            lines.append(f"warnings ({len(self.warnings)}; all in inventory_report.md):")
            lines += [f"  {p}" for p in self.warnings[:shown]]
            if len(self.warnings) > shown:
                lines.append(f"  … and {len(self.warnings) - shown} more")
        return lines


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
    cfg = cfg.resolved()  # values left to cwsgeo.settings are read now, not at import
    with project_lock(cfg.cache_dir), _city_settings(cfg, dry_run, progress):
        result = _Build(cfg, out, dry_run, use_cache, progress).run()
    result.wall_s = time.perf_counter() - start
    return result


@contextmanager
def _city_settings(cfg: Config, dry_run: bool, progress: bool) -> Iterator[None]:
    """Apply the city profile for the build, on up-to-date inputs (fetched first if needed)."""
    manifest = ensure_raw(cfg, progress=progress, dry_run=dry_run).manifest
    with city_settings(cfg.profile, manifest):
        yield


def _inventory_state_path(cfg: Config, inventory: Path) -> Path:
    """Where the state of the last build of ``inventory`` is kept (``cache/states/``)."""
    return cfg.cache_dir / "states" / f"{digest(str(inventory.resolve()))[:16]}.json"


#: Largest location radius of a point compared by the duplicate check (address points).
DUPLICATE_POINT_RADIUS_M = 30.0


def _areas_as_certain_as_located(spaces: gpd.GeoDataFrame, admin: Any) -> gpd.GeoDataFrame:
    """Blank the barri / district of spaces located only by area when the texts leave it open.

    A space placed at a landmark 1 km away may lie in a neighbouring barri: its barri (and
    census section) is kept only when its texts name that barri, its district only when every
    area they name lies in it (:func:`~cwsgeo.analysis.geocoding.certain_areas`).
    """
    from ..analysis.geocoding import certain_areas

    if "location_precision" not in spaces.columns:
        return spaces
    barris = admin.barris
    certain = certain_areas(spaces, dict(zip(barris["barri_code"].astype(str),
                                             barris["district_code"].astype(str),
                                             strict=True)))
    area = (spaces["location_precision"] == "area").to_numpy()
    out = spaces.copy()
    for columns, known in ((("barri_code", "barri_name"), certain["barri_certain"]),
                           (("district_code", "district_name"), certain["district_certain"])):
        for column in columns:
            out.loc[area & ~known.to_numpy(), column] = pd.NA
    if "section_code" in out.columns:
        out.loc[area, "section_code"] = pd.NA
    return out


def _with_area_only_counts(densities: DensityResult, spaces: pd.DataFrame) -> DensityResult:
    """Add ``spaces_area_only`` to the district and barri tables, beside ``spaces``.

    ``spaces`` counts the spaces whose point is precise enough for point statistics;
    ``spaces_area_only`` the spaces known only by an area their texts name for sure (their
    barri / district code is kept by :func:`_areas_as_certain_as_located`).
    """
    if "location_precision" not in spaces.columns:
        return densities
    area = spaces[spaces["location_precision"] == "area"]
    tables = {}
    for name, code in (("districts", "district_code"), ("barris", "barri_code")):
        table = getattr(densities, name).copy()
        counts = area[code].dropna().astype(str).value_counts()
        values = table[code].astype(str).map(counts).fillna(0).astype(int)
        table.insert(table.columns.get_loc("spaces") + 1, "spaces_area_only", values)
        tables[name] = table
    return replace(densities, **tables)


def _remove_stale_temp_files(*folders: Path) -> None:
    """Delete temporary files left by a build that was killed mid-write."""
    for folder in folders:
        if folder.exists():
            for tmp in folder.rglob(".*.tmp*"):
                logger.info("removing %s left by an interrupted build", tmp)
                tmp.unlink(missing_ok=True)


class _Build:
    """One run of the pipeline: the stages in order, then the outputs (see :func:`build`)."""

    STEPS = ("inputs", "inventory", "geocode", "admin", "layers", "proximity", "density",
             "tables", "maps", "exports", "findings", "workbook")

    def __init__(self, cfg: Config, out: str | Path | None, dry_run: bool, use_cache: bool,
                 progress: bool) -> None:
        self.cfg, self.dry_run, self.progress = cfg, dry_run, progress
        self.ctx = StageContext(cfg, StageCache(cfg.cache_dir, enabled=use_cache,
                                                read_only=dry_run), progress)
        self.processed, self.maps_dir = cfg.processed_dir(out), cfg.maps_dir(out)
        # outputs whose data did not change are not rewritten (the ledger keeps their digest)
        self.ledger = OutputLedger(cfg.cache_dir / "outputs.json" if use_cache else None)
        self.pending: list[Task[Any]] = []
        self._read_layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[str]] | None = None
        self.result = BuildResult(dry_run=dry_run)

    def run(self) -> BuildResult:
        from tqdm.auto import tqdm

        if not self.dry_run:
            _remove_stale_temp_files(self.processed, self.maps_dir, self.cfg.raw_dir,
                                     self.cfg.cache_dir)
        bar = tqdm(total=len(self.STEPS), desc="build", unit="stage",
                   disable=not self.progress, leave=False)
        try:
            for name in self.STEPS:
                bar.set_postfix_str(name)
                getattr(self, f"step_{name}")()
                bar.update(1)
            if not self.dry_run:
                self.ledger.save()
                # written last: the next build compares with the outputs of a completed build
                # (of this folder, and of this inventory whatever folder it goes to next)
                write_json(self.processed / STATE_FILE, self.state)
                write_json(_inventory_state_path(self.cfg, self.inventory_path), self.state)
        finally:
            for task in self.pending:  # a failed or interrupted build leaves no writer running
                task.cancel()
            bar.close()
        self.result.timings = self.ctx.timings
        self.result.cache_hits = list(self.ctx.cache.hits)
        return self.result

    def step_inputs(self) -> None:
        with self.ctx.timed("inputs"):
            self.raw = ensure_raw(self.cfg, progress=self.progress, dry_run=self.dry_run)
            self.inventory_path = inventory_to_read(self.cfg, self.dry_run)

    def step_inventory(self) -> None:
        with self.ctx.timed("admin"):
            self.admin = stage_admin(self.ctx, self.raw)
        with self.ctx.timed("inventory"):
            self.inv = stage_inventory(self.ctx, self.inventory_path, self.admin, self.raw)

    def step_geocode(self) -> None:
        with self.ctx.timed("geocode"):
            self.spaces = stage_geocode(self.ctx, self.inv, self.raw)
        with self.ctx.timed("texts"):
            self.spaces = self._texts(self.spaces)
        with self.ctx.timed("text_locations"):
            self.spaces = self._locations(self.spaces)
        with self.ctx.timed("qa"):
            self.spaces = self._quality_checks(self.spaces)

    def _texts(self, spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Screen the listing texts; merge reviewed types (``innovation_type`` = confirmed)."""
        from .texts import attach_texts, read_review, stage_texts

        self.texts = stage_texts(self.ctx, self.inv, self.raw)
        review, name = read_review(self.cfg)
        return gpd.GeoDataFrame(attach_texts(spaces, self.texts, review, name),
                                geometry="geometry", crs=spaces.crs)

    def _locations(self, spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Locate the rows without address from their texts; class every location."""
        from .locating import attach_locations, stage_text_locations

        transit = self._layers()[1] if self.raw.paths("transit") else None
        located = stage_text_locations(self.ctx, spaces, self.texts, self.raw, self.admin,
                                       transit=transit)
        return attach_locations(spaces, located,
                                point_radius_m=self.cfg.geocoding.point_radius_m)

    def _quality_checks(self, spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Find duplicates (merge the certain ones with ``dedupe``) and location warnings."""
        from ..analysis.inventory.duplicates import (
            duplicate_problems,
            find_duplicates,
            merge_duplicates,
        )
        from ..analysis.inventory.location import location_problems

        # a point only says "same address" when it is an address point: spaces placed at
        # the same station or landmark from their texts are not the same space
        # and the listing texts link the same space listed twice, in one language or two
        groups = find_duplicates(point_spaces(spaces, DUPLICATE_POINT_RADIUS_M),
                                 texts=self.texts,
                                 city_words=city_lexicon(self.cfg.profile).city_words)
        if self.cfg.inventory.dedupe and not groups.empty:
            spaces, groups = merge_duplicates(spaces, groups)
            spaces = gpd.GeoDataFrame(spaces, geometry="geometry", crs=self.spaces.crs)
        file = self.inv.path.name
        self.duplicates = groups
        self.location_warnings = location_problems(
            spaces, file, max_m=settings.coord_mismatch_m,
            columns={v: k for k, v in self.inv.columns_map.items()})
        self.result.warnings = [
            *self.location_warnings,
            *[p for p in duplicate_problems(groups, file) if p.code == "duplicate_space"]]
        self.result.extra["duplicates"] = groups
        return spaces

    def step_admin(self) -> None:
        from ..analysis.admin import join_admin

        with self.ctx.timed("admin"):
            spaces = _areas_as_certain_as_located(join_admin(self.spaces, self.admin),
                                                  self.admin)
            spaces["innovation_label"] = [INNOVATION_LABELS[None if pd.isna(v) else int(v)]
                                          for v in spaces["innovation_type"]]
        res = self.result
        res.spaces, res.n_rows = spaces, len(spaces)
        res.n_located = int(spaces.geometry.notna().sum() - spaces.geometry.is_empty.sum())
        res.methods = dict(Counter(spaces["location_method"]))
        res.statuses = dict(Counter(spaces["geocode_status"]))
        res.precisions = precision_counts(spaces)
        if "innovation_type_source" in spaces.columns:
            res.type_sources = dict(Counter(spaces["innovation_type_source"].astype(str)))
        self.spaces = spaces

    def step_layers(self) -> None:
        with self.ctx.timed("layers"):
            self.places, self.transit, self.layer_keys = self._layers()

    def _layers(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[str]]:
        """Places and transit, read once per build (the text locator reads the transit too)."""
        if self._read_layers is None:
            self._read_layers = stage_layers(self.ctx, self.raw, self.admin)
        return self._read_layers

    def step_proximity(self) -> None:
        points = point_spaces(self.spaces, self.cfg.geocoding.point_radius_m)
        prox = stage_proximity(self.ctx, self.raw, self.admin, points, self.places,
                               self.transit, self.layer_keys)
        spaces = keep_input_columns(self.spaces, prox.metrics.columns)
        metrics = prox.metrics.set_axis(spaces.index)  # indexed by id, in the spaces' order
        self.spaces = gpd.GeoDataFrame(pd.concat([spaces, metrics], axis=1),
                                       geometry="geometry", crs=spaces.crs)
        self.prox = prox
        self.result.spaces = self.spaces
        self.result.extra["proximity_computed"] = prox.n_computed
        self.result.extra["coverage"] = prox.coverage
        if self.dry_run:
            return
        out, folder = self.result.outputs, self.processed
        with self.ctx.timed("proximity_outputs"):
            out["proximity_by_type"] = write_csv(prox.by_type, folder / "proximity_by_type.csv")
            out["coverage"] = write_csv(prox.coverage, folder / "coverage.csv")
            out["residents_allocation"] = write_csv(prox.residents_report,
                                                    folder / "residents_allocation.csv")
            out["surface"] = self.ledger.write_if_changed(
                folder / "accessibility_surface.gpkg", frame_digest(prox.surface),
                lambda path: write_gpkg({"nodes": prox.surface.to_crs(settings.crs_store)},
                                        path))

    def step_density(self) -> None:
        with self.ctx.timed("density"):
            base_key = [*file_key(self.raw.paths("admin"), self.raw), *self.layer_keys]
            points = point_spaces(self.spaces, self.cfg.geocoding.point_radius_m)
            densities = stage_density(self.ctx, self.admin, points, self.places,
                                      self.transit, base_key)
            self.densities = densities = _with_area_only_counts(densities, self.spaces)
            if self.dry_run:
                return
            # the writers' libraries (matplotlib, folium) are imported once, here, before the
            # forks below, so the writers inherit them instead of importing them again
            from ..outputs import figures, maps  # noqa: F401
            from ..outputs.tables import density_files

            # the PNG figures (matplotlib: the slowest writer) are drawn side by side with
            # the tables and maps below
            ledger, folder = self.ledger, self.processed
            credits = attributions(self.raw.manifest, ("admin", "inventory"))
            words = self.cfg.profile.area_labels()
            note = self.cfg.profile.population.residents_note()
            self.figure_task = background(lambda: _write_figures(
                densities, folder / "figures", ledger, credits, words, note),
                "density figures")
            # the density page needs nothing the later steps make: it is drawn meanwhile too
            ctx, raw, admin, spaces, prox = self.ctx, self.raw, self.admin, self.spaces, self.prox
            self.pending.append(self.figure_task)
            self.density_map_task: Task[Path] | None = None
            if not self.cfg.statistics.enabled:  # else drawn with the hot spots, at the end
                self.density_map_task = background(lambda: _write_density_map(
                    ctx, raw, admin, spaces, prox, densities, self.maps_dir), "density map")
                self.pending.append(self.density_map_task)
            for out_file in density_files(densities):
                self.result.outputs[f"density_{out_file.name}"] = ledger.write_if_changed(
                    folder / out_file.name, _content_key(out_file.data), out_file.write)

    def step_tables(self) -> None:
        from ..outputs.report import inventory_accounts, inventory_report

        with self.ctx.timed("tables"):
            with self.ctx.timed("inventory_report"):
                words = self.cfg.profile.area_labels()
                accounts = inventory_accounts(self.spaces, words)
                report = inventory_report(self.inv, self.spaces, version=__version__,
                                          duplicates=self.duplicates,
                                          location=self.location_warnings, accounts=accounts,
                                          labels=words)
            with self.ctx.timed("change_snapshot"):
                self.state = snapshot(self.spaces)
                changes = compare(self._previous_state(), self.state)
            self.result.extra["changes"] = changes
            if self.dry_run:
                return
            out, folder, districts = self.result.outputs, self.processed, self.admin.districts
            names = dict(zip(districts["district_code"], districts["district_name"],
                             strict=True))
            out["changes_md"] = write_text(folder / "changes.md", changes.to_markdown(names))
            change_record = changes.to_dict()
            out["changes_json"] = write_json(folder / "changes.json", change_record)
            out["spaces_gpkg"] = write_gpkg(
                {"coworking_spaces": self.spaces.to_crs(settings.crs_store),
                 "walk_areas_10min": self.prox.areas.to_crs(settings.crs_store)},
                folder / "coworking_spaces.gpkg")
            tabular = _tabular(self.spaces)
            out["spaces_csv"] = write_csv(tabular, folder / "coworking_spaces.csv")
            out["report"] = write_text(folder / "inventory_report.md", report)
            # every row of the report's tables (the Markdown shows the first 500)
            out["accounts"] = write_csv(accounts, folder / "inventory_accounts.csv")
            out["duplicates"] = write_csv(self.duplicates, folder / "inventory_duplicates.csv")
            out["precision"] = write_csv(
                precision_table(self.spaces, self.cfg.geocoding.point_radius_m, words),
                folder / "location_precision.csv")
            self._start_workbook(change_record, tabular)

    def _start_workbook(self, changes: dict[str, Any], tabular: pd.DataFrame) -> None:
        """Write the XLSX workbook in the background (collected by :meth:`step_workbook`)."""
        from ..outputs.workbook import changes_table

        prox, dens = self.prox, self.densities
        tables = {"spaces": tabular, "districts": dens.districts,
                  "barris": dens.barris, "proximity_by_type": prox.by_type,
                  "coverage": prox.coverage, "residents_allocation": prox.residents_report,
                  "changes": changes_table(changes)}
        path, ledger = self.processed / "cwsgeo_tables.xlsx", self.ledger
        self.workbook_task = background(lambda: _write_workbook(tables, path, ledger),
                                        "workbook")
        self.pending.append(self.workbook_task)

    def _previous_state(self) -> dict[str, Any] | None:
        """Return the last build of this inventory (into any folder), else of this folder."""
        previous = read_json(_inventory_state_path(self.cfg, self.inventory_path))
        return previous if previous is not None else read_json(self.processed / STATE_FILE)

    def step_maps(self) -> None:
        with self.ctx.timed("maps"):
            if self.dry_run:
                return
            self.result.outputs["map"] = _write_innovation_map(
                self.ctx, self.raw, self.admin, self.spaces, self.places, self.transit,
                self.prox, self.densities, self.maps_dir)
            if self.density_map_task is not None:
                self.result.outputs["density_map"] = self.density_map_task.result()
        with self.ctx.timed("figures (wait)"):
            paths, entries = self.figure_task.result()
        self.result.outputs.update(paths)
        self.ledger.entries.update(entries)

    def step_exports(self) -> None:
        """Context layers, GeoParquet twins and the QGIS project (the workbook comes last)."""
        from ..outputs.qgis import cwsgeo_project, write_context_gpkg, write_qgz

        with self.ctx.timed("exports"):
            if self.dry_run:
                return
            out, folder, dens = self.result.outputs, self.processed, self.densities
            out["context_gpkg"] = self.ledger.write_if_changed(
                folder / "context.gpkg", digest(frame_digest(self.transit),
                                                frame_digest(self.places)),
                lambda path: write_context_gpkg(self.transit, self.places, path))
            for gpkg in sorted({p for p in out.values() if p.suffix == ".gpkg"}):
                out.update({f"parquet_{p.name}": p for p in _geoparquet(gpkg, self.ledger)})
            xml = cwsgeo_project(dens, folder, transit=self.transit, places=self.places,
                                 title=f"cwsgeo: coworking spaces in {self.cfg.profile.name}",
                                 labels=self.cfg.profile.area_labels())
            out["qgis"] = self.ledger.write_if_changed(folder / "cwsgeo.qgz", digest(xml),
                                                       lambda path: write_qgz(xml, path))

    def step_workbook(self) -> None:
        """Collect the XLSX workbook, written in the background beside the maps and findings."""
        with self.ctx.timed("workbook (wait)"):
            if self.dry_run:
                return
            self.result.outputs["workbook"], entries = self.workbook_task.result()
            self.ledger.entries.update(entries)

    def step_findings(self) -> None:
        """Statistics (Kd, co-location, hot spots, comparisons by type) and the report."""
        from .stages import ProximityStage
        from .statistics import stage_statistics, write_findings

        scfg = self.cfg.statistics
        if not scfg.enabled:
            return
        with self.ctx.timed("statistics"):
            network = (ProximityStage(self.ctx, self.raw, self.admin, self.places,
                                      self.transit, self.layer_keys).network
                       if scfg.network else None)
            findings = stage_statistics(self.ctx, self.raw, self.admin, self.spaces,
                                        self.places, self.transit, self.densities, network)
        if findings is None:
            return
        self.result.extra["statistics"] = findings.statistics
        if self.dry_run:
            return
        with self.ctx.timed("maps"):
            self.result.outputs["density_map"] = _write_density_map(
                self.ctx, self.raw, self.admin, self.spaces, self.prox, self.densities,
                self.maps_dir, hotspots=findings.hotspot_units)
        with self.ctx.timed("report"):
            profile = self.cfg.profile
            self.result.outputs.update(write_findings(
                findings, self.processed, admin=self.admin,
                sources=attributions(self.raw.manifest), report=scfg.report, pdf=scfg.pdf,
                city=profile.name, literature=city_literature(profile),
                labels=profile.area_labels()))


def _geoparquet(gpkg: Path, ledger: OutputLedger) -> list[Path]:
    """Write (or keep) the GeoParquet twins of a GeoPackage's layers."""
    from .._io import geoparquet_paths, gpkg_layers, sha256_file, write_geoparquet_twins

    key = digest("geoparquet", sha256_file(gpkg))
    twins = list(geoparquet_paths(gpkg, gpkg_layers(gpkg)).values())
    if not all(ledger.fresh(p, key) for p in twins):
        twins = list(write_geoparquet_twins(gpkg).values())
        for p in twins:
            ledger.record(p, key)
    return twins


def _map_options(ctx: StageContext, prox: ProximityResult) -> dict[str, Any]:
    """Options both pages share (display geometry is kept in ``cache/display``)."""
    from .cache import FileStore

    cfg = ctx.cfg
    store = FileStore(cfg.cache_dir / "display", keep=200) if ctx.cache.enabled else None
    return {"assets": cfg.maps.assets, "tiles": cfg.maps.tiles, "streets": prox.streets,
            "store": store}


def _write_density_map(ctx: StageContext, raw: RawData, admin: AdminAreas,
                       spaces: gpd.GeoDataFrame, prox: ProximityResult,
                       densities: DensityResult, maps_dir: Path,
                       hotspots: Mapping[str, gpd.GeoDataFrame] | None = None) -> Path:
    """Write the density map (``maps/density.html``), with the hot spots when computed."""
    from ..outputs.maps import density_map

    return density_map(
        densities, admin, maps_dir / "density.html", spaces=spaces, hotspots=hotspots,
        kde_bands=densities.contours, **_map_options(ctx, prox),
        labels=ctx.cfg.profile.area_labels(),
        attributions=attributions(raw.manifest, ("admin", "places", "transit", "inventory")))


def _write_innovation_map(ctx: StageContext, raw: RawData, admin: AdminAreas,
                          spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
                          transit: gpd.GeoDataFrame, prox: ProximityResult,
                          densities: DensityResult, maps_dir: Path) -> Path:
    """Write the innovation-type map (``maps/innovation_types.html``)."""
    from ..outputs.maps import innovation_map

    return innovation_map(
        spaces, admin, maps_dir / "innovation_types.html", transit=transit,
        places=places, places_density=densities.kde_places.get("all"),
        places_bands=densities.contours.get("places"), walk_areas=prox.areas,
        **_map_options(ctx, prox), city=ctx.cfg.profile.name,
        labels=ctx.cfg.profile.area_labels(),
        attributions=attributions(raw.manifest, ("admin", "places", "transit", "network",
                                                 "inventory")))


def _write_figures(densities: DensityResult, folder: Path, ledger: OutputLedger,
                   credits: Sequence[str] = (), labels: AreaLabels | None = None,
                   residents_note: str = ""
                   ) -> tuple[dict[str, Path], dict[str, Any]]:
    """Write the density figures; return them and their ledger entries.

    Runs in a forked child (:func:`cwsgeo.build.parallel.background`): the entries let the parent
    record what the child wrote. ``credits``: the data's attribution lines (figure footers);
    ``labels``: the city's words for its areas (figure titles); ``residents_note``: where
    the residents come from (the residents figure's subtitle).
    """
    from ..outputs.figures import RESIDENTS_NOTE, credit_line, density_figures

    paths = {f"figure_{fig.name}": ledger.write_if_changed(folder / fig.name,
                                                           _content_key(fig.data), fig.write)
             for fig in density_figures(densities, source=credit_line(credits),
                                        labels=labels or AreaLabels(),
                                        residents_note=residents_note or RESIDENTS_NOTE)}
    return paths, _entries_of(ledger, paths.values())


def _write_workbook(tables: dict[str, pd.DataFrame], path: Path, ledger: OutputLedger
                    ) -> tuple[Path, dict[str, Any]]:
    """Write (or keep) the XLSX workbook of the tables; return it and its ledger entry.

    Runs in a forked child (:func:`cwsgeo.build.parallel.background`), as the figures do.
    """
    from ..outputs.workbook import write_workbook

    written = ledger.write_if_changed(path, digest(*map(frame_digest, tables.values())),
                                      lambda p: write_workbook(tables, p))
    return written, _entries_of(ledger, [written])


def _entries_of(ledger: OutputLedger, paths: Iterable[Path]) -> dict[str, Any]:
    """Return the ledger entries of ``paths`` (what a forked writer hands back)."""
    keys = {str(p.resolve()) for p in paths}
    return {k: v for k, v in ledger.entries.items() if k in keys}


def _content_key(data: tuple[Any, ...]) -> str:
    """Digest of the data an output file is made from (frames and surfaces by content)."""
    from ..analysis.density import KernelSurface

    return digest(*[frame_digest(d) if hasattr(d, "columns")
                    else d.fingerprint() if isinstance(d, KernelSurface) else d for d in data])


def geocode_file(cfg: Config, path: str | Path, output: str | Path, *,
                 progress: bool = False) -> str:
    """Geocode an inventory file and write the table (``.csv``, ``.gpkg`` or ``.geojson``).

    Returns
    -------
    str
        A one-line summary.
    """
    from .._errors import ConfigError
    from .._io import atomic_path
    from ..analysis.geocoding import geocode_table
    from .geocoder import gazetteer_store, open_geocoder

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".gpkg", ".geojson"):
        raise ConfigError(f"unsupported output {output.name!r}: use .csv, .gpkg or .geojson")
    cfg = cfg.with_inventory(path)
    if output.resolve() == cfg.inventory_path.resolve():
        raise ConfigError(f"the output {output} is the inventory itself: choose another file "
                          "(inputs are never overwritten)")
    inv = read_inventory(cfg.inventory_path, **cfg.inventory.read_options())
    raw = cfg.raw_dir / "addresses"
    folder = raw if raw.exists() else None
    with city_settings(cfg.profile, read_manifest(cfg.raw_dir)), \
            open_geocoder(cfg, folder, index_store=gazetteer_store(cfg)) as geocoder:
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
