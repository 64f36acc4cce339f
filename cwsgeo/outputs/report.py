"""The inventory report: a Markdown page that accounts for every input row."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from .._text import md_escape
from ..analysis.inventory import Inventory, Problem
from ..analysis.inventory.duplicates import duplicate_summary, find_duplicates
from ..analysis.inventory.location import location_problems
from ..analysis.inventory.model import plural, row_ranges

__all__ = ["inventory_report"]


def _row_account(row: Mapping[Any, Any]) -> str:
    method = row.get("location_method")
    status = row.get("geocode_status")
    if method == "input":
        text = "located by the coordinates given in the inventory"
        if bool(row.get("coord_flag")):
            text += f" (flag: {row.get('coord_check_m', float('nan')):.0f} m from its address)"
        return text
    if method in ("gazetteer", "nominatim"):
        source = ("the official address gazetteer" if method == "gazetteer" else
                  "Nominatim (OpenStreetMap)")
        origin = " (address read from the name)" if bool(row.get("address_from_name")) else ""
        return f"geocoded by {source}: {status}{origin} → {row.get('matched_address', '')}"
    if not str(row.get("address") or "").strip():
        return "not located: no address and no coordinates (and none found in the name)"
    return f"not located: address not found ({status})"


def inventory_report(inv: Inventory, spaces: gpd.GeoDataFrame, *, version: str = "",
                     duplicates: pd.DataFrame | None = None,
                     location: Sequence[Problem] | None = None) -> str:
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
    """
    if duplicates is None:
        duplicates = find_duplicates(spaces)
    if location is None:
        location = location_problems(spaces, inv.path.name,
                                     columns={v: k for k, v in inv.columns_map.items()})
    n = len(spaces)
    methods = Counter(spaces["location_method"])
    lines = [
        f"# Inventory report: {md_escape(inv.path.name)}",
        "",
        f"Built {dt.datetime.now().isoformat(timespec='seconds')} by cwsgeo {version}.",
        "",
        f"- data rows in the file: {inv.n_input_rows}",
        f"- spaces kept: {n} (rows skipped: {inv.n_input_rows - n}, see problems below)",
        f"- located: {n - methods.get('none', 0)} "
        f"(inventory coordinates {methods.get('input', 0)}, address gazetteer "
        f"{methods.get('gazetteer', 0)}, Nominatim {methods.get('nominatim', 0)}); "
        f"not located: {methods.get('none', 0)}",
        f"- outside the city: {int((~spaces['in_city'] & spaces.geometry.notna()).sum())}",
        f"- possible duplicates: {duplicate_summary(duplicates)}",
        f"- location warnings: {len(location)}",
        "",
        "## Located how, or why not",
        "",
        "| row | id | name | address | district | account |",
        "|---:|---|---|---|---|---|",
    ]
    rows = pd.DataFrame(spaces.drop(columns="geometry")).sort_values("source_row")
    for row in rows.to_dict("records"):
        lines.append(f"| {row['source_row']} | {md_escape(row['id'])} | "
                     f"{md_escape(row['name'])} | {md_escape(row.get('address'))} | "
                     f"{md_escape(row.get('district_name') or '')} | "
                     f"{md_escape(_row_account(row))} |")
    lines += _duplicates_section(duplicates)
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


def _duplicates_section(groups: pd.DataFrame) -> list[str]:
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
    for rec, done in zip(groups.to_dict("records"), merged.astype(bool), strict=True):
        far = float(rec["distance_m"])
        lines.append(
            f"| {rec['group']} | {'certain' if rec['certain'] else 'possible'} | "
            f"{md_escape(str(rec['reasons']).replace('+', ', '))} | "
            f"{'' if pd.isna(rec['source_row']) else int(rec['source_row'])} | "
            f"{md_escape(rec['id'])} | {md_escape(rec['name'])} | "
            f"{'' if far != far else f'{far:,.0f}'} | {'yes' if done else 'no'} |")
    return lines


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
