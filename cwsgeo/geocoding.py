"""Geocoding: addresses (or names) to points, offline first, Nominatim as an optional fallback.

This module owns

* address text handling: folding accents, case and middle-dot variants (:func:`fold`),
  Spanish / abbreviated street types and particles (:func:`normalize_street`), and splitting an
  address into street, house number, letter and postcode (:func:`parse_address`);
* :class:`OfflineGeocoder`, a matcher over the Ajuntament's address gazetteer (a folder laid out
  like the bundle's ``addresses/``: ``bcn_addresses.csv``, ``bcn_streets.csv``,
  ``bcn_street_types.csv``), loaded lazily on first use;
* the live fallback on Nominatim through osmnx (:class:`NominatimGeocoder`), used only when
  enabled and the gazetteer cannot resolve an address;
* :class:`Geocoder`, which combines both with a per-address on-disk cache
  (``cache_dir/geocode.sqlite``);
* :func:`geocode_table`, the table-level step the pipeline and the CLI call.

Matching rules
--------------
Street names are compared on a *key*: folded text (lower case, no accents, ``l·l``/``l.l``/
``l-l`` -> ``ll``, ``ñ`` -> ``ny``), Spanish and abbreviated type words mapped to the Catalan
type (:data:`TYPE_WORDS`), a short table of common Spanish words mapped to Catalan
(:data:`SPANISH_WORDS`) and the particles (``de``, ``del``, ``d'``, ``la``, ``els`` ...) dropped.
A street matches when its key equals the query's (score 100) or is close enough by
``rapidfuzz.fuzz.ratio`` (score >= ``min_score``); a street type that contradicts the query's
costs 5 points (the query said "Carrer"/"Calle", which people use loosely) or 10 points. Ties
are broken by the postcode (when given), by whether the house number exists on the street, by
preferring a "Carrer" when the query names no type, and by the street's number of addresses.
``ratio`` (not ``partial_ratio``/``WRatio``) is used on purpose: "Granada" must not match
"Ciutat de Granada" or "Granada del Penedès" by containment. Streets are also found by their
2019 name (``previous_full_street``), their short name and their name without a leading title
(:data:`HONORIFICS`: "Letamendi" for "Doctor Letamendi", 5 points less). A type word alone
("Gran Via 672") stands for the street holding at least 80 % of that type's addresses.

False friends: when the address's street matches nothing but the row's *name* contains exactly
one official street name that contains every word of the address's street (e.g. the address
"Carrer de la Granada, 121" in a row named "WeWork Ciutat de Granada"), that street is used with
score 90 and the note ``"street completed from the name"``. Otherwise the row stays unmatched.

Names: when a row has no address, :meth:`OfflineGeocoder.geocode_name` looks for
"<street> <number>" inside its name ("WeWork Avinguda Diagonal 371", "630 Gran Via Center",
"pallars85") and accepts it only with a house number, a street scoring at least
``max(min_score, 90)`` that is not a generic word, and that number on the street; such results
carry ``from_name=True``. Names are never sent to Nominatim.

Statuses: ``exact`` (street and number found; the letter may differ, see the note),
``nearest_number`` (same street, nearest number on the same side, else on any side),
``street_only`` (no usable number: the street's representative point, the address point nearest
to the median of its address points), ``unmatched``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from . import settings
from ._errors import DataSourceError, GeocodingError, MissingDataError
from ._text import strip_accents

if TYPE_CHECKING:
    import geopandas as gpd

    from ._cache import StageCache
    from .config import Config

__all__ = [
    "ALGORITHM_VERSION",
    "GEOCODE_COLUMNS",
    "HONORIFICS",
    "PARTICLES",
    "SPANISH_WORDS",
    "TYPE_WORDS",
    "GeocodeResult",
    "Geocoder",
    "NominatimGeocoder",
    "OfflineGeocoder",
    "ParsedAddress",
    "fold",
    "geocode_table",
    "normalize_street",
    "parse_address",
    "street_key",
]

logger = logging.getLogger(__name__)

#: Bumped whenever matching rules change, so cached offline answers are recomputed.
ALGORITHM_VERSION = "1"

Status = Literal["exact", "nearest_number", "street_only", "unmatched"]
LOCATED: frozenset[str] = frozenset({"exact", "nearest_number", "street_only"})

#: Columns :func:`geocode_table` adds (``lat``/``lon`` are also filled for geocoded rows).
GEOCODE_COLUMNS: tuple[str, ...] = (
    "location_method", "geocode_status", "geocode_score", "geocode_query", "address_from_name",
    "matched_address", "matched_street_code", "matched_postcode", "matched_census_section",
    "geocode_lat", "geocode_lon", "geocode_note", "coord_check_m", "coord_flag")

ADDRESS_FILE = "bcn_addresses.csv"
STREETS_FILE = "bcn_streets.csv"
TYPES_FILE = "bcn_street_types.csv"

_ADDRESS_COLUMNS = ("street_type", "street_name", "full_street", "number", "lat", "lon",
                    "street_code", "number_int", "number_letter", "postcode", "census_section")
_STREET_COLUMNS = ("street_code", "street_type", "street_name", "full_street")
_TYPE_COLUMNS = ("street_type_abbr", "street_type")
_CODE_COLUMNS = ("street_code", "ine_street_code", "street_type_abbr", "number",
                 "number_letter", "district_code", "barri_code", "postcode", "census_section")

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

#: Street-type words and abbreviations (folded, as token tuples) -> Catalan type (folded).
#: The Ajuntament's own abbreviations from ``bcn_street_types.csv`` are added at load time.
TYPE_WORDS: dict[tuple[str, ...], str] = {
    **dict.fromkeys([("carrer",), ("calle",), ("c",), ("cl",), ("cll",), ("cr",), ("carr",),
                     ("street",)], "carrer"),
    **dict.fromkeys([("avinguda",), ("avenida",), ("avda",), ("avd",), ("av",), ("avgda",),
                     ("avenue",)], "avinguda"),
    **dict.fromkeys([("passeig",), ("paseo",), ("pg",), ("pso",), ("ps",), ("psg",)],
                    "passeig"),
    **dict.fromkeys([("placa",), ("plaza",), ("pza",), ("plza",), ("pl",), ("plc",), ("pca",),
                     ("square",), ("sq",)], "placa"),
    **dict.fromkeys([("passatge",), ("pasaje",), ("psje",), ("pje",), ("ptge",), ("pge",)],
                    "passatge"),
    **dict.fromkeys([("travessera",), ("travesera",), ("trav",), ("trv",)], "travessera"),
    **dict.fromkeys([("travessia",), ("travesia",), ("trvs",)], "travessia"),
    **dict.fromkeys([("ronda",), ("rda",)], "ronda"),
    **dict.fromkeys([("rambla",), ("ramblas",), ("rbla",), ("rb",)], "rambla"),
    **dict.fromkeys([("gran", "via"), ("g", "v"), ("gv",), ("gran", "v")], "gran via"),
    **dict.fromkeys([("carretera",), ("ctra",), ("crta",), ("cra",)], "carretera"),
    **dict.fromkeys([("cami",), ("camino",)], "cami"),
    **dict.fromkeys([("baixada",), ("bajada",), ("bda",)], "baixada"),
    **dict.fromkeys([("carrero",), ("callejon",)], "carrero"),
    **dict.fromkeys([("jardins",), ("jardines",)], "jardins"),
    **dict.fromkeys([("placeta",), ("plazoleta",), ("plta",)], "placeta"),
    **dict.fromkeys([("parc",), ("parque",)], "parc"),
    **dict.fromkeys([("moll",), ("muelle",)], "moll"),
    **dict.fromkeys([("platja",), ("playa",)], "platja"),
    **dict.fromkeys([("torrent",), ("torrente",)], "torrent"),
    **dict.fromkeys([("riera",)], "riera"),
    **dict.fromkeys([("via",)], "via"),
    **dict.fromkeys([("costa",)], "costa"),
    **dict.fromkeys([("escales",), ("escalinata",)], "escales"),
}

#: Common Spanish words in Barcelona street names -> Catalan (folded). Most Spanish forms need
#: no entry: folding (accents, ``ñ`` -> ``ny``) and fuzzy matching cover "Cataluña",
#: "Valencia", "Mallorca", "Cristóbal de Moura", "Provenza", "Córcega", "Aragón", ...
SPANISH_WORDS: dict[str, str] = {
    "san": "sant", "pedro": "pere", "y": "i", "gerona": "girona", "lerida": "lleida",
    "consejo": "consell", "ciento": "cent", "cortes": "corts", "catalanas": "catalanes",
    "cataluna": "catalunya", "espana": "espanya", "ramblas": "rambla",
    "universidad": "universitat", "mayor": "major", "cerdenya": "sardenya", "nueva": "nova",
    "nuevo": "nou", "puerta": "porta", "puerto": "port", "iglesia": "esglesia",
    "conde": "comte", "duque": "duc", "obispo": "bisbe", "padre": "pare", "rey": "rei",
    "principe": "princep",
    # saints' names common in street names (Sant Joan, Sant Pau, Sant Jaume ...)
    "juan": "joan", "jose": "josep", "jaime": "jaume", "pablo": "pau", "jorge": "jordi",
    "antonio": "antoni", "francisco": "francesc", "miguel": "miquel", "andres": "andreu",
    # abbreviations of titles and saints
    "dr": "doctor", "dra": "doctora", "gral": "general", "sta": "santa", "mn": "mossen",
}

#: Titles often left out of a street name ("Plaça Letamendi" for "Plaça del Doctor
#: Letamendi"); a street is also found by its name without the title, 5 points lower.
HONORIFICS: frozenset[str] = frozenset(
    {"doctor", "general", "pintor", "poeta", "comte", "comtessa", "marques", "mossen", "pare",
     "beat", "bisbe", "escultor", "music", "enginyer", "rei", "reina", "infanta", "princep",
     "capita", "almirall", "arquitecte", "historiador", "abat", "fra", "president", "mestre",
     "germans", "baro", "duc", "cardenal", "sor", "monsenyor", "professor", "metge",
     "compositor", "escriptor", "pianista", "violoncel", "periodista", "actor", "actriu"})

#: Particles dropped from keys (Catalan and Spanish articles and prepositions).
PARTICLES: frozenset[str] = frozenset(
    {"de", "del", "dels", "d", "la", "les", "l", "el", "els", "en", "n", "na", "las", "los",
     "lo"})

_CITY_WORDS = frozenset({"barcelona", "bcn", "spain", "espana", "espanya", "catalunya",
                         "catalonia", "cataluna", "barna", "es"})
_NUMBER_WORDS = frozenset({"n", "no", "num", "numero", "nr", "nro"})
_GENERIC_NAME_WORDS = frozenset({"coworking", "cowork", "work", "space", "spaces", "office",
                                 "offices", "center", "centre", "business", "barcelona", "bcn",
                                 "hub", "lab", "house", "studio", "the"})

# l·l and its stand-ins; "." and "-" only between vowels ("Gal.la", not "Pl. Lesseps")
_MIDDLE_DOT = re.compile(r"l[·•∙˙‧・]l|ŀl|(?<=[aeiouàèéíïòóúü])l[.\-]l(?=[aeiouàèéíïòóúü])",
                         re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_POSTCODE = re.compile(r"(?<![\d.,])(\d{5})(?![\d.,]?\d)")
_NO_NUMBER = re.compile(r"\b(?:s\s*/\s*n|s\.\s*n\.?|sin\s+n[uú]mero|sense\s+n[uú]mero)(?!\w)",
                        re.IGNORECASE)
# A house number: 1-4 digits not glued to a word, slash or hyphen before it, and an optional
# letter glued to it ("19X") or standing alone before a comma or the end ("12 B").
_HOUSE_NUMBER = re.compile(
    r"(?<![\w/\-])(\d{1,4})(?:([A-Za-z])(?![\w·'])|\s+([A-HJ-NP-XZa-hj-np-xz])(?=\s*(?:,|$)))?"
    r"(?![\d])")


def fold(text: str) -> str:
    """Fold text for comparison: lower case, no accents, ``l·l`` -> ``ll``, ``ñ`` -> ``ny``.

    Apostrophes, slashes and other punctuation become spaces; runs of spaces collapse.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
        ASCII letters, digits and single spaces.

    Examples
    --------
    >>> fold("Plaça de Gal·la Placídia")
    'placa de galla placidia'
    >>> fold("Gal-la Placidia") == fold("Gal.la Placídia") == fold("GAL·LA PLACIDIA")
    True
    >>> fold("Plaza Cataluña")
    'plaza catalunya'
    >>> fold("Carrer d'Aragó")
    'carrer d arago'
    """
    text = _MIDDLE_DOT.sub("ll", str(text).lower())
    text = text.replace("ñ", "ny").replace("ß", "ss").replace("º", " ").replace("ª", " ")
    return _NON_ALNUM.sub(" ", strip_accents(text)).strip()


def _tokens(text: str) -> list[str]:
    return [SPANISH_WORDS.get(t, t) for t in fold(text).split()]


def _split_type(tokens: Sequence[str],
                types: Mapping[tuple[str, ...], str] = TYPE_WORDS) -> tuple[str | None, int]:
    """Return (Catalan type, tokens used) for a type word at the start of ``tokens``."""
    for size in (2, 1):
        head = tuple(tokens[:size])
        if len(head) == size and head in types:
            return types[head], size
    return None, 0


def street_key(text: str, types: Mapping[tuple[str, ...], str] = TYPE_WORDS
               ) -> list[tuple[str | None, str]]:
    """Return the readings of a street text as ``(type, name key)`` pairs, best first.

    The name key has no particles; the type is the Catalan street type (folded) or ``None``.
    "C/ Rambla de Catalunya" is read both as a "carrer" named "rambla catalunya" and as the
    "rambla" named "catalunya"; every text is also read as a name without a type.

    Parameters
    ----------
    text
        Street as written (no house number).
    types
        Type vocabulary (default :data:`TYPE_WORDS`).

    Returns
    -------
    list of (str or None, str)
        Distinct readings with a non-empty name key.

    Examples
    --------
    >>> street_key("Calle Valencia")
    [('carrer', 'valencia'), (None, 'calle valencia')]
    >>> street_key("C/ Rambla de Catalunya")[:2]
    [('carrer', 'rambla catalunya'), ('rambla', 'catalunya')]
    >>> street_key("La Rambla")
    [(None, 'rambla')]
    """
    tokens = [t for t in _tokens(text) if t not in PARTICLES]
    readings: list[tuple[str | None, str]] = []
    kind, used = _split_type(tokens, types)
    if kind is not None:
        rest = tokens[used:]
        if rest:
            readings.append((kind, " ".join(rest)))
            kind2, used2 = _split_type(rest, types)
            if kind2 is not None and rest[used2:]:
                readings.append((kind2, " ".join(rest[used2:])))
    if tokens:
        readings.append((None, " ".join(tokens)))
    return list(dict.fromkeys(readings))


def normalize_street(text: str) -> str:
    """Return the canonical key of a street: Catalan type (if any) + name, no particles.

    Parameters
    ----------
    text
        Street as written, in Catalan, Spanish or abbreviated form.

    Returns
    -------
    str
        Folded key; two spellings of one street give the same key.

    Examples
    --------
    >>> normalize_street("Calle Valencia") == normalize_street("Carrer de València")
    True
    >>> normalize_street("Avda. Diagonal")
    'avinguda diagonal'
    >>> normalize_street("Pza. Cataluña") == normalize_street("Plaça de Catalunya")
    True
    >>> normalize_street("Pg. de Gràcia") == normalize_street("Paseo de Gracia")
    True
    >>> normalize_street("Gran Vía de las Cortes Catalanas")
    'gran via corts catalanes'
    >>> normalize_street("Travesera de Gracia")
    'travessera gracia'
    >>> normalize_street("Placa Gal-la Placidia")
    'placa galla placidia'
    """
    readings = street_key(text)
    if not readings:
        return ""
    kind, name = readings[0]
    return f"{kind} {name}" if kind else name


# ---------------------------------------------------------------------------------------------
# Address parsing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedAddress:
    """An address split into its parts.

    Attributes
    ----------
    street
        Street as written, without number, floor, door, postcode or city.
    number
        First house number (``None`` when there is none).
    letter
        Letter glued to the number ("19X" -> ``"X"``), upper case, or ``""``.
    postcode
        Five-digit postcode found in the text, or ``None``.
    """

    street: str
    number: int | None = None
    letter: str = ""
    postcode: str | None = None


def _clean(text: str) -> tuple[str, str | None, bool]:
    """Return (text without postcode/city segments, postcode, explicit 'no number')."""
    text = unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ")
    text = re.sub(r"\s+", " ", text).strip()
    postcode = None
    match = _POSTCODE.search(text)
    if match:
        postcode = match.group(1)
        text = (text[:match.start()] + text[match.end():]).strip()
    no_number = bool(_NO_NUMBER.search(text))
    if no_number:
        text = _NO_NUMBER.sub(" ", text)
    parts = [p.strip() for p in re.split(r"[,;]", text)]
    kept = parts[:1] + [p for p in parts[1:]
                        if p and not set(fold(p).split()) <= _CITY_WORDS]
    text = ", ".join(p for p in kept if p)
    text = re.sub(r"^[\s,.:;/-]+|[\s,.:;/-]+$", "", text)
    return text, postcode, no_number


def _street_before(text: str, end: int) -> str:
    street = text[:end]
    street = re.sub(r"[\s,.:;#/-]+$", "", street)
    words = street.split()
    while words and fold(words[-1]).replace(" ", "") in _NUMBER_WORDS:
        words.pop()
    return re.sub(r"[\s,.:;#/-]+$", "", " ".join(words))


def _candidates(text: str) -> tuple[list[ParsedAddress], str | None]:
    """Return every (street, number) reading of an address, in order, plus the postcode.

    The first reading takes the first number after a word; later ones take later numbers (for
    street names with digits, e.g. "Carrer Número 4 Zona Franca, 12"); the last reading is the
    whole text as a street without a number.
    """
    cleaned, postcode, no_number = _clean(text)
    readings: list[ParsedAddress] = []
    if not no_number:
        for m in _HOUSE_NUMBER.finditer(cleaned):
            street = _street_before(cleaned, m.start())
            if not re.search(r"[^\W\d_]", street):
                continue
            letter = (m.group(2) or m.group(3) or "").upper()
            readings.append(ParsedAddress(street, int(m.group(1)), letter, postcode))
    whole = _street_before(cleaned, len(cleaned))
    if re.search(r"[^\W\d_]", whole):
        readings.append(ParsedAddress(whole, None, "", postcode))
    return readings, postcode


def parse_address(text: str) -> ParsedAddress:
    """Split an address into street, first house number, letter and postcode.

    Floor and door ("3º 2ª", "entresol 1a", "Principal 2ª", "1 Pis", "bajos", "local 3"),
    second numbers of a range ("25-27", "413, 415"), the postcode and a trailing city or
    country are dropped. This is the first reading only; the geocoder also tries later numbers
    when a street name itself contains digits.

    Parameters
    ----------
    text
        Address as written.

    Returns
    -------
    ParsedAddress

    Examples
    --------
    >>> parse_address("Carrer del Consell de Cent, 413, 415, Principal 2ª")
    ParsedAddress(street='Carrer del Consell de Cent', number=413, letter='', postcode=None)
    >>> parse_address("Rambla de Catalunya, 125, 3º 2ª, 08008 Barcelona")
    ParsedAddress(street='Rambla de Catalunya', number=125, letter='', postcode='08008')
    >>> parse_address("Carrer Calàbria 149, entresol 1a").number
    149
    >>> parse_address("Carrer dels Pinzón 12-2").number
    12
    >>> parse_address("Carrer de Pallars 19X").letter
    'X'
    >>> parse_address("Ronda Sant Pere")
    ParsedAddress(street='Ronda Sant Pere', number=None, letter='', postcode=None)
    >>> parse_address("Calle Marina s/n").number is None
    True
    """
    readings, postcode = _candidates(text)
    if not readings:
        return ParsedAddress("", None, "", postcode)
    return readings[0]


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeocodeResult:
    """What the geocoder found for one address.

    Attributes
    ----------
    status
        ``exact``, ``nearest_number``, ``street_only`` or ``unmatched``.
    score
        Street-name match score, 0-100 (for an unmatched address: the best score seen).
    lat, lon
        EPSG:4326 point, ``None`` when unmatched.
    provider
        ``"gazetteer"``, ``"nominatim"`` or ``"none"``.
    query
        The address text geocoded (possibly taken from the name).
    matched_address
        The official address found, e.g. ``"Carrer d'Aragó 308"`` (street only for
        ``street_only``), or ``""``.
    street_code, postcode, census_section
        Gazetteer attributes of the matched address point (``""`` when unknown).
    note
        Short explanation: letter or number substituted, postcode disagreement, ambiguity.
    from_name
        True when the address was read from the row's name.
    """

    status: Status
    score: float
    lat: float | None = None
    lon: float | None = None
    provider: str = "none"
    query: str = ""
    matched_address: str = ""
    street_code: str = ""
    postcode: str = ""
    census_section: str = ""
    note: str = ""
    from_name: bool = False

    @property
    def located(self) -> bool:
        """True when the result carries a point."""
        return self.status in LOCATED and self.lat is not None and self.lon is not None

    def to_json(self) -> str:
        """Serialise for the cache."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GeocodeResult:
        """Read a cached result."""
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _unmatched(query: str, score: float = 0.0, note: str = "", provider: str = "none",
               from_name: bool = False) -> GeocodeResult:
    return GeocodeResult("unmatched", round(float(score), 1), provider=provider, query=query,
                         note=note, from_name=from_name)


