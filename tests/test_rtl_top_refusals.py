"""What the generated RTL top refuses, in one line naming the node (no simulation)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fxhls.deploy.interface import stream_interface
from fxhls.ir.passes import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QConv2d, QFlatten, QInput, QLinear, QReLU
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.writer import write_rtl


def _graph(model, shape, folder):
    export_onnx(model.eval(), torch.randn(2, *shape), folder / "model.onnx")
    return lower_for_hardware(load_onnx(folder / "model.onnx"))


def _write(graph, folder, parallelism=None):
    design = stream_interface(graph, "refused", "ultra96v2", 250)
    return write_rtl(graph, design, folder, parallelism)


def test_folding_that_does_not_divide_the_layer_is_refused(tmp_path):
    graph = _graph(nn.Sequential(QInput(), QLinear(6, 4), QReLU()), (6,), tmp_path)
    gemm = next(node for node in graph.nodes if node.op == "Gemm")
    with pytest.raises(ValueError, match=f"^layer '{gemm.name}': SIMD x PE 4 x 1 is no fold of it: SIMD is a divisor "
                                         r"of its inputs \(1, 2, 3, 6\), PE a divisor of its 4 outputs \(1, 2, 4\)$"):
        _write(graph, tmp_path, RtlParallelism(layers={gemm.name: (4, 1)}))
    with pytest.raises(ValueError, match="no Gemm or Conv 'dense9'.*" + gemm.name):
        _write(graph, tmp_path, RtlParallelism(layers={"dense9": (1, 1)}))


def test_the_default_rule_balances_layers_to_the_slowest(tmp_path):
    """Without a target, the conv (at best a 3x3 window a clock, bound by its input's 7x7
    pixels) sets the pace and the dense layer folds to the least parallelism that keeps it."""
    graph = _graph(nn.Sequential(QInput(), QConv2d(1, 2, 3), QReLU(), QFlatten(), QLinear(50, 4)), (1, 7, 7), tmp_path)
    rtl = _write(graph, tmp_path)
    conv, dense = rtl.layers
    assert conv.cycles_per_sample == 7 * 7 and (conv.mvu.simd, conv.mvu.pe) == (9, 2) and conv.window.taps == 9
    assert dense.cycles_per_sample == 40 and (dense.mvu.simd, dense.mvu.pe) == (5, 1)  # 5 = ceil(50 * 4 / 49)
    assert rtl.cycles_per_sample == 49
