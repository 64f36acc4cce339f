"""City profiles: what a city has, in one small TOML file.

A profile names a city's boundary query and administrative levels, where its population comes
from, its optional address gazetteer and GTFS feeds, the projected CRS for metric work and the
languages used to normalise addresses and screen texts. Barcelona is the first built-in profile
(``cwsgeo/profiles/barcelona.toml``, with the local mirror); :func:`profile_for_place` writes
sensible defaults for any OpenStreetMap place, which ``cwsgeo init --place`` saves as
``city.toml`` for the user to edit.

The project file chooses one with ``[city] profile = "barcelona"`` (a built-in name) or
``[city] profile = "city.toml"`` (a path). The build applies it with :func:`applied`, which sets
:data:`cwsgeo.settings.crs_work` (and :data:`~cwsgeo.settings.city_bbox`) for the build's
duration, so the analysis layer stays free of any one city.

Examples
--------
>>> from cwsgeo.build.profiles import load_profile, profile_for_place, utm_crs
>>> load_profile("barcelona").crs
'EPSG:25831'
>>> utm_crs(9.19, 45.46)
'EPSG:32632'
>>> p = profile_for_place("Milano, Italia")
>>> (p.slug, p.country, p.district_level, p.population.kind)
('milano', 'IT', '9', 'ghsl')
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import settings
from .._errors import ConfigError, MissingDataError
from ..analysis.layers.modes import TransitModes

if TYPE_CHECKING:
    from ..analysis.geocoding.lexicon import CityLexicon
    from ..outputs.labels import AreaLabels

__all__ = ["GHSL_POP_URL", "POPULATION_KINDS", "CityLiterature", "CityProfile",
           "PopulationSource", "applied", "builtin_profiles", "city_lexicon", "city_literature",
           "city_settings", "load_profile", "place_parts", "profile_digest", "profile_for_place",
           "slugify", "toml_string", "utm_crs"]

#: Kinds of population source a profile may name.
POPULATION_KINDS: tuple[str, ...] = ("opendata_bcn", "ghsl", "polygons", "none")

#: The JRC's global GHS-POP grid, epoch 2025, 100 m, Mollweide (ESRI:54009); CC BY 4.0.
GHSL_POP_URL = ("https://jeodpp.jrc.ec.europa.eu/ftp/jrc-opendata/GHSL/GHS_POP_GLOBE_R2023A/"
                "GHS_POP_E2025_GLOBE_R2023A_54009_100/V1-0/"
                "GHS_POP_E2025_GLOBE_R2023A_54009_100_V1_0.zip")
GHSL_TITLE = ("Schiavina M., Freire S., Carioli A., MacManus K. (2023): GHS-POP R2023A - GHS "
              "population grid multitemporal (1975-2030). European Commission, JRC, CC BY 4.0")

# OSM admin_level of a city's districts and neighbourhoods by country (the OSM wiki's
# boundary=administrative table); other countries get 9 and 10, which the user can edit.
_ADMIN_LEVELS: dict[str, tuple[str | None, str | None]] = {
    "ES": ("9", "10"), "IT": ("9", "10"), "FR": ("9", "10"), "DE": ("9", "10"),
    "PL": ("9", "10"), "NL": ("10", "11"), "GB": ("8", "10"), "CZ": ("10", None),
    "PT": ("9", None), "AT": ("9", "10"), "BE": ("9", None), "SE": ("9", "10"),
}
_LANGUAGES: dict[str, tuple[str, ...]] = {
    "ES": ("es", "ca", "en"), "IT": ("it", "en"), "FR": ("fr", "en"), "DE": ("de", "en"),
    "PL": ("pl", "en"), "NL": ("nl", "en"), "GB": ("en",), "IE": ("en",), "CZ": ("cs", "en"),
    "PT": ("pt", "en"), "AT": ("de", "en"), "BE": ("fr", "nl", "en"), "SE": ("sv", "en"),
}
# country names as people end a place name with them (folded, see :func:`slugify`)
_COUNTRY_NAMES: dict[str, str] = {
    "spain": "ES", "espana": "ES", "espanya": "ES", "italy": "IT", "italia": "IT",
    "france": "FR", "germany": "DE", "deutschland": "DE", "poland": "PL", "polska": "PL",
    "netherlands": "NL", "nederland": "NL", "united-kingdom": "GB", "uk": "GB", "england": "GB",
    "ireland": "IE", "czechia": "CZ", "czech-republic": "CZ", "cesko": "CZ", "portugal": "PT",
    "austria": "AT", "osterreich": "AT", "belgium": "BE", "belgique": "BE", "sweden": "SE",
    "sverige": "SE",
}
# what people call districts and neighbourhoods, (singular, plural), by country; other
# countries keep the English words (the user can edit them in city.toml)
_AREA_WORDS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "IT": (("municipio", "municipi"), ("quartiere", "quartieri")),
    "FR": (("arrondissement", "arrondissements"), ("quartier", "quartiers")),
    "DE": (("Bezirk", "Bezirke"), ("Ortsteil", "Ortsteile")),
}


@dataclass(frozen=True)
class PopulationSource:
    """Where a city's residents come from.

    Attributes
    ----------
    kind
        ``"opendata_bcn"`` (Barcelona's register by census section), ``"ghsl"`` (the JRC
        population grid, read in windows), ``"polygons"`` (a user file of areas with a
        population column) or ``"none"`` (no residents: metrics that need them are empty).
    path
        ``ghsl``: GeoTIFF URL or file; ``polygons``: vector file. ``mirror:`` and ``raw:``
        prefixes work as in ``cwsgeo.toml``.
    column
        ``polygons``: the population column.
    epoch
        Year the population refers to (the GHSL epoch), recorded in the manifest.
    title
        Credit line of the source.
    label
        Short name of the source in figure notes (``"Padró 1/1/2024"``, ``"GHS-POP 2025"``).
    """

    kind: str = "none"
    path: str = ""
    column: str = "population"
    epoch: int | None = None
    title: str = ""
    label: str = ""

    def residents_note(self) -> str:
        """Return the figures' note on where residents come from (``hex_residents.png``)."""
        units = {"opendata_bcn": "census sections", "ghsl": "grid cells",
                 "polygons": "population areas"}.get(self.kind)
        if units is None:
            return "no population source"
        return f"{self.label or self.kind}, interpolated from {units} by area"


