#!/usr/bin/env bash
# The GPU check (issue 19, item 6): every heavy step beside its baseline, one run, one device; see run_all.py.
# Usage: bench/gpu/run_all.sh [--smoke] [--device cuda|cpu] [--out FILE] [--skip gan,resnet,fid]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" bench/gpu/run_all.py "$@"
