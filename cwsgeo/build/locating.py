"""Where each space is, and how precisely: text locations and radii in the build.

After geocoding (:func:`~cwsgeo.build.stages.stage_geocode`) and the listing texts
(:mod:`cwsgeo.build.texts`), :func:`stage_text_locations` locates the rows that have neither an
address nor coordinates from their name and texts
(:func:`~cwsgeo.analysis.geocoding.locate_from_text`) and measures the radius of the rows
placed on a street without a number; the result is cached by the gazetteer, admin, places and
transit files and by the rows' names and texts. :func:`attach_locations` writes it into the
spaces and classes every location (``location_radius_m``, ``location_precision``).
:func:`point_spaces` is what point statistics see: the spaces whose radius is at most
``[geocoding] point_radius_m``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from ..outputs.labels import AreaLabels
from .cache import frame_digest
from .profiles import city_lexicon
from .sources import RawData
from .stages import StageContext, file_key

if TYPE_CHECKING:
    from ..analysis.admin import AdminAreas

logger = logging.getLogger(__name__)

__all__ = ["LOCATION_COLUMNS", "attach_locations", "point_spaces", "precision_counts",
           "precision_table", "stage_text_locations"]

#: Text columns the locator reads (the joined listing texts, by language).
TEXT_COLUMNS = ("text_en", "text_es", "text_ca", "text_other")

#: Columns this module adds to the spaces.
LOCATION_COLUMNS = ("location_radius_m", "location_precision", "location_evidence",
                    "outside_city", "location_areas", "unlocated_reason")


def stage_text_locations(ctx: StageContext, spaces: pd.DataFrame, texts: pd.DataFrame | None,
                         raw: RawData, admin: AdminAreas,
                         transit: gpd.GeoDataFrame | None = None) -> pd.DataFrame | None:
    """Locate unlocated spaces from their texts; measure street-only radii (cached).

    Parameters
    ----------
    ctx
        The build's context (config, cache).
    spaces
        Geocoded spaces (``id``, ``name``, ``location_method``, ``geocode_status``,
        ``matched_street_code``).
    texts
        Joined listing texts indexed by id (:func:`~cwsgeo.build.texts.stage_texts`).
    raw, admin
        The raw inputs and the admin areas.
    transit
        The transit layer as the build reads it (:func:`~cwsgeo.build.stages.stage_layers`),
        when the caller has it: else it is read here (on a cache miss).

    Returns
    -------
    pandas.DataFrame or None
        Indexed by id: the text locator's columns with ``lat``/``lon`` for the rows it read,
        and ``location_radius_m`` for street-only rows; ``None`` when there is nothing to do
        (no gazetteer, or every row is located by its address).
    """
    if not raw.paths("addresses"):
        return None
    ids = spaces["id"].astype(str).to_numpy()
    method = spaces["location_method"].astype("string").fillna("none").to_numpy()
    todo = (method == "none") & ctx.cfg.geocoding.from_texts
    streets = pd.Series(
        spaces["matched_street_code"].astype("string").to_numpy()
        if "matched_street_code" in spaces.columns else pd.NA, index=ids)
    streets = streets[(spaces["geocode_status"].astype("string") == "street_only").to_numpy()
                      ].dropna()
    frame = pd.DataFrame({"name": spaces["name"].astype("string").to_numpy()[todo]},
                         index=ids[todo])
    if texts is not None:
        frame = frame.join(texts[[c for c in TEXT_COLUMNS if c in texts.columns]])
    if frame.empty and streets.empty:
        return None
    key = [*file_key(raw.paths("addresses"), raw), *file_key(raw.paths("admin"), raw),
           *file_key(raw.paths("places"), raw), *file_key(raw.paths("transit"), raw),
           frame_digest(frame), frame_digest(streets.to_frame("street")),
           repr(city_lexicon(ctx.cfg.profile)), repr(ctx.cfg.profile.transit)]
    return ctx.cache.cached("text_locations", key,
                            lambda: _locate(ctx, frame, streets, raw, admin, transit))


def _locate(ctx: StageContext, frame: pd.DataFrame, streets: pd.Series, raw: RawData,
            admin: AdminAreas, transit: gpd.GeoDataFrame | None) -> pd.DataFrame:
    from ..analysis.geocoding import build_text_locator, locate_from_text, street_radius_m
    from ..analysis.layers import read_places, read_transit
    from .geocoder import gazetteer_store, offline_geocoder

    store = gazetteer_store(ctx.cfg, read_only=ctx.cache.read_only) if ctx.cache.enabled \
        else None
    lexicon = city_lexicon(ctx.cfg.profile)
    geocoder = offline_geocoder(raw.folder("addresses"), min_score=ctx.cfg.geocoding.min_score,
                                index_store=store, lexicon=lexicon)
    codes = streets.tolist()
    radius = {code: street_radius_m(geocoder.index, code) for code in dict.fromkeys(codes)}
    radii = pd.DataFrame({"location_radius_m": [radius[code] for code in codes]},
                         index=streets.index)
    if frame.empty:
        return radii
    if transit is None and raw.paths("transit"):
        transit = read_transit(raw.paths("transit"), clip=admin.city,
                               rules=ctx.cfg.profile.transit)
    places = (read_places(raw.paths("places"), clip=admin.city, categories=None,
                          city_words=lexicon.city_words)
              if raw.paths("places") else None)
    locator = build_text_locator(geocoder, admin, transit, places, lexicon=lexicon)
    texts = [c for c in TEXT_COLUMNS if c in frame.columns]
    located = locate_from_text(frame, locator, texts=texts)
    located["lat"] = located.geometry.y
    located["lon"] = located.geometry.x
    return pd.concat([pd.DataFrame(located.drop(columns="geometry")), radii])


def attach_locations(spaces: gpd.GeoDataFrame, located: pd.DataFrame | None, *,
                     point_radius_m: float) -> gpd.GeoDataFrame:
    """Write text locations and street radii into the spaces; class every location.

    Parameters
    ----------
    spaces
        Geocoded spaces with ``id``.
    located
        From :func:`stage_text_locations` (``None``: nothing located from texts).
    point_radius_m
        Largest radius of an ``approximate`` point (``[geocoding] point_radius_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``spaces`` with ``location_method`` (``text_*`` for rows located from texts), a
        geometry for them, and :data:`LOCATION_COLUMNS`.
    """
    from ..analysis.geocoding import location_precision, location_radii, unlocated_reasons

    out = spaces.copy()
    ids = out["id"].astype(str)
    for column in ("location_evidence", "location_areas"):
        out[column] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["outside_city"] = pd.Series(pd.NA, index=out.index, dtype="boolean")
    out["location_radius_m"] = np.nan
    if located is not None and not located.empty:
        at = located.reindex(ids.to_numpy())
        at.index = out.index
        out["location_radius_m"] = pd.to_numeric(at["location_radius_m"], errors="coerce")
        if "location_method" in at.columns:
            text = at["location_method"].notna().to_numpy()
            found = text & at["lat"].notna().to_numpy()
            out.loc[found, "location_method"] = at.loc[found, "location_method"]
            for column in ("location_evidence", "location_areas"):
                out.loc[text, column] = at.loc[text, column].replace("", pd.NA)
            out.loc[text, "outside_city"] = at.loc[text, "outside_city"].astype(bool)
            points = gpd.points_from_xy(at.loc[found, "lon"], at.loc[found, "lat"],
                                        crs=settings.crs_store)
            out.loc[found, out.geometry.name] = gpd.GeoSeries(points, index=out.index[found]
                                                              ).to_crs(out.crs)
    out["location_radius_m"] = location_radii(out).round(1)
    out["location_precision"] = location_precision(out, point_radius_m=point_radius_m)
    out["unlocated_reason"] = unlocated_reasons(out)
    return out


def point_spaces(spaces: gpd.GeoDataFrame, point_radius_m: float) -> gpd.GeoDataFrame:
    """Return the spaces as point statistics see them: imprecise locations have no point.

    Rows whose ``location_radius_m`` exceeds ``point_radius_m`` (or is unknown) keep their
    row, with an empty geometry, so every result stays aligned with the inventory.
    """
    from ..analysis.geocoding import point_mask

    if "location_radius_m" not in spaces.columns:
        return spaces
    keep = point_mask(spaces, point_radius_m).to_numpy()
    if keep.all():
        return spaces
    out = spaces.copy()
    out.loc[~keep, out.geometry.name] = None
    return out


def precision_counts(spaces: pd.DataFrame) -> dict[str, int]:
    """Count the spaces per ``location_precision`` (every class, zeros included)."""
    from ..analysis.geocoding import PRECISIONS

    counts = spaces["location_precision"].value_counts() if "location_precision" in spaces \
        else pd.Series(dtype=int)
    return {p: int(counts.get(p, 0)) for p in PRECISIONS}


def precision_table(spaces: pd.DataFrame, point_radius_m: float,
                    labels: AreaLabels | None = None) -> pd.DataFrame:
    """How many spaces of each precision entered each output (``location_precision.csv``).

    Parameters
    ----------
    spaces
        The built spaces (``location_precision``, ``district_code``, ``barri_code``).
    point_radius_m
        ``[geocoding] point_radius_m``, named in the notes.
    labels
        The city's words for its districts and neighbourhoods, in the notes (default: the
        English words); the outputs keep their table names.

    Returns
    -------
    pandas.DataFrame
        One row per output: ``output``, a count per precision class and a ``note``.
    """
    from ..analysis.geocoding import PRECISIONS

    words = labels or AreaLabels()
    precision = spaces["location_precision"].astype(str)
    area = precision == "area"
    point = precision.isin(["exact", "approximate"])
    rows = [
        ("inventory (coworking_spaces.csv)", precision.notna(), "every row, with its radius"),
        ("maps: markers", point, "filled: exact; hollow with its radius: approximate"),
        ("point statistics", point,
         f"walking distances, coverage, kernel densities, hexagons, the `spaces` column of "
         f"{words.districts} and {words.neighbourhoods}: radius at most {point_radius_m:g} m"),
        ("districts: spaces_area_only", area & spaces["district_code"].notna(),
         f"located only by an area whose {words.district} the texts name for sure"),
        ("barris: spaces_area_only", area & spaces["barri_code"].notna(),
         f"located only by an area whose {words.neighbourhood} the texts name for sure"),
    ]
    return pd.DataFrame([
        {"output": name, **{p: int((mask & (precision == p)).sum()) for p in PRECISIONS},
         "note": note} for name, mask, note in rows])
