"""Innovation types on the maps: confirmed (declared or reviewed) and estimated views.

``innovation_type`` holds the confirmed type (declared in the inventory, else reviewed with
``cwsgeo classify``); ``innovation_type_estimated`` the listing-text screen's estimate, to be
confirmed. A page shows one view at a time (a switch in the spaces' legend); it opens on the
confirmed types when there are any, else on the estimates, and says so. The legend of each
view counts the spaces per type (drawn of all), per type source and per location precision,
and lists the spaces known only by area.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..._text import is_missing
from ...schema import INNOVATION_LABELS, INNOVATION_TYPES
from .furniture import legend_html, legend_item_html
from .palette import INNOVATION_COLORS
from .precision import radius_text

__all__ = ["TypeView", "has_types", "type_key", "type_label", "type_views", "view_items",
           "view_legend_html", "with_innovation_label"]

#: The views: (key, type column, label in the switch).
VIEWS: tuple[tuple[str, str, str], ...] = (
    ("confirmed", "innovation_type", "Confirmed types (declared or reviewed)"),
    ("estimated", "innovation_type_estimated",
     "Estimated types (from listing text — to be confirmed)"),
)
_CLASSIFY = "run `cwsgeo classify` to review them"


def type_key(value: Any) -> int | None:
    """Return the innovation type of a value (1, 2, 3), or None when unclassified.

    Missing values (None, NaN, ``pd.NA``) and values outside the study's types are
    unclassified.
    """
    if is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and int(number) in INNOVATION_TYPES else None


def type_label(key: int | None) -> str:
    """Legend label of an innovation type."""
    return f"Type {key}: {INNOVATION_LABELS[key]}" if key is not None else "Unclassified"


def _types(spaces: pd.DataFrame, column: str = "innovation_type") -> list[int | None]:
    col = spaces[column] if column in spaces else pd.Series(pd.NA, spaces.index, dtype="Int64")
    keys: dict[Any, int | None] = {}  # type_key of each distinct value, once
    out: list[int | None] = []
    for v in col.tolist():
        if type(v) is float and v != v:  # NaN: no type (and no use as a dict key)
            out.append(None)
            continue
        try:
            out.append(keys[v])
        except KeyError:
            out.append(keys.setdefault(v, type_key(v)))
    return out


def has_types(spaces: pd.DataFrame, column: str = "innovation_type") -> bool:
    """Whether any space has an innovation type (1, 2 or 3) in ``column``."""
    return any(k is not None for k in _types(spaces, column))


def _type_text(key: int | None, suffix: str) -> str | None:
    return f"{key}: {INNOVATION_LABELS[key]} ({suffix})" if key is not None else None


def with_innovation_label(spaces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy of ``spaces`` with the display columns of the popups.

    ``innovation_label`` (added when missing), ``type_confirmed_text``,
    ``type_estimated_text`` and ``location_text`` (precision and radius).
    """
    spaces = spaces.copy()
    confirmed = _types(spaces)
    if "innovation_label" not in spaces:
        spaces["innovation_label"] = [INNOVATION_LABELS[k] for k in confirmed]
    source = (spaces["innovation_type_source"].astype("string").fillna("none").tolist()
              if "innovation_type_source" in spaces else ["declared"] * len(spaces))
    has_estimates = "innovation_type_estimated" in spaces
    spaces["type_confirmed_text"] = [
        _type_text(k, s if s in ("declared", "reviewed") else "confirmed") if k is not None
        else ("not confirmed yet" if has_estimates else None)
        for k, s in zip(confirmed, source, strict=True)]
    spaces["type_estimated_text"] = [_type_text(k, "from listing text, to be confirmed")
                                     for k in _types(spaces, "innovation_type_estimated")]
    if "location_precision" in spaces:
        radius = (spaces["location_radius_m"] if "location_radius_m" in spaces
                  else pd.Series(np.nan, spaces.index))
        spaces["location_text"] = _location_texts(spaces["location_precision"].tolist(),
                                                  radius.tolist())
    return spaces


def _location_texts(precision: list[Any], radius: list[Any]) -> list[str | None]:
    """``"<precision>, ±<radius>"`` of each space (the precision alone without a radius)."""
    texts: dict[tuple[Any, Any], str | None] = {}  # each distinct pair formatted once
    out: list[str | None] = []
    for p, r in zip(precision, radius, strict=True):
        try:
            out.append(texts[(p, r)])
        except KeyError:  # (and NaN radii, never equal to themselves: formatted each time)
            text = None if is_missing(p) else (f"{p}, {radius_text(r)}" if radius_text(r)
                                               else str(p))
            out.append(texts.setdefault((p, r), text))
    return out


@dataclass(frozen=True)
class TypeView:
    """One way of typing the spaces: its key, switch label and each row's type."""

    key: str
    label: str
    keys: list[int | None]

    @property
    def estimated(self) -> bool:
        """Whether the types are estimates (drawn dashed and lighter)."""
        return self.key == "estimated"

    def any_type(self) -> bool:
        """Whether any space has a type in this view."""
        return any(k is not None for k in self.keys)


