"""The building blocks of cwsgeo's page elements: finished text and the static runtime files."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from branca.element import Element

__all__ = ["RawElement", "static_text"]


@cache
def static_text(name: str) -> str:
    """Return a file of ``cwsgeo/outputs/maps/static/``, safe inside ``<script>``/``<style>``."""
    text = (resources.files("cwsgeo.outputs.maps").joinpath("static", name)
            .read_text(encoding="utf-8"))
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


class RawElement(Element):
    """Finished HTML or JavaScript, emitted as is (never compiled as a Jinja template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text
