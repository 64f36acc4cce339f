"""Compiled medians of permuted and resampled samples (numba), behind :mod:`.compare`.

Both kernels work on **ranks**: a sample of ``n`` values sorted once (``s``, ascending) is
replaced by each value's position in that order (ties broken by position, so the ranks are
``0 .. n-1``, each once). The ``k``-th smallest value of any subset is then ``s`` at the
``k``-th smallest rank of the subset, which a pass over a flag or count array of ``n`` cells
finds without sorting: the medians equal ``numpy.median``'s (the middle value, or
``(lo + hi) / 2`` of the two middle ones, the same floating-point operations).

:func:`permutation_extremes` draws its relabellings with the caller's
:class:`numpy.random.Generator` through numba's ``Generator.shuffle``, the same draws in the
same order as ``Generator.permuted`` of the rows of ``broadcast_to(pooled, (size, n))``
(Fisher–Yates per row, one bounded integer per swap; checked in the tests), so a seed gives
the p-values it gave before. Compiled on first use (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__: list[str] = []


@njit(cache=True, inline="always")
def _middle(sorted_values, lo, hi, n):
    """Median of a sample whose order statistics ``(n - 1) // 2`` and ``n // 2`` are lo, hi."""
    if n % 2 == 1:
        return sorted_values[lo]
    return (sorted_values[lo] + sorted_values[hi]) / 2.0


@njit(cache=True)
def permutation_extremes(rng, ranks, sorted_values, n_a, n_permutations, threshold):
    """Count relabellings with ``|median(first n_a) - median(rest)| >= threshold``.

    Parameters
    ----------
    rng
        The Generator (advanced by ``n_permutations`` row shuffles of ``len(ranks)``).
    ranks
        ``int64`` ranks of the pooled values, in the pooled order.
    sorted_values
        The pooled values sorted ascending.
    n_a
        Size of the first group (``1 <= n_a < len(ranks)``).
    n_permutations
        Relabellings.
    threshold
        ``|observed| - tol``.
    """
    n = len(ranks)
    n_b = n - n_a
    ka_lo, ka_hi = (n_a - 1) // 2, n_a // 2
    kb_lo, kb_hi = (n_b - 1) // 2, n_b // 2
    row = np.empty(n, np.int64)
    in_a = np.zeros(n, np.bool_)
    extreme = 0
    for _ in range(n_permutations):
        row[:] = ranks
        rng.shuffle(row)
        for i in range(n_a):
            in_a[row[i]] = True
        ca = 0
        cb = 0
        a_lo = a_hi = b_lo = b_hi = -1
        for r in range(n):
            if in_a[r]:
                if ca == ka_lo:
                    a_lo = r
                if ca == ka_hi:
                    a_hi = r
                ca += 1
            else:
                if cb == kb_lo:
                    b_lo = r
                if cb == kb_hi:
                    b_hi = r
                cb += 1
            if a_hi >= 0 and b_hi >= 0:
                break
        diff = (_middle(sorted_values, a_lo, a_hi, n_a)
                - _middle(sorted_values, b_lo, b_hi, n_b))
        if abs(diff) >= threshold:
            extreme += 1
        for i in range(n_a):
            in_a[row[i]] = False
    return extreme


@njit(cache=True)
def resampled_medians(draws, ranks, sorted_values):
    """Median of each row of ``values[draws]``, ``draws`` a ``(size, n)`` array of indices.

    ``ranks`` and ``sorted_values`` are those of ``values`` (see the module docstring).
    """
    size, n = draws.shape
    k_lo, k_hi = (n - 1) // 2, n // 2
    counts = np.zeros(len(sorted_values), np.int64)
    out = np.empty(size)
    for i in range(size):
        for j in range(n):
            counts[ranks[draws[i, j]]] += 1
        seen = 0
        lo = hi = -1
        for r in range(len(sorted_values)):
            seen += counts[r]
            if lo < 0 and seen > k_lo:
                lo = r
            if seen > k_hi:
                hi = r
                break
        out[i] = _middle(sorted_values, lo, hi, n)
        for j in range(n):
            counts[ranks[draws[i, j]]] = 0
    return out
