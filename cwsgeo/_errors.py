"""Exception classes raised by cwsgeo.

Each subclasses a built-in as well as :class:`CwsgeoError`, so callers can catch precisely
(``except cwsgeo.InventoryError``) or broadly (``except ValueError``). The CLI turns every
:class:`CwsgeoError` into a readable message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .inventory import Problem


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
        One-line summary.
    problems
        Every problem found, each naming file, row and column.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    def __str__(self) -> str:
        from .inventory import format_problems

        return "\n".join([super().__str__(),
                          *format_problems(self.problems, severities=("error",))])


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
