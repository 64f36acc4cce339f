"""Named places a listing text may mention: stations, landmarks, squares, facilities.

The text locator (:mod:`.text_locator`) looks these names up in listing texts. This module
owns

* :func:`tokenize` and :func:`canonical_key`: the one folding of text and of gazetteer names
  (:func:`~cwsgeo.analysis.geocoding.fold`, Spanish words to Catalan, Spanish / English /
  abbreviated street types to the Catalan type, particles marked), so "Plaza de Cataluña",
  "Plaça Catalunya" and "Catalunya Square" meet on ``"placa catalunya"``;
* :func:`named_points`: one table of named points from the transit layer (stations, not bus
  stops), the places layer (facility names), the street register's squares, promenades and
  ramblas (centroid of their address points) and the city's curated landmarks (each with
  the gazetteer address it is placed at, from the city profile's lexicon:
  :class:`~cwsgeo.analysis.geocoding.CityLexicon`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer

from ... import settings
from .gazetteer import GazetteerIndex
from .lexicon import Landmark
from .matcher import OfflineGeocoder
from .normalize import PARTICLES, SPANISH_WORDS, TYPE_WORDS, fold

__all__ = [
    "NAMED_POINT_COLUMNS",
    "SQUARE_KINDS",
    "Token",
    "canonical_key",
    "named_points",
    "text_words",
    "tokenize",
    "tokenize_lists",
]

logger = logging.getLogger(__name__)

#: Street types whose register rows become named squares / promenades (folded Catalan type).
SQUARE_KINDS: frozenset[str] = frozenset({"placa", "placeta", "passeig", "rambla", "jardins"})

#: Columns of :func:`named_points`.
NAMED_POINT_COLUMNS: tuple[str, ...] = ("key", "name", "kind", "x", "y", "extent_m", "source",
                                        "mode", "lines")

_WORD = re.compile(r"22\s*@|@\s*22\b|[^\W_]+(?:[·•‧][^\W_]+)*")
#: Words written in listings -> canonical words (beyond :data:`SPANISH_WORDS`); a city's own
#: spellings of its places come from its lexicon (:func:`text_words`).
_TEXT_WORDS: Mapping[str, str] = {
    "barrio": "barri", "barris": "barri", "barrios": "barri", "neighbourhood": "barri",
    "neighborhood": "barri", "distrito": "districte", "district": "districte",
    "granvia": "gran via", "passeig": "passeig", "placa": "placa", "placas": "placa",
    "plazas": "placa", "squares": "placa", "estacion": "estacio", "station": "estacio",
}
_PLACE_SKIP = frozenset({"cafe", "bar", "restaurant", "terrace", "nightclub"})
_GENERIC_PLACE = frozenset({"biblioteca", "sala", "casal", "centre civic", "espai", "jardi",
                            "jardins", "sala gran", "teatre", "cinema", "museu", "auditori"})


@dataclass(frozen=True)
class Token:
    """One word of a text after folding.

    Attributes
    ----------
    word
        Canonical word: folded, Spanish -> Catalan, street types -> the Catalan type.
    start, end
        Character span of the source word in the text.
    particle
        True for articles and prepositions (:data:`~cwsgeo.analysis.geocoding.PARTICLES`),
        which names skip.
    """

    word: str
    start: int
    end: int
    particle: bool


def text_words(spellings: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Return the listing words -> canonical words table, with a city's spellings.

    Parameters
    ----------
    spellings
        ``(written, canonical)`` folded words of the city's places
        (:attr:`~cwsgeo.analysis.geocoding.CityLexicon.spellings`), e.g. a Spanish
        spelling of a Catalan place name.
    """
    return {**_TEXT_WORDS, **dict(spellings)}


def _type_words(types: Mapping[tuple[str, ...], str]) -> dict[str, str]:
    return {k[0]: v for k, v in types.items() if len(k) == 1}


def tokenize_lists(text: str, types: Mapping[tuple[str, ...], str] = TYPE_WORDS,
                   memo: dict[str, list[str]] | None = None,
                   words_table: Mapping[str, str] = _TEXT_WORDS
                   ) -> tuple[list[str], list[int], list[int]]:
    """Return the canonical words of a text and their start and end characters.

    The fast form of :func:`tokenize` (three parallel lists, no objects).

    Parameters
    ----------
    text
        Any text.
    types
        Street-type vocabulary (default :data:`~cwsgeo.analysis.geocoding.TYPE_WORDS`).
    memo
        Raw word -> canonical words, filled as words are seen (speeds up many texts; one
        memo per ``types`` and ``words_table``).
    words_table
        Listing words -> canonical words (:func:`text_words`).
    """
    single: dict[str, str] | None = None
    memo = {} if memo is None else memo
    get = memo.get
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _WORD.finditer(str(text)):
        raw = m.group()
        canon = get(raw)
        if canon is None:
            single = _type_words(types) if single is None else single
            canon = ["22arroba"] if "@" in raw else [
                single.get(w, w) for w in (SPANISH_WORDS.get(w, w) for w in (
                    words_table.get(w, w) for w in fold(raw).split()))]
            memo[raw] = canon
        start, end = m.span()
        for w in canon:
            if w == "via" and words and words[-1] == "gran" and ends[-1] >= start - 1:
                words[-1], ends[-1] = "gran via", end
                continue
            words.append(w)
            starts.append(start)
            ends.append(end)
    return words, starts, ends


