"""Summary of per-space metrics by innovation type: medians and interquartile ranges."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import space_ids, type_groups

__all__ = ["summarize_by_type"]


def summarize_by_type(metrics: pd.DataFrame, spaces: pd.DataFrame, *,
                      type_col: str = "innovation_type", types: Sequence[int] = (1, 2, 3),
                      columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Median and interquartile range of each metric, for all spaces and per innovation type.

    Parameters
    ----------
    metrics
        Per-space metrics (e.g. from :func:`space_metrics`), indexed by the space ids (or
        like ``spaces``).
    spaces
        Table with ``type_col`` (nullable 1/2/3) and the same spaces: an ``id`` column (or
        index) holding the ids of ``metrics``, in any order, or the same index.
    type_col, types
        Innovation-type column and the types reported; spaces with no type form an
        ``"unclassified"`` group when there are any.
    columns
        Metrics to summarise (default every numeric column).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``group``, ``innovation_type``, ``metric``, ``n`` (non-missing values),
        ``median``, ``q1``, ``q3``, ``iqr``.
    """
    spaces = _aligned(metrics, spaces)
    cols = list(columns) if columns is not None else [
        c for c in metrics.columns if pd.api.types.is_numeric_dtype(metrics[c])]
    groups = type_groups(spaces, type_col, types)
    if type_col in spaces.columns:
        untyped = pd.to_numeric(spaces[type_col], errors="coerce").isna().to_numpy()
        if untyped.any():
            groups.append(("unclassified", pd.NA, untyped))
    values = metrics[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = []
    for label, kind, mask in groups:
        sub = values[np.asarray(mask, dtype=bool)]
        counts = (~np.isnan(sub)).sum(axis=0)
        quart = np.full((3, len(cols)), np.nan)
        some = counts > 0
        if some.any():  # linear interpolation, as pandas' Series.quantile
            quart[:, some] = np.nanquantile(sub[:, some], [0.25, 0.5, 0.75], axis=0)
        for j, col in enumerate(cols):
            q1, med, q3 = quart[:, j]
            rows.append({"group": label, "innovation_type": kind, "metric": col,
                         "n": int(counts[j]), "median": med, "q1": q1, "q3": q3,
                         "iqr": q3 - q1})
    out = pd.DataFrame(rows, columns=["group", "innovation_type", "metric", "n", "median", "q1",
                                      "q3", "iqr"])
    out["innovation_type"] = out["innovation_type"].astype("Int64")
    return out


def _aligned(metrics: pd.DataFrame, spaces: pd.DataFrame) -> pd.DataFrame:
    """``spaces`` in the rows of ``metrics``: by the same index, else by space id."""
    if metrics.index.equals(spaces.index):
        return spaces
    try:
        ids = space_ids(spaces)
    except ValueError as exc:
        raise ValueError("metrics must be indexed by the space ids or like spaces: " +
                         str(exc)) from exc
    if len(ids) != len(metrics) or not metrics.index.isin(ids).all():
        missing = metrics.index[~metrics.index.isin(ids)][:5].tolist()
        raise ValueError("metrics must be indexed by the ids of spaces (or like spaces): "
                         f"{len(metrics)} metric rows, {len(ids)} spaces; ids not among "
                         f"the spaces: {missing}")
    return spaces.set_axis(ids).loc[metrics.index]
