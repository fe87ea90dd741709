"""One-layer IR graphs with random exact values, for the HLS layer tests."""

from __future__ import annotations

import numpy as np

from fxhls.fixed import BINARY_TYPE, FixedType
from fxhls.ir.graph import Graph, Node, Tensor
from fxhls.ir.passes import infer_types, lower_khot


def random_values(t: FixedType | str, shape, generator: np.random.Generator) -> np.ndarray:
    """Values of type t, uniform over its codes."""
    t = FixedType.parse(t)
    codes = generator.integers(t.min_code, t.max_code, size=tuple(shape), endpoint=True)
    return codes * t.lsb


def random_khot(t: FixedType | str, k: int, shape, generator: np.random.Generator) -> np.ndarray:
    """Values of type t that are sums of at most k signed powers of two (some exactly k)."""
    t = FixedType.parse(t)
    values = np.zeros(tuple(shape))
    for _ in range(k):
        exponents = generator.integers(-t.frac_bits, t.int_bits - 1, size=tuple(shape))
        signs = generator.integers(-1, 1, size=tuple(shape), endpoint=True)
        candidate = values + signs * np.ldexp(1.0, exponents)
        values = np.where((candidate >= t.min) & (candidate <= t.max), candidate, values)
    return values


def conv_graph(in_shape, x_type, weights, weight_type, bias=None, bias_type=None, strides=(1, 1), pads=(0, 0),
               acc_type=None, out_type=None, facts=None) -> Graph:
    """x -> Conv(weights, bias) -> y, types inferred, K-hot terms lowered."""
    return _layer_graph("Conv", in_shape, x_type, weights, weight_type, bias, bias_type, acc_type, out_type, facts,
                        {"strides": list(strides), "pads": list(pads)})


def gemm_graph(n_in, x_type, weights, weight_type, bias=None, bias_type=None, acc_type=None, out_type=None,
               facts=None) -> Graph:
    """x -> Gemm(weights (out, in), bias) -> y, types inferred, K-hot terms lowered."""
    return _layer_graph("Gemm", (n_in,), x_type, weights, weight_type, bias, bias_type, acc_type, out_type, facts, {})


def with_threshold(graph: Graph, thresholds: np.ndarray, directions: list[int]) -> Graph:
    """The graph's output feeds a Threshold, whose output becomes the graph's."""
    tensors = dict(graph.tensors)
    tensors["thr"] = Tensor("thr", tuple(thresholds.shape), FixedType(12, 12), np.asarray(thresholds, dtype=np.float64))
    tensors["z"] = Tensor("z")
    node = Node("Threshold", "threshold", [graph.outputs[0], "thr"], ["z"], {"direction": directions})
    return infer_types(Graph(graph.nodes + [node], tensors, graph.inputs, ["z"]))


def threshold_graph(in_shape, x_type, thresholds: np.ndarray, directions: list[int]) -> Graph:
    """x -> Threshold(thresholds, directions) -> z."""
    tensors = {"x": Tensor("x", tuple(in_shape), FixedType.parse(x_type)), "z": Tensor("z"),
               "thr": Tensor("thr", tuple(thresholds.shape), FixedType(12, 6), np.asarray(thresholds, dtype=np.float64))}
    node = Node("Threshold", "threshold", ["x", "thr"], ["z"], {"direction": directions})
    return infer_types(Graph([node], tensors, ["x"], ["z"]))


def binary_input_graph(graph: Graph) -> Graph:
    """The graph with a Sign before its layer, so the layer's input holds -1/+1."""
    layer = graph.nodes[0]
    tensors = dict(graph.tensors)
    tensors["s"] = Tensor("s", graph.tensor("x").shape, BINARY_TYPE)
    layer.inputs[0] = "s"
    sign = Node("Sign", "sign", ["x"], ["s"])
    return infer_types(Graph([sign] + graph.nodes, tensors, graph.inputs, graph.outputs))


def _layer_graph(op, in_shape, x_type, weights, weight_type, bias, bias_type, acc_type, out_type, facts, attrs):
    tensors = {"x": Tensor("x", tuple(in_shape), FixedType.parse(x_type)),
               "w": Tensor("w", tuple(weights.shape), FixedType.parse(weight_type), weights, dict(facts or {})),
               "y": Tensor("y")}
    inputs = ["x", "w"]
    if bias is not None:
        tensors["b"] = Tensor("b", tuple(bias.shape), FixedType.parse(bias_type), bias)
        inputs.append("b")
    if acc_type is not None:
        attrs["acc_type"] = str(acc_type)
    if out_type is not None:
        attrs["out_type"] = str(out_type)
    graph = Graph([Node(op, "layer", inputs, ["y"], attrs)], tensors, ["x"], ["y"])
    return lower_khot(infer_types(graph))
