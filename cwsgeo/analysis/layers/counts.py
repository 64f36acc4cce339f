"""Summary tables of the layers: places per category and transit stops per mode."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...schema import ALL_PLACE_CATEGORIES, TRANSIT_MODES

__all__ = ["count_places", "count_transit"]


def count_places(places: pd.DataFrame, by: str = "source") -> pd.DataFrame:
    """Count places per category (rows) and ``by`` (columns), with totals.

    Parameters
    ----------
    places
        Places layer.
    by
        Column to split the counts by (``"source"`` by default).

    Returns
    -------
    pandas.DataFrame
        Counts; the last row and column are named ``total``.

    Examples
    --------
    >>> table = count_places(pd.DataFrame({"category": ["bar", "cafe", "bar"],
    ...                                    "source": ["osm", "osm", "bcn_equipaments"]}))
    >>> table.loc["bar"].tolist(), int(table.loc["total", "total"])
    ([1, 1, 2], 3)
    """
    return _crosstab(places, "category", by, ALL_PLACE_CATEGORIES)


def count_transit(transit: pd.DataFrame, by: str = "source",
                  modes: Sequence[str] = TRANSIT_MODES) -> pd.DataFrame:
    """Count transit stations and stops per mode (rows) and ``by`` (columns), with totals.

    Parameters
    ----------
    transit
        Transit layer.
    by
        Column to split the counts by (``"source"`` by default).
    modes
        Order of the rows: the city's modes (other modes follow).

    Returns
    -------
    pandas.DataFrame
        Counts; the last row and column are named ``total``.
    """
    return _crosstab(transit, "mode", by, modes)


def _crosstab(df: pd.DataFrame, rows: str, by: str, order: Sequence[str]) -> pd.DataFrame:
    table = pd.crosstab(df[rows], df[by], margins=True, margins_name="total")
    known = [r for r in order if r in table.index]
    rest = [r for r in table.index if r not in known and r != "total"]
    return table.loc[[*known, *rest, "total"]]
