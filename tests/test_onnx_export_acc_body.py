"""A narrowed accumulator's ONNX function body (`fxhls.onnx.export_acc_body`): onnxruntime runs
the exported fxhls Gemm / Conv with `acc_type` and gives, with ==, the values of `fxhls emulate`
and of the QFX model in eval mode, over hypothesis-drawn accumulator types (every rounding and
overflow mode, narrow enough to round and overflow), layer shapes, strides, paddings and groups;
the model passes the ONNX checker and strict shape inference. Where float64 cannot hold every
product and partial sum exactly, the node has no body and the export still succeeds."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import fxhls
from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, quantize
from fxhls.ir.ops.quantize import type_attrs
from fxhls.onnx import export_onnx
from fxhls.onnx.export_runnable import made_runnable
from fxhls.qfx import QConv2d, QInput, QLinear
from fxhls.qfx.weighted import QConv1d
from onnx_runners import run_onnxruntime

BATCH = 9


@st.composite
def accumulators(draw) -> FixedType:
    """A narrow accumulator in any modes: few integer bits (sums overflow) and few fractional
    bits (products of 8-bit weights and inputs round)."""
    width = draw(st.integers(2, 12))
    return FixedType(width, draw(st.integers(-1, min(width, 4))), draw(st.booleans()),
                     draw(st.sampled_from(sorted(ROUNDING_MODES))), draw(st.sampled_from(sorted(OVERFLOW_MODES))))


@st.composite
def operand_types(draw) -> tuple[str, str]:
    """The input's and the weights' types."""
    x = FixedType(draw(st.integers(3, 10)), draw(st.integers(1, 4)), True, "AP_RND_CONV", "AP_SAT")
    w = FixedType(draw(st.integers(3, 10)), draw(st.integers(0, 2)), True, "AP_RND_CONV", "AP_SAT")
    return str(x), str(w)


def _widened(layer, seed: int):
    """`layer` with weights in [-2, 2) and a bias in [-4, 4), so that sums overflow."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.weight.copy_(torch.rand(layer.weight.shape, generator=generator) * 4 - 2)
        if layer.bias is not None:
            layer.bias.copy_(torch.rand(layer.bias.shape, generator=generator) * 8 - 4)
    return layer


def _compare(model, shape, seed, tmp_path, op, declared=TensorProto.FLOAT):
    """Export `model` (input sample `shape`, of the float type `declared`; its layer's output
    type is the accumulator's, so the accumulator's values are compared), check it, and count
    the mismatches of onnxruntime (at batch sizes BATCH and 1) against emulate and emulate
    against the QFX model."""
    model.eval()
    dtype = np.float32 if declared == TensorProto.FLOAT else np.float64
    x = (np.random.default_rng(seed).normal(size=(BATCH, *shape)) * 4).astype(dtype)
    proto = export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "m.onnx")
    onnx.checker.check_model(proto, full_check=True)
    onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    (node,) = [n for n in proto.graph.node if n.domain == "fxhls" and n.op_type == op]
    assert node.overload and any(f.name == op and f.overload == node.overload for f in proto.functions)
    assert proto.graph.input[0].type.tensor_type.elem_type == declared
    emulated = fxhls.emulate(tmp_path / "m.onnx", x)
    with torch.no_grad():
        qfx = model(torch.from_numpy(x)).double().numpy()
    got = run_onnxruntime(proto, x)
    assert got.shape == emulated.shape == qfx.shape
    assert int((got != emulated).sum()) == 0, (got, emulated)
    assert int((qfx != emulated).sum()) == 0, (qfx, emulated)
    assert int((run_onnxruntime(proto, x[:1]) != emulated[:1]).sum()) == 0


@settings(max_examples=60, deadline=None)
@given(accumulators(), operand_types(), st.integers(1, 12), st.integers(1, 5), st.booleans(), st.integers(0, 99))
def test_linear(tmp_path_factory, acc, types, inputs, outputs, bias, seed):
    x_type, w_type = types
    layer = QLinear(inputs, outputs, bias=bias, weight=w_type, acc=str(acc), output=str(acc))
    model = torch.nn.Sequential(QInput(x_type), _widened(layer, seed))
    _compare(model, (inputs,), seed, tmp_path_factory.mktemp("linear"), "Gemm")


