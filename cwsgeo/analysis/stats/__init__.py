"""Spatial statistics that turn the metrics into findings (issue: from metrics to findings).

Modules, one concept each (pure functions on arrays and (Geo)DataFrames: no config, no
caches, no file writing):

* :mod:`.kd` — Duranton–Overman K-density with local and global confidence bands,
  Euclidean and over the walking network, and co-agglomeration;
* :mod:`.colocation` — co-location quotients (global and local, Monte Carlo);
* :mod:`.hotspots` — local Moran's I hot spots on counts per cell or area (esda);
* :mod:`.middleground` — the middleground indicators per space (places, spaces, events,
  projects);
* :mod:`.compare` — comparisons by innovation type (medians with bootstrap intervals,
  Kruskal–Wallis, permutation tests, Cliff's delta), every result with its n.
"""
