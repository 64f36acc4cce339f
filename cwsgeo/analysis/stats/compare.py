"""Comparisons of per-space metrics by innovation type, every result beside its n.

:func:`compare_by_type` takes any metric columns and a type column (``innovation_type``,
confirmed, or ``innovation_type_estimated``, the screen's estimate: the caller says which,
and every result records it) and returns a :class:`TypeComparison` of four tidy tables:

``groups`` — per metric and type: ``n``, ``median`` and its bootstrap confidence interval
    (percentile method: the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles of the medians of
    ``n_resamples`` resamples drawn with replacement, seeded).
``kruskal`` — per metric: the Kruskal–Wallis H test across the types with a value
    (:func:`scipy.stats.kruskal`, tie-corrected; ``df = k - 1``).
``pairwise`` — per metric and pair of types ``a < b``: the difference of medians
    ``median_a - median_b``, its two-sided permutation p-value ::

        p = (1 + #{|m_a* - m_b*| >= |m_a - m_b|}) / (1 + n_permutations)

    (group labels shuffled over the pooled values, seeded; ``+1`` counts the observed
    labelling, so p is never 0; :func:`scipy.stats.permutation_test` calls two-sided
    ``2 min(p_less, p_greater)`` instead, which differs when the null distribution is skewed:
    ``benchmarks/middleground.py`` prints both), Holm's adjustment over the metric's pairs
    (``p_holm``),
    and Cliff's delta (:func:`cliffs_delta`) with its magnitude (:func:`cliffs_magnitude`).
``spearman`` — per metric: Spearman's ρ between the type as an ordinal (1 < 2 < 3) and the
    metric (:func:`scipy.stats.spearmanr`), with its asymptotic p-value.

Every row carries the n of each type it uses (``n_type1``, ``n_type2``, ... or ``n_a``,
``n_b``) and a ``small_sample`` flag with a ``warning`` text when any of those n is below
``min_n`` (default 10): with a handful of spaces a p-value says little.

Seeds: the random draws of one metric (and pair) come from
``numpy.random.default_rng([seed, crc32(metric), a, b])``, so a metric's result does not
depend on which other metrics are compared. The relabellings are shuffled in a compiled
kernel (:mod:`._shuffles`) that makes ``Generator.permuted``'s draws in the same order
(checked against numpy once per process; numpy shuffles when they differ); the resamples'
indices are drawn by numpy (``Generator.integers``). Both take their medians from ranks in
compiled code (numpy's values), so a seed gives the numbers the plain numpy code gave. Every
metric's pairwise tests run at once, in parallel over the pairs, in blocks of
relabellings (so a long call can be interrupted between blocks).

Examples
--------
>>> from cwsgeo.analysis.stats.compare import cliffs_delta, cliffs_magnitude
>>> d = cliffs_delta([1, 2, 3], [2, 4])  # one pair x > y, four x < y, one tie: (1 - 4) / 6
>>> d, cliffs_magnitude(d)
(-0.5, 'large')
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._json import json_ready as _json

__all__ = ["CLIFF_THRESHOLDS", "TypeComparison", "bootstrap_median_ci", "cliffs_delta",
           "cliffs_magnitude", "compare_by_type", "permutation_median_test"]

#: Upper bounds of |delta| for "negligible", "small" and "medium" (Romano et al. 2006).
CLIFF_THRESHOLDS: tuple[float, float, float] = (0.147, 0.33, 0.474)


def cliffs_delta(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Cliff's delta: how often a value of ``x`` exceeds one of ``y``, minus the reverse.

    ``delta = (#{(i, j): x_i > y_j} - #{(i, j): x_i < y_j}) / (n_x n_y)``, in [-1, 1]
    (Cliff 1993); computed by sorting, O((n_x + n_y) log n_y). NaN values are dropped.

    Parameters
    ----------
    x, y
        The two samples.

    Returns
    -------
    float
        NaN when a sample is empty.
    """
    a, b = _clean(x), np.sort(_clean(y))
    if len(a) == 0 or len(b) == 0:
        return math.nan
    below = np.searchsorted(b, a, side="left")  # y_j < x_i
    above = len(b) - np.searchsorted(b, a, side="right")  # y_j > x_i
    return float((below.sum() - above.sum()) / (len(a) * len(b)))


