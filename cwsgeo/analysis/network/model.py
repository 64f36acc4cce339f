"""The compact walking network: node arrays and a symmetric CSR matrix of edge lengths.

See :mod:`cwsgeo.analysis.network` for what the network holds and why edges are snapped to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ... import settings
from ..._errors import CwsgeoError

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    import shapely
    from scipy import sparse
    from scipy.spatial import cKDTree

__all__ = ["COMPACT_VERSION", "MIN_EDGE_M", "WalkNetwork"]

#: Version of the compact layout (:meth:`WalkNetwork.to_arrays`) and of the rules that build a
#: network from a graph; bump it to invalidate every stored compact network.
#: 2: street names (``edge_name``).
COMPACT_VERSION = 2

#: Shortest edge length kept, in metres (a zero would be read as "no edge" by scipy).
MIN_EDGE_M = 1e-3

# nearest-edge search: sample spacing along edges (m) and samples queried per point
_SAMPLE_M = 10.0
_SAMPLE_K = 8


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
    edge_name
        Street name of each undirected edge, in the order of :attr:`edge_u` (an object array
        of ``str``, ``None`` for an unnamed edge), or ``None`` when the source has no names.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    adjacency: sparse.csr_array
    crs: str = field(default_factory=lambda: settings.crs_work)
    source: str = ""
    edge_name: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.node_ids)
        if not (len(self.x) == len(self.y) == n and self.adjacency.shape == (n, n)):
            raise ValueError("WalkNetwork arrays disagree in size: "
                             f"{n} ids, {len(self.x)} x, {len(self.y)} y, "
                             f"adjacency {self.adjacency.shape}")
        if self.edge_name is not None:
            loops = int(np.count_nonzero(self.adjacency.diagonal()))
            if len(self.edge_name) * 2 != self.adjacency.nnz - loops:
                raise ValueError(f"WalkNetwork has {len(self.edge_name)} edge names for "
                                 f"{(self.adjacency.nnz - loops) // 2} edges")

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
        from scipy import sparse

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
        from scipy.spatial import cKDTree

        return cKDTree(np.column_stack([self.x, self.y]))

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """``shapely.STRtree`` over the edges as straight segments."""
        import shapely

        return shapely.STRtree(self._edge_lines())

    @cached_property
    def _edge_samples(self) -> tuple[cKDTree, np.ndarray]:
        """``cKDTree`` of points every <= ``_SAMPLE_M`` along each edge, and their edge index."""
        from scipy.spatial import cKDTree

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
        unsure = (np.flatnonzero(dist[:, -1] <= radius[:, 0]) if k < tree.n
                  else np.zeros(0, dtype=np.int64))
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
        wanted = np.asarray(ids)
        pos = self._position.get_indexer(pd.Index(wanted))
        if (pos < 0).any():
            missing = wanted[pos < 0][:10].tolist()
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
        length of the drawn line), ``name`` (street name, categorical; only when the network
        has :attr:`edge_name`) and ``geometry`` in :attr:`crs`.
        """
        import geopandas as gpd

        columns: dict[str, Any] = {"u": self.node_ids[self.edge_u],
                                   "v": self.node_ids[self.edge_v],
                                   "length_m": self.edge_length}
        if self.edge_name is not None:
            columns["name"] = pd.Categorical(self.edge_name)
        return gpd.GeoDataFrame(columns, geometry=self._edge_lines(), crs=self.crs)

    def to_networkx(self) -> nx.Graph:
        """Return the network as an undirected ``networkx.Graph``.

        Nodes carry ``x``/``y``; edges ``length`` (and ``name`` when the network has names).
        """
        import networkx as nx

        graph = nx.Graph(crs=self.crs)
        for i, nid in enumerate(self.node_ids.tolist()):
            graph.add_node(nid, x=float(self.x[i]), y=float(self.y[i]))
        ids = self.node_ids
        graph.add_weighted_edges_from(
            zip(ids[self.edge_u].tolist(), ids[self.edge_v].tolist(),
                self.edge_length.tolist(), strict=True), weight="length")
        if self.edge_name is not None:
            nx.set_edge_attributes(graph, {
                (a, b): name for a, b, name in zip(ids[self.edge_u].tolist(),
                                                   ids[self.edge_v].tolist(),
                                                   self.edge_name.tolist(), strict=True)
                if name is not None}, "name")
        return graph

    # -- plain arrays ---------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Return the network as plain arrays (what :meth:`from_arrays` reads back).

        Keys: ``node_ids``, ``x``, ``y``, the CSR parts ``indptr``, ``indices``, ``data``,
        ``meta`` (a 0-d string array of JSON: :data:`COMPACT_VERSION`, ``crs``, ``source``)
        and, when the network has street names, ``name_code`` (an integer per edge, ``-1`` for
        none) and ``name_text`` (the distinct names, UTF-8, each after a NUL, as ``uint8``).
        ``numpy.savez(file, **net.to_arrays())`` stores it; ``numpy.load`` reads it back
        without pickles.
        """
        adj = self.adjacency
        meta = {"version": COMPACT_VERSION, "crs": self.crs, "source": self.source}
        arrays = {"node_ids": self.node_ids, "x": self.x, "y": self.y, "indptr": adj.indptr,
                  "indices": adj.indices, "data": adj.data, "meta": np.array(json.dumps(meta))}
        if self.edge_name is not None:
            codes, names = pd.factorize(pd.Series(self.edge_name, dtype=object))
            joined = "".join("\0" + str(name) for name in names)
            if joined.count("\0") != len(names):
                raise ValueError("a street name contains a NUL character")
            text = joined.encode("utf-8")
            arrays["name_code"] = codes.astype(np.int16 if len(names) < 2 ** 15 else np.int32)
            arrays["name_text"] = np.frombuffer(text, dtype=np.uint8)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> WalkNetwork:
        """Rebuild a network from :meth:`to_arrays` (or an ``.npz`` file opened with numpy).

        Raises
        ------
        cwsgeo.CwsgeoError
            If an array is missing or malformed, or the layout is of another
            :data:`COMPACT_VERSION`.
        """
        from scipy import sparse

        try:
            meta = json.loads(str(arrays["meta"]))
            version = meta.get("version")
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise CwsgeoError(f"not a cwsgeo walking network ({exc})") from None
        if version != COMPACT_VERSION:
            raise CwsgeoError(f"compact network version {version}, expected "
                              f"{COMPACT_VERSION}; rebuild it")
        try:
            node_ids = np.asarray(arrays["node_ids"])
            n = len(node_ids)
            adj = sparse.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]),
                                   shape=(n, n))
            return cls(node_ids=node_ids, x=np.asarray(arrays["x"]), y=np.asarray(arrays["y"]),
                       adjacency=adj, crs=meta["crs"], source=meta.get("source", ""),
                       edge_name=_decode_names(arrays))
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise CwsgeoError(f"not a cwsgeo walking network ({exc})") from None


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return ``starts[i], starts[i] + 1, … starts[i] + counts[i] - 1`` for each ``i``, joined.

    >>> concat_ranges(np.array([10, 3]), np.array([2, 3])).tolist()
    [10, 11, 3, 4, 5]
    """
    counts = np.asarray(counts, dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    return (np.repeat(np.asarray(starts, dtype=np.int64) - offsets, counts)
            + np.arange(int(counts.sum())))


def _decode_names(arrays: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Street names per edge from ``name_code``/``name_text`` (None when not stored)."""
    if "name_code" not in arrays:
        return None
    text = np.asarray(arrays["name_text"]).tobytes().decode("utf-8")
    names = text.split("\0")[1:]
    codes = np.asarray(arrays["name_code"])
    if codes.dtype.kind != "i" or (len(codes) and (codes.min() < -1 or codes.max() >= len(names))):
        raise ValueError("name_code does not index name_text")
    lookup = np.empty(len(names) + 1, dtype=object)
    lookup[:-1] = names  # code -1 picks the trailing None
    return lookup[codes]


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
