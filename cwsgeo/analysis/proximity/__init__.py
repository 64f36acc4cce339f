"""Walking proximity of coworking spaces: transit, places, residents, coverage and surfaces.

Every function takes GeoDataFrames (any CRS; they are projected to the network's work CRS,
EPSG:25831) and a :class:`~cwsgeo.analysis.network.WalkNetwork`. Per-space results
(:func:`space_metrics` and its parts, :func:`walk_areas`) are indexed by the space ids (index
``id``, taken from the spaces' ``id`` column, unique, in the spaces' row order): join them
with ``spaces.join(metrics, on="id")``. Distances are network walking metres; minutes are
metres divided by the walking speed (``walk_speed_kmh``, default
:data:`cwsgeo.settings.walk_speed_kmh` = 4.8 km/h = 80 m/min, so 5/10/15 minutes are
400/800/1,200 m).

Method of every value
---------------------
A space is snapped to its nearest street segment (see :mod:`cwsgeo.analysis.network`); its walk to a
target is *space → street (snap distance) → along the network → street → target*, targets
being snapped the same way. A space farther than ``snap_max_m`` (default 300 m) from the
network gets **straight-line** values instead and ``proximity_method = "straight_line"``
(otherwise ``"network"``; missing geometry gives NA values and an NA method). Targets (stops,
places, residents) farther than ``snap_max_m`` from the network are likewise measured in a
straight line from the origin.

Column names
------------
All built by :func:`cwsgeo.schema.metric_column` (cityseer style: subject, what, unit or
threshold):

* transit, per mode in :data:`cwsgeo.schema.TRANSIT_MODES`: ``{mode}_line_m`` (straight line
  to the nearest stop), ``{mode}_walk_m``, ``{mode}_walk_min``, ``{mode}_stops_{t}min`` for ``t`` in
  ``stop_minutes`` (default 5, 10), ``{mode}_nearest_stop`` (name of the nearest stop on foot);
  and ``transit_any_line_m``, ``transit_any_walk_m``, ``transit_any_walk_min``.
* places: ``places_{category}_{t}min`` for each category, ``places_total_{t}min`` and
  ``places_buzz`` (below), ``t`` in ``minutes`` (default 5, 10, 15).
* residents: ``residents_{t}min``.
* ``snap_m`` and ``proximity_method``.

Local buzz
----------
``places_buzz = Σ_places weight(category) · decay(walking distance)`` where ``decay`` (see
:func:`buzz_decay`) is 1 up to ``buzz_full_min`` (default 5 min = 400 m), 0 beyond
``buzz_zero_min`` (default 20 min = 1,600 m) and falls smoothly in between along the cubic
``1 - 3s² + 2s³`` (``s`` the position between the two). The anchors are those of the original
Walk Score (full points within a quarter mile, none beyond one mile; its exact polynomial is
proprietary). Category weights default to 1, so the score reads as "the number of places, each
counted fully when within 5 minutes"; pass ``category_weights`` (e.g. ``{"library": 0.5}``)
to change them.

Residents ("proximity to home")
-------------------------------
:func:`allocate_residents` puts each census section's population on the network; see its
docstring. Residents reached are summed over the network nodes reached.

Snapped layers
--------------
:func:`snap_places` and :func:`snap_stops` snap a target layer once; pass the result in place
of the GeoDataFrame to :func:`space_metrics` or :func:`accessibility_surface` to measure many
sets of spaces without snapping the layer again.

Modules: :mod:`~.metrics` (per-space metrics, :func:`buzz_decay`), :mod:`~.targets`,
:mod:`~.residents`, :mod:`~.coverage`, :mod:`~.surface`, :mod:`~.areas` (:func:`walk_areas`)
and :mod:`~.summary` (:func:`summarize_by_type`).
"""

from .areas import walk_areas
from .coverage import coverage
from .metrics import (
    buzz_decay,
    places_metrics,
    residents_metrics,
    space_metrics,
    transit_metrics,
)
from .residents import Residents, allocate_residents
from .summary import summarize_by_type
from .surface import accessibility_surface
from .targets import SnappedTargets, snap_places, snap_stops

__all__ = [
    "Residents",
    "SnappedTargets",
    "accessibility_surface",
    "allocate_residents",
    "buzz_decay",
    "coverage",
    "places_metrics",
    "residents_metrics",
    "snap_places",
    "snap_stops",
    "space_metrics",
    "summarize_by_type",
    "transit_metrics",
    "walk_areas",
]
