"""What a geocoder answers for one address: :class:`GeocodeResult`."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Literal

__all__ = ["LOCATED", "GeocodeResult", "Status"]

#: Statuses of a result.
Status = Literal["exact", "nearest_number", "street_only", "unmatched"]
#: Statuses that carry a point.
LOCATED: frozenset[str] = frozenset({"exact", "nearest_number", "street_only"})


@dataclass(frozen=True)
class GeocodeResult:
    """What the geocoder found for one address.

    Attributes
    ----------
    status
        ``exact``, ``nearest_number``, ``street_only`` or ``unmatched``.
    score
        Street-name match score, 0-100 (for an unmatched address: the best score seen).
    lat, lon
        EPSG:4326 point, ``None`` when unmatched.
    provider
        ``"gazetteer"``, ``"nominatim"`` or ``"none"``.
    query
        The address text geocoded (possibly taken from the name).
    matched_address
        The official address found, e.g. ``"Carrer d'Aragó 308"`` (street only for
        ``street_only``), or ``""``.
    street_code, postcode, census_section
        Gazetteer attributes of the matched address point (``""`` when unknown).
    note
        Short explanation: letter or number substituted, postcode disagreement, ambiguity.
    from_name
        True when the address was read from the row's name.
    """

    status: Status
    score: float
    lat: float | None = None
    lon: float | None = None
    provider: str = "none"
    query: str = ""
    matched_address: str = ""
    street_code: str = ""
    postcode: str = ""
    census_section: str = ""
    note: str = ""
    from_name: bool = False

    @property
    def located(self) -> bool:
        """True when the result carries a point."""
        return self.status in LOCATED and self.lat is not None and self.lon is not None

    def to_json(self) -> str:
        """Serialise for the cache."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GeocodeResult:
        """Read a cached result."""
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _unmatched(query: str, score: float = 0.0, note: str = "", provider: str = "none",
               from_name: bool = False) -> GeocodeResult:
    return GeocodeResult("unmatched", round(float(score), 1), provider=provider, query=query,
                         note=note, from_name=from_name)

