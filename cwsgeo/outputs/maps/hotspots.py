"""Hot spots (local Moran's I) of the density map: the "Statistics" group of its layer control.

Two layers, off when the page opens: H3 cells and neighbourhoods whose count of coworking spaces is
significantly clustered (:mod:`cwsgeo.analysis.stats.hotspots`). Only significant units are
drawn, in the colours of the PNG cluster figure
(:data:`cwsgeo.outputs.stat_figures.CLUSTER_COLORS`); the others are left out to keep the
page small. One legend, shown while either layer is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from folium.map import Layer

from ..._text import as_text
from ..labels import DEFAULT_LABELS, AreaLabels
from .display import DisplayStore, display_geojson
from .furniture import add_legend
from .layers import GeoJsonLayer
from .text import format_value, popup_html

__all__ = ["HOTSPOT_WORDS", "add_hotspots"]

#: Plain words for the significant clusters, in legend order.
HOTSPOT_WORDS: dict[str, str] = {
    "HH": "hot spot: many spaces among many",
    "HL": "many spaces among few",
    "LH": "few spaces among many",
    "LL": "cold spot: few spaces among few",
}
#: The two levels: (key of the mapping, simplification in metres).
_LEVELS = (("hexes", 0.0), ("barris", 8.0))
_REQUIRED = ("spaces", "lisa_I", "lisa_p_value", "lisa_cluster", "lisa_significant")


def _significant(units: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """Rows significant in a quadrant (``HH``/``HL``/``LH``/``LL``); checks the columns."""
    missing = [c for c in _REQUIRED if c not in units.columns]
    if missing:
        raise ValueError(f"hot spots {key!r}: missing column(s) {', '.join(missing)}")
    sig = units["lisa_significant"].fillna(False).astype(bool).to_numpy()
    cluster = units["lisa_cluster"].astype("string").fillna("")
    return units[sig & cluster.isin(list(HOTSPOT_WORDS)).to_numpy()]


def _format_p(p: Any) -> str | None:
    """``p = 0.003``; ``p < 0.001`` under a thousandth."""
    if p is None or pd.isna(p):
        return None
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def _title(row: Mapping[str, Any], key: str) -> str:
    if key == "hexes":
        return f"H3 cell {as_text(row.get('hex_id'))}"
    title = as_text(row.get("barri_name")) or as_text(row.get("barri_code"))
    district = as_text(row.get("district_name"))
    return f"{title} ({district})" if district else title


def _tips(units: gpd.GeoDataFrame, key: str) -> list[dict[str, Any]]:
    """Feature properties: escaped tooltip (popup_html) and fill colour."""
    from ..stat_figures import CLUSTER_COLORS  # one copy of the colours (PNG figure)

    props = []
    for row in units.drop(columns=units.geometry.name).to_dict("records"):
        cluster = str(row["lisa_cluster"])
        i_value = row.get("lisa_I")
        rows = [("Coworking spaces", format_value(row.get("spaces"), "spaces")),
                ("Local Moran's I", None if pd.isna(i_value) else f"{float(i_value):.2f}"),
                ("p-value", _format_p(row.get("lisa_p_value"))),
                ("Cluster", HOTSPOT_WORDS[cluster])]
        props.append({"tip": popup_html(_title(row, key), rows), "fc": CLUSTER_COLORS[cluster]})
    return props


def add_hotspots(m: folium.Map, hotspots: Mapping[str, gpd.GeoDataFrame],
                 store: DisplayStore | None = None,
                 labels: AreaLabels = DEFAULT_LABELS) -> list[Layer]:
    """Add the hot-spot layers (group "Statistics", off at load) and their legend.

    Parameters
    ----------
    m
        The map.
    hotspots
        Units keyed ``"hexes"`` (column ``hex_id``) and/or ``"barris"`` (``barri_code``,
        ``barri_name``), each with ``spaces``, ``lisa_I``, ``lisa_p_value``,
        ``lisa_cluster`` and ``lisa_significant`` (``Findings.hotspot_units`` of
        :mod:`cwsgeo.build.statistics`). Other keys are ignored.
    store
        Where display geometry is kept between builds.
    labels
        The city's words for its neighbourhoods (layer name, legend).

    Returns
    -------
    list of folium.map.Layer
        The layers added (none when ``hotspots`` has no known level).

    Raises
    ------
    ValueError
        When a table lacks one of the columns above (the message names it).
    """
    layers: list[Layer] = []
    counts: list[str] = []
    for key, tolerance in _LEVELS:
        units = hotspots.get(key)
        if units is None:
            continue
        sig = _significant(units, key)
        what = "H3 cells" if key == "hexes" else labels.plural(key)
        name = ("Hot spots — H3 cells (local Moran's I)" if key == "hexes"
                else f"Hot spots — {what}")
        counts.append(f"{len(sig):,} of {len(units):,} {what}")
        data = display_geojson(sig, (), tolerance_m=tolerance, properties=_tips(sig, key),
                               store=store)
        layer = GeoJsonLayer(data, name=name, pane="cws-hotspots", show=False,
                             group="Statistics",
                             style={"color": "#333333", "weight": 0.8, "opacity": 0.9,
                                    "fillOpacity": 0.75,
                                    "className": f"cws-hotspot cws-hotspot-{key}"})
        m.add_child(layer)
        layers.append(layer)
    if layers:
        from ..stat_figures import CLUSTER_COLORS

        items = [(CLUSTER_COLORS[c], words, None) for c, words in HOTSPOT_WORDS.items()]
        add_legend(m, "Hot spots of coworking spaces (local Moran's I)", items,
                   note=("Count of spaces per unit compared with its neighbours' "
                         "(permutation test); only significant units are drawn: "
                         + "; ".join(counts) + "."),
                   position="bottomright", shape="square", layers=layers,
                   css_class="cws-legend-hotspots")
    return layers
