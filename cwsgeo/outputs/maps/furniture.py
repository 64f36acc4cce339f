"""Page furniture: style, legends, attribution, title, safe popups, the ready marker.

Every text that comes from data is escaped here (legend labels, titles, credits) or passed to
Leaflet as a JSON string (popups, tooltips), never as HTML source or template text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

import folium
import numpy as np
from branca.element import MacroElement
from folium.map import CustomPane, Layer
from jinja2 import Template

from .elements import RawElement, static_text
from .palette import PANES
from .text import _color, _js

__all__ = [
    "Legend",
    "SafePopup",
    "SafeTooltip",
    "add_attribution",
    "add_legend",
    "add_ready_marker",
    "add_title",
    "credits_html",
    "legend_html",
    "legend_item_html",
]


def setup_page(m: folium.Map) -> None:
    """Add the style sheet, the runtime script and the map panes once (layer helpers call it)."""
    if getattr(m, "_cws_setup", False):
        return
    m._cws_setup = True  # type: ignore[attr-defined]
    root = m.get_root()
    root.header.add_child(RawElement(f"<style>{static_text('maps.css')}</style>"),  # type: ignore[attr-defined]
                          name="cws_style")
    runtime = "".join(static_text(f) for f in ("maps.js", "controls.js", "spaces.js"))
    root.script.add_child(RawElement(runtime), name="cws_runtime", index=0)  # type: ignore[attr-defined]
    for name, z in PANES.items():
        m.add_child(CustomPane(name, z_index=z, pointer_events=False),
                    name=f"pane_{name.replace('-', '_')}")
    m.add_child(_PageSetup(), name="cws_page_setup")


class _PageSetup(MacroElement):
    """Tooltips above the controls (see ``cwsTooltipsOnTop`` in ``static/controls.js``)."""

    _template = Template("""
{% macro script(this, kwargs) %}
    cwsTooltipsOnTop({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "cws_page_setup"


def add_runtime(m: folium.Map, name: str) -> None:
    """Add a script of ``static/`` to the page once (before the elements that use it)."""
    m.get_root().script.add_child(RawElement(static_text(name)),  # type: ignore[attr-defined]
                                  name=f"cws_runtime_{name}", index=1)


def legend_item_html(color: str, label: str, count: Any = None,
                     swatch: str = "cws-swatch cws-swatch-circle") -> str:
    """One legend row: a swatch (CSS classes ``swatch``), the label and a count; escaped."""
    n = "" if count is None else html.escape(
        f"{count:,}" if isinstance(count, (int, np.integer)) else str(count))
    return (f'<div class="cws-legend-item"><span class="{html.escape(swatch)}" '
            f'style="background:{_color(color)}"></span>'
            f'<span class="cws-legend-label">{html.escape(str(label))}</span>'
            + (f'<span class="cws-legend-count">{n}</span>' if n else "") + "</div>")


def legend_html(title: str, items: Sequence[tuple[str, str, Any]], note: str = "",
                shape: str = "circle", warning: str = "", swatch_class: str = "",
                extra: str = "") -> str:
    """Return the inner HTML of a legend (click the title to fold it); every text is escaped.

    Parameters
    ----------
    title
        Legend heading (say the units).
    items
        ``(colour, label, count)`` per category or class; ``count`` may be ``None``.
    note
        Small print under the items (units, method, source).
    shape
        ``circle`` (points) or ``square`` (areas).
    warning
        A highlighted note above the items (e.g. what the data lacks).
    swatch_class
        Extra CSS classes of the items' swatches (e.g. ``cws-swatch-estimated``).
    extra
        HTML placed after the items, before the note: build it from escaped parts (e.g.
        :func:`legend_item_html`); it is not escaped here.

    Examples
    --------
    >>> legend_html("A & B", [("#ff0000", "<i>x</i>", 3)])
    '<details open><summary class="cws-legend-title">A &amp; B</summary>\
<div class="cws-legend-item"><span class="cws-swatch cws-swatch-circle" \
style="background:#ff0000"></span><span class="cws-legend-label">&lt;i&gt;x&lt;/i&gt;</span>\
<span class="cws-legend-count">3</span></div></details>'
    """
    swatch = " ".join(["cws-swatch", *(["cws-swatch-circle"] if shape == "circle" else []),
                       *swatch_class.split()])
    parts = [f'<details open><summary class="cws-legend-title">{html.escape(title)}</summary>']
    if warning:
        parts.append(f'<div class="cws-legend-warning">{html.escape(warning)}</div>')
    parts += [legend_item_html(color, label, count, swatch) for color, label, count in items]
    parts.append(extra)
    if note:
        parts.append(f'<div class="cws-legend-note">{html.escape(note)}</div>')
    parts.append("</details>")
    return "".join(parts)


class Legend(MacroElement):
    """A legend: one section of the map's single legend panel (a Leaflet control).

    The panel is created by the first legend, at its ``position``; sections are kept in
    ``order`` (lower first). With ``layers``, the legend is shown only while at least one of
    them is on the map. Every text is escaped (see :func:`legend_html`).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    var {{ this.get_name() }} = cwsLegend({{ this._parent.get_name() }},
        {{ this.position|tojson }}, {{ this.css_class|tojson }}, {{ this.html_js }},
        [{{ this.layer_names|join(', ') }}], {{ this.order|tojson }});
{% endmacro %}
""")

    def __init__(self, title: str, items: Sequence[tuple[str, str, Any]], note: str = "",
                 position: str = "bottomright", shape: str = "circle",
                 layers: Sequence[Layer] = (), css_class: str = "", order: int = 10,
                 warning: str = "") -> None:
        super().__init__()
        self._name = "Legend"
        self.order = int(order)
        if position not in ("bottomleft", "bottomright", "topleft", "topright"):
            raise ValueError(f"unknown legend position {position!r}")
        self.position = position
        self.html_js = _js(legend_html(title, items, note, shape, warning))
        self.layers = list(layers)
        self.css_class = " ".join(["cws-legend", *css_class.split()])

    @property
    def layer_names(self) -> list[str]:
        """JavaScript names of the bound layers."""
        return [layer.get_name() for layer in self.layers]


def add_legend(m: folium.Map, title: str, items: Sequence[tuple[str, str, Any]],
               note: str = "", position: str = "bottomright", shape: str = "circle",
               layers: Sequence[Layer] = (), css_class: str = "", order: int = 10,
               warning: str = "") -> Legend:
    """Add a legend (categories or classes).

    Parameters
    ----------
    m
        The map.
    title
        Legend heading.
    items
        ``(colour, label, count)`` per category; ``count`` may be ``None``.
    note
        Small print under the items.
    position
        Corner of the legend panel when this legend creates it: ``bottomleft``,
        ``bottomright``, ``topleft`` or ``topright``.
    shape
        ``circle`` (points) or ``square`` (areas).
    layers
        Show the legend only while one of these layers is on the map (add the legend after
        the layers).
    css_class
        Extra CSS classes of the box (test hooks, e.g. ``cws-legend-transit``).
    order
        Place in the panel (lower first; the spaces' legend is 0).
    warning
        A highlighted note above the items.

    Returns
    -------
    Legend
    """
    setup_page(m)
    legend = Legend(title, items, note, position, shape, layers, css_class, order, warning)
    m.add_child(legend)
    return legend


def _short_credit(text: str) -> str:
    """Return the name a credit starts with (``"Stops: TMB, … — data 2026"`` -> ``"Stops"``)."""
    head = re.split(r" \(| — | – |, |: ", text, maxsplit=1)[0].strip()
    return head or text


def credits_html(texts: Iterable[str]) -> str:
    """One line of short source names and a "Sources" box listing each full credit once.

    Examples
    --------
    >>> credits_html(["A & B (x), CC BY", "A & B (y)", "Stops: T — data 2026"])
    '<span class="cws-credit-line">Data: A &amp; B · Stops</span> <details \
class="cws-sources"><summary>Sources</summary><ul><li>A &amp; B (x), CC BY</li><li>A &amp; B \
(y)</li><li>Stops: T — data 2026</li></ul></details>'
    """
    full = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    if not full:
        return ""
    short = list(dict.fromkeys(_short_credit(t) for t in full))
    items = "".join(f"<li>{html.escape(t)}</li>" for t in full)
    return (f'<span class="cws-credit-line">Data: {html.escape(" · ".join(short))}</span> '
            f'<details class="cws-sources"><summary>Sources</summary><ul>{items}</ul></details>')


class _Attribution(MacroElement):
    _template = Template("""
{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.attributionControl.setPrefix(
        '<a href="https://leafletjs.com">Leaflet</a>');
    {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
{% endmacro %}
""")

    def __init__(self, texts: Iterable[str]) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = credits_html(texts)


def add_attribution(m: folium.Map, texts: Iterable[str]) -> None:
    """Credit data sources: one line of short names and a "Sources" box with each credit once.

    Texts are escaped.
    """
    m.add_child(_Attribution(texts))


class _Title(MacroElement):
    """The title box (a control at the top left, above the zoom buttons) and its data note.

    Then the zoom and full screen buttons and the scale bar (the map is made without them).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    cwsFurniture({{ this._parent.get_name() }}, {{ this.html_js }});
{% endmacro %}
""")

    def __init__(self, title: str, subtitle: str = "", note: Sequence[str] = ()) -> None:
        super().__init__()
        self._name = "Title"
        parts = [f'<div class="cws-title-main">{html.escape(title)}</div>'] if title else []
        if subtitle:
            parts.append(f'<div class="cws-title-sub">{html.escape(subtitle)}</div>')
        if note:
            lines = "".join(f"<div>{html.escape(t)}</div>" for t in note)
            parts.append(f'<div class="cws-data-note">{lines}</div>')
        self.html_js = _js("".join(parts))


