"""The co-simulated interval of whole RTL tops equals the estimate (`RtlDesign.cycles_per_sample`,
the slowest stage's clocks per sample), with ==, at several folds.

A clock count is a deterministic fact of the RTL: where every stage passes its samples at
its own pace (windows whose line buffers let the next rows arrive while a row is read, an
MVU that takes its next vector while it folds, a pack that takes the next sample in the
clock the last word leaves) the interval is the slowest stage's, exactly. The outputs are
compared with the emulator under back-pressure too (`fxhls cosim`'s two runs).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from qfx_models import qfx_zoo

from fxhls.deploy.interface import stream_interface
from fxhls.ir.passes import lower_for_hardware, split_host_edges
from fxhls.onnx import export_onnx, load_onnx
from fxhls.rtl.folding import RtlParallelism
from fxhls.rtl.writer import write_rtl
from fxhls.sim.rtl_cosim import cosim_design

MNIST = "examples/models/mnist_khot_cnn"
CLOCK_MHZ = 250


def _cosim(graph, folder, parallelism, x):
    """(estimate, co-simulated summary) of `graph`'s RTL folded by `parallelism`."""
    design = stream_interface(graph, "top", "ultra96v2", CLOCK_MHZ)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "design.json").write_text(json.dumps(design))
    rtl = write_rtl(graph, design, folder, parallelism)
    _, summary = cosim_design(folder, x, graph, pause=0.3, max_cycles=8 * (len(x) + 2) * rtl.cycles_per_sample + 20_000)
    return rtl, summary


def _mnist_graph():
    graph = load_onnx(f"{MNIST}.onnx")
    split_host_edges(graph)
    return lower_for_hardware(graph)


@pytest.mark.parametrize("clocks", [None, 784, 1568, 7056])
def test_mnist_interval_equals_the_estimate(clocks, tmp_path):
    """The bundled CNN at its fastest within the Ultra96-V2's budget (1,176 clocks,
    `tests/test_rtl_budget.py`), at its fastest (784 clocks: a window a clock, one pixel a
    clock in; its layers fixed, as a target beyond the budget is refused), and at targets
    of 2 and 9 times that (conv1 with two and nine folds); the wide dot products pipelined."""
    graph = _mnist_graph()
    x = np.load(f"{MNIST}_inputs.npy")[:4]
    fps = None if clocks in (None, 784) else CLOCK_MHZ * 1e6 / (clocks + 0.5)
    layers = {"conv1/Conv": (9, 8), "conv2/Conv": (72, 4), "fc/Gemm": (2, 5)} if clocks == 784 else {}
    rtl, summary = _cosim(graph, tmp_path, RtlParallelism(target_fps=fps, layers=layers), x)
    assert rtl.cycles_per_sample == (clocks or 1176)
    if clocks in (None, 784):  # 9 and 72 or 24 lanes of K-hot products: over 8 LUT levels unpipelined
        assert [layer.mvu.dot_registers for layer in rtl.layers if layer.window] == [1, 1]
    assert summary["mismatches"] == 0
    assert summary["interval_cycles"] == rtl.cycles_per_sample


# (zoo model, (SIMD, PE) of its layers by op): the default rule, and one window tap a clock
ZOO_FOLDS = [("binary", {}), ("binary", {"Conv": (2, 4)}), ("avg3", {}), ("mlp", {}), ("khot", {}),
             ("narrow_conv", {}), ("cnn", {})]


@pytest.mark.parametrize("name,layers", ZOO_FOLDS)
def test_zoo_intervals_equal_their_estimates(name, layers, tmp_path):
    """binary (a 3x3 Conv on 7x7) and avg3 (3x3 pools on 9x9) took 36 clocks per sample more
    than their estimate when the line buffer had too few rows for the next image's first
    windows (or, strided, the next row's); mlp and khot one more when fxhls_pack waited a
    clock between samples."""
    _, model, shape = next(entry for entry in qfx_zoo() if entry[0] == name)
    export_onnx(model.eval(), torch.randn(2, *shape), tmp_path / "model.onnx")
    graph = load_onnx(tmp_path / "model.onnx")
    split_host_edges(graph)
    graph = lower_for_hardware(graph)
    folds = {node.name: layers[node.op] for node in graph.nodes if node.op in layers}
    x = np.random.default_rng(3).normal(size=(6, *shape)) * 2
    rtl, summary = _cosim(graph, tmp_path / "build", RtlParallelism(layers=folds), x)
    assert summary["mismatches"] == 0
    assert summary["interval_cycles"] == rtl.cycles_per_sample, (name, rtl.stage_cycles)
    if layers:
        assert rtl.cycles_per_sample == 25 * 9  # 25 windows of 9 beats: SIMD = the 2 channels
