"""The address gazetteer: its files, and the index the matcher searches, as plain data.

A gazetteer is a folder laid out like the bundle's ``addresses/``: ``bcn_addresses.csv`` (the
Ajuntament's 175k address points), ``bcn_streets.csv`` (the street register, with previous and
short names) and, optionally, ``bcn_street_types.csv`` (the Ajuntament's type abbreviations).
:func:`build_gazetteer_index` parses it into a :class:`GazetteerIndex` (about 0.45 s on the
bundle); :meth:`GazetteerIndex.to_bytes` and :meth:`GazetteerIndex.from_bytes` turn an index
into bytes and back (about 0.1 s), for whoever wants to keep it between processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._errors import GeocodingError, MissingDataError
from .normalize import HONORIFICS, PARTICLES, TYPE_WORDS, _tokens, fold, street_key

__all__ = [
    "ADDRESS_FILE",
    "ALGORITHM_VERSION",
    "STREETS_FILE",
    "TYPES_FILE",
    "GazetteerIndex",
    "Street",
    "build_gazetteer_index",
    "check_gazetteer",
    "gazetteer_digest",
    "gazetteer_files",
]

logger = logging.getLogger(__name__)

#: Bumped whenever matching rules change, so cached offline answers are recomputed.
ALGORITHM_VERSION = "1"

ADDRESS_FILE = "bcn_addresses.csv"
STREETS_FILE = "bcn_streets.csv"
TYPES_FILE = "bcn_street_types.csv"

_ADDRESS_COLUMNS = ("street_type", "street_name", "full_street", "number", "lat", "lon",
                    "street_code", "number_int", "number_letter", "postcode", "census_section")
_STREET_COLUMNS = ("street_code", "street_type", "street_name", "full_street")
_TYPE_COLUMNS = ("street_type_abbr", "street_type")
_CODE_COLUMNS = ("street_code", "ine_street_code", "street_type_abbr", "number",
                 "number_letter", "district_code", "barri_code", "postcode", "census_section")

#: One entry of the name index: (street type or None, street code, points subtracted).
CoreEntry = tuple[str | None, str, float]


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def gazetteer_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the gazetteer files present in ``folder`` (addresses, streets, types).

    Parameters
    ----------
    folder
        A gazetteer folder.
    """
    folder = Path(folder)
    return [folder / n for n in (ADDRESS_FILE, STREETS_FILE, TYPES_FILE)
            if (folder / n).is_file()]