@dataclass(frozen=True)
class CityProfile:
    """What one city has: boundary, levels, population, gazetteer, GTFS, CRS and languages.

    Attributes
    ----------
    name
        Display name (map titles, the comparison table).
    place
        Nominatim query of the city boundary, e.g. ``"Barcelona, Catalonia, Spain"``.
    slug
        Folder-safe identifier (``cities/<slug>/`` in a batch).
    country
        ISO 3166-1 alpha-2 code (``""`` when unknown).
    crs
        Projected CRS for metric work; ``"auto"`` is the UTM zone of the boundary's centroid.
    languages
        Languages of addresses and listing texts, most used first.
    district_level, neighbourhood_level
        OSM ``admin_level`` of districts and neighbourhoods (``None``: the city has none).
    population
        Where residents come from.
    gazetteer
        Optional address gazetteer file (``""``: addresses are geocoded through Nominatim).
    gtfs
        Optional GTFS feeds (zip files or URLs).
    bbox
        Loose ``(west, south, east, north)`` box in degrees used to spot foreign coordinates
        before the boundary is loaded (``None``: from the boundary).
    lexicon
        Optional TOML file of the city's words (``""``: none): ``names``, ``region_names``,
        ``landmarks``, ``area_aliases``, ``outside_places`` and ``spellings`` of
        :class:`~cwsgeo.analysis.geocoding.CityLexicon`; read by :func:`city_lexicon`. A
        relative path is relative to the profile file.
    literature
        Optional TOML file of published figures the findings report compares with and the
        related work it cites (``""``: none); read by :func:`city_literature`.
    district_label, neighbourhood_label
        What people call the two levels, ``(singular, plural)``, in every text a person
        reads (map layers, legends, tooltips, figure titles, reports, QGIS layer names);
        the tables keep their names (``districts``, ``barris``, ``barri_code``). In TOML a
        word (plural: an ``s`` added) or a ``[singular, plural]`` pair.
    transit
        The city's transit modes and the rules that give a station its mode (the profile's
        ``[transit]`` table; default: the generic modes metro, tram, rail, bus, funicular,
        ferry).
    """

    name: str
    place: str
    slug: str
    country: str = ""
    crs: str = "auto"
    languages: tuple[str, ...] = ("en",)
    district_level: str | None = None
    neighbourhood_level: str | None = None
    population: PopulationSource = field(default_factory=PopulationSource)
    gazetteer: str = ""
    gtfs: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    lexicon: str = ""
    literature: str = ""
    district_label: tuple[str, str] = ("district", "districts")
    neighbourhood_label: tuple[str, str] = ("neighbourhood", "neighbourhoods")
    transit: TransitModes = field(default_factory=TransitModes)

    def area_labels(self) -> AreaLabels:
        """Return the words of the two levels for the output functions."""
        from ..outputs.labels import AreaLabels

        return AreaLabels(*self.district_label, *self.neighbourhood_label)

    def work_crs(self, lon: float | None = None, lat: float | None = None) -> str:
        """Return the metric CRS: :attr:`crs`, or for ``"auto"`` the UTM zone of a point.

        Parameters
        ----------
        lon, lat
            A point of the city (its boundary's centroid); when missing, the centre of
            :attr:`bbox`.
        """
        if self.crs != "auto":
            return self.crs
        if lon is None or lat is None:
            if self.bbox is None:
                raise ConfigError(f"profile {self.slug!r}: crs is 'auto' and no point or bbox "
                                  "is known yet to choose the UTM zone")
            west, south, east, north = self.bbox
            lon, lat = (west + east) / 2, (south + north) / 2
        return utm_crs(lon, lat)

    def to_toml(self) -> str:
        """Return the profile as commented TOML (what ``cwsgeo init`` writes)."""
        lines = ["# cwsgeo city profile: what this city has (README.md > Any city).", "[city]"]
        lines += _toml_lines(self, exclude=("population", "transit"))
        lines += ["", "[population]"]
        lines += _toml_lines(self.population)
        generic = TransitModes()
        lines += ["", "[transit]"]
        lines += _toml_lines(self.transit, exclude=tuple(
            f.name for f in dataclasses.fields(generic) if f.name not in ("modes", "rail")
            and getattr(self.transit, f.name) == getattr(generic, f.name)))
        return "\n".join(lines) + "\n"


