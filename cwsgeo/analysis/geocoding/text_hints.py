"""Location hints in one text (or a name) for the text locator.

Tokenised text (:class:`_Text`), street mentions, addresses, intersections, stations,
landmarks, squares, areas, "N minutes from" qualifiers and neighbouring municipalities. All
private: :mod:`.text_locator` combines them.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from .locator_index import INTERSECTION_MAX_M, TEXT_RADIUS_M, TextLocator
from .named_places import tokenize_lists
from .normalize import PARTICLES
from .result import GeocodeResult

__all__: list[str] = []

_RANK = {"text_address": 0, "text_intersection": 1, "text_station": 2, "text_landmark": 2,
         "text_area": 3}
_TRANSIT_WORDS = frozenset({
    "metro", "estacio", "parada", "subway", "underground", "ferrocarrils",
    "ferrocarril", "ferrocarriles", "tram", "tranvia", "linea", "linia",
    "line", "lines", "lineas", "linies", "tube", "stop"})
#: Words naming a generic transit mode near a station name (a city adds its operators' words:
#: :attr:`CityLexicon.transit_words <cwsgeo.analysis.geocoding.CityLexicon.transit_words>`).
_MODE_WORDS: Mapping[str, str] = {"metro": "metro", "tram": "tram", "train": "rail"}
_AREA_WORDS = frozenset({"barri", "districte", "zona", "area", "quarter", "metro", "estacio"})
_MINUTE_WORDS = frozenset({"minuto", "minutos", "minute", "minutes", "minut", "minuts", "min",
                           "mins"})
_NUMBER_WORDS: Mapping[str, int] = {
    "un": 1, "una": 1, "one": 1, "dos": 2, "two": 2, "tres": 3, "three": 3, "cuatro": 4,
    "quatre": 4, "four": 4, "cinco": 5, "cinc": 5, "five": 5, "seis": 6, "sis": 6, "six": 6,
    "siete": 7, "set": 7, "seven": 7, "ocho": 8, "vuit": 8, "eight": 8, "diez": 10, "deu": 10,
    "ten": 10, "quince": 15, "quinze": 15, "fifteen": 15, "veinte": 20, "vint": 20,
    "twenty": 20}
#: Metres per minute a "N minutes from X" qualifier adds to the radius (a brisk walk).
_M_PER_MINUTE = 100.0
#: Hints qualified by more minutes than this ("10 minutos de Sants") are not the location.
_MAX_MINUTES = 5
_FROM_WORDS = frozenset({"de", "del", "dels", "d", "from", "of", "to", "away", "desde", "des",
                         "hasta", "fins"})
_SENTENCE_END = re.compile(r"[.!?;]\s|\n")
_LINE = re.compile(r"^(?:l\d{1,2}|s[125]|r\d{1,2})$")
_CORNER_WORDS = frozenset({"esquina", "cantonada", "corner", "cruce", "cruilla",
                           "intersection", "interseccion", "interseccio", "chaflan", "xamfra",
                           "junction"})
_CONNECTORS = frozenset({"con", "amb", "with", "i", "and", "x", "carrer"})
_GAP_WORDS = _CONNECTORS | _CORNER_WORDS | PARTICLES | {"entre", "between"}
_STRONG_CONNECTORS = frozenset({"con", "amb", "with", "x"})
_NOT_STREETS = frozenset({
    "coworking", "centre", "center", "business", "office", "oficina", "espai",
    "espacio", "space", "metro", "estacio", "internet", "sala", "terrassa", "terraza", "llum",
    "luz", "sol", "mar", "pau", "art", "progres", "treball", "trabajo", "comunitat", "futur",
    "startup", "startups", "design", "disseny", "mon", "vida", "musica", "cultura", "cel",
    "gracia", "pis", "planta", "hores", "horas", "dies", "dias", "mes", "anys", "minuts"})
_NUMBER_SKIP = frozenset({"n", "no", "num", "numero", "nr", "nro", "nos"})
_TYPED_ADDRESS = re.compile(
    r"(?i)(?<![\w])(?:c/|c\.|cl\.?|calle|carrer|avda\.?|av\.|avenida|avinguda|avenue|"
    r"passeig|paseo|pg\.|pla[çc]a|plaza|pl\.|rambla|ronda|travess?era|gran\s+v[ií]a|"
    r"v[ií]a\s+augusta|passatge|pasaje)\s*[^\W\d_][^\n\d,.;:()!?]{1,40}?,?\s*"
    r"(?:n[º°o]?\.?\s*|n[uú]m(?:ero)?\.?\s*)?\d{1,4}(?![\d,.]\d|\s*(?:m2|m²|€|%|h\b|"
    r"min|pax|persones|personas|people|euros|desks?|puestos|metros|meters))")
_ADDRESS_GAP = re.compile(r"[ ,]*(?:(?:n[º°o]?|n[uú]m(?:ero)?)\.?\s*)?", re.IGNORECASE)
_UNIT_WORDS = frozenset({
    "years", "year", "anos", "any", "anys", "ano", "minuto", "minutos", "minutes", "minuts", "min",
    "m2", "m", "metres", "metros", "meters", "personas", "persones", "people", "puestos",
    "desks", "mesas", "taules", "euros", "eur", "h", "horas", "hours", "hores", "spaces",
    "espacios", "espais", "floors", "plantas", "plants", "pax", "sqm", "km", "dias", "days"})
_LOCATIVE = frozenset({"in", "en", "a", "at", "located", "situat", "situada", "situado",
                       "ubicat", "ubicada", "ubicado", "based"})
_NEAR_WORDS = frozenset({"close", "near", "nearby", "cerca", "prop", "outside", "afueras",
                         "km", "kms", "kilometers", "kilometres", "kilometros", "quilometres",
                         "away", "afores"})
_CENTRE_WORDS = frozenset({"centre", "center", "centro", "heart", "corazon", "cor", "downtown",
                           "airport", "aeropuerto", "aeroport", "port", "puerto"})
_AIRPORT_WORDS = frozenset({"aeropuerto", "aeroport", "airport"})


@dataclass
class _Hint:
    method: str
    x: float
    y: float
    radius: float
    source: int
    start: int
    end: int
    extent: float = 0.0
    areas: tuple[str, ...] = ()
    polygon: BaseGeometry | None = None
    districts: frozenset[str] = frozenset()

    @property
    def rank(self) -> int:
        return _RANK[self.method]


@dataclass
class _Mention:
    """A street named in a text: content-token span, char span, candidate street codes."""

    j0: int
    j1: int
    start: int
    end: int
    codes: tuple[str, ...]
    typed: bool


@dataclass
class _Text:
    """One text, tokenised: all tokens and the positions of the non-particle ones."""

    text: str
    source: int
    all_words: list[str]
    starts: list[int]
    ends: list[int]
    content: list[int]
    cw: list[str]

    @classmethod
    def of(cls, text: str, source: int, loc: TextLocator) -> _Text:
        words, starts, ends = tokenize_lists(text, loc.geocoder.index.types, loc.fold_memo,
                                             loc.words_table)
        content = [i for i, w in enumerate(words) if w not in PARTICLES]
        return cls(text, source, words, starts, ends, content, [words[i] for i in content])

    def words(self, j0: int, j1: int) -> str:
        return " ".join(self.cw[j0:j1])

    def keys_from(self, j: int, prefixes: frozenset[str]) -> list[tuple[int, str]]:
        """Return (size, key) of the runs at ``j`` that prefix a known key, longest first."""
        cw = self.cw
        if j >= len(cw) or cw[j] not in prefixes:
            return []
        key = cw[j]
        out = [(1, key)]
        for k in range(j + 1, len(cw)):
            key = f"{key} {cw[k]}"
            if key not in prefixes:
                break
            out.append((k - j + 1, key))
        out.reverse()
        return out

    def span(self, j0: int, j1: int) -> tuple[int, int]:
        return self.starts[self.content[j0]], self.ends[self.content[j1 - 1]]

    def proper(self, j0: int, j1: int, kinds: Iterable[str]) -> bool:
        """Return whether the span reads as a name (capital, type word or area word)."""
        if self.cw[j0] in kinds or any(w in _AREA_WORDS for w in self.near(j0, j1, 3, 0)):
            return True
        return any(self.text[self.starts[self.content[j]]].isupper()
                   for j in range(j0, j1))

    def near(self, j0: int, j1: int, before: int, after: int) -> list[str]:
        """Words (particles included) up to ``before``/``after`` tokens around a span."""
        a, b = self.content[j0], self.content[j1 - 1]
        return self.all_words[max(0, a - before):a] + self.all_words[b + 1:b + 1 + after]


def _street_mentions(tx: _Text, loc: TextLocator) -> list[_Mention]:
    """Streets named in the text: a type word + a known name key, or a distinctive name key."""
    ix = loc.geocoder.index
    kinds = loc.type_words
    out: list[_Mention] = []
    n = len(tx.content)
    j = 0
    while j < n:
        first = tx.cw[j]
        typed = first in kinds
        found: _Mention | None = None
        for size, core in tx.keys_from(j + typed, loc.prefixes):
            entries = ix.by_core.get(core)
            if not entries:
                continue
            if not typed and (len(core) < 5 or core in _NOT_STREETS or core in loc.area_keys
                              or core in loc.lexicon.city_words
                              or not tx.proper(j, j + size, ())):
                continue
            codes = [c for k, c, _ in entries if not typed or k == first] or (
                [c for _, c, _ in entries] if first == "carrer" else [])
            codes = [c for c in dict.fromkeys(codes) if ix.streets[c].n > 0]
            if codes:
                s, e = tx.span(j, j + typed + size)
                found = _Mention(j, j + typed + size, s, e, tuple(codes[:6]), typed)
                break
        if found is None and typed:
            found = _fuzzy_mention(tx, loc, j)
        main = ix.main_street_of_kind.get(first) if typed else None
        if found is None and main is not None:  # "Gran Via" alone: the Gran Via
            s, e = tx.span(j, j + 1)
            found = _Mention(j, j + 1, s, e, (main,), True)
        if found is None:
            j += 1
            continue
        out.append(found)
        j = found.j1
    return out


def _fuzzy_mention(tx: _Text, loc: TextLocator, j: int) -> _Mention | None:
    """Return the street of a type word + a name the exact keys miss ("calle Diputación").

    The gazetteer matcher's best street for the 1-3 capitalised words after the type word, at
    score >= 90.
    """
    if j + 1 >= len(tx.cw) or not tx.proper(j + 1, j + 2, ()):
        return None
    best: tuple[float, int, str] | None = None
    for size in range(1, min(3, len(tx.cw) - j - 1) + 1):
        if not tx.proper(j + size, j + size + 1, ()):
            break
        s, e = tx.span(j, j + 1 + size)
        phrase = tx.text[s:e]
        if phrase not in loc.street_memo:
            res = loc.geocoder.geocode(phrase)
            ok = res.status != "unmatched" and res.score >= 90
            loc.street_memo[phrase] = (res.score, res.street_code) if ok else None
        hit = loc.street_memo[phrase]
        if hit is not None and (best is None or hit[0] >= best[0]):
            best = (hit[0], size, hit[1])
    if best is None:
        return None
    s, e = tx.span(j, j + 1 + best[1])
    return _Mention(j, j + 1 + best[1], s, e, (best[2],), True)


def _accept_address(loc: TextLocator, text: str) -> tuple[float, float] | None:
    """Geocode a street + number text; accept an exact number (or one within 6, same side)."""
    res = loc.geocoder.geocode(text)
    if res.status not in ("exact", "nearest_number") or res.score < 90 or res.lat is None:
        return None
    if res.status == "nearest_number":
        m = re.search(r"number (\d+) not in gazetteer: nearest (\d+)", res.note)
        if m is None or abs(int(m.group(1)) - int(m.group(2))) > 6 or "other side" in res.note:
            return None
    return _result_xy(loc, res)


def _result_xy(loc: TextLocator, res: GeocodeResult) -> tuple[float, float] | None:
    """Return the located result's address point in the locator's CRS."""
    if res.lat is None or res.lon is None or res.street_code not in loc.geocoder.index.streets:
        return None
    ix = loc.geocoder.index
    st = ix.streets[res.street_code]
    sl = slice(st.start, st.end)
    i = st.start + int(np.argmin(np.hypot(ix.lat[sl] - res.lat, ix.lon[sl] - res.lon)))
    return float(loc.point_xy[0][i]), float(loc.point_xy[1][i])


def _address_hints(tx: _Text, mentions: Sequence[_Mention], loc: TextLocator) -> list[_Hint]:
    spans: list[tuple[int, int]] = []
    cw, kinds = tx.cw, loc.type_words
    for j, w in enumerate(cw):  # a type word with a number after it: try the typed pattern
        if w in kinds and any(x.isdigit() for x in cw[j + 1:j + 9]):
            found = _TYPED_ADDRESS.match(tx.text, tx.starts[tx.content[j]])
            if found:
                spans.append(found.span())
    for m in mentions:
        k = m.j1
        while k < len(tx.content) and k < m.j1 + 2 and tx.words(k, k + 1) in _NUMBER_SKIP:
            k += 1
        if k >= len(tx.content) or not re.fullmatch(r"\d{1,4}", tx.cw[k]) or (
                k + 1 < len(tx.cw) and tx.cw[k + 1] in _UNIT_WORDS):
            continue
        end = tx.span(k, k + 1)
        if _ADDRESS_GAP.fullmatch(tx.text[m.end:end[0]]) and (m.typed or k == m.j1):
            spans.append((m.start, end[1]))
    hints: list[_Hint] = []
    for s, e in dict.fromkeys(spans):
        xy = _accept_address(loc, tx.text[s:e])
        if xy is not None:
            hints.append(_Hint("text_address", xy[0], xy[1], TEXT_RADIUS_M["text_address"],
                               tx.source, s, e))
    return hints


def _nearest_pair(loc: TextLocator, a: Iterable[str], b: Iterable[str]
                  ) -> tuple[float, float, float] | None:
    """Midpoint and distance of the nearest pair of address points of two streets."""
    from scipy.spatial import cKDTree

    ix = loc.geocoder.index
    x, y = loc.point_xy
    best: tuple[float, float, float] | None = None
    for cb in b:
        sb = ix.streets[cb]
        pb = np.column_stack([x[sb.start:sb.end], y[sb.start:sb.end]])
        tree = cKDTree(pb)
        for ca in a:
            if ca == cb:
                continue
            sa = ix.streets[ca]
            pa = np.column_stack([x[sa.start:sa.end], y[sa.start:sa.end]])
            dist, idx = tree.query(pa)
            i = int(np.argmin(dist))
            if best is None or dist[i] < best[2]:
                mid = (pa[i] + pb[int(idx[i])]) / 2
                best = (float(mid[0]), float(mid[1]), float(dist[i]))
    return best


def _intersection_hints(tx: _Text, mentions: Sequence[_Mention], loc: TextLocator
                        ) -> list[_Hint]:
    hints: list[_Hint] = []
    for a, b in itertools.pairwise(mentions):
        gap = tx.all_words[tx.content[a.j1 - 1] + 1:tx.content[b.j0]]
        between = tx.text[a.end:b.start]
        corner = any(w in _CORNER_WORDS for w in [*tx.near(a.j0, a.j1, 6, 0), *gap])
        loose = corner and bool(set(gap) & _CONNECTORS)  # "esquina X y la céntrica calle Y"
        if len(gap) > 3 or (not loose and any(w not in _GAP_WORDS for w in gap)):
            continue
        if not corner and any(w in ("entre", "between") for w in [*tx.near(a.j0, a.j1, 3, 0),
                                                                  *gap]):
            continue  # "between X and Y": somewhere between two streets, not their corner
        strong = bool(set(gap) & _STRONG_CONNECTORS) or (not gap and re.fullmatch(
            r"\s*[-/]\s*", between) is not None)
        if not (corner or strong or (a.typed and b.typed and gap)):
            continue
        pair = _nearest_pair(loc, a.codes, b.codes)
        if pair is not None and pair[2] <= INTERSECTION_MAX_M:
            hint = _qualify(tx, a.j0, b.j1, _Hint(
                "text_intersection", pair[0], pair[1], TEXT_RADIUS_M["text_intersection"],
                tx.source, a.start, b.end))
            hints += [hint] if hint else []
    return hints


def _minutes(words: Sequence[str]) -> int:
    """Largest "N minutes" in ``words`` (0 when none)."""
    found = 0
    for w, nxt in itertools.pairwise(words):
        if nxt in _MINUTE_WORDS:
            n = int(w) if w.isdigit() and len(w) < 3 else _NUMBER_WORDS.get(w, 0)
            found = max(found, n)
    return found


def _qualify(tx: _Text, j0: int, j1: int, hint: _Hint) -> _Hint | None:
    """Widen a hint "N minutes from" it (N <= 5) by N minutes' walk; drop it beyond."""
    if tx.source == 0:
        return hint
    a, b = tx.content[j0], tx.content[j1 - 1]
    lo, hi = max(0, a - 8), min(len(tx.all_words), b + 6)
    while lo < a and _SENTENCE_END.search(tx.text[tx.ends[lo]:tx.starts[a]]):
        lo += 1  # the window stays inside the hint's sentence
    while hi > b + 1 and _SENTENCE_END.search(tx.text[tx.ends[b]:tx.starts[hi - 1]]):
        hi -= 1
    after = tx.all_words[b + 1:hi]
    for k, w in enumerate(after):  # "X, a 20 minutos del aeropuerto": minutes of another place
        if w in _MINUTE_WORDS and k + 1 < len(after) and after[k + 1] in _FROM_WORDS:
            after = after[:max(0, k - 1)]
            break
    minutes = _minutes(tx.all_words[lo:a] + after)
    if minutes > _MAX_MINUTES:
        return None
    hint.radius = max(hint.radius, _M_PER_MINUTE * minutes + hint.extent)
    return hint


