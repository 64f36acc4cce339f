"""The cross-city comparison of a batch: one row per city, as CSV, GeoParquet and an HTML page.

:func:`city_summary` reduces one city's build outputs (already read into frames by the build
layer) to a few comparable numbers; :func:`comparison_table` puts the summaries of every
city of a batch into one table with a point per city; :func:`write_comparison` writes it.

Columns of the table:

=========================  ==========================================================
``slug``, ``name``         the ``[[city]]`` entry of ``cities.toml``
``status``                 ``"ok"``, or ``"failed"`` (values empty, ``error`` says why)
``population``             residents of the city (``coverage.csv``'s ``residents_total``,
                           else the sum of the districts' residents)
``spaces_listed``          inventory rows
``spaces_located``         spaces located to a point (exact or approximate) in the city
``spaces_per_10k``         located spaces per 10,000 residents
``rail_5min_share``        share of the located spaces with a walking value whose nearest
                           rail stop (any transit mode but bus, ferry and funicular) is
                           within 5 minutes
``residents_10min_share``  share of the residents within 10 walking minutes of a space
                           (``coverage.csv``, group ``all``)
``kd_verdict``             Kd verdict of the spaces against the address points
                           (``statistics.json``; empty when the findings were not computed)
``fetch_s``, ``build_s``   wall seconds of the city's fetch and build tasks
``peak_mib``               peak resident memory of the build task's worker process
``error``                  why a failed city failed
``geometry``               centroid of the city's districts (EPSG:4326)
=========================  ==========================================================
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import pandas as pd

from .. import __version__, settings
from .._io import write_csv, write_geoparquet, write_text
from ..analysis.layers.modes import TransitModes

__all__ = ["COMPARISON_COLUMNS", "RAIL_MODES", "city_summary", "comparison_html",
           "comparison_table", "write_comparison"]

#: Transit modes counted as rail by default: every generic mode but bus, ferry and funicular
#: (a city's own are its profile's :attr:`~cwsgeo.analysis.layers.TransitModes.rail_modes`).
RAIL_MODES: tuple[str, ...] = TransitModes().rail_modes

#: Columns of the comparison table, in order (``geometry`` last).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "slug", "name", "status", "population", "spaces_listed", "spaces_located",
    "spaces_per_10k", "rail_5min_share", "residents_10min_share", "kd_verdict", "fetch_s",
    "build_s", "peak_mib", "error")

_POINT_PRECISIONS = ("exact", "approximate")


def _flag(values: pd.Series) -> pd.Series:
    """Booleans read back from a CSV (``True``/``False`` text, or real booleans)."""
    return values.astype(str).str.strip().str.lower().isin(("true", "1"))


def _population(coverage: pd.DataFrame | None, areas: pd.DataFrame | None) -> float:
    if coverage is not None and "residents_total" in coverage and len(coverage):
        every = coverage[coverage["group"] == "all"] if "group" in coverage else coverage
        if len(every):
            return float(every["residents_total"].iloc[0])
    if areas is not None and "residents" in areas:
        return float(pd.to_numeric(areas["residents"], errors="coerce").sum())
    return math.nan


def _rail_share(located: pd.DataFrame, minutes: float, rail_modes: Sequence[str]) -> float:
    """Share of ``located`` (those with walking values) within ``minutes`` of a rail stop."""
    with_values = (located[located["proximity_method"].notna()]
                   if "proximity_method" in located else located)
    if with_values.empty:
        return math.nan
    columns = [f"{m}_walk_min" for m in rail_modes if f"{m}_walk_min" in with_values]
    if not columns:
        return 0.0
    nearest = with_values[columns].apply(pd.to_numeric, errors="coerce").min(axis=1)
    return float((nearest <= minutes).sum() / len(with_values))


def _coverage_share(coverage: pd.DataFrame | None, minutes: int) -> float:
    if coverage is None or not {"group", "minutes", "share"} <= set(coverage.columns):
        return math.nan
    rows = coverage[(coverage["group"] == "all") & (coverage["minutes"] == minutes)]
    return float(rows["share"].iloc[0]) if len(rows) else math.nan


def _centroid(areas: gpd.GeoDataFrame | None) -> tuple[float, float]:
    """(lon, lat) of the areas' union centroid, computed in their UTM zone."""
    if areas is None or areas.empty or areas.crs is None:
        return math.nan, math.nan
    metric = areas.to_crs(areas.estimate_utm_crs())
    point = gpd.GeoSeries([metric.union_all().centroid], crs=metric.crs).to_crs(
        settings.crs_store).iloc[0]
    return float(point.x), float(point.y)


