"""Colours, labels and drawing order shared by the map pages."""

from __future__ import annotations

__all__ = [
    "INNOVATION_COLORS",
    "METRIC_POPUP_FIELDS",
    "OSM_TILES_ATTRIBUTION",
    "PLACE_COLORS",
    "PLACE_LABELS",
    "SPACE_POPUP_FIELDS",
    "TRANSIT_COLORS",
    "TRANSIT_LABELS",
]

#: Colour of each innovation type (ColorBrewer Dark2, colour-blind safe); None = unclassified.
INNOVATION_COLORS: dict[int | None, str] = {
    1: "#d95f02",
    2: "#7570b3",
    3: "#1b9e77",
    None: "#6b6b6b",
}

#: Colour and label of each transit mode (the modes of :data:`cwsgeo.schema.TRANSIT_MODES`).
TRANSIT_COLORS: dict[str, str] = {
    "metro": "#d7191c", "tram": "#1a9850", "fgc": "#f46d43", "rodalies": "#7b3294",
    "bus": "#2c7bb6", "funicular": "#8c510a"}
TRANSIT_LABELS: dict[str, str] = {
    "metro": "Metro", "tram": "Tram", "fgc": "FGC", "rodalies": "Rodalies", "bus": "Bus",
    "funicular": "Funicular"}
TRANSIT_RADIUS: dict[str, float] = {"bus": 2.5}
#: Modes shown when the innovation map opens (bus stops are dense: off until asked for).
TRANSIT_SHOWN = ("metro", "tram", "fgc", "rodalies", "funicular")

#: Colour and label of each place category (:data:`cwsgeo.schema.PLACE_CATEGORIES`).
PLACE_COLORS: dict[str, str] = {
    "cafe": "#8c510a", "bar": "#e08214", "restaurant": "#fdb863", "terrace": "#fee0b6",
    "culture_venue": "#8073ac", "library": "#2166ac", "civic_centre": "#1b7837",
    "community_centre": "#7fbc41", "nightclub": "#c51b7d"}
PLACE_LABELS: dict[str, str] = {
    "cafe": "Café", "bar": "Bar", "restaurant": "Restaurant", "terrace": "Terrace",
    "culture_venue": "Culture venue", "library": "Library", "civic_centre": "Civic centre",
    "community_centre": "Community centre", "nightclub": "Nightclub"}

#: Metrics of :mod:`cwsgeo.analysis.proximity` shown in a space's popup when the columns exist.
METRIC_POPUP_FIELDS: dict[str, str] = {
    "metro_walk_min": "Walk to the metro",
    "metro_nearest_stop": "Nearest metro station",
    "transit_any_walk_min": "Walk to any transit stop",
    "places_total_10min": "Places within 10 min",
    "residents_10min": "Residents within 10 min",
    "places_buzz": "Local buzz",
    "buzz_score": "Local buzz score",
    "proximity_method": "Walking distances",
}
#: Default popup of a space: column -> label (missing columns and empty values are skipped).
SPACE_POPUP_FIELDS: dict[str, str] = {
    "address": "Address", "district_name": "District", "barri_name": "Barri",
    "innovation_label": "Innovation type", "geocode_status": "Geocode status",
    "location_method": "Located by", **METRIC_POPUP_FIELDS}

#: Credit of the optional OpenStreetMap tile layer.
OSM_TILES_ATTRIBUTION = "© OpenStreetMap contributors"

#: Where a map opens (Barcelona) before it is fitted to the city.
CENTER = (41.395, 2.165)

#: Map panes (z-index): fixed drawing order whatever the order layers are switched on.
#: Leaflet's own: tiles 200, overlays (outlines, streets) 400, markers 600, tooltips 650.
PANES: dict[str, int] = {
    "cws-base": 300, "cws-choropleth": 350, "cws-hexes": 360, "cws-kernel": 370, "cws-walk": 380,
    "cws-points": 420, "cws-clusters": 430, "cws-spaces": 450}
