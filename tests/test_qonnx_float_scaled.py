"""Float-scaled QONNX: any float scale, zero points, every qonnx rounding mode, float work
between quantizers and at the host edges, emulated equal to qonnx's executor with `==`.

qonnx computes a MatMul or Conv by summing float32 products in float32; between
quantizers fxhls takes the exact sum, rounded once. The hand-built models give their
quantizers that feed a MatMul or Conv scales with few significant bits (3 * 2^-6, not a
power of two), so qonnx's sums are exact and equality is the claim; every other float
step (the input's normalisation, per-channel Mul and Add, Div, the last quantizer's
scale) uses arbitrary float32 values. A float last Gemm whose sum rounds runs on the host
in onnxruntime's order (Brevitas's default quantizers, the ResNet-18s): equal too.
"""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes
from qonnx.util.cleanup import cleanup_model

from float_scaled_models import (BATCH, BREVITAS_DEFAULT, brevitas_default, cnn, finn_example,
                                 first_conv_on_the_float_input, mlp, model, quant, resnet18, trunc_pool)
from fxhls.emulation import emulate
from fxhls.fixed import FixedType
from fxhls.ir import OPS, Node, execute
from fxhls.fixed.float32 import quant_codes, run_chain
from fxhls.ir.requantize import thresholds
from fxhls.onnx import load_onnx



def _qonnx(onnx_model, x):
    wrapper = cleanup_model(ModelWrapper(onnx_model.SerializeToString()))
    return next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))


def _mismatches(a, b) -> int:
    assert a.shape == b.shape
    return int((a != b).sum())


def _inputs(shape, seed=0):
    return (np.random.default_rng(seed).normal(size=(BATCH, *shape)) * 2).astype(np.float32)


# --- one quantizer: the host's input cast and output, on ties and their neighbours --------

@pytest.mark.parametrize("change", [
    {"scale": 0.1}, {"scale": 0.037, "zero": 3.0, "signed": 0}, {"scale": np.linspace(0.01, 0.2, 64)},
    {"scale": 0.125, "rounding_mode": "CEIL"}, {"scale": 0.125, "rounding_mode": "UP"},
    {"scale": 0.125, "rounding_mode": "HALF_UP"}, {"scale": 0.3, "rounding_mode": "HALF_DOWN", "bits": 4},
    {"scale": 0.125, "signed": 0, "narrow": 1},
])
def test_a_quant_no_ap_fixed_cast_expresses_is_computed_on_the_host_as_qonnx_does(change):
    node, initializers = quant("x", "y", **{"bits": 5, **change})
    onnx_model = model([node], initializers, (64,))
    scale = np.broadcast_to(np.asarray(change["scale"], dtype=np.float32), (64,))
    ties = ((np.arange(-20, 20)[:, None] + 0.5) * scale[None, :]).astype(np.float32)
    probes = np.concatenate([ties, np.nextafter(ties, np.float32(9)), np.nextafter(ties, np.float32(-9)),
                             _inputs((64,)), np.zeros((1, 64), np.float32)])
    graph = load_onnx(onnx_model)
    assert [n.op for n in graph.nodes] == ["HostQuantize", "HostFloat"]
    for start in range(0, len(probes) - BATCH + 1, BATCH):
        x = probes[start:start + BATCH]
        assert _mismatches(emulate(graph, x), _qonnx(onnx_model, x)) == 0


# --- layers: integer work on codes, thresholds from the float chain -------------------------

@pytest.mark.parametrize("build,shape,ops", [
    (mlp, (8,), ["HostQuantize", "Gemm", "MultiThreshold", "Gemm", "HostFloat"]),
    (cnn, (2, 4, 4), ["HostQuantize", "Conv", "MultiThreshold", "MaxPool", "Flatten", "Gemm", "MulShift",
                       "HostFloat"]),
])
def test_a_float_scaled_model_emulates_exactly_as_qonnx_executes_it(build, shape, ops):
    onnx_model = build()
    graph = load_onnx(onnx_model)
    assert [n.op for n in graph.nodes] == ops
    mismatches = 0
    for seed in range(8):
        x = _inputs(shape, seed)
        expected = _qonnx(onnx_model, x)
        assert len(np.unique(expected)) > 4
        mismatches += _mismatches(execute(graph, x)[0], expected)
    assert mismatches == 0


