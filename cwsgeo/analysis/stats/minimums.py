"""The smallest inputs each statistic is run on; below them it is skipped with a reason.

A new city may have two spaces, or no bars: the statistics stage
(:mod:`cwsgeo.build.statistics`) checks these minimums before every test and writes the
reason of each test it does not run into ``statistics.json``, the report and the build
summary. The numbers follow the methods' own needs and the literature:

* :data:`MIN_POINTS` (10) spaces, or partner points, for Kd, co-location quotients and hot
  spots. Duranton & Overman (2005, Review of Economic Studies 72:1077–1106) test industries
  of at least ten establishments; fewer give a Kd curve of under 45 pairs, too coarse for
  its bands to say anything.
* :data:`MIN_TYPE_N` (5) spaces of one innovation type for its own Kd and co-location
  quotients (the comparisons by type flag every group under 10 as a small sample).
* :data:`MIN_UNITS` (30) areal units (H3 cells, barris) for local Moran's I: its inference
  is asymptotic; 30 units is the usual rule (e.g. ArcGIS's hot spot analysis guidance).
* :data:`MIN_KD_SIMS` (20) simulations for Kd: its 95 % local band (2.5 % and 97.5 % of the
  simulated curves) needs 20 draws to have one beyond each bound; ``[statistics] n_sims``
  is checked against it when the project is read.
* :data:`LOCAL_CLQ_K` (8) neighbours of the local co-location quotient's adaptive kernel
  (Cromley et al. 2014; Wang et al. 2017): the spaces and places must number more than it.
"""

from __future__ import annotations

__all__ = ["LOCAL_CLQ_K", "MAX_SIMS", "MIN_KD_SIMS", "MIN_POINTS", "MIN_TYPE_N",
           "MIN_UNITS"]

#: Fewest spaces (or partner points) of Kd, the co-location quotients and the hot spots.
MIN_POINTS = 10

#: Fewest spaces of one innovation type tested on its own.
MIN_TYPE_N = 5

#: Fewest areal units of the hot spots (local Moran's I).
MIN_UNITS = 30

#: Fewest simulations of Kd (its 95 % band).
MIN_KD_SIMS = 20

#: Most simulations ``[statistics] n_sims`` accepts.
MAX_SIMS = 99_999

#: Neighbours of the local co-location quotient.
LOCAL_CLQ_K = 8
