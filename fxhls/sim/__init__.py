"""Runners for the tools that check a design: g++ with the ap_fixed headers, Verilator, cocotb."""
