#!/usr/bin/env bash
# Set up and run the main job: `cwsgeo build` on the default Barcelona data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/cwsgeo build "$@"