@pytest.mark.parametrize("rounding", ["ROUND", "FLOOR", "HALF_UP", "CEIL"])
def test_thresholds_equal_the_float_chain_on_every_accumulator_value(rounding):
    """Rising and falling channels (a negative multiplier, value subtracted from a
    constant), a ReLU, a division: every code of every value of the accumulator type."""
    source = FixedType(13, 11, True)
    chain = {"rescale": {"zero": [0.0], "scales": [[0.0371], [0.011, -0.023, 0.5, 0.0007]], "bias": [0.3, -1, 0, 2]},
             "steps": [{"op": "mul", "constant": [1.7, 0.9, -0.3, 12.5]}, {"op": "sub_from", "constant": [0.1]},
                       {"op": "relu"}, {"op": "div", "constant": [0.77, 1.3, 0.05, 3.0]}]}
    quant = {"scale": [0.021], "zero": [0.0], "bits": 6, "signed": False, "narrow": False, "rounding": rounding}
    levels, direction, base = thresholds(chain, quant, source, 4)
    assert set(direction) == {1, -1}
    node = Node("MultiThreshold", "t", ["x", "t"], ["y"], {"direction": direction, "base": base})
    grid = np.arange(source.min_code, source.max_code + 1, dtype=np.float64) * source.lsb
    values = np.repeat(grid[:, None], 4, axis=1)
    expected = quant_codes(run_chain(values, chain, 1), quant, 1)
    assert len(np.unique(expected)) > 20
    assert _mismatches(OPS["MultiThreshold"].execute(node, [values, levels])[0], expected) == 0


@pytest.mark.parametrize("rounding", ["FLOOR", "ROUND"])
def test_a_float_scaled_average_pool_then_trunc_emulates_as_qonnx_executes_it(rounding):
    """Brevitas's TruncAvgPool on float-scaled codes: an exact average, then qonnx's Trunc."""
    onnx_model = trunc_pool(rounding)
    graph = load_onnx(onnx_model)
    assert [n.op for n in graph.nodes] == ["HostQuantize", "AveragePool", "MultiThreshold", "HostFloat"]
    x = _inputs((2, 4, 4)) + 1
    expected = _qonnx(onnx_model, x)
    assert len(np.unique(expected)) > 4
    assert _mismatches(execute(graph, x)[0], expected) == 0


def _average_of_nine(trunc_scale_divisor=9, follower="Trunc"):
    """Quant (4 bits, scale 0.0371) -> AveragePool 3x3 (9 values) -> Brevitas's Trunc (input
    scale s / 9, 8 bits in, 16 times that scale and 4 bits out, FLOOR) -> Mul -> y; or a Quant
    in its place."""
    first, inits = quant("x", "q0", 0.0371, bits=4, signed=0)
    pool = helper.make_node("AveragePool", ["q0"], ["pooled"], name="pool", kernel_shape=[3, 3], strides=[1, 1])
    if follower == "Trunc":
        t = np.float32(0.0371) / np.float32(trunc_scale_divisor)
        last = helper.make_node("Trunc", ["pooled", "ts", "tz", "tb", "tos", "tob"], ["t"], name="trunc",
                                domain="qonnx.custom_op.general", rounding_mode="FLOOR", signed=0, narrow=0)
        more = [("ts", t), ("tz", 0.0), ("tb", 8.0), ("tos", t * 16), ("tob", 4.0)]
    else:
        last, more = quant("pooled", "t", 0.05, bits=4, signed=0)
    return model([first, pool, last, helper.make_node("Mul", ["t", "c"], ["y"])], inits + more + [("c", 0.77)],
                 (2, 6, 6))


def test_an_average_of_nine_codes_then_trunc_is_the_exact_window_sum_equal_to_qonnx():
    """Brevitas's TruncAvgPool over a window that is no power of two (MobileNet's 7x7):
    qonnx's float32 average, divided by the Trunc's scale and rounded, is the window sum."""
    onnx_model = _average_of_nine()
    graph = load_onnx(onnx_model)
    assert [n.op for n in graph.nodes] == ["HostQuantize", "Conv", "MultiThreshold", "HostFloat"]
    _equal_to_qonnx(onnx_model, (2, 6, 6), seeds=8)


def test_an_average_of_nine_codes_read_otherwise_or_truncated_off_its_sum_is_refused():
    message = _refusal(_average_of_nine(follower="Quant"))
    assert "'t'" in message and "'pool'" in message and "Trunc" in message, message
    message = _refusal(_average_of_nine(trunc_scale_divisor=8))
    assert "'trunc'" in message and "'pool'" in message and "window's sum" in message, message


# --- refusals: one line, naming the node ----------------------------------------------------

