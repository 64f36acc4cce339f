"""Exception classes raised by cwsgeo.

Each subclasses a built-in as well as :class:`CwsgeoError`, so callers can catch precisely
(``except cwsgeo.InventoryError``) or broadly (``except ValueError``). The CLI turns every
:class:`CwsgeoError` into a readable message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Finding(Protocol):
    """What an error needs of one problem (:class:`cwsgeo.Problem` is one)."""

    @property
    def file(self) -> str:
        """File name."""

    @property
    def row(self) -> int | None:
        """Spreadsheet row, or ``None`` for the whole file."""

    @property
    def column(self) -> str | None:
        """Column as written in the header, or ``None``."""

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""

    @property
    def code(self) -> str:
        """Stable machine-readable code."""

    @property
    def message(self) -> str:
        """Human-readable explanation."""


class CwsgeoError(Exception):
    """Base class of every error cwsgeo raises on purpose."""


class ConfigError(CwsgeoError, ValueError):
    """The project config file or an option is invalid."""


class MissingDataError(CwsgeoError, FileNotFoundError):
    """An input file or data folder does not exist (names what to run to get it)."""


class InventoryError(CwsgeoError, ValueError):
    """The coworking inventory cannot be used; ``problems`` lists every finding.

    Parameters
    ----------
    message
        The whole message: a one-line summary, then one line per error (the inventory
        formats it, see :func:`cwsgeo.analysis.inventory.format_problems`).
    problems
        Every problem found, each naming file, row and column.
    """

    def __init__(self, message: str, problems: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class DataSourceError(CwsgeoError, RuntimeError):
    """A live source (Overpass, Nominatim, open-data portal) failed or answered badly.

    Parameters
    ----------
    source
        Name of the source, e.g. ``"Overpass"``.
    message
        What went wrong.
    """

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class GeocodingError(CwsgeoError, RuntimeError):
    """The geocoder cannot run (e.g. its gazetteer is missing or malformed)."""
