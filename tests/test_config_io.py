"""Project config parsing and the atomic, formula-safe writers."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from cwsgeo import ConfigError
from cwsgeo._io import atomic_path, neutralise_formulas, write_csv, write_text
from cwsgeo.build.config import Config


def test_defaults_and_prefixes(tmp_path: Path) -> None:
    cfg = Config.from_dict({"data": {"mirror": "../m"}}, root=tmp_path)
    assert cfg.mirror_dir == (tmp_path / ".." / "m").resolve()
    assert cfg.resolve("raw:a/b.csv") == tmp_path / "data" / "raw" / "a" / "b.csv"
    assert cfg.resolve("mirror:x.csv") == cfg.mirror_dir / "x.csv"
    assert cfg.processed_dir(tmp_path / "o") == tmp_path / "o" / "data" / "processed"
    assert cfg.maps_dir() == tmp_path / "maps"
    assert cfg.proximity.walk_speed_kmh is None  # left to cwsgeo.settings
    assert cfg.resolved().proximity.walk_speed_kmh == 4.8


def test_settings_are_read_when_the_build_starts(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from cwsgeo import settings

    cfg = Config.from_dict({"proximity": {"snap_max_m": 120}}, root=tmp_path)
    monkeypatch.setattr(settings, "walk_speed_kmh", 3.6)
    monkeypatch.setattr(settings, "walk_minutes", (7,))
    monkeypatch.setattr(settings, "snap_max_m", 999.0)
    prox = cfg.resolved().proximity
    assert (prox.walk_speed_kmh, prox.minutes, prox.snap_max_m) == (3.6, [7], 120.0)


def test_env_overrides_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CWSGEO_MIRROR", str(tmp_path / "elsewhere"))
    assert Config.from_dict({}, root=tmp_path).mirror_dir == tmp_path / "elsewhere"


@pytest.mark.parametrize("raw, match", [
    ({"dataa": {}}, "unknown config section"),
    ({"data": {"mirorr": "x"}}, "unknown key"),
    ({"data": {"source": "web"}}, "source must be"),
    ({"proximity": {"walk_speed_kmh": "fast"}}, "must be a number"),
    ({"proximity": {"minutes": [5, -1]}}, "positive integers"),
    ({"proximity": {"minutes": [True, 10]}}, "positive integers"),
    ({"proximity": {"snap_max_m": -5}}, "snap_max_m"),
    ({"geocoding": {"min_score": 500}}, "min_score"),
    ({"maps": {"tiles": "yes"}}, "true or false"),
    ({"inventory": {"columns": {"a": 1}}}, "table of text"),
    ({"statistics": {"max_points": 5}}, "max_points must be at least 10"),
    ({"statistics": {"max_points": 1.5}}, "must be an integer"),
])
def test_bad_config_is_rejected(tmp_path: Path, raw: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Config.from_dict(raw, root=tmp_path)


def test_load_file_and_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "cwsgeo.toml").write_text('[maps]\nassets = "cdn"\n')
    cfg = Config.load(tmp_path)
    assert cfg.maps.assets == "cdn" and cfg.root == tmp_path.resolve()
    (tmp_path / "cwsgeo.toml").write_text("[maps\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(tmp_path / "cwsgeo.toml")


def test_atomic_write_keeps_previous_on_failure(tmp_path: Path) -> None:
    dest = write_text(tmp_path / "out.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert dest.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_csv_neutralises_formulas(tmp_path: Path) -> None:
    df = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\",\"y\")", "+1", "@SUM(A1)", "ok",
                                "-cmd"], "n": [-3.5, 1, 2, 3, 4]})
    out = neutralise_formulas(df)
    assert out["name"].tolist() == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'@SUM(A1)", "ok",
                                    "'-cmd"]
    assert out["n"].tolist() == [-3.5, 1, 2, 3, 4]
    write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["name"][0].startswith("'=")


def test_frame_digest_is_canonical() -> None:
    import pickle

    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    from cwsgeo.build.cache import frame_digest

    df = gpd.GeoDataFrame(
        {"s": pd.array(["a", None, "c"], dtype="string"), "o": ["x", 1, None],
         "f": [1.0, float("nan"), 3.0], "i": pd.array([1, None, 3], dtype="Int64"),
         "n": [1, 2, 3]}, geometry=[Point(0, 0), None, Point(1, 1)], crs="EPSG:25831")
    key = frame_digest(df)
    assert frame_digest(pickle.loads(pickle.dumps(df))) == key  # as read from the cache
    assert frame_digest(df.copy()) == key
    changed = df.copy()
    changed.loc[2, "f"] = 3.5
    assert frame_digest(changed) != key
    assert frame_digest(df.astype({"n": "float64"})) != key  # the dtype is part of it


def test_neutralise_formulas_on_columns_without_text() -> None:
    """A text column with no text left (all missing) is not a formula column, and no warning."""
    import warnings

    import numpy as np
    import pandas as pd

    from cwsgeo._io import neutralise_formulas

    df = pd.DataFrame({"empty": pd.Series([np.nan, np.nan], dtype=object),
                       "arrow": pd.Series(["=1+1", None], dtype="string[pyarrow]"),
                       "mixed": pd.Series(["x", 3], dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = neutralise_formulas(df)
    assert out["empty"].isna().all() and out["arrow"].iloc[0] == "'=1+1"
    assert out["mixed"].tolist() == ["x", 3]
