"""How far to trust the innovation screen: language agreement, threshold sensitivity, length.

* :func:`language_agreement` scores the English-only and the Spanish-only texts of the spaces
  that have both and compares the two estimates (Cohen's κ and the confusion table);
* :func:`threshold_sensitivity` gives the tier counts with each threshold moved one step;
* :func:`length_correlation` is Pearson's r between the screen score and the text length.

Examples
--------
>>> import pandas as pd
>>> cohen_kappa(pd.Series([1, 2, 3, 1]), pd.Series([1, 2, 3, 1]))
1.0
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from ...schema import INNOVATION_TYPES
from .screen import ScreenThresholds, screen_texts

__all__ = [
    "cohen_kappa",
    "confusion",
    "language_agreement",
    "length_correlation",
    "threshold_sensitivity",
    "tier_counts",
]


def confusion(a: pd.Series, b: pd.Series,
              labels: tuple[int, ...] = INNOVATION_TYPES) -> pd.DataFrame:
    """Confusion table of two ratings of the same items (rows ``a``, columns ``b``).

    Parameters
    ----------
    a, b
        Ratings aligned on the same index (pairs with a missing rating are dropped).
    labels
        Categories, in table order.

    Returns
    -------
    pandas.DataFrame
        Counts, indexed by ``a``'s label, columns ``b``'s label.
    """
    pair = pd.DataFrame({"a": a, "b": b}).dropna()
    table = pd.crosstab(pair["a"].astype(int), pair["b"].astype(int))
    return table.reindex(index=list(labels), columns=list(labels), fill_value=0)


def cohen_kappa(a: pd.Series, b: pd.Series,
                labels: tuple[int, ...] = INNOVATION_TYPES) -> float:
    """Cohen's κ of two ratings: ``(p_observed - p_chance) / (1 - p_chance)``.

    Parameters
    ----------
    a, b
        Ratings aligned on the same index (pairs with a missing rating are dropped).
    labels
        Categories.

    Returns
    -------
    float
        κ; NaN without pairs, 1.0 when both raters agree on a single category.
    """
    table = confusion(a, b, labels).to_numpy(dtype=float)
    n = table.sum()
    if n == 0:
        return float("nan")
    observed = np.trace(table) / n
    chance = float((table.sum(axis=1) / n) @ (table.sum(axis=0) / n))
    if chance >= 1.0:
        return 1.0
    return float((observed - chance) / (1.0 - chance))


def tier_counts(types: pd.Series) -> dict[int, int]:
    """Count spaces per estimated type (missing types not counted).

    Parameters
    ----------
    types
        Estimated types.

    Returns
    -------
    dict
        Type -> count, for every type of :data:`cwsgeo.schema.INNOVATION_TYPES`.
    """
    counts = types.dropna().astype(int).value_counts()
    return {t: int(counts.get(t, 0)) for t in INNOVATION_TYPES}


def language_agreement(texts: pd.DataFrame, thresholds: ScreenThresholds | None = None,
                       first: str = "text_en", second: str = "text_es",
                       ) -> tuple[float, pd.DataFrame]:
    """Compare the screen's estimates from two languages' texts of the same spaces.

    Parameters
    ----------
    texts
        Frame with both text columns, e.g. from
        :func:`~cwsgeo.analysis.texts.readers.join_listing_texts`.
    thresholds
        Cap and thresholds (default :class:`ScreenThresholds()`).
    first, second
        The two text columns.

    Returns
    -------
    tuple
        (Cohen's κ, confusion table with ``first`` as rows), over the rows with both texts.
    """
    both = texts[first].notna() & texts[second].notna()
    a = screen_texts(texts.loc[both, first], thresholds)["innovation_type_estimated"]
    b = screen_texts(texts.loc[both, second], thresholds)["innovation_type_estimated"]
    return cohen_kappa(a, b), confusion(a, b)


def threshold_sensitivity(texts: pd.Series, thresholds: ScreenThresholds | None = None,
                          ) -> pd.DataFrame:
    """Tier counts with each threshold moved one step down and up.

    Parameters
    ----------
    texts
        Texts to screen (missing = no text, not counted).
    thresholds
        The base cap and thresholds (default :class:`ScreenThresholds()`).

    Returns
    -------
    pandas.DataFrame
        One row per setting (``base``, then ``<name> -1`` / ``<name> +1`` for every field of
        :class:`ScreenThresholds` whose moved value is valid), columns ``setting``, the four
        thresholds, ``n_type1``, ``n_type2``, ``n_type3`` and ``changed`` (spaces whose type differs
        from the base).
    """
    base = thresholds or ScreenThresholds()
    settings: list[tuple[str, ScreenThresholds]] = [("base", base)]
    for name, value in asdict(base).items():
        for step in (-1, 1):
            try:
                settings.append((f"{name} {step:+d}", replace(base, **{name: value + step})))
            except ValueError:
                continue
    rows = []
    ref = screen_texts(texts, base)["innovation_type_estimated"]
    for label, th in settings:
        est = screen_texts(texts, th)["innovation_type_estimated"]
        counts = tier_counts(est)
        changed = int((est.fillna(0) != ref.fillna(0)).sum())
        rows.append({"setting": label, **asdict(th),
                     **{f"n_type{t}": counts[t] for t in INNOVATION_TYPES}, "changed": changed})
    return pd.DataFrame(rows)


def length_correlation(scores: pd.Series, texts: pd.Series) -> float:
    """Pearson's r between screen scores and text lengths (rows with a text only).

    Parameters
    ----------
    scores
        Screen scores.
    texts
        The texts scored, on the same index.

    Returns
    -------
    float
        r; NaN with fewer than 3 texts or a constant column.
    """
    has = texts.notna() & (texts.astype(str).str.len() > 0)
    x = scores[has].astype(float).to_numpy()
    y = texts[has].astype(str).str.len().astype(float).to_numpy()
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])
