"""The build's caches: stage results on disk, output ledger, process memos, injected stores.

A stage result is stored under ``<cache>/stages/<stage>/<key>.pkl`` where ``key`` is the sha256
of everything the stage depends on: input file hashes, parameters and the version number of
the stage's logic (:data:`STAGE_VERSIONS`; a comment or refactoring does not change it, a
change of results does and must bump it). A result
is written atomically, so a build killed mid-write leaves no corrupt entry; an entry that
cannot be read is treated as missing and recomputed. Old entries of a stage are pruned, keeping
the most recent few.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Hashable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, TypeVar

from .. import settings
from .._io import atomic_path

logger = logging.getLogger(__name__)

T = TypeVar("T")
K = TypeVar("K")

#: Bump when the format of every cached result changes (e.g. the pickled classes move).
CACHE_FORMAT = 3

#: Version of each stage's logic. Bump a stage's number in the same commit as a change of code
#: that changes its results; only that stage's cached results are then recomputed.
STAGE_VERSIONS: dict[str, int] = {
    "inventory": 2,      # reading and validating the inventory (2: restricted coordinates)
    "gazetteer": 1,      # the parsed address gazetteer index
    "texts": 1,          # listing texts joined and screened
    "text_locations": 1,  # spaces located from their texts; street radii
    "admin": 1,          # districts, barris, sections with population
    "places": 1,         # places layer (read, clipped, deduplicated)
    "transit": 1,        # transit layer (read, clipped, stations collapsed)
    "residents": 1,      # residents allocated to network nodes
    "surface": 2,        # accessibility surface (2: bounded engine, sums in reach order)
    "space_metrics": 3,  # per-space walking metrics and walk areas (3: engine node rows)
    "coverage": 1,       # residents within reach of a space
    "by_type": 1,        # metrics summarised by innovation type
    "streets": 2,        # street lines of the offline basemap (2: street names)
    "density_base": 2,   # densities that do not depend on the spaces
    "density": 2,        # densities of the spaces
    "statistics": 2,     # the findings (2: small cities: tests under their minimums skipped)
}


def stage_version(stage: str) -> int:
    """Return the version of ``stage``'s logic (every cached stage must have one).

    Parameters
    ----------
    stage
        A key of :data:`STAGE_VERSIONS`.
    """
    try:
        return STAGE_VERSIONS[stage]
    except KeyError:
        raise KeyError(f"stage {stage!r} has no entry in STAGE_VERSIONS") from None


def stage_key(stage: str, *parts: Any) -> str:
    """Return the cache key of a stage result: its inputs and the version of its logic.

    The work CRS (:data:`cwsgeo.settings.crs_work`, read now) is part of every key, so a
    project whose city or CRS changes never reuses results computed in another CRS.

    Examples
    --------
    >>> stage_key("admin", ["abc"]) == stage_key("admin", ["abc"])
    True
    >>> stage_key("admin", ["abc"]) == stage_key("places", ["abc"])
    False
    """
    return digest(CACHE_FORMAT, stage, stage_version(stage), settings.crs_work, *parts)


class BoundedMemo(MutableMapping[Hashable, Any]):
    """A dict that keeps only its last ``size`` entries (oldest inserted dropped first).

    Parameters
    ----------
    size
        Entries kept.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: dict[Hashable, Any] = {}

    def __getitem__(self, key: Hashable) -> Any:
        return self._data[key]

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self._data.pop(key, None)
        while len(self._data) >= self.size:
            self._data.pop(next(iter(self._data)))
        self._data[key] = value

    def __delitem__(self, key: Hashable) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Return the value of ``key``, computing and storing it first when absent."""
        if key not in self._data:
            self[key] = compute()
        return self._data[key]


class MemoRegistry:
    """Every in-process memo of cwsgeo, by name: one place to look, one :meth:`clear`.

    Memos serve a warm process (``cwsgeo watch``, a notebook that calls the build twice): the
    second build reuses what the first computed. Keys are content digests, so a value is never
    stale, and callers treat values as read-only. Only the build layer holds memos; the
    analysis and output functions it calls receive plain data or an injected store (any
    ``MutableMapping``), e.g. ``MEMOS.memo("display", 64)``.

    Examples
    --------
    >>> registry = MemoRegistry()
    >>> registry.memo("squares", size=2).get_or_compute(3, lambda: 9)
    9
    >>> registry.clear(); len(registry.memo("squares"))
    0
    """

    def __init__(self) -> None:
        self._memos: dict[str, BoundedMemo] = {}

    def memo(self, name: str, size: int = 16) -> BoundedMemo:
        """Return the memo called ``name`` (created, holding at most ``size`` values)."""
        if name not in self._memos:
            self._memos[name] = BoundedMemo(size)
        return self._memos[name]

    def clear(self) -> None:
        """Forget every memoized value (a process then behaves like a new one)."""
        for memo in self._memos.values():
            memo.clear()

    def names(self) -> list[str]:
        """Return the names of the memos created so far."""
        return sorted(self._memos)


#: The process's memo registry.
MEMOS = MemoRegistry()


class FileStore(MutableMapping[str, bytes]):
    """A folder of files used as a ``MutableMapping[str, bytes]``: a store to inject.

    Keys must be safe file names (e.g. hex digests); values are written atomically. The build
    hands such stores to analysis and output code that can reuse expensive intermediate data
    (the gazetteer index, display geometry) without knowing where it lives.

    Parameters
    ----------
    folder
        Where the files go (created on the first write).
    keep
        Newest files kept when one is added (``None``: all).
    read_only
        Look values up but drop writes and deletions (``--dry-run`` writes nothing).
    """

    def __init__(self, folder: str | os.PathLike[str], keep: int | None = None, *,
                 read_only: bool = False) -> None:
        self.folder = Path(folder)
        self.keep = keep
        self.read_only = read_only

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise KeyError(key)
        return self.folder / key

    def __getitem__(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: bytes) -> None:
        path = self._path(key)
        if self.read_only:
            return
        with atomic_path(path) as tmp:
            tmp.write_bytes(value)
        if self.keep is not None:
            files = sorted(self.folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[self.keep:]:
                if not old.name.startswith("."):
                    old.unlink(missing_ok=True)

    def __delitem__(self, key: str) -> None:
        if self.read_only:
            return
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        if not self.folder.is_dir():
            return iter(())
        return iter(sorted(p.name for p in self.folder.iterdir() if not p.name.startswith(".")))

    def __len__(self) -> int:
        return sum(1 for _ in self)


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

        With ``memo`` the result is also kept in this process (``MEMOS.memo("stages")``, the
        last few, by content key), so a rebuild in the same process (``cwsgeo watch``, a
        notebook) does not read it back from disk. Only for results that no caller modifies.
        """
        key = stage_key(stage, *key_parts)
        if not (memo and self.enabled):
            return self._fetch(stage, key, compute)
        memos = MEMOS.memo("stages", 16)
        slot = (str(self.root), stage, key)
        if slot in memos and self._path(stage, key).exists():
            self.hits.append(stage)
            logger.info("stage %s: in memory", stage)
            return memos[slot]
        memos.pop(slot, None)  # its file was removed: read or compute it again
        return memos.get_or_compute(slot, lambda: self._fetch(stage, key, compute))

    def _fetch(self, stage: str, key: str, compute: Callable[[], T]) -> T:
        value = self.get(stage, key)
        if value is not None:
            self.hits.append(stage)
            logger.info("stage %s: cached", stage)
            return value
        self.misses.append(stage)
        value = compute()
        self.put(stage, key, value)
        return value


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

    from .._errors import CwsgeoError

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

    def write_if_changed(self, target: str | os.PathLike[str], key: str,
                         writer: Callable[[Path], Any]) -> Path:
        """Call ``writer(target)`` unless ``target`` already holds data with digest ``key``.

        Parameters
        ----------
        target
            The output file.
        key
            Digest of the data the file is written from.
        writer
            Writes the file (atomically, through :mod:`cwsgeo._io`).

        Returns
        -------
        pathlib.Path
            ``target``.
        """
        target = Path(target)
        if not self.fresh(target, key):
            writer(target)
            self.record(target, key)
        return target

    def save(self) -> None:
        """Write the ledger (atomically)."""
        if self.path is not None:
            from .._io import write_json

            write_json(self.path, self.entries)
