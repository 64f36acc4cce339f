"""The offline matcher: street + house number on a gazetteer index.

A street matches when its key (see :mod:`.normalize`) equals the query's (score 100) or is
close enough by ``rapidfuzz.fuzz.ratio`` (score >= ``min_score``); a street type that
contradicts the query's costs 5 points (the query said "Carrer"/"Calle", which people use
loosely) or 10 points. Ties are broken by the postcode (when given), by whether the house
number exists on the street, by preferring a "Carrer" when the query names no type, and by the
street's number of addresses. ``ratio`` (not ``partial_ratio``/``WRatio``) is used on purpose:
"Granada" must not match "Ciutat de Granada" or "Granada del Penedès" by containment. Streets
are also found by their 2019 name, their short name and their name without a leading title
(:data:`~cwsgeo.analysis.geocoding.HONORIFICS`: "Letamendi" for "Doctor Letamendi", 5 points
less). A type word alone ("Gran Via 672") stands for the street holding at least 80 % of that
type's addresses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .gazetteer import (
    GazetteerIndex,
    Street,
    build_gazetteer_index,
    check_gazetteer,
    gazetteer_digest,
)
from .lexicon import NO_LEXICON, CityLexicon
from .normalize import (
    _GENERIC_NAME_WORDS,
    PARTICLES,
    ParsedAddress,
    _candidates,
    _clean_postcode,
    _name_spans,
    _split_type,
    _tokens,
    parse_address,
    street_key,
)
from .result import GeocodeResult, Status, _unmatched

__all__ = ["OfflineGeocoder"]

logger = logging.getLogger(__name__)


@dataclass
class _Candidate:
    street: Street
    score: float
    via_name: bool = False
    rival: str = ""


class OfflineGeocoder:
    """Street + number matcher over the Ajuntament's address gazetteer.

    Build it with :meth:`from_dir` (files checked now, parsed on first use) or on an index
    you already have (``OfflineGeocoder(build_gazetteer_index(folder))``).

    Parameters
    ----------
    index
        The gazetteer index, or a function returning it, called on first use (so a run
        whose answers are all cached never reads the 175k address points).
    min_score
        Lowest street-name score (0-100) accepted.
    version
        Digest of the gazetteer's content, used in cache keys (see
        :func:`~cwsgeo.analysis.geocoding.gazetteer_digest`), or a function returning it,
        called once when first needed. Default: the index's own ``version`` (which loads a
        lazy index).
    folder
        Where the gazetteer was read from (for messages only).
    lexicon
        The city's words (:class:`~cwsgeo.analysis.geocoding.CityLexicon`): its name and
        region are dropped from addresses and never taken for a street in a name. Default:
        none.
    """

    def __init__(self, index: GazetteerIndex | Callable[[], GazetteerIndex], *,
                 min_score: float = 85.0, version: str | Callable[[], str] | None = None,
                 folder: str | os.PathLike[str] | None = None,
                 lexicon: CityLexicon = NO_LEXICON) -> None:
        self.min_score = float(min_score)
        self.lexicon = lexicon
        self._stop_words = lexicon.address_stop_words
        self._generic_words = _GENERIC_NAME_WORDS | lexicon.city_words
        self.folder = Path(folder) if folder is not None else None
        self._index = index if isinstance(index, GazetteerIndex) else None
        self._load = None if isinstance(index, GazetteerIndex) else index
        self._version = version

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str], *, min_score: float = 85.0,
                 lexicon: CityLexicon = NO_LEXICON) -> OfflineGeocoder:
        """Return a geocoder over the gazetteer in ``path`` (checked now, parsed lazily).

        Parameters
        ----------
        path
            Folder laid out like the bundle's ``addresses/``.
        min_score
            Lowest street-name score (0-100) accepted.
        lexicon
            The city's words (default: none).

        Raises
        ------
        cwsgeo.MissingDataError
            The folder or a required file is missing.
        cwsgeo.GeocodingError
            A file lacks required columns.
        """
        folder = Path(path)
        check_gazetteer(folder)
        return cls(lambda: build_gazetteer_index(folder), min_score=min_score,
                   version=lambda: gazetteer_digest(folder), folder=folder, lexicon=lexicon)

    @property
    def version(self) -> str:
        """Digest of the gazetteer's content (a part of cache keys)."""
        if callable(self._version):
            self._version = self._version()
        if self._version is None:
            self._version = self.index.version
        return self._version

    @property
    def lexicon_key(self) -> str:
        """Digest of the city words that change answers (``""`` without any; in cache keys)."""
        words = sorted(self._stop_words | (self._generic_words - _GENERIC_NAME_WORDS))
        if not words:
            return ""
        return hashlib.sha256(" ".join(words).encode()).hexdigest()[:12]

    @property
    def is_loaded(self) -> bool:
        """True once the index is in memory."""
        return self._index is not None

    @property
    def index(self) -> GazetteerIndex:
        """The gazetteer index (loaded on first use)."""
        return self.load()

    def load(self) -> GazetteerIndex:
        """Load the index now (if it is not yet in memory) and return it."""
        if self._index is None:
            assert self._load is not None
            t0 = time.perf_counter()
            self._index = self._load()
            self._load = None
            logger.info("address gazetteer %s: %d points, %d streets loaded in %.2f s",
                        self.folder or "(index)", self._index.n_points,
                        len(self._index.streets), time.perf_counter() - t0)
        return self._index

    # -- matching --------------------------------------------------------------------------
    def _score_streets(self, street: str) -> dict[str, float]:
        """Score every plausible street for a street text: code -> best score."""
        from rapidfuzz import fuzz, process

        ix = self.index
        best: dict[str, float] = {}

        def add(code: str, score: float) -> None:
            if score > best.get(code, -1.0):
                best[code] = score

        readings = street_key(street, ix.types)
        for kind, core in readings:
            for skind, code, cost in ix.by_core.get(core, ()):
                add(code, 100.0 - cost - _type_penalty(kind, skind))
        # a type alone ("Gran Via 672"): the street that holds most of that type's addresses
        kind0, _ = _split_type([t for t in _tokens(street) if t not in PARTICLES],
                               ix.types)
        if kind0 is not None and len(readings) == 1 and readings[0][0] is None:
            main = ix.main_street_of_kind.get(kind0)
            if main is not None:
                add(main, 90.0)
        if not best or max(best.values()) < 100.0:
            cutoff = max(self.min_score - 15.0, 50.0)
            for kind, core in readings:
                if len(core) < 3 or tuple(core.split()) in ix.types:
                    continue
                for other, sim, _ in process.extract(core, ix.cores, scorer=fuzz.ratio,
                                                     score_cutoff=cutoff, limit=12):
                    for skind, code, cost in ix.by_core[other]:
                        add(code, float(sim) - cost - _type_penalty(kind, skind))
        return best

    def _rank(self, scores: Mapping[str, float], number: int | None, postcode: str | None,
              untyped: bool) -> list[_Candidate]:
        ix = self.index

        def key(item: tuple[str, float]) -> tuple[Any, ...]:
            code, score = item
            st = ix.streets[code]
            has_number = (number is not None and st.n > 0
                          and bool(np.any(ix.nums[st.start:st.end] == number)))
            return (round(score), st.n > 0, bool(postcode and postcode in st.postcodes),
                    has_number, untyped and st.kind == "carrer", st.n, score)

        ranked = sorted(scores.items(), key=key, reverse=True)
        out = [_Candidate(ix.streets[c], s) for c, s in ranked]
        if len(ranked) > 1 and key(ranked[0])[:4] == key(ranked[1])[:4]:
            out[0].rival = out[1].street.full
        return out

    def _from_name(self, street: str, name: str | None) -> _Candidate | None:
        """Find the one street of the row's name containing every word of ``street``."""
        if not name:
            return None
        ix = self.index
        type_words = {k[0] for k in ix.types if len(k) == 1}
        words = {t for t in _tokens(street) if t not in PARTICLES and t not in type_words}
        if not words:
            return None
        name_key = f" {' '.join(t for t in _tokens(name) if t not in PARTICLES)} "
        hits = {code for core, entries in ix.by_core.items()
                if words <= set(core.split()) and f" {core} " in name_key
                for _, code, _ in entries}
        hits = {c for c in hits if ix.streets[c].n > 0}
        if len(hits) != 1:
            return None
        return _Candidate(ix.streets[hits.pop()], 90.0, via_name=True)

    def _locate(self, cand: _Candidate, parsed: ParsedAddress, query: str,
                extra_notes: Sequence[str] = ()) -> GeocodeResult:
        ix = self.index
        st = cand.street
        notes = list(extra_notes)
        if cand.via_name:
            notes.append("street completed from the name")
        sl = slice(st.start, st.end)
        nums = ix.nums[sl]
        if parsed.number is None:
            i = st.rep
            status: Status = "street_only"
            matched = st.full
            notes.append(f"no house number: representative point ({st.full} "
                         f"{ix.number_text[i]})")
        else:
            n = parsed.number
            same = np.flatnonzero(nums == n)
            if same.size:
                letters = ix.letters[sl][same]
                pick = same[letters == parsed.letter]
                if not pick.size:
                    pick = same[letters == ""]
                    if not pick.size:
                        pick = same
                    notes.append(f"letter differs: {n}{parsed.letter} -> "
                                 f"{ix.number_text[st.start + int(pick[0])]}")
                status = "exact"
                i = st.start + int(pick[0])
            else:
                side = np.flatnonzero(nums % 2 == n % 2)
                pool = side if side.size else np.arange(nums.size)
                j = int(pool[np.argmin(np.abs(nums[pool] - n))])
                i = st.start + j
                status = "nearest_number"
                where = "same side" if side.size else "other side"
                notes.append(f"number {n} not in gazetteer: nearest {ix.number_text[i]} "
                             f"({where})")
            matched = f"{st.full} {ix.number_text[i]}"
        pc = str(ix.postcode[i])
        if parsed.postcode and pc and parsed.postcode != pc:
            notes.append(f"postcode {parsed.postcode} given, gazetteer says {pc}")
        return GeocodeResult(
            status=status, score=round(cand.score, 1), lat=float(ix.lat[i]),
            lon=float(ix.lon[i]), provider="gazetteer", query=query,
            matched_address=matched, street_code=st.code, postcode=pc,
            census_section=str(ix.section[i]), note="; ".join(notes))

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
        readings, text_postcode = _candidates(query, self._stop_words)
        pc = _clean_postcode(postcode) or text_postcode
        if not readings:
            return _unmatched(query, note="no street in the address")
        ix = self.index
        # numbered readings first (best street score wins, then a number that exists, then
        # the earliest), then the whole text as a street without a number
        numbered = [r for r in readings if r.number is not None]
        plain = [r for r in readings if r.number is None]
        best_seen, best_label = 0.0, ""
        for group in (numbered, plain):
            chosen: tuple[tuple[float, bool], _Candidate, ParsedAddress] | None = None
            for reading in group:
                parsed = dataclasses.replace(reading, postcode=pc)
                readings_key = street_key(parsed.street, ix.types)
                ranked = self._rank(self._score_streets(parsed.street), parsed.number, pc,
                                    untyped=bool(readings_key) and readings_key[0][0] is None)
                if not ranked:
                    continue
                top = ranked[0]
                if top.score > best_seen:
                    best_seen, best_label = top.score, top.street.full
                st = top.street
                quality = (top.score, parsed.number is not None and bool(
                    np.any(ix.nums[st.start:st.end] == parsed.number)))
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
        ix = self.index
        threshold = max(self.min_score, 90.0)
        best: tuple[float, int, GeocodeResult] | None = None
        for span, strict in spans:
            parsed = parse_address(span, self._stop_words)
            if parsed.number is None:
                continue
            readings = street_key(parsed.street, ix.types)
            core = readings[0][1] if readings else ""
            if len(core.replace(" ", "")) < 4 or set(core.split()) <= self._generic_words:
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
                gaps = np.abs(ix.nums[st.start:st.end] - parsed.number)
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
