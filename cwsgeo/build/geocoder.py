"""The build's geocoder: the project's gazetteer, where its index and answers are kept, Nominatim.

Three things make a warm geocoding stage fast, and all three live here, not in the analysis
layer:

* the per-address answers, in ``<cache>/geocode.sqlite`` (a
  :class:`~cwsgeo.analysis.geocoding.SQLiteResultStore`), so a build whose addresses are all
  known never touches the gazetteer;
* the parsed gazetteer index, in this process (``MEMOS.memo("gazetteer")``, keyed by the
  files' content digest) and between processes as bytes in an injected store
  (:func:`gazetteer_store`: ``<cache>/gazetteer/``), so a new process unpickles it (~0.1 s)
  instead of parsing 175k address points (~0.45 s);
* the content digest itself, remembered by the files' size and modification time (in this
  process and in the same store), so the files are not hashed again while unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from ..analysis.geocoding import (
    GazetteerIndex,
    Geocoder,
    NominatimGeocoder,
    OfflineGeocoder,
    SQLiteResultStore,
    build_gazetteer_index,
    check_gazetteer,
    gazetteer_digest,
    gazetteer_files,
    type_words,
)
from ..analysis.geocoding.gazetteer import ADDRESS_FILE
from ..analysis.geocoding.lexicon import NO_LEXICON, CityLexicon
from .cache import MEMOS, FileStore, stage_key
from .config import Config
from .profiles import city_lexicon, place_parts

__all__ = ["gazetteer_index", "gazetteer_store", "offline_geocoder", "open_geocoder"]

logger = logging.getLogger(__name__)

Store = MutableMapping[str, bytes]


@contextlib.contextmanager
def open_geocoder(cfg: Config, folder: Path | None, *,
                  index_store: Store | None = None) -> Iterator[Geocoder]:
    """Open the geocoder a project describes (and close its answer store afterwards).

    The gazetteer is ``folder`` if given, else, when the city profile names one,
    ``<raw>/addresses`` when it holds the address file, else the folder of the profile's
    ``gazetteer`` file (Barcelona's: ``<mirror>/addresses``); a city
    without a gazetteer is geocoded by Nominatim only (when ``online``).
    ``[geocoding] online``, ``min_score`` and ``city`` are honoured; answers are kept in
    ``<cache>/geocode.sqlite`` and osmnx's HTTP cache in ``<cache>/osmnx``. With ``online``
    and no gazetteer, only Nominatim is used.

    Parameters
    ----------
    cfg
        Project configuration (``[geocoding]`` options, cache folder).
    folder
        Folder of the address gazetteer (``None``: the project's, as above).
    index_store
        Where the parsed gazetteer index is kept between processes (see
        :func:`gazetteer_store`; ``None``: parsed in each new process).

    Yields
    ------
    cwsgeo.analysis.geocoding.Geocoder
    """
    opts = cfg.geocoding
    profile = cfg.profile
    if folder is None and profile.gazetteer:
        raw = cfg.raw_dir / "addresses"
        folder = raw if (raw / ADDRESS_FILE).is_file() else cfg.resolve(profile.gazetteer).parent
    offline: OfflineGeocoder | None
    lexicon = city_lexicon(profile)
    if folder is None:  # the city has no gazetteer (its profile's gazetteer = "")
        if not opts.online:
            logger.warning("%s has no address gazetteer and [geocoding] online = false: "
                           "addresses are not geocoded (only rows with coordinates are "
                           "located)", profile.name)
        offline = None
    elif opts.online and not (folder / ADDRESS_FILE).is_file():
        logger.warning("no address gazetteer at %s: geocoding with Nominatim only", folder)
        offline = None
    else:
        offline = offline_geocoder(folder, min_score=opts.min_score, index_store=index_store,
                                   lexicon=lexicon)
    parts = place_parts(profile.place)
    nominatim = NominatimGeocoder(cfg.cache_dir, city=opts.city or profile.name,
                                  min_score=opts.min_score,
                                  region=parts[-1] if len(parts) > 1 else "",
                                  country=profile.country,
                                  stop_words=lexicon.address_stop_words,
                                  types=type_words(profile.languages))
    with SQLiteResultStore(cfg.cache_dir / "geocode.sqlite") as store:
        yield Geocoder(offline, online=opts.online, store=store, nominatim=nominatim)


def gazetteer_store(cfg: Config, *, read_only: bool = False) -> Store:
    """Return the store of parsed gazetteer indexes: ``<cache>/gazetteer/`` (newest kept).

    Parameters
    ----------
    cfg
        Project configuration (its cache folder).
    read_only
        Look indexes up but never store one (``--dry-run`` writes nothing).
    """
    return FileStore(cfg.cache_dir / "gazetteer", keep=4, read_only=read_only)


def offline_geocoder(folder: Path, *, min_score: float = 85.0,
                     index_store: Store | None = None,
                     lexicon: CityLexicon = NO_LEXICON) -> OfflineGeocoder:
    """Return a gazetteer geocoder on ``folder`` whose index and digest come from the caches.

    The files' headers are checked now; the digest and the index are looked up (or computed)
    only when the geocoder first needs them.

    Parameters
    ----------
    folder
        The gazetteer folder.
    min_score
        Lowest street-name score accepted.
    index_store
        Where indexes are kept between processes (``None``: only in this process).
    lexicon
        The city's words (:func:`~cwsgeo.build.profiles.city_lexicon`; default: none).

    Raises
    ------
    cwsgeo.MissingDataError, cwsgeo.GeocodingError
        The gazetteer is missing or malformed.
    """
    check_gazetteer(folder)
    version = functools.cache(lambda: _content_digest(folder, index_store))
    return OfflineGeocoder(lambda: gazetteer_index(folder, version(), index_store),
                           min_score=min_score, version=version, folder=folder,
                           lexicon=lexicon)


def gazetteer_index(folder: Path, digest: str, store: Store | None = None) -> GazetteerIndex:
    """Return the index of the gazetteer in ``folder`` whose content digest is ``digest``.

    Looked up in this process (the last one used), then in ``store``, else parsed (and then
    put in both).

    Parameters
    ----------
    folder
        The gazetteer folder.
    digest
        :func:`~cwsgeo.analysis.geocoding.gazetteer_digest` of its files.
    store
        Where indexes are kept between processes, as bytes.
    """
    def load() -> GazetteerIndex:
        key = stage_key("gazetteer", digest)
        if store is not None:
            try:
                return GazetteerIndex.from_bytes(store[key])
            except KeyError:
                pass
            except Exception as exc:  # unreadable or from older code: parse again
                logger.warning("ignoring unreadable gazetteer index %s (%s)", key, exc)
        index = build_gazetteer_index(folder)
        if store is not None:
            store[key] = index.to_bytes()
        return index

    return MEMOS.memo("gazetteer", 1).get_or_compute(digest, load)


def _content_digest(folder: Path, store: Store | None) -> str:
    """Return the gazetteer's content digest, remembered by the files' size and mtime."""
    stamp = json.dumps([str(folder.resolve()), *[
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in gazetteer_files(folder)]])
    key = "digest-" + hashlib.sha256(stamp.encode()).hexdigest()[:32]

    def compute() -> str:
        if store is not None:
            with contextlib.suppress(KeyError, UnicodeDecodeError):
                return store[key].decode("ascii")
        value = gazetteer_digest(folder)
        if store is not None:
            store[key] = value.encode("ascii")
        return value

    return MEMOS.memo("gazetteer_digest", 8).get_or_compute(key, compute)
