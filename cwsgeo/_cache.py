"""Content-addressed cache of pipeline stage results (the basis of incremental rebuilds).

A stage result is stored under ``<cache>/stages/<stage>/<key>.pkl`` where ``key`` is the sha256
of everything the stage depends on (input file hashes, parameters, cwsgeo's version). A result
is written atomically, so a build killed mid-write leaves no corrupt entry; an entry that
cannot be read is treated as missing and recomputed. Old entries of a stage are pruned, keeping
the most recent few.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ._io import atomic_path

logger = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K")

#: Bump when a stage's output format changes, to invalidate every cached result.
CACHE_FORMAT = 2


@functools.cache
def code_fingerprint() -> str:
    """Digest of cwsgeo's own source files: any code change invalidates cached results."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def remember(store: dict[K, T], key: K, compute: Callable[[], T], size: int) -> T:
    """Return ``store[key]``, computing it first; ``store`` keeps only the last ``size`` values.

    The one in-process memo of cwsgeo (stage results, display data, grids, class breaks,
    snapped layers, contours): keys are content digests, so a value is never stale, and
    callers treat values as read-only.

    Examples
    --------
    >>> store: dict[str, int] = {}
    >>> remember(store, "a", lambda: 1, size=1), remember(store, "b", lambda: 2, size=1)
    (1, 2)
    >>> list(store)
    ['b']
    """
    if key not in store:
        if len(store) >= size:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def digest(*parts: Any) -> str:
    """Return a stable sha256 hex digest of JSON-able parts (bytes are hashed raw)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            h.update(part)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


class StageCache:
    """Pickled stage results keyed by the hash of their inputs.

    Parameters
    ----------
    folder
        Cache root (``data/cache``); results go to ``folder/stages``.
    enabled
        When false, every lookup misses and nothing is stored.
    read_only
        Look results up but never store any (``--dry-run`` writes nothing).
    keep
        Entries kept per stage when pruning.
    """

    def __init__(self, folder: str | os.PathLike[str], enabled: bool = True,
                 keep: int = 3, read_only: bool = False) -> None:
        self.root = Path(folder) / "stages"
        self.enabled = enabled
        self.read_only = read_only
        self.keep = keep
        self.hits: list[str] = []
        self.misses: list[str] = []

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage / f"{key}.pkl"

    def get(self, stage: str, key: str) -> Any | None:
        """Return the cached result or ``None``."""
        if not self.enabled:
            return None
        path = self._path(stage, key)
        try:
            with path.open("rb") as fh:
                value = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception as exc:  # corrupt or incompatible entry: recompute
            logger.warning("ignoring unreadable cache entry %s (%s)", path, exc)
            return None
        path.touch()
        return value

    def put(self, stage: str, key: str, value: Any) -> None:
        """Store a result atomically and prune old entries of the stage."""
        if not self.enabled or self.read_only:
            return
        path = self._path(stage, key)
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        entries = sorted(path.parent.glob("*.pkl"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in entries[self.keep:]:
            old.unlink(missing_ok=True)

    def cached(self, stage: str, key_parts: list[Any], compute: Callable[[], T], *,
               memo: bool = False) -> T:
        """Return the cached result for ``key_parts`` or compute, store and return it.

        With ``memo`` the result is also kept in this process (the last few, by content key),
        so a rebuild in the same process (``cwsgeo watch``, ``cwsgeo serve``) does not read
        it back from disk. Only for results that no caller modifies.
        """
        key = digest(CACHE_FORMAT, code_fingerprint(), stage, *key_parts)
        if not (memo and self.enabled):
            return self._fetch(stage, key, compute)
        slot = (str(self.root), stage, key)
        if slot in _MEMO and self._path(stage, key).exists():
            self.hits.append(stage)
            logger.info("stage %s: in memory", stage)
            return _MEMO[slot]  # type: ignore[no-any-return]
        _MEMO.pop(slot, None)  # its file was removed: read or compute it again
        return remember(_MEMO, slot, lambda: self._fetch(stage, key, compute), _MEMO_SIZE)

    def _fetch(self, stage: str, key: str, compute: Callable[[], T]) -> T:
        value = self.get(stage, key)
        if value is not None:
            self.hits.append(stage)
            logger.info("stage %s: cached", stage)
            return value  # type: ignore[no-any-return]
        self.misses.append(stage)
        value = compute()
        self.put(stage, key, value)
        return value


#: Stage results kept in memory by :meth:`StageCache.cached` (``memo=True``), by content key.
_MEMO: dict[tuple[str, str, str], Any] = {}
_MEMO_SIZE = 16


@contextlib.contextmanager
def project_lock(cache_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the project's exclusive lock (builds and fetches never interleave their writes).

    The operating system releases the lock when the process dies (even by SIGKILL), so a
    killed build never blocks the next one.

    Raises
    ------
    cwsgeo.CwsgeoError
        Another cwsgeo build or fetch holds the lock.
    """
    import fcntl

    from ._errors import CwsgeoError

    folder = Path(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "build.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CwsgeoError("another cwsgeo build or fetch is running in this project"
                              ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def frame_digest(frame: Any) -> str:
    """Return a content digest of a (Geo)DataFrame: values, column names and geometry WKB.

    Canonical: equal content gives the same digest however the frame was built or stored
    (e.g. freshly computed or read back from the stage cache). Plain numeric columns are
    hashed from their bytes, the others through ``pandas.util.hash_pandas_object``.
    """
    import numpy as np
    import pandas as pd

    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in frame.columns]).encode())
    geom_col = getattr(frame, "_geometry_column_name", None)
    plain = frame.drop(columns=[geom_col]) if geom_col in frame.columns else frame
    for col in plain.columns:
        series = plain[col]
        h.update(str(series.dtype).encode())
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(series.to_numpy()).tobytes())
            continue
        try:
            hashed = pd.util.hash_pandas_object(series, index=False)
        except TypeError:  # unhashable cells (lists, dicts)
            hashed = pd.util.hash_pandas_object(series.astype(str), index=False)
        h.update(hashed.to_numpy().tobytes())
    if geom_col in frame.columns:
        import shapely

        for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
            h.update(wkb or b"\x00")
    return h.hexdigest()