# ---------------------------------------------------------------------------------------------
# Offline gazetteer
# ---------------------------------------------------------------------------------------------


@dataclass
class _Street:
    code: str
    kind: str
    core: str
    full: str
    start: int
    end: int
    rep: int
    postcodes: frozenset[str] = field(default_factory=frozenset)

    @property
    def n(self) -> int:
        return self.end - self.start


@dataclass
class _Candidate:
    street: _Street
    score: float
    via_name: bool = False
    rival: str = ""


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            line = fh.readline()
    except OSError as exc:
        raise MissingDataError(f"cannot read gazetteer file {path}: {exc}") from None
    return [c.strip().strip('"') for c in line.rstrip("\r\n").split(",")]


def _read_csv(path: Path, usecols: Sequence[str] | None = None) -> pd.DataFrame:
    dtype = dict.fromkeys(_CODE_COLUMNS, str)
    kwargs: dict[str, Any] = {"dtype": dtype, "keep_default_na": False, "na_values": [""],
                              "encoding": "utf-8"}
    if usecols is not None:
        kwargs["usecols"] = list(usecols)
    try:
        return pd.read_csv(path, engine="pyarrow", **kwargs)
    except ImportError:  # pragma: no cover - pyarrow missing
        return pd.read_csv(path, **kwargs)
    except Exception as exc:
        raise GeocodingError(f"{path}: cannot be read as the address gazetteer: {exc}") from None


