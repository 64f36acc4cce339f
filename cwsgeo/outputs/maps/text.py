"""Text for map pages: values formatted by their column's unit, escaped HTML, safe JSON.

Every data-derived text reaches a page through one of these functions: :func:`popup_html`
(escaped HTML for popups and tooltips), :func:`format_value` (plain text with units) and the
private JSON encoders that make data safe inside a ``<script>`` element.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..._text import is_missing
from .palette import LOCATION_TEXT, PROXIMITY_METHOD_TEXT

__all__ = ["RawJSON", "format_value", "format_values", "popup_html"]

#: Colour of anything without a colour of its own (and of unsafe colour values).
OTHER_COLOR = "#999999"

_COLOR_RE = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")


def _color(value: str) -> str:
    """Return the colour if it is safe in a style attribute, else grey."""
    return value if isinstance(value, str) and _COLOR_RE.match(value) else OTHER_COLOR


def _number(value: float) -> str:
    """About three significant digits, thousands separated: 12,345 · 123 · 12.3 · 1.23."""
    a = abs(value)
    if a >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:,.1f}"
    if a >= 0.01:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def _number_format(column: str) -> Callable[[float], str]:
    """Return the formatter of finite numbers of a column, by the unit its name carries."""
    if column.endswith("_min") and not re.search(r"_\d+min$", column):
        return lambda v: f"{v:,.1f} min"
    if column.endswith("_m"):
        return lambda v: f"{v:,.0f} m"
    if column.endswith("_km2") and not column.endswith("_per_km2"):
        return lambda v: f"{v:,.2f} km²"
    if column.startswith("lq"):
        return lambda v: f"{v:.2f}"
    if re.search(r"_\d+min$", column) or column in ("residents", "spaces", "places", "stops"):
        return lambda v: f"{v:,.0f}"
    return _number


def _text_format(column: str) -> Callable[[str], str]:
    """Return the formatter of texts of a column (codes of methods and statuses in words)."""
    if column == "proximity_method":
        return lambda t: PROXIMITY_METHOD_TEXT.get(t, t.replace("_", " "))
    if column in ("geocode_status", "location_method"):
        return lambda t: LOCATION_TEXT.get(t, t.replace("_", " "))
    return str


def _format_number(v: float, column: str) -> str | None:
    """Format a float as text with the unit its column name carries."""
    return _number_format(column)(v) if math.isfinite(v) else None


def format_value(value: Any, column: str = "") -> str | None:
    """Format a value for a popup or tooltip, using the unit its column name carries.

    Column names follow cwsgeo's convention (unit and threshold in the name): ``*_min`` are
    minutes, ``*_m`` metres, ``*_km2`` square kilometres, ``lq_*`` location quotients, counts
    within a threshold (``residents_10min``) are whole numbers.

    Parameters
    ----------
    value
        Any scalar; missing values (None, NA, NaN) give ``None``.
    column
        The column the value comes from.

    Returns
    -------
    str or None
        Plain text (not escaped).

    Examples
    --------
    >>> format_value(6.345, "metro_walk_min"), format_value(412.7, "metro_walk_m")
    ('6.3 min', '413 m')
    >>> format_value(12345.4, "residents_10min"), format_value(1.234, "lq_spaces")
    ('12,345', '1.23')
    >>> format_value("straight_line", "proximity_method"), format_value(float("nan"))
    ('straight line (far from the network)', None)
    """
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)) and not column.endswith(("_min", "_m", "_km2")):
        return f"{int(value):,}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _format_number(float(value), column)
    return _text_format(column)(str(value))


def format_values(values: Iterable[Any], column: str = "") -> list[str | None]:
    """Format the values of a column: :func:`format_value` of each, the unit read once.

    Examples
    --------
    >>> format_values([6.345, float("nan"), None, 2], "metro_walk_min")
    ['6.3 min', None, None, '2.0 min']
    """
    number, text = _number_format(column), _text_format(column)
    counts = not column.endswith(("_min", "_m", "_km2"))  # ints as whole numbers
    out: list[str | None] = []
    for v in values:
        kind = type(v)
        if kind is float:  # most cells: one test, one format
            out.append(number(v) if math.isfinite(v) else None)
        elif kind is str:
            out.append(text(v))
        elif v is None or v is pd.NA:
            out.append(None)
        elif kind is int and counts:  # e.g. the cells of an Int64 column
            out.append(f"{v:,}")
        else:
            out.append(format_value(v, column))
    return out


def popup_html(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """Build popup or tooltip HTML from a title and (label, value) rows, escaping every text.

    Rows whose value is missing are left out; floats get one decimal (format them first with
    :func:`format_value` for units).

    Examples
    --------
    >>> popup_html("<b>x</b>", [("Type", "2 & more"), ("Empty", None)])
    '<div class="cws-popup"><div class="cws-popup-title">&lt;b&gt;x&lt;/b&gt;</div><table>\
<tr><th>Type</th><td>2 &amp; more</td></tr></table></div>'
    """
    cells = []
    for label, value in rows:
        if is_missing(value):
            continue
        if isinstance(value, (float, np.floating)):
            value = f"{value:,.1f}"
        cells.append(f"<tr><th>{html.escape(str(label))}</th>"
                     f"<td>{html.escape(str(value))}</td></tr>")
    table = f"<table>{''.join(cells)}</table>" if cells else ""
    return (f'<div class="cws-popup"><div class="cws-popup-title">{html.escape(str(title))}'
            f"</div>{table}</div>")


def _js(obj: Any) -> str:
    """Return compact JSON that is safe inside a ``<script>`` element.

    Inside script content only ``</`` (which could close the element) and ``<!--`` (which
    changes how the HTML parser reads the rest) matter; both are escaped, so HTML-heavy
    tooltips keep their size (a backslash before the slash does not change the string).
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class RawJSON(str):
    """JSON text that is already serialised (e.g. from a display store): embedded as is."""

    __slots__ = ()


