#!/usr/bin/env bash
# Build .whl/: the wheels benchmarks/gpu_check.sh installs on a GPU machine that has no
# internet. Run it here, from any folder, with a Python that has pip and internet access:
#
#     bash benchmarks/gpu_wheels.sh            # PYTHON=python3 by default
#
# The GPU machine's image holds Python 3.12, CuPy, numpy 2, PyTorch, OpenCV, matplotlib,
# Pillow, PyYAML, threadpoolctl, mpi4py and Chainer's own dependencies (six, filelock,
# protobuf, typing_extensions), but not Chainer. So .whl/ gets Chainer's sdist built into a
# (pure-Python) wheel, and every other requirement pinned in requirements.txt that is not in
# that list, as the wheel for CPython 3.12 on manylinux x86-64 (setuptools among them: the
# image's may be too new to hold pkg_resources, which chainer.testing imports).
#
# Carry it along with the working tree (.whl/ is ignored by git; it must stay under the
# 64 MiB a call may carry) and run the check there, e.g. with the device tool:
#
#     run(command="bash benchmarks/gpu_check.sh", carry=[".whl"], timeout_s=540)
#
# gpu_check.sh installs each wheel whose distribution the machine lacks with
#     python3 -m pip install --no-index --no-deps --target /tmp/gpu_check_site WHEELS
# and puts that folder first on PYTHONPATH; by hand: `pip install --no-index --find-links
# .whl chainer` (and the others) into the machine's Python or a venv made with
# --system-site-packages, which keeps the image's CuPy and PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# distributions of requirements.txt that the GPU image already has (any version)
IMAGE_HAS=" numpy pyyaml matplotlib pillow threadpoolctl opencv-python-headless "

rm -rf .whl
mkdir .whl
binary=()
while read -r requirement; do
    name=$(echo "${requirement%%==*}" | tr '[:upper:]_.' '[:lower:]--')
    case "$name" in
        chainer)
            # the sdist's setup.py needs setuptools < 74 in its build environment
            PIP_CONSTRAINT=$PWD/constraints.txt PIP_BUILD_CONSTRAINT=$PWD/constraints.txt \
                "$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir .whl "$requirement" ;;
        *) [[ "$IMAGE_HAS" == *" $name "* ]] || binary+=("$requirement") ;;
    esac
done < <(grep -E '^[A-Za-z0-9_.-]+==' requirements.txt | sed 's/[[:space:]]*#.*//')

if [ ${#binary[@]} -gt 0 ]; then
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest .whl \
        --python-version 3.12 --implementation cp --platform manylinux2014_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 "${binary[@]}"
fi
ls -l .whl
echo "$(du -sk .whl | cut -f1) KiB in .whl/ (carry limit: 65536 KiB with the working tree)"
