"""Possible duplicates in an inventory: the same space listed twice, by name, point or text.

:func:`find_duplicates` links rows that are probably the same space and groups them,
:func:`merge_duplicates` merges the *certain* groups into one row each and
:func:`duplicate_problems` words the groups as inventory warnings.

Links
-----
``name``
    Near-same normalised names of the same operator. Names are folded (case, accents,
    punctuation), and noise words are dropped (:data:`NAME_NOISE`: "coworking", "cowork",
    "espacio", articles, the city's name) as is a trailing legal form ("S.L.", "SLU", "S.A.").
    Two names link when their first word (the operator's stem) is the same, the numbers in
    them do not disagree ("CREC Letamendi 1" is not "CREC Letamendi 7") and either
    rapidfuzz's ``token_sort_ratio`` reaches ``name_threshold`` (near-same names, typos
    included), or one name's words all lie inside the other's ("Talent Garden" ~ "Talent
    Garden (TAG)") and the shorter name fits only one space ("WeWork" next to five
    "WeWork <place>" fits none of them).
    Rows whose names link but whose points lie more than ``apart_m`` apart are branches,
    not duplicates (rows of that name without a point then link to none of them).
``point``
    Points within ``radius_m`` in the projected ``crs`` (a k-d tree, not every pair). Points
    placed on a street without a house number (``geocode_status == "street_only"``) are
    left out: every space of that street gets the same one.
``text``
    Identical or near-identical (``fuzz.ratio`` >= ``text_threshold``) texts of at least
    ``min_text_chars`` in a ``description``, ``notes`` or ``services`` column (when present),
    compared within blocks of the same first or last 24 folded characters.
``address``
    The same normalised name and the same folded address.
``text`` (listing texts)
    With ``texts`` (e.g. :func:`~cwsgeo.analysis.texts.join_listing_texts`, indexed by id):
    identical or near-identical texts of one language, as above; rows of one operator stem
    whose names do not link (chain branches sharing boilerplate) do not link this way.
``translation``
    Texts (all languages of a row) whose rare tokens, the ones a translation keeps (numbers,
    phones, e-mails, domains, hashtags, proper nouns, street numbers: see
    :mod:`._text_links`), overlap: IDF-weighted Jaccard >= ``translation_threshold`` and
    shared IDF >= ``translation_min_shared`` (calibrated on the bundle by
    ``benchmarks/duplicate_texts.py``). Branches of one operator link only on a shared street
    number. Only rows sharing a rare token are compared (sparse product).

A group is ``certain`` when its rows are chained by pairs linked by ``name`` *and*
``point`` (or by ``address``). The rows linked in any other way (texts included) form
*possible* groups, which may contain certain groups (a row is then in both): they are
reported, never merged.
Blocking (names by operator stem over distinct names, points by a k-d tree, texts by prefix
and suffix) keeps 30,000 rows around a second.

Examples
--------
>>> groups = find_duplicates(spaces)  # doctest: +SKIP
>>> merged, groups = merge_duplicates(spaces, groups)  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from ... import settings
from ..._text import fold
from ._text_links import LISTING_TEXT_COLUMNS, aligned_texts, translation_pairs
from .model import Problem, plural

__all__ = [
    "DUPLICATE_COLUMNS",
    "LISTING_TEXT_COLUMNS",
    "NAME_NOISE",
    "TEXT_COLUMNS",
    "TRANSLATION_MIN_SHARED",
    "TRANSLATION_THRESHOLD",
    "duplicate_problems",
    "duplicate_summary",
    "find_duplicates",
    "merge_duplicates",
    "space_name_key",
]

#: Folded words left out when names are compared: kinds of space, articles (the city's own
#: names are added by the caller: ``city_words`` of :func:`find_duplicates`).
NAME_NOISE: frozenset[str] = frozenset({
    "coworking", "coworkings", "cowork", "espacio", "espacios", "espai", "the", "el", "la",
    "les", "els", "los", "las", "de", "del", "d", "l"})

#: Free-text columns compared for identical descriptions, when the frame has them.
TEXT_COLUMNS: tuple[str, ...] = ("description", "notes", "services")

#: Default lowest IDF-weighted Jaccard index of a ``translation`` link (calibrated on the
#: Barcelona bundle: ``benchmarks/duplicate_texts.py``).
TRANSLATION_THRESHOLD = 0.35

#: Default lowest summed IDF of the rare tokens a ``translation`` link shares.
TRANSLATION_MIN_SHARED = 10.0

#: Columns of the table :func:`find_duplicates` returns (``merged`` added by
#: :func:`merge_duplicates`).
DUPLICATE_COLUMNS: tuple[str, ...] = (
    "group", "certain", "reasons", "id", "source_row", "name", "distance_m")

_LEGAL_FORM = re.compile(r"(?:\s|^)(?:s l(?: u)?|slu?|s a(?: u)?|sau?|s c p|scp|s coop|sccl)$")
_CO_WORKING = re.compile(r"\bco working\b")
_DIGITS = re.compile(r"\d+")
_BLOCK_CHARS = 24


def space_name_key(name: object, noise: Iterable[str] = NAME_NOISE) -> str:
    """Return the normalised name compared by :func:`find_duplicates`.

    Parameters
    ----------
    name
        A space's name (``None``/NaN count as blank).
    noise
        Folded words to leave out.

    Returns
    -------
    str
        Folded words without noise and legal form; the folded name if nothing is left.

    Examples
    --------
    >>> space_name_key("NETWORKIA Business Center, S.L.")
    'networkia business center'
    >>> space_name_key("Espacio Coworking Àtic")
    'atic'
    """
    if name is None or (isinstance(name, float) and name != name):
        return ""
    folded = fold(str(name))
    text = _CO_WORKING.sub(" ", _LEGAL_FORM.sub("", folded))
    drop = noise if isinstance(noise, frozenset) else frozenset(noise)
    key = " ".join(t for t in text.split() if t not in drop)
    return key or folded


@dataclass
class _Graph:
    """Edges between rows (nodes ``0..n-1``) and extra nodes standing for shared keys."""

    size: int
    a: list[np.ndarray] = field(default_factory=list)
    b: list[np.ndarray] = field(default_factory=list)

    def node_block(self, count: int) -> int:
        """Reserve ``count`` extra nodes; return the first one."""
        start = self.size
        self.size += count
        return start

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a.append(np.asarray(a, dtype=np.int64))
        self.b.append(np.asarray(b, dtype=np.int64))

    def join(self, classes: np.ndarray) -> None:
        """Join the rows of each class (``-1``: none) through one extra node per class."""
        rows = np.flatnonzero(classes >= 0)
        start = self.node_block(int(classes.max()) + 1 if len(rows) else 0)
        self.add(rows, start + classes[rows])

    def labels(self) -> np.ndarray:
        """Return the connected component of every node."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        a = np.concatenate([np.zeros(0, np.int64), *self.a])
        b = np.concatenate([np.zeros(0, np.int64), *self.b])
        m = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(self.size, self.size))
        return connected_components(m, directed=False)[1]


