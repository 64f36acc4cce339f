"""Rare tokens of listing texts, and the pairs of rows whose rare tokens say the same place.

Two listings of one space on two sites are seldom word-for-word translations, but the tokens
that no translation changes survive: numbers (addresses, m², years, prices), phone numbers,
e-mails, web domains, hashtags, proper nouns and brand names ("Pompeu Fabra", "Turull
Sorensen", "Galla Placidia") and street-number pairs ("Pallars 194"). Used by
:func:`~cwsgeo.analysis.inventory.duplicates.find_duplicates` (``translation`` links).

A *proper noun* is a capitalised word that does not start a sentence, line or list item (an
all-capitals word of 3+ letters counts anywhere), that is not a day, month or a common
technical word, and that the texts do not also use in lower case (``"Meeting Rooms"`` in a
list is not a name: "meeting" is common in lower case).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._text import as_text, fold

__all__ = ["LISTING_TEXT_COLUMNS", "STOP_WORDS", "aligned_texts", "pair_scores", "rare_tokens",
           "token_matrix", "translation_pairs"]

#: Columns of a listing-text frame (:func:`~cwsgeo.analysis.texts.join_listing_texts`)
#: compared by :func:`~cwsgeo.analysis.inventory.duplicates.find_duplicates`, one language each.
LISTING_TEXT_COLUMNS: tuple[str, ...] = ("text_en", "text_es", "text_ca", "text_other")

#: Capitalised words that are not names: days, months (EN/ES/CA) and technical words.
_STOP_TEXT = """
monday tuesday wednesday thursday friday saturday sunday lunes martes miercoles jueves viernes
sabado domingo dilluns dimarts dimecres dijous divendres dissabte diumenge january february
march april may june july august september october november december enero febrero marzo abril
mayo junio julio agosto septiembre octubre noviembre diciembre gener febrer marc maig juny
juliol agost setembre octubre novembre desembre wi fi wifi internet ethernet tv hdmi cctv covid
ok pc mb gb usb vat iva"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_TEXT.split())

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|es|cat|net|org|io|eu"
                  r"|co|info|biz)\b(?:/\S*)?", re.I)