_OFFLINE_GEOCODERS: dict[tuple[Any, ...], OfflineGeocoder] = {}


class OfflineGeocoder:
    """Street + number matcher over the Ajuntament's address gazetteer.

    Build it with :meth:`from_dir`. The files' headers are checked at once; the 175k address
    points are read on first use (about 0.3 s), so a run whose answers are all cached never
    reads them.

    Parameters
    ----------
    folder
        Folder with ``bcn_addresses.csv``, ``bcn_streets.csv`` and (optionally)
        ``bcn_street_types.csv``.
    min_score
        Lowest street-name score (0-100) accepted.
    """

    def __init__(self, folder: str | os.PathLike[str], *, min_score: float = 85.0) -> None:
        self.folder = Path(folder)
        self.min_score = float(min_score)
        self._check_files()
        self._loaded = False
        self._fingerprint: str | None = None
        #: Stage cache holding the built index (see :meth:`load`); ``None``: always parse.
        self.index_cache: StageCache | None = None

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str], *, min_score: float = 85.0
                 ) -> OfflineGeocoder:
        """Return a geocoder over the gazetteer in ``path`` (checked now, loaded lazily).

        Parameters
        ----------
        path
            Folder laid out like the bundle's ``addresses/``.
        min_score
            Lowest street-name score (0-100) accepted.

        Raises
        ------
        cwsgeo.MissingDataError
            The folder or a required file is missing.
        cwsgeo.GeocodingError
            A file lacks required columns.

        Notes
        -----
        Within one process the same folder with unchanged files gives the same (possibly
        already loaded) geocoder, so ``cwsgeo watch`` loads the gazetteer once.
        """
        geocoder = cls(path, min_score=min_score)
        stamp = (str(Path(path).resolve()), geocoder.min_score, tuple(
            (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in geocoder.files))
        cached = _OFFLINE_GEOCODERS.get(stamp)
        if cached is not None:
            return cached
        _OFFLINE_GEOCODERS.clear()  # keep at most one gazetteer in memory
        _OFFLINE_GEOCODERS[stamp] = geocoder
        return geocoder

    # -- files -----------------------------------------------------------------------------
    @property
    def files(self) -> list[Path]:
        """The gazetteer files this geocoder reads (those that exist)."""
        names = [ADDRESS_FILE, STREETS_FILE, TYPES_FILE]
        return [self.folder / n for n in names if (self.folder / n).is_file()]

    def _check_files(self) -> None:
        if not self.folder.is_dir():
            raise MissingDataError(
                f"address gazetteer folder not found: {self.folder} (expected {ADDRESS_FILE} "
                f"and {STREETS_FILE}; run 'cwsgeo fetch' or point the config at the mirror)")
        for name, required in ((ADDRESS_FILE, _ADDRESS_COLUMNS),
                               (STREETS_FILE, _STREET_COLUMNS)):
            path = self.folder / name
            if not path.is_file():
                raise MissingDataError(f"address gazetteer file not found: {path}")
            missing = [c for c in required if c not in _read_header(path)]
            if missing:
                raise GeocodingError(f"{path}: missing column(s) {', '.join(missing)}")
        types = self.folder / TYPES_FILE
        if types.is_file():
            missing = [c for c in _TYPE_COLUMNS if c not in _read_header(types)]
            if missing:
                raise GeocodingError(f"{types}: missing column(s) {', '.join(missing)}")

    def fingerprint(self) -> str:
        """Return a hash of the gazetteer files' bytes and the matching rules (cache key part)."""
        if self._fingerprint is None:
            digest = hashlib.sha256(f"cwsgeo-geocoding-{ALGORITHM_VERSION}".encode())
            for path in self.files:
                digest.update(path.name.encode())
                with path.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        digest.update(block)
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    @property
    def is_loaded(self) -> bool:
        """True once the address points have been read."""
        return self._loaded

    # -- loading ---------------------------------------------------------------------------
    def load(self) -> None:
        """Read the gazetteer and build the street index (done once, on first use).

        With :attr:`index_cache` set (the pipeline sets its stage cache), the built index is
        stored there keyed by the hash of the files' bytes, so a new process reads the pickled
        index (about 0.1 s) instead of parsing 175k address points again.
        """
        if self._loaded:
            return
        t0 = time.perf_counter()
        if self.index_cache is not None:  # keyed by the files' bytes (hashed in ~0.02 s)
            index = self.index_cache.cached("gazetteer", [ALGORITHM_VERSION, self.fingerprint()],
                                            self._build_index)
        else:
            index = self._build_index()
        self.__dict__.update(index)
        self._loaded = True
        logger.info("address gazetteer %s: %d points, %d streets loaded in %.2f s",
                    self.folder, len(self._codes), len(self._streets), time.perf_counter() - t0)

    def _build_index(self) -> dict[str, Any]:
        """Parse the gazetteer files into the matcher's arrays and street index."""
        types = dict(TYPE_WORDS)
        types_path = self.folder / TYPES_FILE
        if types_path.is_file():
            tt = _read_csv(types_path, _TYPE_COLUMNS)
            for abbr, word in zip(tt["street_type_abbr"], tt["street_type"], strict=True):
                if isinstance(abbr, str) and isinstance(word, str):
                    types.setdefault(tuple(fold(abbr).split()), fold(word))
                    types.setdefault(tuple(fold(word).split()), fold(word))

        path = self.folder / ADDRESS_FILE
        cols = [*_ADDRESS_COLUMNS, *(c for c in ("district_code", "barri_code")
                                     if c in _read_header(path))]
        addr = _read_csv(path, cols)
        bad = addr["lat"].isna() | addr["lon"].isna() | addr["number_int"].isna()
        if bad.any():
            logger.warning("%s: %d rows without coordinates or number ignored", path,
                           int(bad.sum()))
            addr = addr[~bad]
        for col in ("street_code", "number_letter", "postcode", "census_section", "full_street",
                    "street_type", "street_name"):
            addr[col] = addr[col].fillna("").astype(str)
        addr = addr.sort_values(["street_code", "number_int", "number_letter"], kind="stable")
        addr = addr.reset_index(drop=True)
        _codes = addr["street_code"].to_numpy(dtype=object)
        _nums = addr["number_int"].to_numpy(dtype=np.int64)
        _letters = addr["number_letter"].to_numpy(dtype=object)
        _lat = addr["lat"].to_numpy(dtype=float)
        _lon = addr["lon"].to_numpy(dtype=float)
        _postcode = addr["postcode"].to_numpy(dtype=object)
        _section = addr["census_section"].to_numpy(dtype=object)
        _number_text = addr["number"].astype(str).to_numpy(dtype=object)

        # representative point of each street: the address point nearest to the median point
        grp = addr.groupby("street_code", sort=False)
        med_lat = grp["lat"].transform("median").to_numpy()
        med_lon = grp["lon"].transform("median").to_numpy()
        dist = (_lat - med_lat) ** 2 + ((_lon - med_lon) * 0.75) ** 2
        rep = pd.Series(dist).groupby(addr["street_code"].to_numpy(), sort=False).idxmin()
        codes, starts, counts = np.unique(_codes.astype(str), return_index=True,
                                          return_counts=True)
        pcs_of: dict[str, set[str]] = {}
        pairs = addr.loc[addr["postcode"] != "", ["street_code", "postcode"]].drop_duplicates()
        for code, pc in zip(pairs["street_code"].tolist(), pairs["postcode"].tolist(),
                            strict=True):
            pcs_of.setdefault(code, set()).add(pc)
        rep_of = rep.to_dict()
        kinds = addr["street_type"].to_numpy(dtype=object)
        names = addr["street_name"].to_numpy(dtype=object)
        fulls = addr["full_street"].to_numpy(dtype=object)

        streets: dict[str, _Street] = {}
        for code, start, count in zip(codes.tolist(), starts.tolist(), counts.tolist(),
                                      strict=True):
            streets[code] = _Street(
                code=code, kind=fold(kinds[start]), core=self._core(names[start]),
                full=fulls[start], start=start, end=start + count, rep=int(rep_of[code]),
                postcodes=frozenset(pcs_of.get(code, ())))

        register = _read_csv(self.folder / STREETS_FILE)
        aliases: list[tuple[str, str | None, str]] = []  # (core, kind, code)
        for rec in register.itertuples(index=False):
            code = str(rec.street_code)
            if code not in streets:
                streets[code] = _Street(code, fold(str(rec.street_type)),
                                        self._core(str(rec.street_name)), str(rec.full_street),
                                        0, 0, -1)
            for alias in (getattr(rec, "previous_full_street", None),
                          getattr(rec, "short_name", None)):
                if isinstance(alias, str) and alias.strip():
                    aliases.extend((core, kind, code) for kind, core in
                                   street_key(alias, types)[:1])
        per_kind: dict[str, list[_Street]] = {}
        for st in streets.values():
            per_kind.setdefault(st.kind, []).append(st)
        main_street_of_kind = {
            kind: top.code for kind, group in per_kind.items()
            if (top := max(group, key=lambda s: s.n)).n >= 0.8 * sum(s.n for s in group) > 0}
        by_core: dict[str, list[tuple[str | None, str, float]]] = {}
        for st in streets.values():
            by_core.setdefault(st.core, []).append((st.kind, st.code, 0.0))
        for core, kind, code in aliases:
            if not any(e[1] == code for e in by_core.get(core, ())):
                by_core.setdefault(core, []).append((kind, code, 0.0))
        # the name without its title ("Doctor Letamendi" -> "Letamendi"), 5 points less
        for st in streets.values():
            words = st.core.split()
            if len(words) > 1 and words[0] in HONORIFICS:
                short = " ".join(words[1:])
                if not any(e[1] == st.code for e in by_core.get(short, ())):
                    by_core.setdefault(short, []).append((st.kind, st.code, 5.0))
        by_core.pop("", None)
        return {"_types": types, "_codes": _codes, "_nums": _nums, "_letters": _letters,
                "_lat": _lat, "_lon": _lon, "_postcode": _postcode, "_section": _section,
                "_number_text": _number_text, "_streets": streets,
                "_main_street_of_kind": main_street_of_kind, "_by_core": by_core,
                "_cores": list(by_core)}

    @staticmethod
    def _core(name: str) -> str:
        return " ".join(t for t in _tokens(name) if t not in PARTICLES)

    # -- matching --------------------------------------------------------------------------
    def _score_streets(self, street: str) -> dict[str, float]:
        """Score every plausible street for a street text: code -> best score."""
        from rapidfuzz import fuzz, process

        best: dict[str, float] = {}

        def add(code: str, score: float) -> None:
            if score > best.get(code, -1.0):
                best[code] = score

        readings = street_key(street, self._types)
        for kind, core in readings:
            for skind, code, cost in self._by_core.get(core, ()):
                add(code, 100.0 - cost - _type_penalty(kind, skind))
        # a type alone ("Gran Via 672"): the street that holds most of that type's addresses
        kind0, _ = _split_type([t for t in _tokens(street) if t not in PARTICLES],
                               self._types)
        if kind0 is not None and len(readings) == 1 and readings[0][0] is None:
            main = self._main_street_of_kind.get(kind0)
            if main is not None:
                add(main, 90.0)
        if not best or max(best.values()) < 100.0:
            cutoff = max(self.min_score - 15.0, 50.0)
            for kind, core in readings:
                if len(core) < 3 or tuple(core.split()) in self._types:
                    continue
                for other, sim, _ in process.extract(core, self._cores, scorer=fuzz.ratio,
                                                     score_cutoff=cutoff, limit=12):
                    for skind, code, cost in self._by_core[other]:
                        add(code, float(sim) - cost - _type_penalty(kind, skind))
        return best

    def _rank(self, scores: Mapping[str, float], number: int | None, postcode: str | None,
              untyped: bool) -> list[_Candidate]:
        def key(item: tuple[str, float]) -> tuple[Any, ...]:
            code, score = item
            st = self._streets[code]
            has_number = (number is not None and st.n > 0
                          and bool(np.any(self._nums[st.start:st.end] == number)))
            return (round(score), st.n > 0, bool(postcode and postcode in st.postcodes),
                    has_number, untyped and st.kind == "carrer", st.n, score)

        ranked = sorted(scores.items(), key=key, reverse=True)
        out = [_Candidate(self._streets[c], s) for c, s in ranked]
        if len(ranked) > 1 and key(ranked[0])[:4] == key(ranked[1])[:4]:
            out[0].rival = out[1].street.full
        return out

    def _from_name(self, street: str, name: str | None) -> _Candidate | None:
        """Find the one street of the row's name containing every word of ``street``."""
        if not name:
            return None
        type_words = {k[0] for k in self._types if len(k) == 1}
        words = {t for t in _tokens(street) if t not in PARTICLES and t not in type_words}
        if not words:
            return None
        name_key = f" {' '.join(t for t in _tokens(name) if t not in PARTICLES)} "
        hits = {code for core, entries in self._by_core.items()
                if words <= set(core.split()) and f" {core} " in name_key
                for _, code, _ in entries}
        hits = {c for c in hits if self._streets[c].n > 0}
        if len(hits) != 1:
            return None
        return _Candidate(self._streets[hits.pop()], 90.0, via_name=True)

    def _locate(self, cand: _Candidate, parsed: ParsedAddress, query: str,
                extra_notes: Sequence[str] = ()) -> GeocodeResult:
        st = cand.street
        notes = list(extra_notes)
        if cand.via_name:
            notes.append("street completed from the name")
        sl = slice(st.start, st.end)
        nums = self._nums[sl]
        if parsed.number is None:
            i = st.rep
            status: Status = "street_only"
            matched = st.full
            notes.append(f"no house number: representative point ({st.full} "
                         f"{self._number_text[i]})")
        else:
            n = parsed.number
            same = np.flatnonzero(nums == n)
            if same.size:
                letters = self._letters[sl][same]
                pick = same[letters == parsed.letter]
                if not pick.size:
                    pick = same[letters == ""]
                    if not pick.size:
                        pick = same
                    notes.append(f"letter differs: {n}{parsed.letter} -> "
                                 f"{self._number_text[st.start + int(pick[0])]}")
                status = "exact"
                i = st.start + int(pick[0])
            else:
                side = np.flatnonzero(nums % 2 == n % 2)
                pool = side if side.size else np.arange(nums.size)
                j = int(pool[np.argmin(np.abs(nums[pool] - n))])
                i = st.start + j
                status = "nearest_number"
                where = "same side" if side.size else "other side"
                notes.append(f"number {n} not in gazetteer: nearest {self._number_text[i]} "
                             f"({where})")
            matched = f"{st.full} {self._number_text[i]}"
        pc = str(self._postcode[i])
        if parsed.postcode and pc and parsed.postcode != pc:
            notes.append(f"postcode {parsed.postcode} given, gazetteer says {pc}")
        return GeocodeResult(
            status=status, score=round(cand.score, 1), lat=float(self._lat[i]),
            lon=float(self._lon[i]), provider="gazetteer", query=query,
            matched_address=matched, street_code=st.code, postcode=pc,
            census_section=str(self._section[i]), note="; ".join(notes))

    def geocode(self, address: str, postcode: str | None = None, *,
                name: str | None = None) -> GeocodeResult:
        """Geocode one address on the gazetteer.

        Parameters
        ----------
        address
            Address as written (street, number, maybe floor, postcode and city).
        postcode
            Postcode from a separate column; breaks ties between same-named streets.
        name
            The space's name; used only to complete a street that matches nothing
            (see the module notes on false friends).

        Returns
        -------
        GeocodeResult
            Status ``unmatched`` when no street scores ``min_score`` or more.
        """
        query = str(address or "").strip()
        readings, text_postcode = _candidates(query)
        pc = _clean_postcode(postcode) or text_postcode
        if not readings:
            return _unmatched(query, note="no street in the address")
        self.load()
        # numbered readings first (best street score wins, then a number that exists, then
        # the earliest), then the whole text as a street without a number
        numbered = [r for r in readings if r.number is not None]
        plain = [r for r in readings if r.number is None]
        best_seen, best_label = 0.0, ""
        for group in (numbered, plain):
            chosen: tuple[tuple[float, bool], _Candidate, ParsedAddress] | None = None
            for reading in group:
                parsed = dataclasses.replace(reading, postcode=pc)
                readings_key = street_key(parsed.street, self._types)
                ranked = self._rank(self._score_streets(parsed.street), parsed.number, pc,
                                    untyped=bool(readings_key) and readings_key[0][0] is None)
                if not ranked:
                    continue
                top = ranked[0]
                if top.score > best_seen:
                    best_seen, best_label = top.score, top.street.full
                st = top.street
                quality = (top.score, parsed.number is not None and bool(
                    np.any(self._nums[st.start:st.end] == parsed.number)))
                if top.score >= self.min_score and (chosen is None or quality > chosen[0]):
                    chosen = (quality, top, parsed)
            if chosen is None:
                continue
            _, top, parsed = chosen
            if top.street.n == 0:
                return _unmatched(query, top.score, f"{top.street.full} has no address points",
                                  provider="gazetteer")
            notes = [f"ambiguous: {top.rival} fits as well"] if top.rival else []
            return self._locate(top, parsed, query, notes)
        hint = self._from_name(readings[0].street, name)
        if hint is not None:
            return self._locate(hint, dataclasses.replace(readings[0], postcode=pc), query)
        note = (f"best street {best_label!r} scored {best_seen:.0f} < {self.min_score:.0f}"
                if best_label else "no similar street")
        return _unmatched(query, best_seen, note, provider="gazetteer")

    def geocode_name(self, name: str) -> GeocodeResult:
        """Look for a street and house number written inside a name.

        "WeWork Avinguda Diagonal 371" or "Spaces Via Augusta 123" are accepted; "Aticco
        Bailén" or "Talent Garden" (no number) and "Spaces 22 Arroba" (no street before the
        number) are not. A name-derived address must have a house number, a street scoring at
        least ``max(min_score, 90)`` with a name of at least 4 letters that is not a generic
        word ("coworking", "barcelona", ...), and that number (or one within 6 on the same side)
        on the street. A number first ("630 Gran Via Center") is read as "Gran Via 630"; a
        word glued to a number ("pallars85") is accepted only on an exact street name
        (score 100) and an existing number.

        Parameters
        ----------
        name
            The space's name.

        Returns
        -------
        GeocodeResult
            ``from_name=True``; ``unmatched`` when nothing acceptable is found.
        """
        text = str(name or "").strip()
        spans = _name_spans(text)
        if not spans:
            return _unmatched("", note="no house number in the name", from_name=True)
        self.load()
        threshold = max(self.min_score, 90.0)
        best: tuple[float, int, GeocodeResult] | None = None
        for span, strict in spans:
            parsed = parse_address(span)
            if parsed.number is None:
                continue
            readings = street_key(parsed.street, self._types)
            core = readings[0][1] if readings else ""
            if len(core.replace(" ", "")) < 4 or set(core.split()) <= _GENERIC_NAME_WORDS:
                continue
            scores = self._score_streets(parsed.street)
            ranked = self._rank(scores, parsed.number, None,
                                untyped=readings[0][0] is None)
            if not ranked or ranked[0].score < (100.0 if strict else threshold) \
                    or ranked[0].street.n == 0:
                continue
            res = self._locate(ranked[0], parsed, span)
            if strict and res.status != "exact":
                continue
            if res.status == "nearest_number":
                st = ranked[0].street
                gaps = np.abs(self._nums[st.start:st.end] - parsed.number)
                if not np.any((gaps <= 6) & (gaps % 2 == 0)):
                    continue
            res = dataclasses.replace(res, from_name=True,
                                      note="; ".join(filter(None, ["address read from the name",
                                                                   res.note])))
            cand = (res.score, len(span), res)
            if best is None or cand[:2] > best[:2]:
                best = cand
        if best is None:
            return _unmatched("", note="no street + number found in the name", from_name=True,
                              provider="gazetteer")
        return best[2]


def _type_penalty(query_kind: str | None, street_kind: str | None) -> float:
    if query_kind is None or street_kind is None or query_kind == street_kind:
        return 0.0
    return 5.0 if query_kind == "carrer" else 10.0


_GLUED = re.compile(r"(?<![\w])([^\W\d_]{4,})(\d{1,4})(?![^\W_])")
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,4})\s+(?=[^\W\d_])")