#: The comment written after each key of a profile (``cwsgeo init``'s ``city.toml``).
_KEY_HELP: dict[str, str] = {
    "name": "shown in map and report titles",
    "place": "Nominatim query of the city boundary",
    "slug": "folder-safe id (cities/<slug>/ in a batch)",
    "country": "ISO 3166-1 alpha-2",
    "crs": '"auto": the UTM zone of the boundary; or e.g. "EPSG:3003"',
    "languages": "of addresses and listing texts",
    "district_level": "OSM admin_level of districts (comment out: none)",
    "neighbourhood_level": "OSM admin_level of neighbourhoods (comment out: none)",
    "gazetteer": "address points file; \"\": addresses through Nominatim",
    "gtfs": "GTFS feeds (zip files or URLs)",
    "bbox": "[west, south, east, north] in degrees; default: the boundary's",
    "lexicon": "TOML of the city's names, landmarks, area aliases (optional)",
    "literature": "TOML of published figures the report compares with (optional)",
    "district_label": "what people call a district: [singular, plural]",
    "neighbourhood_label": "and a neighbourhood (maps, figures, reports)",
    "kind": "ghsl | polygons | opendata_bcn | none",
    "path": ("GeoTIFF (ghsl: a downloaded GHS-POP tile or file; the global zip is read from "
             "its start) or polygons file"),
    "column": "population column of a polygons file",
    "epoch": "year the population refers to",
    "label": "short name of the source in figure notes",
    "modes": "transit modes, heaviest rail first",
    "rail": "mode of suburban/regional trains",
}


def _toml_lines(obj: Any, exclude: tuple[str, ...] = ()) -> list[str]:
    """``key = value  # help`` lines of a profile dataclass (``None`` values commented out)."""
    def value(v: Any) -> str:
        if isinstance(v, str):
            return toml_string(v)
        if isinstance(v, (tuple, list)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v)

    lines = []
    for f in dataclasses.fields(obj):
        if f.name in exclude:
            continue
        v = getattr(obj, f.name)
        text = f"# {f.name} = ..." if v is None else f"{f.name} = {value(v)}"
        note = _KEY_HELP.get(f.name)
        lines.append(f"{text}  # {note}" if note and len(text) < 60 else text)
    return lines