def check_gazetteer(folder: str | os.PathLike[str]) -> None:
    """Check that ``folder`` holds a gazetteer: required files and their columns.

    Only the header lines are read.

    Parameters
    ----------
    folder
        A gazetteer folder.

    Raises
    ------
    cwsgeo.MissingDataError
        The folder or a required file is missing.
    cwsgeo.GeocodingError
        A file lacks required columns.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingDataError(
            f"address gazetteer folder not found: {folder} (expected {ADDRESS_FILE} "
            f"and {STREETS_FILE}; run 'cwsgeo fetch' or point the config at the mirror)")
    for name, required in ((ADDRESS_FILE, _ADDRESS_COLUMNS), (STREETS_FILE, _STREET_COLUMNS)):
        path = folder / name
        if not path.is_file():
            raise MissingDataError(f"address gazetteer file not found: {path}")
        _require_columns(path, required)
    types = folder / TYPES_FILE
    if types.is_file():
        _require_columns(types, _TYPE_COLUMNS)


def gazetteer_digest(folder: str | os.PathLike[str]) -> str:
    """Return a hash of the gazetteer files' bytes and of :data:`ALGORITHM_VERSION`.

    It names the gazetteer's content in cache keys (about 0.02 s on the bundle).

    Parameters
    ----------
    folder
        A gazetteer folder.

    Returns
    -------
    str
        16 hex digits.
    """
    digest = hashlib.sha256(f"cwsgeo-geocoding-{ALGORITHM_VERSION}".encode())
    for path in gazetteer_files(folder):
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()[:16]


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            line = fh.readline()
    except OSError as exc:
        raise MissingDataError(f"cannot read gazetteer file {path}: {exc}") from None
    return [c.strip().strip('"') for c in line.rstrip("\r\n").split(",")]


def _require_columns(path: Path, required: Sequence[str]) -> None:
    missing = [c for c in required if c not in _read_header(path)]
    if missing:
        raise GeocodingError(f"{path}: missing column(s) {', '.join(missing)}")


def _read_csv(path: Path, usecols: Sequence[str] | None = None) -> pd.DataFrame:
    dtype = dict.fromkeys(_CODE_COLUMNS, str)
    kwargs: dict[str, Any] = {"dtype": dtype, "keep_default_na": False, "na_values": [""],
                              "encoding": "utf-8"}
    if usecols is not None:
        kwargs["usecols"] = list(usecols)
    try:
        return pd.read_csv(path, engine="pyarrow", **kwargs)
    except ImportError:  # pragma: no cover - pyarrow missing
        return pd.read_csv(path, **kwargs)
    except Exception as exc:
        raise GeocodingError(f"{path}: cannot be read as the address gazetteer: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------------


@dataclass
class Street:
    """A street of the gazetteer: its address points are rows ``start:end`` of the index.

    Attributes
    ----------
    code
        The Ajuntament's street code.
    kind
        Street type, folded (``"carrer"``, ``"avinguda"`` ...).
    core
        Name key (folded, no particles, Catalan words).
    full
        Official full name, e.g. ``"Carrer d'Aragó"``.
    start, end
        Rows of the street's address points (equal for a street without points).
    rep
        Row of its representative point: the address point nearest to the median of its
        points (``-1`` without points).
    postcodes
        Postcodes of its address points.
    """

    code: str
    kind: str
    core: str
    full: str
    start: int
    end: int
    rep: int
    postcodes: frozenset[str] = field(default_factory=frozenset)

    @property
    def n(self) -> int:
        """Number of address points."""
        return self.end - self.start


@dataclass
class GazetteerIndex:
    """The parsed gazetteer: address points as arrays sorted by street and number, streets.

    Build it with :func:`build_gazetteer_index` (or :meth:`from_folder`). The point arrays
    are parallel (one row per address point, sorted by street code, number and letter).

    Attributes
    ----------
    version
        :func:`gazetteer_digest` of the files it was built from.
    types
        Street-type vocabulary: :data:`~cwsgeo.analysis.geocoding.TYPE_WORDS` plus the
        Ajuntament's abbreviations.
    codes, nums, letters, number_text
        Street code, house number, letter and number as written of each point.
    lat, lon
        EPSG:4326 coordinates of each point.
    postcode, section
        Postcode and census section of each point.
    streets
        Street code -> :class:`Street` (also the register's streets without points).
    main_street_of_kind
        Street type -> the street holding at least 80 % of that type's points.
    by_core
        Name key -> streets found by that key (official, previous or short name, name without
        its title).
    cores
        The keys of ``by_core`` as a list (searched by fuzzy matching).
    """

    version: str
    types: dict[tuple[str, ...], str]
    codes: np.ndarray
    nums: np.ndarray
    letters: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    postcode: np.ndarray
    section: np.ndarray
    number_text: np.ndarray
    streets: dict[str, Street]
    main_street_of_kind: dict[str, str]
    by_core: dict[str, list[CoreEntry]]
    cores: list[str]

    @classmethod
    def from_folder(cls, folder: str | os.PathLike[str]) -> GazetteerIndex:
        """Parse the gazetteer in ``folder`` (see :func:`build_gazetteer_index`)."""
        return build_gazetteer_index(folder)

    def to_bytes(self) -> bytes:
        """Return the index as bytes (a pickle; read back with :meth:`from_bytes`)."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> GazetteerIndex:
        """Read an index written by :meth:`to_bytes` (trusted data only: it is a pickle).

        Raises
        ------
        TypeError
            ``data`` holds something else.
        """
        index = pickle.loads(data)  # trusted: cwsgeo's own cache
        if not isinstance(index, cls):
            raise TypeError(f"not a {cls.__name__}: {type(index).__name__}")
        return index

    @property
    def n_points(self) -> int:
        """Number of address points."""
        return len(self.codes)


def build_gazetteer_index(folder: str | os.PathLike[str]) -> GazetteerIndex:
    """Parse the gazetteer in ``folder`` into the matcher's arrays and street index.

    Parameters
    ----------
    folder
        Folder with ``bcn_addresses.csv``, ``bcn_streets.csv`` and (optionally)
        ``bcn_street_types.csv``.

    Returns
    -------
    GazetteerIndex

    Raises
    ------
    cwsgeo.MissingDataError
        The folder or a required file is missing.
    cwsgeo.GeocodingError
        A file lacks required columns or cannot be read.
    """
    folder = Path(folder)
    check_gazetteer(folder)
    types = _street_types(folder)
    addr = _read_address_points(folder / ADDRESS_FILE)
    streets = _streets_with_points(addr)
    aliases = _add_register(folder / STREETS_FILE, streets, types)
    by_core = _core_index(streets.values(), aliases)
    return GazetteerIndex(
        version=gazetteer_digest(folder), types=types,
        codes=addr["street_code"].to_numpy(dtype=object),
        nums=addr["number_int"].to_numpy(dtype=np.int64),
        letters=addr["number_letter"].to_numpy(dtype=object),
        lat=addr["lat"].to_numpy(dtype=float), lon=addr["lon"].to_numpy(dtype=float),
        postcode=addr["postcode"].to_numpy(dtype=object),
        section=addr["census_section"].to_numpy(dtype=object),
        number_text=addr["number"].astype(str).to_numpy(dtype=object),
        streets=streets, main_street_of_kind=_main_street_of_kind(streets.values()),
        by_core=by_core, cores=list(by_core))


def _core(name: str) -> str:
    return " ".join(t for t in _tokens(name) if t not in PARTICLES)


def _street_types(folder: Path) -> dict[tuple[str, ...], str]:
    """Return :data:`TYPE_WORDS` plus the Ajuntament's abbreviations (if the file exists)."""
    types = dict(TYPE_WORDS)
    path = folder / TYPES_FILE
    if path.is_file():
        tt = _read_csv(path, _TYPE_COLUMNS)
        for abbr, word in zip(tt["street_type_abbr"], tt["street_type"], strict=True):
            if isinstance(abbr, str) and isinstance(word, str):
                types.setdefault(tuple(fold(abbr).split()), fold(word))
                types.setdefault(tuple(fold(word).split()), fold(word))
    return types


def _read_address_points(path: Path) -> pd.DataFrame:
    """Read the address points with coordinates and number, sorted by street and number."""
    cols = [*_ADDRESS_COLUMNS, *(c for c in ("district_code", "barri_code")
                                 if c in _read_header(path))]
    addr = _read_csv(path, cols)
    bad = addr["lat"].isna() | addr["lon"].isna() | addr["number_int"].isna()
    if bad.any():
        logger.warning("%s: %d rows without coordinates or number ignored", path,
                       int(bad.sum()))
        addr = addr[~bad]
    for col in ("street_code", "number_letter", "postcode", "census_section", "full_street",
                "street_type", "street_name"):
        addr[col] = addr[col].fillna("").astype(str)
    addr = addr.sort_values(["street_code", "number_int", "number_letter"], kind="stable")
    return addr.reset_index(drop=True)


def _representative_rows(addr: pd.DataFrame) -> dict[str, int]:
    """Street code -> row of the address point nearest to the median of its points."""
    lat = addr["lat"].to_numpy(dtype=float)
    lon = addr["lon"].to_numpy(dtype=float)
    grp = addr.groupby("street_code", sort=False)
    med_lat = grp["lat"].transform("median").to_numpy()
    med_lon = grp["lon"].transform("median").to_numpy()
    dist = (lat - med_lat) ** 2 + ((lon - med_lon) * 0.75) ** 2
    rep = pd.Series(dist).groupby(addr["street_code"].to_numpy(), sort=False).idxmin()
    return {str(k): int(v) for k, v in rep.to_dict().items()}


def _streets_with_points(addr: pd.DataFrame) -> dict[str, Street]:
    """Return a :class:`Street` for each street code of the (sorted) address points."""
    codes_of_rows = addr["street_code"].to_numpy(dtype=object)
    codes, starts, counts = np.unique(codes_of_rows.astype(str), return_index=True,
                                      return_counts=True)
    pcs_of: dict[str, set[str]] = {}
    pairs = addr.loc[addr["postcode"] != "", ["street_code", "postcode"]].drop_duplicates()
    for code, pc in zip(pairs["street_code"].tolist(), pairs["postcode"].tolist(), strict=True):
        pcs_of.setdefault(code, set()).add(pc)
    rep_of = _representative_rows(addr)
    kinds = addr["street_type"].to_numpy(dtype=object)
    names = addr["street_name"].to_numpy(dtype=object)
    fulls = addr["full_street"].to_numpy(dtype=object)
    streets: dict[str, Street] = {}
    for code, start, count in zip(codes.tolist(), starts.tolist(), counts.tolist(),
                                  strict=True):
        streets[code] = Street(
            code=code, kind=fold(kinds[start]), core=_core(names[start]), full=fulls[start],
            start=start, end=start + count, rep=int(rep_of[code]),
            postcodes=frozenset(pcs_of.get(code, ())))
    return streets


def _add_register(path: Path, streets: dict[str, Street],
                  types: dict[tuple[str, ...], str]) -> list[tuple[str, str | None, str]]:
    """Add the register's streets without points to ``streets``; return its aliases.

    Aliases are ``(core, kind, code)`` of the 2019 name (``previous_full_street``) and of the
    short name.
    """
    register = _read_csv(path)
    aliases: list[tuple[str, str | None, str]] = []
    for rec in register.itertuples(index=False):
        code = str(rec.street_code)
        if code not in streets:
            streets[code] = Street(code, fold(str(rec.street_type)), _core(str(rec.street_name)),
                                   str(rec.full_street), 0, 0, -1)
        for alias in (getattr(rec, "previous_full_street", None),
                      getattr(rec, "short_name", None)):
            if isinstance(alias, str) and alias.strip():
                aliases.extend((core, kind, code) for kind, core in street_key(alias, types)[:1])
    return aliases


def _main_street_of_kind(streets: Iterable[Street]) -> dict[str, str]:
    """Street type -> the street holding at least 80 % of that type's address points."""
    per_kind: dict[str, list[Street]] = {}
    for st in streets:
        per_kind.setdefault(st.kind, []).append(st)
    return {kind: top.code for kind, group in per_kind.items()
            if (top := max(group, key=lambda s: s.n)).n >= 0.8 * sum(s.n for s in group) > 0}


def _core_index(streets: Iterable[Street], aliases: Iterable[tuple[str, str | None, str]]
                ) -> dict[str, list[CoreEntry]]:
    """Name key -> streets: official names, aliases, names without a title (5 points less)."""
    streets = list(streets)
    by_core: dict[str, list[CoreEntry]] = {}
    for st in streets:
        by_core.setdefault(st.core, []).append((st.kind, st.code, 0.0))
    for core, kind, code in aliases:
        if not any(e[1] == code for e in by_core.get(core, ())):
            by_core.setdefault(core, []).append((kind, code, 0.0))
    # the name without its title ("Doctor Letamendi" -> "Letamendi"), 5 points less
    for st in streets:
        words = st.core.split()
        if len(words) > 1 and words[0] in HONORIFICS:
            short = " ".join(words[1:])
            if not any(e[1] == st.code for e in by_core.get(short, ())):
                by_core.setdefault(short, []).append((st.kind, st.code, 5.0))
    by_core.pop("", None)
    return by_core
