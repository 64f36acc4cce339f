"""Listing texts in the build: join them, screen them, merge reviewed types, write the review sheet.

The analysis lives in :mod:`cwsgeo.analysis.texts`; this module decides which files are read
(``[inventory] listings``, default the bundle's two scrapes copied to ``data/raw/listings/``,
plus the inventory's own description/notes/services columns), caches the joined and
screened texts by content, and owns the review round trip of ``cwsgeo classify``:

1. ``cwsgeo classify`` writes ``inventory/type_review.xlsx`` and ``.csv`` (every space without
   a declared type: the screen's suggestion, its evidence, an excerpt, and ``confirmed_type``,
   pre-filled with the types confirmed so far);
2. the keeper fills ``confirmed_type`` in either file;
3. the next build merges the confirmed types (source ``reviewed``) without touching the
   inventory file. A confirmed type never reverts to an estimate; declared types always win.

In the built spaces, ``innovation_type`` is the *confirmed* type (declared, else reviewed),
``innovation_type_estimated`` the screen's estimate (to be confirmed) and
``innovation_type_source`` says which one a space has (declared / reviewed / estimated / none).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._errors import CwsgeoError, InventoryError, MissingDataError
from .cache import frame_digest
from .config import Config
from .sources import RawData
from .stages import StageContext, file_key

if TYPE_CHECKING:
    from ..analysis.inventory import Inventory

logger = logging.getLogger(__name__)

__all__ = ["REVIEW_FILES", "attach_texts", "listing_files", "read_review", "stage_texts",
           "write_review_sheet"]

#: The review sheet, as written by ``cwsgeo classify`` (the keeper may fill either).
REVIEW_FILES = ("type_review.xlsx", "type_review.csv")

#: Columns of the screen kept on the built spaces (long texts stay out of the outputs).
KEPT_COLUMNS = ("n_texts", "text_sources", "text_chars", "screen_score", "screen_community",
                "screen_events", "screen_projects", "screen_startups", "screen_makers",
                "screen_business", "screen_evidence", "innovation_type_estimated",
                "innovation_type_reviewed")


def listing_files(cfg: Config) -> list[Path]:
    """Return the configured listing files (``[inventory] listings``), resolved."""
    return [cfg.resolve(p) for p in cfg.inventory.listings]


def stage_texts(ctx: StageContext, inv: Inventory, raw: RawData) -> pd.DataFrame | None:
    """Join and screen the spaces' listing texts (cached by file content and inventory).

    Returns
    -------
    pandas.DataFrame or None
        Indexed by space id: the joined texts (:func:`~cwsgeo.analysis.texts.join_listing_texts`)
        and the screen's columns (:func:`~cwsgeo.analysis.texts.screen_spaces`); ``None``
        when there is no text at all (no listing file and no text column).
    """
    from ..analysis.texts import inventory_text_columns

    paths = listing_files(ctx.cfg)
    missing = [p for p in paths if not p.exists()]
    if missing:
        logger.warning("listing texts not found: %s; the spaces are screened and located "
                       "without them ([inventory] listings)", ", ".join(map(str, missing)))
    present = [p for p in paths if p.exists()]
    own = list(inventory_text_columns(inv.data))
    if not present and not own:
        return None
    columns = [c for c in ("id", "name", "innovation_type", "source_id", "website", *own)
               if c in inv.data.columns]
    key = [*file_key(present, raw), frame_digest(inv.data[columns])]
    screened = ctx.cache.cached("texts", key, lambda: _screened(inv.data[columns], present))
    for message in screened.attrs.get("skipped", []):  # on every build, cached or not
        logger.warning("%s; the build goes on without that file's texts", message)
    return screened


def _screened(inventory: pd.DataFrame, paths: list[Path]) -> pd.DataFrame:
    from ..analysis.texts import (
        LISTING_COLUMNS,
        join_listing_texts,
        read_listing_texts,
        screen_spaces,
    )

    frames, skipped = [], []
    for path in paths:  # listing files are optional: a bad one is skipped, with a warning
        try:
            frames.append(read_listing_texts([path]))
        except (InventoryError, MissingDataError) as exc:
            skipped.append(str(exc))
    listings = (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame(columns=list(LISTING_COLUMNS)))
    screened = screen_spaces(inventory, join_listing_texts(inventory, listings))
    screened = screened.set_index(screened["id"].astype(str).to_numpy())
    screened.attrs["skipped"] = skipped
    return screened


def attach_texts(spaces: pd.DataFrame, screened: pd.DataFrame | None,
                 review: pd.DataFrame | None = None, review_name: str = "review sheet"
                 ) -> pd.DataFrame:
    """Add the screen's columns to the spaces and merge the reviewed types.

    Parameters
    ----------
    spaces
        Built spaces with ``id`` and the declared ``innovation_type``.
    screened
        The result of :func:`stage_texts` (``None``: no texts; only reviews apply).
    review
        A filled review sheet (``id``, ``confirmed_type``), or ``None``.
    review_name
        Its file name, for messages.

    Returns
    -------
    pandas.DataFrame
        ``spaces`` with :data:`KEPT_COLUMNS`, ``innovation_type_source`` and
        ``innovation_type`` set to the confirmed type (declared, else reviewed).
    """
    from ..analysis.texts import apply_reviews, resolve_innovation_types

    out = spaces.copy()
    ids = out["id"].astype(str)
    if screened is not None:
        for column in KEPT_COLUMNS:
            if column in screened.columns:
                out[column] = screened[column].reindex(ids).to_numpy()
    out = resolve_innovation_types(out) if review is None else apply_reviews(out, review,
                                                                            review_name)
    declared = pd.to_numeric(out["innovation_type"], errors="coerce").astype("Int64")
    reviewed = pd.to_numeric(out.get("innovation_type_reviewed", pd.Series(pd.NA, out.index)),
                             errors="coerce").astype("Int64")
    out["innovation_type"] = declared.fillna(reviewed)
    return out.drop(columns=["innovation_type_effective"], errors="ignore")


def review_path(cfg: Config) -> Path:
    """Return the folder-local path of the review sheet (next to the inventory)."""
    return cfg.inventory_path.parent / REVIEW_FILES[0]


def read_review(cfg: Config) -> tuple[pd.DataFrame | None, str]:
    """Read the filled review sheet next to the inventory, if there is one.

    When both the XLSX and the CSV exist, the one saved last is read.

    Returns
    -------
    (pandas.DataFrame or None, str)
        The sheet (text cells) and its file name.
    """
    folder = cfg.inventory_path.parent
    found = [folder / name for name in REVIEW_FILES if (folder / name).is_file()]
    if not found:
        return None, ""
    path = max(found, key=lambda p: p.stat().st_mtime_ns)
    try:
        if path.suffix == ".xlsx":
            sheet = pd.read_excel(path, dtype=str, engine="openpyxl")
        else:
            sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, KeyError) as exc:
        raise CwsgeoError(f"{path}: cannot read the review sheet ({exc})") from None
    logger.info("reviewed innovation types from %s", path)
    return sheet.fillna(""), path.name


def write_review_sheet(cfg: Config, spaces: pd.DataFrame, texts: pd.DataFrame | None
                       ) -> tuple[Path, Path, int]:
    """Write ``type_review.xlsx`` and ``.csv`` next to the inventory (``cwsgeo classify``).

    Every space without a declared type is listed with the screen's suggestion, its evidence
    and an excerpt of its text; ``confirmed_type`` is pre-filled with the types confirmed so
    far, so nothing the keeper typed is lost.

    Returns
    -------
    (pathlib.Path, pathlib.Path, int)
        The XLSX, the CSV and the number of spaces listed.
    """
    from .._io import write_csv
    from ..analysis.texts import review_sheet
    from ..outputs.workbook import write_workbook

    if texts is None:
        raise MissingDataError("no listing texts and no text column in the inventory: "
                               "nothing to screen ([inventory] listings)")
    frame = spaces.copy()
    frame["text"] = texts["text"].reindex(frame["id"].astype(str)).to_numpy()
    if "innovation_type_source" in frame.columns:  # the sheet lists every type not declared
        declared = frame["innovation_type_source"].eq("declared")
        frame["innovation_type"] = frame["innovation_type"].where(declared)
    sheet = review_sheet(frame, include_reviewed=True)
    xlsx = write_workbook({"type_review": sheet}, review_path(cfg))
    csv = write_csv(sheet, review_path(cfg).with_suffix(".csv"))
    return xlsx, csv, len(sheet)


def classify(cfg: Config, *, progress: bool = False) -> tuple[Path, Path, dict[str, Any]]:
    """Screen the inventory's texts and write the review sheet (``cwsgeo classify``).

    Returns
    -------
    (pathlib.Path, pathlib.Path, dict)
        The XLSX and CSV written, and counts: spaces listed, estimated types, reviewed.
    """
    from .cache import StageCache, project_lock
    from .sources import ensure_raw, inventory_to_read
    from .stages import stage_admin, stage_inventory

    cfg = cfg.resolved()
    with project_lock(cfg.cache_dir):
        ctx = StageContext(cfg, StageCache(cfg.cache_dir), progress)
        raw = ensure_raw(cfg, progress=progress)
        inv = stage_inventory(ctx, inventory_to_read(cfg, dry_run=False), stage_admin(ctx, raw),
                              raw)
        screened = stage_texts(ctx, inv, raw)
        review, name = read_review(cfg)
        spaces = attach_texts(inv.data, screened, review, name)
        xlsx, csv, listed = write_review_sheet(cfg, spaces, screened)
    estimated = (spaces["innovation_type_estimated"] if screened is not None
                 else pd.Series(dtype="Int64")).dropna().astype(int)
    counts = {"listed": listed,
              "estimated": {int(str(k)): int(v)
                            for k, v in estimated.value_counts().sort_index().items()},
              "reviewed": int((spaces["innovation_type_source"] == "reviewed").sum())}
    return xlsx, csv, counts