def _name_matches(tx: _Text, loc: TextLocator) -> list[tuple[int, int, str, list[int]]]:
    """Longest point / area key matches: (j0, j1, "point"|"area", rows)."""
    out: list[tuple[int, int, str, list[int]]] = []
    covered = -1
    kinds = loc.type_words
    by_core = loc.geocoder.index.by_core
    prefixes = loc.prefixes
    for j, w in enumerate(tx.cw):
        if w not in prefixes:
            continue
        for size, key in tx.keys_from(j, prefixes):
            if j + size <= covered:
                break
            plain_area = (key in loc.area_keys and len(key) >= 6 and key not in by_core
                          and key not in loc.point_keys)
            if not plain_area and not tx.proper(j, j + size, kinds):
                continue
            rows = loc.point_keys.get(key)
            hit = False
            if rows:
                out.append((j, j + size, "point", rows))
                hit = True
            if key in loc.area_keys:
                out.append((j, j + size, "area", [loc.area_keys[key]]))
                hit = True
            if hit:
                covered = j + size
                break
    return out


def _transit_context(tx: _Text, j0: int, j1: int, city: Mapping[str, str]
                     ) -> tuple[bool, set[str], set[str]]:
    """Whether a name is near transit words, the line refs and the modes named near it."""
    around = tx.near(j0, j1, 4, 4) + [tx.words(j, j + 1) for j in range(j0, j1)]
    lines = {w.upper() for w in around if _LINE.match(w)}
    modes = {city.get(w) or _MODE_WORDS[w] for w in around if w in city or w in _MODE_WORDS}
    transit = any(w in _TRANSIT_WORDS or w in city for w in around)
    return bool(lines) or transit, lines, modes


