"""Element-wise activations as lookup tables (`fxhls.ir.ops.table`): a float model with
Sigmoid and Tanh from torch, typed with --default-type, computes in C simulation exactly
what the emulator computes; each entry is the float function (torch's, here) quantized to
the output type; a table too large is refused in one line; RTL co-simulation equals the emulator too."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.fixed import FixedType, quantize
from fxhls.hls.build import build_project
from fxhls.hls.layers.table import rom_entries
from fxhls.ir import Node
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.table import table_entries
from fxhls.model_config import model_config
from fxhls.onnx import load_onnx
from fxhls.onnx.float_types import type_float_model
from fxhls.sim.csim import run_csim
from float_models import export_torch, top_class_agreement, torch_float

DEFAULT = "ap_fixed<16,6>"  # 65,536 entries per table


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 4), torch.nn.Tanh()).eval()


def test_csim_equals_emulate(tmp_path):
    module = _model()
    export_torch(module, (8,), tmp_path / "model.onnx")
    x = np.random.default_rng(1).normal(size=(200, 8))
    out, _ = build_project(tmp_path / "model.onnx", "ultra96v2", tmp_path / "build",
                           types=model_config(default_type=DEFAULT))
    expected = emulate(tmp_path / "model.onnx", x, default_type=DEFAULT)
    got = run_csim(out, x)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0
    assert top_class_agreement(expected, torch_float(module, x)) >= 0.95
    assert np.abs(expected - torch_float(module, x)).max() < 0.05


@pytest.mark.parametrize("function, reference, attrs", [
    ("Sigmoid", torch.sigmoid, {}), ("Tanh", torch.tanh, {}),
    ("HardSigmoid", lambda x: torch.clamp(0.25 * x + 0.5, 0, 1), {"alpha": 0.25}),
    ("Elu", lambda x: torch.nn.functional.elu(x, 0.5), {"alpha": 0.5}), ("Selu", torch.selu, {}),
    ("Softplus", torch.nn.functional.softplus, {}), ("Exp", torch.exp, {}),
])
def test_entries_are_the_function_quantized(function, reference, attrs):
    in_type, out_type = FixedType.parse("ap_fixed<10,3>"), FixedType.parse("ap_ufixed<12,4,AP_RND,AP_SAT>")
    node = Node("Table", "t", ["x"], ["y"], {"function": function, **attrs, **type_attrs(out_type)})
    grid = np.arange(in_type.min_code, in_type.max_code + 1) * in_type.lsb
    wanted = quantize(reference(torch.tensor(grid, dtype=torch.float64)).numpy(), out_type)
    assert (table_entries(node, in_type) == wanted).all()
    rom = rom_entries(node, in_type)  # by raw bits: bits 0 is code 0, bits 2^10 - 1 is code -1
    assert rom[0] == wanted[-in_type.min_code] and rom[-1] == wanted[-in_type.min_code - 1]


def test_table_on_the_graph_reads_the_input_type(tmp_path):
    export_torch(_model(), (8,), tmp_path / "model.onnx")
    graph = load_onnx(tmp_path / "model.onnx", default_type=DEFAULT)
    tables = [node for node in graph.nodes if node.op == "Table"]
    assert [node.attrs["function"] for node in tables] == ["Sigmoid", "Tanh"]
    assert all(graph.tensor(node.outputs[0]).type == FixedType.parse(DEFAULT) for node in tables)


def test_too_large_a_table_is_refused_with_its_size_and_options(tmp_path):
    export_torch(_model(), (8,), tmp_path / "model.onnx")
    with pytest.raises(ValueError) as refusal:
        load_onnx(tmp_path / "model.onnx", default_type="ap_fixed<33,6>")
    message = str(refusal.value)
    assert message.startswith("node '/1/Sigmoid' (Sigmoid): a Sigmoid table over ap_fixed<33,6> (33 bits) is not "
                              "built: a table's input takes at most 32 bits (truncated to 65,536 entries above 16)")
    assert "\n" not in message and "narrow its input" in message and message.count("/1/Sigmoid") == 1


def test_a_table_without_a_quantizer_after_it_is_refused_in_one_line(tmp_path):
    """A Sigmoid/Tanh in an already quantized model (here the typed float model, their types
    removed) read by a Gemm: no quantizer gives it an output type."""
    export_torch(_model(), (8,), tmp_path / "model.onnx")
    typed = type_float_model(onnx.load(tmp_path / "model.onnx"), model_config(default_type=DEFAULT), "model")
    for node in typed.graph.node:
        if node.op_type in ("Sigmoid", "Tanh"):
            del node.attribute[:]
    with pytest.raises(ValueError, match=r"^node '/1/Sigmoid' \(Sigmoid\): its output is read by '/2/Gemm' \(Gemm\); "
                                         r"in a quantized model a Sigmoid is a lookup table [^\n]*$"):
        load_onnx(typed)


def test_rtl_cosim_equals_emulate(tmp_path, capsys):
    """The RTL stage (templates/rtl/fxhls_table.v) holds the same entries: Verilator equals the emulator."""
    export_torch(_model(), (8,), tmp_path / "model.onnx")
    x = np.random.default_rng(2).normal(size=(12, 8))
    printed = build_and_cosim(tmp_path / "model.onnx", x, tmp_path / "build", capsys, "--default-type", DEFAULT)
    assert "0 of 48 output values differ" in printed
