"""Many cities at once: ``cwsgeo batch cities.toml`` on dask.distributed.

Each ``[[city]]`` of ``cities.toml`` becomes one small task graph, submitted to a dask
cluster (a :class:`distributed.LocalCluster` by default, or an existing scheduler)::

    init-<slug> (new cities only) -> fetch-<slug> -> build-<slug> -> summary-<slug>

``fetch`` fills the project's ``data/raw/`` (:func:`cwsgeo.build.sources.ensure_raw`),
``build`` runs :func:`cwsgeo.build.pipeline.build` into a staging folder next to
``cities/<slug>/`` and swaps its ``data/processed/`` and ``maps/`` in with renames (a failed
build leaves the previous outputs), and ``summary`` reads the outputs back into a few numbers
(:func:`cwsgeo.outputs.comparison.city_summary`). The client gathers the summaries into
``cities/comparison.{csv,parquet,html}``. A failing task is retried ``retries`` times by dask;
a city that still fails is reported with its error, and the other cities finish.

Workers are processes with one thread each: :mod:`cwsgeo.settings` is process-global, so a
process runs one build at a time. Every worker must see the same files: the projects (their
mirror or ``data/raw`` and cache) and the output folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import os
import re
import resource
import secrets
import shutil
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, CwsgeoError
from .config import CONFIG_NAME, Config
from .profiles import place_parts

if TYPE_CHECKING:
    import geopandas as gpd
    from distributed import Client, Future, LocalCluster

logger = logging.getLogger(__name__)

__all__ = ["Batch", "BatchResult", "City", "CityError", "batch_client", "build_city",
           "fetch_city", "init_city", "local_cluster", "read_city_summary", "run_batch",
           "submit_city"]

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_BATCH_KEYS = {"out": str, "retries": int}
_CITY_KEYS = {"slug": str, "name": str, "project": str, "place": str, "profile": str,
              "inventory": str, "live": bool}
#: The output folders of a build, relative to its ``out`` folder; each is swapped in whole.
OUTPUT_PARTS: tuple[tuple[str, ...], ...] = (("data", "processed"), ("maps",))


class CityError(CwsgeoError):
    """One city's task failed (raised on the worker; dask retries it, then reports it).

    Parameters
    ----------
    slug
        The city.
    stage
        ``"init"``, ``"fetch"``, ``"build"`` or ``"summary"``.
    message
        The original error, as ``"Type: text"``.
    """

    def __init__(self, slug: str, stage: str, message: str) -> None:
        super().__init__(slug, stage, message)
        self.slug, self.stage, self.message = slug, stage, message

    def __str__(self) -> str:
        return f"{self.stage}: {self.message}"


@dataclass(frozen=True)
class City:
    """One ``[[city]]`` entry of ``cities.toml``, with its paths resolved.

    Attributes
    ----------
    slug
        Folder-safe id; outputs go to ``<out>/<slug>/``.
    name
        Display name (default: the first part of ``place``, else the project's profile's
        name).
    project
        The project folder (its ``cwsgeo.toml``); for a new city (``place``), ``<out>/<slug>``.
    place
        Nominatim query of a new city, made with ``cwsgeo.build.project.init_project``.
    profile
        City profile of a new city: a file (absolute) or a built-in profile's name, or
        ``None`` (one made for the place).
    inventory
        Inventory file (absolute), or ``None``.
    live
        Use live sources (``None``: as the project says; new cities default to live).
    settings
        ``[settings]`` of ``cities.toml``: :mod:`cwsgeo.settings` values every task of the
        city runs with (e.g. an own Overpass server), as (name, value) pairs.
    """

    slug: str
    name: str
    project: Path
    place: str | None = None
    profile: Path | str | None = None
    inventory: Path | None = None
    live: bool | None = None
    settings: tuple[tuple[str, Any], ...] = ()

    def config(self) -> Config:
        """Return the city's project configuration, with the entry's overrides applied."""
        cfg = Config.load(self.project / CONFIG_NAME)
        if self.place is None:  # a new city's project was made with these already
            if self.inventory is not None:
                cfg = cfg.with_inventory(self.inventory)
            if self.live is not None:
                cfg = cfg.replace(data={"source": "live" if self.live else "mirror"})
        return cfg


@dataclass(frozen=True)
class Batch:
    """A loaded ``cities.toml``: where outputs go, dask retries, and the cities."""

    file: Path
    out: Path
    retries: int
    cities: tuple[City, ...]

    @classmethod
    def load(cls, path: str | Path) -> Batch:
        """Read and check ``cities.toml`` (relative paths are relative to its folder).

        Raises
        ------
        cwsgeo.ConfigError
            The file is missing or not TOML, or an entry is invalid (unknown key, duplicate
            slug, neither or both of ``project`` and ``place``, two cities in one project);
            the message names the file and the ``[[city]]`` entry.
        """
        file = Path(path).resolve()
        if file.is_dir():
            file = file / "cities.toml"
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"batch file not found: {file}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        unknown = set(raw) - {"batch", "city", "settings"}
        if unknown:
            raise ConfigError(f"{file}: unknown section(s) {sorted(unknown)}; known: [batch], "
                              "[settings], [[city]]")
        options = _checked(file, "[batch]", raw.get("batch", {}), _BATCH_KEYS)
        knobs = _settings(file, raw.get("settings", {}))
        out = (file.parent / options.get("out", "cities")).resolve()
        retries = options.get("retries", 1)
        if retries < 0:
            raise ConfigError(f"{file}: [batch] retries must be >= 0, got {retries}")
        entries = raw.get("city", [])
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{file}: no [[city]] entries")
        cities = tuple(dataclasses.replace(_city(file, out, i, e), settings=knobs)
                       for i, e in enumerate(entries, 1))
        _check_unique(file, cities)
        return cls(file=file, out=out, retries=retries, cities=cities)


def _checked(file: Path, where: str, values: Any,
             keys: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"{file}: {where} must be a table of key = value")
    for key, value in values.items():
        if key not in keys:
            raise ConfigError(f"{file}: {where}: unknown key {key!r}; known: "
                              f"{', '.join(keys)}")
        kind = keys[key]
        kinds: tuple[type, ...] = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise ConfigError(f"{file}: {where}: {key} must be a {kinds[0].__name__}, got "
                              f"{value!r}")
    return values


def _settings(file: Path, values: Any) -> tuple[tuple[str, Any], ...]:
    """Check ``[settings]``: names of :mod:`cwsgeo.settings`, values of their type."""
    from .. import settings

    known = {k: type(v) for k, v in vars(settings).items()  # the CRS comes from each profile
             if not k.startswith("_") and not k.startswith("crs_")
             and isinstance(v, bool | int | float | str)}
    kinds = {k: (float, int) if t is float else t for k, t in known.items()}  # 2 means 2.0
    checked = _checked(file, "[settings]", values, kinds)
    return tuple(sorted((k, float(v) if known[k] is float else v) for k, v in checked.items()))


def _city(file: Path, out: Path, index: int, entry: Any) -> City:
    slug = entry.get("slug") if isinstance(entry, dict) else None
    where = f"[[city]] #{index}" + (f" (slug {slug!r})" if isinstance(slug, str) else "")
    values = _checked(file, where, entry, _CITY_KEYS)
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ConfigError(f"{file}: {where}: slug must be lower-case letters, digits, - or _ "
                          f"(a folder name), got {slug!r}")
    if ("project" in values) == ("place" in values):
        raise ConfigError(f"{file}: {where}: give either project (an existing project "
                          "folder) or place (a new city), not " +
                          ("both" if "project" in values else "neither"))
    if "project" in values and "profile" in values:
        raise ConfigError(f"{file}: {where}: profile is for new cities (place); an existing "
                          "project names its profile in its own cwsgeo.toml")

    def path(key: str) -> Path | None:
        return (file.parent / values[key]).resolve() if key in values else None

    place = values.get("place")
    if place is not None:
        project = out / slug
    else:
        project = path("project") or out / slug
        if not (project / CONFIG_NAME).is_file():
            raise ConfigError(f"{file}: {where}: no {CONFIG_NAME} in project folder {project}")
    parts = place_parts(place) if place else []
    name = values.get("name") or (parts[0] if parts else "")
    profile, inventory = _profile(path, values), path("inventory")
    for key, found in (("profile", profile), ("inventory", inventory)):
        if isinstance(found, Path) and not found.is_file():  # found now, not on a worker
            hint = " (nor a built-in profile)" if key == "profile" else ""
            raise ConfigError(f"{file}: {where}: {key} file not found: {found}{hint}")
    return City(slug=slug, name=name, project=project, place=place, profile=profile,
                inventory=inventory, live=values.get("live"))


def _profile(path: Callable[[str], Path | None], values: dict[str, Any]) -> Path | str | None:
    """Return the profile file (relative to cities.toml), else a built-in profile's name."""
    from .profiles import builtin_profiles

    found = path("profile")
    if found is None or found.is_file() or values["profile"] not in builtin_profiles():
        return found
    return str(values["profile"])


