"""Compiled kernel of :func:`~cwsgeo.outputs.maps.display.radial_outlines` (numba).

The farthest boundary point of each polygon in each of ``directions`` sectors, over the
boundary densified to at most ``max_len`` between points. The densified points are those of
``shapely.segmentize`` (GEOS's ``Densifier``: a segment of length ``L`` is cut into
``ceil(L / max_len)`` equal parts, point ``j`` at fraction ``(j * L / n) / L``), computed with
the same floating-point operations, so the radii equal those of segmenting the boundaries
and measuring every point; but no densified geometry is ever made. Compiled on first use
(``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__: list[str] = []


@njit(cache=True, inline="always")
def _put(radii: np.ndarray, p: int, dx: float, dy: float, step: float,
         directions: int) -> None:
    """Keep ``hypot(dx, dy)`` as polygon ``p``'s radius in the sector of ``(dx, dy)``."""
    sector = int(np.rint(math.atan2(dy, dx) / step)) % directions
    r = math.hypot(dx, dy)
    if r > radii[p, sector]:
        radii[p, sector] = r


@njit(cache=True)
def sector_radii(xy: np.ndarray, ring_ptr: np.ndarray, ring_poly: np.ndarray,
                 cx: np.ndarray, cy: np.ndarray, n_polys: int, directions: int,
                 max_len: float) -> np.ndarray:
    """Radii ``(n_polys, directions)`` (0: no point in the sector) of the rings' points.

    ``xy``: the coordinates of every ring in turn, ring ``r`` being
    ``xy[ring_ptr[r]:ring_ptr[r + 1]]`` and belonging to polygon ``ring_poly[r]`` (centre
    ``cx, cy``).
    """
    radii = np.zeros((n_polys, directions))
    step = 2 * np.pi / directions
    for r in range(len(ring_ptr) - 1):
        p = ring_poly[r]
        ox, oy = cx[p], cy[p]
        end = ring_ptr[r + 1]
        for i in range(ring_ptr[r], end):
            x0, y0 = xy[i, 0], xy[i, 1]
            _put(radii, p, x0 - ox, y0 - oy, step, directions)
            if i + 1 == end:
                break
            sx, sy = xy[i + 1, 0] - x0, xy[i + 1, 1] - y0
            length = math.sqrt(sx * sx + sy * sy)
            count = math.ceil(length / max_len)
            if count > 1:
                part = length / count
                for j in range(1, count):
                    f = (j * part) / length
                    _put(radii, p, (x0 + f * sx) - ox, (y0 + f * sy) - oy, step, directions)
    return radii
