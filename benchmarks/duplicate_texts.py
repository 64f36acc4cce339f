"""Benchmark: duplicates from listing texts (identical and translations) on the Barcelona bundle.

Run:  .venv/bin/python benchmarks/duplicate_texts.py [MIRROR]

MIRROR defaults to ../shared/data/bcn (or $CWSGEO_MIRROR). Prints:

1. calibration of the ``translation`` link: precision and recall over a grid of thresholds on
   labelled pairs. True pairs: every space with both an English (coworker.com) and a Spanish
   (coworkingspain.es) listing, split into two pseudo-rows (two independent listings of one
   space, scored as rows of two names), plus cross-row pairs verified by reading
   (:data:`VERIFIED`). Every other pair is false, except :data:`UNSURE` ones (left out).
2. on the real rows: the possible groups found with and without the texts, and the groups the
   text signal adds or extends (id, name, reasons);
3. the time of ``find_duplicates`` on 30,000 synthetic rows with texts. No timed asserts.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from cwsgeo.analysis.inventory import check_inventory
from cwsgeo.analysis.inventory._text_links import pair_scores
from cwsgeo.analysis.inventory.duplicates import (
    NAME_NOISE,
    TRANSLATION_MIN_SHARED,
    TRANSLATION_THRESHOLD,
    find_duplicates,
    space_name_key,
)
from cwsgeo.analysis.texts import join_listing_texts, read_listing_texts
from cwsgeo.build.profiles import city_lexicon, load_profile

_RAW = "coworking/raw"
_LISTINGS = (
    "GabrielFersPin__Coworking/src/results/Barcelona/Barcelona_coworking_spaces.csv",
    "MMM-UOC__coworking-scraper/checkpoint_220.xlsx",
)
#: Pairs of rows read and judged the same space (EN listing on one site, ES on the other).
VERIFIED = [("bcn-cw-0260", "bcn-cw-0265"), ("bcn-cw-0261", "bcn-cw-0266"),
            ("bcn-cw-0262", "bcn-cw-0267"), ("bcn-cw-0263", "bcn-cw-0264"),
            ("bcn-cw-0231", "bcn-cw-0234"), ("bcn-cw-0121", "bcn-cw-0217"),
            ("bcn-cw-0249", "bcn-cw-0250"), ("bcn-cw-0100", "bcn-cw-0101"),
            ("bcn-cw-0013", "bcn-cw-0014")]
#: Pairs that could not be judged by reading.
UNSURE = [("bcn-cw-0259", "bcn-cw-0268"), ("bcn-cw-0100", "bcn-cw-0102"),
          ("bcn-cw-0101", "bcn-cw-0102")]


#: Barcelona's names (from its profile), left out of compared names.
CITY_WORDS = city_lexicon(load_profile("barcelona")).city_words

def _pseudo_rows(texts: pd.DataFrame) -> pd.DataFrame:
    """One row per text; a space with English and Spanish texts gives two rows."""
    rows = []
    for sid, r in texts.iterrows():
        en, es, ca = (r[c] if isinstance(r[c], str) else "" for c in
                      ("text_en", "text_es", "text_ca"))
        if en and es:
            rows += [(f"{sid}:en", sid, en), (f"{sid}:es", sid, "\n\n".join(filter(None, (
                es, ca))))]
        elif en or es or ca:
            rows.append((sid, sid, "\n\n".join(filter(None, (en, es, ca)))))
    return pd.DataFrame(rows, columns=["row", "space", "text"])


def calibrate(texts: pd.DataFrame, names: pd.Series) -> None:
    rows = _pseudo_rows(texts)
    stems = [(space_name_key(names[s], NAME_NOISE | CITY_WORDS).split() or [""])[0]
             for s in rows["space"]]
    space = rows["space"].to_numpy()
    # a space's own two listings are scored as two names would be (not as branches)
    real, own = pair_scores(rows["text"].tolist(), stems), pair_scores(
        rows["text"].tolist(), [""] * len(rows))
    same = [space[p[:, 0]] == space[p[:, 1]] for p, _, _ in (real, own)]
    pairs, jac, shared = (np.concatenate([real[k][~same[0]], own[k][same[1]]])
                          for k in range(3))
    a, b = space[pairs[:, 0]], space[pairs[:, 1]]
    key = [frozenset(p) for p in zip(a, b, strict=True)]
    verified = {frozenset(p) for p in VERIFIED}
    unsure = {frozenset(p) for p in UNSURE}
    true = (a == b) | np.array([k in verified for k in key], dtype=bool)
    known = ~np.array([k in unsure for k in key], dtype=bool)
    n_true = int((rows["space"].value_counts() == 2).sum()) + len(VERIFIED)
    print(f"calibration: {len(rows)} pseudo-rows, {n_true} true pairs ("
          f"{n_true - len(VERIFIED)} EN/ES listings of one space + {len(VERIFIED)} verified), "
          f"{len(pairs)} pairs share a rare token")
    print("  threshold  min_shared   TP   FP  precision  recall")
    for th in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        for ms in (6.0, 8.0, 10.0, 12.0, 15.0):
            hit = known & (jac >= th) & (shared >= ms)
            tp, fp = int((hit & true).sum()), int((hit & ~true).sum())
            mark = "  <- default" if (th, ms) == (TRANSLATION_THRESHOLD,
                                                  TRANSLATION_MIN_SHARED) else ""
            print(f"  {th:9.2f}  {ms:10.1f}  {tp:3d}  {fp:3d}  {tp / max(tp + fp, 1):9.2f}  "
                  f"{tp / n_true:6.2f}{mark}")
    hit = known & (jac >= TRANSLATION_THRESHOLD) & (shared >= TRANSLATION_MIN_SHARED)
    print("  false links at the default:")
    for k in np.flatnonzero(hit & ~true):
        print(f"    {rows['row'][pairs[k, 0]]} {names[a[k]]!r} ~ {rows['row'][pairs[k, 1]]} "
              f"{names[b[k]]!r} (J {jac[k]:.2f}, shared {shared[k]:.1f})")


def compare(spaces: pd.DataFrame, texts: pd.DataFrame) -> None:
    t0 = time.perf_counter()
    before = find_duplicates(spaces, city_words=CITY_WORDS)
    t1 = time.perf_counter()
    after = find_duplicates(spaces, texts=texts, city_words=CITY_WORDS)
    t2 = time.perf_counter()
    print(f"\nbundle: {len(spaces)} rows; groups without texts {before['group'].nunique()} "
          f"({t1 - t0:.2f} s), with texts {after['group'].nunique()} ({t2 - t1:.2f} s); "
          f"certain {before['certain'].sum()} -> {after['certain'].sum()} rows")
    old = {frozenset(g["id"]) for _, g in before.groupby("group")}
    for _, g in after.groupby("group"):
        if frozenset(g["id"]) in old:
            continue
        grown = [o for o in old if o < frozenset(g["id"])]
        how = "extends " + ", ".join(sorted(min(o) for o in grown)) if grown else "new"
        print(f"  {how} [{g['reasons'].iloc[0]}]: " + "; ".join(
            f"{i} {n!r}" for i, n in zip(g["id"], g["name"], strict=True)))


def synthetic(n: int = 30_000) -> None:
    rng = np.random.default_rng(7)
    streets = [f"Carrer{k}" for k in range(3000)]
    words = [f"Brand{k}" for k in range(5000)]
    # listings start with their own name (as coworker.com's "Overview of <name>") and end
    # differently: texts sharing their first and last 24 characters all fall in one block of
    # the identical-text rule (an all-pairs fuzz.ratio there)
    text = [f"Space {i} by {words[rng.integers(5000)]} at {streets[i % 3000]} "
            f"{rng.integers(1, 300)}, near Plaza {words[rng.integers(5000)]} in Barcelona and "
            f"Gràcia; call 93{rng.integers(1_000_000, 9_999_999)} or visit space{i}.com"
            for i in range(n)]
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)],
                          "name": [f"{words[i % 5000]}{i} Coworking" for i in range(n)]})
    texts = pd.Series(text, index=frame["id"])
    t0 = time.perf_counter()
    found = find_duplicates(frame, texts=texts)
    print(f"\nsynthetic: {n:,} rows with texts: {time.perf_counter() - t0:.2f} s, "
          f"{found['group'].nunique()} groups")


def main() -> None:
    mirror = Path(sys.argv[1] if len(sys.argv) > 1 else
                  os.environ.get("CWSGEO_MIRROR", "../shared/data/bcn"))
    from cwsgeo.analysis.geocoding import Geocoder, OfflineGeocoder, geocode_table

    inv = check_inventory(mirror / "coworking/coworking_spaces.csv")
    listings = read_listing_texts([mirror / _RAW / p for p in _LISTINGS])
    texts = join_listing_texts(inv.data, listings)
    names = inv.data.set_index(inv.data["id"].astype(str))["name"]
    calibrate(texts, names)
    geocoder = Geocoder(OfflineGeocoder.from_dir(mirror / "addresses",
                                                 lexicon=city_lexicon(load_profile("barcelona"))))
    spaces = geocode_table(inv.data.drop(columns=["lat", "lon"]), geocoder)
    compare(spaces, texts)
    synthetic()


if __name__ == "__main__":
    main()
