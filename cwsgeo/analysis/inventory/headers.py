"""Header rows: find the header, and map English, Spanish and Catalan headers to columns.

A header maps to a canonical column through an explicit mapping first (``{"Espai": "name"}``),
then :data:`HEADER_SYNONYMS`, compared after :func:`cwsgeo._text.fold` and with units dropped
(``"Latitude (WGS84)"`` is ``lat``). Other columns are carried through under their header.

Examples
--------
>>> canonical_for("Código postal", {}), canonical_for("Latitude (WGS84)", {})
('postcode', 'lat')
>>> canonical_for("Espai", {"espai": "name"})
'name'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..._text import fold
from .model import CANONICAL_COLUMNS, ProblemCollector, RawTable, plural
from .values import clean_cell, parse_innovation_type

__all__ = [
    "HEADER_SYNONYMS",
    "HeaderMapping",
    "canonical_for",
    "demote_weak_type_columns",
    "find_header",
    "map_headers",
    "unique_name",
]


HEADER_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(["id", "identifier", "identificador", "codi", "codigo", "code", "ref",
                     "reference", "referencia", "space id", "cws id", "uid", "id espai",
                     "id espacio"], "id"),
    **dict.fromkeys(["name", "nombre", "nom", "space", "space name", "espacio", "espai",
                     "coworking", "nombre del espacio", "nom de l espai", "title", "titulo",
                     "titol", "denominacion", "denominacio", "coworking name",
                     "nombre coworking", "nom coworking"], "name"),
    **dict.fromkeys(["address", "direccion", "adreca", "domicilio", "domicili", "street",
                     "street address", "calle", "carrer", "via", "ubicacion", "location address",
                     "direccion postal", "adreca postal", "full address", "addr"], "address"),
    **dict.fromkeys(["postcode", "post code", "postal code", "postalcode", "zip", "zip code",
                     "zipcode", "cp", "c p", "codigo postal", "codi postal", "cod postal",
                     "postal"], "postcode"),
    **dict.fromkeys(["lat", "latitude", "latitud", "y lat", "lat wgs84", "latitud wgs84",
                     "geo epgs 4326 lat", "geo epsg 4326 lat"], "lat"),
    **dict.fromkeys(["lon", "lng", "long", "longitude", "longitud", "x lon", "lon wgs84",
                     "longitud wgs84", "geo epgs 4326 lon", "geo epsg 4326 lon"], "lon"),
    **dict.fromkeys(["innovation type", "innovation", "type", "tipo", "tipus",
                     "tipo de innovacion", "tipus d innovacio", "tipus innovacio",
                     "tipo innovacion", "innovacion", "innovacio", "innovation class",
                     "innovation level", "nivel de innovacion", "nivell d innovacio",
                     "innovation category", "categoria de innovacion",
                     "categoria d innovacio"], "innovation_type"),
}

_WEAK_SYNONYMS = {"type", "tipo", "tipus"}
_UNIT_TOKENS = {"wgs84", "wgs", "84", "4326", "epsg", "deg", "degrees", "graus", "grados",
                "dd", "decimal", "decimal degrees"}


def canonical_for(header: str, explicit: Mapping[str, str]) -> str | None:
    """Canonical column a header maps to (explicit mapping first, then synonyms)."""
    f = fold(header)
    if not f:
        return None
    if f in explicit:
        return explicit[f]
    if f in HEADER_SYNONYMS:
        return HEADER_SYNONYMS[f]
    # "Latitude (WGS84)", "lat [deg]", "Longitud ETRS89"...: drop units and parentheses
    base = fold(re.split(r"[(\[]", header, maxsplit=1)[0])
    if base in HEADER_SYNONYMS:
        return HEADER_SYNONYMS[base]
    tokens = f.split()
    while tokens and tokens[-1] in _UNIT_TOKENS:
        tokens.pop()
    return HEADER_SYNONYMS.get(" ".join(tokens))


def find_header(table: RawTable, explicit: Mapping[str, str], col: ProblemCollector) -> int | None:
    """Index of the header record (see the package docstring), or None if all are empty."""
    nonempty = list(itertools.islice(
        (i for i, r in enumerate(table.records) if "".join(r).strip()), 20))
    if not nonempty:
        return None
    if table.fixed_header:
        return 0
    first = nonempty[0]
    for i in nonempty[:20]:
        names = {canonical_for(c, explicit) for c in table.records[i]}
        if {"id", "name"} <= names or len(names - {None}) >= 3:
            if i != first:
                above = [j for j in nonempty if j < i]
                shown = "; ".join(
                    repr(" ".join(c for c in table.records[j] if c.strip())[:60])
                    for j in above[:3])
                col.warning("rows_above_header", f"the header is on row {table.numbers[i]}; "
                            f"{plural(len(above), 'row')} above it ignored: {shown}",
                            row=table.numbers[i])
            return i
    return first


@dataclass
class HeaderMapping:
    """Where each column of the header goes."""

    out_name: dict[int, str]      # column index -> output column (canonical or carried)
    canon: dict[str, int]         # canonical column -> column index
    label: dict[int, str]         # column index -> header as written (for messages)
    weak: set[int] = field(default_factory=set)  # mapped through a generic synonym ("Type")


def unique_name(name: str, taken: set[str]) -> str:
    """Return ``name``, or ``name_2``, ``name_3``... when it is taken."""
    if name not in taken:
        return name
    k = 2
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


@dataclass
class _Header:
    """A header row being mapped, and where its problems go."""

    cells: Sequence[str]
    folded: list[str]
    row: int
    has_data: Callable[[int], bool]
    col: ProblemCollector


def map_headers(header: Sequence[str], explicit: Mapping[str, str], ignore: Iterable[str],
                col: ProblemCollector, header_row: int,
                column_has_data: Callable[[int], bool]) -> HeaderMapping | None:
    """Map header cells to output columns.

    Parameters
    ----------
    header
        Header cells as written (stripped).
    explicit
        The user's mapping, file header -> canonical name.
    ignore
        Headers to leave out.
    col
        Where problems go.
    header_row
        Spreadsheet row of the header (for messages).
    column_has_data
        Whether column ``i`` has a value in some data row (a blank header over values is
        carried through, over nothing it is dropped).

    Returns
    -------
    HeaderMapping or None
        None when a fatal problem (``bad_mapping``, ``duplicate_column``, ``missing_column``)
        was reported.
    """
    ignore = list(ignore)
    h = _Header(header, [fold(c) for c in header], header_row, column_has_data, col)
    explicit_f, fatal = _explicit_targets(h, explicit)
    for name in ignore:
        if fold(str(name)) not in h.folded:
            col.warning("bad_mapping", f"ignore_columns names {name!r}, which is not in the "
                        "header", column=str(name))
    mapping, carried, clash = _assign_columns(h, explicit_f, ignore)
    _name_carried(h, carried, mapping.out_name)
    fatal = _check_required(h, mapping.canon) or clash or fatal
    return None if fatal else mapping


def _explicit_targets(h: _Header, explicit: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    """Check the explicit mapping; return (folded header -> canonical, fatal)."""
    explicit_f: dict[str, str] = {}
    fatal = False
    for src, dst in explicit.items():
        if dst not in CANONICAL_COLUMNS:
            hint = ""
            if src in CANONICAL_COLUMNS and fold(str(dst)) in h.folded:
                hint = f"; did you mean {{{dst!r}: {src!r}}} (file header -> canonical name)?"
            h.col.error("bad_mapping", f"column mapping {src!r} -> {dst!r}: {dst!r} is not one "
                        f"of {', '.join(CANONICAL_COLUMNS)}{hint}", column=str(src))
            fatal = True
            continue
        if fold(str(src)) not in h.folded:
            h.col.error("bad_mapping", f"column mapping names {src!r}, which is not in the "
                        f"header ({', '.join(repr(c) for c in h.cells if c)})",
                        column=str(src))
            fatal = True
            continue
        explicit_f[fold(str(src))] = dst
    return explicit_f, fatal


def _assign_columns(h: _Header, explicit_f: Mapping[str, str],
                    ignore: list[str]) -> tuple[HeaderMapping, list[int], bool]:
    """Give each column a canonical target; return (mapping, carried columns, fatal)."""
    ignore_f = {fold(str(c)) for c in ignore}
    claimed = set(explicit_f.values())
    mp = HeaderMapping({}, {}, {})
    carried: list[int] = []
    fatal = False
    for i, (raw, f) in enumerate(zip(h.cells, h.folded, strict=True)):
        if (f and f in ignore_f) or raw in ignore:
            continue
        mp.label[i] = raw or f"column_{i + 1}"
        if not raw.strip():
            if h.has_data(i):
                h.col.warning("blank_header", f"column {i + 1} has values but no header; "
                              f"carried through as 'column_{i + 1}'", row=h.row,
                              column=f"column_{i + 1}")
                carried.append(i)
            continue
        target = explicit_f.get(f)
        if target is None:
            syn = canonical_for(raw, {})
            if syn is not None and syn in claimed:
                h.col.warning("shadowed_column", f"column {raw!r} is not used as '{syn}' "
                              f"because the column mapping maps another column to '{syn}'; it "
                              "is carried through", row=h.row, column=raw)
            elif syn is not None:
                target = syn
                if f in _WEAK_SYNONYMS:
                    mp.weak.add(i)
        if target is None:
            carried.append(i)
            continue
        if target in mp.canon and (i in mp.weak or mp.canon[target] in mp.weak):
            # a generic header ("Type") yields to a specific one ("Innovation type")
            loser = i if i in mp.weak else mp.canon[target]
            mp.weak.discard(loser)
            carried.append(loser)
            mp.out_name.pop(loser, None)
            if loser == i:
                continue
        elif target in mp.canon:
            first = h.cells[mp.canon[target]]
            h.col.error("duplicate_column", f"columns {first!r} and {raw!r} both map to "
                        f"'{target}'; rename one, drop one (ignore_columns) or give an explicit "
                        "column mapping", row=h.row, column=raw)
            fatal = True
            continue
        mp.canon[target] = i
        mp.out_name[i] = target
    return mp, carried, fatal


def _name_carried(h: _Header, carried: list[int], out: dict[int, str]) -> None:
    """Name the carried-through columns (``name_2`` for a repeated header)."""
    taken = {*CANONICAL_COLUMNS, "source_row"}
    raw_seen: dict[str, int] = {}
    for i in sorted(carried):
        raw = h.cells[i].strip() or f"column_{i + 1}"
        if raw in raw_seen:
            h.col.warning("duplicate_header", f"the header {raw!r} appears twice (also column "
                          f"{raw_seen[raw] + 1}); this one is carried through as "
                          f"{unique_name(raw, taken)!r}", row=h.row, column=raw)
        else:
            raw_seen[raw] = i
        name = unique_name(raw, taken)
        taken.add(name)
        out[i] = name


def _check_required(h: _Header, canon: Mapping[str, int]) -> bool:
    """Report a missing ``id``/``name`` or a lone ``lat``/``lon``; return True if any."""
    fatal = False
    header = h.cells
    single = ""
    if len(header) == 1 and re.search(r"[^\w\s'’-]", header[0]):
        single = (f"; the header was read as the single column {header[0][:60]!r}: separate "
                  "columns with ',', ';', tab or '|'")
    for req in ("id", "name"):
        if req not in canon:
            accepted = ", ".join(sorted(k for k, v in HEADER_SYNONYMS.items() if v == req))
            h.col.error("missing_column", f"required column '{req}' is missing (accepted "
                        f"headers: {accepted}; or give an explicit column mapping){single}",
                        row=h.row, column=req)
            fatal = True
    if ("lat" in canon) != ("lon" in canon):
        have, miss = ("lat", "lon") if "lat" in canon else ("lon", "lat")
        h.col.error("missing_column", f"column {header[canon[have]]!r} ({have}) has no "
                    f"matching '{miss}' column", row=h.row, column=miss)
        fatal = True
    return fatal


def demote_weak_type_columns(mp: HeaderMapping, header: Sequence[str],
                             rows: Sequence[Sequence[str]], col: ProblemCollector,
                             header_row: int) -> None:
    """Carry a generic "Type" column through when its values are not innovation types.

    Parameters
    ----------
    mp
        The header mapping, changed in place.
    header
        Header cells as written.
    rows
        Data rows.
    col
        Where the ``unmapped_column`` warning goes.
    header_row
        Spreadsheet row of the header.
    """
    for i in list(mp.weak):
        values = {clean_cell(r[i]) for r in rows if i < len(r)} - {""}
        failing = 0
        for v in values:
            try:
                parse_innovation_type(v)
            except ValueError:
                failing += 1
        if values and failing > len(values) / 2:
            sample = ", ".join(repr(v) for v in sorted(values)[:3])
            sample += ", …" if len(values) > 3 else ""
            col.warning("unmapped_column", f"column {header[i]!r} is not read as the "
                        f"innovation type: its values ({sample}) are not innovation types; "
                        "it is carried through (map it explicitly if it is the innovation "
                        "type)", row=header_row, column=header[i])
            del mp.canon["innovation_type"]
            mp.out_name[i] = unique_name(header[i], set(mp.out_name.values()) |
                                         {*CANONICAL_COLUMNS, "source_row"})
