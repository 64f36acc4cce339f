"""Measure the offline geocoder on the Barcelona bundle's coworking addresses.

Usage::

    .venv/bin/python benchmarks/geocode_accuracy.py [--mirror PATH] [--min-score 85]

Prints the gazetteer load time, the per-address time, the status of each of the 53 addressed
rows of ``coworking/coworking_addresses_only.csv`` (50 with a house number, 3 street-only), the
error in metres (EPSG:25831) against the 20 points of ``coworking_geocode_truth.csv``, what the
name-derived path locates among the 236 name-only rows, and the time to geocode the whole
289-row inventory with ``geocode_table`` (cold, then from the cache). Exits 1 when a target is
missed: >= 48 of 53 resolved (to a number, or to the street where none is given) and median
error <= 30 m.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

import cwsgeo
from cwsgeo import settings
from cwsgeo.analysis.geocoding import (
    GazetteerIndex,
    Geocoder,
    OfflineGeocoder,
    SQLiteResultStore,
    geocode_table,
    parse_address,
)
from cwsgeo.build.profiles import city_lexicon, load_profile

ROOT = Path(__file__).resolve().parent.parent
TARGET_RESOLVED = 48
TARGET_MEDIAN_M = 30.0


#: Barcelona's words (city names, landmarks, areas) from its profile.
LEXICON = city_lexicon(load_profile("barcelona"))

def default_mirror() -> Path:
    env = os.environ.get("CWSGEO_MIRROR")
    return Path(env) if env else (ROOT / ".." / "shared" / "data" / "bcn").resolve()


def error_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    to_work = Transformer.from_crs(settings.crs_store, settings.crs_work, always_xy=True)
    x1, y1 = to_work.transform(lon1, lat1)
    x2, y2 = to_work.transform(lon2, lat2)
    return float(np.hypot(x1 - x2, y1 - y2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", type=Path, default=default_mirror(),
                    help="the Barcelona data bundle (default: ../shared/data/bcn)")
    ap.add_argument("--min-score", type=float, default=85.0)
    args = ap.parse_args(argv)
    mirror: Path = args.mirror
    cw = mirror / "coworking"
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 48)
    pd.set_option("display.max_rows", 400)

    # -- load ----------------------------------------------------------------------------
    t0 = time.perf_counter()
    offline = OfflineGeocoder.from_dir(mirror / "addresses", min_score=args.min_score,
                                       lexicon=LEXICON)
    check_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = offline.load()
    load_s = time.perf_counter() - t0
    print(f"gazetteer: header check {check_s * 1000:.1f} ms, load {load_s:.2f} s "
          f"({index.n_points:,} points, {len(index.streets):,} streets)")
    data = index.to_bytes()
    t0 = time.perf_counter()
    GazetteerIndex.from_bytes(data)
    print(f"gazetteer index as bytes: {len(data) / 1e6:.1f} MB, read back in "
          f"{time.perf_counter() - t0:.2f} s")

    # -- the 53 addressed rows -----------------------------------------------------------
    rows = pd.read_csv(cw / "coworking_addresses_only.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(cw / "coworking_geocode_truth.csv", dtype={"id": str}).set_index("id")
    addressed = rows[rows["address"].str.strip() != ""]
    t0 = time.perf_counter()
    results = [offline.geocode(r.address, r.postcode or None, name=r.name)
               for r in addressed.itertuples()]
    per_ms = (time.perf_counter() - t0) / max(len(addressed), 1) * 1000
    print(f"offline geocoding: {per_ms:.2f} ms per address ({len(addressed)} addresses)\n")

    table = []
    resolved = 0
    for r, res in zip(addressed.itertuples(), results, strict=True):
        has_number = parse_address(r.address, LEXICON.address_stop_words).number is not None
        ok = (res.status in {"exact", "nearest_number"}) if has_number else \
            (res.status == "street_only")
        resolved += ok
        err = np.nan
        if r.id in truth.index and res.located:
            err = error_m(res.lat, res.lon, *truth.loc[r.id, ["lat", "lon"]])
        table.append({"id": r.id, "address": r.address, "postcode": r.postcode,
                      "status": res.status, "score": res.score,
                      "matched": res.matched_address, "err_m": round(err, 1), "ok": ok,
                      "note": res.note})
    tab = pd.DataFrame(table)
    print(tab.drop(columns=["note"]).to_string(index=False))
    noted = tab[tab.note != ""]
    if len(noted):
        print("\nnotes:")
        for t in noted.itertuples():
            print(f"  {t.id} {t.address!r}: {t.note}")

    n_number = sum(parse_address(a, LEXICON.address_stop_words).number is not None
                   for a in addressed.address)
    print(f"\nstatus counts: {tab.status.value_counts().to_dict()}")
    print(f"resolved: {resolved} of {len(tab)} ({n_number} with a house number resolved to a "
          f"number, {len(tab) - n_number} without resolved to the street) "
          f"[target >= {TARGET_RESOLVED}]")

    truth_rows = tab[tab.id.isin(truth.index)]
    errs = truth_rows.err_m.dropna().tolist()
    missing = len(truth_rows) - len(errs)
    median = statistics.median(errs) if errs else float("inf")
    print(f"\nerror against the {len(truth)} truth points (m, EPSG:25831): "
          f"median {median:.1f}, mean {np.mean(errs):.1f}, max {max(errs):.1f}, "
          f"unlocated {missing} [target median <= {TARGET_MEDIAN_M:g}]")
    print(truth_rows[["id", "address", "status", "matched", "err_m"]]
          .sort_values("err_m").to_string(index=False))

    # -- names of the name-only rows -----------------------------------------------------
    name_only = rows[rows["address"].str.strip() == ""]
    t0 = time.perf_counter()
    named = [(r.id, r.name, offline.geocode_name(r.name)) for r in name_only.itertuples()]
    name_ms = (time.perf_counter() - t0) / max(len(name_only), 1) * 1000
    found = [(i, n, res) for i, n, res in named if res.located]
    print(f"\nname-derived path on {len(name_only)} name-only rows ({name_ms:.2f} ms each): "
          f"{len(found)} located")
    for i, n, res in found:
        print(f"  {i}  {n!r:52} -> {res.matched_address} [{res.status}, {res.score:g}]")
    tried = [(i, n, res) for i, n, res in named if not res.located and res.query == ""
             and any(ch.isdigit() for ch in n)]
    print(f"rejected names with digits ({len(tried)}):")
    for _i, n, res in tried:
        print(f"  {n!r}: {res.note}")

    # -- the whole inventory through geocode_table --------------------------------------
    # a benchmark may use the Google coordinates to check them (never a default)
    inv = cwsgeo.read_inventory(cw / "coworking_spaces.csv", use_restricted_coordinates=True)
    with tempfile.TemporaryDirectory() as tmp:
        with SQLiteResultStore(Path(tmp) / "geocode.sqlite") as store:
            geo = Geocoder(offline, store=store)
            t0 = time.perf_counter()
            out = geocode_table(inv.data, geo)
            warm_s = time.perf_counter() - t0
        geo2 = Geocoder.from_dir(mirror / "addresses", cache_dir=tmp,
                                 min_score=args.min_score, lexicon=LEXICON)
        t0 = time.perf_counter()
        geocode_table(inv.data, geo2)
        cached_s = time.perf_counter() - t0
        loaded = geo2.offline.is_loaded
        geo2.close()
    print(f"\ngeocode_table on {len(out)} rows: {warm_s:.2f} s with the gazetteer loaded, "
          f"{cached_s:.2f} s from the cache (gazetteer loaded: {loaded})")
    print(f"location_method: {out.location_method.value_counts().to_dict()}")
    print(f"geocode_status: {out.geocode_status.value_counts().to_dict()}")
    checked = out[out.coord_check_m.notna()]
    print(f"input coordinates checked against their address: {len(checked)}, "
          f"median {checked.coord_check_m.median():.1f} m, max {checked.coord_check_m.max():.1f}"
          f" m, flagged (> {settings.coord_mismatch_m:g} m): {int(out.coord_flag.sum())}")

    passed = resolved >= TARGET_RESOLVED and median <= TARGET_MEDIAN_M and missing == 0
    print(f"\ntargets {'met' if passed else 'MISSED'}: resolved {resolved}/53 "
          f"(>= {TARGET_RESOLVED}), median {median:.1f} m (<= {TARGET_MEDIAN_M:g})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
