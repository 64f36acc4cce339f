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


def _column(spaces: pd.DataFrame, name: str) -> list[Any]:
    """Return a column as JSON-able values (``None`` for missing), or all ``None``."""
    if name not in spaces.columns:
        return [None] * len(spaces)
    column = spaces[name]
    values = column.astype(object).where(column.notna(), None).tolist()
    return [v if v is None or type(v) is str else _val(v) for v in values]


def _rounded(values: np.ndarray) -> list[float | None]:
    """Round to 1 cm (Python's ``round``, as JSON keeps it); NaN becomes ``None``."""
    return [None if v != v else round(v, 2) for v in values.tolist()]


def snapshot(spaces: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return the JSON-able state of a build's spaces (id, name, type, district, x/y in m).

    Parameters
    ----------
    spaces
        The built spaces (any CRS).
    """
    import shapely

    work = np.asarray(spaces.geometry.to_crs(settings.crs_work).array, dtype=object)
    x, y = shapely.get_x(work), shapely.get_y(work)  # NaN for a missing or empty point
    columns = zip(spaces["id"].astype(str).tolist(), _column(spaces, "name"),
                  _column(spaces, "innovation_type"), _column(spaces, "district_code"),
                  _rounded(np.asarray(x, dtype=float)), _rounded(np.asarray(y, dtype=float)),
                  strict=True)
    rows = {sid: {"name": name, "innovation_type": kind, "district_code": district,
                  "x": px, "y": py}
            for sid, name, kind, district, px, py in columns}
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
    codes = pd.Series([s.get("district_code") for s in state["spaces"].values()],
                      dtype=object)
    codes = codes[codes.notna() & (codes != "")]
    return {str(k): int(v) for k, v in codes.value_counts(sort=False).items()}


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _table(spaces: dict[str, dict[str, Any]], ids: pd.Index) -> dict[str, np.ndarray]:
    """Columns of the snapshot rows ``ids``: name and type as objects, x and y as floats."""
    rows = [spaces[i] for i in ids]
    return {"name": _objects([r["name"] for r in rows]),
            "type": _objects([r["innovation_type"] for r in rows]),
            "x": np.array([np.nan if r["x"] is None else r["x"] for r in rows], dtype=float),
            "y": np.array([np.nan if r["y"] is None else r["y"] for r in rows], dtype=float)}


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
    old_ids, new_ids = pd.Index(list(old), dtype=object), pd.Index(list(new), dtype=object)
    report = ChangeReport()
    report.added = [{"id": i, "name": new[i]["name"]}
                    for i in new_ids.difference(old_ids, sort=False).sort_values()]
    report.removed = [{"id": i, "name": old[i]["name"]}
                      for i in old_ids.difference(new_ids, sort=False).sort_values()]
    common = new_ids.intersection(old_ids, sort=False).sort_values()
    a, b = _table(old, common), _table(new, common)
    was, now = ~np.isnan(a["x"]), ~np.isnan(b["x"])
    moved_m = np.hypot(b["x"] - a["x"], b["y"] - a["y"])
    moved = np.flatnonzero(was & now & (moved_m >= MOVE_MIN_M))
    lonlat = _lonlat(b["x"][moved], b["y"][moved])
    report.moved = [{"id": common[i], "name": b["name"][i], "moved_m": round(float(moved_m[i]), 1),
                     "to": to} for i, to in zip(moved, lonlat, strict=True)]
    report.located = [{"id": common[i], "name": b["name"][i]}
                      for i in np.flatnonzero(~was & now)]
    report.unlocated = [{"id": common[i], "name": b["name"][i]}
                        for i in np.flatnonzero(was & ~now)]
    report.retyped = [{"id": common[i], "name": b["name"][i], "before": a["type"][i],
                       "after": b["type"][i]} for i in np.flatnonzero(a["type"] != b["type"])]
    report.renamed = [{"id": common[i], "name": b["name"][i], "before": a["name"][i]}
                      for i in np.flatnonzero(a["name"] != b["name"])]
    before, after = _counts(previous), _counts(current)
    for code in sorted(set(before) | set(after)):
        report.districts[code] = {"before": before.get(code, 0), "after": after.get(code, 0),
                                  "delta": after.get(code, 0) - before.get(code, 0)}
    return report


@cache
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(settings.crs_work, settings.crs_store, always_xy=True)


def _lonlat(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    lon, lat = _to_lonlat().transform(x, y)
    return [[round(a, 6), round(b, 6)] for a, b in zip(np.asarray(lon, dtype=float).tolist(),
                                                     np.asarray(lat, dtype=float).tolist(),
                                                     strict=True)]
