"""Softmax and ArgMax in the IR and at import (`fxhls.ir.ops.softmax`, `fxhls.ir.ops.argmax`,
`fxhls.onnx.softmax_ops`): the op's emulation against the algorithm written here with Python
integers and fractions, over hypothesis-drawn types and values; ArgMax against numpy's
argmax of the emulator's logits; what the import reads, types and refuses.
(C simulation and co-simulation: tests/test_softmax_hardware.py.)"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import onnx
import pytest
import torch
from hypothesis import assume, given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper

from fxhls.emulation import emulate
from fxhls.fixed import FixedType, quantize
from fxhls.ir import Node
from fxhls.ir.ops.argmax import ArgMax
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.ops.softmax import Softmax, softmax_types, table_sizes
from fxhls.model_config import read_config
from fxhls.onnx import load_onnx
from float_models import export_torch

DEFAULT = "ap_fixed<16,6>"


# --- the algorithm, written again with Python ints and Fractions -------------------------

def _cast(value: Fraction, t: FixedType) -> Fraction:
    """C++ `t r = value;` for the modes drawn below (AP_TRN, AP_RND, AP_RND_CONV; AP_SAT, AP_WRAP)."""
    scaled = value * 2 ** t.frac_bits
    floor = math.floor(scaled)
    rest = scaled - floor
    if t.rounding == "AP_RND":
        code = floor + (rest >= Fraction(1, 2))
    elif t.rounding == "AP_RND_CONV":
        code = floor + (rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1))
    else:
        code = floor
    if t.overflow == "AP_SAT":
        code = min(max(code, t.min_code), t.max_code)
    else:
        code = (code - t.min_code) % (1 << t.width) + t.min_code
    return Fraction(code) / 2 ** t.frac_bits


def _reference_softmax(x: list[Fraction], types) -> list[Fraction]:
    """Steps 1-6 of fxhls.ir.ops.softmax, without tables: every exp and 1/s computed for its value."""
    largest = max(x)
    e = [_cast(Fraction(math.exp(-float(largest - value))), types.exp) for value in x]
    s = _cast(sum(e), types.sum)
    r = _cast(1 / s, types.reciprocal)
    return [_cast(value * r, types.out) for value in e]


_MODES = st.sampled_from(["AP_TRN", "AP_RND", "AP_RND_CONV"])


@st.composite
def _softmax_cases(draw):
    width = draw(st.integers(2, 11))
    x_type = FixedType(width, draw(st.integers(-2, 6)), draw(st.booleans()))
    out_type = FixedType(draw(st.integers(2, 14)), draw(st.integers(0, 3)), draw(st.booleans()), draw(_MODES),
                         draw(st.sampled_from(["AP_SAT", "AP_WRAP"])))
    internal = {}
    for name in ("exp_type", "sum_type", "reciprocal_type"):
        if draw(st.booleans()):  # else the default
            int_bits = draw(st.integers(1, 5)) if name == "sum_type" else 1
            internal[name] = str(FixedType(int_bits + draw(st.integers(1, 12)), int_bits, False, draw(_MODES),
                                           "AP_SAT"))
    classes, batch = draw(st.integers(1, 9)), draw(st.integers(1, 4))
    codes = draw(st.lists(st.integers(x_type.min_code, x_type.max_code), min_size=classes * batch,
                          max_size=classes * batch))
    return x_type, Node("Softmax", "s", ["x"], ["y"], {**type_attrs(out_type), **internal}), classes, codes


@settings(max_examples=300, deadline=None)
@given(_softmax_cases())
def test_softmax_emulation_equals_the_algorithm_in_fractions(case):
    x_type, node, classes, codes = case
    types = softmax_types(node, x_type, classes)
    try:
        table_sizes(types)
    except ValueError:  # types the op refuses (tables too large, sums that overflow): tested below
        assume(False)
    x = np.array(codes, dtype=np.float64).reshape(-1, classes) * x_type.lsb
    got = Softmax.execute(node, [x], [x_type])[0]
    wanted = [_reference_softmax([Fraction(value) for value in row], types) for row in x.tolist()]
    assert got.tolist() == [[float(value) for value in row] for row in wanted]


def test_softmax_of_an_image_is_per_pixel():
    x_type = FixedType.parse("ap_fixed<8,4>")
    node = Node("Softmax", "s", ["x"], ["y"], type_attrs(FixedType.parse("ap_ufixed<10,1,AP_RND,AP_SAT>")))
    image = quantize(np.random.default_rng(0).normal(size=(2, 3, 4, 5)) * 2, x_type)
    by_pixel = image.transpose(0, 2, 3, 1).reshape(-1, 3)
    got = Softmax.execute(node, [image], [x_type])[0]
    assert (got.transpose(0, 2, 3, 1).reshape(-1, 3) == Softmax.execute(node, [by_pixel], [x_type])[0]).all()


def test_default_types_and_their_error_against_float():
    """At ap_fixed<16,6> in and out, 10 classes: the figures the README gives (bench/softmax_error.py)."""
    x_type = FixedType.parse(DEFAULT)
    node = Node("Softmax", "s", ["x"], ["y"], type_attrs(x_type))
    types = softmax_types(node, x_type, 10)
    assert (str(types.exp), str(types.sum), str(types.reciprocal)) == (
        "ap_ufixed<13,1,AP_RND,AP_SAT>", "ap_ufixed<14,4,AP_RND,AP_SAT>", "ap_ufixed<13,1,AP_RND,AP_SAT>")
    assert table_sizes(types) == {"exp": 9229, "reciprocal": 9217}
    x = quantize(np.random.default_rng(0).normal(size=(2000, 10)) * 3, x_type)
    y = Softmax.execute(node, [x], [x_type])[0]
    reference = torch.softmax(torch.tensor(x), dim=1).numpy()
    assert np.abs(y - reference).max() < 2 * x_type.lsb
    assert (y.argmax(axis=1) == reference.argmax(axis=1)).mean() > 0.99


# --- ArgMax -------------------------------------------------------------------------------

def test_argmax_takes_the_lowest_index_of_ties():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [0.5, 0.5, 0.5, 0.5], [-1.0, -2.0, -1.0, -3.0]])
    node = Node("ArgMax", "a", ["x"], ["y"])
    assert ArgMax.execute(node, [x])[0].tolist() == [[1.0], [0.0], [0.0]]


def _mlp(head: torch.nn.Module | None):
    torch.manual_seed(0)
    layers = [torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10)]
    return torch.nn.Sequential(*layers, *([head] if head is not None else [])).eval()


class _ArgMaxHead(torch.nn.Module):
    def forward(self, x):
        return torch.argmax(x, dim=1)


def test_argmax_of_a_torch_model_is_numpy_argmax_of_the_emulated_logits(tmp_path):
    """At ap_fixed<6,3> the logits tie often: the lowest index wins, as numpy's argmax."""
    export_torch(_mlp(None), (8,), tmp_path / "logits.onnx")
    export_torch(_mlp(_ArgMaxHead()), (8,), tmp_path / "argmax.onnx")
    x = np.random.default_rng(3).normal(size=(500, 8))
    logits = emulate(tmp_path / "logits.onnx", x, default_type="ap_fixed<6,3>")
    ties = (logits == logits.max(axis=1, keepdims=True)).sum(axis=1) > 1
    assert ties.sum() > 20
    classes = emulate(tmp_path / "argmax.onnx", x, default_type="ap_fixed<6,3>")
    assert classes.dtype == np.int64 and classes.shape == (500, 1)
    assert (classes[:, 0] == logits.argmax(axis=1)).all()


