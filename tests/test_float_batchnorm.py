"""A float BatchNormalization in a typed float model: per channel a = gamma / sqrt(var + eps)
and b = beta - mean * a derived in float64, quantized to the node's weight and bias types,
an exact Affine and the output cast. The constants equal an independent derivation with
==; C simulation and RTL co-simulation equal the emulator with ==; the outputs stay close
to float; a BatchNormalization without types for its constants is refused in one line."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from rtl_cli import build_and_cosim
from fxhls.emulation import emulate
from fxhls.hls.build import build_project
from fxhls.ir.passes import lower_for_hardware
from fxhls.model_config import model_config
from fxhls.onnx import load_onnx
from fxhls.sim.csim import run_csim
from float_models import export_torch, top_class_agreement, torch_batchnorm_models, torch_float

DEFAULT = "ap_fixed<16,6>"


def _independent_constants(path, node_name, frac_bits, width):
    """The node's a and b as codes of ap_fixed<width, width - frac_bits> (AP_TRN, AP_WRAP),
    derived with Python's math on the file's float32 values and floored with Fractions."""
    model = onnx.load(str(path))
    node = next(n for n in model.graph.node if n.name == node_name)
    values = {init.name: numpy_helper.to_array(init).astype(np.float64).tolist() for init in model.graph.initializer}
    gamma, beta, mean, var = (values[name] for name in node.input[1:5])
    epsilon = next((float(np.float32(a.f)) for a in node.attribute if a.name == "epsilon"), float(np.float32(1e-5)))

    def code(value):
        raw = math.floor(Fraction(value) * 2**frac_bits)
        return (raw + 2 ** (width - 1)) % 2**width - 2 ** (width - 1)

    a = [g / math.sqrt(v + epsilon) for g, v in zip(gamma, var)]
    b = [be - m * s for be, m, s in zip(beta, mean, a)]
    return [code(v) for v in a], [code(v) for v in b]


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_constants_equal_an_independent_derivation(name, tmp_path):
    module, shape = torch_batchnorm_models()[name]
    export_torch(module, shape, tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx", default_type=DEFAULT)
    affines = [node for node in graph.nodes if node.op == "Affine"]
    assert len(affines) == 3
    for node in affines:
        scale, shift = (graph.tensors[n] for n in node.inputs[1:])
        assert str(scale.type) == str(shift.type) == DEFAULT
        a, b = _independent_constants(tmp_path / "m.onnx", node.name, 10, 16)
        assert (scale.data.reshape(-1) * 2**10).astype(np.int64).tolist() == a
        assert (shift.data.reshape(-1) * 2**10).astype(np.int64).tolist() == b


def test_config_types_the_scale_and_shift(tmp_path):
    module, shape = torch_batchnorm_models()["mlp"]
    export_torch(module, shape, tmp_path / "m.onnx")
    bn = next(n.name for n in onnx.load(str(tmp_path / "m.onnx")).graph.node if n.op_type == "BatchNormalization")
    (tmp_path / "c.yaml").write_text(f"default_type: {DEFAULT}\nlayers:\n  {bn!r}:\n    weight: ap_fixed<8,3,AP_RND>\n"
                                     f"    bias: ap_ufixed<6,1>\n    output: ap_fixed<12,5,AP_RND,AP_SAT>\n")
    graph = load_onnx(tmp_path / "m.onnx", config=tmp_path / "c.yaml")
    node = graph.nodes[[n.name for n in graph.nodes].index(bn)]
    scale, shift = (graph.tensors[n] for n in node.inputs[1:])
    assert (str(scale.type), str(shift.type)) == ("ap_fixed<8,3,AP_RND>", "ap_ufixed<6,1>")
    assert (scale.data * 32 == np.round(scale.data * 32)).all() and (shift.data >= 0).all()
    cast = next(n for n in graph.nodes if n.inputs == node.outputs)
    assert str(graph.tensors[cast.outputs[0]].type) == "ap_fixed<12,5,AP_RND,AP_SAT>"


def test_batchnorm_without_types_for_its_constants_is_refused_in_one_line(tmp_path):
    module, shape = torch_batchnorm_models()["mlp"]
    export_torch(module, shape, tmp_path / "m.onnx")
    bn = next(n.name for n in onnx.load(str(tmp_path / "m.onnx")).graph.node if n.op_type == "BatchNormalization")
    names = [n.name for n in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    typed = f"{{weight: '{DEFAULT}', bias: '{DEFAULT}', output: '{DEFAULT}'}}"
    layers = "".join(f"  {n!r}: {typed}\n" for n in names if n != bn)
    (tmp_path / "c.yaml").write_text(f"input_type: {DEFAULT}\nlayers:\n{layers}  {bn!r}: {{output: '{DEFAULT}'}}\n")
    with pytest.raises(ValueError, match=rf"^[^\n]*BatchNormalization node '{bn}' has no weight type \(its per-channel "
                                         r"scale\); give one with --default-type T or a config weight[^\n]*$"):
        load_onnx(tmp_path / "m.onnx", config=tmp_path / "c.yaml")


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_csim_equals_emulate_and_stays_close_to_float(name, tmp_path, capsys):
    module, shape = torch_batchnorm_models()[name]
    export_torch(module, shape, tmp_path / "m.onnx")
    x = np.random.default_rng(5).normal(size=(200, *shape))
    build, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build",
                             types=model_config(default_type=DEFAULT))
    expected = emulate(tmp_path / "m.onnx", x, default_type=DEFAULT)
    got = run_csim(build, x)
    assert got.shape == expected.shape and int((got != expected).sum()) == 0 and len(np.unique(expected)) > 100
    reference = torch_float(module, x)
    agreement, error = top_class_agreement(expected, reference), float(np.abs(expected - reference).max())
    with capsys.disabled():
        print(f"\nPyTorch BatchNorm {name} at {DEFAULT}: top class equal to float on {agreement:.1%}, "
              f"largest error {error:.4f}")
    assert agreement >= 0.9 and error < 0.1


def test_rtl_cosim_equals_emulate(tmp_path, capsys):
    module, shape = torch_batchnorm_models()["cnn"]
    export_torch(module, shape, tmp_path / "m.onnx")
    x = np.random.default_rng(6).normal(size=(8, *shape))
    printed = build_and_cosim(tmp_path / "m.onnx", x, tmp_path / "build", capsys, "--default-type", DEFAULT)
    assert "0 of 80 output values differ" in printed


def test_a_scale_of_few_bits_is_khot(tmp_path):
    """scale / sqrt(var + eps) = 0.75, -0.5, 0.125: sums of at most 2 signed powers of two,
    multiplied by shifts and adds; C simulation equals the emulator."""
    n = helper.make_node
    inits = [numpy_helper.from_array(np.array(values, np.float32), name) for name, values in (
        ("bn.scale", [0.75, -0.5, 0.125]), ("bn.B", [0.1, 0.2, -0.3]), ("bn.mean", [0.5, -1, 0]),
        ("bn.var", [1, 1, 1]), ("fc.w", np.random.default_rng(0).normal(size=(4, 3))), ("fc.b", [0.1] * 4))]
    graph = helper.make_graph([n("BatchNormalization", ["x", "bn.scale", "bn.B", "bn.mean", "bn.var"], ["h"],
                                 name="bn", epsilon=0.0),
                               n("Gemm", ["h", "fc.w", "fc.b"], ["y"], name="fc", transB=1)], "bn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "m.onnx"))
    hardware = lower_for_hardware(load_onnx(tmp_path / "m.onnx", default_type=DEFAULT))
    affine = next(node for node in hardware.nodes if node.op == "Affine")
    scale = hardware.tensors[affine.inputs[1]]
    assert scale.data.reshape(-1).tolist() == [0.75, -0.5, 0.125] and scale.facts["khot"] == 2
    x = np.random.default_rng(8).normal(size=(100, 3))
    build, _ = build_project(tmp_path / "m.onnx", "ultra96v2", tmp_path / "build",
                             types=model_config(default_type=DEFAULT))
    assert int((run_csim(build, x) != emulate(tmp_path / "m.onnx", x, default_type=DEFAULT)).sum()) == 0