def _name_spans(name: str) -> list[tuple[str, bool]]:
    """Return ``(street + number text, strict)`` readings of a name, shortest street first.

    Three forms: words then a number ("WeWork Avinguda Diagonal 371"), a number first
    ("630 Gran Via Business Center") and a word glued to a number ("pallars85"); the last is
    ``strict`` (accepted only on an exact street name and number).

    >>> [s for s, _ in _name_spans("WeWork Avinguda Diagonal 371")]
    ['Diagonal 371', 'Avinguda Diagonal 371', 'WeWork Avinguda Diagonal 371']
    >>> _name_spans("630 GRAN VIA Center")[:2]
    [('GRAN 630', False), ('GRAN VIA 630', False)]
    >>> _name_spans("pallars85")
    [('pallars 85', True)]
    >>> _name_spans("Talent Garden")
    []
    """
    spans: list[tuple[str, bool]] = []
    for m in _HOUSE_NUMBER.finditer(name):
        before = name[:m.start()].rstrip(" ,")
        words = before.split()
        if not words or not re.search(r"[^\W\d_]", words[-1]):
            continue
        tail = name[m.start():m.end()]
        for k in range(1, min(len(words), 6) + 1):
            spans.append((" ".join(words[-k:]) + " " + tail, False))
    lead = _LEADING_NUMBER.match(name)
    if lead:
        words = re.split(r"[\s,;|]+", name[lead.end():].strip())
        for k in range(1, min(len(words), 6) + 1):
            if re.search(r"[^\W\d_]", words[k - 1]) is None:
                break
            spans.append((" ".join(words[:k]) + " " + lead.group(1), False))
    spans += [(f"{m.group(1)} {m.group(2)}", True) for m in _GLUED.finditer(name)]
    return spans