def tokenize(text: str, types: Mapping[tuple[str, ...], str] = TYPE_WORDS,
             memo: dict[str, list[str]] | None = None,
             words_table: Mapping[str, str] = _TEXT_WORDS) -> list[Token]:
    """Split text into canonical words with their character spans.

    Parameters
    ----------
    text
        Any text.
    types
        Street-type vocabulary (default :data:`~cwsgeo.analysis.geocoding.TYPE_WORDS`).
    memo
        Raw word -> canonical words, filled as words are seen (speeds up many texts).
    words_table
        Listing words -> canonical words (:func:`text_words`).

    Returns
    -------
    list of Token

    Examples
    --------
    >>> [t.word for t in tokenize("Plaza de Cataluña, 22@")]
    ['placa', 'de', 'catalunya', '22arroba']
    >>> [t.word for t in tokenize("C/ Girona-Granvia")]
    ['carrer', 'girona', 'gran via']
    """
    words, starts, ends = tokenize_lists(text, types, memo, words_table)
    return [Token(w, s, e, w in PARTICLES) for w, s, e in zip(words, starts, ends, strict=True)]


def canonical_key(text: str, types: Mapping[tuple[str, ...], str] = TYPE_WORDS,
                  words_table: Mapping[str, str] = _TEXT_WORDS) -> str:
    """Return the canonical key of a name: canonical words without particles.

    Parameters
    ----------
    text
        A name.
    types
        Street-type vocabulary.
    words_table
        Listing words -> canonical words (:func:`text_words`).

    Returns
    -------
    str

    Examples
    --------
    >>> canonical_key("Plaza de Cataluña") == canonical_key("Plaça de Catalunya")
    True
    >>> canonical_key("el Barri Gòtic")
    'barri gotic'
    """
    return " ".join(t.word for t in tokenize(text, types, None, words_table)
                    if not t.particle)


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(NAMED_POINT_COLUMNS))
    return frame[frame["key"].str.len() > 0].reset_index(drop=True)


def _station_rows(transit: pd.DataFrame, types: Mapping[tuple[str, ...], str],
                  city_words: frozenset[str], table: Mapping[str, str]
                  ) -> list[dict[str, object]]:
    """Stations by name; "<city> - Sants" is also "Sants", and the city's name alone is no key."""
    rows: list[dict[str, object]] = []
    stations = transit[transit["mode"] != "bus"]
    for name, mode, lines, geom in zip(stations["name"], stations["mode"], stations["lines"],
                                       stations.geometry, strict=True):
        full = str(name)
        head = re.match(r"^\s*([^\W\d_]+)\s*[-–]\s*", full)
        if head and fold(head.group(1)) in city_words:
            full = full[head.end():]
        parts = {full, *re.split(r"\s*[|/]\s*|\s+[-–]\s+", full)}
        for part in parts:
            key = canonical_key(part, types, table)
            if len(key) >= 4 and key not in city_words:
                rows.append({"key": key, "name": str(name), "kind": "station", "x": geom.x,
                             "y": geom.y, "extent_m": 0.0, "source": f"transit: {name} ({mode})",
                             "mode": str(mode), "lines": str(lines or "")})
    return rows


