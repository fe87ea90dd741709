"""yosys `synth_xilinx -family xcup` (UltraScale+, the Ultra96-V2's family) on folded
dense layers: K-hot shift-add and binarized XNOR layers map to no DSP48E2, while the same
layer with multipliers does."""

from __future__ import annotations

import re
from pathlib import Path

from fxhls.fixed import FixedType as T
from fxhls.rtl.layers import ComputeLayer, compute_sources
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