@st.composite
def convolutions(draw):
    """(kernel, stride, padding, height, width) of a 2-D convolution that fits its image."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    size = [draw(st.integers(max(1, k - 2 * p), 6)) for k, p in zip(kernel, padding)]
    return kernel, stride, padding, *size


@settings(max_examples=50, deadline=None)
@given(accumulators(), operand_types(), convolutions(), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.integers(0, 99))
def test_conv2d(tmp_path_factory, acc, types, conv, channels, outputs, bias, seed):
    (kernel, stride, padding, height, width), (x_type, w_type) = conv, types
    layer = QConv2d(channels, outputs, kernel, stride=stride, padding=padding, bias=bias, weight=w_type, acc=str(acc),
                    output=str(acc))
    model = torch.nn.Sequential(QInput(x_type), _widened(layer, seed))
    _compare(model, (channels, height, width), seed, tmp_path_factory.mktemp("conv2d"), "Conv")


@settings(max_examples=40, deadline=None)
@given(accumulators(), operand_types(), st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(1, 3),
       st.integers(1, 3), st.booleans(), st.integers(0, 99))
def test_conv1d(tmp_path_factory, acc, types, kernel, stride, padding, channels, outputs, bias, seed):
    x_type, w_type = types
    layer = QConv1d(channels, outputs, kernel, stride=stride, padding=padding, bias=bias, weight=w_type, acc=str(acc),
                    output=str(acc))
    model = torch.nn.Sequential(QInput(x_type), _widened(layer, seed))
    _compare(model, (channels, kernel + 3), seed, tmp_path_factory.mktemp("conv1d"), "Conv")


def _grouped_conv(acc: FixedType, groups: int, stride: int, pad: int, seed: int) -> onnx.ModelProto:
    """x -> Quantize -> fxhls Conv (groups, `acc_type`) with quantized weights and bias, as the
    export writes it (QFX layers refuse a narrowed accumulator with groups)."""
    rng = np.random.default_rng(seed)
    channels, outputs, x_type, w_type = 2 * groups, 3 * groups, FixedType(8, 3), FixedType(8, 1)
    weight = quantize(rng.uniform(-2, 2, size=(outputs, 2, 3, 3)), w_type)
    bias = quantize(rng.uniform(-4, 4, size=outputs), FixedType(16, 4))
    nodes = [helper.make_node("Quantize", ["x"], ["xq"], name="in", domain="fxhls", **type_attrs(x_type)),
             helper.make_node("Quantize", ["w"], ["wq"], name="w/Quantize", domain="fxhls", **type_attrs(w_type)),
             helper.make_node("Quantize", ["b"], ["bq"], name="b/Quantize", domain="fxhls",
                              **type_attrs(FixedType(16, 4))),
             helper.make_node("Conv", ["xq", "wq", "bq"], ["y"], name="conv", domain="fxhls", acc_type=str(acc),
                              kernel_shape=[3, 3], strides=[stride, stride], pads=[pad] * 4, group=groups)]
    size = (7 + 2 * pad - 3) // stride + 1
    graph = helper.make_graph(nodes, "grouped",
                              [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["batch", channels, 7, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["batch", outputs, size, size])],
                              [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")])
    return made_runnable(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                                 helper.make_opsetid("fxhls", 1)]))


@settings(max_examples=30, deadline=None)
@given(accumulators(), st.integers(2, 3), st.integers(1, 2), st.integers(0, 1), st.integers(0, 99))
def test_grouped_conv(tmp_path_factory, acc, groups, stride, pad, seed):
    proto = _grouped_conv(acc, groups, stride, pad, seed)
    onnx.checker.check_model(proto, full_check=True)
    path = tmp_path_factory.mktemp("grouped") / "m.onnx"
    onnx.save(proto, str(path))
    assert any(f.name == "Conv" for f in proto.functions)
    x = (np.random.default_rng(seed).normal(size=(BATCH, 2 * groups, 7, 7)) * 4).astype(np.float32)
    got, emulated = run_onnxruntime(proto, x), fxhls.emulate(path, x)
    assert int((got != emulated).sum()) == 0, (got, emulated)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(sorted(ROUNDING_MODES)), st.sampled_from(sorted(OVERFLOW_MODES)), st.integers(0, 99))
def test_operands_near_float64s_limit(tmp_path_factory, rounding, overflow, seed):
    """24-bit inputs and weights (48-bit products) into a 38-bit accumulator: every partial sum
    plus a product spans 49 bits, within float64's 53; the input is float64, the body's Casts
    keep it."""
    acc = FixedType(38, 6, True, rounding, overflow)
    layer = QLinear(4, 3, weight="ap_fixed<24,2>", bias_type="ap_fixed<32,8>", acc=str(acc), output=str(acc))
    model = torch.nn.Sequential(QInput("ap_fixed<24,4>"), _widened(layer, seed)).double()
    _compare(model, (4,), seed, tmp_path_factory.mktemp("wide"), "Gemm", declared=TensorProto.DOUBLE)


@pytest.mark.parametrize("x_type,w_type,why", [
    ("ap_fixed<30,10>", "ap_fixed<30,2>", "a product of 60 bits"),
    ("ap_fixed<30,10>", "ap_fixed<8,1>", "a 30-bit input read in float32 (the accumulator's float type)"),
])
def test_no_body_where_float64_is_not_exact(x_type, w_type, why, tmp_path):
    layer = QLinear(4, 2, weight=w_type, acc="ap_fixed<10,3,AP_RND,AP_SAT>")
    model = torch.nn.Sequential(QInput(x_type), layer).double()
    x = np.random.default_rng(0).normal(size=(5, 4)) * 4
    proto = export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "m.onnx")
    (gemm,) = [n for n in proto.graph.node if n.op_type == "Gemm"]
    assert gemm.domain == "fxhls" and not gemm.overload, why
    assert not any(f.name == "Gemm" for f in proto.functions), why
    model.eval()
    with torch.no_grad():
        assert np.array_equal(fxhls.emulate(tmp_path / "m.onnx", x), model(torch.from_numpy(x)).double().numpy())
