"""What reading an inventory produces: problems, the raw table, the parsed inventory.

:class:`Problem` is one finding, :class:`ProblemCollector` gathers them while a file is read,
:class:`RawTable` holds a file's records as text before the header is chosen, and
:class:`Inventory` is the result: the canonical frame plus every problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "Inventory",
    "Problem",
    "ProblemCollector",
    "RawTable",
    "Severity",
    "canonical_frame",
    "delimiter_name",
    "empty_frame",
    "format_problems",
    "plural",
    "row_ranges",
]

#: The inventory's canonical columns, in output order.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "id", "name", "address", "postcode", "lat", "lon", "innovation_type")

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of the inventory check.

    Attributes
    ----------
    file
        Inventory file name.
    row
        Spreadsheet row (header = 1), or ``None`` for file-level problems.
    column
        Column as written in the file's header (or the canonical name), or ``None``.
    severity
        ``"error"`` stops a build; ``"warning"`` is reported and the row is kept.
    code
        Stable machine-readable code, e.g. ``"duplicate_id"``.
    message
        Human-readable explanation, with the offending value.
    """

    file: str
    row: int | None
    column: str | None
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.severity}: {self.message} [{self.code}]"


def plural(n: int, word: str) -> str:
    """Return ``"1 row"``, ``"2 rows"``, ``"1,000 rows"``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def row_ranges(rows: Sequence[int], limit: int = 12) -> str:
    """Compress sorted row numbers: ``2-17, 19, 21-40, …``."""
    spans: list[str] = []
    uniq = sorted(set(rows))
    i = 0
    while i < len(uniq):
        j = i
        while j + 1 < len(uniq) and uniq[j + 1] == uniq[j] + 1:
            j += 1
        spans.append(str(uniq[i]) if i == j else f"{uniq[i]}-{uniq[j]}")
        i = j + 1
    if len(spans) > limit:
        return ", ".join(spans[:limit]) + ", …"
    return ", ".join(spans)


def delimiter_name(d: str) -> str:
    """Name a CSV delimiter for messages (``"';' (semicolon)"``, ``"tab"``)."""
    return {"\t": "tab", ",": "',' (comma)", ";": "';' (semicolon)", "|": "'|' (pipe)"}.get(
        d, repr(d))


@dataclass
class Inventory:
    """A parsed inventory: canonical table plus every problem found.

    Attributes
    ----------
    path
        The file read.
    data
        One row per usable input row (empty rows and rows with errors excluded), canonical
        columns first, then the file's other columns, then ``source_row`` (spreadsheet row).
    problems
        Every error and warning: file-level problems first, then by row and column.
    n_input_rows
        Data rows in the file (header excluded), empty ones included, trailing empty ones not.
    columns_map
        File header -> canonical name for the mapped columns.
    details
        How the file was read: ``format``, and where they apply ``encoding``, ``delimiter``,
        ``sheet``/``layer`` and ``header_row``.
    """

    path: Path
    data: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    n_input_rows: int = 0
    columns_map: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop a build."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported but keep the row."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def codes(self, severity: Severity | None = None) -> dict[str, int]:
        """Return how many problems there are of each code (optionally of one severity)."""
        out: dict[str, int] = {}
        for p in self.problems:
            if severity is None or p.severity == severity:
                out[p.code] = out.get(p.code, 0) + 1
        return out

    def report(self, max_per_code: int | None = 5) -> str:
        """Return a plain-text QA report, grouped by problem code.

        Errors come first, then warnings; each code shows its first ``max_per_code``
        problems, then one line ``… and N more rows with [code] (rows …)``. :attr:`problems`
        always keeps every problem.

        Parameters
        ----------
        max_per_code
            Problems shown per code; ``None`` shows them all.

        Returns
        -------
        str
        """
        lines = [f"{self.path.name}: {plural(self.n_input_rows, 'data row')}, "
                 f"{len(self.data):,} usable, {plural(len(self.errors), 'error')}, "
                 f"{plural(len(self.warnings), 'warning')}"]
        d = getattr(self, "details", None) or {}  # absent in inventories pickled by 0.1.0
        if d.get("format"):
            lines.append("  read as " + ", ".join(_how_read(d)))
        mapped = ", ".join(f"'{k}'->{v}" for k, v in self.columns_map.items() if k != v)
        if mapped:
            lines.append(f"  columns mapped: {mapped}")
        lines += format_problems(self.problems, max_per_code)
        return "\n".join(lines)


def _how_read(d: Mapping[str, Any]) -> list[str]:
    """Describe :attr:`Inventory.details` as phrases ("CSV", "encoding utf-8", ...)."""
    how = [str(d["format"]).upper()]
    if d.get("encoding"):
        how.append(f"encoding {d['encoding']}")
    if d.get("delimiter"):
        how.append(f"delimiter {delimiter_name(d['delimiter'])}")
    for key in ("sheet", "layer"):
        if d.get(key):
            how.append(f"{key} '{d[key]}'")
    if d.get("header_row"):
        how.append(f"header on row {d['header_row']}")
    return how


def format_problems(problems: Sequence[Problem], max_per_code: int | None = 5,
                    severities: Sequence[Severity] = ("error", "warning")) -> list[str]:
    """Format problems grouped by severity and code, as in :meth:`Inventory.report`.

    Parameters
    ----------
    problems
        Problems in file order.
    max_per_code
        Problems shown per code before one "… and N more rows" line; ``None`` shows all.
    severities
        Severities to include, in this order.

    Returns
    -------
    list of str
        Indented lines.
    """
    lines: list[str] = []
    for severity in severities:
        groups: dict[str, list[Problem]] = {}
        for p in problems:
            if p.severity == severity:
                groups.setdefault(p.code, []).append(p)
        if not groups:
            continue
        lines.append(f"  {severity}s:")
        for code, probs in groups.items():
            shown = probs if max_per_code is None else probs[:max_per_code]
            lines += [f"    {p}" for p in shown]
            rest = probs[len(shown):]
            if rest:
                rows = [p.row for p in rest if p.row is not None]
                where = f" (rows {row_ranges(rows)})" if rows else ""
                lines.append(f"    … and {len(rest):,} more rows with [{code}]{where}")
    return lines


class ProblemCollector:
    """Gather the problems of one file while it is read and checked.

    Parameters
    ----------
    file
        File name put on every problem.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.summary: list[Problem] = []  # one-line summaries, listed after every row

    def add(self, severity: Severity, code: str, message: str, row: int | None = None,
            column: str | None = None) -> None:
        """Record a problem of this file."""
        self.problems.append(Problem(self.file, row, column, severity, code, message))

    def error(self, code: str, message: str, row: int | None = None,
              column: str | None = None) -> None:
        """Record an error (the row, if any, is excluded)."""
        self.add("error", code, message, row, column)

    def warning(self, code: str, message: str, row: int | None = None,
                column: str | None = None) -> None:
        """Record a warning (the row is kept)."""
        self.add("warning", code, message, row, column)

    def summarise(self, severity: Severity, code: str, message: str,
                  column: str | None = None) -> None:
        """Record a summary of many rows (no row), listed after every row's problems."""
        self.summary.append(Problem(self.file, None, column, severity, code, message))

    def sorted(self, column_order: Mapping[str, int]) -> list[Problem]:
        """File-level problems first, then by row and column (stable), then summaries."""
        big = len(column_order) + 1

        def key(p: Problem) -> tuple[int, int, int]:
            if p.row is None:
                return (0, 0, 0)
            col = -1 if p.column is None else column_order.get(p.column, big)
            return (1, p.row, col)

        return sorted(self.problems, key=key) + self.summary


@dataclass
class RawTable:
    """Raw records as text, before the header is chosen."""

    records: list[list[str]]
    numbers: list[int]                       # spreadsheet row number of each record
    fmt: str
    details: dict[str, Any] = field(default_factory=dict)
    geometry: list[tuple[float, float] | None] | None = None  # aligned with records
    fixed_header: bool = False               # vector/JSON input: the first record is the header
    delimited: bool = False                  # CSV: row lengths matter
    delimiter: str = ","


def canonical_frame(data: Mapping[str, Any]) -> pd.DataFrame:
    """Build the canonical frame with stable dtypes (text as object)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(data["id"])))
    for name, values in data.items():
        if name in ("lat", "lon"):
            out[name] = np.asarray(values, dtype=float)
        elif name == "innovation_type":
            out[name] = pd.array([pd.NA if v is None else int(v) for v in values],
                                 dtype="Int64")
        elif name == "source_row":
            out[name] = np.asarray(values, dtype=np.int64)
        else:
            out[name] = pd.Series(list(values), dtype=object, index=out.index)
    return out


def empty_frame() -> pd.DataFrame:
    """Return the canonical frame with no rows."""
    return canonical_frame({c: [] for c in (*CANONICAL_COLUMNS, "source_row")})
