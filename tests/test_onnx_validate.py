"""A malformed model is refused in one line naming the file or the node, before import reads it."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from fuzz_models import copy, tiny_mlp

from fxhls.onnx import load_onnx


def _refusal(tmp_path, model_or_bytes) -> str:
    path = tmp_path / "m.onnx"
    path.write_bytes(model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString())
    with pytest.raises(ValueError) as info:
        load_onnx(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def _mutated(change) -> onnx.ModelProto:
    model = copy(tiny_mlp())
    change(model.graph)
    return model


def _reverse_nodes(graph):
    nodes = list(graph.node)[::-1]
    del graph.node[:]
    graph.node.extend(nodes)


def _drop_attribute(graph):
    kept = [a for a in graph.node[0].attribute if a.name != "width"]
    del graph.node[0].attribute[:]
    graph.node[0].attribute.extend(kept)


def _hostile_op(graph):
    graph.node[3].op_type, graph.node[3].domain = "Gemm\nInjected", "fxhls"


def _remove_quantizers(graph):
    from fuzz_mutations import _remove_quantizers as remove
    remove(graph)


@pytest.mark.parametrize("change,expected", [
    (lambda g: g.node[3].input.__setitem__(0, "nowhere"), "topologically sorted, however input 'nowhere'"),
    (_reverse_nodes, "topologically sorted"),
    (lambda g: g.node[0].input.__setitem__(0, "out_q:0"), "topologically sorted"),  # a cycle
    (lambda g: g.node[4].output.__setitem__(0, "in_q:0"), "single static assignment"),
    (_drop_attribute, "node 'in_q' (fxhls.Quantize): attribute 'width' is missing"),
    (lambda g: g.initializer.append(numpy_helper.from_array(np.zeros((1, 6), np.float32), "x")),
     "no data input (graph inputs: 'x'"),
    (_remove_quantizers, "a float model (no quantizer between its input and its output)"),
    (_hostile_op, "op 'fxhls.Gemm\\nInjected' is not supported"),
])
def test_a_malformed_graph(tmp_path, change, expected):
    message = _refusal(tmp_path, _mutated(change))
    assert expected in message and (message.startswith(str(tmp_path)) or message.startswith("node ")), message


def test_an_empty_or_cut_file(tmp_path):
    assert "an empty ONNX model" in _refusal(tmp_path, b"")
    data = tiny_mlp().SerializeToString()
    assert "not an ONNX model" in _refusal(tmp_path, data[: len(data) // 2])


@pytest.mark.parametrize("elem_type", [onnx.TensorProto.COMPLEX64, onnx.TensorProto.STRING, 0])
def test_an_input_declared_as_what_is_not_real_numbers(tmp_path, elem_type):
    model = copy(tiny_mlp())
    model.graph.input[0].type.tensor_type.elem_type = elem_type
    assert "input 'x' is declared a tensor of" in _refusal(tmp_path, model)


def test_an_fxhls_opset_of_another_version(tmp_path):
    model = copy(tiny_mlp())
    next(o for o in model.opset_import if o.domain == "fxhls").version = 2
    assert "opset fxhls version 2; this fxhls reads version 1" in _refusal(tmp_path, model)


def test_what_onnx_checker_rejects(tmp_path):
    model = copy(tiny_mlp())
    model.ir_version = 1
    assert "not a valid ONNX model: model with IR version < 3" in _refusal(tmp_path, model)


def test_a_window_that_cannot_move(tmp_path):
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["n", 1, 4, 4])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["n", 1, 2, 2])
    nodes = [helper.make_node("Quantize", ["x"], ["q"], name="q", domain="fxhls", width=8, int_bits=3, signed=1,
                              rounding="AP_TRN", overflow="AP_WRAP"),
             helper.make_node("MaxPool", ["q"], ["y"], name="pool", kernel_shape=[2, 2], strides=[0, 2])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("fxhls", 1)])
    message = _refusal(tmp_path, model)
    assert message.startswith("node 'pool' (MaxPool): a window of 2 moving by 0"), message


@pytest.mark.parametrize("version", [6, 99])
def test_a_standard_opset_fxhls_does_not_read(tmp_path, version):
    model = copy(tiny_mlp())
    next(o for o in model.opset_import if o.domain == "").version = version
    assert f"opset {version} of the standard ONNX domain; fxhls reads opsets 7 to" in _refusal(tmp_path, model)


def _qonnx_attribute(name, value=None):
    from fuzz_models import qonnx_mlp

    model = qonnx_mlp()
    node = model.graph.node[0]
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    if value is not None:
        node.attribute.append(helper.make_attribute(name, value))
    return model


@pytest.mark.parametrize("name,value,expected", [
    ("narrow", None, "attribute 'narrow' is missing (qonnx requires it)"),
    ("signed", float("inf"), "attribute 'signed' is FLOAT, qonnx reads INT"),
    ("rounding_mode", 3, "attribute 'rounding_mode' is INT, qonnx reads STRING"),
])
def test_a_qonnx_node_is_checked_against_qonnx_s_definition_of_its_op(tmp_path, name, value, expected):
    message = _refusal(tmp_path, _qonnx_attribute(name, value))
    assert "node 'in_q' (qonnx.custom_op.general.Quant)" in message and expected in message, message
