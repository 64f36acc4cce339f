"""The build layer: project config, fetching inputs, the pipeline, caching and change reports.

Only this layer knows the order of the stages, the project folders and the caches
(:mod:`cwsgeo.build.cache`); it calls the analysis and output layers with plain data.
"""

from .config import Config
from .pipeline import BuildResult, build, geocode_file
from .sources import fetch
from .watch import watch

__all__ = ["BuildResult", "Config", "build", "fetch", "geocode_file", "watch"]