def add_title(m: folium.Map, title: str, subtitle: str = "", note: Sequence[str] = ()) -> None:
    """Show a title, a subtitle and a data note (lines) at the top left; texts are escaped.

    Also adds the zoom and full screen buttons below it and the scale bar (once per map).
    """
    setup_page(m)
    m.add_child(_Title(title, subtitle, note))


class SafePopup(MacroElement):
    """A popup whose HTML is passed to Leaflet as a JSON string (folium's needs jQuery).

    Build ``content`` with :func:`~cwsgeo.outputs.maps.popup_html`, which escapes every text.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.{{ this.method }}({{ this.content|tojson }},
        {{ this.options|tojson }});
{% endmacro %}
""")

    method = "bindPopup"

    def __init__(self, content: str, max_width: int = 340) -> None:
        super().__init__()
        self._name = "SafePopup"
        self.content = content
        self.options: dict[str, Any] = {"maxWidth": max_width}


class SafeTooltip(SafePopup):
    """A tooltip passed to Leaflet as a JSON string.

    folium's ``Tooltip`` puts its text in a JavaScript template literal, where a name
    containing a backtick or ``${...}`` would break out and run code. ``content`` is HTML:
    escape data with :func:`html.escape` first.
    """

    method = "bindTooltip"

    def __init__(self, content: str) -> None:
        super().__init__(content)
        self._name = "SafeTooltip"
        self.options = {"sticky": True}


class _Ready(MacroElement):
    """Last script of the page: ``#all-layers`` support and the ``data-cws-ready`` flag."""

    _template = Template("""
{% macro script(this, kwargs) %}
    cwsReady({{ this._parent.get_name() }},
             {% if this.control %}{{ this.control }}.allOverlays(){% else %}null{% endif %});
{% endmacro %}
""")

    def __init__(self, control: str | None) -> None:
        super().__init__()
        self._name = "Ready"
        self.control = control


def add_ready_marker(m: folium.Map) -> None:
    """End the page with the ready marker (``data-cws-ready``) and ``#all-layers`` support."""
    setup_page(m)
    control = next((c.get_name() for c in m._children.values()
                    if getattr(c, "is_layer_control", False)), None)
    m.add_child(_Ready(control), name="cws_ready")