def _station_rows(loc: TextLocator, rows: list[int], lines: set[str], modes: set[str]
                  ) -> list[int]:
    if lines:
        rows = [r for r in rows if lines & loc.lines[r]] or rows
    if modes:
        rows = [r for r in rows if loc.modes[r] in modes] or rows
    return rows


def _point_hints(tx: _Text, loc: TextLocator, mentions: Sequence[_Mention]) -> list[_Hint]:
    """Station, landmark, square and area hints; areas inside a typed street name skipped."""
    out: list[_Hint] = []
    typed_spans = [(m.j0, m.j1) for m in mentions if m.typed]
    city = loc.lexicon.transit_word_modes
    name_transit = tx.source == 0 and any(w in _TRANSIT_WORDS or w in city
                                          for w in tx.all_words)
    for j0, j1, what, rows in _name_matches(tx, loc):
        s, e = tx.span(j0, j1)
        hints: list[_Hint] = []
        if what == "area":
            if any(a <= j0 and j1 <= b and (a, b) != (j0, j1) for a, b in typed_spans):
                continue
            ar = loc.area_records[rows[0]]
            hints.append(_Hint("text_area", ar["x"], ar["y"], ar["radius_m"], tx.source, s, e,
                               areas=ar["codes"], polygon=ar["geometry"],
                               districts=ar["districts"]))
        transit, lines, modes = _transit_context(tx, j0, j1, city)
        stations = [r for r in rows if loc.kinds[r] == "station"]
        others = [r for r in rows if loc.kinds[r] != "station"]
        # in a name, a station name that names nothing else ("... Fontana") needs no transit word
        alone = (tx.source == 0 and not others
                 and tx.words(j0, j1) not in loc.geocoder.index.by_core)
        if what != "area" and stations and (transit or name_transit or alone):
            for r in _station_rows(loc, stations, lines, modes):
                hints.append(_Hint("text_station", float(loc.xs[r]), float(loc.ys[r]),
                                   TEXT_RADIUS_M["text_station"], tx.source, s, e))
        for r in others if what != "area" else ():
            extent = float(loc.extents[r])
            hints.append(_Hint("text_landmark", float(loc.xs[r]), float(loc.ys[r]),
                               TEXT_RADIUS_M["text_landmark"] + extent, tx.source, s, e,
                               extent=extent))
        out += [q for h in hints if (q := _qualify(tx, j0, j1, h)) is not None]
    return out


