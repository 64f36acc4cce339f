"""The innovation screen: a transparent lexicon score of listing texts, for a person to confirm.

The screen estimates the study's innovation type (1 no innovative community, 2 innovative
community, 3 highly innovative community) from what a listing says. It is a *screen*: its
estimate is labelled ``estimated``, never overrides a declared or reviewed type, and is meant
to be confirmed through :func:`~cwsgeo.analysis.texts.review.review_sheet`.

Formula
-------
The text (all languages of a space, joined) is folded sentence by sentence and room-hire
phrases are blanked out (:func:`~cwsgeo.analysis.texts.lexicon.prepare`: "sala para
talleres" is not an event); then each category of
:data:`~cwsgeo.analysis.texts.lexicon.LEXICON` gets the number of its *distinct* concepts
found, capped at ``cap`` (default 2), so long or repetitive texts do not win by repetition::

    c_k      = min(distinct concepts of category k, cap)     k in community, events,
                                                             projects, startups, makers
    b        = min(distinct business-centre concepts, cap)
    activity = c_events + c_projects + c_startups + c_makers
    score    = c_community + activity - b

Estimated type (thresholds of :class:`ScreenThresholds`):

* **3** when ``score >= type3`` (default 6) and ``c_events >= 1`` (highly innovative
  communities run programmed events) and ``activity >= type3_activity`` (default 3);
* **2** when ``score >= type2`` (default 2: one buzzword is not enough);
* **1** otherwise (a text that reads as a shared office or a service);
* missing when the space has no text.

Calibration on the Barcelona bundle (``benchmarks/text_screen.py``, 289 spaces, 286 with a
text, 48 with both an English and a Spanish text): the defaults give tiers 182 / 98 / 6 and
Cohen's κ = 0.47 between English-only and Spanish-only estimates, the best κ (tied with
``cap=3``) among the grid's settings where one concept alone is not enough for type 2
(``type2 >= 2``) and type 3 keeps at least 5 spaces. ``type2 = 1`` raises κ to about 0.6 only
by calling any text with one concept type 2. The benchmark prints the tier counts at each
threshold ± 1 and r(score, text length) (0.43): longer texts still score higher, so the
screen is for a person to confirm.

Examples
--------
>>> s = score_text("A vibrant community with monthly afterworks, hackathons and talks; "
...                "we support startups with mentoring and collaborate on projects.")
>>> s.components["events"], s.score, s.estimated_type
(2, 7, 3)
>>> score_text("Oficina virtual, domiciliación fiscal y recepción. Sala para talleres.").score
-2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..._text import as_text, fold
from .lexicon import CATEGORIES, INNOVATION_CATEGORIES, LEXICON, prepare
from .review import resolve_innovation_types

__all__ = [
    "SCREEN_COLUMNS",
    "ScreenThresholds",
    "TextScore",
    "estimate_type",
    "score_text",
    "screen_spaces",
    "screen_texts",
]

#: Columns of :func:`screen_texts`, in order.
SCREEN_COLUMNS: tuple[str, ...] = (
    *(f"screen_{c}" for c in CATEGORIES), "screen_activity", "screen_score",
    "innovation_type_estimated", "screen_evidence")


@dataclass(frozen=True)
class ScreenThresholds:
    """Cap and thresholds of the screen (see the module docstring for the formula).

    Attributes
    ----------
    cap
        Most distinct concepts counted per category.
    type2
        Lowest score of type 2.
    type3
        Lowest score of type 3.
    type3_activity
        Lowest events + projects + start-ups + makers sum of type 3.
    """

    cap: int = 2
    type2: int = 2
    type3: int = 6
    type3_activity: int = 3

    def __post_init__(self) -> None:
        if self.cap < 1 or self.type2 > self.type3:
            raise ValueError(f"invalid screen thresholds {self}: cap must be >= 1 and "
                             "type2 <= type3")


@dataclass(frozen=True)
class TextScore:
    """The screen's reading of one text.

    Attributes
    ----------
    components
        Category -> capped count of distinct concepts.
    evidence
        Category -> matched concepts (every distinct one, also those over the cap).
    score
        ``community + activity - business`` (capped counts).
    estimated_type
        1, 2 or 3; ``None`` for an empty text.
    """

    components: dict[str, int]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    score: int = 0
    estimated_type: int | None = None

    @property
    def activity(self) -> int:
        """Events + projects + start-ups + makers (capped counts)."""
        return sum(self.components[c] for c in INNOVATION_CATEGORIES if c != "community")

    def evidence_text(self, limit: int = 160) -> str:
        """Format the matched concepts as ``"category: a, b; ..."``, cut to ``limit`` characters."""
        parts = [f"{cat}: {', '.join(terms)}" for cat, terms in self.evidence.items() if terms]
        text = "; ".join(parts)
        return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def estimate_type(components: Mapping[str, int], thresholds: ScreenThresholds) -> int:
    """Estimated type from capped category counts (the rule of the module docstring).

    Parameters
    ----------
    components
        Category -> capped count, for every category of :data:`CATEGORIES`.
    thresholds
        Cap and thresholds.

    Returns
    -------
    int
        1, 2 or 3.
    """
    activity = sum(components[c] for c in INNOVATION_CATEGORIES if c != "community")
    score = components["community"] + activity - components["business"]
    if (score >= thresholds.type3 and components["events"] >= 1
            and activity >= thresholds.type3_activity):
        return 3
    return 2 if score >= thresholds.type2 else 1


def score_text(text: object, thresholds: ScreenThresholds | None = None) -> TextScore:
    """Score one text with the screen's lexicon.

    Parameters
    ----------
    text
        Plain text in English, Spanish and/or Catalan (``None``/NaN/blank: no text).
    thresholds
        Cap and thresholds (default :class:`ScreenThresholds()`).

    Returns
    -------
    TextScore
    """
    th = thresholds or ScreenThresholds()
    raw = as_text(text)
    if not fold(raw):
        return TextScore(dict.fromkeys(CATEGORIES, 0))
    folded = prepare(raw)
    evidence = {cat: [concept for concept, pattern in terms.items() if pattern.search(folded)]
                for cat, terms in LEXICON.items()}
    components = {cat: min(len(evidence[cat]), th.cap) for cat in CATEGORIES}
    score = sum(components[c] for c in INNOVATION_CATEGORIES) - components["business"]
    return TextScore(components, evidence, score, estimate_type(components, th))


def screen_texts(texts: pd.Series, thresholds: ScreenThresholds | None = None) -> pd.DataFrame:
    """Score every text of a series.

    Parameters
    ----------
    texts
        Texts, e.g. ``join_listing_texts(...)["text"]`` (missing = no text).
    thresholds
        Cap and thresholds (default :class:`ScreenThresholds()`).

    Returns
    -------
    pandas.DataFrame
        Same index, columns :data:`SCREEN_COLUMNS`: ``screen_<category>`` (capped distinct
        counts), ``screen_activity``, ``screen_score``, ``innovation_type_estimated``
        (nullable ``Int64``, missing where there is no text) and ``screen_evidence`` (the
        matched concepts, short). Counts are 0 and the type missing for rows without text.
    """
    th = thresholds or ScreenThresholds()
    # each distinct text is scored once (an inventory may repeat a listing's text many times)
    distinct: dict[str, int] = {}
    codes = [distinct.setdefault(as_text(value), len(distinct)) for value in texts.tolist()]
    rows = []
    for text in distinct:
        s = score_text(text, th)
        rows.append({**{f"screen_{c}": s.components[c] for c in CATEGORIES},
                     "screen_activity": s.activity, "screen_score": s.score,
                     "innovation_type_estimated": s.estimated_type,
                     "screen_evidence": s.evidence_text() or pd.NA})
    scored = pd.DataFrame(rows, columns=list(SCREEN_COLUMNS))
    out = scored.iloc[codes].set_axis(texts.index)
    for c in SCREEN_COLUMNS[:-2]:
        out[c] = out[c].astype("int64")
    out["innovation_type_estimated"] = out["innovation_type_estimated"].astype("Int64")
    return out


def screen_spaces(spaces: pd.DataFrame, texts: pd.DataFrame | None = None,
                  thresholds: ScreenThresholds | None = None) -> pd.DataFrame:
    """Screen every space's texts and resolve its innovation type (declared types win).

    Parameters
    ----------
    spaces
        Spaces with ``id`` and optionally ``innovation_type`` (declared) and
        ``innovation_type_reviewed``; with a ``text`` column when ``texts`` is not given.
    texts
        Frame indexed by space id with a ``text`` column, e.g. from
        :func:`~cwsgeo.analysis.texts.readers.join_listing_texts`; its columns are joined to
        the spaces (those the spaces already have are replaced).
    thresholds
        Cap and thresholds (default :class:`ScreenThresholds()`).

    Returns
    -------
    pandas.DataFrame
        The spaces (same index and order) with the texts' columns, :data:`SCREEN_COLUMNS`,
        ``innovation_type_effective`` and ``innovation_type_source`` (see
        :func:`~cwsgeo.analysis.texts.review.resolve_innovation_types`).
    """
    out = spaces.copy()
    if texts is not None:
        joined = texts.reindex(out["id"].astype(str))
        for c in joined.columns:
            out[c] = joined[c].to_numpy()
    if "text" not in out.columns:
        raise KeyError("screen_spaces: no 'text' column (pass texts=join_listing_texts(...))")
    screened = screen_texts(out["text"], thresholds)
    for c in screened.columns:
        out[c] = screened[c]
    return resolve_innovation_types(out)
