#!/usr/bin/env bash
# Create .venv and install cwsgeo (with test extras when called with "test").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
  # system packages of the browser and QGIS tests (Debian): chromium, and QGIS's Python
  # bindings for the system Python (tests/test_qgis.py; QGIS is not a dependency of cwsgeo)
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  updated=""
  apt_install() {
    [ -n "$updated" ] || { $SUDO apt-get update -q >/dev/null; updated=1; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$@" >/dev/null
  }
  if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing Debian chromium for the browser tests" >&2
    apt_install chromium
  fi
  if ! QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
    echo "setup: installing Debian python3-qgis for the QGIS tests (~1 GB, ~1.5 min)" >&2
    apt_install --no-install-recommends python3-qgis qgis-providers
  fi
else
  .venv/bin/python -m pip install --quiet -e .
fi
