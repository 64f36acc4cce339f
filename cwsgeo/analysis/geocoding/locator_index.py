"""The text locator's indexes: named points, areas and street names, built once.

:func:`build_text_locator` prepares a :class:`TextLocator` (used by
:func:`~cwsgeo.analysis.geocoding.text_locator.locate_from_text`); this module also holds
the calibrated radii.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from ... import settings
from ..admin import AdminAreas
from .lexicon import NO_LEXICON, CityLexicon
from .matcher import OfflineGeocoder
from .named_places import canonical_key, named_points, text_words

__all__ = [
    "AREA_RADIUS_FACTOR",
    "INTERSECTION_MAX_M",
    "NAME_VETO_M",
    "TEXT_RADIUS_M",
    "TextLocator",
    "build_text_locator",
]

#: Radius (m) per method, calibrated by ``benchmarks/text_locator.py`` on the bundle's rows
#: of known location (67 with a text: 47 with an address, 20 whose name holds one), located
#: from their texts alone (address and name withheld); errors (m) measured on 2026-12-01:
#:
#: * ``text_address``: 15 rows, all 0 m against the gazetteer point (the truth is that same
#:   gazetteer); 60 m is the gazetteer's own error against the 20 Google points (median under
#:   30 m, ``benchmarks/geocode_accuracy.py``) with room for the entrance;
#: * ``text_intersection``: 3 rows, 132 / 253 / 453 m (the last "5 minutes from" the corner,
#:   whose radius the minutes widen to 500 m): 300 m holds all three;
#: * ``text_station`` and ``text_landmark`` (both "near a named point"): 24 rows, 80th
#:   percentile 365 m, so 400 m (22 of 24 inside); a square, promenade or rambla adds its
#:   own extent (80 % of its address points lie within it of its centroid).
#:
#: "N minutes from X" (N <= 5) widens a radius to N x 100 m; more minutes drop the hint.
TEXT_RADIUS_M: Mapping[str, float] = {
    "text_address": 60.0,
    "text_intersection": 300.0,
    "text_station": 400.0,
    "text_landmark": 400.0,
}

#: An area's radius is this factor times the distance from its point holding 80 % of its
#: address points (or times its equivalent radius sqrt(area / pi) without address points).
#: Measured: 12 area-located test rows; error / radius (at factor 1) was at most 0.93 for 9
#: of them, then 1.15, 1.21, 1.48: 1.25 holds 10 of 12.
AREA_RADIUS_FACTOR: float = 1.25

#: Two streets meet when their nearest address points are closer than this (m).
INTERSECTION_MAX_M: float = 90.0

#: A name hint vetoes text hints farther than this (m) or in another district.
NAME_VETO_M: float = 600.0

@dataclass
class TextLocator:
    """Everything :func:`locate_from_text` looks names up in (see :func:`build_text_locator`).

    Attributes
    ----------
    geocoder
        The gazetteer geocoder (street + number, street names).
    points
        Named points (:func:`~.named_places.named_points`) in ``crs``.
    areas
        Named areas: ``key``, ``codes`` (tuple of ``"B.."``/``"D.."``), ``x``, ``y``,
        ``radius_m``, ``districts`` and the polygon as ``geometry``, in ``crs``.
    districts
        District code -> polygon in ``crs``.
    crs
        Metric CRS of all coordinates.
    point_xy
        The gazetteer's address points in ``crs``.
    lexicon
        The city's words: its name ("near <city>" means outside it) and the municipalities
        around it (:attr:`~cwsgeo.analysis.geocoding.CityLexicon.outside_places`).
    """

    geocoder: OfflineGeocoder = field(repr=False)
    points: pd.DataFrame = field(repr=False)
    areas: gpd.GeoDataFrame = field(repr=False)
    districts: dict[str, BaseGeometry] = field(repr=False)
    crs: str
    point_xy: tuple[np.ndarray, np.ndarray] = field(repr=False)
    lexicon: CityLexicon = field(default=NO_LEXICON, repr=False)
    point_keys: dict[str, list[int]] = field(default_factory=dict, repr=False)
    area_keys: dict[str, int] = field(default_factory=dict, repr=False)
    prefixes: frozenset[str] = field(default=frozenset(), repr=False)
    fold_memo: dict[str, list[str]] = field(default_factory=dict, repr=False)
    outside_keys: dict[str, str] = field(default_factory=dict, repr=False)
    street_memo: dict[str, tuple[float, str] | None] = field(default_factory=dict, repr=False)
    max_words: int = 6
    type_words: frozenset[str] = field(init=False, repr=False)
    words_table: dict[str, str] = field(init=False, repr=False)
    area_records: list[dict[str, Any]] = field(init=False, repr=False)
    kinds: list[str] = field(init=False, repr=False)
    xs: np.ndarray = field(init=False, repr=False)
    ys: np.ndarray = field(init=False, repr=False)
    extents: np.ndarray = field(init=False, repr=False)
    modes: list[str] = field(init=False, repr=False)
    lines: list[set[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.words_table = text_words(self.lexicon.spellings)
        for i, key in enumerate(self.points["key"].tolist()):
            self.point_keys.setdefault(key, []).append(i)
        self.area_keys = {key: i for i, key in enumerate(self.areas["key"].tolist())}
        self.area_records = self.areas.to_dict("records")
        by_core = self.geocoder.index.by_core
        for i, (key, kind) in enumerate(zip(self.points["key"], self.points["kind"],
                                            strict=True)):
            core = key.split(" ", 1)[-1]
            if (kind == "square" and key.startswith("placa ") and len(core) >= 6
                    and len({c for _, c, _ in by_core.get(core, ())}) == 1
                    and core not in self.area_keys):
                self.point_keys.setdefault(core, []).append(i)
        # facility names that are also area or street names are not landmarks
        for key, rows in list(self.point_keys.items()):
            if key in self.area_keys or key in by_core:
                rows = [r for r in rows if self.points.at[r, "kind"] != "facility"]
                if rows:
                    self.point_keys[key] = rows
                else:
                    del self.point_keys[key]
        types = self.geocoder.index.types
        for place in self.lexicon.outside_places:
            self.outside_keys.setdefault(canonical_key(place, types, self.words_table), place)
        self.outside_keys.pop("", None)
        keys = [*self.point_keys, *self.area_keys, *by_core, *self.outside_keys]
        self.max_words = max((len(k.split()) for k in keys), default=1)
        self.prefixes = frozenset(" ".join(w[:n]) for k in keys
                                  for w in [k.split()] for n in range(1, len(w) + 1))
        self.type_words = frozenset(self.geocoder.index.types.values())
        self.kinds = self.points["kind"].tolist()
        self.xs = self.points["x"].to_numpy(dtype=float)
        self.ys = self.points["y"].to_numpy(dtype=float)
        self.extents = self.points["extent_m"].to_numpy(dtype=float)
        self.modes = self.points["mode"].astype(str).tolist()
        self.lines = [set(str(v).split(";")) for v in self.points["lines"]]

    def district_of(self, x: float, y: float) -> str:
        """District code of a point in ``crs`` (``""`` outside every district)."""
        for code, poly in self.districts.items():
            if shapely.contains_xy(poly, x, y):
                return code
        return ""


def _area_point(poly: BaseGeometry, xy: tuple[np.ndarray, np.ndarray]
                ) -> tuple[float, float, float]:
    """Return the point and radius of an area from its address points.

    The point is the address point nearest their mean; the radius the distance holding 80 %
    of them, times :data:`AREA_RADIUS_FACTOR`.
    """
    x, y = xy
    x0, y0, x1, y1 = poly.bounds
    box = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    inside = box[shapely.contains_xy(poly, x[box], y[box])]
    if inside.size < 10:
        point = poly.centroid if poly.contains(poly.centroid) else poly.representative_point()
        return point.x, point.y, AREA_RADIUS_FACTOR * math.sqrt(poly.area / math.pi)
    px, py = x[inside], y[inside]
    k = int(np.argmin(np.hypot(px - px.mean(), py - py.mean())))
    spread = float(np.quantile(np.hypot(px - px[k], py - py[k]), 0.8))
    return float(px[k]), float(py[k]), AREA_RADIUS_FACTOR * spread


def _area_table(admin: AdminAreas, crs: str, types: Mapping[tuple[str, ...], str],
                xy: tuple[np.ndarray, np.ndarray], lexicon: CityLexicon) -> gpd.GeoDataFrame:
    barris = admin.barris.to_crs(crs)
    districts = admin.districts.to_crs(crs)
    geom: dict[str, BaseGeometry] = {}
    dist_of: dict[str, frozenset[str]] = {}
    names: list[tuple[str, tuple[str, ...]]] = []
    for code, name, dcode, g in zip(districts["district_code"], districts["district_name"],
                                    districts["district_code"], districts.geometry,
                                    strict=True):
        geom[f"D{code}"], dist_of[f"D{code}"] = g, frozenset({str(dcode)})
        names.append((str(name), (f"D{code}",)))
    for code, name, dcode, g in zip(barris["barri_code"], barris["barri_name"],
                                    barris["district_code"], barris.geometry, strict=True):
        geom[f"B{code}"], dist_of[f"B{code}"] = g, frozenset({str(dcode)})
        names.append((str(name), (f"B{code}",)))
    names += [(a, codes) for a, codes in lexicon.area_aliases if all(c in geom for c in codes)]
    table = text_words(lexicon.spellings)
    rows: dict[str, dict[str, Any]] = {}
    for name, codes in names:  # later entries (barris, then aliases) win
        key = canonical_key(name, types, table)
        if not key:
            continue
        poly = shapely.union_all([geom[c] for c in codes])
        shapely.prepare(poly)
        px, py, radius = _area_point(poly, xy)
        rows[key] = {"key": key, "name": name, "codes": codes, "x": px, "y": py,
                     "radius_m": radius,
                     "districts": frozenset().union(*(dist_of[c] for c in codes)),
                     "geometry": poly}
    return gpd.GeoDataFrame(list(rows.values()), geometry="geometry", crs=crs)


def build_text_locator(geocoder: OfflineGeocoder, admin: AdminAreas,
                       transit: gpd.GeoDataFrame | None = None,
                       places: gpd.GeoDataFrame | None = None, *,
                       crs: str | None = None,
                       lexicon: CityLexicon = NO_LEXICON) -> TextLocator:
    """Prepare the name indexes of the text locator (about 1 s on the bundle).

    Parameters
    ----------
    geocoder
        The gazetteer geocoder (:class:`~cwsgeo.analysis.geocoding.OfflineGeocoder`).
    admin
        Districts and barris (:func:`cwsgeo.load_admin`): area names and polygons.
    transit
        Transit layer (:func:`cwsgeo.read_transit`) for station names; ``None`` for none.
    places
        Places layer (:func:`cwsgeo.read_places`, e.g. with ``categories=None``) for
        facility names; ``None`` for none.
    crs
        Metric CRS for distances (default :data:`cwsgeo.settings.crs_work`).
    lexicon
        The city's words (:func:`cwsgeo.build.profiles.city_lexicon`): landmarks, colloquial
        area names, neighbouring municipalities and the city's own names. Default: none, so
        only the gazetteer, admin areas, stations and facilities are looked up.

    Returns
    -------
    TextLocator
    """
    crs = crs or settings.crs_work
    index = geocoder.index
    fwd = Transformer.from_crs(settings.crs_store, crs, always_xy=True)
    px, py = fwd.transform(index.lon, index.lat)
    xy = (np.asarray(px, dtype=float), np.asarray(py, dtype=float))
    pts = named_points(geocoder, None if transit is None else transit.to_crs(crs),
                       None if places is None else places.to_crs(crs), crs=crs, point_xy=xy,
                       landmarks=lexicon.landmarks, city_words=lexicon.city_words,
                       words_table=text_words(lexicon.spellings))
    districts = admin.districts.to_crs(crs)
    polys = {str(c): g for c, g in zip(districts["district_code"], districts.geometry,
                                       strict=True)}
    for poly in polys.values():
        shapely.prepare(poly)
    return TextLocator(geocoder=geocoder, points=pts,
                       areas=_area_table(admin, crs, index.types, (xy[0][::3], xy[1][::3]),
                                         lexicon),
                       districts=polys, crs=crs, point_xy=xy, lexicon=lexicon)