_HASHTAG = re.compile(r"(?<![\w@])[#@](\w+)")
_PHONE = re.compile(r"(?<![\d.,])(?:(?:\+|00)34[\s.-]*)?[6789](?:[\s.-]?\d){8}(?!\d)")
_NUMBER = re.compile(r"(?<![^\W\d_])\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_GEMINATE = re.compile(r"(?<=[lL])[·.\-‧•](?=[lL])")  # Catalan l·l, l.l, l-l -> ll
_WORD = re.compile(r"[^\W\d_]+")
_STREET_NUMBER = re.compile(r"\s*\.?,?\s*(?:n[ºo°]\.?\s*)?(\d{1,4})(?![\d.,]?\d)")
_OPENERS = " \t\"'“”‘’«»()[]"
_ENDS = frozenset(".!?¡¿:;…•*-–—\n")


def _candidates(text: str, folded: dict[str, str]
                ) -> tuple[set[str], list[tuple[str, str]]]:
    """Return the rare-token candidates of one text and its capitalised words in lower case.

    The second value lists ``(word, street_number)`` of every capitalised word not at a
    sentence start (street number ``""`` when no number follows it).
    """
    out: set[str] = set()
    text = _GEMINATE.sub("", text)
    for m in _EMAIL.finditer(text):
        out.update(("@" + m.group(0).lower(), "~" + m.group(0).split("@")[1].lower()))
    text = _EMAIL.sub(" ", text)
    for m in _URL.finditer(text):
        domain = re.sub(r"^(?:https?://)?(?:www\.)?", "", m.group(0).lower())
        out.add("~" + domain.split("/")[0].rstrip("."))
    text = _URL.sub(" ", text)
    out.update("#" + fold(m.group(1)).replace(" ", "") for m in _HASHTAG.finditer(text))
    text = _HASHTAG.sub(" ", text)
    out.update("+" + re.sub(r"\D", "", m.group(0))[-9:] for m in _PHONE.finditer(text))
    text = _PHONE.sub(" ", text)
    for m in _NUMBER.finditer(text):
        s = m.group(0)
        s = re.sub(r"[.,]", "", s) if _THOUSANDS.fullmatch(s) else s.replace(",", ".")
        if len(s) >= 2:
            out.add(s)
    names: list[tuple[str, str]] = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        if len(word) < 2 or not word[0].isupper():
            continue
        before = text[max(0, m.start() - 12):m.start()].rstrip(_OPENERS)  # no O(n²) slice
        before = before if before or m.start() <= 12 else "x"
        if (not before or before[-1] in _ENDS) and not (word.isupper() and len(word) >= 3):
            continue
        num = _STREET_NUMBER.match(text, m.end())
        key = folded.get(word)
        if key is None:
            key = folded[word] = fold(word)
        names.append((key, num.group(1) if num else ""))
    return out, names


def rare_tokens(texts: Sequence[str]) -> list[frozenset[str]]:
    """Return the translation-proof tokens of every text (see the module notes).

    Parameters
    ----------
    texts
        One text per row (``""``: none).

    Returns
    -------
    list of frozenset
        Per text: numbers (``"1992"``), phone numbers (``"+934123456"``), e-mails
        (``"@info@x.com"``), web domains (``"~x.com"``), hashtags (``"#tag"``), proper nouns
        (folded, ``"pompeu"``) and street-number pairs (``"pallars_194"``).
    """
    folded: dict[str, str] = {}  # fold() once per distinct word
    copies = Counter(texts)  # each distinct text is read once, counted as often as it occurs
    found = [_candidates(t, folded) if t else (set(), []) for t in copies]
    lower: Counter[str] = Counter()
    for t, k in copies.items():
        words = {w for w in _WORD.findall(t) if w[:1].islower()}
        for key in {folded.get(w) or folded.setdefault(w, fold(w)) for w in words}:
            lower[key] += k
    distinct = {}
    for t, (tokens, names) in zip(copies, found, strict=True):
        for word, num in names:
            if word in STOP_WORDS or lower[word] >= 2:
                continue
            tokens.add(word)
            if num:
                tokens.add(f"{word}_{num}")
        distinct[t] = frozenset(tokens)
    return [distinct[t] for t in texts]


def token_matrix(tokens: Sequence[frozenset[str]], max_share: float = 0.05,
                 max_rows: int = 50) -> tuple[Any, np.ndarray, list[str]]:
    """Return the row x rare-token incidence (CSR), the tokens' weights and their names.

    A token's weight is its IDF, ``log(rows with a token / rows with this token)``; tokens in
    more than ``max_share`` of those rows (at least 2, at most ``max_rows``) are not rare and
    are left out, as are tokens of a single row (they cannot be shared).
    """
    from scipy.sparse import csr_matrix

    df = Counter(t for s in tokens for t in s)
    n_docs = sum(1 for s in tokens if s)
    cap = max(2, min(int(max_share * n_docs), max_rows))
    vocab = sorted(t for t, k in df.items() if 2 <= k <= cap)
    col = {t: k for k, t in enumerate(vocab)}
    rows = [i for i, s in enumerate(tokens) for t in s if t in col]
    cols = [col[t] for s in tokens for t in s if t in col]
    m = csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)),
                   shape=(len(tokens), len(vocab)))
    weights = np.log(max(n_docs, 1) / np.array([df[t] for t in vocab], dtype=float))
    return m, weights, vocab


