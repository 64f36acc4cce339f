"""Reading walking networks: osmnx GraphML, OSM XML, the compact ``.npz`` form, or live OSM.

Nothing here keeps a cache or writes a file: :func:`read_network` parses the file it is given
every time. The build layer (:mod:`cwsgeo.build.sources`) stores the compact form of the street
graph next to it at fetch time and reads that instead.
"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ... import settings
from ..._errors import ConfigError, CwsgeoError, MissingDataError
from ..._http import call_live, osmnx_settings
from .model import MIN_EDGE_M, WalkNetwork

if TYPE_CHECKING:
    import networkx as nx
    from scipy import sparse

logger = logging.getLogger(__name__)

__all__ = ["GRAPH_SUFFIXES", "download_network", "is_walkable", "network_from_graph",
           "read_network"]

#: Suffixes read as a graph to parse (GraphML or OSM XML).
GRAPH_SUFFIXES = (".graphml", ".osm", ".xml")

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


def _symmetric_csr(u: np.ndarray, v: np.ndarray, length: np.ndarray,
                   n: int) -> tuple[sparse.csr_array, np.ndarray]:
    """Symmetric CSR of the shortest length between each pair (no self-loops).

    Also returns, for each undirected edge in :attr:`WalkNetwork.edge_u` order (by lower,
    then higher position), the index of the input edge kept (the first of the shortest).
    """
    from scipy import sparse

    kept = np.flatnonzero(u != v)
    lo, hi = np.minimum(u, v)[kept], np.maximum(u, v)[kept]
    length = np.maximum(length[kept], MIN_EDGE_M)
    order = np.lexsort((length, hi, lo))  # by (lo, hi), then shortest first (stable)
    lo, hi, length, kept = lo[order], hi[order], length[order], kept[order]
    first = np.ones(len(lo), dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, length, kept = lo[first], hi[first], length[first], kept[first]
    rows, cols = np.concatenate([lo, hi]), np.concatenate([hi, lo])
    vals = np.concatenate([length, length])
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sparse.csr_array((vals, cols.astype(np.int32), indptr), shape=(n, n)), kept


def _largest_component(net: WalkNetwork) -> WalkNetwork:
    from scipy import sparse
    from scipy.sparse import csgraph

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
    # positions keep their order, so the kept edges keep theirs
    names = None if net.edge_name is None else net.edge_name[keep[net.edge_u]]
    return WalkNetwork(node_ids=net.node_ids[idx], x=net.x[idx], y=net.y[idx], adjacency=adj,
                       crs=net.crs, source=net.source, edge_name=names)


def _name_text(value: Any) -> str | None:
    """Return an edge's ``name`` as text, or None.

    A list (osmnx keeps the names of merged ways as ``list(set(...))``, in no set order)
    becomes its distinct names sorted and joined with " / ", the same in every run.
    """
    if isinstance(value, (list, tuple, set)):
        return " / ".join(sorted({text for text in map(_name_text, value) if text})) or None
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return None
    return str(value).strip() or None


def network_from_graph(graph: nx.MultiDiGraph | nx.Graph, *, largest_component: bool = True,
                       source: str = "") -> WalkNetwork:
    """Build a :class:`WalkNetwork` from a networkx/osmnx graph.

    Parameters
    ----------
    graph
        Nodes with ``x``/``y`` in ``graph.graph["crs"]`` (default EPSG:4326); edges with
        ``length`` in metres (a missing length is replaced by the straight-line distance, with
        a warning) and optionally ``name`` (a list, as osmnx gives for merged ways, is sorted
        and joined with " / "; kept as :attr:`WalkNetwork.edge_name` when any edge has one).
        Edge directions are ignored: walking goes both ways; parallel edges keep the shortest.
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
    edges = list(graph.edges(data=True))
    u = np.fromiter((pos[e[0]] for e in edges), np.int64, len(edges))
    v = np.fromiter((pos[e[1]] for e in edges), np.int64, len(edges))
    length = np.array([np.nan if e[2].get("length") is None else float(e[2]["length"])
                       for e in edges], dtype=float)
    names = np.empty(len(edges), dtype=object)
    names[:] = [_name_text(e[2].get("name")) for e in edges]
    missing = ~np.isfinite(length)
    if missing.any():
        logger.warning("walking network %s: %d edges have no length; using straight lines",
                       source, missing.sum())
        length[missing] = np.hypot(xs[u[missing]] - xs[v[missing]],
                                   ys[u[missing]] - ys[v[missing]])
    adjacency, kept = _symmetric_csr(u, v, length, len(ids))
    has_names = any(name is not None for name in names)
    net = WalkNetwork(node_ids=node_ids, x=xs, y=ys, adjacency=adjacency,
                      crs=settings.crs_work, source=source,
                      edge_name=names[kept] if has_names else None)
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


