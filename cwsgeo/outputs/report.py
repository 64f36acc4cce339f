"""The inventory report: a Markdown page that accounts for every input row."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from .._text import md_escape
from ..analysis.inventory import Inventory
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


def inventory_report(inv: Inventory, spaces: gpd.GeoDataFrame, *, version: str = "") -> str:
    """Return the Markdown report that accounts for every input row.

    Parameters
    ----------
    inv
        The parsed inventory (its problems are listed).
    spaces
        The geocoded, joined spaces.
    version
        The cwsgeo version named in the report.
    """
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
    lines += ["", "## Problems found in the inventory", ""]
    omitted = getattr(inv, "omitted", ())
    if inv.problems or omitted:
        lines += [f"- {md_escape(p)}" for p in inv.problems]
        lines += [f"- … and {plural(o.count, 'more problem')} [{md_escape(o.code)}] "
                  f"({o.severity}; rows {row_ranges(o.rows)})" for o in omitted]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------