def _check_unique(file: Path, cities: tuple[City, ...]) -> None:
    seen: dict[str, int] = {}
    projects: dict[Path, str] = {}
    for i, city in enumerate(cities, 1):
        if city.slug in seen:
            raise ConfigError(f"{file}: [[city]] #{i}: duplicate slug {city.slug!r} (also "
                              f"[[city]] #{seen[city.slug]})")
        seen[city.slug] = i
        if city.project in projects:
            raise ConfigError(
                f"{file}: [[city]] #{i} (slug {city.slug!r}): project {city.project} is also "
                f"city {projects[city.project]!r}'s; each city needs its own project folder "
                "(a build locks its project's cache)")
        projects[city.project] = city.slug


# -- the tasks (run on the workers) ---------------------------------------------------------

@contextlib.contextmanager
def _task(city: City, stage: str) -> Iterator[None]:
    """Run a stage of ``city``: with the batch's settings, any error as a :class:`CityError`.

    The settings are set for the duration of the task and restored after it (a worker
    process runs one task at a time); the error is picklable and names the city and stage.
    """
    from .. import settings

    before = {name: getattr(settings, name) for name, _ in city.settings}
    try:
        for name, value in city.settings:
            setattr(settings, name, value)
        yield
    except CityError:
        raise
    except Exception as exc:
        raise CityError(city.slug, stage, f"{type(exc).__name__}: {exc}") from None
    finally:
        for name, value in before.items():
            setattr(settings, name, value)