def find_duplicates(frame: pd.DataFrame, *, radius_m: float = 30.0,
                    name_threshold: float = 90.0, text_threshold: float = 95.0,
                    min_text_chars: int = 40, text_columns: Sequence[str] = TEXT_COLUMNS,
                    apart_m: float = 250.0, crs: str | None = None,
                    noise: Iterable[str] = NAME_NOISE, city_words: Iterable[str] = (),
                    texts: pd.Series | pd.DataFrame | None = None,
                    translation_threshold: float = TRANSLATION_THRESHOLD,
                    translation_min_shared: float = TRANSLATION_MIN_SHARED) -> pd.DataFrame:
    """Find rows that are probably the same space (see the module notes for the rules).

    Parameters
    ----------
    frame
        Inventory rows with an ``id`` column; ``name``, ``address``, ``source_row``,
        ``geocode_status`` and the :data:`TEXT_COLUMNS` are used when present. Points come
        from the geometry of a GeoDataFrame with a CRS, else from ``lat``/``lon`` (WGS84).
    radius_m
        Points closer than this (metres in ``crs``) are the same address point.
    name_threshold
        Lowest ``token_sort_ratio`` (0-100) of two near-same names.
    text_threshold
        Lowest ``fuzz.ratio`` of two texts that link.
    min_text_chars
        Shorter texts (folded) are not compared.
    text_columns
        Free-text columns to compare, when present.
    apart_m
        Rows with linking names whose points lie farther apart than this are branches of one
        operator, not duplicates.
    crs
        Projected CRS in metres (default :data:`cwsgeo.settings.crs_work`).
    noise, city_words
        Folded words left out of names (:data:`NAME_NOISE`), and the city's own names
        (``CityLexicon.city_words`` of its profile: "Coworking <city>"; default: none).
    texts
        Listing texts indexed by the frame's ``id``: the frame of
        :func:`~cwsgeo.analysis.texts.join_listing_texts` (its :data:`LISTING_TEXT_COLUMNS`
        present are compared, else its ``text`` column) or a Series of one text per id.
        Ids it lacks have no text. Texts link rows when identical (as ``text_columns``) or
        when their rare tokens overlap (``translation``).
    translation_threshold
        Lowest IDF-weighted Jaccard index (0-1) of two rows' rare tokens.
    translation_min_shared
        Lowest summed IDF of the rare tokens two rows share.

    Returns
    -------
    pandas.DataFrame
        One row per member of a group (:data:`DUPLICATE_COLUMNS`): ``group`` (1, 2, ...),
        ``certain``, ``reasons`` (``"name+point"``: what links the group), ``id``,
        ``source_row`` (spreadsheet row, ``<NA>`` if unknown), ``name`` and ``distance_m``
        (from the group's first member; NaN when either has no point). Groups are in the
        order of their first rows, members in frame order; certain groups come before the
        possible group around them.

    Raises
    ------
    KeyError
        ``frame`` has no ``id`` column.
    ValueError
        ``texts`` repeats an id or shares none with the frame.
    """
    if "id" not in frame.columns:
        raise KeyError(f"find_duplicates needs an 'id' column; the frame has "
                       f"{', '.join(map(str, frame.columns)) or 'no columns'}")
    n = len(frame)
    if n < 2:
        return _empty_table()
    noise = frozenset(noise) | frozenset(city_words)
    keys = _mapped(_column(frame, "name"), lambda v: space_name_key(v, noise) if v else "")
    codes, uniq = pd.factorize(pd.Series(keys, dtype=object).replace("", None))
    linked = _name_links(np.asarray(uniq, dtype=object), name_threshold)
    name_cls = _classes(len(uniq), linked)[np.maximum(codes, 0)] if len(uniq) else codes
    addresses = _mapped(_column(frame, "address"), fold)
    same_address = np.where((addresses != "") & (keys != ""), keys + "|" + addresses, None)
    classes: dict[str, np.ndarray] = {"name": np.where(codes >= 0, name_cls, -1),
                                      "address": pd.factorize(pd.Series(same_address))[0]}
    listing = aligned_texts(frame, texts)
    stems = np.array([k.split()[0] if k else "" for k in keys], dtype=object)
    found = [*_text_classes(frame, text_columns, text_threshold, min_text_chars),
             *(_without_branches(cls, stems, classes["name"]) for cls in _text_classes(
                 listing, tuple(listing.columns), text_threshold, min_text_chars))]
    for k, cls in enumerate(found):
        classes[f"text{k}"] = cls
    tpairs = _translations(listing, stems, translation_threshold, translation_min_shared)
    xy = _points(frame, crs or settings.crs_work)
    classes["name"] = _split_far(classes["name"], xy, apart_m)
    pi, pj = _point_pairs(xy, radius_m)
    same_name = (classes["name"][pi] == classes["name"][pj]) & (classes["name"][pi] >= 0)
    certain = _Graph(n)
    certain.join(classes["address"])
    certain.add(pi[same_name], pj[same_name])
    graph = _Graph(n)
    for cls in classes.values():
        graph.join(cls)
    graph.add(pi, pj)
    graph.add(tpairs[:, 0], tpairs[:, 1])  # possible only: never in the certain graph
    pairs = {"point": (pi, pj), "translation": (tpairs[:, 0], tpairs[:, 1])}
    return _group_table(frame, graph.labels()[:n], certain.labels()[:n], classes, pairs, xy)


