"""Colours, labels and drawing order shared by the map pages."""

from __future__ import annotations

from ...analysis.density.classes import NODATA_COLOR, ZERO_COLOR

__all__ = [
    "INNOVATION_COLORS",
    "MANY_FEATURES",
    "METRIC_POPUP_FIELDS",
    "NODATA_COLOR",
    "OSM_TILES_ATTRIBUTION",
    "PLACE_COLORS",
    "PLACE_LABELS",
    "SPACE_POPUP_FIELDS",
    "TRANSIT_COLORS",
    "TRANSIT_LABELS",
    "ZERO_COLOR",
]

#: Symbol families: the spaces are large filled circles with a dark outline in a vivid, ordered
#: palette (gold, orange, crimson: hotter = more innovative) that no other layer uses; transit
#: stops are small squares in dark, cool line colours; places are small dots in a muted
#: palette. ``tests/test_maps_palette.py`` checks that the space colours stay far (CIE76 ΔE)
#: from every context colour. None = unclassified (dark grey).
INNOVATION_COLORS: dict[int | None, str] = {
    1: "#f2c500",
    2: "#f0701a",
    3: "#c2185b",
    None: "#3b3b3b",
}
#: Outline of the spaces' circles, and their radius (px) on each page.
SPACE_OUTLINE = "#111111"
#: Above this many features a layer is drawn on a canvas from compact data (no SVG element
#: per feature): spaces as canvas circles, walking areas as compact outlines.
MANY_FEATURES = 2000
SPACE_RADIUS: dict[str, float] = {"innovation": 8.0, "density": 4.5, "many": 3.5}

#: Colour and label of each transit mode: the generic modes of
#: :data:`cwsgeo.schema.TRANSIT_MODES` (``rail``: suburban and regional trains) and the modes
#: built-in city profiles add (Barcelona's ``fgc`` and ``rodalies``); any other mode is grey
#: with its own name. Small filled squares with a white outline; the order is the legend's.
TRANSIT_COLORS: dict[str, str] = {
    "metro": "#1f4e9c", "tram": "#1b8a7a", "rail": "#8a6d3b", "fgc": "#6d5a9e",
    "rodalies": "#8a6d3b", "bus": "#8c9aa6", "funicular": "#5d7f3a", "ferry": "#2f7fa8"}
TRANSIT_LABELS: dict[str, str] = {
    "metro": "Metro", "tram": "Tram", "rail": "Rail", "fgc": "FGC", "rodalies": "Rodalies",
    "bus": "Bus", "funicular": "Funicular", "ferry": "Ferry"}
#: Half the side of a stop's square (px); bus stops are dense and drawn smaller.
TRANSIT_RADIUS: dict[str, float] = {"bus": 2.5}
TRANSIT_DEFAULT_RADIUS = 4.5
#: Modes shown when the innovation map opens (bus stops are dense: off until asked for).
TRANSIT_SHOWN = tuple(m for m in TRANSIT_COLORS if m != "bus")

#: Colour and label of each place category (:data:`cwsgeo.schema.PLACE_CATEGORIES`): small
#: dots in a muted palette (food and drink in sand tones, culture and civic places in soft
#: blues and greens).
PLACE_COLORS: dict[str, str] = {
    "cafe": "#b39b86", "bar": "#c9b18a", "restaurant": "#d9c7a7", "terrace": "#cfd4b0",
    "culture_venue": "#a9a9cf", "library": "#9ebad3", "civic_centre": "#a9c9a4",
    "community_centre": "#c4d7a0", "nightclub": "#d1a9c4"}
PLACE_LABELS: dict[str, str] = {
    "cafe": "Café", "bar": "Bar", "restaurant": "Restaurant", "terrace": "Terrace",
    "culture_venue": "Culture venue", "library": "Library", "civic_centre": "Civic centre",
    "community_centre": "Community centre", "nightclub": "Nightclub"}
PLACE_RADIUS = 3.5

#: Metrics of :mod:`cwsgeo.analysis.proximity` shown in a space's popup when the columns exist.
METRIC_POPUP_FIELDS: dict[str, str] = {
    "metro_walk_min": "Walk to the nearest metro",
    "metro_nearest_stop": "Nearest metro station",
    "transit_any_walk_min": "Walk to any transit stop",
    "places_total_10min": "Places within 10 minutes' walk",
    "residents_10min": "Residents within 10 minutes' walk",
    "places_buzz": "Local buzz",
    "buzz_score": "Local buzz score",
    "proximity_method": "Walking distances",
}
#: Plain words for the values of ``proximity_method``.
PROXIMITY_METHOD_TEXT: dict[str, str] = {
    "network": "measured on the street network",
    "straight_line": "straight line (far from the network)",
}
#: Default popup of a space: column -> label (missing columns and empty values are skipped).
SPACE_POPUP_FIELDS: dict[str, str] = {
    "address": "Address", "district_name": "District", "barri_name": "Barri",
    "type_confirmed_text": "Innovation type", "type_estimated_text": "Estimated type",
    "geocode_status": "Address match", "location_method": "Located by",
    "location_text": "Location", "location_evidence": "From the listing text",
    **METRIC_POPUP_FIELDS}
#: Plain words for the values of ``geocode_status`` and ``location_method``.
LOCATION_TEXT: dict[str, str] = {
    "exact": "exact address", "nearest_number": "nearest house number",
    "street_only": "street only (no house number match)", "unmatched": "not found",
    "not_geocoded": "no address to look up", "gazetteer": "official street gazetteer",
    "nominatim": "OpenStreetMap Nominatim", "input": "coordinates in the inventory",
    "text_address": "address in its listing text",
    "text_intersection": "street corner named in its listing text",
    "text_station": "station named in its listing text",
    "text_landmark": "landmark named in its listing text",
    "text_area": "barri or district named in its listing text", "none": "not located"}
#: Why a space is missing from the map, by ``geocode_status`` of unlocated rows.
UNLOCATED_REASONS: dict[str, str] = {
    "not_geocoded": "no street address with a house number to look up",
    "unmatched": "address not found in the official street gazetteer",
}

#: Credit of the optional OpenStreetMap tile layer, and its address.
OSM_TILES_ATTRIBUTION = "© OpenStreetMap contributors"
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

#: Where a map opens (Barcelona) before it is fitted to the city.
CENTER = (41.395, 2.165)

#: Map panes (z-index): fixed drawing order whatever the order layers are switched on.
#: Leaflet's own: tiles 200, overlays (outlines, streets) 400, markers 600, tooltips 650.
PANES: dict[str, int] = {
    "cws-base": 300, "cws-choropleth": 350, "cws-hexes": 360, "cws-hotspots": 365,
    "cws-kernel": 370, "cws-walk": 380,
    "cws-points": 420, "cws-clusters": 430, "cws-labels": 440, "cws-spaces": 450}

#: Groups of the layer control, in order, and whether each is unfolded when the page opens.
LAYER_GROUPS: dict[str, bool] = {"Spaces": True, "Context": False, "Areas": True,
                                 "Statistics": True, "Basemap": False}
