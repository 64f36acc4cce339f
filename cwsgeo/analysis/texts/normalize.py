r"""Listing text hygiene: keys that match ``source_id`` tokens, clean text, a cheap language test.

Texts come from scraped listing pages, so they are untrusted: HTML entities and tags are turned
into plain text (never parsed as markup, never executed or templated), control characters are
dropped, whitespace is collapsed and every text is capped (:data:`TEXT_CAP` characters).

Examples
--------
>>> listing_key("https://www.Coworker.com/spain/barcelona/021-coworking/?utm_source=x")
'coworker.com/spain/barcelona/021-coworking'
>>> clean_text("<b>Caf&eacute;</b> &amp; <i>community</i>\x07  events").text
'Café & community events'
>>> guess_language("Un espacio de trabajo para los emprendedores de la ciudad")
'es'
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from ..._text import fold

__all__ = ["LANGUAGES", "TEXT_CAP", "CleanText", "clean_text", "guess_language", "listing_key",
           "split_source_ids"]

#: Languages the screen knows, in column order (``text_en``, ``text_es``, ``text_ca``).
LANGUAGES: tuple[str, ...] = ("en", "es", "ca")

#: Longest text kept, in characters; longer texts are cut (and the cut is recorded).
TEXT_CAP = 20_000

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|table|section|article)\b"
                        r"[^>]*>", re.I)
_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*[a-zA-Z][^<>]*>", re.S)
_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?<\s*/\s*\1\s*>", re.I | re.S)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n(?:\s*\n)+")
_SCRAPE_TAIL = re.compile(r"\s*(?:show more|show less|ver más|ver mas|veure més)\s*$", re.I)

# Short, frequent function words that separate the three languages (after fold()).
_STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in {
    "en": "the and of to with for is are you your our in on at from this that will be an it we "
          "as by or can have",
    "es": "el la los las y de del con para es son un una en por que nuestro nuestra tu su "
          "espacio al se lo como pero muy ademas",
    "ca": "el la els les i de del amb per es son un una en que nostre nostra teu seu espai al "
          "als pel dels tambe molt aquest aquesta",
}.items()}
_DISTINCT: dict[str, frozenset[str]] = {
    lang: words - frozenset().union(*(w for k, w in _STOPWORDS.items() if k != lang))
    for lang, words in _STOPWORDS.items()}


@dataclass(frozen=True)
class CleanText:
    """A cleaned text and what cleaning did.

    Attributes
    ----------
    text
        The plain text (``""`` when nothing is left).
    original_chars
        Length of the cleaned text before the cap.
    truncated
        Whether the text was cut at the cap.
    """

    text: str
    original_chars: int
    truncated: bool


def listing_key(value: object) -> str:
    """Normalise a listing URL or ``source_id`` token to a comparable key.

    Drops the scheme, ``www.``, query string, fragment and trailing slashes, and lower-cases,
    so ``https://www.coworker.com/spain/barcelona/x/`` and ``coworker.com/spain/barcelona/x``
    give the same key. Tokens that are not URLs (``BarcelonaPlaces.csv:row14``) are only
    stripped and lower-cased.

    Parameters
    ----------
    value
        URL or token; ``None``/NaN give ``""``.

    Returns
    -------
    str
    """
    if value is None or value != value:  # None or NaN
        return ""
    key = str(value).strip()
    key = _SCHEME.sub("", key)
    key = re.split(r"[?#]", key, maxsplit=1)[0]
    key = key.rstrip("/").lower()
    return key[4:] if key.startswith("www.") else key


def split_source_ids(value: object) -> list[str]:
    """Split an inventory ``source_id`` cell (``;``-separated) into distinct listing keys.

    Parameters
    ----------
    value
        The cell.

    Returns
    -------
    list of str
        Keys in their order of appearance, without blanks and repeats.
    """
    if value is None or value != value:
        return []
    keys = (listing_key(t) for t in str(value).split(";"))
    return list(dict.fromkeys(k for k in keys if k))


def clean_text(value: object, cap: int = TEXT_CAP) -> CleanText:
    """Turn a scraped cell into plain text: entities, tags, control characters, whitespace.

    ``<script>``/``<style>`` blocks are dropped with their content, block tags (``<p>``,
    ``<br>``, ``<li>``...) become line breaks, other tags vanish; entities are decoded (twice,
    for double-escaped scrapes) after the tags are gone, so an escaped ``&lt;b&gt;`` stays
    visible text. Control and format characters are removed (tabs become spaces), runs of
    spaces collapse to one, more than one blank line to one, and a trailing "SHOW MORE"
    scrape artefact is dropped. The result is cut to ``cap`` characters at a word boundary
    when one is near.

    Parameters
    ----------
    value
        The cell (``None``, NaN and ``"N/A"`` give an empty text).
    cap
        Longest text kept, in characters.

    Returns
    -------
    CleanText
    """
    if value is None or value != value:
        return CleanText("", 0, False)
    text = str(value)
    if text.strip().upper() in {"N/A", "NA", "NONE", "NULL", "-"}:
        return CleanText("", 0, False)
    text = _SCRIPT.sub(" ", text)
    text = _BLOCK_TAG.sub("\n", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(html.unescape(text))
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch if ch == "\n" else (" " if ch.isspace() else ch) for ch in text
                   if ch == "\n" or unicodedata.category(ch)[0] != "C" or ch == "\t")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    text = _SCRAPE_TAIL.sub("", text)
    n = len(text)
    if n <= cap:
        return CleanText(text, n, False)
    cut = text[:cap]
    space = cut.rfind(" ", max(0, cap - 200))
    return CleanText(cut[:space] if space > 0 else cut, n, True)


def guess_language(text: str, default: str | None = None) -> str | None:
    """Guess whether a text is English, Spanish or Catalan from its function words.

    Counts the words that belong to one language's list only (``the``/``and`` for English,
    ``los``/``y``/``para`` for Spanish, ``els``/``i``/``amb`` for Catalan) and returns the
    language with most, when it has at least 3 and at least 1.5 times the runner-up;
    otherwise ``default``.

    Parameters
    ----------
    text
        Plain text.
    default
        Returned when the test is not conclusive (e.g. the source's language).

    Returns
    -------
    str or None
        ``"en"``, ``"es"``, ``"ca"`` or ``default``.
    """
    counts = dict.fromkeys(LANGUAGES, 0)
    for word in fold(text[:5000]).split():
        for lang in LANGUAGES:
            if word in _DISTINCT[lang]:
                counts[lang] += 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, n1), (_, n2) = ranked[0], ranked[1]
    if n1 >= 3 and n1 >= 1.5 * n2:
        return best
    return default
