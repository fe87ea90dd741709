"""QONNX (Brevitas) import: emulation equals qonnx's own executor bit for bit, and what
is not fixed point is refused in one line.

qonnx executes in float32; every model here keeps its inferred types within 24 bits,
so qonnx computes exactly and `==` is the whole claim.
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model

from brevitas_models import NAMES, exported
from fxhls.cli import main
from fxhls.emulation import emulate
from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor, execute, infer_types
from fxhls.onnx import export_onnx, load_onnx
from fxhls.qfx import QInput, QLinear

QONNX = "qonnx.custom_op.general"

# IR ops each zoo model must produce: the test exercises what its name says.
_EXPECTED_OPS = {
    "mlp_int8": {"Gemm", "Relu"}, "mlp_int4_floor": {"Gemm"},
    "cnn_pools": {"Conv", "MaxPool", "AveragePool", "Flatten"},
    "cnn_quant_batchnorm_gap": {"Conv", "Mul", "Add", "GlobalAveragePool", "Flatten"},
    "cnn_quant_batchnorm_gap_dynamo": {"Conv", "Mul", "Add", "GlobalAveragePool", "Flatten"},
    "residual": {"Conv", "Add"}, "binary": {"Sign", "Gemm"},
    "reshape_transpose": {"Reshape", "Transpose", "MatMul", "Gemm"}, "exact_float_batchnorm": {"Affine"},
}


@pytest.fixture(scope="session")
def zoo_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("brevitas")


def _qonnx_outputs(model, x: np.ndarray) -> np.ndarray:
    """qonnx's executor on `model` (path or ModelProto) after qonnx's cleanup."""
    if isinstance(model, onnx.ModelProto):
        model = model.SerializeToString()
    wrapper = cleanup_model(ModelWrapper(model if isinstance(model, bytes) else str(model)))
    return next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))


def _mismatches(a: np.ndarray, b: np.ndarray) -> int:
    assert a.shape == b.shape
    return int((a != b).sum())


@pytest.mark.parametrize("name", NAMES)
def test_brevitas_model_emulates_exactly_as_qonnx_executes_it(name, zoo_dir):
    path, x = exported(name, zoo_dir)
    graph = load_onnx(path)
    assert _EXPECTED_OPS[name] <= {node.op for node in graph.nodes}
    widest = max(t.type.width for t in graph.tensors.values() if t.type is not None)
    assert widest <= 24, "qonnx's float32 would round: the comparison below would not be the claim"
    expected = _qonnx_outputs(path, x)
    assert len(np.unique(expected)) > 1
    assert _mismatches(emulate(graph, x), expected) == 0


def test_cli_emulate_runs_a_brevitas_model(zoo_dir, tmp_path, capsys):
    path, x = exported("cnn_pools", zoo_dir)
    np.save(tmp_path / "x.npy", x)
    assert main(["emulate", str(path), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    assert _mismatches(np.load(tmp_path / "y.npy"), _qonnx_outputs(path, x)) == 0


# --- single-node models: the semantics of each quantizer on chosen values ---------------

_ROWS = 9  # of 64 probe values: qonnx's executor runs the batch size of the model only


def _model(nodes, initializers, shape=(_ROWS, 64), opset=2, extra_inputs=()):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape)), *extra_inputs]
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [f"y{i}" for i in range(len(shape))])
    graph = helper.make_graph(nodes, "g", inputs, [output],
                              [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in initializers])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(QONNX, opset)])


def _quant(x="x", y="y", scale=0.125, zero=0.0, bits=5, name="q", **attrs):
    """A Quant node and its initializers."""
    attrs = {"signed": 1, "narrow": 0, "rounding_mode": "ROUND", **attrs}
    inputs = [x, f"{name}_scale", f"{name}_zero", f"{name}_bits"]
    node = helper.make_node("Quant", inputs, [y], name=name, domain=QONNX, **attrs)
    return node, [(f"{name}_scale", scale), (f"{name}_zero", zero), (f"{name}_bits", bits)]


def _probe_values(lsb: float) -> np.ndarray:
    """Ties, their float32 neighbours, exact codes, random values, out of range values, +-0."""
    codes = np.arange(-40, 40, dtype=np.float64)
    ties = ((codes + 0.5) * lsb).astype(np.float32)
    up, down = np.nextafter(ties, np.float32(np.inf)), np.nextafter(ties, np.float32(-np.inf))
    rng = np.random.default_rng(0)
    rest = np.concatenate([codes * lsb, rng.normal(0, 3, 200), [0.0, -0.0, 1e9, -1e9, 2e-40]])
    values = np.concatenate([ties, up, down, rest.astype(np.float32)]).astype(np.float32)
    return np.pad(values, (0, _ROWS * 64 - len(values))).reshape(_ROWS, 64)


@pytest.mark.parametrize("mode,signed,narrow,expected", [
    ("ROUND", 1, 0, "ap_fixed<5,2,AP_RND_CONV,AP_SAT>"),
    ("ROUND", 1, 1, "ap_fixed<5,2,AP_RND_CONV,AP_SAT_SYM>"),
    ("ROUND", 0, 0, "ap_ufixed<5,2,AP_RND_CONV,AP_SAT>"),
    ("HALF_EVEN", 1, 0, "ap_fixed<5,2,AP_RND_CONV,AP_SAT>"),
    ("FLOOR", 1, 0, "ap_fixed<5,2,AP_TRN,AP_SAT>"),
    ("FLOOR", 1, 1, "ap_fixed<5,2,AP_TRN,AP_SAT_SYM>"),
    ("DOWN", 1, 0, "ap_fixed<5,2,AP_TRN_ZERO,AP_SAT>"),
    ("HALF_DOWN", 1, 0, "ap_fixed<5,2,AP_RND_ZERO,AP_SAT>"),
    ("HALF_DOWN", 0, 0, "ap_ufixed<5,2,AP_RND_ZERO,AP_SAT>"),
])
def test_quant_is_the_ap_fixed_cast_qonnx_computes(mode, signed, narrow, expected):
    node, initializers = _quant(rounding_mode=mode, signed=signed, narrow=narrow)
    model = _model([node], initializers)
    graph = load_onnx(model)
    assert [(n.op, str(graph.tensor(n.outputs[0]).type)) for n in graph.nodes] == [("Quantize", expected)]
    x = _probe_values(0.125)
    assert _mismatches(emulate(graph, x), _qonnx_outputs(model, x)) == 0


def test_brevitas_round_to_zero_is_ap_trn_zero_like_qonnx_down():
    node, initializers = _quant(rounding_mode="ROUND_TO_ZERO")
    assert str(load_onnx(_model([node], initializers)).tensors["y"].type) == "ap_fixed<5,2,AP_TRN_ZERO,AP_SAT>"


@pytest.mark.parametrize("scale", [1.0, 0.25])
def test_bipolar_quant_is_sign_with_plus_one_at_zero_times_its_scale(scale):
    model = _model([helper.make_node("BipolarQuant", ["x", "s"], ["y"], name="b", domain=QONNX)], [("s", scale)])
    x = _probe_values(1.0)
    expected = _qonnx_outputs(model, x)
    assert np.all(expected[x == 0] == scale)  # qonnx: +scale at 0
    graph = load_onnx(model)
    assert graph.nodes[0].op == "Sign"
    assert _mismatches(emulate(graph, x), expected) == 0
    negative_zeros = np.full((_ROWS, 64), -0.0, dtype=np.float32)
    assert np.all(_qonnx_outputs(model, negative_zeros) == scale)
    assert np.all(emulate(graph, negative_zeros) == scale)


def test_signed_one_bit_quant_is_bipolar_as_in_qonnx():
    node, initializers = _quant(bits=1, scale=0.5)
    model = _model([node], initializers)
    x = _probe_values(1.0)
    assert _mismatches(emulate(load_onnx(model), x), _qonnx_outputs(model, x)) == 0


def test_equal_per_channel_scales_are_one_scale():
    node, initializers = _quant(scale=np.full(64, 0.125))
    model = _model([node], initializers)
    x = _probe_values(0.125)
    assert _mismatches(emulate(load_onnx(model), x), _qonnx_outputs(model, x)) == 0


def test_an_unquantized_constant_gets_the_exact_type_of_its_values_and_identity_moves_nothing():
    quant, initializers = _quant(y="q_out")
    add = helper.make_node("Add", ["q_out", "c"], ["sum"], name="add")
    identity = helper.make_node("Identity", ["sum"], ["y"], name="same")
    constant = np.tile([0.375, -1.25], 32)  # 3 * 2^-3 and -10 * 2^-3: ap_fixed<5,2>
    model = _model([quant, add, identity], initializers + [("c", constant)])
    graph = load_onnx(model)
    assert [node.op for node in graph.nodes] == ["Quantize", "Add"]
    assert str(graph.tensors["c"].type) == "ap_fixed<5,2>" and str(graph.tensors["sum"].type) == "ap_fixed<6,3>"
    x = _probe_values(0.125)
    assert _mismatches(emulate(graph, x), _qonnx_outputs(model, x)) == 0


# --- refusals: one line, naming what is wrong -------------------------------------------

def _refusal(model) -> str:
    with pytest.raises(ValueError) as info:
        load_onnx(model)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("change,words", [
    ({"rounding_mode": "CEIL"}, ["CEIL", "no ap_fixed mode", "supported: ROUND"]),
    ({"rounding_mode": "HALF_UP"}, ["HALF_UP", "float32"]),
])
def test_a_trunc_that_is_not_an_ap_fixed_cast_is_refused(change, words):
    """(A Quant like it is float-scaled: tests/test_qonnx_float_scaled.py.)"""
    quant, initializers = _quant(y="q_out")
    trunc = helper.make_node("Trunc", ["q_out", "s", "z", "ib", "os", "ob"], ["y"], name="t", domain=QONNX, **change)
    initializers += [("s", 0.125), ("z", 0.0), ("ib", 8.0), ("os", 1.0), ("ob", 4.0)]
    message = _refusal(_model([quant, trunc], initializers))
    assert all(word in message for word in words), message


def test_an_unsupported_op_names_the_node_and_lists_the_supported_ones():
    quant, initializers = _quant(y="q_out")
    message = _refusal(_model([quant, helper.make_node("Hardmax", ["q_out"], ["y"], name="head")], initializers))
    assert all(word in message for word in ["'head'", "Hardmax", f"{QONNX}.Quant", "MatMul", "Reshape"]), message


def test_a_dynamic_dimension_beyond_the_batch_is_refused():
    node, initializers = _quant()
    assert "dynamic" in _refusal(_model([node], initializers, shape=("n", "features")))


def test_a_shape_computed_at_run_time_is_refused():
    quant, initializers = _quant(y="q_out")
    shape = helper.make_tensor_value_info("shape", TensorProto.INT64, [2])
    reshape = helper.make_node("Reshape", ["q_out", "shape"], ["y"], name="r")
    assert "dynamic shape" in _refusal(_model([quant, reshape], initializers, extra_inputs=[shape]))


def test_an_average_over_a_count_that_is_not_a_power_of_two_is_refused():
    quant, initializers = _quant(y="q_out")
    pool = helper.make_node("AveragePool", ["q_out"], ["y"], name="avg", kernel_shape=[3, 3], strides=[3, 3])
    message = _refusal(_model([quant, pool], initializers, shape=(1, 1, 6, 6)))
    assert "'avg'" in message and "9 values" in message


def test_a_trunc_of_a_value_not_known_to_be_on_its_scale_is_refused():
    inputs = ["x", "s", "z", "ib", "os", "ob"]
    trunc = helper.make_node("Trunc", inputs, ["y"], name="t", domain=QONNX, rounding_mode="FLOOR")
    initializers = [("s", 0.25), ("z", 0.0), ("ib", 8.0), ("os", 1.0), ("ob", 4.0)]
    assert "not known to be a multiple" in _refusal(_model([trunc], initializers))


def test_a_float_batchnorm_output_is_computed_on_the_host_as_onnxruntime_does():
    quant, initializers = _quant(y="q_out", bits=8)
    rng = np.random.default_rng(1)
    parameters = [("gamma", rng.uniform(0.5, 2, 4)), ("beta", rng.normal(size=4)), ("mean", rng.normal(size=4)),
                  ("var", rng.uniform(0.5, 2, 4))]
    bn = helper.make_node("BatchNormalization", ["q_out", "gamma", "beta", "mean", "var"], ["y"], name="bn")
    model = _model([quant, bn], initializers + parameters, shape=(_ROWS, 4, 4, 4))
    graph = load_onnx(model)
    assert [node.op for node in graph.nodes] == ["Quantize", "HostFloat"]
    x = _probe_values(0.125).reshape(_ROWS, 4, 4, 4)
    assert _mismatches(emulate(graph, x), _qonnx_outputs(model, x)) == 0


def test_brevitas_default_binary_weights_keep_their_float_scale(tmp_path):
    from brevitas import nn as qnn
    from brevitas.export import export_qonnx
    from brevitas.quant import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst

    model = torch.nn.Sequential(qnn.QuantIdentity(act_quant=SignedBinaryActPerTensorConst, return_quant_tensor=True),
                                qnn.QuantLinear(4, 2, bias=False, weight_quant=SignedBinaryWeightPerTensorConst))
    x = torch.randn(2, 4)
    export_qonnx(model.eval(), args=x, export_path=str(tmp_path / "m.onnx"), dynamo=False)
    graph = load_onnx(tmp_path / "m.onnx")
    # The weights' float32 values +-0.1 (24 significant bits): their sums round, in onnxruntime's
    # order, so the Gemm is the host's float work on the hardware's +-1 codes.
    assert [node.op for node in graph.nodes] == ["Sign", "HostFloat"]
    assert {abs(w) for row in graph.nodes[-1].attrs["chain"]["dense"]["weights"] for w in row} == {np.float32(0.1)}
    assert _mismatches(emulate(graph, x.numpy()), _qonnx_outputs(tmp_path / "m.onnx", x.numpy())) == 0


def test_a_qonnx_model_without_qonnx_installed_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "qonnx.transformation.fold_constants", None)  # import now fails
    node, initializers = _quant()
    assert "needs the qonnx package" in _refusal(_model([node], initializers))


def test_fxhls_own_onnx_loads_without_qonnx(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "qonnx", None)
    model = torch.nn.Sequential(QInput(), QLinear(4, 3))
    export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx")
    assert [node.op for node in load_onnx(tmp_path / "m.onnx").nodes] == ["Quantize", "Quantize", "Quantize", "Gemm",
                                                                          "Quantize"]


# --- the IR ops the import added ----------------------------------------------------------

def _graph(op, attrs, x_shape, constants):
    tensors = {"x": Tensor("x", x_shape, FixedType.parse("ap_fixed<8,1>"))}
    for name, (data, spelling) in constants.items():
        tensors[name] = Tensor(name, tuple(data.shape), FixedType.parse(spelling), data)
    tensors["y"] = Tensor("y")
    graph = Graph([Node(op, "n", ["x", *constants], ["y"], attrs)], tensors, ["x"], ["y"])
    return infer_types(graph)


def test_matmul_has_the_exact_accumulator_and_equals_gemm_on_the_transposed_weight():
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, size=(4, 3)) / 256
    matmul = _graph("MatMul", {}, (2, 4), {"w": (w, "ap_fixed<8,0>")})
    assert (matmul.tensors["y"].shape, str(matmul.tensors["y"].type)) == ((2, 3), "ap_fixed<18,3>")
    gemm = _graph("Gemm", {}, (4,), {"w": (np.ascontiguousarray(w.T), "ap_fixed<8,0>")})
    x = rng.integers(-128, 128, size=(5, 2, 4)) / 128
    rows = execute(gemm, x.reshape(10, 4))[0].reshape(5, 2, 3)
    assert _mismatches(execute(matmul, x)[0], rows) == 0
    narrowed = _graph("MatMul", {"acc_type": "ap_fixed<10,2,AP_TRN,AP_SAT>"}, (2, 4), {"w": (w, "ap_fixed<8,0>")})
    narrowed_gemm = _graph("Gemm", {"acc_type": "ap_fixed<10,2,AP_TRN,AP_SAT>"}, (4,),
                           {"w": (np.ascontiguousarray(w.T), "ap_fixed<8,0>")})
    rows = execute(narrowed_gemm, x.reshape(10, 4))[0].reshape(5, 2, 3)
    assert _mismatches(execute(narrowed, x)[0], rows) == 0


def test_reshape_and_transpose_move_each_sample_alone():
    x = np.arange(2 * 24, dtype=np.float64).reshape(2, 4, 6)
    reshaped = _graph("Reshape", {"shape": [3, 8]}, (4, 6), {})
    assert reshaped.tensors["y"].shape == (3, 8)
    assert np.array_equal(execute(reshaped, x)[0], x.reshape(2, 3, 8))
    transposed = _graph("Transpose", {"perm": [1, 0]}, (4, 6), {})
    assert transposed.tensors["y"].shape == (6, 4)
    assert np.array_equal(execute(transposed, x)[0], x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="cannot reshape"):
        _graph("Reshape", {"shape": [5, 5]}, (4, 6), {})
