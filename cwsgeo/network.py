"""The walking network: loading, a compact cached form, snapping, and batched shortest paths.

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
* **.npz**: the compact form written by :meth:`WalkNetwork.save`.

Walking is allowed both ways on every edge, so the CSR matrix is made symmetric; parallel edges
keep their shortest length, self-loops are dropped and only the largest connected component is
kept. :func:`load_network` caches the compact form as ``<cache>/network/<sha256>...npz``: the
13 MB Barcelona GraphML takes 2-3 s to parse with osmnx, its cached form ~10 ms.

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

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from . import settings
from ._errors import ConfigError, CwsgeoError, MissingDataError
from ._http import call_live, osmnx_settings
from ._io import atomic_path, sha256_file

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    import shapely

logger = logging.getLogger(__name__)

__all__ = [
    "Snap",
    "WalkNetwork",
    "download_network",
    "is_walkable",
    "iter_node_distances",
    "load_network",
    "nearest_distances",
    "network_from_graph",
    "node_distances",
    "point_node_distances",
    "snap_points",
    "to_points",
]

#: Version of the cached ``.npz`` layout and of the build rules; bump to invalidate caches.
CACHE_VERSION = 1

#: Shortest edge length kept, in metres (a zero would be read as "no edge" by scipy).
MIN_EDGE_M = 1e-3

# nearest-edge search: sample spacing along edges (m) and samples queried per point
_SAMPLE_M = 10.0
_SAMPLE_K = 8

_OSM_SUFFIXES = (".osm", ".xml")

# osmnx's network_type="walk" Overpass filter (osmnx 2.x ``_overpass._get_network_filter``),
# as (tag, regex, must_match). Overpass regexes are unanchored searches.
_WALK_RULES: tuple[tuple[str, str, bool], ...] = (
    ("area", "yes", False),
    ("access", "private", False),
    ("highway", "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|"
                "proposed|raceway|razed|rest_area|services", False),
    ("foot", "no", False),
    ("service", "private", False),
    ("sidewalk", "separate", False),
    ("sidewalk:both", "separate", False),
    ("sidewalk:left", "separate", False),
    ("sidewalk:right", "separate", False),
)
_WALK_TAGS = ("highway", "area", "access", "foot", "service", "sidewalk", "sidewalk:both",
              "sidewalk:left", "sidewalk:right", "name")


# ---------------------------------------------------------------------------------------------
# The compact network
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A walking network in compact form.

    Node *positions* (0 … ``n_nodes - 1``) index every array; ``node_ids`` maps them back to
    the source's node ids.

    Parameters
    ----------
    node_ids
        Source node id of each position (integers, or strings for non-numeric ids).
    x, y
        Node coordinates in ``crs`` (metres).
    adjacency
        Symmetric ``(n_nodes, n_nodes)`` CSR matrix; entry ``[i, j]`` is the length in metres
        of the shortest edge between nodes ``i`` and ``j``.
    crs
        Projected CRS of ``x``/``y`` (the work CRS).
    source
        Where the network came from (file name and sha256, or a live query).
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    adjacency: sparse.csr_array
    crs: str = field(default_factory=lambda: settings.crs_work)
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.node_ids)
        if not (len(self.x) == len(self.y) == n and self.adjacency.shape == (n, n)):
            raise ValueError("WalkNetwork arrays disagree in size: "
                             f"{n} ids, {len(self.x)} x, {len(self.y)} y, "
                             f"adjacency {self.adjacency.shape}")

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (street segments)."""
        return len(self.edge_u)

    def __repr__(self) -> str:
        return (f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
                f"{self.edge_length.sum() / 1000:,.1f} km, crs={self.crs!r}, "
                f"source={self.source!r})")

    # -- derived arrays (computed once) -----------------------------------------------------
    @cached_property
    def _edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        upper = sparse.triu(self.adjacency, k=1, format="coo")
        order = np.lexsort((upper.col, upper.row))
        return (upper.row[order].astype(np.int64), upper.col[order].astype(np.int64),
                upper.data[order].astype(np.float64))

    @property
    def edge_u(self) -> np.ndarray:
        """Position of the first node of each undirected edge (``edge_u < edge_v``)."""
        return self._edges[0]

    @property
    def edge_v(self) -> np.ndarray:
        """Position of the second node of each undirected edge."""
        return self._edges[1]

    @property
    def edge_length(self) -> np.ndarray:
        """Length in metres of each undirected edge."""
        return self._edges[2]

    @cached_property
    def kdtree(self) -> cKDTree:
        """``cKDTree`` over the node coordinates."""
        return cKDTree(np.column_stack([self.x, self.y]))

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """``shapely.STRtree`` over the edges as straight segments."""
        import shapely

        return shapely.STRtree(self._edge_lines())

    @cached_property
    def _edge_samples(self) -> tuple[cKDTree, np.ndarray]:
        """``cKDTree`` of points every <= ``_SAMPLE_M`` along each edge, and their edge index."""
        u, v = self.edge_u, self.edge_v
        dx, dy = self.x[v] - self.x[u], self.y[v] - self.y[u]
        pieces = np.maximum(np.ceil(np.hypot(dx, dy) / _SAMPLE_M).astype(np.int64), 1)
        edge_of = np.repeat(np.arange(len(u)), pieces + 1)
        first = np.repeat(np.cumsum(pieces + 1) - (pieces + 1), pieces + 1)
        frac = (np.arange(len(edge_of)) - first) / np.repeat(pieces, pieces + 1)
        xs = self.x[u][edge_of] + frac * dx[edge_of]
        ys = self.y[u][edge_of] + frac * dy[edge_of]
        return cKDTree(np.column_stack([xs, ys])), edge_of

    def nearest_edges(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        """Index of the nearest edge (straight segment) to each point; exact.

        Candidates are the edges of the sample points (spaced <= 10 m along every edge)
        within ``d0 + 5 m`` of the point, ``d0`` being the nearest sample's distance: the
        true nearest edge always has a sample that close, so the exact point-to-segment
        distance over the candidates picks it. Points with more candidate samples than
        queried fall back to a ``shapely.STRtree``.
        """
        import shapely

        px, py = np.asarray(px, float), np.asarray(py, float)
        if len(px) == 0:
            return np.zeros(0, dtype=np.int64)
        tree, edge_of = self._edge_samples
        k = min(_SAMPLE_K, tree.n)
        dist, idx = tree.query(np.column_stack([px, py]), k=k)
        dist, idx = dist.reshape(len(px), k), idx.reshape(len(px), k)
        radius = dist[:, :1] + _SAMPLE_M / 2
        cand = edge_of[idx]
        cu, cv = self.edge_u[cand], self.edge_v[cand]
        ax, ay = self.x[cu], self.y[cu]
        dx, dy = self.x[cv] - ax, self.y[cv] - ay
        seg2 = dx * dx + dy * dy
        qx, qy = px[:, None] - ax, py[:, None] - ay
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.where(seg2 > 0, (qx * dx + qy * dy) / seg2, 0.0), 0.0, 1.0)
        d = np.hypot(qx - t * dx, qy - t * dy)
        d[dist > radius] = np.inf
        best = cand[np.arange(len(px)), np.argmin(d, axis=1)]
        unsure = np.flatnonzero(dist[:, -1] <= radius[:, 0]) if k < tree.n else []
        if len(unsure):
            src, found = self.edge_tree.query_nearest(
                shapely.points(px[unsure], py[unsure]), all_matches=False)
            best[unsure[src]] = found
        return best

    @cached_property
    def spatial_order(self) -> np.ndarray:
        """Node positions sorted along a Morton (Z-order) curve: nearby nodes stay together."""
        return np.argsort(_morton(self.x, self.y), kind="stable")

    @cached_property
    def _position(self) -> pd.Index:
        return pd.Index(self.node_ids)

    def node_index(self, ids: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Return the positions of source node ids.

        Raises
        ------
        KeyError
            Naming the ids that are not in the network.
        """
        pos = self._position.get_indexer(np.asarray(ids))
        if (pos < 0).any():
            missing = np.asarray(ids)[pos < 0][:10].tolist()
            raise KeyError(f"node id(s) not in the walking network: {missing}")
        return pos.astype(np.int64)

    # -- geometry -------------------------------------------------------------------------
    def _edge_lines(self) -> np.ndarray:
        import shapely

        u, v = self.edge_u, self.edge_v
        coords = np.stack([np.column_stack([self.x[u], self.y[u]]),
                           np.column_stack([self.x[v], self.y[v]])], axis=1)
        return shapely.linestrings(coords)

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a point GeoDataFrame (index = node position; column ``node_id``)."""
        import geopandas as gpd

        return gpd.GeoDataFrame({"node_id": self.node_ids},
                                geometry=gpd.points_from_xy(self.x, self.y), crs=self.crs)

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Undirected edges as straight lines between their nodes, for maps.

        Columns ``u``, ``v`` (source node ids), ``length_m`` (official length, not the
        length of the drawn line) and ``geometry`` in :attr:`crs`.
        """
        import geopandas as gpd

        return gpd.GeoDataFrame({"u": self.node_ids[self.edge_u],
                                 "v": self.node_ids[self.edge_v],
                                 "length_m": self.edge_length},
                                geometry=self._edge_lines(), crs=self.crs)

    def to_networkx(self) -> nx.Graph:
        """Return the network as an undirected ``networkx.Graph`` (ids, ``x``/``y``, ``length``)."""
        import networkx as nx

        graph = nx.Graph(crs=self.crs)
        for i, nid in enumerate(self.node_ids.tolist()):
            graph.add_node(nid, x=float(self.x[i]), y=float(self.y[i]))
        ids = self.node_ids
        graph.add_weighted_edges_from(
            zip(ids[self.edge_u].tolist(), ids[self.edge_v].tolist(),
                self.edge_length.tolist(), strict=True), weight="length")
        return graph

    # -- persistence ------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the network to an ``.npz`` file (atomically) and return its path."""
        adj = self.adjacency
        meta = {"version": CACHE_VERSION, "crs": self.crs, "source": self.source}
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            np.savez(fh, node_ids=self.node_ids, x=self.x, y=self.y,
                     indptr=adj.indptr, indices=adj.indices, data=adj.data,
                     meta=np.array(json.dumps(meta)))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> WalkNetwork:
        """Read a network written by :meth:`save`.

        Raises
        ------
        cwsgeo.MissingDataError
            If the file does not exist.
        cwsgeo.CwsgeoError
            If it is not a network file of this version.
        """
        path = Path(path)
        if not path.is_file():
            raise MissingDataError(f"walking network file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                n = len(npz["node_ids"])
                adj = sparse.csr_array((npz["data"], npz["indices"], npz["indptr"]),
                                       shape=(n, n))
                net = cls(node_ids=npz["node_ids"], x=npz["x"], y=npz["y"], adjacency=adj,
                          crs=meta["crs"], source=meta.get("source", ""))
        except (KeyError, ValueError, OSError) as exc:
            raise CwsgeoError(f"{path}: not a cwsgeo walking network file ({exc})") from None
        if meta.get("version") != CACHE_VERSION:
            raise CwsgeoError(f"{path}: network file version {meta.get('version')}, "
                              f"expected {CACHE_VERSION}; rebuild it")
        return net


def _morton(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Morton (Z-order) code of each point on a ``2**bits`` grid over the points' extent."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.uint64)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    scale = (2 ** bits - 1) / span

    def spread(v: np.ndarray) -> np.ndarray:
        v = v.astype(np.uint64)
        for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                            (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                            (1, 0x5555555555555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v

    gx = ((x - x.min()) * scale).astype(np.uint64)
    gy = ((y - y.min()) * scale).astype(np.uint64)
    return spread(gx) | (spread(gy) << np.uint64(1))


# ---------------------------------------------------------------------------------------------
# Building networks
# ---------------------------------------------------------------------------------------------
def _symmetric_csr(u: np.ndarray, v: np.ndarray, length: np.ndarray, n: int) -> sparse.csr_array:
    """Symmetric CSR of the shortest length between each pair (no self-loops)."""
    keep = u != v
    u, v, length = u[keep], v[keep], np.maximum(length[keep], MIN_EDGE_M)
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    vals = np.concatenate([length, length])
    order = np.lexsort((vals, cols, rows))  # by (row, col), then shortest first
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, vals = rows[first], cols[first], vals[first]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sparse.csr_array((vals, cols.astype(np.int32), indptr), shape=(n, n))


def _largest_component(net: WalkNetwork) -> WalkNetwork:
    n_comp, labels = csgraph.connected_components(net.adjacency, directed=False)
    if n_comp <= 1:
        return net
    sizes = np.bincount(labels)
    keep = labels == np.argmax(sizes)
    logger.info("walking network: kept the largest of %d components (%d of %d nodes, %.1f %%)",
                n_comp, keep.sum(), net.n_nodes, 100 * keep.mean())
    idx = np.flatnonzero(keep)
    adj = sparse.csr_array(net.adjacency[idx][:, idx])
    adj.sort_indices()
    return WalkNetwork(node_ids=net.node_ids[idx], x=net.x[idx], y=net.y[idx], adjacency=adj,
                       crs=net.crs, source=net.source)


def network_from_graph(graph: nx.MultiDiGraph | nx.Graph, *, largest_component: bool = True,
                       source: str = "") -> WalkNetwork:
    """Build a :class:`WalkNetwork` from a networkx/osmnx graph.

    Parameters
    ----------
    graph
        Nodes with ``x``/``y`` in ``graph.graph["crs"]`` (default EPSG:4326); edges with
        ``length`` in metres (a missing length is replaced by the straight-line distance, with
        a warning). Edge directions are ignored: walking goes both ways.
    largest_component
        Keep only the largest connected component.
    source
        Description stored in :attr:`WalkNetwork.source`.

    Returns
    -------
    WalkNetwork
        In :data:`cwsgeo.settings.crs_work`.
    """
    from pyproj import CRS, Transformer

    if graph.number_of_nodes() == 0:
        raise CwsgeoError(f"walking network {source or ''} has no nodes".replace("  ", " "))
    ids = list(graph.nodes)
    try:
        node_ids = np.asarray(ids, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        node_ids = np.asarray([str(i) for i in ids])
    xs = np.fromiter((float(d["x"]) for _, d in graph.nodes(data=True)), float, len(ids))
    ys = np.fromiter((float(d["y"]) for _, d in graph.nodes(data=True)), float, len(ids))
    src_crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    dst_crs = CRS.from_user_input(settings.crs_work)
    if not src_crs.equals(dst_crs):
        xs, ys = Transformer.from_crs(src_crs, dst_crs, always_xy=True).transform(xs, ys)
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    pos = {nid: i for i, nid in enumerate(ids)}
    edges = list(graph.edges(data="length"))
    u = np.fromiter((pos[e[0]] for e in edges), np.int64, len(edges))
    v = np.fromiter((pos[e[1]] for e in edges), np.int64, len(edges))
    length = np.array([np.nan if e[2] is None else float(e[2]) for e in edges], dtype=float)
    missing = ~np.isfinite(length)
    if missing.any():
        logger.warning("walking network %s: %d edges have no length; using straight lines",
                       source, missing.sum())
        length[missing] = np.hypot(xs[u[missing]] - xs[v[missing]],
                                   ys[u[missing]] - ys[v[missing]])
    net = WalkNetwork(node_ids=node_ids, x=xs, y=ys,
                      adjacency=_symmetric_csr(u, v, length, len(ids)),
                      crs=settings.crs_work, source=source)
    return _largest_component(net) if largest_component else net


def is_walkable(tags: dict[str, Any]) -> bool:
    """Whether an OSM way's tags pass osmnx's ``network_type="walk"`` filter.

    The way needs a ``highway`` tag and must not match any exclusion of that filter
    (``area=yes``, ``access=private``, motorways, cycleways, construction, platforms …,
    ``foot=no``, ``service=private``, ``sidewalk*=separate``).
    """
    if not tags.get("highway"):
        return False
    for key, pattern, _ in _WALK_RULES:
        value = tags.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if any(re.search(pattern, str(val)) for val in values):
            return False
    return True


def _graph_from_osm_xml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    saved = list(ox.settings.useful_tags_way)
    try:
        ox.settings.useful_tags_way = sorted(set(saved) | set(_WALK_TAGS))
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx/ElementTree raise many kinds on a bad file
        raise CwsgeoError(f"{path}: cannot read OSM XML: {type(exc).__name__}: {exc}") from None
    finally:
        ox.settings.useful_tags_way = saved
    drop = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not is_walkable(d)]
    logger.info("%s: %d of %d directed OSM edges are not walkable (osmnx 'walk' rules)",
                path.name, len(drop), graph.number_of_edges())
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n, deg in dict(graph.degree()).items() if deg == 0])
    if graph.number_of_edges() == 0:
        raise CwsgeoError(f"{path}: no walkable ways (highway=*) in this OSM file")
    return ox.simplify_graph(graph)


def load_network(path: str | Path, *, cache_dir: str | Path | None = None,
                 largest_component: bool = True) -> WalkNetwork:
    """Load a walking network from GraphML, OSM XML or ``.npz``, using a cache when given.

    Parameters
    ----------
    path
        ``.graphml`` (osmnx), ``.osm``/``.xml`` (OSM XML) or ``.npz`` (:meth:`WalkNetwork.save`).
    cache_dir
        cwsgeo's cache folder. The compact form is kept as
        ``cache_dir/network/walknet-<sha256>-….npz`` and reused while the source file's bytes
        are unchanged.
    largest_component
        Keep only the largest connected component.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    cwsgeo.MissingDataError
        If ``path`` does not exist.
    cwsgeo.ConfigError
        If the file type is not supported.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(
            f"walking network not found: {path} (run `cwsgeo fetch`, or set [proximity] "
            "network in cwsgeo.toml)")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        net = WalkNetwork.load(path)
        return _largest_component(net) if largest_component else net
    if suffix not in (".graphml", *_OSM_SUFFIXES):
        raise ConfigError(f"{path}: unsupported walking network format {suffix!r} "
                          "(use .graphml, .osm, .xml or .npz)")
    digest = sha256_file(path)
    memo_key = (digest, largest_component, settings.crs_work)
    if memo_key not in _LOADED:
        # a rebuild in the same process (watch, build server) reuses the network and its
        # lazily built indexes (edge samples, trees) instead of loading them again
        _LOADED.clear()
        _LOADED[memo_key] = _load_network(path, digest, cache_dir, largest_component)
    return _LOADED[memo_key]


#: The last network loaded in this process, by the sha256 of its source file.
_LOADED: dict[tuple[Any, ...], WalkNetwork] = {}


def _load_network(path: Path, digest: str, cache_dir: str | Path | None,
                  largest_component: bool) -> WalkNetwork:
    suffix = path.suffix.lower()
    cached: Path | None = None
    if cache_dir is not None:
        crs_tag = settings.crs_work.replace(":", "").lower()
        tag = "lcc" if largest_component else "all"
        cached = (Path(cache_dir) / "network"
                  / f"walknet-{digest[:24]}-v{CACHE_VERSION}-{tag}-{crs_tag}.npz")
        if cached.is_file():
            try:
                net = WalkNetwork.load(cached)
            except CwsgeoError as exc:
                logger.warning("ignoring unreadable network cache %s: %s", cached, exc)
            else:
                logger.info("walking network from cache %s", cached)
                return net
    started = time.perf_counter()
    source = f"{path.name} sha256:{digest[:16]}"
    if suffix == ".graphml":
        import osmnx as ox

        try:
            graph = ox.load_graphml(path)
        except Exception as exc:  # malformed XML, wrong attribute types …
            raise CwsgeoError(f"{path}: cannot read GraphML: {type(exc).__name__}: {exc}") \
                from None
    else:
        graph = _graph_from_osm_xml(path)
    net = network_from_graph(graph, largest_component=largest_component, source=source)
    logger.info("walking network %s: %d nodes, %d edges, built in %.1f s", path.name,
                net.n_nodes, net.n_edges, time.perf_counter() - started)
    if cached is not None:
        net.save(cached)
    return net


def download_network(polygon: Any, *, cache_dir: str | Path,
                     largest_component: bool = True) -> WalkNetwork:
    """Download OSM's walking network inside a polygon (live, through Overpass).

    Parameters
    ----------
    polygon
        A shapely (Multi)Polygon in EPSG:4326, or a GeoSeries/GeoDataFrame (any CRS) whose
        union is used.
    cache_dir
        cwsgeo's cache folder (osmnx's HTTP cache goes to ``cache_dir/osmnx``).
    largest_component
        Keep only the largest connected component.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    cwsgeo.DataSourceError
        If Overpass fails after retries.
    """
    import geopandas as gpd
    import osmnx as ox

    if isinstance(polygon, (gpd.GeoSeries, gpd.GeoDataFrame)):
        polygon = polygon.to_crs(settings.crs_store).union_all()
    with osmnx_settings(Path(cache_dir), source="Overpass"):
        graph = call_live(ox.graph_from_polygon, polygon, network_type="walk",
                          retain_all=True, simplify=True, source="Overpass")
    west, south, east, north = polygon.bounds
    return network_from_graph(
        graph, largest_component=largest_component,
        source=f"OSM live walk network ({west:.4f},{south:.4f},{east:.4f},{north:.4f})")


# ---------------------------------------------------------------------------------------------
# Snapping
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Snap:
    """Points snapped to a :class:`WalkNetwork`.

    Walking from a point to node ``u`` costs ``cost_u`` metres (snap distance plus the offset
    along the edge), to node ``v`` ``cost_v``. Points with no geometry have ``valid = False``
    and infinite costs.

    Attributes
    ----------
    u, v
        Node positions at the two ends of the snapped edge (equal for ``how="node"``).
    cost_u, cost_v
        Metres from the point to ``u`` / ``v`` over the network.
    edge
        Undirected edge index (``-1`` for ``how="node"`` or invalid points).
    along
        Metres along the edge from ``u`` to the projected point.
    distance
        Snap distance in metres (point to edge, or to node).
    on_network
        ``distance <= snap_max_m``: network values apply; others get straight-line fallbacks.
    x, y
        Point coordinates in the network's CRS (NaN when invalid).
    valid
        The point has a usable geometry.
    """

    u: np.ndarray
    v: np.ndarray
    cost_u: np.ndarray
    cost_v: np.ndarray
    edge: np.ndarray
    along: np.ndarray
    distance: np.ndarray
    on_network: np.ndarray
    x: np.ndarray
    y: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.u)

    @property
    def method(self) -> np.ndarray:
        """``"network"``, ``"straight_line"`` or ``None`` (no geometry) for each point."""
        out = np.where(self.on_network, "network", "straight_line").astype(object)
        out[~self.valid] = None
        return out

    def subset(self, which: np.ndarray | slice) -> Snap:
        """Return the points selected by a boolean mask, index array or slice."""
        return Snap(**{f: getattr(self, f)[which] for f in self.__dataclass_fields__})

    def to_frame(self, net: WalkNetwork, index: pd.Index | None = None) -> pd.DataFrame:
        """Table of ``snap_m``, ``method``, ``node_u``, ``node_v`` (source node ids)."""
        return pd.DataFrame({
            "snap_m": np.where(self.valid, self.distance, np.nan),
            "method": pd.array(self.method, dtype="string"),
            "node_u": np.where(self.valid, net.node_ids[self.u], None),
            "node_v": np.where(self.valid, net.node_ids[self.v], None),
        }, index=index)


def _point_xy(points: Any, crs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates of points (GeoSeries/GeoDataFrame in any CRS, or an (n, 2) array in ``crs``)."""
    import geopandas as gpd
    import shapely

    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is None:
            raise ValueError("points have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
        geoms = points.to_crs(crs).to_numpy()
        valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        geoms = np.where(valid, geoms, None)
        not_point = valid & (shapely.get_type_id(geoms) != 0)
        if not_point.any():
            geoms = geoms.copy()
            geoms[not_point] = shapely.point_on_surface(geoms[not_point])
        x = np.full(len(geoms), np.nan)
        y = np.full(len(geoms), np.nan)
        x[valid] = shapely.get_x(geoms[valid])
        y[valid] = shapely.get_y(geoms[valid])
        return x, y, valid & np.isfinite(x) & np.isfinite(y)
    arr = np.asarray(points, dtype=float).reshape(-1, 2)
    x, y = arr[:, 0].copy(), arr[:, 1].copy()
    return x, y, np.isfinite(x) & np.isfinite(y)


def snap_points(net: WalkNetwork, points: Any, *, snap_max_m: float | None = None,
                how: Literal["edge", "node"] = "edge") -> Snap:
    """Snap points to the walking network.

    Parameters
    ----------
    net
        The walking network.
    points
        GeoSeries or GeoDataFrame (any CRS; non-point geometries use a point on their surface),
        or an ``(n, 2)`` array of coordinates in the network's CRS. Missing or empty geometries
        are kept as invalid rows.
    snap_max_m
        Points farther than this from the network are flagged ``on_network=False``
        (default :data:`cwsgeo.settings.snap_max_m`).
    how
        ``"edge"`` (default): nearest edge, walking cost to each end = snap distance + offset
        along the edge (see the module docs for why). ``"node"``: nearest node.

    Returns
    -------
    Snap
    """
    if how not in ("edge", "node"):
        raise ValueError(f"how must be 'edge' or 'node', got {how!r}")
    snap_max = settings.snap_max_m if snap_max_m is None else float(snap_max_m)
    x, y, valid = _point_xy(points, net.crs)
    n = len(x)
    u = np.zeros(n, dtype=np.int64)
    v = np.zeros(n, dtype=np.int64)
    edge = np.full(n, -1, dtype=np.int64)
    along = np.zeros(n)
    dist = np.full(n, np.inf)
    cost_u = np.full(n, np.inf)
    cost_v = np.full(n, np.inf)
    idx = np.flatnonzero(valid)
    if len(idx) and how == "node":
        d, nearest = net.kdtree.query(np.column_stack([x[idx], y[idx]]))
        u[idx] = v[idx] = nearest
        dist[idx] = cost_u[idx] = cost_v[idx] = d
    elif len(idx) and net.n_edges == 0:
        raise CwsgeoError("cannot snap to a walking network without edges")
    elif len(idx):
        e = net.nearest_edges(x[idx], y[idx])
        eu, ev, length = net.edge_u[e], net.edge_v[e], net.edge_length[e]
        ax, ay = net.x[eu], net.y[eu]
        dx, dy = net.x[ev] - ax, net.y[ev] - ay
        seg2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(seg2 > 0, ((x[idx] - ax) * dx + (y[idx] - ay) * dy) / seg2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        d = np.hypot(x[idx] - (ax + t * dx), y[idx] - (ay + t * dy))
        u[idx], v[idx], edge[idx] = eu, ev, e
        along[idx] = t * length
        dist[idx] = d
        cost_u[idx] = d + t * length
        cost_v[idx] = d + (1.0 - t) * length
    on_network = valid & (dist <= snap_max)
    return Snap(u=u, v=v, cost_u=cost_u, cost_v=cost_v, edge=edge, along=along, distance=dist,
                on_network=on_network, x=x, y=y, valid=valid)


# ---------------------------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------------------------
def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="origin", leave=False)


def iter_node_distances(net: WalkNetwork, origins: np.ndarray | None = None, *,
                        limit: float = np.inf, chunk_size: int = 256,
                        progress: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield network distances from batches of origin nodes to every node.

    Parameters
    ----------
    net
        The walking network.
    origins
        Origin node positions. ``None``: every node, in :attr:`WalkNetwork.spatial_order` so
        each batch covers a compact area.
    limit
        Search radius in metres; farther nodes get ``inf``.
    chunk_size
        Origins per batch; memory is ``chunk_size * n_nodes * 8`` bytes per batch.
    progress
        Show a ``tqdm`` progress bar.

    Yields
    ------
    origins : numpy.ndarray
        The batch's origin positions.
    distances : numpy.ndarray
        ``(len(origins), n_nodes)`` metres.
    """
    order = net.spatial_order if origins is None else np.asarray(origins, dtype=np.int64)
    chunk_size = max(1, int(chunk_size))
    with _progress(len(order), "walking search", progress) as bar:
        for start in range(0, len(order), chunk_size):
            batch = order[start:start + chunk_size]
            dist = csgraph.dijkstra(net.adjacency, directed=True, indices=batch, limit=limit)
            bar.update(len(batch))
            yield batch, dist


def node_distances(net: WalkNetwork, origins: np.ndarray, *,
                   limit: float = np.inf) -> np.ndarray:
    """Network distances (metres) from origin node positions to every node.

    Returns
    -------
    numpy.ndarray
        ``(len(origins), n_nodes)``; ``inf`` beyond ``limit`` or unreachable.
    """
    origins = np.asarray(origins, dtype=np.int64)
    if len(origins) == 0:
        return np.zeros((0, net.n_nodes))
    return np.vstack([d for _, d in iter_node_distances(net, origins, limit=limit)])


def point_node_distances(net: WalkNetwork, snap: Snap, *, limit: float = np.inf,
                         chunk_size: int = 128) -> np.ndarray:
    """Network distances (metres) from snapped points to every node.

    The distance to node ``n`` is ``min(cost_u + d(u, n), cost_v + d(v, n))``: the point's
    walk to either end of its edge plus the shortest path from there.

    Parameters
    ----------
    net
        The walking network.
    snap
        Snapped points (:func:`snap_points`); invalid points get rows of ``inf``.
    limit
        Search radius in metres (the point's own costs included); farther nodes get ``inf``.
    chunk_size
        Points per dijkstra batch.

    Returns
    -------
    numpy.ndarray
        ``(len(snap), n_nodes)``.
    """
    out = np.full((len(snap), net.n_nodes), np.inf)
    rows = np.flatnonzero(snap.valid & (np.minimum(snap.cost_u, snap.cost_v) <= limit))
    for start in range(0, len(rows), chunk_size):
        r = rows[start:start + chunk_size]
        ends, inverse = np.unique(np.concatenate([snap.u[r], snap.v[r]]), return_inverse=True)
        dist = csgraph.dijkstra(net.adjacency, directed=True, indices=ends, limit=limit)
        du, dv = dist[inverse[:len(r)]], dist[inverse[len(r):]]
        block = np.minimum(du + snap.cost_u[r, None], dv + snap.cost_v[r, None])
        block[block > limit] = np.inf
        out[r] = block
    return out


def to_points(node_dist: np.ndarray, targets: Snap, *, origins: Snap | None = None,
              target_index: np.ndarray | None = None) -> np.ndarray:
    """Distances from origins, given as rows of node distances, to snapped target points.

    ``d(origin, target) = min(node_dist[u] + cost_u, node_dist[v] + cost_v)`` over the
    target's edge ends. When ``origins`` (the snapped points the rows were computed from) is
    given, a target on the same edge as its origin also gets the direct walk along that edge
    (``|along_o - along_t| + both snap distances``) if it is shorter.

    Parameters
    ----------
    node_dist
        ``(n_origins, n_nodes)`` distances, e.g. from :func:`point_node_distances`.
    targets
        Snapped target points.
    origins
        Snapped origin points, one per row of ``node_dist`` (optional).
    target_index
        Only compute these target positions (default all).

    Returns
    -------
    numpy.ndarray
        ``(n_origins, n_targets)`` metres (``inf`` when unreachable within the rows' limit).
    """
    t = np.arange(len(targets)) if target_index is None else np.asarray(target_index)
    out = np.minimum(node_dist[:, targets.u[t]] + targets.cost_u[t],
                     node_dist[:, targets.v[t]] + targets.cost_v[t])
    if origins is not None and len(t) and len(origins):
        _same_edge_shortcut(out, origins, targets, t)
    return out


def _same_edge_shortcut(out: np.ndarray, origins: Snap, targets: Snap, t: np.ndarray) -> None:
    o_edge = np.where(origins.valid, origins.edge, -1)
    t_edge = np.where(targets.valid[t], targets.edge[t], -1)
    common = np.intersect1d(o_edge[o_edge >= 0], t_edge[t_edge >= 0])
    if len(common) == 0:
        return
    left = pd.DataFrame({"edge": o_edge, "row": np.arange(len(o_edge))})
    right = pd.DataFrame({"edge": t_edge, "col": np.arange(len(t_edge))})
    pairs = left[left.edge.isin(common)].merge(right[right.edge.isin(common)], on="edge")
    r, c = pairs["row"].to_numpy(), pairs["col"].to_numpy()
    direct = (np.abs(origins.along[r] - targets.along[t[c]]) + origins.distance[r]
              + targets.distance[t[c]])
    out[r, c] = np.minimum(out[r, c], direct)


def nearest_distances(net: WalkNetwork, points: Snap, *, limit: float = np.inf,
                      return_nearest: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Every node's network distance to the nearest of many snapped points, in one search.

    Each point becomes a virtual source node joined to its edge's two ends by ``cost_u`` and
    ``cost_v``; one ``dijkstra(min_only=True)`` from all of them gives each node's distance to
    the nearest point (the graph is symmetric, so "from" equals "to").

    Parameters
    ----------
    net
        The walking network.
    points
        Snapped points (e.g. all metro stations); invalid points are ignored.
    limit
        Search radius in metres.
    return_nearest
        Also return, for each node, the position (in ``points``) of its nearest point
        (``-1`` when none is within ``limit``).

    Returns
    -------
    distances : numpy.ndarray
        ``(n_nodes,)`` metres (``inf`` when none within ``limit``).
    nearest : numpy.ndarray
        Only with ``return_nearest``.
    """
    n = net.n_nodes
    keep = np.flatnonzero(points.valid)
    if len(keep) == 0:
        dist = np.full(n, np.inf)
        return (dist, np.full(n, -1, dtype=np.int64)) if return_nearest else dist
    k = len(keep)
    adj = net.adjacency
    # virtual rows n … n+k-1, each with edges to its point's two ends (u == v: one edge)
    cu, cv = points.cost_u[keep], points.cost_v[keep]
    pu, pv = points.u[keep], points.v[keep]
    same = pu == pv
    vrow_cols = np.where(same[:, None], np.column_stack([pu, pu]), np.column_stack([pu, pv]))
    vrow_vals = np.where(same[:, None], np.column_stack([np.minimum(cu, cv)] * 2),
                         np.column_stack([cu, cv]))
    counts = np.where(same, 1, 2)
    take = np.column_stack([np.ones(k, bool), ~same]).ravel()
    cols = vrow_cols.ravel()[take]
    vals = np.maximum(vrow_vals.ravel()[take], 0.0)
    # a zero cost would vanish from the sparse matrix: use the smallest positive float
    vals = np.where(vals > 0, vals, np.finfo(float).tiny)
    indptr = np.concatenate([adj.indptr.astype(np.int64),
                             adj.nnz + np.cumsum(counts, dtype=np.int64)])
    aug = sparse.csr_array((np.concatenate([adj.data, vals]),
                            np.concatenate([adj.indices.astype(np.int64), cols]), indptr),
                           shape=(n + k, n + k))
    res = csgraph.dijkstra(aug, directed=True, indices=np.arange(n, n + k), limit=limit,
                           min_only=True, return_predecessors=return_nearest)
    dist = np.asarray(res[0] if return_nearest else res)[:n].copy()
    dist[dist <= np.finfo(float).tiny] = 0.0  # the stand-in for a zero cost
    if not return_nearest:
        return dist
    src = np.asarray(res[2][:n], dtype=np.int64)
    nearest = np.where(src >= n, keep[np.clip(src - n, 0, k - 1)], -1)
    return dist, nearest
