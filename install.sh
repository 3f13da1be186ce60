#!/usr/bin/env bash
# One-command set-up: the Graphviz binary (when missing), a virtual environment in .venv,
# and graphviz-ad with its test tools.  Extra pip arguments are passed on, e.g.
#   ./install.sh '.[dev,oracle]'      # also PyTorch, as a second gradient oracle
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages still missing: the Graphviz binary and Python's venv module.
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        as_root=()
        if [ "$(id -u)" != 0 ]; then
            if ! command -v sudo >/dev/null 2>&1; then
                echo "install.sh: needs ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
                exit 1
            fi
            as_root=(sudo)
        fi
        echo "installing ${missing[*]} with apt-get"
        "${as_root[@]}" apt-get update -qq
        "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    elif [[ " ${missing[*]} " == *" python3-venv "* ]]; then
        echo "install.sh: Python's venv module is missing; install it with your system's" \
             "package manager" >&2
        exit 1
    else
        # Not Debian: graphviz-ad still works (pictures fall back to graphviz-pure).
        echo "install.sh: no Graphviz binary found; install it for PDF output and faster" \
             "layouts (macOS: brew install graphviz; Fedora: dnf install graphviz)" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e "${1:-.[dev]}"
echo "installed: run .venv/bin/graphviz-ad demo"