def test_an_integer_zero_point_makes_codes_less_it_exact_in_a_gemm():
    """Asymmetric activations (uint8, zero point 100 and 7) into Gemm: the tensor holds q - z."""
    first, inits = quant("x", "q0", 3 * 2.0**-6, zero=100.0, signed=0)
    weight, more = quant("w", "wq", 5 * 2.0**-7)
    second, last = quant("acc", "q1", 0.0917, zero=7.0, signed=0, bits=5)
    rng = np.random.default_rng(5)
    onnx_model = model([first, weight, helper.make_node("Gemm", ["q0", "wq"], ["acc"], transB=1), second,
                        helper.make_node("Mul", ["q1", "c"], ["y"])],
                       inits + more + last + [("w", rng.normal(size=(6, 8)) * 0.3), ("c", 1.7)], (8,))
    graph = load_onnx(onnx_model)
    assert [n.op for n in graph.nodes] == ["HostQuantize", "Gemm", "MultiThreshold", "HostFloat"]
    assert str(graph.tensors["q0"].type) == "ap_fixed<9,9>"  # 0 - 100 to 255 - 100
    for seed in range(4):
        x = _inputs((8,), seed) + 1
        expected = _qonnx(onnx_model, x)
        assert len(np.unique(expected)) > 4
        assert _mismatches(execute(graph, x)[0], expected) == 0


def _refusal(onnx_model) -> str:
    with pytest.raises(ValueError) as info:
        load_onnx(onnx_model)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_float_value_into_a_gemm_is_refused():
    node, inits = quant("x", "q", 0.1)
    onnx_model = model([node, helper.make_node("Mul", ["q", "c"], ["m"]),
                    helper.make_node("Gemm", ["m", "w"], ["y"], name="fc", transB=1)],
                   inits + [("c", 0.5), ("w", np.ones((2, 8)))], (8,))
    message = _refusal(onnx_model)
    assert "'fc'" in message and "float value" in message and "Quant" in message


@pytest.mark.parametrize("change,words", [({"bits": 0}, ["from 1 to 32"]), ({"bits": 33}, ["from 1 to 32"]),
                                          ({"bits": 12}, ["4,095 thresholds", "multiply-and-shift"]),
                                          ({"scale": -0.3}, ["positive"]),
                                          ({"rounding_mode": "NEAREST"}, ["NEAREST", "HALF_UP"])])
def test_a_quantizer_out_of_range_is_refused(change, words):
    first, inits = quant("x", "q0", 0.1)
    weight, more = quant("w", "wq", 0.25)
    last, final = quant("acc", "y", **{"scale": 0.3, **change})
    onnx_model = model([first, weight, helper.make_node("Gemm", ["q0", "wq"], ["acc"], transB=1), last],
                       inits + more + final + [("w", np.ones((2, 8)))], (8,))
    message = _refusal(onnx_model)
    assert "'y'" in message and all(word in message for word in words), message


def test_a_constant_divided_by_a_float_value_is_refused():
    node, inits = quant("x", "q", 0.1)
    onnx_model = model([node, helper.make_node("Div", ["c", "q"], ["y"], name="inv")], inits + [("c", 1.0)], (8,))
    assert "'inv'" in _refusal(onnx_model) and "not monotone" in _refusal(onnx_model)


def test_codes_with_a_fractional_zero_point_into_a_gemm_are_refused():
    node, inits = quant("x", "q", 0.1, zero=2.5, signed=0)
    weight, more = quant("w", "wq", 0.25)
    onnx_model = model([node, weight, helper.make_node("Gemm", ["q", "wq"], ["y"], name="fc", transB=1)],
                       inits + more + [("w", np.ones((2, 8)))], (8,))
    message = _refusal(onnx_model)
    assert "'fc'" in message and "zero point" in message


def _equal_to_qonnx(onnx_model, shape, seeds=4) -> None:
    graph = load_onnx(onnx_model)
    for seed in range(seeds):
        x = _inputs(shape, seed)
        expected = _qonnx(onnx_model, x)
        assert len(np.unique(expected)) > 4
        assert _mismatches(emulate(graph, x), expected) == 0


def test_a_residual_add_of_codes_of_one_scale_is_integer_work():
    first, inits = quant("x", "a", 3 * 2.0**-6)
    second, more = quant("x", "b", 3 * 2.0**-6, bits=4, rounding_mode="FLOOR")
    last, final = quant("sum", "y", 0.0371)
    onnx_model = model([first, second, helper.make_node("Add", ["a", "b"], ["sum"], name="sum"), last],
                       inits + more + final, (8,))
    assert [n.op for n in load_onnx(onnx_model).nodes][:3] == ["HostQuantize", "HostQuantize", "Add"]
    _equal_to_qonnx(onnx_model, (8,))