# --- import -------------------------------------------------------------------------------

def _helper_model(path, head_nodes, classes=6, image=False, opset=13, extra_inits=()):
    """x -> Gemm (or a 1x1 Conv on a 3x2x2 image) -> head; float32 initializers."""
    rng = np.random.default_rng(1)
    if image:
        body = helper.make_node("Conv", ["x", "w", "b"], ["z"], name="conv")
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 2, 2])
        inits = [numpy_helper.from_array(rng.normal(size=(classes, 3, 1, 1)).astype(np.float32), "w")]
    else:
        body = helper.make_node("Gemm", ["x", "w", "b"], ["z"], name="fc", transB=1)
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])
        inits = [numpy_helper.from_array(rng.normal(size=(classes, 8)).astype(np.float32), "w")]
    inits += [numpy_helper.from_array(rng.normal(size=classes).astype(np.float32), "b"), *extra_inits]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])
    graph = helper.make_graph([body, *head_nodes], "g", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return path


def test_config_types_reach_the_softmax_node(tmp_path):
    path = _helper_model(tmp_path / "m.onnx", [helper.make_node("Softmax", ["z"], ["y"], name="head", axis=1)])
    (tmp_path / "c.yaml").write_text("default_type: ap_fixed<12,4>\nlayers:\n  head:\n    output: ap_ufixed<9,1,AP_RND,"
                                     "AP_SAT>\n    exp: ap_ufixed<11,1,AP_RND,AP_SAT>\n    sum: ap_ufixed<8,3>\n")
    config = read_config(tmp_path / "c.yaml")
    node = load_onnx(path, config=config).nodes[-1]
    assert node.op == "Softmax" and node.attrs["exp_type"] == "ap_ufixed<11,1,AP_RND,AP_SAT>"
    assert node.attrs["sum_type"] == "ap_ufixed<8,3>" and node.attrs["reciprocal_type"] == \
        "ap_ufixed<11,1,AP_RND,AP_SAT>"  # the default: the output's 8 fractional bits + 3
    assert FixedType(node.attrs["width"], node.attrs["int_bits"], False) == FixedType(9, 1, False)
    (tmp_path / "again.yaml").write_text(config.to_yaml())
    assert read_config(tmp_path / "again.yaml").layers == config.layers


@pytest.mark.parametrize("head, image, opset, outputs", [
    (helper.make_node("Softmax", ["z"], ["y"], name="head"), False, 13, "Softmax"),
    (helper.make_node("Softmax", ["z"], ["y"], name="head", axis=1), True, 13, "Softmax"),
    (helper.make_node("Softmax", ["z"], ["y"], name="head"), False, 11, "Softmax"),
    (helper.make_node("ArgMax", ["z"], ["y"], name="head", axis=1, keepdims=0), False, 13, "ArgMax"),
    (helper.make_node("ArgMax", ["z"], ["y"], name="head", axis=-3), True, 13, "ArgMax"),
    (helper.make_node("TopK", ["z", "k"], ["values", "y"], name="head", axis=-1), False, 13, "ArgMax"),
])
def test_the_class_axis_is_read(tmp_path, head, image, opset, outputs):
    k = [numpy_helper.from_array(np.array([1], dtype=np.int64), "k")]
    path = _helper_model(tmp_path / "m.onnx", [head], image=image, opset=opset, extra_inits=k)
    graph = load_onnx(path, default_type="ap_fixed<10,4>")
    assert graph.nodes[-1].op == outputs
    x = np.random.default_rng(0).normal(size=(50, 3, 2, 2) if image else (50, 8))
    y = emulate(path, x, default_type="ap_fixed<10,4>")
    if outputs == "ArgMax":
        assert y.dtype == np.int64 and y.shape == ((50, 1, 2, 2) if image else (50, 1))


def _refusal(path, **types) -> str:
    with pytest.raises(ValueError) as info:
        load_onnx(path, **({"default_type": DEFAULT} | types))
    message = str(info.value)
    assert "\n" not in message and message.startswith("node 'head'"), message
    return message


@pytest.mark.parametrize("head, image, opset, words", [
    (helper.make_node("Softmax", ["z"], ["y"], name="head", axis=0), False, 13, ["axis 0", "the class axis, 1 or -1"]),
    (helper.make_node("Softmax", ["z"], ["y"], name="head", axis=-1), True, 13, ["axis -1", "1 or -3 (per pixel)"]),
    (helper.make_node("Softmax", ["z"], ["y"], name="head", axis=1), True, 11, ["opset 11", "C x H x W"]),
    (helper.make_node("ArgMax", ["z"], ["y"], name="head"), False, 13, ["axis 0"]),
    (helper.make_node("ArgMax", ["z"], ["y"], name="head", axis=1, select_last_index=1), False, 13,
     ["select_last_index=1", "lowest index"]),
    (helper.make_node("TopK", ["z", "k2"], ["values", "y"], name="head"), False, 13, ["k = 1"]),
    (helper.make_node("TopK", ["z", "k"], ["values", "y"], name="head", largest=0), False, 13, ["largest=0"]),
])
def test_what_is_not_the_class_axis_is_refused_in_one_line(tmp_path, head, image, opset, words):
    inits = [numpy_helper.from_array(np.array([k], dtype=np.int64), name) for k, name in ((1, "k"), (2, "k2"))]
    message = _refusal(_helper_model(tmp_path / "m.onnx", [head], image=image, opset=opset, extra_inits=inits))
    assert all(word in message for word in words), message


def test_topk_values_in_use_are_refused(tmp_path):
    head = helper.make_node("TopK", ["z", "k"], ["values", "indices"], name="head")
    use = helper.make_node("Cast", ["values"], ["y"], name="use", to=TensorProto.FLOAT)
    k = [numpy_helper.from_array(np.array([1], dtype=np.int64), "k")]
    message = _refusal(_helper_model(tmp_path / "m.onnx", [head, use], extra_inits=k))
    assert "values output 'values' is used" in message and "indices" in message


def test_too_large_an_exp_table_is_refused_with_its_size_and_options(tmp_path):
    path = _helper_model(tmp_path / "m.onnx", [helper.make_node("Softmax", ["z"], ["y"], name="head")])
    message = _refusal(path, default_type="ap_fixed<22,8>")
    assert "exp table over the differences of ap_fixed<22,8>" in message and "entries" in message
    assert "narrower input type" in message and "config exp type" in message


def test_too_large_a_reciprocal_table_is_refused_with_its_size_and_options(tmp_path):
    path = _helper_model(tmp_path / "m.onnx", [helper.make_node("Softmax", ["z"], ["y"], name="head")])
    (tmp_path / "c.yaml").write_text("default_type: ap_fixed<16,6>\nlayers:\n  head: {sum: 'ap_ufixed<20,3>'}\n")
    message = _refusal(path, config=tmp_path / "c.yaml")
    assert "reciprocal table over the sums 1 .. 6 in ap_ufixed<20,3> would hold 655,361 entries" in message
    assert "config sum type with fewer fractional bits" in message


_QONNX = "qonnx.custom_op.general"


def _quantized(head, scale: float, output=TensorProto.FLOAT, batch=300):
    """QONNX: Quant (8 bits at `scale`) then `head` over 5 classes."""
    quant = helper.make_node("Quant", ["x", "s", "z", "b"], ["q"], name="q", domain=_QONNX, signed=1, narrow=0,
                             rounding_mode="ROUND")
    inits = [numpy_helper.from_array(np.array(v, dtype=np.float32), k) for k, v in
             (("s", scale), ("z", 0.0), ("b", 8.0))]
    graph = helper.make_graph([quant, head], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 5])],
                              [helper.make_tensor_value_info("y", output, [batch, 1])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(_QONNX, 1)])


