"""A new project folder for any city: what ``cwsgeo init --place`` writes.

:func:`init_project` writes ``cwsgeo.toml`` (live data, the city profile ``city.toml``),
``city.toml`` (:func:`cwsgeo.build.profiles.profile_for_place` defaults, or a profile given by
the user) and an inventory: an empty template with the expected columns, or a copy of the
user's file. It never overwrites a project.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from .._errors import ConfigError, MissingDataError
from .._io import atomic_path
from .config import CONFIG_NAME
from .profiles import (
    CityProfile,
    load_profile,
    place_parts,
    profile_for_place,
    slugify,
    toml_string,
)

logger = logging.getLogger(__name__)

__all__ = ["INVENTORY_TEMPLATE_COLUMNS", "PROFILE_NAME", "init_project"]

#: Name of the city profile inside a project.
PROFILE_NAME = "city.toml"
#: Header of the empty inventory template (see :mod:`cwsgeo.analysis.inventory`).
INVENTORY_TEMPLATE_COLUMNS = ("id", "name", "address", "postcode", "lat", "lon",
                              "innovation_type", "website", "source", "source_id")


def _project_toml(profile_name: str, place: str | None, live: bool, inventory: str,
                  gazetteer: bool) -> str:
    lines = [
        "# cwsgeo project: see README.md > Any city. Edit city.toml for the city's levels,",
        "# population source and CRS; then `cwsgeo build --live`.",
        "[city]",
        f'profile = "{profile_name}"',
        "",
        "[data]",
        f'source = "{"live" if live else "mirror"}"',
    ]
    if place:
        lines.append(f"place = {toml_string(place)}  # overrides the profile's place")
    lines += ["", "[inventory]", f"path = {toml_string(inventory)}",
              "listings = []  # listing texts (CSV/XLSX) joined to the spaces by source_id"]
    if not gazetteer:
        lines += ["", "[geocoding]",
                  "# no address gazetteer: addresses through Nominatim (cached, 1 request/s)",
                  "online = true"]
        lines += ["", "[statistics]",
                  '# no address gazetteer: the Kd counterfactual sites are the OSM places',
                  'reference = "places"']
    return "\n".join([*lines, ""])


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def init_project(folder: str | os.PathLike[str] | None, *, place: str,
                 profile: str | os.PathLike[str] | None = None,
                 inventory: str | os.PathLike[str] | None = None, live: bool = True) -> Path:
    """Write a project folder for a city: ``cwsgeo.toml``, ``city.toml`` and an inventory.

    Parameters
    ----------
    folder
        Project folder (created; may exist if it holds no project). ``None``: a slug of the
        place's first part in the current folder (``"Milano, Italia"`` → ``milano``).
    place
        Nominatim query of the city, e.g. ``"Milano, Italia"``.
    profile
        A profile to start from (a TOML file, copied as ``city.toml``, or a built-in name);
        default: :func:`~cwsgeo.build.profiles.profile_for_place` of ``place`` (GHSL
        population, UTM CRS, the country's admin levels). When the profile's own place
        differs from ``place``, ``[data] place`` records ``place``.
    inventory
        An inventory file to copy into ``inventory/``; default: an empty template with the
        expected columns.
    live
        ``[data] source = "live"`` (else ``"mirror"``).

    Returns
    -------
    pathlib.Path
        The project's ``cwsgeo.toml``.

    Raises
    ------
    cwsgeo.ConfigError
        The folder already holds a project, or the place or profile is unusable.
    cwsgeo.MissingDataError
        The inventory file does not exist.
    """
    if not place.strip():
        raise ConfigError("a place name is needed, e.g. 'Milano, Italia'")
    root = Path(folder) if folder is not None else Path(slugify(place_parts(place)[0]))
    # cwsgeo.toml is written last: a city.toml alone is an interrupted init, made again
    if (root / CONFIG_NAME).exists():
        raise ConfigError(f"{root} already holds a cwsgeo project ({CONFIG_NAME}): "
                          "not overwritten; choose another folder or edit it")
    if inventory is not None and not Path(inventory).is_file():
        raise MissingDataError(f"inventory not found: {inventory}")
    text, prof = _profile_text(place, profile)
    inv_rel = "inventory/" + (Path(inventory).name if inventory is not None
                              else "coworking_spaces.csv")
    root.mkdir(parents=True, exist_ok=True)
    _write(root / PROFILE_NAME, text)
    inv_path = root / inv_rel
    inv_path.parent.mkdir(parents=True, exist_ok=True)
    if inventory is not None:
        shutil.copyfile(inventory, inv_path)
    elif not inv_path.exists():
        _write(inv_path, ",".join(INVENTORY_TEMPLATE_COLUMNS) + "\n")
    config = root / CONFIG_NAME
    _write(config, _project_toml(PROFILE_NAME, None if prof.place == place else place, live,
                                 inv_rel, bool(prof.gazetteer)))
    logger.info("project for %r written to %s", place, root)
    return config


def _profile_text(place: str, profile: str | os.PathLike[str] | None
                  ) -> tuple[str, CityProfile]:
    """Return the text of ``city.toml`` and the profile it holds (validated)."""
    if profile is None:
        prof = profile_for_place(place)
        return prof.to_toml(), prof
    # written out, not copied: the lexicon and literature paths are absolute in it
    prof = load_profile(os.fspath(profile))
    return prof.to_toml(), prof
