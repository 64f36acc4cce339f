"""Geocoding many addresses: :class:`Geocoder` and :func:`geocode_table`, the table step.

A :class:`Geocoder` asks a store of answers, then the gazetteer, then (if allowed) Nominatim.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Iterable, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ... import settings
from ..inventory.values import innovation_types
from .gazetteer import ALGORITHM_VERSION
from .lexicon import NO_LEXICON, CityLexicon
from .matcher import OfflineGeocoder
from .nominatim import NominatimGeocoder
from .normalize import _clean_postcode, _name_spans, fold
from .result import GeocodeResult, _unmatched
from .store import SQLiteResultStore, _get_many, _put_many

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["GEOCODE_COLUMNS", "Geocoder", "Task", "geocode_table"]

logger = logging.getLogger(__name__)

#: Columns :func:`geocode_table` adds (``lat``/``lon`` are also filled for geocoded rows).
GEOCODE_COLUMNS: tuple[str, ...] = (
    "location_method", "geocode_status", "geocode_score", "geocode_query", "address_from_name",
    "matched_address", "matched_street_code", "matched_postcode", "matched_census_section",
    "geocode_lat", "geocode_lon", "geocode_note", "coord_check_m", "coord_flag")

#: One geocoding task: ("address", address, postcode, name) or ("name", name, "", "").
Task = tuple[str, str, str, str]


class Geocoder:
    """Offline gazetteer + optional Nominatim fallback + a store of answers.

    Parameters
    ----------
    offline
        The gazetteer geocoder (``None``: Nominatim only).
    online
        Default for asking Nominatim when the gazetteer leaves an address unmatched.
    store
        Where answers are kept and looked up, by a key naming the provider and everything
        the answer depends on (a ``dict``, a :class:`SQLiteResultStore` ...); ``None``: no
        caching. The caller keeps ownership (the geocoder does not close it).
    nominatim
        Live geocoder (default: a :class:`NominatimGeocoder` with a temporary osmnx cache).

    Notes
    -----
    Keys hold the provider, a digest of the gazetteer files and of the matching rules (see
    :data:`~cwsgeo.analysis.geocoding.ALGORITHM_VERSION`), ``min_score``, the folded query,
    the postcode and (for addresses) the folded name, which can complete a street. Nominatim
    keys do not depend on the gazetteer. Network failures are never stored; a genuine "not
    found" is.
    """

    def __init__(self, offline: OfflineGeocoder | None, *, online: bool = False,
                 store: MutableMapping[str, GeocodeResult] | None = None,
                 nominatim: NominatimGeocoder | None = None) -> None:
        self.offline = offline
        self.online = bool(online)
        self.store = store
        self.nominatim = nominatim or NominatimGeocoder(
            None, min_score=offline.min_score if offline else 85.0)
        self._owned: SQLiteResultStore | None = None

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str]
                 | None = None, min_score: float = 85.0, online: bool = False,
                 city: str = "", region: str = "", country: str = "",
                 lexicon: CityLexicon = NO_LEXICON) -> Geocoder:
        """Build a geocoder over the gazetteer folder ``path``.

        Parameters
        ----------
        path
            Folder laid out like the bundle's ``addresses/``.
        cache_dir
            Cache folder: answers in ``cache_dir/geocode.sqlite`` (closed by :meth:`close`),
            osmnx's HTTP cache in ``cache_dir/osmnx`` (``None``: no cache).
        min_score
            Lowest street-name score accepted (offline and from Nominatim).
        online
            Ask Nominatim when the gazetteer fails.
        city, region, country
            City and region appended to Nominatim queries, country code its answers must lie
            in (see :class:`NominatimGeocoder`; ``""``: none).
        lexicon
            The city's words (see :class:`OfflineGeocoder`; default: none).
        """
        offline = OfflineGeocoder.from_dir(path, min_score=min_score, lexicon=lexicon)
        nominatim = NominatimGeocoder(cache_dir, city=city, min_score=min_score, region=region,
                                      country=country, stop_words=lexicon.address_stop_words)
        store = SQLiteResultStore(Path(cache_dir) / "geocode.sqlite") if cache_dir else None
        geocoder = cls(offline, online=online, store=store, nominatim=nominatim)
        geocoder._owned = store
        return geocoder

    def close(self) -> None:
        """Close the store this geocoder opened itself (see :meth:`from_dir`)."""
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> Geocoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys ------------------------------------------------------------------------------
    def _offline_key(self, task: Task) -> str:
        return self._offline_keys([task])[0][task]

    def _offline_keys(self, tasks: Sequence[Task]) -> tuple[dict[Task, str], dict[Task, str]]:
        """Store keys of tasks: with the name, and name-free (addresses only).

        The gazetteer's part of the key is made once and each text folded once.
        """
        assert self.offline is not None
        words = self.offline.lexicon_key
        base = (f"gazetteer|{self.offline.version}{'|lx' + words if words else ''}|"
                f"ms{self.offline.min_score:g}|")
        keys: dict[Task, str] = {}
        generic: dict[Task, str] = {}
        for task in tasks:
            kind, text, postcode, name = task
            head = f"{base}{kind}|{fold(text)}|{postcode}|"
            keys[task] = head + fold(name)
            if kind == "address":
                generic[task] = head + fold("")
        return keys, generic

    def _online_key(self, address: str, postcode: str) -> str:
        nom = self.nominatim
        # the answers depend on the search box (the city's: settings.city_bbox) too
        box = ",".join(f"{v:g}" for v in settings.city_bbox)
        return (f"nominatim|v{ALGORITHM_VERSION}|{settings.nominatim_url}|bb{box}|"
                f"ms{nom.min_score:g}|"
                f"{fold(nom.city)}{'|' + fold(nom.region) if nom.region else ''}"
                f"{'|' + nom.country if nom.country else ''}"
                f"{'|t' + nom.types_key if nom.types_key else ''}|{fold(address)}|{postcode}")

    # -- geocoding -------------------------------------------------------------------------
    def geocode(self, address: str, postcode: str | None = None, *, name: str | None = None,
                online: bool | None = None) -> GeocodeResult:
        """Geocode one address: store, then gazetteer, then (if enabled) Nominatim.

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
        """Geocode an address written inside a name (gazetteer only, stored)."""
        task: Task = ("name", str(name or ""), "", "")
        return self.geocode_many([task], online=False)[task]

    def geocode_many(self, tasks: Iterable[Task], *, online: bool | None = None,
                     progress: bool = False) -> dict[Task, GeocodeResult]:
        """Geocode distinct tasks, reading and filling the store in bulk.

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
            Nominatim failed (results obtained so far stay stored).
        """
        todo = list(dict.fromkeys(tasks))
        results = _without_gazetteer(todo)
        pending = [t for t in todo if t not in results]
        if self.offline is None:  # Nominatim only
            results.update({t: _unmatched(t[1], note="no offline gazetteer",
                                          from_name=t[0] == "name") for t in pending})
        else:
            results.update(self._offline(pending, progress=progress))
        if self.online if online is None else bool(online):
            ask = [t for t in todo if t[0] == "address" and t[1].strip()
                   and results[t].status == "unmatched"]
            if ask:
                results.update(self._online(ask, progress=progress))
        return results

    def _offline(self, tasks: Sequence[Task], *, progress: bool) -> dict[Task, GeocodeResult]:
        """Answer tasks from the store, else on the gazetteer (storing the new answers).

        An address's answer depends on the space's name only when the address alone matches
        nothing (the name may complete the street). Answers found without the name are
        stored under a name-free key, so renaming a space never re-runs the gazetteer.
        """
        from tqdm.auto import tqdm

        assert self.offline is not None
        if not tasks:
            return {}
        results: dict[Task, GeocodeResult] = {}
        keys: dict[Task, str] = {}
        generic: dict[Task, str] = {}
        if self.store is not None:
            keys, generic = self._offline_keys(tasks)
            hits = _get_many(self.store, list({*keys.values(), *generic.values()}))
            for t in tasks:
                hit = hits.get(generic.get(t, "")) or hits.get(keys[t])
                if hit is not None:
                    results[t] = _with_query(hit, t)
            logger.debug("geocode cache: %d of %d offline answers cached", len(results),
                         len(tasks))
        fresh: list[tuple[str, GeocodeResult]] = []
        misses = [t for t in tasks if t not in results]
        for task in tqdm(misses, desc="geocoding", unit="address", disable=not progress):
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
        if self.store is not None:
            _put_many(self.store, fresh)
        return results

    def _online(self, tasks: Sequence[Task], *, progress: bool) -> dict[Task, GeocodeResult]:
        from tqdm.auto import tqdm

        out: dict[Task, GeocodeResult] = {}
        keys = {t: self._online_key(t[1], t[2]) for t in tasks}
        if self.store is not None:
            hits = _get_many(self.store, list(keys.values()))
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
                if self.store is not None:
                    _put_many(self.store, [(keys[task], res)])
        return out


