"""The exported ONNX outside fxhls: onnxruntime runs it (fxhls's ops through their ONNX
function bodies) and gives fxhls emulate's values, with ==; shape inference reaches every
tensor; float32 wherever that is exact."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import fxhls
from fxhls.fixed import OVERFLOW_MODES, ROUNDING_MODES, FixedType, quantize
from fxhls.ir.ops.quantize import type_attrs
from fxhls.onnx import export_onnx, load_onnx
from fxhls.onnx.export_runnable import made_runnable
from onnx_runners import run_onnxruntime, run_qonnx
from qfx_models import qfx_zoo
from torch import nn

from fxhls.qfx import (QAdaptiveAvgPool2d, QAvgPool2d, QConv2d, QFlatten, QInput, QLinear, QMaxPool2d, QReLU,
                       QSign)

@pytest.mark.parametrize("name,model,shape", list(qfx_zoo()), ids=[z[0] for z in qfx_zoo()])
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
    got = _cast_in_onnxruntime(t, values)
    assert np.array_equal(got, quantize(values, t)), (str(t), values, got)


def _cast_in_onnxruntime(t: FixedType, values: np.ndarray) -> np.ndarray:
    """`values` through an exported fxhls Quantize to `t`, run by onnxruntime (its function body)."""
    node = helper.make_node("Quantize", ["x"], ["y"], name="q", domain="fxhls", **type_attrs(t))
    graph = helper.make_graph([node], "cast", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["batch", 1])],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["batch", 1])])
    proto = made_runnable(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                                  helper.make_opsetid("fxhls", 1)]))
    return run_onnxruntime(proto, values.reshape(-1, 1)).reshape(-1)


EIGHT_BITS = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"


def qonnx_models():
    """QFX models whose types QONNX expresses and float32 holds: saturating, rounded as qonnx
    rounds, no wide BatchNorm product; with K-hot and binary weights, pools and a sign."""
    torch.manual_seed(0)
    yield "mlp", next(z for z in qfx_zoo() if z[0] == "mlp")[1], (16,)
    yield "cnn", nn.Sequential(QInput(), QConv2d(1, 4, 3, padding=1, khot=2), QReLU(), QMaxPool2d(2),
                               QConv2d(4, 4, 3, padding=1, groups=2), QReLU(), QAvgPool2d(2, output=EIGHT_BITS),
                               QAdaptiveAvgPool2d(1, output=EIGHT_BITS), QFlatten(), QLinear(4, 3)), (1, 8, 8)
    yield "binary", nn.Sequential(QInput(), QConv2d(1, 4, 3, binary=True), QSign(), QFlatten(),
                                  QLinear(256, 3, bias=False, binary=True)), (1, 10, 10)


QONNX = "qonnx.custom_op.general"


@pytest.mark.parametrize("name,model,shape", list(qonnx_models()), ids=[z[0] for z in qonnx_models()])
def test_the_default_export_is_qonnx_with_the_emulators_values(name, model, shape, tmp_path):
    """Every type QONNX expresses: only standard ops and QONNX quantizers (whose function
    bodies let onnxruntime run them too); qonnx's executor and onnxruntime give emulate's
    values at batch sizes 1 and 7, and the file reads as the fxhls-only export does."""
    x = (torch.randn(7, *shape) * 3).numpy()
    proto = export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "q.onnx")
    assert {n.domain for n in proto.graph.node} == {"", QONNX}
    assert {f.domain for f in proto.functions} <= {QONNX}
    expected = fxhls.emulate(tmp_path / "q.onnx", x)
    export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "f.onnx", qonnx=False)
    assert np.array_equal(expected, fxhls.emulate(tmp_path / "f.onnx", x))  # the same model either way
    for batch in (1, 7):
        assert np.array_equal(run_qonnx(tmp_path / "q.onnx", x[:batch]), expected[:batch])
        assert np.array_equal(run_onnxruntime(proto, x[:batch]), expected[:batch])


def test_qonnx_transformations_run_on_the_export(tmp_path):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.general import GiveUniqueNodeNames
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.util.cleanup import cleanup_model

    name, model, shape = list(qonnx_models())[1]
    x = (torch.randn(7, *shape) * 3).numpy()
    export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "q.onnx")
    wrapper = ModelWrapper(str(tmp_path / "q.onnx"))
    for value in [*wrapper.graph.input, *wrapper.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_value = 7
    wrapper = cleanup_model(wrapper).transform(GiveUniqueNodeNames()).transform(InferDataTypes())
    wrapper.save(str(tmp_path / "cleaned.onnx"))
    assert np.array_equal(run_qonnx(tmp_path / "cleaned.onnx", x), fxhls.emulate(tmp_path / "q.onnx", x))


def test_what_qonnx_cannot_express_stays_fxhls_and_runs_in_onnxruntime(tmp_path):
    model = nn.Sequential(QInput("ap_fixed<6,2,AP_RND,AP_WRAP>"),
                          QLinear(6, 5, output="ap_fixed<7,3,AP_RND_INF,AP_SAT_ZERO>", khot=2), QReLU(),
                          QLinear(5, 3, output="ap_fixed<30,10,AP_TRN_ZERO,AP_SAT_SYM>")).double()
    x = (torch.randn(7, 6, dtype=torch.float64) * 3).numpy()
    proto = export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "m.onnx")
    kinds = {(n.name, n.domain) for n in proto.graph.node if n.op_type in ("Quant", "Quantize")}
    assert {("0/Quantize", "fxhls"), ("1/Quantize", "fxhls"), ("2/Quantize", QONNX), ("3/Quantize", "fxhls"),
            ("1/weight/Quantize", QONNX)} <= kinds  # AP_WRAP, AP_SAT_ZERO, 30 bits (past float32) stay fxhls
    weight = next(n for n in proto.graph.node if n.name == "1/weight/Quantize")
    assert {a.name: helper.get_attribute_value(a) for a in weight.attribute}["khot"] == 2
    assert next(n for n in load_onnx(tmp_path / "m.onnx").nodes if n.name == "1/weight/Quantize").attrs["khot"] == 2
    expected = fxhls.emulate(tmp_path / "m.onnx", x)
    assert np.array_equal(expected, model.eval()(torch.from_numpy(x)).detach().numpy())
    for batch in (1, 7):
        assert np.array_equal(run_onnxruntime(proto, x[:batch]), expected[:batch])


def test_what_qonnx_cannot_express_is_refused_by_name(tmp_path):
    model = torch.nn.Sequential(QInput(), QLinear(4, 3, output="ap_fixed<8,3,AP_RND,AP_WRAP>"))
    with pytest.raises(ValueError) as err:
        export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx", qonnx=True)
    assert str(err.value).startswith("export_onnx(qonnx=True): node '1/Quantize' casts to "
                                     "ap_fixed<8,3,AP_RND>, which QONNX cannot express")
    assert not (tmp_path / "m.onnx").exists()


def test_a_float64_tensor_qonnx_computes_exactly_is_exported(tmp_path):
    """The K-hot zoo model's BatchNorm product has 28 bits: float64 in the file, which qonnx's
    executor (onnxruntime's float64 Mul) computes exactly."""
    name, model, shape = next(z for z in qfx_zoo() if z[0] == "khot")
    x = (torch.randn(7, *shape) * 3).numpy()
    proto = export_onnx(model, torch.from_numpy(x[:2]), tmp_path / "m.onnx", qonnx=True)
    assert {n.domain for n in proto.graph.node} == {"", QONNX}
    assert np.array_equal(run_qonnx(tmp_path / "m.onnx", x), fxhls.emulate(tmp_path / "m.onnx", x))


def test_a_conv_float32_cannot_hold_is_refused_for_qonnx(tmp_path):
    model = nn.Sequential(QInput("ap_fixed<16,4,AP_RND_CONV,AP_SAT>"),
                          QConv2d(1, 2, 3, weight="ap_fixed<16,2,AP_RND_CONV,AP_SAT>", bias=False))
    with pytest.raises(ValueError, match=r"^export_onnx\(qonnx=True\): node '1/Conv' computes a tensor wider than "
                                         r"float32 holds exactly, and onnxruntime .* has no float64 Conv"):
        export_onnx(model, torch.randn(2, 1, 5, 5), tmp_path / "m.onnx", qonnx=True)


_MODES = st.tuples(st.sampled_from(sorted(ROUNDING_MODES)), st.sampled_from(sorted(OVERFLOW_MODES)))


@st.composite
def layer_types(draw):
    def fixed(low, high):
        width = draw(st.integers(low, high))
        signed = draw(st.booleans()) if width > 1 else False
        return str(FixedType(width, draw(st.integers(-3, width + 3)), signed, *draw(_MODES)))
    return fixed(2, 12), fixed(2, 10), fixed(1, 20), fixed(1, 12)


@settings(max_examples=25, deadline=None)
@given(types=layer_types(), seed=st.integers(0, 2**16))
def test_any_types_export_run_in_onnxruntime_and_qonnx_with_the_emulators_values(types, seed, tmp_path_factory):
    x_type, w_type, out_type, relu_type = types
    torch.manual_seed(seed)
    model = nn.Sequential(QInput(x_type), QLinear(5, 4, weight=w_type, output=out_type), QReLU(relu_type),
                          QLinear(4, 3, weight=w_type))
    path = tmp_path_factory.mktemp("any") / "m.onnx"
    x = (torch.randn(7, 5) * 4).numpy()
    x[0] = np.ldexp(np.arange(5) + 0.5, -FixedType.parse(x_type).frac_bits)  # ties of the input's grid
    proto = export_onnx(model, torch.from_numpy(x[:2]), path)
    onnx.checker.check_model(proto, full_check=True)
    onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    expected = fxhls.emulate(path, x)
    assert np.array_equal(expected, model.eval()(torch.from_numpy(x)).detach().numpy())
    assert np.array_equal(run_onnxruntime(proto, x), expected)
    if {n.domain for n in proto.graph.node} <= {"", QONNX}:
        assert np.array_equal(run_qonnx(path, x), expected)


def test_hls4ml_converts_the_qonnx_export(tmp_path):
    """hls4ml's converter reads it after the qonnx steps hls4ml's documentation asks for. (Its
    predictions use hls4ml's own accumulator and result precisions, so they are not compared.)"""
    import hls4ml
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    name, model, shape = next(iter(qonnx_models()))
    export_onnx(model, torch.randn(2, *shape), tmp_path / "q.onnx")
    wrapper = ModelWrapper(str(tmp_path / "q.onnx"))
    for value in [*wrapper.graph.input, *wrapper.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_value = 1
    wrapper = cleanup_model(cleanup_model(wrapper).transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul()))
    config = hls4ml.utils.config.config_from_onnx_model(wrapper, granularity="name", backend="Vitis")
    converted = hls4ml.converters.convert_from_onnx_model(wrapper, hls_config=config, backend="Vitis",
                                                          output_dir=str(tmp_path / "hls4ml"))
    assert [layer.class_name for layer in converted.get_layers()].count("Dense") == 2


def test_each_type_has_its_own_function_body(tmp_path):
    """Types that differ only in the sign of their integer bits (<6,-1> and <6,1>) must not
    share an overload: onnxruntime would cast to the wrong one."""
    model = nn.Sequential(QInput("ap_fixed<6,-1,AP_RND_CONV,AP_SAT>"),
                          QLinear(4, 2, weight="ap_fixed<6,1,AP_RND_CONV,AP_SAT>", bias=False))
    proto = export_onnx(model, torch.randn(2, 4), tmp_path / "m.onnx", qonnx=False)
    types_of = {}
    for node in proto.graph.node:
        if node.op_type == "Quantize":
            types_of.setdefault(node.overload, set()).add(
                tuple(helper.get_attribute_value(a) for a in node.attribute if a.name in ("width", "int_bits")))
    assert len(types_of) == 3 and all(len(types) == 1 for types in types_of.values())
    x = np.random.default_rng(0).normal(size=(16, 4)) * 0.5
    assert np.array_equal(run_onnxruntime(proto, x), fxhls.emulate(tmp_path / "m.onnx", x))


@pytest.mark.parametrize("rounding", sorted(ROUNDING_MODES))
@pytest.mark.parametrize("overflow", sorted(OVERFLOW_MODES))
def test_the_quantize_function_body_on_ties_their_neighbours_and_extremes(rounding, overflow):
    """Where a Floor(q + 1/2) body would go wrong: just below a tie, at huge wrapping values,
    at values that underflow when scaled down; float32 values, so any body dtype holds them."""
    failures = {}
    for width, int_bits, signed in ((2, -4, True), (8, 3, True), (6, 8, False), (12, 2, True)):
        t = FixedType(width, int_bits, signed, rounding, overflow)
        ties = (np.arange(-6, 6) + 0.5) * t.lsb
        values = np.concatenate([ties, np.nextafter(ties.astype(np.float32), np.float32(np.inf)),
                                 np.nextafter(ties.astype(np.float32), np.float32(-np.inf)),
                                 [2.0**25, -(2.0**25), 2.0**30 + 2.0**20, 524288.0, 1e-40, -1e-40, -0.0]])
        values = values.astype(np.float32).astype(np.float64)
        got, expected = _cast_in_onnxruntime(t, values), quantize(values, t)
        if not np.array_equal(got, expected):
            failures[str(t)] = [(v, g, e) for v, g, e in zip(values, got, expected) if g != e][:3]
    assert failures == {}
