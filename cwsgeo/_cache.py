"""Content-addressed cache of pipeline stage results (the basis of incremental rebuilds).

A stage result is stored under ``<cache>/stages/<stage>/<key>.pkl`` where ``key`` is the sha256
of everything the stage depends on (input file hashes, parameters, cwsgeo's version). A result
is written atomically, so a build killed mid-write leaves no corrupt entry; an entry that
cannot be read is treated as missing and recomputed. Old entries of a stage are pruned, keeping
the most recent few.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ._io import atomic_path

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Bump when a stage's output format changes, to invalidate every cached result.
CACHE_FORMAT = 2


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
    keep
        Entries kept per stage when pruning.
    """

    def __init__(self, folder: str | os.PathLike[str], enabled: bool = True,
                 keep: int = 3) -> None:
        self.root = Path(folder) / "stages"
        self.enabled = enabled
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
        if not self.enabled:
            return
        path = self._path(stage, key)
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        entries = sorted(path.parent.glob("*.pkl"), key=lambda p: p.stat().st_mtime,
                         reverse=True)
        for old in entries[self.keep:]:
            old.unlink(missing_ok=True)

    def cached(self, stage: str, key_parts: list[Any], compute: Callable[[], T]) -> T:
        """Return the cached result for ``key_parts`` or compute, store and return it."""
        key = digest(CACHE_FORMAT, stage, *key_parts)
        value = self.get(stage, key)
        if value is not None:
            self.hits.append(stage)
            logger.info("stage %s: cached", stage)
            return value  # type: ignore[no-any-return]
        self.misses.append(stage)
        value = compute()
        self.put(stage, key, value)
        return value
