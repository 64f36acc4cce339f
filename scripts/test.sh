#!/usr/bin/env bash
# Set up and run every test (unit, live-against-loopback, end-to-end, browser), ruff and mypy.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh test
.venv/bin/ruff check cwsgeo tests benchmarks
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
