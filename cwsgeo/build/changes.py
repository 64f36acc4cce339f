"""What changed since the previous build: spaces added, removed, moved, retyped; district counts.

Each build leaves a small machine-readable snapshot of its spaces (``build_state.json``);
the next build compares its own spaces with it. This module owns the snapshot format, the
comparison and its two renderings (Markdown for people, JSON for programs).

Example:
-------
>>> import geopandas as gpd, pandas as pd
>>> from shapely.geometry import Point
>>> old = snapshot(gpd.GeoDataFrame({"id": ["a"], "name": ["A"], "innovation_type":
...     pd.array([1], dtype="Int64"), "district_code": ["01"]}, geometry=[Point(2.17, 41.39)],
...     crs=4326))
>>> new = snapshot(gpd.GeoDataFrame({"id": ["a", "b"], "name": ["A", "B"], "innovation_type":
...     pd.array([2, None], dtype="Int64"), "district_code": ["01", "02"]},
...     geometry=[Point(2.17, 41.39), Point(2.18, 41.40)], crs=4326))
>>> report = compare(old, new)
>>> [c["id"] for c in report.added], [c["id"] for c in report.retyped]
(['b'], ['a'])
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from .. import settings
from .._text import md_escape

__all__ = ["ChangeReport", "compare", "snapshot"]

#: Moves shorter than this (metres) are rounding, not moves.
MOVE_MIN_M = 1.0


def _val(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def snapshot(spaces: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return the JSON-able state of a build's spaces (id, name, type, district, x/y in m).

    Parameters
    ----------
    spaces
        The built spaces (any CRS).
    """
    work = spaces.geometry.to_crs(settings.crs_work)
    rows = {}
    for i, (_, row) in enumerate(spaces.iterrows()):
        geom = work.iloc[i]
        located = geom is not None and not geom.is_empty
        rows[str(row["id"])] = {
            "name": _val(row.get("name")),
            "innovation_type": _val(row.get("innovation_type")),
            "district_code": _val(row.get("district_code")),
            "x": round(geom.x, 2) if located else None,
            "y": round(geom.y, 2) if located else None,
        }
    return {"cwsgeo_state": 1,
            "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "spaces": rows}


@dataclass
class ChangeReport:
    """Differences between two build snapshots.

    Attributes
    ----------
    added, removed, moved, retyped, located, unlocated, renamed
        One dict per space (``id``, ``name`` and what changed; ``moved_m`` for moves).
    districts
        Per district code: ``before``, ``after``, ``delta`` space counts.
    first_build
        True when there was no previous snapshot.
    """

    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)
    retyped: list[dict[str, Any]] = field(default_factory=list)
    located: list[dict[str, Any]] = field(default_factory=list)
    unlocated: list[dict[str, Any]] = field(default_factory=list)
    renamed: list[dict[str, Any]] = field(default_factory=list)
    districts: dict[str, dict[str, int]] = field(default_factory=dict)
    first_build: bool = False

    @property
    def changed(self) -> bool:
        """True when anything differs."""
        return any((self.added, self.removed, self.moved, self.retyped, self.located,
                    self.unlocated, self.renamed))

    def counts(self) -> dict[str, int]:
        """Return the number of spaces per kind of change."""
        return {k: len(getattr(self, k)) for k in
                ("added", "removed", "moved", "retyped", "located", "unlocated", "renamed")}

    def summary(self) -> str:
        """One line for the terminal."""
        if self.first_build:
            return "changes: first build (nothing to compare with)"
        if not self.changed:
            return "changes: none since the previous build"
        parts = [f"{n} {k}" for k, n in self.counts().items() if n]
        return "changes since the previous build: " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable form (written as ``changes.json``)."""
        return {"first_build": self.first_build, "counts": self.counts(),
                "added": self.added, "removed": self.removed, "moved": self.moved,
                "retyped": self.retyped, "located": self.located, "unlocated": self.unlocated,
                "renamed": self.renamed, "districts": self.districts}

    def to_markdown(self, district_names: dict[str, str] | None = None) -> str:
        """Human-readable form (written as ``changes.md``); names are escaped."""
        names = district_names or {}

        esc = md_escape

        lines = ["# Changes since the previous build", "", self.summary(), ""]
        if self.first_build:
            return "\n".join(lines)
        sections = [
            ("Added", self.added, lambda c: ""),
            ("Removed", self.removed, lambda c: ""),
            ("Moved", self.moved, lambda c: f" — {c['moved_m']:,.0f} m"),
            ("Retyped", self.retyped,
             lambda c: f" — type {c['before'] or 'unclassified'} → {c['after'] or 'unclassified'}"),
            ("Newly located", self.located, lambda c: ""),
            ("No longer located", self.unlocated, lambda c: ""),
            ("Renamed", self.renamed, lambda c: f" — was {esc(c['before'])}"),
        ]
        for title, items, extra in sections:
            if items:
                lines += [f"## {title} ({len(items)})", ""]
                lines += [f"- {esc(c['id'])} {esc(c.get('name'))}{extra(c)}" for c in items]
                lines.append("")
        changed = {k: v for k, v in self.districts.items() if v["delta"]}
        if changed:
            lines += ["## Spaces per district", "", "| district | before | after | change |",
                      "|---|---:|---:|---:|"]
            for code, v in sorted(changed.items()):
                label = f"{code} {names.get(code, '')}".strip()
                lines.append(f"| {esc(label)} | {v['before']} | {v['after']} | {v['delta']:+d} |")
            lines.append("")
        return "\n".join(lines)


def _counts(state: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in state["spaces"].values():
        code = s.get("district_code")
        if code:
            out[code] = out.get(code, 0) + 1
    return out


def compare(previous: dict[str, Any] | None, current: dict[str, Any]) -> ChangeReport:
    """Compare two snapshots made by :func:`snapshot`.

    Parameters
    ----------
    previous
        The previous build's snapshot, or ``None`` for a first build.
    current
        This build's snapshot.

    Returns
    -------
    ChangeReport
    """
    if not isinstance(previous, dict) or not isinstance(previous.get("spaces"), dict):
        return ChangeReport(first_build=True)
    old, new = previous["spaces"], current["spaces"]
    report = ChangeReport()
    for sid in sorted(set(new) - set(old)):
        report.added.append({"id": sid, "name": new[sid]["name"]})
    for sid in sorted(set(old) - set(new)):
        report.removed.append({"id": sid, "name": old[sid]["name"]})
    for sid in sorted(set(old) & set(new)):
        a, b = old[sid], new[sid]
        item = {"id": sid, "name": b["name"]}
        if a["x"] is not None and b["x"] is not None:
            d = math.hypot(b["x"] - a["x"], b["y"] - a["y"])
            if d >= MOVE_MIN_M:
                report.moved.append({**item, "moved_m": round(d, 1), "to": _lonlat(b)})
        elif a["x"] is None and b["x"] is not None:
            report.located.append(item)
        elif a["x"] is not None and b["x"] is None:
            report.unlocated.append(item)
        if a["innovation_type"] != b["innovation_type"]:
            report.retyped.append({**item, "before": a["innovation_type"],
                                   "after": b["innovation_type"]})
        if a["name"] != b["name"]:
            report.renamed.append({**item, "before": a["name"]})
    before, after = _counts(previous), _counts(current)
    for code in sorted(set(before) | set(after)):
        report.districts[code] = {"before": before.get(code, 0), "after": after.get(code, 0),
                                  "delta": after.get(code, 0) - before.get(code, 0)}
    return report


@cache
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(settings.crs_work, settings.crs_store, always_xy=True)


def _lonlat(s: dict[str, Any]) -> list[float]:
    lon, lat = _to_lonlat().transform(s["x"], s["y"])
    return [round(lon, 6), round(lat, 6)]
