"""Library-wide settings: one typed module-level value per knob.

Change them at run time like osmnx's settings, e.g. ``cwsgeo.settings.walk_speed_kmh = 4.5``.
Per-project paths (data mirror, inventory, output folders) live in the project config file
``cwsgeo.toml`` instead; see :mod:`cwsgeo.build.config`.

Attributes
----------
crs_work : str
    Projected CRS for every distance and area (ETRS89 / UTM 31N). Default ``"EPSG:25831"``.
crs_store : str
    Geographic CRS for stored outputs and maps. Default ``"EPSG:4326"``.
city_bbox : tuple[float, float, float, float]
    Loose (west, south, east, north) box around Barcelona used to spot swapped or foreign
    coordinates before the real boundary is loaded. Default ``(2.05, 41.31, 2.23, 41.47)``.
walk_speed_kmh : float
    Walking speed for minutes. Default ``4.8``.
walk_minutes : tuple[int, ...]
    Thresholds, in walking minutes, for counts of places and residents. Default ``(5, 10, 15)``.
snap_max_m : float
    A point farther than this from the street network gets straight-line values instead of
    network values (flagged ``method="straight_line"``). Default ``300``.
coord_mismatch_m : float
    A row's own coordinates are flagged when they lie farther than this from its geocoded address.
    Default ``250``.
user_agent : str
    HTTP User-Agent sent to Nominatim, Overpass and the open-data portal (their usage
    policies require a real one).
nominatim_url : str
    Base URL of the Nominatim server. Default ``"https://nominatim.openstreetmap.org/"``.
    osmnx pauses 1 s before each uncached request to it (Nominatim's usage policy: at most
    1 request per second), whatever the server.
overpass_url : str
    Base URL of the Overpass API. Default ``"https://overpass-api.de/api"``.
opendata_bcn_url : str
    Base URL of the Barcelona open-data portal (CKAN). Default
    ``"https://opendata-ajuntament.barcelona.cat/data"``.
http_timeout_s : float
    Timeout of one HTTP request, also sent to Overpass as its server-side ``[timeout:]``.
    Default ``180`` (osmnx's default).
http_retries : int
    Retries after a 429/5xx/timeout/malformed answer before giving up. Default ``4``.
http_backoff_s : float
    First back-off delay; doubles on each retry unless the server sends ``Retry-After``.
    Default ``2``.
http_max_wait_s : float
    Longest single wait honoured from a ``Retry-After`` header. Default ``120``.
statistics : bool
    Whether ``cwsgeo build`` computes the findings (Kd, co-location quotients, hot spots,
    comparisons by type) and writes the report, unless the project's ``[statistics] enabled``
    says otherwise. Default ``True``.
statistics_sims : int
    Monte Carlo simulations of every test (Kd bands, CLQ and LISA permutations), unless
    ``[statistics] n_sims`` is set. Default ``999``.
statistics_max_points : int
    Most spaces the point statistics (Kd, co-location quotients, middleground indicators and
    comparisons by type) run on, unless ``[statistics] max_points`` is set: above it they run
    on one random sample of this many precise points, drawn with the statistics' seed, and
    ``statistics.json``, the report and the build summary say so. Default ``2000``.
"""

from __future__ import annotations

crs_work: str = "EPSG:25831"
crs_store: str = "EPSG:4326"
city_bbox: tuple[float, float, float, float] = (2.05, 41.31, 2.23, 41.47)
walk_speed_kmh: float = 4.8
walk_minutes: tuple[int, ...] = (5, 10, 15)
snap_max_m: float = 300.0
coord_mismatch_m: float = 250.0
user_agent: str = "cwsgeo/0.1 (coworking geography toolkit; https://github.com/cwsgeo/cwsgeo)"
nominatim_url: str = "https://nominatim.openstreetmap.org/"
overpass_url: str = "https://overpass-api.de/api"
opendata_bcn_url: str = "https://opendata-ajuntament.barcelona.cat/data"
http_timeout_s: float = 180.0
http_retries: int = 4
http_backoff_s: float = 2.0
http_max_wait_s: float = 120.0
statistics: bool = True
statistics_sims: int = 999
statistics_max_points: int = 2000
