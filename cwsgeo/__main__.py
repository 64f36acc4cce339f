"""Allow ``python -m cwsgeo``."""

import sys

from .cli import main

sys.exit(main())
