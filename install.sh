#!/usr/bin/env bash
# One-command set-up on Debian/Ubuntu: the Graphviz binary, a virtual environment in .venv,
# and graphviz-ad with its test tools.  Extra pip arguments are passed on, e.g.
#   ./install.sh '.[dev,oracle]'      # also PyTorch, as a second gradient oracle
set -euo pipefail
cd "$(dirname "$0")"
as_root=""
[ "$(id -u)" = 0 ] || as_root="sudo"
if command -v apt-get >/dev/null 2>&1; then
    $as_root apt-get update -qq
    $as_root apt-get install -y -qq graphviz python3-venv >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e "${1:-.[dev]}"
echo "installed: run .venv/bin/graphviz-ad demo"
