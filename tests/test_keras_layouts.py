"""Keras's channels-last layouts and the layers Keras and PyTorch float models bring
(Resize/Upsample nearest, zero Pad, LeakyRelu, PRelu, Dropout, Identity), without a C++
compiler: the import, the passes that fold the layout away, the emulator against
onnxruntime (exactly, on a typed model onnxruntime runs with fxhls's Quantize bodies;
and against the float model within the types), and the one-line refusals."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from fxhls.emulation import emulate
from fxhls.fixed import FixedType, quantize
from fxhls.ir import execute
from fxhls.ir.passes import check_hardware_graph, lower_for_hardware, split_host_edges
from fxhls.model_config import model_config
from fxhls.onnx import load_onnx
from fxhls.onnx.export_functions import DOMAIN, add_functions
from fxhls.onnx.float_types import type_float_model
from fxhls.onnx.slope_ops import SLOPE_ATTRIBUTE
from float_models import top_class_agreement
from keras_models import CNN_INPUT, OPSET, keras_cnn, keras_dense
from onnx_runners import run_onnxruntime

NARROW = "ap_fixed<8,3>"  # every product and sum of these models is exact in float32
DEFAULT = "ap_fixed<16,6>"


def _typed_for_onnxruntime(path, config) -> onnx.ModelProto:
    """The model with fxhls's casts, each with its ONNX function body, for onnxruntime; a
    LeakyRelu's alpha is its slope quantized as fxhls quantizes it (onnxruntime reads the float)."""
    typed = type_float_model(onnx.load(str(path)), config, str(path))
    for node in typed.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if SLOPE_ATTRIBUTE in attrs:
            slope = quantize(np.float32(attrs.get("alpha", 0.01)), attrs[SLOPE_ATTRIBUTE].decode())
            del node.attribute[:]
            node.attribute.append(helper.make_attribute("alpha", float(slope)))
    add_functions(typed, load_onnx(typed), {n.name: np.float32 for n in typed.graph.node if n.domain == DOMAIN})
    return typed


def _hardware(path, config):
    graph = load_onnx(path, config=config)
    host = split_host_edges(graph)
    return check_hardware_graph(lower_for_hardware(graph)), host


@pytest.mark.parametrize("coordinates", ["asymmetric", "tf_half_pixel_for_nn"])
def test_layout_folding_equals_onnxruntime_on_the_typed_model(tmp_path, coordinates):
    """onnxruntime runs the channels-last graph as written (every Transpose, Pad, Resize)
    with fxhls's casts; the emulator, and the hardware graph with no Transpose left, give
    the same values with ==."""
    keras_cnn(tmp_path / "m.onnx", coordinates=coordinates)
    config = model_config(default_type=NARROW)
    x = quantize(np.random.default_rng(0).normal(size=(64, *CNN_INPUT)) * 2, NARROW)
    wanted = run_onnxruntime(_typed_for_onnxruntime(tmp_path / "m.onnx", config), x)
    assert int((emulate(tmp_path / "m.onnx", x, config=config) != wanted).sum()) == 0
    hardware, host = _hardware(tmp_path / "m.onnx", config)
    assert host["input_transpose"] == [0, 3, 1, 2]
    assert [n.op for n in hardware.nodes] == ["Quantize", "Conv", "PRelu", "Upsample", "Conv", "PRelu", "Flatten",
                                              "Gemm", "Affine"]
    assert hardware.tensor(hardware.inputs[0]).shape == (2, 5, 5)
    conv2 = next(n for n in hardware.nodes if n.name == "conv2")
    assert conv2.attrs["pads"] == [1, 1]  # ZeroPadding2D folded into the Conv
    got = execute(hardware, x.transpose(host["input_transpose"]))[0]
    assert int((got != wanted).sum()) == 0 and got.std() > 0