class _PeakMemory:
    """Peak resident memory of this process from now on (Linux: VmHWM after a reset).

    Where the peak cannot be reset (not Linux), the process's lifetime peak is reported.
    """

    def __init__(self) -> None:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
            self._status: Path | None = Path("/proc/self/status")
        except OSError:
            self._status = None

    def mib(self) -> float:
        if self._status is not None:
            for line in self._status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _release_memory() -> None:
    """Forget this process's memos and return freed heap to the system (between cities).

    A worker builds one city after another: the previous city's memoized stage results
    (:data:`cwsgeo.build.cache.MEMOS`, kept for rebuilds of the same project) would only
    hold memory.
    """
    import ctypes
    import gc
    import sys

    from .cache import MEMOS

    MEMOS.clear()
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # glibc: unmap free arenas


def init_city(city: City) -> str:
    """Task ``init-<slug>``: make a new city's project folder (kept if it exists).

    Returns
    -------
    str
        The project folder.
    """
    with _task(city, "init"):
        if not (city.project / CONFIG_NAME).is_file():
            from .project import init_project

            if city.place is None:
                raise ConfigError(f"city {city.slug}: no project at {city.project} and no "
                                  "place to make one")
            init_project(city.project, place=city.place, profile=city.profile,
                         inventory=city.inventory,
                         live=True if city.live is None else city.live)
    return str(city.project)


def fetch_city(city: City, ready: Any = None) -> dict[str, float]:
    """Task ``fetch-<slug>``: fill the project's ``data/raw/`` when it is missing or stale.

    Parameters
    ----------
    city
        The city.
    ready
        The result of ``init-<slug>`` (only orders the tasks).

    Returns
    -------
    dict
        ``{"fetch_s": seconds}``.
    """
    from .cache import project_lock
    from .sources import ensure_raw

    start = time.perf_counter()
    with _task(city, "fetch"):
        cfg = city.config()
        with project_lock(cfg.cache_dir):
            ensure_raw(cfg)
    return {"fetch_s": time.perf_counter() - start}