def test_softmax_after_a_quantizer_gets_a_default_output_type():
    model = _quantized(helper.make_node("Softmax", ["q"], ["y"], name="head"), 0.0625)
    graph = load_onnx(model)
    assert graph.nodes[-1].op == "Softmax"
    assert graph.tensor(graph.outputs[0]).type == FixedType(8, 1, False, "AP_RND", "AP_SAT")
    x = np.random.default_rng(0).normal(size=(200, 5)) * 3
    codes = quantize(x, FixedType(8, 4, True, "AP_RND_CONV", "AP_SAT"))
    assert np.abs(emulate(graph, x) - torch.softmax(torch.tensor(codes), dim=1).numpy()).max() < 2 ** -6


def test_argmax_of_float_scaled_codes_equals_qonnx():
    """Quant at scale 0.1 (float-scaled codes): the order of the values is that of the codes."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = _quantized(helper.make_node("ArgMax", ["q"], ["y"], name="head", axis=1), 0.1, TensorProto.INT64)
    x = (np.random.default_rng(0).normal(size=(300, 5)) * 3).astype(np.float32)
    wrapper = cleanup_model(ModelWrapper(model))
    expected = next(iter(execute_onnx(wrapper, {wrapper.graph.input[0].name: x}).values()))
    got = emulate(load_onnx(model), x)
    assert got.dtype == np.int64 and (got == expected).all()
    assert (got[:, 0] != np.argmax(x, axis=1)).any()  # the codes tie where the floats do not


def test_softmax_of_float_scaled_codes_is_refused_in_one_line():
    with pytest.raises(ValueError) as info:
        load_onnx(_quantized(helper.make_node("Softmax", ["q"], ["y"], name="head"), 0.1))
    message = str(info.value)
    assert "\n" not in message and message.startswith("node 'head' (Softmax): its input is 'q' (codes of scale")
    assert "fixed-point values" in message