def test_flatten_of_channels_last_data_equals_onnxruntime(tmp_path):
    """A Reshape of NHWC data flattens in (H, W, C) order: the same as onnxruntime's, no Transpose."""
    keras_dense(tmp_path / "m.onnx")
    config = model_config(default_type=NARROW)
    x = quantize(np.random.default_rng(1).normal(size=(64, 3, 4, 2)), NARROW)
    wanted = run_onnxruntime(_typed_for_onnxruntime(tmp_path / "m.onnx", config), x)
    assert int((emulate(tmp_path / "m.onnx", x, config=config) != wanted).sum()) == 0
    hardware, host = _hardware(tmp_path / "m.onnx", config)
    assert "input_transpose" not in host
    assert int((execute(hardware, x)[0] != wanted).sum()) == 0


def test_emulator_against_the_float_model(tmp_path, capsys):
    """At ap_fixed<16,6> the emulator's top class is the float model's on nearly every sample."""
    keras_cnn(tmp_path / "m.onnx", alpha=0.1)
    x = np.random.default_rng(2).normal(size=(200, *CNN_INPUT))
    y = emulate(tmp_path / "m.onnx", x, default_type=DEFAULT)
    reference = run_onnxruntime(onnx.load(str(tmp_path / "m.onnx")), x)
    agreement, error = top_class_agreement(y, reference), float(np.abs(y - reference).max())
    with capsys.disabled():
        print(f"\nKeras-style CNN at {DEFAULT}: top class equal on {agreement:.1%}, largest error {error:.4f}")
    assert agreement >= 0.95 and error < 0.1


def test_slopes_are_quantized_to_the_weight_type_and_khot_where_few_bits(tmp_path):
    """LeakyRelu's 0.1 becomes 102/1024 at ap_fixed<16,6> (a multiplier: 4 signed powers of
    two); 0.125 and PRelu's 0.25, -0.5, 0.0625 are 1 or 2 terms: K-hot shift-add."""
    keras_cnn(tmp_path / "a.onnx", alpha=0.1)
    hardware, _ = _hardware(tmp_path / "a.onnx", model_config(default_type=DEFAULT))
    leaky, prelu = (hardware.tensor(n.inputs[1]) for n in hardware.nodes if n.op == "PRelu")
    assert leaky.data.flatten().tolist() == [102 / 1024] and "khot" not in leaky.facts
    assert "khot" not in prelu.facts  # 0.1 and 0.3 need more terms
    keras_cnn(tmp_path / "b.onnx", alpha=0.125, slopes=[0.25, -0.5, 0.0625, 0.75, 1.0, 0.375])
    config = model_config(default_type=DEFAULT, config=None)
    hardware, _ = _hardware(tmp_path / "b.onnx", config)
    leaky, prelu = (hardware.tensor(n.inputs[1]) for n in hardware.nodes if n.op == "PRelu")
    assert leaky.facts["khot"] == 1 and prelu.facts["khot"] == 2 and "terms" in prelu.facts


def test_slope_type_from_the_config(tmp_path):
    keras_cnn(tmp_path / "m.onnx", alpha=0.1)
    (tmp_path / "c.yaml").write_text(f"default_type: {DEFAULT}\nlayers:\n"
                                     f"  leaky_re_lu: {{weight: 'ap_fixed<6,1,AP_RND>'}}\n")
    graph = load_onnx(tmp_path / "m.onnx", config=tmp_path / "c.yaml")
    leaky = next(n for n in graph.nodes if n.name == "leaky_re_lu")
    slope = graph.tensor(leaky.inputs[1])
    assert slope.type == FixedType.parse("ap_fixed<6,1,AP_RND>") and slope.data.tolist() == [0.09375]