def translation_pairs(texts: Sequence[str], stems: Sequence[str], *, threshold: float,
                      min_shared: float, max_share: float = 0.05
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Return the row pairs (i < j) whose rare tokens overlap enough, and their scores.

    The score is the IDF-weighted Jaccard index of the two rows' rare-token sets; a pair
    links when it reaches ``threshold`` and the shared tokens weigh ``min_shared`` or more.
    Only rows sharing a rare token are compared (a sparse product: no all-pairs). Rows of one
    operator (same non-empty ``stems``: branches of a chain sharing boilerplate, contacts
    and brand words) link only when their texts share a street number (``"pallars_194"``).

    Parameters
    ----------
    texts
        One text per row (all its languages).
    stems
        The operator of each row (first word of its normalised name; ``""``: unknown).
    threshold
        Lowest weighted Jaccard index (0-1).
    min_shared
        Lowest summed IDF of the shared tokens.
    max_share
        Tokens in more than this share of the texts are not rare.

    Returns
    -------
    pairs : numpy.ndarray
        ``(k, 2)`` row positions.
    scores : numpy.ndarray
        Their weighted Jaccard indices.
    """
    pairs, score, shared = pair_scores(texts, stems, max_share)
    link = (score >= threshold) & (shared >= min_shared)
    return pairs[link], score[link]


def pair_scores(texts: Sequence[str], stems: Sequence[str], max_share: float = 0.05
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every pair of rows sharing a rare token, its weighted Jaccard and shared IDF.

    Branches of one operator without a shared street number (see
    :func:`translation_pairs`) are left out.
    """
    tokens = rare_tokens(texts)
    m, w, vocab = token_matrix(tokens, max_share)
    if not len(vocab):
        return np.zeros((0, 2), np.int64), np.zeros(0), np.zeros(0)
    mw = m.multiply(w).tocsr()
    total = np.asarray(mw.sum(axis=1)).ravel()
    shared = (mw @ m.T).tocoo()
    keep = shared.row < shared.col
    i, j, s = shared.row[keep], shared.col[keep], shared.data[keep].astype(float)
    ti, tj = total[i].astype(float), total[j].astype(float)
    stem = np.asarray(stems, dtype=object)
    chain = (stem[i] == stem[j]) & (stem[i] != "")
    ok = np.ones(len(s), dtype=bool)
    if chain.any():  # branches of one operator: only a shared street number links them
        street = np.flatnonzero(["_" in t for t in vocab])
        ms = m[:, street]
        both = (ms @ ms.T).tocoo()
        n = np.int64(len(tokens))
        ok[chain] = np.isin(i[chain] * n + j[chain], both.row * n + both.col)
    score = s / np.maximum(ti + tj - s, 1e-9)
    return np.column_stack([i[ok], j[ok]]).astype(np.int64), score[ok], s[ok]


def aligned_texts(frame: pd.DataFrame, texts: pd.Series | pd.DataFrame | None
                   ) -> pd.DataFrame:
    """Return the listing texts of every row of ``frame`` (one column per language, ``""``: none).

    ``texts`` is indexed by the frame's ``id``: a frame with :data:`LISTING_TEXT_COLUMNS` (or
    ``text``), or a Series.
    """
    if texts is None:
        return pd.DataFrame(index=frame.index)
    table = texts.to_frame("text") if isinstance(texts, pd.Series) else texts
    columns = [c for c in LISTING_TEXT_COLUMNS if c in table.columns] or (
        ["text"] if "text" in table.columns else [])
    if not columns:
        raise ValueError("find_duplicates: texts has none of the columns "
                         f"{', '.join(LISTING_TEXT_COLUMNS)} or text")
    index = table.index.astype(str)
    if index.has_duplicates:
        raise ValueError(f"find_duplicates: texts repeats the id {index[index.duplicated()][0]!r}"
                         "; index it by the frame's unique ids")
    ids = frame["id"].astype(str)
    if len(table) and not ids.isin(index).any():
        raise ValueError("find_duplicates: texts shares no id with the frame (index it by id, "
                         f"e.g. {ids.iloc[0]!r}; it has {index[0]!r})")
    out = table[columns].set_axis(index).reindex(ids.to_numpy())
    return pd.DataFrame({c: [as_text(v).strip() for v in out[c]] for c in columns},
                        index=frame.index)