class OutputLedger:
    """Remembers which content each output file holds, so unchanged outputs are not rewritten.

    Entries map a file path to the digest of the data it was written from plus its size and
    modification time; an output counts as fresh only if all three still match (so a file
    edited or deleted by hand is rewritten). The ledger itself is written atomically.

    Parameters
    ----------
    path
        JSON file holding the ledger (``data/cache/outputs.json``); ``None`` disables skipping.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, dict[str, Any]] = {}
        self.skipped: list[Path] = []
        if self.path is not None and self.path.exists():
            try:
                entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                entries = {}
            self.entries = entries if isinstance(entries, dict) else {}

    def fresh(self, target: str | os.PathLike[str], key: str) -> bool:
        """Return True when ``target`` exists and holds data with digest ``key``."""
        if self.path is None:
            return False
        target = Path(target)
        entry = self.entries.get(str(target.resolve()))
        if not isinstance(entry, dict) or entry.get("key") != key or not target.exists():
            return False
        st = target.stat()
        ok = entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns
        if ok:
            self.skipped.append(target)
        return ok

    def record(self, target: str | os.PathLike[str], key: str) -> None:
        """Note that ``target`` now holds data with digest ``key``."""
        if self.path is None:
            return
        target = Path(target)
        st = target.stat()
        self.entries[str(target.resolve())] = {"key": key, "size": st.st_size,
                                               "mtime_ns": st.st_mtime_ns}

    def save(self) -> None:
        """Write the ledger (atomically)."""
        if self.path is not None:
            from ._io import write_json

            write_json(self.path, self.entries)