def _one_node_model(path, node, inputs, inits, out_shape, opset: int = OPSET) -> None:
    graph = helper.make_graph([node], "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, inputs)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))


_MODES = ["asymmetric", "half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "align_corners",
          "half_pixel_symmetric"]
_NEAREST = ["floor", "ceil", "round_prefer_floor", "round_prefer_ceil"]


@pytest.mark.parametrize("mode, nearest", list(itertools.product(_MODES, _NEAREST)))
def test_resize_modes_against_onnxruntime(tmp_path, mode, nearest):
    """Every coordinate mode and nearest mode at scales 2 and 3: where fxhls takes it the
    emulator equals onnxruntime with ==; where it refuses (one line), onnxruntime's pixels
    are indeed not each pixel repeated."""
    for scale_h, scale_w in ((2, 2), (3, 2)):
        node = helper.make_node("Resize", ["x", "", "s"], ["y"], name="resize", mode="nearest",
                                coordinate_transformation_mode=mode, nearest_mode=nearest)
        scales = numpy_helper.from_array(np.array([1, 1, scale_h, scale_w], np.float32), "s")
        _one_node_model(tmp_path / "m.onnx", node, ["n", 3, 4, 5], [scales], ["n", 3, 4 * scale_h, 5 * scale_w])
        x = quantize(np.random.default_rng(3).normal(size=(4, 3, 4, 5)), NARROW)
        wanted = run_onnxruntime(onnx.load(str(tmp_path / "m.onnx")), x)
        repeated = x.repeat(scale_h, axis=2).repeat(scale_w, axis=3)
        try:
            got = emulate(tmp_path / "m.onnx", x, default_type=NARROW)
        except ValueError as refusal:
            assert "\n" not in str(refusal) and str(refusal).startswith("node 'resize' (Resize): ")
            assert not (wanted == repeated).all()
            continue
        assert (got == wanted).all() and (got == repeated).all()


def test_old_upsample_and_sizes(tmp_path):
    """Upsample-9 (scales as an input) and Resize by sizes pick the same pixels as onnxruntime."""
    x = quantize(np.random.default_rng(4).normal(size=(3, 2, 3, 4)), NARROW)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 3], np.float32), "s")
    node = helper.make_node("Upsample", ["x", "s"], ["y"], name="up", mode="nearest")
    _one_node_model(tmp_path / "u.onnx", node, ["n", 2, 3, 4], [scales], ["n", 2, 6, 12], opset=9)
    wanted = x.repeat(2, axis=2).repeat(3, axis=3)
    assert (emulate(tmp_path / "u.onnx", x, default_type=NARROW) == wanted).all()
    sizes = numpy_helper.from_array(np.array([3, 2, 6, 12], np.int64), "sizes")
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="r", mode="nearest",
                            coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    _one_node_model(tmp_path / "r.onnx", node, ["n", 2, 3, 4], [sizes], ["n", 2, 6, 12])
    assert (run_onnxruntime(onnx.load(str(tmp_path / "r.onnx")), x) == wanted).all()
    assert (emulate(tmp_path / "r.onnx", x, default_type=NARROW) == wanted).all()