def city_summary(spaces: pd.DataFrame, *, coverage: pd.DataFrame | None = None,
                 statistics: Mapping[str, Any] | None = None,
                 areas: gpd.GeoDataFrame | None = None, rail_minutes: float = 5.0,
                 coverage_minutes: int = 10,
                 rail_modes: Sequence[str] = RAIL_MODES) -> dict[str, Any]:
    """Reduce one city's build outputs to the comparison's numbers.

    Parameters
    ----------
    spaces
        The city's ``coworking_spaces.csv`` (``location_precision``, ``in_city``,
        ``proximity_method`` and the ``<mode>_walk_min`` columns are used when present).
    coverage
        Its ``coverage.csv`` (residents within walking minutes of a space), if written.
    statistics
        Its ``statistics.json``, if the findings were computed.
    areas
        Its districts (any CRS; their union's centroid places the city on the map, and
        their ``residents`` give the population when ``coverage`` has none).
    rail_minutes
        Walking minutes to the nearest rail stop counted as "near rail".
    coverage_minutes
        Walking minutes of the residents' coverage share.
    rail_modes
        The city's rail modes (its profile's
        :attr:`~cwsgeo.analysis.layers.TransitModes.rail_modes`; default :data:`RAIL_MODES`).

    Returns
    -------
    dict
        ``population``, ``spaces_listed``, ``spaces_located``, ``spaces_per_10k``,
        ``rail_5min_share``, ``residents_10min_share``, ``kd_verdict``, ``lon``, ``lat``
        (NaN or ``""`` where the outputs do not say).
    """
    located = spaces
    if "location_precision" in spaces:
        located = located[located["location_precision"].isin(_POINT_PRECISIONS)]
    if "in_city" in located:
        located = located[_flag(located["in_city"])]
    population = _population(coverage, areas)
    per_10k = (len(located) / population * 1e4 if population and population > 0
               else math.nan)
    agglomeration = (statistics or {}).get("agglomeration") or {}
    # a skipped Kd is recorded on the agglomeration itself (no "spaces" result)
    kd = agglomeration.get("spaces") or agglomeration
    lon, lat = _centroid(areas)
    return {"population": population, "spaces_listed": len(spaces),
            "spaces_located": len(located), "spaces_per_10k": per_10k,
            "rail_5min_share": _rail_share(located, rail_minutes, rail_modes),
            "residents_10min_share": _coverage_share(coverage, coverage_minutes),
            "kd_verdict": _kd_verdict(statistics, kd), "lon": lon, "lat": lat}


def _kd_verdict(statistics: Mapping[str, Any] | None, kd: Mapping[str, Any]) -> str:
    """Return the spaces' Kd verdict (``"not tested: <reason>"`` when the build skipped it).

    Without statistics (``None``) the cell is empty.
    """
    if kd.get("verdict"):
        return str(kd["verdict"])
    if kd.get("skipped"):
        return f"not tested: {kd['skipped']}"
    return "not computed" if statistics else ""


def comparison_table(rows: Sequence[Mapping[str, Any]]) -> gpd.GeoDataFrame:
    """Make the comparison table from the cities' summaries.

    Parameters
    ----------
    rows
        One mapping per city: ``slug``, ``name``, ``status`` and any of
        :data:`COMPARISON_COLUMNS`, with ``lon``/``lat`` (the output of
        :func:`city_summary` plus the batch's timings). Missing values are left empty.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`COMPARISON_COLUMNS` and a point per city (EPSG:4326; empty for a city with
        no districts), in the order of ``rows``.
    """
    frame = pd.DataFrame(list(rows)).reindex(columns=[*COMPARISON_COLUMNS, "lon", "lat"])
    for col in ("slug", "name", "status", "kd_verdict", "error"):
        frame[col] = [("" if pd.isna(v) else str(v)) for v in frame[col]]
    for col in ("spaces_listed", "spaces_located"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    numbers = ["population", "spaces_per_10k", "rail_5min_share", "residents_10min_share",
               "fetch_s", "build_s", "peak_mib", "lon", "lat"]
    frame[numbers] = frame[numbers].apply(pd.to_numeric, errors="coerce").astype(float)
    known = frame["lon"].notna() & frame["lat"].notna()
    geometry = gpd.GeoSeries([None] * len(frame), index=frame.index, crs=settings.crs_store)
    geometry[known] = gpd.points_from_xy(frame.loc[known, "lon"], frame.loc[known, "lat"],
                                         crs=settings.crs_store)
    return gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]), geometry=geometry,
                            crs=settings.crs_store)


