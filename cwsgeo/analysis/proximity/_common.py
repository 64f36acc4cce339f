"""Small helpers shared by the proximity modules: validation, units, straight-line sums."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ... import settings
from ..network import Snap

__all__: list[str] = []


def speed_m_per_min(walk_speed_kmh: float | None) -> float:
    """Return the walking speed in m/min (default :data:`cwsgeo.settings.walk_speed_kmh`)."""
    kmh = settings.walk_speed_kmh if walk_speed_kmh is None else float(walk_speed_kmh)
    if not kmh > 0:
        raise ValueError(f"walk_speed_kmh must be > 0, got {walk_speed_kmh!r}")
    return kmh * 1000.0 / 60.0


def whole_minutes(values: Iterable[int] | None, default: Sequence[int]) -> tuple[int, ...]:
    """Sorted distinct positive whole minutes (``default`` when ``values`` is None)."""
    out = tuple(default if values is None else values)
    if not out or any(int(m) != m or m <= 0 for m in out):
        raise ValueError(f"thresholds must be positive whole minutes, got {out!r}")
    return tuple(sorted({int(m) for m in out}))


def as_gdf(frame: Any, what: str) -> gpd.GeoDataFrame:
    """Return ``frame`` if it is a GeoDataFrame with a CRS; raise a clear error otherwise."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise ValueError(f"{what} has no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    return frame


def space_ids(spaces: pd.DataFrame, what: str = "spaces", id_col: str = "id") -> pd.Index:
    """Return the ids of ``spaces`` as an index named ``id_col``, in row order (unique, set).

    Taken from the ``id_col`` column, else from the index when it is named ``id_col``.
    """
    if id_col in spaces.columns:
        values = spaces[id_col]
    elif spaces.index.name == id_col:
        values = spaces.index.to_series()
    else:
        raise ValueError(f"{what} need an {id_col!r} column (or an index named {id_col!r}): "
                         "per-space results are indexed by it")
    ids = pd.Index(values.to_numpy(), name=id_col)
    if ids.hasnans:
        rows = [str(r) for r in spaces.index[np.asarray(ids.isna())][:5]]
        raise ValueError(f"{what}: blank {id_col!r} in rows {rows}")
    if not ids.is_unique:
        dup = ids[ids.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{what}: duplicated {id_col!r} values {dup}")
    return ids


def snap_xy(snap: Snap) -> np.ndarray:
    """``(n, 2)`` coordinates of snapped points."""
    return np.column_stack([snap.x, snap.y])


def euclid(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Straight-line distances between every point a and every point b."""
    return np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])


def within_weights(tree_xy: np.ndarray, weights: np.ndarray, query_xy: np.ndarray,
                   radius: float, tree: Any = None) -> np.ndarray:
    """Sum of ``weights`` (rows of tree points) within ``radius`` of each query point.

    ``tree``, when given, is ``cKDTree(tree_xy)`` built once by the caller (the same tree,
    so the same pairs in the same order).
    """
    from scipy.spatial import cKDTree

    weights = np.asarray(weights, dtype=float)
    columns = 1 if weights.ndim < 2 else weights.shape[1]
    out = np.zeros((len(query_xy), columns))
    if len(tree_xy) == 0 or len(query_xy) == 0:
        return out  # (an empty weight array cannot be reshaped with -1)
    weights = weights.reshape(len(tree_xy), -1)
    pairs = cKDTree(query_xy).sparse_distance_matrix(
        cKDTree(tree_xy) if tree is None else tree, radius, output_type="ndarray")
    if len(pairs):
        np.add.at(out, pairs["i"], weights[pairs["j"]])
    return out


def chunks(n: int, size: int) -> Iterator[np.ndarray]:
    """Consecutive index blocks of at most ``size`` covering ``range(n)``."""
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size))


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    """Return a ``tqdm`` bar (disabled unless ``enabled``)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def type_groups(spaces: pd.DataFrame, type_col: str,
                types: Sequence[int]) -> list[tuple[str, Any, np.ndarray]]:
    """``("all", NA, mask)`` then ``("type t", t, mask)`` for each type (when the column exists)."""
    groups: list[tuple[str, Any, np.ndarray]] = [("all", pd.NA, np.ones(len(spaces), bool))]
    if type_col in spaces.columns:
        kinds = pd.to_numeric(spaces[type_col], errors="coerce")
        for t in types:
            groups.append((f"type {t}", int(t), (kinds == t).fillna(False).to_numpy(bool)))
    return groups