def type_views(spaces: pd.DataFrame) -> tuple[list[TypeView], int]:
    """Return the views a page offers and the one it opens on.

    Always the confirmed view; the estimated one when ``innovation_type_estimated`` has a
    type. Opens on the confirmed types when there are any, else on the estimates.
    """
    views = [TypeView(key, label, _types(spaces, column)) for key, column, label in VIEWS
             if column == "innovation_type" or has_types(spaces, column)]
    return views, 0 if views[0].any_type() or len(views) == 1 else 1


def source_counts(spaces: pd.DataFrame) -> str:
    """``Types by source: declared 0 · reviewed 6 · estimated 280 · none 3.`` (or empty)."""
    if "innovation_type_source" not in spaces:
        return ""
    counts = spaces["innovation_type_source"].astype("string").fillna("none").value_counts()
    known = ("declared", "reviewed", "estimated", "none")
    parts = [f"{s} {int(counts.get(s, 0)):,}" for s in known]
    parts += [f"{s} {int(n):,}" for s, n in counts.items() if s not in known]
    return "Types by source: " + " · ".join(parts) + "."


def _warning(view: TypeView, views: Sequence[TypeView], n: int) -> str:
    confirmed = views[0].any_type()
    if view.estimated:
        if not confirmed:
            return ("No confirmed types yet: these are estimates from listing texts; "
                    f"{_CLASSIFY}.")
        return ("Estimated from listing texts — to be confirmed; the confirmed types are "
                "in the other view.")
    if confirmed:
        return ""
    if len(views) > 1:
        return (f"No confirmed types yet: all {n:,} spaces unclassified here. See the "
                f"estimated types, or {_CLASSIFY}.")
    return (f"No innovation types in this inventory: all {n:,} spaces unclassified. Add an "
            "innovation_type column (1, 2 or 3) to colour them.")


def _symbol_key(view: TypeView, counts: Mapping[str, int], spans: Mapping[str, str]) -> str:
    """Legend rows: filled vs hollow markers (and dashed ones for estimates), with counts."""
    grey = INNOVATION_COLORS[None]
    base = "cws-swatch cws-swatch-circle"
    rows = [legend_item_html(grey, "Filled: at an address or coordinates"
                             + (f" ({spans['exact']})" if spans.get("exact") else ""),
                             counts.get("exact", 0), base)]
    if counts.get("approximate"):
        rows.append(legend_item_html(
            grey, "Hollow: place named in a listing text" + (
                f" ({spans['approximate']})" if spans.get("approximate") else "")
            + "; hover for its circle", counts["approximate"], f"{base} cws-swatch-hollow"))
    if view.estimated:
        rows.append(legend_item_html(grey, "Dashed and lighter: type estimated, to be "
                                     "confirmed", None, f"{base} cws-swatch-estimated"))
    return '<div class="cws-legend-key">' + "".join(rows) + "</div>"


def _not_drawn_list(areas: Sequence[tuple[str, int]], outside: Sequence[str]) -> str:
    """Return a folded list of the spaces not drawn: per area, and outside the city."""
    parts = []
    if areas:
        n = sum(c for _, c in areas)
        items = "".join(f"<li>{html.escape(a)} {c:,}</li>" for a, c in areas)
        parts.append(f'<details class="cws-area-list"><summary>{n:,} spaces known only by '
                     f"area, not drawn</summary><ul>{items}</ul></details>")
    if outside:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in outside)
        parts.append(f'<details class="cws-outside-list"><summary>{len(outside):,} outside '
                     "the city (their listing texts say so)</summary>"
                     f"<ul>{items}</ul></details>")
    return "".join(parts)


def view_items(view: TypeView, drawn: np.ndarray, typed: bool = True,
               counts_total: bool = True) -> list[tuple[str, str, str]]:
    """Legend items ``(colour, label, "drawn of all")`` per type of a view."""
    items = []
    for key in (*INNOVATION_TYPES, None) if typed else (None,):
        mask = np.array([k == key for k in view.keys], dtype=bool)
        n_all, n = int(mask.sum()), int((mask & drawn).sum())
        items.append((INNOVATION_COLORS[key], type_label(key),
                      f"{n}" + (f" of {n_all}" if counts_total and n_all != n else "")))
    return items


def view_legend_html(view: TypeView, views: Sequence[TypeView], drawn: np.ndarray,
                     spaces: pd.DataFrame, *, counts: Mapping[str, int],
                     spans: Mapping[str, str], areas: Sequence[tuple[str, int]] = (),
                     outside: Sequence[str] = (), counts_total: bool = True) -> str:
    """Return the spaces' legend in one view: types, symbol key, sources, not-drawn lists."""
    typed = any(v.any_type() for v in views)
    items = view_items(view, drawn, typed, counts_total)
    title = ("Innovation type — estimated from listing text, to be confirmed" if view.estimated
             else "Innovation type (confirmed)" if len(views) > 1
             else "Innovation type" if typed else "Coworking spaces")
    note = " ".join(x for x in (source_counts(spaces), "Counts: drawn of all spaces.") if x)
    if not typed:
        note += (" Innovation types of the study behind cwsgeo: "
                 + "; ".join(type_label(k) for k in INNOVATION_TYPES) + ".")
    return legend_html(title, items, note=note, warning=_warning(view, views, len(spaces)),
                       swatch_class="cws-swatch-estimated" if view.estimated else "",
                       extra=_symbol_key(view, counts, spans) + _not_drawn_list(areas, outside))