def _facility_rows(places: pd.DataFrame, types: Mapping[tuple[str, ...], str],
                   table: Mapping[str, str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    kinds = set(types.values())
    keep = places[~places["category"].isin(_PLACE_SKIP)]
    for pid, name, geom in zip(keep["place_id"], keep["name"], keep.geometry, strict=True):
        parts = {str(name), *re.split(r"\s*[|(]\s*|\s+[-–]\s+|\.\s+", str(name))}
        for part in parts:
            key = canonical_key(part, types, table)
            words = key.split()
            if len(key) >= 10 and len(words) > 1 and key not in _GENERIC_PLACE \
                    and words[0] not in kinds:
                rows.append({"key": key, "name": str(name), "kind": "facility", "x": geom.x,
                             "y": geom.y, "extent_m": 0.0, "source": f"places: {pid}",
                             "mode": "", "lines": ""})
    return rows


def _square_rows(index: GazetteerIndex, xy: tuple[np.ndarray, np.ndarray]
                 ) -> list[dict[str, object]]:
    """Squares, promenades, ramblas: centroid of their address points, 80 % extent."""
    x, y = xy
    rows: list[dict[str, object]] = []
    for st in index.streets.values():
        if st.kind not in SQUARE_KINDS or st.n == 0:
            continue
        sx, sy = x[st.start:st.end], y[st.start:st.end]
        cx, cy = float(sx.mean()), float(sy.mean())
        extent = float(np.quantile(np.hypot(sx - cx, sy - cy), 0.8))
        keys = {f"{st.kind} {st.core}"}
        if st.kind in ("placa", "placeta"):
            keys.add(f"{st.core} placa")
        for key in keys:
            rows.append({"key": key, "name": st.full, "kind": "square", "x": cx, "y": cy,
                         "extent_m": extent, "source": f"streets: {st.code} {st.full}",
                         "mode": "", "lines": ""})
    return rows


def _landmark_rows(geocoder: OfflineGeocoder, transform: Transformer,
                   types: Mapping[tuple[str, ...], str], landmarks: tuple[Landmark, ...],
                   table: Mapping[str, str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    missing: list[str] = []
    for name, aliases, address in landmarks:
        res = geocoder.geocode(address)
        if res.status != "exact" or res.lat is None or res.lon is None:
            missing.append(f"{name} ({address})")
            continue
        px, py = transform.transform(res.lon, res.lat)
        for alias in (name, *aliases):
            rows.append({"key": canonical_key(alias, types, table), "name": name,
                         "kind": "landmark",
                         "x": float(px), "y": float(py), "extent_m": 0.0,
                         "source": f"gazetteer: {res.matched_address}", "mode": "",
                         "lines": ""})
    if missing:
        logger.warning("%d of %d curated landmarks skipped: address not in the gazetteer: %s",
                       len(missing), len(landmarks), "; ".join(missing[:5])
                       + ("; ..." if len(missing) > 5 else ""))
    return rows


def named_points(geocoder: OfflineGeocoder, transit: pd.DataFrame | None = None,
                 places: pd.DataFrame | None = None, *, crs: str | None = None,
                 point_xy: tuple[np.ndarray, np.ndarray] | None = None,
                 landmarks: tuple[Landmark, ...] = (),
                 city_words: frozenset[str] = frozenset(),
                 words_table: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Build the table of named points the text locator looks up.

    Parameters
    ----------
    geocoder
        The gazetteer geocoder: its street register gives the squares, and it places the
        ``landmarks``.
    transit
        A transit layer (:func:`cwsgeo.read_transit`) in ``crs``; bus stops are ignored.
    places
        A places layer (:func:`cwsgeo.read_places`, any categories) in ``crs``; cafés, bars,
        restaurants, terraces and nightclubs are ignored.
    crs
        Metric CRS of the output coordinates (default :data:`cwsgeo.settings.crs_work`).
    point_xy
        The gazetteer's address points already projected to ``crs`` (computed when omitted).
    landmarks
        The city's curated landmarks (:attr:`~cwsgeo.analysis.geocoding.CityLexicon.landmarks`;
        default: none).
    city_words
        Folded names of the city: a station named "<city> - X" is also "X", and the city's
        name alone names no station.
    words_table
        Listing words -> canonical words (:func:`text_words` with the city's spellings;
        default: without any city's).

    Returns
    -------
    pandas.DataFrame
        :data:`NAMED_POINT_COLUMNS`: canonical ``key``, display ``name``, ``kind``
        (``station``, ``landmark``, ``square``, ``facility``), ``x``/``y`` in ``crs``,
        ``extent_m`` (80 % of a square's address points lie within it of its centroid),
        ``source`` (where the point comes from), ``mode`` and ``lines`` for stations.
    """
    crs = crs or settings.crs_work
    index = geocoder.index
    transform = Transformer.from_crs(settings.crs_store, crs, always_xy=True)
    if point_xy is None:
        px, py = transform.transform(index.lon, index.lat)
        point_xy = (np.asarray(px), np.asarray(py))
    table = text_words() if words_table is None else words_table
    rows = (_landmark_rows(geocoder, transform, index.types, landmarks, table)
            + _square_rows(index, point_xy))
    if transit is not None and len(transit):
        rows += _station_rows(transit, index.types, city_words, table)
    if places is not None and len(places):
        rows += _facility_rows(places, index.types, table)
    return _frame(rows)

