"""Listing texts: read them, join them to spaces, screen them for innovation, review the screen.

Modules
-------
``normalize`` (:func:`listing_key`, :func:`clean_text`, :func:`guess_language`), ``readers``
(:func:`read_listing_texts`, :func:`join_listing_texts`).

Texts are untrusted scraped content: they are cleaned to plain text, capped, and only ever
matched against word lists; nothing in them is executed, templated or parsed as markup.
"""

from __future__ import annotations

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

__all__ = [
    "INVENTORY_TEXT_HEADERS",
    "JOINED_COLUMNS",
    "LANGUAGES",
    "LISTING_COLUMNS",
    "SOURCE_LANGUAGE",
    "TEXT_CAP",
    "CleanText",
    "clean_text",
    "guess_language",
    "inventory_text_columns",
    "join_listing_texts",
    "listing_key",
    "read_listing_texts",
    "split_source_ids",
]
