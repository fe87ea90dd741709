"""check_hardware_graph: lowered graphs pass; each way out of the contract form is a
one-line error naming the node or tensor."""

from __future__ import annotations

import pytest
import torch

from fxhls.fixed import FixedType
from fxhls.ir import Graph, Node, Tensor, infer_types, lower_for_hardware
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.passes import check_hardware_graph, fold_constants
from fxhls.onnx import export_onnx, load_onnx
from qfx_models import qfx_zoo

ZOO = list(qfx_zoo())
INPUT = type_attrs(FixedType.parse("ap_fixed<8,3,AP_RND_CONV,AP_SAT>"))


def _loaded(name, tmp_path):
    model, shape = next((m, s) for n, m, s in ZOO if n == name)
    export_onnx(model, torch.randn(2, *shape), tmp_path / f"{name}.onnx")
    return load_onnx(tmp_path / f"{name}.onnx")


@pytest.mark.parametrize("name", [name for name, _, _ in ZOO])
def test_every_lowered_zoo_model_passes(name, tmp_path):
    graph = lower_for_hardware(_loaded(name, tmp_path))
    assert check_hardware_graph(graph) is graph


def test_weight_quantizers_left_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"node '1/weight/Quantize' \(Quantize\): input 0 \('1\.weight'\) must be an "
                                         r"activation \(not a constant\); a weight quantizer is not folded"):
        check_hardware_graph(_loaded("mlp", tmp_path))


def test_an_op_backends_do_not_support_is_named(tmp_path):
    graph = fold_constants(_loaded("khot", tmp_path))  # BatchNorm still Mul and Add
    with pytest.raises(ValueError, match=r"node '2/Mul': op Mul is not supported by the hardware backends "
                                         r"\(supported: Quantize, Gemm, Conv, Affine, .*Threshold"):
        check_hardware_graph(graph)


def _chain(*nodes, shape=(4, 2, 2)):
    """input -> nodes (each reading the previous output), typed."""
    tensors = {name: Tensor(name) for node in nodes for name in node.outputs}
    tensors["x"] = Tensor("x", shape)
    return infer_types(Graph(list(nodes), tensors, ["x"], [nodes[-1].outputs[0]]))


def test_an_untyped_tensor_is_named():
    graph = _chain(Node("Quantize", "in", ["x"], ["q"], INPUT),
                   Node("AveragePool", "pool", ["q"], ["p"], {"kernel_shape": [2, 2], "strides": [2, 2]}))
    with pytest.raises(ValueError, match=r"tensor 'p' \(written by node 'pool' \(AveragePool\)\) has no fixed-point"):
        check_hardware_graph(graph)


def test_the_input_must_feed_only_the_input_cast():
    graph = _chain(Node("Relu", "relu", ["x"], ["r"]), Node("Quantize", "in", ["r"], ["q"], INPUT))
    with pytest.raises(ValueError, match=r"the graph input 'x' must be read by exactly one Quantize .*\['relu \(Relu\)'\]"):
        check_hardware_graph(graph)


@pytest.mark.parametrize("shape,op,attrs,accepted", [
    ((4, 1, 1), "Reshape", {"shape": [4]}, True),  # one pixel of 4 channels -> 4 values: the same stream
    ((4, 1, 1), "Reshape", {"shape": [1, 4, 1]}, True),  # 4 rows of one channel: the same stream
    ((4, 1, 1), "Transpose", {"perm": [0, 2, 1]}, True),
    ((2, 2, 1), "Transpose", {"perm": [1, 0, 2]}, False),
    ((4, 2, 2), "Reshape", {"shape": [16]}, False),  # channel-major flattening of an image
    ((4, 2, 2), "Reshape", {"shape": [4, 4]}, True),  # a 4-channel sequence of its 4 pixels: the same stream
    ((4, 2, 2), "Reshape", {"shape": [2, 8]}, False),  # a 2-channel sequence: another order
    ((4, 2, 2), "Reshape", {"shape": [2, 2, 2, 2]}, False),  # no stream order for this shape
])
def test_reshape_and_transpose_only_where_they_move_nothing(shape, op, attrs, accepted):
    graph = _chain(Node("Quantize", "in", ["x"], ["q"], INPUT), Node(op, "move", ["q"], ["y"], attrs), shape=shape)
    if accepted:
        check_hardware_graph(graph)
    else:
        with pytest.raises(ValueError, match=f"node 'move': this {op} moves values in stream order"):
            check_hardware_graph(graph)


def test_constants_must_carry_what_their_facts_promise(tmp_path):
    graph = lower_for_hardware(_loaded("khot", tmp_path))
    weights = graph.tensor(graph.nodes[1].inputs[1])
    del weights.facts["terms"]
    with pytest.raises(ValueError, match=f"constant {weights.name!r} is K-hot but has no shift-add terms"):
        check_hardware_graph(graph)
    weights.facts = {"binary": True}
    with pytest.raises(ValueError, match=f"constant {weights.name!r} is marked binary but holds values other"):
        check_hardware_graph(graph)
