"""Benchmark: listing texts joined to the Barcelona bundle, and how the innovation screen behaves.

Run:  .venv/bin/python benchmarks/text_screen.py [MIRROR]

MIRROR defaults to ../shared/data/bcn (or $CWSGEO_MIRROR). Prints: texts joined (rows with at
least one text, with English, Spanish, Catalan, both EN and ES), tier distribution, Cohen's κ
and confusion between English-only and Spanish-only estimates, a small calibration grid of the
cap and thresholds (κ and tiers), the tier counts with each threshold moved one step,
r(score, text length) and run times. No timed asserts.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import astuple
from itertools import product
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from cwsgeo.analysis.inventory import read_inventory
from cwsgeo.analysis.texts import (
    ScreenThresholds,
    join_listing_texts,
    language_agreement,
    length_correlation,
    read_listing_texts,
    review_sheet,
    screen_spaces,
    screen_texts,
    threshold_sensitivity,
    tier_counts,
)

_RAW = "coworking/raw"
_LISTINGS = (
    "GabrielFersPin__Coworking/src/results/Barcelona/Barcelona_coworking_spaces.csv",
    "MMM-UOC__coworking-scraper/checkpoint_220.xlsx",
)


def _grid(texts: pd.DataFrame) -> None:
    print("\ncalibration grid (cap, type2, type3, type3_activity): kappa EN/ES, tiers 1/2/3")
    for cap, t2, t3 in product((1, 2, 3), (1, 2, 3), (5, 6, 7)):
        th = ScreenThresholds(cap=cap, type2=t2, type3=t3)
        kappa, _ = language_agreement(texts, th)
        tiers = tier_counts(screen_texts(texts["text"], th)["innovation_type_estimated"])
        mark = "  <- default" if th == ScreenThresholds() else ""
        print(f"  {astuple(th)}: kappa {kappa:5.2f}  tiers "
              f"{tiers[1]:3d} / {tiers[2]:3d} / {tiers[3]:2d}{mark}")


def main() -> None:
    mirror = Path(sys.argv[1] if len(sys.argv) > 1 else
                  os.environ.get("CWSGEO_MIRROR", "../shared/data/bcn"))
    t0 = time.perf_counter()
    listings = read_listing_texts([mirror / _RAW / p for p in _LISTINGS])
    t1 = time.perf_counter()
    inventory = read_inventory(mirror / "coworking/coworking_spaces.csv").data
    t2 = time.perf_counter()
    texts = join_listing_texts(inventory, listings)
    t3 = time.perf_counter()
    spaces = screen_spaces(inventory, texts)
    t4 = time.perf_counter()
    sheet = review_sheet(spaces)
    t5 = time.perf_counter()

    n = len(texts)
    en, es = texts["text_en"].notna(), texts["text_es"].notna()
    print(f"listings read: {len(listings)} ({listings['source'].value_counts().to_dict()}); "
          f"languages {listings['language'].value_counts(dropna=False).to_dict()}")
    print(f"texts joined: {(texts['n_texts'] > 0).sum()} of {n} rows have >= 1 text; "
          f"EN {en.sum()}, ES {es.sum()}, CA {texts['text_ca'].notna().sum()}, "
          f"EN and ES {(en & es).sum()}; services {texts['services'].notna().sum()}; "
          f"cut at cap {texts['text_notes'].notna().sum()}")
    tiers = tier_counts(spaces["innovation_type_estimated"])
    print(f"tiers (estimated) 1/2/3: {tiers[1]} / {tiers[2]} / {tiers[3]}; no text "
          f"{spaces['innovation_type_estimated'].isna().sum()}; sources "
          f"{spaces['innovation_type_source'].value_counts().to_dict()}")
    has = texts["n_texts"] > 0
    print("spaces with a concept per category: " + ", ".join(
        f"{c.removeprefix('screen_')} {(spaces.loc[has.to_numpy(), c] > 0).sum()}"
        for c in spaces.columns if c.startswith("screen_") and c not in
        ("screen_score", "screen_evidence", "screen_activity")))
    kappa, table = language_agreement(texts)
    print(f"\nEN-only vs ES-only estimates ({int(table.to_numpy().sum())} spaces): "
          f"Cohen's kappa {kappa:.2f}")
    print(table.rename_axis(index="EN \\ ES").to_string())
    r = length_correlation(spaces["screen_score"], spaces["text"])
    print(f"\nr(score, text length) = {r:.2f} over {has.sum()} texts")
    print("\nthreshold sensitivity (each threshold +/- one step):")
    print(threshold_sensitivity(texts["text"]).to_string(index=False))
    _grid(texts)
    print(f"\nreview sheet: {len(sheet)} rows, longest excerpt "
          f"{sheet['excerpt'].str.len().max()} chars")
    print(f"time: read listings {t1 - t0:.2f} s, read inventory {t2 - t1:.2f} s, join "
          f"{t3 - t2:.2f} s, screen {t4 - t3:.2f} s, review sheet {t5 - t4:.2f} s")


if __name__ == "__main__":
    main()
