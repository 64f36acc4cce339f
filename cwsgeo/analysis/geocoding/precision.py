"""How precisely each space is located: a radius for every located row, and a precision class.

Every located row gets ``location_radius_m``, the radius around its point that holds the true
location for most rows of its kind:

``input`` coordinates
    :data:`INPUT_RADIUS_M` (the keeper's own coordinates are taken as rooftop-level);
``gazetteer`` / ``nominatim``
    :data:`GEOCODE_RADIUS_M` by status: an exact house number of the Ajuntament's gazetteer is
    within 25 m of the truth for 99.7 % of the test addresses; the nearest number on the same
    street and Nominatim's answers get 100 m; a street without a number gets the distance
    from the street's representative point that holds 80 % of its address points
    (:func:`street_radius_m`);
``text_*``
    the text locator's calibrated radius (:mod:`.text_locator`).

The precision class (:data:`PRECISIONS`) follows from the radius: ``exact`` up to
``exact_radius_m`` (100 m), ``approximate`` up to ``point_radius_m`` (500 m), ``area``
beyond; ``outside`` for a space said to be outside the city, ``none`` without a location.
Point statistics (kernel densities, hexagons, walking distances) use the ``exact`` and
``approximate`` rows only (:func:`point_mask`).

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"location_method": ["gazetteer", "text_station", "text_area", "none"],
...                      "geocode_status": ["exact", "", "", "not_geocoded"],
...                      "location_radius_m": [None, 400.0, 1450.0, None]})
>>> rows["location_radius_m"] = location_radii(rows)
>>> location_precision(rows).tolist()
['exact', 'approximate', 'area', 'none']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pyproj import Transformer

from ... import settings
from .gazetteer import GazetteerIndex

__all__ = [
    "GEOCODE_RADIUS_M",
    "INPUT_RADIUS_M",
    "PRECISIONS",
    "UNLOCATED_REASONS",
    "certain_areas",
    "location_precision",
    "location_radii",
    "point_mask",
    "street_radius_m",
    "unlocated_reasons",
]

#: Radius of coordinates given in the inventory.
INPUT_RADIUS_M = 25.0

#: Radius of a geocoded point by ``geocode_status`` (``street_only``: see
#: :func:`street_radius_m`, this value when the street is unknown).
GEOCODE_RADIUS_M: dict[str, float] = {"exact": 25.0, "nearest_number": 100.0,
                                      "nominatim": 100.0, "street_only": 1000.0}

#: Precision classes, most precise first.
PRECISIONS: tuple[str, ...] = ("exact", "approximate", "area", "outside", "none")


def street_radius_m(index: GazetteerIndex, code: str, *, crs: str | None = None,
                    share: float = 0.8) -> float:
    """Radius around a street's representative point holding ``share`` of its address points.

    Parameters
    ----------
    index
        The parsed gazetteer.
    code
        The street's code (``matched_street_code``).
    crs
        Metric CRS (default :data:`cwsgeo.settings.crs_work`).
    share
        Share of the street's address points inside the radius.

    Returns
    -------
    float
        Metres; NaN for an unknown street or one without address points.
    """
    street = index.streets.get(str(code))
    if street is None or street.rep < 0 or street.end <= street.start:
        return float("nan")
    fwd = Transformer.from_crs(settings.crs_store, crs or settings.crs_work, always_xy=True)
    rows = np.r_[street.start:street.end]
    x, y = fwd.transform(index.lon[rows], index.lat[rows])
    rx, ry = fwd.transform(index.lon[street.rep], index.lat[street.rep])
    return float(np.quantile(np.hypot(np.asarray(x) - rx, np.asarray(y) - ry), share))


def location_radii(frame: pd.DataFrame) -> pd.Series:
    """Fill ``location_radius_m`` for located rows that have none yet.

    Parameters
    ----------
    frame
        Rows with ``location_method`` and ``geocode_status`` (as from
        :func:`~cwsgeo.analysis.geocoding.geocode_table`); an existing ``location_radius_m``
        (text locator, street radii) is kept.

    Returns
    -------
    pandas.Series
        Float metres, NaN for unlocated rows; same index as ``frame``.
    """
    method = _column(frame, "location_method")
    status = _column(frame, "geocode_status")
    given = (pd.to_numeric(frame["location_radius_m"], errors="coerce")
             if "location_radius_m" in frame.columns
             else pd.Series(np.nan, index=frame.index))
    default = pd.Series(np.nan, index=frame.index)
    default[method == "input"] = INPUT_RADIUS_M
    gazetteer = method == "gazetteer"
    default[gazetteer] = status[gazetteer].map(GEOCODE_RADIUS_M)
    default[method == "nominatim"] = GEOCODE_RADIUS_M["nominatim"]
    return given.fillna(default).astype(float).rename("location_radius_m")


def location_precision(frame: pd.DataFrame, *, point_radius_m: float = 500.0,
                       exact_radius_m: float = 100.0) -> pd.Series:
    """Class each row's location: exact, approximate, area, outside or none.

    Parameters
    ----------
    frame
        Rows with ``location_radius_m`` (:func:`location_radii`); ``outside_city`` is read
        when present.
    point_radius_m
        Largest radius of a point used by point statistics (``approximate`` up to it).
    exact_radius_m
        Largest radius of an ``exact`` point.

    Returns
    -------
    pandas.Series
        One of :data:`PRECISIONS` per row, named ``location_precision``.
    """
    radius = pd.to_numeric(frame["location_radius_m"], errors="coerce")
    out = pd.Series("none", index=frame.index, name="location_precision", dtype=object)
    out[radius.notna()] = "area"
    out[radius <= point_radius_m] = "approximate"
    out[radius <= exact_radius_m] = "exact"
    if "outside_city" in frame.columns:
        outside = frame["outside_city"].astype("boolean").fillna(False).astype(bool)
        out[outside & radius.isna()] = "outside"
    return out


def point_mask(frame: pd.DataFrame, point_radius_m: float = 500.0) -> pd.Series:
    """Rows whose point is precise enough for point statistics (radius ``<= point_radius_m``).

    Parameters
    ----------
    frame
        Rows with ``location_radius_m``.
    point_radius_m
        Largest radius accepted.

    Returns
    -------
    pandas.Series
        Boolean, same index as ``frame``.
    """
    radius = pd.to_numeric(frame["location_radius_m"], errors="coerce")
    return (radius <= point_radius_m).fillna(False).astype(bool)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[name].astype("string").fillna("").astype(object)


def certain_areas(frame: pd.DataFrame, barri_district: Mapping[str, str]) -> pd.DataFrame:
    """Whether each row's barri and district are known for sure, given its precision.

    A point row (``exact``/``approximate``) is in the barri and district its point falls in.
    An ``area`` row is only as certain as the areas its texts name (``location_areas``):
    its barri when the texts name exactly that barri, its district when every named area
    lies in that district.

    Parameters
    ----------
    frame
        Rows with ``location_precision``, ``location_areas`` (``;``-joined ``B<barri>`` /
        ``D<district>`` codes), ``barri_code`` and ``district_code`` (from the point).
    barri_district
        Barri code -> district code.

    Returns
    -------
    pandas.DataFrame
        Boolean columns ``barri_certain`` and ``district_certain``, same index as ``frame``.
    """
    precision = _column(frame, "location_precision")
    barri = _column(frame, "barri_code")
    district = _column(frame, "district_code")
    areas = _column(frame, "location_areas")
    barri_ok = (precision.isin(["exact", "approximate"]) & (barri != "")).to_numpy(copy=True)
    district_ok = (precision.isin(["exact", "approximate"]) & (district != "")).to_numpy(copy=True)
    for i in np.flatnonzero((precision == "area").to_numpy()).tolist():
        codes = [c for c in str(areas.iat[i]).split(";") if c]
        barris = {c[1:] for c in codes if c.startswith("B")}
        named = {c[1:] for c in codes if c.startswith("D")} | {
            barri_district.get(b, "?") for b in barris}
        barri_ok[i] = barris == {barri.iat[i]} and barri.iat[i] != ""
        district_ok[i] = named == {district.iat[i]} and district.iat[i] != ""
    return pd.DataFrame({"barri_certain": barri_ok, "district_certain": district_ok},
                        index=frame.index)


#: Why a space has no point, in plain words (keys of :func:`unlocated_reasons`).
UNLOCATED_REASONS: dict[str, str] = {
    "outside_city": "its listing text places it outside the city",
    "address_not_found": "its address is not in the official street gazetteer",
    "no_text_hint": "no address, and its listing texts name no street, station, landmark "
                    "or area of the city",
    "no_text": "no address, no coordinates and no listing text",
}


def unlocated_reasons(frame: pd.DataFrame) -> pd.Series:
    """Say why each unlocated row has no point (a key of :data:`UNLOCATED_REASONS`).

    Parameters
    ----------
    frame
        Rows with ``location_method``; ``outside_city``, ``address``, ``geocode_status``
        and ``n_texts`` are read when present.

    Returns
    -------
    pandas.Series
        Reason key for rows whose ``location_method`` is ``none``, missing elsewhere; named
        ``unlocated_reason``.
    """
    method = _column(frame, "location_method")
    out = pd.Series(pd.NA, index=frame.index, dtype="string", name="unlocated_reason")
    none = method.isin(["none", ""])
    texts = (pd.to_numeric(frame["n_texts"], errors="coerce").fillna(0) > 0
             if "n_texts" in frame.columns else pd.Series(False, index=frame.index))
    address = _column(frame, "address").str.strip() != ""
    outside = (frame["outside_city"].astype("boolean").fillna(False).astype(bool)
               if "outside_city" in frame.columns else pd.Series(False, index=frame.index))
    out[none] = "no_text"
    out[none & texts] = "no_text_hint"
    out[none & address] = "address_not_found"
    out[none & outside] = "outside_city"
    return out
