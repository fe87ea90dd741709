"""The exported ONNX outside fxhls: onnxruntime runs it (fxhls's ops through their ONNX
function bodies) and gives fxhls emulate's values, with ==; shape inference reaches every
tensor; float32 wherever that is exact."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import fxhls
from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, quantize
from fxhls.ir.ops.quantize import type_attrs
from fxhls.onnx import export_onnx
from fxhls.onnx.export_runnable import made_runnable
from qfx_models import qfx_zoo

NARROWED = {"narrow_acc", "narrow_conv"}  # a narrowed accumulator has no ONNX body


def run_onnxruntime(proto: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    wanted = np.float32 if proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT else np.float64
    (y,) = session.run(None, {proto.graph.input[0].name: x.astype(wanted)})
    return y.astype(np.float64)


@pytest.mark.parametrize("name,model,shape", [z for z in qfx_zoo() if z[0] not in NARROWED],
                         ids=[z[0] for z in qfx_zoo() if z[0] not in NARROWED])
def test_onnxruntime_gives_the_emulators_values(name, model, shape, tmp_path):
    x = (torch.randn(32, *shape) * 3).numpy()
    proto = export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "m.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT  # the input cast fits float32
    assert np.array_equal(run_onnxruntime(proto, x), fxhls.emulate(tmp_path / "m.onnx", x))


@pytest.mark.parametrize("name,model,shape", list(qfx_zoo()), ids=[z[0] for z in qfx_zoo()])
def test_shape_inference_reaches_every_tensor(name, model, shape, tmp_path):
    proto = export_onnx(model, torch.randn(2, *shape), tmp_path / "m.onnx")
    inferred = onnx.shape_inference.infer_shapes(onnx.load(str(tmp_path / "m.onnx")))
    shapes = {v.name: v.type.tensor_type.shape for v in [*inferred.graph.value_info, *inferred.graph.output]}
    for node in proto.graph.node:
        for output in node.output:
            dims = shapes[output].dim  # "batch", then sizes; a weight's: sizes
            assert all(d.HasField("dim_value") or d.dim_param == "batch" for d in dims), output


def test_a_type_too_wide_for_float32_keeps_float64(tmp_path):
    from fxhls.qfx import QInput, QLinear

    model = torch.nn.Sequential(QInput("ap_fixed<30,10>"), QLinear(4, 2))
    proto = export_onnx(model, torch.randn(2, 4, dtype=torch.float64), tmp_path / "m.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    x = np.random.default_rng(0).normal(size=(8, 4)) * 4
    assert np.array_equal(run_onnxruntime(proto, x), fxhls.emulate(tmp_path / "m.onnx", x))


@st.composite
def casts(draw):
    """A target type (any modes) and values of a source type narrow enough for float32."""
    width = draw(st.integers(1, 16))
    signed = draw(st.booleans()) if width > 1 else False
    target = FixedType(width, draw(st.integers(-4, 12)), signed, draw(st.sampled_from(sorted(ROUNDING_MODES))),
                       draw(st.sampled_from(sorted(OVERFLOW_MODES))))
    source_width, source_frac = draw(st.integers(2, 22)), draw(st.integers(-2, 20))
    codes = draw(st.lists(st.integers(-(2 ** (source_width - 1)), 2 ** (source_width - 1) - 1), min_size=1,
                          max_size=30))
    return target, np.ldexp(np.array(codes, dtype=np.float64), -source_frac)


@settings(max_examples=150, deadline=None)
@given(casts())
def test_the_quantize_function_body_is_the_fixed_point_cast(cast):
    t, values = cast
    node = helper.make_node("Quantize", ["x"], ["y"], name="q", domain="fxhls", **type_attrs(t))
    graph = helper.make_graph([node], "cast", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["batch", 1])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["batch", 1])])
    proto = made_runnable(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                                  helper.make_opsetid("fxhls", 1)]))
    got = run_onnxruntime(proto, values.reshape(-1, 1)).reshape(-1)
    assert np.array_equal(got, quantize(values, t)), (str(t), values, got)
