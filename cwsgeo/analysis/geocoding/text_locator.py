"""Locating a space from its name and listing texts, with an honest radius.

For rows with neither an address nor coordinates, :func:`locate_from_text` reads the name and
the listing texts (English, Spanish or Catalan) and looks for location hints, from the most to
the least precise:

``text_address``
    a street and house number ("C/ Girona 70", "Carrer de Pujades, nº 77", "Pujades 77"), or
    one inside the name ("WeWork Avinguda Diagonal 371"), resolved on the address gazetteer;
``text_intersection``
    two streets at a corner ("corner of Diagonal and Balmes", "esquina entre Paseo de Gracia
    y calle Diputación", "cantonada X amb Y", "Calle Girona-Granvia"): the midpoint of the
    nearest pair of their address points, accepted only when the streets meet (nearest pair
    closer than :data:`INTERSECTION_MAX_M`);
``text_station``
    a metro, FGC, tram or Rodalies station, only with a transit word nearby ("Fontana L3",
    "Monumental subway station", "parada de metro Urquinaona") or, in the space's name, a
    station name that names no street, square or area;
``text_landmark``
    a landmark of the city (:attr:`~.lexicon.CityLexicon.landmarks`), a facility of the
    places layer, or a square / promenade / rambla of the street register ("a pocos metros de plaza
    Catalunya", "few meters from Sagrada Familia");
``text_area``
    a barri or district, by its official name or an alias
    (:attr:`~.lexicon.CityLexicon.area_aliases`, e.g. "22@", "el Born"), placed at the
    address point nearest the mean of its address points.

"N minutes from X" (N <= 5) widens the radius to N x 100 m; a hint more minutes away ("a 15
minutos de la playa") is dropped. Names without a type word or a capital letter ("cultura",
"puntual") are not read as places.

A hint in the *name* vetoes text hints in another district or farther than
:data:`NAME_VETO_M` from it (chain texts describe a sister branch). Among the remaining hints
the most precise class wins; inside a class, the hint most other hints agree with (closer
than :data:`NAME_VETO_M`, or inside a named area), then the name, then the first mention. A
space said to be in a neighbouring municipality (:attr:`~.lexicon.CityLexicon.outside_places`: "in
Sant Cugat", "en L'Hospitalet") is flagged ``outside_city`` and not placed.

Radii
-----
``location_radius_m`` is the radius around the point that held the true location for at
least 80 % of the test rows (:data:`TEXT_RADIUS_M`, :data:`AREA_RADIUS_FACTOR`; the numbers
are in :mod:`.locator_index`, measured by ``benchmarks/text_locator.py``).

Examples
--------
>>> import cwsgeo
>>> from cwsgeo.analysis.geocoding import OfflineGeocoder
>>> from cwsgeo.analysis.texts.readers import join_listing_texts, read_listing_texts
>>> from cwsgeo.build.profiles import load_profile
>>> profile = load_profile("barcelona")  # the city's transit modes and rules
>>> locator = build_text_locator(
...     OfflineGeocoder.from_dir("data/raw/addresses"), cwsgeo.load_admin("data/raw/admin"),
...     cwsgeo.read_transit("data/raw/osm/transit_gtfs", rules=profile.transit),
...     cwsgeo.read_places("data/raw/places", categories=None))       # doctest: +SKIP
>>> texts = join_listing_texts(inventory, read_listing_texts(listing_files))  # doctest: +SKIP
>>> located = locate_from_text(inventory.set_index("id").join(texts), locator,
...                            texts=["text_en", "text_es", "text_ca", "text_other"])
... # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ... import settings
from .locator_index import (
    AREA_RADIUS_FACTOR,
    INTERSECTION_MAX_M,
    NAME_VETO_M,
    TEXT_RADIUS_M,
    TextLocator,
    build_text_locator,
)
from .text_hints import _Hint, _outside_of_name, _text_hints, _TextMemo

__all__ = [
    "AREA_RADIUS_FACTOR",
    "INTERSECTION_MAX_M",
    "LOCATION_METHODS",
    "NAME_VETO_M",
    "TEXT_LOCATION_COLUMNS",
    "TEXT_RADIUS_M",
    "TextLocator",
    "build_text_locator",
    "locate_from_text",
]

#: Values of ``location_method``, most precise first.
LOCATION_METHODS: tuple[str, ...] = ("text_address", "text_intersection", "text_station",
                                     "text_landmark", "text_area", "none")

#: Columns :func:`locate_from_text` returns (plus ``geometry``).
TEXT_LOCATION_COLUMNS: tuple[str, ...] = ("location_method", "location_radius_m",
                                          "location_evidence", "outside_city",
                                          "location_areas")

# ---------------------------------------------------------------------------------------------
# Choosing among hints
# ---------------------------------------------------------------------------------------------


def _agrees(h: _Hint, other: _Hint) -> bool:
    """``h`` lies within :data:`NAME_VETO_M` of ``other`` (of its area) and in its district."""
    if other.districts and h.districts and not (h.districts & other.districts):
        return False
    if other.polygon is not None:
        return bool(other.polygon.distance(shapely.Point(h.x, h.y)) <= NAME_VETO_M)
    return math.hypot(h.x - other.x, h.y - other.y) <= NAME_VETO_M + other.extent + h.extent


def _choose(hints: list[_Hint]) -> tuple[_Hint | None, list[_Hint]]:
    """Apply the name veto, then pick the best hint; return it and the hints kept."""
    named = [h for h in hints if h.source == 0]
    if named:
        hints = [h for h in hints if h.source == 0 or any(_agrees(h, n) for n in named)]
    if not hints:
        return None, []
    top = min(h.rank for h in hints)
    best = max((h for h in hints if h.rank == top),
               key=lambda h: (sum(_agrees(h, o) for o in hints if o is not h),
                              h.source == 0, -h.source, -h.start))
    return best, hints


def _evidence(texts: Sequence[str], hint: _Hint, limit: int = 200) -> str:
    text = texts[hint.source]
    prefix = "name: " if hint.source == 0 else ""
    room = max(0, limit - len(prefix) - (hint.end - hint.start))
    s = max(0, hint.start - room // 2)
    e = min(len(text), hint.end + room - (hint.start - s))
    snippet = " ".join(text[s:e].split())
    return (prefix + snippet)[:limit]


def _locate_one(loc: TextLocator, name: str, texts: Sequence[str], memo: _TextMemo
                ) -> dict[str, Any]:
    """Locate one row from its name and texts."""
    all_texts = [name, *texts]
    outside = ""
    hints: list[_Hint] = []
    for source, text in enumerate(all_texts):
        if text:
            found, place = _text_hints(loc, text, source, memo)
            hints += found
            outside = outside or place
    best, kept = _choose(hints)
    areas = ";".join(dict.fromkeys(c for h in kept for c in h.areas))
    if outside and any(h.source == 0 for h in hints) and _outside_of_name(loc, name) == "":
        outside = ""  # a chain text naming a sister branch elsewhere; the name is in the city
    if outside and (best is None or best.source != 0):
        best = None
    if best is None:
        return {"location_method": "none", "x": np.nan, "y": np.nan,
                "location_radius_m": np.nan, "location_evidence": outside,
                "outside_city": bool(outside), "location_areas": areas}
    return {"location_method": best.method, "x": best.x, "y": best.y,
            "location_radius_m": round(best.radius, 1),
            "location_evidence": _evidence(all_texts, best), "outside_city": bool(outside),
            "location_areas": areas}


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (list, tuple)):
        return "\n\n".join(_as_text(v) for v in value)
    return str(value)


def locate_from_text(frame: pd.DataFrame, locator: TextLocator, *, name: str = "name",
                     texts: str | Sequence[str] = ("text",)) -> gpd.GeoDataFrame:
    """Locate rows from their name and listing texts.

    Parameters
    ----------
    frame
        One row per space, with a name column and one or more text columns (a cell may hold
        a string, a list of strings, or nothing).
    locator
        Name indexes from :func:`build_text_locator` (metric work in its ``crs``).
    name
        Name column.
    texts
        Text column(s), e.g. ``["description_en", "description_es"]``.

    Returns
    -------
    geopandas.GeoDataFrame
        Same index as ``frame``, columns :data:`TEXT_LOCATION_COLUMNS` and a point
        ``geometry`` in EPSG:4326 (empty where ``location_method`` is ``"none"``):
        ``location_method`` (one of :data:`LOCATION_METHODS`), ``location_radius_m``,
        ``location_evidence`` (at most 200 characters of the text the point comes from, or
        the municipality for ``outside_city``), ``outside_city`` and ``location_areas``
        (``;``-joined ``B<barri>``/``D<district>`` codes of the areas the texts name).

    Raises
    ------
    KeyError
        A column is missing from ``frame``.
    """
    cols = [texts] if isinstance(texts, str) else list(texts)
    missing = [c for c in [name, *cols] if c not in frame.columns]
    if missing:
        raise KeyError(f"locate_from_text: column(s) {', '.join(missing)} not in the frame "
                       f"(columns: {', '.join(map(str, frame.columns))})")
    names = [_as_text(v) for v in frame[name].tolist()]
    bodies = [tuple(_as_text(v) for v in row) for row in zip(*(frame[c].tolist()
                                                               for c in cols), strict=True)]
    memo: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    text_memo: _TextMemo = {}
    rows = []
    for row_name, row_texts in zip(names, bodies, strict=True):
        key = (row_name, row_texts)
        if key not in memo:
            memo[key] = _locate_one(locator, row_name, row_texts, text_memo)
        rows.append(memo[key])
    out = pd.DataFrame(rows, index=frame.index)
    geom = gpd.GeoSeries(gpd.points_from_xy(out.pop("x"), out.pop("y")), index=frame.index,
                         crs=locator.crs)
    geom[out["location_method"] == "none"] = None
    return gpd.GeoDataFrame(out[list(TEXT_LOCATION_COLUMNS)], geometry=geom.to_crs(
        settings.crs_store), crs=settings.crs_store)

