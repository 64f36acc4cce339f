"""The shared vocabulary: innovation types, place categories, transit modes, column names.

Every layer speaks it: the analysis modules produce these values and columns, the outputs
draw and label them, the build stores them. Keeping them in one module means a new category
or mode is added once.

Examples
--------
>>> INNOVATION_LABELS[3]
'highly innovative community'
>>> metric_column("metro", "walk", unit="m"), metric_column("places", "cafe", minutes=5)
('metro_walk_m', 'places_cafe_5min')
>>> density_column("spaces", "type2", "per_10k_res")
'spaces_type2_per_10k_res'
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ALL_PLACE_CATEGORIES",
    "DENSITY_RATES",
    "INNOVATION_LABELS",
    "INNOVATION_TYPES",
    "PLACES_COLUMNS",
    "PLACE_CATEGORIES",
    "SPACE_GROUPS",
    "TRANSIT_COLUMNS",
    "TRANSIT_MODES",
    "DensityRate",
    "density_column",
    "metric_column",
]

#: The study's innovation types; anything else (or missing) is unclassified.
INNOVATION_TYPES: tuple[int, ...] = (1, 2, 3)

#: Labels of the study's three innovation types; ``None`` is "unclassified".
INNOVATION_LABELS: dict[int | None, str] = {
    1: "no innovative community",
    2: "innovative community",
    3: "highly innovative community",
    None: "unclassified",
}

#: Group labels of spaces used in column names (one per type, then the unclassified).
SPACE_GROUPS: tuple[str, ...] = ("type1", "type2", "type3", "unclassified")

#: Places of face-to-face interaction (the study's "places"): the categories kept by default.
PLACE_CATEGORIES: tuple[str, ...] = (
    "cafe", "bar", "restaurant", "terrace", "culture_venue", "library", "civic_centre",
    "community_centre", "nightclub")

#: Every category of the scheme (the city lists also carry parks, playgrounds and the like).
ALL_PLACE_CATEGORIES: tuple[str, ...] = (*PLACE_CATEGORIES, "park", "playground", "sports",
                                         "other")

#: Generic transit modes, from the heaviest rail to the ferry: any city's default. ``rail`` is
#: the suburban or regional train. A city profile may name its own modes (Barcelona's ``fgc``
#: and ``rodalies``), see :class:`cwsgeo.analysis.layers.TransitModes`.
TRANSIT_MODES: tuple[str, ...] = ("metro", "tram", "rail", "bus", "funicular", "ferry")

#: Columns of a places layer, in order.
PLACES_COLUMNS: tuple[str, ...] = (
    "place_id", "name", "category", "subcategory", "source", "date", "merged_ids", "geometry")

#: Columns of a transit layer, in order.
TRANSIT_COLUMNS: tuple[str, ...] = (
    "stop_id", "name", "mode", "lines", "source", "date", "geometry")

#: Rates of an area density table.
DensityRate = Literal["per_km2", "per_10k_res", "lq", "lq_area"]
DENSITY_RATES: tuple[str, ...] = ("per_km2", "per_10k_res", "lq", "lq_area")


def metric_column(subject: str, *parts: str, unit: str | None = None,
                  minutes: int | None = None) -> str:
    """Build a per-space metric column name: subject, parts, then the unit or the threshold.

    Parameters
    ----------
    subject
        What is measured, e.g. ``"metro"``, ``"places"``, ``"residents"``.
    *parts
        Further words, e.g. ``"walk"``, ``"stops"``, a place category.
    unit
        Unit suffix (``"m"``, ``"min"``).
    minutes
        Walking-time threshold, written ``{minutes}min``.

    Returns
    -------
    str

    Examples
    --------
    >>> metric_column("metro", "walk", unit="m")
    'metro_walk_m'
    >>> metric_column("metro", "stops", minutes=5)
    'metro_stops_5min'
    >>> metric_column("residents", minutes=10)
    'residents_10min'
    """
    if unit is not None and minutes is not None:
        raise ValueError("give either unit or minutes, not both")
    words = [subject, *parts]
    if unit is not None:
        words.append(unit)
    if minutes is not None:
        if int(minutes) != minutes or minutes <= 0:
            raise ValueError(f"minutes must be a positive integer, got {minutes!r}")
        words.append(f"{int(minutes)}min")
    for w in words:
        if not w or not str(w).replace("_", "").isalnum() or str(w) != str(w).lower():
            raise ValueError(f"column name part {w!r} must be lower-case letters/digits/_")
    return "_".join(str(w) for w in words)


def density_column(layer: str, group: str | None = None, rate: DensityRate | None = None
                   ) -> str:
    """Return the column of an area count or rate.

    Parameters
    ----------
    layer
        ``"spaces"``, ``"places"``, ``"stops"`` or ``"residents"``.
    group
        Innovation-type group (``"type1"``, ``"unclassified"`` ...), place category or transit
        mode; ``None`` for the total.
    rate
        ``None`` (count), ``"per_km2"``, ``"per_10k_res"``, ``"lq"`` (location quotient,
        residents base) or ``"lq_area"`` (location quotient, area base).

    Returns
    -------
    str

    Examples
    --------
    >>> density_column("places", "cafe", "per_km2")
    'places_cafe_per_km2'
    >>> density_column("spaces", rate="lq"), density_column("spaces", "type2", "lq_area")
    ('lq_spaces', 'lq_area_spaces_type2')
    """
    base = layer if group is None else f"{layer}_{group}"
    if rate is None:
        return base
    if rate in ("lq", "lq_area"):
        return f"{rate}_{base}"
    if rate in ("per_km2", "per_10k_res"):
        return f"{base}_{rate}"
    raise ValueError(f"unknown rate {rate!r}; known: {', '.join(DENSITY_RATES)}")