def _js_data(obj: Any) -> str:
    """Return a JavaScript expression for large data: ``JSON.parse('…')``.

    Browsers parse a JSON string much faster than the same object literal, and the quoting
    adds almost no bytes. Safe inside a ``<script>`` element like :func:`_js`.
    """
    text = obj if isinstance(obj, RawJSON) else json.dumps(
        obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    lit = (text.replace("\\", "\\\\").replace("'", "\\'").replace("</", "<\\/")
           .replace("<!--", "\\x3C!--").replace("\u2028", "\\u2028")
           .replace("\u2029", "\\u2029"))
    return f"JSON.parse('{lit}')"


def _b64(values: Any, dtype: str) -> str:
    """Little-endian bytes of ``values`` as base64 (read by ``cwsInts`` in ``maps.js``).

    Examples
    --------
    >>> _b64([1, 2, 258], "<u2")
    'AQACAAIB'
    """
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def _latlon_b64(lat: Any, lon: Any) -> dict[str, str]:
    """Latitudes and longitudes as base64 int32 microdegrees: ``{"lat": …, "lon": …}``.

    Examples
    --------
    >>> _latlon_b64([41.0], [2.5])
    {'lat': 'QJxxAg==', 'lon': 'oCUmAA=='}
    """
    return {"lat": _b64(np.round(np.asarray(lat, dtype=float) * 1e6), "<i4"),
            "lon": _b64(np.round(np.asarray(lon, dtype=float) * 1e6), "<i4")}


def _text_column(values: Iterable[str | None]) -> dict[str, Any]:
    """Return texts compactly for a page: each distinct text once.

    ``{"t": table, "c": codes, "w": 1 or 2}`` when that is shorter (texts repeat, or most
    are missing): the codes are ``w``-byte integers, base64 (0 = no text, ``k`` =
    ``table[k - 1]``); ``{"k": text}`` when every row has the same text (or none); else
    ``{"v": texts}`` (``null``: no text). ``cwsColumn`` in ``static/maps.js`` reads them all.
    The texts stay plain: pages show them with ``textContent``.

    Examples
    --------
    >>> _text_column(["a", "b", "a", None, "a"])
    {'t': ['a', 'b'], 'c': 'AQIBAAE=', 'w': 1}
    >>> _text_column(["x", "y", "z"]), _text_column([None, None])
    ({'v': ['x', 'y', 'z']}, {'k': None})
    """
    texts = [None if v is None else str(v) for v in values]
    if texts and texts.count(texts[0]) == len(texts):
        return {"k": texts[0]}  # one text (or none) for every row
    # codes in order of first appearance (0: no text), counted in C
    found, distinct = pd.factorize(np.array(texts, dtype=object))
    codes = found + 1
    table = distinct.tolist()
    width = 1 if len(table) < 2 ** 8 else 2
    sizes = np.array([len(t) + 3 for t in table], dtype=np.int64)
    listed = int(sizes[found[found >= 0]].sum()) + 5 * int((found < 0).sum())
    if len(table) >= 2 ** 16 or listed <= int(sizes.sum()) + 1.34 * width * len(
            codes):  # mostly distinct: no table
        return {"v": texts}
    return {"t": table, "c": _b64(codes, f"<u{width}"), "w": width}


def _layer_name(text: str) -> str:
    """Layer-control labels are HTML in Leaflet: escape them."""
    return html.escape(text)


def _jsonable(value: Any) -> Any:
    """Return a value as plain JSON data (numpy scalars unwrapped, NaN as null)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if is_missing(value):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 6) if math.isfinite(value) else None
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if isinstance(value, (int, str, bool)) else str(value)