def cliffs_magnitude(delta: float) -> str:
    """Label of Cliff's delta: negligible, small, medium or large (Romano et al. 2006).

    ``|delta| < 0.147`` negligible, ``< 0.33`` small, ``< 0.474`` medium, else large; ``""``
    for NaN.
    """
    if not np.isfinite(delta):
        return ""
    labels = ("negligible", "small", "medium")
    for label, bound in zip(labels, CLIFF_THRESHOLDS, strict=True):
        if abs(delta) < bound:
            return label
    return "large"


def bootstrap_median_ci(values: npt.ArrayLike, *, n_resamples: int = 2000,
                        confidence: float = 0.95,
                        seed: int | np.random.Generator | Sequence[int] = 0
                        ) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the median.

    Parameters
    ----------
    values
        The sample (NaN dropped).
    n_resamples
        Resamples drawn with replacement.
    confidence
        Coverage, in (0, 1).
    seed
        Seed (or seed sequence, or a Generator) of :func:`numpy.random.default_rng`.

    Returns
    -------
    tuple of float
        ``(low, high)``: quantiles ``(1 - confidence)/2`` and ``(1 + confidence)/2`` of the
        resampled medians; NaN for an empty sample.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    x = _clean(values)
    if len(x) == 0:
        return math.nan, math.nan
    from ._shuffles import resampled_medians

    rng = np.random.default_rng(seed)
    ranks, ordered = _ranks(x)
    medians = np.empty(n_resamples)
    step = max(1, 2_000_000 // len(x))  # bound memory: ~16 MB per block
    for start in range(0, n_resamples, step):
        size = min(step, n_resamples - start)
        draws = rng.integers(0, len(x), size=(size, len(x)))
        medians[start:start + size] = resampled_medians(draws, ranks, ordered)
    low, high = np.quantile(medians, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def permutation_median_test(x: npt.ArrayLike, y: npt.ArrayLike, *,
                            n_permutations: int = 9999,
                            seed: int | np.random.Generator | Sequence[int] = 0
                            ) -> tuple[float, float]:
    """Two-sided permutation test of the difference of medians ``median(x) - median(y)``.

    Parameters
    ----------
    x, y
        The two samples (NaN dropped).
    n_permutations
        Random relabellings of the pooled values.
    seed
        Seed (or seed sequence, or a Generator) of :func:`numpy.random.default_rng`.

    Returns
    -------
    tuple of float
        ``(difference, p)`` with ``p = (1 + #{|d*| >= |d|}) / (1 + n_permutations)``; NaN
        when a sample is empty.
    """
    return _permutation_tests([(x, y)], n_permutations, [seed])[0]


def _check_n_permutations(n_permutations: int) -> None:
    if isinstance(n_permutations, bool) or not isinstance(n_permutations, (int, np.integer)):
        raise TypeError(f"n_permutations must be an integer, got {n_permutations!r}")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")


def _permutation_tests(pairs: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
                       n_permutations: int,
                       seeds: Sequence[int | np.random.Generator | Sequence[int]]
                       ) -> list[tuple[float, float]]:
    """:func:`permutation_median_test` of several pairs, each with its own seed.

    Each pair's relabellings are the draws of ``rng.permuted`` on ``n_permutations`` rows
    of its pooled values, in order. Pairs seeded with PCG64 generators (``default_rng``'s)
    shuffle in one compiled kernel, in parallel over the pairs (each has its own generator,
    so the result does not depend on the threads), and their generators are left in the
    state numpy would leave them in; others shuffle in numpy, in blocks. One bit generator
    behind several pairs draws for them in turn.
    """
    from ._shuffles import pcg64_state, set_pcg64_state

    _check_n_permutations(n_permutations)
    rngs = [np.random.default_rng(seed) for seed in seeds]
    if len({id(r.bit_generator) for r in rngs}) < len(rngs):  # shared: its draws in turn
        return [_permutation_tests([pair], n_permutations, [rng])[0]
                for pair, rng in zip(pairs, rngs, strict=True)]
    out = [(math.nan, math.nan)] * len(pairs)
    kernel: list[tuple[int, float, np.random.Generator, np.ndarray]] = []
    samples, n_a, thresholds = [], [], []
    for i, ((x, y), rng) in enumerate(zip(pairs, rngs, strict=True)):
        a, b = _clean(x), _clean(y)
        if len(a) == 0 or len(b) == 0:
            continue
        observed = float(np.median(a) - np.median(b))
        pooled = np.concatenate([a, b])
        tol = 1e-9 * max(1.0, float(np.abs(pooled).max()))  # equal medians up to rounding
        ranks, ordered = _ranks(pooled)
        state = pcg64_state(rng)
        if state is None or len(pooled) >= 2**32:
            extreme = _numpy_extremes(rng, ranks, ordered, len(a), n_permutations,
                                      abs(observed) - tol)
            out[i] = observed, (1 + extreme) / (1 + n_permutations)
            continue
        kernel.append((i, observed, rng, state))
        samples.append((ranks, ordered))
        n_a.append(len(a))
        thresholds.append(abs(observed) - tol)
    if kernel:
        states = np.stack([k[3] for k in kernel])
        extremes = _kernel_extremes(states, samples, n_a, n_permutations, thresholds)
        for (i, observed, rng, _), state, extreme in zip(kernel, states, extremes, strict=True):
            set_pcg64_state(rng, state)
            out[i] = observed, (1 + int(extreme)) / (1 + n_permutations)
    return out


#: Relabellings per compiled call (the states carry over: the same draws as one call).
_BLOCK = 1000


def _kernel_extremes(states: np.ndarray, samples: list[tuple[np.ndarray, np.ndarray]],
                     n_a: list[int], n_permutations: int, thresholds: list[float]
                     ) -> np.ndarray:
    """Extreme relabellings of each sample (ranks, sorted values), the states advanced."""
    from ._shuffles import permutation_extremes

    starts = np.concatenate([[0], np.cumsum([len(r) for r, _ in samples])]).astype(np.int64)
    ranks = np.concatenate([r for r, _ in samples])
    ordered = np.concatenate([v for _, v in samples])
    sizes, limits = np.asarray(n_a, dtype=np.int64), np.asarray(thresholds, dtype=float)
    extremes = np.zeros(len(samples), dtype=np.int64)
    for start in range(0, n_permutations, _BLOCK):
        extremes += permutation_extremes(states, ranks, ordered, starts, sizes,
                                         int(min(_BLOCK, n_permutations - start)), limits)
    return extremes


def _numpy_extremes(rng: np.random.Generator, ranks: np.ndarray, ordered: np.ndarray,
                    n_a: int, n_permutations: int, threshold: float) -> int:
    """Extreme relabellings drawn by numpy's ``permuted`` (blocks of ~2e6 values)."""
    from ._shuffles import shuffled_extremes

    extreme = 0
    step = max(1, 2_000_000 // len(ranks))
    for start in range(0, n_permutations, step):
        rows = rng.permuted(np.broadcast_to(ranks, (min(step, n_permutations - start),
                                                    len(ranks))), axis=1)
        extreme += int(shuffled_extremes(rows, ordered, n_a, threshold))
    return extreme


def _ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position in the sorted sample (ties by position) and the sorted sample."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.int64)
    ranks[order] = np.arange(len(x))
    return ranks, x[order]


def _clean(values: npt.ArrayLike) -> np.ndarray:
    x = np.asarray(pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce"),
                   dtype=float)
    return x[np.isfinite(x)]


@dataclass(frozen=True)
class TypeComparison:
    """Results of :func:`compare_by_type` (tables documented in :mod:`.compare`).

    Attributes
    ----------
    type_column
        The type column compared (e.g. ``"innovation_type_estimated"``).
    groups
        ``metric``, ``type``, ``n``, ``median``, ``ci_low``, ``ci_high``, ``small_sample``,
        ``warning``.
    kruskal
        ``metric``, ``n``, ``n_type<t>`` ..., ``statistic`` (H), ``df``, ``p_value``,
        ``small_sample``, ``warning``.
    pairwise
        ``metric``, ``type_a``, ``type_b``, ``n_a``, ``n_b``, ``median_a``, ``median_b``,
        ``median_diff``, ``p_value``, ``p_holm``, ``cliffs_delta``, ``magnitude``,
        ``small_sample``, ``warning``.
    spearman
        ``metric``, ``n``, ``n_type<t>`` ..., ``rho``, ``p_value``, ``small_sample``,
        ``warning``.
    parameters
        ``type_column``, ``types``, ``n_resamples``, ``confidence``, ``ci_method``,
        ``n_permutations``, ``min_n``, ``seed`` and, when known, ``type_sources`` (rows
        compared per source of the type).
    """

    type_column: str
    groups: pd.DataFrame
    kruskal: pd.DataFrame
    pairwise: pd.DataFrame
    spearman: pd.DataFrame
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results: name, type column, parameters, seed and every table's rows.

        Each test row has ``name``, ``metric``, ``n`` (total), the n of each type,
        ``statistic``, ``p_value`` and its warning; NaN becomes ``None``.
        """
        kruskal = self.kruskal.assign(name="kruskal_wallis")
        pairwise = self.pairwise.assign(name="permutation_median_difference",
                                        statistic=self.pairwise["median_diff"],
                                        n=self.pairwise["n_a"] + self.pairwise["n_b"])
        spearman = self.spearman.assign(name="spearman_type_ordinal",
                                        statistic=self.spearman["rho"])
        return {"name": "comparison_by_type", "type_column": self.type_column,
                "parameters": _json(self.parameters), "seed": self.parameters.get("seed"),
                "groups": _records(self.groups.assign(name="median_bootstrap_ci")),
                "kruskal": _records(kruskal), "pairwise": _records(pairwise),
                "spearman": _records(spearman)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    first = [c for c in ("name", "metric") if c in frame.columns]
    ordered = frame[first + [c for c in frame.columns if c not in first]]
    return [_json(r) for r in ordered.to_dict(orient="records")]


def compare_by_type(frame: pd.DataFrame, metrics: Sequence[str], *, type_col: str,
                    types: Sequence[int] = (1, 2, 3), n_resamples: int = 2000,
                    confidence: float = 0.95, n_permutations: int = 9999,
                    min_n: int = 10, seed: int = 0,
                    source_col: str | None = "innovation_type_source") -> TypeComparison:
    """Compare metrics across innovation types: medians with CIs, tests and effect sizes.

    Parameters
    ----------
    frame
        One row per space, with the ``metrics`` columns and ``type_col`` (e.g. the spaces
        joined with :func:`~cwsgeo.analysis.stats.middleground.middleground_indicators`).
    metrics
        Numeric columns to compare.
    type_col
        Type column: ``"innovation_type"`` (confirmed) or ``"innovation_type_estimated"``
        (the screen's estimate); rows whose type is missing or not in ``types`` are left out.
    types
        Types compared, in their ordinal order (Spearman uses the values).
    n_resamples, confidence
        Bootstrap resamples and coverage of the median intervals.
    n_permutations
        Relabellings per pairwise permutation test.
    min_n
        A type with fewer values gets a small-sample warning on every row that uses it.
    seed
        Base seed of every random draw (see the module docstring).
    source_col
        Column saying where each type comes from (``declared`` / ``reviewed`` /
        ``estimated``); when the frame has it, the counts of the compared rows by source go
        into ``parameters["type_sources"]``.

    Returns
    -------
    TypeComparison

    Examples
    --------
    >>> res = compare_by_type(spaces.join(mg), ["middleground_index"],  # doctest: +SKIP
    ...                       type_col="innovation_type_estimated")
    >>> res.pairwise[["type_a", "type_b", "n_a", "n_b", "p_value", "magnitude"]]  # doctest: +SKIP
    """
    _check_arguments(frame, metrics, type_col, n_permutations)
    kinds = pd.to_numeric(frame[type_col], errors="coerce")
    types = [int(t) for t in types]
    params = {"type_column": type_col, "types": types, "n_resamples": int(n_resamples),
              "confidence": float(confidence), "ci_method": "percentile bootstrap",
              "n_permutations": int(n_permutations), "min_n": int(min_n), "seed": int(seed),
              **_type_sources(frame, kinds.isin(types), source_col)}
    rows: dict[str, list[dict[str, Any]]] = {"groups": [], "kruskal": [], "pairwise": [],
                                             "spearman": []}
    tests: list[tuple[tuple[np.ndarray, np.ndarray], list[int]]] = []
    slices = []  # each metric's rows of rows["pairwise"] (a metric listed twice: twice)
    for metric in metrics:
        values = pd.to_numeric(frame[metric], errors="coerce")
        if frame[metric].notna().sum() != values.notna().sum():
            raise ValueError(f"compare_by_type: column {metric!r} is not numeric")
        samples = {t: _clean(values[kinds == t]) for t in types}
        key = [int(seed), zlib.crc32(metric.encode())]
        rows["groups"] += _group_rows(metric, samples, n_resamples, confidence, min_n, key)
        rows["kruskal"].append(_kruskal_row(metric, samples, min_n))
        start = len(rows["pairwise"])
        rows["pairwise"] += _pairwise_rows(metric, samples, min_n)
        slices.append(slice(start, len(rows["pairwise"])))
        tests += [((samples[a], samples[b]), [*key, a, b])
                  for a, b in combinations(samples, 2)]
        rows["spearman"].append(_spearman_row(metric, kinds, values, types, min_n))
    # every metric's pairs at once: the compiled tests run in parallel
    results = _permutation_tests([t[0] for t in tests], n_permutations, [t[1] for t in tests])
    for row, (diff, p) in zip(rows["pairwise"], results, strict=True):
        row["median_diff"], row["p_value"] = diff, p
    _holm_by_metric(rows["pairwise"], slices)
    tables = {name: pd.DataFrame(r) for name, r in rows.items()}
    return TypeComparison(type_col, tables["groups"], tables["kruskal"], tables["pairwise"],
                          tables["spearman"], params)


def _check_arguments(frame: pd.DataFrame, metrics: Sequence[str], type_col: str,
                     n_permutations: int) -> None:
    if type_col not in frame.columns:
        raise KeyError(f"compare_by_type: no type column {type_col!r}")
    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise KeyError(f"compare_by_type: no metric columns {missing}")
    _check_n_permutations(n_permutations)


def _type_sources(frame: pd.DataFrame, compared: pd.Series, source_col: str | None
                  ) -> dict[str, dict[str, int]]:
    """``{"type_sources": counts of the compared rows by source}``, or {} without the column."""
    if source_col is None or source_col not in frame.columns:
        return {}
    typed = frame.loc[compared.to_numpy(dtype=bool), source_col]
    return {"type_sources": {str(k): int(v) for k, v in
                             typed.fillna("none").value_counts().sort_index().items()}}


def _warning(ns: dict[int, int], min_n: int) -> str:
    small = [f"type {t} n={n}" for t, n in ns.items() if n < min_n]
    return f"small sample (n < {min_n}): {', '.join(small)}" if small else ""


def _n_columns(ns: dict[int, int], min_n: int) -> dict[str, Any]:
    warning = _warning(ns, min_n)
    return {"n": sum(ns.values()), **{f"n_type{t}": n for t, n in ns.items()},
            "small_sample": bool(warning), "warning": warning}


def _noted(row: dict[str, Any], note: str) -> dict[str, Any]:
    """Append ``note`` to the row's warning (a result that could not be computed)."""
    row["warning"] = f"{row['warning']}; {note}" if row["warning"] else note
    return row


def _group_rows(metric: str, samples: dict[int, np.ndarray], n_resamples: int,
                confidence: float, min_n: int, key: list[int]) -> list[dict[str, Any]]:
    out = []
    for t, x in samples.items():
        low, high = bootstrap_median_ci(x, n_resamples=n_resamples, confidence=confidence,
                                        seed=[*key, t])
        warning = _warning({t: len(x)}, min_n)
        out.append({"metric": metric, "type": t, "n": len(x),
                    "median": float(np.median(x)) if len(x) else math.nan,
                    "ci_low": low, "ci_high": high, "small_sample": bool(warning),
                    "warning": warning})
    return out


def _kruskal_row(metric: str, samples: dict[int, np.ndarray], min_n: int) -> dict[str, Any]:
    from scipy import stats

    present = [x for x in samples.values() if len(x)]
    row = {"metric": metric, **_n_columns({t: len(x) for t, x in samples.items()}, min_n),
           "statistic": math.nan, "df": max(len(present) - 1, 0), "p_value": math.nan}
    if len(present) < 2:
        return _noted(row, "fewer than two types with values")
    if len(np.unique(np.concatenate(present))) < 2:
        return _noted(row, "all values identical")
    res = stats.kruskal(*present)
    row["statistic"], row["p_value"] = float(res.statistic), float(res.pvalue)
    return row


def _pairwise_rows(metric: str, samples: dict[int, np.ndarray], min_n: int
                   ) -> list[dict[str, Any]]:
    """One row per pair of types ``a < b``; the caller fills the test and Holm's p."""
    out: list[dict[str, Any]] = []
    for a, b in combinations(samples, 2):
        x, y = samples[a], samples[b]
        delta = cliffs_delta(x, y)
        warning = _warning({a: len(x), b: len(y)}, min_n)
        out.append({"metric": metric, "type_a": a, "type_b": b, "n_a": len(x), "n_b": len(y),
                    "median_a": float(np.median(x)) if len(x) else math.nan,
                    "median_b": float(np.median(y)) if len(y) else math.nan,
                    "median_diff": math.nan, "p_value": math.nan, "p_holm": math.nan,
                    "cliffs_delta": delta, "magnitude": cliffs_magnitude(delta),
                    "small_sample": bool(warning), "warning": warning})
    return out


def _holm_by_metric(rows: list[dict[str, Any]], slices: list[slice]) -> None:
    """Fill ``p_holm``: Holm's adjustment over each slice of rows (one metric's pairs)."""
    for part in slices:
        mine = rows[part]
        for row, adjusted in zip(mine, _holm([r["p_value"] for r in mine]), strict=True):
            row["p_holm"] = adjusted


def _holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment (NaN p-values are left out and stay NaN)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def _spearman_row(metric: str, kinds: pd.Series, values: pd.Series, types: list[int],
                  min_n: int) -> dict[str, Any]:
    from scipy import stats

    ok = (kinds.isin(types) & values.notna() & np.isfinite(values)).to_numpy(dtype=bool)
    k, v = kinds.to_numpy(dtype=float)[ok], values.to_numpy(dtype=float)[ok]
    ns = {t: int((k == t).sum()) for t in types}
    row = {"metric": metric, **_n_columns(ns, min_n), "rho": math.nan, "p_value": math.nan}
    if len(np.unique(k)) < 2 or len(np.unique(v)) < 2:
        return _noted(row, "constant type or metric: no correlation")
    res = stats.spearmanr(k, v)
    row["rho"], row["p_value"] = float(res.statistic), float(res.pvalue)
    return row
