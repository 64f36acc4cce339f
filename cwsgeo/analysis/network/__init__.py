"""The walking network: reading, a compact array form, snapping, and batched shortest paths.

A :class:`WalkNetwork` is the whole street graph reduced to what walking distances need: node
ids, node coordinates in the work CRS (:data:`cwsgeo.settings.crs_work`, EPSG:25831) and a
symmetric ``scipy.sparse`` CSR matrix of edge lengths in metres. Every search runs on that
matrix: bounded searches on a compiled engine (:mod:`._bounded`, numba) whose work is
proportional to what each origin reaches, the others with
:func:`scipy.sparse.csgraph.dijkstra`; never one networkx call per origin.

Sources
-------
* **GraphML** saved by osmnx (the municipal *Graf viari* of the Barcelona bundle,
  ``streets/bcn_grafvial_walk.graphml``): read with :func:`osmnx.load_graphml`.
* **OSM XML** (``.osm``/``.xml``): read with :func:`osmnx.graph_from_xml`, then cut down to the
  ways osmnx's ``network_type="walk"`` keeps (same tag rules, see :func:`is_walkable`), treated
  as two-way and simplified.
* **Live**: :func:`download_network` calls ``osmnx.graph_from_polygon(network_type="walk")``
  through :func:`cwsgeo._http.osmnx_settings` and :func:`cwsgeo._http.call_live`.
* **.npz**: the compact form, ``numpy.savez(file, **net.to_arrays())``
  (:meth:`WalkNetwork.to_arrays` / :meth:`WalkNetwork.from_arrays`), read by
  :func:`read_network` in ~10 ms where osmnx takes 2-3 s to parse the 13 MB Barcelona GraphML.
  The build (:mod:`cwsgeo.build.sources`) stores it next to the street graph at fetch time.

Walking is allowed both ways on every edge, so the CSR matrix is made symmetric; parallel edges
keep their shortest length, self-loops are dropped and only the largest connected component is
kept.

Modules: :mod:`~.model` (:class:`WalkNetwork`), :mod:`~.io` (:func:`read_network`,
:func:`network_from_graph`, :func:`download_network`), :mod:`~.snap` (:func:`snap_points`) and
:mod:`~.search` (the distance searches below).

Snapping (:func:`snap_points`)
------------------------------
A point is snapped to the **nearest edge** (the straight segment between its nodes), not to the
nearest node. The point's walking cost to each end of that edge is
``snap distance + offset along the edge``, where the offset is the projection's fraction of the
segment times the edge's official ``length``. Why: Barcelona's street segments are long (an
Eixample block face is ~113 m, 10 % of segments exceed 150 m, some 1 km), so the nearest *node*
is often a corner of the parallel street behind the block (a block's detour) or half a segment
away along the right street. On the bundle's 175,895 address points the edge snap is a median
8 m from the point (90th percentile 27 m) against 32 m (69 m) for the nearest node, and the
offset along the edge to its nearer end, which a node snap ignores, has a median of 29 m and
a 90th percentile of 67 m (most of a minute's walk). The only approximation left is that an
edge is a straight chord (the Barcelona source has no edge geometry anyway).
``how="node"`` (``cKDTree`` nearest node) is available for comparison.

The nearest edge is found exactly and fast (:meth:`WalkNetwork.nearest_edges`): a ``cKDTree``
of points every 10 m along all edges gives candidates, exact point-to-segment distances decide,
and a ``shapely.STRtree`` settles the rare ambiguous points (0.6 s for the 175,895 addresses).

Every point gets ``on_network = snap distance <= snap_max_m`` (default
:data:`cwsgeo.settings.snap_max_m`, 300 m); callers give points off the network straight-line
values flagged ``method="straight_line"``.

Searches
--------
Bounded searches (a radius) run on the compiled engine (:mod:`._bounded`): one search per
origin that settles only the nodes within the radius (a bucket queue of 20 m buckets, a heap
when the buckets would overflow), in parallel over origins, with distances exactly equal to
:func:`scipy.sparse.csgraph.dijkstra` with ``limit``. Its cost grows with what is reached,
not with the size of the graph (scipy's ``limit`` still does O(n) work per origin).

* :func:`nodes_in_range` / :func:`iter_reach`: the nodes within a radius of node origins or of
  snapped points, as a sparse :class:`Reach` (per origin, reached nodes and distances), in
  memory-bounded batches; isochrones and walking areas are built from it.
* :func:`sums_in_range`: weights on nodes (residents) and on snapped points (places, counted
  at ``min(d(u) + cost_u, d(v) + cost_v)``) within one or several radii of every node, summed
  during the search: the accessibility surface, with no distance matrix.
* :func:`nearest_k`: every node's ``k`` nearest points (pandana's ``nearest_pois``), one
  multi-source multi-label search; :func:`nearest_distances` is its ``k=1``.
* :func:`iter_node_distances`: node-to-node distances from batches of origin nodes, as dense
  rows (the engine with a limit, ``dijkstra`` without). With ``origins=None`` the batches
  are every node in Morton (Z-curve) order, so each batch covers a compact area.
* :func:`point_node_distances`: from snapped points to every node (both edge ends, offsets
  added; ``dijkstra``).
* :func:`point_node_rows`: the same at chosen nodes, on the bounded engine for a finite limit.
* :func:`to_points`: from rows of node distances to snapped target points (exact: both ends of
  the target's edge, plus the along-the-edge shortcut when origin and target share an edge;
  the gather is one compiled pass, :mod:`._gather`, equal to the numpy expression bit for bit).

numba compiles the engine on its first use in an environment (a few seconds) and caches it
(``cache=True``; later processes load it in well under a second). ``NUMBA_NUM_THREADS`` sets
the threads, before the process starts.
"""

from .io import GRAPH_SUFFIXES, download_network, is_walkable, network_from_graph, read_network
from .model import COMPACT_VERSION, MIN_EDGE_M, WalkNetwork
from .search import (
    Reach,
    iter_node_distances,
    iter_reach,
    nearest_distances,
    nearest_k,
    node_distances,
    nodes_in_range,
    point_node_distances,
    point_node_rows,
    sums_in_range,
    to_points,
)
from .snap import Snap, snap_points

__all__ = [
    "COMPACT_VERSION",
    "GRAPH_SUFFIXES",
    "MIN_EDGE_M",
    "Reach",
    "Snap",
    "WalkNetwork",
    "download_network",
    "is_walkable",
    "iter_node_distances",
    "iter_reach",
    "nearest_distances",
    "nearest_k",
    "network_from_graph",
    "node_distances",
    "nodes_in_range",
    "point_node_distances",
    "point_node_rows",
    "read_network",
    "snap_points",
    "sums_in_range",
    "to_points",
]
