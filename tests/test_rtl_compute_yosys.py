"""yosys `synth_xilinx -family xcup` (UltraScale+, the Ultra96-V2's family) on folded
dense layers: K-hot shift-add and binarized XNOR layers map to no DSP48E2, while the same
layer with multipliers does; a pipelined dot product keeps within the clock's LUT levels."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fxhls.fixed import FixedType as T
from fxhls.rtl.costs import dot_stage
from fxhls.rtl.layers import ComputeLayer, compute_sources
from fxhls.rtl.netlist import lut_levels
from fxhls.rtl.yosys import run_yosys
from rtl_compute_cases import Spec, make_case

FOLDED = dict(in_features=16, out_features=8, simd=4, pe=2)


def _cells(layer: ComputeLayer, work: Path) -> dict[str, int]:
    """The cell counts of `layer` after synthesis, flattened (so the ROM constants reach the lanes)."""
    source, report = work / f"{layer.name}.v", work / f"{layer.name}.stat"
    source.write_text(layer.render())
    files = " ".join(str(path) for path in [*compute_sources(), source])
    run_yosys(f"read_verilog -sv {files}\nsynth_xilinx -flatten -family xcup -noiopad -top {layer.name}\n"
              f"tee -q -o {report} stat")
    return {name: int(count) for name, count in re.findall(r"^\s+(\w+)\s+(\d+)$", report.read_text(), re.M)}


def _layer(name: str, x, weights, weight_type, threshold=False, out_type=T(8, 4)) -> ComputeLayer:
    spec = Spec(name, x, weights, weight_type, **FOLDED, bias_type=None if threshold else T(8, 3),
                out_type=None if threshold else out_type, threshold=threshold)
    return make_case(spec, 1, 0).layer


def test_khot_and_binary_layers_use_no_dsp_and_multipliers_do(tmp_path):
    multiplier = _cells(_layer("mvu_mul", T(8, 4), "mul", T(8, 2)), tmp_path)
    khot = _cells(_layer("mvu_khot", T(8, 4), ("khot", 2), T(8, 2)), tmp_path)
    xnor = _cells(_layer("mvu_xnor", "binary", "binary", T(2, 2), threshold=True), tmp_path)
    assert multiplier.get("DSP48E2", 0) == FOLDED["simd"] * FOLDED["pe"]
    assert khot.get("DSP48E2", 0) == 0 and khot.get("CARRY4", 0) > 0
    assert xnor.get("DSP48E2", 0) == 0 and xnor.get("CARRY4", 0) > 0


def _levels(layer: ComputeLayer, work: Path) -> int:
    """The longest path in LUT levels of `layer` synthesized as `fxhls report` does (each
    module mapped alone, then flattened)."""
    source, netlist = work / f"{layer.name}.v", work / f"{layer.name}.json"
    source.write_text(layer.render())
    reads = "\n".join(f"read_verilog -sv {path}" for path in [*compute_sources(), source])
    run_yosys(f"{reads}\nsynth_xilinx -family xcup -noiopad -top {layer.name}\nflatten\njson -o {netlist} {layer.name}")
    return lut_levels(json.loads(netlist.read_text())["modules"][layer.name]["cells"])


def test_a_pipelined_dot_product_keeps_within_the_clocks_lut_levels(tmp_path):
    """32 K-hot lanes (K=2, 3-bit shifts: 5 levels of products, then 5 adder levels) take
    more than the 8 LUT levels of 250 MHz in one clock; pipelined for 8 they fit."""
    spec = dict(in_features=64, out_features=2, simd=32, pe=1, bias_type=T(8, 3), out_type=T(8, 4))
    flat = make_case(Spec("mvu_flat", T(8, 4, False), ("khot", 2), T(8, 2), **spec), 1, 0).layer
    piped = make_case(Spec("mvu_piped", T(8, 4, False), ("khot", 2), T(8, 2), **spec,
                           dot_stage=dot_stage("khot", 32, 8, flat.mvu.lanes.k, flat.mvu.lanes.shift_bits)), 1, 0).layer
    assert (flat.mvu.lanes.k, flat.mvu.lanes.shift_bits, piped.mvu.dot_registers) == (2, 3, 1)
    assert _levels(flat, tmp_path) > 8 >= _levels(piped, tmp_path)
