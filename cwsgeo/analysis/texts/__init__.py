"""Listing texts: read them, join them to spaces, screen them for innovation, review the screen.

Modules
-------
``normalize`` (:func:`listing_key`, :func:`clean_text`, :func:`guess_language`), ``readers``
(:func:`read_listing_texts`, :func:`join_listing_texts`), ``lexicon`` (the screen's EN/ES/CA
concepts and room-hire phrases), ``screen`` (:func:`score_text`, :func:`screen_texts`,
:func:`screen_spaces`), ``review`` (:func:`resolve_innovation_types`, :func:`review_sheet`,
:func:`apply_reviews`) and ``calibration`` (Cohen's κ between languages, threshold
sensitivity, correlation with text length).

Texts are untrusted scraped content: they are cleaned to plain text, capped, and only ever
matched against word lists; nothing in them is executed, templated or parsed as markup.

Typical use
-----------
>>> from cwsgeo.analysis.texts import (read_listing_texts, join_listing_texts,
...     screen_spaces, review_sheet, apply_reviews)                  # doctest: +SKIP
>>> listings = read_listing_texts([coworker_csv, coworkingspain_xlsx])  # doctest: +SKIP
>>> spaces = screen_spaces(inventory, join_listing_texts(inventory, listings))  # doctest: +SKIP
>>> sheet = review_sheet(spaces)  # a person fills confirmed_type      # doctest: +SKIP
>>> spaces = apply_reviews(spaces, filled_sheet)                        # doctest: +SKIP
"""

from __future__ import annotations

from .calibration import (
    cohen_kappa,
    confusion,
    language_agreement,
    length_correlation,
    threshold_sensitivity,
    tier_counts,
)
from .lexicon import CATEGORIES, INNOVATION_CATEGORIES, LEXICON, ROOM_HIRE
from .normalize import (
    LANGUAGES,
    TEXT_CAP,
    CleanText,
    clean_text,
    guess_language,
    listing_key,
    split_source_ids,
)
from .readers import (
    INVENTORY_TEXT_HEADERS,
    JOINED_COLUMNS,
    LISTING_COLUMNS,
    SOURCE_LANGUAGE,
    inventory_text_columns,
    join_listing_texts,
    read_listing_texts,
)
from .review import (
    REVIEW_COLUMNS,
    TYPE_SOURCES,
    apply_reviews,
    excerpt,
    resolve_innovation_types,
    review_sheet,
)
from .screen import (
    SCREEN_COLUMNS,
    ScreenThresholds,
    TextScore,
    estimate_type,
    score_text,
    screen_spaces,
    screen_texts,
)

__all__ = [
    "CATEGORIES",
    "INNOVATION_CATEGORIES",
    "INVENTORY_TEXT_HEADERS",
    "JOINED_COLUMNS",
    "LANGUAGES",
    "LEXICON",
    "LISTING_COLUMNS",
    "REVIEW_COLUMNS",
    "ROOM_HIRE",
    "SCREEN_COLUMNS",
    "SOURCE_LANGUAGE",
    "TEXT_CAP",
    "TYPE_SOURCES",
    "CleanText",
    "ScreenThresholds",
    "TextScore",
    "apply_reviews",
    "clean_text",
    "cohen_kappa",
    "confusion",
    "estimate_type",
    "excerpt",
    "guess_language",
    "inventory_text_columns",
    "join_listing_texts",
    "language_agreement",
    "length_correlation",
    "listing_key",
    "read_listing_texts",
    "resolve_innovation_types",
    "review_sheet",
    "score_text",
    "screen_spaces",
    "screen_texts",
    "split_source_ids",
    "threshold_sensitivity",
    "tier_counts",
]