def _without_gazetteer(tasks: Iterable[Task]) -> dict[Task, GeocodeResult]:
    """Answer the tasks that need no gazetteer: names without a number, blank addresses."""
    results: dict[Task, GeocodeResult] = {}
    for task in tasks:
        kind, text = task[0], task[1]
        if kind == "name" and not _name_spans(text):
            results[task] = _unmatched("", note="no house number in the name", from_name=True)
        elif kind == "address" and not text.strip():
            results[task] = _unmatched("", note="no address")
    return results


def _with_query(res: GeocodeResult, task: Task) -> GeocodeResult:
    """Return a stored answer (keyed on folded text) with this task's own address text."""
    if task[0] == "address" and res.query != task[1].strip():
        return dataclasses.replace(res, query=task[1].strip())
    return res


# ---------------------------------------------------------------------------------------------
# Table level
# ---------------------------------------------------------------------------------------------


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
        The geocoder to use (its store, if any, keeps the answers).
    online
        Override the geocoder's ``online`` setting.
    progress
        Show a progress bar.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points (``None`` when unlocated); the input columns (``lat``/``lon`` filled
        for located rows, ``innovation_type`` as nullable ``Int64``) plus
        :data:`GEOCODE_COLUMNS`:

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
    ValueError
        An ``innovation_type`` value is not 1, 2, 3 or blank (names the row).
    """
    out = pd.DataFrame(df).copy()
    if "innovation_type" in out.columns:  # nullable Int64 whatever the caller read it as
        out["innovation_type"] = innovation_types(out["innovation_type"])
    lat_in, lon_in = _input_coordinates(out)
    has_xy = ~np.isnan(lat_in) & ~np.isnan(lon_in)
    tasks = _row_tasks(out, has_xy)
    t0 = time.perf_counter()
    results = _geocode_tasks(geocoder, tasks, has_xy, online=online, progress=progress)
    columns = _result_columns(tasks, results, has_xy)
    g_lat, g_lon = columns["geocode_lat"], columns["geocode_lon"]
    lat = np.where(has_xy, lat_in, g_lat)
    lon = np.where(has_xy, lon_in, g_lon)
    dist = _coordinate_check(lat, lon, g_lat, g_lon, has_xy)
    out["lat"] = lat
    out["lon"] = lon
    for name in GEOCODE_COLUMNS[:-2]:
        out[name] = columns[name]
    out["coord_check_m"] = dist
    out["coord_flag"] = np.nan_to_num(dist, nan=0.0) > settings.coord_mismatch_m
    gdf = _with_points(out, lat, lon)
    logger.info("geocoded %d rows in %.2f s: %s", len(out), time.perf_counter() - t0,
                dict(pd.Series(columns["geocode_status"]).value_counts()))
    return gdf


def _text(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value).strip()


def _input_coordinates(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows' own ``lat`` and ``lon`` as floats (NaN when missing or not numeric)."""
    def numbers(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float,
                                                                 na_value=np.nan)

    return numbers("lat"), numbers("lon")