@pytest.mark.parametrize("node, inits, message", [
    (helper.make_node("Resize", ["x", "", "s"], ["y"], name="r", mode="linear"),
     [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")], "mode 'linear' is not supported"),
    (helper.make_node("Resize", ["x", "", "s"], ["y"], name="r", mode="nearest"),
     [numpy_helper.from_array(np.array([1, 1, 1.5, 2], np.float32), "s")], "only integer factors"),
    (helper.make_node("Resize", ["x", "", "s"], ["y"], name="r", mode="nearest"),
     [numpy_helper.from_array(np.array([1, 2, 2, 2], np.float32), "s")], "only integer factors"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="r", mode="reflect"),
     [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p")], "mode 'reflect' is not supported"),
    (helper.make_node("Pad", ["x", "p", "v"], ["y"], name="r"),
     [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p"),
      numpy_helper.from_array(np.array(1.0, np.float32), "v")], "only zero padding is supported"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="r"),
     [numpy_helper.from_array(np.array([1, 0, 0, 0, 0, 0, 0, 0], np.int64), "p")], "pad the batch axis"),
    (helper.make_node("Pad", ["x", "p"], ["y"], name="r"),
     [numpy_helper.from_array(np.array([0, 0, -1, 0, 0, 0, 0, 0], np.int64), "p")], "only non-negative pads"),
    (helper.make_node("Dropout", ["x", "ratio", "training"], ["y"], name="r"),
     [numpy_helper.from_array(np.array(0.5, np.float32), "ratio"),
      numpy_helper.from_array(np.array(True), "training")], "only inference"),
])
def test_refusals_are_one_line(tmp_path, node, inits, message):
    _one_node_model(tmp_path / "m.onnx", node, ["n", 2, 3, 4], inits, ["n", "c", "h", "w"])
    with pytest.raises(ValueError) as refusal:
        load_onnx(tmp_path / "m.onnx", default_type=NARROW)
    text = str(refusal.value)
    assert "\n" not in text and text.startswith("node 'r' (") and message in text


def test_pad_that_no_conv_reads_is_refused_by_the_hardware_in_one_line(tmp_path):
    """A zero Pad before a Relu: the emulator computes it, the hardware refuses it naming the node."""
    nodes = [helper.make_node("Pad", ["x", "p"], ["padded"], name="pad"),
             helper.make_node("Relu", ["padded"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 3, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2, 5, 6])],
                              [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), str(tmp_path / "m.onnx"))
    x = quantize(np.random.default_rng(5).normal(size=(2, 2, 3, 4)), NARROW)
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    assert (emulate(tmp_path / "m.onnx", x, default_type=NARROW) == np.maximum(padded, 0)).all()
    wanted = r"^node 'pad': a zero Pad is supported where it folds into the padding of the Conv, MaxPool or AveragePool [^\n]*'relu' \(Relu\)$"
    with pytest.raises(ValueError, match=wanted):
        _hardware(tmp_path / "m.onnx", model_config(default_type=NARROW))


@pytest.mark.parametrize("pads, folds", [([0, 0, 2, 0, 0, 2], True), ([0, 0, 1, 0, 0, 2], False),
                                         ([0, 1, 1, 0, 1, 1], False)])
def test_a_sequence_pad_before_a_conv1d_folds_through_its_row_image_or_is_refused(pads, folds, tmp_path):
    """A float ONNX Pad of a (C, L) sequence before a 1-D Conv: equal zeros on L fold into the
    Conv's width padding (the hardware graph has no Pad) and the hardware graph computes as the
    emulator; unequal ones, or a padded channel, are refused naming the Pad and the Conv's Reshape."""
    w = np.random.default_rng(3).integers(-4, 5, size=(3, 2 + pads[1] + pads[4], 3)) / 8
    nodes = [helper.make_node("Pad", ["x", "p"], ["padded"], name="pad"),
             helper.make_node("Conv", ["padded", "w"], ["y"], name="conv", pads=[1, 1])]
    length = 6 + pads[2] + pads[5]  # the Conv pads 1 on each side of its kernel of 3
    graph = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, length])],
                              [numpy_helper.from_array(np.array(pads, np.int64), "p"),
                               numpy_helper.from_array(w.astype(np.float32), "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)]), str(tmp_path / "m.onnx"))
    x = quantize(np.random.default_rng(5).normal(size=(4, 2, 6)), NARROW)
    if not folds:
        wanted = r"^node 'pad': a zero Pad is supported where it folds [^\n]*'conv_to_row' \(Reshape\)$"
        with pytest.raises(ValueError, match=wanted):
            _hardware(tmp_path / "m.onnx", model_config(default_type=NARROW))
        return
    emulated = emulate(tmp_path / "m.onnx", x, default_type=NARROW)
    graph, _ = _hardware(tmp_path / "m.onnx", model_config(default_type=NARROW))
    assert [n.op for n in graph.nodes if n.op in ("Pad", "Conv")] == ["Conv"]
    assert next(n for n in graph.nodes if n.op == "Conv").attrs["pads"] == [0, 3]
    assert int((execute(graph, x)[0] != emulated).sum()) == 0


def test_flatten_into_a_narrowed_accumulator_is_refused_in_one_line(tmp_path):
    """Permuting a rounding accumulator's terms would change its sum: the Transpose stays and is refused."""
    keras_cnn(tmp_path / "m.onnx")
    (tmp_path / "c.yaml").write_text(f"default_type: {DEFAULT}\nlayers:\n  dense: {{accumulator: 'ap_fixed<20,8>'}}\n")
    with pytest.raises(ValueError, match=r"^node 'conv2/transpose_out': this Transpose moves values [^\n]*$"):
        _hardware(tmp_path / "m.onnx", model_config(config=tmp_path / "c.yaml"))
