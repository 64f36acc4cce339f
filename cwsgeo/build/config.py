"""Project configuration: the ``cwsgeo.toml`` file that says where data lives and how to build.

A project is a folder with a ``cwsgeo.toml``. Relative paths in the file are relative to that
folder. Path values may start with ``mirror:`` (inside the local data mirror) or ``raw:``
(inside the project's ``data/raw/``). Unknown sections or keys are rejected, so a typo never
passes silently, and each section checks its own values when it is made.

Configuration has one path: library-wide knobs (CRS, walking speed, HTTP etiquette) are in
:mod:`cwsgeo.settings` and are read when a build runs, not when this module is imported; a
project's ``cwsgeo.toml`` overrides some of them for that project (a key left out follows
``settings``). The few environment variables are read here and only here:

=========================  ===========================================================
``CWSGEO_MIRROR``          the local data mirror (overrides ``[data] mirror``)
``CWSGEO_NO_FORK=1``       write figures and pages in this process (no forked writers)
``CWSGEO_WATCH_POLLING=1`` ``cwsgeo watch`` polls the file instead of file-system events
=========================  ===========================================================

Examples
--------
>>> from cwsgeo.build.config import Config
>>> cfg = Config.from_dict({"data": {"source": "mirror"}}, root=".")
>>> cfg.data.source
'mirror'
>>> import cwsgeo
>>> cwsgeo.settings.walk_speed_kmh = 4.5  # a key the project file leaves out
>>> Config.from_dict({}, root=".").resolved().proximity.walk_speed_kmh
4.5
>>> cwsgeo.settings.walk_speed_kmh = 4.8
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .. import settings
from .._errors import ConfigError

if TYPE_CHECKING:
    from ..analysis.inventory import ReadLimits
    from .profiles import CityProfile

CONFIG_NAME = "cwsgeo.toml"

__all__ = ["CONFIG_NAME", "ENVIRONMENT", "Config", "environment_flag", "find_config"]

#: Environment variables cwsgeo reads, with their meaning (documented in one place).
ENVIRONMENT: dict[str, str] = {
    "CWSGEO_MIRROR": "local data mirror folder (overrides [data] mirror)",
    "CWSGEO_NO_FORK": "1: write figures and pages in the build's own process",
    "CWSGEO_WATCH_POLLING": "1: `cwsgeo watch` polls the inventory instead of file events",
}


def environment_flag(name: str) -> bool:
    """Return True when the environment variable ``name`` (one of :data:`ENVIRONMENT`) is 1.

    Parameters
    ----------
    name
        Variable name.
    """
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not one of cwsgeo's environment variables")
    return os.environ.get(name, "").strip() in ("1", "true", "yes")


@dataclass
class DataConfig:
    """Where inputs and outputs live."""

    mirror: Path = Path("../shared/data/bcn")
    """Local mirror of the public sources (the Barcelona bundle)."""
    source: Literal["mirror", "live"] = "mirror"
    """Fill ``data/raw/`` from the mirror or from live sources (OSM, Open Data BCN)."""
    raw: Path = Path("data/raw")
    processed: Path = Path("data/processed")
    maps: Path = Path("maps")
    cache: Path = Path("data/cache")
    place: str = ""
    """Place name used by live queries (Nominatim/Overpass through osmnx); ``""`` takes the
    city profile's (``[city] profile``)."""

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a value out of range."""
        if self.source not in ("mirror", "live"):
            raise ConfigError(f"[data] source must be 'mirror' or 'live', got {self.source!r}")


@dataclass
class InventoryConfig:
    """Which coworking inventory to read and how.

    The column rules (``columns``, ``ignore_columns``, ``sheet``) and
    ``use_restricted_coordinates`` belong to the inventory, whichever file is read: the
    configured ``path`` or another one named with ``--inventory``.
    """

    path: str = "inventory/coworking_spaces.csv"
    """The editable inventory: the keeper edits this file, cwsgeo only reads it."""
    seed: str | None = "raw:coworking/coworking_spaces.csv"
    """Where ``path`` is copied from once, when it does not exist yet (never overwritten)."""
    use_restricted_coordinates: bool = False
    """Use coordinates whose ``source`` is Google Places (their terms forbid storing them)."""
    listings: list[str] = field(default_factory=lambda: [
        "raw:listings/Barcelona_coworking_spaces.csv", "raw:listings/checkpoint_220.xlsx"])
    """Listing texts joined to the spaces by ``source_id`` (screen and text locator)."""
    dedupe: bool = False
    """Merge the certain groups of duplicates (same point and near-same name) before geocoding."""
    columns: dict[str, str] = field(default_factory=dict)
    """Explicit mapping from the file's header to cwsgeo's names, e.g. ``{"Nom" = "name"}``."""
    ignore_columns: list[str] = field(default_factory=list)
    """Input columns to ignore entirely (read as if absent)."""
    sheet: str | None = None
    """Worksheet of an XLSX inventory, or layer of a GeoPackage (default: the first one)."""
    # Limits on an untrusted file (None: the default of cwsgeo.analysis.inventory.ReadLimits).
    # They are project-wide: they stay when another inventory file is named.
    max_file_mb: float | None = None
    """Largest CSV/TSV, JSON/GeoJSON or XLSX file, in MB (default 200; CLI ``--max-mb``)."""
    max_uncompressed_mb: float | None = None
    """Largest unpacked XLSX workbook, in MB (default 200; CLI ``--max-mb``)."""
    max_compression_ratio: float | None = None
    """Largest XLSX compression ratio (default 100; a ZIP bomb is compressed far more)."""
    max_rows: int | None = None
    """Most data rows, records or features (default 200,000; CLI ``--max-rows``)."""
    max_columns: int | None = None
    """Most columns in a row (default 500; CLI ``--max-columns``)."""
    max_line_chars: int | None = None
    """Longest CSV/TSV line in characters (default 1,000,000)."""
    max_json_depth: int | None = None
    """Deepest nesting of JSON/GeoJSON arrays and objects (default 64)."""
    max_vertices: int | None = None
    """Most vertices of one GeoJSON/vector geometry (default 100,000)."""
    max_features: int | None = None
    """Most features of a GeoPackage/Shapefile layer (default: ``max_rows``)."""

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a limit that is not a positive number."""
        for name in self._limit_keys():
            value = getattr(self, name)
            integer = not name.endswith(("_mb", "_ratio"))
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
                kind = "an integer" if integer else "a number"
                raise ConfigError(f"[inventory] {name} must be {kind}, got {value!r}")
            if value <= 0:
                raise ConfigError(f"[inventory] {name} must be > 0, got {value!r}")

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`cwsgeo.analysis.inventory.check_inventory` set here.

        Examples
        --------
        >>> sorted(InventoryConfig().read_options())
        ['columns', 'ignore_columns', 'limits', 'sheet', 'use_restricted_coordinates']
        """
        return {"columns": dict(self.columns), "ignore_columns": list(self.ignore_columns),
                "sheet": self.sheet, "limits": self.read_limits(),
                "use_restricted_coordinates": self.use_restricted_coordinates}

    def read_limits(self) -> ReadLimits:
        """Return the reading limits: those set here, the defaults of ``ReadLimits`` else.

        Examples
        --------
        >>> limits = InventoryConfig(max_rows=10, max_file_mb=1.5).read_limits()
        >>> limits.max_rows, limits.max_bytes
        (10, 1500000)
        """
        from ..analysis.inventory import ReadLimits

        given: dict[str, Any] = {}
        for name in self._limit_keys():
            value = getattr(self, name)
            if value is None:
                continue
            if name.endswith("_mb"):
                given["max_bytes" if name == "max_file_mb" else "max_uncompressed_bytes"] = \
                    int(value * 1_000_000)
            else:
                given[name] = value
        return ReadLimits(**given)

    def _limit_keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if f.name.startswith("max_")]


@dataclass
class GeocodingConfig:
    """How addresses become points."""

    online: bool = False
    """Ask Nominatim for addresses the offline gazetteer cannot resolve."""
    min_score: float = 85.0
    """Lowest fuzzy street-name score (0-100) accepted by the offline geocoder."""
    city: str = ""
    """City named in Nominatim queries; ``""``: the city profile's ``name``."""
    from_texts: bool = True
    """Locate spaces with neither an address nor coordinates from their listing texts."""
    point_radius_m: float = 500.0
    """Largest location radius of a space used by point statistics (kernel densities,
    hexagons, walking distances); spaces located less precisely count only by area."""

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a value out of range."""
        if not 0 <= self.min_score <= 100:
            raise ConfigError("[geocoding] min_score must be between 0 and 100")
        if not 0 < self.point_radius_m <= 10_000:
            raise ConfigError("[geocoding] point_radius_m must be between 0 and 10000 metres")


@dataclass
class ProximityConfig:
    """Walking-distance metrics."""

    walk_speed_kmh: float | None = None
    """Walking speed; ``None``: :data:`cwsgeo.settings.walk_speed_kmh` when the build runs."""
    minutes: list[int] | None = None
    """Walking-time thresholds; ``None``: :data:`cwsgeo.settings.walk_minutes`."""
    snap_max_m: float | None = None
    """Longest snap to the network; ``None``: :data:`cwsgeo.settings.snap_max_m`."""
    network: str = ""
    """Walking network file (GraphML, OSM XML or ``.npz``); empty: the one ``cwsgeo fetch``
    put in ``data/raw/`` (the municipal street graph, or OSM's walk network when live)."""

    def resolved(self) -> ProximityConfig:
        """Return a copy whose unset values are read from :mod:`cwsgeo.settings` now."""
        return ProximityConfig(
            walk_speed_kmh=(settings.walk_speed_kmh if self.walk_speed_kmh is None
                            else self.walk_speed_kmh),
            minutes=list(settings.walk_minutes if self.minutes is None else self.minutes),
            snap_max_m=settings.snap_max_m if self.snap_max_m is None else self.snap_max_m,
            network=self.network)

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a value out of range."""
        if self.walk_speed_kmh is not None and self.walk_speed_kmh <= 0:
            raise ConfigError("[proximity] walk_speed_kmh must be > 0")
        if self.minutes is not None and (not self.minutes or any(
                isinstance(m, bool) or not isinstance(m, int) or m <= 0 for m in self.minutes)):
            raise ConfigError("[proximity] minutes must be a list of positive integers")
        if self.snap_max_m is not None and self.snap_max_m <= 0:
            raise ConfigError("[proximity] snap_max_m must be > 0")


@dataclass
class DensityConfig:
    """Density surfaces."""

    hex_resolution: int = 9
    kde_bandwidth_m: float = 500.0
    kde_cell_m: float = 50.0
    kde_kernel: Literal["quartic", "gaussian"] = "quartic"

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a value out of range."""
        if self.kde_kernel not in ("quartic", "gaussian"):
            raise ConfigError(f"[density] kde_kernel must be 'quartic' or 'gaussian', "
                              f"got {self.kde_kernel!r}")
        if self.kde_bandwidth_m <= 0 or self.kde_cell_m <= 0:
            raise ConfigError("[density] kde_bandwidth_m and kde_cell_m must be > 0")
        if not 0 <= self.hex_resolution <= 15:
            raise ConfigError("[density] hex_resolution must be between 0 and 15")


@dataclass
class MapsConfig:
    """How HTML maps are written."""

    assets: Literal["inline", "cdn"] = "inline"
    """``inline`` embeds Leaflet and plugins (works offline); ``cdn`` links them (smaller file)."""
    tiles: bool = True
    """Offer OpenStreetMap tiles as an opt-in layer (off at load; the offline basemap stays)."""
    street_lines: bool = True
    """Draw simplified street lines in the offline basemap."""

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a value out of range."""
        if self.assets not in ("inline", "cdn"):
            raise ConfigError(f"[maps] assets must be 'inline' or 'cdn', got {self.assets!r}")


@dataclass
class StatisticsConfig:
    """The findings: agglomeration (Kd), co-location, hot spots, comparisons, the report."""

    enabled: bool | None = None
    """Compute them in ``cwsgeo build`` (default :data:`cwsgeo.settings.statistics`)."""
    n_sims: int | None = None
    """Monte Carlo simulations (default :data:`cwsgeo.settings.statistics_sims`, 999)."""
    max_points: int | None = None
    """Most spaces the point statistics run on; above it, one seeded random sample of this many
    (default :data:`cwsgeo.settings.statistics_max_points`, 2000)."""
    seed: int = 2026
    """Seed of every simulation: the same inputs give the same numbers."""
    max_distance_m: float = 3000.0
    """Largest distance of the Kd curves."""
    reference: Literal["addresses", "residents", "places"] = "addresses"
    """Counterfactual sites of Kd: the gazetteer's address points (the built fabric), the
    same weighted by residents, or all places."""
    network: bool = True
    """Also compute Kd over walking distances (the spaces' own network search)."""
    alpha: float = 0.05
    """Significance level of the hot spots and of the verdicts."""
    types: Literal["auto", "confirmed", "estimated"] = "auto"
    """Types compared: confirmed (declared or reviewed), estimated from texts, or ``auto``
    (confirmed when at least 10 spaces have one, else estimated; the report says which)."""
    report: bool = True
    """Write ``report.html`` (and ``report.pdf`` through Chromium when ``pdf``)."""
    pdf: bool = True
    """Print the report to PDF with headless Chromium (skipped with a warning if absent)."""

    def resolved(self) -> StatisticsConfig:
        """Return a copy whose unset values are read from :mod:`cwsgeo.settings` now."""
        return dataclasses.replace(
            self, enabled=settings.statistics if self.enabled is None else self.enabled,
            n_sims=settings.statistics_sims if self.n_sims is None else self.n_sims,
            max_points=(settings.statistics_max_points if self.max_points is None
                        else self.max_points))

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on a value out of range.

        The message names the key, the allowed range and the value given; the floor of
        ``n_sims`` is what Kd's band needs (:mod:`cwsgeo.analysis.stats.minimums`), and with
        it the smallest permutation p-value, ``1 / (n_sims + 1)``, must reach ``alpha``.
        """
        from ..analysis.stats.minimums import MAX_SIMS, MIN_KD_SIMS, MIN_POINTS

        if self.n_sims is not None and not MIN_KD_SIMS <= self.n_sims <= MAX_SIMS:
            raise ConfigError(f"[statistics] n_sims must be between {MIN_KD_SIMS} and "
                              f"{MAX_SIMS} (Kd's 95 % band needs {MIN_KD_SIMS} simulations), "
                              f"got {self.n_sims}")
        if self.max_points is not None and self.max_points < MIN_POINTS:
            raise ConfigError(f"[statistics] max_points must be at least {MIN_POINTS}, "
                              f"got {self.max_points}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"[statistics] seed must be between 0 and {2**32 - 1}, "
                              f"got {self.seed}")
        if not 100 <= self.max_distance_m <= 50_000:
            raise ConfigError("[statistics] max_distance_m must be between 100 and 50000 "
                              f"metres, got {self.max_distance_m:g}")
        if not 0 < self.alpha < 0.5:
            raise ConfigError(f"[statistics] alpha must be between 0 and 0.5 (exclusive), "
                              f"got {self.alpha:g}")
        if self.n_sims is not None and (self.n_sims + 1) * self.alpha < 1 - 1e-9:
            raise ConfigError(f"[statistics] n_sims = {self.n_sims} cannot reach alpha = "
                              f"{self.alpha:g}: the smallest permutation p-value is "
                              f"1 / (n_sims + 1); set n_sims to at least "
                              f"{math.ceil(1 / self.alpha - 1)}")
        if self.reference not in ("addresses", "residents", "places"):
            raise ConfigError("[statistics] reference must be addresses, residents or places, "
                              f"got {self.reference!r}")
        if self.types not in ("auto", "confirmed", "estimated"):
            raise ConfigError("[statistics] types must be auto, confirmed or estimated, "
                              f"got {self.types!r}")


@dataclass
class CityConfig:
    """Which city the project is about: a built-in profile name or a profile TOML file."""

    profile: str = "barcelona"
    """``"barcelona"`` (built in) or a path such as ``"city.toml"`` (see
    :mod:`cwsgeo.build.profiles`)."""

    def validate(self) -> None:
        """Raise :class:`~cwsgeo.ConfigError` on an empty profile."""
        if not self.profile.strip():
            raise ConfigError("[city] profile must name a built-in profile or a TOML file")


_SECTIONS: dict[str, type] = {
    "city": CityConfig,
    "data": DataConfig,
    "inventory": InventoryConfig,
    "geocoding": GeocodingConfig,
    "proximity": ProximityConfig,
    "density": DensityConfig,
    "maps": MapsConfig,
    "statistics": StatisticsConfig,
}


@dataclass
class Config:
    """A loaded project configuration.

    Use :meth:`load` to read ``cwsgeo.toml`` (searched upward from the current folder) or
    :meth:`from_dict` in scripts and tests.
    """

    root: Path
    city: CityConfig = field(default_factory=CityConfig)
    data: DataConfig = field(default_factory=DataConfig)
    inventory: InventoryConfig = field(default_factory=InventoryConfig)
    geocoding: GeocodingConfig = field(default_factory=GeocodingConfig)
    proximity: ProximityConfig = field(default_factory=ProximityConfig)
    density: DensityConfig = field(default_factory=DensityConfig)
    maps: MapsConfig = field(default_factory=MapsConfig)
    statistics: StatisticsConfig = field(default_factory=StatisticsConfig)
    file: Path | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> Config:
        """Read a config file, or find ``cwsgeo.toml`` from the current folder upward.

        Parameters
        ----------
        path
            A ``cwsgeo.toml`` file or a folder holding one. ``None`` searches the current
            folder and its parents; if none is found, defaults are used with the current folder
            as project root.

        Returns
        -------
        Config
        """
        file = Path(path) if path is not None else find_config(Path.cwd())
        if file is not None and file.is_dir():
            file = file / CONFIG_NAME
        if file is None:
            return cls(root=Path.cwd().resolve())
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        cfg = cls.from_dict(raw, root=file.parent.resolve())
        cfg.file = file.resolve()
        return cfg

    @classmethod
    def from_dict(cls, raw: dict[str, Any], root: str | os.PathLike[str]) -> Config:
        """Build a config from a nested mapping (as read from TOML).

        Parameters
        ----------
        raw
            ``{"section": {"key": value}}``. Unknown sections and keys raise
            :class:`~cwsgeo.ConfigError`.
        root
            Folder that relative paths are resolved against.
        """
        kwargs: dict[str, Any] = {}
        for section, values in raw.items():
            if section not in _SECTIONS:
                raise ConfigError(
                    f"unknown config section [{section}]; known: {', '.join(_SECTIONS)}")
            if not isinstance(values, dict):
                raise ConfigError(f"[{section}] must be a table of key = value")
            kwargs[section] = _make_section(_SECTIONS[section], section, values)
        return cls(root=Path(root).resolve(), **kwargs)

    # -- resolved paths -----------------------------------------------------------------
    def _abs(self, p: str | os.PathLike[str]) -> Path:
        q = Path(os.fspath(p)).expanduser()
        return q if q.is_absolute() else (self.root / q).resolve()

    def resolved(self) -> Config:
        """Return a copy whose values left to :mod:`cwsgeo.settings` are read now.

        The build calls this when it starts, so ``cwsgeo.settings.walk_speed_kmh = 4.5``
        set at any time before a build reaches it (unless the project file sets the key).
        """
        return dataclasses.replace(self, proximity=self.proximity.resolved(),
                                   statistics=self.statistics.resolved())

    @property
    def profile(self) -> CityProfile:
        """The city profile (``[city] profile``), with ``[data] place`` when that is set."""
        from .profiles import load_profile

        prof = load_profile(self.city.profile, root=self.root)
        if not self.data.place or self.data.place == prof.place:
            return prof
        # another place: the profile's box belongs to its own place
        return dataclasses.replace(prof, place=self.data.place, bbox=None)

    @property
    def mirror_dir(self) -> Path:
        """Absolute path of the local data mirror (env ``CWSGEO_MIRROR`` overrides)."""
        env = os.environ.get("CWSGEO_MIRROR")
        return self._abs(env) if env else self._abs(self.data.mirror)

    @property
    def raw_dir(self) -> Path:
        """Absolute path of ``data/raw/``."""
        return self._abs(self.data.raw)

    @property
    def cache_dir(self) -> Path:
        """Absolute path of the HTTP, geocoding and stage cache."""
        return self._abs(self.data.cache)

    def processed_dir(self, out: str | os.PathLike[str] | None = None) -> Path:
        """``data/processed/`` under ``out`` (default: the configured folder)."""
        return (Path(out).resolve() / "data" / "processed") if out else self._abs(
            self.data.processed)

    def maps_dir(self, out: str | os.PathLike[str] | None = None) -> Path:
        """Return ``maps/`` under ``out`` (default: the configured folder)."""
        return (Path(out).resolve() / "maps") if out else self._abs(self.data.maps)

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path value that may start with ``mirror:`` or ``raw:``."""
        text = os.fspath(value)
        if text.startswith("mirror:"):
            return self.mirror_dir / text.removeprefix("mirror:")
        if text.startswith("raw:"):
            return self.raw_dir / text.removeprefix("raw:")
        return self._abs(text)

    @property
    def inventory_path(self) -> Path:
        """Absolute path of the configured inventory."""
        return self.resolve(self.inventory.path)

    def with_inventory(self, path: str | os.PathLike[str] | None = None, *,
                       columns: dict[str, str] | None = None,
                       ignore_columns: list[str] | None = None,
                       sheet: str | None = None) -> Config:
        """Return a copy that reads another inventory file, or the same with other options.

        The column rules of ``[inventory]`` apply to any file: an edited copy of the
        configured inventory is read exactly as the original. Options given here override
        them. Another file is never seeded: if it does not exist, reading it fails.

        Parameters
        ----------
        path
            Inventory file (``None``: the configured one).
        columns, ignore_columns, sheet
            Reading options to use instead.
        """
        target = Path(path).resolve() if path is not None else self.inventory_path
        opts: dict[str, Any] = {"path": str(target)}
        if target != self.inventory_path.resolve():
            opts["seed"] = None
        if columns:
            opts["columns"] = dict(columns)
        if ignore_columns:
            opts["ignore_columns"] = list(ignore_columns)
        if sheet:
            opts["sheet"] = sheet
        return self.replace(inventory=opts)

    def replace(self, **sections: Any) -> Config:
        """Return a copy with some sections changed: ``cfg.replace(data={"source": "live"})``."""
        new = dataclasses.replace(self)
        for name, changes in sections.items():
            current = getattr(self, name)
            merged = {**dataclasses.asdict(current), **changes}
            setattr(new, name, _make_section(_SECTIONS[name], name, merged))
        return new


def _make_section(kind: type, name: str, values: dict[str, Any]) -> Any:
    known = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [{name}]: {', '.join(unknown)}; known: {', '.join(known)}")
    out: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(kind(), key)
        if default is None and name in ("proximity", "statistics"):  # unset: follows settings
            default = getattr(kind().resolved(), key)
        out[key] = value if value is None else _coerce(name, key, value, default)
    obj = kind(**out)
    if hasattr(obj, "validate"):
        obj.validate()
    return obj


def _coerce(section: str, key: str, value: Any, default: Any) -> Any:
    where = f"[{section}] {key}"
    if isinstance(default, Path):
        if not isinstance(value, (str, os.PathLike)):
            raise ConfigError(f"{where} must be a path string, got {value!r}")
        return Path(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ConfigError(f"{where} must be a table of text = text")
        return dict(value)
    if isinstance(default, list):
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return list(value)
    if value is not None and default is not None and not isinstance(value, type(default)):
        raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
    return value


def find_config(start: Path) -> Path | None:
    """Return the nearest ``cwsgeo.toml`` in ``start`` or its parents, or ``None``."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None
