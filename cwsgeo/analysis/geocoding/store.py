"""Where geocoding answers are kept: any ``MutableMapping[str, GeocodeResult]``.

:class:`~cwsgeo.analysis.geocoding.Geocoder` takes such a *store* and asks it before it
geocodes an address (a plain ``dict`` keeps answers for a session). :class:`SQLiteResultStore`
keeps them in one SQLite file across sessions, the way osmnx keeps its HTTP answers in a cache
folder: pass ``SQLiteResultStore("geocode.sqlite")``, or ``cache_dir`` to
:meth:`Geocoder.from_dir <cwsgeo.analysis.geocoding.Geocoder.from_dir>`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path

from .result import GeocodeResult

__all__ = ["ResultStore", "SQLiteResultStore"]

logger = logging.getLogger(__name__)

#: What a :class:`~cwsgeo.analysis.geocoding.Geocoder` keeps its answers in.
ResultStore = MutableMapping[str, GeocodeResult]


class SQLiteResultStore(MutableMapping[str, GeocodeResult]):
    """Geocoding answers in an SQLite file, keyed by text; each write is one transaction.

    The file is opened on first use. A damaged file is only a cache: it is moved aside
    (``<name>.corrupt-<time>``, for inspection) and a new one is started; an unreadable entry
    counts as missing.

    Parameters
    ----------
    path
        The database file (its folder is created when needed).

    Examples
    --------
    >>> import tempfile
    >>> from cwsgeo.analysis.geocoding import GeocodeResult
    >>> with tempfile.TemporaryDirectory() as tmp, SQLiteResultStore(f"{tmp}/g.sqlite") as s:
    ...     s["k"] = GeocodeResult("unmatched", 0.0)
    ...     s["k"].status, len(s)
    ('unmatched', 1)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    # -- connection ------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection (opening the file, or setting a damaged one aside)."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                self._conn = self._open()
        return self._conn

    def _set_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        logger.warning("geocoding cache %s is unreadable (%s); moved to %s",
                       self.path, exc, aside.name)
        self.path.replace(aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS geocode (key TEXT PRIMARY KEY, "
                         "provider TEXT NOT NULL, result TEXT NOT NULL, created REAL NOT NULL)")
            conn.commit()
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        """Close the database (it is opened again when used)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SQLiteResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- mapping ---------------------------------------------------------------------------
    def __getitem__(self, key: str) -> GeocodeResult:
        row = self.conn.execute("SELECT result FROM geocode WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        try:
            return GeocodeResult.from_json(row[0])
        except (ValueError, TypeError):
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: GeocodeResult) -> None:
        self.put_many([(key, value)])

    def __delitem__(self, key: str) -> None:
        with self.conn:
            deleted = self.conn.execute("DELETE FROM geocode WHERE key = ?", (key,)).rowcount
        if not deleted:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter([k for (k,) in self.conn.execute("SELECT key FROM geocode ORDER BY key")])

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM geocode").fetchone()[0])

    # -- bulk ------------------------------------------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, GeocodeResult]:
        """Return the stored answers among ``keys`` (one query per 500 keys)."""
        keys = list(keys)
        out: dict[str, GeocodeResult] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT key, result FROM geocode WHERE key IN ({marks})",
                                     chunk).fetchall()
            for key, text in rows:
                with contextlib.suppress(ValueError, TypeError):
                    out[key] = GeocodeResult.from_json(text)
        return out

    def put_many(self, items: Mapping[str, GeocodeResult] | Iterable[tuple[str, GeocodeResult]]
                 ) -> None:
        """Store answers in one transaction."""
        pairs = items.items() if isinstance(items, Mapping) else items
        rows = [(k, r.provider, r.to_json(), time.time()) for k, r in pairs]
        if rows:
            with self.conn:
                self.conn.executemany("INSERT OR REPLACE INTO geocode VALUES (?, ?, ?, ?)",
                                      rows)


def _get_many(store: Mapping[str, GeocodeResult], keys: Iterable[str]
             ) -> dict[str, GeocodeResult]:
    """Return the answers of ``store`` among ``keys`` (in bulk when the store can)."""
    if isinstance(store, SQLiteResultStore):
        return store.get_many(keys)
    return {k: store[k] for k in keys if k in store}


def _put_many(store: MutableMapping[str, GeocodeResult],
             items: Iterable[tuple[str, GeocodeResult]]) -> None:
    """Add answers to ``store`` (in one transaction when the store can)."""
    if isinstance(store, SQLiteResultStore):
        store.put_many(items)
    else:
        store.update(items)