def _row_tasks(frame: pd.DataFrame, has_xy: np.ndarray) -> list[Task | None]:
    """Return each row's task: its address, else (without coordinates) its name, else None."""
    def column(name: str) -> list[str]:
        return [_text(v) for v in frame[name]] if name in frame.columns else [""] * len(frame)

    address, postcode, names = column("address"), column("postcode"), column("name")
    tasks: list[Task | None] = []
    for i in range(len(frame)):
        if address[i]:
            tasks.append(("address", address[i], _clean_postcode(postcode[i]) or "",
                          names[i]))
        elif not has_xy[i] and names[i]:
            tasks.append(("name", names[i], "", ""))
        else:
            tasks.append(None)
    return tasks


def _geocode_tasks(geocoder: Geocoder, tasks: Sequence[Task | None], has_xy: np.ndarray, *,
                   online: bool | None, progress: bool) -> dict[Task, GeocodeResult]:
    """Geocode the distinct tasks; only rows without coordinates may go to Nominatim."""
    to_check = {t for t, xy in zip(tasks, has_xy, strict=True) if t is not None and xy}
    to_locate = {t for t, xy in zip(tasks, has_xy, strict=True) if t is not None and not xy}
    results: dict[Task, GeocodeResult] = {}
    if to_locate:
        results.update(geocoder.geocode_many(to_locate, online=online, progress=progress))
    rest = to_check - set(results)
    if rest:
        results.update(geocoder.geocode_many(rest, online=False, progress=progress))
    return results


