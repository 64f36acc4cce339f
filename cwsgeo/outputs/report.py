"""The inventory report: a Markdown page that accounts for every input row."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from .._text import as_text, md_escape
from ..analysis.geocoding.precision import UNLOCATED_REASONS
from ..analysis.inventory import Inventory, Problem
from ..analysis.inventory.duplicates import duplicate_summary, find_duplicates
from ..analysis.inventory.location import location_problems
from ..analysis.inventory.model import plural, row_ranges
from .labels import DEFAULT_LABELS, AreaLabels

__all__ = ["ACCOUNT_COLUMNS", "MAX_TABLE_ROWS", "inventory_accounts", "inventory_report"]

#: Most rows of each table of the report; every row is in the CSV files written beside it
#: (``inventory_accounts.csv``, ``inventory_duplicates.csv``).
MAX_TABLE_ROWS = 500

#: Columns of :func:`inventory_accounts`.
ACCOUNT_COLUMNS = ("row", "id", "name", "address", "district", "account")

#: The spaces' columns an account is worded from.
_ACCOUNT_INPUTS = ("source_row", "id", "name", "address", "district_name", "location_method",
                   "geocode_status", "location_radius_m", "location_precision", "coord_flag",
                   "coord_check_m", "address_from_name", "matched_address",
                   "location_evidence", "unlocated_reason")


def _text_methods(labels: AreaLabels) -> dict[str, str]:
    """How each text method is worded in the report (areas in the city's words)."""
    return {"text_address": "a street address", "text_intersection": "a street corner",
            "text_station": "a transit station", "text_landmark": "a landmark or square",
            "text_area": f"a {labels.neighbourhood} or {labels.district}"}


def _row_account(row: Mapping[Any, Any], text_methods: Mapping[str, str]) -> str:
    method = row.get("location_method")
    status = row.get("geocode_status")
    radius = _radius(row)
    if method == "input":
        text = f"located by the coordinates given in the inventory{radius}"
        if bool(row.get("coord_flag")):
            text += f" (flag: {row.get('coord_check_m', float('nan')):.0f} m from its address)"
        return text
    if method in ("gazetteer", "nominatim"):
        source = ("the official address gazetteer" if method == "gazetteer" else
                  "Nominatim (OpenStreetMap)")
        origin = " (address read from the name)" if bool(row.get("address_from_name")) else ""
        return (f"geocoded by {source}: {status}{origin} → {row.get('matched_address', '')}"
                f"{radius}")
    if isinstance(method, str) and method in text_methods:
        return (f"located from its listing text by {text_methods[method]}{radius}: "
                f"“{as_text(row.get('location_evidence'))}”")
    reason = as_text(row.get("unlocated_reason"))
    if reason == "address_not_found":
        return f"not located: address not found ({status})"
    if reason == "outside_city":
        return (f"not located: {UNLOCATED_REASONS[reason]} "
                f"(“{as_text(row.get('location_evidence'))}”)")
    return f"not located: {UNLOCATED_REASONS.get(reason, 'no address and no coordinates')}"


def _radius(row: Mapping[Any, Any]) -> str:
    try:
        radius = float(row.get("location_radius_m"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if radius != radius:  # NaN
        return ""
    return f" (±{radius:,.0f} m, {as_text(row.get('location_precision')) or 'located'})"


def _location_summary(spaces: pd.DataFrame, labels: AreaLabels) -> list[str]:
    """Return the report's header lines: counts by method, precision and reason."""
    n = len(spaces)
    methods = Counter(spaces["location_method"])
    words = _text_methods(labels)
    text = {k: methods.get(k, 0) for k in words}
    lines = [
        f"- located: {n - methods.get('none', 0)} "
        f"(inventory coordinates {methods.get('input', 0)}, address gazetteer "
        f"{methods.get('gazetteer', 0)}, Nominatim {methods.get('nominatim', 0)}, listing "
        f"texts {sum(text.values())}: " + ", ".join(
            f"{words[k]} {v}" for k, v in text.items()) + "); "
        f"not located: {methods.get('none', 0)}"]
    if "location_precision" in spaces.columns:
        p = Counter(spaces["location_precision"])
        lines.append(f"- precision: exact (±100 m or better) {p.get('exact', 0)}, approximate "
                     f"{p.get('approximate', 0)} (these enter point statistics: kernel "
                     f"densities, hexagons, walking distances), area only {p.get('area', 0)} "
                     f"(counted by {labels.district} or {labels.neighbourhood} only when "
                     "their texts name it)")
    if "unlocated_reason" in spaces.columns:
        reasons = Counter(spaces["unlocated_reason"].dropna())
        lines += [f"- not located because {UNLOCATED_REASONS.get(k, k)}: {v}"
                  for k, v in reasons.most_common()]
    return lines


def inventory_report(inv: Inventory, spaces: gpd.GeoDataFrame, *, version: str = "",
                     duplicates: pd.DataFrame | None = None,
                     location: Sequence[Problem] | None = None,
                     accounts: pd.DataFrame | None = None,
                     max_rows: int = MAX_TABLE_ROWS,
                     labels: AreaLabels = DEFAULT_LABELS) -> str:
    """Return the Markdown report that accounts for every input row.

    Parameters
    ----------
    inv
        The parsed inventory (its problems are listed).
    spaces
        The geocoded, joined spaces.
    version
        The cwsgeo version named in the report.
    duplicates
        The groups of :func:`~cwsgeo.analysis.inventory.duplicates.find_duplicates` (with
        ``merged`` if :func:`~cwsgeo.analysis.inventory.duplicates.merge_duplicates` ran);
        ``None``: found here on ``spaces``, nothing merged.
    location
        The warnings of :func:`~cwsgeo.analysis.inventory.location.location_problems`;
        ``None``: found here on ``spaces`` with the default distance.
    accounts
        The table of :func:`inventory_accounts` (``None``: made here from ``spaces``).
    max_rows
        Most rows of the accounts and duplicates tables; the report then points to the CSV
        files the build writes beside it with every row.
    labels
        The city's words for its districts and neighbourhoods.
    """
    if duplicates is None:
        duplicates = find_duplicates(spaces)
    if location is None:
        location = location_problems(spaces, inv.path.name,
                                     columns={v: k for k, v in inv.columns_map.items()})
    n = len(spaces)
    lines = [
        f"# Inventory report: {md_escape(inv.path.name)}",
        "",
        f"Built {dt.datetime.now().isoformat(timespec='seconds')} by cwsgeo {version}.",
        "",
        f"- data rows in the file: {inv.n_input_rows}",
        f"- spaces kept: {n} (rows skipped: {inv.n_input_rows - n}, see problems below)",
        *_location_summary(spaces, labels),
        f"- outside the city: {int((~spaces['in_city'] & spaces.geometry.notna()).sum())}",
        f"- possible duplicates: {duplicate_summary(duplicates)}",
        f"- location warnings: {len(location)}",
        "",
        "## Located how, or why not",
        "",
        f"| row | id | name | address | {labels.district} | account |",
        "|---:|---|---|---|---|---|",
    ]
    if accounts is None:
        accounts = inventory_accounts(spaces, labels)
    for rec in accounts.head(max_rows).to_dict("records"):
        lines.append(f"| {rec['row']} | {md_escape(rec['id'])} | {md_escape(rec['name'])} | "
                     f"{md_escape(rec['address'])} | {md_escape(rec['district'] or '')} | "
                     f"{md_escape(rec['account'])} |")
    lines += _more_rows(len(accounts), max_rows, "inventory_accounts.csv")
    lines += _duplicates_section(duplicates, max_rows)
    lines += _location_section(location)
    lines += ["", "## Problems found in the inventory", ""]
    omitted = getattr(inv, "omitted", ())
    if inv.problems or omitted:
        lines += [f"- {md_escape(p)}" for p in inv.problems]
        lines += [f"- … and {plural(o.count, 'more problem')} [{md_escape(o.code)}] "
                  f"({o.severity}; rows {row_ranges(o.rows)})" for o in omitted]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def inventory_accounts(spaces: pd.DataFrame,
                       labels: AreaLabels = DEFAULT_LABELS) -> pd.DataFrame:
    """Return every row's account: located how (method, radius, evidence) or why not.

    Parameters
    ----------
    spaces
        The geocoded, joined spaces (``source_row``, ``id``, ``name`` and the location
        columns; missing ones count as blank).
    labels
        The city's words for its districts and neighbourhoods (accounts of spaces located
        by an area).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ACCOUNT_COLUMNS`, in the order of the inventory's rows (written as
        ``inventory_accounts.csv``; the report shows the first :data:`MAX_TABLE_ROWS`).
    """
    present = [c for c in _ACCOUNT_INPUTS if c in spaces.columns]
    methods = _text_methods(labels)
    rows = pd.DataFrame(spaces[present]).sort_values("source_row")
    # one dict per row from column lists (DataFrame.to_dict boxes every value: 3x slower)
    records = [dict(zip(present, values, strict=True))
               for values in zip(*(rows[c].tolist() for c in present), strict=True)]
    return pd.DataFrame({
        "row": rows["source_row"].to_numpy(),
        "id": rows["id"].to_numpy(),
        "name": rows["name"].to_numpy(),
        "address": rows["address"].to_numpy() if "address" in rows else None,
        "district": (rows["district_name"].to_numpy() if "district_name" in rows
                     else None),
        "account": [_row_account(r, methods) for r in records]}, columns=list(ACCOUNT_COLUMNS))


def _more_rows(n: int, shown: int, file: str) -> list[str]:
    """Say that a table shows only its first rows and where the others are."""
    if n <= shown:
        return []
    return ["", f"Only the first {shown:,} of {n:,} rows are shown: every row is in "
                f"`{file}`, beside this report."]


def _duplicates_section(groups: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS) -> list[str]:
    """Return the "Possible duplicates" section: a table row per member of every group."""
    lines = ["", "## Possible duplicates", ""]
    if groups.empty:
        return [*lines, "None: no two rows share a near-same name, an address point or a "
                "description."]
    lines += [
        "Rows that are probably the same space. *Certain* groups (a near-same name at the "
        "same address point, or the same name and address) are merged when de-duplication "
        "is on; *possible* ones (linked by name, point or description alone) are only listed "
        "here, for a check by hand. A row may be in a certain group and in the possible "
        "group around it.",
        "",
        "| group | kind | linked by | row | id | name | m from first | merged |",
        "|---:|---|---|---:|---|---|---:|---|",
    ]
    merged = groups["merged"] if "merged" in groups.columns else pd.Series(False, groups.index)
    shown = groups.head(max_rows)
    for rec, done in zip(shown.to_dict("records"), merged.head(max_rows).astype(bool),
                         strict=True):
        far = float(rec["distance_m"])
        lines.append(
            f"| {rec['group']} | {'certain' if rec['certain'] else 'possible'} | "
            f"{md_escape(str(rec['reasons']).replace('+', ', '))} | "
            f"{'' if pd.isna(rec['source_row']) else int(rec['source_row'])} | "
            f"{md_escape(rec['id'])} | {md_escape(rec['name'])} | "
            f"{'' if far != far else f'{far:,.0f}'} | {'yes' if done else 'no'} |")
    return lines + _more_rows(len(groups), max_rows, "inventory_duplicates.csv")


def _location_section(problems: Sequence[Problem]) -> list[str]:
    """Return the "Location warnings" section: coordinates far from the address, postcodes."""
    lines = ["", "## Location warnings", ""]
    if not problems:
        return [*lines, "None: no row's coordinates disagree with its geocoded address, and "
                "no postcode contradicts the gazetteer's."]
    return [*lines, *(f"- {md_escape(p)}" for p in problems)]


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------
