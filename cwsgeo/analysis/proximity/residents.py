"""Residents on the walking network: census sections' population spread over address points.

See :func:`allocate_residents` for the method.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ... import settings
from ..._errors import CwsgeoError
from ..network import Snap, WalkNetwork, snap_points
from ._common import as_gdf, snap_xy, within_weights

logger = logging.getLogger(__name__)

__all__ = ["Residents", "allocate_residents"]


@dataclass(frozen=True, eq=False)
class Residents:
    """Residents placed on a walking network by :func:`allocate_residents`.

    Attributes
    ----------
    node_residents
        Residents at each network node (positions of the network the allocation used).
    offnet_xy
        ``(m, 2)`` coordinates of residents' points farther than ``snap_max_m`` from the
        network (counted in a straight line).
    offnet_residents
        Residents at those points.
    points
        Every allocation point: ``section_code``, ``residents``, ``source`` (``address``,
        ``address_pip``, ``address_nearest``, ``section_point``), ``snap_m``, ``on_network``,
        geometry (work CRS). Sections spread over their nodes have no points.
    report
        How much population went where (see :func:`allocate_residents`).
    n_nodes, network
        Size and :attr:`~cwsgeo.analysis.network.WalkNetwork.source` of the network used.
    """

    node_residents: np.ndarray
    offnet_xy: np.ndarray
    offnet_residents: np.ndarray
    points: gpd.GeoDataFrame
    report: pd.DataFrame
    n_nodes: int
    network: str = ""

    @functools.cached_property
    def _offnet_tree(self) -> Any:
        """``cKDTree`` of :attr:`offnet_xy`, built on first use (reused by every batch)."""
        from scipy.spatial import cKDTree

        return cKDTree(self.offnet_xy)

    @property
    def total(self) -> float:
        """All residents allocated (network nodes plus off-network points)."""
        return float(self.node_residents.sum() + self.offnet_residents.sum())

    def check(self, net: WalkNetwork) -> None:
        """Raise if this allocation was made on another network."""
        if self.n_nodes != net.n_nodes or (self.network and net.source
                                           and self.network != net.source):
            raise CwsgeoError(f"residents were allocated on another network ({self.n_nodes} "
                              f"nodes, {self.network!r}), not on {net!r}; run "
                              "allocate_residents again")

    def within(self, node_dist: np.ndarray, origin_xy: np.ndarray, radius: float,
               line_rows: np.ndarray | None = None, node_xy: np.ndarray | None = None,
               nodes: np.ndarray | None = None) -> np.ndarray:
        """Residents within ``radius`` metres of origins.

        Network nodes count when ``node_dist <= radius`` (rows of node distances); rows listed
        in ``line_rows`` use straight lines to the nodes instead (``node_xy`` needed).
        Off-network residents always count in a straight line from ``origin_xy``.
        ``nodes``, when given, are the node positions of the columns of ``node_dist`` (the
        only nodes any network row reaches; the others are beyond every row's reach).
        """
        weights = self.node_residents if nodes is None else self.node_residents[nodes]
        # with nodes, the mask in Fortran order (as ``rows[:, nodes]`` gives it): the product
        # then sums in the same order as when the columns were picked from every node's
        order: Literal["K", "F"] = "K" if nodes is None else "F"
        reached = (node_dist <= radius).astype(np.float64, order=order) @ weights
        if line_rows is not None and len(line_rows):
            if node_xy is None:
                raise ValueError("node_xy is needed with line_rows")
            reached[line_rows] = within_weights(node_xy, self.node_residents,
                                                 origin_xy[line_rows], radius)[:, 0]
        if len(self.offnet_residents):
            ok = np.flatnonzero(np.isfinite(origin_xy).all(axis=1))
            reached[ok] += within_weights(self.offnet_xy, self.offnet_residents,
                                           origin_xy[ok], radius, tree=self._offnet_tree)[:, 0]
        return reached


def _addresses_gdf(addresses: pd.DataFrame, section_col: str, crs: str) -> gpd.GeoDataFrame:
    if isinstance(addresses, gpd.GeoDataFrame):
        gdf = as_gdf(addresses, "addresses").to_crs(crs)
    else:
        if not {"lat", "lon"} <= set(addresses.columns):
            raise CwsgeoError("addresses need a geometry or lat/lon columns")
        gdf = gpd.GeoDataFrame(
            addresses, geometry=gpd.points_from_xy(pd.to_numeric(addresses["lon"]),
                                                   pd.to_numeric(addresses["lat"])),
            crs=settings.crs_store).to_crs(crs)
    if section_col not in gdf.columns:
        raise CwsgeoError(f"addresses: missing column {section_col!r}")
    return gdf[~(gdf.geometry.is_empty | gdf.geometry.isna())]


def allocate_residents(sections: gpd.GeoDataFrame, addresses: pd.DataFrame, net: WalkNetwork,
                       *, section_col: str = "section_code", population_col: str = "population",
                       address_section_col: str = "census_section",
                       snap_max_m: float | None = None) -> Residents:
    """Put each census section's residents on the walking network, conserving the total.

    Method
    ------
    1. **Address points.** Each address point belongs to its recorded census section
       (``address_section_col``). Points with a blank or unknown code take the section
       polygon that contains them (point in polygon) or, failing that (coast and port
       edges), the nearest polygon.
    2. **Equal split.** A section's population is divided equally among its address points
       (a portal point stands for one building entrance; the padró gives no finer count).
    3. **Sections without address points** spread their population equally over the network
       nodes inside their polygon; with no node inside, it goes to the polygon's
       representative point (always inside the polygon).
    4. **Onto the network.** Each point is snapped to its nearest street segment
       (:func:`cwsgeo.analysis.network.snap_points`) and its residents are split between the
       segment's two end nodes in proportion to closeness (``1 - t`` to ``u``, ``t`` to ``v``
       for a point at fraction ``t`` along it). Points farther than ``snap_max_m`` from the
       network (in Barcelona: the Zona Franca and parts of Vallvidrera, which are outside
       the largest connected component) keep their position and are counted in a straight line.

    The sum over nodes and off-network points equals the sum of ``population`` (checked).

    Parameters
    ----------
    sections
        Census sections with ``section_col`` and ``population_col``.
    addresses
        Address points: a GeoDataFrame, or a DataFrame with ``lat``/``lon`` (EPSG:4326),
        with ``address_section_col``.
    net
        The walking network.
    section_col, population_col, address_section_col
        Column names.
    snap_max_m
        Snap limit (default :data:`cwsgeo.settings.snap_max_m`).

    Returns
    -------
    Residents
        With a ``report`` table: one row per step (``stage``, ``item``, ``points``,
        ``sections``, ``residents``, ``share``).
    """
    sec = _checked_sections(sections, net.crs, section_col, population_col)
    total_in = float(sec[population_col].sum())
    addr = _addresses_gdf(addresses, address_section_col, net.crs)
    code, source = _section_of_addresses(addr, sec, section_col, address_section_col)
    counts = code.value_counts()
    per_addr = sec.set_index(section_col)[population_col] / counts.reindex(
        sec[section_col]).to_numpy()
    pts = gpd.GeoDataFrame({"section_code": code.to_numpy(),
                            "residents": per_addr.reindex(code.to_numpy()).to_numpy(),
                            "source": source.to_numpy()},
                           geometry=addr.geometry.to_numpy(), crs=net.crs)
    empty = sec[~sec[section_col].isin(counts.index)]
    spread = _spread_sections_without_addresses(empty, net, section_col, population_col)
    if len(spread.points):
        pts = pd.concat([pts, spread.points], ignore_index=True)
    pts = pts[pts["residents"] > 0].reset_index(drop=True) if len(pts) else pts
    node_res = spread.node_residents
    snap = snap_points(net, pts.geometry, snap_max_m=snap_max_m)
    pts["snap_m"] = snap.distance
    pts["on_network"] = snap.on_network
    res = pts["residents"].to_numpy(dtype=float)
    _split_between_segment_ends(node_res, snap, res, net)
    on = snap.on_network
    off_xy, off_res = snap_xy(snap)[~on], res[~on]
    total_out = float(node_res.sum() + off_res.sum())
    if not np.isclose(total_out, total_in, rtol=1e-9, atol=1e-6):
        raise CwsgeoError(f"residents allocation lost people: {total_in:,.1f} in, "
                          f"{total_out:,.1f} out")
    report = _allocation_report(pts, on, spread, total_in, total_out, len(sec),
                                snap_max_m or settings.snap_max_m)
    logger.info("residents: %.0f allocated; %.0f (%.2f %%) off the network", total_out,
                off_res.sum(), 100 * off_res.sum() / total_in if total_in else 0)
    return Residents(node_residents=node_res, offnet_xy=off_xy, offnet_residents=off_res,
                     points=pts, report=report, n_nodes=net.n_nodes, network=net.source)


def _checked_sections(sections: gpd.GeoDataFrame, crs: str, section_col: str,
                      population_col: str) -> gpd.GeoDataFrame:
    """Sections in ``crs`` with stripped unique codes and a float, non-negative population."""
    sections = as_gdf(sections, "sections").to_crs(crs)
    for col in (section_col, population_col):
        if col not in sections.columns:
            raise CwsgeoError(f"sections: missing column {col!r}")
    sec = sections[[section_col, population_col, "geometry"]].copy()
    sec[section_col] = sec[section_col].astype(str).str.strip()
    if sec[section_col].duplicated().any():
        dup = sec.loc[sec[section_col].duplicated(), section_col].tolist()[:5]
        raise CwsgeoError(f"sections: duplicated {section_col} {dup}")
    pop = pd.to_numeric(sec[population_col], errors="coerce")
    if pop.isna().any() or (pop < 0).any():
        bad = sec.loc[pop.isna() | (pop < 0), section_col].tolist()[:5]
        raise CwsgeoError(f"sections: {population_col} missing or negative for {bad}")
    sec[population_col] = pop.astype(float)
    return sec


def _section_of_addresses(addr: gpd.GeoDataFrame, sec: gpd.GeoDataFrame, section_col: str,
                          address_section_col: str) -> tuple[pd.Series, pd.Series]:
    """Each address's section code and how it was found (step 1 of the method).

    The recorded code when it is a known section (``address``), else the polygon containing
    the point (``address_pip``), else the nearest polygon (``address_nearest``).
    """
    code = addr[address_section_col].astype("string").str.strip()
    known = code.isin(set(sec[section_col]))
    source = pd.Series(np.where(known, "address", ""), index=addr.index, dtype=object)
    code = code.where(known)
    n_unknown_code = int((~known & code.notna()).sum())
    if (~known).any():
        loose = addr.loc[~known, ["geometry"]]
        hit = gpd.sjoin(loose, sec[[section_col, "geometry"]], how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        inside = hit[section_col].notna()
        code.loc[hit.index[inside]] = hit.loc[inside, section_col]
        source.loc[hit.index[inside]] = "address_pip"
        rest = hit.index[~inside]
        if len(rest):
            near = gpd.sjoin_nearest(addr.loc[rest, ["geometry"]],
                                     sec[[section_col, "geometry"]], how="left")
            near = near[~near.index.duplicated(keep="first")]
            code.loc[near.index] = near[section_col]
            source.loc[near.index] = "address_nearest"
    if n_unknown_code:
        logger.info("addresses: %d codes not among the sections were re-assigned by location",
                    n_unknown_code)
    return code, source


@dataclass
class _Spread:
    """Sections without address points: residents put on their nodes, or points."""

    node_residents: np.ndarray
    points: gpd.GeoDataFrame
    n_sections_on_nodes: int = 0
    residents_on_nodes: float = 0.0


def _spread_sections_without_addresses(empty: gpd.GeoDataFrame, net: WalkNetwork,
                                       section_col: str, population_col: str) -> _Spread:
    """Step 3 of the method: equal shares on the nodes inside, else the representative point."""
    node_res = np.zeros(net.n_nodes)
    extra_rows = []
    n_sections, residents = 0, 0.0
    if len(empty):
        nodes = net.nodes_gdf()
        inside = gpd.sjoin(nodes[["geometry"]], empty[[section_col, "geometry"]],
                           how="inner", predicate="within")
        inside = inside[~inside.index.duplicated(keep="first")]
        by_sec = inside.groupby(section_col).groups
        for _, row in empty.iterrows():
            sc, p = row[section_col], float(row[population_col])
            if sc in by_sec and len(by_sec[sc]):
                idx = np.asarray(by_sec[sc], dtype=np.int64)
                np.add.at(node_res, idx, p / len(idx))
                n_sections += 1
                residents += p
            else:
                extra_rows.append({"section_code": sc, "residents": p,
                                   "source": "section_point",
                                   "geometry": row.geometry.representative_point()})
    points = (gpd.GeoDataFrame(extra_rows, geometry="geometry", crs=net.crs) if extra_rows
              else gpd.GeoDataFrame(geometry=[], crs=net.crs))
    return _Spread(node_res, points, n_sections, residents)


def _split_between_segment_ends(node_res: np.ndarray, snap: Snap, res: np.ndarray,
                                net: WalkNetwork) -> None:
    """Step 4: add on-network residents to their segment's ends (``1 - t`` to u, ``t`` to v)."""
    on = snap.on_network
    length = np.where(snap.edge >= 0, net.edge_length[np.maximum(snap.edge, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length > 0, snap.along / length, 0.0)
    np.add.at(node_res, snap.u[on], res[on] * (1.0 - t[on]))
    np.add.at(node_res, snap.v[on], res[on] * t[on])


def _allocation_report(pts: gpd.GeoDataFrame, on: np.ndarray, spread: _Spread,
                       total_in: float, total_out: float, n_sections: int,
                       snap_max_m: float) -> pd.DataFrame:
    """One row per step: ``stage``, ``item``, ``points``, ``sections``, ``residents``, ``share``."""
    res = pts["residents"].to_numpy(dtype=float)

    def row(stage: str, item: str, mask: np.ndarray | None, residents: float | None = None,
            sections: int | None = None, points: int | None = None) -> dict[str, Any]:
        if mask is not None:
            residents = float(res[mask].sum())
            points = int(mask.sum())
            sections = int(pts.loc[mask, "section_code"].nunique())
        return {"stage": stage, "item": item, "points": points, "sections": sections,
                "residents": residents, "share": (residents or 0.0) / total_in
                if total_in else np.nan}

    src = pts["source"].to_numpy()
    on_nodes = ("sections without addresses: their network nodes", None,
                spread.residents_on_nodes, spread.n_sections_on_nodes, 0)
    rows = [
        row("section", "address points, recorded section", src == "address"),
        row("section", "address points, section by point in polygon", src == "address_pip"),
        row("section", "address points, nearest section polygon", src == "address_nearest"),
        row("section", *on_nodes),
        row("section", "sections without addresses: representative point",
            src == "section_point"),
        row("network", "on the network (split between segment ends)", on),
        row("network", *on_nodes),
        row("network", f"farther than {snap_max_m:g} m from the network (straight line)", ~on),
        row("total", "population of the sections", None, total_in, n_sections, None),
        row("total", "allocated", None, total_out, n_sections, len(pts)),
    ]
    return pd.DataFrame(rows).astype({"points": "Int64", "sections": "Int64"})