def _result_columns(tasks: Sequence[Task | None], results: dict[Task, GeocodeResult],
                    has_xy: np.ndarray) -> dict[str, Any]:
    """Return the :data:`GEOCODE_COLUMNS` (but the coordinate check) of each row's result."""
    n = len(tasks)
    text: dict[str, list[str]] = {k: [] for k in (
        "location_method", "geocode_status", "geocode_query", "matched_address",
        "matched_street_code", "matched_postcode", "matched_census_section", "geocode_note")}
    score, g_lat, g_lon = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    from_name = np.zeros(n, dtype=bool)
    for i, task in enumerate(tasks):
        res = results.get(task) if task is not None else None
        # a name without a number was not tried: not geocoded rather than unmatched
        tried = res is not None and not (res.from_name and res.status == "unmatched"
                                         and not res.query)
        text["geocode_status"].append(res.status if res is not None and tried
                                      else "not_geocoded")
        if res is not None and tried:
            score[i] = res.score
        for col, attr in (("geocode_query", "query"), ("geocode_note", "note"),
                          ("matched_address", "matched_address"),
                          ("matched_street_code", "street_code"),
                          ("matched_postcode", "postcode"),
                          ("matched_census_section", "census_section")):
            text[col].append(getattr(res, attr) if res is not None else "")
        if res is not None and res.located:
            g_lat[i], g_lon[i] = res.lat, res.lon
            from_name[i] = res.from_name
        text["location_method"].append(
            "input" if has_xy[i] else res.provider if res is not None and res.located
            else "none")
    return {**text, "geocode_score": score, "geocode_lat": g_lat, "geocode_lon": g_lon,
            "address_from_name": from_name & ~has_xy}


def _coordinate_check(lat: np.ndarray, lon: np.ndarray, g_lat: np.ndarray, g_lon: np.ndarray,
                      has_xy: np.ndarray) -> np.ndarray:
    """Metres (EPSG:25831) between a row's own point and its geocoded address (NaN: none)."""
    from pyproj import Transformer

    check = has_xy & ~np.isnan(g_lat)
    dist = np.full(len(lat), np.nan)
    if check.any():
        to_work = Transformer.from_crs(settings.crs_store, settings.crs_work, always_xy=True)
        x1, y1 = to_work.transform(lon[check], lat[check])
        x2, y2 = to_work.transform(g_lon[check], g_lat[check])
        dist[check] = np.round(np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2), 1)
    return dist


def _with_points(frame: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> gpd.GeoDataFrame:
    """Return ``frame`` as EPSG:4326 points (``None`` where ``lat``/``lon`` are NaN)."""
    import geopandas as gpd

    has_point = ~np.isnan(lat) & ~np.isnan(lon)
    geometry = gpd.points_from_xy(np.where(has_point, lon, 0.0), np.where(has_point, lat, 0.0),
                                  crs=settings.crs_store)
    geoms = np.asarray(geometry, dtype=object)
    geoms[~has_point] = None
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs=settings.crs_store)
