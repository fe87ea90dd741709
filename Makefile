# fxhls: `make demo` and `make test` each set up everything they need on a fresh
# machine (Python 3.11, gcc and pip; PyPI reachable; yosys from apt when root).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fxhls-installed

.PHONY: setup yosys tclsh demo test clean

setup: $(STAMP) yosys tclsh

# yosys (resource reports) comes from the system's packages: installed here when
# running as root with apt-get (as CI does), otherwise the message says how.
yosys:
	@if ! command -v yosys >/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq yosys; \
	    else \
	        echo "fxhls needs yosys: run 'sudo apt-get install yosys' (Debian/Ubuntu) and retry" >&2; exit 1; \
	    fi; \
	fi

# tclsh runs the generated Vivado block design against a mock of Vivado's commands in
# the deploy tests; from the system's packages, like yosys.
tclsh:
	@if ! command -v tclsh >/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcl; \
	    else \
	        echo "fxhls's tests need tclsh: run 'sudo apt-get install tcl' (Debian/Ubuntu) and retry" >&2; exit 1; \
	    fi; \
	fi

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test,headers,sim]"
	touch $@

demo: setup
	$(BIN)/fxhls tools
	$(BIN)/python examples/fixed_point_tour.py
	$(BIN)/fxhls selfcheck

test: setup
	$(BIN)/python -m pytest -n 2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
