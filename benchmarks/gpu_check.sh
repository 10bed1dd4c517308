#!/usr/bin/env bash
# The main job checked on this machine's GPU in one run (docs/speed.md, "Checking a GPU"):
#
#     bash benchmarks/gpu_check.sh          # on a GPU machine: within 7 minutes on an H100/H200
#     bash benchmarks/gpu_check.sh --cpu    # the same steps on the CPU at tiny sizes
#
# First installs, from .whl/ (made by benchmarks/gpu_wheels.sh, which says how to carry it),
# each wheel whose distribution this Python lacks, into $GPU_CHECK_SITE (default
# /tmp/gpu_check_site), put first on PYTHONPATH; then runs benchmarks/gpu_check.py, which
# prints every check as PASS, FAIL or SKIP and a summary table, also written to
# $OUT/gpu_check.md ($OUT: the device machine's output folder; else results/gpu_check/).
# PYTHON: the Python to use (default .venv/bin/python where it exists, else python3, which on
# the GPU machines is the one with CuPy and PyTorch). Other arguments go to gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
SITE=${GPU_CHECK_SITE:-/tmp/gpu_check_site}
export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
if [ -d .whl ]; then
    wheels=$("$PYTHON" benchmarks/gpu_check.py missing-wheels .whl)
    if [ -n "$wheels" ]; then
        echo "installing into $SITE:" $wheels
        "$PYTHON" -m pip install --quiet --no-index --no-deps --no-compile --target "$SITE" \
            $wheels
    fi
fi
exec "$PYTHON" benchmarks/gpu_check.py "$@"