def _walkable_way_ids(path: Path) -> set[int]:
    """Ids of the OSM ways in an OSM XML file whose tags pass :func:`is_walkable`."""
    ways: set[int] = set()
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "way":
            tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
            if is_walkable(tags):
                ways.add(int(elem.get("id", "0")))
            elem.clear()
    return ways


def _graph_from_osm_xml(path: Path) -> nx.MultiDiGraph:
    """Read OSM XML with osmnx and keep the ways of its ``network_type="walk"`` filter.

    The way tags are read from the file here (osmnx keeps only the few of its settings), and
    edges whose way (``osmid``) is not walkable are dropped before simplifying.
    """
    import osmnx as ox

    try:
        walkable = _walkable_way_ids(path)
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx/ElementTree raise many kinds on a bad file
        raise CwsgeoError(f"{path}: cannot read OSM XML: {type(exc).__name__}: {exc}") from None
    drop = [(u, v, k) for u, v, k, way in graph.edges(keys=True, data="osmid")
            if way not in walkable]
    logger.info("%s: %d of %d directed OSM edges are not walkable (osmnx 'walk' rules)",
                path.name, len(drop), graph.number_of_edges())
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n, deg in dict(graph.degree()).items() if deg == 0])
    if graph.number_of_edges() == 0:
        raise CwsgeoError(f"{path}: no walkable ways (highway=*) in this OSM file")
    return ox.simplify_graph(graph)


def _parse_graph(path: Path) -> nx.MultiDiGraph:
    """Parse a GraphML or OSM XML file into a networkx graph."""
    if path.suffix.lower() != ".graphml":
        return _graph_from_osm_xml(path)
    import osmnx as ox

    try:
        return ox.load_graphml(path)
    except Exception as exc:  # malformed XML, wrong attribute types …
        raise CwsgeoError(f"{path}: cannot read GraphML: {type(exc).__name__}: {exc}") from None


def _read_compact(path: Path) -> WalkNetwork:
    """Read a network stored with ``numpy.savez(file, **net.to_arrays())``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return WalkNetwork.from_arrays(npz)
    except (ValueError, OSError) as exc:
        raise CwsgeoError(f"{path}: not a cwsgeo walking network file ({exc})") from None
    except CwsgeoError as exc:
        raise CwsgeoError(f"{path}: {exc}") from None


def read_network(path: str | Path, *, largest_component: bool = True,
                 source: str | None = None) -> WalkNetwork:
    """Read a walking network from GraphML, OSM XML or the compact ``.npz`` form.

    Parameters
    ----------
    path
        ``.graphml`` (osmnx), ``.osm``/``.xml`` (OSM XML, cut down to osmnx's walking ways) or
        ``.npz`` (``numpy.savez`` of :meth:`WalkNetwork.to_arrays`).
    largest_component
        Keep only the largest connected component.
    source
        Description stored in :attr:`WalkNetwork.source` of a parsed graph (default: the file
        name and the start of its sha256). A compact file keeps its own.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    cwsgeo.MissingDataError
        If ``path`` does not exist.
    cwsgeo.ConfigError
        If the file type is not supported.
    cwsgeo.CwsgeoError
        If the file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(
            f"walking network not found: {path} (run `cwsgeo fetch`, or set [proximity] "
            "network in cwsgeo.toml)")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        net = _read_compact(path)
        return _largest_component(net) if largest_component else net
    if suffix not in GRAPH_SUFFIXES:
        raise ConfigError(f"{path}: unsupported walking network format {suffix!r} "
                          "(use .graphml, .osm, .xml or .npz)")
    if source is None:
        from ..._io import sha256_file

        source = f"{path.name} sha256:{sha256_file(path)[:16]}"
    started = time.perf_counter()
    net = network_from_graph(_parse_graph(path), largest_component=largest_component,
                             source=source)
    logger.info("walking network %s: %d nodes, %d edges, built in %.1f s", path.name,
                net.n_nodes, net.n_edges, time.perf_counter() - started)
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