def _mapped(values: Sequence[str], func: Callable[[str], str]) -> np.ndarray:
    """Return ``func`` of every value, computed once per distinct value."""
    codes, distinct = pd.factorize(pd.Series(values, dtype=object))
    if (codes < 0).any():  # missing values: map them as they are
        series = pd.Series(values, dtype=object)
        every = series.unique()
        return series.map(dict(zip(every, map(func, every), strict=True))).to_numpy(
            dtype=object)
    mapped = np.empty(len(distinct), dtype=object)
    mapped[:] = [func(v) for v in distinct]
    return mapped[codes]


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    """Return a column as stripped text ("" for blanks; all blank when it is missing)."""
    if name not in frame.columns:
        return [""] * len(frame)
    return ["" if v is None or v is pd.NA or (isinstance(v, float) and v != v)
            else str(v).strip() for v in frame[name].tolist()]


def _name_links(keys: np.ndarray, threshold: float) -> np.ndarray:
    """Return the pairs (i < j, one per row) of distinct normalised names that link.

    Within each block of one operator stem: ``token_sort_ratio`` (``fuzz.ratio`` of the
    sorted words, computed once per name) for near-same names, a sparse word-incidence
    product for names whose words all lie inside the other's.
    """
    from scipy.sparse import csr_matrix

    u = len(keys)
    words = [k.split() for k in keys]
    stems = pd.Series([w[0] if w else "" for w in words])
    sorted_words = np.array([" ".join(sorted(w)) for w in words], dtype=object)
    numbers = pd.factorize(pd.Series(
        [" ".join(sorted(set(_DIGITS.findall(k)))) or None for k in keys], dtype=object))[0]
    row = np.repeat(np.arange(u), [len(w) for w in words])
    word_ids = pd.factorize(pd.Series([t for w in words for t in w], dtype=object))[0]
    incidence = csr_matrix((np.ones(len(row), dtype=np.int32), (row, word_ids)),
                           shape=(u, int(word_ids.max(initial=-1)) + 1))
    incidence.data[:] = 1  # repeated words count once
    n_words = np.asarray(incidence.sum(axis=1)).ravel()
    found: list[np.ndarray] = [np.zeros((0, 3), dtype=np.int64)]
    for stem, idx in stems.groupby(stems).indices.items():
        if not stem or len(idx) < 2:
            continue
        near = process.cdist(sorted_words[idx].tolist(), sorted_words[idx].tolist(),
                             scorer=fuzz.ratio, score_cutoff=threshold, dtype=np.uint8) > 0
        shared = (incidence[idx] @ incidence[idx].T).toarray()
        inside = (shared == n_words[idx][:, None]) | (shared == n_words[idx][None, :])
        x, y = np.nonzero(np.triu(near | inside, 1))
        found.append(np.column_stack([idx[x], idx[y], near[x, y]]))
    pairs = np.concatenate(found).astype(np.int64)
    na, nb = numbers[pairs[:, 0]], numbers[pairs[:, 1]]
    pairs = pairs[(na < 0) | (nb < 0) | (na == nb)]  # the numbers in them do not disagree
    strong = pairs[pairs[:, 2] == 1, :2]
    partial = pairs[pairs[:, 2] == 0, :2]
    return np.concatenate([strong, _unambiguous(keys, partial, _classes(u, strong))])


