# Two commands (README): `make demo` trains the CPU demo; `make test` runs the tests.
# Both create the virtual environment first (Python >= 3.11, pip; no GPU needed);
# `make test` also installs the MPI of requirements-mpi.txt for the multi-process test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# chainer 7.8.1 is an sdist whose setup.py needs setuptools < 74 in its build
# environment; pip reads this constraint there through both variables
# (docs/install.md, "What was measured").
PIP_ENV := PIP_CONSTRAINT=$(CURDIR)/constraints.txt PIP_BUILD_CONSTRAINT=$(CURDIR)/constraints.txt

.PHONY: venv mpi demo test bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_ENV) $(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

mpi: $(VENV)/.mpi-installed

$(VENV)/.mpi-installed: $(VENV)/.installed requirements-mpi.txt
	$(PIP_ENV) $(VENV)/bin/pip install --quiet -r requirements-mpi.txt
	touch $@

# The demo runs its matrix products on one thread: a seed then gives the same
# run, and the previews of docs/demo.md, whatever the number of cores (the
# thread count changes the rounding of the sums, and so the course of a run);
# two threads are ~1.2x faster on an idle machine but ~3x slower on a busy one
# (docs/demo.md).
demo: venv
	OPENBLAS_NUM_THREADS=1 $(PY) train.py --config demo --gpu -1 --out results/demo

test: venv mpi
	$(PY) -m unittest discover -s tests -v

bench: venv
	$(PY) benchmarks/bench_train.py

clean:
	rm -rf $(VENV) results
