"""Transit modes of a city: which modes exist and how stations are given one.

The analysis layer knows only generic modes (:data:`cwsgeo.schema.TRANSIT_MODES`: metro,
tram, rail, bus, funicular, ferry) and generic rules. A city whose operators make modes of
their own (Barcelona's FGC and Rodalies, say) describes them in its city profile's
``[transit]`` table; the build layer turns that table into a :class:`TransitModes` and passes
it to :func:`~cwsgeo.analysis.layers.read_transit`,
:func:`~cwsgeo.analysis.layers.fetch_transit_live` and
:func:`~cwsgeo.analysis.layers.osm_transit_mode`, and its :attr:`TransitModes.modes` to the
density and proximity functions.

Examples
--------
>>> from cwsgeo.analysis.layers import TransitModes
>>> TransitModes().modes
('metro', 'tram', 'rail', 'bus', 'funicular', 'ferry')
>>> city = TransitModes(modes=("metro", "tram", "citytrain", "bus"), rail="citytrain")
>>> city.rail_modes
('metro', 'tram', 'citytrain')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from ...schema import TRANSIT_MODES

__all__ = ["GENERIC_STATION_FILES", "TransitModes"]

#: Station-file name keyword -> ``(mode, source)``, checked in this order: a point file named
#: ``*metro*`` with ``id``, ``name`` and ``lines`` holds metro stations of source ``metro``.
GENERIC_STATION_FILES: tuple[tuple[str, str, str], ...] = (
    ("funicular", "funicular", "funicular"),
    ("metro", "metro", "metro"),
    ("subway", "metro", "metro"),
    ("tram", "tram", "tram"),
    ("light_rail", "tram", "tram"),  # before "rail": OSM's light rail is a tram mode
    ("ferry", "ferry", "ferry"),
    ("rail", "rail", "rail"),
    ("train", "rail", "rail"),
    ("bus", "bus", "bus"),
)

#: Which source's attributes a collapsed station keeps: operators' files first, then OSM.
GENERIC_SOURCE_PRIORITY: tuple[str, ...] = (
    "metro", "funicular", "tram", "rail", "ferry", "bus", "osm")

#: Merge distance (m) of the rows of one station, per mode (see
#: :func:`~cwsgeo.analysis.layers.collapse_stations`).
GENERIC_MERGE_M: tuple[tuple[str, float], ...] = (
    ("metro", 500.0), ("rail", 500.0), ("funicular", 200.0), ("ferry", 200.0),
    ("tram", 100.0), ("bus", 15.0))


@dataclass(frozen=True)
class TransitModes:
    """A city's transit modes and the rules that give a station its mode.

    Attributes
    ----------
    modes
        The modes, heaviest rail first (the order of the output columns).
    rail
        Mode of a train that no operator rule claims (``station=train``, ``train=yes``, train
        routes, station files named ``*rail*``/``*train*``).
    operators
        ``(mode, regular expression)``: an OSM element whose ``network``/``operator`` (or its
        stop area's) matches the expression is of that mode; checked in order, after the
        funicular, tram and bus tags and before the train and subway tags. The text is lower
        case.
    metro_operators
        Regular expression of networks/operators that run a metro (besides the word
        ``metro``), checked last.
    station_files
        Station-file name keyword -> ``(mode, source)``, checked before
        :data:`GENERIC_STATION_FILES`.
    source_priority
        Sources whose attributes a collapsed station keeps, preferred first (OSM last).
    merge_m
        ``(mode, metres)`` merge distances of one station's rows, over the generic ones.
    """

    modes: tuple[str, ...] = TRANSIT_MODES
    rail: str = "rail"
    operators: tuple[tuple[str, str], ...] = ()
    metro_operators: str = ""
    station_files: tuple[tuple[str, str, str], ...] = ()
    source_priority: tuple[str, ...] = GENERIC_SOURCE_PRIORITY
    merge_m: tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.modes or len(set(self.modes)) != len(self.modes):
            raise ValueError(f"transit modes must be distinct and not empty: {self.modes}")
        named = [self.rail, *(m for m, _ in self.operators),
                 *(m for _, m, _ in self.station_files), *(m for m, _ in self.merge_m)]
        unknown = sorted({m for m in named if m not in self.modes and m not in TRANSIT_MODES})
        if unknown:
            raise ValueError(f"transit rules name modes that are not among {self.modes}: "
                             f"{', '.join(unknown)}")
        for _, pattern in self.operators:
            re.compile(pattern)
        re.compile(self.metro_operators)

    @property
    def rail_modes(self) -> tuple[str, ...]:
        """Rail transit modes, in :attr:`modes` order: every mode but bus, ferry and funicular.

        The one definition of "rail" for the findings' rail stations and the cities'
        comparison; a funicular's two or three stations serve one hill, not a network.
        """
        return tuple(m for m in self.modes if m not in ("bus", "ferry", "funicular"))

    @property
    def files(self) -> tuple[tuple[str, str, str], ...]:
        """Station-file rules: the city's, then the generic ones (a train file is :attr:`rail`)."""
        generic = tuple((w, self.rail if m == "rail" else m, s)
                        for w, m, s in GENERIC_STATION_FILES)
        return (*self.station_files, *generic)

    @property
    def merge_distances(self) -> dict[str, float]:
        """Merge distance (m) per mode: the generic ones, :attr:`rail`'s, then the city's."""
        generic = dict(GENERIC_MERGE_M)
        return {**generic, self.rail: generic["rail"], **dict(self.merge_m)}

    @cached_property
    def _operator_res(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((mode, re.compile(p)) for mode, p in self.operators)

    def operator_mode(self, text: str) -> str | None:
        """Return the mode whose operator rule matches ``text`` (lower case), else ``None``.

        Parameters
        ----------
        text
            ``network``, ``operator`` and stop-area operator of an element, lower case.
        """
        for mode, pattern in self._operator_res:
            if pattern.search(text):
                return mode
        return None

    def runs_metro(self, text: str) -> bool:
        """Whether ``text`` (lower case) names a metro network or operator.

        Parameters
        ----------
        text
            As for :meth:`operator_mode`.
        """
        return bool(re.search(r"\bmetro\b", text)) or bool(
            self.metro_operators and re.search(self.metro_operators, text))
