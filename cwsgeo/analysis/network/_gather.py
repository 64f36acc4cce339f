"""Compiled gather of :func:`.search.to_points`: one pass, no ``origins x targets`` temporaries.

``out[i, j] = min(rows[i, u[j]] + cost_u[j], rows[i, v[j]] + cost_v[j])``: the same two sums
and the same minimum (``numpy.minimum``: NaN wins) as the numpy expression, so the results
are equal bit for bit. Compiled on first use (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__: list[str] = []


@njit(cache=True)
def gather_min(rows: np.ndarray, u: np.ndarray, v: np.ndarray, cost_u: np.ndarray,
               cost_v: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` (``(len(rows), len(u))``) with each target's nearer end, see the module."""
    for i in range(rows.shape[0]):
        for j in range(len(u)):
            a = rows[i, u[j]] + cost_u[j]
            b = rows[i, v[j]] + cost_v[j]
            out[i, j] = a if (a <= b or a != a) else b
