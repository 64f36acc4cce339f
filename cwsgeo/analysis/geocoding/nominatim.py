"""The live fallback: Nominatim through osmnx, biased to the city, checked against the street."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ... import settings
from ..._errors import DataSourceError
from .normalize import (
    TYPE_WORDS,
    ParsedAddress,
    _clean_postcode,
    normalize_street,
    parse_address,
    street_key,
)
from .result import GeocodeResult, Status, _unmatched

__all__ = ["NominatimGeocoder"]


class NominatimGeocoder:
    """Live geocoder on Nominatim through osmnx (<= 1 request per second, cached by osmnx).

    Requests go through :func:`cwsgeo._http.osmnx_settings`, so they use
    :data:`cwsgeo.settings.nominatim_url`, the User-Agent, the retry hook and the osmnx cache in
    ``cache_dir/osmnx``. Queries are biased to the city: ``"<street> <number>, <postcode>
    <city>, <region>"`` (the parts given) with :data:`cwsgeo.settings.city_bbox` as a bounded
    ``viewbox`` and, with ``country``, restricted to that country. An answer whose road does
    not match the street asked for (score below ``min_score``) counts as not found.

    Parameters
    ----------
    cache_dir
        cwsgeo's cache folder (osmnx's cache goes in ``cache_dir/osmnx``).
    city
        City name appended to queries (``""``: none).
    min_score
        Lowest score between the street asked for and the road returned.
    region
        Region or country name appended after the city (``""``: none).
    country
        ISO 3166-1 alpha-2 code the answers must lie in (``""``: any country).
    stop_words
        Folded words of the city and its region dropped from addresses (see
        :func:`~cwsgeo.analysis.geocoding.parse_address`; default: none).
    types
        Street-type vocabulary of the city's languages used to compare the street asked for
        with the road returned (:func:`~cwsgeo.analysis.geocoding.type_words`; default
        :data:`~cwsgeo.analysis.geocoding.TYPE_WORDS`).
    """

    provider = "nominatim"

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, *,
                 city: str = "", min_score: float = 85.0, region: str = "",
                 country: str = "", stop_words: frozenset[str] = frozenset(),
                 types: Mapping[tuple[str, ...], str] = TYPE_WORDS) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.city = city
        self.region = region
        self.country = country.lower()
        self.stop_words = stop_words
        self.types = types
        #: Part of the cache keys naming another type vocabulary than the default's.
        self.types_key = "" if types == TYPE_WORDS else hashlib.sha256(
            repr(sorted(types.items())).encode()).hexdigest()[:8]
        self.min_score = float(min_score)

    def query_for(self, parsed: ParsedAddress) -> dict[str, Any]:
        """Return the Nominatim search parameters for an address."""
        street = parsed.street
        if parsed.number is not None:
            street = f"{street} {parsed.number}{parsed.letter}"
        place = " ".join(p for p in (parsed.postcode, self.city) if p)
        west, south, east, north = settings.city_bbox
        params: dict[str, Any] = {
            "q": ", ".join(p for p in (street, place, self.region) if p), "addressdetails": 1,
            "viewbox": f"{west},{north},{east},{south}", "bounded": 1}
        if self.country:
            params["countrycodes"] = self.country
        return params

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Context in which :meth:`geocode` may be called (sets osmnx's settings once)."""
        from ..._http import osmnx_settings

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

        from ..._http import call_live

        query = str(address or "").strip()
        parsed = parse_address(query, self.stop_words)
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
            ours = normalize_street(parsed.street, self.types)
            theirs = normalize_street(road, self.types)
            score = max(float(fuzz.ratio(ours, theirs)),
                        max((float(fuzz.ratio(a, b)) for _, a in street_key(parsed.street,
                                                                            self.types)
                             for _, b in street_key(road, self.types)), default=0.0))
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

