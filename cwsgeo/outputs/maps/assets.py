"""JavaScript and CSS that the HTML maps need, embedded from installed packages or linked.

Folium links Leaflet, jQuery, Bootstrap and icon fonts from CDNs, so its maps break without
network. cwsgeo's maps need only Leaflet and Leaflet.markercluster, which come from the PyPI
packages ``xstatic-leaflet`` and ``xstatic-leaflet-markercluster``. Map elements get
placeholder URLs (``cwsgeo-asset:NAME``) via :func:`use_assets`; :func:`finalize_html` then
replaces each placeholder with the file's content (``inline``, works offline) or with the
CDN address of the same version (``cdn``, smaller file).
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

__all__ = ["ASSET_NAMES", "add_assets", "finalize_html", "use_assets"]

_PREFIX = "cwsgeo-asset:"


def _xstatic_dir(module: str) -> Path:
    import importlib

    mod = importlib.import_module(f"xstatic.pkg.{module}")
    return Path(mod.BASE_DIR)


def _version(module: str) -> str:
    import importlib

    return str(importlib.import_module(f"xstatic.pkg.{module}").VERSION)


#: name -> (xstatic module, file, CDN URL template taking the version)
_ASSETS: dict[str, tuple[str, str, str]] = {
    "leaflet.js": ("leaflet", "leaflet.js",
                   "https://cdn.jsdelivr.net/npm/leaflet@{v}/dist/leaflet.js"),
    "leaflet.css": ("leaflet", "leaflet.css",
                    "https://cdn.jsdelivr.net/npm/leaflet@{v}/dist/leaflet.css"),
    "markercluster.js": ("leaflet_markercluster", "leaflet.markercluster.js",
                         "https://cdn.jsdelivr.net/npm/leaflet.markercluster@{v}/dist/"
                         "leaflet.markercluster.js"),
    "markercluster.css": ("leaflet_markercluster", "MarkerCluster.css",
                          "https://cdn.jsdelivr.net/npm/leaflet.markercluster@{v}/dist/"
                          "MarkerCluster.css"),
    "markercluster.default.css": ("leaflet_markercluster", "MarkerCluster.Default.css",
                                  "https://cdn.jsdelivr.net/npm/leaflet.markercluster@{v}/"
                                  "dist/MarkerCluster.Default.css"),
}


#: Names of the assets a map element can ask for (see :func:`use_assets`).
ASSET_NAMES: tuple[str, ...] = tuple(_ASSETS)


def _check(names: list[str] | tuple[str, ...]) -> None:
    unknown = [n for n in names if n not in _ASSETS]
    if unknown:
        raise ValueError(f"unknown asset(s) {', '.join(unknown)}; known: {', '.join(_ASSETS)}")


def _cdn_version(module: str) -> str:
    # xstatic versions carry a packaging suffix: "1.9.3.0" -> "1.9.3"
    return ".".join(_version(module).split(".")[:3])


@cache
def _content(name: str) -> str:
    module, file, _ = _ASSETS[name]
    folder = _xstatic_dir(module)
    text = (folder / file).read_text(encoding="utf-8")
    if file.endswith(".css"):
        # inline the images that CSS refers to (e.g. the layer-control icon)
        def embed(match: re.Match[str]) -> str:
            ref = match.group(1).strip("'\"")
            path = folder / ref
            if ref.startswith(("data:", "http")) or not path.exists():
                return match.group(0)
            data = base64.b64encode(path.read_bytes()).decode()
            return f"url(data:image/png;base64,{data})"

        text = re.sub(r"url\(([^)]+)\)", embed, text)
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def use_assets(element: Any, js: list[str], css: list[str]) -> None:
    """Make a folium element load the named assets instead of its default CDN links.

    Parameters
    ----------
    element
        A folium ``Map`` or plugin (anything with ``default_js``/``default_css``).
    js, css
        Asset names, keys of the internal asset table (e.g. ``"leaflet.js"``).
    """
    _check(js)
    _check(css)
    element.default_js = [(n, _PREFIX + n) for n in js]
    element.default_css = [(n, _PREFIX + n) for n in css]


def add_assets(element: Any, js: list[str] | tuple[str, ...] = (),
               css: list[str] | tuple[str, ...] = ()) -> None:
    """Append assets to those an element already loads (each name at most once, in order).

    Map layers that need a plugin call this on the map, e.g. the clustered places layer adds
    ``markercluster.js`` after ``leaflet.js``.

    Parameters
    ----------
    element
        A folium ``Map`` (or anything with ``default_js``/``default_css``).
    js, css
        Asset names, keys of the internal asset table.
    """
    _check(js)
    _check(css)
    have_js = [n for n, _ in element.default_js]
    have_css = [n for n, _ in element.default_css]
    element.default_js = [*element.default_js,
                          *[(n, _PREFIX + n) for n in js if n not in have_js]]
    element.default_css = [*element.default_css,
                           *[(n, _PREFIX + n) for n in css if n not in have_css]]


def finalize_html(html: str, mode: Literal["inline", "cdn"] = "inline") -> str:
    """Replace asset placeholders with embedded content or CDN links.

    Parameters
    ----------
    html
        Rendered folium page.
    mode
        ``"inline"`` embeds every asset (the page works offline); ``"cdn"`` links the same
        versions on jsDelivr.

    Returns
    -------
    str
        The page.

    Raises
    ------
    RuntimeError
        In inline mode, if any external script or stylesheet link is left (the page would
        not work offline).
    """

    def script(match: re.Match[str]) -> str:
        name = match.group(1)
        if mode == "cdn":
            module, _, url = _ASSETS[name]
            return f'<script src="{url.format(v=_cdn_version(module))}"></script>'
        return f"<script>/* {name} (embedded) */\n{_content(name)}\n</script>"

    def style(match: re.Match[str]) -> str:
        name = match.group(1)
        if mode == "cdn":
            module, _, url = _ASSETS[name]
            return f'<link rel="stylesheet" href="{url.format(v=_cdn_version(module))}"/>'
        return f"<style>/* {name} (embedded) */\n{_content(name)}\n</style>"

    html = re.sub(r'<script src="' + _PREFIX + r'([^"]+)"></script>', script, html)
    html = re.sub(r'<link rel="stylesheet" href="' + _PREFIX + r'([^"]+)"\s*/?>', style, html)
    if mode == "inline":
        left = re.findall(r'<(?:script[^>]+src|link[^>]+href)="(https?:[^"]+)"', html)
        if left:
            raise RuntimeError(f"map still links external assets: {left}")
    return html