def toml_string(text: str) -> str:
    r"""Return ``text`` as a TOML basic string: quotes, backslashes and control characters escaped.

    Examples
    --------
    >>> print(toml_string('Sant "Andreu" Nord'))
    "Sant \"Andreu\" Nord"
    """
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
               "\f": "\\f", "\r": "\\r"}
    return '"' + "".join(
        escapes.get(ch) or (f"\\u{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
        for ch in text) + '"'


def slugify(text: str) -> str:
    """Return a lower-case ASCII slug: ``"Milano, Italia"`` → ``"milano-italia"``.

    Parameters
    ----------
    text
        Any name.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "city"


def utm_crs(lon: float, lat: float) -> str:
    """Return the WGS84 UTM zone CRS (``EPSG:326xx`` north, ``327xx`` south) of a point.

    Parameters
    ----------
    lon, lat
        Degrees.
    """
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise ConfigError(f"no UTM zone for lon={lon}, lat={lat}")
    zone = min(int((lon + 180) // 6) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def builtin_profiles() -> list[str]:
    """Return the names of the profiles shipped with cwsgeo (``cwsgeo/profiles/*.toml``)."""
    folder = resources.files("cwsgeo") / "profiles"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))


def load_profile(ref: str | os.PathLike[str], *, root: Path | None = None) -> CityProfile:
    """Read a profile: a built-in name (``"barcelona"``) or a TOML file.

    Parameters
    ----------
    ref
        Built-in name, or a path (relative paths are relative to ``root``).
    root
        Folder of the project file.

    Raises
    ------
    cwsgeo.ConfigError
        The profile is missing, not TOML, or has unknown keys or bad values.
    """
    text_ref = os.fspath(ref)
    if text_ref in builtin_profiles():
        res = resources.files("cwsgeo") / "profiles" / f"{text_ref}.toml"
        return _from_toml(res.read_text(encoding="utf-8"), f"built-in profile {text_ref!r}",
                          Path(str(res)).parent)
    path = Path(text_ref).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    if not path.is_file():
        raise ConfigError(f"city profile not found: {text_ref!r} (built-in profiles: "
                          f"{', '.join(builtin_profiles())}; or a path to a TOML file)")
    return _from_toml(path.read_text(encoding="utf-8"), str(path), path.parent)


def _from_toml(text: str, where: str, base: Path) -> CityProfile:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    unknown = set(raw) - {"city", "population", "transit"}
    if unknown or "city" not in raw:
        raise ConfigError(f"{where}: a profile has a [city] table and optional [population] "
                          f"and [transit] tables (found: {', '.join(sorted(raw)) or 'nothing'})")
    city = dict(raw["city"])
    pop = _checked(PopulationSource, raw.get("population", {}), f"{where} [population]")
    if pop.kind not in POPULATION_KINDS:
        raise ConfigError(f"{where} [population] kind must be one of "
                          f"{', '.join(POPULATION_KINDS)}, got {pop.kind!r}")
    for key in ("languages", "gtfs", "bbox"):
        if key in city:
            city[key] = tuple(city[key])
    for key in ("lexicon", "literature"):
        if city.get(key):
            city[key] = str(base / Path(str(city[key])).expanduser())
    for key in ("district_label", "neighbourhood_label"):
        if key in city:
            city[key] = _label_pair(city[key], f"{where} [city] {key}")
    transit = _transit_modes(raw.get("transit", {}), f"{where} [transit]")
    profile = _checked(CityProfile, {**city, "population": pop, "transit": transit},
                       f"{where} [city]")
    if profile.bbox is not None and len(profile.bbox) != 4:
        raise ConfigError(f"{where} [city] bbox must be [west, south, east, north]")
    if profile.crs != "auto":
        _check_crs(profile.crs, where)
    return profile


def _label_pair(value: Any, where: str) -> tuple[str, str]:
    """``"barri"`` -> ``("barri", "barris")``; ``["Bezirk", "Bezirke"]`` as it is."""
    words = [value] if isinstance(value, str) else value
    if (not isinstance(words, list) or not 1 <= len(words) <= 2
            or not all(isinstance(w, str) and w.strip() for w in words)):
        raise ConfigError(f"{where} must be a word or a [singular, plural] pair, got {value!r}")
    singular = words[0].strip()
    return singular, (words[1].strip() if len(words) == 2 else singular + "s")


def _transit_modes(raw: dict[str, Any], where: str) -> TransitModes:
    """Read the ``[transit]`` table into :class:`~cwsgeo.analysis.layers.TransitModes`."""
    values = dict(raw)
    try:
        for key in ("modes", "source_priority"):
            if key in values:
                values[key] = tuple(map(str, values[key]))
        if "operators" in values:
            values["operators"] = tuple((str(m), str(p)) for m, p in values["operators"])
        if "station_files" in values:
            values["station_files"] = tuple((str(w), str(m), str(s))
                                            for w, m, s in values["station_files"])
        if "merge_m" in values:
            pairs = values["merge_m"]  # a table {mode = metres} or [[mode, metres], ...]
            pairs = pairs.items() if isinstance(pairs, dict) else pairs
            values["merge_m"] = tuple((str(m), float(d)) for m, d in pairs)
        modes: TransitModes = _checked(TransitModes, values, where)
        return modes
    except (TypeError, ValueError, re.error) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def city_lexicon(profile: CityProfile) -> CityLexicon:
    """Read the city's words (:attr:`CityProfile.lexicon`) for the geocoder and text locator.

    Parameters
    ----------
    profile
        The city; without a lexicon file the lexicon is empty (no city words).

    Raises
    ------
    cwsgeo.ConfigError
        The file is missing, not TOML, or has unknown keys or malformed entries.
    """
    from ..analysis.geocoding.lexicon import CityLexicon

    if not profile.lexicon:
        return _with_train_word(CityLexicon(), profile.transit, Path("(none)"))
    path = Path(profile.lexicon)
    raw = _read_toml(path, "lexicon")
    try:
        lexicon = CityLexicon(
            names=tuple(map(str, raw.pop("names", ()))),
            region_names=tuple(map(str, raw.pop("region_names", ()))),
            outside_places=tuple(map(str, raw.pop("outside_places", ()))),
            landmarks=tuple((str(n), tuple(map(str, a)), str(ad))
                            for n, a, ad in raw.pop("landmarks", ())),
            area_aliases=tuple((str(n), tuple(map(str, c)))
                               for n, c in raw.pop("area_aliases", ())),
            transit_words=tuple((str(w), str(m)) for w, m in raw.pop("transit_words", ())),
            spellings=tuple((str(a), str(b)) for a, b in raw.pop("spellings", {}).items()))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"lexicon {path}: malformed entry: {exc}") from None
    if raw:
        raise ConfigError(f"lexicon {path}: unknown key(s) {', '.join(sorted(raw))}")
    return _with_train_word(lexicon, profile.transit, path)


def _with_train_word(lexicon: CityLexicon, transit: TransitModes, path: Path) -> CityLexicon:
    """Check the lexicon's transit words name the city's modes; "train" means its rail mode."""
    unknown = sorted({m for _, m in lexicon.transit_words if m not in transit.modes})
    if unknown:
        raise ConfigError(f"lexicon {path}: transit_words name mode(s) {', '.join(unknown)} "
                          f"that the city's [transit] modes ({', '.join(transit.modes)}) lack")
    if transit.rail == "rail" or any(w == "train" for w, _ in lexicon.transit_words):
        return lexicon
    return dataclasses.replace(lexicon,
                               transit_words=(*lexicon.transit_words, ("train", transit.rail)))


@dataclass(frozen=True)
class CityLiterature:
    """Published figures about a city's spaces and related work, for the findings report.

    Attributes
    ----------
    published
        ``(what, value, source, measure)``: a published figure and what cwsgeo computes for
        the same figure (``"listed_located"``, ``"typed"``, ``"listed"``, ...).
    related_work
        Sentences citing related work.
    """

    published: tuple[tuple[str, str, str, str], ...] = ()
    related_work: tuple[str, ...] = ()


def city_literature(profile: CityProfile) -> CityLiterature:
    """Read the city's literature (:attr:`CityProfile.literature`; none without a file).

    Parameters
    ----------
    profile
        The city.

    Raises
    ------
    cwsgeo.ConfigError
        The file is missing, not TOML or malformed.
    """
    if not profile.literature:
        return CityLiterature()
    raw = _read_toml(Path(profile.literature), "literature")
    try:
        lit = CityLiterature(
            published=tuple((str(e["what"]), str(e["value"]), str(e.get("source", "")),
                             str(e.get("measure", ""))) for e in raw.pop("published", ())),
            related_work=tuple(map(str, raw.pop("related_work", ()))))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"literature {profile.literature}: malformed entry: {exc}") from None
    if raw:
        raise ConfigError(f"literature {profile.literature}: unknown key(s) "
                          f"{', '.join(sorted(raw))}")
    return lit


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{what} {path} unreadable: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path}: not valid TOML: {exc}") from None


def _checked(kind: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(known))}")
    try:
        return kind(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_crs(crs: str, where: str) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ConfigError(f"{where}: crs {crs!r} is not a CRS: {exc}") from None
    if not parsed.is_projected:
        raise ConfigError(f"{where}: crs {crs!r} is not projected (metric work needs metres)")


def profile_for_place(place: str, *, country: str = "", **overrides: Any) -> CityProfile:
    """Return default profile values for any OpenStreetMap place.

    Administrative levels, languages and the words of the two levels (Italian, French and
    German cities get theirs, e.g. ``municipio``/``quartiere``; others the English
    ``district``/``neighbourhood``) follow the country (guessed from the last part of
    ``place`` unless given); population comes from the GHSL grid; the CRS is the UTM zone of
    the boundary (``"auto"``).

    Parameters
    ----------
    place
        Nominatim query, e.g. ``"Milano, Italia"``.
    country
        ISO 3166-1 alpha-2 code, when known.
    **overrides
        Any :class:`CityProfile` field.
    """
    parts = place_parts(place)
    if not parts:
        raise ConfigError("a place name is needed, e.g. 'Milano, Italia'")
    code = (country or _COUNTRY_NAMES.get(slugify(parts[-1]), "")).upper()
    levels = _ADMIN_LEVELS.get(code, ("9", "10"))
    words = _AREA_WORDS.get(code, (("district", "districts"), ("neighbourhood", "neighbourhoods")))
    values: dict[str, Any] = {
        "name": parts[0], "place": place, "slug": slugify(parts[0]), "country": code,
        "crs": "auto", "languages": _LANGUAGES.get(code, ("en",)),
        "district_level": levels[0], "neighbourhood_level": levels[1],
        "district_label": words[0], "neighbourhood_label": words[1],
        "population": PopulationSource("ghsl", GHSL_POP_URL, epoch=2025, title=GHSL_TITLE,
                                       label="GHS-POP 2025"),
    }
    return _checked(CityProfile, {**values, **overrides}, f"profile for {place!r}")


@contextmanager
def applied(profile: CityProfile, crs: str | None = None) -> Iterator[None]:
    """Set :mod:`cwsgeo.settings` for one city while the block runs, then restore it.

    Sets :data:`~cwsgeo.settings.crs_work` (``crs`` when given, e.g. the CRS a live fetch
    resolved, else :meth:`CityProfile.work_crs`) and :data:`~cwsgeo.settings.city_bbox`
    (when the profile has one). Settings are process-wide, so one process builds one city at
    a time (the batch runs one build per worker process).

    Parameters
    ----------
    profile
        The city.
    crs
        Resolved metric CRS (overrides an ``"auto"`` profile).
    """
    saved = settings.crs_work, settings.city_bbox
    try:
        settings.crs_work = crs or profile.work_crs()
        if profile.bbox is not None:
            settings.city_bbox = profile.bbox
        yield
    finally:
        settings.crs_work, settings.city_bbox = saved


def place_parts(place: str) -> list[str]:
    """Return the comma-separated parts of a place name: ``["Milano", "Italia"]``.

    Parameters
    ----------
    place
        A Nominatim query such as ``"Milano, Italia"``.
    """
    return [p.strip() for p in place.split(",") if p.strip()]


def profile_digest(profile: CityProfile) -> str:
    """Return a digest of what a fetch takes from the city profile (kept in the manifest).

    Parameters
    ----------
    profile
        The city.
    """
    fetched = {k: getattr(profile, k) for k in (
        "place", "crs", "district_level", "neighbourhood_level", "gazetteer", "gtfs")}
    fetched["population"] = dataclasses.asdict(profile.population)
    fetched["transit"] = repr(profile.transit)
    return hashlib.sha256(json.dumps(fetched, sort_keys=True, default=str).encode()
                          ).hexdigest()[:16]


def city_settings(profile: CityProfile, manifest: Mapping[str, Any] | None
                  ) -> AbstractContextManager[None]:
    """Return the settings of one city for a build or a geocoding run (see :func:`applied`).

    The metric CRS is the profile's, or for ``crs = "auto"`` the one the fetch resolved; the
    bounding box is the profile's, else the fetched boundary's (never Barcelona's default).

    Parameters
    ----------
    profile
        The city (``Config.profile``).
    manifest
        ``data/raw/manifest.json`` (``None``: not fetched yet).

    Raises
    ------
    cwsgeo.MissingDataError
        An ``"auto"`` CRS without a fetch to resolve it.
    """
    manifest = manifest or {}
    crs = manifest.get("crs") if profile.crs == "auto" else profile.crs
    bbox = profile.bbox or manifest.get("bbox")
    if crs is None and bbox is None:
        raise MissingDataError(f"{profile.name}'s metric CRS comes from its boundary: run "
                               "`cwsgeo fetch` first")
    return applied(dataclasses.replace(profile, bbox=tuple(bbox)) if bbox else profile, crs=crs)
