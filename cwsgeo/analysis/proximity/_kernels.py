"""Compiled (numba) loops of the per-space metrics: one pass where numpy needs several.

Compiled on first use (``cache=True``: later processes load them from numba's cache).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__: list[str] = []


@njit(cache=True)
def tally_within(d: np.ndarray, cat: np.ndarray, n_cats: int, limits: np.ndarray,
                 full_m: float, zero_m: float,
                 decay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Count pairs by row, category and first threshold within; find the decay's middle.

    ``d`` is ``(rows, targets)`` distances, ``cat`` each target's category (``n_cats``: none),
    ``limits`` the thresholds in metres (ascending). Returns ``tally[row, cat, j]``, the
    pairs whose first threshold within is ``j`` (``d <= limits[j]``, not ``limits[j - 1]``),
    and the flat positions of the pairs with ``full_m < d < zero_m`` (ascending); sets
    ``decay`` (same shape, zeroed) to 1 where ``d <= full_m``.
    """
    n, m = d.shape
    k = len(limits)
    tally = np.zeros((n, n_cats + 1, k), np.int64)
    mid = np.empty(n * m, np.int64)
    n_mid = 0
    for i in range(n):
        for j in range(m):
            x = d[i, j]
            if x <= limits[k - 1]:
                b = 0
                while x > limits[b]:
                    b += 1
                tally[i, cat[j], b] += 1
            if x <= full_m:
                decay[i, j] = 1.0
            elif x < zero_m:
                mid[n_mid] = i * m + j
                n_mid += 1
    return tally, mid[:n_mid]
