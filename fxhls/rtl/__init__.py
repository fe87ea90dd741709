"""The Verilog RTL backend: a library of parameterised modules (templates/rtl/), the
generated top, and resource reports from yosys."""
