"""The RTL top's forks and reordering Flatten against the emulator, with ==.

Models of tests/qfx_branch_models.py (a downsample shortcut with a Conv on it, a tensor
read by three stages, one read twice by an Add, a flattened image as the output or read by
a rounding dense layer, convolutions padded by their kernel's size) and a graph with a
stand-alone Threshold are written as RTL tops and simulated together in one Verilator
build (tests/rtl_top_bank.py) under random back-pressure on both streams, so a FIFO too shallow for a branch's lag deadlocks the
run and a wrong order or wrong branch shows as mismatches.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qfx_branch_models import branch_zoo
from rtl_top_bank import bank_mismatches, build_bank, write_case

from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor, infer_types
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.passes import lower_for_hardware
from fxhls.onnx import export_onnx, load_onnx
from fxhls.rtl.top_branches import branch_fifo_depths

SAMPLES = 3


def _threshold_graph():
    """A stand-alone Threshold (no binary layer computes it) on a forked ReLU output, also
    added back: per channel rising/falling, thresholds on and between the input's grid
    points and beyond its range."""
    t = FixedType.parse("ap_fixed<8,3>")
    tensors = {name: Tensor(name) for name in ("q", "r", "b", "s", "y")} | {"x": Tensor("x", (4, 3, 2))}
    # on the grid of x (1/32), between two of its points (9.25 / 32), and beyond its range
    limits = np.array([0.5, 0.2890625, -100.0, 100.0])
    tensors["limits"] = Tensor("limits", (4,), FixedType.parse("ap_fixed<16,8>"), limits)
    nodes = [Node("Quantize", "input_cast", ["x"], ["q"], type_attrs(t)),
             Node("Relu", "relu", ["q"], ["r"]),
             Node("Threshold", "threshold", ["r", "limits"], ["b"], {"direction": [1, -1, 1, -1]}),
             Node("Add", "add", ["b", "r"], ["s"]),
             Node("Quantize", "narrow", ["s"], ["y"], type_attrs(FixedType.parse("ap_fixed<10,5>")))]
    x = np.random.default_rng(4).normal(size=(SAMPLES, 4, 3, 2)) * 2
    return infer_types(Graph(nodes, tensors, ["x"], ["y"])), x


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rtl_branches")
    cases = []
    for name, model, shape in branch_zoo():
        export_onnx(model.eval(), torch.randn(2, *shape), folder / f"{name}.onnx")
        graph = lower_for_hardware(load_onnx(folder / f"{name}.onnx"))
        x = np.random.default_rng(len(name)).normal(size=(SAMPLES, *shape)) * 2
        cases.append(write_case(f"branch_{name}", graph, x, folder))
    cases.append(write_case("branch_threshold", *_threshold_graph(), folder))
    return cases, build_bank(cases, folder, "branch_bank")


def test_the_tops_have_the_forks_and_stages_they_need(bank):
    cases, _ = bank
    forks = {case.name: sum(source.read_text().count("fxhls_fork #(") for source in case.rtl.sources[-1:])
             for case in cases}
    assert forks == {"branch_downsample": 1, "branch_three_readers": 2, "branch_doubled": 1, "branch_wide_padding": 0, "branch_flat_output": 0,
                     "branch_flat_rounding_dense": 0, "branch_threshold": 1}
    for name in ("branch_flat_output", "branch_flat_rounding_dense"):
        flat = next(case for case in cases if case.name == name)
        assert "fxhls_flatten #(" in flat.rtl.sources[-1].read_text()


@pytest.mark.parametrize("pause, seed", [(0.3, 5), (0.6, 11)])
def test_branched_tops_equal_the_emulator_under_back_pressure(bank, pause, seed):
    cases, build_dir = bank
    mismatches = bank_mismatches(build_dir, cases, pause=pause, seed=seed, name="branch_bank")
    assert mismatches == {case.name: 0 for case in cases}


def test_every_branch_but_the_deepest_gets_a_fifo_for_all_branches_hold(tmp_path):
    """Depths in beats of one value. Downsample block: conv1 (stride 2) holds 8 rows of 8
    pixels of 4 channels (256 values: the 3 rows it reads and the 2 the next windows need,
    `line_buffer_rows`), conv2 4 rows of its 4-pixel rows, each 4 forked pixels (256), the
    shortcut's 1x1 Conv (stride 2) 4 rows (128): 2 * (640 + 8 slack beats * 8) = 1,408,
    2,048 as a power of two; the main branch holds the most and gets no FIFO, the shortcut
    all of it."""
    graphs = {}
    for name, model, shape in branch_zoo():
        export_onnx(model.eval(), torch.randn(2, *shape), tmp_path / f"{name}.onnx")
        graphs[name] = lower_for_hardware(load_onnx(tmp_path / f"{name}.onnx"))
    found = {}
    for name in ("downsample", "three_readers", "doubled"):
        graph = graphs[name]
        tensor = next(t for t in graph.tensors if sum(n.inputs.count(t) for n in graph.nodes) > 1)
        readers = [n for n in graph.nodes for _ in range(n.inputs.count(tensor))]
        found[name] = branch_fifo_depths(graph, tensor, readers, 1)
    assert found == {"downsample": [0, 2048], "three_readers": [0, 512, 512], "doubled": [0, 16]}
