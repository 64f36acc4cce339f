#!/usr/bin/env bash
# Make benchmarks/.venv-pandana: a separate virtual environment with pandana from PyPI, used only
# by benchmarks/network_search.py (through benchmarks/_pandana_run.py, run as a subprocess).
#
# pandana is AGPL-3.0 and cwsgeo is MIT: pandana is never a dependency of cwsgeo, never installed
# in the project's environment and never imported by the package. This venv holds pandana and
# its own numpy/pandas only.
#
# Usage: benchmarks/setup_pandana.sh            (PYTHON=python3.11 to pick the interpreter)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-pandana"
python="${PYTHON:-python3}"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "pandana>=0.7"
"$venv/bin/python" -c "import pandana, numpy, pandas; print('pandana', pandana.__version__, \
'numpy', numpy.__version__, 'pandas', pandas.__version__, 'in', '$venv')"