@pytest.mark.parametrize("scales", [(0.0123, 0.3), (0.0123, 0.0123), (0.1, 0.2)])
def test_a_residual_add_whose_float32_values_round_adds_them_exactly(scales):
    """Scales whose values s * q round in float32 (two scales, or one): each operand's
    float32 values from a table of its codes, their exact sum, one rounding."""
    first, inits = quant("x", "a", scales[0])
    second, more = quant("x", "b", scales[1], bits=4)
    last, final = quant("sum", "q", 0.0371)
    nodes = [first, second, helper.make_node("Add", ["a", "b"], ["sum"], name="sum"), last,
             helper.make_node("Mul", ["q", "c"], ["y"])]
    onnx_model = model(nodes, inits + more + final + [("c", 0.7)], (8,))
    assert [n.op for n in load_onnx(onnx_model).nodes][2:5] == ["Table", "Table", "Add"]
    _equal_to_qonnx(onnx_model, (8,), seeds=8)


def test_an_add_of_codes_too_wide_for_a_table_is_refused_naming_both_scales():
    first, inits = quant("x", "a", 0.0123, bits=20)
    second, more = quant("x", "b", 0.3)
    onnx_model = model([first, second, helper.make_node("Add", ["a", "b"], ["y"], name="sum")], inits + more, (8,))
    message = _refusal(onnx_model)
    assert "'sum'" in message and "0.0123" in message and "0.3" in message and "table" in message, message


def test_a_concat_of_codes_of_per_tensor_scales_along_the_channels_is_exact():
    """One scale: codes of that scale; two scales (and widths): codes of a per-channel scale,
    requantized after it and the host's float output."""
    first, inits = quant("x", "a", 3 * 2.0**-6)
    for second, more in (quant("x", "b", 3 * 2.0**-6, rounding_mode="FLOOR"), quant("x", "b", 0.3, bits=4)):
        joined = helper.make_node("Concat", ["a", "b"], ["j"], name="join", axis=1)
        last, final = quant("j", "y", 0.0371, bits=5)
        _equal_to_qonnx(model([first, second, joined, last], inits + more + final, (8,)), (8,))
        joined = helper.make_node("Concat", ["a", "b"], ["y"], name="join", axis=1)
        _equal_to_qonnx(model([first, second, joined], inits + more, (8,)), (8,))


def test_a_concat_of_two_scales_along_the_image_rows_is_refused_naming_both():
    first, inits = quant("x", "a", 3 * 2.0**-6)
    second, more = quant("x", "b", 0.3)
    joined = helper.make_node("Concat", ["a", "b"], ["y"], name="join", axis=2)
    message = _refusal(model([first, second, joined], inits + more, (2, 4, 4)))
    assert "'join'" in message and "0.046875" in message and "0.3" in message


# --- FINN's example networks (brevitas_examples.bnn_pynq), untrained, with random BatchNorm ----

@pytest.mark.parametrize("name", ["tfc_1w1a", "tfc_1w2a", "tfc_2w2a", "sfc_1w1a", "sfc_1w2a", "sfc_2w2a", "lfc_1w1a",
                                  "lfc_1w2a", "cnv_1w2a", "cnv_2w2a"])
def test_finn_example_networks_emulate_exactly_as_qonnx_executes_them(name, tmp_path):
    """Their input quantizer's scale is 1/127, so qonnx's first sums round in float32: on
    these seeded weights and inputs no accumulator lies within that rounding of a threshold,
    and every output equals qonnx's (measured; not guaranteed for every input)."""
    x = finn_example(name, tmp_path / "m.onnx")
    graph = load_onnx(tmp_path / "m.onnx")
    assert {"HostQuantize", "MultiThreshold", "HostFloat"} <= {node.op for node in graph.nodes}
    wrapper = cleanup_model(ModelWrapper(str(tmp_path / "m.onnx")))
    expected = next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
    assert len(np.unique(expected)) > 4
    assert _mismatches(execute(graph, x)[0], expected) == 0


# --- a float last layer: the host's float32 Gemm in onnxruntime's order -------------------

def _host_tail(graph) -> dict:
    return next(node.attrs["chain"] for node in graph.nodes if node.op == "HostFloat")


