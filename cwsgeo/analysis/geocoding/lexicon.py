"""City words: how a city, its landmarks, colloquial areas and neighbours are written.

The geocoder and the text locator know no city of their own: the build layer reads these words
from the city profile (:func:`cwsgeo.build.profiles.city_lexicon`) and passes a
:class:`CityLexicon` in. The default lexicon is empty, so an analyst in any city gets no
answers from another city's names.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

from .normalize import fold

__all__ = ["NO_LEXICON", "CityLexicon", "Landmark"]

#: A landmark people locate a space by: (name, other spellings, gazetteer address it is placed
#: at). The address is its source: it is resolved on the address gazetteer when the locator is
#: built, and skipped (with a log line) when it is not found exactly.
Landmark = tuple[str, tuple[str, ...], str]


@dataclass(frozen=True)
class CityLexicon:
    """The words of one city the analysis looks for.

    Attributes
    ----------
    names
        How the city itself is written (its name, abbreviations, nicknames). They are
        dropped from addresses ("..., 08008 <city>") and from names compared for duplicates,
        and a space said to be "near <city>" is outside it.
    region_names
        Region and country words that may end an address; dropped like :attr:`names`.
    landmarks
        Landmarks (:data:`Landmark`) the text locator places at their gazetteer address.
    area_aliases
        Colloquial area name -> area codes (``"B<barri code>"`` / ``"D<district code>"`` of
        the admin layers); an alias naming several areas stands for their union. Aliases win
        over official names with the same key.
    outside_places
        Municipalities around the city as written in listings: a space said to be *in* one of
        them is flagged ``outside_city`` and never placed inside the city.
    transit_words
        ``(word, mode)``: words of listings that name one of the city's transit operators or
        modes (an operator's initials, say); near a station name they tell it is a station
        and of which mode.
    spellings
        ``(written, canonical)`` folded words: other spellings of the city's place names in
        listings (a Spanish "ciudadela" for the Catalan "ciutadella").
    """

    names: tuple[str, ...] = ()
    region_names: tuple[str, ...] = ()
    landmarks: tuple[Landmark, ...] = ()
    area_aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    outside_places: tuple[str, ...] = ()
    transit_words: tuple[tuple[str, str], ...] = ()
    spellings: tuple[tuple[str, str], ...] = ()

    @cached_property
    def city_words(self) -> frozenset[str]:
        """Folded words of :attr:`names` ("barcelona", "bcn" ...)."""
        return _words(self.names)

    @cached_property
    def transit_word_modes(self) -> dict[str, str]:
        """Folded :attr:`transit_words` -> the mode each names."""
        return {fold(w): m for w, m in self.transit_words}

    @cached_property
    def address_stop_words(self) -> frozenset[str]:
        """Folded words of :attr:`names` and :attr:`region_names` (dropped from addresses)."""
        return _words(self.names) | _words(self.region_names)


def _words(texts: Collection[str]) -> frozenset[str]:
    return frozenset(w for t in texts for w in fold(t).split())


#: The empty lexicon (no city words): the default of every analysis function.
NO_LEXICON = CityLexicon()
