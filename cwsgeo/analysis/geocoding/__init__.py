"""Geocoding: addresses (or names) to points, offline first, Nominatim as an optional fallback.

The package holds

* :mod:`.normalize` — address text: folding accents, case and middle-dot variants
  (:func:`fold`), Spanish / abbreviated street types and particles (:func:`normalize_street`),
  and splitting an address into street, house number, letter and postcode
  (:func:`parse_address`);
* :mod:`.gazetteer` — the Ajuntament's address gazetteer (a folder laid out like the bundle's
  ``addresses/``: ``bcn_addresses.csv``, ``bcn_streets.csv``, ``bcn_street_types.csv``) parsed
  into a :class:`GazetteerIndex` of plain data (:func:`build_gazetteer_index`);
* :mod:`.matcher` — :class:`OfflineGeocoder`, the street + number matcher on that index;
* :mod:`.nominatim` — the live fallback on Nominatim through osmnx
  (:class:`NominatimGeocoder`), used only when enabled and the gazetteer cannot resolve an
  address;
* :mod:`.store` — where answers are kept: any ``MutableMapping[str, GeocodeResult]``, e.g.
  :class:`SQLiteResultStore`;
* :mod:`.table` — :class:`Geocoder`, which combines both with a store of answers, and
  :func:`geocode_table`, the table-level step the pipeline and the CLI call;
* :mod:`.text_locator` — :func:`locate_from_text`: rows with neither an address nor
  coordinates located from their name and listing texts (streets, corners, stations,
  landmarks, areas) with a calibrated radius (:func:`build_text_locator` prepares the
  indexes: :mod:`.locator_index`, :mod:`.named_places`; the city's own words come in as a
  :class:`CityLexicon`, :mod:`.lexicon`);
* :mod:`.precision` — a radius for every located row and its precision class (exact,
  approximate, area, outside, none) that decides which rows point statistics use.

Nothing here reads a project config or decides where caches live: the build layer
(:mod:`cwsgeo.build.geocoder`) opens the geocoder a project describes.

Examples
--------
>>> from cwsgeo.analysis.geocoding import normalize_street, parse_address
>>> normalize_street("Calle Valencia") == normalize_street("Carrer de València")
True
>>> parse_address("Rambla de Catalunya, 125, 3º 2ª, 08008 Barcelona").number
125

False friends
-------------
When the address's street matches nothing but the row's *name* contains exactly one official
street name that contains every word of the address's street (e.g. the address "Carrer de la
Granada, 121" in a row named "WeWork Ciutat de Granada"), that street is used with score 90
and the note ``"street completed from the name"``. Otherwise the row stays unmatched.

Names
-----
When a row has no address, :meth:`OfflineGeocoder.geocode_name` looks for "<street> <number>"
inside its name ("WeWork Avinguda Diagonal 371", "630 Gran Via Center", "pallars85") and
accepts it only with a house number, a street scoring at least ``max(min_score, 90)`` that is
not a generic word, and that number on the street; such results carry ``from_name=True``.
Names are never sent to Nominatim.

Statuses
--------
``exact`` (street and number found; the letter may differ, see the note), ``nearest_number``
(same street, nearest number on the same side, else on any side), ``street_only`` (no usable
number: the street's representative point, the address point nearest to the median of its
address points), ``unmatched``.
"""

from __future__ import annotations

from .gazetteer import (
    ALGORITHM_VERSION,
    GazetteerIndex,
    build_gazetteer_index,
    check_gazetteer,
    gazetteer_digest,
    gazetteer_files,
)
from .lexicon import NO_LEXICON, CityLexicon
from .locator_index import TextLocator, build_text_locator
from .matcher import OfflineGeocoder
from .nominatim import NominatimGeocoder
from .normalize import (
    HONORIFICS,
    PARTICLES,
    SPANISH_WORDS,
    STREET_TYPES,
    TYPE_WORDS,
    ParsedAddress,
    fold,
    normalize_street,
    parse_address,
    street_key,
    type_words,
)
from .precision import (
    PRECISIONS,
    UNLOCATED_REASONS,
    certain_areas,
    location_precision,
    location_radii,
    point_mask,
    street_radius_m,
    unlocated_reasons,
)
from .result import GeocodeResult
from .store import SQLiteResultStore
from .table import GEOCODE_COLUMNS, Geocoder, geocode_table
from .text_locator import LOCATION_METHODS, TEXT_LOCATION_COLUMNS, locate_from_text

__all__ = [
    "ALGORITHM_VERSION",
    "GEOCODE_COLUMNS",
    "HONORIFICS",
    "LOCATION_METHODS",
    "NO_LEXICON",
    "PARTICLES",
    "PRECISIONS",
    "SPANISH_WORDS",
    "STREET_TYPES",
    "TEXT_LOCATION_COLUMNS",
    "TYPE_WORDS",
    "UNLOCATED_REASONS",
    "CityLexicon",
    "GazetteerIndex",
    "GeocodeResult",
    "Geocoder",
    "NominatimGeocoder",
    "OfflineGeocoder",
    "ParsedAddress",
    "SQLiteResultStore",
    "TextLocator",
    "build_gazetteer_index",
    "build_text_locator",
    "certain_areas",
    "check_gazetteer",
    "fold",
    "gazetteer_digest",
    "gazetteer_files",
    "geocode_table",
    "locate_from_text",
    "location_precision",
    "location_radii",
    "normalize_street",
    "parse_address",
    "point_mask",
    "street_key",
    "street_radius_m",
    "type_words",
    "unlocated_reasons",
]
