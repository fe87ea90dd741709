"""The RTL's fold within the board's budget (`fxhls.rtl.budget`, `fxhls.rtl.costs`) and the
dot products' pipelines within the clock's LUT levels, on the generated tops (no simulation:
`tests/test_rtl_top_intervals.py` co-simulates these folds)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from fxhls.board import load_board
from fxhls.deploy.interface import stream_interface
from fxhls.ir.passes import lower_for_hardware, split_host_edges
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QInput, QLinear, QReLU
from fxhls.rtl.budget import HEADROOM, Budget, FoldEstimate
from fxhls.rtl.costs import dot_stage, layer_luts
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.stage_rows import read_stage_rows, rtl_summary
from fxhls.rtl.writer import write_rtl

MNIST = "examples/models/mnist_khot_cnn"


def _mnist():
    graph = load_onnx(f"{MNIST}.onnx")
    split_host_edges(graph)
    return lower_for_hardware(graph)


def _write(graph, folder, board="ultra96v2", clock=250, **options):
    return write_rtl(graph, stream_interface(graph, "top", board, clock), folder, RtlParallelism(**options))


def test_mnist_default_is_the_fastest_fold_within_the_lut_budget(tmp_path):
    """A window a clock (784 clocks) needs conv2 at 288 K-hot lanes: over 70% of the
    Ultra96-V2's LUTs; the default is the next interval, 1,176 clocks (conv2 SIMD 24 x PE 8)."""
    graph = _mnist()
    rtl = _write(graph, tmp_path)
    assert rtl.cycles_per_sample == 1176
    assert {layer.name: (layer.mvu.simd, layer.mvu.pe) for layer in rtl.layers} == {
        "top_0_conv1_Conv": (9, 8), "top_5_conv2_Conv": (24, 8), "top_10_fc_Gemm": (7, 1)}
    budget = Budget.of_board(load_board("ultra96v2").resources)
    assert budget.lut == int(70_560 * (1 - HEADROOM))
    estimate = FoldEstimate(graph, [n for n in graph.nodes if n.op in ("Conv", "Gemm")], RtlParallelism(), 8)
    assert estimate.at(784)["lut"] > budget.lut >= estimate.at(1176)["lut"]
    assert estimate.at(1176)["lut"] == sum(layer_luts(layer) for layer in rtl.layers)
    luts = sum(layer_luts(layer) for layer in rtl.layers)
    assert rtl_summary(read_stage_rows(tmp_path, "top"), 250) == (
        f"RTL: 1176 clocks per sample (212,585 samples/s at 250 MHz), compute layers an estimated {luts:,} LUT "
        f"and 0 DSP slices")


def test_a_target_beyond_the_budget_names_the_best_within_it_and_the_resource(tmp_path):
    with pytest.raises(ValueError, match=r"^a target of 318,000 FPS \(786 clocks per sample\) needs an estimated "
                                         r"[\d,]+ LUT in the RTL's compute layers, over the budget of 49,392 \(70% of "
                                         r"the ultra96v2's 70,560\): the best within it is 212,585 FPS \(1176 clocks "
                                         r"per sample\)$"):
        _write(_mnist(), tmp_path, target_fps=318_000)
    assert _write(_mnist(), tmp_path, target_fps=212_585).cycles_per_sample == 1176


def test_multiplier_layers_fold_within_the_dsp_budget(tmp_path):
    """A 32-16 multiplier layer (512 products) on a board of 100 DSP slices (70 in the
    budget): the default takes at most 70 lanes; a target needing more is refused, naming
    the DSP slices."""
    export_onnx(nn.Sequential(QInput(), QLinear(32, 16), QReLU()).eval(), torch.randn(2, 32), tmp_path / "m.onnx")
    graph = lower_for_hardware(load_onnx(tmp_path / "m.onnx"))
    small = dataclasses.replace(load_board("ultra96v2"), resources={"lut": 70_560, "ff": 141_120, "dsp": 100, "bram36": 216})
    rtl = _write(graph, tmp_path, small)
    (layer,) = rtl.layers
    assert layer.mvu.lanes.kind == "mul" and layer.mvu.simd * layer.mvu.pe <= 70
    assert layer.mvu.simd * layer.mvu.pe * rtl.cycles_per_sample >= 512
    with pytest.raises(ValueError, match=r"needs an estimated 512 DSP slices in the RTL's compute layers, over the "
                                         r"budget of 70 \(70% of the ultra96v2's 100\): the best within it is "):
        _write(graph, tmp_path, small, target_fps=250e6)


def test_dot_products_pipeline_to_the_clock():
    """K-hot products (K=2, 3-bit shifts) take 5 LUT levels, then one per adder level: 72
    lanes (7 levels) need a register at 250 MHz (8 levels), none at 100 MHz (20); XNOR
    adds a level after its popcount."""
    assert dot_stage("khot", 72, 8, k=2, shift_bits=3) == 8
    assert dot_stage("khot", 72, 20, k=2, shift_bits=3) == 0
    assert dot_stage("khot", 8, 8, k=2, shift_bits=3) == 0
    assert dot_stage("xnor", 128, 8) == 7 and dot_stage("xnor", 64, 8) == 0
    assert dot_stage("mul", 512, 4) == 4


def test_mnist_pipelines_its_wide_convolutions_at_250_mhz_only(tmp_path):
    graph = _mnist()
    fast = _write(graph, tmp_path / "250")
    slow = _write(graph, tmp_path / "100", clock=100, target_fps=100e6 / 1176)
    assert [layer.mvu.dot_registers for layer in fast.layers] == [1, 1, 0]
    assert [layer.mvu.dot_registers for layer in slow.layers] == [0, 0, 0]
