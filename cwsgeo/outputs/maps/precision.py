"""How precisely each space is located, in the words and counts the map pages show.

The build gives every space a ``location_precision`` (see
:mod:`cwsgeo.analysis.geocoding.precision`): ``exact`` and ``approximate`` spaces are drawn
(filled and hollow markers), ``area`` spaces are known only by a barri or district and are
counted by area instead of drawn, ``outside`` and ``none`` spaces are listed with the reason.
Frames without the column (older builds, hand-made frames) count every located row as
``exact``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..._text import as_text, is_missing
from .controls import located_mask, unlocated_reasons
from .palette import UNLOCATED_REASONS

__all__ = ["DRAWN", "area_labels", "area_names", "data_note", "missing_spaces",
           "precision_of", "radius_text"]

#: Precision classes drawn as markers (filled, hollow).
DRAWN: tuple[str, ...] = ("exact", "approximate")
_KNOWN = ("exact", "approximate", "area", "outside", "none")


def precision_of(spaces: gpd.GeoDataFrame | pd.DataFrame) -> np.ndarray:
    """Precision class of every row (``exact``, ``approximate``, ``area``, ``outside``, ``none``).

    A row without geometry is never drawn (``none``, or ``outside`` when said so); a located
    row without a known class is ``exact``.
    """
    located = (located_mask(spaces) if isinstance(spaces, gpd.GeoDataFrame)
               else np.ones(len(spaces), bool))
    if "location_precision" not in spaces:
        return np.where(located, "exact", "none").astype(object)
    raw = spaces["location_precision"].astype("string").str.strip().str.lower().fillna("none")
    out = np.array([v if v in _KNOWN else "exact" for v in raw.tolist()], dtype=object)
    drawable = np.isin(out, ("exact", "approximate", "area"))
    out[drawable & ~located] = "none"
    out[~drawable & located & (out != "outside")] = "exact"
    return out


def radius_text(metres: Any) -> str:
    """``±25 m``, ``±400 m``, ``±1.2 km`` (empty when unknown).

    Examples
    --------
    >>> radius_text(25.0), radius_text(412.3), radius_text(1234.0), radius_text(None)
    ('±25 m', '±410 m', '±1.2 km', '')
    """
    if is_missing(metres):
        return ""
    r = float(metres)
    if r >= 1000:
        return f"±{r / 1000:.1f} km"
    return f"±{r:.0f} m" if r < 100 else f"±{round(r, -1):.0f} m"


def _code(prefix: str, value: Any) -> str:
    text = as_text(value).strip().lstrip("BDbd")
    return prefix + (str(int(text)) if text.isdigit() else text)


def area_names(admin: Any = None, spaces: pd.DataFrame | None = None) -> dict[str, str]:
    """Names of the area codes of ``location_areas`` (``B6``, ``D2`` …): barris and districts.

    From the administrative areas when given, else from the spaces' own ``barri_name`` and
    ``district_name``.
    """
    names: dict[str, str] = {}
    tables = [(getattr(admin, "barris", None), "B", "barri"),
              (getattr(admin, "districts", None), "D", "district")]
    if spaces is not None:
        tables += [(spaces, "B", "barri"), (spaces, "D", "district")]
    for table, prefix, kind in tables:
        if table is None or f"{kind}_code" not in table or f"{kind}_name" not in table:
            continue
        codes = table[f"{kind}_code"].tolist()
        pairs = dict.fromkeys(zip(map(type, codes), codes,  # each pair once, in order
                                  table[f"{kind}_name"].tolist(), strict=True))
        for _, code, name in pairs:
            if not is_missing(code) and as_text(name):
                names.setdefault(_code(prefix, code), as_text(name))
    return names


def area_labels(spaces: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    """Return the area each space is known by: the first barri or district its texts name.

    Without named areas (a landmark with a wide radius), the barri (else district) of its
    point.
    """
    codes = (spaces["location_areas"] if "location_areas" in spaces
             else pd.Series(None, spaces.index, dtype=object))
    barri = spaces["barri_name"] if "barri_name" in spaces else pd.Series(None, spaces.index)
    district = (spaces["district_name"] if "district_name" in spaces
                else pd.Series(None, spaces.index))
    out = []
    for raw, b, d in zip(codes.tolist(), barri.tolist(), district.tolist(), strict=True):
        first = [c.strip() for c in as_text(raw).split(";") if c.strip()][:1]
        label = (names.get(_code(first[0][0].upper(), first[0]), first[0]) if first
                 else as_text(b) or as_text(d))
        out.append(label or "wide radius, area uncertain")
    return out


def _count_text(pairs: Sequence[tuple[str, int]], top: int | None = None) -> str:
    shown = pairs if top is None else pairs[:top]
    text = ", ".join(f"{a} {n}" for a, n in shown)
    return text + (f" and {len(pairs) - len(shown)} more areas" if len(pairs) > len(shown)
                   else "")


def area_counts(spaces: pd.DataFrame, precision: np.ndarray,
                names: Mapping[str, str]) -> list[tuple[str, int]]:
    """``(area, spaces known only by it)``, most first."""
    mask = precision == "area"
    labels = area_labels(spaces.loc[mask], names) if mask.any() else []
    return sorted(Counter(labels).items(), key=lambda kv: (-kv[1], kv[0]))


def not_drawn_reasons(spaces: pd.DataFrame, precision: np.ndarray,
                      names: Mapping[str, str]) -> list[str]:
    """Why each row is not drawn as a point ("" for drawn rows)."""
    out = [""] * len(spaces)
    radius = (spaces["location_radius_m"] if "location_radius_m" in spaces
              else pd.Series(np.nan, spaces.index))
    area = area_labels(spaces, names)
    legacy = unlocated_reasons(spaces, UNLOCATED_REASONS)
    texts = (pd.to_numeric(spaces["n_texts"], errors="coerce").fillna(0).to_numpy()
             if "n_texts" in spaces else None)
    status = (spaces["geocode_status"].astype("string").fillna("") if "geocode_status" in spaces
              else pd.Series("", spaces.index)).tolist()
    for i, p in enumerate(precision):
        if p == "area":
            r = radius_text(radius.iloc[i])
            out[i] = f"known only by area: {area[i]}" + (f" ({r})" if r else "")
        elif p == "outside":
            out[i] = "outside the city (its listing text says so)"
        elif p == "none":
            if texts is None:
                out[i] = legacy[i]
                continue
            addr = ("address not found in the gazetteer" if status[i] == "unmatched"
                    else "no street address")
            out[i] = addr + (", no place named in its listing texts" if texts[i] > 0
                             else ", no listing text")
    return out


def missing_spaces(spaces: gpd.GeoDataFrame,
                   names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """``(name, why not on the map)`` of the spaces not drawn as points (for the search box)."""
    prec = precision_of(spaces)
    why = not_drawn_reasons(spaces, prec, names or area_names(spaces=spaces))
    col = spaces["name"] if "name" in spaces else pd.Series("", spaces.index)
    return [(as_text(n), w) for n, w, p in zip(col.tolist(), why, prec, strict=True)
            if p not in DRAWN]


def _span(radius: pd.Series) -> str:
    r = pd.to_numeric(radius, errors="coerce").dropna()
    if not len(r):
        return ""
    lo, hi = radius_text(r.min()), radius_text(r.max())
    if lo == hi:
        return lo
    unit = lo.rsplit(" ", 1)[-1]
    return (f"{lo.rsplit(' ', 1)[0]}–{hi.lstrip('±')}" if hi.endswith(" " + unit)
            else f"{lo}–{hi.lstrip('±')}")


def precision_spans(spaces: pd.DataFrame, precision: np.ndarray) -> dict[str, str]:
    """Radius range of each drawn precision class (``{"exact": "±25–60 m", ...}``)."""
    radius = (spaces["location_radius_m"] if "location_radius_m" in spaces
              else pd.Series(np.nan, spaces.index))
    return {p: _span(radius[precision == p]) for p in DRAWN}


def _located_extra(spaces: pd.DataFrame, drawn: np.ndarray) -> list[str]:
    extra = []
    if "geocode_status" in spaces and "location_precision" not in spaces:
        street = int(((spaces["geocode_status"].astype("string") == "street_only")
                      .fillna(False).to_numpy(dtype=bool) & drawn).sum())
        if street:
            extra.append(f"{street} placed on {'its' if street == 1 else 'their'} street only, "
                         "no house number match")
    if "in_city" in spaces:
        inside = spaces["in_city"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        outside = int((drawn & ~inside).sum())
        if outside:
            extra.append(f"{outside} outside the city boundary")
    return extra


def data_note(spaces: pd.DataFrame, located: np.ndarray | None = None,
              names: Mapping[str, str] | None = None) -> list[str]:
    """Lines saying how many spaces are on the map, by precision, and why the others are not.

    Drawn spaces are counted as filled (``exact``) and hollow (``approximate``); spaces
    known only by area are counted per area; the others by reason (no address and no place
    in the listing texts, no listing text, outside the city; without the text columns the
    ``geocode_status`` in plain words).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"location_method": ["gazetteer", "none", "none"],
    ...                   "geocode_status": ["street_only", "not_geocoded", "unmatched"]})
    >>> data_note(t)  # doctest: +NORMALIZE_WHITESPACE
    ['1 of 3 spaces on the map (1 placed on its street only, no house number match).',
     'Not located: 1 no street address with a house number to look up; 1 address not found
      in the official street gazetteer.']
    """
    n = len(spaces)
    if located is None:
        located = (spaces["location_method"].astype("string").fillna("none") != "none"
                   ).to_numpy(dtype=bool) if "location_method" in spaces else np.ones(n, bool)
    prec = precision_of(spaces)
    prec[~located & np.isin(prec, ("exact", "approximate", "area"))] = "none"
    prec[located & (prec == "none")] = "exact"
    drawn = np.isin(prec, DRAWN)
    extra = _located_extra(spaces, drawn)
    head = f"{int(drawn.sum()):,} of {n:,} spaces on the map"
    if "location_precision" in spaces:
        spans = precision_spans(spaces, prec)
        head += (f": {int((prec == 'exact').sum()):,} at an address or coordinates (filled"
                 + (f", {spans['exact']}" if spans["exact"] else "")
                 + f"); {int((prec == 'approximate').sum()):,} placed from their listing "
                 "texts (hollow" + (f", {spans['approximate']}" if spans["approximate"]
                                    else "") + ")")
    lines = [head + (f" ({'; '.join(extra)})." if extra else ".")]
    names = names or area_names(spaces=spaces)
    areas = area_counts(spaces, prec, names)
    if areas:
        lines.append(f"{int((prec == 'area').sum()):,} known only by their area, not drawn: "
                     f"{_count_text(areas, top=4)} (all in the legend).")
    gone = np.isin(prec, ("outside", "none"))
    if gone.any():
        why = pd.Series(not_drawn_reasons(spaces.loc[gone], prec[gone], names))
        parts = [f"{c:,} {r}" for r, c in why.value_counts().items()]
        lines.append("Not located: " + "; ".join(parts) + ".")
    return lines