def build_city(city: City, out: str | Path, fetched: dict[str, float]) -> dict[str, Any]:
    """Task ``build-<slug>``: build into a staging folder, then swap it into ``<out>/<slug>``.

    Parameters
    ----------
    city
        The city.
    out
        The batch's output folder.
    fetched
        The result of ``fetch-<slug>`` (carried on to the summary).

    Returns
    -------
    dict
        ``fetched`` plus ``build_s`` and ``peak_mib`` (peak resident memory of this worker
        process during the build; the process's memos are cleared before and after, so a
        worker does not carry one city's data into the next).
    """
    from .pipeline import build

    target = Path(out) / city.slug
    staging = target.parent / f".{city.slug}.staging"
    start = time.perf_counter()
    with _task(city, "build"):
        shutil.rmtree(staging, ignore_errors=True)  # left by a killed worker
        try:
            _release_memory()
            peak = _PeakMemory()
            build(city.config(), out=staging)
            peak_mib = peak.mib()
            swap_outputs(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            _release_memory()
    return {**fetched, "build_s": time.perf_counter() - start, "peak_mib": peak_mib}


def swap_outputs(staging: Path, target: Path) -> None:
    """Move the build outputs of ``staging`` into ``target``, each folder by one rename.

    The previous folders are renamed aside first and deleted last, so ``target`` always holds
    complete folders. Other files in ``target`` (a new city's project) are not touched.
    """
    old = target.parent / f".{target.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    for part in OUTPUT_PARTS:
        new, current, aside = staging.joinpath(*part), target.joinpath(*part), old.joinpath(*part)
        if not new.is_dir():
            continue
        if current.exists():
            aside.parent.mkdir(parents=True, exist_ok=True)
            current.rename(aside)
        current.parent.mkdir(parents=True, exist_ok=True)
        new.rename(current)
    shutil.rmtree(old, ignore_errors=True)


def read_city_summary(city: City, out: str | Path, built: dict[str, Any]) -> dict[str, Any]:
    """Task ``summary-<slug>``: read the city's outputs into a row of the comparison.

    Parameters
    ----------
    city
        The city.
    out
        The batch's output folder.
    built
        The result of ``build-<slug>`` (timings and memory).

    Returns
    -------
    dict
        ``slug``, ``name``, ``status``, the numbers of
        :func:`cwsgeo.outputs.comparison.city_summary` and the timings.
    """
    import geopandas as gpd
    import pandas as pd

    from .._io import read_json
    from ..outputs.comparison import city_summary

    with _task(city, "summary"):
        folder = Path(out) / city.slug / "data" / "processed"
        spaces = pd.read_csv(folder / "coworking_spaces.csv", dtype={"id": str},
                             low_memory=False)
        coverage = folder / "coverage.csv"
        statistics = folder / "statistics.json"
        districts = folder / "districts.gpkg"
        profile = city.config().profile
        numbers = city_summary(
            spaces, coverage=pd.read_csv(coverage) if coverage.is_file() else None,
            statistics=read_json(statistics) if statistics.is_file() else None,
            areas=gpd.read_file(districts) if districts.is_file() else None,
            rail_modes=profile.transit.rail_modes)
        name = city.name or profile.name
    return {"slug": city.slug, "name": name, "status": "ok", **numbers, **built}


# -- the client side ------------------------------------------------------------------------

def _has_dashboard() -> bool:
    return importlib.util.find_spec("bokeh") is not None


def local_cluster(workers: int | None = None) -> LocalCluster:
    """Start a local cluster for a batch: one single-threaded worker process per core.

    Builds in a worker write their outputs in the worker's own process
    (``CWSGEO_NO_FORK=1``): the cities are the parallelism. The dashboard is served on
    port 8787 when bokeh is installed (without bokeh, dask's small HTTP server takes a free
    port).

    Parameters
    ----------
    workers
        Worker processes (default: the usable cores).
    """
    from distributed import LocalCluster

    n = workers or len(os.sched_getaffinity(0))
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                        dashboard_address=":8787" if _has_dashboard() else ":0",
                        env={"CWSGEO_NO_FORK": "1"})


@contextlib.contextmanager
def batch_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """Connect to ``scheduler`` (``tcp://HOST:8786``), or start :func:`local_cluster`.

    Raises
    ------
    cwsgeo.CwsgeoError
        The scheduler cannot be reached.
    """
    from distributed import Client

    if scheduler:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise CwsgeoError(f"cannot reach the dask scheduler at {scheduler}: {exc}"
                              ) from None
        with client:
            yield client
        return
    with local_cluster(workers) as cluster, Client(cluster) as client:
        yield client


