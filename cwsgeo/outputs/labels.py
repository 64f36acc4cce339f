"""What people call a city's two levels of areas: the words maps, figures and reports use.

The tables keep their names (``districts``/``barris``, ``barri_code``, ``barri_name``) in
every city, so files and scripts work alike everywhere; what a person reads uses the city's
own words, given by its profile (:attr:`cwsgeo.build.profiles.CityProfile.district_label`
and :attr:`~cwsgeo.build.profiles.CityProfile.neighbourhood_label`) and passed by the build
to each output function as an :class:`AreaLabels`.

Examples
--------
>>> from cwsgeo.outputs.labels import AreaLabels
>>> words = AreaLabels("district", "districts", "barri", "barris")
>>> words.plural("barris"), words.title("barris"), words.singular("districts")
('barris', 'Barris', 'district')
>>> AreaLabels().plural("barris")
'neighbourhoods'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_LABELS", "AreaLabels"]


@dataclass(frozen=True)
class AreaLabels:
    """The words of a city's districts and neighbourhoods (singular and plural, lower case).

    Attributes
    ----------
    district, districts
        The upper level (``admin.districts``), e.g. ``"municipio"``, ``"municipi"``.
    neighbourhood, neighbourhoods
        The lower level (``admin.barris``), e.g. ``"barri"``, ``"barris"``.
    """

    district: str = "district"
    districts: str = "districts"
    neighbourhood: str = "neighbourhood"
    neighbourhoods: str = "neighbourhoods"

    def singular(self, level: str) -> str:
        """Return the singular word of a level (``"districts"`` or ``"barris"``).

        Parameters
        ----------
        level
            The level's table name (any other name is returned as it is).
        """
        return {"districts": self.district, "barris": self.neighbourhood}.get(level, level)

    def plural(self, level: str) -> str:
        """Return the plural word of a level (``"districts"`` or ``"barris"``).

        Parameters
        ----------
        level
            The level's table name (any other name is returned as it is).
        """
        return {"districts": self.districts, "barris": self.neighbourhoods}.get(level, level)

    def title(self, level: str, *, plural: bool = True) -> str:
        """Return the word of a level with a capital first letter (layer names, headings).

        Parameters
        ----------
        level
            ``"districts"`` or ``"barris"``.
        plural
            The plural (default) or the singular word.
        """
        word = self.plural(level) if plural else self.singular(level)
        return word[:1].upper() + word[1:]

    def fields(self, fields: Mapping[str, str]) -> dict[str, str]:
        """Return popup fields (column -> label) with the area names' labels in these words.

        The area names are the columns ``district_name`` and ``barri_name``.

        Parameters
        ----------
        fields
            Column -> label, e.g. :data:`~cwsgeo.outputs.maps.SPACE_POPUP_FIELDS`.
        """
        own = {"district_name": self.title("districts", plural=False),
               "barri_name": self.title("barris", plural=False)}
        return {col: own.get(col, label) for col, label in fields.items()}

    def named_in_text(self) -> str:
        """How a space known only by an area named in its texts was located (popups)."""
        return f"{self.neighbourhood} or {self.district} named in its listing text"


#: The English words ("district", "neighbourhood"): the output functions' default.
DEFAULT_LABELS = AreaLabels()
