"""What reading an inventory produces: problems, the raw table, the parsed inventory.

:class:`Problem` is one finding, :class:`ProblemCollector` gathers them while a file is read,
:class:`RawTable` holds a file's records as text before the header is chosen, and
:class:`Inventory` is the result: the canonical frame plus every problem.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "KEEP_PER_CODE",
    "Inventory",
    "Omitted",
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

#: Problems kept per severity and code while a file is checked; the rest are only counted
#: (with their rows), so a file with a problem on every row stays small in memory.
KEEP_PER_CODE = 1_000


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


@dataclass(frozen=True)
class Omitted:
    """Problems of one code found beyond :data:`KEEP_PER_CODE`: counted, not kept.

    Attributes
    ----------
    severity, code
        As in :class:`Problem`.
    count
        How many were not kept.
    rows
        Their rows (sorted, no file-level ones).
    """

    severity: Severity
    code: str
    count: int
    rows: tuple[int, ...] = ()


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
    omitted
        Problems beyond the first :data:`KEEP_PER_CODE` of a code: counted (with their rows)
        in :meth:`codes`, :meth:`report` and the totals, not kept in ``problems``.
    """

    path: Path
    data: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    n_input_rows: int = 0
    columns_map: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    omitted: list[Omitted] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop a build (the kept ones: see :attr:`omitted`)."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported but keep the row (the kept ones: see :attr:`omitted`)."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors

    def codes(self, severity: Severity | None = None) -> dict[str, int]:
        """Return how many problems there are of each code (optionally of one severity).

        The counts include the problems :attr:`omitted` beyond the kept ones.
        """
        out: dict[str, int] = {}
        for p in self.problems:
            if severity is None or p.severity == severity:
                out[p.code] = out.get(p.code, 0) + 1
        for o in getattr(self, "omitted", ()):  # absent in inventories pickled before 0.2
            if severity is None or o.severity == severity:
                out[o.code] = out.get(o.code, 0) + o.count
        return out

    def report(self, max_per_code: int | None = 5) -> str:
        """Return a plain-text QA report, grouped by problem code.

        Errors come first, then warnings; each code shows its first ``max_per_code``
        problems, then one line ``… and N more rows with [code] (rows …)``; the counts
        include the problems :attr:`omitted` beyond the first :data:`KEEP_PER_CODE`.

        Parameters
        ----------
        max_per_code
            Problems shown per code; ``None`` shows them all.

        Returns
        -------
        str
        """
        n_errors = sum(self.codes("error").values())
        n_warnings = sum(self.codes("warning").values())
        lines = [f"{self.path.name}: {plural(self.n_input_rows, 'data row')}, "
                 f"{len(self.data):,} usable, {plural(n_errors, 'error')}, "
                 f"{plural(n_warnings, 'warning')}"]
        d = getattr(self, "details", None) or {}  # absent in inventories pickled by 0.1.0
        if d.get("format"):
            lines.append("  read as " + ", ".join(_how_read(d)))
        mapped = ", ".join(f"'{k}'->{v}" for k, v in self.columns_map.items() if k != v)
        if mapped:
            lines.append(f"  columns mapped: {mapped}")
        lines += format_problems(self.problems, max_per_code,
                                 omitted=getattr(self, "omitted", ()))
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
                    severities: Sequence[Severity] = ("error", "warning"),
                    omitted: Iterable[Omitted] = ()) -> list[str]:
    """Format problems grouped by severity and code, as in :meth:`Inventory.report`.

    Parameters
    ----------
    problems
        Problems in file order.
    max_per_code
        Problems shown per code before one "… and N more rows" line; ``None`` shows all.
    severities
        Severities to include, in this order.
    omitted
        Problems counted but not kept (:attr:`Inventory.omitted`): added to the "more" line.

    Returns
    -------
    list of str
        Indented lines.
    """
    lines: list[str] = []
    extra = {(o.severity, o.code): o for o in omitted}
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
            more = extra.get((severity, code))
            n_rest = len(rest) + (more.count if more else 0)
            if n_rest:
                rows = [p.row for p in rest if p.row is not None]
                if more:
                    rows += more.rows
                where = f" (rows {row_ranges(rows)})" if rows else ""
                lines.append(f"    … and {n_rest:,} more rows with [{code}]{where}")
    return lines


class ProblemCollector:
    """Gather the problems of one file while it is read and checked.

    Parameters
    ----------
    file
        File name put on every problem.
    keep
        Problems kept per severity and code; beyond them only the count and rows are kept.
    """

    def __init__(self, file: str, keep: int = KEEP_PER_CODE) -> None:
        self.file = file
        self.keep = keep
        self.problems: list[Problem] = []
        self.summary: list[Problem] = []  # one-line summaries, listed after every row
        self._kept: dict[tuple[Severity, str], int] = {}
        self._over: dict[tuple[Severity, str], int] = {}
        self._over_rows: dict[tuple[Severity, str], array[int]] = {}

    def add(self, severity: Severity, code: str, message: str, row: int | None = None,
            column: str | None = None) -> None:
        """Record a problem of this file (counted only, beyond ``keep`` of its code)."""
        key = (severity, code)
        kept = self._kept.get(key, 0)
        if kept < self.keep:
            self._kept[key] = kept + 1
            self.problems.append(Problem(self.file, row, column, severity, code, message))
            return
        self._over[key] = self._over.get(key, 0) + 1
        if row is not None:
            self._over_rows.setdefault(key, array("l")).append(row)

    def rows(self) -> set[int]:
        """Rows that have a problem so far (kept or only counted)."""
        return {p.row for p in self.problems if p.row is not None}.union(
            *self._over_rows.values())

    def discard(self, code: str, rows: set[int]) -> None:
        """Forget the problems of one code on some rows (superseded by a better message)."""
        self.problems = [p for p in self.problems if not (p.code == code and p.row in rows)]
        for key in [k for k in self._over_rows if k[1] == code]:
            before = self._over_rows[key]
            after = array("l", (r for r in before if r not in rows))
            self._over[key] -= len(before) - len(after)
            self._over_rows[key] = after

    def omitted(self) -> list[Omitted]:
        """Return the problems counted beyond ``keep`` of their code, one record per code."""
        return [Omitted(sev, code, n, tuple(sorted(self._over_rows.get((sev, code), ()))))
                for (sev, code), n in self._over.items() if n > 0]

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
    index = pd.RangeIndex(len(data["id"]))
    columns: dict[str, Any] = {}  # built at once: inserting hundreds of columns fragments
    for name, values in data.items():
        if name in ("lat", "lon"):
            columns[name] = pd.Series(np.asarray(values, dtype=float), index=index)
        elif name == "innovation_type":
            columns[name] = pd.Series(pd.array(
                [pd.NA if v is None else int(v) for v in values], dtype="Int64"), index=index)
        elif name == "source_row":
            columns[name] = pd.Series(np.asarray(values, dtype=np.int64), index=index)
        else:
            columns[name] = pd.Series(list(values), dtype=object, index=index)
    return pd.DataFrame(columns, index=index)


def empty_frame() -> pd.DataFrame:
    """Return the canonical frame with no rows."""
    return canonical_frame({c: [] for c in (*CANONICAL_COLUMNS, "source_row")})
