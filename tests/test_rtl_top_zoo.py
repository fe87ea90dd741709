"""The generated RTL top of whole models (fxhls.rtl.writer) against the emulator, with ==.

QFX models (tests/qfx_models.py: K-hot dense layers and BatchNorm, a binary CNN with a
binary-scaled classifier, a CNN with K-hot BatchNorm, a residual add and pools; here: a
binarized max pool into an XNOR layer with a binary output), a graph with a lone cast,
and Brevitas QONNX models (a binary MLP whose input is signed
in hardware, a residual CNN) are written as RTL tops and simulated together in one
Verilator build (tests/rtl_top_bank.py) under random back-pressure on both streams. The
expected outputs are `fxhls.emulation.emulate` of each hardware graph; the RTL's outputs
are unpacked as the host unpacks them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from brevitas_models import exported
from qfx_models import qfx_zoo
from rtl_top_bank import bank_mismatches, build_bank, stream_bank, write_case
from torch import nn

from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor, infer_types
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.passes import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QConv2d, QFlatten, QInput, QLinear, QMaxPool2d, QSign
from fxhls.rtl.folding import RtlParallelism

SAMPLES = 3
# The zoo's models that reach every stage kind of the top; the others (mlp, narrowed
# accumulators, average pools alone) add no stage kind and a minute of Verilator build.
QFX = ("khot", "binary", "cnn")
BREVITAS = ("binary", "residual")
# Folded harder than the default rule would (a target of 1/4 the clocks' rate): more folds.
FOLDED = {"qfx_khot": 8}


def _qfx_graphs(folder):
    for name, model, shape in qfx_zoo():
        if name not in QFX:
            continue
        model.eval()
        path = folder / f"{name}.onnx"
        export_onnx(model, torch.randn(2, *shape), path)
        x = np.random.default_rng(len(name)).normal(size=(SAMPLES, *shape)) * 2
        yield f"qfx_{name}", lower_for_hardware(load_onnx(path)), x


def _binary_pool_graph(folder):
    """Sign -> max pool on one-bit values -> XNOR layer whose fused threshold is the output
    (one-bit values turned into ap_fixed<2,2> codes for the host)."""
    torch.manual_seed(2)
    model = nn.Sequential(QInput(), QConv2d(1, 4, 3), QSign(), QMaxPool2d(2), QFlatten(),
                          QLinear(16, 4, binary=True), QSign())
    export_onnx(model.eval(), torch.randn(2, 1, 6, 6), folder / "binary_pool.onnx")
    x = np.random.default_rng(7).normal(size=(SAMPLES, 1, 6, 6))
    return "qfx_binary_pool", lower_for_hardware(load_onnx(folder / "binary_pool.onnx")), x


def _lone_cast_graph():
    """The input cast, a lone cast to a narrower rounding saturating type, a ReLU."""
    tensors = {name: Tensor(name) for name in ("q", "c", "y")} | {"x": Tensor("x", (3, 2, 2))}
    nodes = [Node("Quantize", "input_cast", ["x"], ["q"], type_attrs(FixedType.parse("ap_fixed<8,3>"))),
             Node("Quantize", "narrow", ["q"], ["c"], type_attrs(FixedType.parse("ap_fixed<5,2,AP_RND,AP_SAT>"))),
             Node("Relu", "relu", ["c"], ["y"])]
    x = np.random.default_rng(8).normal(size=(SAMPLES, 3, 2, 2)) * 3
    return "ir_lone_cast", infer_types(Graph(nodes, tensors, ["x"], ["y"])), x


def _brevitas_graphs(folder):
    for name in BREVITAS:
        path, inputs = exported(name, folder)
        yield f"brevitas_{name}", lower_for_hardware(load_onnx(path)), inputs[:SAMPLES]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rtl_tops")
    cases = []
    graphs = [*_qfx_graphs(folder), _binary_pool_graph(folder), _lone_cast_graph(), *_brevitas_graphs(folder)]
    for name, graph, x in graphs:
        fps = FOLDED.get(name)
        parallelism = RtlParallelism(target_fps=250e6 / fps) if fps else None
        cases.append(write_case(name, graph, x, folder, parallelism))
    return cases, build_bank(cases, folder)


def test_generated_tops_equal_the_emulator_under_back_pressure(bank):
    cases, build_dir = bank
    assert bank_mismatches(build_dir, cases, pause=0.3, seed=5) == {case.name: 0 for case in cases}


def test_generated_tops_run_at_the_estimated_pace(bank):
    """Without back-pressure, samples leave at least every slowest compute layer's clocks
    (a steady-state bound the hardware cannot beat) and at most 25% + 4 clocks later than
    the slowest stage's estimate (regrouping and pipeline bubbles)."""
    cases, build_dir = bank
    results = stream_bank(build_dir, cases, pause=0.0)
    for case in cases:
        _, _, timing = results[case.name]
        layers = max((layer.cycles_per_sample for layer in case.rtl.layers), default=1)
        assert layers <= timing.interval <= 1.25 * case.rtl.cycles_per_sample + 4, \
            (case.name, timing, case.rtl.stage_cycles)