def _outside_of_name(loc: TextLocator, name: str) -> str:
    return _outside(_Text.of(name, 0, loc), loc) if name else ""


def _outside(tx: _Text, loc: TextLocator) -> str:
    """Return the municipality the text places the space in (any mention in a name)."""
    prefixes = loc.prefixes
    for j, w in enumerate(tx.cw):
        if w not in prefixes:
            continue
        for size, key in tx.keys_from(j, prefixes):
            place = loc.outside_keys.get(key)
            if place is None:
                continue
            if tx.source == 0:
                return place
            before = tx.near(j, j + size, 3, 0)
            if any(w in _LOCATIVE for w in before) and not any(
                    w in _AIRPORT_WORDS for w in tx.near(j, j + size, 6, 0)):
                return place
    return "" if tx.source == 0 else _near_the_city(tx, loc.lexicon.city_words)


def _near_the_city(tx: _Text, names: frozenset[str]) -> str:
    """Return "close to <city>" / "12 km from <city>" phrases (the space is outside)."""
    for j, w in enumerate(tx.cw):
        if w not in names or (j and tx.proper(j - 1, j, ()) and tx.cw[j - 1] not in _NEAR_WORDS):
            continue  # "la Fira de <city>" names a place in the city
        before = tx.near(j, j + 1, 5, 0)
        k = tx.content[j]
        after = tx.text[tx.ends[k]:tx.ends[k] + 3]
        if (any(b in _NEAR_WORDS for b in before) and not any(b in _CENTRE_WORDS for b in before)
                and not re.match(r"\W*(?:'|’)?s\b|\s+[A-Z]", after)):
            start = tx.starts[max(0, k - 5)]
            return " ".join(tx.text[start:tx.ends[k]].split())[-60:]
    return ""



_TextMemo = dict[tuple[str, bool], tuple[list[_Hint], str]]


def _text_hints(loc: TextLocator, text: str, source: int, memo: _TextMemo
                ) -> tuple[list[_Hint], str]:
    """Return the hints of one text (source 0: the name) and the municipality named."""
    key = (text, source == 0)
    if key not in memo:
        tx = _Text.of(text, source, loc)
        mentions = _street_mentions(tx, loc)
        hints = _address_hints(tx, mentions, loc) if source else []
        hints += _intersection_hints(tx, mentions, loc) + _point_hints(tx, loc, mentions)
        if source == 0:
            res = loc.geocoder.geocode_name(text)
            xy = _result_xy(loc, res) if res.located else None
            if xy is not None:
                hints.append(_Hint("text_address", xy[0], xy[1],
                                   TEXT_RADIUS_M["text_address"], 0, 0, len(text)))
        for h in hints:
            if not h.districts:
                h.districts = frozenset({loc.district_of(h.x, h.y)}) - {""}
        memo[key] = (hints, _outside(tx, loc))
    hints, outside = memo[key]
    return [dataclasses.replace(h, source=source) for h in hints], outside