@pytest.mark.parametrize("name,samples", [*((name, 16) for name in BREVITAS_DEFAULT), ("brevitas_mlp", 1)])
def test_brevitas_default_float_outputs_equal_qonnx_executor(name, samples, tmp_path):
    """Their last layer is a float Gemm of float-scaled codes whose float32 sum depends on
    the order of its additions: the host computes it as onnxruntime does (a batch of one:
    MLAS's own kernel), and every float output equals qonnx's executor with ==."""
    x = brevitas_default(name, tmp_path / "m.onnx", samples=samples)
    graph = load_onnx(tmp_path / "m.onnx")
    assert "dense" in _host_tail(graph)
    wrapper = cleanup_model(ModelWrapper(str(tmp_path / "m.onnx")))
    expected = next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
    assert len(np.unique(expected)) > min(16, expected.size // 2)
    assert _mismatches(emulate(graph, x), expected) == 0


@pytest.mark.parametrize("name,samples", [("bnn_pynq", 2), ("a2q", 1)])
def test_resnet18_float_outputs_equal_qonnx_executor(name, samples, tmp_path):
    """brevitas_examples' ResNet-18s (untrained, random BatchNorm): every code inside and
    every float output of their last Gemm equal qonnx's executor with ==."""
    x = resnet18(name, tmp_path / "m.onnx", samples=samples)
    graph = load_onnx(tmp_path / "m.onnx")
    assert "dense" in _host_tail(graph)
    wrapper = cleanup_model(ModelWrapper(str(tmp_path / "m.onnx")))
    expected = next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
    assert len(np.unique(expected)) == expected.size
    assert _mismatches(emulate(graph, x), expected) == 0


def test_a_last_gemm_exact_in_every_order_stays_integer_work_in_hardware():
    """mlp's last Gemm: codes of 7 * 2^-7 times weights 3 * 2^-7 * q (6 bits), 16 of them:
    every sum is a float32, so the hardware's exact sum is qonnx's; the host only scales."""
    graph = load_onnx(mlp())
    assert "dense" not in _host_tail(graph) and "Gemm" in [node.op for node in graph.nodes]
    _equal_to_qonnx(mlp(), (8,))


# --- the host head: a first layer on the float input ----------------------------------------

def _qonnx_tensor(onnx_model, x, name: str) -> np.ndarray:
    wrapper = ModelWrapper(onnx_model.SerializeToString()).transform(InferShapes())
    return execute_onnx(wrapper, {"x": x}, return_full_exec_context=True)[name]


@pytest.mark.parametrize("preprocess", [True, False])
def test_a_first_conv_on_the_float_input_runs_on_the_host_as_qonnx_computes_it(preprocess):
    """The Conv, its BatchNorm and ReLU and the first Quant are the host head (float32 in
    onnxruntime's order): the first codes and the output equal qonnx's executor with ==."""
    onnx_model = first_conv_on_the_float_input(preprocess)
    graph = load_onnx(onnx_model)
    head = next(node for node in graph.nodes if node.op == "HostQuantize")
    assert "conv" in head.attrs["chain"] and graph.tensor(head.outputs[0]).shape == (8, 10, 10)
    for seed in range(3):
        x = _inputs((3, 10, 10), seed)
        graph_codes = load_onnx(onnx_model)
        graph_codes.outputs = [head.outputs[0]]
        facts = graph_codes.tensor(head.outputs[0]).facts
        values = (execute(graph_codes, x)[0] - facts["zero_point"][None]) * facts["scale"][None]
        expected_codes = _qonnx_tensor(onnx_model, x, "a1")
        assert len(np.unique(expected_codes)) == 16
        assert _mismatches(values.astype(np.float32), expected_codes) == 0
        expected = _qonnx(onnx_model, x)
        assert len(np.unique(expected)) > 16
        assert _mismatches(emulate(graph, x), expected) == 0


def test_a_first_layer_reading_the_float_input_through_a_flatten_is_refused_for_the_hardware():
    """The host computes the first layer on the float input itself: the emulator runs the
    model; splitting it for the hardware is refused in one line naming the layer."""
    from fxhls.ir.passes.host_edges import split_host_edges

    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Flatten", ["x"], ["flat"], name="flatten"),
             helper.make_node("MatMul", ["flat", "wq"], ["m"], name="first_matmul")]
    inits = [("w", rng.normal(size=(8, 5)))]
    for node, more in [quant("w", "wq", 0.0213, bits=4, narrow=1), quant("m", "y", 0.173, bits=6)]:
        nodes.append(node)
        inits += more
    graph = load_onnx(model(nodes, inits, (2, 4)))
    x = _inputs((2, 4))
    assert _mismatches(emulate(graph, x), _qonnx(model(nodes, inits, (2, 4)), x)) == 0
    with pytest.raises(ValueError, match=r"^node 'first_matmul': the host computes the first layer on the model's "
                                         r"float input itself, and this one reads 'flat' \(computed by node 'flatten'"):
        split_host_edges(graph)