def _classes(u: int, pairs: Sequence[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """Return the connected component of each of ``u`` items linked by ``pairs``."""
    graph = _Graph(u)
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph.add(arr[:, 0], arr[:, 1])
    return graph.labels()


def _split_far(cls: np.ndarray, xy: np.ndarray, apart_m: float) -> np.ndarray:
    """Split name classes whose points lie in places more than ``apart_m`` apart: branches.

    The located rows of such a class get one class per place (single linkage within
    ``apart_m``); its rows without a point could be any branch and link to none.
    """
    from scipy.spatial import cKDTree

    ok = np.flatnonzero((cls >= 0) & np.isfinite(xy).all(axis=1))
    if len(ok) < 2:
        return cls
    # one k-d tree; the third axis keeps the classes farther apart than apart_m
    pts = np.column_stack([xy[ok], cls[ok] * (4.0 * apart_m + 1.0)])
    place = _classes(len(ok), cKDTree(pts).query_pairs(apart_m, output_type="ndarray"))
    per = pd.DataFrame({"c": cls[ok], "p": place}).groupby("c")["p"].nunique()
    split = per.index[per > 1].to_numpy()
    if not len(split):
        return cls
    out = np.where(np.isin(cls, split), -1, cls)
    sel = np.isin(cls[ok], split)
    out[ok[sel]] = pd.factorize(place[sel])[0] + int(cls.max()) + 1
    return out


def _unambiguous(keys: np.ndarray, partial: np.ndarray, strong_class: np.ndarray
                 ) -> np.ndarray:
    """Keep a partial link only if its shorter name links to one space (one strong class)."""
    if not len(partial):
        return partial
    size = np.array([len(k.split()) * 10_000 + len(k) for k in keys])
    a, b = partial[:, 0], partial[:, 1]
    a_general = size[a] <= size[b]
    general = np.where(a_general, a, b)
    partner = strong_class[np.where(a_general, b, a)]
    fits = pd.Series(partner).groupby(general).nunique()
    return partial[fits.reindex(general).to_numpy() == 1]


def _points(frame: pd.DataFrame, crs: str) -> np.ndarray:
    """Projected ``(x, y)`` of every row (NaN: no point, or only a street's point)."""
    import geopandas as gpd

    n = len(frame)
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and n:
        geoms = frame.geometry.to_crs(crs)
        ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
        x, y = np.full(n, np.nan), np.full(n, np.nan)
        x[ok], y[ok] = geoms[ok].x.to_numpy(), geoms[ok].y.to_numpy()
    elif {"lat", "lon"} <= set(frame.columns) and n:
        from pyproj import Transformer

        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
        tr = Transformer.from_crs(settings.crs_store, crs, always_xy=True)
        x, y = (np.asarray(v, dtype=float) for v in tr.transform(lon, lat))
    else:
        return np.full((n, 2), np.nan)
    if "geocode_status" in frame.columns:
        street = (frame["geocode_status"] == "street_only").to_numpy(dtype=bool)
        x, y = np.where(street, np.nan, x), np.where(street, np.nan, y)
    return np.column_stack([x, y])


def _point_pairs(xy: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j) whose points lie within ``radius_m`` of each other."""
    from scipy.spatial import cKDTree

    ok = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if len(ok) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = cKDTree(xy[ok]).query_pairs(radius_m, output_type="ndarray")
    return ok[pairs[:, 0]], ok[pairs[:, 1]]


def _text_classes(frame: pd.DataFrame, columns: Sequence[str], threshold: float,
                  min_chars: int) -> list[np.ndarray]:
    """Return, per text column present, each row's class of near-identical long texts.

    ``-1`` marks a blank or too short text.
    """
    out = []
    for col in columns:
        if col not in frame.columns:
            continue
        texts = _mapped(_column(frame, col), fold)
        codes, uniq = pd.factorize(pd.Series(
            [t if len(t) >= min_chars else None for t in texts], dtype=object))
        cls = _classes(len(uniq), _near_texts(np.asarray(uniq, dtype=object), threshold))
        out.append(np.where(codes >= 0, cls[np.maximum(codes, 0)], -1) if len(uniq)
                   else np.full(len(frame), -1))
    return out


def _translations(listing: pd.DataFrame, stems: np.ndarray, threshold: float,
                  min_shared: float) -> np.ndarray:
    """Row pairs whose listing texts (all languages) share enough rare tokens."""
    if not len(listing.columns):
        return np.zeros((0, 2), np.int64)
    joined = ["\n\n".join(r) for r in listing.itertuples(index=False)]
    return translation_pairs(joined, list(stems), threshold=threshold,
                             min_shared=min_shared)[0]


def _without_branches(cls: np.ndarray, stems: np.ndarray, name_cls: np.ndarray
                      ) -> np.ndarray:
    """Drop from a text class the branches of one operator sharing its boilerplate.

    Rows of one operator stem in one class whose names do not link (``"cwork Gracia"``,
    ``"cwork Sarrià"``) leave the class; rows of other operators stay.
    """
    rows = pd.DataFrame({"c": cls, "s": stems,
                         "n": np.where(name_cls >= 0, name_cls, -1 - np.arange(len(cls)))})
    rows = rows[(rows["c"] >= 0) & (rows["s"] != "")]
    names = rows.groupby(["c", "s"])["n"].transform("nunique")
    return np.where(np.isin(np.arange(len(cls)), rows.index[names > 1]), -1, cls)


def _near_texts(texts: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs of distinct texts scoring at least ``threshold``, in prefix/suffix blocks."""
    out: set[tuple[int, int]] = set()
    for block in ([t[:_BLOCK_CHARS] for t in texts], [t[-_BLOCK_CHARS:] for t in texts]):
        for idx in pd.Series(range(len(texts))).groupby(block).indices.values():
            if len(idx) < 2:
                continue
            sub = texts[idx].tolist()
            scores = process.cdist(sub, sub, scorer=fuzz.ratio, score_cutoff=threshold)
            out.update((int(idx[x]), int(idx[y]))
                       for x, y in zip(*np.nonzero(np.triu(scores, 1)), strict=True))
    return sorted(out)


def _group_table(frame: pd.DataFrame, component: np.ndarray, certain: np.ndarray,
                 classes: dict[str, np.ndarray],
                 pairs: dict[str, tuple[np.ndarray, np.ndarray]], xy: np.ndarray
                 ) -> pd.DataFrame:
    """Return the members of the certain groups and of the possible groups around them."""
    n = len(frame)
    rows = np.arange(n)
    sure = pd.Series(certain).duplicated(keep=False).to_numpy()  # in a certain group
    units = pd.DataFrame({"c": component, "u": certain}).groupby("c")["u"].nunique()
    maybe = (units.reindex(component).to_numpy() >= 2)  # links two units or more
    members = pd.concat([
        pd.DataFrame({"row": rows[sure], "label": certain[sure], "certain": True}),
        pd.DataFrame({"row": rows[maybe], "label": component[maybe], "certain": False})],
        ignore_index=True)
    if members.empty:
        return _empty_table()
    first = members.groupby(["certain", "label"])["row"].transform("min")
    members = members.assign(first=first).sort_values(
        ["first", "certain", "label", "row"], ascending=[True, False, True, True],
        kind="stable")
    key = members["label"].to_numpy() * 2 + members["certain"].to_numpy()
    members["group"] = pd.factorize(key)[0] + 1
    reasons = {sure_: _reasons(np.where(sure if sure_ else maybe,
                                        certain if sure_ else component, -1),
                               classes, pairs) for sure_ in (True, False)}
    members["reasons"] = [reasons[c].get(lab, "") for c, lab in
                          zip(members["certain"], members["label"], strict=True)]
    r, f = members["row"].to_numpy(), members["first"].to_numpy()
    members["distance_m"] = np.round(np.hypot(*(xy[r] - xy[f]).T), 1)
    ids = frame["id"].astype(str).to_numpy()
    names = np.array(_column(frame, "name"), dtype=object)
    source_row = (pd.to_numeric(frame["source_row"], errors="coerce").to_numpy()
                  if "source_row" in frame.columns else np.full(n, np.nan))
    out = pd.DataFrame({
        "group": members["group"].to_numpy(), "certain": members["certain"].to_numpy(),
        "reasons": members["reasons"].to_numpy(), "id": ids[r],
        "source_row": pd.array(source_row[r], dtype="Int64"), "name": names[r],
        "distance_m": members["distance_m"].to_numpy()})
    return out.reset_index(drop=True)


def _reasons(label: np.ndarray, classes: dict[str, np.ndarray],
             pairs: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[int, str]:
    """Return what links each labelled set of rows: ``"name+point"`` ... (-1: no set)."""
    found: dict[int, set[str]] = {}
    for kind, cls in classes.items():
        ok = (label >= 0) & (cls >= 0)
        both = pd.DataFrame({"l": label[ok], "c": cls[ok]})
        for lab in both.loc[both.duplicated(keep=False), "l"].unique():
            found.setdefault(int(lab), set()).add(kind.rstrip("0123456789"))
    for kind, (pi, pj) in pairs.items():
        near = (label[pi] == label[pj]) & (label[pi] >= 0)
        for lab in np.unique(label[pi][near]):
            found.setdefault(int(lab), set()).add(kind)
    order = ("name", "address", "point", "text", "translation")
    return {lab: "+".join(k for k in order if k in kinds) for lab, kinds in found.items()}


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({
        "group": pd.Series([], dtype=np.int64), "certain": pd.Series([], dtype=bool),
        "reasons": pd.Series([], dtype=object), "id": pd.Series([], dtype=object),
        "source_row": pd.array([], dtype="Int64"), "name": pd.Series([], dtype=object),
        "distance_m": pd.Series([], dtype=float)})


def merge_duplicates(frame: pd.DataFrame, groups: pd.DataFrame, *,
                     join_columns: Sequence[str] = ("source", "source_id")
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge every certain group of :func:`find_duplicates` into one row.

    The group's first row (in frame order) is kept: its blank values (None, NaN, ``""``, no
    geometry) are filled from the other members in order, the ``join_columns`` present get
    every member's distinct ``;``-separated parts, and ``merged_ids`` lists every member id
    (``"a;b"``; ``""`` on rows not merged). Possible groups are left alone.

    Parameters
    ----------
    frame
        The rows ``groups`` was found on (unique ``id``).
    groups
        The table :func:`find_duplicates` returned.
    join_columns
        Columns whose values are joined instead of filled.

    Returns
    -------
    merged : pandas.DataFrame
        ``frame`` without the rows merged into another (same type, columns and index
        labels), plus ``merged_ids``.
    groups : pandas.DataFrame
        ``groups`` plus ``merged`` (True for the members of a merged group) and ``kept_id``
        (the id of the row that now stands for them, ``""`` otherwise).

    Raises
    ------
    ValueError
        A group member is not in ``frame``, or ``frame`` repeats a member's id.
    """
    ids = frame["id"].astype(str).to_numpy()
    pos = pd.Series(np.arange(len(frame)), index=ids)
    sure = groups[groups["certain"].astype(bool)]
    _check_members(pos, sure["id"].astype(str))
    out = frame.copy()
    if "merged_ids" not in out.columns:
        out["merged_ids"] = ""
    col_of = {c: k for k, c in enumerate(out.columns)}
    drop: list[int] = []
    kept: dict[str, str] = {}
    for _, members in sure.groupby("group", sort=True):
        rows = sorted(int(pos[i]) for i in members["id"].astype(str))
        keep, others = rows[0], rows[1:]
        for col, k in col_of.items():
            values: list[Any] = [out.iat[r, k] for r in rows]
            if col == "merged_ids":
                value: Any = _join([*values, *(ids[r] for r in rows)])
            elif col in join_columns:
                value = _join(values)
            else:
                value = next((v for v in values if not _blank(v)), values[0])
            if value is not values[0]:
                out.iat[keep, k] = value
        drop += others
        kept.update({ids[r]: ids[keep] for r in rows})
    keep_mask = np.ones(len(out), dtype=bool)
    keep_mask[drop] = False
    merged = out.iloc[keep_mask]
    flagged = groups.assign(merged=groups["certain"].astype(bool) & groups["id"].astype(
        str).isin(kept), kept_id=[kept.get(str(i), "") if c else "" for i, c in
                                  zip(groups["id"], groups["certain"], strict=True)])
    return merged, flagged


def _check_members(pos: pd.Series, member_ids: pd.Series) -> None:
    """Raise if a group member is missing from the frame or its id is not unique there."""
    missing = sorted(set(member_ids) - set(pos.index))
    if missing:
        raise ValueError(f"merge_duplicates: {plural(len(missing), 'group member')} not in "
                         f"the frame (ids {', '.join(map(repr, missing[:5]))})")
    repeated = sorted(set(pos.index[pos.index.duplicated()]) & set(member_ids))
    if repeated:
        raise ValueError(f"merge_duplicates: the frame repeats the id {repeated[0]!r}; ids "
                         "must be unique to merge")


def _blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # arrays and other containers are values
        return False


def _join(values: Iterable[object]) -> str:
    """Distinct non-blank ``;``-separated parts of ``values``, in order."""
    parts = (p.strip() for v in values if not _blank(v) for p in str(v).split(";"))
    return ";".join(dict.fromkeys(p for p in parts if p))


_REASON_WORDS = {"name": "near-same name", "address": "same name and address",
                 "point": "same address point", "text": "same description",
                 "translation": "same listing text in another language (shared names and "
                                "numbers)"}


def duplicate_problems(groups: pd.DataFrame, file: str, *, column: str | None = "name"
                       ) -> list[Problem]:
    """Word the groups of :func:`find_duplicates` as inventory warnings, one per member.

    Every member after a group's first gets a ``duplicate_space`` warning (certain groups)
    or a ``possible_duplicate_space`` one (possible groups), naming the first member's row
    and id, what links them, how far apart they are and whether they were merged (a
    ``merged`` column, as :func:`merge_duplicates` adds).

    Parameters
    ----------
    groups
        The table of :func:`find_duplicates` (or of :func:`merge_duplicates`).
    file
        Inventory file name put on every problem.
    column
        Column named on every problem (the name column as written in the file).

    Returns
    -------
    list of Problem
        Sorted by row.
    """
    out: list[Problem] = []
    if groups.empty:
        return out
    # records once (not a frame per group), in the order of groupby("group"): by group,
    # members in table order
    order = np.argsort(groups["group"].to_numpy(), kind="stable")
    used = [c for c in ("group", "certain", "reasons", "id", "source_row", "name",
                        "distance_m", "merged") if c in groups.columns]
    rows = groups[used].iloc[order]
    records = [dict(zip(used, values, strict=True))  # (to_dict boxes every value: slower)
               for values in zip(*(rows[c].tolist() for c in used), strict=True)]
    starts = [k for k, r in enumerate(records) if k == 0 or r["group"] != records[k - 1]["group"]]
    for first, end in zip(starts, [*starts[1:], len(records)], strict=True):
        head = records[first]
        certain = bool(head["certain"])
        why = " and ".join(_REASON_WORDS[r] for r in str(head["reasons"]).split("+") if r)
        where = _row_text(head["source_row"])
        head_name = fold(str(head["name"]))
        for m in records[first + 1:end]:
            far = float(m["distance_m"])
            gap = f"; {far:,.0f} m apart" if far == far and far > 0 else ""
            done = f"; merged into {where}" if bool(m.get("merged", False)) else ""
            same = " (same name)" if fold(str(m["name"])) == head_name else ""
            msg = (f"{'the same space as' if certain else 'possibly the same space as'} "
                   f"{where} (id {head['id']!r}, {head['name']!r}){same}: group linked by "
                   f"{why}{gap}{done}")
            row = None if _blank(m["source_row"]) else int(m["source_row"])
            code = "duplicate_space" if certain else "possible_duplicate_space"
            out.append(Problem(file, row, column, "warning", code, msg))
    return sorted(out, key=lambda p: (p.row is None, p.row or 0, p.code))


def _row_text(row: object) -> str:
    return "a row" if _blank(row) else f"row {int(row)}"  # type: ignore[call-overload]


def duplicate_summary(groups: pd.DataFrame) -> str:
    """Return one line about the groups, for a console or a report.

    Parameters
    ----------
    groups
        The table of :func:`find_duplicates` (or of :func:`merge_duplicates`).

    Returns
    -------
    str
        ``"none"`` or e.g. ``"16 groups (1 certain, 1 merged; 36 rows)"``.
    """
    if groups.empty:
        return "none"
    heads = groups.drop_duplicates("group")
    merged = (int(groups.loc[groups["merged"].astype(bool), "group"].nunique())
              if "merged" in groups.columns else 0)
    return (f"{plural(len(heads), 'group')} ({int(heads['certain'].sum())} certain, "
            f"{merged} merged; {plural(int(groups['id'].nunique()), 'row')})")
