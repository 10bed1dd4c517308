# Two commands (README): `make demo` trains the CPU demo; `make test` runs the tests.
# Both create the virtual environment first (Python >= 3.11, pip; no GPU needed).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# chainer 7.8.1 is an sdist whose setup.py needs setuptools < 74 in its build
# environment; pip reads this constraint there through both variables (STACK.md).
PIP_ENV := PIP_CONSTRAINT=$(CURDIR)/constraints.txt PIP_BUILD_CONSTRAINT=$(CURDIR)/constraints.txt

.PHONY: venv demo test bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_ENV) $(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

demo: venv
	$(PY) train.py --config demo --gpu -1 --out results/demo

test: venv
	$(PY) -m unittest discover -s tests -v

bench: venv
	$(PY) benchmarks/bench_train.py

clean:
	rm -rf $(VENV) results
