"""The walking network: reading, a compact array form, snapping, and batched shortest paths.

A :class:`WalkNetwork` is the whole street graph reduced to what walking distances need: node
ids, node coordinates in the work CRS (:data:`cwsgeo.settings.crs_work`, EPSG:25831) and a
symmetric ``scipy.sparse`` CSR matrix of edge lengths in metres. Every search runs on that
matrix with :func:`scipy.sparse.csgraph.dijkstra`, never with one networkx call per origin.

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
* :func:`iter_node_distances`: node-to-node distances from batches of origin nodes
  (``dijkstra(csr, indices=batch, limit=...)``), chunked to bound memory. With ``origins=None``
  the batches are every node in Morton (Z-curve) order, so each batch covers a compact area and
  the set of nodes it reaches is small; downstream gathers only touch those.
* :func:`point_node_distances`: from snapped points to every node (both edge ends, offsets added).
* :func:`to_points`: from rows of node distances to snapped target points (exact: both ends of
  the target's edge, plus the along-the-edge shortcut when origin and target share an edge).
* :func:`nearest_distances`: every node's distance to the nearest of many points in **one**
  dijkstra call (each point is a virtual source joined to its edge's two ends by its costs;
  ``min_only=True``), optionally with which point is nearest.
"""

from .io import GRAPH_SUFFIXES, download_network, is_walkable, network_from_graph, read_network
from .model import COMPACT_VERSION, MIN_EDGE_M, WalkNetwork
from .search import (
    iter_node_distances,
    nearest_distances,
    node_distances,
    point_node_distances,
    to_points,
)
from .snap import Snap, snap_points

__all__ = [
    "COMPACT_VERSION",
    "GRAPH_SUFFIXES",
    "MIN_EDGE_M",
    "Snap",
    "WalkNetwork",
    "download_network",
    "is_walkable",
    "iter_node_distances",
    "nearest_distances",
    "network_from_graph",
    "node_distances",
    "point_node_distances",
    "read_network",
    "snap_points",
    "to_points",
]
