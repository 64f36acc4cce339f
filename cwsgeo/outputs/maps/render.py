"""Render a folium map to a finished page without ever evaluating data as a template.

branca renders an element in two passes: its Jinja macros produce text, and that text is then
wrapped in ``Element(text)``, which compiles it as a Jinja template and renders it again. A
space named ``{{ 7*7 }}`` would show as ``49`` and a crafted name could run Python at build
time (template injection). :func:`render_page` walks the element tree itself and keeps every
rendered snippet as finished text (:class:`~cwsgeo.outputs.maps.elements.RawElement`);
nothing of branca or folium is patched.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import ElementAddToElement, JSCSSMixin
from folium.map import Class, Layer

from ..._io import write_text
from .assets import finalize_html
from .elements import RawElement
from .furniture import add_ready_marker

logger = logging.getLogger(__name__)

__all__ = ["render_page", "save_map"]


#: ``render`` methods whose only work besides emitting the element's macros is known (and
#: redone by :func:`_render`); elements with any other ``render`` render themselves.
_KNOWN_RENDERS = frozenset({MacroElement.render, JSCSSMixin.render, Class.render,
                            Layer.render, folium.LayerControl.render})


def _prepare(element: MacroElement, figure: Figure) -> None:
    """Do what folium's ``render`` methods do before emitting an element's macros."""
    if isinstance(element, JSCSSMixin):
        from branca.element import CssLink, JavascriptLink

        for name, url in element.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in element.default_css:
            figure.header.add_child(CssLink(url), name=name)
    if isinstance(element, Class) and element.includes:
        from folium.map import IncludeStatement

        stmt = IncludeStatement(element.leaflet_class_name, **element.includes)
        figure.script.add_child(
            RawElement(stmt._template.render(this=stmt, kwargs=element.includes)),
            name=element._name + "_includes", index=-1)
    parent = element._parent
    if isinstance(element, Layer) and element.show and parent is not None:
        element.add_child(ElementAddToElement(element_name=element.get_name(),
                                              element_parent_name=parent.get_name()),
                          name=element.get_name() + "_add")
    if isinstance(element, folium.LayerControl) and parent is not None:
        element.reset()
        for item in parent._children.values():
            if isinstance(item, Layer) and item.control:
                target = element.overlays if item.overlay else element.base_layers
                target[item.layer_name] = item.get_name()


def _render(element: Element, figure: Figure, kwargs: dict[str, Any]) -> None:
    """Render ``element`` and its children into ``figure`` as finished text."""
    if not isinstance(element, MacroElement) or type(element).render not in _KNOWN_RENDERS:
        element.render(**kwargs)  # plain elements, and foreign ones that render themselves
        return
    _prepare(element, figure)
    macros = element._template.module.__dict__
    for part, target in (("header", figure.header), ("html", figure.html),
                         ("script", figure.script)):
        macro = macros.get(part)
        if macro is not None:
            target.add_child(RawElement(str(macro(element, kwargs))), name=element.get_name())
    for child in list(element._children.values()):
        _render(child, figure, kwargs)


def render_page(m: folium.Map) -> str:
    """Render a folium map to HTML without evaluating template syntax found in the data.

    Elements of cwsgeo and folium's map, layers, panes and controls are rendered here with
    their macros' output kept as finished text. Other elements (e.g. ``folium.GeoJson`` added
    through ``extra_layers``) render themselves as folium does.

    Parameters
    ----------
    m
        The map.

    Returns
    -------
    str
        The page.
    """
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("render_page: the map is not in a folium Figure")
    kwargs: dict[str, Any] = {}
    for child in list(figure._children.values()):
        _render(child, figure, kwargs)
    return str(figure._template.render(this=figure, kwargs=kwargs))


def save_map(m: folium.Map, path: str | Path,
             assets: Literal["inline", "cdn"] = "inline") -> Path:
    """Render a map and write it atomically.

    The page gets a last small script that sets ``data-cws-ready`` on ``<html>`` (ms since
    navigation start, after Leaflet has drawn) and shows every layer when opened with
    ``#all-layers``.

    Parameters
    ----------
    m
        The map.
    path
        Destination ``.html``.
    assets
        ``inline`` embeds Leaflet and plugins (works offline); ``cdn`` links them.

    Returns
    -------
    Path
    """
    add_ready_marker(m)
    page = finalize_html(render_page(m), assets)
    path = write_text(path, page)
    logger.info("map %s: %.2f MB", path, len(page.encode("utf-8")) / 1e6)
    return path
