# fxhls: `make demo` and `make test` each set up everything they need on a fresh
# machine (Python 3.11, gcc and pip; PyPI reachable).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fxhls-installed

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test,headers]"
	touch $@

demo: setup
	$(BIN)/fxhls tools
	$(BIN)/python examples/fixed_point_tour.py
	$(BIN)/fxhls selfcheck

test: setup
	$(BIN)/python -m pytest -n 2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