def submit_city(client: Client, batch: Batch, city: City, token: str) -> Future:
    """Submit one city's task graph; return the future of its summary.

    Keys are ``<stage>-<slug>-<token>``: the dashboard groups them as ``<stage>-<slug>``,
    and two batches on one scheduler never share a key.
    """
    common: dict[str, Any] = {"retries": batch.retries, "pure": False}
    ready = (client.submit(init_city, city, key=f"init-{city.slug}-{token}", **common)
             if city.place is not None else None)
    fetched = client.submit(fetch_city, city, ready, key=f"fetch-{city.slug}-{token}",
                            **common)
    built = client.submit(build_city, city, str(batch.out), fetched,
                          key=f"build-{city.slug}-{token}", **common)
    return client.submit(read_city_summary, city, str(batch.out), built,
                         key=f"summary-{city.slug}-{token}", **common)


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    table
        The comparison (:func:`cwsgeo.outputs.comparison.comparison_table`).
    outputs
        The comparison files written.
    failed
        Slug -> error of every city that failed after its retries.
    wall_s
        Wall time of the batch (cluster start included).
    dashboard
        The dask dashboard link, when there is one.
    """

    table: gpd.GeoDataFrame
    outputs: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    dashboard: str | None = None

    def summary(self) -> str:
        """Return the lines printed at the end of ``cwsgeo batch``."""
        ok = self.table[self.table["status"] == "ok"]
        lines = [f"{len(ok)} of {len(self.table)} cities built in {self.wall_s:.1f} s"]
        for _, row in ok.iterrows():
            lines.append(f"  {row['slug']}: {row['spaces_located']} spaces located, "
                         f"{row['build_s']:.1f} s, peak {row['peak_mib']:,.0f} MiB")
        for slug, error in self.failed.items():
            lines.append(f"  {slug}: FAILED ({error})")
        if self.outputs:
            lines.append("comparison: " + ", ".join(str(p) for p in self.outputs))
        return "\n".join(lines)


def _gather(futures: dict[Future, City], progress: bool) -> tuple[list[dict[str, Any]],
                                                                    dict[str, str]]:
    """Wait for the cities in the order they finish; return summaries and failures."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    rows: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    with tqdm(total=len(futures), desc="cities", unit="city", disable=not progress,
              leave=False) as bar:
        for future in as_completed(list(futures)):
            city = futures[future]
            try:
                rows[city.slug] = future.result()
            except Exception as exc:  # the city's error, KilledWorker, or cancelled
                failed[city.slug] = str(exc) or type(exc).__name__
                logger.warning("city %s failed: %s", city.slug, failed[city.slug])
                rows[city.slug] = {"slug": city.slug, "name": city.name or city.slug,
                                   "status": "failed",
                                   "error": failed[city.slug]}
            bar.update(1)
    order = [c.slug for c in futures.values()]
    return [rows[s] for s in order], {s: failed[s] for s in order if s in failed}


def _require_single_threaded(client: Client) -> None:
    """Refuse workers with several threads (one build per process).

    :mod:`cwsgeo.settings` is process-wide: two builds in one process would mix their cities'
    CRS and bounding box.
    """
    threaded = {w: n for w, n in client.nthreads().items() if n != 1}
    if threaded:
        raise CwsgeoError(f"{len(threaded)} dask worker(s) run several threads ("
                          f"{', '.join(f'{w}: {n}' for w, n in list(threaded.items())[:3])}): "
                          "start them with `dask worker --nthreads 1` (one build per process)")


def run_batch(batch: Batch, *, client: Client | None = None, scheduler: str | None = None,
              workers: int | None = None, progress: bool = False,
              report: Callable[[str], None] | None = None) -> BatchResult:
    """Build every city of ``batch`` on dask.distributed and write the comparison.

    Parameters
    ----------
    batch
        The loaded ``cities.toml``.
    client
        A connected client to use (default: one made from ``scheduler``/``workers``).
    scheduler
        Address of an existing scheduler (``tcp://HOST:8786``); default: a local cluster.
    workers
        Worker processes of the local cluster (default: the usable cores).
    progress
        Show a bar over finished cities (when there is no dashboard).
    report
        Called with a line to show the user (the dashboard link).

    Returns
    -------
    BatchResult
        The comparison and the cities that failed (a failed city does not raise).
    """
    from ..outputs.comparison import comparison_table, write_comparison

    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(batch_client(scheduler, workers))
        _require_single_threaded(client)
        dashboard = client.dashboard_link if _has_dashboard() else None
        if dashboard and report is not None:
            report(f"dask dashboard: {dashboard}")
        token = secrets.token_hex(4)
        futures = {submit_city(client, batch, city, token): city for city in batch.cities}
        try:
            rows, failed = _gather(futures, progress and dashboard is None)
        finally:
            client.cancel(list(futures))
    table = comparison_table(rows)
    outputs = write_comparison(table, batch.out)
    return BatchResult(table=table, outputs=outputs, failed=failed,
                       wall_s=time.perf_counter() - start, dashboard=dashboard)

