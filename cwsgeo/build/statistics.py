"""The findings in the build: agglomeration, co-location, hot spots, comparisons by type.

:func:`stage_statistics` gathers what :mod:`cwsgeo.analysis.stats` needs from the build (the
spaces with a precise point, the gazetteer's address points as the counterfactual sites, the
walking network, places, transit, hexagons and barris), runs every test with one seed and
``[statistics] n_sims`` simulations, and caches the result by its inputs. Its
:class:`Findings` hold ``statistics.json`` (every test: name, parameters, n, statistic,
p-value or band verdict, seed), the Kd curves and the tables; :mod:`cwsgeo.outputs.findings`
writes them with the figures and the report.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__, settings
from .._errors import CwsgeoError, MissingDataError
from ..analysis.stats.minimums import (
    LOCAL_CLQ_K,
    MIN_KD_SIMS,
    MIN_POINTS,
    MIN_TYPE_N,
    MIN_UNITS,
)
from ..outputs.labels import AreaLabels
from .profiles import CityLiterature
from .stages import StageContext, file_key, space_key

if TYPE_CHECKING:
    from ..analysis.admin import AdminAreas
    from ..analysis.density import DensityResult
    from ..analysis.network import WalkNetwork
    from .sources import RawData

logger = logging.getLogger(__name__)

__all__ = ["CROSS_GROUPS", "NETWORK_KD_MAX", "Findings", "sample_note", "sample_rows",
           "stage_statistics", "type_column", "write_findings"]

#: Co-agglomeration partners of the spaces: name -> (layer, categories or modes); no modes:
#: the rail stations of the city's profile (its :attr:`TransitModes.rail_modes`).
CROSS_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cafes and bars": ("places", ("cafe", "bar")),
    "restaurants": ("places", ("restaurant",)),
    "cultural venues": ("places", ("culture_venue",)),
    "rail stations": ("transit", ()),
}

#: Metrics compared by innovation type (when the spaces have them).
COMPARED_METRICS = ("middleground_index", "middleground_index_spatial", "mg_places",
                    "mg_spaces", "mg_events", "mg_projects", "places_buzz",
                    "places_total_10min", "spaces_10min", "transit_any_walk_min",
                    "metro_walk_m", "residents_10min")

#: Most spaces of the network Kd (its cost grows with the square of the spaces).
NETWORK_KD_MAX = 600

#: Place categories of the local co-location quotient, in order.
LOCAL_CLQ_CATEGORIES = ("cafe", "bar", "restaurant", "culture_venue")


@dataclass
class Findings:
    """What the statistics stage gives the outputs.

    Attributes
    ----------
    statistics
        JSON-ready results (``statistics.json``).
    curves
        Kd curves by name (``distance_m``, ``kd``, local and global bands).
    tables
        Result tables by name (CLQs, local CLQs, hot spots, comparisons, indicators).
    hotspot_units
        The hexagons and barris with their cluster labels (for figures and maps), EPSG:25831.
    """

    statistics: dict[str, Any]
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    hotspot_units: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)


def type_column(spaces: pd.DataFrame, choice: str, min_n: int = 10) -> str:
    """Return the type column to compare: confirmed types when enough, else the estimates.

    ``choice`` is ``[statistics] types``: ``confirmed``, ``estimated`` or ``auto`` (the
    confirmed ``innovation_type`` when at least ``min_n`` spaces have one).
    """
    if choice == "confirmed" or "innovation_type_estimated" not in spaces.columns:
        return "innovation_type"
    if choice == "estimated":
        return "innovation_type_estimated"
    confirmed = pd.to_numeric(spaces["innovation_type"], errors="coerce").notna().sum()
    return "innovation_type" if confirmed >= min_n else "innovation_type_estimated"


def stage_statistics(ctx: StageContext, raw: RawData, admin: AdminAreas,
                     spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
                     transit: gpd.GeoDataFrame, densities: DensityResult,
                     network: WalkNetwork | None) -> Findings | None:
    """Run every test of the findings (cached by its inputs); ``None`` when disabled."""
    scfg = ctx.cfg.statistics
    if not scfg.enabled:
        return None
    work = spaces.to_crs(settings.crs_work)
    keep = [c for c in ("id", "innovation_type", "innovation_type_estimated",
                        "innovation_type_source", "location_precision", *COMPARED_METRICS,
                        "screen_evidence", "n_texts") if c in work.columns]
    signature = [[str(k), *map(str, row)] for k, row in zip(
        (space_key(g) for g in work.geometry), work[keep].astype(str).to_numpy().tolist(),
        strict=True)]
    key = [*file_key(raw.paths("addresses"), raw), *file_key(raw.paths("admin"), raw),
           *file_key(raw.paths("places"), raw), *file_key(raw.paths("transit"), raw),
           repr(scfg), repr(ctx.cfg.profile.transit), repr(ctx.cfg.profile.area_labels()),
           signature, __version__]
    return ctx.cache.cached("statistics", key, lambda: _Statistics(
        ctx, raw, admin, work, places, transit, densities, network).run())


def sample_rows(n: int, max_points: int, seed: int) -> np.ndarray:
    """Return the rows the point statistics use: all ``n``, or a seeded sample of ``max_points``.

    The sample is drawn without replacement with ``numpy.random.default_rng(seed)`` and kept
    in the rows' order, so the same inputs, cap and seed give the same sample.
    """
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def sample_note(n: int, max_points: int, seed: int) -> dict[str, Any] | None:
    """Describe the sample of :func:`sample_rows` for ``statistics.json`` (``None``: all rows)."""
    if n <= max_points:
        return None
    return {"n": max_points, "of": n, "seed": seed,
            "text": f"on a sample of {max_points:,} of {n:,} spaces, seed {seed}",
            "applies_to": ["agglomeration", "colocation", "middleground", "comparisons"]}


class _Statistics:
    """One computation of the findings (see :func:`stage_statistics`)."""

    def __init__(self, ctx: StageContext, raw: RawData, admin: AdminAreas,
                 spaces: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
                 transit: gpd.GeoDataFrame, densities: DensityResult,
                 network: WalkNetwork | None) -> None:
        self.ctx, self.raw, self.admin, self.densities = ctx, raw, admin, densities
        self.cfg = ctx.cfg.statistics
        self.words = ctx.cfg.profile.area_labels()  # the city's words in skip reasons
        self.places = places.to_crs(settings.crs_work)
        self.transit = transit.to_crs(settings.crs_work)
        self.network = network
        self.types = type_column(spaces, self.cfg.types)
        if self.types not in spaces.columns:  # no types at all: every space untyped
            spaces = spaces.assign(**{self.types: np.nan})
        self.spaces = spaces
        precise = spaces["location_precision"].isin(["exact", "approximate"]) \
            if "location_precision" in spaces.columns else spaces.geometry.notna()
        self.n_sims, self.seed = int(self.cfg.n_sims or settings.statistics_sims), self.cfg.seed
        self.all_points = spaces[precise.to_numpy() & spaces.geometry.notna().to_numpy()]
        max_points = int(self.cfg.max_points or settings.statistics_max_points)
        self.sample = sample_note(len(self.all_points), max_points, self.seed)
        # above max_points, Kd, co-location and the comparisons run on one seeded sample
        self.points = self.all_points.iloc[sample_rows(len(self.all_points), max_points,
                                                       self.seed)]
        self.findings = Findings(statistics={})
        self.tests: list[dict[str, Any]] = []

    def run(self) -> Findings:
        from tqdm.auto import tqdm

        steps = [self._agglomeration, self._colocation, self._hotspots, self._middleground]
        stats = self.findings.statistics
        stats["meta"] = {"cwsgeo": __version__, "seed": self.seed, "n_sims": self.n_sims,
                         "type_column": self.types, "crs": settings.crs_work,
                         "computed": dt.datetime.now(dt.UTC).isoformat(
                             timespec="seconds"),
                         "reference": self.cfg.reference,
                         "max_distance_m": self.cfg.max_distance_m,
                         "sample": self.sample}
        stats["inputs"] = self._inputs()
        for step in tqdm(steps, desc="statistics", unit="step", leave=False,
                         disable=not self.ctx.progress):
            step()
        stats["tests"] = self.tests
        return self.findings

    # -- inputs --------------------------------------------------------------------------------
    def _inputs(self) -> dict[str, Any]:
        sp = self.spaces
        types = pd.to_numeric(self.points[self.types], errors="coerce").astype("Int64")
        return {
            "spaces_listed": len(sp),
            "located": int(sp.geometry.notna().sum()),
            "precision": {str(k): int(v) for k, v in
                          sp.get("location_precision", pd.Series(dtype=str))
                          .value_counts().items()},
            "points_used": len(self.all_points),
            "points_tested": len(self.points),
            "types_of_points": {str(int(k)): int(v) for k, v in
                                types.dropna().value_counts().sort_index().items()},
            "type_sources": {str(k): int(v) for k, v in
                             sp.get("innovation_type_source", pd.Series(dtype=str))
                             .value_counts().items()},
        }

    def _xy(self, frame: gpd.GeoDataFrame) -> np.ndarray:
        return np.column_stack([frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()])

    def _reference(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Counterfactual sites: address points (optionally residents-weighted) or places."""
        if self.cfg.reference == "places":
            return self._xy(self.places), None
        from pyproj import Transformer

        from .geocoder import gazetteer_store, offline_geocoder

        store = gazetteer_store(self.ctx.cfg, read_only=self.ctx.cache.read_only)
        index = offline_geocoder(self.raw.folder("addresses"), index_store=store).index
        fwd = Transformer.from_crs(settings.crs_store, settings.crs_work, always_xy=True)
        x, y = fwd.transform(index.lon, index.lat)
        inside = self._in_city(np.asarray(x), np.asarray(y))
        xy = np.column_stack([x, y])[inside]
        if self.cfg.reference != "residents" or self.admin.sections is None:
            return xy, None
        sections = pd.Series(index.section).astype(str)[inside]
        population = self.admin.sections.set_index("section_code")["population"]
        per_point = population.reindex(sections.unique()) / sections.value_counts()
        weights = sections.map(per_point).fillna(0.0).to_numpy(dtype=float)
        return xy, weights

    def _in_city(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        import shapely

        city = self.admin.city.to_crs(settings.crs_work).union_all()
        return np.asarray(shapely.contains_xy(city, x, y))

    def _record(self, name: str, result: dict[str, Any]) -> dict[str, Any]:
        self.tests.append({**result, "name": name, "kind": result.get("name")})
        return result

    def _guarded(self, what: str, n: int, run: Callable[[], dict[str, Any]]
                 ) -> dict[str, Any]:
        """Run one test; a ValueError on its inputs becomes a skip with the reason.

        The analysis layer raises ValueError on data it cannot test (e.g. every point at
        one spot, a single neighbourhood of equal counts): a reason, not a crash.
        """
        try:
            return run()
        except ValueError as exc:
            logger.warning("statistics: %s not tested: %s", what, exc)
            return _skipped(f"{what} not computable on these data: {exc}", n)

    # -- agglomeration (Kd) ------------------------------------------------------------------
    def _kd(self, name: str, test: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            result = test(*args, max_distance_m=self.cfg.max_distance_m, n_sims=self.n_sims,
                          seed=self.seed, **kwargs)
            self.findings.curves[name] = result.curve_frame()
            return self._record(name, result.to_dict())

        return self._guarded(name, len(args[0]), run)

    def _kd_skipped(self, n: int, reference: np.ndarray, weights: np.ndarray | None) -> str:
        """Return why Kd cannot run on ``n`` spaces (``""``: it can)."""
        if n < MIN_POINTS:
            return f"too few spaces for Kd: {n} < {MIN_POINTS}"
        if self.n_sims < MIN_KD_SIMS:
            return (f"too few simulations for Kd: n_sims = {self.n_sims} < {MIN_KD_SIMS} "
                    "(its 95 % band)")
        usable = len(reference) if weights is None else int((weights > 0).sum())
        if usable <= n:
            return (f"too few reference points for Kd: {usable} {self.cfg.reference} "
                    f"points, not more than the {n} spaces each simulation draws")
        return ""

    def _agglomeration(self) -> None:
        from ..analysis.stats.kd import kd_cross_test, kd_test

        sites = self._xy(self.points)
        try:
            reference, weights = self._reference()
        except MissingDataError as exc:  # no gazetteer: a new city's project uses the places
            self.findings.statistics["agglomeration"] = {
                "reference": self.cfg.reference, **_skipped(
                    f"no address points for Kd's reference ({exc}); set [statistics] "
                    'reference = "places"', len(sites))}
            return
        out: dict[str, Any] = {"reference": self.cfg.reference,
                               "reference_points": len(reference)}
        skipped = self._kd_skipped(len(sites), reference, weights)
        if skipped:
            out.update(_skipped(skipped, len(sites)))
            self.findings.statistics["agglomeration"] = out
            return
        spaces = self._kd("kd_spaces_euclidean", kd_test, sites, reference, weights=weights)
        if self.cfg.network and self.network is not None and not spaces.get("skipped"):
            skipped = self._network_kd_skipped(sites)
            network = (_skipped(skipped, len(sites)) if skipped else
                       self._kd("kd_spaces_network", kd_test, sites, reference,
                                distance=self.network, weights=weights))
            spaces = {**spaces, "euclidean": dict(spaces), "network": network}
        out["spaces"] = spaces
        out["by_type"] = self._kd_by_type(kd_test, sites, reference, weights)
        out["co_agglomeration"] = {
            group: (self._kd(f"kd_cross_{group.replace(' ', '_')}", kd_cross_test, sites,
                             self._xy(partners), reference, weights=weights)
                    if len(partners) >= MIN_POINTS else
                    _skipped(f"too few {group} for co-agglomeration: {len(partners)} < "
                             f"{MIN_POINTS}", len(sites)))
            for group, partners in self._partners().items()}
        self.findings.statistics["agglomeration"] = out

    def _network_kd_skipped(self, sites: np.ndarray) -> str:
        """Return why the network Kd is not computed (``""``: it is)."""
        from ..analysis.network import snap_points

        assert self.network is not None
        if len(sites) > NETWORK_KD_MAX:
            return (f"{len(sites):,} spaces: over the walking network Kd is run up to "
                    f"{NETWORK_KD_MAX} (its 999 simulations take over 17 minutes at 2,400, "
                    "benchmarks/kd.py); straight-line Kd only")
        off = int((~snap_points(self.network, sites).on_network).sum())
        if off:
            return (f"{off} of {len(sites)} spaces lie farther than {settings.snap_max_m:g} m "
                    "from the walking network: walking distances would be straight-line "
                    "guesses")
        return ""

    def _kd_by_type(self, kd_test: Any, sites: np.ndarray, reference: np.ndarray,
                    weights: np.ndarray | None) -> dict[str, Any]:
        """Each type against the built fabric, and against all spaces (its own pattern)."""
        types = pd.to_numeric(self.points[self.types], errors="coerce").to_numpy()
        out: dict[str, Any] = {"type_column": self.types}
        for kind in (1, 2, 3):
            mine = sites[types == kind]
            if len(mine) < MIN_TYPE_N:
                out[f"type {kind}"] = _skipped(f"n = {len(mine)} < {MIN_TYPE_N}", len(mine))
                continue
            out[f"type {kind}"] = self._kd(f"kd_type{kind}", kd_test, mine, reference,
                                           weights=weights)
            out[f"type {kind} vs all spaces"] = (
                self._kd(f"kd_type{kind}_vs_spaces", kd_test, mine, sites)
                if len(mine) < len(sites) else
                _skipped(f"all {len(sites)} spaces are of type {kind}: no others to draw "
                         "from", len(mine)))
        return out

    def _partners(self) -> dict[str, gpd.GeoDataFrame]:
        layers = {"places": (self.places, "category"), "transit": (self.transit, "mode")}
        out = {}
        rail = list(self.ctx.cfg.profile.transit.rail_modes)
        for group, (layer, values) in CROSS_GROUPS.items():
            frame, column = layers[layer]
            values = values or tuple(rail)
            out[group] = (frame[frame[column].isin(values)] if column in frame.columns
                          else frame.iloc[:0])
        return out

    # -- co-location quotients ---------------------------------------------------------------
    def _colocation(self) -> None:
        n = len(self.points)
        if n < MIN_POINTS:
            self.findings.statistics["colocation"] = _skipped(
                f"too few spaces for co-location quotients: {n} < {MIN_POINTS}", n)
            return
        out: dict[str, Any] = {}
        tables: list[pd.DataFrame] = []
        for population, layer in (("places", self.places), ("transit", self.transit)):
            if len(layer) < MIN_POINTS:
                what = "transit stops" if population == "transit" else population
                out[population] = _skipped(f"too few {what} for co-location quotients: "
                                           f"{len(layer)} < {MIN_POINTS}", n)
                continue
            out.update(self._global_clq(population, {population: layer}, tables))
        out["local"] = self._guarded("local co-location quotient", n, self._local_clq)
        if tables:
            self.findings.tables["clq"] = pd.concat(tables, ignore_index=True)
        self.findings.statistics["colocation"] = out

    def _global_clq(self, population: str, layers: dict[str, gpd.GeoDataFrame],
                    tables: list[pd.DataFrame]) -> dict[str, Any]:
        """Test the spaces, then each type of space, against one layer: results by key."""
        from ..analysis.stats.colocation import colocation_points, global_clq

        n_sims, seed, n = self.n_sims, self.seed, len(self.points)
        out: dict[str, Any] = {}

        def spaces() -> dict[str, Any]:
            pts = colocation_points(self.points, type_column=None, **layers)
            res = global_clq(pts, a="spaces", n_sims=n_sims, seed=seed)
            tables.append(res.table.assign(population=f"spaces + {population}"))
            return self._record(f"clq_spaces_{population}", res.to_dict())

        out[population] = self._guarded(f"co-location quotients with {population}", n, spaces)
        typed = colocation_points(self.points, type_column=self.types, **layers)
        labels = [f"spaces_type{k}" for k in (1, 2, 3)
                  if (typed["label"] == f"spaces_type{k}").sum() >= MIN_TYPE_N]
        if labels:
            def by_type() -> dict[str, Any]:
                res = global_clq(typed, a=labels, n_sims=n_sims, seed=seed)
                tables.append(res.table.assign(population=f"spaces by type + {population}"))
                return self._record(f"clq_types_{population}", res.to_dict())

            out[f"{population}_by_type"] = self._guarded(
                f"co-location quotients of the types with {population}", n, by_type)
        return out

    def _local_clq(self) -> dict[str, Any]:
        from ..analysis.stats.colocation import colocation_points, local_clq

        places = colocation_points(self.points, places=self.places)
        present = set(places["label"])
        targets = [c for c in LOCAL_CLQ_CATEGORIES if c in present]
        if not targets:
            return _skipped("no cafes, bars, restaurants or cultural venues among the places "
                            "for the local co-location quotient", len(self.points))
        if len(places) <= LOCAL_CLQ_K:
            return _skipped(f"too few points for the local co-location quotient: "
                            f"{len(places)} spaces and places, not more than its "
                            f"k = {LOCAL_CLQ_K} neighbours", len(self.points))
        local = local_clq(places, a="spaces", b=targets, k=LOCAL_CLQ_K, n_sims=self.n_sims,
                          seed=self.seed)
        self.findings.tables["local_clq"] = local.table
        return local.to_dict(self.cfg.alpha)

    # -- hot spots ---------------------------------------------------------------------------
    def _hotspots(self) -> None:
        from ..analysis.stats.hotspots import area_hotspots, hex_hotspots

        out = {}
        for name, table, run in (("hexes", self.densities.hexes, hex_hotspots),
                                 ("barris", self.densities.barris, area_hotspots)):
            skipped = _hotspots_skipped(name, table, self.words)
            if skipped:
                out[name] = _skipped(skipped, 0 if table is None else len(table))
                continue
            out[name] = self._guarded(
                f"hot spots per {'H3 cell' if name == 'hexes' else self.words.singular(name)}",
                len(table),
                partial(self._hotspot, name, table, run))
        self.findings.statistics["hotspots"] = out

    def _hotspot(self, name: str, table: gpd.GeoDataFrame, run: Any) -> dict[str, Any]:
        res = run(table, "spaces", alpha=self.cfg.alpha, permutations=self.n_sims,
                  seed=self.seed)
        units = table.copy()
        joined = res.table.reindex(units["hex_id" if name == "hexes" else "barri_code"]
                                   .to_numpy())
        for column in ("I", "p_value", "cluster", "significant"):
            units[f"lisa_{column}"] = joined[column].to_numpy()
        self.findings.hotspot_units[name] = gpd.GeoDataFrame(
            units, geometry=table.geometry.name, crs=table.crs).to_crs(settings.crs_work)
        self.findings.tables[f"hotspots_{name}"] = res.table
        return self._record(f"local_moran_{name}", res.to_dict())

    # -- middleground and comparisons by type ---------------------------------------------------
    def _middleground(self) -> None:
        n = len(self.points)
        stats = self.findings.statistics
        if n < 2:
            stats["middleground"] = _skipped(
                f"too few spaces for the middleground indicators: {n} < 2", n)
            stats["comparisons"] = _skipped(f"too few spaces to compare by type: {n}", n)
            return
        done = self._guarded("middleground indicators and comparisons by type", n,
                             self._middleground_run)
        if done.get("skipped"):
            if "middleground" not in stats:
                stats["middleground"] = done
                done = _skipped("no middleground indicators to compare by type", n)
            stats.setdefault("comparisons", done)

    def _middleground_run(self) -> dict[str, Any]:
        from ..analysis.stats.compare import compare_by_type
        from ..analysis.stats.middleground import middleground_indicators, middleground_summary

        spaces = self.spaces if self.sample is None else self.points
        spaces = spaces.set_index(spaces["id"].astype(str))
        indicators = middleground_indicators(spaces, net=self.network)
        self.findings.tables["middleground"] = indicators
        self.findings.statistics["middleground"] = middleground_summary(indicators)
        frame = spaces.drop(columns=[c for c in indicators.columns if c in spaces.columns])
        frame = frame.join(indicators)
        metrics = [m for m in COMPARED_METRICS if m in frame.columns]
        kinds = pd.to_numeric(frame[self.types], errors="coerce")
        counts = {k: int((kinds == k).sum()) for k in (1, 2, 3)}
        if sum(n >= MIN_TYPE_N for n in counts.values()) < 2:
            self.findings.statistics["comparisons"] = _skipped(
                f"too few innovation types to compare: fewer than two with {MIN_TYPE_N} "
                f"spaces or more ({self.types}: " + ", ".join(
                    f"type {k} n = {n}" for k, n in counts.items()) + ")",
                sum(counts.values()))
            return {}
        comparison = compare_by_type(frame, metrics, type_col=self.types, seed=self.seed)
        for name in ("groups", "kruskal", "pairwise", "spearman"):
            self.findings.tables[f"by_type_{name}"] = getattr(comparison, name)
        result = comparison.to_dict()
        for kind in ("kruskal", "pairwise", "spearman"):
            self.tests += result[kind]
        self.findings.statistics["comparisons"] = result
        self.findings.tables["by_type_values"] = frame[[self.types, *metrics]].reset_index()
        return {}


def _skipped(reason: str, n: int) -> dict[str, Any]:
    """Return the record of a test not run: the reason, and the n it would have had."""
    return {"skipped": reason, "n": int(n)}


def _hotspots_skipped(name: str, table: pd.DataFrame | None,
                      labels: AreaLabels | None = None) -> str:
    """Return why the hot spots per ``name`` are not tested (``""``: they are)."""
    unit = "H3 cells" if name == "hexes" else (labels or AreaLabels()).plural(name)
    if table is None or not len(table):
        return f"no {unit} for hot spots"
    spaces = pd.to_numeric(table.get("spaces", pd.Series(dtype=float)), errors="coerce")
    total = int(spaces.fillna(0).sum())
    if total < MIN_POINTS:
        return f"too few spaces for hot spots: {total} < {MIN_POINTS}"
    if len(table) < MIN_UNITS:
        return f"too few {unit} for hot spots: {len(table)} < {MIN_UNITS}"
    return ""


def write_findings(findings: Findings, folder: Path, *, admin: AdminAreas,
                   sources: list[str], report: bool, pdf: bool, city: str = "",
                   literature: CityLiterature | None = None,
                   labels: AreaLabels | None = None) -> dict[str, Path]:
    """Write ``statistics.json``, the curves and tables, the figures and the report.

    Everything lands in ``folder`` (``data/processed``): ``statistics.json``,
    ``statistics/*.csv`` (every Kd curve and result table), ``figures/stats_*.png`` and, with
    ``report``, ``report.html`` (self-contained) and ``report.pdf`` (headless Chromium; a
    warning, not an error, when no Chromium is found). ``city`` names the report; the
    city's ``literature`` (published figures, related work) is compared with and cited;
    ``labels`` are the city's words for its areas (default: the English words).
    """
    from .._io import write_text
    from ..outputs.figures import credit_line
    from ..outputs.findings import (
        figure_png,
        findings_figures,
        findings_files,
        report_sections,
        statistics_json,
    )
    from ..outputs.report_page import print_pdf, render_report
    from .parallel import background

    out: dict[str, Path] = {}
    stats = findings.statistics
    out["statistics_json"] = write_text(folder / "statistics.json", statistics_json(stats))
    boundary = admin.city.to_crs(settings.crs_work)
    drawn = findings_figures(stats, findings.curves, findings.hotspot_units,
                             findings.tables.get("by_type_values"), boundary=boundary,
                             source=credit_line(sources), labels=labels or AreaLabels())
    # each figure is drawn once; a forked child writes the files (figures at 150 dpi) while
    # this process renders the report's 130 dpi copies and Chromium prints the PDF
    files = background(lambda: findings_files(findings.curves, findings.tables, drawn, folder),
                       "statistics files")
    written: dict[str, Path] = {}
    try:
        if report:
            pngs = {name: (figure_png(fig), caption) for name, (fig, caption) in drawn.items()}
            lit = literature or CityLiterature()
            published = [(what, value, source) for what, value, source, _ in lit.published]
            sections = report_sections(
                stats, findings.tables, pngs, published=published,
                published_here=_published_here(stats, lit), sources=sources,
                related_work=lit.related_work, labels=labels or AreaLabels())
            title = (f"Coworking spaces in {city}: findings" if city
                     else "Coworking spaces: findings")
            page = render_report(
                title, sections,
                subtitle="Agglomeration, co-location, hot spots and the middleground "
                         "by innovation type, from the current inventory",
                footer=f"cwsgeo {__version__}; seed {stats['meta']['seed']}; "
                       "outputs in data/processed/statistics")
            written["report_html"] = write_text(folder / "report.html", page)
            if pdf:
                try:
                    written["report_pdf"] = print_pdf(written["report_html"],
                                                      folder / "report.pdf")
                except CwsgeoError as exc:
                    logger.warning("report.pdf not written: %s", exc)
    except BaseException:
        files.cancel()
        raise
    out.update(files.result())
    out.update(written)
    return out


def _published_here(stats: dict[str, Any], literature: CityLiterature
                    ) -> list[tuple[str, str]]:
    """Return ``(what, value here)`` for the published figures cwsgeo computes too."""
    inputs = stats.get("inputs", {})
    types = inputs.get("types_of_points", {})
    share = inputs.get("share_eixample")
    by_measure = {
        "listed_located": f"{inputs.get('spaces_listed')} listed, {inputs.get('located')} "
                          "located (2024–25 listings)",
        "typed": f"{sum(types.values())} typed ("
                 + " / ".join(str(types.get(k, 0)) for k in ("1", "2", "3"))
                 + f"), {stats.get('meta', {}).get('type_column')}",
        "listed": f"{inputs.get('spaces_listed')} listed",
        "share_eixample": f"{share:.1%} of {inputs.get('points_used')} precise points"
                          if share is not None else "",
    }
    return [(what, by_measure.get(measure, "")) for what, _, _, measure in literature.published]
