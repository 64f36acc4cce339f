"""Hot spots (local Moran's I): a planted cluster is found, a random field mostly is not,
labels follow esda's quadrant codes, H3 neighbours equal Queen contiguity."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cwsgeo.analysis.stats.hotspots import (
    QUADRANT_LABELS,
    area_hotspots,
    hex_hotspots,
    local_moran,
)

SIDE = 15


def _grid(values: np.ndarray) -> gpd.GeoDataFrame:
    cells = [box(x * 100, y * 100, x * 100 + 100, y * 100 + 100)
             for y in range(SIDE) for x in range(SIDE)]
    return gpd.GeoDataFrame({"cell": [f"c{i}" for i in range(SIDE * SIDE)],
                             "spaces": values.ravel()}, geometry=cells, crs="EPSG:25831")


def _block(y0: int, x0: int, size: int = 3) -> set[str]:
    return {f"c{y * SIDE + x}" for y in range(y0, y0 + size) for x in range(x0, x0 + size)}


def test_a_planted_cluster_is_found_as_hot_spots_there() -> None:
    rng = np.random.default_rng(3)
    values = rng.poisson(0.3, size=(SIDE, SIDE))
    values[6:9, 4:7] += 6
    res = area_hotspots(_grid(values), id_column="cell", permutations=499, seed=1)
    hh = set(res.table.index[res.table["significant"] & (res.table["cluster"] == "HH")])
    block = _block(6, 4)
    ring = _block(5, 3, 5)
    assert len(hh & block) >= 7
    assert hh <= ring  # hot spots only in the cluster and its rim
    assert res.summary["moran_i"] > 0.3 and res.summary["p_value"] <= 0.01


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_field_is_mostly_not_significant(seed: int) -> None:
    rng = np.random.default_rng(seed)
    grid = _grid(rng.poisson(2.0, size=(SIDE, SIDE)))
    res = area_hotspots(grid, id_column="cell", permutations=499, seed=seed)
    assert res.table["significant"].mean() < 0.1  # about alpha = 0.05
    assert abs(res.summary["moran_i"]) < 0.15 and res.summary["p_value"] > 0.05
    folded = area_hotspots(grid, id_column="cell", permutations=499, seed=seed,
                           alternative="folded")
    assert folded.table["significant"].mean() < 0.18  # about 2 alpha


def test_a_unit_at_the_mean_is_never_significant() -> None:
    # seed 2 draws a field whose mean is exactly 2: its 2s have I = 0 in every permutation
    # (esda's p_sim calls them significant at 1/(P+1))
    grid = _grid(np.random.default_rng(2).poisson(2.0, size=(SIDE, SIDE)))
    assert grid["spaces"].mean() == 2
    res = area_hotspots(grid, id_column="cell", permutations=99, seed=1)
    at_mean = res.table[res.table["value"] == 2]
    assert len(at_mean) > 20 and (at_mean["I"] == 0).all()
    assert (at_mean["p_value"] == 1).all() and not at_mean["significant"].any()


def _esda_numpy_path(y: np.ndarray, w: object, permutations: int,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """esda's own conditional permutations on its NumPy path (numba hidden), in a child."""
    import pickle
    import subprocess
    import sys

    code = (
        "import pickle, sys, warnings\n"
        "sys.modules['numba'] = None  # esda falls back to its NumPy path\n"
        "import esda, numpy as np\n"
        "y, w, p, seed = pickle.load(sys.stdin.buffer)\n"
        "with np.errstate(all='ignore'), warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    m = esda.Moran_Local(y, w, permutations=p, seed=seed)\n"
        "sys.stdout.buffer.write(pickle.dumps((m.sim, m.p_sim)))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         input=pickle.dumps((y, w, permutations, seed)))
    return pickle.loads(out.stdout)


def test_labels_follow_esdas_quadrant_codes() -> None:
    import esda
    import libpysal

    rng = np.random.default_rng(5)
    grid = _grid(rng.poisson(1.5, size=(SIDE, SIDE)))
    w = libpysal.weights.Queen.from_dataframe(grid, ids=grid["cell"].tolist(),
                                              silence_warnings=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = esda.Moran_Local(grid["spaces"].to_numpy(float) + 0.01 * np.arange(SIDE ** 2),
                               w, permutations=0)
        grid["spaces"] = grid["spaces"] + 0.01 * np.arange(SIDE ** 2)  # no ties
    ref.sim, ref.p_sim = _esda_numpy_path(grid["spaces"].to_numpy(float), w, 99, 3)
    res = area_hotspots(grid, id_column="cell", permutations=99, seed=3, alternative="folded")
    assert (res.table["quadrant"].to_numpy() == ref.q).all()
    np.testing.assert_allclose(res.table["I"], ref.Is)
    # same draws, same p, except where a draw ties the observed I (esda counts a tie on the
    # high side only)
    tie = np.isclose(ref.sim, ref.Is[None, :], rtol=1e-10, atol=0).any(axis=0)
    assert tie.sum() < 10
    np.testing.assert_allclose(res.table["p_value"][~tie], ref.p_sim[~tie])
    assert dict(QUADRANT_LABELS) == {1: "HH", 2: "LH", 3: "LL", 4: "HL", 0: "island"}
    t, mean = res.table, grid["spaces"].mean()
    assert ((t["value"] > mean) & (t["lag"] > mean))[t["cluster"] == "HH"].all()
    assert ((t["value"] < mean) & (t["lag"] > mean))[t["cluster"] == "LH"].all()
    assert ((t["value"] < mean) & (t["lag"] < mean))[t["cluster"] == "LL"].all()
    assert ((t["value"] > mean) & (t["lag"] < mean))[t["cluster"] == "HL"].all()
    assert (t["significant"] == (t["p_value"] <= 0.05)).all()


def test_h3_neighbours_equal_queen_contiguity_and_find_the_hot_cells() -> None:
    import h3
    import libpysal

    centre = h3.latlng_to_cell(41.39, 2.17, 9)
    cells = sorted(h3.grid_disk(centre, 7))
    hot = set(h3.grid_disk(centre, 1))
    rng = np.random.default_rng(1)
    counts = [int(rng.poisson(0.2)) + (5 if c in hot else 0) for c in cells]
    hexes = pd.DataFrame({"hex_id": cells, "spaces": counts})
    res = hex_hotspots(hexes, permutations=499, seed=4)
    sig_hh = set(res.table.index[res.table["significant"] & (res.table["cluster"] == "HH")])
    assert centre in sig_hh and len(sig_hh & hot) >= 5 and sig_hh <= set(h3.grid_disk(centre, 2))
    polys = gpd.GeoDataFrame(
        {"hex_id": cells}, crs="EPSG:4326",
        geometry=gpd.GeoSeries.from_wkt([
            "POLYGON((" + ", ".join(f"{lng} {lat}" for lat, lng in
                                    [*h3.cell_to_boundary(c), h3.cell_to_boundary(c)[0]])
            + "))" for c in cells]))
    queen = libpysal.weights.Queen.from_dataframe(polys, ids=cells, silence_warnings=True)
    assert res.table["n_neighbours"].to_dict() == {c: len(queen.neighbors[c]) for c in cells}


def test_islands_missing_counts_and_seeds() -> None:
    rng = np.random.default_rng(8)
    grid = _grid(rng.poisson(1.0, size=(SIDE, SIDE)).astype(float))
    grid.loc[0, "spaces"] = np.nan  # a cell without spaces: 0
    island = gpd.GeoDataFrame({"cell": ["far"], "spaces": [3.0]},
                              geometry=[box(1e5, 1e5, 1e5 + 100, 1e5 + 100)], crs=grid.crs)
    both = pd.concat([grid, island], ignore_index=True)
    state = np.random.get_state()[1].copy()
    res = area_hotspots(both, id_column="cell", permutations=99, seed=7)
    assert (np.random.get_state()[1] == state).all()  # the global generator is left alone
    assert res.table.loc["c0", "value"] == 0
    far = res.table.loc["far"]
    assert far["cluster"] == "island" and np.isnan(far["I"]) and not far["significant"]
    assert res.summary["n_islands"] == 1 and res.summary["n"] == SIDE * SIDE + 1
    again = area_hotspots(both, id_column="cell", permutations=99, seed=7)
    pd.testing.assert_frame_equal(res.table, again.table)
    out = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert out["parameters"]["seed"] == 7 and out["parameters"]["weights"] == "queen contiguity"
    assert {"moran_i", "p_value", "n", "significant"} <= set(out)


def test_bad_inputs_name_the_column_and_rows() -> None:
    grid = _grid(np.arange(SIDE * SIDE))
    with pytest.raises(ValueError, match="no column 'spaces_x'"):
        area_hotspots(grid, "spaces_x", id_column="cell")
    bad = grid.astype({"spaces": object})
    bad.loc[4, "spaces"] = "many"
    with pytest.raises(ValueError, match=r"not a number in rows \['4'\]"):
        area_hotspots(bad, id_column="cell")
    with pytest.raises(ValueError, match="not H3 cells"):
        hex_hotspots(pd.DataFrame({"hex_id": ["nope"], "spaces": [1]}))
    with pytest.raises(ValueError, match="differing values"):
        local_moran(pd.Series([1.0, 1.0, 1.0], index=list("abc")),
                    {"a": ["b"], "b": ["a", "c"], "c": ["b"]})