def _cell(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if column.endswith("_share"):
        return f"{value:.1%}"
    if column == "population":
        return f"{value:,.0f}"
    if column in ("spaces_per_10k",):
        return f"{value:.2f}"
    if column.endswith("_s"):
        return f"{value:,.1f}"
    if column == "peak_mib":
        return f"{value:,.0f}"
    return str(value)


_HEADINGS = {
    "name": "City", "status": "Status", "population": "Residents",
    "spaces_listed": "Spaces listed", "spaces_located": "Spaces located",
    "spaces_per_10k": "Spaces per 10k residents",
    "rail_5min_share": "Spaces ≤ 5 min walk from rail",
    "residents_10min_share": "Residents ≤ 10 min walk from a space",
    "kd_verdict": "Kd verdict", "fetch_s": "Fetch (s)", "build_s": "Build (s)",
    "peak_mib": "Peak memory (MiB)", "error": "Error"}

_TEXT_COLUMNS = ("name", "status", "kd_verdict", "error")  # left-aligned

_STYLE = ("body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
          "table{border-collapse:collapse}th,td{padding:.3em .6em;border-bottom:1px solid #ddd}"
          "th{text-align:left;background:#f4f4f4}td.n{text-align:right;"
          "font-variant-numeric:tabular-nums}tr.failed td{color:#a00}"
          "p.note{color:#555;max-width:60em}")


def _linked(row: pd.Series) -> str:
    """Return the city's name, linked to its map when it was built (``<slug>/maps/``)."""
    name = html.escape(_cell(row["name"], "name") or str(row.get("slug", "")))
    if row.get("status") != "ok" or not row.get("slug"):
        return name
    href = html.escape(f"{quote(str(row['slug']))}/maps/innovation_types.html", quote=True)
    return f'<a href="{href}">{name}</a>'


def comparison_html(table: pd.DataFrame, *, title: str = "Coworking spaces: cities compared"
                    ) -> str:
    """Render the comparison as a small self-contained HTML page (no script, text escaped).

    Parameters
    ----------
    table
        The output of :func:`comparison_table`.
    title
        Page title and heading.

    Returns
    -------
    str
    """
    columns = [c for c in _HEADINGS if c in table.columns]
    if "error" in columns and not table["error"].astype(bool).any():
        columns.remove("error")
    head = "".join(f"<th>{html.escape(_HEADINGS[c])}</th>" for c in columns)
    body = []
    for _, row in table.iterrows():
        cells = "".join(f"<td{'' if c in _TEXT_COLUMNS else ' class=n'}>"
                        f"{_linked(row) if c == 'name' else html.escape(_cell(row[c], c))}</td>"
                        for c in columns)
        css = ' class="failed"' if row.get("status") == "failed" else ""
        body.append(f"<tr{css}>{cells}</tr>")
    failed = int((table["status"] == "failed").sum()) if "status" in table else 0
    note = (f"{len(table)} cities, {failed} failed. Rail: every transit mode but bus. "
            "Located: spaces placed at an exact or approximate point inside the city. "
            "Peak memory: the build task's worker process. Each city's name links to its "
            "map. The same table is in "
            "comparison.csv and comparison.parquet (one point per city).")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body) + f"</tbody></table><p class=\"note\">{html.escape(note)}</p>"
            f"<p class=\"note\">cwsgeo {html.escape(__version__)}</p></body></html>\n")


def write_comparison(table: gpd.GeoDataFrame, folder: str | Path) -> list[Path]:
    """Write ``comparison.csv``, ``comparison.parquet`` and ``comparison.html``, atomically.

    Parameters
    ----------
    table
        The output of :func:`comparison_table`.
    folder
        The batch's output folder (``cities/``).

    Returns
    -------
    list[Path]
        The three files.
    """
    folder = Path(folder)
    tabular = pd.DataFrame(table.drop(columns="geometry"))
    tabular["lon"] = table.geometry.x.round(6)
    tabular["lat"] = table.geometry.y.round(6)
    return [write_csv(tabular, folder / "comparison.csv"),
            write_geoparquet(table, folder / "comparison.parquet"),
            write_text(folder / "comparison.html", comparison_html(tabular))]