def _clean_postcode(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = re.sub(r"\D", "", str(value).split(".")[0] if isinstance(value, float)
                  else str(value))
    if len(text) == 4:
        text = "0" + text
    return text if len(text) == 5 else None


# ---------------------------------------------------------------------------------------------
# Nominatim
# ---------------------------------------------------------------------------------------------


class NominatimGeocoder:
    """Live geocoder on Nominatim through osmnx (<= 1 request per second, cached by osmnx).

    Requests go through :func:`cwsgeo._http.osmnx_settings`, so they use
    :data:`cwsgeo.settings.nominatim_url`, the User-Agent, the retry hook and the osmnx cache in
    ``cache_dir/osmnx``. Queries are biased to the city: ``"<street> <number>, <postcode>
    <city>, Spain"`` with the city's bounding box as a bounded ``viewbox``. An answer whose road
    does not match the street asked for (score below ``min_score``) counts as not found.

    Parameters
    ----------
    cache_dir
        cwsgeo's cache folder (osmnx's cache goes in ``cache_dir/osmnx``).
    city
        City name appended to queries.
    min_score
        Lowest score between the street asked for and the road returned.
    """

    provider = "nominatim"

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *,
                 city: str = "Barcelona", min_score: float = 85.0) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.city = city
        self.min_score = float(min_score)

    def query_for(self, parsed: ParsedAddress) -> dict[str, Any]:
        """Return the Nominatim search parameters for an address."""
        street = parsed.street
        if parsed.number is not None:
            street = f"{street} {parsed.number}{parsed.letter}"
        place = f"{parsed.postcode} {self.city}" if parsed.postcode else self.city
        west, south, east, north = settings.city_bbox
        return {"q": f"{street}, {place}, Spain", "addressdetails": 1, "countrycodes": "es",
                "viewbox": f"{west},{north},{east},{south}", "bounded": 1}

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Context in which :meth:`geocode` may be called (sets osmnx's settings once)."""
        from ._http import osmnx_settings

        with contextlib.ExitStack() as stack:
            cache = self.cache_dir
            if cache is None:
                cache = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            stack.enter_context(osmnx_settings(cache, source="Nominatim"))
            yield

    def geocode(self, address: str, postcode: str | None = None) -> GeocodeResult:
        """Geocode one address on Nominatim (call inside :meth:`session`).

        Returns
        -------
        GeocodeResult
            ``unmatched`` for a genuine "not found".

        Raises
        ------
        cwsgeo.DataSourceError
            Network failure or bad answer after retries.
        """
        from osmnx import _nominatim

        from ._http import call_live

        query = str(address or "").strip()
        parsed = parse_address(query)
        parsed = dataclasses.replace(parsed, postcode=_clean_postcode(postcode)
                                     or parsed.postcode)
        if not parsed.street:
            return _unmatched(query, provider=self.provider, note="no street in the address")
        params = self.query_for(parsed)
        answer = call_live(_nominatim._download_nominatim_element, params, limit=1,
                           polygon_geojson=False, source="Nominatim")
        if not isinstance(answer, list):
            raise DataSourceError("Nominatim", f"unexpected answer for {params['q']!r}")
        return self._result(answer, parsed, query)

    def _result(self, answer: list[dict[str, Any]], parsed: ParsedAddress,
                query: str) -> GeocodeResult:
        from rapidfuzz import fuzz

        if not answer:
            return _unmatched(query, provider=self.provider, note="Nominatim: not found")
        hit = answer[0]
        try:
            lat, lon = float(hit["lat"]), float(hit["lon"])
        except (KeyError, TypeError, ValueError):
            raise DataSourceError("Nominatim", f"answer without coordinates for "
                                  f"{query!r}") from None
        west, south, east, north = settings.city_bbox
        if not (south <= lat <= north and west <= lon <= east):
            return _unmatched(query, provider=self.provider,
                              note=f"Nominatim: result outside the city ({lat}, {lon})")
        address = hit.get("address") or {}
        road = address.get("road") or address.get("pedestrian") or address.get("square") or ""
        if road:
            ours = normalize_street(parsed.street)
            theirs = normalize_street(road)
            score = max(float(fuzz.ratio(ours, theirs)),
                        max((float(fuzz.ratio(a, b))
                             for _, a in street_key(parsed.street) for _, b in street_key(road)),
                            default=0.0))
        else:
            score = float("nan")
        if road and score < self.min_score:
            return _unmatched(query, score, provider=self.provider,
                              note=f"Nominatim returned another street: {road!r}")
        house = str(address.get("house_number") or "")
        if parsed.number is None or not house:
            status: Status = "street_only"
        elif re.match(rf"^{parsed.number}(?!\d)", house):
            status = "exact"
        else:
            status = "nearest_number"
        matched = " ".join(p for p in (road, house) if p) or str(hit.get("display_name", ""))
        return GeocodeResult(status=status, score=round(score, 1) if road else score, lat=lat,
                             lon=lon, provider=self.provider, query=query,
                             matched_address=matched, postcode=str(address.get("postcode", "")),
                             note=f"Nominatim {hit.get('class', hit.get('category', ''))}/"
                                  f"{hit.get('type', '')}")


# ---------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------


class _Cache:
    """Per-address results in SQLite (``cache_dir/geocode.sqlite``), atomic per transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as exc:
                # a damaged cache is only a cache: keep it aside for inspection, start afresh
                aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                logger.warning("geocoding cache %s is unreadable (%s); moved to %s",
                               self.path, exc, aside.name)
                self.path.replace(aside)
                for suffix in ("-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        Path(f"{self.path}{suffix}").unlink()
                self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS geocode (key TEXT PRIMARY KEY, "
                         "provider TEXT NOT NULL, result TEXT NOT NULL, created REAL NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, "
                         "value TEXT NOT NULL)")
            conn.commit()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def get_many(self, keys: Sequence[str]) -> dict[str, GeocodeResult]:
        out: dict[str, GeocodeResult] = {}
        for i in range(0, len(keys), 500):
            chunk = list(keys[i:i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT key, result FROM geocode WHERE key IN ({marks})",
                                     chunk).fetchall()
            for key, text in rows:
                with contextlib.suppress(ValueError, TypeError):
                    out[key] = GeocodeResult.from_json(text)
        return out

    def put_many(self, items: Iterable[tuple[str, GeocodeResult]]) -> None:
        rows = [(k, r.provider, r.to_json(), time.time()) for k, r in items]
        if rows:
            with self.conn:
                self.conn.executemany("INSERT OR REPLACE INTO geocode VALUES (?, ?, ?, ?)",
                                      rows)

    def meta_get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def meta_put(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# ---------------------------------------------------------------------------------------------
# Combined geocoder
# ---------------------------------------------------------------------------------------------

#: One geocoding task: ("address", address, postcode, name) or ("name", name, "", "").
Task = tuple[str, str, str, str]


class Geocoder:
    """Offline gazetteer + optional Nominatim fallback + per-address cache.

    Parameters
    ----------
    offline
        The gazetteer geocoder.
    online
        Default for asking Nominatim when the gazetteer leaves an address unmatched.
    cache_dir
        Folder of ``geocode.sqlite`` (and osmnx's cache); ``None`` disables caching.
    nominatim
        Live geocoder (default: a :class:`NominatimGeocoder` on ``cache_dir``).

    Notes
    -----
    Cache keys hold the provider, a hash of the gazetteer files and of the matching rules (see
    :data:`ALGORITHM_VERSION`), ``min_score``, the folded query, the postcode and (for
    addresses) the folded name, which can complete a street. Nominatim keys do not depend on
    the gazetteer. Network failures are never cached; a genuine "not found" is.
    """

    def __init__(self, offline: OfflineGeocoder | None, *, online: bool = False,
                 cache_dir: str | os.PathLike[str] | None = None,
                 nominatim: NominatimGeocoder | None = None) -> None:
        self.offline = offline
        self.online = bool(online)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.nominatim = nominatim or NominatimGeocoder(
            self.cache_dir, min_score=offline.min_score if offline else 85.0)
        self._cache = _Cache(self.cache_dir / "geocode.sqlite") if self.cache_dir else None
        self._gaz_version: str | None = None

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str]
                 | None = None, min_score: float = 85.0, online: bool = False,
                 city: str = "Barcelona") -> Geocoder:
        """Build a geocoder over the gazetteer folder ``path``.

        Parameters
        ----------
        path
            Folder laid out like the bundle's ``addresses/``.
        cache_dir
            Cache folder (``None``: no cache).
        min_score
            Lowest street-name score accepted (offline and from Nominatim).
        online
            Ask Nominatim when the gazetteer fails.
        city
            City appended to Nominatim queries.
        """
        offline = OfflineGeocoder.from_dir(path, min_score=min_score)
        nominatim = NominatimGeocoder(cache_dir, city=city, min_score=min_score)
        return cls(offline, online=online, cache_dir=cache_dir, nominatim=nominatim)

    @classmethod
    def from_config(cls, cfg: Config, gazetteer_dir: str | os.PathLike[str] | None = None, *,
                    index_cache: StageCache | None = None) -> Geocoder:
        """Build the geocoder a project config describes.

        The gazetteer is ``gazetteer_dir`` if given, else ``<raw>/addresses`` when it exists,
        else ``<mirror>/addresses``. ``[geocoding] online``, ``min_score`` and ``city`` are
        honoured; the cache is the config's cache folder. ``index_cache`` keeps the parsed
        gazetteer (see :meth:`OfflineGeocoder.load`).
        """
        if gazetteer_dir is None:
            raw = cfg.raw_dir / "addresses"
            gazetteer_dir = raw if (raw / ADDRESS_FILE).is_file() else \
                cfg.mirror_dir / "addresses"
        if cfg.geocoding.online and not (Path(gazetteer_dir) / ADDRESS_FILE).is_file():
            logger.warning("no address gazetteer at %s: geocoding with Nominatim only",
                           gazetteer_dir)
            nominatim = NominatimGeocoder(cfg.cache_dir, city=cfg.geocoding.city,
                                          min_score=cfg.geocoding.min_score)
            return cls(None, online=True, cache_dir=cfg.cache_dir, nominatim=nominatim)
        geocoder = cls.from_dir(gazetteer_dir, cache_dir=cfg.cache_dir,
                                min_score=cfg.geocoding.min_score, online=cfg.geocoding.online,
                                city=cfg.geocoding.city)
        if geocoder.offline is not None and index_cache is not None:
            geocoder.offline.index_cache = index_cache
        return geocoder

    def close(self) -> None:
        """Close the cache database."""
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> Geocoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys ------------------------------------------------------------------------------
    def _gazetteer_version(self) -> str:
        """Hash of the gazetteer, memoised in the cache by file size and mtime."""
        assert self.offline is not None
        if self._gaz_version is None:
            stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                             for p in self.offline.files)
            memo_key = f"fingerprint:{ALGORITHM_VERSION}:{self.offline.folder.resolve()}:{stamp}"
            value = self._cache.meta_get(memo_key) if self._cache else None
            if value is None:
                value = self.offline.fingerprint()
                if self._cache:
                    self._cache.meta_put(memo_key, value)
            self._gaz_version = value
        return self._gaz_version

    def _offline_key(self, task: Task) -> str:
        assert self.offline is not None
        kind, text, postcode, name = task
        base = f"gazetteer|{self._gazetteer_version()}|ms{self.offline.min_score:g}|{kind}"
        return f"{base}|{fold(text)}|{postcode}|{fold(name)}"

    def _online_key(self, address: str, postcode: str) -> str:
        nom = self.nominatim
        return (f"nominatim|v{ALGORITHM_VERSION}|{settings.nominatim_url}|ms{nom.min_score:g}|"
                f"{fold(nom.city)}|{fold(address)}|{postcode}")

    # -- geocoding -------------------------------------------------------------------------
    def geocode(self, address: str, postcode: str | None = None, *, name: str | None = None,
                online: bool | None = None) -> GeocodeResult:
        """Geocode one address: cache, then gazetteer, then (if enabled) Nominatim.

        Parameters
        ----------
        address
            Address as written.
        postcode
            Postcode from a separate column, if any.
        name
            The space's name (can complete a street that matches nothing).
        online
            Override the geocoder's ``online`` default.

        Returns
        -------
        GeocodeResult
        """
        task: Task = ("address", str(address or ""), _clean_postcode(postcode) or "",
                      str(name or ""))
        return self.geocode_many([task], online=online)[task]

    def geocode_name(self, name: str) -> GeocodeResult:
        """Geocode an address written inside a name (gazetteer only, cached)."""
        task: Task = ("name", str(name or ""), "", "")
        return self.geocode_many([task], online=False)[task]

    def geocode_many(self, tasks: Iterable[Task], *, online: bool | None = None,
                     progress: bool = False) -> dict[Task, GeocodeResult]:
        """Geocode distinct tasks, reading and filling the cache in bulk.

        Parameters
        ----------
        tasks
            ``("address", address, postcode, name)`` or ``("name", name, "", "")``.
        online
            Ask Nominatim for addresses the gazetteer leaves unmatched (default: the
            geocoder's setting). Names are never sent to Nominatim.
        progress
            Show a progress bar.

        Returns
        -------
        dict
            Task -> result.

        Raises
        ------
        cwsgeo.DataSourceError
            Nominatim failed (results obtained so far stay cached).
        """
        from tqdm.auto import tqdm

        use_online = self.online if online is None else bool(online)
        todo = list(dict.fromkeys(tasks))
        results: dict[Task, GeocodeResult] = {}
        # tasks that need no gazetteer at all
        for task in todo:
            kind, text = task[0], task[1]
            if kind == "name" and not _name_spans(text):
                results[task] = _unmatched("", note="no house number in the name",
                                           from_name=True)
            elif kind == "address" and not text.strip():
                results[task] = _unmatched("", note="no address")
        pending = [t for t in todo if t not in results]
        if self.offline is None:  # Nominatim only
            for t in pending:
                results[t] = _unmatched(t[1], note="no offline gazetteer",
                                        from_name=t[0] == "name")
            pending = []
        # An address's answer depends on the space's name only when the address alone matches
        # nothing (the name may complete the street). Answers found without the name are
        # cached under a name-free key, so renaming a space never re-runs the gazetteer.
        keys: dict[Task, str] = {}
        generic: dict[Task, str] = {}
        if pending and self._cache is not None:
            keys = {t: self._offline_key(t) for t in pending}
            generic = {t: self._offline_key((t[0], t[1], t[2], "")) for t in pending
                       if t[0] == "address"}
            hits = self._cache.get_many(list({*keys.values(), *generic.values()}))
            for t in pending:
                hit = hits.get(generic.get(t, "")) or hits.get(keys[t])
                if hit is not None:
                    results[t] = _with_query(hit, t)
            logger.debug("geocode cache: %d of %d offline answers cached",
                         sum(t in results for t in pending), len(pending))
        misses = [t for t in pending if t not in results]
        fresh: list[tuple[str, GeocodeResult]] = []
        for task in tqdm(misses, desc="geocoding", unit="address", disable=not progress):
            assert self.offline is not None
            kind, text, postcode, name = task
            if kind == "name":
                res = self.offline.geocode_name(text)
            else:
                res = self.offline.geocode(text, postcode or None, name=name or None)
            results[task] = res
            if task in keys:
                name_free = (task in generic and res.located
                             and "completed from the name" not in res.note)
                fresh.append((generic[task] if name_free else keys[task], res))
        if self._cache is not None:
            self._cache.put_many(fresh)

        if use_online:
            ask = [t for t in todo if t[0] == "address" and t[1].strip()
                   and results[t].status == "unmatched"]
            if ask:
                results.update(self._online(ask, progress=progress))
        return results

    def _online(self, tasks: Sequence[Task], *, progress: bool) -> dict[Task, GeocodeResult]:
        from tqdm.auto import tqdm

        out: dict[Task, GeocodeResult] = {}
        keys = {t: self._online_key(t[1], t[2]) for t in tasks}
        if self._cache is not None:
            hits = self._cache.get_many(list(keys.values()))
            out.update({t: _with_query(hits[keys[t]], t) for t in tasks if keys[t] in hits})
        ask = [t for t in tasks if t not in out]
        if not ask:
            return out
        logger.info("asking Nominatim for %d address(es) the gazetteer could not resolve",
                    len(ask))
        with self.nominatim.session():
            for task in tqdm(ask, desc="Nominatim", unit="address", disable=not progress):
                res = self.nominatim.geocode(task[1], task[2] or None)
                out[task] = res
                if self._cache is not None:
                    self._cache.put_many([(keys[task], res)])
        return out


def _with_query(res: GeocodeResult, task: Task) -> GeocodeResult:
    """Return a cached answer (keyed on folded text) with this task's own address text."""
    if task[0] == "address" and res.query != task[1].strip():
        return dataclasses.replace(res, query=task[1].strip())
    return res


# ---------------------------------------------------------------------------------------------
# Table level
# ---------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def geocode_table(df: pd.DataFrame, geocoder: Geocoder, *, online: bool | None = None,
                  progress: bool = False) -> gpd.GeoDataFrame:
    """Locate every row of an inventory table.

    Rows that come with coordinates keep them (``location_method="input"``); if they also have
    an address, it is geocoded to check them: ``coord_check_m`` is the distance in metres
    (EPSG:25831) and ``coord_flag`` is True beyond :data:`cwsgeo.settings.coord_mismatch_m`.
    Rows without coordinates are located from their address; rows with neither are tried on an
    address written inside their name (``address_from_name=True``). Nominatim is only asked
    about addresses of rows without coordinates.

    Parameters
    ----------
    df
        Canonical inventory frame (``id, name, address, postcode, lat, lon, ...``); missing
        columns count as blank.
    geocoder
        The geocoder to use.
    online
        Override the geocoder's ``online`` setting.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points (``None`` when unlocated); the input columns (``lat``/``lon`` filled
        for located rows) plus :data:`GEOCODE_COLUMNS`:

        ``location_method`` (``input``/``gazetteer``/``nominatim``/``none``),
        ``geocode_status`` (``exact``/``nearest_number``/``street_only``/``unmatched``/
        ``not_geocoded`` — the last when there was no address to try),
        ``geocode_score`` (0-100, NaN when not geocoded), ``geocode_query``,
        ``address_from_name``, ``matched_address``, ``matched_street_code``,
        ``matched_postcode``, ``matched_census_section``, ``geocode_lat``/``geocode_lon``
        (the geocoder's point, also for rows that keep their own), ``geocode_note``,
        ``coord_check_m`` (NaN when not checked) and ``coord_flag``.

    Raises
    ------
    cwsgeo.DataSourceError
        Nominatim was asked and failed.
    """
    import geopandas as gpd
    from pyproj import Transformer

    n = len(df)
    out = pd.DataFrame(df).copy()

    def column(name: str) -> list[str]:
        return [_text(v) for v in out[name]] if name in out.columns else [""] * n

    address, postcode, names = column("address"), column("postcode"), column("name")
    lat_in = pd.to_numeric(out["lat"], errors="coerce") if "lat" in out.columns else \
        pd.Series(np.nan, index=out.index)
    lon_in = pd.to_numeric(out["lon"], errors="coerce") if "lon" in out.columns else \
        pd.Series(np.nan, index=out.index)
    has_xy = (lat_in.notna() & lon_in.notna()).to_numpy()

    tasks: list[Task | None] = []
    for i in range(n):
        if address[i]:
            tasks.append(("address", address[i], _clean_postcode(postcode[i]) or "",
                          names[i]))
        elif not has_xy[i] and names[i]:
            tasks.append(("name", names[i], "", ""))
        else:
            tasks.append(None)

    t0 = time.perf_counter()
    plain = {t for t, xy in zip(tasks, has_xy, strict=True) if t is not None and xy}
    located_needed = {t for t, xy in zip(tasks, has_xy, strict=True) if t is not None and not xy}
    results: dict[Task, GeocodeResult] = {}
    if located_needed:
        results.update(geocoder.geocode_many(located_needed, online=online, progress=progress))
    rest = plain - set(results)
    if rest:
        results.update(geocoder.geocode_many(rest, online=False, progress=progress))

    method, status, query, note, matched = [], [], [], [], []
    score = np.full(n, np.nan)
    g_lat = np.full(n, np.nan)
    g_lon = np.full(n, np.nan)
    from_name = np.zeros(n, dtype=bool)
    code, pc, section = [], [], []
    for i, task in enumerate(tasks):
        res = results.get(task) if task is not None else None
        if res is None:
            status.append("not_geocoded")
            query.append("")
            note.append("")
            matched.append("")
            code.append("")
            pc.append("")
            section.append("")
        else:
            tried = not (res.from_name and res.status == "unmatched" and not res.query)
            status.append(res.status if tried else "not_geocoded")
            if tried:
                score[i] = res.score
            query.append(res.query)
            note.append(res.note)
            matched.append(res.matched_address)
            code.append(res.street_code)
            pc.append(res.postcode)
            section.append(res.census_section)
            if res.located:
                g_lat[i], g_lon[i] = res.lat, res.lon
                from_name[i] = res.from_name
        if has_xy[i]:
            method.append("input")
        elif res is not None and res.located:
            method.append(res.provider)
        else:
            method.append("none")

    lat = np.where(has_xy, lat_in.to_numpy(dtype=float), g_lat)
    lon = np.where(has_xy, lon_in.to_numpy(dtype=float), g_lon)
    check = has_xy & ~np.isnan(g_lat)
    dist = np.full(n, np.nan)
    if check.any():
        to_work = Transformer.from_crs(settings.crs_store, settings.crs_work, always_xy=True)
        x1, y1 = to_work.transform(lon[check], lat[check])
        x2, y2 = to_work.transform(g_lon[check], g_lat[check])
        dist[check] = np.round(np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2), 1)

    out["lat"] = lat
    out["lon"] = lon
    out["location_method"] = method
    out["geocode_status"] = status
    out["geocode_score"] = score
    out["geocode_query"] = query
    out["address_from_name"] = from_name & ~has_xy
    out["matched_address"] = matched
    out["matched_street_code"] = code
    out["matched_postcode"] = pc
    out["matched_census_section"] = section
    out["geocode_lat"] = g_lat
    out["geocode_lon"] = g_lon
    out["geocode_note"] = note
    out["coord_check_m"] = dist
    out["coord_flag"] = np.nan_to_num(dist, nan=0.0) > settings.coord_mismatch_m
    has_point = ~np.isnan(lat) & ~np.isnan(lon)
    geometry = gpd.points_from_xy(np.where(has_point, lon, 0.0), np.where(has_point, lat, 0.0),
                                  crs=settings.crs_store)
    geoms = np.asarray(geometry, dtype=object)
    geoms[~has_point] = None
    gdf = gpd.GeoDataFrame(out, geometry=list(geoms), crs=settings.crs_store)
    logger.info("geocoded %d rows in %.2f s: %s", n, time.perf_counter() - t0,
                dict(pd.Series(status).value_counts()))
    return gdf
