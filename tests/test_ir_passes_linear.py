"""matmul_to_gemm and lone_affines: QONNX's MatMul + Add(bias) and scaling Mul in the
hardware graph's forms, executing identically (==)."""

from __future__ import annotations

import numpy as np
import pytest

from fxhls.fixed import FixedType, quantize
from fxhls.ir import Graph, Node, Tensor, execute, infer_types, lower_for_hardware
from fxhls.ir.ops.quantize import type_attrs
from fxhls.ir.passes import check_hardware_graph, lone_affines, matmul_to_gemm

INPUT = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"
OUTPUT = "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"


def _constant(data, spelling, facts=None):
    return data, FixedType.parse(spelling), facts or {}


def _graph(nodes, sample, constants):
    tensors = {name: Tensor(name, tuple(data.shape), t, data, f) for name, (data, t, f) in constants.items()}
    tensors.update({name: Tensor(name) for node in nodes for name in node.outputs})
    tensors["x"] = Tensor("x", sample)
    return infer_types(Graph(nodes, tensors, ["x"], [nodes[-1].outputs[0]]))


def _cast(name, x, y, spelling):
    return Node("Quantize", name, [x], [y], type_attrs(FixedType.parse(spelling)))


def _equal_after(graph, x, *passes):
    expected = execute(graph, x)[0]
    for step in passes:
        graph = step(graph)
    assert int((execute(graph, x)[0] != expected).sum()) == 0
    return graph


def _weights(rng, rows, columns):
    return quantize(rng.normal(size=(rows, columns)), "ap_fixed<6,1,AP_RND_CONV,AP_SAT>")


@pytest.mark.parametrize("acc_type", [None, "ap_fixed<9,2,AP_RND,AP_SAT>"])
def test_matmul_then_bias_add_is_one_gemm(acc_type):
    rng = np.random.default_rng(0)
    weights = _weights(rng, 6, 4)  # (in, out)
    nodes = [_cast("in", "x", "q", INPUT),
             Node("MatMul", "matmul", ["q", "w"], ["acc"], {"acc_type": acc_type} if acc_type else {}),
             Node("Add", "bias", ["acc", "b"], ["y"]), _cast("out", "y", "out", OUTPUT)]
    bias = quantize(rng.normal(size=4), "ap_fixed<8,3>")
    graph = _graph(nodes, (6,), {"w": _constant(weights, "ap_fixed<6,1>", {"khot": 3}),
                                 "b": _constant(bias, "ap_fixed<8,3>")})
    x = rng.normal(size=(256, 6)) * 3
    graph = _equal_after(graph, x, lower_for_hardware, check_hardware_graph)
    expected_ops = ["Quantize", "Gemm"] if acc_type is None else ["Quantize", "Gemm", "Affine"]  # narrowed: no fold
    assert [node.op for node in graph.nodes] == expected_ops
    gemm = graph.nodes[1]
    transposed = graph.tensor(gemm.inputs[1])
    assert (transposed.data == weights.T).all() and transposed.facts["khot"] == 3
    assert transposed.facts["terms"][0].shape == (4, 6, 3)


def test_a_lowered_matmul_brings_its_terms_along():
    rng = np.random.default_rng(1)
    weights = _weights(rng, 3, 2)
    signs = np.array([[[1, 0], [-1, 0]], [[1, -1], [0, 0]], [[1, 0], [1, 0]]])
    graph = _graph([_cast("in", "x", "q", INPUT), Node("MatMul", "matmul", ["q", "w"], ["y"])], (3,),
                   {"w": _constant(weights, "ap_fixed<6,1>", {"khot": 2, "terms": (signs, signs * 2)})})
    graph = matmul_to_gemm(graph)
    transposed = graph.tensor(graph.nodes[1].inputs[1])
    assert transposed.facts["terms"][0].tolist() == signs.swapaxes(0, 1).tolist()


def test_a_scaling_mul_after_sign_is_an_affine():
    rng = np.random.default_rng(2)
    nodes = [_cast("in", "x", "q", INPUT), Node("Sign", "sign", ["q"], ["s"]), Node("Mul", "scale", ["s", "c"], ["m"]),
             Node("Conv", "conv", ["m", "w"], ["acc"], {"strides": [1, 1], "pads": [0, 0]}),
             _cast("out", "acc", "out", OUTPUT)]
    weights = quantize(rng.normal(size=(3, 2, 2, 2)), "ap_fixed<6,1,AP_RND_CONV,AP_SAT>")
    graph = _graph(nodes, (2, 4, 4), {"c": _constant(np.array(0.25), "ap_ufixed<1,-1>"),
                                      "w": _constant(weights, "ap_fixed<6,1>")})
    graph = _equal_after(graph, rng.normal(size=(64, 2, 4, 4)), lower_for_hardware, check_hardware_graph)
    assert [node.op for node in graph.nodes] == ["Quantize", "Sign", "Affine", "Conv"]
    assert graph.tensor(graph.nodes[2].inputs[1]).data.tolist() == [[[0.25]], [[0.25]]]


def test_a_constant_that_varies_within_a_channel_stays_an_add():
    rng = np.random.default_rng(3)
    nodes = [_cast("in", "x", "q", INPUT), Node("Add", "add", ["q", "c"], ["y"])]
    per_pixel = quantize(rng.normal(size=(2, 3, 3)), "ap_fixed<8,3>")
    graph = _graph(nodes, (2, 3, 3), {"c": _constant(per_pixel, "ap_fixed<8,3>")})
    graph = _equal_after(graph, rng.normal(size=(16, 2, 3, 3)), lone_affines)
    assert [node.op for node in graph.nodes] == ["Quantize", "Add"]
    with pytest.raises(ValueError, match=r"node 'add' \(Add\): input 1 \('c'\) must be an activation"):
        check_hardware_graph(graph)


def test_a_binarized_float_input_gets_a_sign_keeping_input_cast():
    rng = np.random.default_rng(4)
    signs = np.where(rng.random((3, 8)) < 0.5, -1.0, 1.0)
    nodes = [Node("Sign", "sign", ["x"], ["s"]), Node("Gemm", "gemm", ["s", "w"], ["y"])]
    graph = _graph(nodes, (8,), {"w": _constant(signs, "ap_fixed<2,2>", {"binary": True})})
    edges = np.array([0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, np.inf, -np.inf])
    x = np.concatenate([rng.normal(size=(64, 8)) * 2, edges[rng.integers(len(edges), size=(64, 8))]])
    graph = _equal_after(graph, x, lower_for_hardware, check_hardware_graph)
    assert [node.op for node in graph.nodes] == ["Quantize", "Sign", "Gemm"]
